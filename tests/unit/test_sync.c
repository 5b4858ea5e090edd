/* test_sync.c: unit tests for daemon/sync.c, the initial-sync barrier, on a real libevent base (no sockets): locks, the start-up timer, subscribers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/event.h>
#include <stdio.h>
#include <string.h>

#include "sync.h"
#include "util.h"

/* Distinct lock keys: sync.c compares the pointers only. */
static const int key_a, key_b, key_c;

/* What the subscribers saw: who ran, in which order, with which reason. */
struct seen {
	int order[8];
	int n;
	char why[8][64];
};

struct sub {
	struct seen *seen;
	int id;
};

static void
on_done(void *arg, const char *why)
{
	struct sub *s = arg;
	struct seen *v = s->seen;

	if (v->n < 8) {
		v->order[v->n] = s->id;
		snprintf(v->why[v->n], sizeof(v->why[v->n]), "%s", why);
	}
	v->n++;
}

struct fixture {
	struct event_base *base;
	struct sync *s;
	struct seen seen;
	struct sub subs[4];
};

static int
setup(void **state)
{
	static struct fixture fx;
	int i;

	memset(&fx, 0, sizeof(fx));
	if ((fx.base = event_base_new()) == NULL || (fx.s = sync_new(fx.base)) == NULL)
		return -1;
	for (i = 0; i < 4; i++) {
		fx.subs[i].seen = &fx.seen;
		fx.subs[i].id = i + 1;
	}
	*state = &fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	sync_free(fx->s);
	event_base_free(fx->base);
	return 0;
}

/* Runs the loop one round at a time until the sync is done or max_ms passed. */
static int
loop_until_done(struct fixture *fx, uint64_t max_ms)
{
	uint64_t deadline = now_ms() + max_ms;

	while (!sync_done(fx->s) && now_ms() < deadline)
		event_base_loop(fx->base, EVLOOP_ONCE);
	return sync_done(fx->s);
}

static void
test_lock_counts_keys_once(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(sync_locks(fx->s), 0);
	assert_int_equal(sync_lock(fx->s, &key_a), 0);
	assert_int_equal(sync_lock(fx->s, &key_b), 0);
	assert_int_equal(sync_locks(fx->s), 2);
	/* A second lock of the same key is the same lock. */
	assert_int_equal(sync_lock(fx->s, &key_a), 0);
	assert_int_equal(sync_locks(fx->s), 2);
	/* Unlocked by its key: the other stays; an unknown key changes nothing. */
	sync_unlock(fx->s, &key_a, "a synced");
	assert_int_equal(sync_locks(fx->s), 1);
	sync_unlock(fx->s, &key_c, "never locked");
	assert_int_equal(sync_locks(fx->s), 1);
	sync_unlock(fx->s, &key_a, "a again");
	assert_int_equal(sync_locks(fx->s), 1);
	assert_false(sync_done(fx->s));
}

static void
test_done_at_last_unlock_after_start(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(sync_on_done(fx->s, on_done, &fx->subs[0]), 0);
	sync_lock(fx->s, &key_a);
	sync_lock(fx->s, &key_b);
	sync_start(fx->s, 60000);
	assert_false(sync_done(fx->s));
	sync_unlock(fx->s, &key_a, "a synced");
	assert_false(sync_done(fx->s));
	assert_int_equal(fx->seen.n, 0);
	sync_unlock(fx->s, &key_b, "b synced");
	assert_true(sync_done(fx->s));
	assert_int_equal(sync_locks(fx->s), 0);
	assert_int_equal(fx->seen.n, 1);
	assert_string_equal(fx->seen.why[0], "b synced");
	/* The start-up timer went with it: nothing is left in the loop. */
	assert_int_equal(event_base_loop(fx->base, EVLOOP_NONBLOCK), 1);
	assert_int_equal(fx->seen.n, 1);
}

static void
test_not_done_before_start(void **state)
{
	struct fixture *fx = *state;

	sync_on_done(fx->s, on_done, &fx->subs[0]);
	sync_lock(fx->s, &key_a);
	sync_unlock(fx->s, &key_a, "a synced");
	/* No lock left, but the neighbours are not all configured yet. */
	assert_false(sync_done(fx->s));
	assert_int_equal(fx->seen.n, 0);
	sync_lock(fx->s, &key_b);
	sync_start(fx->s, 60000);
	assert_false(sync_done(fx->s));
	sync_unlock(fx->s, &key_b, "b synced");
	assert_true(sync_done(fx->s));
	assert_int_equal(fx->seen.n, 1);
}

static void
test_done_at_once_without_locks(void **state)
{
	struct fixture *fx = *state;

	sync_on_done(fx->s, on_done, &fx->subs[0]);
	sync_start(fx->s, 60000);
	assert_true(sync_done(fx->s));
	assert_int_equal(fx->seen.n, 1);
	assert_string_equal(fx->seen.why[0], "no neighbors to wait for");
	/* No timer was left behind. */
	assert_int_equal(event_base_loop(fx->base, EVLOOP_NONBLOCK), 1);
}

static void
test_startup_timer_ends_it(void **state)
{
	struct fixture *fx = *state;

	sync_on_done(fx->s, on_done, &fx->subs[0]);
	sync_lock(fx->s, &key_a);
	sync_lock(fx->s, &key_b);
	sync_start(fx->s, 30);
	assert_false(sync_done(fx->s));
	/* Nothing is ready before the timer runs out. */
	event_base_loop(fx->base, EVLOOP_NONBLOCK);
	assert_false(sync_done(fx->s));
	assert_true(loop_until_done(fx, 2000));
	assert_int_equal(fx->seen.n, 1);
	assert_string_equal(fx->seen.why[0], "startup timer ran out");
	/* The locks still held are void now; a late unlock does nothing. */
	assert_int_equal(sync_locks(fx->s), 0);
	sync_unlock(fx->s, &key_a, "a synced late");
	assert_int_equal(fx->seen.n, 1);
}

static void
test_subscribers_once_in_order(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(sync_on_done(fx->s, on_done, &fx->subs[2]), 0);
	assert_int_equal(sync_on_done(fx->s, on_done, &fx->subs[0]), 0);
	assert_int_equal(sync_on_done(fx->s, on_done, &fx->subs[1]), 0);
	sync_lock(fx->s, &key_a);
	sync_start(fx->s, 60000);
	assert_int_equal(fx->seen.n, 0);
	sync_unlock(fx->s, &key_a, "a synced");
	assert_int_equal(fx->seen.n, 3);
	assert_int_equal(fx->seen.order[0], 3);
	assert_int_equal(fx->seen.order[1], 1);
	assert_int_equal(fx->seen.order[2], 2);
	/* Once only: more locks, unlocks and starts change nothing. */
	assert_int_equal(sync_lock(fx->s, &key_b), 0);
	assert_int_equal(sync_locks(fx->s), 0);
	sync_unlock(fx->s, &key_b, "b synced");
	sync_start(fx->s, 10);
	assert_int_equal(event_base_loop(fx->base, EVLOOP_NONBLOCK), 1);
	assert_int_equal(fx->seen.n, 3);
	assert_true(sync_done(fx->s));
}

static void
test_late_subscriber_runs_at_once(void **state)
{
	struct fixture *fx = *state;

	sync_on_done(fx->s, on_done, &fx->subs[0]);
	sync_start(fx->s, 60000);
	assert_int_equal(fx->seen.n, 1);
	assert_int_equal(sync_on_done(fx->s, on_done, &fx->subs[3]), 0);
	assert_int_equal(fx->seen.n, 2);
	assert_int_equal(fx->seen.order[1], 4);
	assert_string_equal(fx->seen.why[1], "already over");
	/* The first one did not run again. */
	assert_int_equal(fx->seen.order[0], 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lock_counts_keys_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_done_at_last_unlock_after_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_done_before_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_done_at_once_without_locks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_startup_timer_ends_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscribers_once_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_subscriber_runs_at_once, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
