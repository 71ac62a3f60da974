/*
 * fuzz_http.c - rpc.c's HTTP reply parser under libFuzzer.
 *
 * The harness plays the node.  rpc.c is included, not linked, with its
 * connect() calls renamed to fuzz_connect(), which turns the socket rpc.c
 * made into one end of a socketpair whose other end the harness holds.
 * Everything else goes through rpc.h as the pool uses it: rpc_call(),
 * then rounds of rpc_pollfds(), poll() and rpc_handle(), so the request is
 * really written, the reply read by the slot's own code (keep-alive reuse,
 * a stale socket's retry, EOF framing included) and every call ends in
 * its callback.  Nothing depends on rpc.c's internals.
 *
 * Input: 3 bytes of settings, then the bytes the node sends.
 *   byte 0, bit 0:    the node hangs up on the second call as it arrives
 *                     (on a reused keep-alive socket, rpc.c retries it)
 *           bits 1-2: max_body 16 MiB (rpc's default), 64, 4096, 100000
 *           bit 3:    the node closes its end after the last byte
 *           bit 4:    after the split, the rest goes in pieces of
 *                     split % 509 + 1 bytes (up to 256 of them)
 *           bit 5:    one call only: bytes after its reply are unsolicited
 *   bytes 1-2: split point (big-endian, modulo the length): the bytes
 *              before it arrive first, as a partial read.
 * Each piece goes to the connection that carries the call in flight; when
 * a reply is complete and bytes remain, the next call is made, on the same
 * socket (keep-alive) or a new one (FUZZ_CONNS at most: further connects
 * are refused), so one input can hold several replies.
 *
 * FUZZ_VERBOSE=1 in the environment prints each reply's outcome.
 *
 * Checked: every call ends in exactly one callback, whose reply is
 * consistent (RPC_OK only with HTTP 200 and a JSON-RPC object holding a
 * result; RPC_ERR_AUTH only for 401/403; a message always, terminated);
 * no sanitizer report, no leak, no hang.  An OK result is also taken as
 * a getblocktemplate result through job.c (check_template()), so what a
 * node sends reaches the template decoder, job building, the notify line,
 * the share check and the block writer.
 */
#include <sys/socket.h>

int fuzz_connect(int fd, const struct sockaddr *addr, socklen_t len);
#define connect fuzz_connect
#include "../../rpc.c"
#undef connect
#include "job.h"
#include "fuzz.h"

#define FUZZ_CONNS 4		/* connects per input; more are refused */
#define FUZZ_PIECES 256		/* small pieces at most, then the rest */
#define FUZZ_ROUNDS 4		/* poll rounds per step: connect, send, read */

struct harness {
	struct rpc *r;
	int node[FUZZ_CONNS];	/* our ends, -1 once closed */
	int nconn;
	int active;		/* node[] index of the call in flight, or -1 */
	int calls, replies;
	int flags;
};

static struct harness *cur;

/* A reply that is OK goes on as the pool takes a getblocktemplate result:
 * job.c decodes it, builds a job and its notify line (in the room work.c
 * gives it), checks a share and writes the block. */
static void
check_template(const struct json_doc *d, int result)
{
	static const uint8_t script[22] = { 0x00, 0x14, 1, 2, 3, 4, 5, 6, 7, 8,
	    9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 };
	struct json_tok toks[64];
	struct job_result res;
	struct job_share s;
	struct json_doc nd;
	struct tmpl *t;
	struct job j;
	uint8_t target[32];
	char err[200], *buf, *hex;
	size_t cap, n;
	int params;

	if ((t = tmpl_from_json(d, result, err, sizeof(err))) == NULL) {
		FUZZ_CHECK(err[0] != '\0' && strlen(err) < sizeof(err));
		return;
	}
	FUZZ_CHECK(t->refs == 1 && t->nbranch <= JOB_MAX_BRANCH &&
	    strlen(t->txhex) == t->txhex_len && t->txhex_len % 2 == 0);
	if (job_init(&j, t, script, sizeof(script), "/fuzz/", 8, err,
	    sizeof(err)) == 0) {
		cap = 256 + 2 * (j.cb1_len + j.cb2_len) + 67 * t->nbranch;
		FUZZ_CHECK((buf = malloc(cap)) != NULL);
		FUZZ_CHECK(job_notify(&j, "0000abcd", 1, buf, cap) > 0);
		FUZZ_CHECK(json_parse(&nd, buf, strlen(buf), toks, 64) > 0);
		params = json_get(&nd, 0, "params");
		FUZZ_CHECK(json_type(&nd, params) == JSON_ARRAY &&
		    nd.toks[params].size == 9);
		memset(&s, 0, sizeof(s));
		s.ntime = t->curtime;
		s.version = t->version;
		target_from_diff(1e-12, target);
		job_check(&j, &s, target, &res);
		FUZZ_CHECK(res.meets_share);
		FUZZ_CHECK((hex = job_block_hex(&j, &s, &n)) != NULL);
		FUZZ_CHECK(strlen(hex) == n && n % 2 == 0 &&
		    n >= 160 + 2 + 2 * (j.cb1_len + j.cb2_len) + t->txhex_len);
		free(hex);
		free(buf);
		job_free(&j);
	}
	tmpl_unref(t);
}

static void
on_reply(void *arg, const struct rpc_reply *rep)
{
	struct harness *h = arg;
	const struct json_doc *d = rep->doc;

	h->replies++;
	if (getenv("FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "reply: status %d, HTTP %d, %s\n",
		    (int)rep->status, rep->http_status, rep->message);
	FUZZ_CHECK(rep->message != NULL && strlen(rep->message) < RPC_MAX_MSG);
	FUZZ_CHECK(rep->status >= RPC_OK && rep->status <= RPC_ERR_CANCELLED);
	FUZZ_CHECK(rep->http_status == 0 || (rep->http_status >= 100 &&
	    rep->http_status <= 599));
	if (rep->status == RPC_OK) {
		FUZZ_CHECK(rep->http_status == 200 && d != NULL &&
		    rep->message[0] == '\0');
		FUZZ_CHECK(json_type(d, 0) == JSON_OBJECT &&
		    json_type(d, rep->result) != 0 &&
		    json_get(d, 0, "result") == rep->result);
		check_template(d, rep->result);
	} else {
		FUZZ_CHECK(rep->message[0] != '\0');
	}
	if (rep->status == RPC_ERR_RPC)
		FUZZ_CHECK(d != NULL && json_type(d, 0) == JSON_OBJECT);
	if (rep->status == RPC_ERR_AUTH)
		FUZZ_CHECK(rep->http_status == 401 || rep->http_status == 403);
	if (d != NULL)
		FUZZ_CHECK(d->ntok >= 1 && rep->status != RPC_ERR_AUTH);
}

/* The socket rpc.c made becomes one end of a fresh socketpair. */
int
fuzz_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	int sv[2], i;

	(void)addr;
	(void)len;
	if (cur->nconn == FUZZ_CONNS) {
		errno = ECONNREFUSED;
		return -1;
	}
	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	for (i = 0; i < 2; i++)
		FUZZ_CHECK(fcntl(sv[i], F_SETFL, fcntl(sv[i], F_GETFL) |
		    O_NONBLOCK) == 0);
	FUZZ_CHECK(dup2(sv[0], fd) == fd);
	close(sv[0]);
	cur->node[cur->nconn++] = sv[1];
	return 0;
}

/* What the pool's loop does: poll the slots, let rpc_handle() work. */
static void
client_step(struct harness *h)
{
	struct pollfd fds[RPC_MAX_CONN];
	int i, n;

	for (i = 0; i < FUZZ_ROUNDS; i++) {
		FUZZ_CHECK((n = rpc_pollfds(h->r, fds, RPC_MAX_CONN)) > 0);
		if (poll(fds, (nfds_t)n, 0) < 0) {
			FUZZ_CHECK(errno == EINTR);	/* libFuzzer's alarm */
			continue;
		}
		rpc_handle(h->r, fds, n, rpc_now_ms());
	}
}

/* Read what the client sent on each connection; the one that got a
 * request carries the call in flight.  A connection the client closed is
 * closed here too. */
static void
node_read(struct harness *h)
{
	char buf[4096];
	ssize_t n;
	int i, got;

	for (i = 0; i < h->nconn; i++) {
		got = 0;
		n = -1;
		while (h->node[i] >= 0 &&
		    (n = recv(h->node[i], buf, sizeof(buf), 0)) > 0)
			got = 1;
		if (got)
			h->active = i;
		if (h->node[i] >= 0 && n == 0) {
			close(h->node[i]);
			h->node[i] = -1;
			h->active = h->active == i ? -1 : h->active;
		}
	}
}

/* A call in flight, on a connection of ours when it got that far. */
static void
start_call(struct harness *h)
{
	if (h->calls == h->replies && (h->calls == 0 || !(h->flags & 32))) {
		FUZZ_CHECK(rpc_call(h->r, "getblocktemplate", "[]", 0,
		    on_reply, h) == 0);
		h->calls++;
		client_step(h);
		node_read(h);
		if (h->flags & 1 && h->active >= 0 && h->calls == 2) {
			close(h->node[h->active]);	/* stale keep-alive */
			h->node[h->active] = -1;
			client_step(h);
			node_read(h);
		}
	}
}

/* The node sends s[0, n) on the call's connection, as the client takes
 * it; a reply that ends mid-piece makes the next call first. */
static void
node_send(struct harness *h, const uint8_t *s, size_t n)
{
	size_t off = 0;
	ssize_t w;
	int steps;

	for (steps = 0; off < n && steps < 100000; steps++) {
		start_call(h);
		if (h->active < 0 || h->node[h->active] < 0)
			return;
		w = send(h->node[h->active], s + off, n - off, MSG_NOSIGNAL);
		if (w > 0)
			off += (size_t)w;
		else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			return;		/* the client closed its end */
		client_step(h);
		node_read(h);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t bodies[4] = { 0, 64, 4096, 100000 };
	struct rpc_conf rc;
	struct harness h;
	char err[256];
	size_t split, piece, off;
	int i;

	if (size < 3)
		return 0;
	log_set_level(LOG_ERROR);
	memset(&h, 0, sizeof(h));
	h.flags = data[0];
	h.active = -1;
	split = ((size_t)data[1] << 8 | data[2]) % (size - 3 + 1);
	data += 3;
	size -= 3;
	memset(&rc, 0, sizeof(rc));
	rc.host = "127.0.0.1";
	rc.port = 9;
	rc.user = "fuzz";
	rc.password = "fuzz";
	rc.max_body = bodies[h.flags >> 1 & 3];
	FUZZ_CHECK((h.r = rpc_new(&rc, err, sizeof(err))) != NULL);
	cur = &h;
	node_send(&h, data, split);
	piece = h.flags & 16 ? split % 509 + 1 : size;
	for (off = split, i = 0; off < size && i < FUZZ_PIECES; i++) {
		piece = piece < size - off ? piece : size - off;
		node_send(&h, data + off, piece);
		off += piece;
	}
	node_send(&h, data + off, size - off);
	if (h.flags & 8 && h.active >= 0 && h.node[h.active] >= 0) {
		shutdown(h.node[h.active], SHUT_WR);
		client_step(&h);
	}
	rpc_free(h.r);		/* ends what is still running: CANCELLED */
	for (i = 0; i < h.nconn; i++)
		if (h.node[i] >= 0)
			close(h.node[i]);
	FUZZ_CHECK(h.replies == h.calls);
	return 0;
}
