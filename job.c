/*
 * job.c - block template -> coinbase, merkle branch, targets; the share
 * check; the block for submitblock.
 *
 * Consensus-critical: one wrong byte and every block the pool finds is
 * invalid while shares still look fine.  So the coinbase layout is written
 * out in one place (coinbase()), numbers go through explicit little-endian
 * stores, and the test rebuilds real blocks from their own bytes.  The
 * share check, the hot path, costs SHA-256 compressions only (counted in
 * test/bench_job.c) and allocates nothing.
 */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"

/* Version 2 as Core's block assembler writes it: it only enables BIP 68,
 * moot for a coinbase, but keeps our blocks like the node's. */
#define CB_VERSION 2
#define CB_SEQUENCE 0xffffffffu	/* final; locktime 0 is then moot anyway */
#define CB_SCRIPTSIG_AT 42	/* version 4, vin count 1, outpoint 36, len 1 */
#define MAX_MONEY ((int64_t)21000000 * 100000000)
#define COMMIT_MIN 38		/* OP_RETURN push36 aa21a9ed commitment[32] */
#define WITNESS_LEN 34		/* one stack item: count 1, length 32, zeros */
/* Largest coinbase job_init builds: head, sequence, 2 outputs, locktime. */
#define CB_MAX (CB_SCRIPTSIG_AT + JOB_SCRIPTSIG_MAX + 4 + 1 + \
	(8 + 1 + JOB_SCRIPT_MAX) + (8 + 1 + JOB_COMMITMENT_MAX) + 4)

/* Pushes of <= 75 bytes are one opcode, lengths < 0xfd one byte: a fixed
 * layout.  The longest scriptSig (height <= 5 bytes as heights are < 2^31,
 * whole tag, extranonce) is within consensus: only the tag is ever cut. */
_Static_assert(JOB_EN1_SIZE + JOB_EN2_MAX <= 75 && JOB_TAG_MAX <= 75 &&
    JOB_SCRIPTSIG_MAX < 0xfd && JOB_SCRIPT_MAX < 0xfd &&
    JOB_COMMITMENT_MAX < 0xfd, "one-byte pushes and lengths");
_Static_assert(5 + 1 + JOB_TAG_MAX + 1 + JOB_EN1_SIZE + JOB_EN2_MAX <=
    JOB_SCRIPTSIG_MAX, "scriptSig room");

static const uint8_t commit_magic[6] = { 0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed };
static const char hexdig[] = "0123456789abcdef";

/* n bytes of v, least significant first. */
static void
le_store(uint8_t *p, uint64_t v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ---- hex ---- */

/* A digit's value plus one, 0 for every other byte: a template's
 * megabytes of transaction hex are checked a byte per lookup. */
static const uint8_t hexv[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6,
	['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16
};

static int
hexval(int c)
{
	return hexv[c & 0xff] - 1;
}

int
hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t n)
{
	size_t i;
	int hi, lo;

	if (n > SIZE_MAX / 2 || hexlen != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		hi = hexval((unsigned char)hex[2 * i]);
		lo = hexval((unsigned char)hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Like hex_encode without the NUL; returns the end. */
static char *
put_hex(char *p, const uint8_t *in, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		*p++ = hexdig[in[i] >> 4];
		*p++ = hexdig[in[i] & 15];
	}
	return p;
}

void
hex_encode(const uint8_t *in, size_t n, char *out)
{
	*put_hex(out, in, n) = '\0';
}

/* ---- targets ---- */

int
target_meets(const uint8_t hash[32], const uint8_t target[32])
{
	int i;

	for (i = 31; i >= 0; i--)
		if (hash[i] != target[i])
			return hash[i] < target[i];
	return 1;
}

/* Compact nBits as Bitcoin's arith_uint256::SetCompact reads it: a 23-bit
 * mantissa, a sign bit, a byte exponent.  Mantissa byte k lands at byte
 * exp-3+k; a nonzero byte at 32 or beyond is exactly Core's overflow
 * rule.  Zero is rejected too: no hash can meet it. */
int
target_from_bits(uint32_t bits, uint8_t target[32])
{
	uint32_t exp = bits >> 24, mant = bits & 0x007fffffu, k;

	memset(target, 0, 32);
	if (exp < 3) {
		mant >>= 8 * (3 - exp);
		exp = 3;
	}
	if (mant == 0 || (bits & 0x00800000u) != 0)
		return -1;
	for (k = 0; k < 3 && mant >> (8 * k) != 0; k++) {
		if (exp - 3 + k >= 32) {
			memset(target, 0, 32);
			return -1;
		}
		target[exp - 3 + k] = (uint8_t)(mant >> (8 * k));
	}
	return 0;
}

/* target = floor(0xFFFF * 2^208 / diff) exactly for the double diff: with
 * diff = m * 2^(e-53), m a 53-bit integer, that is floor(0xFFFF * 2^s / m),
 * s = 261 - e, a long division byte by byte (remainder < m < 2^53, so
 * r * 256 fits 64 bits).  No rounding, no long double: every platform gets
 * the same target.  A double pre-check cuts quotients >= 2^256 short. */
int
target_from_diff(double diff, uint8_t target[32])
{
	uint64_t m, r = 0, q, head;
	int e, s, nbytes, i, at;

	memset(target, 0, 32);
	if (!(diff > 0) || !isfinite(diff))
		return -1;
	if (65535.0 / diff >= 562949953421312.0)	/* 2^49 */
		goto saturate;
	m = (uint64_t)ldexp(frexp(diff, &e), 53);
	s = 208 + 53 - e;
	if (s < 0)		/* 0xFFFF * 2^s < 2^16 <= m / 2^36 */
		return 0;
	head = (uint64_t)0xffff << (s % 8);	/* then s / 8 zero bytes */
	nbytes = s / 8 + 3;
	for (i = 0; i < nbytes; i++) {
		r = r << 8 | (i < 3 ? (head >> (8 * (2 - i))) & 0xff : 0);
		q = r / m;
		r %= m;
		at = nbytes - 1 - i;
		if (at < 32)
			target[at] = (uint8_t)q;
		else if (q != 0)
			goto saturate;
	}
	return 0;
saturate:
	memset(target, 0xff, 32);
	return 0;
}

/* diff1 / value from the top 64 bits of value: one rounding to double,
 * one for the division, and < 2^-56 from the bits ignored. */
double
target_to_diff(const uint8_t value[32])
{
	uint64_t m = 0;
	int top = 31, i;

	while (top >= 0 && value[top] == 0)
		top--;
	if (top < 0)
		return DBL_MAX;
	for (i = top; i > top - 8; i--)
		m = m << 8 | (i >= 0 ? value[i] : 0);
	/* value ~= m * 2^(8 * (top - 7)) */
	return ldexp(65535.0 / (double)m, 208 - 8 * (top - 7));
}

/* ---- templates ---- */

void
tmpl_ref(struct tmpl *t)
{
	t->refs++;
}

void
tmpl_unref(struct tmpl *t)
{
	if (t == NULL || --t->refs > 0)
		return;
	free(t->commitment);
	free(t->txid);
	free(t->txhex);
	free(t);
}

/* Text built piece by piece into a bounded buffer. */
struct sbuf {
	char *buf;
	size_t cap, len;
};

/* Appends pre, in[0..n) as hex, then post, when all of it fits, and counts
 * it either way: len >= cap at the end means the text (and NUL) did not. */
static void
sb_add(struct sbuf *b, const char *pre, const uint8_t *in, size_t n,
    const char *post)
{
	size_t a = strlen(pre), z = strlen(post);

	if (b->len < b->cap && a + 2 * n + z < b->cap - b->len) {
		memcpy(b->buf + b->len, pre, a);
		memcpy(put_hex(b->buf + b->len + a, in, n), post, z);
	}
	b->len += a + 2 * n + z;
}

/* i ^ 3 walks each 4-byte word backwards. */
void
job_stratum_prevhash(const uint8_t prevhash[32], char out[65])
{
	uint8_t sw[32];
	int i;

	for (i = 0; i < 32; i++)
		sw[i] = prevhash[i ^ 3];
	hex_encode(sw, 32, out);
}

/* The notify text every job of t shares (see struct tmpl). */
static int
notify_text(struct tmpl *t)
{
	struct sbuf b = { t->notify_tail, sizeof(t->notify_tail), 0 };
	char nums[40];
	size_t i;

	job_stratum_prevhash(t->prevhash, t->notify_ph);
	sb_add(&b, "[", NULL, 0, "");
	for (i = 0; i < t->nbranch; i++)
		sb_add(&b, i > 0 ? ",\"" : "\"", t->branch[i], 32, "\"");
	/* version, nbits, ntime: the numbers as 8 big-endian hex digits */
	snprintf(nums, sizeof(nums), "],\"%08lx\",\"%08lx\",\"%08lx\",",
	    (unsigned long)t->version, (unsigned long)t->bits,
	    (unsigned long)t->curtime);
	sb_add(&b, nums, NULL, 0, "");
	if (b.len >= b.cap)
		return -1;
	t->notify_tail[b.len] = '\0';
	t->notify_tail_len = b.len;
	return 0;
}

/* The branch of index 0: the coinbase node's sibling at every level.  row
 * holds a level's known nodes, positions 1..m-1; the next level's j >= 1
 * hashes 2j and 2j+1 (the last one twice when m is odd), in place as
 * j-1 < 2j-1.  m > 1 at the end: deeper than JOB_MAX_BRANCH. */
int
tmpl_finish(struct tmpl *t)
{
	uint8_t (*row)[32], pair[64];
	size_t m = t->ntx + 1, j;

	t->refs = 1;
	t->nbranch = 0;
	if (target_from_bits(t->bits, t->target) < 0)
		return -1;
	if (t->ntx > 0) {
		if (t->ntx > SIZE_MAX / 32 ||
		    (row = malloc(t->ntx * 32)) == NULL)
			return -1;
		memcpy(row, t->txid, t->ntx * 32);
		for (; m > 1 && t->nbranch < JOB_MAX_BRANCH; m = (m + 1) / 2) {
			memcpy(t->branch[t->nbranch++], row[0], 32);
			for (j = 1; j < (m + 1) / 2; j++) {
				memcpy(pair, row[2 * j - 1], 32);
				memcpy(pair + 32, row[2 * j < m - 1 ? 2 * j :
				    2 * j - 1], 32);
				sha256d(pair, 64, row[j - 1]);
			}
		}
		free(row);
		if (m > 1)
			return -1;
	}
	return notify_text(t);
}

/* Raw text of string member key (escapes not decoded: hex has none), or
 * NULL when it is missing or no string. */
static const char *
get_raw(const struct json_doc *d, int obj, const char *key, size_t *len)
{
	int i = json_get(d, obj, key);

	if (json_type(d, i) != JSON_STRING)
		return NULL;
	*len = d->toks[i].len;
	return d->src + d->toks[i].start;
}

/* A 64-digit display-order hash, stored in internal order. */
static int
get_hash(const struct json_doc *d, int obj, const char *key, uint8_t out[32])
{
	const char *s;
	size_t len;
	uint8_t b[32];
	int i;

	if ((s = get_raw(d, obj, key, &len)) == NULL ||
	    hex_decode(s, len, b, 32) < 0)
		return -1;
	for (i = 0; i < 32; i++)
		out[i] = b[31 - i];
	return 0;
}

static int
get_int(const struct json_doc *d, int obj, const char *key, int64_t min,
    int64_t max, int64_t *out)
{
	int i = json_get(d, obj, key);

	if (json_type(d, i) != JSON_NUMBER || json_int64(d, i, out) < 0)
		return -1;
	return *out >= min && *out <= max ? 0 : -1;
}

/* A 32-bit field given either as a JSON number (Core writes version as a
 * signed int32) or as 8 hex digits of the number (bits, always). */
static int
get_u32(const struct json_doc *d, int obj, const char *key, uint32_t *out)
{
	const char *s;
	size_t len;
	uint8_t b[4];
	int64_t v;

	if ((s = get_raw(d, obj, key, &len)) != NULL) {
		if (hex_decode(s, len, b, 4) < 0)
			return -1;
		*out = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		    (uint32_t)b[2] << 8 | b[3];
		return 0;
	}
	if (get_int(d, obj, key, INT32_MIN, UINT32_MAX, &v) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
read_header(struct tmpl *t, const struct json_doc *d, int r, char *err,
    size_t errlen)
{
	int64_t cur, min;

	if (get_u32(d, r, "version", &t->version) < 0)
		return errf(err, errlen,
		    "version: missing or not a 32-bit number");
	if (get_hash(d, r, "previousblockhash", t->prevhash) < 0)
		return errf(err, errlen,
		    "previousblockhash: missing or not 64 hex digits");
	if (get_u32(d, r, "bits", &t->bits) < 0 ||
	    target_from_bits(t->bits, t->target) < 0)
		return errf(err, errlen,
		    "bits: missing or not a valid compact target");
	if (get_int(d, r, "curtime", 0, UINT32_MAX, &cur) < 0)
		return errf(err, errlen,
		    "curtime: missing or not a 32-bit time");
	min = cur;
	if (json_get(d, r, "mintime") >= 0 &&
	    get_int(d, r, "mintime", 0, UINT32_MAX, &min) < 0)
		return errf(err, errlen, "mintime: not a 32-bit time");
	t->curtime = (uint32_t)cur;
	t->mintime = (uint32_t)min;
	if (get_int(d, r, "height", 0, INT32_MAX, &t->height) < 0)
		return errf(err, errlen, "height: missing or not in 0..2^31-1");
	if (get_int(d, r, "coinbasevalue", 0, MAX_MONEY, &t->coinbasevalue) < 0)
		return errf(err, errlen,
		    "coinbasevalue: missing or not in 0..21e14");
	return 0;
}

/* Segwit is in force unless the template lists its BIP 9 rules without
 * it.  bcoin sends a default_witness_commitment even before activation;
 * a witness in the block is then "unexpected-witness". */
static int
segwit_active(const struct json_doc *d, int r)
{
	int rules = json_get(d, r, "rules"), i, e;

	if (json_type(d, rules) != JSON_ARRAY)
		return 1;
	for (i = 0; (e = json_at(d, rules, (size_t)i)) >= 0; i++)
		if (json_streq(d, e, "segwit") || json_streq(d, e, "!segwit"))
			return 1;
	return 0;
}

/* default_witness_commitment and longpollid, both optional. */
static int
read_extras(struct tmpl *t, const struct json_doc *d, int r, char *err,
    size_t errlen)
{
	const char *s;
	size_t len;
	int i;

	if (json_get(d, r, "default_witness_commitment") >= 0 &&
	    segwit_active(d, r)) {
		s = get_raw(d, r, "default_witness_commitment", &len);
		if (s == NULL || len % 2 != 0 || len / 2 < COMMIT_MIN ||
		    len / 2 > JOB_COMMITMENT_MAX ||
		    (t->commitment = malloc(len / 2)) == NULL ||
		    hex_decode(s, len, t->commitment, len / 2) < 0 ||
		    memcmp(t->commitment, commit_magic, 6) != 0)
			return errf(err, errlen, "default_witness_commitment: "
			    "not a hex 6a24aa21a9ed script of 38..%d bytes",
			    JOB_COMMITMENT_MAX);
		t->commitment_len = len / 2;
	}
	i = json_get(d, r, "longpollid");
	if (i >= 0 && json_string(d, i, t->longpollid,
	    sizeof(t->longpollid)) < 0)
		return errf(err, errlen, "longpollid: not a string of < %d "
		    "bytes", JOB_LONGPOLLID_MAX);
	return 0;
}

/* The txids, every "data" (checked as hex) concatenated, the branch.  The
 * array's own text bounds the data: one allocation, slightly too big. */
static int
read_txs(struct tmpl *t, const struct json_doc *d, int r, char *err,
    size_t errlen)
{
	int arr = json_get(d, r, "transactions"), tx;
	const char *s;
	size_t n, i, k, len;

	if (json_type(d, arr) != JSON_ARRAY)
		return errf(err, errlen,
		    "transactions: missing or not an array");
	if ((n = d->toks[arr].size) > SIZE_MAX / 32)
		return errf(err, errlen, "transactions: too many");
	t->txid = malloc(n > 0 ? n * 32 : 1);
	t->txhex = malloc((size_t)d->toks[arr].len + 1);
	if (t->txid == NULL || t->txhex == NULL)
		return errf(err, errlen, "transactions: out of memory");
	t->ntx = n;
	for (i = 0, tx = arr + 1; i < n; i++, tx = (int)d->toks[tx].next) {
		if (json_type(d, tx) != JSON_OBJECT)
			return errf(err, errlen, "transactions[%zu]: not an "
			    "object", i);
		if (get_hash(d, tx, "txid", t->txid[i]) < 0)
			return errf(err, errlen, "transactions[%zu].txid: "
			    "missing or not 64 hex digits", i);
		s = get_raw(d, tx, "data", &len);
		for (k = 0; s != NULL && k < len &&
		    hexv[(unsigned char)s[k]] != 0; k++)
			;
		if (s == NULL || len == 0 || len % 2 != 0 || k < len)
			return errf(err, errlen, "transactions[%zu].data: "
			    "missing or not hex", i);
		memcpy(t->txhex + t->txhex_len, s, len);
		t->txhex_len += len;
	}
	t->txhex[t->txhex_len] = '\0';
	if (tmpl_finish(t) < 0)
		return errf(err, errlen, "transactions: out of memory or more "
		    "than 2^%d", JOB_MAX_BRANCH);
	return 0;
}

struct tmpl *
tmpl_from_json(const struct json_doc *doc, int result, char *err,
    size_t errlen)
{
	struct tmpl *t;

	if (json_type(doc, result) != JSON_OBJECT ||
	    (t = calloc(1, sizeof(*t))) == NULL) {
		errf(err, errlen, "template: no JSON object, or out of memory");
		return NULL;
	}
	t->refs = 1;
	if (read_header(t, doc, result, err, errlen) < 0 ||
	    read_extras(t, doc, result, err, errlen) < 0 ||
	    read_txs(t, doc, result, err, errlen) < 0) {
		tmpl_unref(t);
		return NULL;
	}
	return t;
}

/* ---- coinbase ---- */

/* The height as Bitcoin Core's CScript() << height pushes it (BIP 34):
 * OP_0, OP_1..OP_16, or minimal little-endian bytes with a sign byte when
 * the top bit is set.  h is 0..2^31-1: at most 5 bytes.  Returns them. */
static size_t
bip34_push(uint8_t *out, int64_t h)
{
	size_t n = 0;

	if (h <= 16) {
		out[0] = h == 0 ? 0x00 : (uint8_t)(0x50 + h);
		return 1;
	}
	for (; h > 0; h >>= 8)
		out[1 + n++] = (uint8_t)h;
	if (out[n] & 0x80)
		out[1 + n++] = 0x00;
	out[0] = (uint8_t)n;
	return n + 1;
}

/* The coinbase without the extranonce (layout in job.h): one input with a
 * null outpoint, the payout and the commitment outputs, locktime 0.
 * Returns the length; *n1 gets coinb1's. */
static size_t
coinbase(uint8_t *cb, const struct tmpl *t, const uint8_t *script,
    size_t script_len, const char *tag, size_t en2_size, size_t *n1)
{
	size_t p = CB_SCRIPTSIG_AT, en = JOB_EN1_SIZE + en2_size;
	size_t tag_len = tag != NULL ? strlen(tag) : 0;

	le_store(cb, CB_VERSION, 4);
	cb[4] = 1;
	memset(cb + 5, 0, 32);
	le_store(cb + 37, 0xffffffffu, 4);
	p += bip34_push(cb + p, t->height);
	if (tag_len > JOB_TAG_MAX)
		tag_len = JOB_TAG_MAX;
	if (tag_len > 0) {
		cb[p++] = (uint8_t)tag_len;
		memcpy(cb + p, tag, tag_len);
		p += tag_len;
	}
	cb[p++] = (uint8_t)en;
	cb[CB_SCRIPTSIG_AT - 1] = (uint8_t)(p - CB_SCRIPTSIG_AT + en);
	*n1 = p;
	le_store(cb + p, CB_SEQUENCE, 4);
	cb[p + 4] = t->commitment != NULL ? 2 : 1;
	le_store(cb + p + 5, (uint64_t)t->coinbasevalue, 8);
	cb[p + 13] = (uint8_t)script_len;
	memcpy(cb + p + 14, script, script_len);
	p += 14 + script_len;
	if (t->commitment != NULL) {
		le_store(cb + p, 0, 8);
		cb[p + 8] = (uint8_t)t->commitment_len;
		memcpy(cb + p + 9, t->commitment, t->commitment_len);
		p += 9 + t->commitment_len;
	}
	le_store(cb + p, 0, 4);
	return p + 4;
}

int
job_init(struct job *j, struct tmpl *t, const uint8_t *script,
    size_t script_len, const char *tag, size_t en2_size, char *err,
    size_t errlen)
{
	uint8_t cb[CB_MAX];
	size_t n1, n;

	memset(j, 0, sizeof(*j));
	if (en2_size < JOB_EN2_MIN || en2_size > JOB_EN2_MAX)
		return errf(err, errlen, "extranonce2 size %zu not in %d..%d",
		    en2_size, JOB_EN2_MIN, JOB_EN2_MAX);
	if (script_len == 0 || script_len > JOB_SCRIPT_MAX)
		return errf(err, errlen, "payout script of %zu bytes not in "
		    "1..%d", script_len, JOB_SCRIPT_MAX);
	if (t->height < 0 || t->height > INT32_MAX ||
	    t->coinbasevalue < 0 || t->coinbasevalue > MAX_MONEY ||
	    (t->commitment != NULL && t->commitment_len > JOB_COMMITMENT_MAX))
		return errf(err, errlen, "template: height, value or "
		    "commitment out of range");
	n = coinbase(cb, t, script, script_len, tag, en2_size, &n1);
	if (job_init_raw(j, t, cb, n1, cb + n1, n - n1, en2_size) < 0)
		return errf(err, errlen, "job: out of memory");
	return 0;
}

int
job_init_raw(struct job *j, struct tmpl *t, const uint8_t *cb1,
    size_t cb1_len, const uint8_t *cb2, size_t cb2_len, size_t en2_size)
{
	memset(j, 0, sizeof(*j));
	if (en2_size > JOB_EN2_MAX || cb1_len < 4 || cb2_len < 4 ||
	    cb1_len > SIZE_MAX - cb2_len)
		return -1;
	/* One allocation; cb2 follows cb1. */
	if ((j->cb1 = malloc(cb1_len + cb2_len)) == NULL)
		return -1;
	j->cb2 = j->cb1 + cb1_len;
	memcpy(j->cb1, cb1, cb1_len);
	memcpy(j->cb2, cb2, cb2_len);
	j->cb1_len = cb1_len;
	j->cb2_len = cb2_len;
	j->en2_size = en2_size;
	sha256_init(&j->mid);
	sha256_update(&j->mid, j->cb1, cb1_len - cb1_len % 64);
	tmpl_ref(t);
	j->t = t;
	return 0;
}

void
job_free(struct job *j)
{
	free(j->cb1);
	tmpl_unref(j->t);
	memset(j, 0, sizeof(*j));
}

/* ---- mining.notify ---- */

int
job_notify_coinbase(const struct job *j, char *buf, size_t cap)
{
	struct sbuf b = { buf, cap, 0 };

	sb_add(&b, "", j->cb1, j->cb1_len, "\",\"");
	sb_add(&b, "", j->cb2, j->cb2_len, "");
	if (b.len >= cap || b.len > INT32_MAX)
		return -1;
	buf[b.len] = '\0';
	return (int)b.len;
}

int
job_notify(const struct job *j, const char *job_id, int clean, char *buf,
    size_t cap)
{
	const struct tmpl *t = j->t;
	struct sbuf b = { buf, cap, 0 };
	const char *c;
	int n;

	for (c = job_id; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == '"' || *c == '\\')
			return -1;
	sb_add(&b, "{\"id\":null,\"method\":\"mining.notify\",\"params\":[\"",
	    NULL, 0, job_id);
	sb_add(&b, "\",\"", NULL, 0, t->notify_ph);
	sb_add(&b, "\",\"", NULL, 0, "");
	if (b.len < cap && (n = job_notify_coinbase(j, buf + b.len,
	    cap - b.len)) >= 0)
		b.len += (size_t)n;
	else
		b.len = cap;
	sb_add(&b, "\",", NULL, 0, t->notify_tail);
	sb_add(&b, clean ? "true]}\n" : "false]}\n", NULL, 0, "");
	if (b.len >= cap || b.len > INT32_MAX)
		return -1;
	buf[b.len] = '\0';
	return (int)b.len;
}

/* ---- the share check ---- */

/* The coinbase txid from the midstate: the rest of cb1, the extranonces,
 * cb2, then a second SHA-256 of one compression.  Then up the branch. */
void
job_header(const struct job *j, const struct job_share *s,
    uint8_t header[80])
{
	struct sha256 c = j->mid;
	size_t done = j->cb1_len - j->cb1_len % 64, i;
	uint8_t node[64];	/* running root || branch entry */

	sha256_update(&c, j->cb1 + done, j->cb1_len - done);
	sha256_update(&c, s->en1, JOB_EN1_SIZE);
	sha256_update(&c, s->en2, j->en2_size);
	sha256_update(&c, j->cb2, j->cb2_len);
	sha256_final(&c, node);
	sha256(node, 32, node);
	for (i = 0; i < j->t->nbranch; i++) {
		memcpy(node + 32, j->t->branch[i], 32);
		sha256d(node, 64, node);
	}
	le_store(header, s->version, 4);
	memcpy(header + 4, j->t->prevhash, 32);
	memcpy(header + 36, node, 32);
	le_store(header + 68, s->ntime, 4);
	le_store(header + 72, j->t->bits, 4);
	le_store(header + 76, s->nonce, 4);
}

void
job_check(const struct job *j, const struct job_share *s,
    const uint8_t share_target[32], struct job_result *r)
{
	uint8_t header[80];

	job_header(j, s, header);
	sha256d(header, 80, r->hash);
	r->diff = target_to_diff(r->hash);
	r->meets_share = target_meets(r->hash, share_target);
	r->meets_network = target_meets(r->hash, j->t->target);
}

/* ---- the block ---- */

/* With a commitment the coinbase carries its witness (BIP 141): marker
 * and flag after the version, and before the locktime one stack item, the
 * all-zero reserved value default_witness_commitment was computed with. */
char *
job_block_hex(const struct job *j, const struct job_share *s, size_t *len)
{
	static const uint8_t marker[2] = { 0x00, 0x01 };
	static const uint8_t wit[WITNESS_LEN] = { 0x01, 0x20 };
	const struct tmpl *t = j->t;
	int w = t->commitment != NULL;
	size_t cbn = j->cb1_len + JOB_EN1_SIZE + j->en2_size + j->cb2_len +
	    (w ? 2 + WITNESS_LEN : 0);
	uint64_t ntx = (uint64_t)t->ntx + 1;
	size_t k = ntx < 0xfd ? 0 : ntx <= 0xffff ? 2 :
	    ntx <= 0xffffffffu ? 4 : 8;
	uint8_t header[80], cnt[9];
	char *out, *p;

	if (cbn > (SIZE_MAX - t->txhex_len) / 2 - 100 ||
	    (out = malloc(2 * (80 + 9 + cbn) + t->txhex_len + 1)) == NULL)
		return NULL;
	job_header(j, s, header);
	p = put_hex(out, header, 80);
	/* the transaction count, a CompactSize */
	cnt[0] = k == 0 ? (uint8_t)ntx : k == 2 ? 0xfd : k == 4 ? 0xfe : 0xff;
	le_store(cnt + 1, ntx, k);
	p = put_hex(p, cnt, 1 + k);
	p = put_hex(p, j->cb1, 4);
	if (w)
		p = put_hex(p, marker, 2);
	p = put_hex(p, j->cb1 + 4, j->cb1_len - 4);
	p = put_hex(p, s->en1, JOB_EN1_SIZE);
	p = put_hex(p, s->en2, j->en2_size);
	p = put_hex(p, j->cb2, j->cb2_len - 4);
	if (w)
		p = put_hex(p, wit, WITNESS_LEN);
	p = put_hex(p, j->cb2 + j->cb2_len - 4, 4);
	if (t->txhex_len > 0)
		memcpy(p, t->txhex, t->txhex_len);
	p += t->txhex_len;
	*p = '\0';
	if (len != NULL)
		*len = (size_t)(p - out);
	return out;
}
