/*
 * test_opfile.c: op files round-trip, and any damage (truncation at any
 * length, any flipped bit, a count that lies) is refused before a single
 * op is handed out.
 */
#include "op.h"
#include "opfile.h"
#include "wh_test.h"

int main(void)
{
	REQUIRE(wh_crypto_init() == WH_OK);
	struct wh_key *k;
	REQUIRE(wh_key_generate(&k) == WH_OK);
	struct wh_buf ops = {0}, file = {0};
	size_t lens[20];
	struct wh_opfile_writer w;
	struct wh_opfile_hdr hdr = {.version = 1, .created_ms = 1};
	memcpy(hdr.writer, k->pk, 32);
	wh_opfile_begin(&w, &file, &hdr);
	for (int i = 0; i < 20; i++) {
		struct wh_op_draft d;
		size_t before = ops.len;
		wh_draft_init(&d, WH_OP_CASE_NOTE, "ZDY", (uint32_t)i + 1,
			      "xicheng/xinjiekou/zhaodengyu");
		wh_draft_str(&d, WH_F_TEXT, "居民反映楼下占道经营");
		d.hlc = WH_HLC_MAKE(1790000000000ull + (uint64_t)i, 0);
		REQUIRE(wh_op_build(&d, k, &ops) == WH_OK);
		lens[i] = ops.len - before;
		wh_opfile_add(&w, &file, ops.p + before, lens[i]);
	}
	wh_opfile_end(&w, &file);

	struct wh_opfile_hdr got;
	struct wh_opfile_reader rd;
	size_t off;
	REQUIRE(wh_opfile_open(file.p, file.len, &got, &rd, &off) == WH_OK);
	CHECK_EQ(rd.count, 20);
	CHECK(!memcmp(got.writer, k->pk, 32));
	struct wh_slice s;
	size_t at = 0;
	int i = 0;
	while (wh_opfile_next(&rd, &s, &off)) {
		CHECK(s.n == lens[i] && !memcmp(s.p, ops.p + at, s.n));
		CHECK(off > 0 && off < file.len);
		at += s.n;
		i++;
	}
	CHECK_EQ(i, 20);

	/* every truncation */
	for (size_t n = 0; n < file.len; n++) {
		int rc = wh_opfile_open(file.p, n, &got, &rd, &off);
		CHECK(rc != WH_OK);
		CHECK(off <= n);
	}
	/* every flipped bit */
	for (size_t b = 0; b < file.len; b++)
		for (int bit = 0; bit < 8; bit++) {
			file.p[b] ^= (uint8_t)(1u << bit);
			CHECK(wh_opfile_open(file.p, file.len, &got, &rd,
					     &off) != WH_OK);
			file.p[b] ^= (uint8_t)(1u << bit);
		}
	/* not an op file at all */
	const char *text = "id,title\n1,楼道堆物\n";
	CHECK_EQ(wh_opfile_open((const uint8_t *)text, strlen(text), &got,
				&rd, &off),
		 WH_EDECODE);
	/* an empty file (no ops) is fine */
	struct wh_buf empty = {0};
	wh_opfile_begin(&w, &empty, &hdr);
	wh_opfile_end(&w, &empty);
	CHECK_EQ(wh_opfile_open(empty.p, empty.len, &got, &rd, &off), WH_OK);
	CHECK_EQ(rd.count, 0);
	CHECK_EQ(wh_opfile_next(&rd, &s, &off), 0);
	wh_buf_fini(&empty);
	wh_buf_fini(&ops);
	wh_buf_fini(&file);
	wh_key_free(k);
	return wh_test_done("test_opfile");
}
