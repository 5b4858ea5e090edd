/* peer.c: the life of a peer: dialling with back-off, its sessions and their
 * collisions, the paths it gives the RIB, giving up on silent members, and
 * the events published to listeners (lease.c, members.c, origin.c). */
#include "peer.h"

#include <errno.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fib.h"
#include "kernel.h"
#include "lan.h"
#include "log.h"
#include "peeridx.h"
#include "policy.h"
#include "ratelog.h"
#include "sync.h"
#include "util.h"

#define BACKOFF_MIN_MS	200
#define BACKOFF_MAX_MS	10000
#define MAXPFX_HOLDOFF_MS 30000	/* a peer over max-prefixes waits this long */
#define GR_DIAL_MS	250	/* dial interval of a restarting peer: its liveness */

static const struct session_ops peer_session_ops;
static void peer_retry(evutil_socket_t fd, short what, void *arg);
static void peer_schedule_connect(struct peer *p, uint32_t delay_ms);
static void peer_free(struct peer *p);

/* Listeners. */

int
peer_subscribe(struct hgwd *d, const struct peer_listener *l)
{
	if (d->peer_listeners == NULL &&
	    (d->peer_listeners = calloc(PEER_MAX_LISTENERS, sizeof(*d->peer_listeners))) == NULL)
		return -1;
	if (d->npeer_listeners >= PEER_MAX_LISTENERS)
		return -1;
	d->peer_listeners[d->npeer_listeners++] = *l;
	return 0;
}

#define FOREACH_LISTENER(d, l) \
	for ((l) = (d)->peer_listeners; (l) < (d)->peer_listeners + (d)->npeer_listeners; (l)++)

static uint32_t
listener_caps(const struct hgwd *d)
{
	const struct peer_listener *l;
	uint32_t caps = 0;

	FOREACH_LISTENER(d, l)
		caps |= l->caps;
	return caps;
}

/* Look-ups and accessors. */

struct peer *
peer_find(struct hgwd *d, const struct hgw_addr *a)
{
	return peeridx_find(d->peer_index, a);
}

int
peer_is_up(const struct peer *p)
{
	return p->est != NULL;
}

int
peer_has_cap(const struct peer *p, uint32_t cap)
{
	return p->est != NULL && (p->caps & cap) == cap;
}

struct peer *
peer_by_node(struct hgwd *d, uint32_t node_id)
{
	struct peer *p;

	TAILQ_FOREACH(p, &d->peers, entry)
		if (p->est != NULL && p->node_id == node_id)
			return p;
	return NULL;
}

void
peer_foreach_up(struct hgwd *d, void (*fn)(void *arg, struct peer *p), void *arg)
{
	struct peer *p, *next;

	for (p = TAILQ_FIRST(&d->peers); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if (p->est != NULL)
			fn(arg, p);
	}
}

enum hgw_state
peer_fsm_state(const struct peer *p)
{
	enum hgw_state best = HGW_ST_IDLE;
	int i;

	if (p->est != NULL)
		return HGW_ST_ESTABLISHED;
	for (i = 0; i < PEER_MAX_SESSIONS; i++)
		if (p->sess[i] != NULL && session_state(p->sess[i]) > best)
			best = session_state(p->sess[i]);
	return best;
}

const struct session *
peer_session(const struct peer *p)
{
	return p->est;
}

/* A silent learned member is dialled for `timers giveup` (30 s by
 * default), but never for less than three hold times. */
uint32_t
peer_giveup_ms(const struct hgwd *d)
{
	uint32_t t = d->cfg.hold_ms * 3;

	return t > d->cfg.giveup_ms ? t : d->cfg.giveup_ms;
}

int
peer_on_lan(struct hgwd *d, const struct hgw_addr *a)
{
	size_t i;

	for (i = 0; i < d->cfg.nallows; i++)
		if (hgw_prefix_contains_addr(&d->cfg.allows[i], a))
			return 1;
	for (i = 0; d->cfg.encap_vxlan && i < d->cfg.nmeshnets; i++)	/* beyond routers */
		if (hgw_prefix_contains_addr(&d->cfg.meshnets[i], a))
			return 1;
	return kernel_lan_contains(d->kernel, a);
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
	if (p->retry_ev == NULL || peeridx_add(&d->peer_index, p) < 0) {
		if (p->retry_ev != NULL)
			event_free(p->retry_ev);
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

static int
has_outbound(const struct peer *p)
{
	int i;

	for (i = 0; i < PEER_MAX_SESSIONS; i++)
		if (p->sess[i] != NULL && session_outbound(p->sess[i]))
			return 1;
	return 0;
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
	if (!ratelog_allow(&p->addr))
		return 0;	/* per source and in total (ratelog.h) */
	i = d->nrecent++ % 32;
	d->recent[i].addr = p->addr;
	snprintf(d->recent[i].text, sizeof(d->recent[i].text), "%s", text);
	d->recent[i].at_ms = now;
	return 1;
}

static void
timer_ms(struct event *ev, uint32_t ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_add(ev, &tv);
}

/* A pseudo-random number for back-off jitter and start spreading. */
static uint32_t
peer_random(struct hgwd *d)
{
	d->backoff_seed = d->backoff_seed * 1103515245u + 12345u;
	return d->backoff_seed ^ (d->backoff_seed >> 16);
}

/* Sessions: what the session layer reports. */

static int
attach(struct peer *p, struct session *s)
{
	int i;

	for (i = 0; i < PEER_MAX_SESSIONS; i++)
		if (p->sess[i] == NULL) {
			p->sess[i] = s;
			return 0;
		}
	return -1;
}

static void
detach(struct peer *p, const struct session *s)
{
	int i;

	for (i = 0; i < PEER_MAX_SESSIONS; i++)
		if (p->sess[i] == s)
			p->sess[i] = NULL;
}

/* p's established session s is over: tell the listeners, and drop its
 * paths unless keep_paths (a replacement keeps them until END-OF-RIB). */
static void
peer_down(struct peer *p, const struct session *s, enum peer_down_reason why, int keep_paths,
    int confirmed, uint64_t established_ms, uint32_t hold_ms)
{
	struct hgwd *d = p->d;
	const struct peer_listener *l;

	p->est = NULL;
	p->alive_ms = now_ms();
	policy_node_seen(d, p, 0);
	if (p->member && !p->configured)
		p->giveup_at_ms = now_ms() + peer_giveup_ms(d);
	FOREACH_LISTENER(d, l)
		if (l->down != NULL)
			l->down(l->arg, p, why);
	p->eor_received = 0;
	p->down_since_ms = now_ms();
	if (!keep_paths && confirmed)
		p->flaps++;	/* a replacement is no flap, nor a HELLO refused */
	free(p->ubuf);
	p->ubuf = NULL;
	if (keep_paths || p->gr_until_ms != 0) {
		size_t n = rib_mark_peer_stale(&d->rib, p);

		if (p->gr_until_ms != 0)
			p->gr_stale = (uint32_t)n;
		p->stale_pending = 1;
	} else {
		size_t n = rib_drop_peer(&d->rib, p, 0);

		p->pfx_accepted = 0;
		p->stale_pending = 0;
		if (n > 0)
			log_info("peer %s: removed %zu route%s", p->name, n, n == 1 ? "" : "s");
	}
	/* A session that held for its hold time resets the back-off. */
	if (now_ms() - established_ms >= hold_ms)
		p->backoff_ms = 0;
	(void)s;
}

static enum peer_down_reason
down_reason(const struct session_end *end)
{
	if (end->ev == HGW_EV_HOLD_EXPIRED)
		return PEER_DOWN_HOLD;
	if (end->ev == HGW_EV_STOP)
		return PEER_DOWN_LOCAL;
	if (end->rx_notify && end->rx_code == HGW_ERR_CEASE &&
	    (end->rx_sub == HGW_CEASE_SHUTDOWN || end->rx_sub == HGW_CEASE_DECONFIGURED))
		return PEER_DOWN_LEFT;
	if (end->rx_notify && end->rx_code == HGW_ERR_CEASE && end->rx_sub == HGW_CEASE_RESTARTING)
		return PEER_DOWN_RESTARTING;
	/* Both ends dialled; it chose the other connection after ours was
	 * established here: the peer is alive and coming back on that one. */
	if (end->rx_notify && end->rx_code == HGW_ERR_CEASE && end->rx_sub == HGW_CEASE_COLLISION)
		return PEER_DOWN_COLLISION;
	if (end->ev == HGW_EV_CLOSED)
		return PEER_DOWN_CLOSED;
	return PEER_DOWN_ERROR;
}

static void
on_closed(void *owner, struct session *s, const struct session_end *end)
{
	struct peer *p = owner;
	int was_est = p->est == s;
	int collision = end->code == HGW_ERR_CEASE && end->sub == HGW_CEASE_COLLISION;

	/* The other side of a collision closed quietly (it had not sent its
	 * HELLO yet) while we are established with the peer: no error. */
	if (!was_est && p->est != NULL && end->ev == HGW_EV_CLOSED && !end->rx_notify)
		collision = 1;

	if (end->rx_notify && end->rx_code == HGW_ERR_CEASE &&
	    (end->rx_sub == HGW_CEASE_SHUTDOWN || end->rx_sub == HGW_CEASE_DECONFIGURED))
		p->left_cleanly = 1;
	/* A failure that repeats on every retry is logged once. */
	if (end->connecting) {
		if (worth_logging(p, end->why))
			log_notice("peer %s: %s%s", p->name, end->why,
			    p->configured ? "; retrying with back-off" : "");
		else
			log_debug(LOG_CAT_PEER, "peer %s: %s", p->name, end->why);
	} else if (was_est || !collision) {
		if ((was_est && end->confirmed) || worth_logging(p, end->why))
			(was_est && end->confirmed && !p->d->stopping ? log_warnx : log_notice)(
			    "peer %s: session %s: %s", p->name,
			    was_est && end->confirmed ? "down" : "closed", end->why);
		else
			log_debug(LOG_CAT_PEER, "peer %s: session closed: %s", p->name, end->why);
	}
	/* A collision is no error of the peer's (a replaced session is
	 * detached before it closes); a failed second connection from an
	 * established peer's address is, and must show. */
	if (!collision)
		snprintf(p->last_error, sizeof(p->last_error), "%s", end->why);
	detach(p, s);
	if (!end->connecting || end->refused)
		p->alive_ms = now_ms();	/* its kernel answered */
	if (was_est)
		peer_down(p, s, down_reason(end), !end->drop_routes, end->confirmed,
		    end->established_ms, end->hold_ms);
	if (peer_nsessions(p) > 0 || p->est != NULL)
		return;
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

static void
make_hello(void *owner, struct session *s, struct hgw_hello *h)
{
	struct peer *p = owner;
	struct hgwd *d = p->d;
	const struct peer_listener *l;

	h->node_id = d->node_id;
	h->hold_ms = d->cfg.hold_ms;
	h->keepalive_ms = d->cfg.keepalive_ms;
	h->caps = HGW_CAP_IPV4 | HGW_CAP_IPV6 | listener_caps(d);
	h->listen_port = d->listen_port;
	if (d->addr4.family)
		h->addrs[h->naddrs++] = d->addr4;
	if (d->addr6.family)
		h->addrs[h->naddrs++] = d->addr6;
	snprintf(h->hostname, sizeof(h->hostname), "%s", d->cfg.hostname);
	if (d->cfg.gr_on) {
		h->caps |= HGW_CAP_GRACEFUL_RESTART;
		h->gr_restart_s = d->cfg.gr_restart_s;
		h->gr_flags = fib_adopted(d->fib) > 0 ? HGW_GR_F_RESTARTED : 0;
	}
	FOREACH_LISTENER(d, l)
		if (l->hello)
			l->hello(l->arg, h);
}

static int
check_hello(void *owner, struct session *s, const struct hgw_hello *h, struct hgw_err *err)
{
	struct peer *p = owner, *q;
	struct hgwd *d = p->d;
	char nb[16];

	if (h->node_id == d->node_id) {
		err->code = HGW_ERR_HELLO;
		err->subcode = HGW_HELLO_DUP_NODE_ID;
		snprintf(err->text, sizeof(err->text), "peer uses our node id");
		return -1;
	}
	q = peer_by_node(d, h->node_id);
	if (q != NULL && q != p) {
		err->code = HGW_ERR_HELLO;
		err->subcode = HGW_HELLO_DUP_NODE_ID;
		snprintf(err->text, sizeof(err->text), "node id %s is in use by another established peer",
		    hgw_nodeid_fmt(h->node_id, nb, sizeof(nb)));
		return -1;
	}
	if (policy_node_id(d, p, h->node_id, err->text, sizeof(err->text)) < 0) {
		err->code = HGW_ERR_HELLO;
		err->subcode = HGW_HELLO_BAD_NODE_ID;
		return -1;
	}
	return 0;
}

/* s was established by the FSM: settle collisions, then make it the peer's
 * session, tell the listeners and send END-OF-RIB. -1 when s is gone. */
static int
establish(void *owner, struct session *s)
{
	struct peer *p = owner;
	struct hgwd *d = p->d;
	const struct hgw_hello *h = session_hello(s);
	const struct peer_listener *l;
	int i, replaced = 0;
	uint8_t eor[HGW_HDR_LEN];

	for (i = 0; i < PEER_MAX_SESSIONS; i++) {
		struct session *o = p->sess[i];
		int keep_s;

		if (o == NULL || o == s)
			continue;
		if (session_outbound(o) == session_outbound(s))
			keep_s = 1;	/* the opener dialled again: its old side is gone */
		else
			keep_s = hgw_collision_keep(d->node_id, h->node_id, session_outbound(s));
		if (!keep_s) {
			/* The kept one may be dead without knowing: probe it. */
			if (session_state(o) == HGW_ST_ESTABLISHED)
				session_send_keepalive(o);
			session_stop(s, HGW_ERR_CEASE, HGW_CEASE_COLLISION,
			    "connection collision: keeping the %s connection",
			    session_outbound(o) ? "outbound" : "inbound");
			return -1;
		}
		if (o == p->est) {
			/* Keep its paths until the new session's END-OF-RIB. */
			replaced = 1;
			session_send_notify(o, HGW_ERR_CEASE, HGW_CEASE_COLLISION,
			    "replaced by a newer connection");
			detach(p, o);
			peer_down(p, o, PEER_DOWN_REPLACED, 1, session_confirmed(o),
			    session_established_ms(o), session_hold_ms(o));
			session_orphan(o);
		} else
			session_stop(o, HGW_ERR_CEASE, HGW_CEASE_COLLISION,
			    "connection collision: keeping the %s connection",
			    session_outbound(s) ? "outbound" : "inbound");
	}
	p->est = s;
	p->node_id = h->node_id;
	policy_node_seen(d, p, 1);
	p->caps = h->caps;
	snprintf(p->hostname, sizeof(p->hostname), "%s", h->hostname);
	p->up_since_ms = session_established_ms(s);
	p->eor_received = 0;
	p->remote_port = h->listen_port;
	p->left_cleanly = 0;
	session_set_replaced(s, replaced);
	event_del(p->retry_ev);
	if (h->caps & HGW_CAP_MEMBERS) {
		p->member = 1;
		if (!p->configured)
			p->learned = 1;
	}
	free(p->ubuf);		/* a fresh UPDATE for this session */
	p->ubuf = NULL;
	/* The listeners' frames (MEMBERS, LEASE), our table and END-OF-RIB
	 * leave together: a mesh of n forming sends n^2 of these bursts. */
	session_cork(s, 1);
	FOREACH_LISTENER(d, l) {
		if (l->up != NULL)
			l->up(l->arg, p);
		if (p->est != s)
			return -1;	/* a listener ended it (closing flushes the rest) */
	}
	peer_flush(p);
	session_send(s, eor, hgw_eor_encode(eor, sizeof(eor)));
	session_cork(s, 0);
	return 0;
}

/* The first frame after HELLO shows the peer took our HELLO: only now is the
 * session worth a log line (a peer that refuses our HELLO never gets here). */
static void
on_confirmed(void *owner, struct session *s)
{
	struct peer *p = owner;
	char nb[16];

	p->last_error[0] = '\0';
	log_info("peer %s: established (node %s%s%s, %s, hold %u ms, keepalive %u ms)%s",
	    p->name, hgw_nodeid_fmt(p->node_id, nb, sizeof(nb)),
	    p->hostname[0] ? ", host " : "", p->hostname,
	    session_outbound(s) ? "outbound" : "inbound", session_hold_ms(s),
	    session_keepalive_ms(s), session_replaced(s) ? ", replacing the previous session" : "");
}

/* Applies a validated UPDATE; -1 when it ended the session. */
static int
apply_update(struct peer *p, struct session *s, const uint8_t *body, size_t len)
{
	struct hgwd *d = p->d;
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
			policy_withdrawn(p, &it.prefix);
			if (rib_withdraw(&d->rib, &it.prefix, p, it.origin) == 1)
				p->pfx_accepted--;
			continue;
		}
		p->pfx_received++;
		if ((why = policy_refuse(d, p, session_hello(s), &it, rb, sizeof(rb))) != NULL) {
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
			session_stop(s, HGW_ERR_CEASE, HGW_CEASE_MAX_PREFIXES,
			    "maximum prefixes (%d) exceeded; sessions refused for %d s",
			    limit, MAXPFX_HOLDOFF_MS / 1000);
			return -1;
		}
	}
	return 0;
}

static int
on_frame(void *owner, struct session *s, uint8_t type, const uint8_t *body, size_t len)
{
	struct peer *p = owner;
	const struct peer_listener *l;

	if (type == HGW_MSG_UPDATE)
		return apply_update(p, s, body, len);
	FOREACH_LISTENER(p->d, l)
		if (l->msg_type == type && l->frame != NULL) {
			l->frame(l->arg, p, body, len);
			if (p->est != s)
				return -1;
		}
	return 0;
}

static void
on_eor(void *owner, struct session *s)
{
	struct peer *p = owner;
	struct hgwd *d = p->d;
	const struct peer_listener *l;

	if (p->eor_received)
		return;
	p->eor_received = 1;
	p->synced = 1;
	if (p->stale_pending) {
		size_t n = rib_drop_peer(&d->rib, p, 1);

		p->pfx_accepted -= (uint32_t)n;
		p->stale_pending = 0;
	}
	log_debug(LOG_CAT_PEER, "peer %s: END-OF-RIB, %u prefixes", p->name, p->pfx_accepted);
	sync_unlock(d->sync, p, "every neighbor sent END-OF-RIB");
	FOREACH_LISTENER(d, l)
		if (l->eor != NULL)
			l->eor(l->arg, p);
}

static const struct session_ops peer_session_ops = {
	.make_hello = make_hello,
	.check_hello = check_hello,
	.establish = establish,
	.confirmed = on_confirmed,
	.frame = on_frame,
	.eor = on_eor,
	.closed = on_closed,
};

static struct session *
peer_session_new(struct peer *p, int fd, int outbound)
{
	struct session *s;

	if (peer_nsessions(p) >= PEER_MAX_SESSIONS) {
		close(fd);
		return NULL;
	}
	s = session_new(p->d, fd, outbound, p->name, &peer_session_ops, p, &p->st);
	if (s != NULL)
		attach(p, s);
	return s;
}

/* Dialling. */

static int
dial(struct peer *p)
{
	struct hgwd *d = p->d;
	struct sockaddr_storage src;
	socklen_t slen;
	struct session *s;
	const struct hgw_addr *own = p->addr.family == AF_INET ? &d->addr4 : &d->addr6;
	int fd;

	fd = socket(p->addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(p->last_error, sizeof(p->last_error), "socket: %s", strerror(errno));
		return -1;
	}
	/* Leave from our advertised address, so the peer knows us by it. */
	if (own->family && kernel_is_local(d->kernel, own)) {
		hgw_addr_to_sockaddr(own, 0, &src, &slen);
		if (bind(fd, (struct sockaddr *)&src, slen) < 0)
			log_debug(LOG_CAT_PEER, "peer %s: bind to our address: %s", p->name,
			    strerror(errno));
	}
	if ((s = peer_session_new(p, fd, 1)) == NULL) {
		snprintf(p->last_error, sizeof(p->last_error), "out of memory");
		return -1;
	}
	log_debug(LOG_CAT_PEER, "peer %s: dialling port %u", p->name, p->port);
	session_connect(s, &p->addr, p->port);	/* a failure closes s and re-dials */
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
			    p->name, peer_giveup_ms(p->d) / 1000);
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

/* Leaving (leave.c): a peer we hold no session with is dialled at once. */
int
peer_dial_now(struct peer *p)
{
	if (p->est != NULL || peer_nsessions(p) > 0 || (!p->configured && !p->learned))
		return 0;
	event_del(p->retry_ev);
	return dial(p);
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
		delay_ms = hgw_backoff_jitter(p->backoff_ms, peer_random(d));
	}
	if (p->gr_until_ms != 0 && delay_ms > GR_DIAL_MS)
		delay_ms = GR_DIAL_MS;	/* a restarting peer is watched closely */
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
		/* Known but silent: heard of again, dial it afresh; a repeat of a
		 * learned member's entry does not put off giving it up. */
		if (p->learned)
			return;
		p->learned = 1;
		p->port = port;
		p->giveup_at_ms = now_ms() + peer_giveup_ms(d);
		/* A dial already due soon is left alone: every member list that
		 * names it must not push it back. */
		if (!has_outbound(p) && peer_nsessions(p) == 0 &&
		    (!evtimer_pending(p->retry_ev, NULL) || p->retry_at_ms > now_ms() + BACKOFF_MIN_MS)) {
			p->backoff_ms = 0;
			peer_schedule_connect(p, (peer_random(d) >> 16) % 20 + 1);
		}
		return;
	}
	if ((p = peer_new(d, a, port, 0)) == NULL)
		return;
	p->learned = 1;
	p->giveup_at_ms = now_ms() + peer_giveup_ms(d);
	if (fib_adopted(d->fib) > 0)
		sync_lock(d->sync, p);	/* restarted: its routes wait for its table */
	snprintf(p->learned_how, sizeof(p->learned_how), "%s", how);
	log_info("member %s (node %s) learned %s: dialling it", p->name,
	    hgw_nodeid_fmt(node_id, nb, sizeof(nb)), how);
	peer_schedule_connect(p, (peer_random(d) >> 16) % 20 + 1);
}

/* Accepting. */

int
peer_accept(struct hgwd *d, int fd, const struct hgw_addr *a, uint16_t port)
{
	struct peer *p = peer_find(d, a);
	struct session *s;
	char ab[HGW_ADDRSTRLEN];

	hgw_addr_fmt(a, ab, sizeof(ab));
	if (p != NULL && p->maxpfx_until_ms > now_ms()) {
		log_debug(LOG_CAT_PEER, "peer %s: refused: waiting after exceeding max-prefixes", ab);
		close(fd);
		return -1;
	}
	if (p == NULL && (p = peer_new(d, a, HGW_DEFAULT_PORT, 0)) == NULL) {
		close(fd);
		return -1;
	}
	if ((s = peer_session_new(p, fd, 0)) == NULL) {
		if (ratelog_allow(a))
			log_warnx("peer %s: refused a connection: too many sessions", ab);
		if (peer_nsessions(p) == 0 && !p->configured && !p->learned)
			peer_free(p);
		return -1;
	}
	log_debug(LOG_CAT_PEER, "peer %s: accepted a connection from port %u", ab, port);
	session_accepted(s);
	return 0;
}

/* Configuration and stopping. */

static void
peer_free(struct peer *p)
{
	struct hgwd *d = p->d;
	int i;

	for (i = 0; i < PEER_MAX_SESSIONS; i++) {
		struct session *s = p->sess[i];

		if (s == NULL)
			continue;
		p->sess[i] = NULL;
		if (p->est == s)
			peer_down(p, s, PEER_DOWN_LOCAL, 0, session_confirmed(s),
			    session_established_ms(s), session_hold_ms(s));
		session_destroy(s);
	}
	if (rib_drop_peer(&d->rib, p, 0) > 0)
		log_info("peer %s: routes removed", p->name);
	sync_unlock(d->sync, p, "neighbor removed");
	TAILQ_REMOVE(&d->peers, p, entry);
	peeridx_del(d->peer_index, p);
	event_free(p->retry_ev);
	free(p->ubuf);
	free(p);
}

/* Stops every session of p. p may be freed by the last one when it is not
 * configured: the caller must not touch it afterwards. */
static void
peer_stop_all(struct peer *p, int code, int sub, const char *why)
{
	struct session *ss[PEER_MAX_SESSIONS];
	int i, n = 0;

	for (i = 0; i < PEER_MAX_SESSIONS; i++)
		if (p->sess[i] != NULL)
			ss[n++] = p->sess[i];
	for (i = 0; i < n; i++)
		session_stop(ss[i], code, sub, "%s", why);
}

/* Stops and forgets p; p is gone afterwards. */
static void
peer_stop(struct peer *p, int code, int sub, const char *why)
{
	p->configured = 0;	/* no re-dial; freed with its last session */
	p->learned = 0;
	event_del(p->retry_ev);
	sync_unlock(p->d->sync, p, "neighbor deconfigured");
	if (peer_nsessions(p) == 0)
		peer_free(p);
	else
		peer_stop_all(p, code, sub, why);
}

/* A neighbor that is an address of this host (one configuration for every
 * node lists every node, ourselves included) is not dialled. */
static int
is_self(struct hgwd *d, const struct hgw_addr *a)
{
	return kernel_is_local(d->kernel, a) || hgw_addr_cmp(a, &d->addr4) == 0 ||
	    hgw_addr_cmp(a, &d->addr6) == 0;
}

void
peers_reconfigure(struct hgwd *d)
{
	struct peer *p, *next;
	size_t i;
	char ab[HGW_ADDRSTRLEN];

	for (p = TAILQ_FIRST(&d->peers); p != NULL; p = next) {
		const struct cfg_neighbor *n = config_find_neighbor(&d->cfg, &p->addr);

		next = TAILQ_NEXT(p, entry);
		if (n == NULL && p->configured) {
			log_info("peer %s: neighbor removed from the configuration", p->name);
			peer_stop(p, HGW_ERR_CEASE, HGW_CEASE_DECONFIGURED,
			    "neighbor deconfigured");
		} else if (n != NULL && is_self(d, &p->addr)) {
			log_info("neighbor %s is this host: not dialled", p->name);
			peer_stop(p, HGW_ERR_CEASE, HGW_CEASE_DECONFIGURED, "neighbor is this host");
		}
	}
	for (i = 0; i < d->cfg.nneighbors; i++) {
		const struct cfg_neighbor *n = &d->cfg.neighbors[i];

		if (is_self(d, &n->addr)) {
			if (!d->self_logged) {
				log_info("neighbor %s is this host: not dialled",
				    hgw_addr_fmt(&n->addr, ab, sizeof(ab)));
				d->self_logged = 1;
			}
			continue;
		}
		if ((p = peer_find(d, &n->addr)) == NULL) {
			if ((p = peer_new(d, &n->addr, n->port, 1)) == NULL) {
				log_warnx("neighbor: out of memory");
				continue;
			}
			log_info("peer %s: neighbor added", p->name);
		}
		if (!p->synced)
			sync_lock(d->sync, p);	/* the initial sync waits for its table */
		p->configured = 1;
		if (p->port != n->port) {
			p->port = n->port;
			event_del(p->retry_ev);
		}
		if (p->est == NULL && !has_outbound(p) && !evtimer_pending(p->retry_ev, NULL))
			/* A short random delay spreads a cluster's simultaneous start. */
			peer_schedule_connect(p, (peer_random(d) >> 16) % 20 + 1);
	}
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
		peer_stop_all(p, HGW_ERR_CEASE, HGW_CEASE_ADMIN_RESET, "administrative reset");
	}
	if (a != NULL && !found)
		snprintf(err, errlen, "no such peer");
}

void
peers_shutdown(struct hgwd *d, int sub)
{
	struct peer *p, *next;

	for (p = TAILQ_FIRST(&d->peers); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		event_del(p->retry_ev);
		p->configured = 0;
		peer_stop_all(p, HGW_ERR_CEASE, sub, sub == HGW_CEASE_RESTARTING ? "restarting" : "shutdown");
	}
}

void
peers_free(struct hgwd *d)
{
	struct peer *p;

	while ((p = TAILQ_FIRST(&d->peers)) != NULL)
		peer_free(p);
	free(d->peer_listeners);
	d->peer_listeners = NULL;
	d->npeer_listeners = 0;
	peeridx_free(&d->peer_index);
	policy_free(d);
}
