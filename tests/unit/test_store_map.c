/*
 * test_store_map.c: the map grows from a tiny start while thousands of
 * ops go in; a second process (forked before it opens anything) grows
 * the map under a handle this process holds, which then adopts the new
 * size (MDB_MAP_RESIZED) and goes on. Also prints quick throughput
 * numbers: verify rate, ingest rate, rejecting known ops.
 */
#include "test_store_util.h"

#include <sys/wait.h>
#include <time.h>

#define TINY (256u << 10)
#define NCASES 300
#define PER_CASE 10

static struct wh_key *key;

static double secs(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* NCASES cases of PER_CASE ops under code 'code'. */
static void make_ops(struct t_ops *o, const char *code, uint32_t ncases)
{
	uint64_t ms = T_NOW - 3600000;
	for (uint32_t c = 1; c <= ncases; c++) {
		char path[64];
		snprintf(path, sizeof path, "xicheng/xinjiekou/g%02u", c % 17);
		for (int k = 0; k < PER_CASE; k++) {
			struct wh_op_draft d;
			char text[64];
			snprintf(text, sizeof text, "第%u件 第%d步", c, k);
			if (k == 0) {
				wh_draft_init(&d, WH_OP_CASE_CREATE, code, c,
					      path);
				wh_draft_str(&d, WH_F_TITLE, text);
			} else if (k % 3 == 0) {
				wh_draft_init(&d, WH_OP_CASE_SET, code, c,
					      path);
				wh_draft_str(&d, WH_F_ADDRESS, text);
			} else {
				wh_draft_init(&d, WH_OP_CASE_NOTE, code, c,
					      path);
				wh_draft_str(&d, WH_F_TEXT, text);
			}
			t_build(o, &d, key, WH_HLC_MAKE(ms++, 0));
		}
	}
}

static uint64_t count_of(struct wh_store *s)
{
	uint8_t d[32];
	uint64_t n = 0;
	REQUIRE(wh_store_digest(s, NULL, d, &n) == WH_OK);
	return n;
}

static void growth(const struct t_ops *o)
{
	char dir[512];
	t_tmpdir(dir, "map-tiny");
	struct wh_store *s = t_open(dir, TINY, 0);
	struct wh_store_info in;
	REQUIRE(wh_store_info(s, &in) == WH_OK);
	CHECK_EQ(in.map_size, TINY);
	CHECK_EQ(t_ingest(s, o, NULL, o->n, 500), o->n);
	REQUIRE(wh_store_info(s, &in) == WH_OK);
	printf("grew from %u KiB to %" PRIu64 " KiB; %" PRIu64
	       " KiB in use for %zu ops\n",
	       TINY >> 10, in.map_size >> 10, in.file_size >> 10, o->n);
	CHECK(in.map_size > TINY);
	CHECK(in.file_size > TINY && in.file_size <= in.map_size);
	CHECK_EQ(in.ops, o->n);
	CHECK_EQ(in.cases, NCASES);
	CHECK_EQ(count_of(s), o->n);
	wh_store_close(s);
	t_rmdir(dir);
}

static void two_processes(const struct t_ops *o, const struct t_ops *more)
{
	char dir[512];
	t_tmpdir(dir, "map-fork");
	struct wh_store *s = t_open(dir, TINY, 0);
	CHECK_EQ(t_ingest(s, o, NULL, 100, 0), 100);
	fflush(NULL);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		/* A fresh handle of our own: the parent's must not be used. */
		struct wh_store *c = t_open(dir, TINY, 0);
		size_t idx[500];
		for (size_t i = 100; i < o->n; i += 500) {
			size_t n = 0;
			for (size_t j = i; j < o->n && n < 500; j++)
				idx[n++] = j;
			t_ingest(c, o, idx, n, 0);
		}
		wh_store_close(c);
		_exit(wh_test_failures ? 1 : 0);
	}
	int status = 0;
	REQUIRE(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The file is now far past our map: every call must adopt the
	 * grown size before touching it. */
	struct wh_store_info in;
	REQUIRE(wh_store_info(s, &in) == WH_OK);
	CHECK(in.map_size > TINY);
	CHECK(in.file_size <= in.map_size);
	CHECK_EQ(in.ops, o->n);
	CHECK_EQ(count_of(s), o->n);
	struct wh_case c;
	REQUIRE(wh_store_case_get(s, "GROW", NCASES, &c) == WH_OK);
	CHECK_EQ(c.nops, PER_CASE);
	wh_case_fini(&c);
	CHECK_EQ(t_ingest(s, more, NULL, more->n, 0), more->n);
	CHECK_EQ(count_of(s), o->n + more->n);
	CHECK_EQ(t_ingest(s, o, NULL, o->n, 1000), 0);
	wh_store_close(s);

	/* And the other way round: the parent grew it, a reopen sees all. */
	s = t_open(dir, TINY, 0);
	CHECK_EQ(count_of(s), o->n + more->n);
	wh_store_close(s);
	t_rmdir(dir);
}

static void throughput(const struct t_ops *o)
{
	double t0 = secs();
	for (size_t i = 0; i < o->n; i++) {
		struct wh_op op;
		REQUIRE(wh_op_decode(o->b[i].p, o->b[i].len, &op) == WH_OK);
		REQUIRE(wh_op_verify(&op) == WH_OK);
	}
	double tv = secs() - t0;
	char dir[512];
	t_tmpdir(dir, "map-speed");
	struct wh_store *s = t_open(dir, 0, 0);
	t0 = secs();
	CHECK_EQ(t_ingest(s, o, NULL, o->n, 1000), o->n);
	double ti = secs() - t0;
	t0 = secs();
	CHECK_EQ(t_ingest(s, o, NULL, o->n, 1000), 0);
	double tk = secs() - t0;
	double n = (double)o->n;
	printf("decode+verify %.0f ops/s; ingest %.0f ops/s (%.0f%% of "
	       "verify, batches of 1000, nosync); known ops %.0f ops/s "
	       "(%.0fx verify)\n",
	       n / tv, n / ti, 100.0 * tv / ti, n / tk, tv / tk);
	wh_store_close(s);
	t_rmdir(dir);
}

int main(void)
{
	REQUIRE(wh_crypto_init() == WH_OK);
	REQUIRE(wh_key_generate(&key) == WH_OK);
	struct t_ops o = {0}, more = {0};
	make_ops(&o, "GROW", NCASES);
	make_ops(&more, "MORE", 20);
	growth(&o);
	two_processes(&o, &more);
	throughput(&o);
	t_ops_free(&o);
	t_ops_free(&more);
	wh_key_free(key);
	return wh_test_done("test_store_map");
}
