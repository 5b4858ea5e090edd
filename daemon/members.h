/* members.h: membership without a store: peers tell each other which nodes
 * they hold sessions with (MEMBERS), so a node configured with one seed dials
 * the rest; silent members are given up after a bounded time (peer.c);
 * optional LAN discovery by a multicast beacon. members.c subscribes to peer
 * events; nobody calls it for those. */
#ifndef HGW_MEMBERS_H
#define HGW_MEMBERS_H

struct hgwd;

int members_init(struct hgwd *d);	/* subscribes to peer events */
int members_start(struct hgwd *d);	/* discovery, when configured */
void members_stop(struct hgwd *d);
void members_free(struct hgwd *d);
struct config;
/* After a reload (old: the configuration before it): discovery on or off;
 * neighbors removed are not learned again from member lists or beacons
 * until configured again (they may still dial us). */
void members_reconfigure(struct hgwd *d, const struct config *old);

#endif
