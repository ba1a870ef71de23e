/*
 * carry.h: sneakernet bundles cut from the store (op file version 2,
 * crdt/opfile.h), and what this station knows a peer holds.
 *
 * What a peer holds ("carry/<keyhex>" state records): a list of at most
 * CARRY_KNOWN_MAX statements "the peer holds every op of SCOPE's set
 * that had arrived here by log position POS". Log positions only grow
 * and a peer only gains ops (a roster's purge aside, which drops them
 * everywhere, and `whistle prune --carried` on the peer, which drops
 * only cases that never lay within its own path), so each statement
 * stays true of the ops a peer keeps. One is learnt
 *   - by sync: a round that ends in sync, where the peer's signed
 *     receipt names the digest we hold (carry_learn, called by the
 *     agent and `whistle sync`);
 *   - by a bundle the peer wrote: the writer's digest of its scope is in
 *     the header; if after applying it ours is the same, the writer holds
 *     everything of that scope we hold (`whistle bundle apply`).
 * Reading the log position before the digest keeps it honest when ops
 * arrive in between: they make the digests differ and nothing is learnt.
 *
 * A bundle for a peer leaves out exactly the ops such a statement covers:
 * op o of case k is known held if for some statement (S, P) o arrived by
 * P and k had reached S by P (an op of k that arrived by P has its path,
 * or a move's new path, within S; documents by their own path).
 */
#ifndef WH_CARRY_H
#define WH_CARRY_H

#include "store.h"

#define CARRY_KNOWN_MAX 8

struct carry_known {
	char scope[WH_PATH_MAX + 1];
	uint64_t pos;   /* log position: ops up to here */
	uint64_t at_ms; /* when it was learnt (wall clock) */
	char how[8];    /* "sync" or "bundle" */
};

struct carry_peer {
	struct carry_known k[CARRY_KNOWN_MAX];
	size_t n;
};

/* The record's bytes and back: WH_OK or WH_EDECODE (p is a damaged
 * record; the fuzz target drives it). */
void carry_peer_encode(const struct carry_peer *r, struct wh_buf *out);
WH_MUST_CHECK int carry_peer_decode(const uint8_t *p, size_t n,
				    struct carry_peer *r);
/* What is known of pk (r zeroed first): WH_OK, WH_ENOTFOUND, or an
 * error. A record that does not decode reads as nothing known. */
WH_MUST_CHECK int carry_peer_get(struct wh_store *s,
				 const uint8_t pk[WH_PK_BYTES],
				 struct carry_peer *r);

/*
 * Learn from the peer's claim to hold (count, digest) of scope: if this
 * store's digest of scope is the same now, record (scope, the log
 * position read before the digest). Returns WH_OK when learnt,
 * WH_ESTATE when the digests differ (nothing learnt), or a store error.
 */
WH_MUST_CHECK int carry_learn(struct wh_store *s,
			      const uint8_t pk[WH_PK_BYTES], const char *scope,
			      uint64_t count, const uint8_t digest[WH_ID_BYTES],
			      const char *how);

/*
 * Where a case goes in a bundle: lower ranks first, case-id order within
 * a rank. This is the one place the rule lives. v is the case's view,
 * NULL for a document (problem list). A plan task's case and a case
 * whose place lies in an emergency in force at now_ms (s's emergencies)
 * rank with the urgent ones.
 */
int carry_rank(struct wh_store *s, const struct wh_case *v, uint64_t now_ms);

struct carry_opts {
	const char *scope;       /* the set to cut from (a valid path) */
	const struct carry_peer *known; /* may be NULL: nothing known */
	uint64_t since_ms;       /* only cases with an op stamped at or
				  * after this (0: all) */
	uint64_t max_bytes;      /* cap on the whole file (0: none) */
	const uint8_t *for_pk;   /* NULL, or whom it is for (header) */
	const char *writer_path; /* this station's path (header) */
	uint64_t now_ms;
	/* Called now and then while the bundle is cut; NULL: none. */
	void (*progress)(void *ctx, const char *what, uint64_t done,
			 uint64_t total);
	void *ctx;
};

struct carry_result {
	uint64_t ops, cases, urgent; /* in the bundle */
	uint64_t left_out;           /* cases the cap left out */
	uint64_t known;              /* ops left out: the peer holds them */
	uint64_t rosters, blobs;
	uint64_t blobs_missing;      /* named, in a case carried, not held */
	uint64_t blobs_left;         /* held, but past the cap */
	uint64_t need_min;           /* WH_ETOOBIG: the least cap possible */
	uint64_t bytes;
};

/*
 * Cut a bundle: every op of o->scope's set that o->known does not cover,
 * case by case, ranked by carry_rank; each case's ops go whole or not
 * at all (a cap never splits a case), in the order they arrived here,
 * which is an order this station could take them in; rosters first;
 * then the content their attach and keys ops name, while it fits.
 * Appends the whole file, signed with key, to out. Errors: WH_ETOOBIG
 * (max_bytes cannot hold even the header and the rosters; r->need_min
 * says what could), a store error.
 */
WH_MUST_CHECK int carry_build(struct wh_store *s, const struct wh_key *key,
			      const struct carry_opts *o, struct wh_buf *out,
			      struct carry_result *r);

/*
 * For each case (and document) of scope's set, in case-id order: whether
 * the peer is known to hold every op of it that is held here (the rule
 * above), as cb(ctx, code, seq, all_known). What `whistle prune
 * --carried` asks before it lets a carried case go. A non-zero cb stops
 * the walk and is returned; WH_EPATH for a bad scope ("" : everything).
 */
typedef int (*carry_case_cb)(void *ctx, const char *code, uint32_t seq,
			     int all_known);
WH_MUST_CHECK int carry_each_case(struct wh_store *s, const char *scope,
				  const struct carry_peer *known,
				  carry_case_cb cb, void *ctx);

#endif
