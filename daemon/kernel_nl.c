/* kernel_nl.c: the kernel interface over netlink: libnl sockets, libnl-route-3
 * link and address state, and a batched route writer (many requests per
 * sendmsg, one ack per batch) for the hot path. */
#include "kernel.h"

#include <errno.h>
#include <event2/event.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/neighbour.h>
#include <netlink/socket.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

#define BATCH_MSGS	1024		/* requests per sendmsg */
#define SEND_BUF	(BATCH_MSGS * 96)
#define RECV_BUF	(256 * 1024)
#define SOCK_BUF	(8 * 1024 * 1024)
#define MON_SOCK_BUF	(32 * 1024 * 1024)
#define KERNEL_MAX_SUBNETS 32

struct kernel {
	struct kernel_params p;
	struct kernel_cb cb;
	struct event_base *base;
	struct nl_sock *cmd;		/* requests, dumps, libnl queries */
	struct nl_sock *mon;		/* multicast events */
	struct event *mon_ev;
	struct nl_cache *addrs;		/* every address of the host */
	int ifindex;
	unsigned ifflags;
	unsigned mtu;
	struct hgw_prefix subnets[KERNEL_MAX_SUBNETS];
	int nsubnets;
	uint32_t seq;
	int route_oif;			/* of the route being reported (kernel_route_oif) */
	uint8_t *sbuf, *rbuf;
	struct kernel_stats stats;
};

static void mon_read(evutil_socket_t fd, short what, void *arg);
static void compute_subnets(struct kernel *k);

static void
set_bufs(struct nl_sock *sk, int size)
{
	int fd = nl_socket_get_fd(sk);

	/* FORCE needs CAP_NET_ADMIN; fall back to what the limits allow. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

/* The kernel tells every listener about every route change, ours included.
 * A socket filter drops route messages caused by our own command socket:
 * its acks already say what happened. Only others' changes get through. */
static int
drop_own_echoes(struct kernel *k)
{
	uint32_t pid = nl_socket_get_local_port(k->cmd);
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, offsetof(struct nlmsghdr, nlmsg_type)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htons(RTM_NEWROUTE), 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htons(RTM_DELROUTE), 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct nlmsghdr, nlmsg_pid)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htonl(pid), 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
	};
	struct sock_fprog prog = { sizeof(code) / sizeof(code[0]), code };

	/* BPF loads are big-endian, netlink headers host order: compare
	 * against the constants as they read back (htons/htonl of them). */
	return setsockopt(nl_socket_get_fd(k->mon), SOL_SOCKET, SO_ATTACH_FILTER, &prog,
	    sizeof(prog));
}

struct kernel *
kernel_open(struct event_base *base, const struct kernel_params *p,
    const struct kernel_cb *cb)
{
	struct kernel *k;
	int one = 1;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	k->p = *p;
	k->cb = *cb;
	k->base = base;
	k->seq = (uint32_t)time(NULL);
	k->sbuf = malloc(SEND_BUF);
	k->rbuf = malloc(RECV_BUF);
	k->cmd = nl_socket_alloc();
	k->mon = nl_socket_alloc();
	if (k->sbuf == NULL || k->rbuf == NULL || k->cmd == NULL || k->mon == NULL)
		goto fail;
	if (nl_connect(k->cmd, NETLINK_ROUTE) < 0 || nl_connect(k->mon, NETLINK_ROUTE) < 0) {
		log_err("kernel: cannot open a netlink socket");
		goto fail;
	}
	set_bufs(k->cmd, SOCK_BUF);
	set_bufs(k->mon, MON_SOCK_BUF);
	setsockopt(nl_socket_get_fd(k->cmd), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	nl_socket_disable_seq_check(k->mon);
	if (drop_own_echoes(k) < 0)
		log_warn("kernel: cannot filter our own route echoes (they cost CPU, nothing else)");
	if (nl_socket_add_memberships(k->mon, RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR,
	    RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, 0) < 0) {
		log_warnx("kernel: cannot join netlink groups");
		goto fail;
	}
	nl_socket_set_nonblocking(k->mon);
	k->mon_ev = event_new(base, nl_socket_get_fd(k->mon), EV_READ | EV_PERSIST,
	    mon_read, k);
	if (k->mon_ev == NULL || event_add(k->mon_ev, NULL) < 0)
		goto fail;
	if (rtnl_addr_alloc_cache(k->cmd, &k->addrs) < 0) {
		log_warnx("kernel: cannot read interface addresses");
		goto fail;
	}
	kernel_refresh_link(k);
	return k;
fail:
	kernel_close(k);
	return NULL;
}

void
kernel_close(struct kernel *k)
{
	if (k == NULL)
		return;
	if (k->mon_ev)
		event_free(k->mon_ev);
	if (k->addrs)
		nl_cache_free(k->addrs);
	if (k->cmd)
		nl_socket_free(k->cmd);
	if (k->mon)
		nl_socket_free(k->mon);
	free(k->sbuf);
	free(k->rbuf);
	free(k);
}

void
kernel_set_params(struct kernel *k, const struct kernel_params *p)
{
	int newif = strcmp(p->ifname, k->p.ifname) != 0;

	k->p = *p;
	if (newif)
		kernel_refresh_link(k);
}

const struct kernel_params *
kernel_params(const struct kernel *k)
{
	return &k->p;
}

const struct kernel_stats *
kernel_stats(const struct kernel *k)
{
	return &k->stats;
}

int
kernel_refresh_link(struct kernel *k)
{
	struct rtnl_link *link = NULL;

	if (rtnl_link_get_kernel(k->cmd, 0, k->p.ifname, &link) < 0 || link == NULL) {
		k->ifindex = 0;
		k->ifflags = 0;
		k->nsubnets = 0;
		return -1;
	}
	k->ifindex = rtnl_link_get_ifindex(link);
	k->ifflags = rtnl_link_get_flags(link);
	k->mtu = rtnl_link_get_mtu(link);
	rtnl_link_put(link);
	if (k->addrs != NULL)
		compute_subnets(k);
	return 0;
}

static void
refresh_addrs(struct kernel *k)
{
	if (nl_cache_refill(k->cmd, k->addrs) < 0)
		log_warnx("kernel: cannot re-read interface addresses");
	compute_subnets(k);
}

int
kernel_ifindex(const struct kernel *k)
{
	return k->ifindex;
}

unsigned
kernel_if_mtu(const struct kernel *k)
{
	return k->mtu;
}

int
kernel_if_up(const struct kernel *k)
{
	return k->ifindex != 0 && (k->ifflags & IFF_UP);
}

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP	0x10000		/* linux/if.h: the driver signals carrier */
#endif

int
kernel_if_carrier(const struct kernel *k)
{
	return k->ifindex != 0 && (k->ifflags & IFF_LOWER_UP);
}

static int
nladdr_to(struct nl_addr *na, struct hgw_addr *out)
{
	int fam;

	if (na == NULL)
		return -1;
	fam = nl_addr_get_family(na);
	if (hgw_family_len(fam) == 0 || nl_addr_get_len(na) != (unsigned)hgw_family_len(fam))
		return -1;
	memset(out, 0, sizeof(*out));
	out->family = (uint8_t)fam;
	memcpy(out->bytes, nl_addr_get_binary_addr(na), hgw_family_len(fam));
	return 0;
}

int
kernel_if_addr(const struct kernel *k, int family, struct hgw_addr *out)
{
	struct nl_object *o;
	int found = 0;

	if (k->ifindex == 0)
		return -1;
	for (o = nl_cache_get_first(k->addrs); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		unsigned flags = rtnl_addr_get_flags(a);
		struct hgw_addr cand;

		if (rtnl_addr_get_ifindex(a) != k->ifindex ||
		    rtnl_addr_get_family(a) != family ||
		    nladdr_to(rtnl_addr_get_local(a), &cand) < 0)
			continue;
		if (family == AF_INET && (flags & IFA_F_SECONDARY))
			continue;
		if (family == AF_INET6 && (rtnl_addr_get_scope(a) != RT_SCOPE_UNIVERSE ||
		    (flags & (IFA_F_TEMPORARY | IFA_F_DEPRECATED | IFA_F_TENTATIVE |
		    IFA_F_DADFAILED))))
			continue;
		if (!found || hgw_addr_cmp(&cand, out) < 0)
			*out = cand;
		found = 1;
	}
	return found ? 0 : -1;
}

/* The LAN interface's connected subnets, recomputed when addresses change:
 * policy checks read them for every announced prefix. */
static void
compute_subnets(struct kernel *k)
{
	struct nl_object *o;

	k->nsubnets = 0;
	for (o = nl_cache_get_first(k->addrs); o && k->nsubnets < KERNEL_MAX_SUBNETS;
	    o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		struct hgw_addr local;
		struct hgw_prefix *p = &k->subnets[k->nsubnets];

		if (k->ifindex == 0 || rtnl_addr_get_ifindex(a) != k->ifindex ||
		    nladdr_to(rtnl_addr_get_local(a), &local) < 0)
			continue;
		p->family = local.family;
		p->plen = (uint8_t)rtnl_addr_get_prefixlen(a);
		memcpy(p->bytes, local.bytes, sizeof(local.bytes));
		hgw_prefix_mask(p);
		k->nsubnets++;
	}
}

int
kernel_if_subnets(const struct kernel *k, struct hgw_prefix *out, int max)
{
	int n = k->nsubnets < max ? k->nsubnets : max;

	memcpy(out, k->subnets, (size_t)n * sizeof(*out));
	return n;
}

int
kernel_onlink(const struct kernel *k, const struct hgw_addr *gw)
{
	int i;

	if (!kernel_if_up(k))
		return 0;
	if (gw->family == AF_INET6 && gw->bytes[0] == 0xfe && (gw->bytes[1] & 0xc0) == 0x80)
		return 1;	/* link-local: on-link by definition */
	for (i = 0; i < k->nsubnets; i++)
		if (hgw_prefix_contains_addr(&k->subnets[i], gw))
			return 1;
	return 0;
}

int
kernel_if_has(const struct kernel *k, const struct hgw_addr *a)
{
	struct nl_object *o;

	for (o = nl_cache_get_first(k->addrs); o; o = nl_cache_get_next(o)) {
		struct hgw_addr local;

		if (k->ifindex != 0 && rtnl_addr_get_ifindex((struct rtnl_addr *)o) == k->ifindex &&
		    nladdr_to(rtnl_addr_get_local((struct rtnl_addr *)o), &local) == 0 &&
		    hgw_addr_cmp(&local, a) == 0)
			return 1;
	}
	return 0;
}

int
kernel_is_local(const struct kernel *k, const struct hgw_addr *a)
{
	struct nl_object *o;

	for (o = nl_cache_get_first(k->addrs); o; o = nl_cache_get_next(o)) {
		struct hgw_addr local;

		if (nladdr_to(rtnl_addr_get_local((struct rtnl_addr *)o), &local) == 0 &&
		    hgw_addr_cmp(&local, a) == 0)
			return 1;
	}
	return 0;
}

int
kernel_same_lladdr(struct kernel *k, const struct hgw_addr *a, const struct hgw_addr *b)
{
	struct nl_cache *cache = NULL;
	struct nl_addr *ll[2] = { NULL, NULL };
	const struct hgw_addr *ab[2] = { a, b };
	int i, r = -1;

	if (k->ifindex <= 0 || rtnl_neigh_alloc_cache(k->cmd, &cache) < 0)
		return -1;
	for (i = 0; i < 2; i++) {
		struct nl_addr *dst = nl_addr_build(ab[i]->family, ab[i]->bytes,
		    ab[i]->family == AF_INET ? 4 : 16);
		struct rtnl_neigh *n = dst != NULL ? rtnl_neigh_get(cache, k->ifindex, dst) : NULL;

		nl_addr_put(dst);
		if (n != NULL) {
			if (rtnl_neigh_get_lladdr(n) != NULL &&
			    !(rtnl_neigh_get_state(n) & (NUD_FAILED | NUD_INCOMPLETE)))
				ll[i] = nl_addr_clone(rtnl_neigh_get_lladdr(n));
			rtnl_neigh_put(n);
		}
	}
	if (ll[0] != NULL && ll[1] != NULL)
		r = nl_addr_cmp(ll[0], ll[1]) == 0;
	nl_addr_put(ll[0]);
	nl_addr_put(ll[1]);
	nl_cache_free(cache);
	return r;
}

/* Neighbours: an outage of our link flushes them with the carrier; a packet
 * sent during it leaves an INCOMPLETE entry whose probes are lost, and the
 * next one comes only at its retrans_time timer (1 s) after the link is back,
 * everything sent meanwhile queued behind it. A fresh entry solicits at once. */
static int
neigh_solicit_one(struct kernel *k, struct nl_cache *cache, const struct hgw_addr *a)
{
	struct nl_addr *dst = nl_addr_build(a->family, a->bytes, a->family == AF_INET ? 4 : 16);
	struct rtnl_neigh *old, *nn = NULL;
	int r = -1, err;

	if (dst == NULL)
		return -1;
	if ((old = rtnl_neigh_get(cache, k->ifindex, dst)) != NULL) {
		int st = rtnl_neigh_get_state(old);

		if (!(st & (NUD_INCOMPLETE | NUD_FAILED)) || (st & NUD_PERMANENT)) {
			r = 0;		/* resolved (or being verified): leave it */
			goto out;
		}
		if ((err = rtnl_neigh_delete(k->cmd, old, 0)) < 0 && err != -NLE_OBJ_NOTFOUND)
			goto out;
	}
	if ((nn = rtnl_neigh_alloc()) == NULL)
		goto out;
	rtnl_neigh_set_ifindex(nn, k->ifindex);
	rtnl_neigh_set_family(nn, a->family);
	if (rtnl_neigh_set_dst(nn, dst) < 0)
		goto out;
	rtnl_neigh_set_state(nn, NUD_NONE);	/* not libnl's default, PERMANENT */
	rtnl_neigh_set_flags(nn, NTF_USE);	/* create it and solicit now */
	if (rtnl_neigh_add(k->cmd, nn, NLM_F_CREATE) < 0)
		goto out;
	r = 1;
out:
	rtnl_neigh_put(old);
	rtnl_neigh_put(nn);
	nl_addr_put(dst);
	return r;
}

int
kernel_neigh_solicit(struct kernel *k, const struct hgw_addr *a, size_t n)
{
	struct nl_cache *cache = NULL;
	size_t i;
	int done = 0, failed = 0;

	if (k->ifindex <= 0 || rtnl_neigh_alloc_cache(k->cmd, &cache) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		int r;

		if ((a[i].family != AF_INET && a[i].family != AF_INET6) || !kernel_onlink(k, &a[i]))
			continue;
		if ((r = neigh_solicit_one(k, cache, &a[i])) < 0)
			failed++;
		else
			done += r;
	}
	nl_cache_free(cache);
	if (failed > 0)
		log_warnx("kernel: cannot solicit %d neighbour%s", failed, failed == 1 ? "" : "s");
	return failed > 0 && done == 0 ? -1 : done;
}

/* Route messages. */

static void
put_attr(uint8_t *msg, size_t *off, int type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)(msg + *off);

	rta->rta_type = (unsigned short)type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	memset((uint8_t *)RTA_DATA(rta) + len, 0, RTA_ALIGN(rta->rta_len) - rta->rta_len);
	*off += RTA_ALIGN(rta->rta_len);
}

/* Encodes one request at buf; returns its length. */
static size_t
encode_route(struct kernel *k, uint8_t *buf, const struct kernel_op *op, uint32_t seq,
    int ack)
{
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct rtmsg *rtm;
	size_t off = NLMSG_LENGTH(sizeof(*rtm));
	int alen = hgw_family_len(op->pfx.family);
	uint32_t oif = (uint32_t)(op->oif ? op->oif : k->ifindex);

	memset(buf, 0, off);
	h->nlmsg_type = op->del ? RTM_DELROUTE : RTM_NEWROUTE;
	h->nlmsg_flags = NLM_F_REQUEST | (ack ? NLM_F_ACK : 0) |
	    (op->del ? 0 : NLM_F_CREATE | NLM_F_REPLACE);
	h->nlmsg_seq = seq;
	rtm = NLMSG_DATA(h);
	rtm->rtm_family = op->pfx.family;
	rtm->rtm_dst_len = op->pfx.plen;
	rtm->rtm_table = k->p.table < 256 ? (uint8_t)k->p.table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = k->p.proto;
	rtm->rtm_scope = op->del ? RT_SCOPE_NOWHERE : RT_SCOPE_UNIVERSE;
	rtm->rtm_type = op->del ? RTN_UNSPEC : RTN_UNICAST;
	if (op->onlink && !op->del)
		rtm->rtm_flags |= RTNH_F_ONLINK;
	put_attr(buf, &off, RTA_TABLE, &k->p.table, 4);
	put_attr(buf, &off, RTA_DST, op->pfx.bytes, alen);
	if (op->gw.family == op->pfx.family)
		put_attr(buf, &off, RTA_GATEWAY, op->gw.bytes, alen);
	if (oif != 0)
		put_attr(buf, &off, RTA_OIF, &oif, 4);
	put_attr(buf, &off, RTA_PRIORITY, &k->p.metric, 4);
	h->nlmsg_len = (uint32_t)off;
	return off;
}

/* Reads replies until the ack of last_seq; errors land in their op. */
static int
collect_acks(struct kernel *k, struct kernel_op *ops, size_t n, uint32_t seq0,
    uint32_t last_seq)
{
	int fd = nl_socket_get_fd(k->cmd);

	for (;;) {
		ssize_t len = recv(fd, k->rbuf, RECV_BUF, 0);
		struct nlmsghdr *h;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			log_warn("kernel: reading netlink acks");
			return -1;
		}
		for (h = (struct nlmsghdr *)k->rbuf; NLMSG_OK(h, (size_t)len);
		    h = NLMSG_NEXT(h, len)) {
			struct nlmsgerr *e;
			uint32_t i = h->nlmsg_seq - seq0;

			if (h->nlmsg_type != NLMSG_ERROR)
				continue;
			e = NLMSG_DATA(h);
			if (i < n && e->error != 0) {
				ops[i].err = -e->error;
				k->stats.errors++;
			}
			if (h->nlmsg_seq == last_seq)
				return 0;
		}
	}
}

int
kernel_apply(struct kernel *k, struct kernel_op *ops, size_t n)
{
	size_t done = 0;

	while (done < n) {
		size_t cnt = 0, off = 0;
		uint32_t seq0 = k->seq;

		while (done + cnt < n && cnt < BATCH_MSGS) {
			struct kernel_op *op = &ops[done + cnt];
			int last = done + cnt + 1 == n || cnt + 1 == BATCH_MSGS;

			op->err = 0;
			off += encode_route(k, k->sbuf + off, op, k->seq++, last);
			cnt++;
		}
		for (;;) {
			if (nl_sendto(k->cmd, k->sbuf, off) >= 0)
				break;
			if (errno != EINTR) {
				log_warn("kernel: netlink send of %zu routes", cnt);
				for (; cnt > 0; cnt--)
					ops[done + cnt - 1].err = EIO;
				return -1;
			}
		}
		if (collect_acks(k, ops + done, cnt, seq0, seq0 + (uint32_t)cnt - 1) < 0)
			return -1;
		k->stats.batches++;
		k->stats.ops += cnt;
		done += cnt;
	}
	return 0;
}

struct parsed_route {
	struct hgw_prefix pfx;
	struct hgw_addr gw;
	uint32_t table, metric, oif;
	uint8_t proto;
};

static int
parse_route(const struct nlmsghdr *h, struct parsed_route *r)
{
	const struct rtmsg *rtm = NLMSG_DATA(h);
	const struct rtattr *rta;
	int len, alen;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*rtm)))
		return -1;
	alen = hgw_family_len(rtm->rtm_family);
	if (alen == 0 || rtm->rtm_dst_len > alen * 8)
		return -1;
	memset(r, 0, sizeof(*r));
	r->pfx.family = rtm->rtm_family;
	r->pfx.plen = rtm->rtm_dst_len;
	r->table = rtm->rtm_table;
	r->proto = rtm->rtm_protocol;
	len = (int)RTM_PAYLOAD(h);
	for (rta = RTM_RTA(rtm); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		size_t plen = RTA_PAYLOAD(rta);

		switch (rta->rta_type) {
		case RTA_TABLE:
			if (plen == 4)
				memcpy(&r->table, RTA_DATA(rta), 4);
			break;
		case RTA_PRIORITY:
			if (plen == 4)
				memcpy(&r->metric, RTA_DATA(rta), 4);
			break;
		case RTA_OIF:
			if (plen == 4)
				memcpy(&r->oif, RTA_DATA(rta), 4);
			break;
		case RTA_DST:
			if (plen == (size_t)alen)
				memcpy(r->pfx.bytes, RTA_DATA(rta), alen);
			break;
		case RTA_GATEWAY:
			if (plen == (size_t)alen) {
				r->gw.family = rtm->rtm_family;
				memcpy(r->gw.bytes, RTA_DATA(rta), alen);
			}
			break;
		}
	}
	return 0;
}

static int
ours(const struct kernel *k, const struct parsed_route *r)
{
	return r->proto == k->p.proto && r->table == k->p.table;
}

int
kernel_dump(struct kernel *k, void (*fn)(void *arg, const struct hgw_prefix *p,
    const struct hgw_addr *gw, uint32_t metric), void *arg)
{
	static const int fams[] = { AF_INET, AF_INET6 };
	int fd = nl_socket_get_fd(k->cmd);
	size_t f;

	for (f = 0; f < 2; f++) {
		struct {
			struct nlmsghdr h;
			struct rtmsg r;
		} req;
		uint32_t seq = k->seq++;
		int done = 0;

		memset(&req, 0, sizeof(req));
		req.h.nlmsg_len = sizeof(req);
		req.h.nlmsg_type = RTM_GETROUTE;
		req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		req.h.nlmsg_seq = seq;
		req.r.rtm_family = (uint8_t)fams[f];
		if (nl_sendto(k->cmd, &req, sizeof(req)) < 0) {
			log_warn("kernel: route dump request");
			return -1;
		}
		while (!done) {
			ssize_t len = recv(fd, k->rbuf, RECV_BUF, 0);
			struct nlmsghdr *h;

			if (len < 0) {
				if (errno == EINTR)
					continue;
				log_warn("kernel: reading route dump");
				return -1;
			}
			for (h = (struct nlmsghdr *)k->rbuf; NLMSG_OK(h, (size_t)len);
			    h = NLMSG_NEXT(h, len)) {
				struct parsed_route r;

				if (h->nlmsg_seq != seq)
					continue;
				if (h->nlmsg_type == NLMSG_DONE) {
					done = 1;
					break;
				}
				if (h->nlmsg_type == NLMSG_ERROR) {
					log_warnx("kernel: route dump refused");
					return -1;
				}
				if (h->nlmsg_type == RTM_NEWROUTE &&
				    parse_route(h, &r) == 0 && ours(k, &r)) {
					k->route_oif = (int)r.oif;
					fn(arg, &r.pfx, &r.gw, r.metric);
					k->route_oif = 0;
				}
			}
		}
	}
	return 0;
}

int
kernel_route_oif(const struct kernel *k)
{
	return k->route_oif;
}

static int
is_our_link(struct kernel *k, const struct nlmsghdr *h)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	const struct rtattr *rta;
	int len;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return 0;
	if (k->ifindex != 0 && ifi->ifi_index == k->ifindex)
		return 1;
	len = (int)IFLA_PAYLOAD(h);
	for (rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type == IFLA_IFNAME &&
		    strncmp(RTA_DATA(rta), k->p.ifname, RTA_PAYLOAD(rta)) == 0)
			return 1;
	return 0;
}

static void
dispatch(struct kernel *k, const struct nlmsghdr *h)
{
	struct parsed_route r;

	k->stats.events++;
	switch (h->nlmsg_type) {
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		if (parse_route(h, &r) == 0 && ours(k, &r) && k->cb.route) {
			k->route_oif = (int)r.oif;
			k->cb.route(k->cb.arg, h->nlmsg_type == RTM_NEWROUTE, &r.pfx,
			    &r.gw, r.metric);
			k->route_oif = 0;
		}
		break;
	case RTM_NEWLINK:
	case RTM_DELLINK:
		if (is_our_link(k, h)) {
			unsigned old_flags = k->ifflags;
			int old_index = k->ifindex;

			kernel_refresh_link(k);
			if ((old_flags ^ k->ifflags) & (IFF_UP | IFF_RUNNING | IFF_LOWER_UP) ||
			    old_index != k->ifindex) {
				/* The admin flag and the carrier are told apart:
				 * "up" only when both are. */
				log_notice("kernel: interface %s is %s", k->p.ifname,
				    k->ifindex == 0 ? "gone" :
				    !(k->ifflags & IFF_UP) ? "down" :
				    !(k->ifflags & IFF_LOWER_UP) ? "up, carrier lost" :
				    "up, carrier back");
				if (k->cb.link)
					k->cb.link(k->cb.arg, 1);
			}
		}
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR: {
		const struct ifaddrmsg *ifa = NLMSG_DATA(h);

		/* Every address counts for kernel_is_local; only the LAN
		 * interface's change what is on-link and what we advertise. */
		struct hgw_prefix before[KERNEL_MAX_SUBNETS];
		int nbefore = k->nsubnets;

		memcpy(before, k->subnets, sizeof(before));
		refresh_addrs(k);
		if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(*ifa)) &&
		    (int)ifa->ifa_index == k->ifindex && k->cb.link)
			k->cb.link(k->cb.arg, nbefore != k->nsubnets ||
			    memcmp(before, k->subnets, (size_t)nbefore * sizeof(before[0])) != 0);
		break;
	}
	}
}

void
kernel_poll(struct kernel *k)
{
	int fd = nl_socket_get_fd(k->mon);

	for (;;) {
		ssize_t len = recv(fd, k->rbuf, RECV_BUF, MSG_DONTWAIT);
		struct nlmsghdr *h;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				k->stats.overruns++;
				log_warnx("kernel: netlink events lost (socket overrun); resyncing");
				refresh_addrs(k);
				kernel_refresh_link(k);
				if (k->cb.overrun)
					k->cb.overrun(k->cb.arg);
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("kernel: reading netlink events");
			return;
		}
		if (len == 0)
			return;
		for (h = (struct nlmsghdr *)k->rbuf; NLMSG_OK(h, (size_t)len);
		    h = NLMSG_NEXT(h, len))
			dispatch(k, h);
	}
}

static void
mon_read(evutil_socket_t fd, short what, void *arg)
{
	kernel_poll(arg);
}

/* route lookups for "interface auto". A short-lived socket of its
 * own: it runs before kernel_open and must not mix with the batched writer. */

static int
route_oif(const struct nlmsghdr *h, int want_default, uint32_t *oif, uint32_t *metric)
{
	const struct rtmsg *rtm = NLMSG_DATA(h);
	const struct rtattr *rta;
	uint32_t table;
	int len;

	if (h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_len < NLMSG_LENGTH(sizeof(*rtm)))
		return -1;
	if (want_default && (rtm->rtm_dst_len != 0 || rtm->rtm_type != RTN_UNICAST))
		return -1;
	table = rtm->rtm_table;
	*oif = 0;
	*metric = 0;
	len = (int)RTM_PAYLOAD(h);
	for (rta = RTM_RTA(rtm); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == RTA_OIF && RTA_PAYLOAD(rta) >= 4)
			memcpy(oif, RTA_DATA(rta), 4);
		else if (rta->rta_type == RTA_PRIORITY && RTA_PAYLOAD(rta) >= 4)
			memcpy(metric, RTA_DATA(rta), 4);
		else if (rta->rta_type == RTA_TABLE && RTA_PAYLOAD(rta) >= 4)
			memcpy(&table, RTA_DATA(rta), 4);
		else if (rta->rta_type == RTA_MULTIPATH && *oif == 0 &&
		    RTA_PAYLOAD(rta) >= sizeof(struct rtnexthop)) {
			const struct rtnexthop *nh = RTA_DATA(rta);

			*oif = (uint32_t)nh->rtnh_ifindex;
		}
	}
	if (want_default && table != RT_TABLE_MAIN)
		return -1;
	return *oif ? 0 : -1;
}

static int
route_query(int family, const struct hgw_addr *dst, uint32_t *best_oif)
{
	struct {
		struct nlmsghdr h;
		struct rtmsg r;
		uint8_t attr[RTA_SPACE(16)];
	} req;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	uint8_t buf[16384];
	uint32_t best_metric = UINT32_MAX, oif, metric;
	int fd, done = 0, found = -1;
	size_t alen = dst ? (size_t)hgw_family_len(dst->family) : 0;

	memset(&req, 0, sizeof(req));
	req.h.nlmsg_len = NLMSG_LENGTH(sizeof(req.r));
	req.h.nlmsg_type = RTM_GETROUTE;
	req.h.nlmsg_flags = NLM_F_REQUEST | (dst ? 0 : NLM_F_DUMP);
	req.h.nlmsg_seq = 1;
	req.r.rtm_family = (uint8_t)family;
	if (dst) {
		struct rtattr *rta = (struct rtattr *)((uint8_t *)&req + NLMSG_ALIGN(req.h.nlmsg_len));

		rta->rta_type = RTA_DST;
		rta->rta_len = (unsigned short)RTA_LENGTH(alen);
		memcpy(RTA_DATA(rta), dst->bytes, alen);
		req.r.rtm_dst_len = (uint8_t)(alen * 8);
		req.h.nlmsg_len = NLMSG_ALIGN(req.h.nlmsg_len) + RTA_ALIGN(rta->rta_len);
	}
	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) < 0)
		return -1;
	if (sendto(fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	while (!done) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (len <= 0)
			break;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
				done = 1;
				break;
			}
			if (route_oif(h, dst == NULL, &oif, &metric) == 0 &&
			    (found < 0 || metric < best_metric)) {
				*best_oif = oif;
				best_metric = metric;
				found = 0;
			}
			if (dst)
				done = 1;
		}
	}
	close(fd);
	return found;
}

int
kernel_route_ifname(const struct hgw_addr *dst, char ifname[IFNAMSIZ])
{
	uint32_t oif = 0;
	char name[IF_NAMESIZE];

	if (dst ? route_query(dst->family, dst, &oif) < 0 :
	    route_query(AF_INET, NULL, &oif) < 0 && route_query(AF_INET6, NULL, &oif) < 0)
		return -1;
	if (if_indextoname(oif, name) == NULL || strcmp(name, "lo") == 0)
		return -1;
	snprintf(ifname, IFNAMSIZ, "%s", name);
	return 0;
}
