/*
 * store_trust.c: the authority key, the rosters, and the roster's rule
 * applied below every way ops arrive (store.h, "Trust").
 *
 * The decoded rosters are cached in the handle and reloaded when meta
 * "roster_gen" moved: the agent and the CLI share a store, and a roster
 * one of them installs must bind the other's next write at once.
 *
 * A roster that narrows grants (a revocation, a grant ended sooner)
 * may refuse ops already held. Those are dropped in the same write
 * transaction that installs it: every held op of a narrowed key is
 * checked again, the refused ones leave the log, and the derived tables
 * are rebuilt from what is left. Then the cases touched are checked
 * once more, for a department's steps whose only summons was dropped.
 * A rebuild costs a pass over the whole log; revocations are rare, and
 * a per-case reindex is noted in docs/performance.md as the way on if
 * district stores make it hurt.
 */
#include "store_int.h"

#include "mp.h"
#include "roster.h"

#include <stdlib.h>
#include <string.h>

#define AUTH_KEY "authority"
#define GEN_KEY "roster_gen"
#define SUMMONED_MAX 64 /* departments a case's whistles name, kept */

void st_trust_free(struct wh_store *s)
{
	if (s->trust) {
		wh_roster_set_fini(s->trust);
		free(s->trust);
	}
	s->trust = NULL;
	s->trust_loaded = 0;
}

static int authority_read(struct wh_store *s, MDB_txn *txn,
			  uint8_t pk[WH_PK_BYTES])
{
	MDB_val k = {sizeof AUTH_KEY - 1, AUTH_KEY}, v;
	int rc = mdb_get(txn, s->dbi[DB_ROSTER], &k, &v);
	if (rc)
		return st_err(rc);
	if (v.mv_size != WH_PK_BYTES)
		return WH_ECORRUPT;
	memcpy(pk, v.mv_data, WH_PK_BYTES);
	return WH_OK;
}

/* Decode every held roster into a fresh set. WH_ENOTFOUND: no
 * authority. */
static int set_read(struct wh_store *s, MDB_txn *txn,
		    struct wh_roster_set *rs)
{
	memset(rs, 0, sizeof *rs);
	int rc = authority_read(s, txn, rs->authority);
	if (rc)
		return rc;
	MDB_cursor *cur;
	if ((rc = st_err(mdb_cursor_open(txn, s->dbi[DB_ROSTER], &cur))))
		return rc;
	MDB_val k, v;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	for (; !mrc && !rc; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != WH_PK_BYTES)
			continue; /* the authority row */
		struct wh_roster r;
		/* Our own stored bytes, checked when they were installed:
		 * decoding again (signature included) costs a verify per
		 * roster per reload, which is rare. */
		if (wh_roster_decode(v.mv_data, v.mv_size, &r) ||
		    memcmp(r.signer, k.mv_data, WH_PK_BYTES) ||
		    (memcmp(r.signer, rs->authority, WH_PK_BYTES) &&
		     rs->ndel >= WH_ROSTER_MAX_DELEGATES)) {
			wh_roster_fini(&r);
			rc = WH_ECORRUPT;
			break;
		}
		wh_roster_set_take(rs, &r);
	}
	mdb_cursor_close(cur);
	if (!rc && mrc != MDB_NOTFOUND)
		rc = st_err(mrc);
	if (rc)
		wh_roster_set_fini(rs);
	return rc;
}

/* Make s->trust current for txn; *none set when there is no authority. */
static int trust_current(struct wh_store *s, MDB_txn *txn, int *none)
{
	uint64_t gen = 0;
	int rc = st_meta_get_u64(s, txn, GEN_KEY, &gen);
	if (rc && rc != WH_ENOTFOUND)
		return rc;
	if (!s->trust_loaded || gen != s->trust_gen) {
		st_trust_free(s);
		struct wh_roster_set *rs = wh_xcalloc(1, sizeof *rs);
		rc = set_read(s, txn, rs);
		if (rc == WH_OK) {
			s->trust = rs;
		} else {
			free(rs);
			if (rc != WH_ENOTFOUND)
				return rc;
		}
		s->trust_gen = gen;
		s->trust_loaded = 1;
	}
	*none = s->trust == NULL;
	return WH_OK;
}

/* ------------------------------------------------------------------ */
/* summoned departments */

int st_summoned_note(struct wh_store *s, MDB_txn *txn, const struct wh_op *op,
		     const uint8_t *ck, size_t cn)
{
	const struct wh_field *f = wh_op_field(op, WH_F_DEPTS);
	if (!f || f->type != WH_T_ARRAY)
		return WH_OK;
	struct wh_mp m;
	wh_mp_init(&m, f->s.p, f->s.n);
	for (uint32_t i = 0; i < f->count; i++) {
		struct wh_slice d;
		if (wh_mp_read_str(&m, &d, WH_DEPT_MAX) || !d.n)
			return WH_ECORRUPT; /* decode checked the schema */
		MDB_val k = {cn, (void *)ck}, v = {d.n, (void *)d.p};
		int rc = mdb_put(txn, s->dbi[DB_SUMMONED], &k, &v,
				 MDB_NODUPDATA);
		if (rc && rc != MDB_KEYEXIST)
			return st_err(rc);
	}
	return WH_OK;
}

/* The departments summoned to ck, as NUL-terminated copies in buf. */
struct summoned {
	char name[SUMMONED_MAX][WH_DEPT_MAX + 1];
	const char *ptr[SUMMONED_MAX];
	size_t n;
};

static int summoned_read(struct wh_store *s, MDB_txn *txn, const uint8_t *ck,
			 size_t cn, struct summoned *out)
{
	out->n = 0;
	MDB_cursor *cur;
	int rc = st_err(mdb_cursor_open(txn, s->dbi[DB_SUMMONED], &cur));
	if (rc)
		return rc;
	MDB_val k = {cn, (void *)ck}, v;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	for (; !mrc && out->n < SUMMONED_MAX;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP)) {
		if (v.mv_size > WH_DEPT_MAX) {
			rc = WH_ECORRUPT;
			break;
		}
		memcpy(out->name[out->n], v.mv_data, v.mv_size);
		out->name[out->n][v.mv_size] = 0;
		out->ptr[out->n] = out->name[out->n];
		out->n++;
	}
	mdb_cursor_close(cur);
	if (!rc && mrc && mrc != MDB_NOTFOUND)
		rc = st_err(mrc);
	return rc;
}

int wh_store_case_summoned(struct wh_store *s, const char *code, uint32_t seq,
			   int (*cb)(void *ctx, const char *dept), void *ctx)
{
	uint8_t ck[CASE_KEY_MAX];
	size_t cn = st_case_key(ck, code, seq);
	if (!s || !cb || !cn)
		return WH_EINVAL;
	MDB_txn *txn;
	int rc = st_read_begin(s, &txn);
	if (rc)
		return rc;
	struct summoned *sm = wh_xmalloc(sizeof *sm);
	rc = summoned_read(s, txn, ck, cn, sm);
	mdb_txn_abort(txn);
	for (size_t i = 0; !rc && i < sm->n; i++)
		rc = cb(ctx, sm->ptr[i]);
	free(sm);
	return rc;
}

/* ------------------------------------------------------------------ */
/* the rule */

/* Whether the rule needs to know the case's summonses: only a
 * department's steps do, and only kinds a department may take. */
static int needs_case(const struct wh_op *op)
{
	return op->kind == WH_OP_REPORT || op->kind == WH_OP_CASE_NOTE ||
	       op->kind == WH_OP_ATTACH;
}

static int authz_with(struct wh_store *s, MDB_txn *txn,
		      const struct wh_roster_set *rs, const struct wh_op *op)
{
	struct wh_authz_case cx = {NULL, 0};
	struct summoned *sm = NULL;
	int rc = WH_OK;
	if (needs_case(op) && !wh_code_is_doc(op->code)) {
		uint8_t ck[CASE_KEY_MAX];
		size_t cn = st_case_key(ck, op->code, op->seq);
		sm = wh_xmalloc(sizeof *sm);
		rc = summoned_read(s, txn, ck, cn, sm);
		cx.summoned = sm->ptr;
		cx.nsummoned = sm->n;
	}
	if (!rc)
		rc = wh_roster_authorize(rs, op, &cx, NULL);
	free(sm);
	return rc;
}

int st_authz(struct wh_store *s, MDB_txn *txn, const struct wh_op *op)
{
	int none, rc = trust_current(s, txn, &none);
	if (rc || none)
		return rc;
	return authz_with(s, txn, s->trust, op);
}

static void floor_of(const struct wh_roster *r, const uint8_t *pk,
		     const char *code, uint32_t *floor)
{
	for (uint32_t i = 0; i < r->ngrants; i++) {
		const struct wh_grant *g = &r->grants[i];
		if (!memcmp(g->key, pk, WH_PK_BYTES) && !strcmp(g->code, code) &&
		    g->seq_min > *floor)
			*floor = g->seq_min;
	}
}

int st_seq_floor(struct wh_store *s, MDB_txn *txn,
		 const uint8_t pk[WH_PK_BYTES], const char *code,
		 uint32_t *floor)
{
	*floor = 0;
	int none, rc = trust_current(s, txn, &none);
	if (rc || none)
		return rc;
	/* Every grant of the key under this code, live or not: a floor
	 * too high wastes numbers, one too low is refused at the create. */
	floor_of(&s->trust->root, pk, code, floor);
	for (uint32_t d = 0; d < s->trust->ndel; d++)
		floor_of(&s->trust->del[d], pk, code, floor);
	return WH_OK;
}

/* ------------------------------------------------------------------ */
/* authority and rosters */

struct auth_put {
	const uint8_t *pk;
};

static int authority_fn(struct wh_store *s, struct wtx *w, void *ctx)
{
	struct auth_put *a = ctx;
	uint8_t cur[WH_PK_BYTES];
	int rc = authority_read(s, w->txn, cur);
	if (rc == WH_OK)
		return memcmp(cur, a->pk, WH_PK_BYTES) ? WH_EEXIST : WH_OK;
	if (rc != WH_ENOTFOUND)
		return rc;
	MDB_val k = {sizeof AUTH_KEY - 1, AUTH_KEY},
		v = {WH_PK_BYTES, (void *)a->pk};
	if ((rc = st_err(mdb_put(w->txn, s->dbi[DB_ROSTER], &k, &v, 0))))
		return rc;
	uint64_t gen = 0;
	rc = st_meta_get_u64(s, w->txn, GEN_KEY, &gen);
	if (rc && rc != WH_ENOTFOUND)
		return rc;
	return st_meta_put_u64(s, w->txn, GEN_KEY, gen + 1);
}

int wh_store_authority_set(struct wh_store *s, const uint8_t pk[WH_PK_BYTES])
{
	if (!s || !pk)
		return WH_EINVAL;
	struct auth_put a = {pk};
	return st_write(s, authority_fn, &a);
}

int wh_store_authority_get(struct wh_store *s, uint8_t pk[WH_PK_BYTES])
{
	if (!s || !pk)
		return WH_EINVAL;
	MDB_txn *txn;
	int rc = st_read_begin(s, &txn);
	if (rc)
		return rc;
	rc = authority_read(s, txn, pk);
	mdb_txn_abort(txn);
	return rc;
}

int wh_store_roster_gen(struct wh_store *s, uint64_t *gen)
{
	if (!s || !gen)
		return WH_EINVAL;
	MDB_txn *txn;
	int rc = st_read_begin(s, &txn);
	if (rc)
		return rc;
	rc = st_meta_get_u64(s, txn, GEN_KEY, gen);
	mdb_txn_abort(txn);
	if (rc == WH_ENOTFOUND) {
		*gen = 0;
		rc = WH_OK;
	}
	return rc;
}

int wh_store_roster_set(struct wh_store *s, struct wh_roster_set *rs)
{
	if (!s || !rs)
		return WH_EINVAL;
	MDB_txn *txn;
	int rc = st_read_begin(s, &txn);
	if (rc)
		return rc;
	rc = set_read(s, txn, rs);
	mdb_txn_abort(txn);
	return rc;
}

int wh_store_roster_each(struct wh_store *s, wh_raw_cb cb, void *ctx)
{
	if (!s || !cb)
		return WH_EINVAL;
	MDB_txn *txn;
	int rc = st_read_begin(s, &txn);
	if (rc)
		return rc;
	uint8_t auth[WH_PK_BYTES];
	rc = authority_read(s, txn, auth);
	MDB_val k = {WH_PK_BYTES, auth}, v;
	/* The authority's roster first: a peer needs it to accept any
	 * delegate's. */
	if (!rc) {
		int mrc = mdb_get(txn, s->dbi[DB_ROSTER], &k, &v);
		if (!mrc)
			rc = cb(ctx, v.mv_data, v.mv_size);
		else if (mrc != MDB_NOTFOUND)
			rc = st_err(mrc);
	}
	MDB_cursor *cur = NULL;
	if (!rc)
		rc = st_err(mdb_cursor_open(txn, s->dbi[DB_ROSTER], &cur));
	int mrc = rc ? MDB_NOTFOUND : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	for (; !rc && !mrc; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != WH_PK_BYTES || !memcmp(k.mv_data, auth,
							 WH_PK_BYTES))
			continue;
		s->walkers++;
		rc = cb(ctx, v.mv_data, v.mv_size);
		s->walkers--;
	}
	if (cur)
		mdb_cursor_close(cur);
	if (!rc && mrc != MDB_NOTFOUND)
		rc = st_err(mrc);
	mdb_txn_abort(txn);
	return rc;
}

/* Keys a roster change narrowed, without repeats. */
struct keyset {
	uint8_t (*k)[WH_PK_BYTES];
	size_t n, cap;
};

static void keyset_add(void *ctx, const uint8_t key[WH_PK_BYTES])
{
	struct keyset *ks = ctx;
	for (size_t i = 0; i < ks->n; i++)
		if (!memcmp(ks->k[i], key, WH_PK_BYTES))
			return;
	if (ks->n == ks->cap) {
		ks->cap = ks->cap ? 2 * ks->cap : 16;
		ks->k = wh_xrealloc(ks->k, ks->cap * WH_PK_BYTES);
	}
	memcpy(ks->k[ks->n++], key, WH_PK_BYTES);
}

static int keyset_has(const struct keyset *ks, const uint8_t *key)
{
	for (size_t i = 0; i < ks->n; i++)
		if (!memcmp(ks->k[i], key, WH_PK_BYTES))
			return 1;
	return 0;
}

/* Case keys whose ops were dropped. */
struct caseset {
	uint8_t (*k)[CASE_KEY_MAX];
	size_t *len, n, cap;
};

static void caseset_add(struct caseset *cs, const uint8_t *ck, size_t cn)
{
	for (size_t i = 0; i < cs->n; i++)
		if (cs->len[i] == cn && !memcmp(cs->k[i], ck, cn))
			return;
	if (cs->n == cs->cap) {
		cs->cap = cs->cap ? 2 * cs->cap : 16;
		cs->k = wh_xrealloc(cs->k, cs->cap * CASE_KEY_MAX);
		cs->len = wh_xrealloc(cs->len, cs->cap * sizeof *cs->len);
	}
	memcpy(cs->k[cs->n], ck, cn);
	cs->len[cs->n++] = cn;
}

static int caseset_has(const struct caseset *cs, const uint8_t *ck,
		       size_t cn)
{
	for (size_t i = 0; i < cs->n; i++)
		if (cs->len[i] == cn && !memcmp(cs->k[i], ck, cn))
			return 1;
	return 0;
}

/*
 * One pass over the log (st_log_sweep): drop each op that the sweep
 * selects and the rules now refuse; the derived tables are rebuilt by
 * the caller.
 */
struct sweep {
	const struct wh_roster_set *rs;
	const struct keyset *keys;   /* pass 1: ops by these authors */
	const struct caseset *cases; /* pass 2: department steps here */
	struct caseset hit;
	size_t dropped;
};

static int sweep_pick(struct wh_store *s, MDB_txn *txn,
		      const struct wh_op *op, void *ctx)
{
	struct sweep *sw = ctx;
	uint8_t ck[CASE_KEY_MAX];
	size_t cn = st_case_key(ck, op->code, op->seq);
	int mine = sw->keys ? keyset_has(sw->keys, op->author)
			    : needs_case(op) && caseset_has(sw->cases, ck, cn);
	if (!mine || !authz_with(s, txn, sw->rs, op))
		return 0;
	caseset_add(&sw->hit, ck, cn);
	return 1;
}

static int sweep_log(struct wh_store *s, struct wtx *w, struct sweep *sw)
{
	return st_log_sweep(s, w, sweep_pick, sw, &sw->dropped);
}

struct roster_put {
	const uint8_t *p;
	size_t n;
	struct wh_roster_change ch;
	const char *why;
};

static int purge(struct wh_store *s, struct wtx *w,
		 const struct wh_roster_set *rs, const struct keyset *ks,
		 size_t *dropped)
{
	/* w's counters came from meta (st_write); the sweep and the
	 * rebuild keep them true, and st_write writes them back. */
	struct sweep one = {rs, ks, NULL, {0}, 0};
	int rc = sweep_log(s, w, &one);
	if (!rc && one.dropped)
		rc = st_rebuild(s, w);
	/* A department's step stands on a summons; if its whistle went,
	 * so does the step. Whistles stand on no step, so one more pass
	 * settles it. */
	struct sweep two = {rs, NULL, &one.hit, {0}, 0};
	if (!rc && one.dropped)
		rc = sweep_log(s, w, &two);
	if (!rc && two.dropped)
		rc = st_rebuild(s, w);
	*dropped = one.dropped + two.dropped;
	free(one.hit.k);
	free(one.hit.len);
	free(two.hit.k);
	free(two.hit.len);
	return rc;
}

static int roster_put_fn(struct wh_store *s, struct wtx *w, void *ctx)
{
	struct roster_put *rp = ctx;
	memset(&rp->ch, 0, sizeof rp->ch);
	rp->why = NULL;
	struct wh_roster_set rs;
	int rc = set_read(s, w->txn, &rs);
	if (rc)
		return rc;
	struct wh_roster r;
	struct keyset ks = {0};
	rc = wh_roster_decode(rp->p, rp->n, &r);
	if (!rc)
		rc = wh_roster_set_check(&rs, &r, &rp->why);
	if (!rc) {
		const struct wh_roster *old = wh_roster_set_find(&rs, r.signer);
		wh_roster_narrowed(old, &r, keyset_add, &ks);
		/* A delegate whose own grant narrowed takes its members'
		 * grants with it. */
		size_t direct = ks.n;
		for (size_t i = 0; i < direct; i++) {
			const struct wh_roster *d = wh_roster_set_find(&rs,
								       ks.k[i]);
			for (uint32_t j = 0; d && d != &rs.root &&
					     j < d->ngrants; j++)
				keyset_add(&ks, d->grants[j].key);
		}
		rp->ch.serial = r.serial;
		memcpy(rp->ch.signer, r.signer, WH_PK_BYTES);
		rp->ch.narrowed = ks.n;
		MDB_val k = {WH_PK_BYTES, r.signer},
			v = {rp->n, (void *)rp->p};
		rc = st_err(mdb_put(w->txn, s->dbi[DB_ROSTER], &k, &v, 0));
		wh_roster_set_take(&rs, &r);
	}
	wh_roster_fini(&r);
	uint64_t gen = 0;
	if (!rc) {
		rc = st_meta_get_u64(s, w->txn, GEN_KEY, &gen);
		if (rc == WH_ENOTFOUND)
			rc = WH_OK;
	}
	if (!rc)
		rc = st_meta_put_u64(s, w->txn, GEN_KEY, gen + 1);
	if (!rc && ks.n)
		rc = purge(s, w, &rs, &ks, &rp->ch.purged);
	free(ks.k);
	wh_roster_set_fini(&rs);
	return rc;
}

int wh_store_roster_put(struct wh_store *s, const uint8_t *p, size_t n,
			struct wh_roster_change *ch, const char **why)
{
	if (!s || (!p && n))
		return WH_EINVAL;
	struct roster_put rp = {p, n, {0}, NULL};
	int rc = st_write(s, roster_put_fn, &rp);
	if (why)
		*why = rc ? rp.why : NULL;
	if (ch)
		*ch = rp.ch;
	return rc;
}
