/* test_fsm.c: unit tests for proto/fsm.c: transitions, timers, collisions, back-off. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "fsm.h"
#include "wire.h"

#define NSTATES	4
#define NEVENTS	12

static const enum hgw_state states[NSTATES] = {
	HGW_ST_IDLE, HGW_ST_CONNECT, HGW_ST_HELLO_SENT, HGW_ST_ESTABLISHED,
};

static const enum hgw_event events[NEVENTS] = {
	HGW_EV_CONNECTED, HGW_EV_CONNECT_FAIL, HGW_EV_RX_HELLO,
	HGW_EV_RX_KEEPALIVE, HGW_EV_RX_UPDATE, HGW_EV_RX_EOR, HGW_EV_RX_NOTIFY,
	HGW_EV_RX_MALFORMED, HGW_EV_HOLD_EXPIRED, HGW_EV_HELLO_TIMEOUT,
	HGW_EV_CLOSED, HGW_EV_STOP,
};

/* Deterministic PRNG (xorshift32). */
static uint32_t rng_state = 0x12345678;

static uint32_t
rnd(void)
{
	uint32_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	rng_state = x;
	return x;
}

#define CLOSE	HGW_ACT_CLOSE
#define NOTE	HGW_ACT_SEND_NOTIFY
#define DROP	HGW_ACT_DROP_ROUTES

struct row {
	enum hgw_state st;
	enum hgw_event ev;
	enum hgw_state next;
	unsigned actions;
	uint8_t code;
};

/* The whole table, every state against every event (PROTOCOL.md, Session). */
static const struct row table[] = {
	/* IDLE and CONNECT: only the transport coming up moves on; no frame
	 * can arrive without a transport, so anything else just closes. */
	{ HGW_ST_IDLE, HGW_EV_CONNECTED, HGW_ST_HELLO_SENT, HGW_ACT_SEND_HELLO, 0 },
	{ HGW_ST_IDLE, HGW_EV_CONNECT_FAIL, HGW_ST_IDLE, CLOSE, 0 },
	{ HGW_ST_IDLE, HGW_EV_RX_HELLO, HGW_ST_IDLE, CLOSE, 0 },
	{ HGW_ST_IDLE, HGW_EV_RX_KEEPALIVE, HGW_ST_IDLE, CLOSE, 0 },
	{ HGW_ST_IDLE, HGW_EV_RX_UPDATE, HGW_ST_IDLE, CLOSE, 0 },
	{ HGW_ST_IDLE, HGW_EV_RX_EOR, HGW_ST_IDLE, CLOSE, 0 },
	{ HGW_ST_IDLE, HGW_EV_RX_NOTIFY, HGW_ST_IDLE, CLOSE, 0 },
	{ HGW_ST_IDLE, HGW_EV_RX_MALFORMED, HGW_ST_IDLE, CLOSE, 0 },
	{ HGW_ST_IDLE, HGW_EV_HOLD_EXPIRED, HGW_ST_IDLE, CLOSE, 0 },
	{ HGW_ST_IDLE, HGW_EV_HELLO_TIMEOUT, HGW_ST_IDLE, CLOSE, 0 },
	{ HGW_ST_IDLE, HGW_EV_CLOSED, HGW_ST_IDLE, CLOSE, 0 },
	{ HGW_ST_IDLE, HGW_EV_STOP, HGW_ST_IDLE, CLOSE, 0 },

	{ HGW_ST_CONNECT, HGW_EV_CONNECTED, HGW_ST_HELLO_SENT, HGW_ACT_SEND_HELLO, 0 },
	{ HGW_ST_CONNECT, HGW_EV_CONNECT_FAIL, HGW_ST_IDLE, CLOSE, 0 },
	{ HGW_ST_CONNECT, HGW_EV_RX_HELLO, HGW_ST_IDLE, CLOSE, 0 },
	{ HGW_ST_CONNECT, HGW_EV_RX_KEEPALIVE, HGW_ST_IDLE, CLOSE, 0 },
	{ HGW_ST_CONNECT, HGW_EV_RX_UPDATE, HGW_ST_IDLE, CLOSE, 0 },
	{ HGW_ST_CONNECT, HGW_EV_RX_EOR, HGW_ST_IDLE, CLOSE, 0 },
	{ HGW_ST_CONNECT, HGW_EV_RX_NOTIFY, HGW_ST_IDLE, CLOSE, 0 },
	{ HGW_ST_CONNECT, HGW_EV_RX_MALFORMED, HGW_ST_IDLE, CLOSE, 0 },
	{ HGW_ST_CONNECT, HGW_EV_HOLD_EXPIRED, HGW_ST_IDLE, CLOSE, 0 },
	{ HGW_ST_CONNECT, HGW_EV_HELLO_TIMEOUT, HGW_ST_IDLE, CLOSE, 0 },
	{ HGW_ST_CONNECT, HGW_EV_CLOSED, HGW_ST_IDLE, CLOSE, 0 },
	{ HGW_ST_CONNECT, HGW_EV_STOP, HGW_ST_IDLE, CLOSE, 0 },

	/* HELLO_SENT: HELLO establishes; any other frame is an FSM error;
	 * the handshake deadline is a hold timer expiry. */
	{ HGW_ST_HELLO_SENT, HGW_EV_CONNECTED, HGW_ST_IDLE, NOTE | CLOSE, HGW_ERR_FSM },
	{ HGW_ST_HELLO_SENT, HGW_EV_CONNECT_FAIL, HGW_ST_IDLE, CLOSE, 0 },
	{ HGW_ST_HELLO_SENT, HGW_EV_RX_HELLO, HGW_ST_ESTABLISHED,
	    HGW_ACT_ESTABLISH | HGW_ACT_RESET_HOLD, 0 },
	{ HGW_ST_HELLO_SENT, HGW_EV_RX_KEEPALIVE, HGW_ST_IDLE, NOTE | CLOSE, HGW_ERR_FSM },
	{ HGW_ST_HELLO_SENT, HGW_EV_RX_UPDATE, HGW_ST_IDLE, NOTE | CLOSE, HGW_ERR_FSM },
	{ HGW_ST_HELLO_SENT, HGW_EV_RX_EOR, HGW_ST_IDLE, NOTE | CLOSE, HGW_ERR_FSM },
	{ HGW_ST_HELLO_SENT, HGW_EV_RX_NOTIFY, HGW_ST_IDLE, CLOSE, 0 },
	{ HGW_ST_HELLO_SENT, HGW_EV_RX_MALFORMED, HGW_ST_IDLE, NOTE | CLOSE, 0 },
	{ HGW_ST_HELLO_SENT, HGW_EV_HOLD_EXPIRED, HGW_ST_IDLE, NOTE | CLOSE, HGW_ERR_HOLD },
	{ HGW_ST_HELLO_SENT, HGW_EV_HELLO_TIMEOUT, HGW_ST_IDLE, NOTE | CLOSE, HGW_ERR_HOLD },
	{ HGW_ST_HELLO_SENT, HGW_EV_CLOSED, HGW_ST_IDLE, CLOSE, 0 },
	{ HGW_ST_HELLO_SENT, HGW_EV_STOP, HGW_ST_IDLE, NOTE | CLOSE, 0 },

	/* ESTABLISHED: every way out drops the session's routes. */
	{ HGW_ST_ESTABLISHED, HGW_EV_CONNECTED, HGW_ST_IDLE,
	    NOTE | DROP | CLOSE, HGW_ERR_FSM },
	{ HGW_ST_ESTABLISHED, HGW_EV_CONNECT_FAIL, HGW_ST_IDLE, DROP | CLOSE, 0 },
	{ HGW_ST_ESTABLISHED, HGW_EV_RX_HELLO, HGW_ST_IDLE,
	    NOTE | DROP | CLOSE, HGW_ERR_FSM },
	{ HGW_ST_ESTABLISHED, HGW_EV_RX_KEEPALIVE, HGW_ST_ESTABLISHED,
	    HGW_ACT_RESET_HOLD, 0 },
	{ HGW_ST_ESTABLISHED, HGW_EV_RX_UPDATE, HGW_ST_ESTABLISHED,
	    HGW_ACT_APPLY | HGW_ACT_RESET_HOLD, 0 },
	{ HGW_ST_ESTABLISHED, HGW_EV_RX_EOR, HGW_ST_ESTABLISHED,
	    HGW_ACT_APPLY | HGW_ACT_RESET_HOLD, 0 },
	{ HGW_ST_ESTABLISHED, HGW_EV_RX_NOTIFY, HGW_ST_IDLE, DROP | CLOSE, 0 },
	{ HGW_ST_ESTABLISHED, HGW_EV_RX_MALFORMED, HGW_ST_IDLE,
	    NOTE | DROP | CLOSE, 0 },
	{ HGW_ST_ESTABLISHED, HGW_EV_HOLD_EXPIRED, HGW_ST_IDLE,
	    NOTE | DROP | CLOSE, HGW_ERR_HOLD },
	{ HGW_ST_ESTABLISHED, HGW_EV_HELLO_TIMEOUT, HGW_ST_IDLE,
	    NOTE | DROP | CLOSE, HGW_ERR_HOLD },
	{ HGW_ST_ESTABLISHED, HGW_EV_CLOSED, HGW_ST_IDLE, DROP | CLOSE, 0 },
	{ HGW_ST_ESTABLISHED, HGW_EV_STOP, HGW_ST_IDLE, NOTE | DROP | CLOSE, 0 },
};

static void
test_fsm_table(void **state)
{
	int seen[NSTATES][NEVENTS];
	size_t i;
	int s, e;

	(void)state;
	assert_int_equal(sizeof(table) / sizeof(table[0]), NSTATES * NEVENTS);
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct row *r = &table[i];
		struct hgw_fsm_out o = hgw_fsm_step(r->st, r->ev);

		if (o.next != r->next || o.actions != r->actions ||
		    o.code != r->code || o.subcode != 0)
			fail_msg("%s + %s: %s, actions 0x%02x, notify %u/%u; "
			    "expected %s, 0x%02x, %u/0", hgw_state_name(r->st),
			    hgw_event_name(r->ev), hgw_state_name(o.next),
			    o.actions, o.code, o.subcode, hgw_state_name(r->next),
			    r->actions, r->code);
		seen[r->st][r->ev]++;
	}
	/* the table above really is every pair, once */
	for (s = 0; s < NSTATES; s++)
		for (e = 0; e < NEVENTS; e++)
			assert_int_equal(seen[s][e], 1);
}

static void
test_fsm_invariants(void **state)
{
	int s, e;

	(void)state;
	for (s = 0; s < NSTATES; s++) {
		for (e = 0; e < NEVENTS; e++) {
			struct hgw_fsm_out o = hgw_fsm_step(states[s], events[e]);

			/* leaving for IDLE always closes; staying never does */
			assert_int_equal(o.next == HGW_ST_IDLE,
			    (o.actions & HGW_ACT_CLOSE) != 0);
			/* routes are dropped exactly when an established
			 * session ends */
			assert_int_equal((o.actions & HGW_ACT_DROP_ROUTES) != 0,
			    states[s] == HGW_ST_ESTABLISHED && o.next == HGW_ST_IDLE);
			/* a code only with SEND_NOTIFY */
			if (o.code != 0)
				assert_true(o.actions & HGW_ACT_SEND_NOTIFY);
			/* nothing is applied from a session that is closing */
			if (o.actions & HGW_ACT_CLOSE)
				assert_false(o.actions & (HGW_ACT_APPLY |
				    HGW_ACT_ESTABLISH | HGW_ACT_RESET_HOLD |
				    HGW_ACT_SEND_HELLO));
			/* a NOTIFY received is never answered with one */
			if (events[e] == HGW_EV_RX_NOTIFY)
				assert_false(o.actions & HGW_ACT_SEND_NOTIFY);
			/* no transition reaches CONNECT: dialing is the caller's */
			assert_int_not_equal(o.next, HGW_ST_CONNECT);
		}
	}
}

static void
test_fsm_scenarios(void **state)
{
	struct hgw_fsm_out o;
	int i;

	(void)state;
	/* UPDATE before HELLO */
	o = hgw_fsm_step(HGW_ST_HELLO_SENT, HGW_EV_RX_UPDATE);
	assert_int_equal(o.next, HGW_ST_IDLE);
	assert_int_equal(o.actions, HGW_ACT_SEND_NOTIFY | HGW_ACT_CLOSE);
	assert_int_equal(o.code, HGW_ERR_FSM);

	/* a second HELLO */
	o = hgw_fsm_step(HGW_ST_ESTABLISHED, HGW_EV_RX_HELLO);
	assert_int_equal(o.next, HGW_ST_IDLE);
	assert_int_equal(o.code, HGW_ERR_FSM);
	assert_true(o.actions & HGW_ACT_DROP_ROUTES);
	assert_true(o.actions & HGW_ACT_SEND_NOTIFY);

	/* hold expiry */
	o = hgw_fsm_step(HGW_ST_ESTABLISHED, HGW_EV_HOLD_EXPIRED);
	assert_int_equal(o.code, HGW_ERR_HOLD);
	assert_int_equal(o.subcode, 0);
	assert_true(o.actions & HGW_ACT_DROP_ROUTES);

	/* a whole session: dial, connect, HELLO, traffic, peer's NOTIFY */
	o = hgw_fsm_step(HGW_ST_CONNECT, HGW_EV_CONNECTED);
	assert_int_equal(o.next, HGW_ST_HELLO_SENT);
	assert_int_equal(o.actions, HGW_ACT_SEND_HELLO);
	o = hgw_fsm_step(o.next, HGW_EV_RX_HELLO);
	assert_int_equal(o.next, HGW_ST_ESTABLISHED);
	assert_true(o.actions & HGW_ACT_ESTABLISH);
	for (i = 0; i < 100; i++) {
		static const enum hgw_event traffic[] = {
			HGW_EV_RX_UPDATE, HGW_EV_RX_KEEPALIVE, HGW_EV_RX_EOR,
		};
		enum hgw_event ev = traffic[rnd() % 3];

		o = hgw_fsm_step(o.next, ev);
		assert_int_equal(o.next, HGW_ST_ESTABLISHED);
		/* every frame received resets the hold timer */
		assert_true(o.actions & HGW_ACT_RESET_HOLD);
		assert_int_equal((o.actions & HGW_ACT_APPLY) != 0,
		    ev != HGW_EV_RX_KEEPALIVE);
	}
	o = hgw_fsm_step(o.next, HGW_EV_RX_NOTIFY);
	assert_int_equal(o.next, HGW_ST_IDLE);
	assert_int_equal(o.actions, HGW_ACT_DROP_ROUTES | HGW_ACT_CLOSE);
}

static void
test_fsm_out_of_range(void **state)
{
	struct hgw_fsm_out o;

	(void)state;
	/* values outside the enums fail safe: close, nothing else */
	o = hgw_fsm_step((enum hgw_state)99, HGW_EV_RX_HELLO);
	assert_int_equal(o.next, HGW_ST_IDLE);
	assert_int_equal(o.actions, HGW_ACT_CLOSE);
	o = hgw_fsm_step(HGW_ST_HELLO_SENT, (enum hgw_event)99);
	assert_int_equal(o.next, HGW_ST_IDLE);
	assert_int_equal(o.actions, HGW_ACT_CLOSE);
	o = hgw_fsm_step(HGW_ST_ESTABLISHED, (enum hgw_event)99);
	assert_int_equal(o.next, HGW_ST_IDLE);
	assert_int_equal(o.actions, HGW_ACT_CLOSE | HGW_ACT_DROP_ROUTES);
}

static void
test_names(void **state)
{
	int i, j;

	(void)state;
	assert_string_equal(hgw_state_name(HGW_ST_IDLE), "idle");
	assert_string_equal(hgw_state_name(HGW_ST_CONNECT), "connect");
	assert_string_equal(hgw_state_name(HGW_ST_HELLO_SENT), "hello-sent");
	assert_string_equal(hgw_state_name(HGW_ST_ESTABLISHED), "established");
	assert_string_equal(hgw_state_name((enum hgw_state)42), "unknown");
	assert_string_equal(hgw_event_name(HGW_EV_RX_HELLO), "hello");
	assert_string_equal(hgw_event_name(HGW_EV_HOLD_EXPIRED), "hold-expired");
	assert_string_equal(hgw_event_name((enum hgw_event)42), "unknown");
	/* every event has its own name */
	for (i = 0; i < NEVENTS; i++) {
		assert_string_not_equal(hgw_event_name(events[i]), "unknown");
		for (j = 0; j < i; j++)
			assert_string_not_equal(hgw_event_name(events[i]),
			    hgw_event_name(events[j]));
	}
}

static void
test_negotiate_timers(void **state)
{
	static const struct {
		uint32_t lhold, lka, rhold, hold, ka;
	} cases[] = {
		{ 9000, 3000, 9000, 9000, 3000 },
		{ 9000, 3000, 3000, 3000, 1000 },	/* peer's hold is smaller */
		{ 3000, 3000, 9000, 3000, 1000 },	/* ours is, ka capped */
		{ 9000, 1000, 3000, 3000, 1000 },	/* ka already <= hold/3 */
		{ 9000, 999, 3000, 3000, 999 },
		{ 9000, 2000, 9000, 9000, 2000 },
		{ 9000, 50, 9000, 9000, 100 },		/* at least 100 ms */
		{ 9000, 0, 9000, 9000, 100 },
		{ 300, 100, 3600000, 300, 100 },	/* the minimum */
		{ 300, 300, 300, 300, 100 },
		{ 3600000, 3600000, 3600000, 3600000, 1200000 },
		{ 3600000, 30000, 3600000, 3600000, 30000 },
		{ 1000, 1000, 1000, 1000, 333 },	/* rounds down */
		{ 301, 1000, 302, 301, 100 },
		{ 900, 1000, 600, 600, 200 },
	};
	uint32_t hold, ka;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hold = ka = 12345;
		hgw_negotiate_timers(cases[i].lhold, cases[i].lka, cases[i].rhold,
		    &hold, &ka);
		if (hold != cases[i].hold || ka != cases[i].ka)
			fail_msg("negotiate(%u, %u, %u) = %u, %u; expected %u, %u",
			    cases[i].lhold, cases[i].lka, cases[i].rhold, hold, ka,
			    cases[i].hold, cases[i].ka);
	}
}

static void
test_negotiate_both_sides(void **state)
{
	int i;

	(void)state;
	/* Any two acceptable HELLOs: both sides agree on the hold time, and
	 * each side's keepalive is within [100, hold / 3] and at most its own. */
	for (i = 0; i < 20000; i++) {
		uint32_t ah = HGW_HOLD_MIN_MS + rnd() % (HGW_HOLD_MAX_MS - HGW_HOLD_MIN_MS + 1);
		uint32_t bh = HGW_HOLD_MIN_MS + rnd() % (HGW_HOLD_MAX_MS - HGW_HOLD_MIN_MS + 1);
		uint32_t ak = HGW_KEEPALIVE_MIN_MS + rnd() % (ah - HGW_KEEPALIVE_MIN_MS + 1);
		uint32_t bk = HGW_KEEPALIVE_MIN_MS + rnd() % (bh - HGW_KEEPALIVE_MIN_MS + 1);
		uint32_t hold_a, ka_a, hold_b, ka_b;

		hgw_negotiate_timers(ah, ak, bh, &hold_a, &ka_a);
		hgw_negotiate_timers(bh, bk, ah, &hold_b, &ka_b);
		assert_int_equal(hold_a, hold_b);
		assert_int_equal(hold_a, ah < bh ? ah : bh);
		assert_true(ka_a >= HGW_KEEPALIVE_MIN_MS && ka_a <= hold_a / 3);
		assert_true(ka_b >= HGW_KEEPALIVE_MIN_MS && ka_b <= hold_b / 3);
		assert_true(ka_a <= ak && ka_b <= bk);
		assert_true(ka_a == ak || ka_a == hold_a / 3);
		/* three keepalives fit in the hold time */
		assert_true((uint64_t)ka_a * 3 <= hold_a);
	}
}

static void
test_collision(void **state)
{
	static const uint32_t ids[] = {
		1, 2, 0x0a000001, 0x0a000002, 0x7fffffff, 0x80000000, 0xc0000201,
		0xfffffffe, 0xffffffff,
	};
	size_t i, j;
	int k;

	(void)state;
	/* the connection opened by the lower node id is kept */
	assert_int_equal(hgw_collision_keep(1, 2, 1), 1);	/* we dialed, we are lower */
	assert_int_equal(hgw_collision_keep(1, 2, 0), 0);	/* peer dialed, peer higher */
	assert_int_equal(hgw_collision_keep(2, 1, 1), 0);
	assert_int_equal(hgw_collision_keep(2, 1, 0), 1);
	/* unsigned comparison: 128.0.0.0 is above 127.255.255.255 */
	assert_int_equal(hgw_collision_keep(0x7fffffff, 0x80000000, 1), 1);
	assert_int_equal(hgw_collision_keep(0x80000000, 0x7fffffff, 1), 0);

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		for (j = 0; j < sizeof(ids) / sizeof(ids[0]); j++) {
			uint32_t a = ids[i], b = ids[j];

			if (a == b)
				continue;
			/* the connection a opened: a sees it outbound, b inbound */
			assert_int_equal(hgw_collision_keep(a, b, 1),
			    hgw_collision_keep(b, a, 0));
			/* the one b opened, likewise */
			assert_int_equal(hgw_collision_keep(b, a, 1),
			    hgw_collision_keep(a, b, 0));
			/* exactly one of the two survives */
			assert_int_equal(hgw_collision_keep(a, b, 1) +
			    hgw_collision_keep(a, b, 0), 1);
			assert_int_equal(hgw_collision_keep(a, b, 1), a < b);
		}
	}
	for (k = 0; k < 20000; k++) {
		uint32_t a = rnd(), b = rnd();

		if (a == b)
			continue;
		assert_int_equal(hgw_collision_keep(a, b, 1), hgw_collision_keep(b, a, 0));
		assert_int_equal(hgw_collision_keep(a, b, 0), hgw_collision_keep(b, a, 1));
		assert_int_equal(hgw_collision_keep(a, b, 1) + hgw_collision_keep(a, b, 0), 1);
	}
	/* outbound is a truth value, not just 1 */
	assert_int_equal(hgw_collision_keep(1, 2, 7), 1);
}

static void
test_backoff_next(void **state)
{
	static const uint32_t seq[] = {
		200, 400, 800, 1600, 3200, 6400, 10000, 10000, 10000,
	};
	uint32_t cur = 0;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		cur = hgw_backoff_next(cur, 200, 10000);
		assert_int_equal(cur, seq[i]);
	}
	/* below the minimum comes back up to it, above the cap goes down */
	assert_int_equal(hgw_backoff_next(50, 200, 10000), 200);
	assert_int_equal(hgw_backoff_next(99, 200, 10000), 200);
	assert_int_equal(hgw_backoff_next(101, 200, 10000), 202);
	assert_int_equal(hgw_backoff_next(5001, 200, 10000), 10000);
	assert_int_equal(hgw_backoff_next(5000, 200, 10000), 10000);
	assert_int_equal(hgw_backoff_next(4999, 200, 10000), 9998);
	assert_int_equal(hgw_backoff_next(20000, 200, 10000), 10000);
	/* no overflow near the top */
	assert_int_equal(hgw_backoff_next(0x80000000u, 1, UINT32_MAX), UINT32_MAX);
	assert_int_equal(hgw_backoff_next(UINT32_MAX, 1, UINT32_MAX), UINT32_MAX);
	assert_int_equal(hgw_backoff_next(0x7fffffffu, 1, UINT32_MAX), 0xfffffffeu);
	/* min == max: constant */
	assert_int_equal(hgw_backoff_next(0, 500, 500), 500);
	assert_int_equal(hgw_backoff_next(500, 500, 500), 500);
	/* doubling from any start never decreases and ends at the cap */
	for (i = 0; i < 1000; i++) {
		uint32_t prev, c = rnd() % 20000;
		int steps = 0;

		do {
			prev = c;
			c = hgw_backoff_next(c, 200, 10000);
			assert_true(c >= 200 && c <= 10000);
			assert_true(c >= prev || prev > 10000);
		} while (c != 10000 && ++steps < 40);
		assert_int_equal(c, 10000);
		assert_true(steps <= 6);
	}
}

/* base * [0.75, 1.25) in integers: 4 r >= 3 base and 4 r < 5 base. */
static void
assert_jitter_bounds(uint32_t base, uint32_t r)
{
	uint32_t d = hgw_backoff_jitter(base, r);

	if ((uint64_t)d * 4 < (uint64_t)base * 3 ||
	    (uint64_t)d * 4 >= (uint64_t)base * 5)
		fail_msg("jitter(%u, 0x%08x) = %u outside [%.2f, %.2f)", base, r,
		    d, base * 0.75, base * 1.25);
}

static void
test_backoff_jitter_bounds(void **state)
{
	static const uint32_t big[] = {
		65536, 100000, 1000000, 0x7fffffffu, 0x80000000u, 3000000000u,
		4000000000u, UINT32_MAX,
	};
	uint32_t base;
	size_t i;
	int k;

	(void)state;
	for (base = 1; base <= 20000; base++) {
		assert_jitter_bounds(base, 0);
		assert_jitter_bounds(base, UINT32_MAX);
		assert_jitter_bounds(base, 0x80000000u);
		assert_jitter_bounds(base, rnd());
	}
	for (i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		assert_jitter_bounds(big[i], 0);
		assert_jitter_bounds(big[i], UINT32_MAX);
		for (k = 0; k < 100; k++)
			assert_jitter_bounds(big[i], rnd());
	}
	/* the ends, for the delays the daemon uses */
	assert_int_equal(hgw_backoff_jitter(200, 0), 150);
	assert_int_equal(hgw_backoff_jitter(200, UINT32_MAX), 249);
	assert_int_equal(hgw_backoff_jitter(10000, 0), 7500);
	assert_int_equal(hgw_backoff_jitter(10000, UINT32_MAX), 12499);
	assert_int_equal(hgw_backoff_jitter(10000, 0x80000000u), 10000);
	assert_int_equal(hgw_backoff_jitter(0, 0), 0);
	assert_int_equal(hgw_backoff_jitter(0, UINT32_MAX), 0);
}

static void
test_backoff_jitter_spread(void **state)
{
	/* For a fixed base: monotonic in rnd, and random rnd fills the range
	 * evenly (mean near base, all four quarters used). */
	uint32_t base = 10000, prev = 0, r;
	unsigned quarter[4] = { 0 };
	uint64_t sum = 0;
	int k;

	(void)state;
	for (r = 0; r < 0xffff0000u; r += 0x10000u) {
		uint32_t d = hgw_backoff_jitter(base, r);

		assert_true(d >= prev);
		prev = d;
	}
	for (k = 0; k < 40000; k++) {
		uint32_t d = hgw_backoff_jitter(base, rnd());

		sum += d;
		quarter[(d - 7500) / 1250]++;
	}
	assert_true(sum / 40000 > 9900 && sum / 40000 < 10100);
	for (k = 0; k < 4; k++)
		assert_true(quarter[k] > 9000 && quarter[k] < 11000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fsm_table),
		cmocka_unit_test(test_fsm_invariants),
		cmocka_unit_test(test_fsm_scenarios),
		cmocka_unit_test(test_fsm_out_of_range),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_negotiate_timers),
		cmocka_unit_test(test_negotiate_both_sides),
		cmocka_unit_test(test_collision),
		cmocka_unit_test(test_backoff_next),
		cmocka_unit_test(test_backoff_jitter_bounds),
		cmocka_unit_test(test_backoff_jitter_spread),
	};

	return cmocka_run_group_tests(tests, 0, NULL);
}
