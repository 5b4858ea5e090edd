/* fib.h: keeps the kernel FIB in step with the RIB (fib.c). The RIB's dirty
 * hook schedules a flush; kernel events come in through fib_on_route,
 * fib_on_link and fib_on_overrun, which main.c wires into the kernel's
 * callback; the sweep of stale routes waits for the initial sync (sync.c). */
#ifndef HGW_FIB_H
#define HGW_FIB_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct hgwd;
struct fib;
struct rib_entry;
struct kernel_params;

struct fib *fib_new(struct hgwd *d);
void fib_free(struct fib *f);
/* Reads what the kernel holds and subscribes to the end of the initial sync. */
int fib_start(struct fib *f);
void fib_schedule(void *f);		/* the RIB's dirty hook */
/* Kernel events (arg: the fib). */
void fib_on_route(void *f, int add, const struct hgw_prefix *p, const struct hgw_addr *gw,
    uint32_t metric);
void fib_on_link(struct fib *f, int resync);
void fib_on_overrun(void *f);
/* The kernel parameters changed from old: rewrite every route. */
void fib_params_changed(struct fib *f, const struct kernel_params *old);
void fib_reevaluate_all(struct fib *f);
/* How many routes of our protocol the kernel held at the start (an earlier
 * run's, adopted: kept until the initial sync is over). */
size_t fib_adopted(const struct fib *f);
/* How many RIB entries the kernel holds a route for (fib_nh set): 0 lets a
 * walk for installed routes be skipped. */
size_t fib_held(const struct fib *f);
uint64_t fib_resyncs(const struct fib *f);	/* full comparisons with the kernel so far */
void fib_shutdown(struct fib *f);	/* remove every route we installed */
/* What the kernel holds for e, against what it should; reason says why. */
enum fib_state {
	FIB_ST_NONE,		/* no path, nothing installed */
	FIB_ST_STALE,		/* no path; left from before, swept after the initial sync */
	FIB_ST_LOCAL,		/* our own network */
	FIB_ST_DISABLED,	/* kernel off */
	FIB_ST_INSTALLED,
	FIB_ST_PENDING,
	FIB_ST_NOT_INSTALLED,	/* the gateway is not usable */
	FIB_ST_FAILED,		/* the kernel refused it */
};
enum fib_state fib_state(struct hgwd *d, const struct rib_entry *e, char *reason, size_t rlen);
const char *fib_state_str(enum fib_state st);

#endif
