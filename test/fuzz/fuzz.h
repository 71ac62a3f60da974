/*
 * fuzz.h - what every libFuzzer harness in test/fuzz/ shares: the entry
 * point's prototype and FUZZ_CHECK, which turns a broken invariant into a
 * crash that libFuzzer records (crash-<sha1> file, then the input moves to
 * test/fuzz/regress/<name>/ once the bug is understood).
 *
 * Built only by test/fuzz.sh with clang -fsanitize=fuzzer,address,undefined;
 * see test/fuzz/README for the harnesses and their input formats.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(e) do { \
	if (!(e)) { \
		fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed\n", \
		    __FILE__, __LINE__, #e); \
		abort(); \
	} \
} while (0)

#endif
