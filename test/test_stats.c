/*
 * test_stats.c - hashrate arithmetic against hand-computed cases (window
 * edges, 1-day window, a 50 kH/s and a 1 TH/s miner), counters, offline
 * marking, the stats file (round trip, corrupt files moved aside with
 * their bytes intact), blocks.log, eviction at the caps, and the API's
 * JSON (checked with json_parse) and Prometheus text (checked line by
 * line against the exposition format).
 */
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "stats.h"
#include "test.h"

#define TWO32 4294967296.0
#define T0 1699920000LL		/* a multiple of one day */
#define A1 "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
#define A2 "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"

static char jbuf[1 << 21];
static struct json_tok jtoks[1 << 16];
static struct json_doc jdoc;
static char dir[64];
static long long t_start;	/* for the names of moved files */
static int quiet;		/* check_exposition() self-test */

/* Parse what w wrote into jbuf; 0 when it is one valid JSON document. */
static int
parse_w(struct json_w *w)
{
	int n = json_w_end(w);

	return n > 0 && json_parse(&jdoc, jbuf, (size_t)n, jtoks,
	    sizeof(jtoks) / sizeof(jtoks[0])) > 0 ? 0 : -1;
}

static int
pool_doc(const struct stats *s, int64_t now)
{
	struct stats_pool_info pi = { 800000, 1.5e14, 3, "up", "main", 2,
	    T0 };
	struct json_w w;

	json_w_init(&w, jbuf, sizeof(jbuf));
	stats_json_pool(s, &pi, now, &w);
	return parse_w(&w);
}

static int
user_doc(const struct stats *s, const char *addr, int64_t now)
{
	struct json_w w;

	json_w_init(&w, jbuf, sizeof(jbuf));
	if (stats_json_user(s, addr, now, &w) < 0)
		return -2;
	return parse_w(&w);
}

static int
blocks_doc(const struct stats *s)
{
	struct json_w w;

	json_w_init(&w, jbuf, sizeof(jbuf));
	stats_json_blocks(s, &w);
	return parse_w(&w);
}

/* Token at a dotted path ("workers.0.hashrate.1m") in jdoc, or -1. */
static int
at(const char *path)
{
	char seg[64];
	const char *p = path, *dot;
	int t = 0;

	while (t >= 0 && *p != '\0') {
		dot = strchr(p, '.');
		snprintf(seg, sizeof(seg), "%.*s", dot ? (int)(dot - p) :
		    (int)strlen(p), p);
		if (json_type(&jdoc, t) == JSON_ARRAY)
			t = json_at(&jdoc, t, (size_t)atoi(seg));
		else
			t = json_get(&jdoc, t, seg);
		p = dot ? dot + 1 : p + strlen(p);
	}
	return t;
}

static double
num(const char *path)
{
	double v;

	return json_double(&jdoc, at(path), &v) == 0 ? v : NAN;
}

static int
str_is(const char *path, const char *s)
{
	return json_streq(&jdoc, at(path), s);
}

/* ---- arithmetic -------------------------------------------------------- */

static void
check_rates(const char *who, double m1, double m5, double h1, double d1)
{
	char p[64];

	snprintf(p, sizeof(p), "%shashrate.1m", who);
	CHECKF(num(p) == m1, "%s %.17g != %.17g", p, num(p), m1);
	snprintf(p, sizeof(p), "%shashrate.5m", who);
	CHECKF(num(p) == m5, "%s %.17g != %.17g", p, num(p), m5);
	snprintf(p, sizeof(p), "%shashrate.1h", who);
	CHECKF(num(p) == h1, "%s %.17g != %.17g", p, num(p), h1);
	snprintf(p, sizeof(p), "%shashrate.1d", who);
	CHECKF(num(p) == d1, "%s %.17g != %.17g", p, num(p), d1);
}

/* 30 shares at difficulty 2, at T0+0, +2, ... +58. */
static void
test_windows(void)
{
	struct stats *s = stats_new();
	int i;

	CHECK(s != NULL);
	stats_connect(s, A1, A1 ".rig1", "cgminer/4.12", 2, T0);
	for (i = 0; i < 30; i++)
		stats_share(s, A1, A1 ".rig1", 2, 2 + i, T0 + 2 * i);
	/* now = T0+59: every window ends at a bucket's last second. */
	CHECK(user_doc(s, A1, T0 + 59) == 0);
	check_rates("", 60 * TWO32 / 60, 60 * TWO32 / 300,
	    60 * TWO32 / (11 * 300 + 60), 60 * TWO32 / (23 * 3600 + 60));
	check_rates("workers.0.", 60 * TWO32 / 60, 60 * TWO32 / 300,
	    60 * TWO32 / 3360, 60 * TWO32 / 82860);
	CHECK(num("hashrate.1m") == TWO32);
	CHECK(num("accepted") == 30);
	CHECK(num("best_share") == 31 && num("best_share_ever") == 31);
	CHECK(num("last_share") == T0 + 58);
	CHECK(num("workers.0.difficulty") == 2);
	CHECK(str_is("workers.0.agent", "cgminer/4.12"));
	CHECK(str_is("workers.0.name", A1 ".rig1"));
	CHECK(json_type(&jdoc, at("workers.0.online")) == JSON_TRUE);
	CHECK(pool_doc(s, T0 + 59) == 0);
	CHECK(num("hashrate.1m") == TWO32 && num("accepted") == 30);
	CHECK(str_is("users.0.address", A1) && num("users.0.workers") == 1);
	/* Edges of the 1-min window (10-s buckets). */
	CHECK(user_doc(s, A1, T0 + 60) == 0);	/* T0+10..T0+60: 51 s */
	CHECK(num("hashrate.1m") == 50 * TWO32 / 51);
	CHECK(user_doc(s, A1, T0 + 69) == 0);	/* T0+10..T0+69 */
	CHECK(num("hashrate.1m") == 50 * TWO32 / 60);
	CHECK(user_doc(s, A1, T0 + 70) == 0);	/* T0+20..T0+70 */
	CHECK(num("hashrate.1m") == 40 * TWO32 / 51);
	CHECK(user_doc(s, A1, T0 + 119) == 0);
	CHECK(num("hashrate.1m") == 0);
	CHECK(user_doc(s, A1, T0 + 299) == 0);
	CHECK(num("hashrate.5m") == 60 * TWO32 / 300);
	CHECK(user_doc(s, A1, T0 + 300) == 0);	/* T0+0..9 drops out */
	CHECK(num("hashrate.5m") == 50 * TWO32 / 291);
	CHECK(num("hashrate.1h") == 60 * TWO32 / 3301);
	stats_free(s);
}

static void
test_day(void)
{
	struct stats *s = stats_new();

	stats_share(s, A1, "w", 86400, 86400, T0);
	CHECK(user_doc(s, A1, T0 + 3599) == 0);
	CHECK(num("hashrate.1h") == 86400 * TWO32 / 3600);
	CHECK(user_doc(s, A1, T0 + 3600) == 0);
	CHECK(num("hashrate.1h") == 0);
	CHECK(num("hashrate.1d") == 86400 * TWO32 / 82801);
	CHECK(user_doc(s, A1, T0 + 86399) == 0);
	CHECK(num("hashrate.1d") == TWO32);
	CHECK(user_doc(s, A1, T0 + 86400) == 0);
	CHECK(num("hashrate.1d") == 0);
	/* The clock set back: counted in the newest bucket, not lost. */
	stats_share(s, A1, "w", 1, 1, T0 + 100000);
	stats_share(s, A1, "w", 1, 1, T0 + 50000);
	CHECK(user_doc(s, A1, T0 + 100009) == 0);
	CHECK(num("accepted") == 3 && num("hashrate.1m") == 2 * TWO32 / 60);
	stats_free(s);
}

/* A NerdMiner at 50 kH/s and difficulty 1e-4, a Bitaxe at 1 TH/s and
 * difficulty 1000, sharing at exactly their expected rates for a day. */
static void
test_miners(void)
{
	static const struct { double rate, diff; } m[2] = {
		{ 50e3, 1e-4 }, { 1e12, 1000 }
	};
	struct stats *s = stats_new();
	double gap, t;
	int i;

	for (i = 0; i < 2; i++) {
		gap = m[i].diff * TWO32 / m[i].rate;
		for (t = 0; t < 86400; t += gap)
			stats_share(s, i ? A2 : A1, "x", m[i].diff, m[i].diff,
			    T0 + (int64_t)t);
		CHECK(user_doc(s, i ? A2 : A1, T0 + 86399) == 0);
		CHECKF(fabs(num("hashrate.1d") / m[i].rate - 1) < 1e-3,
		    "1d %g", num("hashrate.1d"));
		CHECKF(fabs(num("hashrate.1h") / m[i].rate - 1) < 5e-3,
		    "1h %g", num("hashrate.1h"));
		CHECKF(fabs(num("hashrate.5m") / m[i].rate - 1) < 0.05,
		    "5m %g", num("hashrate.5m"));
	}
	CHECK(pool_doc(s, T0 + 86399) == 0);
	CHECK(fabs(num("hashrate.1d") / (1e12 + 50e3) - 1) < 1e-3);
	CHECK(str_is("users.0.address", A2) && str_is("users.1.address", A1));
	stats_free(s);
}

/* ---- counters, blocks, offline ----------------------------------------- */

#define H1 "00000000000000000001a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7"
#define H2 "00000000000000000002a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7"

static void
test_counters(void)
{
	struct stats *s = stats_new();

	stats_connect(s, A1, "rig", "bitaxe", 512, T0);
	stats_share(s, A1, "rig", 512, 9000, T0 + 1);
	stats_reject(s, A1, "rig", 21, T0 + 2);
	stats_reject(s, A1, "rig", 21, T0 + 3);
	stats_reject(s, A1, "rig", 23, T0 + 4);
	stats_reject(s, A1, "rig", 99, T0 + 5);
	stats_reject(s, A1, "rig", 25, T0 + 6);
	stats_difficulty(s, A1, "rig", 1024);
	CHECK(user_doc(s, A1, T0 + 10) == 0);
	CHECK(num("rejected.stale") == 2);
	CHECK(num("rejected.low_difficulty") == 1);
	CHECK(num("rejected.other") == 1);
	CHECK(num("rejected.not_subscribed") == 1);
	CHECK(num("rejected.duplicate") == 0);
	CHECK(num("rejected.unauthorized") == 0);
	CHECK(num("workers.0.rejected.stale") == 2);
	CHECK(num("workers.0.difficulty") == 1024);
	CHECK(pool_doc(s, T0 + 10) == 0);
	CHECK(num("rejected.stale") == 2 && num("accepted") == 1);
	CHECK(num("height") == 800000 && num("network_difficulty") == 1.5e14);
	CHECK(str_is("node", "up") && str_is("chain", "main"));
	CHECK(num("miners") == 2 && num("workers") == 1 && num("uptime") == 10);
	CHECK(json_type(&jdoc, at("history")) == JSON_ARRAY);
	CHECK(jdoc.toks[at("history")].size == 144);
	/* The last history point is the current slot: 512 over 11 s. */
	CHECK(num("history.143.0") == T0 && num("history.143.1") ==
	    512 * TWO32 / 11);
	CHECK(num("history.142.1") == 0);
	CHECK(num("history.0.0") == T0 - 143 * 600);
	/* A block resets best-since-last-block, not best-ever. */
	stats_block(s, 800000, H1, "rig", "submitted", T0 + 20);
	stats_block(s, 800000, H1, "rig", "accepted", T0 + 21);
	CHECK(blocks_doc(s) == 0);
	CHECK(num("count") == 1 && str_is("blocks.0.verdict", "accepted"));
	CHECK(str_is("blocks.0.hash", H1) && str_is("blocks.0.finder", "rig"));
	CHECK(num("blocks.0.height") == 800000);
	CHECK(num("blocks.0.time") == T0 + 20);
	stats_share(s, A1, "rig", 512, 600, T0 + 30);
	CHECK(user_doc(s, A1, T0 + 30) == 0);
	CHECK(num("best_share") == 600 && num("best_share_ever") == 9000);
	CHECK(num("workers.0.best_share") == 600);
	CHECK(pool_doc(s, T0 + 30) == 0);
	CHECK(num("best_share") == 600 && num("best_share_ever") == 9000);
	CHECK(num("blocks_found") == 1);
	stats_block(s, 800001, H2, "rig", "rejected: bad-txns", T0 + 40);
	CHECK(blocks_doc(s) == 0);
	CHECK(num("count") == 2 && str_is("blocks.0.hash", H2));
	CHECK(str_is("blocks.0.verdict", "rejected: bad-txns"));
	CHECK(str_is("blocks.1.hash", H1));
	/* Bad input is ignored, not stored cut or crashed on. */
	stats_share(s, A1, "rig", NAN, 1, T0 + 41);
	stats_share(s, A1, "rig", -1, 1, T0 + 41);
	stats_share(s, A1, "rig", INFINITY, 1, T0 + 41);
	stats_share(s, "", "rig", 1, 1, T0 + 41);	/* pool only */
	stats_difficulty(s, A1, "rig", NAN);
	stats_connect(s, A1, "nan", "", INFINITY, T0 + 41);
	CHECK(user_doc(s, "", T0 + 41) == -2);
	CHECK(user_doc(s, "nobody", T0 + 41) == -2);
	CHECK(user_doc(s, A1, T0 + 41) == 0 && num("accepted") == 2);
	CHECK(num("workers.0.difficulty") == 0 && num("workers.1.difficulty")
	    == 1024);
	CHECK(pool_doc(s, T0 + 41) == 0 && num("accepted") == 3);
	stats_free(s);
}

/* Run fn with stderr captured; returns how often needle was logged. */
static int
count_logged(const char *log, const char *needle)
{
	size_t len;
	char *buf = test_read_file(log, &len), *p;
	int n = 0;

	for (p = buf; p != NULL && (p = strstr(p, needle)) != NULL; p++)
		n++;
	free(buf);
	return n;
}

static void
test_offline(void)
{
	struct stats *s = stats_new();
	char log[96];
	int fd, saved;

	snprintf(log, sizeof(log), "%s/log", dir);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	saved = dup(2);
	CHECK(fd >= 0 && saved >= 0 && dup2(fd, 2) == 2);
	stats_connect(s, A1, "nerd", "NerdMinerV2", 0.0001, T0);
	stats_share(s, A1, "nerd", 0.0001, 0.01, T0 + 10);
	stats_tick(s, T0 + 69, 60);
	CHECK(user_doc(s, A1, T0 + 69) == 0 && num("workers_online") == 1);
	stats_tick(s, T0 + 70, 60);
	CHECK(user_doc(s, A1, T0 + 70) == 0 && num("workers_online") == 0);
	CHECK(json_type(&jdoc, at("workers.0.online")) == JSON_FALSE);
	CHECK(num("workers.0.connections") == 1);
	stats_tick(s, T0 + 80, 60);
	stats_tick(s, T0 + 200, 60);
	stats_share(s, A1, "nerd", 0.0001, 0.02, T0 + 210);
	CHECK(user_doc(s, A1, T0 + 210) == 0 && num("workers_online") == 1);
	stats_tick(s, T0 + 211, 60);
	stats_disconnect(s, A1, "nerd", T0 + 212);
	CHECK(user_doc(s, A1, T0 + 212) == 0 && num("workers_online") == 0);
	CHECK(num("workers.0.connections") == 0);
	stats_tick(s, T0 + 400, 60);
	stats_connect(s, A1, "nerd", "NerdMinerV2", 0.0001, T0 + 500);
	CHECK(user_doc(s, A1, T0 + 500) == 0 && num("workers_online") == 1);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	CHECK(count_logged(log, "offline: no share for 60 s") == 1);
	CHECK(count_logged(log, "offline") == 1);
	CHECK(count_logged(log, "back online") == 1);
	stats_free(s);
}

/* ---- the stats file ---------------------------------------------------- */

static void
path_in(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static int
write_file(const char *path, const char *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	int ok = f != NULL && fwrite(data, 1, n, f) == n;

	return f != NULL && fclose(f) == 0 && ok ? 0 : -1;
}

static int
line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Metrics lines sorted: the order of workers in a family is the hash
 * tables', which a reload may change. */
static void
sort_lines(char *text)
{
	static char *line[4096];
	static char copy[1 << 19];
	size_t n = 0, i, len = strlen(text);
	char *p;

	if (len >= sizeof(copy))
		return;
	memcpy(copy, text, len + 1);
	for (p = strtok(copy, "\n"); p != NULL && n < 4096;
	    p = strtok(NULL, "\n"))
		line[n++] = p;
	qsort(line, n, sizeof(line[0]), line_cmp);
	for (i = 0, *text = '\0'; i < n; i++) {
		strcat(text, line[i]);
		strcat(text, "\n");
	}
}

/* Everything the API can show, as one string, for comparisons. */
static char *
snapshot(const struct stats *s, int64_t now)
{
	static char out[1 << 20];
	size_t n = 0;
	struct json_w w;
	const char *addr[2] = { A1, A2 };
	int i, k;

	for (i = 0; i < 4; i++) {
		json_w_init(&w, out + n, sizeof(out) / 2 - n);
		if (i < 2)
			stats_json_user(s, addr[i], now, &w);
		else if (i == 2)
			stats_json_pool(s, NULL, now, &w);
		else
			stats_json_blocks(s, &w);
		if ((k = json_w_end(&w)) < 0)
			return NULL;
		n += (size_t)k;
	}
	k = stats_metrics(s, NULL, now, out + n, sizeof(out) - n);
	if (k < 0)
		return NULL;
	sort_lines(out + n);
	return out;
}

static void
script(struct stats *s)
{
	int i;

	stats_connect(s, A1, A1 ".a", "cgminer", 1, T0);
	stats_connect(s, A1, A1 ".b", "bitaxe \"gamma\"", 4, T0);
	stats_connect(s, A2, "nerd\n1", "NerdMiner", 1e-4, T0);
	for (i = 0; i < 500; i++) {
		stats_share(s, A1, A1 ".a", 1, 1.5 + i, T0 + 7 * i);
		stats_share(s, A1, A1 ".b", 4, 4.25, T0 + 13 * i);
		stats_share(s, A2, "nerd\n1", 1e-4, 1e-3 / 3, T0 + 11 * i);
	}
	stats_reject(s, A1, A1 ".b", 22, T0 + 100);
	stats_reject(s, A2, "nerd\n1", 21, T0 + 200);
	stats_block(s, 100, H1, A1 ".a", "submitted", T0 + 300);
	stats_block(s, 100, H1, A1 ".a", "accepted", T0 + 301);
	stats_share(s, A1, A1 ".a", 1, 2.5, T0 + 3600);
	stats_disconnect(s, A1, A1 ".a", T0 + 7000);
	stats_disconnect(s, A1, A1 ".b", T0 + 7000);
	stats_disconnect(s, A2, "nerd\n1", T0 + 7000);
}

static void
test_roundtrip(void)
{
	struct stats *s = stats_new(), *s2 = stats_new(), *s3 = stats_new();
	char path[96], tmp[100], blog[96], *snap, *snap2;
	size_t len;
	char *text;
	struct stat st;

	path_in(path, sizeof(path), "stats.json");
	path_in(blog, sizeof(blog), "blocks.log");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	CHECK(stats_load(s, path) == 1);	/* first start: no file */
	script(s);
	CHECK(stats_save(s, path) == 0);
	CHECK(stat(tmp, &st) < 0);
	text = test_read_file(path, &len);
	CHECK(text != NULL && json_parse(&jdoc, text, len, jtoks, 1 << 16) > 0);
	free(text);
	snap = snapshot(s, T0 + 7200);
	CHECK(snap != NULL);
	snap = snap ? strdup(snap) : NULL;
	CHECK(stats_load(s2, path) == 0);
	snap2 = snapshot(s2, T0 + 7200);
	CHECKF(snap && snap2 && strcmp(snap, snap2) == 0, "round trip differs");
	CHECK(user_doc(s2, A1, T0 + 7200) == 0 && num("accepted") == 1001);
	CHECK(num("best_share") == 2.5 && num("best_share_ever") == 500.5);
	CHECK(num("rejected.duplicate") == 1 && num("workers_total") == 2);
	CHECK(str_is("workers.1.agent", "bitaxe \"gamma\""));
	CHECK(blocks_doc(s2) == 0 && num("count") == 1);
	CHECK(str_is("blocks.0.verdict", "accepted"));
	/* Saving what was loaded gives the same again. */
	CHECK(stats_save(s2, path) == 0);
	CHECK(stats_load(s3, path) == 0);
	snap2 = snapshot(s3, T0 + 7200);
	CHECK(snap && snap2 && strcmp(snap, snap2) == 0);
	if (snap && snap2 && strcmp(snap, snap2) != 0)
		fprintf(stderr, "%s\n---\n%s\n", snap, snap2);
	text = test_read_file(blog, &len);
	CHECK(text != NULL && len > 0 && text[len - 1] == '\n');
	CHECK(text != NULL && strchr(text, '\n') != text + len - 1);
	free(text);
	free(snap);
	stats_free(s);
	stats_free(s2);
	stats_free(s3);
	unlink(path);
	unlink(blog);
}

/* Finds the "stats.json.corrupt-<time>[-N]" files made since the test
 * started (by name: readdir() is unreliable for 32-bit guests under
 * qemu-user), removes them and returns the last one's bytes. */
static char *
corrupt_file(size_t *len, int *count)
{
	char p[512], *buf = NULL;
	long long t;
	int i;

	*count = 0;
	for (t = t_start - 1; t <= (long long)time(NULL) + 1; t++)
		for (i = 0; i < 5; i++) {
			if (i == 0)
				snprintf(p, sizeof(p), "%s/stats.json.corrupt-"
				    "%lld", dir, t);
			else
				snprintf(p, sizeof(p), "%s/stats.json.corrupt-"
				    "%lld-%d", dir, t, i);
			if (access(p, F_OK) < 0)
				continue;
			(*count)++;
			free(buf);
			buf = test_read_file(p, len);
			if (unlink(p) < 0)
				rmdir(p);
		}
	return buf;
}

/* blocks.log: bad lines skipped, a line cut short by a crash does not
 * swallow the next record, and blocks outlive a corrupt stats file. */
static void
test_blocks_log(void)
{
	static const char log[] = "{\"height\":7,\"hash\":\"" H1 "\","
	    "\"finder\":\"x\",\"verdict\":\"accepted\",\"time\":5}\nnot json\n"
	    "{\"height\":8,\"ha";
	struct stats *s = stats_new();
	char path[96], blog[96];
	size_t len;
	int n;

	path_in(path, sizeof(path), "stats.json");
	path_in(blog, sizeof(blog), "blocks.log");
	CHECK(write_file(blog, log, sizeof(log) - 1) == 0);
	CHECK(write_file(path, "{", 1) == 0);
	CHECK(stats_load(s, path) == -1);
	CHECK(blocks_doc(s) == 0 && num("count") == 1);
	CHECK(num("blocks.0.height") == 7 && num("blocks.0.time") == 5);
	stats_block(s, 9, H2, "y", "submitted", T0);
	stats_free(s);
	s = stats_new();
	CHECK(stats_load(s, path) == 1);	/* moved aside before */
	CHECK(blocks_doc(s) == 0 && num("count") == 2);
	CHECK(str_is("blocks.0.hash", H2) && num("blocks.0.height") == 9);
	stats_free(s);
	unlink(blog);
	free(corrupt_file(&len, &n));
	CHECK(n == 1);
}

static void
test_corrupt(void)
{
	/* from: replaced by to; skip: the old value after it goes too. */
	static const struct {
		const char *what, *from, *to;
		int skip;
	} c[] = {
		{ "garbage", NULL, "\x01\xff garbage \x00 here", 0 },
		{ "truncated", NULL, NULL, 0 },
		{ "empty", NULL, "", 0 },
		{ "wrong type", "\"accepted\":", "\"accepted\":\"1\",", 1 },
		{ "negative", "\"accepted\":", "\"accepted\":-1,", 1 },
		{ "fraction", "\"accepted\":", "\"accepted\":1.5,", 1 },
		{ "version", "\"version\":1", "\"version\":2", 0 },
		{ "short ring", "\"rings\":[[", "\"rings\":[[1],[", 0 },
		{ "not an object", NULL, "[1,2,3]", 0 },
		{ "huge head", "\"rings\":[[", "\"rings\":[[1000000000000000,",
		    1 },
		{ "bad worker", "\"workers\":[", "\"workers\":[{\"name\":\"d\","
		    "\"agent\":\"\",\"diff\":1,\"accepted\":0,\"rejected\":"
		    "[0,0,0,0,0,0],\"best\":0,\"best_ever\":0,\"last_share\":"
		    "0,\"last_seen\":0,\"rings\":[[0,0],[0],[0]]},", 0 },
	};
	char path[96], doc[1 << 16], bad[1 << 16], *text, *moved, *p;
	struct stats *s;
	size_t len, n, blen, mlen = 0;
	int i, count;

	path_in(path, sizeof(path), "stats.json");
	s = stats_new();
	script(s);
	CHECK(stats_save(s, path) == 0);
	stats_free(s);
	text = test_read_file(path, &len);
	CHECK(text != NULL && len < sizeof(doc));
	n = text && len < sizeof(doc) ? len : 0;
	memcpy(doc, text ? text : "", n);
	free(text);
	for (i = 0; i < (int)(sizeof(c) / sizeof(c[0])); i++) {
		if (c[i].from == NULL && c[i].to == NULL) {
			blen = n / 2;	/* a save cut short */
			memcpy(bad, doc, blen);
		} else if (c[i].from == NULL) {
			blen = strlen(c[i].to) + (i == 0 ? 7 : 0);
			memcpy(bad, c[i].to, blen);
		} else {
			/* Replace the value after the first "from". */
			doc[n] = '\0';
			p = strstr(doc, c[i].from);
			CHECK(p != NULL);
			blen = (size_t)(p - doc);
			memcpy(bad, doc, blen);
			memcpy(bad + blen, c[i].to, strlen(c[i].to));
			blen += strlen(c[i].to);
			p += strlen(c[i].from);
			if (c[i].skip)
				p += strcspn(p, ",") + 1;
			memcpy(bad + blen, p, n - (size_t)(p - doc));
			blen += n - (size_t)(p - doc);
		}
		CHECK(write_file(path, bad, blen) == 0);
		s = stats_new();
		CHECKF(stats_load(s, path) == -1, "%s loaded", c[i].what);
		CHECKF(access(path, F_OK) < 0, "%s left in place", c[i].what);
		moved = corrupt_file(&mlen, &count);
		CHECKF(count == 1 && moved != NULL && mlen == blen &&
		    memcmp(moved, bad, blen) == 0, "%s: bytes not kept",
		    c[i].what);
		free(moved);
		CHECK(pool_doc(s, T0) == 0 && num("accepted") == 0);
		CHECK(num("addresses") == 0 && user_doc(s, A1, T0) == -2);
		CHECK(stats_save(s, path) == 0);	/* and life goes on */
		stats_free(s);
	}
	/* Two bad files in one second: both kept. */
	CHECK(write_file(path, "x", 1) == 0);
	s = stats_new();
	CHECK(stats_load(s, path) == -1);
	stats_free(s);
	CHECK(write_file(path, "y", 1) == 0);
	s = stats_new();
	CHECK(stats_load(s, path) == -1);
	stats_free(s);
	free(corrupt_file(&mlen, &count));
	CHECK(count == 2);
	/* A directory where the file should be. */
	unlink(path);
	CHECK(mkdir(path, 0755) == 0);
	s = stats_new();
	CHECK(stats_load(s, path) == -1);
	CHECK(stats_save(s, path) == 0);
	stats_free(s);
	free(corrupt_file(&mlen, &count));
	CHECK(count == 1);
	unlink(path);
	path_in(path, sizeof(path), "blocks.log");
	unlink(path);
}

/* ---- Prometheus text --------------------------------------------------- */

static int
is_name(const char *s, size_t n, int colon)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '_' || (colon && c == ':') || (i > 0 && c >= '0' &&
		    c <= '9')))
			return 0;
	}
	return n > 0;
}

/* Labels "{k="v",...}" from *p; 0 or -1. */
static int
check_labels(const char **p)
{
	const char *s = *p + 1, *k;

	while (*s != '}') {
		for (k = s; *s != '=' && *s != '\n' && *s != '\0'; s++)
			;
		if (!is_name(k, (size_t)(s - k), 0) || s[0] != '=' ||
		    s[1] != '"')
			return -1;
		for (s += 2; *s != '"'; s++) {
			if (*s == '\n' || *s == '\0')
				return -1;
			if (*s == '\\' && s[1] != '\\' && s[1] != '"' &&
			    s[1] != 'n')
				return -1;
			s += *s == '\\';
		}
		s++;
		if (*s == ',')
			s++;
		else if (*s != '}')
			return -1;
	}
	*p = s + 1;
	return 0;
}

/* The exposition format, line by line: "# HELP name text", then
 * "# TYPE name counter|gauge", then its samples "name{labels} value".
 * Returns the sample count, or -1 (with the line shown). */
static int
check_exposition(const char *text)
{
	char fam[128] = "", seen[8192] = " ";
	const char *l, *e, *p;
	size_t n;
	int samples = 0, typed = 0;
	char *end;

	for (l = text; *l != '\0'; l = e + 1) {
		if ((e = strchr(l, '\n')) == NULL)
			goto bad;
		if (strncmp(l, "# HELP ", 7) == 0) {
			p = l + 7;
			n = strcspn(p, " \n");
			if (!is_name(p, n, 1) || n >= sizeof(fam) ||
			    p[n] != ' ')
				goto bad;
			snprintf(fam, sizeof(fam), "%.*s", (int)n, p);
			typed = 0;
			continue;
		}
		if (strncmp(l, "# TYPE ", 7) == 0) {
			n = strlen(fam);
			p = l + 7;
			if (n == 0 || strncmp(p, fam, n) != 0 || (strncmp(p + n,
			    " gauge\n", 7) != 0 && strncmp(p + n, " counter\n",
			    9) != 0))
				goto bad;
			/* Each family once. */
			if (strlen(seen) + n + 2 > sizeof(seen) ||
			    strstr(seen, fam) != NULL)
				goto bad;
			strcat(seen, fam);
			strcat(seen, " ");
			typed = 1;
			continue;
		}
		n = strcspn(l, "{ \n");
		if (!typed || n != strlen(fam) || strncmp(l, fam, n) != 0 ||
		    !is_name(l, n, 1))
			goto bad;
		p = l + n;
		if (*p == '{' && check_labels(&p) < 0)
			goto bad;
		if (*p != ' ')
			goto bad;
		strtod(p + 1, &end);
		if (end == p + 1 || end != e)
			goto bad;
		samples++;
	}
	return samples;
bad:
	if (!quiet)
		fprintf(stderr, "exposition: bad line: %.*s\n",
		    (int)strcspn(l, "\n"), l);
	return -1;
}

static void
test_metrics(void)
{
	struct stats_pool_info pi = { 123, 4.5e13, 7, "up", "regtest", 3, T0 };
	struct stats *s = stats_new();
	static char buf[1 << 16];
	int n, i;

	script(s);
	stats_connect(s, A2, "we\"ird\\name", "x", 2, T0 + 7100);
	stats_share(s, A2, "we\"ird\\name", 6, 3, T0 + 7100);
	n = stats_metrics(s, &pi, T0 + 7119, buf, sizeof(buf));
	CHECK(n > 0 && (size_t)n == strlen(buf));
	CHECKF(check_exposition(buf) > 40, "metrics:\n%s", buf);
	CHECK(strstr(buf, "\nstratum_shares_accepted_total 1502\n") != NULL);
	CHECK(strstr(buf, "\nstratum_shares_rejected_total{reason=\"stale\"} "
	    "1\n") != NULL);
	CHECK(strstr(buf, "\nstratum_height 123\n") != NULL);
	CHECK(strstr(buf, "\nstratum_network_difficulty 45000000000000\n"));
	CHECK(strstr(buf, "\nstratum_node_up 1\n") != NULL);
	CHECK(strstr(buf, "\nstratum_miners 3\n") != NULL);
	CHECK(strstr(buf, "\nstratum_workers_online 1\n") != NULL);
	CHECK(strstr(buf, "\nstratum_blocks_found_total 1\n") != NULL);
	CHECK(strstr(buf, "\nstratum_hashrate{window=\"1m\"} 429496729.6\n"));
	CHECK(strstr(buf, "worker=\"we\\\"ird\\\\name\",window=\"1m\"} "
	    "429496729.6\n") != NULL);
	CHECK(strstr(buf, "{address=\"" A2 "\",worker=\"nerd\\n1\"} 500\n"));
	CHECK(strstr(buf, "stratum_worker_online{address=\"" A2 "\",worker="
	    "\"we\\\"ird\\\\name\"} 1\n") != NULL);
	/* Too small a buffer: -1, never a cut document. */
	for (i = 0; i < n; i += 97)
		CHECK(stats_metrics(s, &pi, T0 + 7119, buf, (size_t)i) == -1);
	CHECK(stats_metrics(s, &pi, T0 + 7119, buf, (size_t)n) == -1);
	CHECK(stats_metrics(s, &pi, T0 + 7119, buf, (size_t)n + 1) == n);
	/* The checker itself rejects what it must. */
	quiet = 1;
	CHECK(check_exposition("# HELP a x\n# TYPE a gauge\na 1\n") == 1);
	CHECK(check_exposition("a 1\n") == -1);
	CHECK(check_exposition("# HELP a x\n# TYPE a gauge\nb 1\n") == -1);
	CHECK(check_exposition("# HELP a x\n# TYPE a gauge\na{l=\"\n\"} 1\n")
	    == -1);
	CHECK(check_exposition("# HELP 1a x\n# TYPE 1a gauge\n1a 1\n") == -1);
	CHECK(check_exposition("# HELP a x\n# TYPE a gauge\na 1x\n") == -1);
	quiet = 0;
	stats_free(s);
}

/* ---- names and caps ---------------------------------------------------- */

static void
test_names(void)
{
	static const char *const names[] = {
		"a\"b", "back\\slash", "new\nline", "\x01\x1f\x7f", "\xff\xfe",
		"<script>alert(1)</script>", "\xe2\x82\xac"
	};
	char long_name[STATS_NAME_MAX + 1];
	struct stats *s = stats_new();
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		stats_connect(s, A1, names[i], names[i], 1, T0);
		stats_share(s, A1, names[i], 1, 1, T0);
	}
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	stats_share(s, A1, long_name, 1, 1, T0);	/* pool only */
	long_name[STATS_NAME_MAX - 1] = '\0';		/* just fits */
	stats_share(s, A1, long_name, 1, 1, T0);
	CHECK(user_doc(s, A1, T0) == 0);
	CHECK(num("workers_total") == 8 && num("accepted") == 8);
	CHECK(str_is("workers.0.name", "\x01\x1f\x7f"));
	CHECK(pool_doc(s, T0) == 0 && num("accepted") == 9);
	stats_block(s, 1, H1, "new\nline\"", "ok\n", T0);
	CHECK(blocks_doc(s) == 0 && str_is("blocks.0.finder", "new\nline\""));
	CHECK(stats_metrics(s, NULL, T0, jbuf, sizeof(jbuf)) > 0);
	CHECK(check_exposition(jbuf) > 0);
	stats_free(s);
}

static void
test_evict(void)
{
	struct stats *s = stats_new();
	char a[32], w[32];
	int i;

	/* Every address full, none connected: the oldest goes. */
	for (i = 0; i < STATS_MAX_ADDRS; i++) {
		snprintf(a, sizeof(a), "addr%05d", i);
		stats_share(s, a, "w", 1, 1, T0 + i);
	}
	CHECK(pool_doc(s, T0 + 20000) == 0);
	CHECK(num("addresses") == STATS_MAX_ADDRS);
	stats_share(s, "newcomer", "w", 1, 1, T0 + 20000);
	CHECK(user_doc(s, "addr00000", T0 + 20000) == -2);
	CHECK(user_doc(s, "addr00001", T0 + 20000) == 0);
	CHECK(user_doc(s, "newcomer", T0 + 20000) == 0);
	CHECK(pool_doc(s, T0 + 20000) == 0);
	CHECK(num("addresses") == STATS_MAX_ADDRS);
	CHECK(num("accepted") == STATS_MAX_ADDRS + 1);
	stats_free(s);

	/* One address, every worker slot taken. */
	s = stats_new();
	for (i = 0; i < STATS_MAX_WORKERS; i++) {
		snprintf(w, sizeof(w), "w%05d", i);
		stats_connect(s, A1, w, "", 1, T0 + i);
	}
	stats_connect(s, A1, "late", "", 1, T0 + 20000);	/* all busy */
	CHECK(user_doc(s, A1, T0 + 20000) == 0);
	CHECK(num("workers_total") == STATS_MAX_WORKERS);
	CHECK(jdoc.toks[at("workers")].size == STATS_JSON_WORKERS);
	stats_share(s, A1, "late", 1, 1, T0 + 20000);	/* pool only */
	CHECK(user_doc(s, A1, T0 + 20000) == 0 && num("accepted") == 0);
	stats_disconnect(s, A1, "w00005", T0 + 20001);
	stats_disconnect(s, A1, "w00000", T0 + 20002);
	stats_connect(s, A1, "late", "", 1, T0 + 20003);
	CHECK(user_doc(s, A1, T0 + 20003) == 0);
	CHECK(num("workers_total") == STATS_MAX_WORKERS);
	CHECK(str_is("workers.0.name", "late"));
	CHECK(str_is("workers.1.name", "w00000"));	/* w00005 went */
	CHECK(str_is("workers.5.name", "w00004"));
	CHECK(str_is("workers.6.name", "w00006"));
	stats_free(s);
}

static void
rm_dir(void)
{
	static const char *const names[] = {
		"stats.json", "stats.json.tmp", "blocks.log", "log"
	};
	char p[512];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	if (rmdir(dir) < 0)
		perror(dir);
}

int
main(void)
{
	t_start = (long long)time(NULL);
	snprintf(dir, sizeof(dir), "/tmp/test_stats.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_windows();
	test_day();
	test_miners();
	test_counters();
	test_offline();
	test_roundtrip();
	test_blocks_log();
	test_corrupt();
	test_metrics();
	test_names();
	test_evict();
	rm_dir();
	TEST_END("stats");
}
