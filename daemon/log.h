/* log.h: logging to stderr and (with -d) syslog, with debug categories that
 * `debug peer|rib|kernel` switches at run time. */
#ifndef HGW_LOG_H
#define HGW_LOG_H

#define LOG_CAT_PEER	0x1u
#define LOG_CAT_RIB	0x2u
#define LOG_CAT_KERNEL	0x4u
#define LOG_CAT_ALL	0x7u

void log_init(const char *ident, int use_syslog, int verbose);
void log_set_debug(unsigned cats, int on);
unsigned log_debug_cats(void);
int log_debug_on(unsigned cat);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));	/* appends strerror(errno) */
void log_debug(unsigned cat, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
