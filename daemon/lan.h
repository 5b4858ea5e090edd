/* lan.h: questions about the LAN interface's connected subnets, asked by
 * policy (a prefix may not overlap the LAN), leases (a subnet in use) and
 * peers (who may dial us): one loop, one place. */
#ifndef HGW_LAN_H
#define HGW_LAN_H

#include "addr.h"

struct kernel;

/* Does p overlap a LAN subnet? 1 with *which set (may be NULL), else 0. */
int kernel_lan_overlaps(const struct kernel *k, const struct hgw_prefix *p,
    struct hgw_prefix *which);
/* Is a inside a LAN subnet? */
int kernel_lan_contains(const struct kernel *k, const struct hgw_addr *a);

#endif
