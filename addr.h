/*
 * addr.h - a Bitcoin address -> the output script that pays it.
 *
 * Decoded locally, no wallet RPC: base58check P2PKH and P2SH, bech32 for
 * witness version 0 (P2WPKH, 20 bytes; P2WSH, 32 bytes) and bech32m for
 * witness versions 1 to 16 (P2TR and future versions, 2 to 40 bytes), per
 * BIPs 13, 173 and 350.
 *
 * Address formats are per network family, not per chain: testnet3, testnet4
 * and signet share every prefix ("tb1", "m"/"n", "2"), so an address cannot
 * tell them apart and is accepted on all three.  On regtest both Bitcoin
 * Core's forms ("bcrt1", "m"/"n", "2") and bcoin's ("rb1", "R", "G") are
 * accepted: the output script, not the spelling, is what the coinbase pays.
 * Depends only on sha256 (SHA-256d for the base58check checksum).
 */
#ifndef ADDR_H
#define ADDR_H

#include <stddef.h>
#include <stdint.h>

/* The longest script: OP_n, push of 40 bytes.  P2PKH is 25, P2SH 23. */
#define ADDR_SCRIPT_MAX 42
/* Longer strings are refused before decoding (BIP 173 caps bech32 at 90). */
#define ADDR_MAX_LEN 90

enum addr_net {
	ADDR_MAIN,	/* mainnet */
	ADDR_TEST,	/* testnet3, testnet4, signet */
	ADDR_REGTEST
};

/*
 * The network family of a chain name as getblockchaininfo's "chain" gives it
 * ("main", "test", "testnet4", "signet", "regtest"), or -1 when unknown.
 */
int addr_net_from_chain(const char *chain);

/* "mainnet", "testnet/signet", "regtest": for messages. */
const char *addr_net_name(enum addr_net net);

/*
 * Decode addr for network net into its output script.
 * In:  addr (NUL-terminated), net.
 * Out: script (at least ADDR_SCRIPT_MAX bytes); on error a message in err
 *      (errlen bytes, NUL-terminated), e.g. "bad checksum", "address is for
 *      testnet/signet, the node runs mainnet", "bech32m used for witness
 *      version 0".
 * Returns the script length (> 0), or -1.
 */
int addr_to_script(const char *addr, enum addr_net net, uint8_t *script,
    char *err, size_t errlen);

#endif
