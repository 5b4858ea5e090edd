/* leaseroute.c: routes follow the leases (PROTOCOL.md, Security). When the
 * lease table changes for a subnet (a claim accepted, a lease released,
 * displaced or expired), the paths the lease rule (leasegate.c) no longer
 * allows are withdrawn (and held, so they come back with their lease), and
 * the announcements held for want of that lease are applied: a peer whose
 * UPDATE came before its LEASE claim needs not announce again. lease.c
 * tells it of changes (leases_on_change); a peer's held announcements are
 * forgotten when its session ends (a peer listener). */
#include "leaseroute.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hgwd.h"
#include "lease.h"
#include "leasegate.h"
#include "log.h"
#include "peer.h"
#include "policy.h"
#include "ratelog.h"
#include "rib.h"
#include "session.h"
#include "util.h"

#define CUT_MAX		16	/* paths of one prefix re-checked at once */
#define TAKE_MAX	4	/* held announcements of one prefix per peer */

/* A held announcement whose lease is here: the full policy again. */
static void
apply(struct hgwd *d, struct peer *p, const struct hgw_upd_item *it)
{
	char pb[HGW_ADDRSTRLEN], rb[128];
	int limit = policy_limit(p), r;

	if (p->est == NULL)
		return;		/* its next session announces it again */
	if (policy_refuse(d, p, session_hello(p->est), it, rb, sizeof(rb)) != NULL)
		return;		/* counted when it came; held again if for want of a lease */
	if (limit > 0 && p->pfx_accepted >= (uint32_t)limit)
		return;
	r = rib_announce(&d->rib, &it->prefix, p, it->origin, &it->gateway, hgwd_now_ds(d));
	if (r == 1)
		p->pfx_accepted++;
	if (r >= 0)
		log_info("peer %s: accepted %s now that its lease is known", p->name,
		    hgw_prefix_fmt(&it->prefix, pb, sizeof(pb)));
}

/* The lease rule for the paths of pfx, and the announcements held for it. */
static void
sync_prefix(struct hgwd *d, const struct hgw_prefix *pfx)
{
	struct {
		struct peer *p;
		uint32_t origin;
		char why[128];
	} cut[CUT_MAX];
	struct hgw_upd_item it, got[TAKE_MAX];
	const struct rib_entry *e = rib_lookup(&d->rib, pfx);
	const struct rib_path *rp;
	struct peer *p;
	char pb[HGW_ADDRSTRLEN];
	size_t n = 0, k, m;

	for (rp = e != NULL ? e->paths : NULL; rp != NULL && n < CUT_MAX; rp = rp->next) {
		if (rp->peer == NULL || rp->nh == NULL)
			continue;	/* ours */
		memset(&it, 0, sizeof(it));
		it.kind = HGW_UPD_ANNOUNCE;
		it.prefix = *pfx;
		it.origin = rp->origin;
		it.gateway = rp->nh->addr;
		if (leasegate_refuse(d, rp->peer, &it, cut[n].why, sizeof(cut[n].why)) != NULL) {
			cut[n].p = rp->peer;
			cut[n].origin = rp->origin;
			n++;
		}
	}
	hgw_prefix_fmt(pfx, pb, sizeof(pb));
	for (k = 0; k < n; k++) {
		p = cut[k].p;
		if (rib_withdraw(&d->rib, pfx, p, cut[k].origin) == 1 && p->pfx_accepted > 0)
			p->pfx_accepted--;
		p->pfx_refused++;
		snprintf(p->last_refused, sizeof(p->last_refused), "%s: %s", pb, cut[k].why);
		if (ratelog_allow(&p->addr))
			log_notice("peer %s: withdrew %s (its lease changed)", p->name, p->last_refused);
	}
	if (!leasegate_has(pfx))
		return;
	TAILQ_FOREACH(p, &d->peers, entry) {
		m = leasegate_take(p, pfx, got, TAKE_MAX);
		for (k = 0; k < m; k++)
			apply(d, p, &got[k]);
	}
}

/* After a reconfiguration: every learned prefix of a leased cluster network
 * (lease mode or static-hosts may have changed) and every held one. */
static void
sync_all(struct hgwd *d)
{
	struct hgw_prefix *all, *held;
	size_t n = 0, i, nh;
	int fi;

	all = rib_snapshot(&d->rib, &n);
	for (i = 0; i < n; i++) {
		fi = all[i].family == AF_INET ? 0 : 1;
		if (d->cfg.lease_len[fi] && hgw_prefix_overlaps(&d->cfg.lease_net[fi], &all[i]))
			sync_prefix(d, &all[i]);
	}
	free(all);
	nh = leasegate_count();
	if (nh == 0 || (held = calloc(nh, sizeof(*held))) == NULL)
		return;
	nh = leasegate_held(held, nh);
	for (i = 0; i < nh; i++)
		sync_prefix(d, &held[i]);
	free(held);
}

static void
on_change(struct hgwd *d, const struct hgw_prefix *pfx)
{
	if (pfx == NULL)
		sync_all(d);
	else
		sync_prefix(d, pfx);
}

/* A session's end, or a new one (which announces its table anew): what was
 * held for the peer is void (also what a lease change held from its stale
 * paths while it was down). */
static void
on_peer_down(void *arg, struct peer *p, enum peer_down_reason why)
{
	leasegate_forget(p, NULL);
}

static void
on_peer_up(void *arg, struct peer *p)
{
	leasegate_forget(p, NULL);
}

int
leaseroute_init(struct hgwd *d)
{
	struct peer_listener l;

	memset(&l, 0, sizeof(l));
	l.name = "leaseroute";
	l.up = on_peer_up;
	l.down = on_peer_down;
	l.arg = d;
	leases_on_change(d, on_change);
	return peer_subscribe(d, &l);
}
