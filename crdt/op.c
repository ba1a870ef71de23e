/*
 * op.c: encode, sign, decode and verify ops (format version 1).
 *
 * The schema tables below are the whole per-kind contract: which body keys
 * a kind may carry, which it must, and each key's type and bounds. Decode
 * and build both go through check_body(), so nothing can be built that
 * the decoder would refuse.
 */
#include "op.h"

#include "flow.h"

#include "case.h"
#include "mp.h"
#include "plan.h"
#include "seal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIT(k) (1ull << (k))

struct fdef {
	const char *name;
	uint8_t type;
	uint64_t max; /* bytes for str/bin, max value for uint, elements for
		       * arrays */
	uint8_t elem; /* array element type */
	uint32_t elem_max;
};

static const struct fdef fdefs[WH_F_KEY_MAX + 1] = {
	[WH_F_TITLE] = {"title", WH_T_STR, 600, 0, 0},
	[WH_F_DESCRIPTION] = {"description", WH_T_STR, 16384, 0, 0},
	[WH_F_CATEGORY] = {"category", WH_T_STR, 120, 0, 0},
	[WH_F_ADDRESS] = {"address", WH_T_STR, 600, 0, 0},
	[WH_F_SOURCE] = {"source", WH_T_UINT, WH_SOURCE_MAX, 0, 0},
	[WH_F_PRIORITY] = {"priority", WH_T_UINT, WH_PRIORITY_MAX, 0, 0},
	[WH_F_TO] = {"to", WH_T_UINT, WH_STATUS_MAX, 0, 0},
	[WH_F_FROM] = {"from", WH_T_UINT, WH_STATUS_MAX, 0, 0},
	[WH_F_REPORTER] = {"reporter", WH_T_STR, 200, 0, 0},
	[WH_F_CONTACT] = {"contact", WH_T_STR, 200, 0, 0},
	[WH_F_LOCATION] = {"location", WH_T_ARRAY, 2, WH_T_INT, 0},
	[WH_F_TEXT] = {"text", WH_T_STR, 16384, 0, 0},
	[WH_F_TAG] = {"tag", WH_T_STR, 64, 0, 0},
	[WH_F_SET] = {"set", WH_T_UINT, WH_ORSET_MAX, 0, 0},
	[WH_F_REMOVES] = {"removes", WH_T_ARRAY, WH_OP_MAX_ARRAY, WH_T_BIN,
			  WH_ID_BYTES},
	[WH_F_NEW_PATH] = {"new_path", WH_T_STR, WH_PATH_MAX, 0, 0},
	[WH_F_EXTREF] = {"external_ref", WH_T_STR, 64, 0, 0},
	[WH_F_LEVEL] = {"level", WH_T_UINT, WH_LEVEL_MAX, 0, 0},
	[WH_F_SEEN] = {"seen", WH_T_UINT, UINT64_MAX, 0, 0},
	[WH_F_WKIND] = {"whistle_kind", WH_T_UINT, WH_WKIND_MAX, 0, 0},
	[WH_F_WHISTLER] = {"whistler", WH_T_UINT, WH_WHISTLER_MAX, 0, 0},
	[WH_F_DEPTS] = {"departments", WH_T_ARRAY, WH_FLOW_MAX_DEPTS,
			WH_T_STR, WH_DEPT_MAX},
	[WH_F_LEAD] = {"lead", WH_T_STR, WH_DEPT_MAX, 0, 0},
	[WH_F_REPORT_MS] = {"report_ms", WH_T_UINT, WH_FLOW_MAX_LIMIT_MS, 0,
			    0},
	[WH_F_RESOLVE_MS] = {"resolve_ms", WH_T_UINT, WH_FLOW_MAX_LIMIT_MS,
			     0, 0},
	[WH_F_DEPT] = {"department", WH_T_STR, WH_DEPT_MAX, 0, 0},
	[WH_F_STEP] = {"step", WH_T_UINT, WH_STEP_MAX, 0, 0},
	[WH_F_SCORE] = {"score", WH_T_UINT, 5, 0, 0},
	[WH_F_RATER] = {"rater", WH_T_UINT, WH_RATER_MAX, 0, 0},
	[WH_F_CHANNEL] = {"channel", WH_T_UINT, WH_CHANNEL_MAX, 0, 0},
	[WH_F_BLOB] = {"blob", WH_T_BIN, WH_ID_BYTES, 0, 0},
	[WH_F_SIZE] = {"size", WH_T_UINT, WH_BLOB_MAX_BYTES, 0, 0},
	[WH_F_MIME] = {"mime", WH_T_STR, 100, 0, 0},
	[WH_F_NAME] = {"name", WH_T_STR, 255, 0, 0},
	/* nonce || ciphertext: the one binary field of varying size */
	[WH_F_SEALED] = {"sealed", WH_T_BIN, WH_SEAL_MAX_BYTES, 0, 0},
	[WH_F_KID] = {"kid", WH_T_BIN, WH_ID_BYTES, 0, 0},
	[WH_F_START_MS] = {"start_ms", WH_T_UINT, WH_EM_MAX_MS, 0, 0},
	[WH_F_END_MS] = {"end_ms", WH_T_UINT, WH_EM_MAX_MS, 0, 0},
	[WH_F_PLAN] = {"plan", WH_T_STR, WH_CODE_MAX, 0, 0},
	[WH_F_PLAN_SEQ] = {"plan_seq", WH_T_UINT, UINT32_MAX, 0, 0},
	[WH_F_EMERGENCY] = {"emergency", WH_T_STR, WH_CODE_MAX, 0, 0},
	[WH_F_EMERGENCY_SEQ] = {"emergency_seq", WH_T_UINT, UINT32_MAX, 0,
				0},
	[WH_F_TASK] = {"task", WH_T_STR, WH_PLAN_TASK_MAX, 0, 0},
	[WH_F_AREA] = {"area", WH_T_STR, WH_PATH_MAX, 0, 0},
	[WH_F_TEAM] = {"team", WH_T_STR, WH_PLAN_TEAM_MAX, 0, 0},
	[WH_F_WITHIN_MS] = {"within_ms", WH_T_UINT, WH_FLOW_MAX_LIMIT_MS, 0,
			    0},
	[WH_F_DUE_MS] = {"due_ms", WH_T_UINT, WH_EM_MAX_MS, 0, 0},
	[WH_F_RULE] = {"rule", WH_T_UINT, WH_EM_RULE_MAX, 0, 0},
	[WH_F_EXTEND_MS] = {"extend_ms", WH_T_UINT, WH_FLOW_MAX_LIMIT_MS, 0,
			    0},
};

/* Fields a case carries as last-writer-wins values. */
#define CASE_LWW                                                               \
	(BIT(WH_F_TITLE) | BIT(WH_F_DESCRIPTION) | BIT(WH_F_CATEGORY) |        \
	 BIT(WH_F_ADDRESS) | BIT(WH_F_SOURCE) | BIT(WH_F_PRIORITY) |           \
	 BIT(WH_F_REPORTER) | BIT(WH_F_CONTACT) | BIT(WH_F_LOCATION) |         \
	 BIT(WH_F_EXTREF) | BIT(WH_F_SEALED) | BIT(WH_F_KID) |                 \
	 BIT(WH_F_DUE_MS))
/* A task case's link to its emergency and plan task: on a create only,
 * all three or none. */
#define CASE_LINK                                                              \
	(BIT(WH_F_EMERGENCY) | BIT(WH_F_EMERGENCY_SEQ) | BIT(WH_F_TASK))
#define EM_RULE (BIT(WH_F_RULE) | BIT(WH_F_EXTEND_MS))

struct kdef {
	const char *name;
	uint64_t allowed, required;
	uint32_t min_fields;
};

static const struct kdef kdefs[WH_OP_KIND_MAX + 1] = {
	[WH_OP_CASE_CREATE] = {"create", CASE_LWW | CASE_LINK,
			       BIT(WH_F_TITLE), 1},
	[WH_OP_CASE_SET] = {"set", CASE_LWW, 0, 1},
	[WH_OP_CASE_STATUS] = {"status", BIT(WH_F_TO) | BIT(WH_F_FROM),
			       BIT(WH_F_TO) | BIT(WH_F_FROM), 2},
	[WH_OP_CASE_NOTE] = {"note", BIT(WH_F_TEXT), BIT(WH_F_TEXT), 1},
	[WH_OP_TAG_ADD] = {"tag_add", BIT(WH_F_SET) | BIT(WH_F_TAG),
			   BIT(WH_F_SET) | BIT(WH_F_TAG), 2},
	[WH_OP_TAG_REMOVE] = {"tag_remove",
			      BIT(WH_F_SET) | BIT(WH_F_TAG) |
				  BIT(WH_F_REMOVES),
			      BIT(WH_F_SET) | BIT(WH_F_TAG) |
				  BIT(WH_F_REMOVES),
			      3},
	[WH_OP_CASE_MOVE] = {"move", BIT(WH_F_NEW_PATH), BIT(WH_F_NEW_PATH),
			     1},
	[WH_OP_CASE_KEYS] = {"keys",
			     BIT(WH_F_KID) | BIT(WH_F_BLOB) | BIT(WH_F_SIZE),
			     BIT(WH_F_KID) | BIT(WH_F_BLOB) | BIT(WH_F_SIZE),
			     3},
	[WH_OP_CASE_ERASE] = {"erase", BIT(WH_F_KID), BIT(WH_F_KID), 1},
	[WH_OP_TRIAGE] = {"triage", BIT(WH_F_LEVEL) | BIT(WH_F_SEEN) |
					 BIT(WH_F_TEXT),
			  BIT(WH_F_LEVEL) | BIT(WH_F_SEEN), 2},
	[WH_OP_WHISTLE] = {"whistle",
			   BIT(WH_F_WKIND) | BIT(WH_F_WHISTLER) |
			       BIT(WH_F_SEEN) | BIT(WH_F_DEPTS) |
			       BIT(WH_F_LEAD) | BIT(WH_F_REPORT_MS) |
			       BIT(WH_F_RESOLVE_MS) | BIT(WH_F_TEXT),
			   BIT(WH_F_WKIND) | BIT(WH_F_WHISTLER) |
			       BIT(WH_F_SEEN),
			   3},
	[WH_OP_REPORT] = {"report", BIT(WH_F_DEPT) | BIT(WH_F_STEP) |
					BIT(WH_F_SEEN) | BIT(WH_F_TEXT),
			  BIT(WH_F_DEPT) | BIT(WH_F_STEP) | BIT(WH_F_SEEN),
			  3},
	[WH_OP_FEEDBACK] = {"feedback", BIT(WH_F_TEXT) | BIT(WH_F_SEEN) |
					    BIT(WH_F_CHANNEL),
			    BIT(WH_F_TEXT) | BIT(WH_F_SEEN), 2},
	[WH_OP_RATE] = {"rate", BIT(WH_F_RATER) | BIT(WH_F_SCORE) |
				    BIT(WH_F_SEEN) | BIT(WH_F_DEPT) |
				    BIT(WH_F_TEXT),
			BIT(WH_F_RATER) | BIT(WH_F_SCORE) | BIT(WH_F_SEEN),
			3},
	[WH_OP_ATTACH] = {"attach", BIT(WH_F_BLOB) | BIT(WH_F_SIZE) |
					BIT(WH_F_MIME) | BIT(WH_F_SEEN) |
					BIT(WH_F_NAME),
			  BIT(WH_F_BLOB) | BIT(WH_F_SIZE) | BIT(WH_F_MIME) |
			      BIT(WH_F_SEEN),
			  4},
	[WH_OP_PROBLEM_SET] = {"problem_set",
			       BIT(WH_F_CATEGORY) | BIT(WH_F_LEAD) |
				   BIT(WH_F_DEPTS) | BIT(WH_F_REPORT_MS) |
				   BIT(WH_F_RESOLVE_MS) | BIT(WH_F_TEXT),
			       BIT(WH_F_CATEGORY) | BIT(WH_F_LEAD), 2},
	[WH_OP_PROBLEM_DEL] = {"problem_del", BIT(WH_F_CATEGORY),
			       BIT(WH_F_CATEGORY), 1},
	[WH_OP_EMERGENCY] = {"emergency",
			     BIT(WH_F_START_MS) | BIT(WH_F_END_MS) |
				 BIT(WH_F_PLAN) | BIT(WH_F_PLAN_SEQ) |
				 EM_RULE | BIT(WH_F_TITLE) | BIT(WH_F_TEXT),
			     BIT(WH_F_START_MS), 1},
	[WH_OP_EMERGENCY_END] = {"emergency_end",
				 BIT(WH_F_END_MS) | BIT(WH_F_TEXT),
				 BIT(WH_F_END_MS), 1},
	[WH_OP_PLAN_SET] = {"plan_set",
			    BIT(WH_F_TITLE) | EM_RULE | BIT(WH_F_TEXT),
			    BIT(WH_F_TITLE), 1},
	[WH_OP_PLAN_TASK] = {"plan_task",
			     BIT(WH_F_TASK) | BIT(WH_F_AREA) |
				 BIT(WH_F_TITLE) | BIT(WH_F_CATEGORY) |
				 BIT(WH_F_TEAM) | BIT(WH_F_CONTACT) |
				 BIT(WH_F_WITHIN_MS) | BIT(WH_F_TEXT),
			     BIT(WH_F_TASK) | BIT(WH_F_AREA) |
				 BIT(WH_F_TITLE),
			     3},
	[WH_OP_PLAN_TASK_DEL] = {"plan_task_del", BIT(WH_F_TASK),
				 BIT(WH_F_TASK), 1},
};

const char *wh_op_kind_name(uint8_t kind)
{
	if (kind == 0 || kind > WH_OP_KIND_MAX || !kdefs[kind].name)
		return "unknown";
	return kdefs[kind].name;
}

uint64_t wh_field_max(uint8_t key)
{
	if (key == 0 || key > WH_F_KEY_MAX)
		return 0;
	return fdefs[key].max;
}

const char *wh_field_name(uint8_t key)
{
	if (key == 0 || key > WH_F_KEY_MAX)
		return NULL;
	return fdefs[key].name;
}

static int part_char(char c, int first)
{
	if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return 1;
	return !first && (c == '_' || c == '-');
}

int wh_path_valid(const char *p, size_t n)
{
	if (n == 0 || n > WH_PATH_MAX)
		return 0;
	size_t parts = 0, len = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || p[i] == '/') {
			if (len == 0 || len > WH_PART_MAX)
				return 0;
			parts++;
			len = 0;
			continue;
		}
		if (!part_char(p[i], len == 0))
			return 0;
		len++;
	}
	return parts <= WH_PATH_MAX_PARTS;
}

int wh_path_within(const char *path, size_t pn, const char *scope, size_t sn)
{
	if (sn == 0)
		return 1;
	if (pn < sn || memcmp(path, scope, sn) != 0)
		return 0;
	return pn == sn || path[sn] == '/';
}

int wh_op_in_scope(const struct wh_op *op, const char *scope, size_t sn)
{
	const char *p = (const char *)op->path.p;
	if (wh_path_within(p, op->path.n, scope, sn))
		return 1;
	if (wh_code_is_doc(op->code))
		return wh_path_within(scope, sn, p, op->path.n);
	const struct wh_field *f = op->kind == WH_OP_CASE_MOVE
					   ? wh_op_field(op, WH_F_NEW_PATH)
					   : NULL;
	return f && f->type == WH_T_STR &&
	       wh_path_within((const char *)f->s.p, f->s.n, scope, sn);
}

int wh_code_valid(const char *c, size_t n)
{
	if (n == 0 || n > WH_CODE_MAX)
		return 0;
	size_t i = c[0] == '~' ? 1 : 0;
	if (i == n || c[i] == '-' || c[n - 1] == '-')
		return 0;
	for (; i < n; i++) {
		char ch = c[i];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '-'))
			return 0;
	}
	return 1;
}

int wh_case_id_parse(const char *s, char *code_out, uint32_t *seq)
{
	const char *dash = strrchr(s, '-');
	if (!dash || dash == s)
		return WH_EID;
	size_t cn = (size_t)(dash - s);
	const char *d = dash + 1;
	size_t dn = strlen(d);
	if (dn == 0 || dn > 10 || !wh_code_valid(s, cn) || s[0] == '~')
		return WH_EID;
	uint64_t v = 0;
	for (size_t i = 0; i < dn; i++) {
		if (d[i] < '0' || d[i] > '9')
			return WH_EID;
		v = v * 10 + (uint64_t)(d[i] - '0');
	}
	if (v == 0 || v > UINT32_MAX)
		return WH_EID;
	memcpy(code_out, s, cn);
	code_out[cn] = '\0';
	*seq = (uint32_t)v;
	return WH_OK;
}

void wh_case_id_format(const char *code, uint32_t seq,
		       char out[WH_CASE_ID_MAX])
{
	snprintf(out, WH_CASE_ID_MAX, "%s-%06u", code, (unsigned)seq);
}

void wh_op_id(const uint8_t *p, size_t n, uint8_t id[WH_ID_BYTES])
{
	wh_hash(p, n, id);
}

const struct wh_field *wh_op_field(const struct wh_op *op, uint8_t key)
{
	for (uint32_t i = 0; i < op->nfields; i++)
		if (op->fields[i].key == key)
			return &op->fields[i];
	return NULL;
}

int wh_op_key_cmp(wh_hlc_ts ha, const uint8_t *aa, const uint8_t *ia,
		  wh_hlc_ts hb, const uint8_t *ab, const uint8_t *ib)
{
	if (ha != hb)
		return ha < hb ? -1 : 1;
	int c = memcmp(aa, ab, WH_PK_BYTES);
	if (c)
		return c < 0 ? -1 : 1;
	c = memcmp(ia, ib, WH_ID_BYTES);
	return c < 0 ? -1 : c > 0;
}

int wh_op_cmp(const struct wh_op *a, const struct wh_op *b)
{
	return wh_op_key_cmp(a->hlc, a->author, a->id, b->hlc, b->author,
			     b->id);
}

/* A reference to a plan or an emergency names an object of that kind. */
static int ref_code_ok(const struct wh_field *f)
{
	const char *pre = f->key == WH_F_PLAN ? WH_PLAN_PREFIX : WH_EM_PREFIX;
	size_t pn = strlen(pre);
	return f->s.n > pn && !memcmp(f->s.p, pre, pn) &&
	       wh_code_valid((const char *)f->s.p, f->s.n);
}

/* Which object code prefix a document kind needs ("" for none). */
static const char *kind_prefix(uint8_t kind)
{
	switch (kind) {
	case WH_OP_EMERGENCY:
	case WH_OP_EMERGENCY_END: return WH_EM_PREFIX;
	case WH_OP_PLAN_SET:
	case WH_OP_PLAN_TASK:
	case WH_OP_PLAN_TASK_DEL: return WH_PLAN_PREFIX;
	default: return "";
	}
}

/* Validate one field against the registry, and its array elements. */
static int check_field(const struct wh_field *f)
{
	const struct fdef *fd = &fdefs[f->key];
	if (f->type != fd->type)
		return WH_EFIELD;
	switch (f->type) {
	case WH_T_UINT:
		if (f->key == WH_F_SCORE && f->u == 0)
			return WH_EFIELD; /* ratings are 1-5 */
		/* Object numbers start at 1; an extension of nothing and a
		 * time of 1970 say nothing. */
		if (f->u == 0 &&
		    (f->key == WH_F_PLAN_SEQ || f->key == WH_F_EMERGENCY_SEQ ||
		     f->key == WH_F_EXTEND_MS || f->key == WH_F_START_MS ||
		     f->key == WH_F_END_MS || f->key == WH_F_DUE_MS ||
		     f->key == WH_F_WITHIN_MS))
			return WH_EFIELD;
		return f->u <= fd->max ? WH_OK : WH_EFIELD;
	case WH_T_BIN: /* fixed-size digests, and sealed bytes */
		if (f->key == WH_F_SEALED) {
			if (f->s.n > fd->max)
				return WH_ETOOBIG;
			return f->s.n >= WH_SEAL_MIN_BYTES ? WH_OK : WH_EFIELD;
		}
		return f->s.n == fd->max ? WH_OK : WH_EFIELD;
	case WH_T_STR:
		if (f->s.n > fd->max)
			return WH_ETOOBIG;
		if (!wh_utf8_valid(f->s.p, f->s.n))
			return WH_EUTF8;
		if ((f->key == WH_F_NEW_PATH || f->key == WH_F_AREA) &&
		    !wh_path_valid((const char *)f->s.p, f->s.n))
			return WH_EPATH;
		/* A department or media type with no name names nothing. */
		if (!f->s.n && (f->key == WH_F_DEPT || f->key == WH_F_LEAD ||
				f->key == WH_F_MIME || f->key == WH_F_TASK ||
				f->key == WH_F_TEAM))
			return WH_EFIELD;
		if (f->key == WH_F_PLAN || f->key == WH_F_EMERGENCY)
			return ref_code_ok(f) ? WH_OK : WH_EID;
		return WH_OK;
	case WH_T_ARRAY: {
		if (f->count == 0 || f->count > fd->max)
			return f->count ? WH_ETOOBIG : WH_EFIELD;
		struct wh_mp r;
		wh_mp_init(&r, f->s.p, f->s.n);
		for (uint32_t k = 0; k < f->count; k++) {
			int rc;
			if (fd->elem == WH_T_INT) {
				int64_t v;
				rc = wh_mp_read_int(&r, &v);
			} else if (fd->elem == WH_T_STR) {
				struct wh_slice e;
				rc = wh_mp_read_str(&r, &e, fd->elem_max);
				if (!rc && (!e.n || !wh_utf8_valid(e.p, e.n)))
					rc = e.n ? WH_EUTF8 : WH_EFIELD;
			} else {
				uint8_t id[WH_ID_BYTES];
				rc = wh_mp_read_bin_fixed(&r, id,
							  fd->elem_max);
			}
			if (rc)
				return rc == WH_ETRUNC ? WH_EFIELD : rc;
		}
		return wh_mp_left(&r) == 0 ? WH_OK : WH_EFIELD;
	}
	default:
		return WH_EFIELD;
	}
}

static uint64_t body_uint(const struct wh_field *fs, uint32_t n, uint8_t key)
{
	for (uint32_t i = 0; i < n; i++)
		if (fs[i].key == key)
			return fs[i].u;
	return 0;
}

/* The value rules of emergencies, plans and task cases: fields that go
 * together come together, a rule to extend says by how much (and only
 * it does), and a planned end lies after the start. */
static int check_em(uint8_t kind, const struct wh_field *fs, uint32_t n,
		    uint64_t seen)
{
	uint64_t link = seen & CASE_LINK;
	if (kind == WH_OP_CASE_CREATE && link && link != CASE_LINK)
		return WH_EFIELD;
	uint64_t plan = seen & (BIT(WH_F_PLAN) | BIT(WH_F_PLAN_SEQ));
	if (plan && plan != (BIT(WH_F_PLAN) | BIT(WH_F_PLAN_SEQ)))
		return WH_EFIELD;
	if ((kind == WH_OP_EMERGENCY || kind == WH_OP_PLAN_SET) &&
	    (body_uint(fs, n, WH_F_RULE) == WH_EM_EXTEND) !=
		    !!(seen & BIT(WH_F_EXTEND_MS)))
		return WH_EFIELD;
	if (kind == WH_OP_EMERGENCY && (seen & BIT(WH_F_END_MS)) &&
	    body_uint(fs, n, WH_F_END_MS) <= body_uint(fs, n, WH_F_START_MS))
		return WH_EFIELD;
	return WH_OK;
}

/* The body rules shared by decode and build: keys known, allowed for the
 * kind, ascending (so each at most once), required present, values in
 * range, and kind-specific value rules. */
static int check_body(uint8_t kind, const struct wh_field *fs, uint32_t n)
{
	const struct kdef *kd = &kdefs[kind];
	uint64_t seen = 0;
	if (n < kd->min_fields)
		return WH_EFIELD;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t k = fs[i].key;
		if (k == 0 || k > WH_F_KEY_MAX || !(kd->allowed & BIT(k)))
			return WH_EFIELD;
		if (i > 0 && fs[i - 1].key >= k)
			return WH_ECANON;
		int rc = check_field(&fs[i]);
		if (rc)
			return rc;
		seen |= BIT(k);
	}
	if ((seen & kd->required) != kd->required)
		return WH_EFIELD;
	/* Sealed personal data names its key (in a create or a set, the
	 * kinds that carry it), and an op that seals it does not also carry
	 * it in clear. */
	if ((kd->allowed & BIT(WH_F_SEALED)) &&
	    !(seen & BIT(WH_F_SEALED)) != !(seen & BIT(WH_F_KID)))
		return WH_EFIELD;
	if ((seen & BIT(WH_F_SEALED)) &&
	    (seen & (BIT(WH_F_REPORTER) | BIT(WH_F_CONTACT))))
		return WH_EFIELD;
	return check_em(kind, fs, n, seen);
}

static int read_field_value(struct wh_mp *r, struct wh_field *f)
{
	const struct fdef *fd = &fdefs[f->key];
	int rc;
	switch (wh_mp_peek(r)) {
	case WH_MP_UINT:
		f->type = WH_T_UINT;
		return wh_mp_read_uint(r, &f->u);
	case WH_MP_NINT:
		f->type = WH_T_INT;
		return wh_mp_read_int(r, &f->i);
	case WH_MP_STR:
		f->type = WH_T_STR;
		return wh_mp_read_str(r, &f->s, fd->max);
	case WH_MP_BIN:
		f->type = WH_T_BIN;
		return wh_mp_read_bin(r, &f->s, fd->max);
	case WH_MP_ARRAY: {
		f->type = WH_T_ARRAY;
		rc = wh_mp_read_array(r, &f->count, WH_OP_MAX_ARRAY);
		if (rc)
			return rc;
		const uint8_t *start = r->p;
		for (uint32_t k = 0; k < f->count; k++) {
			/* Elements are scalars: depth 0 refuses nesting. */
			rc = wh_mp_skip(r, 0);
			if (rc)
				return rc == WH_ETOOBIG ? WH_EFIELD : rc;
		}
		f->s.p = start;
		f->s.n = (size_t)(r->p - start);
		return WH_OK;
	}
	case WH_MP_NONE:
		return WH_ETRUNC;
	default:
		return WH_EFIELD;
	}
}

int wh_op_decode(const uint8_t *p, size_t n, struct wh_op *op)
{
	int rc;
	if (n > WH_OP_MAX_BYTES)
		return WH_ETOOBIG;
	if (n < WH_SIG_BYTES + 8)
		return WH_ETRUNC;
	memset(op, 0, offsetof(struct wh_op, fields));
	struct wh_mp r;
	size_t en = n - WH_SIG_BYTES;
	wh_mp_init(&r, p, en);
	uint32_t cnt;
	uint64_t u;
	if ((rc = wh_mp_read_array(&r, &cnt, 16)))
		return rc;
	if (cnt != 7)
		return WH_EDECODE;
	if ((rc = wh_mp_read_uint(&r, &u)))
		return rc;
	if (u != WH_OP_VERSION)
		return WH_EVERSION;
	op->version = (uint8_t)u;
	if ((rc = wh_mp_read_uint(&r, &u)))
		return rc;
	if (u == 0 || u > WH_OP_KIND_MAX || !kdefs[u].name)
		return WH_EKIND;
	op->kind = (uint8_t)u;

	/* object id [code, seq] */
	struct wh_slice s;
	if ((rc = wh_mp_read_array(&r, &cnt, 2)))
		return rc == WH_ETOOBIG ? WH_EID : rc;
	if (cnt != 2)
		return WH_EID;
	if ((rc = wh_mp_read_str(&r, &s, WH_CODE_MAX)))
		return rc == WH_ETOOBIG ? WH_EID : rc;
	if (!wh_code_valid((const char *)s.p, s.n))
		return WH_EID;
	memcpy(op->code, s.p, s.n);
	op->code[s.n] = '\0';
	if ((rc = wh_mp_read_uint(&r, &u)))
		return rc;
	if (u == 0 || u > UINT32_MAX)
		return WH_EID;
	op->seq = (uint32_t)u;

	if ((rc = wh_mp_read_str(&r, &op->path, WH_PATH_MAX)))
		return rc == WH_ETOOBIG ? WH_EPATH : rc;
	if (!wh_path_valid((const char *)op->path.p, op->path.n))
		return WH_EPATH;
	if ((rc = wh_mp_read_bin_fixed(&r, op->author, WH_PK_BYTES)))
		return rc;
	if ((rc = wh_mp_read_uint(&r, &op->hlc)))
		return rc;
	if (op->hlc == 0)
		return WH_EDECODE;

	if ((rc = wh_mp_read_map(&r, &cnt, WH_OP_MAX_FIELDS)))
		return rc;
	for (uint32_t i = 0; i < cnt; i++) {
		struct wh_field *f = &op->fields[i];
		memset(f, 0, sizeof *f);
		if ((rc = wh_mp_read_uint(&r, &u)))
			return rc == WH_EDECODE ? WH_EFIELD : rc;
		if (u == 0 || u > WH_F_KEY_MAX)
			return WH_EFIELD;
		f->key = (uint8_t)u;
		if ((rc = read_field_value(&r, f)))
			return rc;
	}
	op->nfields = cnt;
	if (wh_mp_left(&r) != 0)
		return WH_EDECODE; /* bytes between body and signature */
	if ((rc = check_body(op->kind, op->fields, op->nfields)))
		return rc;
	const char *pre = kind_prefix(op->kind);
	if (strncmp(op->code, pre, strlen(pre)) || !op->code[strlen(pre)])
		return WH_EID;

	op->signed_part.p = p;
	op->signed_part.n = en;
	op->sig = p + en;
	op->raw.p = p;
	op->raw.n = n;
	wh_op_id(p, n, op->id);
	return WH_OK;
}

int wh_op_verify(const struct wh_op *op)
{
	return wh_sig_verify(op->author, op->signed_part.p, op->signed_part.n,
			     op->sig);
}

void wh_draft_init(struct wh_op_draft *d, uint8_t kind, const char *code,
		   uint32_t seq, const char *path)
{
	memset(d, 0, sizeof *d);
	d->kind = kind;
	d->code = code;
	d->seq = seq;
	d->path = path;
}

static struct wh_field *draft_add(struct wh_op_draft *d, uint8_t key,
				  uint8_t type)
{
	/* Overflow is remembered as a field with key 0, which build
	 * refuses; callers need not check every add. */
	if (d->nfields >= WH_OP_MAX_FIELDS) {
		d->fields[WH_OP_MAX_FIELDS - 1].key = 0;
		return NULL;
	}
	struct wh_field *f = &d->fields[d->nfields++];
	memset(f, 0, sizeof *f);
	f->key = key;
	f->type = type;
	return f;
}

void wh_draft_str(struct wh_op_draft *d, uint8_t key, const char *s)
{
	struct wh_field *f = draft_add(d, key, WH_T_STR);
	if (f) {
		f->s.p = (const uint8_t *)s;
		f->s.n = strlen(s);
	}
}

void wh_draft_uint(struct wh_op_draft *d, uint8_t key, uint64_t v)
{
	struct wh_field *f = draft_add(d, key, WH_T_UINT);
	if (f)
		f->u = v;
}

void wh_draft_bin(struct wh_op_draft *d, uint8_t key, const void *p,
		  size_t n)
{
	struct wh_field *f = draft_add(d, key, WH_T_BIN);
	if (f) {
		f->s.p = p;
		f->s.n = n;
	}
}

void wh_draft_array(struct wh_op_draft *d, uint8_t key, const void *enc,
		    size_t n, uint32_t count)
{
	struct wh_field *f = draft_add(d, key, WH_T_ARRAY);
	if (f) {
		f->s.p = enc;
		f->s.n = n;
		f->count = count;
	}
}

static int field_key_cmp(const void *a, const void *b)
{
	const struct wh_field *x = a, *y = b;
	return (int)x->key - (int)y->key;
}

int wh_op_build(const struct wh_op_draft *d, const struct wh_key *key,
		struct wh_buf *out)
{
	if (d->kind == 0 || d->kind > WH_OP_KIND_MAX || !kdefs[d->kind].name)
		return WH_EKIND;
	if (!d->code || !wh_code_valid(d->code, strlen(d->code)) ||
	    d->seq == 0)
		return WH_EID;
	if (!d->path || !wh_path_valid(d->path, strlen(d->path)))
		return WH_EPATH;
	if (d->hlc == 0)
		return WH_EINVAL;
	struct wh_field fs[WH_OP_MAX_FIELDS];
	uint32_t n = d->nfields;
	memcpy(fs, d->fields, n * sizeof fs[0]);
	qsort(fs, n, sizeof fs[0], field_key_cmp);
	int rc = check_body(d->kind, fs, n);
	if (rc)
		return rc == WH_ECANON ? WH_EFIELD : rc; /* duplicate key */

	size_t start = out->len;
	wh_mpw_array(out, 7);
	wh_mpw_uint(out, WH_OP_VERSION);
	wh_mpw_uint(out, d->kind);
	wh_mpw_array(out, 2);
	wh_mpw_cstr(out, d->code);
	wh_mpw_uint(out, d->seq);
	wh_mpw_cstr(out, d->path);
	wh_mpw_bin(out, key->pk, WH_PK_BYTES);
	wh_mpw_uint(out, d->hlc);
	wh_mpw_map(out, n);
	for (uint32_t i = 0; i < n; i++) {
		wh_mpw_uint(out, fs[i].key);
		switch (fs[i].type) {
		case WH_T_UINT: wh_mpw_uint(out, fs[i].u); break;
		case WH_T_INT: wh_mpw_int(out, fs[i].i); break;
		case WH_T_STR: wh_mpw_str(out, fs[i].s.p, fs[i].s.n); break;
		case WH_T_BIN: wh_mpw_bin(out, fs[i].s.p, fs[i].s.n); break;
		case WH_T_ARRAY:
			wh_mpw_array(out, fs[i].count);
			wh_buf_append(out, fs[i].s.p, fs[i].s.n);
			break;
		}
	}
	size_t en = out->len - start;
	uint8_t sig[WH_SIG_BYTES];
	wh_key_sign(key, out->p + start, en, sig);
	wh_buf_append(out, sig, WH_SIG_BYTES);

	struct wh_op check;
	rc = wh_op_decode(out->p + start, out->len - start, &check);
	if (rc)
		out->len = start;
	return rc;
}
