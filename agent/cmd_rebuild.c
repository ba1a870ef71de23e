/*
 * cmd_rebuild.c: `whistle rebuild`, refolding every case from the op
 * log (wh_store_rebuild_progress), with a progress line on a terminal.
 *
 * Everything but the log (and the blobs and the agent's state, which are
 * primary too) is derived, so a rebuild is how derived tables are
 * repaired by hand; opening a store of an older schema does the same by
 * itself. It is one write transaction: it lands whole or not at all,
 * and other writers (a running agent) wait for it.
 */
#include "cli.h"
#include "json.h"
#include "progress.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

static const char help[] =
	"usage: whistle [--home DIR] rebuild [--quiet] [--json]\n"
	"\n"
	"Rebuild the store's views: throw away every table derived from the\n"
	"op log (case views, digests, scope indexes) and fold every case\n"
	"again from the log, in one transaction. The ops themselves, the\n"
	"attachments and the agent's peer records stay. For repairs, or to\n"
	"check that the views are what the ops say: a store of an older\n"
	"schema is rebuilt by itself when opened.\n"
	"\n"
	"  --quiet, -q   no progress line (shown only on a terminal, for a\n"
	"                rebuild that takes more than a second)\n"
	"\n"
	"Prints 'rebuilt N cases from M ops in S s'; --json prints {\"ops\",\n"
	"\"cases\", \"ms\"}. A running agent waits while it runs. Exit 1 if\n"
	"the store cannot be written (nothing changes then).\n";

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Inside the store's write transaction: only the terminal is touched. */
static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
	progress_update(ctx, done, total);
}

int cmd_rebuild(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {{"quiet", 'q', 0},
					      {NULL, 0, 0}};
	int quiet = 0;
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which;
	const char *v;
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP)
			return cli_help(help);
		if (t == ARG_POS)
			return cli_usage(c, "unexpected argument '%s'", v);
		quiet = 1;
	}
	int rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_STORE);
	if (rc)
		return rc;
	struct progress pg;
	progress_start(&pg, "rebuild", "folded", "ops", quiet);
	uint64_t t0 = mono_ms();
	int src = wh_store_rebuild_progress(c->store, on_progress, &pg);
	progress_end(&pg);
	uint64_t ms = mono_ms() - t0;
	if (src != WH_OK)
		return cli_fail(c, "store: %s; nothing was changed",
				wh_strerror(src));
	struct wh_store_info info;
	if ((src = wh_store_info(c->store, &info)) != WH_OK)
		return cli_fail(c, "store: %s", wh_strerror(src));
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kuint(&j, "ops", info.ops);
		json_kuint(&j, "cases", info.cases);
		json_kuint(&j, "ms", ms);
		json_obj_end(&j);
		json_end(&j);
	} else {
		printf("rebuilt %" PRIu64 " cases from %" PRIu64
		       " ops in %.1f s\n",
		       info.cases, info.ops, (double)ms / 1000);
	}
	return CLI_OK;
}
