/*
 * flow.h: the whistle-and-report loop (吹哨报到) as part of the case fold:
 * triage (三事分流), whistles (吹哨), department reports (报到), feedback
 * (结果反馈), ratings (民评官, 下评上) and attachments (拍照上报).
 *
 * Like the rest of the case, this state is a pure function of the set of
 * ops: each rule below reads only the op's bytes and the state folded so
 * far, in (hlc, author, id) order. A step that makes no sense for the
 * state it meets (rating an open case, a report from a department that
 * was not summoned) is kept in the history, marked WH_APPLY_IGNORED, and
 * has no effect, on every replica alike. docs/crdt.md, "The loop", has
 * the rules in prose; the CLI checks the same rules before it signs
 * (wh_flow_check), so a person gets a clear refusal instead.
 *
 * Concurrency: every workflow op carries SEEN, the fold position (hlc)
 * of the case as its author saw it. A step on a register (level, lead)
 * whose SEEN is older than the register's last change did not see that
 * change: it still applies (last writer wins) but the view raises a flag
 * (WH_FLOW_C_*) until someone who saw the state sets it again.
 *
 * Time: limits are wall-clock durations (ms) carried in the whistle; a
 * deadline is the whistle's wall time (its hlc's ms) plus the limit, so
 * every replica computes the same deadlines, and "overdue" differs only
 * by the 'now' it is asked about.
 */
#ifndef WH_FLOW_H
#define WH_FLOW_H

#include "hlc.h"
#include "op.h"
#include "wh.h"

/* Triage level (三事分流). WH_LEVEL_NONE: not triaged yet. */
enum wh_level {
	WH_LEVEL_MICRO = 0, /* 微事: residents handle it */
	WH_LEVEL_SMALL = 1, /* 小事: the community */
	WH_LEVEL_BIG = 2,   /* 大事: street, district and departments */
	WH_LEVEL_MAX = 2,
	WH_LEVEL_NONE = 255
};

/* Who blows the whistle (三级吹哨), lowest first. A big matter (大事) is
 * whistled by the street secretary; a small one (小事) by any of the
 * three; a micro matter (微事) is the residents' own and is not
 * whistled. */
enum wh_whistler {
	WH_WHISTLER_ALLEY = 0,     /* 街巷长 */
	WH_WHISTLER_COMMUNITY = 1, /* 社区书记 */
	WH_WHISTLER_STREET = 2,    /* 街道书记 */
	WH_WHISTLER_MAX = 2
};

/* Whistle kinds, the stages of a response. */
enum wh_wkind {
	WH_WK_PREPARE = 0,   /* 预备哨 */
	WH_WK_ASSEMBLE = 1,  /* 集结哨 */
	WH_WK_CHARGE = 2,    /* 冲锋哨 */
	WH_WK_FINAL = 3,     /* 终场哨 */
	WH_WK_SUPERVISE = 4, /* 监督哨: escalates an overdue case */
	WH_WKIND_MAX = 4
};

/* A department's steps (部门报到). */
enum wh_step {
	WH_STEP_ACK = 0,      /* 报到: acknowledged */
	WH_STEP_ONSITE = 1,   /* 到场: on site */
	WH_STEP_PROGRESS = 2, /* 进展: progress note */
	WH_STEP_RESOLVE = 3,  /* 办结: resolved, with its result */
	WH_STEP_MAX = 3
};

/* Who rates (评价). */
enum wh_rater {
	WH_RATER_RESIDENT = 0, /* 民评官: the resident rates the result */
	WH_RATER_STREET = 1,   /* 下评上: the street rates a department */
	WH_RATER_MAX = 1
};

/* How the result went back to the reporter (结果反馈). */
enum wh_channel {
	WH_CH_PHONE = 0,
	WH_CH_VISIT = 1,
	WH_CH_SMS = 2,
	WH_CH_APP = 3,
	WH_CHANNEL_MAX = 3
};

/* Flags a person must clear (bits of struct wh_flow.conflicts). */
#define WH_FLOW_C_LEVEL 1u  /* two triage levels set concurrently */
#define WH_FLOW_C_LEAD 2u   /* two whistles named different leads */
#define WH_FLOW_C_REPORT 4u /* a department acted without seeing its
			     * summons of this round (the case was
			     * reopened meanwhile): its step is ignored */

#define WH_DEPT_MAX 64u        /* bytes of a department's name */
#define WH_FLOW_MAX_LIMIT_MS (366ull * 24 * 3600 * 1000) /* a year */
#define WH_FLOW_MAX_DEPTS 16   /* departments one whistle summons */
#define WH_FLOW_MAX_SUMMONS 256 /* summonses a case keeps, all rounds */
#define WH_FLOW_MAX_FILES 64   /* attachments a case keeps */
#define WH_BLOB_MAX_BYTES (8u << 20) /* one photo or document */

/* One department summoned in one round of the case. Times are hlc
 * stamps of the op that did it (0: not yet); dues are wall ms (0: no
 * limit). */
struct wh_summons {
	char *dept;       /* owned */
	uint32_t round;   /* the case's round when summoned */
	int lead;         /* 牵头: the case resolves when this one does */
	wh_hlc_ts summoned_at;
	uint64_t report_due_ms, resolve_due_ms;
	wh_hlc_ts acked_at, onsite_at, resolved_at;
	uint32_t nprogress;
	uint8_t street_score; /* 1-5 from the street (下评上); 0: none */
};

struct wh_attachment {
	uint8_t hash[WH_ID_BYTES]; /* BLAKE2b-256 of the content */
	uint64_t size;
	char *mime, *name; /* owned; name may be NULL */
	wh_hlc_ts at;
};

/* The loop's part of a case view (struct wh_case.flow). */
struct wh_flow {
	uint8_t level;       /* enum wh_level */
	wh_hlc_ts level_at;  /* stamp of the triage that set it */
	uint32_t round;      /* 0, +1 at every reopen */
	wh_hlc_ts reopened_at; /* stamp of the latest reopen (0: none) */
	uint32_t nwhistles, nsupervise;
	uint8_t last_wkind;  /* of the latest whistle; valid if nwhistles */
	wh_hlc_ts whistled_at, lead_at;
	wh_hlc_ts resolved_at; /* the lead's resolve of this round (0) */
	uint32_t nfeedback;
	wh_hlc_ts feedback_at;
	uint8_t resident_score; /* 1-5, latest in this round; 0: none */
	wh_hlc_ts rated_at;
	uint32_t conflicts; /* WH_FLOW_C_* */
	uint32_t nsummons;  /* every round, in summons order */
	struct wh_summons *summons;
	uint32_t nfiles;
	struct wh_attachment *files;
};

struct wh_case;

/* Names and Chinese labels, as in case.h; parse takes either, -1 if
 * neither. */
const char *wh_level_name(unsigned v);
const char *wh_level_label(unsigned v);
int wh_level_parse(const char *s);
const char *wh_whistler_name(unsigned v);
const char *wh_whistler_label(unsigned v);
int wh_whistler_parse(const char *s);
const char *wh_wkind_name(unsigned v);
const char *wh_wkind_label(unsigned v);
int wh_wkind_parse(const char *s);
const char *wh_step_name(unsigned v);
const char *wh_step_label(unsigned v);
int wh_step_parse(const char *s);
const char *wh_channel_name(unsigned v);
int wh_channel_parse(const char *s);

void wh_flow_init(struct wh_flow *f);
void wh_flow_fini(struct wh_flow *f);

/*
 * Whether op (a workflow kind, WH_OP_TRIAGE..WH_OP_ATTACH) makes sense
 * for case c as it stands: WH_OK, or the reason it does not, as a code
 * and a short English+Chinese message in why (may be NULL). The fold
 * applies the same rules (wh_flow_apply ignores what this refuses), so
 * the CLI refuses exactly what every replica would ignore. Codes:
 * WH_ESTATE (the case's state forbids it), WH_EDENIED (the whistler's
 * rank or the department does not fit).
 */
WH_MUST_CHECK int wh_flow_check(const struct wh_case *c,
				const struct wh_op *op, const char **why);

/* Fold one workflow op (called by wh_case_apply for those kinds). */
enum wh_apply wh_flow_apply(struct wh_case *c, const struct wh_op *op);

/* The loop's say in a status change to 'to': WH_OK, or WH_ESTATE when the
 * current round has a lead department that has not resolved and 'to' is
 * resolved or closed (a case whistled to departments resolves when its
 * lead does; cancelling stays possible). The fold ignores such a status
 * op; the CLI refuses it. */
WH_MUST_CHECK int wh_flow_status_check(const struct wh_case *c, unsigned to,
				       const char **why);

/* A status change was applied (case.c calls): a reopen starts a new
 * round, so the loop goes round again with its history kept. */
void wh_flow_on_status(struct wh_case *c, unsigned to, wh_hlc_ts at);

/* The summons of dept in the case's current round, or NULL. */
const struct wh_summons *wh_flow_summons(const struct wh_case *c,
					 const char *dept);

/* Overdue at wall time now_ms: for each summons of the current round of
 * a case that has no result yet (not resolved, closed or cancelled), a
 * report not made by report_due, or a resolution not made by
 * resolve_due. cb gets each one with how late in ms; returns how many.
 * cb may be NULL. (A step made late but made is history, not overdue:
 * statistics count it.) */
typedef void (*wh_overdue_cb)(void *ctx, const struct wh_summons *s,
			      int resolve, uint64_t late_ms);
uint32_t wh_flow_overdue(const struct wh_case *c, uint64_t now_ms,
			 wh_overdue_cb cb, void *ctx);

/* Append / read the flow part of the view encoding (case.c calls). */
void wh_flow_encode(const struct wh_flow *f, struct wh_buf *b);
struct wh_mp;
WH_MUST_CHECK int wh_flow_decode(struct wh_mp *r, struct wh_flow *f);

#endif
