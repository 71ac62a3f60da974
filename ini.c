/*
 * ini.c - setting.ini reader: a line at a time into a fixed buffer, from a
 * file or from memory (src_getc() hides which).  The first byte that does
 * not fit ends parsing with "line too long", so the rest of a long line is
 * never read as lines of its own.  Parsing stops at the first error: a pool
 * must not start on half a configuration.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ini.h"

#define INI_HANDLER_ERR	256	/* room for a handler's own message */

struct ini_src {
	FILE *f;		/* the file, or NULL for text in memory */
	const char *text;
	size_t len, off;
	int bom;		/* a BOM may still follow: nothing read yet */
};

enum { INI_EOF, INI_LINE, INI_TOO_LONG, INI_NUL, INI_READ_ERR };

static int
src_getc(struct ini_src *s)
{
	if (s->f != NULL)
		return getc(s->f);
	return s->off < s->len ? (unsigned char)s->text[s->off++] : EOF;
}

/* The next line, without its LF or CRLF, NUL-terminated in buf (which has
 * room for the line, the CR of a CRLF and the NUL). */
static int
read_line(struct ini_src *s, char buf[INI_MAX_LINE + 2])
{
	size_t len = 0;
	int ch;

	while ((ch = src_getc(s)) != EOF && ch != '\n') {
		if (ch == '\0')
			return INI_NUL;
		if (len == INI_MAX_LINE + 1)
			return INI_TOO_LONG;
		buf[len++] = (char)ch;
		if (s->bom && len == 3) {
			s->bom = 0;
			if (memcmp(buf, "\xef\xbb\xbf", 3) == 0)
				len = 0;
		}
	}
	s->bom = 0;
	if (ch == EOF && s->f != NULL && ferror(s->f))
		return INI_READ_ERR;
	if (ch == EOF && len == 0)
		return INI_EOF;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len > INI_MAX_LINE)
		return INI_TOO_LONG;
	buf[len] = '\0';
	return INI_LINE;
}

/* Drops white space at both ends of [p, end); returns the new start and
 * NUL-terminates at the new end.  isspace() is ASCII in the C locale,
 * which the pool never leaves (and a line holds no '\n'). */
static char *
trim(char *p, char *end)
{
	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	return p;
}

/* One line: a header updates section, a key line points *name and *value
 * into line.  Returns NULL or why the line is wrong.  section is "" before
 * the first header (empty names are refused, so "" is never a real one). */
static const char *
parse_line(char *line, char section[INI_MAX_SECTION + 1], char **name,
    char **value)
{
	char *p = trim(line, line + strlen(line)), *q;
	size_t n;

	*name = *value = NULL;
	if (*p == '\0' || *p == '#' || *p == ';')
		return NULL;
	if (*p == '[') {
		if ((q = strchr(p + 1, ']')) == NULL)
			return "missing ']'";
		if (q[1] != '\0')
			return "junk after ']'";
		if ((n = (size_t)(q - p - 1)) == 0)
			return "empty section name";
		if (n > INI_MAX_SECTION)
			return "section name too long";
		memcpy(section, p + 1, n);
		section[n] = '\0';
		return NULL;
	}
	/* configparser splits at the first '=' or ':', whichever it is. */
	q = p + strcspn(p, "=:");
	if (*q == '\0')
		return "missing '=' or ':'";
	*value = trim(q + 1, q + strlen(q));
	*name = trim(p, q);
	if (**name == '\0')
		return "empty name";
	if (section[0] == '\0')
		return "key outside of any section";
	if (strlen(*name) > INI_MAX_NAME)
		return "name too long";
	if (strlen(*value) > INI_MAX_VALUE)
		return "value too long";
	return NULL;
}

/* "name:lineno: reason", or "name: reason" for lineno 0; returns -1. */
static int
set_err(char *err, size_t errlen, const char *name, int lineno,
    const char *reason)
{
	if (err == NULL)
		return -1;
	if (lineno > 0)
		snprintf(err, errlen, "%s:%d: %s", name, lineno, reason);
	else
		snprintf(err, errlen, "%s: %s", name, reason);
	return -1;
}

static int
ini_run(const char *src_name, struct ini_src *s, ini_handler *fn,
    void *user, char *err, size_t errlen)
{
	char line[INI_MAX_LINE + 2], section[INI_MAX_SECTION + 1] = "";
	char msg[INI_HANDLER_ERR], *name, *value;
	const char *reason;
	int lineno, r;

	for (lineno = 1;; lineno++) {
		if (lineno == INT_MAX)
			return set_err(err, errlen, src_name, lineno,
			    "too many lines");
		r = read_line(s, line);
		if (r == INI_EOF)
			return 0;
		if (r == INI_READ_ERR)
			return set_err(err, errlen, src_name, 0,
			    strerror(errno));
		reason = r == INI_TOO_LONG ? "line too long" :
		    r == INI_NUL ? "NUL byte in line" :
		    parse_line(line, section, &name, &value);
		if (reason == NULL && name != NULL) {
			msg[0] = '\0';
			if (fn(user, section, name, value, lineno, msg,
			    sizeof(msg)) != 0) {
				msg[sizeof(msg) - 1] = '\0';
				reason = msg[0] != '\0' ? msg :
				    "rejected by handler";
			}
		}
		if (reason != NULL)
			return set_err(err, errlen, src_name, lineno, reason);
	}
}

int
ini_parse_file(const char *path, ini_handler *fn, void *user, char *err,
    size_t errlen)
{
	struct ini_src s = { NULL, NULL, 0, 0, 1 };
	int r;

	if ((s.f = fopen(path, "rb")) == NULL)
		return set_err(err, errlen, path, 0, strerror(errno));
	r = ini_run(path, &s, fn, user, err, errlen);
	fclose(s.f);
	return r;
}

int
ini_parse_string(const char *name, const char *text, size_t len,
    ini_handler *fn, void *user, char *err, size_t errlen)
{
	struct ini_src s = { NULL, text, len, 0, 1 };

	return ini_run(name, &s, fn, user, err, errlen);
}
