/*
 * test_ini.c - the seed's setting.ini, golden edge cases (test/ini/), every
 * error with its line number, limits at and one past the edge.
 * The limit tests build their input from the INI_MAX_* macros, so the
 * whole test also passes with smaller limits, down to -DINI_MAX_LINE=100
 * -DINI_MAX_VALUE=40 -DINI_MAX_NAME=20 -DINI_MAX_SECTION=24 (below that the
 * seed and edge files themselves no longer fit).
 */
#include <errno.h>

#include "test.h"
#include "ini.h"

#define REC_MAX 8192

/* The handler writes each call as "LINE [SECTION] NAME=VALUE\n". */
struct rec {
	char out[REC_MAX];
	size_t len;
	int calls;
	int stop_line;		/* return 1 at this line; 0: never */
	const char *stop_msg;	/* written into err when stopping */
};

static int
record(void *user, const char *section, const char *name, const char *value,
    int lineno, char *err, size_t errlen)
{
	struct rec *r = user;
	int n;

	r->calls++;
	n = snprintf(r->out + r->len, sizeof(r->out) - r->len,
	    "%d [%s] %s=%s\n", lineno, section, name, value);
	if (n > 0 && (size_t)n < sizeof(r->out) - r->len)
		r->len += (size_t)n;
	if (lineno == r->stop_line) {
		snprintf(err, errlen, "%s", r->stop_msg);
		return 1;
	}
	return 0;
}

static int
parse(struct rec *r, const char *text, size_t len, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	return ini_parse_string("t", text, len, record, r, err, errlen);
}

/* Parse text (a C string) and expect exactly the error want. */
static void
expect_err(const char *text, const char *want, int line)
{
	struct rec r;
	char err[300];

	err[0] = '\0';
	CHECKF(parse(&r, text, strlen(text), err, sizeof(err)) == -1 &&
	    strcmp(err, want) == 0, "case at line %d: got \"%s\", want \"%s\"",
	    line, err, want);
}

static const char seed_calls[] =
    "2 [bitcoin.conf] rpcuser=user\n"
    "3 [bitcoin.conf] rpcpassword=password\n"
    "4 [bitcoin.conf] host=http://127.0.0.1\n"
    "5 [bitcoin.conf] port=8332\n"
    "8 [difficulty] start_difficulty=1\n"
    "11 [address] btc_address=1BitcoinEaterAddressDontSendf59kuE\n";

static void
test_seed(void)
{
	struct rec r;
	char err[300] = "", *text, crlf[1024];
	size_t len, i, n = 0;

	memset(&r, 0, sizeof(r));
	CHECK(ini_parse_file("test/ini/seed.ini", record, &r, err,
	    sizeof(err)) == 0);
	CHECKF(strcmp(r.out, seed_calls) == 0, "%s%s", err, r.out);
	CHECK(r.calls == 6);

	/* The same with CRLF line ends and a BOM, from memory. */
	text = test_read_file("test/ini/seed.ini", &len);
	CHECK(text != NULL && len < sizeof(crlf) / 2 - 3);
	if (text == NULL || len >= sizeof(crlf) / 2 - 3)
		return;
	memcpy(crlf, "\xef\xbb\xbf", 3);
	for (i = 0, n = 3; i < len; i++) {
		if (text[i] == '\n')
			crlf[n++] = '\r';
		crlf[n++] = text[i];
	}
	CHECK(parse(&r, crlf, n, err, sizeof(err)) == 0);
	CHECKF(strcmp(r.out, seed_calls) == 0, "%s%s", err, r.out);

	/* Every prefix, copied to an exact-size buffer so that a read past
	 * len is caught by ASan; no prefix may call the handler with more
	 * than the full file's calls, and the full file gives them all. */
	for (i = 0; i <= len; i++) {
		char *p = malloc(i + 1);
		if (p == NULL)
			break;
		memcpy(p, text, i);
		parse(&r, i > 0 ? p : NULL, i, err, sizeof(err));
		CHECKF(strncmp(r.out, seed_calls, r.len) == 0 ||
		    (r.len > 0 && strncmp(r.out, seed_calls, r.len - 1) == 0),
		    "prefix %zu: %s", i, r.out);
		free(p);
	}
	free(text);
}

/* test/ini/edge.ini against test/ini/edge.expected, line by line. */
static void
test_golden(void)
{
	struct rec r;
	char err[300] = "", *want, *got, *w, *g, *wn, *gn;
	size_t len;
	int line = 1;

	memset(&r, 0, sizeof(r));
	CHECKF(ini_parse_file("test/ini/edge.ini", record, &r, err,
	    sizeof(err)) == 0, "%s", err);
	want = test_read_file("test/ini/edge.expected", &len);
	CHECK(want != NULL);
	if (want == NULL)
		return;
	got = r.out;
	for (w = want, g = got; *w != '\0' || *g != '\0'; w = wn, g = gn) {
		wn = strchr(w, '\n');
		gn = strchr(g, '\n');
		wn = wn != NULL ? wn + 1 : w + strlen(w);
		gn = gn != NULL ? gn + 1 : g + strlen(g);
		CHECKF(wn - w == gn - g && memcmp(w, g, (size_t)(wn - w)) == 0,
		    "edge.expected:%d: want \"%.*s\" got \"%.*s\"", line,
		    (int)(wn - w), w, (int)(gn - g), g);
		line++;
	}
	CHECK(r.calls == 16);
	free(want);
}

static void
test_errors(void)
{
	struct rec r;
	char err[300];

	expect_err("x = 1\n[a]\n", "t:1: key outside of any section", __LINE__);
	expect_err("# c\n\n[a\n", "t:3: missing ']'", __LINE__);
	expect_err("[a] x\n", "t:1: junk after ']'", __LINE__);
	expect_err("[a]\n[a] # c\n", "t:2: junk after ']'", __LINE__);
	expect_err("[]\n", "t:1: empty section name", __LINE__);
	expect_err("[a]\nb = 1\njust words\n", "t:3: missing '=' or ':'",
	    __LINE__);
	expect_err("[a]\n = v\n", "t:2: empty name", __LINE__);
	expect_err("[a]\r\n:v\r\n", "t:2: empty name", __LINE__);
	expect_err("\xef\xbb\xbf\xef\xbb\xbf[a]\n", "t:1: missing '=' or ':'",
	    __LINE__);

	CHECK(parse(&r, "[a]\nx = 1\0\n", 10, err, sizeof(err)) == -1);
	CHECKF(strcmp(err, "t:2: NUL byte in line") == 0, "%s", err);
	CHECK(r.calls == 0);

	/* Through a file, for the path in the message. */
	memset(&r, 0, sizeof(r));
	CHECK(ini_parse_file("test/ini/bad.ini", record, &r, err,
	    sizeof(err)) == -1);
	CHECKF(strcmp(err, "test/ini/bad.ini:4: missing '=' or ':'") == 0,
	    "%s", err);
	CHECK(r.calls == 1);
}

static void
test_files(void)
{
	struct rec r;
	char err[300], want[300];

	memset(&r, 0, sizeof(r));
	CHECK(ini_parse_file("test/ini/no-such.ini", record, &r, err,
	    sizeof(err)) == -1);
	snprintf(want, sizeof(want), "test/ini/no-such.ini: %s",
	    strerror(ENOENT));
	CHECKF(strcmp(err, want) == 0, "%s", err);
	/* A directory opens on Linux but fails on the first read. */
	CHECK(ini_parse_file("test/ini", record, &r, err, sizeof(err)) == -1);
	CHECKF(strncmp(err, "test/ini: ", 10) == 0, "%s", err);
	CHECK(r.calls == 0);

	/* The sample the project ships must parse. */
	memset(&r, 0, sizeof(r));
	CHECKF(ini_parse_file("setting.ini", record, &r, err, sizeof(err)) == 0,
	    "%s", err);
	CHECK(r.calls > 0);
}

/* A text of the form head + n copies of c + tail, in a static buffer. */
static char *
mk(const char *head, int c, size_t n, const char *tail)
{
	static char buf[INI_MAX_LINE * 2 + 64];
	size_t h = strlen(head);

	if (h + n + strlen(tail) >= sizeof(buf))
		return strcpy(buf, "buffer too small for test");
	memcpy(buf, head, h);
	memset(buf + h, c, n);
	strcpy(buf + h + n, tail);
	return buf;
}

static void
test_limits(void)
{
	struct rec r;
	char err[300], *t;
	size_t n;

	/* Lines: INI_MAX_LINE bytes pass with LF, CRLF or at EOF. */
	t = mk("[a]\n#", 'x', INI_MAX_LINE - 1, "\nk = v\n");
	CHECKF(parse(&r, t, strlen(t), err, sizeof(err)) == 0, "%s", err);
	CHECK(r.calls == 1);
	t = mk("[a]\r\n#", 'x', INI_MAX_LINE - 1, "\r\nk = v\r\n");
	CHECKF(parse(&r, t, strlen(t), err, sizeof(err)) == 0, "%s", err);
	t = mk("[a]\n#", 'x', INI_MAX_LINE - 1, "");
	CHECKF(parse(&r, t, strlen(t), err, sizeof(err)) == 0, "%s", err);
	/* a key line padded with blanks to exactly the limit */
	t = mk("[a]\nk = v", ' ', INI_MAX_LINE - 5, "\n");
	CHECKF(parse(&r, t, strlen(t), err, sizeof(err)) == 0, "%s", err);
	CHECK(strcmp(r.out, "2 [a] k=v\n") == 0);

	/* One more byte is an error, and what follows the cut is not read
	 * as lines of its own. */
	t = mk("[a]\nk = v\n#", 'x', INI_MAX_LINE, "\n[b]\nz = 1\n");
	CHECK(parse(&r, t, strlen(t), err, sizeof(err)) == -1);
	CHECKF(strcmp(err, "t:3: line too long") == 0, "%s", err);
	CHECK(r.calls == 1);
	t = mk("[a]\n#", 'x', INI_MAX_LINE, "");
	CHECK(parse(&r, t, strlen(t), err, sizeof(err)) == -1);
	CHECKF(strcmp(err, "t:2: line too long") == 0, "%s", err);
	t = mk("[a]\n#", 'x', INI_MAX_LINE, "\r\n");
	CHECK(parse(&r, t, strlen(t), err, sizeof(err)) == -1);
	CHECKF(strcmp(err, "t:2: line too long") == 0, "%s", err);
	t = mk("[a]\n#", 'x', INI_MAX_LINE * 2, "[b]\nz = 1\n");
	CHECK(parse(&r, t, strlen(t), err, sizeof(err)) == -1);
	CHECKF(strcmp(err, "t:2: line too long") == 0, "%s", err);
	CHECK(r.calls == 0);

	/* Section names, names and values: at the limit and one past. */
	t = mk("[", 's', INI_MAX_SECTION, "]\nk = v\n");
	CHECKF(parse(&r, t, strlen(t), err, sizeof(err)) == 0, "%s", err);
	t = mk("[", 's', INI_MAX_SECTION + 1, "]\nk = v\n");
	CHECK(parse(&r, t, strlen(t), err, sizeof(err)) == -1);
	CHECKF(strcmp(err, "t:1: section name too long") == 0, "%s", err);
	t = mk("[a]\n", 'n', INI_MAX_NAME, " = v\n");
	CHECKF(parse(&r, t, strlen(t), err, sizeof(err)) == 0, "%s", err);
	t = mk("[a]\n", 'n', INI_MAX_NAME + 1, " = v\n");
	CHECK(parse(&r, t, strlen(t), err, sizeof(err)) == -1);
	CHECKF(strcmp(err, "t:2: name too long") == 0, "%s", err);
	t = mk("[a]\nk = ", 'v', INI_MAX_VALUE, "  \n");
	CHECKF(parse(&r, t, strlen(t), err, sizeof(err)) == 0, "%s", err);
	n = strlen(r.out);
	CHECK(n == strlen("2 [a] k=\n") + INI_MAX_VALUE);
	t = mk("[a]\nk = ", 'v', INI_MAX_VALUE + 1, "\n");
	CHECK(parse(&r, t, strlen(t), err, sizeof(err)) == -1);
	CHECKF(strcmp(err, "t:2: value too long") == 0, "%s", err);
	CHECK(r.calls == 0);
}

static void
test_handler_stop(void)
{
	const char *text = "[a]\nport = 1\nhost = x\nuser = y\n";
	struct rec r;
	char err[300], tiny[8];

	memset(&r, 0, sizeof(r));
	r.stop_line = 3;
	r.stop_msg = "bad host";
	CHECK(ini_parse_string("t", text, strlen(text), record, &r, err,
	    sizeof(err)) == -1);
	CHECKF(strcmp(err, "t:3: bad host") == 0, "%s", err);
	CHECK(r.calls == 2);

	memset(&r, 0, sizeof(r));
	r.stop_line = 2;
	r.stop_msg = "";
	CHECK(ini_parse_string("t", text, strlen(text), record, &r, err,
	    sizeof(err)) == -1);
	CHECKF(strcmp(err, "t:2: rejected by handler") == 0, "%s", err);
	CHECK(r.calls == 1);

	/* A small err buffer is cut and still terminated; none at all is
	 * allowed too. */
	memset(tiny, 'z', sizeof(tiny));
	CHECK(parse(&r, "[a", 2, tiny, sizeof(tiny)) == -1);
	CHECK(strcmp(tiny, "t:1: mi") == 0);
	CHECK(parse(&r, "[a", 2, NULL, 0) == -1);
	CHECK(parse(&r, "", 0, NULL, 0) == 0 && r.calls == 0);
}

int
main(void)
{
	(void)test_vectors;	/* test.h's, unused here: no -Wunused warning */
	test_seed();
	test_golden();
	test_errors();
	test_files();
	test_limits();
	test_handler_stop();
	TEST_END("ini");
}
