/* test_lease.c: unit tests for daemon/lease.c's rules with fake peers (fakes.c), a fake origin, sync barrier and LAN, and the real state file in a temporary folder: claims, conflicts, releases, reservations, the state file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fakes.h"
#include "hgwd.h"
#include "lan.h"
#include "lease.h"
#include "log.h"
#include "origin.h"
#include "sync.h"

#define NODE	0x0a000005u	/* 10.0.0.5: us */
#define NODE_B	0x0a000009u	/* higher than ours */
#define NODE_C	0x0a000002u	/* lower than ours */
#define NODE_D	0x0a000007u
#define HOLD_S	60

static char dir[64];		/* the temporary folder of the state file */
static char lease_file[128];
static struct hgwd d;
static int running;

/* Fakes of what lease.c calls below it: origin, the sync barrier, the LAN. */

struct origin_call {
	int add;
	enum origin_source src;
	struct hgw_prefix pfx;
};
static struct origin_call ocalls[64];
static size_t nocalls;

int
origin_add(struct hgwd *dd, enum origin_source src, const struct hgw_prefix *p)
{
	if (nocalls >= 64)
		fail_msg("fake: too many origin calls");
	ocalls[nocalls].add = 1;
	ocalls[nocalls].src = src;
	ocalls[nocalls].pfx = *p;
	nocalls++;
	return 0;
}

void
origin_del(struct hgwd *dd, enum origin_source src, const struct hgw_prefix *p)
{
	if (nocalls >= 64)
		fail_msg("fake: too many origin calls");
	ocalls[nocalls].add = 0;
	ocalls[nocalls].src = src;
	ocalls[nocalls].pfx = *p;
	nocalls++;
}

static struct {
	sync_done_fn fn;
	void *arg;
	int done;
} fake_sync;

int
sync_on_done(struct sync *s, sync_done_fn fn, void *arg)
{
	if (fake_sync.done) {
		fn(arg, "already over");
		return 0;
	}
	if (fake_sync.fn != NULL)
		fail_msg("fake: a second sync subscriber");
	fake_sync.fn = fn;
	fake_sync.arg = arg;
	return 0;
}

int
sync_done(const struct sync *s)
{
	return fake_sync.done;
}

/* The test says the initial sync is over. */
static void
sync_over(void)
{
	assert_false(fake_sync.done);
	fake_sync.done = 1;
	assert_non_null(fake_sync.fn);
	fake_sync.fn(fake_sync.arg, "test");
}

static struct hgw_prefix lan[4];
static int nlan;

int
kernel_lan_overlaps(const struct kernel *k, const struct hgw_prefix *p, struct hgw_prefix *which)
{
	int i;

	for (i = 0; i < nlan; i++)
		if (hgw_prefix_overlaps(&lan[i], p)) {
			if (which != NULL)
				*which = lan[i];
			return 1;
		}
	return 0;
}

/* Set-up: the daemon's state as leases_init finds it. */

static void
cfg(const char *line)
{
	enum cfg_ctx ctx = CFG_CTX_ROUTER;
	char err[256] = "";

	if (config_statement(&d.cfg, &ctx, line, 1, err, sizeof(err)) != 0)
		fail_msg("'%s' refused: %s", line, err);
}

/* Starts lease.c as node id with the cluster network net (PREFIX/LEN),
 * reading the state file as it is. */
static void
start(uint32_t id, const char *net, int len)
{
	enum cfg_ctx ctx = CFG_CTX_TOP;
	char err[256], line[256];

	assert_false(running);
	fake_peers_reset();
	memset(&fake_sync, 0, sizeof(fake_sync));
	nocalls = 0;
	memset(&d, 0, sizeof(d));
	config_init(&d.cfg);
	assert_int_equal(config_statement(&d.cfg, &ctx, "router hgw", 1, err, sizeof(err)), 0);
	snprintf(line, sizeof(line), "cluster-network %s subnet-length %d", net, len);
	cfg(line);
	snprintf(line, sizeof(line), "lease-hold %d", HOLD_S);
	cfg(line);
	snprintf(line, sizeof(line), "lease-file %s", lease_file);
	cfg(line);
	snprintf(d.cfg.ifname, sizeof(d.cfg.ifname), "lan0");
	d.node_id = id;
	hgw_nodeid_to_addr(id, &d.addr4);
	d.start_ms = now_ms();
	assert_non_null(d.base = event_base_new());
	assert_int_equal(rib_init(&d.rib, NULL, NULL), 0);
	assert_int_equal(leases_init(&d), 0);
	running = 1;
}

static void
stop(void)
{
	if (!running)
		return;
	leases_free(&d);
	rib_destroy(&d.rib);
	event_base_free(d.base);
	config_free(&d.cfg);
	running = 0;
}

static int
setup(void **state)
{
	nlan = 0;
	unlink(lease_file);
	return 0;
}

static int
teardown(void **state)
{
	stop();
	return 0;
}

static int
group_setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/hgw-test-lease.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(lease_file, sizeof(lease_file), "%s/lease", dir);
	return 0;
}

static int
group_teardown(void **state)
{
	unlink(lease_file);
	return rmdir(dir);
}

/* Helpers. */

static struct hgw_prefix
mine(void)
{
	struct hgw_prefix p;

	if (leases_mine(&d, AF_INET, &p) != 0)
		fail_msg("no lease of ours");
	return p;
}

static int
is_mine(const struct hgw_prefix *want)
{
	struct hgw_prefix p;

	return leases_mine(&d, AF_INET, &p) == 0 && hgw_prefix_eq(&p, want);
}

static const char *
fmt(const struct hgw_prefix *p)
{
	static char buf[4][HGW_ADDRSTRLEN];
	static int i;

	i = (i + 1) % 4;
	return hgw_prefix_fmt(p, buf[i], sizeof(buf[i]));
}

/* The table's entry for p: its owner, claim time and state. -1 when absent. */
static int
entry(const struct hgw_prefix *p, struct lease_info *out)
{
	size_t i;

	for (i = 0; i < leases_count(&d); i++)
		if (leases_get(&d, i, out) == 0 && hgw_prefix_eq(&out->prefix, p))
			return 0;
	return -1;
}

static uint32_t
owner_of(const struct hgw_prefix *p)
{
	struct lease_info li;

	return entry(p, &li) == 0 ? li.owner : 0;
}

static uint32_t
owner_of_mine(void)
{
	struct hgw_prefix p = mine();

	return owner_of(&p);
}

static int
entry_mine(struct lease_info *out)
{
	struct hgw_prefix p = mine();

	return entry(&p, out);
}

/* A LEASE frame from peer p with one lease; the sender has not seen its
 * owner live for unseen_ms (without active). */
static void
rx_unseen(struct peer *p, int op, uint32_t owner, const struct hgw_prefix *pfx,
    uint64_t claim_ms, int active, uint32_t unseen_ms)
{
	struct hgw_lease w;
	uint8_t buf[256];
	size_t first = 0, len;

	memset(&w, 0, sizeof(w));
	w.op = (uint8_t)op;
	w.flags = active ? HGW_LEASE_F_ACTIVE : 0;
	w.owner = owner;
	w.claim_ms = claim_ms;
	w.unseen_ms = unseen_ms;
	w.prefix = *pfx;
	len = hgw_leases_encode(buf, sizeof(buf), &w, 1, &first);
	assert_true(len > HGW_HDR_LEN);
	fake_peer_frame(p, HGW_MSG_LEASE, buf + HGW_HDR_LEN, len - HGW_HDR_LEN);
}

static void
rx(struct peer *p, int op, uint32_t owner, const struct hgw_prefix *pfx, uint64_t claim_ms,
    int active)
{
	rx_unseen(p, op, owner, pfx, claim_ms, active, 0);
}

/* How many leases of op/owner/prefix were sent (to peer to; NULL: anyone)
 * in the frames from frame index from on. */
static int
sent(size_t from, struct peer *to, int op, uint32_t owner, const struct hgw_prefix *p)
{
	size_t i, j;
	int n = 0;

	for (i = from; i < fake_peers.nframes; i++)
		for (j = 0; j < fake_peers.frames[i].n; j++) {
			const struct hgw_lease *w = &fake_peers.frames[i].ls[j];

			if ((to == NULL || fake_peers.frames[i].to == to) && w->op == op &&
			    w->owner == owner && hgw_prefix_eq(&w->prefix, p))
				n++;
		}
	return n;
}

/* How many origin calls (add or del) for p from index from on. */
static int
origin_calls(size_t from, int add, const struct hgw_prefix *p)
{
	size_t i;
	int n = 0;

	for (i = from; i < nocalls; i++)
		if (ocalls[i].add == add && ocalls[i].src == ORIGIN_LEASE &&
		    hgw_prefix_eq(&ocalls[i].pfx, p))
			n++;
	return n;
}

static int
has_event(const char *text)
{
	const char *ev[32];
	size_t i, n = leases_events(&d, ev, 32);

	for (i = 0; i < n; i++)
		if (strstr(ev[i], text) != NULL)
			return 1;
	return 0;
}

/* The subnet idx of a cluster network, computed here independently. */
static struct hgw_prefix
subnet(const char *net, int len, uint32_t idx)
{
	struct hgw_prefix p = fake_prefix(net);
	uint32_t v = (uint32_t)p.bytes[0] << 24 | (uint32_t)p.bytes[1] << 16 |
	    (uint32_t)p.bytes[2] << 8 | p.bytes[3];

	v |= idx << (32 - len);
	p.bytes[0] = (uint8_t)(v >> 24);
	p.bytes[1] = (uint8_t)(v >> 16);
	p.bytes[2] = (uint8_t)(v >> 8);
	p.bytes[3] = (uint8_t)v;
	p.plen = (uint8_t)len;
	return p;
}

/* Which subnet index a prefix is in its cluster network. */
static uint32_t
index_of(const struct hgw_prefix *p, int netlen)
{
	uint32_t v = (uint32_t)p->bytes[0] << 24 | (uint32_t)p->bytes[1] << 16 |
	    (uint32_t)p->bytes[2] << 8 | p->bytes[3];

	return (v >> (32 - p->plen)) & ((1u << (p->plen - netlen)) - 1);
}

/* The documented first choice: a hash of the node id modulo the number of
 * subnets (murmur3's 32-bit finalizer). */
static uint32_t
first_choice(uint32_t id, uint32_t n)
{
	id ^= id >> 16;
	id *= 0x7feb352du;
	id ^= id >> 15;
	id *= 0x846ca68bu;
	id ^= id >> 16;
	return id % n;
}

static char *
slurp(const char *path)
{
	static char buf[1024];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The tests. */

static void
test_listener(void **state)
{
	const struct peer_listener *l;

	start(NODE, "10.244.0.0/16", 24);
	l = fake_listener("lease");
	assert_non_null(l);
	assert_int_equal(l->msg_type, HGW_MSG_LEASE);
	assert_true(l->caps & HGW_CAP_LEASES);
	assert_non_null(l->up);
	assert_non_null(l->down);
	assert_non_null(l->frame);
}

static void
test_claim_after_sync(void **state)
{
	struct peer b, old;
	struct hgw_prefix p, want = subnet("10.244.0.0/16", 24, first_choice(NODE, 256));
	struct lease_info li;
	char line[128];
	const char *text;

	start(NODE, "10.244.0.0/16", 24);
	fake_peer_init(&b, &d, NODE_B, HGW_CAP_IPV4 | HGW_CAP_LEASES);
	fake_peer_init(&old, &d, NODE_D, HGW_CAP_IPV4);	/* speaks no LEASE */
	fake_peer_up(&b);
	fake_peer_up(&old);
	/* Nothing before the initial sync is over. */
	assert_int_not_equal(leases_mine(&d, AF_INET, &p), 0);
	assert_int_equal(nocalls, 0);
	assert_int_equal(fake_peers.nframes, 0);

	sync_over();
	p = mine();
	if (!hgw_prefix_eq(&p, &want))
		fail_msg("claimed %s, the first choice of node 10.0.0.5 is %s", fmt(&p), fmt(&want));
	assert_true(has_event("(first choice)"));
	/* Originated once, told to the peer that speaks LEASE only. */
	assert_int_equal(nocalls, 1);
	assert_int_equal(origin_calls(0, 1, &p), 1);
	assert_int_equal(sent(0, &b, HGW_LEASE_CLAIM, NODE, &p), 1);
	assert_int_equal(sent(0, &old, HGW_LEASE_CLAIM, NODE, &p), 0);
	assert_int_equal(fake_peers.bad_sends, 0);
	assert_int_equal(entry(&p, &li), 0);
	assert_int_equal(li.state, LEASE_MINE);
	/* Written to the state file. */
	text = slurp(lease_file);
	assert_non_null(text);
	snprintf(line, sizeof(line), "lease %s %llu\n", fmt(&p), (unsigned long long)li.claim_ms);
	if (strstr(text, line) == NULL)
		fail_msg("state file has no '%s':\n%s", line, text);
}

static void
test_first_choice_follows_node_id(void **state)
{
	struct hgw_prefix a, b;

	start(NODE, "10.244.0.0/16", 24);
	sync_over();
	a = mine();
	stop();
	unlink(lease_file);
	start(NODE_B, "10.244.0.0/16", 24);
	sync_over();
	b = mine();
	assert_int_equal(index_of(&a, 16), first_choice(NODE, 256));
	assert_int_equal(index_of(&b, 16), first_choice(NODE_B, 256));
	assert_false(hgw_prefix_eq(&a, &b));
}

static void
test_next_free_when_taken(void **state)
{
	uint32_t first = first_choice(NODE, 256);
	struct hgw_prefix x = subnet("10.244.0.0/16", 24, first),
	    x1 = subnet("10.244.0.0/16", 24, (first + 1) % 256),
	    x2 = subnet("10.244.0.0/16", 24, (first + 2) % 256), p;
	struct peer b;

	start(NODE, "10.244.0.0/16", 24);
	fake_peer_init(&b, &d, NODE_B, HGW_CAP_IPV4 | HGW_CAP_LEASES);
	fake_peer_up(&b);
	/* The first choice is leased by b, the next one overlaps the LAN. */
	rx(&b, HGW_LEASE_CLAIM, NODE_B, &x, 1000, 1);
	assert_int_equal(owner_of(&x), NODE_B);
	lan[nlan++] = x1;
	sync_over();
	p = mine();
	if (!hgw_prefix_eq(&p, &x2))
		fail_msg("claimed %s; want %s (after %s leased, %s on the LAN)",
		    fmt(&p), fmt(&x2), fmt(&x), fmt(&x1));
	assert_true(has_event("(next free)"));
	assert_int_equal(owner_of(&x), NODE_B);
}

/* A subnet a peer routes without a lease (a static host's network, a route
 * more specific than a lease or inside one) is not taken. */
static void
test_next_free_skips_routed_subnets(void **state)
{
	uint32_t first = first_choice(NODE, 256);
	struct hgw_prefix x = subnet("10.244.0.0/16", 24, first),
	    x1 = subnet("10.244.0.0/16", 24, (first + 1) % 256),
	    x2 = subnet("10.244.0.0/16", 24, (first + 2) % 256), half, p;
	struct hgw_addr gw = fake_addr("10.60.6.9");
	struct peer b;

	start(NODE, "10.244.0.0/16", 24);
	fake_peer_init(&b, &d, NODE_B, HGW_CAP_IPV4);
	fake_peer_up(&b);
	/* b routes the first choice as a whole, and half of the next one. */
	assert_int_equal(rib_announce(&d.rib, &x, &b, NODE_B, &gw, 0), 1);
	half = x1;
	half.plen = 25;
	assert_int_equal(rib_announce(&d.rib, &half, &b, NODE_B, &gw, 0), 1);
	/* Our own network's path (no peer) is not a peer's route. */
	assert_int_equal(rib_announce(&d.rib, &x2, NULL, NODE, &gw, 0), 1);
	sync_over();
	p = mine();
	if (!hgw_prefix_eq(&p, &x2))
		fail_msg("claimed %s; want %s (%s and %s routed by a peer)",
		    fmt(&p), fmt(&x2), fmt(&x), fmt(&x1));
}

static void
test_conflict_older_wins(void **state)
{
	struct peer b;
	struct hgw_prefix x, y;
	struct lease_info li;
	size_t f, o;

	start(NODE, "10.244.0.0/16", 24);
	fake_peer_init(&b, &d, NODE_B, HGW_CAP_IPV4 | HGW_CAP_LEASES);
	fake_peer_up(&b);
	sync_over();
	x = mine();
	assert_int_equal(entry(&x, &li), 0);

	/* A newer claim of b (higher node id too) loses: we keep x and tell b. */
	f = fake_peers.nframes;
	o = nocalls;
	rx(&b, HGW_LEASE_CLAIM, NODE_B, &x, li.claim_ms + 1000, 1);
	assert_true(is_mine(&x));
	assert_int_equal(owner_of(&x), NODE);
	assert_int_equal(nocalls, o);
	assert_int_equal(sent(f, &b, HGW_LEASE_CLAIM, NODE, &x), 1);
	assert_true(has_event("claimed it earlier than"));

	/* An older claim wins: we release x, claim another. */
	f = fake_peers.nframes;
	rx(&b, HGW_LEASE_CLAIM, NODE_B, &x, li.claim_ms - 1000, 1);
	assert_int_equal(owner_of(&x), NODE_B);
	y = mine();
	assert_false(hgw_prefix_eq(&x, &y));
	assert_int_equal(origin_calls(o, 0, &x), 1);
	assert_int_equal(origin_calls(o, 1, &y), 1);
	assert_int_equal(sent(f, &b, HGW_LEASE_RELEASE, NODE, &x), 1);
	assert_int_equal(sent(f, &b, HGW_LEASE_CLAIM, NODE, &y), 1);
	assert_true(has_event("lost a conflict"));
	/* The state file follows. */
	assert_non_null(strstr(slurp(lease_file), fmt(&y)));
	assert_null(strstr(slurp(lease_file), fmt(&x)));
}

static void
test_conflict_same_time_lower_id_wins(void **state)
{
	struct peer b, c;
	struct hgw_prefix x, y;
	struct lease_info li;
	size_t o;

	start(NODE, "10.244.0.0/16", 24);
	fake_peer_init(&b, &d, NODE_B, HGW_CAP_IPV4 | HGW_CAP_LEASES);
	fake_peer_init(&c, &d, NODE_C, HGW_CAP_IPV4 | HGW_CAP_LEASES);
	fake_peer_up(&b);
	fake_peer_up(&c);
	sync_over();
	x = mine();
	assert_int_equal(entry(&x, &li), 0);
	o = nocalls;

	/* Same time, higher node id: ours stays. */
	rx(&b, HGW_LEASE_CLAIM, NODE_B, &x, li.claim_ms, 1);
	assert_int_equal(owner_of(&x), NODE);
	assert_int_equal(nocalls, o);
	assert_true(has_event("at the same time as (lower node id)"));

	/* Same time, lower node id: it wins. */
	rx(&c, HGW_LEASE_CLAIM, NODE_C, &x, li.claim_ms, 1);
	assert_int_equal(owner_of(&x), NODE_C);
	y = mine();
	assert_false(hgw_prefix_eq(&x, &y));
	assert_int_equal(origin_calls(o, 0, &x), 1);
	assert_int_equal(origin_calls(o, 1, &y), 1);
}

static void
test_conflict_between_others(void **state)
{
	struct peer b;
	struct hgw_prefix z = fake_prefix("10.244.77.0/24");

	start(NODE, "10.244.0.0/16", 24);
	fake_peer_init(&b, &d, NODE_B, HGW_CAP_IPV4 | HGW_CAP_LEASES);
	fake_peer_up(&b);
	/* b relays the claims of d and c for the same subnet. */
	rx(&b, HGW_LEASE_CLAIM, NODE_D, &z, 2000, 0);
	assert_int_equal(owner_of(&z), NODE_D);
	rx(&b, HGW_LEASE_CLAIM, NODE_C, &z, 1000, 0);
	assert_int_equal(owner_of(&z), NODE_C);	/* older */
	rx(&b, HGW_LEASE_CLAIM, NODE_D, &z, 1000, 0);
	assert_int_equal(owner_of(&z), NODE_C);	/* same time, lower id */
	rx(&b, HGW_LEASE_CLAIM, NODE_B, &z, 3000, 1);
	assert_int_equal(owner_of(&z), NODE_C);	/* newer */
	assert_int_equal(leases_count(&d), 1);
}

/* Four other nodes, each with its own session, owner of one subnet each. */
static const uint32_t owners4[4] = { NODE_B, NODE_C, NODE_D, 0x0a00000bu };

/* 10.250.0.0/22 in /24s, each claimed by its owner over its own session. */
static void
four_owners(struct peer ps[4], struct hgw_prefix s[4])
{
	int i;

	start(NODE, "10.250.0.0/22", 24);
	for (i = 0; i < 4; i++) {
		fake_peer_init(&ps[i], &d, owners4[i], HGW_CAP_IPV4 | HGW_CAP_LEASES);
		fake_peer_up(&ps[i]);
		s[i] = subnet("10.250.0.0/22", 24, (uint32_t)i);
		rx(&ps[i], HGW_LEASE_CLAIM, owners4[i], &s[i], 1000, 1);
	}
}

static void
test_no_free_then_release(void **state)
{
	struct peer ps[4];
	struct hgw_prefix s[4];
	size_t o;

	four_owners(ps, s);
	sync_over();
	assert_int_not_equal(leases_mine(&d, AF_INET, &s[0]), 0);
	assert_string_equal(leases_error(&d, AF_INET),
	    "no free /24 left in 10.250.0.0/22: all 4 subnets are leased, reserved or in use");
	assert_true(has_event("no free /24 left"));
	assert_int_equal(nocalls, 0);

	/* A release relayed by another node than the owner frees nothing. */
	rx(&ps[0], HGW_LEASE_RELEASE, owners4[2], &s[2], 1000, 1);
	assert_int_equal(owner_of(&s[2]), owners4[2]);
	assert_int_equal(nocalls, 0);

	/* The owner of subnet 3 releases it: the waiting node claims it. */
	o = nocalls;
	rx(&ps[3], HGW_LEASE_RELEASE, owners4[3], &s[3], 1000, 1);
	assert_true(is_mine(&s[3]));
	assert_int_equal(origin_calls(o, 1, &s[3]), 1);
	assert_string_equal(leases_error(&d, AF_INET), "");
	assert_int_equal(owner_of(&s[3]), NODE);
}

static void
test_reservation_expiry(void **state)
{
	struct peer ps[4];
	struct hgw_prefix s[4];
	struct lease_info li;
	uint64_t hold = (uint64_t)HOLD_S * 1000, t0;
	int i;

	four_owners(ps, s);
	assert_int_equal(entry(&s[0], &li), 0);
	assert_int_equal(li.state, LEASE_ACTIVE);

	t0 = now_ms();
	for (i = 0; i < 4; i++)
		fake_peer_down(&ps[i], PEER_DOWN_HOLD);
	assert_int_equal(entry(&s[0], &li), 0);
	assert_int_equal(li.state, LEASE_RESERVED);
	assert_true(li.expires_ms > hold - 5000 && li.expires_ms <= hold);
	/* Reservations are not free. */
	sync_over();
	assert_int_not_equal(leases_mine(&d, AF_INET, &s[0]), 0);
	assert_int_equal(nocalls, 0);

	/* Before lease-hold from the moment they left: kept. */
	leases_expire(&d, t0 + hold - 20000);
	assert_int_equal(leases_count(&d), 4);
	/* After it: gone, and the waiting node claims one. */
	leases_expire(&d, now_ms() + hold + 1);
	assert_true(has_event("expired after 60 s"));
	assert_int_equal(leases_count(&d), 1);
	assert_int_equal(nocalls, 1);
	assert_int_equal(owner_of_mine(), NODE);
	assert_int_equal(entry_mine(&li), 0);
	assert_int_equal(li.state, LEASE_MINE);
}

#define NODE_E	0x0a00000cu
#define NODE_F	0x0a00000du

/* four_owners, then the owners of s[2] (if both) and s[3] leave; two
 * new nodes e and f come up without a lease. */
static void
two_waiting(struct peer ps[4], struct hgw_prefix s[4], struct peer *e, struct peer *f, int both)
{
	four_owners(ps, s);
	if (both)
		fake_peer_down(&ps[2], PEER_DOWN_HOLD);
	fake_peer_down(&ps[3], PEER_DOWN_HOLD);
	fake_peer_init(e, &d, NODE_E, HGW_CAP_IPV4 | HGW_CAP_LEASES);
	fake_peer_init(f, &d, NODE_F, HGW_CAP_IPV4 | HGW_CAP_LEASES);
	fake_peer_up(e);
	fake_peer_up(f);
}

/* A live node's claim that came while we still held the subnet's
 * reservation (its copy had expired first) takes the subnet when ours
 * expires: the claimer does not claim again. Of two such claims, the
 * older (then the lower node id); the loser's release changes nothing. */
static void
test_claim_during_reservation_takes_it_at_expiry(void **state)
{
	struct peer ps[4], e, f;
	struct hgw_prefix s[4];

	two_waiting(ps, s, &e, &f, 0);
	sync_over();
	/* Both claim at the same instant, the higher id first: refused now. */
	rx(&f, HGW_LEASE_CLAIM, NODE_F, &s[3], 5000, 1);
	rx(&e, HGW_LEASE_CLAIM, NODE_E, &s[3], 5000, 1);
	assert_int_equal(owner_of(&s[3]), owners4[3]);
	leases_expire(&d, now_ms() + (uint64_t)HOLD_S * 1000 + 1);
	assert_int_equal(owner_of(&s[3]), NODE_E);
	assert_true(has_event("whose claim came while it was reserved"));
	/* The loser moves on and says so: e keeps it. */
	rx(&f, HGW_LEASE_RELEASE, NODE_F, &s[3], 5000, 1);
	assert_int_equal(owner_of(&s[3]), NODE_E);
	assert_int_not_equal(leases_mine(&d, AF_INET, &s[3]), 0);
}

/* A refused claim whose sender left, or released it, takes nothing. */
static void
test_claim_during_reservation_void_when_gone(void **state)
{
	struct peer ps[4], e, f;
	struct hgw_prefix s[4];

	two_waiting(ps, s, &e, &f, 1);
	rx(&e, HGW_LEASE_CLAIM, NODE_E, &s[2], 5000, 1);
	rx(&f, HGW_LEASE_CLAIM, NODE_F, &s[3], 5000, 1);
	fake_peer_down(&e, PEER_DOWN_HOLD);
	rx(&f, HGW_LEASE_RELEASE, NODE_F, &s[3], 5000, 1);
	assert_int_equal(owner_of(&s[3]), owners4[3]);	/* a release of another's entry */
	leases_expire(&d, now_ms() + (uint64_t)HOLD_S * 1000 + 1);
	assert_int_equal(owner_of(&s[2]), 0);
	assert_int_equal(owner_of(&s[3]), 0);
	assert_false(has_event("whose claim came while it was reserved"));
}

/* The reservation's owner back (and gone again): the claim it refused is
 * void; only a new one would take the subnet at the next expiry. */
static void
test_claim_during_reservation_void_when_owner_back(void **state)
{
	struct peer ps[4], e, f;
	struct hgw_prefix s[4];

	two_waiting(ps, s, &e, &f, 0);
	rx(&f, HGW_LEASE_CLAIM, NODE_F, &s[3], 5000, 1);
	fake_peer_up(&ps[3]);
	fake_peer_down(&ps[3], PEER_DOWN_HOLD);
	leases_expire(&d, now_ms() + (uint64_t)HOLD_S * 1000 + 1);
	assert_int_equal(owner_of(&s[3]), 0);
}

static void
test_live_owner_does_not_expire(void **state)
{
	struct peer b;
	struct hgw_prefix z = fake_prefix("10.244.9.0/24");

	start(NODE, "10.244.0.0/16", 24);
	fake_peer_init(&b, &d, NODE_B, HGW_CAP_IPV4 | HGW_CAP_LEASES);
	fake_peer_up(&b);
	rx(&b, HGW_LEASE_CLAIM, NODE_B, &z, 1000, 1);
	sync_over();
	leases_expire(&d, now_ms() + 10ull * HOLD_S * 1000);
	assert_int_equal(owner_of(&z), NODE_B);
	assert_int_equal(owner_of_mine(), NODE);	/* ours never expires */
}

static void
test_state_file_reclaimed(void **state)
{
	struct hgw_prefix x, p;
	struct lease_info li;
	uint64_t ms;
	FILE *f;

	start(NODE, "10.244.0.0/16", 24);
	sync_over();
	x = mine();
	assert_int_equal(entry(&x, &li), 0);
	ms = li.claim_ms;
	stop();

	/* A restart: the lease is ours again at init, with its claim time. */
	start(NODE, "10.244.0.0/16", 24);
	assert_int_equal(leases_mine(&d, AF_INET, &p), 0);
	assert_true(hgw_prefix_eq(&p, &x));
	assert_int_equal(entry(&x, &li), 0);
	assert_int_equal(li.claim_ms, ms);
	assert_int_equal(origin_calls(0, 1, &x), 1);
	assert_true(has_event("(from the state file)"));
	sync_over();
	assert_int_equal(nocalls, 1);		/* no second claim */
	stop();

	/* Lines that do not fit are not reclaimed. */
	f = fopen(lease_file, "w");
	assert_non_null(f);
	fprintf(f, "# comment\nlease 10.99.1.0/24 5\ngarbage\nlease 10.244.3.0/24 7\n");
	fclose(f);
	start(NODE, "10.244.0.0/16", 24);
	assert_int_equal(leases_mine(&d, AF_INET, &p), 0);
	assert_string_equal(fmt(&p), "10.244.3.0/24");
	assert_int_equal(entry(&p, &li), 0);
	assert_int_equal(li.claim_ms, 7);
	assert_int_equal(nocalls, 1);
	{
		char want[160];

		snprintf(want, sizeof(want), "%s:3: not a lease line; ignored", lease_file);
		assert_int_equal(fake_log_count(want), 1);
	}
}

static void
test_peer_remembers_our_lease(void **state)
{
	struct peer b;
	struct hgw_prefix r = fake_prefix("10.244.42.0/24"), old = fake_prefix("10.244.43.0/24");
	struct lease_info li;
	size_t f;

	start(NODE, "10.244.0.0/16", 24);
	fake_peer_init(&b, &d, NODE_B, HGW_CAP_IPV4 | HGW_CAP_LEASES);
	fake_peer_up(&b);
	/* Our state file was lost; b still knows our lease. */
	rx(&b, HGW_LEASE_CLAIM, NODE, &r, 4242, 0);
	assert_true(is_mine(&r));
	assert_int_equal(entry(&r, &li), 0);
	assert_int_equal(li.claim_ms, 4242);
	assert_int_equal(origin_calls(0, 1, &r), 1);
	assert_true(has_event("(remembered by a peer)"));
	sync_over();
	assert_int_equal(nocalls, 1);
	/* An older lease of ours it still remembers: we tell it we moved. */
	f = fake_peers.nframes;
	rx(&b, HGW_LEASE_CLAIM, NODE, &old, 1000, 0);
	assert_true(is_mine(&r));
	assert_int_equal(sent(f, &b, HGW_LEASE_RELEASE, NODE, &old), 1);
	assert_int_equal(owner_of(&old), 0);
	/* Our own release coming back frees nothing of ours. */
	rx(&b, HGW_LEASE_RELEASE, NODE, &r, li.claim_ms, 1);
	assert_true(is_mine(&r));
}

static void
test_peer_up_gets_table(void **state)
{
	struct peer b, c;
	struct hgw_prefix z = fake_prefix("10.244.200.0/24"), x;
	size_t f;

	start(NODE, "10.244.0.0/16", 24);
	fake_peer_init(&b, &d, NODE_B, HGW_CAP_IPV4 | HGW_CAP_LEASES);
	fake_peer_init(&c, &d, NODE_C, HGW_CAP_IPV4 | HGW_CAP_LEASES);
	fake_peer_up(&b);
	rx(&b, HGW_LEASE_CLAIM, NODE_B, &z, 1000, 1);
	sync_over();
	x = mine();
	f = fake_peers.nframes;
	fake_peer_up(&c);
	assert_int_equal(sent(f, &c, HGW_LEASE_CLAIM, NODE, &x), 1);
	assert_int_equal(sent(f, &c, HGW_LEASE_CLAIM, NODE_B, &z), 1);
	assert_int_equal(sent(f, &b, HGW_LEASE_CLAIM, NODE, &x), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_listener, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_after_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_choice_follows_node_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_free_when_taken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_free_skips_routed_subnets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflict_older_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflict_same_time_lower_id_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflict_between_others, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_free_then_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reservation_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_during_reservation_takes_it_at_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_during_reservation_void_when_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_during_reservation_void_when_owner_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_owner_does_not_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_file_reclaimed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_remembers_our_lease, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_up_gets_table, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
