/*
 * cmd_problems.c: `whistle problems`: look at the problem list (问题清单)
 * that applies to a path, and publish entries of this home's own list.
 *
 *   list [--path P]           the merged list for P (default: our path)
 *   show CATEGORY [--path P]  one category's entry, as `case whistle`
 *                             will find it (cli_problem_lookup)
 *   set CATEGORY --lead D ... write an entry of our own list
 *   remove CATEGORY           remove an entry of our own list
 *
 * Only a street or district home publishes (its role says so); its list
 * is the object "~PL-" + its code, seq 1, at its own path, and sync
 * carries it to every station below that path. A set replaces the whole
 * entry (that is the fold's rule, crdt/problems.h), so what is not given
 * is cleared; a set that would change nothing writes nothing.
 */
#include "json.h"
#include "cli_problems.h"

#include "flow.h"
#include "mp.h"

#include <stdlib.h>
#include <errno.h>
#include <string.h>

/* ---- showing entries ---- */

static void json_limit(struct json *j, const char *k, const char *kw,
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

static void json_entry(struct json *j, const struct wh_problem_entry *e)
{
	json_obj(j);
	json_kstr(j, "category", e->category);
	json_kstr(j, "lead", e->lead);
	json_key(j, "departments");
	json_arr(j);
	for (uint32_t i = 0; i < e->ndepts; i++)
		json_str(j, e->depts[i]);
	json_arr_end(j);
	json_limit(j, "report_ms", "report_within", e->report_ms);
	json_limit(j, "resolve_ms", "resolve_within", e->resolve_ms);
	json_kstr(j, "text", e->text);
	json_kstr(j, "path", e->path);
	char iso[CLI_TIME_MAX];
	cli_time_iso(WH_HLC_MS(e->set_at), iso);
	json_kstr(j, "set_at", iso);
	json_kuint(j, "set_at_hlc", e->set_at);
	json_khex(j, "set_by", e->set_by, WH_PK_BYTES);
	json_obj_end(j);
}

/* "城管、消防" for people; "-" for none. */
static void depts_text(const struct wh_problem_entry *e, char *out, size_t n)
{
	size_t at = 0;
	out[0] = '\0';
	for (uint32_t i = 0; i < e->ndepts && at < n; i++)
		at += (size_t)snprintf(out + at, n - at, "%s%s", i ? "、" : "",
				       e->depts[i]);
	if (!e->ndepts)
		snprintf(out, n, "-");
}

static void limit_text(uint64_t ms, char out[CLI_DURATION_MAX])
{
	if (ms)
		cli_duration_format(ms, out);
	else
		snprintf(out, CLI_DURATION_MAX, "-");
}

static void row(const char *cat, const char *lead, const char *depts,
		const char *rep, const char *res, const char *from,
		const char *text)
{
	cli_print_cell(stdout, cat, 14, 0);
	fputs("  ", stdout);
	cli_print_cell(stdout, lead, 10, 0);
	fputs("  ", stdout);
	cli_print_cell(stdout, depts, 22, 0);
	fputs("  ", stdout);
	cli_print_cell(stdout, rep, 8, 0);
	fputs("  ", stdout);
	cli_print_cell(stdout, res, 8, 0);
	fputs("  ", stdout);
	cli_print_cell(stdout, from, 18, 0);
	fputs("  ", stdout);
	cli_print_cell(stdout, text, 30, 1);
	fputc('\n', stdout);
}

static void text_entry_row(const struct wh_problem_entry *e)
{
	char depts[WH_FLOW_MAX_DEPTS * (WH_DEPT_MAX + 4)];
	char rep[CLI_DURATION_MAX], res[CLI_DURATION_MAX];
	depts_text(e, depts, sizeof depts);
	limit_text(e->report_ms, rep);
	limit_text(e->resolve_ms, res);
	row(e->category, e->lead, depts, rep, res, e->path,
	    e->text ? e->text : "");
}

/* Parse "[CATEGORY] [--path P]"; *cat stays NULL for list. */
static int path_args(struct cli *c, int argc, char **argv, int want_cat,
		     const char *help, const char **cat, const char **path)
{
	static const struct cli_opt opts[] = {{"path", 0, 1}, {NULL, 0, 0}};
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which;
	const char *v;
	*cat = *path = NULL;
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP) {
			cli_help(help);
			return -1;
		}
		if (t == ARG_POS) {
			if (!want_cat || *cat)
				return cli_usage(c, "unexpected argument '%s'",
						 v);
			*cat = v;
			continue;
		}
		if (*path)
			return cli_usage(c, "--path given twice");
		if (!wh_path_valid(v, strlen(v)))
			return cli_usage(c, "--path '%s': not a jurisdiction "
					    "path",
					 v);
		*path = v;
	}
	if (want_cat && (!*cat || !**cat))
		return cli_usage(c, "missing category");
	return CLI_OK;
}

static const char list_help[] =
	"usage: whistle problems list [--path PATH]\n"
	"\n"
	"The problem list (问题清单) that applies to PATH (default: this\n"
	"home's path): for each category the lead department (牵头), the\n"
	"responsible departments (主责), the time limits to report and to\n"
	"resolve, notes, and whose list the entry comes from. A street's\n"
	"entry overrides its district's for the same category.\n"
	"--json: {path, lists: [{code, path, entries}], entries: [...]}.\n";

static int problems_list(struct cli *c, int argc, char **argv)
{
	const char *cat, *path;
	int rc = path_args(c, argc, argv, 0, list_help, &cat, &path);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	if ((rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_STORE)))
		return rc;
	if (!path)
		path = c->conf.path;
	struct cli_problems p;
	int lrc = cli_problems_load(c, path, &p);
	if (lrc) {
		cli_problems_fini(&p);
		return cli_fail(c, "problem lists for %s: %s", path,
				wh_strerror(lrc));
	}
	const struct wh_problems_merged *m = &p.merged;
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "path", path);
		json_key(&j, "lists");
		json_arr(&j);
		for (uint32_t i = 0; i < p.nlists; i++) {
			json_obj(&j);
			json_kstr(&j, "code", p.lists[i].code);
			json_kstr(&j, "path", p.lists[i].path);
			json_kuint(&j, "entries", p.lists[i].n);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_key(&j, "entries");
		json_arr(&j);
		for (uint32_t i = 0; i < m->n; i++)
			json_entry(&j, m->e[i]);
		json_arr_end(&j);
		json_obj_end(&j);
		json_end(&j);
	} else if (m->n == 0) {
		printf("(%s 无问题清单 no problem list applies)\n", path);
	} else {
		printf("问题清单 Problem list for %s: %u entries\n", path,
		       (unsigned)m->n);
		row("类别 Category", "牵头 Lead", "主责 Departments", "报到",
		    "办结", "发布 From", "说明 Notes");
		for (uint32_t i = 0; i < m->n; i++)
			text_entry_row(m->e[i]);
	}
	cli_problems_fini(&p);
	return CLI_OK;
}

static const char show_help[] =
	"usage: whistle problems show CATEGORY [--path PATH]\n"
	"\n"
	"The entry for CATEGORY that applies to a case at PATH (default: this\n"
	"home's path): what 'case whistle' uses for the departments, the lead\n"
	"and the time limits when they are not given. Exit 1 if no list that\n"
	"applies has the category.\n";

static int problems_show(struct cli *c, int argc, char **argv)
{
	const char *cat, *path;
	int rc = path_args(c, argc, argv, 1, show_help, &cat, &path);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	if ((rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_STORE)))
		return rc;
	if (!path)
		path = c->conf.path;
	struct wh_problem_entry e;
	int lrc = cli_problem_lookup(c, path, cat, &e);
	if (lrc == WH_ENOTFOUND)
		return cli_fail(c, "'%s' is in no problem list for %s "
				   "(问题清单中没有此类别)",
				cat, path);
	if (lrc)
		return cli_fail(c, "problem lists for %s: %s", path,
				wh_strerror(lrc));
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_entry(&j, &e);
		json_end(&j);
	} else {
		char depts[WH_FLOW_MAX_DEPTS * (WH_DEPT_MAX + 4)];
		char rep[CLI_DURATION_MAX], res[CLI_DURATION_MAX];
		char when[CLI_TIME_MAX];
		depts_text(&e, depts, sizeof depts);
		limit_text(e.report_ms, rep);
		limit_text(e.resolve_ms, res);
		cli_time_local(WH_HLC_MS(e.set_at), when);
		printf("类别 Category      %s\n", e.category);
		printf("牵头 Lead          %s\n", e.lead);
		printf("主责 Departments   %s\n", depts);
		printf("报到时限 Report    %s\n", rep);
		printf("办结时限 Resolve   %s\n", res);
		if (e.text)
			printf("说明 Notes         %s\n", e.text);
		printf("发布 From          %s (%s)\n", e.path, when);
	}
	wh_problem_entry_fini(&e);
	return CLI_OK;
}

/* ---- publishing ---- */

/* This home may publish: role street or district, and a code that fits
 * the list's object id. Writes the list's code. */
static int publisher(struct cli *c, char code[WH_CODE_MAX + 1])
{
	if (strcmp(c->conf.role, "street") && strcmp(c->conf.role, "district"))
		return cli_fail(c, "only a street or district home publishes "
				   "a problem list (问题清单由街道或区发布); "
				   "this home's role is %s",
				c->conf.role);
	if (wh_problems_code(c->conf.code, code) != WH_OK)
		return cli_fail(c, "station code '%s' is too long for a "
				   "problem list id (%sCODE must fit in %u "
				   "bytes: a code of at most %u)",
				c->conf.code, WH_PROBLEMS_PREFIX, WH_CODE_MAX,
				(unsigned)(WH_CODE_MAX -
					   strlen(WH_PROBLEMS_PREFIX)));
	return CLI_OK;
}

/* One value alone in an op that carries it: the format's limits checked
 * with the option's name at hand. */
static int probe(const struct cli *c, const char *opt, uint8_t key,
		 const char *v)
{
	struct wh_op_draft d;
	struct wh_buf arr = {0};
	wh_draft_init(&d, WH_OP_PROBLEM_SET, "~PL-X", 1, "x");
	if (key != WH_F_CATEGORY)
		wh_draft_str(&d, WH_F_CATEGORY, "x");
	if (key != WH_F_LEAD)
		wh_draft_str(&d, WH_F_LEAD, "x");
	if (key == WH_F_DEPTS) {
		wh_mpw_cstr(&arr, v);
		wh_draft_array(&d, key, arr.p, arr.len, 1);
	} else {
		wh_draft_str(&d, key, v);
	}
	int rc = cli_probe_drafts(&d, 1);
	wh_buf_fini(&arr);
	if (rc == WH_ETOOBIG)
		return cli_usage(c, "%s: too long (%zu bytes; at most %u)", opt,
				 strlen(v),
				 (unsigned)(key == WH_F_DEPTS
						    ? WH_DEPT_MAX
						    : wh_field_max(key)));
	if (rc != WH_OK)
		return cli_usage(c, "%s '%s': %s", opt, v, wh_strerror(rc));
	return CLI_OK;
}

static int duration_arg(const struct cli *c, const char *opt, const char *v,
			uint64_t *ms)
{
	int rc = cli_duration_parse(v, ms);
	if (rc == WH_ETOOBIG)
		return cli_usage(c, "%s '%s': longer than the limit of 366 "
				    "days",
				 opt, v);
	if (rc)
		return cli_usage(c, "%s '%s': not a duration (a whole number "
				    "and m, h or d: 30m, 2h, 24h, 7d, 15d)",
				 opt, v);
	return CLI_OK;
}

static char *xdup(const char *s)
{
	return wh_xstrndup(s, strlen(s));
}

static const char set_help[] =
	"usage: whistle problems set CATEGORY --lead DEPT [--dept DEPT]...\n"
	"           [--report-within DUR] [--resolve-within DUR] [--text T]\n"
	"\n"
	"Publish the entry for CATEGORY in this home's problem list (street\n"
	"or district homes only). The entry is replaced as a whole: what is\n"
	"not given is cleared. Setting what is already there writes nothing.\n"
	"  --lead DEPT            the lead department (牵头部门), required\n"
	"  --dept DEPT            a responsible department (主责部门); repeat,\n"
	"                         at most 16\n"
	"  --report-within DUR    time limit to report (报到): 30m, 2h, 24h...\n"
	"  --resolve-within DUR   time limit to resolve (办结): 24h, 7d, 15d...\n"
	"  --text T               notes shown with the entry\n";

/* Parse `problems set` into want (owned strings). */
static int set_parse(struct cli *c, int argc, char **argv,
		     struct wh_problem_entry *want)
{
	static const struct cli_opt opts[] = {
		{"lead", 0, 1},		  {"dept", 0, 1},
		{"report-within", 0, 1}, {"resolve-within", 0, 1},
		{"text", 0, 1},		  {NULL, 0, 0},
	};
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which, rc, given[5] = {0};
	const char *v;
	want->depts = wh_xcalloc(WH_FLOW_MAX_DEPTS, sizeof want->depts[0]);
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP) {
			cli_help(set_help);
			return -1;
		}
		if (t == ARG_POS) {
			if (want->category)
				return cli_usage(c, "unexpected argument '%s' "
						    "(quote a category with "
						    "spaces)",
						 v);
			if (!*v)
				return cli_usage(c, "empty category");
			if ((rc = probe(c, "category", WH_F_CATEGORY, v)))
				return rc;
			want->category = xdup(v);
			continue;
		}
		char opt[32];
		snprintf(opt, sizeof opt, "--%s", opts[which].name);
		/* Every option but --dept at most once: a second value would
		 * silently win. */
		if (which != 1 && given[which]++)
			return cli_usage(c, "%s given twice", opt);
		switch (which) {
		case 0:
		case 1:
			if (!*v)
				return cli_usage(c, "%s: empty department name",
						 opt);
			if ((rc = probe(c, opt, which ? WH_F_DEPTS : WH_F_LEAD,
					v)))
				return rc;
			if (which == 0) {
				want->lead = xdup(v);
				break;
			}
			for (uint32_t i = 0; i < want->ndepts; i++)
				if (!strcmp(want->depts[i], v))
					return cli_usage(c, "--dept '%s' given "
							    "twice",
							 v);
			if (want->ndepts == WH_FLOW_MAX_DEPTS)
				return cli_usage(c, "--dept: at most %d "
						    "departments",
						 WH_FLOW_MAX_DEPTS);
			want->depts[want->ndepts++] = xdup(v);
			break;
		case 2:
		case 3:
			if ((rc = duration_arg(c, opt, v,
					       which == 2 ? &want->report_ms
							  : &want->resolve_ms)))
				return rc;
			break;
		default:
			if ((rc = probe(c, opt, WH_F_TEXT, v)))
				return rc;
			if (*v) /* an empty text is no text */
				want->text = xdup(v);
			break;
		}
	}
	if (!want->category)
		return cli_usage(c, "missing category");
	if (!want->lead)
		return cli_usage(c, "--lead is required (the lead department, "
				    "牵头部门)");
	return CLI_OK;
}

/* The SET op of want on list (code, path); arr holds the departments. */
static void set_draft(struct wh_op_draft *d, const char *code,
		      const char *path, const struct wh_problem_entry *want,
		      struct wh_buf *arr)
{
	wh_draft_init(d, WH_OP_PROBLEM_SET, code, WH_PROBLEMS_SEQ, path);
	wh_draft_str(d, WH_F_CATEGORY, want->category);
	wh_draft_str(d, WH_F_LEAD, want->lead);
	if (want->ndepts) {
		wh_buf_reset(arr);
		wh_problem_depts_encode(want, arr);
		wh_draft_array(d, WH_F_DEPTS, arr->p, arr->len, want->ndepts);
	}
	if (want->report_ms)
		wh_draft_uint(d, WH_F_REPORT_MS, want->report_ms);
	if (want->resolve_ms)
		wh_draft_uint(d, WH_F_RESOLVE_MS, want->resolve_ms);
	if (want->text)
		wh_draft_str(d, WH_F_TEXT, want->text);
}

/* After set/remove: a line for people, or {changed, list, path, entry}. */
static int report(struct cli *c, const char *code, const char *category,
		  int changed, const char *what)
{
	if (!c->json) {
		printf("%s %s: %s (%s, %s)\n", changed ? what : "未变 unchanged",
		       category,
		       changed ? "written" : "already so, nothing written",
		       code, c->conf.path);
		return CLI_OK;
	}
	struct wh_problems own;
	int rc = cli_problems_own(c, code, c->conf.path, &own);
	if (rc) {
		wh_problems_fini(&own);
		return cli_fail(c, "problem list %s: %s", code,
				wh_strerror(rc));
	}
	const struct wh_problem_entry *e = wh_problems_find(&own, category);
	struct json j;
	json_init(&j, stdout);
	json_obj(&j);
	json_kbool(&j, "changed", changed);
	json_kstr(&j, "list", code);
	json_kstr(&j, "path", c->conf.path);
	json_kstr(&j, "category", category);
	json_key(&j, "entry");
	if (e)
		json_entry(&j, e);
	else
		json_null(&j);
	json_obj_end(&j);
	json_end(&j);
	wh_problems_fini(&own);
	return CLI_OK;
}

static int problems_set(struct cli *c, int argc, char **argv)
{
	struct wh_problem_entry want;
	memset(&want, 0, sizeof want);
	struct wh_buf arr = {0};
	struct wh_problems own;
	memset(&own, 0, sizeof own);
	struct wh_op_draft d;
	char code[WH_CODE_MAX + 1];
	int changed = 1;
	int rc = set_parse(c, argc, argv, &want);
	if (rc == CLI_OK) {
		/* The whole op too (all fields together), before the store
		 * is opened. */
		set_draft(&d, "~PL-X", "x", &want, &arr);
		int brc = cli_probe_drafts(&d, 1);
		if (brc)
			rc = cli_store_err(c, want.category, brc);
	}
	if (rc == CLI_OK)
		rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE);
	if (rc == CLI_OK)
		rc = publisher(c, code);
	if (rc == CLI_OK) {
		int lrc = cli_problems_own(c, code, c->conf.path, &own);
		if (lrc)
			rc = cli_fail(c, "problem list %s: %s", code,
				      wh_strerror(lrc));
	}
	if (rc == CLI_OK) {
		const struct wh_problem_entry *cur =
			wh_problems_find(&own, want.category);
		changed = !cur || !wh_problem_entry_same(cur, &want);
	}
	if (rc == CLI_OK && changed) {
		set_draft(&d, code, c->conf.path, &want, &arr);
		int src = wh_store_author(c->store, c->key, &d, 1,
					  wh_clock_realtime, NULL, NULL, NULL);
		if (src)
			rc = cli_store_err(c, want.category, src);
	}
	if (rc == CLI_OK)
		rc = report(c, code, want.category, changed, "已设置 set");
	wh_problems_fini(&own);
	wh_problem_entry_fini(&want);
	wh_buf_fini(&arr);
	return rc < 0 ? CLI_OK : rc;
}

static const char remove_help[] =
	"usage: whistle problems remove CATEGORY\n"
	"\n"
	"Remove CATEGORY from this home's problem list (street or district\n"
	"homes only). A street removing its own entry lets its district's\n"
	"entry for the category apply again. Exit 1 if this home's list has\n"
	"no such category.\n";

static int problems_remove(struct cli *c, int argc, char **argv)
{
	const char *cat, *path;
	int rc = path_args(c, argc, argv, 1, remove_help, &cat, &path);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	if (path)
		return cli_usage(c, "--path: a list is only changed at its own "
				    "home's path");
	if ((rc = probe(c, "category", WH_F_CATEGORY, cat)))
		return rc;
	char code[WH_CODE_MAX + 1];
	if ((rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE)) ||
	    (rc = publisher(c, code)))
		return rc;
	struct wh_problems own;
	int lrc = cli_problems_own(c, code, c->conf.path, &own);
	int found = lrc == WH_OK && wh_problems_find(&own, cat) != NULL;
	wh_problems_fini(&own);
	if (lrc)
		return cli_fail(c, "problem list %s: %s", code,
				wh_strerror(lrc));
	if (!found) {
		/* Say where it does come from, if anywhere. */
		struct wh_problem_entry e;
		int frc = cli_problem_lookup(c, c->conf.path, cat, &e);
		if (frc == WH_OK)
			rc = cli_fail(c, "'%s' is not in this home's list (%s); "
					 "it comes from the list published at "
					 "%s, which only that home can change",
				      cat, code, e.path);
		else
			rc = cli_fail(c, "'%s' is not in this home's list (%s) "
					 "(清单中没有此类别)",
				      cat, code);
		wh_problem_entry_fini(&e);
		return rc;
	}
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_PROBLEM_DEL, code, WH_PROBLEMS_SEQ,
		      c->conf.path);
	wh_draft_str(&d, WH_F_CATEGORY, cat);
	int src = wh_store_author(c->store, c->key, &d, 1, wh_clock_realtime,
				  NULL, NULL, NULL);
	if (src)
		return cli_store_err(c, cat, src);
	return report(c, code, cat, 1, "已删除 removed");
}

static const char problems_help[] =
	"usage: whistle problems SUBCOMMAND [ARGS...]\n"
	"\n"
	"The problem list (问题清单): for each category of case, the lead\n"
	"department (牵头), the responsible departments (主责) and the time\n"
	"limits to report and to resolve. A district publishes one at its\n"
	"path; a street may publish its own to override entries for its\n"
	"street. 'whistle problems SUBCOMMAND --help' for details.\n"
	"\n";


/* For `problems publish` (cmd_problems_publish.c): `problems set` on one
 * line's arguments, or with check_only its parse and checks alone. */
int cli_problems_set_argv(struct cli *c, int argc, char **argv,
			  int check_only)
{
	if (!check_only)
		return problems_set(c, argc, argv);
	struct wh_problem_entry e;
	memset(&e, 0, sizeof e);
	int rc = set_parse(c, argc, argv, &e);
	wh_problem_entry_fini(&e);
	return rc;
}

static const struct cli_cmd subs[] = {
	{"list", problems_list, "the list that applies (--path P)"},
	{"show", problems_show, "one category's entry (--path P)"},
	{"set", problems_set, "publish an entry (street/district homes)"},
	{"remove", problems_remove, "remove an entry of this home's list"},
	{"publish", cmd_problems_publish, "publish entries from a TSV file"},
	{NULL, NULL, NULL},
};

int cmd_problems(struct cli *c, int argc, char **argv)
{
	return cli_group(c, subs, "problems ", problems_help, argc, argv);
}
