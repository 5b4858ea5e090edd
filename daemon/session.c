/* session.c: one connection with another node: transport (TCP or TLS), frame
 * input and output, hold and keepalive timers, and every state change through
 * the pure state machine of proto/fsm.c. Its owner (peer.c) hears of what
 * happens through struct session_ops. */
#include "session.h"
#include "budget.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/sockios.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "hgwd.h"
#include "log.h"
#include "tls.h"
#include "util.h"

#define CLOSE_LINGER_MS	1000	/* time a closing session gets to flush its NOTIFY */
#define READ_MAX	(256 * 1024)
#define COPY_MIN	4096	/* frames queued as a block of their own size */

struct session {
	struct hgwd *d;
	const struct session_ops *ops;
	void *owner;			/* NULL once detached and closing */
	struct session_stats *stats;
	struct bufferevent *bev;
	enum hgw_state state;
	int outbound;
	struct event *hold_ev, *ka_ev, *close_ev;
	uint32_t hold_ms, ka_ms;
	uint32_t ka_div;			/* keepalives per interval; 0: SESSION_KA_DIV */
	struct hgw_hello hello;		/* the peer's, once received */
	uint64_t started_ms, established_ms;
	char name[HGW_ADDRSTRLEN + 8];	/* for logs */
	int overflow;			/* too much output queued: closing */
	size_t overflow_len;		/* the bytes that did not fit */
	const char *fail;		/* session_fail_later's reason */
	struct evbuffer_cb_entry *budget;	/* counts our output in budget.c */
	int pending;			/* counted in hgwd.npending */
	int confirmed;			/* a frame after HELLO came: the peer took our HELLO */
	int refused;			/* the dial was answered by a reset */
	int replaced;			/* it replaced an older session of the peer */
	int rx_type;			/* type of the frame being applied */
	int closing;			/* session_end runs: no second end */
	uint64_t rx_ms;			/* the last frame the stream delivered */
	uint64_t tx_ms;			/* the last frame we sent on it */
};

static void session_read(struct bufferevent *bev, void *arg);
static void session_event(struct bufferevent *bev, short what, void *arg);
static void session_hold(evutil_socket_t fd, short what, void *arg);
static void session_ka(evutil_socket_t fd, short what, void *arg);
static int session_step(struct session *s, enum hgw_event ev, const struct hgw_err *err,
    const uint8_t *body, size_t len);

static void
timer_ms(struct event *ev, uint32_t ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_add(ev, &tv);
}

/* Accessors. */

enum hgw_state session_state(const struct session *s) { return s->state; }
int session_outbound(const struct session *s) { return s->outbound; }
int session_confirmed(const struct session *s) { return s->confirmed; }
int session_replaced(const struct session *s) { return s->replaced; }
void session_set_replaced(struct session *s, int r) { s->replaced = r; }
const struct hgw_hello *session_hello(const struct session *s) { return &s->hello; }
uint32_t session_hold_ms(const struct session *s) { return s->hold_ms; }
uint32_t session_keepalive_ms(const struct session *s) { return s->ka_ms; }
uint64_t session_established_ms(const struct session *s) { return s->established_ms; }
uint64_t session_started_ms(const struct session *s) { return s->started_ms; }
int session_pending(const struct session *s) { return s->pending; }

size_t
session_queued(const struct session *s)
{
	return s->bev ? evbuffer_get_length(bufferevent_get_output(s->bev)) : 0;
}

/* Life cycle. */

struct session *
session_new(struct hgwd *d, int fd, int outbound, const char *name,
    const struct session_ops *ops, void *owner, struct session_stats *stats)
{
	struct session *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		close(fd);
		return NULL;
	}
	s->d = d;
	s->ops = ops;
	s->owner = owner;
	s->stats = stats;
	s->outbound = outbound;
	s->state = outbound ? HGW_ST_CONNECT : HGW_ST_IDLE;
	s->started_ms = now_ms();
	snprintf(s->name, sizeof(s->name), "%s", name);
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
	s->budget = budget_track(bufferevent_get_output(s->bev));
	return s;
}

static void
session_free(struct session *s)
{
	struct hgwd *d = s->d;

	if (s->close_ev != NULL && --d->nclosing == 0 && d->stopping)
		event_base_loopbreak(d->base);
	if (s->pending)
		d->npending--;
	if (s->bev) {
		budget_untrack(bufferevent_get_output(s->bev), s->budget);
		bufferevent_free(s->bev);
	}
	event_free(s->hold_ev);
	event_free(s->ka_ev);
	if (s->close_ev)
		event_free(s->close_ev);
	free(s);
}

void
session_destroy(struct session *s)
{
	s->owner = NULL;
	session_free(s);
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

/* Lets a last NOTIFY leave, then frees s. */
static void
linger(struct session *s)
{
	struct timeval tv = { CLOSE_LINGER_MS / 1000, (CLOSE_LINGER_MS % 1000) * 1000 };

	event_del(s->hold_ev);
	event_del(s->ka_ev);
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

void
session_orphan(struct session *s)
{
	s->owner = NULL;
	linger(s);
}

/* Ends s: NOTIFY when code != 0, the owner's close callback, then linger. */
static void
session_end(struct session *s, const struct session_end *end)
{
	void *owner = s->owner;

	if (s->closing)
		return;
	s->closing = 1;
	if (end->code != 0 && s->state != HGW_ST_CONNECT)
		session_send_notify(s, end->code, end->sub, end->why);
	s->owner = NULL;
	if (owner != NULL)
		s->ops->closed(owner, s, end);
	linger(s);
}

/* Output. */

static void
free_copy(const void *data, size_t len, void *copy)
{
	free(copy);
}

/* Queued output costs what the budget counts. evbuffer_add alone would put
 * a large frame in a chain rounded up to a power of two (a 40 KiB rest of a
 * lease frame takes 64 KiB) and a small frame after a full large chain in
 * another chain of the large one's size. So a large frame is queued as a
 * copy of its own size, and a small one gets room for itself only. */
static void
queue(struct evbuffer *out, const uint8_t *buf, size_t len)
{
	struct evbuffer_iovec v;
	void *copy;

	if (len >= COPY_MIN && (copy = malloc(len)) != NULL) {
		memcpy(copy, buf, len);
		if (evbuffer_add_reference(out, copy, len, free_copy, copy) == 0)
			return;
		free(copy);
	}
	/* Room for this frame only (evbuffer_add would size a new chain after
	 * the last one with data, the large frame's copy). */
	if (evbuffer_reserve_space(out, (ev_ssize_t)len, &v, 1) == 1 && v.iov_len >= len) {
		memcpy(v.iov_base, buf, len);
		v.iov_len = len;
		if (evbuffer_commit_space(out, &v, 1) == 0)
			return;
	}
	evbuffer_add(out, buf, len);
}

void
session_send(struct session *s, const uint8_t *buf, size_t len)
{
	struct evbuffer *out;

	/* A session over its share is closing (from the loop): nothing more is
	 * queued for it, so that a table sent in one go (a lease table, member
	 * lists) to a peer that does not read costs at most its share. */
	if (s->bev == NULL || len == 0 || s->overflow)
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
	if (s->stats != NULL && s->owner != NULL)
		s->stats->msgs_out++;
	s->tx_ms = now_ms();
	if (len == 0)
		return;
	if (budget_over(evbuffer_get_length(out), len)) {
		/* A peer that stops reading is dropped, not buffered without
		 * bound; the close runs from the loop, not inside this send. */
		s->overflow = 1;
		s->overflow_len = len;
		event_active(s->hold_ev, EV_TIMEOUT, 0);
		return;
	}
	queue(out, buf, len);
}

void
session_fail_later(struct session *s, const char *why)
{
	if (s->fail != NULL || s->overflow)
		return;
	s->fail = why;
	s->overflow = 1;	/* nothing more is queued for it */
	event_active(s->hold_ev, EV_TIMEOUT, 0);
}

void
session_send_keepalive(struct session *s)
{
	uint8_t buf[HGW_HDR_LEN];

	session_send(s, buf, hgw_keepalive_encode(buf, sizeof(buf)));
}

void
session_send_notify(struct session *s, int code, int sub, const char *text)
{
	uint8_t buf[HGW_HDR_LEN + 3 + HGW_NOTIFY_TEXT_MAX];
	size_t len = hgw_notify_encode(buf, sizeof(buf), code, sub, text);

	session_send(s, buf, len);
	if (s->stats != NULL && s->owner != NULL)
		s->stats->notify_out++;
}

static void
send_hello(struct session *s)
{
	struct hgw_hello h;
	uint8_t buf[256];
	size_t len;

	memset(&h, 0, sizeof(h));
	if (s->owner != NULL)
		s->ops->make_hello(s->owner, s, &h);
	if ((len = hgw_hello_encode(buf, sizeof(buf), &h)) > 0)
		session_send(s, buf, len);
}

/* The state machine. */

/* Keepalives go out ka_div times per negotiated interval: four by
 * default, so that a frame lost to a link flap leaves the peer's hold
 * timer a quarter interval older, not a whole one (the margin a flap
 * under the hold needs); once per interval where keepalive datagrams
 * (liveness.c) give that margin instead, at a fraction of the cost. */
static void
ka_arm(struct session *s)
{
	struct timeval tv;
	uint32_t div = s->ka_div ? s->ka_div : SESSION_KA_DIV;
	uint32_t ka = s->ka_ms / div ? s->ka_ms / div : 1;

	tv.tv_sec = ka / 1000;
	tv.tv_usec = (ka % 1000) * 1000;
	event_add(s->ka_ev, &tv);
}

static void
establish_timers(struct session *s)
{
	struct hgwd *d = s->d;

	hgw_negotiate_timers(d->cfg.hold_ms, d->cfg.keepalive_ms, s->hello.hold_ms,
	    &s->hold_ms, &s->ka_ms);
	if (s->pending) {
		s->pending = 0;
		d->npending--;
	}
	s->established_ms = s->rx_ms = now_ms();
	timer_ms(s->hold_ev, s->hold_ms);
	ka_arm(s);
}

void
session_pause(struct session *s)
{
	if (s->state == HGW_ST_ESTABLISHED)
		event_del(s->ka_ev);
}

void
session_kick(struct session *s)
{
	if (s->state != HGW_ST_ESTABLISHED)
		return;
	timer_ms(s->hold_ev, s->hold_ms);
	ka_arm(s);
	session_send_keepalive(s);
}

void
session_cork(struct session *s, int on)
{
	if (s->bev != NULL && s->d->tls == NULL)
		setsockopt(bufferevent_getfd(s->bev), IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
}

uint64_t
session_sent_ms(const struct session *s)
{
	return s->tx_ms;
}

int
session_unacked(const struct session *s)
{
	int n = 0;

	if (s->bev == NULL)
		return 0;
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) > 0)
		return 1;
	/* SIOCOUTQ: bytes written and not yet acknowledged by the peer */
	if (ioctl(bufferevent_getfd(s->bev), SIOCOUTQ, &n) < 0)
		return 1;
	return n > 0;
}

void
session_set_keepalive_div(struct session *s, uint32_t div)
{
	s->ka_div = div;
	if (s->ka_ev != NULL && event_pending(s->ka_ev, EV_TIMEOUT, NULL))
		ka_arm(s);
}

int
session_heard(struct session *s)
{
	if (s->state != HGW_ST_ESTABLISHED || now_ms() - s->rx_ms > SESSION_HEARD_HOLDS * (uint64_t)s->hold_ms)
		return 0;
	timer_ms(s->hold_ev, s->hold_ms);
	return 1;
}

/* Why the FSM closed s, for logs and the peer's last error. */
static void
close_reason(struct session *s, enum hgw_event ev, int code, const struct hgw_err *err,
    char *why, size_t len)
{
	switch (ev) {
	case HGW_EV_RX_MALFORMED:
		snprintf(why, len, "malformed frame: %s", err ? err->text : "");
		break;
	case HGW_EV_HOLD_EXPIRED:
		snprintf(why, len, "hold timer expired (%u ms)",
		    s->state == HGW_ST_ESTABLISHED ? s->hold_ms : s->d->cfg.hold_ms);
		break;
	case HGW_EV_HELLO_TIMEOUT:
		if (s->state == HGW_ST_IDLE)
			snprintf(why, len, "no TLS handshake within %u ms", s->d->cfg.hold_ms);
		else
			snprintf(why, len, "no HELLO within %u ms", s->d->cfg.hold_ms);
		break;
	default:
		if (code == HGW_ERR_FSM)
			snprintf(why, len, "unexpected %s in state %s",
			    hgw_event_name(ev), hgw_state_name(s->state));
		else
			snprintf(why, len, "%s", err && err->text[0] ? err->text : hgw_event_name(ev));
	}
}

/* Runs one event through the state machine and acts on every action it
 * returns; -1 when s is gone. */
static int
session_step(struct session *s, enum hgw_event ev, const struct hgw_err *err,
    const uint8_t *body, size_t len)
{
	struct hgw_fsm_out o = hgw_fsm_step(s->state, ev);

	if (o.actions & HGW_ACT_CLOSE) {
		struct session_end end;
		char why[200];
		int code = o.code, sub = o.subcode;

		if (err != NULL && code == 0) {
			code = err->code;
			sub = err->subcode;
		}
		close_reason(s, ev, code, err, why, sizeof(why));
		if ((ev == HGW_EV_RX_MALFORMED || code == HGW_ERR_FSM) && s->stats && s->owner)
			s->stats->errors++;
		memset(&end, 0, sizeof(end));
		end.why = why;
		end.ev = ev;
		end.code = (o.actions & HGW_ACT_SEND_NOTIFY) ? code : 0;
		end.sub = (o.actions & HGW_ACT_SEND_NOTIFY) ? sub : 0;
		end.was_established = s->state == HGW_ST_ESTABLISHED;
		end.confirmed = s->confirmed;
		end.drop_routes = (o.actions & HGW_ACT_DROP_ROUTES) != 0;
		end.connecting = s->state == HGW_ST_CONNECT || s->state == HGW_ST_IDLE;
		end.refused = s->refused;
		end.established_ms = s->established_ms;
		end.hold_ms = s->hold_ms;
		if (ev == HGW_EV_RX_NOTIFY && err != NULL && err->code != 0) {
			end.rx_notify = 1;
			end.rx_code = err->code;
			end.rx_sub = err->subcode;
		}
		session_end(s, &end);
		return -1;
	}
	if (o.actions & HGW_ACT_SEND_HELLO) {
		s->state = o.next;
		send_hello(s);
		timer_ms(s->hold_ev, s->d->cfg.hold_ms);	/* their HELLO within our hold time */
		return 0;
	}
	if (o.actions & HGW_ACT_RESET_HOLD) {
		timer_ms(s->hold_ev, s->state == HGW_ST_ESTABLISHED ? s->hold_ms : s->d->cfg.hold_ms);
		s->rx_ms = now_ms();
	}
	if (ev != HGW_EV_RX_HELLO && !s->confirmed && s->state == HGW_ST_ESTABLISHED) {
		s->confirmed = 1;
		if (s->owner != NULL)
			s->ops->confirmed(s->owner, s);
	}
	if (o.actions & HGW_ACT_ESTABLISH) {
		/* The owner settles collisions first: a loser is closed from
		 * HELLO_SENT, never having been established. */
		establish_timers(s);
		if (s->owner == NULL || s->ops->establish(s->owner, s) < 0)
			return -1;
		s->state = o.next;
		return 0;
	}
	s->state = o.next;
	if ((o.actions & HGW_ACT_APPLY) && s->owner != NULL) {
		if (ev == HGW_EV_RX_UPDATE)
			return s->ops->frame(s->owner, s, (uint8_t)s->rx_type, body, len);
		if (ev == HGW_EV_RX_EOR)
			s->ops->eor(s->owner, s);
	}
	return 0;
}

void
session_stop(struct session *s, int code, int sub, const char *fmt, ...)
{
	struct hgw_err err;
	va_list ap;

	memset(&err, 0, sizeof(err));
	err.code = (uint8_t)code;
	err.subcode = (uint8_t)sub;
	va_start(ap, fmt);
	vsnprintf(err.text, sizeof(err.text), fmt, ap);
	va_end(ap);
	if (code == 0)
		err.code = 0;
	session_step(s, HGW_EV_STOP, &err, NULL, 0);
}

/* Input. */

/* Handles one whole frame; -1 when the session is gone. */
static int
session_frame(struct session *s, const struct hgw_hdr *h, const uint8_t *body, size_t len)
{
	struct hgw_err err;
	struct hgw_notify n;

	memset(&err, 0, sizeof(err));
	if (s->stats && s->owner)
		s->stats->msgs_in++;
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
		if (s->owner != NULL && s->state == HGW_ST_HELLO_SENT &&
		    s->ops->check_hello(s->owner, s, &s->hello, &err) < 0)
			return session_step(s, HGW_EV_RX_MALFORMED, &err, NULL, 0);
		return session_step(s, HGW_EV_RX_HELLO, NULL, NULL, 0);
	case HGW_MSG_KEEPALIVE:
	case HGW_MSG_EOR:
		if (hgw_empty_decode(h->type, len, &err) < 0)
			return session_step(s, HGW_EV_RX_MALFORMED, &err, NULL, 0);
		return session_step(s, h->type == HGW_MSG_EOR ? HGW_EV_RX_EOR :
		    HGW_EV_RX_KEEPALIVE, NULL, NULL, 0);
	case HGW_MSG_UPDATE:
	case HGW_MSG_MEMBERS:
	case HGW_MSG_LEASE:
		/* Checked whole before anything of it is applied. */
		if (s->state == HGW_ST_ESTABLISHED &&
		    (h->type == HGW_MSG_UPDATE ? hgw_update_validate(body, len, &err) :
		    h->type == HGW_MSG_MEMBERS ? hgw_members_validate(body, len, &err) :
		    hgw_leases_validate(body, len, &err)) < 0)
			return session_step(s, HGW_EV_RX_MALFORMED, &err, NULL, 0);
		s->rx_type = h->type;
		return session_step(s, HGW_EV_RX_UPDATE, NULL, body, len);
	case HGW_MSG_NOTIFY:
		if (s->stats && s->owner)
			s->stats->notify_in++;
		if (hgw_notify_decode(body, len, &n, &err) < 0) {
			err.code = 0;
			snprintf(err.text, sizeof(err.text), "malformed NOTIFY received");
		} else {
			err.code = n.code;
			err.subcode = n.subcode;
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

		if (avail < HGW_HDR_LEN)
			return;
		evbuffer_copyout(in, hb, HGW_HDR_LEN);
		if (hgw_hdr_decode(hb, HGW_HDR_LEN, HGW_MAX_FRAME, &h, &err) < 0) {
			session_step(s, HGW_EV_RX_MALFORMED, &err, NULL, 0);
			return;
		}
		if (avail < h.length)
			return;
		if ((frame = evbuffer_pullup(in, h.length)) == NULL) {
			session_stop(s, HGW_ERR_CEASE, HGW_CEASE_RESOURCES, "out of memory");
			return;
		}
		if (session_frame(s, &h, frame + HGW_HDR_LEN, h.length - HGW_HDR_LEN) < 0)
			return;
		evbuffer_drain(in, h.length);
	}
}

/* A session's stream is thin (a few small frames a second): after a link
 * flap TCP must retransmit at once, not after an exponential back-off
 * longer than the hold time. Linear timeouts for thin streams (Linux 2.6.34),
 * and a 1 s ceiling on the retransmission timeout where the kernel has it
 * (TCP_RTO_MAX_MS, Linux 6.15). Best effort: an older kernel refuses it. */
#ifndef TCP_THIN_LINEAR_TIMEOUTS
#define TCP_THIN_LINEAR_TIMEOUTS	16
#endif
#ifndef TCP_RTO_MAX_MS
#define TCP_RTO_MAX_MS			44
#endif

static void
tune_socket(evutil_socket_t fd)
{
	int one = 1, rto_max = 1000;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_RTO_MAX_MS, &rto_max, sizeof(rto_max));
}

static void
session_event(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	struct hgw_err err;

	if (what & BEV_EVENT_CONNECTED) {
		tune_socket(bufferevent_getfd(bev));
		event_del(s->hold_ev);
		log_debug(LOG_CAT_PEER, "peer %s: connected", s->name);
		session_step(s, HGW_EV_CONNECTED, NULL, NULL, 0);
		return;
	}
	memset(&err, 0, sizeof(err));
	if (s->state == HGW_ST_CONNECT || s->state == HGW_ST_IDLE) {
		char tb[200];

		s->refused = s->state == HGW_ST_CONNECT && EVUTIL_SOCKET_ERROR() == ECONNREFUSED;

		if (s->d->tls != NULL && tls_last_error(bev, tb, sizeof(tb)) != NULL)
			snprintf(err.text, sizeof(err.text), "%.120s", tb);
		else if (s->state == HGW_ST_IDLE || s->d->tls != NULL)
			snprintf(err.text, sizeof(err.text), "%s failed: connection %s",
			    s->state == HGW_ST_IDLE ? "TLS handshake" : "connect",
			    (what & BEV_EVENT_EOF) ? "closed" : "refused or reset");
		else
			snprintf(err.text, sizeof(err.text), "connect: %s",
			    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		session_step(s, HGW_EV_CONNECT_FAIL, &err, NULL, 0);
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
	if (s->fail != NULL) {
		session_stop(s, HGW_ERR_CEASE, HGW_CEASE_RESOURCES, "%s", s->fail);
		return;
	}
	if (s->overflow) {
		session_stop(s, 0, 0, "peer stopped reading: %zu bytes queued for it and %zu more "
		    "would not fit (%zu queued for all peers)",
		    session_queued(s), s->overflow_len, budget_used());
		return;
	}
	switch (s->state) {
	case HGW_ST_CONNECT:
		snprintf(err.text, sizeof(err.text), "connect timed out");
		session_step(s, HGW_EV_CONNECT_FAIL, &err, NULL, 0);
		break;
	case HGW_ST_ESTABLISHED:
		session_step(s, HGW_EV_HOLD_EXPIRED, NULL, NULL, 0);
		break;
	default:	/* IDLE (TLS handshake) or HELLO_SENT */
		session_step(s, HGW_EV_HELLO_TIMEOUT, NULL, NULL, 0);
	}
}

static void
session_ka(evutil_socket_t fd, short what, void *arg)
{
	session_send_keepalive(arg);
}

/* Starting. */

int
session_connect(struct session *s, const struct hgw_addr *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;

	hgw_addr_to_sockaddr(addr, port, &ss, &len);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	timer_ms(s->hold_ev, s->d->cfg.hold_ms);	/* connect deadline */
	if (bufferevent_socket_connect(s->bev, (struct sockaddr *)&ss, (int)len) < 0) {
		struct hgw_err err;

		memset(&err, 0, sizeof(err));
		snprintf(err.text, sizeof(err.text), "connect: %s", strerror(errno));
		session_step(s, HGW_EV_CONNECT_FAIL, &err, NULL, 0);
		return -1;
	}
	return 0;
}

void
session_accepted(struct session *s)
{
	tune_socket(bufferevent_getfd(s->bev));
	s->pending = 1;
	s->d->npending++;
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	if (s->d->tls != NULL) {
		timer_ms(s->hold_ev, s->d->cfg.hold_ms);	/* handshake deadline */
		return;
	}
	session_step(s, HGW_EV_CONNECTED, NULL, NULL, 0);
}
