/*
 * test_store_prune.c: wh_store_cases_drop. After dropping a random set
 * of cases, a store is the same (views, every scope's digest, counts) as
 * one that only ever ingested the other cases' ops; attachment content
 * of the dropped cases goes and the kept cases' stays; a case that
 * reached keep_scope, or got an op after keep_after, is kept whatever
 * the caller asked; documents are refused; a failed commit changes
 * nothing; the dropped ops can be taken in again.
 */
#include "test_store_util.h"

static struct wh_key *k1, *k2;

#define NCASES 24
static const char *const places[] = {
	"xicheng/xinjiekou/a", "xicheng/xinjiekou/b", "xicheng/xinjiekou/c",
	"xicheng/shichahai/d"};
#define HOME "xicheng/xinjiekou/b"
static const char *const scopes[] = {
	NULL, "xicheng", "xicheng/xinjiekou", "xicheng/xinjiekou/a",
	HOME, "xicheng/shichahai"};
#define NSCOPES (sizeof scopes / sizeof scopes[0])

static uint64_t rng;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

struct world {
	struct t_ops o;
	uint32_t case_of[512]; /* 0: a document */
	uint8_t photo_of[NCASES + 1][WH_ID_BYTES];
	uint8_t *photo[NCASES + 1];
	size_t photo_n[NCASES + 1];
	int reached_home[NCASES + 1];
};

static void add(struct world *w, struct wh_op_draft *d, uint32_t seq,
		wh_hlc_ts hlc)
{
	size_t i = t_build(&w->o, d, seq % 2 ? k1 : k2, hlc);
	REQUIRE(i < 512);
	w->case_of[i] = seq;
}

/* Cases in random places, some moved (one into HOME), some with a
 * photo, some with notes; and a problem list. */
static void make_world(struct world *w)
{
	memset(w, 0, sizeof *w);
	struct wh_op_draft d;
	uint32_t t = 0;
	wh_draft_init(&d, WH_OP_CASE_NOTE, "~PL", 1, "xicheng");
	wh_draft_str(&d, WH_F_TEXT, "城管 2h");
	add(w, &d, 0, WH_HLC_MAKE(T_NOW - 900000, 0));
	for (uint32_t c = 1; c <= NCASES; c++) {
		const char *at = places[rnd(4)];
		w->reached_home[c] = !strcmp(at, HOME);
		wh_draft_init(&d, WH_OP_CASE_CREATE, "XJK", c, at);
		wh_draft_str(&d, WH_F_TITLE, "积水");
		add(w, &d, c, WH_HLC_MAKE(T_NOW - 800000 + ++t * 1000, 0));
		for (uint32_t k = rnd(4); k; k--) {
			wh_draft_init(&d, WH_OP_CASE_NOTE, "XJK", c, at);
			wh_draft_str(&d, WH_F_TEXT, "已联系");
			add(w, &d, c, WH_HLC_MAKE(T_NOW - 800000 + ++t * 1000, 0));
		}
		if (rnd(3) == 0) {
			size_t n = 2000 + rnd(3000);
			w->photo[c] = wh_xmalloc(n);
			for (size_t i = 0; i < n; i++)
				w->photo[c][i] = (uint8_t)(rnd(256));
			w->photo_n[c] = n;
			wh_hash(w->photo[c], n, w->photo_of[c]);
			wh_draft_init(&d, WH_OP_ATTACH, "XJK", c, at);
			wh_draft_bin(&d, WH_F_BLOB, w->photo_of[c],
				     WH_ID_BYTES);
			wh_draft_uint(&d, WH_F_SIZE, n);
			wh_draft_str(&d, WH_F_MIME, "image/jpeg");
			wh_draft_uint(&d, WH_F_SEEN, 0);
			add(w, &d, c, WH_HLC_MAKE(T_NOW - 800000 + ++t * 1000, 0));
		}
		if (rnd(5) == 0) {
			const char *to = places[rnd(4)];
			w->reached_home[c] |= !strcmp(to, HOME);
			wh_draft_init(&d, WH_OP_CASE_MOVE, "XJK", c, at);
			wh_draft_str(&d, WH_F_NEW_PATH, to);
			add(w, &d, c, WH_HLC_MAKE(T_NOW - 800000 + ++t * 1000, 0));
		}
	}
}

static void put_photos(struct wh_store *s, const struct world *w,
		       const uint8_t *skip)
{
	for (uint32_t c = 1; c <= NCASES; c++)
		if (w->photo[c] && !(skip && skip[c]))
			REQUIRE(wh_store_blob_put(s, w->photo[c], w->photo_n[c],
						  NULL) == WH_OK);
}

struct snap {
	struct t_state st;
	uint8_t d[NSCOPES][32];
	uint64_t c[NSCOPES];
	struct wh_store_info info;
};

static void snap(struct wh_store *s, struct snap *sn)
{
	memset(sn, 0, sizeof *sn);
	sn->st = t_state_of(s);
	for (size_t i = 0; i < NSCOPES; i++)
		REQUIRE(wh_store_digest(s, scopes[i], sn->d[i], &sn->c[i]) ==
			WH_OK);
	REQUIRE(wh_store_info(s, &sn->info) == WH_OK);
}

static int snap_eq(const struct snap *a, const struct snap *b)
{
	return t_state_eq(&a->st, &b->st) && !memcmp(a->d, b->d, sizeof a->d) &&
	       !memcmp(a->c, b->c, sizeof a->c) &&
	       a->info.ops == b->info.ops && a->info.cases == b->info.cases &&
	       a->info.op_bytes == b->info.op_bytes;
}

static int has_blob(struct wh_store *s, const uint8_t *h)
{
	struct wh_buf b = {0};
	int rc = wh_store_blob_get(s, h, 0, 1, &b, NULL);
	wh_buf_fini(&b);
	return rc == WH_OK;
}

static struct wh_store *fresh(const char *tag, char dir[512], uint64_t fail)
{
	t_tmpdir(dir, tag);
	return t_open(dir, 0, fail);
}

int main(void)
{
	REQUIRE(wh_crypto_init() == WH_OK);
	REQUIRE(wh_key_generate(&k1) == WH_OK);
	REQUIRE(wh_key_generate(&k2) == WH_OK);
	rng = wh_test_seed("test_store_prune") | 1;

	for (int round = 0; round < 6; round++) {
		struct world w;
		make_world(&w);
		char dir[512], dir2[512];
		struct wh_store *s = fresh("prune", dir, 0);
		CHECK_EQ(t_ingest(s, &w.o, NULL, w.o.n, 7), w.o.n);
		put_photos(s, &w, NULL);

		/* Ask for a random half; those that reached HOME stay. */
		struct wh_case_ref ask[NCASES + 1];
		uint8_t gone[NCASES + 1] = {0};
		size_t nask = 0, want_kept = 0, want_gone = 0;
		for (uint32_t c = 1; c <= NCASES; c++) {
			if (rnd(2))
				continue;
			snprintf(ask[nask].code, sizeof ask[nask].code, "XJK");
			ask[nask++].seq = c;
			gone[c] = !w.reached_home[c];
			want_kept += w.reached_home[c];
			want_gone += gone[c];
		}
		if (nask) /* the same case twice counts once */
			ask[nask++] = ask[0];
		struct wh_store_drop_result r;
		REQUIRE(wh_store_cases_drop(s, ask, nask, HOME, 0, &r) == WH_OK);
		CHECK_EQ(r.cases, want_gone);
		CHECK_EQ(r.kept_reached, want_kept + (nask && !gone[ask[0].seq]));
		CHECK_EQ(r.kept_newer, 0);

		/* The same as a store that never had them. */
		size_t idx[512], n = 0, want_ops = 0;
		for (size_t i = 0; i < w.o.n; i++)
			if (!gone[w.case_of[i]])
				idx[n++] = i;
			else
				want_ops++;
		CHECK_EQ(r.ops, want_ops);
		struct wh_store *s2 = fresh("prune-ref", dir2, 0);
		CHECK_EQ(t_ingest(s2, &w.o, idx, n, 0), n);
		put_photos(s2, &w, gone);
		struct snap a, b;
		snap(s, &a);
		snap(s2, &b);
		if (!snap_eq(&a, &b)) {
			fprintf(stderr, "round %d: pruned store differs from "
				"one that never held the cases\n", round);
			wh_test_failures++;
		}
		size_t want_blobs = 0;
		for (uint32_t c = 1; c <= NCASES; c++) {
			if (!w.photo[c])
				continue;
			want_blobs += gone[c];
			CHECK_EQ(has_blob(s, w.photo_of[c]), !gone[c]);
			struct wh_case v;
			int rc = wh_store_case_get(s, "XJK", c, &v);
			CHECK_EQ(rc, gone[c] ? WH_ENOTFOUND : WH_OK);
			if (rc == WH_OK)
				wh_case_fini(&v);
		}
		CHECK_EQ(r.blobs, want_blobs);

		/* Taken in again, they are as before. */
		CHECK_EQ(t_ingest(s, &w.o, NULL, w.o.n, 0), want_ops);
		struct wh_store *s3 = fresh("prune-all", dir2, 0);
		CHECK_EQ(t_ingest(s3, &w.o, NULL, w.o.n, 0), w.o.n);
		snap(s, &a);
		snap(s3, &b);
		CHECK(snap_eq(&a, &b));
		wh_store_close(s3);
		wh_store_close(s2);

		/* An op that arrived after keep_after keeps its case. */
		uint64_t pos = 0;
		REQUIRE(wh_store_log_last(s, &pos) == WH_OK);
		struct wh_op_draft d;
		uint32_t late = 0;
		for (uint32_t c = 1; c <= NCASES && !late; c++)
			if (!w.reached_home[c])
				late = c;
		if (late) {
			struct t_ops more = {0};
			wh_draft_init(&d, WH_OP_CASE_NOTE, "XJK", late,
				      places[0]);
			wh_draft_str(&d, WH_F_TEXT, "后到");
			t_build(&more, &d, k1, WH_HLC_MAKE(T_NOW - 1000, 0));
			CHECK_EQ(t_ingest(s, &more, NULL, 1, 0), 1);
			struct wh_case_ref one = {"XJK", late};
			REQUIRE(wh_store_cases_drop(s, &one, 1, HOME, pos, &r) ==
				WH_OK);
			CHECK_EQ(r.cases, 0);
			CHECK_EQ(r.kept_newer, 1);
			REQUIRE(wh_store_log_last(s, &pos) == WH_OK);
			REQUIRE(wh_store_cases_drop(s, &one, 1, HOME, pos, &r) ==
				WH_OK);
			CHECK_EQ(r.cases, 1);
			t_ops_free(&more);
		}
		wh_store_close(s);
		t_rmdir(dir);
		for (uint32_t c = 1; c <= NCASES; c++)
			free(w.photo[c]);
		t_ops_free(&w.o);
	}

	/* Documents are never dropped; bad arguments; a failed commit. */
	struct world w;
	make_world(&w);
	char dir[512];
	struct wh_store *s = fresh("prune-bad", dir, 2);
	CHECK_EQ(t_ingest(s, &w.o, NULL, w.o.n, 0), w.o.n); /* commit 1 */
	struct snap before, after;
	snap(s, &before);
	struct wh_case_ref doc = {"~PL", 1}, zero = {"XJK", 0},
			   all[NCASES];
	CHECK_EQ(wh_store_cases_drop(s, &doc, 1, "", 0, NULL), WH_EINVAL);
	CHECK_EQ(wh_store_cases_drop(s, &zero, 1, "", 0, NULL), WH_EINVAL);
	CHECK_EQ(wh_store_cases_drop(s, &zero, 0, "x//y", 0, NULL), WH_EINVAL);
	for (uint32_t c = 1; c <= NCASES; c++)
		all[c - 1] = (struct wh_case_ref){"XJK", c};
	struct wh_store_drop_result r = {.cases = 9};
	CHECK_EQ(wh_store_cases_drop(s, all, NCASES, "", 0, &r), WH_EFAULT);
	CHECK_EQ(r.cases, 0);
	snap(s, &after);
	CHECK(snap_eq(&before, &after));
	/* And with no commit failing, all of them go; the document stays. */
	CHECK_EQ(wh_store_cases_drop(s, all, NCASES, "", 0, &r), WH_OK);
	CHECK_EQ(r.cases, NCASES);
	struct wh_store_info info;
	REQUIRE(wh_store_info(s, &info) == WH_OK);
	CHECK_EQ(info.ops, 1);
	CHECK_EQ(info.cases, 0);
	wh_store_close(s);
	t_rmdir(dir);
	for (uint32_t c = 1; c <= NCASES; c++)
		free(w.photo[c]);
	t_ops_free(&w.o);
	return wh_test_done("test_store_prune");
}
