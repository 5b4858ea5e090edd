/* peer_out.c: what we send a peer: frames on its established session and
 * the UPDATE frames gathered for it (peer.h's output functions). */
#include <stdlib.h>

#include "log.h"
#include "peer.h"

void
peer_send(struct peer *p, const uint8_t *buf, size_t len)
{
	if (p->est != NULL)
		session_send(p->est, buf, len);
}

static void
push_update(struct peer *p)
{
	size_t len;

	if (p->ubuf == NULL || p->est == NULL)
		return;
	if ((len = hgw_upd_finish(&p->ub)) > 0) {
		session_send(p->est, p->ubuf, len);
		p->updates_out++;
	}
}

/* The UPDATE being gathered for a peer is in a frame-sized buffer taken at
 * its first item and given back at the flush: an established peer with
 * nothing to send holds none (a mesh of many quiet peers, or a flood of
 * sessions that only say HELLO, would hold 64 KiB each). */
void
peer_flush(struct peer *p)
{
	push_update(p);
	free(p->ubuf);
	p->ubuf = NULL;
}

void
peer_queue(struct peer *p, const struct hgw_upd_item *it)
{
	if (p->est == NULL)
		return;
	if (p->ubuf == NULL) {
		if ((p->ubuf = malloc(HGW_MAX_FRAME)) == NULL) {
			session_fail_later(p->est, "out of memory for an UPDATE");
			return;
		}
		hgw_upd_begin(&p->ub, p->ubuf, HGW_MAX_FRAME);
	}
	if (hgw_upd_add(&p->ub, it) == 0)
		return;
	push_update(p);
	hgw_upd_begin(&p->ub, p->ubuf, HGW_MAX_FRAME);
	if (hgw_upd_add(&p->ub, it) < 0)
		log_err("peer %s: cannot encode an UPDATE item", p->name);
}

void
peers_queue(struct hgwd *d, const struct hgw_upd_item *it)
{
	struct peer *p;

	TAILQ_FOREACH(p, &d->peers, entry)
		peer_queue(p, it);
}

void
peers_flush(struct hgwd *d)
{
	struct peer *p;

	TAILQ_FOREACH(p, &d->peers, entry)
		peer_flush(p);
}
