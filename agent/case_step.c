/*
 * case_step.c: one step of the whistle-and-report loop, checked and
 * taken (case_step.h). Shared by the `case` commands (cmd_case_loop.c)
 * and the web console (web_api.c); nothing here prints.
 *
 * Every step runs the same way (cw_step_run):
 *   1. the op is trial-built with a throwaway key, placeholders where
 *      the home and the view will put values, so a limit of the op
 *      format is a usage error before anything is read;
 *   2. the role table (roles.c) says whether this station may take the
 *      step;
 *   3. the case's view is read, the op built as it will be signed (SEEN
 *      = the view's fold position), decoded and put to wh_flow_check,
 *      the question every replica's fold asks of it: a step the fold
 *      would ignore is refused with the fold's own reason;
 *   4. it is authored in one store transaction (reopen: with its note;
 *      a whistle: with a keys op giving the case key to the departments
 *      it summons, when this station can open it, cli_seal.h).
 * A refused step writes nothing.
 */
#include "case_step.h"
#include "cli_problems.h"
#include "cli_seal.h"
#include "mp.h"

#include <stdlib.h>
#include <string.h>

#define NOTE_PREFIX_MAX 64 /* bytes reopen_note puts before the reason */

void cw_step_init(struct cw_step *s, uint8_t kind)
{
	memset(s, 0, sizeof *s);
	s->kind = kind;
	s->level = s->wkind = s->whistler = s->stepno = s->channel = -1;
	s->score = s->by = -1;
}

void cw_step_fini(struct cw_step *s)
{
	wh_buf_fini(&s->enc);
	free(s->note);
	s->note = NULL;
	wh_problem_entry_fini(&s->pe);
}

int cw_step_case(const struct cli *c, struct cw_step *s, const char *id)
{
	s->id = id;
	return cli_parse_case_id(c, id, s->code, &s->seq);
}

/* ---- values --------------------------------------------------------- */

static int enum_arg(const struct cli *c, const char *opt, const char *v,
		    int (*parse)(const char *), const char *(*name)(unsigned),
		    const char *(*label)(unsigned), int *out)
{
	if ((*out = parse(v)) >= 0)
		return CLI_OK;
	char list[256] = "";
	for (unsigned i = 0; name(i); i++) {
		size_t n = strlen(list);
		snprintf(list + n, sizeof list - n, "%s%s%s%s%s", i ? ", " : "",
			 name(i), label ? " (" : "", label ? label(i) : "",
			 label ? ")" : "");
	}
	return cli_usage(c, "--%s '%s': not one of %s", opt, v, list);
}

static int by_parse(const char *s)
{
	if (!strcmp(s, "resident") || !strcmp(s, "居民"))
		return 0;
	if (!strcmp(s, "street") || !strcmp(s, "街道"))
		return 1;
	return -1;
}
static const char *by_name(unsigned v)
{
	return v == 0 ? "resident" : v == 1 ? "street" : NULL;
}
static const char *by_label(unsigned v)
{
	return v == 0 ? "居民" : v == 1 ? "街道" : NULL;
}

/*
 * A time limit: whole numbers of days, hours and minutes in that order,
 * each at most once ("30m", "2h", "7d", "1d12h", "2h30m"); more than
 * zero and at most WH_FLOW_MAX_LIMIT_MS. Strict: "2", "2H", "-1h" and
 * "1.5h" are refused with the value named, never guessed at.
 */
static int duration_arg(const struct cli *c, const char *opt, const char *v,
			uint64_t *out)
{
	static const struct {
		char unit;
		uint64_t ms;
	} units[] = {{'d', 86400000u}, {'h', 3600000u}, {'m', 60000u}};
	const char *p = v;
	size_t next = 0;
	uint64_t total = 0;
	int bad = !*p;
	while (*p && !bad) {
		uint64_t n = 0;
		if (*p < '0' || *p > '9')
			bad = 1;
		/* 400 days of minutes has 6 digits: 9 is past any limit */
		for (int digits = 0; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 9)
				n = n * 10 + (uint64_t)(*p - '0');
			else
				total = WH_FLOW_MAX_LIMIT_MS + 1;
		size_t k = next;
		while (k < 3 && units[k].unit != *p)
			k++;
		if (bad || k == 3) {
			bad = 1;
			break;
		}
		total += n * units[k].ms;
		next = k + 1;
		p++;
	}
	if (bad)
		return cli_usage(c,
				 "--%s '%s': not a duration (whole days, "
				 "hours, minutes: 30m, 2h, 7d, 1d12h)",
				 opt, v);
	if (total == 0)
		return cli_usage(c,
				 "--%s '%s': a limit must be more than "
				 "zero",
				 opt, v);
	if (total > WH_FLOW_MAX_LIMIT_MS)
		return cli_usage(c,
				 "--%s '%s': longer than the longest limit "
				 "(366d)",
				 opt, v);
	*out = total;
	return CLI_OK;
}

static int dept_arg(const struct cli *c, const char *opt, const char *v)
{
	if (!*v)
		return cli_usage(c, "--%s: empty department name", opt);
	if (strlen(v) > WH_DEPT_MAX)
		return cli_usage(c, "--%s '%s': too long (at most %u bytes)",
				 opt, v, WH_DEPT_MAX);
	return CLI_OK;
}

/* One option's value into s. Options are named as on the command line;
 * 'which' indexes the command's table (for "given twice"). */
int cw_step_opt(const struct cli *c, struct cw_step *s, const char *name,
		int which, const char *v)
{
	int multi = !strcmp(name, "dept") && s->kind == WH_OP_WHISTLE;
	if (!multi && (s->given & (1u << which)))
		return cli_usage(c, "--%s given twice", name);
	s->given |= 1u << which;
	if (!strcmp(name, "level"))
		return enum_arg(c, name, v, wh_level_parse, wh_level_name,
				wh_level_label, &s->level);
	if (!strcmp(name, "kind"))
		return enum_arg(c, name, v, wh_wkind_parse, wh_wkind_name,
				wh_wkind_label, &s->wkind);
	if (!strcmp(name, "as"))
		return enum_arg(c, name, v, wh_whistler_parse, wh_whistler_name,
				wh_whistler_label, &s->whistler);
	if (!strcmp(name, "step"))
		return enum_arg(c, name, v, wh_step_parse, wh_step_name,
				wh_step_label, &s->stepno);
	if (!strcmp(name, "channel"))
		return enum_arg(c, name, v, wh_channel_parse, wh_channel_name,
				NULL, &s->channel);
	if (!strcmp(name, "by"))
		return enum_arg(c, name, v, by_parse, by_name, by_label,
				&s->by);
	if (!strcmp(name, "report-within"))
		return duration_arg(c, name, v, &s->report_ms);
	if (!strcmp(name, "resolve-within"))
		return duration_arg(c, name, v, &s->resolve_ms);
	if (!strcmp(name, "score")) {
		if (v[0] < '1' || v[0] > '5' || v[1])
			return cli_usage(c,
					 "--score '%s': a whole number "
					 "from 1 to 5",
					 v);
		s->score = v[0] - '0';
		return CLI_OK;
	}
	if (!strcmp(name, "lead")) {
		s->lead = v;
		return dept_arg(c, name, v);
	}
	if (multi) {
		for (unsigned i = 0; i < s->ndepts; i++)
			if (!strcmp(s->depts[i], v))
				return cli_usage(c, "--dept '%s' given twice",
						 v);
		if (s->ndepts == WH_FLOW_MAX_DEPTS)
			return cli_usage(c,
					 "at most %d departments in one "
					 "whistle",
					 WH_FLOW_MAX_DEPTS);
		s->depts[s->ndepts++] = v;
		return dept_arg(c, name, v);
	}
	if (!strcmp(name, "dept")) {
		s->dept = v;
		return dept_arg(c, name, v);
	}
	/* --text, --reason, --comment: the op's text; a reopen's reason
	 * shares its note with a short prefix (reopen_note) */
	size_t max = (size_t)wh_field_max(WH_F_TEXT) -
		     (s->kind == WH_OP_CASE_STATUS ? NOTE_PREFIX_MAX : 0);
	if (!*v)
		return cli_usage(c, "--%s: empty text", name);
	if (strlen(v) > max)
		return cli_usage(c, "--%s: too long (%zu bytes, at most %zu)",
				 name, strlen(v), max);
	s->text = v;
	return CLI_OK;
}

/* ---- the op --------------------------------------------------------- */

/* The step's fields into d (SEEN apart). Strings stay borrowed from s. */
static void fill(struct cw_step *s, struct wh_op_draft *d)
{
	if (s->text && s->kind != WH_OP_CASE_STATUS)
		wh_draft_str(d, WH_F_TEXT, s->text);
	switch (s->kind) {
	case WH_OP_TRIAGE:
		wh_draft_uint(d, WH_F_LEVEL, (uint64_t)s->level);
		break;
	case WH_OP_WHISTLE:
		wh_draft_uint(d, WH_F_WKIND, (uint64_t)s->wkind);
		wh_draft_uint(d, WH_F_WHISTLER, (uint64_t)s->whistler);
		wh_buf_reset(&s->enc);
		for (unsigned i = 0; i < s->ndepts; i++)
			wh_mpw_cstr(&s->enc, s->depts[i]);
		if (s->ndepts)
			wh_draft_array(d, WH_F_DEPTS, s->enc.p, s->enc.len,
				       s->ndepts);
		if (s->lead)
			wh_draft_str(d, WH_F_LEAD, s->lead);
		if (s->report_ms)
			wh_draft_uint(d, WH_F_REPORT_MS, s->report_ms);
		if (s->resolve_ms)
			wh_draft_uint(d, WH_F_RESOLVE_MS, s->resolve_ms);
		break;
	case WH_OP_REPORT:
		wh_draft_str(d, WH_F_DEPT, s->dept);
		wh_draft_uint(d, WH_F_STEP, (uint64_t)s->stepno);
		break;
	case WH_OP_FEEDBACK:
		if (s->channel >= 0)
			wh_draft_uint(d, WH_F_CHANNEL, (uint64_t)s->channel);
		break;
	case WH_OP_RATE:
		wh_draft_uint(d, WH_F_RATER,
			      s->dept ? WH_RATER_STREET : WH_RATER_RESIDENT);
		wh_draft_uint(d, WH_F_SCORE, (uint64_t)s->score);
		if (s->dept)
			wh_draft_str(d, WH_F_DEPT, s->dept);
		break;
	default:
		break;
	}
}

/* The reopen's note: who asked, and why. */
static const char *reopen_note(struct cw_step *s)
{
	size_t n = strlen(s->text) + NOTE_PREFIX_MAX;
	free(s->note);
	s->note = wh_xmalloc(n);
	snprintf(s->note, n, "重启 (%s %s): %s", by_label((unsigned)s->by),
		 by_name((unsigned)s->by), s->text);
	return s->note;
}

/* Drafts of the step for case (code, seq, path) as seen at 'seen'. */
static size_t drafts(struct cw_step *s, const char *code, uint32_t seq,
		     const char *path, wh_hlc_ts seen, unsigned from,
		     struct wh_op_draft d[2])
{
	if (s->kind != WH_OP_CASE_STATUS) {
		wh_draft_init(&d[0], s->kind, code, seq, path);
		wh_draft_uint(&d[0], WH_F_SEEN, seen);
		fill(s, &d[0]);
		return 1;
	}
	wh_draft_init(&d[0], WH_OP_CASE_STATUS, code, seq, path);
	wh_draft_uint(&d[0], WH_F_TO, WH_ST_REOPENED);
	wh_draft_uint(&d[0], WH_F_FROM, from);
	if (!s->text)
		return 1;
	wh_draft_init(&d[1], WH_OP_CASE_NOTE, code, seq, path);
	wh_draft_str(&d[1], WH_F_TEXT, reopen_note(s));
	return 2;
}

/*
 * Ask the fold's question before signing: the op as it will be (this
 * station's key, SEEN of the view we read; only the stamp differs, and no
 * rule reads it), decoded like any received op, checked against the view
 * by wh_flow_check. Exit 1 with the fold's reason if it would be ignored.
 */
static int fold_check(struct cli *c, const struct cw_step *s,
		      const struct wh_case *v, const struct wh_op_draft *d)
{
	struct wh_op_draft t = *d;
	struct wh_buf b = {0};
	struct wh_op op;
	t.hlc = v->last_hlc + 1;
	int rc = wh_op_build(&t, c->key, &b);
	if (rc == WH_OK)
		rc = wh_op_decode(b.p, b.len, &op);
	if (rc != WH_OK) {
		wh_buf_fini(&b);
		return cli_store_err(c, s->id, rc);
	}
	const char *why = NULL;
	rc = wh_flow_check(v, &op, &why);
	wh_buf_fini(&b);
	if (rc != WH_OK)
		return cli_fail(c, "%s: %s", s->id,
				why ? why : wh_strerror(rc));
	return CLI_OK;
}

/* Which row of the role table the step is. */
static enum cli_step role_step(const struct cw_step *s)
{
	switch (s->kind) {
	case WH_OP_TRIAGE:
		return CLI_STEP_TRIAGE;
	case WH_OP_WHISTLE:
		return s->whistler == WH_WHISTLER_ALLEY ? CLI_STEP_WHISTLE_ALLEY
		       : s->whistler == WH_WHISTLER_COMMUNITY
			   ? CLI_STEP_WHISTLE_COMMUNITY
			   : CLI_STEP_WHISTLE_STREET;
	case WH_OP_REPORT:
		return CLI_STEP_REPORT;
	case WH_OP_FEEDBACK:
		return CLI_STEP_FEEDBACK;
	case WH_OP_RATE:
		return s->dept ? CLI_STEP_RATE_DEPT : CLI_STEP_RATE_RESIDENT;
	default:
		return s->by == 1 ? CLI_STEP_REOPEN_STREET
				  : CLI_STEP_REOPEN_RESIDENT;
	}
}

/* The one-line answer, from the step and the view it was taken on. */
static void describe(struct cw_step *s, const struct wh_case *v)
{
	char *m = s->msg;
	size_t n;
	switch (s->kind) {
	case WH_OP_TRIAGE:
		snprintf(m, CW_MSG_MAX, "分流 %s (%s)",
			 wh_level_label((unsigned)s->level),
			 wh_level_name((unsigned)s->level));
		return;
	case WH_OP_WHISTLE:
		snprintf(m, CW_MSG_MAX, "%s (%s), %s",
			 wh_wkind_label((unsigned)s->wkind),
			 wh_wkind_name((unsigned)s->wkind),
			 wh_whistler_label((unsigned)s->whistler));
		for (unsigned i = 0; i < s->ndepts; i++) {
			n = strlen(m);
			snprintf(m + n, CW_MSG_MAX - n, "%s%s%s",
				 i ? ", " : " → ", s->depts[i],
				 s->lead && !strcmp(s->lead, s->depts[i])
				     ? " (牵头)"
				     : "");
		}
		return;
	case WH_OP_REPORT: {
		const struct wh_summons *sm = wh_flow_summons(v, s->dept);
		snprintf(m, CW_MSG_MAX, "%s %s (%s)%s", s->dept,
			 wh_step_label((unsigned)s->stepno),
			 wh_step_name((unsigned)s->stepno),
			 sm && sm->lead && s->stepno == WH_STEP_RESOLVE
			     ? "; 牵头部门办结, 案件已解决 (case resolved)"
			     : "");
		return;
	}
	case WH_OP_FEEDBACK:
		snprintf(m, CW_MSG_MAX, "结果反馈已记录 (feedback%s%s)",
			 s->channel >= 0 ? ", " : "",
			 s->channel >= 0 ? wh_channel_name((unsigned)s->channel)
					 : "");
		return;
	case WH_OP_RATE:
		if (s->dept)
			snprintf(m, CW_MSG_MAX, "下评上 %s %d/5", s->dept,
				 s->score);
		else
			snprintf(m, CW_MSG_MAX, "民评官 居民评价 %d/5",
				 s->score);
		return;
	default:
		/* rounds count from 1 for people (JSON has the 0-based
		 * round of the view) */
		snprintf(
		    m, CW_MSG_MAX, "%s → %s (第 %u 轮 round %u)",
		    wh_status_label(v->status), wh_status_label(WH_ST_REOPENED),
		    (unsigned)v->flow.round + 2, (unsigned)v->flow.round + 2);
	}
}

/* Steps 2-4 for a step whose arguments passed (see the file header). */
/* A whistle without --dept takes the departments, the lead and the
 * limits the problem list (问题清单) gives for the case's category;
 * --lead and the limits given still win. */
static int list_defaults(struct cli *c, struct cw_step *s,
			 const struct wh_case *v)
{
	if (!v->category)
		return cli_fail(c,
				"%s: no --dept given and the case has no "
				"category to look up in the problem list",
				s->id);
	int rc = cli_problem_lookup(c, v->path ? v->path : c->conf.path,
				    v->category, &s->pe);
	if (rc == WH_ENOTFOUND)
		return cli_fail(c,
				"%s: no --dept given and the problem list "
				"has no entry for %s (问题清单无此类别)",
				s->id, v->category);
	if (rc)
		return cli_store_err(c, s->id, rc);
	for (uint32_t i = 0; i < s->pe.ndepts && s->ndepts < WH_FLOW_MAX_DEPTS;
	     i++)
		s->depts[s->ndepts++] = s->pe.depts[i];
	int in = 0;
	for (unsigned i = 0; i < s->ndepts && !in; i++)
		in = !strcmp(s->depts[i], s->pe.lead);
	if (!in && s->ndepts < WH_FLOW_MAX_DEPTS)
		s->depts[s->ndepts++] = s->pe.lead;
	if (!s->lead)
		s->lead = s->pe.lead;
	in = 0;
	for (unsigned i = 0; i < s->ndepts && !in; i++)
		in = !strcmp(s->depts[i], s->lead);
	if (!in)
		return cli_usage(c,
				 "--lead '%s' is not among the list's "
				 "departments for %s",
				 s->lead, v->category);
	if (!s->report_ms)
		s->report_ms = s->pe.report_ms;
	if (!s->resolve_ms)
		s->resolve_ms = s->pe.resolve_ms;
	return CLI_OK;
}

/* A whistle summons departments: those that may read the case's
 * personal data get its key, in an envelope and a keys op authored with
 * the whistle, when this station can open the key (else the data stays
 * with those who can; one of them may 'case reseal' later). */
static int share_key(struct cli *c, const struct cw_step *s,
		     const struct wh_case *v, struct cli_share *share,
		     struct wh_op_draft *d, size_t *nd)
{
	size_t added = 0;
	int readable = 0;
	int rc = cli_seal_share_case(c, v, s->depts, s->ndepts, share, d,
				     &added, &readable);
	if (rc)
		return cli_fail(c, "%s: sharing the case key: %s", s->id,
				wh_strerror(rc));
	*nd += added ? 1 : 0;
	return CLI_OK;
}

static int take(struct cli *c, struct cw_step *s, struct wh_case *v, int dry)
{
	const char *why = NULL;
	if (s->kind == WH_OP_REPORT && !s->dept && c->conf.department[0])
		s->dept = c->conf.department;
	if (s->kind == WH_OP_WHISTLE && s->whistler < 0)
		s->whistler = (int)cli_role_whistler(c->conf.role);
	if (cli_role_may(&c->conf, role_step(s), s->dept, &why) != WH_OK)
		return cli_fail(c, "%s: %s (role %s)", s->id, why,
				c->conf.role);
	if (s->kind == WH_OP_REPORT && !s->dept)
		return cli_usage(c, "--dept is required");
	int rc = cli_case_load(c, s->code, s->seq, v);
	if (rc)
		return rc;
	if (s->kind == WH_OP_WHISTLE && s->wkind != WH_WK_SUPERVISE &&
	    !s->ndepts && (rc = list_defaults(c, s, v)))
		return rc;
	unsigned from = v->status;
	if (s->kind == WH_OP_CASE_STATUS &&
	    (!wh_status_allowed(from, WH_ST_REOPENED) ||
	     wh_flow_status_check(v, WH_ST_REOPENED, &why) != WH_OK))
		return cli_fail(c,
				"%s: cannot reopen a case that is %s (%s)%s%s",
				s->id, wh_status_label(from),
				wh_status_name(from), why ? ": " : "",
				why ? why
				    : "; only a resolved, closed or "
				      "cancelled case reopens");
	struct wh_op_draft d[3];
	struct cli_share share;
	size_t nd = drafts(s, s->code, s->seq, v->path ? v->path : c->conf.path,
			   v->last_hlc, from, d);
	if (s->kind != WH_OP_CASE_STATUS && (rc = fold_check(c, s, v, &d[0])))
		return rc;
	if (dry)
		return CLI_OK;
	if (s->kind == WH_OP_WHISTLE &&
	    (rc = share_key(c, s, v, &share, &d[nd], &nd)))
		return rc;
	describe(s, v);
	rc = wh_store_author(c->store, c->key, d, nd, wh_clock_realtime, NULL,
			     NULL, NULL);
	if (rc != WH_OK)
		return cli_store_err(c, s->id, rc);
	return CLI_OK;
}

int cw_step_probe(const struct cli *c, struct cw_step *s)
{
	/* Placeholders where the home and the view will put values (a
	 * placeholder never fails where the real value would pass). */
	struct wh_op_draft d[2];
	int whistler = s->whistler;
	const char *dept = s->dept;
	if (s->whistler < 0)
		s->whistler = WH_WHISTLER_STREET;
	if (s->kind == WH_OP_REPORT && !dept)
		s->dept = "X";
	size_t nd = drafts(s, "X", 1, "x", 1, WH_ST_RESOLVED, d);
	int rc = cli_probe_drafts(d, nd);
	s->whistler = whistler;
	s->dept = dept;
	if (rc != WH_OK)
		return cli_store_err(c, s->id, rc);
	return CLI_OK;
}

int cw_step_run(struct cli *c, struct cw_step *s, int dry)
{
	int rc = cw_step_probe(c, s);
	if (rc)
		return rc;
	struct wh_case v;
	memset(&v, 0, sizeof v);
	rc = take(c, s, &v, dry);
	wh_case_fini(&v); /* zeroed or loaded: either is safe */
	return rc;
}

/* What the values alone must satisfy, per kind. */
static int check_whistle(const struct cli *c, struct cw_step *s)
{
	if (s->supervise) {
		if (s->wkind >= 0)
			return cli_usage(c,
					 "--kind: supervise is always 监督哨");
		s->wkind = WH_WK_SUPERVISE;
	}
	if (s->wkind < 0)
		s->wkind = WH_WK_ASSEMBLE;
	/* No --dept: the problem list decides (list_defaults), and --lead
	 * and the limits given override it. */
	if (!s->ndepts)
		return CLI_OK;
	int in = !s->lead;
	for (unsigned i = 0; i < s->ndepts && !in; i++)
		in = !strcmp(s->depts[i], s->lead);
	if (!in)
		return cli_usage(c, "--lead '%s' is not among the --dept",
				 s->lead);
	return CLI_OK;
}

int cw_step_check(const struct cli *c, struct cw_step *s)
{
	switch (s->kind) {
	case WH_OP_TRIAGE:
		return s->level < 0 ? cli_usage(c, "--level is required "
						   "(micro, small, big / 微事 "
						   "小事 大事)")
				    : CLI_OK;
	case WH_OP_WHISTLE:
		return check_whistle(c, s);
	case WH_OP_REPORT:
		return s->stepno < 0 ? cli_usage(c, "--step is required (ack, "
						    "onsite, progress, "
						    "resolve / 报到 到场 进展 "
						    "办结)")
				     : CLI_OK;
	case WH_OP_FEEDBACK:
		return s->text ? CLI_OK : cli_usage(c, "--text is required");
	case WH_OP_RATE:
		return s->score < 0 ? cli_usage(c, "--score is required (1 "
						   "to 5)")
				    : CLI_OK;
	default:
		return s->by < 0 ? cli_usage(c, "--by is required (resident "
						"or street)")
				 : CLI_OK;
	}
}
