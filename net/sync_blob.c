/*
 * sync_blob.c: attachment content (拍照上报) over a link, protocol 3.
 *
 * Photos move after the text of their cases: a side asks (BLOBWANT) only
 * when its link is idle, no round in flight and no ops left to send, and
 * the other side serves pieces (BLOB, 256 KiB each) only when nothing
 * else waits in the queue, a few per flush, so a push or a new round
 * always overtakes a photo on a slow link. The receiving store keeps
 * pieces across restarts and takes content only when an attach op names
 * it (store.h); a side serves only content that an op in the shared
 * scope names, so a hub does not hand one community's photos to another.
 */
#include "sync_int.h"

#include <string.h>

static int blobs_on(const struct wh_sync *s)
{
	return s->proto >= WH_SYNC_PROTO_BLOB && s->io.blobs_wanted &&
	       s->io.blob_get && s->io.blob_part;
}

void sync_blob_reset(struct wh_sync *s)
{
	s->nserve = 0;
	s->next_blob_ms = 0;
}

struct wantlist {
	uint8_t h[WH_MSG_MAX_BLOBWANT][WH_ID_BYTES];
	size_t n;
};

static int want_cb(void *ctx, const uint8_t hash[WH_ID_BYTES], uint64_t size)
{
	(void)size;
	struct wantlist *w = ctx;
	memcpy(w->h[w->n++], hash, WH_ID_BYTES);
	return w->n == WH_MSG_MAX_BLOBWANT; /* enough for one message */
}

uint64_t sync_blob_tick(struct wh_sync *s, uint64_t now)
{
	if (!blobs_on(s) || !s->scope[0])
		return UINT64_MAX;
	if (s->nserve)
		return RETRY_MS; /* keep the pieces flowing */
	if (now < s->next_blob_ms)
		return s->next_blob_ms - now;
	if (s->st != R_IDLE || s->qn || s->ppos < s->npend)
		return RETRY_MS * 10; /* text first */
	s->next_blob_ms = now + s->interval;
	struct wantlist w;
	w.n = 0;
	int rc = s->io.blobs_wanted(s->io.ctx, s->scope, want_cb, &w);
	if (rc < 0 || w.n == 0)
		return s->interval;
	struct wh_buf b = {0};
	wh_msg_blobwant(&b, s->scope, &w.h[0][0], w.n);
	sync_enqueue(s, &b);
	(void)sync_flush(s);
	return s->interval;
}

int sync_on_blobwant(struct wh_sync *s, const struct wh_msg *m)
{
	if (!blobs_on(s) || s->hold)
		return sync_drop(s);
	for (uint32_t i = 0; i < m->n; i++) {
		const uint8_t *h = m->data.p + (size_t)i * WH_ID_BYTES;
		int dup = 0;
		for (unsigned k = 0; k < s->nserve && !dup; k++)
			dup = !memcmp(s->serve[k].hash, h, WH_ID_BYTES);
		if (dup || s->nserve == BLOB_SERVE_MAX)
			continue;
		uint64_t size = 0;
		wh_buf_reset(&s->blobbuf);
		/* Held here and named in this scope, or not ours to give. */
		if (s->io.blob_get(s->io.ctx, h, s->scope, 0, 1, &s->blobbuf,
				   &size) != WH_OK ||
		    size == 0)
			continue;
		memcpy(s->serve[s->nserve].hash, h, WH_ID_BYTES);
		s->serve[s->nserve].size = size;
		s->serve[s->nserve].off = 0;
		s->nserve++;
	}
	return sync_flush(s);
}

/* Queue the next piece of the first content being served: 1 if one was
 * queued (the flush goes on), 0 if there is nothing to serve now. */
int sync_blob_serve(struct wh_sync *s)
{
	while (s->nserve) {
		struct blob_serve *v = &s->serve[0];
		wh_buf_reset(&s->blobbuf);
		uint64_t size = 0;
		int rc = s->io.blob_get(s->io.ctx, v->hash, s->scope, v->off,
					WH_MSG_BLOB_CHUNK, &s->blobbuf, &size);
		if (rc == WH_OK && size == v->size && s->blobbuf.len) {
			struct wh_buf b = {0};
			wh_msg_blob(&b, s->scope, v->hash, v->size, v->off,
				    s->blobbuf.p, s->blobbuf.len);
			sync_enqueue(s, &b);
			v->off += s->blobbuf.len;
		}
		if (rc != WH_OK || size != v->size || v->off >= v->size) {
			if (rc == WH_OK && v->off >= v->size)
				s->stats.blobs_out++;
			memmove(&s->serve[0], &s->serve[1],
				(--s->nserve) * sizeof s->serve[0]);
		}
		if (rc == WH_OK)
			return 1;
	}
	return 0;
}

int sync_on_blob(struct wh_sync *s, const struct wh_msg *m)
{
	if (!blobs_on(s))
		return sync_drop(s);
	int rc = s->io.blob_part(s->io.ctx, m->digest, m->count, m->first,
				 m->data.p, m->data.n);
	switch (rc) {
	case WH_OK:
	{
		/* A content completed? Ask for the next ones soon. */
		uint64_t size = 0;
		wh_buf_reset(&s->blobbuf);
		if (m->first + m->data.n == m->count &&
		    s->io.blob_get(s->io.ctx, m->digest, s->scope, 0, 1,
				   &s->blobbuf, &size) == WH_OK) {
			s->stats.blobs_in++;
			s->next_blob_ms = 0;
		}
		return WH_OK;
	}
	case WH_EEXIST:
		return WH_OK; /* another link brought it first */
	case WH_ENOTFOUND:
	case WH_EFIELD:
		return sync_drop(s); /* unasked, or not what the op names */
	case WH_ECHECKSUM:
		return sync_strike(s); /* pieces that do not make the photo */
	default:
		return rc;
	}
}
