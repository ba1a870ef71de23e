/*
 * gen.h: random case histories for the integration tests, and the small
 * scratch-directory helpers they share. Header-only: each test is one
 * translation unit and includes it once.
 *
 * A history is made by 3-5 stations (authors), each with its own key, its
 * own skewed wall clock (up to +-5 minutes off a shared simulated time)
 * and its own hybrid logical clock. Before each step the acting author
 * "receives" a random subset of the ops it has not seen yet, merging their
 * stamps with wh_hlc_recv (an op whose stamp its clock refuses stays
 * unseen, as the receive rule says). It then acts on what it believes: the
 * fold of the ops it has seen. So status steps carry the status the
 * author saw (stale when it missed a step: conflicts), tag removes name
 * the add ids it saw, a station that missed a create may create the same
 * id again (dup create), and stamps respect causality for what was seen.
 *
 * Invariants: ops[] holds every op made, in creation order, each decoded
 * (op borrows from p, which never moves); per case the indices of its
 * ops. The oracle gen_fold() sorts a case's ops in (hlc, author, id)
 * order and folds them with wh_case_apply: the store must agree with it.
 *
 * What lives elsewhere: the fold itself (crdt/case.c), the store
 * (store/), the laws being checked (the tests).
 */
#ifndef WH_GEN_H
#define WH_GEN_H

#include "case.h"
#include "hlc.h"
#include "key.h"
#include "mp.h"
#include "op.h"
#include "store.h"
#include "wh_test.h"

#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#define GEN_BASE_MS 1790000000000ull /* Sep 2026, fixed: replayable */
#define GEN_MAX_AUTHORS 5
#define GEN_SKEW_MS (5 * 60 * 1000)

/* Station codes (one per author) and the paths cases live on. */
static const char *const gen_codes[GEN_MAX_AUTHORS] = {
    "XJK-ZDY", "XJK-SJF", "XJK-BTS", "SCH-DXJ", "XJK-XJK"};

static const char *const gen_paths[] = {
    "xicheng/xinjiekou/zhaodengyu/g07",
    "xicheng/xinjiekou/zhaodengyu/g02",
    "xicheng/xinjiekou/sanjianfang",
    "xicheng/xinjiekou/baitasi/g01",
    "xicheng/shichahai/dongming/g11",
    "dongcheng/jingshan/huangcheng",
    /* component-prefix neighbours: "xinjie" is not part of "xinjiekou",
     * a case on a community sits above its grids */
    "xicheng/xinjie/g01",
    "xicheng/xinjiekou/zhaodengyu",
};
#define GEN_NPATHS (sizeof gen_paths / sizeof gen_paths[0])

/* Scopes the tests compare digests at: root, districts, streets,
 * communities, a grid, and prefixes that are not component boundaries:
 * "xicheng/xinjie" must not hold "xicheng/xinjiekou/...", and
 * "xicheng/xinjiekou/zhaodeng" must hold nothing. */
static const char *const gen_scopes[] = {
    "",
    "xicheng",
    "xicheng/xinjiekou",
    "xicheng/xinjiekou/zhaodengyu",
    "xicheng/xinjiekou/zhaodengyu/g07",
    "xicheng/xinjiekou/sanjianfang",
    "xicheng/shichahai",
    "dongcheng",
    "xicheng/xinjie",
    "xicheng/xinjiekou/zhaodeng",
};
#define GEN_NSCOPES (sizeof gen_scopes / sizeof gen_scopes[0])

static const char *const gen_titles[] = {
    "楼道堆物堵塞消防通道",
    "小区门口占道经营",
    "老旧小区加装电梯意见不一",
    "居住停车位不足，夜间乱停",
    "房屋中介违规占用人行道",
    "物业管理不到位，垃圾满溢",
    "煤改电设备故障，冬季取暖困难",
    "违法建设：楼顶加盖彩钢房",
    "开墙打洞经营餐饮",
    "井盖缺失 near 12号楼",
    "Broken street lamp on 新街口北大街",
};
static const char *const gen_texts[] = {
    "已联系物业，约定明日上午清理。",
    "网格员现场核实，情况属实。",
    "街道吹哨，城管、消防到场报到。",
    "居民反映问题已解决，表示满意。",
    "转区级平台受理。",
    "12345 工单已回复。",
    "photo uploaded",
    "涉及多个部门，需召开协调会。",
};
static const char *const gen_categories[] = {
    "消防隐患", "占道经营", "老旧小区管理", "居住停车",
    "物业管理", "违法建设", "环境污染"};
static const char *const gen_tags[] = {"消防", "占道",	 "噪音",
				       "垃圾", "urgent", "老旧小区"};
static const char *const gen_parties[] = {"城管执法队", "消防救援站", "物业",
					  "派出所", "房管所"};

struct gen_op {
	uint8_t *p; /* owned op bytes */
	size_t n;
	struct wh_op op; /* decoded; borrows p */
	int author;
	int ci; /* index into gen.cases */
};

struct gen;

struct gen_author {
	struct wh_key *key;
	struct wh_hlc clk;
	int64_t skew_ms;
	unsigned see_pct; /* chance of receiving each unseen op per step */
	uint32_t next_seq;
	uint8_t *seen; /* per op index */
	size_t seen_cap;
	size_t lo; /* every op below lo is seen */
	struct gen *g;
};

struct gen_case {
	char code[WH_CODE_MAX + 1];
	uint32_t seq;
	size_t *ops; /* indices into gen.ops */
	size_t nops, cap;
};

struct gen {
	uint64_t rng;
	uint64_t t_ms; /* shared simulated time since GEN_BASE_MS */
	int nauth;
	struct gen_author a[GEN_MAX_AUTHORS];
	struct gen_case *cases;
	int ncases, max_cases;
	struct gen_op *ops;
	size_t nops, cap;
	unsigned broken_pct; /* per mille of ops stamped by a broken clock */
	/* What the history contains, to prove the generator exercises it. */
	size_t nkind[WH_OP_KIND_MAX + 1], ndup_create, nstale_status, nbroken,
	    nrecv_refused;
};

static inline uint64_t gen_clock(void *ctx)
{
	const struct gen_author *a = ctx;
	return (uint64_t)((int64_t)(GEN_BASE_MS + a->g->t_ms) + a->skew_ms);
}

static inline uint64_t gen_rand(struct gen *g, uint64_t n)
{
	return wh_test_below(&g->rng, n);
}

#define GEN_PICK(g, arr) ((arr)[gen_rand((g), sizeof(arr) / sizeof((arr)[0]))])

/* A history maker: nauth authors (3..5), up to max_cases cases. */
static inline void gen_init(struct gen *g, uint64_t seed, int nauth,
			    int max_cases)
{
	memset(g, 0, sizeof *g);
	g->rng = seed;
	g->nauth = nauth;
	g->max_cases = max_cases;
	g->cases = wh_xcalloc((size_t)max_cases, sizeof g->cases[0]);
	g->broken_pct = 25;
	for (int i = 0; i < nauth; i++) {
		struct gen_author *a = &g->a[i];
		REQUIRE(wh_key_generate(&a->key) == WH_OK);
		a->g = g;
		a->skew_ms =
		    (int64_t)gen_rand(g, 2 * GEN_SKEW_MS + 1) - GEN_SKEW_MS;
		a->see_pct = 20 + (unsigned)gen_rand(g, 70);
		a->next_seq = 1;
		wh_hlc_init(&a->clk, gen_clock, a, 0);
	}
}

static inline void gen_fini(struct gen *g)
{
	for (int i = 0; i < g->nauth; i++) {
		wh_key_free(g->a[i].key);
		free(g->a[i].seen);
	}
	for (int i = 0; i < g->ncases; i++)
		free(g->cases[i].ops);
	for (size_t i = 0; i < g->nops; i++)
		free(g->ops[i].p);
	free(g->cases);
	free(g->ops);
	memset(g, 0, sizeof *g);
}

static inline int gen_seen(const struct gen_author *a, size_t i)
{
	return i < a->seen_cap && a->seen[i];
}

static inline void gen_mark_seen(struct gen_author *a, size_t i)
{
	if (i >= a->seen_cap) {
		size_t cap = a->seen_cap ? a->seen_cap * 2 : 256;
		while (cap <= i)
			cap *= 2;
		a->seen = wh_xrealloc(a->seen, cap);
		memset(a->seen + a->seen_cap, 0, cap - a->seen_cap);
		a->seen_cap = cap;
	}
	a->seen[i] = 1;
	while (a->lo < a->g->nops && gen_seen(a, a->lo))
		a->lo++;
}

/* The author receives each op it has not seen with its see_pct chance. */
static inline void gen_receive(struct gen *g, struct gen_author *a)
{
	for (size_t i = a->lo; i < g->nops; i++) {
		if (gen_seen(a, i) || gen_rand(g, 100) >= a->see_pct)
			continue;
		if (wh_hlc_recv(&a->clk, g->ops[i].op.hlc) != WH_OK) {
			g->nrecv_refused++; /* too far ahead: stays unseen */
			continue;
		}
		gen_mark_seen(a, i);
	}
}

static inline int gen_cmp_idx_ctx_sort(const void *x, const void *y);
static struct gen *gen_sort_ctx; /* qsort has no context argument */

static inline int gen_cmp_idx_ctx_sort(const void *x, const void *y)
{
	size_t i = *(const size_t *)x, j = *(const size_t *)y;
	return wh_op_cmp(&gen_sort_ctx->ops[i].op, &gen_sort_ctx->ops[j].op);
}

/*
 * The oracle: fold case ci from its ops in fold order into c (initialised
 * here). With a mask, only the ops i with i < mask_n && mask[i] (an
 * author's belief, or a subset a store received). how, if not NULL, is
 * indexed by op index and receives each op's outcome. Returns how many
 * ops were folded.
 */
static inline size_t gen_fold(struct gen *g, int ci, const uint8_t *mask,
			      size_t mask_n, struct wh_case *c,
			      enum wh_apply *how)
{
	struct gen_case *gc = &g->cases[ci];
	size_t *idx = wh_xmalloc((gc->nops ? gc->nops : 1) * sizeof *idx);
	size_t n = 0;
	for (size_t k = 0; k < gc->nops; k++) {
		size_t i = gc->ops[k];
		if (!mask || (i < mask_n && mask[i]))
			idx[n++] = i;
	}
	gen_sort_ctx = g;
	qsort(idx, n, sizeof *idx, gen_cmp_idx_ctx_sort);
	wh_case_init(c, gc->code, gc->seq);
	for (size_t k = 0; k < n; k++) {
		enum wh_apply h;
		REQUIRE(wh_case_apply(c, &g->ops[idx[k]].op, &h) == WH_OK);
		if (how)
			how[idx[k]] = h;
	}
	free(idx);
	return n;
}

/* Build, decode and record one op of author ai for case ci. */
static inline void gen_emit(struct gen *g, int ai, int ci,
			    struct wh_op_draft *d)
{
	struct gen_author *a = &g->a[ai];
	d->hlc = wh_hlc_tick(&a->clk);
	if (gen_rand(g, 1000) < g->broken_pct) {
		/* A station whose clock jumped back and was not restarted:
		 * the op sorts before things its author had seen. Only such
		 * histories make OR-set tombstones; the laws must hold for
		 * them too. The HLC itself is left alone. */
		d->hlc -= WH_HLC_MAKE(1 + gen_rand(g, 20 * 60 * 1000), 0);
		g->nbroken++;
	}
	struct wh_buf b = {0};
	int rc = wh_op_build(d, a->key, &b);
	if (rc != WH_OK)
		fprintf(stderr, "gen: build kind %u: %s\n", d->kind,
			wh_strerror(rc));
	REQUIRE(rc == WH_OK);
	if (g->nops == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 256;
		g->ops = wh_xrealloc(g->ops, g->cap * sizeof g->ops[0]);
	}
	struct gen_op *o = &g->ops[g->nops];
	o->p = b.p; /* take the buffer */
	o->n = b.len;
	o->author = ai;
	o->ci = ci;
	REQUIRE(wh_op_decode(o->p, o->n, &o->op) == WH_OK);
	struct gen_case *gc = &g->cases[ci];
	if (gc->nops == gc->cap) {
		gc->cap = gc->cap ? gc->cap * 2 : 16;
		gc->ops = wh_xrealloc(gc->ops, gc->cap * sizeof gc->ops[0]);
	}
	gc->ops[gc->nops++] = g->nops;
	g->nops++;
	g->nkind[d->kind]++;
	gen_mark_seen(a, g->nops - 1);
}

static inline void gen_lww_fields(struct gen *g, struct wh_op_draft *d,
				  struct wh_buf *loc, int create)
{
	static const char *const addrs[] = {"西城区新街口北大街12号院3号楼",
					    "赵登禹路88号", "三不老胡同1号",
					    "Building 7, 德胜门外大街"};
	static const char *const refs[] = {"12345-2026-0001873",
					   "12345-2026-0042210", "WG-07-113"};
	int nf = 1 + (int)gen_rand(g, 3);
	uint32_t used = 0;
	if (create) {
		wh_draft_str(d, WH_F_TITLE, GEN_PICK(g, gen_titles));
		used |= 1u << WH_F_TITLE;
	}
	for (int k = 0; k < nf; k++) {
		static const uint8_t keys[] = {WH_F_TITLE,    WH_F_DESCRIPTION,
					       WH_F_CATEGORY, WH_F_ADDRESS,
					       WH_F_SOURCE,   WH_F_PRIORITY,
					       WH_F_REPORTER, WH_F_CONTACT,
					       WH_F_LOCATION, WH_F_EXTREF};
		uint8_t key = GEN_PICK(g, keys);
		if (used & (1u << key))
			continue;
		used |= 1u << key;
		switch (key) {
		case WH_F_TITLE:
			wh_draft_str(d, key, GEN_PICK(g, gen_titles));
			break;
		case WH_F_DESCRIPTION:
		case WH_F_REPORTER:
			wh_draft_str(d, key, GEN_PICK(g, gen_texts));
			break;
		case WH_F_CATEGORY:
			wh_draft_str(d, key, GEN_PICK(g, gen_categories));
			break;
		case WH_F_ADDRESS:
			wh_draft_str(d, key, GEN_PICK(g, addrs));
			break;
		case WH_F_CONTACT:
			wh_draft_str(d, key,
				     gen_rand(g, 2) ? "138****5521" : "王女士");
			break;
		case WH_F_EXTREF:
			wh_draft_str(d, key, GEN_PICK(g, refs));
			break;
		case WH_F_SOURCE:
			wh_draft_uint(d, key, gen_rand(g, WH_SOURCE_MAX + 1));
			break;
		case WH_F_PRIORITY:
			wh_draft_uint(d, key, gen_rand(g, WH_PRIORITY_MAX + 1));
			break;
		case WH_F_LOCATION:
			wh_buf_reset(loc);
			wh_mpw_int(loc,
				   399400000 + (int64_t)gen_rand(g, 100000));
			wh_mpw_int(loc,
				   1163600000 - (int64_t)gen_rand(g, 100000));
			wh_draft_array(d, key, loc->p, loc->len, 2);
			break;
		}
	}
}

/* A new case by author ai, or (dup) a second create of an existing id
 * by a station that has not seen its create. */
static inline void gen_create(struct gen *g, int ai, int dup_of)
{
	struct wh_op_draft d;
	struct wh_buf loc = {0};
	int ci = dup_of;
	if (ci < 0) {
		ci = g->ncases++;
		struct gen_case *gc = &g->cases[ci];
		snprintf(gc->code, sizeof gc->code, "%s", gen_codes[ai]);
		gc->seq = g->a[ai].next_seq++;
	} else {
		g->ndup_create++;
	}
	const struct gen_case *gc = &g->cases[ci];
	wh_draft_init(&d, WH_OP_CASE_CREATE, gc->code, gc->seq,
		      GEN_PICK(g, gen_paths));
	gen_lww_fields(g, &d, &loc, 1);
	gen_emit(g, ai, ci, &d);
	wh_buf_fini(&loc);
}

/* A random allowed target from 'from', or now and then any status. */
static inline unsigned gen_target(struct gen *g, unsigned from)
{
	unsigned ok[WH_STATUS_MAX + 1], n = 0;
	for (unsigned to = 0; to <= WH_STATUS_MAX; to++)
		if (wh_status_allowed(from, to))
			ok[n++] = to;
	if (n == 0 || gen_rand(g, 100) < 5)
		return (unsigned)gen_rand(g, WH_STATUS_MAX + 1);
	return ok[gen_rand(g, n)];
}

static const char *const gen_depts[] = {"城管", "公安", "住建", "消防",
					"市场监管"};
static const uint64_t gen_limits[] = {0, 3600000, 7200000, 86400000,
				      604800000};

/* A step of the whistle-and-report loop by an author who believes the
 * case is c: mostly steps that make sense for c (the author's view may
 * be stale, so some do not by the time they are folded), now and then
 * one that does not (a report from a department never summoned, a
 * rating of an open case), which every replica must ignore alike. */
static inline void gen_flow(struct gen *g, const struct wh_case *c,
			    struct wh_op_draft *d, struct wh_buf *tmp,
			    const char *code, uint32_t seq, const char *path)
{
	const struct wh_flow *f = &c->flow;
	unsigned r = (unsigned)gen_rand(g, 100);
	uint32_t open = 0; /* summonses of the current round */
	for (uint32_t i = 0; i < f->nsummons; i++)
		open += f->summons[i].round == f->round;
	int result = c->status == WH_ST_RESOLVED || c->status == WH_ST_CLOSED;
	if (result && r < 50) /* the loop's end: feedback and ratings */
		r = 76 + (unsigned)gen_rand(g, 18);
	if (f->level == WH_LEVEL_NONE || r < 10) {
		wh_draft_init(d, WH_OP_TRIAGE, code, seq, path);
		wh_draft_uint(d, WH_F_LEVEL,
			      gen_rand(g, 100) < 70 ? WH_LEVEL_BIG
						    : gen_rand(g, 3));
	} else if (open == 0 || r < 35) {
		wh_draft_init(d, WH_OP_WHISTLE, code, seq, path);
		wh_draft_uint(d, WH_F_WKIND,
			      open && gen_rand(g, 100) < 30
				  ? WH_WK_SUPERVISE
				  : gen_rand(g, WH_WKIND_MAX + 1));
		wh_draft_uint(d, WH_F_WHISTLER,
			      gen_rand(g, 100) < 80 ? WH_WHISTLER_STREET
						    : gen_rand(g, 3));
		uint32_t nd = 1 + (uint32_t)gen_rand(g, 3);
		const char *lead = NULL;
		for (uint32_t k = 0; k < nd; k++) {
			const char *dp = GEN_PICK(g, gen_depts);
			wh_mpw_cstr(tmp, dp);
			if (!lead || gen_rand(g, 100) < 20)
				lead = dp;
		}
		wh_draft_array(d, WH_F_DEPTS, tmp->p, tmp->len, nd);
		if (gen_rand(g, 100) < 80)
			wh_draft_str(d, WH_F_LEAD, lead);
		wh_draft_uint(d, WH_F_REPORT_MS, GEN_PICK(g, gen_limits));
		wh_draft_uint(d, WH_F_RESOLVE_MS, GEN_PICK(g, gen_limits));
	} else if (r < 75) {
		/* a department the author saw summoned, or any */
		const char *dp = GEN_PICK(g, gen_depts);
		if (open && gen_rand(g, 100) < 90) {
			uint32_t k = (uint32_t)gen_rand(g, open);
			for (uint32_t i = 0; i < f->nsummons; i++)
				if (f->summons[i].round == f->round && !k--) {
					dp = f->summons[i].dept;
					break;
				}
		}
		wh_draft_init(d, WH_OP_REPORT, code, seq, path);
		wh_draft_str(d, WH_F_DEPT, dp);
		wh_draft_uint(d, WH_F_STEP,
			      gen_rand(g, 100) < 35
				  ? WH_STEP_RESOLVE
				  : gen_rand(g, WH_STEP_MAX + 1));
	} else if (r < 82) {
		wh_draft_init(d, WH_OP_FEEDBACK, code, seq, path);
		wh_draft_str(d, WH_F_TEXT, GEN_PICK(g, gen_texts));
		wh_draft_uint(d, WH_F_CHANNEL, gen_rand(g, WH_CHANNEL_MAX + 1));
	} else if (r < 94) {
		wh_draft_init(d, WH_OP_RATE, code, seq, path);
		wh_draft_uint(d, WH_F_SCORE, 1 + gen_rand(g, 5));
		if (gen_rand(g, 3) == 0) {
			wh_draft_uint(d, WH_F_RATER, WH_RATER_STREET);
			wh_draft_str(d, WH_F_DEPT, GEN_PICK(g, gen_depts));
		} else {
			wh_draft_uint(d, WH_F_RATER, WH_RATER_RESIDENT);
		}
	} else {
		/* The draft borrows its bytes until the caller builds it. */
		static uint8_t h[WH_ID_BYTES];
		memset(h, 0, sizeof h);
		h[0] = (uint8_t)gen_rand(g, 8); /* repeats on purpose */
		wh_draft_init(d, WH_OP_ATTACH, code, seq, path);
		wh_draft_bin(d, WH_F_BLOB, h, sizeof h);
		wh_draft_uint(d, WH_F_SIZE, 1000 + gen_rand(g, 100000));
		wh_draft_str(d, WH_F_MIME, "image/jpeg");
		wh_draft_str(d, WH_F_NAME, "现场照片.jpg");
	}
	wh_draft_uint(d, WH_F_SEEN, c->last_hlc);
}

/* Sealed personal data (crdt/seal.h), as the fold sees it: bytes and a
 * key id it never opens, keys ops naming envelope content nobody holds
 * (so the store wants it), and now and then an erase. tmp holds the
 * random bytes: kid (32), blob (32), then the sealed value. */
static inline void gen_personal(struct gen *g, struct wh_op_draft *d,
				struct wh_buf *tmp, const char *code,
				uint32_t seq, const char *path)
{
	size_t n = 41 + gen_rand(g, 80);
	wh_buf_reserve(tmp, 64 + n);
	for (size_t i = 0; i < 64 + n; i++)
		tmp->p[i] = (uint8_t)gen_rand(g, 256);
	tmp->len = 64 + n;
	/* A few kids per case, so keys ops and seals share them. */
	tmp->p[0] = (uint8_t)gen_rand(g, 3);
	memset(tmp->p + 1, 0x5a, 31);
	unsigned r = (unsigned)gen_rand(g, 10);
	if (r < 4) {
		wh_draft_init(d, WH_OP_CASE_SET, code, seq, path);
		wh_draft_bin(d, WH_F_SEALED, tmp->p + 64, n);
		wh_draft_bin(d, WH_F_KID, tmp->p, WH_ID_BYTES);
	} else if (r < 8) {
		/* Now and then a hash an attach op names too: what an
		 * erase destroys must not depend on which came first. */
		if (gen_rand(g, 2) == 0) {
			memset(tmp->p + 32, 0, 32);
			tmp->p[32] = (uint8_t)gen_rand(g, 8);
		}
		wh_draft_init(d, WH_OP_CASE_KEYS, code, seq, path);
		wh_draft_bin(d, WH_F_KID, tmp->p, WH_ID_BYTES);
		wh_draft_bin(d, WH_F_BLOB, tmp->p + 32, WH_ID_BYTES);
		wh_draft_uint(d, WH_F_SIZE, 151 + gen_rand(g, 1000));
	} else {
		wh_draft_init(d, WH_OP_CASE_ERASE, code, seq, path);
		wh_draft_bin(d, WH_F_KID, tmp->p, WH_ID_BYTES);
	}
}

/* One update by author ai on case ci, given its belief c. */
static inline void gen_update(struct gen *g, int ai, int ci,
			      const struct wh_case *c)
{
	struct wh_op_draft d;
	struct wh_buf tmp = {0};
	const struct gen_case *gc = &g->cases[ci];
	const char *path = c->path ? c->path : gen_paths[0];
	unsigned r = (unsigned)gen_rand(g, 100);
	if (gen_rand(g, 100) < 40) {
		gen_flow(g, c, &d, &tmp, gc->code, gc->seq, path);
	} else if (r < 25) {
		wh_draft_init(&d, WH_OP_CASE_STATUS, gc->code, gc->seq, path);
		wh_draft_uint(&d, WH_F_FROM, c->status);
		wh_draft_uint(&d, WH_F_TO, gen_target(g, c->status));
	} else if (r < 45) {
		wh_draft_init(&d, WH_OP_CASE_SET, gc->code, gc->seq, path);
		gen_lww_fields(g, &d, &tmp, 0);
	} else if (r < 60) {
		wh_draft_init(&d, WH_OP_CASE_NOTE, gc->code, gc->seq, path);
		wh_draft_str(&d, WH_F_TEXT, GEN_PICK(g, gen_texts));
	} else if (r < 75 || (r < 92 && c->nelems == 0)) {
		unsigned set = (unsigned)gen_rand(g, 2);
		wh_draft_init(&d, WH_OP_TAG_ADD, gc->code, gc->seq, path);
		wh_draft_uint(&d, WH_F_SET, set);
		wh_draft_str(&d, WH_F_TAG,
			     set ? GEN_PICK(g, gen_parties)
				 : GEN_PICK(g, gen_tags));
	} else if (r < 92) {
		/* Remove an element: the adds this author saw (all, or now
		 * and then only some of them). */
		const struct wh_case_elem *e =
		    &c->elems[gen_rand(g, c->nelems)];
		uint32_t cnt = 0;
		for (uint32_t k = 0; k < e->nadds && k < WH_OP_MAX_ARRAY; k++) {
			if (k > 0 && gen_rand(g, 100) < 15)
				continue;
			wh_mpw_bin(&tmp, e->adds[k], WH_ID_BYTES);
			cnt++;
		}
		wh_draft_init(&d, WH_OP_TAG_REMOVE, gc->code, gc->seq, path);
		wh_draft_uint(&d, WH_F_SET, e->set);
		wh_draft_str(&d, WH_F_TAG, e->value);
		wh_draft_array(&d, WH_F_REMOVES, tmp.p, tmp.len, cnt);
	} else if (r < 94) {
		const char *np = GEN_PICK(g, gen_paths);
		wh_draft_init(&d, WH_OP_CASE_MOVE, gc->code, gc->seq, path);
		wh_draft_str(&d, WH_F_NEW_PATH, np);
	} else {
		gen_personal(g, &d, &tmp, gc->code, gc->seq, path);
	}
	gen_emit(g, ai, ci, &d);
	wh_buf_fini(&tmp);
}

/* One step of the history: time passes, an author catches up on some of
 * what others did, then creates a case or acts on one it knows. */
static inline void gen_step(struct gen *g)
{
	g->t_ms += gen_rand(g, 4000);
	int ai = (int)gen_rand(g, (uint64_t)g->nauth);
	struct gen_author *a = &g->a[ai];
	gen_receive(g, a);

	/* Cases this author knows of: it has seen at least one of their
	 * ops. */
	int known[256], nknown = 0, unknown_other = -1;
	for (int ci = 0; ci < g->ncases; ci++) {
		const struct gen_case *gc = &g->cases[ci];
		int k = 0;
		for (size_t j = 0; j < gc->nops && !k; j++)
			k = gen_seen(a, gc->ops[j]);
		if (k && nknown < 256)
			known[nknown++] = (int)ci;
		else if (!k && strcmp(gc->code, gen_codes[ai]) != 0)
			unknown_other = ci;
	}
	if (unknown_other >= 0 && gen_rand(g, 100) < 2) {
		/* A second station configured with the same code makes the
		 * same id again without having seen the first create. */
		gen_create(g, ai, unknown_other);
		return;
	}
	if (g->ncases < g->max_cases &&
	    (nknown == 0 || gen_rand(g, 100) < 12)) {
		gen_create(g, ai, -1);
		return;
	}
	if (nknown == 0)
		return; /* no room for a case, none seen yet: time passes */
	int ci = known[gen_rand(g, (uint64_t)nknown)];
	struct wh_case belief, truth;
	gen_fold(g, ci, a->seen, a->seen_cap, &belief, NULL);
	gen_fold(g, ci, NULL, 0, &truth, NULL);
	if (belief.status != truth.status)
		g->nstale_status++;
	wh_case_fini(&truth);
	gen_update(g, ai, ci, &belief);
	wh_case_fini(&belief);
}

/* Make a history of about nops ops, with at least one dup create (two
 * stations sharing a code), which chance alone makes only now and then. */
static inline void gen_history(struct gen *g, size_t nops)
{
	while (g->nops < nops)
		gen_step(g);
	if (g->ndup_create == 0 && g->ncases > 0) {
		int ci = (int)gen_rand(g, (uint64_t)g->ncases);
		int creator = g->ops[g->cases[ci].ops[0]].author;
		gen_create(g, (creator + 1) % g->nauth, ci);
	}
}

/* Fisher-Yates over indices. */
static inline void gen_shuffle(uint64_t *rng, size_t *v, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)wh_test_below(rng, i);
		size_t t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

/* ---- scratch directories ---- */

/* A fresh directory under $WH_TEST_TMP (or /tmp) named prefix.XXXXXX. */
static inline void gen_tmpdir(char *out, size_t cap, const char *prefix)
{
	const char *base = getenv("WH_TEST_TMP");
	if (!base || !*base)
		base = "/tmp";
	/* mkdir -p of base */
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s", base);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) && errno != EEXIST)
			break;
		*p = '/';
	}
	if (mkdir(tmp, 0700) && errno != EEXIST) {
		fprintf(stderr, "mkdir %s: %s\n", tmp, strerror(errno));
		exit(1);
	}
	snprintf(out, cap, "%s/%s.XXXXXX", base, prefix);
	REQUIRE(mkdtemp(out) != NULL);
}

static inline int gen_rm_one(const char *p, const struct stat *st, int flag,
			     struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

/* rm -rf dir */
static inline void gen_rmrf(const char *dir)
{
	(void)nftw(dir, gen_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#include "gen_snap.h"

#endif
