/*
 * test_stats.c: every figure of agent/stats.h on the fixed history of
 * tests/loop_data.h, against numbers worked out by hand (the arithmetic
 * is in the comments), so a changed definition fails here. Also the
 * period bounds, the Asia/Shanghai day, the percentage rounding, and
 * an empty set.
 *
 * Durations below: M = 60,000 ms, H = 3,600,000 ms.
 */
#include "loop_data.h"
#include "stats.h"
#include "wh_test.h"

#define NCASES 7

static struct wh_key *key;
static struct wh_case cases[NCASES];
static int ncases;

/* Build, sign and decode each op, and fold it into its case: the same
 * path an op takes through a store, without the store. */
static void fold(void *ctx, const struct wh_op_draft *d)
{
	(void)ctx;
	struct wh_buf b = {0};
	struct wh_op op;
	int rc = wh_op_build(d, key, &b);
	if (rc)
		fprintf(stderr, "build: %s\n", wh_strerror(rc));
	REQUIRE(rc == WH_OK);
	REQUIRE(wh_op_decode(b.p, b.len, &op) == WH_OK);
	if (!ncases || strcmp(cases[ncases - 1].code, d->code) ||
	    cases[ncases - 1].seq != d->seq) {
		REQUIRE(ncases < NCASES);
		wh_case_init(&cases[ncases++], d->code, d->seq);
	}
	struct wh_case *c = &cases[ncases - 1];
	enum wh_apply how;
	REQUIRE(wh_case_apply(c, &op, &how) == WH_OK);
	/* The history is meant to be all sensible steps: one the fold
	 * ignores would make the figures below check something else. */
	if (how != WH_APPLY_OK)
		fprintf(stderr, "%s-%u: op kind %u at %" PRIu64 ": %d\n",
			d->code, d->seq, d->kind, WH_HLC_MS(d->hlc), how);
	CHECK_EQ(how, WH_APPLY_OK);
	wh_buf_fini(&b);
}

static void run(uint64_t from, uint64_t to, int with_extra,
		struct wh_stats_result *r)
{
	struct wh_stats_opts o = {LD_NOW, from, to};
	struct wh_stats_acc a;
	wh_stats_init(&a, &o);
	for (int i = 0; i < ncases; i++)
		if (with_extra || strcmp(cases[i].code, "XJK-SJF"))
			wh_stats_add(&a, &cases[i]);
	wh_stats_finish(&a, r);
	wh_stats_acc_fini(&a); /* harmless after finish */
}

static const struct wh_stats_row *row(const struct wh_stats_result *r,
				      const char *dept)
{
	for (size_t i = 0; i < r->ndepts; i++)
		if (!strcmp(r->depts[i].dept, dept))
			return &r->depts[i];
	fprintf(stderr, "no row for %s\n", dept);
	exit(1);
}

#define RATE(r, n, d)                                                          \
	do {                                                                   \
		CHECK_EQ((r).num, n);                                          \
		CHECK_EQ((r).den, d);                                          \
	} while (0)
#define TIME(t, cnt, mean, p90)                                                \
	do {                                                                   \
		CHECK_EQ((t).n, cnt);                                          \
		CHECK_EQ((t).mean_ms, mean);                                   \
		CHECK_EQ((t).p90_ms, p90);                                     \
	} while (0)

static void pct_is(const struct wh_stats_rate *r, const char *want)
{
	char s[WH_STATS_PCT_MAX];
	(void)wh_stats_pct(r, s);
	if (strcmp(s, want))
		fprintf(stderr, "pct %" PRIu64 "/%" PRIu64 ": %s, want %s\n",
			r->num, r->den, s, want);
	CHECK(!strcmp(s, want));
}

static void the_fold_is_as_described(void)
{
	REQUIRE(ncases == NCASES);
	CHECK_EQ(cases[0].status, WH_ST_CLOSED);
	CHECK_EQ(cases[1].status, WH_ST_NEW);
	CHECK_EQ(cases[2].status, WH_ST_CANCELLED);
	CHECK_EQ(cases[3].status, WH_ST_RESOLVED);
	CHECK_EQ(cases[3].flow.round, 1);
	CHECK_EQ(cases[3].flow.nsummons, 3); /* 城管 r0, 城管 r1, 公安 r1 */
	CHECK_EQ(cases[3].flow.resident_score, 4); /* round 0's 2 is gone */
	CHECK_EQ(cases[4].flow.resident_score, 0);
	CHECK_EQ(cases[5].flow.nsummons, 0);
	CHECK_EQ(cases[5].status, WH_ST_RESOLVED);
}

static void all_time(void)
{
	struct wh_stats_result r;
	run(0, UINT64_MAX, 0, &r);
	const struct wh_stats_row *t = &r.total;
	CHECK_EQ(t->cases, 6);	   /* C1..C6 */
	CHECK_EQ(t->cancelled, 1); /* C3 */
	/* summonses: 城管 C1 C2 C4r0 C4r1 = 4, 公安 C1 C4r1 C5 = 3 (C3 is
	 * cancelled), 住建 C2 C5 = 2: 9 */
	CHECK_EQ(t->summonses, 9);
	/* response: on time 城管 3 + 公安 2 + 住建 1 = 6 of 4 + 3 + 1 = 8
	 * judged (住建 in C5 is not due yet): 6/8 = 75.0% */
	RATE(t->response, 6, 8);
	pct_is(&t->response, "75.0");
	/* resolution: C1 closed, C4 and C6 resolved of the 5 not
	 * cancelled: 3/5 = 60.0% */
	RATE(t->resolution, 3, 5);
	pct_is(&t->resolution, "60.0");
	/* satisfaction: C1 5, C4 4 (its latest round), C6 3; C2 and C5
	 * unrated: 2/3 = 66.7% */
	RATE(t->satisfaction, 2, 3);
	pct_is(&t->satisfaction, "66.7");
	/* to report, all 7 acks: 1H 3H (C1), 2H (C2), 30M 1H 1H (C4),
	 * 30M (C5); sorted 30M 30M 1H 1H 1H 2H 3H; sum 9H = 32,400,000;
	 * mean 32,400,000 / 7 = 4,628,571.4 -> 4,628,571; p90 at rank
	 * ceil(0.9 * 7) = 7: 3H */
	TIME(t->to_report, 7, 4628571, 3 * LD_H);
	/* to resolve, cases whose lead resolved: C1 +21H (whistled at +1H,
	 * lead at +20H after that), C4 +20H (round 1 whistled 10H after
	 * creation, lead 10H later); C6 was resolved by status: skipped.
	 * mean 20.5H = 73,800,000; p90 rank ceil(1.8) = 2: 21H */
	TIME(t->to_resolve, 2, 73800000, 21 * LD_H);
	/* overdue at LD_NOW: C2 only; its 住建 (resolution past 7 days) and
	 * its 城管 (report and resolution: one summons) */
	CHECK_EQ(t->overdue_cases, 1);
	CHECK_EQ(t->overdue_summonses, 2);
	CHECK_EQ(r.incomplete, 0);

	/* departments, by summonses: 城管 4, 公安 3, 住建 2 */
	REQUIRE(r.ndepts == 3);
	CHECK(!strcmp(r.depts[0].dept, "城管"));
	CHECK(!strcmp(r.depts[1].dept, "公安"));
	CHECK(!strcmp(r.depts[2].dept, "住建"));

	const struct wh_stats_row *cg = row(&r, "城管");
	CHECK_EQ(cg->cases, 3); /* C1 C2 C4 */
	CHECK_EQ(cg->summonses, 4);
	/* C1 1H <= 2H yes; C2 never, due passed no; C4r0 30M yes; C4r1 1H
	 * yes: 3/4 = 75.0% */
	RATE(cg->response, 3, 4);
	pct_is(&cg->response, "75.0");
	/* resolved C1, C4r0; not C2, C4r1: 2/4 = 50.0% */
	RATE(cg->resolution, 2, 4);
	pct_is(&cg->resolution, "50.0");
	/* street scores 4 (C1), 3 (C4r0), 5 (C4r1): 2/3 = 66.7% */
	RATE(cg->satisfaction, 2, 3);
	pct_is(&cg->satisfaction, "66.7");
	/* 1H, 30M, 1H: mean 2.5H / 3 = 50M = 3,000,000; sorted 30M 1H 1H,
	 * p90 rank ceil(2.7) = 3: 1H (a tie with rank 2) */
	TIME(cg->to_report, 3, 3000000, LD_H);
	/* 20H (C1), 5H (C4r0): mean 12.5H = 45,000,000; p90 rank 2: 20H */
	TIME(cg->to_resolve, 2, 45000000, 20 * LD_H);
	CHECK_EQ(cg->overdue_summonses, 1); /* C2 */
	CHECK_EQ(cg->overdue_cases, 1);

	const struct wh_stats_row *ga = row(&r, "公安");
	CHECK_EQ(ga->cases, 3); /* C1 C4 C5; C3 cancelled */
	CHECK_EQ(ga->summonses, 3);
	/* C1 3H > 2H late; C4r1 1H on time; C5 no limit, acknowledged:
	 * 2/3 = 66.7% */
	RATE(ga->response, 2, 3);
	pct_is(&ga->response, "66.7");
	/* resolved C1, C4r1; not C5: 2/3 = 66.7% */
	RATE(ga->resolution, 2, 3);
	/* street scores 2 (C1), 4 (C4r1): 1/2 = 50.0% */
	RATE(ga->satisfaction, 1, 2);
	pct_is(&ga->satisfaction, "50.0");
	/* 3H, 1H, 30M: mean 4.5H / 3 = 1.5H = 5,400,000; sorted 30M 1H 3H,
	 * p90 rank 3: 3H (interpolation would say 2.6H) */
	TIME(ga->to_report, 3, 5400000, 3 * LD_H);
	/* 10H (C1), 10H (C4r1): mean 10H, p90 10H (ties) */
	TIME(ga->to_resolve, 2, 10 * LD_H, 10 * LD_H);
	CHECK_EQ(ga->overdue_summonses, 0);
	CHECK_EQ(ga->overdue_cases, 0);

	const struct wh_stats_row *zj = row(&r, "住建");
	CHECK_EQ(zj->cases, 2); /* C2 C5 */
	CHECK_EQ(zj->summonses, 2);
	/* C2 at exactly its deadline: on time; C5 not due: 1/1 = 100.0% */
	RATE(zj->response, 1, 1);
	pct_is(&zj->response, "100.0");
	RATE(zj->resolution, 0, 2); /* 0/2 = 0.0% */
	pct_is(&zj->resolution, "0.0");
	RATE(zj->satisfaction, 0, 0); /* no street score: "-" */
	pct_is(&zj->satisfaction, "-");
	TIME(zj->to_report, 1, 2 * LD_H, 2 * LD_H);
	TIME(zj->to_resolve, 0, 0, 0);
	CHECK_EQ(zj->overdue_summonses, 1); /* C2, resolution */
	CHECK_EQ(zj->overdue_cases, 1);
	wh_stats_result_fini(&r);

	/* At C5's report deadline (LD_NOW + 1H) itself 住建 may still be
	 * on time: not judged yet, 6/8 */
	struct wh_stats_opts o = {LD_NOW + LD_H, 0, UINT64_MAX};
	struct wh_stats_acc a;
	wh_stats_init(&a, &o);
	for (int i = 0; i < 6; i++)
		wh_stats_add(&a, &cases[i]);
	wh_stats_finish(&a, &r);
	RATE(r.total.response, 6, 8);
	wh_stats_result_fini(&r);
	/* A millisecond later it is judged, and late: 住建 1/2, totals
	 * 6/9 = 66.7% */
	o.now_ms = LD_NOW + LD_H + 1;
	wh_stats_init(&a, &o);
	for (int i = 0; i < 6; i++)
		wh_stats_add(&a, &cases[i]);
	wh_stats_finish(&a, &r);
	RATE(r.total.response, 6, 9);
	RATE(row(&r, "住建")->response, 1, 2);
	CHECK_EQ(r.total.overdue_cases, 2); /* C5's 住建 report, too */
	CHECK_EQ(r.total.overdue_summonses, 3);
	wh_stats_result_fini(&r);
}

static void period(void)
{
	struct wh_stats_result r;
	/* [C2's create, C4's create): C2 and C3, not C4 (its create is the
	 * excluded bound) nor C5/C6 */
	run(LD_T0 + LD_D, LD_T0 + 3 * LD_D, 0, &r);
	CHECK_EQ(r.total.cases, 2);
	CHECK_EQ(r.total.cancelled, 1);
	CHECK_EQ(r.total.summonses, 2); /* C2: 住建, 城管 */
	RATE(r.total.response, 1, 2);	/* 住建 on time, 城管 never */
	RATE(r.total.resolution, 0, 1);
	RATE(r.total.satisfaction, 0, 0);
	TIME(r.total.to_report, 1, 2 * LD_H, 2 * LD_H);
	TIME(r.total.to_resolve, 0, 0, 0);
	CHECK_EQ(r.total.overdue_cases, 1);
	CHECK_EQ(r.total.overdue_summonses, 2);
	/* one summons each: by name in byte order, 住 U+4F4F < 城 U+57CE */
	REQUIRE(r.ndepts == 2);
	CHECK(!strcmp(r.depts[0].dept, "住建"));
	CHECK(!strcmp(r.depts[1].dept, "城管"));
	wh_stats_result_fini(&r);

	/* the same by calendar days in Shanghai: 2025-11-04 00:00 to
	 * 2025-11-05 24:00 (+08) */
	uint64_t from, to;
	REQUIRE(wh_stats_day_ms("2025-11-04", &from) == WH_OK);
	REQUIRE(wh_stats_day_ms("2025-11-06", &to) == WH_OK);
	run(from, to, 0, &r);
	CHECK_EQ(r.total.cases, 2);
	CHECK_EQ(r.total.summonses, 2);
	wh_stats_result_fini(&r);

	/* nothing in: every rate "-", every time 0 */
	run(LD_NOW + LD_D, UINT64_MAX, 1, &r);
	CHECK_EQ(r.total.cases, 0);
	CHECK_EQ(r.ndepts, 0);
	pct_is(&r.total.response, "-");
	TIME(r.total.to_report, 0, 0, 0);
	wh_stats_result_fini(&r);
}

static void extra_case(void)
{
	struct wh_stats_result r;
	/* C7 alone: created at +5D exactly */
	run(LD_T0 + 5 * LD_D, LD_T0 + 5 * LD_D + 1, 1, &r);
	CHECK_EQ(r.total.cases, 1);
	REQUIRE(r.ndepts == 1);
	CHECK(!strcmp(r.depts[0].dept, LD_ODD_DEPT));
	RATE(r.depts[0].response, 1, 1);
	TIME(r.depts[0].to_report, 1, LD_H, LD_H); /* +1H -> +2H */
	TIME(r.depts[0].to_resolve, 1, 3 * LD_H, 3 * LD_H);
	TIME(r.total.to_resolve, 1, 4 * LD_H, 4 * LD_H); /* from create */
	wh_stats_result_fini(&r);
	/* and all seven: one more case, one more department */
	run(0, UINT64_MAX, 1, &r);
	CHECK_EQ(r.total.cases, 7);
	CHECK_EQ(r.ndepts, 4);
	CHECK_EQ(r.total.summonses, 10);
	wh_stats_result_fini(&r);
}

static void incomplete_is_left_out(void)
{
	struct wh_case c;
	wh_case_init(&c, "XJK-ZDY", 99); /* a view without its create */
	struct wh_stats_opts o = {LD_NOW, 0, UINT64_MAX};
	struct wh_stats_acc a;
	struct wh_stats_result r;
	wh_stats_init(&a, &o);
	wh_stats_add(&a, &c);
	wh_stats_add(&a, &cases[0]);
	wh_stats_finish(&a, &r);
	CHECK_EQ(r.incomplete, 1);
	CHECK_EQ(r.total.cases, 1);
	wh_stats_result_fini(&r);
	wh_case_fini(&c);
	/* an abandoned walk frees what it gathered (ASan checks) */
	wh_stats_init(&a, &o);
	for (int i = 0; i < ncases; i++)
		wh_stats_add(&a, &cases[i]);
	wh_stats_acc_fini(&a);
}

/* Mean rounding, on a view made by hand: acks after 1, 2 and 2 ms mean
 * 5/3 = 1.67 -> 2 ms (truncating would say 1); resolutions after 1 and
 * 2 ms mean 1.5 -> 2 ms (half up). p90: ranks ceil(2.7) = 3 and
 * ceil(1.8) = 2: 2 ms each. */
static void mean_rounding(void)
{
	struct wh_case c;
	wh_case_init(&c, "XJK-ZDY", 50);
	c.has_create = 1;
	c.created_at = WH_HLC_MAKE(LD_T0, 0);
	c.status = WH_ST_IN_PROGRESS;
	c.flow.nsummons = 3;
	c.flow.summons = wh_xcalloc(3, sizeof *c.flow.summons);
	static const uint64_t ack[3] = {1, 2, 2}, res[3] = {1, 2, 0};
	for (int i = 0; i < 3; i++) {
		struct wh_summons *s = &c.flow.summons[i];
		s->dept = wh_xstrndup("城管", strlen("城管"));
		s->summoned_at = WH_HLC_MAKE(LD_T0 + 10, 0);
		s->acked_at = WH_HLC_MAKE(LD_T0 + 10 + ack[i], 0);
		s->resolved_at =
		    res[i] ? WH_HLC_MAKE(LD_T0 + 10 + res[i], 0) : 0;
	}
	struct wh_stats_opts o = {LD_NOW, 0, UINT64_MAX};
	struct wh_stats_acc a;
	struct wh_stats_result r;
	wh_stats_init(&a, &o);
	wh_stats_add(&a, &c);
	wh_stats_finish(&a, &r);
	REQUIRE(r.ndepts == 1);
	TIME(r.total.to_report, 3, 2, 2);
	TIME(r.depts[0].to_resolve, 2, 2, 2);
	RATE(r.depts[0].response, 3, 3); /* no limits: on time once acked */
	wh_stats_result_fini(&r);
	wh_case_fini(&c);
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

/* The percentile against a sort done here, on many random times with
 * many ties and on runs that are sorted, reversed or all equal (what
 * trips a careless selection). */
static void p90_against_sort(void)
{
	uint64_t seed = wh_test_seed("test_stats p90");
	for (int round = 0; round < 40; round++) {
		unsigned n = 1 + (unsigned)wh_test_below(&seed, 3000);
		unsigned shape = round % 5, range = round % 2 ? 7 : 1000000;
		uint64_t *want = wh_xcalloc(n, sizeof *want);
		struct wh_stats_opts o = {LD_NOW, 0, UINT64_MAX};
		struct wh_stats_acc a;
		struct wh_stats_result r;
		wh_stats_init(&a, &o);
		uint64_t sum = 0;
		for (unsigned done = 0; done < n;) {
			unsigned k = n - done < 200 ? n - done : 200;
			struct wh_case c;
			wh_case_init(&c, "XJK-ZDY", 100 + done);
			c.has_create = 1;
			c.created_at = WH_HLC_MAKE(LD_T0, 0);
			c.status = WH_ST_IN_PROGRESS;
			c.flow.nsummons = k;
			c.flow.summons = wh_xcalloc(k, sizeof *c.flow.summons);
			for (unsigned i = 0; i < k; i++, done++) {
				uint64_t v = shape == 0	  ? done
					     : shape == 1 ? n - done
					     : shape == 2
						 ? 42
						 : wh_test_below(&seed, range);
				struct wh_summons *s = &c.flow.summons[i];
				s->dept = wh_xstrndup("公安", strlen("公安"));
				s->summoned_at = WH_HLC_MAKE(LD_T0, 0);
				s->acked_at = WH_HLC_MAKE(LD_T0 + v, 0);
				want[done] = v;
				sum += v;
			}
			wh_stats_add(&a, &c);
			wh_case_fini(&c);
		}
		wh_stats_finish(&a, &r);
		qsort(want, n, sizeof *want, cmp_u64);
		uint64_t p90 = want[(9 * (uint64_t)n + 9) / 10 - 1];
		if (r.total.to_report.p90_ms != p90 ||
		    r.total.to_report.mean_ms != (sum + n / 2) / n) {
			fprintf(stderr,
				"round %d n %u: p90 %" PRIu64 " want %" PRIu64
				"\n",
				round, n, r.total.to_report.p90_ms, p90);
			wh_test_failures++;
		}
		CHECK_EQ(r.total.to_report.n, n);
		wh_stats_result_fini(&r);
		free(want);
	}
}

static void pct_rounding(void)
{
	struct wh_stats_rate r1 = {2, 3}, r2 = {1, 3}, r3 = {1, 8},
			     r4 = {1, 2000}, r5 = {1999, 2000}, r6 = {0, 7};
	pct_is(&r1, "66.7");  /* 66.666... */
	pct_is(&r2, "33.3");  /* 33.333... */
	pct_is(&r3, "12.5");  /* exact */
	pct_is(&r4, "0.1");   /* 0.05: half up */
	pct_is(&r5, "100.0"); /* 99.95: half up */
	pct_is(&r6, "0.0");
	char s[WH_STATS_PCT_MAX];
	CHECK_EQ(wh_stats_pct(&r1, s), 667);
	struct wh_stats_rate none = {0, 0};
	CHECK_EQ(wh_stats_pct(&none, s), -1);
}

static void days(void)
{
	uint64_t ms = 0;
	/* 2025-11-03 00:00 +08 = 2025-11-02T16:00:00Z = LD_T0 - 9H */
	CHECK(wh_stats_day_ms("2025-11-03", &ms) == WH_OK);
	CHECK_EQ(ms, LD_T0 - 9 * LD_H);
	/* 2000-01-01 00:00 +08 = 946684800000 - 8H */
	CHECK(wh_stats_day_ms("2000-01-01", &ms) == WH_OK);
	CHECK_EQ(ms, 946684800000ull - 8 * LD_H);
	CHECK(wh_stats_day_ms("2024-02-29", &ms) == WH_OK); /* leap */
	CHECK(wh_stats_day_ms("2024-03-01", &ms) == WH_OK);
	uint64_t mar1 = ms;
	CHECK(wh_stats_day_ms("2024-02-28", &ms) == WH_OK);
	CHECK_EQ(mar1 - ms, 2 * LD_D);
	static const char *const bad[] = {
	    "2025-02-29",     "2100-02-29",  "2025-13-01", "2025-00-10",
	    "2025-04-31",     "2025-1-01",   "2025-01-1",  "25-01-01",
	    "2025/01/01",     "2025-01-01x", "",	   "1999-12-31",
	    "２０２５-01-01", "2025-01-00",  "abcd-ef-gh"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ms = 7;
		if (wh_stats_day_ms(bad[i], &ms) != WH_EINVAL || ms != 7) {
			fprintf(stderr, "accepted '%s'\n", bad[i]);
			wh_test_failures++;
		}
	}
	CHECK(wh_stats_day_ms("2000-02-29", &ms) == WH_OK); /* 400-year leap */
}

int main(void)
{
	REQUIRE(wh_crypto_init() == WH_OK);
	REQUIRE(wh_key_generate(&key) == WH_OK);
	ld_build(fold, NULL, 1);
	the_fold_is_as_described();
	all_time();
	period();
	extra_case();
	incomplete_is_left_out();
	mean_rounding();
	p90_against_sort();
	pct_rounding();
	days();
	for (int i = 0; i < ncases; i++)
		wh_case_fini(&cases[i]);
	wh_key_free(key);
	return wh_test_done("test_stats");
}
