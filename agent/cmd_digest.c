/*
 * cmd_digest.c: `whistle digest`, the fingerprint of the set of ops held
 * for a scope. Two stations holding the same ops print the same line, so
 * scripts (and people reading two screens) compare the first line only.
 */
#include "cli.h"
#include "json.h"

#include <inttypes.h>
#include <string.h>

static const char help[] =
	"usage: whistle [--home DIR] digest [--scope PATH] [--json]\n"
	"\n"
	"Print the digest of every op held for cases whose path lies within\n"
	"PATH (default: everything): 64 hex digits on the first line, then\n"
	"'ops: N'. Stations holding the same ops print the same digest.\n"
	"--json prints {\"digest\": ..., \"ops\": N, \"scope\": ...}.\n";

int cmd_digest(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {{"scope", 0, 1}, {NULL, 0, 0}};
	const char *scope = "";
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
		scope = v;
	}
	if (*scope && !wh_path_valid(scope, strlen(scope)))
		return cli_usage(c, "--scope '%s': not a jurisdiction path",
				 scope);
	int rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_STORE);
	if (rc)
		return rc;
	uint8_t d[WH_ID_BYTES];
	uint64_t n = 0;
	if ((rc = wh_store_digest(c->store, scope, d, &n)) != WH_OK)
		return cli_fail(c, "store: %s", wh_strerror(rc));
	char hex[2 * WH_ID_BYTES + 1];
	wh_hex(d, WH_ID_BYTES, hex);
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "digest", hex);
		json_kuint(&j, "ops", n);
		json_kstr(&j, "scope", scope);
		json_obj_end(&j);
		json_end(&j);
	} else {
		printf("%s\nops: %" PRIu64 "\n", hex, n);
	}
	return CLI_OK;
}
