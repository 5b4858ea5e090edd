/* test_rib.c: unit tests for daemon/rib.c: paths, best path, conflicts, stale sweep, dirty queue, release, nexthops, hash table, memory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rib.h"

/* struct peer is opaque to the RIB: any distinct pointer will do. */
#define PEER(n)	((struct peer *)(uintptr_t)(0x1000u * (n)))

static struct hgw_addr
A(const char *s)
{
	struct hgw_addr a;

	if (hgw_addr_parse(s, &a) != 0)
		fail_msg("address %s refused", s);
	return a;
}

static struct hgw_prefix
P(const char *s)
{
	struct hgw_prefix p;
	const char *why = NULL;

	if (hgw_prefix_parse(s, &p, &why) != 0)
		fail_msg("prefix %s refused: %s", s, why);
	return p;
}

/* The dirty hook: counts its calls and checks it gets our argument. */
struct hook {
	int calls;
};

static void
hook_fn(void *arg)
{
	((struct hook *)arg)->calls++;
}

/* Does what fib.c does with the dirty queue: take everything, release each. */
static size_t
drain(struct rib *r)
{
	struct rib_entry *b[64];
	size_t n, i, total = 0;

	while ((n = rib_take_dirty(r, b, 64)) > 0) {
		for (i = 0; i < n; i++)
			rib_release(r, b[i]);
		total += n;
	}
	return total;
}

static size_t
npaths_of(const struct rib_entry *e)
{
	const struct rib_path *p;
	size_t n = 0;

	for (p = e->paths; p != NULL; p = p->next)
		n++;
	return n;
}

/* The documented order, written independently of rib.c: local first, then
 * lowest origin, then lowest gateway, stale last. */
static int
ref_cmp(const struct rib_path *a, const struct rib_path *b)
{
	int c;

	if ((a->peer == NULL) != (b->peer == NULL))
		return a->peer == NULL ? -1 : 1;
	if (a->origin != b->origin)
		return a->origin < b->origin ? -1 : 1;
	if ((c = hgw_addr_cmp(&a->nh->addr, &b->nh->addr)) != 0)
		return c < 0 ? -1 : 1;
	return (int)(a->flags & RIB_PATH_STALE) - (int)(b->flags & RIB_PATH_STALE);
}

static void
assert_sorted(const struct rib_entry *e)
{
	const struct rib_path *p;

	for (p = e->paths; p != NULL && p->next != NULL; p = p->next)
		if (ref_cmp(p, p->next) > 0)
			fail_msg("path list out of order: origin %u before origin %u",
			    p->origin, p->next->origin);
}

/* Every occupied slot must be reachable from its home slot without crossing
 * an empty one: the invariant that backward-shift deletion must keep. */
static void
assert_probe_invariant(const struct rib *r)
{
	size_t mask = r->nslots - 1, j, k, n = 0;

	for (j = 0; j < r->nslots; j++) {
		if (rib_slot(r, j) == NULL)
			continue;
		n++;
		for (k = rib_hash(&rib_slot(r, j)->pfx) & mask; k != j; k = (k + 1) & mask)
			if (rib_slot(r, k) == NULL)
				fail_msg("slot %zu unreachable from its home: hole at %zu", j, k);
	}
	assert_int_equal(n, r->count);
}

/* Captures what log.c writes to stderr. Nothing may fail while it runs. */
static FILE *cap_file;
static int cap_saved = -1;

static void
capture_start(void)
{
	fflush(stderr);
	cap_file = tmpfile();
	assert_non_null(cap_file);
	cap_saved = dup(2);
	dup2(fileno(cap_file), 2);
}

static void
capture_end(char *buf, size_t len)
{
	size_t n;

	fflush(stderr);
	dup2(cap_saved, 2);
	close(cap_saved);
	rewind(cap_file);
	n = fread(buf, 1, len - 1, cap_file);
	buf[n] = '\0';
	fclose(cap_file);
}

static void
test_init_destroy(void **state)
{
	struct rib r;
	struct hgw_prefix p = P("10.0.0.0/24");
	size_t n = 99;

	(void)state;
	assert_int_equal(rib_init(&r, NULL, NULL), 0);
	assert_int_equal(r.count, 0);
	assert_true(r.nslots > 0 && (r.nslots & (r.nslots - 1)) == 0);
	assert_null(rib_lookup(&r, &p));
	assert_null(rib_snapshot(&r, &n));
	assert_int_equal(n, 0);
	assert_true(rib_memory(&r) > 0);
	rib_destroy(&r);
}

static void
test_announce_replace_repeat(void **state)
{
	struct rib r;
	struct hgw_prefix p = P("10.1.0.0/24");
	struct hgw_addr g1 = A("192.0.2.1"), g2 = A("192.0.2.2");
	struct rib_entry *e;
	struct nexthop *old;

	(void)state;
	assert_int_equal(rib_init(&r, NULL, NULL), 0);
	assert_int_equal(rib_announce(&r, &p, PEER(1), 7, &g1, 100), 1);
	e = rib_lookup(&r, &p);
	assert_non_null(e);
	assert_true(hgw_prefix_eq(&e->pfx, &p));
	assert_int_equal(npaths_of(e), 1);
	assert_ptr_equal(e->paths->peer, PEER(1));
	assert_int_equal(e->paths->origin, 7);
	assert_int_equal(e->paths->since_ds, 100);
	assert_int_equal(hgw_addr_cmp(&e->paths->nh->addr, &g1), 0);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.npaths, 1);
	assert_int_equal(r.nh_count, 1);

	/* A repeat changes nothing, not even the age. */
	assert_int_equal(rib_announce(&r, &p, PEER(1), 7, &g1, 200), 0);
	assert_int_equal(npaths_of(e), 1);
	assert_int_equal(e->paths->since_ds, 100);
	assert_int_equal(r.npaths, 1);

	/* A new gateway replaces the path and restarts its age. */
	old = e->paths->nh;
	assert_int_equal(rib_announce(&r, &p, PEER(1), 7, &g2, 300), 0);
	assert_ptr_equal(rib_lookup(&r, &p), e);
	assert_int_equal(npaths_of(e), 1);
	assert_int_equal(hgw_addr_cmp(&e->paths->nh->addr, &g2), 0);
	assert_ptr_not_equal(e->paths->nh, old);
	assert_int_equal(e->paths->since_ds, 300);
	assert_int_equal(r.npaths, 1);
	assert_int_equal(r.nh_count, 1);	/* g1 is gone */

	/* Same peer, other origin; other peer, same origin: new paths. */
	assert_int_equal(rib_announce(&r, &p, PEER(1), 8, &g2, 400), 1);
	assert_int_equal(rib_announce(&r, &p, PEER(2), 7, &g2, 400), 1);
	assert_int_equal(npaths_of(e), 3);
	assert_int_equal(r.npaths, 3);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.nh_count, 1);
	assert_int_equal(e->paths->nh->refcnt, 3);
	assert_sorted(e);

	/* A local path: peer NULL. */
	assert_int_equal(rib_announce(&r, &p, NULL, 9, &g1, 500), 1);
	assert_int_equal(rib_announce(&r, &p, NULL, 9, &g1, 600), 0);
	assert_null(e->paths->peer);
	assert_int_equal(npaths_of(e), 4);
	rib_destroy(&r);
}

static void
test_withdraw(void **state)
{
	struct rib r;
	struct hgw_prefix p = P("2001:db8:1::/48"), q = P("2001:db8:2::/48");
	struct hgw_addr g = A("fe80::1");
	struct rib_entry *e;

	(void)state;
	assert_int_equal(rib_init(&r, NULL, NULL), 0);
	assert_int_equal(rib_withdraw(&r, &p, PEER(1), 1), 0);	/* unknown prefix */
	assert_null(rib_lookup(&r, &p));	/* and withdraw did not create it */
	assert_int_equal(rib_announce(&r, &p, PEER(1), 1, &g, 0), 1);
	assert_int_equal(rib_announce(&r, &p, PEER(2), 1, &g, 0), 1);
	assert_int_equal(rib_withdraw(&r, &p, PEER(1), 2), 0);	/* other origin */
	assert_int_equal(rib_withdraw(&r, &p, PEER(3), 1), 0);	/* other peer */
	assert_int_equal(rib_withdraw(&r, &p, NULL, 1), 0);	/* not local */
	assert_int_equal(rib_withdraw(&r, &q, PEER(1), 1), 0);	/* other prefix */
	assert_int_equal(r.npaths, 2);
	assert_int_equal(rib_withdraw(&r, &p, PEER(1), 1), 1);
	assert_int_equal(rib_withdraw(&r, &p, PEER(1), 1), 0);	/* already gone */
	e = rib_lookup(&r, &p);
	assert_non_null(e);
	assert_int_equal(npaths_of(e), 1);
	assert_ptr_equal(e->paths->peer, PEER(2));
	assert_int_equal(rib_withdraw(&r, &p, PEER(2), 1), 1);
	assert_int_equal(r.npaths, 0);
	assert_int_equal(r.nh_count, 0);
	/* The entry stays, empty, until the FIB releases it. */
	assert_ptr_equal(rib_lookup(&r, &p), e);
	assert_null(rib_best(e));
	assert_int_equal(r.count, 1);
	assert_int_equal(drain(&r), 1);
	assert_null(rib_lookup(&r, &p));
	assert_int_equal(r.count, 0);
	rib_destroy(&r);
}

static void
test_best_order(void **state)
{
	struct rib r;
	struct hgw_prefix p = P("10.2.0.0/16");
	struct hgw_addr g1 = A("192.0.2.1"), g2 = A("192.0.2.2"), g6 = A("2001:db8::1");
	struct rib_entry *e;
	const struct rib_path *x;

	(void)state;
	assert_int_equal(rib_init(&r, NULL, NULL), 0);
	assert_int_equal(rib_announce(&r, &p, PEER(1), 50, &g2, 0), 1);
	e = rib_lookup(&r, &p);
	assert_int_equal(rib_best(e)->origin, 50);
	/* Lower origin wins whatever the gateway. */
	assert_int_equal(rib_announce(&r, &p, PEER(2), 40, &g6, 0), 1);
	assert_int_equal(rib_best(e)->origin, 40);
	/* Same origin, lower gateway wins. */
	assert_int_equal(rib_announce(&r, &p, PEER(3), 40, &g1, 0), 1);
	assert_int_equal(rib_best(e)->origin, 40);
	assert_int_equal(hgw_addr_cmp(&rib_best(e)->nh->addr, &g1), 0);
	/* A local path wins even with the highest origin. */
	assert_int_equal(rib_announce(&r, &p, NULL, 0xffffffffu, &g6, 0), 1);
	assert_null(rib_best(e)->peer);
	assert_sorted(e);
	/* Full order: local, 40 via g1, 40 via g6, 50 via g2. */
	x = e->paths;
	assert_null(x->peer);
	x = x->next;
	assert_ptr_equal(x->peer, PEER(3));
	x = x->next;
	assert_ptr_equal(x->peer, PEER(2));
	x = x->next;
	assert_ptr_equal(x->peer, PEER(1));
	assert_null(x->next);
	/* Withdrawing the best promotes the next. */
	assert_int_equal(rib_withdraw(&r, &p, NULL, 0xffffffffu), 1);
	assert_ptr_equal(rib_best(e)->peer, PEER(3));
	assert_int_equal(rib_withdraw(&r, &p, PEER(3), 40), 1);
	assert_ptr_equal(rib_best(e)->peer, PEER(2));
	/* Replacing a gateway moves the path to its new place. */
	assert_int_equal(rib_announce(&r, &p, PEER(1), 50, &g1, 0), 0);
	assert_int_equal(rib_announce(&r, &p, PEER(2), 40, &g2, 0), 0);
	assert_sorted(e);
	assert_ptr_equal(rib_best(e)->peer, PEER(2));
	rib_destroy(&r);
}

/* Every insertion order of the same paths gives the same list. */
#define NDET 6
static const struct {
	unsigned peer;	/* 0: local */
	uint32_t origin;
	const char *gw;
} det_paths[NDET] = {
	{ 1, 30, "10.9.0.3" },
	{ 2, 10, "10.9.0.9" },
	{ 3, 10, "10.9.0.2" },
	{ 0, 99, "10.9.0.1" },
	{ 4, 20, "2001:db8::1" },
	{ 5, 20, "10.9.0.200" },
};
/* Expected order by index. */
static const int det_expect[NDET] = { 3, 2, 1, 5, 4, 0 };

static void
det_check(const int *order)
{
	struct rib r;
	struct hgw_prefix p = P("172.16.0.0/12");
	struct rib_entry *e;
	const struct rib_path *x;
	int i;

	struct hgw_addr g[NDET];
	int rc[NDET];
	char log[1024];

	assert_int_equal(rib_init(&r, NULL, NULL), 0);
	for (i = 0; i < NDET; i++)
		g[i] = A(det_paths[order[i]].gw);
	capture_start();	/* each run logs its conflict */
	for (i = 0; i < NDET; i++) {
		int k = order[i];

		rc[i] = rib_announce(&r, &p, det_paths[k].peer ? PEER(det_paths[k].peer) : NULL,
		    det_paths[k].origin, &g[i], 0);
	}
	capture_end(log, sizeof(log));
	for (i = 0; i < NDET; i++)
		assert_int_equal(rc[i], 1);
	e = rib_lookup(&r, &p);
	for (i = 0, x = e->paths; i < NDET; i++, x = x->next) {
		int k = det_expect[i];

		assert_non_null(x);
		assert_ptr_equal(x->peer, det_paths[k].peer ? PEER(det_paths[k].peer) : NULL);
		assert_int_equal(x->origin, det_paths[k].origin);
	}
	assert_null(x);
	/* The conflict flag does not depend on the order either. */
	assert_true(e->flags & RIB_E_CONFLICT);
	assert_int_equal(r.nconflicts, 1);
	rib_destroy(&r);
}

static void
permute(int *a, int k, int n, int *count)
{
	int i, t;

	if (k == n) {
		det_check(a);
		(*count)++;
		return;
	}
	for (i = k; i < n; i++) {
		t = a[k], a[k] = a[i], a[i] = t;
		permute(a, k + 1, n, count);
		t = a[k], a[k] = a[i], a[i] = t;
	}
}

static void
test_best_deterministic(void **state)
{
	int order[NDET] = { 0, 1, 2, 3, 4, 5 }, count = 0;

	(void)state;
	permute(order, 0, NDET, &count);
	assert_int_equal(count, 720);
}

static void
test_conflict(void **state)
{
	struct rib r;
	struct hgw_prefix p = P("10.3.0.0/24"), q = P("10.4.0.0/24");
	struct hgw_addr g1 = A("192.0.2.1"), g2 = A("192.0.2.2");
	struct rib_entry *e, *f;
	char log[2048];
	size_t dropped;
	int rc;

	(void)state;
	assert_int_equal(rib_init(&r, NULL, NULL), 0);
	assert_int_equal(rib_announce(&r, &p, PEER(1), 5, &g1, 0), 1);
	e = rib_lookup(&r, &p);
	assert_false(e->flags & RIB_E_CONFLICT);
	/* The same origin through another peer and gateway: no conflict. */
	assert_int_equal(rib_announce(&r, &p, PEER(2), 5, &g2, 0), 1);
	assert_false(e->flags & RIB_E_CONFLICT);
	assert_int_equal(r.nconflicts, 0);

	capture_start();
	rc = rib_announce(&r, &p, PEER(3), 6, &g2, 0);
	capture_end(log, sizeof(log));
	assert_int_equal(rc, 1);
	assert_true(e->flags & RIB_E_CONFLICT);
	assert_int_equal(r.nconflicts, 1);
	assert_non_null(strstr(log,
	    "conflict: 10.3.0.0/24 is claimed by node 0.0.0.5 and node 0.0.0.6; 0.0.0.5 wins"));

	/* A third origin: still one conflicting prefix. */
	capture_start();
	rc = rib_announce(&r, &p, PEER(3), 7, &g2, 0);
	capture_end(log, sizeof(log));
	assert_int_equal(rc, 1);
	assert_int_equal(r.nconflicts, 1);
	assert_null(strstr(log, "conflict"));	/* no new report */

	/* A second prefix in conflict, with our own network winning. */
	assert_int_equal(rib_announce(&r, &q, PEER(1), 1, &g1, 0), 1);
	capture_start();
	rc = rib_announce(&r, &q, NULL, 9, &g2, 0);
	capture_end(log, sizeof(log));
	assert_int_equal(rc, 1);
	f = rib_lookup(&r, &q);
	assert_true(f->flags & RIB_E_CONFLICT);
	assert_int_equal(r.nconflicts, 2);
	assert_non_null(strstr(log, "conflict: 10.4.0.0/24 is claimed by node 0.0.0.9 and node 0.0.0.1; our own network wins"));

	/* Back to one origin: resolved, counted down once. */
	assert_int_equal(rib_withdraw(&r, &p, PEER(3), 7), 1);
	assert_true(e->flags & RIB_E_CONFLICT);
	assert_int_equal(r.nconflicts, 2);
	capture_start();
	rc = rib_withdraw(&r, &p, PEER(3), 6);
	capture_end(log, sizeof(log));
	assert_int_equal(rc, 1);
	assert_false(e->flags & RIB_E_CONFLICT);
	assert_int_equal(r.nconflicts, 1);
	assert_non_null(strstr(log, "conflict over 10.3.0.0/24 resolved"));
	/* Withdrawing a same-origin path keeps it resolved. */
	assert_int_equal(rib_withdraw(&r, &p, PEER(2), 5), 1);
	assert_false(e->flags & RIB_E_CONFLICT);
	assert_int_equal(r.nconflicts, 1);

	/* Dropping a peer resolves too; the last path gone, nothing is left. */
	capture_start();
	dropped = rib_drop_peer(&r, PEER(1), 0);
	capture_end(log, sizeof(log));
	assert_int_equal(dropped, 2);
	assert_non_null(strstr(log, "conflict over 10.4.0.0/24 resolved"));
	assert_false(f->flags & RIB_E_CONFLICT);
	assert_int_equal(r.nconflicts, 0);
	assert_null(e->paths);
	assert_int_equal(rib_withdraw(&r, &q, NULL, 9), 1);
	assert_null(f->paths);
	assert_int_equal(drain(&r), 2);
	assert_int_equal(r.count, 0);
	assert_int_equal(r.nconflicts, 0);
	assert_int_equal(r.nh_count, 0);
	rib_destroy(&r);
}

static void
test_stale(void **state)
{
	struct rib r;
	struct hgw_prefix p = P("10.5.0.0/24"), q = P("10.6.0.0/24"), s = P("10.7.0.0/24");
	struct hgw_addr g1 = A("192.0.2.1"), g2 = A("192.0.2.2");
	struct rib_entry *e, *f, *h;
	struct hook hk = { 0 };
	struct rib_entry *out[8];

	(void)state;
	assert_int_equal(rib_init(&r, hook_fn, &hk), 0);
	/* Two peers with the same path (same origin and gateway), peer 1 first. */
	assert_int_equal(rib_announce(&r, &p, PEER(1), 5, &g1, 10), 1);
	assert_int_equal(rib_announce(&r, &p, PEER(2), 5, &g1, 20), 1);
	assert_int_equal(rib_announce(&r, &q, PEER(1), 5, &g1, 10), 1);
	assert_int_equal(rib_announce(&r, &s, PEER(2), 5, &g2, 10), 1);
	e = rib_lookup(&r, &p);
	f = rib_lookup(&r, &q);
	h = rib_lookup(&r, &s);
	assert_ptr_equal(rib_best(e)->peer, PEER(1));
	drain(&r);

	assert_int_equal(rib_mark_peer_stale(&r, PEER(1)), 2);
	assert_int_equal(rib_mark_peer_stale(&r, PEER(9)), 0);
	assert_true(f->paths->flags & RIB_PATH_STALE);
	assert_false(h->paths->flags & RIB_PATH_STALE);
	/* Stale paths sort after equal fresh ones. */
	assert_sorted(e);
	assert_ptr_equal(rib_best(e)->peer, PEER(2));
	assert_false(rib_best(e)->flags & RIB_PATH_STALE);
	assert_true(e->paths->next->flags & RIB_PATH_STALE);
	assert_int_equal(r.npaths, 4);

	/* The peer comes back and announces q again, same gateway: the stale
	 * flag goes, the age stays, and it counts as a replacement. */
	assert_int_equal(rib_announce(&r, &q, PEER(1), 5, &g1, 99), 0);
	assert_false(f->paths->flags & RIB_PATH_STALE);
	assert_int_equal(f->paths->since_ds, 10);
	assert_int_equal(rib_take_dirty(&r, out, 8), 1);
	assert_ptr_equal(out[0], f);

	/* END-OF-RIB: the sweep removes only peer 1's stale paths. */
	assert_int_equal(rib_drop_peer(&r, PEER(1), 1), 1);
	assert_int_equal(npaths_of(e), 1);
	assert_ptr_equal(e->paths->peer, PEER(2));
	assert_int_equal(npaths_of(f), 1);
	assert_int_equal(npaths_of(h), 1);
	assert_int_equal(r.npaths, 3);
	assert_int_equal(rib_take_dirty(&r, out, 8), 1);
	assert_ptr_equal(out[0], e);
	/* A second sweep finds nothing. */
	assert_int_equal(rib_drop_peer(&r, PEER(1), 1), 0);
	assert_int_equal(rib_take_dirty(&r, out, 8), 0);

	/* Stale, then refreshed with a new gateway: fresh, new age. */
	assert_int_equal(rib_mark_peer_stale(&r, PEER(2)), 2);
	assert_int_equal(rib_announce(&r, &s, PEER(2), 5, &g1, 50), 0);
	assert_false(h->paths->flags & RIB_PATH_STALE);
	assert_int_equal(h->paths->since_ds, 50);
	assert_int_equal(rib_drop_peer(&r, PEER(2), 1), 1);	/* only p's */
	assert_null(e->paths);
	assert_non_null(h->paths);
	rib_destroy(&r);
}

static void
test_drop_peer(void **state)
{
	struct rib r;
	struct hgw_addr g1 = A("192.0.2.1"), g2 = A("192.0.2.2");
	struct rib_entry *out[300];
	char buf[64];
	int i;

	(void)state;
	assert_int_equal(rib_init(&r, NULL, NULL), 0);
	for (i = 0; i < 100; i++) {
		struct hgw_prefix p;

		snprintf(buf, sizeof(buf), "10.8.%d.0/24", i);
		p = P(buf);
		assert_int_equal(rib_announce(&r, &p, PEER(1), 3, &g1, 0), 1);
		if (i % 2 == 0)
			assert_int_equal(rib_announce(&r, &p, PEER(2), 3, &g2, 0), 1);
		if (i % 5 == 0)
			assert_int_equal(rib_announce(&r, &p, NULL, 3, &g2, 0), 1);
	}
	assert_int_equal(rib_take_dirty(&r, out, 300), 100);
	assert_int_equal(r.npaths, 100 + 50 + 20);
	assert_int_equal(rib_drop_peer(&r, PEER(3), 0), 0);
	assert_int_equal(rib_take_dirty(&r, out, 300), 0);	/* nothing touched */
	assert_int_equal(rib_drop_peer(&r, PEER(1), 0), 100);
	assert_int_equal(r.npaths, 70);
	assert_int_equal(rib_take_dirty(&r, out, 300), 100);
	assert_int_equal(rib_drop_peer(&r, PEER(1), 0), 0);
	assert_int_equal(rib_drop_peer(&r, PEER(2), 0), 50);
	assert_int_equal(r.npaths, 20);
	assert_int_equal(rib_take_dirty(&r, out, 300), 50);
	/* Dirty entries are released by the caller; only the local ones remain. */
	for (i = 0; i < 50; i++)
		rib_release(&r, out[i]);
	/* The 40 emptied ones are gone; the 50 taken before were not released. */
	assert_int_equal(r.count, 60);
	for (i = 0; i < 100; i++) {
		struct hgw_prefix p;
		struct rib_entry *e;

		snprintf(buf, sizeof(buf), "10.8.%d.0/24", i);
		p = P(buf);
		e = rib_lookup(&r, &p);
		if (i % 5 == 0) {
			assert_non_null(e);
			assert_int_equal(npaths_of(e), 1);
			assert_null(e->paths->peer);
		} else if (e != NULL)
			assert_null(e->paths);
	}
	assert_int_equal(r.nh_count, 1);
	rib_destroy(&r);
}

static void
test_dirty_queue(void **state)
{
	struct rib r;
	struct hook hk = { 0 };
	struct hgw_addr g = A("192.0.2.1");
	struct hgw_prefix p[5];
	struct rib_entry *e[5], *out[10];
	char buf[64];
	int i;

	(void)state;
	assert_int_equal(rib_init(&r, hook_fn, &hk), 0);
	for (i = 0; i < 5; i++) {
		snprintf(buf, sizeof(buf), "10.10.%d.0/24", i);
		p[i] = P(buf);
	}
	/* The first change calls the hook; later ones while queued do not. */
	assert_int_equal(rib_announce(&r, &p[0], PEER(1), 1, &g, 0), 1);
	assert_int_equal(hk.calls, 1);
	e[0] = rib_lookup(&r, &p[0]);
	assert_true(e[0]->flags & RIB_E_DIRTY);
	assert_int_equal(rib_announce(&r, &p[0], PEER(2), 1, &g, 0), 1);
	assert_int_equal(rib_announce(&r, &p[1], PEER(1), 1, &g, 0), 1);
	assert_int_equal(rib_announce(&r, &p[2], PEER(1), 1, &g, 0), 1);
	assert_int_equal(rib_announce(&r, &p[1], PEER(2), 1, &g, 0), 1);
	assert_int_equal(hk.calls, 1);
	e[1] = rib_lookup(&r, &p[1]);
	e[2] = rib_lookup(&r, &p[2]);
	/* Each entry once, first-come first-out, partial takes. */
	assert_int_equal(rib_take_dirty(&r, out, 2), 2);
	assert_ptr_equal(out[0], e[0]);
	assert_ptr_equal(out[1], e[1]);
	assert_false(e[0]->flags & RIB_E_DIRTY);
	assert_false(e[1]->flags & RIB_E_DIRTY);
	assert_true(e[2]->flags & RIB_E_DIRTY);
	/* Re-queued while others wait: behind them, and no hook call. */
	rib_mark_dirty(&r, e[0]);
	rib_mark_dirty(&r, e[0]);
	assert_int_equal(hk.calls, 1);
	assert_int_equal(rib_take_dirty(&r, out, 0), 0);
	assert_int_equal(rib_take_dirty(&r, out, 10), 2);
	assert_ptr_equal(out[0], e[2]);
	assert_ptr_equal(out[1], e[0]);
	assert_int_equal(rib_take_dirty(&r, out, 10), 0);
	/* Empty again: the next change calls the hook again. */
	assert_int_equal(rib_announce(&r, &p[0], PEER(2), 1, &g, 5), 0);	/* repeat */
	assert_int_equal(hk.calls, 1);
	assert_int_equal(rib_take_dirty(&r, out, 10), 0);
	assert_int_equal(rib_withdraw(&r, &p[1], PEER(2), 1), 1);
	assert_int_equal(hk.calls, 2);
	assert_int_equal(rib_withdraw(&r, &p[1], PEER(2), 1), 0);
	assert_int_equal(rib_withdraw(&r, &p[4], PEER(2), 1), 0);
	assert_int_equal(hk.calls, 2);
	/* Entries from rib_get (the kernel dump) queue like any other. */
	e[3] = rib_get(&r, &p[3]);
	assert_non_null(e[3]);
	assert_ptr_equal(rib_get(&r, &p[3]), e[3]);
	assert_false(e[3]->flags & RIB_E_DIRTY);
	rib_mark_dirty(&r, e[3]);
	assert_int_equal(hk.calls, 2);
	/* A long queue, taken in small pieces, keeps its order. */
	for (i = 0; i < 3; i++)
		rib_mark_dirty(&r, e[i]);
	assert_int_equal(rib_take_dirty(&r, out, 1), 1);
	assert_ptr_equal(out[0], e[1]);
	assert_int_equal(rib_take_dirty(&r, out, 1), 1);
	assert_ptr_equal(out[0], e[3]);
	rib_mark_dirty(&r, e[1]);	/* taken already: queued again, at the end */
	assert_int_equal(hk.calls, 2);
	assert_int_equal(rib_take_dirty(&r, out, 10), 3);
	assert_ptr_equal(out[0], e[0]);
	assert_ptr_equal(out[1], e[2]);
	assert_ptr_equal(out[2], e[1]);
	assert_int_equal(r.ndirty - r.dirty_head, 0);

	/* No hook at all is fine. */
	r.dirty_fn = NULL;
	rib_mark_dirty(&r, e[3]);
	assert_int_equal(rib_take_dirty(&r, out, 10), 1);
	rib_destroy(&r);
}

/* Thousands of changes: one hook call, each entry once, in order. */
static void
test_dirty_many(void **state)
{
	struct rib r;
	struct hook hk = { 0 };
	struct hgw_addr g = A("192.0.2.1");
	struct rib_entry **out;
	int i, n = 5000;

	(void)state;
	assert_int_equal(rib_init(&r, hook_fn, &hk), 0);
	out = calloc((size_t)n, sizeof(*out));
	for (i = 0; i < n; i++) {
		struct hgw_prefix p;

		memset(&p, 0, sizeof(p));
		p.family = AF_INET;
		p.plen = 32;
		p.bytes[0] = 10;
		p.bytes[1] = (uint8_t)(i >> 16);
		p.bytes[2] = (uint8_t)(i >> 8);
		p.bytes[3] = (uint8_t)i;
		assert_int_equal(rib_announce(&r, &p, PEER(1), 1, &g, 0), 1);
		/* announcing again through another peer: still queued once */
		assert_int_equal(rib_announce(&r, &p, PEER(2), 1, &g, 0), 1);
	}
	assert_int_equal(hk.calls, 1);
	assert_int_equal(rib_take_dirty(&r, out, (size_t)n + 1), (size_t)n);
	for (i = 0; i < n; i++) {
		assert_int_equal(out[i]->pfx.bytes[2], (uint8_t)(i >> 8));
		assert_int_equal(out[i]->pfx.bytes[3], (uint8_t)i);
	}
	free(out);
	rib_destroy(&r);
}

static void
test_release(void **state)
{
	struct rib r;
	struct hgw_prefix p = P("10.11.0.0/24");
	struct hgw_addr g = A("192.0.2.1");
	struct rib_entry *e, *out[4];

	(void)state;
	assert_int_equal(rib_init(&r, NULL, NULL), 0);
	assert_int_equal(rib_announce(&r, &p, PEER(1), 1, &g, 0), 1);
	e = rib_lookup(&r, &p);
	assert_int_equal(rib_take_dirty(&r, out, 4), 1);
	/* Has a path: kept. */
	rib_release(&r, e);
	assert_ptr_equal(rib_lookup(&r, &p), e);
	assert_int_equal(r.count, 1);
	/* No path, but dirty: kept. */
	assert_int_equal(rib_withdraw(&r, &p, PEER(1), 1), 1);
	assert_true(e->flags & RIB_E_DIRTY);
	rib_release(&r, e);
	assert_ptr_equal(rib_lookup(&r, &p), e);
	assert_int_equal(rib_take_dirty(&r, out, 4), 1);
	/* No path, not dirty, but the kernel holds a route: kept. */
	e->fib_nh = rib_nh_get(&r, &g);
	rib_release(&r, e);
	assert_ptr_equal(rib_lookup(&r, &p), e);
	/* ... and in a kernel batch: kept. */
	rib_nh_put(&r, e->fib_nh);
	e->fib_nh = NULL;
	e->flags |= RIB_E_PENDING;
	rib_release(&r, e);
	assert_ptr_equal(rib_lookup(&r, &p), e);
	assert_int_equal(r.count, 1);
	/* Nothing left: freed. SEEN does not matter. */
	e->flags = RIB_E_SEEN;
	rib_release(&r, e);
	assert_null(rib_lookup(&r, &p));
	assert_int_equal(r.count, 0);
	assert_int_equal(r.nh_count, 0);
	/* The prefix can come back, in a fresh entry. */
	assert_int_equal(rib_announce(&r, &p, PEER(1), 1, &g, 0), 1);
	e = rib_lookup(&r, &p);
	assert_non_null(e);
	assert_int_equal(e->flags, RIB_E_DIRTY);
	assert_null(e->fib_nh);
	assert_int_equal(e->fib_err, 0);
	assert_int_equal(r.count, 1);
	/* An entry that only ever came from rib_get goes with one release. */
	{
		struct hgw_prefix q = P("10.12.0.0/24");
		struct rib_entry *f = rib_get(&r, &q);

		assert_int_equal(r.count, 2);
		rib_release(&r, f);
		assert_null(rib_lookup(&r, &q));
		assert_int_equal(r.count, 1);
	}
	rib_destroy(&r);
}

static void
test_nexthops(void **state)
{
	struct rib r;
	struct hgw_addr g1 = A("192.0.2.1"), g2 = A("192.0.2.2"), g6 = A("2001:db8::1");
	struct hgw_addr v4mapped = A("::ffff:192.0.2.1");
	struct nexthop *n1, *n2, *n6, *nm;
	char buf[64];
	int i;

	(void)state;
	assert_int_equal(rib_init(&r, NULL, NULL), 0);
	n1 = rib_nh_get(&r, &g1);
	assert_non_null(n1);
	assert_int_equal(n1->refcnt, 1);
	assert_ptr_equal(rib_nh_get(&r, &g1), n1);
	assert_int_equal(n1->refcnt, 2);
	n2 = rib_nh_get(&r, &g2);
	n6 = rib_nh_get(&r, &g6);
	nm = rib_nh_get(&r, &v4mapped);
	assert_ptr_not_equal(n1, n2);
	assert_ptr_not_equal(n1, nm);
	assert_int_equal(r.nh_count, 4);
	rib_nh_put(&r, n1);
	assert_int_equal(r.nh_count, 4);
	rib_nh_put(&r, n1);
	assert_int_equal(r.nh_count, 3);
	rib_nh_put(&r, NULL);	/* allowed */
	rib_nh_put(&r, n2);
	rib_nh_put(&r, n6);
	rib_nh_put(&r, nm);
	assert_int_equal(r.nh_count, 0);

	/* Paths share gateways; many gateways grow the table. */
	for (i = 0; i < 1000; i++) {
		struct hgw_prefix p;
		struct hgw_addr g;

		snprintf(buf, sizeof(buf), "10.%d.%d.0/24", 100 + i / 256, i % 256);
		p = P(buf);
		snprintf(buf, sizeof(buf), "192.168.%d.%d", i / 200, i % 200 + 1);
		g = A(buf);
		assert_int_equal(rib_announce(&r, &p, PEER(1), 1, &g, 0), 1);
		assert_int_equal(rib_announce(&r, &p, PEER(2), 1, &g1, 0), 1);
	}
	assert_int_equal(r.nh_count, 1001);
	assert_true(r.nh_nslots >= 1001);
	n1 = rib_nh_get(&r, &g1);
	assert_int_equal(n1->refcnt, 1001);
	rib_nh_put(&r, n1);
	/* Every nexthop is still found after the growth. */
	for (i = 0; i < 1000; i++) {
		struct hgw_prefix p;
		struct hgw_addr g;
		struct rib_entry *e;

		snprintf(buf, sizeof(buf), "10.%d.%d.0/24", 100 + i / 256, i % 256);
		p = P(buf);
		snprintf(buf, sizeof(buf), "192.168.%d.%d", i / 200, i % 200 + 1);
		g = A(buf);
		e = rib_lookup(&r, &p);
		assert_non_null(e);
		n2 = rib_nh_get(&r, &g);
		assert_int_equal(n2->refcnt, 2);
		assert_true(e->paths->nh == n2 || e->paths->next->nh == n2);
		rib_nh_put(&r, n2);
	}
	/* Replacing every gateway with g2 frees the 1000 others. */
	for (i = 0; i < 1000; i++) {
		struct hgw_prefix p;

		snprintf(buf, sizeof(buf), "10.%d.%d.0/24", 100 + i / 256, i % 256);
		p = P(buf);
		assert_int_equal(rib_announce(&r, &p, PEER(1), 1, &g2, 0), 0);
	}
	assert_int_equal(r.nh_count, 2);
	assert_int_equal(rib_drop_peer(&r, PEER(1), 0), 1000);
	assert_int_equal(r.nh_count, 1);
	/* The FIB's reference keeps a gateway alive past its paths. */
	{
		struct hgw_prefix p = P("10.100.0.0/24");
		struct rib_entry *e = rib_lookup(&r, &p);

		e->fib_nh = rib_nh_get(&r, &g1);
		assert_int_equal(rib_drop_peer(&r, PEER(2), 0), 1000);
		assert_int_equal(r.nh_count, 1);
		assert_int_equal(e->fib_nh->refcnt, 1);
		drain(&r);
		assert_ptr_equal(rib_lookup(&r, &p), e);	/* kernel still holds it */
		assert_int_equal(r.count, 1);
		rib_nh_put(&r, e->fib_nh);
		e->fib_nh = NULL;
		rib_release(&r, e);
	}
	assert_int_equal(r.count, 0);
	assert_int_equal(r.npaths, 0);
	assert_int_equal(r.nh_count, 0);
	assert_int_equal(r.entry_pool.in_use, 0);
	assert_int_equal(r.path_pool.in_use, 0);
	rib_destroy(&r);
}

static void
count_entry(void *arg, struct rib_entry *e)
{
	(void)e;
	(*(size_t *)arg)++;
}

static void
test_snapshot_foreach(void **state)
{
	static const char *in[] = {
		"2001:db8::/32", "10.0.0.0/8", "10.0.0.0/16", "192.0.2.0/24",
		"10.0.0.0/24", "2001:db8::/48", "9.0.0.0/8", "fd00::/8",
	};
	static const char *sorted[] = {
		"9.0.0.0/8", "10.0.0.0/8", "10.0.0.0/16", "10.0.0.0/24",
		"192.0.2.0/24", "2001:db8::/32", "2001:db8::/48", "fd00::/8",
	};
	struct rib r;
	struct hgw_addr g = A("192.0.2.1");
	struct hgw_prefix *snap;
	char buf[HGW_ADDRSTRLEN];
	size_t n, i;

	(void)state;
	assert_int_equal(rib_init(&r, NULL, NULL), 0);
	for (i = 0; i < 8; i++) {
		struct hgw_prefix p = P(in[i]);

		assert_int_equal(rib_announce(&r, &p, PEER(1), 1, &g, 0), 1);
	}
	snap = rib_snapshot(&r, &n);
	assert_non_null(snap);
	assert_int_equal(n, 8);
	for (i = 0; i < n; i++)
		assert_string_equal(hgw_prefix_fmt(&snap[i], buf, sizeof(buf)), sorted[i]);
	free(snap);
	/* foreach visits every entry once, path-less ones included. */
	{
		struct hgw_prefix q = P("198.51.100.0/24");

		assert_non_null(rib_get(&r, &q));
	}
	n = 0;
	rib_foreach(&r, count_entry, &n);
	assert_int_equal(n, 9);
	snap = rib_snapshot(&r, &n);
	assert_int_equal(n, 9);
	assert_string_equal(hgw_prefix_fmt(&snap[5], buf, sizeof(buf)), "198.51.100.0/24");
	free(snap);
	rib_destroy(&r);
}

/* A deterministic PRNG (splitmix64), the same on every libc. */
static uint64_t rng = 0x5eed5eed12345678ull;

static uint64_t
rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int
cmp_pfx(const void *a, const void *b)
{
	return hgw_prefix_cmp(a, b);
}

/* Backward-shift deletion across the end of the table: prefixes whose home
 * slots are the last two and the first slot, deleted in every order. */
static void
test_hash_wraparound(void **state)
{
	struct rib r;
	struct hgw_prefix pf[7];
	int want[7] = { 1022, 1022, 1023, 1023, 1023, 0, 0 }, got = 0, i, j;
	uint32_t x;
	int perm[7], idx[7], t;
	size_t nperm = 0;

	(void)state;
	assert_int_equal(rib_init(&r, NULL, NULL), 0);
	assert_int_equal(r.nslots, 1024);	/* the test needs this size */
	rib_destroy(&r);
	for (i = 0; i < 7; i++)
		idx[i] = 0;
	for (x = 0; got < 7 && x < 10000000; x++) {
		struct hgw_prefix p;

		memset(&p, 0, sizeof(p));
		p.family = AF_INET;
		p.plen = 24;
		p.bytes[0] = 10;
		p.bytes[1] = (uint8_t)(x >> 8);
		p.bytes[2] = (uint8_t)x;
		for (i = 0; i < 7; i++)
			if (!idx[i] && (int)(rib_hash(&p) & 1023) == want[i]) {
				pf[i] = p;
				idx[i] = 1;
				got++;
				break;
			}
	}
	assert_int_equal(got, 7);

	/* Every deletion order of the 7 (5040), all inserted in a fixed order. */
	for (i = 0; i < 7; i++)
		perm[i] = i;
	for (;;) {
		struct hgw_addr g = A("192.0.2.1");
		struct rib_entry *e;

		assert_int_equal(rib_init(&r, NULL, NULL), 0);
		for (i = 0; i < 7; i++)
			assert_int_equal(rib_announce(&r, &pf[i], PEER(1), 1, &g, 0), 1);
		drain(&r);
		assert_probe_invariant(&r);
		for (i = 0; i < 7; i++) {
			assert_int_equal(rib_withdraw(&r, &pf[perm[i]], PEER(1), 1), 1);
			drain(&r);
			assert_null(rib_lookup(&r, &pf[perm[i]]));
			assert_probe_invariant(&r);
			for (j = i + 1; j < 7; j++) {
				e = rib_lookup(&r, &pf[perm[j]]);
				if (e == NULL || !hgw_prefix_eq(&e->pfx, &pf[perm[j]]))
					fail_msg("order %d: lost prefix %d after deleting %d",
					    (int)nperm, perm[j], perm[i]);
			}
		}
		assert_int_equal(r.count, 0);
		rib_destroy(&r);
		nperm++;
		/* next permutation */
		for (i = 5; i >= 0 && perm[i] > perm[i + 1]; i--)
			;
		if (i < 0)
			break;
		for (j = 6; perm[j] < perm[i]; j--)
			;
		t = perm[i], perm[i] = perm[j], perm[j] = t;
		for (j = 6, i++; i < j; i++, j--)
			t = perm[i], perm[i] = perm[j], perm[j] = t;
	}
	assert_int_equal(nperm, 5040);
}

struct stress {
	struct rib r;
	struct hgw_prefix *pool;	/* sorted, unique */
	uint8_t *present;
	size_t n, npresent;
	struct hgw_addr gw[8];
};

static void
stress_set(struct stress *s, size_t i, int on)
{
	const struct hgw_prefix *p = &s->pool[i];
	uint32_t origin = (uint32_t)(i % 5) + 1;

	if (on) {
		assert_int_equal(rib_announce(&s->r, p, PEER(1), origin, &s->gw[i % 8], 0),
		    s->present[i] ? 0 : 1);
		if (!s->present[i])
			s->npresent++;
	} else {
		assert_int_equal(rib_withdraw(&s->r, p, PEER(1), origin), s->present[i] ? 1 : 0);
		if (s->present[i])
			s->npresent--;
	}
	s->present[i] = (uint8_t)on;
}

/* After a drain, the RIB must hold exactly the present prefixes. */
static void
stress_verify(struct stress *s)
{
	struct hgw_prefix *snap;
	size_t i, k = 0, n;

	drain(&s->r);
	assert_int_equal(s->r.count, s->npresent);
	assert_int_equal(s->r.npaths, s->npresent);
	for (i = 0; i < s->n; i++) {
		struct rib_entry *e = rib_lookup(&s->r, &s->pool[i]);

		if (s->present[i]) {
			if (e == NULL || !hgw_prefix_eq(&e->pfx, &s->pool[i]) || e->paths == NULL)
				fail_msg("prefix %zu missing", i);
		} else if (e != NULL)
			fail_msg("prefix %zu still there", i);
	}
	snap = rib_snapshot(&s->r, &n);
	assert_int_equal(n, s->npresent);
	for (i = 0; i < s->n; i++)
		if (s->present[i]) {
			if (!hgw_prefix_eq(&snap[k], &s->pool[i]))
				fail_msg("snapshot differs at %zu", k);
			k++;
		}
	free(snap);
	assert_probe_invariant(&s->r);
}

static void
test_hash_stress(void **state)
{
	struct stress s;
	size_t want = 200000, i, j, *order;
	char buf[64];

	(void)state;
	memset(&s, 0, sizeof(s));
	rng = 0x5eed5eed12345678ull;
	s.pool = calloc(want, sizeof(*s.pool));
	assert_non_null(s.pool);
	for (i = 0; i < want; i++) {
		struct hgw_prefix *p = &s.pool[i];
		uint64_t v = rnd(), w = rnd();

		p->family = (v & 1) ? AF_INET : AF_INET6;
		if (p->family == AF_INET)
			p->plen = (uint8_t)(16 + (v >> 8) % 17);
		else
			p->plen = (uint8_t)(32 + (v >> 8) % 97);
		memcpy(p->bytes, &v, 8);
		memcpy(p->bytes + 8, &w, 8);
		if (p->family == AF_INET)
			memset(p->bytes + 4, 0, 12);
		hgw_prefix_mask(p);
	}
	qsort(s.pool, want, sizeof(*s.pool), cmp_pfx);
	for (i = 0, j = 0; i < want; i++)
		if (j == 0 || !hgw_prefix_eq(&s.pool[j - 1], &s.pool[i]))
			s.pool[j++] = s.pool[i];
	s.n = j;
	assert_true(s.n > 190000);
	s.present = calloc(s.n, 1);
	order = calloc(s.n, sizeof(*order));
	assert_non_null(s.present);
	assert_non_null(order);
	for (i = 0; i < 8; i++) {
		snprintf(buf, sizeof(buf), "%s%zu", i % 2 ? "2001:db8::" : "192.0.2.", i + 1);
		s.gw[i] = A(buf);
	}
	assert_int_equal(rib_init(&s.r, NULL, NULL), 0);

	/* Insert everything in random order. */
	for (i = 0; i < s.n; i++)
		order[i] = i;
	for (i = s.n - 1; i > 0; i--) {
		size_t k = (size_t)(rnd() % (i + 1)), t = order[i];

		order[i] = order[k];
		order[k] = t;
	}
	for (i = 0; i < s.n; i++) {
		stress_set(&s, order[i], 1);
		if (i % 4096 == 0)
			drain(&s.r);
	}
	stress_verify(&s);

	/* Delete a random half, releasing as the FIB would, in rounds. */
	for (i = 0; i < s.n / 2; i++) {
		stress_set(&s, order[i], 0);
		if (rnd() % 512 == 0)
			drain(&s.r);
	}
	stress_verify(&s);

	/* Random toggles, with checkpoints. */
	for (i = 1; i <= 600000; i++) {
		size_t k = (size_t)(rnd() % s.n);

		stress_set(&s, k, !s.present[k]);
		if (rnd() % 256 == 0)
			drain(&s.r);
		if (i % 200000 == 0)
			stress_verify(&s);
	}

	/* Delete all. */
	for (i = 0; i < s.n; i++)
		if (s.present[i])
			stress_set(&s, i, 0);
	stress_verify(&s);
	assert_int_equal(s.r.count, 0);
	assert_int_equal(s.r.npaths, 0);
	assert_int_equal(s.r.nh_count, 0);
	assert_int_equal(s.r.entry_pool.in_use, 0);
	assert_int_equal(s.r.path_pool.in_use, 0);
	rib_destroy(&s.r);
	free(order);
	free(s.present);
	free(s.pool);
}

static void
print_memory(const char *what, const struct rib *r)
{
	size_t m = rib_memory(r);

	print_message("rib_memory %s: %zu bytes for %zu routes = %.1f bytes/route "
	    "(entries %.1f, paths %.1f, slots %.1f, dirty queue %.1f)\n", what, m,
	    r->count, (double)m / (double)r->count,
	    (double)pool_bytes(&r->entry_pool) / (double)r->count,
	    (double)pool_bytes(&r->path_pool) / (double)r->count,
	    (double)(r->nslots * sizeof(*r->slots)) / (double)r->count,
	    (double)(r->dirty_cap * sizeof(*r->dirty)) / (double)r->count);
}

static void
mark_all(void *arg, struct rib_entry *e)
{
	rib_mark_dirty(arg, e);
}

/* 1M /24s with one path each, the queue drained in rounds of 8192 as
 * fib.c's flush does between reads. */
static void
test_memory(void **state)
{
	struct rib r;
	struct hgw_addr g = A("192.0.2.1");
	struct rib_entry **out;
	size_t i, n = 1000000, m;

	(void)state;
	assert_int_equal(rib_init(&r, NULL, NULL), 0);
	out = calloc(8192, sizeof(*out));
	assert_non_null(out);
	for (i = 0; i < n; i++) {
		struct hgw_prefix p;
		uint32_t a = (uint32_t)(0x01000000u + (i << 8));

		memset(&p, 0, sizeof(p));
		p.family = AF_INET;
		p.plen = 24;
		p.bytes[0] = (uint8_t)(a >> 24);
		p.bytes[1] = (uint8_t)(a >> 16);
		p.bytes[2] = (uint8_t)(a >> 8);
		assert_int_equal(rib_announce(&r, &p, PEER(1), 2, &g, 0), 1);
		if (r.ndirty - r.dirty_head >= 8192)
			while (rib_take_dirty(&r, out, 8192) > 0)
				;
	}
	while (rib_take_dirty(&r, out, 8192) > 0)
		;
	assert_int_equal(r.count, n);
	assert_int_equal(r.npaths, n);
	assert_int_equal(r.nh_count, 1);
	m = rib_memory(&r);
	print_memory("after loading", &r);
	assert_true(m >= n * (sizeof(struct rib_entry) + sizeof(struct rib_path)));
	if (m >= 100 * n)
		fail_msg("%.1f bytes per route, not below 100", (double)m / (double)n);

	/* fib.c's resync marks every entry at once: the queue grows to hold
	 * them all; once drained it must not stay that big. */
	rib_foreach(&r, mark_all, &r);
	while (rib_take_dirty(&r, out, 8192) > 0)
		;
	print_memory("after a full resync", &r);
	m = rib_memory(&r);
	if (m >= 100 * n)
		fail_msg("after a resync: %.1f bytes per route, not below 100", (double)m / (double)n);
	free(out);
	rib_destroy(&r);
}

static void
test_covering(void **state)
{
	struct rib r;
	struct hgw_prefix p8 = P("10.0.0.0/8"), p16 = P("10.1.0.0/16"), p24 = P("10.1.2.0/24"),
	    other = P("10.2.0.0/16"), v6 = P("2001:db8::/64");
	struct hgw_addr g = A("192.0.2.1");
	struct rib_entry *e;

	(void)state;
	assert_int_equal(rib_init(&r, NULL, NULL), 0);
	assert_null(rib_covering(&r, &p24, NULL));
	assert_int_equal(rib_announce(&r, &p8, PEER(1), 1, &g, 1), 1);
	assert_int_equal(rib_announce(&r, &p16, PEER(1), 2, &g, 1), 1);
	assert_int_equal(rib_announce(&r, &other, PEER(1), 3, &g, 1), 1);
	assert_int_equal(r.nlen[0][16], 2);
	/* Longest first, then shorter ones; never p itself nor a sibling. */
	e = rib_covering(&r, &p24, NULL);
	assert_non_null(e);
	assert_true(hgw_prefix_eq(&e->pfx, &p16));
	e = rib_covering(&r, &p24, e);
	assert_non_null(e);
	assert_true(hgw_prefix_eq(&e->pfx, &p8));
	assert_null(rib_covering(&r, &p24, e));
	e = rib_covering(&r, &p16, NULL);
	assert_true(e != NULL && hgw_prefix_eq(&e->pfx, &p8));
	assert_null(rib_covering(&r, &p8, NULL));
	assert_null(rib_covering(&r, &v6, NULL));
	/* Lengths in each 64-bit word of the length set, and length 0. */
	{
		struct hgw_prefix v32 = P("2001:db8::/32"), v64 = P("2001:db8::/64"),
		    v65 = P("2001:db8::/65"), v100 = P("2001:db8::/100"), all = P("0.0.0.0/0");
		struct hgw_addr g6 = A("2001:db8:ffff::1");

		assert_int_equal(rib_announce(&r, &v32, PEER(1), 4, &g6, 1), 1);
		assert_int_equal(rib_announce(&r, &v64, PEER(1), 5, &g6, 1), 1);
		assert_int_equal(rib_announce(&r, &v65, PEER(1), 6, &g6, 1), 1);
		e = rib_covering(&r, &v100, NULL);
		assert_true(e != NULL && hgw_prefix_eq(&e->pfx, &v65));
		e = rib_covering(&r, &v100, e);
		assert_true(e != NULL && hgw_prefix_eq(&e->pfx, &v64));
		e = rib_covering(&r, &v100, e);
		assert_true(e != NULL && hgw_prefix_eq(&e->pfx, &v32));
		assert_null(rib_covering(&r, &v100, e));
		assert_int_equal(rib_announce(&r, &all, PEER(1), 7, &g, 1), 1);
		e = rib_covering(&r, &p8, NULL);
		assert_true(e != NULL && hgw_prefix_eq(&e->pfx, &all));
		assert_int_equal(rib_withdraw(&r, &all, PEER(1), 7), 1);
		assert_null(rib_covering(&r, &p8, NULL));
	}
	/* An entry without a path covers nothing; released, it is not counted. */
	assert_int_equal(rib_withdraw(&r, &p16, PEER(1), 2), 1);
	e = rib_covering(&r, &p24, NULL);
	assert_true(e != NULL && hgw_prefix_eq(&e->pfx, &p8));
	{
		struct rib_entry *batch[8];

		while (rib_take_dirty(&r, batch, 8) > 0)
			;	/* what fib.c does before it releases */
	}
	rib_release(&r, rib_lookup(&r, &p16));
	assert_null(rib_lookup(&r, &p16));
	assert_int_equal(r.nlen[0][16], 1);
	rib_destroy(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_destroy),
		cmocka_unit_test(test_announce_replace_repeat),
		cmocka_unit_test(test_withdraw),
		cmocka_unit_test(test_best_order),
		cmocka_unit_test(test_best_deterministic),
		cmocka_unit_test(test_conflict),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_drop_peer),
		cmocka_unit_test(test_dirty_queue),
		cmocka_unit_test(test_dirty_many),
		cmocka_unit_test(test_release),
		cmocka_unit_test(test_nexthops),
		cmocka_unit_test(test_snapshot_foreach),
		cmocka_unit_test(test_hash_wraparound),
		cmocka_unit_test(test_hash_stress),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_covering),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
