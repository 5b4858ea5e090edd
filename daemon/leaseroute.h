/* leaseroute.h: routes follow the leases: paths the lease rule no longer
 * allows are withdrawn, announcements held for want of a lease are applied
 * when it arrives (leasegate.h). */
#ifndef HGW_LEASEROUTE_H
#define HGW_LEASEROUTE_H

struct hgwd;

/* After leases_init: registers with lease.c and as a peer listener; 0 or -1. */
int leaseroute_init(struct hgwd *d);

#endif
