/*
 * sha256.h - SHA-256 (FIPS 180-4), SHA-256d, and midstates.
 *
 * A midstate is a copy of the context: hash a fixed prefix once (the pool's
 * coinbase start, the same for every share of a job), keep the struct, and
 * per variation copy it (one memcpy) and feed only the rest.
 * Portable C11: no pointer casts, so results depend on neither byte order
 * nor alignment.  Leaf module: includes nothing of ours.
 */
#ifndef SHA256_H
#define SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];		/* chaining state */
	uint64_t bytes;		/* total bytes fed so far */
	uint8_t buf[64];	/* partial block, bytes % 64 of them valid */
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
/* Writes the 32-byte digest to out; c is left finished (re-init to reuse). */
void sha256_final(struct sha256 *c, uint8_t out[32]);

/* One-shot SHA-256 and SHA-256(SHA-256(x)).  out may overlap data: all
 * of data is read before out is written. */
void sha256(const void *data, size_t len, uint8_t out[32]);
void sha256d(const void *data, size_t len, uint8_t out[32]);

/* The compression function alone: state <- compress(state, block).
 * Exposed for benchmarks that count compressions. */
void sha256_transform(uint32_t state[8], const uint8_t block[64]);

/* Known-answer self-test run at start-up.  Returns 0 when the
 * implementation gives the FIPS 180-4 answers on this machine, else -1. */
int sha256_selftest(void);

#endif
