/*
 * test_json.c - the JSON parser and writer against JSONTestSuite and by hand.
 *
 * Every corpus file is parsed from a malloc'd buffer of its exact size (so
 * AddressSanitizer sees any over-read) and again ending at a PROT_NONE page
 * (so an over-read crashes on any build, qemu included).  Every prefix of
 * every file is parsed too: a prefix of a valid document must never be
 * called invalid, and once a prefix is invalid every longer one must be.
 */
/* 32-bit glibc fails readdir() with EOVERFLOW on file systems whose
 * directory offsets need 64 bits (ext4 under qemu-mips, for one). */
#define _FILE_OFFSET_BITS 64

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "json.h"
#include "test.h"

#define MAX_FILE	(512 * 1024)	/* largest corpus file is 250 KB */
#define MAX_TOKS	(128 * 1024)
#define PREFIX_MAX	2048	/* prefixes checked per n_/i_ file */

static struct json_tok toks_a[MAX_TOKS], toks_b[MAX_TOKS];
static char *guard_end;		/* first byte of the PROT_NONE page */

/* Maps the data pages plus one unreadable page after them.  MAP_ANONYMOUS
 * is not in POSIX 2008; /dev/zero gives the same mapping. */
static int
guard_init(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t data = ((size_t)MAX_FILE + (size_t)pg - 1) / (size_t)pg *
	    (size_t)pg;
	int fd = open("/dev/zero", O_RDWR);
	char *m;

	if (fd < 0 || pg <= 0)
		return -1;
	m = mmap(NULL, data + (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE,
	    fd, 0);
	close(fd);
	if (m == MAP_FAILED || mprotect(m + data, (size_t)pg, PROT_NONE) != 0)
		return -1;
	guard_end = m + data;
	return 0;
}

/* Count-only result, checked against a full parse into an exactly sized
 * array, which must give the same answer and fill every token. */
static int
parse_both(const char *s, size_t n, struct json_doc *doc)
{
	int c = json_parse(NULL, s, n, NULL, 0), r;

	r = json_parse(doc, s, n, toks_a, c > 0 ? (size_t)c : MAX_TOKS);
	CHECKF(r == c, "count %d, parse %d", c, r);
	if (c > 0) {
		CHECK(json_parse(doc, s, n, toks_a, (size_t)c - 1) ==
		    JSON_ERR_NOMEM);
		CHECK(json_parse(doc, s, n, toks_a, (size_t)c) == c);
		CHECK(doc->ntok == c && doc->toks[0].next == (uint32_t)c);
	}
	return c;
}

/* Parses s[0..n) from an exact-size heap copy; returns the count result. */
static int
parse_exact(const char *s, size_t n)
{
	char *b = malloc(n > 0 ? n : 1);
	int r;

	if (b == NULL)
		return -100;
	memcpy(b, s, n);
	r = json_parse(NULL, b, n, NULL, 0);
	free(b);
	return r;
}

/* Parses s[0..n) placed so that its last byte touches the guard page. */
static int
parse_guarded(const char *s, size_t n)
{
	char *b = guard_end - n;

	memcpy(b, s, n);
	return json_parse(NULL, b, n, NULL, 0);
}

static int
is_ws(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strchr(" \t\r\n", s[i]) == NULL || s[i] == '\0')
			return 0;
	return 1;
}

/*
 * Every prefix of s.  Always: no prefix is NOMEM in count mode, and once a
 * prefix is invalid (or too deep) every longer one is.  For a valid
 * document: a prefix is partial, or complete only where it must be -
 * the rest is white space, or the text is a bare number cut after a
 * digit ("12" of "123").
 */
static void
check_prefixes(const char *name, const char *s, size_t n, int valid)
{
	size_t k, lim = valid || n <= PREFIX_MAX ? n : PREFIX_MAX;
	int r, bad = 0, first = (int)strspn(s, " \t\r\n");

	for (k = 0; k <= lim; k++) {
		r = parse_guarded(s, k);
		if (k < 256)
			CHECKF(r == parse_exact(s, k), "%s prefix %zu", name, k);
		CHECKF(r != JSON_ERR_NOMEM, "%s prefix %zu", name, k);
		if (bad)
			CHECKF(r == JSON_ERR_INVALID || r == JSON_ERR_DEPTH,
			    "%s: prefix %zu gives %d after an invalid one",
			    name, k, r);
		bad = r == JSON_ERR_INVALID || r == JSON_ERR_DEPTH;
		if (!valid || k == n)
			continue;
		CHECKF(r == JSON_ERR_PARTIAL || r > 0, "%s: prefix %zu gives %d",
		    name, k, r);
		if (r > 0)
			CHECKF(is_ws(s + k, n - k) || (s[first] != '\0' &&
			    strchr("-0123456789", s[first]) != NULL &&
			    s[k - 1] >= '0' &&
			    s[k - 1] <= '9'), "%s: prefix %zu complete", name, k);
		else if (k > (size_t)first && is_ws(s + k, n - k))
			CHECKF(0, "%s: prefix %zu is the whole value", name, k);
	}
}

/* Re-emits token i of d through the writer; -1 when the writer cannot
 * express it (a key containing NUL). */
static int
emit(struct json_w *w, const struct json_doc *d, int i)
{
	static char buf[4096];
	const struct json_tok *t = &d->toks[i];
	int64_t iv;
	double dv;
	uint32_t k, j = (uint32_t)i + 1;
	int n;

	switch (t->type) {
	case JSON_NULL: json_w_null(w); return 0;
	case JSON_FALSE: json_w_bool(w, 0); return 0;
	case JSON_TRUE: json_w_bool(w, 1); return 0;
	case JSON_STRING:
		if ((n = json_string(d, i, buf, sizeof(buf))) < 0)
			return -1;
		json_w_strn(w, buf, (size_t)n);
		return 0;
	case JSON_NUMBER:
		if (json_int64(d, i, &iv) == 0)
			json_w_int(w, iv);
		else if (json_double(d, i, &dv) == 0)
			json_w_double(w, dv);
		else
			json_w_raw(w, d->src + t->start, t->len);
		return 0;
	}
	t->type == JSON_ARRAY ? json_w_arr(w) : json_w_obj(w);
	for (k = 0; k < t->size; k++) {
		if (t->type == JSON_OBJECT) {
			n = json_string(d, (int)j, buf, sizeof(buf));
			if (n < 0 || strlen(buf) != (size_t)n)
				return -1;
			json_w_key(w, buf);
			j++;
		}
		if (emit(w, d, (int)j) < 0)
			return -1;
		j = d->toks[j].next;
	}
	t->type == JSON_ARRAY ? json_w_arr_end(w) : json_w_obj_end(w);
	return 0;
}

/* Same tree, same decoded strings, same numbers. */
static int
same_values(const struct json_doc *a, const struct json_doc *b)
{
	static char sa[4096], sb[4096];
	int i, na, nb;
	int64_t ia, ib;
	double da, db;

	if (a->ntok != b->ntok)
		return 0;
	for (i = 0; i < a->ntok; i++) {
		const struct json_tok *x = &a->toks[i], *y = &b->toks[i];

		if (x->type != y->type || x->size != y->size ||
		    x->next != y->next)
			return 0;
		if (x->type == JSON_STRING) {
			na = json_string(a, i, sa, sizeof(sa));
			nb = json_string(b, i, sb, sizeof(sb));
			if (na < 0 || na != nb || memcmp(sa, sb, (size_t)na))
				return 0;
		} else if (x->type == JSON_NUMBER) {
			if (json_int64(a, i, &ia) == 0) {
				if (json_int64(b, i, &ib) != 0 || ia != ib)
					return 0;
			} else if (json_double(a, i, &da) == 0) {
				if (json_double(b, i, &db) != 0 ||
				    memcmp(&da, &db, sizeof(da)) != 0)
					return 0;
			} else if (x->len != y->len || memcmp(a->src + x->start,
			    b->src + y->start, x->len) != 0)
				return 0;
		}
	}
	return 1;
}

/* parse -> write -> parse; returns 1 when compared, 0 when skipped. */
static int
round_trip(const char *name, const struct json_doc *d)
{
	static char out[MAX_FILE];
	struct json_w w;
	struct json_doc d2;
	int n, r;

	json_w_init(&w, out, sizeof(out));
	if (emit(&w, d, 0) < 0)
		return 0;
	n = json_w_end(&w);
	CHECKF(n > 0, "%s: writer failed", name);
	if (n <= 0)
		return 1;
	r = json_parse(&d2, out, (size_t)n, toks_b, MAX_TOKS);
	CHECKF(r == d->ntok, "%s: rewritten text gives %d: %s", name, r, out);
	if (r == d->ntok)
		CHECKF(same_values(d, &d2), "%s: values differ: %s", name, out);
	return 1;
}

static void
check_file(const char *dir, const char *name, int kind, int *skipped)
{
	char path[1024];
	struct json_doc doc;
	size_t n;
	char *s;
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	s = test_read_file(path, &n);
	CHECKF(s != NULL && n <= MAX_FILE, "%s: cannot read", path);
	if (s == NULL || n > MAX_FILE) {
		free(s);
		return;
	}
	r = parse_both(s, n, &doc);
	CHECKF(r == parse_exact(s, n), "%s: exact-size copy differs", name);
	CHECKF(r == parse_guarded(s, n), "%s: guarded copy differs", name);
	if (kind == 'y')
		CHECKF(r > 0, "%s: rejected (%d)", name, r);
	if (kind == 'n')
		CHECKF(r < 0, "%s: accepted", name);
	/* Our side of "implementation defined": numbers of any size are
	 * JSON; lone surrogates, bad UTF-8, a BOM, 500 levels are not. */
	if (kind == 'i')
		CHECKF((r > 0) == (strncmp(name, "i_number_", 9) == 0),
		    "%s: %d", name, r);
	check_prefixes(name, s, n, kind == 'y');
	if (r > 0 && !round_trip(name, &doc))
		(*skipped)++;
	free(s);
}

static void
test_corpus(void)
{
	char dir[512];
	DIR *d;
	struct dirent *e;
	int ny = 0, nn = 0, ni = 0, skipped = 0;
	size_t l;

	snprintf(dir, sizeof(dir), "%s/json", test_vectors());
	d = opendir(dir);
	CHECKF(d != NULL, "cannot open %s", dir);
	if (d == NULL)
		return;
	for (;;) {
		errno = 0;	/* readdir() returns NULL at the end and on error */
		if ((e = readdir(d)) == NULL)
			break;
		l = strlen(e->d_name);
		if (l < 7 || strcmp(e->d_name + l - 5, ".json") != 0 ||
		    e->d_name[1] != '_' || strchr("yni", e->d_name[0]) == NULL)
			continue;
		ny += e->d_name[0] == 'y';
		nn += e->d_name[0] == 'n';
		ni += e->d_name[0] == 'i';
		check_file(dir, e->d_name, e->d_name[0], &skipped);
	}
	CHECKF(errno == 0, "readdir %s: %s", dir, strerror(errno));
	closedir(d);
	CHECKF(ny == 95 && nn == 188 && ni == 35, "corpus: %d y, %d n, %d i",
	    ny, nn, ni);
	/* Only y_object_escaped_null_in_key: json_w_key takes a C string. */
	CHECKF(skipped == 1, "%d documents not round-tripped", skipped);
}

/* Hand-picked partial/invalid boundaries. */
static void
test_partial(void)
{
	static const char *partial[] = { "", "   ", "tru", "[1", "\"\\u12",
	    "1.", "-", "[1,", "{\"a\"", "{\"a\":", "{", "\"\\ud800",
	    "\"\\ud800\\", "\"\\ud800\\u", "\"\\ud800\\udc", "\"\xe2\x82",
	    "\"\xf0\x9f\x98", "1e", "1e+", "[-", "{\"a\":1", "\"\\", "[[]" };
	static const char *invalid[] = { "trux", "[1,]", "\"\\udc",
	    "\"\\ud800\\u0", "\"\\ud800x", "\"\\ud800\\n", "01", "-01", "1.x",
	    "\"\xe0\x80", "\"\xed\xa0", "\"\xf4\x90", "\"\xc0", "\"\xf5",
	    "\xef\xbb\xbf[]", "[] x", "{,", "{\"a\",", "\"\t\"", "[1}", "{]",
	    "\"\\x\"", "[1 2]", "{\"a\" 1}", "nul ", "1 2", "\"\\U0041\"",
	    "[.5]", "-x", "1e+x", "\"\x80\"", "\"\xc3\x28\"",
	    "\"\xf0\x8f\xbf\xbf\"", "\"\xe0\x9f\xbf\"", "\"\xed\xbf\xbf\"",
	    "\"\xf4\x90\x80\x80\"", "\"\xc1\xbf\"", "\"\xe2\x82\"", "[\"\xff" };
	size_t i;

	for (i = 0; i < sizeof(partial) / sizeof(partial[0]); i++)
		CHECKF(parse_exact(partial[i], strlen(partial[i])) ==
		    JSON_ERR_PARTIAL, "partial[%zu] '%s'", i, partial[i]);
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		CHECKF(parse_exact(invalid[i], strlen(invalid[i])) ==
		    JSON_ERR_INVALID, "invalid[%zu] '%s'", i, invalid[i]);
	CHECK(parse_exact("12", 2) == 1 && parse_exact("-0", 2) == 1);
	CHECK(parse_exact("1e5 ", 4) == 1 && parse_exact(" 0.5\n", 5) == 1);
	CHECK(parse_exact("[1]", 3) == 2 && parse_exact("[1", 2) < 0);
	CHECK(parse_exact("1\0", 2) == JSON_ERR_INVALID);
}

static void
test_numbers(void)
{
	static const char *ok[] = { "9223372036854775807",
	    "-9223372036854775808", "0", "-0", "42" };
	static const int64_t okv[] = { INT64_MAX, INT64_MIN, 0, 0, 42 };
	static const char *bad[] = { "9223372036854775808",
	    "-9223372036854775809", "1.0", "1e3", "18446744073709551616",
	    "99999999999999999999999" };
	static const char *dbl[] = { "1e-5", "0.001", "1e308", "-0.0",
	    "123.456e-2", "1E22" };
	static const double dblv[] = { 1e-5, 0.001, 1e308, -0.0, 1.23456, 1e22 };
	struct json_doc d;
	int64_t v;
	double x;
	char big[600];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		CHECK(json_parse(&d, ok[i], strlen(ok[i]), toks_a, 4) == 1);
		CHECKF(json_int64(&d, 0, &v) == 0 && v == okv[i], "%s", ok[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(json_parse(&d, bad[i], strlen(bad[i]), toks_a, 4) == 1);
		CHECKF(json_int64(&d, 0, &v) < 0, "%s", bad[i]);
	}
	for (i = 0; i < sizeof(dbl) / sizeof(dbl[0]); i++) {
		CHECK(json_parse(&d, dbl[i], strlen(dbl[i]), toks_a, 4) == 1);
		CHECKF(json_double(&d, 0, &x) == 0 && memcmp(&x, &dblv[i],
		    sizeof(x)) == 0, "%s", dbl[i]);
	}
	CHECK(json_parse(&d, "1e400", 5, toks_a, 4) == 1);
	CHECK(json_double(&d, 0, &x) < 0);
	CHECK(json_parse(&d, "[\"1\"]", 5, toks_a, 4) == 2);
	CHECK(json_int64(&d, 1, &v) < 0 && json_double(&d, 1, &x) < 0);
	CHECK(json_int64(&d, 5, &v) < 0 && json_int64(&d, -1, &v) < 0);
	/* Over JSON_NUM_MAX digits: valid JSON, refused by json_double. */
	memset(big, '1', sizeof(big));
	CHECK(json_parse(&d, big, sizeof(big), toks_a, 4) == 1);
	CHECK(json_double(&d, 0, &x) < 0 && json_int64(&d, 0, &v) < 0);
	/* The number ends where the token ends, not at a later digit. */
	CHECK(json_parse(&d, "[0.5,7]", 7, toks_a, 4) == 3);
	CHECK(json_double(&d, 1, &x) == 0 && x == 0.5);
}

static void
test_strings(void)
{
	static const char src[] = "{\"a\\u0062c\":1,\"x\\\"y\":2,\"\\u00e9\":3,"
	    "\"s\":\"\\ud83d\\ude00\",\"e\":\"\\\\\\/\\b\\f\\n\\r\\t\","
	    "\"z\":\"a\\u0000b\",\"abc\":9}";
	static const char nul[] = "a\0b";	/* as a C string, just "a" */
	struct json_doc d;
	char out[16];
	int64_t v;

	CHECK(json_parse(&d, src, strlen(src), toks_a, 64) == 15);
	CHECK(d.toks[0].size == 7 && d.toks[0].type == JSON_OBJECT);
	CHECK(json_int64(&d, json_get(&d, 0, "abc"), &v) == 0 && v == 1);
	CHECK(json_int64(&d, json_get(&d, 0, "x\"y"), &v) == 0 && v == 2);
	CHECK(json_int64(&d, json_get(&d, 0, "\xc3\xa9"), &v) == 0 && v == 3);
	CHECK(json_get(&d, 0, "ab") < 0 && json_get(&d, 0, "abcd") < 0);
	CHECK(json_get(&d, 0, "") < 0 && json_get(&d, 1, "a") < 0);
	CHECK(json_get(&d, 99, "a") < 0 && json_get(&d, -1, "a") < 0);
	CHECK(json_string(&d, json_get(&d, 0, "s"), out, sizeof(out)) == 4);
	CHECK(memcmp(out, "\xf0\x9f\x98\x80", 5) == 0);
	CHECK(json_string(&d, json_get(&d, 0, "e"), out, sizeof(out)) == 7);
	CHECK(memcmp(out, "\\/\b\f\n\r\t", 8) == 0);
	CHECK(json_string(&d, json_get(&d, 0, "z"), out, sizeof(out)) == 3);
	CHECK(memcmp(out, "a\0b", 4) == 0);
	CHECK(json_string(&d, json_get(&d, 0, "z"), out, 4) == 3);
	CHECK(json_string(&d, json_get(&d, 0, "z"), out, 3) < 0);
	CHECK(json_string(&d, json_get(&d, 0, "z"), out, 0) < 0);
	CHECK(json_string(&d, 0, out, sizeof(out)) < 0);
	CHECK(!json_streq(&d, json_get(&d, 0, "z"), "a"));
	CHECK(!json_streq(&d, json_get(&d, 0, "z"), "ab"));
	CHECK(!json_streq(&d, json_get(&d, 0, "z"), nul));
	CHECK(json_streq(&d, json_get(&d, 0, "s"), "\xf0\x9f\x98\x80"));
	CHECK(!json_streq(&d, 0, ""));
	/* UTF-8 of each length from \u escapes, up to U+10FFFF. */
	CHECK(json_parse(&d, "\"\\u0060\\u012a\\u12AB\\uffff\\udbff\\udfff\"",
	    38, toks_a, 2) == 1);
	CHECK(json_string(&d, 0, out, sizeof(out)) == 13);
	CHECK(memcmp(out, "`\xc4\xaa\xe1\x8a\xab\xef\xbf\xbf\xf4\x8f\xbf\xbf",
	    14) == 0);
}

/* levels nested arrays, or objects {"a":{"a":...{}}}; returns the length. */
static size_t
nest(char *out, int levels, int obj)
{
	size_t n = 0;
	int i;

	for (i = 0; i < levels; i++) {
		memcpy(out + n, obj ? "{\"a\":" : "[", obj ? 5 : 1);
		n += obj ? (i < levels - 1 ? 5 : 1) : 1;
	}
	for (i = 0; i < levels; i++)
		out[n++] = obj ? '}' : ']';
	return n;
}

static void
test_structure(void)
{
	static const char src[] = " [ 1, [2, 3], {\"k\": [4]}, \"s\", true ] ";
	char deep[8 * JSON_MAX_DEPTH];
	struct json_doc d;
	size_t n;

	CHECK(json_parse(&d, src, strlen(src), toks_a, 32) == 11);
	CHECK(d.toks[0].size == 5 && d.toks[0].next == 11);
	CHECK(d.toks[0].start == 1 && d.toks[0].len == strlen(src) - 2);
	CHECK(json_at(&d, 0, 0) == 1 && json_at(&d, 0, 1) == 2);
	CHECK(json_at(&d, 0, 2) == 5 && json_at(&d, 0, 3) == 9);
	CHECK(json_at(&d, 0, 4) == 10 && json_at(&d, 0, 5) < 0);
	CHECK(json_at(&d, 1, 0) < 0 && json_at(&d, 5, 0) < 0);
	CHECK(d.toks[2].size == 2 && d.toks[2].next == 5);
	CHECK(d.toks[5].size == 1 && d.toks[6].size == 0);
	CHECK(d.toks[6].next == 7 && d.toks[7].next == 9);
	CHECK(json_type(&d, json_get(&d, 5, "k")) == JSON_ARRAY);
	CHECK(json_type(&d, 10) == JSON_TRUE && json_type(&d, 11) == 0);
	CHECK(json_type(&d, -1) == 0 && json_type(&d, 9) == JSON_STRING);
	CHECK(d.toks[9].start == 27 && d.toks[9].len == 1);
	/* Token array limits: NOMEM only for JSON text, never over INVALID. */
	CHECK(json_parse(&d, src, strlen(src), toks_a, 10) == JSON_ERR_NOMEM);
	CHECK(json_parse(&d, src, strlen(src), toks_a, 0) == JSON_ERR_NOMEM);
	CHECK(json_parse(&d, "[1,2,x", 6, toks_a, 1) == JSON_ERR_INVALID);
	CHECK(json_parse(&d, "[1,2,", 5, toks_a, 1) == JSON_ERR_NOMEM);
	CHECK(json_parse(NULL, src, strlen(src), NULL, 0) == 11);
	/* Depth: JSON_MAX_DEPTH levels are fine, one more is not. */
	n = nest(deep, JSON_MAX_DEPTH, 0);
	CHECK(parse_exact(deep, n) == JSON_MAX_DEPTH);
	CHECK(parse_exact(deep, JSON_MAX_DEPTH) == JSON_ERR_PARTIAL);
	n = nest(deep, JSON_MAX_DEPTH + 1, 0);
	CHECK(parse_exact(deep, n) == JSON_ERR_DEPTH);
	CHECK(parse_exact(deep, JSON_MAX_DEPTH + 1) == JSON_ERR_DEPTH);
	n = nest(deep, JSON_MAX_DEPTH, 1);
	CHECK(parse_exact(deep, n) == 2 * JSON_MAX_DEPTH - 1);
	n = nest(deep, JSON_MAX_DEPTH + 1, 1);
	CHECK(parse_exact(deep, n) == JSON_ERR_DEPTH);
	CHECK(parse_exact("{\"a\":{\"b\":{}}}", 14) == 5);
}

/* The messages the pool lives on. */
static void
test_messages(void)
{
	static const char sub[] = "{\"id\": 4, \"method\": \"mining.submit\", "
	    "\"params\": [\"bc1q.worker\", \"1f\", \"0000000000000001\", "
	    "\"6553f100\", \"3e1d46\", \"00002000\"]}\n";
	static const char gbt[] = "{\"result\":{\"capabilities\":[\"proposal\"],"
	    "\"version\":536870912,\"rules\":[\"csv\",\"!segwit\",\"taproot\"],"
	    "\"previousblockhash\":\"000000000000000000017cb2ae4fd7f1b3e6ab24a"
	    "9db0d5ed1a8e3ac7b0f1a2c\",\"transactions\":[{\"data\":\"0200ff\","
	    "\"txid\":\"aa\",\"hash\":\"bb\",\"depends\":[],\"fee\":1520,"
	    "\"sigops\":4,\"weight\":561},{\"data\":\"0100\",\"txid\":\"cc\","
	    "\"hash\":\"dd\",\"depends\":[1],\"fee\":226,\"sigops\":0,"
	    "\"weight\":400}],\"coinbaseaux\":{},\"coinbasevalue\":312501746,"
	    "\"longpollid\":\"0000abc123\",\"target\":\"00000000000000000002f1"
	    "28000000000000000000000000000000000000000000\",\"mintime\":"
	    "1700000000,\"mutable\":[\"time\",\"transactions\",\"prevblock\"],"
	    "\"noncerange\":\"00000000ffffffff\",\"sigoplimit\":80000,"
	    "\"sizelimit\":4000000,\"weightlimit\":4000000,\"curtime\":"
	    "1700000123,\"bits\":\"17034219\",\"height\":820000,"
	    "\"default_witness_commitment\":\"6a24aa21a9ed00\"},\"error\":null,"
	    "\"id\":\"pool\"}";
	struct json_doc d;
	char buf[64];
	int64_t v;
	int p, r, txs, tx;

	CHECK(json_parse(&d, sub, strlen(sub), toks_a, 64) == 13);
	CHECK(json_streq(&d, json_get(&d, 0, "method"), "mining.submit"));
	CHECK(json_int64(&d, json_get(&d, 0, "id"), &v) == 0 && v == 4);
	p = json_get(&d, 0, "params");
	CHECK(json_type(&d, p) == JSON_ARRAY && d.toks[p].size == 6);
	CHECK(json_string(&d, json_at(&d, p, 4), buf, sizeof(buf)) == 6);
	CHECK(strcmp(buf, "3e1d46") == 0);
	CHECK(json_streq(&d, json_at(&d, p, 0), "bc1q.worker"));
	CHECK(json_at(&d, p, 6) < 0 && json_type(&d, json_at(&d, p, 6)) == 0);

	CHECK(json_parse(&d, gbt, strlen(gbt), toks_a, 128) > 0);
	CHECK(json_type(&d, json_get(&d, 0, "error")) == JSON_NULL);
	CHECK(json_streq(&d, json_get(&d, 0, "id"), "pool"));
	r = json_get(&d, 0, "result");
	CHECK(json_int64(&d, json_get(&d, r, "height"), &v) == 0 && v == 820000);
	CHECK(json_int64(&d, json_get(&d, r, "coinbasevalue"), &v) == 0 &&
	    v == 312501746);
	CHECK(json_streq(&d, json_get(&d, r, "bits"), "17034219"));
	CHECK(json_streq(&d, json_at(&d, json_get(&d, r, "rules"), 1),
	    "!segwit"));
	txs = json_get(&d, r, "transactions");
	CHECK(json_type(&d, txs) == JSON_ARRAY && d.toks[txs].size == 2);
	tx = json_at(&d, txs, 1);
	CHECK(json_streq(&d, json_get(&d, tx, "data"), "0100"));
	CHECK(json_int64(&d, json_at(&d, json_get(&d, tx, "depends"), 0),
	    &v) == 0 && v == 1);
	CHECK(json_int64(&d, json_get(&d, tx, "weight"), &v) == 0 && v == 400);
	CHECK(json_get(&d, tx, "missing") < 0 && json_get(&d, txs, "data") < 0);
	CHECK(json_type(&d, json_get(&d, r, "coinbaseaux")) == JSON_OBJECT);
	CHECK(d.toks[json_get(&d, r, "coinbaseaux")].size == 0);
}

/* The reply the pool writes most, written with every possible cap. */
static void
write_sample(struct json_w *w)
{
	json_w_obj(w);
	json_w_key(w, "id");
	json_w_int(w, -42);
	json_w_key(w, "result");
	json_w_arr(w);
	json_w_arr(w);
	json_w_str(w, "mining.notify");
	json_w_str(w, "q\"\\\x01\n\xe2\x82\xac");
	json_w_arr_end(w);
	json_w_uint(w, UINT64_MAX);
	json_w_double(w, 0.1);
	json_w_bool(w, 1);
	json_w_null(w);
	json_w_raw(w, "{\"x\":[]}", 8);
	json_w_arr_end(w);
	json_w_key(w, "error");
	json_w_null(w);
	json_w_obj_end(w);
}

static void
test_writer_caps(void)
{
	static const char want[] = "{\"id\":-42,\"result\":[[\"mining.notify\","
	    "\"q\\\"\\\\\\u0001\\n\xe2\x82\xac\"],18446744073709551615,0.1,true,"
	    "null,{\"x\":[]}],\"error\":null}";
	char full[256], *b;
	struct json_w w;
	size_t cap, L = strlen(want), j;
	int r, ok;

	json_w_init(&w, full, sizeof(full));
	write_sample(&w);
	CHECKF(json_w_end(&w) == (int)L && strcmp(full, want) == 0, "%s", full);
	CHECK(json_parse(NULL, full, L, NULL, 0) == 17);
	for (cap = 0; cap <= L + 2; cap++) {
		b = malloc(cap + 16);
		if (b == NULL)
			continue;
		memset(b, 0xa5, cap + 16);
		json_w_init(&w, b, cap);
		write_sample(&w);
		r = json_w_end(&w);
		for (ok = 1, j = cap; j < cap + 16; j++)
			ok &= (unsigned char)b[j] == 0xa5;
		CHECKF(ok, "writer wrote past cap %zu", cap);
		CHECKF(cap > L ? r == (int)L : r == -1, "cap %zu: %d", cap, r);
		if (cap > 0)
			CHECK(w.len < cap && b[w.len] == '\0' &&
			    memcmp(b, want, w.len) == 0);
		free(b);
	}
}

static int
write_str(const char *s, size_t n, char *out, size_t cap)
{
	struct json_w w;

	json_w_init(&w, out, cap);
	json_w_strn(&w, s, n);
	return json_w_end(&w);
}

static void
test_writer_escapes(void)
{
	static const char in[] = "\x00\x1f\b\f\n\r\t\"\\/\x7f"
	    "\xff\xc0\x80\xed\xa0\x80\xe2\x82\xac\xf4\x90\x80\x80\xe2\x82";
	static const char want[] = "\"\\u0000\\u001f\\b\\f\\n\\r\\t\\\"\\\\/\x7f"
	    "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\xe2\x82\xac"
	    "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"";
	char out[256], dec[128];
	struct json_doc d;
	int n;

	n = write_str(in, sizeof(in) - 1, out, sizeof(out));
	CHECKF(n == (int)strlen(want) && strcmp(out, want) == 0, "%s", out);
	CHECK(json_parse(&d, out, (size_t)n, toks_a, 4) == 1);
	CHECK(json_string(&d, 0, dec, sizeof(dec)) == 11 + 12 * 3 + 3);
	CHECK(memcmp(dec, "\0\x1f\b\f\n\r\t\"\\/\x7f\xef\xbf\xbd", 14) == 0);
	n = write_str("\xf0\x9f\x98\x80\xc3\xa9", 6, out, sizeof(out));
	CHECK(n == 8 && strcmp(out, "\"\xf0\x9f\x98\x80\xc3\xa9\"") == 0);
	CHECK(write_str("", 0, out, sizeof(out)) == 2 && !strcmp(out, "\"\""));
}

/* json_w_int/uint: every digit count and both ends of the range. */
static void
test_writer_ints(void)
{
	static const int64_t v[] = { 0, 1, -1, 9, 10, -10, 99, 100,
	    1234567890123456789, INT64_MAX, INT64_MIN, INT64_MIN + 1 };
	char out[64], want[64];
	struct json_w w;
	uint64_t u;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_w_init(&w, out, sizeof(out));
		json_w_int(&w, v[i]);
		snprintf(want, sizeof(want), "%lld", (long long)v[i]);
		CHECKF(json_w_end(&w) == (int)strlen(want) &&
		    strcmp(out, want) == 0, "%s, not %s", out, want);
	}
	for (u = 1, i = 0; i < 20; i++, u *= 10) {
		json_w_init(&w, out, sizeof(out));
		json_w_uint(&w, u - 1);
		snprintf(want, sizeof(want), "%llu", (unsigned long long)(u - 1));
		CHECKF(json_w_end(&w) > 0 && strcmp(out, want) == 0,
		    "%s, not %s", out, want);
	}
}

/* json_w_double: the shortest of %.15g/%.16g/%.17g that reads back. */
static void
test_writer_doubles(void)
{
	static const double v[] = { 0.1, 1e20, 1e-5, -0.0, 1.0 / 3,
	    123456789012345678.0, 5e-324, 1.7976931348623157e308, 1e100, 0,
	    2.5, 1024, -1e-300 };
	static const char *t[] = { "0.1", "1e+20", "1e-05", "-0",
	    "0.3333333333333333", "1.2345678901234568e+17",
	    "4.94065645841247e-324", "1.7976931348623157e+308", "1e+100", "0",
	    "2.5", "1024", "-1e-300" };
	char out[64];
	struct json_doc d;
	struct json_w w;
	double x;
	size_t i;
	int n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_w_init(&w, out, sizeof(out));
		json_w_double(&w, v[i]);
		n = json_w_end(&w);
		CHECKF(n > 0 && strcmp(out, t[i]) == 0, "%s, not %s", out, t[i]);
		CHECK(json_parse(&d, out, (size_t)n, toks_a, 2) == 1);
		CHECKF(json_double(&d, 0, &x) == 0 &&
		    memcmp(&x, &v[i], sizeof(x)) == 0, "%s", out);
	}
	/* Whole numbers take a quicker path: the same text as %.15g. */
	for (i = 0; i < 200; i++) {
		char want[64];
		double y = i < 100 ? (double)i * 7919 - 300000 :
		    (i % 2 ? -1 : 1) * (1e15 - (double)(i - 100) * 0.5 +
		    (i == 100 ? 0 : 1));

		snprintf(want, sizeof(want), "%.15g", y);
		if (strtod(want, NULL) != y)
			continue;	/* needs more digits: not this path */
		json_w_init(&w, out, sizeof(out));
		json_w_double(&w, y);
		CHECKF(json_w_end(&w) > 0 && strcmp(out, want) == 0,
		    "%s, not %s", out, want);
	}
	json_w_init(&w, out, sizeof(out));
	json_w_arr(&w);
	json_w_double(&w, HUGE_VAL);
	json_w_double(&w, -HUGE_VAL);
	json_w_double(&w, NAN);
	json_w_arr_end(&w);
	CHECK(json_w_end(&w) == 16 && strcmp(out, "[null,null,null]") == 0);
}

/* Calls that would make invalid JSON poison the writer like an overflow. */
static void
test_writer_misuse(void)
{
	char out[512];
	struct json_w w;
	int i;

#define MISUSE(calls) do { \
	json_w_init(&w, out, sizeof(out)); \
	calls; \
	CHECKF(json_w_end(&w) == -1, "%s", #calls); \
} while (0)
	MISUSE(json_w_key(&w, "a"));
	MISUSE(json_w_obj(&w); json_w_int(&w, 1); json_w_obj_end(&w));
	MISUSE(json_w_arr(&w); json_w_key(&w, "a"); json_w_arr_end(&w));
	MISUSE(json_w_arr(&w); json_w_obj_end(&w));
	MISUSE(json_w_obj(&w); json_w_arr_end(&w));
	MISUSE(json_w_obj(&w));
	MISUSE(json_w_arr_end(&w));
	MISUSE(json_w_int(&w, 1); json_w_int(&w, 2));
	MISUSE(json_w_obj(&w); json_w_key(&w, "a"); json_w_obj_end(&w));
	MISUSE(json_w_obj(&w); json_w_key(&w, "a"); json_w_key(&w, "b");
	    json_w_null(&w); json_w_obj_end(&w));
	MISUSE(json_w_raw(&w, "", 0));
	MISUSE(for (i = 0; i < 65; i++) json_w_arr(&w);
	    for (i = 0; i < 65; i++) json_w_arr_end(&w));
#undef MISUSE
	json_w_init(&w, out, sizeof(out));
	for (i = 0; i < 64; i++)
		json_w_arr(&w);
	for (i = 0; i < 64; i++)
		json_w_arr_end(&w);
	CHECK(json_w_end(&w) == 128 && parse_exact(out, 128) == 64);
	json_w_init(&w, out, 0);
	CHECK(json_w_end(&w) == -1);
	json_w_init(&w, out, sizeof(out));
	json_w_obj(&w);
	json_w_obj_end(&w);
	CHECK(json_w_end(&w) == 2 && strcmp(out, "{}") == 0);
	json_w_init(&w, out, sizeof(out));
	json_w_obj(&w);
	json_w_key(&w, "k\xff");
	json_w_arr(&w);
	json_w_arr_end(&w);
	json_w_key(&w, "");
	json_w_str(&w, "v");
	json_w_obj_end(&w);
	CHECK(json_w_end(&w) == 21 &&
	    strcmp(out, "{\"k\\ufffd\":[],\"\":\"v\"}") == 0);
}

/* Random edits of valid documents: no crash, count and parse agree, and
 * the prefix rules hold for whatever comes out. */
static void
test_mutations(void)
{
	static const char alpha[] = "[]{}\":,\\/0123456789eE+-.tfnul \t\x00"
	    "\x01\x80\xbf\xc3\xe2\xed\xf0\xf4\xff";
	char dir[512], path[1024], m[512];
	struct json_doc doc;
	uint32_t x = 2463534242u;
	DIR *d;
	struct dirent *e;
	size_t n, k, pos;
	char *s;
	int round, r, accepted = 0;

	snprintf(dir, sizeof(dir), "%s/json", test_vectors());
	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "y_", 2) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((s = test_read_file(path, &n)) == NULL || n + 2 > sizeof(m)) {
			free(s);
			continue;
		}
		for (round = 0; round < 24; round++) {
			memcpy(m, s, n + 1);
			k = n;
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			pos = x % (n + 1);
			if (round % 3 == 0 && k > 0 && pos < k)	/* delete */
				memmove(m + pos, m + pos + 1, k-- - pos);
			else if (round % 3 == 1) {		/* insert */
				memmove(m + pos + 1, m + pos, k++ - pos + 1);
				m[pos] = alpha[(x >> 8) % (sizeof(alpha) - 1)];
			} else if (pos < k)			/* replace */
				m[pos] = alpha[(x >> 8) % (sizeof(alpha) - 1)];
			r = parse_both(m, k, &doc);
			check_prefixes(e->d_name, m, k, r > 0);
			if (r > 0) {
				accepted++;
				round_trip(e->d_name, &doc);
			}
		}
		free(s);
	}
	closedir(d);
	CHECKF(accepted > 500, "only %d mutants accepted", accepted);
}

int
main(void)
{
	CHECKF(guard_init() == 0, "no guard page");
	if (guard_end == NULL)
		TEST_END("json");
	test_corpus();
	test_partial();
	test_numbers();
	test_strings();
	test_structure();
	test_messages();
	test_writer_caps();
	test_writer_escapes();
	test_writer_ints();
	test_writer_doubles();
	test_writer_misuse();
	test_mutations();
	TEST_END("json");
}
