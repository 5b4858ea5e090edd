/* liveness.h: what a flap of our LAN link does to the sessions. */
#ifndef HGW_LIVENESS_H
#define HGW_LIVENESS_H

#include <stdint.h>

struct hgwd;

/* The LAN interface changed (main.c's kernel link callback): when it stops
 * being usable (admin up and carrier), every established session's
 * keepalives pause (session_pause); when it is usable again, every one is
 * kicked (session_kick): a fresh hold time and a KEEPALIVE at once. */
void liveness_link_changed(struct hgwd *d);

/* Keepalive datagrams beside the TCP stream (see liveness.c): a UDP socket
 * on the mesh port and a timer sending to every established peer; their
 * receipt renews a session's hold time (session_heard). main.c: init once
 * the peers and the listener are set up, free at exit. 0 or -1. */
int liveness_init(struct hgwd *d);
void liveness_free(void);
/* A reload (reconf.c): the socket follows a new mesh port, the timer a new
 * keepalive interval. */
void liveness_reconfigure(struct hgwd *d, uint16_t old_port);
/* Keepalive datagrams: on (a socket open, not over TLS), and counters. */
struct liveness_stats {
	int enabled;
	uint64_t sent, heard, renewed;
	uint64_t skipped;	/* not sent: all the stream carried was acknowledged */
};
void liveness_stats(const struct hgwd *d, struct liveness_stats *st);

#endif
