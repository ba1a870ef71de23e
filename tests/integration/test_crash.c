/*
 * test_crash.c: a store killed at any moment keeps every op it reported
 * committed, and nothing half-done.
 *
 * The parent makes a random history of signed ops (gen.h) up front, then
 * loops: fork a child that opens the store itself (never open across
 * fork) and ingests the next ops, durably, in batches of random size;
 * after each wh_store_ingest returns WH_OK the child writes to a pipe how
 * many ops (a prefix of the fixed order) are committed so far. The parent
 * SIGKILLs it after a random 0-30 ms (doubled after four rounds in a row
 * that committed nothing: a slow machine) (during open, an ingest, a commit or
 * an fsync), reads the pipe and reopens the store. It must hold exactly
 * the first M ops, where M is the last reported count or, if the kill
 * fell between commit and report, the end of the next batch: never a
 * partial batch, never less than reported. Then: counts, bytes, highest
 * stamp and root digest match that prefix; every case view equals the
 * pure fold of its ops in the prefix; a mirror store that was given
 * exactly the same ops (nosync, no crash) has the same digests and
 * views; and wh_store_rebuild changes nothing. The next round carries on
 * with the same store.
 *
 * The seed is printed first; WH_SEED replays the ops and batch sizes
 * (kill times depend on the machine). WH_QUICK runs fewer rounds; the
 * total time is bounded.
 */
#include "gen.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#define NOW_MS (GEN_BASE_MS + 86400000ull)
#define MAX_BATCH 48
#define OPENED UINT64_MAX /* the child's first report: store open */

static double elapsed(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The child: open, ingest batches ends[0..nb) from 'from', report each.
 * Exit codes say what went wrong (it has no CHECK of its own). */
static void child(const char *dir, struct gen *g, size_t from,
		  const size_t *ends, size_t nb, int fd)
{
	struct wh_store *s;
	struct wh_store_opts o = {0}; /* durable */
	if (wh_store_open(dir, &o, &s) != WH_OK)
		_exit(10);
	uint64_t opened = OPENED;
	if (write(fd, &opened, sizeof opened) != (ssize_t)sizeof opened)
		_exit(13);
	struct wh_ingest_opts io = {.now_ms = NOW_MS};
	struct wh_slice sl[MAX_BATCH];
	size_t at = from;
	for (size_t j = 0; j < nb; j++) {
		size_t n = ends[j] - at;
		for (size_t k = 0; k < n; k++) {
			sl[k].p = g->ops[at + k].p;
			sl[k].n = g->ops[at + k].n;
		}
		struct wh_ingest_result r;
		if (wh_store_ingest(s, sl, n, &io, NULL, &r) != WH_OK)
			_exit(11);
		if (r.refused != 0 || r.added + r.known != n)
			_exit(12);
		uint64_t done = ends[j];
		if (write(fd, &done, sizeof done) != (ssize_t)sizeof done)
			_exit(13);
		at = ends[j];
	}
	wh_store_close(s);
	_exit(0);
}

/* Every case of the store equals the fold of its ops in the prefix. */
static size_t views_vs_fold(struct wh_store *s, struct gen *g,
			    const uint8_t *mask)
{
	struct wh_buf want = {0}, got = {0};
	size_t bad = 0;
	for (int ci = 0; ci < g->ncases; ci++) {
		struct wh_case c, sc;
		size_t n = gen_fold(g, ci, mask, g->nops, &c, NULL);
		int rc = wh_store_case_get(s, g->cases[ci].code,
					   g->cases[ci].seq, &sc);
		if (n == 0) {
			bad += rc != WH_ENOTFOUND;
		} else if (rc != WH_OK) {
			bad++;
		} else {
			wh_buf_reset(&want);
			wh_buf_reset(&got);
			wh_case_encode(&c, &want);
			wh_case_encode(&sc, &got);
			bad += want.len != got.len ||
			       memcmp(want.p, got.p, want.len) != 0;
		}
		if (rc == WH_OK)
			wh_case_fini(&sc);
		wh_case_fini(&c);
	}
	wh_buf_fini(&want);
	wh_buf_fini(&got);
	return bad;
}

struct tally {
	size_t killed, finished, unreported_commit, max_round, kills_at_open;
	/* Kills land up to this long after the start; it doubles after
	 * four rounds in a row that committed nothing, so a machine slowed by sanitizers
	 * or load still sees kills among the commits. */
	unsigned delay_max_us;
};

/* One round: fork, kill, check. Returns the new committed count. */
static size_t round_(const char *dir, const char *mirror, struct gen *g,
		     size_t m, uint64_t *rng, uint8_t *mask, struct tally *t)
{
	size_t *ends = wh_xmalloc((g->nops - m + 1) * sizeof *ends);
	size_t nb = 0;
	for (size_t at = m; at < g->nops;) {
		size_t b = 1 + (size_t)wh_test_below(rng, MAX_BATCH);
		at = at + b > g->nops ? g->nops : at + b;
		ends[nb++] = at;
	}
	unsigned delay_us = (unsigned)wh_test_below(rng, t->delay_max_us + 1);
	int after_open = wh_test_below(rng, 2) == 0;

	int fds[2];
	REQUIRE(pipe(fds) == 0);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		child(dir, g, m, ends, nb, fds[1]);
	}
	close(fds[1]);
	/* Every other round the clock starts when the store is open, so
	 * that kills land among the commits and not only in open. */
	size_t opened = 0;
	uint64_t v;
	struct timespec t_start, t_kill;
	clock_gettime(CLOCK_MONOTONIC, &t_start);
	if (after_open) {
		struct pollfd pfd = {fds[0], POLLIN, 0};
		if (poll(&pfd, 1, 5000) == 1 &&
		    read(fds[0], &v, sizeof v) == (ssize_t)sizeof v) {
			CHECK(v == OPENED);
			opened = 1;
		}
	}
	struct timespec ts = {0, (long)delay_us * 1000};
	nanosleep(&ts, NULL);
	kill(pid, SIGKILL);
	clock_gettime(CLOCK_MONOTONIC, &t_kill);
	int status = 0;
	REQUIRE(waitpid(pid, &status, 0) == pid);
	size_t reported = m, nrep = 0;
	while (read(fds[0], &v, sizeof v) == (ssize_t)sizeof v) {
		if (v == OPENED) {
			CHECK(!opened && nrep == 0);
			opened = 1;
			continue;
		}
		CHECK(opened);
		CHECK(v > reported);
		reported = (size_t)v;
		nrep++;
	}
	close(fds[0]);
	if (getenv("CRASH_DEBUG"))
		fprintf(stderr,
			"round: %s, killed after %.1f ms: %s, %zu reports\n",
			after_open ? "after open" : "from fork",
			1e3 *
			    ((double)(t_kill.tv_sec - t_start.tv_sec) +
			     (double)(t_kill.tv_nsec - t_start.tv_nsec) / 1e9),
			opened ? "open" : "not open", nrep);
	if (WIFEXITED(status)) {
		if (WEXITSTATUS(status) != 0)
			fprintf(stderr, "child failed with exit code %d\n",
				WEXITSTATUS(status));
		CHECK_EQ(WEXITSTATUS(status), 0);
		CHECK_EQ(reported, g->nops);
		t->finished++;
	} else {
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		t->killed++;
	}

	/* What the store holds now. */
	struct wh_store *s;
	struct wh_store_opts o = {0};
	REQUIRE(wh_store_open(dir, &o, &s) == WH_OK);
	struct wh_store_info info;
	REQUIRE(wh_store_info(s, &info) == WH_OK);
	size_t got = (size_t)info.ops;
	size_t next = reported;
	for (size_t j = 0; j < nb; j++)
		if (ends[j] > reported) {
			next = ends[j];
			break;
		}
	if (got != reported && got != next) {
		fprintf(stderr,
			"store holds %zu ops; reported %zu, next batch end "
			"%zu\n",
			got, reported, next);
		CHECK(0);
	}
	if (got == next && next != reported)
		t->unreported_commit++;
	if (!opened)
		t->kills_at_open++;
	if (got - m > t->max_round)
		t->max_round = got - m;
	if (got > g->nops)
		got = g->nops;

	/* exactly the prefix: all of it, nothing after it */
	size_t missing = 0, extra = 0;
	uint64_t bytes = 0;
	wh_hlc_ts hmax = 0;
	struct gen_digest dg = {0};
	for (size_t i = 0; i < got; i++) {
		uint8_t id[WH_ID_BYTES];
		wh_op_id(g->ops[i].p, g->ops[i].n, id);
		missing += wh_store_has_op(s, id) != WH_OK;
		bytes += g->ops[i].n;
		if (g->ops[i].op.hlc > hmax)
			hmax = g->ops[i].op.hlc;
		gen_digest_add(&dg, id);
	}
	for (size_t i = got; i < g->nops && i < got + 2 * MAX_BATCH; i++) {
		uint8_t id[WH_ID_BYTES];
		wh_op_id(g->ops[i].p, g->ops[i].n, id);
		extra += wh_store_has_op(s, id) != WH_ENOTFOUND;
	}
	CHECK_EQ(missing, 0);
	CHECK_EQ(extra, 0);
	CHECK_EQ(info.op_bytes, bytes);
	CHECK(info.hlc_max == hmax);
	uint8_t d[WH_ID_BYTES], want_d[WH_ID_BYTES];
	uint64_t cnt;
	REQUIRE(wh_store_digest(s, NULL, d, &cnt) == WH_OK);
	gen_digest_final(&dg, want_d);
	CHECK_EQ(cnt, got);
	CHECK(!memcmp(d, want_d, WH_ID_BYTES));

	/* views: the fold of the prefix, the mirror, and a rebuild */
	memset(mask, 0, g->nops);
	memset(mask, 1, got);
	CHECK_EQ(views_vs_fold(s, g, mask), 0);
	struct gen_snap sn, sm, sr;
	gen_snap(s, &sn);
	struct wh_store *ms;
	struct wh_store_opts mo = {0};
	mo.nosync = 1;
	REQUIRE(wh_store_open(mirror, &mo, &ms) == WH_OK);
	if (got > m) {
		struct wh_slice *sl = wh_xmalloc((got - m) * sizeof *sl);
		for (size_t i = m; i < got; i++) {
			sl[i - m].p = g->ops[i].p;
			sl[i - m].n = g->ops[i].n;
		}
		struct wh_ingest_opts io = {.now_ms = NOW_MS};
		struct wh_ingest_result r;
		CHECK_EQ(wh_store_ingest(ms, sl, got - m, &io, NULL, &r),
			 WH_OK);
		CHECK_EQ(r.added, got - m);
		free(sl);
	}
	gen_snap(ms, &sm);
	wh_store_close(ms);
	CHECK(gen_snap_eq(&sm, &sn, "crashed store vs mirror"));
	CHECK_EQ(wh_store_rebuild(s), WH_OK);
	gen_snap(s, &sr);
	CHECK(gen_snap_eq(&sn, &sr, "crashed store vs its rebuild"));
	wh_store_close(s);
	free(ends);
	return got;
}

int main(void)
{
	uint64_t seed = wh_test_seed("test_crash");
	REQUIRE(wh_crypto_init() == WH_OK);
	int quick = getenv("WH_QUICK") != NULL;
	int rounds = quick ? 16 : 40;
	size_t nops = quick ? 2500 : 8000;
	double budget = quick ? 40.0 : 50.0;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t rng = seed;

	struct gen g;
	gen_init(&g, wh_test_rand(&rng), 5, 150);
	g.broken_pct = 5;
	gen_history(&g, nops);
	printf("history: %zu ops in %d cases (%.1f s)\n", g.nops, g.ncases,
	       elapsed(&t0));

	char dir[4096], mirror[4096];
	gen_tmpdir(dir, sizeof dir, "crash");
	gen_tmpdir(mirror, sizeof mirror, "crash-mirror");
	uint8_t *mask = wh_xmalloc(g.nops);
	struct tally t = {.delay_max_us = 30000};
	int dry = 0; /* rounds in a row that committed nothing */
	size_t m = 0;
	int r;
	for (r = 0; r < rounds; r++) {
		size_t fails = (size_t)wh_test_failures;
		size_t got = round_(dir, mirror, &g, m, &rng, mask, &t);
		CHECK(got >= m);
		dry = got == m ? dry + 1 : 0;
		if (dry >= 4 && t.delay_max_us < 2000000) {
			t.delay_max_us *= 2;
			dry = 0;
		}
		m = got;
		if ((size_t)wh_test_failures != fails) {
			fprintf(stderr, "round %d failed\n", r);
			break;
		}
		if (elapsed(&t0) > budget)
			break;
	}
	printf("%d rounds: %zu killed, %zu ran to the end, %zu kills "
	       "before the store was open, %zu kills between a commit and its "
	       "report; %zu of %zu ops committed, up to %zu in one round; "
	       "kills within %.0f ms (%.1f s)\n",
	       r < rounds ? r + 1 : r, t.killed, t.finished, t.kills_at_open,
	       t.unreported_commit, m, g.nops, t.max_round,
	       t.delay_max_us / 1000.0, elapsed(&t0));
	/* and a fresh store given exactly the ops the crashed one holds, in
	 * one go, holds the same */
	struct wh_store *s, *f;
	struct wh_store_opts o = {0};
	char fresh[4096];
	gen_tmpdir(fresh, sizeof fresh, "crash-fresh");
	REQUIRE(wh_store_open(dir, &o, &s) == WH_OK);
	o.nosync = 1;
	REQUIRE(wh_store_open(fresh, &o, &f) == WH_OK);
	struct wh_slice *sl = wh_xmalloc((m + 1) * sizeof *sl);
	for (size_t i = 0; i < m; i++) {
		sl[i].p = g.ops[i].p;
		sl[i].n = g.ops[i].n;
	}
	struct wh_ingest_opts io = {.now_ms = NOW_MS};
	struct wh_ingest_result res;
	CHECK_EQ(wh_store_ingest(f, sl, m, &io, NULL, &res), WH_OK);
	CHECK_EQ(res.added, m);
	struct gen_snap sa, sb;
	gen_snap(s, &sa);
	gen_snap(f, &sb);
	CHECK(gen_snap_eq(&sa, &sb, "crashed store vs fresh store"));
	wh_store_close(s);
	wh_store_close(f);
	free(sl);
	gen_rmrf(fresh);
	/* the kills must have landed mid-run */
	CHECK(t.killed > 0);
	CHECK(m > 0);
	free(mask);
	gen_fini(&g);
	gen_rmrf(dir);
	gen_rmrf(mirror);
	return wh_test_done("test_crash");
}
