/* fsm.h: the session state machine's transitions, hold-time negotiation,
 * connection-collision rule and reconnect back-off. Pure code.
 *
 *        dial                connected             HELLO received
 *  IDLE ------> CONNECT ------------------> HELLO_SENT -------------> ESTABLISHED
 *   ^   (inbound accept starts at HELLO_SENT)   |                         |
 *   |                                           | error, NOTIFY, close,   |
 *   +-------------------------------------------+ hold or hello timeout --+
 */
#ifndef HGW_FSM_H
#define HGW_FSM_H

#include <stdint.h>

enum hgw_state {
	HGW_ST_IDLE = 0,
	HGW_ST_CONNECT,
	HGW_ST_HELLO_SENT,
	HGW_ST_ESTABLISHED,
};

enum hgw_event {
	HGW_EV_CONNECTED,	/* transport is up (TCP, and TLS when used) */
	HGW_EV_CONNECT_FAIL,
	HGW_EV_RX_HELLO,	/* a well-formed, acceptable HELLO */
	HGW_EV_RX_KEEPALIVE,
	HGW_EV_RX_UPDATE,	/* a well-formed UPDATE */
	HGW_EV_RX_EOR,
	HGW_EV_RX_NOTIFY,
	HGW_EV_RX_MALFORMED,	/* any frame that failed to decode */
	HGW_EV_HOLD_EXPIRED,
	HGW_EV_HELLO_TIMEOUT,
	HGW_EV_CLOSED,		/* the transport closed or failed */
	HGW_EV_STOP,		/* local decision to end the session */
};

/* What the caller must do, in this order. */
#define HGW_ACT_SEND_HELLO	0x01u
#define HGW_ACT_ESTABLISH	0x02u	/* negotiate timers, send table + END-OF-RIB */
#define HGW_ACT_APPLY		0x04u	/* apply the message to the RIB */
#define HGW_ACT_RESET_HOLD	0x08u
#define HGW_ACT_SEND_NOTIFY	0x10u	/* code/subcode in the result, or the caller's */
#define HGW_ACT_DROP_ROUTES	0x20u	/* the session was established: drop its paths */
#define HGW_ACT_CLOSE		0x40u

struct hgw_fsm_out {
	enum hgw_state next;
	unsigned actions;
	uint8_t code, subcode;	/* for SEND_NOTIFY when the FSM picks the code */
};

struct hgw_fsm_out hgw_fsm_step(enum hgw_state st, enum hgw_event ev);
const char *hgw_state_name(enum hgw_state st);
const char *hgw_event_name(enum hgw_event ev);

/* Hold time is the smaller of the two; keepalive is ours, but at most a
 * third of the hold time and at least HGW_KEEPALIVE_MIN_MS. */
void hgw_negotiate_timers(uint32_t local_hold_ms, uint32_t local_ka_ms,
    uint32_t remote_hold_ms, uint32_t *hold_ms, uint32_t *ka_ms);

/* Both sides may dial: keep the connection opened by the lower node id.
 * Returns 1 when a connection we (outbound) or the peer (inbound) opened
 * should be kept. */
int hgw_collision_keep(uint32_t local_id, uint32_t remote_id, int outbound);

/* Exponential back-off: the next base delay after cur (0 = first try). */
uint32_t hgw_backoff_next(uint32_t cur_ms, uint32_t min_ms, uint32_t max_ms);
/* The delay to use: base scaled into [0.75, 1.25) by rnd (any 32-bit value). */
uint32_t hgw_backoff_jitter(uint32_t base_ms, uint32_t rnd);

#endif
