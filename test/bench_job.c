/*
 * bench_job.c - share checks and job builds for a 4,000-transaction
 * template (a 12-level merkle branch), made from block 928816's real
 * transactions repeated (txids perturbed per copy).  Figures, never
 * pass/fail; run as  ./build/bench_job ../shared/vectors
 *
 * Compressions per share check are counted analytically from the lengths
 * (see compressions()), and the raw compression rate is measured beside
 * it, so the check's overhead over bare SHA-256 can be read off
 * (check_efficiency = checks/s * compressions per check / compressions/s).
 * Times are this process's CPU time, medians of RUNS runs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "job.h"
#include "json.h"
#include "sha256.h"

#define NTX 4000
#define RUNS 7

/* The whole file, malloc'd (test.h's reader would drag in its unused
 * counters). */
static uint8_t *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (f != NULL && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 80 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n)) != NULL &&
	    fread(buf, 1, (size_t)n, f) == (size_t)n)
		*len = (size_t)n;
	else {
		free(buf);
		buf = NULL;
	}
	if (f != NULL)
		fclose(f);
	return buf;
}

static double
now_s(void)
{
	struct timespec ts;

	/* CPU time of this process: one core's figure even on a busy
	 * machine. */
#ifdef CLOCK_PROCESS_CPUTIME_ID
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
#else
	clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* CompactSize at *at; the minimal walker below needs nothing more. */
static uint64_t
cs(const uint8_t *p, size_t *at)
{
	uint64_t v = p[(*at)++];
	int n = v == 0xfd ? 2 : v == 0xfe ? 4 : v == 0xff ? 8 : 0, i;

	if (n > 0)
		v = 0;
	for (i = 0; i < n; i++)
		v |= (uint64_t)p[(*at)++] << (8 * i);
	return v;
}

/* Skip one transaction at *at (bounds are the vector's, trusted here:
 * test_job walks the same block with full checks). */
static void
skip_tx(const uint8_t *p, size_t *at)
{
	uint64_t nin, nout, i, k, n;
	int segwit = p[*at + 4] == 0 && p[*at + 5] == 1;

	*at += segwit ? 6 : 4;
	nin = cs(p, at);
	for (i = 0; i < nin; i++) {
		*at += 36;
		*at += (size_t)cs(p, at) + 4;
	}
	nout = cs(p, at);
	for (i = 0; i < nout; i++) {
		*at += 8;
		*at += (size_t)cs(p, at);
	}
	for (i = 0; segwit && i < nin; i++)
		for (n = cs(p, at), k = 0; k < n; k++)
			*at += (size_t)cs(p, at);
	*at += 4;
}

/* A template of NTX transactions: block 928816's 888, over and over; the
 * txids are only hashed, so perturbed sha256d's of the tx bytes serve. */
static struct tmpl *
make_tmpl(const uint8_t *raw, size_t len)
{
	struct tmpl *t = calloc(1, sizeof(*t));
	size_t at = 80, start[1000], end[1000], n = 0, i, k;
	uint64_t ntx = cs(raw, &at);

	for (i = 0; i < ntx && i < 1000 && at < len; i++) {
		start[i] = at;
		skip_tx(raw, &at);
		end[i] = at;
	}
	n = i;
	if (n < 2) {
		fprintf(stderr, "bench_job: block928816 not as expected\n");
		exit(1);
	}
	t->version = 0x20000000;
	memcpy(t->prevhash, raw + 4, 32);
	t->bits = 0x1a0202f0;
	t->curtime = 1700000000;
	t->height = 928816;
	t->coinbasevalue = 312500000;
	t->ntx = NTX;
	t->txid = malloc(NTX * 32);
	t->txhex = malloc(1);
	t->txhex[0] = '\0';
	for (k = 0; k < NTX; k++) {
		i = 1 + k % (n - 1);
		sha256d(raw + start[i], end[i] - start[i], t->txid[k]);
		t->txid[k][0] ^= (uint8_t)(k / (n - 1));
	}
	return t;
}

static volatile unsigned sink;	/* keeps the measured work alive */

static double
bench_check(struct job *j)
{
	static const uint8_t tgt[32] = { 0 };
	struct job_share s;
	struct job_result r;
	double per_s[RUNS], t0;
	int run, i, n = 100000;

	memset(&s, 0, sizeof(s));
	s.version = j->t->version;
	s.ntime = j->t->curtime;
	for (run = 0; run < RUNS; run++) {
		t0 = now_s();
		for (i = 0; i < n; i++) {
			s.nonce++;
			job_check(j, &s, tgt, &r);
			sink += r.hash[31];
		}
		per_s[run] = n / (now_s() - t0);
	}
	return median(per_s, RUNS);
}

/* Counted from the lengths: the coinbase's padded blocks not in the
 * midstate, +1 for its second hash, 3 per branch level (64 bytes + pad
 * block, then 32 bytes), 3 for the 80-byte header. */
static size_t
compressions(const struct job *j)
{
	size_t cb = j->cb1_len + JOB_EN1_SIZE + j->en2_size + j->cb2_len;

	return (cb + 9 + 63) / 64 - j->cb1_len / 64 + 1 +
	    3 * j->t->nbranch + 3;
}

static double
bench_transform(void)
{
	uint32_t st[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t block[64] = { 1 };
	double per_s[RUNS], t0;
	int run, i, n = 1000000;

	for (run = 0; run < RUNS; run++) {
		t0 = now_s();
		for (i = 0; i < n; i++) {
			block[0] = (uint8_t)i;
			sha256_transform(st, block);
		}
		per_s[run] = n / (now_s() - t0);
	}
	sink += st[0];
	return median(per_s, RUNS);
}

/* A P2WPKH payout, a 20-byte tag and a witness commitment, as a segwit
 * pool's job looks: cb1 68 bytes (one block in the midstate), coinbase
 * 167 bytes. */
static double
build(struct tmpl *t, struct job *j)
{
	static const uint8_t script[22] = { 0x00, 0x14, 9, 9, 9 };
	double t0;
	char err[128];

	t->commitment_len = 38;
	t->commitment = calloc(1, 38);
	memcpy(t->commitment, "\x6a\x24\xaa\x21\xa9\xed", 6);
	t0 = now_s();
	if (tmpl_finish(t) < 0 || job_init(j, t, script, 22,
	    "/stratum bench pool/", 8, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_job: build failed\n");
		exit(1);
	}
	return (now_s() - t0) * 1e3;
}

static void
bench_build(const uint8_t *raw, size_t len)
{
	double ms[RUNS], checks, comp;
	struct tmpl *t;
	struct job j;
	int run;

	for (run = 0; run < RUNS; run++) {
		t = make_tmpl(raw, len);
		ms[run] = build(t, &j);
		if (run < RUNS - 1) {
			job_free(&j);
			tmpl_unref(t);
		}
	}
	printf("bench job_build ntx=%d median_ms=%.3f\n", NTX,
	    median(ms, RUNS));
	checks = bench_check(&j);
	comp = bench_transform();
	printf("bench job_share_check branch=%zu ntx=%zu median_per_s=%.0f "
	    "compressions_per_check=%zu\n", t->nbranch, t->ntx, checks,
	    compressions(&j));
	printf("bench job_sha256_transform median_per_s=%.0f "
	    "bound_checks_per_s=%.0f check_efficiency=%.2f\n", comp,
	    comp / (double)compressions(&j),
	    checks * (double)compressions(&j) / comp);
	job_free(&j);
	tmpl_unref(t);
}

int
main(int argc, char **argv)
{
	char path[512];
	size_t len;
	uint8_t *raw;

	snprintf(path, sizeof(path), "%s/blocks/block928816.raw",
	    argc > 1 ? argv[1] : "../shared/vectors");
	if ((raw = read_file(path, &len)) == NULL) {
		fprintf(stderr, "bench_job: cannot read %s\n", path);
		return 1;
	}
	bench_build(raw, len);
	free(raw);
	return 0;
}
