/* fsm.c: session state machine transitions, timer negotiation, collision rule, back-off. */
#include "fsm.h"
#include "wire.h"

static struct hgw_fsm_out
out(enum hgw_state next, unsigned actions)
{
	struct hgw_fsm_out o = { next, actions, 0, 0 };

	return o;
}

static struct hgw_fsm_out
fail(enum hgw_state st, unsigned extra, int code, int sub)
{
	struct hgw_fsm_out o;

	o.next = HGW_ST_IDLE;
	o.actions = HGW_ACT_CLOSE | extra;
	if (st == HGW_ST_ESTABLISHED)
		o.actions |= HGW_ACT_DROP_ROUTES;
	o.code = (uint8_t)code;
	o.subcode = (uint8_t)sub;
	return o;
}

struct hgw_fsm_out
hgw_fsm_step(enum hgw_state st, enum hgw_event ev)
{
	switch (st) {
	case HGW_ST_IDLE:
	case HGW_ST_CONNECT:
		switch (ev) {
		case HGW_EV_CONNECTED:
			return out(HGW_ST_HELLO_SENT, HGW_ACT_SEND_HELLO);
		case HGW_EV_CONNECT_FAIL:
		case HGW_EV_CLOSED:
		case HGW_EV_STOP:
		case HGW_EV_HELLO_TIMEOUT:
			return fail(st, 0, 0, 0);
		default:
			/* No frame can arrive before the transport is up. */
			return fail(st, 0, 0, 0);
		}
	case HGW_ST_HELLO_SENT:
		switch (ev) {
		case HGW_EV_RX_HELLO:
			return out(HGW_ST_ESTABLISHED,
			    HGW_ACT_ESTABLISH | HGW_ACT_RESET_HOLD);
		case HGW_EV_RX_KEEPALIVE:
		case HGW_EV_RX_UPDATE:
		case HGW_EV_RX_EOR:
		case HGW_EV_CONNECTED:
			return fail(st, HGW_ACT_SEND_NOTIFY, HGW_ERR_FSM, 0);
		case HGW_EV_HELLO_TIMEOUT:
		case HGW_EV_HOLD_EXPIRED:
			return fail(st, HGW_ACT_SEND_NOTIFY, HGW_ERR_HOLD, 0);
		case HGW_EV_RX_MALFORMED:
		case HGW_EV_STOP:
			/* The caller supplies the code. */
			return fail(st, HGW_ACT_SEND_NOTIFY, 0, 0);
		case HGW_EV_RX_NOTIFY:
		case HGW_EV_CONNECT_FAIL:
		case HGW_EV_CLOSED:
			return fail(st, 0, 0, 0);
		}
		break;
	case HGW_ST_ESTABLISHED:
		switch (ev) {
		case HGW_EV_RX_KEEPALIVE:
			return out(st, HGW_ACT_RESET_HOLD);
		case HGW_EV_RX_UPDATE:
		case HGW_EV_RX_EOR:
			return out(st, HGW_ACT_APPLY | HGW_ACT_RESET_HOLD);
		case HGW_EV_RX_HELLO:
		case HGW_EV_CONNECTED:
			return fail(st, HGW_ACT_SEND_NOTIFY, HGW_ERR_FSM, 0);
		case HGW_EV_HOLD_EXPIRED:
		case HGW_EV_HELLO_TIMEOUT:
			return fail(st, HGW_ACT_SEND_NOTIFY, HGW_ERR_HOLD, 0);
		case HGW_EV_RX_MALFORMED:
		case HGW_EV_STOP:
			return fail(st, HGW_ACT_SEND_NOTIFY, 0, 0);
		case HGW_EV_RX_NOTIFY:
		case HGW_EV_CONNECT_FAIL:
		case HGW_EV_CLOSED:
			return fail(st, 0, 0, 0);
		}
		break;
	}
	return fail(st, 0, 0, 0);
}

const char *
hgw_state_name(enum hgw_state st)
{
	switch (st) {
	case HGW_ST_IDLE:		return "idle";
	case HGW_ST_CONNECT:		return "connect";
	case HGW_ST_HELLO_SENT:		return "hello-sent";
	case HGW_ST_ESTABLISHED:	return "established";
	}
	return "unknown";
}

const char *
hgw_event_name(enum hgw_event ev)
{
	switch (ev) {
	case HGW_EV_CONNECTED:		return "connected";
	case HGW_EV_CONNECT_FAIL:	return "connect-failed";
	case HGW_EV_RX_HELLO:		return "hello";
	case HGW_EV_RX_KEEPALIVE:	return "keepalive";
	case HGW_EV_RX_UPDATE:		return "update";
	case HGW_EV_RX_EOR:		return "end-of-rib";
	case HGW_EV_RX_NOTIFY:		return "notify";
	case HGW_EV_RX_MALFORMED:	return "malformed";
	case HGW_EV_HOLD_EXPIRED:	return "hold-expired";
	case HGW_EV_HELLO_TIMEOUT:	return "hello-timeout";
	case HGW_EV_CLOSED:		return "closed";
	case HGW_EV_STOP:		return "stop";
	}
	return "unknown";
}

void
hgw_negotiate_timers(uint32_t local_hold_ms, uint32_t local_ka_ms,
    uint32_t remote_hold_ms, uint32_t *hold_ms, uint32_t *ka_ms)
{
	uint32_t hold = local_hold_ms < remote_hold_ms ? local_hold_ms : remote_hold_ms;
	uint32_t ka = local_ka_ms;

	if (ka > hold / 3)
		ka = hold / 3;
	if (ka < HGW_KEEPALIVE_MIN_MS)
		ka = HGW_KEEPALIVE_MIN_MS;
	*hold_ms = hold;
	*ka_ms = ka;
}

int
hgw_collision_keep(uint32_t local_id, uint32_t remote_id, int outbound)
{
	uint32_t opener = outbound ? local_id : remote_id;
	uint32_t other = outbound ? remote_id : local_id;

	return opener < other;
}

uint32_t
hgw_backoff_next(uint32_t cur_ms, uint32_t min_ms, uint32_t max_ms)
{
	uint64_t next = cur_ms == 0 ? min_ms : (uint64_t)cur_ms * 2;

	if (next < min_ms)
		next = min_ms;
	if (next > max_ms)
		next = max_ms;
	return (uint32_t)next;
}

uint32_t
hgw_backoff_jitter(uint32_t base_ms, uint32_t rnd)
{
	/* An integer in [ceil(0.75 base), ceil(1.25 base)), that is every d
	 * with 0.75 base <= d < 1.25 base, picked by rnd / 2^32. */
	uint64_t lo = base_ms - base_ms / 4;
	uint64_t hi = (uint64_t)base_ms + ((uint64_t)base_ms + 3) / 4;
	uint64_t d = lo + (((hi - lo) * rnd) >> 32);

	return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}
