/*
 * miner.c - a Stratum V1 test miner.  It connects to a pool, mines on the
 * CPU and reports every protocol event as one line on stdout.
 *
 * It exists to check the pool from outside, so it shares no code with
 * job.c: coinbase, merkle root, header and targets are rebuilt here from the
 * mining.notify fields alone, the way miner firmware does it.  Where the
 * pool's job code and this file disagree, the pool rejects our shares.
 *
 * It is stricter than real miners where they differ (PROTOCOL-NOTES.md): the
 * subscribe reply must be the first line after subscribe (after the
 * configure reply), nothing but set_difficulty and notify may come before
 * the authorize reply, replies need numeric ids and both result and error.
 * A pool that breaks one of these rules makes the miner exit with status 2.
 *
 *   miner -o HOST:PORT -u USER [-p PASS] [-n SHARES] [-t SECONDS]
 *         [-b BLOCKS] [--rolling] [--suggest-diff D] [--agent UA] [--nerd]
 *         [--bitaxe] [-v]
 *   miner -o HOST:PORT --raw FILE|- [-t SECONDS]	(see raw_run())
 * Hidden test options: --start-nonce N, --start-en2 HEX (mine from a known
 * point, e.g. a real block's), --target D (print the share target, exit).
 *
 * Output, one event per line ("error ..." lines on failures):
 *   connected host=H port=P          configured rolling=1 mask=1fffe000
 *   subscribed en1=HEX en2size=N     authorized | authorize failed code= msg=
 *   difficulty D                     job id=J clean=1 diff=D height=N
 *   extranonce en1=HEX en2size=N     version_mask mask=HEX
 *   ping | message TEXT | reconnect wait=S | unknown method=M
 *   block candidate job=J hash=HEX   (the share also meets nBits)
 *   share accepted job=J diff=D sdiff=S hash=HEX
 *   share rejected job=J code=C msg=TEXT
 *   summary accepted=N rejected=N blocks=N unanswered=N hashes=N
 *           seconds=S hashrate=H
 * Exit status: 0 when a share was accepted (with -n 0: when authorized),
 * 1 otherwise, 2 on a protocol error or bad usage.  Single-threaded: poll()
 * between batches of nonces; a deadline bounds every wait, alarm() backs
 * it up.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "sha256.h"

#define MINER_MAX_LINE 65536	/* longest line taken from the pool */
#define MINER_MAX_TOKENS 2048	/* JSON values per line */
#define MINER_MAX_JOBID 64	/* job id bytes */
#define MINER_MAX_COINB 32768	/* coinb1 + en1 + en2 + coinb2 bytes */
#define MINER_MAX_BRANCH 32	/* Bitaxe's limit too */
#define MINER_MAX_EN 32		/* extranonce1 / extranonce2 bytes */
#define MINER_MAX_PENDING 64	/* submits awaiting their reply */
#define MINER_MAX_RECONNECTS 5	/* client.reconnect followed this often */
#define MINER_MAX_OUT 4096	/* one request line */
#define MINER_MAX_STR 256	/* host, user, password, agent, messages */
#define MINER_BATCH 4096	/* nonces between looks at the socket */
#define MINER_ROLL_NONCES 0x100000u	/* version bits change this often */
#define MINER_CONNECT_MS 10000
#define MINER_WAIT_MAX 30	/* seconds of client.reconnect wait, at most */
#define MINER_AGENT "testminer/1.0"

enum { MINER_OK = 0, MINER_FAIL = 1, MINER_PROTO = 2 };
enum miner_state { ST_CONFIGURE, ST_SUBSCRIBE, ST_AUTHORIZE, ST_READY };

struct pending {		/* a submit awaiting its reply; id 0: free */
	int64_t id;
	char job[MINER_MAX_JOBID + 1];
	double diff, sdiff;
	char hash[65];
	int block;
};

struct work {			/* the job being mined */
	int valid;
	char id[MINER_MAX_JOBID + 1];
	uint8_t coinb[MINER_MAX_COINB];	/* coinb1 en1 en2 coinb2 */
	size_t coinb_len, en2_off, en2_size;
	uint8_t branch[MINER_MAX_BRANCH][32];
	size_t nbranch;
	uint32_t version, nbits, ntime, rolled;
	uint8_t prevhash[32];		/* header order */
	double diff;
	uint8_t target[32], net_target[32];	/* little-endian numbers */
	int net_ok;
	uint8_t header[80];
	uint32_t mid[8];		/* state after the header's first block */
	uint32_t iv[8];
	uint8_t block2[64], block3[64];	/* padded second and outer blocks */
	uint64_t nonce;			/* next nonce; 2^32: next en2 */
	uint32_t roll, since_roll;	/* version-roll counter */
};

struct miner {
	char host[MINER_MAX_STR], port[16];
	const char *user, *pass, *agent, *raw;
	long max_shares, max_blocks;
	double seconds, suggest;
	int rolling, nerd, bitaxe, verbose, start_nonce_set;
	uint32_t start_nonce;
	uint8_t start_en2[MINER_MAX_EN];
	size_t start_en2_len;

	int fd;
	char in[MINER_MAX_LINE + 1];
	size_t inlen;
	enum miner_state state;
	int64_t next_id, id_configure, id_subscribe, id_authorize, id_suggest;
	int reconnect, reconnects, wait;

	uint8_t en1[MINER_MAX_EN];
	size_t en1_len, en2_size;
	double diff_next;		/* set_difficulty waits for a job */
	uint32_t mask;
	int rolling_ok, authorized;
	struct work w;
	struct pending pend[MINER_MAX_PENDING];
	struct json_tok toks[MINER_MAX_TOKENS];

	int stop, status;
	unsigned long accepted, rejected, blocks, lost, lines;
	unsigned long long hashes;
	double t0, deadline;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
proto_err(struct miner *m, const char *fmt, ...)
{
	va_list ap;

	printf("error protocol: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	m->status = MINER_PROTO;
	m->stop = 1;
	return -1;
}

/* Pool text in our output: one event per line, one word per field (the
 * message text, always last, keeps its spaces).  out may be s itself. */
static const char *
clean(char *out, size_t cap, const char *s, int spaces)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < cap - 1; i++)
		out[i] = s[i] < 0x20 || s[i] > 0x7e ||
		    (s[i] == ' ' && !spaces) ? '?' : s[i];
	out[i] = '\0';
	return out;
}

static void
le32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void
be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* n hex digits to n/2 bytes; -1 when odd, not hex, or over cap bytes. */
static long
hex_decode(const char *s, size_t n, uint8_t *out, size_t cap)
{
	size_t i;

	if (n % 2 != 0 || n / 2 > cap)
		return -1;
	for (i = 0; i < n / 2; i++) {
		int hi = hexval((unsigned char)s[2 * i]);
		int lo = hexval((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(n / 2);
}

static void
hex_encode(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* A 256-bit little-endian number (hash, target) as Bitcoin displays it. */
static void
hex_display(const uint8_t h[32], char out[65])
{
	uint8_t r[32];
	int i;

	for (i = 0; i < 32; i++)
		r[i] = h[31 - i];
	hex_encode(r, 32, out);
}

/* Hex string token i decoded (escapes are no hex, so the raw text is). */
static long
tok_hex(const struct json_doc *d, int i, uint8_t *out, size_t cap)
{
	if (json_type(d, i) != JSON_STRING)
		return -1;
	return hex_decode(d->src + d->toks[i].start, d->toks[i].len, out, cap);
}

/* An 8-digit hex string token as the big-endian number it spells. */
static int
tok_u32(const struct json_doc *d, int i, uint32_t *v)
{
	uint8_t b[4];

	if (json_type(d, i) != JSON_STRING || d->toks[i].len != 8 ||
	    tok_hex(d, i, b, 4) != 4)
		return -1;
	*v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
	return 0;
}

/* a <=> b as little-endian 256-bit numbers. */
static int
cmp256(const uint8_t a[32], const uint8_t b[32])
{
	int i;

	for (i = 31; i >= 0; i--)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

/*
 * Share target = floor(0xFFFF * 2^208 / diff), exactly, for the double
 * diff: diff = mant * 2^(e-53) with a 53-bit integer mant, so the target
 * is 0xFFFF * 2^(261-e) / mant, done as binary long division.  Pools that
 * round through doubles differ from this only within 2^-40 of the edge.
 * Targets above 2^256-1 (diff below ~2^-32) saturate.
 */
static void
diff_target(double diff, uint8_t t[32])
{
	uint64_t mant, rem = 0;
	int e, s, i;

	memset(t, 0, 32);
	mant = (uint64_t)ldexp(frexp(diff, &e), 53);
	s = 261 - e;
	if (s < 0 || mant == 0)
		return;
	if (s > 256 + 53) {
		memset(t, 0xff, 32);
		return;
	}
	for (i = 16 + s - 1; i >= 0; i--) {
		rem = rem * 2 + (i >= s ? (0xffffu >> (i - s)) & 1 : 0);
		if (rem >= mant) {
			rem -= mant;
			if (i >= 256) {
				memset(t, 0xff, 32);
				return;
			}
			t[i / 8] |= (uint8_t)(1u << (i % 8));
		}
	}
}

/* Network target from compact nBits; -1 when negative or overflowing. */
static int
bits_target(uint32_t bits, uint8_t t[32])
{
	uint32_t mant = bits & 0x007fffff;
	int exp = (int)(bits >> 24), i;

	memset(t, 0, 32);
	if ((bits & 0x00800000) != 0 || mant == 0)
		return -1;
	for (i = 0; i < 3; i++) {
		int at = exp - 3 + i;
		uint8_t b = (uint8_t)(mant >> (8 * i));
		if (b == 0)
			continue;
		if (at >= 32)
			return -1;
		if (at >= 0)
			t[at] = b;
	}
	return 0;
}

/* Difficulty a hash meets: diff1 / hash. */
static double
hash_diff(const uint8_t h[32])
{
	double v = 0;
	int i;

	for (i = 31; i >= 0; i--)
		v = v * 256 + h[i];
	return v > 0 ? ldexp(65535.0, 208) / v : HUGE_VAL;
}

/* BIP 34 height: the first push of coinb1's scriptSig, or -1. */
static long
coinb_height(const uint8_t *c, size_t n)
{
	long h = 0;
	int op, i;

	/* version(4) input count(1) prevout(36) script length(1) */
	if (n < 43 || c[4] != 1)
		return -1;
	op = c[42];
	if (op >= 0x51 && op <= 0x60)
		return op - 0x50;
	if (op < 1 || op > 4 || (size_t)(43 + op) > n)
		return -1;
	for (i = op - 1; i >= 0; i--)
		h = h * 256 + c[43 + i];
	return h;
}

/*
 * Version for the current roll count: the count's bits spread over the
 * mask's bits, XORed onto the job's version, so count 0 is the job's own.
 * Then the midstate: the header's first 64 bytes do not hold the nonce.
 */
static void
work_roll(struct miner *m)
{
	struct work *w = &m->w;
	uint32_t bits = 0, b, n = w->roll;
	struct sha256 c;

	if (m->rolling_ok)
		for (b = 1; b != 0 && n != 0; b <<= 1)
			if ((m->mask & b) != 0) {
				bits |= (n & 1) ? b : 0;
				n >>= 1;
			}
	w->rolled = w->version ^ bits;
	le32_put(w->header, w->rolled);
	sha256_init(&c);
	memcpy(w->iv, c.h, sizeof(w->iv));
	memcpy(w->mid, c.h, sizeof(w->mid));
	sha256_transform(w->mid, w->header);
	w->since_roll = 0;
}

/* Coinbase with the current en2 -> txid -> merkle root -> header. */
static void
work_prepare(struct miner *m)
{
	struct work *w = &m->w;
	uint8_t root[32], pair[64];
	size_t i;

	sha256d(w->coinb, w->coinb_len, root);
	for (i = 0; i < w->nbranch; i++) {
		memcpy(pair, root, 32);
		memcpy(pair + 32, w->branch[i], 32);
		sha256d(pair, 64, root);
	}
	memcpy(w->header + 4, w->prevhash, 32);
	memcpy(w->header + 36, root, 32);
	le32_put(w->header + 68, w->ntime);
	le32_put(w->header + 72, w->nbits);
	le32_put(w->header + 76, 0);
	/* SHA-256 padding of an 80-byte message, then of a 32-byte one. */
	memset(w->block2, 0, 64);
	memcpy(w->block2, w->header + 64, 16);
	w->block2[16] = 0x80;
	w->block2[62] = 0x02;
	w->block2[63] = 0x80;
	memset(w->block3, 0, 64);
	w->block3[32] = 0x80;
	w->block3[62] = 0x01;
	work_roll(m);
}

/* SHA-256d of the header with this nonce, from the midstate. */
static void
work_hash(struct work *w, uint32_t nonce, uint8_t h[32])
{
	uint32_t s[8];
	int i;

	le32_put(w->block2 + 12, nonce);
	memcpy(s, w->mid, sizeof(s));
	sha256_transform(s, w->block2);
	for (i = 0; i < 8; i++)
		be32_put(w->block3 + 4 * i, s[i]);
	memcpy(s, w->iv, sizeof(s));
	sha256_transform(s, w->block3);
	for (i = 0; i < 8; i++)
		be32_put(h + 4 * i, s[i]);
}

static int
send_all(struct miner *m, const char *buf, size_t len)
{
	struct pollfd p;

	while (len > 0) {
		ssize_t r = send(m->fd, buf, len, MSG_NOSIGNAL);
		if (r > 0) {
			buf += r;
			len -= (size_t)r;
			continue;
		}
		if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR) {
			printf("error send: %s\n", strerror(errno));
			m->stop = 1;
			return -1;
		}
		p.fd = m->fd;
		p.events = POLLOUT;
		if (now_s() >= m->deadline)
			return -1;
		poll(&p, 1, (int)((m->deadline - now_s()) * 1000) + 1);
	}
	return 0;
}

/* {"id":N,"method":"M","params":[ ... then req_end() closes and sends.
 * The writer keeps a byte for its NUL, which becomes the newline. */
static void
req_begin(struct json_w *w, char *buf, int64_t id, const char *method)
{
	json_w_init(w, buf, MINER_MAX_OUT);
	json_w_obj(w);
	json_w_key(w, "id");
	json_w_int(w, id);
	json_w_key(w, "method");
	json_w_str(w, method);
	json_w_key(w, "params");
	json_w_arr(w);
}

static int
line_end(struct miner *m, struct json_w *w)
{
	int n = json_w_end(w);

	if (n < 0) {
		printf("error request too long\n");
		m->stop = 1;
		m->status = MINER_FAIL;
		return -1;
	}
	if (m->verbose)
		fprintf(stderr, "send %s\n", w->buf);
	w->buf[n] = '\n';
	return send_all(m, w->buf, (size_t)n + 1);
}

static int
req_end(struct miner *m, struct json_w *w)
{
	json_w_arr_end(w);
	json_w_obj_end(w);
	return line_end(m, w);
}

static int
send_configure(struct miner *m)
{
	char buf[MINER_MAX_OUT];
	struct json_w w;

	m->id_configure = m->next_id++;
	req_begin(&w, buf, m->id_configure, "mining.configure");
	json_w_arr(&w);
	json_w_str(&w, "version-rolling");
	json_w_arr_end(&w);
	json_w_obj(&w);
	json_w_key(&w, "version-rolling.mask");
	json_w_str(&w, "ffffffff");
	if (!m->bitaxe) {
		json_w_key(&w, "version-rolling.min-bit-count");
		json_w_int(&w, 2);
	}
	json_w_obj_end(&w);
	return req_end(m, &w);
}

/* A request whose params are one or two strings. */
static int
send_strs(struct miner *m, int64_t *id, const char *method, const char *a,
    const char *b)
{
	char buf[MINER_MAX_OUT];
	struct json_w w;

	*id = m->next_id++;
	req_begin(&w, buf, *id, method);
	json_w_str(&w, a);
	if (b != NULL)
		json_w_str(&w, b);
	return req_end(m, &w);
}

static int
send_subscribe(struct miner *m)
{
	return send_strs(m, &m->id_subscribe, "mining.subscribe", m->agent,
	    NULL);
}

static int
send_authorize(struct miner *m)
{
	return send_strs(m, &m->id_authorize, "mining.authorize", m->user,
	    m->pass);
}

/* Bitaxe sends an integer, NerdMiner a float such as 1e-05. */
static int
send_suggest(struct miner *m)
{
	char buf[MINER_MAX_OUT], num[64];
	struct json_w w;

	m->id_suggest = m->next_id++;
	req_begin(&w, buf, m->id_suggest, "mining.suggest_difficulty");
	if (m->nerd) {
		snprintf(num, sizeof(num), "%.10g", m->suggest);
		json_w_raw(&w, num, strlen(num));
	} else if (m->suggest == floor(m->suggest) && m->suggest < 1e15)
		json_w_int(&w, (int64_t)m->suggest);
	else
		json_w_double(&w, m->suggest);
	return req_end(m, &w);
}

/* The reply's id: the request's id token as it was written. */
static void
w_id(struct json_w *w, const struct json_doc *d, int id)
{
	const struct json_tok *t = &d->toks[id];

	if (json_type(d, id) == JSON_STRING)
		json_w_raw(w, d->src + t->start - 1, t->len + 2);
	else if (id >= 0)
		json_w_raw(w, d->src + t->start, t->len);
	else
		json_w_null(w);
}

/* Replies to the pool's requests: mining.ping, client.get_version, and an
 * error for the rest (result NULL).  Bitaxe answers a ping with a "pong"
 * method call. */
static int
send_answer(struct miner *m, const struct json_doc *d, int id,
    const char *result)
{
	static const char unsupported[] = "[20,\"unsupported method\",null]";
	char buf[MINER_MAX_OUT];
	struct json_w w;

	json_w_init(&w, buf, sizeof(buf));
	json_w_obj(&w);
	json_w_key(&w, "id");
	w_id(&w, d, id);
	if (m->bitaxe && result != NULL && strcmp(result, "pong") == 0) {
		json_w_key(&w, "method");
		json_w_str(&w, "pong");
		json_w_key(&w, "params");
		json_w_raw(&w, "[]", 2);
	} else {
		json_w_key(&w, "result");
		if (result != NULL)
			json_w_str(&w, result);
		else
			json_w_null(&w);
		json_w_key(&w, "error");
		if (result != NULL)
			json_w_null(&w);
		else
			json_w_raw(&w, unsupported, sizeof(unsupported) - 1);
	}
	json_w_obj_end(&w);
	return line_end(m, &w);
}

/* Check a hit against a plain SHA-256d of the whole header, then submit:
 * [user, job, en2, ntime, nonce] and the version bits when rolling. */
static int
submit(struct miner *m, uint32_t nonce, const uint8_t h[32], int block)
{
	struct work *w = &m->w;
	struct pending *p = NULL;
	char buf[MINER_MAX_OUT], hex[2 * MINER_MAX_EN + 1];
	char job[MINER_MAX_JOBID + 1];
	uint8_t check[32];
	struct json_w jw;
	int i;

	le32_put(w->header + 76, nonce);
	sha256d(w->header, 80, check);
	if (memcmp(check, h, 32) != 0)
		return proto_err(m, "internal: midstate hash differs");
	for (i = 0; i < MINER_MAX_PENDING && p == NULL; i++)
		if (m->pend[i].id == 0)
			p = &m->pend[i];
	if (p == NULL)
		return proto_err(m, "internal: no free submit slot");
	p->id = m->next_id++;
	memcpy(p->job, w->id, sizeof(p->job));
	p->diff = w->diff;
	p->sdiff = hash_diff(h);
	p->block = block;
	hex_display(h, p->hash);
	if (block)
		printf("block candidate job=%s hash=%s\n",
		    clean(job, sizeof(job), p->job, 0), p->hash);
	req_begin(&jw, buf, p->id, "mining.submit");
	json_w_str(&jw, m->user);
	json_w_str(&jw, w->id);
	hex_encode(w->coinb + w->en2_off, w->en2_size, hex);
	json_w_str(&jw, hex);
	snprintf(hex, sizeof(hex), "%08lx", (unsigned long)w->ntime);
	json_w_str(&jw, hex);
	snprintf(hex, sizeof(hex), m->nerd ? "%lx" : "%08lx",
	    (unsigned long)nonce);
	json_w_str(&jw, hex);
	if (m->rolling_ok || m->bitaxe) {
		uint32_t v = m->bitaxe ? w->rolled ^ w->version :
		    w->rolled & m->mask;
		snprintf(hex, sizeof(hex), "%08lx", (unsigned long)v);
		json_w_str(&jw, hex);
	}
	return req_end(m, &jw);
}

/* Little-endian counter in the coinbase's extranonce2 bytes. */
static void
en2_next(struct work *w)
{
	size_t i;

	for (i = 0; i < w->en2_size; i++)
		if (++w->coinb[w->en2_off + i] != 0)
			break;
}

/* Up to n nonces.  Returns after a hit so the caller can look at the
 * socket, and because the hit's submit may have filled the last slot. */
static void
work_scan(struct miner *m, unsigned n)
{
	struct work *w = &m->w;
	uint8_t h[32];
	uint32_t nonce;
	int block;

	while (n-- > 0) {
		if (w->nonce > 0xffffffffu) {
			en2_next(w);
			w->nonce = 0;
			work_prepare(m);
		}
		if (m->rolling_ok && w->since_roll >= MINER_ROLL_NONCES) {
			w->roll++;
			work_roll(m);
		}
		nonce = (uint32_t)w->nonce++;
		w->since_roll++;
		work_hash(w, nonce, h);
		m->hashes++;
		if (cmp256(h, w->target) <= 0) {
			/* Like real miners, only shares go out: a pool that
			 * sets a share target above the network's (regtest)
			 * gets every share as a block candidate. */
			block = w->net_ok && cmp256(h, w->net_target) <= 0;
			if (submit(m, nonce, h, block) == 0 && m->rolling_ok) {
				w->roll++;
				work_roll(m);
			}
			return;
		}
	}
}

/* --start-en2 must fit the pool's extranonce2 size: checked per job. */
static int
check_start_en2(struct miner *m)
{
	if (m->start_en2_len == 0 || m->start_en2_len == m->en2_size)
		return 0;
	return proto_err(m, "--start-en2 has %zu bytes, extranonce2 %zu",
	    m->start_en2_len, m->en2_size);
}

/* mining.notify [job, prevhash, coinb1, coinb2, branch, version, nbits,
 * ntime, clean]: the new work, mined from now on, at the difficulty the
 * last set_difficulty announced. */
static int
on_notify(struct miner *m, const struct json_doc *d, int p)
{
	struct work *w = &m->w;
	uint8_t prev[32];
	char shown[MINER_MAX_JOBID + 1];
	size_t fixed = m->en1_len + m->en2_size, i;
	long n1, n2;
	int br, cl, idlen;

	w->valid = 0;
	if (json_type(d, p) != JSON_ARRAY || d->toks[p].size != 9)
		return proto_err(m, "mining.notify wants 9 params");
	idlen = json_string(d, json_at(d, p, 0), w->id, sizeof(w->id));
	if (idlen <= 0 || (size_t)idlen != strlen(w->id) ||
	    tok_hex(d, json_at(d, p, 1), prev, 32) != 32)
		return proto_err(m, "mining.notify: bad job id or prevhash");
	n1 = tok_hex(d, json_at(d, p, 2), w->coinb, MINER_MAX_COINB - fixed);
	if (n1 < 0)
		return proto_err(m, "mining.notify: bad coinb1");
	n2 = tok_hex(d, json_at(d, p, 3), w->coinb + n1 + fixed,
	    MINER_MAX_COINB - fixed - (size_t)n1);
	br = json_at(d, p, 4);
	if (n2 < 0 || json_type(d, br) != JSON_ARRAY ||
	    d->toks[br].size > MINER_MAX_BRANCH)
		return proto_err(m, "mining.notify: bad coinb2 or branch");
	w->nbranch = d->toks[br].size;
	for (i = 0; i < w->nbranch; i++)
		if (tok_hex(d, json_at(d, br, i), w->branch[i], 32) != 32)
			return proto_err(m, "mining.notify: bad branch %zu", i);
	cl = json_type(d, json_at(d, p, 8));
	if (tok_u32(d, json_at(d, p, 5), &w->version) < 0 ||
	    tok_u32(d, json_at(d, p, 6), &w->nbits) < 0 ||
	    tok_u32(d, json_at(d, p, 7), &w->ntime) < 0 ||
	    (cl != JSON_TRUE && cl != JSON_FALSE))
		return proto_err(m, "mining.notify: bad version, nbits, "
		    "ntime or clean");
	/* Stratum sends prevhash as eight 32-bit words, each word's bytes
	 * reversed from the header's order; reversing them again undoes it. */
	for (i = 0; i < 32; i++)
		w->prevhash[i] = prev[(i & ~(size_t)3) + 3 - (i & 3)];
	memcpy(w->coinb + n1, m->en1, m->en1_len);
	w->en2_off = (size_t)n1 + m->en1_len;
	w->en2_size = m->en2_size;
	w->coinb_len = (size_t)(n1 + n2) + fixed;
	memset(w->coinb + w->en2_off, 0, w->en2_size);
	if (check_start_en2(m) < 0)
		return -1;
	if (m->start_en2_len > 0)
		memcpy(w->coinb + w->en2_off, m->start_en2, w->en2_size);
	w->diff = m->diff_next;
	diff_target(w->diff, w->target);
	w->net_ok = bits_target(w->nbits, w->net_target) == 0;
	w->nonce = m->start_nonce_set ? m->start_nonce : 0;
	w->roll = 0;
	work_prepare(m);
	w->valid = 1;
	printf("job id=%s clean=%d diff=%.10g height=%ld\n",
	    clean(shown, sizeof(shown), w->id, 0), cl == JSON_TRUE, w->diff,
	    coinb_height(w->coinb, (size_t)n1));
	return 0;
}

static int
on_set_difficulty(struct miner *m, const struct json_doc *d, int p)
{
	double diff;

	if (json_double(d, json_at(d, p, 0), &diff) < 0 || !(diff > 0))
		return proto_err(m, "mining.set_difficulty wants a number > 0");
	m->diff_next = diff;
	printf("difficulty %.10g\n", diff);
	return 0;
}

/* Like a new difficulty, a new extranonce takes effect with the next job. */
static int
on_set_extranonce(struct miner *m, const struct json_doc *d, int p)
{
	uint8_t en1[MINER_MAX_EN];
	char hex[2 * MINER_MAX_EN + 1];
	long n = tok_hex(d, json_at(d, p, 0), en1, sizeof(en1));
	int64_t size;

	if (n < 0 || json_int64(d, json_at(d, p, 1), &size) < 0 ||
	    size < 1 || size > MINER_MAX_EN)
		return proto_err(m, "bad extranonce1 or extranonce2 size");
	memcpy(m->en1, en1, (size_t)n);
	m->en1_len = (size_t)n;
	m->en2_size = (size_t)size;
	hex_encode(en1, (size_t)n, hex);
	printf("extranonce en1=%s en2size=%d\n", hex, (int)size);
	return 0;
}

static int
on_set_version_mask(struct miner *m, const struct json_doc *d, int p)
{
	uint32_t mask;

	if (tok_u32(d, json_at(d, p, 0), &mask) < 0)
		return proto_err(m, "mining.set_version_mask wants 8 hex digits");
	m->mask = mask;
	printf("version_mask mask=%08lx\n", (unsigned long)mask);
	if (m->w.valid)
		work_roll(m);
	return 0;
}

/* client.reconnect [host, port, wait]: back to our own host and port
 * (like Bitaxe), after the wait. */
static int
on_reconnect(struct miner *m, const struct json_doc *d, int p)
{
	int64_t wait = 0;

	json_int64(d, json_at(d, p, 2), &wait);
	m->wait = wait < 0 ? 0 : wait > MINER_WAIT_MAX ? MINER_WAIT_MAX :
	    (int)wait;
	printf("reconnect wait=%d\n", m->wait);
	m->reconnect = 1;
	return 0;
}

static int
on_method(struct miner *m, const struct json_doc *d, int method, int id)
{
	int p = json_get(d, 0, "params");
	char text[MINER_MAX_STR];

	if (json_streq(d, method, "mining.notify"))
		return on_notify(m, d, p);
	if (json_streq(d, method, "mining.set_difficulty"))
		return on_set_difficulty(m, d, p);
	if (json_streq(d, method, "mining.set_extranonce"))
		return on_set_extranonce(m, d, p);
	if (json_streq(d, method, "mining.set_version_mask"))
		return on_set_version_mask(m, d, p);
	if (json_streq(d, method, "client.reconnect"))
		return on_reconnect(m, d, p);
	if (json_streq(d, method, "mining.ping")) {
		printf("ping\n");
		return send_answer(m, d, id, "pong");
	}
	if (json_streq(d, method, "client.get_version"))
		return send_answer(m, d, id, m->agent);
	if (json_streq(d, method, "client.show_message")) {
		if (json_string(d, json_at(d, p, 0), text, sizeof(text)) < 0)
			strcpy(text, "?");
		printf("message %s\n", clean(text, sizeof(text), text, 1));
		return 0;
	}
	if (json_string(d, method, text, sizeof(text)) < 0)
		strcpy(text, "?");
	printf("unknown method=%s\n", clean(text, sizeof(text), text, 0));
	return json_type(d, id) > JSON_NULL ? send_answer(m, d, id, NULL) : 0;
}

/* An error member as code and text: [code, "msg", data] (the usual),
 * {"code": c, "message": "msg"}, or a bare string. */
static void
error_text(const struct json_doc *d, int e, long *code, char *msg,
    size_t cap)
{
	int64_t c = 0;
	int t = json_type(d, e), s = e;

	if (t == JSON_ARRAY) {
		json_int64(d, json_at(d, e, 0), &c);
		s = json_at(d, e, 1);
	} else if (t == JSON_OBJECT) {
		json_int64(d, json_get(d, e, "code"), &c);
		s = json_get(d, e, "message");
	}
	if (json_string(d, s, msg, cap) < 0)
		snprintf(msg, cap, "%s", t == JSON_NULL ? "" : "?");
	*code = (long)c;
}

/* {"version-rolling": true, "version-rolling.mask": "1fffe000"}; an error
 * reply or false means no rolling. */
static int
on_configure(struct miner *m, const struct json_doc *d, int res)
{
	int vr = json_get(d, res, "version-rolling");

	m->id_configure = 0;
	m->rolling_ok = json_type(d, vr) == JSON_TRUE;
	if (m->rolling_ok &&
	    tok_u32(d, json_get(d, res, "version-rolling.mask"), &m->mask) < 0)
		return proto_err(m, "mining.configure: bad version mask");
	printf("configured rolling=%d mask=%08lx\n", m->rolling_ok,
	    (unsigned long)m->mask);
	if (m->state != ST_CONFIGURE)
		return 0;
	m->state = ST_SUBSCRIBE;
	return send_subscribe(m);
}

/* [[subscriptions], extranonce1, extranonce2_size] */
static int
on_subscribe(struct miner *m, const struct json_doc *d, int res, int ok)
{
	char hex[2 * MINER_MAX_EN + 1];
	long n = tok_hex(d, json_at(d, res, 1), m->en1, sizeof(m->en1));
	int64_t size;

	if (!ok)
		return proto_err(m, "mining.subscribe failed");
	if (json_type(d, json_at(d, res, 0)) != JSON_ARRAY || n < 0 ||
	    json_int64(d, json_at(d, res, 2), &size) < 0 || size < 1 ||
	    size > MINER_MAX_EN)
		return proto_err(m, "mining.subscribe: bad result");
	m->en1_len = (size_t)n;
	m->en2_size = (size_t)size;
	hex_encode(m->en1, m->en1_len, hex);
	printf("subscribed en1=%s en2size=%d\n", hex, (int)size);
	m->state = ST_AUTHORIZE;
	return m->bitaxe ? 0 : send_authorize(m);
}

static int
on_authorize(struct miner *m, const struct json_doc *d, int err, int ok)
{
	char msg[MINER_MAX_STR];
	long code;

	if (!ok) {
		error_text(d, err, &code, msg, sizeof(msg));
		printf("authorize failed code=%ld msg=%s\n", code,
		    clean(msg, sizeof(msg), msg, 1));
		m->stop = 1;
		return 0;
	}
	printf("authorized\n");
	m->authorized = 1;
	m->state = ST_READY;
	return m->suggest > 0 ? send_suggest(m) : 0;
}

static void
on_share(struct miner *m, struct pending *p, const struct json_doc *d,
    int err, int ok)
{
	char msg[MINER_MAX_STR];
	long code;

	clean(p->job, sizeof(p->job), p->job, 0);
	if (ok) {
		m->accepted++;
		m->blocks += p->block != 0;
		printf("share accepted job=%s diff=%.10g sdiff=%.6g hash=%s\n",
		    p->job, p->diff, p->sdiff, p->hash);
	} else {
		m->rejected++;
		error_text(d, err, &code, msg, sizeof(msg));
		printf("share rejected job=%s code=%ld msg=%s\n", p->job, code,
		    clean(msg, sizeof(msg), msg, 1));
	}
	p->id = 0;
	if ((m->max_shares > 0 && m->accepted >= (unsigned long)m->max_shares)
	    || (m->max_blocks > 0 && m->blocks >= (unsigned long)m->max_blocks))
		m->stop = 1;
}

/* Accepted means result true and error null: Bitaxe's rule, the strictest. */
static int
on_reply(struct miner *m, const struct json_doc *d, int64_t id)
{
	int res = json_get(d, 0, "result"), err = json_get(d, 0, "error");
	int ok = json_type(d, res) == JSON_TRUE &&
	    json_type(d, err) == JSON_NULL, i;

	if (res < 0 || err < 0)
		return proto_err(m, "reply without result or error");
	if (id == m->id_configure)
		return on_configure(m, d, res);
	if (id == m->id_subscribe)
		return on_subscribe(m, d, res, json_type(d, err) == JSON_NULL);
	if (id == m->id_authorize)
		return on_authorize(m, d, err, ok);
	if (id == m->id_suggest) {
		printf("suggest_difficulty ok=%d\n", ok);
		return 0;
	}
	for (i = 0; i < MINER_MAX_PENDING; i++)
		if (m->pend[i].id == id) {
			on_share(m, &m->pend[i], d, err, ok);
			return 0;
		}
	printf("warning unmatched reply id=%lld\n", (long long)id);
	return 0;
}

/* The login order every miner relies on (PROTOCOL-NOTES.md). */
static int
check_order(struct miner *m, const struct json_doc *d, int method,
    int64_t id, int has_id)
{
	switch (m->state) {
	case ST_CONFIGURE:
		if (method < 0 && has_id && id == m->id_configure)
			return 0;
		return proto_err(m, "line before the configure reply");
	case ST_SUBSCRIBE:
		if (method < 0 && has_id && (id == m->id_subscribe ||
		    (m->id_configure != 0 && id == m->id_configure)))
			return 0;
		return proto_err(m, "line before the subscribe reply");
	case ST_AUTHORIZE:
		if (method < 0 ? has_id && id == m->id_authorize :
		    json_streq(d, method, "mining.notify") ||
		    json_streq(d, method, "mining.set_difficulty"))
			return 0;
		return proto_err(m, "line other than set_difficulty or notify "
		    "before the authorize reply");
	case ST_READY:
		break;
	}
	return 0;
}

static int
handle_line(struct miner *m, const char *line, size_t len)
{
	struct json_doc d;
	int r = json_parse(&d, line, len, m->toks, MINER_MAX_TOKENS);
	int method, id, has_id;
	int64_t idv = 0;

	if (r == JSON_ERR_NOMEM)
		return proto_err(m, "line with over %d JSON values",
		    MINER_MAX_TOKENS);
	if (r < 0 || json_type(&d, 0) != JSON_OBJECT)
		return proto_err(m, "line is no JSON object");
	method = json_get(&d, 0, "method");
	id = json_get(&d, 0, "id");
	has_id = json_int64(&d, id, &idv) == 0;
	if (json_type(&d, method) == JSON_NULL)
		method = -1;
	if (check_order(m, &d, method, idv, has_id) < 0)
		return -1;
	if (method >= 0) {
		if (json_type(&d, method) != JSON_STRING)
			return proto_err(m, "method is no string");
		return on_method(m, &d, method, id);
	}
	if (!has_id)
		return proto_err(m, "reply without a numeric id");
	return on_reply(m, &d, idv);
}

/* Reads what the socket has; each complete line is handled (or, in raw
 * mode, printed).  Returns -1 when the connection is over. */
static int
read_input(struct miner *m)
{
	ssize_t r = recv(m->fd, m->in + m->inlen, MINER_MAX_LINE - m->inlen, 0);
	char *line = m->in, *nl;
	size_t len;

	if (r == 0) {
		printf(m->raw ? "closed\n" : "disconnected\n");
		m->stop = 1;
		return -1;
	}
	if (r < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		printf("error recv: %s\n", strerror(errno));
		m->stop = 1;
		return -1;
	}
	m->inlen += (size_t)r;
	while (!m->stop && !m->reconnect && (nl = memchr(line, '\n',
	    m->inlen - (size_t)(line - m->in))) != NULL) {
		len = (size_t)(nl - line);
		if (len > 0 && line[len - 1] == '\r')
			len--;
		line[len] = '\0';
		if (m->verbose && !m->raw)
			fprintf(stderr, "recv %s\n", line);
		if (m->raw) {
			printf("recv %s\n", clean(line, len + 1, line, 1));
			m->lines++;
		} else if (len > 0 && handle_line(m, line, len) < 0)
			return -1;
		line = nl + 1;
	}
	m->inlen -= (size_t)(line - m->in);
	memmove(m->in, line, m->inlen);
	if (m->inlen == MINER_MAX_LINE)
		return proto_err(m, "line longer than %d bytes", MINER_MAX_LINE);
	return 0;
}

/* Non-blocking connect to one address, bounded by MINER_CONNECT_MS and
 * the deadline.  Returns the socket or -1 with errno set. */
static int
connect_one(struct miner *m, const struct addrinfo *ai)
{
	struct pollfd p;
	int fd, r, soerr = 0;
	socklen_t sl = sizeof(soerr);
	double left = m->deadline - now_s();

	if ((fd = socket(ai->ai_family, ai->ai_socktype, 0)) < 0)
		return -1;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		goto fail;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS)
		goto fail;
	p.fd = fd;
	p.events = POLLOUT;
	r = left <= 0 ? 0 : poll(&p, 1, left * 1000 < MINER_CONNECT_MS ?
	    (int)(left * 1000) + 1 : MINER_CONNECT_MS);
	if (r == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0
	    && soerr == 0)
		return fd;
	errno = r == 0 ? ETIMEDOUT : soerr != 0 ? soerr : errno;
fail:
	r = errno;
	close(fd);
	errno = r;
	return -1;
}

static int
net_connect(struct miner *m)
{
	struct addrinfo hints, *res, *ai;
	int r, fd = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(m->host, m->port, &hints, &res)) != 0) {
		printf("error connect %s: %s\n", m->host, gai_strerror(r));
		return -1;
	}
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
		fd = connect_one(m, ai);
	freeaddrinfo(res);
	if (fd < 0) {
		printf("error connect %s:%s: %s\n", m->host, m->port,
		    strerror(errno));
		return -1;
	}
	m->fd = fd;
	printf("connected host=%s port=%s\n", m->host, m->port);
	return 0;
}

/* A fresh session: nothing of the last one carries over. */
static int
hello(struct miner *m)
{
	int i;

	m->inlen = 0;
	m->id_configure = m->id_subscribe = m->id_authorize = 0;
	m->id_suggest = 0;
	for (i = 0; i < MINER_MAX_PENDING; i++)
		if (m->pend[i].id != 0) {
			m->pend[i].id = 0;
			m->lost++;
		}
	m->w.valid = 0;
	m->diff_next = 1;
	m->en1_len = m->en2_size = 0;
	m->rolling_ok = 0;
	m->mask = 0;
	m->state = ST_SUBSCRIBE;
	if (m->rolling || m->bitaxe) {
		m->state = ST_CONFIGURE;
		if (send_configure(m) < 0)
			return -1;
		if (!m->bitaxe)
			return 0;
		m->state = ST_SUBSCRIBE;
	}
	if (send_subscribe(m) < 0)
		return -1;
	return m->bitaxe ? send_authorize(m) : 0;
}

static void
pause_until(double t)
{
	double left;

	while ((left = t - now_s()) > 0)
		poll(NULL, 0, (int)(left * 1000) + 1);
}

static int
do_reconnect(struct miner *m)
{
	double t;

	close(m->fd);
	m->fd = -1;
	m->reconnect = 0;
	if (++m->reconnects > MINER_MAX_RECONNECTS) {
		printf("error more than %d reconnects\n", MINER_MAX_RECONNECTS);
		m->stop = 1;
		return -1;
	}
	t = now_s() + m->wait;
	pause_until(t < m->deadline ? t : m->deadline);
	if (now_s() >= m->deadline || net_connect(m) < 0) {
		m->stop = 1;
		return -1;
	}
	return hello(m);
}

static int
free_slot(const struct miner *m)
{
	int i;

	for (i = 0; i < MINER_MAX_PENDING; i++)
		if (m->pend[i].id == 0)
			return 1;
	return 0;
}

/* Mine between looks at the socket; wait on it when there is no work. */
static void
run(struct miner *m)
{
	struct pollfd p;
	double left;
	int mining;

	while (!m->stop && (left = m->deadline - now_s()) > 0) {
		if (m->reconnect) {
			do_reconnect(m);
			continue;
		}
		mining = m->state == ST_READY && m->w.valid && free_slot(m);
		p.fd = m->fd;
		p.events = POLLIN;
		if (poll(&p, 1, mining ? 0 : left > 1 ? 1000 :
		    (int)(left * 1000) + 1) > 0 && read_input(m) < 0)
			break;
		if (mining && !m->stop && !m->reconnect)
			work_scan(m, MINER_BATCH);
	}
}

/* Print what arrives until the time `until` (or, with want_line, the
 * next line). */
static int
raw_pump(struct miner *m, double until, int want_line)
{
	struct pollfd p;
	double left, end = until < m->deadline ? until : m->deadline;
	unsigned long before = m->lines;

	do {
		left = end - now_s();
		p.fd = m->fd;
		p.events = POLLIN;
		if (poll(&p, 1, left > 0 ? (int)(left * 1000) + 1 : 0) > 0 &&
		    read_input(m) < 0)
			return -1;
		if (want_line && m->lines != before)
			return 0;
	} while (!m->stop && end - now_s() > 0);
	return 0;
}

/*
 * --raw: every line of the file goes out as it is, and every line coming
 * back is printed as "recv LINE" until -t runs out or the pool closes.
 * Three directives: "@sleep MS" pauses (printing what arrives), "@recv"
 * waits for the next line, "@hex HEX" sends bytes without a newline (a
 * TLS ClientHello, say).
 */
static int
raw_run(struct miner *m)
{
	FILE *f = strcmp(m->raw, "-") == 0 ? stdin : fopen(m->raw, "r");
	uint8_t bytes[MINER_MAX_OUT];
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long nb;

	if (f == NULL) {
		printf("error %s: %s\n", m->raw, strerror(errno));
		return MINER_FAIL;
	}
	if (net_connect(m) < 0)
		m->stop = 1;
	while (!m->stop && (n = getline(&line, &cap, f)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (strncmp(line, "@sleep ", 7) == 0)
			raw_pump(m, now_s() + atof(line + 7) / 1000, 0);
		else if (strcmp(line, "@recv") == 0)
			raw_pump(m, m->deadline, 1);
		else if (strncmp(line, "@hex ", 5) == 0) {
			nb = hex_decode(line + 5, strlen(line + 5), bytes,
			    sizeof(bytes));
			if (nb < 0)
				printf("error bad @hex line\n");
			else if (send_all(m, (char *)bytes, (size_t)nb) == 0)
				printf("send %ld bytes\n", nb);
		} else {
			printf("send %s\n", line);
			line[n] = '\n';
			send_all(m, line, (size_t)n + 1);
		}
		raw_pump(m, 0, 0);
	}
	if (!m->stop)
		raw_pump(m, m->deadline, 0);
	free(line);
	if (f != stdin)
		fclose(f);
	if (m->status == MINER_PROTO)
		return MINER_PROTO;
	return m->fd < 0 ? MINER_FAIL : MINER_OK;
}

/* HOST:PORT, [V6ADDR]:PORT, with an optional stratum+tcp:// prefix. */
static int
parse_url(struct miner *m, const char *url)
{
	const char *p = strstr(url, "://"), *end, *port;
	size_t hl;

	url = p != NULL ? p + 3 : url;
	if (*url == '[') {
		if ((end = strchr(url, ']')) == NULL || end[1] != ':')
			return -1;
		url++;
		port = end + 2;
	} else {
		if ((end = strrchr(url, ':')) == NULL)
			return -1;
		port = end + 1;
	}
	hl = (size_t)(end - url);
	if (hl == 0 || hl >= sizeof(m->host) || *port == '\0' ||
	    strlen(port) >= sizeof(m->port))
		return -1;
	memcpy(m->host, url, hl);
	m->host[hl] = '\0';
	strcpy(m->port, port);
	return 0;
}

static int
num(const char *s, double lo, double hi, double *v)
{
	char *end;

	if (s == NULL)
		return -1;
	errno = 0;
	*v = strtod(s, &end);
	return end != s && *end == '\0' && errno == 0 && *v >= lo &&
	    *v <= hi ? 0 : -1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: miner -o HOST:PORT -u USER [-p PASS] "
	    "[-n SHARES] [-t SECONDS] [-b BLOCKS]\n"
	    "             [--rolling] [--suggest-diff D] [--agent UA] "
	    "[--nerd] [--bitaxe] [-v]\n"
	    "       miner -o HOST:PORT --raw FILE|- [-t SECONDS]\n");
	exit(MINER_PROTO);
}

/* --target D: print the share target for difficulty D (for tests). */
static void
print_target(const char *s)
{
	uint8_t t[32];
	char hex[65];
	double d;

	if (num(s, 0, HUGE_VAL, &d) < 0 || !(d > 0) || isinf(d))
		usage();
	diff_target(d, t);
	hex_display(t, hex);
	printf("target %s\n", hex);
	exit(MINER_OK);
}

/* Options that take a value; -1 when a is none or val is bad. */
static int
option(struct miner *m, const char *a, const char *val)
{
	const char **str = strcmp(a, "-u") == 0 ? &m->user :
	    strcmp(a, "-p") == 0 ? &m->pass :
	    strcmp(a, "--agent") == 0 ? &m->agent :
	    strcmp(a, "--raw") == 0 ? &m->raw : NULL;
	double v;

	if (str != NULL) {
		*str = val;
		return strlen(val) < MINER_MAX_STR ? 0 : -1;
	}
	if (strcmp(a, "-o") == 0)
		return parse_url(m, val);
	if (strcmp(a, "--start-en2") == 0) {
		m->start_en2_len = strlen(val) / 2;
		return hex_decode(val, strlen(val), m->start_en2,
		    sizeof(m->start_en2)) > 0 ? 0 : -1;
	}
	if (strcmp(a, "--target") == 0)
		print_target(val);
	if (strcmp(a, "-t") == 0)
		return num(val, 0.001, 1e6, &m->seconds);
	if (strcmp(a, "--suggest-diff") == 0)
		return num(val, 1e-300, 1e300, &m->suggest);
	if (num(val, 0, 0xffffffffu, &v) < 0 || v != floor(v))
		return -1;
	if (strcmp(a, "-n") == 0)
		m->max_shares = (long)v;
	else if (strcmp(a, "-b") == 0)
		m->max_blocks = (long)v;
	else if (strcmp(a, "--start-nonce") == 0) {
		m->start_nonce = (uint32_t)v;
		m->start_nonce_set = 1;
	} else
		return -1;
	return 0;
}

static void
parse_args(struct miner *m, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--rolling") == 0)
			m->rolling = 1;
		else if (strcmp(argv[i], "--nerd") == 0)
			m->nerd = 1;
		else if (strcmp(argv[i], "--bitaxe") == 0)
			m->bitaxe = 1;
		else if (strcmp(argv[i], "-v") == 0)
			m->verbose = 1;
		else if (i + 1 == argc || option(m, argv[i], argv[i + 1]) < 0)
			usage();
		else
			i++;
	}
	if (m->host[0] == '\0' || (m->user == NULL && m->raw == NULL))
		usage();
}

static void
on_alarm(int sig)
{
	static const char msg[] = "error hard time limit\n";
	ssize_t r = write(STDOUT_FILENO, msg, sizeof(msg) - 1);

	(void)sig;
	(void)r;
	_exit(MINER_FAIL);
}

static int
exit_status(const struct miner *m)
{
	if (m->status == MINER_PROTO)
		return MINER_PROTO;
	if (m->max_shares == 0)
		return m->authorized ? MINER_OK : MINER_FAIL;
	return m->accepted > 0 ? MINER_OK : MINER_FAIL;
}

int
main(int argc, char **argv)
{
	struct miner *m = calloc(1, sizeof(*m));
	struct sigaction sa;
	double secs;
	int i, status;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (m == NULL)
		return MINER_FAIL;
	m->agent = MINER_AGENT;
	m->pass = "x";
	m->seconds = 60;
	m->max_shares = -1;
	m->next_id = 1;
	m->fd = -1;
	parse_args(m, argc, argv);
	if (sha256_selftest() < 0) {
		printf("error sha256 self-test failed\n");
		return MINER_PROTO;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	/* The backstop: every wait is bounded by the deadline already. */
	alarm((unsigned)m->seconds + 5);
	m->t0 = now_s();
	m->deadline = m->t0 + m->seconds;
	if (m->raw != NULL)
		status = raw_run(m);
	else {
		if (net_connect(m) == 0 && hello(m) == 0)
			run(m);
		for (i = 0; i < MINER_MAX_PENDING; i++)
			m->lost += m->pend[i].id != 0;
		secs = now_s() - m->t0;
		printf("summary accepted=%lu rejected=%lu blocks=%lu "
		    "unanswered=%lu hashes=%llu seconds=%.2f hashrate=%.0f\n",
		    m->accepted, m->rejected, m->blocks, m->lost, m->hashes,
		    secs, secs > 0 ? (double)m->hashes / secs : 0.0);
		status = exit_status(m);
	}
	if (m->fd >= 0)
		close(m->fd);
	free(m);
	return status;
}
