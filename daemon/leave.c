/* leave.c: leaving the mesh for good (the shutdown command, SIGUSR2, or a
 * stop without graceful restart) reaches every peer. A peer that keeps our
 * routes as a restarting host's (we restarted a moment ago and its session
 * is not back yet) drops them only when it hears NOTIFY cease/shutdown; it
 * may be in the middle of its handshake with us, still in our listen
 * backlog, or waiting for its next dial. So established sessions are told
 * at once (the peers' routes go without delay); then, for up to LEAVE_MS,
 * the backlog is accepted, every peer we hold no session with is dialled,
 * and each session is told as soon as it is established; a peer told is
 * neither dialled nor accepted again. A dial still
 * unanswered after LEAVE_CONNECT_MS is not waited for (a dead host); a
 * handshake is waited for until LEAVE_MS. */
#include "leave.h"

#include <event2/event.h>

#include "hgwd.h"
#include "peer.h"
#include "session.h"
#include "util.h"

#define LEAVE_MS		1000
#define LEAVE_CONNECT_MS	200
#define LEAVE_SLICE_MS		10

/* Tells every established session; returns 1 while a session is worth
 * waiting for: in its handshake, or (early on) still connecting. */
static int
tell(struct hgwd *d, uint64_t elapsed_ms)
{
	struct peer *p, *next;
	int wait = 0, i;

	for (p = TAILQ_FIRST(&d->peers); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		for (i = 0; i < PEER_MAX_SESSIONS; i++) {
			struct session *s = p->sess[i];

			if (s == NULL)
				continue;
			switch (session_state(s)) {
			case HGW_ST_ESTABLISHED:
				p->leave_told = 1;
				session_stop(s, HGW_ERR_CEASE, HGW_CEASE_SHUTDOWN, "shutdown");
				break;
			case HGW_ST_HELLO_SENT:
				wait = 1;
				break;
			default:
				if (elapsed_ms < LEAVE_CONNECT_MS)
					wait = 1;
				break;
			}
		}
	}
	return wait;
}

void
leave_tell_peers(struct hgwd *d)
{
	struct timeval slice = { 0, LEAVE_SLICE_MS * 1000 };
	uint64_t start = now_ms();
	struct peer *p, *next;

	d->leave_sweep = 1;
	if (!tell(d, 0) && TAILQ_EMPTY(&d->peers)) {
		d->leave_sweep = 0;
		return;
	}
	for (p = TAILQ_FIRST(&d->peers); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (!p->leave_told)
			peer_dial_now(p);
	}
	/* One pass over what is ready (the backlog, answered dials), then
	 * slices until nobody is worth waiting for. */
	event_base_loop(d->base, EVLOOP_NONBLOCK);
	while (tell(d, now_ms() - start) && now_ms() - start < LEAVE_MS) {
		event_base_loopexit(d->base, &slice);
		event_base_dispatch(d->base);
	}
	d->leave_sweep = 0;
}
