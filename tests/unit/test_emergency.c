/*
 * test_emergency.c: the emergency and plan folds (crdt/emergency.h,
 * crdt/plan.h) on hand-built signed ops, no store.
 *
 *   - an emergency folds to the same state in every arrival order (seed
 *     printed), and its encoding round-trips byte for byte;
 *   - amendments: last writer wins (an extension moves the end);
 *   - an end is final: an amendment sorting after it does not reopen;
 *     two concurrent ends agree on the earlier; an end before any
 *     declaration, or at another path, is ignored;
 *   - the op rules: kind and object prefix go together, a rule to extend
 *     says by how much, a planned end after the start, link fields all
 *     or none, references name the right kind of object;
 *   - a plan: header last writer wins, tasks replaced and removed by key,
 *     a task outside the plan's path ignored, other paths ignored;
 *   - document ids in people's form both ways.
 */
#include "emergency.h"
#include "plan.h"
#include "wh_test.h"

#define AREA "xicheng/xinjiekou"
#define T0 1790000000000ull
#define H 3600000ull
#define POOL 64

static struct wh_key *ka, *kb;
static struct wh_buf bufs[POOL];
static struct wh_op ops[POOL];
static int nops;

static int build(struct wh_key *k, uint64_t ms, struct wh_op_draft *d,
		 struct wh_op **out)
{
	REQUIRE(nops < POOL);
	d->hlc = WH_HLC_MAKE(ms, 0);
	struct wh_buf *b = &bufs[nops];
	wh_buf_reset(b);
	int rc = wh_op_build(d, k, b);
	if (rc)
		return rc;
	REQUIRE(wh_op_decode(b->p, b->len, &ops[nops]) == WH_OK);
	*out = &ops[nops++];
	return WH_OK;
}

static struct wh_op *mk(struct wh_key *k, uint64_t ms, struct wh_op_draft *d)
{
	struct wh_op *op = NULL;
	int rc = build(k, ms, d, &op);
	if (rc)
		fprintf(stderr, "build kind %d: %s\n", d->kind,
			wh_strerror(rc));
	REQUIRE(rc == WH_OK);
	return op;
}

static struct wh_op *declare(struct wh_key *k, uint64_t at, const char *path,
			     uint64_t start, uint64_t end, const char *title)
{
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_EMERGENCY, "~EM-XC", 1, path);
	wh_draft_uint(&d, WH_F_START_MS, start);
	if (end)
		wh_draft_uint(&d, WH_F_END_MS, end);
	wh_draft_str(&d, WH_F_PLAN, "~EP-XC");
	wh_draft_uint(&d, WH_F_PLAN_SEQ, 1);
	if (title)
		wh_draft_str(&d, WH_F_TITLE, title);
	return mk(k, at, &d);
}

static struct wh_op *end_op(struct wh_key *k, uint64_t at, const char *path,
			    uint64_t end)
{
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_EMERGENCY_END, "~EM-XC", 1, path);
	wh_draft_uint(&d, WH_F_END_MS, end);
	return mk(k, at, &d);
}

static int cmp_ptr(const void *a, const void *b)
{
	return wh_op_cmp(*(const struct wh_op *const *)a,
			 *(const struct wh_op *const *)b);
}

static void fold(struct wh_op **set, int n, struct wh_emergency *e)
{
	struct wh_op *s[POOL];
	memcpy(s, set, (size_t)n * sizeof s[0]);
	qsort(s, (size_t)n, sizeof s[0], cmp_ptr);
	wh_em_init(e, "~EM-XC", 1);
	for (int i = 0; i < n; i++)
		REQUIRE(wh_em_apply(e, s[i], NULL) == WH_OK);
}

static void enc(const struct wh_emergency *e, struct wh_buf *b)
{
	wh_buf_reset(b);
	wh_em_encode(e, b);
}

static void any_order(uint64_t *seed)
{
	nops = 0;
	struct wh_op *set[5] = {
		declare(ka, T0, AREA, T0, T0 + 6 * H, "暴雨红色预警"),
		declare(ka, T0 + 60000, AREA, T0, T0 + 12 * H, "延长"),
		end_op(kb, T0 + 5 * H, AREA, T0 + 10 * H),
		end_op(ka, T0 + 5 * H + 1, AREA, T0 + 9 * H),
		declare(kb, T0 + 7 * H, AREA, T0, T0 + 20 * H, "再延长"),
	};
	struct wh_emergency ref, e;
	fold(set, 5, &ref);
	CHECK(ref.declared);
	CHECK(!strcmp(ref.area, AREA));
	/* The latest amendment wins, but ends are final: until is the
	 * earlier end op (9h), not the later amendment's 20h. */
	CHECK_EQ(ref.end_ms, T0 + 20 * H);
	CHECK_EQ(ref.ended_ms, T0 + 9 * H);
	CHECK_EQ(wh_em_until(&ref), T0 + 9 * H);
	CHECK(!strcmp(ref.title, "再延长"));
	CHECK(!memcmp(ref.ended_by, ka->pk, WH_PK_BYTES));
	CHECK(wh_em_active(&ref, T0 + 8 * H));
	CHECK(!wh_em_active(&ref, T0 + 9 * H));
	CHECK(!wh_em_active(&ref, T0 - 1));
	CHECK(wh_em_over(&ref, T0 + 9 * H));
	CHECK_EQ(ref.nops, 5);
	CHECK_EQ(ref.nignored, 0);
	struct wh_buf a = {0}, b = {0};
	enc(&ref, &a);
	for (int round = 0; round < 40; round++) {
		for (int i = 4; i > 0; i--) {
			int j = (int)wh_test_below(seed, (uint64_t)i + 1);
			struct wh_op *t = set[i];
			set[i] = set[j];
			set[j] = t;
		}
		fold(set, 5, &e);
		enc(&e, &b);
		CHECK(a.len == b.len && !memcmp(a.p, b.p, a.len));
	}
	struct wh_emergency back;
	REQUIRE(wh_em_decode(a.p, a.len, &back) == WH_OK);
	enc(&back, &b);
	CHECK(a.len == b.len && !memcmp(a.p, b.p, a.len));
	/* Damaged records are refused, never misread. */
	for (size_t cut = 0; cut < a.len; cut += 7)
		CHECK(wh_em_decode(a.p, cut, &back) == WH_ECORRUPT);
	a.p[0] ^= 1;
	CHECK(wh_em_decode(a.p, a.len, &back) == WH_ECORRUPT);
	wh_buf_fini(&a);
	wh_buf_fini(&b);
}

static void rules(void)
{
	nops = 0;
	struct wh_emergency e;
	/* Open-ended until an end; an amendment before the end extends. */
	struct wh_op *s1[3] = {declare(ka, T0, AREA, T0, 0, NULL),
			       declare(ka, T0 + 1, AREA, T0, T0 + 2 * H, NULL),
			       declare(ka, T0 + 2, AREA, T0, T0 + 5 * H, NULL)};
	fold(s1, 1, &e);
	CHECK_EQ(wh_em_until(&e), 0);
	CHECK(wh_em_active(&e, T0 + 1000 * H));
	fold(s1, 3, &e);
	CHECK_EQ(wh_em_until(&e), T0 + 5 * H);
	/* An end before any declaration (a broken clock) and an op at
	 * another path are ignored. */
	struct wh_op *s2[3] = {end_op(kb, T0 - 5, AREA, T0 + H),
			       declare(ka, T0, AREA, T0, 0, NULL),
			       end_op(kb, T0 + 5, "xicheng", T0 + H)};
	fold(s2, 3, &e);
	CHECK_EQ(wh_em_until(&e), 0);
	CHECK_EQ(e.nignored, 2);
	/* An end set before the start: nothing was ever in force. */
	struct wh_op *s3[2] = {declare(ka, T0, AREA, T0 + H, 0, NULL),
			       end_op(ka, T0 + 1, AREA, T0 + 1)};
	fold(s3, 2, &e);
	CHECK(!wh_em_active(&e, T0 + H));
	CHECK(!wh_em_active(&e, T0 + 2));
	/* Folding out of order or another object's op is refused. */
	wh_em_init(&e, "~EM-XC", 1);
	CHECK(wh_em_apply(&e, s1[1], NULL) == WH_OK);
	CHECK(wh_em_apply(&e, s1[0], NULL) == WH_EINVAL);
	wh_em_init(&e, "~EM-XC", 2);
	CHECK(wh_em_apply(&e, s1[0], NULL) == WH_EINVAL);
}

static int err_of(struct wh_op_draft *d)
{
	struct wh_op *op;
	return build(ka, T0, d, &op);
}

static void op_rules(void)
{
	nops = 0;
	struct wh_op_draft d;
	/* An emergency kind on a case's code, a plan kind on ~EM-. */
	wh_draft_init(&d, WH_OP_EMERGENCY, "XJK", 1, AREA);
	wh_draft_uint(&d, WH_F_START_MS, T0);
	CHECK_EQ(err_of(&d), WH_EID);
	wh_draft_init(&d, WH_OP_PLAN_SET, "~EM-XC", 1, AREA);
	wh_draft_str(&d, WH_F_TITLE, "x");
	CHECK_EQ(err_of(&d), WH_EID);
	wh_draft_init(&d, WH_OP_EMERGENCY, "~EM-", 1, AREA);
	wh_draft_uint(&d, WH_F_START_MS, T0);
	CHECK(err_of(&d) != WH_OK);
	/* extend needs extend_ms, pause refuses it */
	wh_draft_init(&d, WH_OP_EMERGENCY, "~EM-XC", 1, AREA);
	wh_draft_uint(&d, WH_F_START_MS, T0);
	wh_draft_uint(&d, WH_F_RULE, WH_EM_EXTEND);
	CHECK_EQ(err_of(&d), WH_EFIELD);
	wh_draft_uint(&d, WH_F_EXTEND_MS, H);
	CHECK_EQ(err_of(&d), WH_OK);
	wh_draft_init(&d, WH_OP_PLAN_SET, "~EP-XC", 1, AREA);
	wh_draft_str(&d, WH_F_TITLE, "x");
	wh_draft_uint(&d, WH_F_EXTEND_MS, H);
	CHECK_EQ(err_of(&d), WH_EFIELD);
	/* end after start; plan and plan_seq together; plan names a plan */
	wh_draft_init(&d, WH_OP_EMERGENCY, "~EM-XC", 1, AREA);
	wh_draft_uint(&d, WH_F_START_MS, T0);
	wh_draft_uint(&d, WH_F_END_MS, T0);
	CHECK_EQ(err_of(&d), WH_EFIELD);
	wh_draft_init(&d, WH_OP_EMERGENCY, "~EM-XC", 1, AREA);
	wh_draft_uint(&d, WH_F_START_MS, T0);
	wh_draft_str(&d, WH_F_PLAN, "~EP-XC");
	CHECK_EQ(err_of(&d), WH_EFIELD);
	wh_draft_init(&d, WH_OP_EMERGENCY, "~EM-XC", 1, AREA);
	wh_draft_uint(&d, WH_F_START_MS, T0);
	wh_draft_str(&d, WH_F_PLAN, "~PL-XC");
	wh_draft_uint(&d, WH_F_PLAN_SEQ, 1);
	CHECK_EQ(err_of(&d), WH_EID);
	/* a task case: link all or none; due_ms settable */
	wh_draft_init(&d, WH_OP_CASE_CREATE, "XJK-ZDY", 1, AREA "/zdy");
	wh_draft_str(&d, WH_F_TITLE, "排查地下室住户");
	wh_draft_str(&d, WH_F_EMERGENCY, "~EM-XC");
	wh_draft_str(&d, WH_F_TASK, "basement");
	CHECK_EQ(err_of(&d), WH_EFIELD);
	wh_draft_uint(&d, WH_F_EMERGENCY_SEQ, 1);
	wh_draft_uint(&d, WH_F_DUE_MS, T0 + H);
	CHECK_EQ(err_of(&d), WH_OK);
	wh_draft_init(&d, WH_OP_CASE_SET, "XJK-ZDY", 1, AREA "/zdy");
	wh_draft_str(&d, WH_F_TASK, "basement");
	CHECK_EQ(err_of(&d), WH_EFIELD); /* a link is for creates only */
	/* a plan task's area is a path */
	wh_draft_init(&d, WH_OP_PLAN_TASK, "~EP-XC", 1, "xicheng");
	wh_draft_str(&d, WH_F_TASK, "t");
	wh_draft_str(&d, WH_F_AREA, "Xicheng");
	wh_draft_str(&d, WH_F_TITLE, "x");
	CHECK_EQ(err_of(&d), WH_EPATH);
}

static struct wh_op *ptask(struct wh_key *k, uint64_t ms, const char *path,
			   const char *key, const char *area, const char *title,
			   uint64_t within)
{
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_PLAN_TASK, "~EP-XC", 1, path);
	wh_draft_str(&d, WH_F_TASK, key);
	wh_draft_str(&d, WH_F_AREA, area);
	wh_draft_str(&d, WH_F_TITLE, title);
	wh_draft_str(&d, WH_F_TEAM, "社区应急小分队");
	if (within)
		wh_draft_uint(&d, WH_F_WITHIN_MS, within);
	return mk(k, ms, &d);
}

static void plan(void)
{
	nops = 0;
	struct wh_op_draft d;
	struct wh_op *set[8];
	int n = 0;
	wh_draft_init(&d, WH_OP_PLAN_SET, "~EP-XC", 1, AREA);
	wh_draft_str(&d, WH_F_TITLE, "防汛应急预案");
	set[n++] = mk(ka, T0, &d);
	wh_draft_init(&d, WH_OP_PLAN_SET, "~EP-XC", 1, AREA);
	wh_draft_str(&d, WH_F_TITLE, "防汛应急预案 v2");
	wh_draft_uint(&d, WH_F_RULE, WH_EM_EXTEND);
	wh_draft_uint(&d, WH_F_EXTEND_MS, 24 * H);
	set[n++] = mk(kb, T0 + 10, &d);
	set[n++] = ptask(ka, T0 + 1, AREA, "basement", AREA, "排查地下室住户",
			 2 * H);
	set[n++] = ptask(ka, T0 + 2, AREA, "shelter", AREA "/zdy",
			 "开放避难场所", 0);
	set[n++] = ptask(ka, T0 + 3, AREA, "elderly", "xicheng/xisi",
			 "统计独居老人", H); /* outside the plan's path */
	set[n++] = ptask(kb, T0 + 11, AREA, "basement", AREA, "排查地下室",
			 3 * H);
	wh_draft_init(&d, WH_OP_PLAN_TASK_DEL, "~EP-XC", 1, AREA);
	wh_draft_str(&d, WH_F_TASK, "shelter");
	set[n++] = mk(ka, T0 + 12, &d);
	set[n++] = ptask(ka, T0 + 13, "xicheng", "late", "xicheng", "x", 0);
	qsort(set, (size_t)n, sizeof set[0], cmp_ptr);
	struct wh_plan p;
	wh_plan_init(&p, "~EP-XC", 1);
	for (int i = 0; i < n; i++)
		REQUIRE(wh_plan_apply(&p, set[i]) == WH_OK);
	CHECK(!strcmp(p.path, AREA));
	CHECK(p.has_header && !strcmp(p.title, "防汛应急预案 v2"));
	CHECK_EQ(p.rule, WH_EM_EXTEND);
	CHECK_EQ(p.extend_ms, 24 * H);
	CHECK_EQ(p.ntasks, 1);
	const struct wh_plan_task *t = wh_plan_find(&p, "basement");
	CHECK(t && !strcmp(t->title, "排查地下室") && t->within_ms == 3 * H);
	CHECK(!wh_plan_find(&p, "shelter"));
	CHECK(!wh_plan_find(&p, "elderly"));
	CHECK_EQ(p.nignored, 2); /* elderly (outside), late (other path) */
	CHECK(t && wh_plan_task_for(t, AREA "/zhaodengyu"));
	CHECK(t && !wh_plan_task_for(t, "xicheng/xisi/a"));
	wh_plan_fini(&p);
}

static void ids(void)
{
	char code[WH_CODE_MAX + 1], out[WH_CASE_ID_MAX];
	uint32_t seq;
	wh_doc_id_format("~EM-XJK", 7, out);
	CHECK(!strcmp(out, "EM-XJK-000007"));
	CHECK(wh_doc_id_parse(out, WH_EM_PREFIX, code, &seq) == WH_OK);
	CHECK(!strcmp(code, "~EM-XJK") && seq == 7);
	CHECK(wh_doc_id_parse("~EP-XC-2", WH_PLAN_PREFIX, code, &seq) ==
	      WH_OK);
	CHECK(!strcmp(code, "~EP-XC") && seq == 2);
	CHECK(wh_doc_id_parse("EP-XC-2", WH_EM_PREFIX, code, &seq) == WH_EID);
	CHECK(wh_doc_id_parse("EM-0", WH_EM_PREFIX, code, &seq) == WH_EID);
	CHECK(wh_doc_id_parse("EM--1", WH_EM_PREFIX, code, &seq) == WH_EID);
	CHECK(wh_doc_id_parse("XJK-000001", WH_EM_PREFIX, code, &seq) ==
	      WH_EID);
	CHECK(wh_em_code("ABCDEFGHIJKLM", code) == WH_EID); /* 13: too long */
	CHECK(wh_em_code("XJK", code) == WH_OK && !strcmp(code, "~EM-XJK"));
	CHECK_EQ(wh_em_rule_parse("顺延"), WH_EM_EXTEND);
	CHECK_EQ(wh_em_rule_parse("pause"), WH_EM_PAUSE);
	CHECK_EQ(wh_em_rule_parse("stop"), -1);
}

int main(void)
{
	REQUIRE(wh_crypto_init() == WH_OK);
	uint8_t s1[32] = {1}, s2[32] = {2};
	REQUIRE(wh_key_from_seed(s1, &ka) == WH_OK);
	REQUIRE(wh_key_from_seed(s2, &kb) == WH_OK);
	uint64_t seed = wh_test_seed("test_emergency");
	any_order(&seed);
	rules();
	op_rules();
	plan();
	ids();
	for (int i = 0; i < POOL; i++)
		wh_buf_fini(&bufs[i]);
	wh_key_free(ka);
	wh_key_free(kb);
	return wh_test_done("test_emergency");
}
