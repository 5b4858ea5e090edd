/* peeridx.c: the index of peers by address: chained buckets, doubled when
 * the peers outnumber them. */
#include "peeridx.h"

#include <stdlib.h>

#include "peer.h"

struct node {
	struct peer *p;
	struct node *next;
};

struct peeridx {
	struct node **b;
	size_t nb, n;
};

static size_t
hash(const struct hgw_addr *a, size_t nb)
{
	unsigned h = 2166136261u ^ a->family;
	size_t k;

	for (k = 0; k < sizeof(a->bytes); k++)
		h = (h ^ a->bytes[k]) * 16777619u;
	return h & (nb - 1);
}

static int
grow(struct peeridx *ix)
{
	size_t nb = ix->nb ? ix->nb * 2 : 64, i;
	struct node **b = calloc(nb, sizeof(*b));

	if (b == NULL)
		return -1;
	for (i = 0; i < ix->nb; i++)
		while (ix->b[i] != NULL) {
			struct node *x = ix->b[i];
			size_t h = hash(&x->p->addr, nb);

			ix->b[i] = x->next;
			x->next = b[h];
			b[h] = x;
		}
	free(ix->b);
	ix->b = b;
	ix->nb = nb;
	return 0;
}

int
peeridx_add(struct peeridx **ixp, struct peer *p)
{
	struct peeridx *ix = *ixp;
	struct node *x;
	size_t h;

	if (ix == NULL && (ix = *ixp = calloc(1, sizeof(*ix))) == NULL)
		return -1;
	if (ix->n >= ix->nb && grow(ix) < 0)
		return -1;
	if ((x = malloc(sizeof(*x))) == NULL)
		return -1;
	h = hash(&p->addr, ix->nb);
	x->p = p;
	x->next = ix->b[h];
	ix->b[h] = x;
	ix->n++;
	return 0;
}

void
peeridx_del(struct peeridx *ix, const struct peer *p)
{
	struct node **pp, *x;

	if (ix == NULL || ix->nb == 0)
		return;
	for (pp = &ix->b[hash(&p->addr, ix->nb)]; (x = *pp) != NULL; pp = &x->next)
		if (x->p == p) {
			*pp = x->next;
			free(x);
			ix->n--;
			return;
		}
}

struct peer *
peeridx_find(const struct peeridx *ix, const struct hgw_addr *a)
{
	const struct node *x;

	if (ix == NULL || ix->nb == 0)
		return NULL;
	for (x = ix->b[hash(a, ix->nb)]; x != NULL; x = x->next)
		if (hgw_addr_cmp(&x->p->addr, a) == 0)
			return x->p;
	return NULL;
}

void
peeridx_free(struct peeridx **ixp)
{
	struct peeridx *ix = *ixp;
	size_t i;

	if (ix == NULL)
		return;
	for (i = 0; i < ix->nb; i++)
		while (ix->b[i] != NULL) {
			struct node *x = ix->b[i];

			ix->b[i] = x->next;
			free(x);
		}
	free(ix->b);
	free(ix);
	*ixp = NULL;
}
