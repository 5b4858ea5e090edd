/* stats.h: one snapshot of the daemon's numbers (peers, routes, kernel,
 * lease, counters) for the metrics endpoint, systemd's STATUS and the show
 * commands, so that all of them report the same values at the same moment. */
#ifndef HGW_STATS_H
#define HGW_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct hgwd;

#define STATS_NSTATES	5	/* idle, connect, hello-sent, established, and a spare */

struct stats_peer {
	char name[HGW_ADDRSTRLEN];
	const char *state;		/* as in show peers: "established", "idle", ... */
	int configured;
	uint64_t flaps;
	uint64_t pfx_received, pfx_refused;
	uint32_t pfx_accepted;
	uint64_t errors;
};

struct stats {
	uint64_t uptime_ms;
	/* peers, sorted by address */
	struct stats_peer *peers;
	size_t npeers, nconfigured, nestablished;
	const char *state_names[STATS_NSTATES];
	size_t by_state[STATS_NSTATES];
	size_t nstates;
	/* the RIB, as show summary counts it */
	size_t prefixes, paths, local, learned, installed, failed, conflicts;
	/* the kernel */
	int kernel_on;
	uint64_t kernel_writes, kernel_batches, kernel_errors, kernel_overruns;
	uint64_t resyncs;
	int sync_done;
	/* leases: per family ([0] IPv4, [1] IPv6) configured and held */
	int lease_wanted[2], lease_held[2];
	/* refused connections, log lines left out */
	uint64_t refused, log_suppressed;
};

/* Fills s; s->peers is allocated (NULL when there are none). 0, or -1 out
 * of memory (s is then empty). */
int stats_collect(struct hgwd *d, struct stats *s);
void stats_free(struct stats *s);
/* Why the daemon is not ready (initial sync, lease), or NULL when it is. */
const char *stats_not_ready(const struct stats *s, char *buf, size_t len);

#endif
