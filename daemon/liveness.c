/* liveness.c: what a flap of our LAN link does to the sessions, and
 * keepalive datagrams beside the TCP stream (at the end). When the
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
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "hgwd.h"
#include "kernel.h"
#include "log.h"
#include "peer.h"
#include "session.h"
#include "util.h"

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
	if ((n = solicit_peers(d)) <= 0)
		return;
	if (resolve_left == RESOLVE_ROUNDS - 1)
		log_info("interface %s: %d neighbour%s still unresolved %d ms after the link is back: "
		    "soliciting every %d ms", d->cfg.ifname, n, n == 1 ? "" : "s", RESOLVE_MS, RESOLVE_MS);
	if (resolve_left > 0)
		event_add(resolve_ev, &tv);
	else
		log_info("interface %s: %d neighbour%s still unresolved %d ms after the link is back; "
		    "ARP/ND goes on at its own pace", d->cfg.ifname, n, n == 1 ? "" : "s",
		    RESOLVE_ROUNDS * RESOLVE_MS);
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

/* Keepalive datagrams beside the TCP stream. On a lossy LAN a lost segment
 * holds every frame behind it (head-of-line blocking) until TCP retransmits
 * it, and a retransmission lost too backs off (up to TCP_RTO_MAX_MS, 1 s at
 * the least; with a few frames in flight the stream is no longer "thin", so
 * the back-off is exponential): with 20 % loss and 200 ms delay the hold
 * time expired about twice a minute although the peer was there all along.
 * So every KA_DGRAM_DIV-th of the keepalive interval each established peer
 * also gets a small UDP datagram at its mesh port, and a datagram from an
 * established peer (its address and node id) renews that session's hold
 * time (session_heard: only while the stream itself delivered a frame
 * within a few hold times, so a dead stream still ends the session). Each
 * datagram is lost on its own: 12 in a row (3 s) at 20 % loss is 4e-9.
 * Not authenticated, so they are neither sent nor believed when the mesh
 * runs over TLS (a forged one could keep a dead peer's routes). A peer that
 * does not know them answers with an ICMP port unreachable, ignored. */
#define KA_DGRAM_DIV	4
#define KA_DGRAM_LEN	12
#define TICK_SLACK_MS	20	/* a timer firing a little early is still that tick */
static const uint8_t ka_magic[4] = { 'H', 'G', 'W', 'k' };

static struct {
	int fd[2];			/* IPv4, IPv6; -1 when not open */
	struct event *rx[2], *tx;
	uint64_t sent, heard, renewed, skipped;
	uint64_t period_ms;		/* between two ticks */
	int old_fd[2];			/* the port before a reload: peers whose */
	struct event *old_rx[2];	/* session began then still send there */
} dg = { { -1, -1 }, { NULL, NULL }, NULL, 0, 0, 0, 0, 0, { -1, -1 }, { NULL, NULL } };

static void
dgram_close(int *fd, struct event **ev)
{
	if (*ev != NULL)
		event_free(*ev);
	*ev = NULL;
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void
dgram_encode(uint8_t *b, uint32_t node_id)
{
	uint32_t n = htonl(node_id);

	memcpy(b, ka_magic, 4);
	b[4] = 1;		/* version */
	b[5] = b[6] = b[7] = 0;
	memcpy(b + 8, &n, 4);
}

static void
dgram_send_one(void *arg, struct peer *p)
{
	struct hgwd *d = arg;
	struct sockaddr_storage ss;
	socklen_t len;
	uint8_t b[KA_DGRAM_LEN];
	int fd = dg.fd[p->addr.family == AF_INET6];
	uint64_t now, last;

	if (p->est == NULL || fd < 0 || !peer_has_cap(p, HGW_CAP_KA_DGRAM))
		return;
	/* While all we sent is acknowledged, the peer has heard from us at the
	 * last frame or datagram we sent: a datagram goes only when that is
	 * two ticks old (half an interval), so at most 3/4 of an interval
	 * passes between two (one datagram per interval beside the keepalive,
	 * none beside a busy stream: a forming mesh). A link flap of 2 s under
	 * a 3 s hold keeps a quarter interval of margin. While something is
	 * unacknowledged (a lossy LAN, a flap), one goes at every tick. */
	now = now_ms();
	last = session_sent_ms(p->est) > p->dgram_ms ? session_sent_ms(p->est) : p->dgram_ms;
	if (now + TICK_SLACK_MS < last + 2 * dg.period_ms && !session_unacked(p->est)) {
		dg.skipped++;
		return;
	}
	dgram_encode(b, d->node_id);
	hgw_addr_to_sockaddr(&p->addr, p->remote_port ? p->remote_port : p->port, &ss, &len);
	/* a failure (our link is down, no route) is what the datagram is there
	 * to ride out: the next one goes a quarter interval later */
	p->dgram_ms = now;
	if (sendto(fd, b, sizeof(b), MSG_DONTWAIT, (struct sockaddr *)&ss, len) == (ssize_t)sizeof(b))
		dg.sent++;
}

static void
dgram_tx(evutil_socket_t fd, short what, void *arg)
{
	struct hgwd *d = arg;

	(void)fd;
	(void)what;
	if (d->tls == NULL)
		peer_foreach_up(d, dgram_send_one, d);
}

static void
dgram_rx(evutil_socket_t fd, short what, void *arg)
{
	struct hgwd *d = arg;
	uint8_t b[64];
	struct sockaddr_storage ss;
	int i;

	(void)what;
	for (i = 0; i < 64; i++) {	/* a bounded batch per wake-up */
		socklen_t sl = sizeof(ss);
		ssize_t n = recvfrom(fd, b, sizeof(b), MSG_DONTWAIT, (struct sockaddr *)&ss, &sl);
		struct hgw_addr a;
		struct peer *p;
		uint32_t id;
		uint16_t port;

		if (n < 0)
			return;
		if (n != KA_DGRAM_LEN || memcmp(b, ka_magic, 4) != 0 || b[4] != 1 || d->tls != NULL)
			continue;
		if (hgw_addr_from_sockaddr((struct sockaddr *)&ss, &a, &port) < 0 ||
		    (p = peer_find(d, &a)) == NULL || !peer_has_cap(p, HGW_CAP_KA_DGRAM))
			continue;
		memcpy(&id, b + 8, 4);
		if (ntohl(id) != p->node_id)
			continue;
		dg.heard++;
		dg.renewed += session_heard(p->est);
	}
}

static int
dgram_open(struct hgwd *d, int family)
{
	struct sockaddr_storage ss;
	struct hgw_addr any;
	socklen_t len;
	int one = 1, fd;

	memset(&any, 0, sizeof(any));
	any.family = family;
	if ((fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	/* members.c's discovery beacon binds its group on the same port, also
	 * with SO_REUSEADDR; its beacons reach us too and are ignored here */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	hgw_addr_to_sockaddr(&any, d->listen_port, &ss, &len);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A datagram socket of fams[i] on the mesh port with its read event; -1
 * when it cannot be had. */
static int
dgram_listen(struct hgwd *d, int i, int *fd, struct event **ev)
{
	static const int fams[2] = { AF_INET, AF_INET6 };

	if ((*fd = dgram_open(d, fams[i])) < 0)
		return -1;
	if ((*ev = event_new(d->base, *fd, EV_READ | EV_PERSIST, dgram_rx, d)) == NULL ||
	    event_add(*ev, NULL) < 0) {
		dgram_close(fd, ev);
		return -1;
	}
	return 0;
}

/* The tick: every keepalive interval / KA_DGRAM_DIV. */
static uint32_t
tick_ms(const struct hgwd *d)
{
	uint32_t ms = d->cfg.keepalive_ms / KA_DGRAM_DIV;

	return ms ? ms : 1;
}

static int
dgram_period(struct hgwd *d)
{
	uint32_t ms = tick_ms(d);
	struct timeval tv;

	dg.period_ms = ms;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return event_add(dg.tx, &tv);
}

/* Without TLS, TCP keepalives go once per negotiated interval, as the
 * protocol says: to a peer that sends and believes keepalive datagrams,
 * they carry the link-flap margin; a peer without them (an older hgwd, a
 * load generator) has none (a link flap under the hold time may then drop
 * its session). Over TLS, where datagrams are off, SESSION_KA_DIV TCP
 * keepalives per interval carry the margin instead (registered only then). */
static void
dgram_peer_up(void *arg, struct peer *p)
{
	(void)arg;
	if (p->est != NULL)
		session_set_keepalive_div(p->est, 1);
}

int
liveness_init(struct hgwd *d)
{
	struct peer_listener l;
	int i;

	for (i = 0; i < 2; i++)
		dgram_listen(d, i, &dg.fd[i], &dg.rx[i]);
	if (dg.fd[0] < 0 && dg.fd[1] < 0) {
		log_warn("liveness: cannot open the keepalive datagram socket (udp port %u): "
		    "sessions rely on TCP alone", (unsigned)d->listen_port);
		return 0;
	}
	if ((dg.tx = event_new(d->base, -1, EV_PERSIST, dgram_tx, d)) == NULL || dgram_period(d) < 0)
		goto fail;
	/* Not over TLS: a datagram is not authenticated, so it is neither
	 * sent nor believed there, and HELLO does not offer it. */
	if (d->tls == NULL) {
		memset(&l, 0, sizeof(l));
		l.name = "liveness";
		l.caps = HGW_CAP_KA_DGRAM;
		l.up = dgram_peer_up;
		l.arg = d;
		if (peer_subscribe(d, &l) < 0)
			goto fail;
	}
	return 0;
fail:
	log_warnx("liveness: cannot set up keepalive datagrams");
	liveness_free();
	return -1;
}

/* A reload: the datagram socket follows the mesh port. The one of the
 * port before still receives (a session that began then was told that port
 * in HELLO, and its peer sends there until it reconnects); we send from the
 * new one. The timer follows the keepalive interval. */
void
liveness_reconfigure(struct hgwd *d, uint16_t old_port)
{
	int i;

	for (i = 0; i < 2 && d->listen_port != old_port; i++) {
		struct event *ev;
		int fd;

		if (dgram_listen(d, i, &fd, &ev) < 0)
			continue;
		dgram_close(&dg.old_fd[i], &dg.old_rx[i]);
		dg.old_fd[i] = dg.fd[i];
		dg.old_rx[i] = dg.rx[i];
		dg.fd[i] = fd;
		dg.rx[i] = ev;
	}
	if (d->listen_port != old_port && dg.fd[0] < 0 && dg.fd[1] < 0)
		log_warn("liveness: cannot open the keepalive datagram socket (udp port %u)",
		    (unsigned)d->listen_port);
	if (dg.tx != NULL && dg.period_ms != tick_ms(d))
		dgram_period(d);
}

void
liveness_free(void)
{
	int i;

	for (i = 0; i < 2; i++) {
		dgram_close(&dg.fd[i], &dg.rx[i]);
		dgram_close(&dg.old_fd[i], &dg.old_rx[i]);
	}
	if (dg.tx != NULL)
		event_free(dg.tx);
	dg.tx = NULL;
	if (resolve_ev != NULL)
		event_free(resolve_ev);
	resolve_ev = NULL;
}

void
liveness_stats(const struct hgwd *d, struct liveness_stats *st)
{
	st->enabled = d->tls == NULL && dg.tx != NULL;
	st->sent = dg.sent;
	st->heard = dg.heard;
	st->renewed = dg.renewed;
	st->skipped = dg.skipped;
}
