/*
 * mp.h: the one msgpack reader for untrusted bytes, and a thin writer.
 *
 * The reader is a cursor over a borrowed buffer. Every read checks the bytes
 * left before touching them, refuses lengths past the caller's limit and
 * insists on the canonical (shortest) form, so that one value has exactly
 * one encoding: ops are content-addressed by their bytes, and a second
 * spelling of the same op would be a second op. Slices it returns point
 * into the buffer and live as long as it does.
 *
 * The writer wraps msgpack-c's packer (which always emits shortest forms)
 * so that no other file needs msgpack.h.
 */
#ifndef WH_MP_H
#define WH_MP_H

#include "wh.h"

#include <stdbool.h>

enum wh_mp_type {
	WH_MP_NONE = 0, /* end of input */
	WH_MP_NIL,
	WH_MP_BOOL,
	WH_MP_UINT,
	WH_MP_NINT, /* negative integer */
	WH_MP_STR,
	WH_MP_BIN,
	WH_MP_ARRAY,
	WH_MP_MAP,
	WH_MP_OTHER /* float, ext, reserved: never valid in Whistle formats */
};

struct wh_mp {
	const uint8_t *p, *end;
	int own; /* our own stored bytes: strings skip the UTF-8 check */
};

static inline void wh_mp_init(struct wh_mp *r, const uint8_t *p, size_t n)
{
	r->p = p;
	r->end = p + n;
	r->own = 0;
}

/* For bytes this program wrote itself from validated input (stored case
 * views): every bound is still checked, but strings are not checked for
 * UTF-8 again, which was a quarter of a district-wide listing's time. */
static inline void wh_mp_init_own(struct wh_mp *r, const uint8_t *p,
				  size_t n)
{
	wh_mp_init(r, p, n);
	r->own = 1;
}

static inline size_t wh_mp_left(const struct wh_mp *r)
{
	return (size_t)(r->end - r->p);
}

/* Type of the next value without consuming it. */
enum wh_mp_type wh_mp_peek(const struct wh_mp *r);

/* Each reader consumes one value of its type or returns WH_ETRUNC,
 * WH_EDECODE (other type), WH_ETOOBIG (over max) or WH_ECANON, and on
 * error leaves the cursor where it was. */
WH_MUST_CHECK int wh_mp_read_nil(struct wh_mp *r);
WH_MUST_CHECK int wh_mp_read_bool(struct wh_mp *r, bool *v);
WH_MUST_CHECK int wh_mp_read_uint(struct wh_mp *r, uint64_t *v);
/* Any integer, positive or negative, that fits int64. */
WH_MUST_CHECK int wh_mp_read_int(struct wh_mp *r, int64_t *v);
/* Text: also WH_EUTF8 unless it is valid UTF-8 without NUL. */
WH_MUST_CHECK int wh_mp_read_str(struct wh_mp *r, struct wh_slice *s,
				 size_t max);
WH_MUST_CHECK int wh_mp_read_bin(struct wh_mp *r, struct wh_slice *s,
				 size_t max);
/* Exactly n bytes of bin. */
WH_MUST_CHECK int wh_mp_read_bin_fixed(struct wh_mp *r, uint8_t *out,
				       size_t n);
WH_MUST_CHECK int wh_mp_read_array(struct wh_mp *r, uint32_t *n,
				   uint32_t max);
WH_MUST_CHECK int wh_mp_read_map(struct wh_mp *r, uint32_t *n, uint32_t max);
/* Skip one value of any type, nested at most max_depth deep. */
WH_MUST_CHECK int wh_mp_skip(struct wh_mp *r, int max_depth);

/* The writer appends to a wh_buf; it cannot fail (OOM aborts). */
void wh_mpw_nil(struct wh_buf *b);
void wh_mpw_bool(struct wh_buf *b, bool v);
void wh_mpw_uint(struct wh_buf *b, uint64_t v);
void wh_mpw_int(struct wh_buf *b, int64_t v);
void wh_mpw_str(struct wh_buf *b, const void *p, size_t n);
void wh_mpw_cstr(struct wh_buf *b, const char *s);
void wh_mpw_bin(struct wh_buf *b, const void *p, size_t n);
void wh_mpw_array(struct wh_buf *b, uint32_t n);
void wh_mpw_map(struct wh_buf *b, uint32_t n);

#endif
