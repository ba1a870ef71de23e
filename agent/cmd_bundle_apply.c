/*
 * cmd_bundle_apply.c: `whistle bundle apply` and `whistle bundle show`.
 *
 * Apply, in this order, so that nothing is written from a bundle that
 * is damaged, forged or from a stranger:
 *   1. the container: magic, header, every record's framing, count,
 *      BLAKE2b-256 over every byte, the writer's Ed25519 signature
 *      (wh_opfile_open), all before anything else;
 *   2. the writer: this station, a member of the district's roster now
 *      (a bound home; the rosters the bundle carries count, each only if
 *      the held ones would take it, so a station that no roster reached
 *      yet can take its first bundle) or in the trust list (lab mode),
 *      else refused;
 *   3. rosters (each checked against the authority like any roster),
 *      then ops through wh_store_ingest, the ingest sync uses, so the
 *      roster's rule applies to each op; then content, taken only if an
 *      op here names it with that size.
 * Steps 1 and 2 are all or nothing for the bundle. Past them it is per
 * op: every op carries its own signature and is judged alone, so one op
 * the roster now refuses (a PC revoked while the stick travelled) does
 * not hold back the urgent cases of everyone else it carries; refused
 * ops are named with their reason. Applying the same bundle again, or an
 * older one, adds nothing: ops are known by id, rosters by serial,
 * content by hash.
 */
#include "bundle_int.h"
#include "carry.h"
#include "json.h"
#include "roster.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define APPLY_BATCH 1024u
#define REFUSED_SHOWN 20u

static const char apply_help[] =
	"usage: whistle bundle apply [--quiet] FILE\n"
	"\n"
	"Verify a bundle (checksum over every byte, the writer's signature,\n"
	"and that the writer is a station this one trusts: the district's\n"
	"roster, or the trust list in lab mode) and add what it carries:\n"
	"rosters, then ops (each checked like an op from sync: encoding,\n"
	"clock, signature, the roster's rule), then attachments. A damaged,\n"
	"forged or untrusted bundle is refused whole, with the reason, and\n"
	"changes nothing. Ops refused one by one are named. Applying a bundle\n"
	"twice changes nothing. Ops outside this station's own path are kept\n"
	"too: a station carries what it is given (store and forward).\n"
	"\n"
	"Prints what was added, already held and refused (--json: an\n"
	"object). --quiet: no progress line.\n";

static const char show_help[] =
	"usage: whistle bundle show FILE\n"
	"\n"
	"Check a bundle (checksum and signature) and describe it: who wrote\n"
	"it and whether this station trusts the writer, for whom, its scope,\n"
	"and its cases in the order they come (urgent first). Applies\n"
	"nothing.\n";

struct recs {
	struct wh_slice *ops, *rosters, *blobs;
	size_t *op_off;
	size_t nops, nrosters, nblobs;
};

static void recs_collect(struct wh_opfile_reader *rd, struct recs *r)
{
	memset(r, 0, sizeof *r);
	r->ops = wh_xcalloc(rd->nops + 1, sizeof *r->ops);
	r->op_off = wh_xcalloc(rd->nops + 1, sizeof *r->op_off);
	r->rosters = wh_xcalloc(rd->nrosters + 1, sizeof *r->rosters);
	r->blobs = wh_xcalloc(rd->nblobs + 1, sizeof *r->blobs);
	enum wh_oprec kind;
	struct wh_slice s;
	size_t off;
	while (wh_opfile_next_rec(rd, &kind, &s, &off)) {
		if (kind == WH_OPREC_OP && r->nops < rd->nops) {
			r->op_off[r->nops] = off;
			r->ops[r->nops++] = s;
		} else if (kind == WH_OPREC_ROSTER && r->nrosters < rd->nrosters) {
			r->rosters[r->nrosters++] = s;
		} else if (kind == WH_OPREC_BLOB && r->nblobs < rd->nblobs) {
			r->blobs[r->nblobs++] = s;
		}
	}
}

static void recs_free(struct recs *r)
{
	free(r->ops);
	free(r->op_off);
	free(r->rosters);
	free(r->blobs);
}

/* Steps 1 and 2. CLI_OK with hdr and the writer's name, or refused. */
static int open_bundle(struct cli *c, const char *file, const struct bfile *f,
		       struct wh_opfile_hdr *hdr, struct wh_opfile_reader *rd,
		       char who[WH_NET_NAME_MAX + 1], int *trusted,
		       const char *nothing)
{
	size_t off = 0;
	if (f->n == 0)
		return cli_fail(c, "%s: empty file, not a bundle; %s", file,
				nothing);
	int rc = wh_opfile_open(f->p, f->n, hdr, rd, &off);
	if (rc != WH_OK)
		return bundle_refused(c, file, rc, off, f->n, nothing);
	if (hdr->version != WH_OPFILE_BUNDLE)
		return cli_fail(c, "%s: an op file (version %u), not a bundle: "
				   "use 'whistle import %s'; %s",
				file, (unsigned)hdr->version, file, nothing);
	/* The rosters it carries may be what makes its writer a member
	 * (a station bound but not reached by any roster yet). */
	struct wh_opfile_reader r2 = *rd;
	struct wh_slice ro[WH_ROSTER_MAX_DELEGATES + 1];
	size_t nr = 0;
	enum wh_oprec kind;
	struct wh_slice s;
	while (nr < sizeof ro / sizeof ro[0] &&
	       wh_opfile_next_rec(&r2, &kind, &s, &off))
		if (kind == WH_OPREC_ROSTER)
			ro[nr++] = s;
	char path[WH_PATH_MAX + 1];
	*trusted = bundle_who_with(c, hdr->writer, ro, nr, who, path);
	return CLI_OK;
}

struct tally {
	size_t added, known, refused;
	size_t r_new, r_held, r_ignored, r_refused;
	size_t b_new, b_held, b_unwanted;
	int learnt;
};

static void rosters_apply(struct cli *c, const char *file,
			  const struct recs *r, struct tally *t)
{
	for (size_t i = 0; i < r->nrosters; i++) {
		const char *why = NULL;
		struct wh_roster_change ch;
		int rc = wh_store_roster_put(c->store, r->rosters[i].p,
					     r->rosters[i].n, &ch, &why);
		if (rc == WH_OK)
			t->r_new++;
		else if (rc == WH_EEXIST || rc == WH_EOLD)
			t->r_held++;
		else if (rc == WH_ENOTFOUND)
			t->r_ignored++; /* lab mode: no authority to check it */
		else {
			t->r_refused++;
			cli_fail(c, "%s: roster #%zu refused: %s%s%s", file,
				 i + 1, wh_strerror(rc), why ? ": " : "",
				 why ? why : "");
		}
	}
}

/* With what it is about: the case and its author. */
static void refused_one(const struct cli *c, const char *file, size_t i,
			size_t off, const struct wh_slice *s, int why)
{
	struct wh_op op;
	char who[16] = "?", id[WH_CASE_ID_MAX] = "?";
	if (wh_op_decode(s->p, s->n, &op) == WH_OK) {
		cli_author(c, op.author, who);
		wh_case_id_format(op.code, op.seq, id);
	}
	cli_fail(c, "%s: op #%zu at byte %zu (%s, by %s): refused: %s", file,
		 i + 1, off, id, who, wh_strerror(why));
}

static int ops_apply(struct cli *c, const char *file, const struct recs *r,
		     struct progress *pr, struct tally *t)
{
	int *res = wh_xcalloc(APPLY_BATCH, sizeof *res);
	struct wh_ingest_opts io = {.now_ms = 0, .policy = NULL,
				    .all_or_none = 0};
	int rc = WH_OK;
	for (size_t at = 0; at < r->nops; at += APPLY_BATCH) {
		size_t k = r->nops - at < APPLY_BATCH ? r->nops - at
						      : APPLY_BATCH;
		struct wh_ingest_result ir;
		rc = wh_store_ingest(c->store, r->ops + at, k, &io, res, &ir);
		if (rc != WH_OK)
			break;
		t->added += ir.added;
		t->known += ir.known;
		for (size_t i = 0; i < k; i++) {
			if (res[i] == WH_OK || res[i] == WH_EEXIST)
				continue;
			if (t->refused++ < REFUSED_SHOWN) {
				progress_clear(pr);
				refused_one(c, file, at + i, r->op_off[at + i],
					    &r->ops[at + i], res[i]);
			}
		}
		progress_verb(pr, "adding");
		progress_update(pr, at + k, r->nops);
	}
	free(res);
	if (t->refused > REFUSED_SHOWN)
		cli_fail(c, "%s: and %zu more ops refused", file,
			 t->refused - REFUSED_SHOWN);
	return rc;
}

static int blobs_apply(struct cli *c, const struct recs *r, struct tally *t)
{
	for (size_t i = 0; i < r->nblobs; i++) {
		uint8_t h[WH_ID_BYTES];
		wh_hash(r->blobs[i].p, r->blobs[i].n, h);
		int done = 0;
		int rc = wh_store_blob_part(c->store, h, r->blobs[i].n, 0,
					    r->blobs[i].p, r->blobs[i].n, &done);
		if (rc == WH_OK)
			t->b_new++;
		else if (rc == WH_EEXIST)
			t->b_held++;
		else if (rc == WH_ENOTFOUND || rc == WH_EFIELD ||
			 rc == WH_EDENIED)
			t->b_unwanted++; /* no op here names it so, or erased */
		else
			return rc;
	}
	return WH_OK;
}

static void apply_report(struct cli *c, const char *file,
			 const struct wh_opfile_hdr *h, const char *who,
			 const struct tally *t)
{
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "file", file);
		json_khex(&j, "writer", h->writer, WH_PK_BYTES);
		json_kstr(&j, "writer_name", who);
		json_kstr(&j, "scope", h->scope);
		json_kuint(&j, "added", t->added);
		json_kuint(&j, "known", t->known);
		json_kuint(&j, "refused", t->refused);
		json_kuint(&j, "rosters_added", t->r_new);
		json_kuint(&j, "rosters_held", t->r_held);
		json_kuint(&j, "rosters_refused", t->r_refused);
		json_kuint(&j, "attachments_added", t->b_new);
		json_kuint(&j, "attachments_held", t->b_held);
		json_kuint(&j, "attachments_unwanted", t->b_unwanted);
		json_kbool(&j, "learnt", t->learnt);
		json_obj_end(&j);
		json_end(&j);
		return;
	}
	printf("applied %s from %s: %zu ops added, %zu already held, %zu "
	       "refused\n",
	       file, who, t->added, t->known, t->refused);
	if (t->r_new || t->r_held || t->r_refused)
		printf("  rosters: %zu installed, %zu held already, %zu "
		       "refused\n",
		       t->r_new, t->r_held, t->r_refused);
	if (t->b_new || t->b_held || t->b_unwanted)
		printf("  attachments: %zu added, %zu held already, %zu not "
		       "named by any op here\n",
		       t->b_new, t->b_held, t->b_unwanted);
	if (t->learnt)
		printf("  %s holds everything of %s that this station holds: "
		       "a bundle for it will leave that out\n",
		       who, h->scope);
}

int cmd_bundle_apply(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {{"quiet", 'q', 0},
					      {NULL, 0, 0}};
	const char *file = NULL;
	int quiet = 0, t, which, rc;
	const char *v;
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP)
			return cli_help(apply_help);
		if (t == ARG_OPT) {
			quiet = 1;
			continue;
		}
		if (file)
			return cli_usage(c, "unexpected argument '%s' (one "
					    "bundle at a time)",
					 v);
		file = v;
	}
	if (!file)
		return cli_usage(c, "missing FILE");
	if ((rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE)))
		return rc;
	struct bfile f;
	if ((rc = bfile_read(c, file, &f)))
		return rc;
	struct wh_opfile_hdr h;
	struct wh_opfile_reader rd;
	char who[WH_NET_NAME_MAX + 1];
	int trusted = 0;
	rc = open_bundle(c, file, &f, &h, &rd, who, &trusted,
			 "nothing applied");
	if (rc == CLI_OK && !trusted) {
		char hex[2 * WH_PK_BYTES + 1];
		wh_hex(h.writer, WH_PK_BYTES, hex);
		rc = cli_fail(c, "%s: signed by key %.16s..., which this "
				 "station does not trust (not in %s); nothing "
				 "applied",
			      file, hex,
			      c->conf.authority[0] ? "the district's roster"
						   : "the trust list");
	}
	if (rc != CLI_OK) {
		bfile_free(&f);
		return rc;
	}
	struct recs r;
	recs_collect(&rd, &r);
	struct tally tl;
	memset(&tl, 0, sizeof tl);
	struct progress pr;
	progress_start(&pr, "bundle apply", "adding", "ops", quiet || c->json);
	rosters_apply(c, file, &r, &tl);
	int src = ops_apply(c, file, &r, &pr, &tl);
	if (src == WH_OK)
		src = blobs_apply(c, &r, &tl);
	progress_end(&pr);
	if (src != WH_OK) {
		rc = cli_fail(c, "%s: store: %s; %zu ops were added before it "
				 "failed: apply the bundle again to finish "
				 "(it skips what landed)",
			      file, wh_strerror(src), tl.added);
	} else {
		/* What the writer holds (carry.h). Our own bundles teach
		 * nothing. */
		if (memcmp(h.writer, c->key->pk, WH_PK_BYTES) && h.has_base &&
		    h.scope[0])
			tl.learnt = carry_learn(c->store, h.writer, h.scope,
						h.base_count, h.base_digest,
						"bundle") == WH_OK;
		apply_report(c, file, &h, who, &tl);
	}
	recs_free(&r);
	bfile_free(&f);
	return rc;
}

/* ---- show ---------------------------------------------------------- */

struct sop {
	char code[WH_CODE_MAX + 1];
	uint32_t seq;
	size_t idx; /* order in the file */
	struct wh_op op;
};

static int sop_key_cmp(const void *x, const void *y)
{
	const struct sop *a = x, *b = y;
	int d = strcmp(a->code, b->code);
	if (d)
		return d;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return wh_op_cmp(&a->op, &b->op); /* fold order within a case */
}

struct scase {
	size_t first, n, at; /* sops[first..first+n); at: first in file */
};

static int scase_cmp(const void *x, const void *y)
{
	const struct scase *a = x, *b = y;
	return a->at < b->at ? -1 : a->at > b->at;
}

static void show_case(struct cli *c, struct json *j, const struct sop *o,
		      size_t n)
{
	char id[WH_CASE_ID_MAX];
	wh_case_id_format(o[0].code, o[0].seq, id);
	int doc = wh_code_is_doc(o[0].code);
	struct wh_case v;
	wh_case_init(&v, o[0].code, o[0].seq);
	/* Shown, not stored: an op the fold sets aside changes nothing. */
	for (size_t i = 0; i < n && !doc; i++)
		if (wh_case_apply(&v, &o[i].op, NULL) != WH_OK)
			continue;
	const char *pri = doc || !v.has_create ? "-"
						: wh_priority_name(v.priority);
	const char *title = doc ? "(document)" : v.title ? v.title : "";
	if (j) {
		json_obj(j);
		json_kstr(j, "id", id);
		json_kuint(j, "ops", n);
		json_kstr(j, "priority", pri);
		json_kstr(j, "title", title);
		json_kbool(j, "document", doc);
		json_obj_end(j);
	} else {
		printf("    %-18s %-7s %3zu ops  ", id, pri, n);
		cli_print_cell(stdout, title, 40, 1);
		putchar('\n');
	}
	(void)c;
	wh_case_fini(&v);
}

static void show_cases(struct cli *c, struct json *j, const struct recs *r)
{
	struct sop *o = wh_xcalloc(r->nops + 1, sizeof *o);
	size_t n = 0, bad = 0;
	for (size_t i = 0; i < r->nops; i++) {
		if (wh_op_decode(r->ops[i].p, r->ops[i].n, &o[n].op) != WH_OK) {
			bad++;
			continue;
		}
		snprintf(o[n].code, sizeof o[n].code, "%s", o[n].op.code);
		o[n].seq = o[n].op.seq;
		o[n].idx = i;
		n++;
	}
	qsort(o, n, sizeof *o, sop_key_cmp);
	struct scase *cs = wh_xcalloc(n + 1, sizeof *cs);
	size_t k = 0;
	for (size_t i = 0, e; i < n; i = e) {
		cs[k].first = i;
		cs[k].at = o[i].idx;
		for (e = i + 1; e < n && !strcmp(o[e].code, o[i].code) &&
				o[e].seq == o[i].seq;
		     e++)
			if (o[e].idx < cs[k].at)
				cs[k].at = o[e].idx;
		cs[k++].n = e - i;
	}
	qsort(cs, k, sizeof *cs, scase_cmp);
	if (j) {
		json_key(j, "cases");
		json_arr(j);
	} else {
		printf("  cases, in the order they come:\n");
	}
	for (size_t i = 0; i < k; i++)
		show_case(c, j, o + cs[i].first, cs[i].n);
	if (j) {
		json_arr_end(j);
		json_kuint(j, "undecodable", bad);
	} else if (bad) {
		printf("  %zu ops do not decode (apply will refuse them)\n",
		       bad);
	}
	free(cs);
	free(o);
}

static void show_header(const struct wh_opfile_hdr *h, const char *file,
			size_t size, const char *who, int trusted,
			const struct wh_opfile_reader *rd)
{
	char hex[2 * WH_PK_BYTES + 1], tm[CLI_TIME_MAX];
	wh_hex(h->writer, WH_PK_BYTES, hex);
	cli_time_local(h->created_ms, tm);
	printf("bundle %s: op file version %u, %zu bytes; checksum and "
	       "signature verified\n",
	       file, (unsigned)h->version, size);
	printf("  written %s by %s (key %.16s..., %s): %s\n", tm,
	       trusted ? who : "an unknown station", hex,
	       h->writer_path[0] ? h->writer_path : "?",
	       trusted ? "trusted here" : "NOT trusted here: apply refuses it");
	printf("  scope %s", h->scope[0] ? h->scope : "(everything)");
	if (h->has_for) {
		wh_hex(h->for_pk, WH_PK_BYTES, hex);
		printf(", for key %.16s...", hex);
	}
	if (h->since_ms) {
		cli_time_local(h->since_ms, tm);
		printf(", cases changed since %s", tm);
	}
	if (h->max_bytes)
		printf(", cut to %" PRIu64 " bytes (%" PRIu64
		       " cases left out)",
		       h->max_bytes, h->left_out);
	printf("\n  %" PRIu64 " ops of %" PRIu64 " cases, %" PRIu64
	       " rosters, %" PRIu64 " attachments\n",
	       rd->nops, h->cases, rd->nrosters, rd->nblobs);
}

int cmd_bundle_show(struct cli *c, int argc, char **argv)
{
	const char *file = NULL;
	int t, which, rc;
	const char *v;
	struct cli_args a;
	static const struct cli_opt opts[] = {{NULL, 0, 0}};
	cli_args_init(&a, argc, argv);
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP)
			return cli_help(show_help);
		if (file)
			return cli_usage(c, "unexpected argument '%s'", v);
		file = v;
	}
	if (!file)
		return cli_usage(c, "missing FILE");
	if ((rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE)))
		return rc;
	struct bfile f;
	if ((rc = bfile_read(c, file, &f)))
		return rc;
	struct wh_opfile_hdr h;
	struct wh_opfile_reader rd;
	char who[WH_NET_NAME_MAX + 1];
	int trusted = 0;
	rc = open_bundle(c, file, &f, &h, &rd, who, &trusted,
			 "not a bundle to apply");
	if (rc != CLI_OK) {
		bfile_free(&f);
		return rc;
	}
	struct recs r;
	recs_collect(&rd, &r);
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "file", file);
		json_kuint(&j, "version", h.version);
		json_kuint(&j, "bytes", f.n);
		json_kuint(&j, "created", h.created_ms);
		json_khex(&j, "writer", h.writer, WH_PK_BYTES);
		json_kstr(&j, "writer_name", trusted ? who : "");
		json_kstr(&j, "writer_path", h.writer_path);
		json_kbool(&j, "trusted", trusted);
		json_kstr(&j, "scope", h.scope);
		if (h.has_for)
			json_khex(&j, "for", h.for_pk, WH_PK_BYTES);
		json_kuint(&j, "since", h.since_ms);
		json_kuint(&j, "max_bytes", h.max_bytes);
		json_kuint(&j, "left_out", h.left_out);
		json_kuint(&j, "ops", rd.nops);
		json_kuint(&j, "rosters", rd.nrosters);
		json_kuint(&j, "attachments", rd.nblobs);
		show_cases(c, &j, &r);
		json_obj_end(&j);
		json_end(&j);
	} else {
		show_header(&h, file, f.n, who, trusted, &rd);
		show_cases(c, NULL, &r);
	}
	recs_free(&r);
	bfile_free(&f);
	return CLI_OK;
}
