/* kernel.h: the kernel behind a small interface: the LAN interface's state and
 * addresses, batched route writes, dumps of our own routes, and events about
 * routes of our protocol, the interface and its addresses. kernel_nl.c is the
 * netlink implementation (libnl-route-3). */
#ifndef HGW_KERNEL_H
#define HGW_KERNEL_H

#include <net/if.h>
#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct event_base;
struct kernel;

/* The metric the kernel stores for ours: IPv6 stores metric 0 as 1024. */
static inline uint32_t
kernel_effective_metric(int family, uint32_t metric)
{
	return family == AF_INET6 && metric == 0 ? 1024 : metric;
}

struct kernel_params {
	char ifname[IFNAMSIZ];
	uint8_t proto;
	uint32_t table;
	uint32_t metric;
};

struct kernel_cb {
	/* A route of our protocol in our table appeared, changed or went. */
	void (*route)(void *arg, int add, const struct hgw_prefix *p,
	    const struct hgw_addr *gw, uint32_t metric);
	/* The LAN interface changed: up/down, index or its subnets (resync
	 * set: routes may have gone without a word), or other address details. */
	void (*link)(void *arg, int resync);
	/* Events were lost (socket overrun): the caller must resync. */
	void (*overrun)(void *arg);
	void *arg;
};

struct kernel_op {
	uint8_t del;		/* 0: add or replace, 1: delete */
	int err;		/* result: 0 or an errno */
	struct hgw_prefix pfx;
	struct hgw_addr gw;	/* family 0: no gateway (delete only) */
	int oif;		/* 0: the LAN interface */
	uint8_t onlink;		/* the gateway is on-link on oif without a subnet */
	void *cookie;
};

struct kernel *kernel_open(struct event_base *base, const struct kernel_params *p,
    const struct kernel_cb *cb);
void kernel_close(struct kernel *k);
void kernel_set_params(struct kernel *k, const struct kernel_params *p);
const struct kernel_params *kernel_params(const struct kernel *k);

/* Re-reads the interface and its addresses; 0, or -1 when it does not exist. */
int kernel_refresh_link(struct kernel *k);
int kernel_ifindex(const struct kernel *k);	/* 0 when the interface is missing */
int kernel_if_up(const struct kernel *k);
int kernel_if_carrier(const struct kernel *k);	/* IFF_LOWER_UP: the link has carrier */
unsigned kernel_if_mtu(const struct kernel *k);
/* The address to advertise for family: the primary IPv4 address, or the
 * lowest global IPv6 address that is not temporary, deprecated or tentative. */
int kernel_if_addr(const struct kernel *k, int family, struct hgw_addr *out);
/* Is gw inside a subnet of the LAN interface? */
int kernel_onlink(const struct kernel *k, const struct hgw_addr *gw);
/* Is a an address of the LAN interface? */
int kernel_if_has(const struct kernel *k, const struct hgw_addr *a);
/* Is a one of this host's addresses (on any interface)? */
int kernel_is_local(const struct kernel *k, const struct hgw_addr *a);
/* Do a and b resolve to the same link-layer address in the LAN interface's
 * neighbour table? 1 yes, 0 no, -1 unknown (either not resolved). */
int kernel_same_lladdr(struct kernel *k, const struct hgw_addr *a, const struct hgw_addr *b);
/* Makes the kernel solicit each on-link address of a (n of them) on the LAN
 * interface at once (our link is back after an outage): an entry the outage
 * left INCOMPLETE or FAILED (its next probe up to retrans_time away) is
 * deleted, then every unresolved one is created anew with NTF_USE, which
 * sends the first ARP/ND probe now. Resolved and PERMANENT entries are left
 * alone. The number of addresses solicited, or -1. */
int kernel_neigh_solicit(struct kernel *k, const struct hgw_addr *a, size_t n);
/* The LAN interface's connected subnets, up to max. */
int kernel_if_subnets(const struct kernel *k, struct hgw_prefix *out, int max);

/* the interface a route lookup gives: dst NULL, the main table's
 * default route (IPv4, else IPv6; the lowest metric); else the route to dst.
 * Needs no struct kernel (used before kernel_open). 0 with ifname set, or -1. */
int kernel_route_ifname(const struct hgw_addr *dst, char ifname[IFNAMSIZ]);

/* Writes ops in batches (many requests per sendmsg, one ack per batch) and
 * fills each op's err. -1 when the netlink socket itself failed. */
int kernel_apply(struct kernel *k, struct kernel_op *ops, size_t n);
/* Calls fn for each route of our protocol in our table (any metric). */
int kernel_dump(struct kernel *k, void (*fn)(void *arg, const struct hgw_prefix *p,
    const struct hgw_addr *gw, uint32_t metric), void *arg);
/* Reads and dispatches pending events now (the event loop does it too). */
void kernel_poll(struct kernel *k);
/* The output interface of the route a kernel_dump or route callback is
 * reporting right now (0: none given). */
int kernel_route_oif(const struct kernel *k);

/* Counters for show commands. */
struct kernel_stats {
	uint64_t batches, ops, errors, events, overruns, resyncs;
};
const struct kernel_stats *kernel_stats(const struct kernel *k);

#endif
