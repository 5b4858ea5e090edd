/* ratelog.c: rate-limits the log lines a remote party can cause, per
 * source address (a small table, oldest slot reused) and in total. */
#include "ratelog.h"

#include <string.h>

#include "log.h"
#include "util.h"

#define SLOTS	64

static struct {
	struct hgw_addr addr;
	uint64_t window_ms;
	unsigned n;
} slot[SLOTS];
static uint64_t total_window_ms;
static unsigned total_n;

static unsigned
slot_of(const struct hgw_addr *a)
{
	unsigned h = 2166136261u, i, oldest = 0;
	size_t k;

	for (k = 0; k < sizeof(a->bytes); k++)
		h = (h ^ a->bytes[k]) * 16777619u;
	/* Probe a few slots: the address's own, else the least recent. */
	for (i = 0; i < 4; i++) {
		unsigned s = (h + i) % SLOTS;

		if (hgw_addr_cmp(&slot[s].addr, a) == 0)
			return s;
		if (slot[s].window_ms < slot[(h + oldest) % SLOTS].window_ms)
			oldest = i;
	}
	return (h + oldest) % SLOTS;
}

int
ratelog_allow(const struct hgw_addr *src)
{
	uint64_t now = now_ms();

	if (now - total_window_ms >= RATELOG_WINDOW_MS) {
		total_window_ms = now;
		total_n = 0;
	}
	if (src != NULL) {
		unsigned s = slot_of(src);

		if (hgw_addr_cmp(&slot[s].addr, src) != 0 ||
		    now - slot[s].window_ms >= RATELOG_WINDOW_MS) {
			slot[s].addr = *src;
			slot[s].window_ms = now;
			slot[s].n = 0;
		}
		if (slot[s].n >= RATELOG_PER_SOURCE) {
			log_count_suppressed();
			return 0;
		}
		slot[s].n++;
	}
	if (total_n >= RATELOG_TOTAL) {
		log_count_suppressed();
		return 0;
	}
	total_n++;
	return 1;
}
