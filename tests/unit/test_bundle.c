/*
 * test_bundle.c: the bundle, op file version 2 (crdt/opfile.c), and the
 * cut of one from a store (agent/carry.c).
 *
 * Container: a bundle round-trips (header fields, record kinds and
 * payloads in order, sizes as wh_opfile_rec_size says); every truncation
 * and every flipped bit is refused before any record is handed out; a
 * change whose checksum was made right again, and a header naming
 * another key than the signer's, are refused as forged (WH_ESIG);
 * unknown record kinds, empty payloads, keys out of order and unknown
 * versions are refused; version 1 files read as before.
 *
 * Cut: urgent cases first; a cap leaves whole cases out, never a part of
 * one; what a peer is known to hold (carry_learn) is left out, and only
 * that; a damaged carry record reads as nothing known.
 */
#include "carry.h"
#include "mp.h"
#include "op.h"
#include "opfile.h"
#include "test_store_util.h"
#include "wh_test.h"

#define PATH_A "xicheng/xinjiekou/zhaodengyu"

static void add_op(struct wh_opfile_writer *w, struct wh_buf *file,
		   const struct wh_key *k, uint32_t seq, size_t *lens,
		   struct wh_buf *ops)
{
	struct wh_op_draft d;
	size_t before = ops->len;
	wh_draft_init(&d, WH_OP_CASE_NOTE, "ZDY", seq, PATH_A "/g01");
	wh_draft_str(&d, WH_F_TEXT, "居民反映楼下占道经营");
	d.hlc = WH_HLC_MAKE(T_NOW + seq, 0);
	REQUIRE(wh_op_build(&d, k, ops) == WH_OK);
	*lens = ops->len - before;
	size_t was = file->len;
	wh_opfile_add(w, file, ops->p + before, *lens);
	CHECK_EQ(file->len - was, wh_opfile_rec_size(WH_OPREC_OP, *lens));
}

static void hdr_of(struct wh_opfile_hdr *h, const struct wh_key *k)
{
	memset(h, 0, sizeof *h);
	h->version = WH_OPFILE_BUNDLE;
	h->created_ms = T_NOW;
	snprintf(h->scope, sizeof h->scope, "xicheng");
	memcpy(h->writer, k->pk, WH_PK_BYTES);
	snprintf(h->writer_path, sizeof h->writer_path, PATH_A);
	h->has_for = 1;
	memset(h->for_pk, 0x42, WH_PK_BYTES);
	h->since_ms = T_NOW - 5;
	h->max_bytes = 1u << 20;
	h->has_base = 1;
	h->base_count = 77;
	memset(h->base_digest, 0x17, WH_ID_BYTES);
	h->left_out = 3;
	h->cases = 10;
}

/* A bundle: one roster-like record, ten ops, two contents. */
static void make(struct wh_buf *file, const struct wh_key *hk,
		 const struct wh_key *signer, struct wh_buf *ops,
		 size_t lens[10])
{
	struct wh_opfile_hdr h;
	struct wh_opfile_writer w;
	hdr_of(&h, hk);
	wh_opfile_begin(&w, file, &h);
	uint8_t roster[300], blob[70000];
	memset(roster, 0xab, sizeof roster);
	for (size_t i = 0; i < sizeof blob; i++)
		blob[i] = (uint8_t)(i * 7);
	size_t was = file->len;
	wh_opfile_add_rec(&w, file, WH_OPREC_ROSTER, roster, sizeof roster);
	CHECK_EQ(file->len - was,
		 wh_opfile_rec_size(WH_OPREC_ROSTER, sizeof roster));
	for (uint32_t i = 0; i < 10; i++)
		add_op(&w, file, hk, i + 1, &lens[i], ops);
	was = file->len;
	wh_opfile_add_rec(&w, file, WH_OPREC_BLOB, blob, sizeof blob);
	CHECK_EQ(file->len - was, wh_opfile_rec_size(WH_OPREC_BLOB, sizeof blob));
	wh_opfile_add_rec(&w, file, WH_OPREC_BLOB, blob, 10);
	was = file->len;
	wh_opfile_end_signed(&w, file, signer);
	CHECK(file->len - was <= WH_OPFILE_TRAILER_MAX);
}

/* Make the trailer's checksum right again after a change at or before
 * body bytes (what anyone can do; only the signature stops it). */
static void rechecksum(struct wh_buf *file, size_t body)
{
	uint8_t sum[WH_ID_BYTES];
	wh_hash(file->p, body, sum);
	struct wh_mp r;
	wh_mp_init(&r, file->p + body, file->len - body);
	uint32_t an;
	uint64_t count;
	REQUIRE(wh_mp_read_array(&r, &an, 3) == WH_OK && an == 3);
	REQUIRE(wh_mp_read_uint(&r, &count) == WH_OK);
	/* bin 32 header is 2 bytes: the sum follows it. */
	memcpy((uint8_t *)r.p + 2, sum, WH_ID_BYTES);
}

static void container(void)
{
	struct wh_key *k, *k2;
	REQUIRE(wh_key_generate(&k) == WH_OK);
	REQUIRE(wh_key_generate(&k2) == WH_OK);
	struct wh_buf ops = {0}, file = {0};
	size_t lens[10];
	make(&file, k, k, &ops, lens);

	struct wh_opfile_hdr got, want;
	struct wh_opfile_reader rd;
	size_t off;
	hdr_of(&want, k);
	REQUIRE(wh_opfile_open(file.p, file.len, &got, &rd, &off) == WH_OK);
	CHECK_EQ(got.version, 2);
	CHECK(!memcmp(&got, &want, sizeof got));
	CHECK_EQ(rd.count, 13);
	CHECK_EQ(rd.nops, 10);
	CHECK_EQ(rd.nrosters, 1);
	CHECK_EQ(rd.nblobs, 2);
	size_t body = (size_t)(rd.records_end - file.p);
	enum wh_oprec kind;
	struct wh_slice s;
	int i = 0;
	size_t at = 0;
	while (wh_opfile_next_rec(&rd, &kind, &s, &off)) {
		if (i == 0)
			CHECK(kind == WH_OPREC_ROSTER && s.n == 300);
		else if (i <= 10) {
			CHECK(kind == WH_OPREC_OP && s.n == lens[i - 1] &&
			      !memcmp(s.p, ops.p + at, s.n));
			at += s.n;
		} else
			CHECK(kind == WH_OPREC_BLOB &&
			      s.n == (i == 11 ? 70000u : 10u));
		i++;
	}
	CHECK_EQ(i, 13);
	REQUIRE(wh_opfile_open(file.p, file.len, &got, &rd, &off) == WH_OK);
	for (i = 0; wh_opfile_next(&rd, &s, &off); i++)
		CHECK(s.n == lens[i]);
	CHECK_EQ(i, 10); /* ops only */

	/* every truncation; at the records' end it is "ends early" */
	for (size_t n = 0; n < file.len; n++) {
		int rc = wh_opfile_open(file.p, n, &got, &rd, &off);
		CHECK(rc != WH_OK);
		CHECK(off <= n);
		if (n == body)
			CHECK_EQ(rc, WH_ETRUNC);
	}
	/* every flipped bit (the 70 KB content: every 97th byte) */
	for (size_t b = 0; b < file.len; b += b < 400 || b > body ? 1 : 97)
		for (int bit = 0; bit < 8; bit++) {
			file.p[b] ^= (uint8_t)(1u << bit);
			CHECK(wh_opfile_open(file.p, file.len, &got, &rd,
					     &off) != WH_OK);
			file.p[b] ^= (uint8_t)(1u << bit);
		}
	/* forged: a changed op, the checksum made right again */
	size_t in_op = body - 100;
	file.p[in_op] ^= 1;
	rechecksum(&file, body);
	CHECK_EQ(wh_opfile_open(file.p, file.len, &got, &rd, &off), WH_ESIG);
	/* forged: a changed header (another scope), checksum right again */
	struct wh_buf f2 = {0}, ops2 = {0};
	make(&f2, k, k, &ops2, lens);
	uint8_t *sc = memmem(f2.p, 200, "xicheng", 7);
	REQUIRE(sc);
	sc[0] = 'y';
	rechecksum(&f2, body);
	CHECK_EQ(wh_opfile_open(f2.p, f2.len, &got, &rd, &off), WH_ESIG);
	/* signed by another key than the header names */
	wh_buf_reset(&f2);
	wh_buf_reset(&ops2);
	make(&f2, k, k2, &ops2, lens);
	CHECK_EQ(wh_opfile_open(f2.p, f2.len, &got, &rd, &off), WH_ESIG);
	/* ... and by the key it names: authentic (trust is not ours) */
	wh_buf_reset(&f2);
	wh_buf_reset(&ops2);
	make(&f2, k2, k2, &ops2, lens);
	CHECK_EQ(wh_opfile_open(f2.p, f2.len, &got, &rd, &off), WH_OK);

	/* an unknown record kind, an empty payload: refused */
	struct wh_opfile_hdr h;
	struct wh_opfile_writer w;
	hdr_of(&h, k);
	for (int t = 0; t < 2; t++) {
		wh_buf_reset(&f2);
		wh_opfile_begin(&w, &f2, &h);
		if (t == 0)
			wh_opfile_add_rec(&w, &f2, (enum wh_oprec)4,
					  (const uint8_t *)"x", 1);
		else
			wh_opfile_add_rec(&w, &f2, WH_OPREC_BLOB,
					  (const uint8_t *)"", 0);
		wh_opfile_end_signed(&w, &f2, k);
		CHECK_EQ(wh_opfile_open(f2.p, f2.len, &got, &rd, &off),
			 WH_EDECODE);
	}
	/* a header with keys out of order; a version we do not know */
	for (int t = 0; t < 2; t++) {
		wh_buf_reset(&f2);
		wh_buf_append(&f2, WH_OPFILE_MAGIC, WH_OPFILE_MAGIC_LEN);
		wh_mpw_map(&f2, 2);
		wh_mpw_uint(&f2, t == 0 ? 4 : 1);
		if (t == 0)
			wh_mpw_bin(&f2, k->pk, WH_PK_BYTES);
		else
			wh_mpw_uint(&f2, 3);
		wh_mpw_uint(&f2, t == 0 ? 1 : 4);
		if (t == 0)
			wh_mpw_uint(&f2, 2);
		else
			wh_mpw_bin(&f2, k->pk, WH_PK_BYTES);
		wh_mpw_array(&f2, 3);
		int rc = wh_opfile_open(f2.p, f2.len, &got, &rd, &off);
		CHECK_EQ(rc, t == 0 ? WH_EDECODE : WH_EVERSION);
	}
	/* version 1 reads as before; a typed record is not one of its */
	wh_buf_reset(&f2);
	h.version = WH_OPFILE_VERSION;
	wh_opfile_begin(&w, &f2, &h);
	wh_opfile_add(&w, &f2, ops.p, lens[0]);
	wh_opfile_end(&w, &f2);
	CHECK_EQ(wh_opfile_open(f2.p, f2.len, &got, &rd, &off), WH_OK);
	CHECK(got.version == 1 && rd.count == 1 && got.cases == 0 &&
	      !got.has_base && !got.writer_path[0]);
	wh_buf_reset(&f2);
	wh_opfile_begin(&w, &f2, &h);
	wh_opfile_add_rec(&w, &f2, WH_OPREC_BLOB, (const uint8_t *)"x", 1);
	wh_opfile_end(&w, &f2);
	CHECK(wh_opfile_open(f2.p, f2.len, &got, &rd, &off) != WH_OK);

	wh_buf_fini(&f2);
	wh_buf_fini(&ops2);
	wh_buf_fini(&ops);
	wh_buf_fini(&file);
	wh_key_free(k);
	wh_key_free(k2);
}

/* ---- the cut ---------------------------------------------------------- */

static uint64_t now_clock = T_NOW;

/* A case of priority pri with a description of desc bytes and a note. */
static void add_case(struct wh_store *s, const struct wh_key *k, unsigned pri,
		     size_t desc)
{
	char text[4000];
	REQUIRE(desc < sizeof text);
	memset(text, 'a', desc);
	text[desc] = '\0';
	struct wh_op_draft d[2];
	wh_draft_init(&d[0], WH_OP_CASE_CREATE, "ZDY", 0, PATH_A "/g01");
	wh_draft_str(&d[0], WH_F_TITLE, "楼道堆物");
	wh_draft_uint(&d[0], WH_F_PRIORITY, pri);
	if (desc)
		wh_draft_str(&d[0], WH_F_DESCRIPTION, text);
	wh_draft_init(&d[1], WH_OP_CASE_NOTE, "ZDY", 0, PATH_A "/g01");
	wh_draft_str(&d[1], WH_F_TEXT, "已通知物业");
	now_clock += 10;
	REQUIRE(wh_store_author(s, k, d, 2, t_clock, &now_clock, NULL, NULL) ==
		WH_OK);
}

struct seen {
	uint32_t seq[64];
	unsigned nops[64];
	size_t n;
};

/* The cases of a bundle in file order, with their op counts. */
static void cases_of(const struct wh_buf *b, struct seen *sn,
		     struct wh_opfile_hdr *h)
{
	struct wh_opfile_reader rd;
	size_t off;
	memset(sn, 0, sizeof *sn);
	REQUIRE(wh_opfile_open(b->p, b->len, h, &rd, &off) == WH_OK);
	struct wh_slice s;
	while (wh_opfile_next(&rd, &s, &off)) {
		struct wh_op op;
		REQUIRE(wh_op_decode(s.p, s.n, &op) == WH_OK);
		if (!sn->n || sn->seq[sn->n - 1] != op.seq) {
			REQUIRE(sn->n < 64);
			sn->seq[sn->n++] = op.seq;
		}
		sn->nops[sn->n - 1]++;
	}
}

static void cut(void)
{
	char dir[512];
	t_tmpdir(dir, "bundle");
	struct wh_store *s = t_open(dir, 0, 0);
	struct wh_key *k;
	REQUIRE(wh_key_generate(&k) == WH_OK);
	/* seq 1..6: normal, low, urgent(3), high, normal (big), urgent(6) */
	add_case(s, k, WH_PRI_NORMAL, 100);
	add_case(s, k, WH_PRI_LOW, 100);
	add_case(s, k, WH_PRI_URGENT, 100);
	add_case(s, k, WH_PRI_HIGH, 100);
	add_case(s, k, WH_PRI_NORMAL, 3000);
	add_case(s, k, WH_PRI_URGENT, 100);

	struct carry_opts o = {.scope = "xicheng", .now_ms = T_NOW};
	struct carry_result r;
	struct wh_buf b = {0};
	struct seen sn;
	struct wh_opfile_hdr h;
	REQUIRE(carry_build(s, k, &o, &b, &r) == WH_OK);
	cases_of(&b, &sn, &h);
	CHECK_EQ(sn.n, 6);
	uint32_t order[6] = {3, 6, 4, 1, 5, 2}; /* urgent, high, normal, low */
	for (size_t i = 0; i < 6 && i < sn.n; i++) {
		CHECK_EQ(sn.seq[i], order[i]);
		CHECK_EQ(sn.nops[i], 2);
	}
	CHECK(r.ops == 12 && r.cases == 6 && r.urgent == 2 && !r.left_out);
	CHECK(h.has_base && h.base_count == 12 && h.cases == 6);

	/* A cap: the big normal case (5) does not fit and is left out
	 * whole; the low one after it still does. */
	size_t full = b.len;
	o.max_bytes = full - 2000;
	wh_buf_reset(&b);
	REQUIRE(carry_build(s, k, &o, &b, &r) == WH_OK);
	CHECK(b.len <= o.max_bytes);
	cases_of(&b, &sn, &h);
	CHECK_EQ(sn.n, 5);
	CHECK(r.left_out == 1 && h.left_out == 1 && r.ops == 10);
	for (size_t i = 0; i < sn.n; i++) {
		CHECK(sn.seq[i] != 5);
		CHECK_EQ(sn.nops[i], 2); /* never half a case */
	}
	CHECK_EQ(sn.seq[sn.n - 1], 2);
	/* A cap below the header: WH_ETOOBIG and the least possible. */
	o.max_bytes = 50;
	wh_buf_reset(&b);
	CHECK_EQ(carry_build(s, k, &o, &b, &r), WH_ETOOBIG);
	CHECK(r.need_min > 50 && r.need_min < 600);
	o.max_bytes = 0;

	/* What a peer holds: it told us (count, digest) of xicheng. */
	uint8_t peer[WH_PK_BYTES], dg[WH_ID_BYTES];
	uint64_t cnt;
	memset(peer, 9, sizeof peer);
	REQUIRE(wh_store_digest(s, "xicheng", dg, &cnt) == WH_OK);
	dg[0] ^= 1;
	CHECK_EQ(carry_learn(s, peer, "xicheng", cnt, dg, "sync"), WH_ESTATE);
	dg[0] ^= 1;
	CHECK_EQ(carry_learn(s, peer, "xicheng", cnt, dg, "sync"), WH_OK);
	struct carry_peer kp;
	REQUIRE(carry_peer_get(s, peer, &kp) == WH_OK);
	CHECK(kp.n == 1 && !strcmp(kp.k[0].scope, "xicheng") &&
	      kp.k[0].pos == 12);
	o.known = &kp;
	wh_buf_reset(&b);
	REQUIRE(carry_build(s, k, &o, &b, &r) == WH_OK);
	CHECK(r.ops == 0 && r.known == 12 && r.cases == 0);
	/* One new op on case 1 and a new case: only those go. */
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_CASE_NOTE, "ZDY", 1, PATH_A "/g01");
	wh_draft_str(&d, WH_F_TEXT, "复查");
	now_clock += 10;
	REQUIRE(wh_store_author(s, k, &d, 1, t_clock, &now_clock, NULL,
				NULL) == WH_OK);
	add_case(s, k, WH_PRI_NORMAL, 10);
	wh_buf_reset(&b);
	REQUIRE(carry_build(s, k, &o, &b, &r) == WH_OK);
	cases_of(&b, &sn, &h);
	CHECK(r.ops == 3 && r.known == 12 && sn.n == 2);
	CHECK(sn.seq[0] == 1 && sn.nops[0] == 1 && sn.seq[1] == 7);
	/* Knowledge of a narrower scope does not cover a wider one's
	 * other cases; a later statement about the same scope replaces. */
	REQUIRE(wh_store_digest(s, "xicheng", dg, &cnt) == WH_OK);
	CHECK_EQ(carry_learn(s, peer, "xicheng", cnt, dg, "bundle"), WH_OK);
	REQUIRE(carry_peer_get(s, peer, &kp) == WH_OK);
	CHECK(kp.n == 1 && kp.k[0].pos == 15 && !strcmp(kp.k[0].how, "bundle"));
	/* --since: only cases with an op at or after it, each whole. */
	o.known = NULL;
	o.since_ms = now_clock - 15; /* the last two authoring calls */
	wh_buf_reset(&b);
	REQUIRE(carry_build(s, k, &o, &b, &r) == WH_OK);
	cases_of(&b, &sn, &h);
	CHECK(sn.n == 2 && sn.seq[0] == 1 && sn.nops[0] == 3 && sn.nops[1] == 2);
	CHECK(h.since_ms == o.since_ms);

	/* A damaged record is nothing known, not an error. */
	char name[80] = "carry/";
	wh_hex(peer, WH_PK_BYTES, name + 6);
	REQUIRE(wh_store_state_put(s, name, (const uint8_t *)"\x91\xff", 2) ==
		WH_OK);
	CHECK_EQ(carry_peer_get(s, peer, &kp), WH_OK);
	CHECK_EQ(kp.n, 0);
	/* The record codec round-trips and refuses what is not one. */
	struct carry_peer in = {.n = 2}, outp;
	snprintf(in.k[0].scope, sizeof in.k[0].scope, "xicheng");
	in.k[0].pos = 5;
	snprintf(in.k[1].scope, sizeof in.k[1].scope, PATH_A);
	in.k[1].pos = 7;
	in.k[1].at_ms = 99;
	snprintf(in.k[1].how, sizeof in.k[1].how, "sync");
	struct wh_buf rb = {0};
	carry_peer_encode(&in, &rb);
	REQUIRE(carry_peer_decode(rb.p, rb.len, &outp) == WH_OK);
	CHECK(outp.n == 2 && outp.k[1].pos == 7 && outp.k[1].at_ms == 99 &&
	      !strcmp(outp.k[1].scope, PATH_A) && !strcmp(outp.k[1].how, "sync"));
	for (size_t n = 0; n < rb.len; n++)
		CHECK(carry_peer_decode(rb.p, n, &outp) != WH_OK);
	wh_buf_fini(&rb);

	wh_buf_fini(&b);
	wh_key_free(k);
	wh_store_close(s);
	t_rmdir(dir);
}

int main(void)
{
	REQUIRE(wh_crypto_init() == WH_OK);
	container();
	cut();
	return wh_test_done("test_bundle");
}
