/* origin.h: the one place that originates our own routes. Configured
 * networks and leased subnets go through origin_add/origin_del, which write
 * the RIB (our own path: our node id, our gateway of the family) and export
 * to every peer once; a peer that comes up gets the whole set before our
 * END-OF-RIB (origin.c listens to peer events). */
#ifndef HGW_ORIGIN_H
#define HGW_ORIGIN_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct hgwd;
struct config;

enum origin_source {
	ORIGIN_CONFIG = 1,	/* a `network` statement */
	ORIGIN_LEASE = 2,	/* a subnet leased from the cluster network */
};

int origin_init(struct hgwd *d);	/* subscribes to peer events; 0 or -1 */
/* fn(arg) after our originated set or our gateways changed (subnet.env,
 * host networking follow it). 0 or -1. */
int origin_subscribe(struct hgwd *d, void (*fn)(void *arg), void *arg);
void origin_free(struct hgwd *d);
/* Originates p from source: RIB and every peer. 0, or -1 (out of memory). */
int origin_add(struct hgwd *d, enum origin_source src, const struct hgw_prefix *p);
/* Withdraws p of source, if originated. */
void origin_del(struct hgwd *d, enum origin_source src, const struct hgw_prefix *p);
/* Our originated prefixes, up to max; returns how many there are. */
size_t origin_list(const struct hgwd *d, struct hgw_prefix *out, size_t max);
int origin_has(const struct hgwd *d, const struct hgw_prefix *p);
/* Our node id or gateways changed (d holds the new ones): re-originate all. */
void origin_identity_changed(struct hgwd *d, uint32_t old_id);
/* The configured networks changed from old's (NULL: at start) to d->cfg's. */
void origin_reconfigure(struct hgwd *d, const struct config *old);

#endif
