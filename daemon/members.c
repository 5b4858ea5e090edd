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

#include "cmd.h"
#include "ctl.h"
#include "hgwd.h"
#include "kernel.h"
#include "log.h"
#include "peer.h"

#define BEACON_GROUP	"239.255.71.79"	/* organization-local scope, TTL 1 */
#define BEACON_MAGIC	"HGW1"
#define BEACON_EVERY_MS	2000

struct members {
	int fd;
	struct event *rx_ev, *tx_ev;
	uint64_t beacons_in, beacons_out;
};

/* A silent learned member is dialled for `timers giveup` (30 s by
 * default), but never for less than three hold times. */
uint32_t
members_giveup_ms(const struct hgwd *d)
{
	uint32_t t = d->cfg.hold_ms * 3;

	return t > d->cfg.giveup_ms ? t : d->cfg.giveup_ms;
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

void
members_peer_up(struct hgwd *d, struct peer *p)
{
	struct hgw_member m, *all = NULL;
	size_t n = 0, cap = 0;
	struct peer *q;

	/* Only nodes that speak MEMBERS are members: a scripted client or a
	 * load generator is never advertised to the cluster. */
	member_of(p, HGW_MEMBER_UP, &m);
	TAILQ_FOREACH(q, &d->peers, entry) {
		if (q == p || q->est == NULL)
			continue;
		if (peer_has_cap(p, HGW_CAP_MEMBERS))
			send_to(q, &m, 1);
		if (peer_has_cap(q, HGW_CAP_MEMBERS) &&
		    grow_array((void **)&all, &cap, n + 1, sizeof(*all)) == 0)
			member_of(q, HGW_MEMBER_UP, &all[n++]);
	}
	send_to(p, all, n);
	free(all);
}

void
members_peer_down(struct hgwd *d, struct peer *p)
{
	struct hgw_member m;
	struct peer *q;

	if (p->node_id == 0 || !p->member)
		return;
	member_of(p, HGW_MEMBER_DOWN, &m);
	TAILQ_FOREACH(q, &d->peers, entry)
		if (q != p && q->est != NULL)
			send_to(q, &m, 1);
}

static void
learn(struct hgwd *d, const struct hgw_addr *a, uint16_t port, uint32_t node_id,
    const char *how)
{
	char ab[HGW_ADDRSTRLEN];

	if (node_id == d->node_id || hgw_addr_cmp(a, &d->addr4) == 0 ||
	    hgw_addr_cmp(a, &d->addr6) == 0)
		return;
	if (!peers_on_lan(d, a)) {	/* only inside the LAN (or the allow list) */
		log_debug(LOG_CAT_PEER, "member %s (%s) is outside the LAN subnet: not dialled",
		    hgw_addr_fmt(a, ab, sizeof(ab)), how);
		return;
	}
	peer_learn(d, a, port, node_id, how);
}

int
members_rx(struct hgwd *d, struct peer *from, const uint8_t *body, size_t len)
{
	struct hgw_member m;
	size_t off = 0;
	char how[64];

	snprintf(how, sizeof(how), "from peer %s", from->name);
	while (hgw_members_next(body, len, &off, &m)) {
		if (m.op == HGW_MEMBER_UP)
			learn(d, &m.addr, m.port, m.node_id, how);
		/* "down" needs nothing: we watch our own session with it, and a
		 * member we cannot reach is given up after a bounded time. */
	}
	return 0;
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
members_start(struct hgwd *d)
{
	struct members *M = d->members;
	struct sockaddr_in sin;
	struct ip_mreqn mreq;
	int one = 1, ttl = 1, loop = 0;
	struct timeval tv = { BEACON_EVERY_MS / 1000, (BEACON_EVERY_MS % 1000) * 1000 };

	if (M == NULL) {
		if ((M = calloc(1, sizeof(*M))) == NULL)
			return -1;
		M->fd = -1;
		d->members = M;
	}
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
members_config_changed(struct hgwd *d)
{
	if (!d->cfg.discovery)
		members_stop(d);
	else
		members_start(d);
}

/* show members */

static const char *
member_state(const struct peer *p)
{
	if (p->est != NULL)
		return "alive";
	if (p->configured)
		return "dialling (seed)";
	return "dialling";
}

int
cmd_show_members(struct cmd_ctx *x, const struct cmd_args *a)
{
	struct hgwd *d = x->d;
	struct peer *p;
	char nb[16], ab[HGW_ADDRSTRLEN];
	uint64_t now = now_ms();
	int n = 1;

	if (cmd_arg(a, "json")) {
		json_object *o = json_object_new_object(), *arr = json_object_new_array(), *me;

		me = json_object_new_object();
		json_object_object_add(me, "nodeId", json_object_new_string(
		    hgw_nodeid_fmt(d->node_id, nb, sizeof(nb))));
		json_object_object_add(me, "address", json_object_new_string(
		    hgw_addr_fmt(d->addr4.family ? &d->addr4 : &d->addr6, ab, sizeof(ab))));
		json_object_object_add(me, "port", json_object_new_int(d->listen_port));
		json_object_object_add(me, "state", json_object_new_string("self"));
		json_object_object_add(me, "source", json_object_new_string("self"));
		json_object_array_add(arr, me);
		TAILQ_FOREACH(p, &d->peers, entry) {
			json_object *m;

			if (!p->configured && !p->learned && !peer_has_cap(p, HGW_CAP_MEMBERS))
				continue;
			m = json_object_new_object();
			json_object_object_add(m, "nodeId", p->node_id ? json_object_new_string(
			    hgw_nodeid_fmt(p->node_id, nb, sizeof(nb))) : NULL);
			json_object_object_add(m, "address", json_object_new_string(p->name));
			json_object_object_add(m, "port", json_object_new_int(p->remote_port ?
			    p->remote_port : p->port));
			json_object_object_add(m, "state", json_object_new_string(member_state(p)));
			json_object_object_add(m, "source", json_object_new_string(p->configured ?
			    "config" : p->learned_how[0] ? p->learned_how : "dialled us"));
			json_object_object_add(m, "giveUpInMs", p->est == NULL && p->learned &&
			    p->giveup_at_ms > now ? json_object_new_int64((int64_t)(p->giveup_at_ms - now)) : NULL);
			json_object_array_add(arr, m);
		}
		json_object_object_add(o, "members", arr);
		json_object_object_add(o, "discovery", json_object_new_boolean(d->cfg.discovery));
		ctl_json(x->c, o);
		return CTL_OK;
	}
	ctl_printf(x->c, "%-15s %-24s %-6s %-16s %s", "Node id", "Address", "Port", "State", "Source");
	ctl_printf(x->c, "%-15s %-24s %-6u %-16s %s", hgw_nodeid_fmt(d->node_id, nb, sizeof(nb)),
	    hgw_addr_fmt(d->addr4.family ? &d->addr4 : &d->addr6, ab, sizeof(ab)), d->listen_port,
	    "self", "-");
	TAILQ_FOREACH(p, &d->peers, entry) {
		if (!p->configured && !p->learned && !peer_has_cap(p, HGW_CAP_MEMBERS))
			continue;
		ctl_printf(x->c, "%-15s %-24s %-6u %-16s %s", p->node_id ?
		    hgw_nodeid_fmt(p->node_id, nb, sizeof(nb)) : "-", p->name,
		    p->remote_port ? p->remote_port : p->port, member_state(p),
		    p->configured ? "config" : p->learned_how[0] ? p->learned_how : "dialled us");
		n++;
	}
	ctl_printf(x->c, "Total: %d member%s%s", n, n == 1 ? "" : "s",
	    d->cfg.discovery ? "; discovery by multicast beacon is on" : "");
	return CTL_OK;
}
