/* cmdtree.h: the control command tree the daemon owns: each command's syntax,
 * help text and handler, defined once; matching with abbreviations, ambiguity
 * and error positions; TAB completion and '?' help for hgwsh. Pure code. */
#ifndef HGW_CMDTREE_H
#define HGW_CMDTREE_H

#include <stddef.h>

#define CMD_MAX_WORDS	32	/* words in one command line */
#define CMD_MAX_LINE	1024	/* bytes in one command line */

/* Modes, as a bitmask: a command may exist in several. */
#define CMD_MODE_VIEW	0x1u	/* HOSTNAME> / HOSTNAME# */
#define CMD_MODE_CONFIG	0x2u	/* HOSTNAME(config)# */
#define CMD_MODE_ROUTER	0x4u	/* HOSTNAME(config-router)# */
#define CMD_MODE_ALL	0x7u

/* Flags. */
#define CMD_F_PRIV	0x1u	/* needs root or the socket's group */
#define CMD_F_HIDDEN	0x2u	/* matched, never completed or listed */
#define CMD_F_FULL	0x4u	/* matched only spelled out (no abbreviation), listed by ?, never TAB-completed */
#define CMD_F_ROOT	0x8u	/* names a file the daemon writes or trusts: uid 0 only */

struct cmd_ctx;		/* the daemon's; cmdtree never looks inside */

/* The words a line matched: for a keyword, name and value are the full
 * keyword; for a variable, name is the variable ("ADDRESS") and value the
 * user's word. In syntax order. */
struct cmd_args {
	int n;
	const char *name[CMD_MAX_WORDS];
	const char *value[CMD_MAX_WORDS];
};

typedef int (*cmd_handler)(struct cmd_ctx *ctx, const struct cmd_args *args);

/*
 * syntax: words separated by single spaces.
 *   keyword      lower case letters, digits and '-': "show", "running-config"
 *   A.B.C.D      IPv4 address             X:X::X:X     IPv6 address
 *   ADDRESS      IPv4 or IPv6 address     PEER         address of a known peer (completes from the daemon)
 *   A.B.C.D/M    IPv4 prefix              X:X::X:X/M   IPv6 prefix
 *   PREFIX       IPv4 or IPv6 prefix      ROUTE        prefix (completes from the daemon's RIB)
 *   (1-65535)    a number in a range      SECONDS      seconds, one decimal allowed ("0.5")
 *   WORD         any one word             LINE         the rest of the line (last only)
 *   [a]          optional; [a|b] optional choice; [a B] optional sequence
 *   (a|b)        required choice
 * Brackets do not nest, except that a range may stand inside them: [port (1-65535)].
 * help: one line per token in syntax order, each alternative counting as one
 * token; brackets and bars take no line.
 */
struct cmd_def {
	unsigned modes;
	const char *syntax;
	const char *help;
	cmd_handler fn;
	unsigned flags;
};

enum cmd_status {
	CMD_MATCH_OK = 0,
	CMD_MATCH_EMPTY,	/* blank line or comment */
	CMD_MATCH_UNKNOWN,	/* no command has this word here */
	CMD_MATCH_AMBIGUOUS,	/* an abbreviation of two or more keywords */
	CMD_MATCH_INCOMPLETE,	/* a command starts so but needs more words */
	CMD_MATCH_BAD_VALUE,	/* a variable's word does not parse (bad address, out of range) */
};

struct cmd_match {
	enum cmd_status status;
	const struct cmd_def *def;	/* on CMD_MATCH_OK */
	struct cmd_args args;		/* on CMD_MATCH_OK; values point into words */
	int err_word;			/* 0-based index of the offending word, or -1 */
	char msg[256];			/* e.g. "% Ambiguous command at 'd': debug, detail" */
	char words_buf[CMD_MAX_LINE];	/* storage for the words */
};

struct cmd_cand {
	char word[64];		/* keyword, variable name ("ADDRESS"), a dynamic value, or "<cr>" */
	char help[128];
};

/* Dynamic values for PEER and ROUTE completion: call emit(emit_arg, value)
 * for each value that starts with partial. */
typedef void (*cmd_emit_fn)(void *emit_arg, const char *value);
typedef void (*cmd_dynamic_fn)(void *arg, const char *vartype,
    const char *partial, cmd_emit_fn emit, void *emit_arg);

struct cmd_tree;

struct cmd_tree *cmd_tree_new(void);
void cmd_tree_free(struct cmd_tree *t);
/* Adds a command; -1 when its syntax or help is malformed (a bug in the table). */
int cmd_tree_add(struct cmd_tree *t, const struct cmd_def *def);
void cmd_tree_set_dynamic(struct cmd_tree *t, cmd_dynamic_fn fn, void *arg);

/* Splits on blanks; '!' or '#' as a first word makes the line a comment.
 * Returns the number of words, or -1 when there are too many or the line is too long. */
int cmd_split(const char *line, char *buf, size_t buflen, char **words, int max);

int cmd_match(const struct cmd_tree *t, unsigned mode, const char *line,
    struct cmd_match *m);

/* TAB: candidates for the line's last word (an empty word when the line ends
 * in a blank). Keywords and dynamic values only; sorted, unique. Returns the
 * count (at most max), or -1 when the words before the last do not match. */
int cmd_complete(const struct cmd_tree *t, unsigned mode, const char *line,
    struct cmd_cand *out, int max);

/* '?': what may come at the line's last word (as cmd_complete), with help,
 * variables by their name, and "<cr>" when the line is already a whole
 * command. Returns the count, or -1 with m->msg saying where the words before
 * fail to match (m may be NULL). */
int cmd_help(const struct cmd_tree *t, unsigned mode, const char *line,
    struct cmd_cand *out, int max, struct cmd_match *m);

/* The value of a matched word by name ("json", "ADDRESS"), or NULL. */
const char *cmd_arg(const struct cmd_args *a, const char *name);

#endif
