/* cmd_log.c: the commands of logging and of the daemon's own statements:
 * show logging (the ring of recent lines), show debugging, and in configure
 * mode log ... and http listen .... */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "ctl.h"
#include "hgwd.h"
#include "log.h"
#include "reconf.h"

static const char *
dest_name(enum log_dest d)
{
	switch (d) {
	case LOG_DEST_SYSLOG: return "syslog";
	case LOG_DEST_STDERR: return "stderr";
	case LOG_DEST_FILE: return "file";
	default: return "default";
	}
}

static const char *
fmt_time(uint64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
	return buf;
}

static void
line_text(void *arg, const struct log_line *l)
{
	char tb[80];

	ctl_printf(arg, "%s %-7s %s", fmt_time(l->at_ms, tb, sizeof(tb)),
	    log_level_name(l->prio), l->text);
}

static void
line_json(void *arg, const struct log_line *l)
{
	json_object *o = json_object_new_object();
	char tb[80];

	json_object_object_add(o, "time", json_object_new_string(fmt_time(l->at_ms, tb, sizeof(tb))));
	json_object_object_add(o, "level", json_object_new_string(log_level_name(l->prio)));
	json_object_object_add(o, "message", json_object_new_string(l->text));
	json_object_array_add(arg, o);
}

int
cmd_show_logging(struct cmd_ctx *x, const struct cmd_args *a)
{
	enum log_dest d = log_dest();
	int prio;

	if (cmd_arg(a, "json")) {
		json_object *o = json_object_new_object(), *lines = json_object_new_array();
		json_object *counts = json_object_new_object();

		json_object_object_add(o, "destination", json_object_new_string(dest_name(d)));
		json_object_object_add(o, "file", d == LOG_DEST_FILE ?
		    json_object_new_string(log_dest_path()) : NULL);
		json_object_object_add(o, "level", json_object_new_string(log_level_name(log_level())));
		for (prio = LOG_EMERG; prio <= LOG_DEBUG; prio++)
			json_object_object_add(counts, log_level_name(prio),
			    json_object_new_int64((int64_t)log_lines_total(prio)));
		json_object_object_add(o, "lines", counts);
		json_object_object_add(o, "suppressed", json_object_new_int64((int64_t)log_suppressed()));
		json_object_object_add(o, "kept", json_object_new_int(LOG_RING_LINES));
		log_ring_foreach(line_json, lines);
		json_object_object_add(o, "recent", lines);
		ctl_json(x->c, o);
		return CTL_OK;
	}
	if (d == LOG_DEST_DEFAULT)
		ctl_printf(x->c, "Logging to stderr%s, level %s", x->d->cfg.log_dest ? "" :
		    " (and syslog when started with -d)", log_level_name(log_level()));
	else
		ctl_printf(x->c, "Logging to %s%s%s, level %s", dest_name(d),
		    d == LOG_DEST_FILE ? " " : "", d == LOG_DEST_FILE ? log_dest_path() : "",
		    log_level_name(log_level()));
	ctl_printf(x->c, "%llu lines left out (repeats, or below the level); the last %d lines:",
	    (unsigned long long)log_suppressed(), LOG_RING_LINES);
	log_ring_foreach(line_text, x->c);
	return CTL_OK;
}

int
cmd_show_debugging(struct cmd_ctx *x, const struct cmd_args *a)
{
	static const struct { unsigned cat; const char *name, *what; } cats[] = {
		{ LOG_CAT_PEER, "peer", "sessions and messages" },
		{ LOG_CAT_RIB, "rib", "routing table changes" },
		{ LOG_CAT_KERNEL, "kernel", "kernel writes and events" },
	};
	size_t i;

	if (cmd_arg(a, "json")) {
		json_object *o = json_object_new_object();

		for (i = 0; i < sizeof(cats) / sizeof(cats[0]); i++)
			json_object_object_add(o, cats[i].name,
			    json_object_new_boolean(log_debug_on(cats[i].cat)));
		ctl_json(x->c, o);
		return CTL_OK;
	}
	for (i = 0; i < sizeof(cats) / sizeof(cats[0]); i++)
		ctl_printf(x->c, "debug %-6s %s (%s)", cats[i].name,
		    log_debug_on(cats[i].cat) ? "on " : "off", cats[i].what);
	return CTL_OK;
}

/* A daemon statement from configure mode: applied to a copy of the running
 * configuration, then the difference, as a reload does. */
int
cmd_daemon_stmt(struct cmd_ctx *x, const struct cmd_args *a)
{
	struct config nc;
	enum cfg_ctx cctx = CFG_CTX_TOP;
	char line[CMD_MAX_LINE + 64], err[256];
	size_t off = 0;
	int i;

	for (i = 0; i < a->n; i++) {
		int w = snprintf(line + off, sizeof(line) - off, "%s%s", off ? " " : "", a->value[i]);

		if (w < 0 || (size_t)w >= sizeof(line) - off)
			return cmd_fail(x, CTL_ERR_TOOLONG, "%% Line too long");
		off += (size_t)w;
	}
	if (config_copy(&nc, &x->d->cfg) < 0)
		return cmd_fail(x, CTL_ERR_RUNTIME, "%% Out of memory");
	if (config_statement(&nc, &cctx, line, 0, err, sizeof(err)) < 0 ||
	    config_check(&nc, err, sizeof(err)) < 0) {
		config_free(&nc);
		return cmd_fail(x, CTL_ERR_VALUE, "%% %s", err);
	}
	if (reconf_apply(x->d, &nc, err, sizeof(err)) < 0) {
		config_free(&nc);
		return cmd_fail(x, CTL_ERR_RUNTIME, "%% %s", err);
	}
	config_free(&nc);
	return CTL_OK;
}

