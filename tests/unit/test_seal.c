/*
 * test_seal.c: sealed personal data (crdt/seal.h) on its own: sealing
 * and opening, what does not open (another key, another case, changed
 * bytes), envelopes (each reader opens, nobody else does, every decode
 * rule, mutated bytes never crash), the reader rule against a roster,
 * the op schema of the sealed fields and the two new kinds, and the
 * case fold: last writer wins, erasure final, the view encoding.
 */
#include "case.h"
#include "mp.h"
#include "seal.h"
#include "wh_test.h"

#include <sodium.h>

#define CODE "XJK-ZDY"
#define PATH "xicheng/xinjiekou/zhaodengyu"
#define T0 1790000000000ull

static int contains(const uint8_t *p, size_t n, const void *q, size_t m)
{
	for (size_t i = 0; m <= n && i <= n - m; i++)
		if (!memcmp(p + i, q, m))
			return 1;
	return 0;
}

static void seal_open(void)
{
	struct wh_seal_key *k, *k2;
	REQUIRE(wh_seal_key_new(&k) == WH_OK);
	REQUIRE(wh_seal_key_new(&k2) == WH_OK);
	uint8_t kid[WH_ID_BYTES];
	wh_hash(k->k, WH_SEAL_KEY_BYTES, kid);
	CHECK(!memcmp(kid, k->kid, WH_ID_BYTES));
	CHECK(memcmp(k->kid, k2->kid, WH_ID_BYTES) != 0);

	struct wh_buf b = {0};
	CHECK_EQ(wh_seal_seal(k, CODE, 7, "王女士", "13800138000", &b), WH_OK);
	CHECK_EQ(b.len, wh_seal_size("王女士", "13800138000"));
	CHECK(!contains(b.p, b.len, "13800138000", 11));
	char *r = NULL, *c = NULL;
	CHECK_EQ(wh_seal_open(k, CODE, 7, b.p, b.len, &r, &c), WH_OK);
	CHECK(r && !strcmp(r, "王女士"));
	CHECK(c && !strcmp(c, "13800138000"));
	free(r);
	free(c);
	/* Another key, another case, another sequence: nothing opens. */
	CHECK_EQ(wh_seal_open(k2, CODE, 7, b.p, b.len, &r, &c), WH_EKEY);
	CHECK(!r && !c);
	CHECK_EQ(wh_seal_open(k, "XJK-ABC", 7, b.p, b.len, &r, &c), WH_EKEY);
	CHECK_EQ(wh_seal_open(k, CODE, 8, b.p, b.len, &r, &c), WH_EKEY);
	/* Any changed byte, the nonce's included. */
	for (size_t i = 0; i < b.len; i += 7) {
		b.p[i] ^= 0x40;
		CHECK_EQ(wh_seal_open(k, CODE, 7, b.p, b.len, &r, &c), WH_EKEY);
		b.p[i] ^= 0x40;
	}
	CHECK_EQ(wh_seal_open(k, CODE, 7, b.p, WH_SEAL_MIN_BYTES - 1, &r, &c),
		 WH_ETRUNC);
	CHECK_EQ(wh_seal_open(k, CODE, 7, b.p, b.len - 1, &r, &c), WH_EKEY);

	/* One field only; the other stays absent (not empty). */
	wh_buf_reset(&b);
	CHECK_EQ(wh_seal_seal(k, CODE, 7, NULL, "", &b), WH_OK);
	CHECK_EQ(b.len, wh_seal_size(NULL, ""));
	CHECK_EQ(wh_seal_open(k, CODE, 7, b.p, b.len, &r, &c), WH_OK);
	CHECK(r == NULL && c && !*c);
	free(c);

	/* The limits: text length, UTF-8, at least one field; the largest
	 * value fits the op format's bound. */
	char big[WH_SEAL_TEXT_MAX + 2];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = 0;
	wh_buf_reset(&b);
	CHECK_EQ(wh_seal_seal(k, CODE, 7, big, NULL, &b), WH_ETOOBIG);
	CHECK_EQ(wh_seal_seal(k, CODE, 7, NULL, "\xff", &b), WH_EUTF8);
	CHECK_EQ(wh_seal_seal(k, CODE, 7, NULL, NULL, &b), WH_EINVAL);
	CHECK_EQ(b.len, 0);
	big[WH_SEAL_TEXT_MAX] = 0;
	CHECK_EQ(wh_seal_seal(k, CODE, 7, big, big, &b), WH_OK);
	CHECK(b.len <= WH_SEAL_MAX_BYTES);
	wh_buf_fini(&b);
	wh_seal_key_free(k);
	wh_seal_key_free(k2);
}

/* A hand-sealed plaintext that is not a valid map opens as a format
 * error, never as data. */
static void seal_bad_plaintext(void)
{
	struct wh_seal_key *k;
	REQUIRE(wh_seal_key_new(&k) == WH_OK);
	static const struct {
		uint8_t pt[8];
		size_t n;
		int rc;
	} cases[] = {
		{{0x80}, 1, WH_EFIELD},                  /* empty map */
		{{0x81, 0x09, 0xa1}, 3, WH_ETRUNC},      /* text cut */
		{{0x81, 0x0b, 0xa1, 'x'}, 4, WH_EFIELD}, /* key 11 */
		{{0x82, 0x0a, 0xa0, 0x09, 0xa0}, 5, WH_ECANON},
		{{0x81, 0x09, 0xa0, 0xc0}, 4, WH_EDECODE}, /* trailing */
		{{0x81, 0x09, 0xa1, 0xff}, 4, WH_EUTF8},
	};
	uint8_t ad[64];
	size_t adn = sizeof "whistle-sealed-v1";
	memcpy(ad, "whistle-sealed-v1", adn);
	memcpy(ad + adn, CODE, strlen(CODE) + 1);
	adn += strlen(CODE) + 1;
	const uint8_t seq[4] = {0, 0, 0, 7};
	memcpy(ad + adn, seq, 4);
	adn += 4;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t ct[WH_SEAL_NONCE_BYTES + 8 + WH_SEAL_TAG_BYTES];
		unsigned long long cn;
		randombytes_buf(ct, WH_SEAL_NONCE_BYTES);
		crypto_aead_xchacha20poly1305_ietf_encrypt(
			ct + WH_SEAL_NONCE_BYTES, &cn, cases[i].pt, cases[i].n,
			ad, adn, NULL, ct, k->k);
		char *r = NULL, *c = NULL;
		CHECK_EQ(wh_seal_open(k, CODE, 7, ct,
				      WH_SEAL_NONCE_BYTES + (size_t)cn, &r, &c),
			 cases[i].rc);
		CHECK(!r && !c);
	}
	wh_seal_key_free(k);
}

static void envelopes(void)
{
	struct wh_key *a, *b, *c, *x;
	REQUIRE(wh_key_generate(&a) == WH_OK);
	REQUIRE(wh_key_generate(&b) == WH_OK);
	REQUIRE(wh_key_generate(&c) == WH_OK);
	REQUIRE(wh_key_generate(&x) == WH_OK);
	struct wh_seal_key *k, *got;
	REQUIRE(wh_seal_key_new(&k) == WH_OK);
	uint8_t readers[4][WH_PK_BYTES];
	memcpy(readers[0], c->pk, 32);
	memcpy(readers[1], a->pk, 32);
	memcpy(readers[2], b->pk, 32);
	memcpy(readers[3], a->pk, 32); /* twice: taken once */
	struct wh_buf e = {0};
	CHECK_EQ(wh_seal_env_build(k, (const uint8_t(*)[32])readers, 4, &e),
		 WH_OK);
	CHECK_EQ(e.len, WH_SEAL_ENV_HEAD + 3 * WH_SEAL_ENV_ENTRY);
	CHECK(!memcmp(e.p, "WHKE\x01", 5));
	struct wh_seal_env env;
	REQUIRE(wh_seal_env_decode(e.p, e.len, &env) == WH_OK);
	CHECK_EQ(env.count, 3);
	CHECK(!memcmp(env.kid, k->kid, WH_ID_BYTES));
	CHECK(wh_seal_env_holds(&env, a->pk) && wh_seal_env_holds(&env, b->pk) &&
	      wh_seal_env_holds(&env, c->pk) && !wh_seal_env_holds(&env, x->pk));
	struct wh_key *each[3] = {a, b, c};
	for (int i = 0; i < 3; i++) {
		got = NULL;
		CHECK_EQ(wh_seal_env_open(e.p, e.len, each[i], &got), WH_OK);
		CHECK(got && !memcmp(got->k, k->k, WH_SEAL_KEY_BYTES) &&
		      !memcmp(got->kid, k->kid, WH_ID_BYTES));
		wh_seal_key_free(got);
	}
	got = NULL;
	CHECK_EQ(wh_seal_env_open(e.p, e.len, x, &got), WH_ENOTFOUND);
	CHECK(got == NULL);

	/* The decode rules. */
	CHECK_EQ(wh_seal_env_decode(e.p, WH_SEAL_ENV_HEAD - 1, &env),
		 WH_ETRUNC);
	CHECK_EQ(wh_seal_env_decode(e.p, e.len - 1, &env), WH_ETRUNC);
	struct wh_buf m = {0};
	wh_buf_append(&m, e.p, e.len);
	wh_buf_append(&m, "", 1);
	CHECK_EQ(wh_seal_env_decode(m.p, m.len, &env), WH_EDECODE);
	m.len = e.len;
	m.p[0] = 'X';
	CHECK_EQ(wh_seal_env_decode(m.p, m.len, &env), WH_EDECODE);
	m.p[0] = 'W';
	m.p[4] = 2;
	CHECK_EQ(wh_seal_env_decode(m.p, m.len, &env), WH_EVERSION);
	m.p[4] = 1;
	m.p[5 + WH_ID_BYTES] = m.p[6 + WH_ID_BYTES] = 0;
	CHECK_EQ(wh_seal_env_decode(m.p, WH_SEAL_ENV_HEAD, &env), WH_EDECODE);
	m.p[5 + WH_ID_BYTES] = 0xff;
	CHECK_EQ(wh_seal_env_decode(m.p, m.len, &env), WH_ETOOBIG);
	m.p[5 + WH_ID_BYTES] = 0;
	m.p[6 + WH_ID_BYTES] = 3;
	/* Entries out of order: the same bytes, two entries swapped. */
	uint8_t tmp[WH_SEAL_ENV_ENTRY];
	uint8_t *e0 = m.p + WH_SEAL_ENV_HEAD, *e1 = e0 + WH_SEAL_ENV_ENTRY;
	memcpy(tmp, e0, sizeof tmp);
	memcpy(e0, e1, sizeof tmp);
	memcpy(e1, tmp, sizeof tmp);
	CHECK_EQ(wh_seal_env_decode(m.p, m.len, &env), WH_ECANON);
	/* A box of another key under this kid: opens, but is refused. */
	struct wh_seal_key *k2;
	REQUIRE(wh_seal_key_new(&k2) == WH_OK);
	wh_buf_reset(&m);
	CHECK_EQ(wh_seal_env_build(k2, (const uint8_t(*)[32])readers, 1, &m),
		 WH_OK);
	memcpy(m.p + 5, k->kid, WH_ID_BYTES);
	CHECK_EQ(wh_seal_env_open(m.p, m.len, c, &got), WH_EKEY);
	/* A changed box does not open. */
	wh_buf_reset(&m);
	wh_buf_append(&m, e.p, e.len);
	m.p[m.len - 1] ^= 1;
	int opened = 0;
	for (int i = 0; i < 3; i++)
		if (wh_seal_env_open(m.p, m.len, each[i], &got) == WH_OK) {
			opened++;
			wh_seal_key_free(got);
		}
	CHECK_EQ(opened, 2);
	/* Build: no readers, a key with no X25519 twin. */
	size_t len = m.len;
	CHECK_EQ(wh_seal_env_build(k, NULL, 0, &m), WH_EINVAL);
	uint8_t bad[2][32];
	memcpy(bad[0], a->pk, 32);
	memset(bad[1], 0xff, 32); /* y >= p: no point at all */
	CHECK_EQ(wh_seal_env_build(k, (const uint8_t(*)[32])bad, 2, &m),
		 WH_EKEY);
	CHECK_EQ(m.len, len);

	/* Mutated envelopes: every answer is a code, never a crash, and
	 * what opens opens to the right key. */
	uint64_t seed = wh_test_seed("test_seal");
	for (int round = 0; round < 3000; round++) {
		wh_buf_reset(&m);
		wh_buf_append(&m, e.p, e.len);
		int flips = 1 + (int)wh_test_below(&seed, 4);
		for (int f = 0; f < flips; f++)
			m.p[wh_test_below(&seed, m.len)] ^=
				(uint8_t)(1u << wh_test_below(&seed, 8));
		size_t n = wh_test_below(&seed, 8) ? m.len
						   : wh_test_below(&seed,
								   m.len + 1);
		got = NULL;
		int rc = wh_seal_env_open(m.p, n, each[round % 3], &got);
		CHECK(rc <= 0 && rc >= WH_ERR_MIN);
		if (rc == WH_OK) {
			CHECK(!memcmp(got->k, k->k, WH_SEAL_KEY_BYTES));
			wh_seal_key_free(got);
		}
	}
	wh_buf_fini(&m);
	wh_buf_fini(&e);
	wh_seal_key_free(k);
	wh_seal_key_free(k2);
	wh_key_free(a);
	wh_key_free(b);
	wh_key_free(c);
	wh_key_free(x);
}

/* ---- the reader rule --------------------------------------------- */

static struct wh_grant grant(uint8_t id, uint8_t role, const char *path,
			     const char *dept)
{
	struct wh_grant g;
	memset(&g, 0, sizeof g);
	memset(g.key, id, WH_PK_BYTES);
	snprintf(g.name, sizeof g.name, "m%u", id);
	g.role = role;
	snprintf(g.path, sizeof g.path, "%s", path);
	snprintf(g.dept, sizeof g.dept, "%s", dept);
	g.from_ms = T0 - 1000;
	return g;
}

static int has(uint8_t (*keys)[WH_PK_BYTES], size_t n, uint8_t id)
{
	for (size_t i = 0; i < n; i++)
		if (keys[i][0] == id)
			return 1;
	return 0;
}

static void readers(void)
{
	struct wh_roster_set rs;
	memset(&rs, 0, sizeof rs);
	struct wh_grant g[12];
	int n = 0;
	g[n++] = grant(1, WH_MROLE_STATION, PATH, "");
	g[n++] = grant(2, WH_MROLE_STREET, "xicheng/xinjiekou", "");
	g[n++] = grant(3, WH_MROLE_DISTRICT, "xicheng", "");
	g[n++] = grant(4, WH_MROLE_DEPARTMENT, "xicheng", "城管");
	g[n++] = grant(5, WH_MROLE_STREET, "xicheng/shichahai", "");
	g[n++] = grant(6, WH_MROLE_STATION, "xicheng/xinjiekou/other", "");
	g[n++] = grant(7, WH_MROLE_ADMIN, "xicheng", "");
	g[n++] = grant(8, WH_MROLE_DEPARTMENT, "xicheng", "住建");
	g[n] = grant(9, WH_MROLE_STREET, "xicheng/xinjiekou", "");
	g[n++].revoked_ms = T0 - 10; /* the hub's old key */
	g[n] = grant(10, WH_MROLE_STATION, PATH, "");
	g[n++].until_ms = T0; /* ended */
	g[n] = grant(11, WH_MROLE_STATION, PATH, "");
	g[n++].from_ms = T0 + 5; /* not yet */
	g[n++] = grant(12, WH_MROLE_DELEGATE, "xicheng/xinjiekou", "");
	rs.root.serial = 1;
	rs.root.ngrants = (uint32_t)n;
	rs.root.grants = g;
	snprintf(rs.root.scope, sizeof rs.root.scope, "xicheng");
	/* The street's delegate roster adds a second station. */
	struct wh_grant dg[1] = {grant(13, WH_MROLE_STATION, PATH, "")};
	rs.ndel = 1;
	memset(rs.del[0].signer, 12, WH_PK_BYTES);
	snprintf(rs.del[0].scope, sizeof rs.del[0].scope, "xicheng/xinjiekou");
	rs.del[0].ngrants = 1;
	rs.del[0].grants = dg;

	uint8_t out[16][WH_PK_BYTES];
	size_t cnt = 0;
	const char *depts[] = {"城管"};
	CHECK_EQ(wh_seal_readers(&rs, PATH, depts, 1, T0, out, 16, &cnt),
		 WH_OK);
	CHECK_EQ(cnt, 5);
	CHECK(has(out, cnt, 1) && has(out, cnt, 2) && has(out, cnt, 3) &&
	      has(out, cnt, 4) && has(out, cnt, 13));
	CHECK(!has(out, cnt, 5) && !has(out, cnt, 6) && !has(out, cnt, 7) &&
	      !has(out, cnt, 8) && !has(out, cnt, 9) && !has(out, cnt, 10) &&
	      !has(out, cnt, 11) && !has(out, cnt, 12));
	/* No department summoned: none of them. */
	CHECK_EQ(wh_seal_readers(&rs, PATH, NULL, 0, T0, out, 16, &cnt),
		 WH_OK);
	CHECK(cnt == 4 && !has(out, cnt, 4));
	/* The delegate's grant ended: its roster no longer counts. */
	g[n - 1].until_ms = T0;
	CHECK_EQ(wh_seal_readers(&rs, PATH, NULL, 0, T0, out, 16, &cnt),
		 WH_OK);
	CHECK(cnt == 3 && !has(out, cnt, 13));
	/* Too many for the room given. */
	CHECK_EQ(wh_seal_readers(&rs, PATH, depts, 1, T0, out, 2, &cnt),
		 WH_ETOOBIG);
	CHECK_EQ(cnt, 2);
	/* A case of the other street: its hub and the district. */
	CHECK_EQ(wh_seal_readers(&rs, "xicheng/shichahai/x", NULL, 0, T0, out,
				 16, &cnt),
		 WH_OK);
	CHECK(cnt == 2 && has(out, cnt, 3) && has(out, cnt, 5));
}

/* ---- schema and fold ---------------------------------------------- */

static struct wh_buf opbuf[16];
static struct wh_op ops[16];
static int nops;

static int build(struct wh_key *k, uint64_t ms, struct wh_op_draft *d,
		 struct wh_op **out)
{
	REQUIRE(nops < 16);
	d->hlc = WH_HLC_MAKE(ms, 0);
	struct wh_buf *b = &opbuf[nops];
	wh_buf_reset(b);
	int rc = wh_op_build(d, k, b);
	if (rc)
		return rc;
	REQUIRE(wh_op_decode(b->p, b->len, &ops[nops]) == WH_OK);
	if (out)
		*out = &ops[nops];
	nops++;
	return WH_OK;
}

static void schema_and_fold(void)
{
	struct wh_key *key;
	REQUIRE(wh_key_generate(&key) == WH_OK);
	struct wh_seal_key *k;
	REQUIRE(wh_seal_key_new(&k) == WH_OK);
	struct wh_buf sb = {0};
	REQUIRE(wh_seal_seal(k, CODE, 1, "李先生", "66001234", &sb) == WH_OK);
	struct wh_op_draft d;
	struct wh_op *o[8];

	/* The rules: SEALED and KID together, never beside the clear
	 * fields, SEALED within its bounds; KEYS and ERASE need theirs. */
	wh_draft_init(&d, WH_OP_CASE_CREATE, CODE, 1, PATH);
	wh_draft_str(&d, WH_F_TITLE, "t");
	wh_draft_bin(&d, WH_F_SEALED, sb.p, sb.len);
	CHECK_EQ(build(key, T0, &d, NULL), WH_EFIELD);
	wh_draft_str(&d, WH_F_REPORTER, "李先生");
	wh_draft_bin(&d, WH_F_KID, k->kid, WH_ID_BYTES);
	CHECK_EQ(build(key, T0, &d, NULL), WH_EFIELD);
	wh_draft_init(&d, WH_OP_CASE_SET, CODE, 1, PATH);
	wh_draft_bin(&d, WH_F_KID, k->kid, WH_ID_BYTES);
	wh_draft_bin(&d, WH_F_SEALED, sb.p, WH_SEAL_MIN_BYTES - 1);
	CHECK_EQ(build(key, T0, &d, NULL), WH_EFIELD);
	uint8_t huge[WH_SEAL_MAX_BYTES + 1] = {0};
	d.fields[1].s.p = huge;
	d.fields[1].s.n = sizeof huge;
	CHECK_EQ(build(key, T0, &d, NULL), WH_ETOOBIG);
	wh_draft_init(&d, WH_OP_CASE_KEYS, CODE, 1, PATH);
	wh_draft_bin(&d, WH_F_KID, k->kid, WH_ID_BYTES);
	CHECK_EQ(build(key, T0, &d, NULL), WH_EFIELD);
	wh_draft_init(&d, WH_OP_CASE_ERASE, CODE, 1, PATH);
	CHECK_EQ(build(key, T0, &d, NULL), WH_EFIELD);
	wh_draft_init(&d, WH_OP_TRIAGE, CODE, 1, PATH);
	wh_draft_uint(&d, WH_F_LEVEL, 0);
	wh_draft_uint(&d, WH_F_SEEN, 1);
	wh_draft_bin(&d, WH_F_KID, k->kid, WH_ID_BYTES);
	CHECK_EQ(build(key, T0, &d, NULL), WH_EFIELD);

	/* A case: plain reporter (an old store), then sealed data, a
	 * newer seal, its keys op, an erase, and what comes after. */
	wh_draft_init(&d, WH_OP_CASE_CREATE, CODE, 1, PATH);
	wh_draft_str(&d, WH_F_TITLE, "t");
	wh_draft_str(&d, WH_F_REPORTER, "旧名");
	REQUIRE(build(key, T0, &d, &o[0]) == WH_OK);
	wh_draft_init(&d, WH_OP_CASE_SET, CODE, 1, PATH);
	wh_draft_bin(&d, WH_F_SEALED, sb.p, sb.len);
	wh_draft_bin(&d, WH_F_KID, k->kid, WH_ID_BYTES);
	REQUIRE(build(key, T0 + 1, &d, &o[1]) == WH_OK);
	CHECK_EQ(wh_op_field(o[1], WH_F_SEALED)->s.n, sb.len);
	uint8_t blob[WH_ID_BYTES] = {1};
	wh_draft_init(&d, WH_OP_CASE_KEYS, CODE, 1, PATH);
	wh_draft_bin(&d, WH_F_KID, k->kid, WH_ID_BYTES);
	wh_draft_bin(&d, WH_F_BLOB, blob, WH_ID_BYTES);
	wh_draft_uint(&d, WH_F_SIZE, 151);
	REQUIRE(build(key, T0 + 2, &d, &o[2]) == WH_OK);
	CHECK(!strcmp(wh_op_kind_name(o[2]->kind), "keys"));
	wh_draft_init(&d, WH_OP_CASE_ERASE, CODE, 1, PATH);
	wh_draft_bin(&d, WH_F_KID, k->kid, WH_ID_BYTES);
	REQUIRE(build(key, T0 + 3, &d, &o[3]) == WH_OK);
	wh_draft_init(&d, WH_OP_CASE_SET, CODE, 1, PATH);
	wh_draft_bin(&d, WH_F_SEALED, sb.p, sb.len);
	wh_draft_bin(&d, WH_F_KID, k->kid, WH_ID_BYTES);
	wh_draft_str(&d, WH_F_TITLE, "t2");
	REQUIRE(build(key, T0 + 4, &d, &o[4]) == WH_OK);
	wh_draft_init(&d, WH_OP_CASE_SET, CODE, 1, PATH);
	wh_draft_str(&d, WH_F_CONTACT, "明文");
	REQUIRE(build(key, T0 + 5, &d, &o[5]) == WH_OK);
	/* the keys op again, after the erase */
	struct wh_op keys_late = *o[2];
	keys_late.hlc = WH_HLC_MAKE(T0 + 7, 0);

	struct wh_case c;
	enum wh_apply how;
	wh_case_init(&c, CODE, 1);
	REQUIRE(wh_case_apply(&c, o[0], &how) == WH_OK);
	CHECK(c.reporter && !strcmp(c.reporter, "旧名") && !c.sealed);
	REQUIRE(wh_case_apply(&c, o[1], &how) == WH_OK);
	CHECK(!c.reporter && c.sealed && c.nsealed == sb.len && c.has_kid &&
	      !memcmp(c.kid, k->kid, WH_ID_BYTES) && !c.erased);
	REQUIRE(wh_case_apply(&c, o[2], &how) == WH_OK);
	CHECK_EQ(how, WH_APPLY_OK);
	/* The view survives its encoding. */
	struct wh_buf v1 = {0}, v2 = {0};
	wh_case_encode(&c, &v1);
	struct wh_case c2;
	REQUIRE(wh_case_decode(v1.p, v1.len, &c2) == WH_OK);
	wh_case_encode(&c2, &v2);
	CHECK(v1.len == v2.len && !memcmp(v1.p, v2.p, v1.len));
	CHECK(c2.nsealed == sb.len && !memcmp(c2.sealed, sb.p, sb.len));
	wh_case_fini(&c2);
	/* Erase: nothing personal left; later personal data is not
	 * taken, the rest of a later op is. */
	REQUIRE(wh_case_apply(&c, o[3], &how) == WH_OK);
	CHECK(c.erased && !c.sealed && !c.has_kid && !c.reporter &&
	      !c.contact);
	REQUIRE(wh_case_apply(&c, o[4], &how) == WH_OK);
	CHECK(!c.sealed && !c.has_kid && !strcmp(c.title, "t2"));
	REQUIRE(wh_case_apply(&c, o[5], &how) == WH_OK);
	CHECK(!c.contact);
	REQUIRE(wh_case_apply(&c, &keys_late, &how) == WH_OK);
	CHECK_EQ(how, WH_APPLY_IGNORED);
	wh_buf_reset(&v1);
	wh_buf_reset(&v2);
	wh_case_encode(&c, &v1);
	REQUIRE(wh_case_decode(v1.p, v1.len, &c2) == WH_OK);
	CHECK(c2.erased && !c2.sealed);
	wh_case_encode(&c2, &v2);
	CHECK(v1.len == v2.len && !memcmp(v1.p, v2.p, v1.len));
	CHECK(!contains(v1.p, v1.len, sb.p, sb.len));
	wh_case_fini(&c2);
	wh_case_fini(&c);
	wh_buf_fini(&v1);
	wh_buf_fini(&v2);
	wh_buf_fini(&sb);
	for (int i = 0; i < nops; i++)
		wh_buf_fini(&opbuf[i]);
	wh_seal_key_free(k);
	wh_key_free(key);
}

int main(void)
{
	REQUIRE(wh_crypto_init() == WH_OK);
	seal_open();
	seal_bad_plaintext();
	envelopes();
	readers();
	schema_and_fold();
	return wh_test_done("test_seal");
}
