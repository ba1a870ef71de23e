/*
 * bench/sync.c: what reconciliation costs on the wire and in time. Two
 * in-process stores (nosync) and two sync sessions joined by the
 * in-memory queue of tests/integration/sync_harness.h: no sockets, no
 * CURVE, so the figures are protocol bytes and CPU time only. A "flight"
 * is one one-way delivery of everything queued; a round trip is two.
 *
 *   (a) n ops on each side (default 100,000) and d = 0, 10, 1000, 10000
 *       differences, split at random between the two sides, clustered
 *       among the newest ops or scattered through history: bytes each
 *       way, round trips, wall time, the bytes of the d differing ops
 *       and the ratio wire/ops (aims: d=0 one round trip < 1 KiB;
 *       clustered <= 1.15 at d >= 1000; scattered <= 2.0);
 *   (b) W1: 10,000 cases x (create + 4 updates) = 50,000 ops from a
 *       station into an empty one (aims <= 2 s, <= 7 MB);
 *   (c) W2: then each side updates 100 different cases while apart and
 *       they sync both ways (aims <= 50 ms, <= 40 KB);
 *   (d) full initial sync of n ops into an empty store, ops/s, against
 *       wh_store_ingest of the same ops into an empty store in this run
 *       (aim >= 80%).
 *
 * Usage: sync [--quick] [--ops N]. Not a test: it prints and exits 0
 * (2 on a usage error).
 */
#include "integration/sync_harness.h"

#include <fcntl.h>
#include <time.h>

#define PATH "xicheng/xinjiekou/zhaodengyu"
#define DMAX 10000u

static const char cjk[] =
    "楼道堆物堵塞消防通道小区门口占道经营老旧加装电梯居住停车位不足夜间乱"
    "房屋中介违规人行物业管理垃圾满溢煤改电设备故障冬季取暖困难违法建设顶"
    "盖彩钢开墙打洞经营餐饮井盖缺失路灯损坏噪音扰民油烟排放污水外溢绿化带";
#define NCJK ((sizeof cjk - 1) / 3)
static const char *const grids[] = {PATH "/g01", PATH "/g02", PATH "/g07",
				    PATH "/g11"};

static uint64_t rng = 12345;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void cjk_text(char *out, size_t chars)
{
	for (size_t i = 0; i < chars; i++)
		memcpy(out + 3 * i, cjk + 3 * wh_test_below(&rng, NCJK), 3);
	out[3 * chars] = '\0';
}

/* W1 cases: create (title 40, description 120 CJK characters, category,
 * grid path, priority, reporter) + status in_progress, a department in
 * the parties set, status resolved, and a field set as a rating stand-in.
 * Authored into nd's store, 200 cases per transaction. */
static void author_w1(struct sh_node *nd, const char *code, size_t ncases)
{
	enum { PER = 200 };
	struct wh_op_draft *d = wh_xmalloc(PER * 5 * sizeof *d);
	static char title[PER][40 * 3 + 1], desc[PER][120 * 3 + 1];
	for (size_t c0 = 0; c0 < ncases; c0 += PER) {
		size_t k = 0, nc = ncases - c0 < PER ? ncases - c0 : PER;
		for (size_t c = 0; c < nc; c++) {
			const char *grid = grids[wh_test_below(&rng, 4)];
			cjk_text(title[c], 40);
			cjk_text(desc[c], 120);
			wh_draft_init(&d[k], WH_OP_CASE_CREATE, code, 0, grid);
			wh_draft_str(&d[k], WH_F_TITLE, title[c]);
			wh_draft_str(&d[k], WH_F_DESCRIPTION, desc[c]);
			wh_draft_str(&d[k], WH_F_CATEGORY, "消防隐患");
			wh_draft_uint(&d[k], WH_F_PRIORITY, 1);
			wh_draft_str(&d[k], WH_F_REPORTER, "王女士");
			k++;
			wh_draft_init(&d[k], WH_OP_CASE_STATUS, code, 0, grid);
			wh_draft_uint(&d[k], WH_F_FROM, 0);
			wh_draft_uint(&d[k], WH_F_TO, 2);
			k++;
			wh_draft_init(&d[k], WH_OP_TAG_ADD, code, 0, grid);
			wh_draft_uint(&d[k], WH_F_SET, 1);
			wh_draft_str(&d[k], WH_F_TAG, "城管执法队");
			k++;
			wh_draft_init(&d[k], WH_OP_CASE_STATUS, code, 0, grid);
			wh_draft_uint(&d[k], WH_F_FROM, 2);
			wh_draft_uint(&d[k], WH_F_TO, 3);
			k++;
			wh_draft_init(&d[k], WH_OP_CASE_SET, code, 0, grid);
			wh_draft_str(&d[k], WH_F_EXTREF, "rating:5");
			k++;
		}
		REQUIRE(wh_store_author(nd->st, nd->key, d, k, sh_clock, NULL,
					NULL, NULL) == WH_OK);
	}
	free(d);
}

/* 'n' status updates (resolved -> closed) by nd to cases code-(first..first+n). */
static void author_updates(struct sh_node *nd, const char *code,
			   uint32_t first, size_t n)
{
	struct wh_op_draft *d = wh_xmalloc(n * sizeof *d);
	for (size_t i = 0; i < n; i++) {
		wh_draft_init(&d[i], WH_OP_CASE_STATUS, code,
			      first + (uint32_t)i, grids[i % 4]);
		wh_draft_uint(&d[i], WH_F_FROM, 3);
		wh_draft_uint(&d[i], WH_F_TO, 4);
	}
	REQUIRE(wh_store_author(nd->st, nd->key, d, n, sh_clock, NULL, NULL,
				NULL) == WH_OK);
	free(d);
}

static void copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY), out;
	REQUIRE(in >= 0);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	REQUIRE(out >= 0);
	static char buf[1 << 20];
	ssize_t r;
	while ((r = read(in, buf, sizeof buf)) > 0)
		REQUIRE(write(out, buf, (size_t)r) == r);
	close(in);
	close(out);
}

/* A node whose store starts as a copy of the closed store in dir. */
static void node_from(struct sh_node *n, const char *dir)
{
	char a[4200], b[4200];
	memset(n, 0, sizeof *n);
	sh_tmpdir(n->dir, sizeof n->dir, "bsync");
	snprintf(a, sizeof a, "%s/data.mdb", dir);
	snprintf(b, sizeof b, "%s/data.mdb", n->dir);
	copy_file(a, b);
	struct wh_store_opts o = {.nosync = 1};
	REQUIRE(wh_store_open(n->dir, &o, &n->st) == WH_OK);
	REQUIRE(wh_key_generate(&n->key) == WH_OK);
	n->path = PATH;
	n->role = WH_ROLE_STATION;
}

struct result {
	uint64_t ab, ba;
	int flights;
	double secs;
};

static void run_link(struct sh_node *x, struct sh_node *y, struct result *r)
{
	struct sh_link l;
	sh_link_init(&l, x, y, rng);
	double t0 = now_s();
	sh_start(&l);
	r->flights = sh_pump(&l);
	r->secs = now_s() - t0;
	r->ab = l.a.bytes;
	r->ba = l.b.bytes;
	struct wh_sync_state sa, sb;
	wh_sync_get_state(l.a.s, &sa);
	wh_sync_get_state(l.b.s, &sb);
	if (!sa.in_sync || !sb.in_sync || !sh_same_digest(x->st, y->st, PATH))
		printf("  !! did not converge\n");
	sh_link_fini(&l);
}

static void close_node(struct sh_node *n)
{
	sh_node_close(n);
}

int main(int argc, char **argv)
{
	size_t n = 100000;
	int quick = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			quick = 1;
		else if (!strcmp(argv[i], "--ops") && i + 1 < argc)
			n = (size_t)strtoull(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: sync [--quick] [--ops N]\n");
			return 2;
		}
	}
	if (quick)
		n = 10000;
	size_t dmax = quick ? 1000 : DMAX;
	REQUIRE(wh_crypto_init() == WH_OK);
	printf("sync bench: two in-process stores (nosync), sessions joined by "
	       "an in-memory queue (no sockets, no CURVE)\n");

	/* The pool: n + dmax ops in time order, W1 mix. */
	double t0 = now_s();
	struct sh_node origin;
	sh_node_open(&origin, PATH, WH_ROLE_STATION, NULL);
	author_w1(&origin, "XJK-ZDY", (n + dmax) / 5);
	struct wh_buf dump = {0};
	struct wh_slice *v;
	sh_dump(origin.st, NULL, &dump);
	size_t nv = sh_slices(&dump, &v);
	close_node(&origin);
	printf("pool: %zu signed ops made in %.1f s\n", nv, now_s() - t0);
	if (nv < n + dmax)
		n = nv - dmax;

	/* Base stores: clustered = the first n; scattered = the first n
	 * less dmax of them picked at random (held back in 'held'). */
	size_t *held = wh_xmalloc(dmax * sizeof *held);
	uint8_t *is_held = wh_xcalloc(n, 1);
	for (size_t k = 0; k < dmax;) {
		size_t i = (size_t)wh_test_below(&rng, n);
		if (!is_held[i]) {
			is_held[i] = 1;
			held[k++] = i;
		}
	}
	struct sh_node bc, bs, empty;
	sh_node_open(&bc, PATH, WH_ROLE_STATION, NULL);
	sh_node_open(&bs, PATH, WH_ROLE_STATION, NULL);
	t0 = now_s();
	sh_ingest_all(bc.st, v, n);
	double raw = now_s() - t0;
	struct wh_slice *vs = wh_xmalloc(n * sizeof *vs);
	size_t nvs = 0;
	for (size_t i = 0; i < n; i++)
		if (!is_held[i])
			vs[nvs++] = v[i];
	sh_ingest_all(bs.st, vs, nvs);
	free(vs);
	uint64_t pool_bytes = 0;
	for (size_t i = 0; i < n; i++)
		pool_bytes += v[i].n;
	printf("store raw ingest (wh_store_ingest, batches of 1000, nosync): "
	       "%zu ops in %.2f s = %.0f ops/s; %.1f MB of ops\n",
	       n, raw, (double)n / raw, (double)pool_bytes / 1e6);
	wh_store_close(bc.st);
	wh_store_close(bs.st);
	bc.st = bs.st = NULL;

	printf("\n(a) n = %zu ops per side, d differences split at random "
	       "between the sides\n",
	       n);
	printf("%-10s %6s %10s %10s %6s %9s %10s %6s\n", "kind", "d",
	       "bytes a>b", "bytes b>a", "RT", "ms", "d-op bytes", "ratio");
	static const size_t ds[] = {0, 10, 1000, 10000};
	for (int scattered = 0; scattered < 2; scattered++)
		for (size_t k = 0; k < sizeof ds / sizeof ds[0]; k++) {
			size_t d = ds[k];
			if (d > dmax)
				continue;
			struct sh_node x, y;
			node_from(&x, scattered ? bs.dir : bc.dir);
			node_from(&y, scattered ? bs.dir : bc.dir);
			/* the d ops: newest extras, or held back from history;
			 * each goes to one side only; the other held ones to
			 * both */
			uint64_t dbytes = 0;
			struct wh_slice *vx = wh_xmalloc((dmax + 1) * sizeof *vx);
			struct wh_slice *vy = wh_xmalloc((dmax + 1) * sizeof *vy);
			size_t nx = 0, ny = 0;
			for (size_t i = 0; i < (scattered ? dmax : d); i++) {
				struct wh_slice op =
				    scattered ? v[held[i]] : v[n + i];
				if (i >= d) {
					vx[nx++] = op;
					vy[ny++] = op;
				} else {
					dbytes += op.n;
					if (wh_test_below(&rng, 2))
						vx[nx++] = op;
					else
						vy[ny++] = op;
				}
			}
			sh_ingest_all(x.st, vx, nx);
			sh_ingest_all(y.st, vy, ny);
			free(vx);
			free(vy);
			struct result r;
			run_link(&x, &y, &r);
			printf("%-10s %6zu %10" PRIu64 " %10" PRIu64
			       " %6.1f %9.1f %10" PRIu64 " %6.3f\n",
			       scattered ? "scattered" : "clustered", d, r.ab,
			       r.ba, r.flights / 2.0, r.secs * 1e3, dbytes,
			       dbytes ? (double)(r.ab + r.ba) / (double)dbytes
				      : 0.0);
			close_node(&x);
			close_node(&y);
		}

	/* (d) full initial sync into an empty store */
	{
		struct sh_node x;
		node_from(&x, bc.dir);
		sh_node_open(&empty, PATH, WH_ROLE_STATION, NULL);
		struct result r;
		run_link(&x, &empty, &r);
		printf("\n(d) initial sync of %zu ops into an empty store: "
		       "%.2f s = %.0f ops/s, %.1f%% of raw ingest; "
		       "%.2f MB on the wire for %.2f MB of ops\n",
		       n, r.secs, (double)n / r.secs,
		       100.0 * ((double)n / r.secs) / ((double)n / raw),
		       (double)(r.ab + r.ba) / 1e6, (double)pool_bytes / 1e6);
		close_node(&x);
		close_node(&empty);
	}
	sh_rmrf(bc.dir);
	sh_rmrf(bs.dir);
	wh_key_free(bc.key);
	wh_key_free(bs.key);

	/* (b) W1 and (c) W2 */
	{
		struct sh_node x, y;
		size_t ncases = quick ? 2000 : 10000;
		sh_node_open(&x, PATH, WH_ROLE_STATION, NULL);
		sh_node_open(&y, PATH, WH_ROLE_STATION, NULL);
		author_w1(&x, "XJK-BTS", ncases);
		struct result r;
		run_link(&x, &y, &r);
		printf("\n(b) W1: %zu ops (%zu cases) into an empty station: "
		       "%.2f s, %.2f MB on the wire (%.2f MB a>b, %.2f MB "
		       "b>a), %.1f round trips\n",
		       ncases * 5, ncases, r.secs, (r.ab + r.ba) / 1e6,
		       r.ab / 1e6, r.ba / 1e6, r.flights / 2.0);
		author_updates(&x, "XJK-BTS", 1, 100);
		author_updates(&y, "XJK-BTS", 1001, 100);
		run_link(&x, &y, &r);
		printf("(c) W2: 100 updates on each side while apart: %.1f ms, "
		       "%.1f KB on the wire (%" PRIu64 " a>b, %" PRIu64
		       " b>a), %.1f round trips\n",
		       r.secs * 1e3, (r.ab + r.ba) / 1e3, r.ab, r.ba,
		       r.flights / 2.0);
		close_node(&x);
		close_node(&y);
	}
	free(v);
	free(held);
	free(is_held);
	wh_buf_fini(&dump);
	return 0;
}
