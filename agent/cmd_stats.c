/*
 * cmd_stats.c: `whistle stats` (统计), the loop's figures for a scope and
 * a period: the three rates, times to report and resolve, what is
 * overdue, in total and per department. agent/stats.h defines every
 * figure and does the counting; this file parses the arguments, walks
 * the store, and prints: a Chinese-first text table, one JSON object, or
 * CSV for a spreadsheet.
 *
 * Days are Asia/Shanghai days (UTC+8, fixed) whatever the station PC's
 * time zone, so two stations asked about the same day count the same
 * cases. "Now" is the wall clock unless WHISTLE_NOW_MS says otherwise
 * (for tests: figures that depend on now are then reproducible).
 *
 * CSV follows RFC 4180 (CRLF line ends; a field with a comma, quote or
 * line break is quoted, quotes doubled) and starts with a UTF-8 byte
 * order mark, without which Excel on a Chinese Windows PC reads UTF-8 as
 * GBK and shows garbage.
 */
#include "cli.h"
#include "cli_emergency.h"
#include "json.h"
#include "stats.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char help[] =
    "usage: whistle stats [--scope PATH] [--from YYYY-MM-DD] "
    "[--to YYYY-MM-DD]\n"
    "                     [--by department] [--csv] [--json]\n"
    "\n"
    "统计: the whistle-and-report loop's figures for the cases created in\n"
    "a period: 收案数 cases, 响应率 response rate, 解决率 resolution rate,\n"
    "满意率 satisfaction rate, time to report and to resolve (mean and\n"
    "90th percentile), and what is overdue now.\n"
    "  --scope PATH   cases whose path lies within PATH (default: this\n"
    "                 station's path)\n"
    "  --from DAY     cases created on or after DAY 00:00 (default: all)\n"
    "  --to DAY       cases created before DAY 24:00 (default: all);\n"
    "                 days are Asia/Shanghai days (UTC+8)\n"
    "  --by department  also a row per department summoned (部门)\n"
    "  --csv          CSV (UTF-8 with BOM, RFC 4180): a row per department\n"
    "                 and a '全部 all' row\n"
    "--json prints one object: scope, from, to, now, totals, departments.\n"
    "docs/guide.md, 'Statistics', defines every figure.\n";

#define HELPED (-1) /* parse printed --help: exit 0 */

struct opts {
	const char *scope, *from, *to;
	uint64_t from_ms, to_ms, now_ms;
	int by_dept, csv;
};

/* "WHISTLE_NOW_MS": tests pin "now"; else the wall clock. */
static int now_ms(const struct cli *c, uint64_t *out)
{
	const char *e = getenv("WHISTLE_NOW_MS");
	if (!e || !*e) {
		*out = wh_clock_realtime(NULL);
		return CLI_OK;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(e, &end, 10);
	if (e[0] < '0' || e[0] > '9' || *end || errno)
		return cli_usage(c,
				 "WHISTLE_NOW_MS '%s': not a number of "
				 "milliseconds",
				 e);
	*out = v;
	return CLI_OK;
}

static int parse(struct cli *c, int argc, char **argv, struct opts *o)
{
	static const struct cli_opt opts[] = {
	    {"scope", 0, 1}, {"from", 0, 1}, {"to", 0, 1},
	    {"by", 0, 1},    {"csv", 0, 0},  {NULL, 0, 0},
	};
	struct cli_args a;
	int t, which;
	const char *v;
	cli_args_init(&a, argc, argv);
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP) {
			cli_help(help);
			return HELPED;
		}
		if (t == ARG_POS)
			return cli_usage(c, "unexpected argument '%s'", v);
		switch (which) {
		case 0:
			if (*v && !wh_path_valid(v, strlen(v)))
				return cli_usage(c,
						 "--scope '%s': not a "
						 "jurisdiction path",
						 v);
			o->scope = v;
			break;
		case 1:
			if (wh_stats_day_ms(v, &o->from_ms))
				return cli_usage(c,
						 "--from '%s': not a day "
						 "(YYYY-MM-DD, from 2000)",
						 v);
			o->from = v;
			break;
		case 2:
			if (wh_stats_day_ms(v, &o->to_ms))
				return cli_usage(c,
						 "--to '%s': not a day "
						 "(YYYY-MM-DD, from 2000)",
						 v);
			o->to_ms += WH_STATS_DAY_MS; /* through 24:00 */
			o->to = v;
			break;
		case 3:
			if (strcmp(v, "department") && strcmp(v, "部门"))
				return cli_usage(c,
						 "--by '%s': only "
						 "'department' (部门)",
						 v);
			o->by_dept = 1;
			break;
		default:
			o->csv = 1;
		}
	}
	if (o->from && o->to && o->from_ms >= o->to_ms)
		return cli_usage(c, "--from %s is after --to %s", o->from,
				 o->to);
	if (o->csv && c->json)
		return cli_usage(c, "--csv and --json: choose one");
	return now_ms(c, &o->now_ms);
}

/* ---- text ---- */

/* "2025-11-13 09:00" in Asia/Shanghai, whatever TZ says. */
static void day_time(uint64_t ms, char out[CLI_TIME_MAX])
{
	time_t sec = (time_t)((ms + WH_STATS_TZ_MS) / 1000u);
	struct tm tm;
	if (!gmtime_r(&sec, &tm) ||
	    !strftime(out, CLI_TIME_MAX, "%Y-%m-%d %H:%M", &tm))
		snprintf(out, CLI_TIME_MAX, "@%" PRIu64, ms);
}

/* "1天2小时", "3小时17分", "50分", "20秒"; "-" without samples. */
static void dur(uint64_t n, uint64_t ms, char out[32])
{
	uint64_t m = ms / 60000u, h = m / 60, d = h / 24;
	if (!n)
		snprintf(out, 32, "-");
	else if (d)
		snprintf(out, 32,
			 h % 24 ? "%" PRIu64 "天%" PRIu64 "小时"
				: "%" PRIu64 "天",
			 d, h % 24);
	else if (h)
		snprintf(out, 32,
			 m % 60 ? "%" PRIu64 "小时%" PRIu64 "分"
				: "%" PRIu64 "小时",
			 h, m % 60);
	else if (m)
		snprintf(out, 32, "%" PRIu64 "分", m);
	else
		snprintf(out, 32, "%" PRIu64 "秒", ms / 1000u);
}

static void line_rate(const char *label, const struct wh_stats_rate *r)
{
	char p[WH_STATS_PCT_MAX];
	int v = wh_stats_pct(r, p);
	cli_print_cell(stdout, label, 24, 0);
	printf("%6s%s  (%" PRIu64 "/%" PRIu64 ")\n", p, v < 0 ? " " : "%",
	       r->num, r->den);
}

static void line_time(const char *label, const struct wh_stats_time *t)
{
	char a[32], b[32];
	dur(t->n, t->mean_ms, a);
	dur(t->n, t->p90_ms, b);
	cli_print_cell(stdout, label, 24, 0);
	fputs("平均 mean ", stdout);
	cli_print_cell(stdout, a, 12, 0);
	fputs("  P90 ", stdout);
	cli_print_cell(stdout, b, 12, 0);
	printf("  (%" PRIu64 ")\n", t->n);
}

static void text_cells(const char *const *cells, const size_t *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		cli_print_cell(stdout, cells[i], w[i], i + 1 == n);
		if (i + 1 < n)
			fputs(" ", stdout);
	}
	fputc('\n', stdout);
}

#define NCOLS 10

static void text_dept(const struct wh_stats_row *r, const size_t *w)
{
	char s[16], p[3][WH_STATS_PCT_MAX + 1], d[4][32], od[16];
	const struct wh_stats_rate *rates[3] = {&r->response, &r->resolution,
						&r->satisfaction};
	snprintf(s, sizeof s, "%" PRIu64, r->summonses);
	for (int i = 0; i < 3; i++)
		if (wh_stats_pct(rates[i], p[i]) >= 0)
			strcat(p[i], "%");
	dur(r->to_report.n, r->to_report.mean_ms, d[0]);
	dur(r->to_report.n, r->to_report.p90_ms, d[1]);
	dur(r->to_resolve.n, r->to_resolve.mean_ms, d[2]);
	dur(r->to_resolve.n, r->to_resolve.p90_ms, d[3]);
	snprintf(od, sizeof od, "%" PRIu64, r->overdue_summonses);
	const char *name = r->dept ? r->dept : "全部 all";
	const char *cells[NCOLS] = {name, s,	p[0], p[1], p[2],
				    d[0], d[1], d[2], d[3], od};
	text_cells(cells, w, NCOLS);
}

static void text_out(const struct opts *o, const struct wh_stats_result *r)
{
	char t[CLI_TIME_MAX];
	const struct wh_stats_row *tot = &r->total;
	printf("统计 Statistics\n");
	cli_print_cell(stdout, "范围 scope", 24, 0);
	printf("%s\n", *o->scope ? o->scope : "(全部 everything held)");
	cli_print_cell(stdout, "期间 period", 24, 0);
	if (!o->from && !o->to)
		printf("全部 all time");
	else
		printf("%s 至 to %s", o->from ? o->from : "…",
		       o->to ? o->to : "…");
	printf("  (按立案日 by day created, Asia/Shanghai)\n");
	day_time(o->now_ms, t);
	cli_print_cell(stdout, "截至 now", 24, 0);
	printf("%s\n\n", t);
	cli_print_cell(stdout, "收案数 cases", 24, 0);
	printf("%6" PRIu64 "   (已撤销 cancelled %" PRIu64 ")\n", tot->cases,
	       tot->cancelled);
	cli_print_cell(stdout, "被吹哨 summonses", 24, 0);
	printf("%6" PRIu64 "\n", tot->summonses);
	line_rate("响应率 response", &tot->response);
	line_rate("解决率 resolution", &tot->resolution);
	line_rate("满意率 satisfaction", &tot->satisfaction);
	line_time("报到用时 to report", &tot->to_report);
	line_time("解决用时 to resolve", &tot->to_resolve);
	cli_print_cell(stdout, "超期 overdue now", 24, 0);
	printf("案件 cases %" PRIu64 "  哨 summonses %" PRIu64 "\n",
	       tot->overdue_cases, tot->overdue_summonses);
	if (r->tasks.cases) {
		cli_print_cell(stdout, "应急任务 emergency tasks", 24, 0);
		printf("%6" PRIu64 "   (已完成 done %" PRIu64 ", 超期 overdue "
		       "%" PRIu64 ")\n",
		       r->tasks.cases, r->tasks.done, r->tasks.overdue);
	}
	if (r->incomplete)
		printf("(%" PRIu64 " case(s) whose create op has not arrived "
		       "are not counted: 未收到创建)\n",
		       r->incomplete);
	if (!o->by_dept)
		return;
	static const size_t w[NCOLS] = {16, 8, 9, 9, 10, 10, 10, 10, 10, 7};
	static const char *const zh[NCOLS] = {
	    "部门",	"被吹哨",  "响应率",   "解决率",  "满意率",
	    "平均报到", "报到P90", "平均办结", "办结P90", "超期"};
	static const char *const en[NCOLS] = {
	    "department", "summons", "response",   "resolved", "satisfied",
	    "to report",  "p90",     "to resolve", "p90",      "overdue"};
	fputc('\n', stdout);
	text_cells(zh, w, NCOLS);
	text_cells(en, w, NCOLS);
	for (size_t i = 0; i < r->ndepts; i++)
		text_dept(&r->depts[i], w);
	if (!r->ndepts)
		printf("(没有部门被吹哨 no department was summoned)\n");
	else
		text_dept(tot, w);
}

/* ---- JSON ---- */

static void json_rate(struct json *j, const char *k,
		      const struct wh_stats_rate *r)
{
	char p[WH_STATS_PCT_MAX];
	json_key(j, k);
	json_obj(j);
	json_kuint(j, "num", r->num);
	json_kuint(j, "den", r->den);
	json_key(j, "pct");
	if (wh_stats_pct(r, p) < 0)
		json_null(j);
	else
		json_num_raw(j, p);
	json_obj_end(j);
}

static void json_time(struct json *j, const char *k,
		      const struct wh_stats_time *t)
{
	json_key(j, k);
	json_obj(j);
	json_kuint(j, "n", t->n);
	json_key(j, "mean_ms");
	if (t->n)
		json_uint(j, t->mean_ms);
	else
		json_null(j);
	json_key(j, "p90_ms");
	if (t->n)
		json_uint(j, t->p90_ms);
	else
		json_null(j);
	json_obj_end(j);
}

static void json_row(struct json *j, const struct wh_stats_row *r)
{
	json_obj(j);
	if (r->dept)
		json_kstr(j, "department", r->dept);
	json_kuint(j, "cases", r->cases);
	if (!r->dept)
		json_kuint(j, "cancelled", r->cancelled);
	json_kuint(j, "summonses", r->summonses);
	json_rate(j, "response", &r->response);
	json_rate(j, "resolution", &r->resolution);
	json_rate(j, "satisfaction", &r->satisfaction);
	json_time(j, "to_report", &r->to_report);
	json_time(j, "to_resolve", &r->to_resolve);
	json_key(j, "overdue");
	json_obj(j);
	json_kuint(j, "cases", r->overdue_cases);
	json_kuint(j, "summonses", r->overdue_summonses);
	json_obj_end(j);
	json_obj_end(j);
}

static void json_out(const struct opts *o, const struct wh_stats_result *r)
{
	struct json j;
	char t[CLI_TIME_MAX];
	json_init(&j, stdout);
	json_obj(&j);
	json_kstr(&j, "scope", o->scope);
	json_kstr(&j, "from", o->from);
	json_kstr(&j, "to", o->to);
	json_kstr(&j, "timezone", "Asia/Shanghai");
	cli_time_iso(o->now_ms, t);
	json_kstr(&j, "now", t);
	json_kuint(&j, "now_ms", o->now_ms);
	json_kuint(&j, "incomplete", r->incomplete);
	json_key(&j, "totals");
	json_row(&j, &r->total);
	json_key(&j, "tasks");
	json_obj(&j);
	json_kuint(&j, "cases", r->tasks.cases);
	json_kuint(&j, "done", r->tasks.done);
	json_kuint(&j, "overdue", r->tasks.overdue);
	json_obj_end(&j);
	json_key(&j, "departments");
	json_arr(&j);
	for (size_t i = 0; i < r->ndepts; i++)
		json_row(&j, &r->depts[i]);
	json_arr_end(&j);
	json_obj_end(&j);
	json_end(&j);
}

/* ---- CSV ---- */

static void csv_field(const char *s, int last)
{
	if (strpbrk(s, ",\"\r\n")) {
		fputc('"', stdout);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', stdout);
			fputc(*s, stdout);
		}
		fputc('"', stdout);
	} else {
		fputs(s, stdout);
	}
	fputs(last ? "\r\n" : ",", stdout);
}

static void csv_u(uint64_t v)
{
	printf("%" PRIu64 ",", v);
}

static void csv_rate(const struct wh_stats_rate *r)
{
	char p[WH_STATS_PCT_MAX];
	(void)wh_stats_pct(r, p);
	printf("%s,%" PRIu64 ",%" PRIu64 ",", p, r->num, r->den);
}

static void csv_time(const struct wh_stats_time *t)
{
	if (t->n)
		printf("%" PRIu64 ",%" PRIu64 ",", t->mean_ms, t->p90_ms);
	else
		fputs("-,-,", stdout);
}

static void csv_row(const struct wh_stats_row *r)
{
	csv_field(r->dept ? r->dept : "全部 all", 0);
	csv_u(r->cases);
	if (r->dept)
		fputs(",", stdout);
	else
		csv_u(r->cancelled);
	csv_u(r->summonses);
	csv_rate(&r->response);
	csv_rate(&r->resolution);
	csv_rate(&r->satisfaction);
	csv_time(&r->to_report);
	csv_time(&r->to_resolve);
	printf("%" PRIu64 ",%" PRIu64 "\r\n", r->overdue_cases,
	       r->overdue_summonses);
}

static void csv_out(const struct wh_stats_result *r)
{
	static const char *const head[] = {
	    "部门 department",
	    "收案数 cases",
	    "已撤销 cancelled",
	    "被吹哨次数 summonses",
	    "响应率 response %",
	    "按时报到 on time",
	    "应报到 judged",
	    "解决率 resolution %",
	    "解决 resolved",
	    "应解决 of",
	    "满意率 satisfaction %",
	    "满意 satisfied",
	    "评价 rated",
	    "平均报到 to report mean ms",
	    "报到P90 to report p90 ms",
	    "平均解决 to resolve mean ms",
	    "解决P90 to resolve p90 ms",
	    "超期案件 overdue cases",
	    "超期哨 overdue summonses",
	};
	size_t n = sizeof head / sizeof head[0];
	fputs("\xEF\xBB\xBF", stdout);
	for (size_t i = 0; i < n; i++)
		csv_field(head[i], i + 1 == n);
	for (size_t i = 0; i < r->ndepts; i++)
		csv_row(&r->depts[i]);
	csv_row(&r->total);
}

/* ---- the command ---- */

struct feed_ctx {
	struct wh_stats_acc *acc;
	const struct cli *c;
	struct wh_dl_clock k;
};

/* Each case against its own clock: deadlines as the emergencies held
 * move them (crdt/deadline.h). */
static int feed(void *ctx, const struct wh_case *v)
{
	struct feed_ctx *fc = ctx;
	cli_em_clock(fc->c, v, &fc->k);
	wh_stats_add_clock(fc->acc, v, &fc->k);
	return 0;
}

int cmd_stats(struct cli *c, int argc, char **argv)
{
	struct opts o = {.to_ms = UINT64_MAX};
	int rc = parse(c, argc, argv, &o);
	if (rc)
		return rc == HELPED ? CLI_OK : rc;
	if ((rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_STORE)))
		return rc;
	if (!o.scope)
		o.scope = c->conf.path;
	struct wh_stats_opts so = {o.now_ms, o.from_ms, o.to_ms};
	struct wh_stats_acc acc;
	wh_stats_init(&acc, &so);
	struct wh_case_filter f = {o.scope, -1, 0};
	struct feed_ctx fc = {&acc, c, {0}};
	wh_dl_clock_init(&fc.k);
	rc = cli_em_all(c)->err;
	if (!rc)
		rc = wh_store_case_list(c->store, &f, feed, &fc);
	wh_dl_clock_fini(&fc.k);
	if (rc < 0) {
		wh_stats_acc_fini(&acc);
		return cli_fail(c, "store: %s", wh_strerror(rc));
	}
	struct wh_stats_result r;
	wh_stats_finish(&acc, &r);
	if (c->json)
		json_out(&o, &r);
	else if (o.csv)
		csv_out(&r);
	else
		text_out(&o, &r);
	wh_stats_result_fini(&r);
	return CLI_OK;
}
