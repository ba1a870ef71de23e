/*
 * emergency.h: an emergency (平战转换) as a replicated, signed document.
 *
 * A street or district declares an emergency over an area (a path): one
 * object, code "~EM-" + the declaring station's code, seq the station's
 * own number for it, path the area. Its ops:
 *
 *   EMERGENCY      declares it, or amends it (a new planned end: an
 *                  extension; a corrected start, plan or title). Carries
 *                  the deadline rule for ordinary cases in the area,
 *                  copied from its plan when declared, so that deadlines
 *                  depend on the emergency's own ops alone.
 *   EMERGENCY_END  ends it at end_ms. An end is final (below).
 *
 * Its state is a left fold of its ops in (hlc, author, id) order, so every
 * replica holding the same ops holds the same emergency:
 *
 *   - the first EMERGENCY in fold order fixes the area (its path). Ops of
 *     the object before it, or whose path is not the area, are counted
 *     and ignored (only a forged or clock-broken history has them);
 *   - every later EMERGENCY replaces start, planned end, plan, rule and
 *     title as a whole (last writer wins): an amendment is one decision;
 *   - EMERGENCY_END ops are kept as the earliest end_ms among them (a
 *     minimum is order-free: two concurrent ends agree everywhere);
 *   - the emergency lasts from start until the earlier of its planned
 *     end and its earliest end op. So an end is final: an amendment that
 *     sorts after it (made without seeing it, or later) cannot reopen
 *     what was ended; that needs a new declaration. Ending resumes the
 *     deadlines of a whole area and lets relayed cases go (later work);
 *     an extension signed in ignorance of the end is no decision to undo
 *     that.
 *
 * docs/crdt.md, "Emergencies", has the rules in prose; the op fields are
 * in docs/protocol.md. Pure: no I/O, no clock. The store keeps each
 * emergency folded (wh_em_encode) in a derived table (store.h).
 */
#ifndef WH_EMERGENCY_H
#define WH_EMERGENCY_H

#include "op.h"
#include "wh.h"

#define WH_EM_PREFIX "~EM-"   /* object code prefix of an emergency */
#define WH_PLAN_PREFIX "~EP-" /* object code prefix of a plan */
#define WH_EM_TITLE_MAX 600u  /* bytes, as a case title */
#define WH_EM_MAX_MS ((1ull << 48) - 1) /* what an hlc's ms part holds */
#define WH_EM_EXTEND_MAX_MS (366ull * 24 * 3600 * 1000) /* as flow.h's */

/* What an emergency does to ordinary cases' deadlines in its area. */
enum wh_em_rule {
	WH_EM_PAUSE = 0,  /* 暂停: the clock stops from start to end */
	WH_EM_EXTEND = 1, /* 顺延: deadlines it overlaps move by extend_ms */
	WH_EM_RULE_MAX = 1
};
const char *wh_em_rule_name(unsigned rule); /* "pause", "extend"; NULL */
const char *wh_em_rule_label(unsigned rule); /* "暂停", "顺延"; NULL */
int wh_em_rule_parse(const char *s);         /* either spelling; -1 */

/* One emergency, folded. Plain data: copy it freely. */
struct wh_emergency {
	char code[WH_CODE_MAX + 1]; /* "~EM-XJK" */
	uint32_t seq;
	int declared;               /* a declaration was folded */
	char area[WH_PATH_MAX + 1]; /* the first declaration's path */
	uint64_t start_ms;
	uint64_t end_ms;   /* planned end of the latest declaration; 0: open */
	uint64_t ended_ms; /* earliest end op's end_ms; 0: no end op */
	char plan[WH_CODE_MAX + 1]; /* "~EP-XC", "" for none */
	uint32_t plan_seq;
	uint8_t rule;       /* enum wh_em_rule */
	uint64_t extend_ms; /* with WH_EM_EXTEND */
	char title[WH_EM_TITLE_MAX + 1]; /* "" if none */
	uint8_t declared_by[WH_PK_BYTES]; /* the first declaration's author */
	wh_hlc_ts declared_at;
	uint8_t amended_by[WH_PK_BYTES]; /* the latest declaration's */
	wh_hlc_ts amended_at;
	uint8_t ended_by[WH_PK_BYTES];   /* the earliest end op's author */
	wh_hlc_ts ended_at;              /* ...and stamp */
	uint32_t nops, nignored;
	/* Fold position: the greatest (hlc, author, id) applied. */
	wh_hlc_ts last_hlc;
	uint8_t last_author[WH_PK_BYTES];
	uint8_t last_id[WH_ID_BYTES];
};

/* "~EM-" + station code into out; WH_EID if it does not fit (a station
 * code of at most 12 bytes does). */
WH_MUST_CHECK int wh_em_code(const char *station_code,
			     char out[WH_CODE_MAX + 1]);
/* Whether an object code names an emergency ("~EM-..."). */
int wh_em_is(const char *code);

/*
 * People's form of a document id: the code without its '~' and the
 * number, "EM-XJK-000001", "EP-XC-000002" (out: WH_CASE_ID_MAX bytes).
 * Parse takes that form, with or without the '~' and with any number of
 * digits ("EP-XC-2"), for an object code with the given prefix
 * (WH_EM_PREFIX or WH_PLAN_PREFIX): WH_OK, or WH_EID.
 */
void wh_doc_id_format(const char *code, uint32_t seq,
		      char out[WH_CASE_ID_MAX]);
WH_MUST_CHECK int wh_doc_id_parse(const char *s, const char *prefix,
				  char code[WH_CODE_MAX + 1], uint32_t *seq);

/* An empty emergency for object (code, seq). */
void wh_em_init(struct wh_emergency *e, const char *code, uint32_t seq);

/*
 * Fold one validated op of object (e->code, e->seq) into e. It must sort
 * after the fold position; otherwise, or if it belongs to another
 * object, WH_EINVAL and e is unchanged. *ignored (may be NULL) says
 * whether the fold set it aside.
 */
WH_MUST_CHECK int wh_em_apply(struct wh_emergency *e, const struct wh_op *op,
			      int *ignored);

/* When it stops: the earlier of the planned end and the earliest end op;
 * 0 while open-ended. */
uint64_t wh_em_until(const struct wh_emergency *e);
/* Whether it is in force at t: declared, start <= t < until. */
int wh_em_active(const struct wh_emergency *e, uint64_t t);
/* Whether it has ended by t (until set and <= t). */
int wh_em_over(const struct wh_emergency *e, uint64_t t);

/* Canonical encoding of e (the store's derived record), appended to out;
 * equal states give equal bytes. */
void wh_em_encode(const struct wh_emergency *e, struct wh_buf *out);
/* Decode what wh_em_encode wrote, bounded and checked (stored bytes are
 * outside input too): WH_OK or WH_ECORRUPT. */
WH_MUST_CHECK int wh_em_decode(const uint8_t *p, size_t n,
			       struct wh_emergency *e);

#endif
