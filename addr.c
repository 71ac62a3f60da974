/*
 * addr.c - a Bitcoin address -> the output script that pays it.
 *
 * At most ADDR_MAX_LEN characters: every step works in small fixed stack
 * buffers.  Errors come in the order the BIPs list them (characters, case,
 * checksum, version, encoding, padding, length), the network last, so
 * "address is for testnet/signet" is never said of a mistyped string.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "sha256.h"

#define COUNT(a)	(sizeof(a) / sizeof((a)[0]))
#define NET_BIT(n)	(1u << (n))
#define NETS_TESTLIKE	(NET_BIT(ADDR_TEST) | NET_BIT(ADDR_REGTEST))

#define HASH160_LEN	20
/* base58check payload: version byte, HASH160, 4 bytes of SHA-256d. */
#define B58_CHECK_LEN	4
#define B58_PAYLOAD_LEN	(1 + HASH160_LEN + B58_CHECK_LEN)
/* 90 base58 digits are < 58^90 < 256^66: room for any over-long input. */
#define B58_BUF_LEN	68

#define BECH32_CONST	0x00000001u	/* BIP 173 */
#define BECH32M_CONST	0x2bc830a3u	/* BIP 350 */
#define BECH32_CHECK	6		/* checksum characters */
#define WITNESS_VMAX	16
#define WITNESS_MIN	2
#define WITNESS_MAX	40
#define WITNESS_V0_PKH	20
#define WITNESS_V0_SH	32

enum { ENC_BECH32, ENC_BECH32M };

static const char b58_alphabet[] =
    "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
static const char bech32_charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/* OP_DUP OP_HASH160 push(20) hash OP_EQUALVERIFY OP_CHECKSIG, and
 * OP_HASH160 push(20) hash OP_EQUAL; the hash goes in at 3 and 2. */
static const uint8_t p2pkh[25] = { 0x76, 0xa9, 20, [23] = 0x88, 0xac };
static const uint8_t p2sh[23] = { 0xa9, 20, [22] = 0x87 };

/* P2PKH, P2SH; regtest shares testnet's.  bcoin's own regtest forms (0x3c,
 * 0x26, "rb") are from its v1 lib/protocol/networks.js, later Core's. */
static const struct {
	uint8_t version;
	uint8_t p2sh;
	unsigned nets;
} b58_versions[] = {
	{ 0x00, 0, NET_BIT(ADDR_MAIN) }, { 0x05, 1, NET_BIT(ADDR_MAIN) },
	{ 0x6f, 0, NETS_TESTLIKE }, { 0xc4, 1, NETS_TESTLIKE },
	{ 0x3c, 0, NET_BIT(ADDR_REGTEST) }, { 0x26, 1, NET_BIT(ADDR_REGTEST) },
};

static const struct {
	const char *hrp;
	enum addr_net net;
} hrps[] = {
	{ "bc", ADDR_MAIN }, { "tb", ADDR_TEST },
	{ "bcrt", ADDR_REGTEST }, { "rb", ADDR_REGTEST },
};

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int
addr_net_from_chain(const char *chain)
{
	static const struct {
		const char *name;
		enum addr_net net;
	} chains[] = {
		{ "main", ADDR_MAIN }, { "test", ADDR_TEST },
		{ "testnet", ADDR_TEST }, { "testnet3", ADDR_TEST },
		{ "testnet4", ADDR_TEST }, { "signet", ADDR_TEST },
		{ "regtest", ADDR_REGTEST },
	};
	size_t i;

	for (i = 0; chain != NULL && i < COUNT(chains); i++)
		if (strcmp(chain, chains[i].name) == 0)
			return (int)chains[i].net;
	return -1;
}

const char *
addr_net_name(enum addr_net net)
{
	static const char *const names[] = {
		"mainnet", "testnet/signet", "regtest"
	};

	return (unsigned)net < COUNT(names) ? names[net] : "unknown network";
}

/* A valid address for the networks in the mask nets: is net one? */
static int
net_check(unsigned nets, enum addr_net net, char *err, size_t errlen)
{
	enum addr_net for_net = ADDR_MAIN;

	if (nets & NET_BIT(net))
		return 0;
	while (!(nets & NET_BIT(for_net)))
		for_net++;
	return fail(err, errlen, "address is for %s, the node runs %s",
	    nets == NETS_TESTLIKE ? "testnet/signet or regtest" :
	    addr_net_name(for_net), addr_net_name(net));
}

/* The character at s[i] for a message: printable as itself, else hex. */
static int
bad_char(const char *what, const char *s, size_t i, char *err, size_t errlen)
{
	unsigned char c = (unsigned char)s[i];

	if (c > ' ' && c < 0x7f)
		return fail(err, errlen, "invalid %s character '%c' at "
		    "position %zu", what, c, i);
	return fail(err, errlen, "invalid %s character 0x%02x at position %zu",
	    what, c, i);
}

/* Base58 digits -> the 25-byte payload (a zero byte per leading '1'), its
 * checksum verified.  Schoolbook multiply-and-add: at most 90 x 68 steps. */
static int
b58_check(const char *s, size_t len, uint8_t *out, char *err, size_t errlen)
{
	uint8_t buf[B58_BUF_LEN], hash[32];
	size_t i, j, zeros = 0, start;
	const char *p;
	unsigned carry;

	memset(buf, 0, sizeof(buf));
	while (zeros < len && s[zeros] == '1')
		zeros++;
	for (i = 0; i < len; i++) {
		if ((p = strchr(b58_alphabet, s[i])) == NULL)
			return bad_char("base58", s, i, err, errlen);
		carry = (unsigned)(p - b58_alphabet);
		for (j = sizeof(buf); j-- > 0;) {
			carry += 58u * buf[j];
			buf[j] = (uint8_t)(carry & 0xff);
			carry >>= 8;
		}
	}
	for (start = 0; start < sizeof(buf) && buf[start] == 0; start++)
		;
	if (zeros + sizeof(buf) - start != B58_PAYLOAD_LEN)
		return fail(err, errlen, "wrong length: base58 address decodes "
		    "to %zu bytes, not %d", zeros + sizeof(buf) - start,
		    B58_PAYLOAD_LEN);
	memset(out, 0, zeros);
	memcpy(out + zeros, buf + start, sizeof(buf) - start);
	sha256d(out, 1 + HASH160_LEN, hash);
	if (memcmp(hash, out + 1 + HASH160_LEN, B58_CHECK_LEN) != 0)
		return fail(err, errlen, "bad checksum");
	return 0;
}

/* A checked base58 payload -> P2PKH or P2SH script. */
static int
b58_to_script(const uint8_t *raw, enum addr_net net, uint8_t *script,
    char *err, size_t errlen)
{
	size_t i;
	int sh;

	for (i = 0; i < COUNT(b58_versions); i++)
		if (b58_versions[i].version == raw[0])
			break;
	if (i == COUNT(b58_versions))
		return fail(err, errlen, "unknown base58 version byte 0x%02x",
		    raw[0]);
	if (net_check(b58_versions[i].nets, net, err, errlen) < 0)
		return -1;
	sh = b58_versions[i].p2sh;
	memcpy(script, sh ? p2sh : p2pkh, sh ? sizeof(p2sh) : sizeof(p2pkh));
	memcpy(script + (sh ? 2 : 3), raw + 1, HASH160_LEN);
	return sh ? (int)sizeof(p2sh) : (int)sizeof(p2pkh);
}

/* BIP 173's BCH code over GF(32): one 5-bit value into the checksum. */
static uint32_t
polymod_step(uint32_t chk, unsigned v)
{
	static const uint32_t gen[5] = {
		0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3
	};
	uint32_t top = chk >> 25;
	int i;

	chk = (chk & 0x1ffffff) << 5 ^ v;
	for (i = 0; i < 5; i++)
		if (top >> i & 1)
			chk ^= gen[i];
	return chk;
}

static int
to_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* The data part of s (after the separator at sep, >= min characters) as
 * 5-bit values in val, *nval before the checksum.  Returns ENC_BECH32 or
 * ENC_BECH32M; -1 (bad characters, mixed case, too few), -2 (checksum). */
static int
bech32_values(const char *s, size_t len, size_t sep, size_t min,
    uint8_t *val, size_t *nval, char *err, size_t errlen)
{
	size_t i, n = 0;
	int lower = 0, upper = 0;
	uint32_t chk = 1;
	const char *p;

	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 33 || (unsigned char)s[i] > 126)
			return bad_char("bech32", s, i, err, errlen);
		lower |= s[i] >= 'a' && s[i] <= 'z';
		upper |= s[i] >= 'A' && s[i] <= 'Z';
	}
	if (lower && upper)
		return fail(err, errlen, "mixed case");
	if (len - sep - 1 < min)
		return fail(err, errlen, "too short: no witness version and "
		    "checksum after \"%.*s1\"", (int)sep, s);
	for (i = 0; i < sep; i++)	/* the HRP, lower-cased, expanded */
		chk = polymod_step(chk, (unsigned)to_lower(s[i]) >> 5);
	chk = polymod_step(chk, 0);
	for (i = 0; i < sep; i++)
		chk = polymod_step(chk, (unsigned)to_lower(s[i]) & 31);
	for (i = sep + 1; i < len; i++) {
		if ((p = strchr(bech32_charset, to_lower(s[i]))) == NULL)
			return bad_char("bech32", s, i, err, errlen);
		val[n] = (uint8_t)(p - bech32_charset);
		chk = polymod_step(chk, val[n++]);
	}
	*nval = n - BECH32_CHECK;
	if (chk == BECH32_CONST)
		return ENC_BECH32;
	if (chk == BECH32M_CONST)
		return ENC_BECH32M;
	fail(err, errlen, "bad checksum");
	return -2;
}

/* 5-bit groups -> bytes; at most 4 bits of zero padding may be left. */
static int
bits_5to8(const uint8_t *val, size_t n, uint8_t *out, char *err,
    size_t errlen)
{
	uint32_t acc = 0;
	size_t i, len = 0;
	int bits = 0;

	for (i = 0; i < n; i++) {
		acc = (acc << 5 | val[i]) & 0xfff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (len == WITNESS_MAX)
				return fail(err, errlen, "wrong program "
				    "length: over %d bytes", WITNESS_MAX);
			out[len++] = (uint8_t)(acc >> bits);
		}
	}
	if (bits > 4)
		return fail(err, errlen, "bad padding: %d bits left over "
		    "(at most 4)", bits);
	if (acc & ((1u << bits) - 1))
		return fail(err, errlen, "bad padding: non-zero padding bits");
	return (int)len;
}

static int
segwit_to_script(const char *s, size_t len, size_t sep, enum addr_net hrpnet,
    enum addr_net net, uint8_t *script, char *err, size_t errlen)
{
	uint8_t val[ADDR_MAX_LEN], prog[WITNESS_MAX];
	size_t nval = 0;
	int enc, ver, plen;

	enc = bech32_values(s, len, sep, 1 + BECH32_CHECK, val, &nval, err,
	    errlen);
	if (enc < 0)
		return -1;
	ver = val[0];
	if (ver > WITNESS_VMAX)
		return fail(err, errlen, "witness version %d > %d", ver,
		    WITNESS_VMAX);
	if (ver == 0 && enc != ENC_BECH32)
		return fail(err, errlen, "bech32m used for witness version 0 "
		    "(needs bech32)");
	if (ver > 0 && enc != ENC_BECH32M)
		return fail(err, errlen, "bech32 used for witness version %d "
		    "(needs bech32m)", ver);
	if ((plen = bits_5to8(val + 1, nval - 1, prog, err, errlen)) < 0)
		return -1;
	if (ver == 0 && plen != WITNESS_V0_PKH && plen != WITNESS_V0_SH)
		return fail(err, errlen, "wrong program length: witness "
		    "version 0 needs 20 or 32 bytes, not %d", plen);
	if (plen < WITNESS_MIN)
		return fail(err, errlen, "wrong program length: %d bytes "
		    "(%d to %d)", plen, WITNESS_MIN, WITNESS_MAX);
	if (net_check(NET_BIT(hrpnet), net, err, errlen) < 0)
		return -1;
	script[0] = (uint8_t)(ver == 0 ? 0x00 : 0x50 + ver); /* OP_0, OP_n */
	script[1] = (uint8_t)plen;
	memcpy(script + 2, prog, (size_t)plen);
	return 2 + plen;
}

/* *sep <- the last '1' in s (bech32's separator), or len.  Returns the
 * index in hrps[] of what precedes it (any case), or -1. */
static int
find_hrp(const char *s, size_t len, size_t *sep)
{
	const char *one = strrchr(s, '1');	/* s[len] is its NUL */
	size_t i, k;

	*sep = one != NULL ? (size_t)(one - s) : len;
	for (k = 0; k < COUNT(hrps) && *sep < len; k++) {
		for (i = 0; i < *sep && to_lower(s[i]) == hrps[k].hrp[i]; i++)
			;
		if (i == *sep && hrps[k].hrp[i] == '\0')
			return (int)k;
	}
	return -1;
}

/* Shaped like bech32 (letters, '1', charset, one case) but unknown HRP? */
static int
is_bech32_shaped(const char *s, size_t len, size_t sep)
{
	uint8_t val[ADDR_MAX_LEN];
	size_t i, n;

	if (sep < 1 || sep >= len)
		return 0;
	for (i = 0; i < sep; i++)
		if (to_lower(s[i]) < 'a' || to_lower(s[i]) > 'z')
			return 0;
	return bech32_values(s, len, sep, BECH32_CHECK, val, &n, NULL,
	    0) != -1;
}

int
addr_to_script(const char *addr, enum addr_net net, uint8_t *script,
    char *err, size_t errlen)
{
	uint8_t raw[B58_PAYLOAD_LEN];
	size_t len, sep;
	int k, r;

	if ((unsigned)net > ADDR_REGTEST)
		return fail(err, errlen, "unknown network %d", (int)net);
	len = strnlen(addr, ADDR_MAX_LEN + 1);
	if (len == 0)
		return fail(err, errlen, "empty address");
	if (len > ADDR_MAX_LEN)
		return fail(err, errlen, "address too long (over %d "
		    "characters)", ADDR_MAX_LEN);
	if ((k = find_hrp(addr, len, &sep)) >= 0) {
		/* About 1 in 1700 of bcoin's "R..." regtest addresses begin
		 * "rb1" in some case and have no later '1': base58 then. */
		r = segwit_to_script(addr, len, sep, hrps[k].net, net, script,
		    err, errlen);
		if (r >= 0 || b58_check(addr, len, raw, NULL, 0) < 0)
			return r;
	} else if (b58_check(addr, len, raw, err, errlen) < 0) {
		if (is_bech32_shaped(addr, len, sep))
			return fail(err, errlen, "unknown address prefix "
			    "\"%.*s1\"", (int)sep, addr);
		return -1;
	}
	return b58_to_script(raw, net, script, err, errlen);
}
