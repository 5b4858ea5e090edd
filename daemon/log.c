/* log.c: logging to stderr and syslog, with run-time debug categories. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static int log_syslog;
static int log_verbose;
static unsigned log_cats;

void
log_init(const char *ident, int use_syslog, int verbose)
{
	log_syslog = use_syslog;
	log_verbose = verbose;
	if (verbose)
		log_cats = LOG_CAT_ALL;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_debug(unsigned cats, int on)
{
	if (on)
		log_cats |= cats;
	else
		log_cats &= ~cats;
}

unsigned
log_debug_cats(void)
{
	return log_cats;
}

int
log_debug_on(unsigned cat)
{
	return (log_cats & cat) != 0;
}

static void
vlog(int prio, const char *tag, const char *fmt, va_list ap, const char *suffix)
{
	char msg[1024];
	struct timespec ts;
	struct tm tm;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%02d:%02d:%02d.%03ld %s%s%s%s\n", tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ts.tv_nsec / 1000000, tag, msg, suffix ? ": " : "",
	    suffix ? suffix : "");
	if (log_syslog)
		syslog(prio, "%s%s%s", msg, suffix ? ": " : "", suffix ? suffix : "");
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, "", fmt, ap, NULL);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, "warning: ", fmt, ap, NULL);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	char err[128];

	snprintf(err, sizeof(err), "%s", strerror(errno));
	va_start(ap, fmt);
	vlog(LOG_WARNING, "warning: ", fmt, ap, err);
	va_end(ap);
}

void
log_debug(unsigned cat, const char *fmt, ...)
{
	va_list ap;

	if (!(log_cats & cat))
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, "debug: ", fmt, ap, NULL);
	va_end(ap);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, "fatal: ", fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
