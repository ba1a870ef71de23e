/*
 * import_plan.c: what one row of `whistle case import` does to the
 * store, and the batches that write it.
 *
 * Identity, in this order: a row with an id updates that case; else a
 * row whose external_ref (or, without one, the reference derived from
 * its content, import_row.c) is held by a case updates that case; else
 * the row creates a case carrying that reference. The references held
 * are read once per pass into a sorted array (one walk of the case
 * list), so a row costs a binary search, not a scan.
 *
 * An update writes only what differs from the case's view: fields whose
 * value differs, a status step if the status differs (refused if the
 * workflow does not allow it), tags the case lacks (never removes one:
 * tags added by hand stay), a move if the place differs. So a file
 * imported twice changes nothing the second time.
 *
 * Every row is decided against the store as the pass found it (see
 * import.h): the seen set refuses a second row for a case or a
 * reference, which is what makes that true. A row's ops go to the batch
 * with copies of everything they borrow, since the row's buffer is
 * reused; a new case's follow-up ops (status, tags, the 'created' note)
 * carry seq 0 and so take the seq the store allocates for the create
 * before them in the same wh_store_author call.
 *
 * Reporter and contact are never written in clear: a row that gives
 * them seals them (cli_seal.h), under the case's key when this station
 * can open it, else a new key whose envelope is put in the store, one
 * transaction for the batch's envelopes, just before the batch's ops. An
 * update compares them with what this station opens; on a case whose
 * personal data was erased they are left out (the erasure stands).
 */
#include "cli_seal.h"
#include "import.h"

#include <stdlib.h>
#include <string.h>

/* A create, status, move or set, a note, a keys op, and the tags. */
#define ROW_DRAFTS (5u + IMP_MAX_TAGS)

struct imp_ref {
	char *ref;
	char code[WH_CODE_MAX + 1];
	uint32_t seq;
	uint32_t n;		    /* cases holding it (after compaction) */
	char other[WH_CASE_ID_MAX]; /* a second holder, for the message */
};

/* Open addressing, string -> line; grows at half full. */
struct imp_seen {
	char **key;
	unsigned long *line;
	size_t cap, n;
};

struct walk {
	struct imp_ref *v;
	size_t n, cap;
};

static int collect_ref(void *ctx, const struct wh_case *c)
{
	struct walk *w = ctx;
	if (!c->extref || !*c->extref)
		return 0;
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 256;
		w->v = wh_xrealloc(w->v, w->cap * sizeof *w->v);
	}
	struct imp_ref *e = &w->v[w->n++];
	memset(e, 0, sizeof *e);
	e->ref = wh_xstrndup(c->extref, strlen(c->extref));
	memcpy(e->code, c->code, sizeof e->code);
	e->seq = c->seq;
	e->n = 1;
	return 0;
}

static int ref_cmp(const void *a, const void *b)
{
	const struct imp_ref *x = a, *y = b;
	int d = strcmp(x->ref, y->ref);
	if (d)
		return d;
	d = strcmp(x->code, y->code);
	if (d)
		return d;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sort, then keep one entry per reference (the lowest case id), counting
 * how many cases hold it. */
static void refs_compact(struct imp_plan *p)
{
	if (!p->nrefs)
		return; /* qsort(NULL, 0) is undefined */
	qsort(p->refs, p->nrefs, sizeof *p->refs, ref_cmp);
	size_t k = 0;
	for (size_t i = 0; i < p->nrefs; i++) {
		struct imp_ref *e = &p->refs[i];
		if (k && !strcmp(p->refs[k - 1].ref, e->ref)) {
			struct imp_ref *first = &p->refs[k - 1];
			if (first->n++ == 1)
				wh_case_id_format(e->code, e->seq,
						  first->other);
			free(e->ref);
			continue;
		}
		p->refs[k++] = *e;
	}
	p->nrefs = k;
}

static const struct imp_ref *ref_find(const struct imp_plan *p, const char *ref)
{
	size_t lo = 0, hi = p->nrefs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(ref, p->refs[mid].ref);
		if (!d)
			return &p->refs[mid];
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static size_t seen_slot(const struct imp_seen *s, const char *k)
{
	size_t i = (size_t)str_hash(k) & (s->cap - 1);
	while (s->key[i] && strcmp(s->key[i], k))
		i = (i + 1) & (s->cap - 1);
	return i;
}

/* The line that took key before, or 0. */
static unsigned long seen_get(const struct imp_seen *s, const char *k)
{
	size_t i = seen_slot(s, k);
	return s->key[i] ? s->line[i] : 0;
}

static void seen_put(struct imp_seen *s, const char *k, unsigned long line)
{
	if (2 * (s->n + 1) > s->cap) {
		struct imp_seen g = {wh_xcalloc(2 * s->cap, sizeof(char *)),
				     wh_xcalloc(2 * s->cap, sizeof(long)),
				     2 * s->cap, s->n};
		for (size_t i = 0; i < s->cap; i++)
			if (s->key[i]) {
				size_t j = seen_slot(&g, s->key[i]);
				g.key[j] = s->key[i];
				g.line[j] = s->line[i];
			}
		free(s->key);
		free(s->line);
		*s = g;
	}
	size_t i = seen_slot(s, k);
	if (!s->key[i]) {
		s->key[i] = wh_xstrndup(k, strlen(k));
		s->n++;
	}
	s->line[i] = line;
}

int imp_plan_init(struct imp_plan *p, struct cli *c, int write)
{
	memset(p, 0, sizeof *p);
	p->c = c;
	p->write = write;
	p->seen = wh_xcalloc(1, sizeof *p->seen);
	p->seen->cap = 1024;
	p->seen->key = wh_xcalloc(p->seen->cap, sizeof(char *));
	p->seen->line = wh_xcalloc(p->seen->cap, sizeof(long));
	p->rd = wh_xcalloc(ROW_DRAFTS, sizeof *p->rd);
	p->rcache = wh_xcalloc(1, sizeof *p->rcache);
	/* Probing builds with a throwaway key, so checking needs no
	 * signature of ours (and a dry run signs nothing with it). */
	int rc = wh_key_generate(&p->probe_key);
	if (rc)
		return rc;
	struct walk w = {NULL, 0, 0};
	struct wh_case_filter f = {NULL, -1, 0};
	rc = wh_store_case_list(c->store, &f, collect_ref, &w);
	p->refs = w.v;
	p->nrefs = w.n;
	if (rc == WH_OK)
		refs_compact(p);
	return rc;
}

static void batch_drop(struct imp_plan *p)
{
	for (size_t i = 0; i < p->nowned; i++)
		free(p->owned[i]);
	p->nowned = 0;
	for (size_t i = 0; i < p->nseals; i++) {
		cli_seal_fini(p->seals[i]);
		free(p->seals[i]);
	}
	p->nseals = 0;
	p->nd = 0;
	p->batch_rows = 0;
}

void imp_plan_fini(struct imp_plan *p)
{
	batch_drop(p);
	for (size_t i = 0; i < p->nrefs; i++)
		free(p->refs[i].ref);
	free(p->refs);
	if (p->seen) {
		for (size_t i = 0; i < p->seen->cap; i++)
			free(p->seen->key[i]);
		free(p->seen->key);
		free(p->seen->line);
		free(p->seen);
	}
	free(p->rd);
	wh_key_free(p->probe_key);
	free(p->d);
	free(p->fill);
	free(p->seals);
	if (p->rcache)
		cli_rcache_fini(p->rcache);
	free(p->rcache);
	free(p->owned);
	memset(p, 0, sizeof *p);
}

int imp_plan_flush(struct imp_plan *p)
{
	int rc = WH_OK;
	/* Envelopes first, all in one transaction: an op naming content
	 * we lack would only make us ask peers for it. */
	struct wh_slice *env = wh_xcalloc(p->nseals + 1, sizeof *env);
	size_t ne = 0;
	for (size_t i = 0; i < p->nseals; i++)
		if (p->seals[i]->new_key)
			env[ne++] = (struct wh_slice){p->seals[i]->env.p,
						      p->seals[i]->env.len};
	if (ne)
		rc = wh_store_blob_put_many(p->c->store, env, ne);
	free(env);
	if (!rc && p->nd)
		rc = wh_store_author_fill(p->c->store, p->c->key, p->d, p->nd,
					  wh_clock_realtime, NULL, NULL, NULL,
					  cli_seal_fill, p->fill);
	batch_drop(p);
	return rc;
}

static const void *keep(struct imp_plan *p, const void *src, size_t n)
{
	if (p->nowned == p->ocap) {
		p->ocap = p->ocap ? 2 * p->ocap : 1024;
		p->owned = wh_xrealloc(p->owned, p->ocap * sizeof *p->owned);
	}
	char *m = wh_xmalloc(n + 1);
	memcpy(m, src, n);
	m[n] = '\0';
	p->owned[p->nowned++] = m;
	return m;
}

/* Append the row's drafts to the batch, with copies of what they
 * borrow (the row, the view and our locals all go away). */
static void queue(struct imp_plan *p, size_t n)
{
	if (p->nd + n > p->dcap) {
		p->dcap = p->dcap ? 2 * p->dcap : 1024;
		if (p->dcap < p->nd + n)
			p->dcap = p->nd + n;
		p->d = wh_xrealloc(p->d, p->dcap * sizeof *p->d);
		p->fill = wh_xrealloc(p->fill, p->dcap * sizeof *p->fill);
	}
	for (size_t i = 0; i < n; i++) {
		p->fill[p->nd] = NULL;
		struct wh_op_draft *d = &p->d[p->nd++];
		*d = p->rd[i];
		d->code = keep(p, d->code, strlen(d->code));
		d->path = keep(p, d->path, strlen(d->path));
		for (uint32_t k = 0; k < d->nfields; k++) {
			struct wh_field *f = &d->fields[k];
			if (f->type == WH_T_STR || f->type == WH_T_BIN ||
			    f->type == WH_T_ARRAY)
				f->s.p = keep(p, f->s.p, f->s.n);
		}
	}
	p->batch_rows++;
}

static const char *view_str(const struct wh_case *cv, uint8_t key)
{
	switch (key) {
	case WH_F_TITLE:
		return cv->title;
	case WH_F_DESCRIPTION:
		return cv->description;
	case WH_F_CATEGORY:
		return cv->category;
	case WH_F_ADDRESS:
		return cv->address;
	case WH_F_EXTREF:
		return cv->extref;
	default:
		return NULL;
	}
}

/* The personal ones are sealed (seal_row), never among these. */
static const uint8_t text_keys[] = {WH_F_TITLE, WH_F_DESCRIPTION,
				    WH_F_CATEGORY, WH_F_ADDRESS, WH_F_EXTREF};

/* Fields of v that differ from cv (every given one when cv is NULL). */
static int lww_fields(const struct imp_vals *v, const struct wh_case *cv,
		      const char *ref, struct wh_op_draft *d)
{
	int n = 0;
	for (size_t i = 0; i < sizeof text_keys; i++) {
		uint8_t k = text_keys[i];
		const char *s = k == WH_F_EXTREF ? ref : v->str[k];
		const char *now = cv ? view_str(cv, k) : NULL;
		if (s && (!now || strcmp(s, now))) {
			wh_draft_str(d, k, s);
			n++;
		}
	}
	if (v->source >= 0 && (!cv || v->source != cv->source)) {
		wh_draft_uint(d, WH_F_SOURCE, (uint64_t)v->source);
		n++;
	}
	if (v->priority >= 0 && (!cv || v->priority != cv->priority)) {
		wh_draft_uint(d, WH_F_PRIORITY, (uint64_t)v->priority);
		n++;
	}
	if (v->has_loc &&
	    (!cv || !cv->has_location || cv->lat_e7 != v->lat_e7 ||
	     cv->lon_e7 != v->lon_e7)) {
		wh_draft_array(d, WH_F_LOCATION, v->loc.p, v->loc.len, 2);
		n++;
	}
	return n;
}

static void status_draft(struct wh_op_draft *d, const char *code, uint32_t seq,
			 const char *path, unsigned from, unsigned to)
{
	wh_draft_init(d, WH_OP_CASE_STATUS, code, seq, path);
	wh_draft_uint(d, WH_F_TO, to);
	wh_draft_uint(d, WH_F_FROM, from);
}

static void tag_draft(struct wh_op_draft *d, const char *code, uint32_t seq,
		      const char *path, const char *tag)
{
	wh_draft_init(d, WH_OP_TAG_ADD, code, seq, path);
	wh_draft_uint(d, WH_F_SET, WH_SET_TAGS);
	wh_draft_str(d, WH_F_TAG, tag);
}

/* Forget the row's seal (refused, unchanged, or a dry run). */
static void row_seal_drop(struct imp_plan *p)
{
	if (p->row_seal) {
		cli_seal_fini(p->row_seal);
		free(p->row_seal);
	}
	p->row_seal = NULL;
	p->row_fill = 0;
}

/* Seal the row's reporter and contact into *dset (the create, seq 0, or
 * the set of case cv) and, under a new key, the keys op into *dkeys
 * (*nk = 1). pd: what this station sees of cv. 0, 1 (refused, why
 * filled) or a negative error. */
static int seal_row(struct imp_plan *p, const struct imp_vals *v,
		    const struct wh_case *cv, struct cli_pd *pd,
		    const char *code, uint32_t seq, const char *path,
		    struct wh_op_draft *dset, struct wh_op_draft *dkeys,
		    size_t *nk, char *why, size_t whyn)
{
	struct cli_seal *sp = wh_xcalloc(1, sizeof *sp);
	const char *w = NULL;
	int rc = cli_seal_prepare(p->c, cv, pd, path, v->str[WH_F_REPORTER],
				  v->str[WH_F_CONTACT],
				  cv ? NULL : p->rcache, sp, &w);
	if (!rc)
		rc = cli_seal_drafts(sp, code, seq, path, dset, dkeys, nk);
	if (rc) {
		cli_seal_fini(sp);
		free(sp);
		snprintf(why, whyn, "reporter, contact: %s",
			 w ? w : wh_strerror(rc));
		return rc == WH_ESTATE ? 1 : rc;
	}
	row_seal_drop(p);
	p->row_seal = sp;
	p->row_fill = seq == 0;
	return 0;
}

/* Whether the row's reporter or contact differ from what this station
 * sees (an erased case's are left out: the erasure stands). */
static int personal_differs(const struct imp_vals *v, const struct cli_pd *pd)
{
	const char *r = v->str[WH_F_REPORTER], *c = v->str[WH_F_CONTACT];
	if (!r && !c)
		return 0;
	if (pd->state == CLI_PD_ERASED)
		return 0;
	if (pd->state != CLI_PD_OPEN)
		return 1;
	return (r && (!pd->reporter || strcmp(r, pd->reporter))) ||
	       (c && (!pd->contact || strcmp(c, pd->contact)));
}

/* A new case: its create and the ops that follow it (seq 0: see top). */
static int plan_create(struct imp_plan *p, const struct imp_vals *v,
		       const char *ref, char *note, size_t *nd, char *why,
		       size_t whyn)
{
	const struct cli_conf *conf = &p->c->conf;
	const char *path = v->has_path ? v->path : conf->path;
	if (!v->str[WH_F_TITLE]) {
		if (v->str[WH_F_EXTREF])
			snprintf(why, whyn,
				 "title: required for a new case "
				 "(no case here has external_ref "
				 "'%s')",
				 ref);
		else
			snprintf(why, whyn,
				 "title: required for a new case "
				 "(no id or external_ref names a "
				 "case here)");
		return IMP_R_REFUSED;
	}
	if (v->status > 0 &&
	    !wh_status_allowed(WH_ST_NEW, (unsigned)v->status)) {
		snprintf(why, whyn,
			 "status '%s': a new case cannot start as "
			 "%s (%s)",
			 wh_status_name((unsigned)v->status),
			 wh_status_label((unsigned)v->status),
			 wh_status_name((unsigned)v->status));
		return IMP_R_REFUSED;
	}
	struct wh_op_draft *d = p->rd;
	size_t n = 0, nk = 0;
	wh_draft_init(&d[n], WH_OP_CASE_CREATE, conf->code, 0, path);
	lww_fields(v, NULL, ref, &d[n++]);
	if (v->str[WH_F_REPORTER] || v->str[WH_F_CONTACT]) {
		int rc = seal_row(p, v, NULL, NULL, conf->code, 0, path, &d[0],
				  &d[n], &nk, why, whyn);
		if (rc)
			return rc > 0 ? IMP_R_REFUSED : rc;
		n += nk;
	}
	if (v->status > 0)
		status_draft(&d[n++], conf->code, 0, path, WH_ST_NEW,
			     (unsigned)v->status);
	for (size_t i = 0; i < v->ntags; i++)
		tag_draft(&d[n++], conf->code, 0, path, v->tags[i]);
	if (v->created) {
		/* The source system's own time: kept as a note, since the
		 * case's created_at is when this station took it in. */
		snprintf(note, IMP_CREATED_MAX + 64,
			 "原系统登记时间 created: %s", v->created);
		wh_draft_init(&d[n], WH_OP_CASE_NOTE, conf->code, 0, path);
		wh_draft_str(&d[n++], WH_F_TEXT, note);
	}
	*nd = n;
	return IMP_R_CREATED;
}

/* An existing case: only what differs from its view cv. */
static int plan_update(struct imp_plan *p, const struct imp_vals *v,
		       const struct wh_case *cv, struct cli_pd *pd,
		       const char *id, size_t *nd, char *why, size_t whyn)
{
	const char *path = cv->path ? cv->path : p->c->conf.path;
	struct wh_op_draft *d = p->rd;
	size_t n = 0;
	if (v->status >= 0 && (unsigned)v->status != cv->status) {
		unsigned from = cv->status, to = (unsigned)v->status;
		if (!wh_status_allowed(from, to)) {
			snprintf(why, whyn,
				 "status '%s': %s is %s (%s), which "
				 "cannot go to %s (%s)",
				 wh_status_name(to), id, wh_status_label(from),
				 wh_status_name(from), wh_status_label(to),
				 wh_status_name(to));
			return IMP_R_REFUSED;
		}
		status_draft(&d[n++], cv->code, cv->seq, path, from, to);
	}
	wh_draft_init(&d[n], WH_OP_CASE_SET, cv->code, cv->seq, path);
	int nf = lww_fields(v, cv, v->str[WH_F_EXTREF], &d[n]);
	size_t nk = 0;
	if (personal_differs(v, pd)) {
		int rc = seal_row(p, v, cv, pd, cv->code, cv->seq, path, &d[n],
				  &d[n + 1], &nk, why, whyn);
		if (rc)
			return rc > 0 ? IMP_R_REFUSED : rc;
		nf++;
	}
	if (nf)
		n += 1 + nk; /* the set, and its keys op */
	for (size_t i = 0; i < v->ntags; i++)
		if (!wh_case_elem_find(cv, WH_SET_TAGS, v->tags[i]))
			tag_draft(&d[n++], cv->code, cv->seq, path, v->tags[i]);
	if (v->has_path && (!cv->path || strcmp(cv->path, v->path))) {
		wh_draft_init(&d[n], WH_OP_CASE_MOVE, cv->code, cv->seq, path);
		wh_draft_str(&d[n++], WH_F_NEW_PATH, v->path);
	}
	*nd = n;
	return n ? IMP_R_UPDATED : IMP_R_UNCHANGED;
}

/* Which case the row names: *found and (code, seq), or a refusal. */
static int identify(const struct imp_vals *v, const struct imp_ref *e,
		    const char *ref, int *found, char code[WH_CODE_MAX + 1],
		    uint32_t *seq, char *why, size_t whyn)
{
	*found = 0;
	if (v->has_id) {
		memcpy(code, v->code, WH_CODE_MAX + 1);
		*seq = v->seq;
		*found = 1;
		return IMP_R_UPDATED;
	}
	if (!e)
		return IMP_R_CREATED;
	if (e->n > 1) {
		char first[WH_CASE_ID_MAX];
		wh_case_id_format(e->code, e->seq, first);
		snprintf(why, whyn,
			 "external_ref '%s' is held by %u cases "
			 "(%s, %s%s): give the id to say which",
			 ref, e->n, first, e->other, e->n > 2 ? ", ..." : "");
		return IMP_R_REFUSED;
	}
	memcpy(code, e->code, WH_CODE_MAX + 1);
	*seq = e->seq;
	*found = 1;
	return IMP_R_UPDATED;
}

/* A second row for the same case or reference is refused (see top):
 * IMP_R_REFUSED with why, or 0. */
static int seen_before(const struct imp_plan *p, const char *casekey,
		       const char *refkey, int given_ref, char *why,
		       size_t whyn)
{
	unsigned long prev;
	if (casekey && (prev = seen_get(p->seen, casekey))) {
		snprintf(why, whyn,
			 "case %s is already named by line %lu "
			 "(one row per case)",
			 casekey, prev);
		return 1;
	}
	if (refkey && (prev = seen_get(p->seen, refkey))) {
		if (given_ref)
			snprintf(why, whyn,
				 "external_ref '%s' repeats line %lu",
				 refkey + 4, prev);
		else
			snprintf(why, whyn,
				 "same content as line %lu (give "
				 "each row an external_ref to "
				 "import both)",
				 prev);
		return 1;
	}
	return 0;
}

/* The row's nd drafts: probed (the op format's last word), then queued
 * when writing. WH_OK or the build error. */
static int take(struct imp_plan *p, size_t nd, char *why, size_t whyn)
{
	if (!nd) {
		row_seal_drop(p);
		return WH_OK;
	}
	int rc = cli_probe_drafts_with(p->probe_key, p->rd, nd);
	if (rc) {
		row_seal_drop(p);
		snprintf(why, whyn, "%s", wh_strerror(rc));
		return rc;
	}
	if (p->write) {
		size_t base = p->nd;
		queue(p, nd);
		/* The batch keeps the row's seal: its envelope goes in at
		 * the flush, and a create is sealed there (its seq). */
		if (p->row_seal) {
			if (p->nseals == p->scap) {
				p->scap = p->scap ? 2 * p->scap : 256;
				p->seals = wh_xrealloc(
					p->seals, p->scap * sizeof *p->seals);
			}
			p->seals[p->nseals++] = p->row_seal;
			if (p->row_fill)
				p->fill[base] = p->row_seal;
			p->row_seal = NULL;
			p->row_fill = 0;
		}
	}
	row_seal_drop(p);
	p->ops += nd;
	return WH_OK;
}

/* An update: the view, and what differs from it. */
static int update(struct imp_plan *p, const struct imp_vals *v,
		  const struct imp_ref *e, const char *code, uint32_t seq,
		  const char *id, char *why, size_t whyn)
{
	struct wh_case cv;
	int rc = wh_store_case_get(p->c->store, code, seq, &cv);
	if (rc == WH_ENOTFOUND) {
		snprintf(why, whyn, "id '%s': no such case here", id);
		return IMP_R_REFUSED;
	}
	if (rc) {
		snprintf(why, whyn, "%s: %s", id, wh_strerror(rc));
		return rc;
	}
	/* A new reference for this case that another case holds would
	 * make the next import ambiguous. */
	const char *ref = v->str[WH_F_EXTREF];
	size_t nd = 0;
	if (ref && e && (!cv.extref || strcmp(cv.extref, ref))) {
		char other[WH_CASE_ID_MAX];
		wh_case_id_format(e->code, e->seq, other);
		snprintf(why, whyn,
			 "external_ref '%s': already held by %s, "
			 "not by id %s",
			 ref, other, id);
		rc = IMP_R_REFUSED;
	} else {
		/* What this station sees of the case's personal data, for
		 * rows that give any. */
		struct cli_pd pd;
		memset(&pd, 0, sizeof pd);
		rc = v->str[WH_F_REPORTER] || v->str[WH_F_CONTACT]
			     ? cli_pd_load(p->c, &cv, &pd)
			     : WH_OK;
		if (rc)
			snprintf(why, whyn, "%s: %s", id, wh_strerror(rc));
		else
			rc = plan_update(p, v, &cv, &pd, id, &nd, why, whyn);
		cli_pd_fini(&pd);
	}
	/* Taken before the view goes: the drafts borrow from it. */
	if (rc != IMP_R_REFUSED && take(p, nd, why, whyn))
		rc = IMP_R_REFUSED;
	wh_case_fini(&cv);
	return rc;
}

int imp_plan_row(struct imp_plan *p, const struct imp_row *r,
		 const struct imp_vals *v, char *why, size_t whyn)
{
	const char *given = v->str[WH_F_EXTREF];
	const char *ref = given ? given : v->ref;
	const struct imp_ref *e = ref_find(p, ref);
	char code[WH_CODE_MAX + 1], id[WH_CASE_ID_MAX] = "";
	char refkey[8 + 2 * WH_PATH_MAX];
	uint32_t seq = 0;
	int found, rc;
	if ((rc = identify(v, e, ref, &found, code, &seq, why, whyn)) ==
	    IMP_R_REFUSED)
		return rc;
	if (found)
		wh_case_id_format(code, seq, id);
	/* A row named by its id claims no reference unless it gives one:
	 * rows of only "id,status" all derive the same empty one. */
	int claims = given || !v->has_id;
	snprintf(refkey, sizeof refkey, "ref:%s", ref);
	if (seen_before(p, found ? id : NULL, claims ? refkey : NULL,
			given != NULL, why, whyn))
		return IMP_R_REFUSED;
	if (found) {
		rc = update(p, v, e, code, seq, id, why, whyn);
	} else {
		char note[IMP_CREATED_MAX + 64];
		size_t nd = 0;
		rc = plan_create(p, v, ref, note, &nd, why, whyn);
		if (rc != IMP_R_REFUSED && take(p, nd, why, whyn))
			rc = IMP_R_REFUSED;
	}
	row_seal_drop(p); /* a refused row's, if any */
	if (rc <= IMP_R_REFUSED)
		return rc;
	/* Only a row that was taken claims its case and reference. */
	if (found)
		seen_put(p->seen, id, r->line);
	if (claims)
		seen_put(p->seen, refkey, r->line);
	if (rc == IMP_R_CREATED)
		p->created++;
	else if (rc == IMP_R_UPDATED)
		p->updated++;
	else
		p->unchanged++;
	if (p->write && p->batch_rows >= IMP_BATCH_ROWS) {
		int src = imp_plan_flush(p);
		if (src) {
			snprintf(why, whyn, "store: %s%s",
				 cli_roster_refusal(src) ? "refused by the "
							   "roster: "
							 : "",
				 wh_strerror(src));
			return src;
		}
	}
	return rc;
}
