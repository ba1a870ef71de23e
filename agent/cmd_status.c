/*
 * cmd_status.c: `whistle status`, what a station is and holds, and how
 * its sync stands: role; whether an agent runs on this home and, if so,
 * what it actually listens on and dials (its "agent/self" record, see
 * agent_self.h; flags may override whistle.conf), else whistle.conf's
 * values; each known peer as the agent last recorded it (store state
 * records "peer/<keyhex>", written when a link changes state, when a
 * round ends, and about once a second while its counters move); and the
 * local digest of each scope it syncs (its own path; for hubs also each
 * trusted peer path within it). Records are what a running agent last
 * wrote: "connected" carries the time of that record.
 */
#include "agent_self.h"
#include "budget.h"
#include "cli.h"
#include "cli_emergency.h"
#include "json.h"
#include "roster.h"
#include "syncio.h"
#include "trust.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
	"usage: whistle [--home DIR] status [--json]\n"
	"\n"
	"Show the station (name, code, path, role), its public key, how many\n"
	"ops and cases the store holds, the digest of everything held,\n"
	"whether an agent runs on this home, the endpoints it listens on and\n"
	"the peers it dials (the running agent's, which flags may have\n"
	"changed; whistle.conf's when none runs), and per peer the agent has\n"
	"met: its name, key, endpoint, whether it was connected when the\n"
	"agent last recorded it (and when), the last successful sync, ops\n"
	"sent and received, and 'in sync as of T' or 'behind by about k ops'\n"
	"(from the counts last exchanged). Then the local digest and op count\n"
	"of each scope synced: the station's own path and, for hubs, each\n"
	"trusted peer path in it.\n"
	"A running agent refreshes a peer's line about once a second while\n"
	"ops move, and at once when a link goes up or down or a round ends.\n"
	"The authority line names the district authority the store is bound\n"
	"to, the serial of its roster held and how many delegate rosters,\n"
	"or says lab mode (no authority: the trust list only).\n";

/* What the store holds of the roster (store.h, "Trust"). */
struct authview {
	int bound;
	uint8_t key[WH_PK_BYTES];
	uint64_t serial; /* 0: no roster yet */
	uint32_t ndel;
	int member; /* this station's key holds a live grant now */
};

static int auth_load(const struct cli *c, struct authview *v)
{
	memset(v, 0, sizeof *v);
	struct wh_roster_set *rs = wh_xcalloc(1, sizeof *rs);
	int rc = wh_store_roster_set(c->store, rs);
	if (rc == WH_OK) {
		v->bound = 1;
		memcpy(v->key, rs->authority, WH_PK_BYTES);
		v->serial = rs->root.serial;
		v->ndel = rs->ndel;
		v->member = wh_roster_member_now(rs, c->key->pk, cli_now(c),
						 NULL);
		wh_roster_set_fini(rs);
	}
	free(rs);
	return rc == WH_ENOTFOUND ? WH_OK : rc;
}

static void auth_json(struct json *j, const struct authview *v)
{
	json_key(j, "authority");
	if (!v->bound) {
		json_null(j);
		return;
	}
	json_obj(j);
	json_khex(j, "key", v->key, WH_PK_BYTES);
	json_kuint(j, "roster_serial", v->serial);
	json_kuint(j, "delegate_rosters", v->ndel);
	json_kbool(j, "member_now", v->member);
	json_obj_end(j);
}

static void auth_text(const struct authview *v)
{
	if (!v->bound) {
		printf("授权 Authority: none (lab mode: trust list only)\n");
		return;
	}
	char hex[2 * WH_PK_BYTES + 1];
	wh_hex(v->key, WH_PK_BYTES, hex);
	if (!v->serial) {
		printf("授权 Authority: %.8s…, no roster yet (every op is "
		       "refused until 'whistle roster apply')\n",
		       hex);
		return;
	}
	printf("授权 Authority: %.8s…, roster serial %" PRIu64
	       " (+%" PRIu32 " delegate roster%s)%s\n",
	       hex, v->serial, v->ndel, v->ndel == 1 ? "" : "s",
	       v->member ? "" : "; this station holds no live grant");
}

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

/* What the agent does: the running one's record, or whistle.conf's. */
struct agentview {
	int running;     /* HOME/agent.lock is held */
	long pid;        /* 0: unknown */
	int from_agent;  /* r is the running agent's record */
	struct agent_self r;
	/* config dials that do not resolve: the spec and why (else NULL) */
	const char *bad[CLI_CONF_LIST_MAX];
	char why[CLI_CONF_LIST_MAX][200];
};

static void view_from_conf(const struct cli *c, const struct trust *t,
			   struct agentview *v)
{
	const struct cli_conf *f = &c->conf;
	struct agent_self *r = &v->r;
	memset(r, 0, sizeof *r);
	for (unsigned i = 0; i < f->nlisten; i++)
		snprintf(r->listen[i], sizeof r->listen[i], "%.*s",
			 (int)sizeof r->listen[i] - 1, f->listen[i]);
	r->nlisten = f->nlisten;
	for (unsigned i = 0; i < f->npeer; i++) {
		const struct wh_net_peer *p;
		struct agent_self_dial *d = &r->dial[i];
		if (trust_resolve(t, f->peer[i], &p, d->endpoint, v->why[i])) {
			v->bad[i] = f->peer[i];
			continue;
		}
		snprintf(d->name, sizeof d->name, "%s", p->name);
		memcpy(d->pk, p->pk, WH_PK_BYTES);
	}
	r->ndial = f->npeer;
	r->interval = f->sync_interval ? f->sync_interval : 30;
	snprintf(r->log_level, sizeof r->log_level, "%s",
		 f->log_level[0] ? f->log_level : "info");
}

static void view_load(const struct cli *c, const struct trust *t,
		      struct agentview *v)
{
	memset(v, 0, sizeof *v);
	v->running = agent_lock_holder(c, &v->pid) == 1;
	/* A record left by an agent that is gone, or by an earlier one
	 * while a new one starts, is not what runs now. */
	if (v->running && agent_self_get(c->store, &v->r) == WH_OK &&
	    (!v->pid || v->r.pid == (uint64_t)v->pid)) {
		v->from_agent = 1;
		v->pid = (long)v->r.pid;
		return;
	}
	view_from_conf(c, t, v);
}

/* Urgent first (sync.h): in force while an emergency covers this
 * station's path or lies within it, as the agent's sessions decide. */
static int urgent_now(struct cli *c, const char *path)
{
	int on = 0;
	return wh_store_urgent_scope(c->store, path, cli_now(c), &on) ==
		       WH_OK &&
	       on;
}

/* "7.5" for 7500 ms, "1" for 1000 ms. */
static void secs(uint32_t ms, char out[24])
{
	if (ms % 1000)
		snprintf(out, 24, "%u.%u", ms / 1000, (ms % 1000) / 100);
	else
		snprintf(out, 24, "%u", ms / 1000);
}

static void agent_json(struct json *j, const struct agentview *v,
		       int urgent)
{
	const struct agent_self *r = &v->r;
	json_key(j, "listen");
	json_arr(j);
	for (size_t i = 0; i < r->nlisten; i++)
		json_str(j, r->listen[i]);
	json_arr_end(j);
	json_key(j, "agent");
	json_obj(j);
	json_kbool(j, "running", v->running);
	json_key(j, "pid");
	if (v->running && v->pid > 0)
		json_uint(j, (uint64_t)v->pid);
	else
		json_null(j);
	json_kstr(j, "settings_from", v->from_agent ? "agent" : "config");
	time_json(j, "started", v->from_agent ? r->started_ms : 0);
	time_json(j, "updated", v->from_agent ? r->updated_ms : 0);
	json_kuint(j, "sync_interval", r->interval);
	json_kbool(j, "urgent_first", urgent);
	json_kuint(j, "sync_interval_ms",
		   urgent ? wh_sync_urgent_ms(r->interval * 1000u)
			  : r->interval * 1000u);
	json_kstr(j, "log_level", r->log_level);
	json_key(j, "dial");
	json_arr(j);
	for (size_t i = 0; i < r->ndial; i++) {
		json_obj(j);
		if (v->bad[i]) {
			json_kstr(j, "name", v->bad[i]);
			json_kstr(j, "key", NULL);
			json_kstr(j, "endpoint", NULL);
			json_kstr(j, "error", v->why[i]);
		} else {
			json_kstr(j, "name", r->dial[i].name);
			json_khex(j, "key", r->dial[i].pk, WH_PK_BYTES);
			json_kstr(j, "endpoint", r->dial[i].endpoint);
		}
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
}

static void agent_text(const struct agentview *v, int urgent)
{
	const struct agent_self *r = &v->r;
	char since[CLI_TIME_MAX], pid[32] = "";
	if (v->pid > 0)
		snprintf(pid, sizeof pid, " (pid %ld)", v->pid);
	if (v->from_agent) {
		cli_time_local(r->started_ms, since);
		printf("代理 Agent:     running%s since %s; sync every %u s, "
		       "log level %s\n",
		       pid, since, (unsigned)r->interval, r->log_level);
	} else {
		printf("代理 Agent:     %s%s; listen and dial below are "
		       "whistle.conf's\n",
		       v->running ? "running, starting up" : "not running",
		       v->running ? pid : "");
	}
	if (urgent) {
		char iv[24];
		secs(wh_sync_urgent_ms(r->interval * 1000u), iv);
		printf("应急 Emergency: in force here: urgent first, interval "
		       "%s s (%u s otherwise)\n",
		       iv, (unsigned)r->interval);
	}
	printf("监听 Listen:    ");
	for (size_t i = 0; i < r->nlisten; i++)
		printf("%s%s", i ? " " : "", r->listen[i]);
	printf("%s\n", r->nlisten ? "" : "none (dials out only)");
	printf("拨号 Dial:      ");
	for (size_t i = 0; i < r->ndial; i++) {
		if (v->bad[i])
			printf("%s%s (%s)", i ? " " : "", v->bad[i], v->why[i]);
		else
			printf("%s%s@%s", i ? " " : "",
			       r->dial[i].name[0] ? r->dial[i].name : "?",
			       r->dial[i].endpoint);
	}
	printf("%s\n", r->ndial ? "" : "nobody (waits to be dialed)");
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
		json_kuint(j, "msgs_dropped", r->dropped);
		json_kuint(j, "rounds", r->rounds);
		json_kuint(j, "local_ops", r->local_count);
		json_kuint(j, "peer_ops", r->peer_count);
		json_kuint(j, "behind",
			   r->in_sync || r->peer_count <= r->local_count
				   ? 0
				   : r->peer_count - r->local_count);
		json_kstr(j, "lag", lag);
		json_key(j, "budget");
		if (r->budget) {
			json_obj(j);
			json_kuint(j, "bytes_per_hour", r->budget);
			json_kuint(j, "used", r->budget_used);
			json_kuint(j, "left", r->budget_used >= r->budget
						  ? 0
						  : r->budget - r->budget_used);
			json_kuint(j, "ops_held", r->budget_held);
			json_obj_end(j);
		} else {
			json_null(j);
		}
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
		if (r->budget) {
			char per[32], used[32], left[32];
			budget_format(r->budget, per, sizeof per);
			budget_format(r->budget_used, used, sizeof used);
			budget_format(r->budget_used >= r->budget
					      ? 0
					      : r->budget - r->budget_used,
				      left, sizeof left);
			printf("    budget %s/h: used %s this hour, %s left%s\n",
			       per, used, left,
			       r->budget_used >= r->budget
				       ? " (spent: urgent ops only)"
				       : "");
		}
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
	struct authview auth;
	if ((rc = auth_load(c, &auth)) != WH_OK) {
		trust_fini(&tl);
		free(peers.r);
		free(peers.pk);
		return cli_fail(c, "store: %s", wh_strerror(rc));
	}
	struct agentview *av = wh_xmalloc(sizeof *av);
	view_load(c, &tl, av);
	int urgent = urgent_now(c, f->path);
	const char *sc[64];
	size_t nsc = scopes(c, &tl, sc, 64);
	uint8_t sd[64][WH_ID_BYTES];
	uint64_t sn[64];
	for (size_t i = 0; i < nsc && rc == WH_OK; i++)
		rc = wh_store_digest(c->store, sc[i], sd[i], &sn[i]);
	if (rc != WH_OK) {
		trust_fini(&tl);
		free(av);
		free(peers.r);
		free(peers.pk);
		return cli_fail(c, "store: %s", wh_strerror(rc));
	}
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "home", c->home);
		json_kstr(&j, "config", c->conf_file);
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
		auth_json(&j, &auth);
		cli_em_status_json(c, &j);
		agent_json(&j, av, urgent);
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
		printf("配置 Config:    %s\n", c->conf_file);
		printf("角色 Role:      %s\n", f->role);
		auth_text(&auth);
		cli_em_status_text(c);
		agent_text(av, urgent);
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
	free(av);
	free(peers.r);
	free(peers.pk);
	return CLI_OK;
}

int cli_peers_json(const struct cli *c, struct json *j)
{
	struct peers peers = {0};
	int rc = wh_store_state_each(c->store, "peer/", peer_cb, &peers);
	if (rc == WH_OK)
		peers_json(j, &peers);
	free(peers.r);
	free(peers.pk);
	return rc;
}
