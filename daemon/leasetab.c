/* leasetab.c: the lease table and its prefix index (chained hash). */
#include "leasetab.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static unsigned
bucket(const struct hgw_prefix *p)
{
	unsigned h = 2166136261u ^ p->family ^ ((unsigned)p->plen << 8);
	size_t k;

	for (k = 0; k < sizeof(p->bytes); k++)
		h = (h ^ p->bytes[k]) * 16777619u;
	return h & (LEASETAB_BUCKETS - 1);
}

static void
index_link(struct leasetab *t, int i)
{
	unsigned b = bucket(&t->tab[i].prefix);

	t->tab[i].next = t->head[b];
	t->head[b] = i;
}

static void
index_unlink(struct leasetab *t, int i)
{
	int *pp = &t->head[bucket(&t->tab[i].prefix)];

	while (*pp >= 0 && *pp != i)
		pp = &t->tab[*pp].next;
	if (*pp == i)
		*pp = t->tab[i].next;
}

void
leasetab_init(struct leasetab *t)
{
	memset(t, 0, sizeof(*t));
	memset(t->head, 0xff, sizeof(t->head));	/* -1: empty */
}

void
leasetab_free(struct leasetab *t)
{
	free(t->tab);
	leasetab_init(t);
}

struct lease *
leasetab_find(struct leasetab *t, const struct hgw_prefix *p)
{
	int i;

	for (i = t->head[bucket(p)]; i >= 0; i = t->tab[i].next)
		if (hgw_prefix_eq(&t->tab[i].prefix, p))
			return &t->tab[i];
	return NULL;
}

struct lease *
leasetab_owner(struct leasetab *t, uint32_t owner, int family, size_t *count)
{
	struct lease *found = NULL;
	size_t i;

	*count = 0;
	for (i = 0; i < t->n; i++)
		if (t->tab[i].owner == owner) {
			(*count)++;
			if (t->tab[i].prefix.family == family)
				found = &t->tab[i];
		}
	return found;
}

struct lease *
leasetab_add(struct leasetab *t, const struct hgw_prefix *p, uint32_t owner, uint64_t claim_ms)
{
	struct lease *e;

	if (t->n >= LEASES_MAX || grow_array((void **)&t->tab, &t->cap, t->n + 1, sizeof(*t->tab)) < 0)
		return NULL;
	e = &t->tab[t->n++];
	memset(e, 0, sizeof(*e));
	e->prefix = *p;
	e->owner = owner;
	e->claim_ms = claim_ms;
	e->seen_ms = e->known_ms = now_ms();
	index_link(t, (int)(e - t->tab));
	return e;
}

size_t
leasetab_remove(struct leasetab *t, size_t i)
{
	size_t last = t->n - 1;

	index_unlink(t, (int)i);
	if (i != last) {
		index_unlink(t, (int)last);
		t->tab[i] = t->tab[last];
		index_link(t, (int)i);
	}
	t->n--;
	return last;
}
