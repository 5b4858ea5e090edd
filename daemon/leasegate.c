/* leasegate.c: in lease mode, a node announces only the subnet it holds the
 * lease for (PROTOCOL.md, Security), unless its address is in a
 * static-hosts prefix; refused announcements of a lease's shape are held
 * until the claim arrives (leaseroute.c re-applies them). The lease table is
 * asked through d->lease_overlap (lease.c may not be called from here). */
#include "leasegate.h"

#include <stdio.h>
#include <string.h>

#include "hgwd.h"
#include "nodeid.h"
#include "peer.h"
#include "util.h"

#define HELD_MAX	1024	/* held announcements, in total */

struct held {
	const struct peer *peer;	/* compared, never followed */
	uint32_t peer_node;		/* with peer: a freed peer's slot reused is no match */
	struct hgw_upd_item it;
};

static struct held held[HELD_MAX];
static size_t nheld;

static int
fam_index(int family)
{
	return family == AF_INET ? 0 : 1;
}

static void
drop(size_t i)
{
	held[i] = held[--nheld];
}

/* One per (peer, origin, family): a later refusal replaces the earlier. */
static void
hold(const struct peer *p, const struct hgw_upd_item *it)
{
	size_t i;

	for (i = 0; i < nheld; i++)
		if (held[i].peer == p && held[i].it.origin == it->origin &&
		    held[i].it.prefix.family == it->prefix.family)
			break;
	if (i == nheld) {
		if (nheld == HELD_MAX)
			return;		/* not held: the peer's next announcement is checked anew */
		nheld++;
	}
	held[i].peer = p;
	held[i].peer_node = p->node_id;
	held[i].it = *it;
}

const char *
leasegate_refuse(struct hgwd *d, const struct peer *p, const struct hgw_upd_item *it,
    char *buf, size_t len)
{
	const struct hgw_prefix *pfx = &it->prefix;
	int fi = fam_index(pfx->family), shape;
	struct hgw_prefix leased;
	uint32_t owner = 0;
	char nb[16];

	if (!d->cfg.lease_len[fi] || !hgw_prefix_overlaps(&d->cfg.lease_net[fi], pfx))
		return NULL;	/* no lease mode in this family, or outside its leases */
	if (d->lease_overlap != NULL && d->lease_overlap(d, pfx, &leased, &owner) &&
	    hgw_prefix_eq(&leased, pfx)) {
		if (owner == it->origin)
			return NULL;
		snprintf(buf, len, "leased by node %s, not by the sender",
		    hgw_nodeid_fmt(owner, nb, sizeof(nb)));
	} else if (config_static_host(&d->cfg, &p->addr))
		return NULL;	/* a static network (the overlap rules still apply) */
	else
		snprintf(buf, len, "not leased by the sender");
	shape = pfx->plen == d->cfg.lease_len[fi] && hgw_prefix_contains(&d->cfg.lease_net[fi], pfx);
	if (shape)
		hold(p, it);
	return buf;
}

void
leasegate_forget(const struct peer *p, const struct hgw_prefix *pfx)
{
	size_t i;

	for (i = 0; i < nheld;)
		if (held[i].peer == p && (pfx == NULL || hgw_prefix_eq(&held[i].it.prefix, pfx)))
			drop(i);
		else
			i++;
}

size_t
leasegate_take(const struct peer *p, const struct hgw_prefix *pfx, struct hgw_upd_item *out,
    size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < nheld && n < max;)
		if (held[i].peer == p && hgw_prefix_eq(&held[i].it.prefix, pfx)) {
			if (held[i].peer_node == p->node_id)
				out[n++] = held[i].it;
			drop(i);
		} else
			i++;
	return n;
}

size_t
leasegate_held(struct hgw_prefix *out, size_t max)
{
	size_t i;

	for (i = 0; i < nheld && i < max; i++)
		out[i] = held[i].it.prefix;
	return i;
}

int
leasegate_has(const struct hgw_prefix *pfx)
{
	size_t i;

	for (i = 0; i < nheld; i++)
		if (hgw_prefix_eq(&held[i].it.prefix, pfx))
			return 1;
	return 0;
}

size_t
leasegate_count(void)
{
	return nheld;
}
