/* session.h: one transport connection with another node: its I/O, its
 * timers and its state machine (proto/fsm.c decides every transition). A
 * session knows nothing of peers, leases or members: it reports what
 * happens to its owner through struct session_ops, the owner (peer.c)
 * decides what it means.
 *
 *        dial                connected             HELLO received
 *  IDLE ------> CONNECT ------------------> HELLO_SENT -------------> ESTABLISHED
 *   (an accepted connection starts IDLE: connected once TCP/TLS is up)
 *   every failure, NOTIFY, stop, hold or hello timeout ends the session.
 */
#ifndef HGW_SESSION_H
#define HGW_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "fsm.h"
#include "wire.h"

struct hgwd;
struct session;

#define HGW_SESSION_OUTPUT_MAX	(8 * 1024 * 1024)	/* queued before a peer is dropped */

/* Counted by the session for its owner (a peer's counters). */
struct session_stats {
	uint64_t msgs_in, msgs_out, notify_in, notify_out, errors;
};

/* How a session ended, for its owner's close callback. */
struct session_end {
	const char *why;		/* human-readable reason */
	enum hgw_event ev;		/* the event that ended it */
	int code, sub;			/* NOTIFY sent (0: none) */
	int rx_code, rx_sub;		/* NOTIFY received (rx_notify set) */
	int rx_notify;
	int was_established;		/* it had reached ESTABLISHED */
	int confirmed;			/* ... and the peer had taken our HELLO */
	int drop_routes;		/* the FSM's DROP_ROUTES action */
	int connecting;			/* it never got past the transport (dial failed) */
	int refused;			/* ... answered by a reset: the host is up */
	uint64_t established_ms;
	uint32_t hold_ms;
};

struct session_ops {
	/* Our HELLO for this session. */
	void (*make_hello)(void *owner, struct session *s, struct hgw_hello *h);
	/* A well-formed HELLO arrived: 0 to accept, -1 with err filled to refuse. */
	int (*check_hello)(void *owner, struct session *s, const struct hgw_hello *h,
	    struct hgw_err *err);
	/* The FSM established s: settle collisions, send the table. -1 when s
	 * is gone (it lost a collision). */
	int (*establish)(void *owner, struct session *s);
	/* The first frame after HELLO: the peer took our HELLO. */
	void (*confirmed)(void *owner, struct session *s);
	/* A validated UPDATE, MEMBERS or LEASE body to apply. -1 when s is gone. */
	int (*frame)(void *owner, struct session *s, uint8_t type, const uint8_t *body,
	    size_t len);
	void (*eor)(void *owner, struct session *s);
	/* s ended; the owner forgets it (the session frees itself after). */
	void (*closed)(void *owner, struct session *s, const struct session_end *end);
};

/* A new session on fd (connected or being connected); outbound: we dialled. */
struct session *session_new(struct hgwd *d, int fd, int outbound, const char *name,
    const struct session_ops *ops, void *owner, struct session_stats *stats);
/* Starts an outbound connect to addr:port; -1 when it failed at once (s is closed). */
int session_connect(struct session *s, const struct hgw_addr *addr, uint16_t port);
/* An accepted connection: starts the handshake deadline (TLS) or the HELLO. */
void session_accepted(struct session *s);
/* Ends s through the FSM's STOP event: NOTIFY code/sub (0: none) when the
 * transport is up. The owner's closed callback runs before this returns. */
void session_stop(struct session *s, int code, int sub, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Takes s from its owner without a callback (the owner is going away);
 * the session flushes what is queued and frees itself. */
void session_orphan(struct session *s);
/* Frees s at once (the owner is being freed, nothing to flush). */
void session_destroy(struct session *s);

void session_send(struct session *s, const uint8_t *buf, size_t len);
/* Ends s from the event loop with NOTIFY cease/out of resources (why, a
 * static string, goes to the log); nothing more is sent on it before. */
void session_fail_later(struct session *s, const char *why);
void session_send_keepalive(struct session *s);
/* Our link went: no KEEPALIVE is written while it is down (one left unacked
 * would put the stream into TCP's retransmission back-off, and the next frame
 * after the link is back behind it). The hold timer runs on. */
void session_pause(struct session *s);
/* Our link came back: an established session gets a fresh hold time (the
 * peer could not reach us while it was down), its keepalives again and a
 * KEEPALIVE at once, sent at once since nothing is outstanding. */
void session_kick(struct session *s);
/* A keepalive datagram from the peer (liveness.c): a fresh hold time, but
 * only while the stream itself delivered a frame within the last
 * SESSION_HEARD_HOLDS hold times (a stream dead for good still ends the
 * session, a few hold times later). 1 when the hold time was renewed. */
#define SESSION_HEARD_HOLDS	3
int session_heard(struct session *s);
/* Is something we sent on s not yet acknowledged by the peer (queued here
 * or in the kernel)? 1 also when that cannot be told. */
int session_unacked(const struct session *s);
uint64_t session_sent_ms(const struct session *s);	/* the last frame we sent */
/* Plain TCP: frames sent while corked leave in as few segments as fit when
 * uncorked (TCP_CORK), not one segment each. */
void session_cork(struct session *s, int on);
/* Keepalives per negotiated interval: SESSION_KA_DIV (4) unless set; 1
 * where keepalive datagrams carry the link-flap margin (liveness.c). */
#define SESSION_KA_DIV	4
void session_set_keepalive_div(struct session *s, uint32_t div);
void session_send_notify(struct session *s, int code, int sub, const char *text);

enum hgw_state session_state(const struct session *s);
int session_outbound(const struct session *s);
int session_confirmed(const struct session *s);
int session_replaced(const struct session *s);
void session_set_replaced(struct session *s, int replaced);
const struct hgw_hello *session_hello(const struct session *s);	/* theirs */
uint32_t session_hold_ms(const struct session *s);		/* negotiated */
uint32_t session_keepalive_ms(const struct session *s);
uint64_t session_established_ms(const struct session *s);
uint64_t session_started_ms(const struct session *s);
int session_pending(const struct session *s);	/* inbound, before HELLO */
size_t session_queued(const struct session *s);	/* output bytes queued */

/* Daemon-wide counts live in struct hgwd: npending (inbound sessions in
 * their handshake) and nclosing (sessions flushing a last NOTIFY; the last
 * one breaks the event loop while the daemon stops). */

#endif
