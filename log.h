/*
 * log.h - one line per event on stderr: "2026-11-27 18:40:01.123 WARN text"
 * (local time; levels DEBUG INFO NOTICE WARN ERROR, and FATAL for fatal*()).
 *
 * OpenBSD style: log_warn() appends ": strerror(errno)", log_warnx() does
 * not; fatal()/fatalx() log and exit(1).  The text is cut with "..." at
 * LOG_MAX_LINE bytes, and control bytes and non-ASCII in it are shown as
 * \xNN, so a miner's bytes passed through "%s" cannot forge log lines
 * (log_escape() makes them readable too).  Never log RPC credentials.
 * Each line goes out in one write(2); errno is left as it was.
 */
#ifndef LOG_H
#define LOG_H

#include <stddef.h>

#ifndef LOG_MAX_LINE
#define LOG_MAX_LINE 1024
#endif

enum log_level { LOG_DEBUG, LOG_INFO, LOG_NOTICE, LOG_WARN, LOG_ERROR };

/* Messages below level are dropped.  Default LOG_INFO. */
void log_set_level(enum log_level level);
/* "debug", "info", "notice", "warn", "error" (any case) -> level, or -1. */
int log_level_from_name(const char *name);
enum log_level log_get_level(void);

#if defined(__GNUC__) || defined(__clang__)
#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define LOG_NORETURN __attribute__((noreturn))
#else
#define LOG_PRINTF(a, b)
#define LOG_NORETURN
#endif

void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_notice(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);	/* + strerror */
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_error(const char *fmt, ...) LOG_PRINTF(1, 2);	/* no errno */
void fatal(const char *fmt, ...) LOG_PRINTF(1, 2) LOG_NORETURN;
void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2) LOG_NORETURN;

/*
 * Copy n bytes of untrusted data into out (cap bytes, always NUL-terminated)
 * with printable ASCII kept, \n \r \t \\ \" shown as C escapes and every other
 * byte as \xNN (lower-case hex).  Output that does not fit is cut between
 * whole escapes and ends in "..." (as much of it as fits when cap < 4).
 * cap must be >= 1: with cap 0 nothing at all is written.  Returns out.
 */
char *log_escape(char *out, size_t cap, const void *data, size_t n);

#endif
