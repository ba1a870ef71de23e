/*
 * wh_test.h: the few macros every C test uses. A failed CHECK prints the
 * place and the expression and makes the test exit 1 at the end; a
 * failed REQUIRE stops at once. Randomised tests take their seed from
 * WH_SEED (or the clock), print it first, and so can be replayed.
 */
#ifndef WH_TEST_H
#define WH_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int wh_test_failures;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			wh_test_failures++;                                    \
		}                                                              \
	} while (0)

#define REQUIRE(cond)                                                          \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: REQUIRE failed: %s\n",         \
				__FILE__, __LINE__, #cond);                    \
			exit(1);                                               \
		}                                                              \
	} while (0)

/* Compare two ints and show both on failure. */
#define CHECK_EQ(a, b)                                                         \
	do {                                                                   \
		long long a_ = (long long)(a), b_ = (long long)(b);            \
		if (a_ != b_) {                                                \
			fprintf(stderr, "%s:%d: CHECK_EQ failed: %s = %lld, " \
				"%s = %lld\n", __FILE__, __LINE__, #a, a_, #b, \
				b_);                                           \
			wh_test_failures++;                                    \
		}                                                              \
	} while (0)

static inline int wh_test_done(const char *name)
{
	if (wh_test_failures) {
		fprintf(stderr, "%s: %d check(s) failed\n", name,
			wh_test_failures);
		return 1;
	}
	printf("%s: ok\n", name);
	return 0;
}

static inline uint64_t wh_test_seed(const char *name)
{
	const char *e = getenv("WH_SEED");
	uint64_t seed = e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL);
	printf("%s: seed %" PRIu64 " (replay with WH_SEED=%" PRIu64 ")\n",
	       name, seed, seed);
	fflush(stdout);
	return seed;
}

/* splitmix64: small, good enough, and the same everywhere. */
static inline uint64_t wh_test_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t wh_test_below(uint64_t *s, uint64_t n)
{
	return n ? wh_test_rand(s) % n : 0;
}

#endif
