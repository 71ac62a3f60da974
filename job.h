/*
 * job.h - from a block template to stratum jobs, share checks and blocks.
 *
 * A template (struct tmpl) is a decoded getblocktemplate result, shared,
 * reference-counted, by every job built from it.  A job (struct job) is one
 * coinbase for one payout script: every miner paid to the same script
 * shares one job and one mining.notify line.  256-bit numbers (hashes,
 * targets) are uint8_t[32] in Bitcoin's internal order, least significant
 * byte first as SHA-256d produces them (displayed reversed); prevhash is as
 * the header holds it.
 *
 * The coinbase scriptSig is  push(height) [push(tag)] push(en1 || en2):
 * the height as Core's CScript() << height (BIP 34), en1 the connection's
 * JOB_EN1_SIZE-byte extranonce1, en2 the miner's extranonce2.  coinb1 ends
 * with the en push's length byte, coinb2 starts with the input's sequence;
 * both are the non-witness serialization.
 */
#ifndef JOB_H
#define JOB_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "sha256.h"

#define JOB_EN1_SIZE 4
#define JOB_EN2_MIN 2		/* cpuminer-opt accepts 2..16 */
#define JOB_EN2_MAX 16
#define JOB_MAX_BRANCH 32	/* Bitaxe's limit; 2^32 transactions */
#define JOB_TAG_MAX 64		/* bytes of coinbase tag kept at most */
#define JOB_SCRIPT_MAX 64	/* payout script bytes */
#define JOB_COMMITMENT_MAX 64	/* witness commitment script bytes (38 usual) */
#define JOB_LONGPOLLID_MAX 256
#define JOB_SCRIPTSIG_MAX 100	/* consensus: coinbase scriptSig 2..100 */
/* [branch...],"version","nbits","ntime", */
#define JOB_NOTIFY_TAIL_MAX (JOB_MAX_BRANCH * 67 + 40)

struct tmpl {
	int refs;
	uint32_t version;
	uint8_t prevhash[32];	/* internal order, as in the header */
	uint32_t bits;
	uint32_t curtime;
	uint32_t mintime;
	int64_t height;
	int64_t coinbasevalue;	/* satoshis */
	uint8_t target[32];	/* network target from bits */
	uint8_t *commitment;	/* default_witness_commitment, or NULL */
	size_t commitment_len;
	size_t ntx;		/* transactions, coinbase not counted */
	uint8_t (*txid)[32];	/* ntx txids, internal order */
	char *txhex;		/* every transaction's "data", concatenated */
	size_t txhex_len;
	uint8_t branch[JOB_MAX_BRANCH][32];	/* merkle branch of index 0 */
	size_t nbranch;
	char longpollid[JOB_LONGPOLLID_MAX];	/* "" when the node gave none */
	/* The notify text every job of the template shares, made by
	 * tmpl_finish: the prevhash as stratum writes it, and everything
	 * after coinb2 up to the clean flag (JOB_NOTIFY_TAIL_MAX). */
	char notify_ph[65];
	char notify_tail[JOB_NOTIFY_TAIL_MAX];
	size_t notify_tail_len;
};

/* Decode a getblocktemplate result (the object at token result of doc):
 * version and bits (each a JSON number or 8 hex digits), previousblockhash,
 * transactions[].data/.txid, coinbasevalue (0..21e14), curtime, mintime
 * (curtime when absent), height (0..2^31-1), longpollid (optional, shorter
 * than JOB_LONGPOLLID_MAX) and default_witness_commitment (optional, 38..
 * JOB_COMMITMENT_MAX bytes, 6a24aa21a9ed...; ignored when "rules" lists no
 * segwit); computes target and branch.  Returns a template with one
 * reference, or NULL with the reason in err (errlen bytes). */
struct tmpl *tmpl_from_json(const struct json_doc *doc, int result,
    char *err, size_t errlen);

/* For templates filled by hand (tests, from real blocks): t and its
 * commitment, txid and txhex malloc'd (tmpl_unref frees them all).  Sets
 * refs to 1, computes target, branch and the notify text.  Returns 0 or -1 (bad bits, too
 * many transactions, out of memory); the caller owns the reference. */
int tmpl_finish(struct tmpl *t);

void tmpl_ref(struct tmpl *t);
/* Drops one reference; frees the template with the last one. NULL is ok. */
void tmpl_unref(struct tmpl *t);

struct job {
	struct tmpl *t;		/* one reference held by the job */
	uint8_t *cb1;		/* coinbase up to the extranonce */
	size_t cb1_len;
	uint8_t *cb2;		/* coinbase after the extranonce */
	size_t cb2_len;
	size_t en2_size;
	struct sha256 mid;	/* after the whole 64-byte blocks of cb1 */
};

/* Build the coinbase (version 2, locktime 0, sequence ffffffff) paying
 * t->coinbasevalue to script (1..JOB_SCRIPT_MAX bytes), with tag (NULL or
 * "" for none; cut to JOB_TAG_MAX bytes, so the scriptSig stays within
 * JOB_SCRIPTSIG_MAX), an en2_size-byte (JOB_EN2_MIN..JOB_EN2_MAX)
 * extranonce2 slot and t's witness commitment output if any.  Takes a
 * reference to t.  Returns 0, or -1 with the reason in err (errlen bytes)
 * and *j zeroed (job_free harmless), holding no reference. */
int job_init(struct job *j, struct tmpl *t, const uint8_t *script,
    size_t script_len, const char *tag, size_t en2_size,
    char *err, size_t errlen);

/* The same from a coinbase's two halves (tests with real blocks): cb1
 * starts with the version, cb2 ends with the locktime (>= 4 bytes each:
 * job_block_hex puts the witness there); en2_size may be 0..JOB_EN2_MAX.
 * Returns 0, or -1 (out of memory, or those sizes violated). */
int job_init_raw(struct job *j, struct tmpl *t, const uint8_t *cb1,
    size_t cb1_len, const uint8_t *cb2, size_t cb2_len, size_t en2_size);

/* Frees the coinbase and drops the template reference. */
void job_free(struct job *j);

/* The mining.notify line, newline included: {"id":null,"method":
 * "mining.notify","params":[job_id, prevhash (word-swapped), coinb1,
 * coinb2, [branch...], version, nbits, ntime (8 hex digits each), clean]}
 * Returns its length (buf NUL-terminated), or -1 when cap is too small or
 * job_id holds a control character, '"' or '\\' (it is not escaped). */
int job_notify(const struct job *j, const char *job_id, int clean,
    char *buf, size_t cap);
/* The job's own part of that line: coinb1 "\",\"" coinb2.  A pool keeps
 * it once per job and sends NOTIFY_PREFIX id "\",\"" t->notify_ph
 * "\",\"" it "\"," t->notify_tail "true]}\n" (or "false]}\n").
 * Returns its length (buf NUL-terminated), or -1 when cap is too small. */
int job_notify_coinbase(const struct job *j, char *buf, size_t cap);

/* Stratum's prevhash text: the 32 header bytes as eight 32-bit words, each
 * word's bytes reversed; out gets 64 hex digits and a NUL. */
void job_stratum_prevhash(const uint8_t prevhash[32], char out[65]);

/* One submitted share, already decoded from hex by the caller. */
struct job_share {
	uint8_t en1[JOB_EN1_SIZE];
	uint8_t en2[JOB_EN2_MAX];	/* the job's en2_size bytes are used */
	uint32_t ntime;
	uint32_t nonce;
	uint32_t version;	/* header version, rolling already applied */
};

/* The 80-byte header a share stands for. */
void job_header(const struct job *j, const struct job_share *s,
    uint8_t header[80]);

struct job_result {
	uint8_t hash[32];	/* SHA-256d of the header */
	double diff;		/* the share's own difficulty (diff1 / hash) */
	int meets_share;	/* hash <= share target */
	int meets_network;	/* hash <= t->target: this is a block */
};

/* Check a share: coinbase from the midstate, txid, merkle root via the
 * branch, header, SHA-256d, exact 256-bit comparisons.  No allocation. */
void job_check(const struct job *j, const struct job_share *s,
    const uint8_t share_target[32], struct job_result *r);

/* The block as hex for submitblock: header, transaction count, coinbase
 * (with its witness, one 32-byte zero item, when t has a commitment), the
 * template's transactions.  Returns a malloc'd string (its length in *len
 * unless len is NULL), or NULL when out of memory. */
char *job_block_hex(const struct job *j, const struct job_share *s,
    size_t *len);

/* Targets.  Difficulty 1 is 0xFFFF * 2^208 (bdiff).  Target for a share
 * difficulty: diff > 0 and finite, else -1; tiny ones saturate at 2^256-1. */
int target_from_diff(double diff, uint8_t target[32]);
/* Target from compact nBits; -1 (target zeroed) when negative, zero or
 * overflowing 256 bits, as Bitcoin's CheckProofOfWork would reject it. */
int target_from_bits(uint32_t bits, uint8_t target[32]);
/* 1 when hash <= target as 256-bit integers. */
int target_meets(const uint8_t hash[32], const uint8_t target[32]);
/* Difficulty of a hash or target: diff1 / value (DBL_MAX for 0). */
double target_to_diff(const uint8_t value[32]);

/* hex_decode: exactly n bytes from 2n hex digits (either case); 0 or -1.
 * hex_encode writes 2n digits and a NUL. */
int hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t n);
void hex_encode(const uint8_t *in, size_t n, char *out);

#endif
