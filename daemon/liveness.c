/* liveness.c: what a flap of our LAN link does to the sessions. When the
 * link goes (admin down or carrier lost), every established session stops
 * writing keepalives, so no frame is left unacked in TCP's exponential
 * retransmission back-off; when it is back, every established session gets
 * a fresh hold time (the peer could not reach us while it was down, so its
 * silence proves nothing), its keepalives again and a KEEPALIVE at once,
 * which TCP sends at once. Nothing is withdrawn while the link is down: a
 * session ends only at its hold expiry, as always. */
#include "liveness.h"

#include "hgwd.h"
#include "kernel.h"
#include "log.h"
#include "peer.h"
#include "session.h"

/* Was the link usable at the last event? One daemon per process. */
static int link_was_usable = -1;

static void
pause_one(void *arg, struct peer *p)
{
	int *n = arg;

	if (p->est != NULL) {
		session_pause(p->est);
		(*n)++;
	}
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
