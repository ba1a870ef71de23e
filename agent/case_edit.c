/*
 * case_edit.c: taking in and changing a case (case_edit.h), shared by
 * `case new`, `case set`, `case note` (cmd_case.c) and the web console.
 *
 * Each value is checked as it comes in, by a trial build of an op
 * holding it alone with a throwaway key, so a limit of the op format (a
 * title of 700 bytes) is named with its field before anything is read.
 * The change is then authored in one store call: a new case's create,
 * its sealed personal data's keys op and its tags take the seq the
 * store allocates for the create in that same call.
 *
 * Reporter and contact are never written in clear: they are sealed
 * (cli_seal.h), the key envelope put in the store just before the ops.
 * A new case's sealed value is bound to its seq, so it is sealed inside
 * the author call (wh_store_author_fill, cli_seal_fill).
 */
#include "case_edit.h"
#include "cli_seal.h"
#include "mp.h"

#include <stdlib.h>
#include <string.h>

/* Options shared by `case new` and `case set`. key 0: handled apart. */
static const struct fopt {
	const char *name;
	uint8_t key;
	unsigned in;
} fopts[] = {
    {"title", WH_F_TITLE, CW_IN_NEW | CW_IN_SET},
    {"description", WH_F_DESCRIPTION, CW_IN_NEW | CW_IN_SET},
    {"category", WH_F_CATEGORY, CW_IN_NEW | CW_IN_SET},
    {"address", WH_F_ADDRESS, CW_IN_NEW | CW_IN_SET},
    {"reporter", WH_F_REPORTER, CW_IN_NEW | CW_IN_SET},
    {"contact", WH_F_CONTACT, CW_IN_NEW | CW_IN_SET},
    {"ref", WH_F_EXTREF, CW_IN_NEW | CW_IN_SET},
    {"source", WH_F_SOURCE, CW_IN_NEW | CW_IN_SET},
    {"priority", WH_F_PRIORITY, CW_IN_NEW | CW_IN_SET},
    {"lat", 0, CW_IN_NEW | CW_IN_SET},
    {"lon", 0, CW_IN_NEW | CW_IN_SET},
    {"grid", 0, CW_IN_NEW},
    {"tag", 0, CW_IN_NEW},
    {"status", 0, CW_IN_SET},
};
#define NFOPTS (sizeof fopts / sizeof fopts[0])

void cw_edit_init(struct cw_edit *e, size_t max_tags)
{
	memset(e, 0, sizeof *e);
	e->source = e->priority = e->status = -1;
	e->captags = max_tags;
	e->tags = wh_xcalloc(max_tags + 1, sizeof *e->tags);
}

void cw_edit_fini(struct cw_edit *e)
{
	free(e->tags);
	e->tags = NULL;
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
int cw_probe_str(const struct cli *c, const char *opt, uint8_t kind,
		 uint8_t key, const char *v)
{
	struct wh_op_draft d;
	wh_draft_init(&d, kind, "X", 1, "x");
	wh_draft_str(&d, key, v);
	if (kind == WH_OP_TAG_ADD)
		wh_draft_uint(&d, WH_F_SET, WH_SET_TAGS);
	int rc = cli_probe_drafts(&d, 1);
	if (rc == WH_ETOOBIG)
		return cli_usage(c, "%s: too long (%zu bytes)", opt, strlen(v));
	if (rc != WH_OK)
		return cli_usage(c, "%s '%s': %s", opt, v, wh_strerror(rc));
	return CLI_OK;
}

static int edit_opt(const struct cli *c, struct cw_edit *e,
		    const struct fopt *f, const char *v)
{
	char opt[32];
	snprintf(opt, sizeof opt, "--%s", f->name);
	if (!strcmp(f->name, "tag")) {
		if (!*v)
			return cli_usage(c, "--tag: empty tag");
		if (e->ntags >= e->captags)
			return cli_usage(c, "--tag: at most %zu tags",
					 e->captags);
		e->tags[e->ntags++] = v;
		return cw_probe_str(c, opt, WH_OP_TAG_ADD, WH_F_TAG, v);
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
		return cw_probe_str(c, opt, WH_OP_CASE_SET, f->key, v);
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
		return cli_usage(c,
				 "--grid '%s': not a grid name (lower-case "
				 "[a-z0-9_-], at most %u bytes, no '/')",
				 v, WH_PART_MAX);
	return CLI_OK;
}

int cw_edit_opt(const struct cli *c, struct cw_edit *e, unsigned mode,
		const char *name, const char *v)
{
	for (size_t i = 0; i < NFOPTS; i++)
		if ((fopts[i].in & mode) && !strcmp(fopts[i].name, name))
			return edit_opt(c, e, &fopts[i], v);
	return 1;
}

int cw_edit_done(const struct cli *c, struct cw_edit *e)
{
	if (!e->lat != !e->lon)
		return cli_usage(c, "--lat and --lon go together");
	wh_buf_reset(&e->loc);
	if (e->lat) {
		wh_mpw_int(&e->loc, e->lat_e7);
		wh_mpw_int(&e->loc, e->lon_e7);
	}
	return CLI_OK;
}

/* Whether e gives personal data (reporter, contact): sealed, never
 * written in clear (cli_seal.h). */
static int edit_personal(const struct cw_edit *e)
{
	return e->str[WH_F_REPORTER] || e->str[WH_F_CONTACT];
}

/* The last-writer-wins fields of e into d, but for the personal ones,
 * which cli_seal_drafts adds sealed; how many fields e gives, those
 * counted. */
static int edit_fields(const struct cw_edit *e, struct wh_op_draft *d)
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

int cw_edit_count(const struct cw_edit *e)
{
	struct wh_op_draft probe;
	wh_draft_init(&probe, WH_OP_CASE_SET, "X", 1, "x");
	return edit_fields(e, &probe);
}

int cw_case_create(struct cli *c, const struct cw_edit *e, uint32_t *seq)
{
	int rc = CLI_OK;
	char path[WH_PATH_MAX + WH_PART_MAX + 2];
	if (!e->str[WH_F_TITLE])
		return cli_usage(c, "--title is required");
	snprintf(path, sizeof path, "%s%s%s", c->conf.path, e->grid ? "/" : "",
		 e->grid ? e->grid : "");
	if (!wh_path_valid(path, strlen(path)))
		return cli_usage(c,
				 "--grid '%s': the case path %s would be "
				 "too long or too deep",
				 e->grid, path);
	/* The create, its sealed personal data's keys op and its tags in
	 * one transaction: drafts with seq 0 take the seq the store
	 * allocates for the create before them, and the sealed value,
	 * bound to that seq, is sealed there (cli_seal_fill). */
	size_t nd = 2 + e->ntags, nk = 0;
	struct wh_op_draft *d = wh_xcalloc(nd, sizeof *d);
	struct cli_seal **seals = wh_xcalloc(nd, sizeof *seals);
	struct cli_seal sp;
	memset(&sp, 0, sizeof sp);
	wh_draft_init(&d[0], WH_OP_CASE_CREATE, c->conf.code, 0, path);
	edit_fields(e, &d[0]);
	for (size_t i = 0; i < e->ntags; i++) {
		wh_draft_init(&d[1 + i], WH_OP_TAG_ADD, c->conf.code, 0, path);
		wh_draft_uint(&d[1 + i], WH_F_SET, WH_SET_TAGS);
		wh_draft_str(&d[1 + i], WH_F_TAG, e->tags[i]);
	}
	int brc = cli_probe_drafts(d, 1 + e->ntags);
	if (brc)
		rc = cli_store_err(c, "new case", brc);
	if (rc == CLI_OK && edit_personal(e))
		rc = cli_seal_begin(c, "new case", NULL, path,
				    e->str[WH_F_REPORTER], e->str[WH_F_CONTACT],
				    &sp);
	if (rc == CLI_OK && sp.key) {
		int src = cli_seal_drafts(&sp, c->conf.code, 0, path, &d[0],
					  &d[1 + e->ntags], &nk);
		if (src)
			rc = cli_store_err(c, "new case", src);
		seals[0] = &sp;
	}
	if (rc == CLI_OK) {
		int src = wh_store_author_fill(
		    c->store, c->key, d, 1 + e->ntags + nk, wh_clock_realtime,
		    NULL, NULL, NULL, cli_seal_fill, seals);
		if (src)
			rc = cli_store_err(c, "new case", src);
	}
	cli_seal_fini(&sp);
	free(seals);
	*seq = d[0].seq;
	free(d);
	return rc;
}

int cw_case_set(struct cli *c, const struct cw_edit *e, const char *code,
		uint32_t seq, char msg[256])
{
	struct wh_op_draft d[3];
	struct wh_case v;
	struct cli_seal sp;
	int nd = 0;
	memset(&sp, 0, sizeof sp);
	msg[0] = '\0';
	if (cw_edit_count(e) == 0 && e->status < 0)
		return cli_usage(c, "nothing to change: give --status or a "
				    "field option");
	int rc = cli_case_load(c, code, seq, &v);
	if (rc)
		return rc;
	if (e->status >= 0) {
		unsigned from = v.status, to = (unsigned)e->status;
		const char *why = NULL;
		if (!wh_status_allowed(from, to)) {
			rc = cli_fail(
			    c, "%s: cannot go from %s (%s) to %s (%s)", e->id,
			    wh_status_label(from), wh_status_name(from),
			    wh_status_label(to), wh_status_name(to));
		} else if (wh_flow_status_check(&v, to, &why) != WH_OK) {
			/* the fold would ignore it: a case whistled to
			 * departments resolves when its lead does */
			rc = cli_fail(c, "%s: cannot go to %s (%s): %s", e->id,
				      wh_status_label(to), wh_status_name(to),
				      why);
		} else {
			wh_draft_init(&d[nd], WH_OP_CASE_STATUS, code, seq,
				      v.path ? v.path : c->conf.path);
			wh_draft_uint(&d[nd], WH_F_TO, to);
			wh_draft_uint(&d[nd], WH_F_FROM, from);
			nd++;
			snprintf(msg, 256, "%s → %s", wh_status_label(from),
				 wh_status_label(to));
		}
	}
	int nf = 0;
	size_t nk = 0;
	const char *path = v.path ? v.path : c->conf.path;
	if (rc == CLI_OK) {
		wh_draft_init(&d[nd], WH_OP_CASE_SET, code, seq, path);
		nf = edit_fields(e, &d[nd]);
		int brc =
		    cli_probe_drafts(d, (size_t)nd + (d[nd].nfields ? 1 : 0));
		if (brc)
			rc = cli_store_err(c, e->id, brc);
	}
	/* Personal data is sealed, with the case's own key when this
	 * station can open it (cli_seal.h). */
	if (rc == CLI_OK && edit_personal(e))
		rc = cli_seal_begin(c, e->id, &v, path, e->str[WH_F_REPORTER],
				    e->str[WH_F_CONTACT], &sp);
	if (rc == CLI_OK && sp.key) {
		int src = cli_seal_drafts(&sp, code, seq, path, &d[nd],
					  &d[nd + 1], &nk);
		if (src)
			rc = cli_store_err(c, e->id, src);
	}
	if (rc == CLI_OK && nf) {
		nd += 1 + (int)nk; /* the set, and a keys op after it */
		size_t n = strlen(msg);
		snprintf(msg + n, 256 - n, "%s%d field%s updated",
			 n ? "; " : "", nf, nf == 1 ? "" : "s");
	}
	if (rc == CLI_OK) {
		int src = wh_store_author(c->store, c->key, d, (size_t)nd,
					  wh_clock_realtime, NULL, NULL, NULL);
		if (src)
			rc = cli_store_err(c, e->id, src);
	}
	cli_seal_fini(&sp);
	wh_case_fini(&v);
	return rc;
}

int cw_case_note(struct cli *c, const char *id, const char *code, uint32_t seq,
		 const char *text)
{
	struct wh_case v;
	int rc = cli_case_load(c, code, seq, &v);
	if (rc)
		return rc;
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_CASE_NOTE, code, seq,
		      v.path ? v.path : c->conf.path);
	wh_draft_str(&d, WH_F_TEXT, text);
	int src = wh_store_author(c->store, c->key, &d, 1, wh_clock_realtime,
				  NULL, NULL, NULL);
	wh_case_fini(&v);
	if (src)
		return cli_store_err(c, id, src);
	return CLI_OK;
}
