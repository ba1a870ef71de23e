/*
 * web_view.c: what the console's API shows (docs/api.md): the case
 * list in the order a person works it (overdue first, then today's),
 * one case with its history, its departments and the next steps this
 * person may take, the sync panel, the form choices and the status
 * with its emergencies.
 *
 * Case objects are the CLI's own (cli_case_json, cli_flow_json,
 * cli_case_history_json), so the console and `case show --json` never
 * disagree. The next steps are found by asking the loop's own code
 * (cw_step_run with dry set) whether each step would be taken now:
 * the role table and the fold's rules decide, not a second copy of
 * them here.
 */
#include "cli_emergency.h"
#include "web_int.h"

#include "case_step.h"
#include "cli_problems.h"
#include "cli_seal.h"

#include <microhttpd.h>

#include <stdlib.h>
#include <string.h>

#define LIST_DEFAULT 100
#define LIST_MAX 1000
#define DAY_MS 86400000ull
#define CST_MS (8ull * 3600000ull) /* Asia/Shanghai, UTC+8, no DST */

static void time_json(struct json *j, const char *k, uint64_t ms)
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

void web_emergencies_json(struct web *w, struct json *j)
{
	/* What `whistle status --json` says: in force over or within this
	 * station's path now, from the signed ops held. */
	cli_em_status_json(w->c, j);
}

/* ---- the list ----------------------------------------------------------- */

struct row {
	char *json; /* the summary object, written out */
	size_t n;
	uint64_t late_ms; /* most overdue department, 0: none */
	int today;
	uint64_t updated;
};

struct listing {
	struct cli *c;
	uint64_t now, day;
	const char *q;
	int overdue_only;
	int relay_on; /* carried cases are shown only then */
	struct row *rows;
	size_t nrows, cap;
};

struct late {
	struct json *j;
	uint64_t max;
};

static void late_cb(void *ctx, const struct wh_summons *s, int resolve,
		    uint64_t late_ms)
{
	struct late *l = ctx;
	if (late_ms > l->max)
		l->max = late_ms;
	if (!l->j)
		return;
	json_obj(l->j);
	json_kstr(l->j, "department", s->dept);
	json_kbool(l->j, "lead", s->lead);
	json_kstr(l->j, "what", resolve ? "resolve" : "report");
	json_kstr(l->j, "what_label", resolve ? "办结超时" : "报到超时");
	json_kuint(l->j, "late_ms", late_ms);
	json_obj_end(l->j);
}

static int contains(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle);
}

static int list_cb(void *ctx, const struct wh_case *v)
{
	struct listing *l = ctx;
	char id[WH_CASE_ID_MAX];
	wh_case_id_format(v->code, v->seq, id);
	if (l->q && !contains(id, l->q) && !contains(v->title, l->q) &&
	    !contains(v->address, l->q) && !contains(v->category, l->q) &&
	    !contains(v->description, l->q))
		return 0;
	/* As `case list`: a neighbour's case carried in an emergency is
	 * shown only while the emergency lasts. */
	int carried = cli_case_carried(l->c, v);
	if (carried && !l->relay_on)
		return 0;
	struct late lt = {NULL, 0};
	uint32_t nlate = wh_flow_overdue(v, l->now, late_cb, &lt);
	if (l->overdue_only && !nlate)
		return 0;
	if (l->nrows == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->rows = wh_xrealloc(l->rows, l->cap * sizeof *l->rows);
	}
	struct row *r = &l->rows[l->nrows++];
	memset(r, 0, sizeof *r);
	r->late_ms = lt.max;
	uint64_t created = v->has_create ? WH_HLC_MS(v->created_at) : 0;
	r->today = created && (created + CST_MS) / DAY_MS == l->day;
	r->updated = WH_HLC_MS(v->updated_at);
	FILE *f = open_memstream(&r->json, &r->n);
	if (!f)
		abort();
	struct json j;
	json_init(&j, f);
	json_obj(&j);
	json_kstr(&j, "id", id);
	json_kstr(&j, "title", v->title);
	json_kstr(&j, "category", v->category);
	json_kstr(&j, "address", v->address);
	json_kstr(&j, "path", v->path);
	json_kbool(&j, "carried", carried);
	json_kstr(&j, "status", wh_status_name(v->status));
	json_kstr(&j, "status_label", wh_status_label(v->status));
	json_kstr(&j, "priority", wh_priority_name(v->priority));
	json_kstr(&j, "priority_label", wh_priority_label(v->priority));
	json_key(&j, "level");
	if (v->flow.level == WH_LEVEL_NONE)
		json_null(&j);
	else
		json_str(&j, wh_level_name(v->flow.level));
	time_json(&j, "created_at", created);
	time_json(&j, "updated_at", r->updated);
	json_kbool(&j, "today", r->today);
	json_kbool(&j, "conflict", v->conflict || v->flow.conflicts);
	json_kbool(&j, "incomplete", !v->has_create);
	json_key(&j, "overdue");
	json_arr(&j);
	lt.j = &j;
	wh_flow_overdue(v, l->now, late_cb, &lt);
	json_arr_end(&j);
	json_obj_end(&j);
	fclose(f);
	return 0;
}

/* Overdue first (most late first), then today's, then the rest; the
 * newest change first within each. */
static int row_cmp(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	if (!!a->late_ms != !!b->late_ms)
		return a->late_ms ? -1 : 1;
	if (a->late_ms != b->late_ms)
		return a->late_ms > b->late_ms ? -1 : 1;
	if (a->today != b->today)
		return a->today ? -1 : 1;
	if (a->updated != b->updated)
		return a->updated > b->updated ? -1 : 1;
	return 0;
}

static int param(struct web_req *r, struct web_out *o, const char *name,
		 size_t max, const char **out)
{
	*out = web_query(r, name);
	if (*out && !**out)
		*out = NULL;
	if (*out && web_in_param(*out, max) != WH_OK) {
		web_out_error(o, MHD_HTTP_BAD_REQUEST, "invalid",
			      "'%s': not a valid value", name);
		return 0;
	}
	return 1;
}

void web_view_cases(struct web_req *r, struct web_out *o)
{
	struct cli *c = r->w->c;
	const char *status, *scope, *q, *overdue, *limit;
	if (!param(r, o, "status", 32, &status) ||
	    !param(r, o, "scope", WH_PATH_MAX, &scope) ||
	    !param(r, o, "q", 200, &q) ||
	    !param(r, o, "overdue", 8, &overdue) ||
	    !param(r, o, "limit", 8, &limit))
		return;
	struct wh_case_filter f = {scope, -1, 0};
	if (status && (f.status = wh_status_parse(status)) < 0) {
		web_out_error(o, MHD_HTTP_BAD_REQUEST, "invalid",
			      "'status': not a status (new, accepted, "
			      "in_progress, resolved, closed, reopened, "
			      "cancelled)");
		return;
	}
	if (scope && !wh_path_valid(scope, strlen(scope))) {
		web_out_error(o, MHD_HTTP_BAD_REQUEST, "invalid",
			      "'scope': not a jurisdiction path");
		return;
	}
	unsigned long lim = LIST_DEFAULT;
	if (limit) {
		char *end;
		lim = strtoul(limit, &end, 10);
		if (*end || *limit < '0' || *limit > '9' || lim < 1 ||
		    lim > LIST_MAX) {
			web_out_error(o, MHD_HTTP_BAD_REQUEST, "invalid",
				      "'limit': 1 to %d", LIST_MAX);
			return;
		}
	}
	struct listing l = {.c = c, .q = q};
	l.now = cli_now(c);
	l.day = (l.now + CST_MS) / DAY_MS;
	l.overdue_only = overdue && strcmp(overdue, "0");
	l.relay_on = cli_relay_on(c, NULL);
	int rc = wh_store_case_list(c->store, &f, list_cb, &l);
	if (rc < 0) {
		for (size_t i = 0; i < l.nrows; i++)
			free(l.rows[i].json);
		free(l.rows);
		web_out_error(o, MHD_HTTP_INTERNAL_SERVER_ERROR, "store",
			      "store: %s", wh_strerror(rc));
		return;
	}
	if (l.nrows) /* qsort of NULL is undefined, even for 0 */
		qsort(l.rows, l.nrows, sizeof *l.rows, row_cmp);
	struct json j;
	web_out_json(o, MHD_HTTP_OK, &j);
	json_obj(&j);
	time_json(&j, "now", l.now);
	json_kuint(&j, "total", l.nrows);
	json_kbool(&j, "more", l.nrows > lim);
	size_t nover = 0, ntoday = 0;
	for (size_t i = 0; i < l.nrows; i++) {
		nover += l.rows[i].late_ms > 0;
		ntoday += l.rows[i].today;
	}
	json_kuint(&j, "overdue", nover);
	json_kuint(&j, "today", ntoday);
	json_key(&j, "cases");
	json_arr(&j);
	for (size_t i = 0; i < l.nrows; i++) {
		if (i < lim) {
			/* already valid JSON: a raw value in the array */
			json_num_raw(&j, l.rows[i].json);
		}
		free(l.rows[i].json);
	}
	free(l.rows);
	json_arr_end(&j);
	json_obj_end(&j);
	json_end(&j);
}

/* ---- one case --------------------------------------------------------- */

/* The current round's departments: summoned, reported or not. */
static void departments_json(struct cli *c, struct json *j,
			     const struct wh_case *v)
{
	uint64_t now = cli_now(c);
	json_key(j, "departments");
	json_arr(j);
	for (uint32_t i = 0; i < v->flow.nsummons; i++) {
		const struct wh_summons *s = &v->flow.summons[i];
		if (s->round != v->flow.round)
			continue;
		json_obj(j);
		json_kstr(j, "department", s->dept);
		json_kbool(j, "lead", s->lead);
		time_json(j, "summoned_at", WH_HLC_MS(s->summoned_at));
		json_kbool(j, "reported", s->acked_at != 0);
		time_json(j, "reported_at",
			  s->acked_at ? WH_HLC_MS(s->acked_at) : 0);
		time_json(j, "onsite_at",
			  s->onsite_at ? WH_HLC_MS(s->onsite_at) : 0);
		json_kbool(j, "resolved", s->resolved_at != 0);
		time_json(j, "resolved_at",
			  s->resolved_at ? WH_HLC_MS(s->resolved_at) : 0);
		time_json(j, "report_due", s->report_due_ms);
		time_json(j, "resolve_due", s->resolve_due_ms);
		const char *late = NULL;
		uint64_t late_ms = 0;
		int open = v->status != WH_ST_RESOLVED &&
			   v->status != WH_ST_CLOSED &&
			   v->status != WH_ST_CANCELLED;
		if (open && !s->acked_at && s->report_due_ms &&
		    now > s->report_due_ms) {
			late = "report";
			late_ms = now - s->report_due_ms;
		} else if (open && !s->resolved_at && s->resolve_due_ms &&
			   now > s->resolve_due_ms) {
			late = "resolve";
			late_ms = now - s->resolve_due_ms;
		}
		json_kstr(j, "overdue", late);
		json_kuint(j, "late_ms", late_ms);
		json_kuint(j, "street_score", s->street_score);
		json_obj_end(j);
	}
	json_arr_end(j);
}

/* Would step s be taken now? (the loop's own checks, nothing written) */
static int would(struct cli *c, struct cw_step *s, const char *id,
		 const char *code, uint32_t seq)
{
	struct cli_sink sink = {"", 0};
	s->id = id;
	snprintf(s->code, sizeof s->code, "%s", code);
	s->seq = seq;
	c->sink = &sink;
	int rc = cw_step_check(c, s);
	if (rc == CLI_OK)
		rc = cw_step_run(c, s, 1);
	c->sink = NULL;
	cw_step_fini(s);
	return rc == CLI_OK;
}

static void step_obj(struct json *j, const char *step, const char *k,
		     const char *v)
{
	json_obj(j);
	json_kstr(j, "step", step);
	if (k)
		json_kstr(j, k, v);
	json_obj_end(j);
}

/* The whistle's defaults from the problem list, if it has the
 * category: what the form offers first. */
static void whistle_obj(struct cli *c, struct json *j, const struct wh_case *v)
{
	struct wh_problem_entry pe;
	memset(&pe, 0, sizeof pe); /* no category: never looked up */
	json_obj(j);
	json_kstr(j, "step", "whistle");
	int rc = v->category
		     ? cli_problem_lookup(c, v->path ? v->path : c->conf.path,
					  v->category, &pe)
		     : WH_ENOTFOUND;
	json_key(j, "defaults");
	if (rc == WH_OK) {
		char d[CLI_DURATION_MAX];
		json_obj(j);
		json_key(j, "departments");
		json_arr(j);
		for (uint32_t i = 0; i < pe.ndepts; i++)
			json_str(j, pe.depts[i]);
		json_arr_end(j);
		json_kstr(j, "lead", pe.lead);
		cli_duration_format(pe.report_ms, d);
		json_kstr(j, "report_within", pe.report_ms ? d : NULL);
		cli_duration_format(pe.resolve_ms, d);
		json_kstr(j, "resolve_within", pe.resolve_ms ? d : NULL);
		json_obj_end(j);
	} else {
		json_null(j);
	}
	wh_problem_entry_fini(&pe);
	json_obj_end(j);
}

static void steps_json(struct web_req *r, struct json *j,
		       const struct wh_case *v, const char *id)
{
	struct cli *c = r->w->c;
	struct cw_step s;
	int role = r->s->role;
	json_key(j, "steps");
	json_arr(j);
	if (role >= USERS_CLERK)
		step_obj(j, "note", NULL, NULL);
	if (role < USERS_STAFF) {
		json_arr_end(j);
		return;
	}
	cw_step_init(&s, WH_OP_TRIAGE);
	s.level = WH_LEVEL_SMALL;
	if (would(c, &s, id, v->code, v->seq))
		step_obj(j, "triage", NULL, NULL);
	cw_step_init(&s, WH_OP_WHISTLE);
	s.depts[s.ndepts++] = "X"; /* any department: the state decides */
	if (would(c, &s, id, v->code, v->seq))
		whistle_obj(c, j, v);
	cw_step_init(&s, WH_OP_WHISTLE);
	s.supervise = 1;
	if (would(c, &s, id, v->code, v->seq))
		step_obj(j, "supervise", NULL, NULL);
	if (c->conf.department[0]) {
		cw_step_init(&s, WH_OP_REPORT);
		s.stepno = WH_STEP_PROGRESS;
		if (would(c, &s, id, v->code, v->seq))
			step_obj(j, "report", "dept", c->conf.department);
	}
	cw_step_init(&s, WH_OP_FEEDBACK);
	s.text = "x";
	if (would(c, &s, id, v->code, v->seq))
		step_obj(j, "feedback", NULL, NULL);
	cw_step_init(&s, WH_OP_RATE);
	s.score = 5;
	if (would(c, &s, id, v->code, v->seq))
		step_obj(j, "rate", "dept", NULL);
	for (uint32_t i = 0; i < v->flow.nsummons; i++) {
		const struct wh_summons *sm = &v->flow.summons[i];
		if (sm->round != v->flow.round)
			continue;
		cw_step_init(&s, WH_OP_RATE);
		s.score = 5;
		s.dept = sm->dept;
		if (would(c, &s, id, v->code, v->seq))
			step_obj(j, "rate", "dept", sm->dept);
	}
	for (int by = 0; by < 2; by++) {
		cw_step_init(&s, WH_OP_CASE_STATUS);
		s.by = by;
		if (would(c, &s, id, v->code, v->seq))
			step_obj(j, "reopen", "by", by ? "street" : "resident");
	}
	json_arr_end(j);
	/* status changes the workflow allows from here */
	json_key(j, "statuses");
	json_arr(j);
	for (unsigned to = 0; wh_status_name(to); to++) {
		const char *why;
		if (to == WH_ST_REOPENED || !wh_status_allowed(v->status, to) ||
		    wh_flow_status_check(v, to, &why) != WH_OK)
			continue;
		json_obj(j);
		json_kstr(j, "status", wh_status_name(to));
		json_kstr(j, "label", wh_status_label(to));
		json_obj_end(j);
	}
	json_arr_end(j);
}

void web_view_case(struct web_req *r, struct web_out *o, const char *code,
		   uint32_t seq)
{
	struct cli *c = r->w->c;
	struct wh_case v;
	char id[WH_CASE_ID_MAX];
	wh_case_id_format(code, seq, id);
	int rc = wh_store_case_get(c->store, code, seq, &v);
	if (rc == WH_ENOTFOUND) {
		web_out_error(o, MHD_HTTP_NOT_FOUND, "not_found", "no case %s",
			      id);
		return;
	}
	struct cli_pd pd;
	memset(&pd, 0, sizeof pd);
	if (rc == WH_OK && (rc = cli_pd_load(c, &v, &pd)) != WH_OK)
		wh_case_fini(&v);
	if (rc != WH_OK) {
		cli_pd_fini(&pd);
		web_out_error(o, MHD_HTTP_INTERNAL_SERVER_ERROR, "store",
			      "%s: %s", id, wh_strerror(rc));
		return;
	}
	struct json j;
	web_out_json(o, MHD_HTTP_OK, &j);
	json_obj(&j);
	json_key(&j, "case");
	cli_case_json(c, &j, &v, &pd);
	rc = cli_case_history_json(c, &j, code, seq);
	json_obj_end(&j);
	departments_json(c, &j, &v);
	steps_json(r, &j, &v, id);
	json_obj_end(&j);
	json_end(&j);
	cli_pd_fini(&pd);
	wh_case_fini(&v);
	if (rc != WH_OK)
		web_out_error(o, MHD_HTTP_INTERNAL_SERVER_ERROR, "store",
			      "%s: history: %s", id, wh_strerror(rc));
}

/* ---- sync, options, status ----------------------------------------------- */

struct linkcount {
	size_t up, n;
};

static int link_cb(void *ctx, const struct wh_net_link_info *l)
{
	struct linkcount *k = ctx;
	k->n++;
	k->up += l->up != 0;
	return 0;
}

void web_view_sync(struct web_req *r, struct web_out *o)
{
	struct cli *c = r->w->c;
	struct agent *a = r->w->a;
	struct linkcount k = {0, 0};
	if (a->net)
		(void)wh_net_each_link(a->net, link_cb, &k);
	struct json j;
	web_out_json(o, MHD_HTTP_OK, &j);
	json_obj(&j);
	time_json(&j, "now", wh_clock_realtime(NULL));
	json_kuint(&j, "links", k.n);
	json_kuint(&j, "links_up", k.up);
	json_key(&j, "listen");
	json_arr(&j);
	for (size_t i = 0; i < a->cur->nlisten; i++)
		json_str(&j, a->cur->listen[i]);
	json_arr_end(&j);
	int rc = cli_peers_json(c, &j);
	json_obj_end(&j);
	json_end(&j);
	if (rc != WH_OK)
		web_out_error(o, MHD_HTTP_INTERNAL_SERVER_ERROR, "store",
			      "peers: %s", wh_strerror(rc));
}

static void enum_json(struct json *j, const char *key,
		      const char *(*name)(unsigned),
		      const char *(*label)(unsigned))
{
	json_key(j, key);
	json_arr(j);
	for (unsigned i = 0; name(i); i++) {
		json_obj(j);
		json_kstr(j, "name", name(i));
		json_kstr(j, "label", label ? label(i) : name(i));
		json_obj_end(j);
	}
	json_arr_end(j);
}

void web_view_options(struct web_req *r, struct web_out *o)
{
	struct cli *c = r->w->c;
	struct cli_problems pl;
	int rc = cli_problems_load(c, c->conf.path, &pl);
	struct json j;
	web_out_json(o, MHD_HTTP_OK, &j);
	json_obj(&j);
	json_key(&j, "categories");
	json_arr(&j);
	for (uint32_t i = 0; rc == WH_OK && i < pl.merged.n; i++) {
		const struct wh_problem_entry *e = pl.merged.e[i];
		json_obj(&j);
		json_kstr(&j, "category", e->category);
		json_kstr(&j, "lead", e->lead);
		json_key(&j, "departments");
		json_arr(&j);
		for (uint32_t k = 0; k < e->ndepts; k++)
			json_str(&j, e->depts[k]);
		json_arr_end(&j);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	enum_json(&j, "sources", wh_source_name, wh_source_label);
	enum_json(&j, "priorities", wh_priority_name, wh_priority_label);
	enum_json(&j, "levels", wh_level_name, wh_level_label);
	enum_json(&j, "kinds", wh_wkind_name, wh_wkind_label);
	enum_json(&j, "whistlers", wh_whistler_name, wh_whistler_label);
	enum_json(&j, "report_steps", wh_step_name, wh_step_label);
	enum_json(&j, "channels", wh_channel_name, NULL);
	enum_json(&j, "statuses", wh_status_name, wh_status_label);
	json_obj_end(&j);
	json_end(&j);
	cli_problems_fini(&pl);
}

void web_view_status(struct web_req *r, struct web_out *o)
{
	struct cli *c = r->w->c;
	const struct cli_conf *f = &c->conf;
	struct json j;
	web_out_json(o, MHD_HTTP_OK, &j);
	json_obj(&j);
	json_kstr(&j, "station", f->station);
	json_kstr(&j, "name", f->name[0] ? f->name : f->station);
	json_kstr(&j, "code", f->code);
	json_kstr(&j, "path", f->path);
	json_kstr(&j, "scope", f->path);
	json_kstr(&j, "role", f->role);
	json_kstr(&j, "department", f->department[0] ? f->department : NULL);
	time_json(&j, "now", cli_now(c));
	time_json(&j, "agent_started", r->w->a->started_ms);
	json_kstr(&j, "user", r->s->user);
	json_kstr(&j, "user_role", users_role_name(r->s->role));
	web_emergencies_json(r->w, &j);
	json_obj_end(&j);
	json_end(&j);
}
