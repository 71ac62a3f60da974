/*
 * log.c - one line per event on stderr, written with a single write().
 *
 * A line is built whole in a stack buffer and handed to write(2) at once,
 * so lines from a child or a second process sharing stderr do not mix
 * mid-line the way separate fputs() calls can.  The message is formatted
 * into LOG_MAX_LINE bytes first (cut with "..."), then escaped: a control
 * byte or a byte >= 0x7f becomes \xNN, which can make the text up to four
 * times longer, hence LOG_OUT.  The strerror() text is added after the
 * escaping, unescaped and outside the cut, because it is ours and it is
 * the part of a warning one needs most.  Times are local (localtime_r).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_STAMP	48	/* "YYYY-MM-DD HH:MM:SS.mmm LEVEL " and slack */
#define LOG_ERRNO	128	/* ": strerror text" */
#define LOG_OUT		(LOG_STAMP + 4 * LOG_MAX_LINE + LOG_ERRNO + 1)
#define LOG_FATAL	(LOG_ERROR + 1)	/* label index; never filtered */

static enum log_level log_threshold = LOG_INFO;
static int log_tz_done;
static const char *const log_labels[] = {
	"DEBUG", "INFO", "NOTICE", "WARN", "ERROR", "FATAL"
};

/* Byte c as written in a log line (cstyle 0: only \xNN escapes) or by
 * log_escape() (1: C escapes where C has one); returns its length. */
static size_t
escape_byte(unsigned char c, int cstyle, char e[4])
{
	static const char hex[] = "0123456789abcdef";
	char x = '\0';

	if (cstyle) {
		switch (c) {
		case '\n': x = 'n'; break;
		case '\r': x = 'r'; break;
		case '\t': x = 't'; break;
		case '\\': x = '\\'; break;
		case '"': x = '"'; break;
		}
	}
	if (x != '\0') {
		e[0] = '\\';
		e[1] = x;
		return 2;
	}
	if (c >= 0x20 && c < 0x7f) {
		e[0] = (char)c;
		return 1;
	}
	e[0] = '\\';
	e[1] = 'x';
	e[2] = hex[c >> 4];
	e[3] = hex[c & 15];
	return 4;
}

char *
log_escape(char *out, size_t cap, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t i, j = 0, k, need = 0, room;
	char e[4];

	if (cap == 0)
		return out;
	/* Measure first (stopping once it cannot fit), so the cut falls
	 * between whole escapes and leaves room for "...". */
	for (i = 0; i < n && need <= cap - 1; i++)
		need += escape_byte(p[i], 1, e);
	room = need <= cap - 1 ? cap - 1 : cap - 1 >= 3 ? cap - 4 : 0;
	for (i = 0; i < n && j + (k = escape_byte(p[i], 1, e)) <= room; i++) {
		memcpy(out + j, e, k);
		j += k;
	}
	if (need > cap - 1) {
		k = cap - 1 - j < 3 ? cap - 1 - j : 3;
		memcpy(out + j, "...", k);
		j += k;
	}
	out[j] = '\0';
	return out;
}

/* What snprintf() wrote into cap bytes, given what it returned. */
static size_t
written(int r, size_t cap)
{
	return r < 0 ? 0 : (size_t)r < cap ? (size_t)r : cap - 1;
}

static void
log_write(const char *buf, size_t len)
{
	ssize_t r;

	while (len > 0) {
		if ((r = write(STDERR_FILENO, buf, len)) < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;	/* nowhere left to report it */
		buf += r;
		len -= (size_t)r;
	}
}

static void
log_vlog(int level, int err, const char *fmt, va_list ap)
{
	char msg[LOG_MAX_LINE], out[LOG_OUT];
	struct timespec ts;
	struct tm tm;
	size_t n, i;
	int r;

	if (level < (int)log_threshold)
		return;
	r = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (r < 0)
		snprintf(msg, sizeof(msg), "(bad log format \"%s\")", fmt);
	else if ((size_t)r >= sizeof(msg))
		memcpy(msg + sizeof(msg) - 4, "...", 4);
	if (!log_tz_done) {
		tzset();	/* localtime_r() need not do it itself */
		log_tz_done = 1;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	if (localtime_r(&ts.tv_sec, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	n = strftime(out, LOG_STAMP, "%Y-%m-%d %H:%M:%S", &tm);
	r = snprintf(out + n, LOG_STAMP - n, ".%03ld %s ",
	    (long)(ts.tv_nsec / 1000000), log_labels[level]);
	n += written(r, LOG_STAMP - n);
	for (i = 0; msg[i] != '\0'; i++)
		n += escape_byte((unsigned char)msg[i], 0, out + n);
	if (err >= 0) {
		r = snprintf(out + n, LOG_ERRNO, ": %s", strerror(err));
		n += written(r, LOG_ERRNO);
	}
	out[n++] = '\n';
	log_write(out, n);
}

/* Each entry point saves errno first (vsnprintf may change it) and puts
 * it back, so "log_warn(...); if (errno == ...)" still works. */
#define LOG_FUNC(name, level, with_errno)				\
void									\
name(const char *fmt, ...)						\
{									\
	int saved = errno;						\
	va_list ap;							\
	va_start(ap, fmt);						\
	log_vlog(level, with_errno ? saved : -1, fmt, ap);		\
	va_end(ap);							\
	errno = saved;							\
}

LOG_FUNC(log_debug, LOG_DEBUG, 0)
LOG_FUNC(log_info, LOG_INFO, 0)
LOG_FUNC(log_notice, LOG_NOTICE, 0)
LOG_FUNC(log_warn, LOG_WARN, 1)
LOG_FUNC(log_warnx, LOG_WARN, 0)
LOG_FUNC(log_error, LOG_ERROR, 0)

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_FATAL, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_FATAL, -1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
log_set_level(enum log_level level)
{
	if (level >= LOG_DEBUG && level <= LOG_ERROR)
		log_threshold = level;
}

enum log_level
log_get_level(void)
{
	return log_threshold;
}

int
log_level_from_name(const char *name)
{
	int i;
	size_t k;

	/* ASCII case-insensitive against the labels: & ~0x20 upper-cases
	 * a letter and turns nothing else into one. */
	for (i = LOG_DEBUG; i <= LOG_ERROR; i++) {
		for (k = 0; name[k] != '\0' &&
		    (name[k] & ~0x20) == log_labels[i][k]; k++)
			;
		if (name[k] == '\0' && log_labels[i][k] == '\0')
			return i;
	}
	return -1;
}
