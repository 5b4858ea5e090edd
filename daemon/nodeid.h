/* nodeid.h: without certificates a node id is only a claim: the first
 * address a node id is seen from in an established session binds it, and a
 * session presenting that id from another address is refused until the
 * binding is older than lease-hold (PROTOCOL.md, Security). Bounded. */
#ifndef HGW_NODEID_H
#define HGW_NODEID_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define NODEID_MAX	4096	/* bindings kept; the oldest unused goes first */

struct nodeid_tab;

struct nodeid_tab *nodeid_new(void);
void nodeid_free(struct nodeid_tab *t);
/* A session of node_id from a came up (live 1) or ended (live 0). */
void nodeid_seen(struct nodeid_tab *t, uint32_t node_id, const struct hgw_addr *a, int live);
/* May a session from a present node_id? 0, or -1 with why: bound to another
 * address, live or seen less than hold_ms ago. */
int nodeid_check(const struct nodeid_tab *t, uint32_t node_id, const struct hgw_addr *a,
    uint64_t hold_ms, char *why, size_t len);
/* The address node_id is bound to: 0, or -1 when it is bound to none. */
int nodeid_bound(const struct nodeid_tab *t, uint32_t node_id, struct hgw_addr *out);
size_t nodeid_count(const struct nodeid_tab *t);

#endif
