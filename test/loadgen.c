/*
 * loadgen.c - load generator for the pool benchmark: N stratum connections
 * from one process (poll(), non-blocking sockets), each subscribed and
 * authorized, then one of three measurements.
 *
 *   loadgen --pid POOLPID [--port 3333] [--conns N] [--users U] [mode]
 *   shares (default): every connection keeps --outstanding K submits in
 *       flight (valid format: the last notify's job id, an en2 of the
 *       subscribed size, its ntime, a fresh nonce) for --secs S after a
 *       --warmup; prints shares/s, p50/p99 reply latency, reply codes, and
 *       the pool's CPU share and RSS from /proc/POOLPID.
 *   --idle: holds the N connections; prints the pool's RSS before and
 *       after and the difference per connection; with --hold S it then
 *       says "loadgen: holding N connections" and keeps them S seconds
 *       more, answering the pool, before "loadgen: released".
 *   --notify --node-port P: --rounds R times, asks the mock node
 *       (mocknode.js, GET /newblock) for a new block and times, from just
 *       before the request, until every connection has read its clean
 *       mining.notify; prints first/median/last arrival and the time from
 *       the node's reply writes (its clock, as it reports it) to the last.
 *   --sha-rate: sha256_transform()s per CPU second (median of 7), the
 *       bound share checking is compared with.
 *   --send-floor [--bytes B]: the bound notify fan-out is compared with,
 *       a bare send() of B bytes to each of N loopback connections from a
 *       child process while this one reads them (no pool involved).
 * User names are "ADDRESS.wI" with U distinct mainnet P2PKH addresses (one
 * payout, one job per address in the pool), or --address's.  Lines start
 * with "bench ".
 * Everything is bounded by --timeout (whole run) and per-round deadlines.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "sha256.h"

#define LG_IN_CAP 8192		/* longest line from the pool */
#define LG_OUT_CAP 1024		/* bytes queued to one connection */
#define LG_MAX_K 64		/* submits in flight per connection */
#define LG_MAX_TOKENS 128
#define LG_CONNECTING 256	/* connects in progress at once */
#define LG_MAX_SAMPLES (64u << 20)	/* latency samples kept */
#define LG_MAX_CODES 8
#define LG_ROUND_MS 15000	/* a notify round's deadline */
#define LG_MAX_SAID 10		/* connection errors printed, then counted */

enum { M_SHARES, M_IDLE, M_NOTIFY, M_SHA, M_FLOOR };
enum { S_FREE, S_CONNECTING, S_OPEN, S_DEAD };

struct conn {
	int fd, state, idx;
	char *in;
	size_t in_len;
	char out[LG_OUT_CAP];
	size_t out_len;
	char user[128];
	char job[24], ntime[9];
	int en2_size, have_job, authorized;
	uint64_t counter;	/* en2 (high 32 bits) and nonce (low) */
	int64_t sent_ns[LG_MAX_K];
	unsigned head, inflight;
	int64_t notified_ns;	/* clean notify this round, 0: not yet */
	unsigned next_id;
};

static struct {
	int mode, port, node_port, conns, users, k, rounds, pid, bytes;
	double secs, warmup, timeout, hold;
	const char *label, *address;
} opt = { M_SHARES, 3333, 18332, 1, 1, 1, 5, 0, 1200, 5, 1, 300, 0, NULL,
    NULL };

static struct conn *cs;
static int64_t t_end_all;
static int sending;		/* shares mode: submits go out */
static int64_t win_start, win_end;	/* shares mode: counted window */
static uint32_t *lat_us;	/* latency samples in the window */
static size_t nlat, lat_cap;
static uint64_t nreplies, naccepted, ncodes[LG_MAX_CODES][2], nerrors;
static size_t cb_bytes, cb1_bytes, nbranch;	/* from the first notify */
static int have_shape;
static size_t notify_bytes;	/* the last clean notify line, with \n */
static double connect_s;	/* until every connection had its job */

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
die(const char *msg)
{
	fprintf(stderr, "loadgen: %s\n", msg);
	exit(1);
}

/* ---- the pool's process ------------------------------------------------ */

/* utime + stime in clock ticks, from the fields after the ")" of comm. */
static long long
pool_cpu_ticks(void)
{
	char path[64], buf[1024], *p;
	long long v = 0, ut = 0, st = 0;
	FILE *f;
	size_t n;
	int field;

	snprintf(path, sizeof(path), "/proc/%d/stat", opt.pid);
	if (opt.pid <= 0 || (f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	for (field = 2; *p != '\0' && field < 15; p++) {
		if (*p != ' ')
			continue;
		field++;
		v = strtoll(p + 1, NULL, 10);
		if (field == 14)
			ut = v;
		else if (field == 15)
			st = v;
	}
	return ut + st;
}

static long
pool_rss_kb(void)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", opt.pid);
	if (opt.pid <= 0 || (f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

static double
self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* ---- user names -------------------------------------------------------- */

/* A mainnet P2PKH address (version 0, base58check) for payout u. */
static void
make_address(unsigned u, char *out, size_t cap)
{
	static const char b58[] =
	    "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
	uint8_t raw[25] = { 0, 'l', 'o', 'a', 'd', 'g', 'e', 'n' }, sum[32];
	char rev[40];
	size_t i, n = 0, zeros = 0;
	int j;

	raw[17] = (uint8_t)(u >> 24);
	raw[18] = (uint8_t)(u >> 16);
	raw[19] = (uint8_t)(u >> 8);
	raw[20] = (uint8_t)u;
	sha256d(raw, 21, sum);
	memcpy(raw + 21, sum, 4);
	while (zeros < sizeof(raw) && raw[zeros] == 0)
		zeros++;
	/* Repeated division of the big-endian number by 58. */
	for (;;) {
		unsigned rem = 0, nonzero = 0;

		for (i = 0; i < sizeof(raw); i++) {
			unsigned cur = rem * 256 + raw[i];

			raw[i] = (uint8_t)(cur / 58);
			rem = cur % 58;
			nonzero |= raw[i];
		}
		rev[n++] = b58[rem];
		if (!nonzero)
			break;
	}
	for (i = 0; i < zeros && i + 1 < cap; i++)
		out[i] = '1';
	for (j = (int)n - 1; j >= 0 && i + 1 < cap; j--)
		out[i++] = rev[j];
	out[i] = '\0';
}

/* ---- connections ------------------------------------------------------- */

static void
conn_kill(struct conn *c, const char *why)
{
	struct linger lg = { 1, 0 };

	if (c->state == S_DEAD || c->state == S_FREE)
		return;
	if (why != NULL && nerrors++ < LG_MAX_SAID)
		fprintf(stderr, "loadgen: connection %d: %s\n", c->idx, why);
	/* RST, not FIN: no TIME_WAIT left behind to exhaust ports. */
	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c->fd);
	free(c->in);
	c->in = NULL;
	c->fd = -1;
	c->state = S_DEAD;
}

static void
conn_flush(struct conn *c)
{
	ssize_t w;

	while (c->out_len > 0) {
		w = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (w <= 0) {
			conn_kill(c, "send failed");
			return;
		}
		memmove(c->out, c->out + w, c->out_len - (size_t)w);
		c->out_len -= (size_t)w;
	}
}

static void
conn_send(struct conn *c, const char *s, size_t n)
{
	if (c->state != S_OPEN)
		return;
	if (c->out_len + n > sizeof(c->out)) {
		conn_kill(c, "output queue full");
		return;
	}
	memcpy(c->out + c->out_len, s, n);
	c->out_len += n;
	conn_flush(c);
}

static void
conn_open(struct conn *c)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)opt.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		die("socket: out of descriptors?");
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	c->state = S_CONNECTING;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
	    errno != EINPROGRESS) {
		c->state = S_OPEN;
		conn_kill(c, strerror(errno));
	}
}

/* The connect finished: subscribe and authorize at once. */
static void
conn_ready(struct conn *c)
{
	char buf[256];
	int err = 0, n;
	socklen_t len = sizeof(err);

	getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	c->state = S_OPEN;
	if (err != 0) {
		conn_kill(c, strerror(err));
		return;
	}
	if ((c->in = malloc(LG_IN_CAP)) == NULL)
		die("out of memory");
	n = snprintf(buf, sizeof(buf), "{\"id\":1,\"method\":"
	    "\"mining.subscribe\",\"params\":[\"loadgen/1.0\"]}\n"
	    "{\"id\":2,\"method\":\"mining.authorize\",\"params\":"
	    "[\"%s\",\"x\"]}\n", c->user);
	c->next_id = 3;
	conn_send(c, buf, (size_t)n);
}

static void
submit(struct conn *c, int64_t now)
{
	char buf[256], en2[33];
	uint64_t v = ++c->counter;
	int n, i;

	for (i = 2 * c->en2_size - 1; i >= 0; i--, v >>= 4)
		en2[i] = "0123456789abcdef"[(v >> 32) & 15];
	en2[2 * c->en2_size] = '\0';
	n = snprintf(buf, sizeof(buf), "{\"id\":%u,\"method\":\"mining.submit\","
	    "\"params\":[\"%s\",\"%s\",\"%s\",\"%s\",\"%08x\"]}\n",
	    c->next_id++, c->user, c->job, en2, c->ntime,
	    (unsigned)(c->counter & 0xffffffffu));
	c->sent_ns[(c->head + c->inflight) % LG_MAX_K] = now;
	c->inflight++;
	conn_send(c, buf, (size_t)n);
}

static void
top_up(struct conn *c, int64_t now)
{
	while (sending && c->state == S_OPEN && c->have_job &&
	    c->inflight < (unsigned)opt.k)
		submit(c, now);
}

/* ---- lines ------------------------------------------------------------- */

static void
on_notify(struct conn *c, const struct json_doc *d, int params, int64_t now)
{
	int br = json_at(d, params, 4);

	if (json_string(d, json_at(d, params, 0), c->job, sizeof(c->job)) <= 0 ||
	    json_string(d, json_at(d, params, 7), c->ntime,
	    sizeof(c->ntime)) != 8) {
		conn_kill(c, "bad mining.notify");
		return;
	}
	c->have_job = 1;
	if (json_type(d, json_at(d, params, 8)) == JSON_TRUE &&
	    c->notified_ns == 0)
		c->notified_ns = now;
	if (!have_shape && json_type(d, br) == JSON_ARRAY) {
		cb1_bytes = d->toks[json_at(d, params, 2)].len / 2;
		cb_bytes = cb1_bytes + d->toks[json_at(d, params, 3)].len / 2;
		nbranch = d->toks[br].size;
		have_shape = 1;
	}
}

static void
on_share_reply(struct conn *c, const struct json_doc *d, int64_t now)
{
	int64_t sent = c->sent_ns[c->head % LG_MAX_K], code = 0;
	int e = json_get(d, 0, "error"), i;

	if (c->inflight == 0)
		return;
	c->head++;
	c->inflight--;
	if (now < win_start || now > win_end)
		return;
	nreplies++;
	if (json_type(d, json_get(d, 0, "result")) == JSON_TRUE)
		naccepted++;
	else {
		json_int64(d, json_at(d, e, 0), &code);
		for (i = 0; i < LG_MAX_CODES; i++)
			if (ncodes[i][0] == (uint64_t)code || ncodes[i][1] == 0) {
				ncodes[i][0] = (uint64_t)code;
				ncodes[i][1]++;
				break;
			}
	}
	if (nlat == lat_cap && lat_cap < LG_MAX_SAMPLES) {
		lat_cap = lat_cap ? 2 * lat_cap : 65536;
		if ((lat_us = realloc(lat_us, lat_cap * sizeof(*lat_us))) == NULL)
			die("out of memory");
	}
	if (nlat < lat_cap)
		lat_us[nlat++] = (uint32_t)((now - sent) / 1000);
}

static void
on_line(struct conn *c, const char *line, size_t n, int64_t now)
{
	struct json_tok toks[LG_MAX_TOKENS];
	struct json_doc d;
	int64_t id = -1;
	int m, r;
	char err[128];

	if (json_parse(&d, line, n, toks, LG_MAX_TOKENS) < 0) {
		snprintf(err, sizeof(err), "not JSON: %.*s",
		    (int)(n < 60 ? n : 60), line);
		conn_kill(c, err);
		return;
	}
	m = json_get(&d, 0, "method");
	if (json_streq(&d, m, "mining.notify")) {
		notify_bytes = n + 1;
		on_notify(c, &d, json_get(&d, 0, "params"), now);
		top_up(c, now);
		return;
	}
	if (m >= 0 || json_int64(&d, json_get(&d, 0, "id"), &id) < 0)
		return;		/* set_difficulty, messages */
	r = json_get(&d, 0, "result");
	if (id == 1) {		/* [subscriptions, en1, en2 size] */
		if (json_int64(&d, json_at(&d, r, 2), &id) < 0 || id < 1 ||
		    id > 16)
			conn_kill(c, "bad subscribe reply");
		c->en2_size = (int)id;
	} else if (id == 2) {
		if (json_type(&d, r) != JSON_TRUE) {
			snprintf(err, sizeof(err), "authorize refused: %.*s",
			    (int)(n < 80 ? n : 80), line);
			conn_kill(c, err);
		} else
			c->authorized = 1;
	} else {
		on_share_reply(c, &d, now);
		top_up(c, now);
	}
}

static void
conn_read(struct conn *c, int64_t now)
{
	ssize_t n = recv(c->fd, c->in + c->in_len, LG_IN_CAP - c->in_len, 0);
	size_t off = 0;
	char *nl;

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		conn_kill(c, n == 0 ? "closed by the pool" : strerror(errno));
		return;
	}
	if (n < 0)
		return;
	c->in_len += (size_t)n;
	while (c->state == S_OPEN &&
	    (nl = memchr(c->in + off, '\n', c->in_len - off)) != NULL) {
		on_line(c, c->in + off, (size_t)(nl - (c->in + off)), now);
		off = (size_t)(nl - c->in) + 1;
	}
	if (c->state != S_OPEN)
		return;
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	if (c->in_len == LG_IN_CAP)
		conn_kill(c, "line too long");
}

/* ---- the loop ---------------------------------------------------------- */

static struct pollfd *fds;
static int trig_fd = -1;	/* notify: the request to the mock node */
static char trig_buf[128];
static size_t trig_len;

/* One poll() over every connection (and the trigger), then the I/O. */
static void
step(int timeout_ms, int *opened)
{
	int i, n, nfd = 1;
	int64_t now;

	fds[0].fd = trig_fd;
	fds[0].events = POLLIN;
	for (i = 0; i < opt.conns; i++) {
		struct conn *c = &cs[i];

		fds[nfd].fd = (c->state == S_CONNECTING || c->state == S_OPEN) ?
		    c->fd : -1;
		fds[nfd].events = (short)(c->state == S_CONNECTING ? POLLOUT :
		    c->out_len > 0 ? POLLIN | POLLOUT : POLLIN);
		fds[nfd++].revents = 0;
	}
	n = poll(fds, (nfds_t)nfd, timeout_ms);
	if (n < 0 && errno != EINTR)
		die("poll failed");
	now = now_ns();
	if (trig_fd >= 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
		ssize_t r = recv(trig_fd, trig_buf + trig_len,
		    sizeof(trig_buf) - 1 - trig_len, 0);

		if (r > 0)
			trig_len += (size_t)r;
		trig_buf[trig_len] = '\0';
		if (r <= 0 || trig_len == sizeof(trig_buf) - 1) {
			close(trig_fd);
			trig_fd = -1;
		}
	}
	for (i = 0; n > 0 && i < opt.conns; i++) {
		struct conn *c = &cs[i];
		short ev = fds[i + 1].revents;

		if (ev == 0 || fds[i + 1].fd != c->fd)
			continue;
		if (c->state == S_CONNECTING) {
			conn_ready(c);
			(*opened)--;
			continue;
		}
		if (ev & POLLOUT)
			conn_flush(c);
		if (c->state == S_OPEN && (ev & (POLLIN | POLLHUP | POLLERR)))
			conn_read(c, now);
	}
}

static int
count_ready(void)
{
	int i, n = 0;

	for (i = 0; i < opt.conns; i++)
		n += cs[i].state == S_OPEN && cs[i].have_job;
	return n;
}

/* Connect everybody, at most LG_CONNECTING in progress at once, until
 * each has its first job or the deadline passes.  Returns how many did. */
static int
connect_all(void)
{
	int64_t deadline = now_ns() + (int64_t)(opt.timeout * 0.5e9);
	int next = 0, pending = 0, ready = 0;

	while (now_ns() < deadline) {
		while (next < opt.conns && pending < LG_CONNECTING) {
			conn_open(&cs[next++]);
			pending += cs[next - 1].state == S_CONNECTING;
		}
		step(50, &pending);
		if (next == opt.conns && pending == 0 &&
		    (ready = count_ready()) + (int)nerrors >= opt.conns)
			break;
	}
	return count_ready();
}

static void
run_for(int64_t until)
{
	int none = 0;
	int64_t now;

	while ((now = now_ns()) < until && now < t_end_all)
		step((int)((until - now) / 1000000) + 1, &none);
}

/* ---- measurements ------------------------------------------------------ */

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void
measure_shares(int ready)
{
	long long t0, t1;
	double g0, g1, secs, tick = (double)sysconf(_SC_CLK_TCK);
	int64_t now = now_ns();
	size_t comp = 0;
	int i;

	win_start = now + (int64_t)(opt.warmup * 1e9);
	win_end = win_start + (int64_t)(opt.secs * 1e9);
	sending = 1;
	for (i = 0; i < opt.conns; i++)
		top_up(&cs[i], now);
	run_for(win_start);
	t0 = pool_cpu_ticks();
	g0 = self_cpu_s();
	run_for(win_end);
	t1 = pool_cpu_ticks();
	g1 = self_cpu_s();
	sending = 0;
	secs = (double)(now_ns() - win_start) / 1e9;
	qsort(lat_us, nlat, sizeof(*lat_us), cmp_u32);
	/* As bench_job counts them: the coinbase blocks past the midstate
	 * (+1 for its second hash), 3 per branch level, 3 for the header. */
	if (have_shape)
		comp = (cb_bytes + 4 + (size_t)cs[0].en2_size + 9 + 63) / 64 -
		    cb1_bytes / 64 + 1 + 3 * nbranch + 3;
	printf("bench %s N=%d K=%d users=%d ready=%d secs=%.2f shares=%llu "
	    "shares_per_s=%.0f p50_ms=%.3f p99_ms=%.3f accepted=%llu",
	    opt.label ? opt.label : "pool_shares", opt.conns, opt.k, opt.users,
	    ready, secs, (unsigned long long)nreplies, nreplies / secs,
	    nlat ? lat_us[nlat / 2] / 1e3 : -1.0,
	    nlat ? lat_us[nlat * 99 / 100] / 1e3 : -1.0,
	    (unsigned long long)naccepted);
	for (i = 0; i < LG_MAX_CODES && ncodes[i][1] > 0; i++)
		printf(" code%llu=%llu", (unsigned long long)ncodes[i][0],
		    (unsigned long long)ncodes[i][1]);
	printf(" pool_cpu_pct=%.1f shares_per_pool_cpu_s=%.0f "
	    "compressions_per_check=%zu pool_rss_kb=%ld gen_cpu_pct=%.1f "
	    "connect_s=%.2f errors=%llu\n", (t1 - t0) / tick / secs * 100,
	    t1 > t0 ? nreplies / ((t1 - t0) / tick) : 0.0, comp, pool_rss_kb(),
	    (g1 - g0) / secs * 100, connect_s, (unsigned long long)nerrors);
}

/* GET /newblock on the mock node, answered later through trig_fd. */
static void
trigger(void)
{
	static const char req[] = "GET /newblock HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n";
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)opt.node_port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	trig_len = 0;
	trig_buf[0] = '\0';
	if ((trig_fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(trig_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    send(trig_fd, req, sizeof(req) - 1, MSG_NOSIGNAL) < 0)
		die("cannot reach the mock node's /newblock");
	fcntl(trig_fd, F_SETFL, fcntl(trig_fd, F_GETFL) | O_NONBLOCK);
}

/* The mock's "HEIGHT POLLS MS" after the HTTP head; MS in epoch ms. */
static double
trigger_written_ms(void)
{
	const char *body = strstr(trig_buf, "\r\n\r\n");
	long long h, polls, ms;

	if (body == NULL || sscanf(body + 4, "%lld %lld %lld", &h, &polls,
	    &ms) != 3 || polls < 1)
		return -1;
	return (double)ms;
}

static int
one_round(int64_t *arr, int *got, double *from_write)
{
	int64_t t0, deadline;
	struct timespec rt;
	double written, last_real;
	int i, n = 0, live, none = 0;

	for (i = 0; i < opt.conns; i++)
		cs[i].notified_ns = 0;
	t0 = now_ns();
	deadline = t0 + (int64_t)LG_ROUND_MS * 1000000;
	trigger();
	for (;;) {
		live = 0;
		n = 0;
		for (i = 0; i < opt.conns; i++) {
			live += cs[i].state == S_OPEN;
			n += cs[i].state == S_OPEN && cs[i].notified_ns != 0;
		}
		if ((n == live && trig_fd < 0) || now_ns() > deadline)
			break;
		step(20, &none);
	}
	clock_gettime(CLOCK_REALTIME, &rt);
	for (i = 0, n = 0; i < opt.conns; i++)
		if (cs[i].notified_ns != 0)
			arr[n++] = cs[i].notified_ns - t0;
	qsort(arr, (size_t)n, sizeof(*arr), cmp_i64);
	written = trigger_written_ms();
	last_real = (double)rt.tv_sec * 1e3 + rt.tv_nsec / 1e6 -
	    (n ? (double)(now_ns() - t0 - arr[n - 1]) / 1e6 : 0);
	*from_write = written > 0 && n ? last_real - written : -1;
	*got = n;
	return n;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#define LG_MAX_ROUNDS 64

/* Rounds one second apart; the summary line has the medians. */
static void
measure_notify(int ready)
{
	int64_t *arr = malloc(((size_t)opt.conns + 1) * sizeof(*arr));
	double last[LG_MAX_ROUNDS], fw[LG_MAX_ROUNDS], fws[LG_MAX_ROUNDS];
	const char *label = opt.label ? opt.label : "pool_notify";
	int r, got, nfw = 0, complete = 0;
	int rounds = opt.rounds > LG_MAX_ROUNDS ? LG_MAX_ROUNDS : opt.rounds;

	if (arr == NULL)
		die("out of memory");
	run_for(now_ns() + 500000000);	/* let the first jobs settle */
	for (r = 0; r < rounds && now_ns() < t_end_all; r++) {
		one_round(arr, &got, &fw[r]);
		last[r] = got ? arr[got - 1] / 1e6 : -1;
		complete += got == ready;
		if (fw[r] >= 0)
			fws[nfw++] = fw[r];
		printf("bench %s_round N=%d users=%d round=%d got=%d "
		    "first_ms=%.2f p50_ms=%.2f last_ms=%.2f "
		    "from_node_write_ms=%.2f\n", label, opt.conns, opt.users,
		    r + 1, got, got ? arr[0] / 1e6 : -1.0,
		    got ? arr[got / 2] / 1e6 : -1.0, last[r], fw[r]);
		fflush(stdout);
		run_for(now_ns() + 1000000000);
	}
	qsort(last, (size_t)r, sizeof(double), cmp_double);
	qsort(fws, (size_t)nfw, sizeof(double), cmp_double);
	printf("bench %s N=%d users=%d ready=%d rounds=%d complete_rounds=%d "
	    "median_last_ms=%.2f median_from_node_write_ms=%.2f "
	    "notify_bytes=%zu pool_rss_kb=%ld connect_s=%.2f errors=%llu\n",
	    label, opt.conns, opt.users, ready, r, complete,
	    r ? last[r / 2] : -1.0, nfw ? fws[nfw / 2] : -1.0, notify_bytes,
	    pool_rss_kb(), connect_s, (unsigned long long)nerrors);
	free(arr);
}

static double
cpu_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The raw compression rate in CPU time, as the pool's shares per CPU
 * second are counted: on a shared machine wall time would mix in the
 * other users' load. */
static void
sha_rate(void)
{
	uint32_t st[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t block[64] = { 1 };
	double rate[7], t0;
	int r, i, n = 500000;

	for (r = 0; r < 7; r++) {
		t0 = cpu_now_s();
		for (i = 0; i < n; i++) {
			block[i & 63] ^= (uint8_t)i;
			sha256_transform(st, block);
		}
		rate[r] = n / (cpu_now_s() - t0);
	}
	qsort(rate, 7, sizeof(rate[0]), cmp_double);
	printf("bench sha256_transform_cpu median_per_s=%.0f check=%08x\n",
	    rate[3], (unsigned)st[0]);
}

/* The bound the pool's notify fan-out is compared with: a child process
 * (the "pool") writes --bytes to each of --conns loopback connections in a
 * bare send() loop while this one reads them all with poll(), as in the
 * notify rounds.  Per round: the child's loop time and the time until the
 * last byte was read here. */
static void
send_floor(void)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int ls, go[2], res[2], i, r, n = opt.conns, *fd;
	int rounds = opt.rounds > LG_MAX_ROUNDS ? LG_MAX_ROUNDS : opt.rounds;
	double snd[LG_MAX_ROUNDS], rcv[LG_MAX_ROUNDS];
	struct pollfd *pf = calloc((size_t)n, sizeof(*pf));
	char *buf = malloc((size_t)opt.bytes), c;
	pid_t pid;

	fd = calloc((size_t)n, sizeof(*fd));
	if (pf == NULL || buf == NULL || fd == NULL)
		die("out of memory");
	memset(buf, 'x', (size_t)opt.bytes);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((ls = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(ls, 4096) < 0 ||
	    getsockname(ls, (struct sockaddr *)&sa, &sl) < 0 ||
	    pipe(go) < 0 || pipe(res) < 0)
		die("send-floor set-up");
	if ((pid = fork()) < 0)
		die("fork");
	if (pid == 0) {		/* the sender */
		close(go[1]);	/* so that the parent's close ends it */
		close(res[0]);
		for (i = 0; i < n; i++)
			if ((fd[i] = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
			    connect(fd[i], (struct sockaddr *)&sa,
			    sizeof(sa)) < 0)
				_exit(1);
		for (i = 0; i < n; i++)
			fcntl(fd[i], F_SETFL, O_NONBLOCK);
		while (read(go[0], &c, 1) == 1) {
			int64_t t0 = now_ns(), dt;

			for (i = 0; i < n; i++)
				(void)send(fd[i], buf, (size_t)opt.bytes,
				    MSG_NOSIGNAL);
			dt = now_ns() - t0;
			if (write(res[1], &dt, sizeof(dt)) != sizeof(dt))
				_exit(1);
		}
		_exit(0);
	}
	close(go[0]);
	close(res[1]);
	for (i = 0; i < n; i++) {
		struct pollfd lp = { ls, POLLIN, 0 };

		if (poll(&lp, 1, 10000) <= 0)
			die("send-floor: the sender did not connect");
		if ((fd[i] = accept(ls, NULL, NULL)) < 0)
			die("accept");
		fcntl(fd[i], F_SETFL, O_NONBLOCK);
		pf[i].fd = fd[i];
		pf[i].events = POLLIN;
	}
	for (r = 0; r < rounds; r++) {
		int64_t t0, dt, end, want = (int64_t)n * opt.bytes, got = 0;
		char rb[16384];

		struct timespec pause = { 0, 300000000 };

		nanosleep(&pause, NULL);
		t0 = now_ns();
		end = t0 + (int64_t)LG_ROUND_MS * 1000000;
		if (write(go[1], "g", 1) != 1)
			die("send-floor: the sender is gone");
		while (got < want && now_ns() < end) {
			if (poll(pf, (nfds_t)n, 1000) <= 0)
				continue;
			for (i = 0; i < n; i++) {
				ssize_t k;

				if (!(pf[i].revents & POLLIN))
					continue;
				while ((k = read(fd[i], rb, sizeof(rb))) > 0)
					got += k;
			}
		}
		rcv[r] = (now_ns() - t0) / 1e6;
		if (got < want || read(res[0], &dt, sizeof(dt)) != sizeof(dt))
			die("send-floor: a round did not complete");
		snd[r] = dt / 1e6;
	}
	close(go[1]);
	waitpid(pid, NULL, 0);
	qsort(snd, (size_t)rounds, sizeof(double), cmp_double);
	qsort(rcv, (size_t)rounds, sizeof(double), cmp_double);
	printf("bench send_floor N=%d bytes=%d rounds=%d median_send_loop_ms=%.2f "
	    "median_last_read_ms=%.2f\n", n, opt.bytes, rounds,
	    snd[rounds / 2], rcv[rounds / 2]);
	for (i = 0; i < n; i++)
		close(fd[i]);
	free(fd);
	free(pf);
	free(buf);
	close(ls);
}

/* ---- main -------------------------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr, "usage: loadgen --pid POOLPID [--port 3333] "
	    "[--conns N] [--users U | --address A] [--label NAME] "
	    "[--timeout S]\n"
	    "  shares (default): [--outstanding K] [--secs S] [--warmup S]\n"
	    "  --idle [--hold S]\n"
	    "  --notify [--node-port 18332] [--rounds R]\n"
	    "       loadgen --sha-rate\n"
	    "       loadgen --send-floor [--conns N] [--bytes B] "
	    "[--rounds R]\n");
	exit(2);
}

static void
parse_args(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--idle") == 0)
			opt.mode = M_IDLE;
		else if (strcmp(a, "--notify") == 0)
			opt.mode = M_NOTIFY;
		else if (strcmp(a, "--sha-rate") == 0)
			opt.mode = M_SHA;
		else if (strcmp(a, "--send-floor") == 0)
			opt.mode = M_FLOOR;
		else if (v == NULL)
			usage();
		else if (strcmp(a, "--label") == 0)
			opt.label = v, i++;
		else if (strcmp(a, "--address") == 0)
			opt.address = v, i++;
		else if (strcmp(a, "--hold") == 0)
			opt.hold = atof(v), i++;
		else if (strcmp(a, "--secs") == 0)
			opt.secs = atof(v), i++;
		else if (strcmp(a, "--warmup") == 0)
			opt.warmup = atof(v), i++;
		else if (strcmp(a, "--timeout") == 0)
			opt.timeout = atof(v), i++;
		else {
			int *dst = strcmp(a, "--port") == 0 ? &opt.port :
			    strcmp(a, "--node-port") == 0 ? &opt.node_port :
			    strcmp(a, "--conns") == 0 ? &opt.conns :
			    strcmp(a, "--users") == 0 ? &opt.users :
			    strcmp(a, "--outstanding") == 0 ? &opt.k :
			    strcmp(a, "--rounds") == 0 ? &opt.rounds :
			    strcmp(a, "--bytes") == 0 ? &opt.bytes :
			    strcmp(a, "--pid") == 0 ? &opt.pid : NULL;

			if (dst == NULL)
				usage();
			*dst = atoi(v);
			i++;
		}
	}
	if (opt.conns < 1 || opt.conns > 1000000 || opt.users < 1 ||
	    opt.k < 1 || opt.k > LG_MAX_K || opt.secs <= 0 || opt.warmup < 0 ||
	    opt.timeout <= 0 || opt.rounds < 1 || opt.bytes < 1 ||
	    opt.bytes > 65536)
		usage();
}

/* Descriptors for every connection, raising the hard limit too (root). */
static void
raise_nofile(void)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)opt.conns + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit");
	if (rl.rlim_cur >= need)
		return;
	if (rl.rlim_max < need)
		rl.rlim_max = need;
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("cannot raise RLIMIT_NOFILE (ulimit -n) for --conns");
}

int
main(int argc, char **argv)
{
	long rss0;
	int i, ready;
	char addr[40];

	parse_args(argc, argv);
	if (opt.mode == M_SHA) {
		sha_rate();
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	if (opt.mode == M_FLOOR) {
		send_floor();
		return 0;
	}
	t_end_all = now_ns() + (int64_t)(opt.timeout * 1e9);
	cs = calloc((size_t)opt.conns, sizeof(*cs));
	fds = calloc((size_t)opt.conns + 1, sizeof(*fds));
	if (cs == NULL || fds == NULL)
		die("out of memory");
	for (i = 0; i < opt.conns; i++) {
		cs[i].idx = i;
		cs[i].fd = -1;
		make_address((unsigned)(i % opt.users), addr, sizeof(addr));
		snprintf(cs[i].user, sizeof(cs[i].user), "%s.w%d",
		    opt.address ? opt.address : addr, i);
	}
	rss0 = pool_rss_kb();
	connect_s = (double)now_ns();
	ready = connect_all();
	connect_s = ((double)now_ns() - connect_s) / 1e9;
	if (ready < opt.conns)
		fprintf(stderr, "loadgen: only %d of %d connections got a job\n",
		    ready, opt.conns);
	if (ready == 0)
		die("no connection got a job");
	if (opt.mode == M_SHARES)
		measure_shares(ready);
	else if (opt.mode == M_NOTIFY)
		measure_notify(ready);
	else {
		long rss1;

		run_for(now_ns() + 1000000000);	/* let the pool settle */
		rss1 = pool_rss_kb();
		printf("bench %s N=%d users=%d ready=%d pool_rss_before_kb=%ld "
		    "pool_rss_kb=%ld rss_per_conn_bytes=%.0f connect_s=%.2f "
		    "errors=%llu\n", opt.label ? opt.label : "pool_idle",
		    opt.conns, opt.users, ready, rss0, rss1,
		    (rss1 - rss0) * 1024.0 / ready, connect_s,
		    (unsigned long long)nerrors);
		if (opt.hold > 0) {
			printf("loadgen: holding %d connections\n", ready);
			fflush(stdout);
			run_for(now_ns() + (int64_t)(opt.hold * 1e9));
			printf("loadgen: released, errors=%llu\n",
			    (unsigned long long)nerrors);
		}
	}
	for (i = 0; i < opt.conns; i++)
		conn_kill(&cs[i], NULL);
	return 0;
}
