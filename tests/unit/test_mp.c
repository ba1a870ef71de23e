/*
 * test_mp.c: the bounded msgpack reader accepts exactly the canonical
 * encodings msgpack-c writes and refuses everything else with the right
 * code, without reading past the end.
 */
#include "mp.h"
#include "wh_test.h"

static int read_uint_bytes(const uint8_t *p, size_t n, uint64_t *v)
{
	struct wh_mp r;
	wh_mp_init(&r, p, n);
	int rc = wh_mp_read_uint(&r, v);
	if (rc == WH_OK && wh_mp_left(&r) != 0)
		return 99;
	return rc;
}

static void roundtrip_uints(void)
{
	static const uint64_t vals[] = {0, 1, 127, 128, 255, 256, 65535,
					65536, 0xffffffffull, 0x100000000ull,
					UINT64_MAX};
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		struct wh_buf b = {0};
		wh_mpw_uint(&b, vals[i]);
		uint64_t v = 0;
		CHECK_EQ(read_uint_bytes(b.p, b.len, &v), WH_OK);
		CHECK(v == vals[i]);
		/* every strict prefix is truncated */
		for (size_t k = 0; k < b.len; k++)
			CHECK_EQ(read_uint_bytes(b.p, k, &v), WH_ETRUNC);
		wh_buf_fini(&b);
	}
}

static void refuse_non_canonical(void)
{
	uint64_t v;
	const uint8_t u8_small[] = {0xcc, 0x05};
	const uint8_t u16_small[] = {0xcd, 0x00, 0xff};
	const uint8_t u32_small[] = {0xce, 0x00, 0x00, 0xff, 0xff};
	const uint8_t u64_small[] = {0xcf, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
	CHECK_EQ(read_uint_bytes(u8_small, 2, &v), WH_ECANON);
	CHECK_EQ(read_uint_bytes(u16_small, 3, &v), WH_ECANON);
	CHECK_EQ(read_uint_bytes(u32_small, 5, &v), WH_ECANON);
	CHECK_EQ(read_uint_bytes(u64_small, 9, &v), WH_ECANON);

	struct wh_mp r;
	struct wh_slice s;
	const uint8_t str8_short[] = {0xd9, 0x01, 'a'};
	wh_mp_init(&r, str8_short, 3);
	CHECK_EQ(wh_mp_read_str(&r, &s, 100), WH_ECANON);
	CHECK(r.p == str8_short); /* cursor untouched on error */

	const uint8_t arr16_short[] = {0xdc, 0x00, 0x01, 0x01};
	uint32_t n;
	wh_mp_init(&r, arr16_short, 4);
	CHECK_EQ(wh_mp_read_array(&r, &n, 100), WH_ECANON);

	int64_t i;
	const uint8_t int8_pos[] = {0xd0, 0x05};
	const uint8_t int8_fix[] = {0xd0, 0xf0}; /* -16 fits negative fixint */
	wh_mp_init(&r, int8_pos, 2);
	CHECK_EQ(wh_mp_read_int(&r, &i), WH_ECANON);
	wh_mp_init(&r, int8_fix, 2);
	CHECK_EQ(wh_mp_read_int(&r, &i), WH_ECANON);
}

static void ints_roundtrip(void)
{
	static const int64_t vals[] = {0, -1, -32, -33, -128, -129, -32768,
				       -32769, INT32_MIN, (int64_t)INT32_MIN - 1,
				       INT64_MIN, 5, INT64_MAX};
	for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
		struct wh_buf b = {0};
		wh_mpw_int(&b, vals[k]);
		struct wh_mp r;
		int64_t v = 1;
		wh_mp_init(&r, b.p, b.len);
		CHECK_EQ(wh_mp_read_int(&r, &v), WH_OK);
		CHECK(v == vals[k]);
		CHECK_EQ(wh_mp_left(&r), 0);
		wh_buf_fini(&b);
	}
}

static void strings_and_limits(void)
{
	struct wh_buf b = {0};
	const char *zh = "楼道堆物堵塞消防通道";
	wh_mpw_cstr(&b, zh);
	struct wh_mp r;
	struct wh_slice s;
	wh_mp_init(&r, b.p, b.len);
	CHECK_EQ(wh_mp_read_str(&r, &s, 100), WH_OK);
	CHECK(s.n == strlen(zh) && !memcmp(s.p, zh, s.n));
	wh_mp_init(&r, b.p, b.len);
	CHECK_EQ(wh_mp_read_str(&r, &s, 10), WH_ETOOBIG);
	wh_buf_reset(&b);

	const uint8_t bad_utf8[] = {0xa3, 'a', 0xff, 'b'};
	wh_mp_init(&r, bad_utf8, sizeof bad_utf8);
	CHECK_EQ(wh_mp_read_str(&r, &s, 100), WH_EUTF8);
	const uint8_t overlong[] = {0xa2, 0xc0, 0xaf};
	wh_mp_init(&r, overlong, sizeof overlong);
	CHECK_EQ(wh_mp_read_str(&r, &s, 100), WH_EUTF8);
	const uint8_t surrogate[] = {0xa3, 0xed, 0xa0, 0x80};
	wh_mp_init(&r, surrogate, sizeof surrogate);
	CHECK_EQ(wh_mp_read_str(&r, &s, 100), WH_EUTF8);
	const uint8_t nul[] = {0xa1, 0x00};
	wh_mp_init(&r, nul, sizeof nul);
	CHECK_EQ(wh_mp_read_str(&r, &s, 100), WH_EUTF8);

	/* A header that claims more than the buffer holds. */
	const uint8_t huge_str[] = {0xdb, 0x7f, 0xff, 0xff, 0xff, 'x'};
	wh_mp_init(&r, huge_str, sizeof huge_str);
	CHECK_EQ(wh_mp_read_str(&r, &s, SIZE_MAX), WH_ETRUNC);
	const uint8_t huge_arr[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0x01};
	uint32_t n;
	wh_mp_init(&r, huge_arr, sizeof huge_arr);
	CHECK_EQ(wh_mp_read_array(&r, &n, UINT32_MAX), WH_ETRUNC);
	wh_mp_init(&r, huge_arr, sizeof huge_arr);
	CHECK_EQ(wh_mp_read_array(&r, &n, 16), WH_ETOOBIG);
	const uint8_t huge_map[] = {0xdf, 0x00, 0x01, 0x00, 0x00, 0x01};
	wh_mp_init(&r, huge_map, sizeof huge_map);
	CHECK_EQ(wh_mp_read_map(&r, &n, UINT32_MAX), WH_ETRUNC);

	/* Floats and ext types never appear in Whistle formats. */
	const uint8_t flt[] = {0xca, 0, 0, 0, 0};
	wh_mp_init(&r, flt, sizeof flt);
	CHECK(wh_mp_peek(&r) == WH_MP_OTHER);
	CHECK_EQ(wh_mp_skip(&r, 4), WH_EDECODE);
	wh_buf_fini(&b);
}

static void skip_depth(void)
{
	/* [[[[1]]]] is four deep */
	const uint8_t deep[] = {0x91, 0x91, 0x91, 0x91, 0x01};
	struct wh_mp r;
	wh_mp_init(&r, deep, sizeof deep);
	CHECK_EQ(wh_mp_skip(&r, 3), WH_ETOOBIG);
	CHECK(r.p == deep);
	wh_mp_init(&r, deep, sizeof deep);
	CHECK_EQ(wh_mp_skip(&r, 4), WH_OK);
	CHECK_EQ(wh_mp_left(&r), 0);
}

static void fuzzish(void)
{
	/* Random bytes never make the reader run past the end or crash;
	 * under ASan this is a small standing fuzz run. */
	uint64_t seed = wh_test_seed("test_mp");
	uint8_t buf[64];
	for (int it = 0; it < 200000; it++) {
		size_t n = wh_test_below(&seed, sizeof buf);
		for (size_t k = 0; k < n; k++)
			buf[k] = (uint8_t)wh_test_rand(&seed);
		struct wh_mp r;
		wh_mp_init(&r, buf, n);
		int rc = wh_mp_skip(&r, 8);
		CHECK(r.p <= buf + n);
		(void)rc;
	}
}

int main(void)
{
	roundtrip_uints();
	refuse_non_canonical();
	ints_roundtrip();
	strings_and_limits();
	skip_depth();
	fuzzish();
	return wh_test_done("test_mp");
}
