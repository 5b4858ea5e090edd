/* hgwsh.c: the control shell for hgwd, in the manner of FRR's vtysh and BIRD's
 * birdc: one-shot -c commands, commands piped on stdin, or an interactive
 * prompt with line editing, history, TAB completion and '?' help that the
 * daemon answers (it owns the command tree). */
#include <errno.h>
#include <histedit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCK	"/run/hgw/hgwd.sock"
#define MAX_CMDS	64

struct conn {
	int fd;
	FILE *in;
};

struct reply {
	int code;		/* of the last line */
	char *last;		/* its text */
	char **items;		/* 1001/1002/1003 lines */
	size_t nitems;
};

static struct conn g_conn;
static char g_prompt[256] = "hgw> ";

static void
reply_free(struct reply *r)
{
	size_t i;

	for (i = 0; i < r->nitems; i++)
		free(r->items[i]);
	free(r->items);
	free(r->last);
	memset(r, 0, sizeof(*r));
}

static int
conn_open(struct conn *c, const char *path)
{
	struct sockaddr_un sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "hgwsh: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "hgwsh: cannot connect to hgwd at %s: %s\n", path, strerror(errno));
		if (c->fd >= 0)
			close(c->fd);
		return -1;
	}
	if ((c->in = fdopen(c->fd, "r")) == NULL) {
		close(c->fd);
		return -1;
	}
	return 0;
}

/* Sends one request; data lines (1000) go to out as they arrive, other
 * numbered lines are kept in r. Returns 0, or -1 when the daemon went away. */
static int
request(struct conn *c, const char *line, FILE *out, struct reply *r)
{
	size_t len = strlen(line), off = 0, cap = 0;
	char *buf = NULL;
	ssize_t n;

	memset(r, 0, sizeof(*r));
	while (off < len || off == len) {
		const char *p = off < len ? line + off : "\n";
		size_t want = off < len ? len - off : 1;
		ssize_t w = write(c->fd, p, want);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "hgwsh: lost the connection to hgwd\n");
			return -1;
		}
		if (off == len)
			break;
		off += (size_t)w;
	}
	while ((n = getline(&buf, &cap, c->in)) > 0) {
		int code;
		char sep;
		const char *text;

		if (buf[n - 1] == '\n')
			buf[--n] = '\0';
		if (n < 5 || sscanf(buf, "%4d", &code) != 1) {
			fprintf(stderr, "hgwsh: bad reply line from hgwd: %s\n", buf);
			continue;
		}
		sep = buf[4];
		text = buf + 5;
		if (sep == '-') {
			if (code == 1000) {
				if (out != NULL)
					fprintf(out, "%s\n", text);
			} else {
				char **ni = realloc(r->items, (r->nitems + 1) * sizeof(*ni));

				if (ni != NULL) {
					r->items = ni;
					r->items[r->nitems++] = strdup(text);
				}
			}
			continue;
		}
		r->code = code;
		r->last = strdup(text);
		free(buf);
		return 0;
	}
	free(buf);
	fprintf(stderr, "hgwsh: lost the connection to hgwd\n");
	return -1;
}

/* Runs a command, printing its output; 0 on success, 1 on a command error,
 * -1 when the daemon went away. */
/* "show ?" in a script: the help the interactive '?' shows. */
static int
run_help(struct conn *c, const char *cmd, size_t qpos)
{
	struct reply r;
	char *req;
	size_t i;
	int rc;

	if (asprintf(&req, "%%help %.*s", (int)qpos, cmd) < 0)
		return 1;
	rc = request(c, req, stdout, &r);
	free(req);
	if (rc < 0)
		return -1;
	for (i = 0; i < r.nitems; i++) {
		char *tab = strchr(r.items[i], '\t');

		if (tab != NULL)
			*tab = '\0';
		printf("  %-24s %s\n", r.items[i], tab ? tab + 1 : "");
	}
	rc = r.code == 0 ? 0 : 1;
	if (rc)
		fprintf(stderr, "%s\n", r.last ? r.last : "% error");
	reply_free(&r);
	return rc;
}

static int
run(struct conn *c, const char *cmd, int *quit)
{
	struct reply r;
	size_t n = strlen(cmd);
	int rc;

	while (n > 0 && (cmd[n - 1] == ' ' || cmd[n - 1] == '\t'))
		n--;
	if (n > 0 && cmd[n - 1] == '?')
		return run_help(c, cmd, n - 1);
	if (request(c, cmd, stdout, &r) < 0)
		return -1;
	fflush(stdout);
	if (r.code == 0) {
		if (r.last && strcmp(r.last, "ok") != 0 && strcmp(r.last, "bye") != 0)
			printf("%s\n", r.last);
		if (quit && r.last && strcmp(r.last, "bye") == 0)
			*quit = 1;
		rc = 0;
	} else {
		fprintf(stderr, "%s\n", r.last ? r.last : "% error");
		rc = 1;
	}
	reply_free(&r);
	return rc;
}

static void
update_prompt(struct conn *c)
{
	struct reply r;

	if (request(c, "%prompt", NULL, &r) == 0 && r.nitems > 0)
		snprintf(g_prompt, sizeof(g_prompt), "%s", r.items[0]);
	reply_free(&r);
}

/* Interactive: libedit. */

static char *
prompt_fn(EditLine *el)
{
	return g_prompt;
}

/* The line up to the cursor. */
static char *
line_to_cursor(EditLine *el)
{
	const LineInfo *li = el_line(el);
	size_t n = (size_t)(li->cursor - li->buffer);
	char *s = malloc(n + 1);

	if (s != NULL) {
		memcpy(s, li->buffer, n);
		s[n] = '\0';
	}
	return s;
}

static unsigned char
complete_fn(EditLine *el, int ch)
{
	char *line = line_to_cursor(el), *req, *word;
	struct reply r;
	size_t i, wlen, common;
	const char *start;

	if (line == NULL)
		return CC_ERROR;
	start = strrchr(line, ' ');
	word = (char *)(start ? start + 1 : line);
	wlen = strlen(word);
	if (asprintf(&req, "%%complete %s", line) < 0 || request(&g_conn, req, NULL, &r) < 0) {
		free(line);
		return CC_ERROR;
	}
	free(req);
	/* Each item is "word<TAB>help". */
	for (i = 0; i < r.nitems; i++) {
		char *tab = strchr(r.items[i], '\t');

		if (tab)
			*tab = '\0';
	}
	if (r.nitems == 0) {
		reply_free(&r);
		free(line);
		return CC_REFRESH_BEEP;
	}
	common = strlen(r.items[0]);
	for (i = 1; i < r.nitems; i++) {
		size_t k = 0;

		while (k < common && r.items[i][k] == r.items[0][k])
			k++;
		common = k;
	}
	if (r.nitems == 1) {
		el_insertstr(el, r.items[0] + wlen);
		el_insertstr(el, " ");
	} else if (common > wlen) {
		char *part = strndup(r.items[0] + wlen, common - wlen);

		if (part)
			el_insertstr(el, part);
		free(part);
	} else {
		printf("\n");
		for (i = 0; i < r.nitems; i++)
			printf("%s%s", r.items[i], (i + 1) % 4 == 0 || i + 1 == r.nitems ? "\n" : "  ");
		reply_free(&r);
		free(line);
		return CC_REDISPLAY;
	}
	reply_free(&r);
	free(line);
	return CC_REFRESH;
}

static unsigned char
help_fn(EditLine *el, int ch)
{
	char *line = line_to_cursor(el), *req;
	struct reply r;
	size_t i;

	if (line == NULL)
		return CC_ERROR;
	if (asprintf(&req, "%%help %s", line) < 0 || request(&g_conn, req, NULL, &r) < 0) {
		free(line);
		return CC_ERROR;
	}
	free(req);
	free(line);
	printf("\n");
	if (r.code != 0)
		printf("%s\n", r.last ? r.last : "% Unknown command");
	for (i = 0; i < r.nitems; i++) {
		char *tab = strchr(r.items[i], '\t');

		if (tab) {
			*tab = '\0';
			printf("  %-24s %s\n", r.items[i], tab + 1);
		} else
			printf("  %s\n", r.items[i]);
	}
	reply_free(&r);
	return CC_REDISPLAY;
}

static int
interactive(void)
{
	EditLine *el;
	History *hist;
	HistEvent ev;
	const char *line;
	char histfile[4096] = "";
	const char *home = getenv("HOME");
	int count, quit = 0, rc = 0;

	el = el_init("hgwsh", stdin, stdout, stderr);
	hist = history_init();
	if (el == NULL || hist == NULL)
		return 1;
	history(hist, &ev, H_SETSIZE, 1000);
	history(hist, &ev, H_SETUNIQUE, 1);
	if (home != NULL) {
		snprintf(histfile, sizeof(histfile), "%s/.hgwsh_history", home);
		history(hist, &ev, H_LOAD, histfile);
	}
	el_set(el, EL_EDITOR, "emacs");
	el_set(el, EL_PROMPT, prompt_fn);
	el_set(el, EL_HIST, history, hist);
	el_set(el, EL_ADDFN, "hgw-complete", "Complete a command word", complete_fn);
	el_set(el, EL_BIND, "^I", "hgw-complete", NULL);
	el_set(el, EL_ADDFN, "hgw-help", "Show what may come here", help_fn);
	el_set(el, EL_BIND, "?", "hgw-help", NULL);
	el_source(el, NULL);
	update_prompt(&g_conn);
	while (!quit && (line = el_gets(el, &count)) != NULL) {
		char *cmd = strdup(line);
		size_t n;

		if (cmd == NULL)
			break;
		n = strlen(cmd);
		while (n > 0 && (cmd[n - 1] == '\n' || cmd[n - 1] == '\r'))
			cmd[--n] = '\0';
		if (n > 0) {
			history(hist, &ev, H_ENTER, cmd);
			if ((rc = run(&g_conn, cmd, &quit)) < 0) {
				free(cmd);
				break;
			}
		}
		free(cmd);
		update_prompt(&g_conn);
	}
	if (line == NULL)
		printf("\n");
	if (histfile[0])
		history(hist, &ev, H_SAVE, histfile);
	history_end(hist);
	el_end(el);
	return rc < 0 ? 1 : 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: hgwsh [-s SOCKET] [-c COMMAND]...\n"
	    "  -s SOCKET   hgwd's control socket (default " DEFAULT_SOCK ")\n"
	    "  -c COMMAND  run COMMAND and exit; repeat to run several in order\n"
	    "With no -c: an interactive shell on a terminal, or the commands on stdin, one a line.\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *sock = DEFAULT_SOCK, *cmds[MAX_CMDS];
	int ncmds = 0, ch, i, rc = 0;

	while ((ch = getopt(argc, argv, "s:c:h")) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'c':
			if (ncmds == MAX_CMDS) {
				fprintf(stderr, "hgwsh: at most %d -c commands\n", MAX_CMDS);
				return 2;
			}
			cmds[ncmds++] = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (conn_open(&g_conn, sock) < 0)
		return 1;
	if (ncmds > 0) {
		int quit = 0;

		for (i = 0; i < ncmds && rc == 0 && !quit; i++)
			rc = run(&g_conn, cmds[i], &quit);
		return rc == 0 ? 0 : 1;
	}
	if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
		return interactive();
	{
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;
		int quit = 0;

		while (rc == 0 && !quit && (n = getline(&line, &cap, stdin)) > 0) {
			if (line[n - 1] == '\n')
				line[--n] = '\0';
			rc = run(&g_conn, line, &quit);
		}
		free(line);
	}
	return rc == 0 ? 0 : 1;
}
