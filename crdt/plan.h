/*
 * plan.h: a digital emergency plan (数字应急预案) as a replicated, signed
 * document: a header (title, the deadline rule for ordinary cases,
 * notes) and tasks, each for the communities under a path, with the team
 * that does it, a contact and a time limit after the emergency starts.
 *
 * A plan is one object, code "~EP-" + the publisher's station code, seq
 * the plan's number (chosen in the plan file, so publishing the file
 * again updates the same plan), path the publisher's own path. Like the
 * problem list (problems.h) its state is a left fold of its ops in
 * (hlc, author, id) order:
 *
 *   - the first op in fold order fixes the plan's path; ops at another
 *     path are counted and ignored;
 *   - PLAN_SET replaces the header as a whole (last writer wins);
 *   - PLAN_TASK replaces its task's entry as a whole; PLAN_TASK_DEL
 *     removes it, and a PLAN_TASK that sorts after the removal adds it
 *     again;
 *   - a task whose area does not lie within the plan's path is ignored
 *     (a street's plan gives tasks to its own communities only);
 *   - at most WH_PLAN_MAX_TASKS tasks: a new one past that is dropped
 *     (counted), depending only on fold order.
 *
 * Pure: no I/O. agent/emergency.c finds a plan's ops in the store.
 */
#ifndef WH_PLAN_H
#define WH_PLAN_H

#include "emergency.h"

#define WH_PLAN_MAX_TASKS 512u
#define WH_PLAN_TASK_MAX 64u  /* bytes of a task key */
#define WH_PLAN_TEAM_MAX 120u /* bytes of a team's name */

/* One task. Strings owned, NUL-terminated UTF-8; NULL when not given. */
struct wh_plan_task {
	char *key;   /* unique in the plan, e.g. "basement" or "排查地下室" */
	char *area;  /* the communities it applies to: those within it */
	char *title; /* what the task case is called */
	char *category, *team, *contact, *text;
	uint64_t within_ms; /* due this long after the start; 0: no limit */
	wh_hlc_ts set_at;
	uint8_t set_by[WH_PK_BYTES];
};

struct wh_plan {
	char code[WH_CODE_MAX + 1]; /* "~EP-XC" */
	uint32_t seq;
	char path[WH_PATH_MAX + 1]; /* where it is published; "" before any
				     * op */
	int has_header;
	char *title, *text;         /* owned; NULL before a PLAN_SET */
	uint8_t rule;               /* enum wh_em_rule */
	uint64_t extend_ms;
	wh_hlc_ts set_at;
	uint8_t set_by[WH_PK_BYTES];
	uint32_t ntasks;
	struct wh_plan_task *tasks; /* sorted by key (bytewise) */
	uint32_t nops, nignored, ndropped;
	wh_hlc_ts last_hlc;
	uint8_t last_author[WH_PK_BYTES];
	uint8_t last_id[WH_ID_BYTES];
};

/* "~EP-" + station code; WH_EID if it does not fit. */
WH_MUST_CHECK int wh_plan_code(const char *station_code,
			       char out[WH_CODE_MAX + 1]);
/* Whether an object code names a plan ("~EP-..."). */
int wh_plan_is(const char *code);

void wh_plan_init(struct wh_plan *p, const char *code, uint32_t seq);
void wh_plan_fini(struct wh_plan *p);

/*
 * Fold one validated op of object (p->code, p->seq) into p; it must sort
 * after the fold position. WH_EINVAL (p unchanged) otherwise. Kinds
 * other than the plan's are counted and ignored.
 */
WH_MUST_CHECK int wh_plan_apply(struct wh_plan *p, const struct wh_op *op);

/* The task with this key, or NULL; borrowed until the next apply. */
const struct wh_plan_task *wh_plan_find(const struct wh_plan *p,
					const char *key);

/* Whether task t is a community's at station_path: the path lies within
 * the task's area. */
int wh_plan_task_for(const struct wh_plan_task *t, const char *station_path);

/* Whether two tasks say the same thing (stamps and author aside). */
int wh_plan_task_same(const struct wh_plan_task *a,
		      const struct wh_plan_task *b);
void wh_plan_task_fini(struct wh_plan_task *t);

#endif
