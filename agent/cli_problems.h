/*
 * cli_problems.h: the problem lists (问题清单) as the CLI sees them: loading
 * the lists that apply to a path from the store, the lookup that `case
 * whistle` uses to fill in departments, lead and time limits, and the
 * duration syntax ("2h", "7d") shared by the commands.
 *
 * (Not named problems.h: that is crdt/problems.h, which this includes.)
 * The fold and merge rules are in crdt/problems.h; this file only finds
 * the ops. A list is the object "~PL-" + a publisher's station code,
 * seq 1, at the publisher's path; the store hands us every document op
 * that applies to a path (wh_store_each_doc_op) and we keep the lists'
 * ops published at that path or above it.
 *
 * Nothing here prints: callers get WH_* codes and say what they mean.
 */
#ifndef WH_CLI_PROBLEMS_H
#define WH_CLI_PROBLEMS_H

#include "cli.h"
#include "problems.h"

/* The lists that apply to one path, folded and merged. */
struct cli_problems {
	char path[WH_PATH_MAX + 1]; /* the path asked about */
	uint32_t nlists;
	struct wh_problems *lists; /* by (code, path) */
	struct wh_problems_merged merged; /* borrows from lists */
};

/*
 * Load and merge every problem list published at 'path' or above it
 * (a station's path gets its district's and its street's lists) from
 * c->store, which must be open (cli_open with CLI_NEED_STORE). out is
 * initialised by the call; release it with cli_problems_fini (also after
 * an error). WH_OK; WH_EINVAL if path is not a valid path; a store error
 * (WH_EIO, WH_ECORRUPT, ...) otherwise.
 */
WH_MUST_CHECK int cli_problems_load(struct cli *c, const char *path,
				    struct cli_problems *out);
void cli_problems_fini(struct cli_problems *p);

/*
 * One publisher's own list: the ops of object 'code' (e.g. "~PL-XJK"),
 * seq 1, at exactly 'path', folded into l (initialised by the call;
 * release with wh_problems_fini, also after an error). An empty list if
 * nothing was published. Errors as cli_problems_load.
 */
WH_MUST_CHECK int cli_problems_own(struct cli *c, const char *code,
				   const char *path, struct wh_problems *l);

/*
 * The problem list entry for 'category' that applies to a case at
 * 'case_path': the most specific publisher's (a street's entry over its
 * district's). For `case whistle`, to default the lead department
 * (out->lead), the responsible departments (out->depts, out->ndepts;
 * wh_problem_depts_encode gives them as a WH_F_DEPTS array) and the
 * time limits (out->report_ms, out->resolve_ms; 0 = none given).
 * out->path names the publisher, for messages.
 *
 * c->store must be open. On WH_OK, out is a deep copy the caller owns:
 * release it with wh_problem_entry_fini. Returns WH_ENOTFOUND if no list
 * that applies has the category (out is then zeroed, and fini on it is
 * harmless), WH_EINVAL for a bad path, or a store error. Prints nothing.
 *
 *     struct wh_problem_entry pe;
 *     int rc = cli_problem_lookup(c, case_path, category, &pe);
 *     if (rc == WH_OK) { ...use pe.lead, pe.depts...; }
 *     wh_problem_entry_fini(&pe);
 */
WH_MUST_CHECK int cli_problem_lookup(struct cli *c, const char *case_path,
				     const char *category,
				     struct wh_problem_entry *out);

/*
 * A time limit as people type it: a positive whole number and a unit,
 * m (minutes), h (hours) or d (days): "30m", "2h", "24h", "7d", "15d".
 * Nothing else (no spaces, signs, fractions or mixed units). WH_OK and
 * *ms; WH_EINVAL if malformed or zero; WH_ETOOBIG past
 * WH_FLOW_MAX_LIMIT_MS (366 days).
 */
WH_MUST_CHECK int cli_duration_parse(const char *s, uint64_t *ms);

#define CLI_DURATION_MAX 24
/* The shortest exact spelling: "2h", "24h", "7d", "90m"; a whole day
 * count from 2 days up ("48h" is "2d", "24h" stays "24h"); odd values
 * fall back to "45s" or "1500ms". */
void cli_duration_format(uint64_t ms, char out[CLI_DURATION_MAX]);

/* `whistle problems` (cmd_problems.c). */
int cmd_problems(struct cli *c, int argc, char **argv);

/* `problems set` on an argument vector (cmd_problems.c); with check_only
 * only its parse and checks, nothing written. `problems publish` runs it
 * per line of its file. */
int cli_problems_set_argv(struct cli *c, int argc, char **argv,
			  int check_only);
int cmd_problems_publish(struct cli *c, int argc, char **argv);
/* Pass 1 of `problems publish` on a stream the caller opened and closes
 * ('file' names it in messages): the header, every line split and
 * checked as `problems set` would parse it; nothing written, no store
 * needed. CLI_OK, CLI_USAGE or CLI_FAIL after a message. The fuzz
 * target drives it. */
int cli_problems_publish_check(struct cli *c, const char *file, FILE *f);

#endif
