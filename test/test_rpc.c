/*
 * test_rpc.c - the RPC client against a scripted HTTP server on loopback.
 *
 * The server is a forked child (its own process group) that accepts on
 * 127.0.0.1 and forks one handler per connection.  A handler reads each
 * request, copies it to a report pipe the parent drains, and acts by the
 * request's method name: "echo" answers the params as the result, "split"
 * sends a reply in two parts, "stall" never answers, and so on (see
 * srv_act).  The parent drives the client with its own poll() loop, bounded
 * by wall-clock limits; every child is killed and reaped at the end, and
 * has an alarm() in case the parent dies first.
 *
 * stderr is captured to a file so the log can be checked: state changes
 * logged once, credentials never.  It is copied back to stderr at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "rpc.h"
#include "test.h"

#define SRV_LIFE_S	60	/* children kill themselves after this */
#define SRV_MAX		65536	/* request and reply buffers */
#define REPORT_MAX	(1 << 20)
#define CALL_LIMIT_MS	5000	/* wall-clock bound for one call */

#define USER		"alice"
#define PASS		"s3cret!"
#define B64_USERPASS	"YWxpY2U6czNjcmV0IQ=="	/* base64("alice:s3cret!") */

static int rep_fd[2] = { -1, -1 };	/* server -> parent request copies */
static char report[REPORT_MAX];
static size_t report_len;
static char logpath[64];
static int logfd = -1, saved_stderr = -1;

/* ---- small helpers for both sides ---------------------------------- */

static void
msleep(int ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void
send_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(0);	/* the client went away */
		p += w;
		n -= (size_t)w;
	}
}

/* A listening socket on 127.0.0.1, any port; *port receives it.
 * backlog 0 means bound but not listening (connects are refused). */
static int
listener(int *port, int backlog)
{
	struct sockaddr_in a;
	socklen_t al = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    (backlog > 0 && listen(fd, backlog) < 0) ||
	    getsockname(fd, (struct sockaddr *)&a, &al) < 0) {
		perror("listener");
		exit(99);
	}
	*port = ntohs(a.sin_port);
	return fd;
}

/* The reply for "split" and "bytewise": variant 0 with Content-Length,
 * 1 chunked with extensions and a trailer.  Its length does not depend
 * on the id (padded with spaces, which JSON allows). */
static int
split_reply(char *out, size_t cap, int v, long id)
{
	char body[128];
	int n = snprintf(body, sizeof body,
	    "{\"result\":[7,\"x\"],\"error\":null,\"id\":%6ld}", id);

	if (v == 0)
		return snprintf(out, cap, "HTTP/1.1 200 OK\r\nContent-Type: "
		    "application/json\r\nContent-Length: %d\r\n\r\n%s", n, body);
	return snprintf(out, cap, "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n7;ext=\"a b\";x\r\n%.7s\r\n%X\r\n%s\r\n"
	    "0\r\nX-Trailer: yes\r\n\r\n", body, (unsigned)(n - 7), body + 7);
}

/* ---- the server (children only) ------------------------------------ */

struct sreq {
	char buf[SRV_MAX];
	size_t len;
	char method[32];
	const char *params;	/* raw params text, up to the final '}' */
	size_t plen;
	long p[3];		/* leading numeric params */
	long id;
	int authed;
};

/* One request off fd (blocking); 0 at EOF. */
static int
srv_read(int fd, struct sreq *q)
{
	char *e, *s;
	ssize_t n;
	size_t need = 0;
	int i;

	q->len = 0;
	q->buf[0] = '\0';
	memset(q->p, 0, sizeof q->p);
	for (;;) {
		e = strstr(q->buf, "\r\n\r\n");
		if (e != NULL && need == 0 && (s = strstr(q->buf,
		    "Content-Length: ")) != NULL)
			need = (size_t)(e + 4 - q->buf) + strtoul(s + 16, NULL, 10);
		if (need > 0 && q->len >= need)
			break;
		n = recv(fd, q->buf + q->len, sizeof q->buf - 1 - q->len, 0);
		if (n <= 0)
			return 0;
		q->len += (size_t)n;
		q->buf[q->len] = '\0';
	}
	if (write(rep_fd[1], q->buf, q->len) < 0)
		_exit(1);
	q->authed = strstr(q->buf, "\r\nAuthorization: Basic ") != NULL;
	q->id = (s = strstr(q->buf, "\"id\":")) ? strtol(s + 5, NULL, 10) : 0;
	q->method[0] = '\0';
	if ((s = strstr(q->buf, "\"method\":\"")) != NULL)
		sscanf(s + 10, "%31[a-z0-9_]", q->method);
	q->params = "[]";
	q->plen = 2;
	if ((s = strstr(q->buf, "\"params\":")) != NULL) {
		q->params = s + 9;
		q->plen = (size_t)(q->buf + q->len - 1 - q->params);
		for (i = 0, s += 10; i < 3; i++, s++)
			if ((q->p[i] = strtol(s, &s, 10)), *s != ',')
				break;
	}
	return 1;
}

static void
srv_reply(int fd, const char *status, const char *hdrs, const char *body)
{
	static char out[SRV_MAX * 2];
	int n = snprintf(out, sizeof out, "HTTP/1.1 %s\r\n%sContent-Length: "
	    "%zu\r\n\r\n%s", status, hdrs, strlen(body), body);

	send_all(fd, out, (size_t)n);
}

/* {"result":<params>,"error":null,"id":<id>} */
static void
srv_echo(int fd, const struct sreq *q, long id)
{
	char body[SRV_MAX];

	snprintf(body, sizeof body, "{\"result\":%.*s,\"error\":null,\"id\":%ld}",
	    (int)q->plen, q->params, id);
	srv_reply(fd, "200 OK", "Content-Type: application/json\r\n", body);
}

/* Body of exactly n bytes: {"result":"aaa...","error":null,"id":id}. */
static void
srv_big(int fd, const struct sreq *q)
{
	static char body[SRV_MAX], out[SRV_MAX * 2];
	long n = q->p[0], v = q->p[1], pad, i, len;
	int h;

	pad = n - snprintf(body, sizeof body,
	    "{\"result\":\"\",\"error\":null,\"id\":%ld}", q->id);
	snprintf(body, sizeof body, "{\"result\":\"%0*d\",\"error\":null,"
	    "\"id\":%ld}", (int)pad, 0, q->id);
	if (v == 0) {
		srv_reply(fd, "200 OK", "", body);
		return;
	}
	h = snprintf(out, sizeof out, "HTTP/1.1 200 OK\r\n%s\r\n", v == 1 ?
	    "Transfer-Encoding: chunked\r\n" : "");
	for (i = 0, len = h; v == 1 && i < n; i += 300)
		len += snprintf(out + len, sizeof out - (size_t)len,
		    "%lx\r\n%.300s\r\n", (unsigned long)(n - i < 300 ? n - i :
		    300), body + i);
	len += snprintf(out + len, sizeof out - (size_t)len, "%s",
	    v == 1 ? "0\r\n\r\n" : body);
	send_all(fd, out, (size_t)len);
	if (v == 2)
		_exit(0);
}

static const char *const garbage[] = {
	"SSH-2.0-OpenSSH_9.6\r\n",
	"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	"HTTP/1.1 2000 OK\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Length: 13\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
};

/* Act on one request by its method name.  Returns 0 to close.  One long
 * if-chain on purpose: the whole server script reads in one place. */
static int
srv_act(int fd, const struct sreq *q)
{
	char out[SRV_MAX], b[64];
	int n, i;

	if (!q->authed) {
		srv_reply(fd, "401 Unauthorized", "WWW-Authenticate: Basic "
		    "realm=\"jsonrpc\"\r\n", "");
		return 1;
	}
	if (strcmp(q->method, "echo") == 0) {
		srv_echo(fd, q, q->id);
	} else if (strcmp(q->method, "interim") == 0) {
		send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25);
		srv_echo(fd, q, q->id);
	} else if (strcmp(q->method, "split") == 0) {
		n = split_reply(out, sizeof out, (int)q->p[1], q->id);
		send_all(fd, out, (size_t)q->p[0]);
		msleep(1);
		send_all(fd, out + q->p[0], (size_t)(n - q->p[0]));
	} else if (strcmp(q->method, "bytewise") == 0) {
		n = split_reply(out, sizeof out, (int)q->p[0], q->id);
		for (i = 0; i < n; i++, msleep(1))
			send_all(fd, out + i, 1);
	} else if (strcmp(q->method, "close_after") == 0) {
		srv_echo(fd, q, q->id);
		return 0;
	} else if (strcmp(q->method, "rst_after") == 0) {
		srv_echo(fd, q, q->id);
		msleep((int)q->p[0]);	/* meanwhile the next request comes */
		return 0;
	} else if (strcmp(q->method, "slow") == 0) {
		msleep((int)q->p[0]);
		srv_echo(fd, q, q->id);
	} else if (strcmp(q->method, "stall") == 0) {
		while (recv(fd, b, sizeof b, 0) > 0)
			;
		return 0;
	} else if (strcmp(q->method, "hangup") == 0) {
		return 0;
	} else if (strcmp(q->method, "cut") == 0) {
		const char *cut[] = {
		    "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"result\":",
		    ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "40\r\n{\"result\":"), "HTTP/1.1 200 OK\r\nContent-" };
		send_all(fd, cut[q->p[0]], strlen(cut[q->p[0]]));
		return 0;
	} else if (strcmp(q->method, "garbage") == 0) {
		send_all(fd, garbage[q->p[0]], strlen(garbage[q->p[0]]));
		while (recv(fd, b, sizeof b, 0) > 0)
			;
		return 0;
	} else if (strcmp(q->method, "err500") == 0 ||
	    strcmp(q->method, "err200") == 0) {
		snprintf(out, sizeof out, "{\"result\":null,\"error\":{\"code\":"
		    "-8,\"message\":\"Block height out of range\"},\"id\":%ld}",
		    q->id);
		srv_reply(fd, q->method[3] == '5' ? "500 Internal Server Error" :
		    "200 OK", "Content-Type: application/json\r\n", out);
	} else if (strcmp(q->method, "badid") == 0) {
		srv_echo(fd, q, q->id + 1000);
	} else if (strcmp(q->method, "notjson") == 0) {
		srv_reply(fd, "200 OK", "", "hello");
	} else if (strcmp(q->method, "html503") == 0) {
		srv_reply(fd, "503 Service Unavailable",
		    "Content-Type: text/html\r\n", "<html>busy</html>");
	} else if (strcmp(q->method, "noresult") == 0) {
		snprintf(out, sizeof out, "{\"error\":null,\"id\":%ld}", q->id);
		srv_reply(fd, "200 OK", "", out);
	} else if (strcmp(q->method, "big") == 0) {
		srv_big(fd, q);
	} else if (strcmp(q->method, "http10") == 0) {
		/* [0]: the body ends at close; [1]: Content-Length, and the
		 * client must close as HTTP/1.0 has no keep-alive by default */
		n = snprintf(b, sizeof b, "{\"result\":10,\"error\":null,"
		    "\"id\":%ld}", q->id);
		if (q->p[0])
			n = snprintf(out, sizeof out, "HTTP/1.0 200 OK\r\n"
			    "Content-Length: %d\r\n\r\n%s", n, b);
		else
			n = snprintf(out, sizeof out, "HTTP/1.0 200 OK\r\n"
			    "\r\n%s", b);
		send_all(fd, out, (size_t)n);
		return q->p[0] != 0;
	} else if (strcmp(q->method, "connclose") == 0) {
		snprintf(out, sizeof out, "{\"result\":11,\"error\":null,"
		    "\"id\":%ld}", q->id);
		srv_reply(fd, "200 OK", "Connection: close\r\n", out);
		return 0;
	} else {
		snprintf(out, sizeof out, "{\"result\":null,\"error\":{\"code\":"
		    "-32601,\"message\":\"Method not found\"},\"id\":%ld}", q->id);
		srv_reply(fd, "404 Not Found", "", out);
	}
	return 1;
}

static void
srv_conn(int fd)
{
	static struct sreq q;
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	while (srv_read(fd, &q) && srv_act(fd, &q))
		;
	close(fd);
}

/* Fork the server on listening socket lfd; returns its pid (= pgid). */
static pid_t
srv_start(int lfd)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0) {
		perror("fork");
		exit(99);
	}
	if (pid > 0) {
		setpgid(pid, pid);
		close(lfd);
		return pid;
	}
	setpgid(0, 0);
	signal(SIGCHLD, SIG_IGN);	/* handlers reap themselves */
	alarm(SRV_LIFE_S);
	close(rep_fd[0]);
	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) < 0)
			continue;
		if (write(rep_fd[1], "#accept\n", 8) < 0)
			_exit(1);
		if (fork() == 0) {
			alarm(SRV_LIFE_S);
			close(lfd);
			srv_conn(fd);
			_exit(0);
		}
		close(fd);
	}
}

static void
srv_stop(pid_t pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* ---- the parent's loop ------------------------------------------------- */

struct res {
	int done;
	enum rpc_status st;
	int http;
	int64_t code;
	char msg[512];
	char result[1024];	/* the raw JSON text of "result" */
	int64_t elapsed;
};

static int pending;
static int64_t all_end;		/* wall-clock bound for the whole test */
static struct rpc *chain_r;	/* set: on_done() makes the next call itself */
static struct res *chain_res;

static void
report_drain(void)
{
	ssize_t n;

	while (report_len < sizeof report - 1 && (n = read(rep_fd[0],
	    report + report_len, sizeof report - 1 - report_len)) > 0)
		report_len += (size_t)n;
	report[report_len] = '\0';
}

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static void
on_done(void *arg, const struct rpc_reply *rep)
{
	struct res *x = arg;
	const struct json_tok *t;

	memset(x, 0, sizeof *x);
	x->done = 1;
	x->st = rep->status;
	x->http = rep->http_status;
	x->code = rep->code;
	x->elapsed = rep->elapsed_ms;
	snprintf(x->msg, sizeof x->msg, "%s", rep->message ? rep->message : "");
	if (rep->doc != NULL && rep->result >= 0) {
		t = &rep->doc->toks[rep->result];
		snprintf(x->result, sizeof x->result, "%.*s", (int)t->len,
		    rep->doc->src + t->start);
	}
	pending--;
	if (chain_r != NULL) {	/* a call started from inside a callback */
		pending++;
		CHECK(rpc_call(chain_r, "echo", "[2]", 0, on_done,
		    chain_res) == 0);
		chain_r = NULL;
	}
}

/* Run the loop until no call is pending, or for ms when wait is set. */
static void
run(struct rpc *r, int ms, int wait)
{
	struct pollfd fds[RPC_MAX_CONN + 1];
	int64_t now = rpc_now_ms(), end = now + ms;
	int n, t;

	end = end < all_end ? end : all_end;
	while ((wait || pending > 0) && now < end) {
		n = rpc_pollfds(r, fds, RPC_MAX_CONN);
		fds[n].fd = rep_fd[0];
		fds[n].events = POLLIN;
		t = rpc_timeout_ms(r, now);
		if (t < 0 || t > end - now)
			t = (int)(end - now);
		poll(fds, (nfds_t)n + 1, t);
		report_drain();
		now = rpc_now_ms();
		rpc_handle(r, fds, n, now);
	}
	report_drain();
}

static enum rpc_status
call(struct rpc *r, const char *method, const char *params, int flags,
    struct res *x)
{
	memset(x, 0, sizeof *x);
	x->st = (enum rpc_status)-1;
	pending++;
	if (rpc_call(r, method, params, flags, on_done, x) < 0) {
		pending--;
		return (enum rpc_status)-1;
	}
	run(r, CALL_LIMIT_MS, 0);
	return x->st;
}

static struct rpc *
client(int port, int timeout_ms, size_t max_body, int connect_ms)
{
	struct rpc_conf c;
	char err[256];
	struct rpc *r;

	memset(&c, 0, sizeof c);
	c.host = "http://127.0.0.1";
	c.port = port;
	c.user = USER;
	c.password = PASS;
	c.request_timeout_ms = timeout_ms;
	c.connect_timeout_ms = connect_ms;
	c.max_body = max_body;
	c.name = "testnode";
	r = rpc_new(&c, err, sizeof err);
	CHECKF(r != NULL, "%s", err);
	return r;
}

static int
open_fds(struct rpc *r)
{
	struct pollfd fds[RPC_MAX_CONN];
	int i, n = 0;

	rpc_pollfds(r, fds, RPC_MAX_CONN);
	for (i = 0; i < RPC_MAX_CONN; i++)
		n += fds[i].fd >= 0;
	return n;
}

/* ---- the log capture ----------------------------------------------------- */

static void
log_capture(void)
{
	snprintf(logpath, sizeof logpath, "/tmp/test_rpc_log.%ld",
	    (long)getpid());
	logfd = open(logpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	saved_stderr = dup(2);
	if (logfd < 0 || saved_stderr < 0 || dup2(logfd, 2) < 0) {
		perror("log capture");
		exit(99);
	}
}

/* The log text from offset from on, in buf (cap bytes). */
static const char *
log_text(long from, char *buf, size_t cap)
{
	ssize_t n;

	fflush(stderr);
	n = pread(logfd, buf, cap - 1, from);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static long
log_mark(void)
{
	struct stat st;

	fflush(stderr);
	return fstat(logfd, &st) == 0 ? (long)st.st_size : 0;
}

static void
log_release(void)
{
	static char buf[1 << 18];
	size_t n = strlen(log_text(0, buf, sizeof buf));

	dup2(saved_stderr, 2);
	if (n > 0)
		fwrite(buf, 1, n, stderr);
	close(logfd);
	unlink(logpath);
}

/* ---- the tests -------------------------------------------------------------- */

static void
test_conf(void)
{
	static const struct { const char *host; int port, ok; } v[] = {
		{ "http://127.0.0.1", 8332, 1 }, { "HTTP://127.0.0.1:18443/", 0, 1 },
		{ "127.0.0.1", 8332, 1 }, { "127.0.0.1:18443", 0, 1 },
		{ "::1", 8332, 1 }, { "[::1]", 8332, 1 }, { "[::1]:8332", 0, 1 },
		{ "http://[::1]:8332", 0, 1 }, { "localhost", 8332, 1 },
		{ "https://127.0.0.1", 8332, 0 }, { "", 8332, 0 },
		{ "127.0.0.1", 0, 0 }, { "127.0.0.1:99999", 0, 0 },
		{ "127.0.0.1:", 8332, 0 }, { "[::1", 8332, 0 },
		{ "[::1]x", 8332, 0 }, { "http://:8332", 0, 0 },
		{ "127.0.0.1:12a", 0, 0 },
	};
	struct rpc_conf c;
	struct rpc *r;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		memset(&c, 0, sizeof c);
		c.host = v[i].host;
		c.port = v[i].port;
		err[0] = '\0';
		r = rpc_new(&c, err, sizeof err);
		CHECKF((r != NULL) == v[i].ok, "%s: %s", v[i].host, err);
		CHECK(r != NULL || err[0] != '\0');
		rpc_free(r);
	}
	memset(&c, 0, sizeof c);
	c.host = "https://x";
	c.port = 1;
	CHECK(rpc_new(&c, err, sizeof err) == NULL && strstr(err, "TLS"));
}

/* Every header line of the first request in s ends in CRLF. */
static int
crlf_only(const char *s)
{
	const char *e = strstr(s, "\r\n\r\n");

	for (; e != NULL && s < e; s++)
		if (*s == '\n' && (s == e || s[-1] != '\r'))
			return 0;
	return e != NULL;
}

static void
check_request(const char *req, int port, const char *method)
{
	char want[128], buf[64];
	const char *body = strstr(req, "\r\n\r\n"), *cl;
	struct json_tok toks[32];
	struct json_doc d;
	int n, i;

	CHECK(strncmp(req, "POST / HTTP/1.1\r\n", 17) == 0);
	snprintf(want, sizeof want, "\r\nHost: 127.0.0.1:%d\r\n", port);
	CHECK(strstr(req, want) != NULL);
	CHECK(strstr(req, "\r\nAuthorization: Basic " B64_USERPASS "\r\n"));
	CHECK(strstr(req, "\r\nContent-Type: application/json\r\n"));
	CHECK(strstr(req, "\r\nConnection: keep-alive\r\n"));
	CHECK(crlf_only(req));
	CHECK(body != NULL && (cl = strstr(req, "\r\nContent-Length: ")) != NULL);
	if (body == NULL || cl == NULL)
		return;
	body += 4;
	n = json_parse(&d, body, (size_t)atoi(cl + 18), toks, 32);
	CHECKF(n > 0 && json_type(&d, 0) == JSON_OBJECT, "body %s", body);
	if (n <= 0)
		return;
	CHECK(json_streq(&d, json_get(&d, 0, "jsonrpc"), "1.0"));
	CHECK(json_streq(&d, json_get(&d, 0, "method"), method));
	CHECK(json_type(&d, json_get(&d, 0, "id")) == JSON_NUMBER);
	i = json_get(&d, 0, "params");
	CHECK(json_type(&d, i) == JSON_ARRAY && toks[i].size == 2);
	CHECK(json_string(&d, json_at(&d, i, 1), buf, sizeof buf) == 1 &&
	    buf[0] == 'a');
	CHECK(strstr(body, "\"jsonrpc\":\"1.0\"") != NULL);
}

static void
test_basic(int port)
{
	struct rpc *r = client(port, 3000, 0, 2000);
	struct res x;
	size_t mark = report_len;
	int i;

	for (i = 0; i < 3; i++) {
		CHECKF(call(r, "echo", "[1,\"a\"]", 0, &x) == RPC_OK, "%s",
		    x.msg);
		CHECK(strcmp(x.result, "[1,\"a\"]") == 0 && x.http == 200);
		CHECK(rpc_is_up(r));
	}
	CHECK(call(r, "interim", "[5]", 0, &x) == RPC_OK &&
	    strcmp(x.result, "[5]") == 0);
	CHECK(call(r, "echo", NULL, 0, &x) == RPC_OK &&
	    strcmp(x.result, "[]") == 0);
	/* All on one keep-alive connection. */
	CHECKF(count(report + mark, "#accept") == 1, "%d accepts",
	    count(report + mark, "#accept"));
	check_request(strstr(report + mark, "POST"), port, "echo");
	rpc_free(r);
}

static void
test_split(int port)
{
	struct rpc *r = client(port, 3000, 0, 2000);
	char buf[512], params[32];
	struct res x;
	int v, k, len, bad, badk;

	for (v = 0; v < 2; v++) {
		len = split_reply(buf, sizeof buf, v, 1);
		for (k = 1, bad = 0, badk = 0; k < len; k++) {
			snprintf(params, sizeof params, "[%d,%d]", k, v);
			if (call(r, "split", params, 0, &x) != RPC_OK ||
			    strcmp(x.result, "[7,\"x\"]") != 0) {
				bad++;
				badk = k;
			}
		}
		CHECKF(bad == 0, "variant %d: %d splits failed, e.g. at %d",
		    v, bad, badk);
		snprintf(params, sizeof params, "[%d]", v);
		CHECK(call(r, "bytewise", params, 0, &x) == RPC_OK &&
		    strcmp(x.result, "[7,\"x\"]") == 0);
	}
	rpc_free(r);
}

/* The node closes idle keep-alive sockets, seen while idle or only when
 * the next request fails: both are reconnected transparently. */
static void
test_reconnect(int port)
{
	struct rpc *r = client(port, 3000, 0, 2000);
	struct res x, y;
	size_t mark = report_len;

	CHECK(call(r, "close_after", "[1]", 0, &x) == RPC_OK);
	run(r, 200, 1);
	CHECK(open_fds(r) == 0);	/* EOF on the idle socket noticed */
	CHECK(call(r, "echo", "[2]", 0, &x) == RPC_OK &&
	    strcmp(x.result, "[2]") == 0);
	CHECK(count(report + mark, "#accept") == 2);

	/* The second request goes out on the old socket at once (from the
	 * callback); the server resets it unread 150 ms later. */
	mark = report_len;
	chain_r = r;
	chain_res = &y;
	memset(&y, 0, sizeof y);
	CHECK(call(r, "rst_after", "[150]", 0, &x) == RPC_OK);
	run(r, CALL_LIMIT_MS, 0);
	CHECKF(y.done && y.st == RPC_OK && strcmp(y.result, "[2]") == 0,
	    "%d %s", y.st, y.msg);
	/* rst_after reused the echo's socket; the retry needed a new one. */
	CHECK(count(report + mark, "#accept") == 1);
	CHECK(count(report + mark, "\"method\":\"echo\"") == 1);
	rpc_free(r);
}

static void
test_errors(int port)
{
	/* open: sockets left open right after the call (keep-alive). */
	static const struct { const char *m, *p; enum rpc_status st; int http;
	    int64_t code; const char *msg; int open; } v[] = {
		{ "cut", "[0]", RPC_ERR_IO, 200, 0, "mid-reply", 0 },
		{ "cut", "[1]", RPC_ERR_IO, 200, 0, "mid-reply", 0 },
		{ "cut", "[2]", RPC_ERR_IO, 0, 0, "mid-reply", 0 },
		{ "err500", "[]", RPC_ERR_RPC, 500, -8,
		    "Block height out of range", 1 },
		{ "err200", "[]", RPC_ERR_RPC, 200, -8,
		    "Block height out of range", 1 },
		{ "nosuchmethod", "[]", RPC_ERR_RPC, 404, -32601,
		    "Method not found", 1 },
		{ "badid", "[]", RPC_ERR_JSON, 200, 0, "id", 1 },
		{ "notjson", "[]", RPC_ERR_JSON, 200, 0, "JSON", 1 },
		{ "noresult", "[]", RPC_ERR_JSON, 200, 0, "result", 1 },
		{ "html503", "[]", RPC_ERR_HTTP, 503, 0, "HTTP 503", 1 },
		{ "garbage", "[0]", RPC_ERR_PROTO, 0, 0, "HTTP", 0 },
		{ "garbage", "[1]", RPC_ERR_PROTO, 0, 0, "HTTP", 0 },
		{ "garbage", "[2]", RPC_ERR_PROTO, 200, 0, "chunk", 0 },
		{ "garbage", "[3]", RPC_ERR_PROTO, 0, 0, "status", 0 },
		{ "garbage", "[4]", RPC_ERR_PROTO, 200, 0, "Length", 0 },
		{ "garbage", "[5]", RPC_ERR_PROTO, 200, 0, "Encoding", 0 },
		{ "http10", "[0]", RPC_OK, 200, 0, "", 0 },
		{ "http10", "[1]", RPC_OK, 200, 0, "", 0 },
		{ "connclose", "[]", RPC_OK, 200, 0, "", 0 },
		{ "hangup", "[]", RPC_ERR_IO, 0, 0, "before", 0 },
		{ "hangup", "[]", RPC_ERR_IO, 0, 0, "before", 0 },
	};
	struct rpc *r = client(port, 3000, 0, 2000);
	struct res x;
	size_t i;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		call(r, v[i].m, v[i].p, i + 1 == sizeof v / sizeof v[0] ?
		    RPC_F_LONGPOLL : 0, &x);
		CHECKF(x.done && x.st == v[i].st && x.http == v[i].http &&
		    x.code == v[i].code && strstr(x.msg, v[i].msg) != NULL,
		    "%s%s: status %d http %d code %lld \"%s\"", v[i].m, v[i].p,
		    x.st, x.http, (long long)x.code, x.msg);
		if (v[i].st == RPC_ERR_RPC)	/* the node's text as it is */
			CHECK(strcmp(x.msg, v[i].msg) == 0);
		CHECKF(open_fds(r) == v[i].open, "%s%s", v[i].m, v[i].p);
	}
	CHECK(call(r, "echo", "[9]", 0, &x) == RPC_OK &&
	    strcmp(x.result, "[9]") == 0);
	rpc_free(r);
}

/* 401 twice: RPC_ERR_AUTH each time, logged once; then accepted again. */
static void
test_auth(int port)
{
	struct rpc_conf c;
	struct rpc *r;
	struct res x;
	char err[256], log[4096];
	long mark = log_mark();
	const char *refused = "node refused RPC credentials: check "
	    "rpcuser/rpcpassword or cookiefile";

	memset(&c, 0, sizeof c);
	c.host = "127.0.0.1";
	c.port = port;
	c.cookiefile = "/nonexistent/.cookie";
	r = rpc_new(&c, err, sizeof err);
	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK(call(r, "echo", "[]", 0, &x) == RPC_ERR_AUTH && x.http == 401 &&
	    strstr(x.msg, refused) != NULL);
	CHECK(call(r, "echo", "[]", 0, &x) == RPC_ERR_AUTH);
	log_text(mark, log, sizeof log);
	CHECKF(count(log, refused) == 1, "%s", log);
	CHECK(count(log, "no usable RPC cookie in /nonexistent/.cookie") == 1);
	rpc_free(r);
}

static void
test_big(int port)
{
	struct rpc *r = client(port, 3000, 1000, 2000);
	char params[32];
	struct res x;
	int v;

	for (v = 0; v < 3; v++) {
		snprintf(params, sizeof params, "[1000,%d]", v);
		CHECKF(call(r, "big", params, 0, &x) == RPC_OK &&
		    strlen(x.result) > 950 &&
		    strspn(x.result, "0") == strlen(x.result), "%d %s", v, x.msg);
		snprintf(params, sizeof params, "[1001,%d]", v);
		CHECKF(call(r, "big", params, 0, &x) == RPC_ERR_TOO_BIG,
		    "%d %d %s", v, x.st, x.msg);
		CHECK(open_fds(r) == 0);	/* that connection is closed */
		snprintf(params, sizeof params, "[60000,%d]", v);
		CHECK(call(r, "big", params, 0, &x) == RPC_ERR_TOO_BIG);
	}
	CHECK(call(r, "echo", "[3]", 0, &x) == RPC_OK);
	rpc_free(r);
}

/* A slow reply within the timeout; a long poll outlives the request
 * timeout that ends a normal call running beside it. */
static void
test_slow(int port)
{
	struct rpc *r = client(port, 1500, 0, 2000);
	struct res x, y;

	CHECK(call(r, "slow", "[300]", 0, &x) == RPC_OK &&
	    x.elapsed >= 300 && strcmp(x.result, "[300]") == 0);
	rpc_free(r);

	r = client(port, 300, 0, 2000);
	memset(&y, 0, sizeof y);
	pending++;
	CHECK(rpc_call(r, "slow", "[800]", RPC_F_LONGPOLL, on_done, &y) == 0);
	CHECK(call(r, "slow", "[800]", 0, &x) == RPC_ERR_TIMEOUT);
	CHECKF(x.elapsed >= 300 && x.elapsed < 700, "%lld",
	    (long long)x.elapsed);
	run(r, CALL_LIMIT_MS, 0);
	CHECKF(y.done && y.st == RPC_OK && y.elapsed >= 800 &&
	    strcmp(y.result, "[800]") == 0, "%d %s", y.st, y.msg);
	rpc_free(r);
}

/*
 * While one call waits on a server that never answers, a 20 ms timer in
 * this loop keeps its time and a second call on another connection
 * completes; then the first ends with RPC_ERR_TIMEOUT.
 */
static void
test_nonblocking(int port)
{
	struct rpc *r = client(port, 800, 0, 2000);
	struct pollfd fds[RPC_MAX_CONN];
	struct res x, y;
	int64_t now, next, late = 0, hmax = 0, t0, start = rpc_now_ms();
	int n, t, fires = 0;

	memset(&x, 0, sizeof x);
	memset(&y, 0, sizeof y);
	pending += 2;
	CHECK(rpc_call(r, "stall", "[]", 0, on_done, &x) == 0);
	CHECK(rpc_call(r, "slow", "[100]", 0, on_done, &y) == 0);
	now = rpc_now_ms();
	next = now + 20;
	while (pending > 0 && now < start + CALL_LIMIT_MS) {
		n = rpc_pollfds(r, fds, RPC_MAX_CONN);
		t = rpc_timeout_ms(r, now);
		if (t < 0 || t > next - now)
			t = next > now ? (int)(next - now) : 0;
		poll(fds, (nfds_t)n, t);
		now = rpc_now_ms();
		if (now >= next) {
			late = now - next > late ? now - next : late;
			fires++;
			next += 20;
		}
		t0 = now;
		rpc_handle(r, fds, n, now);
		now = rpc_now_ms();
		hmax = now - t0 > hmax ? now - t0 : hmax;
	}
	CHECKF(y.done && y.st == RPC_OK && y.elapsed < 400, "%d %lld", y.st,
	    (long long)y.elapsed);
	CHECKF(x.done && x.st == RPC_ERR_TIMEOUT && x.elapsed >= 800 &&
	    x.elapsed < 1300, "%d %lld", x.st, (long long)x.elapsed);
	CHECKF(fires >= 30 && late < 50 && hmax < 50,
	    "fires %d, latest %lld ms, handle %lld ms", fires,
	    (long long)late, (long long)hmax);
	if (getenv("RPC_TEST_VERBOSE") != NULL)
		printf("timer: %d fires, at most %lld ms late; rpc_handle at "
		    "most %lld ms\n", fires, (long long)late, (long long)hmax);
	report_drain();
	rpc_free(r);
}

/*
 * Refused connects: RPC_ERR_CONNECT, then back-off 1 s, 2 s (visible in
 * rpc_timeout_ms, no connect tried meanwhile), logged once; then the node
 * comes up and the next try succeeds, logged once.
 */
static void
test_refused(pid_t *srv)
{
	struct res a, b, c;
	char log[8192];
	long mark = log_mark();
	int port, lfd = listener(&port, 0), t;
	struct rpc *r = client(port, 5000, 0, 2000);

	/* (qemu-user passes SO_ERROR untranslated: no "refused" text) */
	CHECKF(call(r, "echo", "[]", 0, &a) == RPC_ERR_CONNECT &&
	    strstr(a.msg, "cannot connect") != NULL, "%d", a.st);
	CHECK(!rpc_is_up(r));
	memset(&b, 0, sizeof b);
	pending++;
	CHECK(rpc_call(r, "echo", "[]", 0, on_done, &b) == 0);
	t = rpc_timeout_ms(r, rpc_now_ms());
	CHECKF(t > 700 && t <= 1000, "%d", t);
	run(r, 500, 1);
	CHECK(!b.done && open_fds(r) == 0);	/* waiting out the back-off */
	run(r, CALL_LIMIT_MS, 0);
	CHECKF(b.st == RPC_ERR_CONNECT && b.elapsed >= 900, "%d %lld", b.st,
	    (long long)b.elapsed);
	memset(&c, 0, sizeof c);
	pending++;
	CHECK(rpc_call(r, "echo", "[]", 0, on_done, &c) == 0);
	t = rpc_timeout_ms(r, rpc_now_ms());
	CHECKF(t > 1700 && t <= 2000, "%d", t);	/* doubled */
	rpc_cancel_all(r);
	CHECK(c.done && c.st == RPC_ERR_CANCELLED && pending == 0);
	rpc_free(r);

	r = client(port, 5000, 0, 2000);
	CHECK(call(r, "echo", "[]", 0, &a) == RPC_ERR_CONNECT);
	listen(lfd, 8);
	*srv = srv_start(lfd);
	CHECK(call(r, "echo", "[4]", 0, &a) == RPC_OK && a.elapsed >= 900 &&
	    rpc_is_up(r));
	log_text(mark, log, sizeof log);
	CHECKF(count(log, "cannot connect to node at 127.0.0.1") == 2 &&
	    count(log, "reachable again") == 1, "%s", log);
	rpc_free(r);
}

/* A node that never completes the handshake: the accept queue (backlog
 * 0) is full, so the kernel drops our SYNs and the connect times out. */
static void
test_connect_timeout(void)
{
	struct pollfd pfd;
	struct sockaddr_in a;
	struct res x;
	char log[4096];
	long mark = log_mark();
	int port, lfd = listener(&port, 0), fill = socket(AF_INET,
	    SOCK_STREAM, 0);
	struct rpc *r = client(port, 5000, 0, 300);

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	CHECK(listen(lfd, 0) == 0 && connect(fill, (struct sockaddr *)&a,
	    sizeof a) == 0);
	pfd.fd = fill;
	pfd.events = POLLOUT;
	poll(&pfd, 1, 1000);
	CHECK(call(r, "echo", "[]", 0, &x) == RPC_ERR_TIMEOUT);
	CHECKF(x.elapsed >= 300 && x.elapsed < 1000 && strstr(x.msg,
	    "cannot connect") != NULL, "%lld %s", (long long)x.elapsed, x.msg);
	CHECK(!rpc_is_up(r) && open_fds(r) == 0);
	log_text(mark, log, sizeof log);
	CHECKF(count(log, "cannot connect to node") == 1, "%s", log);
	rpc_free(r);
	close(fill);
	close(lfd);
}

static int
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* Cookie auth: the file given, re-read on each connection; the default
 * data dirs under $HOME, the first that has one. */
static void
test_cookie(int port)
{
	char dir[64], path[128], sub[128];
	struct rpc_conf c;
	struct rpc *r;
	struct res x;
	size_t mark = report_len;
	const char *d[] = { ".bitcoin", ".bitcoin/signet", ".bitcoin/regtest" };
	size_t i;

	snprintf(dir, sizeof dir, "/tmp/test_rpc_home.%ld", (long)getpid());
	for (i = 0, mkdir(dir, 0700); i < 3; i++) {
		snprintf(sub, sizeof sub, "%s/%s", dir, d[i]);
		mkdir(sub, 0700);
	}
	snprintf(path, sizeof path, "%s/cookie", dir);
	CHECK(write_file(path, "__cookie__:abc\n") == 0);
	memset(&c, 0, sizeof c);
	c.host = "127.0.0.1";
	c.port = port;
	c.cookiefile = path;
	r = rpc_new(&c, NULL, 0);
	CHECK(r != NULL);
	CHECK(call(r, "close_after", "[]", 0, &x) == RPC_OK);
	CHECK(write_file(path, "__cookie__:def") == 0);
	run(r, 100, 1);
	CHECK(call(r, "echo", "[]", 0, &x) == RPC_OK);
	rpc_free(r);
	/* base64("__cookie__:abc") and base64("__cookie__:def") */
	CHECK(strstr(report + mark, "Basic X19jb29raWVfXzphYmM=\r\n") != NULL);
	CHECK(strstr(report + mark, "Basic X19jb29raWVfXzpkZWY=\r\n") != NULL);

	setenv("HOME", dir, 1);
	snprintf(path, sizeof path, "%s/.bitcoin/regtest/.cookie", dir);
	CHECK(write_file(path, "__cookie__:reg") == 0);
	snprintf(path, sizeof path, "%s/.bitcoin/signet/.cookie", dir);
	CHECK(write_file(path, "__cookie__:sig") == 0);
	c.cookiefile = NULL;
	r = rpc_new(&c, NULL, 0);
	mark = report_len;
	CHECK(r != NULL && call(r, "echo", "[]", 0, &x) == RPC_OK);
	rpc_free(r);
	/* base64("__cookie__:sig"): signet comes before regtest */
	CHECK(strstr(report + mark, "Basic X19jb29raWVfXzpzaWc=\r\n") != NULL);

	unlink(path);
	snprintf(path, sizeof path, "%s/.bitcoin/regtest/.cookie", dir);
	unlink(path);
	for (i = 3; i-- > 0;) {
		snprintf(sub, sizeof sub, "%s/%s", dir, d[i]);
		rmdir(sub);
	}
	snprintf(path, sizeof path, "%s/cookie", dir);
	unlink(path);
	rmdir(dir);
}

static void
on_count(void *arg, const struct rpc_reply *rep)
{
	int *n = arg;

	if (rep->status == RPC_ERR_CANCELLED)
		(*n)++;
}

static struct rpc *cancel_r;

static void
on_cancel(void *arg, const struct rpc_reply *rep)
{
	int *n = arg;

	*n += rep->status == RPC_OK ? 100 : 0;
	rpc_cancel_all(cancel_r);
}

/* The queue is bounded; cancel and free end every call exactly once. */
static void
test_queue(int port)
{
	struct rpc *r = client(port, 3000, 0, 2000);
	int i, ok = 0, cancelled = 0;

	for (i = 0; i < RPC_MAX_QUEUE + 1; i++)
		ok += rpc_call(r, "echo", "[]", 0, on_count, &cancelled) == 0;
	CHECK(ok == RPC_MAX_QUEUE);
	rpc_cancel_all(r);
	CHECK(cancelled == RPC_MAX_QUEUE);
	CHECK(rpc_timeout_ms(r, rpc_now_ms()) == -1);

	cancelled = 0;
	CHECK(rpc_call(r, "stall", "[]", 0, on_count, &cancelled) == 0);
	CHECK(rpc_call(r, "stall", "[]", RPC_F_LONGPOLL, on_count,
	    &cancelled) == 0);
	run(r, 100, 1);
	CHECK(open_fds(r) == 2);
	rpc_free(r);
	CHECK(cancelled == 2);

	/* A callback cancels the rest: the stalled call on another slot. */
	r = client(port, 3000, 0, 2000);
	cancel_r = r;
	cancelled = 0;
	CHECK(rpc_call(r, "stall", "[]", 0, on_count, &cancelled) == 0);
	CHECK(rpc_call(r, "slow", "[50]", 0, on_cancel, &cancelled) == 0);
	run(r, 300, 1);
	CHECKF(cancelled == 101, "%d", cancelled);
	CHECK(rpc_timeout_ms(r, rpc_now_ms()) == -1);
	rpc_free(r);
}

int
main(void)
{
	static char log[1 << 18];
	pid_t srv, srv2 = -1;
	int lfd, port;

	(void)test_vectors;	/* test.h's helpers, unused here */
	(void)test_read_file;
	signal(SIGPIPE, SIG_IGN);
	if (pipe(rep_fd) < 0 || fcntl(rep_fd[0], F_SETFL, O_NONBLOCK) < 0) {
		perror("pipe");
		return 99;
	}
	all_end = rpc_now_ms() + 60000;
	log_capture();
	log_set_level(LOG_DEBUG);
	lfd = listener(&port, 16);
	srv = srv_start(lfd);

	test_conf();
	test_basic(port);
	test_split(port);
	test_reconnect(port);
	test_errors(port);
	test_auth(port);
	test_big(port);
	test_slow(port);
	test_nonblocking(port);
	test_refused(&srv2);
	test_connect_timeout();
	test_cookie(port);
	test_queue(port);

	/* No credential in any form reached the log. */
	log_text(0, log, sizeof log);
	CHECK(strstr(log, PASS) == NULL && strstr(log, B64_USERPASS) == NULL);
	CHECK(strstr(log, "__cookie__") == NULL &&
	    strstr(log, "X19jb29raWVf") == NULL);
	CHECK(pending == 0);

	srv_stop(srv);
	if (srv2 > 0)
		srv_stop(srv2);
	log_release();
	TEST_END("test_rpc");
}
