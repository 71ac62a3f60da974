/*
 * json.h - a strict RFC 8259 JSON parser and a bounded JSON writer.
 *
 * The parser is a tokenizer in the style of jsmn: it never allocates. The
 * caller hands it an array of tokens; each token records where a value sits
 * in the source text, so strings are decoded only when asked for.  Passing
 * toks == NULL counts the tokens a document needs, so a caller can size the
 * array for a multi-megabyte getblocktemplate reply exactly, then parse.
 *
 * Everything that is not JSON is rejected: trailing commas, leading zeros,
 * lone surrogates, raw control characters in strings, invalid UTF-8 (overlong
 * forms, surrogates, code points above U+10FFFF), a byte order mark, trailing
 * garbage after the value.  Surrounding white space is allowed.
 *
 * Leaf module: includes nothing of ours.
 */
#ifndef JSON_H
#define JSON_H

#include <stddef.h>
#include <stdint.h>

/* Deepest nesting of arrays and objects accepted.  Stratum and JSON-RPC
 * messages nest 4 deep at most; the bound only stops stack-free abuse. */
#ifndef JSON_MAX_DEPTH
#define JSON_MAX_DEPTH 64
#endif

enum json_type {
	JSON_NULL = 1,
	JSON_FALSE,
	JSON_TRUE,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT
};

/* Parser results (negative); a non-negative result is a token count. */
enum json_err {
	JSON_ERR_PARTIAL = -1,	/* valid so far, but the document is incomplete */
	JSON_ERR_INVALID = -2,	/* not JSON */
	JSON_ERR_NOMEM = -3,	/* more tokens than the caller's array holds */
	JSON_ERR_DEPTH = -4	/* nested deeper than JSON_MAX_DEPTH */
};

/*
 * One value.  Tokens are stored in document order (pre-order): a container
 * is followed by its children; an object's children alternate key (a
 * JSON_STRING token), value.
 *   start, len: the value's bytes in the source.  For strings this is the
 *               raw text between the quotes (escapes not decoded).
 *   size:       arrays: element count; objects: member count (pairs);
 *               0 for scalars.
 *   next:       index of the token after this value's whole subtree, so a
 *               caller skips a value in O(1).
 */
struct json_tok {
	uint32_t start;
	uint32_t len;
	uint32_t size;
	uint32_t next;
	uint8_t type;
};

/* A parsed document: the source it points into and its tokens.  The
 * document does not own either; both must outlive every use of it. */
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
 * JSON_ERR_PARTIAL means every byte so far could begin a valid document
 * ("[1," or "" or "\"ab"); a complete bare number at the very end of the
 * input ("12") counts as complete.
 * JSON_ERR_NOMEM is returned only for text that is JSON so far: running
 * out of tokens does not stop the scan, so an invalid document is always
 * JSON_ERR_INVALID (or JSON_ERR_DEPTH), whatever cap is.
 * Documents larger than 4 GiB - 1 are rejected as JSON_ERR_NOMEM.
 */
int json_parse(struct json_doc *doc, const char *src, size_t len,
    struct json_tok *toks, size_t cap);

/* Token type of index i, or 0 when i is out of range (so a failed lookup
 * of -1 can be passed on without checking). */
int json_type(const struct json_doc *doc, int i);

/* Value of key in object token obj (the first member with that key, compared
 * after decoding escapes), or -1 when obj is no object or has no such key. */
int json_get(const struct json_doc *doc, int obj, const char *key);

/* Element idx of array token arr, or -1. O(idx). */
int json_at(const struct json_doc *doc, int arr, size_t idx);

/* Integer value of a number token that is written as an integer (no
 * fraction, no exponent) and fits int64_t.  Returns 0 or -1. */
int json_int64(const struct json_doc *doc, int i, int64_t *out);

/* Any number token as a double (strtod semantics, locale-independent:
 * the C locale is assumed).  Returns 0, or -1 when i is no number, the
 * value is not finite, or the number is written with more than 512
 * characters (valid JSON, but no double needs that many). */
int json_double(const struct json_doc *doc, int i, double *out);

/*
 * Decode string token i into out (cap bytes, NUL-terminated).
 * Returns the decoded length (excluding the NUL), or -1 when i is no
 * string or the decoded text plus NUL does not fit in cap.  Decoded text
 * may contain NUL bytes ("\u0000"); the return value is the true length.
 */
int json_string(const struct json_doc *doc, int i, char *out, size_t cap);

/* 1 when string token i decodes to exactly the C string s, else 0. */
int json_streq(const struct json_doc *doc, int i, const char *s);

/*
 * The writer: appends to a caller buffer, never past cap.  After any call
 * that would overflow, the writer is marked truncated and ignores further
 * output; json_w_end() reports it.  Misuse is marked the same way: a key
 * outside an object, a value in an object without its key, a close that
 * does not match the open, more than 64 levels, a second top-level value.
 * Commas between values and members are inserted automatically; keys are
 * written with json_w_key().  depth counts open containers (0..64); the
 * container at depth d (1..64) owns bit d-1 of the masks.
 */
struct json_w {
	char *buf;
	size_t cap;
	size_t len;
	int truncated;
	int depth;
	uint64_t need_comma;	/* a value or member was written at depth d */
	uint64_t after_key;	/* a key was just written at depth d */
	uint64_t in_obj;	/* the container at depth d is an object */
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
/* Shortest text that reads back to the same double (%.17g at worst);
 * non-finite values are written as null. */
void json_w_double(struct json_w *w, double v);
void json_w_bool(struct json_w *w, int v);
void json_w_null(struct json_w *w);
/* Already-valid JSON text inserted as one value (e.g. an echoed id). */
void json_w_raw(struct json_w *w, const char *s, size_t n);
/* NUL-terminates the output; returns its length, or -1 when truncated or
 * when containers are unbalanced.  buf holds at most cap-1 bytes of text. */
int json_w_end(struct json_w *w);

#endif
