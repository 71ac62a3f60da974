/*
 * stats.h - what a home miner wants to see: per address, per worker
 * (address.worker) and for the pool, hashrates over 1 min, 5 min, 1 h and
 * 1 day, accepted and rejected shares (by reason), best shares, last share
 * time, current difficulty, user agent, connected workers, found blocks.
 *
 * Hashrate is difficulty-weighted: sum of accepted share difficulty x 2^32
 * / seconds of the window, kept in time buckets, so it is right both for
 * a 50 kH/s NerdMiner at difficulty 1e-4 and a 1 TH/s Bitaxe.  Buckets are
 * aligned to multiples of their width in unix time: 10 s (the 1 min and
 * 5 min windows), 5 min (1 h) and 1 h (1 day).  A window of W seconds at
 * time now is the W/width newest buckets, the current one included, and
 * is divided by the seconds they cover up to and including now: exactly W
 * when now is the last second of a bucket, W - width + 1 just after a
 * bucket boundary.  So 30 shares at difficulty 2 within seconds 0..59 give
 * a 1-min hashrate at now = 59 of 60 x 2^32 / 60 H/s.  The pool also keeps
 * a history of 144 ten-minute points (24 h) for the dashboard's chart.
 *
 * Persistence: stats_save() writes the whole state atomically (temp file,
 * fsync, rename); stats_load() reads it back.  Both are JSON, written with
 * json_w and read with json_parse: {"version":1,"saved":T,"history":[..],
 * "pool":{..,"addresses":[{"name":..,..,"workers":[..]},..]}}.  Found
 * blocks are also appended, one JSON object a line, to "blocks.log" in the
 * directory of the stats file (data/stats.json -> data/blocks.log); that
 * file is never rewritten, so a corrupt stats file never costs the record
 * of blocks.
 *
 * Memory: about 900 bytes per worker or address (64-bit), allocated when
 * first seen.  At most STATS_MAX_WORKERS workers and STATS_MAX_ADDRS addresses
 * are tracked; a new one beyond that evicts the least recently seen entry
 * that has no connected worker (an address goes with its workers).  When
 * every entry is connected the new one is not tracked (the pool totals
 * still count it) and a warning is logged at most once an hour.
 *
 * Module of its own: uses json.h for its file format and API output, and
 * log.h; knows nothing of sockets or the pool.
 */
#ifndef STATS_H
#define STATS_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"

/* Reject reasons, by stratum error code 20..25: other, stale, duplicate,
 * low_difficulty, unauthorized, not_subscribed.  Other codes count as
 * "other". */
#define STATS_REJECT_KINDS 6

/* Bytes, NUL included.  Events naming a longer (or empty) address or
 * worker are counted in the pool totals only; a longer agent or verdict
 * is cut (they are only shown). */
#define STATS_ADDR_MAX 96	/* addresses are at most 90 characters */
#define STATS_NAME_MAX 128	/* as the pool's CLIENT_WORKER_MAX */
#define STATS_AGENT_MAX 64
#define STATS_VERDICT_MAX 64
#define STATS_PATH_MAX 1024	/* stats file path */

#ifndef STATS_MAX_WORKERS
#define STATS_MAX_WORKERS 10000
#endif
#ifndef STATS_MAX_ADDRS
#define STATS_MAX_ADDRS 10000
#endif
/* Newest found blocks kept in memory and shown (blocks.log keeps all). */
#define STATS_BLOCKS_KEPT 256
/* List lengths in the API documents, to keep replies bounded: users in
 * /api/pool, workers in /api/users/<address>, workers in /metrics. */
#define STATS_JSON_USERS 256
#define STATS_JSON_WORKERS 1000
#define STATS_METRICS_WORKERS 1000
/* Largest stats file read or written (10,000 workers take ~10 MB). */
#define STATS_MAX_FILE (64L * 1024 * 1024)

struct stats;

/* NULL when out of memory. */
struct stats *stats_new(void);
void stats_free(struct stats *s);

/*
 * Load path into s (which must be fresh from stats_new()), and the found
 * blocks from blocks.log beside it; stats_block() appends there from then
 * on (without a stats_load(), blocks are kept in memory only).
 * Returns 0 when loaded, 1 when there was no file (a first start), or -1
 * when the file was unreadable or corrupt: it is then renamed to
 * "path.corrupt-<unix time>", a warning names both files, and s stays
 * empty - the pool starts anyway and never silently loses the old data.
 * When even the rename fails, stats_save() refuses to overwrite path.
 * Also -1 (nothing moved) when path is longer than STATS_PATH_MAX - 16.
 * Unreadable lines in blocks.log are skipped with a warning.
 */
int stats_load(struct stats *s, const char *path);

/* Atomic save: path.tmp, fsync, rename, fsync of the directory.
 * Returns 0 or -1 (logged). */
int stats_save(const struct stats *s, const char *path);

/* Events.  worker is the full user name ("ADDRESS.rig1" or just
 * "ADDRESS" or any name); address is the payout address it mines for.
 * A worker is keyed by both.  now is wall-clock seconds (time(NULL)), so
 * history survives restarts. */
void stats_connect(struct stats *s, const char *address, const char *worker,
    const char *agent, double diff, int64_t now);
void stats_disconnect(struct stats *s, const char *address,
    const char *worker, int64_t now);
void stats_difficulty(struct stats *s, const char *address,
    const char *worker, double diff);
/* An accepted share: diff is the difficulty it was judged at (credited),
 * share_diff the share's own (for best share).  Ignored unless diff is
 * finite and > 0. */
void stats_share(struct stats *s, const char *address, const char *worker,
    double diff, double share_diff, int64_t now);
/* A rejected share, code 20..25. */
void stats_reject(struct stats *s, const char *address, const char *worker,
    int code, int64_t now);
/* A block: found (verdict "submitted"), then its verdict once known
 * ("accepted", "rejected: reason", "duplicate", "orphan", ...).  The
 * same hash updates the same record.  best-since-last-block resets (for
 * the pool, every address and worker) when a new hash is recorded.
 * Every call appends a line to blocks.log (fsync'd). */
void stats_block(struct stats *s, int64_t height, const char *hash,
    const char *finder, const char *verdict, int64_t now);

/* Workers without a share for offline_secs are marked offline (logged
 * once, and once more when they come back).  Call about once a second.
 * A disconnected worker is offline at once, without a log line (the pool
 * logs disconnects itself); a connect or a share brings it back. */
void stats_tick(struct stats *s, int64_t now, int offline_secs);

/* Pool-wide facts the stats do not track themselves. */
struct stats_pool_info {
	int64_t height;		/* of the block being mined */
	double network_diff;
	int64_t template_age;	/* seconds */
	const char *node_status;	/* "up", "down", "auth refused" */
	const char *chain;
	int miners;		/* connections */
	int64_t started;	/* unix time */
};

/*
 * JSON documents for the status API, written with w (pi may be NULL).
 * Hashrates are objects {"1m":H,"5m":H,"1h":H,"1d":H} in H/s; times are
 * unix seconds (0: never); "rejected" is {"other":N,"stale":N,
 * "duplicate":N,"low_difficulty":N,"unauthorized":N,"not_subscribed":N}.
 *   pool:  {"time","started","uptime","chain","height",
 *          "network_difficulty","template_age","node","miners",
 *          "workers" (online),"addresses","hashrate","accepted","rejected",
 *          "best_share" (since the last block),"best_share_ever",
 *          "last_share","blocks_found","users":[{"address","hashrate",
 *          "workers" (online),"workers_total","best_share",
 *          "best_share_ever","last_share"}] (addresses seen in the last
 *          day or online, by 5-min hashrate, at most STATS_JSON_USERS),
 *          "history":[[slot start, H/s],..] (144 x 10 min, oldest first;
 *          the last slot is the current one, averaged over its seconds)}
 *   user:  {"address","hashrate","accepted","rejected","best_share",
 *          "best_share_ever","last_share","workers_online","workers_total",
 *          "workers":[{"name","online","connections","difficulty","agent",
 *          "hashrate","accepted","rejected","best_share","best_share_ever",
 *          "last_share"}] (by name, at most STATS_JSON_WORKERS)}
 *   blocks: {"count" (distinct blocks ever),"blocks":[{"height","hash",
 *          "finder","verdict","time"}] (newest first)}
 * _user returns -1 (writing nothing) when the address is unknown (the API
 * answers 404), else 0.  Truncation shows in json_w_end().
 */
void stats_json_pool(const struct stats *s, const struct stats_pool_info *pi,
    int64_t now, struct json_w *w);
int stats_json_user(const struct stats *s, const char *address, int64_t now,
    struct json_w *w);
void stats_json_blocks(const struct stats *s, struct json_w *w);
/* Prometheus text exposition (format 0.0.4) into buf (cap bytes, NUL-
 * terminated): pool gauges and counters, and per worker (those seen in
 * the last day, at most STATS_METRICS_WORKERS) with labels address and
 * worker.  Returns the length, or -1 when cap is too small. */
int stats_metrics(const struct stats *s, const struct stats_pool_info *pi,
    int64_t now, char *buf, size_t cap);

#endif
