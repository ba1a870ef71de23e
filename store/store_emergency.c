/*
 * store_emergency.c: emergencies as the store keeps them (store.h,
 * "Emergencies"): each folded into the derived emerg table whenever one
 * of its ops is stored, the index of task cases by (station code,
 * emergency, task) that makes a plan's task a case exactly once per
 * station, and the calls later work reads them through.
 *
 * An emergency has a handful of ops, so it is simply refolded from all
 * of them (its caseops rows, in fold order) each time one arrives: the
 * result is the same whatever order they came in, and a rebuild makes
 * the same rows. Meta "em_gen" moves with every emergency or plan op, so
 * a running agent notices what another process (the CLI, an import)
 * stored, as it does for rosters.
 */
#include "store_int.h"

#include "emergency.h"
#include "plan.h"

#include <stdlib.h>
#include <string.h>

#define GEN_KEY "em_gen"
#define TASK_KEY_MAX (WH_CODE_MAX + 1 + WH_CODE_MAX + 1 + 4 + 64)

static int gen_bump(struct wh_store *s, MDB_txn *txn)
{
	uint64_t g = 0;
	int rc = st_meta_get_u64(s, txn, GEN_KEY, &g);
	if (rc && rc != WH_ENOTFOUND)
		return rc;
	return st_meta_put_u64(s, txn, GEN_KEY, g + 1);
}

int st_em_note(struct wh_store *s, MDB_txn *txn, const struct wh_op *op,
	       const uint8_t *ck, size_t cn)
{
	if (wh_plan_is(op->code))
		return gen_bump(s, txn);
	if (!wh_em_is(op->code))
		return WH_OK;
	size_t n;
	int rc = st_case_fold_keys(s, txn, ck, cn, &s->fk, &s->fk_cap, &n);
	if (rc)
		return rc == WH_ENOTFOUND ? WH_ECORRUPT : rc;
	struct wh_emergency e;
	wh_em_init(&e, op->code, op->seq);
	for (size_t i = 0; i < n && !rc; i++) {
		struct wh_op o;
		rc = st_log_op(s, txn, s->fk[i].lseq, &o);
		if (!rc && wh_em_apply(&e, &o, NULL))
			rc = WH_ECORRUPT; /* listed under it, not of it */
	}
	if (rc)
		return rc;
	wh_buf_reset(&s->view);
	wh_em_encode(&e, &s->view);
	MDB_val k = {cn, (void *)ck}, v = {s->view.len, s->view.p};
	if ((rc = st_err(mdb_put(txn, s->dbi[DB_EMERG], &k, &v, 0))))
		return rc;
	return gen_bump(s, txn);
}

/* code NUL em_code NUL seq(BE) task: the key of one task case. */
static size_t task_key(uint8_t *k, const char *code, const char *em,
		       uint32_t em_seq, const uint8_t *task, size_t tn)
{
	size_t a = strlen(code), b = strlen(em);
	if (a > WH_CODE_MAX || b > WH_CODE_MAX || tn > 64)
		return 0;
	size_t at = 0;
	memcpy(k, code, a + 1);
	at += a + 1;
	memcpy(k + at, em, b + 1);
	at += b + 1;
	for (int i = 0; i < 4; i++)
		k[at++] = (uint8_t)(em_seq >> (24 - 8 * i));
	memcpy(k + at, task, tn);
	return at + tn;
}

int st_task_note(struct wh_store *s, MDB_txn *txn, const struct wh_op *op,
		 const uint8_t *ck, size_t cn)
{
	if (op->kind != WH_OP_CASE_CREATE)
		return WH_OK;
	const struct wh_field *fe = wh_op_field(op, WH_F_EMERGENCY);
	const struct wh_field *fs = wh_op_field(op, WH_F_EMERGENCY_SEQ);
	const struct wh_field *ft = wh_op_field(op, WH_F_TASK);
	if (!fe || !fs || !ft)
		return WH_OK;
	char em[WH_CODE_MAX + 1];
	memcpy(em, fe->s.p, fe->s.n); /* decode bounds it by WH_CODE_MAX */
	em[fe->s.n] = '\0';
	uint8_t k[TASK_KEY_MAX];
	size_t kn = task_key(k, op->code, em, (uint32_t)fs->u, ft->s.p,
			     ft->s.n);
	if (!kn)
		return WH_ECORRUPT;
	MDB_val key = {kn, k}, v = {cn, (void *)ck};
	int rc = mdb_put(txn, s->dbi[DB_EMTASK], &key, &v, MDB_NOOVERWRITE);
	return rc == MDB_KEYEXIST ? WH_OK : st_err(rc);
}

/* ------------------------------------------------------------------ */
/* reading */

int wh_store_emergency_each(struct wh_store *s, wh_em_cb cb, void *ctx)
{
	if (!s || !cb)
		return WH_EINVAL;
	MDB_txn *txn;
	int rc = st_read_begin(s, &txn);
	if (rc)
		return rc;
	MDB_cursor *cur;
	if ((rc = st_err(mdb_cursor_open(txn, s->dbi[DB_EMERG], &cur)))) {
		mdb_txn_abort(txn);
		return rc;
	}
	struct wh_emergency *e = wh_xmalloc(sizeof *e);
	MDB_val k, v;
	s->walkers++;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	for (; !mrc && !rc; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (wh_em_decode(v.mv_data, v.mv_size, e)) {
			rc = WH_ECORRUPT;
			break;
		}
		rc = cb(ctx, e);
	}
	s->walkers--;
	if (!rc && mrc != MDB_NOTFOUND)
		rc = st_err(mrc);
	free(e);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}

int wh_store_emergency_get(struct wh_store *s, const char *code, uint32_t seq,
			   struct wh_emergency *out)
{
	uint8_t ck[CASE_KEY_MAX];
	size_t cn = st_case_key(ck, code, seq);
	if (!s || !out || !cn || !seq || !wh_em_is(code))
		return WH_EINVAL;
	MDB_txn *txn;
	int rc = st_read_begin(s, &txn);
	if (rc)
		return rc;
	MDB_val k = {cn, ck}, v;
	rc = st_err(mdb_get(txn, s->dbi[DB_EMERG], &k, &v));
	if (!rc && wh_em_decode(v.mv_data, v.mv_size, out))
		rc = WH_ECORRUPT;
	mdb_txn_abort(txn);
	return rc;
}

struct active {
	const char *path;
	size_t pn;
	uint64_t now;
	unsigned how;
	wh_em_cb cb;
	void *ctx;
	size_t n;
};

static int active_one(void *ctx, const struct wh_emergency *e)
{
	struct active *a = ctx;
	if (!wh_em_active(e, a->now))
		return 0;
	size_t an = strlen(e->area);
	int covers = wh_path_within(a->path, a->pn, e->area, an);
	int within = wh_path_within(e->area, an, a->path, a->pn);
	if (!((a->how & WH_EM_COVERS) && covers) &&
	    !((a->how & WH_EM_WITHIN) && within))
		return 0;
	a->n++;
	return a->cb ? a->cb(a->ctx, e) : 0;
}

int wh_store_emergency_active(struct wh_store *s, const char *path,
			      uint64_t now_ms, unsigned how, wh_em_cb cb,
			      void *ctx, size_t *count)
{
	size_t pn = path ? strlen(path) : 0;
	if (pn && !wh_path_valid(path, pn))
		return WH_EPATH;
	struct active a = {path ? path : "", pn, now_ms, how, cb, ctx, 0};
	int rc = wh_store_emergency_each(s, active_one, &a);
	if (count)
		*count = a.n;
	return rc;
}

int wh_store_emergency_gen(struct wh_store *s, uint64_t *gen)
{
	if (!s || !gen)
		return WH_EINVAL;
	MDB_txn *txn;
	int rc = st_read_begin(s, &txn);
	if (rc)
		return rc;
	rc = st_meta_get_u64(s, txn, GEN_KEY, gen);
	if (rc == WH_ENOTFOUND) {
		*gen = 0;
		rc = WH_OK;
	}
	mdb_txn_abort(txn);
	return rc;
}

int wh_store_emergency_tasks(struct wh_store *s, const char *code,
			     uint32_t seq, wh_case_cb cb, void *ctx)
{
	if (!s || !cb || !wh_em_is(code) ||
	    !wh_code_valid(code, strnlen(code, WH_CODE_MAX + 1)))
		return WH_EINVAL;
	MDB_txn *txn;
	int rc = st_read_begin(s, &txn);
	if (rc)
		return rc;
	MDB_cursor *cur;
	if ((rc = st_err(mdb_cursor_open(txn, s->dbi[DB_EMTASK], &cur)))) {
		mdb_txn_abort(txn);
		return rc;
	}
	/* Keys start with the station code: every row is looked at, and
	 * those of this emergency followed. A district's table holds a row
	 * per task per station, a few thousand at most. */
	MDB_val k, v;
	s->walkers++;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	for (; !mrc && !rc; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *p = k.mv_data;
		const uint8_t *z = memchr(p, 0, k.mv_size);
		if (!z)
			continue;
		size_t off = (size_t)(z - p) + 1, en = strlen(code);
		if (k.mv_size < off + en + 1 + 4 ||
		    memcmp(p + off, code, en + 1))
			continue;
		const uint8_t *q = p + off + en + 1;
		uint32_t sq = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 |
			      (uint32_t)q[2] << 8 | q[3];
		if (sq != seq)
			continue;
		MDB_val cv;
		rc = st_err(mdb_get(txn, s->dbi[DB_CASES], &v, &cv));
		if (rc == WH_ENOTFOUND) {
			rc = WH_OK; /* no view of it (cannot happen) */
			continue;
		}
		struct wh_case c;
		if (!rc && wh_case_decode(cv.mv_data, cv.mv_size, &c))
			rc = WH_ECORRUPT;
		if (!rc) {
			rc = cb(ctx, &c);
			wh_case_fini(&c);
		}
	}
	s->walkers--;
	if (!rc && mrc != MDB_NOTFOUND)
		rc = st_err(mrc);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}

/* ------------------------------------------------------------------ */
/* task cases, once */

/* The link of a create draft; 0 if it has none. */
static int draft_link(const struct wh_op_draft *d, char em[WH_CODE_MAX + 1],
		      uint32_t *seq, const struct wh_slice **task)
{
	const struct wh_field *fe = NULL, *fs = NULL, *ft = NULL;
	for (uint32_t i = 0; i < d->nfields; i++) {
		if (d->fields[i].key == WH_F_EMERGENCY)
			fe = &d->fields[i];
		else if (d->fields[i].key == WH_F_EMERGENCY_SEQ)
			fs = &d->fields[i];
		else if (d->fields[i].key == WH_F_TASK)
			ft = &d->fields[i];
	}
	if (!fe || !fs || !ft || fe->s.n > WH_CODE_MAX)
		return 0;
	memcpy(em, fe->s.p, fe->s.n);
	em[fe->s.n] = '\0';
	*seq = (uint32_t)fs->u;
	*task = &ft->s;
	return 1;
}

static int task_skip(struct wh_store *s, MDB_txn *txn,
		     const struct wh_op_draft *d, void *ctx)
{
	(void)ctx;
	char em[WH_CODE_MAX + 1];
	uint32_t seq;
	const struct wh_slice *task;
	if (d->kind != WH_OP_CASE_CREATE || !draft_link(d, em, &seq, &task))
		return WH_EINVAL;
	uint8_t k[TASK_KEY_MAX];
	size_t kn = task_key(k, d->code, em, seq, task->p, task->n);
	if (!kn)
		return WH_EINVAL;
	MDB_val key = {kn, k}, v;
	int rc = mdb_get(txn, s->dbi[DB_EMTASK], &key, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	return rc ? st_err(rc) : 1;
}

int wh_store_task_author(struct wh_store *s, const struct wh_key *key,
			 struct wh_op_draft *drafts, size_t n,
			 wh_clock_fn clock, void *clock_ctx,
			 uint8_t (*ids)[WH_ID_BYTES], struct wh_buf *ops_out,
			 uint8_t *created)
{
	if (!s || !created)
		return WH_EINVAL;
	uint8_t *skipped = wh_xcalloc(n ? n : 1, 1);
	int rc = st_author(s, key, drafts, n, clock, clock_ctx, ids, ops_out,
			   NULL, NULL, task_skip, NULL, skipped);
	for (size_t i = 0; i < n; i++)
		created[i] = rc == WH_OK && !skipped[i];
	free(skipped);
	return rc;
}
