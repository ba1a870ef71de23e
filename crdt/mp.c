/*
 * mp.c: bounded, canonical msgpack reading; writing through msgpack-c.
 *
 * Canonical means: integers in the shortest encoding for their value
 * (non-negative values always as unsigned), str/bin/array/map headers in
 * the shortest form for their length. A reader that accepted a longer
 * spelling would let a relay change an op's bytes without changing its
 * meaning; the signature would still catch it, but refusing it here keeps
 * one op, one encoding, one id.
 */
#include "mp.h"

#include <msgpack.h>
#include <string.h>

static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

enum wh_mp_type wh_mp_peek(const struct wh_mp *r)
{
	if (r->p >= r->end)
		return WH_MP_NONE;
	uint8_t c = *r->p;
	if (c <= 0x7f || c == 0xcc || c == 0xcd || c == 0xce || c == 0xcf)
		return WH_MP_UINT;
	if (c >= 0xe0 || (c >= 0xd0 && c <= 0xd3))
		return WH_MP_NINT;
	if ((c & 0xe0) == 0xa0 || c == 0xd9 || c == 0xda || c == 0xdb)
		return WH_MP_STR;
	if (c >= 0xc4 && c <= 0xc6)
		return WH_MP_BIN;
	if ((c & 0xf0) == 0x90 || c == 0xdc || c == 0xdd)
		return WH_MP_ARRAY;
	if ((c & 0xf0) == 0x80 || c == 0xde || c == 0xdf)
		return WH_MP_MAP;
	if (c == 0xc0)
		return WH_MP_NIL;
	if (c == 0xc2 || c == 0xc3)
		return WH_MP_BOOL;
	return WH_MP_OTHER;
}

int wh_mp_read_nil(struct wh_mp *r)
{
	if (r->p >= r->end)
		return WH_ETRUNC;
	if (*r->p != 0xc0)
		return WH_EDECODE;
	r->p++;
	return WH_OK;
}

int wh_mp_read_bool(struct wh_mp *r, bool *v)
{
	if (r->p >= r->end)
		return WH_ETRUNC;
	if (*r->p != 0xc2 && *r->p != 0xc3)
		return WH_EDECODE;
	*v = *r->p == 0xc3;
	r->p++;
	return WH_OK;
}

int wh_mp_read_uint(struct wh_mp *r, uint64_t *v)
{
	if (r->p >= r->end)
		return WH_ETRUNC;
	uint8_t c = *r->p;
	int n;
	uint64_t min;
	if (c <= 0x7f) {
		*v = c;
		r->p++;
		return WH_OK;
	}
	switch (c) {
	case 0xcc: n = 1, min = 0x80; break;
	case 0xcd: n = 2, min = 0x100; break;
	case 0xce: n = 4, min = 0x10000; break;
	case 0xcf: n = 8, min = 0x100000000ull; break;
	default: return WH_EDECODE;
	}
	if (wh_mp_left(r) < (size_t)n + 1)
		return WH_ETRUNC;
	uint64_t x = be(r->p + 1, n);
	if (x < min)
		return WH_ECANON;
	*v = x;
	r->p += n + 1;
	return WH_OK;
}

int wh_mp_read_int(struct wh_mp *r, int64_t *v)
{
	if (r->p >= r->end)
		return WH_ETRUNC;
	uint8_t c = *r->p;
	if (wh_mp_peek(r) == WH_MP_UINT) {
		struct wh_mp save = *r;
		uint64_t u;
		int rc = wh_mp_read_uint(r, &u);
		if (rc)
			return rc;
		if (u > INT64_MAX) {
			*r = save;
			return WH_ETOOBIG;
		}
		*v = (int64_t)u;
		return WH_OK;
	}
	if (c >= 0xe0) {
		*v = (int8_t)c;
		r->p++;
		return WH_OK;
	}
	int n;
	int64_t lo;
	switch (c) {
	case 0xd0: n = 1, lo = -32; break;
	case 0xd1: n = 2, lo = INT8_MIN; break;
	case 0xd2: n = 4, lo = INT16_MIN; break;
	case 0xd3: n = 8, lo = INT32_MIN; break;
	default: return WH_EDECODE;
	}
	if (wh_mp_left(r) < (size_t)n + 1)
		return WH_ETRUNC;
	uint64_t x = be(r->p + 1, n);
	int64_t s;
	switch (n) {
	case 1: s = (int8_t)x; break;
	case 2: s = (int16_t)x; break;
	case 4: s = (int32_t)x; break;
	default: s = (int64_t)x; break;
	}
	/* Shortest form: a value that fits the next smaller signed width (or
	 * is non-negative, which must be unsigned) is not canonical here. */
	if (s >= lo)
		return WH_ECANON;
	*v = s;
	r->p += n + 1;
	return WH_OK;
}

/* Read a length header: the fix form (fixbase with the length in the
 * fixmask bits; fixmask 0 if the type has none) or the 8/16/32-bit forms at
 * codes c8/c16/c32 (c8 0 if absent), each refused where a shorter form fits. */
static int read_len(struct wh_mp *r, uint8_t fixbase, uint8_t fixmask,
		    uint32_t fixmax, uint8_t c8, uint8_t c16, uint8_t c32,
		    uint32_t *len, size_t *hdr)
{
	if (r->p >= r->end)
		return WH_ETRUNC;
	uint8_t c = *r->p;
	if (fixmask && (c & (uint8_t)~fixmask) == fixbase) {
		*len = c & fixmask;
		*hdr = 1;
		return WH_OK;
	}
	int n;
	uint32_t min;
	if (c8 && c == c8)
		n = 1, min = fixmask ? fixmax + 1 : 0;
	else if (c == c16)
		n = 2, min = c8 ? 0x100 : fixmax + 1;
	else if (c == c32)
		n = 4, min = 0x10000;
	else
		return WH_EDECODE;
	if (wh_mp_left(r) < (size_t)n + 1)
		return WH_ETRUNC;
	uint32_t x = (uint32_t)be(r->p + 1, n);
	if (x < min)
		return WH_ECANON;
	*len = x;
	*hdr = (size_t)n + 1;
	return WH_OK;
}

static int read_bytes(struct wh_mp *r, int is_str, struct wh_slice *s,
		      size_t max)
{
	uint32_t len;
	size_t hdr;
	int rc = is_str ? read_len(r, 0xa0, 0x1f, 31, 0xd9, 0xda, 0xdb, &len,
				   &hdr)
			: read_len(r, 0, 0, 0, 0xc4, 0xc5, 0xc6, &len, &hdr);
	if (rc)
		return rc;
	if (len > max)
		return WH_ETOOBIG;
	if (wh_mp_left(r) - hdr < len)
		return WH_ETRUNC;
	const uint8_t *p = r->p + hdr;
	if (is_str && !r->own && !wh_utf8_valid(p, len))
		return WH_EUTF8;
	s->p = p;
	s->n = len;
	r->p = p + len;
	return WH_OK;
}

int wh_mp_read_str(struct wh_mp *r, struct wh_slice *s, size_t max)
{
	return read_bytes(r, 1, s, max);
}

int wh_mp_read_bin(struct wh_mp *r, struct wh_slice *s, size_t max)
{
	return read_bytes(r, 0, s, max);
}

int wh_mp_read_bin_fixed(struct wh_mp *r, uint8_t *out, size_t n)
{
	struct wh_mp save = *r;
	struct wh_slice s;
	int rc = read_bytes(r, 0, &s, n);
	if (rc)
		return rc;
	if (s.n != n) {
		*r = save;
		return WH_EDECODE;
	}
	memcpy(out, s.p, n);
	return WH_OK;
}

int wh_mp_read_array(struct wh_mp *r, uint32_t *n, uint32_t max)
{
	size_t hdr;
	uint32_t len;
	int rc = read_len(r, 0x90, 0x0f, 15, 0, 0xdc, 0xdd, &len, &hdr);
	if (rc)
		return rc;
	if (len > max)
		return WH_ETOOBIG;
	/* Each element takes at least one byte: a header that promises more
	 * elements than bytes left is a lie, refused before anyone loops. */
	if (len > wh_mp_left(r) - hdr)
		return WH_ETRUNC;
	r->p += hdr;
	*n = len;
	return WH_OK;
}

int wh_mp_read_map(struct wh_mp *r, uint32_t *n, uint32_t max)
{
	size_t hdr;
	uint32_t len;
	int rc = read_len(r, 0x80, 0x0f, 15, 0, 0xde, 0xdf, &len, &hdr);
	if (rc)
		return rc;
	if (len > max)
		return WH_ETOOBIG;
	if ((uint64_t)len * 2 > wh_mp_left(r) - hdr)
		return WH_ETRUNC;
	r->p += hdr;
	*n = len;
	return WH_OK;
}

int wh_mp_skip(struct wh_mp *r, int max_depth)
{
	struct wh_mp save = *r;
	struct wh_slice s;
	uint64_t u;
	int64_t i;
	bool b;
	uint32_t n;
	int rc;
	switch (wh_mp_peek(r)) {
	case WH_MP_NONE: return WH_ETRUNC;
	case WH_MP_NIL: return wh_mp_read_nil(r);
	case WH_MP_BOOL: return wh_mp_read_bool(r, &b);
	case WH_MP_UINT: return wh_mp_read_uint(r, &u);
	case WH_MP_NINT: return wh_mp_read_int(r, &i);
	case WH_MP_STR: return wh_mp_read_str(r, &s, SIZE_MAX);
	case WH_MP_BIN: return wh_mp_read_bin(r, &s, SIZE_MAX);
	case WH_MP_ARRAY:
	case WH_MP_MAP:
		if (max_depth <= 0)
			return WH_ETOOBIG;
		if (wh_mp_peek(r) == WH_MP_ARRAY)
			rc = wh_mp_read_array(r, &n, UINT32_MAX);
		else
			rc = wh_mp_read_map(r, &n, UINT32_MAX / 2);
		if (rc)
			return rc;
		uint64_t items = wh_mp_peek(&save) == WH_MP_MAP ? 2ull * n : n;
		for (uint64_t k = 0; k < items; k++) {
			rc = wh_mp_skip(r, max_depth - 1);
			if (rc) {
				*r = save;
				return rc;
			}
		}
		return WH_OK;
	default: return WH_EDECODE;
	}
}

/* Writer: msgpack-c packer appending into a wh_buf. */
static int buf_write(void *data, const char *p, size_t n)
{
	wh_buf_append(data, p, n);
	return 0;
}

#define PK(b) msgpack_packer pk; msgpack_packer_init(&pk, (b), buf_write)

void wh_mpw_nil(struct wh_buf *b) { PK(b); (void)msgpack_pack_nil(&pk); }

void wh_mpw_bool(struct wh_buf *b, bool v)
{
	PK(b);
	(void)(v ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk));
}

void wh_mpw_uint(struct wh_buf *b, uint64_t v)
{
	PK(b);
	(void)msgpack_pack_uint64(&pk, v);
}

void wh_mpw_int(struct wh_buf *b, int64_t v)
{
	PK(b);
	(void)msgpack_pack_int64(&pk, v);
}

void wh_mpw_str(struct wh_buf *b, const void *p, size_t n)
{
	PK(b);
	(void)msgpack_pack_str(&pk, n);
	(void)msgpack_pack_str_body(&pk, p, n);
}

void wh_mpw_cstr(struct wh_buf *b, const char *s)
{
	wh_mpw_str(b, s, strlen(s));
}

void wh_mpw_bin(struct wh_buf *b, const void *p, size_t n)
{
	PK(b);
	(void)msgpack_pack_bin(&pk, n);
	(void)msgpack_pack_bin_body(&pk, p, n);
}

void wh_mpw_array(struct wh_buf *b, uint32_t n)
{
	PK(b);
	(void)msgpack_pack_array(&pk, n);
}

void wh_mpw_map(struct wh_buf *b, uint32_t n)
{
	PK(b);
	(void)msgpack_pack_map(&pk, n);
}
