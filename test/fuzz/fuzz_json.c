/*
 * fuzz_json.c - json.c under libFuzzer.  The input is the JSON text itself.
 *
 * Checked on every input:
 *  - the count pass (no tokens) and the parse pass into a fixed array agree:
 *    the same result, or JSON_ERR_NOMEM exactly when the array is too small;
 *  - no prefix of a valid document is invalid (it is partial or complete);
 *  - every token lies inside the input, next and size agree with a walk of
 *    the tree, json_at/json_get find what the walk finds, every string
 *    decodes (and not into a buffer one byte short), integers agree with
 *    strtoll and doubles with strtod;
 *  - the document written back with json_w_* into a buffer big enough
 *    parses again to the same values; into a buffer too small the writer
 *    reports truncation and never writes past its end;
 *  - the writer on the raw input, whatever it is: as a string it reads
 *    back the same when it is UTF-8 (judged by a checker of our own) and
 *    with U+FFFD for each bad byte otherwise; its first 8 bytes as int64,
 *    uint64 and double read back exactly (a double in its shortest form;
 *    null when not finite).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "json.h"
#include "fuzz.h"

#define FUZZ_TOKS 4096		/* documents with more only check NOMEM */
#define FUZZ_GET_MAX 64		/* json_get checked for this many members */

static struct json_tok toks_a[FUZZ_TOKS], toks_b[FUZZ_TOKS];

static int
is_int_text(const char *s, size_t n)
{
	return memchr(s, '.', n) == NULL && memchr(s, 'e', n) == NULL &&
	    memchr(s, 'E', n) == NULL;
}

/* json_int64 and json_double against the C library. */
static void
check_number(const struct json_doc *d, int i, char *tmp)
{
	const struct json_tok *t = &d->toks[i];
	int64_t v;
	double x;
	long long ll;
	int ok;

	memcpy(tmp, d->src + t->start, t->len);
	tmp[t->len] = '\0';
	errno = 0;
	ll = strtoll(tmp, NULL, 10);
	ok = errno == 0;
	if (json_int64(d, i, &v) == 0)
		FUZZ_CHECK(is_int_text(tmp, t->len) && ok && ll == v);
	else
		FUZZ_CHECK(!is_int_text(tmp, t->len) || !ok);
	if (json_double(d, i, &x) == 0)
		FUZZ_CHECK(isfinite(x) && x == strtod(tmp, NULL));
	else
		FUZZ_CHECK(t->len > 512 || !isfinite(strtod(tmp, NULL)));
}

static void
check_string(const struct json_doc *d, int i, char *dec)
{
	const struct json_tok *t = &d->toks[i];
	int n = json_string(d, i, dec, (size_t)t->len + 1);

	FUZZ_CHECK(d->src[t->start - 1] == '"' && d->src[t->start + t->len] ==
	    '"');
	FUZZ_CHECK(n >= 0 && (uint32_t)n <= t->len && dec[n] == '\0');
	FUZZ_CHECK(json_streq(d, i, dec) == (memchr(dec, '\0', (size_t)n) ==
	    NULL));
	if (n > 0)
		FUZZ_CHECK(json_string(d, i, dec, (size_t)n) == -1);
}

/* Children of container i, walked by next; json_at/json_get agree. */
static void
check_container(const struct json_doc *d, int i, char *dec)
{
	const struct json_tok *t = &d->toks[i];
	uint32_t j = (uint32_t)i + 1, count = 0;
	int obj = t->type == JSON_OBJECT, g;

	FUZZ_CHECK(d->src[t->start] == (obj ? '{' : '[') &&
	    d->src[t->start + t->len - 1] == (obj ? '}' : ']'));
	while (j < t->next) {
		if (!obj) {
			FUZZ_CHECK(json_at(d, i, count) == (int)j);
			j = d->toks[j].next;
		} else {
			FUZZ_CHECK(d->toks[j].type == JSON_STRING &&
			    j + 1 < t->next);
			g = json_string(d, (int)j, dec, d->toks[j].len + 1);
			if (count < FUZZ_GET_MAX && strlen(dec) == (size_t)g) {
				g = json_get(d, i, dec);
				FUZZ_CHECK(g > i && g <= (int)j + 1 &&
				    json_streq(d, g - 1, dec));
			}
			j = d->toks[j + 1].next;
		}
		count++;
	}
	FUZZ_CHECK(j == t->next && count == t->size);
	if (!obj)
		FUZZ_CHECK(json_at(d, i, count) == -1);
	FUZZ_CHECK(json_get(d, i, "") == -1 || obj);
}

static void
check_doc(const struct json_doc *d, size_t size, char *dec)
{
	const struct json_tok *t;
	int i;

	FUZZ_CHECK(json_type(d, -1) == 0 && json_type(d, d->ntok) == 0);
	for (i = 0; i < d->ntok; i++) {
		t = &d->toks[i];
		FUZZ_CHECK((uint64_t)t->start + t->len <= size);
		FUZZ_CHECK(t->next > (uint32_t)i &&
		    t->next <= (uint32_t)d->ntok);
		switch (t->type) {
		case JSON_ARRAY:
		case JSON_OBJECT:
			check_container(d, i, dec);
			continue;
		case JSON_STRING:
			check_string(d, i, dec);
			break;
		case JSON_NUMBER:
			check_number(d, i, dec);
			break;
		case JSON_NULL:
		case JSON_FALSE:
		case JSON_TRUE:
			FUZZ_CHECK(memcmp(d->src + t->start, t->type ==
			    JSON_NULL ? "null" : t->type == JSON_TRUE ? "true" :
			    "false", t->len) == 0);
			break;
		default:
			FUZZ_CHECK(!"bad token type");
		}
		FUZZ_CHECK(t->next == (uint32_t)i + 1 && t->size == 0);
	}
}

/* The value at token i through the writer; dec is scratch. */
static void
write_value(struct json_w *w, const struct json_doc *d, int i, char *dec)
{
	const struct json_tok *t = &d->toks[i];
	uint32_t j;
	int64_t v;
	double x;
	int n;

	switch (t->type) {
	case JSON_NULL:
		json_w_null(w);
		break;
	case JSON_FALSE:
	case JSON_TRUE:
		json_w_bool(w, t->type == JSON_TRUE);
		break;
	case JSON_NUMBER:
		if (json_int64(d, i, &v) == 0)
			json_w_int(w, v);
		else if (json_double(d, i, &x) == 0)
			json_w_double(w, x);
		else
			json_w_raw(w, d->src + t->start, t->len);
		break;
	case JSON_STRING:
		n = json_string(d, i, dec, (size_t)t->len + 1);
		json_w_strn(w, dec, (size_t)n);
		break;
	case JSON_ARRAY:
		json_w_arr(w);
		for (j = (uint32_t)i + 1; j < t->next; j = d->toks[j].next)
			write_value(w, d, (int)j, dec);
		json_w_arr_end(w);
		break;
	default:
		json_w_obj(w);
		for (j = (uint32_t)i + 1; j < t->next;
		    j = d->toks[j + 1].next) {
			json_string(d, (int)j, dec, (size_t)d->toks[j].len + 1);
			json_w_key(w, dec);	/* cut at a decoded NUL */
			write_value(w, d, (int)j + 1, dec);
		}
		json_w_obj_end(w);
	}
}

/* Token i of a and of b (its rewrite) hold the same value.  Keys are
 * compared up to a decoded NUL, where json_w_key() stops. */
static void
same_value(const struct json_doc *a, const struct json_doc *b, int i,
    int is_key, char *da, char *db)
{
	const struct json_tok *ta = &a->toks[i], *tb = &b->toks[i];
	int64_t va, vb;
	double xa, xb;
	int na, nb;

	FUZZ_CHECK(ta->type == tb->type && ta->size == tb->size &&
	    ta->next == tb->next);
	if (ta->type == JSON_STRING) {
		na = json_string(a, i, da, (size_t)ta->len + 1);
		nb = json_string(b, i, db, (size_t)tb->len + 1);
		if (is_key)
			FUZZ_CHECK(strcmp(da, db) == 0);
		else
			FUZZ_CHECK(na == nb && memcmp(da, db, (size_t)na) == 0);
	} else if (ta->type == JSON_NUMBER) {
		if (json_int64(a, i, &va) == 0)
			FUZZ_CHECK(json_int64(b, i, &vb) == 0 && va == vb);
		else if (json_double(a, i, &xa) == 0)
			FUZZ_CHECK(json_double(b, i, &xb) == 0 && xa == xb);
		else
			FUZZ_CHECK(ta->len == tb->len && memcmp(a->src +
			    ta->start, b->src + tb->start, ta->len) == 0);
	}
}

/* The subtree at token i, as same_value() judges each value. */
static void
same_tree(const struct json_doc *a, const struct json_doc *b, int i,
    char *da, char *db)
{
	const struct json_tok *t = &a->toks[i];
	uint32_t j;

	same_value(a, b, i, 0, da, db);
	if (t->type == JSON_ARRAY)
		for (j = (uint32_t)i + 1; j < t->next; j = a->toks[j].next)
			same_tree(a, b, (int)j, da, db);
	if (t->type != JSON_OBJECT)
		return;
	for (j = (uint32_t)i + 1; j < t->next; j = a->toks[j + 1].next) {
		same_value(a, b, (int)j, 1, da, db);
		same_tree(a, b, (int)j + 1, da, db);
	}
}

/* Write doc a into cap bytes; when it fits, it must read back the same. */
static void
rewrite(const struct json_doc *a, size_t cap, int must_fit, char *da,
    char *db)
{
	char *buf = malloc(cap);
	struct json_doc b;
	struct json_w w;
	int n, r;

	FUZZ_CHECK(buf != NULL);
	json_w_init(&w, buf, cap);
	write_value(&w, a, 0, da);
	n = json_w_end(&w);
	FUZZ_CHECK(strlen(buf) < cap);
	FUZZ_CHECK(n >= 0 || !must_fit);
	if (n >= 0) {
		FUZZ_CHECK((size_t)n == strlen(buf));
		r = json_parse(&b, buf, (size_t)n, toks_b, FUZZ_TOKS);
		FUZZ_CHECK(r == a->ntok);
		same_tree(a, &b, 0, da, db);
	}
	free(buf);
}

/* Length of the UTF-8 sequence at s (n bytes left), 0 when invalid:
 * Unicode's table 3-7, written out range by range. */
static size_t
utf8_len(const uint8_t *s, size_t n)
{
	static const struct { uint8_t lo, hi, b1lo, b1hi; size_t len; } t[] = {
		{ 0x00, 0x7f, 0, 0, 1 }, { 0xc2, 0xdf, 0x80, 0xbf, 2 },
		{ 0xe0, 0xe0, 0xa0, 0xbf, 3 }, { 0xe1, 0xec, 0x80, 0xbf, 3 },
		{ 0xed, 0xed, 0x80, 0x9f, 3 }, { 0xee, 0xef, 0x80, 0xbf, 3 },
		{ 0xf0, 0xf0, 0x90, 0xbf, 4 }, { 0xf1, 0xf3, 0x80, 0xbf, 4 },
		{ 0xf4, 0xf4, 0x80, 0x8f, 4 }
	};
	size_t i, k;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (s[0] < t[i].lo || s[0] > t[i].hi)
			continue;
		if (t[i].len > n)
			return 0;
		if (t[i].len > 1 && (s[1] < t[i].b1lo || s[1] > t[i].b1hi))
			return 0;
		for (k = 2; k < t[i].len; k++)
			if (s[k] < 0x80 || s[k] > 0xbf)
				return 0;
		return t[i].len;
	}
	return 0;
}

/* What the writer should make of the bytes s[0, n) as a string. */
static size_t
expect_string(const uint8_t *s, size_t n, char *out)
{
	size_t i = 0, k, o = 0;

	while (i < n) {
		if ((k = utf8_len(s + i, n - i)) == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else {
			memcpy(out + o, s + i, k);
			o += k;
			i += k;
		}
	}
	return o;
}

/* The writer on the raw input: a string, and its first bytes as numbers. */
static void
check_writer(const uint8_t *data, size_t size)
{
	size_t cap = 6 * size + 256, n;
	char *out = malloc(cap), *want = malloc(3 * size + 1);
	char *got = malloc(3 * size + 1), num[24];
	uint8_t raw[8] = { 0 };
	struct json_doc d;
	struct json_w w;
	int64_t i64, v;
	uint64_t u64;
	double x, y;

	FUZZ_CHECK(out != NULL && want != NULL && got != NULL);
	memcpy(raw, data, size < 8 ? size : 8);
	memcpy(&i64, raw, 8);
	memcpy(&u64, raw, 8);
	memcpy(&x, raw, 8);
	json_w_init(&w, out, cap);
	json_w_arr(&w);
	json_w_strn(&w, (const char *)data, size);
	json_w_int(&w, i64);
	json_w_uint(&w, u64);
	json_w_double(&w, x);
	json_w_str(&w, "\x01\"\\/\x7f");
	json_w_arr_end(&w);
	FUZZ_CHECK(json_w_end(&w) > 0);
	FUZZ_CHECK(json_parse(&d, out, strlen(out), toks_b, FUZZ_TOKS) == 6);
	n = expect_string(data, size, want);
	FUZZ_CHECK(json_string(&d, 1, got, 3 * size + 1) == (int)n &&
	    memcmp(got, want, n) == 0);
	FUZZ_CHECK(json_int64(&d, 2, &v) == 0 && v == i64);
	snprintf(num, sizeof(num), "%" PRIu64, u64);
	FUZZ_CHECK(d.toks[3].len == strlen(num) &&
	    memcmp(out + d.toks[3].start, num, strlen(num)) == 0);
	if (isfinite(x))
		FUZZ_CHECK(json_double(&d, 4, &y) == 0 && y == x &&
		    !signbit(y) == !signbit(x));
	else
		FUZZ_CHECK(json_type(&d, 4) == JSON_NULL);
	FUZZ_CHECK(json_streq(&d, 5, "\x01\"\\/\x7f"));
	free(out);
	free(want);
	free(got);
}

/* A prefix of a valid document can still become that document. */
static void
check_prefix(const char *src, size_t len)
{
	struct json_doc d;
	int r = json_parse(&d, src, len, NULL, 0);

	FUZZ_CHECK(r >= 0 || r == JSON_ERR_PARTIAL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *src = (const char *)data;
	struct json_doc d;
	char *da, *db;
	int n, r;

	check_writer(data, size);
	n = json_parse(&d, src, size, NULL, 0);
	r = json_parse(&d, src, size, toks_a, FUZZ_TOKS);
	FUZZ_CHECK(n != JSON_ERR_NOMEM);
	if (n > FUZZ_TOKS || (n == JSON_ERR_PARTIAL && r == JSON_ERR_NOMEM))
		FUZZ_CHECK(r == JSON_ERR_NOMEM);
	else
		FUZZ_CHECK(r == n);
	if (n < 0 || n > FUZZ_TOKS)
		return 0;
	FUZZ_CHECK(n >= 1 && d.ntok == n && d.src == src);
	if (n > 1)
		FUZZ_CHECK(json_parse(&d, src, size, toks_a, (size_t)n - 1) ==
		    JSON_ERR_NOMEM);
	FUZZ_CHECK(json_parse(&d, src, size, toks_a, FUZZ_TOKS) == n);
	check_prefix(src, size / 2);
	check_prefix(src, size - 1);
	da = malloc(size + 1);
	db = malloc(8 * size + 64);
	FUZZ_CHECK(da != NULL && db != NULL);
	check_doc(&d, size, da);
	/* Numbers grow at most 4x ("1e14"), strings never: 8x always fits. */
	rewrite(&d, 8 * size + 64, 1, da, db);
	rewrite(&d, size / 2 + 1, 0, da, db);
	free(da);
	free(db);
	return 0;
}
