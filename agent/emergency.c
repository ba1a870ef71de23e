/*
 * emergency.c: emergencies and plans for the CLI and the agent
 * (cli_emergency.h): the emergencies held, plans found in the store, and
 * activation, which turns an emergency's plan tasks into this community
 * station's cases.
 *
 * Plans are small, so nothing is cached between calls: every command
 * (and every activation of the agent) folds them from what the store
 * holds now. The emergencies are read from the store's derived table
 * once per command, for deadlines.
 */
#include "cli_emergency.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the emergencies held --------------------------------------- */

static int collect(void *ctx, const struct wh_emergency *e)
{
	struct cli_em *m = ctx;
	m->v = wh_xrealloc(m->v, (m->n + 1) * sizeof m->v[0]);
	m->v[m->n++] = *e;
	return 0;
}

const struct cli_em *cli_em_all(const struct cli *c)
{
	/* A cache behind a const pointer: the object itself is never
	 * const (struct cli lives in main), and filling it in changes
	 * nothing a caller can observe but the time taken. */
	struct cli *m = (struct cli *)c;
	if (m->em)
		return m->em;
	m->em = wh_xcalloc(1, sizeof *m->em);
	int rc = c->store ? wh_store_emergency_each(c->store, collect, m->em)
			  : WH_EINVAL;
	if (rc) {
		free(m->em->v);
		m->em->v = NULL;
		m->em->n = 0;
		m->em->err = rc;
	}
	return m->em;
}

void cli_em_free(struct cli_em *e)
{
	if (!e)
		return;
	free(e->v);
	free(e);
}

void cli_em_clock(const struct cli *c, const struct wh_case *v,
		  struct wh_dl_clock *k)
{
	const struct cli_em *m = cli_em_all(c);
	wh_dl_clock_for_case(k, m->v, m->n, v);
}

/* ---- plans ------------------------------------------------------- */

static int plan_fold_one(void *ctx, const struct wh_op *op, enum wh_apply how)
{
	(void)how;
	/* The store hands a plan's ops in fold order: apply cannot refuse
	 * them unless our own data is bad. */
	return wh_plan_apply(ctx, op) ? WH_ECORRUPT : 0;
}

int cli_plan_load(struct cli *c, const char *code, uint32_t seq,
		  struct wh_plan *p)
{
	wh_plan_init(p, code, seq);
	if (!wh_plan_is(code))
		return WH_EINVAL;
	return wh_store_case_history(c->store, code, seq, plan_fold_one, p);
}

/* One kept plan op: where its bytes are and what it sorts by. */
struct kept {
	size_t off, len;
	char code[WH_CODE_MAX + 1];
	uint32_t seq;
	wh_hlc_ts hlc;
	uint8_t author[WH_PK_BYTES];
	uint8_t id[WH_ID_BYTES];
};

struct walk {
	struct wh_buf bytes;
	struct kept *k;
	size_t n, cap;
	int err;
	struct wh_op op;
};

static int keep(void *ctx, const uint8_t *p, size_t n)
{
	struct walk *w = ctx;
	if (wh_op_decode(p, n, &w->op) != WH_OK) {
		w->err = WH_ECORRUPT;
		return 1;
	}
	if (!wh_plan_is(w->op.code))
		return 0;
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 32;
		w->k = wh_xrealloc(w->k, w->cap * sizeof w->k[0]);
	}
	struct kept *k = &w->k[w->n++];
	k->off = w->bytes.len;
	k->len = n;
	memcpy(k->code, w->op.code, sizeof k->code);
	k->seq = w->op.seq;
	k->hlc = w->op.hlc;
	memcpy(k->author, w->op.author, WH_PK_BYTES);
	memcpy(k->id, w->op.id, WH_ID_BYTES);
	wh_buf_append(&w->bytes, p, n);
	return 0;
}

static int kept_cmp(const void *pa, const void *pb)
{
	const struct kept *a = pa, *b = pb;
	int d = strcmp(a->code, b->code);
	if (d)
		return d;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return wh_op_key_cmp(a->hlc, a->author, a->id, b->hlc, b->author,
			     b->id);
}

void cli_plans_free(struct wh_plan *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		wh_plan_fini(&v[i]);
	free(v);
}

int cli_plan_list(struct cli *c, const char *path, struct wh_plan **out,
		  size_t *nout)
{
	*out = NULL;
	*nout = 0;
	struct walk w = {0};
	int rc = wh_store_each_doc_op(c->store, path, keep, &w);
	if (!rc && w.err)
		rc = w.err;
	if (!rc && w.n)
		qsort(w.k, w.n, sizeof w.k[0], kept_cmp);
	struct wh_plan *v = NULL;
	size_t nv = 0;
	for (size_t i = 0; !rc && i < w.n; i++) {
		if (i && !memcmp(w.k[i].id, w.k[i - 1].id, WH_ID_BYTES))
			continue; /* the same op twice: harmless */
		if (!i || strcmp(w.k[i].code, w.k[i - 1].code) ||
		    w.k[i].seq != w.k[i - 1].seq) {
			v = wh_xrealloc(v, (nv + 1) * sizeof v[0]);
			wh_plan_init(&v[nv++], w.k[i].code, w.k[i].seq);
		}
		rc = wh_op_decode(w.bytes.p + w.k[i].off, w.k[i].len, &w.op);
		if (!rc && wh_plan_apply(&v[nv - 1], &w.op))
			rc = WH_ECORRUPT;
	}
	free(w.k);
	wh_buf_fini(&w.bytes);
	if (rc) {
		cli_plans_free(v, nv);
		return rc;
	}
	*out = v;
	*nout = nv;
	return WH_OK;
}

/* ---- activation -------------------------------------------------- */

int cli_em_may_declare(const struct cli *c, const char **why)
{
	if (!strcmp(c->conf.role, "street") ||
	    !strcmp(c->conf.role, "district"))
		return 1;
	*why = "only a street or a district declares or ends an emergency "
	       "(应急状态由街道或区宣布)";
	return 0;
}

/* Append s, cut at a character boundary if it would pass max bytes. */
static void put_capped(struct wh_buf *b, const char *s, size_t max)
{
	size_t n = strlen(s);
	if (b->len + n > max) {
		n = b->len < max ? max - b->len : 0;
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	wh_buf_append(b, s, n);
}

/* The case this station made earlier of task key of emergency e: its id
 * into id, "" if none is found (held tasks are found by the same index
 * that said they are held). */
struct held {
	const char *code, *key;
	char *id;
};

static int held_cb(void *ctx, const struct wh_case *v)
{
	struct held *h = ctx;
	if (strcmp(v->code, h->code) || !v->task || strcmp(v->task, h->key))
		return 0;
	wh_case_id_format(v->code, v->seq, h->id);
	return 1;
}

static void held_case(struct cli *c, const struct wh_emergency *e,
		      const char *key, char id[WH_CASE_ID_MAX])
{
	struct held h = {c->conf.code, key, id};
	id[0] = '\0';
	if (wh_store_emergency_tasks(c->store, e->code, e->seq, held_cb, &h) <
	    0)
		id[0] = '\0';
}

/* The task case's description: what it is for and who does it. */
static void describe(struct wh_buf *b, const struct wh_emergency *e,
		     const struct wh_plan *p, const struct wh_plan_task *t)
{
	char id[WH_CASE_ID_MAX], pid[WH_CASE_ID_MAX], line[1024];
	size_t max = (size_t)wh_field_max(WH_F_DESCRIPTION);
	wh_doc_id_format(e->code, e->seq, id);
	wh_doc_id_format(p->code, p->seq, pid);
	wh_buf_reset(b);
	snprintf(line, sizeof line, "应急任务 Emergency task %s (%s %s)\n", t->key,
		 pid, p->title ? p->title : "");
	put_capped(b, line, max);
	snprintf(line, sizeof line, "应急 Emergency %s %s\n", id, e->title);
	put_capped(b, line, max);
	if (t->team) {
		snprintf(line, sizeof line, "队伍 Team: %s\n", t->team);
		put_capped(b, line, max);
	}
	if (t->contact) {
		snprintf(line, sizeof line, "联系 Contact: %s\n", t->contact);
		put_capped(b, line, max);
	}
	if (t->text)
		put_capped(b, t->text, max);
	while (b->len && b->p[b->len - 1] == '\n')
		b->len--;
	wh_buf_append(b, "", 1); /* NUL: the draft takes a C string */
}

struct todo {
	struct wh_emergency e;
	struct wh_plan plan;
};

struct act {
	struct cli *c;
	uint64_t now;
	struct todo *v;
	size_t n;
};

static int want_em(void *ctx, const struct wh_emergency *e)
{
	struct act *a = ctx;
	const char *path = a->c->conf.path;
	if (!wh_em_active(e, a->now) || !e->plan[0] ||
	    !wh_path_within(path, strlen(path), e->area, strlen(e->area)))
		return 0;
	a->v = wh_xrealloc(a->v, (a->n + 1) * sizeof a->v[0]);
	a->v[a->n].e = *e;
	memset(&a->v[a->n].plan, 0, sizeof a->v[a->n].plan);
	a->n++;
	return 0;
}

static void draft_task(struct wh_op_draft *d, const struct cli *c,
		       const struct wh_emergency *e,
		       const struct wh_plan_task *t, const char *desc)
{
	wh_draft_init(d, WH_OP_CASE_CREATE, c->conf.code, 0, c->conf.path);
	wh_draft_str(d, WH_F_TITLE, t->title);
	if (t->category)
		wh_draft_str(d, WH_F_CATEGORY, t->category);
	wh_draft_str(d, WH_F_DESCRIPTION, desc);
	wh_draft_uint(d, WH_F_PRIORITY, WH_PRI_URGENT);
	if (t->within_ms)
		wh_draft_uint(d, WH_F_DUE_MS, e->start_ms + t->within_ms);
	wh_draft_str(d, WH_F_EMERGENCY, e->code);
	wh_draft_uint(d, WH_F_EMERGENCY_SEQ, e->seq);
	wh_draft_str(d, WH_F_TASK, t->key);
}

int cli_em_activate(struct cli *c, uint64_t now_ms, cli_task_cb cb,
		    void *ctx, size_t *made, size_t *held)
{
	if (made)
		*made = 0;
	if (held)
		*held = 0;
	if (strcmp(c->conf.role, "station"))
		return WH_OK; /* only community stations do plan tasks */
	struct act a = {c, now_ms, NULL, 0};
	int rc = wh_store_emergency_each(c->store, want_em, &a);
	/* Which tasks apply: (todo index, task index) pairs. */
	size_t nd = 0, cap = 0;
	size_t (*pick)[2] = NULL;
	for (size_t i = 0; !rc && i < a.n; i++) {
		struct todo *td = &a.v[i];
		int prc = cli_plan_load(c, td->e.plan, td->e.plan_seq,
					&td->plan);
		if (prc == WH_ENOTFOUND)
			continue; /* not here yet: its ops will wake us */
		if ((rc = prc))
			break;
		for (uint32_t k = 0; k < td->plan.ntasks; k++) {
			if (!wh_plan_task_for(&td->plan.tasks[k], c->conf.path))
				continue;
			if (nd == cap) {
				cap = cap ? 2 * cap : 16;
				pick = wh_xrealloc(pick, cap * sizeof *pick);
			}
			pick[nd][0] = i;
			pick[nd][1] = k;
			nd++;
		}
	}
	struct wh_op_draft *d = wh_xcalloc(nd ? nd : 1, sizeof *d);
	struct wh_buf *desc = wh_xcalloc(nd ? nd : 1, sizeof *desc);
	uint8_t *created = wh_xcalloc(nd ? nd : 1, 1);
	for (size_t i = 0; !rc && i < nd; i++) {
		struct todo *td = &a.v[pick[i][0]];
		const struct wh_plan_task *t = &td->plan.tasks[pick[i][1]];
		describe(&desc[i], &td->e, &td->plan, t);
		draft_task(&d[i], c, &td->e, t, (const char *)desc[i].p);
	}
	if (!rc && nd)
		rc = wh_store_task_author(c->store, c->key, d, nd,
					  wh_clock_realtime, NULL, NULL, NULL,
					  created);
	for (size_t i = 0; !rc && i < nd; i++) {
		struct todo *td = &a.v[pick[i][0]];
		struct cli_task ct = {&td->e, &td->plan,
				      &td->plan.tasks[pick[i][1]], "",
				      created[i]};
		if (created[i])
			wh_case_id_format(d[i].code, d[i].seq, ct.case_id);
		else
			held_case(c, &td->e, ct.task->key, ct.case_id);
		if (created[i] && made)
			++*made;
		if (!created[i] && held)
			++*held;
		if (cb)
			cb(ctx, &ct);
	}
	for (size_t i = 0; i < nd; i++)
		wh_buf_fini(&desc[i]);
	for (size_t i = 0; i < a.n; i++)
		wh_plan_fini(&a.v[i].plan);
	free(desc);
	free(d);
	free(created);
	free(pick);
	free(a.v);
	return rc;
}
