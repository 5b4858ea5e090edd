/* cmdtree.c: the control command tree: syntax expansion, matching, TAB completion and '?' help. Pure code. */
#include "cmdtree.h"

#include <sys/socket.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKS	64	/* tokens (alternatives counted) in one syntax */
#define MAX_VARIANTS	256	/* linear variants one syntax may expand to */
#define TOK_LEN		64	/* longest token text, with its NUL */
#define MAX_DISTINCT	16	/* keywords named in an ambiguity message */
#define DIGITS		"0123456789"
#define HEX		DIGITS "abcdefABCDEF"

enum tok_type {
	T_KEYWORD, T_IPV4, T_IPV6, T_ADDRESS, T_PEER, T_PFX4, T_PFX6,
	T_PREFIX, T_ROUTE, T_RANGE, T_SECONDS, T_WORD, T_LINE
};

/* How well a word matches a token; a larger value wins at a word position. */
enum { M_NONE, M_ANY, M_VAR, M_PARTIAL, M_EXACT };

struct tok {
	enum tok_type type;
	unsigned long lo, hi;		/* T_RANGE */
	char text[TOK_LEN];		/* keyword or variable name */
	const char *help;		/* into the definition's help, not terminated */
	int helplen;
};

struct cmd_entry {
	const struct cmd_def *def;
	struct tok *toks;
	int ntok;
};

/* One linear form of a command: the tokens of its syntax, options resolved. */
struct variant {
	int cmd;
	int len;
	unsigned char tok[CMD_MAX_WORDS];
};

struct cmd_tree {
	struct cmd_entry *cmds;
	int ncmd, capcmd;
	struct variant *vars;
	int nvar, capvar;
	cmd_dynamic_fn dyn;
	void *dynarg;
};

/* A syntax element: a token, a choice, or an optional part. */
struct elem {
	int first, ntok;
	int seq;	/* [a B]: the tokens form one sequence, else alternatives */
	int opt;	/* in brackets: may be left out */
};

/* Candidates being collected, kept sorted and unique in out. */
struct cands {
	struct cmd_cand *out;
	int max, n;
	const char *partial;
	size_t plen;
	const char *help;	/* for dynamic values */
	int helplen;
};

static const struct {
	const char *name;
	enum tok_type type;
} vartypes[] = {
	{ "A.B.C.D", T_IPV4 }, { "X:X::X:X", T_IPV6 }, { "ADDRESS", T_ADDRESS },
	{ "PEER", T_PEER }, { "A.B.C.D/M", T_PFX4 }, { "X:X::X:X/M", T_PFX6 },
	{ "PREFIX", T_PREFIX }, { "ROUTE", T_ROUTE }, { "SECONDS", T_SECONDS },
	{ "WORD", T_WORD }, { "LINE", T_LINE },
};

static const char cr_word[] = "<cr>";
static const char cr_help[] = "Run the command";

static int
is_blank(char c)
{
	return c != '\0' && strchr(" \t\n\r\v\f", c) != NULL;
}

/* Parses a decimal number of at most 10 digits; -1 when it is not one. */
static int
parse_ulong(const char *s, size_t len, unsigned long *out)
{
	unsigned long long v = 0;
	size_t i;

	if (len == 0 || len > 10 || strspn(s, DIGITS) < len)
		return -1;
	for (i = 0; i < len; i++)
		v = v * 10 + (unsigned long long)(s[i] - '0');
	*out = (unsigned long)v;
	return v > 0xffffffffULL ? -1 : 0;
}

static int
range_parse(struct tok *t)
{
	const char *s = t->text, *dash;
	size_t len = strlen(s);

	if (len < 5 || s[0] != '(' || s[len - 1] != ')' ||
	    (dash = strchr(s, '-')) == NULL)
		return -1;
	if (parse_ulong(s + 1, (size_t)(dash - s - 1), &t->lo) == -1 ||
	    parse_ulong(dash + 1, (size_t)(s + len - 1 - dash - 1), &t->hi) == -1 ||
	    t->lo > t->hi)
		return -1;
	t->type = T_RANGE;
	return 0;
}

/* Classifies one token of a syntax: a keyword, a variable or a range. */
static int
tok_parse(const char *s, size_t len, struct tok *t)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	if (len == 0 || len >= TOK_LEN)
		return -1;
	memcpy(t->text, s, len);
	t->text[len] = '\0';
	if (s[0] == '(')
		return range_parse(t);
	for (i = 0; i < sizeof(vartypes) / sizeof(vartypes[0]); i++)
		if (strcmp(t->text, vartypes[i].name) == 0) {
			t->type = vartypes[i].type;
			return 0;
		}
	t->type = T_KEYWORD;
	return strcmp(t->text, "*") == 0 || (s[0] != '-' &&
	    strspn(t->text, "abcdefghijklmnopqrstuvwxyz" DIGITS "-") == len) ?
	    0 : -1;
}

/* "(lo-hi)" at p, as opposed to a choice "(a|b)". */
static int
is_range_at(const char *p)
{
	struct tok t;
	const char *q = strchr(p, ')');

	return q != NULL && tok_parse(p, (size_t)(q - p + 1), &t) == 0 &&
	    t.type == T_RANGE;
}

/* The end of the token at p: a range runs to its ')', anything else to a
 * separator. */
static const char *
tok_end(const char *p)
{
	const char *q;

	if (*p == '(')
		return (q = strchr(p, ')')) != NULL ? q + 1 : p + strlen(p);
	for (q = p; *q != '\0' && strchr(" |[]()", *q) == NULL; q++)
		;
	return q;
}

static int
syntax_parse(const char *s, struct tok *toks, int *ntok, struct elem *el,
    int *nel)
{
	const char *p = s, *q;
	int nt = 0, ne = 0, i;

	if (*p == '\0')
		return -1;
	for (;;) {
		struct elem *e;
		char close = '\0';	/* none for a lone token */
		int bars = 0, spaces = 0;

		if (ne == CMD_MAX_WORDS)
			return -1;
		e = &el[ne++];
		memset(e, 0, sizeof(*e));
		e->first = nt;
		if (*p == '[' || (*p == '(' && !is_range_at(p))) {
			close = *p == '[' ? ']' : ')';
			e->opt = *p++ == '[';
		}
		for (;;) {
			q = tok_end(p);
			if (nt == MAX_TOKS ||
			    tok_parse(p, (size_t)(q - p), &toks[nt]) == -1)
				return -1;
			nt++;
			e->ntok++;
			p = q;
			if (close == '\0' || *p == close) {
				p += close != '\0';
				break;
			}
			if (*p == '|')
				bars++;
			else if (*p == ' ' && e->opt)
				spaces++;
			else
				return -1;
			p++;
		}
		if ((bars && spaces) || (close == ')' && e->ntok < 2))
			return -1;
		e->seq = spaces > 0;
		if (*p == '\0')
			break;
		if (*p != ' ')
			return -1;
		p++;
	}
	/* LINE takes the rest of the line, so nothing may follow it. */
	for (i = 0; i < nt; i++)
		if (toks[i].type == T_LINE &&
		    (i < el[ne - 1].first || (el[ne - 1].seq && i != nt - 1)))
			return -1;
	*ntok = nt;
	*nel = ne;
	return 0;
}

/* One help line per token, a trailing newline allowed. */
static int
help_parse(const char *h, struct tok *toks, int nt)
{
	int i = 0;

	if (h == NULL)
		h = "";
	while (*h != '\0') {
		const char *nl = strchr(h, '\n');
		size_t len = nl != NULL ? (size_t)(nl - h) : strlen(h);

		if (len == 0 || i == nt)
			return -1;
		toks[i].help = h;
		toks[i].helplen = (int)len;
		i++;
		h += len + (nl != NULL);
	}
	return i == nt ? 0 : -1;
}

static int
elem_nalt(const struct elem *e)
{
	return (e->seq ? 1 : e->ntok) + e->opt;
}

struct cmd_tree *
cmd_tree_new(void)
{
	return calloc(1, sizeof(struct cmd_tree));
}

void
cmd_tree_free(struct cmd_tree *t)
{
	int i;

	if (t == NULL)
		return;
	for (i = 0; i < t->ncmd; i++)
		free(t->cmds[i].toks);
	free(t->cmds);
	free(t->vars);
	free(t);
}

/* Appends the linear forms of a syntax: the product of its elements'
 * alternatives. */
static int
expand(struct cmd_tree *t, int cmd, const struct elem *el, int ne)
{
	int count = 1, c, i, j;

	for (i = 0; i < ne; i++)
		if ((count *= elem_nalt(&el[i])) > MAX_VARIANTS)
			return -1;
	if (t->nvar + count > t->capvar) {
		int cap = t->capvar ? t->capvar : 64;
		struct variant *nv;

		while (cap < t->nvar + count)
			cap *= 2;
		if ((nv = realloc(t->vars, (size_t)cap * sizeof(*nv))) == NULL)
			return -1;
		t->vars = nv;
		t->capvar = cap;
	}
	for (c = 0; c < count; c++) {
		struct variant *v = &t->vars[t->nvar + c];
		int rest = c;

		v->cmd = cmd;
		v->len = 0;
		for (i = 0; i < ne; i++) {
			const struct elem *e = &el[i];
			int a = rest % elem_nalt(e);

			rest /= elem_nalt(e);
			if (e->opt && a-- == 0)
				continue;
			for (j = 0; j < (e->seq ? e->ntok : 1); j++) {
				if (v->len == CMD_MAX_WORDS)
					return -1;
				v->tok[v->len++] =
				    (unsigned char)(e->first + (e->seq ? j : a));
			}
		}
		if (v->len == 0)	/* all optional: matches nothing */
			return -1;
	}
	t->nvar += count;
	return 0;
}

int
cmd_tree_add(struct cmd_tree *t, const struct cmd_def *def)
{
	struct tok toks[MAX_TOKS];
	struct elem el[CMD_MAX_WORDS];
	struct cmd_entry *ent;
	int nt, ne;

	if (t == NULL || def == NULL || def->syntax == NULL || def->modes == 0 ||
	    syntax_parse(def->syntax, toks, &nt, el, &ne) == -1 ||
	    help_parse(def->help, toks, nt) == -1)
		return -1;
	if (t->ncmd == t->capcmd) {
		int cap = t->capcmd ? t->capcmd * 2 : 32;

		if ((ent = realloc(t->cmds, (size_t)cap * sizeof(*ent))) == NULL)
			return -1;
		t->cmds = ent;
		t->capcmd = cap;
	}
	ent = &t->cmds[t->ncmd];
	ent->def = def;
	ent->ntok = nt;
	if ((ent->toks = malloc((size_t)nt * sizeof(*ent->toks))) == NULL)
		return -1;
	memcpy(ent->toks, toks, (size_t)nt * sizeof(*ent->toks));
	if (expand(t, t->ncmd, el, ne) == -1) {
		free(ent->toks);
		return -1;
	}
	t->ncmd++;
	return 0;
}

void
cmd_tree_set_dynamic(struct cmd_tree *t, cmd_dynamic_fn fn, void *arg)
{
	t->dyn = fn;
	t->dynarg = arg;
}

/* Splits into buf; *comment says a '!' or '#' first word emptied the line.
 * -1 when there are too many words, -2 when the line does not fit. */
static int
split(const char *line, char *buf, size_t buflen, char **words, int max,
    int *comment)
{
	const char *p;
	size_t o = 0;
	int n = 0;

	*comment = 0;
	if (line == NULL)
		line = "";
	if (buf == NULL || strlen(line) >= buflen)
		return -2;
	buf[0] = '\0';
	for (p = line;;) {
		while (is_blank(*p))
			p++;
		if (*p == '\0')
			break;
		if (n == 0 && (*p == '!' || *p == '#')) {
			*comment = 1;
			return 0;
		}
		if (n >= max)
			return -1;
		/* Words lie back to back, each ended by one NUL (see LINE). */
		words[n++] = buf + o;
		while (*p != '\0' && !is_blank(*p))
			buf[o++] = *p++;
		buf[o++] = '\0';
	}
	return n;
}

int
cmd_split(const char *line, char *buf, size_t buflen, char **words, int max)
{
	int comment, n;

	n = split(line, buf, buflen, words, max, &comment);
	return n < 0 ? -1 : n;
}

/* Every character of s is in set, and s is not empty. */
static int
only_chars(const char *s, const char *set)
{
	return *s != '\0' && s[strspn(s, set)] == '\0';
}

/* An address, or with pfx a prefix of any length valid for the family. */
static int
addr_ok(const char *w, int family, int pfx)
{
	const char *slash = strrchr(w, '/');
	unsigned long plen;
	char buf[INET6_ADDRSTRLEN];
	unsigned char bytes[16];

	if (!pfx)
		return inet_pton(family, w, bytes) == 1;
	if (slash == NULL || (size_t)(slash - w) >= sizeof(buf) ||
	    strlen(slash + 1) > 3 ||
	    parse_ulong(slash + 1, strlen(slash + 1), &plen) == -1 ||
	    plen > (family == AF_INET ? 32u : 128u))
		return 0;
	memcpy(buf, w, (size_t)(slash - w));
	buf[slash - w] = '\0';
	return inet_pton(family, buf, bytes) == 1;
}

/* For address and prefix variables: the families taken (1 IPv4, 2 IPv6). */
static int
families(enum tok_type ty)
{
	return ty == T_IPV4 || ty == T_PFX4 ? 1 : ty == T_IPV6 || ty == T_PFX6 ?
	    2 : 3;
}

static int
is_addr(enum tok_type ty)
{
	return ty >= T_IPV4 && ty <= T_ROUTE;
}

static int
is_pfx(enum tok_type ty)
{
	return ty >= T_PFX4 && ty <= T_ROUTE;
}

static int
valid(const struct tok *t, const char *w)
{
	int fam = families(t->type), pfx = is_pfx(t->type);
	unsigned long v;
	const char *dot = strchr(w, '.');

	if (is_addr(t->type))
		return ((fam & 1) && addr_ok(w, AF_INET, pfx)) ||
		    ((fam & 2) && addr_ok(w, AF_INET6, pfx));
	if (t->type == T_RANGE)
		return parse_ulong(w, strlen(w), &v) == 0 && v >= t->lo &&
		    v <= t->hi;
	if (t->type == T_SECONDS)
		return dot == NULL ? only_chars(w, DIGITS) : dot > w &&
		    strspn(w, DIGITS) == (size_t)(dot - w) &&
		    dot[1] >= '0' && dot[1] <= '9' && dot[2] == '\0';
	return 1;
}

/* Whether w looks like (or like the start of) a value of t's kind. */
static int
shape(const struct tok *t, const char *w)
{
	int fam = families(t->type), pfx = is_pfx(t->type);

	if (is_addr(t->type))
		return ((fam & 1) && only_chars(w, pfx ? DIGITS "./" : DIGITS ".")) ||
		    ((fam & 2) && strchr(w, ':') != NULL &&
		    only_chars(w, pfx ? HEX ":./" : HEX ":."));
	if (t->type == T_RANGE)
		return only_chars(w[0] == '-' ? w + 1 : w, DIGITS);
	if (t->type == T_SECONDS)
		return only_chars(w, DIGITS ".");
	return 1;	/* WORD, LINE; keywords are never asked */
}

static int
kind(const struct tok *t, const char *w)
{
	if (t == NULL)
		return M_NONE;
	switch (t->type) {
	case T_KEYWORD:
		if (strcmp(t->text, w) == 0)
			return M_EXACT;
		return strncmp(t->text, w, strlen(w)) == 0 ? M_PARTIAL : M_NONE;
	case T_WORD:
	case T_LINE:
		return M_ANY;
	default:
		return valid(t, w) ? M_VAR : M_NONE;
	}
}

/* The token a variant has at word pos; a final LINE covers all words after. */
static const struct tok *
tok_at(const struct cmd_tree *t, const struct variant *v, int pos)
{
	const struct tok *toks = t->cmds[v->cmd].toks;

	if (pos < v->len)
		return &toks[v->tok[pos]];
	if (v->len > 0 && toks[v->tok[v->len - 1]].type == T_LINE)
		return &toks[v->tok[v->len - 1]];
	return NULL;
}

/* Whether n words form the whole variant. */
static int
complete_at(const struct cmd_tree *t, const struct variant *v, int n)
{
	return n == v->len || (n > v->len && tok_at(t, v, n) != NULL);
}

static int
same_var(const struct tok *a, const struct tok *b)
{
	return a->type == b->type &&
	    (a->type != T_RANGE || (a->lo == b->lo && a->hi == b->hi));
}

static void
match_init(struct cmd_match *m)
{
	m->status = CMD_MATCH_OK;
	m->def = NULL;
	m->args.n = 0;
	m->err_word = -1;
	m->msg[0] = '\0';
}

static int
fail(struct cmd_match *m, enum cmd_status st, int word, const char *msg)
{
	m->status = st;
	m->err_word = word;
	snprintf(m->msg, sizeof(m->msg), "%s", msg);
	return -1;
}

/* No viable variant takes word i: a bad value when a single kind of variable
 * could have, else an unknown word. */
static int
fail_at(const struct cmd_tree *t, const char *w, int i,
    const unsigned char *viable, struct cmd_match *m)
{
	const struct tok *d[MAX_DISTINCT], *bad = NULL;
	int nd = 0, other = 0, over = 0, v, j;

	for (v = 0; v < t->nvar; v++) {
		const struct tok *tk;

		if (!viable[v])
			continue;
		tk = tok_at(t, &t->vars[v], i);
		if (tk == NULL || tk->type == T_KEYWORD) {
			other = 1;
			continue;
		}
		for (j = 0; j < nd && !same_var(d[j], tk); j++)
			;
		if (j < nd)
			continue;
		if (nd == MAX_DISTINCT)
			over = 1;
		else
			d[nd++] = tk;
	}
	if (!over && !other && nd == 1)
		bad = d[0];
	for (j = 0; !over && bad == NULL && j < nd; j++)
		if (shape(d[j], w)) {
			if (bad != NULL) {
				bad = NULL;
				break;
			}
			bad = d[j];
		}
	m->err_word = i;
	if (bad != NULL) {
		m->status = CMD_MATCH_BAD_VALUE;
		snprintf(m->msg, sizeof(m->msg),
		    "%% Invalid value at '%.100s': expected %s", w, bad->text);
	} else {
		m->status = CMD_MATCH_UNKNOWN;
		snprintf(m->msg, sizeof(m->msg), "%% Unknown command at '%.100s'",
		    w);
	}
	return -1;
}

/* The word abbreviates two or more keywords: says which. */
static int
fail_ambiguous(const struct cmd_tree *t, const char *w, int i,
    const unsigned char *viable, int partial, struct cmd_match *m)
{
	const char *kw[MAX_DISTINCT], *text;
	int nk = 0, more = 0, v, j;
	size_t len;

	for (v = 0; v < t->nvar; v++) {
		if (viable[v] != partial)
			continue;
		text = tok_at(t, &t->vars[v], i)->text;
		for (j = 0; j < nk && strcmp(kw[j], text) < 0; j++)
			;
		if (j < nk && strcmp(kw[j], text) == 0)
			continue;
		if (nk == MAX_DISTINCT) {
			more = 1;
			continue;
		}
		memmove(&kw[j + 1], &kw[j], (size_t)(nk++ - j) * sizeof(kw[0]));
		kw[j] = text;
	}
	if (nk < 2)
		return 0;
	m->status = CMD_MATCH_AMBIGUOUS;
	m->err_word = i;
	snprintf(m->msg, sizeof(m->msg), "%% Ambiguous command at '%.100s': ", w);
	for (j = 0; j < nk; j++) {
		len = strlen(m->msg);
		snprintf(m->msg + len, sizeof(m->msg) - len, "%s%s",
		    j ? ", " : "", kw[j]);
	}
	if (more) {
		len = strlen(m->msg);
		snprintf(m->msg + len, sizeof(m->msg) - len, ", ...");
	}
	return -1;
}

/* Narrows viable (one byte per variant) to the variants in the mode that
 * take words[0..n-1] best, word by word; -1 with m saying why none do. */
static int
filter(const struct cmd_tree *t, unsigned mode, char **words, int n,
    unsigned char *viable, struct cmd_match *m)
{
	int i, v, best;

	for (v = 0; v < t->nvar; v++)
		viable[v] = (t->cmds[t->vars[v].cmd].def->modes & mode) != 0;
	for (i = 0; i < n; i++) {
		best = M_NONE;
		for (v = 0; v < t->nvar; v++) {
			if (!viable[v])
				continue;
			viable[v] = (unsigned char)(1 +
			    kind(tok_at(t, &t->vars[v], i), words[i]));
			if (viable[v] == 1 + M_PARTIAL &&
			    (t->cmds[t->vars[v].cmd].def->flags & CMD_F_FULL) != 0)
				viable[v] = 1 + M_NONE;
			if (viable[v] - 1 > best)
				best = viable[v] - 1;
		}
		if (best == M_NONE)
			return fail_at(t, words[i], i, viable, m);
		if (best == M_PARTIAL &&
		    fail_ambiguous(t, words[i], i, viable, 1 + M_PARTIAL, m) == -1)
			return -1;
		for (v = 0; v < t->nvar; v++)
			viable[v] = viable[v] == 1 + best;
	}
	return 0;
}

/* Splits line into m->words_buf; -1 with m saying why it could not. */
static int
split_match(const char *line, struct cmd_match *m, char **words, int *comment)
{
	int n;

	n = split(line, m->words_buf, sizeof(m->words_buf), words,
	    CMD_MAX_WORDS, comment);
	if (n == -1)
		return fail(m, CMD_MATCH_UNKNOWN, -1, "% Too many words");
	if (n == -2)
		return fail(m, CMD_MATCH_UNKNOWN, -1, "% Line too long");
	return n;
}

/* Of the variants left after all n words, the one they complete: fills m. */
static void
pick(const struct cmd_tree *t, const unsigned char *viable, char **words,
    int n, struct cmd_match *m)
{
	const struct variant *found = NULL;
	int v, j, k;

	for (v = 0; v < t->nvar; v++) {
		if (!viable[v] || !complete_at(t, &t->vars[v], n))
			continue;
		if (found == NULL)
			found = &t->vars[v];
		else if (found->cmd != t->vars[v].cmd) {
			fail(m, CMD_MATCH_AMBIGUOUS, -1, "% Ambiguous command");
			return;
		}
	}
	if (found == NULL) {
		fail(m, CMD_MATCH_INCOMPLETE, -1, "% Incomplete command");
		return;
	}
	m->def = t->cmds[found->cmd].def;
	m->args.n = found->len;
	for (j = 0; j < found->len; j++) {
		const struct tok *tk = tok_at(t, found, j);

		m->args.name[j] = tk->text;
		m->args.value[j] = tk->type == T_KEYWORD ? tk->text : words[j];
		/* LINE: the words lie back to back; join the rest with spaces. */
		for (k = j + 1; tk->type == T_LINE && k < n; k++)
			words[k][-1] = ' ';
	}
}

int
cmd_match(const struct cmd_tree *t, unsigned mode, const char *line,
    struct cmd_match *m)
{
	char *words[CMD_MAX_WORDS];
	unsigned char *viable;
	int comment, n;

	match_init(m);
	if ((n = split_match(line, m, words, &comment)) == 0)
		m->status = CMD_MATCH_EMPTY;
	if (n <= 0)
		return m->status;
	if ((viable = malloc((size_t)t->nvar + 1)) == NULL)
		fail(m, CMD_MATCH_UNKNOWN, -1, "% Out of memory");
	else if (filter(t, mode, words, n, viable, m) == 0)
		pick(t, viable, words, n, m);
	free(viable);
	return m->status;
}

static int
cand_cmp(const char *a, const char *b)
{
	int acr = strcmp(a, cr_word) == 0, bcr = strcmp(b, cr_word) == 0;

	return acr || bcr ? acr - bcr : strcmp(a, b);
}

/* Inserts word in sorted order unless present; keeps the first max. */
static void
cand_add(struct cands *c, const char *word, const char *help, int helplen)
{
	struct cmd_cand *o;
	int pos;

	if (strlen(word) >= sizeof(c->out->word) || c->max <= 0)
		return;
	for (pos = 0; pos < c->n; pos++) {
		int r = cand_cmp(c->out[pos].word, word);

		if (r == 0)
			return;
		if (r > 0)
			break;
	}
	if (pos == c->max)
		return;
	if (c->n == c->max)
		c->n--;
	o = &c->out[pos];
	memmove(o + 1, o, (size_t)(c->n++ - pos) * sizeof(*o));
	snprintf(o->word, sizeof(o->word), "%s", word);
	if (helplen >= (int)sizeof(o->help))
		helplen = (int)sizeof(o->help) - 1;
	memcpy(o->help, help, (size_t)helplen);
	o->help[helplen] = '\0';
}

static void
cand_emit(void *arg, const char *value)
{
	struct cands *c = arg;

	if (value != NULL && strncmp(value, c->partial, c->plen) == 0)
		cand_add(c, value, c->help, c->helplen);
}

/* What may stand at the line's last word: keywords and dynamic values, and
 * for help variables and <cr>. */
static int
candidates(const struct cmd_tree *t, unsigned mode, const char *line,
    struct cmd_cand *out, int max, struct cmd_match *m, int help)
{
	char *words[CMD_MAX_WORDS];
	unsigned char *viable;
	struct cands c;
	unsigned called = 0;
	int n, comment, v, pos;

	match_init(m);
	if ((n = split_match(line, m, words, &comment)) == -1)
		return -1;
	if (comment)
		return 0;
	memset(&c, 0, sizeof(c));
	c.out = out;
	c.max = out != NULL ? max : 0;
	/* The last word is empty when the line ends in a blank. */
	pos = n > 0 && !is_blank(line[strlen(line) - 1]) ? n - 1 : n;
	c.partial = pos < n ? words[pos] : "";
	c.plen = strlen(c.partial);
	if ((viable = malloc((size_t)t->nvar + 1)) == NULL)
		return fail(m, CMD_MATCH_UNKNOWN, -1, "% Out of memory");
	if (filter(t, mode, words, pos, viable, m) == -1)
		c.n = -1;
	for (v = 0; c.n >= 0 && v < t->nvar; v++) {
		const struct variant *var = &t->vars[v];
		const struct tok *tk;

		if (!viable[v] ||
		    (t->cmds[var->cmd].def->flags & CMD_F_HIDDEN) != 0 ||
		    (!help && (t->cmds[var->cmd].def->flags & CMD_F_FULL) != 0))
			continue;
		if (help && c.plen == 0 && complete_at(t, var, pos))
			cand_add(&c, cr_word, cr_help, (int)strlen(cr_help));
		if ((tk = tok_at(t, var, pos)) == NULL)
			continue;
		if (tk->type == T_KEYWORD) {
			if (strncmp(tk->text, c.partial, c.plen) == 0)
				cand_add(&c, tk->text, tk->help, tk->helplen);
			continue;
		}
		if (help && (c.plen == 0 || shape(tk, c.partial)))
			cand_add(&c, tk->text, tk->help, tk->helplen);
		if (t->dyn != NULL && (tk->type == T_PEER ||
		    tk->type == T_ROUTE) && !(called & (1u << tk->type))) {
			called |= 1u << tk->type;
			c.help = tk->help;
			c.helplen = tk->helplen;
			t->dyn(t->dynarg, tk->text, c.partial, cand_emit, &c);
		}
	}
	free(viable);
	return c.n;
}

int
cmd_complete(const struct cmd_tree *t, unsigned mode, const char *line,
    struct cmd_cand *out, int max)
{
	struct cmd_match m;

	return candidates(t, mode, line, out, max, &m, 0);
}

int
cmd_help(const struct cmd_tree *t, unsigned mode, const char *line,
    struct cmd_cand *out, int max, struct cmd_match *m)
{
	struct cmd_match local;

	return candidates(t, mode, line, out, max, m != NULL ? m : &local, 1);
}

const char *
cmd_arg(const struct cmd_args *a, const char *name)
{
	int i;

	for (i = 0; i < a->n; i++)
		if (strcmp(a->name[i], name) == 0)
			return a->value[i];
	return NULL;
}
