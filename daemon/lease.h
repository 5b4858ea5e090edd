/* lease.h: container subnets leased by the mesh itself (no etcd): claims
 * gossiped in LEASE messages, the older claim winning everywhere, departed
 * owners' leases kept reserved for lease-hold, a state file so a restarted
 * host gets its subnet back, and flannel's subnet.env for the CNI plugin. */
#ifndef HGW_LEASE_H
#define HGW_LEASE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "cmdtree.h"

struct hgwd;
struct peer;

int leases_init(struct hgwd *d);		/* reads the state file, claims it again */
void leases_free(struct hgwd *d);
void leases_sync_done(struct hgwd *d);		/* the initial sync is over: claim if needed */
void leases_config_changed(struct hgwd *d);
void leases_peer_up(struct hgwd *d, struct peer *p);	/* send our table to p */
void leases_peer_down(struct hgwd *d, struct peer *p);	/* p's leases become reservations */
/* A validated LEASE body from p. 0, or -1 when p ended (never: kept for symmetry). */
int leases_rx(struct hgwd *d, struct peer *p, const uint8_t *body, size_t len);
/* Our leased networks (at most one per family); returns how many. */
int leases_own(const struct hgwd *d, struct hgw_prefix *out, int max);

#endif
