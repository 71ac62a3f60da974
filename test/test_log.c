/*
 * test_log.c - log_escape() edge cases, and the lines log_*() write,
 * captured by pointing stderr (fd 2) at a temporary file.
 */
#include <errno.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "log.h"

#define STAMP_LEN 23	/* "YYYY-MM-DD HH:MM:SS.mmm" */
#define CAP_MAX (8 * LOG_MAX_LINE)

static FILE *cap_file;
static int cap_saved_fd = -1;
static char cap_buf[CAP_MAX];

static void
capture_start(void)
{
	fflush(stderr);
	cap_file = tmpfile();
	cap_saved_fd = dup(STDERR_FILENO);
	if (cap_file == NULL || cap_saved_fd < 0 ||
	    dup2(fileno(cap_file), STDERR_FILENO) < 0) {
		perror("test_log: capture");
		exit(2);
	}
}

/* Ends the capture; returns what was written to fd 2, NUL-terminated. */
static const char *
capture_end(void)
{
	size_t n;

	dup2(cap_saved_fd, STDERR_FILENO);
	close(cap_saved_fd);
	rewind(cap_file);
	n = fread(cap_buf, 1, sizeof(cap_buf) - 1, cap_file);
	cap_buf[n] = '\0';
	fclose(cap_file);
	return cap_buf;
}

static int
escapes_to(const void *data, size_t n, size_t cap, const char *want)
{
	char out[256];

	memset(out, 'Z', sizeof(out));
	log_escape(out, cap, data, n);
	if (strcmp(out, want) != 0 || out[cap] != 'Z') {
		fprintf(stderr, "escape(cap %zu): got \"%s\"\n", cap, out);
		return 0;
	}
	return 1;
}

static void
test_escape(void)
{
	char out[16], *big;
	size_t i;

	CHECK(escapes_to("abc", 3, 16, "abc"));
	CHECK(escapes_to("", 0, 16, ""));
	CHECK(escapes_to(NULL, 0, 1, ""));
	CHECK(escapes_to("\0\x01\x1f\x7f\x80\xff", 6, 64,
	    "\\x00\\x01\\x1f\\x7f\\x80\\xff"));
	CHECK(escapes_to("a\nb\rc\td\\e\"f' ~", 14, 64,
	    "a\\nb\\rc\\td\\\\e\\\"f' ~"));
	/* exactly fitting: 4 bytes of output in cap 5, no "..." */
	CHECK(escapes_to("abcd", 4, 5, "abcd"));
	CHECK(escapes_to("\x01", 1, 5, "\\x01"));
	/* one byte too many: cut so that "..." fits */
	CHECK(escapes_to("abcde", 5, 5, "a..."));
	CHECK(escapes_to("abcd", 4, 4, "..."));
	CHECK(escapes_to("abcdef", 6, 7, "abcdef"));
	CHECK(escapes_to("abcdefg", 7, 7, "abc..."));
	/* never half an escape before the "..." */
	CHECK(escapes_to("\x01\x02", 2, 8, "\\x01..."));
	CHECK(escapes_to("\x01\x02", 2, 7, "..."));
	CHECK(escapes_to("a\n", 2, 4, "a\\n"));
	CHECK(escapes_to("ab\n", 3, 4, "..."));
	CHECK(escapes_to("abc\x01x", 5, 8, "abc..."));
	CHECK(escapes_to("ab\n", 3, 5, "ab\\n"));
	/* caps too small for "..." get what fits of it */
	CHECK(escapes_to("abc", 3, 1, ""));
	CHECK(escapes_to("abc", 3, 2, "."));
	CHECK(escapes_to("abc", 3, 3, ".."));
	CHECK(escapes_to("ab", 2, 3, "ab"));
	/* cap 0 writes nothing */
	memset(out, 'Z', sizeof(out));
	CHECK(log_escape(out, 0, "abc", 3) == out && out[0] == 'Z');
	/* a megabyte into 16 bytes */
	big = malloc(1 << 20);
	CHECK(big != NULL);
	if (big != NULL) {
		for (i = 0; i < 1 << 20; i++)
			big[i] = (char)i;
		CHECK(escapes_to(big, 1 << 20, 16, "\\x00\\x01\\x02..."));
		CHECK(escapes_to(&big['A'], (1 << 20) - 'A', 16,
		    "ABCDEFGHIJKL..."));
		free(big);
	}
}

static void
test_levels(void)
{
	CHECK(log_get_level() == LOG_INFO);
	CHECK(log_level_from_name("debug") == LOG_DEBUG);
	CHECK(log_level_from_name("info") == LOG_INFO);
	CHECK(log_level_from_name("notice") == LOG_NOTICE);
	CHECK(log_level_from_name("warn") == LOG_WARN);
	CHECK(log_level_from_name("error") == LOG_ERROR);
	CHECK(log_level_from_name("Error") == LOG_ERROR);
	CHECK(log_level_from_name("WARN") == LOG_WARN);
	CHECK(log_level_from_name("warning") == -1);
	CHECK(log_level_from_name("war") == -1);
	CHECK(log_level_from_name("") == -1);
	CHECK(log_level_from_name("inf@") == -1);
	log_set_level(LOG_ERROR);
	CHECK(log_get_level() == LOG_ERROR);
	log_set_level((enum log_level)99);
	CHECK(log_get_level() == LOG_ERROR);
	log_set_level(LOG_INFO);
}

/* Checks one line's "YYYY-MM-DD HH:MM:SS.mmm " and that it is the local
 * time now; returns the rest of the line or NULL. */
static const char *
after_stamp(const char *s)
{
	static const char shape[] = "dddd-dd-dd dd:dd:dd.ddd ";
	struct tm tm;
	time_t t;
	int i, ms;

	for (i = 0; shape[i] != '\0'; i++)
		if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' :
		    s[i] != shape[i])
			return NULL;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%d-%d-%d %d:%d:%d.%d", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
		return NULL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (t == (time_t)-1 || t > time(NULL) + 1 || t < time(NULL) - 60)
		return NULL;
	return s + STAMP_LEN + 1;
}

static void
test_lines(void)
{
	const char *out, *p;
	char want[CAP_MAX];
	int e;

	capture_start();
	log_debug("not shown %d", 1);
	log_info("hello %s %d", "world", 42);
	log_notice("n");
	log_warnx("w");
	log_error("e");
	log_set_level(LOG_WARN);
	log_info("not shown either");
	log_notice("nor this");
	log_warnx("shown");
	log_set_level(LOG_DEBUG);
	log_debug("debug");
	log_set_level(LOG_INFO);
	out = capture_end();

	p = after_stamp(out);
	CHECKF(p != NULL && strncmp(p, "INFO hello world 42\n", 20) == 0,
	    "%s", out);
	if (p == NULL)
		return;
	p = after_stamp(p + 20);
	CHECKF(p != NULL && strncmp(p, "NOTICE n\n", 9) == 0, "%s", out);
	p = p != NULL ? after_stamp(p + 9) : NULL;
	CHECKF(p != NULL && strncmp(p, "WARN w\n", 7) == 0, "%s", out);
	p = p != NULL ? after_stamp(p + 7) : NULL;
	CHECKF(p != NULL && strncmp(p, "ERROR e\n", 8) == 0, "%s", out);
	p = p != NULL ? after_stamp(p + 8) : NULL;
	CHECKF(p != NULL && strncmp(p, "WARN shown\n", 11) == 0, "%s", out);
	p = p != NULL ? after_stamp(p + 11) : NULL;
	CHECKF(p != NULL && strcmp(p, "DEBUG debug\n") == 0, "%s", out);

	/* Escaping: a newline cannot start a forged line. */
	capture_start();
	log_info("a\nb\x01\\c\xc3\xa9\t%s",
	    "x\r\n2026-01-01 00:00:00.000 INFO");
	out = capture_end();
	p = after_stamp(out);
	CHECKF(p != NULL && strcmp(p, "INFO a\\x0ab\\x01\\c\\xc3\\xa9"
	    "\\x09x\\x0d\\x0a2026-01-01 00:00:00.000 INFO\n") == 0, "%s", out);

	/* log_warn appends strerror(errno) and leaves errno alone. */
	capture_start();
	errno = ENOENT;
	log_warn("open %s", "setting.ini");
	e = errno;
	errno = EACCES;
	log_warnx("no errno");
	out = capture_end();
	CHECK(e == ENOENT);
	snprintf(want, sizeof(want), "WARN open setting.ini: %s\n",
	    strerror(ENOENT));
	p = after_stamp(out);
	CHECKF(p != NULL && strncmp(p, want, strlen(want)) == 0, "%s", out);
	p = p != NULL ? after_stamp(p + strlen(want)) : NULL;
	CHECKF(p != NULL && strcmp(p, "WARN no errno\n") == 0, "%s", out);

	/* errno survives even when the write fails (EBADF on a closed fd). */
	capture_start();
	close(STDERR_FILENO);
	errno = ENOENT;
	log_warn("lost");
	e = errno;
	capture_end();
	CHECK(e == ENOENT);
}

static void
test_long(void)
{
	static char text[2 * LOG_MAX_LINE];
	const char *out, *p;
	size_t n;

	/* LOG_MAX_LINE - 1 bytes fit; one more is cut to end in "...". */
	memset(text, 'x', sizeof(text));
	text[LOG_MAX_LINE - 1] = '\0';
	capture_start();
	log_info("%s", text);
	out = capture_end();
	p = after_stamp(out);
	n = p != NULL ? strspn(p + 5, "x") : 0;
	CHECKF(p != NULL && n == LOG_MAX_LINE - 1 && strcmp(p + 5 + n, "\n")
	    == 0, "%zu", n);

	text[LOG_MAX_LINE - 1] = 'x';
	text[sizeof(text) - 1] = '\0';
	capture_start();
	log_info("%s", text);
	out = capture_end();
	p = after_stamp(out);
	n = p != NULL ? strspn(p + 5, "x") : 0;
	CHECKF(p != NULL && n == LOG_MAX_LINE - 4 &&
	    strcmp(p + 5 + n, "...\n") == 0, "%zu", n);

	/* All escapes: the line grows to four times the message. */
	memset(text, 1, LOG_MAX_LINE - 1);
	text[LOG_MAX_LINE - 1] = '\0';
	errno = EINVAL;
	capture_start();
	log_warn("%s", text);
	out = capture_end();
	p = after_stamp(out);
	CHECK(p != NULL && strlen(p) == 5 + 4 * (LOG_MAX_LINE - 1) + 2 +
	    strlen(strerror(EINVAL)) + 1);
	CHECK(p != NULL && strncmp(p + 5, "\\x01\\x01", 8) == 0);
}

/* fatal() and fatalx() log at FATAL whatever the level, and exit 1. */
static void
test_fatal(int with_errno)
{
	const char *out, *p;
	char want[256];
	pid_t pid;
	int status = 0;

	log_set_level(LOG_ERROR);
	capture_start();
	fflush(stdout);
	if ((pid = fork()) == 0) {
		errno = ENOENT;
		if (with_errno)
			fatal("cannot %s", "go on");
		fatalx("cannot %s", "go on");
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	out = capture_end();
	log_set_level(LOG_INFO);
	CHECK(pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 1);
	snprintf(want, sizeof(want), "FATAL cannot go on%s%s\n",
	    with_errno ? ": " : "", with_errno ? strerror(ENOENT) : "");
	p = after_stamp(out);
	CHECKF(p != NULL && strcmp(p, want) == 0, "%s", out);
}

int
main(void)
{
	(void)test_vectors;	/* test.h's, unused here: no -Wunused warning */
	(void)test_read_file;
	test_escape();
	test_levels();
	test_lines();
	test_long();
	test_fatal(1);
	test_fatal(0);
	TEST_END("log");
}
