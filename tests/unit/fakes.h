/* fakes.h: test doubles of peer.c for the unit tests of the modules above it
 * (origin.c, lease.c): listeners kept so a test can raise up / down / frame
 * events with fake struct peer objects, and every UPDATE item and LEASE
 * frame the module under test sends is recorded, decoded. Also small
 * helpers the tests share (parsing, the log ring). */
#ifndef HGW_TEST_FAKES_H
#define HGW_TEST_FAKES_H

#include <stddef.h>
#include <stdint.h>

#include "peer.h"
#include "wire.h"

#define FAKE_MAX_UP	8
#define FAKE_MAX_ITEMS	256
#define FAKE_MAX_FRAMES	64
#define FAKE_MAX_LEASES	32	/* per recorded frame */

/* One UPDATE item queued: to one peer (peer_queue) or to all (to NULL). */
struct fake_item {
	struct peer *to;
	struct hgw_upd_item it;
};

/* One LEASE frame sent with peer_send, decoded. */
struct fake_frame {
	struct peer *to;
	struct hgw_lease ls[FAKE_MAX_LEASES];
	size_t n;
};

struct fake_peers {
	struct peer_listener listeners[PEER_MAX_LISTENERS];
	int nlisteners;
	struct peer *up[FAKE_MAX_UP];	/* established, in the order they came up */
	int nup;
	struct fake_item items[FAKE_MAX_ITEMS];
	size_t nitems;
	int flushes;			/* peers_flush calls */
	struct fake_frame frames[FAKE_MAX_FRAMES];
	size_t nframes;
	size_t bad_sends;		/* peer_send of something that is not a valid LEASE frame */
};
extern struct fake_peers fake_peers;

void fake_peers_reset(void);
/* A peer with that node id and HELLO capabilities, not yet up. */
void fake_peer_init(struct peer *p, struct hgwd *d, uint32_t node_id, uint32_t caps);
/* Established: listed by peer_foreach_up / peer_by_node, then every
 * listener's up callback, in subscription order. */
void fake_peer_up(struct peer *p);
/* No longer established, then every listener's down callback. */
void fake_peer_down(struct peer *p, enum peer_down_reason why);
/* Body of type type from p to the listener that registered the type. */
void fake_peer_frame(struct peer *p, uint8_t type, const uint8_t *body, size_t len);
/* The listener of that name, or NULL. */
const struct peer_listener *fake_listener(const char *name);

/* Helpers: parse or fail the test. */
struct hgw_addr fake_addr(const char *s);
struct hgw_prefix fake_prefix(const char *s);
/* How many lines of the log ring contain text. */
int fake_log_count(const char *text);

#endif
