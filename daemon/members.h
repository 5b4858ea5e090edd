/* members.h: membership without a store: peers tell each other which nodes
 * they hold sessions with (MEMBERS), so a node configured with one seed dials
 * the rest; silent members are given up after a bounded time; optional LAN
 * discovery by a multicast beacon. */
#ifndef HGW_MEMBERS_H
#define HGW_MEMBERS_H

#include <stddef.h>
#include <stdint.h>

#include "cmdtree.h"

struct hgwd;
struct peer;


int members_start(struct hgwd *d);		/* discovery, when configured */
void members_stop(struct hgwd *d);
void members_config_changed(struct hgwd *d);
void members_peer_up(struct hgwd *d, struct peer *p);
void members_peer_down(struct hgwd *d, struct peer *p);
int members_rx(struct hgwd *d, struct peer *p, const uint8_t *body, size_t len);
uint32_t members_giveup_ms(const struct hgwd *d);

#endif
