/* policy.h: the route acceptance policy applied to every announced prefix. */
#ifndef HGW_POLICY_H
#define HGW_POLICY_H

#include <stddef.h>

#include "wire.h"

struct hgwd;
struct peer;

/* Why the item may not be accepted from p (whose HELLO was h), or NULL when it may. */
const char *policy_refuse(struct hgwd *d, const struct peer *p, const struct hgw_hello *h,
    const struct hgw_upd_item *it, char *buf, size_t len);
/* Most prefixes p may hold: its neighbor's max-prefixes, else the global one; 0: none. */
int policy_limit(const struct peer *p);
/* May p announce other origins and gateways (allow-third-party-gateway)? */
int policy_third_party(const struct peer *p);

/* Without certificates, may p present node_id (nodeid.h)? 0, or -1 with why. */
int policy_node_id(struct hgwd *d, const struct peer *p, uint32_t node_id, char *why, size_t len);
/* p's established session came up (live 1) or ended (live 0): its node id's binding. */
void policy_node_seen(struct hgwd *d, const struct peer *p, int live);
/* p withdrew pfx (held announcements, leasegate.h). */
void policy_withdrawn(const struct peer *p, const struct hgw_prefix *pfx);
void policy_free(struct hgwd *d);

#endif
