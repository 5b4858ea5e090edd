/* test_origin.c: unit tests for daemon/origin.c with the real RIB and fake peers (fakes.c): our own paths, the UPDATE items exported, two sources, identity changes, reconfiguration, subscribers, a peer coming up. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "fakes.h"
#include "hgwd.h"
#include "log.h"
#include "origin.h"

#define NODE	0x0a000001u	/* 10.0.0.1 */
#define NODE2	0x0a000063u	/* 10.0.0.99 */

static struct hgwd d;
static int changes;		/* origin_subscribe calls */

static void
on_change(void *arg)
{
	(*(int *)arg)++;
}

static void
cfg(struct config *c, const char *line)
{
	enum cfg_ctx ctx = CFG_CTX_ROUTER;
	char err[256] = "";

	if (config_statement(c, &ctx, line, 1, err, sizeof(err)) != 0)
		fail_msg("'%s' refused: %s", line, err);
}

static int
setup(void **state)
{
	enum cfg_ctx ctx = CFG_CTX_TOP;
	char err[256];

	fake_peers_reset();
	memset(&d, 0, sizeof(d));
	config_init(&d.cfg);
	if (config_statement(&d.cfg, &ctx, "router hgw", 1, err, sizeof(err)) != 0)
		return -1;
	snprintf(d.cfg.ifname, sizeof(d.cfg.ifname), "lan0");
	d.node_id = NODE;
	d.addr4 = fake_addr("10.0.0.1");
	d.addr6 = fake_addr("fd00::1");
	d.start_ms = now_ms();
	if (rib_init(&d.rib, NULL, NULL) < 0 || origin_init(&d) < 0)
		return -1;
	changes = 0;
	if (origin_subscribe(&d, on_change, &changes) < 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	origin_free(&d);
	rib_destroy(&d.rib);
	config_free(&d.cfg);
	return 0;
}

/* The RIB's own path for p (peer NULL), or NULL. */
static const struct rib_path *
own_path(const char *p)
{
	struct hgw_prefix pf = fake_prefix(p);
	const struct rib_entry *e = rib_lookup(&d.rib, &pf);
	const struct rib_path *q;

	for (q = e != NULL ? e->paths : NULL; q != NULL; q = q->next)
		if (q->peer == NULL)
			return q;
	return NULL;
}

static size_t
npaths(const char *p)
{
	struct hgw_prefix pf = fake_prefix(p);
	const struct rib_entry *e = rib_lookup(&d.rib, &pf);
	const struct rib_path *q;
	size_t n = 0;

	for (q = e != NULL ? e->paths : NULL; q != NULL; q = q->next)
		n++;
	return n;
}

/* Checks item i: kind, prefix, origin, gateway (NULL: withdraw, none), target. */
static void
check_item(size_t i, struct peer *to, int kind, const char *p, uint32_t origin, const char *gw)
{
	const struct fake_item *f;
	struct hgw_prefix pf = fake_prefix(p);

	if (i >= fake_peers.nitems)
		fail_msg("item %zu missing: %zu queued", i, fake_peers.nitems);
	f = &fake_peers.items[i];
	assert_ptr_equal(f->to, to);
	assert_int_equal(f->it.kind, kind);
	assert_true(hgw_prefix_eq(&f->it.prefix, &pf));
	assert_int_equal(f->it.origin, origin);
	if (gw != NULL) {
		struct hgw_addr a = fake_addr(gw);

		assert_int_equal(hgw_addr_cmp(&f->it.gateway, &a), 0);
	}
}

static void
check_own(const char *p, uint32_t origin, const char *gw)
{
	const struct rib_path *q = own_path(p);
	struct hgw_addr a = fake_addr(gw);

	if (q == NULL)
		fail_msg("no own path for %s in the RIB", p);
	assert_int_equal(q->origin, origin);
	assert_int_equal(hgw_addr_cmp(&q->nh->addr, &a), 0);
}

static void
test_add_del(void **state)
{
	struct hgw_prefix p = fake_prefix("10.1.0.0/24"), list[4];

	assert_int_equal(origin_add(&d, ORIGIN_CONFIG, &p), 0);
	check_own("10.1.0.0/24", NODE, "10.0.0.1");
	assert_int_equal(fake_peers.nitems, 1);
	check_item(0, NULL, HGW_UPD_ANNOUNCE, "10.1.0.0/24", NODE, "10.0.0.1");
	assert_true(fake_peers.flushes >= 1);
	assert_int_equal(changes, 1);
	assert_true(origin_has(&d, &p));
	assert_int_equal(origin_list(&d, list, 4), 1);
	assert_true(hgw_prefix_eq(&list[0], &p));

	/* The same again: nothing new. */
	assert_int_equal(origin_add(&d, ORIGIN_CONFIG, &p), 0);
	assert_int_equal(fake_peers.nitems, 1);
	assert_int_equal(changes, 1);
	assert_int_equal(npaths("10.1.0.0/24"), 1);

	origin_del(&d, ORIGIN_CONFIG, &p);
	assert_null(own_path("10.1.0.0/24"));
	assert_int_equal(fake_peers.nitems, 2);
	check_item(1, NULL, HGW_UPD_WITHDRAW, "10.1.0.0/24", NODE, NULL);
	assert_int_equal(changes, 2);
	assert_false(origin_has(&d, &p));
	assert_int_equal(origin_list(&d, list, 4), 0);

	/* Not ours (any more): nothing. */
	origin_del(&d, ORIGIN_CONFIG, &p);
	assert_int_equal(fake_peers.nitems, 2);
	assert_int_equal(changes, 2);
}

static void
test_ipv6_gateway(void **state)
{
	struct hgw_prefix p = fake_prefix("fd10:1::/64");

	assert_int_equal(origin_add(&d, ORIGIN_LEASE, &p), 0);
	check_own("fd10:1::/64", NODE, "fd00::1");
	assert_int_equal(fake_peers.nitems, 1);
	check_item(0, NULL, HGW_UPD_ANNOUNCE, "fd10:1::/64", NODE, "fd00::1");
}

static void
test_two_sources(void **state)
{
	struct hgw_prefix p = fake_prefix("10.2.0.0/24");
	size_t n;

	assert_int_equal(origin_add(&d, ORIGIN_CONFIG, &p), 0);
	assert_int_equal(origin_add(&d, ORIGIN_LEASE, &p), 0);
	assert_int_equal(npaths("10.2.0.0/24"), 1);	/* one own path for both */
	n = fake_peers.nitems;

	origin_del(&d, ORIGIN_CONFIG, &p);
	/* Still ours from the lease: no withdraw, the path stays. */
	assert_int_equal(fake_peers.nitems, n);
	check_own("10.2.0.0/24", NODE, "10.0.0.1");
	assert_true(origin_has(&d, &p));

	origin_del(&d, ORIGIN_LEASE, &p);
	assert_int_equal(fake_peers.nitems, n + 1);
	check_item(n, NULL, HGW_UPD_WITHDRAW, "10.2.0.0/24", NODE, NULL);
	assert_null(own_path("10.2.0.0/24"));
	assert_false(origin_has(&d, &p));
}

static void
test_identity_change(void **state)
{
	struct hgw_prefix p4 = fake_prefix("10.3.0.0/24"), p6 = fake_prefix("fd10:3::/64");
	const struct rib_path *q;
	size_t n;
	int c;

	origin_add(&d, ORIGIN_CONFIG, &p4);
	origin_add(&d, ORIGIN_LEASE, &p6);
	n = fake_peers.nitems;
	c = changes;

	d.node_id = NODE2;
	d.addr4 = fake_addr("10.0.0.99");
	d.addr6 = fake_addr("fd00::99");
	origin_identity_changed(&d, NODE);
	/* The RIB holds our path under the new id and gateway only. */
	assert_int_equal(npaths("10.3.0.0/24"), 1);
	assert_int_equal(npaths("fd10:3::/64"), 1);
	check_own("10.3.0.0/24", NODE2, "10.0.0.99");
	check_own("fd10:3::/64", NODE2, "fd00::99");
	q = own_path("10.3.0.0/24");
	assert_int_not_equal(q->origin, NODE);
	/* Exported again with them. */
	assert_int_equal(fake_peers.nitems, n + 2);
	check_item(n, NULL, HGW_UPD_ANNOUNCE, "10.3.0.0/24", NODE2, "10.0.0.99");
	check_item(n + 1, NULL, HGW_UPD_ANNOUNCE, "fd10:3::/64", NODE2, "fd00::99");
	assert_int_equal(changes, c + 1);
}

static void
test_reconfigure(void **state)
{
	struct config old;
	struct hgw_prefix lease = fake_prefix("10.9.0.0/24"), a = fake_prefix("10.4.0.0/24"),
	    b = fake_prefix("10.5.0.0/24"), c = fake_prefix("10.6.0.0/24");
	size_t n, i;
	int withdrawn_a = 0, announced_c = 0;

	cfg(&d.cfg, "network 10.4.0.0/24");
	cfg(&d.cfg, "network 10.5.0.0/24");
	origin_add(&d, ORIGIN_LEASE, &lease);
	/* At start: every configured network. */
	origin_reconfigure(&d, NULL);
	assert_true(origin_has(&d, &a));
	assert_true(origin_has(&d, &b));
	check_own("10.4.0.0/24", NODE, "10.0.0.1");
	check_own("10.5.0.0/24", NODE, "10.0.0.1");
	assert_int_equal(fake_peers.nitems, 3);

	/* A reload: 10.4 goes, 10.6 comes, 10.5 and the lease stay. */
	config_init(&old);
	assert_int_equal(config_copy(&old, &d.cfg), 0);
	cfg(&d.cfg, "no network 10.4.0.0/24");
	cfg(&d.cfg, "network 10.6.0.0/24");
	n = fake_peers.nitems;
	origin_reconfigure(&d, &old);
	assert_false(origin_has(&d, &a));
	assert_true(origin_has(&d, &b));
	assert_true(origin_has(&d, &c));
	assert_true(origin_has(&d, &lease));
	assert_null(own_path("10.4.0.0/24"));
	check_own("10.6.0.0/24", NODE, "10.0.0.1");
	assert_int_equal(fake_peers.nitems, n + 2);	/* nothing about 10.5 or the lease */
	for (i = n; i < fake_peers.nitems; i++) {
		const struct hgw_upd_item *it = &fake_peers.items[i].it;

		if (it->kind == HGW_UPD_WITHDRAW && hgw_prefix_eq(&it->prefix, &a))
			withdrawn_a++;
		if (it->kind == HGW_UPD_ANNOUNCE && hgw_prefix_eq(&it->prefix, &c))
			announced_c++;
	}
	assert_int_equal(withdrawn_a, 1);
	assert_int_equal(announced_c, 1);

	/* The same configuration again: nothing. */
	config_free(&old);
	config_init(&old);
	assert_int_equal(config_copy(&old, &d.cfg), 0);
	n = fake_peers.nitems;
	origin_reconfigure(&d, &old);
	assert_int_equal(fake_peers.nitems, n);
	config_free(&old);
}

static void
test_subscribers(void **state)
{
	struct hgw_prefix p = fake_prefix("10.7.0.0/24");
	int second = 0, i;

	assert_int_equal(origin_subscribe(&d, on_change, &second), 0);
	origin_add(&d, ORIGIN_CONFIG, &p);
	assert_int_equal(changes, 1);
	assert_int_equal(second, 1);
	origin_del(&d, ORIGIN_CONFIG, &p);
	assert_int_equal(changes, 2);
	assert_int_equal(second, 2);
	/* A bounded list: the fifth subscriber is refused. */
	for (i = 0; i < 2; i++)
		assert_int_equal(origin_subscribe(&d, on_change, &second), 0);
	assert_int_equal(origin_subscribe(&d, on_change, &second), -1);
}

static void
test_peer_up_gets_table(void **state)
{
	struct hgw_prefix p4 = fake_prefix("10.8.0.0/24"), p6 = fake_prefix("fd10:8::/64");
	const struct peer_listener *l = fake_listener("origin");
	struct peer a, b;
	size_t n;

	assert_non_null(l);
	assert_non_null(l->up);
	origin_add(&d, ORIGIN_CONFIG, &p4);
	origin_add(&d, ORIGIN_LEASE, &p6);
	fake_peer_init(&a, &d, 0x0a000002u, HGW_CAP_IPV4 | HGW_CAP_IPV6);
	fake_peer_init(&b, &d, 0x0a000003u, HGW_CAP_IPV4 | HGW_CAP_IPV6);
	n = fake_peers.nitems;
	fake_peer_up(&a);
	/* Queued for that peer only (its END-OF-RIB follows in peer.c). */
	assert_int_equal(fake_peers.nitems, n + 2);
	check_item(n, &a, HGW_UPD_ANNOUNCE, "10.8.0.0/24", NODE, "10.0.0.1");
	check_item(n + 1, &a, HGW_UPD_ANNOUNCE, "fd10:8::/64", NODE, "fd00::1");
	fake_peer_up(&b);
	assert_int_equal(fake_peers.nitems, n + 4);
	check_item(n + 2, &b, HGW_UPD_ANNOUNCE, "10.8.0.0/24", NODE, "10.0.0.1");
	check_item(n + 3, &b, HGW_UPD_ANNOUNCE, "fd10:8::/64", NODE, "fd00::1");
}

static void
test_no_gateway_no_export(void **state)
{
	struct hgw_prefix p6 = fake_prefix("fd10:9::/64"), p4 = fake_prefix("10.10.0.0/24");
	const struct peer_listener *l = fake_listener("origin");
	int before = fake_log_count("network fd10:9::/64: no IPv6 address on lan0");
	struct peer a;
	size_t n;

	memset(&d.addr6, 0, sizeof(d.addr6));
	assert_int_equal(origin_add(&d, ORIGIN_CONFIG, &p6), 0);
	/* Ours in the RIB, but nothing to tell the peers without a gateway. */
	assert_true(origin_has(&d, &p6));
	assert_non_null(own_path("fd10:9::/64"));
	assert_int_equal(fake_peers.nitems, 0);
	assert_int_equal(fake_log_count("network fd10:9::/64: no IPv6 address on lan0"), before + 1);
	assert_int_equal(changes, 1);

	/* A peer that comes up gets the IPv4 network only. */
	origin_add(&d, ORIGIN_CONFIG, &p4);
	fake_peer_init(&a, &d, 0x0a000002u, HGW_CAP_IPV4 | HGW_CAP_IPV6);
	n = fake_peers.nitems;
	assert_non_null(l);
	fake_peer_up(&a);
	assert_int_equal(fake_peers.nitems, n + 1);
	check_item(n, &a, HGW_UPD_ANNOUNCE, "10.10.0.0/24", NODE, "10.0.0.1");

	/* A withdraw needs no gateway: it is exported. */
	n = fake_peers.nitems;
	origin_del(&d, ORIGIN_CONFIG, &p6);
	assert_int_equal(fake_peers.nitems, n + 1);
	check_item(n, NULL, HGW_UPD_WITHDRAW, "fd10:9::/64", NODE, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_del, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_gateway, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_sources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconfigure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscribers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_up_gets_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_gateway_no_export, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
