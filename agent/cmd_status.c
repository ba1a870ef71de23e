/*
 * cmd_status.c: `whistle status`, what a station is and holds. Minimal
 * for this single-station release; sync will add peers and lag here.
 */
#include "cli.h"
#include "json.h"

#include <inttypes.h>

static const char help[] =
	"usage: whistle [--home DIR] status [--json]\n"
	"\n"
	"Show the station (name, code, path), its public key, how many ops\n"
	"and cases the store holds, and the digest of everything held.\n";

int cmd_status(struct cli *c, int argc, char **argv)
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
	int rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE);
	if (rc)
		return rc;
	struct wh_store_info info;
	uint8_t d[WH_ID_BYTES];
	uint64_t n = 0;
	if ((rc = wh_store_info(c->store, &info)) != WH_OK ||
	    (rc = wh_store_digest(c->store, NULL, d, &n)) != WH_OK)
		return cli_fail(c, "store: %s", wh_strerror(rc));
	char pk[2 * WH_PK_BYTES + 1], dig[2 * WH_ID_BYTES + 1];
	wh_hex(c->key->pk, WH_PK_BYTES, pk);
	wh_hex(d, WH_ID_BYTES, dig);
	char last[CLI_TIME_MAX] = "-";
	if (info.hlc_max)
		cli_time_local(WH_HLC_MS(info.hlc_max), last);
	const struct cli_conf *f = &c->conf;
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "home", c->home);
		json_kstr(&j, "station", f->station);
		json_kstr(&j, "name", f->name);
		json_kstr(&j, "code", f->code);
		json_kstr(&j, "path", f->path);
		json_kstr(&j, "role", f->role);
		json_kstr(&j, "public_key", pk);
		json_kuint(&j, "ops", info.ops);
		json_kuint(&j, "cases", info.cases);
		json_kuint(&j, "op_bytes", info.op_bytes);
		json_kuint(&j, "store_bytes", info.file_size);
		json_kuint(&j, "schema", info.schema);
		json_key(&j, "last_change");
		if (info.hlc_max) {
			char iso[CLI_TIME_MAX];
			cli_time_iso(WH_HLC_MS(info.hlc_max), iso);
			json_str(&j, iso);
		} else {
			json_null(&j);
		}
		json_kstr(&j, "digest", dig);
		json_obj_end(&j);
		json_end(&j);
		return CLI_OK;
	}
	printf("站点 Station:   %s (%s)\n", f->name, f->station);
	printf("编号 Code:      %s\n", f->code);
	printf("辖区 Path:      %s\n", f->path);
	printf("公钥 Key:       %s\n", pk);
	printf("案件 Cases:     %" PRIu64 "\n", info.cases);
	printf("操作 Ops:       %" PRIu64 " (%" PRIu64 " bytes)\n", info.ops,
	       info.op_bytes);
	printf("最近 Last:      %s\n", last);
	printf("摘要 Digest:    %s\n", dig);
	printf("目录 Home:      %s\n", c->home);
	return CLI_OK;
}
