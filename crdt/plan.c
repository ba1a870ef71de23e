/*
 * plan.c: the emergency plan fold (plan.h has the rules).
 *
 * Tasks are kept sorted by key, so a lookup is a binary search and two
 * replicas list them in the same order. Like problems.c, a pure function
 * of (state, op).
 */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int wh_plan_code(const char *station_code, char out[WH_CODE_MAX + 1])
{
	size_t pn = strlen(WH_PLAN_PREFIX), n = strlen(station_code);
	if (n == 0 || n > WH_CODE_MAX - pn)
		return WH_EID;
	memcpy(out, WH_PLAN_PREFIX, pn);
	memcpy(out + pn, station_code, n + 1);
	return wh_code_valid(out, pn + n) ? WH_OK : WH_EID;
}

int wh_plan_is(const char *code)
{
	return !strncmp(code, WH_PLAN_PREFIX, strlen(WH_PLAN_PREFIX));
}

void wh_plan_init(struct wh_plan *p, const char *code, uint32_t seq)
{
	memset(p, 0, sizeof *p);
	snprintf(p->code, sizeof p->code, "%s", code);
	p->seq = seq;
}

void wh_plan_task_fini(struct wh_plan_task *t)
{
	free(t->key);
	free(t->area);
	free(t->title);
	free(t->category);
	free(t->team);
	free(t->contact);
	free(t->text);
	memset(t, 0, sizeof *t);
}

void wh_plan_fini(struct wh_plan *p)
{
	for (uint32_t i = 0; i < p->ntasks; i++)
		wh_plan_task_fini(&p->tasks[i]);
	free(p->tasks);
	free(p->title);
	free(p->text);
	memset(p, 0, sizeof *p);
}

static int64_t task_pos(const struct wh_plan *p, const char *key)
{
	uint32_t lo = 0, hi = p->ntasks;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int d = strcmp(key, p->tasks[mid].key);
		if (d == 0)
			return mid;
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -(int64_t)lo - 1;
}

const struct wh_plan_task *wh_plan_find(const struct wh_plan *p,
					const char *key)
{
	int64_t i = task_pos(p, key);
	return i >= 0 ? &p->tasks[i] : NULL;
}

int wh_plan_task_for(const struct wh_plan_task *t, const char *station_path)
{
	return wh_path_within(station_path, strlen(station_path), t->area,
			      strlen(t->area));
}

static int str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

int wh_plan_task_same(const struct wh_plan_task *a,
		      const struct wh_plan_task *b)
{
	return str_eq(a->key, b->key) && str_eq(a->area, b->area) &&
	       str_eq(a->title, b->title) && str_eq(a->category, b->category) &&
	       str_eq(a->team, b->team) && str_eq(a->contact, b->contact) &&
	       str_eq(a->text, b->text) && a->within_ms == b->within_ms;
}

static char *fdup(const struct wh_op *op, uint8_t key)
{
	const struct wh_field *f = wh_op_field(op, key);
	if (!f || f->type != WH_T_STR)
		return NULL;
	return wh_xstrndup((const char *)f->s.p, f->s.n);
}

static uint64_t fuint(const struct wh_op *op, uint8_t key)
{
	const struct wh_field *f = wh_op_field(op, key);
	return f && f->type == WH_T_UINT ? f->u : 0;
}

static void set_header(struct wh_plan *p, const struct wh_op *op)
{
	free(p->title);
	free(p->text);
	p->title = fdup(op, WH_F_TITLE);
	p->text = fdup(op, WH_F_TEXT);
	p->rule = (uint8_t)fuint(op, WH_F_RULE);
	p->extend_ms = fuint(op, WH_F_EXTEND_MS);
	p->has_header = 1;
	p->set_at = op->hlc;
	memcpy(p->set_by, op->author, WH_PK_BYTES);
}

/* Returns whether the op counted (0: ignored or dropped). */
static int set_task(struct wh_plan *p, const struct wh_op *op)
{
	const struct wh_field *fa = wh_op_field(op, WH_F_AREA);
	if (!wh_path_within((const char *)fa->s.p, fa->s.n, p->path,
			    strlen(p->path)))
		return 0;
	struct wh_plan_task t = {
		.key = fdup(op, WH_F_TASK),
		.area = fdup(op, WH_F_AREA),
		.title = fdup(op, WH_F_TITLE),
		.category = fdup(op, WH_F_CATEGORY),
		.team = fdup(op, WH_F_TEAM),
		.contact = fdup(op, WH_F_CONTACT),
		.text = fdup(op, WH_F_TEXT),
		.within_ms = fuint(op, WH_F_WITHIN_MS),
		.set_at = op->hlc,
	};
	memcpy(t.set_by, op->author, WH_PK_BYTES);
	int64_t i = task_pos(p, t.key);
	if (i >= 0) {
		wh_plan_task_fini(&p->tasks[i]);
		p->tasks[i] = t;
		return 1;
	}
	if (p->ntasks >= WH_PLAN_MAX_TASKS) {
		wh_plan_task_fini(&t);
		p->ndropped++;
		return 0;
	}
	uint32_t at = (uint32_t)(-i - 1);
	p->tasks = wh_xrealloc(p->tasks, (p->ntasks + 1) * sizeof p->tasks[0]);
	memmove(&p->tasks[at + 1], &p->tasks[at],
		(p->ntasks - at) * sizeof p->tasks[0]);
	p->tasks[at] = t;
	p->ntasks++;
	return 1;
}

static void del_task(struct wh_plan *p, const struct wh_op *op)
{
	char *key = fdup(op, WH_F_TASK);
	int64_t i = task_pos(p, key);
	free(key);
	if (i < 0)
		return;
	wh_plan_task_fini(&p->tasks[i]);
	memmove(&p->tasks[i], &p->tasks[i + 1],
		(p->ntasks - (uint32_t)i - 1) * sizeof p->tasks[0]);
	p->ntasks--;
}

int wh_plan_apply(struct wh_plan *p, const struct wh_op *op)
{
	if (strcmp(op->code, p->code) || op->seq != p->seq)
		return WH_EINVAL;
	if (p->nops && wh_op_key_cmp(op->hlc, op->author, op->id, p->last_hlc,
				     p->last_author, p->last_id) <= 0)
		return WH_EINVAL;
	if (!p->nops) {
		memcpy(p->path, op->path.p, op->path.n);
		p->path[op->path.n] = '\0';
	}
	int at_path = op->path.n == strlen(p->path) &&
		      !memcmp(op->path.p, p->path, op->path.n);
	int counted = 0;
	if (at_path) {
		switch (op->kind) {
		case WH_OP_PLAN_SET:
			set_header(p, op);
			counted = 1;
			break;
		case WH_OP_PLAN_TASK: counted = set_task(p, op); break;
		case WH_OP_PLAN_TASK_DEL:
			del_task(p, op);
			counted = 1;
			break;
		default: break;
		}
	}
	if (!counted)
		p->nignored++;
	p->nops++;
	p->last_hlc = op->hlc;
	memcpy(p->last_author, op->author, WH_PK_BYTES);
	memcpy(p->last_id, op->id, WH_ID_BYTES);
	return WH_OK;
}
