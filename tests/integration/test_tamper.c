/*
 * test_tamper.c: nothing damaged, forged or malformed gets into a store,
 * and each refusal carries its own error code.
 *
 * A store holds a small case. Against it:
 *   - every single-bit flip of a valid status op, and every truncation,
 *     is refused (any refusal code; WH_ETRUNC below the minimum size);
 *   - hand-crafted ops, each wrong in exactly one way and otherwise
 *     correctly signed, are refused with that way's code (wrong signer,
 *     far future, oversized field and op, bad UTF-8, unknown kind, version
 *     2, non-canonical msgpack, bad path, bad code, bad body);
 *   - the crafting code is proven first: with nothing wrong it produces
 *     the very bytes wh_op_build does, and the store accepts them;
 *   - a refused op in an all-or-none batch stores nothing of the batch;
 *     a policy refusal stores nothing.
 * After every refusal the store's digests, views hash and counts are
 * unchanged. Hand-crafting follows docs/protocol.md: E = fixarray(7)
 * [version, kind, [code, seq], path, author bin32, hlc, body map],
 * op = E || Ed25519(E).
 */
#include "gen.h"

#define PATH "xicheng/xinjiekou/zhaodengyu/g07"
#define T0 GEN_BASE_MS
#define NOW (T0 + 3600000ull)
#define ANY_REFUSAL 1 /* not an error code: "refused, whatever why" */

static struct wh_key *ka, *kb;
static struct wh_store *st;
static struct gen_snap before;

/* ---- crafting ops by hand ---- */

/* The seven elements of E, each already encoded; a test overwrites one
 * and seals. */
struct craft {
	struct wh_buf el[7];
	struct wh_buf body_extra; /* raw bytes appended after E (inside) */
};

static void el_uint(struct craft *c, int i, uint64_t v)
{
	wh_buf_reset(&c->el[i]);
	wh_mpw_uint(&c->el[i], v);
}

static void el_raw(struct craft *c, int i, const void *p, size_t n)
{
	wh_buf_reset(&c->el[i]);
	wh_buf_append(&c->el[i], p, n);
}

static void el_id(struct craft *c, const char *code, uint64_t seq)
{
	wh_buf_reset(&c->el[2]);
	wh_mpw_array(&c->el[2], 2);
	wh_mpw_cstr(&c->el[2], code);
	wh_mpw_uint(&c->el[2], seq);
}

static void el_str(struct craft *c, int i, const void *p, size_t n)
{
	wh_buf_reset(&c->el[i]);
	wh_mpw_str(&c->el[i], p, n);
}

/* The status change XJK-ZDY-000001 accepted -> in_progress by ka. */
static void craft_status(struct craft *c, wh_hlc_ts hlc)
{
	memset(c, 0, sizeof *c);
	el_uint(c, 0, WH_OP_VERSION);
	el_uint(c, 1, WH_OP_CASE_STATUS);
	el_id(c, "XJK-ZDY", 1);
	el_str(c, 3, PATH, strlen(PATH));
	wh_mpw_bin(&c->el[4], ka->pk, WH_PK_BYTES);
	el_uint(c, 5, hlc);
	wh_mpw_map(&c->el[6], 2);
	wh_mpw_uint(&c->el[6], WH_F_TO);
	wh_mpw_uint(&c->el[6], WH_ST_IN_PROGRESS);
	wh_mpw_uint(&c->el[6], WH_F_FROM);
	wh_mpw_uint(&c->el[6], WH_ST_ACCEPTED);
}

/* Body of a create with one title of n bytes at p. */
static void body_title(struct craft *c, const void *p, size_t n)
{
	el_uint(c, 1, WH_OP_CASE_CREATE);
	el_id(c, "XJK-ZDY", 2);
	wh_buf_reset(&c->el[6]);
	wh_mpw_map(&c->el[6], 1);
	wh_mpw_uint(&c->el[6], WH_F_TITLE);
	wh_mpw_str(&c->el[6], p, n);
}

/* Assemble E with 'nel' elements (7 unless testing the array), sign it
 * with 'signer' and append the signature. */
static void seal_n(struct craft *c, const struct wh_key *signer, int nel,
		   struct wh_buf *out)
{
	wh_buf_reset(out);
	wh_mpw_array(out, (uint32_t)nel);
	for (int i = 0; i < nel && i < 7; i++)
		wh_buf_append(out, c->el[i].p, c->el[i].len);
	for (int i = 7; i < nel; i++)
		wh_mpw_uint(out, 0);
	if (c->body_extra.len)
		wh_buf_append(out, c->body_extra.p, c->body_extra.len);
	uint8_t sig[WH_SIG_BYTES];
	wh_key_sign(signer, out->p, out->len, sig);
	wh_buf_append(out, sig, WH_SIG_BYTES);
}

static void seal(struct craft *c, const struct wh_key *signer,
		 struct wh_buf *out)
{
	seal_n(c, signer, 7, out);
}

static void craft_fini(struct craft *c)
{
	for (int i = 0; i < 7; i++)
		wh_buf_fini(&c->el[i]);
	wh_buf_fini(&c->body_extra);
}

/* ---- the store ---- */

static void snap_unchanged(const char *what)
{
	struct gen_snap now;
	gen_snap(st, &now);
	if (!gen_snap_eq(&before, &now, what))
		CHECK(0);
}

/*
 * Offer one op; it must be refused with 'want' (or, with ANY_REFUSAL,
 * anything but WH_OK and WH_EEXIST), and nothing may change. Returns
 * the code it got.
 */
static int refuse(const uint8_t *p, size_t n, int want, const char *what,
		  int check_snap)
{
	struct wh_slice sl = {p, n};
	struct wh_ingest_opts io = {.now_ms = NOW};
	struct wh_ingest_result r;
	int res = 12345;
	int rc = wh_store_ingest(st, &sl, 1, &io, &res, &r);
	CHECK_EQ(rc, WH_OK);
	int ok = want == ANY_REFUSAL ? res != WH_OK && res != WH_EEXIST
				     : res == want;
	if (!ok) {
		fprintf(stderr, "%s: got %d (%s), want %d (%s)\n", what, res,
			wh_strerror(res), want,
			want == ANY_REFUSAL ? "any refusal"
					    : wh_strerror(want));
		CHECK(0);
	}
	CHECK_EQ(r.added, 0);
	CHECK_EQ(r.known, 0);
	CHECK_EQ(r.refused, 1);
	CHECK_EQ(r.first_refused, 0);
	CHECK_EQ(r.first_refused_error, res);
	if (check_snap)
		snap_unchanged(what);
	return res;
}

static void accept(const uint8_t *p, size_t n, const char *what)
{
	struct wh_slice sl = {p, n};
	struct wh_ingest_opts io = {.now_ms = NOW};
	int res = 12345;
	CHECK_EQ(wh_store_ingest(st, &sl, 1, &io, &res, NULL), WH_OK);
	if (res != WH_OK)
		fprintf(stderr, "%s: refused: %s\n", what, wh_strerror(res));
	CHECK_EQ(res, WH_OK);
}

static void build(struct wh_op_draft *d, const struct wh_key *k, wh_hlc_ts hlc,
		  struct wh_buf *out)
{
	d->hlc = hlc;
	wh_buf_reset(out);
	REQUIRE(wh_op_build(d, k, out) == WH_OK);
}

/* The case the store holds before the attacks: created, a tag, and
 * accepted. */
static void setup(void)
{
	struct wh_op_draft d;
	struct wh_buf b = {0};
	wh_draft_init(&d, WH_OP_CASE_CREATE, "XJK-ZDY", 1, PATH);
	wh_draft_str(&d, WH_F_TITLE, "楼道堆物堵塞消防通道");
	wh_draft_str(&d, WH_F_DESCRIPTION, "3号楼2单元楼道内堆放大量纸箱。");
	wh_draft_uint(&d, WH_F_SOURCE, WH_SRC_PATROL);
	build(&d, ka, WH_HLC_MAKE(T0, 0), &b);
	accept(b.p, b.len, "create");
	wh_draft_init(&d, WH_OP_TAG_ADD, "XJK-ZDY", 1, PATH);
	wh_draft_uint(&d, WH_F_SET, WH_SET_TAGS);
	wh_draft_str(&d, WH_F_TAG, "消防");
	build(&d, kb, WH_HLC_MAKE(T0 + 1000, 0), &b);
	accept(b.p, b.len, "tag");
	wh_draft_init(&d, WH_OP_CASE_STATUS, "XJK-ZDY", 1, PATH);
	wh_draft_uint(&d, WH_F_FROM, WH_ST_NEW);
	wh_draft_uint(&d, WH_F_TO, WH_ST_ACCEPTED);
	build(&d, kb, WH_HLC_MAKE(T0 + 2000, 0), &b);
	accept(b.p, b.len, "accept");
	wh_buf_fini(&b);
	gen_snap(st, &before);
	CHECK_EQ(before.info.ops, 3);
	CHECK_EQ(before.info.cases, 1);
}

/* Every bit flip and every truncation of a valid op is refused. */
static void flips_and_truncations(const struct wh_buf *v)
{
	uint8_t *p = wh_xmalloc(v->len);
	size_t by_code[-WH_ERR_MIN + 1] = {0};
	memcpy(p, v->p, v->len);
	for (size_t i = 0; i < v->len; i++)
		for (int bit = 0; bit < 8; bit++) {
			char what[64];
			snprintf(what, sizeof what, "flip byte %zu bit %d", i,
				 bit);
			p[i] ^= (uint8_t)(1u << bit);
			/* a full snapshot every 16th flip; counts always */
			int rc = refuse(p, v->len, ANY_REFUSAL, what,
					(i * 8 + (size_t)bit) % 16 == 0);
			if (rc < 0 && rc >= WH_ERR_MIN)
				by_code[-rc]++;
			p[i] ^= (uint8_t)(1u << bit);
		}
	printf("bit flips of a %zu-byte op: %zu refused:", v->len, v->len * 8);
	for (int k = 1; k <= -WH_ERR_MIN; k++)
		if (by_code[k])
			printf(" %s %zu", wh_strerror(-k), by_code[k]);
	printf("\n");
	/* flips in the signature and the signed bytes that still decode are
	 * caught by the signature */
	CHECK(by_code[-WH_ESIG] >= WH_SIG_BYTES * 8);

	memset(by_code, 0, sizeof by_code);
	for (size_t n = 0; n < v->len; n++) {
		char what[64];
		snprintf(what, sizeof what, "truncated to %zu", n);
		int want = n < WH_SIG_BYTES + 8 ? WH_ETRUNC : ANY_REFUSAL;
		int rc = refuse(p, n, want, what, n % 8 == 0);
		if (rc < 0 && rc >= WH_ERR_MIN)
			by_code[-rc]++;
	}
	printf("truncations:");
	for (int k = 1; k <= -WH_ERR_MIN; k++)
		if (by_code[k])
			printf(" %s %zu", wh_strerror(-k), by_code[k]);
	printf("\n");
	/* one byte more is not the same op either */
	uint8_t *q = wh_xmalloc(v->len + 1);
	memcpy(q, v->p, v->len);
	q[v->len] = 0;
	refuse(q, v->len + 1, ANY_REFUSAL, "one byte appended", 1);
	free(q);
	snap_unchanged("after flips");
	free(p);
}

struct bad {
	const char *what;
	int want;
};

static void crafted(const struct wh_buf *v, struct wh_buf *good)
{
	struct craft c;
	struct wh_buf out = {0};
	wh_hlc_ts hlc = WH_HLC_MAKE(T0 + 5000, 0);

	/* the crafting code is right: same bytes as wh_op_build (and the
	 * store takes them: accepted() ingests 'good' last) */
	craft_status(&c, hlc);
	seal(&c, ka, &out);
	wh_buf_reset(good);
	wh_buf_append(good, out.p, out.len);
	CHECK_EQ(out.len, v->len);
	CHECK(out.len == v->len && !memcmp(out.p, v->p, v->len));
	craft_fini(&c);

	/* signed by the wrong key */
	craft_status(&c, hlc);
	seal(&c, kb, &out);
	refuse(out.p, out.len, WH_ESIG, "signed by another key", 1);
	craft_fini(&c);
	/* the author field swapped for another key, signature kept */
	craft_status(&c, hlc);
	wh_buf_reset(&c.el[4]);
	wh_mpw_bin(&c.el[4], kb->pk, WH_PK_BYTES);
	seal(&c, ka, &out);
	refuse(out.p, out.len, WH_ESIG, "author swapped", 1);
	craft_fini(&c);

	/* the clock rule: an hour ahead, and just past the 10 minutes */
	craft_status(&c, WH_HLC_MAKE(NOW + 3600000, 0));
	seal(&c, ka, &out);
	refuse(out.p, out.len, WH_ECLOCK, "an hour in the future", 1);
	craft_fini(&c);
	craft_status(&c, WH_HLC_MAKE(NOW + WH_HLC_MAX_DRIFT_MS + 1, 0));
	seal(&c, ka, &out);
	refuse(out.p, out.len, WH_ECLOCK, "10 min + 1 ms ahead", 1);
	craft_fini(&c);

	/* one wrong thing each; R() gives a literal and its length */
	/* clang-format off */
#define R(lit) lit, sizeof(lit) - 1
	static const struct {
		const char *what;
		int want;
		int el;          /* element replaced */
		const char *raw; /* its new raw bytes */
		size_t rawn;
	} cases[] = {
		{"version 2", WH_EVERSION, 0, R("\x02")},
		{"version 0", WH_EVERSION, 0, R("\x00")},
		{"kind 0", WH_EKIND, 1, R("\x00")},
		{"kind 10 (unknown)", WH_EKIND, 1, R("\x0a")},
		{"kind 200", WH_EKIND, 1, R("\xcc\xc8")},
		{"version as 0xcc 0x01", WH_ECANON, 0, R("\xcc\x01")},
		{"kind as 0xcd 0x00 0x03", WH_ECANON, 1, R("\xcd\x00\x03")},
		{"seq as 0xcc 0x05", WH_ECANON, 2, R("\x92\xa7XJK-ZDY\xcc\x05")},
		{"code as str8", WH_ECANON, 2, R("\x92\xd9\x07XJK-ZDY\x01")},
		{"object id as array16", WH_ECANON, 2,
		 R("\xdc\x00\x02\xa7XJK-ZDY\x01")},
		{"code lower case", WH_EID, 2, R("\x92\xa3xjk\x01")},
		{"code ends with -", WH_EID, 2, R("\x92\xa4XJK-\x01")},
		{"code 17 bytes", WH_EID, 2,
		 R("\x92\xb1" "ABCDEFGHIJKLMNOPQ" "\x01")},
		{"seq 0", WH_EID, 2, R("\x92\xa7XJK-ZDY\x00")},
		{"object id of 3", WH_EID, 2, R("\x93\xa7XJK-ZDY\x01\x01")},
		{"path Xicheng/..", WH_EPATH, 3, R("\xaaXicheng/..")},
		{"path a//b", WH_EPATH, 3, R("\xa4" "a//b")},
		{"path empty", WH_EPATH, 3, R("\xa0")},
		{"path of 7 parts", WH_EPATH, 3, R("\xad" "a/b/c/d/e/f/g")},
		{"path with a space", WH_EPATH, 3, R("\xa9xicheng a")},
		{"author of 31 bytes", WH_EDECODE, 4,
		 R("\xc4\x1f" "0123456789012345678901234567890")},
		{"author as str", WH_EDECODE, 4,
		 R("\xd9\x20" "01234567890123456789012345678901")},
		{"hlc 0", WH_EDECODE, 5, R("\x00")},
		{"hlc negative", WH_EDECODE, 5, R("\xff")},
		{"body map as map16", WH_ECANON, 6,
		 R("\xde\x00\x02\x07\x02\x08\x01")},
		{"body keys descending", WH_ECANON, 6,
		 R("\x82\x08\x01\x07\x02")},
		{"body key twice", WH_ECANON, 6, R("\x82\x07\x02\x07\x02")},
		{"to as 0xcc 0x02", WH_ECANON, 6,
		 R("\x82\x07\xcc\x02\x08\x01")},
		{"from missing", WH_EFIELD, 6, R("\x81\x07\x02")},
		{"unknown body key 18", WH_EFIELD, 6,
		 R("\x83\x07\x02\x08\x01\x12\x01")},
		{"title in a status op", WH_EFIELD, 6,
		 R("\x83\x01\xa1x\x07\x02\x08\x01")},
		{"to = 7 (no such status)", WH_EFIELD, 6,
		 R("\x82\x07\x07\x08\x01")},
		{"to as a string", WH_EFIELD, 6, R("\x82\x07\xa1\x32\x08\x01")},
		{"to as a float", WH_EFIELD, 6,
		 R("\x82\x07\xca\x40\x00\x00\x00\x08\x01")},
		{"body nested array", WH_EFIELD, 6,
		 R("\x82\x07\x91\x02\x08\x01")},
		{"body as array", WH_EDECODE, 6, R("\x92\x07\x02")},
	};
#undef R
	/* clang-format on */
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		craft_status(&c, hlc);
		el_raw(&c, cases[k].el, cases[k].raw, cases[k].rawn);
		seal(&c, ka, &out);
		refuse(out.p, out.len, cases[k].want, cases[k].what, 1);
		craft_fini(&c);
	}

	/* E of 6 and of 8 elements */
	craft_status(&c, hlc);
	seal_n(&c, ka, 6, &out);
	refuse(out.p, out.len, WH_EDECODE, "E of 6 elements", 1);
	seal_n(&c, ka, 8, &out);
	refuse(out.p, out.len, WH_EDECODE, "E of 8 elements", 1);
	/* bytes between the body and the signature */
	wh_buf_append(&c.body_extra, "\xc0", 1);
	seal(&c, ka, &out);
	refuse(out.p, out.len, WH_EDECODE, "a byte after the body", 1);
	craft_fini(&c);

	/* text fields: sizes and UTF-8 (a create, by hand) */
	char big[700];
	memset(big, 'x', sizeof big);
	static const struct {
		const char *what;
		const char *s;
		size_t n;
		int want;
	} texts[] = {
	    {"title of 601 bytes", NULL, 601, WH_ETOOBIG},
	    {"title of 700 bytes", NULL, 700, WH_ETOOBIG},
	    {"title 0xff", "bad \xff utf8", 10, WH_EUTF8},
	    {"title lone continuation", "\x80", 1, WH_EUTF8},
	    {"title overlong NUL", "a\xc0\x80", 3, WH_EUTF8},
	    {"title overlong slash", "\xe0\x80\xaf", 3, WH_EUTF8},
	    {"title surrogate", "\xed\xa0\x80", 3, WH_EUTF8},
	    {"title past U+10FFFF", "\xf4\x90\x80\x80", 4, WH_EUTF8},
	    {"title cut in a character", "消防\xe9\x80", 8, WH_EUTF8},
	    {"title with NUL", "a\0b", 3, WH_EUTF8},
	};
	for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
		craft_status(&c, hlc);
		body_title(&c, texts[k].s ? texts[k].s : big, texts[k].n);
		seal(&c, ka, &out);
		refuse(out.p, out.len, texts[k].want, texts[k].what, 1);
		craft_fini(&c);
	}
	/* a title of exactly 600 bytes is fine (checked here without
	 * storing it: the decoder alone) */
	craft_status(&c, hlc);
	body_title(&c, big, 600);
	seal(&c, ka, &out);
	struct wh_op op;
	CHECK_EQ(wh_op_decode(out.p, out.len, &op), WH_OK);
	CHECK_EQ(wh_op_verify(&op), WH_OK);
	craft_fini(&c);

	/* the whole op over WH_OP_MAX_BYTES: a note of 70,000 bytes */
	char *huge = wh_xmalloc(70000);
	memset(huge, 'y', 70000);
	craft_status(&c, hlc);
	el_uint(&c, 1, WH_OP_CASE_NOTE);
	wh_buf_reset(&c.el[6]);
	wh_mpw_map(&c.el[6], 1);
	wh_mpw_uint(&c.el[6], WH_F_TEXT);
	wh_mpw_str(&c.el[6], huge, 70000);
	seal(&c, ka, &out);
	CHECK(out.len > WH_OP_MAX_BYTES);
	refuse(out.p, out.len, WH_ETOOBIG, "op of 70 kB", 1);
	/* and a note just past the limit in total, each field in bounds
	 * except the total: 65,537 bytes of op */
	size_t fixed = out.len - 70000 - 2; /* str16 header: 2 bytes less */
	size_t tn = WH_OP_MAX_BYTES + 1 - fixed;
	wh_buf_reset(&c.el[6]);
	wh_mpw_map(&c.el[6], 1);
	wh_mpw_uint(&c.el[6], WH_F_TEXT);
	wh_mpw_str(&c.el[6], huge, tn);
	seal(&c, ka, &out);
	CHECK_EQ(out.len, WH_OP_MAX_BYTES + 1);
	refuse(out.p, out.len, WH_ETOOBIG, "op of 65,537 bytes", 1);
	craft_fini(&c);
	free(huge);
	wh_buf_fini(&out);
}

static int deny_all(void *ctx, const struct wh_op *op)
{
	(void)op;
	(*(int *)ctx)++;
	return WH_EDENIED;
}

/* Batches: one bad op spoils an all-or-none batch; a policy refuses. */
static void batches(const struct wh_buf *v)
{
	struct craft c;
	struct wh_buf bad = {0};
	craft_status(&c, WH_HLC_MAKE(T0 + 5000, 0));
	seal(&c, kb, &bad); /* wrong signer */
	craft_fini(&c);
	struct wh_slice two[2] = {{v->p, v->len}, {bad.p, bad.len}};
	struct wh_ingest_opts io = {.now_ms = NOW, .all_or_none = 1};
	int res[2] = {99, 99};
	struct wh_ingest_result r;
	CHECK_EQ(wh_store_ingest(st, two, 2, &io, res, &r), WH_ESIG);
	uint8_t id[WH_ID_BYTES];
	wh_op_id(v->p, v->len, id);
	CHECK_EQ(wh_store_has_op(st, id), WH_ENOTFOUND);
	snap_unchanged("all-or-none batch");

	int calls = 0;
	struct wh_store_policy pol = {deny_all, &calls};
	struct wh_ingest_opts po = {.now_ms = NOW, .policy = &pol};
	CHECK_EQ(wh_store_ingest(st, two, 1, &po, res, &r), WH_OK);
	CHECK_EQ(res[0], WH_EDENIED);
	CHECK_EQ(calls, 1);
	CHECK_EQ(r.refused, 1);
	CHECK_EQ(wh_store_has_op(st, id), WH_ENOTFOUND);
	snap_unchanged("policy refusal");
	/* the policy is not asked about ops that fail their signature */
	calls = 0;
	CHECK_EQ(wh_store_ingest(st, two + 1, 1, &po, res, &r), WH_OK);
	CHECK_EQ(res[0], WH_ESIG);
	CHECK_EQ(calls, 0);
	wh_buf_fini(&bad);
}

/* Finally the hand-crafted valid op goes in, once; the clock boundary is
 * inclusive. */
static void accepted(const struct wh_buf *v)
{
	accept(v->p, v->len, "the hand-crafted valid op");
	struct gen_snap now;
	gen_snap(st, &now);
	CHECK_EQ(now.info.ops, before.info.ops + 1);
	CHECK(memcmp(now.views, before.views, WH_ID_BYTES) != 0);
	struct wh_case cs;
	REQUIRE(wh_store_case_get(st, "XJK-ZDY", 1, &cs) == WH_OK);
	CHECK_EQ(cs.status, WH_ST_IN_PROGRESS);
	CHECK_EQ(cs.nops, 4);
	wh_case_fini(&cs);
	before = now;
	struct wh_slice sl = {v->p, v->len};
	struct wh_ingest_opts io = {.now_ms = NOW};
	struct wh_ingest_result r;
	int res = 99;
	CHECK_EQ(wh_store_ingest(st, &sl, 1, &io, &res, &r), WH_OK);
	CHECK_EQ(res, WH_EEXIST);
	CHECK_EQ(r.known, 1);
	CHECK_EQ(r.added + r.refused, 0);
	snap_unchanged("the valid op again");

	struct craft c;
	struct wh_buf out = {0};
	craft_status(&c, WH_HLC_MAKE(NOW + WH_HLC_MAX_DRIFT_MS, 0));
	el_raw(&c, 6, "\x82\x07\x03\x08\x02", 5); /* -> resolved */
	seal(&c, ka, &out);
	accept(out.p, out.len, "exactly 10 min ahead");
	craft_fini(&c);
	wh_buf_fini(&out);
}

int main(void)
{
	REQUIRE(wh_crypto_init() == WH_OK);
	REQUIRE(wh_key_generate(&ka) == WH_OK);
	REQUIRE(wh_key_generate(&kb) == WH_OK);
	char dir[4096];
	gen_tmpdir(dir, sizeof dir, "tamper");
	struct wh_store_opts o = {0};
	o.nosync = 1;
	REQUIRE(wh_store_open(dir, &o, &st) == WH_OK);
	setup();

	/* the victim: a valid status change, made by wh_op_build */
	struct wh_op_draft d;
	struct wh_buf v = {0};
	wh_draft_init(&d, WH_OP_CASE_STATUS, "XJK-ZDY", 1, PATH);
	wh_draft_uint(&d, WH_F_TO, WH_ST_IN_PROGRESS);
	wh_draft_uint(&d, WH_F_FROM, WH_ST_ACCEPTED);
	build(&d, ka, WH_HLC_MAKE(T0 + 5000, 0), &v);

	flips_and_truncations(&v);
	struct wh_buf good = {0};
	crafted(&v, &good);
	batches(&v);
	accepted(&good);
	wh_buf_fini(&good);

	wh_buf_fini(&v);
	wh_store_close(st);
	gen_rmrf(dir);
	wh_key_free(ka);
	wh_key_free(kb);
	return wh_test_done("test_tamper");
}
