/*
 * test_store_emergency.c: emergencies in a real store (store.h,
 * "Emergencies").
 *
 *   - two stores given an emergency's ops in different orders hold the
 *     same folded record, and so does a rebuild; the active query by
 *     COVERS and WITHIN; the change counter moves;
 *   - task cases once: a second author of the same tasks makes nothing,
 *     nor after reopening the store, nor on a store that got the task
 *     case from elsewhere; the task list finds them;
 *   - a bound store: a station may not declare, a street only within its
 *     street, a district may end a street's emergency, an administrator
 *     may publish a plan but not declare.
 */
#include "emergency.h"
#include "roster.h"
#include "test_store_util.h"

#define ZDY "xicheng/xinjiekou/zhaodengyu"
#define XIN "xicheng/xinjiekou"
#define H 3600000ull

static void em_ops(struct t_ops *o, const struct wh_key *k)
{
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_EMERGENCY, "~EM-XC", 1, XIN);
	wh_draft_uint(&d, WH_F_START_MS, T_NOW - H);
	wh_draft_str(&d, WH_F_TITLE, "暴雨");
	t_build(o, &d, k, WH_HLC_MAKE(T_NOW - H, 0));
	wh_draft_init(&d, WH_OP_EMERGENCY, "~EM-XC", 1, XIN);
	wh_draft_uint(&d, WH_F_START_MS, T_NOW - H);
	wh_draft_uint(&d, WH_F_END_MS, T_NOW + 5 * H);
	t_build(o, &d, k, WH_HLC_MAKE(T_NOW - H + 5, 0));
	wh_draft_init(&d, WH_OP_EMERGENCY_END, "~EM-XC", 1, XIN);
	wh_draft_uint(&d, WH_F_END_MS, T_NOW + 2 * H);
	t_build(o, &d, k, WH_HLC_MAKE(T_NOW - H + 9, 0));
	/* another one, on a sibling street, ended already */
	wh_draft_init(&d, WH_OP_EMERGENCY, "~EM-XC", 2, "xicheng/xisi");
	wh_draft_uint(&d, WH_F_START_MS, T_NOW - 3 * H);
	wh_draft_uint(&d, WH_F_END_MS, T_NOW - 2 * H);
	t_build(o, &d, k, WH_HLC_MAKE(T_NOW - 3 * H, 0));
}

static void record(struct wh_store *s, uint32_t seq, struct wh_buf *out)
{
	struct wh_emergency e;
	REQUIRE(wh_store_emergency_get(s, "~EM-XC", seq, &e) == WH_OK);
	wh_buf_reset(out);
	wh_em_encode(&e, out);
}

static int same(const struct wh_buf *a, const struct wh_buf *b)
{
	return a->len == b->len && !memcmp(a->p, b->p, a->len);
}

static void fold_and_query(const struct wh_key *k)
{
	char da[512], db[512];
	t_tmpdir(da, "em-a");
	t_tmpdir(db, "em-b");
	struct wh_store *a = t_open(da, 0, 0), *b = t_open(db, 0, 0);
	struct t_ops o = {0};
	em_ops(&o, k);
	uint64_t g0, g1;
	REQUIRE(wh_store_emergency_gen(a, &g0) == WH_OK);
	size_t fwd[4] = {0, 1, 2, 3}, back[4] = {3, 2, 1, 0};
	t_ingest(a, &o, fwd, 4, 1);
	t_ingest(b, &o, back, 4, 0);
	REQUIRE(wh_store_emergency_gen(a, &g1) == WH_OK);
	CHECK(g1 > g0);
	struct wh_buf ra = {0}, rb = {0};
	record(a, 1, &ra);
	record(b, 1, &rb);
	CHECK(same(&ra, &rb));
	struct wh_emergency e;
	REQUIRE(wh_em_decode(ra.p, ra.len, &e) == WH_OK);
	CHECK_EQ(wh_em_until(&e), T_NOW + 2 * H);
	CHECK(!strcmp(e.area, XIN));
	REQUIRE(wh_store_rebuild(a) == WH_OK);
	record(a, 1, &rb);
	CHECK(same(&ra, &rb));
	size_t n = 99;
	REQUIRE(wh_store_emergency_active(a, ZDY, T_NOW, WH_EM_COVERS, NULL,
					  NULL, &n) == WH_OK);
	CHECK_EQ(n, 1);
	REQUIRE(wh_store_emergency_active(a, "xicheng", T_NOW, WH_EM_COVERS,
					  NULL, NULL, &n) == WH_OK);
	CHECK_EQ(n, 0); /* the district is not under it ... */
	REQUIRE(wh_store_emergency_active(a, "xicheng", T_NOW, WH_EM_WITHIN,
					  NULL, NULL, &n) == WH_OK);
	CHECK_EQ(n, 1); /* ... but it lies within the district */
	REQUIRE(wh_store_emergency_active(a, "", T_NOW, WH_EM_WITHIN, NULL,
					  NULL, &n) == WH_OK);
	CHECK_EQ(n, 1); /* the sibling street's is over */
	REQUIRE(wh_store_emergency_active(a, ZDY, T_NOW + 3 * H,
					  WH_EM_COVERS | WH_EM_WITHIN, NULL,
					  NULL, &n) == WH_OK);
	CHECK_EQ(n, 0);
	CHECK(wh_store_emergency_active(a, "Bad", T_NOW, WH_EM_COVERS, NULL,
					NULL, &n) == WH_EPATH);
	CHECK(wh_store_emergency_get(a, "~EM-XC", 9, &e) == WH_ENOTFOUND);
	wh_buf_fini(&ra);
	wh_buf_fini(&rb);
	t_ops_free(&o);
	wh_store_close(a);
	wh_store_close(b);
	t_rmdir(da);
	t_rmdir(db);
}

static void task_draft(struct wh_op_draft *d, const char *task)
{
	wh_draft_init(d, WH_OP_CASE_CREATE, "XJK-ZDY", 0, ZDY);
	wh_draft_str(d, WH_F_TITLE, task);
	wh_draft_uint(d, WH_F_PRIORITY, WH_PRI_URGENT);
	wh_draft_str(d, WH_F_EMERGENCY, "~EM-XC");
	wh_draft_uint(d, WH_F_EMERGENCY_SEQ, 1);
	wh_draft_str(d, WH_F_TASK, task);
	wh_draft_uint(d, WH_F_DUE_MS, T_NOW + H);
}

static int count_case(void *ctx, const struct wh_case *c)
{
	(void)c;
	++*(int *)ctx;
	return 0;
}

static void tasks_once(const struct wh_key *k)
{
	char dir[512], dir2[512];
	t_tmpdir(dir, "em-task");
	t_tmpdir(dir2, "em-task2");
	struct wh_store *s = t_open(dir, 0, 0);
	uint64_t now = T_NOW;
	struct wh_op_draft d[3];
	task_draft(&d[0], "basement");
	task_draft(&d[1], "shelter");
	task_draft(&d[2], "basement"); /* the same task twice in one call */
	uint8_t created[3];
	struct wh_buf out = {0};
	REQUIRE(wh_store_task_author(s, k, d, 3, t_clock, &now, NULL, &out,
				     created) == WH_OK);
	CHECK(created[0] && created[1] && !created[2]);
	struct wh_store_info in;
	REQUIRE(wh_store_info(s, &in) == WH_OK);
	CHECK_EQ(in.cases, 2);
	for (int i = 0; i < 3; i++)
		task_draft(&d[i], i ? "shelter" : "basement");
	REQUIRE(wh_store_task_author(s, k, d, 2, t_clock, &now, NULL, NULL,
				     created) == WH_OK);
	CHECK(!created[0] && !created[1]);
	wh_store_close(s);
	s = t_open(dir, 0, 0);
	REQUIRE(wh_store_task_author(s, k, d, 2, t_clock, &now, NULL, NULL,
				     created) == WH_OK);
	CHECK(!created[0] && !created[1]);
	REQUIRE(wh_store_info(s, &in) == WH_OK);
	CHECK_EQ(in.cases, 2);
	int n = 0;
	REQUIRE(wh_store_emergency_tasks(s, "~EM-XC", 1, count_case, &n) ==
		WH_OK);
	CHECK_EQ(n, 2);
	n = 0;
	REQUIRE(wh_store_emergency_tasks(s, "~EM-XC", 2, count_case, &n) ==
		WH_OK);
	CHECK_EQ(n, 0);
	/* A store that got the task cases from elsewhere (a restore from
	 * an export) makes none again. */
	struct wh_store *s2 = t_open(dir2, 0, 0);
	struct t_ops o = {0};
	struct wh_op op;
	for (size_t at = 0; at < out.len; at += op.raw.n) {
		/* ops_out holds the ops back to back: find each one's end
		 * by decoding prefixes (an op is self-delimiting). */
		size_t len = 0;
		for (size_t m = 100; at + m <= out.len; m++)
			if (wh_op_decode(out.p + at, m, &op) == WH_OK) {
				len = m;
				break;
			}
		REQUIRE(len);
		t_ops_add(&o, out.p + at, len);
	}
	CHECK_EQ(o.n, 2);
	t_ingest(s2, &o, NULL, o.n, 0);
	task_draft(&d[0], "basement");
	REQUIRE(wh_store_task_author(s2, k, d, 1, t_clock, &now, NULL, NULL,
				     created) == WH_OK);
	CHECK(!created[0]);
	/* A draft that is no linked create is refused, nothing stored. */
	wh_draft_init(&d[0], WH_OP_CASE_CREATE, "XJK-ZDY", 0, ZDY);
	wh_draft_str(&d[0], WH_F_TITLE, "x");
	CHECK(wh_store_task_author(s2, k, d, 1, t_clock, &now, NULL, NULL,
				   created) == WH_EINVAL);
	t_ops_free(&o);
	wh_buf_fini(&out);
	wh_store_close(s);
	wh_store_close(s2);
	t_rmdir(dir);
	t_rmdir(dir2);
}

static void grant(struct wh_roster *r, const struct wh_key *k, int role,
		  const char *path, const char *code)
{
	r->grants =
	    wh_xrealloc(r->grants, (r->ngrants + 1) * sizeof *r->grants);
	struct wh_grant *g = &r->grants[r->ngrants++];
	memset(g, 0, sizeof *g);
	memcpy(g->key, k->pk, WH_PK_BYTES);
	snprintf(g->name, sizeof g->name, "m%u", r->ngrants);
	g->role = (uint8_t)role;
	snprintf(g->path, sizeof g->path, "%s", path);
	snprintf(g->code, sizeof g->code, "%s", code);
	g->from_ms = T_NOW - 86400000ull;
}

static int ingest1(struct wh_store *s, struct wh_op_draft *d,
		   const struct wh_key *k, uint64_t ms)
{
	struct wh_buf b = {0};
	d->hlc = WH_HLC_MAKE(ms, 0);
	REQUIRE(wh_op_build(d, k, &b) == WH_OK);
	struct wh_slice sl = {b.p, b.len};
	struct wh_ingest_opts io = {T_NOW + 60000, NULL, 0};
	int res = 99;
	REQUIRE(wh_store_ingest(s, &sl, 1, &io, &res, NULL) == WH_OK);
	wh_buf_fini(&b);
	return res;
}

static void bound(void)
{
	char dir[512];
	t_tmpdir(dir, "em-bound");
	struct wh_store *s = t_open(dir, 0, 0);
	struct wh_key *auth, *sta, *street, *dis, *admin;
	REQUIRE(wh_key_generate(&auth) == WH_OK);
	REQUIRE(wh_key_generate(&sta) == WH_OK);
	REQUIRE(wh_key_generate(&street) == WH_OK);
	REQUIRE(wh_key_generate(&dis) == WH_OK);
	REQUIRE(wh_key_generate(&admin) == WH_OK);
	REQUIRE(wh_store_authority_set(s, auth->pk) == WH_OK);
	struct wh_roster r = {0};
	snprintf(r.scope, sizeof r.scope, "xicheng");
	r.serial = 1;
	r.issued_ms = T_NOW - 86400000ull;
	grant(&r, sta, WH_MROLE_STATION, ZDY, "XJK-ZDY");
	grant(&r, street, WH_MROLE_STREET, XIN, "XJK");
	grant(&r, dis, WH_MROLE_DISTRICT, "xicheng", "XC");
	grant(&r, admin, WH_MROLE_ADMIN, "xicheng", "");
	struct wh_buf rb = {0};
	REQUIRE(wh_roster_build(&r, auth, &rb) == WH_OK);
	REQUIRE(wh_store_roster_put(s, rb.p, rb.len, NULL, NULL) == WH_OK);
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_EMERGENCY, "~EM-ZDY", 1, ZDY);
	wh_draft_uint(&d, WH_F_START_MS, T_NOW);
	CHECK_EQ(ingest1(s, &d, sta, T_NOW), WH_EROLE);
	wh_draft_init(&d, WH_OP_EMERGENCY, "~EM-XJK", 1, "xicheng/xisi");
	wh_draft_uint(&d, WH_F_START_MS, T_NOW);
	CHECK_EQ(ingest1(s, &d, street, T_NOW), WH_EJURIS);
	wh_draft_init(&d, WH_OP_EMERGENCY, "~EM-XC", 1, XIN);
	wh_draft_uint(&d, WH_F_START_MS, T_NOW);
	CHECK_EQ(ingest1(s, &d, admin, T_NOW), WH_EROLE);
	wh_draft_init(&d, WH_OP_EMERGENCY, "~EM-XJK", 1, XIN);
	wh_draft_uint(&d, WH_F_START_MS, T_NOW);
	CHECK_EQ(ingest1(s, &d, street, T_NOW), WH_OK);
	wh_draft_init(&d, WH_OP_EMERGENCY_END, "~EM-XJK", 1, XIN);
	wh_draft_uint(&d, WH_F_END_MS, T_NOW + 1);
	CHECK_EQ(ingest1(s, &d, sta, T_NOW + 1), WH_EROLE);
	CHECK_EQ(ingest1(s, &d, dis, T_NOW + 2), WH_OK);
	struct wh_emergency e;
	REQUIRE(wh_store_emergency_get(s, "~EM-XJK", 1, &e) == WH_OK);
	CHECK_EQ(wh_em_until(&e), T_NOW + 1);
	CHECK(!memcmp(e.ended_by, dis->pk, WH_PK_BYTES));
	wh_draft_init(&d, WH_OP_PLAN_SET, "~EP-ADM", 1, "xicheng");
	wh_draft_str(&d, WH_F_TITLE, "防汛应急预案");
	CHECK_EQ(ingest1(s, &d, admin, T_NOW), WH_OK);
	CHECK_EQ(ingest1(s, &d, sta, T_NOW + 5), WH_EROLE);
	wh_roster_fini(&r);
	wh_buf_fini(&rb);
	wh_key_free(auth);
	wh_key_free(sta);
	wh_key_free(street);
	wh_key_free(dis);
	wh_key_free(admin);
	wh_store_close(s);
	t_rmdir(dir);
}

int main(void)
{
	REQUIRE(wh_crypto_init() == WH_OK);
	uint8_t seed[32] = {9};
	struct wh_key *k;
	REQUIRE(wh_key_from_seed(seed, &k) == WH_OK);
	fold_and_query(k);
	tasks_once(k);
	bound();
	wh_key_free(k);
	return wh_test_done("test_store_emergency");
}
