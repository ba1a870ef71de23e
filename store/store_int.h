/*
 * store_int.h: what the store's files share and nothing outside store/
 * sees: the handle, the table layout, the write-transaction runner and
 * the small encoders.
 *
 * Tables (named LMDB databases; all integers big-endian where they are
 * keys, so that byte order is numeric order):
 *
 *   log      u64 arrival seq -> exact op bytes (append-only, MDB_APPEND)
 *   ids      op id (32)      -> u64 arrival seq
 *   caseops  case key        -> u64 arrival seq || op id (32), one dup
 *                               per op (DUPSORT|DUPFIXED): arrival order
 *   cases    case key        -> view (wh_case_encode)
 *   caseagg  case key        -> u64le count, 32-byte sum, the case's
 *                               reach: every path it ever had
 *   agg      '/' + prefix    -> u64le count, 32-byte sum of the ops of
 *                               the cases whose reach lies within prefix
 *   reach    '/' + prefix    -> case keys whose reach lies within it
 *                               (DUPSORT; no row for the root)
 *   docpre   '/' + prefix    -> count, sum of the documents' ops whose
 *                               path lies within prefix
 *   docat    '/' + path      -> count, sum of those at exactly path
 *   docops   '/' + path      -> arrival seq || op id of those ops
 *                               (DUPSORT|DUPFIXED)
 *   blobs, blobref, blobwant, blobparts: attachment and key-envelope
 *            content, what is still missing, what an erase destroyed
 *            (store_blob.c)
 *   state    agent-owned records by name (peer sync status): opaque
 *   roster   signer key (32) -> its newest roster's bytes; "authority"
 *            -> the authority key (store_trust.c). Primary, like log.
 *   summoned case key -> department names any whistle of it summoned
 *            (DUPSORT): what authorising a department's step reads
 *   emerg    emergency object key ("~EM-..." NUL seq) -> the emergency
 *            folded from its ops (wh_em_encode; store_emergency.c)
 *   emtask   case code NUL emergency code NUL u32 seq || task key ->
 *            case key of the task case its create made: a station makes
 *            each plan task once per emergency
 *   meta     "schema" u32, "hlc_max", "nops", "opbytes" and
 *            "seq/<code>" (highest case seq seen for the code) u64;
 *            meta integers are little-endian
 *
 * case key = code bytes, NUL, u32 seq: key order is case-id order.
 * agg keys carry a leading '/' because LMDB refuses empty keys: the root
 * is "/", "xicheng/xinjiekou" is "/xicheng/xinjiekou".
 * store_agg.c says what a reach is and why it never shrinks.
 *
 * Only log (and the ids index beside it) and blobs are primary. Everything else is a
 * function of the log and wh_store_rebuild recomputes it.
 */
#ifndef WH_STORE_INT_H
#define WH_STORE_INT_H

#include "store.h"

#include <lmdb.h>

/* Internal only, never returned: "the map is full, grow and retry". */
#define ST_GROW 1

enum { DB_LOG, DB_IDS, DB_CASEOPS, DB_CASES, DB_CASEAGG, DB_AGG, DB_REACH,
       DB_DOCPRE, DB_DOCAT, DB_DOCOPS, DB_BLOBS, DB_BLOBREF, DB_BLOBWANT,
       DB_BLOBPARTS, DB_META, DB_STATE, DB_ROSTER, DB_SUMMONED, DB_EMERG,
       DB_EMTASK, DB_COUNT };

#define CASE_KEY_MAX (WH_CODE_MAX + 1 + 4)
#define AGG_KEY_MAX (1 + WH_PATH_MAX)
#define AGG_VAL_BYTES (8 + WH_ID_BYTES)
#define CASEOP_BYTES (8 + WH_ID_BYTES)
#define REACH_MAX 64 /* paths a case's reach keeps (store_agg.c) */

/* A parsed caseagg row; paths point into the bytes parsed. */
struct st_reach {
	uint64_t count;
	uint8_t sum[WH_ID_BYTES];
	size_t n;
	const char *path[REACH_MAX];
	size_t len[REACH_MAX];
};

/* One row of a case's fold order, and where its bytes are. */
struct fold_key {
	wh_hlc_ts hlc;
	uint8_t author[WH_PK_BYTES];
	uint8_t id[WH_ID_BYTES];
	uint64_t lseq;
};

struct wh_store {
	MDB_env *env;
	MDB_dbi dbi[DB_COUNT];
	uint64_t commits, fail_commit_at;
	/* A write while one runs would wait on our own lock; a write or a
	 * map resize while a walker's callback is out would remap the map
	 * under its live read transaction (mdb_env_set_mapsize needs no
	 * transaction open in the process). Both are refused: WH_EBUSY. */
	int writing, walkers;
	int migrate; /* open found an older schema: rebuild */
	/* Write-path scratch, reused across calls so ingest stays flat. */
	struct wh_buf view, opbuf, aggold, aggrow;
	struct fold_key *fk;
	size_t fk_cap;
	/* The rosters, decoded, as of meta "roster_gen" == trust_gen
	 * (store_trust.c reloads when another process changed them). */
	struct wh_roster_set *trust;
	uint64_t trust_gen;
	int trust_loaded;
};

/* The state of one write transaction; meta counters are written once, at
 * the end, rather than per op. */
struct wtx {
	MDB_txn *txn;
	uint64_t next_lseq; /* the log key the next op gets */
	wh_hlc_ts hlc_max;
	uint64_t nops, opbytes;
};

/* MDB_* / errno -> WH_*; MDB_MAP_FULL -> ST_GROW. */
int st_err(int mdb_rc);

/* A read-only transaction; adopts a map grown by another process. */
WH_MUST_CHECK int st_read_begin(struct wh_store *s, MDB_txn **txn);

/*
 * Run fn in a write transaction and commit it. fn returns WH_OK to
 * commit, anything else to abort; ST_GROW from fn or commit grows the map
 * and runs fn again from the start, so fn must derive everything from the
 * transaction and its ctx inputs. Counts the commit for fault injection.
 */
typedef int (*st_write_fn)(struct wh_store *s, struct wtx *w, void *ctx);
WH_MUST_CHECK int st_write(struct wh_store *s, st_write_fn fn, void *ctx);

/* Write the wtx counters back to meta. */
WH_MUST_CHECK int st_meta_flush(struct wh_store *s, struct wtx *w);
WH_MUST_CHECK int st_meta_get_u64(struct wh_store *s, MDB_txn *txn,
				  const char *key, uint64_t *v);
WH_MUST_CHECK int st_meta_put_u64(struct wh_store *s, MDB_txn *txn,
				  const char *key, uint64_t v);

/* Case key of (code, seq) into k (CASE_KEY_MAX bytes); its length, or 0
 * if code is not a valid code. */
size_t st_case_key(uint8_t *k, const char *code, uint32_t seq);
/* And back; WH_ECORRUPT if k is not one. */
WH_MUST_CHECK int st_case_key_parse(const uint8_t *k, size_t n,
				    char code[WH_CODE_MAX + 1],
				    uint32_t *seq);

void st_be64(uint8_t *p, uint64_t v);
uint64_t st_get_be64(const uint8_t *p);
void st_le64(uint8_t *p, uint64_t v);
uint64_t st_get_le64(const uint8_t *p);

/* Digest of an aggregate value (NULL: the empty set). */
void st_digest(const uint8_t *agg_val, uint8_t out[WH_ID_BYTES],
	       uint64_t *count);

/* Load the (hlc, author, id, lseq) of every op of a case into *fk
 * (growing *fk / *cap), sorted in fold order. WH_ENOTFOUND if none. */
WH_MUST_CHECK int st_case_fold_keys(struct wh_store *s, MDB_txn *txn,
				    const uint8_t *ckey, size_t cn,
				    struct fold_key **fk, size_t *cap,
				    size_t *n);
/* Fetch and decode the op at log seq lseq; WH_ECORRUPT if it is missing
 * or does not decode. op borrows from the map. */
WH_MUST_CHECK int st_log_op(struct wh_store *s, MDB_txn *txn, uint64_t lseq,
			    struct wh_op *op);

/* store_agg.c: parse a caseagg row; whether a reach lies within scope
 * (1 or 0); count op into its case's aggregates and reach. */
WH_MUST_CHECK int st_reach_parse(const uint8_t *v, size_t n,
				 struct st_reach *r);
int st_reach_within(const struct st_reach *r, const char *scope, size_t sn);
WH_MUST_CHECK int st_reach_add(struct wh_store *s, MDB_txn *txn,
			       const uint8_t *ck, size_t cn,
			       const struct wh_op *op);
/* acc += x, as 256-bit little-endian integers mod 2^256. */
void st_sum_add(uint8_t *acc, const uint8_t *x);
/* An op was stored for case ck: note the content an attach or keys op
 * names, or destroy what the case's keys ops name when it is an erase
 * (store_blob.c). Other kinds: nothing. */
WH_MUST_CHECK int st_blob_note(struct wh_store *s, MDB_txn *txn,
			       const struct wh_op *op, const uint8_t *ck,
			       size_t cn);
/* Count a document's op (store_agg.c says how); row is its caseops row. */
WH_MUST_CHECK int st_doc_add(struct wh_store *s, MDB_txn *txn,
			     const struct wh_op *op, const uint8_t *row);

/* store_trust.c. Whether op may be stored (crdt/roster.h), with the
 * rosters as of this transaction: WH_OK (also when the store has no
 * authority) or the refusal. */
WH_MUST_CHECK int st_authz(struct wh_store *s, MDB_txn *txn,
			   const struct wh_op *op);
/* A whistle was stored for case ck: note the departments it summons. */
WH_MUST_CHECK int st_summoned_note(struct wh_store *s, MDB_txn *txn,
				   const struct wh_op *op, const uint8_t *ck,
				   size_t cn);
void st_trust_free(struct wh_store *s);
/* The lowest case seq the roster lets author pk create under code: the
 * highest seq_min of its grants for that code (a replacement key starts
 * above the stolen one's numbers); 0 when no grant says (or no
 * authority). */
WH_MUST_CHECK int st_seq_floor(struct wh_store *s, MDB_txn *txn,
			       const uint8_t pk[WH_PK_BYTES],
			       const char *code, uint32_t *floor);
/* store_emergency.c. A document op was stored: refold its emergency
 * into the emerg table, and move meta "em_gen" for an emergency's or a
 * plan's op. Other documents: nothing. */
WH_MUST_CHECK int st_em_note(struct wh_store *s, MDB_txn *txn,
			     const struct wh_op *op, const uint8_t *ck,
			     size_t cn);
/* A case op was stored: a create carrying a task link is indexed in
 * emtask (the first such create of a link wins). */
WH_MUST_CHECK int st_task_note(struct wh_store *s, MDB_txn *txn,
			       const struct wh_op *op, const uint8_t *ck,
			       size_t cn);

/* wh_store_author_fill with one more hook: skip(ctx, d) is asked inside
 * the transaction before draft d is numbered and built; 1 leaves it out
 * (skipped[i] = 1, ids[i] zeroed), 0 authors it, < 0 aborts the call
 * with that code. */
typedef int (*st_skip_fn)(struct wh_store *s, MDB_txn *txn,
			  const struct wh_op_draft *d, void *ctx);
WH_MUST_CHECK int st_author(struct wh_store *s, const struct wh_key *key,
			    struct wh_op_draft *drafts, size_t n,
			    wh_clock_fn clock, void *clock_ctx,
			    uint8_t (*ids)[WH_ID_BYTES],
			    struct wh_buf *ops_out, wh_draft_fill_fn fill,
			    void *fill_ctx, st_skip_fn skip, void *skip_ctx,
			    uint8_t *skipped);

/* store_prune.c: one pass over the log deleting each op that
 * pick(s, txn, op, ctx) returns 1 for (< 0 aborts with that code), the
 * count added to *dropped. w's counters stay true; the derived tables
 * are the caller's to rebuild (st_rebuild). */
typedef int (*st_pick_fn)(struct wh_store *s, MDB_txn *txn,
			  const struct wh_op *op, void *ctx);
WH_MUST_CHECK int st_log_sweep(struct wh_store *s, struct wtx *w,
			       st_pick_fn pick, void *ctx, size_t *dropped);
/* store_blob.c: delete the content and pieces no op names any more
 * (after a rebuild without some cases); *dropped counts the contents. */
WH_MUST_CHECK int st_blob_orphans_drop(struct wh_store *s, MDB_txn *txn,
				       size_t *dropped);

/* store_ingest.c: drop every derived table and add every logged op
 * again, inside w's transaction. */
WH_MUST_CHECK int st_rebuild(struct wh_store *s, struct wtx *w);

/* Decode, clock-check and verify ops[i] for every i with todo[i] == 1,
 * writing the result to rc[i]; on two cores, half of them on a helper
 * thread (store_verify.c says why). */
void st_verify_batch(const struct wh_slice *ops, const uint8_t *todo,
		     size_t n, uint64_t now_ms, int *rc);

#endif
