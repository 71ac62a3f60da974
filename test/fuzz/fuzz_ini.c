/*
 * fuzz_ini.c - ini.c, and conf.c's handler behind it, under libFuzzer.  The
 * input is the file's text.
 *
 * conf.c is included, not linked, so its static handler and cross-key
 * check can be driven on text in memory.  Checked:
 *  - every line a handler sees obeys ini.h: a section and name of 1..limit
 *    bytes, a value within its limit, no white space at either end, line
 *    numbers rising; errors are "name:line: reason", NUL-terminated;
 *  - a handler that refuses (with a message longer than the room for it,
 *    or none) stops parsing with that message, cut, not overflowing;
 *  - the same text read from a file (ini_parse_file, conf_load) gives the
 *    same calls, result and message as from memory (ini_parse_string);
 *  - a configuration conf_load accepts satisfies the limits conf.c's table
 *    states, and its strings are terminated within their fields.
 */
#include <fcntl.h>
#include <unistd.h>

#include "../../conf.c"
#include "fuzz.h"

struct seen {
	int calls;
	int last_line;
	int stop_at;		/* refuse at this call (1-based), 0: never */
	unsigned sum;		/* of everything the handler saw */
};

static char tmp_path[] = "/tmp/fuzz_ini.XXXXXX";
static int tmp_fd = -1;

static int
is_ini_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static void
check_trimmed(const char *s, size_t max, int may_be_empty)
{
	size_t n = strlen(s);

	FUZZ_CHECK(n <= max && (n > 0 || may_be_empty));
	if (n > 0)
		FUZZ_CHECK(!is_ini_space(s[0]) && !is_ini_space(s[n - 1]));
}

static int
on_line(void *user, const char *section, const char *name, const char *value,
    int lineno, char *err, size_t errlen)
{
	struct seen *st = user;
	const char *p;
	size_t i;

	FUZZ_CHECK(strlen(section) >= 1 && strlen(section) <= INI_MAX_SECTION);
	check_trimmed(name, INI_MAX_NAME, 0);
	check_trimmed(value, INI_MAX_VALUE, 1);
	FUZZ_CHECK(strchr(name, '=') == NULL && strchr(name, ':') == NULL);
	FUZZ_CHECK(lineno > st->last_line && errlen > 0 && err[0] == '\0');
	st->last_line = lineno;
	for (p = value; *p != '\0'; p++)
		st->sum = st->sum * 31 + (unsigned char)*p;
	st->sum += (unsigned)lineno;
	if (++st->calls != st->stop_at)
		return 0;
	if (lineno % 2 == 0)
		return 1;	/* no message: "rejected by handler" */
	for (i = 0; i < errlen; i++)
		err[i] = 'x';	/* no NUL: the parser must cut it */
	return -1;
}

static void
check_err(int r, const char *err, size_t errlen)
{
	FUZZ_CHECK(r == 0 || r == -1);
	FUZZ_CHECK(memchr(err, '\0', errlen) != NULL);
	if (r < 0)
		FUZZ_CHECK(strncmp(err, tmp_path, strlen(tmp_path)) == 0);
}

static void
remove_tmp(void)
{
	unlink(tmp_path);
}

/* The input as a file, for the parsers that read one. */
static void
put_file(const uint8_t *data, size_t size)
{
	if (tmp_fd < 0) {
		log_set_level(LOG_ERROR);	/* unknown-key warnings */
		FUZZ_CHECK((tmp_fd = mkstemp(tmp_path)) >= 0);
		atexit(remove_tmp);
	}
	FUZZ_CHECK(ftruncate(tmp_fd, 0) == 0);
	FUZZ_CHECK(size == 0 || pwrite(tmp_fd, data, size, 0) ==
	    (ssize_t)size);
}

/* What conf_load accepted is within the table's limits. */
static void
check_conf(const struct conf *c)
{
	size_t i;

	FUZZ_CHECK(c->nnodes >= 1 && c->nnodes <= CONF_MAX_NODES);
	FUZZ_CHECK(c->min_difficulty <= c->start_difficulty &&
	    c->start_difficulty <= c->max_difficulty);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *f = (const char *)c + keys[i].off;

		if (keys[i].kind == K_STR)
			FUZZ_CHECK(memchr(f, '\0', keys[i].size) != NULL);
		else if (keys[i].kind == K_INT)
			FUZZ_CHECK(*(const int *)(const void *)f >= keys[i].min
			    && *(const int *)(const void *)f <= keys[i].max);
	}
	for (i = 0; i < CONF_MAX_NODES; i++)
		FUZZ_CHECK(c->node[i].rpcport >= 1 &&
		    c->node[i].rpcport <= 65535 &&
		    memchr(c->node[i].rpchost, '\0', CONF_STR) != NULL);
}

static struct conf c_mem, c_file;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char e_mem[300], e_file[300];
	struct seen s_mem, s_file;
	int r_mem, r_file;

	put_file(data, size);
	memset(&s_mem, 0, sizeof(s_mem));
	s_mem.stop_at = (int)(size % 5);
	s_file = s_mem;
	r_mem = ini_parse_string(tmp_path, text, size, on_line, &s_mem, e_mem,
	    sizeof(e_mem));
	r_file = ini_parse_file(tmp_path, on_line, &s_file, e_file,
	    sizeof(e_file));
	check_err(r_mem, e_mem, sizeof(e_mem));
	FUZZ_CHECK(r_mem == r_file && s_mem.calls == s_file.calls &&
	    s_mem.sum == s_file.sum);
	if (r_mem < 0)
		FUZZ_CHECK(strcmp(e_mem, e_file) == 0);
	if (r_mem < 0 && s_mem.stop_at > 0 && s_mem.calls == s_mem.stop_at)
		FUZZ_CHECK(strstr(e_mem, "rejected by handler") != NULL ||
		    strstr(e_mem, "xxxxxxxxxx") != NULL);

	/* conf.c: its handler on text in memory against conf_load. */
	conf_defaults(&c_mem);
	conf_defaults(&c_file);
	r_mem = ini_parse_string(tmp_path, text, size, on_key, &c_mem, e_mem,
	    sizeof(e_mem));
	if (r_mem == 0)
		r_mem = conf_check(&c_mem, e_mem, sizeof(e_mem));
	r_file = conf_load(&c_file, tmp_path, e_file, sizeof(e_file));
	check_err(r_file, e_file, sizeof(e_file));
	FUZZ_CHECK(r_mem == r_file);
	if (r_file == 0) {
		check_conf(&c_file);
		FUZZ_CHECK(memcmp(&c_mem, &c_file, sizeof(c_mem)) == 0);
	}
	return 0;
}
