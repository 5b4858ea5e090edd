/* budget.h: one output budget across every session: the bytes queued for
 * all peers together. A peer that does not read is closed once its own
 * queue is over HGW_SESSION_OUTPUT_MAX, or over BUDGET_SHARE_MIN while the
 * total is over BUDGET_TOTAL (so many slow readers cannot add up). */
#ifndef HGW_BUDGET_H
#define HGW_BUDGET_H

#include <stddef.h>

#define BUDGET_TOTAL		(32u * 1024 * 1024)	/* queued for all peers together */
#define BUDGET_SHARE_MIN	(256u * 1024)		/* a queue never closed below this */

struct evbuffer;
struct evbuffer_cb_entry;

/* Counts what is added to and drained from out; NULL on failure. */
struct evbuffer_cb_entry *budget_track(struct evbuffer *out);
/* Stops counting out (before it is freed), giving its bytes back. */
void budget_untrack(struct evbuffer *out, struct evbuffer_cb_entry *e);
size_t budget_used(void);
/* Must a session with queued bytes for its peer be closed? */
int budget_over(size_t queued);

#endif
