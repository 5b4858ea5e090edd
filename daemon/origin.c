/* origin.c: our own routes (configured networks, leased subnets): the RIB's
 * own paths and the UPDATE items every peer gets. */
#include "origin.h"

#include <stdlib.h>
#include <string.h>

#include "hgwd.h"
#include "log.h"
#include "peer.h"
#include "util.h"

struct own {
	struct hgw_prefix pfx;
	enum origin_source src;
};

#define ORIGIN_MAX_SUBS 4

struct origin {
	struct own *tab;
	size_t n, cap;
	struct {
		void (*fn)(void *arg);
		void *arg;
	} subs[ORIGIN_MAX_SUBS];
	int nsubs;
};

int
origin_subscribe(struct hgwd *d, void (*fn)(void *arg), void *arg)
{
	struct origin *O = d->origin;

	if (O->nsubs >= ORIGIN_MAX_SUBS)
		return -1;
	O->subs[O->nsubs].fn = fn;
	O->subs[O->nsubs].arg = arg;
	O->nsubs++;
	return 0;
}

static void
changed(struct hgwd *d)
{
	int i;

	for (i = 0; i < d->origin->nsubs; i++)
		d->origin->subs[i].fn(d->origin->subs[i].arg);
}

static const struct hgw_addr *
own_gw(const struct hgwd *d, int family)
{
	static const struct hgw_addr unspec4 = { AF_INET, { 0 } }, unspec6 = { AF_INET6, { 0 } };
	const struct hgw_addr *a = family == AF_INET ? &d->addr4 : &d->addr6;

	if (a->family)
		return a;
	return family == AF_INET ? &unspec4 : &unspec6;
}

/* p as an UPDATE item; -1 when we have no gateway of its family. */
static int
item(const struct hgwd *d, const struct hgw_prefix *p, int withdraw, struct hgw_upd_item *it)
{
	const struct hgw_addr *gw = p->family == AF_INET ? &d->addr4 : &d->addr6;

	memset(it, 0, sizeof(*it));
	it->kind = withdraw ? HGW_UPD_WITHDRAW : HGW_UPD_ANNOUNCE;
	it->origin = d->node_id;
	it->prefix = *p;
	if (!withdraw) {
		if (gw->family == 0)
			return -1;
		it->gateway = *gw;
	}
	return 0;
}

static void
export(struct hgwd *d, const struct hgw_prefix *p, int withdraw)
{
	struct hgw_upd_item it;
	char pb[HGW_ADDRSTRLEN];

	if (item(d, p, withdraw, &it) < 0) {
		log_warnx("network %s: no %s address on %s to advertise as its gateway",
		    hgw_prefix_fmt(p, pb, sizeof(pb)), p->family == AF_INET ? "IPv4" : "IPv6",
		    d->cfg.ifname);
		return;
	}
	peers_queue(d, &it);
}

static void
rib_add_own(struct hgwd *d, const struct hgw_prefix *p)
{
	rib_announce(&d->rib, p, NULL, d->node_id, own_gw(d, p->family), hgwd_now_ds(d));
}

/* A peer came up: our whole table, before END-OF-RIB. */
static void
on_peer_up(void *arg, struct peer *p)
{
	struct hgwd *d = arg;
	struct hgw_upd_item it;
	size_t i;

	for (i = 0; i < d->origin->n; i++)
		if (item(d, &d->origin->tab[i].pfx, 0, &it) == 0)
			peer_queue(p, &it);
}

int
origin_init(struct hgwd *d)
{
	struct peer_listener l;

	if ((d->origin = calloc(1, sizeof(*d->origin))) == NULL)
		return -1;
	memset(&l, 0, sizeof(l));
	l.name = "origin";
	l.up = on_peer_up;
	l.arg = d;
	return peer_subscribe(d, &l);
}

void
origin_free(struct hgwd *d)
{
	if (d->origin == NULL)
		return;
	free(d->origin->tab);
	free(d->origin);
	d->origin = NULL;
}

static struct own *
find(const struct hgwd *d, enum origin_source src, const struct hgw_prefix *p)
{
	size_t i;

	for (i = 0; i < d->origin->n; i++)
		if (d->origin->tab[i].src == src && hgw_prefix_eq(&d->origin->tab[i].pfx, p))
			return &d->origin->tab[i];
	return NULL;
}

int
origin_has(const struct hgwd *d, const struct hgw_prefix *p)
{
	size_t i;

	for (i = 0; i < d->origin->n; i++)
		if (hgw_prefix_eq(&d->origin->tab[i].pfx, p))
			return 1;
	return 0;
}

int
origin_add(struct hgwd *d, enum origin_source src, const struct hgw_prefix *p)
{
	struct origin *O = d->origin;

	if (find(d, src, p) != NULL)
		return 0;
	if (grow_array((void **)&O->tab, &O->cap, O->n + 1, sizeof(*O->tab)) < 0)
		return -1;
	O->tab[O->n].pfx = *p;
	O->tab[O->n].src = src;
	O->n++;
	rib_add_own(d, p);
	export(d, p, 0);
	peers_flush(d);
	changed(d);
	return 0;
}

void
origin_del(struct hgwd *d, enum origin_source src, const struct hgw_prefix *p)
{
	struct origin *O = d->origin;
	struct own *o = find(d, src, p);

	if (o == NULL)
		return;
	*o = O->tab[--O->n];
	if (origin_has(d, p))
		return;		/* still ours from the other source */
	rib_withdraw(&d->rib, p, NULL, d->node_id);
	export(d, p, 1);
	peers_flush(d);
	changed(d);
}

size_t
origin_list(const struct hgwd *d, struct hgw_prefix *out, size_t max)
{
	size_t i;

	for (i = 0; i < d->origin->n && i < max; i++)
		out[i] = d->origin->tab[i].pfx;
	return d->origin->n;
}

void
origin_identity_changed(struct hgwd *d, uint32_t old_id)
{
	size_t i;

	for (i = 0; i < d->origin->n; i++) {
		const struct hgw_prefix *p = &d->origin->tab[i].pfx;

		rib_withdraw(&d->rib, p, NULL, old_id);
		rib_add_own(d, p);
		export(d, p, 0);
	}
	peers_flush(d);
	changed(d);
}

void
origin_reconfigure(struct hgwd *d, const struct config *old)
{
	char pb[HGW_ADDRSTRLEN];
	size_t i;

	for (i = 0; old != NULL && i < old->nnetworks; i++)
		if (!config_has_network(&d->cfg, &old->networks[i]) &&
		    find(d, ORIGIN_CONFIG, &old->networks[i]) != NULL) {
			log_info("network %s removed: withdrawing it",
			    hgw_prefix_fmt(&old->networks[i], pb, sizeof(pb)));
			origin_del(d, ORIGIN_CONFIG, &old->networks[i]);
		}
	for (i = 0; i < d->cfg.nnetworks; i++)
		if (find(d, ORIGIN_CONFIG, &d->cfg.networks[i]) == NULL) {
			if (old != NULL)
				log_info("network %s added: announcing it",
				    hgw_prefix_fmt(&d->cfg.networks[i], pb, sizeof(pb)));
			if (origin_add(d, ORIGIN_CONFIG, &d->cfg.networks[i]) < 0)
				log_warnx("network %s: out of memory",
				    hgw_prefix_fmt(&d->cfg.networks[i], pb, sizeof(pb)));
		}
}
