/*
 * store_agg.c: what a scope holds, kept incrementally: per case the set
 * of paths it has ever had (its reach), per path prefix the (count, sum)
 * of the ops of every case that ever lay within it, and the index from a
 * prefix to those cases.
 *
 * A case's reach is the union, over its ops, of the op's path and a
 * move's new path: a function of the set of ops, so every replica that
 * holds the same ops computes the same reach whatever order they came
 * in. Reach only grows. That is the point: a case moved out of a scope
 * (转办) stays in the old scope's set, so the move itself, and anything
 * that followed, is reconciled with the old scope's peers too, and the
 * new scope receives the whole history (docs/crdt.md, "Scopes").
 *
 * caseagg value: count u64le, sum (32), then the reach as a sequence of
 * (u8 length, path bytes). Prefixes are taken on '/' boundaries and
 * include the root ""; the reach index skips the root (every case is
 * there: a walk of caseops serves it).
 */
#include "store_int.h"

#include <string.h>

/* 256-bit little-endian sums, mod 2^256. */
void st_sum_add(uint8_t *acc, const uint8_t *x)
{
	unsigned carry = 0;
	for (int i = 0; i < WH_ID_BYTES; i++) {
		unsigned t = (unsigned)acc[i] + x[i] + carry;
		acc[i] = (uint8_t)t;
		carry = t >> 8;
	}
}

struct agg {
	uint64_t count;
	uint8_t sum[WH_ID_BYTES];
};

/* Add d to the row of prefix p[0..n) in an aggregate table. */
static int agg_add_to(struct wh_store *s, MDB_txn *txn, int db, const char *p,
		      size_t n, const struct agg *d)
{
	uint8_t kb[AGG_KEY_MAX];
	kb[0] = '/';
	memcpy(kb + 1, p, n);
	MDB_val k = {n + 1, kb}, v;
	struct agg a = {0};
	int rc = mdb_get(txn, s->dbi[db], &k, &v);
	if (rc == 0) {
		if (v.mv_size != AGG_VAL_BYTES)
			return WH_ECORRUPT;
		a.count = st_get_le64(v.mv_data);
		memcpy(a.sum, (uint8_t *)v.mv_data + 8, WH_ID_BYTES);
	} else if (rc != MDB_NOTFOUND) {
		return st_err(rc);
	}
	a.count += d->count;
	st_sum_add(a.sum, d->sum);
	uint8_t vb[AGG_VAL_BYTES];
	st_le64(vb, a.count);
	memcpy(vb + 8, a.sum, WH_ID_BYTES);
	v.mv_size = sizeof vb;
	v.mv_data = vb;
	return st_err(mdb_put(txn, s->dbi[db], &k, &v, 0));
}

static int agg_add(struct wh_store *s, MDB_txn *txn, const char *p, size_t n,
		   const struct agg *d)
{
	return agg_add_to(s, txn, DB_AGG, p, n, d);
}

/* A set of distinct prefixes, by pointer into paths that outlive it. A
 * reach holds at most REACH_MAX paths of at most WH_PATH_MAX_PARTS parts,
 * each contributing its parts plus the root. About 6 KiB: on the stack. */
struct prefixes {
	struct {
		const char *p;
		size_t n;
	} v[REACH_MAX * WH_PATH_MAX_PARTS + 1];
	size_t n;
};

static int pref_has(const struct prefixes *ps, const char *p, size_t n)
{
	for (size_t i = 0; i < ps->n; i++)
		if (ps->v[i].n == n && !memcmp(ps->v[i].p, p, n))
			return 1;
	return 0;
}

/* Add the boundary prefixes of path[0..n) that are not in 'not' (may be
 * NULL) nor already in ps. */
static void pref_add(struct prefixes *ps, const struct prefixes *not,
		     const char *path, size_t n)
{
	for (size_t l = 0; l <= n; l++) {
		if (l && l < n && path[l] != '/')
			continue;
		if ((not && pref_has(not, path, l)) || pref_has(ps, path, l))
			continue;
		ps->v[ps->n].p = path;
		ps->v[ps->n].n = l;
		ps->n++;
	}
}

int st_reach_parse(const uint8_t *v, size_t n, struct st_reach *r)
{
	if (n < AGG_VAL_BYTES)
		return WH_ECORRUPT;
	r->count = st_get_le64(v);
	memcpy(r->sum, v + 8, WH_ID_BYTES);
	r->n = 0;
	for (size_t at = AGG_VAL_BYTES; at < n;) {
		size_t l = v[at++];
		if (!l || l > WH_PATH_MAX || l > n - at || r->n == REACH_MAX)
			return WH_ECORRUPT;
		r->path[r->n] = (const char *)v + at;
		r->len[r->n++] = l;
		at += l;
	}
	return WH_OK;
}

int st_reach_within(const struct st_reach *r, const char *scope, size_t sn)
{
	for (size_t i = 0; i < r->n; i++)
		if (wh_path_within(r->path[i], r->len[i], scope, sn))
			return 1;
	return 0;
}

/* Index case ck under prefix p[0..n) (n > 0). */
static int reach_index(struct wh_store *s, MDB_txn *txn, const char *p,
		       size_t n, const uint8_t *ck, size_t cn)
{
	uint8_t kb[AGG_KEY_MAX];
	kb[0] = '/';
	memcpy(kb + 1, p, n);
	MDB_val k = {n + 1, kb}, v = {cn, (void *)ck};
	int rc = mdb_put(txn, s->dbi[DB_REACH], &k, &v, MDB_NODUPDATA);
	return rc == MDB_KEYEXIST ? WH_OK : st_err(rc);
}

/*
 * Count op into its case's aggregates. Paths the case had not reached
 * before widen its reach: every prefix new to it gains the case's whole
 * earlier contribution as well as this op; the prefixes it had reached
 * gain the op only. Nothing is ever subtracted.
 */
int st_reach_add(struct wh_store *s, MDB_txn *txn, const uint8_t *ck,
		 size_t cn, const struct wh_op *op)
{
	struct st_reach r = {0};
	MDB_val k = {cn, (void *)ck}, v;
	int rc = mdb_get(txn, s->dbi[DB_CASEAGG], &k, &v);
	if (rc == 0) {
		/* Parse a copy: the writes below may spill the page v is on. */
		wh_buf_reset(&s->aggold);
		wh_buf_append(&s->aggold, v.mv_data, v.mv_size);
		rc = st_reach_parse(s->aggold.p, s->aggold.len, &r);
	} else {
		rc = rc == MDB_NOTFOUND ? WH_OK : st_err(rc);
	}
	if (rc)
		return rc;

	/* The op's paths that the reach lacks. */
	const struct wh_field *f = op->kind == WH_OP_CASE_MOVE
					   ? wh_op_field(op, WH_F_NEW_PATH)
					   : NULL;
	const char *cand[2] = {(const char *)op->path.p,
			       f && f->type == WH_T_STR ? (const char *)f->s.p
							: NULL};
	size_t cl[2] = {op->path.n, cand[1] ? f->s.n : 0};
	const char *np[2];
	size_t nl[2], nn = 0;
	for (int i = 0; i < 2; i++) {
		int have = !cand[i] || !cl[i];
		for (size_t j = 0; j < r.n && !have; j++)
			have = r.len[j] == cl[i] &&
			       !memcmp(r.path[j], cand[i], cl[i]);
		for (size_t j = 0; j < nn && !have; j++)
			have = nl[j] == cl[i] && !memcmp(np[j], cand[i], cl[i]);
		/* Past REACH_MAX paths (no case is moved that often by
		 * hand) the reach stops growing rather than let one row
		 * grow without bound; docs/crdt.md notes the limit. */
		if (!have && r.n + nn < REACH_MAX) {
			np[nn] = cand[i];
			nl[nn++] = cl[i];
		}
	}

	struct prefixes old, add;
	old.n = add.n = 0;
	for (size_t i = 0; i < r.n; i++)
		pref_add(&old, NULL, r.path[i], r.len[i]);
	for (size_t i = 0; i < nn; i++)
		pref_add(&add, &old, np[i], nl[i]);

	struct agg one = {1, {0}}, all = {r.count + 1, {0}};
	memcpy(one.sum, op->id, WH_ID_BYTES);
	memcpy(all.sum, r.sum, WH_ID_BYTES);
	st_sum_add(all.sum, op->id);
	for (size_t i = 0; !rc && i < old.n; i++)
		rc = agg_add(s, txn, old.v[i].p, old.v[i].n, &one);
	for (size_t i = 0; !rc && i < add.n; i++) {
		rc = agg_add(s, txn, add.v[i].p, add.v[i].n, &all);
		if (!rc && add.v[i].n)
			rc = reach_index(s, txn, add.v[i].p, add.v[i].n, ck,
					 cn);
	}
	if (rc)
		return rc;

	struct wh_buf *b = &s->aggrow;
	wh_buf_reset(b);
	uint8_t head[AGG_VAL_BYTES];
	st_le64(head, all.count);
	memcpy(head + 8, all.sum, WH_ID_BYTES);
	wh_buf_append(b, head, sizeof head);
	for (size_t i = 0; i < r.n + nn; i++) {
		const char *p = i < r.n ? r.path[i] : np[i - r.n];
		uint8_t l = (uint8_t)(i < r.n ? r.len[i] : nl[i - r.n]);
		wh_buf_append(b, &l, 1);
		wh_buf_append(b, p, l);
	}
	v.mv_size = b->len;
	v.mv_data = b->p;
	return st_err(mdb_put(txn, s->dbi[DB_CASEAGG], &k, &v, 0));
}

/*
 * A document's op (code '~...': a problem list, later rosters and plans)
 * belongs to its own path's scopes and to every scope below that path, so
 * a district's list reaches each station. It is counted per op, by the
 * path the op names: in docpre under every prefix of it (the scopes that
 * hold it) and in docat under the path itself (for the scopes below);
 * docops lists it by path. Documents are not cases: no view, no reach.
 */
int st_doc_add(struct wh_store *s, MDB_txn *txn, const struct wh_op *op,
	       const uint8_t *caseop_row)
{
	const char *p = (const char *)op->path.p;
	size_t n = op->path.n;
	struct agg one = {1, {0}};
	memcpy(one.sum, op->id, WH_ID_BYTES);
	int rc = WH_OK;
	for (size_t l = 0; !rc && l <= n; l++)
		if (!l || l == n || p[l] == '/')
			rc = agg_add_to(s, txn, DB_DOCPRE, p, l, &one);
	if (!rc)
		rc = agg_add_to(s, txn, DB_DOCAT, p, n, &one);
	if (rc)
		return rc;
	uint8_t kb[AGG_KEY_MAX];
	kb[0] = '/';
	memcpy(kb + 1, p, n);
	MDB_val k = {n + 1, kb}, v = {CASEOP_BYTES, (void *)caseop_row};
	return st_err(mdb_put(txn, s->dbi[DB_DOCOPS], &k, &v, 0));
}
