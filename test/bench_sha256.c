/*
 * bench_sha256.c - SHA-256 throughput.  Usage: bench_sha256 [vectors-dir]
 *
 * Each figure is the median of BENCH_RUNS timed runs (CLOCK_MONOTONIC),
 * each run sized to last about BENCH_RUN_SEC.  Every result is fed back
 * into the next input so the compiler cannot drop or hoist the work.
 * MB are 10^6 bytes.  The header benchmark hashes block 1's real 80-byte
 * header with the nonce stepped, as a share check does.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sha256.h"

#define BENCH_RUNS	7
#define BENCH_RUN_SEC	0.15
#define BENCH_BIG	(1024 * 1024)

enum bench_kind { B_64, B_1MIB, B_HEADER, B_COMPRESS };

static uint8_t small[64], header[80], block[64], *big;
static uint32_t state[8];
static volatile uint8_t sink;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
work(enum bench_kind kind, unsigned long n)
{
	uint8_t md[32];
	unsigned long i;

	for (i = 0; i < n; i++) {
		switch (kind) {
		case B_64:
			sha256(small, sizeof(small), md);
			memcpy(small, md, sizeof(md));
			break;
		case B_1MIB:
			sha256(big, BENCH_BIG, md);
			big[i % BENCH_BIG] ^= md[0];
			break;
		case B_HEADER:
			header[76] = (uint8_t)i;
			header[77] = (uint8_t)(i >> 8);
			header[78] = (uint8_t)(i >> 16);
			sha256d(header, sizeof(header), md);
			header[79] ^= md[31];
			break;
		case B_COMPRESS:
			sha256_transform(state, block);
			block[i & 63] ^= (uint8_t)state[0];
			break;
		}
	}
	sink ^= small[0] ^ header[79] ^ block[0] ^ (big ? big[0] : 0);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Operations per second: calibrate n, then the median of the runs. */
static double
median_rate(enum bench_kind kind)
{
	double rate[BENCH_RUNS], t;
	unsigned long n = 1;
	int r;

	for (;;) {
		t = now();
		work(kind, n);
		t = now() - t;
		if (t > BENCH_RUN_SEC / 10)
			break;
		n *= 2;
	}
	n = (unsigned long)((double)n * BENCH_RUN_SEC / t) + 1;
	for (r = 0; r < BENCH_RUNS; r++) {
		t = now();
		work(kind, n);
		rate[r] = (double)n / (now() - t);
	}
	qsort(rate, BENCH_RUNS, sizeof(rate[0]), cmp_double);
	return rate[BENCH_RUNS / 2];
}

static void
load_header(const char *dir)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/blocks/block1.raw", dir);
	f = fopen(path, "rb");
	if (f == NULL || fread(header, 1, sizeof(header), f) != sizeof(header))
		fprintf(stderr, "bench_sha256: %s unreadable, using a zero "
		    "header\n", path);
	if (f != NULL)
		fclose(f);
}

int
main(int argc, char **argv)
{
	size_t i;

	if (sha256_selftest() < 0) {
		fprintf(stderr, "bench_sha256: self-test failed\n");
		return 1;
	}
	load_header(argc > 1 ? argv[1] : "../shared/vectors");
	if ((big = malloc(BENCH_BIG)) == NULL) {
		fprintf(stderr, "bench_sha256: out of memory\n");
		return 1;
	}
	for (i = 0; i < BENCH_BIG; i++)
		big[i] = (uint8_t)(i * 131 + 7);
	memcpy(small, big, sizeof(small));
	memcpy(block, big + 64, sizeof(block));

	printf("bench sha256_64B median_MBps=%.1f\n",
	    median_rate(B_64) * 64 / 1e6);
	printf("bench sha256_1MiB median_MBps=%.1f\n",
	    median_rate(B_1MIB) * BENCH_BIG / 1e6);
	printf("bench sha256d_header80 median_per_s=%.0f\n",
	    median_rate(B_HEADER));
	printf("bench sha256_compress median_per_s=%.0f\n",
	    median_rate(B_COMPRESS));
	free(big);
	return 0;
}
