/*
 * fuzz_gen.h: deterministic, properly signed ops for the seed corpora
 * (mkcorpus.c) and for the targets that need valid ops of their own
 * (fuzz_view applies some to every view it decodes).
 *
 * Keys come from fixed seeds and Ed25519 signatures are deterministic,
 * so the same program writes the same bytes every time. Build failures
 * abort: they are bugs of this file, not findings.
 */
#ifndef WH_FUZZ_GEN_H
#define WH_FUZZ_GEN_H

#include "case.h"
#include "op.h"

#define FZ_CODE "FZ"
#define FZ_SEQ 1u
#define FZ_PATH "xicheng/xinjiekou/zhaodengyu"
#define FZ_T0_MS 1790000000000ull /* Sep 2026 */
#define FZ_MAX_OPS 64
#define FZ_NKEYS 4

/* Ops built so far, back to back in one buffer. */
struct fz_ops {
	struct wh_buf b;
	size_t off[FZ_MAX_OPS], len[FZ_MAX_OPS];
	size_t n;
};

/* Fixed key i (< FZ_NKEYS): street office, community, two departments.
 * Made on first use; fz_keys_free releases them. */
const struct wh_key *fz_key(unsigned i);
void fz_keys_free(void);

/* Stamp d with hlc, sign it with key i, append it; its index. */
size_t fz_add(struct fz_ops *o, struct wh_op_draft *d, unsigned key,
	      wh_hlc_ts hlc);
struct wh_slice fz_get(const struct fz_ops *o, size_t i);
void fz_fini(struct fz_ops *o);

/* One case (FZ_CODE, FZ_SEQ at FZ_PATH) taking every kind of case op,
 * once round the whistle-and-report loop, in fold order, from ms on. */
void fz_story(struct fz_ops *o, uint64_t ms);

/* Two problem lists (a district's and a street's) with sets and a del,
 * in fold order per list. */
void fz_problem_ops(struct fz_ops *o, uint64_t ms);

#endif
