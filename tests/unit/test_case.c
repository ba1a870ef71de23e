/*
 * test_case.c: the merge rules of docs/crdt.md, one by one, on the fold
 * alone (no store): last writer wins, status conflicts, add-wins sets,
 * duplicate creates, and that the fold is a function of the op set.
 */
#include "case.h"
#include "mp.h"
#include "wh_test.h"

#define PATH "xicheng/xinjiekou/zhaodengyu/g07"
#define T0 1790000000000ull

static struct wh_key *ka, *kb;

/* Ops built during a test; freed at the end. */
static struct wh_buf store[64];
static struct wh_op ops[64];
static int nops;

static struct wh_op *mk(struct wh_key *k, uint64_t ms,
			struct wh_op_draft *d)
{
	REQUIRE(nops < 64);
	d->hlc = WH_HLC_MAKE(ms, 0);
	struct wh_buf *b = &store[nops];
	wh_buf_reset(b);
	REQUIRE(wh_op_build(d, k, b) == WH_OK);
	REQUIRE(wh_op_decode(b->p, b->len, &ops[nops]) == WH_OK);
	return &ops[nops++];
}

static struct wh_op *create(struct wh_key *k, uint64_t ms, const char *t)
{
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_CASE_CREATE, "XJK-ZDY", 1, PATH);
	wh_draft_str(&d, WH_F_TITLE, t);
	return mk(k, ms, &d);
}

static struct wh_op *set_title(struct wh_key *k, uint64_t ms, const char *t)
{
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_CASE_SET, "XJK-ZDY", 1, PATH);
	wh_draft_str(&d, WH_F_TITLE, t);
	return mk(k, ms, &d);
}

static struct wh_op *status(struct wh_key *k, uint64_t ms, int from, int to)
{
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_CASE_STATUS, "XJK-ZDY", 1, PATH);
	wh_draft_uint(&d, WH_F_FROM, (uint64_t)from);
	wh_draft_uint(&d, WH_F_TO, (uint64_t)to);
	return mk(k, ms, &d);
}

static struct wh_op *tag(struct wh_key *k, uint64_t ms, const char *v,
			 const struct wh_op **removes, int nrem)
{
	struct wh_op_draft d;
	struct wh_buf ids = {0};
	wh_draft_init(&d, nrem ? WH_OP_TAG_REMOVE : WH_OP_TAG_ADD, "XJK-ZDY",
		      1, PATH);
	wh_draft_uint(&d, WH_F_SET, WH_SET_TAGS);
	wh_draft_str(&d, WH_F_TAG, v);
	for (int i = 0; i < nrem; i++)
		wh_mpw_bin(&ids, removes[i]->id, 32);
	if (nrem)
		wh_draft_array(&d, WH_F_REMOVES, ids.p, ids.len,
			       (uint32_t)nrem);
	struct wh_op *op = mk(k, ms, &d);
	wh_buf_fini(&ids);
	return op;
}

static int cmp_ptr(const void *a, const void *b)
{
	return wh_op_cmp(*(const struct wh_op *const *)a,
			 *(const struct wh_op *const *)b);
}

/* Fold a set of ops given in any order: sort, then apply. */
static void fold(struct wh_op **set, int n, struct wh_case *c,
		 struct wh_buf *enc)
{
	struct wh_op *sorted[64];
	memcpy(sorted, set, (size_t)n * sizeof set[0]);
	qsort(sorted, (size_t)n, sizeof sorted[0], cmp_ptr);
	wh_case_init(c, "XJK-ZDY", 1);
	for (int i = 0; i < n; i++) {
		enum wh_apply how;
		REQUIRE(wh_case_apply(c, sorted[i], &how) == WH_OK);
	}
	if (enc) {
		wh_buf_reset(enc);
		wh_case_encode(c, enc);
	}
}

static void lww(void)
{
	nops = 0;
	struct wh_op *set[3] = {create(ka, T0, "原标题"),
				set_title(kb, T0 + 20, "B 的标题"),
				set_title(ka, T0 + 10, "A 的标题")};
	struct wh_case c;
	fold(set, 3, &c, NULL);
	CHECK(!strcmp(c.title, "B 的标题")); /* later hlc wins */
	CHECK(c.has_create && c.created_at == WH_HLC_MAKE(T0, 0));
	CHECK(c.updated_at == WH_HLC_MAKE(T0 + 20, 0));
	CHECK(!strcmp(c.path, PATH));
	wh_case_fini(&c);
	/* equal hlc: the author key breaks the tie, the same everywhere */
	nops = 0;
	struct wh_op *a = set_title(ka, T0 + 5, "甲");
	struct wh_op *b = set_title(kb, T0 + 5, "乙");
	struct wh_op *tie[3] = {create(ka, T0, "t"), a, b};
	fold(tie, 3, &c, NULL);
	const char *want = memcmp(ka->pk, kb->pk, 32) > 0 ? "甲" : "乙";
	CHECK(!strcmp(c.title, want));
	wh_case_fini(&c);
}

static void status_conflict(void)
{
	/* in_progress, then A resolves and B (not seeing it) cancels */
	nops = 0;
	struct wh_op *set[4] = {
		create(ka, T0, "t"),
		status(ka, T0 + 1, WH_ST_NEW, WH_ST_IN_PROGRESS),
		status(ka, T0 + 5, WH_ST_IN_PROGRESS, WH_ST_RESOLVED),
		status(kb, T0 + 6, WH_ST_IN_PROGRESS, WH_ST_CANCELLED)};
	struct wh_case c;
	fold(set, 4, &c, NULL);
	/* resolved -> cancelled is not allowed: the cancel is kept in the
	 * history, has no effect, and the conflict is flagged */
	CHECK_EQ(c.status, WH_ST_RESOLVED);
	CHECK(c.conflict);
	CHECK_EQ(c.conflict_other, WH_ST_CANCELLED);
	CHECK_EQ(c.nignored, 1);
	wh_case_fini(&c);

	/* resolved; A closes while B reopens (the example) */
	nops = 0;
	struct wh_op *s2[5] = {
		create(ka, T0, "t"),
		status(ka, T0 + 1, WH_ST_NEW, WH_ST_RESOLVED),
		status(ka, T0 + 5, WH_ST_RESOLVED, WH_ST_CLOSED),
		status(kb, T0 + 6, WH_ST_RESOLVED, WH_ST_REOPENED), NULL};
	fold(s2, 4, &c, NULL);
	CHECK_EQ(c.status, WH_ST_REOPENED); /* closed -> reopened allowed */
	CHECK(c.conflict);
	CHECK_EQ(c.conflict_other, WH_ST_CLOSED); /* the close is visible */
	CHECK(!memcmp(c.conflict_author, kb->pk, 32));
	wh_case_fini(&c);
	/* someone who saw "reopened" decides: the flag clears */
	s2[4] = status(ka, T0 + 9, WH_ST_REOPENED, WH_ST_IN_PROGRESS);
	fold(s2, 5, &c, NULL);
	CHECK_EQ(c.status, WH_ST_IN_PROGRESS);
	CHECK(!c.conflict);
	CHECK_EQ(c.nconflicts, 1);
	wh_case_fini(&c);

	/* a transition the table forbids, seen correctly: ignored */
	nops = 0;
	struct wh_op *s3[3] = {create(ka, T0, "t"),
			       status(ka, T0 + 1, WH_ST_NEW, WH_ST_CLOSED),
			       status(ka, T0 + 2, WH_ST_CLOSED,
				      WH_ST_IN_PROGRESS)};
	fold(s3, 3, &c, NULL);
	CHECK_EQ(c.status, WH_ST_CLOSED);
	CHECK(!c.conflict);
	CHECK_EQ(c.nignored, 1);
	wh_case_fini(&c);
}

static void orset(void)
{
	nops = 0;
	struct wh_op *cr = create(ka, T0, "t");
	struct wh_op *a1 = tag(ka, T0 + 1, "消防", NULL, 0);
	struct wh_op *a2 = tag(kb, T0 + 2, "消防", NULL, 0); /* concurrent */
	const struct wh_op *seen[1] = {a1};
	struct wh_op *r1 = tag(ka, T0 + 3, "消防", seen, 1);
	struct wh_op *set[4] = {cr, a1, a2, r1};
	struct wh_case c;
	fold(set, 4, &c, NULL);
	/* add wins: the add A did not observe survives its remove */
	const struct wh_case_elem *e = wh_case_elem_find(&c, WH_SET_TAGS,
							 "消防");
	REQUIRE(e != NULL);
	CHECK_EQ(e->nadds, 1);
	CHECK(!memcmp(e->adds[0], a2->id, 32));
	wh_case_fini(&c);
	/* removing both observed adds removes the element */
	const struct wh_op *both[2] = {a1, a2};
	struct wh_op *r2 = tag(kb, T0 + 4, "消防", both, 2);
	struct wh_op *set2[5] = {cr, a1, a2, r1, r2};
	fold(set2, 5, &c, NULL);
	CHECK(wh_case_elem_find(&c, WH_SET_TAGS, "消防") == NULL);
	CHECK_EQ(c.nelems, 0);
	wh_case_fini(&c);
	/* a remove that sorts before the add it names (a forged or broken
	 * clock): the add stays removed, whatever the order */
	struct wh_op *late_add = tag(kb, T0 + 50, "隐患", NULL, 0);
	const struct wh_op *fut[1] = {late_add};
	struct wh_op *early_rm = tag(ka, T0 + 40, "隐患", fut, 1);
	struct wh_op *set3[3] = {cr, late_add, early_rm};
	fold(set3, 3, &c, NULL);
	CHECK(wh_case_elem_find(&c, WH_SET_TAGS, "隐患") == NULL);
	wh_case_fini(&c);
}

static void dup_create_and_incomplete(void)
{
	nops = 0;
	struct wh_op *c1 = create(ka, T0, "甲站的案件");
	struct wh_op *c2 = create(kb, T0 + 1, "乙站同号的案件");
	struct wh_op *set[2] = {c2, c1};
	struct wh_case c;
	fold(set, 2, &c, NULL);
	CHECK(!strcmp(c.title, "甲站的案件")); /* the first create wins */
	CHECK_EQ(c.nignored, 1);
	CHECK(!memcmp(c.creator, ka->pk, 32));
	wh_case_fini(&c);
	/* ops before any create: the case is incomplete, not lost */
	struct wh_op *s = set_title(kb, T0 + 3, "只有修改");
	struct wh_op *only[1] = {s};
	fold(only, 1, &c, NULL);
	CHECK(!c.has_create);
	CHECK(!strcmp(c.title, "只有修改"));
	wh_case_fini(&c);
}

static void apply_order_and_encoding(void)
{
	nops = 0;
	struct wh_op *set[8];
	set[0] = create(ka, T0, "t");
	set[1] = set_title(kb, T0 + 3, "x");
	set[2] = status(ka, T0 + 4, WH_ST_NEW, WH_ST_ACCEPTED);
	set[3] = status(kb, T0 + 4, WH_ST_NEW, WH_ST_IN_PROGRESS);
	set[4] = tag(ka, T0 + 5, "a", NULL, 0);
	set[5] = tag(kb, T0 + 6, "b", NULL, 0);
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_CASE_NOTE, "XJK-ZDY", 1, PATH);
	wh_draft_str(&d, WH_F_TEXT, "已联系物业");
	set[6] = mk(ka, T0 + 7, &d);
	wh_draft_init(&d, WH_OP_CASE_MOVE, "XJK-ZDY", 1, PATH);
	wh_draft_str(&d, WH_F_NEW_PATH, "xicheng/xinjiekou/sanjianfang");
	set[7] = mk(kb, T0 + 8, &d);

	struct wh_buf ref = {0}, enc = {0};
	struct wh_case c;
	fold(set, 8, &c, &ref);
	CHECK(!strcmp(c.path, "xicheng/xinjiekou/sanjianfang"));
	CHECK_EQ(c.nnotes, 1);
	CHECK_EQ(c.nops, 8);
	/* decode(encode(x)) encodes to the same bytes */
	struct wh_case back;
	REQUIRE(wh_case_decode(ref.p, ref.len, &back) == WH_OK);
	wh_case_encode(&back, &enc);
	CHECK(enc.len == ref.len && !memcmp(enc.p, ref.p, ref.len));
	wh_case_fini(&back);
	/* an op that sorts before the fold position is refused */
	enum wh_apply how;
	CHECK_EQ(wh_case_apply(&c, set[0], &how), WH_EINVAL);
	wh_case_fini(&c);
	/* every permutation folds to the same bytes (8! is too many: a
	 * few hundred random shuffles) */
	uint64_t seed = wh_test_seed("test_case");
	for (int it = 0; it < 500; it++) {
		for (int i = 7; i > 0; i--) {
			int j = (int)wh_test_below(&seed, (uint64_t)i + 1);
			struct wh_op *t = set[i];
			set[i] = set[j];
			set[j] = t;
		}
		fold(set, 8, &c, &enc);
		CHECK(enc.len == ref.len && !memcmp(enc.p, ref.p, ref.len));
		wh_case_fini(&c);
	}
	/* corrupt view bytes are refused, not trusted */
	for (size_t n = 0; n < ref.len; n++) {
		if (wh_case_decode(ref.p, n, &back) == WH_OK) {
			CHECK(0);
			wh_case_fini(&back);
		}
	}
	wh_buf_fini(&ref);
	wh_buf_fini(&enc);
}

static void enums(void)
{
	CHECK_EQ(wh_status_parse("in_progress"), WH_ST_IN_PROGRESS);
	CHECK_EQ(wh_status_parse("处理中"), WH_ST_IN_PROGRESS);
	CHECK_EQ(wh_status_parse("nope"), -1);
	CHECK_EQ(wh_priority_parse("urgent"), WH_PRI_URGENT);
	CHECK_EQ(wh_priority_parse("紧急"), WH_PRI_URGENT);
	CHECK_EQ(wh_source_parse("12345"), WH_SRC_HOTLINE);
	CHECK_EQ(wh_source_parse("patrol"), WH_SRC_PATROL);
	CHECK(wh_status_name(WH_STATUS_MAX + 1) == NULL);
	CHECK(wh_status_allowed(WH_ST_RESOLVED, WH_ST_REOPENED));
	CHECK(!wh_status_allowed(WH_ST_CLOSED, WH_ST_IN_PROGRESS));
	CHECK(!wh_status_allowed(WH_ST_NEW, WH_ST_NEW));
}

int main(void)
{
	REQUIRE(wh_crypto_init() == WH_OK);
	REQUIRE(wh_key_generate(&ka) == WH_OK);
	REQUIRE(wh_key_generate(&kb) == WH_OK);
	lww();
	status_conflict();
	orset();
	dup_create_and_incomplete();
	apply_order_and_encoding();
	enums();
	for (int i = 0; i < 64; i++)
		wh_buf_fini(&store[i]);
	wh_key_free(ka);
	wh_key_free(kb);
	return wh_test_done("test_case");
}
