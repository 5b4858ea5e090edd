/* liveness.c: what a flap of our LAN link does to the sessions. When the
 * link goes (admin down or carrier lost), every established session stops
 * writing keepalives, so no frame is left unacked in TCP's exponential
 * retransmission back-off; when it is back, every established session gets
 * a fresh hold time (the peer could not reach us while it was down, so its
 * silence proves nothing), its keepalives again and a KEEPALIVE at once,
 * which TCP sends at once. Nothing is withdrawn while the link is down: a
 * session ends only at its hold expiry, as always.
 *
 * Before the kick, the peers' neighbour entries are solicited afresh
 * (kernel_neigh_solicit): the carrier loss flushed them, and a frame TCP
 * had in flight when the link went left an INCOMPLETE entry whose ARP/ND
 * probes were lost; its next probe would come only at its retrans_time
 * timer, up to 1 s after the link is back, with the kick (and TCP's
 * retransmission) queued behind it; on a 3 s hold, past the peer's
 * deadline (seen in the sanitizer build). Right after an admin up, that
 * first probe can itself be lost (the switch side of the link is not
 * forwarding yet), so the solicitation is repeated every RESOLVE_MS while
 * an entry stays unresolved, up to RESOLVE_ROUNDS times: an entry still
 * INCOMPLETE then had its probe lost (a LAN answers in well under
 * RESOLVE_MS); what was queued behind it is dropped with it, and TCP
 * retransmits that at its next timeout (about 200 ms) instead of waiting
 * for ARP's 1 s. */
#include "liveness.h"

#include <event2/event.h>
#include <stdlib.h>

#include "hgwd.h"
#include "kernel.h"
#include "log.h"
#include "peer.h"
#include "session.h"

#define RESOLVE_MS	100
#define RESOLVE_ROUNDS	8

/* Was the link usable at the last event? One daemon per process. */
static int link_was_usable = -1;
static struct event *resolve_ev;	/* the solicitation repeated */
static int resolve_left;

static void
pause_one(void *arg, struct peer *p)
{
	int *n = arg;

	if (p->est != NULL) {
		session_pause(p->est);
		(*n)++;
	}
}

struct addrs {
	struct hgw_addr *a;
	size_t n, cap;
};

static void
gather(void *arg, struct peer *p)
{
	struct addrs *v = arg;

	if (p->est == NULL)
		return;
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		struct hgw_addr *a = realloc(v->a, cap * sizeof(*a));

		if (a == NULL)
			return;
		v->a = a;
		v->cap = cap;
	}
	v->a[v->n++] = p->addr;
}

/* Every established peer's unresolved neighbour entry solicited now (see
 * the top); the number solicited. */
static int
solicit_peers(struct hgwd *d)
{
	struct addrs v = { NULL, 0, 0 };
	int n = 0;

	peer_foreach_up(d, gather, &v);
	if (v.n > 0)
		n = kernel_neigh_solicit(d->kernel, v.a, v.n);
	free(v.a);
	return n;
}

static void
resolve_again(evutil_socket_t fd, short what, void *arg)
{
	struct hgwd *d = arg;
	struct timeval tv = { 0, RESOLVE_MS * 1000 };
	int n;

	(void)fd;
	(void)what;
	if (link_was_usable != 1 || resolve_left <= 0)
		return;
	resolve_left--;
	if ((n = solicit_peers(d)) > 0) {
		log_info("interface %s: %d neighbour%s still unresolved %d ms after the link is back, "
		    "solicited again", d->cfg.ifname, n, n == 1 ? "" : "s",
		    (RESOLVE_ROUNDS - resolve_left) * RESOLVE_MS);
		if (resolve_left > 0)
			event_add(resolve_ev, &tv);
	}
}

static void
resolve_start(struct hgwd *d)
{
	struct timeval tv = { 0, RESOLVE_MS * 1000 };
	int n;

	if ((n = solicit_peers(d)) > 0)
		log_info("interface %s is back: %d unresolved neighbour%s solicited at once",
		    d->cfg.ifname, n, n == 1 ? "" : "s");
	if (resolve_ev == NULL && (resolve_ev = evtimer_new(d->base, resolve_again, d)) == NULL)
		return;
	resolve_left = RESOLVE_ROUNDS;
	event_add(resolve_ev, &tv);
}

static void
kick(void *arg, struct peer *p)
{
	int *n = arg;

	if (p->est != NULL) {
		session_kick(p->est);
		(*n)++;
	}
}

void
liveness_link_changed(struct hgwd *d)
{
	int usable = kernel_if_up(d->kernel) && kernel_if_carrier(d->kernel);
	int n = 0;

	if (usable && link_was_usable == 0) {
		resolve_start(d);
		peer_foreach_up(d, kick, &n);
		log_info("interface %s is back: %d established session%s kicked "
		    "(fresh hold time, a KEEPALIVE at once)", d->cfg.ifname, n, n == 1 ? "" : "s");
	}
	if (!usable && link_was_usable != 0) {
		peer_foreach_up(d, pause_one, &n);
		log_info("interface %s is not usable: keepalives of %d session%s paused until it is back",
		    d->cfg.ifname, n, n == 1 ? "" : "s");
	}
	link_was_usable = usable;
}
