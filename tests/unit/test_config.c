/* test_config.c: unit tests for daemon/config.c: every statement, errors with their lines, checks, normalized printing, round trips, copies. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

/* One statement that must pass / must fail with exactly this message. */
#define OK(c, ctx, line)	ok_stmt((c), (ctx), (line), __LINE__)
#define BAD(c, ctx, line, want)	bad_stmt((c), (ctx), (line), (want), __LINE__)

static void
ok_stmt(struct config *c, enum cfg_ctx *ctx, const char *line, int at)
{
	char err[256] = "";

	if (config_statement(c, ctx, line, 1, err, sizeof(err)) != 0)
		fail_msg("test line %d: '%s' refused: %s", at, line, err);
}

static void
bad_stmt(struct config *c, enum cfg_ctx *ctx, const char *line, const char *want, int at)
{
	char err[256] = "";
	int rc = config_statement(c, ctx, line, 1, err, sizeof(err));

	if (rc != -1)
		fail_msg("test line %d: '%s' accepted (%d)", at, line, rc);
	if (strcmp(err, want) != 0)
		fail_msg("test line %d: '%s'\n  got:  %s\n  want: %s", at, line, err, want);
}

/* A fresh configuration inside "router hgw". */
static void
router(struct config *c, enum cfg_ctx *ctx)
{
	config_init(c);
	*ctx = CFG_CTX_TOP;
	OK(c, ctx, "router hgw");
	assert_int_equal(*ctx, CFG_CTX_ROUTER);
}

/* config_write into a string (free it). */
static char *
written(const struct config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	config_write(c, f);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void
assert_written(const struct config *c, const char *want)
{
	char *got = written(c);

	if (strcmp(got, want) != 0)
		fail_msg("config_write:\n--- got\n%s--- want\n%s---", got, want);
	free(got);
}

/* Writes text to a temporary file; path receives its name. */
static void
tmp_file(const char *text, char *path, size_t len)
{
	const char *dir = getenv("TMPDIR");
	FILE *f;
	int fd;

	snprintf(path, len, "%s/test_config.XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

/* config_load of text: 0, or -1 with err (the path replaced by "F"). */
static int
load_text(const char *text, struct config *c, char *err, size_t errlen)
{
	char path[512], raw[768];
	int rc;
	size_t plen;

	tmp_file(text, path, sizeof(path));
	raw[0] = '\0';
	rc = config_load(path, c, raw, sizeof(raw));
	unlink(path);
	plen = strlen(path);
	if (rc < 0) {
		if (strncmp(raw, path, plen) != 0)
			fail_msg("error does not start with the file name: %s", raw);
		snprintf(err, errlen, "F%s", raw + plen);
	}
	return rc;
}

#define LOAD_OK(text, c)	load_ok((text), (c), __LINE__)
#define LOAD_BAD(text, want)	load_bad((text), (want), __LINE__)

static void
load_ok(const char *text, struct config *c, int at)
{
	char err[768];

	if (load_text(text, c, err, sizeof(err)) != 0)
		fail_msg("test line %d: config refused: %s", at, err);
}

static void
load_bad(const char *text, const char *want, int at)
{
	struct config c;
	char err[768] = "";

	if (load_text(text, &c, err, sizeof(err)) == 0) {
		config_free(&c);
		fail_msg("test line %d: config accepted", at);
	}
	if (strcmp(err, want) != 0)
		fail_msg("test line %d:\n  got:  %s\n  want: %s", at, err, want);
	/* a failed load leaves nothing to free */
	assert_null(c.networks);
	assert_null(c.neighbors);
}

static int
cmp_pfx(const void *a, const void *b)
{
	return hgw_prefix_cmp(a, b);
}

static int
cmp_nbr(const void *a, const void *b)
{
	const struct cfg_neighbor *x = a, *y = b;
	int r = hgw_addr_cmp(&x->addr, &y->addr);

	return r != 0 ? r : (int)x->port - (int)y->port;
}

static void
assert_same_prefixes(const struct hgw_prefix *a, size_t na, const struct hgw_prefix *b, size_t nb)
{
	size_t i, j;

	assert_int_equal(na, nb);
	for (i = 0; i < na; i++) {
		for (j = 0; j < nb && !hgw_prefix_eq(&a[i], &b[j]); j++)
			;
		assert_true(j < nb);
	}
}

/* Two configurations say the same thing (lists compared as sets). */
static void
assert_same_config(const struct config *a, const struct config *b)
{
	struct hgw_prefix *na, *nb;
	struct cfg_neighbor *ma, *mb;
	size_t i;

	assert_string_equal(a->hostname, b->hostname);
	assert_int_equal(a->router, b->router);
	assert_string_equal(a->ifname, b->ifname);
	assert_int_equal(hgw_addr_cmp(&a->address4, &b->address4), 0);
	assert_int_equal(hgw_addr_cmp(&a->address6, &b->address6), 0);
	assert_int_equal(a->node_id, b->node_id);
	assert_int_equal(a->listen_port, b->listen_port);
	assert_int_equal(a->keepalive_ms, b->keepalive_ms);
	assert_int_equal(a->hold_ms, b->hold_ms);
	assert_int_equal(a->startup_ms, b->startup_ms);
	assert_int_equal(a->kernel_on, b->kernel_on);
	assert_int_equal(a->kernel_proto, b->kernel_proto);
	assert_int_equal(a->kernel_table, b->kernel_table);
	assert_int_equal(a->kernel_metric, b->kernel_metric);
	assert_int_equal(a->max_prefixes, b->max_prefixes);
	assert_memory_equal(&a->limits, &b->limits, sizeof(a->limits));
	assert_int_equal(a->nstatic_hosts, b->nstatic_hosts);
	assert_string_equal(a->secret_file, b->secret_file);
	assert_string_equal(a->tls_ca, b->tls_ca);
	assert_string_equal(a->tls_cert, b->tls_cert);
	assert_string_equal(a->tls_key, b->tls_key);
	assert_string_equal(a->tls_crl, b->tls_crl);
	assert_same_prefixes(a->clusters, a->nclusters, b->clusters, b->nclusters);
	for (i = 0; i < 2; i++) {
		assert_int_equal(a->lease_len[i], b->lease_len[i]);
		if (a->lease_len[i])
			assert_true(hgw_prefix_eq(&a->lease_net[i], &b->lease_net[i]));
	}
	assert_int_equal(a->lease_hold_s, b->lease_hold_s);
	assert_string_equal(a->lease_file, b->lease_file);
	assert_string_equal(a->subnet_env, b->subnet_env);
	assert_int_equal(config_ipmasq(a), config_ipmasq(b));	/* hostint: the effective value */
	assert_int_equal(a->ifauto, b->ifauto);
	assert_int_equal(a->ip_forward, b->ip_forward);
	assert_int_equal(a->discovery, b->discovery);
	assert_same_prefixes(a->allows, a->nallows, b->allows, b->nallows);
	assert_int_equal(a->nnetworks, b->nnetworks);
	assert_int_equal(a->nneighbors, b->nneighbors);
	na = calloc(a->nnetworks + 1, sizeof(*na));
	nb = calloc(a->nnetworks + 1, sizeof(*nb));
	ma = calloc(a->nneighbors + 1, sizeof(*ma));
	mb = calloc(a->nneighbors + 1, sizeof(*mb));
	if (a->nnetworks) {
		memcpy(na, a->networks, a->nnetworks * sizeof(*na));
		memcpy(nb, b->networks, a->nnetworks * sizeof(*nb));
	}
	if (a->nneighbors) {
		memcpy(ma, a->neighbors, a->nneighbors * sizeof(*ma));
		memcpy(mb, b->neighbors, a->nneighbors * sizeof(*mb));
	}
	qsort(na, a->nnetworks, sizeof(*na), cmp_pfx);
	qsort(nb, a->nnetworks, sizeof(*nb), cmp_pfx);
	qsort(ma, a->nneighbors, sizeof(*ma), cmp_nbr);
	qsort(mb, a->nneighbors, sizeof(*mb), cmp_nbr);
	for (i = 0; i < a->nnetworks; i++)
		assert_true(hgw_prefix_eq(&na[i], &nb[i]));
	for (i = 0; i < a->nneighbors; i++) {
		assert_int_equal(hgw_addr_cmp(&ma[i].addr, &mb[i].addr), 0);
		assert_int_equal(ma[i].port, mb[i].port);
		assert_int_equal(ma[i].max_prefixes, mb[i].max_prefixes);
		assert_int_equal(ma[i].third_party, mb[i].third_party);
	}
	free(na);
	free(nb);
	free(ma);
	free(mb);
}

static void
test_defaults(void **state)
{
	struct config c;
	enum cfg_ctx ctx;

	(void)state;
	config_init(&c);
	assert_int_equal(c.router, 0);
	assert_string_equal(c.hostname, "");
	assert_string_equal(c.ifname, "");
	assert_int_equal(c.node_id, 0);
	assert_int_equal(c.listen_port, HGW_DEFAULT_PORT);
	assert_int_equal(c.keepalive_ms, CFG_DEFAULT_KEEPALIVE_MS);
	assert_int_equal(c.hold_ms, CFG_DEFAULT_HOLD_MS);
	assert_int_equal(c.startup_ms, CFG_DEFAULT_STARTUP_MS);
	assert_int_equal(c.kernel_on, 1);
	assert_int_equal(c.kernel_proto, CFG_DEFAULT_PROTO);
	assert_int_equal(c.kernel_table, CFG_DEFAULT_TABLE);
	assert_int_equal(c.kernel_metric, CFG_DEFAULT_METRIC);
	assert_int_equal(c.nnetworks, 0);
	assert_int_equal(c.nneighbors, 0);
	assert_int_equal(c.address4.family, 0);
	assert_int_equal(c.address6.family, 0);
	assert_written(&c, "");
	router(&c, &ctx);
	assert_written(&c, "router hgw\n!\n");
	OK(&c, &ctx, "interface eth0");
	assert_written(&c, "router hgw\n interface eth0\n!\n");
	config_free(&c);
	config_free(&c);	/* twice is harmless */
}

static void
test_hostname(void **state)
{
	struct config c;
	enum cfg_ctx ctx = CFG_CTX_TOP;
	const char *usage = "usage: hostname NAME (1..64 of letters, digits, '.', '-', '_')";
	char name[80];

	(void)state;
	config_init(&c);
	OK(&c, &ctx, "hostname h0");
	assert_string_equal(c.hostname, "h0");
	OK(&c, &ctx, "hostname Node-1.lab_A");
	assert_string_equal(c.hostname, "Node-1.lab_A");
	memset(name, 'a', 64);
	name[64] = '\0';
	{
		char line[100];

		snprintf(line, sizeof(line), "hostname %s", name);
		OK(&c, &ctx, line);
		assert_string_equal(c.hostname, name);
		snprintf(line, sizeof(line), "hostname %sb", name);
		BAD(&c, &ctx, line, usage);
	}
	BAD(&c, &ctx, "hostname", usage);
	BAD(&c, &ctx, "hostname a b", usage);
	BAD(&c, &ctx, "hostname a/b", usage);
	BAD(&c, &ctx, "hostname a:b", usage);
	BAD(&c, &ctx, "hostname caf\xc3\xa9", usage);
	assert_string_equal(c.hostname, name);
	/* hostname is a top-level statement: it leaves router hgw */
	OK(&c, &ctx, "router hgw");
	OK(&c, &ctx, "hostname h1");
	assert_int_equal(ctx, CFG_CTX_TOP);
	BAD(&c, &ctx, "interface eth0", "'interface' belongs inside 'router hgw'");
	assert_written(&c, "hostname h1\n!\nrouter hgw\n!\n");
	config_free(&c);
	config_init(&c);
	OK(&c, &ctx, "hostname only");
	assert_written(&c, "hostname only\n!\n");
	config_free(&c);
}

static void
test_router_context(void **state)
{
	struct config c;
	enum cfg_ctx ctx = CFG_CTX_TOP;
	char err[256];

	(void)state;
	config_init(&c);
	BAD(&c, &ctx, "interface eth0", "'interface' belongs inside 'router hgw'");
	BAD(&c, &ctx, "network 10.0.0.0/8", "'network' belongs inside 'router hgw'");
	BAD(&c, &ctx, "no network 10.0.0.0/8", "'no' belongs inside 'router hgw'");
	BAD(&c, &ctx, "bogus", "'bogus' belongs inside 'router hgw'");
	BAD(&c, &ctx, "router", "usage: router hgw");
	BAD(&c, &ctx, "router bgp", "usage: router hgw");
	BAD(&c, &ctx, "router hgw extra", "usage: router hgw");
	assert_int_equal(c.router, 0);
	assert_int_equal(ctx, CFG_CTX_TOP);
	assert_int_equal(config_statement(&c, &ctx, "router hgw", 7, err, sizeof(err)), 0);
	assert_int_equal(c.router, 1);
	assert_int_equal(c.router_line, 7);
	assert_int_equal(ctx, CFG_CTX_ROUTER);
	OK(&c, &ctx, "interface eth0");
	OK(&c, &ctx, "exit");
	assert_int_equal(ctx, CFG_CTX_TOP);
	BAD(&c, &ctx, "network 10.0.0.0/8", "'network' belongs inside 'router hgw'");
	/* A second block continues the first; the first line is kept. */
	assert_int_equal(config_statement(&c, &ctx, "router hgw", 12, err, sizeof(err)), 0);
	assert_int_equal(c.router_line, 7);
	OK(&c, &ctx, "network 10.0.0.0/8");
	OK(&c, &ctx, "end");
	assert_int_equal(ctx, CFG_CTX_TOP);
	/* Empty lines and comments are fine anywhere. */
	OK(&c, &ctx, "");
	OK(&c, &ctx, "   \t ");
	OK(&c, &ctx, "! a comment");
	OK(&c, &ctx, "# a comment");
	OK(&c, &ctx, "\r\n");
	assert_string_equal(c.ifname, "eth0");
	assert_int_equal(c.nnetworks, 1);
	config_free(&c);
}

static void
test_unknown_and_no(void **state)
{
	struct config c;
	enum cfg_ctx ctx;

	(void)state;
	router(&c, &ctx);
	BAD(&c, &ctx, "bogus", "unknown statement 'bogus' in router hgw");
	BAD(&c, &ctx, "Network 10.0.0.0/8", "unknown statement 'Network' in router hgw");
	BAD(&c, &ctx, "no", "'no' needs a statement");
	BAD(&c, &ctx, "no interface", "'no interface' is not a statement");
	BAD(&c, &ctx, "no interface eth0", "'no interface' is not a statement");
	BAD(&c, &ctx, "no listen port 1", "'no listen' is not a statement");
	BAD(&c, &ctx, "no kernel", "'no kernel' is not a statement");
	BAD(&c, &ctx, "no timers keepalive 1", "'no timers' is not a statement");
	BAD(&c, &ctx, "no node-id 1.2.3.4 x", "'no node-id' is not a statement");
	BAD(&c, &ctx, "no bogus", "'no bogus' is not a statement");
	BAD(&c, &ctx, "no no network 10.0.0.0/8", "'no no' is not a statement");
	config_free(&c);
}

static void
test_comments_and_words(void **state)
{
	struct config c;
	enum cfg_ctx ctx;

	(void)state;
	router(&c, &ctx);
	OK(&c, &ctx, "\tinterface   eth0   ! trailing comment");
	assert_string_equal(c.ifname, "eth0");
	OK(&c, &ctx, " network 10.1.0.0/16 # trailing comment");
	OK(&c, &ctx, "network\t10.2.0.0/16\t!comment\r\n");
	OK(&c, &ctx, "!network 10.3.0.0/16");
	OK(&c, &ctx, "  #network 10.4.0.0/16");
	assert_int_equal(c.nnetworks, 2);
	/* A comment starts a word; inside one, '!' and '#' are characters. */
	BAD(&c, &ctx, "network 10.5.0.0/16!", "network 10.5.0.0/16!: bad prefix length");
	OK(&c, &ctx, "interface eth#0");
	assert_string_equal(c.ifname, "eth#0");
	config_free(&c);
}

static void
test_interface(void **state)
{
	struct config c;
	enum cfg_ctx ctx;

	(void)state;
	router(&c, &ctx);
	OK(&c, &ctx, "interface eth0");
	OK(&c, &ctx, "interface br-lan.100");
	assert_string_equal(c.ifname, "br-lan.100");
	OK(&c, &ctx, "interface abcdefghijklmno");	/* 15: the most Linux allows */
	assert_string_equal(c.ifname, "abcdefghijklmno");
	BAD(&c, &ctx, "interface abcdefghijklmnop",
	    "interface 'abcdefghijklmnop': not a valid interface name");
	BAD(&c, &ctx, "interface a/b", "interface 'a/b': not a valid interface name");
	BAD(&c, &ctx, "interface", "usage: interface (IFNAME|auto)");
	BAD(&c, &ctx, "interface eth0 eth1", "usage: interface (IFNAME|auto)");
	assert_string_equal(c.ifname, "abcdefghijklmno");
	assert_written(&c, "router hgw\n interface abcdefghijklmno\n!\n");
	config_free(&c);
}

static void
test_address(void **state)
{
	struct config c;
	enum cfg_ctx ctx;
	struct hgw_addr a;

	(void)state;
	router(&c, &ctx);
	OK(&c, &ctx, "interface eth0");
	OK(&c, &ctx, "address 10.0.0.1");
	OK(&c, &ctx, "address 2001:DB8:0:0::1");
	assert_int_equal(hgw_addr_parse("10.0.0.1", &a), 0);
	assert_int_equal(hgw_addr_cmp(&c.address4, &a), 0);
	assert_int_equal(hgw_addr_parse("2001:db8::1", &a), 0);
	assert_int_equal(hgw_addr_cmp(&c.address6, &a), 0);
	assert_written(&c, "router hgw\n interface eth0\n address 10.0.0.1\n address 2001:db8::1\n!\n");
	/* One of each family: a new one replaces. */
	OK(&c, &ctx, "address 10.0.0.2");
	assert_written(&c, "router hgw\n interface eth0\n address 10.0.0.2\n address 2001:db8::1\n!\n");
	BAD(&c, &ctx, "no address 10.0.0.1", "address 10.0.0.1 is not configured");
	BAD(&c, &ctx, "no address 2001:db8::2", "address 2001:db8::2 is not configured");
	OK(&c, &ctx, "no address 10.0.0.2");
	assert_int_equal(c.address4.family, 0);
	BAD(&c, &ctx, "no address 10.0.0.2", "address 10.0.0.2 is not configured");
	OK(&c, &ctx, "no address 2001:db8:0::1");
	assert_int_equal(c.address6.family, 0);
	assert_written(&c, "router hgw\n interface eth0\n!\n");
	BAD(&c, &ctx, "address", "usage: address ADDRESS");
	BAD(&c, &ctx, "address 10.0.0.1 10.0.0.2", "usage: address ADDRESS");
	BAD(&c, &ctx, "no address", "usage: no address ADDRESS");
	BAD(&c, &ctx, "address eth0", "address eth0: not an IPv4 or IPv6 address");
	BAD(&c, &ctx, "address 10.0.0.256", "address 10.0.0.256: not an IPv4 or IPv6 address");
	BAD(&c, &ctx, "address 10.0.0.0/24", "address 10.0.0.0/24: not an IPv4 or IPv6 address");
	BAD(&c, &ctx, "address 0.0.0.0", "address 0.0.0.0: not an IPv4 or IPv6 address");
	BAD(&c, &ctx, "address ::", "address ::: not an IPv4 or IPv6 address");
	assert_int_equal(c.address4.family, 0);
	assert_int_equal(c.address6.family, 0);
	config_free(&c);
}

static void
test_node_id(void **state)
{
	struct config c;
	enum cfg_ctx ctx;
	const char *usage = "usage: node-id A.B.C.D (not 0.0.0.0)";

	(void)state;
	router(&c, &ctx);
	OK(&c, &ctx, "interface eth0");
	OK(&c, &ctx, "node-id 1.2.3.4");
	assert_int_equal(c.node_id, 0x01020304);
	assert_written(&c, "router hgw\n interface eth0\n node-id 1.2.3.4\n!\n");
	OK(&c, &ctx, "node-id 255.255.255.255");
	assert_int_equal(c.node_id, 0xffffffffu);
	BAD(&c, &ctx, "node-id", usage);
	BAD(&c, &ctx, "node-id 1.2.3", usage);
	BAD(&c, &ctx, "node-id 1.2.3.4.5", usage);
	BAD(&c, &ctx, "node-id 12345", usage);
	BAD(&c, &ctx, "node-id ::1", usage);
	BAD(&c, &ctx, "node-id 1.2.3.4 5.6.7.8", usage);
	BAD(&c, &ctx, "node-id 0.0.0.0", usage);
	OK(&c, &ctx, "no node-id");
	assert_int_equal(c.node_id, 0);
	OK(&c, &ctx, "node-id 0.0.0.1");
	assert_int_equal(c.node_id, 1);
	OK(&c, &ctx, "no node-id 9.9.9.9");	/* the value is not checked */
	assert_int_equal(c.node_id, 0);
	assert_written(&c, "router hgw\n interface eth0\n!\n");
	config_free(&c);
}

static void
test_listen(void **state)
{
	struct config c;
	enum cfg_ctx ctx;
	const char *usage = "usage: listen port 1..65535";

	(void)state;
	router(&c, &ctx);
	OK(&c, &ctx, "interface eth0");
	OK(&c, &ctx, "listen port 8000");
	assert_int_equal(c.listen_port, 8000);
	assert_written(&c, "router hgw\n interface eth0\n listen port 8000\n!\n");
	OK(&c, &ctx, "listen port 1");
	OK(&c, &ctx, "listen port 65535");
	assert_int_equal(c.listen_port, 65535);
	BAD(&c, &ctx, "listen port 0", usage);
	BAD(&c, &ctx, "listen port 65536", usage);
	BAD(&c, &ctx, "listen port -1", usage);
	BAD(&c, &ctx, "listen port 80x", usage);
	BAD(&c, &ctx, "listen port", usage);
	BAD(&c, &ctx, "listen 80", usage);
	BAD(&c, &ctx, "listen prt 80", usage);
	BAD(&c, &ctx, "listen port 80 81", usage);
	assert_int_equal(c.listen_port, 65535);
	OK(&c, &ctx, "listen port 7179");	/* the default is left out */
	assert_written(&c, "router hgw\n interface eth0\n!\n");
	config_free(&c);
}

static void
test_network(void **state)
{
	struct config c;
	enum cfg_ctx ctx;
	struct hgw_prefix p;

	(void)state;
	router(&c, &ctx);
	OK(&c, &ctx, "interface eth0");
	OK(&c, &ctx, "network 10.1.0.0/16");
	OK(&c, &ctx, "network 2001:db8:1::/48");
	OK(&c, &ctx, "network 192.168.5.7/32");
	OK(&c, &ctx, "network 2001:DB8:2:0:0:0:0:0/64");
	assert_int_equal(c.nnetworks, 4);
	/* Duplicates change nothing, in any spelling. */
	OK(&c, &ctx, "network 10.1.0.0/16");
	OK(&c, &ctx, "network 2001:db8:2::/64");
	assert_int_equal(c.nnetworks, 4);
	assert_int_equal(hgw_prefix_parse("2001:db8:2::/64", &p, NULL), 0);
	assert_true(config_has_network(&c, &p));
	assert_int_equal(hgw_prefix_parse("2001:db8:3::/64", &p, NULL), 0);
	assert_false(config_has_network(&c, &p));

	/* Host bits, with the hint. */
	BAD(&c, &ctx, "network 10.1.2.3/16",
	    "network 10.1.2.3/16 has host bits set (did you mean 10.1.0.0/16?)");
	BAD(&c, &ctx, "network 10.200.0.1/31",
	    "network 10.200.0.1/31 has host bits set (did you mean 10.200.0.0/31?)");
	BAD(&c, &ctx, "network 2001:db8:9::1/48",
	    "network 2001:db8:9::1/48 has host bits set (did you mean 2001:db8:9::/48?)");
	BAD(&c, &ctx, "no network 10.1.2.3/16",
	    "network 10.1.2.3/16 has host bits set (did you mean 10.1.0.0/16?)");
	/* Not a prefix. */
	BAD(&c, &ctx, "network 10.0.0.0", "network 10.0.0.0: expected ADDRESS/LENGTH");
	BAD(&c, &ctx, "network 10.0.0/8", "network 10.0.0/8: bad address");
	BAD(&c, &ctx, "network 10.0.0.0/33", "network 10.0.0.0/33: bad prefix length");
	BAD(&c, &ctx, "network 2001:db8::/129", "network 2001:db8::/129: bad prefix length");
	BAD(&c, &ctx, "network 10.0.0.0/-1", "network 10.0.0.0/-1: bad prefix length");
	BAD(&c, &ctx, "network", "usage: network PREFIX");
	BAD(&c, &ctx, "network 10.9.0.0/16 10.8.0.0/16", "usage: network PREFIX");
	BAD(&c, &ctx, "no network", "usage: no network PREFIX");
	/* Never a container network. */
	BAD(&c, &ctx, "network 0.0.0.0/0",
	    "network 0.0.0.0/0: default route cannot be a container network");
	BAD(&c, &ctx, "network ::/0", "network ::/0: default route cannot be a container network");
	BAD(&c, &ctx, "network 0.1.0.0/16",
	    "network 0.1.0.0/16: unspecified network cannot be a container network");
	BAD(&c, &ctx, "network 127.0.0.0/8", "network 127.0.0.0/8: loopback cannot be a container network");
	BAD(&c, &ctx, "network 127.0.0.1/32", "network 127.0.0.1/32: loopback cannot be a container network");
	BAD(&c, &ctx, "network 169.254.1.0/24",
	    "network 169.254.1.0/24: link-local cannot be a container network");
	BAD(&c, &ctx, "network 224.0.0.0/24", "network 224.0.0.0/24: multicast cannot be a container network");
	BAD(&c, &ctx, "network 240.0.0.0/8", "network 240.0.0.0/8: reserved cannot be a container network");
	BAD(&c, &ctx, "network 128.0.0.0/1", "network 128.0.0.0/1: link-local cannot be a container network");
	BAD(&c, &ctx, "network ::1/128",
	    "network ::1/128: unspecified, loopback or mapped cannot be a container network");
	BAD(&c, &ctx, "network ::ffff:10.0.0.0/104",
	    "network ::ffff:10.0.0.0/104: unspecified, loopback or mapped cannot be a container network");
	BAD(&c, &ctx, "network fe80::/64", "network fe80::/64: link-local cannot be a container network");
	BAD(&c, &ctx, "network ff02::/16", "network ff02::/16: multicast cannot be a container network");
	/* Overlaps, both ways, and across the list. */
	BAD(&c, &ctx, "network 10.0.0.0/8", "network 10.0.0.0/8 overlaps network 10.1.0.0/16");
	BAD(&c, &ctx, "network 10.1.128.0/17", "network 10.1.128.0/17 overlaps network 10.1.0.0/16");
	BAD(&c, &ctx, "network 192.168.5.0/24", "network 192.168.5.0/24 overlaps network 192.168.5.7/32");
	BAD(&c, &ctx, "network 2001:db8::/32", "network 2001:db8::/32 overlaps network 2001:db8:1::/48");
	assert_int_equal(c.nnetworks, 4);
	/* Neighbours in address space are fine. */
	OK(&c, &ctx, "network 10.0.0.0/16");
	OK(&c, &ctx, "network 192.168.5.6/32");
	assert_int_equal(c.nnetworks, 6);

	/* no network */
	BAD(&c, &ctx, "no network 10.3.0.0/16", "network 10.3.0.0/16 is not configured");
	BAD(&c, &ctx, "no network 10.1.0.0/17", "network 10.1.0.0/17 is not configured");
	OK(&c, &ctx, "no network 10.1.0.0/16");
	assert_int_equal(c.nnetworks, 5);
	BAD(&c, &ctx, "no network 10.1.0.0/16", "network 10.1.0.0/16 is not configured");
	/* now a bigger one fits */
	OK(&c, &ctx, "no network 10.0.0.0/16");
	OK(&c, &ctx, "network 10.0.0.0/8");
	assert_written(&c,
	    "router hgw\n interface eth0\n"
	    " network 10.0.0.0/8\n network 192.168.5.6/32\n network 192.168.5.7/32\n"
	    " network 2001:db8:1::/48\n network 2001:db8:2::/64\n!\n");
	/* Removing the first, the last and the middle keeps the others. */
	OK(&c, &ctx, "no network 2001:db8:2::/64");
	OK(&c, &ctx, "no network 10.0.0.0/8");
	OK(&c, &ctx, "no network 192.168.5.6/32");
	assert_written(&c, "router hgw\n interface eth0\n"
	    " network 192.168.5.7/32\n network 2001:db8:1::/48\n!\n");
	config_free(&c);
}

static void
test_neighbor(void **state)
{
	struct config c;
	enum cfg_ctx ctx;
	struct hgw_addr a;
	const struct cfg_neighbor *n;
	const char *nusage =
	    "usage: neighbor ADDRESS [port N] [max-prefixes N] [allow-third-party-gateway]";

	(void)state;
	router(&c, &ctx);
	OK(&c, &ctx, "interface eth0");
	OK(&c, &ctx, "neighbor 10.0.0.2");
	OK(&c, &ctx, "neighbor 10.0.0.10 port 8000");
	OK(&c, &ctx, "neighbor fd00::2");
	OK(&c, &ctx, "neighbor 10.0.0.3 port 7179");
	assert_int_equal(c.nneighbors, 4);
	assert_int_equal(hgw_addr_parse("10.0.0.10", &a), 0);
	n = config_find_neighbor(&c, &a);
	assert_non_null(n);
	assert_int_equal(n->port, 8000);
	assert_int_equal(hgw_addr_parse("10.0.0.11", &a), 0);
	assert_null(config_find_neighbor(&c, &a));
	/* Sorted by address, numerically; the default port left out. */
	assert_written(&c, "router hgw\n interface eth0\n"
	    " neighbor 10.0.0.2\n neighbor 10.0.0.3\n neighbor 10.0.0.10 port 8000\n"
	    " neighbor fd00::2\n!\n");
	/* Again: the port changes, nothing is added. */
	OK(&c, &ctx, "neighbor 10.0.0.10");
	OK(&c, &ctx, "neighbor FD00:0::2 port 9");
	assert_int_equal(c.nneighbors, 4);
	assert_written(&c, "router hgw\n interface eth0\n"
	    " neighbor 10.0.0.2\n neighbor 10.0.0.3\n neighbor 10.0.0.10\n"
	    " neighbor fd00::2 port 9\n!\n");
	BAD(&c, &ctx, "neighbor", nusage);
	BAD(&c, &ctx, "neighbor 10.0.0.4 port", "neighbor: unknown or incomplete option 'port'");
	BAD(&c, &ctx, "neighbor 10.0.0.4 port 1 2", "neighbor: unknown or incomplete option '2'");
	BAD(&c, &ctx, "neighbor 10.0.0.4 prt 1", "neighbor: unknown or incomplete option 'prt'");
	BAD(&c, &ctx, "neighbor 10.0.0.4 max-prefixes",
	    "neighbor: unknown or incomplete option 'max-prefixes'");
	BAD(&c, &ctx, "neighbor 10.0.0.4 port 0", "neighbor: port '0' is not 1..65535");
	BAD(&c, &ctx, "neighbor 10.0.0.4 port 65536", "neighbor: port '65536' is not 1..65535");
	BAD(&c, &ctx, "neighbor 10.0.0.4 port x", "neighbor: port 'x' is not 1..65535");
	BAD(&c, &ctx, "neighbor 10.0.0.4 max-prefixes 0",
	    "neighbor: max-prefixes '0' is not 1..4294967295");
	BAD(&c, &ctx, "neighbor 10.0.0.4 max-prefixes 4294967296",
	    "neighbor: max-prefixes '4294967296' is not 1..4294967295");
	BAD(&c, &ctx, "neighbor host.example", "neighbor host.example: not an IPv4 or IPv6 address");
	BAD(&c, &ctx, "neighbor 10.0.0.0/24", "neighbor 10.0.0.0/24: not an IPv4 or IPv6 address");
	BAD(&c, &ctx, "neighbor 0.0.0.0", "neighbor 0.0.0.0: unspecified address");
	BAD(&c, &ctx, "neighbor ::", "neighbor ::: unspecified address");
	BAD(&c, &ctx, "neighbor 224.0.0.5", "neighbor 224.0.0.5: multicast or broadcast address");
	BAD(&c, &ctx, "neighbor 255.255.255.255",
	    "neighbor 255.255.255.255: multicast or broadcast address");
	BAD(&c, &ctx, "neighbor ff02::1", "neighbor ff02::1: multicast or broadcast address");
	assert_int_equal(c.nneighbors, 4);
	/* no neighbor */
	BAD(&c, &ctx, "no neighbor", "usage: no neighbor ADDRESS");
	BAD(&c, &ctx, "no neighbor 10.0.0.2 port 7179", "usage: no neighbor ADDRESS");
	BAD(&c, &ctx, "no neighbor 10.0.0.99", "neighbor 10.0.0.99 is not configured");
	BAD(&c, &ctx, "no neighbor x", "neighbor x: not an IPv4 or IPv6 address");
	OK(&c, &ctx, "no neighbor 10.0.0.2");
	OK(&c, &ctx, "no neighbor fd00::2");
	BAD(&c, &ctx, "no neighbor 10.0.0.2", "neighbor 10.0.0.2 is not configured");
	assert_written(&c, "router hgw\n interface eth0\n"
	    " neighbor 10.0.0.3\n neighbor 10.0.0.10\n!\n");

	/* Options in any order; restating a neighbor replaces all of them. */
	OK(&c, &ctx, "neighbor 10.0.0.3 allow-third-party-gateway max-prefixes 100 port 9");
	assert_int_equal(hgw_addr_parse("10.0.0.3", &a), 0);
	n = config_find_neighbor(&c, &a);
	assert_int_equal(n->port, 9);
	assert_int_equal(n->max_prefixes, 100);
	assert_int_equal(n->third_party, 1);
	assert_written(&c, "router hgw\n interface eth0\n"
	    " neighbor 10.0.0.3 port 9 max-prefixes 100 allow-third-party-gateway\n"
	    " neighbor 10.0.0.10\n!\n");
	OK(&c, &ctx, "neighbor 10.0.0.3 max-prefixes 4294967295");
	assert_int_equal(n->port, HGW_DEFAULT_PORT);
	assert_int_equal(n->max_prefixes, 4294967295u);
	assert_int_equal(n->third_party, 0);
	OK(&c, &ctx, "neighbor 10.0.0.3");
	assert_int_equal(n->max_prefixes, 0);
	assert_int_equal(c.nneighbors, 2);
	config_free(&c);
}

static void
test_timers(void **state)
{
	struct config c;
	enum cfg_ctx ctx;
	const char *usage = "usage: timers keepalive SECONDS hold SECONDS | timers startup SECONDS | timers giveup SECONDS";

	(void)state;
	router(&c, &ctx);
	OK(&c, &ctx, "interface eth0");
	OK(&c, &ctx, "timers keepalive 0.5 hold 1.5");
	assert_int_equal(c.keepalive_ms, 500);
	assert_int_equal(c.hold_ms, 1500);
	assert_int_equal(c.startup_ms, CFG_DEFAULT_STARTUP_MS);
	assert_written(&c, "router hgw\n interface eth0\n timers keepalive 0.5 hold 1.5\n!\n");
	/* Any order, any subset; the smallest values. */
	OK(&c, &ctx, "timers hold 0.3 keepalive 0.1");
	assert_int_equal(c.keepalive_ms, 100);
	assert_int_equal(c.hold_ms, 300);
	OK(&c, &ctx, "timers hold 10");
	assert_int_equal(c.keepalive_ms, 100);
	assert_int_equal(c.hold_ms, 10000);
	OK(&c, &ctx, "timers keepalive 3");
	assert_int_equal(c.keepalive_ms, 3000);
	assert_written(&c, "router hgw\n interface eth0\n timers keepalive 3 hold 10\n!\n");
	OK(&c, &ctx, "timers startup 0");
	assert_int_equal(c.startup_ms, 0);
	OK(&c, &ctx, "timers startup 12.5");
	assert_int_equal(c.startup_ms, 12500);
	OK(&c, &ctx, "timers keepalive 1 hold 3 startup 3600");
	assert_int_equal(c.startup_ms, 3600000);
	/* keepalive and hold at their defaults: only startup is written */
	assert_written(&c, "router hgw\n interface eth0\n timers startup 3600\n!\n");
	OK(&c, &ctx, "timers giveup 2.5");
	assert_int_equal(c.giveup_ms, 2500);
	assert_written(&c, "router hgw\n interface eth0\n timers startup 3600\n timers giveup 2.5\n!\n");
	BAD(&c, &ctx, "timers giveup 0.5",
	    "timers giveup: '0.5' is not a number of seconds from 1.0 to 3600 with at most one decimal");
	OK(&c, &ctx, "timers giveup 30");
	OK(&c, &ctx, "timers keepalive 1.0 hold 3.0 startup 5.0");
	assert_written(&c, "router hgw\n interface eth0\n!\n");
	/* Only hold differs: both are written. */
	OK(&c, &ctx, "timers hold 4");
	assert_written(&c, "router hgw\n interface eth0\n timers keepalive 1 hold 4\n!\n");

	/* Bad values; a refused statement changes nothing. */
	OK(&c, &ctx, "timers keepalive 2 hold 6 startup 7");
	BAD(&c, &ctx, "timers keepalive 0.05",
	    "timers keepalive: '0.05' is not a number of seconds from 0.1 to 3600 with at most one decimal");
	BAD(&c, &ctx, "timers keepalive 0",
	    "timers keepalive: '0' is not a number of seconds from 0.1 to 3600 with at most one decimal");
	BAD(&c, &ctx, "timers hold 0.2",
	    "timers hold: '0.2' is not a number of seconds from 0.3 to 3600 with at most one decimal");
	BAD(&c, &ctx, "timers hold 3601",
	    "timers hold: '3601' is not a number of seconds from 0.3 to 3600 with at most one decimal");
	BAD(&c, &ctx, "timers startup 3600.1",
	    "timers startup: '3600.1' is not a number of seconds from 0.0 to 3600 with at most one decimal");
	BAD(&c, &ctx, "timers startup -1",
	    "timers startup: '-1' is not a number of seconds from 0.0 to 3600 with at most one decimal");
	BAD(&c, &ctx, "timers startup 1.",
	    "timers startup: '1.' is not a number of seconds from 0.0 to 3600 with at most one decimal");
	BAD(&c, &ctx, "timers startup .5",
	    "timers startup: '.5' is not a number of seconds from 0.0 to 3600 with at most one decimal");
	BAD(&c, &ctx, "timers startup 1s",
	    "timers startup: '1s' is not a number of seconds from 0.0 to 3600 with at most one decimal");
	BAD(&c, &ctx, "timers keepalive 1 hold 2.25",
	    "timers hold: '2.25' is not a number of seconds from 0.3 to 3600 with at most one decimal");
	BAD(&c, &ctx, "timers keepalive 3 hold 3", "timers: keepalive must be less than hold");
	BAD(&c, &ctx, "timers keepalive 7", "timers: keepalive must be less than hold");
	BAD(&c, &ctx, "timers hold 2", "timers: keepalive must be less than hold");
	BAD(&c, &ctx, "timers hold 1 startup 1", "timers: keepalive must be less than hold");
	BAD(&c, &ctx, "timers keepalive 1 bogus 2", "timers: unknown timer 'bogus'");
	BAD(&c, &ctx, "timers", usage);
	BAD(&c, &ctx, "timers keepalive", usage);
	BAD(&c, &ctx, "timers keepalive 1 hold", usage);
	BAD(&c, &ctx, "timers 1 2", "timers: unknown timer '1'");
	assert_int_equal(c.keepalive_ms, 2000);
	assert_int_equal(c.hold_ms, 6000);
	assert_int_equal(c.startup_ms, 7000);
	/* no timers: all three back to their defaults */
	OK(&c, &ctx, "no timers");
	assert_int_equal(c.keepalive_ms, CFG_DEFAULT_KEEPALIVE_MS);
	assert_int_equal(c.hold_ms, CFG_DEFAULT_HOLD_MS);
	assert_int_equal(c.startup_ms, CFG_DEFAULT_STARTUP_MS);
	assert_written(&c, "router hgw\n interface eth0\n!\n");
	config_free(&c);
}

static void
test_kernel(void **state)
{
	static const struct {
		const char *line;
		unsigned proto, table, metric;
		const char *out;
	} ok[] = {
		{ "kernel protocol 99", 99, 254, 20, " kernel protocol 99 table 254 metric 20\n" },
		{ "kernel table 100", 77, 100, 20, " kernel protocol 77 table 100 metric 20\n" },
		{ "kernel metric 5", 77, 254, 5, " kernel protocol 77 table 254 metric 5\n" },
		{ "kernel metric 0 table 1", 77, 1, 0, " kernel protocol 77 table 1 metric 0\n" },
		{ "kernel table 4294967295 protocol 255", 255, 4294967295u, 20,
		    " kernel protocol 255 table 4294967295 metric 20\n" },
		{ "kernel metric 4294967295 protocol 5 table 256", 5, 256, 4294967295u,
		    " kernel protocol 5 table 256 metric 4294967295\n" },
		{ "kernel protocol 77 table 254 metric 20", 77, 254, 20, "" },
		{ "kernel table 254 metric 20 protocol 77", 77, 254, 20, "" },
		{ "kernel protocol 6 protocol 9", 9, 254, 20, " kernel protocol 9 table 254 metric 20\n" },
	};
	struct config c;
	enum cfg_ctx ctx;
	char want[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		router(&c, &ctx);
		OK(&c, &ctx, "interface eth0");
		OK(&c, &ctx, ok[i].line);
		assert_int_equal(c.kernel_proto, ok[i].proto);
		assert_int_equal(c.kernel_table, ok[i].table);
		assert_int_equal(c.kernel_metric, ok[i].metric);
		assert_int_equal(c.kernel_on, 1);
		snprintf(want, sizeof(want), "router hgw\n interface eth0\n%s!\n", ok[i].out);
		assert_written(&c, want);
		config_free(&c);
	}

	router(&c, &ctx);
	OK(&c, &ctx, "interface eth0");
	OK(&c, &ctx, "kernel off");
	assert_int_equal(c.kernel_on, 0);
	assert_written(&c, "router hgw\n interface eth0\n kernel off\n!\n");
	OK(&c, &ctx, "kernel on");
	assert_int_equal(c.kernel_on, 1);
	assert_written(&c, "router hgw\n interface eth0\n!\n");
	/* Settings turn it back on. */
	OK(&c, &ctx, "kernel off");
	OK(&c, &ctx, "kernel table 100");
	assert_int_equal(c.kernel_on, 1);
	/* Off keeps the settings, and writes them. */
	OK(&c, &ctx, "kernel off");
	assert_int_equal(c.kernel_table, 100);
	assert_written(&c, "router hgw\n interface eth0\n"
	    " kernel protocol 77 table 100 metric 20\n kernel off\n!\n");
	OK(&c, &ctx, "kernel on");
	assert_int_equal(c.kernel_table, 100);

	BAD(&c, &ctx, "kernel", "usage: kernel [protocol N] [table N] [metric N] | kernel off");
	BAD(&c, &ctx, "kernel protocol", "usage: kernel [protocol N] [table N] [metric N] | kernel off");
	BAD(&c, &ctx, "kernel protocol 9 table", "usage: kernel [protocol N] [table N] [metric N] | kernel off");
	BAD(&c, &ctx, "kernel off now", "kernel: unknown option 'off'");
	BAD(&c, &ctx, "kernel protocol 1 protocol 9",
	    "kernel protocol '1' is not 5..255 (0..4 belong to the kernel)");
	BAD(&c, &ctx, "kernel on 1", "kernel: unknown option 'on'");
	BAD(&c, &ctx, "kernel weight 1", "kernel: unknown option 'weight'");
	BAD(&c, &ctx, "kernel protocol 4",
	    "kernel protocol '4' is not 5..255 (0..4 belong to the kernel)");
	BAD(&c, &ctx, "kernel protocol 0",
	    "kernel protocol '0' is not 5..255 (0..4 belong to the kernel)");
	BAD(&c, &ctx, "kernel protocol 256",
	    "kernel protocol '256' is not 5..255 (0..4 belong to the kernel)");
	BAD(&c, &ctx, "kernel protocol static",
	    "kernel protocol 'static' is not 5..255 (0..4 belong to the kernel)");
	BAD(&c, &ctx, "kernel table 255",
	    "kernel table '255' is not 1..4294967295 (255 is the local table)");
	BAD(&c, &ctx, "kernel table 0",
	    "kernel table '0' is not 1..4294967295 (255 is the local table)");
	BAD(&c, &ctx, "kernel table 4294967296",
	    "kernel table '4294967296' is not 1..4294967295 (255 is the local table)");
	BAD(&c, &ctx, "kernel table main",
	    "kernel table 'main' is not 1..4294967295 (255 is the local table)");
	BAD(&c, &ctx, "kernel metric -1", "kernel metric '-1' is not a number");
	BAD(&c, &ctx, "kernel metric 4294967296", "kernel metric '4294967296' is not a number");
	BAD(&c, &ctx, "kernel metric 1e3", "kernel metric '1e3' is not a number");
	assert_int_equal(c.kernel_proto, 77);
	assert_int_equal(c.kernel_table, 100);
	assert_int_equal(c.kernel_metric, 20);
	config_free(&c);
}

static void
test_cluster_allow(void **state)
{
	struct config c;
	enum cfg_ctx ctx;
	char err[256];

	(void)state;
	router(&c, &ctx);
	OK(&c, &ctx, "interface eth0");
	OK(&c, &ctx, "cluster-network 10.0.0.0/8");
	OK(&c, &ctx, "cluster-network fd00::/8");
	OK(&c, &ctx, "cluster-network 10.0.0.0/8");	/* again: no change */
	assert_int_equal(c.nclusters, 2);
	OK(&c, &ctx, "allow 192.168.0.0/16");
	OK(&c, &ctx, "allow 0.0.0.0/0");
	OK(&c, &ctx, "allow 192.168.0.0/16");
	assert_int_equal(c.nallows, 2);
	OK(&c, &ctx, "max-prefixes 1000");
	assert_int_equal(c.max_prefixes, 1000);
	OK(&c, &ctx, "network 10.1.0.0/16");
	assert_int_equal(config_check(&c, err, sizeof(err)), 0);
	assert_written(&c, "router hgw\n interface eth0\n"
	    " cluster-network 10.0.0.0/8\n cluster-network fd00::/8\n"
	    " network 10.1.0.0/16\n"
	    " allow 0.0.0.0/0\n allow 192.168.0.0/16\n"
	    " max-prefixes 1000\n!\n");
	/* Every network must lie in a cluster network. */
	OK(&c, &ctx, "network 192.0.2.0/24");
	assert_int_equal(config_check(&c, err, sizeof(err)), -1);
	assert_string_equal(err, "network 192.0.2.0/24 is outside every cluster-network");
	OK(&c, &ctx, "no network 192.0.2.0/24");
	OK(&c, &ctx, "no cluster-network 10.0.0.0/8");
	assert_int_equal(config_check(&c, err, sizeof(err)), -1);
	assert_string_equal(err, "network 10.1.0.0/16 is outside every cluster-network");
	OK(&c, &ctx, "no cluster-network fd00::/8");
	assert_int_equal(config_check(&c, err, sizeof(err)), 0);	/* no clusters: no rule */

	BAD(&c, &ctx, "cluster-network", "usage: cluster-network PREFIX [subnet-length N]");
	BAD(&c, &ctx, "cluster-network 10.0.0.0/8 10.1.0.0/16",
	    "usage: cluster-network PREFIX [subnet-length N]");
	BAD(&c, &ctx, "cluster-network 10.0.0.0/8 length 24",
	    "usage: cluster-network PREFIX [subnet-length N]");
	BAD(&c, &ctx, "no cluster-network", "usage: no cluster-network PREFIX [subnet-length N]");
	BAD(&c, &ctx, "cluster-network 10.0.0.1/8", "cluster-network 10.0.0.1/8: host bits set");
	BAD(&c, &ctx, "cluster-network 10.0.0.0", "cluster-network 10.0.0.0: expected ADDRESS/LENGTH");
	BAD(&c, &ctx, "no cluster-network 10.0.0.0/8", "cluster-network 10.0.0.0/8 is not configured");
	BAD(&c, &ctx, "allow", "usage: allow PREFIX");
	BAD(&c, &ctx, "allow 10.0.0.0/8 10.1.0.0/16", "usage: allow PREFIX");
	BAD(&c, &ctx, "no allow", "usage: no allow PREFIX");
	BAD(&c, &ctx, "allow 10.0.0.1/8", "allow 10.0.0.1/8: host bits set");
	BAD(&c, &ctx, "allow x", "allow x: expected ADDRESS/LENGTH");
	BAD(&c, &ctx, "no allow 10.0.0.0/8", "allow 10.0.0.0/8 is not configured");
	OK(&c, &ctx, "no allow 0.0.0.0/0");
	assert_int_equal(c.nallows, 1);
	BAD(&c, &ctx, "max-prefixes", "usage: max-prefixes 1..4294967295");
	BAD(&c, &ctx, "max-prefixes 0", "usage: max-prefixes 1..4294967295");
	BAD(&c, &ctx, "max-prefixes 4294967296", "usage: max-prefixes 1..4294967295");
	BAD(&c, &ctx, "max-prefixes 1 2", "usage: max-prefixes 1..4294967295");
	assert_int_equal(c.max_prefixes, 1000);
	OK(&c, &ctx, "max-prefixes 4294967295");
	assert_int_equal(c.max_prefixes, 4294967295u);
	OK(&c, &ctx, "no max-prefixes");
	assert_int_equal(c.max_prefixes, 0);
	assert_written(&c, "router hgw\n interface eth0\n network 10.1.0.0/16\n"
	    " allow 192.168.0.0/16\n!\n");
	config_free(&c);
}

static void
test_security(void **state)
{
	struct config c;
	enum cfg_ctx ctx;
	char err[256];
	const char *tusage = "usage: tls ca FILE cert FILE key FILE [crl FILE]";

	(void)state;
	router(&c, &ctx);
	OK(&c, &ctx, "interface eth0");
	OK(&c, &ctx, "secret-file /etc/hgw/psk");
	assert_string_equal(c.secret_file, "/etc/hgw/psk");
	assert_written(&c, "router hgw\n interface eth0\n secret-file /etc/hgw/psk\n!\n");
	BAD(&c, &ctx, "secret-file", "usage: secret-file PATH");
	BAD(&c, &ctx, "secret-file /a /b", "usage: secret-file PATH");
	BAD(&c, &ctx, "secret-file etc/psk", "secret-file: 'etc/psk' is not an absolute path");
	assert_string_equal(c.secret_file, "/etc/hgw/psk");
	/* Any order of the three; all three needed. */
	OK(&c, &ctx, "tls key /k.pem ca /ca.pem cert /c.pem");
	assert_string_equal(c.tls_ca, "/ca.pem");
	assert_string_equal(c.tls_cert, "/c.pem");
	assert_string_equal(c.tls_key, "/k.pem");
	assert_int_equal(config_check(&c, err, sizeof(err)), -1);
	assert_string_equal(err, "use either secret-file or tls, not both");
	OK(&c, &ctx, "no secret-file");
	assert_int_equal(config_check(&c, err, sizeof(err)), 0);
	assert_written(&c, "router hgw\n interface eth0\n"
	    " tls ca /ca.pem cert /c.pem key /k.pem\n!\n");
	/* An optional revocation list, printed back. */
	OK(&c, &ctx, "tls crl /crl.pem key /k.pem ca /ca.pem cert /c.pem");
	assert_string_equal(c.tls_crl, "/crl.pem");
	assert_written(&c, "router hgw\n interface eth0\n"
	    " tls ca /ca.pem cert /c.pem key /k.pem crl /crl.pem\n!\n");
	BAD(&c, &ctx, "tls ca /a cert /b key /c crl d.pem", "crl: 'd.pem' is not an absolute path");
	OK(&c, &ctx, "tls key /k.pem ca /ca.pem cert /c.pem");
	assert_string_equal(c.tls_crl, "");
	BAD(&c, &ctx, "tls", tusage);
	BAD(&c, &ctx, "tls ca /a cert /b", tusage);
	BAD(&c, &ctx, "tls ca /a cert /b key", tusage);
	BAD(&c, &ctx, "tls ca /a ca /b key /c", tusage);
	BAD(&c, &ctx, "tls ca /a cert /b key /c extra", tusage);
	BAD(&c, &ctx, "tls psk /a", "tls: unknown option 'psk'");
	BAD(&c, &ctx, "tls ca a.pem cert /b key /c", "ca: 'a.pem' is not an absolute path");
	BAD(&c, &ctx, "tls ca /a cert /b key c", "key: 'c' is not an absolute path");
	assert_string_equal(c.tls_ca, "/ca.pem");	/* unchanged by the failures */
	assert_string_equal(c.tls_cert, "/c.pem");
	assert_string_equal(c.tls_key, "/k.pem");
	OK(&c, &ctx, "no tls");
	assert_string_equal(c.tls_cert, "");
	assert_written(&c, "router hgw\n interface eth0\n!\n");
	config_free(&c);
}

static void
test_leases(void **state)
{
	struct config c;
	enum cfg_ctx ctx;
	char want[4096];
	const char *hold_usage = "usage: lease-hold TIME (seconds, or with s, m or h; at most a year)";

	(void)state;
	router(&c, &ctx);
	OK(&c, &ctx, "interface eth0");
	assert_int_equal(c.lease_hold_s, CFG_DEFAULT_LEASE_HOLD_S);
	assert_string_equal(c.lease_file, CFG_DEFAULT_LEASE_FILE);
	assert_string_equal(c.subnet_env, CFG_DEFAULT_SUBNET_ENV);
	assert_int_equal(c.ipmasq, CFG_IPMASQ_DEFAULT);
	assert_int_equal(c.discovery, 0);

	/* subnet-length: one leasing cluster network per family */
	OK(&c, &ctx, "cluster-network 10.244.0.0/16 subnet-length 24");
	OK(&c, &ctx, "cluster-network 10.96.0.0/16");
	OK(&c, &ctx, "cluster-network fd00::/48 subnet-length 64");
	assert_int_equal(c.nclusters, 3);
	assert_int_equal(c.lease_len[0], 24);
	assert_int_equal(c.lease_len[1], 64);
	assert_written(&c, "router hgw\n interface eth0\n"
	    " cluster-network 10.96.0.0/16\n"
	    " cluster-network 10.244.0.0/16 subnet-length 24\n"
	    " cluster-network fd00::/48 subnet-length 64\n!\n");
	BAD(&c, &ctx, "cluster-network 10.96.0.0/16 subnet-length 24",
	    "cluster-network 10.96.0.0/16: only one IPv4 cluster network can have a subnet-length");
	BAD(&c, &ctx, "cluster-network 10.244.0.0/16 subnet-length 16",
	    "cluster-network 10.244.0.0/16: subnet-length '16' must be longer than /16, at most /32 and at most 24 bits more");
	BAD(&c, &ctx, "cluster-network 10.244.0.0/16 subnet-length 33",
	    "cluster-network 10.244.0.0/16: subnet-length '33' must be longer than /16, at most /32 and at most 24 bits more");
	BAD(&c, &ctx, "cluster-network 10.0.0.0/8 subnet-length 33",
	    "cluster-network 10.0.0.0/8: subnet-length '33' must be longer than /8, at most /32 and at most 24 bits more");
	BAD(&c, &ctx, "cluster-network fd00::/48 subnet-length 73",
	    "cluster-network fd00::/48: subnet-length '73' must be longer than /48, at most /128 and at most 24 bits more");
	BAD(&c, &ctx, "cluster-network fd00::/48 subnet-length x",
	    "cluster-network fd00::/48: subnet-length 'x' must be longer than /48, at most /128 and at most 24 bits more");
	BAD(&c, &ctx, "cluster-network fd00::/48 subnet-length",
	    "usage: cluster-network PREFIX [subnet-length N]");
	assert_int_equal(c.lease_len[0], 24);
	/* Restated: a new length, or none (leasing off). */
	OK(&c, &ctx, "cluster-network 10.244.0.0/16 subnet-length 26");
	assert_int_equal(c.lease_len[0], 26);
	BAD(&c, &ctx, "cluster-network 172.16.0.0/12 subnet-length 24",
	    "cluster-network 172.16.0.0/12: only one IPv4 cluster network can have a subnet-length");
	assert_int_equal(c.lease_len[0], 26);
	assert_true(hgw_prefix_eq(&c.lease_net[0], &c.clusters[0]));
	config_free(&c);

	router(&c, &ctx);
	OK(&c, &ctx, "interface eth0");
	OK(&c, &ctx, "cluster-network 10.0.0.0/8 subnet-length 32");	/* 24 bits more */
	assert_int_equal(c.lease_len[0], 32);
	OK(&c, &ctx, "cluster-network 10.0.0.0/8");
	assert_int_equal(c.lease_len[0], 0);
	OK(&c, &ctx, "cluster-network 10.0.0.0/8 subnet-length 24");
	OK(&c, &ctx, "no cluster-network 10.0.0.0/8 subnet-length 24");
	assert_int_equal(c.nclusters, 0);
	assert_int_equal(c.lease_len[0], 0);
	/* Another network may take the lease once the first is gone. */
	OK(&c, &ctx, "cluster-network 10.0.0.0/8 subnet-length 24");
	OK(&c, &ctx, "no cluster-network 10.0.0.0/8");
	OK(&c, &ctx, "cluster-network 172.16.0.0/12 subnet-length 24");
	assert_int_equal(c.lease_len[0], 24);

	/* lease-hold: seconds, s, m, h; at most a year; written in seconds */
	OK(&c, &ctx, "lease-hold 90");
	assert_int_equal(c.lease_hold_s, 90);
	OK(&c, &ctx, "lease-hold 90s");
	assert_int_equal(c.lease_hold_s, 90);
	OK(&c, &ctx, "lease-hold 30m");
	assert_int_equal(c.lease_hold_s, 1800);
	OK(&c, &ctx, "lease-hold 8760h");
	assert_int_equal(c.lease_hold_s, 31536000);
	BAD(&c, &ctx, "lease-hold 8761h", hold_usage);
	BAD(&c, &ctx, "lease-hold 31536001", hold_usage);
	BAD(&c, &ctx, "lease-hold 0", hold_usage);
	BAD(&c, &ctx, "lease-hold 0s", hold_usage);
	BAD(&c, &ctx, "lease-hold h", hold_usage);
	BAD(&c, &ctx, "lease-hold 1d", hold_usage);
	BAD(&c, &ctx, "lease-hold -1", hold_usage);
	BAD(&c, &ctx, "lease-hold 1.5h", hold_usage);
	BAD(&c, &ctx, "lease-hold 99999999999999999999h", hold_usage);
	BAD(&c, &ctx, "lease-hold", hold_usage);
	BAD(&c, &ctx, "lease-hold 1 2", hold_usage);
	assert_int_equal(c.lease_hold_s, 31536000);
	OK(&c, &ctx, "lease-hold 2h");

	/* paths */
	OK(&c, &ctx, "lease-file /var/lib/hgw/state");
	OK(&c, &ctx, "subnet-env /run/hgw/subnet.env");
	BAD(&c, &ctx, "lease-file", "usage: lease-file PATH");
	BAD(&c, &ctx, "lease-file lease", "lease-file: 'lease' is not an absolute path");
	BAD(&c, &ctx, "subnet-env /a /b", "usage: subnet-env PATH");
	BAD(&c, &ctx, "subnet-env ./subnet.env", "subnet-env: './subnet.env' is not an absolute path");
	assert_string_equal(c.lease_file, "/var/lib/hgw/state");
	assert_string_equal(c.subnet_env, "/run/hgw/subnet.env");

	/* flags */
	OK(&c, &ctx, "ipmasq");
	OK(&c, &ctx, "discovery multicast");
	assert_int_equal(c.ipmasq, 1);
	assert_int_equal(c.discovery, 1);
	BAD(&c, &ctx, "discovery", "usage: discovery multicast");
	BAD(&c, &ctx, "discovery broadcast", "usage: discovery multicast");
	BAD(&c, &ctx, "ipmasq on", "usage: [no] ip-masq");
	BAD(&c, &ctx, "no ipmasq now", "'no ipmasq' is not a statement");
	BAD(&c, &ctx, "no lease-hold", "'no lease-hold' is not a statement");

	snprintf(want, sizeof(want), "router hgw\n interface eth0\n"
	    " cluster-network 172.16.0.0/12 subnet-length 24\n"
	    " lease-hold 7200\n"
	    " lease-file /var/lib/hgw/state\n"
	    " subnet-env /run/hgw/subnet.env\n"
	    " discovery multicast\n!\n");	/* ip-masq: the default with a cluster-network */
	assert_written(&c, want);
	OK(&c, &ctx, "no ipmasq");
	OK(&c, &ctx, "no discovery");
	OK(&c, &ctx, "lease-hold 24h");	/* the default: left out */
	snprintf(want, sizeof(want), "lease-file %s", CFG_DEFAULT_LEASE_FILE);
	OK(&c, &ctx, want);
	snprintf(want, sizeof(want), "subnet-env %s", CFG_DEFAULT_SUBNET_ENV);
	OK(&c, &ctx, want);
	assert_written(&c, "router hgw\n interface eth0\n"
	    " cluster-network 172.16.0.0/12 subnet-length 24\n no ip-masq\n!\n");
	config_free(&c);
}

static void
test_line_limits(void **state)
{
	struct config c;
	enum cfg_ctx ctx;
	char line[1200];

	(void)state;
	router(&c, &ctx);
	/* 16 words pass the splitter (and fail later); 17 do not. */
	BAD(&c, &ctx, "kernel protocol 9 table 9 metric 9 protocol 9 table 9 metric 9 protocol 9 table",
	    "usage: kernel [protocol N] [table N] [metric N] | kernel off");
	BAD(&c, &ctx, "kernel protocol 9 table 9 metric 9 protocol 9 table 9 metric 9 protocol 9 table 9",
	    "too many words");
	/* A comment's words do not count. */
	OK(&c, &ctx, "kernel metric 9 ! a b c d e f g h i j k l m n o p q r s t u v w x y z");
	assert_int_equal(c.kernel_metric, 9);
	memset(line, ' ', 1023);
	memcpy(line, "interface eth0", 14);
	line[1023] = '\0';
	OK(&c, &ctx, line);
	line[1023] = ' ';
	line[1024] = '\0';
	BAD(&c, &ctx, line, "line too long");
	config_free(&c);
}

static void
test_load(void **state)
{
	struct config c, d;
	char err[768];

	(void)state;
	/* Comments, blank lines, tabs, CRLF, no final newline. */
	LOAD_OK("! hgwd\n"
	    "# also a comment\n"
	    "\n"
	    "hostname  h0 ! the name\r\n"
	    "router hgw\r\n"
	    "\tinterface eth0   # lan\n"
	    "  network 10.1.0.0/16\n"
	    " !network 10.2.0.0/16\n"
	    " neighbor 10.0.0.2 port 7000", &c);
	assert_string_equal(c.hostname, "h0");
	assert_string_equal(c.ifname, "eth0");
	assert_int_equal(c.router_line, 5);
	assert_int_equal(c.nnetworks, 1);
	assert_int_equal(c.nneighbors, 1);
	assert_int_equal(c.neighbors[0].port, 7000);
	assert_written(&c, "hostname h0\n!\nrouter hgw\n interface eth0\n"
	    " network 10.1.0.0/16\n neighbor 10.0.0.2 port 7000\n!\n");
	/* config_load starts from the defaults whatever c held. */
	LOAD_OK("router hgw\n interface eth1\n", &d);
	assert_string_equal(d.hostname, "");
	assert_int_equal(d.nnetworks, 0);
	config_free(&d);
	config_free(&c);

	/* Errors name the file and the line. */
	LOAD_BAD("router hgw\n interface eth0\n\n! comment\n network 10.1.2.3/16\n network 10.9.0.0/16\n",
	    "F:5: network 10.1.2.3/16 has host bits set (did you mean 10.1.0.0/16?)");
	LOAD_BAD("hostname h\n interface eth0\nrouter hgw\n",
	    "F:2: 'interface' belongs inside 'router hgw'");
	LOAD_BAD("router hgw\n interface eth0\n timers keepalive 0.05\n",
	    "F:3: timers keepalive: '0.05' is not a number of seconds from 0.1 to 3600 with at most one decimal");
	LOAD_BAD("router hgw\n interface eth0\n network 10.0.0.0/8\n network 10.1.0.0/16\n",
	    "F:4: network 10.1.0.0/16 overlaps network 10.0.0.0/8");
	LOAD_BAD("router hgw\n interface eth0\nexit\n network 10.0.0.0/8\n",
	    "F:4: 'network' belongs inside 'router hgw'");
	LOAD_BAD("router hgw\r\n interface eth0\r\n bogus\r\n",
	    "F:3: unknown statement 'bogus' in router hgw");
	LOAD_BAD("router hgw\n interface eth0\n kernel table 255",
	    "F:3: kernel table '255' is not 1..4294967295 (255 is the local table)");
	/* Whole-configuration checks: at the router line. */
	/* hostint: no interface line is "interface auto"; ip-masq without a
	 * cluster-network is the whole-configuration error now. */
	LOAD_BAD("! masq\n!\nhostname h\nrouter hgw\n network 10.0.0.0/8\n ip-masq\n!\n",
	    "F:4: ip-masq needs a cluster-network (what is not masqueraded)");
	LOAD_BAD("router hgw\n network 10.0.0.0/8\nexit\nrouter hgw\n ip-masq\n",
	    "F:1: ip-masq needs a cluster-network (what is not masqueraded)");
	/* Without a router block, at the end of the file. */
	LOAD_BAD("hostname h\n!\n", "F:2: no 'router hgw' block");
	/* A line too long for the reader, and one too long for the parser. */
	{
		char *text = malloc(3000);

		strcpy(text, "router hgw\n interface eth0\n network 10.0.0.0/8");
		memset(text + strlen(text), ' ', 2000);
		strcpy(text + 2046, "\n");
		LOAD_BAD(text, "F:3: line too long");
		strcpy(text, "router hgw\n interface eth0\n!");
		memset(text + strlen(text), 'x', 1040);
		strcpy(text + 28 + 1040, "\n");
		LOAD_BAD(text, "F:3: line too long");
		free(text);
	}
	/* A missing file. */
	assert_int_equal(config_load("/nonexistent/hgwd.conf", &c, err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/hgwd.conf: No such file or directory");
}

static void
test_check(void **state)
{
	struct config c;
	enum cfg_ctx ctx = CFG_CTX_TOP;
	char err[256];

	(void)state;
	config_init(&c);
	assert_int_equal(config_check(&c, err, sizeof(err)), -1);
	assert_string_equal(err, "no 'router hgw' block");
	OK(&c, &ctx, "hostname h");
	assert_int_equal(config_check(&c, err, sizeof(err)), -1);
	assert_string_equal(err, "no 'router hgw' block");
	OK(&c, &ctx, "router hgw");
	assert_int_equal(config_check(&c, err, sizeof(err)), 0);	/* interface auto */
	assert_true(c.ifauto);
	OK(&c, &ctx, "interface eth0");
	assert_int_equal(config_check(&c, err, sizeof(err)), 0);
	assert_false(c.ifauto);
	OK(&c, &ctx, "ip-masq");
	assert_int_equal(config_check(&c, err, sizeof(err)), -1);
	assert_string_equal(err, "ip-masq needs a cluster-network (what is not masqueraded)");
	OK(&c, &ctx, "cluster-network 10.244.0.0/16");
	assert_int_equal(config_check(&c, err, sizeof(err)), 0);
	assert_int_equal(config_ipmasq(&c), 1);
	OK(&c, &ctx, "no ip-masq");
	assert_int_equal(config_ipmasq(&c), 0);
	OK(&c, &ctx, "ip-forward enable");
	assert_int_equal(c.ip_forward, 1);
	BAD(&c, &ctx, "ip-forward", "usage: ip-forward enable");
	OK(&c, &ctx, "interface auto");
	assert_true(c.ifauto);
	config_free(&c);
}

static void
test_write_normalized(void **state)
{
	struct config c;
	enum cfg_ctx ctx;

	(void)state;
	config_init(&c);
	ctx = CFG_CTX_TOP;
	OK(&c, &ctx, "hostname h0");
	OK(&c, &ctx, "router hgw");
	OK(&c, &ctx, "kernel metric 5 protocol 99");
	OK(&c, &ctx, "neighbor fd00::3");
	OK(&c, &ctx, "timers startup 0.5");
	OK(&c, &ctx, "network fd00:2::/64");
	OK(&c, &ctx, "neighbor 10.0.0.20 port 1");
	OK(&c, &ctx, "network 192.168.1.0/24");
	OK(&c, &ctx, "address fd00::1");
	OK(&c, &ctx, "neighbor 10.0.0.3");
	OK(&c, &ctx, "listen port 7180");
	OK(&c, &ctx, "network 10.0.0.0/24");
	OK(&c, &ctx, "network 9.0.0.0/8");
	OK(&c, &ctx, "address 10.0.0.1");
	OK(&c, &ctx, "node-id 0.0.0.42");
	OK(&c, &ctx, "timers hold 0.9 keepalive 0.3");
	OK(&c, &ctx, "interface lan0");
	OK(&c, &ctx, "network fd00:1::/64");
	assert_written(&c,
	    "hostname h0\n"
	    "!\n"
	    "router hgw\n"
	    " interface lan0\n"
	    " node-id 0.0.0.42\n"
	    " address 10.0.0.1\n"
	    " address fd00::1\n"
	    " listen port 7180\n"
	    " network 9.0.0.0/8\n"
	    " network 10.0.0.0/24\n"
	    " network 192.168.1.0/24\n"
	    " network fd00:1::/64\n"
	    " network fd00:2::/64\n"
	    " neighbor 10.0.0.3\n"
	    " neighbor 10.0.0.20 port 1\n"
	    " neighbor fd00::3\n"
	    " timers keepalive 0.3 hold 0.9\n"
	    " timers startup 0.5\n"
	    " kernel protocol 99 table 254 metric 5\n"
	    "!\n");
	/* Writing does not reorder the configuration itself. */
	assert_int_equal(c.networks[0].family, AF_INET6);
	config_free(&c);

	/* Defaults spelled out are left out. */
	config_init(&c);
	ctx = CFG_CTX_TOP;
	OK(&c, &ctx, "router hgw");
	OK(&c, &ctx, "interface eth0");
	OK(&c, &ctx, "listen port 7179");
	OK(&c, &ctx, "neighbor 10.0.0.2 port 7179");
	OK(&c, &ctx, "timers keepalive 1 hold 3 startup 5");
	OK(&c, &ctx, "kernel protocol 77 table 254 metric 20");
	OK(&c, &ctx, "kernel on");
	OK(&c, &ctx, "node-id 1.1.1.1");
	OK(&c, &ctx, "no node-id");
	OK(&c, &ctx, "address 10.0.0.1");
	OK(&c, &ctx, "no address 10.0.0.1");
	assert_written(&c, "router hgw\n interface eth0\n neighbor 10.0.0.2\n!\n");
	config_free(&c);
}

/* print -> parse -> print gives the same text, and the parsed
 * configuration equals the one printed. */
static void
round_trip(const char *text)
{
	struct config a, b;
	char *s1, *s2, err[768];

	if (load_text(text, &a, err, sizeof(err)) != 0)
		fail_msg("config refused: %s\n%s", err, text);
	s1 = written(&a);
	if (load_text(s1, &b, err, sizeof(err)) != 0)
		fail_msg("written config refused: %s\n%s", err, s1);
	s2 = written(&b);
	if (strcmp(s1, s2) != 0)
		fail_msg("round trip differs:\n--- first\n%s--- second\n%s---", s1, s2);
	assert_same_config(&a, &b);
	free(s1);
	free(s2);
	config_free(&a);
	config_free(&b);
}

static void
test_round_trip(void **state)
{
	(void)state;
	round_trip("router hgw\n interface eth0\n");
	round_trip("hostname a\nrouter hgw\n interface eth0\n network 10.0.0.0/8\n");
	round_trip("router hgw\n interface e\n node-id 9.8.7.6\n address 10.0.0.1\n"
	    " address 2001:db8::1\n listen port 1\n"
	    " network 2001:db8:ffff::/48\n network 10.10.0.0/16\n network 172.16.0.0/12\n"
	    " neighbor fe80::1 port 65535\n neighbor 10.0.0.9\n neighbor 10.0.0.10 port 7180\n"
	    " timers keepalive 0.1 hold 0.3\n timers startup 0\n"
	    " kernel table 1000 metric 0 protocol 200\n");
	round_trip("router hgw\n interface e\n timers hold 3600\n kernel off\n");
	round_trip("router hgw\n interface e\n timers startup 3600\n kernel metric 1\n kernel off\n");
	round_trip("router hgw\n interface e\n timers keepalive 2.5\n timers hold 7.5\n");
	round_trip("router hgw\n interface e\n kernel off\n kernel on\n");
	round_trip("router hgw\n interface e\n cluster-network fd00::/8\n cluster-network 10.0.0.0/8\n"
	    " network 10.1.0.0/16\n allow 192.168.0.0/16\n allow ::/0\n max-prefixes 5\n"
	    " neighbor 10.0.0.2 allow-third-party-gateway max-prefixes 7\n"
	    " neighbor 10.0.0.3 port 1 allow-third-party-gateway\n"
	    " tls cert /c key /k ca /a\n");
	round_trip("router hgw\n interface e\n secret-file /etc/hgw/secret\n");
	round_trip("router hgw\n interface auto\n cluster-network 10.0.0.0/8\n no ip-masq\n"
	    " ip-forward enable\n");
	round_trip("router hgw\n interface e\n cluster-network 10.244.0.0/16 subnet-length 24\n"
	    " cluster-network fd00::/48 subnet-length 72\n cluster-network 10.96.0.0/12\n"
	    " lease-hold 45m\n lease-file /x/lease\n subnet-env /x/env\n ipmasq\n"
	    " discovery multicast\n network 10.96.1.0/24\n");
	round_trip("hostname x\nrouter hgw\n interface e\n network 10.0.0.0/24\n"
	    " network 10.0.1.0/24\n no network 10.0.0.0/24\n neighbor 10.0.0.1\n"
	    " no neighbor 10.0.0.1\n neighbor 10.0.0.2 port 9\n");
}

/* limits ... and static-hosts: values, errors, defaults, printing, copies. */
static void
test_limits(void **state)
{
	struct config c, d;
	enum cfg_ctx ctx;
	struct hgw_addr a;
	char err[768];

	(void)state;
	router(&c, &ctx);
	assert_int_equal(c.limits.members, 256);
	assert_int_equal(c.limits.members_per_sender, 64);
	assert_int_equal(c.limits.dial_rate, 50);
	assert_int_equal(c.limits.dial_burst, 64);
	assert_true(c.limits.output_budget == 32ull << 20);
	assert_int_equal(c.limits.sessions_per_source, 3);
	OK(&c, &ctx, "interface e");
	assert_written(&c, "router hgw\n interface e\n!\n");
	OK(&c, &ctx, "limits members 40");
	assert_int_equal(c.limits.members, 40);
	assert_int_equal(c.limits.members_per_sender, 40);	/* the default 64, at most the total */
	OK(&c, &ctx, "limits members 1000 per-sender 10");
	assert_int_equal(c.limits.members, 1000);
	assert_int_equal(c.limits.members_per_sender, 10);
	OK(&c, &ctx, "limits member-dials 5 burst 8");
	assert_int_equal(c.limits.dial_rate, 5);
	assert_int_equal(c.limits.dial_burst, 8);
	OK(&c, &ctx, "limits output-budget 4M");
	assert_true(c.limits.output_budget == 4ull << 20);
	OK(&c, &ctx, "limits output-budget 2048k");
	assert_true(c.limits.output_budget == 2ull << 20);
	OK(&c, &ctx, "limits output-budget 1G");
	assert_true(c.limits.output_budget == 1ull << 30);
	OK(&c, &ctx, "limits output-budget 1572864");
	OK(&c, &ctx, "limits sessions-per-source 2");
	OK(&c, &ctx, "static-hosts 192.168.1.0/28");
	OK(&c, &ctx, "static-hosts 2001:db8::/64");
	OK(&c, &ctx, "static-hosts 10.0.0.7/32");
	OK(&c, &ctx, "static-hosts 10.0.0.7/32");	/* once */
	assert_int_equal(c.nstatic_hosts, 3);
	assert_int_equal(hgw_addr_parse("192.168.1.9", &a), 0);
	assert_true(config_static_host(&c, &a));
	assert_int_equal(hgw_addr_parse("192.168.1.16", &a), 0);
	assert_false(config_static_host(&c, &a));
	assert_written(&c, "router hgw\n interface e\n"
	    " static-hosts 10.0.0.7/32\n static-hosts 192.168.1.0/28\n static-hosts 2001:db8::/64\n"
	    " limits members 1000 per-sender 10\n limits member-dials 5 burst 8\n"
	    " limits output-budget 1536K\n limits sessions-per-source 2\n!\n");
	assert_int_equal(config_copy(&d, &c), 0);
	assert_same_config(&c, &d);
	assert_ptr_not_equal(c.static_hosts, d.static_hosts);
	config_free(&d);
	/* Errors. */
	BAD(&c, &ctx, "limits", "usage: limits members N [per-sender M] | limits member-dials RATE [burst N] | "
	    "limits output-budget SIZE | limits sessions-per-source N");
	BAD(&c, &ctx, "limits members 0", "limits members: '0' is not 1..4096");
	BAD(&c, &ctx, "limits members 5000", "limits members: '5000' is not 1..4096");
	BAD(&c, &ctx, "limits members 10 per-sender 11",
	    "limits members: per-sender '11' is not 1..10 (the total)");
	BAD(&c, &ctx, "limits members 10 each 5", "usage: limits members N [per-sender M]");
	BAD(&c, &ctx, "limits member-dials 0", "limits member-dials: rate '0' is not 1..1000 a second");
	BAD(&c, &ctx, "limits member-dials 5 burst x", "limits member-dials: burst 'x' is not 1..4096");
	BAD(&c, &ctx, "limits output-budget 100K",
	    "limits output-budget: '100K' is not a size of 1M..4G (bytes, or with K, M or G)");
	BAD(&c, &ctx, "limits output-budget 5G",
	    "limits output-budget: '5G' is not a size of 1M..4G (bytes, or with K, M or G)");
	BAD(&c, &ctx, "limits output-budget 4MB",
	    "limits output-budget: '4MB' is not a size of 1M..4G (bytes, or with K, M or G)");
	BAD(&c, &ctx, "limits sessions-per-source 4", "usage: limits sessions-per-source 1..3");
	BAD(&c, &ctx, "limits peers 4", "limits peers: unknown; usage: limits members N [per-sender M] | "
	    "limits member-dials RATE [burst N] | limits output-budget SIZE | limits sessions-per-source N");
	BAD(&c, &ctx, "static-hosts 10.0.0.0/33", "static-hosts 10.0.0.0/33: bad prefix length");
	BAD(&c, &ctx, "static-hosts", "usage: static-hosts PREFIX");
	BAD(&c, &ctx, "no static-hosts 10.9.0.0/16", "static-hosts 10.9.0.0/16 is not configured");
	/* no: one kind, or all. */
	OK(&c, &ctx, "no limits members");
	assert_int_equal(c.limits.members, 256);
	assert_int_equal(c.limits.members_per_sender, 64);
	assert_int_equal(c.limits.dial_rate, 5);
	OK(&c, &ctx, "no limits");
	assert_int_equal(c.limits.dial_rate, 50);
	assert_int_equal(c.limits.sessions_per_source, 3);
	OK(&c, &ctx, "no static-hosts 10.0.0.7/32");
	assert_int_equal(c.nstatic_hosts, 2);
	config_free(&c);
	/* In a file: FILE:LINE. */
	assert_int_equal(load_text("router hgw\n interface e\n limits output-budget lots\n", &c, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "F:3: limits output-budget: 'lots' is not a size of 1M..4G "
	    "(bytes, or with K, M or G)");
	assert_int_equal(load_text("router hgw\n limits members 9 per-sender 10\n", &c, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "F:2: limits members: per-sender '10' is not 1..9 (the total)");
	assert_int_equal(load_text("limits members 9\n", &c, err, sizeof(err)), -1);
	assert_string_equal(err, "F:1: 'limits' belongs inside 'router hgw'");
	round_trip("router hgw\n interface e\n cluster-network 10.244.0.0/16 subnet-length 24\n"
	    " static-hosts 10.0.0.0/29\n limits members 100\n limits output-budget 3M\n"
	    " limits member-dials 50\n limits sessions-per-source 1\n");
}

static void
test_copy(void **state)
{
	struct config a, b, e;
	enum cfg_ctx ctx;
	char *s1, *s2;

	(void)state;
	router(&a, &ctx);
	OK(&a, &ctx, "interface eth0");
	OK(&a, &ctx, "network 10.0.0.0/24");
	OK(&a, &ctx, "network 10.0.1.0/24");
	OK(&a, &ctx, "neighbor 10.0.0.2");
	OK(&a, &ctx, "timers keepalive 2 hold 6");
	assert_int_equal(config_copy(&b, &a), 0);
	assert_ptr_not_equal(a.networks, b.networks);
	assert_ptr_not_equal(a.neighbors, b.neighbors);
	assert_same_config(&a, &b);
	s1 = written(&a);
	/* Changing the original leaves the copy alone, and the other way round. */
	OK(&a, &ctx, "no network 10.0.0.0/24");
	OK(&a, &ctx, "network 10.0.2.0/24");
	OK(&a, &ctx, "neighbor 10.0.0.2 port 99");
	OK(&a, &ctx, "neighbor 10.0.0.3");
	OK(&a, &ctx, "interface eth1");
	OK(&a, &ctx, "no timers");
	s2 = written(&b);
	assert_string_equal(s1, s2);
	free(s2);
	ctx = CFG_CTX_ROUTER;
	OK(&b, &ctx, "network 10.0.3.0/24");
	assert_int_equal(a.nnetworks, 2);
	assert_int_equal(b.nnetworks, 3);
	config_free(&a);
	s2 = written(&b);	/* b survives a's free */
	assert_non_null(strstr(s2, " network 10.0.3.0/24\n"));
	assert_non_null(strstr(s2, " neighbor 10.0.0.2\n"));
	free(s1);
	free(s2);
	/* Copy of a copy, and of a configuration with empty lists. */
	assert_int_equal(config_copy(&a, &b), 0);
	config_free(&b);
	assert_int_equal(a.nnetworks, 3);
	config_free(&a);
	config_init(&e);
	assert_int_equal(config_copy(&a, &e), 0);
	assert_int_equal(a.nnetworks, 0);
	assert_int_equal(a.nneighbors, 0);
	OK(&a, &ctx, "network 10.0.0.0/8");	/* the copy grows on its own */
	assert_int_equal(e.nnetworks, 0);
	assert_null(e.networks);
	config_free(&a);
	config_free(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_hostname),
		cmocka_unit_test(test_router_context),
		cmocka_unit_test(test_unknown_and_no),
		cmocka_unit_test(test_comments_and_words),
		cmocka_unit_test(test_interface),
		cmocka_unit_test(test_address),
		cmocka_unit_test(test_node_id),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_network),
		cmocka_unit_test(test_neighbor),
		cmocka_unit_test(test_timers),
		cmocka_unit_test(test_kernel),
		cmocka_unit_test(test_cluster_allow),
		cmocka_unit_test(test_security),
		cmocka_unit_test(test_leases),
		cmocka_unit_test(test_line_limits),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_write_normalized),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
