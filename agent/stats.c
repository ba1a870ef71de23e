/*
 * stats.c: the loop's figures (stats.h has the contract and the
 * definitions). Pure: views in, numbers out.
 *
 * One pass over the views: counts go straight into rows; durations are
 * kept (8 bytes a sample) because a percentile needs them all, and the
 * rank is selected from them once at the end. Departments are found by name
 * through a small open-addressing index, since a district's data from many
 * stations may spell a department many ways and a linear search would then cost
 * departments x summonses.
 */
#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wh_stats_dept {
	struct wh_stats_row row; /* row.dept owned until finish */
	struct wh_stats_times report, resolve;
	uint64_t seen_case;    /* a->ncase when row.cases last counted */
	uint64_t overdue_case; /* a->ncase when overdue_cases last counted */
};

void wh_stats_init(struct wh_stats_acc *a, const struct wh_stats_opts *o)
{
	memset(a, 0, sizeof *a);
	a->o = *o;
}

static void times_push(struct wh_stats_times *t, uint64_t v)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->v = wh_xrealloc(t->v, t->cap * sizeof *t->v);
	}
	t->v[t->n++] = v;
	t->sum += v;
}

/* Wall ms from stamp a to stamp b; 0 if b is not later (the fold orders
 * a case's ops, so only equal wall times give 0). */
static uint64_t span(wh_hlc_ts a, wh_hlc_ts b)
{
	uint64_t x = WH_HLC_MS(a), y = WH_HLC_MS(b);
	return y > x ? y - x : 0;
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

/* Rebuild the index at twice the size: kept at most half full. */
static void reindex(struct wh_stats_acc *a)
{
	size_t n = a->nslots ? 2 * a->nslots : 32;
	free(a->slots);
	a->slots = wh_xcalloc(n, sizeof *a->slots);
	a->nslots = n;
	for (size_t i = 0; i < a->ndepts; i++) {
		size_t k = name_hash(a->depts[i].row.dept) & (n - 1);
		while (a->slots[k])
			k = (k + 1) & (n - 1);
		a->slots[k] = (uint32_t)(i + 1);
	}
}

static struct wh_stats_dept *dept_get(struct wh_stats_acc *a, const char *name)
{
	if (2 * (a->ndepts + 1) > a->nslots)
		reindex(a);
	size_t mask = a->nslots - 1, k = name_hash(name) & mask;
	for (; a->slots[k]; k = (k + 1) & mask) {
		struct wh_stats_dept *d = &a->depts[a->slots[k] - 1];
		if (!strcmp(d->row.dept, name))
			return d;
	}
	if (a->ndepts == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 16;
		a->depts = wh_xrealloc(a->depts, a->cap * sizeof *a->depts);
	}
	struct wh_stats_dept *d = &a->depts[a->ndepts];
	memset(d, 0, sizeof *d);
	d->row.dept = wh_xstrndup(name, strlen(name));
	a->slots[k] = (uint32_t)++a->ndepts;
	return d;
}

static void rate_add(struct wh_stats_rate *r, int in)
{
	r->den++;
	r->num += in != 0;
}

/* One summons of a counted case: its department's row and the totals. */
static void add_summons(struct wh_stats_acc *a, const struct wh_summons *s,
			const struct wh_dl_clock *k)
{
	struct wh_stats_dept *d = dept_get(a, s->dept);
	struct wh_stats_row *t = &a->total;
	d->row.summonses++;
	t->summonses++;
	if (d->seen_case != a->ncase) {
		d->seen_case = a->ncase;
		d->row.cases++;
	}
	/* Response: judged once acknowledged, or once its deadline has
	 * passed without one; until then it may still be on time. */
	int acked = s->acked_at != 0;
	/* The report deadline as emergencies moved it (a held one has not
	 * passed). */
	int passed = wh_dl_report_late(k, s, a->o.now_ms);
	if (acked || passed) {
		int on_time = acked && !passed;
		rate_add(&d->row.response, on_time);
		rate_add(&t->response, on_time);
	}
	if (acked) {
		uint64_t v = span(s->summoned_at, s->acked_at);
		times_push(&d->report, v);
		times_push(&a->report, v);
	}
	rate_add(&d->row.resolution, s->resolved_at != 0);
	if (s->resolved_at)
		times_push(&d->resolve, span(s->summoned_at, s->resolved_at));
	if (s->street_score)
		rate_add(&d->row.satisfaction, s->street_score >= 4);
}

struct overdue_ctx {
	struct wh_stats_acc *a;
	const struct wh_summons *last;
};

/* wh_dl_overdue calls this for a summons' report and then for its
 * resolution: count the summons once. */
static void on_overdue(void *ctx, const struct wh_summons *s,
		       enum wh_dl_what what, uint64_t late_ms, uint64_t due)
{
	struct overdue_ctx *o = ctx;
	(void)what;
	(void)late_ms;
	(void)due;
	if (!s || s == o->last)
		return; /* the case's own deadline: a case, not a summons */
	o->last = s;
	struct wh_stats_dept *d = dept_get(o->a, s->dept);
	d->row.overdue_summonses++;
	o->a->total.overdue_summonses++;
	if (d->overdue_case != o->a->ncase) {
		d->overdue_case = o->a->ncase;
		d->row.overdue_cases++;
	}
}

void wh_stats_add(struct wh_stats_acc *a, const struct wh_case *c)
{
	wh_stats_add_clock(a, c, NULL);
}

void wh_stats_add_clock(struct wh_stats_acc *a, const struct wh_case *c,
			const struct wh_dl_clock *k)
{
	if (!c->has_create) {
		a->incomplete++;
		return;
	}
	uint64_t created = WH_HLC_MS(c->created_at);
	if (created < a->o.from_ms || created >= a->o.to_ms)
		return;
	struct wh_stats_row *t = &a->total;
	t->cases++;
	a->tasks.cases += c->task != NULL;
	if (c->status == WH_ST_CANCELLED) {
		t->cancelled++;
		return;
	}
	a->ncase++; /* from 1: departments start at 0, "not seen" */
	const struct wh_flow *f = &c->flow;
	rate_add(&t->resolution,
		 c->status == WH_ST_RESOLVED || c->status == WH_ST_CLOSED);
	if (f->resident_score)
		rate_add(&t->satisfaction, f->resident_score >= 4);
	if (f->resolved_at)
		times_push(&a->resolve, span(c->created_at, f->resolved_at));
	for (uint32_t i = 0; i < f->nsummons; i++)
		add_summons(a, &f->summons[i], k);
	struct overdue_ctx oc = {a, NULL};
	int late = wh_dl_overdue(c, k, a->o.now_ms, on_overdue, &oc) != 0;
	t->overdue_cases += (uint64_t)late;
	if (c->task) {
		a->tasks.done += c->status == WH_ST_RESOLVED ||
				 c->status == WH_ST_CLOSED;
		a->tasks.overdue += (uint64_t)late;
	}
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static void swap_u64(uint64_t *a, uint64_t *b)
{
	uint64_t t = *a;
	*a = *b;
	*b = t;
}

/*
 * The k-th smallest of v[0..n) (k 0-based), reordering v: quickselect
 * with a median-of-three pivot, O(n) where a sort is O(n log n); a
 * district's 100,000 report times made sorting a tenth of `whistle
 * stats`. Past 2 log2(n) + 8 rounds (inputs that defeat the pivot) the
 * rest is sorted, so the worst case stays O(n log n).
 */
static uint64_t select_kth(uint64_t *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1, budget = 8;
	for (size_t m = n; m; m >>= 1)
		budget += 2;
	while (lo < hi) {
		if (!budget--) {
			qsort(v + lo, hi - lo + 1, sizeof *v, cmp_u64);
			break;
		}
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] < v[lo])
			swap_u64(&v[mid], &v[lo]);
		if (v[hi] < v[lo])
			swap_u64(&v[hi], &v[lo]);
		if (v[hi] < v[mid])
			swap_u64(&v[hi], &v[mid]);
		uint64_t pivot = v[mid];
		size_t i = lo, j = hi;
		while (i <= j) { /* Hoare partition around the pivot value */
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				swap_u64(&v[i], &v[j]);
				i++;
				if (j-- == 0)
					break;
			}
		}
		/* now v[lo..j] <= pivot <= v[i..hi], v[j+1..i-1] == pivot */
		if (k <= j && j != SIZE_MAX)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return v[k];
	}
	return v[k];
}

/* Mean and nearest-rank p90 of t; frees the samples. */
static struct wh_stats_time times_finish(struct wh_stats_times *t)
{
	struct wh_stats_time r = {t->n, 0, 0};
	if (t->n) {
		r.mean_ms = (t->sum + t->n / 2) / t->n;
		size_t rank = (9 * t->n + 9) / 10; /* ceil(0.9 n), 1-based */
		r.p90_ms = select_kth(t->v, t->n, rank - 1);
	}
	free(t->v);
	memset(t, 0, sizeof *t);
	return r;
}

static int cmp_rows(const void *x, const void *y)
{
	const struct wh_stats_row *a = x, *b = y;
	if (a->summonses != b->summonses)
		return a->summonses > b->summonses ? -1 : 1;
	return strcmp(a->dept, b->dept);
}

void wh_stats_finish(struct wh_stats_acc *a, struct wh_stats_result *r)
{
	memset(r, 0, sizeof *r);
	r->total = a->total;
	r->tasks = a->tasks;
	r->total.to_report = times_finish(&a->report);
	r->total.to_resolve = times_finish(&a->resolve);
	r->incomplete = a->incomplete;
	r->ndepts = a->ndepts;
	r->depts = a->ndepts ? wh_xcalloc(a->ndepts, sizeof *r->depts) : NULL;
	for (size_t i = 0; i < a->ndepts; i++) {
		struct wh_stats_dept *d = &a->depts[i];
		r->depts[i] = d->row; /* the name moves to the result */
		r->depts[i].to_report = times_finish(&d->report);
		r->depts[i].to_resolve = times_finish(&d->resolve);
		d->row.dept = NULL;
	}
	if (r->ndepts)
		qsort(r->depts, r->ndepts, sizeof *r->depts, cmp_rows);
	wh_stats_acc_fini(a);
}

void wh_stats_acc_fini(struct wh_stats_acc *a)
{
	for (size_t i = 0; i < a->ndepts; i++) {
		free(a->depts[i].row.dept);
		free(a->depts[i].report.v);
		free(a->depts[i].resolve.v);
	}
	free(a->depts);
	free(a->slots);
	free(a->report.v);
	free(a->resolve.v);
	struct wh_stats_opts o = a->o;
	wh_stats_init(a, &o);
}

void wh_stats_result_fini(struct wh_stats_result *r)
{
	for (size_t i = 0; i < r->ndepts; i++)
		free(r->depts[i].dept);
	free(r->depts);
	memset(r, 0, sizeof *r);
}

int wh_stats_pct(const struct wh_stats_rate *r, char out[WH_STATS_PCT_MAX])
{
	if (!r->den) {
		strcpy(out, "-");
		return -1;
	}
	/* tenths of a percent, half up: (1000 num / den) + 1/2; num <= den,
	 * so 2000 num cannot overflow for any count this side of 2^53 */
	uint64_t t = (2000 * r->num + r->den) / (2 * r->den);
	snprintf(out, WH_STATS_PCT_MAX, "%u.%u", (unsigned)(t / 10),
		 (unsigned)(t % 10));
	return (int)t;
}

static int digits(const char *s, int n, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return 1;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil), for y >= 1970. */
static uint64_t days_from_civil(unsigned y, unsigned m, unsigned d)
{
	y -= m <= 2;
	unsigned era = y / 400, yoe = y - era * 400;
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (uint64_t)era * 146097 + doe - 719468;
}

int wh_stats_day_ms(const char *ymd, uint64_t *ms)
{
	static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30,
					   31, 31, 30, 31, 30, 31};
	unsigned y, m, d;
	if (strlen(ymd) != 10 || ymd[4] != '-' || ymd[7] != '-' ||
	    !digits(ymd, 4, &y) || !digits(ymd + 5, 2, &m) ||
	    !digits(ymd + 8, 2, &d))
		return WH_EINVAL;
	if (y < 2000 || m < 1 || m > 12 || d < 1)
		return WH_EINVAL;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[m - 1] + (m == 2 && leap))
		return WH_EINVAL;
	*ms = days_from_civil(y, m, d) * WH_STATS_DAY_MS - WH_STATS_TZ_MS;
	return WH_OK;
}
