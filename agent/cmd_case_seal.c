/*
 * cmd_case_seal.c: `whistle case erase-personal ID` and
 * `whistle case reseal ID|--all`: the two steps on a case's sealed
 * personal data that are not part of writing it (cli_seal.h has the
 * helpers, docs/sealing.md the rules).
 *
 * erase-personal signs an erase op naming the case's current key; every
 * store that takes it destroys the case's key envelopes (store_blob.c)
 * and its view forgets the sealed bytes, while the ops themselves, the
 * ciphertext included, stay and keep verifying. reseal gives the case
 * key to readers that have no envelope yet (a hub whose key was
 * replaced, a station added to the roster): one keys op per case.
 * Neither is a department's step.
 */
#include "cli.h"
#include "cli_seal.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>

static int not_department(const struct cli *c)
{
	if (!strcmp(c->conf.role, "department"))
		return cli_fail(c, "a department's station does not erase or "
				   "share case keys (部门不能删除或分发个人信息)");
	return CLI_OK;
}

/* Parse "ID" or "--all" plus no options but the global ones. */
static int id_or_all(struct cli *c, int argc, char **argv, int allow_all,
		     const char *help, const char **id, int *all)
{
	static const struct cli_opt opts[] = {{"all", 0, 0}, {NULL, 0, 0}};
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which;
	const char *v;
	*id = NULL;
	*all = 0;
	while ((t = cli_args_next(c, &a, allow_all ? opts : opts + 1, &which,
				  &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP) {
			cli_help(help);
			return -1;
		}
		if (t == ARG_OPT)
			*all = 1;
		else if (*id)
			return cli_usage(c, "unexpected argument '%s'", v);
		else
			*id = v;
	}
	if (*id && *all)
		return cli_usage(c, "give a case id or --all, not both");
	if (!*id && !*all)
		return cli_usage(c, allow_all ? "missing case id (or --all)"
					      : "missing case id");
	return CLI_OK;
}

static const char erase_help[] =
	"usage: whistle case erase-personal ID\n"
	"\n"
	"删除个人信息: make the case's reporter and contact unreadable on every\n"
	"replica. Signs an erase op; each station that receives it destroys\n"
	"the case's key envelopes and refuses them from then on, so the\n"
	"sealed data in the ops can no longer be opened anywhere, while the\n"
	"ops themselves (the audit trail) stay and still verify. It cannot be\n"
	"undone, and personal data cannot be set on the case again. Copies of\n"
	"an envelope taken outside Whistle before the erase, together with a\n"
	"reader's secret key, still open it (docs/sealing.md).\n";

int cmd_case_erase(struct cli *c, int argc, char **argv)
{
	const char *id;
	int all, rc;
	char code[WH_CODE_MAX + 1];
	uint32_t seq;
	if ((rc = id_or_all(c, argc, argv, 0, erase_help, &id, &all)))
		return rc < 0 ? CLI_OK : rc;
	if ((rc = cli_parse_case_id(c, id, code, &seq)))
		return rc;
	if ((rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE)))
		return rc;
	if ((rc = not_department(c)))
		return rc;
	struct wh_case v;
	if ((rc = cli_case_load(c, code, seq, &v)))
		return rc;
	if (v.erased)
		rc = cli_fail(c, "%s: its personal data is erased already", id);
	else if (!v.has_kid)
		rc = cli_fail(c, "%s: no sealed personal data to erase%s", id,
			      v.reporter || v.contact
				      ? " (its reporter and contact were "
					"written in clear by an older whistle: "
					"signed ops cannot forget them)"
				      : "");
	struct wh_op_draft d;
	if (!rc) {
		wh_draft_init(&d, WH_OP_CASE_ERASE, code, seq,
			      v.path ? v.path : c->conf.path);
		wh_draft_bin(&d, WH_F_KID, v.kid, WH_ID_BYTES);
		int src = wh_store_author(c->store, c->key, &d, 1,
					  wh_clock_realtime, NULL, NULL, NULL);
		if (src)
			rc = cli_store_err(c, id, src);
	}
	wh_case_fini(&v);
	if (rc)
		return rc;
	return cli_case_report(c, code, seq, "personal data erased (个人信息已删除)");
}

static const char reseal_help[] =
	"usage: whistle case reseal ID\n"
	"       whistle case reseal --all\n"
	"\n"
	"Give a case's key to the readers of its personal data that have no\n"
	"envelope for it yet: after the roster changed (a hub's key was\n"
	"replaced, a station or department added) or a department was\n"
	"summoned by a station that could not open the key. The readers are\n"
	"the roster's: the case's station, its street and district hubs and\n"
	"the departments summoned to it (without an authority: this station\n"
	"and the trust-list peers whose path holds the case's). Only a\n"
	"station that can open the key can share it. --all does this for\n"
	"every case held here. Readers that lost their grant keep what they\n"
	"already received: resealing adds readers, it never removes one.\n";

struct ids {
	struct wh_buf keys; /* code (WH_CODE_MAX + 1) and seq, each */
	size_t n;
};

#define ID_REC (WH_CODE_MAX + 1 + sizeof(uint32_t))

static int collect(void *ctx, const struct wh_case *v)
{
	struct ids *x = ctx;
	if (!v->has_kid || v->erased)
		return 0;
	uint8_t rec[ID_REC] = {0};
	memcpy(rec, v->code, strlen(v->code));
	memcpy(rec + WH_CODE_MAX + 1, &v->seq, sizeof v->seq);
	wh_buf_append(&x->keys, rec, sizeof rec);
	x->n++;
	return 0;
}

/* Reseal one case: *added readers (0: nothing to do), *readable. */
static int reseal_one(struct cli *c, const char *code, uint32_t seq,
		      size_t *added, int *readable)
{
	struct wh_case v;
	int rc = wh_store_case_get(c->store, code, seq, &v);
	if (rc)
		return rc;
	struct cli_share share;
	struct wh_op_draft d;
	rc = cli_seal_share_case(c, &v, NULL, 0, &share, &d, added, readable);
	if (!rc && *added)
		rc = wh_store_author(c->store, c->key, &d, 1, wh_clock_realtime,
				     NULL, NULL, NULL);
	wh_case_fini(&v);
	return rc;
}

int cmd_case_reseal(struct cli *c, int argc, char **argv)
{
	const char *id;
	int all, rc;
	char code[WH_CODE_MAX + 1];
	uint32_t seq = 0;
	if ((rc = id_or_all(c, argc, argv, 1, reseal_help, &id, &all)))
		return rc < 0 ? CLI_OK : rc;
	if (id && (rc = cli_parse_case_id(c, id, code, &seq)))
		return rc;
	if ((rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE)))
		return rc;
	if ((rc = not_department(c)))
		return rc;
	struct ids x = {{0}, 0};
	if (id) {
		struct wh_case v;
		if ((rc = cli_case_load(c, code, seq, &v)))
			return rc;
		if (v.erased || !v.has_kid)
			rc = cli_fail(c, "%s: %s", id,
				      v.erased ? "its personal data is erased"
					       : "no sealed personal data");
		else
			collect(&x, &v);
		wh_case_fini(&v);
	} else {
		/* Ids first: writing from inside the walk is refused. */
		struct wh_case_filter f = {NULL, -1, 0};
		int src = wh_store_case_list(c->store, &f, collect, &x);
		if (src)
			rc = cli_store_err(c, "reseal", src);
	}
	size_t cases = 0, readers = 0, unreadable = 0;
	struct json j;
	int jopen = !rc && c->json;
	if (jopen) {
		json_init(&j, stdout);
		json_arr(&j);
	}
	for (size_t i = 0; !rc && i < x.n; i++) {
		const uint8_t *rec = x.keys.p + i * ID_REC;
		char cid[WH_CASE_ID_MAX];
		uint32_t s;
		memcpy(&s, rec + WH_CODE_MAX + 1, sizeof s);
		wh_case_id_format((const char *)rec, s, cid);
		size_t added = 0;
		int readable = 0;
		int src = reseal_one(c, (const char *)rec, s, &added, &readable);
		if (src) {
			rc = cli_store_err(c, cid, src);
			break;
		}
		cases += added > 0;
		readers += added;
		unreadable += !readable;
		const char *what = !readable ? "sealed: not readable here"
				   : added   ? "shared"
					     : "every reader has it";
		if (c->json) {
			json_obj(&j);
			json_kstr(&j, "id", cid);
			json_kstr(&j, "result", what);
			json_kuint(&j, "readers_added", added);
			json_obj_end(&j);
		} else if (id || added) {
			if (added)
				printf("%s: key shared with %zu more "
				       "reader%s\n",
				       cid, added, added == 1 ? "" : "s");
			else
				printf("%s: %s\n", cid, what);
		}
	}
	if (jopen) {
		json_arr_end(&j);
		json_end(&j);
	}
	wh_buf_fini(&x.keys);
	if (rc)
		return rc;
	if (!c->json && !id)
		printf("%zu case%s resealed for %zu reader%s; %zu not readable "
		       "here\n",
		       cases, cases == 1 ? "" : "s", readers,
		       readers == 1 ? "" : "s", unreadable);
	if (id && !c->json && unreadable)
		return CLI_FAIL;
	return CLI_OK;
}
