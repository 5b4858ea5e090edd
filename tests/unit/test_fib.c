/* test_fib.c: unit tests for daemon/fib.c with the real RIB and sync barrier and an in-memory kernel (fake_kernel.c): adoption at start, the sweep after the initial sync, restoring, other metrics, on-link checks, retries, shutdown, new kernel parameters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "fake_kernel.h"
#include "fib.h"
#include "hgwd.h"
#include "sync.h"

/* struct peer is opaque to the RIB and the fib: any pointer will do. */
#define PEER	((struct peer *)(uintptr_t)0x1000u)
#define ORIGIN	0x0a000002u
#define METRIC	CFG_DEFAULT_METRIC

static struct hgwd d;
static struct fib *f;
static const int neighbour;	/* the sync lock's key */

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

static void
params_from_cfg(struct kernel_params *kp)
{
	memset(kp, 0, sizeof(*kp));
	snprintf(kp->ifname, sizeof(kp->ifname), "%s", d.cfg.ifname);
	kp->proto = d.cfg.kernel_proto;
	kp->table = d.cfg.kernel_table;
	kp->metric = d.cfg.kernel_metric;
}

/* The daemon as main.c builds it, up to fib_start (begin() does that, after
 * the test has put what a previous run left in the kernel). */
static int
setup(void **state)
{
	struct kernel_params kp;
	struct kernel_cb cb;

	memset(&d, 0, sizeof(d));
	config_init(&d.cfg);
	snprintf(d.cfg.ifname, sizeof(d.cfg.ifname), "lan0");
	d.start_ms = now_ms();
	if ((d.base = event_base_new()) == NULL || (d.sync = sync_new(d.base)) == NULL ||
	    rib_init(&d.rib, fib_schedule, NULL) < 0 || (f = fib_new(&d)) == NULL)
		return -1;
	d.fib = f;
	d.rib.dirty_arg = f;
	params_from_cfg(&kp);
	memset(&cb, 0, sizeof(cb));
	cb.route = fib_on_route;
	cb.arg = f;
	if ((d.kernel = kernel_open(d.base, &kp, &cb)) == NULL)
		return -1;
	{
		struct hgw_prefix lan4 = P("10.0.0.0/24"), lan6 = P("fd00::/64");
		struct hgw_addr me = A("10.0.0.1");

		fake_kernel_onlink(d.kernel, &lan4);
		fake_kernel_onlink(d.kernel, &lan6);
		fake_kernel_local(d.kernel, &me);
	}
	/* One configured neighbour holds the initial sync. */
	if (sync_lock(d.sync, &neighbour) < 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	fib_free(f);
	kernel_close(d.kernel);
	rib_destroy(&d.rib);
	sync_free(d.sync);
	event_base_free(d.base);
	config_free(&d.cfg);
	return 0;
}

/* Runs the loop's ready events a bounded number of rounds (never blocks). */
static void
settle(void)
{
	int i;

	for (i = 0; i < 20; i++)
		event_base_loop(d.base, EVLOOP_NONBLOCK);
}

static const struct fake_route *
route(const char *p, uint32_t metric)
{
	struct hgw_prefix pf = P(p);

	return fake_kernel_route(d.kernel, &pf, metric);
}

/* Does the kernel hold p via gw (NULL: not at all) at our metric? */
static int
holds(const char *p, const char *gw)
{
	const struct fake_route *r = route(p, METRIC);
	struct hgw_addr a;

	if (gw == NULL)
		return r == NULL;
	a = A(gw);
	return r != NULL && hgw_addr_cmp(&r->gw, &a) == 0;
}

/* Runs the loop until the kernel holds p via gw (NULL: not at all), at most
 * 1,000 rounds. */
static void
wait_holds(const char *p, const char *gw)
{
	int i;

	for (i = 0; i < 1000 && !holds(p, gw); i++)
		event_base_loop(d.base, EVLOOP_NONBLOCK);
	if (!holds(p, gw))
		fail_msg("the kernel does not hold %s %s%s", p, gw ? "via " : "", gw ? gw : "(it should not)");
}

static void
begin(void)
{
	assert_int_equal(fib_start(f), 0);
	sync_start(d.sync, 60000);
	settle();
}

static void
end_sync(void)
{
	sync_unlock(d.sync, &neighbour, "END-OF-RIB");
	assert_true(sync_done(d.sync));
}

static void
announce(const char *p, const char *gw)
{
	struct hgw_prefix pf = P(p);
	struct hgw_addr a = A(gw);

	assert_true(rib_announce(&d.rib, &pf, PEER, ORIGIN, &a, hgwd_now_ds(&d)) >= 0);
}

static void
withdraw(const char *p)
{
	struct hgw_prefix pf = P(p);

	assert_int_equal(rib_withdraw(&d.rib, &pf, PEER, ORIGIN), 1);
}

static enum fib_state
state_of(const char *p, char *reason, size_t rlen)
{
	struct hgw_prefix pf = P(p);
	const struct rib_entry *e = rib_lookup(&d.rib, &pf);
	char tmp[160];

	if (e == NULL)
		fail_msg("no RIB entry for %s", p);
	return fib_state(&d, e, reason != NULL ? reason : tmp, reason != NULL ? rlen : sizeof(tmp));
}

static unsigned
writes(void)
{
	const struct fake_kernel_counts *c = fake_kernel_counts(d.kernel);

	return c->adds + c->dels + c->failed;
}

/* A route left from a previous run (or written by someone else), no event. */
static void
leftover(const char *p, const char *gw, uint32_t metric)
{
	struct hgw_prefix pf = P(p);
	struct hgw_addr a = A(gw);

	fake_kernel_put(d.kernel, &pf, &a, metric, 0);
}

/* A route of another protocol, which is not ours to touch. */
static void
alien(const char *p, const char *gw)
{
	struct kernel_params kp = *kernel_params(d.kernel), other = kp;

	other.proto = 99;
	kernel_set_params(d.kernel, &other);
	leftover(p, gw, METRIC);
	kernel_set_params(d.kernel, &kp);
}

static size_t
alien_count(void)
{
	struct kernel_params kp = *kernel_params(d.kernel), other = kp;
	struct hgw_prefix pf = P("10.99.0.0/24");
	size_t n;

	other.proto = 99;
	kernel_set_params(d.kernel, &other);
	n = fake_kernel_route(d.kernel, &pf, METRIC) != NULL;
	kernel_set_params(d.kernel, &kp);
	return n;
}

static void
test_adopt_then_sweep(void **state)
{
	leftover("10.1.0.0/24", "10.0.0.2", METRIC);	/* announced again, same gateway */
	leftover("10.2.0.0/24", "10.0.0.3", METRIC);	/* nobody announces it */
	leftover("10.3.0.0/24", "10.0.0.4", METRIC);	/* announced via another gateway */
	alien("10.99.0.0/24", "10.0.0.7");
	begin();
	/* Adopted: nothing written, nothing removed while the sync runs. */
	assert_int_equal(writes(), 0);
	assert_int_equal(state_of("10.2.0.0/24", NULL, 0), FIB_ST_STALE);

	announce("10.1.0.0/24", "10.0.0.2");
	announce("10.3.0.0/24", "10.0.0.5");
	wait_holds("10.3.0.0/24", "10.0.0.5");
	settle();
	assert_int_equal(fake_kernel_counts(d.kernel)->adds, 1);	/* 10.3 only */
	assert_int_equal(writes(), 1);
	assert_true(holds("10.1.0.0/24", "10.0.0.2"));
	assert_int_equal(state_of("10.1.0.0/24", NULL, 0), FIB_ST_INSTALLED);
	assert_int_equal(state_of("10.3.0.0/24", NULL, 0), FIB_ST_INSTALLED);
	/* The stale route is kept until the initial sync is over ... */
	assert_true(holds("10.2.0.0/24", "10.0.0.3"));
	assert_int_equal(state_of("10.2.0.0/24", NULL, 0), FIB_ST_STALE);

	/* ... then swept; the announced ones and the other protocol's stay. */
	end_sync();
	wait_holds("10.2.0.0/24", NULL);
	settle();
	assert_int_equal(fake_kernel_counts(d.kernel)->dels, 1);
	assert_true(holds("10.1.0.0/24", "10.0.0.2"));
	assert_true(holds("10.3.0.0/24", "10.0.0.5"));
	assert_int_equal(alien_count(), 1);
	assert_int_equal(fake_kernel_nroutes(d.kernel), 3);
}

static void
test_restores_what_others_change(void **state)
{
	struct hgw_prefix p = P("10.1.0.0/24");
	struct hgw_addr other = A("10.0.0.9");
	unsigned adds;

	begin();
	end_sync();
	announce("10.1.0.0/24", "10.0.0.2");
	wait_holds("10.1.0.0/24", "10.0.0.2");
	settle();
	adds = fake_kernel_counts(d.kernel)->adds;
	assert_int_equal(adds, 1);

	/* An event that says what we wrote (an echo): nothing to write. */
	{
		struct hgw_addr same = A("10.0.0.2");

		fake_kernel_put(d.kernel, &p, &same, METRIC, 1);
		settle();
		assert_int_equal(fake_kernel_counts(d.kernel)->adds, adds);
	}

	/* Someone deletes it: written back. */
	assert_int_equal(fake_kernel_remove(d.kernel, &p, METRIC, 1), 0);
	wait_holds("10.1.0.0/24", "10.0.0.2");
	assert_int_equal(fake_kernel_counts(d.kernel)->adds, adds + 1);

	/* Someone points it elsewhere: written back. */
	fake_kernel_put(d.kernel, &p, &other, METRIC, 1);
	assert_true(holds("10.1.0.0/24", "10.0.0.9"));
	wait_holds("10.1.0.0/24", "10.0.0.2");
	assert_int_equal(fake_kernel_counts(d.kernel)->adds, adds + 2);

	/* Withdrawn: removed. */
	withdraw("10.1.0.0/24");
	wait_holds("10.1.0.0/24", NULL);
	settle();
	assert_int_equal(fake_kernel_nroutes(d.kernel), 0);
}

static void
test_other_metric_removed_at_resync(void **state)
{
	struct hgw_prefix e = P("10.5.0.0/24");
	struct hgw_addr gw = A("10.0.0.3");

	leftover("10.4.0.0/24", "10.0.0.2", 99);	/* an older configuration's metric */
	begin();
	assert_null(route("10.4.0.0/24", 99));
	assert_int_equal(fake_kernel_counts(d.kernel)->dels, 1);
	assert_int_equal(kernel_params(d.kernel)->metric, METRIC);	/* put back */

	/* One more appears later: the event is ignored, the next resync removes it. */
	fake_kernel_put(d.kernel, &e, &gw, 50, 1);
	settle();
	assert_non_null(route("10.5.0.0/24", 50));
	fib_on_overrun(f);
	settle();
	assert_null(route("10.5.0.0/24", 50));
	assert_int_equal(kernel_params(d.kernel)->metric, METRIC);
	assert_int_equal(fake_kernel_nroutes(d.kernel), 0);
}

static void
test_unusable_gateways(void **state)
{
	struct hgw_prefix far = P("192.168.9.0/24");
	char reason[160];

	begin();
	end_sync();
	announce("10.6.0.0/24", "192.168.9.9");		/* not on the LAN */
	announce("10.7.0.0/24", "10.0.0.1");		/* our own address */
	announce("10.8.0.0/24", "fd00::2");		/* another family */
	announce("10.9.0.0/24", "10.0.0.2");		/* fine */
	wait_holds("10.9.0.0/24", "10.0.0.2");
	settle();
	assert_int_equal(fake_kernel_nroutes(d.kernel), 1);
	assert_int_equal(state_of("10.6.0.0/24", reason, sizeof(reason)), FIB_ST_NOT_INSTALLED);
	assert_string_equal(reason, "gateway 192.168.9.9 is not on-link on lan0");
	assert_int_equal(state_of("10.7.0.0/24", reason, sizeof(reason)), FIB_ST_NOT_INSTALLED);
	assert_string_equal(reason, "gateway 10.0.0.1 is an address of this host");
	assert_int_equal(state_of("10.8.0.0/24", reason, sizeof(reason)), FIB_ST_NOT_INSTALLED);
	assert_string_equal(reason, "gateway fd00::2 is of another family than the prefix");

	/* The LAN grows (a link event): now it is on-link. */
	fake_kernel_onlink(d.kernel, &far);
	fib_on_link(f, 1);
	wait_holds("10.6.0.0/24", "192.168.9.9");
	assert_int_equal(state_of("10.6.0.0/24", NULL, 0), FIB_ST_INSTALLED);
	assert_int_equal(state_of("10.7.0.0/24", NULL, 0), FIB_ST_NOT_INSTALLED);
}

/* The fib's pending retry timer: a timer of the loop whose argument is f. */
struct timer_find {
	void *arg;
	struct event *ev;
	struct timeval tv;
};

static int
find_timer(const struct event_base *b, const struct event *ev, void *arg)
{
	struct timer_find *t = arg;
	struct timeval tv = { 0, 0 };

	if (event_get_callback_arg(ev) == t->arg && event_pending(ev, EV_TIMEOUT, &tv) &&
	    (tv.tv_sec != 0 || tv.tv_usec != 0)) {
		t->ev = (struct event *)ev;
		t->tv = tv;
		return 1;
	}
	return 0;
}

static void
test_write_failure_retried(void **state)
{
	struct timer_find t = { f, NULL, { 0, 0 } };
	struct timeval now;
	char reason[160];
	unsigned w;

	begin();
	end_sync();
	fake_kernel_fail_writes(d.kernel, ENOBUFS, 1);
	announce("10.1.0.0/24", "10.0.0.2");
	settle();
	assert_int_equal(fake_kernel_counts(d.kernel)->failed, 1);
	assert_true(holds("10.1.0.0/24", NULL));
	assert_int_equal(state_of("10.1.0.0/24", reason, sizeof(reason)), FIB_ST_FAILED);
	assert_string_equal(reason, "kernel refused it: No buffer space available");
	/* Not at once in a loop: a timer, seconds away. */
	w = writes();
	settle();
	assert_int_equal(writes(), w);
	event_base_foreach_event(d.base, find_timer, &t);
	if (t.ev == NULL)
		fail_msg("no retry timer pending after a failed write");
	gettimeofday(&now, NULL);
	assert_true(t.tv.tv_sec * 1000000L + t.tv.tv_usec - (now.tv_sec * 1000000L + now.tv_usec) > 1000000L);
	/* The timer runs out (made to, without waiting): written. */
	event_active(t.ev, EV_TIMEOUT, 1);
	wait_holds("10.1.0.0/24", "10.0.0.2");
	assert_int_equal(state_of("10.1.0.0/24", NULL, 0), FIB_ST_INSTALLED);
}

static void
test_shutdown_removes_ours(void **state)
{
	leftover("10.2.0.0/24", "10.0.0.3", METRIC);	/* left from before, still held */
	alien("10.99.0.0/24", "10.0.0.7");
	begin();
	announce("10.1.0.0/24", "10.0.0.2");
	announce("fd10:1::/64", "fd00::2");
	wait_holds("10.1.0.0/24", "10.0.0.2");
	wait_holds("fd10:1::/64", "fd00::2");
	assert_int_equal(fake_kernel_nroutes(d.kernel), 4);
	fib_shutdown(f);
	assert_int_equal(fake_kernel_nroutes(d.kernel), 1);
	assert_int_equal(alien_count(), 1);
}

static void
test_params_change_rewrites(void **state)
{
	struct kernel_params old = *kernel_params(d.kernel), np = old;

	begin();
	end_sync();
	announce("10.1.0.0/24", "10.0.0.2");
	announce("fd10:1::/64", "fd00::2");
	wait_holds("10.1.0.0/24", "10.0.0.2");
	wait_holds("fd10:1::/64", "fd00::2");

	/* kernel table 100 metric 30: as reconf.c does it. */
	d.cfg.kernel_table = 100;
	d.cfg.kernel_metric = 30;
	np.table = 100;
	np.metric = 30;
	kernel_set_params(d.kernel, &np);
	fib_params_changed(f, &old);
	{
		int i;

		for (i = 0; i < 1000 && (route("10.1.0.0/24", 30) == NULL ||
		    route("fd10:1::/64", 30) == NULL); i++)
			event_base_loop(d.base, EVLOOP_NONBLOCK);
	}
	assert_non_null(route("10.1.0.0/24", 30));
	assert_non_null(route("fd10:1::/64", 30));
	/* Nothing left in the old table. */
	assert_int_equal(fake_kernel_nroutes(d.kernel), 2);
	assert_int_equal(state_of("10.1.0.0/24", NULL, 0), FIB_ST_INSTALLED);
}

static void
test_ipv6_metric_zero(void **state)
{
	struct kernel_params kp = *kernel_params(d.kernel);

	/* metric 0: the kernel stores 1024 for IPv6 routes; that is ours too. */
	d.cfg.kernel_metric = 0;
	kp.metric = 0;
	kernel_set_params(d.kernel, &kp);
	leftover("fd10:1::/64", "fd00::2", 1024);
	leftover("10.1.0.0/24", "10.0.0.2", 0);
	begin();
	announce("fd10:1::/64", "fd00::2");
	announce("10.1.0.0/24", "10.0.0.2");
	settle();
	end_sync();
	settle();
	assert_int_equal(writes(), 0);
	assert_non_null(route("fd10:1::/64", 1024));
	assert_non_null(route("10.1.0.0/24", 0));
	assert_int_equal(state_of("fd10:1::/64", NULL, 0), FIB_ST_INSTALLED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_adopt_then_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restores_what_others_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_metric_removed_at_resync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unusable_gateways, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_removes_ours, setup, teardown),
		cmocka_unit_test_setup_teardown(test_params_change_rewrites, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_metric_zero, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
