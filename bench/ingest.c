/*
 * bench/ingest.c: how fast a station takes in signed ops, and what that
 * costs in disk and memory. One run prints, on this core:
 *
 *   (a) Ed25519 verifies/s over ~20k pre-signed ops: the limit, since
 *       every new op must be verified;
 *   (b) signed ops ingested/s through wh_store_ingest (hash, dedupe,
 *       decode, verify, store, fold, digests), committed durably in
 *       batches of 1000, into an empty store and into the big store,
 *       each as a ratio of (a) (aim >= 0.80);
 *   (c) already-known ops refused/s, as a multiple of (a) (aim >= 20x);
 *   (d) ops authored/s through wh_store_author, durable batches of 1000;
 *   (e) store size per million ops against the raw op bytes (aim <=
 *       2.5x);
 *   (f) time to open a store of N ops and answer a first query (one case
 *       view and the root digest): aim <= 50 ms; once after asking the
 *       kernel to drop the file's cached pages, once warm;
 *   (g) heap growth per op while the second half of the N ops goes in
 *       (mallinfo2): should be about 0.
 *
 * The op mix is what a district sees: one create per case (Chinese
 * title ~40 characters, description ~120), 20 ops per case on average;
 * of all ops ~20% carry long text (the creates and title/description
 * rewrites), the rest are status steps, notes and small field changes,
 * spread over a dozen community paths, stamped in roughly time order.
 * The big store is built with nosync (only its build; every figure called
 * durable is durable).
 *
 * Usage: ingest [--ops N] [--dir D]   (N defaults to 1,000,000; D to a
 * temporary directory, removed at the end). Not a test: no asserts, it
 * reports what it measures and exits 0 (2 on a usage error).
 */
#include "case.h"
#include "key.h"
#include "mp.h"
#include "op.h"
#include "store.h"

#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BASE_MS 1790000000000ull
#define NKEYS 8
#define BATCH 1000
#define SAMPLE 20000

static const char *const codes[NKEYS] = {"XJK-ZDY", "XJK-SJF", "XJK-BTS",
					 "XJK-XJK", "SCH-DXJ", "SCH-YDS",
					 "DSM-XSJ", "JRJ-JRX"};
static const char *const paths[] = {
    "xicheng/xinjiekou/zhaodengyu/g07",	 "xicheng/xinjiekou/zhaodengyu/g02",
    "xicheng/xinjiekou/sanjianfang/g01", "xicheng/xinjiekou/baitasi/g03",
    "xicheng/xinjiekou/xisi/g05",	 "xicheng/shichahai/dongming/g11",
    "xicheng/shichahai/yandaishe/g02",	 "xicheng/desheng/xinjiekouwai/g04",
    "xicheng/jinrongjie/jinrongxiang",	 "xicheng/jinrongjie/fengsheng/g01",
    "dongcheng/jingshan/huangcheng/g03", "dongcheng/jingshan/sanyan/g06",
};
#define NPATHS (sizeof paths / sizeof paths[0])

/* Common characters of case titles and notes; picked at random. */
static const char cjk[] =
    "楼道堆物堵塞消防通道小区门口占道经营老旧加装电梯居住停车位不足夜间乱"
    "房屋中介违规人行物业管理垃圾满溢煤改电设备故障冬季取暖困难违法建设顶"
    "盖彩钢开墙打洞餐饮井盖缺失路灯损坏噪音扰民油烟排放污水外溢绿化带破坏"
    "共享单车乱放群租隐患广告牌松动树木倒伏积水漏雨供暖燃气报警居民反映";
#define NCJK ((sizeof cjk - 1) / 3)

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t *s, uint64_t n)
{
	return n ? rng_next(s) % n : 0;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "ingest: %s: %s\n", what, wh_strerror(rc));
	exit(1);
}

/* ---- the op stream ---- */

struct gcase {
	uint8_t key, path, status;
	uint32_t seq;
};

struct stream {
	uint64_t rng;
	struct wh_key *keys[NKEYS];
	uint32_t next_seq[NKEYS];
	struct gcase *cases;
	size_t ncases, cap;
	uint64_t made;
	size_t nkind[WH_OP_KIND_MAX + 1], nlong;
	char title[128 * 3 + 1], text[400 * 3 + 1];
};

static void rand_text(struct stream *st, char *out, size_t nchars)
{
	size_t o = 0;
	for (size_t i = 0; i < nchars; i++) {
		if (i > 0 && below(&st->rng, 12) == 0) {
			memcpy(out + o, "，", 3);
		} else {
			size_t c = (size_t)below(&st->rng, NCJK);
			memcpy(out + o, cjk + 3 * c, 3);
		}
		o += 3;
	}
	out[o] = '\0';
}

static void stream_init(struct stream *st, uint64_t seed, size_t nops)
{
	memset(st, 0, sizeof *st);
	st->rng = seed;
	for (int i = 0; i < NKEYS; i++) {
		int rc = wh_key_generate(&st->keys[i]);
		if (rc)
			die("key", rc);
		st->next_seq[i] = 1;
	}
	st->cap = nops / 16 + 64;
	st->cases = wh_xcalloc(st->cap, sizeof st->cases[0]);
}

static void stream_fini(struct stream *st)
{
	for (int i = 0; i < NKEYS; i++)
		wh_key_free(st->keys[i]);
	free(st->cases);
}

/* A random allowed next status, or -1 if none. */
static int next_status(struct stream *st, unsigned from)
{
	unsigned ok[WH_STATUS_MAX + 1], n = 0;
	for (unsigned to = 0; to <= WH_STATUS_MAX; to++)
		if (wh_status_allowed(from, to))
			ok[n++] = to;
	return n ? (int)ok[below(&st->rng, n)] : -1;
}

/* Fill d with the next op of the stream (strings live in st). The
 * caller sets d->hlc. Recent cases get most of the updates. */
static void stream_draft(struct stream *st, struct wh_op_draft *d, int *author)
{
	if (st->ncases == 0 || below(&st->rng, 20) == 0) {
		if (st->ncases == st->cap) {
			st->cap *= 2;
			st->cases = wh_xrealloc(st->cases,
						st->cap * sizeof st->cases[0]);
		}
		struct gcase *c = &st->cases[st->ncases++];
		c->key = (uint8_t)below(&st->rng, NKEYS);
		c->path = (uint8_t)below(&st->rng, NPATHS);
		c->status = WH_ST_NEW;
		c->seq = st->next_seq[c->key]++;
		wh_draft_init(d, WH_OP_CASE_CREATE, codes[c->key], c->seq,
			      paths[c->path]);
		rand_text(st, st->title, 36 + (size_t)below(&st->rng, 9));
		rand_text(st, st->text, 100 + (size_t)below(&st->rng, 41));
		wh_draft_str(d, WH_F_TITLE, st->title);
		wh_draft_str(d, WH_F_DESCRIPTION, st->text);
		wh_draft_uint(d, WH_F_SOURCE, below(&st->rng, 8));
		wh_draft_uint(d, WH_F_PRIORITY, below(&st->rng, 4));
		*author = c->key;
		st->nlong++;
		return;
	}
	/* a recent case, mostly: the last ~2000 */
	size_t win = st->ncases < 2000 ? st->ncases : 2000;
	struct gcase *c = &st->cases[st->ncases - 1 - below(&st->rng, win)];
	*author = (int)below(&st->rng, NKEYS);
	unsigned r = (unsigned)below(&st->rng, 100);
	int to = next_status(st, c->status);
	if (r < 16) {
		wh_draft_init(d, WH_OP_CASE_SET, codes[c->key], c->seq,
			      paths[c->path]);
		rand_text(st, st->title, 36 + (size_t)below(&st->rng, 9));
		rand_text(st, st->text, 100 + (size_t)below(&st->rng, 41));
		wh_draft_str(d, WH_F_TITLE, st->title);
		wh_draft_str(d, WH_F_DESCRIPTION, st->text);
		st->nlong++;
	} else if (r < 50 && to >= 0) {
		wh_draft_init(d, WH_OP_CASE_STATUS, codes[c->key], c->seq,
			      paths[c->path]);
		wh_draft_uint(d, WH_F_FROM, c->status);
		wh_draft_uint(d, WH_F_TO, (uint64_t)to);
		c->status = (uint8_t)to;
	} else if (r < 80) {
		wh_draft_init(d, WH_OP_CASE_NOTE, codes[c->key], c->seq,
			      paths[c->path]);
		rand_text(st, st->text, 10 + (size_t)below(&st->rng, 30));
		wh_draft_str(d, WH_F_TEXT, st->text);
	} else {
		static const char *const cats[] = {"占道经营", "物业管理",
						   "居住停车", "违法建设"};
		wh_draft_init(d, WH_OP_CASE_SET, codes[c->key], c->seq,
			      paths[c->path]);
		if (r < 90)
			wh_draft_uint(d, WH_F_PRIORITY, below(&st->rng, 4));
		else
			wh_draft_str(d, WH_F_CATEGORY,
				     cats[below(&st->rng, 4)]);
	}
}

/* The next signed op, appended to out. Stamps: 1 ms apart per op. */
static void stream_next(struct stream *st, struct wh_buf *out)
{
	struct wh_op_draft d;
	int author;
	stream_draft(st, &d, &author);
	d.hlc = WH_HLC_MAKE(BASE_MS + st->made, 0);
	int rc = wh_op_build(&d, st->keys[author], out);
	if (rc)
		die("build", rc);
	st->nkind[d.kind]++;
	st->made++;
}

/* A batch of signed ops: one buffer, slices into it. */
struct batch {
	struct wh_buf b;
	size_t off[BATCH + 1];
	struct wh_slice sl[BATCH];
	size_t n;
};

static void batch_make(struct stream *st, struct batch *bt, size_t n)
{
	wh_buf_reset(&bt->b);
	bt->n = n;
	for (size_t i = 0; i < n; i++) {
		bt->off[i] = bt->b.len;
		stream_next(st, &bt->b);
	}
	bt->off[n] = bt->b.len;
	for (size_t i = 0; i < n; i++) {
		bt->sl[i].p = bt->b.p + bt->off[i];
		bt->sl[i].n = bt->off[i + 1] - bt->off[i];
	}
}

/* ---- store helpers ---- */

static uint64_t ingest_now_ms(const struct stream *st)
{
	return BASE_MS + st->made + 86400000ull;
}

static void ingest(struct wh_store *s, const struct wh_slice *sl, size_t n,
		   uint64_t now_ms, struct wh_ingest_result *r)
{
	struct wh_ingest_opts io = {.now_ms = now_ms};
	int rc = wh_store_ingest(s, sl, n, &io, NULL, r);
	if (rc)
		die("ingest", rc);
	if (r->refused)
		die("ingest refused an op", r->first_refused_error);
}

static struct wh_store *open_store(const char *dir, int nosync)
{
	struct wh_store_opts o = {0};
	o.nosync = nosync;
	struct wh_store *s;
	mkdir(dir, 0700);
	int rc = wh_store_open(dir, &o, &s);
	if (rc)
		die(dir, rc);
	return s;
}

static int rm_one(const char *p, const struct stat *sb, int f, struct FTW *w)
{
	(void)sb;
	(void)f;
	(void)w;
	return remove(p);
}

static void rmrf(const char *dir)
{
	(void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Bytes this process handed to write(2)-family calls (/proc/self/io
 * wchar), or 0 if the kernel does not say. Not write_bytes: on this VM's
 * kernel that counts whole large folios per 4 kB page dirtied, about ten
 * times what LMDB writes. */
static uint64_t io_written(void)
{
	FILE *f = fopen("/proc/self/io", "r");
	char line[128];
	uint64_t v = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "wchar: %" SCNu64, &v) == 1)
			break;
	fclose(f);
	return v;
}

static size_t heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

/* Ask the kernel to forget the cached pages of the store's data file, so
 * that open and the first query read from disk (as far as the VM's disk
 * lets us see). */
static void drop_cache(const char *dir)
{
	char p[4200];
	snprintf(p, sizeof p, "%s/data.mdb", dir);
	int fd = open(p, O_RDONLY);
	if (fd < 0)
		return;
	(void)fdatasync(fd);
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
}

static uint64_t fixed_clock(void *ctx)
{
	return *(const uint64_t *)ctx;
}

static void usage(void)
{
	fprintf(stderr, "usage: ingest [--ops N] [--dir D]\n");
	exit(2);
}

/* ---- the measurements ---- */

struct sample {
	struct wh_buf b;
	size_t *off, n;
	struct wh_slice *sl;
};

static double bench_verify(const struct sample *sm)
{
	struct wh_op *ops = wh_xmalloc(sm->n * sizeof *ops);
	for (size_t i = 0; i < sm->n; i++)
		if (wh_op_decode(sm->sl[i].p, sm->sl[i].n, &ops[i]))
			die("decode", WH_EDECODE);
	size_t done = 0, bad = 0;
	double t0 = now_s(), t;
	do {
		for (size_t i = 0; i < sm->n; i++)
			bad += wh_sig_verify(
				   ops[i].author, ops[i].signed_part.p,
				   ops[i].signed_part.n, ops[i].sig) != WH_OK;
		done += sm->n;
		t = now_s() - t0;
	} while (t < 1.0);
	free(ops);
	if (bad)
		die("verify", WH_ESIG);
	return (double)done / t;
}

/* Ingest the sample in batches of BATCH into s; ops/s. */
static double bench_ingest(struct wh_store *s, const struct sample *sm,
			   uint64_t now_ms, size_t *added, size_t *known)
{
	double t0 = now_s();
	*added = *known = 0;
	for (size_t at = 0; at < sm->n; at += BATCH) {
		size_t n = sm->n - at < BATCH ? sm->n - at : BATCH;
		struct wh_ingest_result r;
		ingest(s, sm->sl + at, n, now_ms, &r);
		*added += r.added;
		*known += r.known;
	}
	return (double)sm->n / (now_s() - t0);
}

/* Author n ops (status steps and notes on the sample's cases, a create
 * now and then) in durable batches of BATCH; ops/s. */
static double bench_author(struct wh_store *s, struct stream *st, size_t n)
{
	struct wh_op_draft *d = wh_xcalloc(BATCH, sizeof *d);
	char(*texts)[64 * 3 + 1] = wh_xmalloc(BATCH * sizeof *texts);
	uint64_t clock_ms = ingest_now_ms(st);
	double t0 = now_s();
	for (size_t done = 0; done < n; done += BATCH) {
		for (size_t i = 0; i < BATCH; i++) {
			struct gcase *c =
			    &st->cases[below(&st->rng, st->ncases)];
			unsigned r = (unsigned)below(&st->rng, 20);
			int to = next_status(st, c->status);
			if (r == 0) {
				/* key 0 is station XJK-ZDY */
				wh_draft_init(&d[i], WH_OP_CASE_CREATE,
					      codes[0], 0, paths[c->path]);
				rand_text(st, texts[i], 40);
				wh_draft_str(&d[i], WH_F_TITLE, texts[i]);
			} else if (r < 10 && to >= 0) {
				wh_draft_init(&d[i], WH_OP_CASE_STATUS,
					      codes[c->key], c->seq,
					      paths[c->path]);
				wh_draft_uint(&d[i], WH_F_FROM, c->status);
				wh_draft_uint(&d[i], WH_F_TO, (uint64_t)to);
				c->status = (uint8_t)to;
			} else {
				wh_draft_init(&d[i], WH_OP_CASE_NOTE,
					      codes[c->key], c->seq,
					      paths[c->path]);
				rand_text(st, texts[i], 20);
				wh_draft_str(&d[i], WH_F_TEXT, texts[i]);
			}
		}
		int rc = wh_store_author(s, st->keys[0], d, BATCH, fixed_clock,
					 &clock_ms, NULL, NULL);
		if (rc)
			die("author", rc);
	}
	double rate = (double)n / (now_s() - t0);
	free(d);
	free(texts);
	return rate;
}

/* Open, read one case and the root digest; seconds. */
static double first_query(const char *dir, struct stream *st, int cold)
{
	if (cold)
		drop_cache(dir);
	double t0 = now_s();
	struct wh_store *s = open_store(dir, 0);
	const struct gcase *c = &st->cases[below(&st->rng, st->ncases)];
	struct wh_case cs;
	int rc = wh_store_case_get(s, codes[c->key], c->seq, &cs);
	if (rc)
		die("case_get", rc);
	uint8_t dg[WH_ID_BYTES];
	uint64_t cnt;
	rc = wh_store_digest(s, NULL, dg, &cnt);
	if (rc)
		die("digest", rc);
	double t = now_s() - t0;
	wh_case_fini(&cs);
	wh_store_close(s);
	return t;
}

int main(int argc, char **argv)
{
	size_t nops = 1000000;
	const char *dir_arg = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ops") && i + 1 < argc) {
			char *end;
			nops = (size_t)strtoull(argv[++i], &end, 10);
			if (*end || nops < 2 * SAMPLE)
				usage();
		} else if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
			dir_arg = argv[++i];
		} else {
			usage();
		}
	}
	if (wh_crypto_init())
		die("crypto", WH_EINVAL);
	char dir[4096], d1[4200], d2[4200];
	if (dir_arg) {
		snprintf(dir, sizeof dir, "%s", dir_arg);
		mkdir(dir, 0700);
	} else {
		snprintf(dir, sizeof dir, "/tmp/whistle-bench.XXXXXX");
		if (!mkdtemp(dir))
			die("mkdtemp", WH_EIO);
	}
	snprintf(d1, sizeof d1, "%s/small", dir);
	snprintf(d2, sizeof d2, "%s/big", dir);
	rmrf(d1);
	rmrf(d2);
	printf("whistle ingest bench: %zu ops, stores under %s\n", nops, dir);

	/* The sample: the first SAMPLE ops of a stream, kept in memory. */
	struct stream st;
	stream_init(&st, 0x5eed, SAMPLE + 20000);
	struct sample sm = {0};
	sm.n = SAMPLE;
	sm.off = wh_xmalloc((SAMPLE + 1) * sizeof *sm.off);
	sm.sl = wh_xmalloc(SAMPLE * sizeof *sm.sl);
	double t0 = now_s();
	for (size_t i = 0; i < SAMPLE; i++) {
		sm.off[i] = sm.b.len;
		stream_next(&st, &sm.b);
	}
	sm.off[SAMPLE] = sm.b.len;
	for (size_t i = 0; i < SAMPLE; i++) {
		sm.sl[i].p = sm.b.p + sm.off[i];
		sm.sl[i].n = sm.off[i + 1] - sm.off[i];
	}
	printf("signed %d ops in %.2f s (%.0f ops/s), %.0f bytes/op; mix: "
	       "%zu create, %zu set, %zu status, %zu note; %.0f%% long text\n",
	       SAMPLE, now_s() - t0, SAMPLE / (now_s() - t0),
	       (double)sm.b.len / SAMPLE, st.nkind[WH_OP_CASE_CREATE],
	       st.nkind[WH_OP_CASE_SET], st.nkind[WH_OP_CASE_STATUS],
	       st.nkind[WH_OP_CASE_NOTE], 100.0 * (double)st.nlong / SAMPLE);

	/* (a) */
	double va = bench_verify(&sm);
	printf("(a) verify limit: %.0f Ed25519 verifies/s\n", va);

	/* (b) (c) into an empty store, durable */
	struct wh_store *s1 = open_store(d1, 0);
	size_t added, known;
	uint64_t w0 = io_written();
	double vb = bench_ingest(s1, &sm, ingest_now_ms(&st), &added, &known);
	uint64_t w1 = io_written();
	printf("(b) ingest: %.0f ops/s  verify limit: %.0f/s  ratio %.2f "
	       "(aim >= 0.80)  [empty store, durable, batches of %d; %zu "
	       "added; %.0f kB written per batch]\n",
	       vb, va, vb / va, BATCH, added,
	       (double)(w1 - w0) / 1e3 / ((double)SAMPLE / BATCH));
	double vc = bench_ingest(s1, &sm, ingest_now_ms(&st), &added, &known);
	printf("(c) known ops refused: %.0f ops/s  verify limit: %.0f/s  "
	       "ratio %.1fx (aim >= 20x)  [%zu known]\n",
	       vc, va, vc / va, known);
	/* (d) */
	double vd = bench_author(s1, &st, SAMPLE);
	printf("(d) author: %.0f ops/s  [wh_store_author, durable batches of "
	       "%d: build + sign + store]\n",
	       vd, BATCH);
	wh_store_close(s1);
	rmrf(d1);
	stream_fini(&st);
	wh_buf_fini(&sm.b);
	free(sm.off);
	free(sm.sl);

	/* The big store: nops ops, built with nosync; generation is not
	 * timed. Heap measured over the second half. */
	stream_init(&st, 0xb16, nops);
	struct wh_store *s2 = open_store(d2, 1);
	struct batch *bt = wh_xcalloc(1, sizeof *bt);
	double t_ing = 0, t_gen = 0;
	size_t heap0 = 0, heap1 = 0, half = 0;
	t0 = now_s();
	for (size_t done = 0; done < nops;) {
		size_t n = nops - done < BATCH ? nops - done : BATCH;
		double a = now_s();
		batch_make(&st, bt, n);
		double b = now_s();
		struct wh_ingest_result r;
		ingest(s2, bt->sl, n, ingest_now_ms(&st), &r);
		t_ing += now_s() - b;
		t_gen += b - a;
		done += n;
		if (!heap0 && done >= nops / 2) {
			heap0 = heap_bytes();
			half = done;
		}
		if (done % 100000 < BATCH)
			fprintf(stderr, "  built %zu ops (%.0f s)\r", done,
				now_s() - t0);
	}
	heap1 = heap_bytes();
	fprintf(stderr, "\n");
	printf("built the %zu-op store: %.0f ops/s ingest with nosync, ratio "
	       "%.2f of the verify limit (%.0f s ingest, %.0f s signing not "
	       "counted); %zu cases\n",
	       nops, (double)nops / t_ing, (double)nops / t_ing / va, t_ing,
	       t_gen, st.ncases);

	/* (b') durable ingest into the big store */
	wh_store_close(s2);
	s2 = open_store(d2, 0);
	double tb = 0;
	w0 = io_written();
	for (size_t done = 0; done < SAMPLE; done += BATCH) {
		batch_make(&st, bt, BATCH);
		double a = now_s();
		struct wh_ingest_result r;
		ingest(s2, bt->sl, BATCH, ingest_now_ms(&st), &r);
		tb += now_s() - a;
	}
	double vb2 = SAMPLE / tb;
	w1 = io_written();
	printf("(b) ingest: %.0f ops/s  verify limit: %.0f/s  ratio %.2f "
	       "(aim >= 0.80)  [store of %zu ops, durable, batches of %d; "
	       "%.0f kB written per batch]\n",
	       vb2, va, vb2 / va, nops, BATCH,
	       (double)(w1 - w0) / 1e3 / ((double)SAMPLE / BATCH));

	/* (e) */
	struct wh_store_info info;
	int rc = wh_store_info(s2, &info);
	if (rc)
		die("info", rc);
	wh_store_close(s2);
	double per_m = (double)info.file_size * 1e6 / (double)info.ops;
	printf("(e) store size: %.0f MB per million ops, raw ops %.0f MB per "
	       "million: ratio %.2f (aim <= 2.5)  [%" PRIu64 " ops, %" PRIu64
	       " cases, file %.0f MB, map %.0f MB]\n",
	       per_m / 1e6,
	       (double)info.op_bytes * 1e6 / (double)info.ops / 1e6,
	       (double)info.file_size / (double)info.op_bytes, info.ops,
	       info.cases, (double)info.file_size / 1e6,
	       (double)info.map_size / 1e6);

	/* (f) */
	double fc = first_query(d2, &st, 1);
	double fw = first_query(d2, &st, 0);
	printf("(f) open + first query (case view + root digest) on %" PRIu64
	       " ops: %.1f ms after dropping the file's cache, %.1f ms warm "
	       "(aim <= 50 ms)\n",
	       info.ops, fc * 1e3, fw * 1e3);

	/* (g) */
	double per_op = ((double)heap1 - (double)heap0) / (double)(nops - half);
	printf("(g) heap growth over the second %zu ops: %+.0f bytes "
	       "(%+.3f bytes/op; heap in use %.1f MB)\n",
	       nops - half, (double)heap1 - (double)heap0, per_op,
	       (double)heap1 / 1e6);

	wh_buf_fini(&bt->b);
	free(bt);
	stream_fini(&st);
	rmrf(d2);
	if (!dir_arg)
		rmrf(dir);
	return 0;
}
