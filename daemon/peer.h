/* peer.h: peers: a neighbor from the config, a member learned from the
 * mesh, or a node that dialled us from the LAN. peer.c owns their life
 * cycle (dialling with back-off, collisions, giving up), the paths each
 * gave the RIB, and the UPDATE frames gathered for each. What happens to
 * a peer is published to listeners (struct peer_listener) that higher
 * modules register at init: peer.c calls none of them by name. */
#ifndef HGW_PEER_H
#define HGW_PEER_H

#include <stdint.h>
#include <sys/queue.h>

#include "fsm.h"
#include "hgwd.h"
#include "session.h"
#include "wire.h"

struct event;

#define PEER_MAX_SESSIONS	3
#define PEER_MAX_LISTENERS	12

/* Why a peer's established session ended. */
enum peer_down_reason {
	PEER_DOWN_ERROR = 0,	/* an error of ours or theirs, a NOTIFY of an error */
	PEER_DOWN_HOLD,		/* hold timer expired: silence */
	PEER_DOWN_CLOSED,	/* transport closed or reset without a NOTIFY */
	PEER_DOWN_LEFT,		/* it said it leaves: NOTIFY shutdown or deconfigured */
	PEER_DOWN_LOCAL,	/* we ended it: reset, deconfigured, shutdown */
	PEER_DOWN_REPLACED,	/* a newer session of the same peer took over */
	PEER_DOWN_RESTARTING,	/* it said it restarts: NOTIFY cease/restarting */
	PEER_DOWN_COLLISION,	/* it kept another connection of ours: NOTIFY cease/collision */
};

/* A module that wants to hear of peers. Every callback is optional. */
struct peer_listener {
	const char *name;
	uint32_t caps;		/* capability bits it adds to our HELLO */
	uint8_t msg_type;	/* frames of this type go to frame() (0: none) */
	/* Established: queue what the peer must have before our END-OF-RIB. */
	void (*up)(void *arg, struct peer *p);
	/* Before p's paths go: a listener that sets p->gr_until_ms keeps them
	 * stale instead (gr.c: a graceful restart). */
	void (*down)(void *arg, struct peer *p, enum peer_down_reason why);
	void (*eor)(void *arg, struct peer *p);		/* its first END-OF-RIB */
	/* A validated frame of msg_type from p. */
	void (*frame)(void *arg, struct peer *p, const uint8_t *body, size_t len);
	/* Our HELLO is being built: add capabilities and their extensions. */
	void (*hello)(void *arg, struct hgw_hello *h);
	void *arg;
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
	int leave_told;			/* leave.c: told we leave, not dialled or accepted again */
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
	uint32_t caps;			/* of its established session's HELLO */
	char hostname[HGW_HOSTNAME_MAX + 1];
	int eor_received;
	int synced;			/* its first END-OF-RIB released its sync lock */
	int stale_pending;		/* paths of a replaced session await END-OF-RIB */
	/* graceful restart (gr.c decides, peer.c honours) */
	uint16_t gr_restart_s;		/* its restart time, from its HELLO (0: none) */
	uint64_t gr_until_ms;		/* restarting: its stale paths go then (0: not) */
	uint64_t alive_ms;		/* last sign of life: a session, a refused dial */
	uint64_t dgram_ms;		/* our last keepalive datagram to it (liveness.c) */
	uint32_t gr_stale;		/* paths kept stale when it went down */

	/* output being gathered into UPDATE frames */
	uint8_t *ubuf;
	struct hgw_upd_builder ub;

	/* counters */
	struct session_stats st;
	uint64_t updates_in, updates_out, flaps;
	uint64_t pfx_received, pfx_refused;
	uint32_t pfx_accepted;
	char last_error[192];
	char last_refused[160];
	uint64_t up_since_ms, down_since_ms;
	uint64_t maxpfx_until_ms;	/* over max-prefixes: no session before this */
};

/* Listeners, called in the order they subscribed. 0 or -1 (too many). */
int peer_subscribe(struct hgwd *d, const struct peer_listener *l);

/* Look-ups and accessors. */
struct peer *peer_find(struct hgwd *d, const struct hgw_addr *a);
int peer_is_up(const struct peer *p);				/* established */
int peer_has_cap(const struct peer *p, uint32_t cap);	/* established and announcing cap */
struct peer *peer_by_node(struct hgwd *d, uint32_t node_id);	/* established with that id */
void peer_foreach_up(struct hgwd *d, void (*fn)(void *arg, struct peer *p), void *arg);
enum hgw_state peer_fsm_state(const struct peer *p);	/* its most advanced session */
const struct session *peer_session(const struct peer *p);	/* established, or NULL */
uint32_t peer_giveup_ms(const struct hgwd *d);	/* how long a silent member is dialled */
/* Is a on the LAN interface's subnets, in the allow list, or (encap vxlan) in a
 * mesh-network? */
int peer_on_lan(struct hgwd *d, const struct hgw_addr *a);

/* Output on the established session. */
void peer_send(struct peer *p, const uint8_t *buf, size_t len);
void peer_queue(struct peer *p, const struct hgw_upd_item *it);	/* into an UPDATE */
void peer_flush(struct peer *p);					/* send it */
void peers_queue(struct hgwd *d, const struct hgw_upd_item *it);	/* to every peer */
void peers_flush(struct hgwd *d);

/* Life cycle. */
void peer_learn(struct hgwd *d, const struct hgw_addr *a, uint16_t port, uint32_t node_id,
    const char *how);
/* A connection accepted from a (admission already checked by listen.c);
 * -1 when refused (fd closed). */
int peer_accept(struct hgwd *d, int fd, const struct hgw_addr *a, uint16_t port);
void peers_reconfigure(struct hgwd *d);	/* add/remove neighbors to match cfg */
/* NOTIFY cease/sub (shutdown, or restarting), close everything. */
void peers_shutdown(struct hgwd *d, int sub);
/* Dials p now if we hold no session with it (leave.c); -1 when the dial
 * could not start. */
int peer_dial_now(struct peer *p);
/* Resets the sessions of the peer at addr (NULL: all); err says why not. */
void peers_reset(struct hgwd *d, const struct hgw_addr *addr, char *err, size_t errlen);
void peers_free(struct hgwd *d);

#endif
