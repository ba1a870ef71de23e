/*
 * cmd_emergency_show.c: emergencies as people and scripts see them: one
 * emergency in text and JSON (with how its task cases stand), `whistle
 * emergency status`, and the emergency line of `whistle status`.
 * The commands that write are in cmd_emergency.c.
 */
#include "cli_emergency.h"
#include "cli_problems.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>

static void json_ms(struct json *j, const char *k, uint64_t ms)
{
	json_key(j, k);
	if (!ms) {
		json_null(j);
		return;
	}
	char iso[CLI_TIME_MAX];
	cli_time_iso(ms, iso);
	json_str(j, iso);
}

static const char *state_of(const struct wh_emergency *e, uint64_t now)
{
	if (wh_em_active(e, now))
		return "active";
	if (wh_em_over(e, now))
		return "ended";
	return e->declared ? "planned" : "incomplete";
}

static const char *state_label(const char *st)
{
	return !strcmp(st, "active")    ? "进行中"
	       : !strcmp(st, "ended")   ? "已结束"
	       : !strcmp(st, "planned") ? "未开始"
					: "不完整";
}

/* How the task cases of one emergency held here stand. */
struct progress {
	const struct cli *c;
	uint64_t now;
	int mine_only; /* a station lists its own */
	size_t cases, done, overdue;
	struct json *j; /* list them (JSON) */
	int text;       /* list them (text) */
};

static int progress_one(void *ctx, const struct wh_case *v)
{
	struct progress *p = ctx;
	if (p->mine_only && strcmp(v->code, p->c->conf.code))
		return 0;
	p->cases++;
	int done = v->status == WH_ST_RESOLVED || v->status == WH_ST_CLOSED ||
		   v->status == WH_ST_CANCELLED;
	p->done += done;
	struct wh_dl_clock k;
	wh_dl_clock_init(&k);
	cli_em_clock(p->c, v, &k);
	int late = wh_dl_overdue(v, &k, p->now, NULL, NULL) != 0;
	uint64_t due = wh_dl_due(&k, WH_HLC_MS(v->created_at), v->due_ms);
	wh_dl_clock_fini(&k);
	p->overdue += late;
	char id[WH_CASE_ID_MAX];
	wh_case_id_format(v->code, v->seq, id);
	if (p->j) {
		json_obj(p->j);
		json_kstr(p->j, "id", id);
		json_kstr(p->j, "task", v->task);
		json_kstr(p->j, "title", v->title);
		json_kstr(p->j, "status", wh_status_name(v->status));
		json_kstr(p->j, "status_label", wh_status_label(v->status));
		json_ms(p->j, "due", due == WH_DL_NEVER ? 0 : due);
		json_kbool(p->j, "overdue", late);
		json_obj_end(p->j);
	}
	if (p->text) {
		char when[CLI_TIME_MAX] = "-";
		if (due && due != WH_DL_NEVER)
			cli_time_local(due, when);
		printf("      %-16s %-8s 期限 %s%s  %s\n", id,
		       wh_status_label(v->status), when,
		       late ? " [超时 overdue]" : "", v->title ? v->title : "");
	}
	return 0;
}

static void plan_title(struct cli *c, const struct wh_emergency *e,
		       char *out, size_t n)
{
	out[0] = '\0';
	if (!e->plan[0])
		return;
	struct wh_plan p;
	if (cli_plan_load(c, e->plan, e->plan_seq, &p) == WH_OK && p.title)
		snprintf(out, n, "%s", p.title);
	wh_plan_fini(&p);
}

void cli_em_json(struct cli *c, struct json *j, const struct wh_emergency *e,
		 uint64_t now, int tasks)
{
	char id[WH_CASE_ID_MAX], pid[WH_CASE_ID_MAX] = "", ptitle[700];
	wh_doc_id_format(e->code, e->seq, id);
	if (e->plan[0])
		wh_doc_id_format(e->plan, e->plan_seq, pid);
	plan_title(c, e, ptitle, sizeof ptitle);
	const char *st = state_of(e, now);
	json_obj(j);
	json_kstr(j, "id", id);
	json_kstr(j, "code", e->code);
	json_kuint(j, "number", e->seq);
	json_kstr(j, "area", e->area);
	json_kstr(j, "title", e->title);
	json_kstr(j, "state", st);
	json_kstr(j, "state_label", state_label(st));
	json_kbool(j, "active", wh_em_active(e, now));
	json_ms(j, "start", e->start_ms);
	json_kuint(j, "start_ms", e->start_ms);
	json_ms(j, "end", e->end_ms);
	json_kuint(j, "end_ms", e->end_ms);
	json_ms(j, "ended", e->ended_ms);
	json_kuint(j, "ended_ms", e->ended_ms);
	json_ms(j, "until", wh_em_until(e));
	json_kuint(j, "until_ms", wh_em_until(e));
	json_kstr(j, "plan", pid[0] ? pid : NULL);
	json_kstr(j, "plan_title", ptitle[0] ? ptitle : NULL);
	json_kstr(j, "rule", wh_em_rule_name(e->rule));
	json_kuint(j, "extend_ms", e->extend_ms);
	json_khex(j, "declared_by", e->declared_by, WH_PK_BYTES);
	if (tasks) {
		struct progress p = {c, now, 0, 0, 0, 0, NULL, 0};
		p.mine_only = !strcmp(c->conf.role, "station");
		json_key(j, "tasks");
		json_obj(j);
		json_key(j, "list");
		json_arr(j);
		p.j = j;
		int rc = wh_store_emergency_tasks(c->store, e->code, e->seq,
						  progress_one, &p);
		json_arr_end(j);
		json_kuint(j, "cases", p.cases);
		json_kuint(j, "done", p.done);
		json_kuint(j, "overdue", p.overdue);
		json_kbool(j, "mine_only", p.mine_only);
		json_kstr(j, "error", rc ? wh_strerror(rc) : NULL);
		json_obj_end(j);
	}
	json_obj_end(j);
}

void cli_em_text(struct cli *c, const struct wh_emergency *e, uint64_t now,
		 int tasks)
{
	char id[WH_CASE_ID_MAX], t1[CLI_TIME_MAX], t2[CLI_TIME_MAX] = "-";
	char ptitle[700];
	wh_doc_id_format(e->code, e->seq, id);
	cli_time_local(e->start_ms, t1);
	if (wh_em_until(e))
		cli_time_local(wh_em_until(e), t2);
	const char *st = state_of(e, now);
	printf("%s  %s (%s)  %s\n", id, state_label(st), st,
	       e->title[0] ? e->title : "");
	printf("  范围 Area    %s\n", e->area);
	printf("  自 Since     %s   至 Until %s%s\n", t1,
	       wh_em_until(e) ? t2 : "未定 (open)",
	       e->ended_ms ? "  [已宣布结束 ended]" : "");
	if (e->plan[0]) {
		char pid[WH_CASE_ID_MAX];
		wh_doc_id_format(e->plan, e->plan_seq, pid);
		plan_title(c, e, ptitle, sizeof ptitle);
		printf("  预案 Plan    %s %s\n", pid,
		       ptitle[0] ? ptitle : "(本站尚无此预案 not held here)");
	}
	if (e->rule == WH_EM_EXTEND) {
		char d[CLI_DURATION_MAX];
		cli_duration_format(e->extend_ms, d);
		printf("  普通案件时限 Deadlines  顺延 extended by %s\n", d);
	} else {
		printf("  普通案件时限 Deadlines  暂停 paused while it lasts\n");
	}
	if (!tasks)
		return;
	struct progress p = {c, now, !strcmp(c->conf.role, "station"),
			     0, 0, 0, NULL, 1};
	printf("  任务 Tasks%s:\n", p.mine_only ? " (本站 this station)" : "");
	int rc = wh_store_emergency_tasks(c->store, e->code, e->seq,
					  progress_one, &p);
	if (rc)
		printf("      (cannot read: %s)\n", wh_strerror(rc));
	printf("    共 %zu 件, 已完成 done %zu, 超时 overdue %zu\n", p.cases,
	       p.done, p.overdue);
}

/* ---- status ------------------------------------------------------- */

static const char status_help[] =
	"usage: whistle emergency status [--all] [--json]\n"
	"\n"
	"The emergencies over this home's path or within it that are in\n"
	"force or still to start (--all: also those ended): area, since\n"
	"when, until when, the plan and its rule for ordinary cases'\n"
	"deadlines, and how its task cases stand (on a community station\n"
	"its own; on a hub every station's it holds). --json: {path, now,\n"
	"emergencies: [...]}, each with tasks {list, cases, done, overdue}.\n";

/* Whether e concerns this home: its area holds our path or lies in it. */
static int concerns(const struct cli *c, const struct wh_emergency *e)
{
	size_t an = strlen(e->area), pn = strlen(c->conf.path);
	return e->declared &&
	       (wh_path_within(c->conf.path, pn, e->area, an) ||
		wh_path_within(e->area, an, c->conf.path, pn));
}

int cmd_emergency_status(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {{"all", 0, 0}, {NULL, 0, 0}};
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which, all = 0;
	const char *v;
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP)
			return cli_help(status_help);
		if (t == ARG_POS)
			return cli_usage(c, "unexpected argument '%s'", v);
		all = 1;
	}
	int rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_STORE);
	if (rc)
		return rc;
	const struct cli_em *m = cli_em_all(c);
	if (m->err)
		return cli_fail(c, "emergencies: %s", wh_strerror(m->err));
	uint64_t now = cli_now(c);
	struct json j;
	size_t shown = 0;
	if (c->json) {
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "path", c->conf.path);
		json_ms(&j, "now", now);
		json_key(&j, "emergencies");
		json_arr(&j);
	}
	for (size_t i = 0; i < m->n; i++) {
		const struct wh_emergency *e = &m->v[i];
		if (!concerns(c, e) || (!all && wh_em_over(e, now)))
			continue;
		shown++;
		if (c->json)
			cli_em_json(c, &j, e, now, 1);
		else
			cli_em_text(c, e, now, 1);
	}
	if (c->json) {
		json_arr_end(&j);
		json_obj_end(&j);
		json_end(&j);
	} else if (!shown) {
		printf("(%s 无应急状态 no emergency%s)\n", c->conf.path,
		       all ? "" : " in force");
	}
	return CLI_OK;
}

/* ---- whistle status ----------------------------------------------- */

void cli_em_status_json(struct cli *c, struct json *j)
{
	const struct cli_em *m = cli_em_all(c);
	uint64_t now = cli_now(c);
	json_key(j, "emergencies");
	json_arr(j);
	for (size_t i = 0; i < m->n; i++)
		if (concerns(c, &m->v[i]) && wh_em_active(&m->v[i], now))
			cli_em_json(c, j, &m->v[i], now, 0);
	json_arr_end(j);
}

void cli_em_status_text(struct cli *c)
{
	const struct cli_em *m = cli_em_all(c);
	uint64_t now = cli_now(c);
	size_t n = 0;
	for (size_t i = 0; i < m->n; i++) {
		const struct wh_emergency *e = &m->v[i];
		if (!concerns(c, e) || !wh_em_active(e, now))
			continue;
		char id[WH_CASE_ID_MAX], since[CLI_TIME_MAX];
		wh_doc_id_format(e->code, e->seq, id);
		cli_time_local(e->start_ms, since);
		printf("应急 Emergency: %s %s since %s%s%s\n", id, e->area, since,
		       e->title[0] ? ": " : "", e->title);
		n++;
	}
	if (!n)
		printf("应急 Emergency: none in force%s\n",
		       m->err ? " (cannot read them)" : "");
}
