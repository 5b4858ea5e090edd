/* rib.c: the routing information base: prefix index, paths, best path, conflicts, dirty queue. */
#include "rib.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

static int incumbent(const struct rib_entry *e, uint32_t origin, uint32_t now_ds);
static void debug_change(const struct rib_entry *e, const char *what, uint32_t origin,
    const struct hgw_addr *gw);

#define RIB_MIN_SLOTS	1024
#define NH_MIN_SLOTS	64

int
rib_init(struct rib *r, rib_dirty_fn fn, void *arg)
{
	memset(r, 0, sizeof(*r));
	pool_init(&r->entry_pool, sizeof(struct rib_entry));
	pool_init(&r->path_pool, sizeof(struct rib_path));
	r->slots = calloc(RIB_MIN_SLOTS, sizeof(*r->slots));
	r->nh_slots = calloc(NH_MIN_SLOTS, sizeof(*r->nh_slots));
	if (r->slots == NULL || r->nh_slots == NULL) {
		free(r->slots);
		free(r->nh_slots);
		return -1;
	}
	r->nslots = RIB_MIN_SLOTS;
	r->nh_nslots = NH_MIN_SLOTS;
	r->dirty_fn = fn;
	r->dirty_arg = arg;
	return 0;
}

void
rib_destroy(struct rib *r)
{
	size_t i;

	for (i = 0; i < r->nh_nslots; i++) {
		struct nexthop *nh = r->nh_slots[i], *next;

		for (; nh != NULL; nh = next) {
			next = nh->next;
			free(nh);
		}
	}
	free(r->nh_slots);
	free(r->slots);
	free(r->dirty);
	pool_destroy(&r->entry_pool);
	pool_destroy(&r->path_pool);
	memset(r, 0, sizeof(*r));
}

/* Nexthops: a small chained hash table; there is one per gateway in the cluster. */

static uint32_t
nh_hash(const struct hgw_addr *a)
{
	struct hgw_prefix p;

	p.family = a->family;
	p.plen = 0;
	memcpy(p.bytes, a->bytes, sizeof(p.bytes));
	return hgw_prefix_hash(&p);
}

static int
nh_grow(struct rib *r)
{
	size_t n = r->nh_nslots * 2, i;
	struct nexthop **slots = calloc(n, sizeof(*slots));

	if (slots == NULL)
		return -1;
	for (i = 0; i < r->nh_nslots; i++) {
		struct nexthop *nh = r->nh_slots[i], *next;

		for (; nh != NULL; nh = next) {
			size_t h = nh_hash(&nh->addr) & (n - 1);

			next = nh->next;
			nh->next = slots[h];
			slots[h] = nh;
		}
	}
	free(r->nh_slots);
	r->nh_slots = slots;
	r->nh_nslots = n;
	return 0;
}

struct nexthop *
rib_nh_get(struct rib *r, const struct hgw_addr *a)
{
	size_t h = nh_hash(a) & (r->nh_nslots - 1);
	struct nexthop *nh;

	for (nh = r->nh_slots[h]; nh != NULL; nh = nh->next)
		if (hgw_addr_cmp(&nh->addr, a) == 0) {
			nh->refcnt++;
			return nh;
		}
	if (r->nh_count >= r->nh_nslots && nh_grow(r) == 0)
		h = nh_hash(a) & (r->nh_nslots - 1);
	if ((nh = calloc(1, sizeof(*nh))) == NULL)
		return NULL;
	nh->addr = *a;
	nh->refcnt = 1;
	nh->next = r->nh_slots[h];
	r->nh_slots[h] = nh;
	r->nh_count++;
	return nh;
}

void
rib_nh_put(struct rib *r, struct nexthop *nh)
{
	struct nexthop **pp;

	if (nh == NULL || --nh->refcnt > 0)
		return;
	for (pp = &r->nh_slots[nh_hash(&nh->addr) & (r->nh_nslots - 1)]; *pp;
	    pp = &(*pp)->next)
		if (*pp == nh) {
			*pp = nh->next;
			break;
		}
	r->nh_count--;
	free(nh);
}

/* The prefix index. Each slot holds an entry pointer whose top 16 bits
 * carry a tag from the prefix's hash (user-space pointers use 47 bits), so a
 * probe rarely has to touch the entry: no extra memory, few cache misses. */

#define SLOT_PTR_MASK	0x0000ffffffffffffull
#define SLOT_E(v)	((struct rib_entry *)((v) & SLOT_PTR_MASK))
#define SLOT_TAG(v)	((uint16_t)((v) >> 48))

uint64_t
rib_hash(const struct hgw_prefix *p)
{
	uint64_t a, b = 0, h;

	/* Bytes past the family's length are zero in every prefix we hold. */
	if (p->family == AF_INET) {
		uint32_t v;

		memcpy(&v, p->bytes, 4);
		a = v;
	} else {
		memcpy(&a, p->bytes, 8);
		memcpy(&b, p->bytes + 8, 8);
	}
	h = (a ^ ((uint64_t)p->family << 56 | (uint64_t)p->plen << 48)) * 0x9e3779b97f4a7c15ull;
	h ^= b * 0xc2b2ae3d27d4eb4full;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return h;
}

static inline uint16_t
tag_of(uint64_t h)
{
	return (uint16_t)(h >> 48) | 1;	/* never 0: 0 means "no tag" */
}

static inline int
pfx_eq(const struct hgw_prefix *a, const struct hgw_prefix *b)
{
	if (a->family != b->family || a->plen != b->plen)
		return 0;
	if (a->family == AF_INET)
		return memcmp(a->bytes, b->bytes, 4) == 0;
	return memcmp(a->bytes, b->bytes, 16) == 0;
}

struct rib_entry *
rib_slot(const struct rib *r, size_t i)
{
	return SLOT_E(r->slots[i]);
}

static uintptr_t
make_slot(struct rib_entry *e, uint64_t h)
{
	uintptr_t v = (uintptr_t)e;

	if (v & ~SLOT_PTR_MASK)
		return v;	/* a pointer above 2^48: stored untagged */
	return v | (uintptr_t)tag_of(h) << 48;
}

static size_t
find_slot_h(const struct rib *r, const struct hgw_prefix *p, uint64_t h)
{
	size_t mask = r->nslots - 1, i = (size_t)h & mask;
	uint16_t tag = tag_of(h);

	for (;; i = (i + 1) & mask) {
		uintptr_t v = r->slots[i];

		if (v == 0)
			return i;
		if ((SLOT_TAG(v) == tag || SLOT_TAG(v) == 0) && pfx_eq(&SLOT_E(v)->pfx, p))
			return i;
	}
}

static size_t
find_slot(const struct rib *r, const struct hgw_prefix *p)
{
	return find_slot_h(r, p, rib_hash(p));
}

struct rib_entry *
rib_lookup(const struct rib *r, const struct hgw_prefix *p)
{
	return SLOT_E(r->slots[find_slot(r, p)]);
}

/* Entries per length: counted, with a bit per length held. */
static void
nlen_add(struct rib *r, const struct hgw_prefix *p, int delta)
{
	int f = p->family == AF_INET ? 0 : 1, len = p->plen <= 128 ? p->plen : 128;
	uint32_t *n = &r->nlen[f][len];

	*n = delta > 0 ? *n + 1 : *n - 1;
	if (*n == 0)
		r->lenmask[f][len / 64] &= ~(1ull << (len % 64));
	else
		r->lenmask[f][len / 64] |= 1ull << (len % 64);
}

/* The longest length held below len, -1 when none. */
static int
len_below(const uint64_t *m, int len)
{
	while (len > 0) {
		int top = len - 1, w = top / 64, b = top % 64;
		uint64_t bits = m[w] & (b == 63 ? ~0ull : (1ull << (b + 1)) - 1);

		if (bits != 0)
			return w * 64 + 63 - __builtin_clzll(bits);
		len = w * 64;
	}
	return -1;
}

struct rib_entry *
rib_covering(const struct rib *r, const struct hgw_prefix *p, const struct rib_entry *from)
{
	const uint64_t *m = r->lenmask[p->family == AF_INET ? 0 : 1];
	struct hgw_prefix up = *p;
	int len = from != NULL ? from->pfx.plen : p->plen;
	struct rib_entry *e;

	while ((len = len_below(m, len)) >= 0) {
		up.plen = (uint8_t)len;
		hgw_prefix_mask(&up);
		if ((e = rib_lookup(r, &up)) != NULL && e->paths != NULL)
			return e;
	}
	return NULL;
}

static int
grow(struct rib *r)
{
	size_t n = r->nslots * 2, i, old = r->nslots;
	uintptr_t *oslots = r->slots, *slots = calloc(n, sizeof(*slots));

	if (slots == NULL)
		return -1;
	r->slots = slots;
	r->nslots = n;
	for (i = 0; i < old; i++) {
		uintptr_t v = oslots[i];
		uint64_t h;
		size_t j;

		if (v == 0)
			continue;
		/* Every entry is distinct: just find the first free slot. */
		h = rib_hash(&SLOT_E(v)->pfx);
		for (j = (size_t)h & (n - 1); slots[j] != 0; j = (j + 1) & (n - 1))
			;
		slots[j] = v;
	}
	free(oslots);
	return 0;
}

struct rib_entry *
rib_get(struct rib *r, const struct hgw_prefix *p)
{
	uint64_t h = rib_hash(p);
	size_t i = find_slot_h(r, p, h);
	struct rib_entry *e;

	if (r->slots[i] != 0)
		return SLOT_E(r->slots[i]);
	if ((r->count + 1) * 4 > r->nslots * 3) {
		if (grow(r) < 0)
			return NULL;
		i = find_slot_h(r, p, h);
	}
	if ((e = pool_get(&r->entry_pool)) == NULL)
		return NULL;
	e->pfx = *p;
	r->slots[i] = make_slot(e, h);
	r->count++;
	nlen_add(r, p, 1);
	return e;
}

static void
remove_slot(struct rib *r, size_t i)
{
	size_t mask = r->nslots - 1, j = i;

	r->slots[i] = 0;
	for (;;) {
		size_t k;

		j = (j + 1) & mask;
		if (r->slots[j] == 0)
			break;
		k = (size_t)rib_hash(&SLOT_E(r->slots[j])->pfx) & mask;
		/* Move j back to i when i lies on j's probe path from k. */
		if (((j - k) & mask) >= ((j - i) & mask)) {
			r->slots[i] = r->slots[j];
			r->slots[j] = 0;
			i = j;
		}
	}
	r->count--;
}

void
rib_release(struct rib *r, struct rib_entry *e)
{
	if (e->paths != NULL || e->fib_nh != NULL ||
	    (e->flags & (RIB_E_DIRTY | RIB_E_PENDING)))
		return;
	remove_slot(r, find_slot(r, &e->pfx));
	nlen_add(r, &e->pfx, -1);
	if (e->flags & RIB_E_CONFLICT)
		r->nconflicts--;
	pool_put(&r->entry_pool, e);
}

void
rib_mark_dirty(struct rib *r, struct rib_entry *e)
{
	if (e->flags & RIB_E_DIRTY)
		return;
	if (grow_array((void **)&r->dirty, &r->dirty_cap, r->ndirty + 1,
	    sizeof(*r->dirty)) < 0) {
		/* Cannot queue: the next full resync picks it up. */
		log_err("rib: out of memory queueing a change");
		return;
	}
	e->flags |= RIB_E_DIRTY;
	r->dirty[r->ndirty++] = e;
	if (r->ndirty - r->dirty_head == 1 && r->dirty_fn != NULL)
		r->dirty_fn(r->dirty_arg);
}

size_t
rib_take_dirty(struct rib *r, struct rib_entry **out, size_t max)
{
	size_t n = 0;

	while (n < max && r->dirty_head < r->ndirty) {
		struct rib_entry *e = r->dirty[r->dirty_head++];

		e->flags &= ~RIB_E_DIRTY;
		out[n++] = e;
	}
	if (r->dirty_head == r->ndirty) {
		r->dirty_head = r->ndirty = 0;
		/* A burst of a million changes leaves no million-slot queue behind. */
		if (r->dirty_cap > 65536) {
			free(r->dirty);
			r->dirty = NULL;
			r->dirty_cap = 0;
		}
	}
	return n;
}

/* Paths. */

static int
path_cmp(const struct rib_path *a, const struct rib_path *b)
{
	int al = a->peer == NULL, bl = b->peer == NULL, c;

	/* Our own networks are never replaced by learned ones. */
	if (al != bl)
		return al ? -1 : 1;
	/* A claim that held the prefix first is not displaced by a newcomer. */
	if ((a->flags & RIB_PATH_CONTENDER) != (b->flags & RIB_PATH_CONTENDER))
		return (a->flags & RIB_PATH_CONTENDER) ? 1 : -1;
	/* The same choice on every host: lowest origin, then lowest gateway. */
	if (a->origin != b->origin)
		return a->origin < b->origin ? -1 : 1;
	if ((c = hgw_addr_cmp(&a->nh->addr, &b->nh->addr)) != 0)
		return c;
	return (int)(a->flags & RIB_PATH_STALE) - (int)(b->flags & RIB_PATH_STALE);
}

static void
insert_sorted(struct rib_entry *e, struct rib_path *p)
{
	struct rib_path **pp = &e->paths;

	while (*pp != NULL && path_cmp(*pp, p) <= 0)
		pp = &(*pp)->next;
	p->next = *pp;
	*pp = p;
}

static void
update_conflict(struct rib *r, struct rib_entry *e)
{
	struct rib_path *p;
	int conflict = 0;
	char pfx[HGW_ADDRSTRLEN], a[16], b[16];

	for (p = e->paths; p != NULL && !conflict; p = p->next)
		conflict = p->origin != e->paths->origin;
	if (conflict == !!(e->flags & RIB_E_CONFLICT))
		return;
	hgw_prefix_fmt(&e->pfx, pfx, sizeof(pfx));
	if (conflict) {
		for (p = e->paths->next; p->origin == e->paths->origin; p = p->next)
			;
		e->flags |= RIB_E_CONFLICT;
		r->nconflicts++;
		log_warnx("conflict: %s is claimed by node %s and node %s; %s wins",
		    pfx, hgw_nodeid_fmt(e->paths->origin, a, sizeof(a)),
		    hgw_nodeid_fmt(p->origin, b, sizeof(b)),
		    e->paths->peer == NULL ? "our own network" : a);
	} else {
		e->flags &= ~RIB_E_CONFLICT;
		r->nconflicts--;
		log_notice("conflict over %s resolved", pfx);
	}
}

int
rib_announce(struct rib *r, const struct hgw_prefix *pfx, struct peer *peer,
    uint32_t origin, const struct hgw_addr *gw, uint32_t now_ds)
{
	struct rib_entry *e;
	struct rib_path **pp, *p;
	struct nexthop *nh;
	int added = 0;

	if ((e = rib_get(r, pfx)) == NULL)
		return -1;
	for (pp = &e->paths; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->peer == peer && (*pp)->origin == origin)
			break;
	if ((p = *pp) != NULL) {
		if (hgw_addr_cmp(&p->nh->addr, gw) == 0 &&
		    !(p->flags & RIB_PATH_STALE))
			return 0;	/* a repeat: nothing changes */
		*pp = p->next;	/* re-inserted below */
		if ((nh = rib_nh_get(r, gw)) == NULL) {
			insert_sorted(e, p);
			return -1;
		}
		if (nh != p->nh)
			p->since_ds = now_ds;
		rib_nh_put(r, p->nh);
	} else {
		if ((nh = rib_nh_get(r, gw)) == NULL ||
		    (p = pool_get(&r->path_pool)) == NULL) {
			rib_nh_put(r, nh);
			if (e->paths == NULL)
				rib_mark_dirty(r, e);	/* released by the flush */
			return -1;
		}
		p->peer = peer;
		p->origin = origin;
		p->since_ds = now_ds;
		r->npaths++;
		added = 1;
	}
	p->nh = nh;
	p->flags &= RIB_PATH_CONTENDER;		/* a refresh clears stale, not contention */
	if (added && peer != NULL && incumbent(e, origin, now_ds))
		p->flags |= RIB_PATH_CONTENDER;
	insert_sorted(e, p);
	update_conflict(r, e);
	rib_mark_dirty(r, e);
	debug_change(e, added ? "new" : "changed", origin, gw);
	return added;
}

/* debug rib: one line per change, with the best path after it. */
static void
debug_change(const struct rib_entry *e, const char *what, uint32_t origin,
    const struct hgw_addr *gw)
{
	char pb[HGW_ADDRSTRLEN], gb[HGW_ADDRSTRLEN], ob[16], bb[16], bg[HGW_ADDRSTRLEN];
	const struct rib_path *b = e->paths;

	if (!log_debug_on(LOG_CAT_RIB))
		return;
	log_debug(LOG_CAT_RIB, "rib: %s: %s path from node %s%s%s; best: %s%s%s%s",
	    hgw_prefix_fmt(&e->pfx, pb, sizeof(pb)), what,
	    hgw_nodeid_fmt(origin, ob, sizeof(ob)), gw ? " via " : "",
	    gw ? hgw_addr_fmt(gw, gb, sizeof(gb)) : "",
	    b ? (b->peer ? "node " : "our own network, node ") : "none",
	    b ? hgw_nodeid_fmt(b->origin, bb, sizeof(bb)) : "",
	    b ? " via " : "", b ? hgw_addr_fmt(&b->nh->addr, bg, sizeof(bg)) : "");
}

/* Does another origin hold e with a settled claim (older than
 * RIB_INCUMBENT_DS, not itself contending)? Then a new claim from origin
 * contends: it is a visible conflict but never the best path while the
 * incumbent lasts. Claims made at about the same time (both younger) are
 * settled by the usual order, the lowest origin: the same on every host. */
static int
incumbent(const struct rib_entry *e, uint32_t origin, uint32_t now_ds)
{
	const struct rib_path *q;

	for (q = e->paths; q != NULL; q = q->next)
		if (q->peer != NULL && q->origin != origin &&
		    !(q->flags & (RIB_PATH_CONTENDER | RIB_PATH_STALE)) &&
		    ((now_ds - q->since_ds) & 0x3fffffffu) >= RIB_INCUMBENT_DS)
			return 1;
	return 0;
}

/* After a path left: with no incumbent remaining, contenders are ordinary
 * claims again. */
static void
settle_contenders(struct rib_entry *e)
{
	struct rib_path *q, *list;
	int any = 0, incumbents = 0;

	for (q = e->paths; q != NULL; q = q->next) {
		any |= (q->flags & RIB_PATH_CONTENDER) != 0;
		incumbents |= q->peer != NULL && !(q->flags & RIB_PATH_CONTENDER);
	}
	if (!any || incumbents)
		return;
	list = e->paths;
	e->paths = NULL;
	while (list != NULL) {
		q = list;
		list = q->next;
		q->flags &= ~RIB_PATH_CONTENDER;
		insert_sorted(e, q);
	}
}

static void
free_path(struct rib *r, struct rib_path *p)
{
	rib_nh_put(r, p->nh);
	pool_put(&r->path_pool, p);
	r->npaths--;
}

int
rib_withdraw(struct rib *r, const struct hgw_prefix *pfx, struct peer *peer,
    uint32_t origin)
{
	struct rib_entry *e = rib_lookup(r, pfx);
	struct rib_path **pp, *p;

	if (e == NULL)
		return 0;
	for (pp = &e->paths; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->peer == peer && (*pp)->origin == origin)
			break;
	if ((p = *pp) == NULL)
		return 0;
	*pp = p->next;
	free_path(r, p);
	settle_contenders(e);
	update_conflict(r, e);
	rib_mark_dirty(r, e);
	debug_change(e, "withdrawn", origin, NULL);
	return 1;
}

size_t
rib_drop_peer(struct rib *r, struct peer *peer, int stale_only)
{
	size_t i, n = 0;

	for (i = 0; i < r->nslots; i++) {
		struct rib_entry *e = SLOT_E(r->slots[i]);
		struct rib_path **pp;
		int changed = 0;

		if (e == NULL)
			continue;
		for (pp = &e->paths; *pp != NULL;) {
			struct rib_path *p = *pp;

			if (p->peer == peer &&
			    (!stale_only || (p->flags & RIB_PATH_STALE))) {
				*pp = p->next;
				free_path(r, p);
				changed = 1;
				n++;
			} else
				pp = &p->next;
		}
		if (changed) {
			settle_contenders(e);
			update_conflict(r, e);
			rib_mark_dirty(r, e);
			debug_change(e, "dropped (peer gone)", 0, NULL);
		}
	}
	return n;
}

size_t
rib_mark_peer_stale(struct rib *r, struct peer *peer)
{
	size_t i, n = 0;

	for (i = 0; i < r->nslots; i++) {
		struct rib_entry *e = SLOT_E(r->slots[i]);
		struct rib_path *p, *next;
		int changed = 0;

		if (e == NULL)
			continue;
		for (p = e->paths; p != NULL; p = p->next)
			if (p->peer == peer) {
				p->flags |= RIB_PATH_STALE;
				changed = 1;
				n++;
			}
		/* Stale sorts after an equal fresh path: sort again. */
		if (changed && e->paths->next != NULL)
			for (p = e->paths, e->paths = NULL; p != NULL; p = next) {
				next = p->next;
				insert_sorted(e, p);
			}
	}
	return n;
}

void
rib_foreach(const struct rib *r, void (*fn)(void *arg, struct rib_entry *e), void *arg)
{
	size_t i;

	for (i = 0; i < r->nslots; i++)
		if (r->slots[i] != 0)
			fn(arg, SLOT_E(r->slots[i]));
}

static uint32_t
bits_between(const struct hgw_prefix *p, int from, int to)
{
	uint32_t v = 0;
	int i;

	for (i = from; i < to; i++)
		v = v << 1 | ((p->bytes[i / 8] >> (7 - i % 8)) & 1u);
	return v;
}

void
rib_mark_used(const struct rib *r, const struct hgw_prefix *net, int len, uint8_t *used)
{
	size_t i;

	for (i = 0; i < r->nslots; i++) {
		const struct rib_entry *e = SLOT_E(r->slots[i]);
		const struct rib_path *pa;
		uint32_t lo, span, k;
		int upto;

		if (r->slots[i] == 0 || e->pfx.family != net->family ||
		    e->pfx.plen < net->plen || !hgw_prefix_contains(net, &e->pfx))
			continue;
		for (pa = e->paths; pa != NULL && pa->peer == NULL; pa = pa->next)
			;
		if (pa == NULL)
			continue;	/* only our own networks: the caller knows them */
		upto = e->pfx.plen < len ? e->pfx.plen : len;
		span = 1u << (len - upto);
		lo = bits_between(&e->pfx, net->plen, upto) << (len - upto);
		for (k = 0; k < span; k++)
			used[(lo + k) / 8] |= (uint8_t)(0x80u >> ((lo + k) % 8));
	}
}

static int
cmp_prefix(const void *a, const void *b)
{
	return hgw_prefix_cmp(a, b);
}

struct hgw_prefix *
rib_snapshot(const struct rib *r, size_t *n)
{
	struct hgw_prefix *out;
	size_t i, k = 0;

	*n = 0;
	if (r->count == 0 || (out = malloc(r->count * sizeof(*out))) == NULL)
		return NULL;
	for (i = 0; i < r->nslots; i++)
		if (r->slots[i] != 0)
			out[k++] = SLOT_E(r->slots[i])->pfx;
	qsort(out, k, sizeof(*out), cmp_prefix);
	*n = k;
	return out;
}

size_t
rib_memory(const struct rib *r)
{
	return pool_bytes(&r->entry_pool) + pool_bytes(&r->path_pool) +
	    r->nslots * sizeof(*r->slots) + r->dirty_cap * sizeof(*r->dirty) +
	    r->nh_nslots * sizeof(*r->nh_slots) + r->nh_count * sizeof(struct nexthop);
}
