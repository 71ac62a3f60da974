/*
 * work.c - the node side of the pool: which chain, block templates (by
 * long poll, by polling the best block hash when the node does not long
 * poll, and by a timer for new fees), the jobs built from them, and found
 * blocks (saved to disk, submitted, retried, confirmed).
 *
 * Every node call is asynchronous (rpc.c); each kind has a busy flag so at
 * most one of it is in flight, and a failed call is retried from
 * work_tick() after a second, logged once per change of its outcome.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pool.h"

#define RETRY_MS 1000		/* after a failed template or info call */
#define BBH_MS 1000		/* best-block polling without long poll */
#define SUBMIT_RETRY_MS 2000
#define SUBMIT_TRIES 300	/* ten minutes of a node that is down */

struct block_sub {
	struct block_sub *next;
	struct pool *pool;
	struct rpc *rpc;	/* the node this copy goes to */
	char *params;		/* ["<block hex>"] */
	char hash[65];		/* display order */
	char path[CONF_STR + 96];
	char finder[CLIENT_WORKER_MAX];
	int64_t height;
	int tries;
	int busy;
	int64_t next_ms;
};

static void gbt_start(struct pool *p);
static void on_longpoll(void *arg, const struct rpc_reply *r);
static void resubmit_saved(struct pool *p);

static int64_t
now_ms(void)
{
	return rpc_now_ms();
}

/* ---- jobs ------------------------------------------------------------ */

static void
pjob_unref(struct pjob *pj)
{
	if (pj == NULL || --pj->refs > 0)
		return;
	job_free(&pj->job);
	free(pj->tail);
	free(pj->seen);
	free(pj);
}

/* The job's own part of its notify line, kept once per job (the rest is
 * the template's: see job_notify_coinbase). */
static int
pjob_tail(struct pjob *pj)
{
	size_t cap = 2 * (pj->job.cb1_len + pj->job.cb2_len) + 4;
	char *buf = malloc(cap);
	int n;

	if (buf == NULL || (n = job_notify_coinbase(&pj->job, buf, cap)) < 0) {
		free(buf);
		return -1;
	}
	pj->tail = buf;
	pj->tail_len = (size_t)n;
	return 0;
}

static struct pjob *
pjob_new(struct pool *p, const struct payout *po)
{
	struct pjob *pj = calloc(1, sizeof(*pj));
	char err[160];

	if (pj == NULL)
		return NULL;
	if (job_init(&pj->job, p->tmpl, po->script, po->script_len,
	    p->conf.coinbase_tag, (size_t)p->conf.extranonce2_size,
	    err, sizeof(err)) < 0) {
		log_error("cannot build a job for %s: %s", po->addr, err);
		free(pj);
		return NULL;
	}
	if (pjob_tail(pj) < 0) {
		log_error("cannot format a job for %s", po->addr);
		job_free(&pj->job);
		free(pj);
		return NULL;
	}
	return pj;
}

/* A new id for pj in the ring; the slot's previous job is forgotten. */
static uint32_t
ring_put(struct pool *p, struct pjob *pj)
{
	struct jobslot *s;
	uint32_t id;

	if (++p->next_job == 0)
		p->next_job = 1;
	id = p->next_job;
	s = &p->ring[id % p->ring_size];
	pjob_unref(s->pj);
	s->id = id;
	s->pj = pj;
	pj->refs++;
	return id;
}

struct pjob *
work_find(struct pool *p, uint32_t id)
{
	struct jobslot *s = &p->ring[id % p->ring_size];

	return (s->pj != NULL && s->id == id) ? s->pj : NULL;
}

int
work_is_current(const struct pool *p, const struct pjob *pj)
{
	return p->tmpl != NULL &&
	    memcmp(pj->job.t->prevhash, p->tmpl->prevhash, 32) == 0;
}

/* Give po a job for the current template; keeps the old one on failure. */
static void
payout_refresh(struct pool *p, struct payout *po)
{
	struct pjob *pj;

	if (p->tmpl == NULL || (pj = pjob_new(p, po)) == NULL)
		return;
	pj->gen = p->tmpl_gen;
	pjob_unref(po->cur);
	po->cur = pj;
	pj->refs++;
	po->cur_id = ring_put(p, pj);
}

uint32_t
work_reissue(struct pool *p, struct payout *po)
{
	return po->cur == NULL ? 0 : ring_put(p, po->cur);
}

static struct payout **
bucket(struct pool *p, const uint8_t *script, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ script[i]) * 16777619u;
	return &p->payouts[h % PAYOUT_BUCKETS];
}

struct payout *
work_payout(struct pool *p, const uint8_t *script, size_t len,
    const char *addr)
{
	struct payout *po, **b = bucket(p, script, len);

	for (po = *b; po != NULL; po = po->next)
		if (po->script_len == len && memcmp(po->script, script,
		    len) == 0)
			return po;
	if (len > sizeof(po->script) || (po = calloc(1, sizeof(*po))) == NULL)
		return NULL;
	memcpy(po->script, script, len);
	po->script_len = len;
	snprintf(po->addr, sizeof(po->addr), "%s", addr);
	po->next = *b;
	*b = po;
	payout_refresh(p, po);
	return po;
}

void
work_payout_drop(struct pool *p, struct payout *po)
{
	struct payout **pp;

	if (po == NULL || --po->nclients > 0 || po == p->pool_payout)
		return;
	pp = bucket(p, po->script, po->script_len);
	for (; *pp != NULL; pp = &(*pp)->next)
		if (*pp == po) {
			*pp = po->next;
			break;
		}
	pjob_unref(po->cur);
	free(po);
}

/* Fingerprint set: the hash's low 64 bits, which are uniformly random
 * (the high bits are the zeros that made it a share). */
static int
seen_insert(uint64_t *set, size_t cap, uint64_t fp)
{
	size_t i = (size_t)(fp ^ (fp >> 29)) & (cap - 1);

	while (set[i] != 0) {
		if (set[i] == fp)
			return 0;
		i = (i + 1) & (cap - 1);
	}
	set[i] = fp;
	return 1;
}

static int
seen_grow(struct pjob *pj)
{
	size_t cap = pj->seen_cap ? pj->seen_cap * 2 : 64, i;
	uint64_t *set;

	if (cap > JOB_SEEN_MAX || (set = calloc(cap, sizeof(*set))) == NULL)
		return -1;
	for (i = 0; i < pj->seen_cap; i++)
		if (pj->seen[i] != 0)
			seen_insert(set, cap, pj->seen[i]);
	free(pj->seen);
	pj->seen = set;
	pj->seen_cap = cap;
	return 0;
}

int
work_seen(struct pjob *pj, const uint8_t hash[32])
{
	uint64_t fp = 1;	/* never 0, the empty mark */
	int i, r;

	for (i = 0; i < 8; i++)
		fp |= (uint64_t)hash[i] << (8 * i);
	if (pj->nseen * 2 >= pj->seen_cap && seen_grow(pj) < 0)
		return -1;
	r = seen_insert(pj->seen, pj->seen_cap, fp);
	pj->nseen += (size_t)r;
	return r;
}

/* ---- templates --------------------------------------------------------- */

/* Log a failed call only when its outcome differs from the last one. */
static void
log_call(const char *what, const struct rpc_reply *r, int *last)
{
	int now = r->status == RPC_ERR_RPC ? 1000 + (int)r->code :
	    (int)r->status;

	if (now != *last)
		log_warnx("%s failed: %s", what, r->message != NULL ?
		    r->message : "unknown error");
	*last = now;
}

/* The node templates come from failed at the transport level: with more
 * than one node configured, take the next.  The first node is tried again
 * at every timed refresh, so templates come from it whenever it is up. */
static void
failover(struct pool *p, const struct rpc_reply *r)
{
	int next;

	if (p->conf.nnodes < 2 || r->status == RPC_OK ||
	    r->status == RPC_ERR_RPC || r->status == RPC_ERR_CANCELLED)
		return;
	next = (p->cur + 1) % p->conf.nnodes;
	log_warnx("node %d failed (%s): templates from node %d now",
	    p->cur + 1, r->message, next + 1);
	p->cur = next;
	p->rpc = p->rpcs[next];
	p->refresh_now = 1;
}

static void
on_proposal(void *arg, const struct rpc_reply *r)
{
	struct pool *p = arg;
	char why[256];

	if (r->status == RPC_OK && json_type(r->doc, r->result) == JSON_NULL)
		log_debug("node accepts the structure of our blocks "
		    "(BIP 23 proposal)");
	else if (r->status == RPC_OK &&
	    json_string(r->doc, r->result, why, sizeof(why)) >= 0)
		log_error("NODE REJECTS OUR BLOCK STRUCTURE (BIP 23 proposal): "
		    "%s - a found block would be lost; check the node and "
		    "the pool version", why);
	else if (r->status == RPC_ERR_RPC)
		log_info("node does not check block proposals (%s); "
		    "skipped", r->message);
	(void)p;
}

/* BIP 23: ask the node whether a block as we build it would be valid,
 * with a zero extranonce and no proof of work, once per new block. */
static void
proposal_check(struct pool *p)
{
	static const uint8_t op_true[1] = { 0x51 };
	struct payout *po = p->pool_payout;
	struct job j;
	struct job_share s;
	char err[160], *hex, *params;
	size_t n;

	for (n = 0; po == NULL && n < PAYOUT_BUCKETS; n++)
		po = p->payouts[n];	/* any miner's script will do */

	if (job_init(&j, p->tmpl, po ? po->script : op_true,
	    po ? po->script_len : 1, p->conf.coinbase_tag,
	    (size_t)p->conf.extranonce2_size, err, sizeof(err)) < 0)
		return;
	memset(&s, 0, sizeof(s));
	s.ntime = p->tmpl->curtime;
	s.version = p->tmpl->version;
	hex = job_block_hex(&j, &s, &n);
	job_free(&j);
	if (hex == NULL || (params = malloc(n + 64)) == NULL) {
		free(hex);
		return;
	}
	snprintf(params, n + 64, "[{\"mode\":\"proposal\",\"data\":\"%s\"}]",
	    hex);
	free(hex);
	if (rpc_call(p->rpc, "getblocktemplate", params, 0, on_proposal,
	    p) < 0)
		log_warnx("proposal check not queued");
	free(params);
}

static void
lp_start(struct pool *p)
{
	char params[JOB_LONGPOLLID_MAX + 64];

	if (p->lp_busy || !p->lp_usable || !p->conf.longpoll ||
	    p->tmpl == NULL || p->tmpl->longpollid[0] == '\0')
		return;
	snprintf(params, sizeof(params), "[{\"rules\":[\"segwit\"],"
	    "\"longpollid\":\"%s\"}]", p->tmpl->longpollid);
	if (rpc_call(p->rpc, "getblocktemplate", params, RPC_F_LONGPOLL,
	    on_longpoll, p) == 0)
		p->lp_busy = 1;
}

/* Forget the jobs of all but the newest KEEP_TEMPLATES templates: each
 * holds its template.  Jobs of the block just replaced stay for a while,
 * so a late share that is a block can still reach the node. */
static void
ring_prune(struct pool *p)
{
	struct jobslot *s;
	size_t i;

	for (i = 0; i < p->ring_size; i++) {
		s = &p->ring[i];
		if (s->pj != NULL && s->pj->gen + KEEP_TEMPLATES <= p->tmpl_gen) {
			pjob_unref(s->pj);
			s->pj = NULL;
		}
	}
}

static void
new_template(struct pool *p, struct tmpl *t)
{
	int clean = p->tmpl == NULL ||
	    memcmp(p->tmpl->prevhash, t->prevhash, 32) != 0;
	struct payout *po;
	char hash[65];
	size_t i;

	tmpl_unref(p->tmpl);
	p->tmpl = t;
	p->tmpl_ms = now_ms();
	p->tmpl_gen++;
	for (i = 0; i < PAYOUT_BUCKETS; i++)
		for (po = p->payouts[i]; po != NULL; po = po->next)
			payout_refresh(p, po);
	ring_prune(p);
	stratum_broadcast(p, clean);
	if (clean) {	/* after the miners have their work */
		for (i = 0; i < 32; i++)
			snprintf(hash + 2 * i, 3, "%02x", t->prevhash[31 - i]);
		log_info("new block %lld on %.16s..., %zu transactions, "
		    "%.8f BTC", (long long)t->height, hash + 48, t->ntx,
		    (double)t->coinbasevalue / 1e8);
		proposal_check(p);
	}
	p->next_gbt_ms = now_ms() + 1000LL * p->conf.update_interval;
	p->check_done = 1;
	lp_start(p);
}

static void
take_template(struct pool *p, const struct rpc_reply *r, const char *what,
    int *last)
{
	struct tmpl *t;
	char err[200];

	if (r->status != RPC_OK) {
		log_call(what, r, last);
		return;
	}
	if ((t = tmpl_from_json(r->doc, r->result, err, sizeof(err))) ==
	    NULL) {
		if (*last != -100)
			log_error("node sent an unusable template: %s", err);
		*last = -100;
		return;
	}
	if (*last != RPC_OK)
		log_notice("templates are coming from the node");
	*last = RPC_OK;
	new_template(p, t);
}

static void
on_gbt(void *arg, const struct rpc_reply *r)
{
	static int last = -1;
	struct pool *p = arg;

	p->gbt_busy = 0;
	if (r->status == RPC_ERR_CANCELLED)
		return;
	take_template(p, r, "getblocktemplate", &last);
	failover(p, r);
	if (r->status != RPC_OK) {
		p->next_gbt_ms = now_ms() + RETRY_MS;
		if (p->check_only)
			p->check_failed = 1;
	}
}

static void
on_longpoll(void *arg, const struct rpc_reply *r)
{
	static int last = RPC_OK;
	struct pool *p = arg;

	p->lp_busy = 0;
	if (r->status == RPC_ERR_CANCELLED)
		return;
	if (r->status == RPC_ERR_RPC) {
		log_notice("node does not long-poll (%s); polling its best "
		    "block every second", r->message);
		p->lp_usable = 0;
		return;
	}
	if (r->status == RPC_OK)
		p->notify_start_ms = now_ms();
	take_template(p, r, "long poll", &last);
	/* A node that answers at once without news must not be hammered:
	 * only a template the node held for a while restarts at once. */
	if (r->status == RPC_OK && r->elapsed_ms >= 1000)
		lp_start(p);
	else
		p->next_bbh_ms = now_ms() + BBH_MS;
}

static void
gbt_start(struct pool *p)
{
	if (p->gbt_busy || !p->have_chain)
		return;
	if (rpc_call(p->rpc, "getblocktemplate", "[{\"rules\":[\"segwit\"]}]",
	    0, on_gbt, p) == 0)
		p->gbt_busy = 1;
	p->next_gbt_ms = now_ms() + RETRY_MS;
}

static void
on_bbh(void *arg, const struct rpc_reply *r)
{
	static int last = RPC_OK;
	struct pool *p = arg;
	char hash[65], mine[65];
	int i;

	p->bbh_busy = 0;
	if (r->status == RPC_ERR_CANCELLED)
		return;
	if (r->status != RPC_OK ||
	    json_string(r->doc, r->result, hash, sizeof(hash)) != 64) {
		if (r->status != RPC_OK)
			log_call("getbestblockhash", r, &last);
		failover(p, r);
		return;
	}
	last = RPC_OK;
	if (p->tmpl == NULL)
		return;
	for (i = 0; i < 32; i++)
		snprintf(mine + 2 * i, 3, "%02x", p->tmpl->prevhash[31 - i]);
	if (strcmp(hash, mine) != 0) {
		p->notify_start_ms = now_ms();
		gbt_start(p);
	}
}

static void
on_info(void *arg, const struct rpc_reply *r)
{
	static int last = -1;
	struct pool *p = arg;
	char chain[16], err[200];
	int net;
	uint8_t script[ADDR_SCRIPT_MAX];
	int n;

	p->info_busy = 0;
	if (r->status == RPC_ERR_CANCELLED)
		return;
	if (r->status != RPC_OK) {
		log_call("getblockchaininfo", r, &last);
		failover(p, r);
		p->next_info_ms = now_ms() + RETRY_MS;
		if (p->check_only)
			p->check_failed = 1;
		return;
	}
	if (json_string(r->doc, json_get(r->doc, r->result, "chain"), chain,
	    sizeof(chain)) < 0 || (net = addr_net_from_chain(chain)) < 0) {
		log_error("node reports no chain I know (getblockchaininfo)");
		p->next_info_ms = now_ms() + 60 * RETRY_MS;
		p->check_failed = 1;
		return;
	}
	snprintf(p->chain, sizeof(p->chain), "%s", chain);
	p->net = (enum addr_net)net;
	log_notice("node is up: chain %s", chain);
	if (p->conf.btc_address[0] != '\0') {
		n = addr_to_script(p->conf.btc_address, p->net, script, err,
		    sizeof(err));
		if (n < 0)
			fatalx("btc_address %s: %s", p->conf.btc_address, err);
		p->pool_payout = work_payout(p, script, (size_t)n,
		    p->conf.btc_address);
		if (p->pool_payout == NULL)
			fatalx("out of memory");
		p->pool_payout->nclients++;
	}
	p->have_chain = 1;
	gbt_start(p);
	if (!p->check_only)
		resubmit_saved(p);
}

/* ---- found blocks ------------------------------------------------------ */

/* on_block: run directly (no shell) as  on_block HEIGHT HASH FINDER VERDICT,
 * not waited for (SIGCHLD is ignored, so the kernel reaps it). */
static void
run_on_block(struct pool *p, const struct block_sub *b, const char *verdict)
{
	char height[24];
	long fd, max;
	pid_t pid;

	if (p->conf.on_block[0] == '\0')
		return;
	snprintf(height, sizeof(height), "%lld", (long long)b->height);
	if ((pid = fork()) < 0) {
		log_warn("on_block %s", p->conf.on_block);
		return;
	}
	if (pid > 0)
		return;
	max = sysconf(_SC_OPEN_MAX);
	for (fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
		close((int)fd);
	execl(p->conf.on_block, p->conf.on_block, height, b->hash, b->finder,
	    verdict, (char *)NULL);
	_exit(127);
}

static void
tell_miners(struct pool *p, const struct block_sub *b, const char *what)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "Block %lld %s (found by %s)",
	    (long long)b->height, what, b->finder);
	stratum_show_message(p, msg);
	run_on_block(p, b, what);
}

static void sub_send(struct block_sub *b);

static void
sub_free(struct pool *p, struct block_sub *b)
{
	struct block_sub **pp;

	for (pp = &p->subs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == b) {
			*pp = b->next;
			break;
		}
	free(b->params);
	free(b);
}

/* The node has judged the block: its file is renamed *.done so a restart
 * does not submit it again; only blocks never judged stay *.hex. */
static void
judged(struct block_sub *b, const char *verdict)
{
	char done[sizeof(b->path) + 8];

	stats_block(b->pool->stats, b->height, b->hash, b->finder, verdict,
	    time(NULL));
	snprintf(done, sizeof(done), "%s.done", b->path);
	if (rename(b->path, done) == 0)
		tell_miners(b->pool, b, verdict);	/* first node's verdict */
	else if (errno != ENOENT)
		log_warn("rename %s", b->path);
}

static void
on_confirm(void *arg, const struct rpc_reply *r)
{
	struct block_sub *b = arg;
	char hash[65];

	if (r->status == RPC_OK && json_string(r->doc, r->result, hash,
	    sizeof(hash)) == 64 && strcmp(hash, b->hash) == 0) {
		b->pool->blocks_accepted++;
		log_notice("BLOCK ACCEPTED: height %lld hash %s is in the "
		    "node's chain (found by %s)", (long long)b->height,
		    b->hash, b->finder);
		judged(b, "accepted");
	} else if (r->status == RPC_OK) {
		log_error("block %s was answered null but height %lld holds "
		    "another block: it lost a race or built on an old tip",
		    b->hash, (long long)b->height);
		judged(b, "orphaned");
	} else if (r->status != RPC_ERR_CANCELLED)
		log_warnx("could not confirm block %s: %s", b->hash,
		    r->message);
	sub_free(b->pool, b);
}

/* submitblock answers null when accepted, else a reason; some nodes
 * prefix it with "rejected: ". */
static void
on_submit(void *arg, const struct rpc_reply *r)
{
	struct block_sub *b = arg;
	struct pool *p = b->pool;
	char why[256], params[32];
	const char *w = why;

	b->busy = 0;
	if (r->status == RPC_ERR_CANCELLED)
		return;
	p->next_gbt_ms = now_ms();
	if (r->status != RPC_OK && r->status != RPC_ERR_RPC) {
		if (++b->tries < SUBMIT_TRIES) {
			log_warnx("submitblock %s: %s; trying again (kept in "
			    "%s)", b->hash, r->message, b->path);
			b->next_ms = now_ms() + SUBMIT_RETRY_MS;
			return;
		}
		log_error("BLOCK %s NOT SUBMITTED: node unreachable; submit "
		    "%s by hand (bitcoin-cli submitblock)", b->hash, b->path);
	} else if (r->status == RPC_ERR_RPC) {
		log_error("BLOCK %s REJECTED by the node: %s", b->hash,
		    r->message);
		judged(b, "rejected");
	} else if (json_type(r->doc, r->result) == JSON_NULL) {
		log_notice("block %s submitted: node says ok; confirming",
		    b->hash);
		snprintf(params, sizeof(params), "[%lld]",
		    (long long)b->height);
		if (rpc_call(b->rpc, "getblockhash", params, 0, on_confirm,
		    b) == 0) {
			b->busy = 1;	/* no retry while confirming */
			return;
		}
	} else if (json_string(r->doc, r->result, why, sizeof(why)) >= 0) {
		if (strncmp(w, "rejected: ", 10) == 0)
			w += 10;
		if (strcmp(w, "duplicate") == 0 ||
		    strncmp(w, "inconclusive", 12) == 0)
			log_notice("block %s: node says %s", b->hash, w);
		else
			log_error("BLOCK %s REJECTED by the node: %s",
			    b->hash, w);
		judged(b, strcmp(w, "duplicate") == 0 ? "duplicate" :
		    "rejected");
	}
	sub_free(p, b);
}

static void
sub_send(struct block_sub *b)
{
	if (rpc_call(b->rpc, "submitblock", b->params, 0, on_submit,
	    b) == 0)
		b->busy = 1;
	else
		b->next_ms = now_ms() + SUBMIT_RETRY_MS;
}

/* The block goes to disk first: if the node or the pool dies now, the
 * file is still there to submit by hand. */
static int
save_block(const char *path, const char *hex, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t w;
	size_t off = 0;

	if (fd < 0)
		return -1;
	while (off < n) {
		w = write(fd, hex + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	if (write(fd, "\n", 1) != 1 || fsync(fd) < 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static struct block_sub *
sub_new(struct pool *p, struct rpc *rpc, const char *hex, size_t n,
    const char *hash, int64_t height, const char *finder)
{
	struct block_sub *b = calloc(1, sizeof(*b));

	if (b == NULL || (b->params = malloc(n + 5)) == NULL) {
		free(b);
		return NULL;
	}
	snprintf(b->params, n + 5, "[\"%s\"]", hex);
	snprintf(b->hash, sizeof(b->hash), "%s", hash);
	snprintf(b->finder, sizeof(b->finder), "%s", finder);
	snprintf(b->path, sizeof(b->path), "%s/block-%lld-%s.hex",
	    p->conf.data_dir, (long long)height, hash);
	b->pool = p;
	b->rpc = rpc;
	b->height = height;
	b->next = p->subs;
	p->subs = b;
	return b;
}

/* Saved first, then submitted to every node at once: whichever reaches
 * the network first wins the block. */
void
work_found_block(struct pool *p, const struct pjob *pj,
    const struct job_share *s, const uint8_t hash[32], const char *finder)
{
	struct block_sub *b = NULL;
	char disp[65], *hex;
	size_t n, i;
	int k;

	hex = job_block_hex(&pj->job, s, &n);
	for (i = 0; i < 32; i++)
		snprintf(disp + 2 * i, 3, "%02x", hash[31 - i]);
	for (k = 0; hex != NULL && k < p->conf.nnodes; k++)
		if ((b = sub_new(p, p->rpcs[k], hex, n, disp,
		    pj->job.t->height, finder)) == NULL)
			break;
	p->blocks_found++;
	log_notice("BLOCK FOUND: height %lld hash %s by %s",
	    (long long)pj->job.t->height, disp, finder);
	stats_block(p->stats, pj->job.t->height, disp, finder, "submitted",
	    time(NULL));
	if (b == NULL) {
		log_error("BLOCK %s: OUT OF MEMORY, it may be lost", disp);
		free(hex);
		return;
	}
	if (save_block(b->path, hex, n) < 0)
		log_warn("could not save block to %s", b->path);
	free(hex);
	for (b = p->subs; b != NULL; b = b->next)
		if (!b->busy && b->tries == 0 && strcmp(b->hash, disp) == 0)
			sub_send(b);
}

/* A block saved but never judged (the node was down, or the pool died
 * before the answer) is submitted again once the node is up. */
static void
resubmit_file(struct pool *p, const char *name)
{
	struct block_sub *b = calloc(1, sizeof(*b));
	long long height;
	char *hex = NULL;
	size_t n;
	FILE *f;
	long len;

	if (b == NULL || sscanf(name, "block-%lld-", &height) != 1 ||
	    (size_t)snprintf(b->path, sizeof(b->path), "%s/%s",
	    p->conf.data_dir, name) >= sizeof(b->path) ||
	    (f = fopen(b->path, "rb")) == NULL)
		goto fail;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 160 &&
	    len < 64L << 20 && fseek(f, 0, SEEK_SET) == 0 &&
	    (hex = malloc((size_t)len + 5)) != NULL) {
		n = fread(hex + 2, 1, (size_t)len, f);
		while (n > 0 && (hex[n + 1] == '\n' || hex[n + 1] == '\r'))
			n--;
		memcpy(hex, "[\"", 2);
		memcpy(hex + 2 + n, "\"]", 3);
	}
	fclose(f);
	if (hex == NULL)
		goto fail;
	b->params = hex;
	b->pool = p;
	b->rpc = p->rpc;
	b->height = height;
	snprintf(b->hash, sizeof(b->hash), "%.64s", name + strcspn(name + 6,
	    "-") + 7);
	snprintf(b->finder, sizeof(b->finder), "(saved block)");
	log_notice("submitting saved block %s", b->path);
	b->next = p->subs;
	p->subs = b;
	sub_send(b);
	return;
fail:
	log_warnx("cannot resubmit saved block %s/%s", p->conf.data_dir,
	    name);
	free(b);
}

static void
resubmit_saved(struct pool *p)
{
	DIR *d = opendir(p->conf.data_dir);
	struct dirent *e;
	size_t n;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		n = strlen(e->d_name);
		if (strncmp(e->d_name, "block-", 6) == 0 && n > 70 &&
		    strcmp(e->d_name + n - 4, ".hex") == 0)
			resubmit_file(p, e->d_name);
	}
	closedir(d);
}

/* ---- the loop's side --------------------------------------------------- */

void
work_start(struct pool *p)
{
	struct rpc_conf rc;
	char err[200], name[16];
	int k;

	for (k = 0; k < p->conf.nnodes; k++) {
		const struct conf_node *n = &p->conf.node[k];

		memset(&rc, 0, sizeof(rc));
		snprintf(name, sizeof(name), k ? "node %d" : "node", k + 1);
		rc.host = n->rpchost;
		rc.port = n->rpcport;
		rc.user = n->rpcuser;
		rc.password = n->rpcpassword;
		rc.cookiefile = n->cookiefile;
		rc.connect_timeout_ms = 5000;
		rc.request_timeout_ms = 1000 * n->rpc_timeout;
		rc.name = name;
		if ((p->rpcs[k] = rpc_new(&rc, err, sizeof(err))) == NULL)
			fatalx("%s %s: %s", name, n->rpchost, err);
	}
	p->rpc = p->rpcs[0];
	p->lp_usable = 1;
	if (mkdir(p->conf.data_dir, 0755) < 0 && errno != EEXIST)
		log_warn("data_dir %s", p->conf.data_dir);
	p->next_info_ms = now_ms();
}

void
work_tick(struct pool *p, int64_t now)
{
	struct block_sub *b;

	if (!p->have_chain && !p->info_busy && now >= p->next_info_ms) {
		if (rpc_call(p->rpc, "getblockchaininfo", "[]", 0, on_info,
		    p) == 0)
			p->info_busy = 1;
		p->next_info_ms = now + RETRY_MS;
	}
	if (p->have_chain && !p->gbt_busy &&
	    (p->refresh_now || now >= p->next_gbt_ms)) {
		if (!p->refresh_now && p->cur != 0) {
			p->cur = 0;	/* back to the first node when it is up */
			p->rpc = p->rpcs[0];
		}
		p->refresh_now = 0;
		gbt_start(p);
	}
	if (p->have_chain && !p->lp_busy && !p->bbh_busy && p->tmpl != NULL &&
	    now >= p->next_bbh_ms) {
		p->next_bbh_ms = now + BBH_MS;
		if (p->lp_usable && p->conf.longpoll &&
		    p->tmpl->longpollid[0] != '\0')
			lp_start(p);
		else if (rpc_call(p->rpc, "getbestblockhash", "[]", 0, on_bbh,
		    p) == 0)
			p->bbh_busy = 1;
	}
	for (b = p->subs; b != NULL; b = b->next)
		if (!b->busy && b->tries > 0 && now >= b->next_ms)
			sub_send(b);
}

int
work_timeout_ms(const struct pool *p, int64_t now)
{
	int64_t t = now + 60000;
	const struct block_sub *b;

	if (!p->have_chain && !p->info_busy)
		t = p->next_info_ms;
	if (p->have_chain && !p->gbt_busy && (p->refresh_now ||
	    p->next_gbt_ms < t))
		t = p->refresh_now ? now : p->next_gbt_ms;
	if (p->tmpl != NULL && !p->lp_busy && !p->bbh_busy &&
	    p->next_bbh_ms < t)
		t = p->next_bbh_ms;
	for (b = p->subs; b != NULL; b = b->next)
		if (!b->busy && b->tries > 0 && b->next_ms < t)
			t = b->next_ms;
	return t <= now ? 0 : (int)(t - now);
}

void
work_free(struct pool *p)
{
	struct payout *po;
	size_t i;
	int k;

	for (k = 0; k < CONF_MAX_NODES; k++)
		if (p->rpcs[k] != NULL)
			rpc_free(p->rpcs[k]);
	p->rpc = NULL;
	while (p->subs != NULL)
		sub_free(p, p->subs);
	for (i = 0; i < PAYOUT_BUCKETS; i++)
		while ((po = p->payouts[i]) != NULL) {
			p->payouts[i] = po->next;
			pjob_unref(po->cur);
			free(po);
		}
	for (i = 0; i < p->ring_size; i++)
		pjob_unref(p->ring[i].pj);
	free(p->ring);
	tmpl_unref(p->tmpl);
}
