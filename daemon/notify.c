/* notify.c: systemd's readiness protocol through libsystemd's sd_notify:
 * READY=1, a STATUS= line refreshed when peers or routes change (looked at
 * once a second, sent only when the text differs), WATCHDOG=1 at half the
 * watchdog interval, RELOADING=1 around a reload, STOPPING=1. */
#include "notify.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hgwd.h"
#include "log.h"
#include "stats.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>

#define STATUS_PERIOD_S	1	/* STATUS= at most once a second */

struct notify {
	struct hgwd *d;
	struct event *status_ev, *wd_ev;
	char last[256];
	int ready;
};

static void
send_status(struct notify *n, const char *prefix)
{
	struct stats s;
	char text[256], msg[320];

	if (stats_collect(n->d, &s) < 0)
		return;
	snprintf(text, sizeof(text), "%zu of %zu peers established, %zu routes installed, "
	    "%zu prefixes in the RIB%s", s.nestablished, s.npeers, s.installed, s.prefixes,
	    s.sync_done ? "" : ", initial sync in progress");
	stats_free(&s);
	if (prefix == NULL && strcmp(text, n->last) == 0)
		return;
	snprintf(n->last, sizeof(n->last), "%s", text);
	if (snprintf(msg, sizeof(msg), "%sSTATUS=%s", prefix ? prefix : "", text) >= (int)sizeof(msg))
		return;
	sd_notify(0, msg);
}

static void
status_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notify *n = arg;

	if (n->ready)
		send_status(n, NULL);
}

static void
watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	sd_notify(0, "WATCHDOG=1");
}

int
notify_init(struct hgwd *d)
{
	struct notify *n;
	struct timeval tv = { STATUS_PERIOD_S, 0 };
	uint64_t usec = 0;

	if (getenv("NOTIFY_SOCKET") == NULL)
		return 0;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return -1;
	n->d = d;
	if ((n->status_ev = event_new(d->base, -1, EV_PERSIST, status_cb, n)) == NULL ||
	    event_add(n->status_ev, &tv) < 0)
		goto fail;
	/* Keep NOTIFY_SOCKET: the watchdog and the status use it later. */
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		struct timeval wtv = { (time_t)(usec / 2 / 1000000), (suseconds_t)(usec / 2 % 1000000) };

		if ((n->wd_ev = event_new(d->base, -1, EV_PERSIST, watchdog_cb, n)) == NULL ||
		    event_add(n->wd_ev, &wtv) < 0)
			goto fail;
		log_info("systemd watchdog: %llu ms, answered every %llu ms",
		    (unsigned long long)(usec / 1000), (unsigned long long)(usec / 2000));
	}
	d->notify = n;
	return 0;
fail:
	if (n->status_ev)
		event_free(n->status_ev);
	if (n->wd_ev)
		event_free(n->wd_ev);
	free(n);
	return -1;
}

void
notify_ready(struct hgwd *d)
{
	struct notify *n = d->notify;

	if (n == NULL)
		return;
	n->ready = 1;
	send_status(n, "READY=1\n");
}

void
notify_reloading(struct hgwd *d)
{
	if (d->notify != NULL)
		sd_notify(0, "RELOADING=1");
}

void
notify_stopping(struct hgwd *d)
{
	struct notify *n = d->notify;

	if (n == NULL)
		return;
	n->ready = 0;
	sd_notify(0, "STOPPING=1\nSTATUS=stopping: withdrawing routes");
}

void
notify_free(struct hgwd *d)
{
	struct notify *n = d->notify;

	if (n == NULL)
		return;
	if (n->status_ev)
		event_free(n->status_ev);
	if (n->wd_ev)
		event_free(n->wd_ev);
	free(n);
	d->notify = NULL;
}

#else	/* no libsystemd: nothing to tell */

int
notify_init(struct hgwd *d)
{
	d->notify = NULL;
	return 0;
}

void
notify_ready(struct hgwd *d)
{
}

void
notify_reloading(struct hgwd *d)
{
}

void
notify_stopping(struct hgwd *d)
{
}

void
notify_free(struct hgwd *d)
{
}

#endif
