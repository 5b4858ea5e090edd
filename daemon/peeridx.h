/* peeridx.h: peers indexed by address (a hash that grows), so looking a
 * peer up costs the same with 10 peers or 10,000 learned members. */
#ifndef HGW_PEERIDX_H
#define HGW_PEERIDX_H

#include "addr.h"

struct peer;
struct peeridx;

/* Adds p under p->addr (which must not change while indexed); 0 or -1. */
int peeridx_add(struct peeridx **ix, struct peer *p);
void peeridx_del(struct peeridx *ix, const struct peer *p);
struct peer *peeridx_find(const struct peeridx *ix, const struct hgw_addr *a);
void peeridx_free(struct peeridx **ix);

#endif
