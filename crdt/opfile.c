/*
 * opfile.c: writing and checking op files (versions 1 and 2, opfile.h).
 * The trailer sits at the end so a writer can stream records of unknown
 * number; the reader finds it by walking the records, which are
 * self-delimiting. In version 2 a record is a bin (an op) or a
 * fixarray(2) (a typed record) and the trailer a fixarray(3), so the
 * array's length tells the one from the other without lookahead past
 * its header byte.
 */
#include "opfile.h"

#include "flow.h"
#include "mp.h"
#include "roster.h"

#include <string.h>

_Static_assert(WH_OPFILE_ROSTER_MAX == WH_ROSTER_MAX_BYTES,
	       "a bundle carries any roster");
_Static_assert(WH_OPFILE_BLOB_MAX == WH_BLOB_MAX_BYTES,
	       "a bundle carries any content");

static void emit(struct wh_opfile_writer *w, struct wh_buf *out, size_t from)
{
	wh_hasher_update(&w->h, out->p + from, out->len - from);
}

static void header_v2(struct wh_buf *out, const struct wh_opfile_hdr *hdr)
{
	wh_mpw_map(out, 9 + (hdr->has_for ? 1 : 0) + (hdr->has_base ? 1 : 0));
	wh_mpw_uint(out, 1);
	wh_mpw_uint(out, WH_OPFILE_BUNDLE);
	wh_mpw_uint(out, 2);
	wh_mpw_uint(out, hdr->created_ms);
	wh_mpw_uint(out, 3);
	wh_mpw_cstr(out, hdr->scope);
	wh_mpw_uint(out, 4);
	wh_mpw_bin(out, hdr->writer, WH_PK_BYTES);
	wh_mpw_uint(out, 5);
	wh_mpw_cstr(out, hdr->writer_path);
	if (hdr->has_for) {
		wh_mpw_uint(out, 6);
		wh_mpw_bin(out, hdr->for_pk, WH_PK_BYTES);
	}
	wh_mpw_uint(out, 7);
	wh_mpw_uint(out, hdr->since_ms);
	wh_mpw_uint(out, 8);
	wh_mpw_uint(out, hdr->max_bytes);
	if (hdr->has_base) {
		wh_mpw_uint(out, 9);
		wh_mpw_array(out, 2);
		wh_mpw_uint(out, hdr->base_count);
		wh_mpw_bin(out, hdr->base_digest, WH_ID_BYTES);
	}
	wh_mpw_uint(out, 10);
	wh_mpw_uint(out, hdr->left_out);
	wh_mpw_uint(out, 11);
	wh_mpw_uint(out, hdr->cases);
}

void wh_opfile_begin(struct wh_opfile_writer *w, struct wh_buf *out,
		     const struct wh_opfile_hdr *hdr)
{
	size_t from = out->len;
	wh_hasher_init(&w->h);
	w->count = 0;
	w->version = hdr->version == WH_OPFILE_BUNDLE ? WH_OPFILE_BUNDLE
						      : WH_OPFILE_VERSION;
	wh_buf_append(out, WH_OPFILE_MAGIC, WH_OPFILE_MAGIC_LEN);
	if (w->version == WH_OPFILE_BUNDLE) {
		header_v2(out, hdr);
	} else {
		wh_mpw_map(out, 4);
		wh_mpw_uint(out, 1);
		wh_mpw_uint(out, WH_OPFILE_VERSION);
		wh_mpw_uint(out, 2);
		wh_mpw_uint(out, hdr->created_ms);
		wh_mpw_uint(out, 3);
		wh_mpw_cstr(out, hdr->scope);
		wh_mpw_uint(out, 4);
		wh_mpw_bin(out, hdr->writer, WH_PK_BYTES);
	}
	emit(w, out, from);
}

void wh_opfile_add(struct wh_opfile_writer *w, struct wh_buf *out,
		   const uint8_t *op, size_t n)
{
	size_t from = out->len;
	wh_mpw_bin(out, op, n);
	emit(w, out, from);
	w->count++;
}

void wh_opfile_add_rec(struct wh_opfile_writer *w, struct wh_buf *out,
		       enum wh_oprec kind, const uint8_t *p, size_t n)
{
	if (kind == WH_OPREC_OP) {
		wh_opfile_add(w, out, p, n);
		return;
	}
	size_t from = out->len;
	wh_mpw_array(out, 2);
	wh_mpw_uint(out, (uint64_t)kind);
	wh_mpw_bin(out, p, n);
	emit(w, out, from);
	w->count++;
}

void wh_opfile_end(struct wh_opfile_writer *w, struct wh_buf *out)
{
	uint8_t sum[WH_ID_BYTES];
	wh_hasher_final(&w->h, sum);
	wh_mpw_array(out, 2);
	wh_mpw_uint(out, w->count);
	wh_mpw_bin(out, sum, WH_ID_BYTES);
}

static void sig_msg(const uint8_t sum[WH_ID_BYTES],
		    uint8_t msg[WH_OPFILE_SIGCTX_LEN + WH_ID_BYTES])
{
	memcpy(msg, WH_OPFILE_SIGCTX, WH_OPFILE_SIGCTX_LEN);
	memcpy(msg + WH_OPFILE_SIGCTX_LEN, sum, WH_ID_BYTES);
}

void wh_opfile_end_signed(struct wh_opfile_writer *w, struct wh_buf *out,
			  const struct wh_key *key)
{
	uint8_t sum[WH_ID_BYTES], sig[WH_SIG_BYTES];
	uint8_t msg[WH_OPFILE_SIGCTX_LEN + WH_ID_BYTES];
	wh_hasher_final(&w->h, sum);
	sig_msg(sum, msg);
	wh_key_sign(key, msg, sizeof msg, sig);
	wh_mpw_array(out, 3);
	wh_mpw_uint(out, w->count);
	wh_mpw_bin(out, sum, WH_ID_BYTES);
	wh_mpw_bin(out, sig, WH_SIG_BYTES);
}

static size_t bin_hdr(size_t n)
{
	return n < 256 ? 2 : n < 65536 ? 3 : 5;
}

size_t wh_opfile_rec_size(enum wh_oprec kind, size_t n)
{
	return (kind == WH_OPREC_OP ? 0 : 2) + bin_hdr(n) + n;
}

/* ---- reading ---- */

static int read_str_into(struct wh_mp *r, char *dst, size_t cap, int path)
{
	struct wh_slice s;
	int rc = wh_mp_read_str(r, &s, cap - 1);
	if (rc)
		return rc;
	if (path && s.n && !wh_path_valid((const char *)s.p, s.n))
		return WH_EPATH;
	memcpy(dst, s.p, s.n);
	dst[s.n] = '\0';
	return WH_OK;
}

static int read_base(struct wh_mp *r, struct wh_opfile_hdr *hdr)
{
	uint32_t an;
	int rc = wh_mp_read_array(r, &an, 2);
	if (rc)
		return rc;
	if (an != 2)
		return WH_EDECODE;
	if ((rc = wh_mp_read_uint(r, &hdr->base_count)) ||
	    (rc = wh_mp_read_bin_fixed(r, hdr->base_digest, WH_ID_BYTES)))
		return rc;
	hdr->has_base = 1;
	return WH_OK;
}

/* Keys 5..11: the bundle's (version 2). Unknown: WH_ENOTFOUND. */
static int read_bundle_key(struct wh_mp *r, uint64_t k,
			   struct wh_opfile_hdr *hdr)
{
	switch (k) {
	case 5:
		return read_str_into(r, hdr->writer_path,
				     sizeof hdr->writer_path, 1);
	case 6:
		hdr->has_for = 1;
		return wh_mp_read_bin_fixed(r, hdr->for_pk, WH_PK_BYTES);
	case 7: return wh_mp_read_uint(r, &hdr->since_ms);
	case 8: return wh_mp_read_uint(r, &hdr->max_bytes);
	case 9: return read_base(r, hdr);
	case 10: return wh_mp_read_uint(r, &hdr->left_out);
	case 11: return wh_mp_read_uint(r, &hdr->cases);
	default: return WH_ENOTFOUND;
	}
}

static int read_header(struct wh_mp *r, struct wh_opfile_hdr *hdr)
{
	uint32_t n;
	int rc = wh_mp_read_map(r, &n, 64);
	if (rc)
		return rc;
	memset(hdr, 0, sizeof *hdr);
	int have_version = 0, have_writer = 0, ascending = 1;
	uint64_t last = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t k;
		if ((rc = wh_mp_read_uint(r, &k)))
			return rc;
		if (i && k <= last)
			ascending = 0;
		last = k;
		switch (k) {
		case 1: {
			uint64_t v;
			if ((rc = wh_mp_read_uint(r, &v)))
				return rc;
			if (v != WH_OPFILE_VERSION && v != WH_OPFILE_BUNDLE)
				return WH_EVERSION;
			hdr->version = (uint32_t)v;
			have_version = 1;
			break;
		}
		case 2:
			if ((rc = wh_mp_read_uint(r, &hdr->created_ms)))
				return rc;
			break;
		case 3:
			if ((rc = read_str_into(r, hdr->scope, sizeof hdr->scope,
						1)))
				return rc;
			break;
		case 4:
			if ((rc = wh_mp_read_bin_fixed(r, hdr->writer,
						       WH_PK_BYTES)))
				return rc;
			have_writer = 1;
			break;
		default:
			rc = hdr->version == WH_OPFILE_BUNDLE
				     ? read_bundle_key(r, k, hdr)
				     : WH_ENOTFOUND;
			if (rc == WH_ENOTFOUND)
				rc = wh_mp_skip(r, 4);
			if (rc)
				return rc;
		}
	}
	if (!have_version)
		return WH_EDECODE;
	/* Version 2: keys ascending (one spelling per header, each key
	 * once, the version first) and the signer named. Version 1 stays as
	 * lenient as its first readers were. */
	if (hdr->version == WH_OPFILE_BUNDLE && (!ascending || !have_writer))
		return WH_EDECODE;
	return WH_OK;
}

/* One version-2 typed record at r: its kind and payload. */
static int read_typed(struct wh_mp *r, enum wh_oprec *kind,
		      struct wh_slice *s)
{
	uint32_t an;
	uint64_t k;
	int rc = wh_mp_read_array(r, &an, 3);
	if (rc)
		return rc;
	if (an != 2)
		return WH_EDECODE;
	if ((rc = wh_mp_read_uint(r, &k)))
		return rc;
	size_t max = k == WH_OPREC_ROSTER ? WH_OPFILE_ROSTER_MAX
		     : k == WH_OPREC_BLOB ? WH_OPFILE_BLOB_MAX
					  : 0;
	if (!max)
		return WH_EDECODE; /* a later kind is a later version */
	if ((rc = wh_mp_read_bin(r, s, max)))
		return rc;
	if (s->n == 0)
		return WH_EDECODE;
	*kind = (enum wh_oprec)k;
	return WH_OK;
}

/* Whether the value at r is an array of n elements (not consumed). */
static int is_array_of(const struct wh_mp *r, uint32_t n)
{
	struct wh_mp c = *r;
	uint32_t an;
	return wh_mp_peek(&c) == WH_MP_ARRAY &&
	       wh_mp_read_array(&c, &an, 16) == WH_OK && an == n;
}

/* Next record at r: 1 and its kind and payload; 0 when the trailer (or
 * the end) comes next; a negative code if a record is broken. */
static int read_rec(struct wh_mp *r, uint32_t version, enum wh_oprec *kind,
		    struct wh_slice *s)
{
	if (wh_mp_peek(r) == WH_MP_BIN) {
		int rc = wh_mp_read_bin(r, s, WH_OP_MAX_BYTES);
		*kind = WH_OPREC_OP;
		return rc ? rc : 1;
	}
	if (version != WH_OPFILE_BUNDLE || !is_array_of(r, 2))
		return 0;
	int rc = read_typed(r, kind, s);
	return rc ? rc : 1;
}

static int read_trailer(struct wh_mp *r, const struct wh_opfile_hdr *hdr,
			uint64_t *count, uint8_t sum[WH_ID_BYTES],
			uint8_t sig[WH_SIG_BYTES])
{
	uint32_t want = hdr->version == WH_OPFILE_BUNDLE ? 3 : 2, an;
	int rc;
	if ((rc = wh_mp_read_array(r, &an, 3)) || an != want ||
	    (rc = wh_mp_read_uint(r, count)) ||
	    (rc = wh_mp_read_bin_fixed(r, sum, WH_ID_BYTES)) ||
	    (want == 3 && (rc = wh_mp_read_bin_fixed(r, sig, WH_SIG_BYTES))))
		return rc == WH_ETRUNC ? WH_ETRUNC : WH_EDECODE;
	return WH_OK;
}

int wh_opfile_open(const uint8_t *p, size_t n, struct wh_opfile_hdr *hdr,
		   struct wh_opfile_reader *rd, size_t *err_off)
{
	*err_off = 0;
	memset(rd, 0, sizeof *rd);
	if (n == 0 || !p)
		return WH_ETRUNC;
	if (n < WH_OPFILE_MAGIC_LEN ||
	    memcmp(p, WH_OPFILE_MAGIC, WH_OPFILE_MAGIC_LEN) != 0)
		return n < WH_OPFILE_MAGIC_LEN &&
				       !memcmp(p, WH_OPFILE_MAGIC, n)
			       ? WH_ETRUNC
			       : WH_EDECODE;
	struct wh_mp r;
	wh_mp_init(&r, p + WH_OPFILE_MAGIC_LEN, n - WH_OPFILE_MAGIC_LEN);
	int rc = read_header(&r, hdr);
	if (rc) {
		*err_off = (size_t)(r.p - p);
		return rc;
	}
	const uint8_t *records = r.p;
	uint64_t count = 0, nops = 0, nrost = 0, nblob = 0;
	for (;;) {
		enum wh_oprec kind;
		struct wh_slice s;
		*err_off = (size_t)(r.p - p);
		rc = read_rec(&r, hdr->version, &kind, &s);
		if (rc < 0)
			return rc;
		if (rc == 0)
			break;
		count++;
		nops += kind == WH_OPREC_OP;
		nrost += kind == WH_OPREC_ROSTER;
		nblob += kind == WH_OPREC_BLOB;
	}
	const uint8_t *records_end = r.p;
	*err_off = (size_t)(r.p - p);
	if (wh_mp_peek(&r) == WH_MP_NONE)
		return WH_ETRUNC;
	uint64_t tcount;
	uint8_t sum[WH_ID_BYTES], want[WH_ID_BYTES], sig[WH_SIG_BYTES];
	if ((rc = read_trailer(&r, hdr, &tcount, want, sig)))
		return rc;
	if (wh_mp_left(&r) != 0) {
		*err_off = (size_t)(r.p - p);
		return WH_EDECODE;
	}
	wh_hash(p, (size_t)(records_end - p), sum);
	if (memcmp(sum, want, WH_ID_BYTES) != 0 || tcount != count)
		return WH_ECHECKSUM;
	if (hdr->version == WH_OPFILE_BUNDLE) {
		uint8_t msg[WH_OPFILE_SIGCTX_LEN + WH_ID_BYTES];
		sig_msg(sum, msg);
		if (wh_sig_verify(hdr->writer, msg, sizeof msg, sig) != WH_OK)
			return WH_ESIG;
	}
	rd->p = p;
	rd->cur = records;
	rd->records_end = records_end;
	rd->version = hdr->version;
	rd->count = count;
	rd->nops = nops;
	rd->nrosters = nrost;
	rd->nblobs = nblob;
	rd->index = 0;
	*err_off = 0;
	return WH_OK;
}

int wh_opfile_next_rec(struct wh_opfile_reader *rd, enum wh_oprec *kind,
		       struct wh_slice *payload, size_t *off)
{
	if (rd->cur >= rd->records_end)
		return 0;
	struct wh_mp r;
	wh_mp_init(&r, rd->cur, (size_t)(rd->records_end - rd->cur));
	*off = (size_t)(rd->cur - rd->p);
	/* Checked by wh_opfile_open. */
	if (read_rec(&r, rd->version, kind, payload) != 1)
		return 0;
	rd->cur = r.p;
	rd->index++;
	return 1;
}

int wh_opfile_next(struct wh_opfile_reader *rd, struct wh_slice *op,
		   size_t *off)
{
	enum wh_oprec kind;
	while (wh_opfile_next_rec(rd, &kind, op, off))
		if (kind == WH_OPREC_OP)
			return 1;
	return 0;
}
