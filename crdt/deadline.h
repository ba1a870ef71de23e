/*
 * deadline.h: deadlines in an emergency. While an emergency is in force
 * over an area, the deadlines of ordinary cases there (a department's
 * time to report and to resolve after a whistle, a case's own deadline)
 * stop running (rule pause), or move by the plan's extension (rule
 * extend), so that no department is marked late for the time the area
 * was under water.
 *
 * Everything is computed from signed data alone (the emergencies'
 * folded ops and the case's view), so every replica that holds the same
 * ops gives the same deadlines and the same overdue list at the same
 * 'now'. docs/crdt.md, "Deadlines in an emergency", has the rule in
 * prose; in short, for a deadline D set on a clock started at W:
 *
 *   - a case's *pause windows* are the spans in which a pause emergency
 *     was in force over the place the case lay at the time (its path,
 *     or after a move its new path: wh_case_path_at); nested or
 *     overlapping emergencies count once (windows are merged); an
 *     open-ended one runs to infinity;
 *   - the paused deadline D' is when the clock, running from W except
 *     inside pause windows, has run D - W. A deadline that falls at the
 *     very start of a window is moved past it. While an open-ended
 *     window holds the clock, D' is WH_DL_NEVER;
 *   - then each extend emergency whose window over the case overlaps
 *     [W, D') (W before its end, D' after its start) moves D' by its
 *     extend_ms, in window order;
 *   - overdue at now: now > D'; late by the running time from D' to
 *     now (pauses do not count, so lateness made before an emergency
 *     stays but does not grow during it).
 *
 * A task case is never held by the emergency it belongs to (its
 * deadline is the emergency's own work), only by others.
 *
 * Pure: no I/O, no clock.
 */
#ifndef WH_DEADLINE_H
#define WH_DEADLINE_H

#include "case.h"
#include "emergency.h"

#define WH_DL_NEVER UINT64_MAX /* a deadline held by an open pause */

struct wh_dl_span {
	uint64_t from_ms, to_ms; /* [from, to); to WH_DL_NEVER: open */
	uint64_t extend_ms;      /* extend spans only */
};

/* The windows that hold one case's deadlines. */
struct wh_dl_clock {
	uint32_t npause;
	struct wh_dl_span *pause; /* sorted, merged, disjoint */
	uint32_t nextend;
	struct wh_dl_span *extend; /* one per extend emergency, sorted */
};

void wh_dl_clock_init(struct wh_dl_clock *k);
void wh_dl_clock_fini(struct wh_dl_clock *k);

/*
 * The clock of case c under emergencies ems[0..n) (declared or not; the
 * undeclared are skipped): k is reset and filled. c's own emergency (a
 * task case's em_code/em_seq) does not hold it.
 */
void wh_dl_clock_for_case(struct wh_dl_clock *k,
			  const struct wh_emergency *ems, size_t n,
			  const struct wh_case *c);

/* The same for a place that never moved (path, no task link): what a
 * caller with no case asks. */
void wh_dl_clock_for_path(struct wh_dl_clock *k,
			  const struct wh_emergency *ems, size_t n,
			  const char *path);

/* Time in [a, b) outside pause windows (0 if b <= a). k may be NULL (no
 * emergencies). */
uint64_t wh_dl_running(const struct wh_dl_clock *k, uint64_t a, uint64_t b);

/* The deadline due_ms of a clock started at from_ms, as the emergencies
 * move it (see above). 0 stays 0 (no deadline); WH_DL_NEVER while an
 * open-ended pause holds it. k may be NULL: due_ms unchanged. */
uint64_t wh_dl_due(const struct wh_dl_clock *k, uint64_t from_ms,
		   uint64_t due_ms);

/* Lateness at now of a deadline already moved by wh_dl_due: the running
 * time from it to now; 0 when not overdue (no deadline, held, not yet
 * passed, or all the time since paused). */
uint64_t wh_dl_late(const struct wh_dl_clock *k, uint64_t due, uint64_t now);

/* What is overdue (see wh_flow_overdue, which this extends). */
enum wh_dl_what {
	WH_DL_REPORT = 0,  /* a department's report (报到超时) */
	WH_DL_RESOLVE = 1, /* its resolution (办结超时) */
	WH_DL_CASE = 2     /* the case's own deadline (期限已过) */
};
/* s is NULL for WH_DL_CASE; due is the moved deadline. */
typedef void (*wh_dl_overdue_cb)(void *ctx, const struct wh_summons *s,
				 enum wh_dl_what what, uint64_t late_ms,
				 uint64_t due_ms);

/*
 * Overdue at now_ms under clock k (NULL: no emergency): for a case with
 * no result yet (not resolved, closed or cancelled), each summons of the
 * current round whose report or resolution is late (clock from the
 * summons), and the case's own deadline (clock from its creation). cb
 * (may be NULL) gets each; returns how many.
 */
uint32_t wh_dl_overdue(const struct wh_case *c, const struct wh_dl_clock *k,
		       uint64_t now_ms, wh_dl_overdue_cb cb, void *ctx);

/* Whether a summons' acknowledgement missed its (moved) report deadline,
 * or, not yet made, misses it at now. */
int wh_dl_report_late(const struct wh_dl_clock *k,
		      const struct wh_summons *s, uint64_t now_ms);

#endif
