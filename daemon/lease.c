/* lease.c: subnet leases of the cluster network: choice, claims, conflicts,
 * reservations, the state file and flannel's subnet.env. It hears of peers
 * through peer.c's listener interface, claims once the initial sync is over
 * (sync.c) and originates its subnets through origin.c. */
#include "lease.h"
#include "leasefile.h"
#include "leasetab.h"

#include <event2/event.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hgwd.h"
#include "kernel.h"
#include "lan.h"
#include "log.h"
#include "origin.h"
#include "ratelog.h"
#include "peer.h"
#include "sync.h"
#include "util.h"

#define NEVENTS		16
#define EXPIRE_MAX_MS	60000	/* the expiry timer runs at the next expiry, at most this late */
#define SETTLE_MS	5000	/* a claim known this long (its owner live) is settled */
#define SENDBACK_MS	10000	/* a winning claim is sent back to a loser at most this often */
#define SAVE_RETRY_MS	2000	/* a failed state-file write is retried this often */
#define LEASES_PER_OWNER 2	/* entries per owner: one per family */

struct leases {
	struct leasetab t;		/* every lease we know, indexed by prefix */
	int mine[2];			/* index in tab of our lease per family, or -1 */
	char error[2][192];		/* why we hold no lease, if so */
	char events[NEVENTS][200];	/* what happened lately, for show leases */
	uint64_t event_ms[NEVENTS];
	unsigned nevents;
	struct event *expire_ev;
	struct event *save_ev;		/* retries a failed state-file write */
	int unsaved;			/* the state file is not up to date */
	char save_error[192];
	uint64_t sync_done_ms;		/* monotonic; 0: the initial sync is not over */
	uint64_t refused;		/* claims and releases refused */
	char last_refused[320];
	struct hgwd *d;
	lease_change_fn changed;	/* leaseroute.c: routes follow the table */
};

static void expire_cb(evutil_socket_t fd, short what, void *arg);
static void schedule_expiry(struct hgwd *d);
static int settled(struct hgwd *d, const struct lease *e);

/* Is the owner live: us, or a node we hold an established session with? */
static int
owner_live(struct hgwd *d, uint32_t owner)
{
	return owner == d->node_id || peer_by_node(d, owner) != NULL;
}

static uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
fam_index(int family)
{
	return family == AF_INET ? 0 : 1;
}

static void __attribute__((format(printf, 2, 3)))
event_log(struct leases *L, const char *fmt, ...)
{
	va_list ap;
	unsigned i = L->nevents % NEVENTS;

	va_start(ap, fmt);
	vsnprintf(L->events[i], sizeof(L->events[i]), fmt, ap);
	va_end(ap);
	L->event_ms[i] = wall_ms();
	L->nevents++;
	log_info("lease: %s", L->events[i]);
}

static void
remove_at(struct leases *L, size_t i)
{
	struct hgw_prefix gone = L->t.tab[i].prefix;
	size_t moved = leasetab_remove(&L->t, i);
	int f;

	for (f = 0; f < 2; f++) {
		if (L->mine[f] == (int)i)
			L->mine[f] = -1;
		else if (L->mine[f] == (int)moved)
			L->mine[f] = (int)i;
	}
	if (L->changed != NULL)
		L->changed(L->d, &gone);
}

static struct lease *
add_entry(struct leases *L, const struct hgw_prefix *p, uint32_t owner, uint64_t claim_ms)
{
	struct lease *e = leasetab_add(&L->t, p, owner, claim_ms);

	if (e != NULL && L->changed != NULL)
		L->changed(L->d, p);
	return e;
}

/* Does a win over b? The older claim, then the lower node id. */
static int
wins(uint64_t a_ms, uint32_t a_owner, uint64_t b_ms, uint32_t b_owner)
{
	if (a_ms != b_ms)
		return a_ms < b_ms;
	return a_owner < b_owner;
}

/* Files. */
static void
save_state(struct hgwd *d)
{
	struct leases *L = d->leases;
	struct hgw_prefix p[2];
	uint64_t ms[2];
	char err[160];
	int f, n = 0;

	for (f = 0; f < 2; f++)
		if (L->mine[f] >= 0) {
			p[n] = L->t.tab[L->mine[f]].prefix;
			ms[n++] = L->t.tab[L->mine[f]].claim_ms;
		}
	if (leasefile_write(d->cfg.lease_file, d->node_id, p, ms, n, err, sizeof(err)) < 0) {
		struct timeval tv = { SAVE_RETRY_MS / 1000, (SAVE_RETRY_MS % 1000) * 1000 };

		/* Said once per failure, retried until it works. */
		if (!L->unsaved || strcmp(L->save_error, err) != 0)
			log_warnx("lease: cannot write %s; retrying every %d s", err, SAVE_RETRY_MS / 1000);
		snprintf(L->save_error, sizeof(L->save_error), "%s", err);
		L->unsaved = 1;
		if (L->save_ev != NULL)
			event_add(L->save_ev, &tv);
		return;
	}
	if (L->unsaved)
		log_notice("lease: %s written", d->cfg.lease_file);
	L->unsaved = 0;
	L->save_error[0] = '\0';
}

static void
save_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hgwd *d = arg;

	if (d->leases != NULL && d->leases->unsaved)
		save_state(d);
}

/* Gossip. */
struct send_ctx {
	const struct hgw_lease *ls;
	size_t n;
	uint8_t *buf;
};

static void
send_one(void *arg, struct peer *p)
{
	struct send_ctx *c = arg;
	size_t first = 0, len;

	if (!peer_has_cap(p, HGW_CAP_LEASES))
		return;
	while ((len = hgw_leases_encode(c->buf, HGW_MAX_FRAME, c->ls, c->n, &first)) > 0)
		peer_send(p, c->buf, len);
}

/* To one peer, or to every established peer when only is NULL. */
static void
send_entries(struct hgwd *d, struct peer *only, const struct hgw_lease *ls, size_t n)
{
	struct send_ctx c = { ls, n, malloc(HGW_MAX_FRAME) };

	if (c.buf == NULL)
		return;
	if (only != NULL)
		send_one(&c, only);
	else
		peer_foreach_up(d, send_one, &c);
	free(c.buf);
}

static void
to_wire(struct hgwd *d, const struct lease *e, int op, struct hgw_lease *w)
{
	memset(w, 0, sizeof(*w));
	w->op = (uint8_t)op;
	w->owner = e->owner;
	w->claim_ms = e->claim_ms;
	w->prefix = e->prefix;
	if (owner_live(d, e->owner)) {
		w->flags = HGW_LEASE_F_ACTIVE;
		if (e->owner == d->node_id && settled(d, e))
			w->flags |= HGW_LEASE_F_SETTLED;
	} else {
		uint64_t age = now_ms() - e->seen_ms;

		w->unseen_ms = age > UINT32_MAX ? UINT32_MAX : (uint32_t)age;
	}
}

static void
broadcast(struct hgwd *d, const struct lease *e, int op)
{
	struct hgw_lease w;

	to_wire(d, e, op, &w);
	send_entries(d, NULL, &w, 1);
}

static void
on_peer_up(void *arg, struct peer *p)
{
	struct hgwd *d = arg;
	struct leases *L = d->leases;
	struct hgw_lease *w;
	size_t i;

	if (L == NULL)
		return;
	for (i = 0; i < L->t.n; i++)
		if (L->t.tab[i].owner == p->node_id) {
			L->t.tab[i].seen_ms = now_ms();
			L->t.tab[i].firsthand = 1;
			L->t.tab[i].next_owner = 0;	/* no reservation any more */
		}
	if (L->t.n == 0 || (w = calloc(L->t.n, sizeof(*w))) == NULL)
		return;
	for (i = 0; i < L->t.n; i++)
		to_wire(d, &L->t.tab[i], HGW_LEASE_CLAIM, &w[i]);
	send_entries(d, p, w, L->t.n);
	free(w);
}

static void
on_peer_down(void *arg, struct peer *p, enum peer_down_reason why)
{
	struct hgwd *d = arg;
	struct leases *L = d->leases;
	size_t i;

	if (L == NULL || p->node_id == 0)
		return;
	/* The reservation's clock starts now. */
	for (i = 0; i < L->t.n; i++)
		if (L->t.tab[i].owner == p->node_id)
			L->t.tab[i].seen_ms = now_ms();
	schedule_expiry(d);
}

/* Claiming. */
static void
subnet_at(const struct hgw_prefix *net, int len, uint32_t idx, struct hgw_prefix *out)
{
	int bits = len - net->plen, b;

	*out = *net;
	out->plen = (uint8_t)len;
	for (b = 0; b < bits; b++) {
		int pos = len - 1 - b;

		if (idx & (1u << b))
			out->bytes[pos / 8] |= (uint8_t)(0x80 >> (pos % 8));
	}
}

/* used: the subnets peers route (a static host's network, a route that
 * outlived its lease: rib_mark_used), NULL when the range is too large to
 * map; then an identical route is still seen. */
static int
taken(struct hgwd *d, const struct hgw_prefix *cand, const uint8_t *used, uint32_t idx)
{
	const struct rib_entry *e = used == NULL ? rib_lookup(&d->rib, cand) : NULL;
	const struct rib_path *pa;
	size_t i;

	if (leasetab_find(&d->leases->t, cand) != NULL ||
	    (used != NULL && (used[idx / 8] & (0x80u >> (idx % 8))) != 0))
		return 1;
	for (pa = e != NULL ? e->paths : NULL; pa != NULL; pa = pa->next)
		if (pa->peer != NULL)
			return 1;
	for (i = 0; i < d->cfg.nnetworks; i++)
		if (hgw_prefix_overlaps(&d->cfg.networks[i], cand))
			return 1;
	return kernel_lan_overlaps(d->kernel, cand, NULL);
}

static uint32_t
mix(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

static int
family_wanted(const struct hgwd *d, int fi)
{
	size_t i;
	int fam = fi == 0 ? AF_INET : AF_INET6;

	if (!d->cfg.lease_len[fi])
		return 0;
	for (i = 0; i < d->cfg.nnetworks; i++)
		if (d->cfg.networks[i].family == fam)
			return 0;	/* a configured network of that family wins */
	return 1;
}

static void
take(struct hgwd *d, int fi, const struct hgw_prefix *p, uint64_t claim_ms, const char *how)
{
	struct leases *L = d->leases;
	struct lease *e;
	char pb[HGW_ADDRSTRLEN];

	if ((e = add_entry(L, p, d->node_id, claim_ms)) == NULL)
		return;
	e->firsthand = 1;
	e->from_file = strcmp(how, "from the state file") == 0;
	L->mine[fi] = (int)(e - L->t.tab);
	L->error[fi][0] = '\0';
	event_log(L, "claimed %s (%s)", hgw_prefix_fmt(p, pb, sizeof(pb)), how);
	save_state(d);
	/* The claim before the route: peers accept only a leased subnet. */
	broadcast(d, &L->t.tab[L->mine[fi]], HGW_LEASE_CLAIM);
	origin_add(d, ORIGIN_LEASE, p);	/* subnet.env follows (origin's subscribers) */
}

static void
claim(struct hgwd *d, int fi)
{
	struct leases *L = d->leases;
	const struct hgw_prefix *net = &d->cfg.lease_net[fi];
	int len = d->cfg.lease_len[fi];
	uint32_t n = 1u << (len - net->plen), start, i;
	struct hgw_prefix cand;
	char nb[HGW_ADDRSTRLEN];
	uint8_t *used;

	if (L->mine[fi] >= 0 || !family_wanted(d, fi))
		return;
	if ((used = len - net->plen <= 20 ? calloc(n / 8 + 1, 1) : NULL) != NULL)
		rib_mark_used(&d->rib, net, len, used);
	start = mix(d->node_id) % n;
	for (i = 0; i < n; i++) {
		subnet_at(net, len, (start + i) % n, &cand);
		if (!taken(d, &cand, used, (start + i) % n)) {
			free(used);
			take(d, fi, &cand, wall_ms(), i == 0 ? "first choice" : "next free");
			return;
		}
	}
	free(used);
	snprintf(L->error[fi], sizeof(L->error[fi]),
	    "no free /%d left in %s: all %u subnets are leased, reserved or in use", len,
	    hgw_prefix_fmt(net, nb, sizeof(nb)), n);
	if (L->nevents == 0 || strstr(L->events[(L->nevents - 1) % NEVENTS], "no free") == NULL)
		event_log(L, "%s", L->error[fi]);
}

static void
release_mine(struct hgwd *d, int fi, const char *why)
{
	struct leases *L = d->leases;
	struct lease e;
	char pb[HGW_ADDRSTRLEN];

	if (L->mine[fi] < 0)
		return;
	e = L->t.tab[L->mine[fi]];
	remove_at(L, (size_t)L->mine[fi]);
	origin_del(d, ORIGIN_LEASE, &e.prefix);
	broadcast(d, &e, HGW_LEASE_RELEASE);
	event_log(L, "released %s: %s", hgw_prefix_fmt(&e.prefix, pb, sizeof(pb)), why);
	save_state(d);
}

/* The initial sync is over: what the mesh holds is known, claim now. */
static void
on_sync_done(void *arg, const char *why)
{
	struct hgwd *d = arg;
	int fi;

	if (d->leases == NULL)
		return;
	if (d->leases->sync_done_ms == 0)
		d->leases->sync_done_ms = now_ms();
	for (fi = 0; fi < 2; fi++)
		claim(d, fi);
}

/* Receiving. */
/* The subnet a claim may name: inside the cluster network, of subnet-length. */
static int
fits(const struct hgwd *d, const struct hgw_prefix *p)
{
	int fi = fam_index(p->family);

	return d->cfg.lease_len[fi] && p->plen == d->cfg.lease_len[fi] &&
	    hgw_prefix_contains(&d->cfg.lease_net[fi], p);
}

/* A claim known to us long enough, whose owner is live, is settled: only a
 * concurrent claim may contest it. Our own from the state file is settled
 * only once the initial sync has been over for a while. */
static int
settled(struct hgwd *d, const struct lease *e)
{
	uint64_t now = now_ms();

	if (now - e->known_ms < SETTLE_MS || !(e->firsthand || owner_live(d, e->owner)))
		return 0;
	if (e->from_file)
		return d->leases->sync_done_ms != 0 && now - d->leases->sync_done_ms >= SETTLE_MS;
	return 1;
}

static void __attribute__((format(printf, 4, 5)))
refuse(struct hgwd *d, struct peer *from, const struct hgw_lease *w, const char *fmt, ...)
{
	struct leases *L = d->leases;
	char why[128], pb[HGW_ADDRSTRLEN], nb[16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	L->refused++;
	snprintf(L->last_refused, sizeof(L->last_refused), "%s %s of node %s from %s: %s",
	    w->op == HGW_LEASE_CLAIM ? "claim" : "release", hgw_prefix_fmt(&w->prefix, pb, sizeof(pb)),
	    hgw_nodeid_fmt(w->owner, nb, sizeof(nb)), from != NULL ? from->name : "?", why);
	if (ratelog_allow(from != NULL ? &from->addr : NULL))
		log_notice("lease: refused %s", L->last_refused);
}

/* The winning entry e goes back to the sender of a losing claim, so the
 * loser moves at once; at most every SENDBACK_MS (two nodes that both keep
 * their own must not feed each other). */
static void
send_back(struct hgwd *d, struct peer *from, struct lease *e)
{
	struct hgw_lease back;
	uint64_t now = now_ms();

	if (from == NULL || !owner_live(d, e->owner) ||
	    (e->sentback_ms != 0 && now - e->sentback_ms < SENDBACK_MS))
		return;
	e->sentback_ms = now;
	to_wire(d, e, HGW_LEASE_CLAIM, &back);
	send_entries(d, from, &back, 1);
}

static void
log_conflict(struct leases *L, struct peer *from, const struct hgw_prefix *p, uint32_t win,
    uint64_t win_ms, uint32_t lose, uint64_t lose_ms, const char *how)
{
	char pb[HGW_ADDRSTRLEN], a[16], b[16];

	if (!ratelog_allow(from != NULL ? &from->addr : NULL))
		return;
	event_log(L, "conflict over %s: node %s %s node %s; %s keeps it",
	    hgw_prefix_fmt(p, pb, sizeof(pb)), hgw_nodeid_fmt(win, a, sizeof(a)),
	    how != NULL ? how : win_ms == lose_ms ? "claimed it at the same time as (lower node id)" :
	    "claimed it earlier than", hgw_nodeid_fmt(lose, b, sizeof(b)), a);
}

/* When the sender heard of it: the owner was last seen live unseen_ms ago. */
static uint64_t
seen_at(const struct hgw_lease *w)
{
	uint64_t now = now_ms();

	if (w->flags & HGW_LEASE_F_ACTIVE)
		return now;
	return w->unseen_ms < now ? now - w->unseen_ms : 0;
}

/* Does the claim w take e's subnet? The older claim wins (then the lower
 * node id) only among claims made at the same time; see PROTOCOL.md,
 * Security. auth: w comes from its owner's own session. */
static int
claim_wins(struct hgwd *d, const struct lease *e, const struct hgw_lease *w, int auth)
{
	uint64_t hold = (uint64_t)d->cfg.lease_hold_s * 1000;
	int order = wins(w->claim_ms, w->owner, e->claim_ms, e->owner);
	int mine = e->owner == d->node_id, firm = settled(d, e);

	if (!auth) {
		/* A hint displaces only another hint, or our unsettled claim
		 * from the state file. */
		if (mine)
			return order && e->from_file && !firm;
		return order && !e->firsthand && !owner_live(d, e->owner);
	}
	if (mine && e->from_file && !firm && (w->flags & HGW_LEASE_F_SETTLED))
		/* Ours from the state file yields to a live owner's settled
		 * lease: a copy of the same claim (a cloned state file) or one
		 * made after ours had expired (back after lease-hold). */
		return order || w->claim_ms == e->claim_ms || w->claim_ms > e->claim_ms + hold;
	if (!firm)
		return order;
	/* Settled: a clock far in the past, a host back after lease-hold or a
	 * copy of the same claim yields; a split healed is settled by order. */
	return order && w->claim_ms != e->claim_ms && e->claim_ms - w->claim_ms <= hold;
}

static void
rx_claim(struct hgwd *d, struct peer *from, const struct hgw_lease *w)
{
	struct leases *L = d->leases;
	int fi = fam_index(w->prefix.family);
	int auth = from != NULL && from->node_id == w->owner;
	struct lease *e;
	size_t count;

	if (!fits(d, &w->prefix)) {
		refuse(d, from, w, "not a /%d of the cluster network", d->cfg.lease_len[fi]);
		return;
	}
	if (w->owner == d->node_id) {
		/* A peer remembers a lease of ours: take it back if we have none
		 * (a restart that lost the state file), else tell it we moved. */
		if (L->mine[fi] >= 0 && hgw_prefix_eq(&L->t.tab[L->mine[fi]].prefix, &w->prefix))
			return;
		if (L->mine[fi] < 0 && family_wanted(d, fi) && !taken(d, &w->prefix, NULL, 0)) {
			take(d, fi, &w->prefix, w->claim_ms, "remembered by a peer");
			return;
		}
		{
			struct lease tmp;

			memset(&tmp, 0, sizeof(tmp));
			tmp.prefix = w->prefix;
			tmp.owner = w->owner;
			tmp.claim_ms = w->claim_ms;
			broadcast(d, &tmp, HGW_LEASE_RELEASE);
		}
		return;
	}
	if (!auth && owner_live(d, w->owner))
		return;		/* its owner, in session with us, speaks for itself */
	e = leasetab_find(&L->t, &w->prefix);
	if (e != NULL && e->owner == w->owner) {
		if (auth) {
			e->claim_ms = w->claim_ms;
			e->seen_ms = now_ms();
			e->firsthand = 1;
		} else {
			/* A relayed age only ever makes a reservation last longer. */
			uint64_t seen = seen_at(w);

			if (seen > e->seen_ms)
				e->seen_ms = seen;
		}
		return;
	}
	if (e != NULL) {
		int mine = e->owner == d->node_id;

		if (!claim_wins(d, e, w, auth)) {
			/* A reservation may expire here later than at the claimer:
			 * the claim waits for it (leases_expire). */
			int waits = auth && !mine && !owner_live(d, e->owner);
			char nb[16];

			if (waits && (e->next_owner == 0 ||
			    wins(w->claim_ms, w->owner, e->next_claim_ms, e->next_owner))) {
				e->next_owner = w->owner;
				e->next_claim_ms = w->claim_ms;
			}
			if (waits && ratelog_allow(&from->addr)) {
				char pb[HGW_ADDRSTRLEN], a[16];

				event_log(L, "claim of %s by node %s waits: node %s's reservation has not expired here yet",
				    hgw_prefix_fmt(&w->prefix, pb, sizeof(pb)), hgw_nodeid_fmt(w->owner, a, sizeof(a)),
				    hgw_nodeid_fmt(e->owner, nb, sizeof(nb)));
			} else if (auth || mine)
				log_conflict(L, from, &w->prefix, e->owner, e->claim_ms, w->owner, w->claim_ms,
				    settled(d, e) && !wins(e->claim_ms, e->owner, w->claim_ms, w->owner) ?
				    "holds it (settled, live) against the later-made claim of" : NULL);
			refuse(d, from, w, auth ? "held by node %s" : "a relayed entry does not displace node %s's lease",
			    hgw_nodeid_fmt(e->owner, nb, sizeof(nb)));
			send_back(d, from, e);
			return;
		}
		log_conflict(L, from, &w->prefix, w->owner, w->claim_ms, e->owner, e->claim_ms, NULL);
		if (mine) {
			int mf = fam_index(e->prefix.family);
			struct lease *n;

			release_mine(d, mf, "lost a conflict; choosing another subnet");
			if ((n = add_entry(L, &w->prefix, w->owner, w->claim_ms)) != NULL)
				n->firsthand = (uint8_t)auth;
			claim(d, mf);
			return;
		}
		remove_at(L, (size_t)(e - L->t.tab));
	}
	/* An owner holds one lease per family: a first-hand claim of another
	 * subnet replaces its old one. */
	e = leasetab_owner(&L->t, w->owner, w->prefix.family, &count);
	if (e != NULL && auth) {
		remove_at(L, (size_t)(e - L->t.tab));
		count--;
	} else if (e != NULL || count >= LEASES_PER_OWNER) {
		refuse(d, from, w, "node holds a lease in that family already");
		return;
	}
	if ((e = add_entry(L, &w->prefix, w->owner, w->claim_ms)) == NULL) {
		refuse(d, from, w, "the lease table is full (%d entries)", LEASES_MAX);
		return;
	}
	/* A relayed entry's clock starts when we first hear of it. */
	e->firsthand = (uint8_t)auth;
	schedule_expiry(d);
}

static void
rx_release(struct hgwd *d, struct peer *from, const struct hgw_lease *w)
{
	struct leases *L = d->leases;
	struct lease *e;
	int fi;

	if (w->owner == d->node_id)
		return;		/* only we release ours */
	if (from == NULL || from->node_id != w->owner) {
		refuse(d, from, w, "only its owner may release it");
		return;
	}
	if ((e = leasetab_find(&L->t, &w->prefix)) != NULL && e->next_owner == w->owner)
		e->next_owner = 0;
	if (e != NULL && e->owner == w->owner)
		remove_at(L, (size_t)(e - L->t.tab));
	/* A subnet came free: a node without a lease may take one now. */
	for (fi = 0; fi < 2; fi++)
		if (L->mine[fi] < 0 && L->error[fi][0])
			claim(d, fi);
}

static void
on_frame(void *arg, struct peer *p, const uint8_t *body, size_t len)
{
	struct hgwd *d = arg;
	struct hgw_lease w;
	size_t off = 0;

	if (d->leases == NULL)
		return;
	while (hgw_leases_next(body, len, &off, &w)) {
		if (w.op == HGW_LEASE_CLAIM)
			rx_claim(d, p, &w);
		else
			rx_release(d, p, &w);
	}
}

/* Runs the expiry timer at the next reservation's end. */
static void
schedule_expiry(struct hgwd *d)
{
	struct leases *L = d->leases;
	uint64_t now = now_ms(), hold = (uint64_t)d->cfg.lease_hold_s * 1000, next = EXPIRE_MAX_MS;
	struct timeval tv;
	size_t i;

	if (L == NULL || L->expire_ev == NULL)
		return;
	for (i = 0; i < L->t.n; i++) {
		const struct lease *e = &L->t.tab[i];
		uint64_t left;

		if (owner_live(d, e->owner))
			continue;
		left = e->seen_ms + hold > now ? e->seen_ms + hold - now : 0;
		if (left < next)
			next = left;
	}
	tv.tv_sec = (time_t)(next / 1000);
	tv.tv_usec = (suseconds_t)(next % 1000) * 1000 + 1000;
	event_add(L->expire_ev, &tv);
}

static void
expire_cb(evutil_socket_t fd, short what, void *arg)
{
	leases_expire(arg, now_ms());
}

void
leases_expire(struct hgwd *d, uint64_t now)
{
	struct leases *L = d->leases;
	uint64_t hold = (uint64_t)d->cfg.lease_hold_s * 1000;
	char pb[HGW_ADDRSTRLEN], nb[16];
	size_t i;
	int fi, freed = 0;

	for (i = 0; i < L->t.n;) {
		struct lease *e = &L->t.tab[i];

		if (!owner_live(d, e->owner) && now - e->seen_ms >= hold) {
			struct lease was = *e, *n;
			size_t count;

			event_log(L, "reservation of %s for node %s expired after %u s",
			    hgw_prefix_fmt(&e->prefix, pb, sizeof(pb)),
			    hgw_nodeid_fmt(e->owner, nb, sizeof(nb)), d->cfg.lease_hold_s);
			remove_at(L, i);
			freed = 1;
			/* The successor, if still in session and without another. */
			if (was.next_owner != 0 && owner_live(d, was.next_owner) &&
			    leasetab_owner(&L->t, was.next_owner, was.prefix.family, &count) == NULL &&
			    count < LEASES_PER_OWNER &&
			    (n = add_entry(L, &was.prefix, was.next_owner, was.next_claim_ms)) != NULL) {
				n->firsthand = 1;
				event_log(L, "%s goes to node %s, whose claim came while it was reserved",
				    pb, hgw_nodeid_fmt(was.next_owner, nb, sizeof(nb)));
			}
		} else
			i++;
	}
	if (freed)
		for (fi = 0; fi < 2; fi++)
			if (L->mine[fi] < 0 && L->error[fi][0])
				claim(d, fi);
	schedule_expiry(d);
}

static void
load_one(void *arg, const struct hgw_prefix *p, uint64_t claim_ms)
{
	struct hgwd *d = arg;
	char pb[HGW_ADDRSTRLEN];
	int fi = fam_index(p->family);

	if (!family_wanted(d, fi) || p->plen != d->cfg.lease_len[fi] ||
	    !hgw_prefix_contains(&d->cfg.lease_net[fi], p) || d->leases->mine[fi] >= 0) {
		log_info("lease: %s from %s does not fit the configuration; not reclaimed",
		    hgw_prefix_fmt(p, pb, sizeof(pb)), d->cfg.lease_file);
		return;
	}
	take(d, fi, p, claim_ms, "from the state file");
}

/* For policy.c (d->lease_overlap): a lease of another length than p that
 * contains it or lies inside it, or the same subnet. */
static int
lease_overlap(struct hgwd *d, const struct hgw_prefix *p, struct hgw_prefix *leased,
    uint32_t *owner)
{
	struct leases *L = d->leases;
	int fi = fam_index(p->family), len = d->cfg.lease_len[fi];
	struct hgw_prefix q;
	const struct lease *e;
	size_t i;

	if (L == NULL || !len || !hgw_prefix_overlaps(&d->cfg.lease_net[fi], p))
		return 0;
	if (p->plen >= len) {
		q = *p;
		q.plen = (uint8_t)len;
		hgw_prefix_mask(&q);
		e = leasetab_find(&L->t, &q);
	} else {
		/* A covering prefix: any lease inside it (the table is bounded). */
		for (e = NULL, i = 0; i < L->t.n && e == NULL; i++)
			if (hgw_prefix_contains(p, &L->t.tab[i].prefix))
				e = &L->t.tab[i];
	}
	if (e == NULL)
		return 0;
	*leased = e->prefix;
	*owner = e->owner;
	return 1;
}

int
leases_init(struct hgwd *d)
{
	struct leases *L = calloc(1, sizeof(*L));
	struct peer_listener l;

	if (L == NULL)
		return -1;
	L->mine[0] = L->mine[1] = -1;
	L->d = d;
	leasetab_init(&L->t);
	d->leases = L;
	d->lease_overlap = lease_overlap;
	L->expire_ev = evtimer_new(d->base, expire_cb, d);
	L->save_ev = evtimer_new(d->base, save_retry_cb, d);
	if (L->expire_ev == NULL || L->save_ev == NULL)
		return -1;
	memset(&l, 0, sizeof(l));
	l.name = "lease";
	l.caps = HGW_CAP_LEASES;
	l.msg_type = HGW_MSG_LEASE;
	l.up = on_peer_up;
	l.down = on_peer_down;
	l.frame = on_frame;
	l.arg = d;
	if (peer_subscribe(d, &l) < 0 || sync_on_done(d->sync, on_sync_done, d) < 0)
		return -1;
	schedule_expiry(d);
	leasefile_read(d->cfg.lease_file, load_one, d);
	return 0;
}

void
leases_free(struct hgwd *d)
{
	struct leases *L = d->leases;

	if (L == NULL)
		return;
	if (L->expire_ev)
		event_free(L->expire_ev);
	if (L->save_ev)
		event_free(L->save_ev);
	leasetab_free(&L->t);
	free(L);
	d->leases = NULL;
	d->lease_overlap = NULL;
}

void
leases_reconfigure(struct hgwd *d)
{
	struct leases *L = d->leases;
	size_t i;
	int fi;

	/* Entries that no longer fit (another subnet-length) go: the index
	 * and the rules assume one length per family. */
	for (i = 0; i < L->t.n;)
		if (L->t.tab[i].owner != d->node_id && !fits(d, &L->t.tab[i].prefix))
			remove_at(L, i);
		else
			i++;
	for (fi = 0; fi < 2; fi++) {
		if (L->mine[fi] < 0)
			continue;
		if (!family_wanted(d, fi) ||
		    L->t.tab[L->mine[fi]].prefix.plen != d->cfg.lease_len[fi] ||
		    !hgw_prefix_contains(&d->cfg.lease_net[fi], &L->t.tab[L->mine[fi]].prefix))
			release_mine(d, fi, "no longer fits the configuration");
	}
	if (sync_done(d->sync))
		on_sync_done(d, "reconfigured");
	if (L->changed != NULL)
		L->changed(d, NULL);	/* lease mode or static-hosts may have changed */
}

void
leases_on_change(struct hgwd *d, lease_change_fn fn)
{
	if (d->leases != NULL)
		d->leases->changed = fn;
}

int
leases_own(const struct hgwd *d, struct hgw_prefix *out, int max)
{
	const struct leases *L = d->leases;
	int fi, n = 0;

	for (fi = 0; L != NULL && fi < 2 && n < max; fi++)
		if (L->mine[fi] >= 0)
			out[n++] = L->t.tab[L->mine[fi]].prefix;
	return n;
}

/* For show leases. */

static enum lease_state
state_of(struct hgwd *d, const struct lease *e, uint64_t *expires)
{
	uint64_t hold = (uint64_t)d->cfg.lease_hold_s * 1000, now = now_ms();

	*expires = 0;
	if (e->owner == d->node_id)
		return LEASE_MINE;
	if (owner_live(d, e->owner))
		return LEASE_ACTIVE;
	*expires = e->seen_ms + hold > now ? e->seen_ms + hold - now : 0;
	return LEASE_RESERVED;
}

const char *
lease_state_str(enum lease_state st)
{
	switch (st) {
	case LEASE_MINE:	return "mine";
	case LEASE_ACTIVE:	return "active";
	case LEASE_RESERVED:	return "reserved";
	}
	return "unknown";
}

size_t
leases_count(const struct hgwd *d)
{
	return d->leases != NULL ? d->leases->t.n : 0;
}

int
leases_get(struct hgwd *d, size_t i, struct lease_info *out)
{
	const struct leases *L = d->leases;

	if (L == NULL || i >= L->t.n)
		return -1;
	out->prefix = L->t.tab[i].prefix;
	out->owner = L->t.tab[i].owner;
	out->claim_ms = L->t.tab[i].claim_ms;
	out->state = state_of(d, &L->t.tab[i], &out->expires_ms);
	return 0;
}

int
leases_mine(const struct hgwd *d, int family, struct hgw_prefix *out)
{
	const struct leases *L = d->leases;
	int fi = fam_index(family);

	if (L == NULL || L->mine[fi] < 0)
		return -1;
	*out = L->t.tab[L->mine[fi]].prefix;
	return 0;
}

const char *
leases_error(const struct hgwd *d, int family)
{
	const struct leases *L = d->leases;

	return L != NULL ? L->error[fam_index(family)] : "";
}

size_t
leases_events(const struct hgwd *d, const char **out, size_t max)
{
	const struct leases *L = d->leases;
	unsigned k, first;
	size_t n = 0;

	if (L == NULL)
		return 0;
	first = L->nevents > NEVENTS ? L->nevents - NEVENTS : 0;
	for (k = first; k < L->nevents && n < max; k++)
		out[n++] = L->events[k % NEVENTS];
	return n;
}

uint64_t
leases_refused(const struct hgwd *d, const char **last)
{
	const struct leases *L = d->leases;

	*last = L != NULL ? L->last_refused : "";
	return L != NULL ? L->refused : 0;
}

const char *
leases_unsaved(const struct hgwd *d)
{
	const struct leases *L = d->leases;

	return L != NULL && L->unsaved ? L->save_error : NULL;
}
