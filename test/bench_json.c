/*
 * bench_json.c - JSON parse and write speed on a getblocktemplate reply.
 *
 * Usage: bench_json VECTORS_DIR
 * The reply is built here, with the writer, from the real transactions of
 * blocks/block928816.raw (testnet3, 888 transactions after the coinbase):
 * "data" is each transaction's hex, "txid" and "hash" are its real txid
 * and wtxid (SHA-256d via sha256.c; the txids are proved by recomputing
 * the block header's merkle root), "weight" is real.  "fee" and "sigops"
 * need the spent outputs, which a block does not carry: fee is 2 sat/vB
 * and sigops is 4 per input, as placeholders of the right shape.
 * Prints one machine-readable line per figure, medians of RUNS runs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "job.h"
#include "json.h"
#include "sha256.h"

#define RUNS 15
#define MAX_TX 10000

struct tx {
	size_t off, len;	/* whole transaction in the block */
	size_t base;		/* size without witness data */
	unsigned nin;
	uint8_t txid[32], wtxid[32];
};

struct rd {
	const uint8_t *p;
	size_t n, pos;
	int err;
};

static const uint8_t *
take(struct rd *r, size_t n)
{
	const uint8_t *q = r->p + r->pos;

	if (r->err || n > r->n - r->pos) {
		r->err = 1;
		return NULL;
	}
	r->pos += n;
	return q;
}

static uint64_t
varint(struct rd *r)
{
	const uint8_t *q = take(r, 1);
	uint64_t v = 0;
	int k, n;

	if (q == NULL)
		return 0;
	if (*q < 0xfd)
		return *q;
	n = *q == 0xfd ? 2 : *q == 0xfe ? 4 : 8;
	if ((q = take(r, (size_t)n)) == NULL)
		return 0;
	for (k = n - 1; k >= 0; k--)
		v = v << 8 | q[k];
	return v;
}

/* Skips count items of the form: pre bytes, length-prefixed bytes, post
 * bytes (inputs 36/4, outputs 8/0, witness items 0/0). */
static void
skip_items(struct rd *r, uint64_t count, size_t pre, size_t post)
{
	while (count-- > 0 && !r->err) {
		take(r, pre);
		take(r, (size_t)varint(r));
		take(r, post);
	}
}

/* Walks one transaction at r->pos; fills t and its txid/wtxid. */
static int
walk_tx(struct rd *r, struct tx *t)
{
	struct sha256 c;
	size_t body, end_io;
	uint64_t nin, nout, i;
	int segwit;

	t->off = r->pos;
	take(r, 4);
	segwit = r->pos + 2 <= r->n && r->p[r->pos] == 0 &&
	    r->p[r->pos + 1] == 1;
	if (segwit)
		take(r, 2);
	body = r->pos;
	nin = varint(r);
	skip_items(r, nin, 36, 4);
	nout = varint(r);
	skip_items(r, nout, 8, 0);
	end_io = r->pos;
	for (i = 0; segwit && i < nin && !r->err; i++)
		skip_items(r, varint(r), 0, 0);
	take(r, 4);
	if (r->err)
		return -1;
	t->len = r->pos - t->off;
	t->nin = (unsigned)nin;
	t->base = 4 + (end_io - body) + 4;
	/* txid: SHA-256d of version, inputs, outputs, lock time. */
	sha256_init(&c);
	sha256_update(&c, r->p + t->off, 4);
	sha256_update(&c, r->p + body, end_io - body);
	sha256_update(&c, r->p + r->pos - 4, 4);
	sha256_final(&c, t->txid);
	sha256(t->txid, 32, t->txid);
	sha256d(r->p + t->off, t->len, t->wtxid);
	return 0;
}

/* The block's merkle root from the txids, compared with its header. */
static int
merkle_ok(const uint8_t *block, const struct tx *txs, size_t n)
{
	static uint8_t h[MAX_TX][32];
	uint8_t pair[64];
	size_t i, w;

	for (i = 0; i < n; i++)
		memcpy(h[i], txs[i].txid, 32);
	for (; n > 1; n = w) {
		for (i = 0, w = 0; i < n; i += 2, w++) {
			memcpy(pair, h[i], 32);
			memcpy(pair + 32, h[i + 1 < n ? i + 1 : i], 32);
			sha256d(pair, 64, h[w]);
		}
	}
	return memcmp(h[0], block + 36, 32) == 0;
}

static void
hex(char *out, const uint8_t *p, size_t n, int reverse)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t b = p[reverse ? n - 1 - i : i];
		out[2 * i] = d[b >> 4];
		out[2 * i + 1] = d[b & 15];
	}
	out[2 * n] = '\0';
}

/* The reply bitcoind would send for this block's transactions. */
static int
write_gbt(char *out, size_t cap, const uint8_t *blk, const struct tx *txs,
    size_t ntx, char *scratch)
{
	static const char *mut[] = { "time", "transactions", "prevblock" };
	struct json_w w;
	size_t i;
	uint64_t weight;

	json_w_init(&w, out, cap);
	json_w_obj(&w);
	json_w_key(&w, "result");
	json_w_obj(&w);
	json_w_key(&w, "capabilities");
	json_w_arr(&w);
	json_w_str(&w, "proposal");
	json_w_arr_end(&w);
	json_w_key(&w, "version");
	json_w_int(&w, 0x20000000);
	json_w_key(&w, "rules");
	json_w_arr(&w);
	json_w_str(&w, "csv");
	json_w_str(&w, "!segwit");
	json_w_str(&w, "taproot");
	json_w_arr_end(&w);
	json_w_key(&w, "vbavailable");
	json_w_obj(&w);
	json_w_obj_end(&w);
	json_w_key(&w, "vbrequired");
	json_w_int(&w, 0);
	json_w_key(&w, "previousblockhash");
	hex(scratch, blk + 4, 32, 1);
	json_w_str(&w, scratch);
	json_w_key(&w, "transactions");
	json_w_arr(&w);
	for (i = 1; i < ntx; i++) {
		weight = 3 * (uint64_t)txs[i].base + txs[i].len;
		json_w_obj(&w);
		json_w_key(&w, "data");
		hex(scratch, blk + txs[i].off, txs[i].len, 0);
		json_w_strn(&w, scratch, 2 * txs[i].len);
		json_w_key(&w, "txid");
		hex(scratch, txs[i].txid, 32, 1);
		json_w_str(&w, scratch);
		json_w_key(&w, "hash");
		hex(scratch, txs[i].wtxid, 32, 1);
		json_w_str(&w, scratch);
		json_w_key(&w, "depends");
		json_w_arr(&w);
		json_w_arr_end(&w);
		json_w_key(&w, "fee");
		json_w_uint(&w, (weight + 3) / 4 * 2);
		json_w_key(&w, "sigops");
		json_w_uint(&w, 4 * (uint64_t)txs[i].nin);
		json_w_key(&w, "weight");
		json_w_uint(&w, weight);
		json_w_obj_end(&w);
	}
	json_w_arr_end(&w);
	json_w_key(&w, "coinbaseaux");
	json_w_obj(&w);
	json_w_obj_end(&w);
	json_w_key(&w, "coinbasevalue");
	json_w_int(&w, 4883127);
	json_w_key(&w, "longpollid");
	json_w_str(&w, "00000000000001c4b87edf974ddc601d88dda332265b9849a944a5ff0141a3"
	    "78123");
	json_w_key(&w, "target");
	json_w_str(&w, "0000000000000202f000000000000000000000000000000000000000"
	    "00000000");
	json_w_key(&w, "mintime");
	json_w_int(&w, 1729000000);
	json_w_key(&w, "mutable");
	json_w_arr(&w);
	for (i = 0; i < 3; i++)
		json_w_str(&w, mut[i]);
	json_w_arr_end(&w);
	json_w_key(&w, "noncerange");
	json_w_str(&w, "00000000ffffffff");
	json_w_key(&w, "sigoplimit");
	json_w_int(&w, 80000);
	json_w_key(&w, "sizelimit");
	json_w_int(&w, 4000000);
	json_w_key(&w, "weightlimit");
	json_w_int(&w, 4000000);
	json_w_key(&w, "curtime");
	json_w_int(&w, 1729001234);
	json_w_key(&w, "bits");
	json_w_str(&w, "1a0202f0");
	json_w_key(&w, "height");
	json_w_int(&w, 928816);
	json_w_obj_end(&w);
	json_w_key(&w, "error");
	json_w_null(&w);
	json_w_key(&w, "id");
	json_w_int(&w, 1);
	json_w_obj_end(&w);
	return json_w_end(&w);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v)
{
	qsort(v, RUNS, sizeof(v[0]), cmp_double);
	return v[RUNS / 2];
}

static uint8_t *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = NULL;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (b = malloc((size_t)n)) == NULL ||
	    fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	if (f != NULL)
		fclose(f);
	*len = b != NULL ? (size_t)n : 0;
	return b;
}

/* Checks the parsed reply against the block, so the figure is honest. */
static int
verify(const struct json_doc *d, const uint8_t *blk, const struct tx *txs,
    size_t ntx, char *a, char *b)
{
	int txa = json_get(d, json_get(d, 0, "result"), "transactions"), t;
	size_t i;

	if (json_type(d, txa) != JSON_ARRAY || d->toks[txa].size != ntx - 1)
		return -1;
	for (i = 1; i < ntx; i += 97) {
		t = json_at(d, txa, i - 1);
		hex(a, blk + txs[i].off, txs[i].len, 0);
		if (json_string(d, json_get(d, t, "data"), b, 2 * txs[i].len + 1)
		    != (int)(2 * txs[i].len) || strcmp(a, b) != 0)
			return -1;
	}
	return 0;
}

static void
bench_submit(void)
{
	static const char msg[] = "{\"id\": 4, \"method\": \"mining.submit\", "
	    "\"params\": [\"tb1qexampleworkeraddress.rig1\", \"1f2e\", "
	    "\"0000000000000001\", \"6553f100\", \"3e1d46\", \"00002000\"]}";
	struct json_tok toks[32];
	struct json_doc d;
	double t[RUNS], t0;
	int run, k, n = 0, loops = 20000;

	for (run = 0; run < RUNS; run++) {
		t0 = now_ms();
		for (k = 0; k < loops; k++)
			n += json_parse(&d, msg, sizeof(msg) - 1, toks, 32) > 0 &&
			    json_streq(&d, json_get(&d, 0, "method"),
			    "mining.submit");
		t[run] = now_ms() - t0;
	}
	printf("bench json_parse_submit bytes=%zu median_ms=%.3f msgs_per_s=%.0f "
	    "ok=%d\n", sizeof(msg) - 1, median(t), loops / (median(t) / 1e3),
	    n == RUNS * loops);
}

/* What the pool does with a node's template reply before the first
 * notify: count + parse, decode the template (hex checks, txids, merkle
 * branch, notify text), build one job and its coinbase hex. */
static void
bench_template(const char *doc, size_t n, struct json_tok *toks, size_t c,
    size_t ntx)
{
	static const uint8_t script[22] = { 0x00, 0x14, 7, 7, 7 };
	double t[RUNS], t0;
	char err[160], hex[1024];
	struct json_doc d;
	struct tmpl *tp;
	struct job j;
	int run, ok = 1;

	for (run = 0; run < RUNS; run++) {
		t0 = now_ms();
		ok = json_parse(NULL, doc, n, NULL, 0) == (int)c &&
		    json_parse(&d, doc, n, toks, c) == (int)c &&
		    (tp = tmpl_from_json(&d, json_get(&d, 0, "result"), err,
		    sizeof(err))) != NULL;
		if (ok) {
			ok = job_init(&j, tp, script, 22, "/bench/", 8, err,
			    sizeof(err)) == 0 &&
			    job_notify_coinbase(&j, hex, sizeof(hex)) > 0;
			t[run] = now_ms() - t0;
			ok = ok && tp->ntx == ntx;
			job_free(&j);
			tmpl_unref(tp);
		}
		if (!ok) {
			fprintf(stderr, "bench_json: template: %s\n", err);
			exit(1);
		}
	}
	printf("bench gbt_reply_to_job bytes=%zu txs=%zu median_ms=%.2f\n", n,
	    ntx, median(t));
}

int
main(int argc, char **argv)
{
	static struct tx txs[MAX_TX];
	char path[1024], *doc, *s1, *s2;
	struct json_tok *toks;
	struct json_doc d;
	double tp[RUNS], tw[RUNS], tc[RUNS], t0;
	size_t blen, ntx, i, cap;
	uint8_t *blk;
	struct rd r;
	int n = 0, c = 0, run;

	snprintf(path, sizeof(path), "%s/blocks/block928816.raw",
	    argc > 1 ? argv[1] : "../shared/vectors");
	if ((blk = read_file(path, &blen)) == NULL || blen < 81) {
		fprintf(stderr, "bench_json: cannot read %s\n", path);
		return 1;
	}
	r.p = blk;
	r.n = blen;
	r.pos = 80;
	r.err = 0;
	ntx = (size_t)varint(&r);
	for (i = 0; i < ntx && i < MAX_TX; i++)
		if (walk_tx(&r, &txs[i]) < 0)
			break;
	if (ntx < 2 || i != ntx || r.pos != blen || !merkle_ok(blk, txs, ntx)) {
		fprintf(stderr, "bench_json: %s: bad block walk\n", path);
		return 1;
	}
	cap = 2 * blen + 400 * ntx + 4096;
	doc = malloc(cap);
	s1 = malloc(2 * blen + 1);
	s2 = malloc(2 * blen + 1);
	if (doc == NULL || s1 == NULL || s2 == NULL)
		return 1;
	for (run = 0; run < RUNS; run++) {
		t0 = now_ms();
		n = write_gbt(doc, cap, blk, txs, ntx, s1);
		tw[run] = now_ms() - t0;
	}
	c = n > 0 ? json_parse(NULL, doc, (size_t)n, NULL, 0) : -1;
	if (c <= 0 || (toks = malloc((size_t)c * sizeof(*toks))) == NULL) {
		fprintf(stderr, "bench_json: reply not built (%d, %d)\n", n, c);
		return 1;
	}
	for (run = 0; run < RUNS; run++) {
		t0 = now_ms();
		c = json_parse(NULL, doc, (size_t)n, NULL, 0);
		tc[run] = now_ms() - t0;
		t0 = now_ms();
		c = json_parse(NULL, doc, (size_t)n, NULL, 0);
		if (c > 0)
			c = json_parse(&d, doc, (size_t)n, toks, (size_t)c);
		tp[run] = now_ms() - t0;
	}
	if (c <= 0 || verify(&d, blk, txs, ntx, s1, s2) < 0) {
		fprintf(stderr, "bench_json: parse result wrong (%d)\n", c);
		return 1;
	}
	printf("bench json_parse_gbt bytes=%d tokens=%d txs=%zu median_ms=%.2f "
	    "MBps=%.0f\n", n, c, ntx - 1, median(tp), n / median(tp) / 1e3);
	printf("bench json_count_gbt bytes=%d median_ms=%.2f MBps=%.0f\n", n,
	    median(tc), n / median(tc) / 1e3);
	printf("bench json_write_gbt bytes=%d median_ms=%.2f MBps=%.0f "
	    "(includes hex encoding)\n", n, median(tw), n / median(tw) / 1e3);
	bench_template(doc, (size_t)n, toks, (size_t)c, ntx - 1);
	bench_submit();
	free(toks);
	free(doc);
	free(s1);
	free(s2);
	free(blk);
	return 0;
}
