/* cmd_handlers.h: the daemon's command handlers, each defined in the file that
 * owns what it runs; cmd_table.c points at them. */
#ifndef HGW_CMD_HANDLERS_H
#define HGW_CMD_HANDLERS_H

#include "cmdtree.h"

/* cmd.c: modes, configuration statements, actions */
int cmd_configure(struct cmd_ctx *x, const struct cmd_args *a);
int cmd_write(struct cmd_ctx *x, const struct cmd_args *a);
int cmd_reload(struct cmd_ctx *x, const struct cmd_args *a);
int cmd_shutdown(struct cmd_ctx *x, const struct cmd_args *a);
int cmd_clear_peer(struct cmd_ctx *x, const struct cmd_args *a);
int cmd_debug(struct cmd_ctx *x, const struct cmd_args *a);
int cmd_no_debug(struct cmd_ctx *x, const struct cmd_args *a);
int cmd_exit(struct cmd_ctx *x, const struct cmd_args *a);
int cmd_end(struct cmd_ctx *x, const struct cmd_args *a);
int cmd_do(struct cmd_ctx *x, const struct cmd_args *a);
int cmd_hostname(struct cmd_ctx *x, const struct cmd_args *a);
int cmd_router(struct cmd_ctx *x, const struct cmd_args *a);
int cmd_router_stmt(struct cmd_ctx *x, const struct cmd_args *a);
int cmd_kernel(struct cmd_ctx *x, const struct cmd_args *a);

/* cmd_show.c */
int cmd_show_summary(struct cmd_ctx *x, const struct cmd_args *a);
int cmd_show_peers(struct cmd_ctx *x, const struct cmd_args *a);
int cmd_show_routes(struct cmd_ctx *x, const struct cmd_args *a);
int cmd_show_fib(struct cmd_ctx *x, const struct cmd_args *a);
int cmd_show_running(struct cmd_ctx *x, const struct cmd_args *a);
int cmd_show_version(struct cmd_ctx *x, const struct cmd_args *a);

/* cmd_show_mesh.c */
int cmd_show_leases(struct cmd_ctx *x, const struct cmd_args *a);

/* cmd_show_mesh.c */
int cmd_show_members(struct cmd_ctx *x, const struct cmd_args *a);

/* cmd_log.c */
int cmd_show_logging(struct cmd_ctx *x, const struct cmd_args *a);
int cmd_show_debugging(struct cmd_ctx *x, const struct cmd_args *a);
int cmd_daemon_stmt(struct cmd_ctx *x, const struct cmd_args *a);

#endif
