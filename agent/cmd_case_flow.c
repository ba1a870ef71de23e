/*
 * cmd_case_flow.c: the whistle-and-report loop (crdt/flow.h) as people
 * and scripts see it: the "loop" member of the case object, its part of
 * `case show`, one-line history summaries of loop ops, and `case list
 * --overdue`.
 *
 * "Overdue" depends on when it is asked: every answer here takes its
 * "now" from cli_now (the wall clock, or $WHISTLE_NOW_MS in tests), and
 * the rest (deadlines, lateness) is the view's, the same on every
 * station. Times are printed as in the rest of `case show`: local time
 * for people, ISO 8601 UTC in JSON. Deadlines are those the emergencies
 * held move (crdt/deadline.h: paused or extended while an emergency
 * covered the case), the same on every station holding the same ops.
 */
#include "cli.h"
#include "cli_emergency.h"
#include "json.h"
#include "mp.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

uint64_t cli_now(const struct cli *c)
{
	if (c->now_ms)
		return c->now_ms;
	return wh_clock_realtime(NULL);
}

/* The two largest units of ms: days+hours, hours+minutes or minutes;
 * a zero second unit is left out ("2小时", not "2小时0分"). */
static void duration(uint64_t ms, char out[32], const char *const u[3])
{
	uint64_t m = ms / 60000u, h = m / 60u, d = h / 24u;
	uint64_t big = d ? d : h ? h : m, small = d ? h % 24u : m % 60u;
	size_t k = d ? 0 : h ? 1 : 2;
	int n = snprintf(out, 32, "%" PRIu64 "%s", big, u[k]);
	if (k < 2 && small && n > 0 && n < 32)
		snprintf(out + n, 32 - (size_t)n, "%" PRIu64 "%s", small,
			 u[k + 1]);
}

void cli_duration_zh(uint64_t ms, char out[32])
{
	static const char *const u[3] = {"天", "小时", "分"};
	duration(ms, out, u);
}

void cli_duration_en(uint64_t ms, char out[32])
{
	static const char *const u[3] = {"d", "h", "m"};
	duration(ms, out, u);
}

/* The flags a person must clear, in plain words (zh first). */
static const struct {
	uint32_t bit;
	const char *name, *text;
} conflict_words[] = {
	{WH_FLOW_C_LEVEL, "level",
	 "两个分流级别同时设定，请确认 (two triage levels were set at the "
	 "same time: triage again to confirm)"},
	{WH_FLOW_C_LEAD, "lead",
	 "两次吹哨指定了不同的牵头部门，请确认 (two whistles named different "
	 "lead departments: whistle again naming the lead)"},
	{WH_FLOW_C_REPORT, "report",
	 "有部门对已重启的上一轮报到，已被忽略，请核实 (a department acted on "
	 "a round reopened meanwhile; its step was ignored)"},
};
#define NCONFLICT (sizeof conflict_words / sizeof conflict_words[0])

static void json_time(struct json *j, const char *k, uint64_t ms)
{
	char iso[CLI_TIME_MAX];
	json_key(j, k);
	if (!ms) {
		json_null(j);
		return;
	}
	cli_time_iso(ms, iso);
	json_str(j, iso);
}

static void json_score(struct json *j, const char *k, unsigned score)
{
	json_key(j, k);
	if (score)
		json_uint(j, score);
	else
		json_null(j);
}

/* A deadline as emergencies move it, in JSON: ms, or null while an
 * open-ended emergency holds it (0 stays 0: no deadline). */
static void json_due_eff(struct json *j, const char *k, uint64_t due)
{
	json_key(j, k);
	if (due == WH_DL_NEVER)
		json_null(j);
	else
		json_uint(j, due);
}

static void summons_json(struct json *j, const struct wh_flow *f,
			 const struct wh_summons *s, uint64_t now,
			 const struct wh_dl_clock *k)
{
	uint64_t w = WH_HLC_MS(s->summoned_at);
	json_obj(j);
	json_kstr(j, "department", s->dept);
	json_kuint(j, "round", s->round);
	json_kbool(j, "current", s->round == f->round);
	json_kbool(j, "lead", s->lead);
	json_time(j, "summoned_at", WH_HLC_MS(s->summoned_at));
	json_time(j, "report_due", s->report_due_ms);
	json_time(j, "resolve_due", s->resolve_due_ms);
	json_kuint(j, "report_due_ms", s->report_due_ms);
	json_kuint(j, "resolve_due_ms", s->resolve_due_ms);
	json_due_eff(j, "report_due_effective_ms",
		     wh_dl_due(k, w, s->report_due_ms));
	json_due_eff(j, "resolve_due_effective_ms",
		     wh_dl_due(k, w, s->resolve_due_ms));
	json_time(j, "acked_at", WH_HLC_MS(s->acked_at));
	json_time(j, "onsite_at", WH_HLC_MS(s->onsite_at));
	json_time(j, "resolved_at", WH_HLC_MS(s->resolved_at));
	json_kbool(j, "report_late", wh_dl_report_late(k, s, now));
	json_kuint(j, "progress", s->nprogress);
	json_score(j, "street_score", s->street_score);
	json_obj_end(j);
}

static const char *what_name(enum wh_dl_what w)
{
	return w == WH_DL_REPORT ? "report" : w == WH_DL_RESOLVE ? "resolve"
								: "due";
}

static const char *what_label(enum wh_dl_what w)
{
	return w == WH_DL_REPORT    ? "报到超时"
	       : w == WH_DL_RESOLVE ? "办结超时"
				    : "期限已过";
}

static void overdue_json(void *ctx, const struct wh_summons *s,
			 enum wh_dl_what what, uint64_t late, uint64_t due)
{
	struct json *j = ctx;
	json_obj(j);
	json_kstr(j, "department", s ? s->dept : NULL);
	json_kstr(j, "what", what_name(what));
	json_kuint(j, "late_ms", late);
	json_kuint(j, "due_ms", due);
	json_obj_end(j);
}

void cli_flow_json(const struct cli *c, struct json *j,
		   const struct wh_case *v)
{
	const struct wh_flow *f = &v->flow;
	uint64_t now = cli_now(c);
	int triaged = f->level <= WH_LEVEL_MAX;
	struct wh_dl_clock dk;
	wh_dl_clock_init(&dk);
	cli_em_clock(c, v, &dk);
	json_key(j, "loop");
	json_obj(j);
	json_kstr(j, "level", triaged ? wh_level_name(f->level) : NULL);
	json_kstr(j, "level_label", triaged ? wh_level_label(f->level) : NULL);
	json_time(j, "triaged_at", WH_HLC_MS(f->level_at));
	json_kuint(j, "round", f->round);
	json_time(j, "reopened_at", WH_HLC_MS(f->reopened_at));
	json_kuint(j, "whistles", f->nwhistles);
	json_kuint(j, "supervise", f->nsupervise);
	json_kstr(j, "last_whistle",
		  f->nwhistles ? wh_wkind_name(f->last_wkind) : NULL);
	json_kstr(j, "last_whistle_label",
		  f->nwhistles ? wh_wkind_label(f->last_wkind) : NULL);
	json_time(j, "whistled_at", WH_HLC_MS(f->whistled_at));
	json_time(j, "resolved_at", WH_HLC_MS(f->resolved_at));
	json_key(j, "summons");
	json_arr(j);
	for (uint32_t i = 0; i < f->nsummons; i++)
		summons_json(j, f, &f->summons[i], now, &dk);
	json_arr_end(j);
	json_key(j, "overdue");
	json_arr(j);
	(void)wh_dl_overdue(v, &dk, now, overdue_json, j);
	json_arr_end(j);
	json_kuint(j, "feedback", f->nfeedback);
	json_time(j, "feedback_at", WH_HLC_MS(f->feedback_at));
	json_score(j, "resident_score", f->resident_score);
	json_time(j, "rated_at", WH_HLC_MS(f->rated_at));
	json_key(j, "attachments");
	json_arr(j);
	for (uint32_t i = 0; i < f->nfiles; i++) {
		const struct wh_attachment *a = &f->files[i];
		json_obj(j);
		json_khex(j, "hash", a->hash, WH_ID_BYTES);
		json_kuint(j, "size", a->size);
		json_kstr(j, "mime", a->mime);
		json_kstr(j, "name", a->name);
		json_time(j, "at", WH_HLC_MS(a->at));
		json_obj_end(j);
	}
	json_arr_end(j);
	json_key(j, "conflicts");
	json_arr(j);
	for (size_t k = 0; k < NCONFLICT; k++)
		if (f->conflicts & conflict_words[k].bit) {
			json_obj(j);
			json_kstr(j, "flag", conflict_words[k].name);
			json_kstr(j, "message", conflict_words[k].text);
			json_obj_end(j);
		}
	json_arr_end(j);
	json_obj_end(j);
	wh_dl_clock_fini(&dk);
}

void cli_case_em_json(const struct cli *c, struct json *j,
		      const struct wh_case *v)
{
	struct wh_dl_clock k;
	wh_dl_clock_init(&k);
	cli_em_clock(c, v, &k);
	json_kuint(j, "due_ms", v->due_ms);
	json_time(j, "due", v->due_ms);
	json_due_eff(j, "due_effective_ms",
		     wh_dl_due(&k, WH_HLC_MS(v->created_at), v->due_ms));
	wh_dl_clock_fini(&k);
	json_key(j, "emergency_task");
	if (!v->task) {
		json_null(j);
		return;
	}
	char id[WH_CASE_ID_MAX];
	wh_doc_id_format(v->em_code, v->em_seq, id);
	json_obj(j);
	json_kstr(j, "emergency", id);
	json_kstr(j, "task", v->task);
	json_obj_end(j);
}

/* ---- case show: text ---------------------------------------------- */

static void row(const char *label, const char *value)
{
	fputs("  ", stdout);
	cli_print_cell(stdout, label, 18, 0);
	fputs(value ? value : "-", stdout);
	fputc('\n', stdout);
}

/* A local time, or "-" for none (0). */
static void when(uint64_t ms, char out[CLI_TIME_MAX])
{
	if (ms)
		cli_time_local(ms, out);
	else
		strcpy(out, "-");
}

/* A deadline as emergencies move it: "" when not moved. */
static void moved(uint64_t due, uint64_t eff, char *out, size_t n)
{
	char t[CLI_TIME_MAX];
	out[0] = '\0';
	if (due == eff)
		return;
	if (eff == WH_DL_NEVER) {
		snprintf(out, n, " (应急暂停中 held by an emergency)");
		return;
	}
	cli_time_local(eff, t);
	snprintf(out, n, " (应急顺延至 moved to %s)", t);
}

static void summons_text(const struct wh_summons *s, uint64_t now,
			 const struct wh_dl_clock *k)
{
	char t1[CLI_TIME_MAX], t2[CLI_TIME_MAX], t3[CLI_TIME_MAX];
	char m2[96], m3[96];
	uint64_t w = WH_HLC_MS(s->summoned_at);
	printf("    %s%s\n", s->dept, s->lead ? " [牵头 lead]" : "");
	when(WH_HLC_MS(s->summoned_at), t1);
	when(s->report_due_ms, t2);
	when(s->resolve_due_ms, t3);
	moved(s->report_due_ms, wh_dl_due(k, w, s->report_due_ms), m2,
	      sizeof m2);
	moved(s->resolve_due_ms, wh_dl_due(k, w, s->resolve_due_ms), m3,
	      sizeof m3);
	printf("      吹哨 %s  报到时限 %s%s  办结时限 %s%s\n", t1, t2, m2, t3,
	       m3);
	when(WH_HLC_MS(s->acked_at), t1);
	when(WH_HLC_MS(s->onsite_at), t2);
	when(WH_HLC_MS(s->resolved_at), t3);
	printf("      报到 %s%s  到场 %s  办结 %s\n",
	       s->acked_at ? t1 : "未报到 (not yet)",
	       wh_dl_report_late(k, s, now) && s->acked_at ? " [逾期报到 late]"
							 : "",
	       t2, s->resolved_at ? t3 : "未办结");
	printf("      进展 %" PRIu32 " 次", s->nprogress);
	if (s->street_score)
		printf("  街道评分 %u/5", (unsigned)s->street_score);
	fputc('\n', stdout);
}

static void overdue_text(void *ctx, const struct wh_summons *s,
			 enum wh_dl_what what, uint64_t late, uint64_t due)
{
	char zh[32], en[32], buf[256];
	(void)ctx;
	(void)due;
	cli_duration_zh(late, zh);
	cli_duration_en(late, en);
	snprintf(buf, sizeof buf, "%s %s %s (%s)", s ? s->dept : "案件 case",
		 what_label(what), zh, en);
	row("超时 Overdue", buf);
}

void cli_flow_text(const struct cli *c, const struct wh_case *v)
{
	const struct wh_flow *f = &v->flow;
	uint64_t now = cli_now(c);
	char buf[512], t1[CLI_TIME_MAX];
	struct wh_dl_clock dk;
	wh_dl_clock_init(&dk);
	cli_em_clock(c, v, &dk);
	if (v->due_ms) {
		char mv[96];
		when(v->due_ms, t1);
		moved(v->due_ms,
		      wh_dl_due(&dk, WH_HLC_MS(v->created_at), v->due_ms), mv,
		      sizeof mv);
		snprintf(buf, sizeof buf, "%s%s", t1, mv);
		row("期限 Due", buf);
	}
	printf("吹哨报到 Loop\n");
	if (f->level <= WH_LEVEL_MAX)
		snprintf(buf, sizeof buf, "%s (%s)", wh_level_label(f->level),
			 wh_level_name(f->level));
	else
		snprintf(buf, sizeof buf, "未分流 (not triaged)");
	row("分流 Level", buf);
	if (f->round) {
		when(WH_HLC_MS(f->reopened_at), t1);
		snprintf(buf, sizeof buf,
			 "第 %" PRIu32 " 轮 (round %" PRIu32 "; 重启 reopened "
			 "%s)",
			 f->round + 1, f->round + 1, t1);
		row("轮次 Round", buf);
	}
	if (f->nwhistles) {
		when(WH_HLC_MS(f->whistled_at), t1);
		snprintf(buf, sizeof buf,
			 "%" PRIu32 " 次, 最近 %s (%s) %s; 监督哨 %" PRIu32
			 " 次",
			 f->nwhistles, wh_wkind_label(f->last_wkind),
			 wh_wkind_name(f->last_wkind), t1, f->nsupervise);
		row("吹哨 Whistles", buf);
	}
	uint32_t earlier = 0, current = 0;
	for (uint32_t i = 0; i < f->nsummons; i++) {
		if (f->summons[i].round != f->round) {
			earlier++;
			continue;
		}
		if (!current++)
			printf("  部门报到 Departments (本轮 this round)\n");
		summons_text(&f->summons[i], now, &dk);
	}
	if (earlier) {
		snprintf(buf, sizeof buf, "%" PRIu32 " 个部门次 (summonses)",
			 earlier);
		row("往轮 Earlier", buf);
	}
	(void)wh_dl_overdue(v, &dk, now, overdue_text, NULL);
	wh_dl_clock_fini(&dk);
	if (f->nfeedback) {
		when(WH_HLC_MS(f->feedback_at), t1);
		snprintf(buf, sizeof buf, "%" PRIu32 " 次, 最近 %s",
			 f->nfeedback, t1);
		row("结果反馈 Feedback", buf);
	}
	if (f->resident_score) {
		snprintf(buf, sizeof buf, "%u/5", (unsigned)f->resident_score);
		row("居民评价 Rating", buf);
	}
	for (uint32_t i = 0; i < f->nfiles; i++) {
		const struct wh_attachment *a = &f->files[i];
		snprintf(buf, sizeof buf, "%s (%s, %" PRIu64 " bytes)",
			 a->name ? a->name : "-", a->mime, a->size);
		row(i ? "" : "附件 Files", buf);
	}
	for (size_t k = 0; k < NCONFLICT; k++)
		if (f->conflicts & conflict_words[k].bit)
			row("请确认 Check", conflict_words[k].text);
}

/* ---- history: one line per loop op ------------------------------- */

static void text_value(const struct wh_op *op, const char *sep, size_t width)
{
	const struct wh_field *t = wh_op_field(op, WH_F_TEXT);
	if (!t)
		return;
	char *s = wh_xstrndup((const char *)t->s.p, t->s.n);
	fputs(sep, stdout);
	cli_print_cell(stdout, s, width, 1);
	free(s);
}

/* Text from an op on one line (a newline in a name from afar must not
 * break the history into rows that look like ops). */
static void put_slice(const uint8_t *p, size_t n)
{
	char *s = wh_xstrndup((const char *)p, n);
	cli_print_cell(stdout, s, 40, 1);
	free(s);
}

static void field_str(const struct wh_op *op, uint8_t key)
{
	const struct wh_field *f = wh_op_field(op, key);
	if (f)
		put_slice(f->s.p, f->s.n);
}

static void history_whistle(const struct wh_op *op)
{
	unsigned k = (unsigned)wh_op_field(op, WH_F_WKIND)->u;
	unsigned r = (unsigned)wh_op_field(op, WH_F_WHISTLER)->u;
	const struct wh_field *d = wh_op_field(op, WH_F_DEPTS);
	const struct wh_field *l = wh_op_field(op, WH_F_LEAD);
	printf("%s (%s) %s", wh_wkind_label(k), wh_wkind_name(k),
	       wh_whistler_label(r));
	if (d) {
		struct wh_mp m;
		wh_mp_init(&m, d->s.p, d->s.n);
		for (uint32_t i = 0; i < d->count; i++) {
			struct wh_slice e;
			if (wh_mp_read_str(&m, &e, WH_DEPT_MAX))
				break; /* decode checked every element */
			fputs(i ? ", " : " → ", stdout);
			put_slice(e.p, e.n);
			if (l && l->s.n == e.n && !memcmp(l->s.p, e.p, e.n))
				fputs(" (牵头)", stdout);
		}
	}
	const struct wh_field *ms = wh_op_field(op, WH_F_REPORT_MS);
	char zh[32];
	if (ms) {
		cli_duration_zh(ms->u, zh);
		printf("; 报到时限 %s", zh);
	}
	if ((ms = wh_op_field(op, WH_F_RESOLVE_MS))) {
		cli_duration_zh(ms->u, zh);
		printf("; 办结时限 %s", zh);
	}
	text_value(op, "; ", 30);
}

int cli_flow_history(const struct wh_op *op)
{
	const struct wh_field *f;
	unsigned u;
	switch (op->kind) {
	case WH_OP_TRIAGE:
		u = (unsigned)wh_op_field(op, WH_F_LEVEL)->u;
		printf("分流 %s (%s)", wh_level_label(u), wh_level_name(u));
		text_value(op, "; ", 40);
		return 1;
	case WH_OP_WHISTLE: history_whistle(op); return 1;
	case WH_OP_REPORT:
		u = (unsigned)wh_op_field(op, WH_F_STEP)->u;
		field_str(op, WH_F_DEPT);
		printf(" %s (%s)", wh_step_label(u), wh_step_name(u));
		text_value(op, ": ", 40);
		return 1;
	case WH_OP_FEEDBACK:
		fputs("结果反馈", stdout);
		if ((f = wh_op_field(op, WH_F_CHANNEL)))
			printf(" (%s)", wh_channel_name((unsigned)f->u));
		text_value(op, ": ", 40);
		return 1;
	case WH_OP_RATE:
		u = (unsigned)wh_op_field(op, WH_F_SCORE)->u;
		if (wh_op_field(op, WH_F_DEPT)) {
			fputs("下评上 ", stdout);
			field_str(op, WH_F_DEPT);
			printf(" %u/5", u);
		} else {
			printf("民评官 %u/5", u);
		}
		text_value(op, ": ", 40);
		return 1;
	case WH_OP_ATTACH:
		fputs("附件 ", stdout);
		field_str(op, WH_F_NAME);
		fputs(" (", stdout);
		field_str(op, WH_F_MIME);
		printf(", %" PRIu64 " bytes)", wh_op_field(op, WH_F_SIZE)->u);
		return 1;
	default: return 0;
	}
}

/* ---- case list --overdue ----------------------------------------- */

struct late {
	char id[WH_CASE_ID_MAX];
	char *dept, *title; /* owned; dept "" for the case's own deadline */
	int lead;
	enum wh_dl_what what;
	uint64_t late_ms, due_ms;
};

struct late_walk {
	struct late *v;
	size_t n, cap;
	const struct wh_case *cur;
	uint64_t now;
	const struct cli *c;
};

static void late_add(void *ctx, const struct wh_summons *s,
		     enum wh_dl_what what, uint64_t late, uint64_t due)
{
	struct late_walk *w = ctx;
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 64;
		w->v = wh_xrealloc(w->v, w->cap * sizeof *w->v);
	}
	struct late *l = &w->v[w->n++];
	wh_case_id_format(w->cur->code, w->cur->seq, l->id);
	l->dept = wh_xstrndup(s ? s->dept : "", s ? strlen(s->dept) : 0);
	l->title = w->cur->title
			   ? wh_xstrndup(w->cur->title, strlen(w->cur->title))
			   : NULL;
	l->what = what;
	l->lead = s ? s->lead : 0;
	l->late_ms = late;
	l->due_ms = due;
}

static int late_case(void *ctx, const struct wh_case *v)
{
	struct late_walk *w = ctx;
	struct wh_dl_clock k;
	wh_dl_clock_init(&k);
	cli_em_clock(w->c, v, &k);
	w->cur = v;
	(void)wh_dl_overdue(v, &k, w->now, late_add, w);
	wh_dl_clock_fini(&k);
	return 0;
}

/* Most late first; then by id, department and what, so that equal
 * lateness still lists the same way every time. */
static int late_cmp(const void *a, const void *b)
{
	const struct late *x = a, *y = b;
	if (x->late_ms != y->late_ms)
		return x->late_ms > y->late_ms ? -1 : 1;
	int d = strcmp(x->id, y->id);
	if (!d)
		d = strcmp(x->dept, y->dept);
	return d ? d : (int)x->what - (int)y->what;
}

static void late_print(const struct cli *c, struct json *j,
		       const struct late *l)
{
	char zh[32], en[32], buf[80];
	if (c->json) {
		char iso[CLI_TIME_MAX];
		cli_time_iso(l->due_ms, iso);
		json_obj(j);
		json_kstr(j, "id", l->id);
		json_kstr(j, "department", l->dept[0] ? l->dept : NULL);
		json_kbool(j, "lead", l->lead);
		json_kstr(j, "what", what_name(l->what));
		json_kstr(j, "what_label", what_label(l->what));
		json_kuint(j, "late_ms", l->late_ms);
		json_kuint(j, "due_ms", l->due_ms);
		json_kstr(j, "due", iso);
		json_kstr(j, "title", l->title);
		json_obj_end(j);
		return;
	}
	cli_duration_zh(l->late_ms, zh);
	cli_duration_en(l->late_ms, en);
	snprintf(buf, sizeof buf, "%s (%s)", zh, en);
	cli_print_cell(stdout, l->id, 16, 0);
	fputs("  ", stdout);
	cli_print_cell(stdout, l->dept[0] ? l->dept : "-", 10, 0);
	fputs("  ", stdout);
	cli_print_cell(stdout, what_label(l->what), 8, 0);
	fputs("  ", stdout);
	cli_print_cell(stdout, buf, 20, 0);
	fputs("  ", stdout);
	cli_print_cell(stdout, l->title ? l->title : "", 40, 1);
	fputc('\n', stdout);
}

int cli_overdue_list(struct cli *c, const char *scope, uint32_t limit)
{
	struct wh_case_filter f = {scope, -1, 0};
	struct late_walk w = {.now = cli_now(c), .c = c};
	if (cli_em_all(c)->err)
		return cli_fail(c, "emergencies: %s",
				wh_strerror(cli_em_all(c)->err));
	int rc = wh_store_case_list(c->store, &f, late_case, &w);
	if (rc < 0) {
		for (size_t i = 0; i < w.n; i++) {
			free(w.v[i].dept);
			free(w.v[i].title);
		}
		free(w.v);
		return cli_fail(c, "store: %s", wh_strerror(rc));
	}
	if (w.n)
		qsort(w.v, w.n, sizeof *w.v, late_cmp);
	size_t shown = limit && w.n > limit ? limit : w.n;
	struct json j;
	if (c->json) {
		json_init(&j, stdout);
		json_arr(&j);
	} else if (w.n) {
		cli_print_cell(stdout, "编号 ID", 16, 0);
		fputs("  ", stdout);
		cli_print_cell(stdout, "部门", 10, 0);
		fputs("  ", stdout);
		cli_print_cell(stdout, "超时", 8, 0);
		fputs("  ", stdout);
		cli_print_cell(stdout, "逾期 Late", 20, 0);
		fputs("  标题 Title\n", stdout);
	}
	for (size_t i = 0; i < w.n; i++) {
		if (i < shown)
			late_print(c, &j, &w.v[i]);
		free(w.v[i].dept);
		free(w.v[i].title);
	}
	free(w.v);
	if (c->json) {
		json_arr_end(&j);
		json_end(&j);
	} else if (shown < w.n) {
		fprintf(stderr, "(showing the %zu most late of %zu; --all for "
				"every one)\n",
			shown, w.n);
	} else if (!w.n) {
		printf("(nothing overdue 无超时)\n");
	}
	return CLI_OK;
}
