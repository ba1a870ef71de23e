/*
 * case_step.h: one step of the whistle-and-report loop (吹哨报到):
 * triage, whistle, supervise, report, feedback, rate, reopen. What the
 * `case` commands (cmd_case_loop.c) and the web console (web_api.c)
 * share: the values checked one by one, the role table asked, the
 * fold's own question asked before signing, and the op authored.
 *
 * Nothing here prints. A refusal is reported the one way agent/ code
 * reports one, cli_fail or cli_usage, which the command line prints and
 * the web console catches in c->sink (cli.h); the return value is the
 * exit code those give (CLI_USAGE for a bad value, CLI_FAIL for a step
 * the role, the case or the store refuses).
 *
 * Lifetime: option values are borrowed (argv, or the request's JSON),
 * and must outlive the step; cw_step_fini frees what the step owns.
 */
#ifndef WH_CASE_STEP_H
#define WH_CASE_STEP_H

#include "cli.h"
#include "cli_problems.h"

#define CW_MSG_MAX 1400 /* 16 departments of 64 bytes, and words */

struct cw_step {
	uint8_t kind;	/* WH_OP_TRIAGE.. or WH_OP_CASE_STATUS (reopen) */
	int supervise;	/* `case supervise`: the kind is always 监督哨 */
	const char *id; /* as the person wrote it, for messages */
	char code[WH_CODE_MAX + 1];
	uint32_t seq;
	unsigned given; /* bits: options seen (by index), for "twice" */
	int level, wkind, whistler, stepno, channel, score, by;
	const char *text, *dept, *lead;
	const char *depts[WH_FLOW_MAX_DEPTS];
	unsigned ndepts;
	uint64_t report_ms, resolve_ms;
	struct wh_buf enc;	    /* depts, msgpack-encoded for the op */
	char *note;		    /* reopen: the note's text (owned) */
	struct wh_problem_entry pe; /* whistle: the problem list's entry
				     * that gave defaults (owned) */
	char msg[CW_MSG_MAX]; /* what the step did, for the one-line answer */
};

/* A step of kind (WH_OP_TRIAGE, WH_OP_WHISTLE, WH_OP_REPORT,
 * WH_OP_FEEDBACK, WH_OP_RATE, or WH_OP_CASE_STATUS for reopen) with
 * nothing given yet. */
void cw_step_init(struct cw_step *s, uint8_t kind);
void cw_step_fini(struct cw_step *s);

/* The case, by id text: CLI_OK or a usage message. */
int cw_step_case(const struct cli *c, struct cw_step *s, const char *id);

/*
 * One value, named as the command-line option is (level, dept, lead,
 * kind, as, report-within, resolve-within, step, channel, score, by,
 * text, reason, comment); 'which' is a small distinct index per name,
 * for "given twice" (dept repeats in a whistle). CLI_OK or CLI_USAGE.
 */
int cw_step_opt(const struct cli *c, struct cw_step *s, const char *name,
		int which, const char *v);

/* What the values alone must satisfy once all are in (a triage needs a
 * level, a report a step, ...). CLI_OK or CLI_USAGE. */
int cw_step_check(const struct cli *c, struct cw_step *s);

/* The trial build alone (step 1 of cw_step_run), which the command line
 * runs before it opens the home: a usage error then names the value
 * before anything is read. CLI_OK or CLI_USAGE. */
int cw_step_probe(const struct cli *c, struct cw_step *s);

/*
 * Take the step on this station (c's conf, key and store open): the
 * trial build, the role table, the case's view, the problem list's
 * defaults for a whistle without departments, the fold's question, the
 * key shared with summoned departments, and the op authored in one
 * transaction. s->msg says what was done. With dry set, stop after the
 * fold's question and write nothing: whether the step would be taken.
 */
int cw_step_run(struct cli *c, struct cw_step *s, int dry);

#endif
