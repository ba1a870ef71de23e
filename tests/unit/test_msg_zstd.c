/*
 * test_msg_zstd.c: compressed OPS messages (WH_OPS_ZSTD, protocol
 * version 2). They round-trip, and the writer compresses only when it
 * pays. The decoder refuses every frame a hostile peer could make: a
 * declared size past WH_SYNC_MAX_MSG (before allocating anything), no
 * declared size, truncation, a declared size that differs from the
 * content, a second frame or trailing bytes, skippable frames, garbage,
 * content that is not an ops array (with the same error as the plain
 * form), a zip bomb; and every single bit flip of a real message either
 * decodes to something valid or is refused, never a crash (run under
 * ASan). Seed printed.
 */
#include "mp.h"
#include "msg.h"
#include "sync.h"
#include "wh_test.h"

#include <zstd.h>

static uint64_t rng;

static const char cjk[] = "楼道堆物堵塞消防通道小区门口占道经营老旧加装电梯"
			  "居住停车位不足夜间噪音扰民油烟排放污水外溢";
#define NCJK ((sizeof cjk - 1) / 3)

/* n op-like byte strings as bins (wh_msg_ops_add) into bins: 64 random
 * bytes (a signature does not compress), a path and 20-80 characters
 * of Chinese text, so that a batch compresses as W1's does. */
static void make_bins(size_t n, struct wh_buf *bins)
{
	for (size_t i = 0; i < n; i++) {
		struct wh_buf op = {0};
		uint8_t sig[64];
		for (size_t k = 0; k < sizeof sig; k++)
			sig[k] = (uint8_t)wh_test_rand(&rng);
		wh_buf_append(&op, sig, sizeof sig);
		wh_buf_append(&op, "xicheng/xinjiekou/zhaodengyu/g07", 32);
		size_t chars = 20 + (size_t)wh_test_below(&rng, 61);
		for (size_t c = 0; c < chars; c++)
			wh_buf_append(&op, cjk + 3 * wh_test_below(&rng, NCJK),
				      3);
		wh_msg_ops_add(bins, op.p, op.len);
		wh_buf_fini(&op);
	}
}

/* [6, flags, bin frame]: a compressed OPS around any bytes. */
static void zmsg(struct wh_buf *b, uint32_t flags, const uint8_t *f, size_t n)
{
	wh_buf_reset(b);
	wh_mpw_array(b, 3);
	wh_mpw_uint(b, WH_MSG_OPS);
	wh_mpw_uint(b, flags);
	wh_mpw_bin(b, f, n);
}

/* One zstd frame of src into out; with_size 0 leaves the content size
 * out of the header. */
static void zframe(const uint8_t *src, size_t n, int with_size,
		   struct wh_buf *out)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	REQUIRE(c);
	REQUIRE(!ZSTD_isError(
	    ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, with_size)));
	size_t cap = ZSTD_compressBound(n);
	wh_buf_reset(out);
	wh_buf_reserve(out, cap);
	size_t fn = ZSTD_compress2(c, out->p, cap, src, n);
	REQUIRE(!ZSTD_isError(fn));
	out->len = fn;
	ZSTD_freeCCtx(c);
}

/* The whole array [bin op, ...] of n ops whose bins are in bins. */
static void array_of(uint32_t n, const struct wh_buf *bins, struct wh_buf *out)
{
	wh_buf_reset(out);
	wh_mpw_array(out, n);
	wh_buf_append(out, bins->p, bins->len);
}

static int nothing_held(const struct wh_msg_zstd *z)
{
	return !z->buf && !z->cap && !z->dctx;
}

static void test_roundtrip(void)
{
	struct wh_buf bins = {0}, plain = {0}, packed = {0}, arr = {0};
	struct wh_msg_zstd wz = {0}, rz = {0};
	struct wh_msg m, p;
	make_bins(200, &bins);
	wh_msg_ops_pack(&plain, WH_OPS_PUSH, 200, bins.p, bins.len, NULL);
	wh_msg_ops_pack(&packed, WH_OPS_PUSH, 200, bins.p, bins.len, &wz);
	printf("200 ops: %zu bytes plain, %zu compressed\n", plain.len,
	       packed.len);
	CHECK(packed.len < plain.len * 3 / 4);
	REQUIRE(wh_msg_decode(plain.p, plain.len, NULL, &p) == WH_OK);
	CHECK_EQ(p.flags, WH_OPS_PUSH);
	REQUIRE(wh_msg_decode(packed.p, packed.len, &rz, &m) == WH_OK);
	CHECK_EQ(m.flags, WH_OPS_PUSH | WH_OPS_ZSTD);
	CHECK_EQ(m.n, 200);
	/* the content is exactly the array the plain form carries */
	array_of(200, &bins, &arr);
	CHECK(m.data.n == arr.len && !memcmp(m.data.p, arr.p, arr.len));
	CHECK(m.data.p >= rz.buf && m.data.p + m.data.n <= rz.buf + rz.cap);
	struct wh_slice a[200], b[200];
	wh_msg_ops(&m, a);
	wh_msg_ops(&p, b);
	for (int i = 0; i < 200; i++)
		CHECK(a[i].n == b[i].n && !memcmp(a[i].p, b[i].p, a[i].n));
	/* without a context the compressed form is refused */
	CHECK_EQ(wh_msg_decode(packed.p, packed.len, NULL, &m), WH_EDECODE);

	/* a sync answer, decoded with the same context (its buffer is
	 * reused: the earlier message's ops are gone) */
	wh_buf_reset(&bins);
	make_bins(50, &bins);
	wh_buf_reset(&packed);
	wh_msg_ops_pack(&packed, WH_OPS_SYNC, 50, bins.p, bins.len, &wz);
	REQUIRE(wh_msg_decode(packed.p, packed.len, &rz, &m) == WH_OK);
	CHECK_EQ(m.flags, WH_OPS_ZSTD);
	CHECK_EQ(m.n, 50);
	array_of(50, &bins, &arr);
	CHECK(m.data.n == arr.len && !memcmp(m.data.p, arr.p, arr.len));

	/* too small to bother: plain, even with a context */
	wh_buf_reset(&bins);
	make_bins(1, &bins);
	REQUIRE(bins.len + 1 < WH_MSG_ZSTD_MIN);
	wh_buf_reset(&packed);
	wh_msg_ops_pack(&packed, WH_OPS_PUSH, 1, bins.p, bins.len, &wz);
	REQUIRE(wh_msg_decode(packed.p, packed.len, NULL, &m) == WH_OK);
	CHECK_EQ(m.flags, WH_OPS_PUSH);
	CHECK_EQ(m.n, 1);

	/* does not compress: plain */
	uint8_t rnd[3000];
	for (size_t k = 0; k < sizeof rnd; k++)
		rnd[k] = (uint8_t)wh_test_rand(&rng);
	wh_buf_reset(&bins);
	wh_msg_ops_add(&bins, rnd, 1000);
	wh_msg_ops_add(&bins, rnd + 1000, 2000);
	wh_buf_reset(&packed);
	wh_msg_ops_pack(&packed, WH_OPS_SYNC, 2, bins.p, bins.len, &wz);
	REQUIRE(wh_msg_decode(packed.p, packed.len, NULL, &m) == WH_OK);
	CHECK_EQ(m.flags, WH_OPS_SYNC);
	CHECK(packed.len < 3000 + 16);

	/* the caller cannot set the flag itself on a plain message */
	wh_buf_reset(&bins);
	make_bins(30, &bins);
	wh_buf_reset(&packed);
	wh_msg_ops_pack(&packed, WH_OPS_PUSH | WH_OPS_ZSTD, 30, bins.p,
			bins.len, NULL);
	REQUIRE(wh_msg_decode(packed.p, packed.len, NULL, &m) == WH_OK);
	CHECK_EQ(m.flags, WH_OPS_PUSH);

	/* the op count limit holds inside the frame as outside */
	wh_buf_reset(&bins);
	for (uint32_t i = 0; i <= WH_MSG_MAX_OPS; i++)
		wh_msg_ops_add(&bins, (const uint8_t *)"x", 1);
	wh_buf_reset(&packed);
	wh_msg_ops_pack(&packed, 0, WH_MSG_MAX_OPS, bins.p, bins.len - 3,
			&wz); /* less the last bin, c4 01 'x' */
	REQUIRE(wh_msg_decode(packed.p, packed.len, &rz, &m) == WH_OK);
	CHECK_EQ(m.n, WH_MSG_MAX_OPS);
	CHECK(m.flags & WH_OPS_ZSTD);
	wh_buf_reset(&packed);
	wh_msg_ops_pack(&packed, 0, WH_MSG_MAX_OPS + 1, bins.p, bins.len, &wz);
	CHECK(wh_msg_decode(packed.p, packed.len, &rz, &m) == WH_ETOOBIG);

	wh_msg_zstd_fini(&wz);
	wh_msg_zstd_fini(&rz);
	wh_msg_zstd_fini(NULL);
	wh_buf_fini(&bins);
	wh_buf_fini(&plain);
	wh_buf_fini(&packed);
	wh_buf_fini(&arr);
}

/* Frames that claim more than a message may hold: refused before the
 * decoder allocates anything. */
static void test_too_big(void)
{
	struct wh_buf f = {0}, b = {0};
	struct wh_msg_zstd z = {0};
	struct wh_msg m;
	size_t n = WH_SYNC_MAX_MSG + 1;
	uint8_t *zeros = wh_xcalloc(n, 1);
	zframe(zeros, n, 1, &f);
	REQUIRE(ZSTD_getFrameContentSize(f.p, f.len) == n);
	zmsg(&b, WH_OPS_PUSH | WH_OPS_ZSTD, f.p, f.len);
	printf("4 MiB + 1 of zeros: a %zu-byte message\n", b.len);
	CHECK_EQ(wh_msg_decode(b.p, b.len, &z, &m), WH_ETOOBIG);
	CHECK(nothing_held(&z));

	/* a header alone that declares 2^40 bytes (single segment, 8-byte
	 * content size, then an empty last raw block) */
	static const uint8_t tera[] = {0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0, 0, 0,
				       0,    0,	   1,	 0,    0,    1, 0, 0};
	REQUIRE(ZSTD_getFrameContentSize(tera, sizeof tera) == 1ull << 40);
	zmsg(&b, WH_OPS_ZSTD, tera, sizeof tera);
	CHECK_EQ(wh_msg_decode(b.p, b.len, &z, &m), WH_ETOOBIG);
	CHECK(nothing_held(&z));

	/* The bomb at the limit: 4 MiB of zeros in a few hundred bytes.
	 * Inflating it is allowed (a plain message may be that big too);
	 * it is then refused as not an ops array. */
	zframe(zeros, WH_SYNC_MAX_MSG, 1, &f);
	zmsg(&b, WH_OPS_PUSH | WH_OPS_ZSTD, f.p, f.len);
	CHECK(b.len < 1024);
	CHECK_EQ(wh_msg_decode(b.p, b.len, &z, &m), WH_EDECODE);
	CHECK(z.cap <= WH_SYNC_MAX_MSG);

	/* 63 ops of 64 KiB of zeros: a valid array just under the limit,
	 * accepted (the store refuses such ops later, one by one) */
	struct wh_buf bins = {0};
	for (int i = 0; i < 63; i++)
		wh_msg_ops_add(&bins, zeros, WH_OP_MAX_BYTES);
	struct wh_msg_zstd wz = {0};
	wh_buf_reset(&b);
	wh_msg_ops_pack(&b, WH_OPS_PUSH, 63, bins.p, bins.len, &wz);
	CHECK(b.len < 4096);
	REQUIRE(wh_msg_decode(b.p, b.len, &z, &m) == WH_OK);
	CHECK_EQ(m.n, 63);
	CHECK(z.cap <= WH_SYNC_MAX_MSG);
	/* and a small message after it does not keep 4 MiB held */
	wh_buf_reset(&bins);
	make_bins(40, &bins);
	wh_buf_reset(&b);
	wh_msg_ops_pack(&b, WH_OPS_PUSH, 40, bins.p, bins.len, &wz);
	REQUIRE(wh_msg_decode(b.p, b.len, &z, &m) == WH_OK);
	CHECK(z.cap < (1u << 20));

	free(zeros);
	wh_msg_zstd_fini(&z);
	wh_msg_zstd_fini(&wz);
	wh_buf_fini(&bins);
	wh_buf_fini(&f);
	wh_buf_fini(&b);
}

/* A valid ops array of about 4 KiB, and its frame. */
static void sample(struct wh_buf *arr, struct wh_buf *f)
{
	struct wh_buf bins = {0};
	make_bins(20, &bins);
	array_of(20, &bins, arr);
	zframe(arr->p, arr->len, 1, f);
	wh_buf_fini(&bins);
}

static void test_no_size(void)
{
	struct wh_buf arr = {0}, f = {0}, b = {0};
	struct wh_msg_zstd z = {0};
	struct wh_msg m;
	sample(&arr, &f);
	zframe(arr.p, arr.len, 0, &f);
	REQUIRE(ZSTD_getFrameContentSize(f.p, f.len) ==
		ZSTD_CONTENTSIZE_UNKNOWN);
	zmsg(&b, WH_OPS_ZSTD, f.p, f.len);
	CHECK_EQ(wh_msg_decode(b.p, b.len, &z, &m), WH_EDECODE);
	CHECK(nothing_held(&z));
	/* a declared size of 0 (an empty frame) */
	zframe(arr.p, 0, 1, &f);
	REQUIRE(ZSTD_getFrameContentSize(f.p, f.len) == 0);
	zmsg(&b, WH_OPS_ZSTD, f.p, f.len);
	CHECK_EQ(wh_msg_decode(b.p, b.len, &z, &m), WH_EDECODE);
	CHECK(nothing_held(&z));
	wh_msg_zstd_fini(&z);
	wh_buf_fini(&arr);
	wh_buf_fini(&f);
	wh_buf_fini(&b);
}

static void test_truncated(void)
{
	struct wh_buf arr = {0}, f = {0}, b = {0}, two = {0};
	struct wh_msg_zstd z = {0};
	struct wh_msg m;
	sample(&arr, &f);
	zmsg(&b, WH_OPS_ZSTD, f.p, f.len);
	REQUIRE(wh_msg_decode(b.p, b.len, &z, &m) == WH_OK);
	size_t refused = 0;
	for (size_t k = 0; k < f.len; k++) {
		zmsg(&b, WH_OPS_ZSTD, f.p, k); /* a well-formed bin of less */
		int rc = wh_msg_decode(b.p, b.len, &z, &m);
		CHECK_EQ(rc, WH_EDECODE);
		refused += rc != WH_OK;
	}
	CHECK_EQ(refused, f.len);
	/* a byte after the frame; the frame twice */
	wh_buf_append(&two, f.p, f.len);
	wh_buf_append(&two, "", 1);
	zmsg(&b, WH_OPS_ZSTD, two.p, two.len);
	CHECK_EQ(wh_msg_decode(b.p, b.len, &z, &m), WH_EDECODE);
	two.len = f.len;
	wh_buf_append(&two, f.p, f.len);
	zmsg(&b, WH_OPS_ZSTD, two.p, two.len);
	CHECK_EQ(wh_msg_decode(b.p, b.len, &z, &m), WH_EDECODE);
	/* a skippable frame, alone and before the real one */
	static const uint8_t skip[] = {0x50, 0x2a, 0x4d, 0x18, 4, 0,
				       0,    0,	   1,	 2,    3, 4};
	zmsg(&b, WH_OPS_ZSTD, skip, sizeof skip);
	CHECK_EQ(wh_msg_decode(b.p, b.len, &z, &m), WH_EDECODE);
	wh_buf_reset(&two);
	wh_buf_append(&two, skip, sizeof skip);
	wh_buf_append(&two, f.p, f.len);
	zmsg(&b, WH_OPS_ZSTD, two.p, two.len);
	CHECK_EQ(wh_msg_decode(b.p, b.len, &z, &m), WH_EDECODE);
	/* after it, a skippable frame or an empty frame: zstd itself
	 * would decode both to exactly the declared size */
	wh_buf_reset(&two);
	wh_buf_append(&two, f.p, f.len);
	wh_buf_append(&two, skip, sizeof skip);
	zmsg(&b, WH_OPS_ZSTD, two.p, two.len);
	CHECK_EQ(wh_msg_decode(b.p, b.len, &z, &m), WH_EDECODE);
	struct wh_buf empty = {0};
	zframe(arr.p, 0, 1, &empty);
	two.len = f.len;
	wh_buf_append(&two, empty.p, empty.len);
	zmsg(&b, WH_OPS_ZSTD, two.p, two.len);
	CHECK_EQ(wh_msg_decode(b.p, b.len, &z, &m), WH_EDECODE);
	wh_buf_fini(&empty);
	wh_msg_zstd_fini(&z);
	wh_buf_fini(&arr);
	wh_buf_fini(&f);
	wh_buf_fini(&b);
	wh_buf_fini(&two);
}

/* Add d to the frame content size field of frame f, keeping its width
 * (RFC 8878, 3.1.1.1). */
static void patch_size(struct wh_buf *f, int d)
{
	static const size_t did_w[4] = {0, 1, 2, 4}, fcs_w[4] = {0, 2, 4, 8};
	uint8_t fhd = f->p[4];
	int single = (fhd >> 5) & 1;
	size_t off = 5 + (single ? 0 : 1) + did_w[fhd & 3];
	size_t w = (fhd >> 6) ? fcs_w[fhd >> 6] : (size_t)single;
	REQUIRE(w > 0);
	uint64_t v = 0;
	for (size_t i = 0; i < w; i++)
		v |= (uint64_t)f->p[off + i] << (8 * i);
	v += (uint64_t)(int64_t)d;
	for (size_t i = 0; i < w; i++)
		f->p[off + i] = (uint8_t)(v >> (8 * i));
}

/* Declared size off by one either way from a valid array's size. */
static void test_wrong_size(void)
{
	struct wh_buf arr = {0}, f = {0}, b = {0};
	struct wh_msg_zstd z = {0};
	struct wh_msg m;
	sample(&arr, &f);
	for (int d = -1; d <= 1; d += 2) {
		zframe(arr.p, arr.len, 1, &f);
		patch_size(&f, d);
		REQUIRE(ZSTD_getFrameContentSize(f.p, f.len) ==
			(unsigned long long)((long long)arr.len + d));
		zmsg(&b, WH_OPS_ZSTD, f.p, f.len);
		CHECK_EQ(wh_msg_decode(b.p, b.len, &z, &m), WH_EDECODE);
	}
	wh_msg_zstd_fini(&z);
	wh_buf_fini(&arr);
	wh_buf_fini(&f);
	wh_buf_fini(&b);
}

/* Content that is not an ops array: refused with the error the same
 * bytes get as a plain OPS. */
static void test_not_ops(void)
{
	struct wh_buf c = {0}, f = {0}, b = {0}, plain = {0};
	struct wh_msg_zstd z = {0};
	struct wh_msg m;
	for (int kind = 0; kind < 7; kind++) {
		wh_buf_reset(&c);
		switch (kind) {
		case 0: /* text */
			for (int i = 0; i < 1000; i++)
				wh_buf_append(&c, "a", 1);
			break;
		case 1: /* a valid array, then a byte */
			wh_mpw_array(&c, 1);
			wh_mpw_bin(&c, "op", 2);
			wh_buf_append(&c, "", 1);
			break;
		case 2: /* an empty op */
			wh_mpw_array(&c, 2);
			wh_mpw_bin(&c, "op", 2);
			wh_mpw_bin(&c, "", 0);
			break;
		case 3: /* ops as strings */
			wh_mpw_array(&c, 1);
			wh_mpw_cstr(&c, "op");
			break;
		case 4: /* an array16 header for 3 elements */
			wh_buf_append(&c,
				      "\xdc\x00\x03\xc4\x01x\xc4\x01y\xc4"
				      "\x01z",
				      12);
			break;
		case 5: /* more ops announced than there are */
			wh_mpw_array(&c, 3);
			wh_mpw_bin(&c, "op", 2);
			break;
		default: /* an op past 64 KiB */
			wh_mpw_array(&c, 1);
			uint8_t *big = wh_xcalloc(WH_OP_MAX_BYTES + 1, 1);
			wh_mpw_bin(&c, big, WH_OP_MAX_BYTES + 1);
			free(big);
			break;
		}
		wh_buf_reset(&plain);
		wh_mpw_array(&plain, 3);
		wh_mpw_uint(&plain, WH_MSG_OPS);
		wh_mpw_uint(&plain, WH_OPS_PUSH);
		wh_buf_append(&plain, c.p, c.len);
		int want = wh_msg_decode(plain.p, plain.len, NULL, &m);
		CHECK(want != WH_OK);
		zframe(c.p, c.len, 1, &f);
		zmsg(&b, WH_OPS_PUSH | WH_OPS_ZSTD, f.p, f.len);
		int rc = wh_msg_decode(b.p, b.len, &z, &m);
		CHECK_EQ(rc, want);
	}
	/* the flag on something other than a bin; unknown flags */
	wh_buf_reset(&b);
	wh_msg_ops_begin(&b, WH_OPS_ZSTD, 1);
	wh_msg_ops_add(&b, (const uint8_t *)"op", 2);
	CHECK_EQ(wh_msg_decode(b.p, b.len, &z, &m), WH_EDECODE);
	wh_buf_reset(&b);
	wh_msg_ops_begin(&b, 4, 1);
	wh_msg_ops_add(&b, (const uint8_t *)"op", 2);
	CHECK_EQ(wh_msg_decode(b.p, b.len, &z, &m), WH_EDECODE);
	wh_msg_zstd_fini(&z);
	wh_buf_fini(&c);
	wh_buf_fini(&f);
	wh_buf_fini(&b);
	wh_buf_fini(&plain);
}

/* What the decoder promises about a decoded compressed OPS. */
static void check_valid(const struct wh_msg *m, const struct wh_msg_zstd *z)
{
	CHECK(m->type == WH_MSG_OPS);
	CHECK(m->n <= WH_MSG_MAX_OPS);
	CHECK(m->data.p >= z->buf && m->data.p + m->data.n <= z->buf + z->cap);
	struct wh_slice *v = wh_xmalloc((m->n ? m->n : 1) * sizeof *v);
	wh_msg_ops(m, v);
	for (uint32_t i = 0; i < m->n; i++)
		CHECK(v[i].n >= 1 && v[i].p >= m->data.p &&
		      v[i].p + v[i].n <= m->data.p + m->data.n);
	free(v);
}

/* Garbage, and damage to a real message: refused or valid, never a
 * crash. */
static void test_garbage(void)
{
	struct wh_buf arr = {0}, f = {0}, b = {0}, g = {0};
	struct wh_msg_zstd z = {0};
	struct wh_msg m;
	sample(&arr, &f);
	for (int r = 0; r < 500; r++) {
		size_t n = 1 + (size_t)wh_test_below(&rng, 300);
		wh_buf_reset(&g);
		if (r % 2) /* past the magic number, at least */
			wh_buf_append(&g, f.p, 4);
		for (size_t k = 0; k < n; k++) {
			uint8_t c = (uint8_t)wh_test_rand(&rng);
			wh_buf_append(&g, &c, 1);
		}
		zmsg(&b, WH_OPS_ZSTD, g.p, g.len);
		CHECK(wh_msg_decode(b.p, b.len, &z, &m) != WH_OK);
	}
	zmsg(&b, WH_OPS_PUSH | WH_OPS_ZSTD, f.p, f.len);
	uint8_t *p = wh_xmalloc(b.len);
	size_t refused = 0, accepted = 0;
	for (size_t k = 0; k < b.len * 8; k++) {
		memcpy(p, b.p, b.len);
		p[k / 8] ^= (uint8_t)(1u << (k % 8));
		if (wh_msg_decode(p, b.len, &z, &m) == WH_OK) {
			if (m.type == WH_MSG_OPS && (m.flags & WH_OPS_ZSTD))
				check_valid(&m, &z);
			accepted++;
		} else {
			refused++;
		}
	}
	for (int r = 0; r < 2000; r++) {
		memcpy(p, b.p, b.len);
		for (int j = 0; j < 3; j++)
			p[wh_test_below(&rng, b.len)] =
			    (uint8_t)wh_test_rand(&rng);
		if (wh_msg_decode(p, b.len, &z, &m) == WH_OK &&
		    m.type == WH_MSG_OPS && (m.flags & WH_OPS_ZSTD))
			check_valid(&m, &z);
		CHECK(z.cap <= WH_SYNC_MAX_MSG);
	}
	printf("compressed OPS, %zu bytes: bit flips %zu refused, %zu still "
	       "valid\n",
	       b.len, refused, accepted);
	CHECK(refused > 0);
	free(p);
	wh_msg_zstd_fini(&z);
	wh_buf_fini(&arr);
	wh_buf_fini(&f);
	wh_buf_fini(&b);
	wh_buf_fini(&g);
}

int main(void)
{
	rng = wh_test_seed("test_msg_zstd");
	REQUIRE(wh_crypto_init() == WH_OK);
	test_roundtrip();
	test_too_big();
	test_no_size();
	test_truncated();
	test_wrong_size();
	test_not_ops();
	test_garbage();
	return wh_test_done("test_msg_zstd");
}
