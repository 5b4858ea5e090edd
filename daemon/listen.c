/* listen.c: the mesh port's listening sockets and admission: neighbors and
 * LAN hosts only, a token bucket of accepts, a cap on handshakes at once
 * and on sessions from one address ("limits sessions-per-source"), a pause
 * when accept() fails; the output budget follows the configuration. */
#include "listen.h"

#include <event2/event.h>
#include <errno.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "budget.h"
#include "hgwd.h"
#include "log.h"
#include "peer.h"
#include "util.h"

struct listen_state {
	struct evconnlistener *l[2];	/* IPv4, IPv6 */
	struct event *resume_ev;	/* accept paused after an error */
	double tokens;
	uint64_t last_ms, refused, refused_logged_ms;
	int pending_max;		/* handshakes at once: below the fd limit */
};

static void
refuse(struct hgwd *d, int fd, const char *ab, const char *why)
{
	struct listen_state *L = d->listen;
	uint64_t now = now_ms();

	L->refused++;
	/* A flood of refusals is one line a second, not a line each. */
	if (L->refused_logged_ms + 1000 <= now) {
		log_warnx("refused a connection from %s: %s", ab, why);
		L->refused_logged_ms = now;
	} else
		log_count_suppressed();
	close(fd);
}

/* Sessions (in any state) we hold with address a. */
static unsigned
sessions_of(struct hgwd *d, const struct hgw_addr *a)
{
	const struct peer *p = peer_find(d, a);
	unsigned n = 0;
	int i;

	for (i = 0; p != NULL && i < PEER_MAX_SESSIONS; i++)
		n += p->sess[i] != NULL;
	return n;
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
    void *arg)
{
	struct hgwd *d = arg;
	struct listen_state *L = d->listen;
	struct hgw_addr a;
	uint16_t port;
	char ab[HGW_ADDRSTRLEN], why[128];
	const struct peer *known;
	uint64_t now;

	if (hgw_addr_from_sockaddr(sa, &a, &port) < 0 || (d->stopping && (!d->leave_sweep ||
	    ((known = peer_find(d, &a)) != NULL && known->leave_told)))) {
		close(fd);	/* leaving: only a peer not yet told (leave.c) */
		return;
	}
	hgw_addr_fmt(&a, ab, sizeof(ab));
	/* Refused before any parsing: strangers, floods, too many half-open. */
	if (config_find_neighbor(&d->cfg, &a) == NULL && !peer_on_lan(d, &a)) {
		snprintf(why, sizeof(why), "not a neighbor, not on the %s subnet and not allowed",
		    d->cfg.ifname);
		refuse(d, fd, ab, why);
		return;
	}
	now = now_ms();
	L->tokens += (double)(now - L->last_ms) * LISTEN_ACCEPT_RATE / 1000.0;
	if (L->tokens > LISTEN_ACCEPT_BURST)
		L->tokens = LISTEN_ACCEPT_BURST;
	L->last_ms = now;
	if (L->tokens < 1.0 || d->npending >= L->pending_max) {
		refuse(d, fd, ab, d->npending >= L->pending_max ?
		    "too many connections still in their handshake" : "too many connections per second");
		return;
	}
	if (sessions_of(d, &a) >= d->cfg.limits.sessions_per_source) {
		refuse(d, fd, ab, "too many sessions from that address (limits sessions-per-source)");
		return;
	}
	L->tokens -= 1.0;
	if (peer_accept(d, fd, &a, port) < 0)
		L->refused++;
}

static void
listen_resume(evutil_socket_t fd, short what, void *arg)
{
	struct listen_state *L = arg;
	int i;

	for (i = 0; i < 2; i++)
		if (L->l[i] != NULL)
			evconnlistener_enable(L->l[i]);
}

/* accept() failed (out of file descriptors, most likely): pause listening
 * for a second instead of retrying in a loop. */
static void
on_listen_error(struct evconnlistener *l, void *arg)
{
	struct hgwd *d = arg;
	struct listen_state *L = d->listen;
	struct timeval tv = { 1, 0 };

	log_warnx("accept: %s; not accepting for 1 s",
	    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	evconnlistener_disable(l);
	if (L->resume_ev == NULL)
		L->resume_ev = evtimer_new(d->base, listen_resume, L);
	if (L->resume_ev != NULL)
		evtimer_add(L->resume_ev, &tv);
}

static int
listen_one(struct hgwd *d, int family, uint16_t port)
{
	struct listen_state *L = d->listen;
	struct sockaddr_storage ss;
	struct hgw_addr any;
	socklen_t len;
	int fd, one = 1;
	struct evconnlistener *l;

	memset(&any, 0, sizeof(any));
	any.family = (uint8_t)family;
	hgw_addr_to_sockaddr(&any, port, &ss, &len);
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
	L->l[family == AF_INET ? 0 : 1] = l;
	return 0;
}

int
listen_open(struct hgwd *d, uint16_t port)
{
	int ok4, ok6;

	listen_close(d);
	ok4 = listen_one(d, AF_INET, port) == 0;
	ok6 = listen_one(d, AF_INET6, port) == 0;
	if (!ok4 && !ok6)
		return -1;
	d->listen_port = port;
	return 0;
}

void
listen_close(struct hgwd *d)
{
	struct listen_state *L = d->listen;
	int i;

	if (L == NULL)
		return;
	if (L->resume_ev != NULL) {
		event_free(L->resume_ev);
		L->resume_ev = NULL;
	}
	for (i = 0; i < 2; i++)
		if (L->l[i] != NULL) {
			evconnlistener_free(L->l[i]);
			L->l[i] = NULL;
		}
}

/* At start: a family whose listener could not be opened fails the start
 * with the reason (the port in use, most often), unless the host has no
 * such family at all. The bind is tried again only to learn the reason. */
int
listen_verify(struct hgwd *d, uint16_t port, char *err, size_t errlen)
{
	struct listen_state *L = d->listen;
	int i, fd, one = 1, e;

	for (i = 0; i < 2; i++) {
		int family = i == 0 ? AF_INET : AF_INET6;
		struct sockaddr_storage ss;
		struct hgw_addr any;
		socklen_t len;

		if (L->l[i] != NULL)
			continue;
		memset(&any, 0, sizeof(any));
		any.family = (uint8_t)family;
		hgw_addr_to_sockaddr(&any, port, &ss, &len);
		if ((fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
			if (errno == EAFNOSUPPORT)
				continue;
			snprintf(err, errlen, "cannot listen on %s port %u: %s", i ? "IPv6" : "IPv4",
			    port, strerror(errno));
			return -1;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		e = bind(fd, (struct sockaddr *)&ss, len) < 0 ? errno : 0;
		close(fd);
		if (e == EAFNOSUPPORT || e == EADDRNOTAVAIL)
			continue;
		snprintf(err, errlen, "cannot listen on %s port %u: %s", i ? "IPv6" : "IPv4", port,
		    e ? strerror(e) : "unknown error");
		return -1;
	}
	return 0;
}

int
listen_reconfigure(struct hgwd *d, char *err, size_t errlen)
{
	uint16_t old = d->listen_port;

	if (d->cfg.listen_port != old && listen_open(d, d->cfg.listen_port) < 0) {
		snprintf(err, errlen, "cannot listen on port %u", d->cfg.listen_port);
		listen_open(d, old);
		return -1;
	}
	budget_set((size_t)d->cfg.limits.output_budget);
	return 0;
}

/* Take the hard limit of file descriptors, and keep the connections allowed
 * in their handshake well below it. */
int
listen_init(struct hgwd *d)
{
	struct listen_state *L = calloc(1, sizeof(*L));
	struct rlimit rl;

	if (L == NULL)
		return -1;
	d->listen = L;
	budget_set((size_t)d->cfg.limits.output_budget);
	L->tokens = LISTEN_ACCEPT_BURST;
	L->last_ms = now_ms();
	L->pending_max = 1024;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)L->pending_max > rl.rlim_cur / 4)
		L->pending_max = (int)(rl.rlim_cur / 4);
	return 0;
}

void
listen_free(struct hgwd *d)
{
	listen_close(d);
	free(d->listen);
	d->listen = NULL;
}

void
listen_get_stats(const struct hgwd *d, struct listen_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->rate = LISTEN_ACCEPT_RATE;
	st->burst = LISTEN_ACCEPT_BURST;
	if (d->listen != NULL) {
		st->pending_max = d->listen->pending_max;
		st->refused = d->listen->refused;
	}
}
