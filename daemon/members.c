/* members.c: MEMBERS gossip (who holds sessions with whom), dialling what we
 * learn, and the optional multicast discovery beacon on the LAN interface. */
#include "members.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hgwd.h"
#include "kernel.h"
#include "log.h"
#include "peer.h"
#include "ratelog.h"

#define BEACON_GROUP	"239.255.71.79"	/* organization-local scope, TTL 1 */
#define BEACON_MAGIC	"HGW1"
#define BEACON_EVERY_MS	2000
/* The bounds are "limits members N per-sender M" (learned members not yet in
 * session, in total and from one peer) and "limits member-dials RATE burst N"
 * (new members dialled a second, and at once: a mesh of that size is learned
 * without delay); config.h has their defaults. */
#define LEARN_MAX	CFG_MEMBERS_MAX	/* the queue's room: the largest "limits members" */
/* Member news: a node that joins is introduced to the mesh by its first
 * peers only, those its HELLO told it had no other member session yet
 * (HGW_HELLO_EXT_MEMBERS; a node without the extension is introduced by
 * every peer, as before it). Its later peers learned it from that news or
 * from it; telling the whole mesh again from each of them made a mesh of
 * 100 forming from one seed send about 130,000 MEMBERS frames, most of the
 * CPU it took. The news goes to the introducer's other peers at once, then
 * at most once in NEWS_MS, gathered in one frame per peer. A member that
 * leaves is not news (a receiver watches its own session with it): its
 * "up" still gathered is dropped. */
#define GONE_MAX	64	/* removed neighbors remembered */
#define NEWS_MS		100

struct pending {
	struct hgw_addr addr;
	uint16_t port;
	uint32_t node_id;
	char how[64];
};

struct members {
	int fd;
	struct event *rx_ev, *tx_ev;
	uint64_t beacons_in, beacons_out;
	struct pending queue[LEARN_MAX];	/* waiting to be dialled */
	size_t nq;
	struct event *dial_ev;
	double tokens;			/* new dials allowed now (token bucket) */
	uint64_t tokens_ms;
	uint64_t refused;		/* entries not learned: caps, port */
	struct hgw_member *news;	/* for every peer but the one named */
	size_t nnews, news_cap;
	struct event *news_ev;
	uint64_t news_ms;		/* the last flush */
	/* Neighbors the operator removed from the configuration: not learned
	 * again from member lists or beacons (the operator ended that peering)
	 * until configured again or a restart; they may still dial us. */
	struct hgw_addr gone[GONE_MAX];
	size_t ngone, gone_next;
};

static int
is_gone(const struct members *M, const struct hgw_addr *a)
{
	size_t k;

	for (k = 0; k < M->ngone; k++)
		if (hgw_addr_cmp(&M->gone[k], a) == 0)
			return 1;
	return 0;
}

static void
member_of(const struct peer *p, int op, struct hgw_member *m)
{
	memset(m, 0, sizeof(*m));
	m->op = (uint8_t)op;
	m->node_id = p->node_id;
	m->addr = p->addr;
	m->port = p->remote_port ? p->remote_port : p->port;
}

static void
send_to(struct peer *to, const struct hgw_member *ms, size_t n)
{
	uint8_t *buf;
	size_t first = 0, len;

	if (n == 0 || !peer_has_cap(to, HGW_CAP_MEMBERS) || (buf = malloc(HGW_MAX_FRAME)) == NULL)
		return;
	while ((len = hgw_members_encode(buf, HGW_MAX_FRAME, ms, n, &first)) > 0)
		peer_send(to, buf, len);
	free(buf);
}

struct up_ctx {
	struct peer *p;		/* the peer that came up (or went) */
	struct hgw_member m;	/* it, as a member */
	struct hgw_member *all;	/* the others, for it */
	size_t n, cap;
};

/* Sends the gathered news to every peer, leaving out the entries naming it. */
static void
news_one(void *arg, struct peer *q)
{
	struct members *M = arg;
	struct hgw_member *ms;
	size_t k, n = 0;

	if ((ms = calloc(M->nnews, sizeof(*ms))) == NULL)
		return;
	for (k = 0; k < M->nnews; k++)
		if (hgw_addr_cmp(&M->news[k].addr, &q->addr) != 0)
			ms[n++] = M->news[k];
	send_to(q, ms, n);
	free(ms);
}

static void
news_flush(evutil_socket_t fd, short what, void *arg)
{
	struct hgwd *d = arg;
	struct members *M = d->members;

	M->news_ms = now_ms();
	if (!d->stopping)
		peer_foreach_up(d, news_one, M);
	M->nnews = 0;
}

static void
news_add(struct hgwd *d, const struct hgw_member *m)
{
	struct members *M = d->members;
	uint64_t now = now_ms(), wait;
	struct timeval tv;
	size_t k, n;

	/* Only the latest news of a member goes out: an "up" still waiting
	 * when that member's session ends must not teach the others a member
	 * that has just left. */
	for (k = n = 0; k < M->nnews; k++)
		if (hgw_addr_cmp(&M->news[k].addr, &m->addr) != 0)
			M->news[n++] = M->news[k];
	M->nnews = n;
	if (m->op != HGW_MEMBER_UP)
		return;
	if (grow_array((void **)&M->news, &M->news_cap, M->nnews + 1, sizeof(*M->news)) < 0)
		return;
	M->news[M->nnews++] = *m;
	if (!evtimer_pending(M->news_ev, NULL)) {
		wait = M->news_ms + NEWS_MS > now ? M->news_ms + NEWS_MS - now : 0;
		tv.tv_sec = (time_t)(wait / 1000);
		tv.tv_usec = (suseconds_t)(wait % 1000) * 1000;
		evtimer_add(M->news_ev, &tv);
	}
}

static void
up_one(void *arg, struct peer *q)
{
	struct up_ctx *c = arg;

	if (q == c->p)
		return;
	if (peer_has_cap(q, HGW_CAP_MEMBERS) &&
	    grow_array((void **)&c->all, &c->cap, c->n + 1, sizeof(*c->all)) == 0)
		member_of(q, HGW_MEMBER_UP, &c->all[c->n++]);
}

/* Does p join the mesh through us (its HELLO named no other member
 * session), or can it not say (an older node)? Then we introduce it. */
static int
joining(const struct peer *p)
{
	const struct hgw_hello *h = p->est != NULL ? session_hello(p->est) : NULL;

	return h == NULL || !h->members_up_known || h->members_up == 0;
}

static void
count_member(void *arg, struct peer *q)
{
	if (peer_has_cap(q, HGW_CAP_MEMBERS))
		(*(unsigned *)arg)++;
}

/* Our HELLO says how many member sessions we hold (0: we are joining). */
static void
on_hello(void *arg, struct hgw_hello *h)
{
	unsigned n = 0;

	if (!(h->caps & HGW_CAP_MEMBERS))
		return;
	peer_foreach_up(arg, count_member, &n);
	h->members_up = n > UINT16_MAX ? UINT16_MAX : (uint16_t)n;
	h->members_up_known = 1;
}

static void
on_peer_up(void *arg, struct peer *p)
{
	struct hgwd *d = arg;
	struct up_ctx c;

	/* Only nodes that speak MEMBERS are members: a scripted client or a
	 * load generator is never advertised to the cluster. */
	memset(&c, 0, sizeof(c));
	c.p = p;
	member_of(p, HGW_MEMBER_UP, &c.m);
	if (peer_has_cap(p, HGW_CAP_MEMBERS) && joining(p))
		news_add(d, &c.m);
	peer_foreach_up(d, up_one, &c);
	send_to(p, c.all, c.n);
	free(c.all);
}

static void
on_peer_down(void *arg, struct peer *p, enum peer_down_reason why)
{
	struct hgwd *d = arg;
	struct hgw_member m;

	if (p->node_id == 0 || !p->member)
		return;
	member_of(p, HGW_MEMBER_DOWN, &m);
	news_add(d, &m);
}

static void
learn(struct hgwd *d, const struct hgw_addr *a, uint16_t port, uint32_t node_id,
    const char *how)
{
	char ab[HGW_ADDRSTRLEN];

	if (node_id == d->node_id || hgw_addr_cmp(a, &d->addr4) == 0 ||
	    hgw_addr_cmp(a, &d->addr6) == 0)
		return;
	if (peer_find(d, a) == NULL && is_gone(d->members, a)) {
		log_debug(LOG_CAT_PEER, "member %s (%s) was removed from the configuration: not dialled",
		    hgw_addr_fmt(a, ab, sizeof(ab)), how);
		return;
	}
	if (!peer_on_lan(d, a)) {	/* only inside the LAN (or the allow list) */
		log_debug(LOG_CAT_PEER, "member %s (%s) is outside the LAN subnet: not dialled",
		    hgw_addr_fmt(a, ab, sizeof(ab)), how);
		return;
	}
	peer_learn(d, a, port, node_id, how);
}

/* Dials the queued members the token bucket allows now (a burst at once,
 * then the member-dials rate); the rest wait for the timer. */
static void
drain(struct hgwd *d)
{
	struct members *M = d->members;
	const struct cfg_limits *lim = &d->cfg.limits;
	uint32_t tick_us = 1000000 / lim->dial_rate;	/* rate >= 1 */
	struct timeval tv = { (time_t)(tick_us / 1000000), (suseconds_t)(tick_us % 1000000) };
	uint64_t now = now_ms();
	size_t k, n;

	/* A queued member that is known by now (it dialled us first) needs
	 * no dial of ours: it spends no token. Otherwise, in a mesh forming
	 * from one seed, both ends of every pair spend one and the queues
	 * hold new members back for seconds. */
	for (k = n = 0; k < M->nq; k++)
		if (peer_find(d, &M->queue[k].addr) == NULL)
			M->queue[n++] = M->queue[k];
		else
			learn(d, &M->queue[k].addr, M->queue[k].port, M->queue[k].node_id,
			    M->queue[k].how);
	M->nq = n;
	M->tokens += (double)(now - M->tokens_ms) * lim->dial_rate / 1000.0;
	if (M->tokens > lim->dial_burst)
		M->tokens = lim->dial_burst;
	M->tokens_ms = now;
	n = (size_t)M->tokens;
	if (n > M->nq)
		n = M->nq;
	M->tokens -= (double)n;
	for (k = 0; k < n; k++)
		learn(d, &M->queue[k].addr, M->queue[k].port, M->queue[k].node_id, M->queue[k].how);
	memmove(M->queue, M->queue + n, (M->nq - n) * sizeof(M->queue[0]));
	M->nq -= n;
	if (M->nq > 0 && !evtimer_pending(M->dial_ev, NULL))
		evtimer_add(M->dial_ev, &tv);
}

static void
dial_tick(evutil_socket_t fd, short what, void *arg)
{
	drain(arg);
}

static int
queued(const struct members *M, const struct hgw_addr *a)
{
	size_t k;

	for (k = 0; k < M->nq; k++)
		if (hgw_addr_cmp(&M->queue[k].addr, a) == 0)
			return 1;
	return 0;
}

/* Learned members: at most "limits members" waiting or being dialled, at
 * most its per-sender from one peer, on the mesh port only (PROTOCOL.md,
 * Security); dialled at once up to the member-dials burst, then its rate. */
static void
on_frame(void *arg, struct peer *from, const uint8_t *body, size_t len)
{
	struct hgwd *d = arg;
	struct members *M = d->members;
	const struct cfg_limits *lim = &d->cfg.limits;
	struct hgw_member m;
	struct peer *p;
	size_t off = 0, total = M->nq, mine = 0, k, refused = 0;
	char how[64];

	snprintf(how, sizeof(how), "from peer %s", from->name);
	TAILQ_FOREACH(p, &d->peers, entry)
		if (p->learned && !p->configured && p->est == NULL) {
			total++;
			mine += strcmp(p->learned_how, how) == 0;
		}
	for (k = 0; k < M->nq; k++)
		mine += strcmp(M->queue[k].how, how) == 0;
	while (hgw_members_next(body, len, &off, &m)) {
		struct pending *q;

		/* "down" needs nothing: we watch our own session with it, and a
		 * member we cannot reach is given up after a bounded time. */
		if (m.op != HGW_MEMBER_UP)
			continue;
		if ((p = peer_find(d, &m.addr)) != NULL) {
			learn(d, &m.addr, m.port, m.node_id, how);	/* known: nothing new */
			continue;
		}
		if (m.port != d->listen_port || total >= lim->members || total >= LEARN_MAX ||
		    mine >= lim->members_per_sender) {
			refused++;
			continue;
		}
		if (queued(M, &m.addr) || is_gone(M, &m.addr))
			continue;
		q = &M->queue[M->nq++];
		q->addr = m.addr;
		q->port = m.port;
		q->node_id = m.node_id;
		snprintf(q->how, sizeof(q->how), "%s", how);
		total++;
		mine++;
	}
	if (refused > 0) {
		M->refused += refused;
		if (ratelog_allow(&from->addr))
			log_notice("members: %zu entries from peer %s not learned (another port than "
			    "%u, or over %u learned members, %u per peer)", refused, from->name,
			    d->listen_port, lim->members, lim->members_per_sender);
	}
	if (M->nq > 0)
		drain(d);
}

/* Discovery beacon: "HGW1", node id (4), port (2), family (1), address. */

static void
beacon_tx(evutil_socket_t fd, short what, void *arg)
{
	struct hgwd *d = arg;
	struct members *M = d->members;
	uint8_t buf[32];
	struct sockaddr_in to;
	uint32_t id = htonl(d->node_id);
	uint16_t port = htons(d->listen_port);

	if (!d->addr4.family || !kernel_if_up(d->kernel))
		return;
	memcpy(buf, BEACON_MAGIC, 4);
	memcpy(buf + 4, &id, 4);
	memcpy(buf + 8, &port, 2);
	buf[10] = 4;
	memcpy(buf + 11, d->addr4.bytes, 4);
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons(d->listen_port);
	inet_pton(AF_INET, BEACON_GROUP, &to.sin_addr);
	if (sendto(M->fd, buf, 15, 0, (struct sockaddr *)&to, sizeof(to)) == 15)
		M->beacons_out++;
}

static void
beacon_rx(evutil_socket_t fd, short what, void *arg)
{
	struct hgwd *d = arg;
	struct members *M = d->members;
	uint8_t buf[64];
	ssize_t n;

	while ((n = recv(M->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		struct hgw_addr a;
		uint32_t id;
		uint16_t port;

		if (n != 15 || memcmp(buf, BEACON_MAGIC, 4) != 0 || buf[10] != 4)
			continue;
		memcpy(&id, buf + 4, 4);
		memcpy(&port, buf + 8, 2);
		memset(&a, 0, sizeof(a));
		a.family = AF_INET;
		memcpy(a.bytes, buf + 11, 4);
		M->beacons_in++;
		if (ntohl(id) == 0 || ntohs(port) == 0)
			continue;
		learn(d, &a, ntohs(port), ntohl(id), "from a discovery beacon");
	}
}

int
members_init(struct hgwd *d)
{
	struct members *M = calloc(1, sizeof(*M));
	struct peer_listener l;

	if (M == NULL)
		return -1;
	M->fd = -1;
	d->members = M;
	if ((M->dial_ev = evtimer_new(d->base, dial_tick, d)) == NULL ||
	    (M->news_ev = evtimer_new(d->base, news_flush, d)) == NULL)
		return -1;
	M->tokens = d->cfg.limits.dial_burst;
	M->tokens_ms = now_ms();
	memset(&l, 0, sizeof(l));
	l.name = "members";
	l.caps = HGW_CAP_MEMBERS;
	l.msg_type = HGW_MSG_MEMBERS;
	l.up = on_peer_up;
	l.down = on_peer_down;
	l.frame = on_frame;
	l.hello = on_hello;
	l.arg = d;
	return peer_subscribe(d, &l);
}

int
members_start(struct hgwd *d)
{
	struct members *M = d->members;
	struct sockaddr_in sin;
	struct ip_mreqn mreq;
	int one = 1, ttl = 1, loop = 0;
	struct timeval tv = { BEACON_EVERY_MS / 1000, (BEACON_EVERY_MS % 1000) * 1000 };

	if (M == NULL)
		return -1;
	if (!d->cfg.discovery || M->fd >= 0)
		return 0;
	if (kernel_ifindex(d->kernel) == 0) {
		log_warnx("discovery: interface %s is missing; no beacon", d->cfg.ifname);
		return -1;
	}
	if ((M->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(M->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(d->listen_port);
	inet_pton(AF_INET, BEACON_GROUP, &sin.sin_addr);
	memset(&mreq, 0, sizeof(mreq));
	inet_pton(AF_INET, BEACON_GROUP, &mreq.imr_multiaddr);
	mreq.imr_ifindex = kernel_ifindex(d->kernel);
	/* The beacon stays on the LAN interface: one hop, not looped back. */
	if (bind(M->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    setsockopt(M->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) < 0 ||
	    setsockopt(M->fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof(mreq)) < 0 ||
	    setsockopt(M->fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) < 0 ||
	    setsockopt(M->fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(loop)) < 0 ||
	    setsockopt(M->fd, SOL_SOCKET, SO_BINDTODEVICE, d->cfg.ifname,
	    (socklen_t)strlen(d->cfg.ifname)) < 0) {
		log_warn("discovery: cannot set up the beacon on %s", d->cfg.ifname);
		close(M->fd);
		M->fd = -1;
		return -1;
	}
	M->rx_ev = event_new(d->base, M->fd, EV_READ | EV_PERSIST, beacon_rx, d);
	M->tx_ev = event_new(d->base, -1, EV_PERSIST, beacon_tx, d);
	event_add(M->rx_ev, NULL);
	event_add(M->tx_ev, &tv);
	beacon_tx(-1, 0, d);
	log_info("discovery: beacon on %s to %s port %u every %d ms", d->cfg.ifname,
	    BEACON_GROUP, d->listen_port, BEACON_EVERY_MS);
	return 0;
}

void
members_stop(struct hgwd *d)
{
	struct members *M = d->members;

	if (M == NULL)
		return;
	if (M->rx_ev)
		event_free(M->rx_ev);
	if (M->tx_ev)
		event_free(M->tx_ev);
	M->rx_ev = M->tx_ev = NULL;
	if (M->fd >= 0)
		close(M->fd);
	M->fd = -1;
}

void
members_reconfigure(struct hgwd *d, const struct config *old)
{
	struct members *M = d->members;
	size_t i, k;

	/* Forget what is configured again; remember what was removed. */
	for (k = 0; M != NULL && k < M->ngone; )
		if (config_find_neighbor(&d->cfg, &M->gone[k]) != NULL)
			M->gone[k] = M->gone[--M->ngone];
		else
			k++;
	for (i = 0; M != NULL && old != NULL && i < old->nneighbors; i++) {
		const struct hgw_addr *a = &old->neighbors[i].addr;

		if (config_find_neighbor(&d->cfg, a) != NULL || is_gone(M, a))
			continue;
		if (M->ngone < GONE_MAX)
			M->gone[M->ngone++] = *a;
		else
			M->gone[M->gone_next++ % GONE_MAX] = *a;	/* the oldest make room */
	}
	if (!d->cfg.discovery)
		members_stop(d);
	else
		members_start(d);
}


void
members_free(struct hgwd *d)
{
	members_stop(d);
	if (d->members != NULL && d->members->dial_ev != NULL)
		event_free(d->members->dial_ev);
	if (d->members != NULL && d->members->news_ev != NULL)
		event_free(d->members->news_ev);
	if (d->members != NULL)
		free(d->members->news);
	free(d->members);
	d->members = NULL;
}
