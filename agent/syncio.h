/*
 * syncio.h: the store side of a sync session (struct wh_sync_io over
 * struct wh_store), shared by `whistle agent` and `whistle sync`, and
 * the peer status records both write and `whistle status` reads.
 *
 * The scope rule lives in ingest: an op received for a shared scope is
 * admitted if its own path lies within the scope, or it is a MOVE whose
 * new path does; then, in a second pass, any op of a case that (after
 * the first pass) lies within the scope at this store, which is how a
 * case transferred into this community arrives with its whole history.
 * Anything else is refused as WH_ESCOPE and never stored.
 */
#ifndef WH_SYNCIO_H
#define WH_SYNCIO_H

#include "store.h"
#include "sync.h"

struct syncio {
	struct wh_store *store;
	/* Called after every ingest with what came from 'peer' and what
	 * became of each op (results as for wh_store_ingest); NULL: none. */
	void (*on_ingest)(void *ctx, const uint8_t peer[WH_PK_BYTES],
			  const struct wh_slice *ops, size_t n,
			  const int *results);
	/* Called after a roster from 'peer' was installed (bytes and what
	 * it changed); NULL: none. */
	void (*on_roster)(void *ctx, const uint8_t peer[WH_PK_BYTES],
			  const uint8_t *p, size_t n,
			  const struct wh_roster_change *ch);
	void *ctx;
};

/* The io for sessions over sio->store (send is left NULL: the transport
 * fills it in). sio must outlive every session using it. */
struct wh_sync_io syncio_io(struct syncio *sio);

/* What the agent last knew about a peer: the "peer/<keyhex>" record. */
struct peer_rec {
	char name[65];
	char path[WH_PATH_MAX + 1];
	char role[16];
	char endpoint[256];
	char scope[WH_PATH_MAX + 1]; /* shared scope; "" if none yet */
	int connected, outbound;
	uint64_t at_ms;        /* when this record was written */
	uint64_t since_ms;     /* last up/down change */
	uint64_t last_sync_ms; /* last reconciliation that ended */
	int in_sync;
	uint64_t local_count, peer_count;
	uint64_t sent, received, refused, dropped, rounds;
	int have_receipt;
	uint8_t receipt_digest[WH_ID_BYTES];
	uint64_t receipt_ms;
	/* byte budget (wh_sync_budget): per hour, used this hour, ops
	 * left for a later hour; all 0 without one */
	uint64_t budget, budget_used, budget_held;
};

void peer_rec_encode(const struct peer_rec *r, struct wh_buf *out);
/* Unknown keys are skipped (newer agents may add some). WH_EDECODE if
 * the bytes are not a record. r is zeroed first. */
int peer_rec_decode(const uint8_t *p, size_t n, struct peer_rec *r);
/* Write "peer/<hex of pk>". */
int peer_rec_put(struct wh_store *s, const uint8_t pk[WH_PK_BYTES],
		 const struct peer_rec *r);

#endif
