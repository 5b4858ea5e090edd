/* fake_kernel.c: daemon/kernel.h's functions that fib.c uses, over an
 * in-memory route table (see fake_kernel.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fake_kernel.h"
#include "vxlan.h"

#define FAKE_MAX_NETS	8

struct kernel {
	struct kernel_params params;
	struct kernel_cb cb;
	struct fake_route routes[FAKE_KERNEL_MAX_ROUTES];
	size_t n;
	struct hgw_prefix onlink[FAKE_MAX_NETS];
	int nonlink;
	struct hgw_addr local[FAKE_MAX_NETS];
	int nlocal;
	int fail_err;
	unsigned fail_left, dump_fail_left;
	struct fake_kernel_counts counts;
	struct kernel_stats stats;
};

static struct fake_route *
find(struct kernel *k, const struct hgw_prefix *p, uint8_t proto, uint32_t table, uint32_t metric)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (k->routes[i].proto == proto && k->routes[i].table == table &&
		    k->routes[i].metric == metric && hgw_prefix_eq(&k->routes[i].pfx, p))
			return &k->routes[i];
	return NULL;
}

/* Adds or replaces (p, metric) under the current protocol and table. */
static void
put(struct kernel *k, const struct hgw_prefix *p, const struct hgw_addr *gw, uint32_t metric)
{
	struct fake_route *r = find(k, p, k->params.proto, k->params.table, metric);

	if (r == NULL) {
		if (k->n >= FAKE_KERNEL_MAX_ROUTES)
			fail_msg("fake kernel: more than %d routes", FAKE_KERNEL_MAX_ROUTES);
		r = &k->routes[k->n++];
		r->pfx = *p;
		r->proto = k->params.proto;
		r->table = k->params.table;
		r->metric = metric;
	}
	r->gw = *gw;
}

static int
del(struct kernel *k, const struct hgw_prefix *p, const struct hgw_addr *gw, uint32_t metric)
{
	struct fake_route *r = find(k, p, k->params.proto, k->params.table, metric);

	if (r == NULL || (gw != NULL && gw->family != 0 && hgw_addr_cmp(&r->gw, gw) != 0))
		return ESRCH;
	*r = k->routes[--k->n];
	return 0;
}

struct kernel *
kernel_open(struct event_base *base, const struct kernel_params *p, const struct kernel_cb *cb)
{
	struct kernel *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return NULL;
	k->params = *p;
	if (cb != NULL)
		k->cb = *cb;
	return k;
}

void
kernel_close(struct kernel *k)
{
	free(k);
}

void
kernel_set_params(struct kernel *k, const struct kernel_params *p)
{
	k->params = *p;
}

const struct kernel_params *
kernel_params(const struct kernel *k)
{
	return &k->params;
}

int
kernel_onlink(const struct kernel *k, const struct hgw_addr *gw)
{
	int i;

	for (i = 0; i < k->nonlink; i++)
		if (hgw_prefix_contains_addr(&k->onlink[i], gw))
			return 1;
	return 0;
}

int
kernel_is_local(const struct kernel *k, const struct hgw_addr *a)
{
	int i;

	for (i = 0; i < k->nlocal; i++)
		if (hgw_addr_cmp(&k->local[i], a) == 0)
			return 1;
	return 0;
}

int
kernel_apply(struct kernel *k, struct kernel_op *ops, size_t n)
{
	size_t i;

	k->counts.applies++;
	k->stats.batches++;
	for (i = 0; i < n; i++) {
		struct kernel_op *op = &ops[i];
		uint32_t metric = kernel_effective_metric(op->pfx.family, k->params.metric);

		k->stats.ops++;
		if (k->fail_left > 0) {
			k->fail_left--;
			k->counts.failed++;
			k->stats.errors++;
			op->err = k->fail_err;
			continue;
		}
		if (op->del) {
			op->err = del(k, &op->pfx, &op->gw, metric);
			if (op->err == 0)
				k->counts.dels++;
		} else {
			if (op->gw.family != op->pfx.family)
				fail_msg("fake kernel: add without a gateway of the prefix's family");
			put(k, &op->pfx, &op->gw, metric);
			op->err = 0;
			k->counts.adds++;
		}
	}
	return 0;
}

int
kernel_dump(struct kernel *k, void (*fn)(void *arg, const struct hgw_prefix *p,
    const struct hgw_addr *gw, uint32_t metric), void *arg)
{
	struct fake_route copy[FAKE_KERNEL_MAX_ROUTES];
	size_t i, n = k->n;

	if (k->dump_fail_left > 0) {
		k->dump_fail_left--;
		return -1;
	}
	k->counts.dumps++;
	memcpy(copy, k->routes, n * sizeof(copy[0]));
	for (i = 0; i < n; i++)
		if (copy[i].proto == k->params.proto && copy[i].table == k->params.table)
			fn(arg, &copy[i].pfx, &copy[i].gw, copy[i].metric);
	return 0;
}

void
kernel_poll(struct kernel *k)
{
	k->counts.polls++;
}

const struct kernel_stats *
kernel_stats(const struct kernel *k)
{
	return &k->stats;
}

/* The test's side. */

const struct fake_kernel_counts *
fake_kernel_counts(const struct kernel *k)
{
	return &k->counts;
}

size_t
fake_kernel_nroutes(const struct kernel *k)
{
	return k->n;
}

const struct fake_route *
fake_kernel_route(const struct kernel *k, const struct hgw_prefix *p, uint32_t metric)
{
	return find((struct kernel *)k, p, k->params.proto, k->params.table, metric);
}

void
fake_kernel_put(struct kernel *k, const struct hgw_prefix *p, const struct hgw_addr *gw,
    uint32_t metric, int notify)
{
	put(k, p, gw, metric);
	if (notify && k->cb.route != NULL)
		k->cb.route(k->cb.arg, 1, p, gw, metric);
}

int
fake_kernel_remove(struct kernel *k, const struct hgw_prefix *p, uint32_t metric, int notify)
{
	struct fake_route *r = find(k, p, k->params.proto, k->params.table, metric);
	struct hgw_addr gw;

	if (r == NULL)
		return -1;
	gw = r->gw;
	*r = k->routes[--k->n];
	if (notify && k->cb.route != NULL)
		k->cb.route(k->cb.arg, 0, p, &gw, metric);
	return 0;
}

void
fake_kernel_onlink(struct kernel *k, const struct hgw_prefix *p)
{
	if (k->nonlink >= FAKE_MAX_NETS)
		fail_msg("fake kernel: too many on-link subnets");
	k->onlink[k->nonlink++] = *p;
}

void
fake_kernel_clear_onlink(struct kernel *k)
{
	k->nonlink = 0;
}

void
fake_kernel_local(struct kernel *k, const struct hgw_addr *a)
{
	if (k->nlocal >= FAKE_MAX_NETS)
		fail_msg("fake kernel: too many local addresses");
	k->local[k->nlocal++] = *a;
}

void
fake_kernel_fail_writes(struct kernel *k, int err, unsigned n)
{
	k->fail_err = err;
	k->fail_left = n;
}

void
fake_kernel_fail_dumps(struct kernel *k, unsigned n)
{
	k->dump_fail_left = n;
}

/* The fake kernel reports no output interface: every route is the LAN's. */
int
kernel_route_oif(const struct kernel *k)
{
	(void)k;
	return 0;
}

/* No VXLAN device in these tests (encap none): fib.c asks and is told no. */
int
vxlan_ifindex(const struct vxlan *v)
{
	(void)v;
	return 0;
}

int
vxlan_usable(const struct vxlan *v, uint32_t node, const struct hgw_addr *gw)
{
	(void)v;
	(void)node;
	(void)gw;
	return 0;
}

int
vxlan_hold(struct vxlan *v, uint32_t node, const struct hgw_addr *gw)
{
	(void)v;
	(void)node;
	(void)gw;
	errno = ENODEV;
	return -1;
}

void
vxlan_release(struct vxlan *v, const struct hgw_addr *gw)
{
	(void)v;
	(void)gw;
	fail_msg("vxlan_release without a VXLAN device");
}

void
vxlan_sweep(struct vxlan *v)
{
	(void)v;
}
