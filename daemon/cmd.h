/* cmd.h: the daemon's command tree: every command the shell can run, with its
 * syntax, help and handler in one table (cmd.c), show commands in cmd_show.c. */
#ifndef HGW_CMD_H
#define HGW_CMD_H

#include <stddef.h>

#include "cmdtree.h"

struct hgwd;
struct ctl_conn;

#define CMD_STREAMING	(-1)	/* the handler started a stream; ctl ends it */

struct cmd_ctx {
	struct hgwd *d;
	struct ctl_conn *c;
	char *msg;		/* text of the last line */
	size_t msglen;
};

int cmd_init(struct hgwd *d);
void cmd_free(struct hgwd *d);
/* Runs one request line for c: returns the last line's code (ctl.h) with
 * its text in msg, or CMD_STREAMING. */
int cmd_run(struct hgwd *d, struct ctl_conn *c, const char *line, char *msg,
    size_t msglen);

/* cmd_show.c */
extern const struct cmd_def cmd_show_defs[];
extern const size_t cmd_show_ndefs;

/* cmd_log.c */
extern const struct cmd_def log_cmd_defs[];
extern const size_t log_cmd_ndefs;

int cmd_fail(struct cmd_ctx *x, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
