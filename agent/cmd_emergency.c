/*
 * cmd_emergency.c: `whistle emergency` (平战转换):
 *
 *   declare --path P [--plan ID] ...   a street or district puts an area
 *                                      into an emergency
 *   extend ID --end T|open             ...moves its planned end
 *   end ID [--at T]                    ...and ends it (final)
 *   status [--all]                     what is in force over or within
 *                                      this home's path, and how its
 *                                      tasks stand
 *   tasks                              a community station makes the
 *                                      plan tasks it owes now (the agent
 *                                      does the same by itself)
 *
 * An emergency is the object "~EM-" + this home's code, numbered by the
 * store, at the area's path (crdt/emergency.h); sync carries it to every
 * station in the area and up to the district. Who may declare is the
 * roster's rule in a bound home (street and district, within their
 * jurisdiction) and this home's role at the keyboard in any home.
 */
#include "cli_emergency.h"
#include "cli_problems.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>

/* ---- declare ------------------------------------------------------ */

static const char declare_help[] =
	"usage: whistle emergency declare --path PATH [--plan ID]\n"
	"           [--start TIME] [--end TIME] [--title TEXT]\n"
	"           [--rule pause|extend --extend DUR] [--text TEXT]\n"
	"\n"
	"Declare an emergency (应急状态) over PATH, within this home's\n"
	"jurisdiction (street or district homes). --plan names the emergency\n"
	"plan (EP-XC-1, as 'plan list' prints) whose tasks each community\n"
	"station in PATH then makes into cases; the plan must be published\n"
	"at PATH or above it. --start defaults to now; --end is the planned\n"
	"end (none: until ended). Ordinary cases' deadlines in PATH follow\n"
	"the plan's rule (pause, or extend by a duration) unless --rule says\n"
	"otherwise. Prints the emergency's id on the first line.\n"
	"TIME: ms since 1970, 2026-07-31T08:00:00+08:00, '2026-07-31 08:00'\n"
	"(local time) or now.\n";

struct decl {
	const char *path, *plan, *title, *text, *rule, *extend;
	uint64_t start, end;
	int has_start;
};

static int declare_parse(struct cli *c, int argc, char **argv,
			 struct decl *x)
{
	static const struct cli_opt opts[] = {
		{"path", 0, 1},	 {"plan", 0, 1},   {"start", 0, 1},
		{"end", 0, 1},	 {"title", 0, 1},  {"text", 0, 1},
		{"rule", 0, 1},	 {"extend", 0, 1}, {NULL, 0, 0},
	};
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which, given[8] = {0};
	const char *v;
	memset(x, 0, sizeof *x);
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP) {
			cli_help(declare_help);
			return -1;
		}
		if (t == ARG_POS)
			return cli_usage(c, "unexpected argument '%s'", v);
		if (given[which]++)
			return cli_usage(c, "--%s given twice",
					 opts[which].name);
		switch (which) {
		case 0: x->path = v; break;
		case 1: x->plan = v; break;
		case 2:
			if (cli_parse_time(c, "--start", v, &x->start))
				return CLI_USAGE;
			x->has_start = 1;
			break;
		case 3:
			if (cli_parse_time(c, "--end", v, &x->end))
				return CLI_USAGE;
			break;
		case 4: x->title = v; break;
		case 5: x->text = v; break;
		case 6: x->rule = v; break;
		default: x->extend = v; break;
		}
	}
	if (!x->path)
		return cli_usage(c, "--path is required (the area in the "
				    "emergency)");
	if (!wh_path_valid(x->path, strlen(x->path)))
		return cli_usage(c, "--path '%s': not a jurisdiction path",
				 x->path);
	if (x->rule && wh_em_rule_parse(x->rule) < 0)
		return cli_usage(c, "--rule '%s': pause (暂停) or extend (顺延)",
				 x->rule);
	int extend = x->rule && wh_em_rule_parse(x->rule) == WH_EM_EXTEND;
	if (extend != !!x->extend)
		return cli_usage(c, "--rule extend and --extend DUR go "
				    "together");
	if (x->start > WH_EM_MAX_MS || x->end > WH_EM_MAX_MS)
		return cli_usage(c, "--start/--end: too far in the future");
	return CLI_OK;
}

static int em_declare(struct cli *c, int argc, char **argv)
{
	struct decl x;
	int rc = declare_parse(c, argc, argv, &x);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	char pcode[WH_CODE_MAX + 1] = "", code[WH_CODE_MAX + 1];
	uint32_t pseq = 0;
	uint64_t extend_ms = 0;
	if (x.plan && wh_doc_id_parse(x.plan, WH_PLAN_PREFIX, pcode, &pseq))
		return cli_usage(c, "--plan '%s': not a plan id (EP-CODE-N, as "
				    "'plan list' prints)",
				 x.plan);
	if (x.extend) {
		int drc = cli_duration_parse(x.extend, &extend_ms);
		if (drc)
			return cli_usage(c, "--extend '%s': a duration of at "
					    "most 366 days (24h, 2d)",
					 x.extend);
	}
	if ((rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE)))
		return rc;
	const char *why;
	if (!cli_em_may_declare(c, &why))
		return cli_fail(c, "refused: %s; this home's role is %s", why,
				c->conf.role);
	if (!wh_path_within(x.path, strlen(x.path), c->conf.path,
			    strlen(c->conf.path)))
		return cli_fail(c, "refused: %s lies outside this home's "
				   "jurisdiction %s",
				x.path, c->conf.path);
	if (wh_em_code(c->conf.code, code))
		return cli_fail(c, "station code '%s' is too long for an "
				   "emergency id (at most 12 characters)",
				c->conf.code);
	if (!x.has_start)
		x.start = cli_now(c);
	if (x.end && x.end <= x.start)
		return cli_usage(c, "--end must come after the start");
	struct wh_plan p;
	memset(&p, 0, sizeof p);
	uint8_t rule = WH_EM_PAUSE;
	if (x.plan) {
		int lrc = cli_plan_load(c, pcode, pseq, &p);
		if (lrc || !p.has_header) {
			wh_plan_fini(&p);
			return cli_fail(c, "no plan %s here (无此预案): publish "
					   "it first, or wait for sync",
					x.plan);
		}
		if (!wh_path_within(x.path, strlen(x.path), p.path,
				    strlen(p.path))) {
			rc = cli_fail(c, "plan %s was published at %s, which "
					 "does not hold %s: its stations could "
					 "not see it",
				      x.plan, p.path, x.path);
			wh_plan_fini(&p);
			return rc;
		}
		rule = p.rule;
		if (!x.rule)
			extend_ms = p.extend_ms;
	}
	if (x.rule)
		rule = (uint8_t)wh_em_rule_parse(x.rule);
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_EMERGENCY, code, 0, x.path);
	wh_draft_uint(&d, WH_F_START_MS, x.start);
	if (x.end)
		wh_draft_uint(&d, WH_F_END_MS, x.end);
	if (x.plan) {
		wh_draft_str(&d, WH_F_PLAN, pcode);
		wh_draft_uint(&d, WH_F_PLAN_SEQ, pseq);
	}
	if (rule == WH_EM_EXTEND) {
		wh_draft_uint(&d, WH_F_RULE, rule);
		wh_draft_uint(&d, WH_F_EXTEND_MS, extend_ms);
	}
	const char *title = x.title ? x.title : p.title;
	if (title && *title)
		wh_draft_str(&d, WH_F_TITLE, title);
	if (x.text && *x.text)
		wh_draft_str(&d, WH_F_TEXT, x.text);
	int brc = cli_probe_drafts(&d, 1);
	if (brc) {
		wh_plan_fini(&p);
		return cli_usage(c, "%s", wh_strerror(brc));
	}
	int src = wh_store_author(c->store, c->key, &d, 1, wh_clock_realtime,
				  NULL, NULL, NULL);
	wh_plan_fini(&p);
	if (src)
		return cli_store_err(c, "emergency", src);
	struct wh_emergency e;
	if (wh_store_emergency_get(c->store, code, d.seq, &e))
		return cli_fail(c, "emergency written but not readable back");
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		cli_em_json(c, &j, &e, cli_now(c), 0);
		json_end(&j);
	} else {
		char id[WH_CASE_ID_MAX];
		wh_doc_id_format(code, d.seq, id);
		printf("%s\n", id);
		cli_em_text(c, &e, cli_now(c), 0);
	}
	return CLI_OK;
}

/* Sign and store the one draft d of emergency (code, seq), then show
 * the emergency as it now stands. */
static int author_show(struct cli *c, struct wh_op_draft *d, const char *idarg,
		       const char *code, uint32_t seq, const char *what)
{
	struct wh_emergency e;
	int brc = cli_probe_drafts(d, 1);
	if (brc)
		return cli_usage(c, "%s", wh_strerror(brc));
	int src = wh_store_author(c->store, c->key, d, 1, wh_clock_realtime,
				  NULL, NULL, NULL);
	if (src)
		return cli_store_err(c, idarg, src);
	if (wh_store_emergency_get(c->store, code, seq, &e))
		return cli_fail(c, "%s written but not readable back", what);
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		cli_em_json(c, &j, &e, cli_now(c), 0);
		json_end(&j);
	} else {
		cli_em_text(c, &e, cli_now(c), 0);
	}
	return CLI_OK;
}

/* end and extend: open the home, check that it may speak for
 * emergencies and that emergency (code, seq), declared and held here,
 * lies within its jurisdiction; *e is it. CLI_OK or the failure. */
static int open_own(struct cli *c, const char *idarg, const char *code,
		    uint32_t seq, struct wh_emergency *e)
{
	int rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE);
	if (rc)
		return rc;
	const char *why;
	if (!cli_em_may_declare(c, &why))
		return cli_fail(c, "refused: %s; this home's role is %s", why,
				c->conf.role);
	int grc = wh_store_emergency_get(c->store, code, seq, e);
	if (grc == WH_ENOTFOUND || (!grc && !e->declared))
		return cli_fail(c, "no emergency %s here", idarg);
	if (grc)
		return cli_fail(c, "%s: %s", idarg, wh_strerror(grc));
	if (!wh_path_within(e->area, strlen(e->area), c->conf.path,
			    strlen(c->conf.path)))
		return cli_fail(c, "refused: its area %s lies outside this "
				   "home's jurisdiction %s",
				e->area, c->conf.path);
	return CLI_OK;
}

/* ---- end ---------------------------------------------------------- */

static const char end_help[] =
	"usage: whistle emergency end ID [--at TIME] [--text TEXT]\n"
	"\n"
	"End emergency ID (EM-XJK-1, as 'emergency status' prints) at TIME\n"
	"(default now), from a street or district home whose jurisdiction\n"
	"holds its area. An end is final: the emergency cannot be extended\n"
	"afterwards (declare a new one). Ordinary cases' deadlines run again\n"
	"from then on.\n";

static int em_end(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{"at", 0, 1}, {"text", 0, 1}, {NULL, 0, 0}};
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which;
	const char *v, *idarg = NULL, *text = NULL;
	uint64_t at = 0;
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP)
			return cli_help(end_help);
		if (t == ARG_POS) {
			if (idarg)
				return cli_usage(c, "unexpected argument '%s'",
						 v);
			idarg = v;
		} else if (which == 0) {
			if (cli_parse_time(c, "--at", v, &at))
				return CLI_USAGE;
		} else {
			text = v;
		}
	}
	char code[WH_CODE_MAX + 1];
	uint32_t seq;
	if (!idarg)
		return cli_usage(c, "missing emergency id (emergency end "
				    "EM-XJK-1)");
	if (wh_doc_id_parse(idarg, WH_EM_PREFIX, code, &seq))
		return cli_usage(c, "'%s': not an emergency id (EM-CODE-N)",
				 idarg);
	if (at > WH_EM_MAX_MS)
		return cli_usage(c, "--at: too far in the future");
	struct wh_emergency e;
	int rc = open_own(c, idarg, code, seq, &e);
	if (rc)
		return rc;
	if (!at)
		at = cli_now(c);
	if (e.ended_ms && e.ended_ms <= at) {
		char when[CLI_TIME_MAX];
		cli_time_local(e.ended_ms, when);
		return cli_fail(c, "%s was ended already, at %s (an end is "
				   "final)",
				idarg, when);
	}
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_EMERGENCY_END, code, seq, e.area);
	wh_draft_uint(&d, WH_F_END_MS, at ? at : 1);
	if (text && *text)
		wh_draft_str(&d, WH_F_TEXT, text);
	return author_show(c, &d, idarg, code, seq, "end");
}

/* ---- extend ------------------------------------------------------- */

static const char extend_help[] =
	"usage: whistle emergency extend ID --end TIME|open [--text TEXT]\n"
	"\n"
	"Move the planned end of emergency ID (street or district homes\n"
	"whose jurisdiction holds its area): TIME, or 'open' for none (until\n"
	"ended). Everything else stays as declared. An emergency that was\n"
	"ended cannot be extended: an end is final.\n";

static int em_extend(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{"end", 0, 1}, {"text", 0, 1}, {NULL, 0, 0}};
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which, open_end = 0, given = 0;
	const char *v, *idarg = NULL, *text = NULL;
	uint64_t end = 0;
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP)
			return cli_help(extend_help);
		if (t == ARG_POS) {
			if (idarg)
				return cli_usage(c, "unexpected argument '%s'",
						 v);
			idarg = v;
		} else if (which == 0) {
			given = 1;
			if (!strcmp(v, "open"))
				open_end = 1;
			else if (cli_parse_time(c, "--end", v, &end))
				return CLI_USAGE;
		} else {
			text = v;
		}
	}
	char code[WH_CODE_MAX + 1];
	uint32_t seq;
	if (!idarg || !given)
		return cli_usage(c, "give the emergency and --end (emergency "
				    "extend EM-XJK-1 --end TIME)");
	if (wh_doc_id_parse(idarg, WH_EM_PREFIX, code, &seq))
		return cli_usage(c, "'%s': not an emergency id (EM-CODE-N)",
				 idarg);
	if (end > WH_EM_MAX_MS)
		return cli_usage(c, "--end: too far in the future");
	struct wh_emergency e;
	int rc = open_own(c, idarg, code, seq, &e);
	if (rc)
		return rc;
	if (e.ended_ms)
		return cli_fail(c, "%s was ended: an end is final (declare a "
				   "new emergency)",
				idarg);
	if (!open_end && end <= e.start_ms)
		return cli_usage(c, "--end must come after the start");
	/* An amendment replaces the declaration whole: say all of it. */
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_EMERGENCY, code, seq, e.area);
	wh_draft_uint(&d, WH_F_START_MS, e.start_ms);
	if (!open_end)
		wh_draft_uint(&d, WH_F_END_MS, end);
	if (e.plan[0]) {
		wh_draft_str(&d, WH_F_PLAN, e.plan);
		wh_draft_uint(&d, WH_F_PLAN_SEQ, e.plan_seq);
	}
	if (e.rule == WH_EM_EXTEND) {
		wh_draft_uint(&d, WH_F_RULE, e.rule);
		wh_draft_uint(&d, WH_F_EXTEND_MS, e.extend_ms);
	}
	if (e.title[0])
		wh_draft_str(&d, WH_F_TITLE, e.title);
	if (text && *text)
		wh_draft_str(&d, WH_F_TEXT, text);
	return author_show(c, &d, idarg, code, seq, "extension");
}

/* ---- tasks -------------------------------------------------------- */

static const char tasks_help[] =
	"usage: whistle emergency tasks [--json]\n"
	"\n"
	"On a community station: make the plan tasks this station owes now\n"
	"into cases (each emergency in force over this station's path whose\n"
	"plan is held: every task whose area holds the path), each exactly\n"
	"once however often this runs; the agent does the same by itself when\n"
	"an emergency or a plan arrives. Lists each task, made now or held.\n";

struct tasks_out {
	struct cli *c;
	struct json *j;
};

static void task_line(void *ctx, const struct cli_task *t)
{
	struct tasks_out *o = ctx;
	char em[WH_CASE_ID_MAX];
	wh_doc_id_format(t->em->code, t->em->seq, em);
	if (o->j) {
		json_obj(o->j);
		json_kstr(o->j, "emergency", em);
		json_kstr(o->j, "task", t->task->key);
		json_kstr(o->j, "title", t->task->title);
		json_kbool(o->j, "created", t->created);
		json_kstr(o->j, "id", t->case_id[0] ? t->case_id : NULL);
		json_obj_end(o->j);
		return;
	}
	printf("%-16s %-10s %s %s\n", t->case_id[0] ? t->case_id : "-",
	       t->created ? "新建 made" : "已有 held", em, t->task->title);
}

static int em_tasks(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {{NULL, 0, 0}};
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which;
	const char *v;
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP)
			return cli_help(tasks_help);
		return cli_usage(c, "unexpected argument '%s'", v);
	}
	int rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE);
	if (rc)
		return rc;
	if (strcmp(c->conf.role, "station"))
		return cli_fail(c, "only a community station makes plan tasks "
				   "(本站角色 %s)",
				c->conf.role);
	struct json j;
	struct tasks_out o = {c, c->json ? &j : NULL};
	if (c->json) {
		json_init(&j, stdout);
		json_obj(&j);
		json_key(&j, "tasks");
		json_arr(&j);
	}
	size_t made = 0, held = 0;
	int arc = cli_em_activate(c, cli_now(c), task_line, &o, &made, &held);
	if (c->json) {
		json_arr_end(&j);
		json_kuint(&j, "made", made);
		json_kuint(&j, "held", held);
		json_kstr(&j, "error", arc ? wh_strerror(arc) : NULL);
		json_obj_end(&j);
		json_end(&j);
	} else {
		printf("%zu 新建 made, %zu 已有 held\n", made, held);
	}
	if (arc)
		return cli_store_err(c, "plan tasks", arc);
	return CLI_OK;
}

static const struct cli_cmd em_cmds[] = {
	{"declare", em_declare, "a street or district declares an emergency"},
	{"extend", em_extend, "move an emergency's planned end"},
	{"end", em_end, "end an emergency (final)"},
	{"status", cmd_emergency_status, "what is in force here, and its tasks"},
	{"tasks", em_tasks, "make the plan tasks this station owes now"},
	{NULL, NULL, NULL},
};

static const char em_help[] =
	"usage: whistle emergency SUBCOMMAND [ARGS]\n"
	"\n"
	"Emergencies (平战转换): a street or district declares one over an\n"
	"area with a plan; each community station there gets the plan's\n"
	"tasks as cases, and ordinary cases' deadlines there pause (or are\n"
	"extended) until it ends. docs/guide.md, \"Emergencies and plans\".\n"
	"\n";

int cmd_emergency(struct cli *c, int argc, char **argv)
{
	return cli_group(c, em_cmds, "emergency ", em_help, argc, argv);
}
