/*
 * test_job.c - job.c against real blocks and rules written out by hand.
 *
 * The centre is a small raw block/transaction walker of its own (it shares
 * no code with job.c): each block in ../shared/vectors/blocks is taken
 * apart, turned back into a template plus its real coinbase, and job.c
 * must rebuild the block hash and the block byte for byte.
 */
#include <math.h>
#include <stdint.h>

#include "job.h"
#include "json.h"
#include "sha256.h"
#include "test.h"

#define TX_MAXOUT 16

/* ---- the walker ---- */

struct rd {
	const uint8_t *p;
	size_t n, at;
	int bad;
};

static uint64_t
rd_le(struct rd *r, size_t k)
{
	uint64_t v = 0;
	size_t i;

	if (r->bad || r->n - r->at < k) {
		r->bad = 1;
		return 0;
	}
	for (i = 0; i < k; i++)
		v |= (uint64_t)r->p[r->at + i] << (8 * i);
	r->at += k;
	return v;
}

static uint64_t
rd_cs(struct rd *r)
{
	uint64_t v = rd_le(r, 1);

	if (v == 0xfd)
		return rd_le(r, 2);
	if (v == 0xfe)
		return rd_le(r, 4);
	if (v == 0xff)
		return rd_le(r, 8);
	return v;
}

static void
rd_skip(struct rd *r, uint64_t k)
{
	if (r->bad || r->n - r->at < k)
		r->bad = 1;
	else
		r->at += (size_t)k;
}

/* One transaction: where it lies and where its parts lie (offsets into
 * the buffer walked), its txid (non-witness serialization) and wtxid. */
struct tx {
	size_t start, end, body, body_end;	/* body: after marker/flag */
	int segwit;
	size_t nin, nout;
	size_t ss_at, ss_len;			/* input 0's scriptSig */
	size_t out_at[TX_MAXOUT], script_at[TX_MAXOUT], script_len[TX_MAXOUT];
	size_t wit_n, wit_at, wit_len;		/* input 0's stack, item 0 */
	uint32_t version, locktime;
	uint8_t txid[32], wtxid[32];
};

static void
tx_inputs(struct rd *r, struct tx *t)
{
	size_t i;
	uint64_t len;

	t->nin = (size_t)rd_cs(r);
	for (i = 0; i < t->nin && !r->bad; i++) {
		rd_skip(r, 36);
		len = rd_cs(r);
		if (i == 0) {
			t->ss_at = r->at;
			t->ss_len = (size_t)len;
		}
		rd_skip(r, len + 4);
	}
}

static void
tx_outputs(struct rd *r, struct tx *t)
{
	size_t i;
	uint64_t len;

	t->nout = (size_t)rd_cs(r);
	for (i = 0; i < t->nout && !r->bad; i++) {
		if (i < TX_MAXOUT)
			t->out_at[i] = r->at;
		rd_skip(r, 8);
		len = rd_cs(r);
		if (i < TX_MAXOUT) {
			t->script_at[i] = r->at;
			t->script_len[i] = (size_t)len;
		}
		rd_skip(r, len);
	}
}

static void
tx_witness(struct rd *r, struct tx *t)
{
	size_t i, k, n;
	uint64_t len;

	for (i = 0; i < t->nin && !r->bad; i++) {
		n = (size_t)rd_cs(r);
		if (i == 0)
			t->wit_n = n;
		for (k = 0; k < n && !r->bad; k++) {
			len = rd_cs(r);
			if (i == 0 && k == 0) {
				t->wit_at = r->at;
				t->wit_len = (size_t)len;
			}
			rd_skip(r, len);
		}
	}
}

/* Walk one transaction at r->at; 0 or -1. */
static int
tx_walk(struct rd *r, struct tx *t)
{
	struct sha256 c;
	uint8_t h[32];

	memset(t, 0, sizeof(*t));
	t->start = r->at;
	t->version = (uint32_t)rd_le(r, 4);
	if (r->n - r->at >= 2 && r->p[r->at] == 0 && r->p[r->at + 1] == 1) {
		t->segwit = 1;
		r->at += 2;
	}
	t->body = r->at;
	tx_inputs(r, t);
	tx_outputs(r, t);
	t->body_end = r->at;
	if (t->segwit)
		tx_witness(r, t);
	t->locktime = (uint32_t)rd_le(r, 4);
	t->end = r->at;
	if (r->bad || t->nin == 0)
		return -1;
	sha256_init(&c);
	sha256_update(&c, r->p + t->start, 4);
	sha256_update(&c, r->p + t->body, t->body_end - t->body);
	sha256_update(&c, r->p + t->end - 4, 4);
	sha256_final(&c, h);
	sha256(h, 32, t->txid);
	sha256d(r->p + t->start, t->end - t->start, t->wtxid);
	return 0;
}

struct blk {
	uint8_t *raw;
	size_t len, ntx;
	struct tx *tx;
};

/* Walk a whole block; it must end exactly at its last byte. */
static int
blk_walk(struct blk *b, uint8_t *raw, size_t len)
{
	struct rd r;
	size_t i;

	memset(b, 0, sizeof(*b));
	b->raw = raw;
	b->len = len;
	r.p = raw;
	r.n = len;
	r.at = 80;
	r.bad = len < 80;
	b->ntx = (size_t)rd_cs(&r);
	if (r.bad || b->ntx == 0 || b->ntx > len ||
	    (b->tx = calloc(b->ntx, sizeof(*b->tx))) == NULL)
		return -1;
	for (i = 0; i < b->ntx; i++)
		if (tx_walk(&r, &b->tx[i]) < 0)
			return -1;
	return r.at == len ? 0 : -1;
}

static int
blk_load(struct blk *b, const char *name)
{
	char path[512];
	size_t len;
	char *raw;

	snprintf(path, sizeof(path), "%s/blocks/%s", test_vectors(), name);
	if ((raw = test_read_file(path, &len)) == NULL) {
		fprintf(stderr, "cannot read %s\n", path);
		return -1;
	}
	if (blk_walk(b, (uint8_t *)raw, len) < 0) {
		fprintf(stderr, "cannot walk %s\n", path);
		free(raw);
		free(b->tx);
		return -1;
	}
	return 0;
}

static void
blk_free(struct blk *b)
{
	free(b->raw);
	free(b->tx);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* The merkle root of n hashes (n >= 1), computed level by level. */
static void
merkle_root(const uint8_t (*leaf)[32], size_t n, uint8_t root[32])
{
	uint8_t (*row)[32] = malloc(n * 32), pair[64];
	size_t i;

	memcpy(row, leaf, n * 32);
	while (n > 1) {
		for (i = 0; i < n; i += 2) {
			memcpy(pair, row[i], 32);
			memcpy(pair + 32, row[i + 1 < n ? i + 1 : i], 32);
			sha256d(pair, 64, row[i / 2]);
		}
		n = (n + 1) / 2;
	}
	memcpy(root, row[0], 32);
	free(row);
}

/* Index of the last output whose script is a BIP 141 commitment, or -1. */
static int
commit_out(const struct blk *b, const struct tx *t)
{
	static const uint8_t magic[6] = { 0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed };
	int i, found = -1;

	for (i = 0; i < (int)t->nout && i < TX_MAXOUT; i++)
		if (t->script_len[i] >= 38 &&
		    memcmp(b->raw + t->script_at[i], magic, 6) == 0)
			found = i;
	return found;
}

/* BIP 141: SHA256d(witness root (coinbase wtxid = 0) || reserved value),
 * as the script 6a24aa21a9ed || commitment. */
static void
witness_commitment(const struct blk *b, const uint8_t reserved[32],
    uint8_t script[38])
{
	uint8_t (*w)[32] = calloc(b->ntx, 32), buf[64];
	size_t i;

	for (i = 1; i < b->ntx; i++)
		memcpy(w[i], b->tx[i].wtxid, 32);
	merkle_root((const uint8_t (*)[32])w, b->ntx, buf);
	memcpy(buf + 32, reserved, 32);
	memcpy(script, "\x6a\x24\xaa\x21\xa9\xed", 6);
	sha256d(buf, 64, script + 6);
	free(w);
}

static void
check_commitment(const struct blk *b)
{
	const struct tx *cb = &b->tx[0];
	uint8_t script[38];
	int k = commit_out(b, cb);

	CHECK(k >= 0 && cb->segwit && cb->wit_n == 1 && cb->wit_len == 32);
	if (k < 0 || cb->wit_len != 32)
		return;
	witness_commitment(b, b->raw + cb->wit_at, script);
	CHECK(cb->script_len[k] == 38);
	CHECK(memcmp(script, b->raw + cb->script_at[k], 38) == 0);
}

/* ---- templates from real blocks ---- */

/* The coinbase's non-witness serialization; *ss gets its scriptSig's
 * offset in it.  malloc'd. */
static uint8_t *
cb_nonwitness(const struct blk *b, size_t *len, size_t *ss)
{
	const struct tx *t = &b->tx[0];
	size_t body = t->body_end - t->body;
	uint8_t *out = malloc(8 + body);

	memcpy(out, b->raw + t->start, 4);
	memcpy(out + 4, b->raw + t->body, body);
	memcpy(out + 4 + body, b->raw + t->end - 4, 4);
	*len = 8 + body;
	*ss = 4 + (t->ss_at - t->body);
	return out;
}

static char *
hex_of(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);

	hex_encode(p, n, s);
	return s;
}

/* A template as getblocktemplate would have given it for block b. */
static struct tmpl *
tmpl_of(const struct blk *b, int64_t height)
{
	struct tmpl *t = calloc(1, sizeof(*t));
	const struct tx *cb = &b->tx[0];
	size_t i;
	int k;

	t->version = le32(b->raw);
	memcpy(t->prevhash, b->raw + 4, 32);
	t->curtime = t->mintime = le32(b->raw + 68);
	t->bits = le32(b->raw + 72);
	t->height = height;
	for (i = 0; i < cb->nout; i++)
		t->coinbasevalue += (int64_t)rd_le(&(struct rd){ b->raw,
		    b->len, cb->out_at[i], 0 }, 8);
	t->ntx = b->ntx - 1;
	t->txid = malloc(t->ntx * 32 + 1);
	for (i = 1; i < b->ntx; i++)
		memcpy(t->txid[i - 1], b->tx[i].txid, 32);
	t->txhex = hex_of(b->raw + cb->end, b->len - cb->end);
	t->txhex_len = 2 * (b->len - cb->end);
	if ((k = commit_out(b, cb)) >= 0) {
		t->commitment_len = cb->script_len[k];
		t->commitment = malloc(t->commitment_len);
		memcpy(t->commitment, b->raw + cb->script_at[k],
		    t->commitment_len);
	}
	return t;
}

static void
check_diff(const uint8_t hash[32], double diff)
{
	long double v = 0, want;
	int i;

	for (i = 31; i >= 0; i--)
		v = v * 256 + hash[i];
	want = ldexpl(65535.0L, 208) / v;
	CHECKF(fabsl(diff - want) <= 1e-9L * want, "diff %.17g want %.17Lg",
	    diff, want);
}

/* hash - 1 as 256-bit integers (hash is never 0 here). */
static void
minus_one(const uint8_t in[32], uint8_t out[32])
{
	int i;

	memcpy(out, in, 32);
	for (i = 0; i < 32 && out[i]-- == 0; i++)
		;
}

/* Share checks around the real hash: share and network targets at the
 * hash itself, one below, and difficulty-derived ones either side. */
static void
check_targets(struct job *j, const struct job_share *s,
    const struct job_result *r0)
{
	struct job_result r;
	uint8_t below[32], net[32], tgt[32];

	minus_one(r0->hash, below);
	job_check(j, s, r0->hash, &r);
	CHECK(r.meets_share == 1);
	job_check(j, s, below, &r);
	CHECK(r.meets_share == 0 && r.meets_network == 1);
	CHECK(target_from_diff(r0->diff * (1 + 1e-6), tgt) == 0);
	job_check(j, s, tgt, &r);
	CHECK(r.meets_share == 0);
	CHECK(target_from_diff(r0->diff * (1 - 1e-6), tgt) == 0);
	job_check(j, s, tgt, &r);
	CHECK(r.meets_share == 1);
	memcpy(net, j->t->target, 32);
	memcpy(j->t->target, below, 32);
	job_check(j, s, tgt, &r);
	CHECK(r.meets_share == 1 && r.meets_network == 0);
	memcpy(j->t->target, r0->hash, 32);
	job_check(j, s, tgt, &r);
	CHECK(r.meets_network == 1);
	memcpy(j->t->target, net, 32);
}

/* Rebuild block b from t with the real coinbase split so that en1||en2 are
 * the real bytes at off..off+4+en2 of it. */
static void
check_rebuild(const struct blk *b, struct tmpl *t, const uint8_t *cb,
    size_t cblen, size_t off, size_t en2, const char *want_hash,
    double want_diff)
{
	struct job j;
	struct job_share s;
	struct job_result r;
	uint8_t header[80], hash[32];
	char disp[65], *hex, *want;
	size_t n, i;

	CHECK(job_init_raw(&j, t, cb, off, cb + off + 4 + en2,
	    cblen - off - 4 - en2, en2) == 0);
	memset(&s, 0, sizeof(s));
	memcpy(s.en1, cb + off, 4);
	memcpy(s.en2, cb + off + 4, en2);
	s.version = le32(b->raw);
	s.ntime = le32(b->raw + 68);
	s.nonce = le32(b->raw + 76);
	job_header(&j, &s, header);
	CHECK(memcmp(header, b->raw, 80) == 0);
	job_check(&j, &s, t->target, &r);
	sha256d(b->raw, 80, hash);
	CHECK(memcmp(r.hash, hash, 32) == 0);
	for (i = 0; i < 32; i++)
		hash[i] = r.hash[31 - i];
	hex_encode(hash, 32, disp);
	CHECKF(strcmp(disp, want_hash) == 0, "%s != %s", disp, want_hash);
	CHECK(r.meets_network == 1 && r.meets_share == 1);
	check_diff(r.hash, r.diff);
	CHECKF(fabs(r.diff / want_diff - 1) < 1e-12, "diff %.17g", r.diff);
	check_targets(&j, &s, &r);
	hex = job_block_hex(&j, &s, &n);
	want = hex_of(b->raw, b->len);
	CHECK(hex != NULL && n == 2 * b->len && strcmp(hex, want) == 0);
	free(hex);
	free(want);
	job_free(&j);
}

/* Our BIP 34 push for t->height equals the start of the real scriptSig. */
static void
check_bip34_real(const struct blk *b, struct tmpl *t)
{
	static const uint8_t op_true = 0x51;
	struct job j;
	char err[128];
	size_t n;

	CHECK(job_init(&j, t, &op_true, 1, NULL, 4, err, sizeof(err)) == 0);
	n = j.cb1_len - 42 - 1;	/* the height push, no tag */
	CHECK(n >= 2 && n <= 5 && b->tx[0].ss_len > n);
	CHECK(memcmp(j.cb1 + 42, b->raw + b->tx[0].ss_at, n) == 0);
	job_free(&j);
}

static const struct {
	const char *file;
	int64_t height;
	size_t en2;
	int bip34, segwit;
	const char *hash;	/* vectors/README.md */
	double diff;		/* diff1 / hash, exact rational, rounded */
} blocks[] = {
	{ "block1.raw", 1, 2, 0, 0,
	  "00000000839a8e6886ab5951d76f411475428afc90947ee320161bbf18eb6048",
	  1.9452038562555845 },
	{ "block300025.raw", 300025, 8, 1, 0,
	  "0000000000000000821c4e0acc40f88bedbce3b73ba2358b5ade58a9022cc78c",
	  8450465521.79139 },
	{ "block482683.raw", 482683, 4, 1, 1,
	  "000000000000000000c238240ef6dcb26c37e75e16514e6ffc0aef7eee73e747",
	  1449241560655.47 },
	{ "block898352.raw", 898352, 16, 1, 0,
	  "00000000c269ad542ed9ac684cb5fa6df340d5feee0e040590225c7332b98fca",
	  1.3167656264552838 },
	{ "block928816.raw", 928816, 0, 1, 1,
	  "00000000000001c4b87edf974ddc601d88dda332265b9849a944a5ff0141a378",
	  9486868.820969943 },
};

static void
test_block(size_t k)
{
	struct blk b;
	struct tmpl *t;
	uint8_t *cb;
	size_t cblen, ss, ss_len, en2;

	if (blk_load(&b, blocks[k].file) < 0) {
		CHECK(0);
		return;
	}
	t = tmpl_of(&b, blocks[k].height);
	CHECK(tmpl_finish(t) == 0);
	CHECK((t->commitment != NULL) == blocks[k].segwit);
	if (blocks[k].segwit)
		check_commitment(&b);
	cb = cb_nonwitness(&b, &cblen, &ss);
	ss_len = b.tx[0].ss_len;
	en2 = blocks[k].en2 + 4 < ss_len ? blocks[k].en2 : ss_len - 5;
	/* The window at the end of the scriptSig (as job_init puts it),
	 * then right after its first byte. */
	check_rebuild(&b, t, cb, cblen, ss + ss_len - 4 - en2, en2,
	    blocks[k].hash, blocks[k].diff);
	check_rebuild(&b, t, cb, cblen, ss + 1, en2, blocks[k].hash,
	    blocks[k].diff);
	if (blocks[k].bip34)
		check_bip34_real(&b, t);
	free(cb);
	tmpl_unref(t);
	blk_free(&b);
}

/* ---- targets ---- */

static void
check_target_hex(const uint8_t t[32], const char *want)
{
	uint8_t be[32];
	char got[65];
	int i;

	for (i = 0; i < 32; i++)
		be[i] = t[31 - i];
	hex_encode(be, 32, got);
	CHECKF(strcmp(got, want) == 0, "%s != %s", got, want);
}

static void
test_targets(void)
{
	static const struct {
		double d;
		const char *hex;
	} dv[] = {
		{ 0.001, "000003e7fc17fffffffa2405dc00000008c9f735fffffff2d10d2f00000013c6" },
		{ 1e-5, "0001869e795ffffff7017bde8d2000350440d92a225ec77dedbfeaa3675216b5" },
		{ 3.0, "0000000055550000000000000000000000000000000000000000000000000000" },
		{ 1e-9, "3b9a8e6535fffef481b5fe088151b0791619e09d7e3f36fccfbaa4c14955fdb7" },
		{ 2.4e-10, "f85951506100007701bf8b60ab4c8e5c4775b2e50b21b67a2cdcd1ea288f52ba" },
		{ 1e30, "00000000000000000000000000000000144837b69fc3b3a68502dda8f577f8d6" },
	};
	uint8_t t[32], ff[32];
	double d;
	size_t i;

	CHECK(target_from_diff(1, t) == 0);
	check_target_hex(t, "00000000ffff0000000000000000000000000000000000000000000000000000");
	CHECK(target_to_diff(t) == 1.0);
	/* Exact floor(diff1 / d) for the double d (Python's Fraction(d)):
	 * 0.001 and 1e-5 are a hair above their decimal values. */
	for (i = 0; i < sizeof(dv) / sizeof(dv[0]); i++) {
		CHECK(target_from_diff(dv[i].d, t) == 0);
		check_target_hex(t, dv[i].hex);
	}
	memset(ff, 0xff, 32);
	CHECK(target_from_diff(1e-12, t) == 0 && memcmp(t, ff, 32) == 0);
	CHECK(target_from_diff(2.3e-10, t) == 0 && memcmp(t, ff, 32) == 0);
	CHECK(target_from_diff(2.4e-10, t) == 0 && memcmp(t, ff, 32) != 0);
	/* 2^256 exactly saturates; the next double up does not */
	d = 65535.0 / 281474976710656.0;
	CHECK(target_from_diff(d, t) == 0 && memcmp(t, ff, 32) == 0);
	CHECK(target_from_diff(nextafter(d, 1), t) == 0);
	check_target_hex(t, "fffffffffffff7fff7fff7fff83ff87ff8bff8fdf939f973f9ac09e23a169a49");
	CHECK(target_from_diff(0, t) < 0 && target_from_diff(-1, t) < 0);
	CHECK(target_from_diff(NAN, t) < 0 && target_from_diff(INFINITY, t) < 0);
	CHECK(target_from_diff(1e300, t) == 0);
	memset(ff, 0, 32);
	CHECK(memcmp(t, ff, 32) == 0);
	CHECK(target_to_diff(ff) > 1e300);
	ff[0] = 1;	/* diff1 / 1 */
	CHECK(target_to_diff(ff) == ldexp(65535, 208));
	ff[0] = 0;
	ff[5] = 3;	/* diff1 / 3 / 2^40 */
	CHECK(fabs(target_to_diff(ff) / ldexp(21845, 168) - 1) < 1e-15);
	ff[5] = 0;
	for (d = 3e-10; d < 1e30; d *= 3.7) {
		CHECK(target_from_diff(d, t) == 0);
		CHECKF(fabs(target_to_diff(t) / d - 1) < 1e-13, "diff %g", d);
	}
}

static void
test_bits(void)
{
	uint8_t t[32];

	CHECK(target_from_bits(0x1d00ffff, t) == 0);
	check_target_hex(t, "00000000ffff0000000000000000000000000000000000000000000000000000");
	CHECK(target_from_bits(0x207fffff, t) == 0);
	check_target_hex(t, "7fffff0000000000000000000000000000000000000000000000000000000000");
	CHECK(target_from_bits(0x1a0202f0, t) == 0);
	check_target_hex(t, "0000000000000202f00000000000000000000000000000000000000000000000");
	/* arith_uint256's SetCompact cases */
	CHECK(target_from_bits(0x01123456, t) == 0);
	check_target_hex(t, "0000000000000000000000000000000000000000000000000000000000000012");
	CHECK(target_from_bits(0x04123456, t) == 0);
	check_target_hex(t, "0000000000000000000000000000000000000000000000000000000012345600");
	CHECK(target_from_bits(0x05009234, t) == 0);
	check_target_hex(t, "0000000000000000000000000000000000000000000000000000000092340000");
	CHECK(target_from_bits(0x220000ff, t) == 0);
	check_target_hex(t, "ff00000000000000000000000000000000000000000000000000000000000000");
	CHECK(target_from_bits(0x04923456, t) < 0);	/* negative */
	CHECK(target_from_bits(0x1d80ffff, t) < 0);
	CHECK(target_from_bits(0x01003456, t) < 0);	/* zero */
	CHECK(target_from_bits(0x00000000, t) < 0);
	CHECK(target_from_bits(0x23000001, t) < 0);	/* overflow */
	CHECK(target_from_bits(0x22000100, t) < 0);
	CHECK(target_from_bits(0x21010000, t) < 0);
	CHECK(target_from_bits(0xff123456, t) < 0);
}

static void
test_hex_prevhash(void)
{
	static const char disp[] =
	    "00000000000000000002a37afd7eeb39b7892106d06a8f94df7c7866c35fe4e2";
	uint8_t b[32], ph[32];
	char out[65];
	int i, k;

	CHECK(hex_decode(disp, 64, b, 32) == 0);
	for (i = 0; i < 32; i++)
		ph[i] = b[31 - i];
	job_stratum_prevhash(ph, out);
	CHECK(strcmp(out, "c35fe4e2df7c7866d06a8f94b7892106"
	    "fd7eeb390002a37a0000000000000000") == 0);
	CHECK(hex_decode("aBcD", 4, b, 2) == 0 && b[0] == 0xab && b[1] == 0xcd);
	CHECK(hex_decode("abc", 3, b, 2) < 0 && hex_decode("abcg", 4, b, 2) < 0);
	CHECK(hex_decode("0x12", 4, b, 2) < 0 && hex_decode("", 0, b, 0) == 0);
	for (k = 0; k < 256; k++) {	/* every byte, in either place */
		char pair[2] = { (char)k, '7' };
		uint8_t one[1];
		int digit = (k >= '0' && k <= '9') || (k >= 'a' && k <= 'f') ||
		    (k >= 'A' && k <= 'F');
		int want = k <= '9' ? k - '0' : (k | 0x20) - 'a' + 10;

		CHECKF((hex_decode(pair, 2, one, 1) == 0) == digit &&
		    (!digit || one[0] == (uint8_t)(want << 4 | 7)), "byte %d", k);
		pair[0] = '7';
		pair[1] = (char)k;
		CHECKF((hex_decode(pair, 2, one, 1) == 0) == digit &&
		    (!digit || one[0] == (uint8_t)(0x70 | want)), "byte %d", k);
	}
	hex_encode(b, 2, out);
	CHECK(strcmp(out, "abcd") == 0);
}

/* ---- BIP 34 and the coinbase layout ---- */

static struct tmpl *
tiny_tmpl(int64_t height)
{
	struct tmpl *t = calloc(1, sizeof(*t));

	t->version = 0x20000000;
	t->bits = 0x207fffff;
	t->height = height;
	t->coinbasevalue = 5000000000;
	CHECK(tmpl_finish(t) == 0);
	return t;
}

/* A coinbase without commitment walks back as one input, one output. */
static void
check_plain_coinbase(const struct job *j)
{
	uint8_t cb[300];
	struct rd r;
	struct tx tx;

	memcpy(cb, j->cb1, j->cb1_len);
	memset(cb + j->cb1_len, 0xa5, 4 + j->en2_size);
	memcpy(cb + j->cb1_len + 4 + j->en2_size, j->cb2, j->cb2_len);
	r.p = cb;
	r.n = j->cb1_len + 4 + j->en2_size + j->cb2_len;
	r.at = 0;
	r.bad = 0;
	CHECK(tx_walk(&r, &tx) == 0 && r.at == r.n && tx.nin == 1);
	CHECK(tx.nout == 1 && tx.ss_at == 42 && tx.ss_len == cb[41]);
	CHECK(tx.script_len[0] == 1 && cb[tx.script_at[0]] == 0x51);
	CHECK(le32(cb + tx.out_at[0]) == 705032704 &&
	    le32(cb + tx.out_at[0] + 4) == 1);	/* 5000000000 */
}

static void
test_bip34(void)
{
	static const struct {
		int64_t h;
		size_t n;
		uint8_t b[6];
	} v[] = {
		{ 0, 1, { 0x00 } }, { 1, 1, { 0x51 } }, { 16, 1, { 0x60 } },
		{ 17, 2, { 0x01, 0x11 } }, { 127, 2, { 0x01, 0x7f } },
		{ 128, 3, { 0x02, 0x80, 0x00 } },
		{ 255, 3, { 0x02, 0xff, 0x00 } },
		{ 256, 3, { 0x02, 0x00, 0x01 } },
		{ 32767, 3, { 0x02, 0xff, 0x7f } },
		{ 32768, 4, { 0x03, 0x00, 0x80, 0x00 } },
		{ 8388607, 4, { 0x03, 0xff, 0xff, 0x7f } },
		{ 8388608, 5, { 0x04, 0x00, 0x00, 0x80, 0x00 } },
		{ 840000, 4, { 0x03, 0x40, 0xd1, 0x0c } },
		{ 2147483647, 5, { 0x04, 0xff, 0xff, 0xff, 0x7f } },
	};
	static const uint8_t op_true = 0x51;
	struct tmpl *t;
	struct job j;
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		t = tiny_tmpl(v[i].h);
		CHECK(job_init(&j, t, &op_true, 1, "", 8, err,
		    sizeof(err)) == 0);
		CHECKF(j.cb1_len == 42 + v[i].n + 1 &&
		    memcmp(j.cb1 + 42, v[i].b, v[i].n) == 0,
		    "height %lld", (long long)v[i].h);
		CHECK(j.cb1[41] == v[i].n + 1 + 12 && j.cb1[42 + v[i].n] == 12);
		check_plain_coinbase(&j);
		job_free(&j);
		tmpl_unref(t);
	}
	t = tiny_tmpl(-1);
	CHECK(job_init(&j, t, &op_true, 1, "", 8, err, sizeof(err)) < 0);
	t->height = (int64_t)INT32_MAX + 1;
	CHECK(job_init(&j, t, &op_true, 1, "", 8, err, sizeof(err)) < 0);
	CHECK(j.t == NULL && t->refs == 1);
	job_free(&j);
	tmpl_unref(t);
}

/* The tag is cut to JOB_TAG_MAX and the scriptSig never passes 100. */
static void
test_scriptsig_limits(void)
{
	static const uint8_t op_true = 0x51;
	char tag[201], err[128];
	struct tmpl *t = tiny_tmpl(2147483647);
	struct job j;
	size_t ss, en2;

	memset(tag, 'x', 200);
	tag[200] = '\0';
	tag[0] = 'A';
	for (en2 = JOB_EN2_MIN; en2 <= JOB_EN2_MAX; en2++) {
		CHECK(job_init(&j, t, &op_true, 1, tag, en2, err,
		    sizeof(err)) == 0);
		ss = j.cb1[41];
		CHECK(ss == 5 + 1 + JOB_TAG_MAX + 1 + 4 + en2 && ss <= 100);
		CHECK(j.cb1[47] == JOB_TAG_MAX && j.cb1[48] == 'A');
		CHECK(j.cb1_len == 42 + ss - 4 - en2);
		job_free(&j);
	}
	CHECK(job_init(&j, t, &op_true, 1, tag, 1, err, sizeof(err)) < 0);
	CHECK(err[0] != '\0');
	CHECK(job_init(&j, t, &op_true, 1, tag, 17, err, sizeof(err)) < 0);
	CHECK(job_init(&j, t, &op_true, 0, tag, 8, err, sizeof(err)) < 0);
	CHECK(job_init(&j, t, (const uint8_t *)tag, 65, "", 8, err,
	    sizeof(err)) < 0);
	CHECK(job_init(&j, t, (const uint8_t *)tag, 64, "", 8, err,
	    sizeof(err)) == 0);
	CHECK(j.cb2[13] == 64 && j.cb2_len == 4 + 1 + 8 + 1 + 64 + 4);
	job_free(&j);
	tmpl_unref(t);
}

/* ---- getblocktemplate JSON ---- */

#define PREV "00000000000000000002a37afd7eeb39b7892106d06a8f94df7c7866c35fe4e2"
#define TXID0 "0102030405060708091011121314151617181920212223242526272829303132"
#define TXID1 "a1a2a3a4a5a6a7a8a9b0b1b2b3b4b5b6b7b8b9c0c1c2c3c4c5c6c7c8c9d0d1d2"
#define COMMIT "6a24aa21a9ed" \
	"e2f61c3f71d1defd3fa999dfa36953755c690689799962b48bebd836974e8cf9"
#define TXS "[{\"data\":\"0100aa\",\"txid\":\"" TXID0 "\",\"hash\":\"" \
	TXID0 "\"},{\"data\":\"02BBccdd\",\"txid\":\"" TXID1 "\"}]"

/* getblocktemplate members; a test drops or replaces one of them. */
static const char *gbt[][2] = {
	{ "version", "536870912" },
	{ "previousblockhash", "\"" PREV "\"" },
	{ "transactions", TXS },
	{ "coinbasevalue", "5000000000" },
	{ "bits", "\"207fffff\"" },
	{ "curtime", "1700000000" },
	{ "mintime", "1699999000" },
	{ "height", "840000" },
	{ "default_witness_commitment", "\"" COMMIT "\"" },
	{ "longpollid", "\"lp\\u0041-7\"" },
};
#define NGBT (sizeof(gbt) / sizeof(gbt[0]))

static void
gbt_text(char *buf, size_t cap, size_t drop, size_t repl, const char *val)
{
	size_t i, n;

	n = (size_t)snprintf(buf, cap, "{\"result\":{");
	for (i = 0; i < NGBT; i++) {
		if (i == drop)
			continue;
		n += (size_t)snprintf(buf + n, cap - n, "%s\"%s\":%s",
		    buf[n - 1] == '{' ? "" : ",", gbt[i][0],
		    i == repl ? val : gbt[i][1]);
	}
	snprintf(buf + n, cap - n, "},\"error\":null,\"id\":1}");
}

/* Parse text and decode its result; NULL with err set on failure. */
static struct tmpl *
gbt_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct json_doc doc;
	struct json_tok *toks;
	struct tmpl *t = NULL;
	int n = json_parse(&doc, text, len, NULL, 0);

	err[0] = '\0';
	if (n <= 0 || (toks = malloc((size_t)n * sizeof(*toks))) == NULL) {
		snprintf(err, errlen, "json %d", n);
		return NULL;
	}
	if (json_parse(&doc, text, len, toks, (size_t)n) == n)
		t = tmpl_from_json(&doc, json_get(&doc, 0, "result"), err,
		    errlen);
	free(toks);
	return t;
}

static void
check_tiny_fields(const struct tmpl *t)
{
	uint8_t b[64];
	int i;

	CHECK(t->refs == 1 && t->version == 0x20000000);
	CHECK(hex_decode(PREV, 64, b, 32) == 0);
	for (i = 0; i < 32; i++)
		CHECK(t->prevhash[i] == b[31 - i]);
	CHECK(t->bits == 0x207fffff && t->target[31] == 0x7f &&
	    t->target[29] == 0xff && t->target[28] == 0);
	CHECK(t->curtime == 1700000000 && t->mintime == 1699999000);
	CHECK(t->height == 840000 && t->coinbasevalue == 5000000000);
	CHECK(t->commitment_len == 38 &&
	    hex_decode(COMMIT, 76, b, 38) == 0 &&
	    memcmp(t->commitment, b, 38) == 0);
	CHECK(strcmp(t->longpollid, "lpA-7") == 0);
	CHECK(t->ntx == 2 && t->txhex_len == 14 &&
	    strcmp(t->txhex, "0100aa02BBccdd") == 0);
	CHECK(hex_decode(TXID0, 64, b, 32) == 0 && t->txid[0][0] == b[31] &&
	    t->txid[0][31] == b[0]);
	CHECK(t->nbranch == 2 && memcmp(t->branch[0], t->txid[0], 32) == 0);
	memcpy(b, t->txid[1], 32);
	memcpy(b + 32, t->txid[1], 32);
	sha256d(b, 64, b);
	CHECK(memcmp(t->branch[1], b, 32) == 0);
}

/* The coinbase job_init built for the tiny template, byte by byte. */
static void
check_tiny_coinbase(const struct job *j, const uint8_t *script)
{
	static const uint8_t head[] = { 0x02, 0, 0, 0, 0x01 };
	static const uint8_t ss[] = { 0x03, 0x40, 0xd1, 0x0c, 0x09, '/', 's',
	    't', 'r', 'a', 't', 'u', 'm', '/', 0x0c };
	static const uint8_t tail[] = { 0xff, 0xff, 0xff, 0xff, 0x02,
	    0x00, 0xf2, 0x05, 0x2a, 0x01, 0, 0, 0, 22 };
	uint8_t zero[36];

	memset(zero, 0, sizeof(zero));
	CHECK(j->cb1_len == 42 + sizeof(ss) && j->en2_size == 8);
	CHECK(memcmp(j->cb1, head, 5) == 0 && memcmp(j->cb1 + 5, zero, 32) == 0);
	CHECK(memcmp(j->cb1 + 37, "\xff\xff\xff\xff", 4) == 0);
	CHECK(j->cb1[41] == sizeof(ss) + 12);
	CHECK(memcmp(j->cb1 + 42, ss, sizeof(ss)) == 0);
	CHECK(j->cb2_len == sizeof(tail) + 22 + 8 + 1 + 38 + 4);
	CHECK(memcmp(j->cb2, tail, sizeof(tail)) == 0);
	CHECK(memcmp(j->cb2 + sizeof(tail), script, 22) == 0);
	CHECK(memcmp(j->cb2 + sizeof(tail) + 22, zero, 8) == 0);
	CHECK(j->cb2[sizeof(tail) + 30] == 38);
	CHECK(memcmp(j->cb2 + sizeof(tail) + 31, j->t->commitment, 38) == 0);
	CHECK(memcmp(j->cb2 + j->cb2_len - 4, zero, 4) == 0);
}

static int
param_is(const struct json_doc *d, int params, size_t i, const char *s)
{
	return json_streq(d, json_at(d, params, i), s);
}

static void
check_notify(const struct job *j, const char *line, int n)
{
	struct json_tok toks[64];
	struct json_doc d;
	char hex[400];
	int p, br;

	CHECK(n > 0 && (size_t)n == strlen(line) && line[n - 1] == '\n');
	CHECK(json_parse(&d, line, (size_t)n, toks, 64) > 0);
	CHECK(json_type(&d, json_get(&d, 0, "id")) == JSON_NULL);
	CHECK(json_streq(&d, json_get(&d, 0, "method"), "mining.notify"));
	p = json_get(&d, 0, "params");
	CHECK(json_type(&d, p) == JSON_ARRAY && d.toks[p].size == 9);
	CHECK(param_is(&d, p, 0, "1a2b"));
	CHECK(param_is(&d, p, 1, "c35fe4e2df7c7866d06a8f94b7892106"
	    "fd7eeb390002a37a0000000000000000"));
	hex_encode(j->cb1, j->cb1_len, hex);
	CHECK(param_is(&d, p, 2, hex));
	hex_encode(j->cb2, j->cb2_len, hex);
	CHECK(param_is(&d, p, 3, hex));
	br = json_at(&d, p, 4);
	CHECK(json_type(&d, br) == JSON_ARRAY && d.toks[br].size == 2);
	hex_encode(j->t->branch[1], 32, hex);
	CHECK(json_streq(&d, json_at(&d, br, 1), hex));
	CHECK(param_is(&d, p, 5, "20000000") && param_is(&d, p, 6, "207fffff"));
	CHECK(param_is(&d, p, 7, "6553f100"));
	CHECK(json_type(&d, json_at(&d, p, 8)) == JSON_TRUE);
}

/* The pool's recipe from the parts (pool.h) gives job_notify's line;
 * job_notify_coinbase needs its exact size plus the NUL. */
static void
check_notify_parts(const struct job *j, const char *line, int n)
{
	char part[600], built[4096];
	int k, cap;

	k = job_notify_coinbase(j, part, sizeof(part));
	CHECK(k == (int)(2 * (j->cb1_len + j->cb2_len) + 3));
	snprintf(built, sizeof(built), "{\"id\":null,\"method\":\"mining."
	    "notify\",\"params\":[\"1a2b\",\"%s\",\"%s\",%strue]}\n",
	    j->t->notify_ph, part, j->t->notify_tail);
	CHECK(strlen(j->t->notify_tail) == j->t->notify_tail_len);
	CHECK((int)strlen(built) == n && strcmp(built, line) == 0);
	for (cap = 0; cap <= k + 1; cap++) {
		char *small = malloc(cap > 0 ? (size_t)cap : 1);
		CHECK(job_notify_coinbase(j, small, (size_t)cap) ==
		    (cap == k + 1 ? k : -1));
		free(small);
	}
}

/* job_header's merkle root against one computed here from the whole
 * coinbase, for tags that put cb1 on both sides of 64 bytes (midstate). */
static void
check_midstate(struct tmpl *t, const uint8_t *script)
{
	char tag[JOB_TAG_MAX + 1], err[128];
	uint8_t cb[400], leaf[3][32], root[32], header[80];
	struct job_share s;
	struct job j;
	size_t k, n;

	memset(&s, 0, sizeof(s));
	memcpy(s.en1, "\x01\x02\x03\x04", 4);
	memcpy(s.en2, "\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7", 8);
	memcpy(leaf[1], t->txid[0], 32);
	memcpy(leaf[2], t->txid[1], 32);
	for (k = 0; k <= JOB_TAG_MAX; k++) {
		memset(tag, 'a' + (int)(k % 26), k);
		tag[k] = '\0';
		CHECK(job_init(&j, t, script, 22, tag, 8, err, sizeof(err)) == 0);
		memcpy(cb, j.cb1, j.cb1_len);
		memcpy(cb + j.cb1_len, s.en1, 4);
		memcpy(cb + j.cb1_len + 4, s.en2, 8);
		memcpy(cb + j.cb1_len + 12, j.cb2, j.cb2_len);
		n = j.cb1_len + 12 + j.cb2_len;
		sha256d(cb, n, leaf[0]);
		merkle_root((const uint8_t (*)[32])leaf, 3, root);
		job_header(&j, &s, header);
		CHECKF(memcmp(header + 36, root, 32) == 0, "tag %zu", k);
		job_free(&j);
	}
}

static void
test_gbt_tiny(void)
{
	static const uint8_t script[22] = { 0x00, 0x14, 1, 2, 3, 4, 5, 6, 7,
	    8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 };
	char text[2048], err[128], line[1024];
	struct tmpl *t;
	struct job j;
	int n, cap;

	gbt_text(text, sizeof(text), NGBT, NGBT, NULL);
	t = gbt_parse(text, strlen(text), err, sizeof(err));
	CHECKF(t != NULL, "%s", err);
	if (t == NULL)
		return;
	check_tiny_fields(t);
	CHECK(job_init(&j, t, script, 22, "/stratum/", 8, err,
	    sizeof(err)) == 0 && t->refs == 2);
	check_tiny_coinbase(&j, script);
	n = job_notify(&j, "1a2b", 1, line, sizeof(line));
	check_notify(&j, line, n);
	check_notify_parts(&j, line, n);
	CHECK(job_notify(&j, "1a2b", 0, line, sizeof(line)) == n + 1 &&
	    memcmp(line + n - 7, "false]}\n", 8) == 0);
	for (cap = 0; cap <= n + 1; cap++) {	/* ASan sees any over-run */
		char *small = malloc(cap > 0 ? (size_t)cap : 1);
		CHECK(job_notify(&j, "1a2b", 1, small, (size_t)cap) ==
		    (cap == n + 1 ? n : -1));
		free(small);
	}
	CHECK(job_notify(&j, "1a\"2b", 1, line, sizeof(line)) == -1);
	CHECK(job_notify(&j, "1a\n", 1, line, sizeof(line)) == -1);
	check_midstate(t, script);
	job_free(&j);
	CHECK(t->refs == 1);
	tmpl_unref(t);
}

/* The witness commitment counts only where segwit is among the rules (or
 * no rules are listed): bcoin sends one before activation too. */
static void
test_gbt_rules(void)
{
	static const char *rules[] = { NULL, "[]", "[\"csv\"]",
	    "[\"csv\",\"!segwit\"]", "[\"segwit\"]", "7" };
	static const int kept[] = { 1, 0, 0, 1, 1, 1 };
	char text[2048], with[2300], err[128];
	struct tmpl *t;
	size_t i;

	gbt_text(text, sizeof(text), NGBT, NGBT, NULL);
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (rules[i] == NULL)
			snprintf(with, sizeof(with), "%s", text);
		else
			snprintf(with, sizeof(with), "{\"result\":{\"rules\":"
			    "%s,%s", rules[i], text + strlen("{\"result\":{"));
		t = gbt_parse(with, strlen(with), err, sizeof(err));
		CHECKF(t != NULL, "%s", err);
		if (t == NULL)
			continue;
		CHECKF((t->commitment != NULL) == kept[i], "rules %s",
		    rules[i] ? rules[i] : "absent");
		tmpl_unref(t);
	}
}

/* Every member dropped (the required ones must fail) and replaced by a
 * wrong value: an error, never a crash or a leak. */
static void
test_gbt_errors(void)
{
	static const struct {
		size_t i;
		const char *val;
		int ok;
	} bad[] = {
		{ 0, "\"20000000\"", 1 }, { 0, "-536870912", 1 },
		{ 0, "\"zz000000\"", 0 }, { 0, "\"2000000\"", 0 },
		{ 0, "1.5", 0 }, { 0, "4294967296", 0 }, { 0, "true", 0 },
		{ 1, "\"" PREV "0\"", 0 }, { 1, "\"x" PREV "\"", 0 },
		{ 1, "17", 0 }, { 1, "\"00\\u0030\"", 0 },
		{ 2, "{}", 0 }, { 2, "[1]", 0 }, { 2, "[]", 1 },
		{ 2, "[{\"data\":\"00\"}]", 0 },
		{ 2, "[{\"data\":\"0\",\"txid\":\"" TXID0 "\"}]", 0 },
		{ 2, "[{\"data\":\"0g\",\"txid\":\"" TXID0 "\"}]", 0 },
		{ 2, "[{\"data\":\"\",\"txid\":\"" TXID0 "\"}]", 0 },
		{ 2, "[{\"data\":5,\"txid\":\"" TXID0 "\"}]", 0 },
		{ 2, "[{\"data\":\"00\",\"txid\":\"" TXID0 "00\"}]", 0 },
		{ 3, "-1", 0 }, { 3, "2100000000000001", 0 }, { 3, "\"1\"", 0 },
		{ 4, "\"1d80ffff\"", 0 }, { 4, "\"00000000\"", 0 },
		{ 4, "486604799", 1 }, { 4, "\"ff123456\"", 0 },
		{ 5, "-1", 0 }, { 5, "4294967296", 0 }, { 6, "\"1\"", 0 },
		{ 7, "-1", 0 }, { 7, "2147483648", 0 }, { 7, "null", 0 },
		{ 8, "\"6a24aa21a9ed\"", 0 }, { 8, "\"" COMMIT "0\"", 0 },
		{ 8, "\"6a24aa21a9ee" COMMIT "\"", 0 }, { 8, "1", 0 },
		{ 9, "\"" TXID0 TXID0 TXID0 TXID0 "\"", 0 }, { 9, "[]", 0 },
	};
	static char text[4096];
	char err[128];
	struct tmpl *t;
	size_t i;

	for (i = 0; i < NGBT; i++) {
		gbt_text(text, sizeof(text), i, NGBT, NULL);
		t = gbt_parse(text, strlen(text), err, sizeof(err));
		/* mintime, the commitment and longpollid are optional */
		CHECKF((t != NULL) == (i == 6 || i == 8 || i == 9),
		    "drop %s: %s", gbt[i][0], err);
		CHECK(t != NULL || err[0] != '\0');
		if (t != NULL && i == 6)
			CHECK(t->mintime == t->curtime);
		tmpl_unref(t);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		gbt_text(text, sizeof(text), NGBT, bad[i].i, bad[i].val);
		t = gbt_parse(text, strlen(text), err, sizeof(err));
		CHECKF((t != NULL) == bad[i].ok, "%s=%s: %s",
		    gbt[bad[i].i][0], bad[i].val, err);
		CHECK(t != NULL || err[0] != '\0');
		tmpl_unref(t);
	}
	gbt_text(text, sizeof(text), NGBT, 2, "[1]");
	t = gbt_parse(text, strlen(text), err, sizeof(err));
	CHECK(t == NULL && strstr(err, "transactions[0]: not an object"));
	t = gbt_parse("[1]", 3, err, sizeof(err));
	CHECK(t == NULL && err[0] != '\0');
}

/* ---- block 928816 through getblocktemplate JSON ---- */

static char *
gbt_from_block(const struct blk *b, const struct tmpl *ref)
{
	size_t cap = 2 * b->len + 300 * b->ntx + 4096, n, i, k;
	char *s = malloc(cap), h[65], ch[2 * JOB_COMMITMENT_MAX + 1];
	uint8_t rev[32];

	for (k = 0; k < 32; k++)
		rev[k] = ref->prevhash[31 - k];
	hex_encode(rev, 32, h);
	n = (size_t)snprintf(s, cap, "{\"result\":{\"version\":%lu,"
	    "\"previousblockhash\":\"%s\",\"transactions\":[",
	    (unsigned long)ref->version, h);
	for (i = 1; i < b->ntx; i++) {
		n += (size_t)snprintf(s + n, cap - n, "%s{\"data\":\"",
		    i > 1 ? "," : "");
		hex_encode(b->raw + b->tx[i].start,
		    b->tx[i].end - b->tx[i].start, s + n);
		n += 2 * (b->tx[i].end - b->tx[i].start);
		for (k = 0; k < 32; k++)
			rev[k] = b->tx[i].txid[31 - k];
		hex_encode(rev, 32, h);
		n += (size_t)snprintf(s + n, cap - n, "\",\"txid\":\"%s\","
		    "\"fee\":1}", h);
	}
	hex_encode(ref->commitment, ref->commitment_len, ch);
	n += (size_t)snprintf(s + n, cap - n, "],\"coinbasevalue\":%lld,"
	    "\"bits\":\"%08lx\",\"curtime\":%lu,\"height\":%lld,"
	    "\"default_witness_commitment\":\"%s\"}}",
	    (long long)ref->coinbasevalue, (unsigned long)ref->bits,
	    (unsigned long)ref->curtime, (long long)ref->height, ch);
	return s;
}

/* The coinbase job_init wrote, walked back: the right outputs. */
static void
check_coinbase_walk(const struct job *j, const uint8_t *script)
{
	uint8_t cb[400];
	size_t n = 0;
	struct rd r;
	struct tx tx;

	memcpy(cb, j->cb1, j->cb1_len);
	memset(cb + j->cb1_len, 0x5a, 4 + j->en2_size);
	n = j->cb1_len + 4 + j->en2_size;
	memcpy(cb + n, j->cb2, j->cb2_len);
	n += j->cb2_len;
	r.p = cb;
	r.n = n;
	r.at = 0;
	r.bad = 0;
	CHECK(tx_walk(&r, &tx) == 0 && r.at == n && !tx.segwit);
	CHECK(tx.version == 2 && tx.locktime == 0 && tx.nin == 1);
	CHECK(tx.nout == 2 && tx.ss_len <= 100 && tx.ss_at == 42);
	CHECK(memcmp(cb + 42, "\x03\x30\x2c\x0e\x06/test/\x0c", 12) == 0);
	CHECK(tx.script_len[0] == 22 &&
	    memcmp(cb + tx.script_at[0], script, 22) == 0);
	CHECK(le32(cb + tx.out_at[0]) == (uint32_t)j->t->coinbasevalue &&
	    le32(cb + tx.out_at[0] + 4) ==
	    (uint32_t)(j->t->coinbasevalue >> 32));
	CHECK(le32(cb + tx.out_at[1]) == 0 && le32(cb + tx.out_at[1] + 4) == 0);
	CHECK(tx.script_len[1] == 38 && memcmp(cb + tx.script_at[1],
	    j->t->commitment, 38) == 0);
}

/* The block job_block_hex made for a share: walked, merkle root and
 * witness commitment recomputed here, transactions as in the original. */
static void
check_built_block(const struct blk *orig, const struct job *j,
    const struct job_share *s)
{
	struct blk b;
	uint8_t (*ids)[32], root[32], zero[32], script[38];
	size_t n, i;
	char *hex = job_block_hex(j, s, &n);
	uint8_t *raw = malloc(n / 2 + 1);

	CHECK(hex != NULL && n % 2 == 0 && hex_decode(hex, n, raw, n / 2) == 0);
	free(hex);
	if (blk_walk(&b, raw, n / 2) < 0) {
		CHECK(0);
		free(b.tx);
		free(raw);
		return;
	}
	CHECK(b.ntx == orig->ntx && b.tx[0].segwit && b.tx[0].wit_n == 1);
	memset(zero, 0, 32);
	CHECK(b.tx[0].wit_len == 32 &&
	    memcmp(raw + b.tx[0].wit_at, zero, 32) == 0);
	ids = malloc(b.ntx * 32);
	for (i = 0; i < b.ntx; i++)
		memcpy(ids[i], b.tx[i].txid, 32);
	merkle_root((const uint8_t (*)[32])ids, b.ntx, root);
	CHECK(memcmp(root, raw + 36, 32) == 0);
	CHECK(le32(raw) == s->version && le32(raw + 68) == s->ntime &&
	    le32(raw + 72) == j->t->bits && le32(raw + 76) == s->nonce);
	CHECK(memcmp(raw + 4, j->t->prevhash, 32) == 0);
	witness_commitment(&b, zero, script);
	CHECK(memcmp(raw + b.tx[0].script_at[1], script, 38) == 0);
	CHECK(b.len - b.tx[0].end == orig->len - orig->tx[0].end &&
	    memcmp(raw + b.tx[0].end, orig->raw + orig->tx[0].end,
	    b.len - b.tx[0].end) == 0);
	free(ids);
	blk_free(&b);
}

static void
test_gbt_928816(void)
{
	static const uint8_t script[22] = { 0x00, 0x14, 0xee, 2, 3, 4, 5, 6,
	    7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 };
	struct blk b;
	struct tmpl *ref, *t;
	struct job j;
	struct job_share s;
	char err[128], *text;

	if (blk_load(&b, "block928816.raw") < 0) {
		CHECK(0);
		return;
	}
	ref = tmpl_of(&b, 928816);
	CHECK(tmpl_finish(ref) == 0 && ref->nbranch == 10);
	text = gbt_from_block(&b, ref);
	t = gbt_parse(text, strlen(text), err, sizeof(err));
	free(text);
	CHECKF(t != NULL, "%s", err);
	if (t != NULL) {
		CHECK(t->ntx == ref->ntx && t->nbranch == ref->nbranch);
		CHECK(memcmp(t->txid, ref->txid, t->ntx * 32) == 0);
		CHECK(memcmp(t->branch, ref->branch, sizeof(t->branch)) == 0);
		CHECK(t->txhex_len == ref->txhex_len &&
		    strcmp(t->txhex, ref->txhex) == 0);
		CHECK(memcmp(t->target, ref->target, 32) == 0 &&
		    memcmp(t->prevhash, ref->prevhash, 32) == 0);
		CHECK(job_init(&j, t, script, 22, "/test/", 8, err,
		    sizeof(err)) == 0);
		check_coinbase_walk(&j, script);
		memset(&s, 0, sizeof(s));
		memcpy(s.en1, "\xde\xad\xbe\xef", 4);
		memcpy(s.en2, "\x00\x11\x22\x33\x44\x55\x66\x77", 8);
		s.version = t->version | 0x00a00000;
		s.ntime = t->curtime + 7;
		s.nonce = 0x12345678;
		check_built_block(&b, &j, &s);
		job_free(&j);
	}
	tmpl_unref(t);
	tmpl_unref(ref);
	blk_free(&b);
}

int
main(void)
{
	size_t k;

	for (k = 0; k < sizeof(blocks) / sizeof(blocks[0]); k++)
		test_block(k);
	test_targets();
	test_bits();
	test_hex_prevhash();
	test_bip34();
	test_scriptsig_limits();
	test_gbt_tiny();
	test_gbt_rules();
	test_gbt_errors();
	test_gbt_928816();
	TEST_END("job");
}
