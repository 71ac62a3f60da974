/*
 * api.c - the status HTTP server.  A fixed table of API_MAX_CONN
 * connections, each with its own API_MAX_REQUEST input buffer (so a slow
 * client costs nothing but its slot), driven from the pool's poll() loop.
 * A request is answered once its head is complete: the body is built
 * whole by stats.c into a buffer that doubles until it fits (bounded by
 * API_MAX_REPLY), then queued with its header.  While a reply is queued
 * the connection is polled for output only, so pipelined requests wait
 * in the input buffer instead of piling up replies.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "log.h"

#define REPLY_START 16384
#define ACCEPT_BURST 64		/* connections taken per poll round */
#define METHOD_MAX 16

enum route { R_PAGE, R_POOL, R_USER, R_BLOCKS, R_METRICS };

struct conn {
	int fd;			/* -1: free */
	int close_after;	/* close once out is sent */
	int64_t since_ms;	/* accepted, or last answer queued or sent */
	size_t in_len;
	char *out;
	size_t out_off, out_len;
	char in[API_MAX_REQUEST];
};

struct api {
	int lfd;
	struct stats *stats;
	api_info_fn *info;
	void *arg;
	int64_t now_ms;
	struct conn c[API_MAX_CONN];
};

struct req {
	int head_only;
	int keep;		/* keep-alive */
	enum route route;
	char addr[STATS_ADDR_MAX];
};

static char *page_text(size_t *n);

static void
conn_close(struct conn *c)
{
	close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
	c->in_len = c->out_off = c->out_len = 0;
	c->close_after = 0;
}

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* ---- requests ---------------------------------------------------------- */

/* Cuts the line at s and returns the next one ("\r\n" or "\n" ends). */
static char *
cut_line(char *s)
{
	char *nl = strchr(s, '\n');

	if (nl > s && nl[-1] == '\r')
		nl[-1] = '\0';
	*nl = '\0';
	return nl + 1;
}

static int
is_token(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f || strchr("()<>@,;:\\\"/[]?={}",
		    s[i]) != NULL)
			return 0;
	return n > 0;
}

static int
route(char *target, struct req *r)
{
	static const char users[] = "/api/users/";
	size_t n, i;

	target[strcspn(target, "?#")] = '\0';
	if (strcmp(target, "/") == 0)
		r->route = R_PAGE;
	else if (strcmp(target, "/api/pool") == 0)
		r->route = R_POOL;
	else if (strcmp(target, "/api/blocks") == 0)
		r->route = R_BLOCKS;
	else if (strcmp(target, "/metrics") == 0)
		r->route = R_METRICS;
	else if (strncmp(target, users, sizeof(users) - 1) == 0) {
		target += sizeof(users) - 1;
		/* Addresses are base58 or bech32: letters and digits. */
		for (n = strlen(target), i = 0; i < n; i++)
			if (!((target[i] >= '0' && target[i] <= '9') ||
			    (target[i] >= 'a' && target[i] <= 'z') ||
			    (target[i] >= 'A' && target[i] <= 'Z')))
				return 400;
		if (n == 0)
			return 404;
		if (n >= sizeof(r->addr))
			return 400;
		memcpy(r->addr, target, n + 1);
		r->route = R_USER;
	} else
		return 404;
	return 0;
}

/* The request line: METHOD SP target SP HTTP/1.x. */
static int
parse_line(char *line, struct req *r, char **target)
{
	char *sp1 = strchr(line, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;

	if (sp2 == NULL || strchr(sp2 + 1, ' ') != NULL ||
	    (size_t)(sp1 - line) > METHOD_MAX ||
	    !is_token(line, (size_t)(sp1 - line)) || sp1[1] != '/')
		return 400;
	*sp1 = *sp2 = '\0';
	for (*target = sp1 + 1; **target != '\0'; (*target)++)
		if (**target <= ' ' || **target >= 0x7f)
			return 400;
	*target = sp1 + 1;
	if (strcmp(sp2 + 1, "HTTP/1.1") == 0)
		r->keep = 1;
	else if (strcmp(sp2 + 1, "HTTP/1.0") != 0)
		return 400;
	r->head_only = strcmp(line, "HEAD") == 0;
	if (!r->head_only && strcmp(line, "GET") != 0)
		return 405;
	return 0;
}

/* A request head, NUL-terminated, its blank line included.  Returns 0 or
 * the HTTP status of the error to answer. */
static int
parse_head(char *head, struct req *r)
{
	char *line = head, *next = cut_line(head), *target, *colon, *v;
	int st;

	if ((st = parse_line(line, r, &target)) != 0)
		return st;
	for (line = next; *line != '\0'; line = next) {
		next = cut_line(line);
		if (*line == '\0')
			break;
		colon = strchr(line, ':');
		if (colon == NULL || !is_token(line, (size_t)(colon - line)))
			return 400;	/* also folded lines (obsolete) */
		*colon = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		v[strcspn(v, " \t")] = '\0';
		if (strcasecmp(line, "transfer-encoding") == 0 ||
		    (strcasecmp(line, "content-length") == 0 &&
		    strcmp(v, "0") != 0))
			return 413;
		if (strcasecmp(line, "connection") == 0)
			r->keep = strcasecmp(v, "close") == 0 ? 0 :
			    strcasecmp(v, "keep-alive") == 0 ? 1 : r->keep;
	}
	return route(target, r);
}

/* ---- replies ----------------------------------------------------------- */

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

static void
conn_send(struct api *a, struct conn *c)
{
	ssize_t w;

	while (c->out_len > 0) {
		w = send(c->fd, c->out + c->out_off, c->out_len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (w <= 0) {
			conn_close(c);
			return;
		}
		c->out_off += (size_t)w;
		c->out_len -= (size_t)w;
	}
	free(c->out);
	c->out = NULL;
	c->out_off = 0;
	c->since_ms = a->now_ms;
	if (c->close_after)
		conn_close(c);
}

/* Queue header + body (the body left out for HEAD) and start sending. */
static void
reply(struct api *a, struct conn *c, int status, const char *type,
    const char *body, size_t n, int head_only)
{
	char h[640];
	int hn;

	hn = snprintf(h, sizeof(h), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n"
	    "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
	    "Content-Security-Policy: default-src 'none'; script-src "
	    "'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'"
	    "\r\n%sConnection: %s\r\n\r\n", status, reason(status), type, n,
	    status == 405 ? "Allow: GET, HEAD\r\n" : "",
	    c->close_after ? "close" : "keep-alive");
	if (head_only)
		n = 0;
	if (hn < 0 || (size_t)hn >= sizeof(h) ||
	    (c->out = malloc((size_t)hn + n)) == NULL) {
		conn_close(c);
		return;
	}
	memcpy(c->out, h, (size_t)hn);
	if (n > 0)
		memcpy(c->out + hn, body, n);
	c->out_off = 0;
	c->out_len = (size_t)hn + n;
	c->since_ms = a->now_ms;
	conn_send(a, c);
}

static void
reply_error(struct api *a, struct conn *c, int status, int head_only)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%d %s\n", status,
	    reason(status));

	reply(a, c, status, "text/plain; charset=utf-8", body, (size_t)n,
	    head_only);
}

/* The body of a routed request, malloc'd; NULL with *status 404 or 500. */
static char *
build(struct api *a, const struct req *r, size_t *n, int *status)
{
	struct stats_pool_info pi;
	struct json_w w;
	int64_t now = (int64_t)time(NULL);
	size_t cap;
	char *buf = NULL, *nb;
	int len = -1;

	if (r->route == R_PAGE) {
		if ((buf = page_text(n)) == NULL)
			*status = 500;
		return buf;
	}
	memset(&pi, 0, sizeof(pi));
	if (a->info != NULL && (r->route == R_POOL || r->route == R_METRICS))
		a->info(a->arg, &pi);
	for (cap = REPLY_START; len < 0 && cap <= (size_t)API_MAX_REPLY;
	    cap *= 2) {
		if ((nb = realloc(buf, cap)) == NULL)
			break;
		buf = nb;
		json_w_init(&w, buf, cap);
		if (r->route == R_METRICS) {
			len = stats_metrics(a->stats, &pi, now, buf, cap);
			continue;
		}
		if (r->route == R_POOL)
			stats_json_pool(a->stats, &pi, now, &w);
		else if (r->route == R_BLOCKS)
			stats_json_blocks(a->stats, &w);
		else if (stats_json_user(a->stats, r->addr, now, &w) < 0) {
			free(buf);
			*status = 404;
			return NULL;
		}
		len = json_w_end(&w);
	}
	if (len < 0) {
		free(buf);
		*status = 500;
		return NULL;
	}
	*n = (size_t)len;
	return buf;
}

static void
answer(struct api *a, struct conn *c, char *head)
{
	static const char *const types[] = {
		"text/html; charset=utf-8", "application/json",
		"application/json", "application/json",
		"text/plain; version=0.0.4; charset=utf-8"
	};
	struct req r;
	size_t n = 0;
	char *body;
	int st;

	memset(&r, 0, sizeof(r));
	st = parse_head(head, &r);
	/* After a 404 the framing is sound; after other errors it is not. */
	c->close_after = !r.keep || (st != 0 && st != 404);
	if (st == 0 && (body = build(a, &r, &n, &st)) != NULL) {
		reply(a, c, 200, types[r.route], body, n, r.head_only);
		free(body);
	} else
		reply_error(a, c, st, r.head_only);
}

/* Length of the head ending in a blank line, or 0 when incomplete. */
static size_t
head_len(const char *s, size_t n)
{
	const char *p = s, *nl;

	while ((nl = memchr(p, '\n', n - (size_t)(p - s))) != NULL) {
		p = nl + 1;
		if (p < s + n && *p == '\n')
			return (size_t)(p - s) + 1;
		if (p + 1 < s + n && p[0] == '\r' && p[1] == '\n')
			return (size_t)(p - s) + 2;
	}
	return 0;
}

/* Answer every complete request buffered, while replies go out at once. */
static void
conn_process(struct api *a, struct conn *c)
{
	char head[API_MAX_REQUEST + 1];
	size_t h, skip;

	while (c->fd >= 0 && c->out_len == 0 && !c->close_after) {
		/* Blank lines before a request are allowed (RFC 9112). */
		for (skip = 0; skip < c->in_len && (c->in[skip] == '\r' ||
		    c->in[skip] == '\n'); skip++)
			;
		c->in_len -= skip;
		memmove(c->in, c->in + skip, c->in_len);
		if ((h = head_len(c->in, c->in_len)) == 0) {
			if (c->in_len == API_MAX_REQUEST) {
				c->close_after = 1;
				reply_error(a, c, 431, 0);
			}
			return;
		}
		memcpy(head, c->in, h);
		head[h] = '\0';
		c->in_len -= h;
		memmove(c->in, c->in + h, c->in_len);
		if (memchr(head, '\0', h) != NULL) {
			c->close_after = 1;
			reply_error(a, c, 400, 0);
		} else
			answer(a, c, head);
	}
}

static void
conn_read(struct api *a, struct conn *c)
{
	ssize_t r = recv(c->fd, c->in + c->in_len,
	    API_MAX_REQUEST - c->in_len, 0);

	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR)) {
		conn_close(c);
		return;
	}
	if (r > 0) {
		c->in_len += (size_t)r;
		conn_process(a, c);
	}
}

/* ---- the loop's side --------------------------------------------------- */

/* A free slot, or the longest-idle one between requests, closed. */
static struct conn *
slot(struct api *a)
{
	struct conn *c, *idle = NULL;

	for (c = a->c; c < a->c + API_MAX_CONN; c++) {
		if (c->fd < 0)
			return c;
		if (c->in_len == 0 && c->out_len == 0 &&
		    (idle == NULL || c->since_ms < idle->since_ms))
			idle = c;
	}
	if (idle != NULL)
		conn_close(idle);
	return idle;
}

static void
accept_some(struct api *a)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n";
	struct conn *c;
	int fd, k;

	for (k = 0; k < ACCEPT_BURST; k++) {
		if ((fd = accept(a->lfd, NULL, NULL)) < 0)
			return;
		if (set_nonblock(fd) < 0 || (c = slot(a)) == NULL) {
			if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL) < 0)
				log_debug("api: 503 not sent: %s",
				    strerror(errno));
			close(fd);
			continue;
		}
		c->fd = fd;
		c->since_ms = a->now_ms;
	}
}

struct api *
api_new(const char *host, int port, struct stats *stats, api_info_fn *info,
    void *arg, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	struct api *a;
	char ps[8];
	int e, fd, one = 1;

	if (host == NULL || *host == '\0')
		host = "127.0.0.1";
	if (port < 0 || port > 65535) {
		snprintf(err, errlen, "api port %d out of range", port);
		return NULL;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(ps, sizeof(ps), "%d", port);
	if ((e = getaddrinfo(host, ps, &hints, &res)) != 0) {
		snprintf(err, errlen, "api host %s: %s", host, gai_strerror(e));
		return NULL;
	}
	fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) < 0 || bind(fd, res->ai_addr, res->ai_addrlen) < 0 ||
	    listen(fd, 32) < 0 || set_nonblock(fd) < 0) {
		snprintf(err, errlen, "api %s port %d: %s", host, port,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return NULL;
	}
	freeaddrinfo(res);
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		return NULL;
	}
	a->lfd = fd;
	a->stats = stats;
	a->info = info;
	a->arg = arg;
	for (e = 0; e < API_MAX_CONN; e++)
		a->c[e].fd = -1;
	return a;
}

void
api_free(struct api *a)
{
	int i;

	if (a == NULL)
		return;
	for (i = 0; i < API_MAX_CONN; i++)
		if (a->c[i].fd >= 0)
			conn_close(&a->c[i]);
	close(a->lfd);
	free(a);
}

int
api_port(const struct api *a)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char serv[8];

	if (getsockname(a->lfd, (struct sockaddr *)&ss, &len) < 0 ||
	    getnameinfo((struct sockaddr *)&ss, len, NULL, 0, serv,
	    sizeof(serv), NI_NUMERICSERV) != 0)
		return -1;
	return atoi(serv);
}

int
api_pollfds(struct api *a, struct pollfd *fds, int max)
{
	int i;

	if (max < API_MAX_CONN + 1)
		return -1;
	fds[0].fd = a->lfd;
	fds[0].events = POLLIN;
	fds[0].revents = 0;
	for (i = 0; i < API_MAX_CONN; i++) {
		fds[i + 1].fd = a->c[i].fd;
		fds[i + 1].events = a->c[i].out_len > 0 ? POLLOUT : POLLIN;
		fds[i + 1].revents = 0;
	}
	return API_MAX_CONN + 1;
}

void
api_handle(struct api *a, const struct pollfd *fds, int n, int64_t now_ms)
{
	static const struct linger abort_ = { 1, 0 };
	struct conn *c;
	short ev;
	int i;

	a->now_ms = now_ms;
	for (i = 0; i < API_MAX_CONN && i + 1 < n; i++) {
		c = &a->c[i];
		ev = fds[i + 1].revents;
		if (c->fd < 0 || fds[i + 1].fd != c->fd || ev == 0)
			continue;
		if (c->out_len > 0) {
			conn_send(a, c);
			if (c->fd >= 0 && c->out_len == 0)
				conn_process(a, c);
		} else
			conn_read(a, c);
	}
	/* After the connections, so a new one cannot inherit the revents
	 * of a closed one with the same fd number. */
	if (n > 0 && fds[0].fd == a->lfd && (fds[0].revents & POLLIN))
		accept_some(a);
	for (i = 0; i < API_MAX_CONN; i++)
		if (a->c[i].fd >= 0 &&
		    now_ms - a->c[i].since_ms >= API_IDLE_MS) {
			/* A reset, not a FIN queued behind data the client
			 * does not read: the kernel lets the socket go. */
			setsockopt(a->c[i].fd, SOL_SOCKET, SO_LINGER, &abort_,
			    sizeof(abort_));
			conn_close(&a->c[i]);
		}
}

int
api_timeout_ms(const struct api *a, int64_t now_ms)
{
	int64_t t, best = -1;
	int i;

	for (i = 0; i < API_MAX_CONN; i++) {
		if (a->c[i].fd < 0)
			continue;
		t = a->c[i].since_ms + API_IDLE_MS - now_ms;
		if (best < 0 || t < best)
			best = t < 0 ? 0 : t;
	}
	return (int)best;
}

/* ---- the dashboard ----------------------------------------------------- */

/* One page, no external assets: it reads /api/pool, /api/blocks and
 * /api/users/<address> every 10 s and draws the 24-h history as SVG.
 * Everything from miners goes through textContent, never HTML.  Split in
 * parts because C compilers need not take string literals over 4095
 * bytes. */
static const char *const page[] = {
	"<!DOCTYPE html>\n"
	"<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1"
	"\">\n"
	"<title>stratum pool</title>\n"
	"<style>\n"
	":root{--bg:#0f1419;--fg:#e6e6e6;--mute:#8a96a3;--card:#1a2129;--line"
	":#2a323c;--acc:#f7931a;--ok:#3fb950;--bad:#f85149}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;font:14px/1.4 system-ui,sans-serif;background:var(--bg"
	");color:var(--fg)}\n"
	"header{display:flex;flex-wrap:wrap;gap:1em;align-items:baseline;padd"
	"ing:12px 20px;border-bottom:1px solid var(--line)}\n"
	"h1{margin:0;font-size:20px;color:var(--acc)}\n"
	"main{max-width:1200px;margin:auto;padding:16px}\n"
	".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(17"
	"0px,1fr));gap:10px}\n"
	".card{background:var(--card);border-radius:8px;padding:10px 12px}\n"
	".card b{display:block;font-size:18px}\n"
	".card span,.mute,th{color:var(--mute);font-size:12px}\n"
	"h2{font-size:13px;margin:22px 0 8px;color:var(--mute);text-transform"
	":uppercase;letter-spacing:.05em}\n"
	".wrap{overflow-x:auto}\n"
	"table{width:100%;border-collapse:collapse;background:var(--card);bor"
	"der-radius:8px}\n"
	"th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(-"
	"-line);white-space:nowrap}\n"
	"th{font-weight:normal}\n"
	"td.addr{font-family:monospace;white-space:normal;word-break:break-al"
	"l}\n"
	"h2 .addr{text-transform:none;font-family:monospace}\n"
	"#users tr{cursor:pointer}\n"
	"#users tr:hover td,tr.sel td{background:#242d38}\n"
	".on{color:var(--ok)}.off{color:var(--bad)}\n"
	"svg{display:block;width:100%;height:160px;background:var(--card);bor"
	"der-radius:8px}\n"
	"</style></head><body>\n"
	"<header><h1>stratum</h1><span id=\"chain\" class=\"mute\"></span><sp"
	"an id=\"node\"></span><span id=\"upd\" class=\"mute\" style=\"margin"
	"-left:auto\"></span></header>\n"
	"<main>\n"
	"<div class=\"cards\" id=\"cards\"></div>\n"
	"<h2>Pool hashrate, last 24 h <span id=\"peak\"></span></h2>\n"
	"<svg id=\"chart\" viewBox=\"0 0 600 160\" preserveAspectRatio=\"none"
	"\"></svg>\n"
	"<h2>Miners</h2>\n"
	"<div class=\"wrap\"><table><thead><tr><th>Address</th><th>Hashrate 1"
	"m</th><th>5m</th><th>1h</th><th>1d</th><th>Workers</th><th>Best shar"
	"e</th><th>Last share</th></tr></thead><tbody id=\"users\"></tbody></"
	"table></div>\n"
	"<div id=\"detail\"></div>\n"
	"<h2>Blocks found</h2>\n"
	"<div class=\"wrap\"><table><thead><tr><th>Time</th><th>Height</th><t"
	"h>Hash</th><th>Finder</th><th>Verdict</th></tr></thead><tbody id=\"b"
	"locks\"></tbody></table></div>\n"
	"</main>\n"
	"<script>\n"
	"\"use strict\";\n"
	"const $=id=>document.getElementById(id);\n"
	"let sel=decodeURIComponent(location.hash.slice(1))||null;\n"
	"function el(tag,text,cls){const e=document.createElement(tag);if(tex"
	"t!==undefined)e.textContent=String(text);if(cls)e.className=cls;retu"
	"rn e}\n"
	"function si(v,u){let i=0;while(v>=1000&&i<u.length-1){v/=1000;i++}re"
	"turn(v>=100?v.toFixed(0):v>=10?v.toFixed(1):v.toFixed(2))+(u[i]?' '+"
	"u[i]:'')}\n"
	"const hr=h=>si(h,['H/s','kH/s','MH/s','GH/s','TH/s','PH/s','EH/s']);"
	"\n"
	"const df=d=>d<1?String(+d.toPrecision(3)):si(d,['','k','M','G','T','"
	"P','E']);\n"
	"const rej=r=>Object.values(r).reduce((a,b)=>a+b,0);\n"
	"function ago(t){if(!t)return'never';const s=Math.max(0,Date.now()/1e"
	"3-t);return s<90?Math.round(s)+' s ago':s<5400?Math.round(s/60)+' mi"
	"n ago':s<172800?Math.round(s/3600)+' h ago':Math.round(s/86400)+' d "
	"ago'}\n"
	"function row(tb,cells,first){const tr=el('tr');cells.forEach((c,i)=>"
	"tr.appendChild(el('td',c,i?'':first)));tb.appendChild(tr);return tr}"
	"\n"
	"function empty(tb,text,n){tb.replaceChildren();const r=row(tb,[text]"
	",'mute');r.firstChild.colSpan=n}\n"
	"async function get(p){const r=await fetch(p,{cache:'no-store'});if(!"
	"r.ok)throw new Error(p+': HTTP '+r.status);return r.json()}\n",
	"function cards(p){const c=$('cards');c.replaceChildren();[['Hashrate"
	" 1 min',hr(p.hashrate['1m'])],['Hashrate 5 min',hr(p.hashrate['5m'])"
	"],['Hashrate 1 hour',hr(p.hashrate['1h'])],['Hashrate 1 day',hr(p.ha"
	"shrate['1d'])],['Miners connected',p.miners],['Workers online',p.wor"
	"kers],['Best share since block',df(p.best_share)],['Best share ever'"
	",df(p.best_share_ever)],['Blocks found',p.blocks_found],['Shares acc"
	"epted / rejected',p.accepted+' / '+rej(p.rejected)],['Network diffic"
	"ulty',df(p.network_difficulty)],['Template age',p.template_age+' s']"
	"].forEach(([k,v])=>{const d=el('div','','card');d.appendChild(el('b'"
	",v));d.appendChild(el('span',k));c.appendChild(d)})}\n"
	"function svg(tag,attrs){const e=document.createElementNS('http://www"
	".w3.org/2000/svg',tag);for(const k in attrs)e.setAttribute(k,attrs[k"
	"]);return e}\n"
	"function chart(h){const s=$('chart');s.replaceChildren();const max=M"
	"ath.max(1,...h.map(p=>p[1])),n=Math.max(1,h.length-1);const pts=h.ma"
	"p((p,i)=>(i*600/n).toFixed(1)+','+(155-p[1]/max*145).toFixed(1)).joi"
	"n(' ');s.appendChild(svg('polygon',{points:'0,155 '+pts+' 600,155',f"
	"ill:'rgba(247,147,26,.18)'}));s.appendChild(svg('polyline',{points:p"
	"ts,fill:'none',stroke:'#f7931a','stroke-width':'1.5','vector-effect'"
	":'non-scaling-stroke'}));$('peak').textContent='(peak '+hr(max)+')'}"
	"\n"
	"function users(p){const tb=$('users');if(!p.users.length)return empt"
	"y(tb,'No miners yet',8);tb.replaceChildren();if(!sel&&p.users.length"
	"==1)sel=p.users[0].address;p.users.forEach(u=>{const tr=row(tb,[u.ad"
	"dress,hr(u.hashrate['1m']),hr(u.hashrate['5m']),hr(u.hashrate['1h'])"
	",hr(u.hashrate['1d']),u.workers+' / '+u.workers_total,df(u.best_shar"
	"e_ever),ago(u.last_share)],'addr');if(u.address===sel)tr.className='"
	"sel';tr.onclick=()=>{sel=sel===u.address?null:u.address;history.repl"
	"aceState(null,'',sel?'#'+sel:'.');refresh()}})}\n"
	"async function detail(){const d=$('detail');if(!sel)return d.replace"
	"Children();const u=await get('/api/users/'+encodeURIComponent(sel));"
	"const t=el('table'),h=el('tr'),tb=el('tbody'),w=el('div','','wrap');"
	"['Worker','Status','Hashrate 1m','5m','1h','1d','Accepted','Rejected"
	"','Best share','Difficulty','Last share','Agent'].forEach(x=>h.appen"
	"dChild(el('th',x)));t.appendChild(el('thead')).appendChild(h);t.appe"
	"ndChild(tb);u.workers.forEach(k=>{const r=row(tb,[k.name,k.online?'o"
	"nline':'offline',hr(k.hashrate['1m']),hr(k.hashrate['5m']),hr(k.hash"
	"rate['1h']),hr(k.hashrate['1d']),k.accepted,rej(k.rejected),df(k.bes"
	"t_share_ever),df(k.difficulty),ago(k.last_share),k.agent],'addr');r."
	"children[1].className=k.online?'on':'off'});w.appendChild(t);const h"
	"d=el('h2','Workers of ');hd.appendChild(el('span',u.address,'addr'))"
	";d.replaceChildren(hd,w)}\n"
	"function blocks(b){const tb=$('blocks');if(!b.blocks.length)return e"
	"mpty(tb,'None yet',5);tb.replaceChildren();b.blocks.forEach(k=>{cons"
	"t r=row(tb,[new Date(k.time*1e3).toLocaleString(),k.height,k.hash.sl"
	"ice(0,20)+'...',k.finder,k.verdict]);r.children[2].title=k.hash})}\n"
	"async function refresh(){try{const[p,b]=await Promise.all([get('/api"
	"/pool'),get('/api/blocks')]);$('chain').textContent=p.chain+' \\u00b"
	"7 mining block '+p.height+' \\u00b7 up '+ago(p.started).replace(' ag"
	"o','');const n=$('node');n.textContent='node '+p.node;n.className=p."
	"node==='up'?'on':'off';cards(p);chart(p.history);users(p);blocks(b);"
	"await detail();$('upd').textContent='updated '+new Date().toLocaleTi"
	"meString()}catch(e){$('upd').textContent='error: '+e.message}}\n"
	"refresh();setInterval(refresh,10000);\n"
	"</script></body></html>\n",
	NULL
};

static char *
page_text(size_t *n)
{
	size_t i, len = 0;
	char *buf;

	for (i = 0; page[i] != NULL; i++)
		len += strlen(page[i]);
	if ((buf = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0, len = 0; page[i] != NULL; i++) {
		memcpy(buf + len, page[i], strlen(page[i]));
		len += strlen(page[i]);
	}
	*n = len;
	return buf;
}
