/*
 * test_store.c: the store's core promises: authored ops show up in views,
 * lists, histories and digests; the same ops ingested elsewhere give the
 * same digest and views; ingest is idempotent and order-independent;
 * all_or_none and the k-th-commit fault store nothing.
 */
#include "test_store_util.h"

static struct wh_key *k1, *k2, *k3;
static uint64_t now = T_NOW;

/* Author drafts in one call; each op lands in ops. */
static void author(struct wh_store *s, struct t_ops *ops,
		   struct wh_op_draft *d, size_t n)
{
	struct wh_buf b = {0};
	uint8_t ids[8][32];
	REQUIRE(n <= 8);
	int rc = wh_store_author(s, k1, d, n, t_clock, &now, ids, &b);
	if (rc)
		fprintf(stderr, "author: %s\n", wh_strerror(rc));
	REQUIRE(rc == WH_OK);
	/* ops_out holds the ops back to back: split by decoding. */
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		struct wh_mp r;
		wh_mp_init(&r, b.p + off, b.len - off);
		REQUIRE(wh_mp_skip(&r, 8) == WH_OK);
		size_t len = (size_t)(r.p - (b.p + off)) + WH_SIG_BYTES;
		REQUIRE(off + len <= b.len);
		t_ops_add(ops, b.p + off, len);
		uint8_t id[32];
		t_id(ops, ops->n - 1, id);
		CHECK(!memcmp(id, ids[i], 32));
		CHECK(d[i].hlc > 0);
		off += len;
	}
	CHECK_EQ(off, b.len);
	wh_buf_fini(&b);
	now += 1000;
}

static void root_digest(struct wh_store *s, uint8_t out[32], uint64_t *cnt)
{
	REQUIRE(wh_store_digest(s, NULL, out, cnt) == WH_OK);
}

struct hist {
	size_t n;
	uint8_t kinds[16];
	int hows[16];
	wh_hlc_ts last;
	int ordered;
};

static int hist_cb(void *ctx, const struct wh_op *op, enum wh_apply how)
{
	struct hist *h = ctx;
	if (h->n < 16) {
		h->kinds[h->n] = op->kind;
		h->hows[h->n] = (int)how;
	}
	if (h->n && op->hlc < h->last)
		h->ordered = 0;
	h->last = op->hlc;
	h->n++;
	return 0;
}

struct list {
	size_t n;
	uint32_t seqs[8];
};

static int list_cb(void *ctx, const struct wh_case *c)
{
	struct list *l = ctx;
	if (l->n < 8)
		l->seqs[l->n] = c->seq;
	l->n++;
	return 0;
}

static size_t list_count(struct wh_store *s, const char *scope, int status,
			 uint32_t limit, struct list *l)
{
	struct wh_case_filter f = {scope, status, limit};
	memset(l, 0, sizeof *l);
	REQUIRE(wh_store_case_list(s, &f, list_cb, l) == WH_OK);
	return l->n;
}

struct each {
	const struct t_ops *ops;
	size_t n, mismatch;
};

static int each_cb(void *ctx, const uint8_t *p, size_t n)
{
	struct each *e = ctx;
	if (e->n >= e->ops->n || e->ops->b[e->n].len != n ||
	    memcmp(e->ops->b[e->n].p, p, n))
		e->mismatch++;
	e->n++;
	return 0;
}

/* A callback may read the same store; a write there is refused. */
struct reent {
	struct wh_store *s;
	size_t n, reads_ok, writes_busy;
};

static int reent_cb(void *ctx, const uint8_t *p, size_t n)
{
	struct reent *r = ctx;
	uint8_t id[32];
	wh_op_id(p, n, id);
	struct wh_case c;
	if (wh_store_has_op(r->s, id) == WH_OK &&
	    wh_store_case_get(r->s, "XJK-ZDY", 1, &c) == WH_OK) {
		r->reads_ok++;
		wh_case_fini(&c);
	}
	struct wh_slice sl = {p, n};
	struct wh_ingest_result res;
	if (wh_store_ingest(r->s, &sl, 1, NULL, NULL, &res) == WH_EBUSY)
		r->writes_busy++;
	r->n++;
	return r->n == 3 ? 42 : 0; /* stops the walk, comes back */
}

#define G07 "xicheng/xinjiekou/zhaodengyu/g07"
#define G08 "xicheng/xinjiekou/zhaodengyu/g08"

/* The op set of test 1, authored into s. */
static void author_story(struct wh_store *s, struct t_ops *ops)
{
	uint8_t d0[32], d1[32];
	uint64_t c0, c1;
	root_digest(s, d0, &c0);
	CHECK_EQ(c0, 0);
	uint8_t empty[32];
	t_digest_of(ops, NULL, 0, empty);
	CHECK(!memcmp(d0, empty, 32));

	struct wh_op_draft d[2];
	wh_draft_init(&d[0], WH_OP_CASE_CREATE, "XJK-ZDY", 0, G07);
	wh_draft_str(&d[0], WH_F_TITLE, "楼道堆物");
	wh_draft_uint(&d[0], WH_F_PRIORITY, WH_PRI_HIGH);
	wh_draft_uint(&d[0], WH_F_SOURCE, WH_SRC_PATROL);
	author(s, ops, d, 1);
	CHECK_EQ(d[0].seq, 1); /* allocated and written back */
	root_digest(s, d1, &c1);
	CHECK_EQ(c1, 1);
	CHECK(memcmp(d0, d1, 32) != 0);

	/* Two drafts in one call share the transaction. */
	wh_draft_init(&d[0], WH_OP_CASE_SET, "XJK-ZDY", 1, G07);
	wh_draft_str(&d[0], WH_F_TITLE, "楼道堆物堵塞消防通道");
	wh_draft_init(&d[1], WH_OP_CASE_STATUS, "XJK-ZDY", 1, G07);
	wh_draft_uint(&d[1], WH_F_FROM, WH_ST_NEW);
	wh_draft_uint(&d[1], WH_F_TO, WH_ST_ACCEPTED);
	author(s, ops, d, 2);
	CHECK(d[1].hlc > d[0].hlc);
	memcpy(d0, d1, 32);
	root_digest(s, d1, &c1);
	CHECK_EQ(c1, 3);
	CHECK(memcmp(d0, d1, 32) != 0);

	wh_draft_init(&d[0], WH_OP_CASE_NOTE, "XJK-ZDY", 1, G07);
	wh_draft_str(&d[0], WH_F_TEXT, "已联系物业");
	author(s, ops, d, 1);
	wh_draft_init(&d[0], WH_OP_TAG_ADD, "XJK-ZDY", 1, G07);
	wh_draft_uint(&d[0], WH_F_SET, WH_SET_TAGS);
	wh_draft_str(&d[0], WH_F_TAG, "消防");
	wh_draft_init(&d[1], WH_OP_TAG_ADD, "XJK-ZDY", 1, G07);
	wh_draft_uint(&d[1], WH_F_SET, WH_SET_TAGS);
	wh_draft_str(&d[1], WH_F_TAG, "楼道");
	author(s, ops, d, 2);
	uint8_t add_id[32], enc[40];
	t_id(ops, ops->n - 1, add_id);
	struct wh_buf rm = {0};
	wh_mpw_bin(&rm, add_id, 32);
	REQUIRE(rm.len <= sizeof enc);
	memcpy(enc, rm.p, rm.len);
	wh_draft_init(&d[0], WH_OP_TAG_REMOVE, "XJK-ZDY", 1, G07);
	wh_draft_uint(&d[0], WH_F_SET, WH_SET_TAGS);
	wh_draft_str(&d[0], WH_F_TAG, "楼道");
	wh_draft_array(&d[0], WH_F_REMOVES, enc, rm.len, 1);
	author(s, ops, d, 1);
	wh_buf_fini(&rm);

	wh_draft_init(&d[0], WH_OP_CASE_CREATE, "XJK-ZDY", 0, G08);
	wh_draft_str(&d[0], WH_F_TITLE, "路灯不亮");
	author(s, ops, d, 1);
	CHECK_EQ(d[0].seq, 2);
	root_digest(s, d1, &c1);
	CHECK_EQ(c1, 8);
	uint8_t exp[32];
	t_digest_of(ops, NULL, ops->n, exp);
	CHECK(!memcmp(d1, exp, 32));
}

static void check_views(struct wh_store *s, const struct t_ops *ops)
{
	struct wh_case c;
	REQUIRE(wh_store_case_get(s, "XJK-ZDY", 1, &c) == WH_OK);
	CHECK(c.title && !strcmp(c.title, "楼道堆物堵塞消防通道"));
	CHECK(c.path && !strcmp(c.path, G07));
	CHECK_EQ(c.status, WH_ST_ACCEPTED);
	CHECK_EQ(c.priority, WH_PRI_HIGH);
	CHECK_EQ(c.source, WH_SRC_PATROL);
	CHECK_EQ(c.nops, 7);
	CHECK_EQ(c.nnotes, 1);
	CHECK_EQ(c.nignored, 0);
	CHECK(!c.conflict);
	CHECK(c.has_create && !memcmp(c.creator, k1->pk, 32));
	CHECK_EQ(c.nelems, 1);
	CHECK(wh_case_elem_find(&c, WH_SET_TAGS, "消防") != NULL);
	CHECK(wh_case_elem_find(&c, WH_SET_TAGS, "楼道") == NULL);
	wh_case_fini(&c);
	CHECK_EQ(wh_store_case_get(s, "XJK-ZDY", 99, &c), WH_ENOTFOUND);
	wh_case_fini(&c);
	CHECK_EQ(wh_store_case_get(s, "bad code", 1, &c), WH_EID);
	wh_case_fini(&c);

	struct list l;
	CHECK_EQ(list_count(s, NULL, -1, 0, &l), 2);
	CHECK(l.seqs[0] == 1 && l.seqs[1] == 2);
	CHECK_EQ(list_count(s, "", WH_ST_ACCEPTED, 0, &l), 1);
	CHECK_EQ(list_count(s, G08, -1, 0, &l), 1);
	CHECK_EQ(l.seqs[0], 2);
	CHECK_EQ(list_count(s, "xicheng/xinjiekou", -1, 0, &l), 2);
	CHECK_EQ(list_count(s, "xicheng/xinjiekou/zhaodengyu/g0", -1, 0, &l),
		 0);
	CHECK_EQ(list_count(s, "dongcheng", -1, 0, &l), 0);
	CHECK_EQ(list_count(s, NULL, -1, 1, &l), 1);
	struct wh_case_filter bad = {"Xicheng/", -1, 0};
	CHECK_EQ(wh_store_case_list(s, &bad, list_cb, &l), WH_EPATH);

	struct hist h = {.ordered = 1};
	REQUIRE(wh_store_case_history(s, "XJK-ZDY", 1, hist_cb, &h) == WH_OK);
	CHECK_EQ(h.n, 7);
	CHECK(h.ordered);
	static const uint8_t kinds[] = {
		WH_OP_CASE_CREATE, WH_OP_CASE_SET, WH_OP_CASE_STATUS,
		WH_OP_CASE_NOTE, WH_OP_TAG_ADD, WH_OP_TAG_ADD,
		WH_OP_TAG_REMOVE};
	for (size_t i = 0; i < 7; i++) {
		CHECK_EQ(h.kinds[i], kinds[i]);
		CHECK_EQ(h.hows[i], WH_APPLY_OK);
	}
	CHECK_EQ(wh_store_case_history(s, "XJK-ZDY", 3, hist_cb, &h),
		 WH_ENOTFOUND);

	uint8_t id[32];
	for (size_t i = 0; i < ops->n; i++) {
		t_id(ops, i, id);
		CHECK_EQ(wh_store_has_op(s, id), WH_OK);
	}
	id[0] ^= 1;
	CHECK_EQ(wh_store_has_op(s, id), WH_ENOTFOUND);

	struct reent re = {s, 0, 0, 0};
	CHECK_EQ(wh_store_each_op(s, NULL, reent_cb, &re), 42);
	CHECK_EQ(re.n, 3);
	CHECK_EQ(re.reads_ok, 3);
	CHECK_EQ(re.writes_busy, 3);

	struct each e = {ops, 0, 0};
	REQUIRE(wh_store_each_op(s, NULL, each_cb, &e) == WH_OK);
	CHECK_EQ(e.n, ops->n);
	CHECK_EQ(e.mismatch, 0);
}

static void check_info(struct wh_store *s, const struct t_ops *ops)
{
	struct wh_store_info in;
	REQUIRE(wh_store_info(s, &in) == WH_OK);
	uint64_t bytes = 0;
	wh_hlc_ts hmax = 0;
	for (size_t i = 0; i < ops->n; i++) {
		struct wh_op op;
		REQUIRE(wh_op_decode(ops->b[i].p, ops->b[i].len, &op) == 0);
		bytes += ops->b[i].len;
		if (op.hlc > hmax)
			hmax = op.hlc;
	}
	CHECK_EQ(in.schema, WH_STORE_SCHEMA);
	CHECK_EQ(in.ops, ops->n);
	CHECK_EQ(in.cases, 2);
	CHECK_EQ(in.op_bytes, bytes);
	CHECK(in.hlc_max == hmax);
	CHECK(in.map_size >= (64u << 20));
	CHECK(in.file_size > 0 && in.file_size <= in.map_size);
}

/* Tests 1 and 2: author, read back, replicate, ingest again. */
static void story(struct t_ops *ops)
{
	char da[512], db[512];
	t_tmpdir(da, "store-a");
	t_tmpdir(db, "store-b");
	struct wh_store *a = t_open(da, 0, 0), *b = t_open(db, 0, 0);
	author_story(a, ops);
	check_views(a, ops);
	check_info(a, ops);

	CHECK_EQ(t_ingest(b, ops, NULL, ops->n, 3), ops->n);
	struct t_state sa = t_state_of(a), sb = t_state_of(b);
	CHECK(t_state_eq(&sa, &sb));
	check_views(b, ops);
	check_info(b, ops);

	/* Idempotent: every op known, nothing changes. */
	struct wh_slice *sl = t_slices(ops, NULL, ops->n);
	int res[16];
	struct wh_ingest_result r;
	struct wh_ingest_opts io = {T_NOW + 60000, NULL, 0};
	REQUIRE(ops->n <= 16);
	REQUIRE(wh_store_ingest(b, sl, ops->n, &io, res, &r) == WH_OK);
	CHECK_EQ(r.known, ops->n);
	CHECK_EQ(r.added, 0);
	CHECK_EQ(r.refused, 0);
	for (size_t i = 0; i < ops->n; i++)
		CHECK_EQ(res[i], WH_EEXIST);
	REQUIRE(wh_store_ingest(a, sl, ops->n, &io, NULL, &r) == WH_OK);
	CHECK_EQ(r.known, ops->n);
	struct t_state sb2 = t_state_of(b), sa2 = t_state_of(a);
	CHECK(t_state_eq(&sb, &sb2));
	CHECK(t_state_eq(&sa, &sa2));
	free(sl);

	/* The same op twice in one batch: known the second time. */
	char dc[512];
	t_tmpdir(dc, "store-c");
	struct wh_store *c = t_open(dc, 0, 0);
	size_t idx[32];
	for (size_t i = 0; i < ops->n; i++)
		idx[i] = idx[ops->n + i] = i;
	sl = t_slices(ops, idx, 2 * ops->n);
	REQUIRE(wh_store_ingest(c, sl, 2 * ops->n, &io, NULL, &r) == WH_OK);
	CHECK_EQ(r.added, ops->n);
	CHECK_EQ(r.known, ops->n);
	struct t_state sc = t_state_of(c);
	CHECK(t_state_eq(&sa, &sc));
	free(sl);

	/* A second create authored in another store continues the count
	 * from what that store has seen. */
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_CASE_CREATE, "XJK-ZDY", 0, G07);
	wh_draft_str(&d, WH_F_TITLE, "第三件");
	struct t_ops more = {0};
	author(c, &more, &d, 1);
	CHECK_EQ(d.seq, 3);
	t_ops_free(&more);

	wh_store_close(a);
	wh_store_close(b);
	wh_store_close(c);
	t_rmdir(da);
	t_rmdir(db);
	t_rmdir(dc);
}

/* ------------------------------------------------------------------ */
/* Test 3: a random op history, ingested in any order, folds the same. */

/* Whether the last op equals an earlier one. */
static int t_is_dup(const struct t_ops *ops)
{
	const struct wh_buf *last = &ops->b[ops->n - 1];
	for (size_t i = 0; i + 1 < ops->n; i++)
		if (ops->b[i].len == last->len &&
		    !memcmp(ops->b[i].p, last->p, last->len))
			return 1;
	return 0;
}

static void random_ops(struct t_ops *ops, uint64_t *rng, size_t n)
{
	static const char *const paths[] = {
		"xicheng/xinjiekou/a", "xicheng/xinjiekou/b",
		"xicheng/shichahai/c", "dongcheng/d"};
	static const char *const tags[] = {"消防", "楼道", "噪音"};
	struct wh_key *keys[] = {k1, k2, k3};
	/* Adds per case and tag, for removes to observe. */
	uint8_t adds[5][3][8][32];
	size_t nadds[5][3] = {{0}};
	for (uint32_t c = 1; c <= 4; c++) {
		/* Case 5 never gets a create: provisional only. */
		struct wh_op_draft d;
		wh_draft_init(&d, WH_OP_CASE_CREATE, "R", c, paths[c - 1]);
		wh_draft_str(&d, WH_F_TITLE, "t");
		t_build(ops, &d, keys[c % 3], WH_HLC_MAKE(T_NOW - 100000, c));
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t c = 1 + (uint32_t)wh_test_below(rng, 5);
		/* Few distinct stamps, so that ties break on author and id. */
		wh_hlc_ts hlc = WH_HLC_MAKE(T_NOW - 99000 +
						    wh_test_below(rng, 40) * 100,
					    wh_test_below(rng, 2));
		struct wh_key *key = keys[wh_test_below(rng, 3)];
		const char *path = paths[wh_test_below(rng, 4)];
		struct wh_op_draft d;
		size_t t = wh_test_below(rng, 3);
		switch (wh_test_below(rng, 7)) {
		case 0:
			wh_draft_init(&d, WH_OP_CASE_SET, "R", c, path);
			wh_draft_uint(&d, WH_F_PRIORITY,
				      wh_test_below(rng, 4));
			break;
		case 1:
			wh_draft_init(&d, WH_OP_CASE_STATUS, "R", c, path);
			wh_draft_uint(&d, WH_F_FROM, wh_test_below(rng, 3));
			wh_draft_uint(&d, WH_F_TO, 1 + wh_test_below(rng, 4));
			break;
		case 2:
			wh_draft_init(&d, WH_OP_CASE_NOTE, "R", c, path);
			wh_draft_str(&d, WH_F_TEXT, "n");
			break;
		case 3:
		case 4:
			wh_draft_init(&d, WH_OP_TAG_ADD, "R", c, path);
			wh_draft_uint(&d, WH_F_SET, WH_SET_TAGS);
			wh_draft_str(&d, WH_F_TAG, tags[t]);
			break;
		case 5: {
			if (!nadds[c - 1][t])
				continue;
			struct wh_buf enc = {0};
			size_t k = nadds[c - 1][t];
			for (size_t j = 0; j < k; j++)
				wh_mpw_bin(&enc, adds[c - 1][t][j], 32);
			wh_draft_init(&d, WH_OP_TAG_REMOVE, "R", c, path);
			wh_draft_uint(&d, WH_F_SET, WH_SET_TAGS);
			wh_draft_str(&d, WH_F_TAG, tags[t]);
			wh_draft_array(&d, WH_F_REMOVES, enc.p, enc.len,
				       (uint32_t)k);
			t_build(ops, &d, key, hlc);
			wh_buf_fini(&enc);
			nadds[c - 1][t] = 0;
			continue;
		}
		default:
			wh_draft_init(&d, WH_OP_CASE_MOVE, "R", c, path);
			wh_draft_str(&d, WH_F_NEW_PATH,
				     paths[wh_test_below(rng, 4)]);
			break;
		}
		size_t at = t_build(ops, &d, key, hlc);
		if (t_is_dup(ops)) {
			/* Same author, stamp and body: the same op. */
			wh_buf_fini(&ops->b[--ops->n]);
			continue;
		}
		if (d.kind == WH_OP_TAG_ADD && nadds[c - 1][t] < 8)
			t_id(ops, at, adds[c - 1][t][nadds[c - 1][t]++]);
	}
	/* A second create for case 1: kept in history, no effect. */
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_CASE_CREATE, "R", 1, paths[3]);
	wh_draft_str(&d, WH_F_TITLE, "dup");
	t_build(ops, &d, k2, WH_HLC_MAKE(T_NOW - 50000, 0));
}

static void any_order(void)
{
	uint64_t rng = wh_test_seed("test_store any_order");
	struct t_ops ops = {0};
	random_ops(&ops, &rng, 160);
	char dir[512];
	t_tmpdir(dir, "order-ref");
	struct wh_store *ref = t_open(dir, 0, 0);
	CHECK_EQ(t_ingest(ref, &ops, NULL, ops.n, 0), ops.n);
	struct t_state want = t_state_of(ref);
	CHECK_EQ(want.count, ops.n);
	wh_store_close(ref);
	t_rmdir(dir);

	size_t *idx = wh_xcalloc(2 * ops.n, sizeof *idx);
	for (int round = 0; round < 4; round++) {
		size_t m = ops.n;
		for (size_t i = 0; i < m; i++)
			idx[i] = round == 0 ? m - 1 - i : i;
		if (round > 0) /* Fisher-Yates */
			for (size_t i = m - 1; i > 0; i--) {
				size_t j = wh_test_below(&rng, i + 1);
				size_t t = idx[i];
				idx[i] = idx[j];
				idx[j] = t;
			}
		if (round > 1) /* and duplicates */
			for (size_t i = 0; i < ops.n / 4; i++)
				idx[m++] = wh_test_below(&rng, ops.n);
		t_tmpdir(dir, "order");
		struct wh_store *s = t_open(dir, 0, 0);
		size_t batch = round == 0 ? 1 : 1 + wh_test_below(&rng, 40);
		CHECK_EQ(t_ingest(s, &ops, idx, m, batch), ops.n);
		struct t_state got = t_state_of(s);
		if (!t_state_eq(&want, &got))
			fprintf(stderr, "round %d (batch %zu) differs\n",
				round, batch);
		CHECK(t_state_eq(&want, &got));
		wh_store_close(s);
		t_rmdir(dir);
	}
	free(idx);
	t_ops_free(&ops);
}

/* ------------------------------------------------------------------ */
/* Test 4: refusals, and all_or_none storing nothing. */

static int deny_k2(void *ctx, const struct wh_op *op)
{
	(void)ctx;
	return memcmp(op->author, k2->pk, 32) ? WH_OK : WH_EDENIED;
}

static void refusals(const struct t_ops *ops)
{
	char dir[512];
	t_tmpdir(dir, "refuse");
	struct wh_store *s = t_open(dir, 0, 0);
	struct t_state empty = t_state_of(s);
	struct t_ops bad = {0};
	for (size_t i = 0; i < ops->n; i++)
		t_ops_add(&bad, ops->b[i].p, ops->b[i].len);
	/* Op 4 with a flipped signature byte, inserted at index 4. */
	t_ops_add(&bad, ops->b[4].p, ops->b[4].len);
	bad.b[bad.n - 1].p[bad.b[bad.n - 1].len - 5] ^= 0x20;
	size_t idx[16], m = 0;
	for (size_t i = 0; i < ops->n; i++) {
		if (i == 4)
			idx[m++] = bad.n - 1;
		idx[m++] = i;
	}
	struct wh_slice *sl = t_slices(&bad, idx, m);
	struct wh_ingest_opts io = {T_NOW + 60000, NULL, 1};
	struct wh_ingest_result r;
	int res[16];
	CHECK_EQ(wh_store_ingest(s, sl, m, &io, res, &r), WH_ESIG);
	CHECK_EQ(r.first_refused, 4);
	CHECK_EQ(r.first_refused_error, WH_ESIG);
	CHECK_EQ(r.added, 0);
	struct t_state st = t_state_of(s);
	CHECK(t_state_eq(&empty, &st));
	uint8_t id[32];
	t_id(ops, 0, id);
	CHECK_EQ(wh_store_has_op(s, id), WH_ENOTFOUND);
	struct wh_store_info in;
	REQUIRE(wh_store_info(s, &in) == WH_OK);
	CHECK_EQ(in.ops, 0);
	CHECK_EQ(in.cases, 0);

	/* Without all_or_none the good ones go in. */
	io.all_or_none = 0;
	REQUIRE(wh_store_ingest(s, sl, m, &io, res, &r) == WH_OK);
	CHECK_EQ(r.added, ops->n);
	CHECK_EQ(r.refused, 1);
	CHECK_EQ(res[4], WH_ESIG);
	CHECK_EQ(res[3], WH_OK);
	st = t_state_of(s);
	CHECK_EQ(st.count, ops->n);

	/* Clock and policy. */
	struct t_ops more = {0};
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_CASE_NOTE, "XJK-ZDY", 1, G07);
	wh_draft_str(&d, WH_F_TEXT, "from the future");
	t_build(&more, &d, k1, WH_HLC_MAKE(T_NOW + 3600000, 0));
	wh_draft_init(&d, WH_OP_CASE_NOTE, "XJK-ZDY", 1, G07);
	wh_draft_str(&d, WH_F_TEXT, "by k2");
	t_build(&more, &d, k2, WH_HLC_MAKE(T_NOW, 7));
	free(sl);
	sl = t_slices(&more, NULL, more.n);
	struct wh_store_policy pol = {deny_k2, NULL};
	struct wh_ingest_opts io2 = {T_NOW, &pol, 0};
	REQUIRE(wh_store_ingest(s, sl, more.n, &io2, res, &r) == WH_OK);
	CHECK_EQ(res[0], WH_ECLOCK);
	CHECK_EQ(res[1], WH_EDENIED);
	CHECK_EQ(r.refused, 2);
	/* ... and garbage is refused, not crashed on. */
	uint8_t junk[100] = {0x97, 1, 1};
	struct wh_slice js[2] = {{junk, sizeof junk}, {junk, 3}};
	REQUIRE(wh_store_ingest(s, js, 2, &io2, res, &r) == WH_OK);
	CHECK_EQ(r.refused, 2);
	CHECK(res[0] < 0 && res[1] < 0);
	struct t_state st2 = t_state_of(s);
	CHECK(t_state_eq(&st, &st2));
	free(sl);
	t_ops_free(&more);
	t_ops_free(&bad);
	wh_store_close(s);
	t_rmdir(dir);
}

/* ------------------------------------------------------------------ */
/* Test 5: the k-th commit fails; nothing of it is stored. */

static void faults(const struct t_ops *ops, const struct t_state *want)
{
	char dir[512];
	t_tmpdir(dir, "fault");
	struct wh_store *s = t_open(dir, 0, 3);
	struct wh_ingest_opts io = {T_NOW + 60000, NULL, 0};
	struct wh_slice *sl = t_slices(ops, NULL, ops->n);
	struct wh_ingest_result r;
	REQUIRE(wh_store_ingest(s, sl, 3, &io, NULL, &r) == WH_OK);
	REQUIRE(wh_store_ingest(s, sl + 3, 2, &io, NULL, &r) == WH_OK);
	struct t_state before = t_state_of(s);
	CHECK_EQ(wh_store_ingest(s, sl + 5, ops->n - 5, &io, NULL, &r),
		 WH_EFAULT);
	CHECK_EQ(r.added, 0);
	struct t_state after = t_state_of(s);
	CHECK(t_state_eq(&before, &after));
	CHECK_EQ(after.count, 5);
	uint8_t id[32];
	t_id(ops, 5, id);
	CHECK_EQ(wh_store_has_op(s, id), WH_ENOTFOUND);
	REQUIRE(wh_store_ingest(s, sl + 5, ops->n - 5, &io, NULL, &r) ==
		WH_OK);
	CHECK_EQ(r.added, ops->n - 5);
	after = t_state_of(s);
	CHECK(t_state_eq(want, &after));
	wh_store_close(s);
	t_rmdir(dir);
	free(sl);

	/* A failed author leaves the drafts and ops_out as they were. */
	t_tmpdir(dir, "fault-author");
	s = t_open(dir, 0, 2);
	struct wh_op_draft d;
	struct t_ops mine = {0};
	wh_draft_init(&d, WH_OP_CASE_CREATE, "XJK-ZDY", 0, G07);
	wh_draft_str(&d, WH_F_TITLE, "t");
	author(s, &mine, &d, 1);
	CHECK_EQ(d.seq, 1);
	d.seq = 0;
	struct wh_buf out = {0};
	wh_buf_append(&out, "x", 1);
	uint8_t ids[1][32];
	CHECK_EQ(wh_store_author(s, k1, &d, 1, t_clock, &now, ids, &out),
		 WH_EFAULT);
	CHECK_EQ(d.seq, 0);
	CHECK_EQ(out.len, 1);
	before = t_state_of(s);
	CHECK_EQ(before.count, 1);
	author(s, &mine, &d, 1);
	CHECK_EQ(d.seq, 2); /* the failed one's seq was not used up */
	/* A bad draft: nothing stored, its build error returned. */
	struct wh_op_draft two[2];
	wh_draft_init(&two[0], WH_OP_CASE_CREATE, "XJK-ZDY", 0, G07);
	wh_draft_str(&two[0], WH_F_TITLE, "t");
	wh_draft_init(&two[1], WH_OP_CASE_SET, "XJK-ZDY", 1, "Bad Path");
	before = t_state_of(s);
	CHECK_EQ(wh_store_author(s, k1, two, 2, t_clock, &now, NULL, NULL),
		 WH_EPATH);
	CHECK_EQ(two[0].seq, 0);
	after = t_state_of(s);
	CHECK(t_state_eq(&before, &after));
	wh_buf_fini(&out);
	t_ops_free(&mine);
	wh_store_close(s);
	t_rmdir(dir);
}

int main(void)
{
	REQUIRE(wh_crypto_init() == WH_OK);
	REQUIRE(wh_key_generate(&k1) == WH_OK);
	REQUIRE(wh_key_generate(&k2) == WH_OK);
	REQUIRE(wh_key_generate(&k3) == WH_OK);
	struct t_ops ops = {0};
	story(&ops);
	any_order();
	refusals(&ops);

	char dir[512];
	t_tmpdir(dir, "want");
	struct wh_store *s = t_open(dir, 0, 0);
	t_ingest(s, &ops, NULL, ops.n, 0);
	struct t_state want = t_state_of(s);
	wh_store_close(s);
	t_rmdir(dir);
	faults(&ops, &want);

	struct wh_store *none = NULL;
	CHECK_EQ(wh_store_open("/nonexistent/whistle", NULL, &none), WH_EIO);
	CHECK(none == NULL);
	wh_store_close(NULL);

	t_ops_free(&ops);
	wh_key_free(k1);
	wh_key_free(k2);
	wh_key_free(k3);
	return wh_test_done("test_store");
}
