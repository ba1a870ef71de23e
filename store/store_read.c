/*
 * store_read.c: the read calls: case views, lists and histories, the op
 * walk, digests and the views hash.
 *
 * Each call runs in its own short read-only transaction, ended before it
 * returns, so a reader never pins old pages for long. Walkers keep their
 * scratch on their own stack or heap (never the handle's write scratch):
 * a callback may call any read function, and a write on the same handle
 * is refused with WH_EBUSY while a callback is out (store.c explains).
 */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

static int scope_check(const char *scope, size_t *sn)
{
	*sn = scope ? strlen(scope) : 0;
	if (*sn && !wh_path_valid(scope, *sn))
		return WH_EPATH;
	return WH_OK;
}

int wh_store_case_get(struct wh_store *s, const char *code, uint32_t seq,
		      struct wh_case *c)
{
	if (!s || !c)
		return WH_EINVAL;
	memset(c, 0, sizeof *c); /* safe to fini on every path */
	uint8_t ck[CASE_KEY_MAX];
	size_t cn = st_case_key(ck, code, seq);
	if (!cn || seq == 0)
		return WH_EID;
	MDB_txn *txn;
	int rc = st_read_begin(s, &txn);
	if (rc)
		return rc;
	MDB_val k = {cn, ck}, v;
	rc = st_err(mdb_get(txn, s->dbi[DB_CASES], &k, &v));
	if (!rc && wh_case_decode(v.mv_data, v.mv_size, c))
		rc = WH_ECORRUPT;
	mdb_txn_abort(txn);
	return rc;
}

/* One stored view against the filter; cb if it matches. *shown counts
 * matches; returns cb's value, WH_ECORRUPT, or 0. */
static int list_one(const MDB_val *v, const struct wh_case_filter *f,
		    const char *scope, size_t sn, wh_case_cb cb, void *ctx,
		    uint32_t *shown)
{
	struct wh_case c;
	if (wh_case_decode(v->mv_data, v->mv_size, &c))
		return WH_ECORRUPT;
	int match = (!f || f->status < 0 || c.status == f->status) &&
		    (c.path ? wh_path_within(c.path, strlen(c.path), scope, sn)
			    : sn == 0);
	int rc = match ? cb(ctx, &c) : 0;
	wh_case_fini(&c);
	if (match)
		++*shown;
	return rc;
}

/*
 * The views, in case-id order. A scope walks only the cases its reach
 * index lists (a superset of those whose current path lies within it,
 * in the same key order) rather than every view in the store: a street
 * of a district's 200,000 cases reads its own few thousand.
 */
int wh_store_case_list(struct wh_store *s, const struct wh_case_filter *f,
		       wh_case_cb cb, void *ctx)
{
	if (!s || !cb)
		return WH_EINVAL;
	size_t sn;
	const char *scope = f ? f->scope : NULL;
	int rc = scope_check(scope, &sn), sn_walk_all = 0;
	if (rc)
		return rc;
	MDB_txn *txn;
	MDB_cursor *cur;
	if ((rc = st_read_begin(s, &txn)))
		return rc;
	uint8_t kb[AGG_KEY_MAX];
	kb[0] = '/';
	if (sn)
		memcpy(kb + 1, scope, sn);
	MDB_val k = {sn + 1, kb}, v;
	int mrc = MDB_SUCCESS;
	if (sn) {
		/* A scope that holds every case (a district's own store) reads
		 * the views in order rather than looking each one up. */
		MDB_stat st;
		size_t in = 0;
		rc = st_err(mdb_cursor_open(txn, s->dbi[DB_REACH], &cur));
		if (!rc) {
			mrc = mdb_cursor_get(cur, &k, &v, MDB_SET);
			if (!mrc)
				mrc = mdb_cursor_count(cur, &in);
			if (!mrc && !mdb_stat(txn, s->dbi[DB_CASES], &st) &&
			    in == st.ms_entries) {
				mdb_cursor_close(cur);
				sn_walk_all = 1;
			}
		}
	}
	if (!rc && (!sn || sn_walk_all)) {
		rc = st_err(mdb_cursor_open(txn, s->dbi[DB_CASES], &cur));
		if (!rc)
			mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	}
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	int by_index = sn && !sn_walk_all;
	s->walkers++;
	uint32_t shown = 0;
	for (; !mrc && !rc;
	     mrc = mdb_cursor_get(cur, &k, &v, by_index ? MDB_NEXT_DUP : MDB_NEXT)) {
		if (by_index) { /* v is a case key: fetch its view */
			MDB_val ck = v;
			int g = mdb_get(txn, s->dbi[DB_CASES], &ck, &v);
			if (g) {
				rc = g == MDB_NOTFOUND ? WH_ECORRUPT : st_err(g);
				break;
			}
		}
		rc = list_one(&v, f, scope, sn, cb, ctx, &shown);
		if (!rc && f && f->limit && shown == f->limit)
			break;
	}
	s->walkers--;
	if (!rc && mrc && mrc != MDB_NOTFOUND)
		rc = st_err(mrc);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}

int wh_store_case_history(struct wh_store *s, const char *code, uint32_t seq,
			  wh_op_cb cb, void *ctx)
{
	if (!s || !cb)
		return WH_EINVAL;
	uint8_t ck[CASE_KEY_MAX];
	size_t cn = st_case_key(ck, code, seq);
	if (!cn || seq == 0)
		return WH_EID;
	MDB_txn *txn;
	int rc = st_read_begin(s, &txn);
	if (rc)
		return rc;
	struct fold_key *fk = NULL;
	size_t cap = 0, n = 0;
	rc = st_case_fold_keys(s, txn, ck, cn, &fk, &cap, &n);
	struct wh_case c;
	wh_case_init(&c, code, seq);
	s->walkers++;
	/* Replay from empty: how each op fared is what the fold decides at
	 * its place in the order, not what it looked like on arrival. */
	for (size_t i = 0; !rc && i < n; i++) {
		struct wh_op op;
		enum wh_apply how;
		rc = st_log_op(s, txn, fk[i].lseq, &op);
		if (!rc && wh_case_apply(&c, &op, &how))
			rc = WH_ECORRUPT;
		if (!rc)
			rc = cb(ctx, &op, how);
	}
	s->walkers--;
	wh_case_fini(&c);
	free(fk);
	mdb_txn_abort(txn);
	return rc;
}

/*
 * The ops of a scope: for every case whose reach lies within it (the
 * reach index; every case when the scope is the root), each of its
 * caseops rows, in case-id order and arrival order within a case. fn
 * gets the row (arrival seq || op id); non-zero stops the walk.
 */
typedef int (*row_fn)(struct wh_store *s, MDB_txn *txn, const uint8_t *row,
		      void *ctx);

static int case_rows(struct wh_store *s, MDB_txn *txn, MDB_cursor *ops,
		     MDB_val *ck, row_fn fn, void *ctx)
{
	MDB_val d;
	int rc = mdb_cursor_get(ops, ck, &d, MDB_SET);
	if (rc)
		return rc == MDB_NOTFOUND ? WH_ECORRUPT : st_err(rc);
	/* DUPFIXED: whole pages of rows per call. */
	for (rc = mdb_cursor_get(ops, ck, &d, MDB_GET_MULTIPLE); !rc;
	     rc = mdb_cursor_get(ops, ck, &d, MDB_NEXT_MULTIPLE)) {
		if (d.mv_size % CASEOP_BYTES)
			return WH_ECORRUPT;
		for (size_t at = 0; at < d.mv_size; at += CASEOP_BYTES) {
			int r = fn(s, txn, (uint8_t *)d.mv_data + at, ctx);
			if (r)
				return r;
		}
	}
	return rc == MDB_NOTFOUND ? WH_OK : st_err(rc);
}

/* The rows of docops under key '/' + p[0..n) exactly. */
static int doc_rows_at(struct wh_store *s, MDB_txn *txn, MDB_cursor *cur,
		       const char *p, size_t n, row_fn fn, void *ctx)
{
	uint8_t kb[AGG_KEY_MAX];
	kb[0] = '/';
	memcpy(kb + 1, p, n);
	MDB_val k = {n + 1, kb}, d;
	int rc = mdb_cursor_get(cur, &k, &d, MDB_SET);
	if (rc) /* nothing published there */
		return rc == MDB_NOTFOUND ? WH_OK : st_err(rc);
	return case_rows(s, txn, cur, &k, fn, ctx);
}

/* A scope's documents: those published within it, then those published
 * above it (wh_store_digest counts the same). */
static int doc_rows(struct wh_store *s, MDB_txn *txn, const char *scope,
		    size_t sn, row_fn fn, void *ctx)
{
	MDB_cursor *cur;
	int rc = st_err(mdb_cursor_open(txn, s->dbi[DB_DOCOPS], &cur));
	if (rc)
		return rc;
	uint8_t kb[AGG_KEY_MAX];
	kb[0] = '/';
	if (sn) /* scope may be NULL for the root */
		memcpy(kb + 1, scope, sn);
	MDB_val k = {sn + 1, kb}, d;
	int mrc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
	/* Keys that start with the scope but not on a '/' boundary
	 * ("a/b-c" after "a/b") sort among the ones we want: skip them. */
	while (!mrc && !rc && k.mv_size > sn &&
	       !memcmp((uint8_t *)k.mv_data + 1, scope, sn)) {
		if (!sn || k.mv_size == sn + 1 ||
		    ((uint8_t *)k.mv_data)[sn + 1] == '/') {
			MDB_val c = k;
			rc = case_rows(s, txn, cur, &c, fn, ctx);
		}
		if (!rc)
			mrc = mdb_cursor_get(cur, &k, &d, MDB_NEXT_NODUP);
	}
	if (!rc && mrc && mrc != MDB_NOTFOUND)
		rc = st_err(mrc);
	for (size_t l = 0; !rc && l < sn; l++) {
		if (l && scope[l] != '/')
			continue;
		rc = doc_rows_at(s, txn, cur, scope, l, fn, ctx);
	}
	mdb_cursor_close(cur);
	return rc;
}

static int scope_rows(struct wh_store *s, const char *scope, row_fn fn,
		      void *ctx)
{
	size_t sn;
	int rc = scope_check(scope, &sn);
	if (rc)
		return rc;
	MDB_txn *txn;
	MDB_cursor *ops = NULL, *idx = NULL;
	if ((rc = st_read_begin(s, &txn)))
		return rc;
	rc = st_err(mdb_cursor_open(txn, s->dbi[DB_CASEOPS], &ops));
	if (rc)
		ops = NULL;
	else if (sn)
		rc = st_err(mdb_cursor_open(txn, s->dbi[DB_REACH], &idx));
	if (rc) {
		if (ops)
			mdb_cursor_close(ops);
		mdb_txn_abort(txn);
		return rc;
	}
	s->walkers++;
	uint8_t kb[AGG_KEY_MAX];
	kb[0] = '/';
	if (sn) /* scope may be NULL for the root */
		memcpy(kb + 1, scope, sn);
	MDB_val k = {sn + 1, kb}, ck;
	int mrc;
	if (sn)
		mrc = mdb_cursor_get(idx, &k, &ck, MDB_SET);
	else
		mrc = mdb_cursor_get(ops, &ck, &k, MDB_FIRST);
	while (!mrc && !rc) {
		MDB_val c = ck; /* case_rows moves ops, and with it ck */
		rc = case_rows(s, txn, ops, &c, fn, ctx);
		if (rc)
			break;
		if (sn)
			mrc = mdb_cursor_get(idx, &k, &ck, MDB_NEXT_DUP);
		else
			mrc = mdb_cursor_get(ops, &ck, &k, MDB_NEXT_NODUP);
	}
	if (!rc && mrc != MDB_NOTFOUND)
		rc = st_err(mrc);
	/* The root's walk of caseops held the documents already. */
	if (!rc && sn)
		rc = doc_rows(s, txn, scope, sn, fn, ctx);
	s->walkers--;
	if (idx)
		mdb_cursor_close(idx);
	mdb_cursor_close(ops);
	mdb_txn_abort(txn);
	return rc;
}

struct raw_walk {
	wh_raw_cb cb;
	void *ctx;
};

static int raw_row(struct wh_store *s, MDB_txn *txn, const uint8_t *row,
		   void *ctx)
{
	struct raw_walk *w = ctx;
	MDB_val k = {8, (void *)row}, v;
	int rc = mdb_get(txn, s->dbi[DB_LOG], &k, &v);
	if (rc)
		return rc == MDB_NOTFOUND ? WH_ECORRUPT : st_err(rc);
	return w->cb(w->ctx, v.mv_data, v.mv_size);
}

/* Every op, in arrival order: the log itself. */
static int log_walk(struct wh_store *s, wh_raw_cb cb, void *ctx)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	int rc = st_read_begin(s, &txn);
	if (rc)
		return rc;
	if ((rc = st_err(mdb_cursor_open(txn, s->dbi[DB_LOG], &cur)))) {
		mdb_txn_abort(txn);
		return rc;
	}
	s->walkers++;
	MDB_val k, v;
	int mrc;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !mrc && !rc;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
		rc = cb(ctx, v.mv_data, v.mv_size);
	s->walkers--;
	if (!rc && mrc != MDB_NOTFOUND)
		rc = st_err(mrc);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}

int wh_store_each_op(struct wh_store *s, const char *scope, wh_raw_cb cb,
		     void *ctx)
{
	if (!s || !cb)
		return WH_EINVAL;
	if (!scope || !*scope)
		return log_walk(s, cb, ctx);
	struct raw_walk w = {cb, ctx};
	return scope_rows(s, scope, raw_row, &w);
}

struct seq_walk {
	wh_log_cb cb;
	void *ctx;
};

static int seq_row(struct wh_store *s, MDB_txn *txn, const uint8_t *row,
		   void *ctx)
{
	struct seq_walk *w = ctx;
	MDB_val k = {8, (void *)row}, v;
	int rc = mdb_get(txn, s->dbi[DB_LOG], &k, &v);
	if (rc)
		return rc == MDB_NOTFOUND ? WH_ECORRUPT : st_err(rc);
	return w->cb(w->ctx, st_get_be64(row), v.mv_data, v.mv_size);
}

int wh_store_each_op_seq(struct wh_store *s, const char *scope, wh_log_cb cb,
			 void *ctx)
{
	if (!s || !cb)
		return WH_EINVAL;
	struct seq_walk w = {cb, ctx};
	return scope_rows(s, scope, seq_row, &w);
}

int wh_store_each_doc_op(struct wh_store *s, const char *scope, wh_raw_cb cb,
			 void *ctx)
{
	if (!s || !cb)
		return WH_EINVAL;
	size_t sn;
	int rc = scope_check(scope, &sn);
	if (rc)
		return rc;
	MDB_txn *txn;
	if ((rc = st_read_begin(s, &txn)))
		return rc;
	struct raw_walk w = {cb, ctx};
	s->walkers++;
	rc = doc_rows(s, txn, sn ? scope : "", sn, raw_row, &w);
	s->walkers--;
	mdb_txn_abort(txn);
	return rc;
}

struct id_walk {
	wh_id_cb cb;
	void *ctx;
};

static int id_row(struct wh_store *s, MDB_txn *txn, const uint8_t *row,
		  void *ctx)
{
	(void)s;
	(void)txn;
	struct id_walk *w = ctx;
	return w->cb(w->ctx, row + 8);
}

int wh_store_each_id(struct wh_store *s, const char *scope, wh_id_cb cb,
		     void *ctx)
{
	if (!s || !cb)
		return WH_EINVAL;
	struct id_walk w = {cb, ctx};
	return scope_rows(s, scope, id_row, &w);
}

int wh_store_case_reached(struct wh_store *s, const char *code, uint32_t seq,
			  const char *scope)
{
	if (!s)
		return WH_EINVAL;
	size_t sn;
	int rc = scope_check(scope, &sn);
	if (rc)
		return rc;
	uint8_t ck[CASE_KEY_MAX];
	size_t cn = st_case_key(ck, code, seq);
	if (!cn || seq == 0)
		return WH_EID;
	MDB_txn *txn;
	if ((rc = st_read_begin(s, &txn)))
		return rc;
	MDB_val k = {cn, ck}, v;
	struct st_reach r;
	rc = st_err(mdb_get(txn, s->dbi[DB_CASEAGG], &k, &v));
	if (!rc)
		rc = st_reach_parse(v.mv_data, v.mv_size, &r);
	if (!rc && !st_reach_within(&r, scope, sn))
		rc = WH_ENOTFOUND;
	mdb_txn_abort(txn);
	return rc;
}

int wh_store_has_op(struct wh_store *s, const uint8_t id[WH_ID_BYTES])
{
	if (!s || !id)
		return WH_EINVAL;
	MDB_txn *txn;
	int rc = st_read_begin(s, &txn);
	if (rc)
		return rc;
	MDB_val k = {WH_ID_BYTES, (void *)id}, v;
	rc = st_err(mdb_get(txn, s->dbi[DB_IDS], &k, &v));
	mdb_txn_abort(txn);
	return rc;
}

/* Add the aggregate row at '/' + p[0..n) of table db to acc (count u64le,
 * sum): the value layout of every aggregate table. */
static int acc_add(struct wh_store *s, MDB_txn *txn, int db, const char *p,
		   size_t n, uint8_t acc[AGG_VAL_BYTES])
{
	uint8_t kb[AGG_KEY_MAX];
	kb[0] = '/';
	if (n)
		memcpy(kb + 1, p, n);
	MDB_val k = {n + 1, kb}, v;
	int rc = mdb_get(txn, s->dbi[db], &k, &v);
	if (rc)
		return rc == MDB_NOTFOUND ? WH_OK : st_err(rc);
	if (v.mv_size != AGG_VAL_BYTES)
		return WH_ECORRUPT;
	st_le64(acc, st_get_le64(acc) + st_get_le64(v.mv_data));
	st_sum_add(acc + 8, (const uint8_t *)v.mv_data + 8);
	return WH_OK;
}

/* A scope's set: the cases whose reach lies within it (agg), the
 * documents published within it (docpre) and those published at a path
 * above it (docat of each ancestor, root included). */
int wh_store_digest(struct wh_store *s, const char *scope,
		    uint8_t out[WH_ID_BYTES], uint64_t *count)
{
	if (!s || !out)
		return WH_EINVAL;
	size_t sn;
	int rc = scope_check(scope, &sn);
	if (rc)
		return rc;
	MDB_txn *txn;
	if ((rc = st_read_begin(s, &txn)))
		return rc;
	uint8_t acc[AGG_VAL_BYTES] = {0};
	rc = acc_add(s, txn, DB_AGG, scope, sn, acc);
	if (!rc)
		rc = acc_add(s, txn, DB_DOCPRE, scope, sn, acc);
	for (size_t l = 0; !rc && sn && l < sn; l++)
		if (!l || scope[l] == '/')
			rc = acc_add(s, txn, DB_DOCAT, scope, l, acc);
	mdb_txn_abort(txn);
	if (!rc)
		st_digest(acc, out, count);
	return rc;
}

static void hash_len(struct wh_hasher *h, size_t n)
{
	uint8_t b[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16),
			(uint8_t)(n >> 24)};
	wh_hasher_update(h, b, 4);
}

int wh_store_views_hash(struct wh_store *s, uint8_t out[WH_ID_BYTES])
{
	if (!s || !out)
		return WH_EINVAL;
	MDB_txn *txn;
	MDB_cursor *cur;
	int rc = st_read_begin(s, &txn);
	if (rc)
		return rc;
	if ((rc = st_err(mdb_cursor_open(txn, s->dbi[DB_CASES], &cur)))) {
		mdb_txn_abort(txn);
		return rc;
	}
	struct wh_hasher h;
	wh_hasher_init(&h);
	MDB_val k, v;
	int mrc;
	/* Lengths first, so that no two tables hash alike. */
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !mrc;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		hash_len(&h, k.mv_size);
		wh_hasher_update(&h, k.mv_data, k.mv_size);
		hash_len(&h, v.mv_size);
		wh_hasher_update(&h, v.mv_data, v.mv_size);
	}
	if (mrc != MDB_NOTFOUND)
		rc = st_err(mrc);
	wh_hasher_final(&h, out);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}
