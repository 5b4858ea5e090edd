/* budget.h: one output budget across every session: the bytes queued for
 * all peers together. A peer that does not read is closed once its own
 * queue is over HGW_SESSION_OUTPUT_MAX, or over its share (the budget / 128)
 * while the total is over the budget ("limits output-budget", 32 MiB by
 * default), so many slow readers cannot add up. */
#ifndef HGW_BUDGET_H
#define HGW_BUDGET_H

#include <stddef.h>

#define BUDGET_SHARES		128	/* a queue is never closed below budget / this */

struct evbuffer;
struct evbuffer_cb_entry;

/* Counts what is added to and drained from out; NULL on failure. */
struct evbuffer_cb_entry *budget_track(struct evbuffer *out);
/* Stops counting out (before it is freed), giving its bytes back. */
void budget_untrack(struct evbuffer *out, struct evbuffer_cb_entry *e);
size_t budget_used(void);
/* The budget in bytes (reconfigured with "limits output-budget"). */
void budget_set(size_t total);
size_t budget_total(void);
/* Would a session with queued bytes for its peer be over its bounds once
 * adding more is queued? Then it is closed and they are not queued. */
int budget_over(size_t queued, size_t adding);

#endif
