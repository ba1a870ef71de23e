/*
 * test_store_util.h: what the store tests share: a fresh directory per
 * store under $WH_TEST_TMP, a settable clock, op building, op sets and
 * the expected digest computed independently of the store.
 */
#ifndef TEST_STORE_UTIL_H
#define TEST_STORE_UTIL_H

#include "case.h"
#include "mp.h"
#include "op.h"
#include "store.h"
#include "wh_test.h"

#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

/* A fixed "now" (2026-09): ops are stamped around it, ingest is told it. */
#define T_NOW 1790000000000ull

static inline void t_mkdirs(const char *path)
{
	char buf[4096];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		REQUIRE(mkdir(buf, 0700) == 0 || errno == EEXIST);
		*p = '/';
	}
	REQUIRE(mkdir(buf, 0700) == 0 || errno == EEXIST);
}

/* A fresh empty directory; 'out' has PATH_MAX-ish room (512). */
static inline void t_tmpdir(char out[512], const char *tag)
{
	const char *base = getenv("WH_TEST_TMP");
	if (!base || !*base)
		base = "/tmp/whistle-test";
	t_mkdirs(base);
	snprintf(out, 512, "%s/%s-XXXXXX", base, tag);
	REQUIRE(mkdtemp(out) != NULL);
}

static inline int t_rm_one(const char *p, const struct stat *st, int flag,
			   struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static inline void t_rmdir(const char *dir)
{
	nftw(dir, t_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline struct wh_store *t_open(const char *dir, uint64_t map,
				      uint64_t fail_at)
{
	struct wh_store_opts o = {map, 1, fail_at};
	struct wh_store *s = NULL;
	int rc = wh_store_open(dir, &o, &s);
	if (rc)
		fprintf(stderr, "open %s: %s\n", dir, wh_strerror(rc));
	REQUIRE(rc == WH_OK && s);
	return s;
}

static inline uint64_t t_clock(void *ctx)
{
	return *(uint64_t *)ctx;
}

/* A set of raw ops, each in its own buffer. */
struct t_ops {
	struct wh_buf *b;
	size_t n, cap;
};

static inline void t_ops_add(struct t_ops *o, const uint8_t *p, size_t n)
{
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 16;
		o->b = wh_xrealloc(o->b, o->cap * sizeof o->b[0]);
	}
	o->b[o->n] = (struct wh_buf){0};
	wh_buf_append(&o->b[o->n++], p, n);
}

static inline void t_ops_free(struct t_ops *o)
{
	for (size_t i = 0; i < o->n; i++)
		wh_buf_fini(&o->b[i]);
	free(o->b);
	*o = (struct t_ops){0};
}

/* Slices over o->b in the order idx gives (NULL: as stored). */
static inline struct wh_slice *t_slices(const struct t_ops *o,
					const size_t *idx, size_t n)
{
	struct wh_slice *sl = wh_xcalloc(n ? n : 1, sizeof *sl);
	for (size_t i = 0; i < n; i++) {
		const struct wh_buf *b = &o->b[idx ? idx[i] : i];
		sl[i] = (struct wh_slice){b->p, b->len};
	}
	return sl;
}

/* Build d at hlc with key and add it to o; returns its index. */
static inline size_t t_build(struct t_ops *o, struct wh_op_draft *d,
			     const struct wh_key *key, wh_hlc_ts hlc)
{
	struct wh_buf b = {0};
	d->hlc = hlc;
	int rc = wh_op_build(d, key, &b);
	if (rc)
		fprintf(stderr, "build: %s\n", wh_strerror(rc));
	REQUIRE(rc == WH_OK);
	t_ops_add(o, b.p, b.len);
	wh_buf_fini(&b);
	return o->n - 1;
}

static inline void t_id(const struct t_ops *o, size_t i, uint8_t id[32])
{
	wh_op_id(o->b[i].p, o->b[i].len, id);
}

/* Ingest ops (all, or idx[0..n)) in batches of 'batch'; every op must be
 * added or known. Returns the number added. */
static inline size_t t_ingest(struct wh_store *s, const struct t_ops *o,
			      const size_t *idx, size_t n, size_t batch)
{
	struct wh_slice *sl = t_slices(o, idx, n);
	struct wh_ingest_opts io = {T_NOW + 60000, NULL, 0};
	size_t added = 0;
	if (!batch)
		batch = n ? n : 1;
	for (size_t i = 0; i < n; i += batch) {
		size_t k = n - i < batch ? n - i : batch;
		struct wh_ingest_result r;
		int rc = wh_store_ingest(s, sl + i, k, &io, NULL, &r);
		if (rc)
			fprintf(stderr, "ingest: %s\n", wh_strerror(rc));
		REQUIRE(rc == WH_OK);
		if (r.refused)
			fprintf(stderr, "refused op %zu: %s\n",
				i + r.first_refused,
				wh_strerror(r.first_refused_error));
		CHECK_EQ(r.refused, 0);
		CHECK_EQ(r.added + r.known, k);
		added += r.added;
	}
	free(sl);
	return added;
}

/* The digest of a set of op ids, computed without the store. */
static inline void t_digest_of(const struct t_ops *o, const size_t *idx,
			       size_t n, uint8_t out[32])
{
	uint8_t sum[32] = {0}, cnt[8];
	for (size_t i = 0; i < n; i++) {
		uint8_t id[32];
		t_id(o, idx ? idx[i] : i, id);
		unsigned carry = 0;
		for (int j = 0; j < 32; j++) {
			unsigned t = (unsigned)sum[j] + id[j] + carry;
			sum[j] = (uint8_t)t;
			carry = t >> 8;
		}
	}
	for (int j = 0; j < 8; j++)
		cnt[j] = (uint8_t)((uint64_t)n >> (8 * j));
	struct wh_hasher h;
	wh_hasher_init(&h);
	wh_hasher_update(&h, (const uint8_t *)"whistle-digest-v1", 17);
	wh_hasher_update(&h, cnt, 8);
	wh_hasher_update(&h, sum, 32);
	wh_hasher_final(&h, out);
}

/* Everything that must match between two stores holding the same ops. */
struct t_state {
	uint8_t views[32], root[32];
	uint64_t count;
};

static inline struct t_state t_state_of(struct wh_store *s)
{
	struct t_state st;
	REQUIRE(wh_store_views_hash(s, st.views) == WH_OK);
	REQUIRE(wh_store_digest(s, NULL, st.root, &st.count) == WH_OK);
	return st;
}

static inline int t_state_eq(const struct t_state *a, const struct t_state *b)
{
	return !memcmp(a->views, b->views, 32) &&
	       !memcmp(a->root, b->root, 32) && a->count == b->count;
}

#endif
