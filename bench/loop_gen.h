/*
 * loop_gen.h: the year of a district that bench/loop.c ingests and
 * queries (loop.c's opening comment says what is in it). Generation
 * only: a district of keys and paths, each case's life planned as timed
 * steps, and a stream that hands out the steps of all cases in time
 * order (a min-heap of pending steps) as signed ops. Deterministic:
 * keys come from fixed seeds and every choice from one splitmix64
 * stream. Included by loop.c alone.
 */
#ifndef LOOP_GEN_H
#define LOOP_GEN_H

#include "case.h"
#include "key.h"
#include "mp.h"
#include "op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define YEAR0 1735660800000ull /* 2025-01-01 00:00 Asia/Shanghai */
#define MIN 60000ull
#define HOUR 3600000ull
#define DAY 86400000ull
#define YEAR_END (YEAR0 + 365 * DAY) /* "now" for the queries */
#define NSTREETS 15

static const char *const streets[NSTREETS] = {
    "xinjiekou", "shichahai",  "desheng",	"jinrongjie", "xichanganjie",
    "dashilan",	 "tianqiao",   "chunshu",	"taoranting", "guanganmennei",
    "niujie",	 "baizhifang", "guanganmenwai", "zhanlanlu",  "yuetan"};
static const char *const depts[] = {"城管",	"公安", "住建", "消防",
				    "市场监管", "交通", "水务", "环保"};
#define NDEPTS 8
/* Weights of the departments: 城管 and 住建 are whistled most. */
static const unsigned dept_w[NDEPTS] = {30, 12, 20, 8, 10, 8, 7, 5};
static const uint64_t report_lim[] = {2 * HOUR, 24 * HOUR};
static const uint64_t resolve_lim[] = {24 * HOUR, 7 * DAY, 15 * DAY};
static const char *const cats[] = {
    "老旧小区管理", "居住停车", "房屋中介", "物业管理", "违法建设", "开墙打洞",
    "占道经营",	    "环境污染", "垃圾满溢", "加装电梯", "矛盾纠纷"};
static const char cjk[] =
    "楼道堆物堵塞消防通道小区门口占道经营老旧加装电梯居住停车位不足夜间乱"
    "房屋中介违规人行物业管理垃圾满溢煤改电设备故障冬季取暖困难违法建设顶"
    "盖彩钢开墙打洞餐饮井盖缺失路灯损坏噪音扰民油烟排放污水外溢绿化带破坏"
    "共享单车乱放群租隐患广告牌松动树木倒伏积水漏雨供暖燃气报警居民反映";
#define NCJK ((sizeof cjk - 1) / 3)

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t *s, uint64_t n)
{
	return n ? rng_next(s) % n : 0;
}

/* Uniform in [lo, hi). */
static uint64_t between(uint64_t *s, uint64_t lo, uint64_t hi)
{
	return lo + below(s, hi > lo ? hi - lo : 1);
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "loop: %s: %s\n", what, wh_strerror(rc));
	exit(1);
}

/* ---- the district ---- */

struct place {
	char path[96];
	char code[16];
	uint16_t street;
};

struct district {
	struct place *comm; /* communities */
	size_t ncomm;
	struct wh_key **ckeys, *skeys[NSTREETS], *dkey;
};

static struct wh_key *seeded_key(unsigned kind, unsigned i)
{
	uint8_t seed[32] = {0};
	seed[0] = (uint8_t)kind;
	seed[1] = (uint8_t)i;
	seed[2] = (uint8_t)(i >> 8);
	struct wh_key *k;
	int rc = wh_key_from_seed(seed, &k);
	if (rc)
		die("key", rc);
	return k;
}

static void district_init(struct district *d)
{
	memset(d, 0, sizeof *d);
	d->comm = wh_xcalloc(NSTREETS * 22, sizeof *d->comm);
	for (unsigned s = 0; s < NSTREETS; s++) {
		unsigned n = 18 + (s * 7) % 5; /* 18..22 */
		for (unsigned c = 1; c <= n; c++) {
			struct place *p = &d->comm[d->ncomm++];
			snprintf(p->path, sizeof p->path, "xicheng/%s/sq%02u",
				 streets[s], c);
			snprintf(p->code, sizeof p->code, "X%02u-SQ%02u", s + 1,
				 c);
			p->street = (uint16_t)s;
		}
		d->skeys[s] = seeded_key(2, s);
	}
	d->ckeys = wh_xcalloc(d->ncomm, sizeof *d->ckeys);
	for (size_t i = 0; i < d->ncomm; i++)
		d->ckeys[i] = seeded_key(1, (unsigned)i);
	d->dkey = seeded_key(3, 0);
}

static void district_fini(struct district *d)
{
	for (size_t i = 0; i < d->ncomm; i++)
		wh_key_free(d->ckeys[i]);
	for (unsigned s = 0; s < NSTREETS; s++)
		wh_key_free(d->skeys[s]);
	wh_key_free(d->dkey);
	free(d->ckeys);
	free(d->comm);
}

/* ---- a case's life as a list of timed steps ---- */

enum {
	EV_CREATE,
	EV_TRIAGE,
	EV_WHISTLE,
	EV_REPORT,
	EV_STATUS,
	EV_NOTE,
	EV_FEEDBACK,
	EV_RATE
};

struct ev {
	uint64_t ms;
	uint32_t ci;	       /* case index */
	uint8_t type, a, b, c; /* per type: see plan_* */
	uint8_t nd, d[3];      /* whistle: departments, lead first */
};

struct gcase {
	uint32_t seq;
	uint16_t comm;
	uint8_t grid;
	uint64_t last_ms; /* stamp of its latest op: SEEN, and the floor */
};

struct plan {
	struct ev *e;
	size_t n, cap;
	uint32_t ci;
	uint64_t *rng;
};

static struct ev *push(struct plan *p, uint64_t ms, uint8_t type)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 64;
		p->e = wh_xrealloc(p->e, p->cap * sizeof *p->e);
	}
	struct ev *e = &p->e[p->n++];
	memset(e, 0, sizeof *e);
	e->ms = ms;
	e->ci = p->ci;
	e->type = type;
	return e;
}

static void st(struct plan *p, uint64_t ms, unsigned from, unsigned to)
{
	struct ev *e = push(p, ms, EV_STATUS);
	e->a = (uint8_t)from;
	e->b = (uint8_t)to;
}

static unsigned score(uint64_t *r)
{
	unsigned x = (unsigned)below(r, 100);
	return x < 50 ? 5 : x < 75 ? 4 : x < 87 ? 3 : x < 95 ? 2 : 1;
}

static uint8_t pick_dept(uint64_t *r, const uint8_t *taken, unsigned n)
{
	for (;;) {
		unsigned x = (unsigned)below(r, 100), k = 0;
		while (x >= dept_w[k])
			x -= dept_w[k++];
		unsigned i;
		for (i = 0; i < n && taken[i] != k; i++)
			;
		if (i == n)
			return (uint8_t)k;
	}
}

/* After a resolution at t: feedback, ratings, then close or reopen.
 * Returns 1 (and *t_reopen) if the case is reopened. */
static int plan_after(struct plan *p, uint64_t t, const struct ev *w,
		      uint64_t *t_reopen)
{
	uint64_t *r = p->rng;
	if (below(r, 100) < 70)
		push(p, t + between(r, 2 * HOUR, 2 * DAY), EV_FEEDBACK);
	unsigned rs = 0;
	if (below(r, 100) < 55) {
		struct ev *e =
		    push(p, t + between(r, 2 * DAY, 3 * DAY), EV_RATE);
		e->b = (uint8_t)(rs = score(r));
	}
	for (unsigned i = 0; w && i < w->nd; i++)
		if (below(r, 100) < 40) {
			struct ev *e =
			    push(p, t + between(r, HOUR, 3 * DAY), EV_RATE);
			e->a = (uint8_t)(w->d[i] + 1);
			e->b = (uint8_t)score(r);
		}
	if (below(r, 100) < (rs && rs <= 2 ? 30u : 3u)) {
		*t_reopen = t + between(r, 3 * DAY + HOUR, 5 * DAY);
		st(p, *t_reopen, WH_ST_RESOLVED, WH_ST_REOPENED);
		return 1;
	}
	if (below(r, 100) < 60)
		st(p, t + between(r, 4 * DAY, 10 * DAY), WH_ST_RESOLVED,
		   WH_ST_CLOSED);
	return 0;
}

/* The departments' part of a round whistled at t; returns when the
 * lead resolved (0: never). */
static uint64_t plan_round(struct plan *p, uint64_t t, const struct ev *w)
{
	uint64_t *r = p->rng, rl = report_lim[w->b], sl = resolve_lim[w->c];
	uint64_t last_other = 0, lead_res = 0;
	int supervised = 0;
	for (unsigned i = 0; i < w->nd; i++) {
		uint64_t ack = below(r, 100) < 85
				   ? t + between(r, 5 * MIN, rl)
				   : t + rl + between(r, 10 * MIN, 2 * rl);
		if (ack > t + rl && !supervised && below(r, 100) < 60) {
			struct ev *e = push(p, t + rl + 5 * MIN, EV_WHISTLE);
			e->a = WH_WK_SUPERVISE;
			supervised = 1;
		}
		struct ev *e = push(p, ack, EV_REPORT);
		e->a = w->d[i];
		e->b = WH_STEP_ACK;
		uint64_t at = ack;
		if (below(r, 100) < 60) {
			at += between(r, HOUR, 8 * HOUR);
			e = push(p, at, EV_REPORT);
			e->a = w->d[i];
			e->b = WH_STEP_ONSITE;
		}
		for (unsigned k = (unsigned)below(r, 3); k; k--) {
			at += between(r, HOUR, 2 * DAY);
			e = push(p, at, EV_REPORT);
			e->a = w->d[i];
			e->b = WH_STEP_PROGRESS;
		}
		uint64_t res = at + between(r, sl / 10, sl + sl / 5);
		if (i == 0) {
			lead_res = below(r, 100) < 95 ? res : 0;
		} else if (below(r, 100) < 93) {
			e = push(p, res, EV_REPORT);
			e->a = w->d[i];
			e->b = WH_STEP_RESOLVE;
			last_other = res > last_other ? res : last_other;
		}
	}
	if (!lead_res)
		return 0;
	if (lead_res <= last_other)
		lead_res = last_other + 10 * MIN;
	struct ev *e = push(p, lead_res, EV_REPORT);
	e->a = w->d[0];
	e->b = WH_STEP_RESOLVE;
	return lead_res;
}

static struct ev *plan_whistle(struct plan *p, uint64_t t, unsigned nd)
{
	uint64_t *r = p->rng;
	struct ev *w = push(p, t, EV_WHISTLE);
	w->a = below(r, 3) ? WH_WK_ASSEMBLE : WH_WK_CHARGE;
	w->nd = (uint8_t)nd;
	for (unsigned i = 0; i < nd; i++)
		w->d[i] = pick_dept(r, w->d, i);
	w->b = below(r, 100) < 60 ? 0 : 1;
	w->c = (uint8_t)below(r, 3);
	return w;
}

static void plan_big(struct plan *p, uint64_t t)
{
	uint64_t *r = p->rng;
	st(p, t + MIN, WH_ST_NEW, WH_ST_ACCEPTED);
	uint64_t tw = t + between(r, 30 * MIN, 6 * HOUR);
	unsigned x = (unsigned)below(r, 100);
	struct ev *w = plan_whistle(p, tw, x < 55 ? 1 : x < 85 ? 2 : 3);
	struct ev wc = *w; /* push may move the array */
	st(p, tw + 10 * MIN, WH_ST_ACCEPTED, WH_ST_IN_PROGRESS);
	uint64_t res = plan_round(p, tw, &wc), reo;
	if (!res || !plan_after(p, res, &wc, &reo))
		return;
	/* a new round: the lead again, urgently */
	w = plan_whistle(p, reo + HOUR, 1);
	w->d[0] = wc.d[0];
	w->a = WH_WK_CHARGE;
	w->b = 0;
	wc = *w;
	res = plan_round(p, reo + HOUR, &wc);
	if (res && below(r, 100) < 60)
		st(p, res + between(r, 2 * DAY, 6 * DAY), WH_ST_RESOLVED,
		   WH_ST_CLOSED);
}

static void plan_small(struct plan *p, uint64_t t)
{
	uint64_t *r = p->rng, reo;
	unsigned cur = WH_ST_NEW;
	if (below(r, 2)) {
		st(p, t + MIN, cur, WH_ST_ACCEPTED);
		cur = WH_ST_ACCEPTED;
	}
	if (below(r, 100) < 4) {
		st(p, t + DAY, cur, WH_ST_CANCELLED);
		return;
	}
	st(p, t + between(r, 2 * MIN, 2 * HOUR), cur, WH_ST_IN_PROGRESS);
	if (below(r, 100) < 5)
		return; /* never finished */
	uint64_t res = t + between(r, 3 * HOUR, 5 * DAY);
	st(p, res, WH_ST_IN_PROGRESS, WH_ST_RESOLVED);
	if (!plan_after(p, res, NULL, &reo))
		return;
	st(p, reo + HOUR, WH_ST_REOPENED, WH_ST_IN_PROGRESS);
	res = reo + between(r, 2 * HOUR, 3 * DAY);
	st(p, res, WH_ST_IN_PROGRESS, WH_ST_RESOLVED);
	if (below(r, 100) < 60)
		st(p, res + between(r, 2 * DAY, 6 * DAY), WH_ST_RESOLVED,
		   WH_ST_CLOSED);
}

static int ev_cmp(const void *x, const void *y)
{
	const struct ev *a = x, *b = y;
	return a->ms < b->ms ? -1 : a->ms > b->ms;
}

/* The whole life of case ci created at t, sorted, each step after the
 * one before, cut at the year's end. */
static void plan_case(struct plan *p, uint32_t ci, uint64_t t)
{
	uint64_t *r = p->rng;
	p->n = 0;
	p->ci = ci;
	push(p, t, EV_CREATE);
	for (unsigned k = (unsigned)below(r, 5); k; k--)
		push(p, t + between(r, HOUR, 10 * DAY), EV_NOTE);
	unsigned x = (unsigned)below(r, 100);
	if (x < 8) { /* not triaged (yet) */
		if (below(r, 2))
			st(p, t + HOUR, WH_ST_NEW, WH_ST_ACCEPTED);
	} else {
		x = (unsigned)below(r, 100);
		unsigned level = x < 36	  ? WH_LEVEL_BIG
				 : x < 84 ? WH_LEVEL_SMALL
					  : WH_LEVEL_MICRO;
		uint64_t tt = t + between(r, 10 * MIN, 4 * HOUR);
		push(p, tt, EV_TRIAGE)->a = (uint8_t)level;
		if (level == WH_LEVEL_BIG && below(r, 100) < 92) {
			if (below(r, 100) < 2) {
				st(p, tt + DAY, WH_ST_NEW, WH_ST_CANCELLED);
			} else {
				plan_big(p, tt);
			}
		} else {
			plan_small(p, tt);
		}
	}
	qsort(p->e, p->n, sizeof *p->e, ev_cmp);
	size_t k = 0;
	for (size_t i = 0; i < p->n; i++) {
		if (k && p->e[i].ms <= p->e[k - 1].ms)
			p->e[i].ms = p->e[k - 1].ms + 1;
		if (p->e[i].ms <= YEAR_END)
			p->e[k++] = p->e[i];
	}
	p->n = k;
}

/* ---- the op stream: steps of all cases, in time order ---- */

struct stream {
	uint64_t rng;
	struct district *d;
	struct gcase *cases;
	uint32_t ncases, next; /* cases planned so far */
	uint32_t *seq;	       /* next sequence number per community */
	struct ev *heap;
	size_t nheap, capheap;
	struct plan plan;
	struct wh_buf tmp;
	char text[400 * 3 + 1], title[40 * 3 + 1];
	uint64_t made, nkind[WH_OP_KIND_MAX + 1];
};

static uint64_t created_ms(const struct stream *s, uint32_t ci)
{
	return YEAR0 + (uint64_t)ci * (365 * DAY) / s->ncases;
}

static void heap_push(struct stream *s, const struct ev *e)
{
	if (s->nheap == s->capheap) {
		s->capheap = s->capheap ? 2 * s->capheap : 4096;
		s->heap = wh_xrealloc(s->heap, s->capheap * sizeof *s->heap);
	}
	size_t i = s->nheap++;
	while (i && s->heap[(i - 1) / 2].ms > e->ms) {
		s->heap[i] = s->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->heap[i] = *e;
}

static struct ev heap_pop(struct stream *s)
{
	struct ev top = s->heap[0], last = s->heap[--s->nheap];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= s->nheap)
			break;
		if (c + 1 < s->nheap && s->heap[c + 1].ms < s->heap[c].ms)
			c++;
		if (s->heap[c].ms >= last.ms)
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (s->nheap)
		s->heap[i] = last;
	return top;
}

static void stream_init(struct stream *s, struct district *d, uint32_t n)
{
	memset(s, 0, sizeof *s);
	s->rng = 0x10097;
	s->d = d;
	s->ncases = n;
	s->cases = wh_xcalloc(n, sizeof *s->cases);
	s->seq = wh_xcalloc(d->ncomm, sizeof *s->seq);
	s->plan.rng = &s->rng;
}

static void stream_fini(struct stream *s)
{
	free(s->cases);
	free(s->seq);
	free(s->heap);
	free(s->plan.e);
	wh_buf_fini(&s->tmp);
}

static void rand_text(struct stream *s, char *out, size_t nchars)
{
	size_t o = 0;
	for (size_t i = 0; i < nchars; i++) {
		const char *c = i && below(&s->rng, 12) == 0
				    ? "，"
				    : cjk + 3 * below(&s->rng, NCJK);
		memcpy(out + o, c, 3);
		o += 3;
	}
	out[o] = '\0';
}

/* The next step in time order, planning cases as their day comes; 0
 * when the year is over. */
static int stream_ev(struct stream *s, struct ev *out)
{
	while (s->next < s->ncases &&
	       (!s->nheap || created_ms(s, s->next) <= s->heap[0].ms)) {
		uint32_t ci = s->next++;
		struct gcase *c = &s->cases[ci];
		c->comm = (uint16_t)below(&s->rng, s->d->ncomm);
		c->grid = (uint8_t)(1 + below(&s->rng, 8));
		c->seq = ++s->seq[c->comm];
		plan_case(&s->plan, ci,
			  created_ms(s, ci) + below(&s->rng, 60000));
		for (size_t i = 0; i < s->plan.n; i++)
			heap_push(s, &s->plan.e[i]);
	}
	if (!s->nheap)
		return 0;
	*out = heap_pop(s);
	return 1;
}

/* Draft the op of step e (strings live in s) and say who signs it. */
static const struct wh_key *draft(struct stream *s, const struct ev *e,
				  struct wh_op_draft *d, char *path)
{
	struct gcase *c = &s->cases[e->ci];
	const struct place *pl = &s->d->comm[c->comm];
	const struct wh_key *k = s->d->ckeys[c->comm];
	uint64_t *r = &s->rng;
	snprintf(path, 128, "%s/g%02u", pl->path, c->grid);
	static const uint8_t kinds[] = {
	    [EV_CREATE] = WH_OP_CASE_CREATE, [EV_TRIAGE] = WH_OP_TRIAGE,
	    [EV_WHISTLE] = WH_OP_WHISTLE,    [EV_REPORT] = WH_OP_REPORT,
	    [EV_STATUS] = WH_OP_CASE_STATUS, [EV_NOTE] = WH_OP_CASE_NOTE,
	    [EV_FEEDBACK] = WH_OP_FEEDBACK,  [EV_RATE] = WH_OP_RATE};
	wh_draft_init(d, kinds[e->type], pl->code, c->seq, path);
	if (d->kind >= WH_OP_TRIAGE)
		wh_draft_uint(d, WH_F_SEEN, WH_HLC_MAKE(c->last_ms, 0));
	wh_buf_reset(&s->tmp);
	switch (e->type) {
	case EV_CREATE:
		rand_text(s, s->title, 15 + below(r, 16));
		rand_text(s, s->text, 50 + below(r, 71));
		wh_draft_str(d, WH_F_TITLE, s->title);
		wh_draft_str(d, WH_F_DESCRIPTION, s->text);
		wh_draft_str(d, WH_F_CATEGORY, cats[below(r, 11)]);
		wh_draft_uint(d, WH_F_SOURCE,
			      below(r, 100) < 40 ? WH_SRC_HOTLINE
						 : below(r, 8));
		wh_draft_uint(d, WH_F_PRIORITY, below(r, 4));
		break;
	case EV_TRIAGE:
		wh_draft_uint(d, WH_F_LEVEL, e->a);
		break;
	case EV_WHISTLE:
		k = s->d->skeys[pl->street];
		wh_draft_uint(d, WH_F_WKIND, e->a);
		wh_draft_uint(d, WH_F_WHISTLER, WH_WHISTLER_STREET);
		if (e->a == WH_WK_SUPERVISE)
			break;
		for (unsigned i = 0; i < e->nd; i++)
			wh_mpw_cstr(&s->tmp, depts[e->d[i]]);
		wh_draft_array(d, WH_F_DEPTS, s->tmp.p, s->tmp.len, e->nd);
		wh_draft_str(d, WH_F_LEAD, depts[e->d[0]]);
		wh_draft_uint(d, WH_F_REPORT_MS, report_lim[e->b]);
		wh_draft_uint(d, WH_F_RESOLVE_MS, resolve_lim[e->c]);
		break;
	case EV_REPORT:
		k = s->d->dkey;
		wh_draft_str(d, WH_F_DEPT, depts[e->a]);
		wh_draft_uint(d, WH_F_STEP, e->b);
		if (e->b >= WH_STEP_PROGRESS) {
			rand_text(s, s->text, 10 + below(r, 31));
			wh_draft_str(d, WH_F_TEXT, s->text);
		}
		break;
	case EV_STATUS:
		wh_draft_uint(d, WH_F_FROM, e->a);
		wh_draft_uint(d, WH_F_TO, e->b);
		break;
	case EV_NOTE:
	case EV_FEEDBACK:
		rand_text(s, s->text, 10 + below(r, 31));
		wh_draft_str(d, WH_F_TEXT, s->text);
		if (e->type == EV_FEEDBACK)
			wh_draft_uint(d, WH_F_CHANNEL, below(r, 4));
		break;
	case EV_RATE:
		wh_draft_uint(d, WH_F_RATER,
			      e->a ? WH_RATER_STREET : WH_RATER_RESIDENT);
		wh_draft_uint(d, WH_F_SCORE, e->b);
		if (e->a) {
			k = s->d->skeys[pl->street];
			wh_draft_str(d, WH_F_DEPT, depts[e->a - 1]);
		}
		break;
	}
	return k;
}

/* The next signed op appended to out; 0 when the year is over. */
static int stream_next(struct stream *s, struct wh_buf *out)
{
	struct ev e;
	if (!stream_ev(s, &e))
		return 0;
	struct wh_op_draft d;
	char path[128];
	const struct wh_key *k = draft(s, &e, &d, path);
	d.hlc = WH_HLC_MAKE(e.ms, 0);
	int rc = wh_op_build(&d, k, out);
	if (rc)
		die("build", rc);
	s->cases[e.ci].last_ms = e.ms;
	s->nkind[d.kind]++;
	s->made++;
	return 1;
}

#endif
