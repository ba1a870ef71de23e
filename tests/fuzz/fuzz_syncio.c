/*
 * fuzz_syncio.c: a station in memory for sync sessions (fuzz_syncio.h).
 */
#include "fuzz_syncio.h"

#include <stdlib.h>
#include <string.h>

#define PHOTO "photo"

void fz_node_init(struct fz_node *n, const char *path, enum wh_role role,
		  unsigned key, const struct fz_ops *o, size_t from, size_t to,
		  int have_photo)
{
	memset(n, 0, sizeof *n);
	n->path = path;
	n->role = role;
	n->key = key;
	n->have_photo = have_photo;
	n->now_ms = FZ_T0_MS + 7ull * 24 * 3600 * 1000;
	n->rnd = 0x5eed0000u + key;
	for (size_t i = from; i < to && o; i++) {
		struct wh_slice s = fz_get(o, i);
		n->held.off[n->held.n] = n->held.b.len;
		n->held.len[n->held.n++] = s.n;
		wh_buf_append(&n->held.b, s.p, s.n);
	}
}

void fz_node_fini(struct fz_node *n)
{
	fz_fini(&n->held);
	wh_buf_fini(&n->part);
	memset(n, 0, sizeof *n);
}

void fz_node_station(struct fz_node *n, int street, const struct fz_ops *story,
		     const struct fz_ops *plist)
{
	if (street)
		fz_node_init(n, "xicheng/xinjiekou", WH_ROLE_STREET, 0, story,
			     0, story->n - 6, 0);
	else
		fz_node_init(n, FZ_PATH, WH_ROLE_STATION, 1, story, 0,
			     story->n - 6, 0);
	for (size_t i = 0; i < plist->n; i++) {
		struct wh_slice s = fz_get(plist, i);
		n->held.off[n->held.n] = n->held.b.len;
		n->held.len[n->held.n++] = s.n;
		wh_buf_append(&n->held.b, s.p, s.n);
	}
}

void fz_node_peer(struct fz_node *n, int street, const struct fz_ops *story)
{
	if (street)
		fz_node_init(n, FZ_PATH, WH_ROLE_STATION, 1, story, 4, story->n,
			     1);
	else
		fz_node_init(n, "xicheng/xinjiekou", WH_ROLE_STREET, 0, story,
			     4, story->n, 1);
}

/* Op i decoded, and whether it lies in scope (by its own bytes). */
static int in_scope(const struct fz_node *n, size_t i, const char *scope,
		    struct wh_op *op)
{
	struct wh_slice s = fz_get(&n->held, i);
	if (wh_op_decode(s.p, s.n, op) != WH_OK)
		abort(); /* verified when it came in */
	return wh_op_in_scope(op, scope, strlen(scope));
}

static long find(const struct fz_node *n, const uint8_t id[WH_ID_BYTES])
{
	for (size_t i = 0; i < n->held.n; i++) {
		uint8_t h[WH_ID_BYTES];
		struct wh_slice s = fz_get(&n->held, i);
		wh_op_id(s.p, s.n, h);
		if (!memcmp(h, id, WH_ID_BYTES))
			return (long)i;
	}
	return -1;
}

static int digest(void *ctx, const char *scope, uint8_t out[WH_ID_BYTES],
		  uint64_t *count)
{
	struct fz_node *n = ctx;
	struct wh_op op;
	memset(out, 0, WH_ID_BYTES);
	*count = 0;
	for (size_t i = 0; i < n->held.n; i++) {
		if (!in_scope(n, i, scope, &op))
			continue;
		for (int k = 0; k < WH_ID_BYTES; k++)
			out[k] ^= op.id[k];
		++*count;
	}
	return WH_OK;
}

static int each_id(void *ctx, const char *scope,
		   int (*cb)(void *cbctx, const uint8_t id[WH_ID_BYTES]),
		   void *cbctx)
{
	struct fz_node *n = ctx;
	struct wh_op op;
	for (size_t i = 0; i < n->held.n; i++) {
		if (!in_scope(n, i, scope, &op))
			continue;
		int rc = cb(cbctx, op.id);
		if (rc)
			return rc;
	}
	return WH_OK;
}

static int get_op(void *ctx, const uint8_t id[WH_ID_BYTES], struct wh_buf *out)
{
	struct fz_node *n = ctx;
	long i = find(n, id);
	if (i < 0)
		return WH_ENOTFOUND;
	struct wh_slice s = fz_get(&n->held, (size_t)i);
	wh_buf_append(out, s.p, s.n);
	return WH_OK;
}

static int ingest(void *ctx, const uint8_t peer[WH_PK_BYTES],
		  const char *scope, const struct wh_slice *ops, size_t k,
		  int *results, size_t *added, size_t *refused)
{
	struct fz_node *n = ctx;
	(void)peer;
	*added = *refused = 0;
	for (size_t i = 0; i < k; i++) {
		struct wh_op op;
		uint8_t id[WH_ID_BYTES];
		int rc = WH_OK;
		wh_op_id(ops[i].p, ops[i].n, id);
		if (find(n, id) >= 0)
			rc = WH_EEXIST;
		else if ((rc = wh_op_decode(ops[i].p, ops[i].n, &op)) ||
			 (rc = wh_hlc_check(op.hlc, n->now_ms)) ||
			 (rc = wh_op_verify(&op)))
			;
		else if (!wh_op_in_scope(&op, scope, strlen(scope)))
			rc = WH_ESCOPE;
		else if (n->held.n == FZ_MAX_OPS)
			rc = WH_EFULL; /* a real store would grow */
		if (rc == WH_OK) {
			n->held.off[n->held.n] = n->held.b.len;
			n->held.len[n->held.n++] = ops[i].n;
			wh_buf_append(&n->held.b, ops[i].p, ops[i].n);
			++*added;
		} else if (rc != WH_EEXIST) {
			++*refused;
		}
		if (results)
			results[i] = rc;
	}
	return WH_OK;
}

static void photo_hash(uint8_t h[WH_ID_BYTES])
{
	wh_hash((const uint8_t *)PHOTO, strlen(PHOTO), h);
}

/* The photo is named by an attach op held in scope. */
static int photo_named(const struct fz_node *n, const char *scope)
{
	uint8_t h[WH_ID_BYTES];
	struct wh_op op;
	photo_hash(h);
	for (size_t i = 0; i < n->held.n; i++) {
		if (!in_scope(n, i, scope, &op) || op.kind != WH_OP_ATTACH)
			continue;
		const struct wh_field *f = wh_op_field(&op, WH_F_BLOB);
		if (f && f->s.n == WH_ID_BYTES && !memcmp(f->s.p, h, WH_ID_BYTES))
			return 1;
	}
	return 0;
}

static int blobs_wanted(void *ctx, const char *scope,
			int (*cb)(void *cbctx, const uint8_t hash[WH_ID_BYTES],
				  uint64_t size),
			void *cbctx)
{
	struct fz_node *n = ctx;
	uint8_t h[WH_ID_BYTES];
	photo_hash(h);
	if (n->have_photo || !photo_named(n, scope))
		return WH_OK;
	return cb(cbctx, h, strlen(PHOTO));
}

static int blob_get(void *ctx, const uint8_t hash[WH_ID_BYTES],
		    const char *scope, uint64_t off, size_t max,
		    struct wh_buf *out, uint64_t *size)
{
	struct fz_node *n = ctx;
	uint8_t h[WH_ID_BYTES];
	photo_hash(h);
	if (!n->have_photo || memcmp(h, hash, WH_ID_BYTES) ||
	    !photo_named(n, scope))
		return WH_ENOTFOUND;
	size_t len = strlen(PHOTO);
	*size = len;
	if (off < len)
		wh_buf_append(out, &PHOTO[off],
			      len - off < max ? len - (size_t)off : max);
	return WH_OK;
}

static int blob_part(void *ctx, const uint8_t hash[WH_ID_BYTES],
		     uint64_t size, uint64_t off, const uint8_t *p, size_t k)
{
	struct fz_node *n = ctx;
	uint8_t h[WH_ID_BYTES];
	photo_hash(h);
	if (memcmp(h, hash, WH_ID_BYTES))
		return WH_ENOTFOUND;
	if (n->have_photo)
		return WH_EEXIST;
	if (size != strlen(PHOTO))
		return WH_EFIELD;
	if (off != n->part.len)
		return WH_ENOTFOUND; /* pieces arrive in order on a link */
	wh_buf_append(&n->part, p, k);
	if (n->part.len < size)
		return WH_OK;
	uint8_t got[WH_ID_BYTES];
	wh_hash(n->part.p, n->part.len, got);
	wh_buf_reset(&n->part);
	if (memcmp(got, h, WH_ID_BYTES))
		return WH_ECHECKSUM;
	n->have_photo = 1;
	return WH_OK;
}

static int send_msg(void *ctx, const uint8_t *p, size_t k)
{
	struct fz_node *n = ctx;
	if (n->on_send)
		n->on_send(n->send_ctx, p, k);
	return WH_OK;
}

static uint64_t now_ms(void *ctx)
{
	return ((struct fz_node *)ctx)->now_ms;
}

static void random_bytes(void *ctx, uint8_t *out, size_t k)
{
	struct fz_node *n = ctx;
	for (size_t i = 0; i < k; i++) {
		n->rnd = n->rnd * 6364136223846793005ull + 1442695040888963407ull;
		out[i] = (uint8_t)(n->rnd >> 56);
	}
}

struct wh_sync_io fz_node_io(struct fz_node *n)
{
	struct wh_sync_io io = {
	    .ctx = n,
	    .digest = digest,
	    .each_id = each_id,
	    .case_reached = NULL,
	    .get_op = get_op,
	    .ingest = ingest,
	    .blobs_wanted = blobs_wanted,
	    .blob_get = blob_get,
	    .blob_part = blob_part,
	    .send = send_msg,
	    .now_ms = now_ms,
	    .random = random_bytes,
	};
	return io;
}

int fz_node_session(struct fz_node *n, uint32_t proto_max, unsigned peer_key,
		    struct wh_sync **out)
{
	struct wh_sync_io io = fz_node_io(n);
	struct wh_sync_self self = {
	    .key = fz_key(n->key),
	    .role = n->role,
	    .path = n->path,
	    .digest_interval_ms = 0,
	    .proto_max = proto_max,
	};
	return wh_sync_new(&io, &self, fz_key(peer_key)->pk, out);
}
