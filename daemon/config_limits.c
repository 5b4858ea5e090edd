/* config_limits.c: the "limits" statements (what peers can make us hold:
 * learned members, member dials, queued output, sessions per address) and
 * "static-hosts" (hosts that may announce static networks without a lease
 * in lease mode); parsed for config.c, printed for config_write.c. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void
config_limits_init(struct cfg_limits *l)
{
	l->members = CFG_DEFAULT_MEMBERS;
	l->members_per_sender = CFG_DEFAULT_MEMBERS_PER_SENDER;
	l->dial_rate = CFG_DEFAULT_DIAL_RATE;
	l->dial_burst = CFG_DEFAULT_DIAL_BURST;
	l->output_budget = CFG_DEFAULT_OUTPUT_BUDGET;
	l->sessions_per_source = CFG_DEFAULT_SESSIONS_PER_SOURCE;
}

/* "SIZE": bytes, or with K, M or G (binary: 1K = 1024). */
static int
parse_size(const char *s, uint64_t *out)
{
	char buf[32];
	size_t len = strlen(s);
	uint64_t mul = 1;
	unsigned long v;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len + 1);
	switch (buf[len - 1]) {
	case 'k': case 'K': mul = 1024; break;
	case 'm': case 'M': mul = 1024 * 1024; break;
	case 'g': case 'G': mul = 1024 * 1024 * 1024; break;
	default: break;
	}
	if (mul != 1)
		buf[len - 1] = '\0';
	if (hgw_parse_uint(buf, 1, 0xffffffffUL, &v) < 0)
		return -1;
	*out = (uint64_t)v * mul;
	return 0;
}

static void
fmt_size(uint64_t v, char *buf, size_t len)
{
	if (v % (1024 * 1024 * 1024) == 0)
		snprintf(buf, len, "%lluG", (unsigned long long)(v >> 30));
	else if (v % (1024 * 1024) == 0)
		snprintf(buf, len, "%lluM", (unsigned long long)(v >> 20));
	else if (v % 1024 == 0)
		snprintf(buf, len, "%lluK", (unsigned long long)(v >> 10));
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
}

#define LIMITS_USAGE "usage: limits members N [per-sender M] | limits member-dials RATE [burst N] | " \
	"limits output-budget SIZE | limits sessions-per-source N"

static int
st_limits(struct cfg_limits *l, int neg, char **w, int n, char *err, size_t errlen)
{
	struct cfg_limits def;
	unsigned long a, b;

	config_limits_init(&def);
	if (neg && n == 1) {
		*l = def;
		return 0;
	}
	if (n < 2)
		return errf(err, errlen, LIMITS_USAGE);
	if (strcmp(w[1], "members") == 0) {
		if (neg) {
			l->members = def.members;
			l->members_per_sender = def.members_per_sender;
			return 0;
		}
		if ((n != 3 && n != 5) || (n == 5 && strcmp(w[3], "per-sender") != 0))
			return errf(err, errlen, "usage: limits members N [per-sender M]");
		if (hgw_parse_uint(w[2], 1, CFG_MEMBERS_MAX, &a) < 0)
			return errf(err, errlen, "limits members: '%s' is not 1..%d", w[2], CFG_MEMBERS_MAX);
		b = a < CFG_DEFAULT_MEMBERS_PER_SENDER ? a : CFG_DEFAULT_MEMBERS_PER_SENDER;
		if (n == 5 && hgw_parse_uint(w[4], 1, a, &b) < 0)
			return errf(err, errlen, "limits members: per-sender '%s' is not 1..%lu (the total)",
			    w[4], a);
		l->members = (uint32_t)a;
		l->members_per_sender = (uint32_t)b;
		return 0;
	}
	if (strcmp(w[1], "member-dials") == 0) {
		if (neg) {
			l->dial_rate = def.dial_rate;
			l->dial_burst = def.dial_burst;
			return 0;
		}
		if ((n != 3 && n != 5) || (n == 5 && strcmp(w[3], "burst") != 0))
			return errf(err, errlen, "usage: limits member-dials RATE [burst N]");
		if (hgw_parse_uint(w[2], 1, CFG_DIAL_RATE_MAX, &a) < 0)
			return errf(err, errlen, "limits member-dials: rate '%s' is not 1..%d a second",
			    w[2], CFG_DIAL_RATE_MAX);
		b = CFG_DEFAULT_DIAL_BURST;
		if (n == 5 && hgw_parse_uint(w[4], 1, CFG_MEMBERS_MAX, &b) < 0)
			return errf(err, errlen, "limits member-dials: burst '%s' is not 1..%d",
			    w[4], CFG_MEMBERS_MAX);
		l->dial_rate = (uint32_t)a;
		l->dial_burst = (uint32_t)b;
		return 0;
	}
	if (strcmp(w[1], "output-budget") == 0) {
		uint64_t v;

		if (neg) {
			l->output_budget = def.output_budget;
			return 0;
		}
		if (n != 3)
			return errf(err, errlen, "usage: limits output-budget SIZE");
		if (parse_size(w[2], &v) < 0 || v < CFG_OUTPUT_BUDGET_MIN || v > CFG_OUTPUT_BUDGET_MAX)
			return errf(err, errlen, "limits output-budget: '%s' is not a size of 1M..4G "
			    "(bytes, or with K, M or G)", w[2]);
		l->output_budget = v;
		return 0;
	}
	if (strcmp(w[1], "sessions-per-source") == 0) {
		if (neg) {
			l->sessions_per_source = def.sessions_per_source;
			return 0;
		}
		if (n != 3 || hgw_parse_uint(w[2], 1, CFG_DEFAULT_SESSIONS_PER_SOURCE, &a) < 0)
			return errf(err, errlen, "usage: limits sessions-per-source 1..%d",
			    CFG_DEFAULT_SESSIONS_PER_SOURCE);
		l->sessions_per_source = (uint32_t)a;
		return 0;
	}
	return errf(err, errlen, "limits %s: unknown; " LIMITS_USAGE, w[1]);
}

/* "static-hosts PREFIX": a list like allow (no duplicates). */
static int
st_static_hosts(struct config *c, int neg, char **w, int n, char *err, size_t errlen)
{
	struct hgw_prefix p;
	const char *why;
	size_t i;

	if (n != 2)
		return errf(err, errlen, "usage: %sstatic-hosts PREFIX", neg ? "no " : "");
	if (hgw_prefix_parse(w[1], &p, &why) < 0)
		return errf(err, errlen, "static-hosts %s: %s", w[1], why);
	for (i = 0; i < c->nstatic_hosts; i++)
		if (hgw_prefix_eq(&c->static_hosts[i], &p))
			break;
	if (neg) {
		if (i == c->nstatic_hosts)
			return errf(err, errlen, "static-hosts %s is not configured", w[1]);
		memmove(&c->static_hosts[i], &c->static_hosts[i + 1],
		    (c->nstatic_hosts - i - 1) * sizeof(p));
		c->nstatic_hosts--;
		return 0;
	}
	if (i < c->nstatic_hosts)
		return 0;
	if (grow_array((void **)&c->static_hosts, &c->static_hosts_cap, c->nstatic_hosts + 1,
	    sizeof(p)) < 0)
		return errf(err, errlen, "out of memory");
	c->static_hosts[c->nstatic_hosts++] = p;
	return 0;
}

int
config_limits_statement(struct config *c, int neg, char **w, int n, char *err, size_t errlen)
{
	if (strcmp(w[0], "limits") == 0)
		return st_limits(&c->limits, neg, w, n, err, errlen);
	return st_static_hosts(c, neg, w, n, err, errlen);
}

int
config_static_host(const struct config *c, const struct hgw_addr *a)
{
	size_t i;

	for (i = 0; i < c->nstatic_hosts; i++)
		if (hgw_prefix_contains_addr(&c->static_hosts[i], a))
			return 1;
	return 0;
}

static int
cmp_prefix(const void *a, const void *b)
{
	return hgw_prefix_cmp(a, b);
}

void
config_limits_write(const struct config *c, FILE *f)
{
	const struct cfg_limits *l = &c->limits;
	struct cfg_limits def;
	struct hgw_prefix *sorted;
	char buf[HGW_ADDRSTRLEN];
	size_t i;

	config_limits_init(&def);
	if (c->nstatic_hosts > 0 &&
	    (sorted = malloc(c->nstatic_hosts * sizeof(*sorted))) != NULL) {
		memcpy(sorted, c->static_hosts, c->nstatic_hosts * sizeof(*sorted));
		qsort(sorted, c->nstatic_hosts, sizeof(*sorted), cmp_prefix);
		for (i = 0; i < c->nstatic_hosts; i++)
			fprintf(f, " static-hosts %s\n", hgw_prefix_fmt(&sorted[i], buf, sizeof(buf)));
		free(sorted);
	}
	if (l->members != def.members || l->members_per_sender != def.members_per_sender)
		fprintf(f, " limits members %u per-sender %u\n", l->members, l->members_per_sender);
	if (l->dial_rate != def.dial_rate || l->dial_burst != def.dial_burst)
		fprintf(f, " limits member-dials %u burst %u\n", l->dial_rate, l->dial_burst);
	if (l->output_budget != def.output_budget) {
		fmt_size(l->output_budget, buf, sizeof(buf));
		fprintf(f, " limits output-budget %s\n", buf);
	}
	if (l->sessions_per_source != def.sessions_per_source)
		fprintf(f, " limits sessions-per-source %u\n", l->sessions_per_source);
}
