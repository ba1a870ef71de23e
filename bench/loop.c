/*
 * bench/loop.c: a year of a district through the whistle-and-report loop
 * (吹哨报到), and what the loop's queries cost on it. One run prints:
 *
 *   (a) Ed25519 verifies/s on one core, over ops of this stream: the
 *       limit ingest is judged against;
 *   (b) durable ingest of the year (batches of 1,000, fsync per batch),
 *       ops/s, as a ratio of (a);
 *   (c) the overdue listing (超期): walk wh_store_case_list with the scope
 *       filter, wh_flow_overdue on each case, rows sorted by lateness;
 *       for one street and for the district;
 *   (d) the statistics of `whistle stats` (agent/stats.h) for one street
 *       and for the district, all time;
 *   each of (c) and (d) beside the aim of 200 ms as a ratio; and, to say
 *   where the time goes, the same walk with a callback that does nothing
 *   (LMDB walk + view decode: what every query pays before it asks
 *   anything) and the bytes of the views it reads. perf on `--reuse`
 *   splits the walk further (docs/performance.md).
 *
 * The year: N cases (default 200,000; --quick 20,000) created evenly
 * through 2025 in a district of 15 streets x 18-22 communities (~300),
 * ~10 ops a case, 2 million ops in all. Each case follows the loop:
 * triage (92%: 36% big, 48% small, 16% micro); nine in ten big matters
 * whistled by the street (so about a third of all cases) to 1-3 of eight
 * departments with the 12345 sample limits (report 2 h or 24 h; resolve
 * 24 h, 7 d or 15 d); departments report on time (85%) or late, go on
 * site, note progress and resolve (the lead last; 5% of leads never
 * do); supervision whistles for late reports; feedback, resident and
 * street ratings; closes, some reopens (a new round), a few cancels;
 * small matters resolved by status steps; notes throughout. Ops arrive
 * in time order across cases (a heap of pending steps), as a district
 * hub would receive them; a step due after the year's end is never
 * made, so the last weeks hold cases in flight and overdue. Keys and
 * stamps are derived from fixed seeds: every run builds the same bytes.
 * Community stations sign creates, triage, status, notes, feedback and
 * resident ratings; streets sign whistles and street ratings; the
 * district platform signs departments' reports.
 *
 * Usage: loop [--cases N] [--quick] [--dir D] [--reuse]
 *   --dir D   build the store in D and keep it (default: a temporary
 *             directory, removed at the end)
 *   --reuse   D already holds the year: only the queries run (for perf)
 * Not a test: it reports what it measures and exits 0 (2 on a usage
 * error, 1 if the store fails).
 */
#include "loop_gen.h"
#include "stats.h"
#include "store.h"

#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define BATCH 1000
#define SAMPLE 20000 /* ops whose verification sets the limit */
#define RUNS 5	     /* of each query; the median is reported */
#define AIM_MS 200.0

/* ---- measurements ---- */

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double bench_verify(struct district *d, uint32_t ncases)
{
	struct stream s;
	struct wh_buf b = {0};
	size_t *off = wh_xmalloc((SAMPLE + 1) * sizeof *off), n = 0;
	stream_init(&s, d, ncases);
	for (; n < SAMPLE; n++) {
		off[n] = b.len;
		if (!stream_next(&s, &b))
			break;
	}
	off[n] = b.len;
	struct wh_op *ops = wh_xmalloc(n * sizeof *ops);
	for (size_t i = 0; i < n; i++)
		if (wh_op_decode(b.p + off[i], off[i + 1] - off[i], &ops[i]))
			die("decode", WH_EDECODE);
	size_t done = 0, bad = 0;
	double t0 = now_s(), t;
	do {
		for (size_t i = 0; i < n; i++)
			bad += wh_sig_verify(
				   ops[i].author, ops[i].signed_part.p,
				   ops[i].signed_part.n, ops[i].sig) != WH_OK;
		done += n;
		t = now_s() - t0;
	} while (t < 1.0);
	if (bad)
		die("verify", WH_ESIG);
	free(ops);
	free(off);
	wh_buf_fini(&b);
	stream_fini(&s);
	return (double)done / t;
}

static void build(struct wh_store *st, struct district *d, uint32_t ncases,
		  double verify)
{
	struct stream s;
	stream_init(&s, d, ncases);
	struct wh_buf b = {0};
	size_t off[BATCH + 1];
	struct wh_slice sl[BATCH];
	struct wh_ingest_opts io = {.now_ms = YEAR_END + DAY};
	double t_ing = 0, t_gen = 0, t0 = now_s();
	for (int more = 1; more;) {
		size_t n = 0;
		double a = now_s();
		wh_buf_reset(&b);
		for (; n < BATCH; n++) {
			off[n] = b.len;
			if (!(more = stream_next(&s, &b)))
				break;
		}
		off[n] = b.len;
		for (size_t i = 0; i < n; i++)
			sl[i] = (struct wh_slice){b.p + off[i],
						  off[i + 1] - off[i]};
		double m = now_s();
		struct wh_ingest_result r;
		int rc = n ? wh_store_ingest(st, sl, n, &io, NULL, &r) : WH_OK;
		if (rc)
			die("ingest", rc);
		if (n && r.refused)
			die("ingest refused an op", r.first_refused_error);
		t_ing += now_s() - m;
		t_gen += m - a;
		if (s.made % 200000 < BATCH)
			fprintf(stderr, "  %" PRIu64 " ops (%.0f s)\r", s.made,
				now_s() - t0);
	}
	fprintf(stderr, "\n");
	double rate = (double)s.made / t_ing;
	printf("the year: %" PRIu32 " cases, %" PRIu64 " ops (%.1f a case): "
	       "%" PRIu64 " create, %" PRIu64 " triage, %" PRIu64
	       " whistle, %" PRIu64 " report, %" PRIu64 " status, %" PRIu64
	       " note, %" PRIu64 " feedback, %" PRIu64 " rate\n",
	       ncases, s.made, (double)s.made / ncases,
	       s.nkind[WH_OP_CASE_CREATE], s.nkind[WH_OP_TRIAGE],
	       s.nkind[WH_OP_WHISTLE], s.nkind[WH_OP_REPORT],
	       s.nkind[WH_OP_CASE_STATUS], s.nkind[WH_OP_CASE_NOTE],
	       s.nkind[WH_OP_FEEDBACK], s.nkind[WH_OP_RATE]);
	printf("(b) ingest: %.0f ops/s  verify limit: %.0f/s  ratio %.2f "
	       "(aim >= 0.80)  [durable, batches of %d, %.0f s; signing "
	       "%.0f s not counted]\n",
	       rate, verify, rate / verify, BATCH, t_ing, t_gen);
	wh_buf_fini(&b);
	stream_fini(&s);
}

/* ---- the queries ---- */

struct orow {
	char id[WH_CASE_ID_MAX];
	char dept[WH_DEPT_MAX + 1];
	uint8_t resolve;
	uint64_t late_ms;
};

struct q {
	struct wh_store *st;
	const char *scope;
	/* overdue listing */
	struct orow *rows;
	size_t nrows, caprows;
	const struct wh_case *cur;
	uint64_t ncases;
	/* stats */
	struct wh_stats_result res;
};

static void on_overdue(void *ctx, const struct wh_summons *s, int resolve,
		       uint64_t late_ms)
{
	struct q *q = ctx;
	if (q->nrows == q->caprows) {
		q->caprows = q->caprows ? 2 * q->caprows : 1024;
		q->rows = wh_xrealloc(q->rows, q->caprows * sizeof *q->rows);
	}
	struct orow *r = &q->rows[q->nrows++];
	wh_case_id_format(q->cur->code, q->cur->seq, r->id);
	snprintf(r->dept, sizeof r->dept, "%s", s->dept);
	r->resolve = (uint8_t)resolve;
	r->late_ms = late_ms;
}

static int overdue_case(void *ctx, const struct wh_case *c)
{
	struct q *q = ctx;
	q->cur = c;
	q->ncases++;
	(void)wh_flow_overdue(c, YEAR_END, on_overdue, q);
	return 0;
}

static int by_lateness(const void *x, const void *y)
{
	const struct orow *a = x, *b = y;
	return a->late_ms > b->late_ms ? -1 : a->late_ms < b->late_ms;
}

static void q_overdue(struct q *q)
{
	struct wh_case_filter f = {q->scope, -1, 0};
	q->nrows = 0;
	q->ncases = 0;
	int rc = wh_store_case_list(q->st, &f, overdue_case, q);
	if (rc)
		die("case_list", rc);
	qsort(q->rows, q->nrows, sizeof *q->rows, by_lateness);
}

static int feed(void *ctx, const struct wh_case *c)
{
	wh_stats_add(ctx, c);
	return 0;
}

static void q_stats(struct q *q)
{
	struct wh_stats_opts o = {YEAR_END, 0, UINT64_MAX};
	struct wh_stats_acc a;
	struct wh_case_filter f = {q->scope, -1, 0};
	wh_stats_result_fini(&q->res);
	wh_stats_init(&a, &o);
	int rc = wh_store_case_list(q->st, &f, feed, &a);
	if (rc)
		die("case_list", rc);
	wh_stats_finish(&a, &q->res);
}

static int count_case(void *ctx, const struct wh_case *c)
{
	(void)c;
	((struct q *)ctx)->ncases++;
	return 0;
}

static void q_walk(struct q *q)
{
	struct wh_case_filter f = {q->scope, -1, 0};
	q->ncases = 0;
	int rc = wh_store_case_list(q->st, &f, count_case, q);
	if (rc)
		die("case_list", rc);
}

static int cmp_d(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

static double cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Median of RUNS runs, wall ms; the first run's in *first, the median
 * CPU ms in *cpu (wall minus CPU is waiting: for the disk, or for a core
 * on a busy machine). */
static double timed(void (*fn)(struct q *), struct q *q, double *first,
		    double *cpu)
{
	double t[RUNS], c[RUNS];
	for (int i = 0; i < RUNS; i++) {
		double a = now_s(), b = cpu_s();
		fn(q);
		t[i] = (now_s() - a) * 1e3;
		c[i] = (cpu_s() - b) * 1e3;
	}
	*first = t[0];
	qsort(t, RUNS, sizeof t[0], cmp_d);
	qsort(c, RUNS, sizeof c[0], cmp_d);
	*cpu = c[RUNS / 2];
	return t[RUNS / 2];
}

static void report(const char *what, double ms, double first, double cpu,
		   const char *extra)
{
	printf("%s: %.1f ms (median of %d; first %.1f ms; CPU %.1f ms)  aim "
	       "%.0f ms  ratio %.2f%s  [%s]\n",
	       what, ms, RUNS, first, cpu, AIM_MS, ms / AIM_MS,
	       ms > AIM_MS ? "  MISSED" : "", extra);
}

/* Counts over the district, untimed: the mix the fold made of it. */
struct census {
	uint64_t cases, status[WH_STATUS_MAX + 1], whistled, reopened, ignored,
	    conflicts, ops, summonses, view_bytes;
	struct wh_buf b;
};

static int census_case(void *ctx, const struct wh_case *c)
{
	struct census *k = ctx;
	k->cases++;
	k->status[c->status]++;
	k->whistled += c->flow.nwhistles > 0;
	k->reopened += c->flow.round > 0;
	k->ignored += c->nignored;
	k->conflicts += c->nconflicts;
	k->ops += c->nops;
	k->summonses += c->flow.nsummons;
	wh_buf_reset(&k->b);
	wh_case_encode(c, &k->b); /* what the walk reads, about */
	k->view_bytes += k->b.len;
	return 0;
}

static void queries(struct wh_store *st)
{
	struct census k = {0};
	struct wh_case_filter all = {"xicheng", -1, 0};
	int rc = wh_store_case_list(st, &all, census_case, &k);
	if (rc)
		die("census", rc);
	printf("the district as folded: %" PRIu64 " cases, %" PRIu64
	       " ops; %" PRIu64 " whistled (%.0f%%), %" PRIu64
	       " summonses, %" PRIu64 " reopened; status new %" PRIu64
	       ", accepted %" PRIu64 ", in progress %" PRIu64
	       ", resolved %" PRIu64 ", closed %" PRIu64 ", reopened %" PRIu64
	       ", cancelled %" PRIu64 "; ops the fold ignored %" PRIu64
	       " (%.2f%%), conflicts %" PRIu64 "\n",
	       k.cases, k.ops, k.whistled,
	       100.0 * (double)k.whistled / (double)k.cases, k.summonses,
	       k.reopened, k.status[WH_ST_NEW], k.status[WH_ST_ACCEPTED],
	       k.status[WH_ST_IN_PROGRESS], k.status[WH_ST_RESOLVED],
	       k.status[WH_ST_CLOSED], k.status[WH_ST_REOPENED],
	       k.status[WH_ST_CANCELLED], k.ignored,
	       100.0 * (double)k.ignored / (double)k.ops, k.conflicts);
	printf("views: %.0f MB encoded, %.0f bytes a case\n",
	       (double)k.view_bytes / 1e6,
	       (double)k.view_bytes / (double)k.cases);
	wh_buf_fini(&k.b);

	static const char *const scopes[2] = {"xicheng/xinjiekou", "xicheng"};
	static const char *const names[2] = {"street xinjiekou", "district"};
	struct q q = {.st = st};
	char extra[256], what[96];
	for (int i = 0; i < 2; i++) {
		double first, cpu, ms;
		q.scope = scopes[i];
		ms = timed(q_overdue, &q, &first, &cpu);
		snprintf(what, sizeof what, "(c) overdue listing, %s",
			 names[i]);
		snprintf(extra, sizeof extra,
			 "%" PRIu64 " cases in scope, %zu overdue rows",
			 q.ncases, q.nrows);
		report(what, ms, first, cpu, extra);
	}
	for (int i = 0; i < 2; i++) {
		double first, cpu, ms;
		q.scope = scopes[i];
		ms = timed(q_stats, &q, &first, &cpu);
		const struct wh_stats_row *t = &q.res.total;
		char p[3][WH_STATS_PCT_MAX];
		(void)wh_stats_pct(&t->response, p[0]);
		(void)wh_stats_pct(&t->resolution, p[1]);
		(void)wh_stats_pct(&t->satisfaction, p[2]);
		snprintf(what, sizeof what, "(d) stats, %s", names[i]);
		snprintf(extra, sizeof extra,
			 "%" PRIu64 " cases, %" PRIu64 " summonses, %zu depts; "
			 "response %s%%, resolution %s%%, satisfaction %s%%, "
			 "overdue %" PRIu64 " cases",
			 t->cases, t->summonses, q.res.ndepts, p[0], p[1], p[2],
			 t->overdue_cases);
		report(what, ms, first, cpu, extra);
	}
	for (int i = 0; i < 2; i++) {
		double first, cpu, ms;
		q.scope = scopes[i];
		ms = timed(q_walk, &q, &first, &cpu);
		printf("    where it goes: the walk alone (LMDB + decode of "
		       "every view, callback does nothing), %s: %.1f ms, CPU "
		       "%.1f ms (%" PRIu64 " cases passed the filter)\n",
		       names[i], ms, cpu, q.ncases);
	}
	free(q.rows);
	wh_stats_result_fini(&q.res);
}

/* ---- main ---- */

static int rm_one(const char *p, const struct stat *sb, int f, struct FTW *w)
{
	(void)sb;
	(void)f;
	(void)w;
	return remove(p);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: loop [--cases N] [--quick] [--dir D] [--reuse]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint32_t ncases = 200000;
	const char *dir_arg = NULL;
	int reuse = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--cases") && i + 1 < argc) {
			char *end;
			unsigned long v = strtoul(argv[++i], &end, 10);
			if (*end || v < 1000 || v > 10000000)
				usage();
			ncases = (uint32_t)v;
		} else if (!strcmp(argv[i], "--quick")) {
			ncases = 20000;
		} else if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
			dir_arg = argv[++i];
		} else if (!strcmp(argv[i], "--reuse")) {
			reuse = 1;
		} else {
			usage();
		}
	}
	if (reuse && !dir_arg)
		usage();
	if (wh_crypto_init())
		die("crypto", WH_EINVAL);
	char dir[4096];
	if (dir_arg) {
		snprintf(dir, sizeof dir, "%s", dir_arg);
		mkdir(dir, 0700);
	} else {
		snprintf(dir, sizeof dir, "/tmp/whistle-loop.XXXXXX");
		if (!mkdtemp(dir))
			die("mkdtemp", WH_EIO);
	}
	struct district d;
	district_init(&d);
	printf("whistle loop bench: a year of a district, %" PRIu32
	       " cases, 15 streets x %zu communities, store in %s\n",
	       ncases, d.ncomm, dir);
	struct wh_store_opts so = {0};
	struct wh_store *st;
	int rc;
	if (!reuse) { /* with --reuse only the queries run (for perf) */
		double va = bench_verify(&d, ncases);
		printf("(a) verify limit: %.0f Ed25519 verifies/s (one core)\n",
		       va);
		if ((rc = wh_store_open(dir, &so, &st)))
			die(dir, rc);
		build(st, &d, ncases, va);
		wh_store_close(st);
	}
	if ((rc = wh_store_open(dir, &so, &st)))
		die(dir, rc);
	struct wh_store_info info;
	if ((rc = wh_store_info(st, &info)))
		die("info", rc);
	printf("store: %" PRIu64 " ops, %" PRIu64 " cases, file %.0f MB\n",
	       info.ops, info.cases, (double)info.file_size / 1e6);
	queries(st);
	wh_store_close(st);
	district_fini(&d);
	if (!dir_arg)
		(void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
