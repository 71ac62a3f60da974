/*
 * fuzz_addr.c - addr.c under libFuzzer.  The input, cut at its first NUL
 * and NUL-terminated, is the address; it is decoded for every network and
 * for one value that is no network.
 *
 * Checked: a result is -1 with a message, or a script of one of the shapes
 * addr.h promises (P2PKH, P2SH, a witness program of the right size for its
 * version); one string gives the same script on every network it is valid
 * for, and mainnet excludes the others; a witness address is valid in all
 * lower or all upper case alike (BIP 173); short error buffers are
 * respected.
 *
 * Random bytes almost never carry a valid bech32 checksum, so each input
 * shaped like HRP "1" data is also decoded with its last six characters
 * replaced by a valid checksum (bech32 or bech32m, by the data's length),
 * which takes the decoder past the checksum to the version, padding and
 * program-length checks.
 */
#include <string.h>

#include "addr.h"
#include "fuzz.h"

#define FUZZ_ADDR_MAX 256	/* longer inputs are cut: all over the limit */

static const char charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/* BIP 173's checksum polynomial, one 5-bit value at a time. */
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

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Give a[0, len) a valid bech32 (bech32m for odd len) checksum in its
 * last six characters; 0 when it is not shaped for one. */
static int
fix_checksum(char *a, size_t len)
{
	const char *p;
	uint32_t chk = 1;
	size_t sep, i;

	for (sep = len; sep > 0 && a[sep - 1] != '1'; sep--)
		;
	if (sep-- < 2 || len - sep - 1 < 6)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)a[i] < 33 || (unsigned char)a[i] > 126 ||
		    (i > sep && strchr(charset, lower(a[i])) == NULL))
			return 0;
	for (i = 0; i < sep; i++)
		chk = polymod(chk, (unsigned)lower(a[i]) >> 5);
	chk = polymod(chk, 0);
	for (i = 0; i < sep; i++)
		chk = polymod(chk, (unsigned)lower(a[i]) & 31);
	for (i = sep + 1; i < len - 6; i++) {
		p = strchr(charset, lower(a[i]));
		chk = polymod(chk, (unsigned)(p - charset));
	}
	for (i = 0; i < 6; i++)
		chk = polymod(chk, 0);
	chk ^= len % 2 ? 0x2bc830a3u : 1;
	for (i = 0; i < 6; i++)
		a[len - 6 + i] = charset[chk >> (5 * (5 - i)) & 31];
	return 1;
}

/* The script has a shape addr.h allows; 1 when it is a witness program. */
static int
check_shape(const uint8_t *s, int n)
{
	FUZZ_CHECK(n > 0 && n <= ADDR_SCRIPT_MAX);
	if (n == 25 && s[0] == 0x76) {
		FUZZ_CHECK(s[1] == 0xa9 && s[2] == 20 && s[23] == 0x88 &&
		    s[24] == 0xac);
		return 0;
	}
	if (n == 23 && s[0] == 0xa9) {
		FUZZ_CHECK(s[1] == 20 && s[22] == 0x87);
		return 0;
	}
	FUZZ_CHECK(s[0] == 0x00 || (s[0] >= 0x51 && s[0] <= 0x60));
	FUZZ_CHECK(s[1] == n - 2 && s[1] >= 2 && s[1] <= 40);
	if (s[0] == 0x00)
		FUZZ_CHECK(s[1] == 20 || s[1] == 32);
	return 1;
}

static void
check_case(const char *addr, size_t len, int upper, int net,
    const uint8_t *script, int n)
{
	char a[FUZZ_ADDR_MAX + 1];
	uint8_t s[ADDR_SCRIPT_MAX];
	size_t i;

	for (i = 0; i <= len; i++)
		a[i] = upper && addr[i] >= 'a' && addr[i] <= 'z' ?
		    (char)(addr[i] - 'a' + 'A') : !upper && addr[i] >= 'A' &&
		    addr[i] <= 'Z' ? (char)(addr[i] - 'A' + 'a') : addr[i];
	FUZZ_CHECK(addr_to_script(a, (enum addr_net)net, s, NULL, 0) == n);
	FUZZ_CHECK(memcmp(s, script, (size_t)n) == 0);
}

/* Every network for one string. */
static void
check_addr(const char *addr)
{
	char err[128], tiny[4];
	uint8_t script[ADDR_SCRIPT_MAX], first[ADDR_SCRIPT_MAX];
	int net, n, nfirst = 0, valid = 0, witness = 0;
	size_t len = strlen(addr);

	for (net = ADDR_MAIN; net <= ADDR_REGTEST + 1; net++) {
		err[0] = tiny[0] = '\0';
		n = addr_to_script(addr, (enum addr_net)net, script, err,
		    sizeof(err));
		FUZZ_CHECK(addr_to_script(addr, (enum addr_net)net, script,
		    tiny, sizeof(tiny)) == n && strlen(tiny) < sizeof(tiny));
		if (n < 0) {
			FUZZ_CHECK(n == -1 && err[0] != '\0' &&
			    strlen(err) < sizeof(err));
			continue;
		}
		FUZZ_CHECK(net <= ADDR_REGTEST && len <= ADDR_MAX_LEN);
		witness = check_shape(script, n);
		if (valid++ == 0) {
			memcpy(first, script, (size_t)n);
			nfirst = n;
		} else {
			FUZZ_CHECK(n == nfirst && memcmp(script, first,
			    (size_t)n) == 0);
		}
		if (witness) {
			check_case(addr, len, 0, net, script, n);
			check_case(addr, len, 1, net, script, n);
		}
	}
	/* A mainnet address is valid nowhere else. */
	if (valid > 0 && addr_to_script(addr, ADDR_MAIN, script, NULL, 0) > 0)
		FUZZ_CHECK(valid == 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char addr[FUZZ_ADDR_MAX + 1];
	size_t len = size < FUZZ_ADDR_MAX ? size : FUZZ_ADDR_MAX;

	memcpy(addr, data, len);
	addr[len] = '\0';
	FUZZ_CHECK(addr_net_from_chain(addr) >= -1 &&
	    addr_net_from_chain(addr) <= ADDR_REGTEST);
	check_addr(addr);
	if (fix_checksum(addr, strlen(addr)))
		check_addr(addr);
	return 0;
}
