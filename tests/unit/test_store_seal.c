/*
 * test_store_seal.c: what the store does with sealed personal data. A
 * keys op makes its envelope content wanted and served in its case's
 * scopes, like an attachment; an erase op destroys that content (and
 * its pieces and wanted rows) on every store that holds the ops,
 * whichever of the two arrives first, and refuses it from then on
 * (put, pieces, get, scope); rebuild keeps it destroyed; the view drops
 * the sealed bytes while every op stays and still verifies; a hash a
 * keys op of the erased case names is destroyed even when an attach op
 * of another case named it first (what is destroyed depends on the ops,
 * not on their order).
 */
#include "seal.h"
#include "test_store_util.h"

#define XA "xicheng/xinjiekou/zhaodengyu"

static struct wh_key *k1, *k2;

static int count_want(void *ctx, const uint8_t h[WH_ID_BYTES], uint64_t size)
{
	(void)h;
	(void)size;
	++*(size_t *)ctx;
	return 0;
}

static size_t wanted(struct wh_store *s, const char *scope)
{
	size_t n = 0;
	REQUIRE(wh_store_blobs_wanted(s, scope, count_want, &n) == WH_OK);
	return n;
}

static int held(struct wh_store *s, const uint8_t h[WH_ID_BYTES])
{
	struct wh_buf b = {0};
	int rc = wh_store_blob_get(s, h, 0, 0, &b, NULL);
	wh_buf_fini(&b);
	return rc == WH_OK;
}

static int verify_cb(void *ctx, const struct wh_op *op, enum wh_apply how)
{
	(void)how;
	size_t *n = ctx;
	if (wh_op_verify(op) == WH_OK)
		n[0]++;
	n[1]++;
	return 0;
}

/* Ops of case (code, seq) held, and how many of them verify. */
static void history(struct wh_store *s, const char *code, uint32_t seq,
		    size_t *verified, size_t *total)
{
	size_t n[2] = {0, 0};
	REQUIRE(wh_store_case_history(s, code, seq, verify_cb, n) == WH_OK);
	*verified = n[0];
	*total = n[1];
}

static void case_view(struct wh_store *s, const char *code, uint32_t seq,
		      int *sealed, int *erased)
{
	struct wh_case c;
	REQUIRE(wh_store_case_get(s, code, seq, &c) == WH_OK);
	*sealed = c.sealed != NULL && c.has_kid;
	*erased = c.erased;
	wh_case_fini(&c);
}

struct fill {
	const struct wh_seal_key *k;
	struct wh_buf buf;
	int calls;
};

static int fill_fn(void *ctx, const struct wh_op_draft *d, size_t i)
{
	struct fill *f = ctx;
	if (f->calls < 0)
		return WH_EFAULT;
	f->calls++;
	if (i != 0)
		return WH_OK;
	struct wh_buf b = {0};
	int rc = wh_seal_seal(f->k, d->code, d->seq, "赵", NULL, &b);
	if (!rc && b.len == f->buf.len)
		memcpy(f->buf.p, b.p, b.len);
	wh_buf_fini(&b);
	return rc;
}

int main(void)
{
	REQUIRE(wh_crypto_init() == WH_OK);
	REQUIRE(wh_key_generate(&k1) == WH_OK);
	REQUIRE(wh_key_generate(&k2) == WH_OK);

	/* Case ZDY-1: sealed data, an envelope for k1 and k2, its keys op;
	 * then the erase. Case ZDY-2 attaches a photo and (a forged
	 * reference) keys op naming the same photo is added to case 1. */
	struct wh_seal_key *ck;
	REQUIRE(wh_seal_key_new(&ck) == WH_OK);
	uint8_t readers[2][WH_PK_BYTES];
	memcpy(readers[0], k1->pk, WH_PK_BYTES);
	memcpy(readers[1], k2->pk, WH_PK_BYTES);
	struct wh_buf env = {0}, sealed = {0};
	REQUIRE(wh_seal_env_build(ck, (const uint8_t(*)[32])readers, 2, &env) ==
		WH_OK);
	REQUIRE(wh_seal_seal(ck, "ZDY", 1, "张三", "139", &sealed) == WH_OK);
	uint8_t eh[WH_ID_BYTES];
	wh_hash(env.p, env.len, eh);
	uint8_t photo[4000];
	for (size_t i = 0; i < sizeof photo; i++)
		photo[i] = (uint8_t)(i * 2654435761u >> 11);
	uint8_t ph[WH_ID_BYTES];
	wh_hash(photo, sizeof photo, ph);

	struct t_ops o = {0};
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_CASE_CREATE, "ZDY", 1, XA);
	wh_draft_str(&d, WH_F_TITLE, "噪音扰民");
	wh_draft_bin(&d, WH_F_SEALED, sealed.p, sealed.len);
	wh_draft_bin(&d, WH_F_KID, ck->kid, WH_ID_BYTES);
	t_build(&o, &d, k1, WH_HLC_MAKE(T_NOW - 9000, 0)); /* 0 */
	wh_draft_init(&d, WH_OP_CASE_KEYS, "ZDY", 1, XA);
	wh_draft_bin(&d, WH_F_KID, ck->kid, WH_ID_BYTES);
	wh_draft_bin(&d, WH_F_BLOB, eh, WH_ID_BYTES);
	wh_draft_uint(&d, WH_F_SIZE, env.len);
	t_build(&o, &d, k1, WH_HLC_MAKE(T_NOW - 8000, 0)); /* 1 */
	wh_draft_init(&d, WH_OP_CASE_CREATE, "ZDY", 2, XA);
	wh_draft_str(&d, WH_F_TITLE, "井盖");
	t_build(&o, &d, k1, WH_HLC_MAKE(T_NOW - 7000, 0)); /* 2 */
	wh_draft_init(&d, WH_OP_ATTACH, "ZDY", 2, XA);
	wh_draft_bin(&d, WH_F_BLOB, ph, WH_ID_BYTES);
	wh_draft_uint(&d, WH_F_SIZE, sizeof photo);
	wh_draft_str(&d, WH_F_MIME, "image/jpeg");
	wh_draft_uint(&d, WH_F_SEEN, 0);
	t_build(&o, &d, k1, WH_HLC_MAKE(T_NOW - 6000, 0)); /* 3 */
	wh_draft_init(&d, WH_OP_CASE_KEYS, "ZDY", 1, XA);
	wh_draft_bin(&d, WH_F_KID, ck->kid, WH_ID_BYTES);
	wh_draft_bin(&d, WH_F_BLOB, ph, WH_ID_BYTES);
	wh_draft_uint(&d, WH_F_SIZE, sizeof photo);
	t_build(&o, &d, k1, WH_HLC_MAKE(T_NOW - 5000, 0)); /* 4 */
	wh_draft_init(&d, WH_OP_CASE_ERASE, "ZDY", 1, XA);
	wh_draft_bin(&d, WH_F_KID, ck->kid, WH_ID_BYTES);
	t_build(&o, &d, k1, WH_HLC_MAKE(T_NOW - 4000, 0)); /* 5 */

	/* The author's store: the envelope put first, then the ops. */
	char da[512], db[512], dc[512];
	t_tmpdir(da, "seal-a");
	t_tmpdir(db, "seal-b");
	t_tmpdir(dc, "seal-c");
	struct wh_store *a = t_open(da, 0, 0), *b = t_open(db, 0, 0),
			*c = t_open(dc, 0, 0);
	CHECK_EQ(wh_store_blob_put(a, env.p, env.len, NULL), WH_OK);
	CHECK_EQ(wh_store_blob_put(a, photo, sizeof photo, NULL), WH_OK);
	const size_t first[] = {0, 1, 2, 3, 4};
	CHECK_EQ(t_ingest(a, &o, first, 5, 0), 5);
	CHECK_EQ(wanted(a, ""), 0);
	int is_sealed, is_erased;
	case_view(a, "ZDY", 1, &is_sealed, &is_erased);
	CHECK(is_sealed && !is_erased);

	/* A peer: the envelope is wanted in the case's scopes and served
	 * there by the author, like a photo. */
	CHECK_EQ(t_ingest(b, &o, first, 5, 0), 5);
	CHECK_EQ(wanted(b, ""), 2);
	CHECK_EQ(wanted(b, "xicheng/xinjiekou"), 2);
	CHECK_EQ(wanted(b, "xicheng/shichahai"), 0);
	CHECK_EQ(wh_store_blob_in_scope(a, eh, "xicheng/xinjiekou"), WH_OK);
	CHECK_EQ(wh_store_blob_in_scope(a, eh, "xicheng/shichahai"),
		 WH_ENOTFOUND);
	int done = 0;
	CHECK_EQ(wh_store_blob_part(b, eh, env.len, 0, env.p, env.len, &done),
		 WH_OK);
	CHECK_EQ(done, 1);
	CHECK(held(b, eh));
	/* Another peer got half the envelope when the erase came. */
	CHECK_EQ(t_ingest(c, &o, first, 5, 0), 5);
	CHECK_EQ(wh_store_blob_part(c, eh, env.len, 0, env.p, env.len / 2,
				    &done),
		 WH_OK);
	CHECK_EQ(done, 0);

	/* The erase, everywhere. */
	const size_t erase[] = {5};
	for (int i = 0; i < 3; i++) {
		struct wh_store *s = i == 0 ? a : i == 1 ? b : c;
		CHECK_EQ(t_ingest(s, &o, erase, 1, 0), 1);
		CHECK(!held(s, eh));
		CHECK_EQ(wh_store_blob_in_scope(s, eh, ""), WH_ENOTFOUND);
		CHECK_EQ(wh_store_blob_put(s, env.p, env.len, NULL),
			 WH_EDENIED);
		CHECK_EQ(wh_store_blob_part(s, eh, env.len, 0, env.p, env.len,
					    &done),
			 WH_ENOTFOUND);
		CHECK(!held(s, eh));
		case_view(s, "ZDY", 1, &is_sealed, &is_erased);
		CHECK(!is_sealed && is_erased);
		size_t ok, total;
		history(s, "ZDY", 1, &ok, &total);
		CHECK(ok == 4 && total == 4);
	}
	/* The photo case 2 attached first, named by case 1's keys op too:
	 * destroyed with case 1's envelopes, on every store alike. */
	CHECK(!held(a, ph));
	CHECK_EQ(wh_store_blob_in_scope(a, ph, XA), WH_ENOTFOUND);
	CHECK_EQ(wanted(b, ""), 0);
	CHECK_EQ(wanted(c, ""), 0);

	/* Rebuild: still destroyed, still refused. */
	REQUIRE(wh_store_rebuild(b) == WH_OK);
	CHECK_EQ(wanted(b, ""), 0);
	CHECK_EQ(wh_store_blob_in_scope(b, eh, ""), WH_ENOTFOUND);
	CHECK_EQ(wh_store_blob_put(b, env.p, env.len, NULL), WH_EDENIED);
	case_view(b, "ZDY", 1, &is_sealed, &is_erased);
	CHECK(!is_sealed && is_erased);

	/* Many pieces in one transaction: one held already is no error,
	 * destroyed content refuses the whole call. */
	struct wh_slice two[2] = {{sealed.p, sealed.len}, {sealed.p, sealed.len}};
	CHECK_EQ(wh_store_blob_put_many(a, two, 2), WH_OK);
	uint8_t sh[WH_ID_BYTES];
	wh_hash(sealed.p, sealed.len, sh);
	CHECK(held(a, sh));
	struct wh_slice bad[2] = {{sealed.p, sealed.len}, {env.p, env.len}};
	CHECK_EQ(wh_store_blob_put_many(a, bad, 2), WH_EDENIED);
	CHECK(!held(a, eh));

	/* The erase first, the keys op later (another arrival order): the
	 * envelope is never wanted and refused when offered. */
	char dd[512];
	t_tmpdir(dd, "seal-d");
	struct wh_store *s4 = t_open(dd, 0, 0);
	const size_t early[] = {0, 5};
	CHECK_EQ(t_ingest(s4, &o, early, 2, 0), 2);
	const size_t late[] = {1};
	CHECK_EQ(t_ingest(s4, &o, late, 1, 0), 1);
	CHECK_EQ(wanted(s4, ""), 0);
	CHECK_EQ(wh_store_blob_part(s4, eh, env.len, 0, env.p, env.len, &done),
		 WH_ENOTFOUND);
	CHECK_EQ(wh_store_blob_put(s4, env.p, env.len, NULL), WH_EDENIED);
	/* Digests agree with a store that took them in the other order. */
	uint8_t g1[WH_ID_BYTES], g2[WH_ID_BYTES], v1[WH_ID_BYTES],
		v2[WH_ID_BYTES];
	const size_t case1[] = {0, 1, 5};
	char de[512];
	t_tmpdir(de, "seal-e");
	struct wh_store *s5 = t_open(de, 0, 0);
	CHECK_EQ(t_ingest(s5, &o, case1, 3, 0), 3);
	REQUIRE(wh_store_digest(s4, "", g1, NULL) == WH_OK);
	REQUIRE(wh_store_digest(s5, "", g2, NULL) == WH_OK);
	CHECK(!memcmp(g1, g2, WH_ID_BYTES));
	REQUIRE(wh_store_views_hash(s4, v1) == WH_OK);
	REQUIRE(wh_store_views_hash(s5, v2) == WH_OK);
	CHECK(!memcmp(v1, v2, WH_ID_BYTES));

	/* Authoring a new case whose sealed value is bound to the seq the
	 * store allocates: fill seals it inside the transaction. */
	uint64_t now = T_NOW;
	struct fill fctx = {ck, {0}, 0};
	wh_buf_reserve(&fctx.buf, wh_seal_size("赵", NULL));
	memset(fctx.buf.p, 0, wh_seal_size("赵", NULL));
	fctx.buf.len = wh_seal_size("赵", NULL);
	struct wh_op_draft nd[2];
	wh_draft_init(&nd[0], WH_OP_CASE_CREATE, "ZDY", 0, XA);
	wh_draft_str(&nd[0], WH_F_TITLE, "x");
	wh_draft_bin(&nd[0], WH_F_SEALED, fctx.buf.p, fctx.buf.len);
	wh_draft_bin(&nd[0], WH_F_KID, ck->kid, WH_ID_BYTES);
	wh_draft_init(&nd[1], WH_OP_CASE_NOTE, "ZDY", 0, XA);
	wh_draft_str(&nd[1], WH_F_TEXT, "n");
	CHECK_EQ(wh_store_author_fill(a, k1, nd, 2, t_clock, &now, NULL, NULL,
				      fill_fn, &fctx),
		 WH_OK);
	CHECK_EQ(nd[0].seq, 3);
	CHECK_EQ(fctx.calls, 2);
	struct wh_case nc;
	REQUIRE(wh_store_case_get(a, "ZDY", 3, &nc) == WH_OK);
	char *r = NULL, *cc = NULL;
	CHECK_EQ(wh_seal_open(ck, "ZDY", 3, nc.sealed, nc.nsealed, &r, &cc),
		 WH_OK);
	CHECK(r && !strcmp(r, "赵") && !cc);
	free(r);
	wh_case_fini(&nc);
	/* A refusing fill stores nothing. */
	fctx.calls = -100;
	wh_draft_init(&nd[0], WH_OP_CASE_CREATE, "ZDY", 0, XA);
	wh_draft_str(&nd[0], WH_F_TITLE, "y");
	CHECK_EQ(wh_store_author_fill(a, k1, nd, 1, t_clock, &now, NULL, NULL,
				      fill_fn, &fctx),
		 WH_EFAULT);
	CHECK_EQ(wh_store_case_get(a, "ZDY", 4, &nc), WH_ENOTFOUND);
	wh_buf_fini(&fctx.buf);

	wh_store_close(a);
	wh_store_close(b);
	wh_store_close(c);
	wh_store_close(s4);
	wh_store_close(s5);
	t_ops_free(&o);
	wh_buf_fini(&env);
	wh_buf_fini(&sealed);
	wh_seal_key_free(ck);
	wh_key_free(k1);
	wh_key_free(k2);
	return wh_test_done("test_store_seal");
}
