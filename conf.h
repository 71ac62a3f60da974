/*
 * conf.h - the pool's settings: defaults, setting.ini, validation.
 *
 * Every key the pool reads is listed here with its default; README.md and
 * the shipped setting.ini document the same list.  Unknown sections and
 * keys are errors (a typo must not silently fall back to a default), except
 * in [bitcoin.conf], whose name invites pasting lines from a bitcoin.conf:
 * unknown keys there are ignored with a warning.
 */
#ifndef CONF_H
#define CONF_H

#include <stddef.h>
#include <stdint.h>

#define CONF_STR 256		/* host names, paths, user names */
#define CONF_TAG 64		/* coinbase tag bytes */

#define CONF_MAX_NODES 4	/* [bitcoin.conf], [bitcoin.conf.2] ... .4 */

/* One node: [bitcoin.conf] is the first, [bitcoin.conf.2] the second... */
struct conf_node {
	char rpcuser[CONF_STR];
	char rpcpassword[CONF_STR];
	char rpchost[CONF_STR];		/* "127.0.0.1" */
	int rpcport;			/* 8332 */
	char cookiefile[CONF_STR];
	int rpc_timeout;		/* seconds, 30 */
	int seen;			/* its section was in the file */
};

struct conf {
	struct conf_node node[CONF_MAX_NODES];
	int nnodes;			/* 1 + the highest node section */
	/* [difficulty] */
	double start_difficulty;	/* 1 */
	double min_difficulty;		/* 0.0001 */
	double max_difficulty;		/* 1e15 */
	double target_share_seconds;	/* 10 */
	/* [address] */
	char btc_address[CONF_STR];	/* "" allowed: every miner pays itself */
	/* [stratum] */
	char host[CONF_STR];		/* "" = all interfaces, IPv6 and IPv4 */
	int port;			/* 3333 */
	char coinbase_tag[CONF_TAG + 1];	/* "/stratum/" */
	int extranonce2_size;		/* 8 */
	uint32_t version_mask;		/* 0x1fffe000 */
	int max_clients;		/* 1024 */
	int max_line;			/* 16384 */
	int max_backlog;		/* 262144 bytes queued to one miner */
	int idle_timeout;		/* 300 s without authorizing */
	int update_interval;		/* 30 s: fresh template for fees */
	int longpoll;			/* 1: use getblocktemplate long poll */
	char data_dir[CONF_STR];	/* "data": found blocks */
	char log_level[16];		/* "info" */
	char user[CONF_STR];		/* "": keep running as started */
	int max_rejects;		/* 50 invalid shares in a row: drop */
	int ban_seconds;		/* 600: an IP dropped 3 times is refused */
	char on_block[CONF_STR];	/* command run when a block is found */
	/* [api] */
	char api_host[CONF_STR];	/* "127.0.0.1" */
	int api_port;			/* 3334, 0: off */
	int offline_seconds;		/* 600: worker without shares: offline */
};

/* Fill c with the defaults. */
void conf_defaults(struct conf *c);

/* Read path over the defaults and validate.  Returns 0, or -1 with
 * "path:line: reason" in err (errlen bytes); c is then unspecified. */
int conf_load(struct conf *c, const char *path, char *err, size_t errlen);

#endif
