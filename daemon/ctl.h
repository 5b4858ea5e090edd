/* ctl.h: the control socket: a UNIX stream socket, one request per line,
 * replies in BIRD-style numbered lines (see doc in README, "Control protocol"),
 * peer credentials for permissions, and output that streams without blocking
 * the daemon or growing without bound when a client stops reading.
 *
 * Reply lines: "CODE-text" (more follows) or "CODE text" (last line).
 *   0000      success (last line)
 *   1000      a line of command output
 *   1001      a completion candidate: "word<TAB>help"
 *   1002      a '?' help line: "word<TAB>help"
 *   1003      the prompt for the shell
 *   8000      runtime error       8001 not found     8002 permission denied
 *   9000      unknown command     9001 ambiguous     9002 incomplete
 *   9003      invalid value       9004 line too long
 */
#ifndef HGW_CTL_H
#define HGW_CTL_H

#include <stddef.h>
#include <sys/types.h>

struct hgwd;
struct ctl_conn;
struct json_object;

#define CTL_OK			0
#define CTL_DATA		1000
#define CTL_COMPLETE		1001
#define CTL_HELP		1002
#define CTL_PROMPT		1003
#define CTL_ERR_RUNTIME		8000
#define CTL_ERR_NOTFOUND	8001
#define CTL_ERR_PERM		8002
#define CTL_ERR_UNKNOWN		9000
#define CTL_ERR_AMBIGUOUS	9001
#define CTL_ERR_INCOMPLETE	9002
#define CTL_ERR_VALUE		9003
#define CTL_ERR_TOOLONG		9004

int ctl_open(struct hgwd *d, const char *path);
void ctl_close(struct hgwd *d);

/* Output for command handlers. */
void ctl_printf(struct ctl_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ctl_line(struct ctl_conn *c, int code, const char *text);
void ctl_json(struct ctl_conn *c, struct json_object *o);	/* takes the reference */
size_t ctl_pending(const struct ctl_conn *c);	/* bytes queued for the client */

/* Streaming: fn is called whenever the client has room, until it returns 0;
 * then free_fn(state) and the command's last line. */
typedef int (*ctl_gen_fn)(struct ctl_conn *c, void *state);
void ctl_stream(struct ctl_conn *c, ctl_gen_fn fn, void *state, void (*free_fn)(void *));

unsigned ctl_mode(const struct ctl_conn *c);
void ctl_set_mode(struct ctl_conn *c, unsigned mode);
int ctl_privileged(const struct ctl_conn *c);
/* uid 0 (or the daemon's own uid): may name files (CMD_F_ROOT). */
int ctl_root(const struct ctl_conn *c);

#endif
