/*
 * cli_emergency.h: emergencies and plans as the CLI and the agent use
 * them: the emergencies held (for deadlines), finding plans in the store,
 * and activation: a community station turning the plan tasks of an
 * emergency over it into cases, once each.
 *
 * The rules are crdt/'s (emergency.h, plan.h, deadline.h); the store
 * keeps the emergencies folded (store.h, "Emergencies"). Nothing here
 * prints: callers get WH_* codes and say what they mean.
 */
#ifndef WH_CLI_EMERGENCY_H
#define WH_CLI_EMERGENCY_H

#include "cli.h"
#include "deadline.h"
#include "plan.h"

/* The emergencies held, as one command reads them once. */
struct cli_em {
	int err; /* a store error while reading: deadlines then run as if
		  * there were none, and callers may say so */
	size_t n;
	struct wh_emergency *v;
};

/* c's emergencies, read on first call (c->store must be open). Never
 * NULL; ->err says whether reading failed. A cache: reading it changes
 * nothing the caller can see, so a const cli may ask. */
const struct cli_em *cli_em_all(const struct cli *c);
void cli_em_free(struct cli_em *e);

/* The clock of case v under the emergencies held (k reset and filled;
 * see crdt/deadline.h). */
void cli_em_clock(const struct cli *c, const struct wh_case *v,
		  struct wh_dl_clock *k);

/* Plan (code, seq) folded from the store into p (initialised by the
 * call; release with wh_plan_fini, also after an error): WH_OK,
 * WH_ENOTFOUND (no op of it held), or a store error. */
WH_MUST_CHECK int cli_plan_load(struct cli *c, const char *code, uint32_t seq,
				struct wh_plan *p);

/* The plans that apply to path (published at it or above it) and those
 * published within it, folded, in (code, seq) order: *out (n of them)
 * owned by the caller, release with cli_plans_free. */
WH_MUST_CHECK int cli_plan_list(struct cli *c, const char *path,
				struct wh_plan **out, size_t *n);
void cli_plans_free(struct wh_plan *v, size_t n);

/* What activation did with one task of one emergency. */
struct cli_task {
	const struct wh_emergency *em;
	const struct wh_plan *plan;
	const struct wh_plan_task *task;
	char case_id[WH_CASE_ID_MAX]; /* its case, made now or before */
	int created;                  /* made now (else held already) */
};
typedef void (*cli_task_cb)(void *ctx, const struct cli_task *t);

/*
 * Activation: on a community station (role station), for every
 * emergency in force at now_ms over this station's path that names a
 * plan held here, make a case of each of the plan's tasks for this
 * community (its area holds our path) that this station has not made
 * yet: title, category and text from the task, priority urgent, due at
 * the emergency's start plus the task's limit, linked to the emergency
 * and the task. All in one store transaction, which itself leaves out
 * what is held (wh_store_task_author): exactly once per (emergency,
 * task, station) across restarts, re-syncs and two processes. cb (may be
 * NULL) hears of each task that applies, made now or held; *made and
 * *held (may be NULL) count them. Other roles: WH_OK, nothing done.
 * Errors: a store error, or the roster's refusal.
 */
WH_MUST_CHECK int cli_em_activate(struct cli *c, uint64_t now_ms,
				  cli_task_cb cb, void *ctx, size_t *made,
				  size_t *held);

/* Whether this home's role may declare or end an emergency (street or
 * district); why gets a message otherwise. */
int cli_em_may_declare(const struct cli *c, const char **why);

/* `whistle emergency` and `whistle plan` (cmd_emergency.c, cmd_plan.c);
 * `emergency status` (cmd_emergency_show.c). */
int cmd_emergency(struct cli *c, int argc, char **argv);
int cmd_plan(struct cli *c, int argc, char **argv);
int cmd_emergency_status(struct cli *c, int argc, char **argv);

/* One emergency as the commands show it (cmd_emergency_show.c): JSON
 * object or text lines, at now; with tasks, how its task cases held here
 * stand (a community station's own, a hub's every station's). */
struct json;
void cli_em_json(struct cli *c, struct json *j, const struct wh_emergency *e,
		 uint64_t now, int tasks);
void cli_em_text(struct cli *c, const struct wh_emergency *e, uint64_t now,
		 int tasks);

struct json;
/* A case's own deadline (as set, and as emergencies move it) and its
 * task link, as members of the case object (cmd_case_flow.c). */
void cli_case_em_json(const struct cli *c, struct json *j,
		      const struct wh_case *v);

/* The "emergencies" part of `whistle status` (cmd_emergency.c): what is
 * in force over or within this home's path now. */
void cli_em_status_json(struct cli *c, struct json *j);
void cli_em_status_text(struct cli *c);

#endif
