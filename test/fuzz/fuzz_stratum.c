/*
 * fuzz_stratum.c - what miners send, through the pool's line handling,
 * under libFuzzer.
 *
 * stratum.c is included with STRATUM_NO_MAIN, which leaves out the
 * listeners, the loop and main(), so its static client_read() can be
 * driven directly.  Each input gets a pool of its own, built as main()
 * and on_info() would build it on a regtest chain: conf_defaults(), a few
 * client slots, the job ring, a pool payout for btc_address, statistics,
 * an RPC client for 127.0.0.1 port 9 (calls only queue: nothing here runs
 * rpc_handle()), and a fixed getblocktemplate reply (a bcoin-like regtest
 * template with three transactions) as the current template.  One client
 * slot holds one end of a socketpair; the harness is the miner on the
 * other end.  Afterwards everything is freed, so each input is independent
 * and LeakSanitizer sees every leak at once.
 *
 * Input: the bytes a miner sends.  "\n\n\n" (a line's end and two empty
 * lines, which the pool ignores anyway) ends a connection: the miner hangs
 * up and the next part comes over a new connection (FUZZ_CONNS at most),
 * so session resumption, bans and payouts shared across connections are
 * reachable.  A part is written whole, or in up to FUZZ_PIECES pieces of
 * 1..509 bytes (the size follows from its length) and then the rest, so
 * lines are split across reads.  After the last part the miner closes its
 * socket outright (after the others it only shuts down its sending side
 * and reads what is left), so the pool also meets sends that fail.  Limits
 * are small, so they are reached: max_line 1024, max_backlog 16 KiB, a
 * 4 KiB send buffer (output queues up, and a miner that does not read is
 * dropped), and a job ring of FUZZ_RING ids (jobs still in use by payouts
 * and miners are evicted, so references are put to work).  The minimum
 * difficulty is lowered to 1e-12 so suggest_difficulty can make any share
 * valid, and regtest's target makes about every second one a block
 * (saving it fails: data_dir does not exist).
 *
 * FUZZ_VERBOSE=1 in the environment prints every line the pool sends and
 * turns the pool's log on.
 *
 * Checked: every line the pool sends is a JSON object with an id, and is
 * either a reply (result and error; an error is [code 20..25, text, null])
 * or one of the notifications the pool sends with its documented params;
 * the template's references all come back; no sanitizer report or leak.
 */
#define STRATUM_NO_MAIN
#include "../../stratum.c"
#include "fuzz.h"

#define FUZZ_CLIENTS 2
#define FUZZ_CONNS 4		/* connections per input */
#define FUZZ_PIECES 64		/* small pieces per connection, then the rest */
#define FUZZ_OUT_MAX 65536	/* longest line the pool may send */
#define FUZZ_TOKS 512
#define FUZZ_RING 3		/* job ids kept */
#define FUZZ_POOL_ADDR "bcrt1qdavt4j2sd7dlhqsavtnfxvzppw6k7qy97tmnu9"
#define FUZZ_SEP "\n\n\n"

/* bcoin's template at height 435 (test/node/NOTES.md) with three made-up
 * transactions: the merkle branch has two levels. */
static const char gbt_reply[] =
    "{\"result\":{\"capabilities\":[\"proposal\"],\"version\":536870912,"
    "\"rules\":[\"csv\",\"!segwit\",\"testdummy\"],\"height\":435,"
    "\"previousblockhash\":\"1324a01e4d1a3ad3d7666d73c0f01c0fd2abe7f3f89ad8"
    "6671c108285b5a6441\",\"target\":\"7fffff0000000000000000000000000000"
    "000000000000000000000000000000\",\"bits\":\"207fffff\","
    "\"curtime\":1795805239,\"mintime\":1795805239,"
    "\"longpollid\":\"1324a01e4d1a3ad3d7666d73c0f01c0fd2abe7f3f89ad86671c10"
    "8285b5a644100000002\",\"coinbasevalue\":1250009020,"
    "\"default_witness_commitment\":\"6a24aa21a9ed0dbf7081f268b3c92008c876e"
    "2f5478db513d780f32af7c7787fa7c79f2caae6\",\"transactions\":["
    "{\"data\":\"0100000001aa\",\"txid\":\"62e68af1000000000000000000000000"
    "00000000000000000000000000003a08\"},"
    "{\"data\":\"0100000001bb\",\"txid\":\"e4bea12f000000000000000000000000"
    "00000000000000000000000000007b7f\"},"
    "{\"data\":\"0100000001cc\",\"txid\":\"ec314e2c000000000000000000000000"
    "000000000000000000000000000089e3\"}]},\"error\":null,\"id\":1}";

static struct tmpl *base_tmpl;	/* parsed once; each pool holds a ref */
static char read_buf[READ_CHUNK];

struct miner {
	struct pool *p;
	struct client *c;
	int fd;			/* the miner's end, -1 when none */
	char line[FUZZ_OUT_MAX];
	size_t len;
	struct json_tok toks[FUZZ_TOKS];
};

static struct tmpl *
load_template(void)
{
	static struct json_tok toks[256];
	struct json_doc d;
	struct tmpl *t;
	char err[200];

	FUZZ_CHECK(json_parse(&d, gbt_reply, strlen(gbt_reply), toks, 256) > 0);
	t = tmpl_from_json(&d, json_get(&d, 0, "result"), err, sizeof(err));
	if (t == NULL)
		fprintf(stderr, "fuzz_stratum: template: %s\n", err);
	FUZZ_CHECK(t != NULL && t->ntx == 3 && t->nbranch == 2);
	return t;
}

/* The pool as main() and on_info() leave it once the node answered. */
static struct pool *
pool_new(void)
{
	struct pool *p = calloc(1, sizeof(*p));
	uint8_t script[ADDR_SCRIPT_MAX];
	struct rpc_conf rc;
	char err[200];
	int i, n;

	(void)on_signal;	/* above STRATUM_NO_MAIN, used by main() only */
	FUZZ_CHECK(p != NULL);
	conf_defaults(&p->conf);
	p->conf.max_clients = p->max_clients = FUZZ_CLIENTS;
	p->conf.min_difficulty = 1e-12;
	p->conf.max_line = 1024;
	p->conf.max_backlog = 16384;
	snprintf(p->conf.btc_address, CONF_STR, "%s", FUZZ_POOL_ADDR);
	/* Found blocks cannot be saved there: no files pile up. */
	snprintf(p->conf.data_dir, CONF_STR, "/nonexistent/stratum-fuzz");
	p->net = ADDR_REGTEST;
	snprintf(p->chain, sizeof(p->chain), "regtest");
	p->have_chain = 1;
	p->lp_usable = 1;
	p->clients = calloc(FUZZ_CLIENTS, sizeof(*p->clients));
	p->ring_size = FUZZ_RING;	/* main(): 64 + 4 per client */
	p->ring = calloc(p->ring_size, sizeof(*p->ring));
	p->stats = stats_new();
	FUZZ_CHECK(p->clients != NULL && p->ring != NULL && p->stats != NULL);
	for (i = 0; i < FUZZ_CLIENTS; i++)
		p->clients[i].fd = -1;
	memset(&rc, 0, sizeof(rc));
	rc.host = "127.0.0.1";
	rc.port = 9;
	rc.user = "fuzz";
	rc.password = "fuzz";
	FUZZ_CHECK((p->rpcs[0] = rpc_new(&rc, err, sizeof(err))) != NULL);
	p->rpc = p->rpcs[0];
	tmpl_ref(base_tmpl);
	p->tmpl = base_tmpl;
	n = addr_to_script(FUZZ_POOL_ADDR, p->net, script, err, sizeof(err));
	FUZZ_CHECK(n > 0);
	p->pool_payout = work_payout(p, script, (size_t)n, FUZZ_POOL_ADDR);
	FUZZ_CHECK(p->pool_payout != NULL && p->pool_payout->cur != NULL);
	p->pool_payout->nclients++;
	p->next_en1 = 0x10000000;
	return p;
}

static void
pool_free(struct pool *p)
{
	int i;

	for (i = 0; i < FUZZ_CLIENTS; i++)
		client_close(p, &p->clients[i], "fuzz input done");
	stats_free(p->stats);
	work_free(p);
	free(p->clients);
	free(p);
}

/* The error member of a reply: null, or [code, message, null]. */
static void
check_error(const struct json_doc *d, int e)
{
	int64_t code;

	if (json_type(d, e) == JSON_NULL)
		return;
	FUZZ_CHECK(json_type(d, e) == JSON_ARRAY && d->toks[e].size == 3);
	FUZZ_CHECK(json_int64(d, json_at(d, e, 0), &code) == 0 &&
	    code >= E_OTHER && code <= E_NOT_SUBSCRIBED);
	FUZZ_CHECK(json_type(d, json_at(d, e, 1)) == JSON_STRING);
	FUZZ_CHECK(json_type(d, json_at(d, e, 2)) == JSON_NULL);
}

/* Token i is a string of n hex digits. */
static int
is_hex(const struct json_doc *d, int i, size_t n)
{
	char s[72];

	return json_string(d, i, s, sizeof(s)) == (int)n &&
	    strspn(s, "0123456789abcdef") == n;
}

static void
check_notification(const struct json_doc *d, int m, int params)
{
	double diff;

	FUZZ_CHECK(json_type(d, params) == JSON_ARRAY);
	if (json_streq(d, m, "mining.notify")) {
		FUZZ_CHECK(d->toks[params].size == 9);
		FUZZ_CHECK(is_hex(d, json_at(d, params, 0), 8) &&
		    is_hex(d, json_at(d, params, 1), 64));
		FUZZ_CHECK(json_type(d, json_at(d, params, 4)) == JSON_ARRAY);
		FUZZ_CHECK(d->toks[json_at(d, params, 4)].size == 2);
		FUZZ_CHECK(json_type(d, json_at(d, params, 8)) == JSON_TRUE ||
		    json_type(d, json_at(d, params, 8)) == JSON_FALSE);
	} else if (json_streq(d, m, "mining.set_difficulty")) {
		FUZZ_CHECK(d->toks[params].size == 1);
		FUZZ_CHECK(json_double(d, json_at(d, params, 0), &diff) == 0 &&
		    diff >= 1e-12 && diff <= 1e15);
	} else {
		FUZZ_CHECK(json_streq(d, m, "client.show_message") ||
		    json_streq(d, m, "client.reconnect"));
	}
}

/* One line from the pool. */
static void
check_line(struct miner *mi, const char *s, size_t n)
{
	struct json_doc d;
	int64_t v;
	int m, r;

	if (getenv("FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "pool: %.*s\n", (int)n, s);
	FUZZ_CHECK(json_parse(&d, s, n, mi->toks, FUZZ_TOKS) > 0);
	FUZZ_CHECK(json_type(&d, 0) == JSON_OBJECT);
	FUZZ_CHECK(json_get(&d, 0, "id") >= 0);
	if ((m = json_get(&d, 0, "method")) >= 0) {
		check_notification(&d, m, json_get(&d, 0, "params"));
		return;
	}
	FUZZ_CHECK((r = json_get(&d, 0, "result")) >= 0);
	check_error(&d, json_get(&d, 0, "error"));
	/* A subscribe reply: [subscriptions, extranonce1, extranonce2_size] */
	if (json_type(&d, r) == JSON_ARRAY && d.toks[r].size == 3)
		FUZZ_CHECK(is_hex(&d, json_at(&d, r, 1), 8) &&
		    json_int64(&d, json_at(&d, r, 2), &v) == 0 && v == 8);
}

/* Read what the pool sent; check each complete line. */
static void
miner_drain(struct miner *mi)
{
	char *nl;
	ssize_t r;
	size_t k;

	while (mi->fd >= 0 && mi->len < sizeof(mi->line) &&
	    (r = recv(mi->fd, mi->line + mi->len, sizeof(mi->line) - mi->len,
	    0)) > 0) {
		mi->len += (size_t)r;
		k = 0;
		while ((nl = memchr(mi->line + k, '\n', mi->len - k)) != NULL) {
			check_line(mi, mi->line + k,
			    (size_t)(nl - mi->line) - k);
			k = (size_t)(nl - mi->line) + 1;
		}
		memmove(mi->line, mi->line + k, mi->len - k);
		mi->len -= k;
	}
	FUZZ_CHECK(mi->len < sizeof(mi->line));
}

/* The end of loop_once() for this client: flush, close when due. */
static void
pool_side(struct miner *mi)
{
	struct client *c = mi->c;

	miner_drain(mi);
	if (c->fd >= 0 && c->out_len > 0) {
		client_flush(c);
		miner_drain(mi);
	}
	if (c->fd >= 0 && (c->closing == 2 || (c->closing == 1 &&
	    c->out_len == 0)))
		client_close(mi->p, c, "dropped");
}

/* Everything the pool would do while poll() says the client is readable
 * or writable; bounded, as each round reads or writes something. */
static void
pump(struct miner *mi)
{
	struct pollfd pfd;
	int rounds;

	for (rounds = 0; rounds < 1000 && mi->c->fd >= 0; rounds++) {
		pfd.fd = mi->c->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, 0) < 0) {
			/* libFuzzer's timeout alarm interrupts it at times */
			FUZZ_CHECK(errno == EINTR);
			continue;
		}
		if (pfd.revents != 0)
			client_read(mi->p, mi->c, read_buf, rpc_now_ms());
		pool_side(mi);
		if (pfd.revents == 0 && (mi->c->fd < 0 || mi->c->out_len == 0))
			break;
	}
}

/* A new miner in slot 0, taken the way accept_all() takes one.  The
 * pool's send buffer is small, so its output backs up into out. */
static int
miner_connect(struct miner *mi)
{
	struct pool *p = mi->p;
	struct client *c = &p->clients[0];
	int64_t now = rpc_now_ms();
	int sv[2], i, small = 4096;

	FUZZ_CHECK(c->fd < 0);
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	for (i = 0; i < 2; i++)
		FUZZ_CHECK(fcntl(sv[i], F_SETFL, fcntl(sv[i], F_GETFL) |
		    O_NONBLOCK) == 0);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	memset(c, 0, sizeof(*c));
	c->fd = sv[0];
	c->serial = ++p->next_serial;
	c->since_ms = now;
	c->want_diff = p->conf.start_difficulty;
	snprintf(c->peer, sizeof(c->peer), "127.0.0.1:%u", 40000 + c->serial);
	if (is_banned(p, c->peer, now)) {
		close(sv[0]);
		close(sv[1]);
		c->fd = -1;
		return -1;
	}
	p->nclients++;
	mi->c = c;
	mi->fd = sv[1];
	mi->len = 0;
	return 0;
}

/* The miner sends s[0, n) in pieces, the pool reading as it goes. */
static void
miner_send(struct miner *mi, const uint8_t *s, size_t n)
{
	size_t off = 0, piece = n % 7 == 0 ? n : 1 + n % 509, k;
	int pieces = 0, steps;
	ssize_t w;

	for (steps = 0; off < n && mi->c->fd >= 0 && steps < 100000; steps++) {
		k = pieces++ < FUZZ_PIECES ? piece : n - off;
		w = send(mi->fd, s + off, k < n - off ? k : n - off,
		    MSG_NOSIGNAL);
		if (w > 0)
			off += (size_t)w;
		else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			break;
		pump(mi);
	}
}

/* The miner stops sending: the pool sees EOF after the last bytes.  With
 * read_rest, the miner reads what the pool still sends before closing;
 * without, it closes at once and the pool's sends fail. */
static void
miner_hangup(struct miner *mi, int read_rest)
{
	if (mi->fd < 0)
		return;
	if (read_rest)
		shutdown(mi->fd, SHUT_WR);
	else {
		close(mi->fd);
		mi->fd = -1;
	}
	pump(mi);
	FUZZ_CHECK(mi->c->fd < 0);	/* EOF closes the client */
	miner_drain(mi);
	if (mi->fd >= 0)
		close(mi->fd);
	mi->fd = -1;
}

/* The next "\n\n\n" in s[0, n), or s + n.  Its first "\n" still ends the
 * part's last line. */
static const uint8_t *
find_sep(const uint8_t *s, size_t n)
{
	size_t i;

	for (i = 0; i + 3 <= n; i++)
		if (memcmp(s + i, FUZZ_SEP, 3) == 0)
			return s + i;
	return s + n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct miner mi;
	const uint8_t *s = data, *end = data + size, *sep;
	int conn, refs;

	if (base_tmpl == NULL) {
		log_set_level(getenv("FUZZ_VERBOSE") ? LOG_DEBUG : LOG_ERROR);
		base_tmpl = load_template();
	}
	refs = base_tmpl->refs;
	mi.fd = -1;
	mi.len = 0;
	mi.p = pool_new();
	for (conn = 0; conn < FUZZ_CONNS && s < end; conn++) {
		sep = find_sep(s, (size_t)(end - s));
		if (miner_connect(&mi) == 0) {
			miner_send(&mi, s, (size_t)(sep - s) + (sep < end));
			miner_hangup(&mi, sep < end);
		}
		s = sep < end ? sep + 3 : end;
	}
	pool_free(mi.p);
	FUZZ_CHECK(base_tmpl->refs == refs);
	return 0;
}
