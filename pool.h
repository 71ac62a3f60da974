/*
 * pool.h - the server's state, shared by stratum.c (miners: the loop,
 * connections, mining.* methods) and work.c (the node: templates, jobs,
 * found blocks).  One struct pool is created in main() and passed by
 * pointer; nothing else is global but signal flags and log settings.
 *
 * Memory policy: the client table, its pollfd array and the job ring are
 * sized from setting.ini and allocated at start-up; failure there is fatal.
 * At run time a client's line and output buffers grow on demand up to
 * max_line and max_backlog (an idle miner holds none), templates and jobs
 * are allocated per block template, and a failed allocation costs one
 * client or one template, never the process.  Nothing is allocated per
 * share, except that a job's duplicate set doubles when it fills.
 */
#ifndef POOL_H
#define POOL_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "api.h"
#include "conf.h"
#include "job.h"
#include "rpc.h"
#include "stats.h"

#define CLIENT_JOBS 8		/* jobs a miner may still submit to */
#define CLIENT_WORKER_MAX 128	/* "address.worker" bytes */
#define CLIENT_AGENT_MAX 64	/* user agent bytes kept */
#define SESSION_KEEP_MS (10 * 60 * 1000)	/* resumable extranonce1 */
#define SESSION_RING 1024
#define JOB_SEEN_MAX (1u << 20)	/* duplicate-check entries per job */
/* Jobs of the last KEEP_TEMPLATES templates stay valid (shares of an old
 * block are then judged stale, or submitted when they are blocks); older
 * ones are forgotten, so a 2 MB template is freed once no job needs it. */
#define KEEP_TEMPLATES 3
/* A notify line: NOTIFY_PREFIX, the job id, and the rest as
 * job_notify_coinbase() tells. */
#define NOTIFY_PREFIX "{\"id\":null,\"method\":\"mining.notify\"," \
	"\"params\":[\""

/* One coinbase, shared by every job id that names it (a vardiff re-issue
 * gives a miner a new id for the same work, so its duplicate set is the
 * job's, not the id's). */
struct pjob {
	struct job job;
	uint64_t gen;		/* pool->tmpl_gen when it was built */
	int refs;		/* ring slots + payout->cur */
	char *tail;		/* its part of the notify line */
	size_t tail_len;
	uint64_t *seen;		/* open-addressing set of share hashes */
	size_t nseen;
	size_t seen_cap;
};

/* Everybody paid to the same output script shares its jobs. */
#define PAYOUT_BUCKETS 1024
struct payout {
	uint8_t script[JOB_SCRIPT_MAX];
	size_t script_len;
	char addr[ADDR_MAX_LEN + 1];
	struct pjob *cur;	/* newest job, or NULL before a template */
	uint32_t cur_id;
	int nclients;
	struct payout *next;	/* same bucket */
};

struct jobslot {
	uint32_t id;
	struct pjob *pj;
};

struct client {
	int fd;			/* -1: slot free */
	unsigned serial;	/* for log lines */
	char peer[64];
	int64_t since_ms;
	int64_t last_ms;	/* last line received */
	char *in;		/* partial line */
	size_t in_len, in_cap;
	char *out;		/* bytes the socket did not take yet */
	size_t out_off, out_len, out_cap;
	int subscribed;
	int authorized;
	int closing;		/* 1: close once out is flushed, 2: now */
	int bad_lines;		/* unparsable lines so far */
	int bad_shares;		/* invalid shares since the last good one */
	uint8_t en1[JOB_EN1_SIZE];
	uint32_t mask;		/* negotiated version-rolling mask, 0: none */
	double diff;		/* difficulty last sent */
	double floor_diff;	/* mining.configure minimum-difficulty */
	double want_diff;	/* to send before the next notify, 0: none */
	int64_t reissue_ms;	/* last vardiff re-issue */
	struct payout *payout;
	char worker[CLIENT_WORKER_MAX];
	char agent[CLIENT_AGENT_MAX];
	struct { uint32_t id; double diff; } sent[CLIENT_JOBS];
	unsigned sent_pos;
	int64_t vd_since_ms;	/* vardiff window */
	double vd_sum;
	int vd_shares;
	uint64_t accepted, rejected;
	double best;
};

/* An address that keeps sending invalid shares: dropped BAN_STRIKES times
 * within ban_seconds, it is refused for ban_seconds. */
#define BAN_SLOTS 256
#define BAN_STRIKES 3
struct ban {
	char ip[48];
	int64_t first_ms;	/* first strike of this round */
	int64_t until_ms;	/* refused until then */
	int strikes;
};

struct session {
	uint8_t en1[JOB_EN1_SIZE];
	int64_t at_ms;		/* 0: empty or taken */
};

struct block_sub;

struct pool {
	struct conf conf;
	const char *conf_path;
	enum addr_net net;
	char chain[16];		/* as getblockchaininfo says it */
	int have_chain;
	struct rpc *rpcs[CONF_MAX_NODES];	/* one client per node */
	int cur;		/* the node templates come from */
	struct rpc *rpc;	/* rpcs[cur] */

	struct client *clients;	/* max_clients slots */
	int max_clients;	/* conf's, or fewer: see raise_nofile() */
	int nclients;
	int nslots;		/* slots in use are all below this */
	unsigned next_serial;
	uint32_t next_en1;
	int listen_fd[2];
	int nlisten;
	int64_t accept_paused_ms;	/* out of descriptors: until then */
	int64_t nofd_logged_ms;
	struct session sessions[SESSION_RING];
	struct ban bans[BAN_SLOTS];
	unsigned session_pos;

	struct tmpl *tmpl;	/* current template, or NULL */
	int64_t tmpl_ms;	/* when it arrived */
	uint64_t tmpl_gen;	/* templates taken so far */
	struct payout *payouts[PAYOUT_BUCKETS];	/* by script hash */
	struct payout *pool_payout;	/* btc_address, or NULL */
	struct jobslot *ring;
	size_t ring_size;
	uint32_t next_job;

	/* work.c's state */
	int gbt_busy, lp_busy, bbh_busy, info_busy;
	int lp_usable;		/* the node long-polls */
	int64_t next_gbt_ms, next_bbh_ms, next_info_ms;
	int refresh_now;
	struct block_sub *subs;	/* blocks being submitted */
	uint64_t blocks_found, blocks_accepted;
	int64_t notify_start_ms;	/* for the wake-to-notify figure */
	struct stats *stats;	/* never NULL after start-up */
	struct api *api;	/* NULL when [api] port = 0 */
	char stats_path[CONF_STR + 16];
	int64_t started;	/* unix time */
	int64_t next_save_ms;
	int check_only;		/* -t: stop after the first template */
	int check_done, check_failed;
};

/* stratum.c, for work.c */
void stratum_send(struct pool *p, struct client *c, const char *s, size_t n);
/* Send every authorized miner its payout's current job. */
void stratum_broadcast(struct pool *p, int clean);
/* Send one miner its payout's current job (after authorize or a
 * difficulty change): set_difficulty first when due. */
void stratum_send_job(struct pool *p, struct client *c, int clean);
void stratum_show_message(struct pool *p, const char *msg);

/* work.c, for stratum.c */
void work_start(struct pool *p);
/* Timers and node calls that are due. */
void work_tick(struct pool *p, int64_t now_ms);
int work_timeout_ms(const struct pool *p, int64_t now_ms);
/* Find or create the payout for script; NULL when out of memory.  The
 * caller counts itself in nclients; work_payout_drop() undoes that. */
struct payout *work_payout(struct pool *p, const uint8_t *script,
    size_t len, const char *addr);
void work_payout_drop(struct pool *p, struct payout *po);
/* A new id for po's current job (vardiff re-issue), 0 when none. */
uint32_t work_reissue(struct pool *p, struct payout *po);
/* The job behind an id, or NULL when it is no longer kept. */
struct pjob *work_find(struct pool *p, uint32_t id);
/* 1 when pj is for the block the node builds on now. */
int work_is_current(const struct pool *p, const struct pjob *pj);
/* Record a share hash; 1 when it was new, 0 when seen, -1 when full. */
int work_seen(struct pjob *pj, const uint8_t hash[32]);
/* A share met the network target: save, submit, confirm. */
void work_found_block(struct pool *p, const struct pjob *pj,
    const struct job_share *s, const uint8_t hash[32], const char *finder);
void work_free(struct pool *p);

#endif
