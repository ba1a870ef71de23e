/*
 * problems.c: finding the problem lists' ops in the store, folding and
 * merging them (crdt/problems.h has the rules), and the duration syntax
 * of the problem commands.
 *
 * The store lends op bytes for the length of a callback only, so the walk
 * copies the ops it keeps into one buffer and remembers each by offset
 * with its sort key (offsets, not pointers: the buffer grows); after the
 * walk they are sorted by list (code, path) and fold order and decoded
 * again one at a time as they are folded.
 * Lists are small (hundreds of ops), so nothing is cached between calls:
 * every command sees exactly what the store holds now.
 */
#include "cli_problems.h"

#include "flow.h"

#include <stdlib.h>
#include <string.h>

/* One kept op: where its bytes are and what it sorts by. */
struct kept {
	size_t off, len;
	char code[WH_CODE_MAX + 1];
	char path[WH_PATH_MAX + 1];
	wh_hlc_ts hlc;
	uint8_t author[WH_PK_BYTES];
	uint8_t id[WH_ID_BYTES];
};

struct walk {
	const char *path; /* lists published here or above it */
	size_t pn;
	const char *code; /* only this object, at exactly path; or NULL */
	struct wh_buf bytes;
	struct kept *k;
	size_t n, cap;
	int err;
	struct wh_op op; /* scratch: too big for the stack of a callback */
};

static int keep(void *ctx, const uint8_t *p, size_t n)
{
	struct walk *w = ctx;
	/* Our own stored bytes, but decoded with the same care. */
	if (wh_op_decode(p, n, &w->op) != WH_OK) {
		w->err = WH_ECORRUPT;
		return 1;
	}
	const struct wh_op *op = &w->op;
	const char *op_path = (const char *)op->path.p;
	if (!wh_problems_is_list(op->code) || op->seq != WH_PROBLEMS_SEQ)
		return 0;
	if (w->code) {
		if (strcmp(op->code, w->code) || op->path.n != w->pn ||
		    memcmp(op_path, w->path, w->pn))
			return 0;
	} else if (!wh_path_within(w->path, w->pn, op_path, op->path.n)) {
		return 0; /* published below the path: not for it */
	}
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 64;
		w->k = wh_xrealloc(w->k, w->cap * sizeof w->k[0]);
	}
	struct kept *k = &w->k[w->n++];
	k->off = w->bytes.len;
	k->len = n;
	memcpy(k->code, op->code, sizeof k->code);
	memcpy(k->path, op_path, op->path.n);
	k->path[op->path.n] = '\0';
	k->hlc = op->hlc;
	memcpy(k->author, op->author, WH_PK_BYTES);
	memcpy(k->id, op->id, WH_ID_BYTES);
	wh_buf_append(&w->bytes, p, n);
	return 0;
}

/* One list after another, each in fold order. */
static int kept_cmp(const void *pa, const void *pb)
{
	const struct kept *a = pa, *b = pb;
	int d = strcmp(a->code, b->code);
	if (!d)
		d = strcmp(a->path, b->path);
	if (!d)
		d = wh_op_key_cmp(a->hlc, a->author, a->id, b->hlc, b->author,
				  b->id);
	return d;
}

static int same_list(const struct kept *a, const struct kept *b)
{
	return !strcmp(a->code, b->code) && !strcmp(a->path, b->path);
}

/* Walk the store's documents for w->path and keep the lists' ops. */
static int collect(struct cli *c, struct walk *w)
{
	int rc = wh_store_each_doc_op(c->store, w->path, keep, w);
	if (rc < 0)
		return rc;
	if (w->err)
		return w->err;
	if (w->n) /* qsort(NULL, 0, ...) is undefined */
		qsort(w->k, w->n, sizeof w->k[0], kept_cmp);
	return WH_OK;
}

/* Fold kept ops [from, to) (one list) into l. */
static int fold_range(struct walk *w, size_t from, size_t to,
		      struct wh_problems *l)
{
	int rc = wh_problems_init(l, w->k[from].code, w->k[from].path);
	for (size_t i = from; rc == WH_OK && i < to; i++) {
		/* The store holds an op once; a repeat is harmless anyway. */
		if (i > from && !memcmp(w->k[i].id, w->k[i - 1].id,
					WH_ID_BYTES))
			continue;
		rc = wh_op_decode(w->bytes.p + w->k[i].off, w->k[i].len,
				  &w->op);
		if (rc == WH_OK)
			rc = wh_problems_apply(l, &w->op);
	}
	return rc == WH_OK ? WH_OK : WH_ECORRUPT;
}

static void walk_fini(struct walk *w)
{
	wh_buf_fini(&w->bytes);
	free(w->k);
}

int cli_problems_load(struct cli *c, const char *path,
		      struct cli_problems *out)
{
	memset(out, 0, sizeof *out);
	size_t pn = strlen(path);
	if (!wh_path_valid(path, pn))
		return WH_EINVAL;
	memcpy(out->path, path, pn + 1);
	struct walk *w = wh_xcalloc(1, sizeof *w);
	w->path = path;
	w->pn = pn;
	int rc = collect(c, w);
	for (size_t i = 0; rc == WH_OK && i < w->n;) {
		size_t j = i + 1;
		while (j < w->n && same_list(&w->k[i], &w->k[j]))
			j++;
		out->lists = wh_xrealloc(out->lists, (out->nlists + 1) *
							     sizeof *out->lists);
		rc = fold_range(w, i, j, &out->lists[out->nlists]);
		out->nlists++; /* fini frees it even after an error */
		i = j;
	}
	walk_fini(w);
	free(w);
	if (rc)
		return rc;
	const struct wh_problems **ptrs =
		wh_xcalloc(out->nlists ? out->nlists : 1, sizeof *ptrs);
	for (uint32_t i = 0; i < out->nlists; i++)
		ptrs[i] = &out->lists[i];
	rc = wh_problems_merge(ptrs, out->nlists, path, &out->merged);
	free(ptrs);
	return rc;
}

void cli_problems_fini(struct cli_problems *p)
{
	wh_problems_merged_fini(&p->merged);
	for (uint32_t i = 0; i < p->nlists; i++)
		wh_problems_fini(&p->lists[i]);
	free(p->lists);
	memset(p, 0, sizeof *p);
}

int cli_problems_own(struct cli *c, const char *code, const char *path,
		     struct wh_problems *l)
{
	int rc = wh_problems_init(l, code, path);
	if (rc)
		return rc;
	struct walk *w = wh_xcalloc(1, sizeof *w);
	w->path = path;
	w->pn = strlen(path);
	w->code = code;
	rc = collect(c, w);
	if (rc == WH_OK && w->n) {
		wh_problems_fini(l);
		rc = fold_range(w, 0, w->n, l);
	}
	walk_fini(w);
	free(w);
	return rc;
}

int cli_problem_lookup(struct cli *c, const char *case_path,
		       const char *category, struct wh_problem_entry *out)
{
	memset(out, 0, sizeof *out);
	struct cli_problems p;
	int rc = cli_problems_load(c, case_path, &p);
	if (rc == WH_OK) {
		const struct wh_problem_entry *e =
			wh_problems_merged_find(&p.merged, category);
		if (e)
			wh_problem_entry_copy(out, e);
		else
			rc = WH_ENOTFOUND;
	}
	cli_problems_fini(&p);
	return rc;
}

#define MINUTE_MS 60000ull
#define HOUR_MS (60 * MINUTE_MS)
#define DAY_MS (24 * HOUR_MS)

int cli_duration_parse(const char *s, uint64_t *ms)
{
	uint64_t v = 0;
	size_t i = 0;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > 1000000000ull) /* far past a year in any unit */
			return WH_ETOOBIG;
	}
	if (i == 0 || s[i] == '\0' || s[i + 1] != '\0')
		return WH_EINVAL;
	uint64_t unit = s[i] == 'm'   ? MINUTE_MS
			: s[i] == 'h' ? HOUR_MS
			: s[i] == 'd' ? DAY_MS
				      : 0;
	if (!unit || v == 0)
		return WH_EINVAL;
	if (v > WH_FLOW_MAX_LIMIT_MS / unit)
		return WH_ETOOBIG;
	*ms = v * unit;
	return WH_OK;
}

void cli_duration_format(uint64_t ms, char out[CLI_DURATION_MAX])
{
	unsigned long long v = ms;
	if (ms && ms % DAY_MS == 0 && ms >= 2 * DAY_MS)
		snprintf(out, CLI_DURATION_MAX, "%llud", v / DAY_MS);
	else if (ms && ms % HOUR_MS == 0)
		snprintf(out, CLI_DURATION_MAX, "%lluh", v / HOUR_MS);
	else if (ms && ms % MINUTE_MS == 0)
		snprintf(out, CLI_DURATION_MAX, "%llum", v / MINUTE_MS);
	else if (ms && ms % 1000 == 0)
		snprintf(out, CLI_DURATION_MAX, "%llus", v / 1000);
	else
		snprintf(out, CLI_DURATION_MAX, "%llums", v);
}
