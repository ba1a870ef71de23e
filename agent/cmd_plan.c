/*
 * cmd_plan.c: `whistle plan`: digital emergency plans (数字应急预案).
 *
 *   publish FILE        this home's plan from a plan file (planfile.h):
 *                       checked whole first, then written in one
 *                       transaction, or nothing
 *   list [--path P]     the plans that apply to P or lie within it
 *   show ID             one plan, header and tasks
 *
 * A plan is the object "~EP-" + this home's code, numbered by the file,
 * at this home's path (crdt/plan.h); sync carries it to every station
 * below that path. Only a street or district publishes.
 */
#include "cli_emergency.h"
#include "cli_problems.h"
#include "json.h"
#include "planfile.h"

#include <errno.h>
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

static void json_dur(struct json *j, const char *k, const char *kw,
		     uint64_t ms)
{
	json_key(j, k);
	if (ms)
		json_uint(j, ms);
	else
		json_null(j);
	json_key(j, kw);
	if (ms) {
		char d[CLI_DURATION_MAX];
		cli_duration_format(ms, d);
		json_str(j, d);
	} else {
		json_null(j);
	}
}

static void task_json(struct json *j, const struct wh_plan_task *t)
{
	json_obj(j);
	json_kstr(j, "key", t->key);
	json_kstr(j, "area", t->area);
	json_kstr(j, "title", t->title);
	json_kstr(j, "category", t->category);
	json_kstr(j, "team", t->team);
	json_kstr(j, "contact", t->contact);
	json_dur(j, "within_ms", "within", t->within_ms);
	json_kstr(j, "text", t->text);
	json_obj_end(j);
}

static void plan_json(struct json *j, const struct wh_plan *p, int tasks)
{
	char id[WH_CASE_ID_MAX];
	wh_doc_id_format(p->code, p->seq, id);
	json_obj(j);
	json_kstr(j, "id", id);
	json_kstr(j, "code", p->code);
	json_kuint(j, "number", p->seq);
	json_kstr(j, "path", p->path);
	json_kstr(j, "title", p->title);
	json_kstr(j, "rule", wh_em_rule_name(p->rule));
	json_kstr(j, "rule_label", wh_em_rule_label(p->rule));
	json_dur(j, "extend_ms", "extend", p->extend_ms);
	json_kstr(j, "text", p->text);
	json_ms(j, "set_at", WH_HLC_MS(p->set_at));
	if (p->has_header)
		json_khex(j, "set_by", p->set_by, WH_PK_BYTES);
	else
		json_kstr(j, "set_by", NULL);
	json_kuint(j, "tasks_count", p->ntasks);
	if (tasks) {
		json_key(j, "tasks");
		json_arr(j);
		for (uint32_t i = 0; i < p->ntasks; i++)
			task_json(j, &p->tasks[i]);
		json_arr_end(j);
	}
	json_obj_end(j);
}

static void rule_text(const struct wh_plan *p, char *out, size_t n)
{
	char d[CLI_DURATION_MAX];
	if (p->rule == WH_EM_EXTEND) {
		cli_duration_format(p->extend_ms, d);
		snprintf(out, n, "顺延 %s (extend)", d);
	} else {
		snprintf(out, n, "暂停 (pause)");
	}
}

/* ---- publish ------------------------------------------------------ */

static const char publish_help[] =
	"usage: whistle plan publish FILE\n"
	"\n"
	"Publish this home's digital emergency plan (数字应急预案) from a plan\n"
	"file (street or district homes). The file is the whole plan: its\n"
	"[plan] header (number, title, rule for ordinary cases' deadlines,\n"
	"text) and its [task KEY] sections (area, title, category, within,\n"
	"team, contact, text); tasks published before and missing from the\n"
	"file are removed. Every line is checked first (FILE:LINE: reason,\n"
	"exit 2, nothing written); then everything that changed is written\n"
	"in one transaction. Publishing the same file again writes nothing.\n"
	"docs/guide.md, \"Emergencies and plans\", has an example.\n";

static int read_all(const struct cli *c, const char *file, struct wh_buf *b)
{
	FILE *f = fopen(file, "rb");
	if (!f)
		return cli_fail(c, "%s: %s", file, strerror(errno));
	char tmp[65536];
	size_t n;
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) {
		wh_buf_append(b, tmp, n);
		if (b->len > PLANFILE_MAX_BYTES)
			break;
	}
	int err = ferror(f);
	fclose(f);
	if (err)
		return cli_fail(c, "%s: read failed", file);
	return CLI_OK;
}

static void header_draft(struct wh_op_draft *d, const char *code,
			 uint32_t seq, const char *path,
			 const struct planfile *pf)
{
	wh_draft_init(d, WH_OP_PLAN_SET, code, seq, path);
	wh_draft_str(d, WH_F_TITLE, pf->title);
	if (pf->rule != WH_EM_PAUSE) {
		wh_draft_uint(d, WH_F_RULE, pf->rule);
		wh_draft_uint(d, WH_F_EXTEND_MS, pf->extend_ms);
	}
	if (pf->text)
		wh_draft_str(d, WH_F_TEXT, pf->text);
}

static void task_draft(struct wh_op_draft *d, const char *code, uint32_t seq,
		       const char *path, const struct wh_plan_task *t)
{
	wh_draft_init(d, WH_OP_PLAN_TASK, code, seq, path);
	wh_draft_str(d, WH_F_TASK, t->key);
	wh_draft_str(d, WH_F_AREA, t->area);
	wh_draft_str(d, WH_F_TITLE, t->title);
	if (t->category)
		wh_draft_str(d, WH_F_CATEGORY, t->category);
	if (t->team)
		wh_draft_str(d, WH_F_TEAM, t->team);
	if (t->contact)
		wh_draft_str(d, WH_F_CONTACT, t->contact);
	if (t->within_ms)
		wh_draft_uint(d, WH_F_WITHIN_MS, t->within_ms);
	if (t->text)
		wh_draft_str(d, WH_F_TEXT, t->text);
}

static int str_eq(const char *a, const char *b)
{
	return (!a || !b) ? a == b : !strcmp(a, b);
}

static int header_same(const struct wh_plan *p, const struct planfile *pf)
{
	return p->has_header && str_eq(p->title, pf->title) &&
	       str_eq(p->text, pf->text) && p->rule == pf->rule &&
	       p->extend_ms == pf->extend_ms;
}

static int in_file(const struct planfile *pf, const char *key)
{
	for (uint32_t i = 0; i < pf->ntasks; i++)
		if (!strcmp(pf->tasks[i].key, key))
			return 1;
	return 0;
}

/* The drafts that make the stored plan p say what the file says. */
static size_t plan_drafts(const struct cli *c, const char *code,
			  const struct planfile *pf, const struct wh_plan *p,
			  struct wh_op_draft *d, size_t *nset, size_t *ndel,
			  int *hdr)
{
	size_t n = 0;
	*nset = *ndel = 0;
	*hdr = !header_same(p, pf);
	if (*hdr)
		header_draft(&d[n++], code, pf->number, c->conf.path, pf);
	for (uint32_t i = 0; i < pf->ntasks; i++) {
		const struct wh_plan_task *old =
			wh_plan_find(p, pf->tasks[i].key);
		if (old && wh_plan_task_same(old, &pf->tasks[i]))
			continue;
		task_draft(&d[n++], code, pf->number, c->conf.path,
			   &pf->tasks[i]);
		++*nset;
	}
	for (uint32_t i = 0; i < p->ntasks; i++) {
		if (in_file(pf, p->tasks[i].key))
			continue;
		wh_draft_init(&d[n], WH_OP_PLAN_TASK_DEL, code, pf->number,
			      c->conf.path);
		wh_draft_str(&d[n++], WH_F_TASK, p->tasks[i].key);
		++*ndel;
	}
	return n;
}

static int plan_publish(struct cli *c, int argc, char **argv)
{
	if (argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")))
		return cli_help(publish_help);
	if (argc != 1)
		return cli_usage(c, "give one file (plan publish FILE)");
	const char *file = argv[0];
	struct wh_buf b = {0};
	int rc = read_all(c, file, &b);
	struct planfile pf;
	memset(&pf, 0, sizeof pf);
	if (rc == CLI_OK) {
		uint32_t line;
		char why[512];
		if (planfile_parse((const char *)b.p, b.len, &pf, &line, why,
				   sizeof why)) {
			rc = line ? cli_usage(c, "%s:%u: %s", file,
					      (unsigned)line, why)
				  : cli_usage(c, "%s: %s", file, why);
		}
	}
	wh_buf_fini(&b);
	if (rc == CLI_OK)
		rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE);
	const char *why;
	char code[WH_CODE_MAX + 1];
	if (rc == CLI_OK && !cli_em_may_declare(c, &why))
		rc = cli_fail(c, "only a street or a district publishes an "
				 "emergency plan (应急预案由街道或区发布); this "
				 "home's role is %s",
			      c->conf.role);
	if (rc == CLI_OK && wh_plan_code(c->conf.code, code) != WH_OK)
		rc = cli_fail(c, "station code '%s' is too long for a plan id "
				 "(at most 12 characters)",
			      c->conf.code);
	/* What depends on the publisher: a plan gives tasks to its own
	 * communities only (the fold would ignore the others). */
	for (uint32_t i = 0; rc == CLI_OK && i < pf.ntasks; i++) {
		const char *a = pf.tasks[i].area;
		if (!wh_path_within(a, strlen(a), c->conf.path,
				    strlen(c->conf.path)))
			rc = cli_usage(c, "%s:%u: task '%s': area %s lies "
					  "outside this home's path %s",
				       file, (unsigned)pf.task_line[i],
				       pf.tasks[i].key, a, c->conf.path);
	}
	struct wh_plan p;
	memset(&p, 0, sizeof p);
	int lrc = WH_OK;
	if (rc == CLI_OK) {
		lrc = cli_plan_load(c, code, pf.number, &p);
		if (lrc && lrc != WH_ENOTFOUND)
			rc = cli_fail(c, "plan: %s", wh_strerror(lrc));
		else if (!lrc && strcmp(p.path, c->conf.path))
			rc = cli_fail(c, "plan %u of this home was "
					 "published at %s, and this home is at "
					 "%s: give the plan a new number",
				      (unsigned)pf.number, p.path,
				      c->conf.path);
	}
	char id[WH_CASE_ID_MAX];
	wh_doc_id_format(code, pf.number, id);
	size_t nset = 0, ndel = 0, nd = 0;
	int hdr = 0;
	struct wh_op_draft *d = wh_xcalloc(1 + pf.ntasks + p.ntasks, sizeof *d);
	if (rc == CLI_OK) {
		nd = plan_drafts(c, code, &pf, &p, d, &nset, &ndel, &hdr);
		int brc = cli_probe_drafts(d, nd);
		if (brc)
			rc = cli_usage(c, "%s: %s", file, wh_strerror(brc));
	}
	if (rc == CLI_OK && nd) {
		int src = wh_store_author(c->store, c->key, d, nd,
					  wh_clock_realtime, NULL, NULL, NULL);
		if (src)
			rc = cli_store_err(c, id, src);
	}
	if (rc == CLI_OK && c->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "plan", id);
		json_kstr(&j, "path", c->conf.path);
		json_kbool(&j, "changed", nd != 0);
		json_kbool(&j, "header", hdr);
		json_kuint(&j, "tasks_set", nset);
		json_kuint(&j, "tasks_removed", ndel);
		json_kuint(&j, "tasks", pf.ntasks);
		json_obj_end(&j);
		json_end(&j);
	} else if (rc == CLI_OK) {
		printf("%s\n", id);
		if (nd)
			printf("%s 已发布 published: %s%zu 项任务更新 tasks set, %zu "
			       "项删除 removed (%u tasks in all)\n",
			       id, hdr ? "header, " : "", nset, ndel,
			       (unsigned)pf.ntasks);
		else
			printf("%s 未变 unchanged: already so, nothing written\n",
			       id);
	}
	free(d);
	wh_plan_fini(&p);
	planfile_fini(&pf);
	return rc;
}

/* ---- list and show ------------------------------------------------ */

static const char list_help[] =
	"usage: whistle plan list [--path PATH]\n"
	"\n"
	"The emergency plans held that apply to PATH (published at it or\n"
	"above it) or were published within it (default: this home's path):\n"
	"id, where published, title, the rule for ordinary cases' deadlines,\n"
	"and the number of tasks. --json: an array of plans (no tasks).\n";

static int plan_list(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {{"path", 0, 1}, {NULL, 0, 0}};
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which;
	const char *v, *path = NULL;
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP)
			return cli_help(list_help);
		if (t == ARG_POS)
			return cli_usage(c, "unexpected argument '%s'", v);
		if (!wh_path_valid(v, strlen(v)))
			return cli_usage(c, "--path '%s': not a jurisdiction "
					    "path",
					 v);
		path = v;
	}
	int rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_STORE);
	if (rc)
		return rc;
	if (!path)
		path = c->conf.path;
	struct wh_plan *v2;
	size_t n;
	int lrc = cli_plan_list(c, path, &v2, &n);
	if (lrc)
		return cli_fail(c, "plans: %s", wh_strerror(lrc));
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_arr(&j);
		for (size_t i = 0; i < n; i++)
			plan_json(&j, &v2[i], 0);
		json_arr_end(&j);
		json_end(&j);
	} else if (!n) {
		printf("(%s 无应急预案 no emergency plan)\n", path);
	} else {
		printf("应急预案 Emergency plans for %s\n", path);
		for (size_t i = 0; i < n; i++) {
			char id[WH_CASE_ID_MAX], rule[64];
			wh_doc_id_format(v2[i].code, v2[i].seq, id);
			rule_text(&v2[i], rule, sizeof rule);
			cli_print_cell(stdout, id, 16, 0);
			fputs("  ", stdout);
			cli_print_cell(stdout, v2[i].path, 22, 0);
			fputs("  ", stdout);
			cli_print_cell(stdout, rule, 18, 0);
			printf("  %3u 项任务  %s\n", (unsigned)v2[i].ntasks,
			       v2[i].title ? v2[i].title : "(无标题)");
		}
	}
	cli_plans_free(v2, n);
	return CLI_OK;
}

static const char show_help[] =
	"usage: whistle plan show ID\n"
	"\n"
	"One emergency plan (ID as 'plan list' prints it, EP-XC-000001, or\n"
	"EP-XC-1): its header and every task with its area, team, contact\n"
	"and time limit. Exit 1 if no op of it is held.\n";

static int plan_show(struct cli *c, int argc, char **argv)
{
	struct cli_args a;
	static const struct cli_opt opts[] = {{NULL, 0, 0}};
	cli_args_init(&a, argc, argv);
	int t, which;
	const char *v, *idarg = NULL;
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP)
			return cli_help(show_help);
		if (idarg)
			return cli_usage(c, "unexpected argument '%s'", v);
		idarg = v;
	}
	char code[WH_CODE_MAX + 1];
	uint32_t seq;
	if (!idarg)
		return cli_usage(c, "missing plan id (plan show EP-XC-1)");
	if (wh_doc_id_parse(idarg, WH_PLAN_PREFIX, code, &seq))
		return cli_usage(c, "'%s': not a plan id (EP-CODE-N, as "
				    "'plan list' prints)",
				 idarg);
	int rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_STORE);
	if (rc)
		return rc;
	struct wh_plan p;
	int lrc = cli_plan_load(c, code, seq, &p);
	if (lrc == WH_ENOTFOUND) {
		wh_plan_fini(&p);
		return cli_fail(c, "no plan %s here (无此预案)", idarg);
	}
	if (lrc) {
		wh_plan_fini(&p);
		return cli_fail(c, "plan %s: %s", idarg, wh_strerror(lrc));
	}
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		plan_json(&j, &p, 1);
		json_end(&j);
		wh_plan_fini(&p);
		return CLI_OK;
	}
	char id[WH_CASE_ID_MAX], rule[64], when[CLI_TIME_MAX];
	wh_doc_id_format(p.code, p.seq, id);
	rule_text(&p, rule, sizeof rule);
	printf("%s  %s\n", id, p.title ? p.title : "(无标题 no header yet)");
	printf("  发布 Published   %s", p.path);
	if (p.has_header) {
		cli_time_local(WH_HLC_MS(p.set_at), when);
		printf(" (%s)", when);
	}
	printf("\n  普通案件时限 Ordinary deadlines  %s\n", rule);
	if (p.text)
		printf("  说明 Notes       %s\n", p.text);
	printf("  任务 Tasks (%u)\n", (unsigned)p.ntasks);
	for (uint32_t i = 0; i < p.ntasks; i++) {
		const struct wh_plan_task *tk = &p.tasks[i];
		char within[CLI_DURATION_MAX] = "-";
		if (tk->within_ms)
			cli_duration_format(tk->within_ms, within);
		printf("  - %s: %s\n", tk->key, tk->title);
		printf("      范围 Area %s  时限 Within %s", tk->area, within);
		if (tk->category)
			printf("  类别 %s", tk->category);
		fputc('\n', stdout);
		if (tk->team || tk->contact)
			printf("      队伍 Team %s  联系 Contact %s\n",
			       tk->team ? tk->team : "-",
			       tk->contact ? tk->contact : "-");
		if (tk->text)
			printf("      %s\n", tk->text);
	}
	wh_plan_fini(&p);
	return CLI_OK;
}

static const struct cli_cmd plan_cmds[] = {
	{"publish", plan_publish, "publish this home's plan from a file"},
	{"list", plan_list, "the plans that apply here"},
	{"show", plan_show, "one plan and its tasks"},
	{NULL, NULL, NULL},
};

static const char plan_help[] =
	"usage: whistle plan SUBCOMMAND [ARGS]\n"
	"\n"
	"Digital emergency plans (数字应急预案): per community, the tasks an\n"
	"emergency sets (check basement households, open the shelter, count\n"
	"the elderly living alone), with teams, contacts and time limits,\n"
	"and the rule for ordinary cases' deadlines while it lasts.\n"
	"\n";

int cmd_plan(struct cli *c, int argc, char **argv)
{
	return cli_group(c, plan_cmds, "plan ", plan_help, argc, argv);
}
