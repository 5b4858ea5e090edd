/* leave.h: leaving the mesh for good: every peer is told, also those whose
 * session is still in its handshake or not yet begun. */
#ifndef HGW_LEAVE_H
#define HGW_LEAVE_H

struct hgwd;

/* main.c, once the loop has stopped and d->stopping is set, before
 * peers_shutdown: NOTIFY cease/shutdown on every established session at
 * once; then, for up to LEAVE_MS, connections still in the listen backlog
 * are accepted, peers we hold no session with are dialled, and each
 * session is told as soon as it is established. */
void leave_tell_peers(struct hgwd *d);

#endif
