/*
 * store_state.c: what the sync layer and the agent need beside the case
 * tables: ops by id, the arrival log's tail (how the agent sees ops the
 * CLI wrote in another process), and small named state records (peer
 * sync status, receipts) that live in the same environment so one
 * transaction model and one backup cover everything.
 */
#include "store_int.h"

#include <string.h>

#define STATE_NAME_MAX 200
#define STATE_VAL_MAX 65536

int wh_store_get_op(struct wh_store *s, const uint8_t id[WH_ID_BYTES],
		    struct wh_buf *out)
{
	if (!s || !id || !out)
		return WH_EINVAL;
	MDB_txn *txn;
	int rc = st_read_begin(s, &txn);
	if (rc)
		return rc;
	MDB_val k = {WH_ID_BYTES, (void *)id}, v;
	rc = st_err(mdb_get(txn, s->dbi[DB_IDS], &k, &v));
	if (!rc && v.mv_size != 8)
		rc = WH_ECORRUPT;
	if (!rc) {
		uint8_t lk[8];
		memcpy(lk, v.mv_data, 8);
		k.mv_size = 8;
		k.mv_data = lk;
		rc = st_err(mdb_get(txn, s->dbi[DB_LOG], &k, &v));
		if (rc == WH_ENOTFOUND)
			rc = WH_ECORRUPT; /* indexed but not logged */
		if (!rc)
			wh_buf_append(out, v.mv_data, v.mv_size);
	}
	mdb_txn_abort(txn);
	return rc;
}

int wh_store_log_since(struct wh_store *s, uint64_t after, size_t max,
		       wh_log_cb cb, void *ctx)
{
	if (!s || !cb)
		return WH_EINVAL;
	MDB_txn *txn;
	MDB_cursor *cur;
	int rc = st_read_begin(s, &txn);
	if (rc)
		return rc;
	if ((rc = st_err(mdb_cursor_open(txn, s->dbi[DB_LOG], &cur)))) {
		mdb_txn_abort(txn);
		return rc;
	}
	uint8_t kb[8];
	st_be64(kb, after + 1);
	MDB_val k = {8, kb}, v;
	size_t seen = 0;
	s->walkers++;
	int mrc;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !mrc;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8) {
			rc = WH_ECORRUPT;
			break;
		}
		if ((rc = cb(ctx, st_get_be64(k.mv_data), v.mv_data,
			     v.mv_size)))
			break;
		if (max && ++seen >= max)
			break;
	}
	s->walkers--;
	if (!rc && mrc && mrc != MDB_NOTFOUND)
		rc = st_err(mrc);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}

int wh_store_log_last(struct wh_store *s, uint64_t *seq)
{
	if (!s || !seq)
		return WH_EINVAL;
	MDB_txn *txn;
	MDB_cursor *cur;
	int rc = st_read_begin(s, &txn);
	if (rc)
		return rc;
	if ((rc = st_err(mdb_cursor_open(txn, s->dbi[DB_LOG], &cur)))) {
		mdb_txn_abort(txn);
		return rc;
	}
	MDB_val k, v;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	*seq = 0;
	if (mrc == 0 && k.mv_size == 8)
		*seq = st_get_be64(k.mv_data);
	else if (mrc == 0)
		rc = WH_ECORRUPT;
	else if (mrc != MDB_NOTFOUND)
		rc = st_err(mrc);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}

static int name_check(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	return n == 0 || n > STATE_NAME_MAX ? WH_EINVAL : WH_OK;
}

struct state_put {
	const char *name;
	const uint8_t *val;
	size_t n;
};

static int state_put_fn(struct wh_store *s, struct wtx *w, void *ctx)
{
	struct state_put *a = ctx;
	MDB_val k = {strlen(a->name), (void *)a->name};
	MDB_val v = {a->n, (void *)a->val};
	return st_err(mdb_put(w->txn, s->dbi[DB_STATE], &k, &v, 0));
}

int wh_store_state_put(struct wh_store *s, const char *name,
		       const uint8_t *val, size_t n)
{
	if (!s || name_check(name) || (n && !val))
		return WH_EINVAL;
	if (n > STATE_VAL_MAX)
		return WH_ETOOBIG;
	struct state_put a = {name, val, n};
	return st_write(s, state_put_fn, &a);
}

int wh_store_state_get(struct wh_store *s, const char *name,
		       struct wh_buf *out)
{
	if (!s || name_check(name) || !out)
		return WH_EINVAL;
	MDB_txn *txn;
	int rc = st_read_begin(s, &txn);
	if (rc)
		return rc;
	MDB_val k = {strlen(name), (void *)name}, v;
	rc = st_err(mdb_get(txn, s->dbi[DB_STATE], &k, &v));
	if (!rc)
		wh_buf_append(out, v.mv_data, v.mv_size);
	mdb_txn_abort(txn);
	return rc;
}

int wh_store_state_each(struct wh_store *s, const char *prefix,
			wh_state_cb cb, void *ctx)
{
	if (!s || !cb)
		return WH_EINVAL;
	size_t pn = prefix ? strlen(prefix) : 0;
	if (pn > STATE_NAME_MAX)
		return WH_EINVAL;
	MDB_txn *txn;
	MDB_cursor *cur;
	int rc = st_read_begin(s, &txn);
	if (rc)
		return rc;
	if ((rc = st_err(mdb_cursor_open(txn, s->dbi[DB_STATE], &cur)))) {
		mdb_txn_abort(txn);
		return rc;
	}
	char name[STATE_NAME_MAX + 1];
	MDB_val k = {pn, (void *)prefix}, v;
	s->walkers++;
	int mrc = pn ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)
		     : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	for (; !mrc; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < pn || memcmp(k.mv_data, prefix, pn))
			break;
		if (k.mv_size > STATE_NAME_MAX) {
			rc = WH_ECORRUPT;
			break;
		}
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = '\0';
		if ((rc = cb(ctx, name, v.mv_data, v.mv_size)))
			break;
	}
	s->walkers--;
	if (!rc && mrc && mrc != MDB_NOTFOUND)
		rc = st_err(mrc);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}
