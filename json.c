/*
 * json.c - strict RFC 8259 parser (jsmn-style tokens) and bounded writer.
 *
 * The parser is one loop over a state machine with an explicit stack of
 * open containers: no recursion.  Scanners say "partial" only while the
 * bytes can still grow into JSON ("[1", "\"\\ud8"), never when they cannot
 * ("[1,]", "\"\\udc"), so a poll loop tells "wait" from "drop the client".
 * Hot path: the megabytes of hex in a getblocktemplate reply, which
 * plain_run() skips four bytes a step; UTF-8 is validated once, in parsing.
 */
#include <stdint.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define JSON_NUM_MAX 512	/* json_double()'s copy; no double needs more */
#define W_MAX_DEPTH 64		/* the writer's masks have 64 bits */

/* Bytes that end the plain run in a string: controls, '"', '\\', >= 0x80. */
#define X16 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
static const unsigned char json_special[256] = {
	X16, X16, ['"'] = 1, ['\\'] = 1,
	[0x80] = X16, X16, X16, X16, X16, X16, X16, X16
};
#undef X16

/* Two-character escapes: the letter after the backslash, and its byte. */
static const char json_esc_letter[] = "\"\\/bfnrt";
static const char json_esc_byte[] = "\"\\/\b\f\n\r\t";
#define JSON_NESC (sizeof(json_esc_letter) - 1)

/* What the parser expects next (a close bracket is handled apart). */
enum { ST_VALUE, ST_KEY, ST_COLON, ST_AFTER };

#define IS_DIGIT(c) ((unsigned)(c) - '0' < 10u)
#define IS_WS(c) ((c) == ' ' || (c) == '\n' || (c) == '\r' || (c) == '\t')

struct parser {
	const unsigned char *s;
	size_t len, pos;
	struct json_tok *toks;	/* NULL: count only */
	size_t cap, ntok;
	int depth;
	uint32_t open[JSON_MAX_DEPTH];	/* each container's token index */
	uint32_t count[JSON_MAX_DEPTH];	/* its elements or members */
	unsigned char is_obj[JSON_MAX_DEPTH];
};

/* Length of the UTF-8 sequence at s (s[0] >= 0x80, n bytes), or a negative
 * JSON_ERR_*.  The lead byte narrows the second byte's range (Unicode table
 * 3-7): no overlong forms, surrogates or code points above U+10FFFF. */
static int
utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0], lo, hi;
	int len, k;

	if (c < 0xc2 || c > 0xf4)
		return JSON_ERR_INVALID;
	len = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
	hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
	for (k = 1; k < len; k++, lo = 0x80, hi = 0xbf) {
		if ((size_t)k == n)
			return JSON_ERR_PARTIAL;
		if (s[k] < lo || s[k] > hi)
			return JSON_ERR_INVALID;
	}
	return len;
}

/* "\uHHHH" at s (n bytes): a low surrogate if low, else anything but one.
 * Checked digit by digit, so "\udc" fails at once, not as partial. */
static int
scan_u(const unsigned char *s, size_t n, int low, unsigned *cp)
{
	static const char hex[] = "0123456789abcdef0123456789ABCDEF";
	const char *h;
	unsigned v = 0, k;

	for (k = 0; k < 6; k++) {
		if (k == n)
			return JSON_ERR_PARTIAL;
		if (k < 2) {
			if (s[k] != "\\u"[k])
				return JSON_ERR_INVALID;
			continue;
		}
		if ((h = memchr(hex, s[k], sizeof(hex) - 1)) == NULL)
			return JSON_ERR_INVALID;
		v = v << 4 | (unsigned)(h - hex) % 16;
		/* Low surrogates are the ones whose first digits are dc-df. */
		if ((k == 2 && low && v != 0xd) ||
		    (k == 3 && low != (v >= 0xdc && v <= 0xdf)))
			return JSON_ERR_INVALID;
	}
	*cp = v;
	return 0;
}

/* The escape at s (s[0] == '\\', n bytes): its length (2, 6, or 12 for a
 * surrogate pair) with its code point in *cp, or a negative JSON_ERR_*. */
static int
escape_len(const unsigned char *s, size_t n, unsigned *cp)
{
	const char *e;
	unsigned lo;
	int r;

	if (n < 2)
		return JSON_ERR_PARTIAL;
	if ((e = memchr(json_esc_letter, s[1], JSON_NESC)) != NULL) {
		*cp = (unsigned char)json_esc_byte[e - json_esc_letter];
		return 2;
	}
	if ((r = scan_u(s, n, 0, cp)) < 0)
		return r;
	if (*cp < 0xd800 || *cp > 0xdbff)
		return 6;
	/* A high surrogate must be followed by an escaped low one. */
	if ((r = scan_u(s + 6, n - 6, 1, &lo)) < 0)
		return r;
	*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	return 12;
}

/* One or more digits at s[*i]. */
static int
scan_digits(const unsigned char *s, size_t len, size_t *i)
{
	if (*i == len)
		return JSON_ERR_PARTIAL;
	if (!IS_DIGIT(s[*i]))
		return JSON_ERR_INVALID;
	while (*i < len && IS_DIGIT(s[*i]))
		(*i)++;
	return 0;
}

/* A number at s[*pos]; *pos ends past it.  Input ending where a number may
 * end ("12") is complete; what follows is the caller's ("01" fails there). */
static int
scan_number(const unsigned char *s, size_t len, size_t *pos)
{
	size_t i = *pos + (s[*pos] == '-');
	int r;

	if (i < len && s[i] == '0')
		i++;
	else if ((r = scan_digits(s, len, &i)) < 0)
		return r;
	if (i < len && s[i] == '.') {
		i++;
		if ((r = scan_digits(s, len, &i)) < 0)
			return r;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		if (++i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if ((r = scan_digits(s, len, &i)) < 0)
			return r;
	}
	*pos = i;
	return 0;
}

/* Records a token (when there is room) and returns its index. */
static int
tok_new(struct parser *p, int type, size_t start, size_t len)
{
	if (p->ntok >= (size_t)INT_MAX)
		return JSON_ERR_NOMEM;
	if (p->toks != NULL && p->ntok < p->cap)
		p->toks[p->ntok] = (struct json_tok){ .start = (uint32_t)start,
		    .len = (uint32_t)len, .next = (uint32_t)p->ntok + 1,
		    .type = (uint8_t)type };
	return (int)p->ntok++;
}

/* The end of the plain run at s[i..n): the hot loop, four bytes a step. */
static inline size_t
plain_run(const unsigned char *s, size_t i, size_t n)
{
	while (n - i >= 4 && (json_special[s[i]] | json_special[s[i + 1]] |
	    json_special[s[i + 2]] | json_special[s[i + 3]]) == 0)
		i += 4;
	while (i < n && !json_special[s[i]])
		i++;
	return i;
}

/* The string whose quote is at s[pos]; the token is the text inside. */
static int
parse_string(struct parser *p)
{
	const unsigned char *s = p->s;
	size_t i = p->pos + 1, len = p->len;
	unsigned cp;
	int r;

	for (;;) {
		if ((i = plain_run(s, i, len)) == len)
			return JSON_ERR_PARTIAL;
		if (s[i] == '"')
			break;
		if (s[i] == '\\')
			r = escape_len(s + i, len - i, &cp);
		else if (s[i] >= 0x80)
			r = utf8_len(s + i, len - i);
		else
			r = JSON_ERR_INVALID;	/* raw control character */
		if (r < 0)
			return r;
		i += (size_t)r;
	}
	r = tok_new(p, JSON_STRING, p->pos + 1, i - p->pos - 1);
	p->pos = i + 1;
	return r < 0 ? r : 0;
}

/* Closes the innermost container at s[pos]. */
static void
parse_close(struct parser *p)
{
	uint32_t idx = p->open[--p->depth];
	struct json_tok *t;

	if (p->toks != NULL && idx < p->cap) {
		t = &p->toks[idx];
		t->len = (uint32_t)(p->pos + 1 - t->start);
		t->size = p->count[p->depth];
		t->next = (uint32_t)p->ntok;
	}
	p->pos++;
}

/* One value starting at s[pos]; *st becomes the state that follows. */
static int
parse_value(struct parser *p, int *st)
{
	static const char *const lit[] = { [JSON_NULL] = "null",
	    [JSON_FALSE] = "false", [JSON_TRUE] = "true" };
	size_t i = p->pos, n, avail = p->len - p->pos;
	int r, type = JSON_NUMBER, c = p->s[i];

	*st = ST_AFTER;
	if (c == '"')
		return parse_string(p);
	if (c == '[' || c == '{') {
		if (p->depth == JSON_MAX_DEPTH)
			return JSON_ERR_DEPTH;
		type = c == '{' ? JSON_OBJECT : JSON_ARRAY;
		if ((r = tok_new(p, type, i, 1)) < 0)
			return r;
		p->open[p->depth] = (uint32_t)r;
		p->count[p->depth] = 0;
		p->is_obj[p->depth++] = c == '{';
		p->pos++;
		*st = c == '{' ? ST_KEY : ST_VALUE;
		return 0;
	}
	if (c == 'n' || c == 'f' || c == 't') {
		type = c == 'n' ? JSON_NULL : c == 'f' ? JSON_FALSE : JSON_TRUE;
		n = strlen(lit[type]);
		if (memcmp(p->s + i, lit[type], n < avail ? n : avail) != 0)
			return JSON_ERR_INVALID;
		if (avail < n)
			return JSON_ERR_PARTIAL;
		p->pos += n;
	} else if ((r = scan_number(p->s, p->len, &p->pos)) < 0)
		return r;
	return (r = tok_new(p, type, i, p->pos - i)) < 0 ? r : 0;
}

/* Errors in the text return at once; running out of tokens does not (the
 * scan goes on counting), so NOMEM never hides an invalid document. */
int
json_parse(struct json_doc *doc, const char *src, size_t len,
    struct json_tok *toks, size_t cap)
{
	struct parser p;
	int st = ST_VALUE, r = 0, c, top;

	if (len >> 16 >> 16 != 0)	/* > UINT32_MAX; no 32-bit warning */
		return JSON_ERR_NOMEM;
	/* The stack arrays are written on each push before any read. */
	p.s = (const unsigned char *)src;
	p.len = len;
	p.pos = p.ntok = 0;
	p.toks = toks;
	p.cap = cap;
	p.depth = 0;
	while (r == 0) {
		while (p.pos < len && IS_WS(p.s[p.pos]))
			p.pos++;
		if (p.pos == len)
			break;
		c = p.s[p.pos];
		top = p.depth - 1;
		/* A close comes after a value, or right after the open. */
		if (top >= 0 && (st == ST_AFTER || p.count[top] == 0) &&
		    c == (p.is_obj[top] ? '}' : ']')) {
			parse_close(&p);
			st = ST_AFTER;
			continue;
		}
		switch (st) {
		case ST_VALUE:
			if (top >= 0 && !p.is_obj[top])
				p.count[top]++;
			r = parse_value(&p, &st);
			break;
		case ST_KEY:
			if (c != '"')
				return JSON_ERR_INVALID;
			p.count[top]++;
			r = parse_string(&p);
			st = ST_COLON;
			break;
		case ST_COLON:
			if (c != ':')
				return JSON_ERR_INVALID;
			p.pos++;
			st = ST_VALUE;
			break;
		default:	/* ST_AFTER: a comma, or trailing garbage */
			if (top < 0 || c != ',')
				return JSON_ERR_INVALID;
			p.pos++;
			st = p.is_obj[top] ? ST_KEY : ST_VALUE;
		}
	}
	if (r < 0 && r != JSON_ERR_PARTIAL)
		return r;
	if (toks != NULL && p.ntok > cap)
		return JSON_ERR_NOMEM;
	if (r < 0 || st != ST_AFTER || p.depth > 0)
		return JSON_ERR_PARTIAL;
	if (toks != NULL)
		*doc = (struct json_doc){ src, toks, (int)p.ntok };
	return (int)p.ntok;
}

int
json_type(const struct json_doc *doc, int i)
{
	return i >= 0 && i < doc->ntok ? doc->toks[i].type : 0;
}

/* The decoded text of a string token in pieces: a run without escapes (in
 * place), or one escape, which json_parse() checked, decoded into tmp. */
static size_t
next_piece(const char *s, size_t n, size_t *k, const char **out,
    char tmp[4])
{
	const char *e;
	unsigned cp;
	size_t i = *k, len, j;

	if (s[i] != '\\') {
		e = memchr(s + i, '\\', n - i);
		*out = s + i;
		*k = e != NULL ? (size_t)(e - s) : n;
		return *k - i;
	}
	*out = tmp;
	*k = i + (size_t)escape_len((const unsigned char *)s + i, n - i, &cp);
	/* UTF-8: continuation bytes from the end, then the lead byte, whose
	 * top len bits are set (0xc0, 0xe0, 0xf0 = 0xf00 >> len). */
	len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
	for (j = len - 1; j > 0; j--, cp >>= 6)
		tmp[j] = (char)(0x80 | (cp & 0x3f));
	tmp[0] = (char)(len == 1 ? cp : ((0xf00u >> len) & 0xff) | cp);
	return len;
}

int
json_string(const struct json_doc *doc, int i, char *out, size_t cap)
{
	const struct json_tok *t;
	const char *piece;
	char tmp[4];
	size_t k = 0, n, o = 0;

	if (json_type(doc, i) != JSON_STRING || cap == 0)
		return -1;
	if (cap > INT_MAX)
		cap = INT_MAX;
	t = &doc->toks[i];
	while (k < t->len) {
		n = next_piece(doc->src + t->start, t->len, &k, &piece, tmp);
		if (n >= cap - o)
			return -1;
		memcpy(out + o, piece, n);
		o += n;
	}
	out[o] = '\0';
	return (int)o;
}

int
json_streq(const struct json_doc *doc, int i, const char *str)
{
	const struct json_tok *t;
	const char *piece;
	char tmp[4];
	size_t k = 0, n, o = 0, j;

	if (json_type(doc, i) != JSON_STRING)
		return 0;
	t = &doc->toks[i];
	while (k < t->len) {
		n = next_piece(doc->src + t->start, t->len, &k, &piece, tmp);
		/* A decoded NUL can never equal str, whose NUL ends it. */
		for (j = 0; j < n; j++, o++)
			if (str[o] == '\0' || str[o] != piece[j])
				return 0;
	}
	return str[o] == '\0';
}

int
json_get(const struct json_doc *doc, int obj, const char *key)
{
	uint32_t m, i;

	if (json_type(doc, obj) != JSON_OBJECT)
		return -1;
	i = (uint32_t)obj + 1;
	for (m = 0; m < doc->toks[obj].size; m++) {
		if (json_streq(doc, (int)i, key))
			return (int)i + 1;
		i = doc->toks[i + 1].next;
	}
	return -1;
}

int
json_at(const struct json_doc *doc, int arr, size_t idx)
{
	uint32_t i;

	if (json_type(doc, arr) != JSON_ARRAY || idx >= doc->toks[arr].size)
		return -1;
	for (i = (uint32_t)arr + 1; idx > 0; idx--)
		i = doc->toks[i].next;
	return (int)i;
}

int
json_int64(const struct json_doc *doc, int i, int64_t *out)
{
	const char *s;
	uint64_t v = 0, limit;
	size_t k, n;
	unsigned d;

	if (json_type(doc, i) != JSON_NUMBER)
		return -1;
	s = doc->src + doc->toks[i].start;
	n = doc->toks[i].len;
	k = s[0] == '-';
	limit = (uint64_t)INT64_MAX + k;	/* |INT64_MIN| when negative */
	for (; k < n; k++) {
		d = (unsigned)(unsigned char)s[k] - '0';
		if (d > 9 || v > (limit - d) / 10)
			return -1;	/* fraction, exponent or overflow */
		v = v * 10 + d;
	}
	if (s[0] != '-')
		*out = (int64_t)v;
	else
		*out = v > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)v;
	return 0;
}

int
json_double(const struct json_doc *doc, int i, double *out)
{
	const struct json_tok *t;
	char buf[JSON_NUM_MAX + 1], *end;
	double v;

	if (json_type(doc, i) != JSON_NUMBER)
		return -1;
	t = &doc->toks[i];
	if (t->len > JSON_NUM_MAX)
		return -1;
	/* strtod needs a terminator; the source has none after the token. */
	memcpy(buf, doc->src + t->start, t->len);
	buf[t->len] = '\0';
	v = strtod(buf, &end);
	if (end != buf + t->len || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/* The writer.  Misuse marks it truncated like an overflow: the output is
 * unusable either way.  Once truncated nothing is written, so the masks no
 * longer matter. */
void
json_w_init(struct json_w *w, char *buf, size_t cap)
{
	*w = (struct json_w){ .buf = buf, .cap = cap };
}

/* Appends n bytes, keeping one byte free for json_w_end()'s NUL. */
static void
w_put(struct json_w *w, const char *s, size_t n)
{
	if (!w->truncated && n >= w->cap - w->len)
		w->truncated = 1;
	if (w->truncated)
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

/* What precedes a key (key 1) or a value (key 0): a comma where needed,
 * and the checks that keys and values alternate in objects only. */
static void
w_sep(struct json_w *w, int key)
{
	uint64_t b = w->depth > 0 ? (uint64_t)1 << (w->depth - 1) : 0;
	int obj = (w->in_obj & b) != 0, keyed = (w->after_key & b) != 0;

	if (obj ? key == keyed : key || (b == 0 && w->len > 0))
		w->truncated = 1;	/* misplaced key or value, 2nd top */
	if (keyed) {
		w->after_key &= ~b;	/* a member's value: no comma */
		return;
	}
	if (w->need_comma & b)
		w_put(w, ",", 1);
	w->need_comma |= b;
	if (key)
		w->after_key |= b;
}

static void
w_open(struct json_w *w, int obj)
{
	uint64_t b;

	w_sep(w, 0);
	if (w->depth == W_MAX_DEPTH)
		w->truncated = 1;
	w_put(w, obj ? "{" : "[", 1);
	if (w->truncated)
		return;
	/* A closed container left its after_key bit clear. */
	b = (uint64_t)1 << w->depth++;
	w->need_comma &= ~b;
	w->in_obj = obj ? w->in_obj | b : w->in_obj & ~b;
}

static void
w_close(struct json_w *w, int obj)
{
	uint64_t b = w->depth > 0 ? (uint64_t)1 << (w->depth - 1) : 0;

	if (b == 0 || !(w->in_obj & b) != !obj || (w->after_key & b))
		w->truncated = 1;
	w_put(w, obj ? "}" : "]", 1);
	if (!w->truncated)
		w->depth--;
}

void json_w_obj(struct json_w *w) { w_open(w, 1); }
void json_w_obj_end(struct json_w *w) { w_close(w, 1); }
void json_w_arr(struct json_w *w) { w_open(w, 0); }
void json_w_arr_end(struct json_w *w) { w_close(w, 0); }

/* A quoted string; bytes that are not UTF-8 become U+FFFD one by one, so
 * the output is valid JSON whatever the input. */
static void
w_string(struct json_w *w, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run;
	char esc[8] = "\\";
	const char *e;
	int r;

	w_put(w, "\"", 1);
	while (i < n && !w->truncated) {
		run = i;
		i = plain_run(s, i, n);
		w_put(w, str + run, i - run);
		if (i == n)
			break;
		if (s[i] >= 0x80) {
			if ((r = utf8_len(s + i, n - i)) > 0)
				w_put(w, str + i, (size_t)r);
			else
				w_put(w, "\\ufffd", 6);
			i += r > 0 ? (size_t)r : 1;
			continue;
		}
		if ((e = memchr(json_esc_byte, s[i], JSON_NESC)) != NULL) {
			esc[1] = json_esc_letter[e - json_esc_byte];
			w_put(w, esc, 2);
		} else {
			snprintf(esc, sizeof(esc), "\\u%04x", s[i]);
			w_put(w, esc, 6);
		}
		i++;
	}
	w_put(w, "\"", 1);
}

void
json_w_key(struct json_w *w, const char *key)
{
	w_sep(w, 1);
	w_string(w, key, strlen(key));
	w_put(w, ":", 1);
}

/* A value already in JSON text. */
static void
w_value(struct json_w *w, const char *s, size_t n)
{
	w_sep(w, 0);
	w_put(w, s, n);
}

void
json_w_strn(struct json_w *w, const char *s, size_t n)
{
	w_sep(w, 0);
	w_string(w, s, n);
}

void
json_w_str(struct json_w *w, const char *s)
{
	json_w_strn(w, s, strlen(s));
}

/* Decimal digits of v (snprintf is slow, and statistics files hold a
 * million numbers); returns their count. */
static size_t
u64_text(char *out, uint64_t v)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

void
json_w_int(struct json_w *w, int64_t v)
{
	char buf[24];
	size_t n = 0;

	if (v < 0)
		buf[n++] = '-';
	/* -(v + 1) + 1: INT64_MIN has no positive int64_t */
	n += u64_text(buf + n, v < 0 ? (uint64_t)-(v + 1) + 1 : (uint64_t)v);
	w_value(w, buf, n);
}

void
json_w_uint(struct json_w *w, uint64_t v)
{
	char buf[24];

	w_value(w, buf, u64_text(buf, v));
}

/* %.17g always reads back exactly; fewer digits often do and read better
 * (0.1, not 0.10000000000000001).  %g of a finite value is a JSON number. */
void
json_w_double(struct json_w *w, double v)
{
	char buf[32];
	int prec, n = 0;

	if (!isfinite(v)) {
		json_w_null(w);
		return;
	}
	/* Whole numbers (most statistics) the quick way; %.15g writes these
	 * the same digits, -0 aside. */
	if (v > -1e15 && v < 1e15 && v == (double)(int64_t)v &&
	    (v != 0 || !signbit(v))) {
		json_w_int(w, (int64_t)v);
		return;
	}
	for (prec = 15; prec <= 17; prec++) {
		n = snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	w_value(w, buf, (size_t)n);
}

void
json_w_bool(struct json_w *w, int v)
{
	w_value(w, v ? "true" : "false", v ? 4 : 5);
}

void
json_w_null(struct json_w *w)
{
	w_value(w, "null", 4);
}

void
json_w_raw(struct json_w *w, const char *s, size_t n)
{
	w_sep(w, 0);
	if (n == 0)
		w->truncated = 1;	/* an empty text is no value */
	w_put(w, s, n);
}

int
json_w_end(struct json_w *w)
{
	if (w->cap == 0)
		return -1;
	w->buf[w->len] = '\0';
	if (w->truncated || w->depth != 0 || w->len > INT_MAX)
		return -1;
	return (int)w->len;
}
