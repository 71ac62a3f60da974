/*
 * test_addr.c - addr_to_script against the 54 addresses of
 * ../shared/vectors/addresses/addresses.tsv (Bitcoin Core's key_io_valid
 * set), the valid and invalid lists of BIPs 173 and 350, and addresses made
 * here by a small bech32/bech32m and base58check encoder.  The encoders are
 * proved first: they must re-create every address of the .tsv from its
 * script, so what they make for the rule-by-rule checks is real.
 */
#include <stdint.h>

#include "addr.h"
#include "sha256.h"
#include "test.h"

#define NNETS		3
#define TSV_ROWS	54
#define ERRLEN		128

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
static const char b58[] =
    "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/*
 * Decode from an exactly sized heap copy, so that under ASan any read past
 * the terminating NUL is caught.  Returns addr_to_script's value.
 */
static int
decode(const char *a, enum addr_net net, uint8_t *script, char *err)
{
	size_t n = strlen(a) + 1;
	char *copy = malloc(n);
	int r;

	if (copy == NULL)
		return -2;
	memcpy(copy, a, n);
	err[0] = '\0';
	r = addr_to_script(copy, net, script, err, ERRLEN);
	free(copy);
	return r;
}

static int
nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Lower-case hex -> bytes; returns the count, stopping at a bad digit. */
static size_t
unhex(const char *h, size_t hlen, uint8_t *out, size_t max)
{
	size_t i;

	for (i = 0; i + 2 <= hlen && i / 2 < max; i += 2) {
		if (nibble(h[i]) < 0 || nibble(h[i + 1]) < 0)
			break;
		out[i / 2] = (uint8_t)(nibble(h[i]) << 4 | nibble(h[i + 1]));
	}
	return i / 2;
}

/* --- a bech32 / bech32m encoder (test only) --- */

static uint32_t
polymod(uint32_t chk, unsigned v)
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

/* hrp + 5-bit values -> string with checksum constant cst. */
static void
bech32_encode(char *out, const char *hrp, const uint8_t *val, size_t n,
    uint32_t cst)
{
	uint32_t chk = 1;
	size_t i, h = strlen(hrp);

	for (i = 0; i < h; i++)
		chk = polymod(chk, (unsigned)hrp[i] >> 5);
	chk = polymod(chk, 0);
	for (i = 0; i < h; i++)
		chk = polymod(chk, (unsigned)hrp[i] & 31);
	for (i = 0; i < n; i++)
		chk = polymod(chk, val[i]);
	for (i = 0; i < 6; i++)
		chk = polymod(chk, 0);
	chk ^= cst;
	memcpy(out, hrp, h);
	out[h] = '1';
	for (i = 0; i < n; i++)
		out[h + 1 + i] = charset[val[i]];
	for (i = 0; i < 6; i++)
		out[h + 1 + n + i] = charset[chk >> (5 * (5 - i)) & 31];
	out[h + 1 + n + 6] = '\0';
}

/* witness version + program -> 5-bit values, zero-padded; returns count. */
static size_t
segwit_values(uint8_t *val, int ver, const uint8_t *prog, size_t plen)
{
	uint32_t acc = 0;
	size_t i, n = 0;
	int bits = 0;

	val[n++] = (uint8_t)ver;
	for (i = 0; i < plen; i++) {
		acc = (acc << 8 | prog[i]) & 0xfff;
		for (bits += 8; bits >= 5; bits -= 5)
			val[n++] = (uint8_t)(acc >> (bits - 5) & 31);
	}
	if (bits > 0)
		val[n++] = (uint8_t)(acc << (5 - bits) & 31);
	return n;
}

static void
segwit_encode(char *out, const char *hrp, int ver, const uint8_t *prog,
    size_t plen, uint32_t cst)
{
	uint8_t val[128];

	bech32_encode(out, hrp, val, segwit_values(val, ver, prog, plen), cst);
}

/* --- a base58check encoder (test only) --- */

static void
b58check_encode(char *out, uint8_t version, const uint8_t *data, size_t len)
{
	uint8_t buf[64], hash[32], digits[128];
	size_t n = 0, i, j, zeros = 0, nd = 0;
	unsigned rem;

	buf[n++] = version;
	memcpy(buf + n, data, len);
	n += len;
	sha256d(buf, n, hash);
	memcpy(buf + n, hash, 4);
	n += 4;
	while (zeros < n && buf[zeros] == 0)
		zeros++;
	for (i = zeros; i < n;) {	/* divide buf by 58 until it is 0 */
		for (rem = 0, j = i; j < n; j++) {
			rem = rem << 8 | buf[j];
			buf[j] = (uint8_t)(rem / 58);
			rem %= 58;
		}
		digits[nd++] = (uint8_t)rem;
		while (i < n && buf[i] == 0)
			i++;
	}
	for (i = 0; i < zeros; i++)
		*out++ = '1';
	while (nd > 0)
		*out++ = b58[digits[--nd]];
	*out = '\0';
}

/* --- the .tsv --- */

struct row {
	char addr[ADDR_MAX_LEN + 1];
	uint8_t script[ADDR_SCRIPT_MAX];
	int slen;
	int net;
};

static int
is_base58_script(const struct row *r)
{
	return r->script[0] == 0x76 || r->script[0] == 0xa9;
}

static int
read_tsv(struct row *rows, int max)
{
	char path[512], *buf, *line, *next, *t1, *t2;
	size_t len;
	int n = 0;

	snprintf(path, sizeof(path), "%s/addresses/addresses.tsv",
	    test_vectors());
	buf = test_read_file(path, &len);
	CHECKF(buf != NULL, "cannot read %s", path);
	if (buf == NULL)
		return 0;
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		t1 = strchr(line, '\t');
		t2 = t1 != NULL ? strchr(t1 + 1, '\t') : NULL;
		CHECKF(t2 != NULL, "bad row: %s", line);
		if (t2 == NULL || n == max ||
		    (size_t)(t1 - line) > ADDR_MAX_LEN)
			continue;
		memcpy(rows[n].addr, line, (size_t)(t1 - line));
		rows[n].addr[t1 - line] = '\0';
		rows[n].slen = (int)unhex(t1 + 1, (size_t)(t2 - t1 - 1),
		    rows[n].script, ADDR_SCRIPT_MAX);
		CHECK(rows[n].slen * 2 == (int)(t2 - t1 - 1));
		rows[n].net = addr_net_from_chain(t2 + 1);
		CHECKF(rows[n].net >= 0, "unknown chain %s", t2 + 1);
		n++;
	}
	free(buf);
	return n;
}

static void
test_row(const struct row *r)
{
	uint8_t script[ADDR_SCRIPT_MAX];
	char err[ERRLEN], upper[ADDR_MAX_LEN + 1];
	int n, got, shared;
	size_t i;

	for (n = 0; n < NNETS; n++) {
		got = decode(r->addr, (enum addr_net)n, script, err);
		/* base58 testnet and regtest prefixes are the same bytes */
		shared = is_base58_script(r) && n != ADDR_MAIN &&
		    r->net != ADDR_MAIN;
		if (n == r->net || shared) {
			CHECKF(got == r->slen && memcmp(script, r->script,
			    (size_t)r->slen) == 0, "%s on %s: %d %s", r->addr,
			    addr_net_name((enum addr_net)n), got, err);
		} else {
			CHECKF(got == -1 && strncmp(err, "address is for ",
			    15) == 0, "%s on %s: %d %s", r->addr,
			    addr_net_name((enum addr_net)n), got, err);
		}
	}
	if (is_base58_script(r))
		return;
	for (i = 0; r->addr[i] != '\0'; i++)	/* BIP 173: upper case too */
		upper[i] = (char)(r->addr[i] >= 'a' && r->addr[i] <= 'z' ?
		    r->addr[i] - 32 : r->addr[i]);
	upper[i] = '\0';
	got = decode(upper, (enum addr_net)r->net, script, err);
	CHECKF(got == r->slen && memcmp(script, r->script, (size_t)r->slen)
	    == 0, "%s: %s", upper, err);
}

/* The encoders must re-create each address of the .tsv from its script. */
static void
test_encoders(const struct row *r)
{
	static const char *hrp[NNETS] = { "bc", "tb", "bcrt" };
	char out[ADDR_MAX_LEN + 8];
	int ver;

	if (r->script[0] == 0x76)
		b58check_encode(out, r->net == ADDR_MAIN ? 0x00 : 0x6f,
		    r->script + 3, 20);
	else if (r->script[0] == 0xa9)
		b58check_encode(out, r->net == ADDR_MAIN ? 0x05 : 0xc4,
		    r->script + 2, 20);
	else {
		ver = r->script[0] == 0 ? 0 : r->script[0] - 0x50;
		segwit_encode(out, hrp[r->net], ver, r->script + 2,
		    (size_t)r->slen - 2, ver == 0 ? 1 : 0x2bc830a3);
	}
	CHECKF(strcmp(out, r->addr) == 0, "encoder: %s != %s", out, r->addr);
}

/* bcoin's regtest spellings give the same scripts, on regtest only.
 * Returns 1 when r had such a spelling. */
static int
test_bcoin(const struct row *r)
{
	uint8_t script[ADDR_SCRIPT_MAX];
	char out[ADDR_MAX_LEN + 8], err[ERRLEN];
	int n, got;

	if (r->net != ADDR_REGTEST)
		return 0;
	if (r->script[0] == 0x76) {
		b58check_encode(out, 0x3c, r->script + 3, 20);
		CHECKF(out[0] == 'R', "%s", out);
	} else if (r->script[0] == 0xa9) {
		b58check_encode(out, 0x26, r->script + 2, 20);
		CHECKF(out[0] == 'G', "%s", out);
	} else if (r->script[0] == 0 && r->slen == 22) {
		segwit_encode(out, "rb", 0, r->script + 2, 20, 1);
	} else
		return 0;
	for (n = 0; n < NNETS; n++) {
		got = decode(out, (enum addr_net)n, script, err);
		if (n == ADDR_REGTEST)
			CHECKF(got == r->slen && memcmp(script, r->script,
			    (size_t)r->slen) == 0, "%s: %s", out, err);
		else
			CHECKF(got == -1 && strstr(err, "address is for "
			    "regtest, the node runs ") == err, "%s: %s", out,
			    err);
	}
	return 1;
}

static void
test_vectors_tsv(void)
{
	static struct row rows[TSV_ROWS + 8];
	int i, n = read_tsv(rows, TSV_ROWS + 8), bcoin = 0;

	CHECKF(n == TSV_ROWS, "%d rows", n);
	for (i = 0; i < n; i++) {
		test_row(&rows[i]);
		test_encoders(&rows[i]);
		bcoin += test_bcoin(&rows[i]);
	}
	CHECKF(bcoin >= 3, "only %d regtest rows in bcoin forms", bcoin);
}

/* --- the BIPs' own lists --- */

static void
test_bip_valid(void)
{
	static const struct {
		const char *addr, *hex;
		enum addr_net net;
	} v[] = {
		{ "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",
		  "0014751e76e8199196d454941c45d1b3a323f1433bd6", ADDR_MAIN },
		{ "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
		  "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262",
		  ADDR_TEST },
		{ "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
		  "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6",
		  ADDR_MAIN },
		{ "BC1SW50QGDZ25J", "6002751e", ADDR_MAIN },
		{ "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs",
		  "5210751e76e8199196d454941c45d1b3a323", ADDR_MAIN },
		{ "tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy",
		  "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433",
		  ADDR_TEST },
		{ "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c",
		  "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433",
		  ADDR_TEST },
		{ "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
		  "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
		  ADDR_MAIN },
	};
	uint8_t script[ADDR_SCRIPT_MAX], want[ADDR_SCRIPT_MAX];
	char err[ERRLEN];
	size_t i, wl;
	int got;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		wl = unhex(v[i].hex, strlen(v[i].hex), want, sizeof(want));
		got = decode(v[i].addr, v[i].net, script, err);
		CHECKF(got == (int)wl && memcmp(script, want, wl) == 0,
		    "%s: %d %s", v[i].addr, got, err);
	}
}

struct bad {
	const char *addr;
	enum addr_net net;
	const char *why;	/* must appear in the error */
};

static const struct bad bad[] = {
	/* BIP 173 */
	{ "tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty", ADDR_MAIN,
	  "unknown address prefix \"tc1\"" },
	{ "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", ADDR_MAIN,
	  "bad checksum" },
	{ "BC13W508D6QEJXTDG4Y5R3ZARVARY0C5XW7KN40WF2", ADDR_MAIN,
	  "witness version 17 > 16" },
	{ "bc1rw5uspcuh", ADDR_MAIN, "bech32 used for witness version 3" },
	{ "bc10w508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw5rljs90",
	  ADDR_MAIN, "bech32 used for witness version 15" },
	{ "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P", ADDR_MAIN,
	  "wrong program length: witness version 0 needs 20 or 32 bytes, "
	  "not 16" },
	{ "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7",
	  ADDR_TEST, "mixed case" },
	{ "bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du", ADDR_MAIN,
	  "bech32 used for witness version 2" },
	{ "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv",
	  ADDR_TEST, "bad padding: non-zero padding bits" },
	{ "bc1gmk9yu", ADDR_MAIN, "too short" },
	{ "li1dgmt3", ADDR_MAIN, "invalid base58 character 'l'" },
	{ " 1nwldj5", ADDR_MAIN, "invalid base58 character 0x20" },
	{ "\x7f" "1axkwrx", ADDR_MAIN, "invalid base58 character 0x7f" },
	{ "\x80" "1eym55h", ADDR_MAIN, "invalid base58 character 0x80" },
	{ "an84characterslonghumanreadablepartthatcontainsthenumber1andthe"
	  "excludedcharactersbio1569pvx", ADDR_MAIN, "too long" },
	{ "pzry9x0s0muk", ADDR_MAIN, "invalid base58 character '0'" },
	{ "1pzry9x0s0muk", ADDR_MAIN, "invalid base58 character '0'" },
	{ "x1b4n0q5v", ADDR_MAIN, "invalid base58 character '0'" },
	{ "de1lg7wt\xff", ADDR_MAIN,
	  "invalid base58 character 'l' at position 3" },
	{ "10a06t8", ADDR_MAIN, "invalid base58 character '0'" },
	{ "A1G7SGD8", ADDR_MAIN, "unknown address prefix \"A1\"" },
	/* BIP 350 */
	{ "tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",
	  ADDR_TEST, "unknown address prefix \"tc1\"" },
	{ "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
	  ADDR_MAIN, "bech32 used for witness version 1" },
	{ "tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf",
	  ADDR_TEST, "bech32 used for witness version 2" },
	{ "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",
	  ADDR_MAIN, "bech32 used for witness version 16" },
	{ "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", ADDR_MAIN,
	  "bech32m used for witness version 0" },
	{ "tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47",
	  ADDR_TEST, "bech32m used for witness version 0" },
	{ "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",
	  ADDR_MAIN, "invalid bech32 character 'o' at position 59" },
	{ "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",
	  ADDR_MAIN, "witness version 17 > 16" },
	{ "bc1pw5dgrnzv", ADDR_MAIN, "wrong program length: 1 bytes" },
	{ "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",
	  ADDR_MAIN, "wrong program length: over 40 bytes" },
	{ "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq",
	  ADDR_TEST, "mixed case" },
	{ "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",
	  ADDR_MAIN, "bad padding: 6 bits left over" },
	{ "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j",
	  ADDR_TEST, "bad padding: non-zero padding bits" },
	/* our own: strings, characters, base58 */
	{ "", ADDR_MAIN, "empty address" },
	{ "bc1", ADDR_MAIN, "too short" },
	{ "tb1", ADDR_TEST, "too short" },
	{ "bcrt1qqqqqq", ADDR_REGTEST, "too short" },
	{ "bc", ADDR_MAIN, "wrong length" },
	{ "1", ADDR_MAIN, "wrong length" },
	{ "11111111111111111111111111111111111", ADDR_MAIN, "wrong length" },
	{ "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4 ", ADDR_MAIN,
	  "invalid bech32 character 0x20 at position 42" },
	{ " bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", ADDR_MAIN,
	  "invalid base58 character 0x20 at position 0" },
	{ "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t\x7f", ADDR_MAIN,
	  "invalid bech32 character 0x7f at position 41" },
	{ "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t\x80", ADDR_MAIN,
	  "invalid bech32 character 0x80 at position 41" },
	{ "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3tb", ADDR_MAIN,
	  "invalid bech32 character 'b' at position 41" },
	{ "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3ti", ADDR_MAIN,
	  "invalid bech32 character 'i'" },
	{ "BC1", ADDR_MAIN, "too short" },
	{ "1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2m0", ADDR_MAIN,
	  "invalid base58 character '0' at position 33" },
	{ "1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mO", ADDR_MAIN,
	  "invalid base58 character 'O'" },
	{ "1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mI", ADDR_MAIN,
	  "invalid base58 character 'I'" },
	{ "1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2ml", ADDR_MAIN,
	  "invalid base58 character 'l'" },
	{ "1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2m\x80", ADDR_MAIN,
	  "invalid base58 character 0x80" },
	{ "1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mp", ADDR_MAIN, "bad checksum" },
	{ "1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2m", ADDR_MAIN, "bad checksum" },
	{ "1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2moo", ADDR_MAIN, "wrong length" },
	{ "36j4NfKv6Akva9amjWrLG6MuSQym1GuEmn", ADDR_MAIN, "bad checksum" },
	{ "36J4NFKV6AKVA9AMJWRLG6MUSQYM1GUEMM", ADDR_MAIN, "bad checksum" },
	{ "mzK2FFDEhxqHcmrJw1ysqFkVyhUULo45hZ", ADDR_MAIN,
	  "address is for testnet/signet or regtest, the node runs mainnet" },
	{ "1FsSia9rv4NeEwvJ2GvXrX7LyxYspbN2mo", ADDR_TEST,
	  "address is for mainnet, the node runs testnet/signet" },
	{ "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", ADDR_REGTEST,
	  "address is for mainnet, the node runs regtest" },
	{ "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
	  ADDR_MAIN, "address is for testnet/signet, the node runs mainnet" },
};

static void
test_bad(void)
{
	uint8_t script[ADDR_SCRIPT_MAX];
	char err[ERRLEN];
	size_t i;
	int n, got;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		got = decode(bad[i].addr, bad[i].net, script, err);
		CHECKF(got == -1 && strstr(err, bad[i].why) != NULL &&
		    err[0] != '\0', "\"%s\": %d \"%s\", want \"%s\"",
		    bad[i].addr, got, err, bad[i].why);
		/* no string is refused for network alone unless valid */
		if (strncmp(bad[i].why, "address is for", 14) == 0)
			continue;
		for (n = 0; n < NNETS; n++) {
			got = decode(bad[i].addr, (enum addr_net)n, script,
			    err);
			CHECKF(got == -1 && strstr(err, "address is for") ==
			    NULL, "\"%s\" on %d: %s", bad[i].addr, n, err);
		}
	}
}

/* Over-long strings, embedded NUL, error buffers, an unknown network. */
static void
test_limits(void)
{
	static const char p2wpkh[] = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4";
	char s[ADDR_MAX_LEN + 16], err[ERRLEN], small[8];
	uint8_t script[ADDR_SCRIPT_MAX];
	int got;

	memset(s, 'q', sizeof(s));	/* no NUL at all: read stops at 91 */
	memcpy(s, "bc1", 3);
	got = addr_to_script(s, ADDR_MAIN, script, err, sizeof(err));
	CHECKF(got == -1 && strstr(err, "too long") != NULL, "%s", err);
	s[ADDR_MAX_LEN + 1] = '\0';
	got = decode(s, ADDR_MAIN, script, err);
	CHECKF(got == -1 && strstr(err, "too long") != NULL, "%s", err);
	s[ADDR_MAX_LEN] = '\0';		/* exactly the limit: decoded */
	got = decode(s, ADDR_MAIN, script, err);
	CHECKF(got == -1 && strstr(err, "bad checksum") != NULL, "%s", err);

	memcpy(s, p2wpkh, sizeof(p2wpkh));
	s[20] = '\0';			/* a NUL inside: the string ends */
	got = decode(s, ADDR_MAIN, script, err);
	CHECKF(got == -1 && strstr(err, "bad checksum") != NULL, "%s", err);

	CHECK(addr_to_script(p2wpkh, ADDR_MAIN, script, NULL, 0) == 22);
	CHECK(addr_to_script("bc1", ADDR_MAIN, script, NULL, 0) == -1);
	CHECK(addr_to_script("bc1", ADDR_MAIN, script, small, 0) == -1);
	CHECK(addr_to_script("bc1", ADDR_MAIN, script, small,
	    sizeof(small)) == -1 && strlen(small) == sizeof(small) - 1);
	CHECK(addr_to_script(p2wpkh, (enum addr_net)3, script, err,
	    sizeof(err)) == -1 && strstr(err, "unknown network") != NULL);
	CHECK(addr_to_script(p2wpkh, (enum addr_net)-1, script, err,
	    sizeof(err)) == -1);
}

/* Every witness version x program length x checksum, made by the encoder:
 * accepted exactly when BIPs 141/173/350 allow it. */
static void
test_witness_rules(void)
{
	uint8_t prog[41], script[ADDR_SCRIPT_MAX], val[128];
	char a[ADDR_MAX_LEN + 8], err[ERRLEN];
	int ver, m, ok, got;
	size_t len, n;

	for (len = 0; len < sizeof(prog); len++)
		prog[len] = (uint8_t)(len * 37 + 11);
	for (ver = 0; ver < 32; ver++)
		for (len = 0; len <= 41; len++)
			for (m = 0; m < 2; m++) {
				segwit_encode(a, "tb", ver, prog, len,
				    m ? 0x2bc830a3 : 1);
				ok = ver <= 16 && m == (ver > 0) &&
				    (ver > 0 ? len >= 2 && len <= 40 :
				    len == 20 || len == 32);
				got = decode(a, ADDR_TEST, script, err);
				CHECKF(ok ? got == (int)len + 2 &&
				    script[0] == (ver ? 0x50 + ver : 0) &&
				    script[1] == len &&
				    memcmp(script + 2, prog, len) == 0 :
				    got == -1, "v%d len %zu m%d: %d %s", ver,
				    len, m, got, err);
			}
	/* padding: one 5-bit group too many; a non-zero padding bit */
	n = segwit_values(val, 0, prog, 20);
	val[n++] = 0;
	bech32_encode(a, "bc", val, n, 1);
	CHECKF(decode(a, ADDR_MAIN, script, err) == -1 &&
	    strstr(err, "5 bits left over") != NULL, "%s", err);
	n = segwit_values(val, 1, prog, 32);
	val[n - 1] |= 1;
	bech32_encode(a, "bc", val, n, 0x2bc830a3);
	CHECKF(decode(a, ADDR_MAIN, script, err) == -1 &&
	    strstr(err, "non-zero padding") != NULL, "%s", err);
	n = segwit_values(val, 1, prog, 32);
	bech32_encode(a, "bc", val, n, 0x2bc830a3);
	CHECK(decode(a, ADDR_MAIN, script, err) == 34);
}

static void
test_base58_versions(void)
{
	static const struct {
		uint8_t version;
		int nets;	/* bit per enum addr_net that accepts */
	} v[] = {
		{ 0x00, 1 }, { 0x05, 1 }, { 0x6f, 6 }, { 0xc4, 6 },
		{ 0x3c, 4 }, { 0x26, 4 }, { 0x01, 0 }, { 0x80, 0 },
		{ 0xef, 0 }, { 0x30, 0 }, { 0xff, 0 },
	};
	uint8_t h[21], script[ADDR_SCRIPT_MAX];
	char a[ADDR_MAX_LEN + 8], err[ERRLEN];
	size_t i;
	int n, got, p2sh;

	memset(h, 0xa5, sizeof(h));
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		b58check_encode(a, v[i].version, h, 20);
		p2sh = v[i].version == 0x05 || v[i].version == 0xc4 ||
		    v[i].version == 0x26;
		for (n = 0; n < NNETS; n++) {
			got = decode(a, (enum addr_net)n, script, err);
			if (v[i].nets >> n & 1)
				CHECKF(got == (p2sh ? 23 : 25) &&
				    memcmp(script + (p2sh ? 2 : 3), h, 20) == 0,
				    "0x%02x: %s", v[i].version, err);
			else
				CHECKF(got == -1 && strstr(err, v[i].nets ?
				    "address is for" : "unknown base58 "
				    "version byte") != NULL, "0x%02x: %s",
				    v[i].version, err);
		}
	}
	b58check_encode(a, 0x00, h, 19);	/* a well-formed 24 bytes */
	CHECKF(decode(a, ADDR_MAIN, script, err) == -1 &&
	    strstr(err, "wrong length") != NULL, "%s", err);
	b58check_encode(a, 0x00, h, 21);
	CHECKF(decode(a, ADDR_MAIN, script, err) == -1 &&
	    strstr(err, "wrong length") != NULL, "%s", err);
}

/* Some bcoin regtest P2PKH addresses start "Rb1" with no later '1', which
 * reads as HRP "rb" + separator: they must still decode as base58. */
static void
test_rb1_lookalike(void)
{
	uint8_t h[20], script[ADDR_SCRIPT_MAX];
	char a[ADDR_MAX_LEN + 8], err[ERRLEN];
	uint32_t i;
	int found = 0;

	memset(h, 0x5a, sizeof(h));
	for (i = 0; i < 1000000 && found < 2; i++) {
		h[0] = (uint8_t)i;	/* the low byte moves the 2nd digit */
		h[1] = (uint8_t)(i >> 8);
		h[2] = (uint8_t)(i >> 16);
		b58check_encode(a, 0x3c, h, 20);
		if ((a[1] != 'b' && a[1] != 'B') || a[2] != '1' ||
		    strchr(a + 3, '1') != NULL)
			continue;
		found++;
		CHECKF(decode(a, ADDR_REGTEST, script, err) == 25 &&
		    memcmp(script + 3, h, 20) == 0, "%s: %s", a, err);
		CHECKF(decode(a, ADDR_MAIN, script, err) == -1 &&
		    strstr(err, "address is for regtest") != NULL, "%s: %s",
		    a, err);
	}
	CHECKF(found == 2, "no \"Rb1\" address in %u tries", (unsigned)i);
}

static void
test_chains(void)
{
	CHECK(addr_net_from_chain("main") == ADDR_MAIN);
	CHECK(addr_net_from_chain("test") == ADDR_TEST);
	CHECK(addr_net_from_chain("testnet") == ADDR_TEST);
	CHECK(addr_net_from_chain("testnet3") == ADDR_TEST);
	CHECK(addr_net_from_chain("testnet4") == ADDR_TEST);
	CHECK(addr_net_from_chain("signet") == ADDR_TEST);
	CHECK(addr_net_from_chain("regtest") == ADDR_REGTEST);
	CHECK(addr_net_from_chain("mainnet") == -1);
	CHECK(addr_net_from_chain("Main") == -1);
	CHECK(addr_net_from_chain("") == -1);
	CHECK(addr_net_from_chain(NULL) == -1);
	CHECK(strcmp(addr_net_name(ADDR_MAIN), "mainnet") == 0);
	CHECK(strcmp(addr_net_name(ADDR_TEST), "testnet/signet") == 0);
	CHECK(strcmp(addr_net_name(ADDR_REGTEST), "regtest") == 0);
}

int
main(void)
{
	test_chains();
	test_vectors_tsv();
	test_bip_valid();
	test_bad();
	test_limits();
	test_witness_rules();
	test_base58_versions();
	test_rb1_lookalike();
	TEST_END("test_addr");
}
