/* identity.h: who we are on the mesh: our node id and the gateways we
 * advertise (IPv4, IPv6), from the configuration or the LAN interface, and
 * what follows when they change (sessions reset on a new node id, our own
 * routes re-originated with the new gateway). */
#ifndef HGW_IDENTITY_H
#define HGW_IDENTITY_H

#include <stdint.h>

#include "addr.h"

struct hgwd;
struct config;

/* Our node id and gateways under configuration c; -1 when there is no
 * node id (no IPv4 address and no node-id statement). */
int identity_resolve(const struct hgwd *d, const struct config *c, uint32_t *id,
    struct hgw_addr *a4, struct hgw_addr *a6);
/* Adopts id and gateways: re-originates our routes, resets sessions when
 * the node id changed. */
void identity_apply(struct hgwd *d, uint32_t id, const struct hgw_addr *a4,
    const struct hgw_addr *a6);
/* The LAN interface's addresses changed: re-resolve and adopt. */
void identity_link_changed(struct hgwd *d);

#endif
