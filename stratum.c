/*
 * stratum.c - the pool: main(), the poll() loop, miner connections and the
 * Stratum V1 methods.  The node side (templates, jobs, blocks) is work.c;
 * the state both share is struct pool in pool.h, whose comment states the
 * memory policy.
 *
 * The loop's pollfd array has fixed slots: the listeners first, then the
 * node connections (rpc.c), then one per client slot, so a client's slot
 * index is its pollfd index minus a constant and nothing is searched.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pool.h"
#include "sha256.h"

#ifdef __linux__
/* Not in POSIX; glibc and musl both have it.  Without it root's
 * supplementary groups would survive the switch to user=. */
int setgroups(size_t n, const gid_t *groups);
#endif

#define VERSION "0.1.0"
#define MAX_TOKENS 256		/* a stratum line needs a few dozen */
#define READ_CHUNK 65536
#define BAD_LINES_MAX 10	/* unparsable lines before a drop */
#define NTIME_FUTURE 7200	/* consensus: at most two hours ahead */
#define VARDIFF_SHARES 16	/* shares per vardiff window */
#define VARDIFF_STEP 64.0	/* largest change in one retarget */
#define REISSUE_MS 1000		/* fastest a miner gets a re-issued job */
#define HOUSEKEEP_MS 1000
#define ACCEPT_PAUSE_MS 250	/* out of descriptors: retry accept then */
#define STATS_SAVE_MS 60000	/* statistics written to disk */

/* Stratum error codes (the de-facto set every miner knows). */
enum {
	E_OTHER = 20, E_STALE = 21, E_DUPLICATE = 22, E_LOW_DIFF = 23,
	E_UNAUTHORIZED = 24, E_NOT_SUBSCRIBED = 25
};

static volatile sig_atomic_t sig_stop, sig_refresh, sig_reload;

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		sig_refresh = 1;
	else if (sig == SIGHUP)
		sig_reload = 1;
	else
		sig_stop = 1;
}

/* ---- connections ----------------------------------------------------- */

static void
client_close(struct pool *p, struct client *c, const char *why)
{
	struct session *s;

	if (c->fd < 0)
		return;
	log_info("miner %u (%s) %s: %s", c->serial, c->peer,
	    c->worker[0] ? c->worker : "-", why);
	close(c->fd);
	if (c->subscribed) {
		s = &p->sessions[p->session_pos++ % SESSION_RING];
		memcpy(s->en1, c->en1, JOB_EN1_SIZE);
		s->at_ms = rpc_now_ms();
	}
	if (c->payout != NULL) {
		if (c->authorized)
			stats_disconnect(p->stats, c->payout->addr, c->worker,
			    time(NULL));
		work_payout_drop(p, c->payout);
	}
	free(c->in);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	p->nclients--;
	while (p->nslots > 0 && p->clients[p->nslots - 1].fd < 0)
		p->nslots--;
}

/* Queue what the socket does not take now; a miner that lets more than
 * max_backlog bytes pile up is not reading and is dropped. */
static int
out_append(struct pool *p, struct client *c, const char *s, size_t n)
{
	size_t need = c->out_len + n, cap;
	char *nb;

	if (need > (size_t)p->conf.max_backlog)
		return -1;
	if (c->out_off > 0 && need > c->out_cap) {
		memmove(c->out, c->out + c->out_off, c->out_len);
		c->out_off = 0;
	}
	if (c->out_off + need > c->out_cap) {
		cap = c->out_cap ? c->out_cap : 4096;
		while (cap < need)
			cap *= 2;
		if ((nb = realloc(c->out, cap)) == NULL)
			return -1;
		c->out = nb;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_off + c->out_len, s, n);
	c->out_len += n;
	return 0;
}

void
stratum_send(struct pool *p, struct client *c, const char *s, size_t n)
{
	ssize_t w = 0;

	if (c->fd < 0 || c->closing)
		return;
	if (c->out_len == 0) {
		w = send(c->fd, s, n, MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR) {
			c->closing = 2;	/* dead: closed by the loop */
			return;
		}
		if (w < 0)
			w = 0;
	}
	if ((size_t)w < n && out_append(p, c, s + w, n - (size_t)w) < 0)
		c->closing = 2;
}

static void
client_flush(struct client *c)
{
	ssize_t w;

	while (c->out_len > 0) {
		w = send(c->fd, c->out + c->out_off, c->out_len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (w <= 0) {
			c->closing = 2;
			return;
		}
		c->out_off += (size_t)w;
		c->out_len -= (size_t)w;
	}
	c->out_off = 0;
}

/* ---- replies ----------------------------------------------------------- */

#define ID_MAX 128		/* longest request id echoed */

/* One parsed request line. */
struct req {
	const struct json_doc *d;
	int params;		/* token of the params array, or -1 */
	char id[ID_MAX + 3];	/* the id's JSON text, echoed exactly */
};

/* The id as it came: a number, string, null or boolean (the text is valid
 * JSON already); anything else, or a huge id, is answered as null. */
static void
req_id(struct req *r, int tok)
{
	const struct json_tok *t = tok >= 0 ? &r->d->toks[tok] : NULL;
	int ty = json_type(r->d, tok);

	strcpy(r->id, "null");
	if (t == NULL || t->len > ID_MAX)
		return;
	if (ty == JSON_STRING)
		snprintf(r->id, sizeof(r->id), "\"%.*s\"", (int)t->len,
		    r->d->src + t->start);
	else if (ty == JSON_NUMBER || ty == JSON_TRUE || ty == JSON_FALSE)
		snprintf(r->id, sizeof(r->id), "%.*s", (int)t->len,
		    r->d->src + t->start);
}

/* One line to a miner; the arguments are JSON text already. */
static void LOG_PRINTF(3, 4)
send_line(struct pool *p, struct client *c, const char *fmt, ...)
{
	char buf[640];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(buf))
		stratum_send(p, c, buf, (size_t)n);
}

static void
reply_raw(struct pool *p, struct client *c, const struct req *r,
    const char *result)
{
	send_line(p, c, "{\"id\":%s,\"result\":%s,\"error\":null}\n",
	    r->id, result);
}

/* msg escaped as a JSON string into out (cap bytes); "" when too long. */
static const char *
json_text(char *out, size_t cap, const char *msg)
{
	struct json_w w;

	json_w_init(&w, out, cap);
	json_w_str(&w, msg);
	return json_w_end(&w) < 0 ? "\"\"" : out;
}

static void
reply_error(struct pool *p, struct client *c, const struct req *r,
    int code, const char *msg)
{
	char text[256];

	send_line(p, c, "{\"id\":%s,\"result\":false,\"error\":[%d,%s,"
	    "null]}\n", r->id, code, json_text(text, sizeof(text), msg));
}

static void
send_difficulty(struct pool *p, struct client *c, double diff)
{
	char num[40];
	struct json_w w;

	json_w_init(&w, num, sizeof(num));
	json_w_double(&w, diff);
	json_w_end(&w);
	send_line(p, c, "{\"id\":null,\"method\":\"mining.set_difficulty\","
	    "\"params\":[%s]}\n", num);
	c->diff = diff;
	if (c->authorized)
		stats_difficulty(p->stats, c->payout->addr, c->worker, diff);
}

/* Send job id of c's payout with the difficulty due, and remember at which
 * difficulty it went out: its shares are judged by that. */
static void
send_job(struct pool *p, struct client *c, uint32_t id, int clean)
{
	const struct pjob *pj = c->payout->cur;
	const struct tmpl *t = pj->job.t;
	size_t pre = strlen(NOTIFY_PREFIX), n = pre + 8 + 70 + pj->tail_len +
	    t->notify_tail_len + 12;
	char stackbuf[4096], *buf = stackbuf, *e;

	if (c->want_diff > 0) {
		send_difficulty(p, c, c->want_diff);
		c->want_diff = 0;
	}
	if (n > sizeof(stackbuf) && (buf = malloc(n)) == NULL)
		return;
	memcpy(buf, NOTIFY_PREFIX, pre);
	e = buf + pre + snprintf(buf + pre, 12, "%08x\",\"", (unsigned)id);
	memcpy(e, t->notify_ph, 64);
	memcpy(e + 64, "\",\"", 3);
	memcpy(e + 67, pj->tail, pj->tail_len);
	e += 67 + pj->tail_len;
	memcpy(e, "\",", 2);
	memcpy(e + 2, t->notify_tail, t->notify_tail_len);
	e += 2 + t->notify_tail_len;
	memcpy(e, clean ? "true]}\n" : "false]}\n", clean ? 7 : 8);
	stratum_send(p, c, buf, (size_t)(e - buf) + (clean ? 7 : 8));
	if (buf != stackbuf)
		free(buf);
	c->sent[c->sent_pos % CLIENT_JOBS].id = id;
	c->sent[c->sent_pos % CLIENT_JOBS].diff = c->diff;
	c->sent_pos++;
}

static int
client_ready(const struct client *c)
{
	return c->fd >= 0 && c->subscribed && c->authorized &&
	    c->payout != NULL && c->payout->cur != NULL && !c->closing;
}

void
stratum_send_job(struct pool *p, struct client *c, int clean)
{
	if (client_ready(c))
		send_job(p, c, c->payout->cur_id, clean);
}

void
stratum_broadcast(struct pool *p, int clean)
{
	int i;

	for (i = 0; i < p->nslots; i++)
		stratum_send_job(p, &p->clients[i], clean);
	if (p->notify_start_ms > 0) {
		log_info("jobs sent to %d miners %lld ms after the node's "
		    "news", p->nclients,
		    (long long)(rpc_now_ms() - p->notify_start_ms));
		p->notify_start_ms = 0;
	}
}

void
stratum_show_message(struct pool *p, const char *msg)
{
	char text[256];
	int i;

	json_text(text, sizeof(text), msg);
	for (i = 0; i < p->nslots; i++)
		if (client_ready(&p->clients[i]))
			send_line(p, &p->clients[i], "{\"id\":null,\"method\":"
			    "\"client.show_message\",\"params\":[%s]}\n", text);
}

/* A difficulty change takes effect with the next job: re-issue the current
 * one under a new id (at most once a second per miner). */
static void
set_want_diff(struct pool *p, struct client *c, double d, int64_t now)
{
	uint32_t id;

	if (d < c->floor_diff)
		d = c->floor_diff;
	if (d < p->conf.min_difficulty)
		d = p->conf.min_difficulty;
	if (d > p->conf.max_difficulty)
		d = p->conf.max_difficulty;
	if (d == c->diff && c->want_diff == 0)
		return;
	c->want_diff = d;
	if (client_ready(c) && now - c->reissue_ms >= REISSUE_MS &&
	    (id = work_reissue(p, c->payout)) != 0) {
		c->reissue_ms = now;
		send_job(p, c, id, 0);
	}
}

/* ---- methods ----------------------------------------------------------- */

static int
param(const struct req *r, size_t i)
{
	return json_at(r->d, r->params, i);
}

/* A difficulty as miners send it: a number, or a number in a string. */
static int
param_double(const struct req *r, int tok, double *out)
{
	char buf[64], *end;

	if (json_double(r->d, tok, out) == 0)
		return *out > 0 ? 0 : -1;
	if (json_string(r->d, tok, buf, sizeof(buf)) <= 0)
		return -1;
	*out = strtod(buf, &end);
	return (*end == '\0' && isfinite(*out) && *out > 0) ? 0 : -1;
}

static void
new_en1(struct pool *p, struct client *c, const struct req *r)
{
	char sid[2 * JOB_EN1_SIZE + 1];
	int64_t now = rpc_now_ms();
	uint32_t v;
	int i;

	/* Resume: a session id (our extranonce1) from a connection that
	 * ended recently, and not resumed by anyone since. */
	if (json_string(r->d, param(r, 1), sid, sizeof(sid)) ==
	    2 * JOB_EN1_SIZE) {
		for (i = 0; i < SESSION_RING; i++) {
			struct session *s = &p->sessions[i];
			char h[2 * JOB_EN1_SIZE + 1];

			if (s->at_ms == 0 || now - s->at_ms > SESSION_KEEP_MS)
				continue;
			hex_encode(s->en1, JOB_EN1_SIZE, h);
			if (strcasecmp(h, sid) == 0) {
				memcpy(c->en1, s->en1, JOB_EN1_SIZE);
				s->at_ms = 0;
				return;
			}
		}
	}
	v = p->next_en1++;
	for (i = 0; i < JOB_EN1_SIZE; i++)
		c->en1[i] = (uint8_t)(v >> (8 * (JOB_EN1_SIZE - 1 - i)));
}

static void
m_subscribe(struct pool *p, struct client *c, const struct req *r)
{
	char en1[2 * JOB_EN1_SIZE + 1], buf[256];

	if (json_string(r->d, param(r, 0), c->agent, sizeof(c->agent)) < 0)
		c->agent[0] = '\0';	/* no agent, or too long: none */
	if (!c->subscribed)
		new_en1(p, c, r);
	c->subscribed = 1;
	hex_encode(c->en1, JOB_EN1_SIZE, en1);
	snprintf(buf, sizeof(buf), "[[[\"mining.set_difficulty\",\"%s\"],"
	    "[\"mining.notify\",\"%s\"]],\"%s\",%d]", en1, en1, en1,
	    p->conf.extranonce2_size);
	reply_raw(p, c, r, buf);
	stratum_send_job(p, c, 1);	/* when authorized before */
}

/* "ADDRESS[.worker]": a valid address of the node's chain is paid
 * directly; any other name mines for btc_address. */
static int
authorize_payout(struct pool *p, struct client *c, const char *user,
    const char **why)
{
	char addr[ADDR_MAX_LEN + 1], err[128];
	uint8_t script[ADDR_SCRIPT_MAX];
	size_t n = strcspn(user, ".");
	struct payout *po = NULL;
	int len = -1;

	if (!p->have_chain) {
		*why = "pool is not connected to its node yet";
		return E_OTHER;
	}
	if (n <= ADDR_MAX_LEN) {
		memcpy(addr, user, n);
		addr[n] = '\0';
		len = addr_to_script(addr, p->net, script, err, sizeof(err));
	}
	if (len > 0)
		po = work_payout(p, script, (size_t)len, addr);
	else if (p->pool_payout != NULL)
		po = p->pool_payout;
	else {
		*why = "user name must be a valid address for this chain "
		    "(the pool has no btc_address)";
		return E_UNAUTHORIZED;
	}
	if (po == NULL) {
		*why = "out of memory";
		return E_OTHER;
	}
	if (c->payout != NULL && c->payout != po) {
		*why = "one connection mines for one address";
		return E_UNAUTHORIZED;
	}
	if (c->payout == NULL) {
		c->payout = po;
		po->nclients++;
	}
	return 0;
}

/* "d=NUMBER" in the password is a common way to ask for a difficulty. */
static void
password_diff(struct pool *p, struct client *c, const char *pass)
{
	const char *d = strstr(pass, "d=");
	char *end;
	double v;

	if (d == NULL || (d != pass && d[-1] != ',' && d[-1] != ' '))
		return;
	v = strtod(d + 2, &end);
	if (end != d + 2 && isfinite(v) && v > 0)
		set_want_diff(p, c, v, rpc_now_ms());
}

static void
m_authorize(struct pool *p, struct client *c, const struct req *r)
{
	char user[CLIENT_WORKER_MAX], pass[128];
	const char *why = "";
	int code;

	if (json_string(r->d, param(r, 0), user, sizeof(user)) <= 0) {
		reply_error(p, c, r, E_OTHER, "want [user, password]");
		return;
	}
	if ((code = authorize_payout(p, c, user, &why)) != 0) {
		log_info("miner %u (%s): authorize %s refused: %s", c->serial,
		    c->peer, user, why);
		reply_error(p, c, r, code, why);
		return;
	}
	if (!c->authorized) {
		snprintf(c->worker, sizeof(c->worker), "%s", user);
		log_info("miner %u (%s) authorized as %s, paying %s (%s)",
		    c->serial, c->peer, user, c->payout->addr, c->agent);
	}
	if (json_string(r->d, param(r, 1), pass, sizeof(pass)) > 0)
		password_diff(p, c, pass);
	reply_raw(p, c, r, "true");
	if (!c->authorized) {
		c->authorized = 1;
		c->vd_since_ms = rpc_now_ms();
		stats_connect(p->stats, c->payout->addr, c->worker, c->agent,
		    c->want_diff > 0 ? c->want_diff : c->diff, time(NULL));
		stratum_send_job(p, c, 1);
	}
}

/* BIP 310.  Extensions we do not know are answered false. */
static void
m_configure(struct pool *p, struct client *c, const struct req *r)
{
	int exts = param(r, 0), opts = param(r, 1), e;
	char buf[512], name[64], mask[16], *end;
	size_t i, n = 0;
	unsigned long m;
	double d;

	if (json_type(r->d, exts) != JSON_ARRAY) {
		reply_error(p, c, r, E_OTHER, "want [[extensions], {params}]");
		return;
	}
	n += (size_t)snprintf(buf, sizeof(buf), "{");
	for (i = 0; (e = json_at(r->d, exts, i)) >= 0 && i < 8; i++) {
		if (json_string(r->d, e, name, sizeof(name)) < 0)
			continue;
		if (strcmp(name, "version-rolling") == 0) {
			m = 0xffffffffUL;
			if (json_string(r->d, json_get(r->d, opts,
			    "version-rolling.mask"), mask, sizeof(mask)) > 0)
				m = strtoul(mask, &end, 16);
			c->mask = p->conf.version_mask & (uint32_t)m;
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    "%s\"version-rolling\":%s,"
			    "\"version-rolling.mask\":\"%08x\"", n > 1 ?
			    "," : "", c->mask ? "true" : "false",
			    (unsigned)c->mask);
		} else if (strcmp(name, "minimum-difficulty") == 0 &&
		    param_double(r, json_get(r->d, opts,
		    "minimum-difficulty.value"), &d) == 0) {
			c->floor_diff = d;
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    "%s\"minimum-difficulty\":true", n > 1 ? "," : "");
			set_want_diff(p, c, c->diff > d ? c->diff : d,
			    rpc_now_ms());
		} else if (strcmp(name, "subscribe-extranonce") == 0)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    "%s\"subscribe-extranonce\":true", n > 1 ? "," : "");
		else if (strlen(name) < 48)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			    "%s\"%s\":false", n > 1 ? "," : "", name);
		if (n >= sizeof(buf) - 64)
			break;
	}
	snprintf(buf + n, sizeof(buf) - n, "}");
	reply_raw(p, c, r, buf);
}

static void
m_suggest(struct pool *p, struct client *c, const struct req *r,
    int is_target)
{
	uint8_t t[32], be[32];
	char hex[65];
	double d;
	int i, n;

	if (is_target) {
		n = json_string(r->d, param(r, 0), hex, sizeof(hex));
		if (n <= 0 || n > 64 || n % 2 != 0 ||
		    hex_decode(hex, (size_t)n, be, (size_t)n / 2) < 0) {
			reply_error(p, c, r, E_OTHER, "want a target in hex");
			return;
		}
		memset(t, 0, sizeof(t));
		for (i = 0; i < n / 2; i++)	/* big-endian text */
			t[i] = be[n / 2 - 1 - i];
		d = target_to_diff(t);
	} else if (param_double(r, param(r, 0), &d) < 0) {
		reply_error(p, c, r, E_OTHER, "want a positive difficulty");
		return;
	}
	reply_raw(p, c, r, "true");
	set_want_diff(p, c, d, rpc_now_ms());
}

/* ---- bans -------------------------------------------------------------- */

/* The address part of "host:port" (IPv6 hosts contain colons too). */
static size_t
peer_ip_len(const char *peer)
{
	const char *colon = strrchr(peer, ':');

	return colon != NULL ? (size_t)(colon - peer) : strlen(peer);
}

/* When the slot was last of use: the least recent is reused first. */
static int64_t
ban_last(const struct ban *b)
{
	return b->until_ms > b->first_ms ? b->until_ms : b->first_ms;
}

static struct ban *
ban_find(struct pool *p, const char *peer, int make)
{
	size_t n = peer_ip_len(peer);
	struct ban *b, *oldest = &p->bans[0];
	int i;

	if (n >= sizeof(b->ip))
		return NULL;
	for (i = 0; i < BAN_SLOTS; i++) {
		b = &p->bans[i];
		if (strlen(b->ip) == n && memcmp(b->ip, peer, n) == 0)
			return b;
		if (ban_last(b) < ban_last(oldest))
			oldest = b;
	}
	if (!make)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	memcpy(oldest->ip, peer, n);
	return oldest;
}

static void
ban_strike(struct pool *p, const char *peer, int64_t now)
{
	int64_t window = 1000LL * p->conf.ban_seconds;
	struct ban *b;

	if (window == 0 || (b = ban_find(p, peer, 1)) == NULL)
		return;
	if (now - b->first_ms > window) {
		b->first_ms = now;
		b->strikes = 0;
	}
	if (++b->strikes >= BAN_STRIKES) {
		b->until_ms = now + window;
		log_warnx("refusing %s for %d s: dropped %d times for invalid "
		    "shares", b->ip, p->conf.ban_seconds, b->strikes);
	}
}

static int
is_banned(struct pool *p, const char *peer, int64_t now)
{
	const struct ban *b = ban_find(p, peer, 0);

	return b != NULL && b->until_ms > now;
}

/* ---- shares ------------------------------------------------------------ */

/* Up to digits hex digits as a number; exactly when exact is set.  NerdMiner
 * sends its nonce without leading zeros. */
static int
hex_u32(const struct req *r, int tok, int exact, uint32_t *out)
{
	char buf[16];
	int n = json_string(r->d, tok, buf, sizeof(buf)), i;
	uint32_t v = 0;

	if (n <= 0 || n > 8 || (exact && n != 8))
		return -1;
	for (i = 0; i < n; i++) {
		int ch = buf[i], d = ch >= '0' && ch <= '9' ? ch - '0' :
		    ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 :
		    ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = v << 4 | (uint32_t)d;
	}
	*out = v;
	return 0;
}

/* The difficulty job id went out with, or 0 when c never got it. */
static double
sent_diff(const struct client *c, uint32_t id)
{
	int i;

	for (i = 0; i < CLIENT_JOBS; i++)
		if (c->sent[i].id == id && c->sent[i].diff > 0)
			return c->sent[i].diff;
	return 0;
}

/* Decode and check the fields; returns 0 or an error code with *why. */
static int
share_parse(struct pool *p, struct client *c, const struct req *r,
    struct job_share *s, struct pjob **pj, double *diff, const char **why)
{
	char en2[2 * JOB_EN2_MAX + 2];
	uint32_t id, vbits = 0;
	int n;

	*why = "want [worker, job_id, extranonce2, ntime, nonce, version?]";
	if (json_type(r->d, r->params) != JSON_ARRAY ||
	    r->d->toks[r->params].size < 5)
		return E_OTHER;
	if (!c->subscribed)
		return *why = "not subscribed", E_NOT_SUBSCRIBED;
	if (!c->authorized)
		return *why = "unauthorized worker", E_UNAUTHORIZED;
	if (hex_u32(r, param(r, 1), 0, &id) < 0 ||
	    (*pj = work_find(p, id)) == NULL ||
	    (*diff = sent_diff(c, id)) == 0)
		return *why = "job not found (stale)", E_STALE;
	n = json_string(r->d, param(r, 2), en2, sizeof(en2));
	if (n != 2 * (int)(*pj)->job.en2_size ||
	    hex_decode(en2, (size_t)n, s->en2, (size_t)n / 2) < 0)
		return *why = "extranonce2 has the wrong size", E_OTHER;
	if (hex_u32(r, param(r, 3), 1, &s->ntime) < 0)
		return *why = "ntime must be 8 hex digits", E_OTHER;
	if (hex_u32(r, param(r, 4), 0, &s->nonce) < 0)
		return *why = "nonce must be hex", E_OTHER;
	if (param(r, 5) >= 0 && hex_u32(r, param(r, 5), 0, &vbits) < 0)
		return *why = "version bits must be hex", E_OTHER;
	if ((vbits & ~c->mask) != 0)
		return *why = c->mask ? "version bits outside the mask" :
		    "version rolling was not negotiated", E_OTHER;
	memcpy(s->en1, c->en1, JOB_EN1_SIZE);
	s->version = ((*pj)->job.t->version & ~c->mask) | (vbits & c->mask);
	if (c->diff > 0 && c->diff < *diff)
		*diff = c->diff;	/* a lowered difficulty counts at once */
	return 0;
}

static void
vardiff(struct pool *p, struct client *c, int64_t now)
{
	double secs = (double)(now - c->vd_since_ms) / 1000.0, d = c->diff;
	double target = p->conf.target_share_seconds, want;

	if (d <= 0 || c->want_diff > 0)
		return;
	if (c->vd_shares >= VARDIFF_SHARES ||
	    (c->vd_shares > 0 && secs >= 4 * target)) {
		want = c->vd_sum * target / (secs > 0.001 ? secs : 0.001);
		if (want > d * VARDIFF_STEP)
			want = d * VARDIFF_STEP;
		/* Within a factor of 1.5 is noise, not a change. */
		if (want > d * 1.5 || want < d / 1.5)
			set_want_diff(p, c, want, now);
	} else if (c->vd_shares == 0 && secs >= 4 * target)
		set_want_diff(p, c, d / 4, now);
	else
		return;
	c->vd_since_ms = now;
	c->vd_sum = 0;
	c->vd_shares = 0;
}

static void
m_submit(struct pool *p, struct client *c, const struct req *r)
{
	struct job_share s;
	struct job_result res;
	struct pjob *pj = NULL;
	uint8_t target[32];
	const char *why;
	double diff = 0;
	int code, seen;

	memset(&s, 0, sizeof(s));
	if ((code = share_parse(p, c, r, &s, &pj, &diff, &why)) != 0)
		goto reject;
	target_from_diff(diff, target);
	job_check(&pj->job, &s, target, &res);
	/* A block goes to the node before any other judgement: the node,
	 * not the pool, decides whether it was too late. */
	if (res.meets_network)
		work_found_block(p, pj, &s, res.hash, c->worker);
	/* A block is only refused as a duplicate; anything else is judged. */
	code = E_OTHER;
	if (res.meets_network)
		code = 0;
	else if (!work_is_current(p, pj))
		code = E_STALE, why = "stale job (the chain moved on)";
	else if (s.ntime < pj->job.t->mintime ||
	    s.ntime > pj->job.t->curtime + NTIME_FUTURE)
		why = "ntime out of range";
	else if (!res.meets_share)
		code = E_LOW_DIFF, why = "low difficulty share";
	else
		code = 0;
	if (code == 0 && (seen = work_seen(pj, res.hash)) <= 0) {
		code = seen == 0 ? E_DUPLICATE : E_OTHER;
		why = seen == 0 ? "duplicate share" :
		    "too many shares for one job; take the next";
	}
	if (code != 0)
		goto reject;
	c->accepted++;
	c->bad_shares = 0;
	if (res.diff > c->best)
		c->best = res.diff;
	c->vd_sum += diff;
	c->vd_shares++;
	stats_share(p->stats, c->payout->addr, c->worker, diff, res.diff,
	    time(NULL));
	reply_raw(p, c, r, "true");
	vardiff(p, c, rpc_now_ms());
	return;
reject:
	c->rejected++;
	stats_reject(p->stats, c->authorized ? c->payout->addr : "",
	    c->authorized ? c->worker : "", code, time(NULL));
	log_debug("miner %u share rejected: %s", c->serial, why);
	reply_error(p, c, r, code, why);
	if (code != E_STALE && ++c->bad_shares == p->conf.max_rejects) {
		log_warnx("miner %u (%s): %d invalid shares in a row; dropped",
		    c->serial, c->peer, c->bad_shares);
		ban_strike(p, c->peer, rpc_now_ms());
		c->closing = 1;
	}
}

/* ---- lines ------------------------------------------------------------- */

static void
dispatch(struct pool *p, struct client *c, struct req *r, int method)
{
	static const char *const quiet[] = { "pong", "mining.pong", NULL };
	char m[48];
	int i;

	if (json_string(r->d, method, m, sizeof(m)) < 0) {
		reply_error(p, c, r, E_OTHER, "unknown method");
		return;
	}
	if (strcmp(m, "mining.submit") == 0)
		m_submit(p, c, r);
	else if (strcmp(m, "mining.subscribe") == 0)
		m_subscribe(p, c, r);
	else if (strcmp(m, "mining.authorize") == 0)
		m_authorize(p, c, r);
	else if (strcmp(m, "mining.configure") == 0)
		m_configure(p, c, r);
	else if (strcmp(m, "mining.extranonce.subscribe") == 0)
		reply_raw(p, c, r, "true");
	else if (strcmp(m, "mining.suggest_difficulty") == 0)
		m_suggest(p, c, r, 0);
	else if (strcmp(m, "mining.suggest_target") == 0)
		m_suggest(p, c, r, 1);
	else if (strcmp(m, "mining.ping") == 0)
		reply_raw(p, c, r, "\"pong\"");
	else if (strcmp(m, "mining.get_transactions") == 0)
		reply_error(p, c, r, E_OTHER, "not supported");
	else {
		for (i = 0; quiet[i] != NULL; i++)
			if (strcmp(m, quiet[i]) == 0)
				return;
		reply_error(p, c, r, E_OTHER, "unknown method");
	}
}

/* One line from a miner.  Answers to our own requests (no method) are
 * ignored; anything unparsable is answered with an error, and a miner
 * whose very first line is not JSON (a TLS ClientHello, an HTTP request)
 * is dropped at once. */
static void
client_line(struct pool *p, struct client *c, const char *line, size_t n)
{
	struct json_tok toks[MAX_TOKENS];
	struct json_doc d;
	struct req r;
	int method;

	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' '))
		n--;
	if (n == 0)
		return;
	r.d = &d;
	strcpy(r.id, "null");
	if (json_parse(&d, line, n, toks, MAX_TOKENS) < 0 ||
	    json_type(&d, 0) != JSON_OBJECT) {
		char esc[80];

		log_info("miner %u (%s): not a JSON object: %s", c->serial,
		    c->peer, log_escape(esc, sizeof(esc), line, n));
		if (c->last_ms == 0 || ++c->bad_lines > BAD_LINES_MAX) {
			c->closing = 2;
			return;
		}
		reply_error(p, c, &r, E_OTHER, "not a JSON object");
		return;
	}
	req_id(&r, json_get(&d, 0, "id"));
	r.params = json_get(&d, 0, "params");
	method = json_get(&d, 0, "method");
	if (method < 0)
		return;
	if (json_type(&d, r.params) != JSON_ARRAY &&
	    json_type(&d, r.params) != JSON_OBJECT)
		r.params = -1;
	dispatch(p, c, &r, method);
}

/* Split what arrived into lines; keep a partial line for next time. */
static void
client_read(struct pool *p, struct client *c, char *buf, int64_t now)
{
	ssize_t n = recv(c->fd, buf, READ_CHUNK, 0);
	size_t off = 0, max = (size_t)p->conf.max_line;
	char *nl, *nb;

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR)) {
		client_close(p, c, n == 0 ? "disconnected" : strerror(errno));
		return;
	}
	if (n < 0)
		return;
	while (off < (size_t)n && c->fd >= 0 && !c->closing) {
		nl = memchr(buf + off, '\n', (size_t)n - off);
		size_t len = (nl ? (size_t)(nl - buf) : (size_t)n) - off;

		if (c->in_len + len > max) {
			client_close(p, c, "line too long");
			return;
		}
		if (nl != NULL && c->in_len == 0) {
			client_line(p, c, buf + off, len);
		} else {
			if (c->in_len + len > c->in_cap) {
				size_t cap = c->in_cap ? c->in_cap : 256;
				while (cap < c->in_len + len)
					cap *= 2;
				if ((nb = realloc(c->in, cap)) == NULL) {
					client_close(p, c, "out of memory");
					return;
				}
				c->in = nb;
				c->in_cap = cap;
			}
			memcpy(c->in + c->in_len, buf + off, len);
			c->in_len += len;
			if (nl != NULL) {
				client_line(p, c, c->in, c->in_len);
				c->in_len = 0;
			}
		}
		c->last_ms = now;
		off += len + (nl != NULL);
	}
}

#ifndef STRATUM_NO_MAIN	/* the fuzz harness includes the part above */

/* ---- listeners and the loop -------------------------------------------- */

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int
listen_on(struct pool *p, const struct addrinfo *ai)
{
	int fd, one = 1, zero = 0;

	fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* "[stratum] host" empty: one IPv6 socket takes IPv4 too. */
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
		    p->conf.host[0] ? &one : &zero, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(fd, 1024) < 0 || set_nonblock(fd) < 0) {
		close(fd);
		return -1;
	}
	p->listen_fd[p->nlisten++] = fd;
	return 0;
}

static void
open_listeners(struct pool *p)
{
	struct addrinfo hints, *res, *ai;
	char port[8];
	int e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	hints.ai_family = p->conf.host[0] ? AF_UNSPEC : AF_INET6;
	snprintf(port, sizeof(port), "%d", p->conf.port);
	e = getaddrinfo(p->conf.host[0] ? p->conf.host : NULL, port, &hints,
	    &res);
	if (e != 0 && !p->conf.host[0]) {
		hints.ai_family = AF_INET;	/* a kernel without IPv6 */
		e = getaddrinfo(NULL, port, &hints, &res);
	}
	if (e != 0)
		fatalx("[stratum] host %s: %s", p->conf.host, gai_strerror(e));
	for (ai = res; ai != NULL && p->nlisten < 2; ai = ai->ai_next)
		if (listen_on(p, ai) < 0)
			log_warn("cannot listen on %s port %s",
			    p->conf.host[0] ? p->conf.host : "*", port);
	freeaddrinfo(res);
	if (p->nlisten == 0 && !p->conf.host[0]) {
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE;
		hints.ai_family = AF_INET;
		if (getaddrinfo(NULL, port, &hints, &res) == 0) {
			if (listen_on(p, res) < 0)
				log_warn("cannot listen on port %s", port);
			freeaddrinfo(res);
		}
	}
	if (p->nlisten == 0)
		fatalx("no stratum listener: nothing to serve miners on");
	log_notice("listening for miners on %s port %d",
	    p->conf.host[0] ? p->conf.host : "all interfaces", p->conf.port);
}

static void
peer_name(const struct sockaddr_storage *ss, socklen_t len, char *out,
    size_t cap)
{
	char host[INET6_ADDRSTRLEN], serv[8];	/* numeric forms */

	if (getnameinfo((const struct sockaddr *)ss, len, host, sizeof(host),
	    serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(out, cap, "?");
	else
		snprintf(out, cap, "%s:%s", host, serv);
}

static void
accept_all(struct pool *p, int lfd, int64_t now)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct client *c;
	int fd, one = 1, i;
	static int64_t full_logged;

	for (;;) {
		len = sizeof(ss);
		fd = accept(lfd, (struct sockaddr *)&ss, &len);
		if (fd < 0 && (errno == EMFILE || errno == ENFILE ||
		    errno == ENOBUFS || errno == ENOMEM)) {
			/* The connection stays queued and the listener
			 * readable: polling it would spin.  Rest a while. */
			if (now - p->nofd_logged_ms > 60000)
				log_warn("cannot accept miners (%d connected)",
				    p->nclients);
			p->nofd_logged_ms = now;
			p->accept_paused_ms = now + ACCEPT_PAUSE_MS;
			return;
		}
		if (fd < 0)
			return;
		if (p->nclients >= p->max_clients) {
			if (now - full_logged > 60000)
				log_warnx("max_clients (%d) reached: refusing "
				    "miners", p->max_clients);
			full_logged = now;
			close(fd);
			continue;
		}
		/* Slots at and above nslots are free whatever they hold:
		 * calloc's pages stay untouched until miners need them. */
		for (i = 0; i < p->nslots && p->clients[i].fd >= 0; i++)
			;
		c = &p->clients[i];
		if (i >= p->nslots)
			p->nslots = i + 1;
		if (set_nonblock(fd) < 0) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->serial = ++p->next_serial;
		c->since_ms = now;
		c->want_diff = p->conf.start_difficulty;
		peer_name(&ss, len, c->peer, sizeof(c->peer));
		if (is_banned(p, c->peer, now)) {
			close(fd);
			c->fd = -1;
			continue;
		}
		p->nclients++;
		log_debug("miner %u connected from %s", c->serial, c->peer);
	}
}

/* Idle miners that never authorize are dropped; slow miners get their
 * difficulty lowered even when they send no shares at all. */
static void
housekeep(struct pool *p, int64_t now)
{
	int i;

	stats_tick(p->stats, time(NULL), p->conf.offline_seconds);
	if (now >= p->next_save_ms) {
		stats_save(p->stats, p->stats_path);
		p->next_save_ms = now + STATS_SAVE_MS;
	}

	for (i = 0; i < p->nslots; i++) {
		struct client *c = &p->clients[i];

		if (c->fd < 0)
			continue;
		if (!c->authorized &&
		    now - c->since_ms > 1000LL * p->conf.idle_timeout)
			c->closing = 2;
		else if (client_ready(c))
			vardiff(p, c, now);
	}
}

static void
loop_once(struct pool *p, struct pollfd *fds, char *buf, int64_t *hk)
{
	int abase = p->nlisten + RPC_MAX_CONN * p->conf.nnodes;
	int base = abase + (p->api ? API_MAX_CONN + 1 : 0), i, n, t, tw, nfds;
	int64_t now = rpc_now_ms();

	for (i = 0; i < p->nlisten; i++) {
		fds[i].fd = p->listen_fd[i];
		fds[i].events = now < p->accept_paused_ms ? 0 : POLLIN;
		fds[i].revents = 0;
	}
	for (i = 0; i < p->conf.nnodes; i++)
		rpc_pollfds(p->rpcs[i], fds + p->nlisten + i * RPC_MAX_CONN,
		    RPC_MAX_CONN);
	nfds = p->nslots;	/* slots above were never used or are free */
	for (i = 0; i < nfds; i++) {
		struct client *c = &p->clients[i];

		fds[base + i].fd = c->fd;
		fds[base + i].events = (short)(POLLIN |
		    (c->out_len > 0 ? POLLOUT : 0));
		fds[base + i].revents = 0;
	}
	t = (int)(*hk - now);
	if (now < p->accept_paused_ms && p->accept_paused_ms - now < t)
		t = (int)(p->accept_paused_ms - now);
	if (p->api != NULL) {
		api_pollfds(p->api, fds + abase, API_MAX_CONN + 1);
		if ((tw = api_timeout_ms(p->api, now)) >= 0 && tw < t)
			t = tw;
	}
	if ((tw = work_timeout_ms(p, now)) >= 0 && tw < t)
		t = tw;
	for (i = 0; i < p->conf.nnodes; i++)
		if ((tw = rpc_timeout_ms(p->rpcs[i], now)) >= 0 && tw < t)
			t = tw;
	n = poll(fds, (nfds_t)(base + nfds), t < 0 ? 0 : t);
	if (n < 0 && errno != EINTR)
		fatal("poll");
	now = rpc_now_ms();
	for (i = 0; i < p->conf.nnodes; i++)
		rpc_handle(p->rpcs[i], fds + p->nlisten + i * RPC_MAX_CONN,
		    RPC_MAX_CONN, now);
	for (i = 0; n > 0 && i < p->nlisten; i++)
		if (fds[i].revents & POLLIN)
			accept_all(p, fds[i].fd, now);
	if (p->api != NULL)
		api_handle(p->api, fds + abase, API_MAX_CONN + 1, now);
	for (i = 0; n > 0 && i < nfds; i++) {
		struct client *c = &p->clients[i];
		short ev = fds[base + i].revents;

		if (c->fd < 0 || c->fd != fds[base + i].fd || ev == 0)
			continue;
		if (ev & POLLOUT)
			client_flush(c);
		if (ev & (POLLIN | POLLHUP | POLLERR))
			client_read(p, c, buf, now);
	}
	work_tick(p, now);
	if (now >= *hk) {
		housekeep(p, now);
		*hk = now + HOUSEKEEP_MS;
	}
	for (i = 0; i < p->nslots; i++) {
		struct client *c = &p->clients[i];

		if (c->fd >= 0 && (c->closing == 2 ||
		    (c->closing == 1 && c->out_len == 0)))
			client_close(p, c, "dropped");
	}
}

static void
signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* on_block commands are not waited for: let the kernel reap them. */
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = SA_NOCLDWAIT;
	sigaction(SIGCHLD, &sa, NULL);
}

/*
 * SIGHUP: read setting.ini again.  A broken file changes nothing.  What
 * the running pool can take at once is taken (difficulty limits, tag,
 * timeouts, limits on lines and backlog, log level, on_block); what needs
 * sockets or memory set up at start (node, listeners, max_clients, api,
 * btc_address, data_dir, user) is kept, with a note that it needs a restart.
 */
static void
reload(struct pool *p)
{
	struct conf n, k;
	char err[300];

	conf_defaults(&n);
	if (conf_load(&n, p->conf_path, err, sizeof(err)) < 0) {
		log_error("reload refused, keeping the running settings: %s",
		    err);
		return;
	}
	/* What needs sockets or memory set up at start stays as it is. */
	k = n;
	memcpy(k.node, p->conf.node, sizeof(k.node));
	k.nnodes = p->conf.nnodes;
	memcpy(k.host, p->conf.host, sizeof(k.host));
	k.port = p->conf.port;
	k.max_clients = p->conf.max_clients;
	memcpy(k.btc_address, p->conf.btc_address, sizeof(k.btc_address));
	memcpy(k.data_dir, p->conf.data_dir, sizeof(k.data_dir));
	memcpy(k.api_host, p->conf.api_host, sizeof(k.api_host));
	k.api_port = p->conf.api_port;
	k.extranonce2_size = p->conf.extranonce2_size;
	memcpy(k.user, p->conf.user, sizeof(k.user));
	if (memcmp(&k, &n, sizeof(k)) != 0)
		log_warnx("reload: node, listener, max_clients, btc_address, "
		    "data_dir, api, extranonce2_size and user changes need a "
		    "restart");
	n = k;
	p->conf = n;
	log_set_level((enum log_level)log_level_from_name(n.log_level));
	log_notice("reloaded %s", p->conf_path);
}

/* After the listeners are bound: give up root for good. */
static void
drop_privileges(const struct pool *p)
{
	struct passwd *pw;

	if (p->conf.user[0] == '\0')
		return;
	if ((pw = getpwnam(p->conf.user)) == NULL)
		fatalx("user %s: no such user", p->conf.user);
#ifdef __linux__
	if (setgroups(0, NULL) < 0)
		fatal("setgroups");
#endif
	if (setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		fatal("cannot run as %s", p->conf.user);
	if (setuid(0) == 0)
		fatalx("could drop root but regain it: refusing to run");
	log_notice("running as %s", p->conf.user);
}

/* SIGTERM: miners are told to come back (cpuminer-family clients follow
 * client.reconnect to the same host), then the pool closes. */
static void
say_goodbye(struct pool *p)
{
	static const char bye[] =
	    "{\"id\":null,\"method\":\"client.reconnect\",\"params\":[]}\n";
	int i;

	for (i = 0; i < p->nslots; i++) {
		struct client *c = &p->clients[i];

		if (c->fd >= 0 && c->subscribed) {
			stratum_send(p, c, bye, sizeof(bye) - 1);
			client_flush(c);
		}
		client_close(p, c, "pool stopping");
	}
}

/* What the API shows besides the statistics themselves. */
static void
pool_info(void *arg, struct stats_pool_info *pi)
{
	const struct pool *p = arg;

	memset(pi, 0, sizeof(*pi));
	pi->height = p->tmpl ? p->tmpl->height : 0;
	pi->network_diff = p->tmpl ? target_to_diff(p->tmpl->target) : 0;
	pi->template_age = p->tmpl ? (rpc_now_ms() - p->tmpl_ms) / 1000 : 0;
	pi->node_status = !p->have_chain ? "down" : rpc_is_up(p->rpc) ?
	    "up" : "unreachable";
	pi->chain = p->chain;
	pi->miners = p->nclients;
	pi->started = p->started;
}

/* Statistics survive restarts: a bad file is moved aside by stats_load
 * and the pool starts anyway.  The API is a convenience: if its port is
 * taken the pool mines on without it, and says so. */
static void
open_stats(struct pool *p)
{
	char err[200];

	p->started = time(NULL);
	snprintf(p->stats_path, sizeof(p->stats_path), "%s/stats.json",
	    p->conf.data_dir);
	if (stats_load(p->stats, p->stats_path) == 0)
		log_info("statistics loaded from %s", p->stats_path);
	p->next_save_ms = rpc_now_ms() + STATS_SAVE_MS;
	if (p->conf.api_port == 0)
		return;
	p->api = api_new(p->conf.api_host, p->conf.api_port, p->stats,
	    pool_info, p, err, sizeof(err));
	if (p->api == NULL)
		log_error("status API on %s port %d: %s; running without it",
		    p->conf.api_host, p->conf.api_port, err);
	else
		log_notice("status page on http://%s:%d/", p->conf.api_host,
		    api_port(p->api));
}

static void
usage(void)
{
	fprintf(stderr, "usage: stratum [-t] [-c setting.ini]\n"
	    "  -c FILE  configuration (default setting.ini)\n"
	    "  -t       check the configuration, the node, its chain and the "
	    "payout address, then exit\n"
	    "  -h       this help\n  -V       version\n");
}

/* Every miner is a descriptor: raise the soft limit to what max_clients
 * needs (the hard limit is the operator's).  When it stays short, fewer
 * miners are let in: the node calls, the API and block files must never
 * find the descriptors taken. */
static void
raise_nofile(struct pool *p)
{
	struct rlimit rl;
	rlim_t keep = 2 + API_MAX_CONN + 1 + (rlim_t)RPC_MAX_CONN *
	    CONF_MAX_NODES + 32,	/* std streams, files, hooks */
	    need = (rlim_t)p->conf.max_clients + keep;

	p->max_clients = p->conf.max_clients;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need ?
	    rl.rlim_max : need;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur >= need)
		return;
	p->max_clients = rl.rlim_cur > keep ? (int)(rl.rlim_cur - keep) : 1;
	log_warnx("max_clients lowered from %d to %d: the descriptor limit is "
	    "%lu, %lu needed (raise it: ulimit -n, systemd LimitNOFILE=)",
	    p->conf.max_clients, p->max_clients, (unsigned long)rl.rlim_cur,
	    (unsigned long)need);
}

static void
pool_init(struct pool *p, const char *path, int check)
{
	char err[300];

	memset(p, 0, sizeof(*p));
	p->conf_path = path;
	p->check_only = check;
	conf_defaults(&p->conf);
	if (conf_load(&p->conf, path, err, sizeof(err)) < 0)
		fatalx("%s", err);
	log_set_level((enum log_level)log_level_from_name(p->conf.log_level));
	if (sha256_selftest() < 0)
		fatalx("SHA-256 self-test failed: this build is broken");
	raise_nofile(p);
	p->clients = calloc((size_t)p->max_clients, sizeof(*p->clients));
	p->ring_size = 64 + 4 * (size_t)p->max_clients;
	p->ring = calloc(p->ring_size, sizeof(*p->ring));
	p->stats = stats_new();
	if (p->clients == NULL || p->ring == NULL || p->stats == NULL)
		fatalx("out of memory for %d clients", p->max_clients);
	/* Extranonce1 starts somewhere new each run, so miners resuming an
	 * old session id cannot collide with fresh ones. */
	p->next_en1 = (uint32_t)time(NULL) * 2654435761u;
}

static int
run_check(struct pool *p)
{
	int64_t end = rpc_now_ms() + 20000, hk = end;
	struct pollfd *fds = calloc(RPC_MAX_CONN * CONF_MAX_NODES + 2,
	    sizeof(*fds));
	char buf[1];

	p->max_clients = 0;
	while (!p->check_done && !p->check_failed && !sig_stop &&
	    rpc_now_ms() < end)
		loop_once(p, fds, buf, &hk);
	free(fds);
	if (p->check_done) {
		printf("ok: node answers, chain %s, templates at height %lld, "
		    "payout %s\n", p->chain, (long long)p->tmpl->height,
		    p->pool_payout ? p->pool_payout->addr :
		    "per miner (no btc_address)");
		return 0;
	}
	printf("failed: %s (see the log above)\n", p->have_chain ?
	    "no block template from the node" : "node not reachable");
	return 1;
}

int
main(int argc, char **argv)
{
	static struct pool pool;
	const char *path = "setting.ini";
	struct pollfd *fds;
	char *buf;
	int64_t hk = 0;
	int i, check = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "-t") == 0)
			check = 1;
		else if (strcmp(argv[i], "-V") == 0) {
			printf("stratum %s\n", VERSION);
			return 0;
		} else {
			usage();
			return strcmp(argv[i], "-h") == 0 ? 0 : 1;
		}
	}
	signals();
	pool_init(&pool, path, check);
	work_start(&pool);
	if (check)
		return run_check(&pool);
	open_listeners(&pool);
	open_stats(&pool);
	drop_privileges(&pool);
	fds = calloc((size_t)pool.max_clients +
	    RPC_MAX_CONN * CONF_MAX_NODES + API_MAX_CONN + 3, sizeof(*fds));
	if (fds == NULL || (buf = malloc(READ_CHUNK)) == NULL)
		fatalx("out of memory");
	while (!sig_stop) {
		if (sig_refresh) {
			sig_refresh = 0;
			pool.refresh_now = 1;
		}
		if (sig_reload) {
			sig_reload = 0;
			reload(&pool);
		}
		loop_once(&pool, fds, buf, &hk);
	}
	log_notice("stopping: %llu blocks found, %llu accepted",
	    (unsigned long long)pool.blocks_found,
	    (unsigned long long)pool.blocks_accepted);
	say_goodbye(&pool);
	stats_save(pool.stats, pool.stats_path);
	api_free(pool.api);
	stats_free(pool.stats);
	work_free(&pool);
	for (i = 0; i < pool.nlisten; i++)
		close(pool.listen_fd[i]);
	free(pool.clients);
	free(fds);
	free(buf);
	return 0;
}
#endif
