/*
 * fuzz_view.c: stored case views (crdt/case.c wh_case_decode with its
 * flow part, crdt/flow.c wh_flow_decode). Views are our own bytes, but
 * a damaged store file is outside input too, and the store does more
 * than decode one: it folds the next op into it and writes it back. So
 * after a view decodes, this target folds a whole second case history
 * (fuzz_gen.c, every kind of case op, stamped after the seeds' views)
 * into it, and shows it as `case show --json` would (to /dev/null).
 *
 * Checks: what decoded and what the fold made of it encode to bytes
 * that decode again, to the same bytes (a view the store writes back
 * can always be read back).
 */
#include "fuzz.h"

#include "cli.h"
#include "cli_emergency.h"
#include "fuzz_gen.h"
#include "json.h"

#include <string.h>

static struct fz_ops tail;
static struct wh_op *tail_ops;
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (wh_crypto_init() != WH_OK)
		return -1;
	/* A year after the seeds' story: sorts after their views. */
	fz_story(&tail, FZ_T0_MS + 365ull * 24 * 3600 * 1000);
	tail_ops = wh_xcalloc(tail.n, sizeof *tail_ops);
	for (size_t i = 0; i < tail.n; i++) {
		struct wh_slice s = fz_get(&tail, i);
		FUZZ_CHECK(wh_op_decode(s.p, s.n, &tail_ops[i]) == WH_OK);
	}
	devnull = fopen("/dev/null", "w");
	return devnull ? 0 : -1;
}

/* encode(c) decodes, and encodes back to the same bytes. */
static void roundtrip(const struct wh_case *c)
{
	struct wh_buf a = {0}, b = {0};
	struct wh_case back;
	wh_case_encode(c, &a);
	FUZZ_CHECK(wh_case_decode(a.p, a.len, &back) == WH_OK);
	wh_case_encode(&back, &b);
	FUZZ_CHECK(a.len == b.len && !memcmp(a.p, b.p, a.len));
	wh_case_fini(&back);
	wh_buf_fini(&a);
	wh_buf_fini(&b);
}

static void show(const struct wh_case *v)
{
	struct cli c;
	memset(&c, 0, sizeof c);
	c.now_ms = FZ_T0_MS + 30ull * 24 * 3600 * 1000;
	struct json j;
	json_init(&j, devnull);
	cli_case_json(&c, &j, v, NULL); /* personal data not opened */
	json_obj_end(&j);
	json_end(&j);
	cli_em_free(c.em); /* what the case's deadlines asked for */
	for (uint32_t i = 0; i < v->flow.nsummons; i++)
		(void)wh_flow_summons(v, v->flow.summons[i].dept);
	for (uint32_t i = 0; i < v->nelems; i++)
		(void)wh_case_elem_find(v, v->elems[i].set, v->elems[i].value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wh_case c;
	if (wh_case_decode(data, size, &c) != WH_OK)
		return 0;
	show(&c);
	roundtrip(&c);
	for (size_t i = 0; i < tail.n; i++) {
		enum wh_apply how;
		const struct wh_op *op = &tail_ops[i];
		/* As the store does: apply what sorts after the view. */
		if (!wh_case_after(&c, op))
			continue;
		int rc = wh_case_apply(&c, op, &how);
		FUZZ_CHECK(rc == WH_OK || strcmp(c.code, op->code) ||
			   c.seq != op->seq);
	}
	show(&c);
	roundtrip(&c);
	wh_case_fini(&c);
	return 0;
}
