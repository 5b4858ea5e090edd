/* peer.h: peers and their sessions: dialling with back-off, accepting,
 * HELLO and collisions, timers, reading and writing frames, and the paths each
 * peer gave the RIB. A peer is a neighbor from the config, or a node that
 * dialled us from the LAN. */
#ifndef HGW_PEER_H
#define HGW_PEER_H

#include <stdint.h>
#include <sys/queue.h>

#include "fsm.h"
#include "hgwd.h"
#include "wire.h"

struct bufferevent;
struct event;

#define PEER_MAX_SESSIONS 3
#define PEER_OUTPUT_MAX		(8 * 1024 * 1024)	/* queued for a peer before it is dropped */
#define PEER_ACCEPT_RATE	500	/* accepts per second, sustained ... */
#define PEER_ACCEPT_BURST	1000	/* ... and in a burst: a 1000-node cluster restarting */

struct session {
	struct peer *peer;		/* NULL once detached and closing */
	struct hgwd *d;
	struct bufferevent *bev;
	enum hgw_state state;
	int outbound;
	struct event *hold_ev, *ka_ev, *close_ev;
	uint32_t hold_ms, ka_ms;
	struct hgw_hello hello;		/* the peer's, once received */
	uint64_t started_ms, established_ms;
	char name[HGW_ADDRSTRLEN + 8];	/* for logs after detaching */
	int overflow;			/* too much output queued: closing */
	int pending;			/* counted in hgwd.npending */
	int confirmed;			/* a frame after HELLO came: the peer took our HELLO */
	int replaced;			/* it replaced an older session of the peer */
	int rx_type;			/* type of the frame being applied */
};

struct peer {
	TAILQ_ENTRY(peer) entry;
	struct hgwd *d;
	struct hgw_addr addr;
	uint16_t port;
	char name[HGW_ADDRSTRLEN];
	int configured;
	int learned;			/* a member heard of: dial it until given up */
	int member;			/* it speaks MEMBERS */
	int left_cleanly;		/* its last session ended with shutdown */
	uint64_t giveup_at_ms;		/* a silent learned member is forgotten then */
	char learned_how[64];
	uint16_t remote_port;		/* where it listens, from its HELLO */

	struct session *sess[PEER_MAX_SESSIONS];
	struct session *est;		/* the established one, or NULL */
	struct event *retry_ev;
	uint32_t backoff_ms;
	uint64_t retry_at_ms;

	/* what it told us */
	uint32_t node_id;
	char hostname[HGW_HOSTNAME_MAX + 1];
	int eor_received;
	int stale_pending;		/* paths of a replaced session await END-OF-RIB */

	/* output being gathered into UPDATE frames */
	uint8_t *ubuf;
	struct hgw_upd_builder ub;

	/* counters */
	uint64_t msgs_in, msgs_out, updates_in, updates_out;
	uint64_t notify_in, notify_out, errors, flaps;
	uint64_t pfx_received, pfx_refused;
	uint32_t pfx_accepted;
	char last_error[192];
	char last_refused[160];
	uint64_t up_since_ms, down_since_ms;
	uint64_t maxpfx_until_ms;	/* over max-prefixes: no session before this */
};

struct peer *peer_find(struct hgwd *d, const struct hgw_addr *a);
int peer_has_cap(const struct peer *p, uint32_t cap);	/* established and announcing cap */
void peer_send(struct peer *p, const uint8_t *buf, size_t len);	/* on its established session */
int peers_on_lan(struct hgwd *d, const struct hgw_addr *a);	/* LAN subnets or allow list */
void peer_learn(struct hgwd *d, const struct hgw_addr *a, uint16_t port, uint32_t node_id,
    const char *how);

#endif
