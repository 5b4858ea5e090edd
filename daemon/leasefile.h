/* leasefile.h: the lease state file (the subnets this node owns, with their
 * claim times): written atomically, read line by line. */
#ifndef HGW_LEASEFILE_H
#define HGW_LEASEFILE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* Writes node_id and the n leases (claim_ms[i] their claim times) to path,
 * atomically. 0, or -1 with the reason in err. */
int leasefile_write(const char *path, uint32_t node_id, const struct hgw_prefix *p,
    const uint64_t *claim_ms, int n, char *err, size_t errlen);

/* Calls fn for each lease line of path; a line that is not one is logged as
 * PATH:LINE and skipped. A missing file is no lease (0); -1 when it cannot
 * be read (logged). */
int leasefile_read(const char *path,
    void (*fn)(void *arg, const struct hgw_prefix *p, uint64_t claim_ms), void *arg);

#endif
