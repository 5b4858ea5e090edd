/* policy.c: what a peer may announce: special and foreign prefixes, third
 * parties, cluster networks, the LAN, our own networks, other origins'
 * routes and other nodes' leases (PROTOCOL.md, Security), and prefix limits. */
#include <stdio.h>
#include <string.h>

#include "hgwd.h"
#include "kernel.h"
#include "lan.h"
#include "leasegate.h"
#include "nodeid.h"
#include "peer.h"
#include "policy.h"
#include "tls.h"
#include "util.h"

int
policy_limit(const struct peer *p)
{
	const struct cfg_neighbor *n = config_find_neighbor(&p->d->cfg, &p->addr);

	if (n != NULL && n->max_prefixes)
		return (int)(n->max_prefixes > INT32_MAX ? INT32_MAX : n->max_prefixes);
	return (int)(p->d->cfg.max_prefixes > INT32_MAX ? INT32_MAX : p->d->cfg.max_prefixes);
}

int
policy_third_party(const struct peer *p)
{
	const struct cfg_neighbor *n = config_find_neighbor(&p->d->cfg, &p->addr);

	return n != NULL && n->third_party;
}

/* A gateway the sending node is proven to own: the session's source
 * address; of the other family, an address of its HELLO that the kernel's
 * neighbour table does not show on another host (another link-layer
 * address than the source's). HELLO's list alone proves nothing for the
 * family of the session. NULL when proven, else why not. */
static struct hgw_addr last_gw, last_src;
static uint64_t last_ms;
static int last_same;

static const char *
gateway_unproven(struct hgwd *d, const struct peer *p, const struct hgw_hello *h,
    const struct hgw_addr *gw, char *buf, size_t len)
{
	char b[HGW_ADDRSTRLEN];
	int i;

	if (hgw_addr_cmp(gw, &p->addr) == 0)
		return NULL;
	for (i = 0; i < h->naddrs; i++)
		if (hgw_addr_cmp(gw, &h->addrs[i]) == 0)
			break;
	if (i == h->naddrs) {
		snprintf(buf, len, "gateway %s is not the peer's address",
		    hgw_addr_fmt(gw, b, sizeof(b)));
		return buf;
	}
	/* One neighbour-table read per second and (source, gateway) pair. */
	if (hgw_addr_cmp(gw, &last_gw) != 0 || hgw_addr_cmp(&p->addr, &last_src) != 0 ||
	    now_ms() - last_ms >= 1000) {
		last_gw = *gw;
		last_src = p->addr;
		last_ms = now_ms();
		last_same = kernel_same_lladdr(d->kernel, gw, &p->addr);
	}
	/* Of the session's family, only an address proven on the same NIC
	 * (a secondary address); of the other, any not shown on another host. */
	if (last_same == 0 || (last_same < 0 && gw->family == p->addr.family)) {
		snprintf(buf, len, last_same == 0 ?
		    "gateway %s is another host's (link-layer address differs)" :
		    "gateway %s is not the peer's address (not proven by the neighbour table)",
		    hgw_addr_fmt(gw, b, sizeof(b)));
		return buf;
	}
	return NULL;
}

/* What we accept from a peer (policy); NULL when acceptable, else why not. */
const char *
policy_refuse(struct hgwd *d, const struct peer *p, const struct hgw_hello *h,
    const struct hgw_upd_item *it, char *buf, size_t len)
{
	const struct hgw_prefix *pfx = &it->prefix;
	struct hgw_prefix lan;
	const char *why;
	char b[HGW_ADDRSTRLEN];
	int third = policy_third_party(p);
	size_t k;

	if (hgw_prefix_host_bits_set(pfx))
		return "host bits set";
	if ((why = hgw_prefix_special(pfx)) != NULL)
		return why;
	if (it->origin == d->node_id)
		return "origin is our own node id";
	if (it->origin != p->node_id && !third)
		return "origin is another node (third party)";
	if (it->gateway.family != pfx->family)
		return "gateway of another family";
	if (!third && (why = gateway_unproven(d, p, h, &it->gateway, buf, len)) != NULL)
		return why;
	if (d->cfg.nclusters > 0) {
		for (k = 0; k < d->cfg.nclusters; k++)
			if (hgw_prefix_contains(&d->cfg.clusters[k], pfx))
				break;
		if (k == d->cfg.nclusters)
			return "outside every cluster-network";
	}
	if (kernel_lan_overlaps(d->kernel, pfx, &lan)) {
		snprintf(buf, len, "overlaps the LAN subnet %s", hgw_prefix_fmt(&lan, b, sizeof(b)));
		return buf;
	}
	/* The same prefix as one of ours is a visible conflict (ours wins);
	 * anything more or less specific would steer our traffic. */
	for (k = 0; k < d->cfg.nnetworks; k++)
		if (hgw_prefix_overlaps(&d->cfg.networks[k], pfx) &&
		    !hgw_prefix_eq(&d->cfg.networks[k], pfx)) {
			snprintf(buf, len, "overlaps our network %s",
			    hgw_prefix_fmt(&d->cfg.networks[k], b, sizeof(b)));
			return buf;
		}
	/* Another node's lease: nobody announces a subnet inside it or
	 * covering it. (The same subnet is a visible conflict in the RIB, where
	 * the incumbent keeps it, while the lease conflict is settled.) */
	if (d->lease_overlap != NULL) {
		struct hgw_prefix leased;
		uint32_t owner;
		char nb[16];

		if (d->lease_overlap(d, pfx, &leased, &owner) && owner != it->origin &&
		    !hgw_prefix_eq(&leased, pfx)) {
			snprintf(buf, len, "overlaps node %s's lease %s",
			    hgw_nodeid_fmt(owner, nb, sizeof(nb)), hgw_prefix_fmt(&leased, b, sizeof(b)));
			return buf;
		}
	}
	/* A more-specific of another origin's route would steer its traffic.
	 * Only the lengths the RIB holds are looked up (rib_covering). */
	{
		const struct rib_entry *e = NULL;
		const struct rib_path *rp;
		char nb[16];

		while ((e = rib_covering(&d->rib, pfx, e)) != NULL)
			for (rp = e->paths; rp != NULL; rp = rp->next)
				if (rp->origin != it->origin) {
					snprintf(buf, len, "inside node %s's route %s",
					    hgw_nodeid_fmt(rp->origin, nb, sizeof(nb)),
					    hgw_prefix_fmt(&e->pfx, b, sizeof(b)));
					return buf;
				}
	}
	/* In lease mode, only the sender's own lease (static-hosts aside). */
	return leasegate_refuse(d, p, it, buf, len);
}

/* Node ids: a certificate proves one; otherwise the binding to an address. */
int
policy_node_id(struct hgwd *d, const struct peer *p, uint32_t node_id, char *why, size_t len)
{
	struct hgw_addr bound;

	if (d->tls != NULL && strcmp(tls_mode(d->tls), "certificates") == 0)
		return 0;
	if (nodeid_check(d->nodeids, node_id, &p->addr, (uint64_t)d->cfg.lease_hold_s * 1000,
	    why, len) == 0)
		return 0;
	/* The same NIC under a new address (the kernel still knows the old
	 * one's link-layer address): an address change, not another node. */
	if (nodeid_bound(d->nodeids, node_id, &bound) == 0 && bound.family == p->addr.family &&
	    kernel_same_lladdr(d->kernel, &bound, &p->addr) == 1)
		return 0;
	return -1;
}

void
policy_node_seen(struct hgwd *d, const struct peer *p, int live)
{
	if (d->nodeids == NULL && (d->nodeids = nodeid_new()) == NULL)
		return;
	nodeid_seen(d->nodeids, p->node_id, &p->addr, live);
}

/* p withdrew pfx: an announcement of it held for its lease is void. */
void
policy_withdrawn(const struct peer *p, const struct hgw_prefix *pfx)
{
	leasegate_forget(p, pfx);
}

void
policy_free(struct hgwd *d)
{
	nodeid_free(d->nodeids);
	d->nodeids = NULL;
}
