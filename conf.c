/*
 * conf.c - setting.ini into struct conf.  A table maps each section/key to
 * a field and its type, so adding a key is one line here and one in the
 * README; the parser itself is ini.c.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "ini.h"
#include "log.h"

enum kind { K_STR, K_INT, K_DOUBLE, K_HEX32, K_BOOL };

struct key {
	const char *section;
	const char *name;
	enum kind kind;
	size_t off;
	size_t size;		/* K_STR: buffer size */
	double min, max;	/* K_INT, K_DOUBLE */
};

#define F(field) offsetof(struct conf, field)
#define S(field) sizeof(((struct conf *)0)->field)

#define NF(field) offsetof(struct conf_node, field)
#define NS(field) sizeof(((struct conf_node *)0)->field)

/* Keys of every [bitcoin.conf] / [bitcoin.conf.N] section. */
static const struct key node_keys[] = {
	{ "bitcoin.conf", "rpcuser", K_STR, NF(rpcuser), NS(rpcuser), 0, 0 },
	{ "bitcoin.conf", "rpcpassword", K_STR, NF(rpcpassword),
	    NS(rpcpassword), 0, 0 },
	{ "bitcoin.conf", "host", K_STR, NF(rpchost), NS(rpchost), 0, 0 },
	{ "bitcoin.conf", "port", K_INT, NF(rpcport), 0, 1, 65535 },
	{ "bitcoin.conf", "cookiefile", K_STR, NF(cookiefile),
	    NS(cookiefile), 0, 0 },
	{ "bitcoin.conf", "rpc_timeout", K_INT, NF(rpc_timeout), 0, 1,
	    3600 },
};

static const struct key keys[] = {
	{ "difficulty", "start_difficulty", K_DOUBLE, F(start_difficulty),
	    0, 1e-12, 1e18 },
	{ "difficulty", "min_difficulty", K_DOUBLE, F(min_difficulty),
	    0, 1e-12, 1e18 },
	{ "difficulty", "max_difficulty", K_DOUBLE, F(max_difficulty),
	    0, 1e-12, 1e18 },
	{ "difficulty", "target_share_seconds", K_DOUBLE,
	    F(target_share_seconds), 0, 0.1, 3600 },
	{ "address", "btc_address", K_STR, F(btc_address),
	    S(btc_address), 0, 0 },
	{ "stratum", "host", K_STR, F(host), S(host), 0, 0 },
	{ "stratum", "port", K_INT, F(port), 0, 1, 65535 },
	{ "stratum", "coinbase_tag", K_STR, F(coinbase_tag),
	    S(coinbase_tag), 0, 0 },
	{ "stratum", "extranonce2_size", K_INT, F(extranonce2_size),
	    0, 2, 16 },
	{ "stratum", "version_mask", K_HEX32, F(version_mask), 0, 0, 0 },
	{ "stratum", "max_clients", K_INT, F(max_clients), 0, 1, 1000000 },
	{ "stratum", "max_line", K_INT, F(max_line), 0, 256, 1048576 },
	{ "stratum", "max_backlog", K_INT, F(max_backlog), 0, 4096,
	    67108864 },
	{ "stratum", "idle_timeout", K_INT, F(idle_timeout), 0, 1, 86400 },
	{ "stratum", "update_interval", K_INT, F(update_interval),
	    0, 1, 3600 },
	{ "stratum", "longpoll", K_BOOL, F(longpoll), 0, 0, 0 },
	{ "stratum", "data_dir", K_STR, F(data_dir), S(data_dir), 0, 0 },
	{ "stratum", "log_level", K_STR, F(log_level), S(log_level), 0, 0 },
	{ "stratum", "user", K_STR, F(user), S(user), 0, 0 },
	{ "stratum", "max_rejects", K_INT, F(max_rejects), 0, 1, 1000000 },
	{ "stratum", "ban_seconds", K_INT, F(ban_seconds), 0, 0, 604800 },
	{ "stratum", "on_block", K_STR, F(on_block), S(on_block), 0, 0 },
	{ "api", "host", K_STR, F(api_host), S(api_host), 0, 0 },
	{ "api", "port", K_INT, F(api_port), 0, 0, 65535 },
	{ "api", "offline_seconds", K_INT, F(offline_seconds), 0, 10,
	    86400 * 7 },
};

void
conf_defaults(struct conf *c)
{
	int i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < CONF_MAX_NODES; i++) {
		strcpy(c->node[i].rpchost, "127.0.0.1");
		c->node[i].rpcport = 8332;
		c->node[i].rpc_timeout = 30;
	}
	c->nnodes = 1;
	c->start_difficulty = 1;
	c->min_difficulty = 0.0001;
	c->max_difficulty = 1e15;
	c->target_share_seconds = 10;
	c->port = 3333;
	strcpy(c->coinbase_tag, "/stratum/");
	c->extranonce2_size = 8;
	c->version_mask = 0x1fffe000;
	c->max_clients = 1024;
	c->max_line = 16384;
	c->max_backlog = 262144;
	c->idle_timeout = 300;
	c->update_interval = 30;
	c->longpoll = 1;
	strcpy(c->data_dir, "data");
	strcpy(c->log_level, "info");
	c->max_rejects = 50;
	c->ban_seconds = 600;
	strcpy(c->api_host, "127.0.0.1");
	c->api_port = 3334;
	c->offline_seconds = 600;
}

/* Whole-string number parses: trailing junk ("8332 ; comment") is an
 * error, not silently ignored. */
static int
parse_long(const char *v, int base, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(v, &end, base);
	return (errno != 0 || end == v || *end != '\0') ? -1 : 0;
}

static int
parse_double(const char *v, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(v, &end);
	return (errno != 0 || end == v || *end != '\0' || !isfinite(*out)) ?
	    -1 : 0;
}

static int
set_value(void *base, const struct key *k, const char *v,
    char *err, size_t errlen)
{
	char *p = (char *)base + k->off;
	long long n;
	double d;

	switch (k->kind) {
	case K_STR:
		if (strlen(v) >= k->size) {
			snprintf(err, errlen, "%s: value longer than %zu bytes",
			    k->name, k->size - 1);
			return -1;
		}
		strcpy(p, v);
		return 0;
	case K_INT:
		if (parse_long(v, 10, &n) < 0 || n < k->min || n > k->max) {
			snprintf(err, errlen, "%s: want a whole number from "
			    "%.0f to %.0f, not \"%s\"", k->name, k->min, k->max,
			    v);
			return -1;
		}
		*(int *)(void *)p = (int)n;
		return 0;
	case K_DOUBLE:
		if (parse_double(v, &d) < 0 || d < k->min || d > k->max) {
			snprintf(err, errlen, "%s: want a number from %g to %g, "
			    "not \"%s\"", k->name, k->min, k->max, v);
			return -1;
		}
		*(double *)(void *)p = d;
		return 0;
	case K_HEX32:
		if (strlen(v) > 8 || parse_long(v, 16, &n) < 0 || n < 0) {
			snprintf(err, errlen, "%s: want up to 8 hex digits, "
			    "not \"%s\"", k->name, v);
			return -1;
		}
		*(uint32_t *)(void *)p = (uint32_t)n;
		return 0;
	case K_BOOL:
		if (strcasecmp(v, "1") == 0 || strcasecmp(v, "yes") == 0 ||
		    strcasecmp(v, "true") == 0 || strcasecmp(v, "on") == 0)
			*(int *)(void *)p = 1;
		else if (strcasecmp(v, "0") == 0 || strcasecmp(v, "no") == 0 ||
		    strcasecmp(v, "false") == 0 || strcasecmp(v, "off") == 0)
			*(int *)(void *)p = 0;
		else {
			snprintf(err, errlen, "%s: want yes or no, not \"%s\"",
			    k->name, v);
			return -1;
		}
		return 0;
	}
	return -1;
}

/* "bitcoin.conf" is node 0, "bitcoin.conf.N" node N-1; -1 otherwise. */
static int
node_index(const char *section)
{
	char *end;
	long n;

	if (strncasecmp(section, "bitcoin.conf", 12) != 0)
		return -1;
	if (section[12] == '\0')
		return 0;
	if (section[12] != '.')
		return -1;
	n = strtol(section + 13, &end, 10);
	return (*end == '\0' && n >= 2 && n <= CONF_MAX_NODES) ?
	    (int)n - 1 : -1;
}

static int
on_node_key(struct conf *c, int idx, const char *name, const char *value,
    int lineno, char *err, size_t errlen)
{
	size_t i;

	c->node[idx].seen = 1;
	if (idx + 1 > c->nnodes)
		c->nnodes = idx + 1;
	for (i = 0; i < sizeof(node_keys) / sizeof(node_keys[0]); i++)
		if (strcasecmp(name, node_keys[i].name) == 0)
			return set_value(&c->node[idx], &node_keys[i], value,
			    err, errlen);
	log_warnx("line %d: [bitcoin.conf] key \"%s\" is not used by "
	    "the pool; ignored", lineno, name);
	return 0;
}

static int
on_key(void *user, const char *section, const char *name, const char *value,
    int lineno, char *err, size_t errlen)
{
	struct conf *c = user;
	size_t i;
	int known_section = 0, idx = node_index(section);

	if (idx >= 0)
		return on_node_key(c, idx, name, value, lineno, err, errlen);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcasecmp(section, keys[i].section) != 0)
			continue;
		known_section = 1;
		if (strcasecmp(name, keys[i].name) == 0)
			return set_value(c, &keys[i], value, err, errlen);
	}
	if (!known_section)
		snprintf(err, errlen, "unknown section [%s]", section);
	else
		snprintf(err, errlen, "unknown key \"%s\" in [%s]", name,
		    section);
	return -1;
}

/* Checks across keys, after the whole file is read. */
static int
conf_check(struct conf *c, char *err, size_t errlen)
{
	int i;

	if (c->min_difficulty > c->max_difficulty) {
		snprintf(err, errlen, "min_difficulty %g is above "
		    "max_difficulty %g", c->min_difficulty, c->max_difficulty);
		return -1;
	}
	if (c->start_difficulty < c->min_difficulty)
		c->start_difficulty = c->min_difficulty;
	if (c->start_difficulty > c->max_difficulty)
		c->start_difficulty = c->max_difficulty;
	if (log_level_from_name(c->log_level) < 0) {
		snprintf(err, errlen, "log_level: want debug, info, notice, "
		    "warn or error, not \"%s\"", c->log_level);
		return -1;
	}
	for (i = 0; i < c->nnodes; i++) {
		if (i > 0 && !c->node[i].seen) {
			snprintf(err, errlen, "[bitcoin.conf.%d] is missing "
			    "before [bitcoin.conf.%d]", i + 1, c->nnodes);
			return -1;
		}
		if (c->node[i].rpcuser[0] != '\0' &&
		    c->node[i].rpcpassword[0] == '\0') {
			snprintf(err, errlen, "node %d: rpcuser is set but "
			    "rpcpassword is empty", i + 1);
			return -1;
		}
	}
	return 0;
}

int
conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
	size_t n;

	if (ini_parse_file(path, on_key, c, err, errlen) < 0)
		return -1;
	if (conf_check(c, err, errlen) < 0) {
		n = strlen(path);
		if (n + 3 < errlen) {
			memmove(err + n + 2, err, errlen - n - 2);
			memcpy(err, path, n);
			memcpy(err + n, ": ", 2);
			err[errlen - 1] = '\0';
		}
		return -1;
	}
	return 0;
}
