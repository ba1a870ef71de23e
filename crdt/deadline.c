/*
 * deadline.c: deadlines held by emergencies (deadline.h has the rule).
 *
 * A case's clock is a handful of windows: the spans in which an
 * emergency was in force over the place the case lay. Pause windows are
 * merged into disjoint sorted spans, so walking a deadline past them is
 * one pass; extend windows stay one per emergency, since each moves a
 * deadline once however often the case crossed its area.
 */
#include "deadline.h"

#include <stdlib.h>
#include <string.h>

void wh_dl_clock_init(struct wh_dl_clock *k)
{
	memset(k, 0, sizeof *k);
}

void wh_dl_clock_fini(struct wh_dl_clock *k)
{
	free(k->pause);
	free(k->extend);
	memset(k, 0, sizeof *k);
}

static void push(struct wh_dl_span **v, uint32_t *n, struct wh_dl_span s)
{
	*v = wh_xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[(*n)++] = s;
}

static int span_cmp(const void *pa, const void *pb)
{
	const struct wh_dl_span *a = pa, *b = pb;
	if (a->from_ms != b->from_ms)
		return a->from_ms < b->from_ms ? -1 : 1;
	if (a->to_ms != b->to_ms)
		return a->to_ms < b->to_ms ? -1 : 1;
	if (a->extend_ms != b->extend_ms)
		return a->extend_ms < b->extend_ms ? -1 : 1;
	return 0;
}

/* Where the case lay: spans of wall time and the path of each. */
struct seg {
	uint64_t from, to;
	const char *path;
};

static void add_emergency(struct wh_dl_clock *k, const struct wh_emergency *e,
			  const struct seg *segs, uint32_t nseg)
{
	uint64_t s = e->start_ms, u = wh_em_until(e);
	if (!u)
		u = WH_DL_NEVER;
	if (!e->declared || u <= s)
		return;
	size_t an = strlen(e->area);
	struct wh_dl_span hull = {WH_DL_NEVER, 0, e->extend_ms};
	for (uint32_t i = 0; i < nseg; i++) {
		const struct seg *g = &segs[i];
		if (!wh_path_within(g->path, strlen(g->path), e->area, an))
			continue;
		uint64_t a = g->from > s ? g->from : s;
		uint64_t b = g->to < u ? g->to : u;
		if (a >= b)
			continue;
		if (e->rule == WH_EM_EXTEND) {
			if (a < hull.from_ms)
				hull.from_ms = a;
			if (b > hull.to_ms)
				hull.to_ms = b;
		} else {
			push(&k->pause, &k->npause,
			     (struct wh_dl_span){a, b, 0});
		}
	}
	if (hull.from_ms < hull.to_ms)
		push(&k->extend, &k->nextend, hull);
}

static void finish(struct wh_dl_clock *k)
{
	if (k->npause > 1) {
		qsort(k->pause, k->npause, sizeof k->pause[0], span_cmp);
		uint32_t w = 0;
		for (uint32_t i = 1; i < k->npause; i++) {
			struct wh_dl_span *last = &k->pause[w];
			if (k->pause[i].from_ms <= last->to_ms) {
				if (k->pause[i].to_ms > last->to_ms)
					last->to_ms = k->pause[i].to_ms;
			} else {
				k->pause[++w] = k->pause[i];
			}
		}
		k->npause = w + 1;
	}
	if (k->nextend > 1)
		qsort(k->extend, k->nextend, sizeof k->extend[0], span_cmp);
}

static void clock_from(struct wh_dl_clock *k, const struct wh_emergency *ems,
		       size_t n, const struct seg *segs, uint32_t nseg,
		       const char *own_code, uint32_t own_seq)
{
	wh_dl_clock_fini(k);
	for (size_t i = 0; i < n; i++) {
		if (own_code && own_code[0] && !strcmp(ems[i].code, own_code) &&
		    ems[i].seq == own_seq)
			continue; /* a task case's own emergency */
		add_emergency(k, &ems[i], segs, nseg);
	}
	finish(k);
}

void wh_dl_clock_for_case(struct wh_dl_clock *k,
			  const struct wh_emergency *ems, size_t n,
			  const struct wh_case *c)
{
	struct seg one = {0, WH_DL_NEVER, c->path};
	struct seg *segs = &one;
	uint32_t nseg = c->path ? 1 : 0;
	if (c->nplaces) {
		segs = wh_xcalloc(c->nplaces, sizeof *segs);
		nseg = c->nplaces;
		for (uint32_t i = 0; i < nseg; i++) {
			segs[i].from = i ? WH_HLC_MS(c->places[i].at) : 0;
			segs[i].to = i + 1 < nseg
					     ? WH_HLC_MS(c->places[i + 1].at)
					     : WH_DL_NEVER;
			segs[i].path = c->places[i].path;
		}
	}
	clock_from(k, ems, n, segs, nseg, c->task ? c->em_code : NULL,
		   c->em_seq);
	if (segs != &one)
		free(segs);
}

void wh_dl_clock_for_path(struct wh_dl_clock *k,
			  const struct wh_emergency *ems, size_t n,
			  const char *path)
{
	struct seg one = {0, WH_DL_NEVER, path};
	clock_from(k, ems, n, &one, 1, NULL, 0);
}

uint64_t wh_dl_running(const struct wh_dl_clock *k, uint64_t a, uint64_t b)
{
	if (b <= a)
		return 0;
	uint64_t run = b - a;
	for (uint32_t i = 0; k && i < k->npause; i++) {
		uint64_t p = k->pause[i].from_ms, q = k->pause[i].to_ms;
		uint64_t lo = p > a ? p : a, hi = q < b ? q : b;
		if (lo < hi)
			run -= hi - lo; /* spans are disjoint: never below 0 */
	}
	return run;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > WH_DL_NEVER - 1 - b ? WH_DL_NEVER - 1 : a + b;
}

uint64_t wh_dl_due(const struct wh_dl_clock *k, uint64_t from_ms,
		   uint64_t due_ms)
{
	if (!due_ms || !k)
		return due_ms;
	uint64_t w = from_ms < due_ms ? from_ms : due_ms;
	uint64_t t = w, rem = due_ms - w;
	for (uint32_t i = 0; i < k->npause; i++) {
		uint64_t a = k->pause[i].from_ms, b = k->pause[i].to_ms;
		if (b <= t)
			continue;
		if (a > t) {
			if (a - t > rem)
				break; /* the deadline comes before it */
			rem -= a - t;
		}
		/* The clock stands from a (or t) until b. */
		if (b == WH_DL_NEVER)
			return WH_DL_NEVER;
		t = b;
	}
	uint64_t d = add_sat(t, rem);
	for (uint32_t i = 0; i < k->nextend; i++) {
		const struct wh_dl_span *x = &k->extend[i];
		if (w < x->to_ms && d > x->from_ms)
			d = add_sat(d, x->extend_ms);
	}
	return d;
}

uint64_t wh_dl_late(const struct wh_dl_clock *k, uint64_t due, uint64_t now)
{
	if (!due || due == WH_DL_NEVER || now <= due)
		return 0;
	return wh_dl_running(k, due, now);
}

/* As flow.c: no deadline runs on a case with a result or cancelled. */
static int settled(const struct wh_case *c)
{
	return c->status == WH_ST_RESOLVED || c->status == WH_ST_CLOSED ||
	       c->status == WH_ST_CANCELLED;
}

uint32_t wh_dl_overdue(const struct wh_case *c, const struct wh_dl_clock *k,
		       uint64_t now_ms, wh_dl_overdue_cb cb, void *ctx)
{
	const struct wh_flow *f = &c->flow;
	uint32_t n = 0;
	if (settled(c))
		return 0;
	for (uint32_t i = 0; i < f->nsummons; i++) {
		const struct wh_summons *s = &f->summons[i];
		if (s->round != f->round)
			continue;
		uint64_t w = WH_HLC_MS(s->summoned_at);
		if (!s->acked_at && s->report_due_ms) {
			uint64_t d = wh_dl_due(k, w, s->report_due_ms);
			uint64_t late = wh_dl_late(k, d, now_ms);
			if (late) {
				n++;
				if (cb)
					cb(ctx, s, WH_DL_REPORT, late, d);
			}
		}
		if (!s->resolved_at && s->resolve_due_ms) {
			uint64_t d = wh_dl_due(k, w, s->resolve_due_ms);
			uint64_t late = wh_dl_late(k, d, now_ms);
			if (late) {
				n++;
				if (cb)
					cb(ctx, s, WH_DL_RESOLVE, late, d);
			}
		}
	}
	if (c->due_ms) {
		uint64_t d = wh_dl_due(k, WH_HLC_MS(c->created_at), c->due_ms);
		uint64_t late = wh_dl_late(k, d, now_ms);
		if (late) {
			n++;
			if (cb)
				cb(ctx, NULL, WH_DL_CASE, late, d);
		}
	}
	return n;
}

int wh_dl_report_late(const struct wh_dl_clock *k,
		      const struct wh_summons *s, uint64_t now_ms)
{
	if (!s->report_due_ms)
		return 0;
	uint64_t d = wh_dl_due(k, WH_HLC_MS(s->summoned_at), s->report_due_ms);
	if (s->acked_at)
		return d != WH_DL_NEVER && WH_HLC_MS(s->acked_at) > d;
	return wh_dl_late(k, d, now_ms) != 0;
}
