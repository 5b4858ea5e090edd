/* fib.c: keeps the kernel FIB in step with the RIB: coalesced batches of
 * writes, the sweep of stale routes once the initial sync is over (a
 * subscriber of sync.c), restoring routes others delete, and resyncs after
 * interface changes or lost events. It knows no peer. */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "fib.h"
#include "hgwd.h"
#include "kernel.h"
#include "log.h"
#include "sync.h"
#include "vxlan.h"

#define FLUSH_MAX	8192	/* entries per round; the loop runs between rounds */
#define RETRY_MS	2000

struct fib {
	struct hgwd *d;
	struct event *flush_ev, *retry_ev;
	int sync_done;
	int resync_pending;
	uint64_t resyncs;		/* full comparisons with the kernel, for metrics */
	size_t nseen;			/* routes of ours the last dump found */
	size_t adopted;			/* ... the first one: left by an earlier run */
	size_t nheld;			/* entries whose fib_nh is set */
	uint32_t epoch;
	struct rib_entry **batch;
	struct kernel_op *ops;
	struct nexthop **wants;
	uint8_t *vxs;			/* per op: through the VXLAN device */
	struct kernel_op *stale;	/* resync: routes of ours with another metric */
	size_t nstale, stale_cap;
};

static void flush_cb(evutil_socket_t fd, short what, void *arg);
static void retry_cb(evutil_socket_t fd, short what, void *arg);

static uint32_t
our_metric(const struct hgwd *d, int family)
{
	return kernel_effective_metric(family, d->cfg.kernel_metric);
}

static void
set_fib_nh(struct hgwd *d, struct rib_entry *e, const struct hgw_addr *gw)
{
	struct nexthop *nh = gw ? rib_nh_get(&d->rib, gw) : NULL;

	d->fib->nheld += (size_t)(nh != NULL) - (size_t)(e->fib_nh != NULL);
	rib_nh_put(&d->rib, e->fib_nh);
	e->fib_nh = nh;
}

/* What the kernel holds for e now: gw (NULL: nothing), through the VXLAN
 * device or not. Drops e's reference on the VXLAN entries it held. */
static void
set_fib(struct hgwd *d, struct rib_entry *e, const struct hgw_addr *gw, int vx)
{
	if ((e->flags & RIB_E_VXHELD) && e->fib_nh != NULL)
		vxlan_release(d->vxlan, &e->fib_nh->addr);
	e->flags &= (uint8_t)~(RIB_E_VXHELD | RIB_E_VXLAN);
	if (vx && gw != NULL)
		e->flags |= RIB_E_VXLAN;
	set_fib_nh(d, e, gw);
}

static int
kernel_says_vxlan(const struct hgwd *d)
{
	int oif = kernel_route_oif(d->kernel);

	return oif != 0 && oif == vxlan_ifindex(d->vxlan);
}

void
fib_on_route(void *arg, int add, const struct hgw_prefix *p, const struct hgw_addr *gw,
    uint32_t metric)
{
	struct fib *f = arg;
	struct hgwd *d = f->d;
	struct rib_entry *e;
	char pb[HGW_ADDRSTRLEN], gb[HGW_ADDRSTRLEN];

	if (metric != our_metric(d, p->family))
		return;		/* another metric: swept by the next resync */
	e = add ? rib_get(&d->rib, p) : rib_lookup(&d->rib, p);
	if (e == NULL)
		return;
	if (add) {
		if (e->fib_nh != NULL && hgw_addr_cmp(&e->fib_nh->addr, gw) == 0)
			return;		/* the echo of our own write */
		log_debug(LOG_CAT_KERNEL, "kernel: %s via %s of protocol %u written by someone else",
		    hgw_prefix_fmt(p, pb, sizeof(pb)), hgw_addr_fmt(gw, gb, sizeof(gb)),
		    d->cfg.kernel_proto);
		set_fib(d, e, gw, kernel_says_vxlan(d));
	} else {
		if (e->fib_nh == NULL || hgw_addr_cmp(&e->fib_nh->addr, gw) != 0)
			return;		/* the echo of our own delete */
		if (rib_best(e) != NULL && rib_best(e)->peer != NULL)
			log_notice("kernel: route %s via %s was deleted by someone else; restoring it",
			    hgw_prefix_fmt(p, pb, sizeof(pb)),
			    hgw_addr_fmt(gw, gb, sizeof(gb)));
		set_fib(d, e, NULL, 0);
	}
	rib_mark_dirty(&d->rib, e);
}

void
fib_on_link(struct fib *f, int full)
{
	/* On-link verdicts may have changed; a link that went down took its
	 * IPv4 routes with it without a word: reread and re-evaluate. An
	 * address change that leaves the subnets as they were needs neither. */
	f->epoch++;
	if (full) {
		f->resync_pending = 1;
		event_active(f->flush_ev, EV_TIMEOUT, 0);
	}
}

void
fib_on_overrun(void *arg)
{
	struct fib *f = arg;

	f->resync_pending = 1;
	event_active(f->flush_ev, EV_TIMEOUT, 0);
}

struct fib *
fib_new(struct hgwd *d)
{
	struct fib *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->d = d;
	f->batch = calloc(FLUSH_MAX, sizeof(*f->batch));
	f->ops = calloc(FLUSH_MAX, sizeof(*f->ops));
	f->wants = calloc(FLUSH_MAX, sizeof(*f->wants));
	f->vxs = calloc(FLUSH_MAX, sizeof(*f->vxs));
	f->flush_ev = event_new(d->base, -1, 0, flush_cb, f);
	f->retry_ev = evtimer_new(d->base, retry_cb, f);
	if (f->batch == NULL || f->ops == NULL || f->wants == NULL || f->vxs == NULL ||
	    f->flush_ev == NULL || f->retry_ev == NULL) {
		fib_free(f);
		return NULL;
	}
	f->epoch = 1;
	return f;
}

void
fib_free(struct fib *f)
{
	if (f == NULL)
		return;
	if (f->flush_ev)
		event_free(f->flush_ev);
	if (f->retry_ev)
		event_free(f->retry_ev);
	free(f->batch);
	free(f->ops);
	free(f->wants);
	free(f->vxs);
	free(f->stale);
	free(f);
}

void
fib_schedule(void *arg)
{
	struct fib *f = arg;

	if (f != NULL)
		event_active(f->flush_ev, EV_TIMEOUT, 0);
}

size_t
fib_adopted(const struct fib *f)
{
	return f->adopted;
}

size_t
fib_held(const struct fib *f)
{
	return f != NULL ? f->nheld : 0;
}

uint64_t
fib_resyncs(const struct fib *f)
{
	return f->resyncs;
}

/* What the kernel should hold for e, or NULL with *err saying why not; *vx:
 * through the VXLAN device (a gateway that is not on-link, with encap vxlan). */
static struct nexthop *
desired(struct fib *f, struct rib_entry *e, uint8_t *err, int *vx)
{
	struct hgwd *d = f->d;
	struct rib_path *b = rib_best(e);
	struct nexthop *nh;

	*err = FIB_ERR_NONE;
	*vx = 0;
	if (b == NULL || b->peer == NULL || !d->cfg.kernel_on)
		return NULL;
	nh = b->nh;
	if (nh->epoch != f->epoch) {
		if (nh->addr.family != e->pfx.family)
			nh->verdict = FIB_ERR_FAMILY;
		else if (kernel_is_local(d->kernel, &nh->addr))
			nh->verdict = FIB_ERR_LOCAL_GW;
		else if (!kernel_onlink(d->kernel, &nh->addr))
			nh->verdict = FIB_ERR_NOT_ONLINK;
		else
			nh->verdict = FIB_ERR_NONE;
		nh->epoch = f->epoch;
	}
	if (nh->addr.family != e->pfx.family)
		*err = FIB_ERR_FAMILY;
	else
		*err = nh->verdict;
	if (*err == FIB_ERR_NOT_ONLINK && vxlan_usable(d->vxlan, b->origin, &nh->addr)) {
		*err = FIB_ERR_NONE;
		*vx = 1;
	}
	return *err == FIB_ERR_NONE ? nh : NULL;
}

/* Queues a delete of p via gw in f->stale; cookie is the caller's. */
static void
queue_delete(struct fib *f, const struct hgw_prefix *p, const struct hgw_addr *gw,
    void *cookie, int vx)
{
	struct kernel_op *op;

	if (grow_array((void **)&f->stale, &f->stale_cap, f->nstale + 1,
	    sizeof(*f->stale)) < 0)
		return;
	op = &f->stale[f->nstale++];
	memset(op, 0, sizeof(*op));
	op->del = 1;
	op->pfx = *p;
	op->gw = *gw;
	op->oif = vx ? vxlan_ifindex(f->d->vxlan) : 0;
	op->cookie = cookie;
}

static void
resync_route(void *arg, const struct hgw_prefix *p, const struct hgw_addr *gw,
    uint32_t metric)
{
	struct fib *f = arg;
	struct hgwd *d = f->d;
	struct rib_entry *e;

	if (metric != our_metric(d, p->family)) {
		queue_delete(f, p, gw, (void *)(uintptr_t)metric, kernel_says_vxlan(d));
		return;
	}
	if ((e = rib_get(&d->rib, p)) == NULL)
		return;
	f->nseen++;
	e->flags |= RIB_E_SEEN;
	if (e->fib_nh == NULL || hgw_addr_cmp(&e->fib_nh->addr, gw) != 0 ||
	    kernel_says_vxlan(d) != !!(e->flags & RIB_E_VXLAN)) {
		set_fib(d, e, gw, kernel_says_vxlan(d));
		rib_mark_dirty(&d->rib, e);
	}
}

static void
resync_unseen(void *arg, struct rib_entry *e)
{
	struct fib *f = arg;

	if (!(e->flags & RIB_E_SEEN) && e->fib_nh != NULL) {
		set_fib(f->d, e, NULL, 0);
		rib_mark_dirty(&f->d->rib, e);
	}
	e->flags &= ~RIB_E_SEEN;
	/* Re-evaluate everything: on-link verdicts may have changed. */
	rib_mark_dirty(&f->d->rib, e);
}

static void
resync(struct fib *f)
{
	struct hgwd *d = f->d;
	const struct kernel_params *kp = kernel_params(d->kernel);
	struct kernel_params tmp;
	size_t i;

	f->resync_pending = 0;
	f->nstale = 0;
	f->nseen = 0;
	if (kernel_dump(d->kernel, resync_route, f) < 0) {
		/* Try again on the next round. */
		f->resync_pending = 1;
		return;
	}
	f->resyncs++;
	rib_foreach(&d->rib, resync_unseen, f);
	/* Routes of our protocol with another metric are leftovers of an
	 * older configuration: remove them. */
	tmp = *kp;
	for (i = 0; i < f->nstale; i++) {
		char pb[HGW_ADDRSTRLEN];

		tmp.metric = (uint32_t)(uintptr_t)f->stale[i].cookie;
		kernel_set_params(d->kernel, &tmp);
		kernel_apply(d->kernel, &f->stale[i], 1);
		log_info("kernel: removed stale %s with metric %u",
		    hgw_prefix_fmt(&f->stale[i].pfx, pb, sizeof(pb)), tmp.metric);
	}
	if (f->nstale) {
		tmp.metric = d->cfg.kernel_metric;
		kernel_set_params(d->kernel, &tmp);
	}
	f->nstale = 0;
	if (f->sync_done)
		vxlan_sweep(d->vxlan);	/* neighbour and FDB entries no route holds */
}

static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fib *f = arg;
	struct hgwd *d = f->d;
	size_t n, i, nops = 0, nfail = 0;
	char pb[HGW_ADDRSTRLEN];
	int first_err = 0;
	struct hgw_prefix first_pfx;

	if (d->stopping)
		return;		/* a restart leaves the kernel as it is; a shutdown empties it at once */
	kernel_poll(d->kernel);
	if (f->resync_pending)
		resync(f);
	n = rib_take_dirty(&d->rib, f->batch, FLUSH_MAX);
	for (i = 0; i < n; i++) {
		struct rib_entry *e = f->batch[i];
		struct nexthop *want;
		uint8_t err;
		int vx;

		want = desired(f, e, &err, &vx);
		e->fib_err = err;
		if (want == e->fib_nh && vx == !!(e->flags & RIB_E_VXLAN) &&
		    (!vx || (e->flags & RIB_E_VXHELD))) {
			rib_release(&d->rib, e);
			continue;
		}
		if (want == NULL && e->paths == NULL && !f->sync_done &&
		    !(e->flags & RIB_E_OURS))
			continue;	/* left from before the start: kept until the sync is over */
		/* The neighbour and FDB entries go in before the route. */
		if (vx && vxlan_hold(d->vxlan, rib_best(e)->origin, &want->addr) < 0) {
			e->fib_err = (uint8_t)(errno > 0 && errno < FIB_ERR_FAMILY ? errno : EIO);
			rib_release(&d->rib, e);
			if (nfail++ == 0) {
				first_err = e->fib_err;
				first_pfx = e->pfx;
			}
			continue;
		}
		e->flags |= RIB_E_PENDING;
		memset(&f->ops[nops], 0, sizeof(f->ops[nops]));
		f->ops[nops].del = want == NULL;
		f->ops[nops].pfx = e->pfx;
		f->ops[nops].gw = want != NULL ? want->addr : e->fib_nh->addr;
		if (want != NULL ? vx : (e->flags & RIB_E_VXLAN) != 0)
			f->ops[nops].oif = vxlan_ifindex(d->vxlan);
		f->ops[nops].onlink = (uint8_t)vx;
		f->ops[nops].cookie = e;
		f->wants[nops] = want;
		f->vxs[nops] = (uint8_t)vx;
		nops++;
	}
	if (nops > 0)
		kernel_apply(d->kernel, f->ops, nops);
	for (i = 0; i < nops; i++) {
		struct kernel_op *op = &f->ops[i];
		struct rib_entry *e = op->cookie;

		e->flags &= ~RIB_E_PENDING;
		if (op->err == 0 || (op->del && (op->err == ESRCH || op->err == ENOENT))) {
			/* The old route's VXLAN entries go after it. */
			set_fib(d, e, op->del ? NULL : &op->gw, f->vxs[i]);
			if (f->vxs[i])
				e->flags |= RIB_E_VXHELD;
			if (!op->del) {
				e->fib_err = FIB_ERR_NONE;
				e->flags |= RIB_E_OURS;
			}
			if (log_debug_on(LOG_CAT_KERNEL))
				log_debug(LOG_CAT_KERNEL, "kernel: %s %s", op->del ? "deleted" : "installed",
				    hgw_prefix_fmt(&e->pfx, pb, sizeof(pb)));
		} else {
			if (f->vxs[i])
				vxlan_release(d->vxlan, &op->gw);
			e->fib_err = op->err > 252 ? EIO : (uint8_t)op->err;
			if (nfail++ == 0) {
				first_err = op->err;
				first_pfx = e->pfx;
			}
		}
		rib_release(&d->rib, e);
	}
	if (nfail > 0) {
		log_err("kernel: %zu route write%s failed, first %s: %s; retrying in %d s",
		    nfail, nfail > 1 ? "s" : "", hgw_prefix_fmt(&first_pfx, pb, sizeof(pb)),
		    strerror(first_err), RETRY_MS / 1000);
		if (!evtimer_pending(f->retry_ev, NULL)) {
			struct timeval tv = { RETRY_MS / 1000, 0 };

			evtimer_add(f->retry_ev, &tv);
		}
	}
	if (d->rib.ndirty > d->rib.dirty_head)
		event_active(f->flush_ev, EV_TIMEOUT, 0);
}

static void
retry_one(void *arg, struct rib_entry *e)
{
	struct fib *f = arg;

	if (e->fib_err != FIB_ERR_NONE && e->fib_err < FIB_ERR_FAMILY)
		rib_mark_dirty(&f->d->rib, e);
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fib *f = arg;

	rib_foreach(&f->d->rib, retry_one, f);
}

/* The initial sync is over (sync.c): sweep what nobody announced. */
static void
sync_over(void *arg, const char *why)
{
	struct fib *f = arg;

	f->sync_done = 1;
	log_info("kernel: removing stale routes");
	/* The resync re-evaluates every entry; those still without a path
	 * hold only what the kernel had before we started. */
	f->resync_pending = 1;
	event_active(f->flush_ev, EV_TIMEOUT, 0);
}

int
fib_start(struct fib *f)
{
	resync(f);
	f->adopted = f->sync_done ? 0 : f->nseen;
	if (f->adopted > 0)
		log_info("kernel: adopting %zu route%s of an earlier run; none is rewritten or removed before the initial sync is over",
		    f->adopted, f->adopted == 1 ? "" : "s");
	event_active(f->flush_ev, EV_TIMEOUT, 0);
	return sync_on_done(f->d->sync, sync_over, f);
}

static void
collect_installed(void *arg, struct rib_entry *e)
{
	struct fib *f = arg;

	if (e->fib_nh != NULL)
		queue_delete(f, &e->pfx, &e->fib_nh->addr, e, (e->flags & RIB_E_VXLAN) != 0);
}

/* Deletes every route the kernel holds for us, with the current parameters. */
static size_t
remove_all(struct fib *f)
{
	struct hgwd *d = f->d;
	size_t i, n;

	kernel_poll(d->kernel);
	f->nstale = 0;
	rib_foreach(&d->rib, collect_installed, f);
	n = f->nstale;
	if (n > 0)
		kernel_apply(d->kernel, f->stale, n);
	for (i = 0; i < n; i++) {
		struct rib_entry *e = f->stale[i].cookie;

		set_fib(d, e, NULL, 0);
		rib_mark_dirty(&d->rib, e);
	}
	f->nstale = 0;
	return n;
}

void
fib_shutdown(struct fib *f)
{
	size_t n = remove_all(f);

	log_info("kernel: removed %zu route%s", n, n == 1 ? "" : "s");
}

void
fib_params_changed(struct fib *f, const struct kernel_params *old)
{
	struct hgwd *d = f->d;
	struct kernel_params np = *kernel_params(d->kernel);

	/* Remove what we wrote under the old parameters, then write again. */
	kernel_set_params(d->kernel, old);
	remove_all(f);
	kernel_set_params(d->kernel, &np);
	f->epoch++;
	f->resync_pending = 1;
	event_active(f->flush_ev, EV_TIMEOUT, 0);
}

void
fib_reevaluate_all(struct fib *f)
{
	f->epoch++;
	f->resync_pending = 1;
	event_active(f->flush_ev, EV_TIMEOUT, 0);
}

enum fib_state
fib_state(struct hgwd *d, const struct rib_entry *e, char *reason, size_t rlen)
{
	const struct rib_path *b = rib_best(e);
	char gb[HGW_ADDRSTRLEN];

	reason[0] = '\0';
	if (b == NULL) {
		snprintf(reason, rlen, "no path; kernel route left from before, removed after the initial sync");
		return e->fib_nh ? FIB_ST_STALE : FIB_ST_NONE;
	}
	if (b->peer == NULL) {
		snprintf(reason, rlen, "our own network");
		return FIB_ST_LOCAL;
	}
	if (!d->cfg.kernel_on) {
		snprintf(reason, rlen, "kernel off");
		return FIB_ST_DISABLED;
	}
	if (e->fib_nh != NULL && e->fib_nh == b->nh)
		return FIB_ST_INSTALLED;
	hgw_addr_fmt(&b->nh->addr, gb, sizeof(gb));
	switch (e->fib_err) {
	case FIB_ERR_NONE:
		return FIB_ST_PENDING;
	case FIB_ERR_NOT_ONLINK:
		snprintf(reason, rlen, "gateway %s is not on-link on %s", gb, d->cfg.ifname);
		return FIB_ST_NOT_INSTALLED;
	case FIB_ERR_LOCAL_GW:
		snprintf(reason, rlen, "gateway %s is an address of this host", gb);
		return FIB_ST_NOT_INSTALLED;
	case FIB_ERR_FAMILY:
		snprintf(reason, rlen, "gateway %s is of another family than the prefix", gb);
		return FIB_ST_NOT_INSTALLED;
	}
	snprintf(reason, rlen, "kernel refused it: %s", strerror(e->fib_err));
	return FIB_ST_FAILED;
}

const char *
fib_state_str(enum fib_state st)
{
	switch (st) {
	case FIB_ST_NONE:		return "none";
	case FIB_ST_STALE:		return "stale";
	case FIB_ST_LOCAL:		return "local";
	case FIB_ST_DISABLED:		return "disabled";
	case FIB_ST_INSTALLED:		return "installed";
	case FIB_ST_PENDING:		return "pending";
	case FIB_ST_NOT_INSTALLED:	return "not-installed";
	case FIB_ST_FAILED:		return "failed";
	}
	return "unknown";
}
