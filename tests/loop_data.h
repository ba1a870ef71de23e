/*
 * loop_data.h: one small, fixed history of the whistle-and-report loop,
 * shared by tests/unit/test_stats.c (which folds it and checks every
 * figure of `whistle stats` against numbers worked out by hand) and by
 * tests/tools/wh_mkloop.c (which writes it to an op file for the
 * scenario test), so both check the same hand-computed numbers.
 *
 * Times are offsets from LD_T0, 2025-11-03 09:00 Asia/Shanghai; "now"
 * for the figures is LD_NOW, ten days later. Within each case the ops
 * go out in fold order, each stamped strictly after the one before and
 * carrying it as SEEN, so no step is concurrent with another.
 *
 *   C1 XJK-ZDY-1 g07  whistled to 城管 (lead) and 公安; 城管 reports in
 *                     1 h (on time), 公安 in 3 h (late: limit 2 h);
 *                     公安 resolves at +10 h, 城管 at +20 h; resident 5,
 *                     street 城管 4, 公安 2; closed.
 *   C2 XJK-ZDY-2 g07  whistled to 住建 (lead) and 城管; 住建 reports at
 *                     exactly its 2 h limit (on time); 城管 never does;
 *                     nothing resolved: overdue at LD_NOW.
 *   C3 XJK-ZDY-3 g07  whistled to 公安, then cancelled.
 *   C4 XJK-ZDY-4 g07  round 0: 城管 reports in 30 min, resolves in 5 h;
 *                     resident 2, street 城管 3; reopened; round 1:
 *                     城管 and 公安 (lead) report in 1 h each, 公安
 *                     resolves in 10 h; street 城管 5, 公安 4; resident 4.
 *   C5 XJK-ZDY-5 g07  created 3 h before LD_NOW: 住建 summoned 1 h
 *                     before (report due 1 h after LD_NOW, not yet
 *                     acknowledged); 公安 summoned without limits,
 *                     reports 30 min later. No resident score.
 *   C6 XJK-ZDY-6 g02  a small matter: no whistle, resolved by status;
 *                     resident 3.
 *   C7 XJK-SJF-1      (only with 'extra') another community: whistled
 *                     to a department whose name has a quote and a
 *                     comma, for CSV quoting; reports in 1 h, resolves
 *                     in 3 h.
 */
#ifndef LOOP_DATA_H
#define LOOP_DATA_H

#include "case.h"
#include "mp.h"
#include "op.h"

#include <string.h>

#define LD_T0 1762131600000ull /* 2025-11-03T01:00:00Z */
#define LD_M 60000ull
#define LD_H 3600000ull
#define LD_D 86400000ull
#define LD_NOW (LD_T0 + 10 * LD_D)

#define LD_ZDY "xicheng/xinjiekou/zhaodengyu"
#define LD_SJF "xicheng/xinjiekou/sanjianfang"
#define LD_ODD_DEPT "水务\"排水\",防汛"

/* Called with each op's draft, in order; d->hlc is set. */
typedef void (*ld_emit_fn)(void *ctx, const struct wh_op_draft *d);

struct ld {
	ld_emit_fn emit;
	void *ctx;
	const char *code, *path;
	uint32_t seq;
	wh_hlc_ts last; /* the case's latest stamp: SEEN, and the floor */
	struct wh_op_draft d;
	struct wh_buf tmp;
};

static inline void ld_case(struct ld *l, const char *code, uint32_t seq,
			   const char *path)
{
	l->code = code;
	l->seq = seq;
	l->path = path;
	l->last = 0;
}

static inline struct wh_op_draft *ld_begin(struct ld *l, uint8_t kind,
					   uint64_t ms)
{
	wh_draft_init(&l->d, kind, l->code, l->seq, l->path);
	wh_hlc_ts h = WH_HLC_MAKE(ms, 0);
	l->d.hlc = h > l->last ? h : l->last + 1;
	if (kind >= WH_OP_TRIAGE)
		wh_draft_uint(&l->d, WH_F_SEEN, l->last);
	return &l->d;
}

static inline void ld_end(struct ld *l)
{
	l->emit(l->ctx, &l->d);
	l->last = l->d.hlc;
	wh_buf_reset(&l->tmp);
}

static inline void ld_create(struct ld *l, uint64_t ms, const char *title)
{
	struct wh_op_draft *d = ld_begin(l, WH_OP_CASE_CREATE, ms);
	wh_draft_str(d, WH_F_TITLE, title);
	wh_draft_uint(d, WH_F_SOURCE, WH_SRC_PATROL);
	ld_end(l);
}

static inline void ld_triage(struct ld *l, uint64_t ms, unsigned level)
{
	wh_draft_uint(ld_begin(l, WH_OP_TRIAGE, ms), WH_F_LEVEL, level);
	ld_end(l);
}

/* The street whistles depts[0..n); lead may be NULL; limits 0: none. */
static inline void ld_whistle(struct ld *l, uint64_t ms, unsigned kind,
			      const char *const *depts, uint32_t n,
			      const char *lead, uint64_t report_ms,
			      uint64_t resolve_ms)
{
	struct wh_op_draft *d = ld_begin(l, WH_OP_WHISTLE, ms);
	wh_draft_uint(d, WH_F_WKIND, kind);
	wh_draft_uint(d, WH_F_WHISTLER, WH_WHISTLER_STREET);
	for (uint32_t i = 0; i < n; i++)
		wh_mpw_cstr(&l->tmp, depts[i]);
	wh_draft_array(d, WH_F_DEPTS, l->tmp.p, l->tmp.len, n);
	if (lead)
		wh_draft_str(d, WH_F_LEAD, lead);
	if (report_ms)
		wh_draft_uint(d, WH_F_REPORT_MS, report_ms);
	if (resolve_ms)
		wh_draft_uint(d, WH_F_RESOLVE_MS, resolve_ms);
	ld_end(l);
}

static inline void ld_report(struct ld *l, uint64_t ms, const char *dept,
			     unsigned step)
{
	struct wh_op_draft *d = ld_begin(l, WH_OP_REPORT, ms);
	wh_draft_str(d, WH_F_DEPT, dept);
	wh_draft_uint(d, WH_F_STEP, step);
	ld_end(l);
}

/* dept NULL: the resident rates the case; else the street the dept. */
static inline void ld_rate(struct ld *l, uint64_t ms, const char *dept,
			   unsigned score)
{
	struct wh_op_draft *d = ld_begin(l, WH_OP_RATE, ms);
	wh_draft_uint(d, WH_F_RATER,
		      dept ? WH_RATER_STREET : WH_RATER_RESIDENT);
	wh_draft_uint(d, WH_F_SCORE, score);
	if (dept)
		wh_draft_str(d, WH_F_DEPT, dept);
	ld_end(l);
}

static inline void ld_status(struct ld *l, uint64_t ms, unsigned from,
			     unsigned to)
{
	struct wh_op_draft *d = ld_begin(l, WH_OP_CASE_STATUS, ms);
	wh_draft_uint(d, WH_F_FROM, from);
	wh_draft_uint(d, WH_F_TO, to);
	ld_end(l);
}

static inline void ld_feedback(struct ld *l, uint64_t ms)
{
	struct wh_op_draft *d = ld_begin(l, WH_OP_FEEDBACK, ms);
	wh_draft_str(d, WH_F_TEXT, "已电话告知居民处理结果");
	wh_draft_uint(d, WH_F_CHANNEL, WH_CH_PHONE);
	ld_end(l);
}

#define LD_N(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))

/* Emit the whole history (C7 too if extra) through emit(ctx, draft). */
static inline void ld_build(ld_emit_fn emit, void *ctx, int extra)
{
	static const char *const c1d[] = {"城管", "公安"};
	static const char *const c2d[] = {"住建", "城管"};
	static const char *const c3d[] = {"公安"};
	static const char *const c4a[] = {"城管"};
	static const char *const c4b[] = {"城管", "公安"};
	static const char *const c5a[] = {"住建"};
	static const char *const c5b[] = {"公安"};
	static const char *const c7d[] = {LD_ODD_DEPT};
	struct ld l = {.emit = emit, .ctx = ctx};
	const uint64_t t = LD_T0;

	ld_case(&l, "XJK-ZDY", 1, LD_ZDY "/g07");
	ld_create(&l, t, "占道经营堵塞人行道");
	ld_triage(&l, t + LD_M, WH_LEVEL_BIG);
	uint64_t w1 = t + LD_H;
	ld_whistle(&l, w1, WH_WK_ASSEMBLE, c1d, LD_N(c1d), "城管", 2 * LD_H,
		   24 * LD_H);
	ld_report(&l, w1 + LD_H, "城管", WH_STEP_ACK);
	ld_report(&l, w1 + 3 * LD_H, "公安", WH_STEP_ACK);
	ld_report(&l, w1 + 10 * LD_H, "公安", WH_STEP_RESOLVE);
	ld_report(&l, w1 + 20 * LD_H, "城管", WH_STEP_RESOLVE);
	ld_feedback(&l, w1 + 22 * LD_H);
	ld_rate(&l, w1 + 30 * LD_H, NULL, 5);
	ld_rate(&l, w1 + 31 * LD_H, "城管", 4);
	ld_rate(&l, w1 + 32 * LD_H, "公安", 2);
	ld_status(&l, w1 + 40 * LD_H, WH_ST_RESOLVED, WH_ST_CLOSED);

	ld_case(&l, "XJK-ZDY", 2, LD_ZDY "/g07");
	ld_create(&l, t + LD_D, "老旧小区外墙脱落");
	ld_triage(&l, t + LD_D + LD_M, WH_LEVEL_BIG);
	uint64_t w2 = t + LD_D + LD_H;
	ld_whistle(&l, w2, WH_WK_ASSEMBLE, c2d, LD_N(c2d), "住建", 2 * LD_H,
		   7 * LD_D);
	ld_report(&l, w2 + 2 * LD_H, "住建", WH_STEP_ACK);
	ld_report(&l, w2 + 3 * LD_H, "住建", WH_STEP_ONSITE);

	ld_case(&l, "XJK-ZDY", 3, LD_ZDY "/g07");
	ld_create(&l, t + 2 * LD_D, "重复上报的噪音扰民");
	ld_triage(&l, t + 2 * LD_D + LD_M, WH_LEVEL_BIG);
	ld_whistle(&l, t + 2 * LD_D + LD_H, WH_WK_PREPARE, c3d, LD_N(c3d),
		   "公安", 2 * LD_H, 24 * LD_H);
	ld_status(&l, t + 2 * LD_D + 2 * LD_H, WH_ST_NEW, WH_ST_CANCELLED);

	ld_case(&l, "XJK-ZDY", 4, LD_ZDY "/g07");
	ld_create(&l, t + 3 * LD_D, "违法建设顶盖彩钢");
	ld_triage(&l, t + 3 * LD_D + LD_M, WH_LEVEL_BIG);
	uint64_t w4 = t + 3 * LD_D + LD_H;
	ld_whistle(&l, w4, WH_WK_CHARGE, c4a, LD_N(c4a), "城管", 2 * LD_H,
		   24 * LD_H);
	ld_report(&l, w4 + 30 * LD_M, "城管", WH_STEP_ACK);
	ld_report(&l, w4 + 5 * LD_H, "城管", WH_STEP_RESOLVE);
	ld_rate(&l, w4 + 6 * LD_H, NULL, 2);
	ld_rate(&l, w4 + 6 * LD_H + LD_M, "城管", 3);
	ld_status(&l, w4 + 8 * LD_H, WH_ST_RESOLVED, WH_ST_REOPENED);
	uint64_t w4b = w4 + 9 * LD_H;
	ld_whistle(&l, w4b, WH_WK_CHARGE, c4b, LD_N(c4b), "公安", 2 * LD_H,
		   24 * LD_H);
	ld_report(&l, w4b + LD_H, "城管", WH_STEP_ACK);
	ld_report(&l, w4b + LD_H, "公安", WH_STEP_ACK); /* same ms */
	ld_report(&l, w4b + 10 * LD_H, "公安", WH_STEP_RESOLVE);
	ld_rate(&l, w4b + 11 * LD_H, "城管", 5);
	ld_rate(&l, w4b + 11 * LD_H + LD_M, "公安", 4);
	ld_rate(&l, w4b + 12 * LD_H, NULL, 4);

	ld_case(&l, "XJK-ZDY", 5, LD_ZDY "/g07");
	uint64_t n = LD_NOW;
	ld_create(&l, n - 3 * LD_H, "井盖缺失");
	ld_triage(&l, n - 3 * LD_H + LD_M, WH_LEVEL_BIG);
	ld_whistle(&l, n - LD_H, WH_WK_ASSEMBLE, c5a, LD_N(c5a), "住建",
		   2 * LD_H, 24 * LD_H);
	ld_whistle(&l, n - 50 * LD_M, WH_WK_CHARGE, c5b, LD_N(c5b), NULL, 0, 0);
	ld_report(&l, n - 20 * LD_M, "公安", WH_STEP_ACK);

	ld_case(&l, "XJK-ZDY", 6, LD_ZDY "/g02");
	ld_create(&l, t + 4 * LD_D, "楼道堆物");
	ld_triage(&l, t + 4 * LD_D + LD_M, WH_LEVEL_SMALL);
	ld_status(&l, t + 4 * LD_D + LD_H, WH_ST_NEW, WH_ST_IN_PROGRESS);
	ld_status(&l, t + 5 * LD_D, WH_ST_IN_PROGRESS, WH_ST_RESOLVED);
	ld_rate(&l, t + 5 * LD_D + LD_H, NULL, 3);

	if (extra) {
		ld_case(&l, "XJK-SJF", 1, LD_SJF "/g01");
		uint64_t c = t + 5 * LD_D;
		ld_create(&l, c, "雨后积水");
		ld_triage(&l, c + LD_M, WH_LEVEL_BIG);
		ld_whistle(&l, c + LD_H, WH_WK_CHARGE, c7d, LD_N(c7d),
			   LD_ODD_DEPT, 2 * LD_H, 24 * LD_H);
		ld_report(&l, c + 2 * LD_H, LD_ODD_DEPT, WH_STEP_ACK);
		ld_report(&l, c + 4 * LD_H, LD_ODD_DEPT, WH_STEP_RESOLVE);
	}
	wh_buf_fini(&l.tmp);
}

#endif
