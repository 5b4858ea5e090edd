/* gr.c: graceful restart of peers (the helper side): a peer that restarts
 * (NOTIFY cease/restarting) or crashes (its session ends by EOF or reset
 * without a NOTIFY) and announced the capability keeps its paths, stale,
 * installed and not rewritten, until its new session's END-OF-RIB (peer.c
 * drops the stale paths it did not re-announce), its restart time runs out,
 * its host shows no sign of life for the hold time, or its new hgwd leaves
 * (NOTIFY shutdown) before its session is back. A sign of life is a
 * session or a dial answered by a reset (the port is closed, the kernel is
 * up); peer.c dials a restarting peer every 250 ms. A peer listener. */
#include "gr.h"

#include <event2/event.h>
#include <stdlib.h>

#include "log.h"
#include "peer.h"
#include "rib.h"

#define GR_TICK_MS	50

struct gr {
	struct hgwd *d;
	struct event *tick;
};

static void
arm(struct gr *g)
{
	struct timeval tv = { 0, GR_TICK_MS * 1000 };

	if (!evtimer_pending(g->tick, NULL))
		evtimer_add(g->tick, &tv);
}

/* The restart of p is over without its END-OF-RIB: its stale paths go. */
static void
gr_expire(struct peer *p, const char *why)
{
	struct hgwd *d = p->d;
	size_t n = p->stale_pending ? rib_drop_peer(&d->rib, p, 1) : 0;

	p->pfx_accepted -= (uint32_t)n < p->pfx_accepted ? (uint32_t)n : p->pfx_accepted;
	p->stale_pending = 0;
	p->gr_until_ms = 0;
	p->gr_stale = 0;
	log_warnx("peer %s: %s: removed %zu stale route%s", p->name, why, n, n == 1 ? "" : "s");
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct gr *g = arg;
	struct hgwd *d = g->d;
	struct peer *p, *next;
	uint64_t now = now_ms();
	int pending = 0;
	char why[96];

	for (p = TAILQ_FIRST(&d->peers); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (p->gr_until_ms == 0)
			continue;
		if (peer_is_up(p))
			p->alive_ms = now;
		if (p->left_cleanly && p->est == NULL)
			gr_expire(p, "it left (NOTIFY shutdown) before its session was back");
		else if (now >= p->gr_until_ms) {
			snprintf(why, sizeof(why), "restart time (%u s) ran out", p->gr_restart_s);
			gr_expire(p, why);
		} else if (now - p->alive_ms >= d->cfg.hold_ms) {
			snprintf(why, sizeof(why), "restarting, but its host gave no sign of life for %u ms",
			    d->cfg.hold_ms);
			gr_expire(p, why);
		} else
			pending = 1;
	}
	if (pending)
		arm(g);
}

static void
gr_down(void *arg, struct peer *p, enum peer_down_reason why)
{
	struct gr *g = arg;
	struct hgwd *d = g->d;

	if (why != PEER_DOWN_RESTARTING && why != PEER_DOWN_CLOSED && why != PEER_DOWN_COLLISION) {
		p->gr_until_ms = 0;	/* silence, an error, or it left: its paths go */
		return;
	}
	if (!d->cfg.gr_on || d->stopping || !(p->caps & HGW_CAP_GRACEFUL_RESTART) ||
	    p->gr_restart_s == 0) {
		p->gr_until_ms = 0;
		return;
	}
	/* A second restart before its END-OF-RIB does not extend the first. */
	if (p->gr_until_ms == 0)
		p->gr_until_ms = now_ms() + (uint64_t)p->gr_restart_s * 1000;
	if (p->giveup_at_ms != 0 && p->giveup_at_ms < p->gr_until_ms)
		p->giveup_at_ms = p->gr_until_ms;	/* a learned member is dialled as long */
	p->backoff_ms = 0;
	log_notice("peer %s: %s: keeping its routes for at most %u s while it restarts",
	    p->name, why == PEER_DOWN_RESTARTING ? "restarting" :
	    why == PEER_DOWN_COLLISION ? "it kept its other connection" : "closed without a NOTIFY",
	    (unsigned)((p->gr_until_ms - now_ms() + 999) / 1000));
	arm(g);
}

static void
gr_up(void *arg, struct peer *p)
{
	struct gr *g = arg;
	struct peer *q, *next;
	const struct session *s = peer_session(p);
	const struct hgw_hello *h = s != NULL ? session_hello(s) : NULL;

	p->gr_restart_s = h != NULL && (h->caps & HGW_CAP_GRACEFUL_RESTART) ? h->gr_restart_s : 0;
	/* The same node back at another address: the old one's paths go. */
	for (q = TAILQ_FIRST(&g->d->peers); q != NULL; q = next) {
		next = TAILQ_NEXT(q, entry);
		if (q != p && q->gr_until_ms != 0 && q->node_id == p->node_id)
			gr_expire(q, "its node came back at another address");
	}
}

static void
gr_eor(void *arg, struct peer *p)
{
	if (p->gr_until_ms == 0)
		return;
	log_info("peer %s: restarted: %u route%s kept through the restart", p->name,
	    p->pfx_accepted, p->pfx_accepted == 1 ? "" : "s");
	p->gr_until_ms = 0;	/* peer.c's on_eor dropped what it did not re-announce */
	p->gr_stale = 0;
}

int
gr_init(struct hgwd *d)
{
	struct peer_listener l = {
		.name = "graceful-restart",
		.up = gr_up,
		.down = gr_down,
		.eor = gr_eor,
	};
	struct gr *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return -1;
	g->d = d;
	if ((g->tick = evtimer_new(d->base, on_tick, g)) == NULL) {
		free(g);
		return -1;
	}
	l.arg = g;
	d->gr = g;
	return peer_subscribe(d, &l);
}

uint64_t
gr_left_ms(const struct peer *p)
{
	uint64_t now = now_ms();

	return p->gr_until_ms > now ? p->gr_until_ms - now : 0;
}

void
gr_free(struct hgwd *d)
{
	if (d->gr == NULL)
		return;
	event_free(d->gr->tick);
	free(d->gr);
	d->gr = NULL;
}
