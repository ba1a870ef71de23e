/*
 * fuzz_gen.c: deterministic signed ops (fuzz_gen.h).
 */
#include "fuzz_gen.h"

#include "flow.h"
#include "mp.h"
#include "problems.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_MS 60000ull
#define DAY_MS (24 * 60 * MIN_MS)

static struct wh_key *keys[FZ_NKEYS];

const struct wh_key *fz_key(unsigned i)
{
	if (i >= FZ_NKEYS)
		abort();
	if (!keys[i]) {
		uint8_t seed[32];
		memset(seed, (int)(0x51 + i), sizeof seed);
		if (wh_key_from_seed(seed, &keys[i]) != WH_OK)
			abort();
	}
	return keys[i];
}

void fz_keys_free(void)
{
	for (unsigned i = 0; i < FZ_NKEYS; i++) {
		wh_key_free(keys[i]);
		keys[i] = NULL;
	}
}

size_t fz_add(struct fz_ops *o, struct wh_op_draft *d, unsigned key,
	      wh_hlc_ts hlc)
{
	if (o->n == FZ_MAX_OPS)
		abort();
	d->hlc = hlc;
	size_t at = o->b.len;
	int rc = wh_op_build(d, fz_key(key), &o->b);
	if (rc != WH_OK) {
		fprintf(stderr, "fuzz_gen: op %zu (kind %u): %s\n", o->n,
			(unsigned)d->kind, wh_strerror(rc));
		abort();
	}
	o->off[o->n] = at;
	o->len[o->n] = o->b.len - at;
	return o->n++;
}

struct wh_slice fz_get(const struct fz_ops *o, size_t i)
{
	struct wh_slice s = {o->b.p + o->off[i], o->len[i]};
	return s;
}

void fz_fini(struct fz_ops *o)
{
	wh_buf_fini(&o->b);
	memset(o, 0, sizeof *o);
}

/* Keys by role in the story. */
enum { STREET, COMMUNITY, CHENGGUAN, ZHUJIAN };

struct story {
	struct fz_ops *o;
	uint64_t ms;
	wh_hlc_ts last; /* hlc of the op before: what an author saw */
};

static void draft(struct wh_op_draft *d, uint8_t kind)
{
	wh_draft_init(d, kind, FZ_CODE, FZ_SEQ, FZ_PATH);
}

static size_t add(struct story *s, struct wh_op_draft *d, unsigned key)
{
	s->ms += MIN_MS;
	wh_hlc_ts t = WH_HLC_MAKE(s->ms, 0);
	size_t i = fz_add(s->o, d, key, t);
	s->last = t;
	return i;
}

static void report(struct story *s, const char *dept, unsigned step,
		   unsigned key, const char *text)
{
	struct wh_op_draft d;
	draft(&d, WH_OP_REPORT);
	wh_draft_str(&d, WH_F_DEPT, dept);
	wh_draft_uint(&d, WH_F_STEP, step);
	wh_draft_uint(&d, WH_F_SEEN, s->last);
	if (text)
		wh_draft_str(&d, WH_F_TEXT, text);
	add(s, &d, key);
}

static void status(struct story *s, unsigned from, unsigned to)
{
	struct wh_op_draft d;
	draft(&d, WH_OP_CASE_STATUS);
	wh_draft_uint(&d, WH_F_FROM, from);
	wh_draft_uint(&d, WH_F_TO, to);
	add(s, &d, COMMUNITY);
}

static void case_basics(struct story *s)
{
	struct wh_op_draft d;
	struct wh_buf loc = {0};
	wh_mpw_int(&loc, 399390000);
	wh_mpw_int(&loc, 1163720000);
	draft(&d, WH_OP_CASE_CREATE);
	wh_draft_str(&d, WH_F_TITLE, "楼道堆物 stairwell blocked");
	wh_draft_str(&d, WH_F_DESCRIPTION,
		     "3号楼2单元楼道堆放杂物，堵塞消防通道。\nline two");
	wh_draft_str(&d, WH_F_CATEGORY, "楼道堆物");
	wh_draft_str(&d, WH_F_ADDRESS, "赵登禹路12号");
	wh_draft_uint(&d, WH_F_SOURCE, WH_SRC_HOTLINE);
	wh_draft_uint(&d, WH_F_PRIORITY, WH_PRI_HIGH);
	wh_draft_str(&d, WH_F_REPORTER, "王女士");
	wh_draft_str(&d, WH_F_CONTACT, "138-0000-0000");
	wh_draft_array(&d, WH_F_LOCATION, loc.p, loc.len, 2);
	wh_draft_str(&d, WH_F_EXTREF, "12345-2026-000123");
	add(s, &d, COMMUNITY);
	wh_buf_fini(&loc);

	draft(&d, WH_OP_CASE_SET);
	wh_draft_uint(&d, WH_F_PRIORITY, WH_PRI_URGENT);
	wh_draft_str(&d, WH_F_TITLE, "楼道堆物（复查）");
	add(s, &d, COMMUNITY);

	draft(&d, WH_OP_CASE_NOTE);
	wh_draft_str(&d, WH_F_TEXT, "已电话联系反映人 called back");
	add(s, &d, COMMUNITY);

	draft(&d, WH_OP_TAG_ADD);
	wh_draft_uint(&d, WH_F_SET, WH_SET_TAGS);
	wh_draft_str(&d, WH_F_TAG, "消防");
	size_t tag = add(s, &d, COMMUNITY);

	draft(&d, WH_OP_TAG_ADD);
	wh_draft_uint(&d, WH_F_SET, WH_SET_PARTIES);
	wh_draft_str(&d, WH_F_TAG, "城管");
	add(s, &d, STREET);

	draft(&d, WH_OP_TAG_ADD);
	wh_draft_uint(&d, WH_F_SET, WH_SET_TAGS);
	wh_draft_str(&d, WH_F_TAG, "老旧小区");
	add(s, &d, STREET);

	/* Remove the first tag by the add it observed. */
	uint8_t id[WH_ID_BYTES];
	struct wh_slice t = fz_get(s->o, tag);
	wh_op_id(t.p, t.n, id);
	struct wh_buf rm = {0};
	wh_mpw_bin(&rm, id, WH_ID_BYTES);
	draft(&d, WH_OP_TAG_REMOVE);
	wh_draft_uint(&d, WH_F_SET, WH_SET_TAGS);
	wh_draft_str(&d, WH_F_TAG, "消防");
	wh_draft_array(&d, WH_F_REMOVES, rm.p, rm.len, 1);
	add(s, &d, COMMUNITY);
	wh_buf_fini(&rm);

	status(s, WH_ST_NEW, WH_ST_ACCEPTED);
	/* Concurrent: made without seeing the accept (a conflict). */
	status(s, WH_ST_NEW, WH_ST_IN_PROGRESS);
}

static void loop(struct story *s)
{
	struct wh_op_draft d;
	draft(&d, WH_OP_TRIAGE);
	wh_draft_uint(&d, WH_F_LEVEL, WH_LEVEL_BIG);
	wh_draft_uint(&d, WH_F_SEEN, s->last);
	wh_draft_str(&d, WH_F_TEXT, "涉及多个部门 several departments");
	add(s, &d, STREET);

	struct wh_buf depts = {0};
	wh_mpw_cstr(&depts, "城管");
	wh_mpw_cstr(&depts, "住建");
	draft(&d, WH_OP_WHISTLE);
	wh_draft_uint(&d, WH_F_WKIND, WH_WK_ASSEMBLE);
	wh_draft_uint(&d, WH_F_WHISTLER, WH_WHISTLER_STREET);
	wh_draft_uint(&d, WH_F_SEEN, s->last);
	wh_draft_array(&d, WH_F_DEPTS, depts.p, depts.len, 2);
	wh_draft_str(&d, WH_F_LEAD, "城管");
	wh_draft_uint(&d, WH_F_REPORT_MS, DAY_MS);
	wh_draft_uint(&d, WH_F_RESOLVE_MS, 7 * DAY_MS);
	wh_draft_str(&d, WH_F_TEXT, "请城管牵头，住建配合");
	add(s, &d, STREET);
	wh_buf_fini(&depts);

	report(s, "城管", WH_STEP_ACK, CHENGGUAN, NULL);
	report(s, "住建", WH_STEP_ONSITE, ZHUJIAN, "已到场");
	report(s, "城管", WH_STEP_PROGRESS, CHENGGUAN, "清理一半 half done");

	draft(&d, WH_OP_WHISTLE);
	wh_draft_uint(&d, WH_F_WKIND, WH_WK_SUPERVISE);
	wh_draft_uint(&d, WH_F_WHISTLER, WH_WHISTLER_STREET);
	wh_draft_uint(&d, WH_F_SEEN, s->last);
	add(s, &d, STREET);

	uint8_t hash[WH_ID_BYTES];
	wh_hash((const uint8_t *)"photo", 5, hash);
	draft(&d, WH_OP_ATTACH);
	wh_draft_bin(&d, WH_F_BLOB, hash, WH_ID_BYTES);
	wh_draft_uint(&d, WH_F_SIZE, 5);
	wh_draft_str(&d, WH_F_MIME, "image/jpeg");
	wh_draft_uint(&d, WH_F_SEEN, s->last);
	wh_draft_str(&d, WH_F_NAME, "楼道.jpg");
	add(s, &d, CHENGGUAN);

	report(s, "住建", WH_STEP_RESOLVE, ZHUJIAN, "配合完成");
	report(s, "城管", WH_STEP_RESOLVE, CHENGGUAN, "已清理完毕");

	draft(&d, WH_OP_FEEDBACK);
	wh_draft_str(&d, WH_F_TEXT, "已告知反映人");
	wh_draft_uint(&d, WH_F_SEEN, s->last);
	wh_draft_uint(&d, WH_F_CHANNEL, WH_CH_PHONE);
	add(s, &d, COMMUNITY);

	draft(&d, WH_OP_RATE);
	wh_draft_uint(&d, WH_F_RATER, WH_RATER_RESIDENT);
	wh_draft_uint(&d, WH_F_SCORE, 5);
	wh_draft_uint(&d, WH_F_SEEN, s->last);
	wh_draft_str(&d, WH_F_TEXT, "满意");
	add(s, &d, COMMUNITY);

	draft(&d, WH_OP_RATE);
	wh_draft_uint(&d, WH_F_RATER, WH_RATER_STREET);
	wh_draft_uint(&d, WH_F_SCORE, 4);
	wh_draft_uint(&d, WH_F_SEEN, s->last);
	wh_draft_str(&d, WH_F_DEPT, "住建");
	add(s, &d, STREET);

	status(s, WH_ST_RESOLVED, WH_ST_REOPENED);

	draft(&d, WH_OP_CASE_MOVE);
	wh_draft_str(&d, WH_F_NEW_PATH, "xicheng/xinjiekou/baitasi");
	add(s, &d, STREET);

	/* A second create for the same id: kept, ignored. */
	draft(&d, WH_OP_CASE_CREATE);
	wh_draft_str(&d, WH_F_TITLE, "duplicate");
	add(s, &d, CHENGGUAN);
}

void fz_story(struct fz_ops *o, uint64_t ms)
{
	struct story s = {o, ms, 0};
	case_basics(&s);
	loop(&s);
}

static void problem_set(struct fz_ops *o, const char *code, const char *path,
			unsigned key, uint64_t ms, const char *cat,
			const char *lead, const char *const *depts,
			uint32_t nd, uint64_t rep, uint64_t res,
			const char *text)
{
	struct wh_op_draft d;
	struct wh_buf arr = {0};
	wh_draft_init(&d, WH_OP_PROBLEM_SET, code, WH_PROBLEMS_SEQ, path);
	wh_draft_str(&d, WH_F_CATEGORY, cat);
	wh_draft_str(&d, WH_F_LEAD, lead);
	for (uint32_t i = 0; i < nd; i++)
		wh_mpw_cstr(&arr, depts[i]);
	if (nd)
		wh_draft_array(&d, WH_F_DEPTS, arr.p, arr.len, nd);
	if (rep)
		wh_draft_uint(&d, WH_F_REPORT_MS, rep);
	if (res)
		wh_draft_uint(&d, WH_F_RESOLVE_MS, res);
	if (text)
		wh_draft_str(&d, WH_F_TEXT, text);
	fz_add(o, &d, key, WH_HLC_MAKE(ms, 0));
	wh_buf_fini(&arr);
}

void fz_problem_ops(struct fz_ops *o, uint64_t ms)
{
	static const char *const d1[] = {"消防", "城管", "住建"};
	static const char *const d2[] = {"交通", "公安"};
	static const char *const d3[] = {"城管"};
	/* The district's list. */
	problem_set(o, "~PL-XC", "xicheng", STREET, ms + 1, "楼道堆物", "消防",
		    d1, 3, DAY_MS, 7 * DAY_MS, "社区先劝导\t拒不清理的依法处置");
	problem_set(o, "~PL-XC", "xicheng", STREET, ms + 2, "居住停车", "交通",
		    d2, 2, DAY_MS, 15 * DAY_MS, NULL);
	problem_set(o, "~PL-XC", "xicheng", STREET, ms + 3, "垃圾满溢", "城管",
		    d3, 1, 0, 7 * DAY_MS, "a,b\\c");
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_PROBLEM_DEL, "~PL-XC", WH_PROBLEMS_SEQ,
		      "xicheng");
	wh_draft_str(&d, WH_F_CATEGORY, "居住停车");
	fz_add(o, &d, STREET, WH_HLC_MAKE(ms + 4, 0));
	/* The street's, overriding one category. */
	problem_set(o, "~PL-XJK", "xicheng/xinjiekou", COMMUNITY, ms + 5,
		    "楼道堆物", "城管", d3, 1, 2 * 3600000ull, DAY_MS, NULL);
	problem_set(o, "~PL-XJK", "xicheng/xinjiekou", COMMUNITY, ms + 6,
		    "占道经营", "城管", NULL, 0, 0, 0, "");
}
