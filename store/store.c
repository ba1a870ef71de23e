/*
 * store.c: the LMDB environment: open and schema check, MDB_* to WH_*
 * error mapping, transactions, map growth, fault injection, meta
 * counters and the small encoders the other store files share.
 *
 * Invariants:
 *   - every write goes through st_write: one write transaction per public
 *     call, committed only when the whole call succeeded;
 *   - the map is only resized while this process has no transaction open,
 *     as mdb_env_set_mapsize requires: st_write refuses to run while a
 *     walker's callback is out, and a read started inside one does not
 *     adopt a map another process grew (WH_EBUSY instead);
 *   - opening a store that a newer whistle wrote changes nothing on disk.
 *
 * Ingest and author live in store_ingest.c, the read calls in
 * store_read.c; store_int.h has the table layout.
 */
#include "store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAP (64ull << 20)
/* Doublings per call: from the 64 MiB default this reaches 64 TiB, far
 * past any disk a station has, so hitting it means something is wrong. */
#define MAX_GROW 20
#define MAX_MAP (1ull << 46)

static const struct {
	const char *name;
	unsigned flags;
} tables[DB_COUNT] = {
	[DB_LOG] = {"log", 0},
	[DB_IDS] = {"ids", 0},
	[DB_CASEOPS] = {"caseops", MDB_DUPSORT | MDB_DUPFIXED},
	[DB_CASES] = {"cases", 0},
	[DB_CASEAGG] = {"caseagg", 0},
	[DB_AGG] = {"agg", 0},
	[DB_REACH] = {"reach", MDB_DUPSORT},
	[DB_DOCPRE] = {"docpre", 0},
	[DB_DOCAT] = {"docat", 0},
	[DB_DOCOPS] = {"docops", MDB_DUPSORT | MDB_DUPFIXED},
	[DB_BLOBS] = {"blobs", 0},
	[DB_BLOBREF] = {"blobref", 0},
	[DB_BLOBWANT] = {"blobwant", 0},
	[DB_BLOBPARTS] = {"blobparts", 0},
	[DB_META] = {"meta", 0},
	[DB_STATE] = {"state", 0},
	[DB_ROSTER] = {"roster", 0},
	[DB_SUMMONED] = {"summoned", MDB_DUPSORT},
	[DB_EMERG] = {"emerg", 0},
	[DB_EMTASK] = {"emtask", 0},
};

int st_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS: return WH_OK;
	case MDB_NOTFOUND: return WH_ENOTFOUND;
	case MDB_KEYEXIST: return WH_EEXIST;
	case MDB_MAP_FULL: return ST_GROW;
	case ENOSPC:
	case EDQUOT:
	case MDB_TXN_FULL: /* too many dirty pages for one transaction */
		return WH_EFULL;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
	case MDB_INCOMPATIBLE:
	case MDB_BAD_VALSIZE: /* only our own keys reach LMDB */
		return WH_ECORRUPT;
	case MDB_READERS_FULL:
	case EBUSY:
	case EAGAIN:
		return WH_EBUSY;
	default:
		/* The contract keeps errno for I/O errors. */
		if (rc > 0)
			errno = rc;
		return WH_EIO;
	}
}

void st_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

uint64_t st_get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

void st_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

uint64_t st_get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

size_t st_case_key(uint8_t *k, const char *code, uint32_t seq)
{
	size_t n = code ? strnlen(code, WH_CODE_MAX + 1) : 0;
	if (!wh_code_valid(code, n))
		return 0;
	memcpy(k, code, n);
	k[n] = 0;
	for (int i = 0; i < 4; i++)
		k[n + 1 + (size_t)i] = (uint8_t)(seq >> (24 - 8 * i));
	return n + 5;
}

int st_case_key_parse(const uint8_t *k, size_t n, char code[WH_CODE_MAX + 1],
		      uint32_t *seq)
{
	if (n < 6 || n > CASE_KEY_MAX || k[n - 5] != 0 ||
	    !wh_code_valid((const char *)k, n - 5))
		return WH_ECORRUPT;
	memcpy(code, k, n - 5);
	code[n - 5] = 0;
	const uint8_t *q = k + n - 4;
	*seq = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 |
	       (uint32_t)q[2] << 8 | q[3];
	return WH_OK;
}

void st_digest(const uint8_t *agg_val, uint8_t out[WH_ID_BYTES],
	       uint64_t *count)
{
	static const uint8_t zero[AGG_VAL_BYTES];
	const uint8_t *v = agg_val ? agg_val : zero;
	struct wh_hasher h;
	wh_hasher_init(&h);
	wh_hasher_update(&h, (const uint8_t *)"whistle-digest-v1", 17);
	wh_hasher_update(&h, v, AGG_VAL_BYTES); /* count u64le, then sum */
	wh_hasher_final(&h, out);
	if (count)
		*count = st_get_le64(v);
}

/* ------------------------------------------------------------------ */
/* meta */

int st_meta_get_u64(struct wh_store *s, MDB_txn *txn, const char *key,
		    uint64_t *v)
{
	MDB_val k = {strlen(key), (void *)key}, d;
	int rc = mdb_get(txn, s->dbi[DB_META], &k, &d);
	if (rc)
		return st_err(rc);
	const uint8_t *p = d.mv_data;
	if (d.mv_size == 4)
		*v = (uint64_t)p[0] | (uint64_t)p[1] << 8 |
		     (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
	else if (d.mv_size == 8)
		*v = st_get_le64(p);
	else
		return WH_ECORRUPT;
	return WH_OK;
}

int st_meta_put_u64(struct wh_store *s, MDB_txn *txn, const char *key,
		    uint64_t v)
{
	uint8_t b[8];
	st_le64(b, v);
	MDB_val k = {strlen(key), (void *)key}, d = {8, b};
	return st_err(mdb_put(txn, s->dbi[DB_META], &k, &d, 0));
}

/* A missing counter is zero: a fresh store has none. */
static int meta_get0(struct wh_store *s, MDB_txn *txn, const char *key,
		     uint64_t *v)
{
	int rc = st_meta_get_u64(s, txn, key, v);
	if (rc == WH_ENOTFOUND) {
		*v = 0;
		rc = WH_OK;
	}
	return rc;
}

static int wtx_load(struct wh_store *s, struct wtx *w)
{
	int rc = meta_get0(s, w->txn, "hlc_max", &w->hlc_max);
	if (!rc)
		rc = meta_get0(s, w->txn, "nops", &w->nops);
	if (!rc)
		rc = meta_get0(s, w->txn, "opbytes", &w->opbytes);
	if (rc)
		return rc;
	MDB_cursor *cur;
	if ((rc = mdb_cursor_open(w->txn, s->dbi[DB_LOG], &cur)))
		return st_err(rc);
	MDB_val k, d;
	rc = mdb_cursor_get(cur, &k, &d, MDB_LAST);
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND) {
		w->next_lseq = 1;
		return WH_OK;
	}
	if (rc)
		return st_err(rc);
	if (k.mv_size != 8)
		return WH_ECORRUPT;
	w->next_lseq = st_get_be64(k.mv_data) + 1;
	return WH_OK;
}

int st_meta_flush(struct wh_store *s, struct wtx *w)
{
	int rc = st_meta_put_u64(s, w->txn, "hlc_max", w->hlc_max);
	if (!rc)
		rc = st_meta_put_u64(s, w->txn, "nops", w->nops);
	if (!rc)
		rc = st_meta_put_u64(s, w->txn, "opbytes", w->opbytes);
	return rc;
}

/* ------------------------------------------------------------------ */
/* transactions and growth */

static int txn_begin(struct wh_store *s, unsigned flags, MDB_txn **txn)
{
	for (int tries = 0;; tries++) {
		int rc = mdb_txn_begin(s->env, NULL, flags, txn);
		if (rc != MDB_MAP_RESIZED || tries == 3)
			return st_err(rc);
		if (s->walkers)
			return WH_EBUSY;
		/* Another process grew the map: adopt its size. */
		if ((rc = mdb_env_set_mapsize(s->env, 0)))
			return st_err(rc);
	}
}

int st_read_begin(struct wh_store *s, MDB_txn **txn)
{
	return txn_begin(s, MDB_RDONLY, txn);
}

static int grow(struct wh_store *s)
{
	MDB_envinfo ei;
	int rc = mdb_env_info(s->env, &ei);
	if (rc)
		return st_err(rc);
	uint64_t next = (uint64_t)ei.me_mapsize * 2;
	if (next > MAX_MAP || (size_t)next != next)
		return WH_EFULL;
	/* ENOMEM here is the address space, not the heap: full either way. */
	if (mdb_env_set_mapsize(s->env, (size_t)next))
		return WH_EFULL;
	return WH_OK;
}

int st_write(struct wh_store *s, st_write_fn fn, void *ctx)
{
	if (s->writing || s->walkers)
		return WH_EBUSY;
	s->writing = 1;
	int rc;
	for (int tries = 0;; tries++) {
		struct wtx w = {0};
		if ((rc = txn_begin(s, 0, &w.txn)))
			break;
		rc = wtx_load(s, &w);
		if (!rc)
			rc = fn(s, &w, ctx);
		if (!rc)
			rc = st_meta_flush(s, &w);
		if (rc) {
			mdb_txn_abort(w.txn);
		} else if (++s->commits == s->fail_commit_at) {
			mdb_txn_abort(w.txn);
			rc = WH_EFAULT;
		} else {
			rc = st_err(mdb_txn_commit(w.txn));
		}
		if (rc != ST_GROW)
			break;
		if (tries == MAX_GROW) {
			rc = WH_EFULL;
			break;
		}
		if ((rc = grow(s)))
			break;
	}
	s->writing = 0;
	return rc;
}

/* ------------------------------------------------------------------ */
/* open / close */

/* *present: a schema is written; s->migrate: an older one, which open
 * migrates by a rebuild (only derived tables changed between schemas). */
static int schema_check(struct wh_store *s, MDB_txn *txn, int *present)
{
	uint64_t v;
	int rc = st_meta_get_u64(s, txn, "schema", &v);
	*present = rc == WH_OK;
	s->migrate = 0;
	if (rc == WH_ENOTFOUND)
		return WH_OK;
	if (rc)
		return rc;
	if (v > WH_STORE_SCHEMA)
		return WH_ESCHEMA;
	if (v == 0)
		return WH_ECORRUPT;
	s->migrate = v < WH_STORE_SCHEMA;
	return WH_OK;
}

/* Try to open every table read-only: a store that is complete and of our
 * schema needs no write at open (the CLI reading while the agent runs).
 * *ready says whether that worked. */
static int tables_open_ro(struct wh_store *s, int *ready)
{
	MDB_txn *txn;
	int rc = st_read_begin(s, &txn);
	*ready = 0;
	if (rc)
		return rc;
	int mrc = mdb_dbi_open(txn, tables[DB_META].name,
			       tables[DB_META].flags, &s->dbi[DB_META]);
	if (mrc == MDB_NOTFOUND) {
		mdb_txn_abort(txn); /* fresh store */
		return WH_OK;
	}
	int present = 0;
	rc = mrc ? st_err(mrc) : schema_check(s, txn, &present);
	if (s->migrate)
		present = 0;
	for (int i = 0; !rc && present && i < DB_COUNT; i++) {
		mrc = mdb_dbi_open(txn, tables[i].name, tables[i].flags,
				   &s->dbi[i]);
		if (mrc == MDB_NOTFOUND)
			present = 0;
		else if (mrc)
			rc = st_err(mrc);
	}
	if (rc || !present) {
		mdb_txn_abort(txn);
		return rc;
	}
	/* Committing a read transaction keeps its table handles. */
	if ((rc = st_err(mdb_txn_commit(txn))))
		return rc;
	*ready = 1;
	return WH_OK;
}

static int tables_create(struct wh_store *s)
{
	int rc;
	for (int tries = 0;; tries++) {
		MDB_txn *txn;
		if ((rc = txn_begin(s, 0, &txn)))
			return rc;
		for (int i = 0; !rc && i < DB_COUNT; i++)
			rc = st_err(mdb_dbi_open(txn, tables[i].name,
						 tables[i].flags | MDB_CREATE,
						 &s->dbi[i]));
		int present = 0;
		/* Again: another process may have written it meanwhile. */
		if (!rc)
			rc = schema_check(s, txn, &present);
		if (!rc && !present) {
			uint8_t b[4] = {WH_STORE_SCHEMA, 0, 0, 0};
			MDB_val k = {6, "schema"}, d = {4, b};
			rc = st_err(mdb_put(txn, s->dbi[DB_META], &k, &d, 0));
		}
		if (rc)
			mdb_txn_abort(txn);
		else
			rc = st_err(mdb_txn_commit(txn));
		if (rc != ST_GROW)
			return rc;
		if (tries == MAX_GROW)
			return WH_EFULL;
		if ((rc = grow(s)))
			return rc;
	}
}

int wh_store_open(const char *dir, const struct wh_store_opts *opts,
		  struct wh_store **out)
{
	if (!dir || !out)
		return WH_EINVAL;
	*out = NULL;
	struct wh_store *s = wh_xcalloc(1, sizeof *s);
	uint64_t map = opts && opts->map_size ? opts->map_size : DEFAULT_MAP;
	/* MDB_NOTLS ties reader slots to transactions, not to the thread,
	 * so a walker's callback may call another read function. */
	unsigned flags = MDB_NOTLS | (opts && opts->nosync ? MDB_NOSYNC : 0);
	int rc = st_err(mdb_env_create(&s->env));
	if (rc) {
		free(s);
		return rc;
	}
	if (opts)
		s->fail_commit_at = opts->fail_commit_at;
	if ((size_t)map != map)
		rc = WH_EINVAL;
	if (!rc)
		rc = st_err(mdb_env_set_maxdbs(s->env, 24));
	if (!rc)
		rc = st_err(mdb_env_set_mapsize(s->env, (size_t)map));
	if (!rc) {
		/* Station data names people: keep it to the station user. */
		int mrc = mdb_env_open(s->env, dir, flags, 0600);
		rc = st_err(mrc);
		/* Cannot open or lock: an I/O error to the caller. */
		if (rc == WH_EBUSY) {
			errno = mrc;
			rc = WH_EIO;
		}
	}
	int dead;
	if (!rc)
		rc = st_err(mdb_reader_check(s->env, &dead));
	int ready = 0;
	if (!rc)
		rc = tables_open_ro(s, &ready);
	if (!rc && !ready)
		rc = tables_create(s);
	if (!rc && s->migrate)
		rc = wh_store_rebuild(s);
	if (rc) {
		int e = errno;
		mdb_env_close(s->env);
		free(s);
		errno = e;
		return rc;
	}
	*out = s;
	return WH_OK;
}

void wh_store_close(struct wh_store *s)
{
	if (!s)
		return;
	mdb_env_close(s->env);
	wh_buf_fini(&s->view);
	wh_buf_fini(&s->opbuf);
	wh_buf_fini(&s->aggold);
	wh_buf_fini(&s->aggrow);
	free(s->fk);
	st_trust_free(s);
	free(s);
}

/* ------------------------------------------------------------------ */
/* shared by the write and the read paths */

int st_log_op(struct wh_store *s, MDB_txn *txn, uint64_t lseq,
	      struct wh_op *op)
{
	uint8_t kb[8];
	st_be64(kb, lseq);
	MDB_val k = {8, kb}, d;
	int rc = mdb_get(txn, s->dbi[DB_LOG], &k, &d);
	if (rc)
		return rc == MDB_NOTFOUND ? WH_ECORRUPT : st_err(rc);
	return wh_op_decode(d.mv_data, d.mv_size, op) ? WH_ECORRUPT : WH_OK;
}

static int fold_key_cmp(const void *a, const void *b)
{
	const struct fold_key *x = a, *y = b;
	return wh_op_key_cmp(x->hlc, x->author, x->id, y->hlc, y->author,
			     y->id);
}

int st_case_fold_keys(struct wh_store *s, MDB_txn *txn, const uint8_t *ckey,
		      size_t cn, struct fold_key **fk, size_t *cap, size_t *n)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, s->dbi[DB_CASEOPS], &cur);
	if (rc)
		return st_err(rc);
	MDB_val k = {cn, (void *)ckey}, d;
	size_t cnt = 0, got = 0;
	rc = mdb_cursor_get(cur, &k, &d, MDB_SET);
	if (rc == MDB_NOTFOUND) {
		mdb_cursor_close(cur);
		return WH_ENOTFOUND;
	}
	if (!rc)
		rc = mdb_cursor_count(cur, &cnt);
	if (!rc && cnt > *cap) {
		*fk = wh_xrealloc(*fk, cnt * sizeof **fk);
		*cap = cnt;
	}
	for (int op = MDB_FIRST_DUP; !rc && got < cnt; op = MDB_NEXT_DUP) {
		if ((rc = mdb_cursor_get(cur, &k, &d, op)))
			break;
		if (d.mv_size != CASEOP_BYTES) {
			mdb_cursor_close(cur);
			return WH_ECORRUPT;
		}
		struct fold_key *f = &(*fk)[got++];
		struct wh_op o;
		f->lseq = st_get_be64(d.mv_data);
		int e = st_log_op(s, txn, f->lseq, &o);
		if (e) {
			mdb_cursor_close(cur);
			return e;
		}
		f->hlc = o.hlc;
		memcpy(f->author, o.author, WH_PK_BYTES);
		memcpy(f->id, o.id, WH_ID_BYTES);
	}
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND && got == cnt)
		rc = MDB_SUCCESS;
	if (rc)
		return st_err(rc);
	qsort(*fk, got, sizeof **fk, fold_key_cmp);
	*n = got;
	return WH_OK;
}

int wh_store_info(struct wh_store *s, struct wh_store_info *i)
{
	if (!s || !i)
		return WH_EINVAL;
	memset(i, 0, sizeof *i);
	MDB_txn *txn;
	int rc = st_read_begin(s, &txn);
	if (rc)
		return rc;
	uint64_t schema = 0;
	MDB_stat st;
	MDB_envinfo ei;
	rc = st_meta_get_u64(s, txn, "schema", &schema);
	if (!rc)
		rc = meta_get0(s, txn, "nops", &i->ops);
	if (!rc)
		rc = meta_get0(s, txn, "opbytes", &i->op_bytes);
	if (!rc)
		rc = meta_get0(s, txn, "hlc_max", &i->hlc_max);
	if (!rc)
		rc = st_err(mdb_stat(txn, s->dbi[DB_CASES], &st));
	if (!rc) {
		i->cases = st.ms_entries;
		rc = st_err(mdb_env_info(s->env, &ei));
	}
	if (!rc) {
		i->schema = (uint32_t)schema;
		i->map_size = ei.me_mapsize;
		rc = st_err(mdb_env_stat(s->env, &st));
	}
	if (!rc)
		i->file_size = ((uint64_t)ei.me_last_pgno + 1) * st.ms_psize;
	mdb_txn_abort(txn);
	return rc;
}
