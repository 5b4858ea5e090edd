/* notify.h: telling systemd (Type=notify) how the daemon is: READY=1 once up,
 * STATUS= with peers and routes, WATCHDOG=1, RELOADING=1, STOPPING=1. Without
 * libsystemd at build time, or without NOTIFY_SOCKET, every call does nothing. */
#ifndef HGW_NOTIFY_H
#define HGW_NOTIFY_H

struct hgwd;

int notify_init(struct hgwd *d);	/* after the event loop exists: 0, or -1 */
void notify_ready(struct hgwd *d);	/* the loop runs, the control socket answers */
void notify_reloading(struct hgwd *d);	/* SIGHUP: notify_ready when done */
void notify_stopping(struct hgwd *d);
void notify_free(struct hgwd *d);

#endif
