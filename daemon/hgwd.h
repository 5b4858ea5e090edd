/* hgwd.h: the daemon's state, one struct passed around. Each module keeps
 * its own state behind an opaque pointer here and offers its functions in
 * its own header; see daemon/README for who may call whom. */
#ifndef HGW_HGWD_H
#define HGW_HGWD_H

#include <stdint.h>
#include <sys/queue.h>

#include "addr.h"
#include "config.h"
#include "rib.h"
#include "util.h"

struct event_base;
struct event;
struct kernel;
struct peer;
struct peer_listener;
struct ctl;
struct cmd_tree;
struct tls;
struct leases;
struct nodeid_tab;
struct peeridx;
struct members;
struct listen_state;
struct origin;
struct sync;
struct fib;
struct vxlan;
struct notify;
struct http;

TAILQ_HEAD(peer_list, peer);

struct hgwd {
	struct event_base *base;
	const char *cfg_path;
	const char *sock_path;
	struct config cfg;		/* the running configuration */

	uint32_t node_id;
	struct hgw_addr addr4, addr6;	/* advertised gateways */
	uint64_t start_ms;

	struct rib rib;
	struct kernel *kernel;
	struct fib *fib;
	struct vxlan *vxlan;		/* encap vxlan: the device and its entries */
	struct sync *sync;		/* the initial-sync barrier */
	struct origin *origin;		/* our own routes */

	struct peer_list peers;
	struct peeridx *peer_index;	/* peers by address (peeridx.c) */
	struct peer_listener *peer_listeners;	/* PEER_MAX_LISTENERS of them */
	int npeer_listeners;
	uint16_t listen_port;
	struct listen_state *listen;
	uint32_t backoff_seed;
	int self_logged;		/* "neighbor X is this host" said */

	struct tls *tls;		/* NULL: plain TCP */
	int npending;			/* inbound sessions before HELLO */
	struct recent_err {		/* repeats of one failure from one address */
		struct hgw_addr addr;	/* are logged once a minute at most */
		char text[96];
		uint64_t at_ms;
	} recent[32];
	unsigned nrecent;

	struct leases *leases;
	/* Set by lease.c at init, asked by policy.c (which may not call lease.c):
	 * a lease overlapping p, 1 with it and its owner, else 0. */
	int (*lease_overlap)(struct hgwd *d, const struct hgw_prefix *p, struct hgw_prefix *leased,
	    uint32_t *owner);
	struct members *members;
	struct nodeid_tab *nodeids;	/* node id to address bindings (policy.c, nodeid.c) */
	struct hostnet *hostnet;	/* masquerade, forwarding, interface auto */

	struct ctl *ctl;
	struct cmd_tree *cmds;
	struct notify *notify;		/* systemd readiness (notify.c) */
	struct http *http;		/* metrics and health (http.c) */

	struct event *sig_ev[4];
	int stopping;
	int leaving;			/* stop for good (shutdown, SIGUSR2), not to restart */
	int leave_sweep;		/* leave.c telling every peer: accept still */
	struct gr *gr;			/* graceful restart of peers (gr.c) */
	int nclosing;			/* sessions flushing a last NOTIFY */
};

/* Daemon time in deciseconds, 30 bits: the RIB's path ages. */
static inline uint32_t
hgwd_now_ds(const struct hgwd *d)
{
	return (uint32_t)((now_ms() - d->start_ms) / 100) & 0x3fffffffu;
}

#endif
