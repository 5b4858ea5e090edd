/* log.h: logging to stderr, syslog or a file, at syslog severities, with a
 * ring of recent lines for `show logging` and debug categories that
 * `debug peer|rib|kernel` switches at run time. */
#ifndef HGW_LOG_H
#define HGW_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

#define LOG_CAT_PEER	0x1u
#define LOG_CAT_RIB	0x2u
#define LOG_CAT_KERNEL	0x4u
#define LOG_CAT_ALL	0x7u

#define LOG_RING_LINES	500	/* recent lines kept in memory */
#define LOG_LINE_MAX	240

enum log_dest {
	LOG_DEST_DEFAULT,	/* stderr, and syslog with -d */
	LOG_DEST_SYSLOG,
	LOG_DEST_STDERR,
	LOG_DEST_FILE,
};

struct log_line {
	uint64_t at_ms;		/* wall clock, ms since the epoch */
	int prio;		/* LOG_ERR .. LOG_DEBUG */
	char text[LOG_LINE_MAX];
};

void log_init(const char *ident, int use_syslog, int verbose);
/* Where lines go from now on, and the least severe level written there
 * (LOG_EMERG..LOG_DEBUG). 0, or -1 with err (a file that cannot be opened:
 * the previous destination stays). */
int log_set_dest(enum log_dest dest, const char *path, int level, char *err, size_t errlen);
enum log_dest log_dest(void);
const char *log_dest_path(void);
int log_level(void);
void log_close(void);
/* hgwd -d: error lines also go to fd as "E<text>\n" until set to -1. */
void log_set_err_fd(int fd);

void log_set_debug(unsigned cats, int on);
unsigned log_debug_cats(void);
int log_debug_on(unsigned cat);

/* "emerg".."debug" and back; -1 / NULL when unknown. Inline: config.c
 * parses levels without linking the logger. */
static const char *const log_level_names[] = {
	"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};

static inline int
log_level_parse(const char *name)
{
	int i;

	for (i = 0; i <= LOG_DEBUG; i++)
		if (__builtin_strcmp(name, log_level_names[i]) == 0)
			return i;
	return -1;
}

static inline const char *
log_level_name(int prio)
{
	return prio >= 0 && prio <= LOG_DEBUG ? log_level_names[prio] : (const char *)0;
}

/* The recent lines, oldest first: calls fn for each; and the counters. */
void log_ring_foreach(void (*fn)(void *arg, const struct log_line *l), void *arg);
uint64_t log_lines_total(int prio);
uint64_t log_suppressed(void);		/* repeats not logged, lines below the level */
void log_count_suppressed(void);	/* a caller left out a repeated line */

void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));	/* appends strerror(errno) */
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(unsigned cat, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
