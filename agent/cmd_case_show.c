/*
 * cmd_case_show.c: `whistle case show ID [--history]`: one case with all
 * its fields, its notes, and (--history) its signed audit trail: every op
 * in fold order with what the fold made of it.
 *
 * Ops come from a store callback and borrow from the map, so each one is
 * printed (or emitted as JSON) inside the callback and not kept.
 */
#include "cli.h"
#include "cli_emergency.h"
#include "cli_seal.h"
#include "json.h"
#include "mp.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char show_help[] =
	"usage: whistle case show ID [--history] [--json]\n"
	"\n"
	"Show every field of a case, a status conflict if there is one, its\n"
	"tags, the whistle-and-report loop (分流, 吹哨, each department's\n"
	"报到 / 到场 / 办结 and deadlines, what is overdue now, feedback,\n"
	"ratings, flags to confirm) and notes. --history lists every op in\n"
	"fold order: local time, author (本站 = this station, else the first\n"
	"8 hex digits of the key), kind, what it changed, and whether the\n"
	"fold set it aside [忽略 ignored] or flagged it [冲突 conflict].\n"
	"Reporter and contact show where this station can read them (it\n"
	"holds an envelope of the case key: docs/sealing.md), else\n"
	"'sealed: not readable here' or 'erased'.\n"
	"--json prints the case object, with \"history\" when asked.\n";

/* Chinese label of a field key, for the history lines. */
static const char *field_label(uint8_t key)
{
	switch (key) {
	case WH_F_TITLE: return "标题";
	case WH_F_DESCRIPTION: return "描述";
	case WH_F_CATEGORY: return "类别";
	case WH_F_ADDRESS: return "地址";
	case WH_F_SOURCE: return "来源";
	case WH_F_PRIORITY: return "优先级";
	case WH_F_REPORTER: return "反映人";
	case WH_F_CONTACT: return "联系方式";
	case WH_F_LOCATION: return "位置";
	case WH_F_EXTREF: return "外部编号";
	case WH_F_SEALED: return "个人信息";
	case WH_F_DUE_MS: return "期限";
	case WH_F_EMERGENCY: return "应急";
	case WH_F_TASK: return "应急任务";
	default: return wh_field_name(key);
	}
}

static const char *effect_name(enum wh_apply how)
{
	switch (how) {
	case WH_APPLY_OK: return "applied";
	case WH_APPLY_CONFLICT: return "conflict";
	default: return "ignored";
	}
}

/* The two integers of a location field (validated by the decoder). */
static void location(const struct wh_field *f, int64_t *lat, int64_t *lon)
{
	struct wh_mp r;
	wh_mp_init(&r, f->s.p, f->s.n);
	*lat = *lon = 0;
	if (wh_mp_read_int(&r, lat) != WH_OK || wh_mp_read_int(&r, lon) != WH_OK)
		*lat = *lon = 0;
}

static const char *uint_name(uint8_t key, uint64_t u)
{
	switch (key) {
	case WH_F_SOURCE: return wh_source_name((unsigned)u);
	case WH_F_PRIORITY: return wh_priority_name((unsigned)u);
	case WH_F_TO:
	case WH_F_FROM: return wh_status_name((unsigned)u);
	case WH_F_SET: return u == WH_SET_TAGS ? "tags" : "parties";
	case WH_F_LEVEL: return wh_level_name((unsigned)u);
	case WH_F_WKIND: return wh_wkind_name((unsigned)u);
	case WH_F_WHISTLER: return wh_whistler_name((unsigned)u);
	case WH_F_STEP: return wh_step_name((unsigned)u);
	case WH_F_CHANNEL: return wh_channel_name((unsigned)u);
	case WH_F_RATER:
		return u == WH_RATER_RESIDENT ? "resident" : "street";
	default: return NULL;
	}
}

static void json_field(struct json *j, const struct wh_field *f)
{
	const char *name = wh_field_name(f->key);
	json_key(j, name ? name : "unknown");
	switch (f->type) {
	case WH_T_STR: json_strn(j, (const char *)f->s.p, f->s.n); break;
	case WH_T_UINT: {
		const char *n = uint_name(f->key, f->u);
		if (n)
			json_str(j, n);
		else
			json_uint(j, f->u);
		break;
	}
	case WH_T_INT: json_int(j, f->i); break;
	case WH_T_ARRAY:
		if (f->key == WH_F_LOCATION) {
			int64_t lat, lon;
			char a[24], b[24];
			location(f, &lat, &lon);
			cli_e7_format(lat, a);
			cli_e7_format(lon, b);
			json_obj(j);
			json_key(j, "lat");
			json_num_raw(j, a);
			json_key(j, "lon");
			json_num_raw(j, b);
			json_obj_end(j);
		} else if (f->key == WH_F_DEPTS) {
			struct wh_mp r;
			struct wh_slice e;
			wh_mp_init(&r, f->s.p, f->s.n);
			json_arr(j);
			for (uint32_t k = 0; k < f->count; k++) {
				if (wh_mp_read_str(&r, &e, WH_DEPT_MAX))
					break; /* decode checked them */
				json_strn(j, (const char *)e.p, e.n);
			}
			json_arr_end(j);
		} else { /* removes: op ids */
			struct wh_mp r;
			wh_mp_init(&r, f->s.p, f->s.n);
			json_arr(j);
			for (uint32_t k = 0; k < f->count; k++) {
				uint8_t id[WH_ID_BYTES];
				char hex[2 * WH_ID_BYTES + 1];
				if (wh_mp_read_bin_fixed(&r, id, WH_ID_BYTES))
					break;
				wh_hex(id, WH_ID_BYTES, hex);
				json_str(j, hex);
			}
			json_arr_end(j);
		}
		break;
	default: {
		char hex[2 * 64 + 1];
		size_t n = f->s.n > 64 ? 64 : f->s.n;
		wh_hex(f->s.p, n, hex);
		json_str(j, hex);
	}
	}
}

static void history_json(struct json *j, const struct wh_op *op,
			 enum wh_apply how)
{
	char iso[CLI_TIME_MAX];
	cli_time_iso(WH_HLC_MS(op->hlc), iso);
	json_obj(j);
	json_khex(j, "id", op->id, WH_ID_BYTES);
	json_kstr(j, "at", iso);
	json_kuint(j, "hlc", op->hlc);
	json_khex(j, "author", op->author, WH_PK_BYTES);
	json_kstr(j, "kind", wh_op_kind_name(op->kind));
	json_key(j, "path");
	json_strn(j, (const char *)op->path.p, op->path.n);
	json_key(j, "fields");
	json_obj(j);
	for (uint32_t i = 0; i < op->nfields; i++)
		json_field(j, &op->fields[i]);
	json_obj_end(j);
	json_kstr(j, "effect", effect_name(how));
	json_obj_end(j);
}

/* A text value, on one line and at most 'width' columns. */
static void put_value(const struct wh_slice *s, size_t width)
{
	char *t = wh_xstrndup((const char *)s->p, s->n);
	cli_print_cell(stdout, t, width, 1);
	free(t);
}

/* What an op changed, in words. */
static void history_change(const struct wh_op *op)
{
	const struct wh_field *to = wh_op_field(op, WH_F_TO);
	const struct wh_field *from = wh_op_field(op, WH_F_FROM);
	const struct wh_field *f;
	switch (op->kind) {
	case WH_OP_CASE_STATUS:
		printf("状态 %s → %s", wh_status_label((unsigned)from->u),
		       wh_status_label((unsigned)to->u));
		return;
	case WH_OP_CASE_NOTE:
		fputs("备注 ", stdout);
		put_value(&wh_op_field(op, WH_F_TEXT)->s, 60);
		return;
	case WH_OP_TAG_ADD:
	case WH_OP_TAG_REMOVE:
		f = wh_op_field(op, WH_F_TAG);
		printf("%s ", op->kind == WH_OP_TAG_ADD ? "标签 +" : "标签 -");
		put_value(&f->s, 40);
		return;
	case WH_OP_CASE_MOVE:
		fputs("转至 → ", stdout);
		put_value(&wh_op_field(op, WH_F_NEW_PATH)->s, 60);
		return;
	case WH_OP_CASE_KEYS:
	case WH_OP_CASE_ERASE: {
		char kid[2 * WH_ID_BYTES + 1];
		wh_hex(wh_op_field(op, WH_F_KID)->s.p, WH_ID_BYTES, kid);
		kid[8] = '\0';
		if (op->kind == WH_OP_CASE_ERASE) {
			printf("个人信息删除 personal data erased (key %s)", kid);
			return;
		}
		f = wh_op_field(op, WH_F_SIZE);
		printf("个人信息密钥 key %s shared (%" PRIu64 " bytes)", kid,
		       f->u);
		return;
	}
	default:
		if (cli_flow_history(op))
			return;
		break;
	}
	for (uint32_t i = 0, n = 0; i < op->nfields; i++) {
		const struct wh_field *x = &op->fields[i];
		if (x->key == WH_F_KID)
			continue; /* said with its sealed value */
		printf("%s%s=", n++ ? "; " : "", field_label(x->key));
		if (x->key == WH_F_SEALED) {
			fputs("[加密 sealed]", stdout);
		} else if (x->type == WH_T_STR) {
			put_value(&x->s, 30);
		} else if (x->key == WH_F_SOURCE) {
			fputs(wh_source_label((unsigned)x->u), stdout);
		} else if (x->key == WH_F_PRIORITY) {
			fputs(wh_priority_label((unsigned)x->u), stdout);
		} else if (x->key == WH_F_LOCATION) {
			int64_t lat, lon;
			char a[24], b[24];
			location(x, &lat, &lon);
			cli_e7_format(lat, a);
			cli_e7_format(lon, b);
			printf("%s,%s", a, b);
		} else {
			printf("%" PRIu64, x->u);
		}
	}
}

struct walk {
	const struct cli *c;
	struct json *j;
	int notes_only;
	uint32_t n;
};

static int history_row(void *ctx, const struct wh_op *op, enum wh_apply how)
{
	struct walk *w = ctx;
	if (w->j) {
		history_json(w->j, op, how);
		return 0;
	}
	char when[CLI_TIME_MAX], who[16];
	cli_time_local(WH_HLC_MS(op->hlc), when);
	cli_author(w->c, op->author, who);
	if (w->notes_only) {
		if (op->kind != WH_OP_CASE_NOTE)
			return 0;
		printf("  %s  ", when);
		cli_print_cell(stdout, who, 8, 0);
		fputs("  ", stdout);
		/* notes are shown whole, continuation lines indented */
		const struct wh_field *t = wh_op_field(op, WH_F_TEXT);
		for (size_t i = 0; i < t->s.n; i++) {
			fputc(t->s.p[i], stdout);
			if (t->s.p[i] == '\n')
				fputs("                                   ",
				      stdout);
		}
		fputc('\n', stdout);
		return 0;
	}
	w->n++;
	printf("  %3" PRIu32 "  %s  ", w->n, when);
	cli_print_cell(stdout, who, 8, 0);
	fputs("  ", stdout);
	cli_print_cell(stdout, wh_op_kind_name(op->kind), 10, 0);
	fputs("  ", stdout);
	history_change(op);
	if (how == WH_APPLY_CONFLICT)
		fputs("  [冲突 conflict]", stdout);
	else if (how == WH_APPLY_DUP_CREATE)
		fputs("  [忽略: 重复创建 ignored: duplicate create]", stdout);
	else if (how == WH_APPLY_IGNORED)
		fputs("  [忽略 ignored]", stdout);
	fputc('\n', stdout);
	return 0;
}

static void row(const char *label, const char *value)
{
	fputs("  ", stdout);
	cli_print_cell(stdout, label, 18, 0);
	fputs(value ? value : "-", stdout);
	fputc('\n', stdout);
}

static void description(const char *d)
{
	printf("  描述 Description\n    ");
	for (const char *p = d; *p; p++) {
		fputc(*p, stdout);
		if (*p == '\n')
			fputs("    ", stdout);
	}
	fputc('\n', stdout);
}

static void show_text(const struct cli *c, const struct wh_case *v,
		      const struct cli_pd *pd)
{
	char id[WH_CASE_ID_MAX], buf[512], t1[CLI_TIME_MAX], who[16];
	wh_case_id_format(v->code, v->seq, id);
	printf("案件 Case %s%s\n", id,
	       v->has_create ? "" : "  (未收到创建 incomplete: no create op "
				    "held yet)");
	row("标题 Title", v->title);
	snprintf(buf, sizeof buf, "%s (%s)", wh_status_label(v->status),
		 wh_status_name(v->status));
	row("状态 Status", buf);
	if (v->conflict) {
		cli_time_local(WH_HLC_MS(v->conflict_at), t1);
		cli_author(c, v->conflict_author, who);
		snprintf(buf, sizeof buf,
			 "与 %s (%s) 并发; %s 于 %s 未看到当前状态",
			 wh_status_label(v->conflict_other),
			 wh_status_name(v->conflict_other), who, t1);
		row("状态冲突 Conflict", buf);
	}
	snprintf(buf, sizeof buf, "%s (%s)", wh_priority_label(v->priority),
		 wh_priority_name(v->priority));
	row("优先级 Priority", buf);
	snprintf(buf, sizeof buf, "%s (%s)", wh_source_label(v->source),
		 wh_source_name(v->source));
	row("来源 Source", buf);
	row("类别 Category", v->category);
	row("辖区 Path", v->path);
	if (cli_case_carried(c, v))
		row("代传 Carried",
		    cli_relay_on(c, NULL)
			    ? "为邻站代传 carried for a neighbour station "
			      "(neighbour relay, in the emergency)"
			    : "为邻站代传, 应急已结束 carried for a neighbour; "
			      "the emergency is over ('whistle prune "
			      "--carried' drops it once its keepers hold it)");
	row("地址 Address", v->address);
	if (v->has_location) {
		char a[24], b[24];
		cli_e7_format(v->lat_e7, a);
		cli_e7_format(v->lon_e7, b);
		snprintf(buf, sizeof buf, "%s, %s", a, b);
		row("位置 Location", buf);
	}
	if (pd->state == CLI_PD_SEALED) {
		row("个人信息 Personal", "已加密, 本站无法读取 (sealed: not "
					 "readable here)");
	} else if (pd->state == CLI_PD_ERASED) {
		row("个人信息 Personal", "已删除 (erased)");
	} else {
		row("反映人 Reporter", pd->reporter);
		row("联系方式 Contact", pd->contact);
	}
	row("外部编号 Ref", v->extref);
	if (v->task) {
		char em[WH_CASE_ID_MAX];
		wh_doc_id_format(v->em_code, v->em_seq, em);
		snprintf(buf, sizeof buf, "%s / %s", em, v->task);
		row("应急任务 Task", buf);
	}
	buf[0] = '\0';
	for (uint32_t i = 0; i < v->nelems; i++) {
		if (v->elems[i].set != WH_SET_TAGS)
			continue;
		size_t n = strlen(buf);
		snprintf(buf + n, sizeof buf - n, "%s%s", n ? ", " : "",
			 v->elems[i].value);
	}
	row("标签 Tags", buf[0] ? buf : NULL);
	if (v->has_create) {
		cli_time_local(WH_HLC_MS(v->created_at), t1);
		cli_author(c, v->creator, who);
		snprintf(buf, sizeof buf, "%s  %s", t1, who);
		row("创建 Created", buf);
	}
	cli_time_local(WH_HLC_MS(v->updated_at), t1);
	row("更新 Updated", t1);
	snprintf(buf, sizeof buf, "%" PRIu32 " (冲突 %" PRIu32 ", 忽略 %" PRIu32
				  ")",
		 v->nops, v->nconflicts, v->nignored);
	row("操作 Ops", buf);
	if (!v->description)
		row("描述 Description", NULL);
	else
		description(v->description);
	cli_flow_text(c, v);
}

int cmd_case_show(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {{"history", 0, 0},
					      {NULL, 0, 0}};
	const char *idarg = NULL;
	int history = 0, rc;
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which;
	const char *v;
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP)
			return cli_help(show_help);
		if (t == ARG_OPT)
			history = 1;
		else if (idarg)
			return cli_usage(c, "unexpected argument '%s'", v);
		else
			idarg = v;
	}
	if (!idarg)
		return cli_usage(c, "missing case id");
	char code[WH_CODE_MAX + 1];
	uint32_t seq;
	if ((rc = cli_parse_case_id(c, idarg, code, &seq)))
		return rc;
	if ((rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE)))
		return rc;
	struct wh_case cv;
	if ((rc = cli_case_load(c, code, seq, &cv)))
		return rc;
	struct cli_pd pd;
	if ((rc = cli_pd_load(c, &cv, &pd))) {
		wh_case_fini(&cv);
		cli_pd_fini(&pd);
		return cli_fail(c, "%s: personal data: %s", idarg,
				wh_strerror(rc));
	}
	struct walk w = {.c = c};
	struct json j;
	if (c->json) {
		json_init(&j, stdout);
		cli_case_json(c, &j, &cv, &pd);
		json_kbool(&j, "carried", cli_case_carried(c, &cv));
		if (history) {
			json_key(&j, "history");
			json_arr(&j);
			w.j = &j;
			rc = wh_store_case_history(c->store, code, seq,
						   history_row, &w);
			json_arr_end(&j);
		}
		json_obj_end(&j);
		json_end(&j);
	} else {
		show_text(c, &cv, &pd);
		if (cv.nnotes) {
			printf("备注 Notes (%" PRIu32 "):\n", cv.nnotes);
			w.notes_only = 1;
			rc = wh_store_case_history(c->store, code, seq,
						   history_row, &w);
		}
		if (rc == WH_OK && history) {
			printf("历史 History (%" PRIu32 " ops, fold order):\n",
			       cv.nops);
			w.notes_only = 0;
			rc = wh_store_case_history(c->store, code, seq,
						   history_row, &w);
		}
	}
	wh_case_fini(&cv);
	cli_pd_fini(&pd);
	if (rc < 0)
		return cli_fail(c, "%s: history: %s", idarg, wh_strerror(rc));
	return CLI_OK;
}

int cli_case_history_json(const struct cli *c, struct json *j,
			  const char *code, uint32_t seq)
{
	struct walk w = {.c = c, .j = j};
	json_key(j, "history");
	json_arr(j);
	int rc = wh_store_case_history(c->store, code, seq, history_row, &w);
	json_arr_end(j);
	return rc;
}
