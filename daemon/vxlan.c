/* vxlan.c: the VXLAN device hgw.vxlan (libnl-route-3's vxlan link API), the
 * remote VTEPs, and the reference-counted neighbour and FDB entries that
 * routes through the device need. See vxlan.h for the addressing. */
#include "vxlan.h"

#include <errno.h>
#include <linux/if_bridge.h>
#include <linux/neighbour.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vxlan.h>
#include <netlink/route/neighbour.h>
#include <netlink/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "util.h"

struct remote {
	uint32_t node;
	uint8_t mac[6];
	struct hgw_addr underlay;
};

struct hold {
	struct hgw_addr gw;		/* the neighbour entry: gw -> mac */
	uint8_t mac[6];
	struct hgw_addr dst;		/* the FDB entry: mac -> dst */
	uint32_t refs;
};

struct vxlan {
	struct nl_sock *sk;
	struct vxlan_params p;
	int ifindex;			/* 0: not running */
	unsigned mtu;
	struct remote *remotes;
	size_t nremotes, remotes_cap;
	struct hold *holds;
	size_t nholds, holds_cap;
};

void
vxlan_mac_for(uint32_t node_id, uint8_t mac[6])
{
	mac[0] = 0x02;		/* locally administered, unicast */
	mac[1] = 0x68;		/* 'h' */
	mac[2] = (uint8_t)(node_id >> 24);
	mac[3] = (uint8_t)(node_id >> 16);
	mac[4] = (uint8_t)(node_id >> 8);
	mac[5] = (uint8_t)node_id;
}

const char *
vxlan_mac_fmt(const uint8_t m[6], char *buf, size_t len)
{
	if (snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
	    m[5]) >= (int)len && len > 0)
		buf[0] = '\0';
	return buf;
}

struct vxlan *
vxlan_new(void)
{
	struct vxlan *v = calloc(1, sizeof(*v));

	if (v == NULL)
		return NULL;
	if ((v->sk = nl_socket_alloc()) == NULL || nl_connect(v->sk, NETLINK_ROUTE) < 0) {
		log_warnx("vxlan: cannot open a netlink socket");
		vxlan_free(v);
		return NULL;
	}
	return v;
}

void
vxlan_free(struct vxlan *v)
{
	if (v == NULL)
		return;
	if (v->sk)
		nl_socket_free(v->sk);
	free(v->remotes);
	free(v->holds);
	free(v);
}

static struct nl_addr *
to_nladdr(const struct hgw_addr *a)
{
	return nl_addr_build(a->family, a->bytes, (size_t)hgw_family_len(a->family));
}

/* Does the existing device match p? */
static int
device_matches(struct vxlan *v, struct rtnl_link *l, const struct vxlan_params *p,
    unsigned mtu)
{
	uint32_t id = 0, port = 0, link = 0;
	struct nl_addr *local = NULL, *want = to_nladdr(&p->local);
	struct nl_addr *mac = rtnl_link_get_addr(l);
	int ok;

	ok = rtnl_link_is_vxlan(l) &&
	    rtnl_link_vxlan_get_id(l, &id) == 0 && id == p->vni &&
	    rtnl_link_vxlan_get_port(l, &port) == 0 && port == p->port &&
	    rtnl_link_vxlan_get_link(l, &link) == 0 && (int)link == p->lan_ifindex &&
	    rtnl_link_vxlan_get_learning(l) == 0 &&
	    rtnl_link_vxlan_get_local(l, &local) == 0 && want != NULL &&
	    nl_addr_cmp(local, want) == 0 &&
	    mac != NULL && nl_addr_get_len(mac) == 6 &&
	    memcmp(nl_addr_get_binary_addr(mac), p->mac, 6) == 0 &&
	    rtnl_link_get_mtu(l) == mtu;
	nl_addr_put(local);
	nl_addr_put(want);
	(void)v;
	return ok;
}

static int
create_device(struct vxlan *v, const struct vxlan_params *p, unsigned mtu)
{
	struct rtnl_link *l = rtnl_link_vxlan_alloc();
	struct nl_addr *local = to_nladdr(&p->local);
	struct nl_addr *mac = nl_addr_build(AF_LLC, p->mac, 6);
	int err = -NLE_NOMEM;

	if (l == NULL || local == NULL || mac == NULL)
		goto out;
	rtnl_link_set_name(l, VXLAN_IFNAME);
	rtnl_link_vxlan_set_id(l, p->vni);
	rtnl_link_vxlan_set_port(l, p->port);
	rtnl_link_vxlan_set_local(l, local);
	rtnl_link_vxlan_set_link(l, (uint32_t)p->lan_ifindex);
	rtnl_link_vxlan_set_learning(l, 0);
	rtnl_link_set_mtu(l, mtu);
	rtnl_link_set_addr(l, mac);
	rtnl_link_set_flags(l, IFF_UP);
	err = rtnl_link_add(v->sk, l, NLM_F_CREATE | NLM_F_EXCL);
out:
	if (err < 0)
		log_warnx("vxlan: cannot create %s: %s", VXLAN_IFNAME, nl_geterror(err));
	nl_addr_put(local);
	nl_addr_put(mac);
	rtnl_link_put(l);
	return err < 0 ? -1 : 0;
}

static void
delete_device(struct vxlan *v)
{
	struct rtnl_link *l = rtnl_link_alloc();
	int err;

	if (l == NULL)
		return;
	rtnl_link_set_name(l, VXLAN_IFNAME);
	err = rtnl_link_delete(v->sk, l);
	if (err < 0 && err != -NLE_NODEV && err != -NLE_OBJ_NOTFOUND)
		log_warnx("vxlan: cannot delete %s: %s", VXLAN_IFNAME, nl_geterror(err));
	rtnl_link_put(l);
}

static int write_entries(struct vxlan *v, struct hold *h, int fdb);

int
vxlan_start(struct vxlan *v, const struct vxlan_params *p)
{
	unsigned over = p->local.family == AF_INET6 ? VXLAN_OVERHEAD6 : VXLAN_OVERHEAD4;
	unsigned mtu = p->lan_mtu > over + 68 ? p->lan_mtu - over : 68;
	struct rtnl_link *l = NULL;
	int adopted = 0;
	size_t i;

	if (p->local.family == 0 || p->lan_ifindex == 0) {
		log_warnx("vxlan: no LAN address or interface yet; %s not created", VXLAN_IFNAME);
		vxlan_stop(v, 0);
		return -1;
	}
	if (v->ifindex != 0 && memcmp(&v->p, p, sizeof(*p)) == 0)
		return 0;
	if (rtnl_link_get_kernel(v->sk, 0, VXLAN_IFNAME, &l) == 0) {
		adopted = device_matches(v, l, p, mtu);
		rtnl_link_put(l);
		l = NULL;
		if (!adopted)
			delete_device(v);
	}
	if (!adopted && create_device(v, p, mtu) < 0) {
		v->ifindex = 0;
		return -1;
	}
	if (rtnl_link_get_kernel(v->sk, 0, VXLAN_IFNAME, &l) < 0) {
		log_warnx("vxlan: %s vanished after its creation", VXLAN_IFNAME);
		v->ifindex = 0;
		return -1;
	}
	v->ifindex = rtnl_link_get_ifindex(l);
	if (adopted && !(rtnl_link_get_flags(l) & IFF_UP)) {
		struct rtnl_link *ch = rtnl_link_alloc();

		if (ch != NULL) {
			rtnl_link_set_flags(ch, IFF_UP);
			rtnl_link_change(v->sk, l, ch, 0);
			rtnl_link_put(ch);
		}
	}
	rtnl_link_put(l);
	v->p = *p;
	v->mtu = mtu;
	log_info("vxlan: %s %s (index %d, VNI %u, port %u, MTU %u)", VXLAN_IFNAME,
	    adopted ? "kept from before" : "created", v->ifindex, p->vni, p->port, mtu);
	/* A new device holds none of our entries: write the held ones again. */
	for (i = 0; !adopted && i < v->nholds; i++)
		write_entries(v, &v->holds[i], 1);
	return 0;
}

void
vxlan_stop(struct vxlan *v, int keep)
{
	if (v == NULL)
		return;
	if (!keep && (v->ifindex != 0 || v->nholds > 0)) {
		delete_device(v);
		log_info("vxlan: %s removed with its %zu neighbour entr%s", VXLAN_IFNAME,
		    v->nholds, v->nholds == 1 ? "y" : "ies");
	}
	v->ifindex = 0;
	v->nholds = 0;
	memset(&v->p, 0, sizeof(v->p));
}

int
vxlan_running(const struct vxlan *v)
{
	return v != NULL && v->ifindex != 0;
}

int
vxlan_ifindex(const struct vxlan *v)
{
	return v ? v->ifindex : 0;
}

unsigned
vxlan_mtu(const struct vxlan *v)
{
	return v && v->ifindex ? v->mtu : 0;
}

const struct vxlan_params *
vxlan_params(const struct vxlan *v)
{
	return &v->p;
}

static struct remote *
find_remote(const struct vxlan *v, uint32_t node)
{
	size_t i;

	for (i = 0; i < v->nremotes; i++)
		if (v->remotes[i].node == node)
			return &v->remotes[i];
	return NULL;
}

int
vxlan_remote_set(struct vxlan *v, uint32_t node, const uint8_t mac[6],
    const struct hgw_addr *underlay)
{
	struct remote *r = find_remote(v, node);

	if (r != NULL) {
		if (memcmp(r->mac, mac, 6) == 0 && hgw_addr_cmp(&r->underlay, underlay) == 0)
			return 0;
	} else {
		if (grow_array((void **)&v->remotes, &v->remotes_cap, v->nremotes + 1,
		    sizeof(*v->remotes)) < 0)
			return -1;
		r = &v->remotes[v->nremotes++];
		r->node = node;
	}
	memcpy(r->mac, mac, 6);
	r->underlay = *underlay;
	return 1;
}

int
vxlan_remote_del(struct vxlan *v, uint32_t node)
{
	struct remote *r = find_remote(v, node);

	if (r == NULL)
		return 0;
	*r = v->remotes[--v->nremotes];
	return 1;
}

int
vxlan_usable(const struct vxlan *v, uint32_t node, const struct hgw_addr *gw)
{
	const struct remote *r;

	if (v == NULL || v->ifindex == 0 || (r = find_remote(v, node)) == NULL)
		return 0;
	/* The underlay must be of the device's family; the gateway may be of
	 * either (an IPv6 prefix over an IPv4 underlay has an IPv6 neighbour). */
	return r->underlay.family == v->p.local.family && gw->family != 0;
}

static struct hold *
find_hold(const struct vxlan *v, const struct hgw_addr *gw)
{
	size_t i;

	for (i = 0; i < v->nholds; i++)
		if (hgw_addr_cmp(&v->holds[i].gw, gw) == 0)
			return &v->holds[i];
	return NULL;
}

static int
mac_in_use(const struct vxlan *v, const uint8_t mac[6], const struct hold *except)
{
	size_t i;

	for (i = 0; i < v->nholds; i++)
		if (&v->holds[i] != except && memcmp(v->holds[i].mac, mac, 6) == 0)
			return 1;
	return 0;
}

/* One neighbour (fdb 0) or FDB (fdb 1) request on the device. */
static int
neigh_req(struct vxlan *v, int add, int fdb, const struct hgw_addr *ip, const uint8_t mac[6])
{
	struct rtnl_neigh *n = rtnl_neigh_alloc();
	struct nl_addr *dst = to_nladdr(ip), *ll = nl_addr_build(AF_LLC, mac, 6);
	int err = -NLE_NOMEM;

	if (n == NULL || dst == NULL || ll == NULL)
		goto out;
	rtnl_neigh_set_ifindex(n, v->ifindex);
	/* The destination first: libnl takes the family from it, and refuses
	 * one that differs from a family set before. */
	if ((err = rtnl_neigh_set_dst(n, dst)) < 0)
		goto out;
	if (fdb) {
		rtnl_neigh_set_family(n, AF_BRIDGE);
		rtnl_neigh_set_flags(n, NTF_SELF);
	}
	rtnl_neigh_set_lladdr(n, ll);
	rtnl_neigh_set_state(n, NUD_PERMANENT);
	err = add ? rtnl_neigh_add(v->sk, n, NLM_F_CREATE | NLM_F_REPLACE) :
	    rtnl_neigh_delete(v->sk, n, 0);
out:
	if (err < 0 && !(!add && (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV))) {
		char ab[HGW_ADDRSTRLEN], mb[24];

		log_warnx("vxlan: %s %s entry %s %s %s: %s", add ? "adding" : "removing",
		    fdb ? "FDB" : "neighbour", hgw_addr_fmt(ip, ab, sizeof(ab)),
		    fdb ? "for" : "->", vxlan_mac_fmt(mac, mb, sizeof(mb)), nl_geterror(err));
	}
	nl_addr_put(dst);
	nl_addr_put(ll);
	rtnl_neigh_put(n);
	return err < 0 ? -1 : 0;
}

/* The FDB entry first (where frames to the MAC go), then the neighbour. */
static int
write_entries(struct vxlan *v, struct hold *h, int fdb)
{
	if (fdb && neigh_req(v, 1, 1, &h->dst, h->mac) < 0)
		return -1;
	return neigh_req(v, 1, 0, &h->gw, h->mac);
}

int
vxlan_hold(struct vxlan *v, uint32_t node, const struct hgw_addr *gw)
{
	const struct remote *r = find_remote(v, node);
	struct hold *h = find_hold(v, gw);

	if (!vxlan_usable(v, node, gw)) {
		errno = ENETUNREACH;
		return -1;
	}
	if (h != NULL && memcmp(h->mac, r->mac, 6) == 0 &&
	    hgw_addr_cmp(&h->dst, &r->underlay) == 0) {
		h->refs++;
		return 0;
	}
	if (h == NULL) {
		if (grow_array((void **)&v->holds, &v->holds_cap, v->nholds + 1,
		    sizeof(*v->holds)) < 0) {
			errno = ENOMEM;
			return -1;
		}
		h = &v->holds[v->nholds++];
		memset(h, 0, sizeof(*h));
		h->gw = *gw;
	} else if (memcmp(h->mac, r->mac, 6) != 0 && !mac_in_use(v, h->mac, h)) {
		neigh_req(v, 0, 1, &h->dst, h->mac);	/* the gateway's node changed */
	}
	memcpy(h->mac, r->mac, 6);
	h->dst = r->underlay;
	if (write_entries(v, h, 1) < 0) {
		if (h->refs == 0)
			*h = v->holds[--v->nholds];
		errno = EIO;
		return -1;
	}
	h->refs++;
	return 0;
}

void
vxlan_release(struct vxlan *v, const struct hgw_addr *gw)
{
	struct hold *h = find_hold(v, gw);

	if (h == NULL || --h->refs > 0)
		return;
	if (v->ifindex != 0) {
		neigh_req(v, 0, 0, &h->gw, h->mac);
		if (!mac_in_use(v, h->mac, h))
			neigh_req(v, 0, 1, &h->dst, h->mac);
	}
	*h = v->holds[--v->nholds];
}

struct sweep {
	struct vxlan *v;
	struct rtnl_neigh *gone[64];
	int ngone;
};

static void
sweep_one(struct nl_object *o, void *arg)
{
	struct sweep *s = arg;
	struct rtnl_neigh *n = (struct rtnl_neigh *)o;
	struct nl_addr *dst = rtnl_neigh_get_dst(n), *ll = rtnl_neigh_get_lladdr(n);
	struct hgw_addr a;
	size_t i, alen;
	int keep = 0;

	if (rtnl_neigh_get_ifindex(n) != s->v->ifindex || dst == NULL || ll == NULL ||
	    nl_addr_get_len(ll) != 6 || s->ngone == (int)(sizeof(s->gone) / sizeof(s->gone[0])))
		return;
	if (!(rtnl_neigh_get_state(n) & NUD_PERMANENT))
		return;
	memset(&a, 0, sizeof(a));
	a.family = (uint8_t)nl_addr_get_family(dst);
	alen = nl_addr_get_len(dst);
	if (alen != (size_t)hgw_family_len(a.family))
		return;
	memcpy(a.bytes, nl_addr_get_binary_addr(dst), alen);
	for (i = 0; i < s->v->nholds && !keep; i++) {
		const struct hold *h = &s->v->holds[i];

		if (rtnl_neigh_get_family(n) == AF_BRIDGE)
			keep = memcmp(h->mac, nl_addr_get_binary_addr(ll), 6) == 0 &&
			    hgw_addr_cmp(&h->dst, &a) == 0;
		else
			keep = hgw_addr_cmp(&h->gw, &a) == 0;
	}
	if (!keep) {
		nl_object_get(o);
		s->gone[s->ngone++] = n;
	}
}

void
vxlan_sweep(struct vxlan *v)
{
	struct nl_cache *c = NULL;
	struct sweep s;
	int i;

	if (v == NULL || v->ifindex == 0)
		return;
	/* AF_ITER: one dump per family of the cache (inet, inet6, bridge). */
	if (rtnl_neigh_alloc_cache_flags(v->sk, &c, NL_CACHE_AF_ITER) < 0)
		return;
	memset(&s, 0, sizeof(s));
	s.v = v;
	nl_cache_foreach(c, sweep_one, &s);
	nl_cache_free(c);
	for (i = 0; i < s.ngone; i++) {
		char ab[HGW_ADDRSTRLEN];
		int fdb = rtnl_neigh_get_family(s.gone[i]) == AF_BRIDGE;

		rtnl_neigh_delete(v->sk, s.gone[i], 0);
		log_info("vxlan: removed stale %s entry %s", fdb ? "FDB" : "neighbour",
		    nl_addr2str(rtnl_neigh_get_dst(s.gone[i]), ab, sizeof(ab)));
		rtnl_neigh_put(s.gone[i]);
	}
}

void
vxlan_foreach(const struct vxlan *v, void (*fn)(void *arg, const struct hgw_addr *gw,
    const uint8_t mac[6], const struct hgw_addr *dst, uint32_t refs), void *arg)
{
	size_t i;

	for (i = 0; v != NULL && i < v->nholds; i++)
		fn(arg, &v->holds[i].gw, v->holds[i].mac, &v->holds[i].dst, v->holds[i].refs);
}
