/* cmd.c: the handlers of modes, configuration and actions (their syntax is in
 * cmd_table.c), and the dispatcher the control socket calls for every request
 * line. */
#include "cmd.h"

#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_table.h"
#include "ctl.h"
#include "hgwd.h"
#include "log.h"
#include "peer.h"
#include "reconf.h"

int
cmd_fail(struct cmd_ctx *x, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->msg, x->msglen, fmt, ap);
	va_end(ap);
	return code;
}

/* The matched words, keywords spelled out: what config_statement reads. */
static int
canonical_line(const struct cmd_args *a, int skip, char *buf, size_t len)
{
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = skip; i < a->n; i++) {
		int w = snprintf(buf + off, len - off, "%s%s", off ? " " : "", a->value[i]);

		if (w < 0 || (size_t)w >= len - off)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

/* Applies one configuration statement to a copy of the running config, then
 * the difference to the daemon: the same path as a reload. */
static int
apply_statement(struct cmd_ctx *x, const char *line, enum cfg_ctx cctx)
{
	struct hgwd *d = x->d;
	struct config nc;
	char err[256];

	if (config_copy(&nc, &d->cfg) < 0)
		return cmd_fail(x, CTL_ERR_RUNTIME, "%% Out of memory");
	if (config_statement(&nc, &cctx, line, 0, err, sizeof(err)) < 0 ||
	    config_check(&nc, err, sizeof(err)) < 0) {
		config_free(&nc);
		return cmd_fail(x, CTL_ERR_VALUE, "%% %s", err);
	}
	if (reconf_apply(d, &nc, err, sizeof(err)) < 0) {
		config_free(&nc);
		return cmd_fail(x, CTL_ERR_RUNTIME, "%% %s", err);
	}
	config_free(&nc);
	return CTL_OK;
}

int
cmd_router_stmt(struct cmd_ctx *x, const struct cmd_args *a)
{
	char line[CMD_MAX_LINE + 64];

	int code;

	if (canonical_line(a, 0, line, sizeof(line)) < 0)
		return cmd_fail(x, CTL_ERR_TOOLONG, "%% Line too long");
	code = apply_statement(x, line, CFG_CTX_ROUTER);
	if (code == CTL_OK && strncmp(line, "timers keepalive", 16) == 0)
		return cmd_fail(x, CTL_OK, "new timers apply to sessions from now on; "
		    "'clear peer *' applies them at once");
	return code;
}

int
cmd_hostname(struct cmd_ctx *x, const struct cmd_args *a)
{
	char line[CMD_MAX_LINE + 64];

	if (canonical_line(a, 0, line, sizeof(line)) < 0)
		return cmd_fail(x, CTL_ERR_TOOLONG, "%% Line too long");
	return apply_statement(x, line, CFG_CTX_TOP);
}

int
cmd_kernel(struct cmd_ctx *x, const struct cmd_args *a)
{
	if (a->n < 2)
		return cmd_fail(x, CTL_ERR_INCOMPLETE,
		    "%% Incomplete command: kernel protocol N | table N | metric N | on | off");
	return cmd_router_stmt(x, a);
}

int
cmd_configure(struct cmd_ctx *x, const struct cmd_args *a)
{
	ctl_set_mode(x->c, CMD_MODE_CONFIG);
	return CTL_OK;
}

int
cmd_router(struct cmd_ctx *x, const struct cmd_args *a)
{
	ctl_set_mode(x->c, CMD_MODE_ROUTER);
	return CTL_OK;
}

int
cmd_exit(struct cmd_ctx *x, const struct cmd_args *a)
{
	unsigned m = ctl_mode(x->c);

	if (m == CMD_MODE_ROUTER)
		ctl_set_mode(x->c, CMD_MODE_CONFIG);
	else if (m == CMD_MODE_CONFIG)
		ctl_set_mode(x->c, CMD_MODE_VIEW);
	else
		return cmd_fail(x, CTL_OK, "bye");
	return CTL_OK;
}

/* vtysh's "do": a top-level command from a configuration mode. */
int
cmd_do(struct cmd_ctx *x, const struct cmd_args *a)
{
	unsigned mode = ctl_mode(x->c);
	int code;

	ctl_set_mode(x->c, CMD_MODE_VIEW);
	code = cmd_run(x->d, x->c, cmd_arg(a, "LINE"), x->msg, x->msglen);
	/* A command that changed the mode (exit, configure) keeps its change. */
	if (ctl_mode(x->c) == CMD_MODE_VIEW)
		ctl_set_mode(x->c, mode);
	return code;
}

int
cmd_end(struct cmd_ctx *x, const struct cmd_args *a)
{
	ctl_set_mode(x->c, CMD_MODE_VIEW);
	return CTL_OK;
}

int
cmd_write(struct cmd_ctx *x, const struct cmd_args *a)
{
	char err[256];

	if (config_save(&x->d->cfg, x->d->cfg_path, err, sizeof(err)) < 0)
		return cmd_fail(x, CTL_ERR_RUNTIME, "%% %s", err);
	log_info("configuration written to %s", x->d->cfg_path);
	return cmd_fail(x, CTL_OK, "configuration saved to %s", x->d->cfg_path);
}

int
cmd_reload(struct cmd_ctx *x, const struct cmd_args *a)
{
	char err[256];

	if (reconf_reload(x->d, err, sizeof(err)) < 0)
		return cmd_fail(x, CTL_ERR_RUNTIME, "%% %s", err);
	return cmd_fail(x, CTL_OK, "configuration reloaded from %s", x->d->cfg_path);
}

/* Leaves the mesh for good: the stop of main.c withdraws everything. The
 * loop breaks once this reply is on its way. */
static void
shutdown_now(evutil_socket_t fd, short what, void *arg)
{
	struct hgwd *d = arg;

	event_base_loopbreak(d->base);
}

int
cmd_shutdown(struct cmd_ctx *x, const struct cmd_args *a)
{
	struct timeval tv = { 0, 20000 };

	if (x->d->stopping)
		return cmd_fail(x, CTL_ERR_RUNTIME, "%% already stopping");
	log_notice("shutdown command: leaving the mesh");
	x->d->leaving = 1;
	x->d->stopping = 1;
	if (event_base_once(x->d->base, -1, EV_TIMEOUT, shutdown_now, x->d, &tv) < 0)
		event_base_loopbreak(x->d->base);
	return cmd_fail(x, CTL_OK, "leaving the mesh: routes withdrawn, hgwd stopping");
}

int
cmd_clear_peer(struct cmd_ctx *x, const struct cmd_args *a)
{
	const char *who = cmd_arg(a, "PEER");
	struct hgw_addr addr;
	char err[128];

	if (who == NULL) {
		peers_reset(x->d, NULL, err, sizeof(err));
		return CTL_OK;
	}
	if (hgw_addr_parse(who, &addr) < 0)
		return cmd_fail(x, CTL_ERR_VALUE, "%% Invalid address '%s'", who);
	peers_reset(x->d, &addr, err, sizeof(err));
	if (err[0])
		return cmd_fail(x, CTL_ERR_NOTFOUND, "%% %s: %s", who, err);
	return CTL_OK;
}

static unsigned
debug_cats(const struct cmd_args *a)
{
	if (cmd_arg(a, "peer"))
		return LOG_CAT_PEER;
	if (cmd_arg(a, "rib"))
		return LOG_CAT_RIB;
	if (cmd_arg(a, "kernel"))
		return LOG_CAT_KERNEL;
	return LOG_CAT_ALL;
}

int
cmd_debug(struct cmd_ctx *x, const struct cmd_args *a)
{
	log_set_debug(debug_cats(a), 1);
	return CTL_OK;
}

int
cmd_no_debug(struct cmd_ctx *x, const struct cmd_args *a)
{
	log_set_debug(debug_cats(a), 0);
	return CTL_OK;
}

static void
dynamic(void *arg, const char *vartype, const char *partial, cmd_emit_fn emit,
    void *emit_arg)
{
	struct hgwd *d = arg;
	size_t plen = strlen(partial);

	if (strcmp(vartype, "PEER") == 0) {
		struct peer *p;

		TAILQ_FOREACH(p, &d->peers, entry)
			if (strncmp(p->name, partial, plen) == 0)
				emit(emit_arg, p->name);
	} else if (strcmp(vartype, "ROUTE") == 0) {
		size_t i, n, shown = 0;
		struct hgw_prefix *all = rib_snapshot(&d->rib, &n);
		char buf[HGW_ADDRSTRLEN];

		for (i = 0; i < n && shown < 200; i++) {
			hgw_prefix_fmt(&all[i], buf, sizeof(buf));
			if (strncmp(buf, partial, plen) == 0) {
				emit(emit_arg, buf);
				shown++;
			}
		}
		free(all);
	}
}

int
cmd_init(struct hgwd *d)
{
	size_t i;

	if ((d->cmds = cmd_tree_new()) == NULL)
		return -1;
	for (i = 0; i < cmd_table_len; i++) {
		if (cmd_table[i].fn == NULL)
			fatalx("command table: no handler for '%s'", cmd_table[i].syntax);
		if (cmd_tree_add(d->cmds, &cmd_table[i]) < 0)
			fatalx("command table: bad syntax '%s'", cmd_table[i].syntax);
	}
	cmd_tree_set_dynamic(d->cmds, dynamic, d);
	return 0;
}

void
cmd_free(struct hgwd *d)
{
	cmd_tree_free(d->cmds);
	d->cmds = NULL;
}

static void
prompt(struct hgwd *d, struct ctl_conn *c, char *buf, size_t len)
{
	const char *h = d->cfg.hostname[0] ? d->cfg.hostname : "hgw";

	switch (ctl_mode(c)) {
	case CMD_MODE_CONFIG:
		snprintf(buf, len, "%s(config)# ", h);
		break;
	case CMD_MODE_ROUTER:
		snprintf(buf, len, "%s(config-router)# ", h);
		break;
	default:
		snprintf(buf, len, "%s%s ", h, ctl_privileged(c) ? "#" : ">");
	}
}

static int
meta(struct hgwd *d, struct ctl_conn *c, const char *line, char *msg, size_t msglen)
{
	struct cmd_cand cands[256];
	struct cmd_match m;
	char buf[256];
	int n, i;

	if (strcmp(line, "%prompt") == 0) {
		prompt(d, c, buf, sizeof(buf));
		ctl_line(c, CTL_PROMPT, buf);
		return CTL_OK;
	}
	if (strncmp(line, "%complete ", 10) == 0) {
		n = cmd_complete(d->cmds, ctl_mode(c), line + 10, cands, 256);
		for (i = 0; i < n; i++) {
			snprintf(buf, sizeof(buf), "%.63s\t%.127s", cands[i].word, cands[i].help);
			ctl_line(c, CTL_COMPLETE, buf);
		}
		return CTL_OK;
	}
	if (strncmp(line, "%help ", 6) == 0) {
		memset(&m, 0, sizeof(m));
		n = cmd_help(d->cmds, ctl_mode(c), line + 6, cands, 256, &m);
		if (n < 0) {
			snprintf(msg, msglen, "%s", m.msg[0] ? m.msg : "% Unknown command");
			return CTL_ERR_UNKNOWN;
		}
		for (i = 0; i < n; i++) {
			snprintf(buf, sizeof(buf), "%.63s\t%.127s", cands[i].word, cands[i].help);
			ctl_line(c, CTL_HELP, buf);
		}
		return CTL_OK;
	}
	snprintf(msg, msglen, "%% Unknown request '%s'", line);
	return CTL_ERR_UNKNOWN;
}

/* "% Incomplete command: needs one of fib, leases, ..." */
static void
incomplete_hint(struct hgwd *d, struct ctl_conn *c, const char *line, char *msg, size_t len)
{
	struct cmd_cand cands[64];
	char buf[CMD_MAX_LINE + 2];
	size_t off;
	int n, i;

	snprintf(buf, sizeof(buf), "%s ", line);
	if ((n = cmd_help(d->cmds, ctl_mode(c), buf, cands, 64, NULL)) <= 0)
		return;
	off = (size_t)snprintf(msg, len, "%% Incomplete command: next comes");
	for (i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(msg + off, len - off, "%s %s", i ? "," : "", cands[i].word);
}

int
cmd_run(struct hgwd *d, struct ctl_conn *c, const char *line, char *msg, size_t msglen)
{
	struct cmd_match *m;
	struct cmd_ctx x;
	int code;

	while (*line == ' ' || *line == '\t')
		line++;
	if (line[0] == '%')
		return meta(d, c, line, msg, msglen);
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		snprintf(msg, msglen, "%% Out of memory");
		return CTL_ERR_RUNTIME;
	}
	cmd_match(d->cmds, ctl_mode(c), line, m);
	switch (m->status) {
	case CMD_MATCH_OK:
		break;
	case CMD_MATCH_EMPTY:
		free(m);
		return CTL_OK;
	case CMD_MATCH_AMBIGUOUS:
		code = CTL_ERR_AMBIGUOUS;
		goto err;
	case CMD_MATCH_INCOMPLETE:
		incomplete_hint(d, c, line, m->msg, sizeof(m->msg));
		code = CTL_ERR_INCOMPLETE;
		goto err;
	case CMD_MATCH_BAD_VALUE:
		code = CTL_ERR_VALUE;
		goto err;
	default:
		code = CTL_ERR_UNKNOWN;
		goto err;
	}
	if ((m->def->flags & CMD_F_PRIV) && !ctl_privileged(c)) {
		snprintf(msg, msglen, "%% Permission denied: only root or the socket's group may run this command");
		free(m);
		return CTL_ERR_PERM;
	}
	if ((m->def->flags & CMD_F_ROOT) && !ctl_root(c)) {
		snprintf(msg, msglen, "%% Permission denied: only root may change a statement that names a file");
		free(m);
		return CTL_ERR_PERM;
	}
	x.d = d;
	x.c = c;
	x.msg = msg;
	x.msglen = msglen;
	code = m->def->fn(&x, &m->args);
	free(m);
	return code;
err:
	snprintf(msg, msglen, "%s", m->msg);
	free(m);
	return code;
}
