/*
 * test.h - the whole test harness.  Each test_<module>.c includes this,
 * calls CHECK() as often as it likes and ends main() with TEST_END(), which
 * prints "<name>: N passed, N failed" and returns the failure count as the
 * exit status.  A failed check prints its expression, file and line.
 */
#ifndef TEST_H
#define TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_passed, test_failed;

#define CHECK(e) do { \
	if (e) \
		test_passed++; \
	else { \
		test_failed++; \
		fprintf(stderr, "%s:%d: CHECK(%s) failed\n", \
		    __FILE__, __LINE__, #e); \
	} \
} while (0)

/* CHECK with a printf-style explanation shown on failure. */
#define CHECKF(e, ...) do { \
	if (e) \
		test_passed++; \
	else { \
		test_failed++; \
		fprintf(stderr, "%s:%d: CHECK(%s) failed: ", \
		    __FILE__, __LINE__, #e); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
	} \
} while (0)

#define TEST_END(name) do { \
	printf("%s: %d passed, %d failed\n", (name), test_passed, \
	    test_failed); \
	return test_failed > 125 ? 125 : test_failed; \
} while (0)

/* Where ../shared/vectors lives; VECTORS in the environment overrides. */
static inline const char *
test_vectors(void)
{
	const char *v = getenv("VECTORS");
	return v != NULL && *v != '\0' ? v : "../shared/vectors";
}

/* Read a whole file into a malloc'd buffer (NUL-terminated past *len).
 * Returns NULL when it cannot. */
static inline char *
test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (cap - n < 4096) {
			char *nb = realloc(buf, cap * 2 + 8192);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap = cap * 2 + 8192;
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

#endif
