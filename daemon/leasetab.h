/* leasetab.h: the lease table: entries indexed by prefix (a hash), so a
 * frame costs time proportional to its entries. Every entry is a subnet of
 * one length inside the cluster network (lease.c refuses anything else), so
 * two entries overlap only when equal. Bounded: LEASES_MAX entries. */
#ifndef HGW_LEASETAB_H
#define HGW_LEASETAB_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define LEASES_MAX	4096	/* entries in the table, in total */
#define LEASETAB_BUCKETS 1024	/* a power of two */

struct lease {
	struct hgw_prefix prefix;
	uint32_t owner;
	uint64_t claim_ms;	/* Unix time of the claim: the older wins among concurrent claims */
	uint64_t seen_ms;	/* monotonic: when last known live (by us or a vouching peer) */
	uint64_t known_ms;	/* monotonic: when we first recorded this claim */
	uint64_t sentback_ms;	/* monotonic: when last sent back to a loser */
	uint32_t next_owner;	/* a reservation's successor: the best live claim it refused, or 0 */
	uint64_t next_claim_ms;
	int next;		/* the index's chain */
	uint8_t firsthand;	/* its owner told us itself (or it is ours) */
	uint8_t from_file;	/* ours, loaded from the state file, not settled yet */
};

struct leasetab {
	struct lease *tab;
	size_t n, cap;
	int head[LEASETAB_BUCKETS];	/* first entry per bucket, -1 */
};

void leasetab_init(struct leasetab *t);
void leasetab_free(struct leasetab *t);
/* The entry for exactly p, or NULL. */
struct lease *leasetab_find(struct leasetab *t, const struct hgw_prefix *p);
/* owner's entry in family (NULL: none), and *count its entries in all
 * families. O(n). */
struct lease *leasetab_owner(struct leasetab *t, uint32_t owner, int family, size_t *count);
/* A new entry (seen and known now); NULL when full or out of memory. */
struct lease *leasetab_add(struct leasetab *t, const struct hgw_prefix *p, uint32_t owner,
    uint64_t claim_ms);
/* Removes entry i: the last entry moves to i; returns the index it had. */
size_t leasetab_remove(struct leasetab *t, size_t i);

#endif
