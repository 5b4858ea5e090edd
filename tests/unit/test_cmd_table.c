/* test_cmd_table.c: the daemon's own command table (daemon/cmd_table.c, built
 * with -DHGW_CMD_TABLE_NO_HANDLERS) in the real parser (cmdtree.c): every
 * definition loads, every form of every command reaches that command and no
 * other, the show commands take json, completion and help of a few prefixes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_table.h"
#include "cmdtree.h"

#define V	CMD_MODE_VIEW
#define C	CMD_MODE_CONFIG
#define R	CMD_MODE_ROUTER

#define MAX_FORMS	64	/* concrete lines of one syntax */

/* Every show command the daemon answers, each in text and JSON. */
static const char *const show_cmds[] = {
	"debugging", "fib", "leases", "logging", "members", "peers", "routes", "running-config",
	"summary", "version",
};
#define NSHOW	(sizeof(show_cmds) / sizeof(show_cmds[0]))

static struct cmd_tree *
load(const struct cmd_def *more, size_t nmore)
{
	struct cmd_tree *t = cmd_tree_new();
	size_t i;

	assert_non_null(t);
	for (i = 0; i < cmd_table_len; i++)
		if (cmd_tree_add(t, &cmd_table[i]) != 0)
			fail_msg("cmd_table.c: '%s' does not load", cmd_table[i].syntax);
	for (i = 0; i < nmore; i++)
		assert_int_equal(cmd_tree_add(t, &more[i]), 0);
	return t;
}

static int
setup(void **state)
{
	*state = load(NULL, 0);
	return 0;
}

static int
teardown(void **state)
{
	cmd_tree_free(*state);
	return 0;
}

/* A value that a variable or range token accepts; keywords stand for
 * themselves. */
static void
sample(const char *tok, size_t len, char *out, size_t outlen)
{
	static const struct {
		const char *var, *value;
	} vals[] = {
		{ "A.B.C.D", "10.0.0.1" }, { "X:X::X:X", "fd00::1" },
		{ "ADDRESS", "10.0.0.1" }, { "PEER", "10.0.0.2" },
		{ "A.B.C.D/M", "10.0.0.0/24" }, { "X:X::X:X/M", "fd00::/64" },
		{ "PREFIX", "fd00:1::/64" }, { "ROUTE", "10.1.0.0/24" },
		{ "SECONDS", "1.5" }, { "WORD", "word" }, { "LINE", "show version" },
	};
	const char *dash;
	size_t i;

	if (tok[0] == '(' && (dash = memchr(tok, '-', len)) != NULL) {
		/* (lo-hi): its upper bound */
		assert_true(snprintf(out, outlen, "%.*s",
		    (int)(len - (size_t)(dash + 1 - tok) - 1), dash + 1) < (int)outlen);
		return;
	}
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		if (strlen(vals[i].var) == len && memcmp(vals[i].var, tok, len) == 0) {
			snprintf(out, outlen, "%s", vals[i].value);
			return;
		}
	assert_true(len < outlen);
	memcpy(out, tok, len);
	out[len] = '\0';
}

/* Appends the tokens of s (a sequence, blank-separated), each as its sample. */
static void
append_seq(char *line, size_t len, const char *s, size_t slen)
{
	const char *end = s + slen, *p = s;
	char word[64];

	while (p < end) {
		const char *q = p;

		if (*q == '(')
			q = strchr(q, ')') + 1;
		else
			while (q < end && *q != ' ')
				q++;
		sample(p, (size_t)(q - p), word, sizeof(word));
		assert_true(strlen(line) + 1 + strlen(word) < len);
		if (line[0] != '\0')
			strcat(line, " ");
		strcat(line, word);
		p = q;
		while (p < end && *p == ' ')
			p++;
	}
}

/* The alternatives of one element at *p (a word, a range, "(a|b)", "[a|b]",
 * "[a B]"): start and length of each, "" first when it is optional. Moves *p
 * past the element. */
static int
element(const char **p, const char **alt, size_t *altlen, int max)
{
	const char *s = *p, *end, *a;
	int n = 0, choice;

	if (*s == '[' || (*s == '(' && memchr(s, '|', (size_t)(strchr(s, ')') - s)))) {
		end = strchr(s, *s == '[' ? ']' : ')');
		assert_non_null(end);
		choice = memchr(s, '|', (size_t)(end - s)) != NULL;
		if (*s == '[') {
			alt[n] = s;
			altlen[n++] = 0;
		}
		for (a = s + 1; a < end; ) {
			const char *b = choice ? a : end;

			while (choice && b < end && *b != '|')
				b++;
			assert_true(n < max);
			alt[n] = a;
			altlen[n++] = (size_t)(b - a);
			a = b + 1;
		}
		end++;
	} else {
		end = *s == '(' ? strchr(s, ')') + 1 : s + strcspn(s, " ");
		alt[n] = s;
		altlen[n++] = (size_t)(end - s);
	}
	while (*end == ' ')
		end++;
	*p = end;
	return n;
}

/* Every concrete line of a syntax, variables replaced by sample values; the
 * first is the shortest (optional parts left out). Returns the count. */
static int
forms(const char *syntax, char out[][CMD_MAX_LINE], int max)
{
	const char *alt[CMD_MAX_WORDS][16];
	size_t altlen[CMD_MAX_WORDS][16];
	int nalt[CMD_MAX_WORDS], ne = 0, count = 1, c, i;
	const char *p = syntax;

	while (*p != '\0') {
		assert_true(ne < CMD_MAX_WORDS);
		nalt[ne] = element(&p, alt[ne], altlen[ne], 16);
		count *= nalt[ne++];
		assert_true(count <= max);
	}
	for (c = 0; c < count; c++) {
		int rest = c;

		out[c][0] = '\0';
		for (i = 0; i < ne; i++) {
			int a = rest % nalt[i];

			rest /= nalt[i];
			append_seq(out[c], CMD_MAX_LINE, alt[i][a], altlen[i][a]);
		}
	}
	return count;
}

/* Every form of every definition of defs, in each of its modes, must match
 * that definition and no other: a line that two definitions both take is
 * ambiguous or reaches the wrong one. Returns the number of failures. */
static int
collisions(const struct cmd_tree *t, const struct cmd_def *defs, size_t ndefs)
{
	static char lines[MAX_FORMS][CMD_MAX_LINE];
	struct cmd_match *m = malloc(sizeof(*m));
	int bad = 0, n, k;
	unsigned mode;
	size_t i;

	assert_non_null(m);
	for (i = 0; i < ndefs; i++) {
		n = forms(defs[i].syntax, lines, MAX_FORMS);
		assert_true(n >= 1);
		for (k = 0; k < n; k++)
			for (mode = V; mode <= R; mode <<= 1) {
				if (!(defs[i].modes & mode))
					continue;
				if (cmd_match(t, mode, lines[k], m) == CMD_MATCH_OK &&
				    m->def == &defs[i])
					continue;
				print_message("'%s' (mode %u, from '%s') gives %d %s%s\n",
				    lines[k], mode, defs[i].syntax, m->status, m->msg,
				    m->def ? m->def->syntax : "");
				bad++;
			}
	}
	free(m);
	return bad;
}

static void
test_every_definition_loads(void **state)
{
	struct cmd_tree *t;
	size_t i, j;

	(void)state;
	assert_true(cmd_table_len >= 50);
	for (i = 0; i < cmd_table_len; i++) {
		const struct cmd_def *d = &cmd_table[i];

		assert_non_null(d->syntax);
		assert_non_null(d->help);
		assert_true(d->modes != 0 && (d->modes & ~CMD_MODE_ALL) == 0);
		assert_true((d->flags & ~(CMD_F_PRIV | CMD_F_HIDDEN | CMD_F_FULL | CMD_F_ROOT)) == 0);
		/* root only implies privileged */
		assert_true(!(d->flags & CMD_F_ROOT) || (d->flags & CMD_F_PRIV));
		/* built without handlers: nothing of the daemon is linked */
		assert_null(d->fn);
		/* each alone, so that one bad entry names itself */
		assert_non_null(t = cmd_tree_new());
		if (cmd_tree_add(t, d) != 0)
			fail_msg("'%s': bad syntax or help", d->syntax);
		cmd_tree_free(t);
		for (j = 0; j < i; j++)
			if (strcmp(cmd_table[j].syntax, d->syntax) == 0 &&
			    (cmd_table[j].modes & d->modes))
				fail_msg("'%s' is defined twice", d->syntax);
	}
}

static void
test_no_collisions(void **state)
{
	assert_int_equal(collisions(*state, cmd_table, cmd_table_len), 0);
}

/* The check above must be able to fail: a copy of one command, or a command
 * that takes the same words as another, is found. */
static void
test_collision_is_found(void **state)
{
	static const struct cmd_def dup[] = {
		{ V, "show version [json]", "Show\nVersion again\nJSON", NULL, 0 },
	};
	static const struct cmd_def overlap[] = {
		{ R, "timers giveup WORD", "Timers\nGive up\nAnything", NULL, 0 },
	};
	static const struct cmd_def apart[] = {
		{ C, "show version [json]", "Show\nVersion\nJSON", NULL, 0 },
	};
	struct cmd_tree *t;

	(void)state;
	print_message("(the collisions printed next are expected)\n");
	t = load(dup, 1);
	assert_true(collisions(t, dup, 1) > 0);
	assert_true(collisions(t, cmd_table, cmd_table_len) > 0);
	cmd_tree_free(t);
	/* WORD takes "1.5" as well as SECONDS does: a variable of another
	 * kind is not a collision (the more specific wins)... */
	t = load(overlap, 1);
	assert_int_equal(collisions(t, overlap, 1), 0);
	assert_int_equal(collisions(t, cmd_table, cmd_table_len), 0);
	cmd_tree_free(t);
	/* ...but the same words in the same mode are: the daemon's show version
	 * is in every mode, so a second one in config mode clashes there. */
	t = load(apart, 1);
	assert_true(collisions(t, apart, 1) > 0);
	cmd_tree_free(t);
}

/* Matches line in mode; returns the definition's syntax, NULL when none. */
static const char *
match(const struct cmd_tree *t, unsigned mode, const char *line,
    struct cmd_match *m)
{
	if (cmd_match(t, mode, line, m) != CMD_MATCH_OK)
		return NULL;
	return m->def->syntax;
}

/* What fuzz_cmd.c's old copy of the table lacked. */
static void
test_commands_present(void **state)
{
	static const struct {
		unsigned mode;
		const char *line, *syntax;
	} want[] = {
		{ R, "timers giveup 30", "timers giveup SECONDS" },
		{ R, "timers giveup 0.5", "timers giveup SECONDS" },
		{ R, "timers keepalive 1 hold 3", "timers keepalive SECONDS hold SECONDS" },
		{ R, "timers startup 10", "timers startup SECONDS" },
		{ V, "show version", "show version [json]" },
		{ V, "show running-config json", "show running-config [json]" },
		{ V, "show leases", "show leases [json]" },
		{ V, "show members", "show members [json]" },
		{ C, "sh mem", "show members [json]" },
		{ R, "sh le j", "show leases [json]" },
		{ R, "cluster-network 10.244.0.0/16 subnet-length 24",
		    "cluster-network PREFIX subnet-length (1-128)" },
		{ V, "configure terminal", "configure terminal" },
		{ C, "router hgw", "router hgw" },
		{ R, "do show peers", "do LINE" },
		{ V, "shutdown", "shutdown" },
		{ V, "sh peers", "show peers [PEER] [detail] [json]" },
		{ R, "graceful-restart restart-time 3", "graceful-restart [restart-time (1-3600)]" },
		{ R, "no graceful-restart", "no graceful-restart" },
	};
	struct cmd_match *m = malloc(sizeof(*m));
	const char *got;
	size_t i;

	assert_non_null(m);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		got = match(*state, want[i].mode, want[i].line, m);
		if (got == NULL || strcmp(got, want[i].syntax) != 0)
			fail_msg("'%s' (mode %u): %s, not '%s'", want[i].line,
			    want[i].mode, got ? got : m->msg, want[i].syntax);
	}
	/* and not where they do not belong */
	assert_null(match(*state, V, "timers giveup 30", m));
	assert_int_equal(m->status, CMD_MATCH_UNKNOWN);
	assert_null(match(*state, V, "router hgw", m));
	assert_null(match(*state, V, "shut", m));	/* spelled out only */
	assert_null(match(*state, C, "shutdown", m));
	assert_null(match(*state, R, "timers giveup x", m));
	assert_int_equal(m->status, CMD_MATCH_BAD_VALUE);
	free(m);
}

/* Every show command takes a trailing json, in every mode, and the handler
 * sees it as the argument "json". */
static void
test_show_json(void **state)
{
	static char lines[MAX_FORMS][CMD_MAX_LINE];
	struct cmd_match *m = malloc(sizeof(*m));
	char line[CMD_MAX_LINE + 8];
	unsigned mode;
	size_t i;
	int nshow = 0;

	assert_non_null(m);
	for (i = 0; i < NSHOW; i++)
		for (mode = V; mode <= R; mode <<= 1) {
			snprintf(line, sizeof(line), "show %s json", show_cmds[i]);
			if (match(*state, mode, line, m) == NULL)
				fail_msg("'%s' (mode %u): %s", line, mode, m->msg);
			assert_non_null(cmd_arg(&m->args, "json"));
			snprintf(line, sizeof(line), "show %s", show_cmds[i]);
			assert_non_null(match(*state, mode, line, m));
			assert_null(cmd_arg(&m->args, "json"));
		}
	/* Any show command of the table, its shortest form plus json. */
	for (i = 0; i < cmd_table_len; i++) {
		if (strncmp(cmd_table[i].syntax, "show ", 5) != 0)
			continue;
		nshow++;
		forms(cmd_table[i].syntax, lines, MAX_FORMS);
		snprintf(line, sizeof(line), "%s json", lines[0]);
		if (match(*state, V, line, m) == NULL || m->def != &cmd_table[i] ||
		    cmd_arg(&m->args, "json") == NULL)
			fail_msg("'%s' takes no json: '%s' gives %s", cmd_table[i].syntax,
			    line, m->msg);
	}
	assert_int_equal(nshow, NSHOW);
	free(m);
}

/* The candidates' words, joined by single spaces. */
static const char *
words(const struct cmd_cand *c, int n)
{
	static char buf[2048];
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s",
		    i ? " " : "", c[i].word);
	return buf;
}

static void
test_complete(void **state)
{
	static const struct {
		unsigned mode;
		const char *line, *want;
	} cases[] = {
		{ V, "show ", "debugging fib leases logging members peers routes running-config summary version" },
		{ R, "show ", "debugging fib leases logging members peers routes running-config summary version" },
		{ V, "show r", "routes running-config" },
		{ V, "sh", "show" },
		{ V, "shutdown", "" },	/* spelled out, never TAB-completed */
		{ V, "con", "configure" },
		{ V, "configure ", "terminal" },
		{ C, "r", "router" },
		{ R, "timers ", "giveup keepalive startup" },
		{ R, "timers g", "giveup" },
		{ R, "no ", "address allow cluster-network discovery encap graceful-restart ip-forward "
		    "ip-masq limits max-prefixes mesh-network neighbor network node-id secret-file static-hosts "
		    "timers tls" },
		{ R, "limits ", "member-dials members output-budget sessions-per-source" },
		{ R, "no limits ", "member-dials members output-budget sessions-per-source" },
		{ R, "encap ", "none vxlan" },
		{ R, "encap vxlan ", "port vni" },
		{ R, "kernel ", "metric off on protocol table" },
		{ V, "show version ", "json" },
		{ V, "debug ", "all kernel peer rib" },
	};
	struct cmd_cand c[64];
	size_t i;
	int n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = cmd_complete(*state, cases[i].mode, cases[i].line, c, 64);
		assert_true(n >= 0);
		if (strcmp(words(c, n), cases[i].want) != 0)
			fail_msg("TAB on '%s' (mode %u): '%s', not '%s'", cases[i].line,
			    cases[i].mode, words(c, n), cases[i].want);
	}
	/* the words before the last do not match in this mode */
	assert_int_equal(cmd_complete(*state, V, "timers ", c, 64), -1);
	assert_int_equal(cmd_complete(*state, V, "bogus ", c, 64), -1);
}

static void
test_help(void **state)
{
	struct cmd_cand c[64];
	struct cmd_match m;
	int n;

	n = cmd_help(*state, V, "show version ", c, 64, &m);
	assert_string_equal(words(c, n), "json <cr>");
	assert_string_equal(c[0].help, "JSON output");
	n = cmd_help(*state, V, "show le", c, 64, &m);
	assert_string_equal(words(c, n), "leases");
	assert_string_equal(c[0].help, "Subnet leases of the cluster network");
	n = cmd_help(*state, V, "show mem", c, 64, &m);
	assert_string_equal(words(c, n), "members");
	assert_string_equal(c[0].help, "The nodes of the mesh this node knows");
	n = cmd_help(*state, R, "timers giveup ", c, 64, &m);
	assert_string_equal(words(c, n), "SECONDS");
	assert_string_equal(c[0].help, "Seconds");
	n = cmd_help(*state, R, "timers giveup 30 ", c, 64, &m);
	assert_string_equal(words(c, n), "<cr>");
	n = cmd_help(*state, V, "clear peer ", c, 64, &m);
	assert_string_equal(words(c, n), "* PEER");
	n = cmd_help(*state, C, "", c, 64, &m);
	assert_true(n > 0);
	assert_non_null(strstr(words(c, n), "router"));
	assert_null(strstr(words(c, n), "timers"));
	memset(&m, 0, sizeof(m));
	assert_int_equal(cmd_help(*state, V, "bogus ", c, 64, &m), -1);
	assert_int_equal(m.msg[0], '%');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_definition_loads),
		cmocka_unit_test_setup_teardown(test_no_collisions, setup, teardown),
		cmocka_unit_test(test_collision_is_found),
		cmocka_unit_test_setup_teardown(test_commands_present, setup, teardown),
		cmocka_unit_test_setup_teardown(test_show_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_complete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_help, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
