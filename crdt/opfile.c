/*
 * opfile.c: writing and checking op files. The trailer sits at the end so
 * a writer can stream ops of unknown number; the reader finds it by
 * walking the records, which are self-delimiting.
 */
#include "opfile.h"

#include "mp.h"
#include "op.h"

#include <string.h>

static void emit(struct wh_opfile_writer *w, struct wh_buf *out, size_t from)
{
	wh_hasher_update(&w->h, out->p + from, out->len - from);
}

void wh_opfile_begin(struct wh_opfile_writer *w, struct wh_buf *out,
		     const struct wh_opfile_hdr *hdr)
{
	size_t from = out->len;
	wh_hasher_init(&w->h);
	w->count = 0;
	wh_buf_append(out, WH_OPFILE_MAGIC, WH_OPFILE_MAGIC_LEN);
	wh_mpw_map(out, 4);
	wh_mpw_uint(out, 1);
	wh_mpw_uint(out, WH_OPFILE_VERSION);
	wh_mpw_uint(out, 2);
	wh_mpw_uint(out, hdr->created_ms);
	wh_mpw_uint(out, 3);
	wh_mpw_cstr(out, hdr->scope);
	wh_mpw_uint(out, 4);
	wh_mpw_bin(out, hdr->writer, WH_PK_BYTES);
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

void wh_opfile_end(struct wh_opfile_writer *w, struct wh_buf *out)
{
	uint8_t sum[WH_ID_BYTES];
	wh_hasher_final(&w->h, sum);
	wh_mpw_array(out, 2);
	wh_mpw_uint(out, w->count);
	wh_mpw_bin(out, sum, WH_ID_BYTES);
}

static int read_header(struct wh_mp *r, struct wh_opfile_hdr *hdr)
{
	uint32_t n;
	int rc = wh_mp_read_map(r, &n, 64);
	if (rc)
		return rc;
	memset(hdr, 0, sizeof *hdr);
	int have_version = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t k;
		struct wh_slice s;
		if ((rc = wh_mp_read_uint(r, &k)))
			return rc;
		switch (k) {
		case 1: {
			uint64_t v;
			if ((rc = wh_mp_read_uint(r, &v)))
				return rc;
			if (v != WH_OPFILE_VERSION)
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
			if ((rc = wh_mp_read_str(r, &s, sizeof hdr->scope - 1)))
				return rc;
			if (s.n && !wh_path_valid((const char *)s.p, s.n))
				return WH_EPATH;
			memcpy(hdr->scope, s.p, s.n);
			hdr->scope[s.n] = '\0';
			break;
		case 4:
			if ((rc = wh_mp_read_bin_fixed(r, hdr->writer,
						       WH_PK_BYTES)))
				return rc;
			break;
		default:
			if ((rc = wh_mp_skip(r, 4)))
				return rc;
		}
	}
	return have_version ? WH_OK : WH_EDECODE;
}

int wh_opfile_open(const uint8_t *p, size_t n, struct wh_opfile_hdr *hdr,
		   struct wh_opfile_reader *rd, size_t *err_off)
{
	*err_off = 0;
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
	uint64_t count = 0;
	while (wh_mp_peek(&r) == WH_MP_BIN) {
		struct wh_slice s;
		*err_off = (size_t)(r.p - p);
		if ((rc = wh_mp_read_bin(&r, &s, WH_OP_MAX_BYTES)))
			return rc;
		count++;
	}
	const uint8_t *records_end = r.p;
	*err_off = (size_t)(r.p - p);
	if (wh_mp_peek(&r) == WH_MP_NONE)
		return WH_ETRUNC;
	uint32_t an;
	uint64_t tcount;
	uint8_t sum[WH_ID_BYTES], want[WH_ID_BYTES];
	if ((rc = wh_mp_read_array(&r, &an, 2)) || an != 2 ||
	    (rc = wh_mp_read_uint(&r, &tcount)) ||
	    (rc = wh_mp_read_bin_fixed(&r, want, WH_ID_BYTES)))
		return rc == WH_ETRUNC ? WH_ETRUNC : WH_EDECODE;
	if (wh_mp_left(&r) != 0) {
		*err_off = (size_t)(r.p - p);
		return WH_EDECODE;
	}
	wh_hash(p, (size_t)(records_end - p), sum);
	if (memcmp(sum, want, WH_ID_BYTES) != 0 || tcount != count)
		return WH_ECHECKSUM;
	rd->p = p;
	rd->cur = records;
	rd->records_end = records_end;
	rd->count = count;
	rd->index = 0;
	*err_off = 0;
	return WH_OK;
}

int wh_opfile_next(struct wh_opfile_reader *rd, struct wh_slice *op,
		   size_t *off)
{
	if (rd->cur >= rd->records_end)
		return 0;
	struct wh_mp r;
	wh_mp_init(&r, rd->cur, (size_t)(rd->records_end - rd->cur));
	*off = (size_t)(rd->cur - rd->p);
	/* Checked by wh_opfile_open. */
	if (wh_mp_read_bin(&r, op, WH_OP_MAX_BYTES) != WH_OK)
		return 0;
	rd->cur = r.p;
	rd->index++;
	return 1;
}
