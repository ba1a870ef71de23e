/*
 * gen_snap.h: what two stores holding the same op set must agree on
 * (views, digests per scope, counts, the loop's statistics), taken as a
 * snapshot and compared, and the digest of a set computed without the
 * store. Part of gen.h (which includes it at its end); not included on
 * its own.
 */
#ifndef WH_GEN_SNAP_H
#define WH_GEN_SNAP_H

#include "stats.h"

/* ---- store snapshots ---- */

/* What two stores holding the same op set must agree on: views,
 * digests, counts, and the loop's statistics (whistle stats) per scope
 * at one fixed "now". */
struct gen_snap {
	uint8_t views[WH_ID_BYTES];
	uint8_t wanted[WH_ID_BYTES]; /* content wanted, in hash order */
	uint8_t dig[GEN_NSCOPES][WH_ID_BYTES];
	uint64_t cnt[GEN_NSCOPES];
	uint8_t stats[GEN_NSCOPES][WH_ID_BYTES];
	struct wh_store_info info;
};

#define GEN_STATS_NOW 1800000000000ull

static inline int gen_stats_cb(void *ctx, const struct wh_case *c)
{
	wh_stats_add(ctx, c);
	return 0;
}

static inline void gen_hash_u64(struct wh_hasher *h, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	wh_hasher_update(h, b, 8);
}

static inline void gen_stats_row(struct wh_hasher *h,
				 const struct wh_stats_row *r)
{
	const char *d = r->dept ? r->dept : "";
	gen_hash_u64(h, strlen(d));
	wh_hasher_update(h, (const uint8_t *)d, strlen(d));
	uint64_t v[] = {r->cases, r->cancelled, r->summonses,
			r->response.num, r->response.den, r->resolution.num,
			r->resolution.den, r->satisfaction.num,
			r->satisfaction.den, r->to_report.n,
			r->to_report.mean_ms, r->to_report.p90_ms,
			r->to_resolve.n, r->to_resolve.mean_ms,
			r->to_resolve.p90_ms, r->overdue_cases,
			r->overdue_summonses};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		gen_hash_u64(h, v[i]);
}

/* A hash of every figure `whistle stats` gives for scope. */
static inline void gen_stats_of(struct wh_store *s, const char *scope,
				uint8_t out[WH_ID_BYTES])
{
	struct wh_stats_opts o = {GEN_STATS_NOW, 0, UINT64_MAX};
	struct wh_stats_acc a;
	struct wh_stats_result r;
	struct wh_case_filter f = {scope, -1, 0};
	wh_stats_init(&a, &o);
	REQUIRE(wh_store_case_list(s, &f, gen_stats_cb, &a) == WH_OK);
	wh_stats_finish(&a, &r);
	struct wh_hasher h;
	wh_hasher_init(&h);
	gen_stats_row(&h, &r.total);
	for (size_t i = 0; i < r.ndepts; i++)
		gen_stats_row(&h, &r.depts[i]);
	gen_hash_u64(&h, r.incomplete);
	wh_hasher_final(&h, out);
	wh_stats_result_fini(&r);
}

/* The hashes wanted. Not their sizes: when ops of different cases name
 * one hash with different sizes, the first to arrive gives the size
 * (store_blob.c), which is arrival order, not the op set. */
static inline int gen_wanted_cb(void *ctx, const uint8_t h[WH_ID_BYTES],
				uint64_t size)
{
	(void)size;
	wh_hasher_update(ctx, h, WH_ID_BYTES);
	return 0;
}

static inline void gen_snap(struct wh_store *s, struct gen_snap *sn)
{
	memset(sn, 0, sizeof *sn);
	REQUIRE(wh_store_views_hash(s, sn->views) == WH_OK);
	struct wh_hasher h;
	wh_hasher_init(&h);
	REQUIRE(wh_store_blobs_wanted(s, NULL, gen_wanted_cb, &h) == WH_OK);
	wh_hasher_final(&h, sn->wanted);
	for (size_t k = 0; k < GEN_NSCOPES; k++) {
		REQUIRE(wh_store_digest(s, gen_scopes[k], sn->dig[k],
					&sn->cnt[k]) == WH_OK);
		gen_stats_of(s, gen_scopes[k], sn->stats[k]);
	}
	REQUIRE(wh_store_info(s, &sn->info) == WH_OK);
}

/* Compare two snapshots field by field; print what differs, as 'what'.
 * Returns 1 when equal. */
static inline int gen_snap_eq(const struct gen_snap *a,
			      const struct gen_snap *b, const char *what)
{
	int eq = 1;
	if (memcmp(a->views, b->views, WH_ID_BYTES)) {
		fprintf(stderr, "%s: views hash differs\n", what);
		eq = 0;
	}
	if (memcmp(a->wanted, b->wanted, WH_ID_BYTES)) {
		fprintf(stderr, "%s: content wanted differs\n", what);
		eq = 0;
	}
	for (size_t k = 0; k < GEN_NSCOPES; k++)
		if (a->cnt[k] != b->cnt[k] ||
		    memcmp(a->dig[k], b->dig[k], WH_ID_BYTES)) {
			fprintf(stderr,
				"%s: digest at scope \"%s\" differs "
				"(count %" PRIu64 " vs %" PRIu64 ")\n",
				what, gen_scopes[k], a->cnt[k], b->cnt[k]);
			eq = 0;
		}
	for (size_t k = 0; k < GEN_NSCOPES; k++)
		if (memcmp(a->stats[k], b->stats[k], WH_ID_BYTES)) {
			fprintf(stderr, "%s: statistics at scope \"%s\" differ\n",
				what, gen_scopes[k]);
			eq = 0;
		}
	if (a->info.ops != b->info.ops || a->info.cases != b->info.cases ||
	    a->info.op_bytes != b->info.op_bytes ||
	    a->info.hlc_max != b->info.hlc_max) {
		fprintf(stderr,
			"%s: info differs: ops %" PRIu64 "/%" PRIu64
			" cases %" PRIu64 "/%" PRIu64 " bytes %" PRIu64
			"/%" PRIu64 " hlc_max %" PRIx64 "/%" PRIx64 "\n",
			what, a->info.ops, b->info.ops, a->info.cases,
			b->info.cases, a->info.op_bytes, b->info.op_bytes,
			a->info.hlc_max, b->info.hlc_max);
		eq = 0;
	}
	return eq;
}

/* The digest of a set as store.h defines it, computed independently:
 * BLAKE2b-256 over "whistle-digest-v1", the count (u64 little-endian)
 * and the sum of the ids as 256-bit little-endian integers mod 2^256. */
struct gen_digest {
	uint64_t count;
	uint8_t sum[WH_ID_BYTES];
};

static inline void gen_digest_add(struct gen_digest *d,
				  const uint8_t id[WH_ID_BYTES])
{
	unsigned carry = 0;
	for (size_t i = 0; i < WH_ID_BYTES; i++) {
		unsigned v = (unsigned)d->sum[i] + id[i] + carry;
		d->sum[i] = (uint8_t)v;
		carry = v >> 8;
	}
	d->count++;
}

static inline void gen_digest_final(const struct gen_digest *d,
				    uint8_t out[WH_ID_BYTES])
{
	struct wh_hasher h;
	uint8_t le[8];
	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)(d->count >> (8 * i));
	wh_hasher_init(&h);
	wh_hasher_update(&h, (const uint8_t *)"whistle-digest-v1", 17);
	wh_hasher_update(&h, le, 8);
	wh_hasher_update(&h, d->sum, WH_ID_BYTES);
	wh_hasher_final(&h, out);
}

#endif
