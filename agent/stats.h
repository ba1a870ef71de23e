/*
 * stats.h: the figures of the whistle-and-report loop (吹哨报到) over a
 * set of cases: the three rates the 12345 hotline is judged by (响应率,
 * 解决率, 满意率), times to report and to resolve, and what is overdue,
 * for the whole set and per department.
 *
 * This header is the whole contract; docs/guide.md, "Statistics", says
 * the same for the people who read the figures. Pure: no I/O, no store,
 * no clock. The caller walks the views (wh_store_case_list with its
 * scope filter: the scope is the caller's business), feeds each one to
 * wh_stats_add, and finishes into a struct wh_stats_result. Views are
 * read during the call only and never kept, so a walk over borrowed
 * views is fine.
 *
 * Which cases count ("cases in"): those whose create op is held and
 * whose create stamp (created_at, an hlc; its wall ms WH_HLC_MS) lies in
 * [from_ms, to_ms). A case whose create has not arrived has no place in
 * time and is left out (counted in 'incomplete'). A cancelled case
 * (已撤销) counts in 'cases' and 'cancelled' and in nothing else: its
 * work stopped, so no department can be on time, late, or overdue in it.
 * "Summonses" below are those of the counted, not cancelled cases, every
 * round (a reopened case keeps the summonses of its earlier rounds).
 *
 * Definitions, per row (the totals row, and one row per department
 * named in any summons counted):
 *   response (响应率): summonses acknowledged (acked_at != 0; any step
 *       reports in) no later than their report deadline (wall ms of the
 *       ack <= report_due_ms; a summons without a report limit is on time
 *       once acknowledged) / summonses acknowledged, or whose report
 *       deadline has passed (now_ms > report_due_ms). A summons not yet
 *       due and not yet acknowledged is in neither.
 *   resolution (解决率): totals: cases whose status is resolved or
 *       closed / cases not cancelled; department: its summonses with
 *       resolved_at / its summonses.
 *   satisfaction (满意率): totals: cases whose resident score (民评官,
 *       the latest of the current round) is 4 or 5 / cases with a
 *       resident score; department: its summonses whose street score
 *       (下评上) is 4 or 5 / its summonses with a street score.
 *   to_report: acked_at - summoned_at (wall ms) over acknowledged
 *       summonses (totals: all of them).
 *   to_resolve: totals: flow.resolved_at - created_at over cases whose
 *       lead department resolved the current round (a case resolved by
 *       a status step, without departments, has no such time and is
 *       skipped); department: resolved_at - summoned_at over its
 *       resolved summonses.
 *   overdue (超期): at now_ms, by wh_dl_overdue: cases with anything
 *       overdue (a summons, or the case's own deadline); summonses with
 *       a report or a resolution overdue (one summons late on both
 *       counts once).
 *   Deadlines are those the emergencies move (crdt/deadline.h): a case
 *       fed with wh_stats_add_clock is judged against its clock, so a
 *       department is neither late in 'response' nor overdue for the
 *       time an emergency paused the area.
 *   tasks (应急任务, totals only): the counted cases that are plan tasks
 *       of an emergency (a task link), how many are resolved or closed,
 *       and how many have anything overdue; they count in every figure
 *       above like any case.
 *   Times: count, mean (ms, rounded to nearest) and 90th percentile by
 *   the nearest-rank method: the value at rank ceil(0.9 * n) of the
 *   sorted list, so always a time that was actually taken.
 *
 * Departments come out ordered by summonses, most first, then by name
 * (byte order), so the output is the same on every station.
 */
#ifndef WH_STATS_H
#define WH_STATS_H

#include "case.h"
#include "deadline.h"

#include <stddef.h>
#include <stdint.h>

struct wh_stats_opts {
	uint64_t now_ms;  /* wall ms that 'due' and 'overdue' refer to */
	uint64_t from_ms; /* first create ms counted (0: no lower bound) */
	uint64_t to_ms;	  /* first create ms not counted (UINT64_MAX: none) */
};

/* A rate: num of den. Shown as a percentage; den == 0 has none. */
struct wh_stats_rate {
	uint64_t num, den;
};

/* A duration figure over n samples, ms; mean and p90 are 0 when n is. */
struct wh_stats_time {
	uint64_t n, mean_ms, p90_ms;
};

struct wh_stats_row {
	char *dept; /* owned; NULL in the totals row */
	/* totals: cases in (cancelled included); department: cases not
	 * cancelled in which it was summoned at least once */
	uint64_t cases;
	uint64_t cancelled; /* totals only; 0 in department rows */
	uint64_t summonses; /* 被吹哨次数 */
	struct wh_stats_rate response, resolution, satisfaction;
	struct wh_stats_time to_report, to_resolve;
	uint64_t overdue_cases, overdue_summonses;
};

/* Emergency plan task cases among those counted. */
struct wh_stats_tasks {
	uint64_t cases, done, overdue;
};

struct wh_stats_result {
	struct wh_stats_row total;
	struct wh_stats_tasks tasks;
	size_t ndepts;
	struct wh_stats_row *depts; /* owned, ordered as said above */
	uint64_t incomplete;	    /* views without their create, left out */
};

/* A list of durations, kept until finish sorts it for the percentile. */
struct wh_stats_times {
	uint64_t *v;
	size_t n, cap;
	uint64_t sum;
};

struct wh_stats_dept; /* stats.c */

/* The accumulator. Plain data so the caller can embed it; touch it only
 * through the functions below. */
struct wh_stats_acc {
	struct wh_stats_opts o;
	struct wh_stats_row total;
	struct wh_stats_times report, resolve; /* totals' samples */
	struct wh_stats_tasks tasks;
	uint64_t incomplete;
	uint64_t ncase; /* cases fed and counted: marks "seen in this case" */
	struct wh_stats_dept *depts;
	size_t ndepts, cap;
	uint32_t *slots; /* open-addressing index into depts (+1; 0 empty) */
	size_t nslots;
};

/* Start an empty accumulator for these options (copied). */
void wh_stats_init(struct wh_stats_acc *a, const struct wh_stats_opts *o);

/* Count one case view, if it is in (see above). c is read during the
 * call only. Cannot fail: memory runs out by aborting (wh_xmalloc). */
void wh_stats_add(struct wh_stats_acc *a, const struct wh_case *c);
/* The same, with deadlines as clock k moves them (NULL: as set). */
void wh_stats_add_clock(struct wh_stats_acc *a, const struct wh_case *c,
			const struct wh_dl_clock *k);

/* Compute the figures into r (initialised by the call; release with
 * wh_stats_result_fini) and empty a, which may then be fed again after
 * wh_stats_init, or dropped: it holds nothing after this call. */
void wh_stats_finish(struct wh_stats_acc *a, struct wh_stats_result *r);

/* Free what an accumulator holds without finishing (an aborted walk).
 * Safe after wh_stats_finish. */
void wh_stats_acc_fini(struct wh_stats_acc *a);

void wh_stats_result_fini(struct wh_stats_result *r);

/* ---- helpers for whoever prints the figures (pure as well) ---- */

#define WH_STATS_PCT_MAX 8 /* "100.0" and the NUL */

/*
 * A rate as a percentage with one decimal, rounded half up ("66.7"),
 * or "-" when den is 0. Returns the value in tenths of a percent
 * (667), or -1 for "-".
 */
int wh_stats_pct(const struct wh_stats_rate *r, char out[WH_STATS_PCT_MAX]);

/*
 * Midnight at the start of a calendar day in Asia/Shanghai (UTC+8 all
 * year: China has no daylight saving time since 1991), as Unix ms, from
 * "YYYY-MM-DD" exactly (four, two and two digits, a real date, year 2000
 * to 9999). WH_OK, or WH_EINVAL for anything else; *ms untouched then.
 */
WH_MUST_CHECK int wh_stats_day_ms(const char *ymd, uint64_t *ms);

#define WH_STATS_DAY_MS 86400000ull
#define WH_STATS_TZ_MS (8ull * 3600000ull) /* Asia/Shanghai, UTC+8 */

#endif
