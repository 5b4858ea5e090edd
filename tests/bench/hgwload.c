/* hgwload.c: load generator and route watcher of the benchmark suite (issue 5).
 * Built on proto/ (wire.h, addr.h); no libevent, plain poll/epoll.
 *
 *   hgwload peer  -c ADDR [-p PORT] [-s SRC] [-I NODEID] [-n N] [-l PLEN]
 *                 [-B BASE] [-g GW] [-H HOLD_MS] [-K KA_MS] [-N HOSTNAME]
 *       One session: HELLO, then on stdin commands
 *         announce   N prefixes (BASE + i * 2^(32-PLEN), /PLEN, via GW), as
 *                    many per UPDATE as a 64 KiB frame holds, then END-OF-RIB
 *         withdraw   the same N prefixes
 *         quit       NOTIFY cease/shutdown and exit
 *       KEEPALIVEs every KA_MS meanwhile; events as JSON lines on stdout.
 *
 *   hgwload multi -c ADDR [-p PORT] -k K -S SRC_BASE [-P PFX_BASE] [-H] [-K]
 *       K sessions from K consecutive source addresses SRC_BASE + i, each
 *       with node id = its source address, announcing one /24
 *       (PFX_BASE + i * 256) via its own source address, then END-OF-RIB.
 *       Waits for "go" on stdin before dialling; keeps the sessions alive
 *       until "quit" or the end of stdin. A session that is refused or lost
 *       is dialled again with the protocol's back-off (200 ms doubling to
 *       10 s, jittered), as a real node would.
 *
 *   hgwload watch [-P PROTO] [-T TABLE] NS...
 *       Tracks the IPv4 routes of protocol PROTO in table TABLE of each
 *       network namespace NS (a name under /run/netns, or "." for our own)
 *       from a dump and then netlink events, and answers on stdin:
 *         count IDX|* N SECS       until the set holds exactly N routes
 *         absent IDX|* PFX SECS    until PFX is in none of them
 *         present IDX|* PFX SECS   until PFX is in every one of them
 *         get                      the counts now
 *         resync                   dump every namespace again, then get
 *       Each wait is answered twice: {"armed":...} at once, then
 *       {"ok":true|false,"t":MONOTONIC_SECONDS,...} when the condition holds
 *       (t: when the event that made it hold was read) or the time is up.
 *
 * Times are CLOCK_MONOTONIC seconds, the clock of Python's time.monotonic().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "wire.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hgwload: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static void
emit(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static uint32_t
parse_v4(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		die("not an IPv4 address: %s", s);
	return ntohl(a.s_addr);
}

static const char *
fmt_v4(uint32_t a, char *buf)
{
	struct in_addr ia = { htonl(a) };

	return inet_ntop(AF_INET, &ia, buf, INET_ADDRSTRLEN);
}

static void
v4_addr(uint32_t a, struct hgw_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->family = AF_INET;
	out->bytes[0] = (uint8_t)(a >> 24);
	out->bytes[1] = (uint8_t)(a >> 16);
	out->bytes[2] = (uint8_t)(a >> 8);
	out->bytes[3] = (uint8_t)a;
}

static void
v4_prefix(uint32_t a, int plen, struct hgw_prefix *out)
{
	memset(out, 0, sizeof(*out));
	out->family = AF_INET;
	out->plen = (uint8_t)plen;
	out->bytes[0] = (uint8_t)(a >> 24);
	out->bytes[1] = (uint8_t)(a >> 16);
	out->bytes[2] = (uint8_t)(a >> 8);
	out->bytes[3] = (uint8_t)a;
}

/* A growable byte queue. */
struct buf {
	uint8_t *p;
	size_t head, len, cap;
};

static void
buf_add(struct buf *b, const void *data, size_t n)
{
	if (b->head > 0 && b->head == b->len) {
		b->head = b->len = 0;
	}
	if (b->len + n > b->cap) {
		size_t live = b->len - b->head;

		if (b->head > 0 && live + n <= b->cap) {
			memmove(b->p, b->p + b->head, live);
		} else {
			size_t ncap = b->cap ? b->cap : 65536;
			uint8_t *np;

			while (ncap < live + n)
				ncap *= 2;
			if ((np = malloc(ncap)) == NULL)
				die("out of memory");
			if (live)
				memcpy(np, b->p + b->head, live);
			free(b->p);
			b->p = np;
			b->cap = ncap;
		}
		b->head = 0;
		b->len = live;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static size_t
buf_live(const struct buf *b)
{
	return b->len - b->head;
}

/* Builds the UPDATE frames for n prefixes into out; returns the frame count. */
static unsigned long
build_updates(struct buf *out, int withdraw, uint32_t origin, uint32_t base, int plen,
    unsigned long n, uint32_t gw)
{
	static uint8_t frame[HGW_MAX_FRAME];
	struct hgw_upd_builder b;
	struct hgw_upd_item it;
	unsigned long i, frames = 0;
	size_t len;

	memset(&it, 0, sizeof(it));
	it.kind = withdraw ? HGW_UPD_WITHDRAW : HGW_UPD_ANNOUNCE;
	it.origin = origin;
	if (!withdraw)
		v4_addr(gw, &it.gateway);
	hgw_upd_begin(&b, frame, sizeof(frame));
	for (i = 0; i < n; i++) {
		v4_prefix(base + (uint32_t)(i << (32 - plen)), plen, &it.prefix);
		if (hgw_upd_add(&b, &it) == 0)
			continue;
		if ((len = hgw_upd_finish(&b)) == 0)
			die("cannot encode prefix %lu", i);
		buf_add(out, frame, len);
		frames++;
		hgw_upd_begin(&b, frame, sizeof(frame));
		if (hgw_upd_add(&b, &it) < 0)
			die("cannot encode prefix %lu", i);
	}
	if ((len = hgw_upd_finish(&b)) > 0) {
		buf_add(out, frame, len);
		frames++;
	}
	return frames;
}

static int
tcp_socket(uint32_t src, int nonblock)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	int one = 1, sz = 4 << 20;

	if (fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (src != 0) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(src) };

		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
			char ab[INET_ADDRSTRLEN];

			die("bind %s: %s", fmt_v4(src, ab), strerror(errno));
		}
	}
	return fd;
}

static size_t
hello_frame(uint8_t *buf, size_t cap, uint32_t node, uint32_t hold, uint32_t ka,
    uint32_t addr, const char *hostname)
{
	struct hgw_hello h;

	memset(&h, 0, sizeof(h));
	h.node_id = node;
	h.hold_ms = hold;
	h.keepalive_ms = ka;
	h.caps = HGW_CAP_IPV4;
	h.listen_port = HGW_DEFAULT_PORT;
	if (addr != 0) {
		v4_addr(addr, &h.addrs[0]);
		h.naddrs = 1;
	}
	snprintf(h.hostname, sizeof(h.hostname), "%s", hostname);
	return hgw_hello_encode(buf, cap, &h);
}

/* Reads frames from inb; returns the type of each through fn. */
struct conn {
	int fd;
	struct buf in, out;
	int got_hello, established, closed;
	double next_ka;
	uint32_t ka_ms;
	uint32_t src;
	unsigned long updates_in, keepalives_in;
	struct hgw_notify notify;
	int got_notify;
	double retry_at;	/* multi: re-dial then (0: not waiting) */
	uint32_t backoff_ms;
	unsigned long attempts;
};

/* Parses whole frames in c->in. Returns -1 when the session must end. */
static int
conn_parse(struct conn *c)
{
	for (;;) {
		size_t live = buf_live(&c->in);
		const uint8_t *p = c->in.p + c->in.head;
		struct hgw_hdr h;
		struct hgw_err err;
		int r;

		if (live < HGW_HDR_LEN)
			return 0;
		r = hgw_hdr_decode(p, live, HGW_MAX_FRAME, &h, &err);
		if (r < 0) {
			fprintf(stderr, "hgwload: bad frame from the daemon: %s\n", err.text);
			return -1;
		}
		if (live < h.length)
			return 0;
		switch (h.type) {
		case HGW_MSG_HELLO:
			c->got_hello = 1;
			break;
		case HGW_MSG_UPDATE:
			c->updates_in++;
			break;
		case HGW_MSG_KEEPALIVE:
			c->keepalives_in++;
			break;
		case HGW_MSG_NOTIFY:
			hgw_notify_decode(p + HGW_HDR_LEN, h.length - HGW_HDR_LEN, &c->notify, &err);
			c->got_notify = 1;
			c->in.head += h.length;
			return -1;
		}
		c->in.head += h.length;
	}
}

/* Reads what is there; -1 on EOF or error. */
static int
conn_read(struct conn *c)
{
	for (;;) {
		uint8_t tmp[65536];
		ssize_t n = read(c->fd, tmp, sizeof(tmp));

		if (n > 0) {
			buf_add(&c->in, tmp, (size_t)n);
			if ((size_t)n < sizeof(tmp))
				break;
			continue;
		}
		if (n == 0)
			return -1;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		return -1;
	}
	return conn_parse(c);
}

/* Writes what it can; -1 on error. */
static int
conn_write(struct conn *c)
{
	while (buf_live(&c->out) > 0) {
		ssize_t n = write(c->fd, c->out.p + c->out.head, buf_live(&c->out));

		if (n > 0) {
			c->out.head += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return -1;
	}
	return 0;
}

static void
conn_keepalive(struct conn *c, double now)
{
	uint8_t ka[HGW_HDR_LEN];

	if (!c->established || c->closed || now < c->next_ka)
		return;
	buf_add(&c->out, ka, hgw_keepalive_encode(ka, sizeof(ka)));
	c->next_ka = now + c->ka_ms / 1000.0;
}

/* ---------------------------------------------------------------- peer */

static int
cmd_peer(int argc, char **argv)
{
	const char *dst = NULL, *src = NULL, *gw = NULL, *hostname = "hgwload";
	uint32_t node = 0, hold = 3000, ka = 1000, base = parse_v4("10.128.0.0");
	unsigned long n = 100000, frames_a, frames_w;
	int plen = 32, port = HGW_DEFAULT_PORT, ch, stdin_open = 1;
	struct buf ann = { 0 }, wd = { 0 };
	struct conn c;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	uint8_t hb[512];
	double t_send0 = 0;
	const char *sending = NULL;
	char linebuf[256];
	size_t linelen = 0;

	while ((ch = getopt(argc, argv, "c:p:s:I:n:l:B:g:H:K:N:")) != -1) {
		switch (ch) {
		case 'c': dst = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 's': src = optarg; break;
		case 'I': node = parse_v4(optarg); break;
		case 'n': n = strtoul(optarg, NULL, 10); break;
		case 'l': plen = atoi(optarg); break;
		case 'B': base = parse_v4(optarg); break;
		case 'g': gw = optarg; break;
		case 'H': hold = (uint32_t)atoi(optarg); break;
		case 'K': ka = (uint32_t)atoi(optarg); break;
		case 'N': hostname = optarg; break;
		default: die("peer: bad option");
		}
	}
	if (dst == NULL || src == NULL || plen < 1 || plen > 32)
		die("usage: hgwload peer -c ADDR -s SRC [-I NODEID] [-n N] [-l PLEN] [-B BASE] [-g GW]");
	if (node == 0)
		node = parse_v4(src);
	memset(&c, 0, sizeof(c));
	c.src = parse_v4(src);
	c.ka_ms = ka;
	frames_a = build_updates(&ann, 0, node, base, plen, n, gw ? parse_v4(gw) : c.src);
	frames_w = build_updates(&wd, 1, node, base, plen, n, 0);
	{
		uint8_t eor[HGW_HDR_LEN];

		buf_add(&ann, eor, hgw_eor_encode(eor, sizeof(eor)));
	}
	c.fd = tcp_socket(c.src, 0);
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(parse_v4(dst));
	if (connect(c.fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die("connect %s port %d: %s", dst, port, strerror(errno));
	fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	buf_add(&c.out, hb, hello_frame(hb, sizeof(hb), node, hold, ka, c.src, hostname));
	emit("{\"event\": \"connected\", \"t\": %.6f, \"announce_frames\": %lu, "
	    "\"announce_bytes\": %zu, \"withdraw_frames\": %lu, \"withdraw_bytes\": %zu}",
	    now_s(), frames_a, buf_live(&ann), frames_w, buf_live(&wd));
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		struct pollfd pf[2];
		double now = now_s();
		int timeout = 100, r;

		if (c.established) {
			double wait = (c.next_ka - now) * 1000;

			timeout = wait < 0 ? 0 : wait > 100 ? 100 : (int)wait + 1;
		}
		pf[0].fd = c.fd;
		pf[0].events = POLLIN | (buf_live(&c.out) ? POLLOUT : 0);
		pf[1].fd = stdin_open ? 0 : -1;
		pf[1].events = POLLIN;
		r = poll(pf, 2, timeout);
		if (r < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		now = now_s();
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (conn_read(&c) < 0) {
				if (c.got_notify)
					emit("{\"event\": \"notify\", \"t\": %.6f, \"code\": %u, "
					    "\"subcode\": %u, \"text\": \"%s\"}", now, c.notify.code,
					    c.notify.subcode, c.notify.text);
				emit("{\"event\": \"closed\", \"t\": %.6f}", now);
				return 1;
			}
			if (c.got_hello && !c.established) {
				c.established = 1;
				c.next_ka = now + ka / 1000.0;
				emit("{\"event\": \"established\", \"t\": %.6f}", now);
			}
		}
		if (pf[1].revents & (POLLIN | POLLHUP)) {
			for (;;) {
				ssize_t k = read(0, linebuf + linelen, sizeof(linebuf) - 1 - linelen);
				char *nl;

				if (k == 0) {
					stdin_open = 0;
					break;
				}
				if (k < 0)
					break;
				linelen += (size_t)k;
				linebuf[linelen] = '\0';
				while ((nl = strchr(linebuf, '\n')) != NULL) {
					*nl = '\0';
					if (strcmp(linebuf, "announce") == 0) {
						t_send0 = now_s();
						sending = "announce";
						buf_add(&c.out, ann.p + ann.head, buf_live(&ann));
					} else if (strcmp(linebuf, "withdraw") == 0) {
						t_send0 = now_s();
						sending = "withdraw";
						buf_add(&c.out, wd.p + wd.head, buf_live(&wd));
					} else if (strcmp(linebuf, "quit") == 0) {
						uint8_t nb[64];

						buf_add(&c.out, nb, hgw_notify_encode(nb, sizeof(nb),
						    HGW_ERR_CEASE, HGW_CEASE_SHUTDOWN, "bench over"));
						fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) & ~O_NONBLOCK);
						conn_write(&c);
						close(c.fd);
						emit("{\"event\": \"quit\", \"t\": %.6f}", now_s());
						return 0;
					} else if (strcmp(linebuf, "stats") == 0) {
						emit("{\"event\": \"stats\", \"updates_in\": %lu, "
						    "\"keepalives_in\": %lu}", c.updates_in,
						    c.keepalives_in);
					} else if (linebuf[0] != '\0') {
						emit("{\"event\": \"error\", \"text\": \"unknown command\"}");
					}
					linelen -= (size_t)(nl + 1 - linebuf);
					memmove(linebuf, nl + 1, linelen + 1);
				}
			}
			if (!stdin_open) {
				/* The driver went away: leave quietly. */
				return 0;
			}
		}
		conn_keepalive(&c, now);
		if (buf_live(&c.out) && conn_write(&c) < 0) {
			emit("{\"event\": \"closed\", \"t\": %.6f, \"text\": \"write failed\"}", now_s());
			return 1;
		}
		if (sending != NULL && buf_live(&c.out) == 0) {
			emit("{\"event\": \"%s_sent\", \"t0\": %.6f, \"t1\": %.6f}", sending, t_send0,
			    now_s());
			sending = NULL;
		}
	}
}

/* ---------------------------------------------------------------- multi */

/* A fresh socket and output for session c of the multi mode, dialled now. */
static void
multi_dial(struct conn *c, int ep, uint32_t idx, const struct sockaddr_in *dst, uint32_t hold,
    uint32_t ka, uint32_t pfx)
{
	uint8_t hb[512], eor[HGW_HDR_LEN];
	char host[32];
	struct epoll_event ev;
	int rc;

	c->fd = tcp_socket(c->src, 1);
	c->in.head = c->in.len = 0;
	c->out.head = c->out.len = 0;
	c->got_hello = c->established = c->closed = c->got_notify = 0;
	c->retry_at = 0;
	c->attempts++;
	snprintf(host, sizeof(host), "load%u", idx);
	buf_add(&c->out, hb, hello_frame(hb, sizeof(hb), c->src, hold, ka, c->src, host));
	build_updates(&c->out, 0, c->src, pfx, 24, 1, c->src);
	buf_add(&c->out, eor, hgw_eor_encode(eor, sizeof(eor)));
	rc = connect(c->fd, (const struct sockaddr *)dst, sizeof(*dst));
	if (rc < 0 && errno != EINPROGRESS)
		die("connect: %s", strerror(errno));
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.u32 = idx;
	epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

/* Session c ended: re-dial after the protocol's back-off (PROTOCOL.md):
 * 200 ms doubling to 10 s, scaled into [0.75, 1.25). */
static void
multi_lost(struct conn *c, int ep, double now)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->closed = 1;
	c->backoff_ms = c->backoff_ms == 0 ? 200 : c->backoff_ms * 2 > 10000 ? 10000 :
	    c->backoff_ms * 2;
	c->retry_at = now + c->backoff_ms / 1000.0 * (0.75 + 0.5 * (double)rand() / RAND_MAX);
}

static int
cmd_multi(int argc, char **argv)
{
	const char *dst = NULL;
	uint32_t hold = 3000, ka = 1000, src_base = 0, pfx_base = parse_v4("10.200.0.0");
	int port = HGW_DEFAULT_PORT, k = 1000, ch, ep, i, nest = 0, nclosed = 0, nrefused = 0;
	int stdin_open = 1, going = 0;
	struct conn *cs;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	double t_go = 0, t_all = 0, last_tick = 0;
	char linebuf[256];
	size_t linelen = 0;
	struct epoll_event ev;

	while ((ch = getopt(argc, argv, "c:p:k:S:P:H:K:")) != -1) {
		switch (ch) {
		case 'c': dst = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'k': k = atoi(optarg); break;
		case 'S': src_base = parse_v4(optarg); break;
		case 'P': pfx_base = parse_v4(optarg); break;
		case 'H': hold = (uint32_t)atoi(optarg); break;
		case 'K': ka = (uint32_t)atoi(optarg); break;
		default: die("multi: bad option");
		}
	}
	if (dst == NULL || src_base == 0 || k < 1)
		die("usage: hgwload multi -c ADDR -k K -S SRC_BASE [-P PFX_BASE]");
	signal(SIGPIPE, SIG_IGN);
	if ((cs = calloc((size_t)k, sizeof(*cs))) == NULL)
		die("out of memory");
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll: %s", strerror(errno));
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(parse_v4(dst));
	for (i = 0; i < k; i++) {
		cs[i].src = src_base + (uint32_t)i;
		cs[i].ka_ms = ka;
		cs[i].fd = -1;
	}
	emit("{\"event\": \"ready\", \"t\": %.6f, \"sessions\": %d}", now_s(), k);
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	ev.events = EPOLLIN;
	ev.data.u32 = UINT32_MAX;
	epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
	for (;;) {
		struct epoll_event evs[256];
		int n, j;
		double now;

		n = epoll_wait(ep, evs, 256, 50);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		now = now_s();
		for (j = 0; j < n; j++) {
			struct conn *c;

			if (evs[j].data.u32 == UINT32_MAX) {
				for (;;) {
					ssize_t r = read(0, linebuf + linelen,
					    sizeof(linebuf) - 1 - linelen);
					char *nl;

					if (r == 0) {
						stdin_open = 0;
						break;
					}
					if (r < 0)
						break;
					linelen += (size_t)r;
					linebuf[linelen] = '\0';
					while ((nl = strchr(linebuf, '\n')) != NULL) {
						*nl = '\0';
						if (strcmp(linebuf, "go") == 0 && !going) {
							going = 1;
							t_go = now_s();
							for (i = 0; i < k; i++)
								multi_dial(&cs[i], ep, (uint32_t)i, &sin,
								    hold, ka, pfx_base + ((uint32_t)i << 8));
						} else if (strcmp(linebuf, "stats") == 0) {
							unsigned long att = 0;

							for (i = 0; i < k; i++)
								att += cs[i].attempts;
							emit("{\"event\": \"stats\", \"t\": %.6f, "
							    "\"established\": %d, \"lost\": %d, "
							    "\"refused\": %d, \"dials\": %lu}",
							    now_s(), nest, nclosed, nrefused, att);
						} else if (strcmp(linebuf, "quit") == 0) {
							stdin_open = 0;
						}
						linelen -= (size_t)(nl + 1 - linebuf);
						memmove(linebuf, nl + 1, linelen + 1);
					}
				}
				if (!stdin_open) {
					emit("{\"event\": \"quit\", \"t\": %.6f, \"established\": %d, "
					    "\"lost\": %d, \"refused\": %d}", now_s(), nest, nclosed, nrefused);
					return 0;
				}
				continue;
			}
			c = &cs[evs[j].data.u32];
			if (c->closed)
				continue;
			if (evs[j].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
				if (conn_read(c) < 0) {
					if (c->established) {
						nest--;
						nclosed++;
					} else
						nrefused++;
					multi_lost(c, ep, now);
					continue;
				}
				if (c->got_hello && !c->established) {
					c->established = 1;
					c->backoff_ms = 0;
					c->next_ka = now + ka / 1000.0;
					if (++nest == k && t_all == 0) {
						t_all = now;
						emit("{\"event\": \"established\", \"t0\": %.6f, "
						    "\"t\": %.6f, \"sessions\": %d}", t_go, now, k);
					}
				}
			}
			if (conn_write(c) < 0) {
				if (c->established) {
					nest--;
					nclosed++;
				} else
					nrefused++;
				multi_lost(c, ep, now);
				continue;
			}
			ev.events = EPOLLIN | (buf_live(&c->out) ? EPOLLOUT : 0);
			ev.data.u32 = evs[j].data.u32;
			epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
		}
		/* Keepalives, every 10 ms at most. */
		if (going && now - last_tick >= 0.01) {
			last_tick = now;
			for (i = 0; i < k; i++) {
				struct conn *c = &cs[i];
				size_t before = buf_live(&c->out);

				if (c->closed && c->retry_at > 0 && now >= c->retry_at) {
					multi_dial(c, ep, (uint32_t)i, &sin, hold, ka,
					    pfx_base + ((uint32_t)i << 8));
					continue;
				}
				if (c->closed || !c->established || now < c->next_ka)
					continue;
				conn_keepalive(c, now);
				if (conn_write(c) < 0) {
					nest--;
					nclosed++;
					multi_lost(c, ep, now);
					continue;
				}
				if (before == 0 && buf_live(&c->out) > 0) {
					ev.events = EPOLLIN | EPOLLOUT;
					ev.data.u32 = (uint32_t)i;
					epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
				}
			}
		}
	}
}

/* ---------------------------------------------------------------- watch */

/* A set of IPv4 prefixes: key = address << 8 | length; open addressing. */
struct pset {
	uint64_t *k;		/* 0: empty (key 0 would be 0.0.0.0/0: stored as ~0) */
	size_t cap, n;
};

static uint64_t
pkey(uint32_t a, unsigned plen)
{
	uint64_t k = (uint64_t)a << 8 | plen;

	return k ? k : ~(uint64_t)0;
}

static size_t
phash(uint64_t k, size_t cap)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (size_t)k & (cap - 1);
}

static void pset_add(struct pset *s, uint64_t k);

static void
pset_grow(struct pset *s)
{
	struct pset ns = { calloc(s->cap ? s->cap * 2 : 1024, sizeof(uint64_t)),
	    s->cap ? s->cap * 2 : 1024, 0 };
	size_t i;

	if (ns.k == NULL)
		die("out of memory");
	for (i = 0; i < s->cap; i++)
		if (s->k[i])
			pset_add(&ns, s->k[i]);
	free(s->k);
	*s = ns;
}

static void
pset_add(struct pset *s, uint64_t k)
{
	size_t i;

	if ((s->n + 1) * 2 > s->cap)
		pset_grow(s);
	for (i = phash(k, s->cap); s->k[i]; i = (i + 1) & (s->cap - 1))
		if (s->k[i] == k)
			return;
	s->k[i] = k;
	s->n++;
}

static int
pset_has(const struct pset *s, uint64_t k)
{
	size_t i;

	if (s->cap == 0)
		return 0;
	for (i = phash(k, s->cap); s->k[i]; i = (i + 1) & (s->cap - 1))
		if (s->k[i] == k)
			return 1;
	return 0;
}

static void
pset_del(struct pset *s, uint64_t k)
{
	size_t i, j, mask = s->cap - 1;

	if (s->cap == 0)
		return;
	for (i = phash(k, s->cap); s->k[i]; i = (i + 1) & mask)
		if (s->k[i] == k)
			break;
	if (!s->k[i])
		return;
	s->k[i] = 0;
	s->n--;
	for (j = (i + 1) & mask; s->k[j]; j = (j + 1) & mask) {
		size_t h = phash(s->k[j], s->cap);

		if (((j - h) & mask) >= ((j - i) & mask)) {
			s->k[i] = s->k[j];
			s->k[j] = 0;
			i = j;
		}
	}
}

static void
pset_clear(struct pset *s)
{
	if (s->k)
		memset(s->k, 0, s->cap * sizeof(uint64_t));
	s->n = 0;
}

struct wns {
	const char *name;
	int ev_fd, dump_fd;
	struct pset set;
	double changed;		/* when the set last changed */
	double since;		/* when the pending wait's condition began to hold here */
	unsigned long events, overruns;
};

static unsigned w_proto = 77, w_table = 254;

static int
nl_socket_in(int groups)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = (uint32_t)groups };
	int sz = 64 << 20;

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("netlink socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	return fd;
}

/* Applies one route message to w's set; 1 when it changed the set. */
static int
route_msg(struct wns *w, const struct nlmsghdr *h, int dump)
{
	const struct rtmsg *rtm = NLMSG_DATA(h);
	const struct rtattr *rta;
	int len;
	uint32_t table, dst = 0;
	size_t before = w->set.n;

	if ((h->nlmsg_type != RTM_NEWROUTE && h->nlmsg_type != RTM_DELROUTE) ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(*rtm)) || rtm->rtm_family != AF_INET ||
	    rtm->rtm_protocol != w_proto)
		return 0;
	table = rtm->rtm_table;
	len = (int)RTM_PAYLOAD(h);
	for (rta = RTM_RTA(rtm); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == RTA_TABLE && RTA_PAYLOAD(rta) == 4)
			memcpy(&table, RTA_DATA(rta), 4);
		else if (rta->rta_type == RTA_DST && RTA_PAYLOAD(rta) == 4)
			memcpy(&dst, RTA_DATA(rta), 4);
	}
	if (table != w_table)
		return 0;
	if (h->nlmsg_type == RTM_NEWROUTE)
		pset_add(&w->set, pkey(ntohl(dst), rtm->rtm_dst_len));
	else if (!dump)
		pset_del(&w->set, pkey(ntohl(dst), rtm->rtm_dst_len));
	return w->set.n != before || h->nlmsg_type == RTM_NEWROUTE;
}

static void
dump_ns(struct wns *w)
{
	struct {
		struct nlmsghdr h;
		struct rtmsg r;
	} req;
	static uint8_t rbuf[1 << 20];
	static uint32_t seq = 1;
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };
	int done = 0;
	struct pollfd pf = { w->dump_fd, POLLIN, 0 };

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = sizeof(req);
	req.h.nlmsg_type = RTM_GETROUTE;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.h.nlmsg_seq = ++seq;
	req.r.rtm_family = AF_INET;
	pset_clear(&w->set);
	if (sendto(w->dump_fd, &req, sizeof(req), 0, (struct sockaddr *)&k, sizeof(k)) < 0)
		die("route dump: %s", strerror(errno));
	while (!done) {
		ssize_t len = recv(w->dump_fd, rbuf, sizeof(rbuf), 0);
		struct nlmsghdr *h;

		if (len < 0) {
			if (errno == EAGAIN) {
				poll(&pf, 1, 1000);
				continue;
			}
			if (errno == EINTR)
				continue;
			die("route dump: %s", strerror(errno));
		}
		for (h = (struct nlmsghdr *)rbuf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
				done = 1;
				break;
			}
			route_msg(w, h, 1);
		}
	}
	w->changed = now_s();
}

/* Reads every pending event of w; returns 1 when the set changed. */
static int
read_events(struct wns *w)
{
	enum { VLEN = 64, MSGSZ = 8192 };
	static uint8_t bufs[VLEN][MSGSZ];
	struct mmsghdr msgs[VLEN];
	struct iovec iov[VLEN];
	int changed = 0, i, n;

	for (;;) {
		for (i = 0; i < VLEN; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = MSGSZ;
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(w->ev_fd, msgs, VLEN, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				w->overruns++;
				dump_ns(w);
				changed = 1;
				continue;
			}
			break;
		}
		for (i = 0; i < n; i++) {
			size_t len = msgs[i].msg_len;
			struct nlmsghdr *h;

			for (h = (struct nlmsghdr *)bufs[i]; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
				w->events++;
				changed |= route_msg(w, h, 0);
			}
		}
		if (n < VLEN)
			break;
	}
	if (changed)
		w->changed = now_s();
	return changed;
}

enum wkind { W_NONE, W_COUNT, W_ABSENT, W_PRESENT };

struct wait {
	enum wkind kind;
	int idx;		/* -1: every namespace */
	size_t count;
	uint64_t key;
	double deadline;
};

static int
holds_one(const struct wait *q, const struct wns *w)
{
	switch (q->kind) {
	case W_COUNT: return w->set.n == q->count;
	case W_ABSENT: return !pset_has(&w->set, q->key);
	case W_PRESENT: return pset_has(&w->set, q->key);
	default: return 0;
	}
}

static int
holds(const struct wait *q, struct wns *ws, int nns, double *when)
{
	int i;

	*when = 0;
	for (i = 0; i < nns; i++) {
		if (q->idx >= 0 && i != q->idx)
			continue;
		if (!holds_one(q, &ws[i]))
			return 0;
		if (ws[i].since > *when)
			*when = ws[i].since;
	}
	return 1;
}

static void
print_counts(struct wns *ws, int nns, int unmet_only, const struct wait *q)
{
	int i, first = 1;

	printf("[");
	for (i = 0; i < nns; i++) {
		if (unmet_only && holds_one(q, &ws[i]))
			continue;
		printf("%s[%d, %zu]", first ? "" : ", ", i, ws[i].set.n);
		first = 0;
	}
	printf("]");
}

static int
cmd_watch(int argc, char **argv)
{
	int ch, nns, i, ep, self, stdin_open = 1;
	struct wns *ws;
	struct wait q = { W_NONE, 0, 0, 0, 0 };
	char linebuf[512];
	size_t linelen = 0;
	struct epoll_event ev;

	while ((ch = getopt(argc, argv, "P:T:")) != -1) {
		switch (ch) {
		case 'P': w_proto = (unsigned)atoi(optarg); break;
		case 'T': w_table = (unsigned)atoi(optarg); break;
		default: die("watch: bad option");
		}
	}
	nns = argc - optind;
	if (nns < 1)
		die("usage: hgwload watch [-P PROTO] [-T TABLE] NS...");
	if ((ws = calloc((size_t)nns, sizeof(*ws))) == NULL)
		die("out of memory");
	if ((self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0)
		die("/proc/self/ns/net: %s", strerror(errno));
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll: %s", strerror(errno));
	for (i = 0; i < nns; i++) {
		struct wns *w = &ws[i];

		w->name = argv[optind + i];
		if (strcmp(w->name, ".") != 0) {
			char path[512];
			int fd;

			snprintf(path, sizeof(path), "/run/netns/%s", w->name);
			if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
				die("%s: %s", path, strerror(errno));
			if (setns(fd, CLONE_NEWNET) < 0)
				die("setns %s: %s", w->name, strerror(errno));
			close(fd);
		}
		w->ev_fd = nl_socket_in(RTMGRP_IPV4_ROUTE);
		w->dump_fd = nl_socket_in(0);
		if (setns(self, CLONE_NEWNET) < 0)
			die("setns back: %s", strerror(errno));
		dump_ns(w);
		ev.events = EPOLLIN;
		ev.data.u32 = (uint32_t)i;
		epoll_ctl(ep, EPOLL_CTL_ADD, w->ev_fd, &ev);
	}
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	ev.events = EPOLLIN;
	ev.data.u32 = UINT32_MAX;
	epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
	printf("{\"ready\": true, \"t\": %.6f, \"counts\": ", now_s());
	print_counts(ws, nns, 0, NULL);
	printf("}\n");
	fflush(stdout);
	for (;;) {
		struct epoll_event evs[64];
		int n, j, timeout = -1;
		double now = now_s(), when;

		if (q.kind != W_NONE) {
			double left = (q.deadline - now) * 1000;

			timeout = left <= 0 ? 0 : (int)left + 1;
		}
		if (!stdin_open && q.kind == W_NONE && strchr(linebuf, '\n') == NULL)
			return 0;
		n = epoll_wait(ep, evs, 64, timeout);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (j = 0; j < n; j++) {
			int idx = (int)evs[j].data.u32;

			if (evs[j].data.u32 == UINT32_MAX) {
				ssize_t r = read(0, linebuf + linelen, sizeof(linebuf) - 1 - linelen);

				if (r == 0 || linelen + 1 >= sizeof(linebuf)) {
					stdin_open = 0;
					epoll_ctl(ep, EPOLL_CTL_DEL, 0, NULL);
				} else if (r > 0) {
					linelen += (size_t)r;
					linebuf[linelen] = '\0';
				}
				continue;
			}
			if (read_events(&ws[idx]) && q.kind != W_NONE) {
				int h = holds_one(&q, &ws[idx]);

				if (h && ws[idx].since == 0)
					ws[idx].since = ws[idx].changed;
				else if (!h)
					ws[idx].since = 0;
			}
		}
		while (q.kind == W_NONE) {
			char *nl = strchr(linebuf, '\n'), w1[32], w2[32], w3[64];
			double secs = 0;
			int nw;

			if (nl == NULL)
				break;
			*nl = '\0';
			nw = sscanf(linebuf, "%31s %31s %63s %lf", w1, w2, w3, &secs);
			if (nw >= 1 && strcmp(w1, "get") == 0) {
				printf("{\"t\": %.6f, \"counts\": ", now_s());
				print_counts(ws, nns, 0, NULL);
				printf("}\n");
			} else if (nw >= 1 && strcmp(w1, "resync") == 0) {
				for (i = 0; i < nns; i++)
					dump_ns(&ws[i]);
				printf("{\"t\": %.6f, \"counts\": ", now_s());
				print_counts(ws, nns, 0, NULL);
				printf("}\n");
			} else if (nw == 4 && (strcmp(w1, "count") == 0 ||
			    strcmp(w1, "absent") == 0 || strcmp(w1, "present") == 0)) {
				q.idx = strcmp(w2, "*") == 0 ? -1 : atoi(w2);
				if (w1[0] == 'c') {
					q.kind = W_COUNT;
					q.count = strtoul(w3, NULL, 10);
				} else {
					struct hgw_prefix p;
					const char *why;

					if (hgw_prefix_parse(w3, &p, &why) < 0 || p.family != AF_INET) {
						printf("{\"error\": \"bad prefix %s\"}\n", w3);
						goto next;
					}
					q.kind = w1[0] == 'a' ? W_ABSENT : W_PRESENT;
					q.key = pkey((uint32_t)p.bytes[0] << 24 |
					    (uint32_t)p.bytes[1] << 16 | (uint32_t)p.bytes[2] << 8 |
					    p.bytes[3], p.plen);
				}
				/* Holding already: since its last change. */
				for (i = 0; i < nns; i++)
					ws[i].since = holds_one(&q, &ws[i]) ? ws[i].changed : 0;
				q.deadline = now_s() + secs;
				printf("{\"armed\": true, \"t\": %.6f}\n", now_s());
			} else if (linebuf[0] != '\0') {
				printf("{\"error\": \"unknown command\"}\n");
			}
next:
			fflush(stdout);
			linelen -= (size_t)(nl + 1 - linebuf);
			memmove(linebuf, nl + 1, linelen + 1);
		}
		if (q.kind != W_NONE) {
			now = now_s();
			if (holds(&q, ws, nns, &when)) {
				unsigned long evsum = 0, ovsum = 0;

				for (i = 0; i < nns; i++) {
					evsum += ws[i].events;
					ovsum += ws[i].overruns;
				}
				printf("{\"ok\": true, \"t\": %.6f, \"now\": %.6f, \"events\": %lu, "
				    "\"overruns\": %lu}\n", when, now, evsum, ovsum);
				fflush(stdout);
				q.kind = W_NONE;
			} else if (now >= q.deadline) {
				printf("{\"ok\": false, \"t\": %.6f, \"unmet\": ", now);
				print_counts(ws, nns, 1, &q);
				printf("}\n");
				fflush(stdout);
				q.kind = W_NONE;
			}
		}
	}
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: hgwload peer|multi|watch ...");
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	if (strcmp(argv[1], "peer") == 0)
		return cmd_peer(argc - 1, argv + 1);
	if (strcmp(argv[1], "multi") == 0)
		return cmd_multi(argc - 1, argv + 1);
	if (strcmp(argv[1], "watch") == 0)
		return cmd_watch(argc - 1, argv + 1);
	die("unknown mode %s", argv[1]);
	return 2;
}
