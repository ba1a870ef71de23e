/*
 * flow.c: the whistle-and-report loop's rules and its part of the view.
 * Pure functions of (state, op), like case.c; flow.h has the contract
 * and docs/crdt.md ("The loop") the rules in prose.
 */
#include "flow.h"

#include "case.h"
#include "mp.h"

#include <stdlib.h>
#include <string.h>

static const char *const level_names[] = {"micro", "small", "big"};
static const char *const level_labels[] = {"微事", "小事", "大事"};
static const char *const whistler_names[] = {"alley", "community", "street"};
static const char *const whistler_labels[] = {"街巷长", "社区书记",
					     "街道书记"};
static const char *const wkind_names[] = {"prepare", "assemble", "charge",
					  "final", "supervise"};
static const char *const wkind_labels[] = {"预备哨", "集结哨", "冲锋哨",
					   "终场哨", "监督哨"};
static const char *const step_names[] = {"ack", "onsite", "progress",
					 "resolve"};
static const char *const step_labels[] = {"报到", "到场", "进展", "办结"};
static const char *const channel_names[] = {"phone", "visit", "sms", "app"};

#define NAMED(fn, arr, max)                                                    \
	const char *fn(unsigned v) { return v <= (max) ? arr[v] : NULL; }
NAMED(wh_level_name, level_names, WH_LEVEL_MAX)
NAMED(wh_level_label, level_labels, WH_LEVEL_MAX)
NAMED(wh_whistler_name, whistler_names, WH_WHISTLER_MAX)
NAMED(wh_whistler_label, whistler_labels, WH_WHISTLER_MAX)
NAMED(wh_wkind_name, wkind_names, WH_WKIND_MAX)
NAMED(wh_wkind_label, wkind_labels, WH_WKIND_MAX)
NAMED(wh_step_name, step_names, WH_STEP_MAX)
NAMED(wh_step_label, step_labels, WH_STEP_MAX)
NAMED(wh_channel_name, channel_names, WH_CHANNEL_MAX)

static int parse(const char *s, const char *const *a, const char *const *b,
		 unsigned max)
{
	for (unsigned i = 0; i <= max; i++)
		if (!strcmp(s, a[i]) || (b && !strcmp(s, b[i])))
			return (int)i;
	return -1;
}

int wh_level_parse(const char *s)
{
	return parse(s, level_names, level_labels, WH_LEVEL_MAX);
}
int wh_whistler_parse(const char *s)
{
	return parse(s, whistler_names, whistler_labels, WH_WHISTLER_MAX);
}
int wh_wkind_parse(const char *s)
{
	return parse(s, wkind_names, wkind_labels, WH_WKIND_MAX);
}
int wh_step_parse(const char *s)
{
	return parse(s, step_names, step_labels, WH_STEP_MAX);
}
int wh_channel_parse(const char *s)
{
	return parse(s, channel_names, NULL, WH_CHANNEL_MAX);
}

void wh_flow_init(struct wh_flow *f)
{
	memset(f, 0, sizeof *f);
	f->level = WH_LEVEL_NONE;
}

void wh_flow_fini(struct wh_flow *f)
{
	for (uint32_t i = 0; i < f->nsummons; i++)
		free(f->summons[i].dept);
	for (uint32_t i = 0; i < f->nfiles; i++) {
		free(f->files[i].mime);
		free(f->files[i].name);
	}
	free(f->summons);
	free(f->files);
	wh_flow_init(f);
}

/* The summons of dept[0..n) in the current round. */
static struct wh_summons *find(const struct wh_flow *f, const char *dept,
			       size_t n)
{
	for (uint32_t i = 0; i < f->nsummons; i++) {
		struct wh_summons *s = &f->summons[i];
		if (s->round == f->round && strlen(s->dept) == n &&
		    !memcmp(s->dept, dept, n))
			return s;
	}
	return NULL;
}

/* Summoned in an earlier round but not this one. */
static int summoned_before(const struct wh_flow *f, const char *dept,
			   size_t n)
{
	for (uint32_t i = 0; i < f->nsummons; i++) {
		const struct wh_summons *s = &f->summons[i];
		if (s->round < f->round && strlen(s->dept) == n &&
		    !memcmp(s->dept, dept, n))
			return 1;
	}
	return 0;
}

const struct wh_summons *wh_flow_summons(const struct wh_case *c,
					 const char *dept)
{
	return find(&c->flow, dept, strlen(dept));
}

static int has_open_lead(const struct wh_flow *f)
{
	for (uint32_t i = 0; i < f->nsummons; i++)
		if (f->summons[i].round == f->round && f->summons[i].lead &&
		    !f->summons[i].resolved_at)
			return 1;
	return 0;
}

static int done(unsigned status)
{
	return status == WH_ST_CLOSED || status == WH_ST_CANCELLED;
}

static int result_in(unsigned status)
{
	return status == WH_ST_RESOLVED || status == WH_ST_CLOSED;
}

/* The lowest whistler rank that may whistle a case of this level. */
static unsigned rank_for(unsigned level)
{
	return level == WH_LEVEL_BIG ? WH_WHISTLER_STREET : WH_WHISTLER_ALLEY;
}

#define REFUSE(code, msg)                                                      \
	do {                                                                   \
		if (why)                                                       \
			*why = msg;                                            \
		return code;                                                   \
	} while (0)

static int check_whistle(const struct wh_case *c, const struct wh_op *op,
			 const char **why)
{
	const struct wh_flow *f = &c->flow;
	unsigned kind = (unsigned)wh_op_field(op, WH_F_WKIND)->u;
	unsigned rank = (unsigned)wh_op_field(op, WH_F_WHISTLER)->u;
	if (f->level == WH_LEVEL_NONE)
		REFUSE(WH_ESTATE, "the case is not triaged yet (先分流)");
	if (f->level == WH_LEVEL_MICRO)
		REFUSE(WH_ESTATE, "a micro matter is for residents, not a "
				  "whistle (微事不吹哨)");
	if (result_in(c->status))
		REFUSE(WH_ESTATE, "the case is resolved: reopen it before "
				  "whistling again (已解决，请先重启)");
	if (rank < rank_for(f->level))
		REFUSE(WH_EDENIED, "a big matter is whistled by the street "
				   "(大事由街道吹哨)");
	if (kind == WH_WK_SUPERVISE) {
		int any = 0;
		for (uint32_t i = 0; i < f->nsummons && !any; i++)
			any = f->summons[i].round == f->round;
		if (!any)
			REFUSE(WH_ESTATE, "no department is summoned: nothing "
					  "to supervise (无可督办)");
	}
	return WH_OK;
}

static int check_report(const struct wh_case *c, const struct wh_op *op,
			const char **why)
{
	const struct wh_field *d = wh_op_field(op, WH_F_DEPT);
	const struct wh_summons *s =
	    find(&c->flow, (const char *)d->s.p, d->s.n);
	if (!s)
		REFUSE(WH_EDENIED, "this department was not summoned to the "
				   "case (未被吹哨)");
	/* Its author had not seen this round's summons: the step answers
	 * an earlier round (the case was reopened meanwhile). */
	const struct wh_field *sf = wh_op_field(op, WH_F_SEEN);
	if (sf && sf->u < s->summoned_at)
		REFUSE(WH_ESTATE, "the case was reopened and whistled again "
				  "since (案件已重启)");
	if (s->resolved_at)
		REFUSE(WH_ESTATE, "this department has already resolved its "
				  "part (已办结)");
	if (c->status == WH_ST_RESOLVED)
		REFUSE(WH_ESTATE, "the case is resolved (案件已解决)");
	return WH_OK;
}

static int check_rate(const struct wh_case *c, const struct wh_op *op,
		      const char **why)
{
	unsigned rater = (unsigned)wh_op_field(op, WH_F_RATER)->u;
	const struct wh_field *d = wh_op_field(op, WH_F_DEPT);
	if (rater == WH_RATER_RESIDENT) {
		if (d)
			REFUSE(WH_EDENIED, "a resident rates the result, not "
					   "a department");
		if (!result_in(c->status))
			REFUSE(WH_ESTATE, "the case has no result to rate yet "
					  "(尚未解决)");
		return WH_OK;
	}
	if (!d)
		REFUSE(WH_EDENIED, "the street rates a department: name it");
	const struct wh_summons *s =
	    find(&c->flow, (const char *)d->s.p, d->s.n);
	if (!s)
		REFUSE(WH_EDENIED, "this department was not summoned to the "
				   "case (未被吹哨)");
	if (!s->resolved_at && !result_in(c->status))
		REFUSE(WH_ESTATE, "the department has not finished yet "
				  "(尚未办结)");
	return WH_OK;
}

int wh_flow_check(const struct wh_case *c, const struct wh_op *op,
		  const char **why)
{
	if (why)
		*why = NULL;
	if (op->kind != WH_OP_ATTACH && done(c->status))
		REFUSE(WH_ESTATE, "the case is closed or cancelled "
				  "(已办结或已撤销)");
	switch (op->kind) {
	case WH_OP_TRIAGE: return WH_OK;
	case WH_OP_WHISTLE: return check_whistle(c, op, why);
	case WH_OP_REPORT: return check_report(c, op, why);
	case WH_OP_FEEDBACK:
		if (!result_in(c->status))
			REFUSE(WH_ESTATE, "there is no result to feed back "
					  "yet (尚未解决)");
		return WH_OK;
	case WH_OP_RATE: return check_rate(c, op, why);
	case WH_OP_ATTACH:
		if (c->flow.nfiles == WH_FLOW_MAX_FILES)
			REFUSE(WH_ESTATE, "the case has as many attachments "
					  "as it may keep");
		return WH_OK;
	default: REFUSE(WH_EINVAL, "not a workflow step");
	}
}

int wh_flow_status_check(const struct wh_case *c, unsigned to,
			 const char **why)
{
	if (why)
		*why = NULL;
	if ((to == WH_ST_RESOLVED || to == WH_ST_CLOSED) &&
	    has_open_lead(&c->flow))
		REFUSE(WH_ESTATE, "the lead department has not resolved its "
				  "part (牵头部门尚未办结)");
	return WH_OK;
}

void wh_flow_on_status(struct wh_case *c, unsigned to, wh_hlc_ts at)
{
	if (to != WH_ST_REOPENED)
		return;
	struct wh_flow *f = &c->flow;
	f->round++;
	f->reopened_at = at;
	f->resolved_at = 0;
	f->resident_score = 0;
	f->rated_at = 0;
}

static uint64_t due(wh_hlc_ts at, const struct wh_field *ms)
{
	return ms && ms->u ? WH_HLC_MS(at) + ms->u : 0;
}

/* Earlier deadline wins: order-free, so concurrent whistles agree. */
static void tighten(uint64_t *cur, uint64_t d)
{
	if (d && (!*cur || d < *cur))
		*cur = d;
}

static struct wh_summons *summon(struct wh_flow *f, const char *dept,
				 size_t n, const struct wh_op *op)
{
	struct wh_summons *s = find(f, dept, n);
	uint64_t rd = due(op->hlc, wh_op_field(op, WH_F_REPORT_MS));
	uint64_t sd = due(op->hlc, wh_op_field(op, WH_F_RESOLVE_MS));
	if (!s) {
		if (f->nsummons == WH_FLOW_MAX_SUMMONS)
			return NULL;
		f->summons = wh_xrealloc(f->summons, (f->nsummons + 1) *
							 sizeof *f->summons);
		s = &f->summons[f->nsummons++];
		memset(s, 0, sizeof *s);
		s->dept = wh_xstrndup(dept, n);
		s->round = f->round;
		s->summoned_at = op->hlc;
	}
	tighten(&s->report_due_ms, rd);
	tighten(&s->resolve_due_ms, sd);
	return s;
}

static enum wh_apply apply_whistle(struct wh_case *c, const struct wh_op *op,
				   uint64_t seen)
{
	struct wh_flow *f = &c->flow;
	enum wh_apply r = WH_APPLY_OK;
	f->nwhistles++;
	f->last_wkind = (uint8_t)wh_op_field(op, WH_F_WKIND)->u;
	f->whistled_at = op->hlc;
	if (f->last_wkind == WH_WK_SUPERVISE)
		f->nsupervise++;
	const struct wh_field *d = wh_op_field(op, WH_F_DEPTS);
	if (d) {
		struct wh_mp m;
		wh_mp_init(&m, d->s.p, d->s.n);
		for (uint32_t k = 0; k < d->count; k++) {
			struct wh_slice e;
			if (wh_mp_read_str(&m, &e, WH_DEPT_MAX))
				break; /* decode checked every element */
			(void)summon(f, (const char *)e.p, e.n, op);
		}
	}
	const struct wh_field *l = wh_op_field(op, WH_F_LEAD);
	if (!l)
		return r;
	struct wh_summons *ls = summon(f, (const char *)l->s.p, l->s.n, op);
	if (!ls)
		return r;
	if (!ls->lead) {
		int had = 0;
		for (uint32_t i = 0; i < f->nsummons; i++)
			if (f->summons[i].round == f->round &&
			    f->summons[i].lead) {
				f->summons[i].lead = 0;
				had = 1;
			}
		ls->lead = 1;
		if (had && seen < f->lead_at) {
			f->conflicts |= WH_FLOW_C_LEAD;
			r = WH_APPLY_CONFLICT;
		}
	}
	if (r == WH_APPLY_OK && seen >= f->lead_at)
		f->conflicts &= ~WH_FLOW_C_LEAD;
	f->lead_at = op->hlc;
	return r;
}

static void apply_report(struct wh_case *c, const struct wh_op *op)
{
	struct wh_flow *f = &c->flow;
	const struct wh_field *d = wh_op_field(op, WH_F_DEPT);
	struct wh_summons *s = find(f, (const char *)d->s.p, d->s.n);
	unsigned step = (unsigned)wh_op_field(op, WH_F_STEP)->u;
	if (!s->acked_at) /* any step reports in */
		s->acked_at = op->hlc;
	if (step == WH_STEP_ONSITE && !s->onsite_at)
		s->onsite_at = op->hlc;
	if (step == WH_STEP_PROGRESS)
		s->nprogress++;
	if (step != WH_STEP_RESOLVE)
		return;
	s->resolved_at = op->hlc;
	if (!s->lead)
		return;
	f->resolved_at = op->hlc;
	if (wh_status_allowed(c->status, WH_ST_RESOLVED)) {
		c->status = WH_ST_RESOLVED;
		c->conflict = 0;
	}
}

static void apply_attach(struct wh_flow *f, const struct wh_op *op)
{
	const struct wh_field *h = wh_op_field(op, WH_F_BLOB);
	for (uint32_t i = 0; i < f->nfiles; i++)
		if (!memcmp(f->files[i].hash, h->s.p, WH_ID_BYTES))
			return; /* the same content twice: once is enough */
	f->files = wh_xrealloc(f->files, (f->nfiles + 1) * sizeof *f->files);
	struct wh_attachment *a = &f->files[f->nfiles++];
	memcpy(a->hash, h->s.p, WH_ID_BYTES);
	a->size = wh_op_field(op, WH_F_SIZE)->u;
	const struct wh_field *m = wh_op_field(op, WH_F_MIME);
	a->mime = wh_xstrndup((const char *)m->s.p, m->s.n);
	const struct wh_field *n = wh_op_field(op, WH_F_NAME);
	a->name = n ? wh_xstrndup((const char *)n->s.p, n->s.n) : NULL;
	a->at = op->hlc;
}

enum wh_apply wh_flow_apply(struct wh_case *c, const struct wh_op *op)
{
	struct wh_flow *f = &c->flow;
	const struct wh_field *sf = wh_op_field(op, WH_F_SEEN);
	uint64_t seen = sf ? sf->u : 0;
	if (wh_flow_check(c, op, NULL) != WH_OK) {
		/* A department that acted on a round reopened meanwhile,
		 * without seeing the reopen: someone must look. */
		const struct wh_field *d = wh_op_field(op, WH_F_DEPT);
		const struct wh_summons *cur =
		    d ? find(f, (const char *)d->s.p, d->s.n) : NULL;
		if (op->kind == WH_OP_REPORT && d &&
		    summoned_before(f, (const char *)d->s.p, d->s.n) &&
		    seen < f->reopened_at &&
		    (!cur || seen < cur->summoned_at))
			f->conflicts |= WH_FLOW_C_REPORT;
		return WH_APPLY_IGNORED;
	}
	switch (op->kind) {
	case WH_OP_TRIAGE: {
		uint8_t lv = (uint8_t)wh_op_field(op, WH_F_LEVEL)->u;
		enum wh_apply r = WH_APPLY_OK;
		if (f->level != WH_LEVEL_NONE && f->level != lv &&
		    seen < f->level_at) {
			f->conflicts |= WH_FLOW_C_LEVEL;
			r = WH_APPLY_CONFLICT;
		} else if (seen >= f->level_at) {
			/* someone who saw the level decided */
			f->conflicts &= ~WH_FLOW_C_LEVEL;
		}
		f->level = lv;
		f->level_at = op->hlc;
		return r;
	}
	case WH_OP_WHISTLE: return apply_whistle(c, op, seen);
	case WH_OP_REPORT:
		apply_report(c, op);
		f->conflicts &= ~WH_FLOW_C_REPORT;
		return WH_APPLY_OK;
	case WH_OP_FEEDBACK:
		f->nfeedback++;
		f->feedback_at = op->hlc;
		return WH_APPLY_OK;
	case WH_OP_RATE: {
		uint8_t score = (uint8_t)wh_op_field(op, WH_F_SCORE)->u;
		const struct wh_field *d = wh_op_field(op, WH_F_DEPT);
		if (d) {
			find(f, (const char *)d->s.p, d->s.n)->street_score =
			    score;
		} else {
			f->resident_score = score;
			f->rated_at = op->hlc;
		}
		return WH_APPLY_OK;
	}
	case WH_OP_ATTACH: apply_attach(f, op); return WH_APPLY_OK;
	default: return WH_APPLY_IGNORED;
	}
}

uint32_t wh_flow_overdue(const struct wh_case *c, uint64_t now_ms,
			 wh_overdue_cb cb, void *ctx)
{
	const struct wh_flow *f = &c->flow;
	uint32_t n = 0;
	if (done(c->status) || result_in(c->status))
		return 0;
	for (uint32_t i = 0; i < f->nsummons; i++) {
		const struct wh_summons *s = &f->summons[i];
		if (s->round != f->round)
			continue;
		if (!s->acked_at && s->report_due_ms &&
		    now_ms > s->report_due_ms) {
			n++;
			if (cb)
				cb(ctx, s, 0, now_ms - s->report_due_ms);
		}
		if (!s->resolved_at && s->resolve_due_ms &&
		    now_ms > s->resolve_due_ms) {
			n++;
			if (cb)
				cb(ctx, s, 1, now_ms - s->resolve_due_ms);
		}
	}
	return n;
}

/* ---- view encoding (inside the case view, case.c) ---------------- */

#define FLOW_FIELDS 17
#define SUMMONS_FIELDS 11
#define FILE_FIELDS 5

void wh_flow_encode(const struct wh_flow *f, struct wh_buf *b)
{
	wh_mpw_array(b, FLOW_FIELDS);
	wh_mpw_uint(b, f->level);
	wh_mpw_uint(b, f->level_at);
	wh_mpw_uint(b, f->round);
	wh_mpw_uint(b, f->reopened_at);
	wh_mpw_uint(b, f->nwhistles);
	wh_mpw_uint(b, f->nsupervise);
	wh_mpw_uint(b, f->last_wkind);
	wh_mpw_uint(b, f->whistled_at);
	wh_mpw_uint(b, f->lead_at);
	wh_mpw_uint(b, f->resolved_at);
	wh_mpw_uint(b, f->nfeedback);
	wh_mpw_uint(b, f->feedback_at);
	wh_mpw_uint(b, f->resident_score);
	wh_mpw_uint(b, f->rated_at);
	wh_mpw_uint(b, f->conflicts);
	wh_mpw_array(b, f->nsummons);
	for (uint32_t i = 0; i < f->nsummons; i++) {
		const struct wh_summons *s = &f->summons[i];
		wh_mpw_array(b, SUMMONS_FIELDS);
		wh_mpw_cstr(b, s->dept);
		wh_mpw_uint(b, s->round);
		wh_mpw_uint(b, (unsigned)s->lead);
		wh_mpw_uint(b, s->summoned_at);
		wh_mpw_uint(b, s->report_due_ms);
		wh_mpw_uint(b, s->resolve_due_ms);
		wh_mpw_uint(b, s->acked_at);
		wh_mpw_uint(b, s->onsite_at);
		wh_mpw_uint(b, s->resolved_at);
		wh_mpw_uint(b, s->nprogress);
		wh_mpw_uint(b, s->street_score);
	}
	wh_mpw_array(b, f->nfiles);
	for (uint32_t i = 0; i < f->nfiles; i++) {
		const struct wh_attachment *a = &f->files[i];
		wh_mpw_array(b, FILE_FIELDS);
		wh_mpw_bin(b, a->hash, WH_ID_BYTES);
		wh_mpw_uint(b, a->size);
		wh_mpw_cstr(b, a->mime);
		if (a->name)
			wh_mpw_cstr(b, a->name);
		else
			wh_mpw_nil(b);
		wh_mpw_uint(b, a->at);
	}
}

static int rd(struct wh_mp *r, uint64_t *v, uint64_t max)
{
	int rc = wh_mp_read_uint(r, v);
	return rc ? rc : *v > max ? WH_EDECODE : WH_OK;
}

static int rd_str(struct wh_mp *r, char **out, size_t max)
{
	struct wh_slice s;
	int rc = wh_mp_read_str(r, &s, max);
	if (!rc)
		*out = wh_xstrndup((const char *)s.p, s.n);
	return rc;
}

#define U(dst, max)                                                            \
	do {                                                                   \
		uint64_t v_;                                                   \
		if (rd(r, &v_, (max)))                                         \
			return WH_ECORRUPT;                                    \
		(dst) = v_;                                                    \
	} while (0)

static int decode_summons(struct wh_mp *r, struct wh_summons *s)
{
	uint32_t n;
	if (wh_mp_read_array(r, &n, SUMMONS_FIELDS) || n != SUMMONS_FIELDS ||
	    rd_str(r, &s->dept, WH_DEPT_MAX))
		return WH_ECORRUPT;
	U(s->round, UINT32_MAX);
	U(s->lead, 1);
	U(s->summoned_at, UINT64_MAX);
	U(s->report_due_ms, UINT64_MAX);
	U(s->resolve_due_ms, UINT64_MAX);
	U(s->acked_at, UINT64_MAX);
	U(s->onsite_at, UINT64_MAX);
	U(s->resolved_at, UINT64_MAX);
	U(s->nprogress, UINT32_MAX);
	U(s->street_score, 5);
	return WH_OK;
}

static int decode_file(struct wh_mp *r, struct wh_attachment *a)
{
	uint32_t n;
	if (wh_mp_read_array(r, &n, FILE_FIELDS) || n != FILE_FIELDS ||
	    wh_mp_read_bin_fixed(r, a->hash, WH_ID_BYTES))
		return WH_ECORRUPT;
	U(a->size, UINT64_MAX);
	if (rd_str(r, &a->mime, 100))
		return WH_ECORRUPT;
	if (wh_mp_peek(r) == WH_MP_NIL) {
		if (wh_mp_read_nil(r))
			return WH_ECORRUPT;
	} else if (rd_str(r, &a->name, 255)) {
		return WH_ECORRUPT;
	}
	U(a->at, UINT64_MAX);
	return WH_OK;
}

int wh_flow_decode(struct wh_mp *r, struct wh_flow *f)
{
	uint32_t n;
	wh_flow_init(f);
	if (wh_mp_read_array(r, &n, FLOW_FIELDS) || n != FLOW_FIELDS)
		return WH_ECORRUPT;
	U(f->level, 255);
	U(f->level_at, UINT64_MAX);
	U(f->round, UINT32_MAX);
	U(f->reopened_at, UINT64_MAX);
	U(f->nwhistles, UINT32_MAX);
	U(f->nsupervise, UINT32_MAX);
	U(f->last_wkind, WH_WKIND_MAX);
	U(f->whistled_at, UINT64_MAX);
	U(f->lead_at, UINT64_MAX);
	U(f->resolved_at, UINT64_MAX);
	U(f->nfeedback, UINT32_MAX);
	U(f->feedback_at, UINT64_MAX);
	U(f->resident_score, 5);
	U(f->rated_at, UINT64_MAX);
	U(f->conflicts, 7);
	if (wh_mp_read_array(r, &n, WH_FLOW_MAX_SUMMONS))
		return WH_ECORRUPT;
	f->summons = n ? wh_xcalloc(n, sizeof *f->summons) : NULL;
	for (; f->nsummons < n; f->nsummons++)
		if (decode_summons(r, &f->summons[f->nsummons])) {
			f->nsummons++; /* fini frees what it got */
			return WH_ECORRUPT;
		}
	if (wh_mp_read_array(r, &n, WH_FLOW_MAX_FILES))
		return WH_ECORRUPT;
	f->files = n ? wh_xcalloc(n, sizeof *f->files) : NULL;
	for (; f->nfiles < n; f->nfiles++)
		if (decode_file(r, &f->files[f->nfiles])) {
			f->nfiles++;
			return WH_ECORRUPT;
		}
	return WH_OK;
}
