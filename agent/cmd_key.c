/*
 * cmd_key.c: `whistle key show`. The public key is what other stations
 * and the street hub will pin; the secret never leaves key.secret.
 */
#include "cli.h"
#include "json.h"

#include <string.h>

static const char help[] =
	"usage: whistle [--home DIR] key show [--json]\n"
	"\n"
	"Print the station's Ed25519 public key in hex (64 characters).\n"
	"It is derived from key.secret, which is checked on the way.\n";

static int key_show(struct cli *c, int argc, char **argv)
{
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which;
	const char *v;
	while ((t = cli_args_next(c, &a, NULL, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP)
			return cli_help(help);
		return cli_usage(c, "unexpected argument '%s'", v);
	}
	int rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY);
	if (rc)
		return rc;
	char hex[2 * WH_PK_BYTES + 1];
	wh_hex(c->key->pk, WH_PK_BYTES, hex);
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "public_key", hex);
		json_obj_end(&j);
		json_end(&j);
	} else {
		printf("%s\n", hex);
	}
	return CLI_OK;
}

static const struct cli_cmd subs[] = {
	{"show", key_show, "print the public key (hex)"},
	{NULL, NULL, NULL},
};

int cmd_key(struct cli *c, int argc, char **argv)
{
	if (argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")))
		return cli_help(help);
	return cli_dispatch(c, subs, "key ", argc, argv);
}
