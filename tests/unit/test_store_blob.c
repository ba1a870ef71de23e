/*
 * test_store_blob.c: attachment content. Put and get by hash; an attach
 * op makes its content wanted, in its case's scopes only; pieces from a
 * peer are taken only when wanted and of the size the op names, survive
 * a restart, and are checked against the hash when complete (forged
 * pieces are dropped, the content stays wanted); rebuild keeps content
 * and recomputes what is wanted.
 */
#include "test_store_util.h"

static struct wh_key *k1;

#define XA "xicheng/xinjiekou/zhaodengyu"

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

int main(void)
{
	REQUIRE(wh_crypto_init() == WH_OK);
	REQUIRE(wh_key_generate(&k1) == WH_OK);
	char dir[512];
	t_tmpdir(dir, "blob");
	struct wh_store *s = t_open(dir, 0, 0);

	/* A photo: 300 KiB of bytes that do not repeat. */
	size_t n = 300 * 1024;
	uint8_t *photo = wh_xmalloc(n);
	for (size_t i = 0; i < n; i++)
		photo[i] = (uint8_t)(i * 2654435761u >> 13);
	uint8_t h[WH_ID_BYTES];
	wh_hash(photo, n, h);

	/* Put / get on a second store, directly. */
	char dir2[512];
	t_tmpdir(dir2, "blob2");
	struct wh_store *s2 = t_open(dir2, 0, 0);
	uint8_t h2[WH_ID_BYTES];
	CHECK_EQ(wh_store_blob_put(s2, photo, n, h2), WH_OK);
	CHECK(!memcmp(h, h2, WH_ID_BYTES));
	CHECK_EQ(wh_store_blob_put(s2, photo, n, NULL), WH_EEXIST);
	CHECK_EQ(wh_store_blob_put(s2, photo, 0, NULL), WH_ETOOBIG);
	CHECK_EQ(wh_store_blob_put(s2, photo, WH_BLOB_MAX_BYTES + 1, NULL),
		 WH_ETOOBIG);
	struct wh_buf b = {0};
	uint64_t size = 0;
	CHECK_EQ(wh_store_blob_get(s2, h, 1000, 24, &b, &size), WH_OK);
	CHECK_EQ(size, n);
	CHECK(b.len == 24 && !memcmp(b.p, photo + 1000, 24));
	wh_buf_reset(&b);
	uint8_t nope[WH_ID_BYTES] = {1};
	CHECK_EQ(wh_store_blob_get(s2, nope, 0, 0, &b, NULL), WH_ENOTFOUND);

	/* Nobody asked: pieces are refused. */
	int done = 9;
	CHECK_EQ(wh_store_blob_part(s, h, n, 0, photo, 1000, &done),
		 WH_ENOTFOUND);
	CHECK_EQ(done, 0);

	/* An attach op names it: wanted in its scopes only. */
	struct t_ops o = {0};
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_CASE_CREATE, "ZDY", 1, XA);
	wh_draft_str(&d, WH_F_TITLE, "井盖破损");
	t_build(&o, &d, k1, WH_HLC_MAKE(T_NOW - 5000, 0));
	wh_draft_init(&d, WH_OP_ATTACH, "ZDY", 1, XA);
	wh_draft_bin(&d, WH_F_BLOB, h, WH_ID_BYTES);
	wh_draft_uint(&d, WH_F_SIZE, n);
	wh_draft_str(&d, WH_F_MIME, "image/jpeg");
	wh_draft_uint(&d, WH_F_SEEN, 0);
	t_build(&o, &d, k1, WH_HLC_MAKE(T_NOW - 4000, 0));
	CHECK_EQ(t_ingest(s, &o, NULL, o.n, 0), 2);
	CHECK_EQ(wanted(s, ""), 1);
	CHECK_EQ(wanted(s, "xicheng/xinjiekou"), 1);
	CHECK_EQ(wanted(s, "xicheng/shichahai"), 0);
	CHECK_EQ(wh_store_blob_in_scope(s, h, "xicheng"), WH_OK);
	CHECK_EQ(wh_store_blob_in_scope(s, h, "dongcheng"), WH_ENOTFOUND);
	CHECK_EQ(wh_store_blob_in_scope(s, nope, ""), WH_ENOTFOUND);
	struct wh_case c;
	REQUIRE(wh_store_case_get(s, "ZDY", 1, &c) == WH_OK);
	CHECK_EQ(c.flow.nfiles, 1);
	CHECK(c.flow.nfiles && c.flow.files[0].size == n);
	wh_case_fini(&c);

	/* Wrong size, or a piece past the end: refused. */
	CHECK_EQ(wh_store_blob_part(s, h, n + 1, 0, photo, 1000, &done),
		 WH_EFIELD);
	CHECK_EQ(wh_store_blob_part(s, h, n, n - 10, photo, 11, &done),
		 WH_ETOOBIG);

	/* Forged pieces covering the whole: dropped, still wanted. */
	uint8_t *bad = wh_xmalloc(n);
	memcpy(bad, photo, n);
	bad[n / 2] ^= 1;
	CHECK_EQ(wh_store_blob_part(s, h, n, 0, bad, n / 2 + 1, &done), WH_OK);
	CHECK_EQ(done, 0);
	CHECK_EQ(wh_store_blob_part(s, h, n, n / 2 + 1, bad + n / 2 + 1,
				    n - n / 2 - 1, &done),
		 WH_ECHECKSUM);
	CHECK_EQ(done, 0);
	CHECK_EQ(wanted(s, ""), 1);

	/* Real pieces, last one first, with a restart in the middle. */
	size_t piece = 64 * 1024, np = (n + piece - 1) / piece;
	for (size_t i = np; i-- > 1;) {
		size_t off = i * piece, len = n - off < piece ? n - off : piece;
		CHECK_EQ(wh_store_blob_part(s, h, n, off, photo + off, len,
					    &done),
			 WH_OK);
		CHECK_EQ(done, 0);
		if (i == np / 2) {
			wh_store_close(s);
			s = t_open(dir, 0, 0);
		}
	}
	/* A piece that came twice changes nothing. */
	CHECK_EQ(wh_store_blob_part(s, h, n, piece, photo + piece, piece,
				    &done),
		 WH_OK);
	CHECK_EQ(done, 0);
	CHECK_EQ(wh_store_blob_part(s, h, n, 0, photo, piece, &done), WH_OK);
	CHECK_EQ(done, 1);
	CHECK_EQ(wanted(s, ""), 0);
	CHECK_EQ(wh_store_blob_part(s, h, n, 0, photo, piece, &done),
		 WH_EEXIST);
	wh_buf_reset(&b);
	CHECK_EQ(wh_store_blob_get(s, h, 0, 0, &b, &size), WH_OK);
	CHECK(b.len == n && !memcmp(b.p, photo, n));

	/* Rebuild keeps content and wants nothing new. */
	REQUIRE(wh_store_rebuild(s) == WH_OK);
	CHECK_EQ(wanted(s, ""), 0);
	wh_buf_reset(&b);
	CHECK_EQ(wh_store_blob_get(s, h, 0, 0, &b, NULL), WH_OK);
	CHECK_EQ(b.len, n);
	/* and on a store that lacks it, rebuild still knows it is wanted */
	CHECK_EQ(t_ingest(s2, &o, NULL, o.n, 0), 2);
	CHECK_EQ(wanted(s2, ""), 0); /* s2 had it before the op came */
	char dir3[512];
	t_tmpdir(dir3, "blob3");
	struct wh_store *s3 = t_open(dir3, 0, 0);
	CHECK_EQ(t_ingest(s3, &o, NULL, o.n, 0), 2);
	REQUIRE(wh_store_rebuild(s3) == WH_OK);
	CHECK_EQ(wanted(s3, ""), 1);

	wh_buf_fini(&b);
	free(bad);
	free(photo);
	t_ops_free(&o);
	wh_store_close(s);
	wh_store_close(s2);
	wh_store_close(s3);
	wh_key_free(k1);
	return wh_test_done("test_store_blob");
}
