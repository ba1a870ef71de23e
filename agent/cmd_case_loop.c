/*
 * cmd_case_loop.c: the commands of the whistle-and-report loop (吹哨报到,
 * crdt/flow.h): `case triage`, `whistle`, `supervise`, `report`,
 * `feedback`, `rate` and `reopen`: their help, their options, and the
 * answer. The step itself (values, role, the fold's question, the op)
 * is case_step.c, which the web console shares.
 *
 * Each command: parse and check every argument (usage errors exit 2),
 * trial-build the op before the home opens (cw_step_probe), open the
 * home, take the step (cw_step_run: exit 1 with the reason if the role,
 * the case or the fold refuses it; nothing written), then answer with
 * one line or the case object. Showing the loop is cmd_case_flow.c.
 */
#include "case_step.h"

#include <string.h>

static int parse(struct cli *c, int argc, char **argv,
		 const struct cli_opt *opts, const char *help,
		 struct cw_step *s)
{
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which, rc;
	const char *v;
	const char *id = NULL;
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP) {
			cli_help(help);
			return -1;
		}
		if (t == ARG_POS) {
			if (id)
				return cli_usage(c, "unexpected argument '%s'",
						 v);
			id = v;
			continue;
		}
		if ((rc = cw_step_opt(c, s, opts[which].name, which, v)))
			return rc;
	}
	if (!id)
		return cli_usage(c, "missing case id");
	return cw_step_case(c, s, id);
}

/* Parse, check, probe, open the home, take the step, answer. */
static int step_main(struct cli *c, int argc, char **argv, uint8_t kind,
		     int supervise, const struct cli_opt *opts,
		     const char *help)
{
	struct cw_step s;
	cw_step_init(&s, kind);
	s.supervise = supervise;
	int rc = parse(c, argc, argv, opts, help, &s);
	if (rc == CLI_OK)
		rc = cw_step_check(c, &s);
	if (rc == CLI_OK)
		rc = cw_step_probe(c, &s);
	if (rc == CLI_OK)
		rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE);
	if (rc == CLI_OK)
		rc = cw_step_run(c, &s, 0);
	if (rc == CLI_OK)
		rc = cli_case_report(c, s.code, s.seq, s.msg);
	cw_step_fini(&s);
	return rc < 0 ? CLI_OK : rc;
}

/* ---- the commands ---------------------------------------------------- */
static const char triage_help[] =
	"usage: whistle case triage ID --level LEVEL [--reason TEXT]\n"
	"\n"
	"三事分流: say where the case is handled. LEVEL is micro (微事:\n"
	"residents handle it themselves), small (小事: the community) or big\n"
	"(大事: the street, the district and its departments). Triage again\n"
	"to change it. Refused on a closed or cancelled case.\n";

int cmd_case_triage(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{"level", 0, 1}, {"reason", 0, 1}, {NULL, 0, 0}};
	return step_main(c, argc, argv, WH_OP_TRIAGE, 0, opts,
			 triage_help);
}

static const char whistle_help[] =
	"usage: whistle case whistle ID [--dept D ...] [--lead D]\n"
	"              [--kind KIND] [--as RANK] [--report-within DURATION]\n"
	"              [--resolve-within DURATION] [--text TEXT]\n"
	"\n"
	"吹哨: summon departments (部门报到) to a triaged case.\n"
	"  --dept D      a department, e.g. 城管 住建 公安; repeat (at most\n"
	"                16). Without --dept, the problem list (问题清单)\n"
	"                entry of the case's category gives the departments,\n"
	"                the lead and the limits\n"
	"  --lead D      the lead department (牵头部门), one of the --dept:\n"
	"                the case is resolved when the lead reports 办结\n"
	"  --kind KIND   prepare 预备哨, assemble 集结哨 (default), charge\n"
	"                冲锋哨, final 终场哨, supervise 监督哨\n"
	"  --as RANK     who whistles: alley 街巷长, community 社区书记,\n"
	"                street 街道书记; default by the station's role\n"
	"                (station: community; street, district: street)\n"
	"  --report-within, --resolve-within DURATION\n"
	"                time limits from now: 30m, 2h, 24h, 7d, 1d12h (at\n"
	"                most 366d); a department whistled twice keeps the\n"
	"                earlier deadline\n"
	"Refused (exit 1, nothing written): a case not triaged, a micro\n"
	"matter, a big matter whistled below the street, a closed case.\n";

static const struct cli_opt whistle_opts[] = {
	{"dept", 0, 1},           {"lead", 0, 1},
	{"kind", 0, 1},           {"as", 0, 1},
	{"report-within", 0, 1},  {"resolve-within", 0, 1},
	{"text", 0, 1},           {NULL, 0, 0}};

int cmd_case_whistle(struct cli *c, int argc, char **argv)
{
	return step_main(c, argc, argv, WH_OP_WHISTLE, 0, whistle_opts,
			 whistle_help);
}

static const char supervise_help[] =
	"usage: whistle case supervise ID [--dept D ...] [--report-within D]\n"
	"              [--resolve-within D] [--as RANK] [--text TEXT]\n"
	"\n"
	"监督哨: a supervision whistle on a case whose departments are late\n"
	"('case list --overdue'); the same as 'case whistle --kind\n"
	"supervise'. Limits apply to the departments named, and only ever\n"
	"bring a deadline forward. Refused when no department is summoned.\n";

int cmd_case_supervise(struct cli *c, int argc, char **argv)
{
	return step_main(c, argc, argv, WH_OP_WHISTLE, 1, whistle_opts,
			 supervise_help);
}

static const char report_help[] =
	"usage: whistle case report ID --step STEP [--dept D] [--text TEXT]\n"
	"\n"
	"部门报到: a department summoned to the case reports a step: ack\n"
	"(报到), onsite (到场), progress (进展, repeatable) or resolve\n"
	"(办结).\n"
	"Taken at the department's own station (role department), where\n"
	"--dept defaults to its configured department. When the lead\n"
	"department resolves, the case is resolved. Refused: a department\n"
	"not summoned in this round, one that already resolved, a resolved\n"
	"or closed case.\n";

int cmd_case_report(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{"dept", 0, 1}, {"step", 0, 1}, {"text", 0, 1}, {NULL, 0, 0}};
	return step_main(c, argc, argv, WH_OP_REPORT, 0, opts,
			 report_help);
}

static const char feedback_help[] =
	"usage: whistle case feedback ID --text TEXT [--channel CH]\n"
	"\n"
	"结果反馈: record that the result was told back to the resident who\n"
	"raised the case; CH is phone, visit, sms or app. Refused before the\n"
	"case has a result (resolved or closed).\n";

int cmd_case_feedback(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{"text", 0, 1}, {"channel", 0, 1}, {NULL, 0, 0}};
	return step_main(c, argc, argv, WH_OP_FEEDBACK, 0, opts,
			 feedback_help);
}

static const char rate_help[] =
	"usage: whistle case rate ID --score 1-5 [--comment TEXT]\n"
	"       whistle case rate ID --dept D --score 1-5 [--comment TEXT]\n"
	"\n"
	"评价. Without --dept, the resident's rating of the result (民评官),\n"
	"as the resident gave it: refused before the case is resolved. With\n"
	"--dept, the street rates a department summoned to the case (下评上):\n"
	"refused before that department resolved its part. The latest rating\n"
	"counts.\n";

int cmd_case_rate(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{"score", 0, 1}, {"dept", 0, 1}, {"comment", 0, 1},
		{NULL, 0, 0}};
	return step_main(c, argc, argv, WH_OP_RATE, 0, opts,
			 rate_help);
}

static const char reopen_help[] =
	"usage: whistle case reopen ID --by resident|street [--reason TEXT]\n"
	"\n"
	"重启: reopen a resolved, closed or cancelled case because the\n"
	"resident (居民) or the street (街道) is not satisfied. The loop goes\n"
	"round again: departments are whistled anew, the earlier rounds stay\n"
	"in the record. The reason is kept as a note.\n";

int cmd_case_reopen(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{"by", 0, 1}, {"reason", 0, 1}, {NULL, 0, 0}};
	return step_main(c, argc, argv, WH_OP_CASE_STATUS, 0, opts,
			 reopen_help);
}

