/*
 * test_sha256.c - SHA-256 against FIPS 180-4 answers, Python hashlib
 * answers, and the hashes of real Bitcoin blocks in ../shared/vectors.
 */
#include <stdint.h>

#include "test.h"
#include "sha256.h"

#define MSG448 "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
#define MSG896 "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn" \
	"hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"

#define MSG200_LEN 200

static char *
hex(const uint8_t *p, size_t n, int reverse, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t b = p[reverse ? n - 1 - i : i];
		out[2 * i] = digits[b >> 4];
		out[2 * i + 1] = digits[b & 15];
	}
	out[2 * n] = '\0';
	return out;
}

static int
digest_is(const void *data, size_t len, const char *want)
{
	uint8_t md[32];
	char h[65];

	sha256(data, len, md);
	return strcmp(hex(md, 32, 0, h), want) == 0;
}

/* Bytes 3, 10, 17, ... : not ASCII, not periodic in 64. */
static void
msg200(uint8_t *m)
{
	int i;

	for (i = 0; i < MSG200_LEN; i++)
		m[i] = (uint8_t)(i * 7 + 3);
}

static void
test_fips(void)
{
	CHECK(digest_is("abc", 3,
	    "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad"));
	CHECK(digest_is("", 0,
	    "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855"));
	CHECK(digest_is(MSG448, strlen(MSG448),
	    "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1"));
	CHECK(digest_is(MSG896, strlen(MSG896),
	    "cf5b16a778af8380036ce59e7b049237"
	    "0b249b11e8f07a51afac45037afee9d1"));
	CHECK(sha256_selftest() == 0);
}

/* One million 'a' fed in pieces whose sizes walk around the block size. */
static void
test_million(void)
{
	static const size_t piece[] = { 1, 3, 7, 61, 63, 64, 65, 127, 128,
	    129, 1000, 4097 };
	const char *want =
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
	size_t total = 1000000, done = 0, i = 0, n;
	char *a = malloc(total);
	struct sha256 c;
	uint8_t md[32];
	char h[65];

	CHECK(a != NULL);
	if (a == NULL)
		return;
	memset(a, 'a', total);
	CHECK(digest_is(a, total, want));
	sha256_init(&c);
	while (done < total) {
		n = piece[i++ % (sizeof(piece) / sizeof(piece[0]))];
		if (n > total - done)
			n = total - done;
		sha256_update(&c, a + done, n);
		done += n;
	}
	sha256_final(&c, md);
	CHECKF(strcmp(hex(md, 32, 0, h), want) == 0, "got %s", h);
	free(a);
}

/* Every prefix length 0..200 (every padding case) against hashlib, and
 * every split point of each of them against its one-shot hash. */
static void
test_lengths_and_splits(void)
{
	uint8_t m[MSG200_LEN], all[(MSG200_LEN + 1) * 32], md[32];
	struct sha256 c;
	size_t n, k;
	int ok = 1;

	msg200(m);
	CHECK(digest_is(m, sizeof(m),
	    "2c7e18c942ef065b526a2d4e55462837"
	    "49cd3ddfb51d8fc71f42717363685f46"));
	for (n = 0; n <= MSG200_LEN; n++)
		sha256(m, n, all + 32 * n);
	CHECK(digest_is(all, sizeof(all),
	    "3275febb4612d86d586eb9f11cd21e64"
	    "8a9fc7d95e0f6b8d362786e28c9c5b79"));

	for (n = 0; n <= MSG200_LEN; n++) {
		for (k = 0; k <= n; k++) {
			sha256_init(&c);
			sha256_update(&c, m, k);
			sha256_update(&c, m + k, n - k);
			sha256_final(&c, md);
			if (memcmp(md, all + 32 * n, 32) != 0) {
				fprintf(stderr, "length %zu split at %zu\n",
				    n, k);
				ok = 0;
			}
		}
	}
	CHECK(ok);
}

static void
test_unaligned(void)
{
	uint8_t m[MSG200_LEN], buf[MSG200_LEN + 8], one[32], md[32];
	size_t off;

	msg200(m);
	sha256(m, sizeof(m), one);
	for (off = 1; off < 8; off++) {
		memcpy(buf + off, "abc", 3);
		CHECK(digest_is(buf + off, 3, "ba7816bf8f01cfea414140de5dae"
		    "2223b00361a396177a9cb410ff61f20015ad"));
		memcpy(buf + off, MSG448, strlen(MSG448));
		CHECK(digest_is(buf + off, strlen(MSG448), "248d6a61d20638b8"
		    "e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
		memcpy(buf + off, m, sizeof(m));
		sha256(buf + off, sizeof(m), md);
		CHECKF(memcmp(md, one, 32) == 0, "offset %zu", off);
	}
}

/* A copied context (the midstate) finishes like a fresh one-shot hash,
 * for prefixes inside a block and at a block boundary. */
static void
test_midstate(void)
{
	static const size_t prefix[] = { 0, 41, 64, 100, 128 };
	uint8_t m[MSG200_LEN], md[32], one[32], joined[MSG200_LEN];
	struct sha256 mid, c;
	size_t i, s, plen, slen;

	msg200(m);
	for (i = 0; i < sizeof(prefix) / sizeof(prefix[0]); i++) {
		plen = prefix[i];
		sha256_init(&mid);
		sha256_update(&mid, m, plen);
		for (s = 0; s < 4; s++) {
			/* suffix s: 13 * s + 5 bytes, first byte varies */
			slen = 13 * s + 5;
			memcpy(joined, m, plen);
			memset(joined + plen, (int)('A' + s), slen);
			c = mid;
			sha256_update(&c, joined + plen, slen);
			sha256_final(&c, md);
			sha256(joined, plen + slen, one);
			CHECKF(memcmp(md, one, 32) == 0,
			    "prefix %zu suffix %zu", plen, s);
		}
	}
}

static void
test_transform_and_d(void)
{
	static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372,
	    0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	static const uint32_t abc[8] = { 0xba7816bf, 0x8f01cfea, 0x414140de,
	    0x5dae2223, 0xb00361a3, 0x96177a9c, 0xb410ff61, 0xf20015ad };
	uint8_t block[64] = { 'a', 'b', 'c', 0x80 }, md[32], buf[80];
	uint32_t st[8];
	char h[65];

	/* The padded "abc" block by hand: length 24 bits in the last byte. */
	block[63] = 24;
	memcpy(st, iv, sizeof(st));
	sha256_transform(st, block);
	CHECK(memcmp(st, abc, sizeof(st)) == 0);

	sha256d("", 0, md);
	CHECK(strcmp(hex(md, 32, 0, h), "5df6e0e2761359d30a8275058e299fcc"
	    "0381534545f55cf43e41983f5d4c9456") == 0);
	sha256d("hello", 5, md);
	CHECK(strcmp(hex(md, 32, 0, h), "9595c9df90075148eb06860365df3358"
	    "4b75bff782a510c6cd4883a419833d50") == 0);
	/* out == data */
	memcpy(buf, "hello", 5);
	memset(buf + 5, 0, sizeof(buf) - 5);
	sha256d(buf, 5, md);
	sha256d(buf, 5, buf);
	CHECK(memcmp(buf, md, 32) == 0);
	memset(buf, 7, sizeof(buf));
	sha256d(buf, 80, md);
	sha256d(buf, 80, buf);
	CHECK(memcmp(buf, md, 32) == 0);
	memset(buf, 7, sizeof(buf));
	sha256(buf, 80, md);
	sha256(buf, 80, buf + 1);
	CHECK(memcmp(buf + 1, md, 32) == 0);
}

/* SHA-256d of each real block header, shown byte-reversed as Bitcoin
 * does, must equal the hash in ../shared/vectors/README.md. */
static void
test_blocks(void)
{
	static const char *const blk[][2] = {
		{ "block1.raw", "00000000839a8e6886ab5951d76f411475428afc"
		    "90947ee320161bbf18eb6048" },
		{ "block300025.raw", "0000000000000000821c4e0acc40f88bedbce3b7"
		    "3ba2358b5ade58a9022cc78c" },
		{ "block482683.raw", "000000000000000000c238240ef6dcb26c37e75e"
		    "16514e6ffc0aef7eee73e747" },
		{ "block898352.raw", "00000000c269ad542ed9ac684cb5fa6df340d5fe"
		    "ee0e040590225c7332b98fca" },
		{ "block928816.raw", "00000000000001c4b87edf974ddc601d88dda332"
		    "265b9849a944a5ff0141a378" },
	};
	char path[512], h[65];
	uint8_t md[32];
	size_t i, len;
	char *raw;

	for (i = 0; i < sizeof(blk) / sizeof(blk[0]); i++) {
		snprintf(path, sizeof(path), "%s/blocks/%s", test_vectors(),
		    blk[i][0]);
		raw = test_read_file(path, &len);
		CHECKF(raw != NULL && len > 80, "cannot read %s", path);
		if (raw == NULL)
			continue;
		if (len > 80) {
			sha256d(raw, 80, md);
			CHECKF(strcmp(hex(md, 32, 1, h), blk[i][1]) == 0,
			    "%s: got %s", blk[i][0], h);
		}
		free(raw);
	}
}

int
main(void)
{
	test_fips();
	test_million();
	test_lengths_and_splits();
	test_unaligned();
	test_midstate();
	test_transform_and_d();
	test_blocks();
	TEST_END("sha256");
}
