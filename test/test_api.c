/*
 * test_api.c - the status HTTP server against real sockets on 127.0.0.1:
 * every route after scripted events (JSON checked with json_parse and for
 * exact values), HEAD, keep-alive and pipelining, and abuse: oversized
 * heads, bodies, POST, garbage, NUL bytes, odd addresses, a client
 * sending one byte at a time, more clients than slots, a client that
 * never reads a large reply, idle connections.  The api runs in this
 * process's own poll loop (pump()); clients are non-blocking sockets, and
 * every wait is bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "json.h"
#include "stats.h"
#include "test.h"

#define A1 "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
#define A2 "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"
#define H1 "00000000000000000001a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7"
#define WAIT_MS 3000

static struct api *api;
static struct stats *st;
static int port;
static int64_t skew;		/* added to the clock: idle timeouts */
static char rbuf[1 << 22];
static struct json_tok jtoks[1 << 17];
static struct json_doc jdoc;

struct resp {
	int status;
	long clen;
	int close;		/* "Connection: close" */
	int eof;
	char type[64];
	const char *body;
	size_t len;		/* bytes of this response */
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + skew;
}

static void
info(void *arg, struct stats_pool_info *pi)
{
	(void)arg;
	pi->height = 812345;
	pi->network_diff = 1.25e14;
	pi->template_age = 4;
	pi->node_status = "up";
	pi->chain = "regtest";
	pi->miners = 2;
	pi->started = (int64_t)time(NULL) - 100;
}

/* One round of the pool's loop, as stratum.c would run it. */
static void
pump_once(int ms)
{
	struct pollfd fds[API_MAX_CONN + 1];
	int n = api_pollfds(api, fds, API_MAX_CONN + 1), t;

	t = api_timeout_ms(api, now_ms());
	poll(fds, (nfds_t)n, t >= 0 && t < ms ? t : ms);
	api_handle(api, fds, n, now_ms());
}

static void
pump(int ms)
{
	int64_t end = now_ms() + ms;

	while (now_ms() < end)
		pump_once(1);
}

static int
client(void)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* The kernel completes the handshake from the listen backlog. */
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		perror("client");
		exit(1);
	}
	return fd;
}

static void
put(int fd, const char *s, size_t n)
{
	size_t off = 0;
	ssize_t w;
	int64_t end = now_ms() + WAIT_MS;

	while (off < n && now_ms() < end) {
		if ((w = send(fd, s + off, n - off, MSG_NOSIGNAL)) > 0)
			off += (size_t)w;
		else
			pump_once(1);
	}
}

static void
puts_(int fd, const char *s)
{
	put(fd, s, strlen(s));
}

/* One response at buf (n bytes); 0 when incomplete. */
static int
parse_resp(const char *buf, size_t n, int head_only, struct resp *r)
{
	const char *end = NULL, *p;
	size_t i, hl;

	for (i = 0; i + 3 < n && end == NULL; i++)
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0)
			end = buf + i;
	if (end == NULL || sscanf(buf, "HTTP/1.1 %d ", &r->status) != 1)
		return 0;
	hl = (size_t)(end - buf) + 4;
	r->clen = -1;
	r->close = 0;
	r->type[0] = '\0';
	for (p = buf; p < end; p = strstr(p, "\r\n") + 2) {
		sscanf(p, "Content-Length: %ld", &r->clen);
		sscanf(p, "Content-Type: %63[^\r]", r->type);
		if (strncmp(p, "Connection: close\r", 18) == 0)
			r->close = 1;
	}
	if (head_only)
		r->clen = r->clen < 0 ? 0 : r->clen;
	if (r->clen < 0 || (!head_only && n < hl + (size_t)r->clen))
		return 0;
	r->body = buf + hl;
	r->len = hl + (head_only ? 0 : (size_t)r->clen);
	return 1;
}

/* Pump and read until count responses are complete or EOF; responses go
 * to r[] (bodies point into rbuf).  Returns how many arrived. */
static int
read_n(int fd, int count, int head_only, struct resp *r)
{
	size_t n = 0, off;
	ssize_t k;
	int got = 0, i, eof = 0;
	int64_t end = now_ms() + WAIT_MS;

	while (now_ms() < end && !eof) {
		pump_once(1);
		while ((k = recv(fd, rbuf + n, sizeof(rbuf) - 1 - n, 0)) > 0)
			n += (size_t)k;
		if (k == 0 || (k < 0 && errno != EAGAIN &&
		    errno != EWOULDBLOCK))
			eof = 1;
		for (got = 0, off = 0; got < count && parse_resp(rbuf + off,
		    n - off, head_only, &r[got]); got++)
			off += r[got].len;
		if (got == count)
			break;
	}
	rbuf[n] = '\0';
	for (i = 0; i < count; i++)
		r[i].eof = eof;
	return got;
}

/* 1 when the server closed fd (EOF or reset): waits up to WAIT_MS, or
 * only 50 ms when a close is not expected. */
static int
closed_(int fd, int expect)
{
	char buf[65536];
	ssize_t k;
	int64_t end = now_ms() + (expect ? WAIT_MS : 50);

	while (now_ms() < end) {
		pump_once(1);
		while ((k = recv(fd, buf, sizeof(buf), 0)) > 0)
			;
		if (k == 0 || (k < 0 && errno != EAGAIN &&
		    errno != EWOULDBLOCK))
			return 1;
	}
	return 0;
}

/* A fresh connection, one request, one response; returns the status. */
static int
ask(const char *req, struct resp *r)
{
	int fd = client(), head = strncmp(req, "HEAD ", 5) == 0;

	puts_(fd, req);
	memset(r, 0, sizeof(*r));
	if (read_n(fd, 1, head, r) != 1)
		r->status = -1;
	close(fd);
	return r->status;
}

static int
get(const char *path, struct resp *r)
{
	char req[512];

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
	return ask(req, r);
}

static int
parse_body(const struct resp *r)
{
	return json_parse(&jdoc, r->body, (size_t)r->clen, jtoks,
	    sizeof(jtoks) / sizeof(jtoks[0])) > 0 ? 0 : -1;
}

static double
num(int obj, const char *key)
{
	double v;

	return json_double(&jdoc, json_get(&jdoc, obj, key), &v) == 0 ? v :
	    -1;
}

/* ---- the documents ----------------------------------------------------- */

static void
script(int64_t t)
{
	int i;

	stats_connect(st, A1, A1 ".bitaxe", "bitaxe/BM1368", 1024, t - 50);
	stats_connect(st, A2, A2 ".nerd", "NerdMinerV2", 0.0001, t - 50);
	for (i = 0; i < 10; i++)
		stats_share(st, A1, A1 ".bitaxe", 1024, 2000 + i, t - 40 + i);
	stats_share(st, A2, A2 ".nerd", 0.0001, 0.5, t - 30);
	stats_reject(st, A1, A1 ".bitaxe", 21, t - 20);
	stats_block(st, 812344, H1, A1 ".bitaxe", "accepted", t - 10);
}

static void
test_routes(void)
{
	struct resp r;
	int t, u;

	CHECK(get("/api/pool", &r) == 200);
	CHECK(strcmp(r.type, "application/json") == 0 && !r.close);
	CHECK(parse_body(&r) == 0);
	CHECK(num(0, "accepted") == 11 && num(0, "height") == 812345);
	CHECK(num(0, "blocks_found") == 1 && num(0, "miners") == 2);
	CHECK(num(0, "network_difficulty") == 1.25e14);
	CHECK(num(0, "workers") == 2 && num(0, "addresses") == 2);
	CHECK(num(json_get(&jdoc, 0, "rejected"), "stale") == 1);
	CHECK(json_streq(&jdoc, json_get(&jdoc, 0, "chain"), "regtest"));
	t = json_get(&jdoc, 0, "users");
	CHECK(json_type(&jdoc, t) == JSON_ARRAY && jdoc.toks[t].size == 2);
	u = json_at(&jdoc, t, 0);	/* the Bitaxe hashes more */
	CHECK(json_streq(&jdoc, json_get(&jdoc, u, "address"), A1));
	CHECK(num(u, "workers") == 1 && num(u, "best_share_ever") == 2009);
	CHECK(num(json_get(&jdoc, u, "hashrate"), "1d") > 0);
	t = json_get(&jdoc, 0, "history");
	CHECK(json_type(&jdoc, t) == JSON_ARRAY && jdoc.toks[t].size == 144);

	CHECK(get("/api/users/" A2, &r) == 200 && parse_body(&r) == 0);
	CHECK(num(0, "accepted") == 1 && num(0, "best_share_ever") == 0.5);
	CHECK(num(0, "best_share") == 0);	/* a block came since */
	t = json_at(&jdoc, json_get(&jdoc, 0, "workers"), 0);
	CHECK(json_streq(&jdoc, json_get(&jdoc, t, "name"), A2 ".nerd"));
	CHECK(json_streq(&jdoc, json_get(&jdoc, t, "agent"), "NerdMinerV2"));
	CHECK(num(t, "difficulty") == 0.0001);
	CHECK(json_type(&jdoc, json_get(&jdoc, t, "online")) == JSON_TRUE);

	CHECK(get("/api/blocks", &r) == 200 && parse_body(&r) == 0);
	CHECK(num(0, "count") == 1);
	t = json_at(&jdoc, json_get(&jdoc, 0, "blocks"), 0);
	CHECK(json_streq(&jdoc, json_get(&jdoc, t, "hash"), H1));
	CHECK(json_streq(&jdoc, json_get(&jdoc, t, "verdict"), "accepted"));
	CHECK(num(t, "height") == 812344);

	CHECK(get("/metrics?x=1", &r) == 200);
	CHECK(strncmp(r.type, "text/plain; version=0.0.4", 25) == 0);
	CHECK(strstr(r.body, "# TYPE stratum_shares_accepted_total counter\n"
	    "stratum_shares_accepted_total 11\n") != NULL);
	CHECK(strstr(r.body, "\nstratum_height 812345\n") != NULL);
	CHECK(strstr(r.body, "stratum_worker_difficulty{address=\"" A1
	    "\",worker=\"" A1 ".bitaxe\"} 1024\n") != NULL);

	CHECK(get("/", &r) == 200);
	CHECK(strcmp(r.type, "text/html; charset=utf-8") == 0);
	CHECK(strncmp(r.body, "<!DOCTYPE html>", 15) == 0);
	CHECK(strstr(r.body, "</html>\n") == r.body + r.clen - 8);
	/* Self-contained: nothing fetched from elsewhere. */
	CHECK(strstr(r.body, "src=") == NULL && strstr(r.body, "<link") ==
	    NULL && strstr(r.body, "url(") == NULL && strstr(r.body,
	    "@import") == NULL && strstr(r.body, "//cdn") == NULL);
	CHECK(strstr(r.body, "fetch(") != NULL && strstr(r.body,
	    "/api/pool") != NULL && strstr(r.body, "innerHTML") == NULL);
}

static void
test_errors(void)
{
	static const struct { const char *req; int status, closes; } c[] = {
		{ "GET /nope HTTP/1.1\r\n\r\n", 404, 0 },
		{ "GET /api/users/nobody HTTP/1.1\r\n\r\n", 404, 0 },
		{ "GET /api/users/ HTTP/1.1\r\n\r\n", 404, 0 },
		{ "GET /api/users/%41bc HTTP/1.1\r\n\r\n", 400, 1 },
		{ "GET /api/users/a/b HTTP/1.1\r\n\r\n", 400, 1 },
		{ "GET /api/users/../../etc/passwd HTTP/1.1\r\n\r\n", 400, 1 },
		{ "POST /api/pool HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", 405,
		    1 },
		{ "DELETE / HTTP/1.1\r\n\r\n", 405, 1 },
		{ "GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 413, 1 },
		{ "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 413,
		    1 },
		{ "hello\r\n\r\n", 400, 1 },
		{ "GET / HTTP/9.9\r\n\r\n", 400, 1 },
		{ "GET  / HTTP/1.1\r\n\r\n", 400, 1 },
		{ "GET nohost HTTP/1.1\r\n\r\n", 400, 1 },
		{ "GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400, 1 },
		{ "GET / HTTP/1.1\r\n folded: x\r\n\r\n", 400, 1 },
		{ "GET / HTTP/1.1\r\nbad name: x\r\n\r\n", 400, 1 },
		{ "\r\n\r\nGET /api/blocks HTTP/1.1\n\n", 200, 0 },
		{ "GET / HTTP/1.0\r\n\r\n", 200, 1 },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, 0 },
		{ "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 200, 1 },
	};
	char big[API_MAX_REQUEST + 100], addr[300];
	struct resp r;
	size_t i;
	int fd;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		fd = client();
		puts_(fd, c[i].req);
		memset(&r, 0, sizeof(r));
		CHECKF(read_n(fd, 1, 0, &r) == 1 && r.status == c[i].status &&
		    r.close == c[i].closes, "%s: %d", c[i].req, r.status);
		CHECKF(closed_(fd, c[i].closes) == c[i].closes, "%s", c[i].req);
		close(fd);
	}
	CHECK(ask("POST / HTTP/1.1\r\n\r\n", &r) == 405);
	CHECK(strstr(rbuf, "\r\nAllow: GET, HEAD\r\n") != NULL);
	/* A NUL byte in the head. */
	fd = client();
	put(fd, "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 27);
	CHECK(read_n(fd, 1, 0, &r) == 1 && r.status == 400 && closed_(fd, 1));
	close(fd);
	/* Very long addresses. */
	memset(addr, 'a', sizeof(addr));
	snprintf(big, sizeof(big), "GET /api/users/%.*s HTTP/1.1\r\n\r\n",
	    STATS_ADDR_MAX, addr);
	CHECK(ask(big, &r) == 400);
	snprintf(big, sizeof(big), "GET /api/users/%.*s HTTP/1.1\r\n\r\n",
	    STATS_ADDR_MAX - 1, addr);
	CHECK(ask(big, &r) == 404);
	/* A head over 8 KiB, never finished: 431, then closed. */
	fd = client();
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET / HTTP/1.1\r\nX-Long: ", 24);
	put(fd, big, sizeof(big));
	CHECK(read_n(fd, 1, 0, &r) == 1 && r.status == 431 && closed_(fd, 1));
	close(fd);
	/* Exactly at the limit, complete: served. */
	fd = client();
	memcpy(big + API_MAX_REQUEST - 4, "\r\n\r\n", 4);
	put(fd, big, API_MAX_REQUEST);
	CHECK(read_n(fd, 1, 0, &r) == 1 && r.status == 200);
	close(fd);
}

/* ---- connections ------------------------------------------------------- */

static void
test_keepalive(void)
{
	struct resp r[3];
	long len;
	int fd;

	/* HEAD: the GET's length, no body. */
	CHECK(get("/api/blocks", &r[0]) == 200);
	len = r[0].clen;
	fd = client();
	puts_(fd, "HEAD /api/blocks HTTP/1.1\r\n\r\n");
	CHECK(read_n(fd, 1, 1, r) == 1 && r[0].status == 200);
	CHECK(r[0].clen == len && r[0].len == strlen(rbuf));
	/* Two requests, one after the other, on the same connection. */
	puts_(fd, "GET /api/blocks HTTP/1.1\r\n\r\n");
	CHECK(read_n(fd, 1, 0, r) == 1 && r[0].status == 200);
	CHECK(r[0].clen == len && !r[0].close);
	puts_(fd, "GET /nothing-here HTTP/1.1\r\n\r\n");
	CHECK(read_n(fd, 1, 0, r) == 1 && r[0].status == 404);
	puts_(fd, "GET /api/pool HTTP/1.1\r\n\r\n");
	CHECK(read_n(fd, 1, 0, r) == 1 && r[0].status == 200);
	CHECK(closed_(fd, 0) == 0);
	/* Three pipelined in one write, the last closing. */
	puts_(fd, "GET /api/blocks HTTP/1.1\r\n\r\n"
	    "GET /metrics HTTP/1.1\r\n\r\n"
	    "GET /api/blocks HTTP/1.1\r\nConnection: close\r\n\r\n");
	CHECK(read_n(fd, 3, 0, r) == 3);
	CHECK(r[0].status == 200 && r[0].clen == len && !r[0].close);
	CHECK(r[1].status == 200 && strncmp(r[1].type, "text/plain", 10) == 0);
	CHECK(r[2].status == 200 && r[2].close && r[2].eof);
	close(fd);
}

static void
test_byte_by_byte(void)
{
	static const char req[] = "GET /api/users/" A1 " HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\nUser-Agent: slow\r\n\r\n";
	struct resp r;
	size_t i;
	int fd = client();

	for (i = 0; i < sizeof(req) - 1; i++) {
		put(fd, req + i, 1);
		pump_once(0);
	}
	CHECK(read_n(fd, 1, 0, &r) == 1 && r.status == 200);
	CHECK(parse_body(&r) == 0 && num(0, "accepted") == 10);
	close(fd);
}

static void
test_crowd(void)
{
	int fd[API_MAX_CONN + 4], i;
	struct resp r;

	pump(20);	/* connections of earlier tests are gone */
	/* Every slot mid-request: newcomers get 503 and are closed. */
	for (i = 0; i < API_MAX_CONN; i++) {
		fd[i] = client();
		puts_(fd[i], "GET /api/pool HTTP/1.1\r\n");
		pump(2);
	}
	for (i = API_MAX_CONN; i < API_MAX_CONN + 4; i++) {
		fd[i] = client();
		CHECK(read_n(fd[i], 1, 0, &r) == 1 && r.status == 503);
		CHECK(closed_(fd[i], 1));
		close(fd[i]);
	}
	/* The others are still served (fd[0] first, so it idles longest). */
	for (i = 0; i < API_MAX_CONN; i++) {
		puts_(fd[i], "\r\n");
		CHECK(read_n(fd[i], 1, 0, &r) == 1 && r.status == 200);
		if (i == 0)
			pump(5);
	}
	/* Now all are idle between requests: a newcomer takes the slot of
	 * the longest idle, which is closed. */
	fd[API_MAX_CONN] = client();
	puts_(fd[API_MAX_CONN], "GET /api/blocks HTTP/1.1\r\n\r\n");
	CHECK(read_n(fd[API_MAX_CONN], 1, 0, &r) == 1 && r.status == 200);
	CHECK(closed_(fd[0], 1));
	CHECK(closed_(fd[1], 0) == 0);
	for (i = 0; i <= API_MAX_CONN; i++)
		close(fd[i]);
	pump(10);
}

/* A client that asks for a large reply and never reads it: the loop goes
 * on serving others, and the connection is dropped after API_IDLE_MS. */
static void
test_slow_reader(void)
{
	int fd, small = 4096, i;
	char w[64];
	struct resp r;
	int64_t t0;

	for (i = 0; i < 900; i++) {
		snprintf(w, sizeof(w), A2 ".rig%03d", i);
		stats_connect(st, A2, w, "cpuminer-opt/3.23.3", 1, 1);
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	close(fd);
	fd = client();
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	puts_(fd, "GET /api/users/" A2 " HTTP/1.1\r\n\r\n");
	t0 = now_ms();
	pump(100);
	CHECK(now_ms() - t0 < 1000);
	CHECK(get("/api/pool", &r) == 200);	/* others still served */
	CHECK(get("/api/users/" A2, &r) == 200 && r.clen > 200000);
	CHECK(parse_body(&r) == 0 && num(0, "workers_total") == 901);
	/* Over REPLY_START: the reply buffer grows. */
	CHECK(get("/metrics", &r) == 200 && r.clen > 1000000);
	CHECK(strstr(r.body, "worker=\"" A2 ".rig899\"} 1\n") != NULL);
	skew += API_IDLE_MS + 1;
	pump(5);
	CHECK(closed_(fd, 1));
	CHECK(api_timeout_ms(api, now_ms()) == -1);
	close(fd);
}

static void
test_idle(void)
{
	int fd = client(), t;

	pump(5);
	t = api_timeout_ms(api, now_ms());
	CHECK(t > API_IDLE_MS - 1000 && t <= API_IDLE_MS);
	skew += API_IDLE_MS - 100;
	pump(5);
	CHECK(closed_(fd, 0) == 0);
	puts_(fd, "GET /api/po");	/* a partial request does not help */
	skew += 200;
	CHECK(closed_(fd, 1));
	close(fd);
	CHECK(api_timeout_ms(api, now_ms()) == -1);
}

static void
test_misc(void)
{
	struct pollfd fds[API_MAX_CONN + 1];
	char err[128];
	struct api *b;

	CHECK(api_pollfds(api, fds, API_MAX_CONN) == -1);
	CHECK(api_pollfds(api, fds, API_MAX_CONN + 1) == API_MAX_CONN + 1);
	CHECK(fds[0].fd >= 0 && fds[1].fd == -1);
	err[0] = '\0';
	b = api_new("127.0.0.1", port, st, NULL, NULL, err, sizeof(err));
	CHECKF(b == NULL && strstr(err, "port") != NULL, "%s", err);
	b = api_new("not an address", 0, st, NULL, NULL, err, sizeof(err));
	CHECK(b == NULL && err[0] != '\0');
	CHECK(api_new(NULL, 70000, st, NULL, NULL, err, sizeof(err)) == NULL);
	b = api_new(NULL, 0, st, NULL, NULL, err, sizeof(err));
	CHECK(b != NULL && api_port(b) > 0 && api_port(b) != port);
	api_free(b);
	api_free(NULL);
}

int
main(void)
{
	char err[128];

	signal(SIGPIPE, SIG_IGN);
	st = stats_new();
	api = api_new("127.0.0.1", 0, st, info, NULL, err, sizeof(err));
	if (st == NULL || api == NULL) {
		fprintf(stderr, "api_new: %s\n", err);
		return 1;
	}
	port = api_port(api);
	CHECK(port > 0);
	script((int64_t)time(NULL));
	test_routes();
	test_errors();
	test_keepalive();
	test_byte_by_byte();
	test_crowd();
	test_slow_reader();
	test_idle();
	test_misc();
	api_free(api);
	stats_free(st);
	TEST_END("api");
}
