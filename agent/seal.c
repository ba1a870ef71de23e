/*
 * seal.c: sealed personal data at the keyboard (cli_seal.h): what this
 * station can open, who the readers are, and the drafts that seal and
 * share a case key. The commands that use it: case new / set / import
 * (sealing), case whistle (sharing with summoned departments), case
 * erase-personal and case reseal (cmd_case_seal.c), case show (opening).
 *
 * A case's envelopes are found through its history: the keys ops whose
 * kid is the view's. Their content may not be here yet (it syncs after
 * the ops), which is "sealed: not readable here" until it comes.
 */
#include "cli_seal.h"
#include "trust.h"

#include <stdlib.h>
#include <string.h>

const char *cli_pd_name(int state)
{
	switch (state) {
	case CLI_PD_OPEN: return "open";
	case CLI_PD_SEALED: return "sealed";
	case CLI_PD_ERASED: return "erased";
	default: return "none";
	}
}

/* ---- opening ------------------------------------------------------ */

const char *cli_env_content_name(int content)
{
	switch (content) {
	case CLI_ENV_HELD: return "held";
	case CLI_ENV_MISSING: return "missing";
	default: return "destroyed";
	}
}

struct walk {
	struct cli_env *e;
	size_t n, cap;
};

static int keys_op(void *ctx, const struct wh_op *op, enum wh_apply how)
{
	struct walk *w = ctx;
	(void)how;
	if (op->kind != WH_OP_CASE_KEYS)
		return 0;
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 4;
		w->e = wh_xrealloc(w->e, w->cap * sizeof *w->e);
	}
	struct cli_env *e = &w->e[w->n++];
	memcpy(e->kid, wh_op_field(op, WH_F_KID)->s.p, WH_ID_BYTES);
	memcpy(e->blob, wh_op_field(op, WH_F_BLOB)->s.p, WH_ID_BYTES);
	e->content = CLI_ENV_MISSING;
	return 0;
}

/* Every keys op of the case and where its content stands; for those of
 * the current kid (NULL: none) held here, their readers into
 * pd->holders and the key when one of them opens with ours. */
static int envelopes(const struct cli *c, const struct wh_case *v,
		     const uint8_t *kid, struct cli_pd *pd)
{
	struct walk w = {NULL, 0, 0};
	int rc = wh_store_case_history(c->store, v->code, v->seq, keys_op, &w);
	pd->envs = w.e;
	pd->nenvs = rc ? 0 : w.n;
	struct wh_buf env = {0};
	for (size_t i = 0; rc == WH_OK && i < pd->nenvs; i++) {
		struct cli_env *e = &pd->envs[i];
		wh_buf_reset(&env);
		int grc = wh_store_blob_get(c->store, e->blob, 0, 0, &env, NULL);
		if (grc == WH_ENOTFOUND) {
			/* Named here but not fetched yet, or destroyed by an
			 * erase (then nobody is served it, not even us). */
			grc = wh_store_blob_in_scope(c->store, e->blob, NULL);
			e->content = grc == WH_OK ? CLI_ENV_MISSING
						  : CLI_ENV_DESTROYED;
			if (grc == WH_ENOTFOUND)
				grc = WH_OK;
			rc = grc;
			continue;
		}
		if (grc) {
			rc = grc;
			break;
		}
		e->content = CLI_ENV_HELD;
		struct wh_seal_env d;
		if (!kid || memcmp(e->kid, kid, WH_ID_BYTES) ||
		    wh_seal_env_decode(env.p, env.len, &d) ||
		    memcmp(d.kid, kid, WH_ID_BYTES))
			continue; /* not an envelope of this key */
		for (uint32_t k = 0; k < d.count; k++)
			wh_buf_append(&pd->holders,
				      d.entries + (size_t)k * WH_SEAL_ENV_ENTRY,
				      WH_SEAL_ENV_ENTRY);
		if (!pd->key &&
		    wh_seal_env_open(env.p, env.len, c->key, &pd->key) != WH_OK)
			pd->key = NULL;
	}
	wh_buf_fini(&env);
	return rc;
}

static char *dup_or_null(const char *s)
{
	return s ? wh_xstrndup(s, strlen(s)) : NULL;
}

int cli_pd_load(const struct cli *c, const struct wh_case *v, struct cli_pd *pd)
{
	memset(pd, 0, sizeof *pd);
	if (v->erased) {
		pd->state = CLI_PD_ERASED;
		return envelopes(c, v, NULL, pd);
	}
	/* Clear values folded after the last seal are newer than it
	 * (case.h); they win over what the seal holds. */
	pd->reporter = dup_or_null(v->reporter);
	pd->contact = dup_or_null(v->contact);
	if (!v->has_kid) {
		pd->state = pd->reporter || pd->contact ? CLI_PD_OPEN
							: CLI_PD_NONE;
		return WH_OK; /* no key: no keys op either */
	}
	int rc = envelopes(c, v, v->kid, pd);
	if (rc)
		return rc;
	pd->state = CLI_PD_SEALED;
	if (!pd->key || !v->sealed)
		return WH_OK;
	char *r = NULL, *k = NULL;
	if (wh_seal_open(pd->key, v->code, v->seq, v->sealed, v->nsealed, &r,
			 &k) != WH_OK)
		return WH_OK; /* our key, but it does not open: sealed */
	pd->state = CLI_PD_OPEN;
	if (!pd->reporter)
		pd->reporter = r;
	else
		free(r);
	if (!pd->contact)
		pd->contact = k;
	else
		free(k);
	return WH_OK;
}

void cli_pd_fini(struct cli_pd *pd)
{
	free(pd->reporter);
	free(pd->contact);
	wh_seal_key_free(pd->key);
	wh_buf_fini(&pd->holders);
	free(pd->envs);
	memset(pd, 0, sizeof *pd);
}

/* ---- readers ------------------------------------------------------ */

size_t cli_seal_summoned(const struct wh_case *v, const char **out,
			 size_t max)
{
	size_t n = 0;
	for (uint32_t i = 0; i < v->flow.nsummons && n < max; i++) {
		const char *d = v->flow.summons[i].dept;
		int seen = 0;
		for (size_t k = 0; k < n && !seen; k++)
			seen = !strcmp(out[k], d);
		if (!seen)
			out[n++] = d;
	}
	return n;
}

static void add_reader(uint8_t (**out)[WH_PK_BYTES], size_t *n, size_t *cap,
		       const uint8_t *pk)
{
	for (size_t i = 0; i < *n; i++)
		if (!memcmp((*out)[i], pk, WH_PK_BYTES))
			return;
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		*out = wh_xrealloc(*out, *cap * WH_PK_BYTES);
	}
	memcpy((*out)[(*n)++], pk, WH_PK_BYTES);
}

/* Lab use: the trust list stands in for the roster. */
static int lab_readers(const struct cli *c, const char *path,
		       uint8_t (**out)[WH_PK_BYTES], size_t *n, size_t *cap)
{
	struct trust t;
	if (trust_load(c, &t) != CLI_OK) {
		trust_fini(&t);
		return WH_EIO;
	}
	for (size_t i = 0; i < t.n; i++) {
		const char *p = t.e[i].path;
		if (wh_path_within(path, strlen(path), p, strlen(p)))
			add_reader(out, n, cap, t.e[i].pk);
	}
	trust_fini(&t);
	return WH_OK;
}

int cli_seal_readers(const struct cli *c, const char *path,
		     const char *const *depts, size_t ndepts,
		     uint8_t (**out)[WH_PK_BYTES], size_t *nout)
{
	uint8_t(*r)[WH_PK_BYTES] = NULL;
	size_t n = 0, cap = 0;
	add_reader(&r, &n, &cap, c->key->pk);
	struct wh_roster_set rs;
	int rc = wh_store_roster_set(c->store, &rs);
	if (rc == WH_ENOTFOUND) {
		rc = lab_readers(c, path, &r, &n, &cap);
	} else if (rc == WH_OK) {
		size_t max = WH_SEAL_ENV_MAX_READERS, got = 0;
		uint8_t(*g)[WH_PK_BYTES] = wh_xmalloc(max * WH_PK_BYTES);
		rc = wh_seal_readers(&rs, path, depts, ndepts, cli_now(c), g,
				     max, &got);
		for (size_t i = 0; i < got; i++)
			add_reader(&r, &n, &cap, g[i]);
		free(g);
		wh_roster_set_fini(&rs);
	}
	if (rc) {
		free(r);
		return rc;
	}
	*out = r;
	*nout = n;
	return WH_OK;
}

/* ---- sharing ------------------------------------------------------ */

static int holds(const struct cli_pd *pd, const uint8_t pk[WH_PK_BYTES])
{
	struct wh_seal_env e = {{0}, 0, pd ? pd->holders.p : NULL};
	if (!pd || !pd->holders.len)
		return 0;
	/* The holders are entries of several envelopes: look at each as
	 * its own one-entry envelope (they are not sorted together). */
	for (size_t at = 0; at < pd->holders.len; at += WH_SEAL_ENV_ENTRY) {
		e.count = 1;
		e.entries = pd->holders.p + at;
		if (wh_seal_env_holds(&e, pk))
			return 1;
	}
	return 0;
}

int cli_seal_share(const struct cli *c, const struct wh_seal_key *k,
		   const struct cli_pd *pd,
		   const uint8_t (*readers)[WH_PK_BYTES], size_t n,
		   const char *code, uint32_t seq, const char *path,
		   struct cli_share *share, struct wh_op_draft *d,
		   size_t *added)
{
	*added = 0;
	uint8_t(*todo)[WH_PK_BYTES] = wh_xmalloc((n ? n : 1) * WH_PK_BYTES);
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (!holds(pd, readers[i]))
			memcpy(todo[m++], readers[i], WH_PK_BYTES);
	int rc = WH_OK;
	if (m) {
		struct wh_buf env = {0};
		rc = wh_seal_env_build(k, (const uint8_t(*)[WH_PK_BYTES])todo,
				       m, &env);
		/* Content first: an op naming content we lack would only
		 * make us ask peers for it. */
		if (!rc)
			rc = wh_store_blob_put(c->store, env.p, env.len,
					       share->blob);
		if (rc == WH_EEXIST)
			rc = WH_OK;
		share->size = env.len;
		wh_buf_fini(&env);
	}
	free(todo);
	if (rc || !m)
		return rc;
	memcpy(share->kid, k->kid, WH_ID_BYTES);
	wh_draft_init(d, WH_OP_CASE_KEYS, code, seq, path);
	wh_draft_bin(d, WH_F_KID, share->kid, WH_ID_BYTES);
	wh_draft_bin(d, WH_F_BLOB, share->blob, WH_ID_BYTES);
	wh_draft_uint(d, WH_F_SIZE, share->size);
	*added = m;
	return WH_OK;
}

int cli_seal_share_case(const struct cli *c, const struct wh_case *v,
			const char *const *extra, size_t nextra,
			struct cli_share *share, struct wh_op_draft *d,
			size_t *added, int *readable)
{
	*added = 0;
	*readable = 0;
	if (!v->has_kid || v->erased)
		return WH_OK;
	struct cli_pd pd;
	int rc = cli_pd_load(c, v, &pd);
	const char **depts =
		wh_xcalloc(WH_FLOW_MAX_SUMMONS + nextra + 1, sizeof *depts);
	size_t n = cli_seal_summoned(v, depts, WH_FLOW_MAX_SUMMONS);
	for (size_t i = 0; i < nextra; i++)
		depts[n++] = extra[i];
	uint8_t(*readers)[WH_PK_BYTES] = NULL;
	size_t nr = 0;
	const char *path = v->path ? v->path : c->conf.path;
	*readable = !rc && pd.key;
	if (*readable)
		rc = cli_seal_readers(c, path, depts, n, &readers, &nr);
	if (!rc && *readable)
		rc = cli_seal_share(c, pd.key, &pd,
				    (const uint8_t(*)[WH_PK_BYTES])readers, nr,
				    v->code, v->seq, path, share, d, added);
	free(readers);
	free(depts);
	cli_pd_fini(&pd);
	return rc;
}

/* ---- sealing a change --------------------------------------------- */

static char *pick(const char *given, const char *kept)
{
	return dup_or_null(given ? given : kept);
}

/* Readers of a new case at path: from the cache when it has them. */
static int cached_readers(const struct cli *c, struct cli_rcache *rc,
			  const char *path, const char *const *depts,
			  size_t nd, uint8_t (**out)[WH_PK_BYTES], size_t *n)
{
	if (!rc || nd)
		return cli_seal_readers(c, path, depts, nd, out, n);
	for (size_t i = 0; i < rc->n; i++)
		if (!strcmp(rc->e[i].path, path)) {
			*n = rc->e[i].nkeys;
			*out = wh_xmalloc(*n * WH_PK_BYTES);
			memcpy(*out, rc->e[i].keys, *n * WH_PK_BYTES);
			return WH_OK;
		}
	int r = cli_seal_readers(c, path, NULL, 0, out, n);
	if (r || strlen(path) > WH_PATH_MAX)
		return r;
	size_t at = rc->n < CLI_RCACHE_PATHS ? rc->n++
					     : rc->next++ % CLI_RCACHE_PATHS;
	free(rc->e[at].keys);
	strcpy(rc->e[at].path, path);
	rc->e[at].nkeys = *n;
	rc->e[at].keys = wh_xmalloc(*n * WH_PK_BYTES);
	memcpy(rc->e[at].keys, *out, *n * WH_PK_BYTES);
	return WH_OK;
}

void cli_rcache_fini(struct cli_rcache *rc)
{
	for (size_t i = 0; i < rc->n; i++)
		free(rc->e[i].keys);
	memset(rc, 0, sizeof *rc);
}

int cli_seal_prepare(const struct cli *c, const struct wh_case *v,
		     struct cli_pd *pd, const char *path, const char *reporter,
		     const char *contact, struct cli_rcache *cache,
		     struct cli_seal *sp, const char **why)
{
	memset(sp, 0, sizeof *sp);
	*why = NULL;
	int state = pd ? pd->state : CLI_PD_NONE;
	if (state == CLI_PD_ERASED) {
		*why = "its personal data was erased (个人信息已删除); it "
		       "cannot be set again";
		return WH_ESTATE;
	}
	if (state == CLI_PD_SEALED && (!reporter || !contact)) {
		*why = "its personal data is sealed and not readable here "
		       "(加密, 本站无法读取): give both reporter and contact "
		       "to replace it";
		return WH_ESTATE;
	}
	sp->reporter = pick(reporter, pd ? pd->reporter : NULL);
	sp->contact = pick(contact, pd ? pd->contact : NULL);
	if (state == CLI_PD_OPEN && pd->key && v && v->has_kid) {
		sp->key = pd->key; /* the readers hold it already */
		pd->key = NULL;
		return WH_OK;
	}
	/* A new key: everyone who may read the case gets it. */
	const char *depts[WH_FLOW_MAX_SUMMONS];
	size_t nd = v ? cli_seal_summoned(v, depts, WH_FLOW_MAX_SUMMONS) : 0;
	uint8_t(*readers)[WH_PK_BYTES] = NULL;
	size_t n = 0;
	int rc = wh_seal_key_new(&sp->key);
	if (!rc)
		rc = cached_readers(c, cache, path, depts, nd, &readers, &n);
	if (!rc)
		rc = wh_seal_env_build(sp->key,
				       (const uint8_t(*)[WH_PK_BYTES])readers,
				       n, &sp->env);
	free(readers);
	if (rc) {
		cli_seal_fini(sp);
		return rc;
	}
	wh_hash(sp->env.p, sp->env.len, sp->share.blob);
	sp->share.size = sp->env.len;
	memcpy(sp->share.kid, sp->key->kid, WH_ID_BYTES);
	sp->new_key = 1;
	sp->nreaders = n;
	return WH_OK;
}

int cli_seal_begin(const struct cli *c, const char *what,
		   const struct wh_case *v, const char *path,
		   const char *reporter, const char *contact,
		   struct cli_seal *sp)
{
	struct cli_pd pd;
	memset(&pd, 0, sizeof pd);
	memset(sp, 0, sizeof *sp);
	const char *why = NULL;
	int rc = v ? cli_pd_load(c, v, &pd) : WH_OK;
	if (!rc)
		rc = cli_seal_prepare(c, v, v ? &pd : NULL, path, reporter,
				      contact, NULL, sp, &why);
	cli_pd_fini(&pd);
	if (rc)
		return cli_fail(c, "%s: %s", what, why ? why : wh_strerror(rc));
	/* Content first: an op naming content we lack would only make us
	 * ask peers for it. */
	if (sp->new_key) {
		rc = wh_store_blob_put(c->store, sp->env.p, sp->env.len, NULL);
		if (rc && rc != WH_EEXIST) {
			cli_seal_fini(sp);
			return cli_fail(c, "%s: key envelope: %s", what,
					wh_strerror(rc));
		}
	}
	return CLI_OK;
}

void cli_seal_fini(struct cli_seal *sp)
{
	wh_seal_key_free(sp->key);
	free(sp->reporter);
	free(sp->contact);
	if (sp->sealed.p)
		memset(sp->sealed.p, 0, sp->sealed.cap);
	wh_buf_fini(&sp->sealed);
	wh_buf_fini(&sp->env);
	memset(sp, 0, sizeof *sp);
}

int cli_seal_drafts(struct cli_seal *sp, const char *code, uint32_t seq,
		    const char *path, struct wh_op_draft *d,
		    struct wh_op_draft *keys, size_t *nkeys)
{
	*nkeys = 0;
	if (!sp->reporter && !sp->contact)
		return WH_OK; /* nothing to seal */
	wh_buf_reset(&sp->sealed);
	int rc;
	if (seq) {
		rc = wh_seal_seal(sp->key, code, seq, sp->reporter, sp->contact,
				  &sp->sealed);
		if (rc)
			return rc;
	} else {
		/* Sealed by cli_seal_fill once the store gives the seq;
		 * until then the right number of zeros (probes build it). */
		size_t n = wh_seal_size(sp->reporter, sp->contact);
		wh_buf_reserve(&sp->sealed, n);
		memset(sp->sealed.p, 0, n);
		sp->sealed.len = n;
	}
	wh_draft_bin(d, WH_F_SEALED, sp->sealed.p, sp->sealed.len);
	wh_draft_bin(d, WH_F_KID, sp->key->kid, WH_ID_BYTES);
	if (sp->new_key) {
		wh_draft_init(keys, WH_OP_CASE_KEYS, code, seq, path);
		wh_draft_bin(keys, WH_F_KID, sp->share.kid, WH_ID_BYTES);
		wh_draft_bin(keys, WH_F_BLOB, sp->share.blob, WH_ID_BYTES);
		wh_draft_uint(keys, WH_F_SIZE, sp->share.size);
		*nkeys = 1;
	}
	return WH_OK;
}

int cli_seal_fill(void *ctx, const struct wh_op_draft *d, size_t i)
{
	struct cli_seal *const *seals = ctx;
	const struct cli_seal *sp = seals[i];
	if (!sp)
		return WH_OK;
	const struct wh_field *f = NULL;
	for (uint32_t k = 0; k < d->nfields && !f; k++)
		if (d->fields[k].key == WH_F_SEALED)
			f = &d->fields[k];
	if (!f)
		return WH_EINVAL;
	struct wh_buf b = {0};
	int rc = wh_seal_seal(sp->key, d->code, d->seq, sp->reporter,
			      sp->contact, &b);
	if (!rc && b.len != f->s.n)
		rc = WH_EINVAL; /* wh_seal_size said otherwise: our bug */
	if (!rc) /* the caller's own buffer, sized for exactly this */
		memcpy((uint8_t *)(uintptr_t)f->s.p, b.p, b.len);
	wh_buf_fini(&b);
	return rc;
}
