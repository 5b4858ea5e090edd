/* fuzz_cmd.c: libFuzzer target for the control-command parser (daemon/cmdtree.c).
 *
 * The tree holds the daemon's own command table (daemon/cmd_table.c, linked
 * with -DHGW_CMD_TABLE_NO_HANDLERS, so without handlers), plus a few
 * definitions of its own (extra[] below) for the variable kinds the daemon
 * does not use.
 *
 * Input: byte 0 chooses the mode and the operation, byte 1 a size, the rest
 * is the command line (up to a NUL):
 *   byte 0 bits 0-2  mode mask passed to the parser (0 .. CMD_MODE_ALL)
 *          bits 3-5  0 cmd_match, 1 cmd_complete, 2 cmd_help, 3 cmd_help
 *                    without a struct cmd_match, 4 cmd_split, 5 all of them,
 *                    6 a command definition of the input's own (below), 7 all
 *          bit 6     a dynamic PEER/ROUTE completer is installed
 *   byte 1           the candidate array's size for completion and help; for
 *                    cmd_split the word limit (bits 0-5) and the buffer size
 *                    around the exact fit (bits 6-7)
 * Operation 6: the rest is "SYNTAX\0HELP\0LINE": cmd_tree_add() of that
 * definition into a tree of its own (it must fail cleanly when malformed),
 * then every operation on LINE.
 * Arrays handed to the parser are heap buffers of the exact size, so that
 * ASan sees any write past them. Checks (abort() on failure): results sorted,
 * unique and within bounds; a matched command's arguments are consistent; the
 * matched words spelled out in full match the same command again; TAB
 * candidates are a subset of '?' help and start with the word being completed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_table.h"
#include "cmdtree.h"

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_cmd: check failed at line %d: %s\n", \
		    __LINE__, #cond); \
		abort(); \
	} \
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Not in the daemon: the parser's other variable kinds, a hidden command and
 * a LINE, so that their code is fuzzed too. */
static const struct cmd_def extra[] = {
	{ CMD_MODE_ALL, "ping (X:X::X:X|A.B.C.D) [count (1-100)]",
	  "Send echo requests\nIPv6 address\nIPv4 address\nHow many\nCount", NULL, 0 },
	{ CMD_MODE_CONFIG, "static A.B.C.D/M X:X::X:X/M [SECONDS]",
	  "A static route\nIPv4 prefix\nIPv6 prefix\nAn age", NULL, 0 },
	{ CMD_MODE_ALL, "debug-dump LINE", "Internal dump\nWhat to dump", NULL, CMD_F_HIDDEN },
	{ CMD_MODE_VIEW, "log [level (0-7) tag WORD] LINE",
	  "Write to the log\nA level\nThe level\nA tag\nThe tag\nThe message", NULL, 0 },
};

static struct cmd_tree *tree;

static const char *const peers[] = { "10.0.0.1", "10.0.0.2", "10.0.1.1", "fd00::1", "fd00::2" };
static const char *const routes[] = {
	"10.1.0.0/24", "10.1.1.0/24", "10.2.0.0/16", "fd00:1::/64", "fd00:1:0:1::/64",
	/* 63 and 64 characters: the longest a candidate may be, and one more */
	"1234567890123456789012345678901234567890123456789012345678901/2",
	"1234567890123456789012345678901234567890123456789012345678901/24",
};

static void
dynamic(void *arg, const char *vartype, const char *partial, cmd_emit_fn emit,
    void *emit_arg)
{
	const char *const *list;
	size_t n, i, plen;
	char buf[CMD_MAX_LINE + 8];

	CHECK(arg == (void *)&tree);
	CHECK(partial != NULL);
	plen = strlen(partial);
	if (strcmp(vartype, "PEER") == 0) {
		list = peers;
		n = sizeof(peers) / sizeof(peers[0]);
	} else {
		CHECK(strcmp(vartype, "ROUTE") == 0);
		list = routes;
		n = sizeof(routes) / sizeof(routes[0]);
	}
	/* Like the daemon's, mostly values that start with partial, but the
	 * parser must filter anyway. */
	for (i = 0; i < n; i++)
		emit(emit_arg, list[i]);
	emit(emit_arg, NULL);
	snprintf(buf, sizeof(buf), "%s1", partial);
	emit(emit_arg, buf);
	if (plen > 0) {
		memcpy(buf, partial, plen - 1);
		buf[plen - 1] = '\0';
		emit(emit_arg, buf);
	}
}

static struct cmd_tree *
build_tree(void)
{
	struct cmd_tree *t = cmd_tree_new();
	size_t i;

	CHECK(t != NULL);
	for (i = 0; i < cmd_table_len; i++)
		if (cmd_tree_add(t, &cmd_table[i]) != 0) {
			fprintf(stderr, "fuzz_cmd: bad table entry '%s'\n", cmd_table[i].syntax);
			abort();
		}
	for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		if (cmd_tree_add(t, &extra[i]) != 0) {
			fprintf(stderr, "fuzz_cmd: bad extra entry '%s'\n", extra[i].syntax);
			abort();
		}
	return t;
}

static int
is_blank(char c)
{
	return c != '\0' && strchr(" \t\n\r\v\f", c) != NULL;
}

static int
cand_cmp(const char *a, const char *b)
{
	int acr = strcmp(a, "<cr>") == 0, bcr = strcmp(b, "<cr>") == 0;

	return acr || bcr ? acr - bcr : strcmp(a, b);
}

static void
check_cands(const struct cmd_cand *c, int n, int max)
{
	int i;

	CHECK(n >= -1 && n <= max);
	for (i = 0; i < n; i++) {
		CHECK(memchr(c[i].word, '\0', sizeof(c[i].word)) != NULL);
		CHECK(memchr(c[i].help, '\0', sizeof(c[i].help)) != NULL);
		CHECK(c[i].word[0] != '\0');
		if (i > 0)
			CHECK(cand_cmp(c[i - 1].word, c[i].word) < 0);
	}
}

/* The word being completed: the last one, or "" after a blank. */
static const char *
partial_of(const char *line, char *buf, size_t buflen)
{
	char *words[CMD_MAX_WORDS];
	int n = cmd_split(line, buf, buflen, words, CMD_MAX_WORDS);

	if (n <= 0 || is_blank(line[strlen(line) - 1]))
		return "";
	return words[n - 1];
}

static void
do_match(const struct cmd_tree *t, unsigned mode, const char *line, int recheck)
{
	struct cmd_match *m = malloc(sizeof(*m)), *m2;
	char canon[CMD_MAX_LINE * 2];
	size_t off = 0;
	int st, i;

	CHECK(m != NULL);
	st = cmd_match(t, mode, line, m);
	CHECK(st == (int)m->status);
	CHECK(memchr(m->msg, '\0', sizeof(m->msg)) != NULL);
	switch (m->status) {
	case CMD_MATCH_OK:
		CHECK(m->def != NULL);
		CHECK((m->def->modes & mode) != 0);
		CHECK(m->args.n >= 1 && m->args.n <= CMD_MAX_WORDS);
		for (i = 0; i < m->args.n; i++) {
			CHECK(m->args.name[i] != NULL && m->args.value[i] != NULL);
			CHECK(m->args.value[i][0] != '\0');
			CHECK(cmd_arg(&m->args, m->args.name[i]) != NULL);
			off += (size_t)snprintf(canon + off, sizeof(canon) - off,
			    "%s%s", i ? " " : "", m->args.value[i]);
			CHECK(off < sizeof(canon));
		}
		/* Spelled out in full, the words match the same command. */
		if (recheck && off < CMD_MAX_LINE) {
			m2 = malloc(sizeof(*m2));
			CHECK(m2 != NULL);
			if (cmd_match(t, mode, canon, m2) != CMD_MATCH_OK ||
			    m2->def != m->def) {
				fprintf(stderr, "fuzz_cmd: '%s' matched '%s', but '%s' "
				    "gives %d (%s)%s%s\n", line, m->def->syntax, canon,
				    m2->status, m2->msg, m2->def ? ", matching " : "",
				    m2->def ? m2->def->syntax : "");
				abort();
			}
			free(m2);
		}
		break;
	case CMD_MATCH_EMPTY:
		CHECK(m->def == NULL);
		break;
	case CMD_MATCH_UNKNOWN:
	case CMD_MATCH_AMBIGUOUS:
	case CMD_MATCH_INCOMPLETE:
	case CMD_MATCH_BAD_VALUE:
		CHECK(m->def == NULL);
		CHECK(m->msg[0] == '%');
		CHECK(m->err_word >= -1 && m->err_word < CMD_MAX_WORDS);
		break;
	default:
		CHECK(!"unknown match status");
	}
	free(m);
}

/* TAB and '?' on line; returns nothing, checks their agreement. */
static void
do_complete_help(const struct cmd_tree *t, unsigned mode, const char *line,
    int max, int which)
{
	/* Exactly max elements: ASan watches the bytes past them. */
	struct cmd_cand *tab = malloc(max ? (size_t)max * sizeof(*tab) : 1);
	struct cmd_cand *help = malloc(max ? (size_t)max * sizeof(*help) : 1);
	struct cmd_match *m = malloc(sizeof(*m));
	char pbuf[CMD_MAX_LINE];
	const char *partial = partial_of(line, pbuf, sizeof(pbuf));
	size_t plen = strlen(partial);
	int nt = -2, nh = -2, i, j;

	CHECK(tab != NULL && help != NULL && m != NULL);
	if (which & 1) {
		nt = cmd_complete(t, mode, line, max ? tab : NULL, max);
		check_cands(tab, nt, max);
		for (i = 0; i < nt; i++) {
			CHECK(strncmp(tab[i].word, partial, plen) == 0);
			CHECK(strcmp(tab[i].word, "<cr>") != 0);
		}
	}
	if (which & 2) {
		memset(m, 0, sizeof(*m));
		nh = cmd_help(t, mode, line, max ? help : NULL, max, m);
		check_cands(help, nh, max);
		CHECK(memchr(m->msg, '\0', sizeof(m->msg)) != NULL);
		if (nh < 0)
			CHECK(m->msg[0] == '%');
	}
	if (which & 4)
		(void)cmd_help(t, mode, line, max ? help : NULL, max, NULL);
	/* What TAB offers, '?' lists too (unless one of them was cut short). */
	if ((which & 3) == 3) {
		CHECK((nt < 0) == (nh < 0));
		if (nt < max && nh < max)
			for (i = 0; i < nt; i++) {
				for (j = 0; j < nh && strcmp(help[j].word, tab[i].word); j++)
					;
				if (j == nh) {
					fprintf(stderr, "fuzz_cmd: TAB offers '%s' for '%s', "
					    "'?' does not\n", tab[i].word, line);
					abort();
				}
			}
	}
	free(tab);
	free(help);
	free(m);
}

static void
do_split(const char *line, unsigned arg)
{
	size_t len = strlen(line), buflen;
	int max = (int)(arg & 0x3f), n, i;
	char *buf, **words;

	/* Around the exact fit: one byte short, exact, one and two more. */
	buflen = len + 1 + (arg >> 6);
	buflen = buflen > 0 ? buflen - 1 : 0;
	buf = malloc(buflen ? buflen : 1);
	words = malloc((max ? (size_t)max : 1) * sizeof(*words));
	CHECK(buf != NULL && words != NULL);
	n = cmd_split(line, buflen ? buf : NULL, buflen, words, max);
	CHECK(n >= -1 && n <= max);
	if (buflen <= len)
		CHECK(n == -1);
	for (i = 0; i < n; i++) {
		size_t wl;

		CHECK(words[i] >= buf && words[i] < buf + buflen);
		wl = strlen(words[i]);
		CHECK(wl > 0 && words[i] + wl < buf + buflen);
		CHECK(strstr(line, words[i]) != NULL);
		CHECK(strpbrk(words[i], " \t\n\r\v\f") == NULL);
	}
	free(buf);
	free(words);
}

static void
run_ops(const struct cmd_tree *t, unsigned mode, unsigned op, unsigned arg,
    const char *line)
{
	int max = (int)arg;

	switch (op) {
	case 0:
		do_match(t, mode, line, 1);
		break;
	case 1:
		do_complete_help(t, mode, line, max, 1);
		break;
	case 2:
		do_complete_help(t, mode, line, max, 2);
		break;
	case 3:
		do_complete_help(t, mode, line, max, 4);
		break;
	case 4:
		do_split(line, arg);
		break;
	default:
		do_match(t, mode, line, 1);
		do_complete_help(t, mode, line, max, 7);
		do_split(line, arg);
	}
}

/* Operation 6: "SYNTAX\0HELP\0LINE". */
static void
custom(unsigned mode, unsigned arg, const char *rest, size_t len)
{
	const char *syntax = rest, *help, *line, *end = rest + len;
	struct cmd_def def;
	struct cmd_tree *t;

	if ((help = memchr(syntax, '\0', len)) == NULL || help + 1 >= end)
		return;
	help++;
	if ((line = memchr(help, '\0', (size_t)(end - help))) == NULL)
		return;
	line++;
	if ((t = cmd_tree_new()) == NULL)
		abort();
	def.modes = mode ? mode : CMD_MODE_VIEW;
	def.syntax = syntax;
	def.help = help;
	def.fn = NULL;
	def.flags = arg & 0x80 ? CMD_F_HIDDEN : 0;
	if (cmd_tree_add(t, &def) == 0) {
		cmd_tree_set_dynamic(t, dynamic, (void *)&tree);
		do_match(t, CMD_MODE_ALL, line, 1);
		do_complete_help(t, CMD_MODE_ALL, line, (int)(arg & 0x7f), 7);
		/* A second, well-formed command beside it. */
		CHECK(cmd_tree_add(t, &extra[sizeof(extra) / sizeof(extra[0]) - 1]) == 0);
		do_match(t, CMD_MODE_ALL, line, 1);
		do_complete_help(t, CMD_MODE_ALL, line, (int)(arg & 0x7f), 7);
	}
	cmd_tree_free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned mode, op, arg;
	char *rest;
	size_t len;

	if (size < 2 || size > 4 * CMD_MAX_LINE)
		return 0;
	if (tree == NULL)
		tree = build_tree();
	mode = data[0] & 7u;
	op = (data[0] >> 3) & 7u;
	arg = data[1];
	len = size - 2;
	/* The line as the daemon has it: a C string. */
	if ((rest = malloc(len + 1)) == NULL)
		return 0;
	memcpy(rest, data + 2, len);
	rest[len] = '\0';
	cmd_tree_set_dynamic(tree, (data[0] & 0x40) ? dynamic : NULL, (void *)&tree);
	if (op == 6)
		custom(mode, arg, rest, len);
	else
		run_ops(tree, mode, op, arg, rest);
	free(rest);
	return 0;
}
