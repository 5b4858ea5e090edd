/* fake_kernel.h: an in-memory kernel behind daemon/kernel.h for unit tests of
 * fib.c: a route table keyed like the kernel's (protocol, table, prefix,
 * metric), scriptable on-link subnets and local addresses, scripted write
 * failures, and counters of what was written. Events (someone else adding or
 * deleting a route) go to the struct kernel_cb given at open, at once. */
#ifndef HGW_TEST_FAKE_KERNEL_H
#define HGW_TEST_FAKE_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "kernel.h"

#define FAKE_KERNEL_MAX_ROUTES	64

struct fake_route {
	struct hgw_prefix pfx;
	struct hgw_addr gw;
	uint8_t proto;
	uint32_t table, metric;
};

/* What kernel_apply saw. */
struct fake_kernel_counts {
	unsigned applies;	/* kernel_apply calls */
	unsigned adds, dels;	/* ops that succeeded */
	unsigned failed;	/* ops given a scripted error */
	unsigned dumps, polls;
};

/* Routes, counters and scripts; the fib under test reaches it only through
 * kernel.h. */
const struct fake_kernel_counts *fake_kernel_counts(const struct kernel *k);
size_t fake_kernel_nroutes(const struct kernel *k);
/* The route for p under the current protocol and table with metric, or NULL. */
const struct fake_route *fake_kernel_route(const struct kernel *k, const struct hgw_prefix *p,
    uint32_t metric);
/* Someone else (or a run before ours) writes or deletes a route of our
 * protocol and table: with notify, the route callback hears of it. */
void fake_kernel_put(struct kernel *k, const struct hgw_prefix *p, const struct hgw_addr *gw,
    uint32_t metric, int notify);
int fake_kernel_remove(struct kernel *k, const struct hgw_prefix *p, uint32_t metric, int notify);
/* Gateways inside p are on-link from now on. */
void fake_kernel_onlink(struct kernel *k, const struct hgw_prefix *p);
void fake_kernel_clear_onlink(struct kernel *k);
/* a is an address of this host. */
void fake_kernel_local(struct kernel *k, const struct hgw_addr *a);
/* The next n write ops fail with err (an errno). */
void fake_kernel_fail_writes(struct kernel *k, int err, unsigned n);
/* The next n dumps fail. */
void fake_kernel_fail_dumps(struct kernel *k, unsigned n);

#endif
