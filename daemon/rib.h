/* rib.h: the routing information base: per prefix, every candidate path
 * (origin node, gateway, peer it came from, age), one deterministic best path,
 * conflict detection, and the kernel state the FIB sync keeps beside it.
 *
 * Memory: entries and paths come from pools; gateways are interned and
 * shared; the prefix index is an open-addressing hash table. Changed entries
 * are queued once on a dirty list that fib.c drains in batches. Entries are
 * freed only by rib_release(), called by fib.c once the kernel no longer holds
 * them. */
#ifndef HGW_RIB_H
#define HGW_RIB_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "util.h"

struct peer;

/* A gateway address shared by every path and kernel route using it. */
struct nexthop {
	struct hgw_addr addr;
	uint8_t verdict;	/* fib.c's cached on-link check ... */
	uint32_t epoch;		/* ... valid while this equals fib's epoch */
	uint32_t refcnt;
	struct nexthop *next;
};

#define RIB_PATH_STALE	0x1u	/* left from a replaced session; swept at END-OF-RIB */
#define RIB_PATH_CONTENDER 0x2u	/* claimed a prefix another origin held for RIB_INCUMBENT_DS:
				 * it never displaces that claim while it lasts */
#define RIB_INCUMBENT_DS 30	/* 3 s */

struct rib_path {
	struct rib_path *next;
	struct peer *peer;	/* NULL: one of our own networks */
	struct nexthop *nh;
	uint32_t origin;	/* node id of the owner */
	uint32_t since_ds : 30;	/* when learned: deciseconds of daemon time (3.4 years) */
	uint32_t flags : 2;	/* RIB_PATH_*; the path stays 32 bytes */
};

#define RIB_E_DIRTY	0x01u	/* on the dirty list */
#define RIB_E_CONFLICT	0x02u	/* paths from two or more origins */
#define RIB_E_PENDING	0x04u	/* in a kernel batch right now */
#define RIB_E_SEEN	0x08u	/* fib.c's resync: the kernel dump had it */
#define RIB_E_OURS	0x10u	/* installed by this run (not left from before the start) */
#define RIB_E_VXLAN	0x20u	/* the kernel route goes through the VXLAN device */
#define RIB_E_VXHELD	0x40u	/* ... and holds its gateway's neighbour and FDB entries */

/* fib_err: why the best path is not in the kernel. */
#define FIB_ERR_NONE		0
#define FIB_ERR_NOT_ONLINK	255	/* gateway not on-link on the LAN interface */
#define FIB_ERR_LOCAL_GW	254	/* gateway is one of our own addresses */
#define FIB_ERR_FAMILY		253	/* gateway of another family than the prefix */
/* other values: the errno the kernel returned */

struct rib_entry {
	struct hgw_prefix pfx;
	uint8_t flags;
	uint8_t fib_err;
	struct rib_path *paths;	/* best first */
	struct nexthop *fib_nh;	/* what the kernel holds for us, NULL: nothing */
};

typedef void (*rib_dirty_fn)(void *arg);

struct rib {
	uintptr_t *slots;		/* open addressing, linear probing: entry
					 * pointers with a hash tag in bits 48..63 */
	size_t nslots, count;
	struct pool entry_pool, path_pool;
	struct nexthop **nh_slots;
	size_t nh_nslots, nh_count;
	struct rib_entry **dirty;
	size_t dirty_head, ndirty, dirty_cap;
	size_t npaths, nconflicts;
	uint32_t nlen[2][129];		/* entries per family (v4, v6) and length, */
	uint64_t lenmask[2][3];		/* ... and a bit per length held: lookups of
					 * covering prefixes skip the lengths nobody holds */
	rib_dirty_fn dirty_fn;
	void *dirty_arg;
};

int rib_init(struct rib *r, rib_dirty_fn fn, void *arg);
void rib_destroy(struct rib *r);

struct rib_entry *rib_lookup(const struct rib *r, const struct hgw_prefix *p);
/* The longest entry that strictly covers p (shorter, containing it) and has
 * a path after *from (NULL: start at p itself); NULL when none is left.
 * Walks only the lengths the RIB holds entries of. */
struct rib_entry *rib_covering(const struct rib *r, const struct hgw_prefix *p,
    const struct rib_entry *from);
/* Finds or creates the entry for p; NULL when out of memory. */
struct rib_entry *rib_get(struct rib *r, const struct hgw_prefix *p);

/* Adds or replaces the path (p, peer, origin). Returns 1 when a path was
 * added, 0 when one was replaced or refreshed, -1 when out of memory. */
int rib_announce(struct rib *r, const struct hgw_prefix *p, struct peer *peer,
    uint32_t origin, const struct hgw_addr *gw, uint32_t now_ds);
/* Removes the path (p, peer, origin). Returns 1 when removed, 0 when absent. */
int rib_withdraw(struct rib *r, const struct hgw_prefix *p, struct peer *peer,
    uint32_t origin);
/* Removes every path of peer (only the stale ones with stale_only). Returns how many. */
size_t rib_drop_peer(struct rib *r, struct peer *peer, int stale_only);
/* Marks every path of peer stale. Returns how many. */
size_t rib_mark_peer_stale(struct rib *r, struct peer *peer);

void rib_mark_dirty(struct rib *r, struct rib_entry *e);
/* Takes up to max dirty entries (clearing their dirty flag) into out. */
size_t rib_take_dirty(struct rib *r, struct rib_entry **out, size_t max);
/* Frees e when it has no path and the kernel holds nothing for it. */
void rib_release(struct rib *r, struct rib_entry *e);

struct nexthop *rib_nh_get(struct rib *r, const struct hgw_addr *a);	/* +1 reference */
void rib_nh_put(struct rib *r, struct nexthop *nh);

static inline struct rib_path *
rib_best(const struct rib_entry *e)
{
	return e->paths;
}

/* Calls fn for every entry; fn must not add or remove entries. */
void rib_foreach(const struct rib *r, void (*fn)(void *arg, struct rib_entry *e),
    void *arg);
/* Sets bit i of used (1 << (len - net->plen) bits, MSB-first index as the
 * bits of a subnet between net's length and len) for every subnet of length
 * len inside net that a peer's path equals, lies within or covers (a
 * prefix inside net only): the subnets a lease must not take. O(entries). */
void rib_mark_used(const struct rib *r, const struct hgw_prefix *net, int len, uint8_t *used);
/* Every prefix, sorted, in a new array (free it); NULL and *n = 0 when empty. */
struct hgw_prefix *rib_snapshot(const struct rib *r, size_t *n);

size_t rib_memory(const struct rib *r);	/* bytes held by the RIB's structures */

/* The index's hash and a slot's entry (NULL when empty), for tests. */
uint64_t rib_hash(const struct hgw_prefix *p);
struct rib_entry *rib_slot(const struct rib *r, size_t i);

#endif
