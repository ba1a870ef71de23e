/*
 * fuzz_op.c: op bytes (crdt/op.c, wh_op_decode), the one parser of
 * signed operations, whichever way they arrive (sync, op files, the
 * store). On success: wh_op_verify, wh_op_in_scope against a few
 * scopes, and the op folded into an empty case or problem list, since
 * any key can sign any op that decodes: the fold must take it.
 *
 * Checks: a decoded op's slices lie inside the input, its id is the
 * hash of the bytes, its fields are ascending and within the field
 * registry, and a scope holds an op when it holds the op's path.
 */
#include "fuzz.h"

#include "case.h"
#include "problems.h"

#include <string.h>

static const char *const scopes[] = {
    "", "xicheng", "xicheng/xinjiekou", "xicheng/xinjiekou/zhaodengyu",
    "dongcheng"};

static void fold(const struct wh_op *op)
{
	if (wh_code_is_doc(op->code)) {
		struct wh_problems l;
		char path[WH_PATH_MAX + 1];
		memcpy(path, op->path.p, op->path.n);
		path[op->path.n] = '\0';
		if (wh_problems_init(&l, op->code, path) != WH_OK)
			return;
		if (wh_problems_apply(&l, op) == WH_OK) {
			struct wh_buf t = {0};
			wh_problems_text(&l, &t);
			wh_buf_fini(&t);
		}
		wh_problems_fini(&l);
		return;
	}
	struct wh_case c;
	enum wh_apply how;
	wh_case_init(&c, op->code, op->seq);
	FUZZ_CHECK(wh_case_apply(&c, op, &how) == WH_OK);
	FUZZ_CHECK(c.path != NULL && c.nops == 1);
	struct wh_buf b = {0};
	wh_case_encode(&c, &b);
	struct wh_case back;
	FUZZ_CHECK(wh_case_decode(b.p, b.len, &back) == WH_OK);
	wh_case_fini(&back);
	wh_buf_fini(&b);
	wh_case_fini(&c);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return wh_crypto_init() == WH_OK ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wh_op op;
	if (wh_op_decode(data, size, &op) != WH_OK)
		return 0;
	uint8_t id[WH_ID_BYTES];
	wh_op_id(data, size, id);
	FUZZ_CHECK(!memcmp(id, op.id, WH_ID_BYTES));
	FUZZ_CHECK(op.raw.p == data && op.raw.n == size);
	FUZZ_CHECK(op.signed_part.n + WH_SIG_BYTES == size);
	FUZZ_CHECK(op.path.p > data && op.path.p + op.path.n <= data + size);
	FUZZ_CHECK(wh_path_valid((const char *)op.path.p, op.path.n));
	FUZZ_CHECK(wh_code_valid(op.code, strlen(op.code)) && op.seq >= 1);
	FUZZ_CHECK(op.nfields <= WH_OP_MAX_FIELDS);
	for (uint32_t i = 0; i < op.nfields; i++) {
		const struct wh_field *f = &op.fields[i];
		FUZZ_CHECK(f->key >= 1 && f->key <= WH_F_KEY_MAX);
		FUZZ_CHECK(i == 0 || op.fields[i - 1].key < f->key);
		if (f->type == WH_T_STR || f->type == WH_T_BIN ||
		    f->type == WH_T_ARRAY)
			FUZZ_CHECK(f->s.n == 0 ||
				   (f->s.p >= data &&
				    f->s.p + f->s.n <= data + size));
	}
	(void)wh_op_verify(&op);
	for (size_t i = 0; i < sizeof scopes / sizeof scopes[0]; i++) {
		size_t sn = strlen(scopes[i]);
		int in = wh_op_in_scope(&op, scopes[i], sn);
		if (wh_path_within((const char *)op.path.p, op.path.n,
				   scopes[i], sn))
			FUZZ_CHECK(in);
	}
	/* The op's own path as a scope always holds it. */
	char path[WH_PATH_MAX + 1];
	memcpy(path, op.path.p, op.path.n);
	path[op.path.n] = '\0';
	FUZZ_CHECK(wh_op_in_scope(&op, path, op.path.n));
	fold(&op);
	return 0;
}
