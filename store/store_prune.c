/*
 * store_prune.c: taking ops out of the log. The op log only grows by
 * ingest; two things shrink it, both rare and both in one write
 * transaction followed by a rebuild of everything derived:
 *   - a roster that narrows a grant drops the ops the rules now refuse
 *     (store_trust.c);
 *   - `whistle prune --carried` drops whole cases a station carried for
 *     its neighbours in an emergency (wh_store_cases_drop, below).
 * Both walk the log with st_log_sweep. A rebuild costs a pass over the
 * log; that is the price of never keeping a second, subtractive path
 * through the aggregates that could drift from the one ingest uses.
 */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

int st_log_sweep(struct wh_store *s, struct wtx *w, st_pick_fn pick,
		 void *ctx, size_t *dropped)
{
	MDB_cursor *cur;
	int rc = st_err(mdb_cursor_open(w->txn, s->dbi[DB_LOG], &cur));
	if (rc)
		return rc;
	MDB_val k, v;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	while (!mrc && !rc) {
		struct wh_op op;
		if (wh_op_decode(v.mv_data, v.mv_size, &op)) {
			rc = WH_ECORRUPT;
			break;
		}
		int take = pick(s, w->txn, &op, ctx);
		if (take < 0) {
			rc = take;
			break;
		}
		if (take) {
			(*dropped)++;
			w->nops--;
			w->opbytes -= op.raw.n;
			/* Deleting the current row and stepping on is safe
			 * in LMDB: the cursor lands on the next row. */
			if ((mrc = mdb_cursor_del(cur, 0)))
				break;
			mrc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
			continue;
		}
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	if (!rc && mrc && mrc != MDB_NOTFOUND)
		rc = st_err(mrc);
	return rc;
}

/* ---- dropping whole cases ------------------------------------------ */

struct ckey {
	uint8_t k[CASE_KEY_MAX];
	size_t n;
};

static int ckey_cmp(const void *x, const void *y)
{
	const struct ckey *a = x, *b = y;
	size_t n = a->n < b->n ? a->n : b->n;
	int d = memcmp(a->k, b->k, n);
	return d ? d : (a->n > b->n) - (a->n < b->n);
}

struct drop {
	const struct wh_case_ref *cases;
	size_t n;
	const char *keep_scope;
	uint64_t keep_after;
	struct ckey *set; /* the cases that go, sorted */
	size_t nset;
	size_t cap_fk;
	struct fold_key *fk;
	struct wh_store_drop_result res;
};

/* Whether case ck goes: held, never within keep_scope, and no op of it
 * arrived after keep_after. 1, 0 or an error. */
static int goes(struct wh_store *s, MDB_txn *txn, struct drop *d,
		const uint8_t *ck, size_t cn)
{
	MDB_val k = {cn, (void *)ck}, v;
	int rc = mdb_get(txn, s->dbi[DB_CASEAGG], &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0; /* not held: nothing to drop */
	if (rc)
		return st_err(rc);
	struct st_reach r;
	if ((rc = st_reach_parse(v.mv_data, v.mv_size, &r)))
		return rc;
	size_t sn = strlen(d->keep_scope);
	if (sn && st_reach_within(&r, d->keep_scope, sn)) {
		d->res.kept_reached++;
		return 0;
	}
	size_t n = 0;
	rc = st_case_fold_keys(s, txn, ck, cn, &d->fk, &d->cap_fk, &n);
	if (rc == WH_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	for (size_t i = 0; d->keep_after && i < n; i++)
		if (d->fk[i].lseq > d->keep_after) {
			d->res.kept_newer++;
			return 0;
		}
	return 1;
}

static int drop_pick(struct wh_store *s, MDB_txn *txn,
		     const struct wh_op *op, void *ctx)
{
	(void)s;
	(void)txn;
	struct drop *d = ctx;
	if (wh_code_is_doc(op->code))
		return 0;
	struct ckey key;
	key.n = st_case_key(key.k, op->code, op->seq);
	return key.n && bsearch(&key, d->set, d->nset, sizeof *d->set,
				ckey_cmp) != NULL;
}

static int drop_fn(struct wh_store *s, struct wtx *w, void *ctx)
{
	struct drop *d = ctx;
	memset(&d->res, 0, sizeof d->res);
	d->nset = 0;
	for (size_t i = 0; i < d->n; i++) {
		struct ckey *c = &d->set[d->nset];
		c->n = st_case_key(c->k, d->cases[i].code, d->cases[i].seq);
		if (!c->n || !d->cases[i].seq ||
		    wh_code_is_doc(d->cases[i].code))
			return WH_EINVAL;
		int rc = goes(s, w->txn, d, c->k, c->n);
		if (rc < 0)
			return rc;
		if (rc)
			d->nset++;
	}
	qsort(d->set, d->nset, sizeof *d->set, ckey_cmp);
	/* The same case named twice counts once. */
	size_t u = 0;
	for (size_t i = 0; i < d->nset; i++)
		if (!u || ckey_cmp(&d->set[u - 1], &d->set[i]))
			d->set[u++] = d->set[i];
	d->nset = u;
	d->res.cases = u;
	if (!u)
		return WH_OK;
	size_t ops = 0;
	int rc = st_log_sweep(s, w, drop_pick, d, &ops);
	d->res.ops = ops;
	if (!rc)
		rc = st_rebuild(s, w);
	if (!rc)
		rc = st_blob_orphans_drop(s, w->txn, &d->res.blobs);
	return rc;
}

int wh_store_cases_drop(struct wh_store *s, const struct wh_case_ref *cases,
			size_t n, const char *keep_scope, uint64_t keep_after,
			struct wh_store_drop_result *res)
{
	if (!s || (!cases && n) || !keep_scope ||
	    (*keep_scope && !wh_path_valid(keep_scope, strlen(keep_scope))))
		return WH_EINVAL;
	struct drop d = {.cases = cases, .n = n, .keep_scope = keep_scope,
			 .keep_after = keep_after};
	d.set = wh_xcalloc(n ? n : 1, sizeof *d.set);
	int rc = st_write(s, drop_fn, &d);
	free(d.set);
	free(d.fk);
	if (res)
		*res = rc ? (struct wh_store_drop_result){0} : d.res;
	return rc;
}
