/* stats.c: the daemon's numbers in one plain snapshot. It reads peers
 * through peer.c's accessors: the metrics endpoint and systemd's STATUS take their numbers from here. */
#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hgwd.h"
#include "fib.h"
#include "kernel.h"
#include "listen.h"
#include "sync.h"
#include "lease.h"
#include "log.h"
#include "peer.h"
#include "util.h"

/* The state show peers prints: the established session's, else the most
 * advanced of the peer's sessions, else idle. */
static const char *
peer_state(const struct peer *p)
{
	return hgw_state_name(peer_fsm_state(p));
}

static void
count_entry(void *arg, struct rib_entry *e)
{
	struct stats *s = arg;
	struct rib_path *b = rib_best(e);

	if (b == NULL)
		return;
	if (b->peer == NULL)
		s->local++;
	else
		s->learned++;
	if (e->fib_nh != NULL && e->fib_nh == b->nh)
		s->installed++;
	else if (b->peer != NULL && e->fib_err != 0)
		s->failed++;
}

static int
cmp_peer(const void *a, const void *b)
{
	const struct stats_peer *x = a, *y = b;
	struct hgw_addr ax, ay;

	if (hgw_addr_parse(x->name, &ax) < 0 || hgw_addr_parse(y->name, &ay) < 0)
		return strcmp(x->name, y->name);
	return hgw_addr_cmp(&ax, &ay);
}

static void
count_state(struct stats *s, const char *state)
{
	size_t i;

	for (i = 0; i < s->nstates; i++)
		if (strcmp(s->state_names[i], state) == 0)
			break;
	if (i == s->nstates) {
		if (s->nstates == STATS_NSTATES)
			return;
		s->state_names[s->nstates++] = state;
	}
	s->by_state[i]++;
}

int
stats_collect(struct hgwd *d, struct stats *s)
{
	const struct kernel_stats *ks = kernel_stats(d->kernel);
	struct hgw_prefix own[2];
	struct listen_stats ls;
	struct peer *p;
	size_t n = 0, cap = 0;
	int i, nown;
	static const enum hgw_state all[] = {
		HGW_ST_IDLE, HGW_ST_CONNECT, HGW_ST_HELLO_SENT, HGW_ST_ESTABLISHED,
	};

	memset(s, 0, sizeof(*s));
	s->uptime_ms = now_ms() - d->start_ms;
	/* Every state is reported, with 0 when no peer is in it. */
	s->state_names[s->nstates++] = "idle";
	for (i = 1; i < (int)(sizeof(all) / sizeof(all[0])); i++)
		s->state_names[s->nstates++] = hgw_state_name(all[i]);
	TAILQ_FOREACH(p, &d->peers, entry) {
		struct stats_peer *sp;

		if (grow_array((void **)&s->peers, &cap, n + 1, sizeof(*s->peers)) < 0) {
			stats_free(s);
			return -1;
		}
		sp = &s->peers[n++];
		memset(sp, 0, sizeof(*sp));
		snprintf(sp->name, sizeof(sp->name), "%s", p->name);
		sp->state = peer_state(p);
		sp->configured = p->configured;
		sp->flaps = p->flaps;
		sp->pfx_received = p->pfx_received;
		sp->pfx_accepted = p->pfx_accepted;
		sp->pfx_refused = p->pfx_refused;
		sp->errors = p->st.errors;
		s->nconfigured += p->configured != 0;
		s->nestablished += peer_is_up(p);
		count_state(s, sp->state);
	}
	s->npeers = n;
	if (n > 1)
		qsort(s->peers, n, sizeof(*s->peers), cmp_peer);
	s->prefixes = d->rib.count;
	s->paths = d->rib.npaths;
	s->conflicts = d->rib.nconflicts;
	rib_foreach(&d->rib, count_entry, s);
	s->kernel_on = d->cfg.kernel_on;
	s->kernel_writes = ks->ops;
	s->kernel_batches = ks->batches;
	s->kernel_errors = ks->errors;
	s->kernel_overruns = ks->overruns;
	s->resyncs = fib_resyncs(d->fib);
	s->sync_done = sync_done(d->sync);
	s->lease_wanted[0] = d->cfg.lease_len[0] != 0;
	s->lease_wanted[1] = d->cfg.lease_len[1] != 0;
	nown = d->leases != NULL ? leases_own(d, own, 2) : 0;
	for (i = 0; i < nown; i++)
		s->lease_held[own[i].family == AF_INET ? 0 : 1] = 1;
	listen_get_stats(d, &ls);
	s->refused = ls.refused;
	s->log_suppressed = log_suppressed();
	return 0;
}

void
stats_free(struct stats *s)
{
	free(s->peers);
	s->peers = NULL;
	s->npeers = 0;
}

const char *
stats_not_ready(const struct stats *s, char *buf, size_t len)
{
	int fi;

	if (!s->sync_done) {
		snprintf(buf, len, "initial sync in progress: waiting for every neighbor's END-OF-RIB or the startup timer");
		return buf;
	}
	for (fi = 0; fi < 2; fi++)
		if (s->lease_wanted[fi] && !s->lease_held[fi]) {
			snprintf(buf, len, "no %s lease held yet", fi ? "IPv6" : "IPv4");
			return buf;
		}
	return NULL;
}
