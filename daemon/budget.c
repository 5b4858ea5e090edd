/* budget.c: the global output budget: evbuffer callbacks keep the total
 * of the bytes queued for every peer. */
#include "budget.h"

#include <event2/buffer.h>

#include "config.h"
#include "session.h"

static size_t used;
static size_t total = CFG_DEFAULT_OUTPUT_BUDGET;

static void
count(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	used += info->n_added;
	used -= info->n_deleted < used ? info->n_deleted : used;
}

struct evbuffer_cb_entry *
budget_track(struct evbuffer *out)
{
	used += evbuffer_get_length(out);
	return evbuffer_add_cb(out, count, NULL);
}

void
budget_untrack(struct evbuffer *out, struct evbuffer_cb_entry *e)
{
	size_t n = evbuffer_get_length(out);

	if (e != NULL)
		evbuffer_remove_cb_entry(out, e);
	used -= n < used ? n : used;
}

size_t
budget_used(void)
{
	return used;
}

void
budget_set(size_t n)
{
	total = n;
}

size_t
budget_total(void)
{
	return total;
}

int
budget_over(size_t queued, size_t adding)
{
	queued += adding;
	return queued > HGW_SESSION_OUTPUT_MAX ||
	    (used + adding > total && queued > total / BUDGET_SHARES);
}
