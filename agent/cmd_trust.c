/*
 * cmd_trust.c: `whistle trust add|list|remove`, editing HOME/trust (the
 * format is in trust.h). A running agent picks changes up on SIGHUP.
 */
#include "json.h"
#include "trust.h"

#include <string.h>

static const char help[] =
	"usage: whistle [--home DIR] trust add KEYHEX --name NAME --path PATH\n"
	"                   --role station|street|district|other\n"
	"                   [--endpoint tcp://HOST:PORT]\n"
	"       whistle [--home DIR] trust list [--json]\n"
	"       whistle [--home DIR] trust remove KEYHEX|NAME\n"
	"\n"
	"The trust list names the agents this one syncs with: only their keys\n"
	"pass the handshake (ZAP), and their names show in logs and status.\n"
	"It lives in HOME/trust, one entry per line:\n"
	"\n"
	"    key role path name [endpoint]\n"
	"\n"
	"  key       the peer's public key ('whistle key show' there),\n"
	"            64 hex digits\n"
	"  role      station | street | district | other\n"
	"  path      its jurisdiction, e.g. xicheng/xinjiekou/zhaodengyu\n"
	"  name      a local name, [a-z0-9_.-], at most 64 bytes\n"
	"  endpoint  where to dial it, tcp://HOST:PORT (optional)\n"
	"\n"
	"'#' starts a comment line. Keys and names are unique. The file is\n"
	"replaced atomically; send a running agent SIGHUP to reload it.\n";

static int add(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{"name", 0, 1}, {"path", 0, 1}, {"role", 0, 1},
		{"endpoint", 0, 1}, {NULL, 0, 0},
	};
	const char *key = NULL, *vals[4] = {NULL, NULL, NULL, NULL};
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which;
	const char *v;
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP)
			return cli_help(help);
		if (t == ARG_POS) {
			if (key)
				return cli_usage(c, "unexpected argument '%s'",
						 v);
			key = v;
			continue;
		}
		vals[which] = v;
	}
	const char *name = vals[0], *path = vals[1], *role = vals[2],
		   *ep = vals[3];
	struct wh_net_peer e;
	memset(&e, 0, sizeof e);
	if (!key)
		return cli_usage(c, "missing KEYHEX (the peer's 'whistle key "
				    "show')");
	if (trust_key_parse(key, e.pk) != WH_OK)
		return cli_usage(c, "'%s': not a public key (64 lower-case "
				    "hex digits of an Ed25519 key)",
				 key);
	if (!name || !path || !role)
		return cli_usage(c, "--name, --path and --role are required");
	if (!trust_name_valid(name))
		return cli_usage(c, "--name '%s': use [a-z0-9_.-], at most %d "
				    "bytes",
				 name, WH_NET_NAME_MAX);
	if (!wh_path_valid(path, strlen(path)))
		return cli_usage(c, "--path '%s': not a jurisdiction path "
				    "(lower-case [a-z0-9_-] components "
				    "joined by '/')",
				 path);
	int r = wh_role_parse(role);
	if (r < 0)
		return cli_usage(c, "--role '%s': one of station, street, "
				    "district, other",
				 role);
	if (ep && !trust_endpoint_valid(ep))
		return cli_usage(c, "--endpoint '%s': expected "
				    "tcp://HOST:PORT",
				 ep);
	strcpy(e.name, name);
	strcpy(e.path, path);
	e.role = (enum wh_role)r;
	if (ep)
		strcpy(e.endpoint, ep);

	int rc = cli_open(c, CLI_NEED_CONF);
	if (rc)
		return rc;
	struct trust tl;
	if ((rc = trust_load(c, &tl)))
		return rc;
	const struct wh_net_peer *old;
	if ((old = trust_by_key(&tl, e.pk)))
		rc = cli_fail(c, "key %.16s... is already trusted as '%s'",
			      key, old->name);
	else if (trust_by_name(&tl, e.name))
		rc = cli_fail(c, "name '%s' is already taken", e.name);
	if (!rc) {
		trust_append(&tl, &e);
		rc = trust_save(c, &tl);
	}
	trust_fini(&tl);
	if (rc)
		return rc;
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_khex(&j, "key", e.pk, WH_PK_BYTES);
		json_kstr(&j, "name", e.name);
		json_kstr(&j, "role", wh_role_name(e.role));
		json_kstr(&j, "path", e.path);
		json_kstr(&j, "endpoint", e.endpoint[0] ? e.endpoint : NULL);
		json_obj_end(&j);
		json_end(&j);
	} else {
		printf("trusted %s (%s %s)\n", e.name, wh_role_name(e.role),
		       e.path);
	}
	return CLI_OK;
}

static int list(struct cli *c, int argc, char **argv)
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
	int rc = cli_open(c, CLI_NEED_CONF);
	if (rc)
		return rc;
	struct trust tl;
	if ((rc = trust_load(c, &tl)))
		return rc;
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_arr(&j);
		for (size_t i = 0; i < tl.n; i++) {
			const struct wh_net_peer *e = &tl.e[i];
			json_obj(&j);
			json_khex(&j, "key", e->pk, WH_PK_BYTES);
			json_kstr(&j, "name", e->name);
			json_kstr(&j, "role", wh_role_name(e->role));
			json_kstr(&j, "path", e->path);
			json_kstr(&j, "endpoint",
				  e->endpoint[0] ? e->endpoint : NULL);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_end(&j);
	} else if (tl.n == 0) {
		printf("no trusted peers (whistle trust add KEYHEX --name ...)"
		       "\n");
	} else {
		for (size_t i = 0; i < tl.n; i++) {
			const struct wh_net_peer *e = &tl.e[i];
			char hex[2 * WH_PK_BYTES + 1];
			wh_hex(e->pk, WH_PK_BYTES, hex);
			printf("%-16s %-8s %-40s %.16s... %s\n", e->name,
			       wh_role_name(e->role), e->path, hex,
			       e->endpoint[0] ? e->endpoint : "-");
		}
	}
	trust_fini(&tl);
	return CLI_OK;
}

static int remove_(struct cli *c, int argc, char **argv)
{
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which;
	const char *v, *who = NULL;
	while ((t = cli_args_next(c, &a, NULL, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP)
			return cli_help(help);
		if (who)
			return cli_usage(c, "unexpected argument '%s'", v);
		who = v;
	}
	if (!who)
		return cli_usage(c, "missing KEYHEX or NAME");
	uint8_t pk[WH_PK_BYTES];
	int by_key = strlen(who) == 2 * WH_PK_BYTES &&
		     wh_unhex(who, pk, WH_PK_BYTES) == WH_OK;
	if (!by_key && !trust_name_valid(who))
		return cli_usage(c, "'%s': not a key or a peer name", who);
	int rc = cli_open(c, CLI_NEED_CONF);
	if (rc)
		return rc;
	struct trust tl;
	if ((rc = trust_load(c, &tl)))
		return rc;
	const struct wh_net_peer *e =
		by_key ? trust_by_key(&tl, pk) : trust_by_name(&tl, who);
	if (!e) {
		trust_fini(&tl);
		return cli_fail(c, "no trusted peer '%s'", who);
	}
	char name[WH_NET_NAME_MAX + 1];
	strcpy(name, e->name);
	size_t i = (size_t)(e - tl.e);
	memmove(&tl.e[i], &tl.e[i + 1], (tl.n - i - 1) * sizeof *tl.e);
	tl.n--;
	rc = trust_save(c, &tl);
	trust_fini(&tl);
	if (rc)
		return rc;
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "removed", name);
		json_obj_end(&j);
		json_end(&j);
	} else {
		printf("removed %s from the trust list\n", name);
	}
	return CLI_OK;
}

static const struct cli_cmd subs[] = {
	{"add", add, "trust a peer's key"},
	{"list", list, "show the trusted peers"},
	{"remove", remove_, "stop trusting a peer (by key or name)"},
	{NULL, NULL, NULL},
};

int cmd_trust(struct cli *c, int argc, char **argv)
{
	if (argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")))
		return cli_help(help);
	return cli_dispatch(c, subs, "trust ", argc, argv);
}
