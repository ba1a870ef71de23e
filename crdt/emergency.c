/*
 * emergency.c: the emergency fold, its canonical encoding, and the
 * people's form of document ids (emergency.h has the rules).
 *
 * Like case.c, a pure function of (state, op): nothing here reads a
 * clock or a store. "Active" questions take the time as an argument.
 */
#include "emergency.h"

#include "mp.h"

#include <stdio.h>
#include <string.h>

static const char *const rule_names[] = {"pause", "extend"};
static const char *const rule_labels[] = {"暂停", "顺延"};

const char *wh_em_rule_name(unsigned r)
{
	return r <= WH_EM_RULE_MAX ? rule_names[r] : NULL;
}

const char *wh_em_rule_label(unsigned r)
{
	return r <= WH_EM_RULE_MAX ? rule_labels[r] : NULL;
}

int wh_em_rule_parse(const char *s)
{
	for (unsigned i = 0; i <= WH_EM_RULE_MAX; i++)
		if (!strcmp(s, rule_names[i]) || !strcmp(s, rule_labels[i]))
			return (int)i;
	return -1;
}

static int prefixed_code(const char *pre, const char *station,
			 char out[WH_CODE_MAX + 1])
{
	size_t pn = strlen(pre), n = strlen(station);
	if (n == 0 || n > WH_CODE_MAX - pn)
		return WH_EID;
	memcpy(out, pre, pn);
	memcpy(out + pn, station, n + 1);
	return wh_code_valid(out, pn + n) ? WH_OK : WH_EID;
}

int wh_em_code(const char *station_code, char out[WH_CODE_MAX + 1])
{
	return prefixed_code(WH_EM_PREFIX, station_code, out);
}

int wh_em_is(const char *code)
{
	return !strncmp(code, WH_EM_PREFIX, strlen(WH_EM_PREFIX));
}

void wh_doc_id_format(const char *code, uint32_t seq,
		      char out[WH_CASE_ID_MAX])
{
	const char *c = code[0] == '~' ? code + 1 : code;
	snprintf(out, WH_CASE_ID_MAX, "%s-%06u", c, (unsigned)seq);
}

int wh_doc_id_parse(const char *s, const char *prefix,
		    char code[WH_CODE_MAX + 1], uint32_t *seq)
{
	if (*s == '~')
		s++;
	const char *dash = strrchr(s, '-');
	if (!dash || dash == s)
		return WH_EID;
	size_t cn = (size_t)(dash - s), dn = strlen(dash + 1);
	if (cn + 1 > WH_CODE_MAX || dn == 0 || dn > 10)
		return WH_EID;
	uint64_t v = 0;
	for (const char *d = dash + 1; *d; d++) {
		if (*d < '0' || *d > '9')
			return WH_EID;
		v = v * 10 + (uint64_t)(*d - '0');
	}
	if (v == 0 || v > UINT32_MAX)
		return WH_EID;
	char c[WH_CODE_MAX + 1];
	c[0] = '~';
	memcpy(c + 1, s, cn);
	c[cn + 1] = '\0';
	size_t pn = strlen(prefix);
	if (strncmp(c, prefix, pn) || !c[pn] || !wh_code_valid(c, cn + 1))
		return WH_EID;
	memcpy(code, c, cn + 2);
	*seq = (uint32_t)v;
	return WH_OK;
}

void wh_em_init(struct wh_emergency *e, const char *code, uint32_t seq)
{
	memset(e, 0, sizeof *e);
	snprintf(e->code, sizeof e->code, "%s", code);
	e->seq = seq;
}

static uint64_t fuint(const struct wh_op *op, uint8_t key)
{
	const struct wh_field *f = wh_op_field(op, key);
	return f && f->type == WH_T_UINT ? f->u : 0;
}

static void fstr(const struct wh_op *op, uint8_t key, char *out, size_t cap)
{
	const struct wh_field *f = wh_op_field(op, key);
	size_t n = f && f->type == WH_T_STR ? f->s.n : 0;
	if (n >= cap)
		n = cap - 1; /* decode bounds every field below cap */
	if (n)
		memcpy(out, f->s.p, n);
	out[n] = '\0';
}

/* A declaration or an amendment replaces its part as a whole. */
static void declare(struct wh_emergency *e, const struct wh_op *op)
{
	if (!e->declared) {
		e->declared = 1;
		memcpy(e->area, op->path.p, op->path.n);
		e->area[op->path.n] = '\0';
		memcpy(e->declared_by, op->author, WH_PK_BYTES);
		e->declared_at = op->hlc;
	}
	e->start_ms = fuint(op, WH_F_START_MS);
	e->end_ms = fuint(op, WH_F_END_MS);
	fstr(op, WH_F_PLAN, e->plan, sizeof e->plan);
	e->plan_seq = (uint32_t)fuint(op, WH_F_PLAN_SEQ);
	e->rule = (uint8_t)fuint(op, WH_F_RULE);
	e->extend_ms = fuint(op, WH_F_EXTEND_MS);
	fstr(op, WH_F_TITLE, e->title, sizeof e->title);
	memcpy(e->amended_by, op->author, WH_PK_BYTES);
	e->amended_at = op->hlc;
}

int wh_em_apply(struct wh_emergency *e, const struct wh_op *op, int *ignored)
{
	if (strcmp(op->code, e->code) || op->seq != e->seq)
		return WH_EINVAL;
	if (e->nops && wh_op_key_cmp(op->hlc, op->author, op->id, e->last_hlc,
				     e->last_author, e->last_id) <= 0)
		return WH_EINVAL;
	int ign = 1;
	int at_area = e->declared && op->path.n == strlen(e->area) &&
		      !memcmp(op->path.p, e->area, op->path.n);
	if (op->kind == WH_OP_EMERGENCY && (!e->declared || at_area)) {
		declare(e, op);
		ign = 0;
	} else if (op->kind == WH_OP_EMERGENCY_END && at_area) {
		uint64_t t = fuint(op, WH_F_END_MS);
		if (!e->ended_ms || t < e->ended_ms) {
			e->ended_ms = t;
			memcpy(e->ended_by, op->author, WH_PK_BYTES);
			e->ended_at = op->hlc;
		}
		ign = 0;
	}
	e->nignored += (uint32_t)ign;
	e->nops++;
	e->last_hlc = op->hlc;
	memcpy(e->last_author, op->author, WH_PK_BYTES);
	memcpy(e->last_id, op->id, WH_ID_BYTES);
	if (ignored)
		*ignored = ign;
	return WH_OK;
}

uint64_t wh_em_until(const struct wh_emergency *e)
{
	uint64_t a = e->end_ms, b = e->ended_ms;
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

int wh_em_active(const struct wh_emergency *e, uint64_t t)
{
	uint64_t u = wh_em_until(e);
	return e->declared && e->start_ms <= t && (!u || t < u);
}

int wh_em_over(const struct wh_emergency *e, uint64_t t)
{
	uint64_t u = wh_em_until(e);
	return u && u <= t;
}

/* ---- encoding ---------------------------------------------------- */

#define EM_VERSION 1
#define EM_FIELDS 23

void wh_em_encode(const struct wh_emergency *e, struct wh_buf *b)
{
	wh_mpw_array(b, EM_FIELDS);
	wh_mpw_uint(b, EM_VERSION);
	wh_mpw_cstr(b, e->code);
	wh_mpw_uint(b, e->seq);
	wh_mpw_uint(b, e->declared ? 1 : 0);
	wh_mpw_cstr(b, e->area);
	wh_mpw_uint(b, e->start_ms);
	wh_mpw_uint(b, e->end_ms);
	wh_mpw_uint(b, e->ended_ms);
	wh_mpw_cstr(b, e->plan);
	wh_mpw_uint(b, e->plan_seq);
	wh_mpw_uint(b, e->rule);
	wh_mpw_uint(b, e->extend_ms);
	wh_mpw_cstr(b, e->title);
	wh_mpw_bin(b, e->declared_by, WH_PK_BYTES);
	wh_mpw_uint(b, e->declared_at);
	wh_mpw_bin(b, e->amended_by, WH_PK_BYTES);
	wh_mpw_uint(b, e->amended_at);
	wh_mpw_bin(b, e->ended_by, WH_PK_BYTES);
	wh_mpw_uint(b, e->ended_at);
	wh_mpw_uint(b, e->nops);
	wh_mpw_uint(b, e->nignored);
	wh_mpw_uint(b, e->last_hlc);
	wh_mpw_bin(b, e->last_author, WH_PK_BYTES);
	/* last_id last, as the case view does: it closes the record */
	wh_mpw_bin(b, e->last_id, WH_ID_BYTES);
}

static int get_str(struct wh_mp *r, char *out, size_t cap)
{
	struct wh_slice s;
	int rc = wh_mp_read_str(r, &s, cap - 1);
	if (rc)
		return rc;
	memcpy(out, s.p, s.n);
	out[s.n] = '\0';
	return strlen(out) == s.n ? WH_OK : WH_EDECODE; /* no NUL inside */
}

static int get_u32(struct wh_mp *r, uint32_t *v, uint64_t max)
{
	uint64_t u;
	int rc = wh_mp_read_uint(r, &u);
	if (!rc && u > max)
		rc = WH_EDECODE;
	if (!rc)
		*v = (uint32_t)u;
	return rc;
}

#define TRY(x)                                                                 \
	do {                                                                   \
		if ((x) != WH_OK)                                              \
			goto bad;                                              \
	} while (0)

int wh_em_decode(const uint8_t *p, size_t n, struct wh_emergency *e)
{
	struct wh_mp r;
	uint32_t cnt, u32;
	uint64_t u;
	/* Small records: every string is checked for UTF-8 again. */
	wh_mp_init(&r, p, n);
	memset(e, 0, sizeof *e);
	TRY(wh_mp_read_array(&r, &cnt, 64));
	if (cnt != EM_FIELDS)
		goto bad;
	TRY(wh_mp_read_uint(&r, &u));
	if (u != EM_VERSION)
		goto bad;
	TRY(get_str(&r, e->code, sizeof e->code));
	if (!wh_em_is(e->code) || !wh_code_valid(e->code, strlen(e->code)))
		goto bad;
	TRY(get_u32(&r, &e->seq, UINT32_MAX));
	TRY(get_u32(&r, &u32, 1));
	e->declared = (int)u32;
	TRY(get_str(&r, e->area, sizeof e->area));
	if (e->declared && !wh_path_valid(e->area, strlen(e->area)))
		goto bad;
	TRY(wh_mp_read_uint(&r, &e->start_ms));
	TRY(wh_mp_read_uint(&r, &e->end_ms));
	TRY(wh_mp_read_uint(&r, &e->ended_ms));
	TRY(get_str(&r, e->plan, sizeof e->plan));
	TRY(get_u32(&r, &e->plan_seq, UINT32_MAX));
	TRY(get_u32(&r, &u32, WH_EM_RULE_MAX));
	e->rule = (uint8_t)u32;
	TRY(wh_mp_read_uint(&r, &e->extend_ms));
	/* Within what ops can say (op.c's field limits), so that no sum
	 * of times made from a record can overflow. */
	if (e->start_ms > WH_EM_MAX_MS || e->end_ms > WH_EM_MAX_MS ||
	    e->ended_ms > WH_EM_MAX_MS || e->extend_ms > WH_EM_EXTEND_MAX_MS)
		goto bad;
	TRY(get_str(&r, e->title, sizeof e->title));
	TRY(wh_mp_read_bin_fixed(&r, e->declared_by, WH_PK_BYTES));
	TRY(wh_mp_read_uint(&r, &e->declared_at));
	TRY(wh_mp_read_bin_fixed(&r, e->amended_by, WH_PK_BYTES));
	TRY(wh_mp_read_uint(&r, &e->amended_at));
	TRY(wh_mp_read_bin_fixed(&r, e->ended_by, WH_PK_BYTES));
	TRY(wh_mp_read_uint(&r, &e->ended_at));
	TRY(get_u32(&r, &e->nops, UINT32_MAX));
	TRY(get_u32(&r, &e->nignored, UINT32_MAX));
	TRY(wh_mp_read_uint(&r, &e->last_hlc));
	TRY(wh_mp_read_bin_fixed(&r, e->last_author, WH_PK_BYTES));
	TRY(wh_mp_read_bin_fixed(&r, e->last_id, WH_ID_BYTES));
	if (wh_mp_left(&r) != 0)
		goto bad;
	return WH_OK;
bad:
	memset(e, 0, sizeof *e);
	return WH_ECORRUPT;
}
