/* lease.h: container subnets leased by the mesh itself (no etcd): claims
 * gossiped in LEASE messages, the older claim winning everywhere, departed
 * owners' leases kept reserved for lease-hold, a state file so a restarted
 * host gets its subnet back, and flannel's subnet.env for the CNI plugin.
 * lease.c subscribes to peer events and to the end of the initial sync;
 * nobody calls it for those. */
#ifndef HGW_LEASE_H
#define HGW_LEASE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct hgwd;

enum lease_state {
	LEASE_MINE,		/* ours */
	LEASE_ACTIVE,		/* its owner is live (we hold a session with it) */
	LEASE_RESERVED,		/* its owner is gone: kept for lease-hold */
};

struct lease_info {
	struct hgw_prefix prefix;
	uint32_t owner;
	uint64_t claim_ms;	/* Unix time of the claim */
	enum lease_state state;
	uint64_t expires_ms;	/* reserved: left until it expires */
};

/* Reads the state file, claims it again, subscribes to peers and sync. */
int leases_init(struct hgwd *d);
void leases_free(struct hgwd *d);
void leases_reconfigure(struct hgwd *d);
/* Expires reservations older than lease-hold at now (monotonic ms); the
 * timer calls it, tests may too. */
void leases_expire(struct hgwd *d, uint64_t now);
/* fn(d, p) runs after the table changed for p (an entry added or removed),
 * fn(d, NULL) after a reconfiguration: leaseroute.c registers it. */
typedef void (*lease_change_fn)(struct hgwd *d, const struct hgw_prefix *p);
void leases_on_change(struct hgwd *d, lease_change_fn fn);
/* Our leased networks (at most one per family); returns how many. */
int leases_own(const struct hgwd *d, struct hgw_prefix *out, int max);

/* For show commands. */
size_t leases_count(const struct hgwd *d);
int leases_get(struct hgwd *d, size_t i, struct lease_info *out);
int leases_mine(const struct hgwd *d, int family, struct hgw_prefix *out);	/* 0 or -1 */
const char *leases_error(const struct hgwd *d, int family);	/* why no lease, or "" */
size_t leases_events(const struct hgwd *d, const char **out, size_t max);
const char *lease_state_str(enum lease_state st);
/* Claims and releases refused (PROTOCOL.md, Security), the last one's reason. */
uint64_t leases_refused(const struct hgwd *d, const char **last);
/* Why the state file is not up to date (being retried), or NULL when it is. */
const char *leases_unsaved(const struct hgwd *d);

#endif
