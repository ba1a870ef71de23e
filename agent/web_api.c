/*
 * web_api.c: the console's JSON API (docs/api.md): routing, the checks
 * every endpoint shares, login and logout, and the endpoints that
 * change something. What they show is web_view.c.
 *
 * Order of checks, the same for every endpoint: the route exists (404),
 * a live session (401; only login answers without one), the CSRF token
 * of that session on every POST (403), the account's role (403), the
 * body (400), then the work. Changes run the CLI's own code
 * (case_edit.h, case_step.h) with c->sink set, so a refusal comes back
 * in the CLI's words, and nothing is written unless all of it is.
 */
#include "web_int.h"

#include "case_edit.h"
#include "case_step.h"
#include "log.h"

#include <microhttpd.h>
#include <sodium.h>

#include <stdlib.h>
#include <string.h>

/* ---- shared checks ----------------------------------------------------- */

/* A session is needed; says 401 when there is none. */
static int need_session(struct web_req *r, struct web_out *o)
{
	if (r->s)
		return 1;
	web_out_error(o, MHD_HTTP_UNAUTHORIZED, "login",
		      "not logged in (请先登录)");
	return 0;
}

/* A POST that changes something: the session's CSRF token in the
 * X-CSRF-Token header, and a role at least 'min'. */
static int need_change(struct web_req *r, struct web_out *o, int min)
{
	if (!need_session(r, o))
		return 0;
	if (!web_csrf_ok(r->s, r->csrf)) {
		web_out_error(o, MHD_HTTP_FORBIDDEN, "csrf",
			      "missing or wrong X-CSRF-Token");
		return 0;
	}
	if (r->s->role < min) {
		web_out_error(o, MHD_HTTP_FORBIDDEN, "role",
			      "account role %s may not do this (需要 %s 权限)",
			      users_role_name(r->s->role),
			      users_role_label(min));
		return 0;
	}
	return 1;
}

static int decode(struct web_req *r, struct web_out *o,
		  const struct web_in_spec *spec, size_t n, struct web_in *in)
{
	char why[WEB_IN_WHY];
	if (web_in_decode(r->body ? r->body : "", r->nbody, spec, n, in, why) ==
	    WH_OK)
		return 1;
	web_out_error(o, MHD_HTTP_BAD_REQUEST, "invalid", "%s", why);
	return 0;
}

/* After shared CLI code refused: its message, as 400 (a bad value) or
 * 409 (the case, the role or the store said no). */
static void refused(struct web_out *o, const struct cli_sink *sink, int rc)
{
	const char *msg = sink->msg[0] ? sink->msg : "refused";
	/* the CLI's words name options as --level; the page names fields */
	if (rc == CLI_USAGE)
		web_out_error(o, MHD_HTTP_BAD_REQUEST, "invalid", "%s", msg);
	else
		web_out_error(o, MHD_HTTP_CONFLICT, "refused", "%s", msg);
}

/* The change reached the op log: push it to the peers this turn rather
 * than at the next poll of the log. */
static void changed(struct web_req *r)
{
	r->w->a->log_dirty = 1;
}

static void answer_id(struct web_out *o, unsigned status, const char *code,
		      uint32_t seq, const char *msg)
{
	char id[WH_CASE_ID_MAX];
	wh_case_id_format(code, seq, id);
	struct json j;
	web_out_json(o, status, &j);
	json_obj(&j);
	json_kstr(&j, "id", id);
	json_kstr(&j, "message", msg);
	json_obj_end(&j);
	json_end(&j);
}

/* ---- login, logout, me ------------------------------------------------- */

static void login(struct web_req *r, struct web_out *o)
{
	struct web_in in;
	struct web *w = r->w;
	if (!decode(r, o, web_spec_login, web_spec_login_n, &in)) {
		web_in_fini(&in);
		return;
	}
	const char *user = web_in_get(&in, "user");
	const char *pw = web_in_get(&in, "password");
	const char *shown = users_name_valid(user) ? user : "(not a name)";
	uint64_t now = agent_mono_ms(), retry;
	if (web_auth_limited(&w->auth, user, r->addr, now, &retry)) {
		o->retry_after = (unsigned)((retry + 999) / 1000);
		web_out_error(o, MHD_HTTP_TOO_MANY_REQUESTS, "rate_limited",
			      "too many failed logins; try again in %u "
			      "minutes (登录失败次数过多)",
			      (o->retry_after + 59) / 60);
		log_warn("web console: login for '%s' from %s refused: too "
			 "many failures",
			 shown, r->addr);
		web_in_fini(&in);
		return;
	}
	const struct users *u = web_users(w);
	if (!u) {
		web_out_error(o, MHD_HTTP_SERVICE_UNAVAILABLE, "accounts",
			      "the accounts file does not parse; see the "
			      "agent's log");
		web_in_fini(&in);
		return;
	}
	const struct users_entry *e = users_find(u, user);
	if (!users_verify(e, pw, strlen(pw))) {
		web_auth_failed(&w->auth, user, r->addr, now);
		log_warn("web console: failed login for '%s' from %s", shown,
			 r->addr);
		web_out_error(o, MHD_HTTP_UNAUTHORIZED, "bad_login",
			      "wrong name or password (用户名或密码错误)");
		web_in_fini(&in);
		return;
	}
	web_auth_succeeded(&w->auth, user);
	if (r->s) /* a new login never keeps an old session's cookie */
		web_session_end(r->s);
	char cookie[WEB_TOKEN_HEX + 1];
	struct web_session *s =
	    web_session_new(&w->auth, e->name, e->role, now, cookie);
	snprintf(o->cookie, sizeof o->cookie,
		 "wh_session=%s; Path=/; HttpOnly; SameSite=Strict; "
		 "Max-Age=%u",
		 cookie, WEB_LIFE_MS / 1000);
	sodium_memzero(cookie, sizeof cookie);
	log_info("web console: %s logged in from %s", e->name, r->addr);
	struct json j;
	web_out_json(o, MHD_HTTP_OK, &j);
	json_obj(&j);
	json_kstr(&j, "user", s->user);
	json_kstr(&j, "role", users_role_name(s->role));
	json_kstr(&j, "role_label", users_role_label(s->role));
	json_kstr(&j, "csrf", s->csrf);
	json_obj_end(&j);
	json_end(&j);
	web_in_fini(&in);
}

static void logout(struct web_req *r, struct web_out *o)
{
	if (!need_change(r, o, USERS_VIEWER))
		return;
	web_session_end(r->s);
	r->s = NULL;
	snprintf(o->cookie, sizeof o->cookie,
		 "wh_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
	struct json j;
	web_out_json(o, MHD_HTTP_OK, &j);
	json_obj(&j);
	json_kbool(&j, "logged_out", 1);
	json_obj_end(&j);
	json_end(&j);
}

static void me(struct web_req *r, struct web_out *o)
{
	if (!need_session(r, o))
		return;
	struct json j;
	web_out_json(o, MHD_HTTP_OK, &j);
	json_obj(&j);
	json_kstr(&j, "user", r->s->user);
	json_kstr(&j, "role", users_role_name(r->s->role));
	json_kstr(&j, "role_label", users_role_label(r->s->role));
	json_kstr(&j, "csrf", r->s->csrf);
	json_key(&j, "may");
	json_obj(&j);
	json_kbool(&j, "create", r->s->role >= USERS_CLERK);
	json_kbool(&j, "note", r->s->role >= USERS_CLERK);
	json_kbool(&j, "sync", r->s->role >= USERS_CLERK);
	json_kbool(&j, "steps", r->s->role >= USERS_STAFF);
	json_obj_end(&j);
	json_obj_end(&j);
	json_end(&j);
}

/* ---- changes ----------------------------------------------------------- */

static void case_new(struct web_req *r, struct web_out *o)
{
	struct cli *c = r->w->c;
	struct web_in in;
	struct cw_edit e;
	struct cli_sink sink = {"", 0};
	if (!need_change(r, o, USERS_CLERK))
		return;
	if (!decode(r, o, web_spec_case, web_spec_case_n, &in)) {
		web_in_fini(&in);
		return;
	}
	cw_edit_init(&e, 16);
	c->sink = &sink;
	int rc = CLI_OK;
	for (size_t i = 0; i < in.n && rc == CLI_OK; i++) {
		const char *name =
		    !strcmp(in.name[i], "tags") ? "tag" : in.name[i];
		/* an empty field is one not filled in, as in the form */
		if (!*in.val[i] && strcmp(name, "title"))
			continue;
		rc = cw_edit_opt(c, &e, CW_IN_NEW, name, in.val[i]);
	}
	if (rc == CLI_OK)
		rc = cw_edit_done(c, &e);
	uint32_t seq = 0;
	if (rc == CLI_OK)
		rc = cw_case_create(c, &e, &seq);
	c->sink = NULL;
	if (rc != CLI_OK) {
		refused(o, &sink, rc);
	} else {
		changed(r);
		log_info("web console: %s took in case %s-%06u", r->s->user,
			 c->conf.code, (unsigned)seq);
		answer_id(o, MHD_HTTP_CREATED, c->conf.code, seq, "");
	}
	cw_edit_fini(&e);
	web_in_fini(&in);
}

/* Steps of the loop by name, with the op kind, the fields each takes
 * (JSON key = option name, but report_step, report_within and
 * resolve_within) and the role an account needs. */
static const struct stepdef {
	const char *name;
	uint8_t kind; /* 0: note or status, done apart */
	int supervise;
	const char *fields[8];
} steps[] = {
    {"triage", WH_OP_TRIAGE, 0, {"level", "reason"}},
    {"whistle",
     WH_OP_WHISTLE,
     0,
     {"dept", "lead", "kind", "as", "report_within", "resolve_within", "text"}},
    {"supervise",
     WH_OP_WHISTLE,
     1,
     {"dept", "as", "report_within", "resolve_within", "text"}},
    {"report", WH_OP_REPORT, 0, {"dept", "report_step", "text"}},
    {"feedback", WH_OP_FEEDBACK, 0, {"text", "channel"}},
    {"rate", WH_OP_RATE, 0, {"score", "dept", "comment"}},
    {"reopen", WH_OP_CASE_STATUS, 0, {"by", "reason"}},
    {"note", 0, 0, {"text"}},
    {"status", 0, 0, {"status"}},
};

static const char *opt_name(const char *key)
{
	if (!strcmp(key, "report_step"))
		return "step";
	if (!strcmp(key, "report_within"))
		return "report-within";
	if (!strcmp(key, "resolve_within"))
		return "resolve-within";
	return key;
}

static int step_takes(const struct stepdef *d, const char *key)
{
	for (int i = 0; i < 8 && d->fields[i]; i++)
		if (!strcmp(d->fields[i], key))
			return 1;
	return 0;
}

static void case_step(struct web_req *r, struct web_out *o, const char *code,
		      uint32_t seq)
{
	struct cli *c = r->w->c;
	struct web_in in;
	if (!need_change(r, o, USERS_CLERK))
		return;
	if (!decode(r, o, web_spec_step, web_spec_step_n, &in)) {
		web_in_fini(&in);
		return;
	}
	const char *name = web_in_get(&in, "step");
	const struct stepdef *d = NULL;
	for (size_t i = 0; i < sizeof steps / sizeof steps[0] && !d; i++)
		if (!strcmp(steps[i].name, name))
			d = &steps[i];
	if (!d) {
		web_out_error(o, MHD_HTTP_BAD_REQUEST, "invalid",
			      "'step': not one of triage, whistle, supervise, "
			      "report, feedback, rate, reopen, note, status");
		web_in_fini(&in);
		return;
	}
	if (strcmp(d->name, "note") && r->s->role < USERS_STAFF) {
		web_out_error(o, MHD_HTTP_FORBIDDEN, "role",
			      "account role %s may not take loop steps "
			      "(需要 办理 权限)",
			      users_role_name(r->s->role));
		web_in_fini(&in);
		return;
	}
	for (size_t i = 0; i < in.n; i++)
		if (strcmp(in.name[i], "step") && !step_takes(d, in.name[i])) {
			web_out_error(o, MHD_HTTP_BAD_REQUEST, "invalid",
				      "'%s' does not go with step %s",
				      in.name[i], d->name);
			web_in_fini(&in);
			return;
		}
	struct wh_case v;
	int grc = wh_store_case_get(c->store, code, seq, &v);
	if (grc != WH_OK) {
		char id[WH_CASE_ID_MAX];
		wh_case_id_format(code, seq, id);
		if (grc == WH_ENOTFOUND)
			web_out_error(o, MHD_HTTP_NOT_FOUND, "not_found",
				      "no case %s", id);
		else
			web_out_error(o, MHD_HTTP_INTERNAL_SERVER_ERROR,
				      "store", "%s: %s", id, wh_strerror(grc));
		web_in_fini(&in);
		return;
	}
	wh_case_fini(&v);
	char id[WH_CASE_ID_MAX], msg[CW_MSG_MAX] = "";
	wh_case_id_format(code, seq, id);
	struct cli_sink sink = {"", 0};
	c->sink = &sink;
	int rc = CLI_OK;
	if (!strcmp(d->name, "note")) {
		const char *t = web_in_get(&in, "text");
		if (!t || !*t)
			rc = cli_usage(c, "'text' is required");
		if (rc == CLI_OK)
			rc = cw_probe_str(c, "text", WH_OP_CASE_NOTE, WH_F_TEXT,
					  t);
		if (rc == CLI_OK)
			rc = cw_case_note(c, id, code, seq, t);
		snprintf(msg, sizeof msg, "备注已添加 note added");
	} else if (!strcmp(d->name, "status")) {
		struct cw_edit e;
		cw_edit_init(&e, 0);
		e.id = id;
		const char *st = web_in_get(&in, "status");
		rc = st ? cw_edit_opt(c, &e, CW_IN_SET, "status", st)
			: cli_usage(c, "'status' is required");
		char m[256] = "";
		if (rc == CLI_OK)
			rc = cw_case_set(c, &e, code, seq, m);
		snprintf(msg, sizeof msg, "%s", m);
		cw_edit_fini(&e);
	} else {
		struct cw_step s;
		cw_step_init(&s, d->kind);
		s.supervise = d->supervise;
		s.id = id;
		snprintf(s.code, sizeof s.code, "%s", code);
		s.seq = seq;
		for (size_t i = 0; i < in.n && rc == CLI_OK; i++) {
			if (!strcmp(in.name[i], "step"))
				continue;
			int which = 0;
			while (strcmp(web_spec_step[which].key, in.name[i]))
				which++;
			rc = cw_step_opt(c, &s, opt_name(in.name[i]), which,
					 in.val[i]);
		}
		if (rc == CLI_OK)
			rc = cw_step_check(c, &s);
		if (rc == CLI_OK)
			rc = cw_step_run(c, &s, 0);
		snprintf(msg, sizeof msg, "%s", s.msg);
		cw_step_fini(&s);
	}
	c->sink = NULL;
	if (rc != CLI_OK) {
		refused(o, &sink, rc);
	} else {
		changed(r);
		log_info("web console: %s: %s %s: %s", r->s->user, d->name, id,
			 msg);
		answer_id(o, MHD_HTTP_OK, code, seq, msg);
	}
	web_in_fini(&in);
}

static void sync_now(struct web_req *r, struct web_out *o)
{
	if (!need_change(r, o, USERS_CLERK))
		return;
	size_t up = wh_net_sync_now(r->w->a->net);
	log_info("web console: %s asked for a sync now (%zu link%s up)",
		 r->s->user, up, up == 1 ? "" : "s");
	struct json j;
	web_out_json(o, MHD_HTTP_ACCEPTED, &j);
	json_obj(&j);
	json_kuint(&j, "links_up", up);
	json_obj_end(&j);
	json_end(&j);
}

/* ---- routing ----------------------------------------------------------- */

void web_api(struct web_req *r, struct web_out *o)
{
	const char *u = r->url + 5; /* after "/api/" */
	int post = !strcmp(r->method, "POST");
	static const struct {
		const char *path;
		void (*get)(struct web_req *, struct web_out *);
		void (*post)(struct web_req *, struct web_out *);
	} routes[] = {
	    {"login", NULL, login},
	    {"logout", NULL, logout},
	    {"me", me, NULL},
	    {"status", web_view_status, NULL},
	    {"options", web_view_options, NULL},
	    {"cases", web_view_cases, case_new},
	    {"sync", web_view_sync, sync_now},
	};
	for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		if (strcmp(u, routes[i].path))
			continue;
		void (*fn)(struct web_req *, struct web_out *) =
		    post ? routes[i].post : routes[i].get;
		if (!fn) {
			web_out_error(o, MHD_HTTP_METHOD_NOT_ALLOWED, "method",
				      "%s does not take %s", r->url, r->method);
			return;
		}
		/* login is the one door without a session: the others
		 * check it in need_session / need_change */
		if (fn != login && !post && !need_session(r, o))
			return;
		fn(r, o);
		return;
	}
	/* cases/ID and cases/ID/steps */
	if (!strncmp(u, "cases/", 6)) {
		char idtxt[WH_CASE_ID_MAX + 1], code[WH_CODE_MAX + 1];
		const char *p = u + 6, *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		uint32_t seq;
		if (n > WH_CASE_ID_MAX - 1)
			n = WH_CASE_ID_MAX; /* parse refuses it */
		memcpy(idtxt, p, n);
		idtxt[n] = '\0';
		int steps_url = slash && !strcmp(slash, "/steps");
		if (!slash || steps_url) {
			if (!need_session(r, o))
				return;
			if (wh_case_id_parse(idtxt, code, &seq) != WH_OK) {
				web_out_error(o, MHD_HTTP_NOT_FOUND,
					      "not_found", "not a case id");
				return;
			}
			if (steps_url && post)
				case_step(r, o, code, seq);
			else if (!steps_url && !post)
				web_view_case(r, o, code, seq);
			else
				web_out_error(o, MHD_HTTP_METHOD_NOT_ALLOWED,
					      "method", "%s does not take %s",
					      r->url, r->method);
			return;
		}
	}
	if (!need_session(r, o)) /* no answer says what exists */
		return;
	web_out_error(o, MHD_HTTP_NOT_FOUND, "not_found", "no such endpoint");
}
