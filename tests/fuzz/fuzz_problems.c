/*
 * fuzz_problems.c: problem lists (问题清单), two ways in.
 *
 * Text (the usual input): a tab-separated file for `whistle problems
 * publish` (agent/cmd_problems_publish.c): the header, each line split
 * into `problems set` arguments and checked as that command parses
 * them (cli_problems_publish_check, nothing written).
 *
 * Ops (an input starting with a 0 byte, which no text file does):
 * the rest is ops, each a 2-byte big-endian length and the op's bytes,
 * decoded, sorted and folded into problem lists as agent/problems.c
 * does with what the store holds (crdt/problems.c: wh_problems_apply),
 * then merged for a few case paths and written as canonical text.
 *
 * Checks: no field of a line acts as an option of the command (--home,
 * --json); the fold keeps a list's entries sorted, unique and within
 * WH_PROBLEMS_MAX; the merge's entries come from the lists, sorted.
 */
#include "fuzz.h"

#include "cli_problems.h"

#include <string.h>

#define MAX_OPS 64

static void text(const uint8_t *data, size_t size)
{
	static const char home[] = "/nonexistent";
	struct cli c;
	memset(&c, 0, sizeof c);
	c.cmd = "problems publish";
	c.home = home;
	FILE *f = fuzz_stream(data, size);
	int rc = cli_problems_publish_check(&c, "fuzz.tsv", f);
	FUZZ_CHECK(rc == CLI_OK || rc == CLI_USAGE || rc == CLI_FAIL);
	/* A line is data: nothing in it may act as the command's own
	 * options (--home, --json), which the run goes on with. */
	FUZZ_CHECK(c.home == home && !c.json);
	fclose(f);
}

static int op_cmp(const void *pa, const void *pb)
{
	const struct wh_op *a = pa, *b = pb;
	int d = strcmp(a->code, b->code);
	if (d)
		return d;
	if (a->path.n != b->path.n)
		return a->path.n < b->path.n ? -1 : 1;
	d = memcmp(a->path.p, b->path.p, a->path.n);
	return d ? d : wh_op_cmp(a, b);
}

static int same_list(const struct wh_op *a, const struct wh_op *b)
{
	return !strcmp(a->code, b->code) && a->path.n == b->path.n &&
	       !memcmp(a->path.p, b->path.p, a->path.n);
}

static void check_list(const struct wh_problems *l)
{
	FUZZ_CHECK(l->n <= WH_PROBLEMS_MAX);
	for (uint32_t i = 0; i < l->n; i++) {
		FUZZ_CHECK(l->e[i].category && l->e[i].lead);
		FUZZ_CHECK(i == 0 ||
			   strcmp(l->e[i - 1].category, l->e[i].category) < 0);
		FUZZ_CHECK(wh_problems_find(l, l->e[i].category) == &l->e[i]);
	}
}

static void merge(struct wh_problems *lists, uint32_t nl, const char *path)
{
	const struct wh_problems *ptrs[MAX_OPS];
	for (uint32_t i = 0; i < nl; i++)
		ptrs[i] = &lists[i];
	struct wh_problems_merged m;
	if (wh_problems_merge(ptrs, nl, path, &m) != WH_OK)
		return;
	for (uint32_t i = 0; i < m.n; i++) {
		FUZZ_CHECK(i == 0 || strcmp(m.e[i - 1]->category,
					    m.e[i]->category) < 0);
		FUZZ_CHECK(wh_problems_merged_find(&m, m.e[i]->category) ==
			   m.e[i]);
	}
	struct wh_buf t = {0};
	wh_problems_merged_text(&m, &t);
	wh_buf_fini(&t);
	wh_problems_merged_fini(&m);
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
		/* Only what the loader keeps: lists' ops (as it does). */
		if (wh_op_decode(p, len, &op[k]) == WH_OK &&
		    wh_problems_is_list(op[k].code) &&
		    op[k].seq == WH_PROBLEMS_SEQ)
			k++;
		p += len, n -= len;
	}
	qsort(op, k, sizeof *op, op_cmp);
	struct wh_problems *lists = wh_xcalloc(MAX_OPS, sizeof *lists);
	uint32_t nl = 0;
	for (uint32_t i = 0; i < k; i++) {
		if (i && op_cmp(&op[i - 1], &op[i]) == 0)
			continue; /* the same op twice */
		if (i == 0 || !same_list(&op[i - 1], &op[i])) {
			char path[WH_PATH_MAX + 1];
			memcpy(path, op[i].path.p, op[i].path.n);
			path[op[i].path.n] = '\0';
			FUZZ_CHECK(wh_problems_init(&lists[nl], op[i].code,
						    path) == WH_OK);
			nl++;
		}
		FUZZ_CHECK(wh_problems_apply(&lists[nl - 1], &op[i]) ==
			   WH_OK);
		check_list(&lists[nl - 1]);
	}
	for (uint32_t i = 0; i < nl; i++) {
		struct wh_buf t = {0};
		wh_problems_text(&lists[i], &t);
		wh_buf_fini(&t);
	}
	merge(lists, nl, "xicheng/xinjiekou/zhaodengyu");
	if (nl)
		merge(lists, nl, lists[nl - 1].path);
	for (uint32_t i = 0; i < nl; i++)
		wh_problems_fini(&lists[i]);
	free(lists);
	free(op);
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
	else
		text(data, size);
	return 0;
}
