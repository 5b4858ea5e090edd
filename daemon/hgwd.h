/* hgwd.h: the daemon's state, one struct passed around, and the functions each
 * module offers the others. */
#ifndef HGW_HGWD_H
#define HGW_HGWD_H

#include <stdint.h>
#include <sys/queue.h>

#include "addr.h"
#include "config.h"
#include "rib.h"

struct event_base;
struct event;
struct evconnlistener;
struct kernel;
struct kernel_params;
struct peer;
struct ctl;
struct cmd_tree;
struct tls;
struct leases;
struct members;

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

	struct peer_list peers;
	struct evconnlistener *listeners[2];	/* IPv4, IPv6 */
	uint16_t listen_port;
	struct event *listen_resume_ev;	/* accept paused after an error */
	uint32_t backoff_seed;

	struct tls *tls;		/* NULL: plain TCP */
	int npending;			/* inbound sessions before HELLO */
	double accept_tokens;
	uint64_t accept_last_ms, refused, refused_logged_ms;
	int pending_max;		/* handshakes at once: below the fd limit */
	struct recent_err {		/* repeats of one failure from one address */
		struct hgw_addr addr;	/* are logged once a minute at most */
		char text[96];
		uint64_t at_ms;
	} recent[32];
	unsigned nrecent;

	struct leases *leases;
	struct members *members;
	struct hostnet *hostnet;	/* hostint: masquerade, forwarding, interface auto */

	struct ctl *ctl;
	struct cmd_tree *cmds;

	struct event *sig_ev[4];
	int stopping;
	int nclosing;			/* sessions flushing a last NOTIFY */
};

/* main.c */
uint32_t hgwd_now_ds(const struct hgwd *d);	/* daemon time, deciseconds, 30 bits */
int hgwd_reload(struct hgwd *d, char *err, size_t errlen);
/* Applies a new configuration (from a file or the shell): the difference. */
int hgwd_apply_config(struct hgwd *d, const struct config *nc, char *err, size_t errlen);
int hgwd_write_config(struct hgwd *d, char *err, size_t errlen);
void hgwd_link_changed(struct hgwd *d);
/* Our own networks (configured or leased) in the RIB and to every peer. */
void hgwd_add_own(struct hgwd *d, const struct hgw_prefix *p);
void hgwd_del_own(struct hgwd *d, const struct hgw_prefix *p);	/* the LAN interface or its addresses changed */

/* fib.c: keeps the kernel in step with the RIB. */
struct fib;
struct fib *fib_new(struct hgwd *d);
void fib_free(struct fib *f);
void fib_start(struct fib *f);		/* read what the kernel holds, start the startup timer */
void fib_schedule(void *f);		/* the RIB's dirty hook */
void fib_peer_eor(struct fib *f);	/* a peer finished its initial table */
void fib_params_changed(struct fib *f, const struct kernel_params *old);
void fib_reevaluate_all(struct fib *f);
int fib_sync_done(const struct fib *f);
void fib_shutdown(struct fib *f);	/* remove every route we installed */
const char *fib_state_name(struct hgwd *d, const struct rib_entry *e,
    char *reason, size_t rlen);

/* peer.c: sessions with other nodes. */
int peers_listen(struct hgwd *d, uint16_t port);
void peers_unlisten(struct hgwd *d);
void peers_sync_config(struct hgwd *d);	/* add/remove neighbors to match cfg */
void peers_announce(struct hgwd *d, const struct hgw_prefix *p, int withdraw);
void peers_flush(struct hgwd *d);	/* send pending UPDATE frames */
void peers_shutdown(struct hgwd *d);	/* NOTIFY shutdown, close everything */
void peers_reset(struct hgwd *d, const struct hgw_addr *addr, char *err, size_t errlen); /* NULL: all */
int peers_all_eor(struct hgwd *d);	/* every configured neighbor sent END-OF-RIB */
void peers_free(struct hgwd *d);

#endif
