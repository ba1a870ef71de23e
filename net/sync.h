/*
 * sync.h: one sync session, the protocol logic of one link between two
 * agents, with no I/O of its own. The transport (net/transport.h) feeds
 * it the peer's messages and sends what it emits; the agent wires its
 * store through struct wh_sync_io (tests plug in their own). It is pure
 * enough to run two sessions back to back in one process.
 *
 * Protocol versions 1 to 4 (docs/protocol.md has the bytes):
 *   - On link up both sides send HELLO: protocol versions, role, path,
 *     a per-session salt, and the digest of their own scope. The link
 *     speaks the highest version both offer; version 2 only adds OPS
 *     batches compressed with zstd, sent when they come out smaller.
 *   - The shared scope is the narrower of the two paths when one holds
 *     the other; disjoint scopes share nothing (the link stays idle).
 *   - The side with the wider scope compares the narrower side's digest
 *     with its own digest of that scope: equal -> both send RECEIPTs
 *     (settled in one round trip); different -> it streams coded symbols
 *     of a rateless IBLT (net/riblt.h) over salted 8-byte keys of the op
 *     ids in scope; the other side decodes against its own set, asks for
 *     more symbols until it can, then sends the ops the wider side lacks
 *     and a WANT list of keys; the wider side answers with those ops.
 *     Bytes on the wire grow with the number of differences, not with
 *     the store. Then both send signed RECEIPTs of their new digest.
 *   - Ops travel in bounded OPS batches, each ingested (and committed)
 *     on arrival, so an interrupted sync resumes by reconciling again
 *     and nothing that landed is sent twice.
 *   - While the link is up, new ops in the shared scope are pushed at
 *     once (wh_sync_push); the agent relays what it ingests to its other
 *     links, so a station's op reaches the district through its hub.
 *   - Version 4: right after HELLO both sides list the rosters they
 *     hold (RSUM) and send each other the newer ones (ROSTER), before
 *     any op; a roster installed while the link is up is pushed.
 *   - Every DIGEST_INTERVAL (default 30 s, io may shorten it) the
 *     narrower side sends its digest again: anti-entropy that catches
 *     anything a push lost.
 *   - Urgent first (any version; the wire is unchanged): while io says
 *     an emergency is in force in the scope, urgent ops leave ahead of
 *     the rest and the digest interval is wh_sync_urgent_ms of it.
 *
 * Malformed, oversized, out-of-scope or unverifiable input from the peer
 * is dropped and counted (struct wh_sync_stats), never fatal; a peer that
 * keeps sending garbage gets WH_EDENIED from wh_sync_recv, and the
 * transport closes the link for a while.
 */
#ifndef WH_SYNC_H
#define WH_SYNC_H

#include "hlc.h"
#include "key.h"
#include "op.h"
#include "wh.h"

#define WH_SYNC_PROTO_MIN 1  /* oldest version this agent speaks */
#define WH_SYNC_PROTO_MAX 4  /* newest: 3 + rosters */
#define WH_SYNC_PROTO_ZSTD 2 /* first version with WH_OPS_ZSTD */
#define WH_SYNC_PROTO_BLOB 3 /* first version with BLOBWANT / BLOB */
#define WH_SYNC_PROTO_ROSTER 4 /* first version with RSUM / ROSTER */
#define WH_SYNC_MAX_MSG (4u << 20)     /* largest message either side sends */
#define WH_SYNC_BATCH_BYTES (256u << 10) /* ops per OPS message, by size */
#define WH_SYNC_DIGEST_INTERVAL_MS 30000u
/* In an emergency over the scope (io urgent_scope) the digest interval
 * is a quarter of the usual one, at least 1 s: wh_sync_urgent_ms. */
#define WH_SYNC_URGENT_DIV 4u
#define WH_SYNC_URGENT_MIN_MS 1000u

static inline uint32_t wh_sync_urgent_ms(uint32_t interval_ms)
{
	uint32_t q = interval_ms / WH_SYNC_URGENT_DIV;
	return q < WH_SYNC_URGENT_MIN_MS ? WH_SYNC_URGENT_MIN_MS : q;
}

enum wh_role {
	WH_ROLE_STATION = 0,  /* community station: its community */
	WH_ROLE_STREET = 1,   /* street hub: its street */
	WH_ROLE_DISTRICT = 2, /* district hub: its district */
	WH_ROLE_OTHER = 3     /* laptops, departments (later releases) */
};

/* What a session needs from the agent. Every function returns WH_OK or
 * a WH_E* code; a failing io call fails the current step only. */
struct wh_sync_io {
	void *ctx;
	/* Digest and count of the ops in scope's set. */
	int (*digest)(void *ctx, const char *scope, uint8_t out[WH_ID_BYTES],
		      uint64_t *count);
	/* Call cb for the id of every op in scope's set (the ops of the
	 * cases that have ever lain within it, store.h); a non-zero cb
	 * return stops the walk and is returned. */
	int (*each_id)(void *ctx, const char *scope,
		       int (*cb)(void *cbctx, const uint8_t id[WH_ID_BYTES]),
		       void *cbctx);
	/* 1 if case (code, seq) has ever lain within scope here (so its
	 * new ops belong to scope's set), else 0. NULL: only the op's own
	 * paths decide what is pushed. */
	int (*case_reached)(void *ctx, const char *code, uint32_t seq,
			    const char *scope);
	/* Append the exact bytes of op id to out; WH_ENOTFOUND if gone. */
	int (*get_op)(void *ctx, const uint8_t id[WH_ID_BYTES],
		      struct wh_buf *out);
	/* Verify and store ops received from 'peer' for 'scope' in one
	 * transaction. The agent refuses ops outside the scope here.
	 * results[i] as for wh_store_ingest; added/refused counts out. */
	int (*ingest)(void *ctx, const uint8_t peer[WH_PK_BYTES],
		      const char *scope, const struct wh_slice *ops, size_t n,
		      int *results, size_t *added, size_t *refused);
	/* Attachment content (version 3; all three NULL: none is moved).
	 * blobs_wanted: call cb for content that attach ops of cases in
	 * scope name but that is not here. blob_get: append bytes [off,
	 * off + max) of content held here AND named by an op in scope's set
	 * (else WH_ENOTFOUND) to out, its whole size to *size. blob_part: a
	 * piece from the peer: WH_OK, WH_EEXIST (held already), WH_ENOTFOUND
	 * (nobody here asked), WH_EFIELD (not the size the op names),
	 * WH_ECHECKSUM (the whole does not hash to its name), or a store
	 * failure. */
	int (*blobs_wanted)(void *ctx, const char *scope,
			    int (*cb)(void *cbctx,
				      const uint8_t hash[WH_ID_BYTES],
				      uint64_t size),
			    void *cbctx);
	int (*blob_get)(void *ctx, const uint8_t hash[WH_ID_BYTES],
			const char *scope, uint64_t off, size_t max,
			struct wh_buf *out, uint64_t *size);
	int (*blob_part)(void *ctx, const uint8_t hash[WH_ID_BYTES],
			 uint64_t size, uint64_t off, const uint8_t *p,
			 size_t n);
	/* Rosters (version 4; both NULL: none are exchanged). On HELLO each
	 * side lists what it holds (RSUM); each then sends the rosters the
	 * other lacks or holds older, ahead of any op of the round, so a
	 * revocation lands before the ops it refuses. roster_each: cb for
	 * every roster held (signer, serial, bytes borrowed for the call).
	 * roster_put: one from the peer, bytes not yet decoded: WH_OK
	 * (installed), WH_EEXIST or WH_EOLD (the peer lags: harmless), or
	 * a refusal (WH_ESIG, WH_EAUTHORITY, a decode error: counted as
	 * garbage), or a store failure. */
	int (*roster_each)(void *ctx,
			   int (*cb)(void *cbctx,
				     const uint8_t signer[WH_PK_BYTES],
				     uint64_t serial, const uint8_t *p,
				     size_t n),
			   void *cbctx);
	int (*roster_put)(void *ctx, const uint8_t peer[WH_PK_BYTES],
			  const uint8_t *p, size_t n);
	/* Urgent first (both NULL: ops leave in the order they are listed).
	 * urgent_scope: 1 while an emergency is in force in scope (asked
	 * once per list of ops to send, and per push), else 0. op_urgent:
	 * 1 if these op bytes go ahead of the rest, else 0. While
	 * urgent_scope says 1, every list of ops the session sends (a
	 * round's missing ops, a WANT's answer, a push) leaves as two runs,
	 * urgent ops then the others, each in the order listed. The order
	 * is the sender's choice: the wire does not change. */
	int (*urgent_scope)(void *ctx, const char *scope);
	int (*op_urgent)(void *ctx, const uint8_t *op, size_t n);
	/* Neighbour relay (NULL: never). 1 if a peer trusted for path
	 * 'trusted' may claim the wider path 'claimed' now, else 0; asked
	 * by the transport on HELLO and again while the claim stands. A
	 * claim of the trusted path's parent not admitted holds the link
	 * (wh_sync_hold); any other wider claim shuts the peer out. */
	int (*may_claim)(void *ctx, const char *trusted, const char *claimed);
	/* Queue one message for the peer; WH_EBUSY if the queue is full (the
	 * session retries on the next tick). */
	int (*send)(void *ctx, const uint8_t *msg, size_t n);
	/* Wall-clock ms (for receipts and the clock rule). */
	uint64_t (*now_ms)(void *ctx);
	/* Random bytes (salts). */
	void (*random)(void *ctx, uint8_t *out, size_t n);
};

struct wh_sync_self {
	const struct wh_key *key; /* signs receipts */
	enum wh_role role;
	const char *path; /* jurisdiction; copied */
	uint32_t digest_interval_ms; /* 0: WH_SYNC_DIGEST_INTERVAL_MS */
	/* Newest protocol version to offer, WH_SYNC_PROTO_MIN ..
	 * WH_SYNC_PROTO_MAX; 0: WH_SYNC_PROTO_MAX. 1 turns compression
	 * off (tests use it to play an agent that predates it). */
	uint32_t proto_max;
};

struct wh_sync_stats {
	uint64_t msgs_in, msgs_out, bytes_in, bytes_out;
	uint64_t ops_in, ops_out;   /* ops received and stored / sent */
	uint64_t dropped;           /* malformed or unexpected messages */
	uint64_t refused;           /* ops refused at ingest (forged, ...) */
	uint64_t rounds;            /* reconciliations completed */
	uint64_t blobs_in, blobs_out; /* attachment contents completed here
				       * / served to the peer in full */
	uint64_t rosters_in, rosters_out; /* rosters installed from / sent
					   * to the peer */
	uint64_t urgent_out;        /* of ops_out: sent ahead as urgent */
	uint64_t budget_held;       /* ops left for later: budget spent */
};

struct wh_sync_state {
	int hello_done;
	char scope[WH_PATH_MAX + 1]; /* shared scope; "" if none */
	char peer_path[WH_PATH_MAX + 1];
	enum wh_role peer_role;
	uint32_t proto;            /* version the link speaks (0: no HELLO) */
	int in_sync;               /* last reconciliation ended equal */
	uint64_t last_sync_ms;     /* when it did (0: never) */
	uint64_t peer_count;       /* ops the peer held in scope, last heard */
	uint64_t local_count;
	/* The peer's last signed receipt (verified): its digest of scope at
	 * peer_receipt_ms. */
	int have_receipt;
	uint8_t peer_digest[WH_ID_BYTES];
	uint64_t peer_receipt_ms;
	/* Byte budget (wh_sync_budget): bytes per hour, 0 none; bytes sent
	 * in the current hour, which started at budget_since_ms. */
	uint64_t budget, budget_used, budget_since_ms;
	struct wh_sync_stats stats;
};

struct wh_sync;

/* A session for the link to the peer with public key peer_pk. io and
 * self are copied. Allocates; release with wh_sync_free. */
WH_MUST_CHECK int wh_sync_new(const struct wh_sync_io *io,
			      const struct wh_sync_self *self,
			      const uint8_t peer_pk[WH_PK_BYTES],
			      struct wh_sync **out);
void wh_sync_free(struct wh_sync *s);

/* Change the path this side claims (copied); it takes effect with the
 * next wh_sync_start. WH_EPATH if it is not a valid path. */
WH_MUST_CHECK int wh_sync_set_path(struct wh_sync *s, const char *path);

/* The digest interval from now on (0: WH_SYNC_DIGEST_INTERVAL_MS): a
 * reloaded sync_interval. A round due later than the new interval from
 * now is moved up to it. */
void wh_sync_interval(struct wh_sync *s, uint32_t interval_ms);

/* A byte budget for metered links: at most bytes_per_h bytes of
 * messages sent per hour (0: none). Once the hour's bytes are spent,
 * only urgent ops go (op_urgent; in or out of an emergency) and the
 * protocol's own messages; other ops are left for anti-entropy once the
 * next hour starts (counted in budget_held). Needs op_urgent (without
 * it, nothing is urgent). */
void wh_sync_budget(struct wh_sync *s, uint64_t bytes_per_h);

/* Hold (on = 1) or release: while held the session sends no ops but
 * emergencies' and plans' (none of a round's other missing ops, of a
 * WANT's answer or of a push, no attachment content) and still
 * reconciles and takes what the peer sends. The
 * transport holds a link whose peer claims its street before an
 * emergency over it is held here: the peer can hand over the emergency,
 * and gets nothing of ours until the claim is admitted. */
void wh_sync_hold(struct wh_sync *s, int on);

/* The link came up (or came back): say HELLO and start over. */
WH_MUST_CHECK int wh_sync_start(struct wh_sync *s);

/*
 * One message from the peer. Returns WH_OK (handled or dropped and
 * counted), WH_EDENIED when the peer has sent garbage too often and the
 * link should be closed, or an io failure.
 */
WH_MUST_CHECK int wh_sync_recv(struct wh_sync *s, const uint8_t *msg,
			       size_t n);

/* Timers: periodic digests, retries of sends that met a full queue.
 * Returns the ms until it next wants to run. */
uint64_t wh_sync_tick(struct wh_sync *s);

/* New ops (raw bytes) that this agent just authored or ingested from
 * another link (already stored): those in the shared scope's set (their
 * path or a move's new path within it, or their case has lain within
 * it) are sent now. */
WH_MUST_CHECK int wh_sync_push(struct wh_sync *s, const struct wh_slice *ops,
			       size_t n);

/* A roster this agent just installed (from the CLI or another link):
 * sent now if the link speaks version 4. */
void wh_sync_push_roster(struct wh_sync *s, const uint8_t *p, size_t n);

/* "Sync now": if the session is idle and shares a scope with the peer,
 * start a reconciliation round at once (a client sends its digest; a
 * server says HELLO again, which makes the peer open round 0). A busy
 * session is left alone. WH_OK or an io failure. */
WH_MUST_CHECK int wh_sync_kick(struct wh_sync *s);

/* Whether the session has nothing in flight (for one-shot `whistle
 * sync`: done when idle and in_sync or the round failed). */
int wh_sync_idle(const struct wh_sync *s);

void wh_sync_get_state(const struct wh_sync *s, struct wh_sync_state *st);

/* Shared scope of two paths: the narrower one if one holds the other,
 * else "" (out must hold WH_PATH_MAX + 1 bytes). */
void wh_sync_shared_scope(const char *a, const char *b, char *out);

const char *wh_role_name(enum wh_role r);
int wh_role_parse(const char *s); /* -1 if unknown */

#endif
