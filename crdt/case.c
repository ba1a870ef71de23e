/*
 * case.c: the case fold (its stored encoding is case_codec.c).
 *
 * Everything here is a pure function of (state, op). The fold never looks
 * at the clock, the store or the author's identity beyond the bytes in the
 * op, which is what makes every replica agree.
 */
#include "case.h"

#include "mp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_names[] = {
	"new", "accepted", "in_progress", "resolved", "closed", "reopened",
	"cancelled"};
static const char *const status_labels[] = {
	"新建", "已受理", "处理中", "已解决", "已办结", "已重启", "已撤销"};
static const char *const priority_names[] = {"low", "normal", "high",
					     "urgent"};
static const char *const priority_labels[] = {"低", "一般", "高", "紧急"};
static const char *const source_names[] = {
	"other", "patrol", "hotline", "walkin", "visit", "app", "sensor",
	"opinion"};
static const char *const source_labels[] = {
	"其他", "网格巡查", "12345热线", "来访", "入户走访", "微信/应用",
	"城市大脑", "舆情"};

#define NAMED(fn, arr, max)                                                    \
	const char *fn(unsigned v) { return v <= (max) ? arr[v] : NULL; }
NAMED(wh_status_name, status_names, WH_STATUS_MAX)
NAMED(wh_status_label, status_labels, WH_STATUS_MAX)
NAMED(wh_priority_name, priority_names, WH_PRIORITY_MAX)
NAMED(wh_priority_label, priority_labels, WH_PRIORITY_MAX)
NAMED(wh_source_name, source_names, WH_SOURCE_MAX)
NAMED(wh_source_label, source_labels, WH_SOURCE_MAX)

static int parse_enum(const char *s, const char *const *names,
		      const char *const *labels, unsigned max)
{
	for (unsigned i = 0; i <= max; i++)
		if (!strcmp(s, names[i]) || !strcmp(s, labels[i]))
			return (int)i;
	return -1;
}

int wh_status_parse(const char *s)
{
	return parse_enum(s, status_names, status_labels, WH_STATUS_MAX);
}

int wh_priority_parse(const char *s)
{
	return parse_enum(s, priority_names, priority_labels,
			  WH_PRIORITY_MAX);
}

int wh_source_parse(const char *s)
{
	/* "12345" is what people type for the hotline. */
	if (!strcmp(s, "12345"))
		return WH_SRC_HOTLINE;
	return parse_enum(s, source_names, source_labels, WH_SOURCE_MAX);
}

/* Row: from, bits: allowed targets. */
#define S(x) (1u << WH_ST_##x)
static const unsigned transitions[WH_STATUS_MAX + 1] = {
	[WH_ST_NEW] = S(ACCEPTED) | S(IN_PROGRESS) | S(RESOLVED) | S(CLOSED) |
		      S(CANCELLED),
	[WH_ST_ACCEPTED] = S(IN_PROGRESS) | S(RESOLVED) | S(CLOSED) |
			   S(CANCELLED),
	[WH_ST_IN_PROGRESS] = S(RESOLVED) | S(CLOSED) | S(CANCELLED),
	[WH_ST_RESOLVED] = S(CLOSED) | S(REOPENED),
	[WH_ST_CLOSED] = S(REOPENED),
	[WH_ST_REOPENED] = S(ACCEPTED) | S(IN_PROGRESS) | S(RESOLVED) |
			   S(CLOSED) | S(CANCELLED),
	[WH_ST_CANCELLED] = S(REOPENED),
};
#undef S

int wh_status_allowed(unsigned from, unsigned to)
{
	if (from > WH_STATUS_MAX || to > WH_STATUS_MAX)
		return 0;
	return (transitions[from] >> to) & 1u;
}

void wh_case_init(struct wh_case *c, const char *code, uint32_t seq)
{
	memset(c, 0, sizeof *c);
	strncpy(c->code, code, WH_CODE_MAX);
	c->seq = seq;
	c->priority = WH_PRI_NORMAL;
	c->status = WH_ST_NEW;
	wh_flow_init(&c->flow);
}

void wh_case_fini(struct wh_case *c)
{
	free(c->path);
	free(c->title);
	free(c->description);
	free(c->category);
	free(c->address);
	free(c->reporter);
	free(c->contact);
	free(c->extref);
	free(c->sealed);
	for (uint32_t i = 0; i < c->nelems; i++) {
		free(c->elems[i].value);
		free(c->elems[i].adds);
	}
	free(c->elems);
	free(c->tombs);
	wh_flow_fini(&c->flow);
	free(c->task);
	for (uint32_t i = 0; i < c->nplaces; i++)
		free(c->places[i].path);
	free(c->places);
	memset(c, 0, sizeof *c);
}

static void place_push(struct wh_case *c, wh_hlc_ts at, const char *p,
		       size_t n)
{
	if (c->nplaces == WH_CASE_MAX_PLACES) {
		free(c->places[0].path);
		memmove(&c->places[0], &c->places[1],
			(c->nplaces - 1) * sizeof c->places[0]);
		c->nplaces--;
	}
	c->places = wh_xrealloc(c->places,
				(c->nplaces + 1) * sizeof c->places[0]);
	c->places[c->nplaces].at = at;
	c->places[c->nplaces].path = wh_xstrndup(p, n);
	c->nplaces++;
}

const char *wh_case_path_at(const struct wh_case *c, uint64_t ms)
{
	if (!c->nplaces)
		return c->path;
	const char *p = c->places[0].path;
	for (uint32_t i = 1; i < c->nplaces; i++)
		if (WH_HLC_MS(c->places[i].at) <= ms)
			p = c->places[i].path;
	return p;
}

/* The link fields of a create (decode pairs all three). */
static void set_link(struct wh_case *c, const struct wh_op *op)
{
	const struct wh_field *fe = wh_op_field(op, WH_F_EMERGENCY);
	const struct wh_field *fs = wh_op_field(op, WH_F_EMERGENCY_SEQ);
	const struct wh_field *ft = wh_op_field(op, WH_F_TASK);
	if (!fe || !fs || !ft || fe->s.n > WH_CODE_MAX)
		return;
	memcpy(c->em_code, fe->s.p, fe->s.n);
	c->em_code[fe->s.n] = '\0';
	c->em_seq = (uint32_t)fs->u;
	c->task = wh_xstrndup((const char *)ft->s.p, ft->s.n);
}

int wh_case_after(const struct wh_case *c, const struct wh_op *op)
{
	if (c->nops == 0)
		return 1;
	return wh_op_key_cmp(op->hlc, op->author, op->id, c->last_hlc,
			     c->last_author, c->last_id) > 0;
}

static void set_str(char **dst, const struct wh_slice *s)
{
	free(*dst);
	*dst = wh_xstrndup((const char *)s->p, s->n);
}

/* Forget every piece of personal data the view holds. */
static void personal_drop(struct wh_case *c)
{
	free(c->reporter);
	free(c->contact);
	free(c->sealed);
	c->reporter = c->contact = NULL;
	c->sealed = NULL;
	c->nsealed = 0;
	c->has_kid = 0;
	memset(c->kid, 0, sizeof c->kid);
}

static void set_lww(struct wh_case *c, const struct wh_field *f)
{
	if (c->erased && (f->key == WH_F_REPORTER || f->key == WH_F_CONTACT ||
			  f->key == WH_F_SEALED || f->key == WH_F_KID))
		return; /* erasure is final for the case's personal data */
	switch (f->key) {
	case WH_F_SEALED:
		/* The sealed map carries reporter and contact both: it
		 * replaces whatever either was. */
		personal_drop(c);
		c->sealed = wh_xmalloc(f->s.n);
		memcpy(c->sealed, f->s.p, f->s.n);
		c->nsealed = (uint32_t)f->s.n;
		break;
	case WH_F_KID:
		/* Decode pairs it with SEALED, which sorts first (35 < 36)
		 * and cleared the old kid. */
		memcpy(c->kid, f->s.p, WH_ID_BYTES);
		c->has_kid = 1;
		break;
	case WH_F_TITLE: set_str(&c->title, &f->s); break;
	case WH_F_DESCRIPTION: set_str(&c->description, &f->s); break;
	case WH_F_CATEGORY: set_str(&c->category, &f->s); break;
	case WH_F_ADDRESS: set_str(&c->address, &f->s); break;
	case WH_F_REPORTER: set_str(&c->reporter, &f->s); break;
	case WH_F_CONTACT: set_str(&c->contact, &f->s); break;
	case WH_F_EXTREF: set_str(&c->extref, &f->s); break;
	case WH_F_SOURCE: c->source = (uint8_t)f->u; break;
	case WH_F_DUE_MS: c->due_ms = f->u; break;
	case WH_F_PRIORITY: c->priority = (uint8_t)f->u; break;
	case WH_F_LOCATION: {
		/* Validated by wh_op_decode: two integers. */
		struct wh_mp r;
		wh_mp_init(&r, f->s.p, f->s.n);
		int64_t lat = 0, lon = 0;
		if (wh_mp_read_int(&r, &lat) == WH_OK &&
		    wh_mp_read_int(&r, &lon) == WH_OK) {
			c->has_location = 1;
			c->lat_e7 = lat;
			c->lon_e7 = lon;
		}
		break;
	}
	default: break;
	}
}

static int id_in(const uint8_t (*ids)[WH_ID_BYTES], uint32_t n,
		 const uint8_t *id)
{
	for (uint32_t i = 0; i < n; i++)
		if (!memcmp(ids[i], id, WH_ID_BYTES))
			return (int)i;
	return -1;
}

static int elem_cmp(uint8_t set, const char *v, const struct wh_case_elem *e)
{
	if (set != e->set)
		return set < e->set ? -1 : 1;
	return strcmp(v, e->value);
}

/* Index of (set, value), or where to insert it as -(pos + 1). */
static int64_t elem_pos(const struct wh_case *c, uint8_t set, const char *v)
{
	uint32_t lo = 0, hi = c->nelems;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int d = elem_cmp(set, v, &c->elems[mid]);
		if (d == 0)
			return mid;
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -(int64_t)lo - 1;
}

const struct wh_case_elem *wh_case_elem_find(const struct wh_case *c,
					     uint8_t set, const char *value)
{
	int64_t i = elem_pos(c, set, value);
	return i >= 0 ? &c->elems[i] : NULL;
}

static void elem_drop(struct wh_case *c, uint32_t i)
{
	free(c->elems[i].value);
	free(c->elems[i].adds);
	memmove(&c->elems[i], &c->elems[i + 1],
		(c->nelems - i - 1) * sizeof c->elems[0]);
	c->nelems--;
}

static enum wh_apply apply_tag_add(struct wh_case *c, const struct wh_op *op)
{
	const struct wh_field *fs = wh_op_field(op, WH_F_SET);
	const struct wh_field *ft = wh_op_field(op, WH_F_TAG);
	if (id_in((const uint8_t(*)[WH_ID_BYTES])c->tombs, c->ntombs,
		  op->id) >= 0)
		return WH_APPLY_IGNORED;
	char *v = wh_xstrndup((const char *)ft->s.p, ft->s.n);
	uint8_t set = (uint8_t)fs->u;
	int64_t i = elem_pos(c, set, v);
	if (i < 0) {
		uint32_t at = (uint32_t)(-i - 1);
		c->elems = wh_xrealloc(c->elems,
				       (c->nelems + 1) * sizeof c->elems[0]);
		memmove(&c->elems[at + 1], &c->elems[at],
			(c->nelems - at) * sizeof c->elems[0]);
		c->elems[at] = (struct wh_case_elem){set, v, 0, NULL};
		c->nelems++;
		i = at;
	} else {
		free(v);
	}
	struct wh_case_elem *e = &c->elems[i];
	e->adds = wh_xrealloc(e->adds, (e->nadds + 1) * sizeof e->adds[0]);
	memcpy(e->adds[e->nadds++], op->id, WH_ID_BYTES);
	return WH_APPLY_OK;
}

static enum wh_apply apply_tag_remove(struct wh_case *c,
				      const struct wh_op *op)
{
	const struct wh_field *fs = wh_op_field(op, WH_F_SET);
	const struct wh_field *ft = wh_op_field(op, WH_F_TAG);
	const struct wh_field *fr = wh_op_field(op, WH_F_REMOVES);
	char *v = wh_xstrndup((const char *)ft->s.p, ft->s.n);
	int64_t i = elem_pos(c, (uint8_t)fs->u, v);
	free(v);
	struct wh_mp r;
	wh_mp_init(&r, fr->s.p, fr->s.n);
	for (uint32_t k = 0; k < fr->count; k++) {
		uint8_t id[WH_ID_BYTES];
		if (wh_mp_read_bin_fixed(&r, id, WH_ID_BYTES) != WH_OK)
			break; /* validated; cannot happen */
		int at = -1;
		if (i >= 0)
			at = id_in((const uint8_t(*)[WH_ID_BYTES])c->elems[i]
					   .adds,
				   c->elems[i].nadds, id);
		if (at >= 0) {
			struct wh_case_elem *e = &c->elems[i];
			memmove(e->adds[at], e->adds[at + 1],
				(e->nadds - (uint32_t)at - 1) * WH_ID_BYTES);
			e->nadds--;
		} else if (id_in((const uint8_t(*)[WH_ID_BYTES])c->tombs,
				 c->ntombs, id) < 0) {
			c->tombs = wh_xrealloc(c->tombs, (c->ntombs + 1) *
							     WH_ID_BYTES);
			memcpy(c->tombs[c->ntombs++], id, WH_ID_BYTES);
		}
	}
	if (i >= 0 && c->elems[i].nadds == 0)
		elem_drop(c, (uint32_t)i);
	return WH_APPLY_OK;
}

static enum wh_apply apply_status(struct wh_case *c, const struct wh_op *op)
{
	uint8_t to = (uint8_t)wh_op_field(op, WH_F_TO)->u;
	uint8_t from = (uint8_t)wh_op_field(op, WH_F_FROM)->u;
	uint8_t cur = c->status;
	/* The loop has its say: a case whistled to departments resolves
	 * when its lead department does (flow.h). */
	int allowed = wh_status_allowed(cur, to) &&
		      wh_flow_status_check(c, to, NULL) == WH_OK;
	if (allowed)
		wh_flow_on_status(c, to, op->hlc);
	if (from == cur) {
		if (!allowed)
			return WH_APPLY_IGNORED;
		c->status = to;
		c->conflict = 0; /* someone who saw the state decided */
		return WH_APPLY_OK;
	}
	/* The author did not see the current status: concurrent steps. */
	c->conflict = 1;
	c->conflict_at = op->hlc;
	memcpy(c->conflict_author, op->author, WH_PK_BYTES);
	c->nconflicts++;
	if (allowed) {
		c->conflict_other = cur;
		c->status = to;
		return WH_APPLY_CONFLICT;
	}
	c->conflict_other = to;
	return WH_APPLY_IGNORED;
}

int wh_case_apply(struct wh_case *c, const struct wh_op *op,
		  enum wh_apply *how)
{
	if (!wh_case_after(c, op) || strcmp(op->code, c->code) != 0 ||
	    op->seq != c->seq)
		return WH_EINVAL;
	enum wh_apply r = WH_APPLY_OK;
	if (!c->path) /* until a create says otherwise */
		c->path = wh_xstrndup((const char *)op->path.p, op->path.n);
	switch (op->kind) {
	case WH_OP_CASE_CREATE:
		if (c->has_create) {
			r = WH_APPLY_DUP_CREATE;
			break;
		}
		c->has_create = 1;
		memcpy(c->creator, op->author, WH_PK_BYTES);
		c->created_at = op->hlc;
		set_str(&c->path, &op->path);
		/* A move sorted before it (a broken clock): it still places
		 * the case, as it sets the path. */
		if (c->nplaces)
			place_push(c, op->hlc, (const char *)op->path.p,
				   op->path.n);
		for (uint32_t i = 0; i < op->nfields; i++)
			set_lww(c, &op->fields[i]);
		set_link(c, op);
		break;
	case WH_OP_CASE_SET:
		for (uint32_t i = 0; i < op->nfields; i++)
			set_lww(c, &op->fields[i]);
		break;
	case WH_OP_CASE_STATUS: r = apply_status(c, op); break;
	case WH_OP_CASE_NOTE: c->nnotes++; break;
	case WH_OP_TAG_ADD: r = apply_tag_add(c, op); break;
	case WH_OP_TAG_REMOVE: r = apply_tag_remove(c, op); break;
	case WH_OP_CASE_MOVE: {
		const struct wh_slice *np = &wh_op_field(op, WH_F_NEW_PATH)->s;
		/* The first move records where the case was since it was
		 * taken in, then each move where it went. */
		if (!c->nplaces)
			place_push(c, c->created_at, c->path, strlen(c->path));
		place_push(c, op->hlc, (const char *)np->p, np->n);
		set_str(&c->path, np);
		break;
	}
	case WH_OP_CASE_KEYS:
		/* Envelopes are the store's (store_blob.c); after an erase
		 * a key shared again has nothing left to open. */
		r = c->erased ? WH_APPLY_IGNORED : WH_APPLY_OK;
		break;
	case WH_OP_CASE_ERASE:
		personal_drop(c);
		c->erased = 1;
		break;
	case WH_OP_TRIAGE:
	case WH_OP_WHISTLE:
	case WH_OP_REPORT:
	case WH_OP_FEEDBACK:
	case WH_OP_RATE:
	case WH_OP_ATTACH: r = wh_flow_apply(c, op); break;
	default: r = WH_APPLY_IGNORED; break;
	}
	if (r == WH_APPLY_IGNORED || r == WH_APPLY_DUP_CREATE)
		c->nignored++;
	c->nops++;
	c->updated_at = op->hlc;
	c->last_hlc = op->hlc;
	memcpy(c->last_author, op->author, WH_PK_BYTES);
	memcpy(c->last_id, op->id, WH_ID_BYTES);
	if (how)
		*how = r;
	return WH_OK;
}
