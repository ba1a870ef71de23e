/*
 * store.h: a station's LMDB store. The only module that includes lmdb.h.
 *
 * What is kept (docs/architecture.md has the tables):
 *   - every admitted op, as the exact bytes received, in arrival order;
 *   - an index from op id to its place (dedupe; sync asks "have you X?");
 *   - per case: the list of its ops, its materialised view (struct wh_case
 *     encoded), its (count, sum of op ids) for digests and its reach;
 *   - per path prefix: (count, sum of op ids) of the cases that reach
 *     it, so the digest of any scope is one read, and the list of those
 *     cases, so its ops are walked without touching the others.
 *
 * What a scope holds: the ops of every case whose reach lies within it.
 * A case's reach is every path its ops name (each op's path and a move's
 * new path), so a case moved out of a scope (转办) stays in the old
 * scope's set: the move and what follows it reconcile with both sides,
 * and the new scope gets the whole history. docs/crdt.md, "Scopes".
 *   - meta: schema version, highest hlc seen, per-code case sequence.
 *
 * Everything but the op log is derived from it and can be rebuilt
 * (wh_store_rebuild), which is also how a schema upgrade will migrate.
 *
 * Every write is one LMDB write transaction: an op and all that derives
 * from it land together or not at all, and a call reports success only
 * after mdb_txn_commit returned 0. Durable by default. When the map fills,
 * the store grows it and retries the transaction; when another process
 * grew it, the store adopts the new size. The CLI and the agent may have
 * the same store open at once; open clears stale reader slots. Never keep
 * a store open across fork(): open it in the child.
 *
 * Borrowed data handed to callbacks points into the map and is valid only
 * during the callback (the read transaction ends when it returns). While
 * a callback runs, writes through the same handle (from the callback or
 * from a policy hook) are refused with WH_EBUSY: they would wait on our
 * own lock or remap the map under a live read.
 */
#ifndef WH_STORE_H
#define WH_STORE_H

#include "case.h"
#include "hlc.h"
#include "key.h"
#include "op.h"
#include "wh.h"

#define WH_STORE_SCHEMA 8

struct wh_store;

struct wh_store_opts {
	uint64_t map_size;       /* initial map size, bytes; 0: 64 MiB */
	int nosync;              /* skip fsync at commit: benchmarks only */
	uint64_t fail_commit_at; /* tests: the k-th commit (1-based) of this
				  * handle fails with WH_EFAULT, and nothing
				  * of it is stored; 0: never */
};

/*
 * Open (creating if empty) the store in directory 'dir', which must exist.
 * opts may be NULL. Errors: WH_ESCHEMA (written by a newer whistle; the
 * store is not touched), WH_EIO (cannot open or lock: errno is kept),
 * WH_ECORRUPT. Allocates; release with wh_store_close.
 */
WH_MUST_CHECK int wh_store_open(const char *dir,
				const struct wh_store_opts *opts,
				struct wh_store **out);

/* Close and free; accepts NULL. */
void wh_store_close(struct wh_store *s);

/* Who may author what: called for each op that decoded and verified,
 * inside the write transaction, before it is stored. Return WH_OK to
 * admit, or a refusal code (WH_EDENIED, WH_ESCOPE, ...) to refuse. */
struct wh_store_policy {
	int (*admit)(void *ctx, const struct wh_op *op);
	void *ctx;
};

struct wh_ingest_opts {
	uint64_t now_ms; /* wall clock for the future-timestamp rule;
			  * 0 (or o NULL): read the real clock */
	const struct wh_store_policy *policy; /* NULL: admit any signed op */
	int all_or_none; /* one refused op: store nothing, return its code */
};

struct wh_ingest_result {
	size_t added;   /* new ops stored */
	size_t known;   /* already held: skipped before any verify */
	size_t refused; /* failed decode, clock, signature or policy */
	size_t first_refused;    /* index of the first refused op */
	int first_refused_error; /* and why; WH_OK if none */
};

/*
 * Ingest n ops (raw bytes, as received) in one write transaction. Per op:
 * hash; already known -> skip; decode; clock rule (WH_ECLOCK if its hlc is
 * more than WH_HLC_MAX_DRIFT_MS past now_ms); signature; policy; then
 * store the bytes, index, fold the case and update digests.
 *
 * results, if not NULL, has n entries: WH_OK (added), WH_EEXIST (known) or
 * the refusal code. res may be NULL.
 *
 * Returns WH_OK once the transaction committed, refused ops or not. With
 * all_or_none, the first refused op makes it return that op's code with
 * nothing stored. Store failures (WH_EFULL, WH_EIO, WH_EFAULT) return
 * with nothing stored.
 */
WH_MUST_CHECK int wh_store_ingest(struct wh_store *s,
				  const struct wh_slice *ops, size_t n,
				  const struct wh_ingest_opts *o, int *results,
				  struct wh_ingest_result *res);

/*
 * Author n local ops in one write transaction: each draft gets the next
 * hlc of this store's clock (above every stamp stored and above the wall
 * clock read through 'clock'), a create draft with seq 0 gets the next
 * sequence number for its code (written back into the draft; in a store
 * bound to an authority, at least the seq_min of the key's grants for
 * that code), any other
 * draft with seq 0 gets the seq of the latest create draft before it in
 * this call (same code; WH_EID if there is none), so a new case and its
 * first tags land in one transaction; then it is
 * built, signed with 'key' and stored like an ingested op (policy not
 * applied: the caller decides before). ids, if not NULL, receives each
 * new op's id; ops_out, if not NULL, receives each op's bytes appended
 * (for the caller to push to peers).
 *
 * Errors: a build error (WH_EFIELD, WH_ETOOBIG, WH_EUTF8, WH_EPATH,
 * WH_EID, ...) of the first bad draft, or a store failure; either way
 * nothing is stored.
 */
WH_MUST_CHECK int wh_store_author(struct wh_store *s, const struct wh_key *key,
				  struct wh_op_draft *drafts, size_t n,
				  wh_clock_fn clock, void *clock_ctx,
				  uint8_t (*ids)[WH_ID_BYTES],
				  struct wh_buf *ops_out);

/*
 * wh_store_author, with fill(fill_ctx, d, i) called inside the
 * transaction for drafts[i] once its seq and hlc are set, just before it
 * is built: for values bound to the case id, which a new case learns
 * only there (sealed personal data, crdt/seal.h). fill may rewrite the
 * bytes a field of d already points to, keeping their length, and
 * nothing else; it runs again if the transaction is retried (a map
 * growth), so it must not count on running once. A non-zero return
 * aborts the call with that code, nothing stored.
 */
typedef int (*wh_draft_fill_fn)(void *ctx, const struct wh_op_draft *d,
				size_t i);
WH_MUST_CHECK int wh_store_author_fill(struct wh_store *s,
				       const struct wh_key *key,
				       struct wh_op_draft *drafts, size_t n,
				       wh_clock_fn clock, void *clock_ctx,
				       uint8_t (*ids)[WH_ID_BYTES],
				       struct wh_buf *ops_out,
				       wh_draft_fill_fn fill, void *fill_ctx);

/* The view of case (code, seq). c is initialised by the call; release it
 * with wh_case_fini. WH_ENOTFOUND if no op of it is held. */
WH_MUST_CHECK int wh_store_case_get(struct wh_store *s, const char *code,
				    uint32_t seq, struct wh_case *c);

struct wh_case_filter {
	const char *scope; /* NULL or "": all */
	int status;        /* enum wh_status, or -1 for any */
	uint32_t limit;    /* 0: no limit */
};

/* Called per case; c is valid during the call only. Non-zero stops the
 * walk and is returned by the walker. */
typedef int (*wh_case_cb)(void *ctx, const struct wh_case *c);

/* Cases matching f, in case-id order (code, then sequence). */
WH_MUST_CHECK int wh_store_case_list(struct wh_store *s,
				     const struct wh_case_filter *f,
				     wh_case_cb cb, void *ctx);

/* Called per op of a case in fold order, with what the fold made of it.
 * op borrows from the map: valid during the call only. */
typedef int (*wh_op_cb)(void *ctx, const struct wh_op *op,
			enum wh_apply how);

/* The case's full signed history (its audit trail), in fold order.
 * WH_ENOTFOUND if no op of it is held. */
WH_MUST_CHECK int wh_store_case_history(struct wh_store *s, const char *code,
					uint32_t seq, wh_op_cb cb, void *ctx);

/* Called per raw op; bytes borrowed, valid during the call only. */
typedef int (*wh_raw_cb)(void *ctx, const uint8_t *op, size_t n);

/* Every stored op of the cases whose reach lies within scope: for NULL
 * or "" every op in arrival order, else case by case (case-id order),
 * arrival order within a case. */
WH_MUST_CHECK int wh_store_each_op(struct wh_store *s, const char *scope,
				   wh_raw_cb cb, void *ctx);

/* The same set as ids only, case by case (case-id order, arrival order
 * within a case), for every scope including the root. Reads no op
 * bytes: what sync builds its key set from. */
typedef int (*wh_id_cb)(void *ctx, const uint8_t id[WH_ID_BYTES]);
WH_MUST_CHECK int wh_store_each_id(struct wh_store *s, const char *scope,
				   wh_id_cb cb, void *ctx);

/* The ops of the documents ('~' objects: problem lists, rosters) that
 * apply to scope: published within it or at a path above it (root: all
 * documents), grouped by path, arrival order within a path. Bytes
 * borrowed for the call. */
WH_MUST_CHECK int wh_store_each_doc_op(struct wh_store *s, const char *scope,
				       wh_raw_cb cb, void *ctx);

/* Whether case (code, seq) has ever lain within scope here, i.e. its ops
 * are in scope's set: WH_OK, or WH_ENOTFOUND (not so, or no op of it is
 * held). */
WH_MUST_CHECK int wh_store_case_reached(struct wh_store *s, const char *code,
					uint32_t seq, const char *scope);

/* A case by its id parts. */
struct wh_case_ref {
	char code[WH_CODE_MAX + 1];
	uint32_t seq;
};

struct wh_store_drop_result {
	size_t cases, ops, blobs; /* what left the store */
	size_t kept_reached;      /* named, but reached keep_scope */
	size_t kept_newer;        /* named, but an op came after keep_after */
};

/*
 * Take whole cases out of this store, for `whistle prune --carried` (a
 * neighbour's cases carried in an emergency, agent/cmd_prune.c): every
 * op of each named case leaves the log, every derived table is rebuilt
 * without them, and attachment content no remaining op names is
 * deleted, all in one transaction. Which cases may go is the caller's
 * rule; the store re-checks two things inside the transaction, so that
 * nothing that arrived since the caller looked is lost: a case whose
 * reach lies within keep_scope ("" : no such check) is kept, and so is
 * one with an op that arrived after log position keep_after (0: no such
 * check). A case not held is skipped. The ops of a case are signed and
 * any replica holding them may offer them again: a dropped case comes
 * back only if a link or bundle carries it in.
 * res (may be NULL) says what happened. WH_EINVAL for a bad argument or a
 * document's code (documents are never dropped); store errors as usual,
 * and then nothing changed. Costs a pass over the whole log.
 */
WH_MUST_CHECK int wh_store_cases_drop(struct wh_store *s,
				      const struct wh_case_ref *cases,
				      size_t n, const char *keep_scope,
				      uint64_t keep_after,
				      struct wh_store_drop_result *res);

/* Whether op id is held: WH_OK or WH_ENOTFOUND. */
WH_MUST_CHECK int wh_store_has_op(struct wh_store *s,
				  const uint8_t id[WH_ID_BYTES]);

/*
 * Digest of the set of ops of the cases whose reach lies within scope
 * (NULL or "": every op held): BLAKE2b-256 over "whistle-digest-v1",
 * the count (u64 little-endian) and the sum of the op ids taken as 256-bit
 * little-endian integers mod 2^256. Equal sets give equal digests on every
 * station; the count comes back too.
 */
WH_MUST_CHECK int wh_store_digest(struct wh_store *s, const char *scope,
				  uint8_t out[WH_ID_BYTES], uint64_t *count);

/* BLAKE2b-256 over every stored view in case-id order: equal exactly when
 * the materialised views are byte-identical. */
WH_MUST_CHECK int wh_store_views_hash(struct wh_store *s,
				      uint8_t out[WH_ID_BYTES]);

/* Throw away every derived table and refold all cases from the op log, in
 * one write transaction. wh_store_open does this by itself for a store
 * of an older schema (only derived tables change between schemas). */
WH_MUST_CHECK int wh_store_rebuild(struct wh_store *s);

/* Progress of a long store call: done of total ops of the log. Called
 * from inside the call's write transaction, so it must not use the
 * store (print, count, check the clock). A transaction that starts over
 * (the map grew) reports from 0 again. */
typedef void (*wh_store_progress_fn)(void *ctx, uint64_t done,
				     uint64_t total);
/* wh_store_rebuild, calling fn (if not NULL) with 0 at the start and
 * then every 1024 ops of the log. */
WH_MUST_CHECK int wh_store_rebuild_progress(struct wh_store *s,
					    wh_store_progress_fn fn,
					    void *ctx);

/* Append the exact bytes of op id to out: WH_OK or WH_ENOTFOUND. */
WH_MUST_CHECK int wh_store_get_op(struct wh_store *s,
				  const uint8_t id[WH_ID_BYTES],
				  struct wh_buf *out);

/* Called per op stored after a point of the arrival log; seq is the op's
 * place in it (increasing). Bytes borrowed for the call only. */
typedef int (*wh_log_cb)(void *ctx, uint64_t seq, const uint8_t *op,
			 size_t n);

/* Ops that arrived after log position 'after' (0: from the start), in
 * arrival order, at most 'max' of them (0: no limit). How the agent
 * notices ops another process (the CLI) wrote, to push them to peers. */
WH_MUST_CHECK int wh_store_log_since(struct wh_store *s, uint64_t after,
				     size_t max, wh_log_cb cb, void *ctx);

/* The log position of the newest op (0 if the store is empty). */
WH_MUST_CHECK int wh_store_log_last(struct wh_store *s, uint64_t *seq);

/* The ops of wh_store_each_op's set (NULL or "": every op), always
 * case by case in case-id order and arrival order within a case (a
 * scope's documents after its cases), each with its place in the
 * arrival log as wh_store_log_since numbers it: what a bundle is cut
 * from (agent/carry.c), which tells what a peer holds by log position.
 * Bytes borrowed for the call. */
WH_MUST_CHECK int wh_store_each_op_seq(struct wh_store *s, const char *scope,
				       wh_log_cb cb, void *ctx);

/* Small records the agent keeps beside the ops (peer sync status,
 * receipts), by name (1..200 bytes). Not ops: never synced, not part of
 * any digest, kept by wh_store_rebuild. put replaces; a value is at most
 * 64 KiB (WH_ETOOBIG). */
WH_MUST_CHECK int wh_store_state_put(struct wh_store *s, const char *name,
				     const uint8_t *val, size_t n);
/* Appends the value to out: WH_OK or WH_ENOTFOUND. */
WH_MUST_CHECK int wh_store_state_get(struct wh_store *s, const char *name,
				     struct wh_buf *out);
/* Every record whose name starts with prefix, in name order. */
typedef int (*wh_state_cb)(void *ctx, const char *name, const uint8_t *val,
			   size_t n);
WH_MUST_CHECK int wh_store_state_each(struct wh_store *s, const char *prefix,
				      wh_state_cb cb, void *ctx);

/*
 * Content addressed by its BLAKE2b-256 hash, which a signed op names:
 * attachments (拍照上报, attach ops) and key envelopes (keys ops,
 * crdt/seal.h); kept beside the ops, synced after them. Content that an
 * erase op destroyed (store_blob.c) is refused from then on by all of
 * these: it cannot come back from a peer or a file.
 */

/* Store content (1..WH_BLOB_MAX_BYTES bytes, else WH_ETOOBIG) under its
 * hash, written to hash if not NULL: WH_OK, WH_EEXIST if held, or
 * WH_EDENIED if an erase destroyed it. */
WH_MUST_CHECK int wh_store_blob_put(struct wh_store *s, const uint8_t *p,
				    size_t n, uint8_t hash[WH_ID_BYTES]);

/* Store n pieces of content in one write transaction, as
 * wh_store_blob_put each (one held already is no error): WH_OK, or the
 * first error, nothing stored. For bulk writers (case import's key
 * envelopes) that would otherwise pay a commit per piece. */
WH_MUST_CHECK int wh_store_blob_put_many(struct wh_store *s,
					 const struct wh_slice *b, size_t n);

/* Append content bytes [off, off + max) (max 0: to the end) to out and
 * the whole size to *size (may be NULL): WH_OK or WH_ENOTFOUND (not
 * held, or destroyed). */
WH_MUST_CHECK int wh_store_blob_get(struct wh_store *s,
				    const uint8_t hash[WH_ID_BYTES],
				    uint64_t off, size_t max,
				    struct wh_buf *out, uint64_t *size);

/*
 * One piece [off, off + n) of content of 'size' bytes arriving from a
 * peer. Taken only if an attach or keys op here names hash with that
 * size, no erase destroyed it, and the content is not held:
 * WH_ENOTFOUND (nobody asked, or destroyed), WH_EFIELD (size differs
 * from the op's), WH_EEXIST (held). Pieces survive restarts;
 * when they cover the whole, the content is checked against its hash
 * (WH_ECHECKSUM: the pieces are dropped) and stored, and *complete
 * (may be NULL) is set.
 */
WH_MUST_CHECK int wh_store_blob_part(struct wh_store *s,
				     const uint8_t hash[WH_ID_BYTES],
				     uint64_t size, uint64_t off,
				     const uint8_t *p, size_t n,
				     int *complete);

/* Whether an attach or keys op of a case in scope's set names hash (the
 * first op to name it decides the case), and no erase destroyed it:
 * WH_OK or WH_ENOTFOUND. What a peer may be sent. */
WH_MUST_CHECK int wh_store_blob_in_scope(struct wh_store *s,
					 const uint8_t hash[WH_ID_BYTES],
					 const char *scope);

/* Content named by attach or keys ops of cases in scope's set, not held
 * and not destroyed. */
typedef int (*wh_blob_cb)(void *ctx, const uint8_t hash[WH_ID_BYTES],
			  uint64_t size);
WH_MUST_CHECK int wh_store_blobs_wanted(struct wh_store *s, const char *scope,
					wh_blob_cb cb, void *ctx);

/*
 * Trust (crdt/roster.h). A store bound to an authority key holds the
 * newest roster of the authority and of each of its delegates, and from
 * then on every op it ingests or authors must pass wh_roster_authorize
 * against them: the rule is enforced here, below every way ops arrive
 * (sync, files, import, the CLI), so no path around it exists. A store
 * with no authority (lab use, docs/security.md) checks signatures only.
 */

/* Bind the store to an authority key, once: WH_OK, or WH_EEXIST if it is
 * bound to another key already (the same key again is WH_OK). */
WH_MUST_CHECK int wh_store_authority_set(struct wh_store *s,
					 const uint8_t pk[WH_PK_BYTES]);
/* The authority key: WH_OK, or WH_ENOTFOUND if the store has none. */
WH_MUST_CHECK int wh_store_authority_get(struct wh_store *s,
					 uint8_t pk[WH_PK_BYTES]);

/* What installing a roster did. */
struct wh_roster_change {
	uint64_t serial;
	uint8_t signer[WH_PK_BYTES];
	size_t purged;   /* ops dropped because the roster now refuses
			  * them (a revocation, an ended grant) */
	size_t narrowed; /* keys whose grants lost anything */
};

/*
 * Install a roster (its exact bytes) in one write transaction: decode
 * and check it against what is held (wh_roster_set_check), replace the
 * signer's older roster, and if the new one narrows any grant, check
 * every held op of the keys it narrowed again and drop those it now
 * refuses, with what followed from them (a department's steps on a case
 * whose only whistle was dropped), refolding their cases. Errors: the
 * decode and check codes (WH_EEXIST, WH_EOLD, WH_EAUTHORITY, WH_ESCOPE,
 * WH_ESIG, ...), WH_ENOTFOUND if the store has no authority, or a store
 * failure; nothing is changed unless it returns WH_OK. why (may be NULL)
 * gets a static phrase for refusals. ch may be NULL.
 */
WH_MUST_CHECK int wh_store_roster_put(struct wh_store *s, const uint8_t *p,
				      size_t n, struct wh_roster_change *ch,
				      const char **why);

/* Every roster held (the authority's first), bytes borrowed for the
 * call. What sync offers a peer and a bundle carries. */
WH_MUST_CHECK int wh_store_roster_each(struct wh_store *s, wh_raw_cb cb,
				       void *ctx);

/* A counter that moves whenever the authority or a roster is installed
 * (by any process): how a running agent notices `roster apply`. */
WH_MUST_CHECK int wh_store_roster_gen(struct wh_store *s, uint64_t *gen);

/* A decoded copy of what the store holds, rs zero-initialised by the
 * call: WH_OK, or WH_ENOTFOUND if the store has no authority. Release
 * with wh_roster_set_fini. */
struct wh_roster_set;
WH_MUST_CHECK int wh_store_roster_set(struct wh_store *s,
				      struct wh_roster_set *rs);

/* The departments any held whistle of case (code, seq) summoned, each
 * passed to cb (NUL-terminated, borrowed for the call). */
WH_MUST_CHECK int wh_store_case_summoned(struct wh_store *s,
					 const char *code, uint32_t seq,
					 int (*cb)(void *ctx, const char *dept),
					 void *ctx);

/*
 * Emergencies (crdt/emergency.h). The store keeps every emergency it
 * holds folded from its ops, in a derived table rebuilt like the others,
 * so the questions below cost a walk over a handful of small records and
 * no op is read. What later work asks here: urgent-first sync and the
 * byte budget (is an emergency in force in a link's scope?), neighbour
 * relay and LAN discovery (in force over this station's path?), the web
 * console's banner (what is in force, where, since when).
 */
struct wh_emergency;

/* Called per emergency; e is valid during the call only (copy the
 * struct to keep it: it is plain data). Non-zero stops the walk and is
 * returned. */
typedef int (*wh_em_cb)(void *ctx, const struct wh_emergency *e);

/* Every emergency held, declared or not, ended or not, in object order
 * (code, then number). WH_ECORRUPT if a record does not decode. */
WH_MUST_CHECK int wh_store_emergency_each(struct wh_store *s, wh_em_cb cb,
					  void *ctx);

/* One emergency by object (code "~EM-...", seq): WH_OK, WH_ENOTFOUND
 * (no op of it held), WH_EINVAL (not an emergency's id). */
WH_MUST_CHECK int wh_store_emergency_get(struct wh_store *s, const char *code,
					 uint32_t seq,
					 struct wh_emergency *out);

/* Which emergencies wh_store_emergency_active reports, by where their
 * area lies against the path asked about (either or both bits). */
#define WH_EM_COVERS 1u /* the area holds the path: the path is under it
			 * (a station asking about itself) */
#define WH_EM_WITHIN 2u /* the area lies within the path (a hub asking
			 * about its scope; "" asks about everywhere) */

/*
 * The emergencies in force at now_ms (wh_em_active: declared, started,
 * not ended) whose area relates to path as 'how' says; path "" or NULL
 * is the root (WH_EM_WITHIN then means anywhere). cb (may be NULL) gets
 * each; *count (may be NULL) how many. WH_EPATH for a bad path.
 *
 *     size_t n;
 *     if (wh_store_emergency_active(s, conf_path, now, WH_EM_COVERS,
 *                                   NULL, NULL, &n) == WH_OK && n)
 *             ... this station is in an emergency ...
 */
WH_MUST_CHECK int wh_store_emergency_active(struct wh_store *s,
					    const char *path, uint64_t now_ms,
					    unsigned how, wh_em_cb cb,
					    void *ctx, size_t *count);

/* A counter that moves whenever an emergency's or a plan's op is stored
 * (by any process): how a running agent notices a declaration that
 * arrived by sync, file or CLI without reading anything else. */
WH_MUST_CHECK int wh_store_emergency_gen(struct wh_store *s, uint64_t *gen);

/* The task cases of emergency (code, seq) held here, from every station
 * (the views of cases whose create carries the link), in station-code
 * order. */
WH_MUST_CHECK int wh_store_emergency_tasks(struct wh_store *s,
					   const char *code, uint32_t seq,
					   wh_case_cb cb, void *ctx);

/*
 * wh_store_author for plan task cases: drafts are case creates carrying
 * a task link (WH_F_EMERGENCY, WH_F_EMERGENCY_SEQ, WH_F_TASK), seq 0.
 * Inside the one write transaction, a draft whose (code, emergency,
 * task) already has a case here (held from any source: this station
 * before a restart, another process, a file) is left out, and so is a
 * repeat within the call: created[i] says which were authored. So a
 * station makes each task of an emergency once, however often it is
 * asked. Errors as wh_store_author (WH_EINVAL for a draft that is no
 * linked create); nothing stored on error.
 */
WH_MUST_CHECK int wh_store_task_author(struct wh_store *s,
				       const struct wh_key *key,
				       struct wh_op_draft *drafts, size_t n,
				       wh_clock_fn clock, void *clock_ctx,
				       uint8_t (*ids)[WH_ID_BYTES],
				       struct wh_buf *ops_out,
				       uint8_t *created);

/*
 * Urgent first (store_urgent.c). While an emergency is in force in a
 * link's scope, a sender puts some ops ahead of the rest: this is the
 * one place the rule lives, read from what this store holds.
 *
 * wh_store_op_urgent: *urgent = 1 for an emergency's or a plan's op, and
 * for an op of a case that is a plan task's (it links an emergency) or
 * urgent (the op sets priority urgent, or the case's view here is);
 * else 0. A decode error of the bytes is returned (then *urgent = 0).
 *
 * wh_store_urgent_scope: *on = 1 if an emergency in force at now_ms
 * covers scope or lies within it (WH_EM_COVERS | WH_EM_WITHIN), else 0.
 * Cheap when no emergency was ever stored (one counter read).
 */
WH_MUST_CHECK int wh_store_op_urgent(struct wh_store *s, const uint8_t *p,
				     size_t n, int *urgent);
WH_MUST_CHECK int wh_store_urgent_scope(struct wh_store *s,
					const char *scope, uint64_t now_ms,
					int *on);

/*
 * Neighbour relay: whether a peer known (trust list, roster) to sit at
 * 'trusted' may claim 'claimed' at now_ms. *ok = 1 only if claimed is
 * trusted's parent (a community's street) and an emergency in force at
 * now_ms, held in this store, covers claimed; else 0. Every replica
 * holding the same signed emergency ops decides the same.
 */
WH_MUST_CHECK int wh_store_relay_claim(struct wh_store *s,
				       const char *trusted,
				       const char *claimed, uint64_t now_ms,
				       int *ok);

struct wh_store_info {
	uint32_t schema;
	uint64_t ops, cases;
	uint64_t op_bytes;  /* sum of raw op sizes */
	uint64_t map_size;  /* current map size */
	uint64_t file_size; /* bytes of data.mdb on disk in use (pages) */
	wh_hlc_ts hlc_max;  /* highest stamp stored */
};

WH_MUST_CHECK int wh_store_info(struct wh_store *s, struct wh_store_info *i);

#endif
