/* leasegate.h: the lease rule for announcements (PROTOCOL.md, Security): in
 * lease mode a node announces only the subnet it holds the lease for;
 * "static-hosts PREFIX" lets hosts there announce static networks without
 * one. An announcement refused for want of its lease is held (one per peer,
 * origin and family) until the claim arrives: leaseroute.c applies it then. */
#ifndef HGW_LEASEGATE_H
#define HGW_LEASEGATE_H

#include <stddef.h>

#include "wire.h"

struct hgwd;
struct peer;

/* Why p may not announce it under the lease rule, or NULL when it may. A
 * refused item of a lease's shape (subnet-length, inside the leased cluster
 * network) is held for p. policy_refuse calls it last. */
const char *leasegate_refuse(struct hgwd *d, const struct peer *p, const struct hgw_upd_item *it,
    char *buf, size_t len);
/* Forgets what is held for p: of pfx (p withdrew it), or everything (pfx NULL). */
void leasegate_forget(const struct peer *p, const struct hgw_prefix *pfx);
/* Takes (removes) up to max items held for p of pfx into out; how many. */
size_t leasegate_take(const struct peer *p, const struct hgw_prefix *pfx, struct hgw_upd_item *out,
    size_t max);
/* The prefixes held (at most max, duplicates possible), for a full re-check. */
size_t leasegate_held(struct hgw_prefix *out, size_t max);
size_t leasegate_count(void);
/* Is anything held for pfx? */
int leasegate_has(const struct hgw_prefix *pfx);

#endif
