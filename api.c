/*
 * api.c - the status HTTP server.  A fixed table of API_MAX_CONN
 * connections, each with its own API_MAX_REQUEST input buffer (so a slow
 * client costs nothing but its slot), driven from the pool's poll() loop.
 * A request is answered once its head is complete: the body is built
 * whole into a buffer that doubles until it fits (up to API_MAX_REPLY),
 * then queued with its header.  While a reply is queued the connection
 * is polled for output only, so pipelined requests wait in the input
 * buffer instead of piling up replies.
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
#define ALNUM "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

/* Routes, by the request path; R_USER is the prefix of /api/users/ADDR. */
enum { R_PAGE, R_POOL, R_BLOCKS, R_METRICS, R_USER };
static const struct { const char *path, *type; } routes[] = {
	{ "/", "text/html; charset=utf-8" },
	{ "/api/pool", "application/json" },
	{ "/api/blocks", "application/json" },
	{ "/metrics", "text/plain; version=0.0.4; charset=utf-8" },
	{ "/api/users/", "application/json" }
};

#define PAGE_PARTS 3
static const char *const page[PAGE_PARTS];

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
	int route;
	char addr[STATS_ADDR_MAX];
};

static void
conn_close(struct conn *c)
{
	close(c->fd);
	free(c->out);
	memset(c, 0, offsetof(struct conn, in));	/* all but the buffer */
	c->fd = -1;
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

/* n bytes of an HTTP token (a method or a header name). */
static int
is_token(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f ||
		    strchr("()<>@,;:\\\"/[]?={}", s[i]) != NULL)
			return 0;
	return n > 0;
}

/* 0, or the HTTP status to answer. */
static int
route(char *target, struct req *r)
{
	size_t n, pre = strlen(routes[R_USER].path);

	target[strcspn(target, "?#")] = '\0';
	for (r->route = R_PAGE; r->route < R_USER; r->route++)
		if (strcmp(target, routes[r->route].path) == 0)
			return 0;
	if (strncmp(target, routes[R_USER].path, pre) != 0)
		return 404;
	/* Addresses are base58 or bech32: letters and digits. */
	target += pre;
	n = strspn(target, ALNUM);
	if (target[n] != '\0' || n >= sizeof(r->addr))
		return 400;
	memcpy(r->addr, target, n + 1);
	return n == 0 ? 404 : 0;
}

/* A request head, NUL-terminated, its blank line included; the request
 * line is METHOD SP target SP HTTP/1.x.  Returns 0 or the HTTP status of
 * the error to answer. */
static int
parse_head(char *head, struct req *r)
{
	char *next = cut_line(head), *line, *sp1, *sp2, *colon, *v;

	sp1 = strchr(head, ' ');
	sp2 = sp1 != NULL ? strchr(sp1 + 1, ' ') : NULL;
	if (sp2 == NULL || strchr(sp2 + 1, ' ') != NULL || sp1[1] != '/' ||
	    sp1 - head > METHOD_MAX || !is_token(head, (size_t)(sp1 - head)))
		return 400;
	*sp1 = *sp2 = '\0';
	for (v = sp1 + 1; *v != '\0'; v++)
		if (*v <= ' ' || *v >= 0x7f)
			return 400;
	r->keep = strcmp(sp2 + 1, "HTTP/1.1") == 0;
	if (!r->keep && strcmp(sp2 + 1, "HTTP/1.0") != 0)
		return 400;
	r->head_only = strcmp(head, "HEAD") == 0;
	if (!r->head_only && strcmp(head, "GET") != 0)
		return 405;
	for (line = next; *line != '\0'; line = next) {
		next = cut_line(line);
		if (*line == '\0')
			break;
		colon = strchr(line, ':');
		if (colon == NULL || !is_token(line, (size_t)(colon - line)))
			return 400;	/* also folded lines (obsolete) */
		*colon = '\0';
		v = colon + 1 + strspn(colon + 1, " \t");
		v[strcspn(v, " \t")] = '\0';
		if (strcasecmp(line, "transfer-encoding") == 0 ||
		    (strcasecmp(line, "content-length") == 0 &&
		    strcmp(v, "0") != 0))
			return 413;
		if (strcasecmp(line, "connection") == 0)
			r->keep = strcasecmp(v, "close") == 0 ? 0 :
			    strcasecmp(v, "keep-alive") == 0 ? 1 : r->keep;
	}
	return route(sp1 + 1, r);
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

/* Queue header and body (the strings of body, left out for HEAD) and
 * start sending. */
static void
reply(struct api *a, struct conn *c, int status, const char *type,
    const char *const *body, int head_only)
{
	char h[640];
	size_t n = 0, i, k;
	int hn;

	for (i = 0; body[i] != NULL; i++)
		n += strlen(body[i]);
	hn = snprintf(h, sizeof(h), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n"
	    "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
	    "Content-Security-Policy: default-src 'none'; script-src "
	    "'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'"
	    "\r\n%sConnection: %s\r\n\r\n", status, reason(status), type, n,
	    status == 405 ? "Allow: GET, HEAD\r\n" : "",
	    c->close_after ? "close" : "keep-alive");
	if (hn < 0 || (size_t)hn >= sizeof(h) ||
	    (c->out = malloc((size_t)hn + n)) == NULL) {
		conn_close(c);
		return;
	}
	memcpy(c->out, h, (size_t)hn);
	c->out_len = (size_t)hn;
	for (i = 0; !head_only && body[i] != NULL; i++) {
		k = strlen(body[i]);
		memcpy(c->out + c->out_len, body[i], k);
		c->out_len += k;
	}
	c->since_ms = a->now_ms;
	conn_send(a, c);
}

static void
reply_error(struct api *a, struct conn *c, int status, int head_only)
{
	char text[64];
	const char *body[] = { text, NULL };

	snprintf(text, sizeof(text), "%d %s\n", status, reason(status));
	reply(a, c, status, "text/plain; charset=utf-8", body, head_only);
}

/* The JSON or metrics of a routed request, malloc'd and NUL-terminated;
 * NULL with *status 404 (no such address) or 500 (too large). */
static char *
build(struct api *a, const struct req *r, int *status)
{
	struct stats_pool_info pi;
	struct json_w w;
	int64_t now = (int64_t)time(NULL);
	size_t cap;
	char *buf = NULL, *nb;
	int len = -1, unknown = 0;

	memset(&pi, 0, sizeof(pi));
	if (a->info != NULL && (r->route == R_POOL || r->route == R_METRICS))
		a->info(a->arg, &pi);
	for (cap = REPLY_START; len < 0 && !unknown &&
	    cap <= (size_t)API_MAX_REPLY; cap *= 2) {
		if ((nb = realloc(buf, cap)) == NULL)
			break;
		buf = nb;
		json_w_init(&w, buf, cap);
		if (r->route == R_POOL)
			stats_json_pool(a->stats, &pi, now, &w);
		else if (r->route == R_BLOCKS)
			stats_json_blocks(a->stats, &w);
		else if (r->route == R_USER)
			unknown = stats_json_user(a->stats, r->addr, now, &w);
		len = r->route == R_METRICS ? stats_metrics(a->stats, &pi,
		    now, buf, cap) : json_w_end(&w);
	}
	if (len < 0 || unknown) {
		free(buf);
		*status = unknown ? 404 : 500;
		return NULL;
	}
	return buf;
}

static void
answer(struct api *a, struct conn *c, char *head)
{
	const char *body[2] = { NULL, NULL };
	char *doc = NULL;
	struct req r;
	int st;

	memset(&r, 0, sizeof(r));
	st = parse_head(head, &r);
	/* After a 404 the framing is sound; after other errors it is not. */
	c->close_after = !r.keep || (st != 0 && st != 404);
	if (st == 0 && r.route == R_PAGE)
		reply(a, c, 200, routes[R_PAGE].type, page, r.head_only);
	else if (st == 0 && (body[0] = doc = build(a, &r, &st)) != NULL)
		reply(a, c, 200, routes[r.route].type, body, r.head_only);
	else
		reply_error(a, c, st, r.head_only);
	free(doc);
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
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	    .ai_socktype = SOCK_STREAM }, *res = NULL;
	struct api *a = NULL;
	char ps[8];
	int e, fd, one = 1;

	host = host != NULL && *host != '\0' ? host : "127.0.0.1";
	if (port < 0 || port > 65535) {
		snprintf(err, errlen, "api port %d out of range", port);
		return NULL;
	}
	snprintf(ps, sizeof(ps), "%d", port);
	if ((e = getaddrinfo(host, ps, &hints, &res)) != 0) {
		snprintf(err, errlen, "api host %s: %s", host, gai_strerror(e));
		return NULL;
	}
	fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) < 0 || bind(fd, res->ai_addr, res->ai_addrlen) < 0 ||
	    listen(fd, 32) < 0 || set_nonblock(fd) < 0 ||
	    (a = calloc(1, sizeof(*a))) == NULL) {
		snprintf(err, errlen, "api %s port %d: %s", host, port,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
	} else {
		a->lfd = fd;
		a->stats = stats;
		a->info = info;
		a->arg = arg;
		for (e = 0; e < API_MAX_CONN; e++)
			a->c[e].fd = -1;
	}
	freeaddrinfo(res);
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
	ssize_t r;
	int i;

	a->now_ms = now_ms;
	for (i = 0; i < API_MAX_CONN && i + 1 < n; i++) {
		c = &a->c[i];
		if (c->fd < 0 || fds[i + 1].fd != c->fd ||
		    fds[i + 1].revents == 0)
			continue;
		if (c->out_len > 0) {
			conn_send(a, c);
			if (c->fd >= 0 && c->out_len == 0)
				conn_process(a, c);
			continue;
		}
		r = recv(c->fd, c->in + c->in_len, API_MAX_REQUEST - c->in_len,
		    0);
		if (r == 0 || (r < 0 && errno != EAGAIN &&
		    errno != EWOULDBLOCK && errno != EINTR))
			conn_close(c);
		else if (r > 0) {
			c->in_len += (size_t)r;
			conn_process(a, c);
		}
	}
	/* After the connections, so a new one cannot inherit the revents
	 * of a closed one with the same fd number. */
	if (n > 0 && fds[0].fd == a->lfd && (fds[0].revents & POLLIN))
		accept_some(a);
	for (c = a->c; c < a->c + API_MAX_CONN; c++)
		if (c->fd >= 0 && now_ms - c->since_ms >= API_IDLE_MS) {
			/* A reset, not a FIN queued behind data the client
			 * does not read: the kernel lets the socket go. */
			setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &abort_,
			    sizeof(abort_));
			conn_close(c);
		}
}

int
api_timeout_ms(const struct api *a, int64_t now_ms)
{
	int64_t t, best = -1;
	int i;

	for (i = 0; i < API_MAX_CONN; i++) {
		t = a->c[i].since_ms + API_IDLE_MS - now_ms;
		if (a->c[i].fd >= 0 && (best < 0 || t < best))
			best = t < 0 ? 0 : t;
	}
	return (int)best;
}

/* ---- the dashboard ----------------------------------------------------- */

/* One page, no external assets: it reads /api/pool, /api/blocks and
 * /api/users/<address> every 10 s and draws the 24-h history as SVG.
 * Everything from miners goes through textContent, never HTML.  In parts,
 * as C compilers need not take string literals over 4095 bytes. */
static const char *const page[PAGE_PARTS] = {
	"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width,"
	"initial-scale=1\">\n<title>stratum pool</title>\n<style>\n"
	"body{margin:0 auto;max-width:1200px;padding:0 16px;font:14px/1.4 "
	"system-ui,sans-serif;background:#0f1419;color:#e6e6e6}header{"
	"display:flex;flex-wrap:wrap;gap:1em;align-items:baseline;"
	"padding:12px 0;border-bottom:1px solid #2a323c}h1{margin:0;"
	"font-size:20px;color:#f7931a}#upd{margin-left:auto}#cards{"
	"display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr)"
	");gap:10px;margin-top:16px}.card,table,svg{background:#1a2129;"
	"border-radius:8px}.card{padding:10px 12px}b{display:block;"
	"font-size:18px}span,th,h2,.mute{color:#8a96a3}h2{font-size:13px;"
	"margin:22px 0 8px;text-transform:uppercase}.wrap{overflow-x:auto}"
	"table{width:100%;border-collapse:collapse}th,td{text-align:left;"
	"padding:6px 10px;border-bottom:1px solid #2a323c;white-space:nowrap;"
	"font-weight:normal}.addr{font-family:monospace;white-space:normal;"
	"word-break:break-all}h2 span{text-transform:none}#users tr:hover td,"
	"tr.sel td{background:#242d38;cursor:pointer}.on{color:#3fb950}.off{"
	"color:#f85149}svg{display:block;width:100%;height:160px}\n"
	"</style></head><body>\n<header><h1>stratum</h1><span id=chain></span>"
	"<span id=node></span><span id=upd></span></header>\n<div id=cards>"
	"</div><h2>Pool hashrate, last 24 h <span id=peak></span></h2><svg "
	"id=chart viewBox=\"0 0 600 160\" preserveAspectRatio=none></svg><h2>"
	"Miners</h2><div class=wrap><table><thead><tr><th>Address<th>Hashrate "
	"1m<th>5m<th>1h<th>1d<th>Workers<th>Best share<th>Last share<tbody "
	"id=users></table></div>\n<div id=detail hidden><h2>Workers of <span "
	"id=who class=addr></span></h2><div class=wrap><table><thead><tr><th>"
	"Worker<th>Status<th>Hashrate 1m<th>5m<th>1h<th>1d<th>Accepted<th>"
	"Rejected<th>Best share<th>Difficulty<th>Last share<th>Agent<tbody "
	"id=workers></table></div></div><h2>Blocks found</h2><div class=wrap>"
	"<table><thead><tr><th>Time<th>Height<th>Hash<th>Finder<th>"
	"Verdict<tbody id=blocks></table></div>\n<script>\n\"use strict\";\n"
	"const $=id=>document.getElementById(id),W=['1m','5m','1h','1d'];\n"
	"let sel=decodeURIComponent(location.hash.slice(1))||null;\n"
	"function el(t,x,c){const e=document.createElement(t);if(x!=null)"
	"e.textContent=x;if(c)e.className=c;return e}\nfunction si(v,u){let "
	"i=0;while(v>=1e3&&i<u.length-1){v/=1e3;i++}return v.toFixed(v>"
	"=100?0:v>=10?1:2)+(u[i]&&' '+u[i])}\nconst hr=h=>si(h,['H/s','kH/s',"
	"'MH/s','GH/s','TH/s','PH/s','EH/s']),rates=h=>W.map(w=>hr(h[w]));\n"
	"const df=d=>d<1?String(+d.toPrecision(3)):si(d,['','k','M','G','T',"
	"'P','E']);\nconst rej=r=>Object.values(r).reduce((a,b)=>a+b,0);\n"
	"function ago(t){const s=Math.max(0,Date.now()/1e3-t),r=Math.round;"
	"return !t?'never':s<90?r(s)+' s ago':s<5400?r(s/60)+' min "
	"ago':s<172800?r(s/3600)+' h ago':r(s/86400)+' d ago'}\nfunction "
	"fill(tb,rows,none,n,c){tb.replaceChildren();if(!rows.length)"
	"tb.appendChild(el('tr')).appendChild(el('td',none,'mute')).colSpan=n;"
	"return rows.map(r=>{const tr=tb.appendChild(el('tr'));r.forEach((x,i)"
	"=>tr.appendChild(el('td',x,i?'':c)));return tr})}\nasync function "
	"get(p){const r=await fetch(p,{cache:'no-store'});if(!r.ok)throw new "
	"Error(p+': HTTP '+r.status);return r.json()}\nfunction cards(p){"
	"const h=rates(p.hashrate);$('cards').replaceChildren(...[['Hashrate "
	"1 min',h[0]],['Hashrate 5 min',h[1]],['Hashrate 1 hour',h[2]],"
	"['Hashrate 1 day',h[3]],['Miners connected',p.miners],['Workers "
	"online',p.workers],['Best share since block',df(p.best_share)],"
	"['Best share ever',df(p.best_share_ever)],['Blocks found',"
	"p.blocks_found],['Shares accepted / rejected',p.accepted+' / "
	"'+rej(p.rejected)],['Network difficulty',df(p.network_difficulty)],"
	"['Template age',p.template_age+' s']].map(([k,v])=>{const d=el('div',"
	"'','card');d.append(el('b',v),el('span',k));return d}))}\n"
	"function svg(t,a){const "
	"e=document.createElementNS('http://www.w3.org/2000/svg',t);for(const "
	"k in a)e.setAttribute(k,a[k]);return e}\n",
	"function chart(h){const max=Math.max(1,...h.map(p=>p[1])),"
	"n=Math.max(1,h.length-1),pts=h.map((p,i)=>(i*600/n).toFixed(1)+',"
	"'+(155-p[1]/max*145).toFixed(1)).join(' ');$('chart')"
	".replaceChildren(svg('polygon',{points:'0,155 '+pts+' 600,155',"
	"fill:'rgba(247,147,26,.18)'}),svg('polyline',{points:pts,fill:'none',"
	"stroke:'#f7931a','vector-effect':'non-scaling-stroke'}));$('peak')"
	".textContent='(peak '+hr(max)+')'}\nfunction users(p){"
	"if(!sel&&p.users.length==1)sel=p.users[0].address;fill($('users'),"
	"p.users.map(u=>[u.address,...rates(u.hashrate),u.workers+' / "
	"'+u.workers_total,df(u.best_share_ever),ago(u.last_share)]),'No "
	"miners yet',8,'addr').forEach((tr,i)=>{const a=p.users[i].address;"
	"if(a===sel)tr.className='sel';tr.onclick=()=>{sel=sel===a?null:a;"
	"history.replaceState(null,'',sel?'#'+sel:'.');refresh()}})}\n"
	"async function detail(){$('detail').hidden=!sel;if(!sel)return;const "
	"u=await get('/api/users/'+encodeURIComponent(sel));$('who')"
	".textContent=u.address;fill($('workers'),u.workers.map(k=>[k.name,"
	"k.online?'online':'offline',...rates(k.hashrate),k.accepted,"
	"rej(k.rejected),df(k.best_share_ever),df(k.difficulty),"
	"ago(k.last_share),k.agent]),'No workers',12,'addr').forEach((r,i)=>{"
	"r.children[1].className=u.workers[i].online?'on':'off'})}\n"
	"function blocks(b){fill($('blocks'),b.blocks.map(k=>[new "
	"Date(k.time*1e3).toLocaleString(),k.height,k.hash.slice(0,20)+'...',"
	"k.finder,k.verdict]),'None yet',5).forEach((r,i)=>{"
	"r.children[2].title=b.blocks[i].hash})}\nasync function refresh(){"
	"try{const[p,b]=await Promise.all([get('/api/pool'),get('/api/blocks')"
	"]);$('chain').textContent=p.chain+' \\u00b7 mining block "
	"'+p.height+' \\u00b7 up '+ago(p.started).replace(' ago','');$('node')"
	".textContent='node '+p.node;$('node')"
	".className=p.node==='up'?'on':'off';cards(p);chart(p.history);"
	"users(p);blocks(b);await detail();$('upd').textContent='updated "
	"'+new Date().toLocaleTimeString()}catch(e){$('upd')"
	".textContent='error: '+e.message}}\nrefresh();setInterval(refresh,"
	"1e4);\n</script></body></html>\n",
	NULL
};
