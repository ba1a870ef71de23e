/*
 * cmd_case_view.c: reading cases: `case list`, `case show [--history]`,
 * and the JSON shape of a case shared with the writing commands.
 *
 * Text is Chinese-first (标题 Title) because the people at the keyboard
 * read Chinese; JSON uses the English codes plus *_label fields so that
 * scripts never parse Chinese. A case's history is streamed from the
 * store callback as it is read: ops borrowed from the map are printed and
 * forgotten, never kept past the callback.
 */
#include "cli.h"
#include "cli_emergency.h"
#include "cli_seal.h"
#include "json.h"
#include "mp.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int cli_case_load(const struct cli *c, const char *code, uint32_t seq,
		  struct wh_case *out)
{
	int rc = wh_store_case_get(c->store, code, seq, out);
	if (rc == WH_OK)
		return CLI_OK;
	char id[WH_CASE_ID_MAX];
	wh_case_id_format(code, seq, id);
	if (rc == WH_ENOTFOUND)
		return cli_fail(c, "no case %s", id);
	return cli_fail(c, "%s: %s", id, wh_strerror(rc));
}

static void json_time(struct json *j, const char *k, wh_hlc_ts ts)
{
	json_key(j, k);
	if (!ts) {
		json_null(j);
		return;
	}
	char iso[CLI_TIME_MAX];
	cli_time_iso(WH_HLC_MS(ts), iso);
	json_str(j, iso);
}

static void json_location(struct json *j, int64_t lat, int64_t lon)
{
	char a[24], b[24];
	cli_e7_format(lat, a);
	cli_e7_format(lon, b);
	json_obj(j);
	json_key(j, "lat");
	json_num_raw(j, a);
	json_key(j, "lon");
	json_num_raw(j, b);
	json_obj_end(j);
}

/* Personal data: the "personal" object, and the plain "reporter" and
 * "contact" keys only where this station can read them. Without pd
 * (lists) nothing is opened: the view alone says what there is. */
static void personal_json(struct json *j, const struct wh_case *v,
			  const struct cli_pd *pd)
{
	int state;
	const char *rep = NULL, *con = NULL;
	if (pd) {
		state = pd->state;
		rep = pd->reporter;
		con = pd->contact;
	} else if (v->erased) {
		state = CLI_PD_ERASED;
	} else if (v->has_kid) {
		state = CLI_PD_SEALED;
	} else {
		rep = v->reporter;
		con = v->contact;
		state = rep || con ? CLI_PD_OPEN : CLI_PD_NONE;
	}
	if (state == CLI_PD_OPEN || state == CLI_PD_NONE) {
		json_kstr(j, "reporter", rep);
		json_kstr(j, "contact", con);
	}
	json_key(j, "personal");
	json_obj(j);
	json_kstr(j, "state", cli_pd_name(state));
	json_kstr(j, "reporter", rep);
	json_kstr(j, "contact", con);
	if (pd) {
		/* Each keys op and whether its envelope is here: what an
		 * erase destroys, shown so it can be checked. */
		json_key(j, "envelopes");
		json_arr(j);
		for (size_t i = 0; i < pd->nenvs; i++) {
			json_obj(j);
			json_khex(j, "kid", pd->envs[i].kid, WH_ID_BYTES);
			json_khex(j, "blob", pd->envs[i].blob, WH_ID_BYTES);
			json_kstr(j, "content",
				  cli_env_content_name(pd->envs[i].content));
			json_obj_end(j);
		}
		json_arr_end(j);
	}
	json_obj_end(j);
}

void cli_case_json(const struct cli *c, struct json *j,
		   const struct wh_case *v, const struct cli_pd *pd)
{
	char id[WH_CASE_ID_MAX];
	wh_case_id_format(v->code, v->seq, id);
	json_obj(j);
	json_kstr(j, "id", id);
	json_kstr(j, "path", v->path);
	json_kstr(j, "title", v->title);
	json_kstr(j, "description", v->description);
	json_kstr(j, "category", v->category);
	json_kstr(j, "status", wh_status_name(v->status));
	json_kstr(j, "status_label", wh_status_label(v->status));
	json_kstr(j, "priority", wh_priority_name(v->priority));
	json_kstr(j, "priority_label", wh_priority_label(v->priority));
	json_kstr(j, "source", wh_source_name(v->source));
	json_kstr(j, "source_label", wh_source_label(v->source));
	json_kstr(j, "address", v->address);
	personal_json(j, v, pd);
	json_kstr(j, "external_ref", v->extref);
	json_key(j, "location");
	if (v->has_location)
		json_location(j, v->lat_e7, v->lon_e7);
	else
		json_null(j);
	json_key(j, "tags");
	json_arr(j);
	for (uint32_t i = 0; i < v->nelems; i++)
		if (v->elems[i].set == WH_SET_TAGS)
			json_str(j, v->elems[i].value);
	json_arr_end(j);
	json_time(j, "created_at", v->has_create ? v->created_at : 0);
	json_time(j, "updated_at", v->updated_at);
	json_kuint(j, "created_at_hlc", v->has_create ? v->created_at : 0);
	json_kuint(j, "updated_at_hlc", v->updated_at);
	json_key(j, "creator");
	if (v->has_create) {
		char hex[2 * WH_PK_BYTES + 1];
		wh_hex(v->creator, WH_PK_BYTES, hex);
		json_str(j, hex);
	} else {
		json_null(j);
	}
	json_kuint(j, "ops", v->nops);
	json_kuint(j, "notes", v->nnotes);
	json_key(j, "conflict");
	if (v->conflict) {
		json_obj(j);
		json_kstr(j, "other_status", wh_status_name(v->conflict_other));
		json_kstr(j, "other_status_label",
			  wh_status_label(v->conflict_other));
		json_time(j, "at", v->conflict_at);
		json_khex(j, "author", v->conflict_author, WH_PK_BYTES);
		json_obj_end(j);
	} else {
		json_null(j);
	}
	json_kbool(j, "incomplete", !v->has_create);
	cli_case_em_json(c, j, v);
	cli_flow_json(c, j, v);
	/* the object stays open: show adds "history" before closing */
}

/* ---- case list ---- */

static const char list_help[] =
	"usage: whistle case list [--status S | --overdue] [--scope PATH]\n"
	"                         [--limit N] [--all]\n"
	"\n"
	"List cases in case id order: id, status, priority, category, title.\n"
	"  --status S    only cases in status S (new, in_progress, 处理中, ...)\n"
	"  --overdue     instead, what is overdue now (督办): per department\n"
	"                late to report (报到超时) or to resolve (办结超时),\n"
	"                how late, most late first\n"
	"  --scope PATH  only cases whose path lies within PATH\n"
	"  --limit N     at most N rows (default 200); --all: no limit\n"
	"  --carried     also neighbours' cases carried here in an emergency\n"
	"                (neighbour relay) after it ended; during one they\n"
	"                are listed anyway, marked [代传 carried]\n"
	"--json prints an array of case objects; with --overdue, of objects\n"
	"{id, department, lead, what (report|resolve), what_label, late_ms,\n"
	"due_ms, due, title}.\n";

struct list_ctx {
	const struct cli *c;
	struct json j;
	uint32_t shown, limit;
	int more;
	int carried_too; /* --carried, or relay on now */
};

int cli_case_carried(const struct cli *c, const struct wh_case *v)
{
	/* Only community stations relay; a department holds the cases it
	 * was summoned to, a hub those below it, and neither carries. */
	const char *home = c->conf.path;
	return !strcmp(c->conf.role, "station") && *home &&
	       wh_store_case_reached(c->store, v->code, v->seq, home) ==
		       WH_ENOTFOUND;
}

int cli_relay_on(const struct cli *c, char street[WH_PATH_MAX + 1])
{
	const char *p = c->conf.path, *slash = strrchr(p, '/');
	if (!slash)
		return 0;
	char st[WH_PATH_MAX + 1];
	snprintf(st, sizeof st, "%.*s", (int)(slash - p), p);
	if (street)
		memcpy(street, st, sizeof st);
	int ok = 0;
	return wh_store_relay_claim(c->store, p, st, cli_now(c), &ok) ==
		       WH_OK &&
	       ok;
}

static int list_row(void *ctx, const struct wh_case *v)
{
	struct list_ctx *l = ctx;
	int carry = cli_case_carried(l->c, v);
	if (carry && !l->carried_too)
		return 0; /* not ours, and the emergency that brought it ended */
	if (l->limit && l->shown == l->limit) {
		l->more = 1; /* we asked for one extra to know this */
		return 1;
	}
	l->shown++;
	if (l->c->json) {
		cli_case_json(l->c, &l->j, v, NULL);
		json_kbool(&l->j, "carried", carry);
		json_obj_end(&l->j);
		return 0;
	}
	char id[WH_CASE_ID_MAX], st[64];
	wh_case_id_format(v->code, v->seq, id);
	snprintf(st, sizeof st, "%s%s", wh_status_label(v->status),
		 v->conflict ? "!" : "");
	cli_print_cell(stdout, id, 16, 0);
	fputs("  ", stdout);
	cli_print_cell(stdout, st, 8, 0);
	fputs("  ", stdout);
	cli_print_cell(stdout, wh_priority_label(v->priority), 6, 0);
	fputs("  ", stdout);
	cli_print_cell(stdout, v->category ? v->category : "-", 12, 0);
	fputs("  ", stdout);
	/* A case transferred out (转办) stays in this station's store and
	 * keeps syncing here (store.h, "reach"): say where it went. */
	const char *home = l->c->conf.path;
	if (carry)
		printf("[代传 carried] ");
	else if (v->path && *home &&
		 !wh_path_within(v->path, strlen(v->path), home, strlen(home)))
		printf("[已转出 moved to %s] ", v->path);
	cli_print_cell(stdout,
		       v->title ? v->title
				: (v->has_create ? "" : "(未收到创建 incomplete)"),
		       40, 1);
	fputc('\n', stdout);
	return 0;
}

int cmd_case_list(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{"status", 0, 1}, {"scope", 0, 1}, {"limit", 0, 1},
		{"all", 0, 0},    {"overdue", 0, 0}, {"carried", 0, 0},
		{NULL, 0, 0},
	};
	struct wh_case_filter f = {NULL, -1, 200};
	int all = 0, overdue = 0, carried_flag = 0, rc;
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which;
	const char *v;
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP)
			return cli_help(list_help);
		if (t == ARG_POS)
			return cli_usage(c, "unexpected argument '%s'", v);
		if (which == 0 && (f.status = wh_status_parse(v)) < 0)
			return cli_usage(c, "--status '%s': not a status "
					    "(new, accepted, in_progress, "
					    "resolved, closed, reopened, "
					    "cancelled)",
					 v);
		if (which == 1) {
			if (*v && !wh_path_valid(v, strlen(v)))
				return cli_usage(c, "--scope '%s': not a "
						    "jurisdiction path",
						 v);
			f.scope = v;
		}
		if (which == 2 && (rc = cli_parse_u32(c, "--limit", v, &f.limit)))
			return rc;
		if (which == 2 && f.limit == 0)
			return cli_usage(c, "--limit 0: use --all for no limit");
		if (which == 3)
			all = 1;
		if (which == 4)
			overdue = 1;
		if (which == 5)
			carried_flag = 1;
	}
	if (overdue && f.status >= 0)
		return cli_usage(c, "--overdue lists open cases: it does not "
				    "take --status");
	if (all)
		f.limit = 0;
	if ((rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_STORE)))
		return rc;
	if (overdue)
		return cli_overdue_list(c, f.scope, f.limit);
	struct list_ctx l = {.c = c, .limit = f.limit,
			     .carried_too = carried_flag || cli_relay_on(c, NULL)};
	if (f.limit)
		f.limit++; /* one more, to say there are more */
	if (c->json) {
		json_init(&l.j, stdout);
		json_arr(&l.j);
	} else {
		cli_print_cell(stdout, "编号 ID", 16, 0);
		fputs("  ", stdout);
		cli_print_cell(stdout, "状态", 8, 0);
		fputs("  ", stdout);
		cli_print_cell(stdout, "优先级", 6, 0);
		fputs("  ", stdout);
		cli_print_cell(stdout, "类别", 12, 0);
		fputs("  标题 Title\n", stdout);
	}
	rc = wh_store_case_list(c->store, &f, list_row, &l);
	if (rc < 0)
		return cli_fail(c, "store: %s", wh_strerror(rc));
	if (c->json) {
		json_arr_end(&l.j);
		json_end(&l.j);
	} else if (l.more) {
		fprintf(stderr, "(showing the first %" PRIu32
				" cases; --all for every case)\n",
			l.shown);
	} else if (l.shown == 0) {
		printf("(no cases)\n");
	}
	return CLI_OK;
}
