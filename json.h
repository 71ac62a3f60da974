/*
 * json.h - a strict RFC 8259 JSON parser and a bounded JSON writer.
 *
 * The parser is a jsmn-style tokenizer that never allocates: each token in
 * the caller's array records where a value sits in the source, and strings
 * are decoded only when asked for.  toks == NULL counts the tokens needed,
 * so a multi-megabyte getblocktemplate reply gets an array of exact size.
 * Everything that is not JSON is rejected: trailing commas, leading zeros,
 * lone surrogates, raw control characters or invalid UTF-8 (overlong,
 * surrogates, above U+10FFFF) in strings, a byte order mark, anything
 * after the value but white space.  Leaf module: includes nothing of ours.
 */
#ifndef JSON_H
#define JSON_H

#include <stddef.h>
#include <stdint.h>

/* Deepest nesting accepted; Stratum and JSON-RPC messages need 4. */
#ifndef JSON_MAX_DEPTH
#define JSON_MAX_DEPTH 64
#endif

enum json_type {
	JSON_NULL = 1, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING,
	JSON_ARRAY, JSON_OBJECT
};

/* Parser results (negative); a non-negative result is a token count. */
enum json_err {
	JSON_ERR_PARTIAL = -1,	/* JSON so far, but incomplete */
	JSON_ERR_INVALID = -2,	/* not JSON */
	JSON_ERR_NOMEM = -3,	/* more tokens than cap */
	JSON_ERR_DEPTH = -4	/* nested deeper than JSON_MAX_DEPTH */
};

/*
 * One value, in document order: a container is followed by its children;
 * an object's alternate key (a JSON_STRING token), value.
 *   start, len: the value's bytes in the source; for strings the raw text
 *               between the quotes (escapes not decoded).
 *   size:       arrays: elements; objects: members (pairs); scalars: 0.
 *   next:       index of the token after this value's subtree (O(1) skip).
 */
struct json_tok {
	uint32_t start, len, size, next;
	uint8_t type;		/* enum json_type */
};

/* A parsed document; source and tokens are the caller's: keep them. */
struct json_doc {
	const char *src;
	const struct json_tok *toks;
	int ntok;
};

/*
 * Parse src[0..len) as one JSON text.
 * In:  src, len; toks: array of cap tokens, or NULL to count only.
 * Out: *doc is filled when the result is >= 0 and toks != NULL.
 * Returns the number of tokens (>= 1), or a negative enum json_err.
 * PARTIAL: the bytes so far could begin a valid document ("", "[1,",
 * "\"ab"); a bare number at the very end ("12") counts as complete.
 * NOMEM: only for text that is JSON so far (an invalid document is INVALID
 * or DEPTH whatever cap is), and for documents of 4 GiB or more.
 */
int json_parse(struct json_doc *doc, const char *src, size_t len,
    struct json_tok *toks, size_t cap);

/* Type of token i, or 0 when out of range (so a failed lookup's -1 is
 * safe to pass on). */
int json_type(const struct json_doc *doc, int i);

/* Value of object obj's first member whose decoded key is key, or -1. */
int json_get(const struct json_doc *doc, int obj, const char *key);

/* Element idx of array token arr, or -1. O(idx). */
int json_at(const struct json_doc *doc, int arr, size_t idx);

/* Integer value of a number token that is written as an integer (no
 * fraction, no exponent) and fits int64_t.  Returns 0 or -1. */
int json_int64(const struct json_doc *doc, int i, int64_t *out);

/* Any number token as a double (strtod() in the C locale).  Returns 0, or
 * -1 when i is no number, the value is not finite, or the text is longer
 * than 512 characters (valid JSON, but no double needs that many). */
int json_double(const struct json_doc *doc, int i, double *out);

/* Decode string token i into out (cap bytes, NUL-terminated).  Returns the
 * decoded length without the NUL (the text may hold NULs from "\u0000"),
 * or -1 when i is no string or the text and NUL do not fit. */
int json_string(const struct json_doc *doc, int i, char *out, size_t cap);

/* 1 when string token i decodes to exactly the C string s, else 0. */
int json_streq(const struct json_doc *doc, int i, const char *s);

/*
 * The writer appends to a caller buffer, never past cap, inserting commas
 * itself.  A call that would overflow marks it truncated: later output is
 * ignored, and json_w_end() fails.  Misuse is marked the same way: a key
 * outside an object, a value in an object without its key, a mismatched
 * close, more than 64 levels, a second top-level value.  Strings (keys too)
 * are escaped; bytes that are not UTF-8 are written as U+FFFD.
 */
struct json_w {
	char *buf;
	size_t cap, len;
	int truncated;
	int depth;		/* open containers, 0..64 */
	/* Bit d-1 of each mask is about the container at depth d: */
	uint64_t need_comma;	/* a value or member was written in it */
	uint64_t after_key;	/* a key was just written in it */
	uint64_t in_obj;	/* it is an object */
};

void json_w_init(struct json_w *w, char *buf, size_t cap);
void json_w_obj(struct json_w *w);	/* { */
void json_w_obj_end(struct json_w *w);	/* } */
void json_w_arr(struct json_w *w);	/* [ */
void json_w_arr_end(struct json_w *w);	/* ] */
void json_w_key(struct json_w *w, const char *key);
void json_w_str(struct json_w *w, const char *s);
void json_w_strn(struct json_w *w, const char *s, size_t n);
void json_w_int(struct json_w *w, int64_t v);
void json_w_uint(struct json_w *w, uint64_t v);
/* Shortest text reading back the same (%.17g at worst); NaN, inf: null. */
void json_w_double(struct json_w *w, double v);
void json_w_bool(struct json_w *w, int v);
void json_w_null(struct json_w *w);
/* Already-valid JSON text inserted as one value (e.g. an echoed id). */
void json_w_raw(struct json_w *w, const char *s, size_t n);
/* NUL-terminates the output; returns its length, or -1 when truncated or
 * when containers are unbalanced.  buf holds at most cap-1 bytes of text. */
int json_w_end(struct json_w *w);

#endif
