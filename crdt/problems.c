/*
 * problems.c: the problem list fold, its canonical text and the merge of
 * the lists that apply to one case path (problems.h has the rules).
 *
 * Like case.c, everything here is a pure function of (state, op): the
 * fold never looks at the clock, the store or who the author is beyond
 * the op's bytes. Entries are kept sorted by category so lookups are a
 * binary search and the canonical text needs no sorting.
 */
#include "problems.h"

#include "mp.h"

#include <stdlib.h>
#include <string.h>

void wh_problem_entry_fini(struct wh_problem_entry *e)
{
	free(e->category);
	free(e->lead);
	for (uint32_t i = 0; i < e->ndepts; i++)
		free(e->depts[i]);
	free(e->depts);
	free(e->text);
	free(e->path);
	memset(e, 0, sizeof *e);
}

static char *dup_or_null(const char *s)
{
	return s ? wh_xstrndup(s, strlen(s)) : NULL;
}

void wh_problem_entry_copy(struct wh_problem_entry *dst,
			   const struct wh_problem_entry *src)
{
	*dst = *src;
	dst->category = dup_or_null(src->category);
	dst->lead = dup_or_null(src->lead);
	dst->text = dup_or_null(src->text);
	dst->path = dup_or_null(src->path);
	dst->depts = NULL;
	if (src->ndepts) {
		dst->depts = wh_xcalloc(src->ndepts, sizeof dst->depts[0]);
		for (uint32_t i = 0; i < src->ndepts; i++)
			dst->depts[i] = dup_or_null(src->depts[i]);
	}
}

/* NULL and "" differ: a text given as empty is still not "no text". */
static int str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

int wh_problem_entry_same(const struct wh_problem_entry *a,
			  const struct wh_problem_entry *b)
{
	if (!str_eq(a->category, b->category) || !str_eq(a->lead, b->lead) ||
	    !str_eq(a->text, b->text) || a->report_ms != b->report_ms ||
	    a->resolve_ms != b->resolve_ms || a->ndepts != b->ndepts)
		return 0;
	for (uint32_t i = 0; i < a->ndepts; i++)
		if (!str_eq(a->depts[i], b->depts[i]))
			return 0;
	return 1;
}

void wh_problem_depts_encode(const struct wh_problem_entry *e,
			     struct wh_buf *out)
{
	for (uint32_t i = 0; i < e->ndepts; i++)
		wh_mpw_cstr(out, e->depts[i]);
}

int wh_problems_code(const char *station_code, char out[WH_CODE_MAX + 1])
{
	size_t pn = strlen(WH_PROBLEMS_PREFIX), n = strlen(station_code);
	if (n > WH_CODE_MAX - pn)
		return WH_EID;
	memcpy(out, WH_PROBLEMS_PREFIX, pn);
	memcpy(out + pn, station_code, n + 1);
	return wh_code_valid(out, pn + n) ? WH_OK : WH_EID;
}

int wh_problems_is_list(const char *code)
{
	return !strncmp(code, WH_PROBLEMS_PREFIX, strlen(WH_PROBLEMS_PREFIX));
}

int wh_problems_init(struct wh_problems *l, const char *code,
		     const char *path)
{
	memset(l, 0, sizeof *l);
	size_t cn = strlen(code), pn = strlen(path);
	if (!wh_code_valid(code, cn) || !wh_path_valid(path, pn))
		return WH_EINVAL;
	memcpy(l->code, code, cn + 1);
	memcpy(l->path, path, pn + 1);
	return WH_OK;
}

void wh_problems_fini(struct wh_problems *l)
{
	for (uint32_t i = 0; i < l->n; i++)
		wh_problem_entry_fini(&l->e[i]);
	free(l->e);
	memset(l, 0, sizeof *l);
}

/* Index of category, or where to insert it as -(pos + 1). */
static int64_t entry_pos(const struct wh_problems *l, const char *cat)
{
	uint32_t lo = 0, hi = l->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int d = strcmp(cat, l->e[mid].category);
		if (d == 0)
			return mid;
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -(int64_t)lo - 1;
}

const struct wh_problem_entry *wh_problems_find(const struct wh_problems *l,
						const char *category)
{
	int64_t i = entry_pos(l, category);
	return i >= 0 ? &l->e[i] : NULL;
}

static char *field_str(const struct wh_op *op, uint8_t key)
{
	const struct wh_field *f = wh_op_field(op, key);
	if (!f || f->type != WH_T_STR)
		return NULL;
	return wh_xstrndup((const char *)f->s.p, f->s.n);
}

static uint64_t field_uint(const struct wh_op *op, uint8_t key)
{
	const struct wh_field *f = wh_op_field(op, key);
	return f && f->type == WH_T_UINT ? f->u : 0;
}

/* The entry a validated PROBLEM_SET writes. */
static void entry_from_op(struct wh_problem_entry *e, const struct wh_op *op,
			  const char *path)
{
	memset(e, 0, sizeof *e);
	e->category = field_str(op, WH_F_CATEGORY);
	e->lead = field_str(op, WH_F_LEAD);
	e->text = field_str(op, WH_F_TEXT);
	e->report_ms = field_uint(op, WH_F_REPORT_MS);
	e->resolve_ms = field_uint(op, WH_F_RESOLVE_MS);
	e->path = wh_xstrndup(path, strlen(path));
	e->set_at = op->hlc;
	memcpy(e->set_by, op->author, WH_PK_BYTES);
	const struct wh_field *f = wh_op_field(op, WH_F_DEPTS);
	if (!f || f->type != WH_T_ARRAY || !f->count)
		return;
	/* Validated by wh_op_decode: 1..16 non-empty UTF-8 strings. */
	e->depts = wh_xcalloc(f->count, sizeof e->depts[0]);
	struct wh_mp r;
	wh_mp_init(&r, f->s.p, f->s.n);
	for (uint32_t k = 0; k < f->count; k++) {
		struct wh_slice s;
		if (wh_mp_read_str(&r, &s, WH_OP_MAX_BYTES) != WH_OK)
			break; /* cannot happen after decode */
		e->depts[e->ndepts++] =
			wh_xstrndup((const char *)s.p, s.n);
	}
}

static void apply_set(struct wh_problems *l, const struct wh_op *op)
{
	const struct wh_field *fc = wh_op_field(op, WH_F_CATEGORY);
	char *cat = wh_xstrndup((const char *)fc->s.p, fc->s.n);
	int64_t i = entry_pos(l, cat);
	free(cat);
	if (i >= 0) {
		wh_problem_entry_fini(&l->e[i]);
		entry_from_op(&l->e[i], op, l->path);
		return;
	}
	if (l->n >= WH_PROBLEMS_MAX) {
		l->ndropped++;
		return;
	}
	uint32_t at = (uint32_t)(-i - 1);
	l->e = wh_xrealloc(l->e, (l->n + 1) * sizeof l->e[0]);
	memmove(&l->e[at + 1], &l->e[at], (l->n - at) * sizeof l->e[0]);
	entry_from_op(&l->e[at], op, l->path);
	l->n++;
}

static void apply_del(struct wh_problems *l, const struct wh_op *op)
{
	const struct wh_field *fc = wh_op_field(op, WH_F_CATEGORY);
	char *cat = wh_xstrndup((const char *)fc->s.p, fc->s.n);
	int64_t i = entry_pos(l, cat);
	free(cat);
	if (i < 0)
		return; /* removing what is not there changes nothing */
	wh_problem_entry_fini(&l->e[i]);
	memmove(&l->e[i], &l->e[i + 1],
		(l->n - (uint32_t)i - 1) * sizeof l->e[0]);
	l->n--;
}

int wh_problems_apply(struct wh_problems *l, const struct wh_op *op)
{
	if (strcmp(op->code, l->code) || op->seq != WH_PROBLEMS_SEQ ||
	    op->path.n != strlen(l->path) ||
	    memcmp(op->path.p, l->path, op->path.n))
		return WH_EINVAL;
	if (l->nops && wh_op_key_cmp(op->hlc, op->author, op->id, l->last_hlc,
				     l->last_author, l->last_id) <= 0)
		return WH_EINVAL;
	if (op->kind == WH_OP_PROBLEM_SET)
		apply_set(l, op);
	else if (op->kind == WH_OP_PROBLEM_DEL)
		apply_del(l, op);
	else
		l->nignored++;
	l->nops++;
	l->last_hlc = op->hlc;
	memcpy(l->last_author, op->author, WH_PK_BYTES);
	memcpy(l->last_id, op->id, WH_ID_BYTES);
	return WH_OK;
}

/* ---- canonical text ---- */

static void put_escaped(struct wh_buf *b, const char *s)
{
	for (; *s; s++) {
		const char *esc = NULL;
		switch (*s) {
		case '\\': esc = "\\\\"; break;
		case '\t': esc = "\\t"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case ',': esc = "\\,"; break;
		default: break;
		}
		if (esc)
			wh_buf_append(b, esc, 2);
		else
			wh_buf_append(b, s, 1);
	}
}

static void put_uint(struct wh_buf *b, uint64_t v)
{
	char tmp[24];
	int i = (int)sizeof tmp;
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	wh_buf_append(b, tmp + i, sizeof tmp - (size_t)i);
}

static void entry_text(const struct wh_problem_entry *e, struct wh_buf *b)
{
	put_escaped(b, e->path);
	wh_buf_append(b, "\t", 1);
	put_escaped(b, e->category);
	wh_buf_append(b, "\t", 1);
	put_escaped(b, e->lead);
	wh_buf_append(b, "\t", 1);
	for (uint32_t i = 0; i < e->ndepts; i++) {
		if (i)
			wh_buf_append(b, ",", 1);
		put_escaped(b, e->depts[i]);
	}
	wh_buf_append(b, "\t", 1);
	put_uint(b, e->report_ms);
	wh_buf_append(b, "\t", 1);
	put_uint(b, e->resolve_ms);
	wh_buf_append(b, "\t", 1);
	/* Quoted, so that no text ("-") and a text "-" or "" differ. */
	if (e->text) {
		wh_buf_append(b, "\"", 1);
		put_escaped(b, e->text);
		wh_buf_append(b, "\"", 1);
	} else {
		wh_buf_append(b, "-", 1);
	}
	wh_buf_append(b, "\t", 1);
	put_uint(b, e->set_at);
	wh_buf_append(b, "\t", 1);
	char hex[2 * WH_PK_BYTES + 1];
	wh_hex(e->set_by, WH_PK_BYTES, hex);
	wh_buf_append(b, hex, 2 * WH_PK_BYTES);
	wh_buf_append(b, "\n", 1);
}

void wh_problems_text(const struct wh_problems *l, struct wh_buf *out)
{
	for (uint32_t i = 0; i < l->n; i++)
		entry_text(&l->e[i], out);
}

/* ---- merge ---- */

struct cand {
	const struct wh_problem_entry *e;
	const struct wh_problems *l;
	size_t plen;
};

/* By category; within one, the winner first. */
static int cand_cmp(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;
	int d = strcmp(a->e->category, b->e->category);
	if (d)
		return d;
	if (a->plen != b->plen)
		return a->plen > b->plen ? -1 : 1; /* most specific first */
	if (a->e->set_at != b->e->set_at)
		return a->e->set_at > b->e->set_at ? -1 : 1;
	d = memcmp(a->e->set_by, b->e->set_by, WH_PK_BYTES);
	if (d)
		return d > 0 ? -1 : 1;
	return strcmp(a->l->code, b->l->code);
}

int wh_problems_merge(const struct wh_problems *const *lists, size_t n,
		      const char *case_path, struct wh_problems_merged *out)
{
	memset(out, 0, sizeof *out);
	size_t cn = strlen(case_path);
	if (!wh_path_valid(case_path, cn))
		return WH_EINVAL;
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += lists[i]->n;
	struct cand *cs = wh_xcalloc(total ? total : 1, sizeof *cs);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct wh_problems *l = lists[i];
		size_t pn = strlen(l->path);
		/* Only lists published at the case's path or above it. */
		if (!wh_path_within(case_path, cn, l->path, pn))
			continue;
		for (uint32_t j = 0; j < l->n; j++)
			cs[k++] = (struct cand){&l->e[j], l, pn};
	}
	qsort(cs, k, sizeof *cs, cand_cmp);
	out->e = wh_xcalloc(k ? k : 1, sizeof out->e[0]);
	for (size_t i = 0; i < k; i++)
		if (i == 0 || strcmp(cs[i].e->category, cs[i - 1].e->category))
			out->e[out->n++] = cs[i].e;
	free(cs);
	return WH_OK;
}

void wh_problems_merged_fini(struct wh_problems_merged *m)
{
	free(m->e);
	memset(m, 0, sizeof *m);
}

const struct wh_problem_entry *
wh_problems_merged_find(const struct wh_problems_merged *m,
			const char *category)
{
	uint32_t lo = 0, hi = m->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int d = strcmp(category, m->e[mid]->category);
		if (d == 0)
			return m->e[mid];
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

void wh_problems_merged_text(const struct wh_problems_merged *m,
			     struct wh_buf *out)
{
	for (uint32_t i = 0; i < m->n; i++)
		entry_text(m->e[i], out);
}
