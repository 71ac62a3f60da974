/*
 * json.c - strict RFC 8259 parser (jsmn-style tokens) and bounded writer.
 *
 * The parser is one loop over a small state machine with an explicit stack
 * of open containers (JSON_MAX_DEPTH entries on the C stack), so nesting
 * costs no recursion.  Every scanner knows where the input ends and says
 * "partial" only when the bytes seen can still grow into a valid document:
 * "[1" and "\"\\ud8" are partial, "[1,]" and "\"\\udc" (a low surrogate
 * cannot come first) are invalid.  A poll loop can therefore tell "wait for
 * more" from "drop this client" without a second pass.
 *
 * Speed: a getblocktemplate reply is megabytes of hex inside strings, so
 * the string scanner is the hot path.  It classifies bytes with a 256-entry
 * table, four at a time, and leaves the loop only at a quote, a backslash,
 * a control character or a non-ASCII byte.  UTF-8 is validated there, once;
 * json_string() and friends trust the token afterwards.
 */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* Longest number json_double() converts; longer ones are valid JSON but no
 * double needs them, and the bound keeps the copy on the stack. */
#define JSON_NUM_MAX 512

/* Bytes that end the plain run in a string: controls, '"', '\\', >= 0x80. */
#define X16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
static const unsigned char json_special[256] = {
	X16(1), X16(1),
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	X16(0), X16(0),
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
	X16(0), X16(0),
	X16(1), X16(1), X16(1), X16(1), X16(1), X16(1), X16(1), X16(1)
};
#undef X16

/* Two-character escapes: the letter after the backslash, and its byte. */
static const char json_esc_letter[] = "\"\\/bfnrt";
static const char json_esc_byte[] = "\"\\/\b\f\n\r\t";

enum { ST_VALUE, ST_VALUE_OR_CLOSE, ST_KEY, ST_KEY_OR_CLOSE, ST_COLON,
    ST_AFTER };

#define IS_DIGIT(c)	((unsigned)(c) - '0' < 10u)
#define IS_WS(c)	((c) == ' ' || (c) == '\n' || (c) == '\r' || (c) == '\t')

struct parser {
	const unsigned char *s;
	size_t len, pos;
	struct json_tok *toks;	/* NULL: count only */
	size_t cap, ntok;
	int depth;
	uint32_t open[JSON_MAX_DEPTH];	/* token index of each container */
	uint32_t count[JSON_MAX_DEPTH];	/* its elements or members so far */
	unsigned char is_obj[JSON_MAX_DEPTH];
};

static int
hexval(unsigned c)
{
	if (c - '0' < 10)
		return (int)(c - '0');
	c |= 0x20;
	return c - 'a' < 6 ? (int)(c - 'a' + 10) : -1;
}

/*
 * Length of the UTF-8 sequence at s (s[0] >= 0x80, n bytes available), 0
 * when the n bytes are a valid start cut short, -1 when invalid.  The lead
 * byte narrows the second byte's range (Unicode table 3-7), which rules out
 * overlong forms, UTF-16 surrogates and code points above U+10FFFF.
 */
static int
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0], lo = 0x80, hi = 0xbf;
	int len, k;

	if (c < 0xc2 || c > 0xf4)
		return -1;
	len = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	for (k = 1; k < len; k++) {
		if ((size_t)k >= n)
			return 0;
		if (s[k] < lo || s[k] > hi)
			return -1;
		lo = 0x80;
		hi = 0xbf;
	}
	return len;
}

/*
 * Four hex digits at s[i..]: a high surrogate or a non-surrogate when low
 * is 0, a low surrogate when low is 1.  After each digit the range the
 * escape can still reach is checked, so "\\udc" fails at once rather than
 * being reported partial.
 */
static int
scan_hex4(const unsigned char *s, size_t len, size_t i, int low,
    unsigned *cp)
{
	unsigned v = 0, lo, hi, shift, k;
	int d;

	for (k = 0; k < 4; k++) {
		if (i + k == len)
			return JSON_ERR_PARTIAL;
		if ((d = hexval(s[i + k])) < 0)
			return JSON_ERR_INVALID;
		v = v << 4 | (unsigned)d;
		shift = 4 * (3 - k);
		lo = v << shift;
		hi = lo | ((1u << shift) - 1);
		if (low ? hi < 0xdc00 || lo > 0xdfff :
		    lo >= 0xdc00 && hi <= 0xdfff)
			return JSON_ERR_INVALID;
	}
	*cp = v;
	return 0;
}

/* The escape at s[*pos] == '\\'; on success *pos is just past it. */
static int
scan_escape(const unsigned char *s, size_t len, size_t *pos)
{
	size_t i = *pos + 1;
	unsigned cp;
	int r;

	if (i == len)
		return JSON_ERR_PARTIAL;
	if (s[i] != '\0' && strchr(json_esc_letter, s[i]) != NULL) {
		*pos = i + 1;
		return 0;
	}
	if (s[i] != 'u')
		return JSON_ERR_INVALID;
	if ((r = scan_hex4(s, len, i + 1, 0, &cp)) < 0)
		return r;
	i += 5;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		/* A high surrogate must be followed by an escaped low one. */
		if (i == len || (s[i] == '\\' && i + 1 == len))
			return JSON_ERR_PARTIAL;
		if (s[i] != '\\' || s[i + 1] != 'u')
			return JSON_ERR_INVALID;
		if ((r = scan_hex4(s, len, i + 2, 1, &cp)) < 0)
			return r;
		i += 6;
	}
	*pos = i;
	return 0;
}

/* The string whose quote is at s[*pos]; on success *pos is the index of
 * the closing quote. */
static int
scan_string(const unsigned char *s, size_t len, size_t *pos)
{
	size_t i = *pos + 1;
	int r;

	for (;;) {
		while (len - i >= 4 && (json_special[s[i]] |
		    json_special[s[i + 1]] | json_special[s[i + 2]] |
		    json_special[s[i + 3]]) == 0)
			i += 4;
		while (i < len && !json_special[s[i]])
			i++;
		if (i == len)
			return JSON_ERR_PARTIAL;
		if (s[i] == '"') {
			*pos = i;
			return 0;
		}
		if (s[i] == '\\') {
			if ((r = scan_escape(s, len, &i)) < 0)
				return r;
		} else if (s[i] >= 0x80) {
			if ((r = utf8_seq(s + i, len - i)) <= 0)
				return r == 0 ? JSON_ERR_PARTIAL : JSON_ERR_INVALID;
			i += (size_t)r;
		} else
			return JSON_ERR_INVALID;	/* raw control character */
	}
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

/*
 * A number at s[*pos]; *pos ends just past it.  Input that ends where a
 * number may end ("12") is complete; the caller's structure decides
 * whether more was needed.  What follows the number is left to the caller
 * too ("01" fails there, on the '1').
 */
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
	struct json_tok *t;

	if (p->ntok >= (size_t)INT_MAX)
		return JSON_ERR_NOMEM;
	if (p->toks != NULL && p->ntok < p->cap) {
		t = &p->toks[p->ntok];
		t->start = (uint32_t)start;
		t->len = (uint32_t)len;
		t->size = 0;
		t->next = (uint32_t)p->ntok + 1;
		t->type = (uint8_t)type;
	}
	return (int)p->ntok++;
}

static int
parse_string(struct parser *p)
{
	size_t i = p->pos;
	int r;

	if ((r = scan_string(p->s, p->len, &i)) < 0)
		return r;
	r = tok_new(p, JSON_STRING, p->pos + 1, i - p->pos - 1);
	p->pos = i + 1;
	return r < 0 ? r : 0;
}

/* One value starting at s[pos]; *st becomes the state that follows. */
static int
parse_value(struct parser *p, int *st)
{
	static const char *const lit[3] = { "null", "false", "true" };
	size_t i = p->pos, n, avail = p->len - p->pos;
	int r, type, c = p->s[i];

	if (c == '"') {
		*st = ST_AFTER;
		return parse_string(p);
	}
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
		*st = c == '{' ? ST_KEY_OR_CLOSE : ST_VALUE_OR_CLOSE;
		return 0;
	}
	*st = ST_AFTER;
	type = c == 'n' ? JSON_NULL : c == 'f' ? JSON_FALSE : JSON_TRUE;
	if (c == 'n' || c == 'f' || c == 't') {
		n = strlen(lit[type - JSON_NULL]);
		if (memcmp(p->s + i, lit[type - JSON_NULL], avail < n ? avail :
		    n) != 0)
			return JSON_ERR_INVALID;
		if (avail < n)
			return JSON_ERR_PARTIAL;
		p->pos += n;
		return (r = tok_new(p, type, i, n)) < 0 ? r : 0;
	}
	if ((r = scan_number(p->s, p->len, &p->pos)) < 0)
		return r;
	return (r = tok_new(p, JSON_NUMBER, i, p->pos - i)) < 0 ? r : 0;
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

/* The separator or close bracket after a value inside a container. */
static int
parse_after(struct parser *p, int *st)
{
	int obj = p->is_obj[p->depth - 1], c = p->s[p->pos];

	if (c == ',') {
		p->pos++;
		*st = obj ? ST_KEY : ST_VALUE;
	} else if (c == (obj ? '}' : ']'))
		parse_close(p);
	else
		return JSON_ERR_INVALID;
	return 0;
}

/*
 * Errors found in the text return at once.  Running out of tokens does
 * not: the scan goes on counting, so JSON_ERR_NOMEM is reported only for
 * text that is JSON so far (complete or partial), and never hides an
 * invalid document.
 */
int
json_parse(struct json_doc *doc, const char *src, size_t len,
    struct json_tok *toks, size_t cap)
{
	struct parser p;
	int st = ST_VALUE, r = 0, c;

	if (len >> 16 >> 16 != 0)	/* > UINT32_MAX; no warning if 32-bit */
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
		if ((st == ST_VALUE_OR_CLOSE && c == ']') ||
		    (st == ST_KEY_OR_CLOSE && c == '}')) {
			parse_close(&p);
			st = ST_AFTER;
			continue;
		}
		switch (st) {
		case ST_VALUE:
		case ST_VALUE_OR_CLOSE:
			if (p.depth > 0 && !p.is_obj[p.depth - 1])
				p.count[p.depth - 1]++;
			r = parse_value(&p, &st);
			break;
		case ST_KEY:
		case ST_KEY_OR_CLOSE:
			if (c != '"')
				return JSON_ERR_INVALID;
			p.count[p.depth - 1]++;
			r = parse_string(&p);
			st = ST_COLON;
			break;
		case ST_COLON:
			if (c != ':')
				return JSON_ERR_INVALID;
			p.pos++;
			st = ST_VALUE;
			break;
		default:	/* ST_AFTER */
			if (p.depth == 0)
				return JSON_ERR_INVALID;	/* trailing garbage */
			r = parse_after(&p, &st);
		}
	}
	if (r < 0 && r != JSON_ERR_PARTIAL)
		return r;
	if (toks != NULL && p.ntok > cap)
		return JSON_ERR_NOMEM;
	if (r < 0 || st != ST_AFTER || p.depth > 0)
		return JSON_ERR_PARTIAL;
	if (toks != NULL) {
		doc->src = src;
		doc->toks = toks;
		doc->ntok = (int)p.ntok;
	}
	return (int)p.ntok;
}

int
json_type(const struct json_doc *doc, int i)
{
	return i >= 0 && i < doc->ntok ? doc->toks[i].type : 0;
}

/*
 * Decoding.  Tokens come from json_parse(), so their text is known to be
 * valid: escapes are complete, surrogates paired, UTF-8 well formed.
 * next_piece() yields the decoded text in pieces: a run of source bytes
 * without escapes (pointed to in place), or one escape decoded into tmp.
 */
static unsigned
hex4(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	return (unsigned)(hexval(u[0]) << 12 | hexval(u[1]) << 8 |
	    hexval(u[2]) << 4 | hexval(u[3]));
}

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
	if (s[i + 1] != 'u') {
		e = strchr(json_esc_letter, s[i + 1]);
		tmp[0] = json_esc_byte[e - json_esc_letter];
		*k = i + 2;
		return 1;
	}
	cp = hex4(s + i + 2);
	*k = i + 6;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		cp = 0x10000 + ((cp - 0xd800) << 10) + (hex4(s + i + 8) - 0xdc00);
		*k = i + 12;
	}
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
	const char *s, *piece;
	char tmp[4];
	size_t k = 0, n, o = 0;

	if (json_type(doc, i) != JSON_STRING || cap == 0)
		return -1;
	if (cap > INT_MAX)
		cap = INT_MAX;
	t = &doc->toks[i];
	s = doc->src + t->start;
	while (k < t->len) {
		n = next_piece(s, t->len, &k, &piece, tmp);
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
	const struct json_tok *t;
	const char *s;
	uint64_t v = 0, limit = INT64_MAX;
	size_t k = 0;
	unsigned d;

	if (json_type(doc, i) != JSON_NUMBER)
		return -1;
	t = &doc->toks[i];
	s = doc->src + t->start;
	if (s[0] == '-') {
		limit = (uint64_t)INT64_MAX + 1;
		k = 1;
	}
	for (; k < t->len; k++) {
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

/*
 * The writer.  Depth d (1..64) of open containers uses bit d-1 of the
 * masks.  Misuse (a key outside an object, a value in an object without
 * a key, a mismatched close, a 65th level, a second top-level value) marks
 * the writer truncated like an overflow: the output is unusable either way
 * and json_w_end() must say so.
 */
#define W_MAX_DEPTH 64

void
json_w_init(struct json_w *w, char *buf, size_t cap)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->cap = cap;
}

/* Appends n bytes, keeping one byte free for json_w_end()'s NUL. */
static void
w_put(struct json_w *w, const char *s, size_t n)
{
	if (w->truncated)
		return;
	if (n >= w->cap - w->len) {
		w->truncated = 1;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static uint64_t
w_bit(const struct json_w *w)
{
	return (uint64_t)1 << (w->depth - 1);
}

/* Whatever precedes a value: nothing, a comma, or a check for a key. */
static void
w_value(struct json_w *w)
{
	uint64_t b;

	if (w->truncated)
		return;
	if (w->depth == 0) {
		if (w->len > 0)
			w->truncated = 1;
		return;
	}
	b = w_bit(w);
	if (w->in_obj & b) {
		if (!(w->after_key & b))
			w->truncated = 1;
		w->after_key &= ~b;
		return;
	}
	if (w->need_comma & b)
		w_put(w, ",", 1);
	w->need_comma |= b;
}

static void
w_open(struct json_w *w, int obj)
{
	w_value(w);
	if (w->depth == W_MAX_DEPTH)
		w->truncated = 1;
	w_put(w, obj ? "{" : "[", 1);
	if (w->truncated)
		return;
	w->depth++;
	w->need_comma &= ~w_bit(w);
	w->after_key &= ~w_bit(w);
	if (obj)
		w->in_obj |= w_bit(w);
	else
		w->in_obj &= ~w_bit(w);
}

static void
w_close(struct json_w *w, int obj)
{
	if (w->truncated)
		return;
	if (w->depth == 0 || !(w->in_obj & w_bit(w)) != !obj ||
	    (w->after_key & w_bit(w))) {
		w->truncated = 1;
		return;
	}
	w_put(w, obj ? "}" : "]", 1);
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
		for (run = i; i < n && !json_special[s[i]]; i++)
			;
		w_put(w, str + run, i - run);
		if (i == n)
			break;
		if (s[i] >= 0x80) {
			if ((r = utf8_seq(s + i, n - i)) > 0)
				w_put(w, str + i, (size_t)r);
			else
				w_put(w, "\\ufffd", 6);
			i += r > 0 ? (size_t)r : 1;
			continue;
		}
		e = strchr(json_esc_byte, s[i]);
		if (e != NULL && s[i] != '\0') {
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
	uint64_t b;

	if (w->truncated)
		return;
	b = w->depth > 0 ? w_bit(w) : 0;
	if (!(w->in_obj & b) || (w->after_key & b)) {
		w->truncated = 1;
		return;
	}
	if (w->need_comma & b)
		w_put(w, ",", 1);
	w->need_comma |= b;
	w->after_key |= b;
	w_string(w, key, strlen(key));
	w_put(w, ":", 1);
}

void
json_w_strn(struct json_w *w, const char *s, size_t n)
{
	w_value(w);
	w_string(w, s, n);
}

void
json_w_str(struct json_w *w, const char *s)
{
	json_w_strn(w, s, strlen(s));
}

void
json_w_int(struct json_w *w, int64_t v)
{
	char buf[24];

	w_value(w);
	w_put(w, buf, (size_t)snprintf(buf, sizeof(buf), "%" PRId64, v));
}

void
json_w_uint(struct json_w *w, uint64_t v)
{
	char buf[24];

	w_value(w);
	w_put(w, buf, (size_t)snprintf(buf, sizeof(buf), "%" PRIu64, v));
}

/* %.17g always reads back exactly; fewer digits often do and look like
 * what a person wrote (0.1, not 0.10000000000000001).  %g never writes a
 * bare "." or a leading ".", and non-finite values never get here, so the
 * text is always a JSON number (integral values print as integers). */
void
json_w_double(struct json_w *w, double v)
{
	char buf[32];
	int prec, n = 0;

	if (!isfinite(v)) {
		json_w_null(w);
		return;
	}
	for (prec = 15; prec <= 17; prec++) {
		n = snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	w_value(w);
	w_put(w, buf, (size_t)n);
}

void
json_w_bool(struct json_w *w, int v)
{
	w_value(w);
	w_put(w, v ? "true" : "false", v ? 4 : 5);
}

void
json_w_null(struct json_w *w)
{
	w_value(w);
	w_put(w, "null", 4);
}

void
json_w_raw(struct json_w *w, const char *s, size_t n)
{
	w_value(w);
	if (n == 0)
		w->truncated = 1;
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
