/*
 * test_store_scope.c: digests of a scope equal the digest of a store
 * holding only that scope's ops; a scope holds every case that ever lay
 * within it (a move widens the case's reach and takes its whole history
 * to the new scope, and it stays in the old one); each_op and each_id
 * (scope) hand out exactly those ops; wh_store_rebuild reproduces what
 * incremental ingest built, views and digests alike; and a store of the
 * previous schema is migrated at open.
 */
#include "test_store_util.h"

#include <lmdb.h>

static struct wh_key *k1, *k2;

#define XA "xicheng/xinjiekou/a"
#define XB "xicheng/xinjiekou/b"
#define SC "xicheng/shichahai/c"
#define DD "dongcheng/d"

/* Which case each op in the set belongs to. */
static uint32_t case_of[64];

static size_t op(struct t_ops *o, uint8_t kind, uint32_t seq,
		 const char *path, wh_hlc_ts hlc, const char *text)
{
	struct wh_op_draft d;
	wh_draft_init(&d, kind, "XJK", seq, path);
	switch (kind) {
	case WH_OP_CASE_CREATE:
	case WH_OP_CASE_SET: wh_draft_str(&d, WH_F_TITLE, text); break;
	case WH_OP_CASE_NOTE: wh_draft_str(&d, WH_F_TEXT, text); break;
	case WH_OP_TAG_ADD:
		wh_draft_uint(&d, WH_F_SET, WH_SET_TAGS);
		wh_draft_str(&d, WH_F_TAG, text);
		break;
	case WH_OP_CASE_MOVE: wh_draft_str(&d, WH_F_NEW_PATH, text); break;
	}
	size_t i = t_build(o, &d, seq % 2 ? k1 : k2, hlc);
	REQUIRE(i < 64);
	case_of[i] = seq;
	return i;
}

/* Indexes of the ops of the cases in mask (bit seq). */
static size_t pick(const struct t_ops *o, unsigned mask, size_t *idx)
{
	size_t n = 0;
	for (size_t i = 0; i < o->n; i++)
		if (mask >> case_of[i] & 1u)
			idx[n++] = i;
	return n;
}

static void digest_is(struct wh_store *s, const char *scope,
		      const struct t_ops *o, unsigned mask, int line)
{
	size_t idx[64];
	size_t n = pick(o, mask, idx);
	uint8_t want[32], got[32];
	uint64_t cnt = 99;
	t_digest_of(o, idx, n, want);
	REQUIRE(wh_store_digest(s, scope, got, &cnt) == WH_OK);
	if (memcmp(want, got, 32) || cnt != n) {
		fprintf(stderr, "%s:%d: digest of '%s': count %" PRIu64
			", want %zu\n", __FILE__, line, scope ? scope : "",
			cnt, n);
		wh_test_failures++;
	}
}
#define DIGEST_IS(s, scope, o, mask) digest_is(s, scope, o, mask, __LINE__)

struct collect {
	const struct t_ops *o;
	size_t n, idx[64];
};

static int collect_cb(void *ctx, const uint8_t *p, size_t n)
{
	struct collect *c = ctx;
	for (size_t i = 0; i < c->o->n; i++)
		if (c->o->b[i].len == n && !memcmp(c->o->b[i].p, p, n)) {
			if (c->n < 64)
				c->idx[c->n] = i;
			c->n++;
			return 0;
		}
	return WH_ENOTFOUND; /* an op we never made */
}

struct idlist {
	size_t n;
	uint8_t id[64][32];
};

static int id_cb(void *ctx, const uint8_t id[WH_ID_BYTES])
{
	struct idlist *l = ctx;
	if (l->n == 64)
		return WH_ETOOBIG;
	memcpy(l->id[l->n++], id, 32);
	return 0;
}

/* each_op(scope) yields the ops of exactly the cases in mask: for all,
 * in arrival order (which here is build order); for a scope, case by
 * case, arrival order within a case. each_id yields their ids case by
 * case always. */
static void each_is(struct wh_store *s, const char *scope,
		    const struct t_ops *o, unsigned mask, int line)
{
	size_t idx[64], byc[64];
	size_t n = pick(o, mask, idx);
	memcpy(byc, idx, sizeof idx);
	for (size_t i = 1; i < n; i++) /* stable: by case, then build order */
		for (size_t j = i; j && case_of[byc[j - 1]] > case_of[byc[j]];
		     j--) {
			size_t t = byc[j];
			byc[j] = byc[j - 1];
			byc[j - 1] = t;
		}
	if (scope && *scope)
		memcpy(idx, byc, sizeof idx);
	struct collect c = {o, 0, {0}};
	int rc = wh_store_each_op(s, scope, collect_cb, &c);
	struct idlist l = {0};
	int irc = wh_store_each_id(s, scope, id_cb, &l);
	int ids_ok = irc == WH_OK && l.n == n;
	for (size_t i = 0; ids_ok && i < n; i++) {
		uint8_t id[32];
		wh_op_id(o->b[byc[i]].p, o->b[byc[i]].len, id);
		ids_ok = !memcmp(id, l.id[i], 32);
	}
	if (!ids_ok) {
		fprintf(stderr, "%s:%d: each_id '%s': rc %d, %zu ids, want "
			"%zu in each_op's order\n", __FILE__, line,
			scope ? scope : "", irc, l.n, n);
		wh_test_failures++;
	}
	if (rc || c.n != n || memcmp(c.idx, idx, n * sizeof idx[0])) {
		fprintf(stderr, "%s:%d: each_op '%s': rc %d, %zu ops, want "
			"%zu\n", __FILE__, line, scope ? scope : "", rc, c.n,
			n);
		wh_test_failures++;
	}
}
#define EACH_IS(s, scope, o, mask) each_is(s, scope, o, mask, __LINE__)

static const char *const scopes[] = {
	NULL, "xicheng", "xicheng/xinjiekou", "xicheng/shichahai",
	"dongcheng", XA, SC, "haidian"};
#define NSCOPES (sizeof scopes / sizeof scopes[0])

struct snap {
	uint8_t views[32], d[NSCOPES][32];
	uint64_t c[NSCOPES];
	struct wh_store_info info;
};

static void snap(struct wh_store *s, struct snap *sn)
{
	REQUIRE(wh_store_views_hash(s, sn->views) == WH_OK);
	for (size_t i = 0; i < NSCOPES; i++)
		REQUIRE(wh_store_digest(s, scopes[i], sn->d[i], &sn->c[i]) ==
			WH_OK);
	REQUIRE(wh_store_info(s, &sn->info) == WH_OK);
}

static void snap_eq(const struct snap *a, const struct snap *b, int line)
{
	int ok = !memcmp(a->views, b->views, 32) &&
		 !memcmp(a->d, b->d, sizeof a->d) &&
		 !memcmp(a->c, b->c, sizeof a->c) &&
		 a->info.ops == b->info.ops &&
		 a->info.cases == b->info.cases &&
		 a->info.op_bytes == b->info.op_bytes &&
		 a->info.hlc_max == b->info.hlc_max;
	if (!ok) {
		fprintf(stderr, "%s:%d: stores differ\n", __FILE__, line);
		wh_test_failures++;
	}
}

#define H(k) WH_HLC_MAKE(T_NOW - 500000 + (k) * 1000, 0)

static int count_raw_op(void *ctx, const uint8_t *p, size_t n)
{
	(void)p;
	(void)n;
	++*(size_t *)ctx;
	return 0;
}

static int count_id(void *ctx, const uint8_t id[WH_ID_BYTES])
{
	(void)id;
	++*(size_t *)ctx;
	return 0;
}

/* Documents ('~' codes: problem lists, rosters) belong to the scope they
 * are published at, everything within it, and every scope below it; they
 * are not cases. */
static void test_documents(void)
{
	struct t_ops o = {0};
	struct wh_op_draft d;
	static const struct {
		uint32_t seq;
		const char *path;
	} docs[] = {{1, "xicheng"}, {1, "xicheng"}, {2, "xicheng/xinjiekou"},
		    {3, "dongcheng"}, {4, "xicheng/xinjiekou-x"}};
	for (size_t i = 0; i < 5; i++) {
		wh_draft_init(&d, WH_OP_CASE_NOTE, "~PL", docs[i].seq,
			      docs[i].path);
		wh_draft_str(&d, WH_F_TEXT, i % 2 ? "城管 2h" : "住建 7d");
		t_build(&o, &d, k1, H(40 + (int)i));
	}
	wh_draft_init(&d, WH_OP_CASE_CREATE, "XJK", 1, XA);
	wh_draft_str(&d, WH_F_TITLE, "一");
	t_build(&o, &d, k1, H(50)); /* op 5: a case in XA */
	char dir[512];
	t_tmpdir(dir, "scope-docs");
	struct wh_store *s = t_open(dir, 0, 0);
	CHECK_EQ(t_ingest(s, &o, NULL, o.n, 0), 6);
	static const struct {
		const char *scope;
		unsigned mask; /* bit i: op i in the scope's set */
	} want[] = {
	    {"", 0x3f},
	    {XA, 1u << 0 | 1u << 1 | 1u << 2 | 1u << 5},
	    {"xicheng/xinjiekou", 0x7 | 1u << 5},
	    {"xicheng", 0x7 | 1u << 4 | 1u << 5},
	    {"xicheng/xinjiekou-x/g1", 0x3 | 1u << 4},
	    {"dongcheng", 1u << 3},
	    {"dongcheng/d", 1u << 3},
	    {"haidian", 0},
	};
	for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
		size_t idx[8], n = 0;
		for (size_t i = 0; i < o.n; i++)
			if (want[k].mask >> i & 1u)
				idx[n++] = i;
		uint8_t exp[32], got[32];
		uint64_t cnt;
		t_digest_of(&o, idx, n, exp);
		REQUIRE(wh_store_digest(s, want[k].scope, got, &cnt) == WH_OK);
		size_t ids = 0, raws = 0;
		REQUIRE(wh_store_each_id(s, want[k].scope, count_id, &ids) ==
			WH_OK);
		REQUIRE(wh_store_each_op(s, want[k].scope, count_raw_op,
					 &raws) == WH_OK);
		if (memcmp(exp, got, 32) || cnt != n || ids != n || raws != n) {
			fprintf(stderr,
				"documents: scope '%s': digest %s, count %" PRIu64
				", ids %zu, ops %zu, want %zu\n",
				want[k].scope,
				memcmp(exp, got, 32) ? "differs" : "ok", cnt, ids,
				raws, n);
			wh_test_failures++;
		}
	}
	/* each_doc_op: the documents alone. */
	size_t nd = 0;
	REQUIRE(wh_store_each_doc_op(s, XA, count_raw_op, &nd) == WH_OK);
	CHECK_EQ(nd, 3);
	nd = 0;
	REQUIRE(wh_store_each_doc_op(s, "", count_raw_op, &nd) == WH_OK);
	CHECK_EQ(nd, 5);
	nd = 0;
	REQUIRE(wh_store_each_doc_op(s, "haidian", count_raw_op, &nd) == WH_OK);
	CHECK_EQ(nd, 0);
	/* Not cases: no views, not listed, not counted as cases. */
	struct wh_store_info info;
	REQUIRE(wh_store_info(s, &info) == WH_OK);
	CHECK_EQ(info.cases, 1);
	CHECK_EQ(info.ops, 6);
	struct wh_case c;
	CHECK_EQ(wh_store_case_get(s, "~PL", 1, &c), WH_ENOTFOUND);
	/* and a rebuild counts them the same way */
	uint8_t before[32], after[32];
	REQUIRE(wh_store_digest(s, XA, before, NULL) == WH_OK);
	REQUIRE(wh_store_rebuild(s) == WH_OK);
	REQUIRE(wh_store_digest(s, XA, after, NULL) == WH_OK);
	CHECK(!memcmp(before, after, 32));
	wh_store_close(s);
	t_ops_free(&o);
}

static int count_case(void *ctx, const struct wh_case *c)
{
	(void)c;
	++*(size_t *)ctx;
	return 0;
}

/* Make the store in dir look as schema 1 left it: schema 1 in meta, no
 * reach table, caseops rows of the arrival seq alone. */
static void age_store(const char *dir)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta, reach, ops, ops1;
	REQUIRE(mdb_env_create(&env) == 0);
	REQUIRE(mdb_env_set_maxdbs(env, 16) == 0);
	REQUIRE(mdb_env_open(env, dir, 0, 0600) == 0);
	REQUIRE(mdb_txn_begin(env, NULL, 0, &txn) == 0);
	REQUIRE(mdb_dbi_open(txn, "meta", 0, &meta) == 0);
	uint8_t one[4] = {1, 0, 0, 0};
	MDB_val k = {6, "schema"}, v = {4, one};
	REQUIRE(mdb_put(txn, meta, &k, &v, 0) == 0);
	REQUIRE(mdb_dbi_open(txn, "reach", MDB_DUPSORT, &reach) == 0);
	REQUIRE(mdb_drop(txn, reach, 1) == 0);
	/* Rewrite caseops with 8-byte rows, in a fresh table of the name. */
	REQUIRE(mdb_dbi_open(txn, "caseops", MDB_DUPSORT | MDB_DUPFIXED,
			     &ops) == 0);
	MDB_cursor *cur;
	REQUIRE(mdb_cursor_open(txn, ops, &cur) == 0);
	struct {
		uint8_t k[32];
		size_t kn;
		uint8_t v[8];
	} rows[64];
	size_t nr = 0;
	while (mdb_cursor_get(cur, &k, &v, nr ? MDB_NEXT : MDB_FIRST) == 0) {
		REQUIRE(nr < 64 && k.mv_size <= 32 && v.mv_size == 40);
		memcpy(rows[nr].k, k.mv_data, k.mv_size);
		rows[nr].kn = k.mv_size;
		memcpy(rows[nr].v, v.mv_data, 8);
		nr++;
	}
	mdb_cursor_close(cur);
	REQUIRE(mdb_drop(txn, ops, 1) == 0);
	REQUIRE(mdb_dbi_open(txn, "caseops",
			     MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED,
			     &ops1) == 0);
	for (size_t i = 0; i < nr; i++) {
		MDB_val rk = {rows[i].kn, rows[i].k}, rv = {8, rows[i].v};
		REQUIRE(mdb_put(txn, ops1, &rk, &rv, 0) == 0);
	}
	REQUIRE(mdb_txn_commit(txn) == 0);
	mdb_env_close(env);
}

int main(void)
{
	REQUIRE(wh_crypto_init() == WH_OK);
	REQUIRE(wh_key_generate(&k1) == WH_OK);
	REQUIRE(wh_key_generate(&k2) == WH_OK);
	struct t_ops o = {0};
	/* Cases 1, 2 in xinjiekou, 3 in shichahai, 4 in dongcheng. */
	op(&o, WH_OP_CASE_CREATE, 1, XA, H(1), "一");
	op(&o, WH_OP_CASE_CREATE, 2, XB, H(2), "二");
	op(&o, WH_OP_CASE_CREATE, 3, SC, H(3), "三");
	op(&o, WH_OP_CASE_CREATE, 4, DD, H(4), "四");
	op(&o, WH_OP_CASE_SET, 1, XA, H(5), "一一");
	op(&o, WH_OP_CASE_NOTE, 2, XB, H(6), "note");
	op(&o, WH_OP_TAG_ADD, 3, SC, H(7), "tag");
	op(&o, WH_OP_CASE_NOTE, 1, XA, H(8), "note");
	size_t base = o.n;

	char dfull[512], da[512];
	t_tmpdir(dfull, "scope-full");
	t_tmpdir(da, "scope-a");
	struct wh_store *full = t_open(dfull, 0, 0);
	struct wh_store *a = t_open(da, 0, 0);
	t_ingest(full, &o, NULL, base, 0);
	size_t idx[64];
	size_t na = pick(&o, 1u << 1 | 1u << 2, idx);
	CHECK_EQ(t_ingest(a, &o, idx, na, 0), 5);

	/* The scope's digest is that of a store holding only the scope. */
	uint8_t ga[32], gf[32];
	uint64_t ca, cf;
	REQUIRE(wh_store_digest(a, NULL, ga, &ca) == WH_OK);
	REQUIRE(wh_store_digest(full, "xicheng/xinjiekou", gf, &cf) == WH_OK);
	CHECK(!memcmp(ga, gf, 32));
	CHECK_EQ(ca, 5);
	CHECK_EQ(cf, 5);
	REQUIRE(wh_store_digest(a, "xicheng/xinjiekou", ga, &ca) == WH_OK);
	CHECK(!memcmp(ga, gf, 32));
	DIGEST_IS(full, NULL, &o, 0x1e);
	DIGEST_IS(full, "", &o, 0x1e);
	DIGEST_IS(full, "xicheng", &o, 1u << 1 | 1u << 2 | 1u << 3);
	DIGEST_IS(full, XA, &o, 1u << 1);
	DIGEST_IS(full, "dongcheng", &o, 1u << 4);
	DIGEST_IS(full, "haidian", &o, 0);
	DIGEST_IS(full, "xicheng/xin", &o, 0); /* not a '/' boundary */
	CHECK_EQ(wh_store_digest(full, "Xicheng", gf, &cf), WH_EPATH);
	CHECK_EQ(wh_store_digest(full, "xicheng/", gf, &cf), WH_EPATH);
	EACH_IS(full, "xicheng/xinjiekou", &o, 1u << 1 | 1u << 2);
	EACH_IS(full, "xicheng", &o, 0xe);
	EACH_IS(full, NULL, &o, 0x1e);
	EACH_IS(full, "haidian", &o, 0);

	CHECK_EQ(wh_store_case_reached(full, "XJK", 1, "xicheng/xinjiekou"),
		 WH_OK);
	CHECK_EQ(wh_store_case_reached(full, "XJK", 1, ""), WH_OK);
	CHECK_EQ(wh_store_case_reached(full, "XJK", 3, "xicheng/xinjiekou"),
		 WH_ENOTFOUND);
	CHECK_EQ(wh_store_case_reached(full, "XJK", 99, ""), WH_ENOTFOUND);
	CHECK_EQ(wh_store_case_reached(full, "XJK", 1, "Bad/"), WH_EPATH);

	/* A move takes every op of the case to the new scope, and the case
	 * stays in the old one (its reach only grows), so the move itself
	 * reconciles with the old scope's peers too. */
	op(&o, WH_OP_CASE_MOVE, 1, XA, H(9), "xicheng/shichahai/e");
	t_ingest(full, &o, NULL, o.n, 0);
	DIGEST_IS(full, "xicheng/xinjiekou", &o, 1u << 1 | 1u << 2);
	DIGEST_IS(full, "xicheng/shichahai", &o, 1u << 1 | 1u << 3);
	DIGEST_IS(full, "xicheng", &o, 0xe);
	DIGEST_IS(full, XA, &o, 1u << 1);
	DIGEST_IS(full, "xicheng/shichahai/e", &o, 1u << 1);
	DIGEST_IS(full, NULL, &o, 0x1e);
	EACH_IS(full, "xicheng/shichahai", &o, 1u << 1 | 1u << 3);
	EACH_IS(full, "xicheng/xinjiekou", &o, 1u << 1 | 1u << 2);
	EACH_IS(full, "xicheng", &o, 0xe);
	CHECK_EQ(wh_store_case_reached(full, "XJK", 1, "xicheng/shichahai"),
		 WH_OK);
	struct wh_case c;
	REQUIRE(wh_store_case_get(full, "XJK", 1, &c) == WH_OK);
	CHECK(c.path && !strcmp(c.path, "xicheng/shichahai/e"));
	wh_case_fini(&c);
	/* The view's list follows the current path, not the reach. */
	struct wh_case_filter cf0 = {"xicheng/xinjiekou", -1, 0};
	size_t listed = 0;
	REQUIRE(wh_store_case_list(full, &cf0, count_case, &listed) == WH_OK);
	CHECK_EQ(listed, 1);

	/* Case 5: a set stamped after its create arrives first, under
	 * another path; the create, folded in before it, decides the view;
	 * both paths are in its reach. */
	size_t set5 = op(&o, WH_OP_CASE_SET, 5, XA, H(21), "五");
	t_ingest(full, &o, &set5, 1, 0);
	DIGEST_IS(full, XA, &o, 1u << 1 | 1u << 5);
	size_t cr5 = op(&o, WH_OP_CASE_CREATE, 5, "dongcheng/z", H(20), "5");
	t_ingest(full, &o, &cr5, 1, 0);
	DIGEST_IS(full, XA, &o, 1u << 1 | 1u << 5);
	DIGEST_IS(full, "dongcheng", &o, 1u << 4 | 1u << 5);
	/* Case 6: a move arrives before the create it follows. */
	size_t mv6 = op(&o, WH_OP_CASE_MOVE, 6, XB, H(31), "dongcheng/m");
	size_t cr6 = op(&o, WH_OP_CASE_CREATE, 6, XB, H(30), "6");
	t_ingest(full, &o, &mv6, 1, 0);
	t_ingest(full, &o, &cr6, 1, 0);
	REQUIRE(wh_store_case_get(full, "XJK", 6, &c) == WH_OK);
	CHECK(c.path && !strcmp(c.path, "dongcheng/m"));
	CHECK(c.title && !strcmp(c.title, "6"));
	wh_case_fini(&c);
	DIGEST_IS(full, "dongcheng", &o, 1u << 4 | 1u << 5 | 1u << 6);
	DIGEST_IS(full, "xicheng/xinjiekou", &o,
		  1u << 1 | 1u << 2 | 1u << 5 | 1u << 6);
	EACH_IS(full, "dongcheng", &o, 1u << 4 | 1u << 5 | 1u << 6);
	EACH_IS(full, "xicheng/xinjiekou", &o,
		1u << 1 | 1u << 2 | 1u << 5 | 1u << 6);

	/* Test 8: rebuild reproduces the incremental result, and so does
	 * a store that got the same ops in another order. */
	struct snap before, after, other;
	snap(full, &before);
	CHECK_EQ(before.c[0], o.n);
	REQUIRE(wh_store_rebuild(full) == WH_OK);
	snap(full, &after);
	snap_eq(&before, &after, __LINE__);
	char dr[512];
	t_tmpdir(dr, "scope-rev");
	struct wh_store *rev = t_open(dr, 0, 0);
	for (size_t i = o.n; i-- > 0;)
		t_ingest(rev, &o, &i, 1, 0);
	snap(rev, &other);
	snap_eq(&before, &other, __LINE__);
	REQUIRE(wh_store_rebuild(rev) == WH_OK);
	snap(rev, &other);
	snap_eq(&before, &other, __LINE__);
	/* Rebuild kept the per-code sequence: the next create is 7. */
	struct wh_op_draft d;
	uint64_t clk = T_NOW - 600000; /* behind every stamp held */
	wh_draft_init(&d, WH_OP_CASE_CREATE, "XJK", 0, DD);
	wh_draft_str(&d, WH_F_TITLE, "七");
	REQUIRE(wh_store_author(full, k1, &d, 1, t_clock, &clk, NULL, NULL) ==
		WH_OK);
	CHECK_EQ(d.seq, 7);
	/* and the authored stamp is above every stamp held. */
	CHECK(d.hlc == before.info.hlc_max + 1);

	/* A store of schema 1 (no reach table, 8-byte caseops rows) is
	 * migrated at open: same views and digests, schema now current. */
	wh_store_close(rev);
	age_store(dr);
	rev = t_open(dr, 0, 0);
	snap(rev, &other);
	snap_eq(&before, &other, __LINE__);
	CHECK_EQ(other.info.schema, WH_STORE_SCHEMA);

	test_documents();
	wh_store_close(full);
	wh_store_close(a);
	wh_store_close(rev);
	t_rmdir(dfull);
	t_rmdir(da);
	t_rmdir(dr);
	t_ops_free(&o);
	wh_key_free(k1);
	wh_key_free(k2);
	return wh_test_done("test_store_scope");
}
