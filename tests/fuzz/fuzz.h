/*
 * fuzz.h: what the libFuzzer targets of tests/fuzz share: the entry
 * points, a check that turns a broken promise into a crash libFuzzer
 * keeps, and an input as a FILE for the parsers that read streams.
 *
 * Each target is one fuzz_<name>.c defining LLVMFuzzerTestOneInput; it
 * feeds the bytes to one decoder of outside input and, where the
 * decoder promises something about what it accepts, checks it with
 * FUZZ_CHECK. docs/fuzzing.md lists the targets and how to run them.
 */
#ifndef WH_FUZZ_H
#define WH_FUZZ_H

#include "wh.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A property the code under test promises, broken: abort, so libFuzzer
 * saves the input as a crash. */
#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: fuzz check failed: %s\n",      \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

/* The input as a read-only stream (the parser under test reads it as it
 * would a file). Close with fclose. */
static inline FILE *fuzz_stream(const uint8_t *p, size_t n)
{
	static char none;
	/* glibc reads a size-0 buffer as empty, but only a real one. */
	FILE *f = fmemopen(n ? (void *)(uintptr_t)p : &none, n, "r");
	if (!f) {
		perror("fuzz: fmemopen");
		abort();
	}
	return f;
}

#endif
