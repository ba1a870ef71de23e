/*
 * store_ingest.c: the write paths: ingest, author, rebuild, and the one
 * routine all three use to add an op (st_add_op): log, id index, case
 * op list, meta, the case fold and the digest aggregates.
 *
 * Invariants (per committed transaction):
 *   - every op in log has exactly one ids row and one caseops dup;
 *   - cases[k] is the fold of exactly the ops in caseops[k], in
 *     (hlc, author, id) order, whatever order they arrived in;
 *   - caseagg[k] = (count, sum of ids) of caseops[k] and the case's
 *     reach, the union of the paths its ops name (store_agg.c);
 *   - agg[p] = sum of caseagg over the cases whose reach lies within p,
 *     and reach[p] lists those cases.
 *
 * Ingest checks a known id before anything else: refusing an op we hold
 * costs one hash and one lookup, not a signature verification.
 */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

/* Fold the case again from all its ops (the new one is already listed):
 * what an op that sorts before the fold position needs. */
static int refold(struct wh_store *s, MDB_txn *txn, const uint8_t *ck,
		  size_t cn, const char *code, uint32_t seq, struct wh_case *c)
{
	size_t n;
	int rc = st_case_fold_keys(s, txn, ck, cn, &s->fk, &s->fk_cap, &n);
	if (rc)
		return rc == WH_ENOTFOUND ? WH_ECORRUPT : rc;
	wh_case_init(c, code, seq);
	for (size_t i = 0; i < n && !rc; i++) {
		struct wh_op o;
		rc = st_log_op(s, txn, s->fk[i].lseq, &o);
		/* Listed under this case but not of it: our data is bad. */
		if (!rc && wh_case_apply(c, &o, NULL))
			rc = WH_ECORRUPT;
	}
	return rc;
}

static int fold(struct wh_store *s, MDB_txn *txn, const struct wh_op *op,
		const uint8_t *ck, size_t cn)
{
	struct wh_case c;
	MDB_val k = {cn, (void *)ck}, v;
	int rc = mdb_get(txn, s->dbi[DB_CASES], &k, &v);
	if (rc == MDB_NOTFOUND)
		wh_case_init(&c, op->code, op->seq);
	else if (rc)
		return st_err(rc);
	else if (wh_case_decode(v.mv_data, v.mv_size, &c))
		return WH_ECORRUPT;
	if (wh_case_after(&c, op)) {
		rc = wh_case_apply(&c, op, NULL) ? WH_ECORRUPT : WH_OK;
	} else {
		wh_case_fini(&c);
		rc = refold(s, txn, ck, cn, op->code, op->seq, &c);
	}
	if (!rc && !c.path)
		rc = WH_ECORRUPT; /* every applied op sets one */
	if (!rc)
		rc = st_reach_add(s, txn, ck, cn, op);
	if (!rc) {
		wh_buf_reset(&s->view);
		wh_case_encode(&c, &s->view);
		v.mv_size = s->view.len;
		v.mv_data = s->view.p;
		rc = st_err(mdb_put(txn, s->dbi[DB_CASES], &k, &v, 0));
	}
	wh_case_fini(&c);
	return rc;
}

/* Remember the highest case seq seen per code, so that a station
 * restored from an export never hands out an id it already used. */
static int seq_note(struct wh_store *s, MDB_txn *txn, const char *code,
		    uint32_t seq)
{
	char key[4 + WH_CODE_MAX + 1] = "seq/";
	strcpy(key + 4, code);
	uint64_t cur;
	int rc = st_meta_get_u64(s, txn, key, &cur);
	if (rc == WH_ENOTFOUND)
		cur = 0;
	else if (rc)
		return rc;
	return seq > cur ? st_meta_put_u64(s, txn, key, seq) : WH_OK;
}

/*
 * Store one validated op and everything derived from it. lseq 0 appends
 * it to the log; rebuild passes the log seq it already has. WH_EEXIST if
 * its id is indexed already.
 */
static int st_add_op(struct wh_store *s, struct wtx *w, const struct wh_op *op,
		     uint64_t lseq)
{
	uint8_t lk[8], ck[CASE_KEY_MAX];
	MDB_val k = {8, lk}, v = {op->raw.n, (void *)op->raw.p};
	int rc;
	if (!lseq) {
		lseq = w->next_lseq++;
		st_be64(lk, lseq);
		/* Monotonic keys: MDB_APPEND fills log pages completely. */
		if ((rc = mdb_put(w->txn, s->dbi[DB_LOG], &k, &v,
				  MDB_APPEND)))
			return st_err(rc);
	} else {
		st_be64(lk, lseq);
	}
	k.mv_size = WH_ID_BYTES;
	k.mv_data = (void *)op->id;
	v.mv_size = 8;
	v.mv_data = lk;
	if ((rc = mdb_put(w->txn, s->dbi[DB_IDS], &k, &v, MDB_NOOVERWRITE)))
		return st_err(rc);
	size_t cn = st_case_key(ck, op->code, op->seq);
	if (!cn)
		return WH_ECORRUPT; /* decode checked the code */
	uint8_t cv[CASEOP_BYTES];
	memcpy(cv, lk, 8);
	memcpy(cv + 8, op->id, WH_ID_BYTES);
	k.mv_size = cn;
	k.mv_data = ck;
	v.mv_size = sizeof cv;
	v.mv_data = cv;
	if ((rc = mdb_put(w->txn, s->dbi[DB_CASEOPS], &k, &v, 0)))
		return st_err(rc);
	w->nops++;
	w->opbytes += op->raw.n;
	if (op->hlc > w->hlc_max)
		w->hlc_max = op->hlc;
	if ((rc = seq_note(s, w->txn, op->code, op->seq)))
		return rc;
	if (wh_code_is_doc(op->code)) {
		if ((rc = st_em_note(s, w->txn, op, ck, cn)))
			return rc;
		return st_doc_add(s, w->txn, op, cv);
	}
	if ((rc = st_task_note(s, w->txn, op, ck, cn)))
		return rc;
	if (op->kind == WH_OP_WHISTLE &&
	    (rc = st_summoned_note(s, w->txn, op, ck, cn)))
		return rc;
	if ((rc = st_blob_note(s, w->txn, op, ck, cn)))
		return rc;
	return fold(s, w->txn, op, ck, cn);
}

/* ------------------------------------------------------------------ */
/* ingest */

struct ingest {
	const struct wh_slice *ops;
	size_t n;
	uint64_t now_ms;
	const struct wh_store_policy *policy;
	int all_or_none;
	int *results;
	struct wh_ingest_result res;
	int refused_out; /* all_or_none stopped at a refused op */
	/* From the pre-pass outside the transaction, per op: PRE_KNOWN (held
	 * already: ids never go away, so it stays held), PRE_CHECKED (decode,
	 * clock and signature checked, result in pre[i]) or 0; and its id. */
	uint8_t *checked;
	int *pre;
	uint8_t (*ids)[WH_ID_BYTES];
};

enum { PRE_CHECKED = 1, PRE_KNOWN = 2 };

/* Decode, clock, signature, policy: WH_OK to admit or the refusal. The
 * signature was checked before the transaction when checked[i] is set. */
static int check_op(struct wh_store *s, MDB_txn *txn, const struct ingest *in,
		    size_t i, struct wh_op *op)
{
	const struct wh_slice *raw = &in->ops[i];
	int rc = wh_op_decode(raw->p, raw->n, op);
	if (in->checked && in->checked[i] == PRE_CHECKED) {
		if (!rc)
			rc = in->pre[i];
	} else {
		if (!rc)
			rc = wh_hlc_check(op->hlc, in->now_ms);
		if (!rc)
			rc = wh_op_verify(op);
	}
	/* The roster's rule first: it is the same on every replica, while
	 * a caller's policy (a link's scope) is local. */
	if (!rc)
		rc = st_authz(s, txn, op);
	if (!rc && in->policy && in->policy->admit) {
		rc = in->policy->admit(in->policy->ctx, op);
		if (rc > 0) /* not a WH_* code: still a refusal */
			rc = WH_EDENIED;
	}
	return rc;
}

static int ingest_fn(struct wh_store *s, struct wtx *w, void *ctx)
{
	struct ingest *in = ctx;
	memset(&in->res, 0, sizeof in->res);
	in->refused_out = 0;
	for (size_t i = 0; i < in->n; i++) {
		const struct wh_slice *raw = &in->ops[i];
		struct wh_op op;
		int rc;
		if (!raw->p) {
			rc = WH_ETRUNC;
		} else if (raw->n > WH_OP_MAX_BYTES) {
			rc = WH_ETOOBIG; /* never held: skip the hash */
		} else {
			uint8_t *id = in->ids[i];
			MDB_val k = {WH_ID_BYTES, id}, v;
			rc = in->checked[i] == PRE_KNOWN
				     ? 0
				     : mdb_get(w->txn, s->dbi[DB_IDS], &k, &v);
			if (rc == 0) {
				in->res.known++;
				if (in->results)
					in->results[i] = WH_EEXIST;
				continue;
			}
			if (rc != MDB_NOTFOUND)
				return st_err(rc);
			rc = check_op(s, w->txn, in, i, &op);
		}
		if (rc) {
			if (!in->res.refused++) {
				in->res.first_refused = i;
				in->res.first_refused_error = rc;
			}
			if (in->results)
				in->results[i] = rc;
			if (in->all_or_none) {
				in->refused_out = 1;
				return rc;
			}
			continue;
		}
		if ((rc = st_add_op(s, w, &op, 0)))
			return rc;
		in->res.added++;
		if (in->results)
			in->results[i] = WH_OK;
	}
	return WH_OK;
}

/*
 * Before the write transaction: find the ops not yet held (one read
 * transaction, a hash and a lookup each) and check those on every core.
 * The transaction looks each id up again, since another process may have
 * stored it meanwhile; what the pre-pass verified it does not verify
 * again.
 */
static int precheck(struct wh_store *s, struct ingest *in)
{
	if (in->n == 0)
		return WH_OK;
	in->checked = wh_xcalloc(in->n, 1);
	in->pre = wh_xcalloc(in->n, sizeof in->pre[0]);
	in->ids = wh_xmalloc(in->n * WH_ID_BYTES);
	MDB_txn *txn;
	int rc = st_read_begin(s, &txn);
	if (rc)
		return rc;
	for (size_t i = 0; i < in->n; i++) {
		const struct wh_slice *raw = &in->ops[i];
		if (!raw->p || raw->n > WH_OP_MAX_BYTES)
			continue; /* refused in the transaction */
		wh_op_id(raw->p, raw->n, in->ids[i]);
		MDB_val k = {WH_ID_BYTES, in->ids[i]}, v;
		int mrc = mdb_get(txn, s->dbi[DB_IDS], &k, &v);
		if (mrc == MDB_NOTFOUND)
			in->checked[i] = PRE_CHECKED;
		else if (mrc == 0)
			in->checked[i] = PRE_KNOWN;
		else {
			rc = st_err(mrc);
			break;
		}
	}
	mdb_txn_abort(txn);
	if (rc)
		return rc == ST_GROW ? WH_EFULL : rc;
	st_verify_batch(in->ops, in->checked, in->n, in->now_ms, in->pre);
	return WH_OK;
}

/* Whether the pre-pass found every op already held. */
static int all_known(const struct ingest *in)
{
	for (size_t i = 0; i < in->n; i++)
		if (in->checked[i] != PRE_KNOWN)
			return 0;
	return in->n > 0;
}

int wh_store_ingest(struct wh_store *s, const struct wh_slice *ops, size_t n,
		    const struct wh_ingest_opts *o, int *results,
		    struct wh_ingest_result *res)
{
	if (!s || (n && !ops))
		return WH_EINVAL;
	if (s->writing || s->walkers)
		return WH_EBUSY; /* as st_write says, also when all is held */
	struct ingest in = {
		.ops = ops,
		.n = n,
		.now_ms = o ? o->now_ms : 0,
		.policy = o ? o->policy : NULL,
		.all_or_none = o ? o->all_or_none : 0,
		.results = results,
	};
	/* No clock given: the real one, not 1970 (which refuses all). */
	if (!in.now_ms)
		in.now_ms = wh_clock_realtime(NULL);
	int rc = precheck(s, &in);
	if (rc == WH_OK && all_known(&in)) {
		/* Nothing to write: no write transaction, whose commit costs
		 * an fsync. A peer resending what we hold (a retry, or a
		 * flood within its budget) must stay cheap. */
		in.res.known = n;
		for (size_t i = 0; in.results && i < n; i++)
			in.results[i] = WH_EEXIST;
	} else if (rc == WH_OK) {
		rc = st_write(s, ingest_fn, &in);
	}
	free(in.checked);
	free(in.pre);
	free(in.ids);
	if (rc && in.refused_out) {
		in.res.added = 0; /* nothing stored; where and why is kept */
	} else if (rc) {
		/* A store failure: nothing was stored, whatever was counted. */
		memset(&in.res, 0, sizeof in.res);
	}
	if (res)
		*res = in.res;
	return rc;
}

/* ------------------------------------------------------------------ */
/* author */

struct author {
	const struct wh_key *key;
	struct wh_op_draft *d;
	size_t n;
	wh_clock_fn clock;
	void *clock_ctx;
	uint8_t (*ids)[WH_ID_BYTES];
	struct wh_buf *out;
	size_t out_len;
	uint8_t *seq0; /* which drafts asked for a fresh seq */
	wh_draft_fill_fn fill;
	void *fill_ctx;
	st_skip_fn skip; /* NULL, or: leave a draft out (store_emergency.c) */
	void *skip_ctx;
	uint8_t *skipped; /* per draft, when skip is set */
};

static int next_seq(struct wh_store *s, MDB_txn *txn, const char *code,
		    uint32_t *seq)
{
	char key[4 + WH_CODE_MAX + 1] = "seq/";
	if (!code || !wh_code_valid(code, strnlen(code, WH_CODE_MAX + 1)))
		return WH_EID;
	strcpy(key + 4, code);
	uint64_t cur;
	int rc = st_meta_get_u64(s, txn, key, &cur);
	if (rc == WH_ENOTFOUND)
		cur = 0;
	else if (rc)
		return rc;
	if (cur >= UINT32_MAX)
		return WH_EID;
	*seq = (uint32_t)cur + 1;
	return WH_OK;
}

static int author_fn(struct wh_store *s, struct wtx *w, void *ctx)
{
	struct author *a = ctx;
	struct wh_hlc clk;
	/* Runs again after a map growth: start from the caller's input. */
	if (a->out)
		a->out->len = a->out_len;
	for (size_t i = 0; i < a->n; i++)
		if (a->seq0[i])
			a->d[i].seq = 0;
	wh_hlc_init(&clk, a->clock, a->clock_ctx, w->hlc_max);
	const struct wh_op_draft *last_create = NULL;
	for (size_t i = 0; i < a->n; i++) {
		struct wh_op_draft *d = &a->d[i];
		struct wh_op op;
		int rc = WH_OK;
		if (a->skip) {
			/* Decided inside the transaction, so that two
			 * processes cannot both author the same thing. */
			int k = a->skip(s, w->txn, d, a->skip_ctx);
			if (k < 0)
				return k;
			a->skipped[i] = (uint8_t)(k != 0);
			if (k) {
				if (a->ids)
					memset(a->ids[i], 0, WH_ID_BYTES);
				continue;
			}
		}
		/* Cases and emergencies are numbered by their station. */
		if ((d->kind == WH_OP_CASE_CREATE ||
		     d->kind == WH_OP_EMERGENCY) &&
		    d->seq == 0) {
			uint32_t floor = 0;
			rc = next_seq(s, w->txn, d->code, &d->seq);
			/* A replacement key's grant starts its numbers above
			 * the old key's (roster.h, seq_min). */
			if (!rc)
				rc = st_seq_floor(s, w->txn, a->key->pk, d->code,
						  &floor);
			if (!rc && floor > d->seq)
				d->seq = floor;
			last_create = d;
		} else if (d->seq == 0) {
			/* Follows a create of this call: same case. */
			if (!last_create || strcmp(last_create->code, d->code))
				return WH_EID;
			d->seq = last_create->seq;
		}
		if (rc)
			return rc;
		d->hlc = wh_hlc_tick(&clk);
		if (a->fill && (rc = a->fill(a->fill_ctx, d, i)))
			return rc;
		wh_buf_reset(&s->opbuf);
		if ((rc = wh_op_build(d, a->key, &s->opbuf)))
			return rc;
		if ((rc = wh_op_decode(s->opbuf.p, s->opbuf.len, &op)))
			return rc;
		/* On creation as on receipt (issue 5): a station cannot
		 * author what its peers would refuse. */
		if ((rc = st_authz(s, w->txn, &op)))
			return rc;
		if ((rc = st_add_op(s, w, &op, 0)))
			return rc;
		if (a->ids)
			memcpy(a->ids[i], op.id, WH_ID_BYTES);
		if (a->out)
			wh_buf_append(a->out, s->opbuf.p, s->opbuf.len);
	}
	return WH_OK;
}

int wh_store_author(struct wh_store *s, const struct wh_key *key,
		    struct wh_op_draft *drafts, size_t n, wh_clock_fn clock,
		    void *clock_ctx, uint8_t (*ids)[WH_ID_BYTES],
		    struct wh_buf *ops_out)
{
	return wh_store_author_fill(s, key, drafts, n, clock, clock_ctx, ids,
				    ops_out, NULL, NULL);
}

int wh_store_author_fill(struct wh_store *s, const struct wh_key *key,
			 struct wh_op_draft *drafts, size_t n,
			 wh_clock_fn clock, void *clock_ctx,
			 uint8_t (*ids)[WH_ID_BYTES], struct wh_buf *ops_out,
			 wh_draft_fill_fn fill, void *fill_ctx)
{
	return st_author(s, key, drafts, n, clock, clock_ctx, ids, ops_out,
			 fill, fill_ctx, NULL, NULL, NULL);
}

int st_author(struct wh_store *s, const struct wh_key *key,
	      struct wh_op_draft *drafts, size_t n, wh_clock_fn clock,
	      void *clock_ctx, uint8_t (*ids)[WH_ID_BYTES],
	      struct wh_buf *ops_out, wh_draft_fill_fn fill, void *fill_ctx,
	      st_skip_fn skip, void *skip_ctx, uint8_t *skipped)
{
	if (!s || !key || (n && !drafts) || (skip && !skipped))
		return WH_EINVAL;
	struct author a = {key, drafts, n, clock, clock_ctx, ids, ops_out,
			   ops_out ? ops_out->len : 0, wh_xcalloc(n ? n : 1, 1),
			   fill, fill_ctx, skip, skip_ctx, skipped};
	for (size_t i = 0; i < n; i++)
		a.seq0[i] = drafts[i].seq == 0;
	int rc = st_write(s, author_fn, &a);
	if (rc) {
		/* Nothing was stored: leave the caller's input as it was. */
		if (ops_out)
			ops_out->len = a.out_len;
		for (size_t i = 0; i < n; i++)
			if (a.seq0[i])
				drafts[i].seq = 0;
	}
	free(a.seq0);
	return rc;
}

/* ------------------------------------------------------------------ */
/* rebuild */

static int drop_seq_keys(struct wh_store *s, MDB_txn *txn)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, s->dbi[DB_META], &cur);
	if (rc)
		return st_err(rc);
	MDB_val k = {4, "seq/"}, v;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (!rc && k.mv_size >= 4 && !memcmp(k.mv_data, "seq/", 4)) {
		rc = mdb_cursor_del(cur, 0);
		if (!rc)
			rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? WH_OK : st_err(rc);
}

/* How often a rebuild reports, in ops of the log. */
#define REBUILD_REPORT_OPS 1024u

struct rebuild_report {
	wh_store_progress_fn fn;
	void *ctx;
};

static int rebuild_ops(struct wh_store *s, struct wtx *w,
		       const struct rebuild_report *rr);

int st_rebuild(struct wh_store *s, struct wtx *w)
{
	return rebuild_ops(s, w, NULL);
}

static int rebuild_ops(struct wh_store *s, struct wtx *w,
		       const struct rebuild_report *rr)
{
	static const int derived[] = {
		DB_IDS,	   DB_CASEOPS, DB_CASES,   DB_CASEAGG,	DB_AGG,
		DB_REACH,  DB_DOCPRE,  DB_DOCAT,   DB_DOCOPS,	DB_BLOBREF,
		DB_BLOBWANT, DB_SUMMONED, DB_EMERG, DB_EMTASK};
	int rc;
	for (size_t i = 0; i < sizeof derived / sizeof derived[0]; i++)
		if ((rc = mdb_drop(w->txn, s->dbi[derived[i]], 0)))
			return st_err(rc);
	if ((rc = drop_seq_keys(s, w->txn)))
		return rc;
	w->nops = w->opbytes = w->hlc_max = 0;
	MDB_cursor *cur;
	uint64_t total = 0, done = 0;
	if (rr && rr->fn) {
		MDB_stat st;
		if ((rc = mdb_stat(w->txn, s->dbi[DB_LOG], &st)))
			return st_err(rc);
		total = st.ms_entries;
		rr->fn(rr->ctx, 0, total);
	}
	if ((rc = mdb_cursor_open(w->txn, s->dbi[DB_LOG], &cur)))
		return st_err(rc);
	MDB_val k, v;
	/* Only other tables are written below, so the log cursor and the
	 * bytes it returns stay valid. */
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	for (; !mrc && !rc; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (rr && rr->fn && ++done % REBUILD_REPORT_OPS == 0)
			rr->fn(rr->ctx, done, total);
		struct wh_op op;
		if (k.mv_size != 8 || wh_op_decode(v.mv_data, v.mv_size, &op)) {
			rc = WH_ECORRUPT;
			break;
		}
		rc = st_add_op(s, w, &op, st_get_be64(k.mv_data));
		if (rc == WH_EEXIST)
			rc = WH_ECORRUPT; /* the log holds an op twice */
	}
	mdb_cursor_close(cur);
	if (!rc && mrc != MDB_NOTFOUND)
		rc = st_err(mrc);
	return rc;
}

static int rebuild_fn(struct wh_store *s, struct wtx *w, void *ctx)
{
	int rc = rebuild_ops(s, w, ctx);
	/* A rebuild is also how an older schema migrates (store.c). */
	if (!rc)
		rc = st_meta_put_u64(s, w->txn, "schema", WH_STORE_SCHEMA);
	return rc;
}

int wh_store_rebuild(struct wh_store *s)
{
	return wh_store_rebuild_progress(s, NULL, NULL);
}

int wh_store_rebuild_progress(struct wh_store *s, wh_store_progress_fn fn,
			      void *ctx)
{
	if (!s)
		return WH_EINVAL;
	struct rebuild_report rr = {fn, ctx};
	return st_write(s, rebuild_fn, &rr);
}
