/* encap.h: encap vxlan: keeps the VXLAN device (vxlan.h) in step with the
 * configuration and the LAN interface, puts our VTEP in the HELLO, and
 * records each peer's VTEP from its HELLO (a peer listener). fib.c asks
 * vxlan.h per route; this module tells fib to re-evaluate when a VTEP or
 * the device changes. */
#ifndef HGW_ENCAP_H
#define HGW_ENCAP_H

#include <stddef.h>

struct hgwd;
struct peer;

int encap_init(struct hgwd *d);		/* after the kernel and fib: a peer listener */
/* The configuration or the LAN interface changed: create, adopt, change or
 * remove the device. */
void encap_update(struct hgwd *d);
/* How routes to each of the n peers of list go, in out[i]: "direct",
 * "vxlan", "mixed" or "none" (no route, or out of memory). One walk of the
 * RIB for them all. */
void encap_peer_modes(struct hgwd *d, struct peer *const *list, size_t n, const char **out);
/* keep: leave the device and its entries for the next run (graceful
 * restart); 0: remove them (shutdown). After fib_shutdown. */
void encap_stop(struct hgwd *d, int keep);
void encap_free(struct hgwd *d);

#endif
