/* policy.h: the route acceptance policy applied to every announced prefix. */
#ifndef HGW_POLICY_H
#define HGW_POLICY_H

#include <stddef.h>

#include "wire.h"

struct peer;
struct session;

/* Why the item may not be accepted from s's peer, or NULL when it may. */
const char *policy_refuse(struct session *s, const struct hgw_upd_item *it, char *buf,
    size_t len);
/* Most prefixes p may hold: its neighbor's max-prefixes, else the global one; 0: none. */
int policy_limit(const struct peer *p);
/* May p announce other origins and gateways (allow-third-party-gateway)? */
int policy_third_party(const struct peer *p);

#endif
