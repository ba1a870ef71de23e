/*
 * test_riblt.c: the rateless IBLT decodes set differences exactly.
 *
 * Random sets (seed printed) of up to 100k keys with d = 0 .. 10000
 * differences split between the two sides; the decoder is fed symbols
 * one batch at a time until it reports done, and its two lists must be
 * exactly the keys only the other side has and only it has. Prints the
 * symbols used per difference. Also: identical sets decode at symbol 0,
 * the encoder is incremental (batches of any size give the same
 * symbols), the decoder gives up at its bound, refuses symbols no
 * honest encoder makes instead of peeling them forever, and the
 * estimate of d is in the right range. WH_QUICK=1 scales down.
 */
#include "riblt.h"
#include "wh_test.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int same_set(const uint64_t *a, size_t an, uint64_t *b, size_t bn)
{
	if (an != bn)
		return 0;
	uint64_t *x = wh_xmalloc((an ? an : 1) * sizeof *x);
	if (an)
		memcpy(x, a, an * sizeof *x);
	qsort(x, an, sizeof *x, cmp_u64);
	qsort(b, bn, sizeof *b, cmp_u64);
	int eq = an == 0 || memcmp(x, b, an * sizeof *x) == 0;
	free(x);
	return eq;
}

/* Sets: 'common' shared keys, 'ra' only in remote, 'lo' only in local.
 * Returns symbols used. */
static uint64_t run(uint64_t *rng, size_t common, size_t ra, size_t lo,
		    size_t batch, uint64_t *est_out)
{
	size_t nr = common + ra, nl = common + lo;
	uint64_t *all = wh_xmalloc((common + ra + lo + 1) * sizeof *all);
	for (size_t i = 0; i < common + ra + lo; i++)
		all[i] = wh_test_rand(rng); /* 2^-64 collisions: ignore */
	uint64_t *rkeys = wh_xmalloc((nr + 1) * sizeof *rkeys);
	uint64_t *lkeys = wh_xmalloc((nl + 1) * sizeof *lkeys);
	memcpy(rkeys, all, common * sizeof *all);
	memcpy(rkeys + common, all + common, ra * sizeof *all);
	memcpy(lkeys, all, common * sizeof *all);
	memcpy(lkeys + common, all + common + ra, lo * sizeof *all);
	/* The local side holds its keys in another order. */
	for (size_t i = nl; i > 1; i--) {
		size_t j = (size_t)wh_test_below(rng, i);
		uint64_t t = lkeys[i - 1];
		lkeys[i - 1] = lkeys[j];
		lkeys[j] = t;
	}
	struct wh_riblt_enc *e;
	struct wh_riblt_dec *d;
	uint64_t max = 2 * (nr + nl) + 1024;
	REQUIRE(wh_riblt_enc_new(rkeys, nr, &e) == WH_OK);
	REQUIRE(wh_riblt_dec_new(lkeys, nl, max, &d) == WH_OK);
	struct wh_riblt_sym *syms = wh_xmalloc(batch * sizeof *syms);
	int done = 0;
	*est_out = 0;
	while (!done) {
		wh_riblt_enc_next(e, syms, batch);
		int rc = wh_riblt_dec_add(d, syms, batch);
		if (rc != WH_OK) {
			CHECK_EQ(rc, WH_OK);
			break;
		}
		if (wh_riblt_dec_count(d) == 32)
			*est_out = wh_riblt_dec_estimate(d);
		done = wh_riblt_dec_done(d);
	}
	const uint64_t *got;
	size_t n = wh_riblt_dec_remote(d, &got);
	CHECK(same_set(got, n, all + common, ra));
	n = wh_riblt_dec_local(d, &got);
	CHECK(same_set(got, n, all + common + ra, lo));
	uint64_t used = wh_riblt_dec_count(d);
	wh_riblt_enc_free(e);
	wh_riblt_dec_free(d);
	free(syms);
	free(all);
	free(rkeys);
	free(lkeys);
	return used;
}

/* Symbols of one encoder in batches of 1 equal those in one batch. */
static void test_incremental(uint64_t *rng)
{
	uint64_t keys[500];
	for (size_t i = 0; i < 500; i++)
		keys[i] = wh_test_rand(rng);
	struct wh_riblt_enc *a, *b;
	REQUIRE(wh_riblt_enc_new(keys, 500, &a) == WH_OK);
	REQUIRE(wh_riblt_enc_new(keys, 500, &b) == WH_OK);
	struct wh_riblt_sym big[300], one;
	wh_riblt_enc_next(a, big, 300);
	int same = 1;
	int64_t total = 0;
	for (size_t i = 0; i < 300; i++) {
		wh_riblt_enc_next(b, &one, 1);
		same &= memcmp(&one, &big[i], sizeof one) == 0;
		total += big[i].count;
	}
	CHECK(same);
	CHECK_EQ(big[0].count, 500);
	/* ~ sum over i < 300 of 1/(1+i/2) = 2 ln(150) + ... ~ 11 per key */
	CHECK(total > 500 * 8 && total < 500 * 14);
	CHECK_EQ(wh_riblt_enc_count(b), 300);
	wh_riblt_enc_free(a);
	wh_riblt_enc_free(b);
}

/* The decoder refuses symbols past its bound. */
static void test_bound(uint64_t *rng)
{
	uint64_t keys[64];
	for (size_t i = 0; i < 64; i++)
		keys[i] = wh_test_rand(rng);
	struct wh_riblt_dec *d;
	REQUIRE(wh_riblt_dec_new(keys, 64, 10, &d) == WH_OK);
	struct wh_riblt_sym s[11];
	memset(s, 0, sizeof s);
	CHECK_EQ(wh_riblt_dec_add(d, s, 11), WH_ETOOBIG);
	CHECK_EQ(wh_riblt_dec_add(d, s, 10), WH_OK);
	CHECK_EQ(wh_riblt_dec_add(d, s, 1), WH_ETOOBIG);
	/* Garbage symbols never complete a decode against 64 keys wrongly:
	 * symbol 0 is -(all 64 keys), not empty. */
	CHECK(!wh_riblt_dec_done(d));
	wh_riblt_dec_free(d);
}

/*
 * Symbols no honest encoder makes end the decode, they do not hang it
 * (found by fuzz_sync): the symbols of one key K, but one of K's indices
 * past 0 emptied. Peeling K from symbol 0 makes that one pure with -K,
 * peeling it makes symbol 0 pure with K again, and so on forever,
 * each turn growing the lists of keys. The decoder must notice (an
 * honest stream never yields more keys than symbols) and refuse it.
 */
static void test_forged(void)
{
	uint64_t key = 0x0123456789abcdefull;
	struct wh_riblt_enc *e;
	struct wh_riblt_dec *d;
	struct wh_riblt_sym s[64];
	REQUIRE(wh_riblt_enc_new(&key, 1, &e) == WH_OK);
	wh_riblt_enc_next(e, s, 64);
	wh_riblt_enc_free(e);
	size_t t = 1;
	while (t < 64 && wh_riblt_sym_empty(&s[t]))
		t++;
	REQUIRE(t < 64);
	memset(&s[t], 0, sizeof s[t]);
	REQUIRE(wh_riblt_dec_new(NULL, 0, 1000, &d) == WH_OK);
	CHECK_EQ(wh_riblt_dec_add(d, s, 64), WH_EDECODE);
	const uint64_t *got;
	CHECK(wh_riblt_dec_remote(d, &got) + wh_riblt_dec_local(d, &got) <= 64);
	/* Once refused, always refused. */
	CHECK_EQ(wh_riblt_dec_add(d, s, 1), WH_EDECODE);
	wh_riblt_dec_free(d);

	/* A count no encoder makes (found by fuzz_sync: INT64_MIN, which
	 * the fold of a local key took past the int64 range). */
	static const int64_t bad[] = {INT64_MIN, -1, (int64_t)UINT32_MAX + 1};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		REQUIRE(wh_riblt_dec_new(&key, 1, 1000, &d) == WH_OK);
		memset(s, 0, sizeof s);
		s[1].count = bad[i];
		CHECK_EQ(wh_riblt_dec_add(d, s, 4), WH_EDECODE);
		CHECK_EQ(wh_riblt_dec_count(d), 0);
		wh_riblt_dec_free(d);
	}
}

int main(void)
{
	uint64_t rng = wh_test_seed("test_riblt");
	int quick = getenv("WH_QUICK") != NULL;
	test_incremental(&rng);
	test_bound(&rng);
	test_forged();

	/* Identical sets: done after symbol 0. */
	uint64_t est;
	size_t nbig = quick ? 20000 : 100000;
	CHECK_EQ(run(&rng, nbig, 0, 0, 1, &est), 1);
	CHECK_EQ(run(&rng, 0, 0, 0, 1, &est), 1);

	static const size_t ds[] = {1, 10, 100, 1000, 10000};
	for (size_t k = 0; k < sizeof ds / sizeof ds[0]; k++) {
		size_t d = ds[k];
		if (quick && d > 1000)
			continue;
		int reps = d <= 10 ? 20 : d <= 100 ? 5 : 1;
		uint64_t used = 0, estsum = 0;
		for (int r = 0; r < reps; r++) {
			size_t ra = (size_t)wh_test_below(&rng, d + 1);
			size_t common = d >= 1000 ? nbig : 1000 + d;
			/* one symbol at a time: the exact count needed */
			used += run(&rng, common, ra, d - ra, 1, &est);
			estsum += est;
		}
		printf("d=%zu: %.2f symbols per difference (mean of %d), "
		       "estimate after 32 symbols %.0f\n",
		       d, (double)used / (double)reps / (double)d, reps,
		       (double)estsum / reps);
		/* one-sided: all differences on the remote */
		used = run(&rng, nbig / 4, d, 0, 16, &est);
		printf("d=%zu one-sided, batches of 16: %.2f per difference\n",
		       d, (double)used / (double)d);
	}
	/* Everything differs: one side empty. */
	uint64_t used = run(&rng, 0, 0, 3000, 64, &est);
	printf("local only, 3000 keys: %.2f per key\n", (double)used / 3000);
	return wh_test_done("test_riblt");
}
