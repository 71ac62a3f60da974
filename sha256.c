/*
 * sha256.c - SHA-256 (FIPS 180-4) in portable C11.  The pool's hot path:
 * every share is a SHA-256d of an 80-byte header.  The message schedule
 * lives in a 16-word ring (it stays in registers or L1) and the rounds are
 * macros whose variables rotate by name, saving a loop's eight moves per
 * round.  Bytes go through be32_load()/be32_store() only: no pointer casts,
 * no unaligned access, the same answer on every byte order.
 */
#include <string.h>

#include "sha256.h"

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

static const uint32_t sha256_iv[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
};

static uint32_t
be32_load(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
be32_store(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#define ROTR(x, n)	((x) >> (n) | (x) << (32 - (n)))
#define BSIG0(x)	(ROTR(x, 2) ^ ROTR(x, 13) ^ ROTR(x, 22))
#define BSIG1(x)	(ROTR(x, 6) ^ ROTR(x, 11) ^ ROTR(x, 25))
#define SSIG0(x)	(ROTR(x, 7) ^ ROTR(x, 18) ^ (x) >> 3)
#define SSIG1(x)	(ROTR(x, 17) ^ ROTR(x, 19) ^ (x) >> 10)
/* Ch and Maj in their two-operation forms (same truth tables as FIPS). */
#define CH(x, y, z)	((z) ^ ((x) & ((y) ^ (z))))
#define MAJ(x, y, z)	(((x) & (y)) | ((z) & ((x) | (y))))

/* One round; the caller rotates the names, so h becomes the new a and d
 * the new e without any copying. */
#define ROUND(a, b, c, d, e, f, g, h, k, w) do {			\
	uint32_t t1_ = (h) + BSIG1(e) + CH(e, f, g) + (k) + (w);	\
	uint32_t t2_ = BSIG0(a) + MAJ(a, b, c);				\
	(d) += t1_;							\
	(h) = t1_ + t2_;						\
} while (0)

/* Schedule word t (t >= 16) replaces w[t % 16] in the ring. */
#define SCHED(w, i) ((w)[(i) & 15] += SSIG1((w)[((i) + 14) & 15]) +	\
	(w)[((i) + 9) & 15] + SSIG0((w)[((i) + 1) & 15]))

#define EIGHT(R, i) do {						\
	R(a, b, c, d, e, f, g, h, (i) + 0);				\
	R(h, a, b, c, d, e, f, g, (i) + 1);				\
	R(g, h, a, b, c, d, e, f, (i) + 2);				\
	R(f, g, h, a, b, c, d, e, (i) + 3);				\
	R(e, f, g, h, a, b, c, d, (i) + 4);				\
	R(d, e, f, g, h, a, b, c, (i) + 5);				\
	R(c, d, e, f, g, h, a, b, (i) + 6);				\
	R(b, c, d, e, f, g, h, a, (i) + 7);				\
} while (0)

/* Rounds 0-15 use the message words as loaded; later ones extend the
 * schedule in place.  j is the base (16, 32, 48) of the current group. */
#define R_LOAD(a, b, c, d, e, f, g, h, i) \
	ROUND(a, b, c, d, e, f, g, h, sha256_k[i], w[i])
#define R_SCHED(a, b, c, d, e, f, g, h, i) \
	ROUND(a, b, c, d, e, f, g, h, sha256_k[j + (i)], SCHED(w, i))

void
sha256_transform(uint32_t state[8], const uint8_t block[64])
{
	uint32_t a, b, c, d, e, f, g, h, w[16];
	int i, j;

	for (i = 0; i < 16; i++)
		w[i] = be32_load(block + 4 * i);
	a = state[0]; b = state[1]; c = state[2]; d = state[3];
	e = state[4]; f = state[5]; g = state[6]; h = state[7];

	EIGHT(R_LOAD, 0);
	EIGHT(R_LOAD, 8);
	for (j = 16; j < 64; j += 16) {
		EIGHT(R_SCHED, 0);
		EIGHT(R_SCHED, 8);
	}

	state[0] += a; state[1] += b; state[2] += c; state[3] += d;
	state[4] += e; state[5] += f; state[6] += g; state[7] += h;
}

void
sha256_init(struct sha256 *c)
{
	memcpy(c->h, sha256_iv, sizeof(c->h));
	c->bytes = 0;
}

void
sha256_update(struct sha256 *c, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t used = (size_t)(c->bytes % 64), n;

	c->bytes += len;
	if (used > 0) {
		n = 64 - used < len ? 64 - used : len;
		memcpy(c->buf + used, p, n);
		p += n;
		len -= n;
		if (used + n < 64)
			return;
		sha256_transform(c->h, c->buf);
	}
	/* Whole blocks straight from the caller's buffer: no copy. */
	for (; len >= 64; p += 64, len -= 64)
		sha256_transform(c->h, p);
	if (len > 0)
		memcpy(c->buf, p, len);
}

void
sha256_final(struct sha256 *c, uint8_t out[32])
{
	uint64_t bits = c->bytes * 8;
	size_t used = (size_t)(c->bytes % 64);
	int i;

	/* 0x80, zeros up to 56 mod 64, then the bit length big-endian. */
	c->buf[used++] = 0x80;
	if (used > 56) {
		memset(c->buf + used, 0, 64 - used);
		sha256_transform(c->h, c->buf);
		used = 0;
	}
	memset(c->buf + used, 0, 56 - used);
	be32_store(c->buf + 56, (uint32_t)(bits >> 32));
	be32_store(c->buf + 60, (uint32_t)bits);
	sha256_transform(c->h, c->buf);
	for (i = 0; i < 8; i++)
		be32_store(out + 4 * i, c->h[i]);
}

void
sha256(const void *data, size_t len, uint8_t out[32])
{
	struct sha256 c;

	sha256_init(&c);
	sha256_update(&c, data, len);
	sha256_final(&c, out);
}

void
sha256d(const void *data, size_t len, uint8_t out[32])
{
	uint8_t tmp[32];

	/* The inner digest goes to tmp, so out may overlap data. */
	sha256(data, len, tmp);
	sha256(tmp, sizeof(tmp), out);
}

int
sha256_selftest(void)
{
	/* FIPS 180-4 examples (NIST CSRC "SHA256.pdf"): "abc", the
	 * two-block 448-bit message, and the empty string. */
	static const char *const kat[][2] = {
		{ "abc", "ba7816bf8f01cfea414140de5dae2223"
		    "b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		    "248d6a61d20638b8e5c026930c3e6039"
		    "a33ce45964ff2167f6ecedd419db06c1" },
		{ "", "e3b0c44298fc1c149afbf4c8996fb924"
		    "27ae41e4649b934ca495991b7852b855" },
	};
	static const char hex[] = "0123456789abcdef";
	uint8_t md[32];
	size_t i, j;

	for (i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		sha256(kat[i][0], strlen(kat[i][0]), md);
		for (j = 0; j < 32; j++)
			if (kat[i][1][2 * j] != hex[md[j] >> 4] ||
			    kat[i][1][2 * j + 1] != hex[md[j] & 15])
				return -1;
	}
	return 0;
}
