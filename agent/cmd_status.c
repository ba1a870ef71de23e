/*
 * cmd_status.c: `whistle status`, what a station is and holds, and how
 * its sync stands: role, listen endpoints, each known peer as the agent
 * last recorded it (store state records "peer/<keyhex>", written when a
 * link changes state or a round ends), and the local digest of each
 * scope it syncs (its own path; for hubs also each trusted peer path
 * within it). Records are what a running agent last wrote: "connected"
 * carries the time of that record.
 */
#include "cli.h"
#include "json.h"
#include "syncio.h"
#include "trust.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
	"usage: whistle [--home DIR] status [--json]\n"
	"\n"
	"Show the station (name, code, path, role), its public key, how many\n"
	"ops and cases the store holds, the digest of everything held, the\n"
	"listen endpoints, and per peer the agent has met: its name, key,\n"
	"endpoint, whether it was connected when the agent last recorded it\n"
	"(and when), the last successful sync, ops sent and received, and\n"
	"'in sync as of T' or 'behind by about k ops' (from the counts last\n"
	"exchanged). Then the local digest and op count of each scope synced:\n"
	"the station's own path and, for hubs, each trusted peer path in it.\n";

struct peers {
	struct peer_rec *r;
	uint8_t (*pk)[WH_PK_BYTES];
	size_t n;
};

static int peer_cb(void *ctx, const char *name, const uint8_t *val,
		   size_t n)
{
	struct peers *p = ctx;
	uint8_t pk[WH_PK_BYTES];
	if (strlen(name) != 5 + 2 * WH_PK_BYTES ||
	    wh_unhex(name + 5, pk, WH_PK_BYTES) != WH_OK)
		return 0;
	p->r = wh_xrealloc(p->r, (p->n + 1) * sizeof *p->r);
	p->pk = wh_xrealloc(p->pk, (p->n + 1) * sizeof *p->pk);
	if (peer_rec_decode(val, n, &p->r[p->n]) != WH_OK)
		return 0; /* a record we cannot read is not worth failing */
	memcpy(p->pk[p->n], pk, WH_PK_BYTES);
	p->n++;
	return 0;
}

/* Scopes to show: our path, and trusted peer paths within it. */
static size_t scopes(const struct cli *c, const struct trust *t,
		     const char **out, size_t cap)
{
	size_t k = 0;
	out[k++] = c->conf.path;
	size_t pn = strlen(c->conf.path);
	for (size_t i = 0; i < t->n && k < cap; i++) {
		const char *p = t->e[i].path;
		if (!wh_path_within(p, strlen(p), c->conf.path, pn))
			continue;
		size_t j;
		for (j = 0; j < k && strcmp(out[j], p); j++)
			;
		if (j == k)
			out[k++] = p;
	}
	return k;
}

/* "in sync as of T" / "behind by about k ops" / "peer behind ..." */
static void lag_text(const struct peer_rec *r, char *out, size_t cap)
{
	char t[CLI_TIME_MAX];
	if (!r->last_sync_ms && !r->rounds && !r->peer_count &&
	    !r->local_count) {
		snprintf(out, cap, "never synced");
	} else if (r->in_sync) {
		cli_time_local(r->last_sync_ms, t);
		snprintf(out, cap, "in sync as of %s", t);
	} else if (r->peer_count > r->local_count) {
		snprintf(out, cap, "behind by about %" PRIu64 " ops",
			 r->peer_count - r->local_count);
	} else if (r->local_count > r->peer_count) {
		snprintf(out, cap, "peer behind by about %" PRIu64 " ops",
			 r->local_count - r->peer_count);
	} else {
		snprintf(out, cap, "not in sync (same count, different ops)");
	}
}

static void time_json(struct json *j, const char *k, uint64_t ms)
{
	json_key(j, k);
	if (!ms) {
		json_null(j);
		return;
	}
	char iso[CLI_TIME_MAX];
	cli_time_iso(ms, iso);
	json_str(j, iso);
}

static void peers_json(struct json *j, const struct peers *p)
{
	json_key(j, "peers");
	json_arr(j);
	for (size_t i = 0; i < p->n; i++) {
		const struct peer_rec *r = &p->r[i];
		char lag[80];
		lag_text(r, lag, sizeof lag);
		json_obj(j);
		json_kstr(j, "name", r->name);
		json_khex(j, "key", p->pk[i], WH_PK_BYTES);
		json_kstr(j, "role", r->role);
		json_kstr(j, "path", r->path);
		json_kstr(j, "endpoint", r->endpoint[0] ? r->endpoint : NULL);
		json_kstr(j, "scope", r->scope);
		json_kbool(j, "connected", r->connected);
		json_kbool(j, "outbound", r->outbound);
		time_json(j, "recorded_at", r->at_ms);
		time_json(j, "since", r->since_ms);
		time_json(j, "last_sync", r->last_sync_ms);
		json_kbool(j, "in_sync", r->in_sync);
		json_kuint(j, "ops_sent", r->sent);
		json_kuint(j, "ops_received", r->received);
		json_kuint(j, "ops_refused", r->refused);
		json_kuint(j, "local_ops", r->local_count);
		json_kuint(j, "peer_ops", r->peer_count);
		json_kuint(j, "behind",
			   r->in_sync || r->peer_count <= r->local_count
				   ? 0
				   : r->peer_count - r->local_count);
		json_kstr(j, "lag", lag);
		json_key(j, "receipt");
		if (r->have_receipt) {
			json_obj(j);
			json_khex(j, "digest", r->receipt_digest, WH_ID_BYTES);
			time_json(j, "at", r->receipt_ms);
			json_obj_end(j);
		} else {
			json_null(j);
		}
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void peers_text(const struct peers *p)
{
	if (!p->n) {
		printf("对端 Peers:     none recorded (run 'whistle agent' or "
		       "'whistle sync')\n");
		return;
	}
	printf("对端 Peers:\n");
	for (size_t i = 0; i < p->n; i++) {
		const struct peer_rec *r = &p->r[i];
		char hex[2 * WH_PK_BYTES + 1], at[CLI_TIME_MAX],
			last[CLI_TIME_MAX] = "never", lag[80];
		wh_hex(p->pk[i], WH_PK_BYTES, hex);
		cli_time_local(r->at_ms, at);
		if (r->last_sync_ms)
			cli_time_local(r->last_sync_ms, last);
		lag_text(r, lag, sizeof lag);
		printf("  %s (%s %s) key %.8s… %s\n", r->name, r->role,
		       r->path, hex, r->endpoint[0] ? r->endpoint : "inbound");
		printf("    %s as of %s; last sync %s\n",
		       r->connected ? "connected" : "not connected", at, last);
		printf("    sent %" PRIu64 " ops, received %" PRIu64
		       " ops; %s\n",
		       r->sent, r->received, lag);
	}
}

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
	struct peers peers = {0};
	struct trust tl;
	if ((rc = trust_load(c, &tl)))
		return rc;
	if ((rc = wh_store_state_each(c->store, "peer/", peer_cb, &peers)) !=
	    WH_OK) {
		trust_fini(&tl);
		free(peers.r);
		free(peers.pk);
		return cli_fail(c, "store: %s", wh_strerror(rc));
	}
	const char *sc[64];
	size_t nsc = scopes(c, &tl, sc, 64);
	uint8_t sd[64][WH_ID_BYTES];
	uint64_t sn[64];
	for (size_t i = 0; i < nsc && rc == WH_OK; i++)
		rc = wh_store_digest(c->store, sc[i], sd[i], &sn[i]);
	if (rc != WH_OK) {
		trust_fini(&tl);
		free(peers.r);
		free(peers.pk);
		return cli_fail(c, "store: %s", wh_strerror(rc));
	}
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
		json_key(&j, "listen");
		json_arr(&j);
		for (unsigned i = 0; i < f->nlisten; i++)
			json_str(&j, f->listen[i]);
		json_arr_end(&j);
		peers_json(&j, &peers);
		json_key(&j, "scopes");
		json_arr(&j);
		for (size_t i = 0; i < nsc; i++) {
			json_obj(&j);
			json_kstr(&j, "scope", sc[i]);
			json_khex(&j, "digest", sd[i], WH_ID_BYTES);
			json_kuint(&j, "ops", sn[i]);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		json_end(&j);
	} else {
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
		printf("角色 Role:      %s\n", f->role);
		printf("监听 Listen:    ");
		for (unsigned i = 0; i < f->nlisten; i++)
			printf("%s%s", i ? " " : "", f->listen[i]);
		printf("%s\n", f->nlisten ? "" : "none (dials out only)");
		peers_text(&peers);
		printf("范围 Scopes:\n");
		for (size_t i = 0; i < nsc; i++) {
			char h[2 * WH_ID_BYTES + 1];
			wh_hex(sd[i], WH_ID_BYTES, h);
			printf("  %-40s %.16s… %" PRIu64 " ops\n", sc[i], h,
			       sn[i]);
		}
	}
	trust_fini(&tl);
	free(peers.r);
	free(peers.pk);
	return CLI_OK;
}
