/* nodeid.c: the binding of node ids to the address their sessions come
 * from, for meshes without certificates: a table indexed by node id. */
#include "nodeid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define NBUCKETS	1024

struct binding {
	uint32_t node_id;
	struct hgw_addr addr;
	int live;		/* sessions up with it from addr */
	uint64_t seen_ms;	/* monotonic: last up or down */
	int next;
};

struct nodeid_tab {
	struct binding b[NODEID_MAX];
	size_t n;
	int head[NBUCKETS];
};

static unsigned
bucket(uint32_t id)
{
	return (id * 2654435761u) >> 22;	/* 10 bits */
}

struct nodeid_tab *
nodeid_new(void)
{
	struct nodeid_tab *t = calloc(1, sizeof(*t));

	if (t != NULL)
		memset(t->head, 0xff, sizeof(t->head));
	return t;
}

void
nodeid_free(struct nodeid_tab *t)
{
	free(t);
}

size_t
nodeid_count(const struct nodeid_tab *t)
{
	return t != NULL ? t->n : 0;
}

static const struct binding *
find(const struct nodeid_tab *t, uint32_t id)
{
	int i;

	for (i = t->head[bucket(id)]; i >= 0; i = t->b[i].next)
		if (t->b[i].node_id == id)
			return &t->b[i];
	return NULL;
}

static void
unlink_at(struct nodeid_tab *t, int i)
{
	int *pp = &t->head[bucket(t->b[i].node_id)];

	while (*pp >= 0 && *pp != i)
		pp = &t->b[*pp].next;
	if (*pp == i)
		*pp = t->b[i].next;
}

/* Frees the slot of the oldest binding that is not live; -1 when all are. */
static int
evict(struct nodeid_tab *t)
{
	size_t i, last = t->n - 1;
	int old = -1;

	for (i = 0; i < t->n; i++)
		if (!t->b[i].live && (old < 0 || t->b[i].seen_ms < t->b[old].seen_ms))
			old = (int)i;
	if (old < 0)
		return -1;
	unlink_at(t, old);
	if ((size_t)old != last) {
		unsigned h;

		unlink_at(t, (int)last);
		t->b[old] = t->b[last];
		h = bucket(t->b[old].node_id);
		t->b[old].next = t->head[h];
		t->head[h] = old;
	}
	t->n--;
	return 0;
}

void
nodeid_seen(struct nodeid_tab *t, uint32_t node_id, const struct hgw_addr *a, int live)
{
	struct binding *b;
	unsigned h;

	if (t == NULL)
		return;
	if ((b = (struct binding *)find(t, node_id)) == NULL) {
		if (!live || (t->n == NODEID_MAX && evict(t) < 0))
			return;
		b = &t->b[t->n];
		memset(b, 0, sizeof(*b));
		b->node_id = node_id;
		h = bucket(node_id);
		b->next = t->head[h];
		t->head[h] = (int)t->n++;
	}
	if (hgw_addr_cmp(&b->addr, a) != 0) {
		if (!live)
			return;		/* a refused or replaced address ends nothing */
		b->addr = *a;		/* checked by nodeid_check before */
		b->live = 0;
	}
	if (live)
		b->live++;
	else if (b->live > 0)
		b->live--;
	b->seen_ms = now_ms();
}

int
nodeid_bound(const struct nodeid_tab *t, uint32_t node_id, struct hgw_addr *out)
{
	const struct binding *b = t != NULL ? find(t, node_id) : NULL;

	if (b == NULL)
		return -1;
	*out = b->addr;
	return 0;
}

int
nodeid_check(const struct nodeid_tab *t, uint32_t node_id, const struct hgw_addr *a,
    uint64_t hold_ms, char *why, size_t len)
{
	const struct binding *b = t != NULL ? find(t, node_id) : NULL;
	char ab[HGW_ADDRSTRLEN];
	uint64_t age;

	if (b == NULL || hgw_addr_cmp(&b->addr, a) == 0)
		return 0;
	age = b->live ? 0 : now_ms() - b->seen_ms;
	if (age >= hold_ms)
		return 0;
	snprintf(why, len, "node id bound to %s (%s)", hgw_addr_fmt(&b->addr, ab, sizeof(ab)),
	    b->live ? "in session now" : "seen within lease-hold");
	return -1;
}
