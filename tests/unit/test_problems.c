/*
 * test_problems.c: the problem list fold and merge (crdt/problems.h) on
 * hand-built signed ops, no store: last writer wins by fold order whatever
 * the arrival order, delete and re-add, a delete concurrent with an
 * earlier set, other kinds ignored, the entry bound, and the merge of a
 * district's and a street's lists.
 */
#include "mp.h"
#include "problems.h"
#include "wh_test.h"

#define DIST "xicheng"
#define STREET "xicheng/xinjiekou"
#define T0 1790000000000ull
#define POOL 2100

static struct wh_key *ka, *kb;

/* Ops built during a test; the pool is reused by each test. */
static struct wh_buf bufs[POOL];
static struct wh_op ops[POOL];
static int nops;

static struct wh_op *mk(struct wh_key *k, uint64_t ms, struct wh_op_draft *d)
{
	REQUIRE(nops < POOL);
	d->hlc = WH_HLC_MAKE(ms, 0);
	struct wh_buf *b = &bufs[nops];
	wh_buf_reset(b);
	REQUIRE(wh_op_build(d, k, b) == WH_OK);
	REQUIRE(wh_op_decode(b->p, b->len, &ops[nops]) == WH_OK);
	return &ops[nops++];
}

/* A SET on list 'code' at 'path'; depts is "a,b" or NULL. */
static struct wh_op *pset(struct wh_key *k, uint64_t ms, const char *code,
			  const char *path, const char *cat, const char *lead,
			  const char *depts, uint64_t report_ms,
			  const char *text)
{
	struct wh_op_draft d;
	struct wh_buf arr = {0};
	uint32_t nd = 0;
	wh_draft_init(&d, WH_OP_PROBLEM_SET, code, 1, path);
	wh_draft_str(&d, WH_F_CATEGORY, cat);
	wh_draft_str(&d, WH_F_LEAD, lead);
	char tmp[256];
	if (depts) {
		snprintf(tmp, sizeof tmp, "%s", depts);
		for (char *s = strtok(tmp, ","); s; s = strtok(NULL, ",")) {
			wh_mpw_cstr(&arr, s);
			nd++;
		}
		wh_draft_array(&d, WH_F_DEPTS, arr.p, arr.len, nd);
	}
	if (report_ms)
		wh_draft_uint(&d, WH_F_REPORT_MS, report_ms);
	if (text)
		wh_draft_str(&d, WH_F_TEXT, text);
	struct wh_op *op = mk(k, ms, &d);
	wh_buf_fini(&arr);
	return op;
}

static struct wh_op *pdel(struct wh_key *k, uint64_t ms, const char *code,
			  const char *path, const char *cat)
{
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_PROBLEM_DEL, code, 1, path);
	wh_draft_str(&d, WH_F_CATEGORY, cat);
	return mk(k, ms, &d);
}

/* District list shorthands. */
static struct wh_op *dset(struct wh_key *k, uint64_t ms, const char *cat,
			  const char *lead)
{
	return pset(k, ms, "~PL-XC", DIST, cat, lead, NULL, 0, NULL);
}

static struct wh_op *ddel(struct wh_key *k, uint64_t ms, const char *cat)
{
	return pdel(k, ms, "~PL-XC", DIST, cat);
}

static int cmp_ptr(const void *a, const void *b)
{
	return wh_op_cmp(*(const struct wh_op *const *)a,
			 *(const struct wh_op *const *)b);
}

/* Fold ops given in any order (sorted first, as every replica does) into
 * l, and its canonical text into txt if not NULL. */
static void fold(struct wh_op **set, int n, const char *code,
		 const char *path, struct wh_problems *l, struct wh_buf *txt)
{
	struct wh_op **sorted = wh_xcalloc((size_t)n + 1, sizeof *sorted);
	memcpy(sorted, set, (size_t)n * sizeof set[0]);
	qsort(sorted, (size_t)n, sizeof sorted[0], cmp_ptr);
	REQUIRE(wh_problems_init(l, code, path) == WH_OK);
	for (int i = 0; i < n; i++)
		REQUIRE(wh_problems_apply(l, sorted[i]) == WH_OK);
	free(sorted);
	if (txt) {
		wh_buf_reset(txt);
		wh_problems_text(l, txt);
	}
}

static int same_buf(const struct wh_buf *a, const struct wh_buf *b)
{
	return a->len == b->len && (!a->len || !memcmp(a->p, b->p, a->len));
}

static void shuffle(struct wh_op **set, int n, uint64_t *seed)
{
	for (int i = n - 1; i > 0; i--) {
		int j = (int)wh_test_below(seed, (uint64_t)i + 1);
		struct wh_op *t = set[i];
		set[i] = set[j];
		set[j] = t;
	}
}

static const char *lead_of(const struct wh_problems *l, const char *cat)
{
	const struct wh_problem_entry *e = wh_problems_find(l, cat);
	return e ? e->lead : NULL;
}

static void lww_any_order(uint64_t *seed)
{
	nops = 0;
	struct wh_op *set[5] = {
		pset(ka, T0 + 1, "~PL-XC", DIST, "楼道堆物", "城管",
		     "城管,消防", 7200000, "先清后罚"),
		dset(kb, T0 + 9, "楼道堆物", "消防"), /* later: wins */
		dset(ka, T0 + 5, "楼道堆物", "住建"),
		dset(kb, T0 + 3, "占道经营", "城管"),
		dset(ka, T0 + 4, "开墙打洞", "城管"),
	};
	struct wh_problems l;
	struct wh_buf ref = {0}, txt = {0};
	fold(set, 5, "~PL-XC", DIST, &l, &ref);
	CHECK_EQ(l.n, 3);
	CHECK_EQ(l.nops, 5);
	CHECK(!strcmp(lead_of(&l, "楼道堆物"), "消防"));
	const struct wh_problem_entry *e = wh_problems_find(&l, "楼道堆物");
	REQUIRE(e);
	/* the whole entry is replaced: the first SET's departments, limit
	 * and text are gone */
	CHECK_EQ(e->ndepts, 0);
	CHECK_EQ(e->report_ms, 0);
	CHECK(e->text == NULL);
	CHECK(e->set_at == WH_HLC_MAKE(T0 + 9, 0));
	CHECK(!memcmp(e->set_by, kb->pk, WH_PK_BYTES));
	CHECK(!strcmp(e->path, DIST));
	/* sorted by category, bytewise */
	for (uint32_t i = 1; i < l.n; i++)
		CHECK(strcmp(l.e[i - 1].category, l.e[i].category) < 0);
	/* an op sorting before the fold position is refused, l unchanged */
	CHECK_EQ(wh_problems_apply(&l, set[0]), WH_EINVAL);
	CHECK_EQ(l.nops, 5);
	wh_problems_fini(&l);

	/* two arrival orders, then many: the same bytes */
	struct wh_op *rev[5] = {set[4], set[3], set[2], set[1], set[0]};
	fold(rev, 5, "~PL-XC", DIST, &l, &txt);
	CHECK(same_buf(&ref, &txt));
	wh_problems_fini(&l);
	for (int it = 0; it < 300; it++) {
		shuffle(set, 5, seed);
		fold(set, 5, "~PL-XC", DIST, &l, &txt);
		CHECK(same_buf(&ref, &txt));
		wh_problems_fini(&l);
	}

	/* equal stamps: the author key breaks the tie, the same everywhere */
	nops = 0;
	struct wh_op *tie[2] = {dset(ka, T0 + 5, "居住停车", "交通"),
				dset(kb, T0 + 5, "居住停车", "公安")};
	fold(tie, 2, "~PL-XC", DIST, &l, NULL);
	const char *want = memcmp(ka->pk, kb->pk, 32) > 0 ? "交通" : "公安";
	CHECK(!strcmp(lead_of(&l, "居住停车"), want));
	wh_problems_fini(&l);
	wh_buf_fini(&ref);
	wh_buf_fini(&txt);
}

static void del_and_readd(void)
{
	nops = 0;
	struct wh_op *s1 = dset(ka, T0 + 1, "违法建设", "城管");
	struct wh_op *d1 = ddel(ka, T0 + 2, "违法建设");
	struct wh_op *s2 = dset(kb, T0 + 3, "违法建设", "住建");
	struct wh_problems l;
	struct wh_op *gone[2] = {d1, s1};
	fold(gone, 2, "~PL-XC", DIST, &l, NULL);
	CHECK_EQ(l.n, 0);
	CHECK(wh_problems_find(&l, "违法建设") == NULL);
	wh_problems_fini(&l);
	/* a SET after the DEL adds it again, with the new content */
	struct wh_op *back[3] = {s2, d1, s1};
	fold(back, 3, "~PL-XC", DIST, &l, NULL);
	CHECK_EQ(l.n, 1);
	CHECK(!strcmp(lead_of(&l, "违法建设"), "住建"));
	wh_problems_fini(&l);
	/* deleting what is not there changes nothing but the count */
	struct wh_op *only[1] = {ddel(ka, T0 + 4, "盗挖盗采")};
	fold(only, 1, "~PL-XC", DIST, &l, NULL);
	CHECK_EQ(l.n, 0);
	CHECK_EQ(l.nops, 1);
	wh_problems_fini(&l);
}

static void del_concurrent_with_earlier_set(void)
{
	/* B set the entry at +5 without seeing A's delete at +6 (or the
	 * other way round): the DEL sorts later and wins, whichever arrives
	 * first; had the SET been later, it would have won. */
	nops = 0;
	struct wh_op *s = dset(kb, T0 + 5, "垃圾满溢", "城管");
	struct wh_op *d = ddel(ka, T0 + 6, "垃圾满溢");
	struct wh_problems l;
	struct wh_buf a = {0}, b = {0};
	struct wh_op *o1[2] = {d, s}, *o2[2] = {s, d};
	fold(o1, 2, "~PL-XC", DIST, &l, &a);
	CHECK(wh_problems_find(&l, "垃圾满溢") == NULL);
	wh_problems_fini(&l);
	fold(o2, 2, "~PL-XC", DIST, &l, &b);
	CHECK(wh_problems_find(&l, "垃圾满溢") == NULL);
	CHECK(same_buf(&a, &b));
	wh_problems_fini(&l);
	struct wh_op *d0 = ddel(ka, T0 + 4, "垃圾满溢");
	struct wh_op *o3[2] = {s, d0};
	fold(o3, 2, "~PL-XC", DIST, &l, NULL);
	CHECK(!strcmp(lead_of(&l, "垃圾满溢"), "城管"));
	wh_problems_fini(&l);
	wh_buf_fini(&a);
	wh_buf_fini(&b);
}

static void other_kinds_and_objects(void)
{
	nops = 0;
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_CASE_NOTE, "~PL-XC", 1, DIST);
	wh_draft_str(&d, WH_F_TEXT, "不是清单条目");
	struct wh_op *note = mk(ka, T0 + 2, &d);
	wh_draft_init(&d, WH_OP_CASE_SET, "~PL-XC", 1, DIST);
	wh_draft_str(&d, WH_F_CATEGORY, "物业管理");
	struct wh_op *cset = mk(kb, T0 + 3, &d);
	struct wh_op *set[3] = {dset(ka, T0 + 1, "物业管理", "住建"), note,
				cset};
	struct wh_problems l;
	fold(set, 3, "~PL-XC", DIST, &l, NULL);
	CHECK_EQ(l.n, 1);
	CHECK_EQ(l.nignored, 2);
	CHECK(!strcmp(lead_of(&l, "物业管理"), "住建"));
	/* ops of another object, seq or path are not this list's */
	struct wh_op *x1 = pset(ka, T0 + 9, "~PL-XJK", DIST, "物业管理", "城管",
				NULL, 0, NULL);
	struct wh_op *x2 = pset(ka, T0 + 9, "~PL-XC", STREET, "物业管理",
				"城管", NULL, 0, NULL);
	wh_draft_init(&d, WH_OP_PROBLEM_DEL, "~PL-XC", 2, DIST);
	wh_draft_str(&d, WH_F_CATEGORY, "物业管理");
	struct wh_op *x3 = mk(ka, T0 + 9, &d);
	CHECK_EQ(wh_problems_apply(&l, x1), WH_EINVAL);
	CHECK_EQ(wh_problems_apply(&l, x2), WH_EINVAL);
	CHECK_EQ(wh_problems_apply(&l, x3), WH_EINVAL);
	CHECK_EQ(l.nops, 3);
	CHECK(!strcmp(lead_of(&l, "物业管理"), "住建"));
	wh_problems_fini(&l);
}

static void bound(uint64_t *seed)
{
	/* WH_PROBLEMS_MAX + 5 categories: the last 5 in fold order are
	 * dropped, whatever the arrival order */
	nops = 0;
	int n = (int)WH_PROBLEMS_MAX + 5;
	struct wh_op **set = wh_xcalloc((size_t)n + 2, sizeof *set);
	char cat[32];
	for (int i = 0; i < n; i++) {
		snprintf(cat, sizeof cat, "类别%05d", i);
		set[i] = dset(i % 2 ? ka : kb, T0 + 10 + (uint64_t)i, cat,
			      "城管");
	}
	struct wh_problems l;
	struct wh_buf ref = {0}, txt = {0};
	fold(set, n, "~PL-XC", DIST, &l, &ref);
	CHECK_EQ(l.n, WH_PROBLEMS_MAX);
	CHECK_EQ(l.ndropped, 5);
	CHECK(wh_problems_find(&l, "类别01023") != NULL);
	CHECK(wh_problems_find(&l, "类别01024") == NULL);
	wh_problems_fini(&l);
	shuffle(set, n, seed);
	fold(set, n, "~PL-XC", DIST, &l, &txt);
	CHECK(same_buf(&ref, &txt));
	wh_problems_fini(&l);
	/* a SET of a known category when full still replaces it, and a
	 * DEL frees a place for a later new category */
	set[n] = ddel(ka, T0 + 5000, "类别00000");
	set[n + 1] = dset(ka, T0 + 5001, "类别99999", "应急");
	fold(set, n + 2, "~PL-XC", DIST, &l, NULL);
	CHECK_EQ(l.n, WH_PROBLEMS_MAX);
	CHECK(wh_problems_find(&l, "类别00000") == NULL);
	CHECK(!strcmp(lead_of(&l, "类别99999"), "应急"));
	wh_problems_fini(&l);
	free(set);
	wh_buf_fini(&ref);
	wh_buf_fini(&txt);
}

static void merge(void)
{
	nops = 0;
	struct wh_op *dist[3] = {
		pset(ka, T0 + 1, "~PL-XC", DIST, "楼道堆物", "城管", "城管,消防",
		     24 * 3600000ull, NULL),
		dset(ka, T0 + 2, "占道经营", "城管"),
		dset(ka, T0 + 30, "加装电梯", "住建"), /* later than street */
	};
	struct wh_op *street[3] = {
		pset(kb, T0 + 10, "~PL-XJK", STREET, "楼道堆物", "消防",
		     "消防,公安", 2 * 3600000ull, "街道覆盖"),
		pset(kb, T0 + 11, "~PL-XJK", STREET, "加装电梯", "街道", NULL,
		     0, NULL),
		pset(kb, T0 + 12, "~PL-XJK", STREET, "矛盾纠纷", "司法所", NULL,
		     0, NULL),
	};
	struct wh_problems ld, ls;
	fold(dist, 3, "~PL-XC", DIST, &ld, NULL);
	fold(street, 3, "~PL-XJK", STREET, &ls, NULL);
	const struct wh_problems *both[2] = {&ld, &ls}, *rboth[2] = {&ls, &ld};
	struct wh_problems_merged m;
	struct wh_buf a = {0}, b = {0};

	/* a station of the street: the street's entries win for their
	 * categories only, however old; the district's fill the rest */
	REQUIRE(wh_problems_merge(both, 2, STREET "/zhaodengyu/g07", &m) ==
		WH_OK);
	CHECK_EQ(m.n, 4);
	const struct wh_problem_entry *e =
		wh_problems_merged_find(&m, "楼道堆物");
	REQUIRE(e);
	CHECK(!strcmp(e->lead, "消防") && !strcmp(e->path, STREET));
	CHECK(e->ndepts == 2 && !strcmp(e->depts[1], "公安"));
	CHECK(e->report_ms == 2 * 3600000ull);
	CHECK(!strcmp(wh_problems_merged_find(&m, "加装电梯")->lead, "街道"));
	e = wh_problems_merged_find(&m, "占道经营");
	CHECK(e && !strcmp(e->path, DIST));
	CHECK(wh_problems_merged_find(&m, "矛盾纠纷") != NULL);
	CHECK(wh_problems_merged_find(&m, "违法建设") == NULL);
	wh_problems_merged_text(&m, &a);
	wh_problems_merged_fini(&m);
	REQUIRE(wh_problems_merge(rboth, 2, STREET "/zhaodengyu/g07", &m) ==
		WH_OK);
	wh_problems_merged_text(&m, &b);
	CHECK(same_buf(&a, &b)); /* the order of the lists does not matter */
	wh_problems_merged_fini(&m);

	/* another street's station, and the district itself: the
	 * district's list alone */
	const char *others[2] = {"xicheng/shichahai/yandaixiejie", DIST};
	for (int i = 0; i < 2; i++) {
		REQUIRE(wh_problems_merge(both, 2, others[i], &m) == WH_OK);
		CHECK_EQ(m.n, 3);
		e = wh_problems_merged_find(&m, "楼道堆物");
		CHECK(e && !strcmp(e->lead, "城管") && !strcmp(e->path, DIST));
		CHECK(wh_problems_merged_find(&m, "矛盾纠纷") == NULL);
		wh_problems_merged_fini(&m);
	}
	/* a path that merely starts with the street's is not under it */
	REQUIRE(wh_problems_merge(both, 2, "xicheng/xinjiekou2/a", &m) ==
		WH_OK);
	CHECK(!strcmp(wh_problems_merged_find(&m, "楼道堆物")->lead, "城管"));
	wh_problems_merged_fini(&m);
	CHECK_EQ(wh_problems_merge(both, 2, "Bad Path", &m), WH_EINVAL);

	/* the street removes its override: the district's entry shows */
	struct wh_op *street2[4] = {street[0], street[1], street[2],
				    pdel(kb, T0 + 40, "~PL-XJK", STREET,
					 "楼道堆物")};
	wh_problems_fini(&ls);
	fold(street2, 4, "~PL-XJK", STREET, &ls, NULL);
	REQUIRE(wh_problems_merge(both, 2, STREET "/zhaodengyu", &m) == WH_OK);
	e = wh_problems_merged_find(&m, "楼道堆物");
	CHECK(e && !strcmp(e->lead, "城管") && !strcmp(e->path, DIST));
	wh_problems_merged_fini(&m);

	/* two lists at one path tie: the later SET wins */
	nops = 0;
	struct wh_op *other[1] = {pset(kb, T0 + 50, "~PL-XC2", DIST,
				       "占道经营", "市场监管", NULL, 0, NULL)};
	struct wh_problems lo;
	fold(other, 1, "~PL-XC2", DIST, &lo, NULL);
	const struct wh_problems *three[3] = {&lo, &ld, &ls};
	REQUIRE(wh_problems_merge(three, 3, DIST, &m) == WH_OK);
	CHECK(!strcmp(wh_problems_merged_find(&m, "占道经营")->lead,
		      "市场监管"));
	wh_problems_merged_fini(&m);
	wh_problems_fini(&lo);
	wh_problems_fini(&ld);
	wh_problems_fini(&ls);
	wh_buf_fini(&a);
	wh_buf_fini(&b);
}

static void entries_and_codes(void)
{
	char code[WH_CODE_MAX + 1];
	CHECK_EQ(wh_problems_code("XC", code), WH_OK);
	CHECK(!strcmp(code, "~PL-XC"));
	CHECK(wh_problems_is_list(code));
	CHECK(!wh_problems_is_list("~RO-XC"));
	CHECK(!wh_problems_is_list("XJK-ZDY"));
	CHECK_EQ(wh_problems_code("ABCDEFGHIJKL", code), WH_OK); /* 12 */
	CHECK_EQ(wh_problems_code("ABCDEFGHIJKLM", code), WH_EID); /* 13 */
	CHECK_EQ(wh_problems_code("xc", code), WH_EID);
	struct wh_problems l;
	CHECK_EQ(wh_problems_init(&l, "~PL-XC", "Bad"), WH_EINVAL);

	/* an entry round-trips through a SET built from it */
	nops = 0;
	struct wh_op *s = pset(ka, T0, "~PL-XC", DIST, "煤改电", "住建",
			       "住建,供电公司", 24 * 3600000ull,
			       "含\t制表符, 逗号\\反斜杠");
	struct wh_op *set[1] = {s};
	fold(set, 1, "~PL-XC", DIST, &l, NULL);
	const struct wh_problem_entry *e = wh_problems_find(&l, "煤改电");
	REQUIRE(e);
	struct wh_problem_entry c;
	wh_problem_entry_copy(&c, e);
	CHECK(wh_problem_entry_same(&c, e));
	struct wh_buf arr = {0};
	wh_problem_depts_encode(&c, &arr);
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_PROBLEM_SET, "~PL-XC", 1, DIST);
	wh_draft_str(&d, WH_F_CATEGORY, c.category);
	wh_draft_str(&d, WH_F_LEAD, c.lead);
	wh_draft_array(&d, WH_F_DEPTS, arr.p, arr.len, c.ndepts);
	wh_draft_uint(&d, WH_F_REPORT_MS, c.report_ms);
	wh_draft_str(&d, WH_F_TEXT, c.text);
	struct wh_op *again = mk(kb, T0 + 1, &d);
	CHECK_EQ(wh_problems_apply(&l, again), WH_OK);
	CHECK(wh_problem_entry_same(wh_problems_find(&l, "煤改电"), &c));
	/* a change in any part is a change */
	free(c.depts[1]);
	c.depts[1] = wh_xstrndup("燃气公司", strlen("燃气公司"));
	CHECK(!wh_problem_entry_same(wh_problems_find(&l, "煤改电"), &c));
	wh_problem_entry_fini(&c);
	/* the canonical text escapes what would break its lines */
	struct wh_buf t = {0};
	wh_problems_text(&l, &t);
	wh_buf_append(&t, "", 1);
	CHECK(strstr((char *)t.p, "\"含\\t制表符\\, 逗号\\\\反斜杠\"") != NULL);
	CHECK(strstr((char *)t.p, "住建,供电公司\t86400000\t0\t") != NULL);
	int lines = 0;
	for (size_t i = 0; i + 1 < t.len; i++)
		lines += t.p[i] == '\n';
	CHECK_EQ(lines, 1);
	wh_buf_fini(&t);
	wh_buf_fini(&arr);
	wh_problems_fini(&l);
}

int main(void)
{
	REQUIRE(wh_crypto_init() == WH_OK);
	REQUIRE(wh_key_generate(&ka) == WH_OK);
	REQUIRE(wh_key_generate(&kb) == WH_OK);
	uint64_t seed = wh_test_seed("test_problems");
	lww_any_order(&seed);
	del_and_readd();
	del_concurrent_with_earlier_set();
	other_kinds_and_objects();
	bound(&seed);
	merge();
	entries_and_codes();
	for (int i = 0; i < POOL; i++)
		wh_buf_fini(&bufs[i]);
	wh_key_free(ka);
	wh_key_free(kb);
	return wh_test_done("test_problems");
}
