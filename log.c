/*
 * log.c - one line per event on stderr, built whole in a stack buffer and
 * handed to a single write(2), so lines from processes sharing stderr do
 * not mix mid-line.  The message is formatted into LOG_MAX_LINE bytes (cut
 * with "..."), then escaped, which can make it four times longer, hence
 * LOG_OUT.  The strerror() text is added after the escaping and outside
 * the cut: it is ours, and the part of a warning one needs most.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_STAMP	48	/* "YYYY-MM-DD HH:MM:SS.mmm LEVEL ", slack */
#define LOG_ERRNO	128	/* ": strerror text" */
#define LOG_OUT		(LOG_STAMP + 4 * LOG_MAX_LINE + LOG_ERRNO + 1)
#define LOG_FATAL	(LOG_ERROR + 1)	/* a label, never filtered */

static enum log_level log_threshold = LOG_INFO;
static int log_tz_done;
static const char *const log_labels[] = {
	"DEBUG", "INFO", "NOTICE", "WARN", "ERROR", "FATAL"
};

/* Byte c as a log line shows it (cstyle 0: \xNN unless printable ASCII)
 * or as log_escape() does (1: C escapes where C has one) into e; returns
 * its length (a C escape uses the first two of the four bytes). */
static size_t
escape_byte(unsigned char c, int cstyle, char e[4])
{
	static const char hex[] = "0123456789abcdef";
	static const char from[] = "\n\r\t\\\"", to[] = "nrt\\\"";
	const char *x = cstyle ? memchr(from, c, sizeof(from) - 1) : NULL;

	if (x != NULL || c < 0x20 || c >= 0x7f) {
		e[0] = '\\';
		e[1] = x != NULL ? to[x - from] : 'x';
		e[2] = hex[c >> 4];
		e[3] = hex[c & 15];
		return x != NULL ? 2 : 4;
	}
	e[0] = (char)c;
	return 1;
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

/* errno is saved first and put back, so "log_warn(...); if (errno == ...)"
 * still works. */
static void
log_vlog(int level, int with_errno, const char *fmt, va_list ap)
{
	char msg[LOG_MAX_LINE], out[LOG_OUT];
	struct timespec ts;
	struct tm tm;
	size_t n, i;
	int r, saved = errno;

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
	snprintf(out + n, LOG_STAMP - n, ".%03ld %s ",
	    (long)(ts.tv_nsec / 1000000), log_labels[level]);
	n += strlen(out + n);
	for (i = 0; msg[i] != '\0'; i++)
		n += escape_byte((unsigned char)msg[i], 0, out + n);
	if (with_errno) {
		snprintf(out + n, LOG_ERRNO, ": %s", strerror(saved));
		n += strlen(out + n);
	}
	out[n++] = '\n';
	log_write(out, n);
	errno = saved;
}

/* The entry points differ in level, errno and what follows: fatal*()
 * exit(1), the others return. */
#define LOG_FUNC(name, level, with_errno, then)				\
void									\
name(const char *fmt, ...)						\
{									\
	va_list ap;							\
	va_start(ap, fmt);						\
	log_vlog(level, with_errno, fmt, ap);				\
	va_end(ap);							\
	then;								\
}

LOG_FUNC(log_debug, LOG_DEBUG, 0, return)
LOG_FUNC(log_info, LOG_INFO, 0, return)
LOG_FUNC(log_notice, LOG_NOTICE, 0, return)
LOG_FUNC(log_warn, LOG_WARN, 1, return)
LOG_FUNC(log_warnx, LOG_WARN, 0, return)
LOG_FUNC(log_error, LOG_ERROR, 0, return)
LOG_FUNC(fatal, LOG_FATAL, 1, exit(1))
LOG_FUNC(fatalx, LOG_FATAL, 0, exit(1))

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

/* strcasecmp() is ASCII in the C locale, which the pool never leaves. */
int
log_level_from_name(const char *name)
{
	int i;

	for (i = LOG_DEBUG; i <= LOG_ERROR; i++)
		if (strcasecmp(name, log_labels[i]) == 0)
			return i;
	return -1;
}
