/* hostnet.h: the host's networking around the routes: flanneld's masquerade
 * (ip-masq) and forward accept rules through nft.h, the forwarding sysctls,
 * "interface auto", and subnet.env's MTU, kept in place by a repair timer.
 *
 * Life cycle (the lead wires these; see the marked call sites):
 *   hostnet_new(d)          at start-up, after kernel_open; starts the timer
 *                           (sysctls, auto interface, subnet.env MTU).
 *   hostnet_start(h)        the initial sync is done and our subnets are
 *                           known: rules are installed from now on.
 *   hostnet_update(h)       our subnets or the configuration changed (lease
 *                           taken/released, reload): re-read and re-apply if
 *                           they differ. Before hostnet_start it does nothing.
 *   hostnet_stop(h, keep)   shutdown (keep 0: our table and accept rules go)
 *                           or restart (keep 1: they stay for the next hgwd).
 *   hostnet_free(h)
 * Every HOSTNET_REPAIR_MS the timer checks our table and accept rules and
 * reinstalls what someone removed (nft flush): repaired within that bound
 * plus one nft transaction. */
#ifndef HGW_HOSTNET_H
#define HGW_HOSTNET_H

#include <net/if.h>
#include <stdint.h>

#include "config.h"

#define HOSTNET_REPAIR_MS	2000

struct hgwd;
struct hostnet;

struct hostnet_status {
	char ifname[IFNAMSIZ];		/* the LAN interface in use */
	int ifauto;			/* chosen by interface auto */
	int ipmasq;			/* configured (effective) */
	int masq_installed;		/* our table is in place */
	int forward_chains;		/* forward chains that drop, holding our accepts */
	int forward4, forward6;		/* the sysctls: 1 on, 0 off, -1 unreadable */
	int need6;			/* IPv6 subnets: IPv6 forwarding matters */
	int started;			/* hostnet_start was called */
	uint64_t repairs;		/* times the timer reinstalled rules */
	char legacy[320];		/* iptables-legacy conflicts, "" none */
};

struct hostnet *hostnet_new(struct hgwd *d);
void hostnet_start(struct hostnet *h);
void hostnet_update(struct hostnet *h);
void hostnet_stop(struct hostnet *h, int keep);
void hostnet_free(struct hostnet *h);
void hostnet_status(const struct hostnet *h, struct hostnet_status *st);

/* "interface auto": the default route's interface, else the route to the
 * first neighbor's. 0 with out set, or -1 (nothing found yet). */
int hostnet_auto_ifname(const struct config *c, char out[IFNAMSIZ]);

#endif
