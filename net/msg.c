/*
 * msg.c: writers and the bounded decoder of sync messages (see msg.h).
 *
 * The decoder reads through crdt/mp.h only, so every read is bounded and
 * canonical; the two packed runs (symbols, keys) are walked here with
 * their own bounds. It allocates nothing but the buffer of a compressed
 * OPS's ops, which it sizes from the frame header only after checking
 * the header against the same bound as a whole message: a decoded
 * message is a fixed struct plus slices into the input or that buffer.
 * This is the only file that includes zstd.h.
 */
#include "msg.h"

#include "roster.h"

#include "mp.h"
#include "flow.h"
#include "sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

/* A decompression buffer past this size is not kept for the next
 * message unless that one needs at least half of it: one large batch
 * should not pin 4 MiB for the rest of the session. */
#define ZBUF_KEEP (1u << 20)

/* Elements of each message's array, by type (index 0 unused). */
static const uint8_t msg_len[WH_MSG_TYPE_MAX + 1] = {
    0, 9, 5, 5, 5, 5, 3, 3, 3, 3, 3, 6, 2, 2};

/* ---- little helpers ---- */

static void put_u64le(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get_u64le(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* A canonical (shortest) LEB128 varint of at most 10 bytes; returns the
 * bytes used, 0 if malformed or running past end. */
static size_t get_varint(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;
	for (size_t i = 0; i < 10 && p + i < end; i++) {
		uint8_t c = p[i];
		if (i == 9 && c > 1)
			return 0;
		x |= (uint64_t)(c & 0x7f) << (7 * i);
		if (!(c & 0x80)) {
			if (i > 0 && c == 0)
				return 0; /* a longer spelling of a value */
			*v = x;
			return i + 1;
		}
	}
	return 0;
}

static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t u)
{
	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* ---- decoding ---- */

static int read_u32(struct wh_mp *r, uint32_t *v)
{
	uint64_t x;
	int rc = wh_mp_read_uint(r, &x);
	if (rc)
		return rc;
	if (x > UINT32_MAX)
		return WH_ETOOBIG;
	*v = (uint32_t)x;
	return WH_OK;
}

/* A path or scope: valid path into out (NUL-terminated). */
static int read_path(struct wh_mp *r, char *out)
{
	struct wh_slice s;
	int rc = wh_mp_read_str(r, &s, WH_PATH_MAX);
	if (rc)
		return rc;
	if (!wh_path_valid((const char *)s.p, s.n))
		return WH_EPATH;
	memcpy(out, s.p, s.n);
	out[s.n] = '\0';
	return WH_OK;
}

static int dec_hello(struct wh_mp *r, struct wh_msg *m)
{
	int rc;
	uint32_t role;
	if ((rc = read_u32(r, &m->proto_min)) ||
	    (rc = read_u32(r, &m->proto_max)) || (rc = read_u32(r, &role)) ||
	    (rc = read_path(r, m->path)) ||
	    (rc = wh_mp_read_bin_fixed(r, m->salt, WH_MSG_SALT_BYTES)) ||
	    (rc = wh_mp_read_uint(r, &m->count)) ||
	    (rc = wh_mp_read_bin_fixed(r, m->digest, WH_ID_BYTES)) ||
	    (rc = wh_mp_read_uint(r, &m->ms)))
		return rc;
	if (role > 255)
		return WH_ETOOBIG;
	m->role = (uint8_t)role;
	return m->proto_min > m->proto_max ? WH_EDECODE : WH_OK;
}

static int dec_symbols(struct wh_mp *r, struct wh_msg *m)
{
	int rc = wh_mp_read_uint(r, &m->first);
	if (rc || (rc = wh_mp_read_bin(r, &m->data,
				       (size_t)WH_MSG_MAX_SYMS *
					   WH_MSG_SYM_MAX_BYTES)))
		return rc;
	if (m->first > (1ull << 40))
		return WH_ETOOBIG;
	const uint8_t *p = m->data.p, *end = p + m->data.n;
	uint32_t n = 0;
	while (p < end) {
		uint64_t v;
		size_t k;
		if (n == WH_MSG_MAX_SYMS)
			return WH_ETOOBIG;
		if ((size_t)(end - p) < 17)
			return WH_ETRUNC;
		if (!(k = get_varint(p + 16, end, &v)))
			return WH_EDECODE;
		p += 16 + k;
		n++;
	}
	if (n == 0)
		return WH_EDECODE;
	m->n = n;
	return WH_OK;
}

static int dec_want(struct wh_mp *r, struct wh_msg *m)
{
	int rc = read_u32(r, &m->flags);
	if (rc || (rc = wh_mp_read_bin(r, &m->data,
				       (size_t)WH_MSG_MAX_KEYS * 8)))
		return rc;
	if (m->data.n % 8 || m->flags > (WH_WANT_FINAL | WH_WANT_ALL))
		return WH_EDECODE;
	m->n = (uint32_t)(m->data.n / 8);
	if ((m->flags & WH_WANT_ALL) && m->n)
		return WH_EDECODE;
	return WH_OK;
}

/* The array of bin ops of an OPS message, plain or decompressed. */
static int ops_array(struct wh_mp *r, struct wh_msg *m)
{
	const uint8_t *start = r->p;
	uint32_t n;
	int rc = wh_mp_read_array(r, &n, WH_MSG_MAX_OPS);
	if (rc)
		return rc;
	for (uint32_t i = 0; i < n; i++) {
		struct wh_slice s;
		if ((rc = wh_mp_read_bin(r, &s, WH_OP_MAX_BYTES)))
			return rc;
		if (s.n == 0)
			return WH_EDECODE;
	}
	m->n = n;
	m->data.p = start;
	m->data.n = (size_t)(r->p - start);
	return WH_OK;
}

/* zstd allocates its contexts itself; NULL is out of memory, which
 * aborts here as it does in wh_xmalloc: no caller has a path for it. */
static void zstd_oom(const void *ctx)
{
	if (ctx)
		return;
	fputs("whistle: out of memory (zstd context)\n", stderr);
	abort();
}

/*
 * Decompress the frame f into z's buffer, out = the content. Every
 * check that can be made on the frame's header and block headers comes
 * before the allocation; the size allocated is the declared one, which
 * is at most WH_SYNC_MAX_MSG.
 */
static int inflate_ops(struct wh_msg_zstd *z, struct wh_slice f,
		       struct wh_slice *out)
{
	/* The magic number first: it also keeps out skippable frames,
	 * which zstd would otherwise pass over silently. */
	if (!z || f.n < 4 || get_u32le(f.p) != ZSTD_MAGICNUMBER)
		return WH_EDECODE;
	unsigned long long size = ZSTD_getFrameContentSize(f.p, f.n);
	if (size == ZSTD_CONTENTSIZE_UNKNOWN ||
	    size == ZSTD_CONTENTSIZE_ERROR || size == 0)
		return WH_EDECODE; /* 0: no array is empty bytes */
	if (size > WH_SYNC_MAX_MSG)
		return WH_ETOOBIG;
	/* Exactly one frame: a truncated one, or a second frame after it
	 * (which ZSTD_decompressDCtx would go on to decode), is refused. */
	size_t fn = ZSTD_findFrameCompressedSize(f.p, f.n);
	if (ZSTD_isError(fn) || fn != f.n)
		return WH_EDECODE;
	if (size > z->cap || (z->cap > ZBUF_KEEP && size < z->cap / 2)) {
		free(z->buf);
		z->buf = wh_xmalloc((size_t)size);
		z->cap = (size_t)size;
	}
	if (!z->dctx) {
		z->dctx = ZSTD_createDCtx();
		zstd_oom(z->dctx);
	}
	size_t got =
	    ZSTD_decompressDCtx(z->dctx, z->buf, (size_t)size, f.p, f.n);
	if (ZSTD_isError(got) || got != size)
		return WH_EDECODE;
	out->p = z->buf;
	out->n = got;
	return WH_OK;
}

static int dec_ops(struct wh_mp *r, struct wh_msg_zstd *z, struct wh_msg *m)
{
	int rc = read_u32(r, &m->flags);
	if (rc)
		return rc;
	if (m->flags & ~(WH_OPS_PUSH | WH_OPS_ZSTD))
		return WH_EDECODE;
	if (!(m->flags & WH_OPS_ZSTD))
		return ops_array(r, m);
	struct wh_slice frame, ops;
	struct wh_mp in;
	if ((rc = wh_mp_read_bin(r, &frame, WH_SYNC_MAX_MSG)) ||
	    (rc = inflate_ops(z, frame, &ops)))
		return rc;
	wh_mp_init(&in, ops.p, ops.n);
	if ((rc = ops_array(&in, m)))
		return rc;
	return wh_mp_left(&in) ? WH_EDECODE : WH_OK;
}

static int dec_receipt(struct wh_mp *r, struct wh_msg *m)
{
	int rc = wh_mp_read_bin(r, &m->body, 512);
	if (rc)
		return rc;
	uint8_t sig[WH_SIG_BYTES];
	if ((rc = wh_mp_read_bin_fixed(r, sig, WH_SIG_BYTES)))
		return rc;
	m->sig.p = r->p - WH_SIG_BYTES; /* the bytes just read */
	m->sig.n = WH_SIG_BYTES;
	/* The body: ["whistle-receipt", scope, count, digest, ms, signer] */
	struct wh_mp b;
	uint32_t n;
	struct wh_slice tag;
	wh_mp_init(&b, m->body.p, m->body.n);
	if ((rc = wh_mp_read_array(&b, &n, 6)))
		return rc;
	if (n != 6)
		return WH_EDECODE;
	if ((rc = wh_mp_read_str(&b, &tag, 32)))
		return rc;
	if (tag.n != strlen(WH_MSG_RECEIPT_TAG) ||
	    memcmp(tag.p, WH_MSG_RECEIPT_TAG, tag.n))
		return WH_EDECODE;
	if ((rc = read_path(&b, m->scope)) ||
	    (rc = wh_mp_read_uint(&b, &m->count)) ||
	    (rc = wh_mp_read_bin_fixed(&b, m->digest, WH_ID_BYTES)) ||
	    (rc = wh_mp_read_uint(&b, &m->ms)) ||
	    (rc = wh_mp_read_bin_fixed(&b, m->signer, WH_PK_BYTES)))
		return rc;
	return wh_mp_left(&b) ? WH_EDECODE : WH_OK;
}

static int dec_bye(struct wh_mp *r, struct wh_msg *m)
{
	struct wh_slice s;
	int rc = wh_mp_read_int(r, &m->code);
	if (rc || (rc = wh_mp_read_str(r, &s, WH_MSG_MAX_TEXT)))
		return rc;
	memcpy(m->text, s.p, s.n);
	m->text[s.n] = '\0';
	return WH_OK;
}

static int dec_body(struct wh_mp *r, struct wh_msg_zstd *z, struct wh_msg *m)
{
	int rc;
	switch (m->type) {
	case WH_MSG_HELLO:
		return dec_hello(r, m);
	case WH_MSG_DIGEST:
		if ((rc = read_path(r, m->scope)) ||
		    (rc = read_u32(r, &m->round)) ||
		    (rc = wh_mp_read_uint(r, &m->count)))
			return rc;
		return wh_mp_read_bin_fixed(r, m->digest, WH_ID_BYTES);
	case WH_MSG_SYMBOLS:
		if ((rc = read_path(r, m->scope)) ||
		    (rc = read_u32(r, &m->round)))
			return rc;
		return dec_symbols(r, m);
	case WH_MSG_MORE:
		if ((rc = read_path(r, m->scope)) ||
		    (rc = read_u32(r, &m->round)) ||
		    (rc = wh_mp_read_uint(r, &m->first)) ||
		    (rc = read_u32(r, &m->n)))
			return rc;
		if (m->n == 0 || m->n > WH_MSG_MAX_MORE ||
		    m->first > (1ull << 40))
			return WH_ETOOBIG;
		return WH_OK;
	case WH_MSG_WANT:
		if ((rc = read_path(r, m->scope)) ||
		    (rc = read_u32(r, &m->round)))
			return rc;
		return dec_want(r, m);
	case WH_MSG_OPS:
		return dec_ops(r, z, m);
	case WH_MSG_RECEIPT:
		return dec_receipt(r, m);
	case WH_MSG_BLOBWANT:
		if ((rc = read_path(r, m->scope)) ||
		    (rc = wh_mp_read_bin(r, &m->data, (size_t)WH_MSG_MAX_BLOBWANT *
							   WH_ID_BYTES)))
			return rc;
		if (m->data.n == 0 || m->data.n % WH_ID_BYTES)
			return WH_EDECODE;
		m->n = (uint32_t)(m->data.n / WH_ID_BYTES);
		return WH_OK;
	case WH_MSG_BLOB:
		if ((rc = read_path(r, m->scope)) ||
		    (rc = wh_mp_read_bin_fixed(r, m->digest, WH_ID_BYTES)) ||
		    (rc = wh_mp_read_uint(r, &m->count)) ||
		    (rc = wh_mp_read_uint(r, &m->first)) ||
		    (rc = wh_mp_read_bin(r, &m->data, WH_MSG_BLOB_CHUNK)))
			return rc;
		/* The piece lies within a content of a size a blob may have. */
		if (m->data.n == 0 || m->count > WH_BLOB_MAX_BYTES ||
		    m->first >= m->count || m->data.n > m->count - m->first)
			return WH_EDECODE;
		return WH_OK;
	case WH_MSG_RSUM:
		if ((rc = wh_mp_read_bin(r, &m->data, (size_t)WH_MSG_MAX_RSUM *
							  WH_MSG_RSUM_ENTRY)))
			return rc;
		if (m->data.n % WH_MSG_RSUM_ENTRY)
			return WH_EDECODE;
		m->n = (uint32_t)(m->data.n / WH_MSG_RSUM_ENTRY);
		return WH_OK;
	case WH_MSG_ROSTER:
		/* The roster itself is decoded by wh_roster_decode, the one
		 * reader of roster bytes, where it is taken in. */
		if ((rc = wh_mp_read_bin(r, &m->data, WH_ROSTER_MAX_BYTES)))
			return rc;
		return m->data.n ? WH_OK : WH_EDECODE;
	default:
		return dec_bye(r, m);
	}
}

int wh_msg_decode(const uint8_t *p, size_t n, struct wh_msg_zstd *z,
		  struct wh_msg *m)
{
	memset(m, 0, sizeof *m);
	if (n > WH_SYNC_MAX_MSG)
		return WH_ETOOBIG;
	struct wh_mp r;
	uint32_t len;
	uint64_t type;
	wh_mp_init(&r, p, n);
	int rc = wh_mp_read_array(&r, &len, 15);
	if (rc || (rc = wh_mp_read_uint(&r, &type)))
		return rc;
	if (type == 0 || type > WH_MSG_TYPE_MAX)
		return WH_EVERSION;
	if (len != msg_len[type])
		return WH_EDECODE;
	m->type = (uint8_t)type;
	if ((rc = dec_body(&r, z, m)))
		return rc;
	return wh_mp_left(&r) ? WH_EDECODE : WH_OK;
}

void wh_msg_symbols(const struct wh_msg *m, struct wh_riblt_sym *out)
{
	const uint8_t *p = m->data.p, *end = p + m->data.n;
	for (uint32_t i = 0; i < m->n; i++) {
		uint64_t v = 0;
		out[i].key = get_u64le(p);
		out[i].check = get_u64le(p + 8);
		p += 16;
		p += get_varint(p, end, &v); /* validated by the decoder */
		out[i].count = unzigzag(v);
	}
}

uint64_t wh_msg_key(const struct wh_msg *m, uint32_t i)
{
	return get_u64le(m->data.p + 8 * (size_t)i);
}

void wh_msg_ops(const struct wh_msg *m, struct wh_slice *out)
{
	struct wh_mp r;
	uint32_t n;
	wh_mp_init(&r, m->data.p, m->data.n);
	/* Validated by the decoder: these reads cannot fail. */
	if (wh_mp_read_array(&r, &n, WH_MSG_MAX_OPS))
		return;
	for (uint32_t i = 0; i < n && i < m->n; i++)
		if (wh_mp_read_bin(&r, &out[i], WH_OP_MAX_BYTES))
			return;
}

int wh_msg_receipt_verify(const struct wh_msg *m, const uint8_t pk[WH_PK_BYTES])
{
	if (m->type != WH_MSG_RECEIPT || memcmp(m->signer, pk, WH_PK_BYTES))
		return WH_ESIG;
	return wh_sig_verify(pk, m->body.p, m->body.n, m->sig.p);
}

/* ---- writers ---- */

void wh_msg_hello(struct wh_buf *b, uint32_t proto_max, uint32_t role,
		  const char *path, const uint8_t salt[WH_MSG_SALT_BYTES],
		  uint64_t count, const uint8_t digest[WH_ID_BYTES],
		  uint64_t ms)
{
	wh_mpw_array(b, msg_len[WH_MSG_HELLO]);
	wh_mpw_uint(b, WH_MSG_HELLO);
	wh_mpw_uint(b, WH_SYNC_PROTO_MIN);
	wh_mpw_uint(b, proto_max);
	wh_mpw_uint(b, role);
	wh_mpw_cstr(b, path);
	wh_mpw_bin(b, salt, WH_MSG_SALT_BYTES);
	wh_mpw_uint(b, count);
	wh_mpw_bin(b, digest, WH_ID_BYTES);
	wh_mpw_uint(b, ms);
}

static void head(struct wh_buf *b, uint8_t type, const char *scope,
		 uint32_t round)
{
	wh_mpw_array(b, msg_len[type]);
	wh_mpw_uint(b, type);
	wh_mpw_cstr(b, scope);
	wh_mpw_uint(b, round);
}

void wh_msg_digest(struct wh_buf *b, const char *scope, uint32_t round,
		   uint64_t count, const uint8_t digest[WH_ID_BYTES])
{
	head(b, WH_MSG_DIGEST, scope, round);
	wh_mpw_uint(b, count);
	wh_mpw_bin(b, digest, WH_ID_BYTES);
}

void wh_msg_symbols_write(struct wh_buf *b, const char *scope,
			  uint32_t round, uint64_t first,
			  const struct wh_riblt_sym *syms, size_t n)
{
	uint8_t *tmp = wh_xmalloc(n * WH_MSG_SYM_MAX_BYTES + 1);
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		put_u64le(tmp + len, syms[i].key);
		put_u64le(tmp + len + 8, syms[i].check);
		len += 16;
		len += put_varint(tmp + len, zigzag(syms[i].count));
	}
	head(b, WH_MSG_SYMBOLS, scope, round);
	wh_mpw_uint(b, first);
	wh_mpw_bin(b, tmp, len);
	free(tmp);
}

void wh_msg_more(struct wh_buf *b, const char *scope, uint32_t round,
		 uint64_t next, uint32_t how_many)
{
	head(b, WH_MSG_MORE, scope, round);
	wh_mpw_uint(b, next);
	wh_mpw_uint(b, how_many);
}

void wh_msg_want(struct wh_buf *b, const char *scope, uint32_t round,
		 uint32_t flags, const uint64_t *keys, size_t n)
{
	uint8_t *tmp = wh_xmalloc(n * 8 + 1);
	for (size_t i = 0; i < n; i++)
		put_u64le(tmp + 8 * i, keys[i]);
	head(b, WH_MSG_WANT, scope, round);
	wh_mpw_uint(b, flags);
	wh_mpw_bin(b, tmp, n * 8);
	free(tmp);
}

void wh_msg_blobwant(struct wh_buf *b, const char *scope,
		     const uint8_t *hashes, size_t n)
{
	wh_mpw_array(b, msg_len[WH_MSG_BLOBWANT]);
	wh_mpw_uint(b, WH_MSG_BLOBWANT);
	wh_mpw_cstr(b, scope);
	wh_mpw_bin(b, hashes, n * WH_ID_BYTES);
}

void wh_msg_blob(struct wh_buf *b, const char *scope,
		 const uint8_t hash[WH_ID_BYTES], uint64_t size, uint64_t off,
		 const uint8_t *p, size_t n)
{
	wh_mpw_array(b, msg_len[WH_MSG_BLOB]);
	wh_mpw_uint(b, WH_MSG_BLOB);
	wh_mpw_cstr(b, scope);
	wh_mpw_bin(b, hash, WH_ID_BYTES);
	wh_mpw_uint(b, size);
	wh_mpw_uint(b, off);
	wh_mpw_bin(b, p, n);
}

void wh_msg_rsum(struct wh_buf *b, const uint8_t *entries, size_t n)
{
	wh_mpw_array(b, msg_len[WH_MSG_RSUM]);
	wh_mpw_uint(b, WH_MSG_RSUM);
	wh_mpw_bin(b, entries, n * WH_MSG_RSUM_ENTRY);
}

void wh_msg_rsum_entry(const struct wh_msg *m, uint32_t i,
		       uint8_t signer[WH_PK_BYTES], uint64_t *serial)
{
	const uint8_t *e = m->data.p + (size_t)i * WH_MSG_RSUM_ENTRY;
	memcpy(signer, e, WH_PK_BYTES);
	uint64_t v = 0;
	for (int k = 7; k >= 0; k--)
		v = v << 8 | e[WH_PK_BYTES + k];
	*serial = v;
}

void wh_msg_rsum_put(uint8_t *entry, const uint8_t signer[WH_PK_BYTES],
		     uint64_t serial)
{
	memcpy(entry, signer, WH_PK_BYTES);
	put_u64le(entry + WH_PK_BYTES, serial);
}

void wh_msg_roster(struct wh_buf *b, const uint8_t *p, size_t n)
{
	wh_mpw_array(b, msg_len[WH_MSG_ROSTER]);
	wh_mpw_uint(b, WH_MSG_ROSTER);
	wh_mpw_bin(b, p, n);
}

static void ops_head(struct wh_buf *b, uint32_t flags)
{
	wh_mpw_array(b, msg_len[WH_MSG_OPS]);
	wh_mpw_uint(b, WH_MSG_OPS);
	wh_mpw_uint(b, flags);
}

void wh_msg_ops_begin(struct wh_buf *b, uint32_t flags, uint32_t n)
{
	ops_head(b, flags);
	wh_mpw_array(b, n);
}

void wh_msg_ops_add(struct wh_buf *b, const uint8_t *op, size_t n)
{
	wh_mpw_bin(b, op, n);
}

void wh_msg_zstd_fini(struct wh_msg_zstd *z)
{
	if (!z)
		return;
	ZSTD_freeCCtx(z->cctx);
	ZSTD_freeDCtx(z->dctx);
	free(z->buf);
	memset(z, 0, sizeof *z);
}

/* Compress src into a new buffer if the frame comes out shorter than
 * max bytes; returns its size, or 0 (send it plain). */
static size_t deflate_ops(struct wh_msg_zstd *z, const uint8_t *src, size_t n,
			  size_t max, uint8_t **out)
{
	if (!z->cctx) {
		z->cctx = ZSTD_createCCtx();
		zstd_oom(z->cctx);
		/* The frame must declare its content size (the decoder
		 * insists); that is ZSTD_compress2's default, set anyway. */
		if (ZSTD_isError(ZSTD_CCtx_setParameter(
			z->cctx, ZSTD_c_compressionLevel, WH_MSG_ZSTD_LEVEL)) ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(
			z->cctx, ZSTD_c_contentSizeFlag, 1))) {
			ZSTD_freeCCtx(z->cctx);
			z->cctx = NULL;
			return 0;
		}
	}
	uint8_t *dst = wh_xmalloc(max);
	/* A frame that would not fit in max fails with dstSize_tooSmall:
	 * that is the "does not pay" answer, found without a bound-sized
	 * buffer. */
	size_t zn = ZSTD_compress2(z->cctx, dst, max, src, n);
	if (ZSTD_isError(zn) || zn == 0) {
		free(dst);
		return 0;
	}
	*out = dst;
	return zn;
}

void wh_msg_ops_pack(struct wh_buf *b, uint32_t flags, uint32_t n,
		     const uint8_t *bins, size_t len, struct wh_msg_zstd *z)
{
	size_t at = b->len;
	flags &= ~WH_OPS_ZSTD;
	ops_head(b, flags);
	size_t arr = b->len; /* the array, which is what gets compressed */
	wh_mpw_array(b, n);
	wh_buf_append(b, bins, len);
	size_t alen = b->len - arr;
	if (!z || alen < WH_MSG_ZSTD_MIN)
		return;
	/* Worth it only if the bin of the frame is shorter than the array;
	 * a bin header takes up to 5 bytes. */
	uint8_t *frame = NULL;
	size_t zn = deflate_ops(z, b->p + arr, alen, alen - 5, &frame);
	if (!zn)
		return;
	b->len = at;
	ops_head(b, flags | WH_OPS_ZSTD);
	wh_mpw_bin(b, frame, zn);
	free(frame);
}

void wh_msg_receipt(struct wh_buf *b, const struct wh_key *key,
		    const char *scope, uint64_t count,
		    const uint8_t digest[WH_ID_BYTES], uint64_t ms)
{
	struct wh_buf body = {0};
	uint8_t sig[WH_SIG_BYTES];
	wh_mpw_array(&body, 6);
	wh_mpw_cstr(&body, WH_MSG_RECEIPT_TAG);
	wh_mpw_cstr(&body, scope);
	wh_mpw_uint(&body, count);
	wh_mpw_bin(&body, digest, WH_ID_BYTES);
	wh_mpw_uint(&body, ms);
	wh_mpw_bin(&body, key->pk, WH_PK_BYTES);
	wh_key_sign(key, body.p, body.len, sig);
	wh_mpw_array(b, msg_len[WH_MSG_RECEIPT]);
	wh_mpw_uint(b, WH_MSG_RECEIPT);
	wh_mpw_bin(b, body.p, body.len);
	wh_mpw_bin(b, sig, WH_SIG_BYTES);
	wh_buf_fini(&body);
}

void wh_msg_bye(struct wh_buf *b, uint8_t type, int64_t code,
		const char *text)
{
	size_t n = strlen(text);
	if (n > WH_MSG_MAX_TEXT) {
		n = WH_MSG_MAX_TEXT;
		while (n > 0 && ((uint8_t)text[n] & 0xc0) == 0x80)
			n--; /* do not cut a UTF-8 sequence */
	}
	wh_mpw_array(b, msg_len[type]);
	wh_mpw_uint(b, type);
	wh_mpw_int(b, code);
	wh_mpw_str(b, text, n);
}
