/* listen.h: the mesh port: listening sockets for IPv4 and IPv6, and who may
 * connect: neighbors and LAN hosts only, at a bounded rate, with a bounded
 * number of connections in their handshake. Accepted connections go to
 * peer.c. */
#ifndef HGW_LISTEN_H
#define HGW_LISTEN_H

#include <stddef.h>
#include <stdint.h>

struct hgwd;

#define LISTEN_ACCEPT_RATE	500	/* accepts per second, sustained ... */
#define LISTEN_ACCEPT_BURST	1000	/* ... and in a burst: a 1000-node cluster restarting */

struct listen_stats {
	int pending_max;		/* handshakes at once */
	int rate, burst;
	uint64_t refused;		/* connections refused */
};

int listen_init(struct hgwd *d);	/* takes the fd limit; 0 or -1 */
void listen_free(struct hgwd *d);
/* (Re)opens the mesh port; 0, or -1 when neither family could listen. */
int listen_open(struct hgwd *d, uint16_t port);
void listen_close(struct hgwd *d);
/* At start: 0 when every family the host has listens; -1 with the reason. */
int listen_verify(struct hgwd *d, uint16_t port, char *err, size_t errlen);
/* Applies a new listen-port; -1 (old port kept) when it cannot listen. */
int listen_reconfigure(struct hgwd *d, char *err, size_t errlen);
void listen_get_stats(const struct hgwd *d, struct listen_stats *st);

#endif
