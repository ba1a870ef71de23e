/*
 * test_property.c: the CRDT laws, through the store, on random histories
 * (tests/integration/gen.h makes them: 3-5 stations with skewed clocks
 * that see random parts of each other's work, and take valid and invalid
 * steps of the whistle-and-report loop among the rest).
 *
 * For each history:
 *   - oracle: a store fed one op per call, in creation order, must hold
 *     exactly what the pure fold (gen_fold: sort by (hlc, author, id),
 *     wh_case_apply) gives: every case view byte for byte, each case's
 *     history in fold order with the same outcome per op, case and op
 *     counts, and the digest of every scope computed independently from
 *     the op ids and the paths the cases' ops name (their reach);
 *   - permutations: fresh stores fed the set plus random duplicates in
 *     random orders (and fold order, and its reverse, which forces a
 *     refold per op) with random batch splits agree with it on views
 *     hash, digests at every scope, counts and the loop's statistics
 *     (whistle stats) at every scope; each op is reported added exactly
 *     once;
 *   - rebuild, and close/reopen, change nothing;
 *   - subsets: two stores each receive a random subset (and must match
 *     the oracle for that subset), then the rest: equal again; a third
 *     store pulls everything through wh_store_each_op, scope by scope.
 *
 * The seed is printed first; WH_SEED replays it. WH_QUICK (set for the
 * sanitizer run) and a time budget keep it short.
 */
#include "gen.h"

#include <time.h>

#define NOW_MS (GEN_BASE_MS + 86400000ull) /* a day later: no op ahead */

static double elapsed(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

struct st {
	struct wh_store *s;
	char dir[4096];
};

static void st_fresh(struct st *x)
{
	struct wh_store_opts o = {0};
	o.nosync = 1;
	gen_tmpdir(x->dir, sizeof x->dir, "prop");
	REQUIRE(wh_store_open(x->dir, &o, &x->s) == WH_OK);
}

static void st_drop(struct st *x)
{
	wh_store_close(x->s);
	x->s = NULL;
	gen_rmrf(x->dir);
}

/*
 * Ingest ops idx[0..n) of g in batches of random size (1..max_batch).
 * Every result must be WH_OK or WH_EEXIST, and the counts must add up;
 * okcount[i] counts the WH_OK results of op i.
 */
static void feed(struct wh_store *s, struct gen *g, const size_t *idx, size_t n,
		 uint64_t *rng, size_t max_batch, unsigned *okcount)
{
	struct wh_slice *sl = wh_xmalloc((n ? n : 1) * sizeof *sl);
	int *res = wh_xmalloc((n ? n : 1) * sizeof *res);
	struct wh_ingest_opts io = {.now_ms = NOW_MS};
	for (size_t i = 0; i < n; i++) {
		sl[i].p = g->ops[idx[i]].p;
		sl[i].n = g->ops[idx[i]].n;
	}
	for (size_t at = 0; at < n;) {
		size_t b = 1 + (size_t)wh_test_below(rng, max_batch);
		if (b > n - at)
			b = n - at;
		struct wh_ingest_result r;
		int rc = wh_store_ingest(s, sl + at, b, &io, res + at, &r);
		CHECK_EQ(rc, WH_OK);
		CHECK_EQ(r.added + r.known, b);
		CHECK_EQ(r.refused, 0);
		size_t ok = 0;
		for (size_t k = at; k < at + b; k++) {
			if (res[k] == WH_OK) {
				ok++;
				okcount[idx[k]]++;
			} else if (res[k] != WH_EEXIST) {
				fprintf(stderr, "op %zu refused: %s\n", idx[k],
					wh_strerror(res[k]));
				CHECK(0);
			}
		}
		CHECK_EQ(ok, r.added);
		at += b;
	}
	free(sl);
	free(res);
}

/* Every op added exactly once over a store's life. */
static void check_once(const unsigned *okcount, size_t n, const char *what)
{
	size_t bad = 0;
	for (size_t i = 0; i < n; i++)
		bad += okcount[i] != 1;
	if (bad)
		fprintf(stderr, "%s: %zu ops not added exactly once\n", what,
			bad);
	CHECK_EQ(bad, 0);
}

struct hist_walk {
	struct gen *g;
	int ci;
	const enum wh_apply *how;
	size_t n, bad_order, bad_how, unknown;
	struct wh_op prev;
};

static int hist_cb(void *ctx, const struct wh_op *op, enum wh_apply how)
{
	struct hist_walk *w = ctx;
	const struct gen_case *gc = &w->g->cases[w->ci];
	size_t i = SIZE_MAX;
	for (size_t k = 0; k < gc->nops; k++)
		if (!memcmp(w->g->ops[gc->ops[k]].op.id, op->id, WH_ID_BYTES))
			i = gc->ops[k];
	if (i == SIZE_MAX)
		w->unknown++;
	else if (w->how[i] != how)
		w->bad_how++;
	if (w->n > 0 && wh_op_cmp(&w->prev, op) >= 0)
		w->bad_order++;
	/* keep the sort key only: op borrows from the map */
	w->prev.hlc = op->hlc;
	memcpy(w->prev.author, op->author, WH_PK_BYTES);
	memcpy(w->prev.id, op->id, WH_ID_BYTES);
	w->n++;
	return 0;
}

struct count_ctx {
	size_t n;
};

static int count_case(void *ctx, const struct wh_case *c)
{
	(void)c;
	((struct count_ctx *)ctx)->n++;
	return 0;
}

static int count_raw(void *ctx, const uint8_t *op, size_t n)
{
	(void)op;
	(void)n;
	((struct count_ctx *)ctx)->n++;
	return 0;
}

/* Coverage over the whole run: the generator must produce the cases the
 * laws are about, or the test proves little. */
struct cover {
	size_t conflicts, ignored, dup_creates, tombs, elems, stale, ops, cases,
	    rounds, kinds[WH_OP_KIND_MAX + 1];
	/* the loop (flow.h): summonses, lead resolutions, reopened rounds,
	 * flags raised, ratings the fold applied */
	size_t summons, lead_done, rounds2, flow_conflicts, rated;
};

/*
 * The store must hold exactly the fold of the ops in mask (NULL: all):
 * each case view, each history (order and outcome), counts, and each
 * scope's count and digest.
 */
static void check_oracle(struct wh_store *s, struct gen *g, const uint8_t *mask,
			 struct cover *cov, const char *what)
{
	enum wh_apply *how = wh_xcalloc(g->nops, sizeof *how);
	struct gen_digest dg[GEN_NSCOPES];
	memset(dg, 0, sizeof dg);
	uint64_t nops = 0, ncases = 0, bytes = 0;
	wh_hlc_ts hmax = 0;
	size_t ncases_in[GEN_NSCOPES] = {0};
	struct wh_buf want = {0}, got = {0};
	size_t bad_views = 0;
	for (int ci = 0; ci < g->ncases; ci++) {
		struct wh_case c, sc;
		size_t n = gen_fold(g, ci, mask, g->nops, &c, how);
		int rc = wh_store_case_get(s, g->cases[ci].code,
					   g->cases[ci].seq, &sc);
		if (n == 0) {
			CHECK_EQ(rc, WH_ENOTFOUND);
			if (rc == WH_OK)
				wh_case_fini(&sc);
			wh_case_fini(&c);
			continue;
		}
		ncases++;
		CHECK_EQ(rc, WH_OK);
		wh_buf_reset(&want);
		wh_buf_reset(&got);
		wh_case_encode(&c, &want);
		if (rc == WH_OK) {
			wh_case_encode(&sc, &got);
			wh_case_fini(&sc);
		}
		if (want.len != got.len || memcmp(want.p, got.p, want.len)) {
			if (!bad_views)
				fprintf(stderr,
					"%s: view of %s-%06u differs from "
					"the fold (%zu vs %zu bytes)\n",
					what, c.code, (unsigned)c.seq, got.len,
					want.len);
			bad_views++;
		}
		/* history: fold order, outcome per op */
		struct hist_walk w = {.g = g, .ci = ci, .how = how};
		CHECK_EQ(wh_store_case_history(s, c.code, c.seq, hist_cb, &w),
			 WH_OK);
		CHECK_EQ(w.n, n);
		CHECK_EQ(w.bad_order, 0);
		CHECK_EQ(w.bad_how, 0);
		CHECK_EQ(w.unknown, 0);
		/* expected digests: the case's ops count in every scope its
		 * reach touches, the union of the paths its ops name (each
		 * op's path, a move's new path); its view in the scope of its
		 * current path. */
		const struct gen_case *gc = &g->cases[ci];
		for (size_t k = 0; k < GEN_NSCOPES; k++) {
			const char *sc_ = gen_scopes[k];
			size_t sl = strlen(sc_);
			if (wh_path_within(c.path, strlen(c.path), sc_, sl))
				ncases_in[k]++;
			int reached = 0;
			for (size_t j = 0; j < gc->nops && !reached; j++) {
				const struct wh_op *op = &g->ops[gc->ops[j]].op;
				if (mask && !mask[gc->ops[j]])
					continue;
				const struct wh_field *f =
				    op->kind == WH_OP_CASE_MOVE
					? wh_op_field(op, WH_F_NEW_PATH)
					: NULL;
				reached = wh_path_within((const char *)op->path.p,
							 op->path.n, sc_, sl) ||
					  (f && wh_path_within(
						    (const char *)f->s.p, f->s.n,
						    sc_, sl));
			}
			if (!reached)
				continue;
			for (size_t j = 0; j < gc->nops; j++)
				if (!mask || mask[gc->ops[j]])
					gen_digest_add(
					    &dg[k], g->ops[gc->ops[j]].op.id);
		}
		for (size_t j = 0; j < gc->nops; j++) {
			const struct gen_op *o = &g->ops[gc->ops[j]];
			if (mask && !mask[gc->ops[j]])
				continue;
			nops++;
			bytes += o->n;
			if (o->op.hlc > hmax)
				hmax = o->op.hlc;
		}
		if (cov && !mask) {
			cov->conflicts += c.nconflicts;
			cov->ignored += c.nignored;
			cov->tombs += c.ntombs > 0;
			cov->elems += c.nelems;
			cov->summons += c.flow.nsummons;
			cov->lead_done += c.flow.resolved_at != 0;
			cov->rounds2 += c.flow.round > 0;
			cov->flow_conflicts += c.flow.conflicts != 0;
			for (size_t j = 0; j < gc->nops; j++)
				cov->rated +=
				    g->ops[gc->ops[j]].op.kind == WH_OP_RATE &&
				    how[gc->ops[j]] == WH_APPLY_OK;
			for (size_t j = 0; j < gc->nops; j++)
				cov->dup_creates +=
				    how[gc->ops[j]] == WH_APPLY_DUP_CREATE;
		}
		wh_case_fini(&c);
	}
	CHECK_EQ(bad_views, 0);
	struct wh_store_info info;
	REQUIRE(wh_store_info(s, &info) == WH_OK);
	CHECK_EQ(info.schema, WH_STORE_SCHEMA);
	CHECK_EQ(info.ops, nops);
	CHECK_EQ(info.cases, ncases);
	CHECK_EQ(info.op_bytes, bytes);
	CHECK(info.hlc_max == hmax);
	for (size_t k = 0; k < GEN_NSCOPES; k++) {
		uint8_t d[WH_ID_BYTES], want_d[WH_ID_BYTES];
		uint64_t cnt = 0;
		REQUIRE(wh_store_digest(s, gen_scopes[k], d, &cnt) == WH_OK);
		gen_digest_final(&dg[k], want_d);
		if (cnt != dg[k].count || memcmp(d, want_d, WH_ID_BYTES)) {
			fprintf(stderr,
				"%s: scope \"%s\": count %" PRIu64
				", want %" PRIu64 "%s\n",
				what, gen_scopes[k], cnt, dg[k].count,
				memcmp(d, want_d, WH_ID_BYTES)
				    ? "; digest differs"
				    : "");
			CHECK(0);
		}
		struct count_ctx cc = {0};
		struct wh_case_filter f = {gen_scopes[k], -1, 0};
		CHECK_EQ(wh_store_case_list(s, &f, count_case, &cc), WH_OK);
		CHECK_EQ(cc.n, ncases_in[k]);
		cc.n = 0;
		CHECK_EQ(wh_store_each_op(s, gen_scopes[k], count_raw, &cc),
			 WH_OK);
		CHECK_EQ(cc.n, dg[k].count);
	}
	wh_buf_fini(&want);
	wh_buf_fini(&got);
	free(how);
}

struct pull {
	struct wh_store *dst;
	size_t n, refused;
};

static int pull_cb(void *ctx, const uint8_t *op, size_t n)
{
	struct pull *p = ctx;
	struct wh_slice sl = {op, n};
	struct wh_ingest_opts io = {.now_ms = NOW_MS};
	int res;
	/* the source's bytes are valid only during this call: ingest them
	 * right away, one op per transaction */
	if (wh_store_ingest(p->dst, &sl, 1, &io, &res, NULL) != WH_OK ||
	    (res != WH_OK && res != WH_EEXIST))
		p->refused++;
	p->n++;
	return 0;
}

static void one_history(uint64_t *rng, int perms, struct cover *cov)
{
	struct gen g;
	int nauth = 3 + (int)wh_test_below(rng, 3);
	int ncases = 10 + (int)wh_test_below(rng, 11);
	size_t want = 150 + (size_t)wh_test_below(rng, 250);
	gen_init(&g, wh_test_rand(rng), nauth, ncases);
	gen_history(&g, want);
	size_t n = g.nops;
	printf("history: %d authors, %d cases, %zu ops (stale status %zu, "
	       "dup creates %zu, broken stamps %zu, refused receives %zu)\n",
	       nauth, g.ncases, n, g.nstale_status, g.ndup_create, g.nbroken,
	       g.nrecv_refused);
	cov->stale += g.nstale_status;
	for (int k = 1; k <= WH_OP_KIND_MAX; k++)
		cov->kinds[k] += g.nkind[k];
	cov->ops += n;
	cov->cases += (size_t)g.ncases;

	size_t *idx = wh_xmalloc((3 * n + 1) * sizeof *idx);
	unsigned *okc = wh_xcalloc(n, sizeof *okc);

	/* the reference: one op per call, in creation order */
	struct st ref;
	st_fresh(&ref);
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	feed(ref.s, &g, idx, n, rng, 1, okc);
	check_once(okc, n, "one per call");
	check_oracle(ref.s, &g, NULL, cov, "one per call");
	struct gen_snap want_snap;
	gen_snap(ref.s, &want_snap);
	CHECK_EQ(want_snap.cnt[0], n);
	CHECK_EQ(want_snap.info.cases, g.ncases);

	/* permutations with duplicates and random batches */
	for (int p = 0; p < perms; p++) {
		size_t m = n;
		for (size_t i = 0; i < n; i++)
			idx[i] = i;
		if (p == 0 || p == 1) {
			/* fold order, then its reverse: every op sorts
			 * before what is there, so every apply refolds */
			gen_sort_ctx = &g;
			qsort(idx, n, sizeof *idx, gen_cmp_idx_ctx_sort);
			if (p == 1)
				for (size_t i = 0; i < n / 2; i++) {
					size_t t = idx[i];
					idx[i] = idx[n - 1 - i];
					idx[n - 1 - i] = t;
				}
		} else {
			size_t dups = (size_t)wh_test_below(rng, n / 2 + 1);
			for (size_t k = 0; k < dups; k++)
				idx[m++] = (size_t)wh_test_below(rng, n);
			gen_shuffle(rng, idx, m);
		}
		size_t maxb = wh_test_below(rng, 4) == 0
				  ? m
				  : 1 + (size_t)wh_test_below(rng, 64);
		struct st x;
		st_fresh(&x);
		memset(okc, 0, n * sizeof *okc);
		feed(x.s, &g, idx, m, rng, maxb, okc);
		check_once(okc, n, "permutation");
		struct gen_snap sn;
		gen_snap(x.s, &sn);
		char what[64];
		snprintf(what, sizeof what, "permutation %d", p);
		CHECK(gen_snap_eq(&want_snap, &sn, what));
		if (p == perms - 1) {
			/* rebuild, and close/reopen, change nothing */
			CHECK_EQ(wh_store_rebuild(x.s), WH_OK);
			gen_snap(x.s, &sn);
			CHECK(gen_snap_eq(&want_snap, &sn, "rebuild"));
			wh_store_close(x.s);
			struct wh_store_opts o = {0};
			o.nosync = 1;
			REQUIRE(wh_store_open(x.dir, &o, &x.s) == WH_OK);
			gen_snap(x.s, &sn);
			CHECK(gen_snap_eq(&want_snap, &sn, "reopen"));
			check_oracle(x.s, &g, NULL, NULL, "reopened");
		}
		st_drop(&x);
	}

	/* subsets: each store gets a random part, then the rest */
	struct st a, b;
	st_fresh(&a);
	st_fresh(&b);
	uint8_t *ma = wh_xcalloc(n, 1), *mb = wh_xcalloc(n, 1);
	size_t na = 0, nb = 0;
	unsigned pa = (unsigned)wh_test_below(rng, 101);
	unsigned pb = (unsigned)wh_test_below(rng, 101);
	for (size_t i = 0; i < n; i++) {
		ma[i] = wh_test_below(rng, 100) < pa;
		mb[i] = wh_test_below(rng, 100) < pb;
	}
	unsigned *okb = wh_xcalloc(n, sizeof *okb);
	memset(okc, 0, n * sizeof *okc);
	for (size_t i = 0; i < n; i++)
		if (ma[i])
			idx[na++] = i;
	gen_shuffle(rng, idx, na);
	feed(a.s, &g, idx, na, rng, 1 + wh_test_below(rng, 32), okc);
	for (size_t i = 0; i < n; i++)
		if (mb[i])
			idx[nb++] = i;
	gen_shuffle(rng, idx, nb);
	feed(b.s, &g, idx, nb, rng, 1 + wh_test_below(rng, 32), okb);
	check_oracle(a.s, &g, ma, NULL, "subset a");
	check_oracle(b.s, &g, mb, NULL, "subset b");
	/* the rest */
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!ma[i])
			idx[k++] = i;
	gen_shuffle(rng, idx, k);
	feed(a.s, &g, idx, k, rng, 1 + wh_test_below(rng, 32), okc);
	k = 0;
	for (size_t i = 0; i < n; i++)
		if (!mb[i])
			idx[k++] = i;
	gen_shuffle(rng, idx, k);
	feed(b.s, &g, idx, k, rng, 1 + wh_test_below(rng, 32), okb);
	check_once(okc, n, "subset a + rest");
	check_once(okb, n, "subset b + rest");
	struct gen_snap sa, sb;
	gen_snap(a.s, &sa);
	gen_snap(b.s, &sb);
	CHECK(gen_snap_eq(&want_snap, &sa, "subset a + rest"));
	CHECK(gen_snap_eq(&want_snap, &sb, "subset b + rest"));

	/* a third store pulls from a, scope by scope, then everything */
	struct st c;
	st_fresh(&c);
	struct pull pl = {.dst = c.s};
	CHECK_EQ(wh_store_each_op(a.s, "xicheng/xinjiekou", pull_cb, &pl),
		 WH_OK);
	CHECK_EQ(pl.n, want_snap.cnt[2]);
	CHECK_EQ(wh_store_each_op(a.s, "", pull_cb, &pl), WH_OK);
	CHECK_EQ(pl.refused, 0);
	struct gen_snap scn;
	gen_snap(c.s, &scn);
	CHECK(gen_snap_eq(&want_snap, &scn, "pulled"));

	st_drop(&a);
	st_drop(&b);
	st_drop(&c);
	st_drop(&ref);
	free(ma);
	free(mb);
	free(okb);
	free(okc);
	free(idx);
	gen_fini(&g);
	cov->rounds++;
}

/* Whether the histories so far exercised every law checked below. */
static int covered(const struct cover *c)
{
	for (int k = 1; k < WH_OP_PROBLEM_SET; k++)
		if (c->kinds[k] == 0 &&
		    strcmp(wh_op_kind_name((uint8_t)k), "unknown"))
			return 0;
	return c->conflicts && c->stale && c->ignored && c->dup_creates &&
	       c->elems && c->summons && c->lead_done && c->rounds2 &&
	       c->flow_conflicts && c->rated;
}

int main(void)
{
	uint64_t seed = wh_test_seed("test_property");
	REQUIRE(wh_crypto_init() == WH_OK);
	int quick = getenv("WH_QUICK") != NULL;
	int rounds = quick ? 6 : 10, perms = quick ? 12 : 20;
	double budget = quick ? 12.0 : 14.0;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t rng = seed;
	struct cover cov = {0};
	/* Past the budget, go on only while some law has not been
	 * exercised yet (a loaded machine runs fewer histories), up to a
	 * hard limit, so coverage holds without a flaky failure. */
	for (int r = 0; r < 3 * rounds; r++) {
		if (r >= rounds && covered(&cov))
			break;
		one_history(&rng, perms, &cov);
		double t = elapsed(&t0);
		if (t > budget && (covered(&cov) || t > 4 * budget)) {
			printf("time budget reached after %d histories\n",
			       r + 1);
			break;
		}
	}
	printf("covered: %zu histories, %zu ops, %zu cases; %zu status "
	       "conflicts, %zu stale status steps, %zu ignored ops, %zu dup "
	       "creates, %zu cases with tombstones, %zu live set elements "
	       "(%.1f s)\n",
	       cov.rounds, cov.ops, cov.cases, cov.conflicts, cov.stale,
	       cov.ignored, cov.dup_creates, cov.tombs, cov.elems,
	       elapsed(&t0));
	/* the laws were exercised on the interesting cases */
	CHECK(cov.conflicts > 0);
	CHECK(cov.stale > 0);
	CHECK(cov.ignored > 0);
	CHECK(cov.dup_creates > 0);
	CHECK(cov.elems > 0);
	printf("loop: %zu summonses, %zu lead resolutions, %zu reopened, "
	       "%zu flagged, %zu ratings applied\n",
	       cov.summons, cov.lead_done, cov.rounds2, cov.flow_conflicts,
	       cov.rated);
	CHECK(cov.summons > 0);
	CHECK(cov.lead_done > 0);
	CHECK(cov.rounds2 > 0);
	CHECK(cov.flow_conflicts > 0);
	CHECK(cov.rated > 0);
	/* Every kind a case folds; documents' kinds (64 and up) are not
	 * case ops and have tests of their own. */
	for (int k = 1; k < WH_OP_PROBLEM_SET; k++)
		if (cov.kinds[k] == 0 &&
		    strcmp(wh_op_kind_name((uint8_t)k), "unknown")) {
			fprintf(stderr, "no op of kind %s generated\n",
				wh_op_kind_name((uint8_t)k));
			CHECK(0);
		}
	return wh_test_done("test_property");
}
