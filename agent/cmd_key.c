/*
 * cmd_key.c: `whistle key show`. The public key is what other stations
 * and the street hub will pin; the secret never leaves key.secret.
 * --curve shows the CURVE (X25519) form the ZeroMQ handshake uses, which
 * is what an agent's log names when it refuses a key it does not trust.
 */
#include "cli.h"
#include "json.h"
#include "transport.h"

#include <string.h>

static const char help[] =
	"usage: whistle [--home DIR] key show [--curve] [--json]\n"
	"\n"
	"Print the station's Ed25519 public key in hex (64 characters).\n"
	"It is derived from key.secret, which is checked on the way.\n"
	"\n"
	"  --curve  print its CURVE (X25519) form instead, in hex: the key the\n"
	"           sync handshake sees. An agent that refuses an unknown key\n"
	"           logs this form; compare it with this output.\n"
	"\n"
	"With --json: {\"public_key\": HEX, \"curve_key\": HEX}.\n";

static int key_show(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{"curve", 0, 0},
		{NULL, 0, 0},
	};
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which, curve = 0;
	const char *v;
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP)
			return cli_help(help);
		if (t == ARG_POS)
			return cli_usage(c, "unexpected argument '%s'", v);
		curve = 1;
	}
	int rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY);
	if (rc)
		return rc;
	uint8_t ck[32];
	if ((rc = wh_net_curve_pk(c->key->pk, ck)) != WH_OK)
		return cli_fail(c, "no CURVE form of the key: %s",
				wh_strerror(rc));
	char hex[2 * WH_PK_BYTES + 1], chex[2 * sizeof ck + 1];
	wh_hex(c->key->pk, WH_PK_BYTES, hex);
	wh_hex(ck, sizeof ck, chex);
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "public_key", hex);
		json_kstr(&j, "curve_key", chex);
		json_obj_end(&j);
		json_end(&j);
	} else {
		printf("%s\n", curve ? chex : hex);
	}
	return CLI_OK;
}

static const struct cli_cmd subs[] = {
	{"show", key_show, "print the public key (hex; --curve: its CURVE "
			   "form)"},
	{NULL, NULL, NULL},
};

int cmd_key(struct cli *c, int argc, char **argv)
{
	if (argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")))
		return cli_help(help);
	return cli_dispatch(c, subs, "key ", argc, argv);
}
