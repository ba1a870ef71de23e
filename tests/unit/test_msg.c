/*
 * test_msg.c: the sync wire codec. Every message type round-trips;
 * every truncation and every single-bit flip of every message either
 * decodes to something that passes the decoder's checks or is refused,
 * and never crashes (run under ASan); oversized counts and lengths are
 * refused; receipts verify only against their signer. Seed printed.
 */
#include "mp.h"
#include "flow.h"
#include "msg.h"
#include "sync.h"
#include "wh_test.h"

static uint64_t rng;

#define NMSG 12

struct sample {
	struct wh_buf b;
	uint8_t type;
};

static struct wh_key *key;
static const char *const scope = "xicheng/xinjiekou/zhaodengyu";

static void make_all(struct sample *s)
{
	uint8_t salt[WH_MSG_SALT_BYTES], dig[WH_ID_BYTES];
	for (size_t i = 0; i < sizeof salt; i++)
		salt[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof dig; i++)
		dig[i] = (uint8_t)(0xa0 + i);
	struct wh_riblt_sym syms[5] = {{1, 2, 3},
				       {UINT64_MAX, 5, -1},
				       {0, 0, 0},
				       {7, 8, INT64_MIN},
				       {9, 10, INT64_MAX}};
	uint64_t keys[3] = {1, 0x8000000000000000ull, 42};
	int k = 0;
	memset(s, 0, NMSG * sizeof *s);
	wh_msg_hello(&s[k].b, WH_SYNC_PROTO_MAX, WH_ROLE_STREET,
		     "xicheng/xinjiekou", salt, 7, dig, 1790000000000ull);
	s[k++].type = WH_MSG_HELLO;
	wh_msg_digest(&s[k].b, scope, 3, 1000, dig);
	s[k++].type = WH_MSG_DIGEST;
	wh_msg_symbols_write(&s[k].b, scope, 3, 16, syms, 5);
	s[k++].type = WH_MSG_SYMBOLS;
	wh_msg_more(&s[k].b, scope, 3, 21, 32);
	s[k++].type = WH_MSG_MORE;
	wh_msg_want(&s[k].b, scope, 3, WH_WANT_FINAL, keys, 3);
	s[k++].type = WH_MSG_WANT;
	wh_msg_want(&s[k].b, scope, 3, WH_WANT_FINAL | WH_WANT_ALL, NULL, 0);
	s[k++].type = WH_MSG_WANT;
	wh_msg_ops_begin(&s[k].b, WH_OPS_PUSH, 2);
	wh_msg_ops_add(&s[k].b, (const uint8_t *)"op-one", 6);
	wh_msg_ops_add(&s[k].b, (const uint8_t *)"op-two!", 7);
	s[k++].type = WH_MSG_OPS;
	wh_msg_ops_begin(&s[k].b, WH_OPS_SYNC, 0);
	s[k++].type = WH_MSG_OPS;
	wh_msg_receipt(&s[k].b, key, scope, 1000, dig, 1790000000001ull);
	s[k++].type = WH_MSG_RECEIPT;
	wh_msg_bye(&s[k].b, WH_MSG_BYE, 0, "bye");
	s[k++].type = WH_MSG_BYE;
	wh_msg_bye(&s[k].b, WH_MSG_ERROR, WH_EVERSION, "版本不对 version");
	s[k++].type = WH_MSG_ERROR;
	char longtext[400];
	memset(longtext, 'x', sizeof longtext - 1);
	longtext[sizeof longtext - 1] = '\0';
	wh_msg_bye(&s[k].b, WH_MSG_ERROR, -1, longtext);
	s[k++].type = WH_MSG_ERROR;
	REQUIRE(k == NMSG);
}

static void test_roundtrip(struct sample *s)
{
	struct wh_msg m;
	uint8_t dig[WH_ID_BYTES];
	for (size_t i = 0; i < sizeof dig; i++)
		dig[i] = (uint8_t)(0xa0 + i);
	for (int i = 0; i < NMSG; i++) {
		int rc = wh_msg_decode(s[i].b.p, s[i].b.len, NULL, &m);
		CHECK_EQ(rc, WH_OK);
		CHECK_EQ(m.type, s[i].type);
	}
	REQUIRE(wh_msg_decode(s[0].b.p, s[0].b.len, NULL, &m) == WH_OK);
	CHECK(!strcmp(m.path, "xicheng/xinjiekou"));
	CHECK_EQ(m.role, WH_ROLE_STREET);
	CHECK_EQ(m.count, 7);
	CHECK_EQ(m.proto_min, WH_SYNC_PROTO_MIN);
	CHECK_EQ(m.proto_max, WH_SYNC_PROTO_MAX);
	CHECK(!memcmp(m.digest, dig, WH_ID_BYTES));
	CHECK_EQ(m.salt[15], 15);
	CHECK_EQ(m.ms, 1790000000000ull);

	REQUIRE(wh_msg_decode(s[2].b.p, s[2].b.len, NULL, &m) == WH_OK);
	struct wh_riblt_sym got[5];
	CHECK_EQ(m.n, 5);
	CHECK_EQ(m.first, 16);
	CHECK_EQ(m.round, 3);
	wh_msg_symbols(&m, got);
	CHECK(got[1].key == UINT64_MAX && got[1].count == -1);
	CHECK(got[3].count == INT64_MIN && got[4].count == INT64_MAX);
	CHECK(got[0].key == 1 && got[0].check == 2 && got[0].count == 3);

	REQUIRE(wh_msg_decode(s[3].b.p, s[3].b.len, NULL, &m) == WH_OK);
	CHECK(m.first == 21 && m.n == 32);
	REQUIRE(wh_msg_decode(s[4].b.p, s[4].b.len, NULL, &m) == WH_OK);
	CHECK(m.n == 3 && wh_msg_key(&m, 1) == 0x8000000000000000ull &&
	      m.flags == WH_WANT_FINAL);
	REQUIRE(wh_msg_decode(s[6].b.p, s[6].b.len, NULL, &m) == WH_OK);
	struct wh_slice ops[2];
	CHECK_EQ(m.n, 2);
	CHECK_EQ(m.flags, WH_OPS_PUSH);
	wh_msg_ops(&m, ops);
	CHECK(ops[1].n == 7 && !memcmp(ops[1].p, "op-two!", 7));

	REQUIRE(wh_msg_decode(s[8].b.p, s[8].b.len, NULL, &m) == WH_OK);
	CHECK(!strcmp(m.scope, scope));
	CHECK_EQ(m.count, 1000);
	CHECK_EQ(wh_msg_receipt_verify(&m, key->pk), WH_OK);
	struct wh_key *other;
	REQUIRE(wh_key_generate(&other) == WH_OK);
	CHECK_EQ(wh_msg_receipt_verify(&m, other->pk), WH_ESIG);
	wh_key_free(other);
	/* A receipt body can never pass for an op: it starts with a
	 * string, an op with its integer version. */
	struct wh_op op;
	CHECK(wh_op_decode(m.body.p, m.body.n, &op) != WH_OK);

	REQUIRE(wh_msg_decode(s[10].b.p, s[10].b.len, NULL, &m) == WH_OK);
	CHECK_EQ(m.code, WH_EVERSION);
	CHECK(!strcmp(m.text, "版本不对 version"));
	REQUIRE(wh_msg_decode(s[11].b.p, s[11].b.len, NULL, &m) == WH_OK);
	CHECK_EQ(strlen(m.text), WH_MSG_MAX_TEXT);
}

/* A decoded message must satisfy what the decoder promises. */
static void check_valid(const struct wh_msg *m, size_t n)
{
	CHECK(m->type >= 1 && m->type <= WH_MSG_TYPE_MAX);
	if (m->type == WH_MSG_HELLO)
		CHECK(wh_path_valid(m->path, strlen(m->path)));
	if (m->type == WH_MSG_SYMBOLS) {
		CHECK(m->n >= 1 && m->n <= WH_MSG_MAX_SYMS);
		struct wh_riblt_sym *v = wh_xmalloc(m->n * sizeof *v);
		wh_msg_symbols(m, v);
		free(v);
	}
	if (m->type == WH_MSG_WANT)
		CHECK((size_t)m->n * 8 <= n);
	if (m->type == WH_MSG_OPS) {
		CHECK(m->n <= n);
		if (m->n) {
			struct wh_slice *v = wh_xmalloc(m->n * sizeof *v);
			wh_msg_ops(m, v);
			for (uint32_t i = 0; i < m->n; i++)
				CHECK(v[i].n >= 1 && v[i].n <= n);
			free(v);
		}
	}
	if (m->type == WH_MSG_RECEIPT)
		CHECK(wh_msg_receipt_verify(m, key->pk) == WH_OK ||
		      m->body.n > 0);
}

static void test_mutations(struct sample *s)
{
	struct wh_msg m;
	size_t refused = 0, accepted = 0;
	for (int i = 0; i < NMSG; i++) {
		const struct wh_buf *b = &s[i].b;
		/* every truncation: refused (canonical msgpack has no
		 * shorter valid prefix of a whole array) */
		for (size_t k = 0; k < b->len; k++) {
			uint8_t *cut = wh_xmalloc(k ? k : 1);
			memcpy(cut, b->p, k);
			int rc = wh_msg_decode(cut, k, NULL, &m);
			CHECK(rc != WH_OK);
			free(cut);
		}
		/* a trailing byte: refused */
		uint8_t *more = wh_xmalloc(b->len + 1);
		memcpy(more, b->p, b->len);
		more[b->len] = 0;
		CHECK(wh_msg_decode(more, b->len + 1, NULL, &m) != WH_OK);
		free(more);
		/* every single bit flip */
		uint8_t *p = wh_xmalloc(b->len);
		for (size_t k = 0; k < b->len * 8; k++) {
			memcpy(p, b->p, b->len);
			p[k / 8] ^= (uint8_t)(1u << (k % 8));
			if (wh_msg_decode(p, b->len, NULL, &m) == WH_OK) {
				check_valid(&m, b->len);
				accepted++;
			} else {
				refused++;
			}
		}
		/* random multi-byte damage */
		for (int r = 0; r < 300; r++) {
			memcpy(p, b->p, b->len);
			for (int j = 0; j < 3; j++)
				p[wh_test_below(&rng, b->len)] =
				    (uint8_t)wh_test_rand(&rng);
			if (wh_msg_decode(p, b->len, NULL, &m) == WH_OK)
				check_valid(&m, b->len);
		}
		free(p);
	}
	printf("bit flips: %zu refused, %zu still valid messages\n", refused,
	       accepted);
}

static void test_limits(void)
{
	struct wh_msg m;
	struct wh_buf b = {0};
	uint8_t dig[WH_ID_BYTES] = {0};
	/* oversized message */
	uint8_t *big = wh_xcalloc(WH_SYNC_MAX_MSG + 1, 1);
	CHECK_EQ(wh_msg_decode(big, WH_SYNC_MAX_MSG + 1, NULL, &m),
		 WH_ETOOBIG);
	free(big);
	/* huge declared array and bin lengths */
	static const uint8_t a[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0x06};
	CHECK(wh_msg_decode(a, sizeof a, NULL, &m) != WH_OK);
	static const uint8_t o[] = {0x93, 0x06, 0x00, 0xdd, 0x00,
				    0x01, 0x00, 0x00, 0xc4};
	CHECK(wh_msg_decode(o, sizeof o, NULL, &m) != WH_OK);
	static const uint8_t bn[] = {0x93, 0x06, 0x00, 0x91, 0xc6,
				     0xff, 0xff, 0xff, 0xff, 0x00};
	CHECK(wh_msg_decode(bn, sizeof bn, NULL, &m) != WH_OK);
	/* unknown type, type 0, wrong arity */
	static const uint8_t t[] = {0x91, 0x0e};
	CHECK_EQ(wh_msg_decode(t, sizeof t, NULL, &m), WH_EVERSION);
	/* RSUM and ROSTER (version 4) */
	{
		struct wh_buf rb = {0};
		uint8_t ent[2][WH_MSG_RSUM_ENTRY], sg[WH_PK_BYTES];
		uint64_t ser;
		memset(sg, 0xab, sizeof sg);
		wh_msg_rsum_put(ent[0], sg, 7);
		sg[0] = 1;
		wh_msg_rsum_put(ent[1], sg, 1ull << 40);
		wh_msg_rsum(&rb, &ent[0][0], 2);
		CHECK_EQ(wh_msg_decode(rb.p, rb.len, NULL, &m), WH_OK);
		CHECK_EQ(m.type, WH_MSG_RSUM);
		CHECK_EQ(m.n, 2);
		wh_msg_rsum_entry(&m, 1, sg, &ser);
		CHECK(sg[0] == 1 && sg[1] == 0xab && ser == 1ull << 40);
		wh_buf_reset(&rb);
		wh_msg_rsum(&rb, &ent[0][0], 0);
		rb.p[rb.len - 1]++; /* claims a byte it lacks */
		CHECK(wh_msg_decode(rb.p, rb.len, NULL, &m) != WH_OK);
		wh_buf_reset(&rb);
		wh_msg_roster(&rb, sg, 0); /* an empty roster */
		CHECK_EQ(wh_msg_decode(rb.p, rb.len, NULL, &m), WH_EDECODE);
		wh_buf_reset(&rb);
		wh_msg_roster(&rb, sg, sizeof sg);
		CHECK_EQ(wh_msg_decode(rb.p, rb.len, NULL, &m), WH_OK);
		CHECK(m.type == WH_MSG_ROSTER && m.data.n == sizeof sg);
		wh_buf_fini(&rb);
	}
	static const uint8_t t0[] = {0x91, 0x00};
	CHECK_EQ(wh_msg_decode(t0, sizeof t0, NULL, &m), WH_EVERSION);
	static const uint8_t ar[] = {0x92, 0x08, 0x00};
	CHECK_EQ(wh_msg_decode(ar, sizeof ar, NULL, &m), WH_EDECODE);
	/* MORE asking for too much, or nothing */
	wh_msg_more(&b, scope, 1, 0, WH_MSG_MAX_MORE + 1);
	CHECK_EQ(wh_msg_decode(b.p, b.len, NULL, &m), WH_ETOOBIG);
	wh_buf_reset(&b);
	wh_msg_more(&b, scope, 1, 0, 0);
	CHECK(wh_msg_decode(b.p, b.len, NULL, &m) != WH_OK);
	wh_buf_reset(&b);
	/* too many symbols in one message */
	size_t ns = WH_MSG_MAX_SYMS + 1;
	struct wh_riblt_sym *syms = wh_xcalloc(ns, sizeof *syms);
	wh_msg_symbols_write(&b, scope, 1, 0, syms, ns);
	CHECK_EQ(wh_msg_decode(b.p, b.len, NULL, &m), WH_ETOOBIG);
	wh_buf_reset(&b);
	wh_msg_symbols_write(&b, scope, 1, 0, syms, ns - 1);
	CHECK_EQ(wh_msg_decode(b.p, b.len, NULL, &m), WH_OK);
	wh_buf_reset(&b);
	free(syms);
	/* too many keys in one WANT */
	uint64_t *keys = wh_xcalloc(WH_MSG_MAX_KEYS + 1, 8);
	wh_msg_want(&b, scope, 1, 0, keys, WH_MSG_MAX_KEYS + 1);
	CHECK(wh_msg_decode(b.p, b.len, NULL, &m) != WH_OK);
	wh_buf_reset(&b);
	free(keys);
	/* WANT(all) with keys; unknown flags */
	uint64_t k1 = 5;
	wh_msg_want(&b, scope, 1, WH_WANT_ALL, &k1, 1);
	CHECK_EQ(wh_msg_decode(b.p, b.len, NULL, &m), WH_EDECODE);
	wh_buf_reset(&b);
	wh_msg_want(&b, scope, 1, 8, NULL, 0);
	CHECK_EQ(wh_msg_decode(b.p, b.len, NULL, &m), WH_EDECODE);
	wh_buf_reset(&b);
	/* bad paths */
	wh_msg_digest(&b, "Xicheng", 1, 0, dig);
	CHECK_EQ(wh_msg_decode(b.p, b.len, NULL, &m), WH_EPATH);
	wh_buf_reset(&b);
	wh_msg_digest(&b, "a//b", 1, 0, dig);
	CHECK_EQ(wh_msg_decode(b.p, b.len, NULL, &m), WH_EPATH);
	wh_buf_reset(&b);
	/* a non-canonical varint in a symbol (1 spelt in two bytes) */
	uint8_t raw[17 + 1];
	memset(raw, 0, sizeof raw);
	raw[16] = 0x81;
	raw[17] = 0x00;
	wh_mpw_array(&b, 5);
	wh_mpw_uint(&b, WH_MSG_SYMBOLS);
	wh_mpw_cstr(&b, scope);
	wh_mpw_uint(&b, 1);
	wh_mpw_uint(&b, 0);
	wh_mpw_bin(&b, raw, sizeof raw);
	CHECK_EQ(wh_msg_decode(b.p, b.len, NULL, &m), WH_EDECODE);
	wh_buf_fini(&b);
}

/* BLOBWANT and BLOB (protocol 3): round trip, and every bound. */
static void test_blob_msgs(void)
{
	const char *sc = "xicheng/xinjiekou";
	uint8_t h[3 * WH_ID_BYTES];
	for (size_t i = 0; i < sizeof h; i++)
		h[i] = (uint8_t)i;
	struct wh_buf b = {0};
	struct wh_msg m;
	wh_msg_blobwant(&b, sc, h, 3);
	CHECK_EQ(wh_msg_decode(b.p, b.len, NULL, &m), WH_OK);
	CHECK(m.type == WH_MSG_BLOBWANT && m.n == 3 &&
	      !strcmp(m.scope, sc) && !memcmp(m.data.p, h, sizeof h));
	wh_buf_reset(&b);
	wh_msg_blobwant(&b, sc, h, 0); /* asks for nothing */
	CHECK_EQ(wh_msg_decode(b.p, b.len, NULL, &m), WH_EDECODE);
	uint8_t *many = wh_xcalloc(WH_MSG_MAX_BLOBWANT + 1, WH_ID_BYTES);
	wh_buf_reset(&b);
	wh_msg_blobwant(&b, sc, many, WH_MSG_MAX_BLOBWANT + 1);
	CHECK(wh_msg_decode(b.p, b.len, NULL, &m) != WH_OK);
	free(many);
	uint8_t piece[100];
	memset(piece, 7, sizeof piece);
	wh_buf_reset(&b);
	wh_msg_blob(&b, sc, h, 1000, 900, piece, 100);
	CHECK_EQ(wh_msg_decode(b.p, b.len, NULL, &m), WH_OK);
	CHECK(m.type == WH_MSG_BLOB && m.count == 1000 && m.first == 900 &&
	      m.data.n == 100 && !memcmp(m.digest, h, WH_ID_BYTES));
	struct {
		uint64_t size, off;
		size_t n;
	} bad[] = {
		{1000, 901, 100},		/* runs past the size */
		{1000, 1000, 1},		/* starts at the end */
		{WH_BLOB_MAX_BYTES + 1ull, 0, 100}, /* no blob is that big */
		{1000, 0, 0},			/* empty */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		wh_buf_reset(&b);
		wh_msg_blob(&b, sc, h, bad[i].size, bad[i].off, piece,
			    bad[i].n);
		if (wh_msg_decode(b.p, b.len, NULL, &m) == WH_OK) {
			fprintf(stderr, "blob bound %zu accepted\n", i);
			wh_test_failures++;
		}
	}
	uint8_t *big = wh_xcalloc(WH_MSG_BLOB_CHUNK + 1, 1);
	wh_buf_reset(&b);
	wh_msg_blob(&b, sc, h, WH_MSG_BLOB_CHUNK + 1, 0, big,
		    WH_MSG_BLOB_CHUNK + 1);
	CHECK(wh_msg_decode(b.p, b.len, NULL, &m) != WH_OK);
	free(big);
	wh_buf_fini(&b);
}

int main(void)
{
	rng = wh_test_seed("test_msg");
	REQUIRE(wh_crypto_init() == WH_OK);
	REQUIRE(wh_key_generate(&key) == WH_OK);
	struct sample s[NMSG];
	make_all(s);
	test_roundtrip(s);
	test_mutations(s);
	test_limits();
	for (int i = 0; i < NMSG; i++)
		wh_buf_fini(&s[i].b);
	wh_key_free(key);
	test_blob_msgs();
	return wh_test_done("test_msg");
}
