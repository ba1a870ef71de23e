/*
 * store_blob.c: content kept beside the ops and addressed by the
 * BLAKE2b-256 hash that a signed op names, so the signature covers the
 * bytes without the op carrying them: attachments (拍照上报, attach ops)
 * and key envelopes (keys ops, crdt/seal.h).
 *
 *   blobs     hash -> content (primary, like the log: rebuild keeps it)
 *   blobref   hash -> size u64le || case key of the first op naming it
 *             (derived from the log); size 0 marks content an erase op
 *             destroyed (no content is empty: put refuses 0 bytes)
 *   blobwant  the blobref rows whose content is not here yet (derived)
 *   blobparts hash || offset u32be -> chunk, while a blob arrives in
 *             pieces over a slow link; kept across restarts, so an
 *             interrupted transfer resumes where it stopped
 *
 * Content is taken only when it is wanted (an op in the store names it)
 * and only if it hashes to its name: a peer cannot fill the disk with
 * bytes nobody asked for, nor swap a photo.
 *
 * Erasure (WH_OP_CASE_ERASE): storing an erase op deletes the content,
 * parts and wanted rows of every envelope the case's keys ops name and
 * marks each destroyed, and a keys op of an erased case is destroyed as
 * it arrives, in whichever order they come. Destroyed content is refused
 * from then on: put, pieces, get and the scope question all say no, so
 * no peer can bring it back. The signed ops stay; only what opens them
 * goes. What is destroyed is a function of the op set: every hash a keys
 * op of an erased case names, whatever else names it.
 */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

#define PART_KEY (WH_ID_BYTES + 4)

static int parts_drop(struct wh_store *s, MDB_txn *txn, const uint8_t *hash);

/* Whether hash is marked destroyed: 1, 0, or a negative error. */
static int gone(struct wh_store *s, MDB_txn *txn, const uint8_t *hash)
{
	MDB_val k = {WH_ID_BYTES, (void *)hash}, v;
	int rc = mdb_get(txn, s->dbi[DB_BLOBREF], &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return st_err(rc);
	return v.mv_size >= 8 && st_get_le64(v.mv_data) == 0;
}

/* ---- write side: notes from ingest ------------------------------- */

/* Content named by an attach or keys op: note it, wanted if missing. */
static int note_content(struct wh_store *s, MDB_txn *txn,
			const struct wh_op *op, const uint8_t *ck, size_t cn)
{
	const struct wh_field *h = wh_op_field(op, WH_F_BLOB);
	const struct wh_field *z = wh_op_field(op, WH_F_SIZE);
	if (!h || !z || h->s.n != WH_ID_BYTES || z->u == 0)
		return WH_OK; /* decode guarantees both; nothing to note */
	uint8_t vb[8 + CASE_KEY_MAX];
	st_le64(vb, z->u);
	memcpy(vb + 8, ck, cn);
	MDB_val k = {WH_ID_BYTES, (void *)h->s.p}, v = {8 + cn, vb};
	int rc = mdb_put(txn, s->dbi[DB_BLOBREF], &k, &v, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST)
		return WH_OK; /* named before: the first naming stands */
	if (rc)
		return st_err(rc);
	MDB_val d;
	rc = mdb_get(txn, s->dbi[DB_BLOBS], &k, &d);
	if (rc == 0)
		return WH_OK;
	if (rc != MDB_NOTFOUND)
		return st_err(rc);
	return st_err(mdb_put(txn, s->dbi[DB_BLOBWANT], &k, &v, 0));
}

/* Destroy content hash named by a keys op of erased case ck: content,
 * parts and wanted row go, and the blobref row says so. Whoever else
 * names the same hash: what is destroyed must depend on the op set
 * alone, never on which op arrived first, or an erase would hold on
 * some replicas and not on others (docs/sealing.md). hash must not
 * point into the map (writes below). */
static int destroy(struct wh_store *s, MDB_txn *txn, const uint8_t *hash,
		   const uint8_t *ck, size_t cn)
{
	MDB_val k = {WH_ID_BYTES, (void *)hash}, v;
	int rc;
	uint8_t vb[8 + CASE_KEY_MAX];
	st_le64(vb, 0);
	memcpy(vb + 8, ck, cn);
	v.mv_size = 8 + cn;
	v.mv_data = vb;
	if ((rc = mdb_put(txn, s->dbi[DB_BLOBREF], &k, &v, 0)))
		return st_err(rc);
	rc = mdb_del(txn, s->dbi[DB_BLOBS], &k, NULL);
	if (rc && rc != MDB_NOTFOUND)
		return st_err(rc);
	rc = mdb_del(txn, s->dbi[DB_BLOBWANT], &k, NULL);
	if (rc && rc != MDB_NOTFOUND)
		return st_err(rc);
	return parts_drop(s, txn, hash);
}

/* The blob a keys op names, copied out of the map. */
static int keys_blob(const struct wh_op *op, uint8_t out[WH_ID_BYTES])
{
	const struct wh_field *h = wh_op_field(op, WH_F_BLOB);
	if (op->kind != WH_OP_CASE_KEYS || !h || h->s.n != WH_ID_BYTES)
		return 0;
	memcpy(out, h->s.p, WH_ID_BYTES);
	return 1;
}

/* Whether case ck's view says its personal data was erased. */
static int case_erased(struct wh_store *s, MDB_txn *txn, const uint8_t *ck,
		       size_t cn)
{
	MDB_val k = {cn, (void *)ck}, v;
	int rc = mdb_get(txn, s->dbi[DB_CASES], &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return st_err(rc);
	struct wh_case c;
	if (wh_case_decode(v.mv_data, v.mv_size, &c))
		return WH_ECORRUPT;
	int erased = c.erased;
	wh_case_fini(&c);
	return erased;
}

/* An erase op of case ck was stored: destroy what every keys op of the
 * case names (the erase itself is listed already, and is no keys op). */
static int erase_case(struct wh_store *s, MDB_txn *txn, const uint8_t *ck,
		      size_t cn)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, s->dbi[DB_CASEOPS], &cur);
	if (rc)
		return st_err(rc);
	MDB_val k = {cn, (void *)ck}, v;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	for (; !mrc && !rc; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP)) {
		struct wh_op op;
		uint8_t hash[WH_ID_BYTES];
		if (v.mv_size != CASEOP_BYTES) {
			rc = WH_ECORRUPT;
			break;
		}
		rc = st_log_op(s, txn, st_get_be64(v.mv_data), &op);
		if (!rc && keys_blob(&op, hash))
			rc = destroy(s, txn, hash, ck, cn);
	}
	mdb_cursor_close(cur);
	if (!rc && mrc && mrc != MDB_NOTFOUND)
		rc = st_err(mrc);
	return rc;
}

int st_blob_note(struct wh_store *s, MDB_txn *txn, const struct wh_op *op,
		 const uint8_t *ck, size_t cn)
{
	uint8_t hash[WH_ID_BYTES];
	int erased;
	switch (op->kind) {
	case WH_OP_ATTACH:
		return note_content(s, txn, op, ck, cn);
	case WH_OP_CASE_KEYS:
		/* A key shared with a case already erased (the erase got
		 * here first) is destroyed on arrival. */
		if ((erased = case_erased(s, txn, ck, cn)) < 0)
			return erased;
		if (!erased)
			return note_content(s, txn, op, ck, cn);
		return keys_blob(op, hash) ? destroy(s, txn, hash, ck, cn)
					   : WH_OK;
	case WH_OP_CASE_ERASE:
		return erase_case(s, txn, ck, cn);
	default:
		return WH_OK;
	}
}

/* Drop every part of hash. */
static int parts_drop(struct wh_store *s, MDB_txn *txn, const uint8_t *hash)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, s->dbi[DB_BLOBPARTS], &cur);
	if (rc)
		return st_err(rc);
	/* Seek afresh after each delete: a cursor left on a deleted last
	 * row is not one to step from. A blob has at most a few hundred
	 * pieces. */
	for (;;) {
		MDB_val k = {WH_ID_BYTES, (void *)hash}, v;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc || k.mv_size != PART_KEY ||
		    memcmp(k.mv_data, hash, WH_ID_BYTES))
			break;
		if ((rc = mdb_cursor_del(cur, 0)))
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? WH_OK : st_err(rc);
}

/* Store content under its hash; the caller checked the hash. */
static int blob_store(struct wh_store *s, MDB_txn *txn,
		      const uint8_t hash[WH_ID_BYTES], const uint8_t *p,
		      size_t n)
{
	MDB_val k = {WH_ID_BYTES, (void *)hash}, v = {n, (void *)p};
	int rc = mdb_put(txn, s->dbi[DB_BLOBS], &k, &v, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST)
		return WH_EEXIST;
	if (rc)
		return st_err(rc);
	rc = mdb_del(txn, s->dbi[DB_BLOBWANT], &k, NULL);
	if (rc && rc != MDB_NOTFOUND)
		return st_err(rc);
	return parts_drop(s, txn, hash);
}

struct put {
	const uint8_t *p;
	size_t n;
	uint8_t hash[WH_ID_BYTES];
};

static int put_fn(struct wh_store *s, struct wtx *w, void *ctx)
{
	struct put *a = ctx;
	int g = gone(s, w->txn, a->hash);
	if (g)
		return g < 0 ? g : WH_EDENIED; /* destroyed by an erase */
	return blob_store(s, w->txn, a->hash, a->p, a->n);
}

int wh_store_blob_put(struct wh_store *s, const uint8_t *p, size_t n,
		      uint8_t hash[WH_ID_BYTES])
{
	if (!s || (!p && n))
		return WH_EINVAL;
	if (n == 0 || n > WH_BLOB_MAX_BYTES)
		return WH_ETOOBIG;
	struct put a = {p, n, {0}};
	wh_hash(p, n, a.hash);
	if (hash)
		memcpy(hash, a.hash, WH_ID_BYTES);
	return st_write(s, put_fn, &a);
}

struct put_many {
	const struct wh_slice *b;
	size_t n;
	uint8_t (*hash)[WH_ID_BYTES];
};

static int put_many_fn(struct wh_store *s, struct wtx *w, void *ctx)
{
	struct put_many *a = ctx;
	for (size_t i = 0; i < a->n; i++) {
		int g = gone(s, w->txn, a->hash[i]);
		if (g)
			return g < 0 ? g : WH_EDENIED;
		int rc = blob_store(s, w->txn, a->hash[i], a->b[i].p,
				    a->b[i].n);
		if (rc && rc != WH_EEXIST)
			return rc;
	}
	return WH_OK;
}

int wh_store_blob_put_many(struct wh_store *s, const struct wh_slice *b,
			   size_t n)
{
	if (!s || (n && !b))
		return WH_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (b[i].n == 0 || b[i].n > WH_BLOB_MAX_BYTES || !b[i].p)
			return WH_ETOOBIG;
	if (n == 0)
		return WH_OK;
	struct put_many a = {b, n, wh_xmalloc(n * WH_ID_BYTES)};
	for (size_t i = 0; i < n; i++)
		wh_hash(b[i].p, b[i].n, a.hash[i]);
	int rc = st_write(s, put_many_fn, &a);
	free(a.hash);
	return rc;
}

/* ---- chunks from a peer ------------------------------------------ */

struct part {
	const uint8_t *hash, *p;
	uint64_t size, off;
	size_t n;
	int done, forged;
};

/* Whether the parts of hash cover [0, size); if so, assemble them. */
static int parts_assemble(struct wh_store *s, MDB_txn *txn, struct part *a)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, s->dbi[DB_BLOBPARTS], &cur);
	if (rc)
		return st_err(rc);
	uint8_t *buf = NULL;
	for (int pass = 0; pass < 2 && !rc; pass++) {
		uint64_t pos = 0;
		MDB_val k = {WH_ID_BYTES, (void *)a->hash}, v;
		int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		for (; !mrc && k.mv_size == PART_KEY &&
		       !memcmp(k.mv_data, a->hash, WH_ID_BYTES);
		     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			uint8_t *kp = k.mv_data;
			uint64_t off = (uint64_t)kp[WH_ID_BYTES] << 24 |
				       (uint64_t)kp[WH_ID_BYTES + 1] << 16 |
				       (uint64_t)kp[WH_ID_BYTES + 2] << 8 |
				       kp[WH_ID_BYTES + 3];
			if (off > pos || off + v.mv_size > a->size)
				break; /* a gap, or not ours to trust */
			if (buf)
				memcpy(buf + off, v.mv_data, v.mv_size);
			if (off + v.mv_size > pos)
				pos = off + v.mv_size;
		}
		if (mrc && mrc != MDB_NOTFOUND)
			rc = st_err(mrc);
		if (rc || pos < a->size)
			break;
		if (!buf)
			buf = wh_xmalloc(a->size);
		else
			a->done = 1;
	}
	mdb_cursor_close(cur);
	if (!rc && a->done) {
		uint8_t h[WH_ID_BYTES];
		wh_hash(buf, a->size, h);
		if (memcmp(h, a->hash, WH_ID_BYTES)) {
			/* Commit the drop: the next try starts clean. */
			a->done = 0;
			a->forged = 1;
			rc = parts_drop(s, txn, a->hash);
		} else {
			rc = blob_store(s, txn, a->hash, buf, a->size);
		}
	}
	free(buf);
	return rc;
}

static int part_fn(struct wh_store *s, struct wtx *w, void *ctx)
{
	struct part *a = ctx;
	a->done = a->forged = 0;
	MDB_val k = {WH_ID_BYTES, (void *)a->hash}, v;
	int rc = mdb_get(w->txn, s->dbi[DB_BLOBS], &k, &v);
	if (rc == 0)
		return WH_EEXIST;
	if (rc != MDB_NOTFOUND)
		return st_err(rc);
	rc = mdb_get(w->txn, s->dbi[DB_BLOBWANT], &k, &v);
	if (rc == MDB_NOTFOUND)
		return WH_ENOTFOUND; /* nobody here asked for it */
	if (rc)
		return st_err(rc);
	if (v.mv_size < 8 || st_get_le64(v.mv_data) != a->size)
		return WH_EFIELD; /* not the size the signed op names */
	uint8_t pk[PART_KEY];
	memcpy(pk, a->hash, WH_ID_BYTES);
	pk[WH_ID_BYTES] = (uint8_t)(a->off >> 24);
	pk[WH_ID_BYTES + 1] = (uint8_t)(a->off >> 16);
	pk[WH_ID_BYTES + 2] = (uint8_t)(a->off >> 8);
	pk[WH_ID_BYTES + 3] = (uint8_t)a->off;
	k.mv_size = PART_KEY;
	k.mv_data = pk;
	v.mv_size = a->n;
	v.mv_data = (void *)a->p;
	if ((rc = mdb_put(w->txn, s->dbi[DB_BLOBPARTS], &k, &v, 0)))
		return st_err(rc);
	return parts_assemble(s, w->txn, a);
}

int wh_store_blob_part(struct wh_store *s, const uint8_t hash[WH_ID_BYTES],
		       uint64_t size, uint64_t off, const uint8_t *p, size_t n,
		       int *complete)
{
	if (!s || !hash || !p)
		return WH_EINVAL;
	if (complete)
		*complete = 0;
	if (size == 0 || size > WH_BLOB_MAX_BYTES || n == 0 || off >= size ||
	    n > size - off)
		return WH_ETOOBIG;
	struct part a = {hash, p, size, off, n, 0, 0};
	int rc = st_write(s, part_fn, &a);
	if (complete)
		*complete = rc == WH_OK && a.done;
	return rc == WH_OK && a.forged ? WH_ECHECKSUM : rc;
}

/* ---- reads ------------------------------------------------------- */

int wh_store_blob_get(struct wh_store *s, const uint8_t hash[WH_ID_BYTES],
		      uint64_t off, size_t max, struct wh_buf *out,
		      uint64_t *size)
{
	if (!s || !hash || !out)
		return WH_EINVAL;
	MDB_txn *txn;
	int rc = st_read_begin(s, &txn);
	if (rc)
		return rc;
	MDB_val k = {WH_ID_BYTES, (void *)hash}, v;
	int g = gone(s, txn, hash);
	rc = g < 0 ? g : g ? WH_ENOTFOUND
			   : st_err(mdb_get(txn, s->dbi[DB_BLOBS], &k, &v));
	if (!rc) {
		if (size)
			*size = v.mv_size;
		if (off > v.mv_size)
			rc = WH_EINVAL;
	}
	if (!rc) {
		size_t n = v.mv_size - (size_t)off;
		if (max && n > max)
			n = max;
		wh_buf_append(out, (uint8_t *)v.mv_data + off, n);
	}
	mdb_txn_abort(txn);
	return rc;
}

/* The case key in a blobref/blobwant value lies within scope's set. */
static int ref_in_scope(struct wh_store *s, MDB_txn *txn, const MDB_val *v,
			const char *scope, size_t sn)
{
	if (v->mv_size <= 8)
		return WH_ECORRUPT;
	if (!sn)
		return 1;
	MDB_val k = {v->mv_size - 8, (uint8_t *)v->mv_data + 8}, a;
	int rc = mdb_get(txn, s->dbi[DB_CASEAGG], &k, &a);
	if (rc)
		return rc == MDB_NOTFOUND ? 0 : st_err(rc);
	struct st_reach r;
	if (st_reach_parse(a.mv_data, a.mv_size, &r))
		return WH_ECORRUPT;
	return st_reach_within(&r, scope, sn);
}

int wh_store_blob_in_scope(struct wh_store *s, const uint8_t hash[WH_ID_BYTES],
			   const char *scope)
{
	if (!s || !hash)
		return WH_EINVAL;
	size_t sn = scope ? strlen(scope) : 0;
	if (sn && !wh_path_valid(scope, sn))
		return WH_EPATH;
	MDB_txn *txn;
	int rc = st_read_begin(s, &txn);
	if (rc)
		return rc;
	MDB_val k = {WH_ID_BYTES, (void *)hash}, v;
	rc = st_err(mdb_get(txn, s->dbi[DB_BLOBREF], &k, &v));
	if (!rc && (v.mv_size < 8 || st_get_le64(v.mv_data) == 0))
		rc = WH_ENOTFOUND; /* destroyed: served to nobody */
	if (!rc) {
		int in = ref_in_scope(s, txn, &v, scope, sn);
		rc = in < 0 ? in : in ? WH_OK : WH_ENOTFOUND;
	}
	mdb_txn_abort(txn);
	return rc;
}

int wh_store_blobs_wanted(struct wh_store *s, const char *scope,
			  wh_blob_cb cb, void *ctx)
{
	if (!s || !cb)
		return WH_EINVAL;
	size_t sn = scope ? strlen(scope) : 0;
	if (sn && !wh_path_valid(scope, sn))
		return WH_EPATH;
	MDB_txn *txn;
	MDB_cursor *cur;
	int rc = st_read_begin(s, &txn);
	if (rc)
		return rc;
	if ((rc = st_err(mdb_cursor_open(txn, s->dbi[DB_BLOBWANT], &cur)))) {
		mdb_txn_abort(txn);
		return rc;
	}
	s->walkers++;
	MDB_val k, v;
	int mrc;
	for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !mrc && !rc;
	     mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		int in = ref_in_scope(s, txn, &v, scope, sn);
		if (k.mv_size != WH_ID_BYTES || in < 0)
			rc = in < 0 ? in : WH_ECORRUPT;
		else if (in)
			rc = cb(ctx, k.mv_data, st_get_le64(v.mv_data));
	}
	s->walkers--;
	if (!rc && mrc != MDB_NOTFOUND)
		rc = st_err(mrc);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}

/* ---- after cases left the log -------------------------------------- */

/* The first key at or after from in dbi whose hash no op names any
 * more: 1 with hash set, 0 when there is none, or an error. */
static int next_orphan(struct wh_store *s, MDB_txn *txn, MDB_dbi dbi,
		       uint8_t hash[WH_ID_BYTES])
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, dbi, &cur);
	if (rc)
		return st_err(rc);
	MDB_val k = {WH_ID_BYTES, hash}, v;
	int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	for (; !mrc; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < WH_ID_BYTES)
			continue;
		MDB_val rk = {WH_ID_BYTES, k.mv_data}, rv;
		int g = mdb_get(txn, s->dbi[DB_BLOBREF], &rk, &rv);
		if (g == MDB_NOTFOUND) {
			memcpy(hash, k.mv_data, WH_ID_BYTES);
			break;
		}
		if (g) {
			mrc = g;
			break;
		}
	}
	mdb_cursor_close(cur);
	if (!mrc)
		return 1;
	return mrc == MDB_NOTFOUND ? 0 : st_err(mrc);
}

int st_blob_orphans_drop(struct wh_store *s, MDB_txn *txn, size_t *dropped)
{
	uint8_t hash[WH_ID_BYTES];
	int rc;
	*dropped = 0;
	/* Content: seek afresh after each delete (cursor rule above). */
	memset(hash, 0, sizeof hash);
	while ((rc = next_orphan(s, txn, s->dbi[DB_BLOBS], hash)) == 1) {
		MDB_val k = {WH_ID_BYTES, hash};
		if ((rc = mdb_del(txn, s->dbi[DB_BLOBS], &k, NULL)))
			return st_err(rc);
		(*dropped)++;
	}
	if (rc < 0)
		return rc;
	/* Pieces of content that was still arriving. */
	memset(hash, 0, sizeof hash);
	while ((rc = next_orphan(s, txn, s->dbi[DB_BLOBPARTS], hash)) == 1)
		if ((rc = parts_drop(s, txn, hash)))
			return rc;
	return rc;
}
