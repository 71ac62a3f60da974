/*
 * stats.c - share and hashrate statistics per worker, per address and for
 * the pool; found blocks; the stats file; the API's JSON and metrics.
 *
 * Each tally keeps three rings of difficulty sums (10 s x 30, 5 min x 12,
 * 1 h x 24: 528 bytes), so a share costs three additions and a window is a
 * sum over at most 30 buckets.  A ring's head is the bucket index
 * (time / width) of its newest bucket; moving it forward clears what it
 * passes.  Events are stamped "now", so a bucket older than the head can
 * only mean the clock was set back: it is counted in the newest bucket
 * rather than lost.
 *
 * Entries are found through two chained hash tables (FNV-1a), addresses
 * by name and workers by (address, name); each address also lists its
 * workers.  Eviction scans everything (O(n)), but runs only when a table
 * is full and a new name arrives.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "stats.h"

#define TWO32 4294967296.0
#define HASH_SIZE 4096		/* chains: ~2.5 entries each when full */
#define FNV_BASIS 2166136261u
#define HIST_STEP 600		/* pool history: 10-min points for 24 h */
#define HIST_LEN 144
#define DAY 86400
#define FULL_LOG_SECS 3600
#define FILE_VERSION 1
#define BLOCK_LINE_MAX 2048	/* a blocks.log line, escaped names included */
#define TIME_MAX ((int64_t)1 << 40)	/* unix time in a file: year 36812 */

enum { R_10S, R_5M, R_1H, NRING };
static const int ring_width[NRING] = { 10, 300, 3600 };
static const int ring_len[NRING] = { 30, 12, 24 };
static const int ring_off[NRING] = { 0, 30, 42 };
#define RING_SLOTS 66

#define NWIN 4
static const struct { const char *name; int ring, n; } windows[NWIN] = {
	{ "1m", R_10S, 6 }, { "5m", R_10S, 30 }, { "1h", R_5M, 12 },
	{ "1d", R_1H, 24 }
};

static const char *const reject_names[STATS_REJECT_KINDS] = {
	"other", "stale", "duplicate", "low_difficulty", "unauthorized",
	"not_subscribed"
};

/* offline: a disconnect is logged by the pool, a silent miner by us. */
enum { ON, OFF_QUIET, OFF_LOGGED };

struct tally {
	int64_t head[NRING];
	double v[RING_SLOTS];
	uint64_t accepted, rejected[STATS_REJECT_KINDS];
	double best, best_ever;
	int64_t last_share, last_seen;
};

struct worker {
	struct worker *hnext, *anext;
	struct address *addr;
	struct tally t;
	double diff;
	int64_t active;		/* last share or connect */
	int conns;
	int offline;
	char name[STATS_NAME_MAX];
	char agent[STATS_AGENT_MAX];
};

struct address {
	struct address *hnext;
	struct worker *workers;
	int nworkers;
	struct tally t;
	char name[STATS_ADDR_MAX];
};

struct block {
	int64_t height, time;
	char hash[65];
	char finder[STATS_NAME_MAX];
	char verdict[STATS_VERDICT_MAX];
};

struct stats {
	struct address *atab[HASH_SIZE];
	struct worker *wtab[HASH_SIZE];
	int naddrs, nworkers;
	struct tally pool;
	int64_t hist_head;
	double hist[HIST_LEN];
	struct block blocks[STATS_BLOCKS_KEPT];	/* ring, by nblocks */
	uint64_t nblocks;
	char blocks_path[STATS_PATH_MAX];	/* "": memory only */
	int blocks_nl;		/* blocks.log lacks its last newline */
	int keep_file;		/* a bad file stayed in place: never save */
	int64_t full_logged;
};

#define FOR_ADDRS(s, i, a) for (i = 0; i < HASH_SIZE; i++) \
	for (a = (s)->atab[i]; a != NULL; a = a->hnext)

/* ---- rings ------------------------------------------------------------- */

static void
ring_add(int64_t *head, double *v, int width, int len, int64_t t, double x)
{
	int64_t b = (t > 0 ? t : 0) / width, k;

	if (b > *head) {
		for (k = *head + 1; k <= b && k <= *head + len; k++)
			v[k % len] = 0;
		*head = b;
	}
	v[*head % len] += x;
}

/* The newest n buckets at now, in H/s over the seconds they cover. */
static double
ring_rate(int64_t head, const double *v, int width, int len, int n,
    int64_t now)
{
	int64_t b, k, span;
	double sum = 0;

	now = now > 0 ? now : 0;
	if ((b = now / width) < head) {
		b = head;
		now = b * width;
	}
	for (k = b - n + 1; k <= b; k++)
		if (k >= 0 && k > head - len && k <= head)
			sum += v[k % len];
	span = now - (b - n + 1) * width + 1;
	return sum * TWO32 / (double)span;
}

static double
rate(const struct tally *t, int win, int64_t now)
{
	int r = windows[win].ring;

	return ring_rate(t->head[r], t->v + ring_off[r], ring_width[r],
	    ring_len[r], windows[win].n, now);
}

static void
tally_share(struct tally *t, double diff, double sdiff, int64_t now)
{
	int r;

	for (r = 0; r < NRING; r++)
		ring_add(&t->head[r], t->v + ring_off[r], ring_width[r],
		    ring_len[r], now, diff);
	t->accepted++;
	if (sdiff > t->best)
		t->best = sdiff;
	if (sdiff > t->best_ever)
		t->best_ever = sdiff;
	t->last_share = t->last_seen = now;
}

/* ---- entries ----------------------------------------------------------- */

static uint32_t
fnv(uint32_t h, const char *s)
{
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static uint32_t
whash(const struct address *a, const char *name)
{
	return fnv(fnv(FNV_BASIS, a->name) ^ 0x2e, name) % HASH_SIZE;
}

static struct address *
addr_find(const struct stats *s, const char *name)
{
	struct address *a = s->atab[fnv(FNV_BASIS, name) % HASH_SIZE];

	while (a != NULL && strcmp(a->name, name) != 0)
		a = a->hnext;
	return a;
}

static struct worker *
worker_find(const struct stats *s, const struct address *a, const char *name)
{
	struct worker *w = s->wtab[whash(a, name)];

	while (w != NULL && (w->addr != a || strcmp(w->name, name) != 0))
		w = w->hnext;
	return w;
}

static struct address *
addr_new(struct stats *s, const char *name)
{
	struct address *a = calloc(1, sizeof(*a));
	uint32_t h = fnv(FNV_BASIS, name) % HASH_SIZE;

	if (a == NULL)
		return NULL;
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->hnext = s->atab[h];
	s->atab[h] = a;
	s->naddrs++;
	return a;
}

static struct worker *
worker_new(struct stats *s, struct address *a, const char *name)
{
	struct worker *w = calloc(1, sizeof(*w));
	uint32_t h = whash(a, name);

	if (w == NULL)
		return NULL;
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->addr = a;
	w->hnext = s->wtab[h];
	s->wtab[h] = w;
	w->anext = a->workers;
	a->workers = w;
	a->nworkers++;
	s->nworkers++;
	return w;
}

static void
worker_free(struct stats *s, struct worker *w)
{
	struct worker **pp;

	for (pp = &s->wtab[whash(w->addr, w->name)]; *pp != w;
	    pp = &(*pp)->hnext)
		;
	*pp = w->hnext;
	for (pp = &w->addr->workers; *pp != w; pp = &(*pp)->anext)
		;
	*pp = w->anext;
	w->addr->nworkers--;
	s->nworkers--;
	free(w);
}

static void
addr_free(struct stats *s, struct address *a)
{
	struct address **pp;

	while (a->workers != NULL)
		worker_free(s, a->workers);
	for (pp = &s->atab[fnv(FNV_BASIS, a->name) % HASH_SIZE]; *pp != a;
	    pp = &(*pp)->hnext)
		;
	*pp = a->hnext;
	s->naddrs--;
	free(a);
}

static int
addr_online(const struct address *a, int connected)
{
	const struct worker *w;
	int n = 0;

	for (w = a->workers; w != NULL; w = w->anext)
		n += connected ? w->conns > 0 : w->offline == ON;
	return n;
}

/* The least recently seen entry without a connection, or NULL. */
static void *
victim(const struct stats *s, int want_worker)
{
	struct address *a, *va = NULL;
	struct worker *w, *vw = NULL;
	int i;

	FOR_ADDRS(s, i, a) {
		if (!want_worker) {
			if (addr_online(a, 1) == 0 && (va == NULL ||
			    a->t.last_seen < va->t.last_seen))
				va = a;
			continue;
		}
		for (w = a->workers; w != NULL; w = w->anext)
			if (w->conns == 0 && (vw == NULL ||
			    w->t.last_seen < vw->t.last_seen))
				vw = w;
	}
	return want_worker ? (void *)vw : (void *)va;
}

static void
table_full(struct stats *s, const char *what, int64_t now)
{
	if (s->full_logged != 0 && now - s->full_logged < FULL_LOG_SECS)
		return;
	s->full_logged = now;
	log_warnx("stats: %s table full and every entry connected: new "
	    "ones count in the pool totals only", what);
}

/* Find or create (evicting when full); NULL when not tracked. */
static struct worker *
worker_get(struct stats *s, const char *address, const char *name,
    int64_t now)
{
	struct address *a;
	struct worker *w;
	size_t an = strlen(address), wn = strlen(name);

	if (an == 0 || an >= STATS_ADDR_MAX || wn == 0 || wn >= STATS_NAME_MAX)
		return NULL;
	if ((a = addr_find(s, address)) == NULL) {
		if (s->naddrs >= STATS_MAX_ADDRS && (a = victim(s, 0)) != NULL)
			addr_free(s, a);
		if (s->naddrs >= STATS_MAX_ADDRS) {
			table_full(s, "address", now);
			return NULL;
		}
		if ((a = addr_new(s, address)) == NULL)
			return NULL;
	}
	a->t.last_seen = now;
	if ((w = worker_find(s, a, name)) == NULL) {
		if (s->nworkers >= STATS_MAX_WORKERS &&
		    (w = victim(s, 1)) != NULL)
			worker_free(s, w);
		if (s->nworkers >= STATS_MAX_WORKERS) {
			table_full(s, "worker", now);
			return NULL;
		}
		if ((w = worker_new(s, a, name)) == NULL)
			return NULL;
	}
	w->t.last_seen = now;
	return w;
}

static void
clear(struct stats *s)
{
	struct address *a;
	int i;

	for (i = 0; i < HASH_SIZE; i++)
		while ((a = s->atab[i]) != NULL)
			addr_free(s, a);
	memset(&s->pool, 0, sizeof(s->pool));
	memset(s->hist, 0, sizeof(s->hist));
	s->hist_head = 0;
}

struct stats *
stats_new(void)
{
	return calloc(1, sizeof(struct stats));
}

void
stats_free(struct stats *s)
{
	if (s == NULL)
		return;
	clear(s);
	free(s);
}

/* ---- events ------------------------------------------------------------ */

static void
back_online(struct worker *w, const char *how)
{
	char esc[STATS_NAME_MAX * 2];

	if (w->offline == OFF_LOGGED)
		log_info("worker %s back online (%s)", log_escape(esc,
		    sizeof(esc), w->name, strlen(w->name)), how);
	w->offline = ON;
}

void
stats_connect(struct stats *s, const char *address, const char *worker,
    const char *agent, double diff, int64_t now)
{
	struct worker *w = worker_get(s, address, worker, now);

	if (w == NULL)
		return;
	w->conns++;
	w->active = now;
	/* The file must read back: JSON has no NaN. */
	w->diff = isfinite(diff) && diff > 0 ? diff : 0;
	snprintf(w->agent, sizeof(w->agent), "%s", agent ? agent : "");
	back_online(w, "reconnected");
}

static struct worker *
worker_lookup(const struct stats *s, const char *address, const char *name)
{
	struct address *a = addr_find(s, address);

	return a != NULL ? worker_find(s, a, name) : NULL;
}

void
stats_disconnect(struct stats *s, const char *address, const char *worker,
    int64_t now)
{
	struct worker *w = worker_lookup(s, address, worker);

	if (w == NULL)
		return;
	w->t.last_seen = w->addr->t.last_seen = now;
	if (w->conns > 0 && --w->conns == 0)
		w->offline = OFF_QUIET;
}

void
stats_difficulty(struct stats *s, const char *address, const char *worker,
    double diff)
{
	struct worker *w = worker_lookup(s, address, worker);

	if (w != NULL && isfinite(diff) && diff > 0)
		w->diff = diff;
}

void
stats_share(struct stats *s, const char *address, const char *worker,
    double diff, double share_diff, int64_t now)
{
	struct worker *w;

	if (!isfinite(diff) || diff <= 0)
		return;
	if (!isfinite(share_diff) || share_diff < 0)
		share_diff = 0;
	tally_share(&s->pool, diff, share_diff, now);
	ring_add(&s->hist_head, s->hist, HIST_STEP, HIST_LEN, now, diff);
	if ((w = worker_get(s, address, worker, now)) == NULL)
		return;
	tally_share(&w->addr->t, diff, share_diff, now);
	tally_share(&w->t, diff, share_diff, now);
	w->active = now;
	back_online(w, "shares again");
}

void
stats_reject(struct stats *s, const char *address, const char *worker,
    int code, int64_t now)
{
	struct worker *w = worker_get(s, address, worker, now);
	int k = code >= 20 && code < 20 + STATS_REJECT_KINDS ? code - 20 : 0;

	s->pool.rejected[k]++;
	s->pool.last_seen = now;
	if (w != NULL) {
		w->addr->t.rejected[k]++;
		w->t.rejected[k]++;
	}
}

void
stats_tick(struct stats *s, int64_t now, int offline_secs)
{
	char esc[STATS_NAME_MAX * 2];
	struct address *a;
	struct worker *w;
	int i;

	if (offline_secs <= 0)
		return;
	FOR_ADDRS(s, i, a)
		for (w = a->workers; w != NULL; w = w->anext) {
			if (w->offline != ON || now - w->active < offline_secs)
				continue;
			w->offline = OFF_LOGGED;
			log_info("worker %s offline: no share for %lld s",
			    log_escape(esc, sizeof(esc), w->name,
			    strlen(w->name)), (long long)(now - w->active));
		}
}

static void
kv_i(struct json_w *w, const char *key, int64_t v)
{
	json_w_key(w, key);
	json_w_int(w, v);
}

static void
kv_d(struct json_w *w, const char *key, double v)
{
	json_w_key(w, key);
	json_w_double(w, v);
}

static void
kv_s(struct json_w *w, const char *key, const char *v)
{
	json_w_key(w, key);
	json_w_str(w, v != NULL ? v : "");
}

/* ---- blocks ------------------------------------------------------------ */

static struct block *
block_find(struct stats *s, const char *hash)
{
	uint64_t i;

	for (i = 0; i < s->nblocks && i < STATS_BLOCKS_KEPT; i++)
		if (strcmp(s->blocks[i].hash, hash) == 0)
			return &s->blocks[i];
	return NULL;
}

/* Record or update; 1 when the hash is new, 0 when known, -1 when bad. */
static int
block_apply(struct stats *s, int64_t height, const char *hash,
    const char *finder, const char *verdict, int64_t now, struct block **out)
{
	struct block *b;
	size_t n = strlen(hash);
	int fresh = 0;

	if (n == 0 || n >= sizeof(b->hash))
		return -1;
	if ((b = block_find(s, hash)) == NULL) {
		b = &s->blocks[s->nblocks++ % STATS_BLOCKS_KEPT];
		memset(b, 0, sizeof(*b));
		b->height = height;
		b->time = now;
		memcpy(b->hash, hash, n + 1);
		snprintf(b->finder, sizeof(b->finder), "%s", finder);
		fresh = 1;
	}
	snprintf(b->verdict, sizeof(b->verdict), "%s", verdict);
	*out = b;
	return fresh;
}

static void
block_line_write(const struct block *b, struct json_w *w)
{
	json_w_obj(w);
	kv_i(w, "height", b->height);
	kv_s(w, "hash", b->hash);
	kv_s(w, "finder", b->finder);
	kv_s(w, "verdict", b->verdict);
	kv_i(w, "time", b->time);
	json_w_obj_end(w);
}

static int
write_all(int fd, const char *buf, size_t n)
{
	ssize_t r;

	while (n > 0) {
		if ((r = write(fd, buf, n)) < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		buf += r;
		n -= (size_t)r;
	}
	return 0;
}

/* One line, appended and fsync'd: blocks are what the pool is for. */
static void
block_log(struct stats *s, const struct block *b)
{
	char line[BLOCK_LINE_MAX + 2];
	struct json_w w;
	int n, fd, skip = !s->blocks_nl;

	if (s->blocks_path[0] == '\0')
		return;
	line[0] = '\n';		/* ends a line cut short by a crash */
	json_w_init(&w, line + 1, sizeof(line) - 2);
	block_line_write(b, &w);
	if ((n = json_w_end(&w)) < 0)
		return;
	line[n + 1] = '\n';
	fd = open(s->blocks_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0 || write_all(fd, line + skip, (size_t)n + 2 - skip) < 0 ||
	    fsync(fd) < 0)
		log_warn("stats: cannot append block %s to %s", b->hash,
		    s->blocks_path);
	else
		s->blocks_nl = 0;
	if (fd >= 0)
		close(fd);
}

void
stats_block(struct stats *s, int64_t height, const char *hash,
    const char *finder, const char *verdict, int64_t now)
{
	struct block *b;
	struct address *a;
	struct worker *w;
	int i, r;

	r = block_apply(s, height, hash, finder ? finder : "",
	    verdict ? verdict : "", now, &b);
	if (r < 0)
		return;
	block_log(s, b);
	if (r == 0)
		return;
	s->pool.best = 0;
	FOR_ADDRS(s, i, a) {
		a->t.best = 0;
		for (w = a->workers; w != NULL; w = w->anext)
			w->t.best = 0;
	}
}

static int
block_parse(struct stats *s, const char *line, size_t n)
{
	struct json_tok toks[16];
	struct json_doc d;
	struct block *b;
	char hash[65], finder[STATS_NAME_MAX], verdict[STATS_VERDICT_MAX];
	int64_t height, t;

	if (json_parse(&d, line, n, toks, 16) < 0 ||
	    json_int64(&d, json_get(&d, 0, "height"), &height) < 0 ||
	    json_int64(&d, json_get(&d, 0, "time"), &t) < 0 ||
	    json_string(&d, json_get(&d, 0, "hash"), hash, sizeof(hash)) < 0 ||
	    json_string(&d, json_get(&d, 0, "finder"), finder,
	    sizeof(finder)) < 0 || json_string(&d, json_get(&d, 0, "verdict"),
	    verdict, sizeof(verdict)) < 0)
		return -1;
	return block_apply(s, height, hash, finder, verdict, t, &b) < 0 ?
	    -1 : 0;
}

/* 0: read, 1: no file, -1: why says. */
static int read_file(const char *path, char **out, size_t *len,
    const char **why);

static void
blocks_load(struct stats *s)
{
	const char *why = "", *p, *e;
	char *buf = NULL;
	size_t len = 0;
	int bad = 0, rc = read_file(s->blocks_path, &buf, &len, &why);

	if (rc < 0)
		log_warnx("stats: cannot read %s: %s", s->blocks_path, why);
	for (p = buf; rc == 0 && p < buf + len; p = e + 1) {
		if ((e = memchr(p, '\n', (size_t)(buf + len - p))) == NULL)
			e = buf + len;
		if (e > p && block_parse(s, p, (size_t)(e - p)) < 0)
			bad++;
	}
	s->blocks_nl = len > 0 && buf[len - 1] != '\n';
	free(buf);
	if (bad > 0)
		log_warnx("stats: %s: %d unreadable lines skipped (the file "
		    "is left as it is)", s->blocks_path, bad);
}

/* ---- the stats file ---------------------------------------------------- */

static void
w_ring(struct json_w *w, int64_t head, const double *v, int len)
{
	int i;

	json_w_arr(w);
	json_w_int(w, head);
	for (i = 0; i < len; i++)
		json_w_double(w, v[i]);
	json_w_arr_end(w);
}

static void
w_tally_file(struct json_w *w, const struct tally *t)
{
	int i;

	kv_i(w, "accepted", (int64_t)t->accepted);
	json_w_key(w, "rejected");
	json_w_arr(w);
	for (i = 0; i < STATS_REJECT_KINDS; i++)
		json_w_uint(w, t->rejected[i]);
	json_w_arr_end(w);
	kv_d(w, "best", t->best);
	kv_d(w, "best_ever", t->best_ever);
	kv_i(w, "last_share", t->last_share);
	kv_i(w, "last_seen", t->last_seen);
	json_w_key(w, "rings");
	json_w_arr(w);
	for (i = 0; i < NRING; i++)
		w_ring(w, t->head[i], t->v + ring_off[i], ring_len[i]);
	json_w_arr_end(w);
}

static int
write_doc(const struct stats *s, struct json_w *w)
{
	const struct address *a;
	const struct worker *wk;
	int i;

	json_w_obj(w);
	kv_i(w, "version", FILE_VERSION);
	kv_i(w, "saved", (int64_t)time(NULL));
	json_w_key(w, "pool");
	json_w_obj(w);
	w_tally_file(w, &s->pool);
	json_w_key(w, "history");
	w_ring(w, s->hist_head, s->hist, HIST_LEN);
	json_w_obj_end(w);
	json_w_key(w, "addresses");
	json_w_arr(w);
	FOR_ADDRS(s, i, a) {
		json_w_obj(w);
		kv_s(w, "address", a->name);
		w_tally_file(w, &a->t);
		json_w_key(w, "workers");
		json_w_arr(w);
		for (wk = a->workers; wk != NULL; wk = wk->anext) {
			json_w_obj(w);
			kv_s(w, "name", wk->name);
			kv_s(w, "agent", wk->agent);
			kv_d(w, "diff", wk->diff);
			w_tally_file(w, &wk->t);
			json_w_obj_end(w);
		}
		json_w_arr_end(w);
		json_w_obj_end(w);
	}
	json_w_arr_end(w);
	json_w_obj_end(w);
	return json_w_end(w);
}

/* "dir/x" -> "dir", "x" -> ".", "/x" -> "/". */
static void
dir_of(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(out, cap, ".");
	else if (slash == path)
		snprintf(out, cap, "/");
	else
		snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

int
stats_save(const struct stats *s, const char *path)
{
	char tmp[STATS_PATH_MAX + 8], *buf = NULL;
	size_t cap = 65536 + 2048 * (size_t)(s->nworkers + s->naddrs);
	struct json_w w;
	int n = -1, fd, rc = -1;

	if (s->keep_file) {
		log_warnx("stats: not saving over %s, which could not be "
		    "moved aside", path);
		return -1;
	}
	if (strlen(path) >= STATS_PATH_MAX) {
		log_warnx("stats: path too long: %s", path);
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	for (; n < 0 && cap <= (size_t)STATS_MAX_FILE; cap *= 2) {
		free(buf);
		if ((buf = malloc(cap)) == NULL)
			break;
		json_w_init(&w, buf, cap);
		n = write_doc(s, &w);
	}
	if (n < 0) {
		log_warnx("stats: cannot save %s: out of memory", path);
		goto out;
	}
	buf[n++] = '\n';
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
		log_warn("stats: cannot save %s", tmp);
		goto out;
	}
	if (write_all(fd, buf, (size_t)n) < 0 || fsync(fd) < 0) {
		log_warn("stats: cannot write %s", tmp);
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		log_warn("stats: cannot save %s", path);
		unlink(tmp);
		goto out;
	}
	/* The rename is durable only once the directory is synced; some
	 * file systems refuse fsync on a directory, which costs nothing. */
	dir_of(path, tmp, sizeof(tmp));
	if ((fd = open(tmp, O_RDONLY)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

static int
get_num(const struct json_doc *d, int tok, double *out)
{
	return json_double(d, tok, out) == 0 && *out >= 0 ? 0 : -1;
}

static int
get_int(const struct json_doc *d, int tok, int64_t *out)
{
	return json_int64(d, tok, out) == 0 && *out >= 0 ? 0 : -1;
}

/* An array of exactly n elements; its first element's token, or -1. */
static int
get_arr(const struct json_doc *d, int tok, uint32_t n)
{
	return json_type(d, tok) == JSON_ARRAY && d->toks[tok].size == n ?
	    tok + 1 : -1;
}

/* A head past TIME_MAX could overflow head x width. */
static int
load_ring(const struct json_doc *d, int tok, int64_t *head, double *v,
    int len, int width)
{
	int i = get_arr(d, tok, (uint32_t)len + 1), k;

	if (i < 0 || get_int(d, i, head) < 0 || *head > TIME_MAX / width)
		return -1;
	for (k = 0; k < len; k++) {
		i = (int)d->toks[i].next;
		if (get_num(d, i, &v[k]) < 0)
			return -1;
	}
	return 0;
}

static int
load_tally(const struct json_doc *d, int obj, struct tally *t)
{
	int64_t x;
	int i, k;

	if (get_int(d, json_get(d, obj, "accepted"), &x) < 0)
		return -1;
	t->accepted = (uint64_t)x;
	i = get_arr(d, json_get(d, obj, "rejected"), STATS_REJECT_KINDS);
	for (k = 0; k < STATS_REJECT_KINDS; k++, i = (int)d->toks[i].next) {
		if (i < 0 || get_int(d, i, &x) < 0)
			return -1;
		t->rejected[k] = (uint64_t)x;
	}
	if (get_num(d, json_get(d, obj, "best"), &t->best) < 0 ||
	    get_num(d, json_get(d, obj, "best_ever"), &t->best_ever) < 0 ||
	    get_int(d, json_get(d, obj, "last_share"), &t->last_share) < 0 ||
	    get_int(d, json_get(d, obj, "last_seen"), &t->last_seen) < 0 ||
	    (i = get_arr(d, json_get(d, obj, "rings"), NRING)) < 0)
		return -1;
	for (k = 0; k < NRING; k++, i = (int)d->toks[i].next)
		if (load_ring(d, i, &t->head[k], t->v + ring_off[k],
		    ring_len[k], ring_width[k]) < 0)
			return -1;
	return 0;
}

static int
load_worker(struct stats *s, struct address *a, const struct json_doc *d,
    int obj)
{
	char name[STATS_NAME_MAX], agent[STATS_AGENT_MAX];
	struct worker *w;
	double diff;

	if (json_string(d, json_get(d, obj, "name"), name, sizeof(name)) <= 0
	    || json_string(d, json_get(d, obj, "agent"), agent,
	    sizeof(agent)) < 0 || get_num(d, json_get(d, obj, "diff"),
	    &diff) < 0 || strlen(name) == 0 || worker_find(s, a, name) ||
	    s->nworkers >= STATS_MAX_WORKERS ||
	    (w = worker_new(s, a, name)) == NULL)
		return -1;
	memcpy(w->agent, agent, sizeof(agent));
	w->diff = diff;
	w->offline = OFF_QUIET;
	return load_tally(d, obj, &w->t);
}

static int
load_addr(struct stats *s, const struct json_doc *d, int obj)
{
	char name[STATS_ADDR_MAX];
	struct address *a;
	int arr, i;
	uint32_t k;

	if (json_string(d, json_get(d, obj, "address"), name,
	    sizeof(name)) <= 0 || strlen(name) == 0 || addr_find(s, name) ||
	    s->naddrs >= STATS_MAX_ADDRS || (a = addr_new(s, name)) == NULL ||
	    load_tally(d, obj, &a->t) < 0)
		return -1;
	arr = json_get(d, obj, "workers");
	if (json_type(d, arr) != JSON_ARRAY)
		return -1;
	for (k = 0, i = arr + 1; k < d->toks[arr].size;
	    k++, i = (int)d->toks[i].next)
		if (json_type(d, i) != JSON_OBJECT ||
		    load_worker(s, a, d, i) < 0)
			return -1;
	return 0;
}

/* NULL when loaded, else what is wrong. */
static const char *
load_doc(struct stats *s, const char *buf, size_t len)
{
	struct json_tok *toks;
	struct json_doc d;
	int n, arr, i, pool;
	int64_t ver;
	uint32_t k;
	const char *why = NULL;

	if (len == 0)
		return "empty file";
	if ((n = json_parse(&d, buf, len, NULL, 0)) < 0)
		return "not JSON";
	if ((toks = malloc((size_t)n * sizeof(*toks))) == NULL)
		return "out of memory";
	json_parse(&d, buf, len, toks, (size_t)n);
	pool = json_get(&d, 0, "pool");
	arr = json_get(&d, 0, "addresses");
	if (json_int64(&d, json_get(&d, 0, "version"), &ver) < 0 ||
	    ver != FILE_VERSION)
		why = "not a version 1 stats file";
	else if (load_tally(&d, pool, &s->pool) < 0 || load_ring(&d,
	    json_get(&d, pool, "history"), &s->hist_head, s->hist,
	    HIST_LEN, HIST_STEP) < 0)
		why = "bad pool totals";
	else if (json_type(&d, arr) != JSON_ARRAY)
		why = "no address list";
	for (k = 0, i = arr + 1; why == NULL && k < d.toks[arr].size;
	    k++, i = (int)d.toks[i].next)
		if (json_type(&d, i) != JSON_OBJECT || load_addr(s, &d, i) < 0)
			why = "bad address or worker entry";
	free(toks);
	return why;
}

static int
read_file(const char *path, char **out, size_t *len, const char **why)
{
	struct stat st;
	char *buf;
	size_t n = 0;
	ssize_t r;
	/* O_NONBLOCK: a FIFO must not hang us. */
	int fd = open(path, O_RDONLY | O_NONBLOCK);

	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0)
		return *why = strerror(errno), -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > STATS_MAX_FILE) {
		close(fd);
		return *why = "not a regular file, or too large", -1;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return *why = "out of memory", -1;
	}
	while (n < (size_t)st.st_size) {
		if ((r = read(fd, buf + n, (size_t)st.st_size - n)) < 0 &&
		    errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n != (size_t)st.st_size) {
		free(buf);
		return *why = "read error", -1;
	}
	*out = buf;
	*len = n;
	return 0;
}

static void
move_aside(struct stats *s, const char *path, const char *why)
{
	char dst[STATS_PATH_MAX + 48];
	struct stat st;
	long long now = (long long)time(NULL);
	int i;

	for (i = 0; i < 100; i++) {
		if (i == 0)
			snprintf(dst, sizeof(dst), "%s.corrupt-%lld", path,
			    now);
		else
			snprintf(dst, sizeof(dst), "%s.corrupt-%lld-%d", path,
			    now, i);
		if (lstat(dst, &st) < 0 && errno == ENOENT)
			break;
	}
	if (i < 100 && rename(path, dst) == 0) {
		log_warnx("stats: %s is unreadable or corrupt (%s): moved "
		    "aside to %s; starting with empty statistics", path, why,
		    dst);
		return;
	}
	log_warn("stats: %s is unreadable or corrupt (%s) and could not be "
	    "moved aside; starting with empty statistics and never saving "
	    "over it", path, why);
	s->keep_file = 1;
}

int
stats_load(struct stats *s, const char *path)
{
	char *buf = NULL;
	const char *why = "";
	size_t len = 0;
	int rc;

	if (strlen(path) >= STATS_PATH_MAX - 16) {
		log_warnx("stats: path too long: %s", path);
		return -1;
	}
	dir_of(path, s->blocks_path, sizeof(s->blocks_path));
	strcat(s->blocks_path, "/blocks.log");
	if ((rc = read_file(path, &buf, &len, &why)) == 0 &&
	    (why = load_doc(s, buf, len)) != NULL)
		rc = -1;
	free(buf);
	if (rc < 0) {
		clear(s);
		move_aside(s, path, why);
	} else if (rc == 0)
		log_info("stats: loaded %s: %d addresses, %d workers", path,
		    s->naddrs, s->nworkers);
	blocks_load(s);
	return rc;
}

/* ---- the API's documents ----------------------------------------------- */

static void
w_hashrate(struct json_w *w, const struct tally *t, int64_t now)
{
	int i;

	json_w_key(w, "hashrate");
	json_w_obj(w);
	for (i = 0; i < NWIN; i++) {
		kv_d(w, windows[i].name, rate(t, i, now));
	}
	json_w_obj_end(w);
}

static void
w_tally(struct json_w *w, const struct tally *t, int64_t now, int full)
{
	int i;

	w_hashrate(w, t, now);
	if (full) {
		kv_i(w, "accepted", (int64_t)t->accepted);
		json_w_key(w, "rejected");
		json_w_obj(w);
		for (i = 0; i < STATS_REJECT_KINDS; i++) {
			kv_i(w, reject_names[i], (int64_t)t->rejected[i]);
		}
		json_w_obj_end(w);
	}
	kv_d(w, "best_share", t->best);
	kv_d(w, "best_share_ever", t->best_ever);
	kv_i(w, "last_share", t->last_share);
}

struct rank {
	const void *p;
	double key;
	const char *name;
};

static int
rank_cmp(const void *x, const void *y)
{
	const struct rank *a = x, *b = y;

	if (a->key != b->key)
		return a->key < b->key ? 1 : -1;
	return strcmp(a->name, b->name);
}

/* Addresses seen in the last day or online, by 5-min hashrate. */
static void
w_users(const struct stats *s, int64_t now, struct json_w *w)
{
	struct rank *r = malloc((size_t)(s->naddrs + 1) * sizeof(*r));
	const struct address *a;
	int i, n = 0;

	json_w_arr(w);
	FOR_ADDRS(s, i, a)
		if (r != NULL && (now - a->t.last_seen < DAY ||
		    addr_online(a, 0) > 0)) {
			r[n].p = a;
			r[n].name = a->name;
			r[n++].key = rate(&a->t, 1, now);
		}
	if (n > 0)
		qsort(r, (size_t)n, sizeof(*r), rank_cmp);
	for (i = 0; i < n && i < STATS_JSON_USERS; i++) {
		a = r[i].p;
		json_w_obj(w);
		kv_s(w, "address", a->name);
		kv_i(w, "workers", addr_online(a, 0));
		kv_i(w, "workers_total", a->nworkers);
		w_tally(w, &a->t, now, 0);
		json_w_obj_end(w);
	}
	json_w_arr_end(w);
	free(r);
}

static void
w_history(const struct stats *s, int64_t now, struct json_w *w)
{
	int64_t b = (now > 0 ? now : 0) / HIST_STEP, k, span;
	double sum;

	if (b < s->hist_head)
		b = s->hist_head;
	json_w_arr(w);
	for (k = b - HIST_LEN + 1; k <= b; k++) {
		sum = k >= 0 && k <= s->hist_head &&
		    k > s->hist_head - HIST_LEN ? s->hist[k % HIST_LEN] : 0;
		span = k == b && now >= b * HIST_STEP ?
		    now - b * HIST_STEP + 1 : HIST_STEP;
		json_w_arr(w);
		json_w_int(w, k * HIST_STEP);
		json_w_double(w, sum * TWO32 / (double)span);
		json_w_arr_end(w);
	}
	json_w_arr_end(w);
}

void
stats_json_pool(const struct stats *s, const struct stats_pool_info *pi,
    int64_t now, struct json_w *w)
{
	static const struct stats_pool_info none;
	const struct address *a;
	int i, online = 0;

	if (pi == NULL)
		pi = &none;
	FOR_ADDRS(s, i, a)
		online += addr_online(a, 0);
	json_w_obj(w);
	kv_i(w, "time", now);
	kv_i(w, "started", pi->started);
	kv_i(w, "uptime", pi->started > 0 ? now - pi->started : 0);
	kv_s(w, "chain", pi->chain);
	kv_i(w, "height", pi->height);
	kv_d(w, "network_difficulty", pi->network_diff);
	kv_i(w, "template_age", pi->template_age);
	kv_s(w, "node", pi->node_status);
	kv_i(w, "miners", pi->miners);
	kv_i(w, "workers", online);
	kv_i(w, "addresses", s->naddrs);
	w_tally(w, &s->pool, now, 1);
	kv_i(w, "blocks_found", (int64_t)s->nblocks);
	json_w_key(w, "users");
	w_users(s, now, w);
	json_w_key(w, "history");
	w_history(s, now, w);
	json_w_obj_end(w);
}

static void
w_worker(const struct worker *wk, int64_t now, struct json_w *w)
{
	json_w_obj(w);
	kv_s(w, "name", wk->name);
	json_w_key(w, "online");
	json_w_bool(w, wk->offline == ON);
	kv_i(w, "connections", wk->conns);
	kv_d(w, "difficulty", wk->diff);
	kv_s(w, "agent", wk->agent);
	w_tally(w, &wk->t, now, 1);
	json_w_obj_end(w);
}

int
stats_json_user(const struct stats *s, const char *address, int64_t now,
    struct json_w *w)
{
	const struct address *a = addr_find(s, address);
	const struct worker *wk;
	struct rank *r;
	int i, n = 0;

	if (a == NULL)
		return -1;
	json_w_obj(w);
	kv_s(w, "address", a->name);
	w_tally(w, &a->t, now, 1);
	kv_i(w, "workers_online", addr_online(a, 0));
	kv_i(w, "workers_total", a->nworkers);
	json_w_key(w, "workers");
	json_w_arr(w);
	if ((r = malloc((size_t)(a->nworkers + 1) * sizeof(*r))) != NULL) {
		for (wk = a->workers; wk != NULL; wk = wk->anext) {
			r[n].p = wk;
			r[n].name = wk->name;
			r[n++].key = 0;
		}
		if (n > 0)
			qsort(r, (size_t)n, sizeof(*r), rank_cmp);
		for (i = 0; i < n && i < STATS_JSON_WORKERS; i++)
			w_worker(r[i].p, now, w);
		free(r);
	}
	json_w_arr_end(w);
	json_w_obj_end(w);
	return 0;
}

void
stats_json_blocks(const struct stats *s, struct json_w *w)
{
	uint64_t i;

	json_w_obj(w);
	kv_i(w, "count", (int64_t)s->nblocks);
	json_w_key(w, "blocks");
	json_w_arr(w);
	for (i = 0; i < s->nblocks && i < STATS_BLOCKS_KEPT; i++)
		block_line_write(&s->blocks[(s->nblocks - 1 - i) %
		    STATS_BLOCKS_KEPT], w);
	json_w_arr_end(w);
	json_w_obj_end(w);
}

/* ---- Prometheus text --------------------------------------------------- */

struct mw {
	char *buf;
	size_t cap, len;
	int over;
};

static void mw_put(struct mw *m, const char *fmt, ...) LOG_PRINTF(2, 3);

static void
mw_put(struct mw *m, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (m->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(m->buf + m->len, m->cap - m->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= m->cap - m->len)
		m->over = 1;
	else
		m->len += (size_t)n;
}

/* Shortest text that reads back to v, as json_w_double writes it. */
static const char *
num(char out[32], double v)
{
	int prec;

	for (prec = 15; prec <= 17; prec++) {
		snprintf(out, 32, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			break;
	}
	return out;
}

/* A label value: \ " and newline escaped as the format says; other
 * control bytes become '?' so a name cannot break a line. */
static const char *
label(char *out, size_t cap, const char *s)
{
	size_t n = 0;

	for (; *s != '\0' && n + 3 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\\' || c == '"' || c == '\n') {
			out[n++] = '\\';
			out[n++] = c == '\n' ? 'n' : (char)c;
		} else
			out[n++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[n] = '\0';
	return out;
}

static void
family(struct mw *m, const char *name, const char *type, const char *help)
{
	mw_put(m, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
gauge(struct mw *m, const char *name, const char *help, double v)
{
	char b[32];

	family(m, name, "gauge", help);
	mw_put(m, "%s %s\n", name, num(b, v));
}

static void
metrics_pool(struct mw *m, const struct stats *s,
    const struct stats_pool_info *pi, int64_t now, int online)
{
	char b[32];
	int i;

	gauge(m, "stratum_node_up", "1 when the node answers.",
	    pi->node_status != NULL && strcmp(pi->node_status, "up") == 0);
	gauge(m, "stratum_miners", "Miner connections.", pi->miners);
	gauge(m, "stratum_workers_online", "Workers sending shares.", online);
	gauge(m, "stratum_addresses", "Payout addresses tracked.", s->naddrs);
	gauge(m, "stratum_height", "Height of the block being mined.",
	    (double)pi->height);
	gauge(m, "stratum_network_difficulty", "Network difficulty.",
	    pi->network_diff);
	gauge(m, "stratum_template_age_seconds", "Age of the block template.",
	    (double)pi->template_age);
	gauge(m, "stratum_start_time_seconds", "When the pool started.",
	    (double)pi->started);
	family(m, "stratum_hashrate", "gauge", "Pool hashrate in H/s.");
	for (i = 0; i < NWIN; i++)
		mw_put(m, "stratum_hashrate{window=\"%s\"} %s\n",
		    windows[i].name, num(b, rate(&s->pool, i, now)));
	family(m, "stratum_shares_accepted_total", "counter",
	    "Accepted shares.");
	mw_put(m, "stratum_shares_accepted_total %llu\n",
	    (unsigned long long)s->pool.accepted);
	family(m, "stratum_shares_rejected_total", "counter",
	    "Rejected shares by reason.");
	for (i = 0; i < STATS_REJECT_KINDS; i++)
		mw_put(m, "stratum_shares_rejected_total{reason=\"%s\"} %llu\n",
		    reject_names[i], (unsigned long long)s->pool.rejected[i]);
	gauge(m, "stratum_best_share", "Best share difficulty since the "
	    "last block found.", s->pool.best);
	gauge(m, "stratum_best_share_ever", "Best share difficulty ever.",
	    s->pool.best_ever);
	family(m, "stratum_blocks_found_total", "counter", "Blocks found.");
	mw_put(m, "stratum_blocks_found_total %llu\n",
	    (unsigned long long)s->nblocks);
}

static const struct { const char *name, *type, *help; } wfam[] = {
	{ "stratum_worker_online", "gauge", "1 when the worker sends shares." },
	{ "stratum_worker_hashrate", "gauge", "Worker hashrate in H/s." },
	{ "stratum_worker_shares_accepted_total", "counter",
	    "Accepted shares." },
	{ "stratum_worker_shares_rejected_total", "counter",
	    "Rejected shares." },
	{ "stratum_worker_best_share", "gauge",
	    "Best share difficulty since the last block found." },
	{ "stratum_worker_difficulty", "gauge", "Current share difficulty." },
	{ "stratum_worker_last_share_timestamp_seconds", "gauge",
	    "When the last share was accepted." }
};
#define NWFAM (sizeof(wfam) / sizeof(wfam[0]))

static void
worker_sample(struct mw *m, size_t f, const struct worker *w, int64_t now)
{
	char lb[2 * STATS_ADDR_MAX + 2 * STATS_NAME_MAX + 32], a[2 *
	    STATS_ADDR_MAX], n[2 * STATS_NAME_MAX], b[32];
	unsigned long long rej = 0;
	int i;

	snprintf(lb, sizeof(lb), "%s{address=\"%s\",worker=\"%s\"",
	    wfam[f].name, label(a, sizeof(a), w->addr->name),
	    label(n, sizeof(n), w->name));
	if (f == 1) {
		for (i = 0; i < NWIN; i++)
			mw_put(m, "%s,window=\"%s\"} %s\n", lb, windows[i].name,
			    num(b, rate(&w->t, i, now)));
		return;
	}
	for (i = 0; i < STATS_REJECT_KINDS; i++)
		rej += w->t.rejected[i];
	if (f == 2 || f == 3)
		mw_put(m, "%s} %llu\n", lb, f == 2 ?
		    (unsigned long long)w->t.accepted : rej);
	else
		mw_put(m, "%s} %s\n", lb, num(b, f == 0 ? w->offline == ON :
		    f == 4 ? w->t.best : f == 5 ? w->diff :
		    (double)w->t.last_share));
}

int
stats_metrics(const struct stats *s, const struct stats_pool_info *pi,
    int64_t now, char *buf, size_t cap)
{
	static const struct stats_pool_info none;
	struct mw m;
	const struct address *a;
	const struct worker *w;
	size_t f;
	int i, k, online = 0;

	m.buf = buf;
	m.cap = cap;
	m.len = 0;
	m.over = cap == 0;
	FOR_ADDRS(s, i, a)
		online += addr_online(a, 0);
	metrics_pool(&m, s, pi != NULL ? pi : &none, now, online);
	for (f = 0; f < NWFAM; f++) {
		family(&m, wfam[f].name, wfam[f].type, wfam[f].help);
		k = 0;
		FOR_ADDRS(s, i, a)
			for (w = a->workers; w != NULL; w = w->anext)
				if ((w->conns > 0 || now - w->t.last_seen < DAY)
				    && k++ < STATS_METRICS_WORKERS)
					worker_sample(&m, f, w, now);
	}
	return m.over || m.len > INT32_MAX ? -1 : (int)m.len;
}
