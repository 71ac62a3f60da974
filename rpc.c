/*
 * rpc.c - the JSON-RPC client of rpc.h.
 *
 * Each connection slot has one explicit state (enum conn_state), driven by
 * conn_io() when poll() reports its socket and by expire() when a deadline
 * passes.  Calls wait in a small array until dispatch() finds them a slot:
 * an idle keep-alive socket first, else a new connect.
 *
 * A slot's reply buffer holds the decoded body in [0, blen) and the bytes
 * not parsed yet in [pos, len).  A Content-Length body is read in place;
 * chunk data is moved down over the chunk lines, so the body ends up whole
 * for json_parse() without a second copy.  The buffer doubles from
 * RPC_BUF_MIN up to max_body + RPC_MAX_HEADER and is freed after each call:
 * a 2 MB getblocktemplate should not pin megabytes per idle socket.
 *
 * Credentials are kept only as the base64 of the Authorization header and
 * are never logged.
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
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
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
#define RPC_MAX_ADDRS	4	/* addresses of one hostname, tried in turn */
#define RPC_MAX_MSG	512	/* reply->message, with the node's own text */
#define RPC_BUF_MIN	4096
#define RPC_HEAD_MAX	(RPC_MAX_AUTH + RPC_MAX_HOST + 256)
#define RPC_QCAP	(RPC_MAX_QUEUE + RPC_MAX_CONN)	/* + retried calls */
#define RPC_NEVER	INT64_MAX
#define RPC_AUTH_MSG	"node refused RPC credentials: check " \
			"rpcuser/rpcpassword or cookiefile"

#ifdef MSG_NOSIGNAL
#define RPC_SEND_FLAGS	MSG_NOSIGNAL
#else
#define RPC_SEND_FLAGS	0	/* the caller ignores SIGPIPE */
#endif

/* Reply parser results besides an enum rpc_status (those are > 0). */
#define P_GO	0	/* state changed: parse on */
#define P_MORE	(-1)	/* need more bytes */
#define P_DONE	(-2)	/* the reply is complete */

enum conn_state {
	C_CLOSED,	/* no socket */
	C_CONNECTING,	/* connect() in progress; a call waits */
	C_IDLE,		/* open keep-alive socket, no call */
	C_SEND,		/* writing head and body */
	C_HEAD,		/* reading the status line and header fields */
	C_BODY,		/* Content-Length body, want bytes left */
	C_CHUNK_SIZE,	/* chunk-size line; extensions are ignored */
	C_CHUNK_DATA,	/* want bytes of chunk data left */
	C_CHUNK_END,	/* the CRLF after chunk data */
	C_TRAILER,	/* trailer fields after the last chunk */
	C_TO_EOF	/* neither length nor chunked: the body ends at close */
};

struct call {
	char *body;		/* the JSON-RPC request, owned */
	size_t len;
	int64_t id, start;
	int64_t deadline;	/* RPC_NEVER for a long poll */
	int retried;		/* already moved off a stale keep-alive socket */
	rpc_done_fn *done;
	void *arg;
};

struct conn {
	int fd;
	enum conn_state st;
	int reused;		/* a reply was read on this socket before */
	int got;		/* a byte of this call's reply has arrived */
	int tries;		/* addresses tried for this connect */
	int http;		/* status code, 0 before the status line */
	int keep;		/* the socket may carry another request */
	int64_t conn_deadline;
	struct call call;	/* valid unless C_CLOSED or C_IDLE */
	char head[RPC_HEAD_MAX];
	size_t headlen, sent;
	char *buf;
	size_t cap, len, pos, blen;
	size_t want;		/* body or chunk bytes left; trailer bytes */
};

struct rpc {
	char name[64];			/* for logs only */
	char hosthdr[RPC_MAX_HOST + 8];	/* "[::1]:8332", also for logs */
	char cookiefile[RPC_MAX_PATH];
	char auth[RPC_MAX_AUTH];	/* base64 "user:pass", "" for none */
	int use_cookie, cookie_bad;	/* cookie_bad: logged already */
	struct sockaddr_storage addr[RPC_MAX_ADDRS];
	socklen_t addrlen[RPC_MAX_ADDRS];
	int naddr, cur;
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

static int sock_open(struct rpc *, struct conn *, int64_t);
static void conn_send(struct rpc *, struct conn *);

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

/* ---- state changes, each logged once ------------------------------- */

static void
node_up(struct rpc *r)
{
	if (r->up == 0)
		log_info("%s: node at %s is reachable again", r->name,
		    r->hosthdr);
	else if (r->up < 0)
		log_info("%s: connected to node at %s", r->name, r->hosthdr);
	r->up = 1;
	r->backoff_ms = 0;
	r->retry_at = 0;
}

static void
node_down(struct rpc *r, int err, int64_t now)
{
	if (r->up != 0)
		log_warnx("%s: cannot connect to node at %s: %s; retrying "
		    "with back-off", r->name, r->hosthdr, strerror(err));
	r->up = 0;
	if (now < r->retry_at)	/* connects started together fail together */
		return;
	r->backoff_ms = r->backoff_ms == 0 ? RPC_BACKOFF_MIN :
	    r->backoff_ms * 2 > RPC_BACKOFF_MAX ? RPC_BACKOFF_MAX :
	    r->backoff_ms * 2;
	r->retry_at = now + r->backoff_ms;
}

static void
auth_state(struct rpc *r, int refused)
{
	if (refused && !r->refused)
		log_warnx("%s: " RPC_AUTH_MSG, r->name);
	else if (!refused && r->refused)
		log_info("%s: node accepts the RPC credentials again", r->name);
	r->refused = refused;
}

/* ---- the call queue and ending calls --------------------------------- */

static void
q_remove(struct rpc *r, int i, struct call *out)
{
	*out = r->q[i];
	memmove(&r->q[i], &r->q[i + 1], (size_t)(r->qlen - i - 1) *
	    sizeof r->q[0]);
	r->qlen--;
}

static void
q_push_front(struct rpc *r, const struct call *k)
{
	memmove(&r->q[1], &r->q[0], (size_t)r->qlen * sizeof r->q[0]);
	r->q[0] = *k;
	r->qlen++;
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

/* End call k, which no slot or queue entry refers to any more. */
static void
call_end(struct call *k, struct rpc_reply *rep)
{
	rep->elapsed_ms = rpc_now_ms() - k->start;
	k->done(k->arg, rep);
	free(k->body);
}

static void LOG_PRINTF(4, 5)
call_fail(struct call *k, enum rpc_status st, int http, const char *fmt, ...)
{
	char msg[RPC_MAX_MSG];
	struct rpc_reply rep;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	memset(&rep, 0, sizeof rep);
	rep.status = st;
	rep.http_status = http;
	rep.result = -1;
	rep.message = msg;
	call_end(k, &rep);
}

/* Close slot c, then fail its call: the callback may reuse the slot. */
static void
conn_fail(struct conn *c, enum rpc_status st, const char *msg)
{
	struct call k = c->call;
	int http = c->http;

	conn_close(c);
	call_fail(&k, st, http, "%s", msg);
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
	char msg[RPC_MAX_MSG];
	struct call k = c->call;
	int i;

	if (c->reused && !c->got && !k.retried) {
		k.retried = 1;
		for (i = 0; i < RPC_MAX_CONN; i++)
			if (&r->conn[i] == c || r->conn[i].st == C_IDLE)
				conn_close(&r->conn[i]);
		q_push_front(r, &k);
		return;
	}
	snprintf(msg, sizeof msg, "connection lost %s: %s", c->got ?
	    "mid-reply" : "before the reply", err ? strerror(err) :
	    "closed by the node");
	conn_fail(c, RPC_ERR_IO, msg);
}

/* ---- judging a complete reply -------------------------------------- */

static void
reply_eval(const struct json_doc *doc, const struct call *k, int http,
    struct rpc_reply *rep, char *msg)
{
	int err = json_get(doc, 0, "error"), id = json_get(doc, 0, "id"), m;
	int64_t v;

	if (err >= 0 && json_type(doc, err) != JSON_NULL) {
		/* bcoin sends these with HTTP 200, Bitcoin Core with 500 or
		 * 404; some servers send a bare string.  The node's text is
		 * passed on as it is. */
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
	} else if (json_int64(doc, id, &v) < 0 || v != k->id) {
		rep->status = RPC_ERR_JSON;
		snprintf(msg, RPC_MAX_MSG, "reply id does not match the call");
	} else if ((rep->result = json_get(doc, 0, "result")) < 0) {
		rep->status = RPC_ERR_JSON;
		snprintf(msg, RPC_MAX_MSG, "reply has no result");
	}
}

static void
reply_deliver(struct rpc *r, struct call *k, const char *body, size_t len,
    int http)
{
	char msg[RPC_MAX_MSG] = "";
	struct json_tok *toks = NULL;
	struct json_doc doc;
	struct rpc_reply rep;
	int n = json_parse(&doc, body != NULL ? body : "", len, NULL, 0);

	memset(&rep, 0, sizeof rep);
	rep.http_status = http;
	rep.result = -1;
	rep.message = msg;
	auth_state(r, http == 401 || http == 403);
	if (http == 401 || http == 403) {
		rep.status = RPC_ERR_AUTH;
		snprintf(msg, sizeof msg, "%s", RPC_AUTH_MSG);
	} else if (n > 0 && (toks = malloc((size_t)n * sizeof *toks)) == NULL) {
		rep.status = RPC_ERR_NOMEM;
		snprintf(msg, sizeof msg, "no memory for %d JSON tokens", n);
	} else if (n > 0 && json_parse(&doc, body, len, toks, (size_t)n) == n &&
	    json_type(&doc, 0) == JSON_OBJECT) {
		rep.doc = &doc;
		reply_eval(&doc, k, http, &rep, msg);
	} else {
		rep.status = http != 200 ? RPC_ERR_HTTP : RPC_ERR_JSON;
		snprintf(msg, sizeof msg, http != 200 ? "node answered HTTP %d"
		    : "reply (HTTP %d) is not a JSON-RPC object", http);
	}
	call_end(k, &rep);
	free(toks);
}

/* The reply on c is complete: free the slot before the callback (which
 * may start or cancel calls), keeping the body alive through it. */
static void
conn_done(struct rpc *r, struct conn *c)
{
	struct call k = c->call;
	char *buf = c->buf;
	size_t blen = c->blen;
	int http = c->http;

	c->buf = NULL;
	if (c->keep && c->pos == c->len) {
		c->st = C_IDLE;
		c->reused = 1;
		c->cap = c->len = c->pos = c->blen = 0;
	} else {
		conn_close(c);
	}
	reply_deliver(r, &k, buf, blen, http);
	free(buf);
}

/* ---- the HTTP reply parser ------------------------------------------- */

static int
perr(char *msg, int st, const char *text)
{
	snprintf(msg, RPC_MAX_MSG, "%s", text);
	return st;
}

/* The next whole line in buf[*pos, len): its length without CR LF, with
 * *line set and *pos moved past it; -1 when it is not all there yet. */
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

/* 1 when the comma-separated list v (n bytes) holds token t. */
static int
has_token(const char *v, size_t n, const char *t)
{
	size_t i, j, tl = strlen(t);

	for (i = 0; i < n; i = j + 1) {
		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
		for (j = i; j < n && v[j] != ','; j++)
			;
		while (j > i && (v[j - 1] == ' ' || v[j - 1] == '\t'))
			j--;
		if (j - i == tl && strncasecmp(v + i, t, tl) == 0)
			return 1;
		while (j < n && v[j] != ',')
			j++;
	}
	return 0;
}

/* One header field line l (n bytes): length, chunking, keep-alive. */
static int
head_field(struct rpc *r, struct conn *c, const char *l, size_t n,
    int64_t *clen, int *chunked, char *msg)
{
	const char *colon = memchr(l, ':', n), *v, *e = l + n;
	size_t nl, vl, i;
	uint64_t x = 0;

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
	if (nl == 14 && strncasecmp(l, "Content-Length", nl) == 0) {
		for (i = 0; i < vl && v[i] >= '0' && v[i] <= '9'; i++)
			if ((x = x * 10 + (uint64_t)(v[i] - '0')) > r->max_body)
				return perr(msg, RPC_ERR_TOO_BIG,
				    "reply body over the size limit");
		if (vl == 0 || i < vl || (*clen >= 0 && (uint64_t)*clen != x))
			return perr(msg, RPC_ERR_PROTO, "bad Content-Length");
		*clen = (int64_t)x;
	} else if (nl == 17 && strncasecmp(l, "Transfer-Encoding", nl) == 0) {
		if (vl != 7 || strncasecmp(v, "chunked", 7) != 0)
			return perr(msg, RPC_ERR_PROTO,
			    "unsupported Transfer-Encoding");
		*chunked = 1;
	} else if (nl == 10 && strncasecmp(l, "Connection", nl) == 0) {
		if (has_token(v, vl, "close"))
			c->keep = 0;
		else if (has_token(v, vl, "keep-alive"))
			c->keep = 1;
	}
	return P_GO;
}

/* The whole head is in buf[0, end): status line, fields, body framing. */
static int
head_fields(struct rpc *r, struct conn *c, size_t end, char *msg)
{
	const char *l;
	size_t p = 0;
	int n, rc, chunked = 0;
	int64_t clen = -1;

	n = line_next(c->buf, end, &p, &l);
	if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' &&
	    l[7] != '1') || l[8] != ' ' || l[9] < '1' || l[9] > '5' ||
	    l[10] < '0' || l[10] > '9' || l[11] < '0' || l[11] > '9' ||
	    (n > 12 && l[12] != ' '))
		return perr(msg, RPC_ERR_PROTO, "bad HTTP status line");
	c->http = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	c->keep = l[7] == '1';	/* HTTP/1.0 closes unless told otherwise */
	while ((n = line_next(c->buf, end, &p, &l)) > 0)
		if ((rc = head_field(r, c, l, (size_t)n, &clen, &chunked,
		    msg)) != P_GO)
			return rc;
	c->want = clen > 0 ? (size_t)clen : 0;
	if (c->http < 200)
		c->st = C_HEAD;	/* interim 1xx: the real head follows */
	else if (chunked)
		c->st = C_CHUNK_SIZE;
	else if (clen >= 0 || c->http == 204 || c->http == 304)
		c->st = C_BODY;
	else {
		c->st = C_TO_EOF;
		c->keep = 0;
	}
	memmove(c->buf, c->buf + end, c->len - end);
	c->len -= end;
	c->pos = c->blen = 0;
	return P_GO;
}

/* C_HEAD: look for the empty line that ends the head.  pos is where the
 * current unfinished line starts, so a head fed byte by byte is scanned
 * once, not once per byte. */
static int
head_parse(struct rpc *r, struct conn *c, char *msg)
{
	const char *l;
	int n;

	/* Checked early, so garbage fails at once, not at a timeout. */
	if (memcmp(c->buf, "HTTP/", c->len < 5 ? c->len : 5) != 0)
		return perr(msg, RPC_ERR_PROTO, "not an HTTP reply");
	while ((n = line_next(c->buf, c->len, &c->pos, &l)) != 0)
		if (n < 0)
			return c->len > RPC_MAX_HEADER ? perr(msg,
			    RPC_ERR_PROTO, "HTTP head too long") : P_MORE;
	return c->pos > RPC_MAX_HEADER ? perr(msg, RPC_ERR_PROTO,
	    "HTTP head too long") : head_fields(r, c, c->pos, msg);
}

/* C_CHUNK_SIZE, C_CHUNK_END and C_TRAILER each take one line. */
static int
chunk_line(struct rpc *r, struct conn *c, char *msg)
{
	static const char hex[] = "0123456789abcdef0123456789ABCDEF";
	const char *l, *h;
	size_t v = 0;
	int n, i;

	if ((n = line_next(c->buf, c->len, &c->pos, &l)) > RPC_MAX_HEADER ||
	    (n < 0 && c->len - c->pos > RPC_MAX_HEADER))
		return perr(msg, RPC_ERR_PROTO, "chunk line too long");
	if (n < 0)
		return P_MORE;
	if (c->st == C_CHUNK_END) {
		c->st = C_CHUNK_SIZE;
		return n == 0 ? P_GO : perr(msg, RPC_ERR_PROTO,
		    "no CRLF after chunk data");
	}
	if (c->st == C_TRAILER) {	/* want counts trailer bytes */
		if (n == 0)
			return P_DONE;
		c->want += (size_t)n;
		return c->want > RPC_MAX_HEADER ? perr(msg, RPC_ERR_PROTO,
		    "HTTP trailer too long") : P_GO;
	}
	/* max_body <= SIZE_MAX / 16 (rpc_new), so v * 16 + 15 fits. */
	for (i = 0; i < n && l[i] != '\0' && (h = strchr(hex, l[i])) != NULL;
	    i++)
		if ((v = v * 16 + (size_t)(h - hex) % 16) > r->max_body - c->blen)
			return perr(msg, RPC_ERR_TOO_BIG,
			    "reply body over the size limit");
	while (i < n && (l[i] == ' ' || l[i] == '\t'))
		i++;
	if (i == 0 || (i < n && l[i] != ';'))
		return perr(msg, RPC_ERR_PROTO, "bad chunk size");
	c->want = v;
	c->st = v == 0 ? C_TRAILER : C_CHUNK_DATA;
	return P_GO;
}

/* Consume what the buffer holds: P_MORE, P_DONE, or an error status with
 * msg set.  The one switch over the reply states. */
static int
conn_parse(struct rpc *r, struct conn *c, char *msg)
{
	size_t n;
	int rc;

	for (;;) {
		n = c->len - c->pos < c->want ? c->len - c->pos : c->want;
		switch (c->st) {
		case C_HEAD:
			if ((rc = head_parse(r, c, msg)) != P_GO)
				return rc;
			break;
		case C_BODY:
			c->pos += n;
			c->blen += n;
			c->want -= n;
			return c->want == 0 ? P_DONE : P_MORE;
		case C_TO_EOF:
			c->pos = c->blen = c->len;
			return c->blen > r->max_body ? perr(msg,
			    RPC_ERR_TOO_BIG, "reply body over the size limit") :
			    P_MORE;
		case C_CHUNK_DATA:
			memmove(c->buf + c->blen, c->buf + c->pos, n);
			c->pos += n;
			c->blen += n;
			if ((c->want -= n) > 0)
				return P_MORE;
			c->st = C_CHUNK_END;
			break;
		default:	/* the chunk lines */
			if ((rc = chunk_line(r, c, msg)) != P_GO)
				return rc;
			break;
		}
	}
}

/* Room for one more byte at least: doubling, up to max_body + head. */
static int
buf_grow(struct rpc *r, struct conn *c, char *msg)
{
	size_t lim = r->max_body + RPC_MAX_HEADER;
	size_t ncap = c->cap == 0 ? RPC_BUF_MIN : c->cap * 2;
	char *p;

	if (c->cap >= lim)
		return perr(msg, RPC_ERR_TOO_BIG, "reply over the size limit");
	if ((p = realloc(c->buf, ncap < lim ? ncap : lim)) == NULL)
		return perr(msg, RPC_ERR_NOMEM, "no memory for the reply");
	c->buf = p;
	c->cap = ncap < lim ? ncap : lim;
	return 0;
}

static void
conn_read(struct rpc *r, struct conn *c)
{
	char msg[RPC_MAX_MSG];
	ssize_t n;
	int rc = P_MORE, g;

	while (rc == P_MORE) {
		if (c->len == c->cap && (g = buf_grow(r, c, msg)) != 0) {
			rc = g;
			break;
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n == 0 && c->st == C_TO_EOF)
			rc = P_DONE;
		else if (n <= 0) {
			conn_lost(r, c, n < 0 ? errno : 0);
			return;
		} else {
			c->got = 1;
			c->len += (size_t)n;
			rc = conn_parse(r, c, msg);
		}
		if (rc == P_MORE && c->st != C_HEAD) {	/* drop chunk lines */
			memmove(c->buf + c->blen, c->buf + c->pos,
			    c->len - c->pos);
			c->len -= c->pos - c->blen;
			c->pos = c->blen;
		}
	}
	if (rc == P_DONE)
		conn_done(r, c);
	else
		conn_fail(c, (enum rpc_status)rc, msg);
}

/* ---- connecting and sending ------------------------------------------ */

/* Re-read the node's cookie, which it rewrites at every start: cookiefile,
 * else the first default data dir that has one.  Without one the call
 * goes out unauthenticated and the node's 401 ends it. */
static void
cookie_load(struct rpc *r)
{
	static const char *const sub[] = { "", "testnet3/", "testnet4/",
	    "signet/", "regtest/" };
	char path[RPC_MAX_PATH], text[RPC_MAX_CRED + 2];
	const char *home = getenv("HOME");
	FILE *f = r->cookiefile[0] ? fopen(r->cookiefile, "r") : NULL;
	size_t i, n = 0;

	for (i = 0; !r->cookiefile[0] && home && !f &&
	    i < sizeof sub / sizeof sub[0]; i++)
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
		    r->cookiefile[0] ? r->cookiefile : "$HOME/.bitcoin or its "
		    "testnet3, testnet4, signet, regtest dirs (no rpcuser set)");
		r->cookie_bad = 1;
	}
	memset(text, 0, sizeof text);
}

/* Connecting failed with err (ETIMEDOUT for our own deadline): try the
 * host's next address, else fail the call and back off. */
static void
connect_error(struct rpc *r, struct conn *c, int err, int64_t now)
{
	struct call k = c->call;

	conn_close(c);
	r->cur = (r->cur + 1) % r->naddr;
	if (++c->tries < r->naddr) {
		if ((err = sock_open(r, c, now)) != 0)
			connect_error(r, c, err, now);
		return;
	}
	node_down(r, err, now);
	call_fail(&k, err == ETIMEDOUT ? RPC_ERR_TIMEOUT : RPC_ERR_CONNECT, 0,
	    "cannot connect to node at %s: %s", r->hosthdr, strerror(err));
}

/* A non-blocking socket to the current address, connect() started; poll
 * reports it writable once connected.  Returns 0 or an errno. */
static int
sock_open(struct rpc *r, struct conn *c, int64_t now)
{
	const struct sockaddr *a = (const struct sockaddr *)&r->addr[r->cur];
	int fl, one = 1;

	if (r->use_cookie)
		cookie_load(r);
	c->st = C_CONNECTING;
	c->conn_deadline = now + r->connect_ms;
	if ((c->fd = socket(a->sa_family, SOCK_STREAM, 0)) < 0 ||
	    (fl = fcntl(c->fd, F_GETFL)) < 0 ||
	    fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(c->fd, F_SETFD, FD_CLOEXEC) < 0)
		return errno;
	/* Best effort: one sendmsg() per request anyway. */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#ifdef SO_NOSIGPIPE
	setsockopt(c->fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
	if (connect(c->fd, a, r->addrlen[r->cur]) < 0 && errno != EINPROGRESS &&
	    errno != EINTR)
		return errno;
	return 0;
}

/* Write the head for c's call and start sending it. */
static void
send_start(struct rpc *r, struct conn *c)
{
	int n = snprintf(c->head, sizeof c->head, "POST / HTTP/1.1\r\n"
	    "Host: %s\r\n%s%s%sContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\nConnection: keep-alive\r\n\r\n",
	    r->hosthdr, r->auth[0] ? "Authorization: Basic " : "", r->auth,
	    r->auth[0] ? "\r\n" : "", c->call.len);

	if (n < 0 || (size_t)n >= sizeof c->head) {	/* bounded above */
		conn_fail(c, RPC_ERR_NOMEM, "request head too long");
		return;
	}
	c->headlen = (size_t)n;
	c->sent = 0;
	c->got = c->http = 0;
	c->st = C_SEND;
	conn_send(r, c);
}

/* Head and body in one sendmsg(): no copy of a 4 MB submitblock and no
 * small first segment; a partial write resumes at c->sent. */
static void
conn_send(struct rpc *r, struct conn *c)
{
	size_t total = c->headlen + c->call.len, off;
	struct iovec iov[2];
	struct msghdr m;
	ssize_t n;

	while (c->sent < total) {
		memset(&m, 0, sizeof m);
		m.msg_iov = iov;
		m.msg_iovlen = 0;
		if (c->sent < c->headlen) {
			iov[0].iov_base = c->head + c->sent;
			iov[0].iov_len = c->headlen - c->sent;
			m.msg_iovlen = 1;
		}
		off = c->sent < c->headlen ? 0 : c->sent - c->headlen;
		iov[m.msg_iovlen].iov_base = c->call.body + off;
		iov[m.msg_iovlen++].iov_len = c->call.len - off;
		n = sendmsg(c->fd, &m, RPC_SEND_FLAGS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			conn_lost(r, c, errno);
			return;
		}
		c->sent += (size_t)n;
	}
	c->st = C_HEAD;
	c->len = c->pos = c->blen = 0;
}

/* The one switch over a slot's state when poll() reports its socket. */
static void
conn_io(struct rpc *r, struct conn *c, int64_t now)
{
	int err = 0;
	socklen_t sl = sizeof err;
	char b;

	switch (c->st) {
	case C_CLOSED:
		break;
	case C_CONNECTING:
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
			err = errno;
		if (err != 0) {
			connect_error(r, c, err, now);
			break;
		}
		node_up(r);
		send_start(r, c);
		break;
	case C_IDLE:
		/* EOF: the node closed an idle keep-alive socket.  Data
		 * nobody asked for ends the socket as well. */
		if (recv(c->fd, &b, 1, 0) >= 0 || (errno != EAGAIN &&
		    errno != EWOULDBLOCK && errno != EINTR))
			conn_close(c);
		break;
	case C_SEND:
		conn_send(r, c);
		break;
	default:
		conn_read(r, c);
		break;
	}
}

/* ---- the loop ------------------------------------------------------------- */

static int
conn_busy(const struct conn *c)
{
	return c->st != C_CLOSED && c->st != C_IDLE;
}

/*
 * The slot for the next queued call: an idle socket, else a closed slot
 * when connecting is allowed; -1 when none.  New connects wait out the
 * back-off, and while the node is down only one probe runs at a time, so
 * a dead node costs one attempt per back-off period.
 */
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
	if (now < r->retry_at || (r->up == 0 && probing))
		return -1;
	return closed;
}

static void
dispatch(struct rpc *r, int64_t now)
{
	struct conn *c;
	int i, err;

	while (r->qlen > 0 && (i = slot_free(r, now)) >= 0) {
		c = &r->conn[i];
		q_remove(r, 0, &c->call);
		if (c->st == C_IDLE) {
			send_start(r, c);
		} else {
			c->tries = 0;
			if ((err = sock_open(r, c, now)) != 0)
				connect_error(r, c, err, now);
		}
	}
}

static void
expire(struct rpc *r, int64_t now)
{
	char msg[RPC_MAX_MSG];
	struct conn *c;
	struct call k;
	int i;

	snprintf(msg, sizeof msg, "no reply within %d ms", r->request_ms);
	for (i = 0; i < RPC_MAX_CONN; i++) {
		c = &r->conn[i];
		if (conn_busy(c) && now >= c->call.deadline)
			conn_fail(c, RPC_ERR_TIMEOUT, msg);
		else if (c->st == C_CONNECTING && now >= c->conn_deadline)
			connect_error(r, c, ETIMEDOUT, now);
	}
	/* A callback may queue calls: rescan after each one. */
	for (i = 0; i < r->qlen; i++) {
		if (now < r->q[i].deadline)
			continue;
		q_remove(r, i, &k);
		call_fail(&k, RPC_ERR_TIMEOUT, 0, "no connection to the node "
		    "within %d ms%s", r->request_ms, r->up == 0 ?
		    " (node unreachable)" : "");
		i = -1;
	}
}

void
rpc_handle(struct rpc *r, const struct pollfd *fds, int n, int64_t now_ms)
{
	struct conn *c;
	int i;

	/* Sockets are only opened after every slot's events are handled, so
	 * a new socket never sees revents meant for an old one (a failed
	 * connect's next address reopens only its own, finished slot). */
	for (i = 0; i < n && i < RPC_MAX_CONN; i++) {
		c = &r->conn[i];
		if (c->fd >= 0 && fds[i].fd == c->fd && fds[i].revents != 0)
			conn_io(r, c, now_ms);
	}
	expire(r, now_ms);
	dispatch(r, now_ms);
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

	for (i = 0; i < RPC_MAX_CONN; i++) {
		c = &r->conn[i];
		if (conn_busy(c) && c->call.deadline < t)
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
	memset(&k, 0, sizeof k);
	if ((k.body = malloc(cap)) == NULL)
		return -1;
	json_w_init(&w, k.body, cap);
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
		free(k.body);
		return -1;
	}
	k.len = (size_t)n;
	k.id = r->next_id++;
	k.start = rpc_now_ms();
	k.deadline = flags & RPC_F_LONGPOLL ? RPC_NEVER :
	    k.start + r->request_ms;
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
		if (conn_busy(&r->conn[i]))
			conn_fail(&r->conn[i], RPC_ERR_CANCELLED, "cancelled");
	/* Only the calls queued now: callbacks may queue new ones. */
	for (n = r->qlen; n > 0 && r->qlen > 0; n--) {
		q_remove(r, 0, &k);
		call_fail(&k, RPC_ERR_CANCELLED, 0, "cancelled");
	}
}

int
rpc_is_up(const struct rpc *r)
{
	return r->up == 1;
}

/* ---- set-up ---------------------------------------------------------------- */

/* "http://h:p/path", "[v6]:p", "h:p", "v6", "h" -> host, port. */
static int
host_parse(const struct rpc_conf *conf, char *host, int *port)
{
	const char *s = conf->host, *e, *p = NULL, *rb, *colon;
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
	if (n == 0 || n >= RPC_MAX_HOST)
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	*port = conf->port;
	if (p != NULL)
		for (*port = p < e ? 0 : -1; p < e && *port <= 65535; p++)
			*port = *p >= '0' && *p <= '9' ? *port * 10 +
			    (*p - '0') : INT_MAX;
	return *port >= 1 && *port <= 65535 ? 0 : -1;
}

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
	for (ai = res; ai != NULL && r->naddr < RPC_MAX_ADDRS; ai = ai->ai_next)
		if (ai->ai_addrlen <= sizeof r->addr[0]) {
			memcpy(&r->addr[r->naddr], ai->ai_addr, ai->ai_addrlen);
			r->addrlen[r->naddr++] = ai->ai_addrlen;
		}
	freeaddrinfo(res);
	snprintf(r->hosthdr, sizeof r->hosthdr, "%s%s%s:%d", v6 ? "[" : "",
	    host, v6 ? "]" : "", port);
	if (r->naddr == 0)
		snprintf(err, errlen, "no address for RPC host %s", host);
	return r->naddr > 0 ? 0 : -1;
}

static int
conf_copy(struct rpc *r, const struct rpc_conf *c, char *err, size_t errlen)
{
	char cred[RPC_MAX_CRED + 1];
	int n;

	r->connect_ms = c->connect_timeout_ms > 0 ? c->connect_timeout_ms :
	    RPC_CONNECT_MS;
	r->request_ms = c->request_timeout_ms > 0 ? c->request_timeout_ms :
	    RPC_REQUEST_MS;
	r->max_body = c->max_body > 0 ? c->max_body : RPC_BODY_MAX;
	snprintf(r->name, sizeof r->name, "%s", c->name != NULL &&
	    c->name[0] != '\0' ? c->name : "node");
	if (r->max_body > SIZE_MAX / 16)	/* keeps size sums exact */
		return snprintf(err, errlen, "max_body too large"), -1;
	if (c->user == NULL || c->user[0] == '\0') {
		r->use_cookie = 1;
		n = snprintf(r->cookiefile, sizeof r->cookiefile, "%s",
		    c->cookiefile != NULL ? c->cookiefile : "");
		if (n < 0 || (size_t)n >= sizeof r->cookiefile)
			return snprintf(err, errlen, "cookiefile path too "
			    "long"), -1;
		return 0;
	}
	n = snprintf(cred, sizeof cred, "%s:%s", c->user,
	    c->password != NULL ? c->password : "");
	if (n > 0 && (size_t)n < sizeof cred)
		b64(r->auth, (const unsigned char *)cred, (size_t)n);
	memset(cred, 0, sizeof cred);
	if (n < 0 || (size_t)n >= sizeof cred)
		return snprintf(err, errlen, "rpcuser and rpcpassword over "
		    "%d bytes together", RPC_MAX_CRED), -1;
	return 0;
}

struct rpc *
rpc_new(const struct rpc_conf *conf, char *err, size_t errlen)
{
	char host[RPC_MAX_HOST];
	struct rpc *r;
	int i, port;

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
	if (conf_copy(r, conf, err, errlen) < 0 ||
	    resolve(r, host, port, err, errlen) < 0) {
		free(r);
		return NULL;
	}
	return r;
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
