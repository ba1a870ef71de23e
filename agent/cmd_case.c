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
 * command lands completely or not at all (`case new`'s tags and keys op
 * take the seq the store gives its create in that same call).
 *
 * Reporter and contact are never written in clear: they are sealed
 * (cli_seal.h), the key envelope put in the store just before the ops.
 * A new case's sealed value is bound to its seq, so it is sealed inside
 * the author call (wh_store_author_fill, cli_seal_fill).
 */
#include "cli.h"
#include "cli_problems.h"
#include "cli_seal.h"
#include "json.h"
#include "mp.h"

#include <stdlib.h>
#include <string.h>

#define IN_NEW 1u
#define IN_SET 2u

/* Options shared by `case new` and `case set`. key 0: handled apart. */
static const struct fopt {
	const char *name;
	uint8_t key;
	unsigned in;
} fopts[] = {
	{"title", WH_F_TITLE, IN_NEW | IN_SET},
	{"description", WH_F_DESCRIPTION, IN_NEW | IN_SET},
	{"category", WH_F_CATEGORY, IN_NEW | IN_SET},
	{"address", WH_F_ADDRESS, IN_NEW | IN_SET},
	{"reporter", WH_F_REPORTER, IN_NEW | IN_SET},
	{"contact", WH_F_CONTACT, IN_NEW | IN_SET},
	{"ref", WH_F_EXTREF, IN_NEW | IN_SET},
	{"source", WH_F_SOURCE, IN_NEW | IN_SET},
	{"priority", WH_F_PRIORITY, IN_NEW | IN_SET},
	{"lat", 0, IN_NEW | IN_SET},
	{"lon", 0, IN_NEW | IN_SET},
	{"grid", 0, IN_NEW},
	{"tag", 0, IN_NEW},
	{"status", 0, IN_SET},
};
#define NFOPTS (sizeof fopts / sizeof fopts[0])

/* What `case new` / `case set` were asked to do. */
struct edit {
	const char *str[WH_F_KEY_MAX + 1]; /* string fields by key */
	int source, priority, status;      /* -1: not given */
	const char *lat, *lon;             /* as typed, for messages */
	int64_t lat_e7, lon_e7;
	const char *grid;
	const char *id; /* set: the positional case id */
	const char **tags;
	size_t ntags;
	struct wh_buf loc; /* encoded [lat, lon] */
};

static void edit_fini(struct edit *e)
{
	free(e->tags);
	wh_buf_fini(&e->loc);
}

static int enum_arg(const struct cli *c, const char *opt, const char *v,
		    int (*parse)(const char *), const char *(*name)(unsigned),
		    const char *(*label)(unsigned), int *out)
{
	int x = parse(v);
	if (x >= 0) {
		*out = x;
		return CLI_OK;
	}
	char list[256] = "";
	for (unsigned i = 0; name(i); i++) {
		size_t n = strlen(list);
		snprintf(list + n, sizeof list - n, "%s%s (%s)", i ? ", " : "",
			 name(i), label(i));
	}
	return cli_usage(c, "--%s '%s': not one of %s", opt, v, list);
}

/* One string field alone in an op of a kind that carries it: the format's
 * own limits (length, UTF-8) checked with the option's name at hand. */
static int probe_str(const struct cli *c, const char *opt, uint8_t kind,
		     uint8_t key, const char *v)
{
	struct wh_op_draft d;
	wh_draft_init(&d, kind, "X", 1, "x");
	wh_draft_str(&d, key, v);
	if (kind == WH_OP_TAG_ADD)
		wh_draft_uint(&d, WH_F_SET, WH_SET_TAGS);
	int rc = cli_probe_drafts(&d, 1);
	if (rc == WH_ETOOBIG)
		return cli_usage(c, "%s: too long (%zu bytes)", opt,
				 strlen(v));
	if (rc != WH_OK)
		return cli_usage(c, "%s '%s': %s", opt, v, wh_strerror(rc));
	return CLI_OK;
}

static int edit_opt(const struct cli *c, struct edit *e, const struct fopt *f,
		    const char *v)
{
	char opt[32];
	snprintf(opt, sizeof opt, "--%s", f->name);
	if (!strcmp(f->name, "tag")) {
		if (!*v)
			return cli_usage(c, "--tag: empty tag");
		e->tags[e->ntags++] = v;
		return probe_str(c, opt, WH_OP_TAG_ADD, WH_F_TAG, v);
	}
	/* Every other option at most once: a second value would silently
	 * win, which is worse than saying so. */
	const char **once = NULL;
	if (f->key && f->key != WH_F_SOURCE && f->key != WH_F_PRIORITY)
		once = &e->str[f->key];
	else if (!strcmp(f->name, "lat"))
		once = &e->lat;
	else if (!strcmp(f->name, "lon"))
		once = &e->lon;
	else if (!strcmp(f->name, "grid"))
		once = &e->grid;
	int given = once ? *once != NULL
			 : (f->key == WH_F_SOURCE     ? e->source >= 0
			    : f->key == WH_F_PRIORITY ? e->priority >= 0
						      : e->status >= 0);
	if (given)
		return cli_usage(c, "%s given twice", opt);
	if (once)
		*once = v;

	switch (f->key) {
	case WH_F_SOURCE:
		return enum_arg(c, f->name, v, wh_source_parse, wh_source_name,
				wh_source_label, &e->source);
	case WH_F_PRIORITY:
		return enum_arg(c, f->name, v, wh_priority_parse,
				wh_priority_name, wh_priority_label,
				&e->priority);
	case 0:
		break;
	case WH_F_TITLE:
		if (!*v)
			return cli_usage(c, "--title: empty title");
		/* fall through */
	default:
		return probe_str(c, opt, WH_OP_CASE_SET, f->key, v);
	}
	if (!strcmp(f->name, "status"))
		return enum_arg(c, f->name, v, wh_status_parse, wh_status_name,
				wh_status_label, &e->status);
	if (!strcmp(f->name, "lat"))
		return cli_parse_degrees(c, opt, v, 90, &e->lat_e7);
	if (!strcmp(f->name, "lon"))
		return cli_parse_degrees(c, opt, v, 180, &e->lon_e7);
	/* --grid: one path component under the station's path */
	if (strchr(v, '/') || !wh_path_valid(v, strlen(v)))
		return cli_usage(c, "--grid '%s': not a grid name (lower-case "
				    "[a-z0-9_-], at most %u bytes, no '/')",
				 v, WH_PART_MAX);
	return CLI_OK;
}

/* Parse `case new` / `case set` arguments into e. */
static int edit_parse(struct cli *c, unsigned mode, int argc, char **argv,
		      struct edit *e, const char *help)
{
	memset(e, 0, sizeof *e);
	e->source = e->priority = e->status = -1;
	e->tags = wh_xcalloc((size_t)argc + 1, sizeof *e->tags);
	struct cli_opt opts[NFOPTS + 1];
	const struct fopt *map[NFOPTS];
	size_t n = 0;
	for (size_t i = 0; i < NFOPTS; i++)
		if (fopts[i].in & mode) {
			opts[n] = (struct cli_opt){fopts[i].name, 0, 1};
			map[n++] = &fopts[i];
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
			if (mode == IN_SET && !e->id) {
				e->id = v;
				continue;
			}
			return cli_usage(c, "unexpected argument '%s'", v);
		}
		if ((rc = edit_opt(c, e, map[which], v)))
			return rc;
	}
	if (!e->lat != !e->lon)
		return cli_usage(c, "--lat and --lon go together");
	if (e->lat) {
		wh_mpw_int(&e->loc, e->lat_e7);
		wh_mpw_int(&e->loc, e->lon_e7);
	}
	return CLI_OK;
}

/* Whether e gives personal data (reporter, contact): sealed, never
 * written in clear (cli_seal.h). */
static int edit_personal(const struct edit *e)
{
	return e->str[WH_F_REPORTER] || e->str[WH_F_CONTACT];
}

/* The last-writer-wins fields of e into d, but for the personal ones,
 * which cli_seal_drafts adds sealed; how many fields e gives, those
 * counted. */
static int edit_fields(const struct edit *e, struct wh_op_draft *d)
{
	int n = 0;
	for (unsigned k = 1; k <= WH_F_KEY_MAX; k++)
		if (e->str[k]) {
			if (k != WH_F_REPORTER && k != WH_F_CONTACT)
				wh_draft_str(d, (uint8_t)k, e->str[k]);
			n++;
		}
	if (e->source >= 0) {
		wh_draft_uint(d, WH_F_SOURCE, (uint64_t)e->source);
		n++;
	}
	if (e->priority >= 0) {
		wh_draft_uint(d, WH_F_PRIORITY, (uint64_t)e->priority);
		n++;
	}
	if (e->lat) {
		wh_draft_array(d, WH_F_LOCATION, e->loc.p, e->loc.len, 2);
		n++;
	}
	return n;
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
	struct edit e;
	int rc = edit_parse(c, IN_NEW, argc, argv, &e, new_help);
	if (rc == CLI_OK && !e.str[WH_F_TITLE])
		rc = cli_usage(c, "--title is required");
	if (rc == CLI_OK)
		rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE);
	char path[WH_PATH_MAX + WH_PART_MAX + 2];
	if (rc == CLI_OK) {
		snprintf(path, sizeof path, "%s%s%s", c->conf.path,
			 e.grid ? "/" : "", e.grid ? e.grid : "");
		if (!wh_path_valid(path, strlen(path)))
			rc = cli_usage(c, "--grid '%s': the case path %s would "
					  "be too long or too deep",
				       e.grid, path);
	}
	/* The create, its sealed personal data's keys op and its tags in
	 * one transaction: drafts with seq 0 take the seq the store
	 * allocates for the create before them, and the sealed value,
	 * bound to that seq, is sealed there (cli_seal_fill). */
	size_t nd = 2 + e.ntags, nk = 0;
	struct wh_op_draft *d = wh_xcalloc(nd, sizeof *d);
	struct cli_seal **seals = wh_xcalloc(nd, sizeof *seals);
	struct cli_seal sp;
	memset(&sp, 0, sizeof sp);
	if (rc == CLI_OK) {
		wh_draft_init(&d[0], WH_OP_CASE_CREATE, c->conf.code, 0, path);
		edit_fields(&e, &d[0]);
		for (size_t i = 0; i < e.ntags; i++) {
			wh_draft_init(&d[1 + i], WH_OP_TAG_ADD, c->conf.code,
				      0, path);
			wh_draft_uint(&d[1 + i], WH_F_SET, WH_SET_TAGS);
			wh_draft_str(&d[1 + i], WH_F_TAG, e.tags[i]);
		}
		int brc = cli_probe_drafts(d, 1 + e.ntags);
		if (brc)
			rc = cli_store_err(c, "new case", brc);
	}
	if (rc == CLI_OK && edit_personal(&e))
		rc = cli_seal_begin(c, "new case", NULL, path,
				    e.str[WH_F_REPORTER], e.str[WH_F_CONTACT],
				    &sp);
	if (rc == CLI_OK && sp.key) {
		int src = cli_seal_drafts(&sp, c->conf.code, 0, path, &d[0],
					  &d[1 + e.ntags], &nk);
		if (src)
			rc = cli_store_err(c, "new case", src);
		seals[0] = &sp;
	}
	if (rc == CLI_OK) {
		int src = wh_store_author_fill(c->store, c->key, d,
					       1 + e.ntags + nk,
					       wh_clock_realtime, NULL, NULL,
					       NULL, cli_seal_fill, seals);
		if (src)
			rc = cli_store_err(c, "new case", src);
	}
	cli_seal_fini(&sp);
	free(seals);
	uint32_t seq = d[0].seq;
	free(d);
	if (rc) {
		edit_fini(&e);
		return rc < 0 ? CLI_OK : rc;
	}
	if (!c->json) {
		char id[WH_CASE_ID_MAX];
		wh_case_id_format(c->conf.code, seq, id);
		printf("%s\n", id); /* first line: the id, for scripts */
		fflush(stdout);
	}
	category_hint(c, e.str[WH_F_CATEGORY]);
	edit_fini(&e);
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
	struct edit e;
	char code[WH_CODE_MAX + 1];
	uint32_t seq = 0;
	struct wh_op_draft d[3];
	struct wh_case v;
	struct cli_seal sp;
	int have_view = 0, nd = 0;
	memset(&sp, 0, sizeof sp);
	int rc = edit_parse(c, IN_SET, argc, argv, &e, set_help);
	if (rc == CLI_OK && !e.id)
		rc = cli_usage(c, "missing case id");
	if (rc == CLI_OK)
		rc = cli_parse_case_id(c, e.id, code, &seq);
	if (rc == CLI_OK) {
		struct wh_op_draft probe;
		wh_draft_init(&probe, WH_OP_CASE_SET, "X", 1, "x");
		if (edit_fields(&e, &probe) == 0 && e.status < 0)
			rc = cli_usage(c, "nothing to change: give --status "
					  "or a field option");
	}
	if (rc == CLI_OK)
		rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE);
	if (rc == CLI_OK && (rc = cli_case_load(c, code, seq, &v)) == CLI_OK)
		have_view = 1;
	char msg[256] = "";
	if (rc == CLI_OK && e.status >= 0) {
		unsigned from = v.status, to = (unsigned)e.status;
		const char *why = NULL;
		if (!wh_status_allowed(from, to)) {
			rc = cli_fail(c, "%s: cannot go from %s (%s) to %s (%s)",
				      e.id, wh_status_label(from),
				      wh_status_name(from), wh_status_label(to),
				      wh_status_name(to));
		} else if (wh_flow_status_check(&v, to, &why) != WH_OK) {
			/* the fold would ignore it: a case whistled to
			 * departments resolves when its lead does */
			rc = cli_fail(c, "%s: cannot go to %s (%s): %s", e.id,
				      wh_status_label(to), wh_status_name(to),
				      why);
		} else {
			wh_draft_init(&d[nd], WH_OP_CASE_STATUS, code, seq,
				      v.path ? v.path : c->conf.path);
			wh_draft_uint(&d[nd], WH_F_TO, to);
			wh_draft_uint(&d[nd], WH_F_FROM, from);
			nd++;
			snprintf(msg, sizeof msg, "%s → %s",
				 wh_status_label(from), wh_status_label(to));
		}
	}
	int nf = 0;
	size_t nk = 0;
	const char *path = have_view && v.path ? v.path : c->conf.path;
	if (rc == CLI_OK) {
		wh_draft_init(&d[nd], WH_OP_CASE_SET, code, seq, path);
		nf = edit_fields(&e, &d[nd]);
		int brc = cli_probe_drafts(d, (size_t)nd +
						      (d[nd].nfields ? 1 : 0));
		if (brc)
			rc = cli_store_err(c, e.id, brc);
	}
	/* Personal data is sealed, with the case's own key when this
	 * station can open it (cli_seal.h). */
	if (rc == CLI_OK && edit_personal(&e))
		rc = cli_seal_begin(c, e.id, &v, path, e.str[WH_F_REPORTER],
				    e.str[WH_F_CONTACT], &sp);
	if (rc == CLI_OK && sp.key) {
		int src = cli_seal_drafts(&sp, code, seq, path, &d[nd],
					  &d[nd + 1], &nk);
		if (src)
			rc = cli_store_err(c, e.id, src);
	}
	if (rc == CLI_OK && nf) {
		nd += 1 + (int)nk; /* the set, and a keys op after it */
		size_t n = strlen(msg);
		snprintf(msg + n, sizeof msg - n, "%s%d field%s updated",
			 n ? "; " : "", nf, nf == 1 ? "" : "s");
	}
	if (rc == CLI_OK) {
		int src = wh_store_author(c->store, c->key, d, (size_t)nd,
					  wh_clock_realtime, NULL, NULL, NULL);
		if (src)
			rc = cli_store_err(c, e.id, src);
	}
	cli_seal_fini(&sp);
	if (have_view)
		wh_case_fini(&v);
	edit_fini(&e);
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
	if ((rc = probe_str(c, "note text", WH_OP_CASE_NOTE, WH_F_TEXT,
			    s.pos[1])))
		return rc;
	if ((rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE)))
		return rc;
	struct wh_case v;
	if ((rc = cli_case_load(c, code, seq, &v)))
		return rc;
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_CASE_NOTE, code, seq,
		      v.path ? v.path : c->conf.path);
	wh_draft_str(&d, WH_F_TEXT, s.pos[1]);
	int src = wh_store_author(c->store, c->key, &d, 1, wh_clock_realtime,
				  NULL, NULL, NULL);
	wh_case_fini(&v);
	if (src)
		return cli_store_err(c, s.pos[0], src);
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
			if ((rc = probe_str(c, opt, WH_OP_TAG_ADD, WH_F_TAG,
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
