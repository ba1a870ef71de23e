/*
 * fuzz_plan.c: emergencies and plans, three ways in; the first byte
 * picks (no plan file starts with a 0 or 1 byte).
 *
 * Text (the usual input): a plan file for `whistle plan publish`
 * (agent/planfile.c, planfile_parse). What it accepts must build: the
 * header and every task become PLAN_SET / PLAN_TASK ops that build and
 * decode, and fold into a plan holding exactly the file's tasks.
 *
 * 0, then ops (each a 2-byte big-endian length and its bytes): decoded,
 * the emergencies' and plans' kept, sorted and folded as the store and
 * agent/emergency.c do (crdt/emergency.c, crdt/plan.c); then deadline
 * clocks for a few paths (crdt/deadline.c).
 *
 * 1, then a stored emergency record (the store's derived table; a
 * damaged store is outside input): wh_em_decode.
 *
 * Checks: a parsed file is within its bounds (tasks unique, areas paths,
 * values within the op limits); an emergency's record encodes and
 * decodes back to the same bytes; a plan's tasks stay sorted and unique;
 * a moved deadline is never earlier than the one set, and the clock
 * never runs longer than the time that passed.
 */
#include "fuzz.h"

#include "deadline.h"
#include "fuzz_gen.h"
#include "planfile.h"

#include <string.h>

#define MAX_OPS 64

static void text(const uint8_t *data, size_t size)
{
	struct planfile pf;
	uint32_t line;
	char why[256];
	if (planfile_parse((const char *)data, size, &pf, &line, why,
			   sizeof why) != WH_OK) {
		FUZZ_CHECK(memchr(why, 0, sizeof why) && why[0]);
		return;
	}
	FUZZ_CHECK(pf.number >= 1 && pf.number <= PLANFILE_NUMBER_MAX);
	FUZZ_CHECK(pf.title && pf.ntasks <= WH_PLAN_MAX_TASKS);
	struct wh_op_draft d;
	struct wh_buf b = {0};
	struct wh_op op;
	struct wh_plan p;
	wh_plan_init(&p, "~EP-FZ", pf.number);
	wh_draft_init(&d, WH_OP_PLAN_SET, "~EP-FZ", pf.number, "xicheng");
	wh_draft_str(&d, WH_F_TITLE, pf.title);
	if (pf.rule == WH_EM_EXTEND) {
		wh_draft_uint(&d, WH_F_RULE, pf.rule);
		wh_draft_uint(&d, WH_F_EXTEND_MS, pf.extend_ms);
	}
	if (pf.text)
		wh_draft_str(&d, WH_F_TEXT, pf.text);
	d.hlc = WH_HLC_MAKE(FZ_T0_MS, 0);
	FUZZ_CHECK(wh_op_build(&d, fz_key(0), &b) == WH_OK);
	FUZZ_CHECK(wh_op_decode(b.p, b.len, &op) == WH_OK);
	/* Tasks in any area fold into a plan at the root of their paths:
	 * publish at a path holding every area. */
	for (uint32_t i = 0; i < pf.ntasks; i++) {
		const struct wh_plan_task *t = &pf.tasks[i];
		FUZZ_CHECK(t->key && t->area && t->title);
		FUZZ_CHECK(wh_path_valid(t->area, strlen(t->area)));
		for (uint32_t k = 0; k < i; k++)
			FUZZ_CHECK(strcmp(pf.tasks[k].key, t->key));
		wh_buf_reset(&b);
		const char *root_end = strchr(t->area, '/');
		char root[WH_PATH_MAX + 1];
		size_t rn = root_end ? (size_t)(root_end - t->area)
				     : strlen(t->area);
		memcpy(root, t->area, rn);
		root[rn] = '\0';
		wh_draft_init(&d, WH_OP_PLAN_TASK, "~EP-FZ", pf.number, root);
		wh_draft_str(&d, WH_F_TASK, t->key);
		wh_draft_str(&d, WH_F_AREA, t->area);
		wh_draft_str(&d, WH_F_TITLE, t->title);
		if (t->category)
			wh_draft_str(&d, WH_F_CATEGORY, t->category);
		if (t->team)
			wh_draft_str(&d, WH_F_TEAM, t->team);
		if (t->contact)
			wh_draft_str(&d, WH_F_CONTACT, t->contact);
		if (t->within_ms)
			wh_draft_uint(&d, WH_F_WITHIN_MS, t->within_ms);
		if (t->text)
			wh_draft_str(&d, WH_F_TEXT, t->text);
		d.hlc = WH_HLC_MAKE(FZ_T0_MS, i + 1);
		FUZZ_CHECK(wh_op_build(&d, fz_key(0), &b) == WH_OK);
		FUZZ_CHECK(wh_op_decode(b.p, b.len, &op) == WH_OK);
		if (i == 0 || !strcmp(root, p.path)) {
			FUZZ_CHECK(wh_plan_apply(&p, &op) == WH_OK);
			FUZZ_CHECK(wh_plan_find(&p, t->key));
		}
	}
	wh_plan_fini(&p);
	wh_buf_fini(&b);
	planfile_fini(&pf);
}

static int op_cmp(const void *pa, const void *pb)
{
	const struct wh_op *a = pa, *b = pb;
	int d = strcmp(a->code, b->code);
	if (d)
		return d;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return wh_op_cmp(a, b);
}

static void check_em(const struct wh_emergency *e)
{
	struct wh_buf b = {0}, c = {0};
	struct wh_emergency back;
	wh_em_encode(e, &b);
	FUZZ_CHECK(wh_em_decode(b.p, b.len, &back) == WH_OK);
	wh_em_encode(&back, &c);
	FUZZ_CHECK(b.len == c.len && !memcmp(b.p, c.p, b.len));
	uint64_t u = wh_em_until(e);
	FUZZ_CHECK(!u || u == e->end_ms || u == e->ended_ms);
	wh_buf_fini(&b);
	wh_buf_fini(&c);
}

static void clocks(const struct wh_emergency *ems, size_t n)
{
	static const char *const paths[] = {
		"xicheng", "xicheng/xinjiekou", FZ_PATH, "xicheng/xisi/a"};
	struct wh_dl_clock k;
	wh_dl_clock_init(&k);
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		wh_dl_clock_for_path(&k, ems, n, paths[i]);
		for (uint32_t j = 1; j < k.npause; j++)
			FUZZ_CHECK(k.pause[j - 1].to_ms < k.pause[j].from_ms);
		uint64_t w = FZ_T0_MS, d = FZ_T0_MS + 3600000ull * (i + 1);
		uint64_t due = wh_dl_due(&k, w, d);
		FUZZ_CHECK(due >= d);
		FUZZ_CHECK(wh_dl_running(&k, w, d + 7200000ull) <=
			   d + 7200000ull - w);
		if (due != WH_DL_NEVER && k.nextend == 0)
			FUZZ_CHECK(wh_dl_running(&k, w, due) == d - w);
	}
	wh_dl_clock_fini(&k);
}

static void ops(const uint8_t *p, size_t n)
{
	struct wh_op *op = wh_xcalloc(MAX_OPS, sizeof *op);
	uint32_t k = 0;
	while (n >= 2 && k < MAX_OPS) {
		size_t len = (size_t)p[0] << 8 | p[1];
		p += 2, n -= 2;
		if (len > n)
			len = n;
		if (wh_op_decode(p, len, &op[k]) == WH_OK &&
		    (wh_em_is(op[k].code) || wh_plan_is(op[k].code)))
			k++;
		p += len, n -= len;
	}
	qsort(op, k, sizeof *op, op_cmp);
	struct wh_emergency *ems = wh_xcalloc(MAX_OPS, sizeof *ems);
	size_t ne = 0;
	struct wh_plan plan;
	int have_plan = 0;
	for (uint32_t i = 0; i < k; i++) {
		if (i && op_cmp(&op[i - 1], &op[i]) == 0)
			continue;
		int first = i == 0 || strcmp(op[i - 1].code, op[i].code) ||
			    op[i - 1].seq != op[i].seq;
		if (wh_em_is(op[i].code)) {
			if (first)
				wh_em_init(&ems[ne++], op[i].code, op[i].seq);
			FUZZ_CHECK(wh_em_apply(&ems[ne - 1], &op[i], NULL) ==
				   WH_OK);
			check_em(&ems[ne - 1]);
			continue;
		}
		if (first) {
			if (have_plan)
				wh_plan_fini(&plan);
			wh_plan_init(&plan, op[i].code, op[i].seq);
			have_plan = 1;
		}
		FUZZ_CHECK(wh_plan_apply(&plan, &op[i]) == WH_OK);
		FUZZ_CHECK(plan.ntasks <= WH_PLAN_MAX_TASKS);
		for (uint32_t t = 1; t < plan.ntasks; t++)
			FUZZ_CHECK(strcmp(plan.tasks[t - 1].key,
					  plan.tasks[t].key) < 0);
	}
	if (have_plan)
		wh_plan_fini(&plan);
	clocks(ems, ne);
	free(ems);
	free(op);
}

static void record(const uint8_t *p, size_t n)
{
	struct wh_emergency e;
	if (wh_em_decode(p, n, &e) != WH_OK)
		return;
	FUZZ_CHECK(memchr(e.title, 0, sizeof e.title) &&
		   memchr(e.area, 0, sizeof e.area));
	struct wh_buf b = {0};
	wh_em_encode(&e, &b);
	/* The decoder takes canonical msgpack only: one encoding each. */
	FUZZ_CHECK(b.len == n && !memcmp(b.p, p, n));
	wh_buf_fini(&b);
	clocks(&e, 1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return wh_crypto_init() == WH_OK ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size && data[0] == 0)
		ops(data + 1, size - 1);
	else if (size && data[0] == 1)
		record(data + 1, size - 1);
	else
		text(data, size);
	return 0;
}
