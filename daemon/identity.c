/* identity.c: our node id and advertised gateways, and adopting changes. */
#include "identity.h"

#include <stdio.h>
#include <string.h>

#include "hgwd.h"
#include "kernel.h"
#include "log.h"
#include "origin.h"
#include "peer.h"

static int
leasing(const struct config *c)
{
	return c->lease_len[0] || c->lease_len[1];
}

/* The node-id line of the lease state file (lease.c writes it), or 0. */
static uint32_t
persisted_id(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[256], word[64];
	struct hgw_addr a;
	uint32_t id = 0;

	if (f == NULL)
		return 0;
	while (id == 0 && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "node-id %63s", word) == 1 && hgw_addr_parse(word, &a) == 0 &&
		    a.family == AF_INET)
			id = hgw_addr_to_nodeid(&a);
	fclose(f);
	if (id != 0)
		log_info("node id from %s (the lease's owner)", path);
	return id;
}

int
identity_resolve(const struct hgwd *d, const struct config *c, uint32_t *id,
    struct hgw_addr *a4, struct hgw_addr *a6)
{
	struct hgw_addr ifa;

	memset(a4, 0, sizeof(*a4));
	memset(a6, 0, sizeof(*a6));
	/* Keep the addresses in use while the interface has them: another
	 * address added later must not move our gateway or node id. */
	if (c->address4.family)
		*a4 = c->address4;
	else if (d->addr4.family && kernel_if_has(d->kernel, &d->addr4))
		*a4 = d->addr4;
	else
		kernel_if_addr(d->kernel, AF_INET, a4);
	if (c->address6.family)
		*a6 = c->address6;
	else if (d->addr6.family && kernel_if_has(d->kernel, &d->addr6))
		*a6 = d->addr6;
	else
		kernel_if_addr(d->kernel, AF_INET6, a6);
	/* The node id is the interface's own IPv4 address, whatever gateway
	 * is advertised; the configured address only when the interface has none. */
	hgw_nodeid_to_addr(d->node_id, &ifa);
	if (c->node_id)
		*id = c->node_id;
	else if (d->node_id != 0 && (kernel_if_has(d->kernel, &ifa) || leasing(c)))
		*id = d->node_id;	/* a leasing node keeps its id: it owns its lease */
	else if (d->node_id == 0 && leasing(c) && (*id = persisted_id(c->lease_file)) != 0)
		;			/* the id its lease was held under, whatever the address now */
	else if (kernel_if_addr(d->kernel, AF_INET, &ifa) == 0 || (ifa = *a4).family)
		*id = hgw_addr_to_nodeid(&ifa);
	else
		*id = 0;
	return *id != 0 ? 0 : -1;
}

void
identity_apply(struct hgwd *d, uint32_t id, const struct hgw_addr *a4, const struct hgw_addr *a6)
{
	uint32_t old_id = d->node_id;
	char nb[16], ab[HGW_ADDRSTRLEN], err[64];

	if (id == d->node_id && hgw_addr_cmp(a4, &d->addr4) == 0 &&
	    hgw_addr_cmp(a6, &d->addr6) == 0)
		return;
	d->addr4 = *a4;
	d->addr6 = *a6;
	if (id != old_id) {
		log_info("node id is now %s", hgw_nodeid_fmt(id, nb, sizeof(nb)));
		d->node_id = id;
		peers_reset(d, NULL, err, sizeof(err));
	}
	origin_identity_changed(d, old_id);
	log_info("advertising gateway %s%s%s", a4->family ? hgw_addr_fmt(a4, ab, sizeof(ab)) : "-",
	    a6->family ? " and " : "", a6->family ? hgw_addr_fmt(a6, nb, sizeof(nb)) : "");
}

void
identity_link_changed(struct hgwd *d)
{
	struct hgw_addr a4, a6;
	uint32_t id;

	if (identity_resolve(d, &d->cfg, &id, &a4, &a6) < 0)
		return;		/* keep what we had until an address comes back */
	identity_apply(d, id, &a4, &a6);
	/* An address of ours may be a configured neighbor now (or no more). */
	peers_reconfigure(d);
}
