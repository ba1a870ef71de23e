/*
 * sync_roster.c: rosters on a link (protocol version 4).
 *
 * Rosters are few (the authority's and one per delegate) and small, and
 * each replaces its signer's older one, so they are not reconciled like
 * ops: after HELLO each side lists (signer, serial) of what it holds and
 * sends whatever the other lacks or holds older. Both lists go out
 * before the first round's symbols, so on either side a newer roster is
 * queued before any op the round will send: a revocation is in force
 * before the ops it refuses arrive.
 */
#include "sync_int.h"

#include <stdlib.h>
#include <string.h>

struct rsum {
	uint8_t e[WH_MSG_MAX_RSUM][WH_MSG_RSUM_ENTRY];
	size_t n;
};

static int rsum_cb(void *ctx, const uint8_t signer[WH_PK_BYTES],
		   uint64_t serial, const uint8_t *p, size_t n)
{
	(void)p;
	(void)n;
	struct rsum *r = ctx;
	if (r->n < WH_MSG_MAX_RSUM)
		wh_msg_rsum_put(r->e[r->n++], signer, serial);
	return 0;
}

int sync_send_rsum(struct wh_sync *s)
{
	if (s->proto < WH_SYNC_PROTO_ROSTER || !s->io.roster_each)
		return WH_OK;
	struct rsum *r = wh_xcalloc(1, sizeof *r);
	int rc = s->io.roster_each(s->io.ctx, rsum_cb, r);
	if (rc == WH_OK) {
		struct wh_buf b = {0};
		wh_msg_rsum(&b, &r->e[0][0], r->n);
		sync_enqueue(s, &b);
	}
	free(r);
	return rc;
}

struct offer {
	struct wh_sync *s;
	const struct wh_msg *m;
};

/* Send a roster we hold if the peer's list lacks its signer or holds an
 * older serial of it. */
static int offer_cb(void *ctx, const uint8_t signer[WH_PK_BYTES],
		    uint64_t serial, const uint8_t *p, size_t n)
{
	struct offer *o = ctx;
	for (uint32_t i = 0; i < o->m->n; i++) {
		uint8_t k[WH_PK_BYTES];
		uint64_t ser;
		wh_msg_rsum_entry(o->m, i, k, &ser);
		if (!memcmp(k, signer, WH_PK_BYTES) && ser >= serial)
			return 0;
	}
	struct wh_buf b = {0};
	wh_msg_roster(&b, p, n);
	sync_enqueue(o->s, &b);
	o->s->stats.rosters_out++;
	return 0;
}

int sync_on_rsum(struct wh_sync *s, const struct wh_msg *m)
{
	if (!s->hello_done || s->proto < WH_SYNC_PROTO_ROSTER)
		return sync_drop(s);
	if (!s->io.roster_each)
		return WH_OK;
	struct offer o = {s, m};
	int rc = s->io.roster_each(s->io.ctx, offer_cb, &o);
	return rc ? rc : sync_flush(s);
}

int sync_on_roster(struct wh_sync *s, const struct wh_msg *m)
{
	if (!s->hello_done || s->proto < WH_SYNC_PROTO_ROSTER)
		return sync_drop(s);
	if (!s->io.roster_put)
		return WH_OK;
	int rc = s->io.roster_put(s->io.ctx, s->peer_pk, m->data.p, m->data.n);
	switch (rc) {
	case WH_OK:
		s->stats.rosters_in++;
		return WH_OK;
	case WH_EEXIST:
	case WH_EOLD:
	case WH_ENOTFOUND: /* we are not bound to an authority (lab) */
		return WH_OK;
	case WH_EIO:
	case WH_EFULL:
	case WH_EBUSY:
	case WH_ECORRUPT:
		return rc; /* ours, not the peer's */
	default:
		return sync_strike(s); /* forged or malformed */
	}
}

void wh_sync_push_roster(struct wh_sync *s, const uint8_t *p, size_t n)
{
	if (!s->hello_done || s->proto < WH_SYNC_PROTO_ROSTER)
		return; /* the next HELLO lists it */
	struct wh_buf b = {0};
	wh_msg_roster(&b, p, n);
	sync_enqueue(s, &b);
	s->stats.rosters_out++;
	(void)sync_flush(s);
}
