/*
 * stats.c - share and hashrate statistics; found blocks; the stats file;
 * the API's JSON and metrics.
 *
 * The pool, its addresses and their workers form a tree of entries, each
 * with a tally: counters, best shares and three rings of difficulty sums
 * (10 s x 30, 5 min x 12, 1 h x 24), so a share costs three additions per
 * level and a window sums at most 30 buckets.  A ring's head is the bucket
 * index (time / width) of its newest bucket; moving it forward clears what
 * it passes.  Events are stamped "now", so a bucket older than the head
 * means the clock was set back: it is counted in the newest bucket.
 *
 * Entries are found through one chained hash table (FNV-1a) keyed by
 * (parent, name).  Eviction scans everything (O(n)), but runs only when a
 * table is full and a new name arrives.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "stats.h"

#define TWO32 4294967296.0
#define HASH_SIZE 8192		/* chains: ~2.5 entries each when full */
#define HIST_STEP 600		/* pool history: 10-min points for 24 h */
#define HIST_LEN 144
#define DAY 86400
#define FULL_LOG_SECS 3600
#define FILE_VERSION 1
#define BLOCK_LINE_MAX 2048	/* a blocks.log line, escaped names included */
#define TIME_MAX ((int64_t)1 << 40)	/* unix time in a file: year 36812 */

enum { R_10S, R_5M, R_1H, NRING };
static const struct { int width, len, off; } rings[NRING] = {
	{ 10, 30, 0 }, { 300, 12, 30 }, { 3600, 24, 42 }
};
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

enum { POOL, ADDRESS, WORKER };		/* entry levels */
/* offline: a disconnect is logged by the pool, a silent miner by us. */
enum { ON, OFF_QUIET, OFF_LOGGED };

struct tally {
	int64_t head[NRING];
	double v[RING_SLOTS];
	int64_t accepted, rejected[STATS_REJECT_KINDS];
	double best, best_ever;
	int64_t last_share, last_seen;
};

struct entry {
	struct entry *hnext;	/* hash chain */
	struct entry *parent, *kids, *next;	/* next: sibling */
	int level, nkids;
	int conns;		/* a worker's connections; an address: sum */
	struct tally t;
	double diff;		/* this and the rest: workers only */
	int64_t active;		/* last share or connect */
	int offline;
	char agent[STATS_AGENT_MAX];
	char name[STATS_NAME_MAX];
};

struct block {
	int64_t height, time;
	char hash[65];
	char finder[STATS_NAME_MAX];
	char verdict[STATS_VERDICT_MAX];
};

struct stats {
	struct entry *tab[HASH_SIZE];
	struct entry pool;	/* pool.nkids: addresses */
	int nworkers;
	int64_t hist_head;
	double hist[HIST_LEN];
	struct block blocks[STATS_BLOCKS_KEPT];	/* ring, by nblocks */
	uint64_t nblocks;
	char blocks_path[STATS_PATH_MAX];	/* "": memory only */
	int blocks_nl;		/* blocks.log lacks its last newline */
	int keep_file;		/* a bad file stayed in place: never save */
	int64_t full_logged;
};

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

/* Bucket k, or 0 when the ring no longer (or not yet) holds it. */
static double
ring_at(int64_t head, const double *v, int len, int64_t k)
{
	return k >= 0 && k > head - len && k <= head ? v[k % len] : 0;
}

/* Window win at now, in H/s over the seconds its buckets cover. */
static double
rate(const struct tally *t, int win, int64_t now)
{
	int r = windows[win].ring, width = rings[r].width;
	int64_t b, k, first;
	double sum = 0;

	now = now > 0 ? now : 0;
	if ((b = now / width) < t->head[r]) {
		b = t->head[r];
		now = b * width;
	}
	first = b - windows[win].n + 1;
	for (k = first; k <= b; k++)
		sum += ring_at(t->head[r], t->v + rings[r].off, rings[r].len,
		    k);
	return sum * TWO32 / (double)(now - first * width + 1);
}

static void
tally_share(struct tally *t, double diff, double sdiff, int64_t now)
{
	int r;

	for (r = 0; r < NRING; r++)
		ring_add(&t->head[r], t->v + rings[r].off, rings[r].width,
		    rings[r].len, now, diff);
	t->accepted++;
	t->best = sdiff > t->best ? sdiff : t->best;
	t->best_ever = sdiff > t->best_ever ? sdiff : t->best_ever;
	t->last_share = t->last_seen = now;
}

/* ---- entries ----------------------------------------------------------- */

/* The entry after e in a walk of the tree from the pool: each address,
 * then its workers; NULL at the end. */
static struct entry *
walk(const struct entry *e)
{
	if (e->kids != NULL)
		return e->kids;
	for (; e->parent != NULL; e = e->parent)
		if (e->next != NULL)
			return e->next;
	return NULL;
}

/* Workers online at or below e. */
static int
online(const struct entry *e)
{
	int n = e->level == WORKER && e->offline == ON;

	for (e = e->kids; e != NULL; e = e->next)
		n += online(e);
	return n;
}

static uint32_t
fnv(uint32_t h, const char *s)
{
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static uint32_t
hash(const struct entry *parent, const char *name)
{
	return fnv(fnv(2166136261u, parent->name) ^ '.', name) % HASH_SIZE;
}

static struct entry *
find(const struct stats *s, const struct entry *parent, const char *name)
{
	struct entry *e = s->tab[hash(parent, name)];

	while (e != NULL && (e->parent != parent || strcmp(e->name, name)))
		e = e->hnext;
	return e;
}

static struct entry *
entry_new(struct stats *s, struct entry *parent, const char *name)
{
	struct entry *e = calloc(1, sizeof(*e));
	uint32_t h = hash(parent, name);

	if (e == NULL)
		return NULL;
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->hnext = s->tab[h];
	s->tab[h] = e;
	e->parent = parent;
	e->next = parent->kids;
	parent->kids = e;
	parent->nkids++;
	e->level = parent->level + 1;
	s->nworkers += e->level == WORKER;
	return e;
}

static void
entry_free(struct stats *s, struct entry *e)
{
	struct entry **pp;

	while (e->kids != NULL)
		entry_free(s, e->kids);
	for (pp = &s->tab[hash(e->parent, e->name)]; *pp != e;
	    pp = &(*pp)->hnext)
		;
	*pp = e->hnext;
	for (pp = &e->parent->kids; *pp != e; pp = &(*pp)->next)
		;
	*pp = e->next;
	e->parent->nkids--;
	s->nworkers -= e->level == WORKER;
	free(e);
}

static int
is_full(const struct stats *s, const struct entry *parent)
{
	return parent->level == POOL ? parent->nkids >= STATS_MAX_ADDRS :
	    s->nworkers >= STATS_MAX_WORKERS;
}

/* The entry name below parent, or NULL.  With create set, a new one is
 * made (evicting the least recently seen unconnected one of its level
 * when the table is full) and the entry is stamped seen at now. */
static struct entry *
get(struct stats *s, struct entry *parent, const char *name, int create,
    int64_t now)
{
	struct entry *e = find(s, parent, name), *v = NULL;

	if (e == NULL && create && is_full(s, parent)) {
		for (e = walk(&s->pool); e != NULL; e = walk(e))
			if (e->level == parent->level + 1 && e->conns == 0 &&
			    (v == NULL || e->t.last_seen < v->t.last_seen))
				v = e;
		if (v != NULL)
			entry_free(s, v);
		else if (s->full_logged == 0 ||
		    now - s->full_logged >= FULL_LOG_SECS) {
			s->full_logged = now;
			log_warnx("stats: %s table full and every entry "
			    "connected: new ones count in the pool totals "
			    "only", parent->level ? "worker" : "address");
		}
	}
	if (e == NULL && create && !is_full(s, parent))
		e = entry_new(s, parent, name);
	if (e != NULL && create)
		e->t.last_seen = now;
	return e;
}

static struct entry *
worker_get(struct stats *s, const char *address, const char *name,
    int create, int64_t now)
{
	size_t an = strlen(address), wn = strlen(name);
	struct entry *a;

	if (an == 0 || an >= STATS_ADDR_MAX || wn == 0 ||
	    wn >= STATS_NAME_MAX ||
	    (a = get(s, &s->pool, address, create, now)) == NULL)
		return NULL;
	return get(s, a, name, create, now);
}

static void
clear(struct stats *s)
{
	while (s->pool.kids != NULL)
		entry_free(s, s->pool.kids);
	memset(&s->pool.t, 0, sizeof(s->pool.t));
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
	if (s != NULL)
		clear(s);
	free(s);
}

/* ---- events ------------------------------------------------------------ */

static void
back_online(struct entry *w, const char *how)
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
	struct entry *w = worker_get(s, address, worker, 1, now);

	if (w == NULL)
		return;
	w->conns++;
	w->parent->conns++;
	w->active = now;
	/* The file must read back: JSON has no NaN. */
	w->diff = isfinite(diff) && diff > 0 ? diff : 0;
	snprintf(w->agent, sizeof(w->agent), "%s", agent ? agent : "");
	back_online(w, "reconnected");
}

void
stats_disconnect(struct stats *s, const char *address, const char *worker,
    int64_t now)
{
	struct entry *w = worker_get(s, address, worker, 0, now);

	if (w == NULL)
		return;
	w->t.last_seen = w->parent->t.last_seen = now;
	if (w->conns > 0) {
		w->parent->conns--;
		if (--w->conns == 0)
			w->offline = OFF_QUIET;
	}
}

void
stats_difficulty(struct stats *s, const char *address, const char *worker,
    double diff)
{
	struct entry *w = worker_get(s, address, worker, 0, 0);

	if (w != NULL && isfinite(diff) && diff > 0)
		w->diff = diff;
}

void
stats_share(struct stats *s, const char *address, const char *worker,
    double diff, double share_diff, int64_t now)
{
	struct entry *w, *e;

	if (!isfinite(diff) || diff <= 0)
		return;
	if (!isfinite(share_diff) || share_diff < 0)
		share_diff = 0;
	ring_add(&s->hist_head, s->hist, HIST_STEP, HIST_LEN, now, diff);
	w = worker_get(s, address, worker, 1, now);
	for (e = w != NULL ? w : &s->pool; e != NULL; e = e->parent)
		tally_share(&e->t, diff, share_diff, now);
	if (w != NULL) {
		w->active = now;
		back_online(w, "shares again");
	}
}

void
stats_reject(struct stats *s, const char *address, const char *worker,
    int code, int64_t now)
{
	struct entry *e = worker_get(s, address, worker, 1, now);
	int k = code >= 20 && code < 20 + STATS_REJECT_KINDS ? code - 20 : 0;

	for (e = e != NULL ? e : &s->pool; e != NULL; e = e->parent) {
		e->t.rejected[k]++;
		e->t.last_seen = now;
	}
}

void
stats_tick(struct stats *s, int64_t now, int offline_secs)
{
	char esc[STATS_NAME_MAX * 2];
	struct entry *w;

	for (w = walk(&s->pool); offline_secs > 0 && w != NULL; w = walk(w))
		if (w->level == WORKER && w->offline == ON &&
		    now - w->active >= offline_secs) {
			w->offline = OFF_LOGGED;
			log_info("worker %s offline: no share for %lld s",
			    log_escape(esc, sizeof(esc), w->name,
			    strlen(w->name)), (long long)(now - w->active));
		}
}

/* ---- JSON writing ------------------------------------------------------ */

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

/* A ring in the stats file: [head, v[0], .. v[len - 1]]. */
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

/* A tally's members; brief: without the counters. */
static void
w_tally(struct json_w *w, const struct tally *t, int brief, int64_t now)
{
	int i;

	json_w_key(w, "hashrate");
	json_w_obj(w);
	for (i = 0; i < NWIN; i++)
		kv_d(w, windows[i].name, rate(t, i, now));
	json_w_obj_end(w);
	if (!brief) {
		kv_i(w, "accepted", t->accepted);
		json_w_key(w, "rejected");
		json_w_obj(w);
		for (i = 0; i < STATS_REJECT_KINDS; i++)
			kv_i(w, reject_names[i], t->rejected[i]);
		json_w_obj_end(w);
	}
	kv_d(w, "best_share", t->best);
	kv_d(w, "best_share_ever", t->best_ever);
	kv_i(w, "last_share", t->last_share);
}

/* ---- files ------------------------------------------------------------- */

/* "dir/x" -> "dir", "x" -> ".", "/x" -> "/". */
static void
dir_of(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(out, cap, ".");
	else
		snprintf(out, cap, "%.*s", slash == path ? 1 :
		    (int)(slash - path), path);
}

/* Write n bytes to path (mode "a": appended) and fsync.  Returns 0, or
 * -1 with errno set. */
static int
put_file(const char *path, const char *mode, const char *buf, size_t n)
{
	FILE *f = fopen(path, mode);
	int ok = f != NULL && fwrite(buf, 1, n, f) == n && fflush(f) == 0 &&
	    fsync(fileno(f)) == 0;

	return (f != NULL && fclose(f) != 0) || !ok ? -1 : 0;
}

/* 0: read (*out malloc'd, *len bytes), 1: no file, -1: why says. */
static int
read_file(const char *path, char **out, size_t *len, const char **why)
{
	struct stat st;
	/* O_NONBLOCK: a FIFO must not hang us. */
	int fd = open(path, O_RDONLY | O_NONBLOCK);
	ssize_t r;

	if (fd < 0 && errno == ENOENT)
		return 1;
	*why = fd < 0 ? strerror(errno) : NULL;
	*len = 0;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > STATS_MAX_FILE)
		*why = "not a regular file, or too large";
	else if ((*out = malloc((size_t)st.st_size + 1)) == NULL)
		*why = "out of memory";
	while (*why == NULL && *len < (size_t)st.st_size) {
		r = read(fd, *out + *len, (size_t)st.st_size - *len);
		if (r > 0)
			*len += (size_t)r;
		else if (r == 0 || errno != EINTR) {
			free(*out);
			*why = "read error";
		}
	}
	close(fd);
	return *why == NULL ? 0 : -1;
}

/* ---- blocks ------------------------------------------------------------ */

/* Record or update; 1 when the hash is new, 0 when known, -1 when bad. */
static int
block_put(struct stats *s, int64_t height, const char *hash,
    const char *finder, const char *verdict, int64_t now, struct block **out)
{
	struct block *b;
	size_t n = strlen(hash);
	uint64_t i;
	int fresh;

	if (n == 0 || n >= sizeof(b->hash))
		return -1;
	for (i = 0; i < s->nblocks && i < STATS_BLOCKS_KEPT; i++)
		if (strcmp(s->blocks[i].hash, hash) == 0)
			break;
	fresh = i >= s->nblocks || i >= STATS_BLOCKS_KEPT;
	*out = b = &s->blocks[fresh ? s->nblocks++ % STATS_BLOCKS_KEPT : i];
	if (fresh) {
		b->height = height;
		b->time = now;
		memcpy(b->hash, hash, n + 1);
		snprintf(b->finder, sizeof(b->finder), "%s", finder);
	}
	snprintf(b->verdict, sizeof(b->verdict), "%s", verdict);
	return fresh;
}

static void
w_block(const struct block *b, struct json_w *w)
{
	json_w_obj(w);
	kv_i(w, "height", b->height);
	kv_s(w, "hash", b->hash);
	kv_s(w, "finder", b->finder);
	kv_s(w, "verdict", b->verdict);
	kv_i(w, "time", b->time);
	json_w_obj_end(w);
}

void
stats_block(struct stats *s, int64_t height, const char *hash,
    const char *finder, const char *verdict, int64_t now)
{
	char line[BLOCK_LINE_MAX + 2];
	struct json_w w;
	struct block *b;
	struct entry *e;
	int n, r = block_put(s, height, hash, finder ? finder : "",
	    verdict ? verdict : "", now, &b);

	for (e = &s->pool; r == 1 && e != NULL; e = walk(e))
		e->t.best = 0;
	if (r < 0 || s->blocks_path[0] == '\0')
		return;
	/* One line, appended and fsync'd: blocks are what the pool is for.
	 * A line cut short by a crash is ended first. */
	line[0] = '\n';
	json_w_init(&w, line + 1, sizeof(line) - 2);
	w_block(b, &w);
	if ((n = json_w_end(&w)) < 0)
		return;
	line[n + 1] = '\n';
	if (put_file(s->blocks_path, "a", line + !s->blocks_nl,
	    (size_t)n + 1 + s->blocks_nl) < 0)
		log_warn("stats: cannot append block %s to %s", b->hash,
		    s->blocks_path);
	else
		s->blocks_nl = 0;
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
	return block_put(s, height, hash, finder, verdict, t, &b) < 0 ? -1 : 0;
}

static void
blocks_load(struct stats *s)
{
	const char *why, *p, *e;
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
	s->blocks_nl = rc == 0 && len > 0 && buf[len - 1] != '\n';
	if (rc == 0)
		free(buf);
	if (bad > 0)
		log_warnx("stats: %s: %d unreadable lines skipped (the file "
		    "is left as it is)", s->blocks_path, bad);
}

/* ---- the stats file ---------------------------------------------------- */

/* The file is written through a bounded buffer: after each entry, what
 * is there goes to f once it is past half full.  An entry is far smaller
 * than half of SAVE_BUF, so the writer never truncates. */
#define SAVE_BUF (256 * 1024)

struct save {
	struct json_w w;
	FILE *f;
	size_t done;		/* bytes written so far */
};

/* What is buffered goes to the file once past over bytes; a file that
 * stats_load would refuse as too big is not written. */
static int
spill(struct save *sv, size_t over)
{
	struct json_w *w = &sv->w;

	if (w->len <= over)
		return 0;
	sv->done += w->len;
	if (w->truncated || sv->done > (size_t)STATS_MAX_FILE ||
	    fwrite(w->buf, 1, w->len, sv->f) != w->len)
		return -1;
	w->len = 0;
	return 0;
}

/* {"version":1,"saved":T,"history":RING,"pool":ENTRY}.  An entry is its
 * tally as the API shows it (the loader skips the hashrates) with
 * "last_seen" and "rings", then its "addresses" (of the pool) or "workers"
 * (of an address), each with its "name"; a worker has "agent" and
 * "difficulty" instead. */
static int
w_file_entry(struct save *sv, const struct entry *e, int64_t now)
{
	struct json_w *w = &sv->w;
	int i, r = 0;

	json_w_obj(w);
	if (e->level != POOL)
		kv_s(w, "name", e->name);
	if (e->level == WORKER) {
		kv_s(w, "agent", e->agent);
		kv_d(w, "difficulty", e->diff);
	}
	w_tally(w, &e->t, 0, now);
	kv_i(w, "last_seen", e->t.last_seen);
	json_w_key(w, "rings");
	json_w_arr(w);
	for (i = 0; i < NRING; i++)
		w_ring(w, e->t.head[i], e->t.v + rings[i].off, rings[i].len);
	json_w_arr_end(w);
	if (e->level != WORKER) {
		json_w_key(w, e->level == POOL ? "addresses" : "workers");
		json_w_arr(w);
		for (e = e->kids; e != NULL && r == 0; e = e->next)
			r = w_file_entry(sv, e, now);
		json_w_arr_end(w);
	}
	json_w_obj_end(w);
	return r < 0 ? -1 : spill(sv, SAVE_BUF / 2);
}

int
stats_save(const struct stats *s, const char *path)
{
	char tmp[STATS_PATH_MAX + 8], *buf;
	int64_t now = (int64_t)time(NULL);
	struct save sv;
	int ok, fd;

	if (s->keep_file || strlen(path) >= STATS_PATH_MAX) {
		log_warnx("stats: not saving %s: %s", path, s->keep_file ?
		    "it could not be moved aside" : "path too long");
		return -1;
	}
	if ((buf = malloc(SAVE_BUF)) == NULL) {
		log_warnx("stats: cannot save %s: out of memory", path);
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((sv.f = fopen(tmp, "w")) == NULL) {
		log_warn("stats: cannot save %s", path);
		free(buf);
		return -1;
	}
	sv.done = 0;
	json_w_init(&sv.w, buf, SAVE_BUF - 1);
	json_w_obj(&sv.w);
	kv_i(&sv.w, "version", FILE_VERSION);
	kv_i(&sv.w, "saved", now);
	json_w_key(&sv.w, "history");
	w_ring(&sv.w, s->hist_head, s->hist, HIST_LEN);
	json_w_key(&sv.w, "pool");
	ok = w_file_entry(&sv, &s->pool, now) == 0;
	json_w_obj_end(&sv.w);
	ok = ok && json_w_end(&sv.w) >= 0;
	if (ok)
		buf[sv.w.len++] = '\n';
	ok = ok && spill(&sv, 0) == 0 && fflush(sv.f) == 0 &&
	    fsync(fileno(sv.f)) == 0;
	ok = fclose(sv.f) == 0 && ok && rename(tmp, path) == 0;
	free(buf);
	if (!ok) {
		log_warnx("stats: cannot save %s: %s", path, sv.done >
		    (size_t)STATS_MAX_FILE ? "too big" : strerror(errno));
		unlink(tmp);
		return -1;
	}
	/* The rename is durable only once the directory is synced; some
	 * file systems refuse fsync on a directory, which costs nothing. */
	dir_of(path, tmp, sizeof(tmp));
	if ((fd = open(tmp, O_RDONLY)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	return 0;
}

/* Numbers in the file are >= 0; integers are at most max. */
static int
get_num(const struct json_doc *d, int tok, double *out)
{
	return json_double(d, tok, out) == 0 && *out >= 0 ? 0 : -1;
}

static int
get_int(const struct json_doc *d, int tok, int64_t *out, int64_t max)
{
	return json_int64(d, tok, out) == 0 && *out >= 0 && *out <= max ?
	    0 : -1;
}

/* A head past TIME_MAX / width could overflow head x width. */
static int
load_ring(const struct json_doc *d, int tok, int64_t *head, double *v,
    int len, int width)
{
	int i = tok + 1, k;

	if (json_type(d, tok) != JSON_ARRAY || d->toks[tok].size !=
	    (uint32_t)len + 1 || get_int(d, i, head, TIME_MAX / width) < 0)
		return -1;
	for (k = 0; k < len; k++)
		if (get_num(d, i = (int)d->toks[i].next, &v[k]) < 0)
			return -1;
	return 0;
}

static int
load_tally(const struct json_doc *d, int obj, struct tally *t)
{
	int rej = json_get(d, obj, "rejected"), arr = json_get(d, obj,
	    "rings"), i, k;

	if (get_int(d, json_get(d, obj, "accepted"), &t->accepted,
	    INT64_MAX) < 0 ||
	    get_num(d, json_get(d, obj, "best_share"), &t->best) < 0 ||
	    get_num(d, json_get(d, obj, "best_share_ever"), &t->best_ever) < 0
	    || get_int(d, json_get(d, obj, "last_share"), &t->last_share,
	    TIME_MAX) < 0 || get_int(d, json_get(d, obj, "last_seen"),
	    &t->last_seen, TIME_MAX) < 0 || json_type(d, arr) != JSON_ARRAY ||
	    d->toks[arr].size != NRING)
		return -1;
	for (k = 0; k < STATS_REJECT_KINDS; k++)
		if (get_int(d, json_get(d, rej, reject_names[k]),
		    &t->rejected[k], INT64_MAX) < 0)
			return -1;
	for (k = 0, i = arr + 1; k < NRING; k++, i = (int)d->toks[i].next)
		if (load_ring(d, i, &t->head[k], t->v + rings[k].off,
		    rings[k].len, rings[k].width) < 0)
			return -1;
	return 0;
}

/* e's tally, then its kids, or a worker's agent and difficulty. */
static int
load_entry(struct stats *s, struct entry *e, const struct json_doc *d,
    int obj)
{
	char name[STATS_NAME_MAX];
	struct entry *k;
	int arr, i, n;
	uint32_t j;

	if (load_tally(d, obj, &e->t) < 0)
		return -1;
	if (e->level == WORKER)
		return json_string(d, json_get(d, obj, "agent"), e->agent,
		    sizeof(e->agent)) < 0 || get_num(d, json_get(d, obj,
		    "difficulty"), &e->diff) < 0 ? -1 : 0;
	arr = json_get(d, obj, e->level == POOL ? "addresses" : "workers");
	if (json_type(d, arr) != JSON_ARRAY)
		return -1;
	for (j = 0, i = arr + 1; j < d->toks[arr].size;
	    j++, i = (int)d->toks[i].next) {
		n = json_string(d, json_get(d, i, "name"), name,
		    e->level == POOL ? STATS_ADDR_MAX : STATS_NAME_MAX);
		if (n <= 0 || (size_t)n != strlen(name) || is_full(s, e) ||
		    find(s, e, name) != NULL ||
		    (k = entry_new(s, e, name)) == NULL ||
		    load_entry(s, k, d, i) < 0)
			return -1;
		k->offline = OFF_QUIET;
	}
	return 0;
}

/* NULL when loaded, else what is wrong. */
static const char *
load_doc(struct stats *s, const char *buf, size_t len)
{
	struct json_tok *toks;
	struct json_doc d;
	int n;
	int64_t ver;
	const char *why = NULL;

	if ((n = json_parse(&d, buf, len, NULL, 0)) < 0)
		return len == 0 ? "empty file" : "not JSON";
	if ((toks = malloc((size_t)n * sizeof(*toks))) == NULL)
		return "out of memory";
	json_parse(&d, buf, len, toks, (size_t)n);
	if (json_int64(&d, json_get(&d, 0, "version"), &ver) < 0 ||
	    ver != FILE_VERSION)
		why = "not a version 1 stats file";
	else if (load_ring(&d, json_get(&d, 0, "history"), &s->hist_head,
	    s->hist, HIST_LEN, HIST_STEP) < 0 ||
	    load_entry(s, &s->pool, &d, json_get(&d, 0, "pool")) < 0)
		why = "bad entry";
	free(toks);
	return why;
}

static void
move_aside(struct stats *s, const char *path, const char *why)
{
	char dst[STATS_PATH_MAX + 48];
	struct stat st;
	long long now = (long long)time(NULL);
	int i, n;

	for (i = 0; i < 100; i++) {
		n = snprintf(dst, sizeof(dst), "%s.corrupt-%lld", path, now);
		if (i > 0)
			snprintf(dst + n, sizeof(dst) - (size_t)n, "-%d", i);
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
	const char *why;
	size_t len = 0;
	int rc;

	if (strlen(path) >= STATS_PATH_MAX - 16) {
		log_warnx("stats: path too long: %s", path);
		return -1;
	}
	dir_of(path, s->blocks_path, sizeof(s->blocks_path));
	strcat(s->blocks_path, "/blocks.log");
	if ((rc = read_file(path, &buf, &len, &why)) == 0) {
		rc = (why = load_doc(s, buf, len)) != NULL ? -1 : 0;
		free(buf);
	}
	if (rc < 0) {
		clear(s);
		move_aside(s, path, why);
	} else if (rc == 0)
		log_info("stats: loaded %s: %d addresses, %d workers", path,
		    s->pool.nkids, s->nworkers);
	blocks_load(s);
	return rc;
}

/* ---- the API's documents ----------------------------------------------- */

struct rank {
	const struct entry *e;
	double key;
};

static int
rank_cmp(const void *x, const void *y)
{
	const struct rank *a = x, *b = y;

	if (a->key != b->key)
		return a->key < b->key ? 1 : -1;
	return strcmp(a->e->name, b->e->name);
}

/* A user (in the pool's list) or a worker. */
static void
w_entry(struct json_w *w, const struct entry *e, int64_t now)
{
	json_w_obj(w);
	if (e->level == WORKER) {
		kv_s(w, "name", e->name);
		json_w_key(w, "online");
		json_w_bool(w, e->offline == ON);
		kv_i(w, "connections", e->conns);
		kv_d(w, "difficulty", e->diff);
		kv_s(w, "agent", e->agent);
	} else {
		kv_s(w, "address", e->name);
		kv_i(w, "workers", online(e));
		kv_i(w, "workers_total", e->nkids);
	}
	w_tally(w, &e->t, e->level != WORKER, now);
	json_w_obj_end(w);
}

/* The pool's users (seen in the last day or online, by 5-min hashrate)
 * or an address's workers (by name). */
static void
w_kids(struct json_w *w, const struct entry *e, int64_t now)
{
	struct rank *r = malloc((size_t)(e->nkids + 1) * sizeof(*r));
	const struct entry *k;
	int i, n = 0, users = e->level == POOL;

	json_w_arr(w);
	for (k = e->kids; r != NULL && k != NULL; k = k->next)
		if (!users || now - k->t.last_seen < DAY || online(k) > 0) {
			r[n].e = k;
			r[n++].key = users ? rate(&k->t, 1, now) : 0;
		}
	if (n > 0)
		qsort(r, (size_t)n, sizeof(*r), rank_cmp);
	for (i = 0; i < n && i < (users ? STATS_JSON_USERS :
	    STATS_JSON_WORKERS); i++)
		w_entry(w, r[i].e, now);
	json_w_arr_end(w);
	free(r);
}

void
stats_json_pool(const struct stats *s, const struct stats_pool_info *pi,
    int64_t now, struct json_w *w)
{
	static const struct stats_pool_info none;
	int64_t b = (now > 0 ? now : 0) / HIST_STEP, k;

	pi = pi != NULL ? pi : &none;
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
	kv_i(w, "workers", online(&s->pool));
	kv_i(w, "addresses", s->pool.nkids);
	w_tally(w, &s->pool.t, 0, now);
	kv_i(w, "blocks_found", (int64_t)s->nblocks);
	json_w_key(w, "users");
	w_kids(w, &s->pool, now);
	/* The last point is the current slot, averaged over its seconds. */
	json_w_key(w, "history");
	json_w_arr(w);
	for (b = b < s->hist_head ? s->hist_head : b, k = b - HIST_LEN + 1;
	    k <= b; k++) {
		json_w_arr(w);
		json_w_int(w, k * HIST_STEP);
		json_w_double(w, ring_at(s->hist_head, s->hist, HIST_LEN, k) *
		    TWO32 / (double)(k == b && now >= b * HIST_STEP ?
		    now - b * HIST_STEP + 1 : HIST_STEP));
		json_w_arr_end(w);
	}
	json_w_arr_end(w);
	json_w_obj_end(w);
}

int
stats_json_user(const struct stats *s, const char *address, int64_t now,
    struct json_w *w)
{
	const struct entry *a = find(s, &s->pool, address);

	if (a == NULL)
		return -1;
	json_w_obj(w);
	kv_s(w, "address", a->name);
	w_tally(w, &a->t, 0, now);
	kv_i(w, "workers_online", online(a));
	kv_i(w, "workers_total", a->nkids);
	json_w_key(w, "workers");
	w_kids(w, a, now);
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
		w_block(&s->blocks[(s->nblocks - 1 - i) % STATS_BLOCKS_KEPT],
		    w);
	json_w_arr_end(w);
	json_w_obj_end(w);
}

/* ---- Prometheus text --------------------------------------------------- */

/* Families, pool-wide then per worker (from M_WORKER on). */
enum {
	M_NODE_UP, M_MINERS, M_ONLINE, M_ADDRS, M_HEIGHT, M_NET_DIFF,
	M_TEMPLATE_AGE, M_STARTED, M_HASHRATE, M_ACCEPTED, M_REJECTED, M_BEST,
	M_BEST_EVER, M_BLOCKS, M_WORKER, M_W_HASHRATE, M_W_ACCEPTED,
	M_W_REJECTED, M_W_BEST, M_W_DIFF, M_W_LAST, M_ALL
};
static const struct { const char *name, *help; } fam[M_ALL] = {
	{ "stratum_node_up", "1 when the node answers." },
	{ "stratum_miners", "Miner connections." },
	{ "stratum_workers_online", "Workers sending shares." },
	{ "stratum_addresses", "Payout addresses tracked." },
	{ "stratum_height", "Height of the block being mined." },
	{ "stratum_network_difficulty", "Network difficulty." },
	{ "stratum_template_age_seconds", "Age of the block template." },
	{ "stratum_start_time_seconds", "When the pool started." },
	{ "stratum_hashrate", "Pool hashrate in H/s." },
	{ "stratum_shares_accepted_total", "Accepted shares." },
	{ "stratum_shares_rejected_total", "Rejected shares by reason." },
	{ "stratum_best_share", "Best share difficulty since the last block "
	    "found." },
	{ "stratum_best_share_ever", "Best share difficulty ever." },
	{ "stratum_blocks_found_total", "Blocks found." },
	{ "stratum_worker_online", "1 when the worker sends shares." },
	{ "stratum_worker_hashrate", "Worker hashrate in H/s." },
	{ "stratum_worker_shares_accepted_total", "Accepted shares." },
	{ "stratum_worker_shares_rejected_total", "Rejected shares." },
	{ "stratum_worker_best_share", "Best share difficulty since the last "
	    "block found." },
	{ "stratum_worker_difficulty", "Current share difficulty." },
	{ "stratum_worker_last_share_timestamp_seconds",
	    "When the last share was accepted." }
};

/* "name{labels} v" (labels "": none), v as JSON writes it: the shortest
 * text that reads back. */
static void
sample(FILE *out, int f, const char *labels, double v)
{
	char b[32];
	struct json_w w;

	json_w_init(&w, b, sizeof(b));
	json_w_double(&w, v);
	json_w_end(&w);
	fprintf(out, *labels ? "%s{%s} %s\n" : "%s%s %s\n", fam[f].name,
	    labels, b);
}

/* Family f's samples with labels lb: one per window for hashrates, one
 * per reason for the pool's rejects, else just v. */
static void
samples(FILE *out, int f, const char *lb, const struct tally *t,
    double v, int64_t now)
{
	char l[512];
	int i;

	for (i = 0; (f == M_HASHRATE || f == M_W_HASHRATE) && i < NWIN; i++) {
		snprintf(l, sizeof(l), "%s%swindow=\"%s\"", lb, *lb ? "," : "",
		    windows[i].name);
		sample(out, f, l, rate(t, i, now));
	}
	for (i = 0; f == M_REJECTED && i < STATS_REJECT_KINDS; i++) {
		snprintf(l, sizeof(l), "reason=\"%s\"", reject_names[i]);
		sample(out, f, l, (double)t->rejected[i]);
	}
	if (f != M_HASHRATE && f != M_W_HASHRATE && f != M_REJECTED)
		sample(out, f, lb, v);
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
worker_samples(FILE *out, int f, const struct entry *w, int64_t now)
{
	char lb[400], a[2 * STATS_ADDR_MAX], n[2 * STATS_NAME_MAX];
	const struct tally *t = &w->t;
	double v[M_ALL] = {
		[M_WORKER] = w->offline == ON,
		[M_W_ACCEPTED] = (double)t->accepted, [M_W_BEST] = t->best,
		[M_W_DIFF] = w->diff, [M_W_LAST] = (double)t->last_share
	};
	int i;

	for (i = 0; i < STATS_REJECT_KINDS; i++)
		v[M_W_REJECTED] += (double)t->rejected[i];
	snprintf(lb, sizeof(lb), "address=\"%s\",worker=\"%s\"", label(a,
	    sizeof(a), w->parent->name), label(n, sizeof(n), w->name));
	samples(out, f, lb, t, v[f], now);
}

/* Built in a memory stream, then copied whole if it fits: never cut. */
int
stats_metrics(const struct stats *s, const struct stats_pool_info *pi,
    int64_t now, char *buf, size_t cap)
{
	static const struct stats_pool_info none;
	const struct stats_pool_info *p = pi != NULL ? pi : &none;
	const struct tally *t = &s->pool.t;
	const double v[M_WORKER] = {
		[M_NODE_UP] = p->node_status != NULL &&
		    strcmp(p->node_status, "up") == 0,
		[M_MINERS] = p->miners, [M_ONLINE] = online(&s->pool),
		[M_ADDRS] = s->pool.nkids, [M_HEIGHT] = (double)p->height,
		[M_NET_DIFF] = p->network_diff,
		[M_TEMPLATE_AGE] = (double)p->template_age,
		[M_STARTED] = (double)p->started,
		[M_ACCEPTED] = (double)t->accepted, [M_BEST] = t->best,
		[M_BEST_EVER] = t->best_ever, [M_BLOCKS] = (double)s->nblocks
	};
	const struct entry *w;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	int f, k;

	for (f = 0; out != NULL && f < M_ALL; f++) {
		/* By the naming rule, "_total" marks a counter. */
		fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", fam[f].name,
		    fam[f].help, fam[f].name, strstr(fam[f].name, "_total") ?
		    "counter" : "gauge");
		if (f < M_WORKER)
			samples(out, f, "", t, v[f], now);
		for (w = &s->pool, k = 0; f >= M_WORKER && w != NULL;
		    w = walk(w))
			if (w->level == WORKER && (w->conns > 0 ||
			    now - w->t.last_seen < DAY) &&
			    k++ < STATS_METRICS_WORKERS)
				worker_samples(out, f, w, now);
	}
	if (out == NULL || fclose(out) != 0 || len >= cap || len > INT32_MAX) {
		free(text);
		return -1;
	}
	memcpy(buf, text, len + 1);
	free(text);
	return (int)len;
}
