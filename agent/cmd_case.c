/*
 * cmd_case.c: the `whistle case` group: its table, and the subcommands
 * that write (new, set, note, tag, move). Reading (list, show) lives in
 * cmd_case_view.c and cmd_case_show.c, the whistle-and-report loop's
 * steps in cmd_case_loop.c.
 *
 * Each writing command runs the same steps: parse and check every
 * argument (usage errors, exit 2), including a trial build of every op
 * with a throwaway key so that limits enforced by the op format (a title
 * of 700 bytes) are caught before the store opens; then open the home,
 * read the case's view where the change depends on it (status
 * transitions, tag removals), and author all ops in one store call, so a
 * command lands completely or not at all. new, set and note do this
 * through case_edit.c, which the web console shares (and which seals
 * reporter and contact); tag and move are here.
 */
#include "case_edit.h"
#include "cli.h"
#include "cli_problems.h"
#include "cli_seal.h"
#include "json.h"
#include "mp.h"

#include <stdlib.h>
#include <string.h>


/* Parse `case new` / `case set` arguments into e (cw_edit_init'ed). */
static int edit_parse(struct cli *c, unsigned mode, int argc, char **argv,
		      struct cw_edit *e, const char *help)
{
	static const char *const names[] = {
		"title", "description", "category", "address", "reporter",
		"contact", "ref", "source", "priority", "lat", "lon", "grid",
		"tag", "status"};
	struct cli_opt opts[sizeof names / sizeof names[0] + 1];
	size_t n = 0;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		/* only the options this command takes */
		if ((mode == CW_IN_NEW && !strcmp(names[i], "status")) ||
		    (mode == CW_IN_SET && (!strcmp(names[i], "grid") ||
					   !strcmp(names[i], "tag"))))
			continue;
		opts[n++] = (struct cli_opt){names[i], 0, 1};
	}
	opts[n] = (struct cli_opt){NULL, 0, 0};
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which, rc;
	const char *v;
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP) {
			cli_help(help);
			return -1;
		}
		if (t == ARG_POS) {
			if (mode == CW_IN_SET && !e->id) {
				e->id = v;
				continue;
			}
			return cli_usage(c, "unexpected argument '%s'", v);
		}
		if ((rc = cw_edit_opt(c, e, mode, opts[which].name, v)))
			return rc;
	}
	return cw_edit_done(c, e);
}

int cli_case_report(struct cli *c, const char *code, uint32_t seq,
		    const char *text)
{
	char id[WH_CASE_ID_MAX];
	wh_case_id_format(code, seq, id);
	if (!c->json) {
		printf("%s%s%s\n", id, *text ? ": " : "", text);
		return CLI_OK;
	}
	struct wh_case v;
	int rc = cli_case_load(c, code, seq, &v);
	if (rc)
		return rc;
	struct cli_pd pd;
	if ((rc = cli_pd_load(c, &v, &pd))) {
		cli_pd_fini(&pd);
		wh_case_fini(&v);
		return cli_fail(c, "%s: personal data: %s", id,
				wh_strerror(rc));
	}
	struct json j;
	json_init(&j, stdout);
	cli_case_json(c, &j, &v, &pd);
	json_obj_end(&j);
	json_end(&j);
	cli_pd_fini(&pd);
	wh_case_fini(&v);
	return CLI_OK;
}

/* A category the problem list (问题清单) does not know is taken, but said:
 * a whistle of the case then needs its departments named by hand. */
static void category_hint(struct cli *c, const char *category)
{
	struct wh_problem_entry pe;
	if (!category || !*category)
		return;
	int rc = cli_problem_lookup(c, c->conf.path, category, &pe);
	wh_problem_entry_fini(&pe);
	if (rc != WH_ENOTFOUND)
		return;
	struct cli_problems all;
	if (cli_problems_load(c, c->conf.path, &all) == WH_OK &&
	    all.merged.n > 0)
		fprintf(stderr,
			"whistle: note: category '%s' is not in the problem "
			"list (问题清单无此类别); 'whistle problems list' shows "
			"it, and a whistle of this case must name --dept\n",
			category);
	cli_problems_fini(&all);
}

static const char new_help[] =
	"usage: whistle case new --title TEXT [options]\n"
	"\n"
	"Take in a case at this station. Prints the new case id first.\n"
	"  --title TEXT        what the problem is (required)\n"
	"  --description TEXT  details\n"
	"  --category TEXT     e.g. 楼道堆物, 占道经营, 违法建设, 居住停车\n"
	"  --grid NAME         the grid inside the community (path + /NAME)\n"
	"  --source S          patrol, hotline (12345), walkin, visit, app,\n"
	"                      sensor, opinion, other, or the Chinese label\n"
	"  --priority P        low, normal, high, urgent (低 一般 高 紧急)\n"
	"  --address TEXT      --reporter TEXT   --contact TEXT\n"
	"                      reporter and contact are sealed: only the\n"
	"                      case's station, hubs and summoned departments\n"
	"                      can read them ('case erase-personal')\n"
	"  --ref TEXT          external reference, e.g. a 12345 ticket no.\n"
	"  --lat DEG --lon DEG location in decimal degrees\n"
	"  --tag TEXT          a tag; repeat for more\n";


static int case_new(struct cli *c, int argc, char **argv)
{
	struct cw_edit e;
	uint32_t seq = 0;
	cw_edit_init(&e, (size_t)argc);
	int rc = edit_parse(c, CW_IN_NEW, argc, argv, &e, new_help);
	if (rc == CLI_OK && !e.str[WH_F_TITLE])
		rc = cli_usage(c, "--title is required");
	if (rc == CLI_OK)
		rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE);
	if (rc == CLI_OK)
		rc = cw_case_create(c, &e, &seq);
	if (rc) {
		cw_edit_fini(&e);
		return rc < 0 ? CLI_OK : rc;
	}
	if (!c->json) {
		char id[WH_CASE_ID_MAX];
		wh_case_id_format(c->conf.code, seq, id);
		printf("%s\n", id); /* first line: the id, for scripts */
		fflush(stdout);
	}
	category_hint(c, e.str[WH_F_CATEGORY]);
	cw_edit_fini(&e);
	return c->json ? cli_case_report(c, c->conf.code, seq, "") : CLI_OK;
}

static const char set_help[] =
	"usage: whistle case set ID [--status S] [field options]\n"
	"\n"
	"Change a case. --status takes new, accepted, in_progress, resolved,\n"
	"closed, reopened, cancelled (or 新建 已受理 处理中 已解决 已办结\n"
	"已重启 已撤销); a step the workflow does not allow from the current\n"
	"status is refused and nothing is written, and so is 'resolved' while\n"
	"the lead department a case was whistled to (牵头部门) has not\n"
	"reported it resolved ('case report --step resolve'). Field options\n"
	"as for 'case new': --title --description --category --priority\n"
	"--source --address --reporter --contact --ref --lat/--lon.\n"
	"--reporter or --contact alone keeps the other; on a case whose\n"
	"personal data this station cannot read, give both (or neither).\n";


static int case_set(struct cli *c, int argc, char **argv)
{
	struct cw_edit e;
	char code[WH_CODE_MAX + 1];
	uint32_t seq = 0;
	char msg[256] = "";
	cw_edit_init(&e, 0);
	int rc = edit_parse(c, CW_IN_SET, argc, argv, &e, set_help);
	if (rc == CLI_OK && !e.id)
		rc = cli_usage(c, "missing case id");
	if (rc == CLI_OK)
		rc = cli_parse_case_id(c, e.id, code, &seq);
	if (rc == CLI_OK && cw_edit_count(&e) == 0 && e.status < 0)
		rc = cli_usage(c, "nothing to change: give --status or a "
				  "field option");
	if (rc == CLI_OK)
		rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE);
	if (rc == CLI_OK)
		rc = cw_case_set(c, &e, code, seq, msg);
	cw_edit_fini(&e);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	return cli_case_report(c, code, seq, msg);
}

/* Parse "ID [more positionals]" for note/tag/move: the id and up to
 * npos further words; options via opts/cb. */
struct simple {
	const char *pos[2];
	int npos;
	const char *vals[8][64]; /* per option index, values */
	int nvals[8];
};

static int simple_parse(struct cli *c, int argc, char **argv,
			const struct cli_opt *opts, int maxpos,
			const char *help, struct simple *s)
{
	memset(s, 0, sizeof *s);
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which;
	const char *v;
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP) {
			cli_help(help);
			return -1;
		}
		if (t == ARG_POS) {
			if (s->npos >= maxpos)
				return cli_usage(c, "unexpected argument '%s'%s",
						 v,
						 maxpos == 2 ? " (quote the "
							       "note text)"
							     : "");
			s->pos[s->npos++] = v;
			continue;
		}
		if (s->nvals[which] >= 64)
			return cli_usage(c, "--%s given too often (at most 64)",
					 opts[which].name);
		s->vals[which][s->nvals[which]++] = v;
	}
	if (s->npos == 0)
		return cli_usage(c, "missing case id");
	return CLI_OK;
}

static const char note_help[] =
	"usage: whistle case note ID TEXT\n"
	"\n"
	"Append a note to a case's record (notes are never edited).\n";


static int case_note(struct cli *c, int argc, char **argv)
{
	struct simple s;
	char code[WH_CODE_MAX + 1];
	uint32_t seq;
	int rc = simple_parse(c, argc, argv, NULL, 2, note_help, &s);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	if ((rc = cli_parse_case_id(c, s.pos[0], code, &seq)))
		return rc;
	if (s.npos < 2 || !*s.pos[1])
		return cli_usage(c, "missing note text");
	if ((rc = cw_probe_str(c, "note text", WH_OP_CASE_NOTE, WH_F_TEXT,
			       s.pos[1])))
		return rc;
	if ((rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE)))
		return rc;
	if ((rc = cw_case_note(c, s.pos[0], code, seq, s.pos[1])))
		return rc;
	return cli_case_report(c, code, seq, "note added");
}

static const char tag_help[] =
	"usage: whistle case tag ID [--add TAG]... [--remove TAG]...\n"
	"\n"
	"Add or remove tags. Removing takes away the additions this station\n"
	"has seen; an addition made elsewhere at the same time survives\n"
	"(add wins). Removing a tag the case does not have is an error.\n";

/* Removal ops for one tag: its live add ids, WH_OP_MAX_ARRAY per op. */
static size_t tag_removals(const struct wh_case_elem *el, const char *code,
			   uint32_t seq, const char *path, const char *tag,
			   struct wh_op_draft *d, struct wh_buf *bufs)
{
	size_t nd = 0;
	for (uint32_t at = 0; at < el->nadds; at += WH_OP_MAX_ARRAY) {
		uint32_t n = el->nadds - at;
		if (n > WH_OP_MAX_ARRAY)
			n = WH_OP_MAX_ARRAY;
		for (uint32_t k = 0; k < n; k++)
			wh_mpw_bin(&bufs[nd], el->adds[at + k], WH_ID_BYTES);
		wh_draft_init(&d[nd], WH_OP_TAG_REMOVE, code, seq, path);
		wh_draft_uint(&d[nd], WH_F_SET, WH_SET_TAGS);
		wh_draft_str(&d[nd], WH_F_TAG, tag);
		wh_draft_array(&d[nd], WH_F_REMOVES, bufs[nd].p, bufs[nd].len,
			       n);
		nd++;
	}
	return nd;
}

/* Whether v is among the first n of list (repeated words count once). */
static int seen_before(const char *const *list, int n, const char *v)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(list[i], v))
			return 1;
	return 0;
}

static int tag_apply(struct cli *c, const struct simple *s, const char *code,
		     uint32_t seq, const struct wh_case *v)
{
	const char *path = v->path ? v->path : c->conf.path;
	size_t cap = (size_t)s->nvals[0];
	for (int i = 0; i < s->nvals[1]; i++) {
		const struct wh_case_elem *el =
			wh_case_elem_find(v, WH_SET_TAGS, s->vals[1][i]);
		if (!el)
			return cli_fail(c, "%s has no tag '%s'", s->pos[0],
					s->vals[1][i]);
		cap += el->nadds / WH_OP_MAX_ARRAY + 1;
	}
	struct wh_op_draft *d = wh_xcalloc(cap, sizeof *d);
	struct wh_buf *bufs = wh_xcalloc(cap, sizeof *bufs);
	size_t nd = 0;
	for (int i = 0; i < s->nvals[1]; i++) {
		if (seen_before(s->vals[1], i, s->vals[1][i]))
			continue;
		const struct wh_case_elem *el =
			wh_case_elem_find(v, WH_SET_TAGS, s->vals[1][i]);
		nd += tag_removals(el, code, seq, path, s->vals[1][i], d + nd,
				   bufs + nd);
	}
	for (int i = 0; i < s->nvals[0]; i++) {
		if (seen_before(s->vals[0], i, s->vals[0][i]))
			continue;
		wh_draft_init(&d[nd], WH_OP_TAG_ADD, code, seq, path);
		wh_draft_uint(&d[nd], WH_F_SET, WH_SET_TAGS);
		wh_draft_str(&d[nd], WH_F_TAG, s->vals[0][i]);
		nd++;
	}
	int src = wh_store_author(c->store, c->key, d, nd, wh_clock_realtime,
				  NULL, NULL, NULL);
	for (size_t i = 0; i < cap; i++)
		wh_buf_fini(&bufs[i]);
	free(bufs);
	free(d);
	if (src)
		return cli_store_err(c, s->pos[0], src);
	return CLI_OK;
}

static int case_tag(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{"add", 0, 1}, {"remove", 0, 1}, {NULL, 0, 0}};
	struct simple s;
	char code[WH_CODE_MAX + 1];
	uint32_t seq;
	int rc = simple_parse(c, argc, argv, opts, 1, tag_help, &s);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	if ((rc = cli_parse_case_id(c, s.pos[0], code, &seq)))
		return rc;
	if (s.nvals[0] + s.nvals[1] == 0)
		return cli_usage(c, "nothing to do: give --add or --remove");
	for (int o = 0; o < 2; o++)
		for (int i = 0; i < s.nvals[o]; i++) {
			char opt[16];
			snprintf(opt, sizeof opt, "--%s", opts[o].name);
			if (!*s.vals[o][i])
				return cli_usage(c, "%s: empty tag", opt);
			if ((rc = cw_probe_str(c, opt, WH_OP_TAG_ADD, WH_F_TAG,
					    s.vals[o][i])))
				return rc;
		}
	if ((rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE)))
		return rc;
	struct wh_case v;
	if ((rc = cli_case_load(c, code, seq, &v)))
		return rc;
	rc = tag_apply(c, &s, code, seq, &v);
	wh_case_fini(&v);
	return rc ? rc : cli_case_report(c, code, seq, "tags updated");
}

static const char move_help[] =
	"usage: whistle case move ID --path PATH\n"
	"\n"
	"Move a case to another jurisdiction path (another grid, or the\n"
	"street when it must be handled above the community).\n";

static int case_move(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {{"path", 0, 1}, {NULL, 0, 0}};
	struct simple s;
	char code[WH_CODE_MAX + 1];
	uint32_t seq;
	int rc = simple_parse(c, argc, argv, opts, 1, move_help, &s);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	if ((rc = cli_parse_case_id(c, s.pos[0], code, &seq)))
		return rc;
	if (s.nvals[0] != 1)
		return cli_usage(c, "give --path exactly once");
	const char *np = s.vals[0][0];
	if (!wh_path_valid(np, strlen(np)))
		return cli_usage(c, "--path '%s': not a jurisdiction path", np);
	if ((rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE)))
		return rc;
	struct wh_case v;
	if ((rc = cli_case_load(c, code, seq, &v)))
		return rc;
	if (v.path && !strcmp(v.path, np)) {
		wh_case_fini(&v);
		return cli_fail(c, "%s is already at %s", s.pos[0], np);
	}
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_CASE_MOVE, code, seq,
		      v.path ? v.path : c->conf.path);
	wh_draft_str(&d, WH_F_NEW_PATH, np);
	int src = wh_store_author(c->store, c->key, &d, 1, wh_clock_realtime,
				  NULL, NULL, NULL);
	wh_case_fini(&v);
	if (src)
		return cli_store_err(c, s.pos[0], src);
	char msg[WH_PATH_MAX + 16];
	snprintf(msg, sizeof msg, "moved to %s", np);
	return cli_case_report(c, code, seq, msg);
}

static const char case_help[] =
	"usage: whistle case SUBCOMMAND [ARGS...]\n"
	"\n"
	"Case ids look like XJK-ZDY-000001: the issuing station's code and a\n"
	"sequence number. 'whistle case SUBCOMMAND --help' for details.\n"
	"\n";

static const struct cli_cmd subs[] = {
	{"new", case_new, "take in a new case; prints its id"},
	{"list", cmd_case_list, "list cases (--status, --scope, --overdue)"},
	{"show", cmd_case_show, "show one case; --history lists every op"},
	{"set", case_set, "change status or fields"},
	{"note", case_note, "add a note"},
	{"tag", case_tag, "add or remove tags"},
	{"move", case_move, "move a case to another jurisdiction path"},
	{"attach", cmd_case_attach, "attach a photo or document (拍照上报)"},
	{"file", cmd_case_file, "write out an attachment's content"},
	{"triage", cmd_case_triage, "三事分流: micro, small or big matter"},
	{"whistle", cmd_case_whistle, "吹哨: summon departments, set limits"},
	{"supervise", cmd_case_supervise, "监督哨: whistle an overdue case"},
	{"report", cmd_case_report, "部门报到: ack, onsite, progress, resolve"},
	{"feedback", cmd_case_feedback, "结果反馈: the result told back"},
	{"rate", cmd_case_rate, "评价: resident rates, street rates a dept"},
	{"reopen", cmd_case_reopen, "重启: a new round of the loop"},
	{"import", cmd_case_import, "bulk intake from CSV or JSON Lines"},
	{"erase-personal", cmd_case_erase,
	 "删除个人信息: make reporter and contact unreadable everywhere"},
	{"reseal", cmd_case_reseal,
	 "share a case key with readers that lack it (--all)"},
	{NULL, NULL, NULL},
};

int cmd_case(struct cli *c, int argc, char **argv)
{
	return cli_group(c, subs, "case ", case_help, argc, argv);
}

