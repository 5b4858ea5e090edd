/* log.c: logging to stderr, syslog or a file at syslog severities, a ring of
 * the recent lines, and run-time debug categories. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_ident = "hgwd";
static int log_bg;			/* -d: syslog is the default destination */
static int log_syslog_open;
static unsigned log_cats;
static enum log_dest cur_dest = LOG_DEST_DEFAULT;
static int cur_level = LOG_DEBUG;
static char cur_path[1024];
static FILE *log_file;
static int err_fd = -1;		/* -d: errors to the waiting parent */

static struct log_line ring[LOG_RING_LINES];
static size_t ring_next, ring_count;
static uint64_t counts[LOG_DEBUG + 1];
static uint64_t suppressed;

static void
open_syslog(void)
{
	if (!log_syslog_open) {
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_syslog_open = 1;
	}
}

void
log_init(const char *ident, int use_syslog, int verbose)
{
	log_ident = ident;
	log_bg = use_syslog;
	if (verbose)
		log_cats = LOG_CAT_ALL;
	if (use_syslog)
		open_syslog();
}

int
log_set_dest(enum log_dest dest, const char *path, int level, char *err, size_t errlen)
{
	FILE *f = NULL;

	if (level < 0 || level > LOG_DEBUG)
		level = LOG_DEBUG;
	if (dest == LOG_DEST_FILE) {
		int fd;

		if (path == NULL || strlen(path) >= sizeof(cur_path)) {
			snprintf(err, errlen, "log file: path too long");
			return -1;
		}
		if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640)) < 0 ||
		    (f = fdopen(fd, "a")) == NULL) {
			snprintf(err, errlen, "log file %s: %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		setvbuf(f, NULL, _IOLBF, 0);
	}
	if (log_file != NULL)
		fclose(log_file);
	log_file = f;
	snprintf(cur_path, sizeof(cur_path), "%s", dest == LOG_DEST_FILE ? path : "");
	cur_dest = dest;
	cur_level = level;
	if (dest == LOG_DEST_SYSLOG)
		open_syslog();
	return 0;
}

enum log_dest
log_dest(void)
{
	return cur_dest;
}

const char *
log_dest_path(void)
{
	return cur_path;
}

int
log_level(void)
{
	return cur_level;
}

void
log_close(void)
{
	if (log_file != NULL)
		fclose(log_file);
	log_file = NULL;
	if (log_syslog_open)
		closelog();
	log_syslog_open = 0;
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

void
log_ring_foreach(void (*fn)(void *arg, const struct log_line *l), void *arg)
{
	size_t i, start = (ring_next + LOG_RING_LINES - ring_count) % LOG_RING_LINES;

	for (i = 0; i < ring_count; i++)
		fn(arg, &ring[(start + i) % LOG_RING_LINES]);
}

uint64_t
log_lines_total(int prio)
{
	return prio >= 0 && prio <= LOG_DEBUG ? counts[prio] : 0;
}

uint64_t
log_suppressed(void)
{
	return suppressed;
}

void
log_count_suppressed(void)
{
	suppressed++;
}

static const char *
tag(int prio)
{
	switch (prio) {
	case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: case LOG_ERR:
		return "error: ";
	case LOG_WARNING:
		return "warning: ";
	case LOG_NOTICE:
		return "notice: ";
	case LOG_DEBUG:
		return "debug: ";
	}
	return "";
}

void
log_set_err_fd(int fd)
{
	err_fd = fd;
}

static void
vlog(int prio, const char *tagov, const char *fmt, va_list ap, const char *suffix)
{
	char msg[1024];
	struct timespec ts;
	struct tm tm;
	struct log_line *l;
	const char *t = tagov ? tagov : tag(prio);

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (suffix != NULL) {
		size_t n = strlen(msg);

		snprintf(msg + n, sizeof(msg) - n, ": %s", suffix);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	counts[prio]++;
	l = &ring[ring_next];
	ring_next = (ring_next + 1) % LOG_RING_LINES;
	if (ring_count < LOG_RING_LINES)
		ring_count++;
	l->at_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	l->prio = prio;
	snprintf(l->text, sizeof(l->text), "%s", msg);
	if (err_fd >= 0 && prio <= LOG_ERR) {
		char line[1100];
		int n = snprintf(line, sizeof(line), "E%s\n", msg);

		if (n > 0 && write(err_fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0)
			err_fd = -1;
	}
	if (prio > cur_level) {
		suppressed++;
		return;
	}
	localtime_r(&ts.tv_sec, &tm);
	switch (cur_dest) {
	case LOG_DEST_DEFAULT:
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s%s\n", tm.tm_hour, tm.tm_min,
		    tm.tm_sec, ts.tv_nsec / 1000000, t, msg);
		if (log_bg)
			syslog(prio, "%s", msg);
		break;
	case LOG_DEST_STDERR:
		fprintf(stderr, "%02d:%02d:%02d.%03ld %s%s\n", tm.tm_hour, tm.tm_min,
		    tm.tm_sec, ts.tv_nsec / 1000000, t, msg);
		break;
	case LOG_DEST_SYSLOG:
		syslog(prio, "%s", msg);
		break;
	case LOG_DEST_FILE:
		if (log_file != NULL)
			fprintf(log_file, "%04d-%02d-%02dT%02d:%02d:%02d.%03ld %s[%ld]: %s%s\n",
			    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			    tm.tm_sec, ts.tv_nsec / 1000000, log_ident, (long)getpid(), t, msg);
		break;
	}
}

#define LOGFN(name, prio)				\
void							\
name(const char *fmt, ...)				\
{							\
	va_list ap;					\
							\
	va_start(ap, fmt);				\
	vlog(prio, NULL, fmt, ap, NULL);			\
	va_end(ap);					\
}

LOGFN(log_err, LOG_ERR)
LOGFN(log_warnx, LOG_WARNING)
LOGFN(log_notice, LOG_NOTICE)
LOGFN(log_info, LOG_INFO)

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	char err[128];

	snprintf(err, sizeof(err), "%s", strerror(errno));
	va_start(ap, fmt);
	vlog(LOG_WARNING, NULL, fmt, ap, err);
	va_end(ap);
}

void
log_debug(unsigned cat, const char *fmt, ...)
{
	va_list ap;

	if (!(log_cats & cat))
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, NULL, fmt, ap, NULL);
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
