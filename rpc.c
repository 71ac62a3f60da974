/*
 * rpc.c - the JSON-RPC client of rpc.h.
 *
 * Each slot has one state (enum conn_state), driven by conn_io() when
 * poll() reports its socket and by expire() at deadlines; rpc_handle()
 * gives queued calls an idle keep-alive socket, else a new connect.
 *
 * A slot's buffer holds the decoded body in [0, blen) and the bytes not
 * parsed yet in [pos, len): body bytes move down over the head and chunk
 * lines, so json_parse() gets the body whole without a second copy.  The
 * buffer is freed after each call: idle sockets pin no megabytes.
 * Credentials are kept only as base64 and never logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "rpc.h"

#define RPC_CONNECT_MS	5000
#define RPC_REQUEST_MS	30000
#define RPC_BODY_MAX	((size_t)16 << 20)
#define RPC_BACKOFF_MIN	1000	/* ms; doubles per failed attempt */
#define RPC_BACKOFF_MAX	30000
#define RPC_MAX_HOST	256	/* a DNS name has at most 253 bytes */
#define RPC_MAX_CRED	512	/* "user:password", or the cookie's text */
#define RPC_MAX_AUTH	((RPC_MAX_CRED + 2) / 3 * 4 + 1)	/* its base64 */
#define RPC_MAX_PATH	1024
#define RPC_MAX_MSG	512	/* reply->message, with the node's own text */
#define RPC_BUF_MIN	4096
#define RPC_HEAD_MAX	(RPC_MAX_AUTH + RPC_MAX_HOST + 256)	/* request */
#define RPC_QCAP	(RPC_MAX_QUEUE + RPC_MAX_CONN)	/* + retried calls */
#define RPC_NEVER	INT64_MAX
#define RPC_AUTH_MSG	"node refused RPC credentials: check " \
			"rpcuser/rpcpassword or cookiefile"
#define RPC_BIG_MSG	"reply body over the size limit"

/* Reply parser results besides an enum rpc_status (those are > 0). */
#define P_GO	0	/* state changed: parse on */
#define P_MORE	(-1)	/* need more bytes */
#define P_DONE	(-2)	/* the reply is complete */

enum conn_state {	/* a call runs in the states after C_IDLE */
	C_CLOSED,	/* no socket */
	C_IDLE,		/* open keep-alive socket */
	C_CONNECTING,
	C_SEND,		/* writing head and body */
	C_STATUS,	/* reading lines: the status line, */
	C_FIELDS,	/* header fields (want counts their bytes), */
	C_CHUNK_SIZE,	/* a chunk-size line (extensions are ignored), */
	C_CHUNK_END,	/* the CRLF after chunk data, */
	C_TRAILER,	/* trailer fields; */
	C_BODY,		/* reading bytes: Content-Length body, want left, */
	C_CHUNK_DATA,	/* chunk data, want left, */
	C_TO_EOF	/* a body that ends at close, want its room left */
};

struct call {
	char *buf;		/* RPC_HEAD_MAX bytes of room, then the body */
	size_t len;		/* of the body */
	int64_t id, start, deadline;	/* deadline RPC_NEVER: long poll */
	int retried;		/* moved off a stale keep-alive socket once */
	rpc_done_fn *done;
	void *arg;
};

struct conn {
	int fd;
	enum conn_state st;
	int reused;		/* a reply was read on this socket before */
	int got;		/* a byte of this call's reply has arrived */
	int http;		/* status code, 0 before the status line */
	int keep, chunked;
	int64_t clen;		/* Content-Length, -1 when none */
	int64_t conn_deadline;
	struct call call;	/* valid in the busy states */
	char *out;		/* outlen request bytes not sent yet */
	size_t outlen;
	char *buf;
	size_t cap, len, pos, blen;
	size_t want;		/* bytes left to read; head or trailer bytes */
};

struct rpc {
	char name[64];			/* for logs only */
	char hosthdr[RPC_MAX_HOST + 8];	/* "[::1]:8332", also for logs */
	char cookiefile[RPC_MAX_PATH];
	char auth[RPC_MAX_AUTH];	/* base64 "user:pass", "" for none */
	int use_cookie, cookie_bad;	/* cookie_bad: logged already */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int connect_ms, request_ms;
	size_t max_body;
	struct conn conn[RPC_MAX_CONN];
	struct call q[RPC_QCAP];
	int qlen;
	int64_t next_id;
	int up;				/* -1 not tried yet, 0 down, 1 up */
	int refused;			/* the last reply was 401/403 */
	int backoff_ms;
	int64_t retry_at;
	int closing;
};

int64_t
rpc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
b64(char *out, const unsigned char *in, size_t n)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t v;
	size_t i;

	for (i = 0; i < n; i += 3) {
		v = (uint32_t)in[i] << 16 |
		    (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
		    (i + 2 < n ? (uint32_t)in[i + 2] : 0);
		*out++ = a[v >> 18];
		*out++ = a[v >> 12 & 63];
		*out++ = i + 1 < n ? a[v >> 6 & 63] : '=';
		*out++ = i + 2 < n ? a[v & 63] : '=';
	}
	*out = '\0';
}

/* s[0, n) as a decimal number; -1: none, -2: over lim. */
static int64_t
dec(const char *s, size_t n, uint64_t lim)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < n && s[i] >= '0' && s[i] <= '9' && x <= lim; i++)
		x = x * 10 + (uint64_t)(s[i] - '0');
	return x > lim ? -2 : n == 0 || i < n ? -1 : (int64_t)x;
}

/* 1 when s[0, n) is t, ignoring ASCII case. */
static int
eq(const char *s, size_t n, const char *t)
{
	return n == strlen(t) && strncasecmp(s, t, n) == 0;
}

/* 1 when a failed socket call only has to wait for the next poll(). */
static int
io_again(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/* ---- ending calls -------------------------------------------------- */

static void
q_remove(struct rpc *r, int i, struct call *out)
{
	*out = r->q[i];
	memmove(&r->q[i], &r->q[i + 1], (size_t)(r->qlen - i - 1) *
	    sizeof r->q[0]);
	r->qlen--;
}

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->st = C_CLOSED;
	c->reused = 0;
	free(c->buf);
	c->buf = NULL;
	c->cap = c->len = c->pos = c->blen = 0;
}

/* No slot or queue entry refers to call k any more: end it. */
static void
call_end(struct call *k, struct rpc_reply *rep)
{
	rep->elapsed_ms = rpc_now_ms() - k->start;
	k->done(k->arg, rep);
	free(k->buf);
}

/* End call k with a failure; c, unless NULL, is its slot, closed first. */
static void LOG_PRINTF(4, 5)
call_fail(struct conn *c, struct call k, enum rpc_status st,
    const char *fmt, ...)
{
	char msg[RPC_MAX_MSG];
	struct rpc_reply rep;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	memset(&rep, 0, sizeof rep);
	rep.status = st;
	rep.http_status = c != NULL ? c->http : 0;
	rep.result = -1;
	rep.message = msg;
	if (c != NULL)
		conn_close(c);
	call_end(&k, &rep);
}

/*
 * The socket died (err, or 0 for EOF).  Before any reply byte on a reused
 * keep-alive socket, that is the node having closed it while idle, racing
 * our request (some nodes close after 5 s, Bitcoin Core after 30 s): the
 * call is retried once on a fresh socket, and the other idle sockets,
 * likely stale too (a restarted node), are dropped.
 */
static void
conn_lost(struct rpc *r, struct conn *c, int err)
{
	int i;

	if (c->st <= C_FIELDS)
		c->http = 0;	/* no whole head: no status to report */
	if (!c->reused || c->got || c->call.retried) {
		call_fail(c, c->call, RPC_ERR_IO, "connection lost %s: %s",
		    c->got ? "mid-reply" : "before the reply",
		    err ? strerror(err) : "closed by the node");
		return;
	}
	memmove(&r->q[1], &r->q[0], (size_t)r->qlen * sizeof r->q[0]);
	r->q[0] = c->call;
	r->q[0].retried = 1;
	r->qlen++;
	for (i = 0; i < RPC_MAX_CONN; i++)
		if (&r->conn[i] == c || r->conn[i].st == C_IDLE)
			conn_close(&r->conn[i]);
}

/* A JSON-RPC object came back.  Its error is passed on as the node wrote
 * it (bcoin sends it with HTTP 200, Bitcoin Core with 500 or 404). */
static void
reply_eval(const struct json_doc *doc, const struct call *k, int http,
    struct rpc_reply *rep, char *msg)
{
	int err = json_get(doc, 0, "error"), m;
	int64_t id;

	if (err >= 0 && json_type(doc, err) != JSON_NULL) {
		rep->status = RPC_ERR_RPC;
		if (json_int64(doc, json_get(doc, err, "code"), &rep->code) < 0)
			rep->code = 0;
		m = json_type(doc, err) == JSON_STRING ? err :
		    json_get(doc, err, "message");
		if (json_string(doc, m, msg, RPC_MAX_MSG) < 0)
			snprintf(msg, RPC_MAX_MSG, "JSON-RPC error %lld",
			    (long long)rep->code);
	} else if (http != 200) {
		rep->status = RPC_ERR_HTTP;
		snprintf(msg, RPC_MAX_MSG, "node answered HTTP %d", http);
	} else if (json_int64(doc, json_get(doc, 0, "id"), &id) < 0 ||
	    id != k->id) {
		rep->status = RPC_ERR_JSON;
		rep->message = "reply id does not match the call";
	} else if ((rep->result = json_get(doc, 0, "result")) < 0) {
		rep->status = RPC_ERR_JSON;
		rep->message = "reply has no result";
	}
}

/* The reply on c is complete: free the slot before the callback, which
 * may start or cancel calls, but keep the body (never NULL) through it. */
static void
conn_done(struct rpc *r, struct conn *c)
{
	char msg[RPC_MAX_MSG] = "", *body = c->buf;
	struct json_tok *toks = NULL;
	struct json_doc doc;
	struct rpc_reply rep;
	struct call k = c->call;
	size_t len = c->blen;
	int http = c->http, auth = http == 401 || http == 403;
	int n = json_parse(&doc, body, len, NULL, 0);

	c->buf = NULL;
	if (c->keep && c->pos == c->len) {
		c->st = C_IDLE;
		c->reused = 1;
		c->cap = c->len = c->pos = c->blen = 0;
	} else {
		conn_close(c);
	}
	memset(&rep, 0, sizeof rep);
	rep.http_status = http;
	rep.result = -1;
	rep.message = msg;
	if (auth && !r->refused)
		log_warnx("%s: " RPC_AUTH_MSG, r->name);
	else if (!auth && r->refused)
		log_info("%s: node accepts the RPC credentials again", r->name);
	if ((r->refused = auth)) {
		rep.status = RPC_ERR_AUTH;
		rep.message = RPC_AUTH_MSG;
	} else if (n > 0 && (toks = malloc((size_t)n * sizeof *toks)) == NULL) {
		rep.status = RPC_ERR_NOMEM;
		rep.message = "no memory for the reply's JSON tokens";
	} else if (n > 0 && json_parse(&doc, body, len, toks, (size_t)n) == n &&
	    json_type(&doc, 0) == JSON_OBJECT) {
		rep.doc = &doc;
		reply_eval(&doc, &k, http, &rep, msg);
	} else {
		rep.status = http != 200 ? RPC_ERR_HTTP : RPC_ERR_JSON;
		snprintf(msg, sizeof msg, http != 200 ? "node answered HTTP %d"
		    : "reply (HTTP %d) is not a JSON-RPC object", http);
	}
	call_end(&k, &rep);
	free(toks);
	free(body);
}

/* ---- the HTTP reply parser ----------------------------------------- */

static int
perr(char *msg, int st, const char *text)
{
	snprintf(msg, RPC_MAX_MSG, "%s", text);
	return st;
}

/* The next whole line in buf[*pos, len): its length without CR LF, *line
 * set and *pos moved past it; -1 when it is not all there yet. */
static int
line_next(const char *buf, size_t len, size_t *pos, const char **line)
{
	const char *s = buf + *pos, *nl = memchr(s, '\n', len - *pos);
	size_t n;

	if (nl == NULL)
		return -1;
	n = (size_t)(nl - s);
	*pos += n + 1;
	*line = s;
	return (int)(n > 0 && s[n - 1] == '\r' ? n - 1 : n);
}

/* One header field line l (n bytes): length, chunking, keep-alive. */
static int
head_field(struct rpc *r, struct conn *c, const char *l, size_t n, char *msg)
{
	const char *colon = memchr(l, ':', n), *v, *e = l + n;
	size_t nl, vl;
	int64_t x;

	if (l[0] == ' ' || l[0] == '\t')
		return P_GO;	/* obsolete line folding: ignored */
	if (colon == NULL)
		return perr(msg, RPC_ERR_PROTO, "bad HTTP header line");
	nl = (size_t)(colon - l);
	for (v = colon + 1; v < e && (*v == ' ' || *v == '\t'); v++)
		;
	for (vl = (size_t)(e - v); vl > 0 && (v[vl - 1] == ' ' ||
	    v[vl - 1] == '\t'); vl--)
		;
	if (eq(l, nl, "Content-Length")) {
		if ((x = dec(v, vl, r->max_body)) == -2)
			return perr(msg, RPC_ERR_TOO_BIG, RPC_BIG_MSG);
		if (x < 0 || (c->clen >= 0 && c->clen != x))
			return perr(msg, RPC_ERR_PROTO, "bad Content-Length");
		c->clen = x;
	} else if (eq(l, nl, "Transfer-Encoding")) {
		if (!eq(v, vl, "chunked"))
			return perr(msg, RPC_ERR_PROTO,
			    "unsupported Transfer-Encoding");
		c->chunked = 1;
	} else if (eq(l, nl, "Connection")) {
		/* One token from Bitcoin Core and bcoin; a close missed in
		 * a list costs little, as a stale socket is retried. */
		if (eq(v, vl, "close") || eq(v, vl, "keep-alive"))
			c->keep = eq(v, vl, "keep-alive");
	}
	return P_GO;
}

/* The empty line after the header fields: choose the body framing. */
static void
head_end(struct rpc *r, struct conn *c)
{
	c->want = c->clen > 0 ? (size_t)c->clen : 0;
	if (c->http < 200)
		c->st = C_STATUS;	/* interim 1xx: the real head follows */
	else if (c->chunked)
		c->st = C_CHUNK_SIZE;
	else if (c->clen >= 0 || c->http == 204 || c->http == 304)
		c->st = C_BODY;
	else {
		c->st = C_TO_EOF;
		c->want = r->max_body + 1;
		c->keep = 0;
	}
}

/* One line l (n bytes) of the head, the chunk framing or the trailer. */
static int
reply_line(struct rpc *r, struct conn *c, const char *l, size_t n, char *msg)
{
	static const char hex[] = "0123456789abcdef0123456789ABCDEF";
	int64_t code = n >= 12 ? dec(l + 9, 3, 599) : -1;
	const char *h;
	size_t i, v = 0;

	if (c->st == C_STATUS) {
		if (code < 100 || memcmp(l, "HTTP/1.", 7) != 0 ||
		    (l[7] != '0' && l[7] != '1') || l[8] != ' ' ||
		    (n > 12 && l[12] != ' '))
			return perr(msg, RPC_ERR_PROTO, "bad HTTP status line");
		c->http = (int)code;
		c->keep = l[7] == '1';	/* HTTP/1.0 closes unless asked */
		c->clen = -1;
		c->chunked = 0;
		c->want = n;
		c->st = C_FIELDS;
	} else if (c->st == C_CHUNK_END) {
		if (n != 0)
			return perr(msg, RPC_ERR_PROTO,
			    "no CRLF after chunk data");
		c->st = C_CHUNK_SIZE;
	} else if (c->st != C_CHUNK_SIZE) {	/* fields and trailer */
		if ((c->want += n) > RPC_MAX_HEADER)
			return perr(msg, RPC_ERR_PROTO, "HTTP head too long");
		if (n == 0 && c->st == C_TRAILER)
			return P_DONE;
		if (n == 0)
			head_end(r, c);
		else if (c->st == C_FIELDS)
			return head_field(r, c, l, n, msg);
	} else {
		/* max_body <= SIZE_MAX / 16 (rpc_new): v * 16 + 15 fits. */
		for (i = 0; i < n && l[i] != '\0' &&
		    (h = strchr(hex, l[i])) != NULL; i++)
			if ((v = v * 16 + (size_t)(h - hex) % 16) >
			    r->max_body - c->blen)
				return perr(msg, RPC_ERR_TOO_BIG, RPC_BIG_MSG);
		while (i < n && (l[i] == ' ' || l[i] == '\t'))
			i++;
		if (i == 0 || (i < n && l[i] != ';'))
			return perr(msg, RPC_ERR_PROTO, "bad chunk size");
		c->want = v;
		c->st = v == 0 ? C_TRAILER : C_CHUNK_DATA;
	}
	return P_GO;
}

/* Consume what the buffer holds: P_MORE, P_DONE, or an error status with
 * msg set.  Body bytes move down over the lines before them. */
static int
conn_parse(struct rpc *r, struct conn *c, char *msg)
{
	const char *l;
	size_t n;
	int rc;

	for (;;) {
		n = c->len - c->pos < c->want ? c->len - c->pos : c->want;
		if (c->st >= C_BODY) {
			memmove(c->buf + c->blen, c->buf + c->pos, n);
			c->pos += n;
			c->blen += n;
			if ((c->want -= n) > 0)
				return P_MORE;
			if (c->st != C_CHUNK_DATA)
				return c->st == C_BODY ? P_DONE : perr(msg,
				    RPC_ERR_TOO_BIG, RPC_BIG_MSG);
			c->st = C_CHUNK_END;
			continue;
		}
		/* Checked early, so garbage fails at once, not at a timeout. */
		if (c->st == C_STATUS && memcmp(c->buf + c->pos, "HTTP/",
		    c->len - c->pos < 5 ? c->len - c->pos : 5) != 0)
			return perr(msg, RPC_ERR_PROTO, "not an HTTP reply");
		rc = line_next(c->buf, c->len, &c->pos, &l);
		if (rc > RPC_MAX_HEADER || (rc < 0 && c->len - c->pos >
		    RPC_MAX_HEADER))
			return perr(msg, RPC_ERR_PROTO, "HTTP line too long");
		if (rc < 0)
			return P_MORE;
		if ((rc = reply_line(r, c, l, (size_t)rc, msg)) != P_GO)
			return rc;
	}
}

/* Room for one more byte at least: doubling, up to max_body + head. */
static int
buf_grow(struct rpc *r, struct conn *c, char *msg)
{
	size_t lim = r->max_body + RPC_MAX_HEADER;
	size_t ncap = c->cap == 0 ? RPC_BUF_MIN : c->cap * 2;
	char *p;

	ncap = ncap < lim ? ncap : lim;
	if (c->cap >= lim)
		return perr(msg, RPC_ERR_TOO_BIG, "reply over the size limit");
	if ((p = realloc(c->buf, ncap)) == NULL)
		return perr(msg, RPC_ERR_NOMEM, "no memory for the reply");
	c->buf = p;
	c->cap = ncap;
	return P_MORE;
}

static void
conn_read(struct rpc *r, struct conn *c)
{
	char msg[RPC_MAX_MSG];
	ssize_t n;
	int rc = P_MORE;

	while (rc == P_MORE) {
		if (c->len == c->cap && (rc = buf_grow(r, c, msg)) != P_MORE)
			break;
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n < 0 && io_again())
			return;
		if (n <= 0 && (n < 0 || c->st != C_TO_EOF)) {
			conn_lost(r, c, n < 0 ? errno : 0);
			return;
		}
		c->got = 1;
		c->len += (size_t)n;
		rc = n == 0 ? P_DONE : conn_parse(r, c, msg);
		if (rc == P_MORE && c->pos > c->blen) {	/* drop lines read */
			memmove(c->buf + c->blen, c->buf + c->pos,
			    c->len - c->pos);
			c->len -= c->pos - c->blen;
			c->pos = c->blen;
		}
	}
	if (rc == P_DONE)
		conn_done(r, c);
	else
		call_fail(c, c->call, (enum rpc_status)rc, "%s", msg);
}

/* ---- connecting and sending ---------------------------------------- */

/* Re-read the cookie, which the node rewrites at every start: cookiefile,
 * else the first default data dir that has one; none: the node's 401. */
static void
cookie_load(struct rpc *r)
{
	static const char *const sub[] = { "", "testnet3/", "testnet4/",
	    "signet/", "regtest/" };
	char path[RPC_MAX_PATH], text[RPC_MAX_CRED + 2];
	const char *home = getenv("HOME");
	FILE *f = r->cookiefile[0] ? fopen(r->cookiefile, "r") : NULL;
	size_t i, n = 0;

	for (i = 0; !r->cookiefile[0] && home && !f && i < 5; i++)
		if (snprintf(path, sizeof path, "%s/.bitcoin/%s.cookie", home,
		    sub[i]) < (int)sizeof path)
			f = fopen(path, "r");
	if (f != NULL) {
		n = fread(text, 1, sizeof text - 1, f);
		fclose(f);
	}
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		n--;
	r->auth[0] = '\0';
	if (n > 0 && n <= RPC_MAX_CRED && memchr(text, ':', n) != NULL) {
		b64(r->auth, (const unsigned char *)text, n);
		r->cookie_bad = 0;
	} else if (!r->cookie_bad) {
		log_warnx("%s: no usable RPC cookie in %s", r->name,
		    r->cookiefile[0] ? r->cookiefile : "$HOME/.bitcoin or "
		    "its testnet3, testnet4, signet, regtest dirs (no rpcuser "
		    "set)");
		r->cookie_bad = 1;
	}
	memset(text, 0, sizeof text);
}

/* Connecting failed with err (ETIMEDOUT: our own deadline). */
static void
connect_error(struct rpc *r, struct conn *c, int err, int64_t now)
{
	if (r->up != 0)
		log_warnx("%s: cannot connect to node at %s: %s; retrying "
		    "with back-off", r->name, r->hosthdr, strerror(err));
	r->up = 0;
	if (now >= r->retry_at) {	/* connects made together fail so */
		r->backoff_ms = r->backoff_ms == 0 ? RPC_BACKOFF_MIN :
		    r->backoff_ms > RPC_BACKOFF_MAX / 2 ? RPC_BACKOFF_MAX :
		    r->backoff_ms * 2;
		r->retry_at = now + r->backoff_ms;
	}
	call_fail(c, c->call, err == ETIMEDOUT ? RPC_ERR_TIMEOUT :
	    RPC_ERR_CONNECT, "cannot connect to node at %s: %s", r->hosthdr,
	    strerror(err));
}

static void
conn_open(struct rpc *r, struct conn *c, int64_t now)
{
	int fl, one = 1;

	if (r->use_cookie)
		cookie_load(r);
	c->st = C_CONNECTING;
	c->http = 0;
	c->conn_deadline = now + r->connect_ms;
	if ((c->fd = socket(r->addr.ss_family, SOCK_STREAM, 0)) < 0 ||
	    (fl = fcntl(c->fd, F_GETFL)) < 0 ||
	    fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(c->fd, F_SETFD, FD_CLOEXEC) < 0 ||
	    (connect(c->fd, (struct sockaddr *)&r->addr, r->addrlen) < 0 &&
	    errno != EINPROGRESS && errno != EINTR))
		connect_error(r, c, errno, now);
	else	/* best effort: the request goes out in one send() anyway */
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Host and auth are bounded, so the request head always fits. */
_Static_assert(RPC_HEAD_MAX > RPC_MAX_HOST + 8 + RPC_MAX_AUTH + 200,
    "RPC_HEAD_MAX");

/* Send c's call: the head goes in the room before the body, so both go
 * out in one send() with no copy of a 4 MB submitblock. */
static void
conn_send(struct rpc *r, struct conn *c)
{
	char head[RPC_HEAD_MAX];
	ssize_t n;

	if (c->st != C_SEND) {
		n = snprintf(head, sizeof head, "POST / HTTP/1.1\r\nHost: %s"
		    "\r\n%s%s%sContent-Type: application/json\r\nContent-"
		    "Length: %zu\r\nConnection: keep-alive\r\n\r\n", r->hosthdr,
		    r->auth[0] ? "Authorization: Basic " : "", r->auth,
		    r->auth[0] ? "\r\n" : "", c->call.len);
		c->out = c->call.buf + RPC_HEAD_MAX - n;
		memcpy(c->out, head, (size_t)n);
		c->outlen = (size_t)n + c->call.len;
		c->got = c->http = 0;
		c->st = C_SEND;
	}
	while (c->outlen > 0) {
		if ((n = send(c->fd, c->out, c->outlen, MSG_NOSIGNAL)) < 0) {
			if (!io_again())
				conn_lost(r, c, errno);
			return;
		}
		c->out += n;
		c->outlen -= (size_t)n;
	}
	c->st = C_STATUS;
	c->len = c->pos = c->blen = 0;
}

/* The one switch over a slot's state when poll() reports its socket. */
static void
conn_io(struct rpc *r, struct conn *c, int64_t now)
{
	int err = 0;
	socklen_t sl = sizeof err;
	char b;

	switch (c->st) {	/* a closed slot has no fd to report */
	case C_CONNECTING:
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
			err = errno;
		if (err != 0) {
			connect_error(r, c, err, now);
			break;
		}
		if (r->up != 1)
			log_info("%s: node at %s %s", r->name, r->hosthdr,
			    r->up == 0 ? "is reachable again" : "connected");
		r->up = 1;
		r->backoff_ms = 0;
		r->retry_at = 0;
		conn_send(r, c);
		break;
	case C_IDLE:
		/* EOF: the node closed an idle keep-alive socket.  Data
		 * nobody asked for ends the socket as well. */
		if (recv(c->fd, &b, 1, 0) >= 0 || !io_again())
			conn_close(c);
		break;
	case C_SEND:
		conn_send(r, c);
		break;
	default:
		conn_read(r, c);
	}
}

/* ---- the loop ------------------------------------------------------ */

/* The slot for the next queued call: an idle socket, else a closed one
 * if connecting is allowed; -1: none.  Connects wait out the back-off,
 * and while the node is down one probe runs at a time. */
static int
slot_free(const struct rpc *r, int64_t now)
{
	int i, closed = -1, probing = 0;

	for (i = 0; i < RPC_MAX_CONN; i++) {
		if (r->conn[i].st == C_IDLE)
			return i;
		if (r->conn[i].st == C_CLOSED && closed < 0)
			closed = i;
		probing |= r->conn[i].st == C_CONNECTING;
	}
	return now < r->retry_at || (r->up == 0 && probing) ? -1 : closed;
}

static void
expire(struct rpc *r, int64_t now)
{
	struct conn *c;
	struct call k;
	int i;

	for (c = r->conn; c < r->conn + RPC_MAX_CONN; c++)
		if (c->st > C_IDLE && now >= c->call.deadline)
			call_fail(c, c->call, RPC_ERR_TIMEOUT,
			    "no reply within %d ms", r->request_ms);
		else if (c->st == C_CONNECTING && now >= c->conn_deadline)
			connect_error(r, c, ETIMEDOUT, now);
	/* Callbacks only append to the queue or empty it. */
	for (i = 0; i < r->qlen; i++)
		if (now >= r->q[i].deadline) {
			q_remove(r, i--, &k);
			call_fail(NULL, k, RPC_ERR_TIMEOUT, "no connection to "
			    "the node within %d ms%s", r->request_ms,
			    r->up == 0 ? " (node unreachable)" : "");
		}
}

void
rpc_handle(struct rpc *r, const struct pollfd *fds, int n, int64_t now_ms)
{
	struct conn *c;
	int i;

	/* Sockets open only after all events are handled, so none sees
	 * revents meant for an old one. */
	for (i = 0; i < n && i < RPC_MAX_CONN; i++) {
		c = &r->conn[i];
		if (c->fd >= 0 && fds[i].fd == c->fd && fds[i].revents != 0)
			conn_io(r, c, now_ms);
	}
	expire(r, now_ms);
	while (r->qlen > 0 && (i = slot_free(r, now_ms)) >= 0) {
		c = &r->conn[i];
		q_remove(r, 0, &c->call);
		if (c->st == C_IDLE)
			conn_send(r, c);
		else
			conn_open(r, c, now_ms);
	}
}

int
rpc_pollfds(struct rpc *r, struct pollfd *fds, int max)
{
	int i;

	if (max < RPC_MAX_CONN)
		return -1;
	for (i = 0; i < RPC_MAX_CONN; i++) {
		fds[i].fd = r->conn[i].fd;
		fds[i].events = r->conn[i].st == C_CONNECTING ||
		    r->conn[i].st == C_SEND ? POLLOUT : POLLIN;
		fds[i].revents = 0;
	}
	return RPC_MAX_CONN;
}

int
rpc_timeout_ms(const struct rpc *r, int64_t now_ms)
{
	int64_t t = RPC_NEVER;
	const struct conn *c;
	int i;

	for (c = r->conn; c < r->conn + RPC_MAX_CONN; c++) {
		if (c->st > C_IDLE && c->call.deadline < t)
			t = c->call.deadline;
		if (c->st == C_CONNECTING && c->conn_deadline < t)
			t = c->conn_deadline;
	}
	for (i = 0; i < r->qlen; i++)
		t = r->q[i].deadline < t ? r->q[i].deadline : t;
	if (r->qlen > 0 && slot_free(r, now_ms) >= 0)
		t = now_ms;	/* rpc_call() only queues: dispatch now */
	else if (r->qlen > 0 && r->retry_at > now_ms && r->retry_at < t)
		t = r->retry_at;
	if (t == RPC_NEVER)
		return -1;
	return t <= now_ms ? 0 : t - now_ms > INT_MAX ? INT_MAX :
	    (int)(t - now_ms);
}

int
rpc_call(struct rpc *r, const char *method, const char *params, int flags,
    rpc_done_fn *done, void *arg)
{
	struct call k;
	struct json_w w;
	size_t cap;
	int n;

	if (r->closing || method == NULL || done == NULL ||
	    r->qlen >= RPC_MAX_QUEUE)
		return -1;
	params = params != NULL ? params : "[]";
	/* 6 bytes per method byte covers \u00XX escapes; 96 the rest. */
	cap = strlen(method) * 6 + strlen(params) + 96;
	if ((k.buf = malloc(RPC_HEAD_MAX + cap)) == NULL)
		return -1;
	json_w_init(&w, k.buf + RPC_HEAD_MAX, cap);
	json_w_obj(&w);
	json_w_key(&w, "jsonrpc");
	json_w_str(&w, "1.0");
	json_w_key(&w, "id");
	json_w_int(&w, r->next_id);
	json_w_key(&w, "method");
	json_w_str(&w, method);
	json_w_key(&w, "params");
	json_w_raw(&w, params, strlen(params));
	json_w_obj_end(&w);
	if ((n = json_w_end(&w)) < 0) {
		free(k.buf);
		return -1;
	}
	k.len = (size_t)n;
	k.id = r->next_id++;
	k.start = rpc_now_ms();
	k.deadline = flags & RPC_F_LONGPOLL ? RPC_NEVER :
	    k.start + r->request_ms;
	k.retried = 0;
	k.done = done;
	k.arg = arg;
	r->q[r->qlen++] = k;
	return 0;
}

void
rpc_cancel_all(struct rpc *r)
{
	struct call k;
	int i, n;

	for (i = 0; i < RPC_MAX_CONN; i++)
		if (r->conn[i].st > C_IDLE)
			call_fail(&r->conn[i], r->conn[i].call,
			    RPC_ERR_CANCELLED, "cancelled");
	/* Only the calls queued now: callbacks may queue new ones. */
	for (n = r->qlen; n > 0 && r->qlen > 0; n--) {
		q_remove(r, 0, &k);
		call_fail(NULL, k, RPC_ERR_CANCELLED, "cancelled");
	}
}

int
rpc_is_up(const struct rpc *r)
{
	return r->up == 1;
}

/* ---- set-up -------------------------------------------------------- */

/* "http://h:p/path", "[v6]:p", "h:p", "v6", "h" -> host, port. */
static int
host_parse(const struct rpc_conf *conf, char *host, int *port)
{
	const char *s = conf->host, *e, *p = NULL, *rb, *colon;
	int64_t v = conf->port;
	size_t n;

	if (strncasecmp(s, "http://", 7) == 0)
		s += 7;
	e = s + strcspn(s, "/");
	n = (size_t)(e - s);
	if (*s == '[') {
		if ((rb = memchr(s, ']', n)) == NULL || (rb + 1 < e &&
		    rb[1] != ':'))
			return -1;
		p = rb + 1 < e ? rb + 2 : NULL;
		n = (size_t)(rb - ++s);
	} else if ((colon = memchr(s, ':', n)) != NULL &&
	    memchr(colon + 1, ':', (size_t)(e - colon - 1)) == NULL) {
		p = colon + 1;	/* one colon: host:port; more: bare IPv6 */
		n = (size_t)(colon - s);
	}
	if (p != NULL)
		v = dec(p, (size_t)(e - p), 65535);
	if (n == 0 || n >= RPC_MAX_HOST || v < 1 || v > 65535)
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	*port = (int)v;
	return 0;
}

/* One address, looked up once; IPv4 first, as Bitcoin Core and bcoin
 * bind 127.0.0.1 by default and "localhost" often lists ::1 first. */
static int
resolve(struct rpc *r, const char *host, int port, char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	char ps[8];
	int rc, v6 = strchr(host, ':') != NULL;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(ps, sizeof ps, "%d", port);
	if ((rc = getaddrinfo(host, ps, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot resolve RPC host %s: %s", host,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai->ai_next != NULL && ai->ai_family != AF_INET;)
		ai = ai->ai_next;
	if (ai->ai_family != AF_INET)
		ai = res;
	memcpy(&r->addr, ai->ai_addr, ai->ai_addrlen);	/* it fits */
	r->addrlen = ai->ai_addrlen;
	freeaddrinfo(res);
	snprintf(r->hosthdr, sizeof r->hosthdr, "%s%s%s:%d", v6 ? "[" : "",
	    host, v6 ? "]" : "", port);
	return 0;
}

struct rpc *
rpc_new(const struct rpc_conf *conf, char *err, size_t errlen)
{
	char host[RPC_MAX_HOST], cred[RPC_MAX_CRED + 1];
	const char *user = conf->user != NULL ? conf->user : "";
	struct rpc *r;
	int i, port, n;

	if (conf->host == NULL || strncasecmp(conf->host, "https:", 6) == 0 ||
	    host_parse(conf, host, &port) < 0) {
		snprintf(err, errlen, "bad RPC host \"%s\" or port %d (plain "
		    "http only; TLS is not supported)", conf->host != NULL ?
		    conf->host : "", conf->port);
		return NULL;
	}
	if ((r = calloc(1, sizeof *r)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (i = 0; i < RPC_MAX_CONN; i++)
		r->conn[i].fd = -1;
	r->up = -1;
	r->next_id = 1;
	r->connect_ms = conf->connect_timeout_ms > 0 ?
	    conf->connect_timeout_ms : RPC_CONNECT_MS;
	r->request_ms = conf->request_timeout_ms > 0 ?
	    conf->request_timeout_ms : RPC_REQUEST_MS;
	r->max_body = conf->max_body > 0 ? conf->max_body : RPC_BODY_MAX;
	snprintf(r->name, sizeof r->name, "%s", conf->name != NULL &&
	    conf->name[0] != '\0' ? conf->name : "node");
	r->use_cookie = user[0] == '\0';
	n = snprintf(cred, sizeof cred, "%s:%s", user,
	    conf->password != NULL ? conf->password : "");
	if (!r->use_cookie && n >= 0 && (size_t)n < sizeof cred)
		b64(r->auth, (const unsigned char *)cred, (size_t)n);
	memset(cred, 0, sizeof cred);
	if (r->max_body > SIZE_MAX / 16)	/* keeps size sums exact */
		snprintf(err, errlen, "max_body too large");
	else if (!r->use_cookie && (n < 0 || (size_t)n >= sizeof cred))
		snprintf(err, errlen, "rpcuser and rpcpassword over %d bytes "
		    "together", RPC_MAX_CRED);
	else if (r->use_cookie && snprintf(r->cookiefile, RPC_MAX_PATH, "%s",
	    conf->cookiefile != NULL ? conf->cookiefile : "") >= RPC_MAX_PATH)
		snprintf(err, errlen, "cookiefile path too long");
	else if (resolve(r, host, port, err, errlen) == 0)
		return r;
	free(r);
	return NULL;
}

void
rpc_free(struct rpc *r)
{
	int i;

	if (r == NULL)
		return;
	r->closing = 1;
	rpc_cancel_all(r);
	for (i = 0; i < RPC_MAX_CONN; i++)
		conn_close(&r->conn[i]);
	memset(r->auth, 0, sizeof r->auth);
	free(r);
}
