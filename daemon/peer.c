/* peer.c: peers and sessions: dial with back-off, accept, HELLO, collisions,
 * hold and keepalive timers, frame input and output, paths into the RIB. */
#include "peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel.h"
#include "lease.h"
#include "log.h"
#include "members.h"
#include "policy.h"
#include "tls.h"

#define BACKOFF_MIN_MS	200
#define BACKOFF_MAX_MS	10000
#define CLOSE_LINGER_MS	1000	/* time a closing session gets to flush its NOTIFY */
#define READ_MAX	(256 * 1024)
#define OUTPUT_MAX	PEER_OUTPUT_MAX

#define ACCEPT_RATE	PEER_ACCEPT_RATE
#define ACCEPT_BURST	PEER_ACCEPT_BURST
#define MAXPFX_HOLDOFF_MS 30000	/* a peer over max-prefixes waits this long */

static void session_read(struct bufferevent *bev, void *arg);
static void session_event(struct bufferevent *bev, short what, void *arg);
static void session_hold(evutil_socket_t fd, short what, void *arg);
static void session_ka(evutil_socket_t fd, short what, void *arg);
static void session_close(struct session *s, int code, int sub, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void peer_retry(evutil_socket_t fd, short what, void *arg);
static void peer_schedule_connect(struct peer *p, uint32_t delay_ms);
static void peer_free(struct peer *p);

static void
to_sockaddr(const struct hgw_addr *a, uint16_t port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->bytes, 4);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, a->bytes, 16);
		*len = sizeof(*sin6);
	}
}

static int
from_sockaddr(const struct sockaddr *sa, struct hgw_addr *a, uint16_t *port)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		a->family = AF_INET;
		memcpy(a->bytes, &sin->sin_addr, 4);
		*port = ntohs(sin->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		a->family = AF_INET6;
		memcpy(a->bytes, &sin6->sin6_addr, 16);
		*port = ntohs(sin6->sin6_port);
		return 0;
	}
	return -1;
}

struct peer *
peer_find(struct hgwd *d, const struct hgw_addr *a)
{
	struct peer *p;

	TAILQ_FOREACH(p, &d->peers, entry)
		if (hgw_addr_cmp(&p->addr, a) == 0)
			return p;
	return NULL;
}

static struct peer *
peer_new(struct hgwd *d, const struct hgw_addr *a, uint16_t port, int configured)
{
	struct peer *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->d = d;
	p->addr = *a;
	p->port = port;
	p->configured = configured;
	hgw_addr_fmt(a, p->name, sizeof(p->name));
	p->retry_ev = evtimer_new(d->base, peer_retry, p);
	if (p->retry_ev == NULL) {
		free(p);
		return NULL;
	}
	p->down_since_ms = now_ms();
	TAILQ_INSERT_TAIL(&d->peers, p, entry);
	return p;
}

static int
peer_nsessions(const struct peer *p)
{
	int i, n = 0;

	for (i = 0; i < PEER_MAX_SESSIONS; i++)
		n += p->sess[i] != NULL;
	return n;
}

/* Should a failure of p be logged at info? Once per distinct text on a
 * peer, and once a minute per address and text for peers that come and go
 * (a stranger retrying with a wrong key is not a log flood). */
static int
worth_logging(struct peer *p, const char *text)
{
	struct hgwd *d = p->d;
	uint64_t now = now_ms();
	unsigned i, n = d->nrecent < 32 ? d->nrecent : 32;

	if (strcmp(p->last_error, text) == 0) {
		log_count_suppressed();
		return 0;
	}
	for (i = 0; i < n; i++) {
		struct recent_err *r = &d->recent[i];

		if (hgw_addr_cmp(&r->addr, &p->addr) == 0 && strncmp(r->text, text,
		    sizeof(r->text) - 1) == 0 && now - r->at_ms < 60000) {
			log_count_suppressed();
			return 0;
		}
	}
	i = d->nrecent++ % 32;
	d->recent[i].addr = p->addr;
	snprintf(d->recent[i].text, sizeof(d->recent[i].text), "%s", text);
	d->recent[i].at_ms = now;
	return 1;
}

static void
set_error(struct peer *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->last_error, sizeof(p->last_error), fmt, ap);
	va_end(ap);
}

/* Output. */

static void
session_send(struct session *s, const uint8_t *buf, size_t len)
{
	struct evbuffer *out;

	if (s->bev == NULL || len == 0)
		return;
	out = bufferevent_get_output(s->bev);
	/* Nothing queued on plain TCP: write now, sparing the event loop two
	 * epoll changes for each keepalive; queue only what does not fit. */
	if (s->d->tls == NULL && evbuffer_get_length(out) == 0 &&
	    (s->state == HGW_ST_HELLO_SENT || s->state == HGW_ST_ESTABLISHED)) {
		ssize_t n = send(bufferevent_getfd(s->bev), buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		}
	}
	if (len > 0)
		bufferevent_write(s->bev, buf, len);
	if (s->peer != NULL)
		s->peer->msgs_out++;
	if (!s->overflow && evbuffer_get_length(bufferevent_get_output(s->bev)) > OUTPUT_MAX) {
		/* A peer that stops reading is dropped, not buffered without
		 * bound; the close runs from the loop, not inside this send. */
		s->overflow = 1;
		event_active(s->hold_ev, EV_TIMEOUT, 0);
	}
}

static void
send_hello(struct session *s)
{
	struct hgwd *d = s->d;
	struct hgw_hello h;
	uint8_t buf[256];
	size_t len;

	memset(&h, 0, sizeof(h));
	h.node_id = d->node_id;
	h.hold_ms = d->cfg.hold_ms;
	h.keepalive_ms = d->cfg.keepalive_ms;
	h.caps = HGW_CAP_IPV4 | HGW_CAP_IPV6 | HGW_CAP_MEMBERS | HGW_CAP_LEASES;
	h.listen_port = d->listen_port;
	if (d->addr4.family)
		h.addrs[h.naddrs++] = d->addr4;
	if (d->addr6.family)
		h.addrs[h.naddrs++] = d->addr6;
	snprintf(h.hostname, sizeof(h.hostname), "%s", d->cfg.hostname);
	if ((len = hgw_hello_encode(buf, sizeof(buf), &h)) > 0)
		session_send(s, buf, len);
}

static void
send_notify(struct session *s, int code, int sub, const char *text)
{
	uint8_t buf[HGW_HDR_LEN + 3 + HGW_NOTIFY_TEXT_MAX];
	size_t len = hgw_notify_encode(buf, sizeof(buf), code, sub, text);

	session_send(s, buf, len);
	if (s->peer != NULL)
		s->peer->notify_out++;
}

/* Sends the UPDATE frame being gathered for p, if any. */
static void
peer_push_update(struct peer *p)
{
	size_t len;

	if (p->ubuf == NULL || p->est == NULL)
		return;
	if ((len = hgw_upd_finish(&p->ub)) > 0) {
		session_send(p->est, p->ubuf, len);
		p->updates_out++;
	}
}

static void
peer_queue(struct peer *p, const struct hgw_upd_item *it)
{
	if (p->est == NULL || p->ubuf == NULL)
		return;
	if (hgw_upd_add(&p->ub, it) == 0)
		return;
	peer_push_update(p);
	hgw_upd_begin(&p->ub, p->ubuf, HGW_MAX_FRAME);
	if (hgw_upd_add(&p->ub, it) < 0)
		log_err("peer %s: cannot encode an UPDATE item", p->name);
}

/* Our own network p as an UPDATE item; -1 when we have no gateway of its family. */
static int
own_item(struct hgwd *d, const struct hgw_prefix *pfx, int withdraw,
    struct hgw_upd_item *it)
{
	const struct hgw_addr *gw = pfx->family == AF_INET ? &d->addr4 : &d->addr6;

	memset(it, 0, sizeof(*it));
	it->kind = withdraw ? HGW_UPD_WITHDRAW : HGW_UPD_ANNOUNCE;
	it->origin = d->node_id;
	it->prefix = *pfx;
	if (!withdraw) {
		if (gw->family == 0)
			return -1;
		it->gateway = *gw;
	}
	return 0;
}

/* Our whole table: configured and leased networks. END-OF-RIB follows
 * once members and leases are sent too. */
static void
send_table(struct peer *p)
{
	struct hgwd *d = p->d;
	struct hgw_upd_item it;
	struct hgw_prefix leased[2];
	size_t i;
	int n;

	hgw_upd_begin(&p->ub, p->ubuf, HGW_MAX_FRAME);
	for (i = 0; i < d->cfg.nnetworks; i++)
		if (own_item(d, &d->cfg.networks[i], 0, &it) == 0)
			peer_queue(p, &it);
	n = leases_own(d, leased, 2);
	for (i = 0; i < (size_t)n; i++)
		if (own_item(d, &leased[i], 0, &it) == 0)
			peer_queue(p, &it);
	peer_push_update(p);
	hgw_upd_begin(&p->ub, p->ubuf, HGW_MAX_FRAME);
}

int
peer_has_cap(const struct peer *p, uint32_t cap)
{
	return p->est != NULL && (p->est->hello.caps & cap) == cap;
}

void
peer_send(struct peer *p, const uint8_t *buf, size_t len)
{
	if (p->est != NULL)
		session_send(p->est, buf, len);
}

void
peers_announce(struct hgwd *d, const struct hgw_prefix *pfx, int withdraw)
{
	struct hgw_upd_item it;
	struct peer *p;
	char pb[HGW_ADDRSTRLEN];

	if (own_item(d, pfx, withdraw, &it) < 0) {
		log_warnx("network %s: no %s address on %s to advertise as its gateway",
		    hgw_prefix_fmt(pfx, pb, sizeof(pb)),
		    pfx->family == AF_INET ? "IPv4" : "IPv6", d->cfg.ifname);
		return;
	}
	TAILQ_FOREACH(p, &d->peers, entry)
		peer_queue(p, &it);
}

void
peers_flush(struct hgwd *d)
{
	struct peer *p;

	TAILQ_FOREACH(p, &d->peers, entry) {
		peer_push_update(p);
		if (p->ubuf != NULL)
			hgw_upd_begin(&p->ub, p->ubuf, HGW_MAX_FRAME);
	}
}

/* Sessions. */

static struct session *
session_new(struct peer *p, int fd, int outbound)
{
	struct hgwd *d = p->d;
	struct session *s;
	int slot;

	for (slot = 0; slot < PEER_MAX_SESSIONS; slot++)
		if (p->sess[slot] == NULL)
			break;
	if (slot == PEER_MAX_SESSIONS || (s = calloc(1, sizeof(*s))) == NULL) {
		close(fd);
		return NULL;
	}
	s->peer = p;
	s->d = d;
	s->outbound = outbound;
	s->state = outbound ? HGW_ST_CONNECT : HGW_ST_IDLE;
	s->started_ms = now_ms();
	snprintf(s->name, sizeof(s->name), "%s", p->name);
	s->bev = d->tls != NULL ? tls_bufferevent(d->tls, d->base, fd, !outbound) :
	    bufferevent_socket_new(d->base, fd, BEV_OPT_CLOSE_ON_FREE);
	s->hold_ev = evtimer_new(d->base, session_hold, s);
	s->ka_ev = event_new(d->base, -1, EV_PERSIST, session_ka, s);
	if (s->bev == NULL || s->hold_ev == NULL || s->ka_ev == NULL) {
		if (s->bev == NULL)
			close(fd);
		else
			bufferevent_free(s->bev);
		if (s->hold_ev)
			event_free(s->hold_ev);
		if (s->ka_ev)
			event_free(s->ka_ev);
		free(s);
		return NULL;
	}
	bufferevent_setcb(s->bev, session_read, NULL, session_event, s);
	bufferevent_set_max_single_read(s->bev, READ_MAX);
	p->sess[slot] = s;
	return s;
}

static void
timer_ms(struct event *ev, uint32_t ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_add(ev, &tv);
}

static void
session_free(struct session *s)
{
	struct hgwd *d = s->d;

	if (s->close_ev != NULL && --d->nclosing == 0 && d->stopping)
		event_base_loopbreak(d->base);
	if (s->pending)
		d->npending--;
	if (s->bev)
		bufferevent_free(s->bev);
	event_free(s->hold_ev);
	event_free(s->ka_ev);
	if (s->close_ev)
		event_free(s->close_ev);
	free(s);
}

static void
closing_done(evutil_socket_t fd, short what, void *arg)
{
	session_free(arg);
}

static void
closing_write(struct bufferevent *bev, void *arg)
{
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		session_free(arg);
}

static void
closing_event(struct bufferevent *bev, short what, void *arg)
{
	session_free(arg);
}

/* Takes s away from its peer. When the peer was established over s, its paths
 * go now unless keep_paths (a replacement keeps them until END-OF-RIB). */
static void
session_detach(struct session *s, int keep_paths)
{
	struct peer *p = s->peer;
	struct hgwd *d = s->d;
	int i;

	if (p == NULL)
		return;
	for (i = 0; i < PEER_MAX_SESSIONS; i++)
		if (p->sess[i] == s)
			p->sess[i] = NULL;
	if (p->est == s) {
		p->est = NULL;
		members_peer_down(d, p);
		leases_peer_down(d, p);
		if (p->member && !p->configured)
			p->giveup_at_ms = now_ms() + members_giveup_ms(d);
		p->eor_received = 0;
		p->down_since_ms = now_ms();
		if (!keep_paths && s->confirmed)
			p->flaps++;	/* a replacement is no flap, nor a HELLO refused */
		free(p->ubuf);
		p->ubuf = NULL;
		if (keep_paths) {
			rib_mark_peer_stale(&d->rib, p);
			p->stale_pending = 1;
		} else {
			size_t n = rib_drop_peer(&d->rib, p, 0);

			p->pfx_accepted = 0;
			p->stale_pending = 0;
			if (n > 0)
				log_info("peer %s: removed %zu route%s", p->name, n,
				    n == 1 ? "" : "s");
		}
		/* A session that held for its hold time resets the back-off. */
		if (now_ms() - s->established_ms >= s->hold_ms)
			p->backoff_ms = 0;
	}
	s->peer = NULL;
	event_del(s->hold_ev);
	event_del(s->ka_ev);
}

/* Ends a session: NOTIFY (code != 0), detach, drop the peer's paths, flush and
 * close; then re-dial or forget the peer. */
static void
session_close(struct session *s, int code, int sub, const char *fmt, ...)
{
	struct peer *p = s->peer;
	char why[256];
	va_list ap;
	struct timeval tv = { CLOSE_LINGER_MS / 1000, (CLOSE_LINGER_MS % 1000) * 1000 };

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (code != 0 && s->state != HGW_ST_CONNECT)
		send_notify(s, code, sub, why);
	if (p != NULL) {
		int was_est = p->est == s;

		/* A failure that repeats on every retry is logged once. */
		if (s->state != HGW_ST_CONNECT &&
		    (was_est || code != HGW_ERR_CEASE || sub != HGW_CEASE_COLLISION)) {
			if ((was_est && s->confirmed) || worth_logging(p, why))
				(was_est && s->confirmed && !p->d->stopping ? log_warnx : log_notice)(
				    "peer %s: session %s: %s",
				    p->name, was_est && s->confirmed ? "down" : "closed", why);
			else
				log_debug(LOG_CAT_PEER, "peer %s: session closed: %s", p->name, why);
		}
		/* A collision is no error of the peer's (a replaced session is
		 * detached before it closes); a failed second connection from an
		 * established peer's address is, and must show. */
		if (code != HGW_ERR_CEASE || sub != HGW_CEASE_COLLISION)
			set_error(p, "%s", why);
		session_detach(s, 0);
		if (peer_nsessions(p) == 0 && p->est == NULL) {
			if (p->configured || (p->learned && !p->left_cleanly && !p->d->stopping))
				peer_schedule_connect(p, 0);
			else if (!p->d->stopping && p->maxpfx_until_ms > now_ms()) {
				/* Kept, idle, to hold its hold-off; peer_retry frees it. */
				timer_ms(p->retry_ev, (uint32_t)(p->maxpfx_until_ms - now_ms()));
			} else if (!p->d->stopping) {
				if (p->member && p->left_cleanly)
					log_info("member %s left: forgotten", p->name);
				peer_free(p);
			}
		}
	}
	/* Let the NOTIFY leave, then free. */
	if (s->bev == NULL || evbuffer_get_length(bufferevent_get_output(s->bev)) == 0 ||
	    s->state == HGW_ST_CONNECT) {
		session_free(s);
		return;
	}
	bufferevent_disable(s->bev, EV_READ);
	bufferevent_setcb(s->bev, NULL, closing_write, closing_event, s);
	s->close_ev = evtimer_new(s->d->base, closing_done, s);
	if (s->close_ev == NULL) {
		session_free(s);
		return;
	}
	s->d->nclosing++;
	event_add(s->close_ev, &tv);
}

static void
session_up(struct session *s)
{
	/* Transport is up: HELLO, then wait for theirs within our hold time. */
	s->state = HGW_ST_HELLO_SENT;
	send_hello(s);
	timer_ms(s->hold_ev, s->d->cfg.hold_ms);
}

/* A valid HELLO arrived on s: settle collisions, then establish. Returns -1
 * when s lost a collision and is gone (it may be freed already). */
static int
session_establish(struct session *s)
{
	struct peer *p = s->peer;
	struct hgwd *d = s->d;
	int i, replaced = 0;
	char nb[16];

	for (i = 0; i < PEER_MAX_SESSIONS; i++) {
		struct session *o = p->sess[i];
		int keep_s;

		if (o == NULL || o == s)
			continue;
		if (o->outbound == s->outbound)
			keep_s = 1;	/* the opener dialled again: its old side is gone */
		else
			keep_s = hgw_collision_keep(d->node_id, s->hello.node_id, s->outbound);
		if (!keep_s) {
			/* The kept one may be dead without knowing: probe it. */
			if (o->state == HGW_ST_ESTABLISHED) {
				uint8_t ka[HGW_HDR_LEN];

				session_send(o, ka, hgw_keepalive_encode(ka, sizeof(ka)));
			}
			session_close(s, HGW_ERR_CEASE, HGW_CEASE_COLLISION,
			    "connection collision: keeping the %s connection",
			    o->outbound ? "outbound" : "inbound");
			return -1;
		}
		if (o == p->est) {
			/* Keep its paths until the new session's END-OF-RIB. */
			replaced = 1;
			send_notify(o, HGW_ERR_CEASE, HGW_CEASE_COLLISION,
			    "replaced by a newer connection");
			session_detach(o, 1);
			session_close(o, 0, 0, "replaced by a newer connection");
		} else
			session_close(o, HGW_ERR_CEASE, HGW_CEASE_COLLISION,
			    "connection collision: keeping the %s connection",
			    s->outbound ? "outbound" : "inbound");
	}
	hgw_negotiate_timers(d->cfg.hold_ms, d->cfg.keepalive_ms, s->hello.hold_ms,
	    &s->hold_ms, &s->ka_ms);
	if (s->pending) {
		s->pending = 0;
		d->npending--;
	}
	s->state = HGW_ST_ESTABLISHED;
	s->established_ms = now_ms();
	p->est = s;
	p->node_id = s->hello.node_id;
	snprintf(p->hostname, sizeof(p->hostname), "%s", s->hello.hostname);
	p->up_since_ms = s->established_ms;
	p->eor_received = 0;
	event_del(p->retry_ev);
	timer_ms(s->hold_ev, s->hold_ms);
	{
		struct timeval tv = { s->ka_ms / 1000, (s->ka_ms % 1000) * 1000 };

		event_add(s->ka_ev, &tv);
	}
	s->replaced = replaced;
	(void)nb;
	if (p->ubuf == NULL && (p->ubuf = malloc(HGW_MAX_FRAME)) == NULL) {
		session_close(s, HGW_ERR_CEASE, HGW_CEASE_RESOURCES, "out of memory");
		return -1;
	}
	p->remote_port = s->hello.listen_port;
	p->left_cleanly = 0;
	if (s->hello.caps & HGW_CAP_MEMBERS) {
		p->member = 1;
		if (!p->configured)
			p->learned = 1;
	}
	send_table(p);
	members_peer_up(d, p);
	leases_peer_up(d, p);
	{
		uint8_t eor[HGW_HDR_LEN];

		session_send(s, eor, hgw_eor_encode(eor, sizeof(eor)));
	}
	return 0;
}

/* Applies a validated UPDATE; -1 when it ended the session. */
static int
apply_update(struct session *s, const uint8_t *body, size_t len)
{
	struct peer *p = s->peer;
	struct hgwd *d = s->d;
	struct hgw_upd_iter iter;
	struct hgw_upd_item it;
	uint32_t now = hgwd_now_ds(d);
	int limit = policy_limit(p);
	char pb[HGW_ADDRSTRLEN], rb[128];

	p->updates_in++;
	hgw_update_iter_init(&iter, body, len);
	while (hgw_update_next(&iter, &it)) {
		const char *why;
		int r;

		if (it.kind == HGW_UPD_WITHDRAW) {
			if (rib_withdraw(&d->rib, &it.prefix, p, it.origin) == 1)
				p->pfx_accepted--;
			continue;
		}
		p->pfx_received++;
		if ((why = policy_refuse(s, &it, rb, sizeof(rb))) != NULL) {
			p->pfx_refused++;
			snprintf(p->last_refused, sizeof(p->last_refused), "%s: %s",
			    hgw_prefix_fmt(&it.prefix, pb, sizeof(pb)), why);
			if (p->pfx_refused == 1 || log_debug_on(LOG_CAT_PEER))
				log_warnx("peer %s: refused %s%s", p->name, p->last_refused,
				    p->pfx_refused == 1 ? " (later refusals are counted in show peers)" : "");
			if (rib_withdraw(&d->rib, &it.prefix, p, it.origin) == 1)
				p->pfx_accepted--;
			continue;
		}
		r = rib_announce(&d->rib, &it.prefix, p, it.origin, &it.gateway, now);
		if (r == 1)
			p->pfx_accepted++;
		else if (r < 0)
			log_err("peer %s: out of memory for %s", p->name,
			    hgw_prefix_fmt(&it.prefix, pb, sizeof(pb)));
		if (limit > 0 && p->pfx_accepted > (uint32_t)limit) {
			p->maxpfx_until_ms = now_ms() + MAXPFX_HOLDOFF_MS;
			session_close(s, HGW_ERR_CEASE, HGW_CEASE_MAX_PREFIXES,
			    "maximum prefixes (%d) exceeded; sessions refused for %d s",
			    limit, MAXPFX_HOLDOFF_MS / 1000);
			return -1;
		}
	}
	return 0;
}

static void
handle_eor(struct session *s)
{
	struct peer *p = s->peer;
	struct hgwd *d = s->d;

	if (p->eor_received)
		return;
	p->eor_received = 1;
	if (p->stale_pending) {
		size_t n = rib_drop_peer(&d->rib, p, 1);

		p->pfx_accepted -= (uint32_t)n;
		p->stale_pending = 0;
	}
	log_debug(LOG_CAT_PEER, "peer %s: END-OF-RIB, %u prefixes", p->name, p->pfx_accepted);
	fib_peer_eor(d->fib);
}

/* The first frame after HELLO shows the peer took our HELLO: only now is the
 * session worth a log line (a peer that refuses our HELLO never gets here). */
static void
session_confirm(struct session *s)
{
	struct peer *p = s->peer;
	char nb[16];

	if (s->confirmed || s->state != HGW_ST_ESTABLISHED)
		return;
	s->confirmed = 1;
	p->last_error[0] = '\0';
	log_info("peer %s: established (node %s%s%s, %s, hold %u ms, keepalive %u ms)%s",
	    p->name, hgw_nodeid_fmt(p->node_id, nb, sizeof(nb)),
	    p->hostname[0] ? ", host " : "", p->hostname,
	    s->outbound ? "outbound" : "inbound", s->hold_ms, s->ka_ms,
	    s->replaced ? ", replacing the previous session" : "");
}

/* Runs one event through the state machine; returns -1 when s is gone. */
static int
session_step(struct session *s, enum hgw_event ev, const struct hgw_err *err,
    const uint8_t *body, size_t len)
{
	struct hgw_fsm_out o = hgw_fsm_step(s->state, ev);
	struct peer *p = s->peer;

	if (o.actions & HGW_ACT_CLOSE) {
		int code = o.code, sub = o.subcode;
		char why[200];

		if (err != NULL && code == 0) {
			code = err->code;
			sub = err->subcode;
		}
		switch (ev) {
		case HGW_EV_RX_MALFORMED:
			snprintf(why, sizeof(why), "malformed frame: %s", err ? err->text : "");
			p->errors++;
			break;
		case HGW_EV_HOLD_EXPIRED:
			snprintf(why, sizeof(why), "hold timer expired (%u ms)",
			    s->state == HGW_ST_ESTABLISHED ? s->hold_ms : s->d->cfg.hold_ms);
			break;
		case HGW_EV_HELLO_TIMEOUT:
			snprintf(why, sizeof(why), "no HELLO within %u ms", s->d->cfg.hold_ms);
			break;
		default:
			if (code == HGW_ERR_FSM) {
				snprintf(why, sizeof(why), "unexpected %s in state %s",
				    hgw_event_name(ev), hgw_state_name(s->state));
				p->errors++;
			} else
				snprintf(why, sizeof(why), "%s", err ? err->text : hgw_event_name(ev));
		}
		if (!(o.actions & HGW_ACT_SEND_NOTIFY))
			code = 0;
		session_close(s, code, sub, "%s", why);
		return -1;
	}
	if (o.actions & HGW_ACT_RESET_HOLD)
		timer_ms(s->hold_ev, s->state == HGW_ST_ESTABLISHED ? s->hold_ms : s->d->cfg.hold_ms);
	if (ev != HGW_EV_RX_HELLO)
		session_confirm(s);
	if (o.actions & HGW_ACT_ESTABLISH)
		return session_establish(s);
	s->state = o.next;
	if (o.actions & HGW_ACT_APPLY) {
		if (ev == HGW_EV_RX_UPDATE && s->rx_type == HGW_MSG_MEMBERS)
			members_rx(s->d, p, body, len);
		else if (ev == HGW_EV_RX_UPDATE && s->rx_type == HGW_MSG_LEASE)
			leases_rx(s->d, p, body, len);
		else if (ev == HGW_EV_RX_UPDATE && apply_update(s, body, len) < 0)
			return -1;
		else if (ev == HGW_EV_RX_EOR)
			handle_eor(s);
	}
	return 0;
}

/* Is node id in use by an established session of another peer? */
static int
node_id_taken(struct hgwd *d, const struct peer *self, uint32_t id)
{
	const struct peer *q;

	TAILQ_FOREACH(q, &d->peers, entry)
		if (q != self && q->est != NULL && q->node_id == id)
			return 1;
	return 0;
}

/* Handles one whole frame; -1 when the session is gone. */
static int
session_frame(struct session *s, const struct hgw_hdr *h, const uint8_t *body, size_t len)
{
	struct peer *p = s->peer;
	struct hgw_err err;
	struct hgw_notify n;

	memset(&err, 0, sizeof(err));
	p->msgs_in++;
	switch (h->type) {
	case HGW_MSG_HELLO:
		if (hgw_hello_decode(body, len, &s->hello, &err) < 0)
			return session_step(s, HGW_EV_RX_MALFORMED, &err, NULL, 0);
		if (s->d->tls != NULL && tls_check_node(s->d->tls, s->bev, s->hello.node_id,
		    err.text, sizeof(err.text)) < 0) {
			err.code = HGW_ERR_HELLO;
			err.subcode = HGW_HELLO_BAD_NODE_ID;
			return session_step(s, HGW_EV_RX_MALFORMED, &err, NULL, 0);
		}
		if (node_id_taken(s->d, p, s->hello.node_id)) {
			err.code = HGW_ERR_HELLO;
			err.subcode = HGW_HELLO_DUP_NODE_ID;
			snprintf(err.text, sizeof(err.text), "node id %u.%u.%u.%u is in use by another established peer",
			    s->hello.node_id >> 24, (s->hello.node_id >> 16) & 0xff,
			    (s->hello.node_id >> 8) & 0xff, s->hello.node_id & 0xff);
			return session_step(s, HGW_EV_RX_MALFORMED, &err, NULL, 0);
		}
		if (s->hello.node_id == s->d->node_id) {
			err.code = HGW_ERR_HELLO;
			err.subcode = HGW_HELLO_DUP_NODE_ID;
			snprintf(err.text, sizeof(err.text), "peer uses our node id");
			return session_step(s, HGW_EV_RX_MALFORMED, &err, NULL, 0);
		}
		return session_step(s, HGW_EV_RX_HELLO, NULL, NULL, 0);
	case HGW_MSG_KEEPALIVE:
	case HGW_MSG_EOR:
		if (hgw_empty_decode(h->type, len, &err) < 0)
			return session_step(s, HGW_EV_RX_MALFORMED, &err, NULL, 0);
		return session_step(s, h->type == HGW_MSG_EOR ? HGW_EV_RX_EOR :
		    HGW_EV_RX_KEEPALIVE, NULL, NULL, 0);
	case HGW_MSG_UPDATE:
		s->rx_type = h->type;
		/* Checked whole before anything of it is applied. */
		if (s->state == HGW_ST_ESTABLISHED && hgw_update_validate(body, len, &err) < 0)
			return session_step(s, HGW_EV_RX_MALFORMED, &err, NULL, 0);
		return session_step(s, HGW_EV_RX_UPDATE, NULL, body, len);
	case HGW_MSG_MEMBERS:
	case HGW_MSG_LEASE:
		if (s->state == HGW_ST_ESTABLISHED &&
		    (h->type == HGW_MSG_MEMBERS ? hgw_members_validate(body, len, &err) :
		    hgw_leases_validate(body, len, &err)) < 0)
			return session_step(s, HGW_EV_RX_MALFORMED, &err, NULL, 0);
		s->rx_type = h->type;
		return session_step(s, HGW_EV_RX_UPDATE, NULL, body, len);
	case HGW_MSG_NOTIFY:
		p->notify_in++;
		if (hgw_notify_decode(body, len, &n, &err) < 0) {
			err.code = 0;
			snprintf(err.text, sizeof(err.text), "malformed NOTIFY received");
		} else {
			err.code = 0;
			if (n.code == HGW_ERR_CEASE && (n.subcode == HGW_CEASE_SHUTDOWN ||
			    n.subcode == HGW_CEASE_DECONFIGURED))
				p->left_cleanly = 1;
			snprintf(err.text, sizeof(err.text), "received NOTIFY %u/%u (%s)%s%.80s",
			    n.code, n.subcode, hgw_notify_name(n.code, n.subcode),
			    n.text[0] ? ": " : "", n.text);
		}
		return session_step(s, HGW_EV_RX_NOTIFY, &err, NULL, 0);
	}
	err.code = HGW_ERR_HEADER;
	err.subcode = HGW_HDR_BAD_TYPE;
	snprintf(err.text, sizeof(err.text), "unknown message type %u", h->type);
	return session_step(s, HGW_EV_RX_MALFORMED, &err, NULL, 0);
}

static void
session_read(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	for (;;) {
		uint8_t hb[HGW_HDR_LEN];
		struct hgw_hdr h;
		struct hgw_err err;
		size_t avail = evbuffer_get_length(in);
		const uint8_t *frame;
		int r;

		if (avail < HGW_HDR_LEN)
			return;
		evbuffer_copyout(in, hb, HGW_HDR_LEN);
		r = hgw_hdr_decode(hb, HGW_HDR_LEN, HGW_MAX_FRAME, &h, &err);
		if (r < 0) {
			session_step(s, HGW_EV_RX_MALFORMED, &err, NULL, 0);
			return;
		}
		if (avail < h.length)
			return;
		if ((frame = evbuffer_pullup(in, h.length)) == NULL) {
			session_close(s, HGW_ERR_CEASE, HGW_CEASE_RESOURCES, "out of memory");
			return;
		}
		r = session_frame(s, &h, frame + HGW_HDR_LEN, h.length - HGW_HDR_LEN);
		if (r < 0)
			return;
		evbuffer_drain(in, h.length);
	}
}

static void
session_event(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	struct peer *p = s->peer;
	struct hgw_err err;

	if (what & BEV_EVENT_CONNECTED) {
		int one = 1;

		setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		event_del(s->hold_ev);
		log_debug(LOG_CAT_PEER, "peer %s: connected", p->name);
		session_up(s);
		return;
	}
	memset(&err, 0, sizeof(err));
	if (s->state == HGW_ST_CONNECT || s->state == HGW_ST_IDLE) {
		char tb[200];

		if (s->d->tls != NULL && tls_last_error(bev, tb, sizeof(tb)) != NULL)
			snprintf(err.text, sizeof(err.text), "%.120s", tb);
		else if (s->state == HGW_ST_IDLE || s->d->tls != NULL)
			snprintf(err.text, sizeof(err.text), "%s failed: connection %s",
			    s->state == HGW_ST_IDLE ? "TLS handshake" : "connect",
			    (what & BEV_EVENT_EOF) ? "closed" : "refused or reset");
		else
			snprintf(err.text, sizeof(err.text), "connect to port %u: %s", p->port,
			    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		/* Said once; the retries that fail the same way only in debug. */
		if (worth_logging(p, err.text))
			log_notice("peer %s: %s%s", p->name, err.text,
			    p->configured ? "; retrying with back-off" : "");
		else
			log_debug(LOG_CAT_PEER, "peer %s: %s", p->name, err.text);
		set_error(p, "%s", err.text);
		s->state = HGW_ST_CONNECT;	/* closes quietly */
		session_close(s, 0, 0, "%s", err.text);
		return;
	}
	if (s->d->tls != NULL && tls_last_error(bev, err.text, sizeof(err.text)) != NULL)
		;	/* an alert after our side of the handshake: say what it was */
	else if (s->d->tls != NULL && s->state == HGW_ST_HELLO_SENT)
		/* TLS 1.3: the server checks our certificate after our side is
		 * done; its alert may be lost in the reset of the close. */
		snprintf(err.text, sizeof(err.text), "closed by the peer right after the TLS handshake: "
		    "it refused our certificate or key (its log says why)");
	else if (what & BEV_EVENT_EOF)
		snprintf(err.text, sizeof(err.text), "connection closed by peer");
	else
		snprintf(err.text, sizeof(err.text), "connection error: %s",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	session_step(s, HGW_EV_CLOSED, &err, NULL, 0);
}

static void
session_hold(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	struct hgw_err err;

	memset(&err, 0, sizeof(err));
	if (s->overflow) {
		session_close(s, 0, 0, "peer stopped reading: more than %d bytes queued for it",
		    OUTPUT_MAX);
		return;
	}
	switch (s->state) {
	case HGW_ST_IDLE:
		session_close(s, 0, 0, "no TLS handshake within %u ms", s->d->cfg.hold_ms);
		break;
	case HGW_ST_CONNECT:
		snprintf(err.text, sizeof(err.text), "connect timed out");
		if (strcmp(s->peer->last_error, err.text) != 0)
			log_notice("peer %s: %s; retrying with back-off", s->peer->name, err.text);
		set_error(s->peer, "%s", err.text);
		session_close(s, 0, 0, "%s", err.text);
		break;
	case HGW_ST_ESTABLISHED:
		session_step(s, HGW_EV_HOLD_EXPIRED, NULL, NULL, 0);
		break;
	default:
		session_step(s, HGW_EV_HELLO_TIMEOUT, NULL, NULL, 0);
	}
}

static void
session_ka(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	uint8_t buf[HGW_HDR_LEN];

	session_send(s, buf, hgw_keepalive_encode(buf, sizeof(buf)));
}

/* Dialling. */

static int
dial(struct peer *p)
{
	struct hgwd *d = p->d;
	struct sockaddr_storage ss, src;
	socklen_t len, slen;
	struct session *s;
	const struct hgw_addr *own = p->addr.family == AF_INET ? &d->addr4 : &d->addr6;
	int fd;

	fd = socket(p->addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		set_error(p, "socket: %s", strerror(errno));
		return -1;
	}
	/* Leave from our advertised address, so the peer knows us by it. */
	if (own->family && kernel_is_local(d->kernel, own)) {
		to_sockaddr(own, 0, &src, &slen);
		if (bind(fd, (struct sockaddr *)&src, slen) < 0)
			log_debug(LOG_CAT_PEER, "peer %s: bind to our address: %s", p->name,
			    strerror(errno));
	}
	if ((s = session_new(p, fd, 1)) == NULL) {
		set_error(p, "out of memory");
		return -1;
	}
	to_sockaddr(&p->addr, p->port, &ss, &len);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	timer_ms(s->hold_ev, d->cfg.hold_ms);	/* connect deadline */
	if (bufferevent_socket_connect(s->bev, (struct sockaddr *)&ss, (int)len) < 0) {
		set_error(p, "connect: %s", strerror(errno));
		session_close(s, 0, 0, "connect failed");
		return -1;
	}
	log_debug(LOG_CAT_PEER, "peer %s: dialling port %u", p->name, p->port);
	return 0;
}

static int
has_outbound(const struct peer *p)
{
	int i;

	for (i = 0; i < PEER_MAX_SESSIONS; i++)
		if (p->sess[i] != NULL && p->sess[i]->outbound)
			return 1;
	return 0;
}

static void
peer_retry(evutil_socket_t fd, short what, void *arg)
{
	struct peer *p = arg;

	if (!p->configured && !p->learned && peer_nsessions(p) == 0 && p->est == NULL &&
	    p->maxpfx_until_ms <= now_ms() && !p->d->stopping) {
		peer_free(p);	/* a dynamic peer's hold-off is over */
		return;
	}
	if ((!p->configured && !p->learned) || p->est != NULL || has_outbound(p) ||
	    p->d->stopping)
		return;
	if (!p->configured && p->giveup_at_ms != 0 && now_ms() + 5 >= p->giveup_at_ms) {
		if (peer_nsessions(p) == 0) {
			log_info("member %s: unreachable for %u s: given up until a live peer lists it again",
			    p->name, members_giveup_ms(p->d) / 1000);
			peer_free(p);
		}
		return;
	}
	if (p->maxpfx_until_ms > now_ms()) {
		peer_schedule_connect(p, (uint32_t)(p->maxpfx_until_ms - now_ms()));
		return;
	}
	if (dial(p) < 0)
		peer_schedule_connect(p, 0);
}

/* Dials after delay_ms, or after the next back-off step when delay_ms is 0. */
static void
peer_schedule_connect(struct peer *p, uint32_t delay_ms)
{
	struct hgwd *d = p->d;

	if ((!p->configured && !p->learned) || d->stopping)
		return;
	if (delay_ms == 0) {
		p->backoff_ms = hgw_backoff_next(p->backoff_ms, BACKOFF_MIN_MS, BACKOFF_MAX_MS);
		d->backoff_seed = d->backoff_seed * 1103515245u + 12345u;
		delay_ms = hgw_backoff_jitter(p->backoff_ms, d->backoff_seed ^ (d->backoff_seed >> 16));
	}
	/* A learned member is given up on time, not one back-off step late. */
	if (!p->configured && p->giveup_at_ms != 0) {
		uint64_t now = now_ms();
		uint32_t left = p->giveup_at_ms > now ? (uint32_t)(p->giveup_at_ms - now) : 0;

		if (left < delay_ms)
			delay_ms = left;
	}
	p->retry_at_ms = now_ms() + delay_ms;
	timer_ms(p->retry_ev, delay_ms);
}

/* A member we heard of (MEMBERS from a peer, or a beacon): dial it. */
void
peer_learn(struct hgwd *d, const struct hgw_addr *a, uint16_t port, uint32_t node_id,
    const char *how)
{
	struct peer *p = peer_find(d, a);
	char nb[16];

	if (p != NULL) {
		if (p->est != NULL || p->configured)
			return;
		/* Known but silent: heard of again, so dial it afresh. */
		p->learned = 1;
		p->port = port;
		p->giveup_at_ms = now_ms() + members_giveup_ms(d);
		if (!has_outbound(p) && peer_nsessions(p) == 0) {
			p->backoff_ms = 0;
			peer_schedule_connect(p, 0);
		}
		return;
	}
	if ((p = peer_new(d, a, port, 0)) == NULL)
		return;
	p->learned = 1;
	p->giveup_at_ms = now_ms() + members_giveup_ms(d);
	snprintf(p->learned_how, sizeof(p->learned_how), "%s", how);
	log_info("member %s (node %s) learned %s: dialling it", p->name,
	    hgw_nodeid_fmt(node_id, nb, sizeof(nb)), how);
	d->backoff_seed = d->backoff_seed * 1103515245u + 12345u;
	peer_schedule_connect(p, (d->backoff_seed >> 16) % 20 + 1);
}

/* Accepting. */

/* Is a on the LAN interface's subnets or in the allow list? */
int
peers_on_lan(struct hgwd *d, const struct hgw_addr *a)
{
	struct hgw_prefix nets[32];
	int n, i;

	for (i = 0; i < (int)d->cfg.nallows; i++)
		if (hgw_prefix_contains_addr(&d->cfg.allows[i], a))
			return 1;
	n = kernel_if_subnets(d->kernel, nets, 32);
	for (i = 0; i < n; i++)
		if (hgw_prefix_contains_addr(&nets[i], a))
			return 1;
	return 0;
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
    void *arg)
{
	struct hgwd *d = arg;
	struct hgw_addr a;
	uint16_t port;
	struct peer *p;
	struct session *s;
	char ab[HGW_ADDRSTRLEN];
	int one = 1;
	uint64_t now;

	if (from_sockaddr(sa, &a, &port) < 0 || d->stopping) {
		close(fd);
		return;
	}
	hgw_addr_fmt(&a, ab, sizeof(ab));
	/* Refused before any parsing: strangers, floods, too many half-open. */
	if (config_find_neighbor(&d->cfg, &a) == NULL && !peers_on_lan(d, &a)) {
		d->refused++;
		log_warnx("refused a connection from %s: not a neighbor, not on the %s subnet and not allowed",
		    ab, d->cfg.ifname);
		close(fd);
		return;
	}
	now = now_ms();
	d->accept_tokens += (double)(now - d->accept_last_ms) * ACCEPT_RATE / 1000.0;
	if (d->accept_tokens > ACCEPT_BURST)
		d->accept_tokens = ACCEPT_BURST;
	d->accept_last_ms = now;
	if (d->accept_tokens < 1.0 || d->npending >= d->pending_max) {
		d->refused++;
		if (d->refused_logged_ms + 1000 <= now) {
			log_warnx("refused a connection from %s: %s", ab, d->npending >= d->pending_max ?
			    "too many connections still in their handshake" : "too many connections per second");
			d->refused_logged_ms = now;
		}
		close(fd);
		return;
	}
	d->accept_tokens -= 1.0;
	p = peer_find(d, &a);
	if (p != NULL && p->maxpfx_until_ms > now) {
		d->refused++;
		log_debug(LOG_CAT_PEER, "peer %s: refused: waiting after exceeding max-prefixes", ab);
		close(fd);
		return;
	}
	if (p == NULL && (p = peer_new(d, &a, HGW_DEFAULT_PORT, 0)) == NULL) {
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((s = session_new(p, fd, 0)) == NULL) {
		log_warnx("peer %s: refused a connection: too many sessions", ab);
		if (peer_nsessions(p) == 0 && !p->configured)
			peer_free(p);
		return;
	}
	s->pending = 1;
	d->npending++;
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	log_debug(LOG_CAT_PEER, "peer %s: accepted a connection from port %u", ab, port);
	if (d->tls != NULL) {
		timer_ms(s->hold_ev, d->cfg.hold_ms);	/* handshake deadline */
		return;
	}
	session_up(s);
}

static void
listen_resume(evutil_socket_t fd, short what, void *arg)
{
	struct hgwd *d = arg;
	int i;

	for (i = 0; i < 2; i++)
		if (d->listeners[i] != NULL)
			evconnlistener_enable(d->listeners[i]);
}

/* accept() failed (out of file descriptors, most likely): pause listening
 * for a second instead of retrying in a loop. */
static void
on_listen_error(struct evconnlistener *l, void *arg)
{
	struct hgwd *d = arg;
	struct timeval tv = { 1, 0 };

	log_warnx("accept: %s; not accepting for 1 s",
	    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	evconnlistener_disable(l);
	if (d->listen_resume_ev == NULL)
		d->listen_resume_ev = evtimer_new(d->base, listen_resume, d);
	if (d->listen_resume_ev != NULL)
		evtimer_add(d->listen_resume_ev, &tv);
}

static int
listen_one(struct hgwd *d, int family, uint16_t port)
{
	struct sockaddr_storage ss;
	struct hgw_addr any;
	socklen_t len;
	int fd, one = 1;
	struct evconnlistener *l;

	memset(&any, 0, sizeof(any));
	any.family = (uint8_t)family;
	to_sockaddr(&any, port, &ss, &len);
	if ((fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		log_warn("cannot listen on %s port %u", family == AF_INET ? "IPv4" : "IPv6", port);
		close(fd);
		return -1;
	}
	l = evconnlistener_new(d->base, on_accept, d, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_CLOSE_ON_EXEC, 4096, fd);
	if (l == NULL) {
		close(fd);
		return -1;
	}
	evconnlistener_set_error_cb(l, on_listen_error);
	d->listeners[family == AF_INET ? 0 : 1] = l;
	return 0;
}

int
peers_listen(struct hgwd *d, uint16_t port)
{
	int ok4, ok6;

	peers_unlisten(d);
	ok4 = listen_one(d, AF_INET, port) == 0;
	ok6 = listen_one(d, AF_INET6, port) == 0;
	if (!ok4 && !ok6)
		return -1;
	d->listen_port = port;
	return 0;
}

void
peers_unlisten(struct hgwd *d)
{
	int i;

	if (d->listen_resume_ev != NULL) {
		event_free(d->listen_resume_ev);
		d->listen_resume_ev = NULL;
	}
	for (i = 0; i < 2; i++)
		if (d->listeners[i] != NULL) {
			evconnlistener_free(d->listeners[i]);
			d->listeners[i] = NULL;
		}
}

/* Configuration. */

static void
peer_free(struct peer *p)
{
	struct hgwd *d = p->d;
	int i;

	for (i = 0; i < PEER_MAX_SESSIONS; i++) {
		struct session *s = p->sess[i];

		if (s != NULL) {
			session_detach(s, 0);
			session_free(s);
		}
	}
	if (rib_drop_peer(&d->rib, p, 0) > 0)
		log_info("peer %s: routes removed", p->name);
	TAILQ_REMOVE(&d->peers, p, entry);
	event_free(p->retry_ev);
	free(p->ubuf);
	free(p);
}

/* Closes every session of p. p may be freed by the last close when it is
 * not configured: the caller must not touch it afterwards. */
static void
peer_close_all(struct peer *p, int code, int sub, const char *why)
{
	struct session *ss[PEER_MAX_SESSIONS];
	int i, n = 0;

	for (i = 0; i < PEER_MAX_SESSIONS; i++)
		if (p->sess[i] != NULL)
			ss[n++] = p->sess[i];
	for (i = 0; i < n; i++)
		session_close(ss[i], code, sub, "%s", why);
}

/* Stops and forgets p; p is gone afterwards. */
static void
peer_stop(struct peer *p, int code, int sub, const char *why)
{
	p->configured = 0;	/* no re-dial; freed with its last session */
	event_del(p->retry_ev);
	if (peer_nsessions(p) == 0)
		peer_free(p);
	else
		peer_close_all(p, code, sub, why);
}

void
peers_sync_config(struct hgwd *d)
{
	struct peer *p, *next;
	size_t i;

	for (p = TAILQ_FIRST(&d->peers); p != NULL; p = next) {
		const struct cfg_neighbor *n = config_find_neighbor(&d->cfg, &p->addr);

		next = TAILQ_NEXT(p, entry);
		if (n == NULL && p->configured) {
			log_info("peer %s: neighbor removed from the configuration", p->name);
			peer_stop(p, HGW_ERR_CEASE, HGW_CEASE_DECONFIGURED,
			    "neighbor deconfigured");
		}
	}
	for (i = 0; i < d->cfg.nneighbors; i++) {
		const struct cfg_neighbor *n = &d->cfg.neighbors[i];

		if ((p = peer_find(d, &n->addr)) == NULL) {
			if ((p = peer_new(d, &n->addr, n->port, 1)) == NULL) {
				log_warnx("neighbor: out of memory");
				continue;
			}
			log_info("peer %s: neighbor added", p->name);
		}
		p->configured = 1;
		if (p->port != n->port) {
			p->port = n->port;
			event_del(p->retry_ev);
		}
		if (p->est == NULL && !has_outbound(p) && !evtimer_pending(p->retry_ev, NULL)) {
			/* A short random delay spreads a cluster's simultaneous start. */
			d->backoff_seed = d->backoff_seed * 1103515245u + 12345u;
			peer_schedule_connect(p, (d->backoff_seed >> 16) % 20);
		}
	}
}

int
peers_all_eor(struct hgwd *d)
{
	struct peer *p;

	TAILQ_FOREACH(p, &d->peers, entry)
		if (p->configured && !p->eor_received)
			return 0;
	return 1;
}

void
peers_reset(struct hgwd *d, const struct hgw_addr *a, char *err, size_t errlen)
{
	struct peer *p, *next;
	int found = 0;

	err[0] = '\0';
	for (p = TAILQ_FIRST(&d->peers); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (a != NULL && hgw_addr_cmp(&p->addr, a) != 0)
			continue;
		found = 1;
		p->backoff_ms = 0;
		peer_close_all(p, HGW_ERR_CEASE, HGW_CEASE_ADMIN_RESET,
		    "administrative reset");
	}
	if (a != NULL && !found)
		snprintf(err, errlen, "no such peer");
}

void
peers_shutdown(struct hgwd *d)
{
	struct peer *p, *next;

	for (p = TAILQ_FIRST(&d->peers); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		event_del(p->retry_ev);
		p->configured = 0;
		peer_close_all(p, HGW_ERR_CEASE, HGW_CEASE_SHUTDOWN, "shutdown");
	}
}

void
peers_free(struct hgwd *d)
{
	struct peer *p;

	while ((p = TAILQ_FIRST(&d->peers)) != NULL)
		peer_free(p);
}
