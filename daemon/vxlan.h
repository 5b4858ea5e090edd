/* vxlan.h: the VXLAN device hgw.vxlan behind a small interface (vxlan.c,
 * libnl-route-3): the device, the remote VTEPs (node id -> MAC and
 * underlay address, filled in by encap.c from each peer's HELLO), and the
 * neighbour and FDB entries that routes through the device need.
 *
 * Addressing: a route to a gateway G that is not on-link becomes
 * "SUBNET via G dev hgw.vxlan onlink"; the VTEP address is G itself (the
 * gateway the origin advertises), so the route's next hop is the same in
 * both modes. The neighbour entry maps G to the origin's device MAC, the FDB
 * entry maps that MAC to the origin's underlay (LAN) address. fib.c holds
 * one reference per route: entries are written before the first route that
 * needs them and removed after the last one went. The device is ours
 * alone: every neighbour and FDB entry on it is ours (that is the tag). */
#ifndef HGW_VXLAN_H
#define HGW_VXLAN_H

#include <net/if.h>
#include <stdint.h>

#include "addr.h"

#define VXLAN_IFNAME	"hgw.vxlan"
#define VXLAN_OVERHEAD4	50	/* outer IPv4 + UDP + VXLAN + inner Ethernet */
#define VXLAN_OVERHEAD6	70	/* outer IPv6 */

struct vxlan;

struct vxlan_params {
	int lan_ifindex;		/* the underlay interface */
	unsigned lan_mtu;
	struct hgw_addr local;		/* our LAN address: the underlay's family */
	uint32_t vni;
	uint16_t port;
	uint8_t mac[6];
};

/* The device's MAC for a node id: locally administered unicast 02:68:ID. */
void vxlan_mac_for(uint32_t node_id, uint8_t mac[6]);

struct vxlan *vxlan_new(void);
void vxlan_free(struct vxlan *v);	/* forgets; leaves the kernel as it is */
/* Creates the device, or adopts one with these parameters (kept across a
 * restart), or recreates it (re-writing every held entry). 0 or -1. */
int vxlan_start(struct vxlan *v, const struct vxlan_params *p);
/* keep: leave the device and its entries for the next run (graceful
 * restart); else delete the device, which takes every entry with it. */
void vxlan_stop(struct vxlan *v, int keep);
int vxlan_running(const struct vxlan *v);
int vxlan_ifindex(const struct vxlan *v);	/* 0 when not running */
unsigned vxlan_mtu(const struct vxlan *v);	/* 0 when not running */
const struct vxlan_params *vxlan_params(const struct vxlan *v);

/* Remote VTEPs, by node id. set: 1 when new or changed, 0 same, -1 no memory. */
int vxlan_remote_set(struct vxlan *v, uint32_t node, const uint8_t mac[6],
    const struct hgw_addr *underlay);
int vxlan_remote_del(struct vxlan *v, uint32_t node);	/* 1 when it was known */
/* Can a route of origin node through gateway gw go through the device? */
int vxlan_usable(const struct vxlan *v, uint32_t node, const struct hgw_addr *gw);

/* One route's reference on the entries for gateway gw of origin node: the
 * first writes the neighbour and FDB entries. 0, or -1 (errno set). */
int vxlan_hold(struct vxlan *v, uint32_t node, const struct hgw_addr *gw);
/* Drops one reference; the last removes the entries (FDB when no other
 * gateway uses the MAC). */
void vxlan_release(struct vxlan *v, const struct hgw_addr *gw);
/* Removes entries on the device that no route holds (left from before). */
void vxlan_sweep(struct vxlan *v);

/* For show fib: each held neighbour entry (gw -> mac, refs) and its FDB
 * destination. */
void vxlan_foreach(const struct vxlan *v, void (*fn)(void *arg, const struct hgw_addr *gw,
    const uint8_t mac[6], const struct hgw_addr *dst, uint32_t refs), void *arg);
const char *vxlan_mac_fmt(const uint8_t mac[6], char *buf, size_t len);

#endif
