/* test_cmdtree.c: the control command tree: syntax checks, matching, completion and '?' help. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdtree.h"

#define V	CMD_MODE_VIEW
#define C	CMD_MODE_CONFIG
#define R	CMD_MODE_ROUTER

static const struct cmd_def defs[] = {
	/* 0 */ { V, "show peers [PEER] [detail] [json]",
	    "Show running state\nPeers\nA peer's address\nMore detail\nJSON output\n",
	    NULL, 0 },
	/* 1 */ { V, "show peers debug",
	    "Show running state\nPeers\nSession debug counters", NULL, 0 },
	/* 2 */ { V, "show routes [ROUTE] [json]",
	    "Show running state\nRoutes\nA route's prefix\nJSON output", NULL, 0 },
	/* 3 */ { CMD_MODE_ALL, "show running-config",
	    "Show running state\nThe running configuration", NULL, 0 },
	/* 4 */ { V, "show summary [json]",
	    "Show running state\nSummary\nJSON output", NULL, 0 },
	/* 5 */ { V, "show fib [json]",
	    "Show running state\nForwarding table\nJSON output", NULL, 0 },
	/* 6 */ { V, "show fib-stats",
	    "Show running state\nForwarding table counters", NULL, 0 },
	/* 7 */ { V, "show internals",
	    "Show running state\nInternal state", NULL, CMD_F_HIDDEN },
	/* 8 */ { V, "debug (peer|rib|kernel)",
	    "Debugging\nPeer sessions\nRoute selection\nKernel FIB", NULL, 0 },
	/* 9 */ { V, "no debug (peer|rib|kernel)",
	    "Negate\nDebugging\nPeer sessions\nRoute selection\nKernel FIB",
	    NULL, 0 },
	/* 10 */ { V, "clear peer (PEER|*)",
	    "Reset\nA peer\nA peer's address\nAll peers", NULL, CMD_F_PRIV },
	/* 11 */ { V, "configure terminal",
	    "Configuration\nFrom the terminal", NULL, CMD_F_PRIV },
	/* 12 */ { C, "router hgw", "Routing protocol\nThe hgw protocol", NULL, 0 },
	/* 13 */ { C, "log file WORD", "Logging\nTo a file\nFile name", NULL, 0 },
	/* 14 */ { C, "log file stderr", "Logging\nTo a file\nStandard error",
	    NULL, 0 },
	/* 15 */ { C, "bind ADDRESS", "Listen\nLocal address", NULL, 0 },
	/* 16 */ { C, "bind WORD", "Listen\nInterface name", NULL, 0 },
	/* 17 */ { C | R, "exit", "Leave this mode", NULL, 0 },
	/* 18 */ { R, "network PREFIX", "Announce\nIPv4 or IPv6 prefix", NULL, 0 },
	/* 19 */ { R, "no network PREFIX", "Negate\nAnnounce\nIPv4 or IPv6 prefix",
	    NULL, 0 },
	/* 20 */ { R, "neighbor ADDRESS [port (1-65535)]",
	    "A neighbor\nIts address\nTCP port\nPort number", NULL, 0 },
	/* 21 */ { R, "timers keepalive SECONDS hold SECONDS",
	    "Timers\nKeepalive interval\nSeconds\nHold time\nSeconds", NULL, 0 },
	/* 22 */ { R, "shutdown", "Stop the protocol", NULL, 0 },
	/* 23 */ { R, "description LINE", "Description\nText", NULL, 0 },
	/* 24 */ { R, "router-id A.B.C.D", "Router ID\nIPv4 address", NULL, 0 },
	/* 25 */ { R, "aggregate A.B.C.D/M", "Aggregate\nIPv4 prefix", NULL, 0 },
	/* 26 */ { R, "aggregate6 X:X::X:X/M", "Aggregate IPv6\nIPv6 prefix",
	    NULL, 0 },
	/* 27 */ { R, "update-source X:X::X:X", "Source\nIPv6 address", NULL, 0 },
};
#define NDEFS	((int)(sizeof(defs) / sizeof(defs[0])))

struct dyn {
	int calls;
	char vartype[16];
	char partial[64];
};

struct fix {
	struct cmd_tree *t;
	struct dyn dyn;
};

static const char *peers[] = { "10.0.0.2", "10.0.0.1", "2001:db8::1",
	"10.0.0.1", NULL };
static const char *routes[] = { "10.0.0.0/8", "10.1.0.0/16", "2001:db8::/32",
	NULL };

/* Emits every value, ignoring partial, so the tree's own filter is tested;
 * also an over-long value that must be dropped. */
static void
dynamic(void *arg, const char *vartype, const char *partial, cmd_emit_fn emit,
    void *emit_arg)
{
	struct dyn *d = arg;
	const char **p = strcmp(vartype, "PEER") == 0 ? peers : routes;

	d->calls++;
	snprintf(d->vartype, sizeof(d->vartype), "%s", vartype);
	snprintf(d->partial, sizeof(d->partial), "%s", partial);
	for (; *p != NULL; p++)
		emit(emit_arg, *p);
	emit(emit_arg, "10.0.0.1111111111111111111111111111111111111111111111111"
	    "11111111111111111111");
}

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	int i;

	assert_non_null(f);
	f->t = cmd_tree_new();
	assert_non_null(f->t);
	for (i = 0; i < NDEFS; i++)
		assert_int_equal(cmd_tree_add(f->t, &defs[i]), 0);
	cmd_tree_set_dynamic(f->t, dynamic, &f->dyn);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;

	cmd_tree_free(f->t);
	free(f);
	return 0;
}

static struct cmd_tree *
T(void **state)
{
	return ((struct fix *)*state)->t;
}

/* The candidates' words, joined by single spaces. */
static const char *
words_of(const struct cmd_cand *c, int n)
{
	static char buf[2048];
	int i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i)
			strcat(buf, " ");
		strcat(buf, c[i].word);
	}
	return buf;
}

static const char *
complete(void **state, unsigned mode, const char *line)
{
	struct cmd_cand c[64];
	int n = cmd_complete(T(state), mode, line, c, 64);

	assert_true(n >= 0);
	return words_of(c, n);
}

static const char *
help_line(const struct cmd_cand *c, int n, const char *word)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(c[i].word, word) == 0)
			return c[i].help;
	return NULL;
}

/* ---- cmd_tree_add: syntax and help checks ---- */

static int
try_add(const char *syntax, const char *help)
{
	struct cmd_tree *t = cmd_tree_new();
	struct cmd_def d = { V, syntax, help, NULL, 0 };
	int r;

	assert_non_null(t);
	r = cmd_tree_add(t, &d);
	cmd_tree_free(t);
	return r;
}

static void
test_add_good(void **state)
{
	assert_int_equal(try_add("a", "A"), 0);
	assert_int_equal(try_add("a b-c 9x", "A\nB\nC\n"), 0);
	assert_int_equal(try_add("a [b]", "A\nB"), 0);
	assert_int_equal(try_add("a [b|WORD]", "A\nB\nW"), 0);
	assert_int_equal(try_add("a (b|c|d)", "A\nB\nC\nD"), 0);
	assert_int_equal(try_add("a [port (1-65535)]", "A\nP\nN"), 0);
	assert_int_equal(try_add("a (1-10)", "A\nN"), 0);
	assert_int_equal(try_add("a [(1-10)]", "A\nN"), 0);
	assert_int_equal(try_add("a (PEER|*)", "A\nP\nS"), 0);
	assert_int_equal(try_add("a LINE", "A\nL"), 0);
	assert_int_equal(try_add("a [LINE]", "A\nL"), 0);
	assert_int_equal(try_add("a [b LINE]", "A\nB\nL"), 0);
	assert_int_equal(try_add("A.B.C.D X:X::X:X ADDRESS PEER A.B.C.D/M "
	    "X:X::X:X/M PREFIX ROUTE SECONDS WORD", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10"),
	    0);
	/* 8 optional parts: 256 variants, the most one syntax may have. */
	assert_int_equal(try_add("a [b] [c] [d] [e] [f] [g] [h] [i]",
	    "1\n2\n3\n4\n5\n6\n7\n8\n9"), 0);
}

static void
test_add_bad_syntax(void **state)
{
	static const char *bad[] = {
		"", " a", "a ", "a  b", "a\tb", "Show", "FOO", "a_b", "-a", "a@",
		"[a", "a]", "(a", "(a)", "(a|b", "(a||b)", "[a|]", "[]", "()",
		"[a|b c]", "x [a|b c]", "x [a b|c]", "[[a]]", "[a [b]]",
		"[(a|b)]", "((a|b))", "(a b)",
		"a[b]", "[a]b", "(5-1)", "(1-)", "(-5)", "(1-99999999999)",
		"(a-b)", "LINE a", "a [LINE] [b]", "a [LINE b]", "(LINE|a) b",
		"[a]", "[a] [b]", "a [b|C]", "a IFNAME",
		"a [b] [c] [d] [e] [f] [g] [h] [i] [j]",
		"a aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		NULL
	};
	struct cmd_tree *t = cmd_tree_new();
	struct cmd_def d = { V, NULL, NULL, NULL, 0 };
	char help[256];
	int i, j, n;

	for (i = 0; bad[i] != NULL; i++) {
		/* Enough help lines for any reading of the syntax. */
		for (n = 1, j = 0; bad[i][j]; j++)
			n += bad[i][j] == ' ' || bad[i][j] == '|';
		help[0] = '\0';
		for (j = 0; j < n; j++)
			strcat(help, "h\n");
		for (j = n; j > 0; j--) {
			help[2 * j] = '\0';
			d.syntax = bad[i];
			d.help = help;
			if (cmd_tree_add(t, &d) != -1)
				fail_msg("accepted '%s' with %d help lines",
				    bad[i], j);
		}
	}
	/* More than 32 words in one variant. */
	assert_int_equal(try_add("a a a a a a a a a a a a a a a a a a a a a a a a "
	    "a a a a a a a a a", "h\nh\nh\nh\nh\nh\nh\nh\nh\nh\nh\nh\nh\nh\nh\nh\n"
	    "h\nh\nh\nh\nh\nh\nh\nh\nh\nh\nh\nh\nh\nh\nh\nh\nh\n"), -1);
	d.syntax = "a";
	d.help = "h";
	d.modes = 0;
	assert_int_equal(cmd_tree_add(t, &d), -1);
	d.modes = V;
	d.syntax = NULL;
	assert_int_equal(cmd_tree_add(t, &d), -1);
	assert_int_equal(cmd_tree_add(t, NULL), -1);
	cmd_tree_free(t);
	cmd_tree_free(NULL);
}

static void
test_add_bad_help(void **state)
{
	assert_int_equal(try_add("a b", "A"), -1);
	assert_int_equal(try_add("a b", "A\nB\nC"), -1);
	assert_int_equal(try_add("a b", "A\n\nB"), -1);
	assert_int_equal(try_add("a b c", "A\n\nC"), -1);
	assert_int_equal(try_add("a b", "A\nB\n\n"), -1);
	assert_int_equal(try_add("a b", NULL), -1);
	assert_int_equal(try_add("a b", ""), -1);
	/* Brackets and bars take no line; each alternative takes one. */
	assert_int_equal(try_add("a (b|c)", "A\nBC"), -1);
	assert_int_equal(try_add("a (b|c)", "A\nB\nC"), 0);
	assert_int_equal(try_add("a [b c]", "A\nB\nC"), 0);
	assert_int_equal(try_add("a [b c]", "A\nB\nC\nD"), -1);
	assert_int_equal(try_add("a [b|c]", "A\nB\nC\n"), 0);
}

/* ---- cmd_split ---- */

static void
test_split(void **state)
{
	char buf[64], *w[8];
	char small[6];

	assert_int_equal(cmd_split("  show\tpeers  10.0.0.1 \n", buf, sizeof(buf),
	    w, 8), 3);
	assert_string_equal(w[0], "show");
	assert_string_equal(w[1], "peers");
	assert_string_equal(w[2], "10.0.0.1");
	assert_int_equal(cmd_split("", buf, sizeof(buf), w, 8), 0);
	assert_int_equal(cmd_split(" \t ", buf, sizeof(buf), w, 8), 0);
	assert_int_equal(cmd_split("! a comment", buf, sizeof(buf), w, 8), 0);
	assert_int_equal(cmd_split("  #comment", buf, sizeof(buf), w, 8), 0);
	assert_int_equal(cmd_split("!", buf, sizeof(buf), w, 8), 0);
	/* Only a first word makes a comment. */
	assert_int_equal(cmd_split("a #b !c", buf, sizeof(buf), w, 8), 3);
	assert_string_equal(w[1], "#b");
	assert_int_equal(cmd_split("a b c d", buf, sizeof(buf), w, 4), 4);
	assert_int_equal(cmd_split("a b c d e", buf, sizeof(buf), w, 4), -1);
	assert_int_equal(cmd_split("a b c d e f g h i", buf, sizeof(buf), w, 8),
	    -1);
	/* The line must fit buflen with its NUL. */
	assert_int_equal(cmd_split("abcde", small, sizeof(small), w, 8), 1);
	assert_string_equal(w[0], "abcde");
	assert_int_equal(cmd_split("abcdef", small, sizeof(small), w, 8), -1);
	assert_int_equal(cmd_split("a b c", small, sizeof(small), w, 8), 3);
	assert_string_equal(w[2], "c");
}

/* ---- cmd_match ---- */

static void
test_match_exact(void **state)
{
	struct cmd_match m;

	assert_int_equal(cmd_match(T(state), V, "show running-config", &m),
	    CMD_MATCH_OK);
	assert_int_equal(m.status, CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[3]);
	assert_int_equal(m.err_word, -1);
	assert_string_equal(m.msg, "");
	assert_int_equal(m.args.n, 2);
	assert_string_equal(m.args.name[0], "show");
	assert_string_equal(m.args.value[0], "show");
	assert_string_equal(m.args.name[1], "running-config");
	assert_string_equal(m.args.value[1], "running-config");

	assert_int_equal(cmd_match(T(state), V, "  show\tfib   json ", &m),
	    CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[5]);
	assert_int_equal(m.args.n, 3);
	assert_string_equal(cmd_arg(&m.args, "json"), "json");

	assert_int_equal(cmd_match(T(state), V, "show fib", &m), CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[5]);
	assert_int_equal(m.args.n, 2);
	assert_null(cmd_arg(&m.args, "json"));

	/* Hidden commands still match. */
	assert_int_equal(cmd_match(T(state), V, "show internals", &m),
	    CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[7]);
	assert_true(m.def->flags & CMD_F_HIDDEN);
	assert_int_equal(cmd_match(T(state), V, "configure terminal", &m),
	    CMD_MATCH_OK);
	assert_true(m.def->flags & CMD_F_PRIV);
}

static void
test_match_abbrev(void **state)
{
	struct cmd_match m;

	assert_int_equal(cmd_match(T(state), V, "sh ro", &m), CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[2]);
	assert_string_equal(m.args.value[0], "show");
	assert_string_equal(m.args.value[1], "routes");

	assert_int_equal(cmd_match(T(state), V, "sh pe 10.0.0.1 j", &m),
	    CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[0]);
	assert_int_equal(m.args.n, 4);
	assert_string_equal(m.args.name[1], "peers");
	assert_string_equal(cmd_arg(&m.args, "PEER"), "10.0.0.1");
	assert_string_equal(cmd_arg(&m.args, "json"), "json");
	assert_null(cmd_arg(&m.args, "detail"));

	assert_int_equal(cmd_match(T(state), V, "s p det", &m), CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[0]);
	assert_string_equal(cmd_arg(&m.args, "detail"), "detail");
	assert_null(cmd_arg(&m.args, "PEER"));

	assert_int_equal(cmd_match(T(state), V, "conf t", &m), CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[11]);
	assert_int_equal(cmd_match(T(state), V, "show run", &m), CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[3]);
	assert_int_equal(cmd_match(T(state), V, "show peers deb", &m),
	    CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[1]);
	/* A longer word than the keyword is no abbreviation. */
	assert_int_equal(cmd_match(T(state), V, "show fibs", &m),
	    CMD_MATCH_UNKNOWN);
	assert_int_equal(m.err_word, 1);
	/* Keywords are case-sensitive. */
	assert_int_equal(cmd_match(T(state), V, "SHOW fib", &m),
	    CMD_MATCH_UNKNOWN);
}

static void
test_match_priority(void **state)
{
	struct cmd_match m;

	/* Exact "fib" beats "fib-stats" abbreviated. */
	assert_int_equal(cmd_match(T(state), V, "show fib", &m), CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[5]);
	assert_int_equal(cmd_match(T(state), V, "show fib-", &m), CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[6]);
	assert_int_equal(cmd_match(T(state), R, "aggregate 10.0.0.0/8", &m),
	    CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[25]);
	/* A keyword, even abbreviated, beats a variable. */
	assert_int_equal(cmd_match(T(state), C, "log file stderr", &m),
	    CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[14]);
	assert_int_equal(cmd_match(T(state), C, "log file std", &m),
	    CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[14]);
	assert_string_equal(m.args.value[2], "stderr");
	assert_int_equal(cmd_match(T(state), C, "log file /var/log/hgw", &m),
	    CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[13]);
	assert_string_equal(cmd_arg(&m.args, "WORD"), "/var/log/hgw");
	/* A typed variable beats WORD. */
	assert_int_equal(cmd_match(T(state), C, "bind 10.0.0.1", &m),
	    CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[15]);
	assert_int_equal(cmd_match(T(state), C, "bind fe80::1", &m),
	    CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[15]);
	assert_int_equal(cmd_match(T(state), C, "bind eth0", &m), CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[16]);
	assert_string_equal(cmd_arg(&m.args, "WORD"), "eth0");
	/* '*' is a keyword, a peer address a variable. */
	assert_int_equal(cmd_match(T(state), V, "clear peer *", &m),
	    CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[10]);
	assert_string_equal(cmd_arg(&m.args, "*"), "*");
	assert_null(cmd_arg(&m.args, "PEER"));
	assert_int_equal(cmd_match(T(state), V, "cl p 2001:db8::1", &m),
	    CMD_MATCH_OK);
	assert_string_equal(cmd_arg(&m.args, "PEER"), "2001:db8::1");
	assert_null(cmd_arg(&m.args, "*"));
}

static void
test_match_ambiguous(void **state)
{
	struct cmd_match m;

	assert_int_equal(cmd_match(T(state), R, "sh run", &m),
	    CMD_MATCH_AMBIGUOUS);
	assert_int_equal(m.err_word, 0);
	assert_string_equal(m.msg, "% Ambiguous command at 'sh': show, shutdown");
	assert_null(m.def);
	/* The same words are fine where shutdown does not exist. */
	assert_int_equal(cmd_match(T(state), V, "sh run", &m), CMD_MATCH_OK);
	assert_int_equal(cmd_match(T(state), R, "sho run", &m), CMD_MATCH_OK);
	assert_int_equal(cmd_match(T(state), R, "shu", &m), CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[22]);

	assert_int_equal(cmd_match(T(state), V, "show peers de", &m),
	    CMD_MATCH_AMBIGUOUS);
	assert_int_equal(m.err_word, 2);
	assert_string_equal(m.msg, "% Ambiguous command at 'de': debug, detail");
	assert_int_equal(cmd_match(T(state), V, "show peers d json", &m),
	    CMD_MATCH_AMBIGUOUS);
	assert_int_equal(m.err_word, 2);
	/* After a peer address only "detail" fits. */
	assert_int_equal(cmd_match(T(state), V, "show peers 10.0.0.1 de", &m),
	    CMD_MATCH_OK);
	assert_string_equal(cmd_arg(&m.args, "detail"), "detail");

	assert_int_equal(cmd_match(T(state), V, "show r", &m),
	    CMD_MATCH_AMBIGUOUS);
	assert_string_equal(m.msg,
	    "% Ambiguous command at 'r': routes, running-config");
	assert_int_equal(cmd_match(T(state), V, "show f", &m),
	    CMD_MATCH_AMBIGUOUS);
	assert_string_equal(m.msg, "% Ambiguous command at 'f': fib, fib-stats");
	assert_int_equal(cmd_match(T(state), V, "c", &m), CMD_MATCH_AMBIGUOUS);
	assert_string_equal(m.msg, "% Ambiguous command at 'c': clear, configure");
	assert_int_equal(m.err_word, 0);
	assert_int_equal(cmd_match(T(state), R, "ag 10.0.0.0/8", &m),
	    CMD_MATCH_AMBIGUOUS);
	assert_string_equal(m.msg,
	    "% Ambiguous command at 'ag': aggregate, aggregate6");
}

static void
test_match_ambiguous_defs(void **state)
{
	static const struct cmd_def a = { V, "x y", "X\nY", NULL, 0 };
	static const struct cmd_def b = { V, "x (y|z)", "X\nY\nZ", NULL, 0 };
	static const struct cmd_def c = { V, "d [e] [e]", "D\nE\nE", NULL, 0 };
	struct cmd_tree *t = cmd_tree_new();
	struct cmd_match m;

	assert_int_equal(cmd_match(t, V, "x", &m), CMD_MATCH_UNKNOWN);
	assert_string_equal(m.msg, "% Unknown command at 'x'");
	assert_int_equal(cmd_tree_add(t, &a), 0);
	assert_int_equal(cmd_tree_add(t, &b), 0);
	assert_int_equal(cmd_tree_add(t, &c), 0);
	/* Two commands with the same words: a bug in the table, reported. */
	assert_int_equal(cmd_match(t, V, "x y", &m), CMD_MATCH_AMBIGUOUS);
	assert_string_equal(m.msg, "% Ambiguous command");
	assert_int_equal(m.err_word, -1);
	assert_int_equal(cmd_match(t, V, "x z", &m), CMD_MATCH_OK);
	assert_ptr_equal(m.def, &b);
	/* Two forms of one command: the first wins. */
	assert_int_equal(cmd_match(t, V, "d e", &m), CMD_MATCH_OK);
	assert_ptr_equal(m.def, &c);
	assert_int_equal(m.args.n, 2);
	assert_int_equal(cmd_match(t, V, "d e e", &m), CMD_MATCH_OK);
	assert_int_equal(m.args.n, 3);
	cmd_tree_free(t);
}

static void
test_match_unknown(void **state)
{
	struct cmd_match m;

	assert_int_equal(cmd_match(T(state), V, "xyz", &m), CMD_MATCH_UNKNOWN);
	assert_int_equal(m.err_word, 0);
	assert_string_equal(m.msg, "% Unknown command at 'xyz'");
	assert_null(m.def);
	assert_int_equal(cmd_match(T(state), V, "show xyz", &m),
	    CMD_MATCH_UNKNOWN);
	assert_int_equal(m.err_word, 1);
	assert_string_equal(m.msg, "% Unknown command at 'xyz'");
	assert_int_equal(cmd_match(T(state), V, "show fib json extra", &m),
	    CMD_MATCH_UNKNOWN);
	assert_int_equal(m.err_word, 3);
	assert_string_equal(m.msg, "% Unknown command at 'extra'");
	/* Options keep their order. */
	assert_int_equal(cmd_match(T(state), V, "show peers json detail", &m),
	    CMD_MATCH_UNKNOWN);
	assert_int_equal(m.err_word, 3);
	assert_int_equal(cmd_match(T(state), V, "show peers xyz", &m),
	    CMD_MATCH_UNKNOWN);
	assert_int_equal(m.err_word, 2);
	assert_int_equal(cmd_match(T(state), V, "debug peer peer", &m),
	    CMD_MATCH_UNKNOWN);
	assert_int_equal(m.err_word, 2);
	assert_int_equal(cmd_match(T(state), V, "debug bgp", &m),
	    CMD_MATCH_UNKNOWN);
	assert_string_equal(m.msg, "% Unknown command at 'bgp'");
	/* No mode: nothing at all. */
	assert_int_equal(cmd_match(T(state), 0, "show fib", &m),
	    CMD_MATCH_UNKNOWN);
	assert_int_equal(m.err_word, 0);
}

static void
test_match_incomplete(void **state)
{
	struct cmd_match m;

	assert_int_equal(cmd_match(T(state), V, "show", &m),
	    CMD_MATCH_INCOMPLETE);
	assert_string_equal(m.msg, "% Incomplete command");
	assert_int_equal(m.err_word, -1);
	assert_null(m.def);
	assert_int_equal(cmd_match(T(state), V, "debug", &m),
	    CMD_MATCH_INCOMPLETE);
	assert_int_equal(cmd_match(T(state), V, "no debug", &m),
	    CMD_MATCH_INCOMPLETE);
	assert_int_equal(cmd_match(T(state), V, "clear peer", &m),
	    CMD_MATCH_INCOMPLETE);
	assert_int_equal(cmd_match(T(state), R, "timers keepalive 5", &m),
	    CMD_MATCH_INCOMPLETE);
	assert_int_equal(cmd_match(T(state), R, "timers keepalive 5 hold", &m),
	    CMD_MATCH_INCOMPLETE);
	assert_int_equal(cmd_match(T(state), R, "neighbor 10.0.0.1 port", &m),
	    CMD_MATCH_INCOMPLETE);
	assert_int_equal(cmd_match(T(state), R, "description", &m),
	    CMD_MATCH_INCOMPLETE);
}

static void
test_match_bad_value(void **state)
{
	struct cmd_match m;

	assert_int_equal(cmd_match(T(state), R, "router-id 300.1.1.1", &m),
	    CMD_MATCH_BAD_VALUE);
	assert_int_equal(m.err_word, 1);
	assert_string_equal(m.msg,
	    "% Invalid value at '300.1.1.1': expected A.B.C.D");
	assert_null(m.def);
	assert_int_equal(cmd_match(T(state), R, "router-id 1.2.3", &m),
	    CMD_MATCH_BAD_VALUE);
	assert_int_equal(cmd_match(T(state), R, "router-id ::1", &m),
	    CMD_MATCH_BAD_VALUE);
	assert_int_equal(cmd_match(T(state), R, "router-id 1.2.3.4", &m),
	    CMD_MATCH_OK);
	assert_string_equal(cmd_arg(&m.args, "A.B.C.D"), "1.2.3.4");

	assert_int_equal(cmd_match(T(state), R, "update-source 10.0.0.1", &m),
	    CMD_MATCH_BAD_VALUE);
	assert_string_equal(m.msg,
	    "% Invalid value at '10.0.0.1': expected X:X::X:X");
	assert_int_equal(cmd_match(T(state), R, "update-source fe80::zz", &m),
	    CMD_MATCH_BAD_VALUE);
	assert_int_equal(cmd_match(T(state), R, "update-source fe80::1", &m),
	    CMD_MATCH_OK);

	assert_int_equal(cmd_match(T(state), R, "neighbor 10.0.0.256", &m),
	    CMD_MATCH_BAD_VALUE);
	assert_string_equal(m.msg,
	    "% Invalid value at '10.0.0.256': expected ADDRESS");
	/* The only candidate: bad whatever its shape. */
	assert_int_equal(cmd_match(T(state), R, "neighbor foo", &m),
	    CMD_MATCH_BAD_VALUE);
	assert_int_equal(cmd_match(T(state), R, "timers keepalive abc", &m),
	    CMD_MATCH_BAD_VALUE);
	assert_string_equal(m.msg, "% Invalid value at 'abc': expected SECONDS");
	assert_int_equal(m.err_word, 2);

	/* Next to keywords, only a word shaped like the variable is bad. */
	assert_int_equal(cmd_match(T(state), V, "show peers 300.1.1.1", &m),
	    CMD_MATCH_BAD_VALUE);
	assert_string_equal(m.msg,
	    "% Invalid value at '300.1.1.1': expected PEER");
	assert_int_equal(m.err_word, 2);
	assert_int_equal(cmd_match(T(state), V, "show peers xyz", &m),
	    CMD_MATCH_UNKNOWN);
	assert_int_equal(cmd_match(T(state), V, "clear peer 1.2.3.4.5", &m),
	    CMD_MATCH_BAD_VALUE);
	assert_int_equal(cmd_match(T(state), V, "clear peer all", &m),
	    CMD_MATCH_UNKNOWN);

	/* Prefixes: length checked, host bits left to the handler. */
	assert_int_equal(cmd_match(T(state), R, "network 10.0.0.0/33", &m),
	    CMD_MATCH_BAD_VALUE);
	assert_string_equal(m.msg,
	    "% Invalid value at '10.0.0.0/33': expected PREFIX");
	assert_int_equal(cmd_match(T(state), R, "network 10.0.0.0", &m),
	    CMD_MATCH_BAD_VALUE);
	assert_int_equal(cmd_match(T(state), R, "network 10.0.0.0/", &m),
	    CMD_MATCH_BAD_VALUE);
	assert_int_equal(cmd_match(T(state), R, "network 10.0.0.0/8/8", &m),
	    CMD_MATCH_BAD_VALUE);
	assert_int_equal(cmd_match(T(state), R, "network 2001:db8::/129", &m),
	    CMD_MATCH_BAD_VALUE);
	assert_int_equal(cmd_match(T(state), R, "network 10.0.0.1/8", &m),
	    CMD_MATCH_OK);
	assert_string_equal(cmd_arg(&m.args, "PREFIX"), "10.0.0.1/8");
	assert_int_equal(cmd_match(T(state), R, "network 2001:db8::/128", &m),
	    CMD_MATCH_OK);
	assert_int_equal(cmd_match(T(state), R, "network 0.0.0.0/0", &m),
	    CMD_MATCH_OK);
	assert_int_equal(cmd_match(T(state), R, "aggregate 2001:db8::/32", &m),
	    CMD_MATCH_BAD_VALUE);
	assert_string_equal(m.msg,
	    "% Invalid value at '2001:db8::/32': expected A.B.C.D/M");
	assert_int_equal(cmd_match(T(state), R, "aggregate6 10.0.0.0/8", &m),
	    CMD_MATCH_BAD_VALUE);
	assert_int_equal(cmd_match(T(state), R, "aggregate6 2001:db8::/32", &m),
	    CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[26]);
	assert_int_equal(cmd_match(T(state), V, "show routes 10.0.0.0/99", &m),
	    CMD_MATCH_BAD_VALUE);
	assert_string_equal(m.msg,
	    "% Invalid value at '10.0.0.0/99': expected ROUTE");
}

static void
test_match_range(void **state)
{
	static const char *bad[] = { "0", "65536", "-1", "99999999999999999999",
		"1.5", "0x10", "+5", NULL };
	struct cmd_match m;
	char line[128];
	int i;

	assert_int_equal(cmd_match(T(state), R, "neighbor 10.0.0.1 port 179", &m),
	    CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[20]);
	assert_int_equal(m.args.n, 4);
	assert_string_equal(cmd_arg(&m.args, "(1-65535)"), "179");
	assert_string_equal(cmd_arg(&m.args, "port"), "port");
	assert_int_equal(cmd_match(T(state), R, "nei 10.0.0.1 p 1", &m),
	    CMD_MATCH_OK);
	assert_string_equal(cmd_arg(&m.args, "(1-65535)"), "1");
	assert_int_equal(cmd_match(T(state), R, "neighbor ::1 port 65535", &m),
	    CMD_MATCH_OK);
	assert_string_equal(cmd_arg(&m.args, "ADDRESS"), "::1");
	assert_int_equal(cmd_match(T(state), R, "neighbor ::1 port 065535", &m),
	    CMD_MATCH_OK);
	for (i = 0; bad[i] != NULL; i++) {
		snprintf(line, sizeof(line), "neighbor 10.0.0.1 port %s", bad[i]);
		assert_int_equal(cmd_match(T(state), R, line, &m),
		    CMD_MATCH_BAD_VALUE);
		assert_int_equal(m.err_word, 3);
	}
	assert_int_equal(cmd_match(T(state), R, "neighbor 10.0.0.1 port 70000",
	    &m), CMD_MATCH_BAD_VALUE);
	assert_string_equal(m.msg,
	    "% Invalid value at '70000': expected (1-65535)");
}

static void
test_match_optional(void **state)
{
	struct cmd_match m;

	assert_int_equal(cmd_match(T(state), R, "neighbor 10.0.0.1", &m),
	    CMD_MATCH_OK);
	assert_int_equal(m.args.n, 2);
	assert_string_equal(m.args.name[0], "neighbor");
	assert_string_equal(m.args.name[1], "ADDRESS");
	assert_string_equal(m.args.value[1], "10.0.0.1");
	assert_null(cmd_arg(&m.args, "port"));
	assert_null(cmd_arg(&m.args, "(1-65535)"));

	assert_int_equal(cmd_match(T(state), V, "show peers 10.0.0.1 detail json",
	    &m), CMD_MATCH_OK);
	assert_int_equal(m.args.n, 5);
	assert_string_equal(m.args.name[2], "PEER");
	assert_string_equal(m.args.value[2], "10.0.0.1");
	assert_string_equal(m.args.name[3], "detail");
	assert_string_equal(m.args.name[4], "json");
	assert_int_equal(cmd_match(T(state), V, "show peers json", &m),
	    CMD_MATCH_OK);
	assert_int_equal(m.args.n, 3);
	assert_ptr_equal(m.def, &defs[0]);
	assert_int_equal(cmd_match(T(state), V, "show peers", &m), CMD_MATCH_OK);
	assert_int_equal(m.args.n, 2);
	assert_int_equal(cmd_match(T(state), V, "show routes 10.0.0.0/8 json",
	    &m), CMD_MATCH_OK);
	assert_string_equal(cmd_arg(&m.args, "ROUTE"), "10.0.0.0/8");
}

static void
test_match_modes(void **state)
{
	struct cmd_match m;

	assert_int_equal(cmd_match(T(state), V, "router hgw", &m),
	    CMD_MATCH_UNKNOWN);
	assert_int_equal(m.err_word, 0);
	assert_int_equal(cmd_match(T(state), C, "router hgw", &m), CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[12]);
	/* There "router" abbreviates router-id, which wants an address. */
	assert_int_equal(cmd_match(T(state), R, "router hgw", &m),
	    CMD_MATCH_BAD_VALUE);
	assert_int_equal(m.err_word, 1);
	assert_string_equal(m.msg, "% Invalid value at 'hgw': expected A.B.C.D");
	assert_int_equal(cmd_match(T(state), C, "rou hgw", &m), CMD_MATCH_OK);
	assert_int_equal(cmd_match(T(state), R, "rou 1.1.1.1", &m), CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[24]);
	assert_int_equal(cmd_match(T(state), C | R, "rou", &m),
	    CMD_MATCH_AMBIGUOUS);
	assert_string_equal(m.msg, "% Ambiguous command at 'rou': router, router-id");

	assert_int_equal(cmd_match(T(state), V, "exit", &m), CMD_MATCH_UNKNOWN);
	assert_int_equal(cmd_match(T(state), C, "exit", &m), CMD_MATCH_OK);
	assert_int_equal(cmd_match(T(state), R, "ex", &m), CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[17]);
	assert_int_equal(cmd_match(T(state), C, "show running-config", &m),
	    CMD_MATCH_OK);
	assert_int_equal(cmd_match(T(state), C, "show fib", &m),
	    CMD_MATCH_UNKNOWN);
	assert_int_equal(m.err_word, 1);
	assert_int_equal(cmd_match(T(state), R, "no network 10.0.0.0/8", &m),
	    CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[19]);
	assert_int_equal(cmd_match(T(state), V, "no network 10.0.0.0/8", &m),
	    CMD_MATCH_UNKNOWN);
	assert_int_equal(m.err_word, 1);
	assert_int_equal(cmd_match(T(state), V, "no debug rib", &m),
	    CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[9]);
}

static void
test_match_args(void **state)
{
	struct cmd_match m;

	assert_int_equal(cmd_match(T(state), R,
	    "ti k 0.5 h 3", &m), CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[21]);
	assert_int_equal(m.args.n, 5);
	assert_string_equal(m.args.name[0], "timers");
	assert_string_equal(m.args.value[0], "timers");
	assert_string_equal(m.args.name[1], "keepalive");
	assert_string_equal(m.args.value[1], "keepalive");
	assert_string_equal(m.args.name[2], "SECONDS");
	assert_string_equal(m.args.value[2], "0.5");
	assert_string_equal(m.args.name[3], "hold");
	assert_string_equal(m.args.name[4], "SECONDS");
	assert_string_equal(m.args.value[4], "3");
	/* By name: the first of two. */
	assert_string_equal(cmd_arg(&m.args, "SECONDS"), "0.5");
	assert_string_equal(cmd_arg(&m.args, "hold"), "hold");
	assert_null(cmd_arg(&m.args, "ADDRESS"));
	assert_null(cmd_arg(&m.args, "h"));
	/* Values point into the match's own storage. */
	assert_true(m.args.value[2] >= m.words_buf &&
	    m.args.value[2] < m.words_buf + sizeof(m.words_buf));

	assert_int_equal(cmd_match(T(state), R, "timers keepalive 10 hold 30.0",
	    &m), CMD_MATCH_OK);
	assert_int_equal(cmd_match(T(state), R, "timers keepalive 0.25 hold 3",
	    &m), CMD_MATCH_BAD_VALUE);
	assert_int_equal(m.err_word, 2);
	assert_int_equal(cmd_match(T(state), R, "timers keepalive .5 hold 3",
	    &m), CMD_MATCH_BAD_VALUE);
	assert_int_equal(cmd_match(T(state), R, "timers keepalive 5. hold 3",
	    &m), CMD_MATCH_BAD_VALUE);
	assert_int_equal(cmd_match(T(state), R, "timers keepalive a.5 hold 3",
	    &m), CMD_MATCH_BAD_VALUE);
	assert_int_equal(cmd_match(T(state), R, "timers keepalive 1.2.3 hold 3",
	    &m), CMD_MATCH_BAD_VALUE);
	assert_int_equal(cmd_match(T(state), R, "timers keepalive 5 hold -3",
	    &m), CMD_MATCH_BAD_VALUE);
	assert_int_equal(m.err_word, 4);

	assert_int_equal(cmd_match(T(state), V, "debug k", &m), CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[8]);
	assert_int_equal(m.args.n, 2);
	assert_string_equal(m.args.name[1], "kernel");
	assert_string_equal(cmd_arg(&m.args, "kernel"), "kernel");
	assert_null(cmd_arg(&m.args, "peer"));
}

static void
test_match_line(void **state)
{
	struct cmd_match m;
	char line[CMD_MAX_LINE];
	int i;

	assert_int_equal(cmd_match(T(state), R,
	    "description  uplink to\tthe   core ", &m), CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[23]);
	assert_int_equal(m.args.n, 2);
	assert_string_equal(m.args.name[1], "LINE");
	assert_string_equal(cmd_arg(&m.args, "LINE"), "uplink to the core");
	assert_int_equal(cmd_match(T(state), R, "desc x", &m), CMD_MATCH_OK);
	assert_string_equal(cmd_arg(&m.args, "LINE"), "x");
	/* Keywords in the rest of the line are just text. */
	assert_int_equal(cmd_match(T(state), R, "description show fib", &m),
	    CMD_MATCH_OK);
	assert_string_equal(cmd_arg(&m.args, "LINE"), "show fib");

	/* 32 words are allowed, 33 are not. */
	strcpy(line, "description");
	for (i = 1; i < CMD_MAX_WORDS; i++)
		strcat(line, " w");
	assert_int_equal(cmd_match(T(state), R, line, &m), CMD_MATCH_OK);
	assert_int_equal(strlen(cmd_arg(&m.args, "LINE")), 2 * 31 - 1);
	strcat(line, " w");
	assert_int_equal(cmd_match(T(state), R, line, &m), CMD_MATCH_UNKNOWN);
	assert_string_equal(m.msg, "% Too many words");
	assert_int_equal(m.err_word, -1);
	assert_null(m.def);
}

static void
test_match_empty_and_limits(void **state)
{
	struct cmd_match m;
	char line[CMD_MAX_LINE + 10];

	assert_int_equal(cmd_match(T(state), V, "", &m), CMD_MATCH_EMPTY);
	assert_int_equal(m.err_word, -1);
	assert_null(m.def);
	assert_int_equal(cmd_match(T(state), V, " \t ", &m), CMD_MATCH_EMPTY);
	assert_int_equal(cmd_match(T(state), V, "! show fib", &m),
	    CMD_MATCH_EMPTY);
	assert_int_equal(cmd_match(T(state), V, "#", &m), CMD_MATCH_EMPTY);
	assert_int_equal(cmd_match(T(state), R, "  #xyz foo", &m),
	    CMD_MATCH_EMPTY);
	assert_int_equal(cmd_match(T(state), V, NULL, &m), CMD_MATCH_EMPTY);

	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	assert_int_equal(cmd_match(T(state), V, line, &m), CMD_MATCH_UNKNOWN);
	assert_string_equal(m.msg, "% Line too long");
	/* An over-long word is cut in the message. */
	line[CMD_MAX_LINE - 1] = '\0';
	assert_int_equal(cmd_match(T(state), V, line, &m), CMD_MATCH_UNKNOWN);
	assert_int_equal(m.err_word, 0);
	assert_true(strlen(m.msg) < sizeof(m.msg));
	assert_memory_equal(m.msg, "% Unknown command at 'aaaa", 26);
	assert_int_equal(cmd_match(T(state), V, "show a b c d e f g h i j k l m n "
	    "o p q r s t u v w x y z 1 2 3 4 5 6 7 8", &m), CMD_MATCH_UNKNOWN);
	assert_string_equal(m.msg, "% Too many words");
}

/* ---- cmd_complete ---- */

static void
test_complete_keywords(void **state)
{
	assert_string_equal(complete(state, V, ""),
	    "clear configure debug no show");
	assert_string_equal(complete(state, V, "   "),
	    "clear configure debug no show");
	assert_string_equal(complete(state, V, "sh"), "show");
	assert_string_equal(complete(state, V, "c"), "clear configure");
	assert_string_equal(complete(state, V, "show "),
	    "fib fib-stats peers routes running-config summary");
	assert_string_equal(complete(state, V, "show r"),
	    "routes running-config");
	assert_string_equal(complete(state, V, "sh\tr"),
	    "routes running-config");
	assert_string_equal(complete(state, V, "show fib"), "fib fib-stats");
	assert_string_equal(complete(state, V, "show fib "), "json");
	assert_string_equal(complete(state, V, "show fib j"), "json");
	assert_string_equal(complete(state, V, "show fib json"), "json");
	assert_string_equal(complete(state, V, "show fib json "), "");
	assert_string_equal(complete(state, V, "show fib x"), "");
	assert_string_equal(complete(state, V, "debug "), "kernel peer rib");
	assert_string_equal(complete(state, V, "no d"), "debug");
	assert_string_equal(complete(state, V, "no debug r"), "rib");
	assert_string_equal(complete(state, V, "s p d"), "debug detail");
	assert_string_equal(complete(state, V, "show peers 10.0.0.1 "),
	    "detail json");
	assert_string_equal(complete(state, V, "show peers detail "), "json");
	assert_string_equal(complete(state, R, "neighbor 10.0.0.1 "), "port");
	assert_string_equal(complete(state, R, "neighbor 10.0.0.1 port "), "");
	assert_string_equal(complete(state, R, "description x "), "");
	assert_string_equal(complete(state, R, "ti k 1 "), "hold");
	assert_string_equal(complete(state, C, "log file "), "stderr");
	/* Comments complete to nothing. */
	assert_string_equal(complete(state, V, "# sh"), "");
	assert_string_equal(complete(state, V, "!"), "");
}

static void
test_complete_modes(void **state)
{
	assert_string_equal(complete(state, C, ""),
	    "bind exit log router show");
	assert_string_equal(complete(state, C, "show "), "running-config");
	assert_string_equal(complete(state, R, ""),
	    "aggregate aggregate6 description exit neighbor network no "
	    "router-id show shutdown timers update-source");
	assert_string_equal(complete(state, R, "sh"), "show shutdown");
	assert_string_equal(complete(state, R, "no "), "network");
	assert_string_equal(complete(state, V, "no "), "debug");
	assert_string_equal(complete(state, C | R, "rou"), "router router-id");
	assert_string_equal(complete(state, 0, ""), "");
}

static void
test_complete_dynamic(void **state)
{
	struct dyn *d = &((struct fix *)*state)->dyn;

	assert_string_equal(complete(state, V, "show peers "),
	    "10.0.0.1 10.0.0.2 2001:db8::1 debug detail json");
	assert_int_equal(d->calls, 1);
	assert_string_equal(d->vartype, "PEER");
	assert_string_equal(d->partial, "");
	assert_string_equal(complete(state, V, "show peers 10"),
	    "10.0.0.1 10.0.0.2");
	assert_int_equal(d->calls, 2);
	assert_string_equal(d->partial, "10");
	assert_string_equal(complete(state, V, "show peers 2"), "2001:db8::1");
	assert_string_equal(complete(state, V, "show peers 3"), "");
	assert_string_equal(complete(state, V, "clear peer "),
	    "* 10.0.0.1 10.0.0.2 2001:db8::1");
	assert_string_equal(complete(state, V, "clear peer *"), "*");
	assert_string_equal(complete(state, V, "show routes "),
	    "10.0.0.0/8 10.1.0.0/16 2001:db8::/32 json");
	assert_string_equal(d->vartype, "ROUTE");
	assert_string_equal(complete(state, V, "show routes 10.1"),
	    "10.1.0.0/16");
	/* Not for other variables. */
	d->calls = 0;
	assert_string_equal(complete(state, R, "neighbor "), "");
	assert_string_equal(complete(state, R, "network "), "");
	assert_int_equal(d->calls, 0);
	/* Without a callback, keywords only. */
	cmd_tree_set_dynamic(T(state), NULL, NULL);
	assert_string_equal(complete(state, V, "show peers "),
	    "debug detail json");
}

static void
test_complete_hidden(void **state)
{
	struct cmd_cand c[8];
	struct cmd_match m;

	assert_string_equal(complete(state, V, "show i"), "");
	assert_string_equal(complete(state, V, "show internals "), "");
	assert_int_equal(cmd_help(T(state), V, "show i", c, 8, NULL), 0);
	assert_int_equal(cmd_help(T(state), V, "show internals ", c, 8, &m), 0);
	assert_int_equal(cmd_match(T(state), V, "show in", &m), CMD_MATCH_OK);
	assert_ptr_equal(m.def, &defs[7]);
}

static void
test_complete_max_and_errors(void **state)
{
	struct cmd_cand c[8];
	char line[CMD_MAX_LINE + 10];

	memset(c, 0x55, sizeof(c));
	assert_int_equal(cmd_complete(T(state), V, "show ", c, 2), 2);
	assert_string_equal(c[0].word, "fib");
	assert_string_equal(c[1].word, "fib-stats");
	assert_int_equal((unsigned char)c[2].word[0], 0x55);
	assert_int_equal(cmd_complete(T(state), V, "show ", c, 0), 0);
	assert_int_equal(cmd_complete(T(state), V, "show ", NULL, 0), 0);
	assert_int_equal(cmd_complete(T(state), V, "show ", c, 8), 6);
	assert_string_equal(c[5].word, "summary");
	assert_string_equal(c[5].help, "Summary");

	assert_int_equal(cmd_complete(T(state), V, "xyz ", c, 8), -1);
	assert_int_equal(cmd_complete(T(state), V, "xyz a", c, 8), -1);
	assert_int_equal(cmd_complete(T(state), V, "show xyz ", c, 8), -1);
	assert_int_equal(cmd_complete(T(state), V, "show fib json x ", c, 8), -1);
	assert_int_equal(cmd_complete(T(state), V, "s r ", c, 8), -1);
	assert_int_equal(cmd_complete(T(state), V, "show peers 300.1.1.1 ", c, 8),
	    -1);
	assert_int_equal(cmd_complete(T(state), V, "router ", c, 8), -1);
	/* Only the words before the last must match. */
	assert_int_equal(cmd_complete(T(state), V, "xyz", c, 8), 0);
	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	assert_int_equal(cmd_complete(T(state), V, line, c, 8), -1);
}

/* ---- cmd_help ---- */

static void
test_help_lists(void **state)
{
	struct cmd_cand c[32];
	struct cmd_match m;
	int n;

	cmd_tree_set_dynamic(T(state), NULL, NULL);
	n = cmd_help(T(state), V, "show ", c, 32, &m);
	assert_int_equal(n, 6);
	assert_string_equal(words_of(c, n),
	    "fib fib-stats peers routes running-config summary");
	assert_string_equal(help_line(c, n, "fib"), "Forwarding table");
	assert_string_equal(help_line(c, n, "running-config"),
	    "The running configuration");
	assert_null(help_line(c, n, "<cr>"));
	assert_int_equal(m.status, CMD_MATCH_OK);

	n = cmd_help(T(state), V, "show peers ", c, 32, &m);
	assert_string_equal(words_of(c, n), "PEER debug detail json <cr>");
	assert_string_equal(help_line(c, n, "PEER"), "A peer's address");
	assert_string_equal(help_line(c, n, "debug"), "Session debug counters");
	assert_string_equal(help_line(c, n, "json"), "JSON output");
	assert_string_equal(help_line(c, n, "<cr>"), "Run the command");

	n = cmd_help(T(state), V, "show fib ", c, 32, NULL);
	assert_string_equal(words_of(c, n), "json <cr>");
	n = cmd_help(T(state), V, "show fib json ", c, 32, NULL);
	assert_string_equal(words_of(c, n), "<cr>");
	n = cmd_help(T(state), V, "", c, 32, NULL);
	assert_string_equal(words_of(c, n), "clear configure debug no show");
	assert_string_equal(help_line(c, n, "debug"), "Debugging");
	n = cmd_help(T(state), V, "debug ", c, 32, NULL);
	assert_string_equal(words_of(c, n), "kernel peer rib");
	assert_string_equal(help_line(c, n, "rib"), "Route selection");
	n = cmd_help(T(state), V, "clear peer ", c, 32, NULL);
	assert_string_equal(words_of(c, n), "* PEER");
	assert_string_equal(help_line(c, n, "*"), "All peers");
}

static void
test_help_variables(void **state)
{
	struct cmd_cand c[32];
	int n;

	n = cmd_help(T(state), R, "neighbor ", c, 32, NULL);
	assert_string_equal(words_of(c, n), "ADDRESS");
	assert_string_equal(c[0].help, "Its address");
	n = cmd_help(T(state), R, "neighbor 10.0.0.1 ", c, 32, NULL);
	assert_string_equal(words_of(c, n), "port <cr>");
	assert_string_equal(c[0].help, "TCP port");
	n = cmd_help(T(state), R, "neighbor 10.0.0.1 port ", c, 32, NULL);
	assert_string_equal(words_of(c, n), "(1-65535)");
	assert_string_equal(c[0].help, "Port number");
	n = cmd_help(T(state), R, "neighbor 10.0.0.1 port 1", c, 32, NULL);
	assert_string_equal(words_of(c, n), "(1-65535)");
	n = cmd_help(T(state), R, "neighbor 10.0.0.1 port x", c, 32, NULL);
	assert_int_equal(n, 0);
	n = cmd_help(T(state), R, "timers keepalive ", c, 32, NULL);
	assert_string_equal(words_of(c, n), "SECONDS");
	assert_string_equal(c[0].help, "Seconds");
	n = cmd_help(T(state), R, "description ", c, 32, NULL);
	assert_string_equal(words_of(c, n), "LINE");
	n = cmd_help(T(state), R, "description some text ", c, 32, NULL);
	assert_string_equal(words_of(c, n), "LINE <cr>");
	n = cmd_help(T(state), C, "log file ", c, 32, NULL);
	assert_string_equal(words_of(c, n), "WORD stderr");
	assert_string_equal(help_line(c, n, "WORD"), "File name");
	/* A partial word: what it may become, no <cr>. */
	n = cmd_help(T(state), V, "show r", c, 32, NULL);
	assert_string_equal(words_of(c, n), "routes running-config");
	assert_string_equal(c[0].help, "Routes");
	n = cmd_help(T(state), R, "network 10.", c, 32, NULL);
	assert_string_equal(words_of(c, n), "PREFIX");
	n = cmd_help(T(state), R, "network x", c, 32, NULL);
	assert_int_equal(n, 0);
}

static void
test_help_dynamic(void **state)
{
	struct cmd_cand c[32];
	int n;

	n = cmd_help(T(state), V, "clear peer ", c, 32, NULL);
	assert_string_equal(words_of(c, n),
	    "* 10.0.0.1 10.0.0.2 2001:db8::1 PEER");
	assert_string_equal(help_line(c, n, "10.0.0.2"), "A peer's address");
}

static void
test_help_errors(void **state)
{
	struct cmd_cand c[8];
	struct cmd_match m;

	assert_int_equal(cmd_help(T(state), V, "shox ", c, 8, &m), -1);
	assert_int_equal(m.status, CMD_MATCH_UNKNOWN);
	assert_int_equal(m.err_word, 0);
	assert_string_equal(m.msg, "% Unknown command at 'shox'");
	assert_int_equal(cmd_help(T(state), V, "shox ", c, 8, NULL), -1);
	assert_int_equal(cmd_help(T(state), V, "show peers de ", c, 8, &m), -1);
	assert_int_equal(m.status, CMD_MATCH_AMBIGUOUS);
	assert_string_equal(m.msg, "% Ambiguous command at 'de': debug, detail");
	assert_int_equal(cmd_help(T(state), R, "neighbor 1.2.3.999 ", c, 8, &m),
	    -1);
	assert_int_equal(m.status, CMD_MATCH_BAD_VALUE);
	assert_int_equal(m.err_word, 1);
	assert_string_equal(m.msg,
	    "% Invalid value at '1.2.3.999': expected ADDRESS");
	assert_int_equal(cmd_help(T(state), V, "show fib json extra ", c, 8, &m),
	    -1);
	assert_int_equal(m.err_word, 3);
	assert_int_equal(cmd_help(T(state), V, "# comment", c, 8, &m), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_good),
		cmocka_unit_test(test_add_bad_syntax),
		cmocka_unit_test(test_add_bad_help),
		cmocka_unit_test(test_split),
		cmocka_unit_test_setup_teardown(test_match_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_abbrev, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_priority, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_match_ambiguous, setup,
		    teardown),
		cmocka_unit_test(test_match_ambiguous_defs),
		cmocka_unit_test_setup_teardown(test_match_unknown, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_match_incomplete, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_match_bad_value, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_match_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_optional, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_match_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_empty_and_limits, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_complete_keywords, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_complete_modes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_complete_dynamic, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_complete_hidden, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_complete_max_and_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_help_lists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_help_variables, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_help_dynamic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_help_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
