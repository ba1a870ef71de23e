/*
 * case_codec.c: a case view's stored bytes (the store's `cases` table)
 * and back. The fold (case.c) never sees these bytes; the decoder takes
 * bytes read from disk, so it checks every bound and refuses what does
 * not parse (WH_EDECODE) rather than trust it.
 */
#include "case.h"

#include "flow.h"
#include "mp.h"
#include "seal.h"

#include <stdlib.h>
#include <string.h>

/* View encoding, version 4: one flat msgpack array; the loop's part is
 * one element (flow.c). Version 3 added the sealed personal data (one
 * element after the contact: nil, or [erased, kid|nil, sealed|nil]);
 * version 4 the case's deadline, its task link (nil or [emergency code,
 * seq, task]) and its places (nil or [[hlc, path]...]) after the loop. */
#define VIEW_VERSION 4
#define VIEW_FIELDS 34

static void put_opt_str(struct wh_buf *b, const char *s)
{
	if (s)
		wh_mpw_cstr(b, s);
	else
		wh_mpw_nil(b);
}

void wh_case_encode(const struct wh_case *c, struct wh_buf *b)
{
	wh_mpw_array(b, VIEW_FIELDS);
	wh_mpw_uint(b, VIEW_VERSION);
	wh_mpw_cstr(b, c->code);
	wh_mpw_uint(b, c->seq);
	put_opt_str(b, c->path);
	put_opt_str(b, c->title);
	put_opt_str(b, c->description);
	put_opt_str(b, c->category);
	put_opt_str(b, c->address);
	put_opt_str(b, c->reporter);
	put_opt_str(b, c->contact);
	if (c->erased || c->sealed || c->has_kid) {
		wh_mpw_array(b, 3);
		wh_mpw_uint(b, c->erased ? 1 : 0);
		if (c->has_kid)
			wh_mpw_bin(b, c->kid, WH_ID_BYTES);
		else
			wh_mpw_nil(b);
		if (c->sealed)
			wh_mpw_bin(b, c->sealed, c->nsealed);
		else
			wh_mpw_nil(b);
	} else {
		wh_mpw_nil(b);
	}
	put_opt_str(b, c->extref);
	if (c->has_location) {
		wh_mpw_array(b, 2);
		wh_mpw_int(b, c->lat_e7);
		wh_mpw_int(b, c->lon_e7);
	} else {
		wh_mpw_nil(b);
	}
	wh_mpw_uint(b, c->source);
	wh_mpw_uint(b, c->priority);
	wh_mpw_uint(b, c->status);
	if (c->has_create)
		wh_mpw_bin(b, c->creator, WH_PK_BYTES);
	else
		wh_mpw_nil(b);
	wh_mpw_uint(b, c->created_at);
	wh_mpw_uint(b, c->updated_at);
	wh_mpw_uint(b, c->nops);
	wh_mpw_uint(b, c->nnotes);
	wh_mpw_uint(b, c->nignored);
	wh_mpw_uint(b, c->nconflicts);
	if (c->conflict) {
		wh_mpw_array(b, 3);
		wh_mpw_uint(b, c->conflict_other);
		wh_mpw_uint(b, c->conflict_at);
		wh_mpw_bin(b, c->conflict_author, WH_PK_BYTES);
	} else {
		wh_mpw_nil(b);
	}
	wh_mpw_array(b, c->nelems);
	for (uint32_t i = 0; i < c->nelems; i++) {
		const struct wh_case_elem *e = &c->elems[i];
		wh_mpw_array(b, 3);
		wh_mpw_uint(b, e->set);
		wh_mpw_cstr(b, e->value);
		wh_mpw_array(b, e->nadds);
		for (uint32_t k = 0; k < e->nadds; k++)
			wh_mpw_bin(b, e->adds[k], WH_ID_BYTES);
	}
	wh_mpw_array(b, c->ntombs);
	for (uint32_t k = 0; k < c->ntombs; k++)
		wh_mpw_bin(b, c->tombs[k], WH_ID_BYTES);
	wh_flow_encode(&c->flow, b);
	wh_mpw_uint(b, c->due_ms);
	if (c->task) {
		wh_mpw_array(b, 3);
		wh_mpw_cstr(b, c->em_code);
		wh_mpw_uint(b, c->em_seq);
		wh_mpw_cstr(b, c->task);
	} else {
		wh_mpw_nil(b);
	}
	if (c->nplaces) {
		wh_mpw_array(b, c->nplaces);
		for (uint32_t i = 0; i < c->nplaces; i++) {
			wh_mpw_array(b, 2);
			wh_mpw_uint(b, c->places[i].at);
			wh_mpw_cstr(b, c->places[i].path);
		}
	} else {
		wh_mpw_nil(b);
	}
	wh_mpw_uint(b, c->last_hlc);
	wh_mpw_bin(b, c->last_author, WH_PK_BYTES);
	wh_mpw_bin(b, c->last_id, WH_ID_BYTES);
}

static int get_opt_str(struct wh_mp *r, char **out)
{
	if (wh_mp_peek(r) == WH_MP_NIL)
		return wh_mp_read_nil(r);
	struct wh_slice s;
	int rc = wh_mp_read_str(r, &s, WH_OP_MAX_BYTES);
	if (rc == WH_OK)
		*out = wh_xstrndup((const char *)s.p, s.n);
	return rc;
}

static int get_u8(struct wh_mp *r, uint8_t *v, unsigned max)
{
	uint64_t u;
	int rc = wh_mp_read_uint(r, &u);
	if (rc == WH_OK && u > max)
		rc = WH_EDECODE;
	if (rc == WH_OK)
		*v = (uint8_t)u;
	return rc;
}

static int get_u32(struct wh_mp *r, uint32_t *v)
{
	uint64_t u;
	int rc = wh_mp_read_uint(r, &u);
	if (rc == WH_OK && u > UINT32_MAX)
		rc = WH_EDECODE;
	if (rc == WH_OK)
		*v = (uint32_t)u;
	return rc;
}

/* The personal-data element: nil or [erased, kid|nil, sealed|nil]. */
static int get_personal(struct wh_mp *r, struct wh_case *c)
{
	uint32_t cnt;
	uint64_t u;
	struct wh_slice s;
	if (wh_mp_peek(r) == WH_MP_NIL)
		return wh_mp_read_nil(r);
	int rc = wh_mp_read_array(r, &cnt, 3);
	if (!rc && cnt != 3)
		rc = WH_EDECODE;
	if (!rc)
		rc = wh_mp_read_uint(r, &u);
	if (!rc && u > 1)
		rc = WH_EDECODE;
	if (rc)
		return rc;
	c->erased = (int)u;
	if (wh_mp_peek(r) == WH_MP_NIL) {
		rc = wh_mp_read_nil(r);
	} else {
		rc = wh_mp_read_bin_fixed(r, c->kid, WH_ID_BYTES);
		c->has_kid = rc == WH_OK;
	}
	if (rc)
		return rc;
	if (wh_mp_peek(r) == WH_MP_NIL)
		return wh_mp_read_nil(r);
	if ((rc = wh_mp_read_bin(r, &s, WH_SEAL_MAX_BYTES)))
		return rc;
	c->sealed = wh_xmalloc(s.n ? s.n : 1);
	memcpy(c->sealed, s.p, s.n);
	c->nsealed = (uint32_t)s.n;
	return WH_OK;
}

/* The task link: nil or [emergency code, seq, task]. */
static int get_link(struct wh_mp *r, struct wh_case *c)
{
	uint32_t cnt;
	uint64_t u;
	struct wh_slice s;
	if (wh_mp_peek(r) == WH_MP_NIL)
		return wh_mp_read_nil(r);
	int rc = wh_mp_read_array(r, &cnt, 3);
	if (!rc && cnt != 3)
		rc = WH_EDECODE;
	if (!rc)
		rc = wh_mp_read_str(r, &s, WH_CODE_MAX);
	if (!rc && !wh_code_valid((const char *)s.p, s.n))
		rc = WH_EDECODE;
	if (rc)
		return rc;
	memcpy(c->em_code, s.p, s.n);
	c->em_code[s.n] = '\0';
	if ((rc = wh_mp_read_uint(r, &u)))
		return rc;
	if (u == 0 || u > UINT32_MAX)
		return WH_EDECODE;
	c->em_seq = (uint32_t)u;
	if ((rc = wh_mp_read_str(r, &s, WH_OP_MAX_BYTES)))
		return rc;
	c->task = wh_xstrndup((const char *)s.p, s.n);
	return WH_OK;
}

/* The places: nil or [[hlc, path]...], at most WH_CASE_MAX_PLACES. */
static int get_places(struct wh_mp *r, struct wh_case *c)
{
	uint32_t cnt, k2;
	struct wh_slice s;
	if (wh_mp_peek(r) == WH_MP_NIL)
		return wh_mp_read_nil(r);
	int rc = wh_mp_read_array(r, &cnt, WH_CASE_MAX_PLACES);
	if (!rc && cnt == 0)
		rc = WH_EDECODE; /* none is written as nil */
	if (rc)
		return rc;
	c->places = wh_xcalloc(cnt, sizeof c->places[0]);
	for (uint32_t i = 0; i < cnt; i++) {
		wh_hlc_ts at;
		if ((rc = wh_mp_read_array(r, &k2, 2)))
			return rc;
		if (k2 != 2)
			return WH_EDECODE;
		/* Bounded, not checked as a path: like the case's own path,
		 * it is what the fold wrote (a view that holds a bad one
		 * must still encode to what decodes). */
		if ((rc = wh_mp_read_uint(r, &at)) ||
		    (rc = wh_mp_read_str(r, &s, WH_OP_MAX_BYTES)))
			return rc;
		c->places[i].at = at;
		c->places[i].path = wh_xstrndup((const char *)s.p, s.n);
		c->nplaces = i + 1;
	}
	return WH_OK;
}

#define TRY(x)                                                                 \
	do {                                                                   \
		if ((x) != WH_OK)                                              \
			goto bad;                                              \
	} while (0)

int wh_case_decode(const uint8_t *p, size_t n, struct wh_case *c)
{
	struct wh_mp r;
	uint32_t cnt;
	uint64_t u;
	struct wh_slice s;
	wh_mp_init_own(&r, p, n);
	memset(c, 0, sizeof *c);
	TRY(wh_mp_read_array(&r, &cnt, 64));
	if (cnt != VIEW_FIELDS)
		goto bad;
	TRY(wh_mp_read_uint(&r, &u));
	if (u != VIEW_VERSION)
		goto bad;
	TRY(wh_mp_read_str(&r, &s, WH_CODE_MAX));
	memcpy(c->code, s.p, s.n);
	TRY(get_u32(&r, &c->seq));
	TRY(get_opt_str(&r, &c->path));
	TRY(get_opt_str(&r, &c->title));
	TRY(get_opt_str(&r, &c->description));
	TRY(get_opt_str(&r, &c->category));
	TRY(get_opt_str(&r, &c->address));
	TRY(get_opt_str(&r, &c->reporter));
	TRY(get_opt_str(&r, &c->contact));
	TRY(get_personal(&r, c));
	TRY(get_opt_str(&r, &c->extref));
	if (wh_mp_peek(&r) == WH_MP_NIL) {
		TRY(wh_mp_read_nil(&r));
	} else {
		TRY(wh_mp_read_array(&r, &cnt, 2));
		if (cnt != 2)
			goto bad;
		TRY(wh_mp_read_int(&r, &c->lat_e7));
		TRY(wh_mp_read_int(&r, &c->lon_e7));
		c->has_location = 1;
	}
	TRY(get_u8(&r, &c->source, WH_SOURCE_MAX));
	TRY(get_u8(&r, &c->priority, WH_PRIORITY_MAX));
	TRY(get_u8(&r, &c->status, WH_STATUS_MAX));
	if (wh_mp_peek(&r) == WH_MP_NIL) {
		TRY(wh_mp_read_nil(&r));
	} else {
		TRY(wh_mp_read_bin_fixed(&r, c->creator, WH_PK_BYTES));
		c->has_create = 1;
	}
	TRY(wh_mp_read_uint(&r, &c->created_at));
	TRY(wh_mp_read_uint(&r, &c->updated_at));
	TRY(get_u32(&r, &c->nops));
	TRY(get_u32(&r, &c->nnotes));
	TRY(get_u32(&r, &c->nignored));
	TRY(get_u32(&r, &c->nconflicts));
	if (wh_mp_peek(&r) == WH_MP_NIL) {
		TRY(wh_mp_read_nil(&r));
	} else {
		TRY(wh_mp_read_array(&r, &cnt, 3));
		if (cnt != 3)
			goto bad;
		TRY(get_u8(&r, &c->conflict_other, WH_STATUS_MAX));
		TRY(wh_mp_read_uint(&r, &c->conflict_at));
		TRY(wh_mp_read_bin_fixed(&r, c->conflict_author,
					 WH_PK_BYTES));
		c->conflict = 1;
	}
	TRY(wh_mp_read_array(&r, &cnt, 1u << 20));
	c->elems = wh_xcalloc(cnt ? cnt : 1, sizeof c->elems[0]);
	for (uint32_t i = 0; i < cnt; i++) {
		struct wh_case_elem *e = &c->elems[i];
		uint32_t k3, na;
		TRY(wh_mp_read_array(&r, &k3, 3));
		if (k3 != 3)
			goto bad;
		TRY(get_u8(&r, &e->set, WH_ORSET_MAX));
		TRY(wh_mp_read_str(&r, &s, WH_OP_MAX_BYTES));
		e->value = wh_xstrndup((const char *)s.p, s.n);
		c->nelems = i + 1;
		TRY(wh_mp_read_array(&r, &na, 1u << 20));
		e->adds = wh_xcalloc(na ? na : 1, WH_ID_BYTES);
		for (uint32_t k = 0; k < na; k++)
			TRY(wh_mp_read_bin_fixed(&r, e->adds[k], WH_ID_BYTES));
		e->nadds = na;
	}
	TRY(wh_mp_read_array(&r, &cnt, 1u << 20));
	c->tombs = wh_xcalloc(cnt ? cnt : 1, WH_ID_BYTES);
	for (uint32_t k = 0; k < cnt; k++)
		TRY(wh_mp_read_bin_fixed(&r, c->tombs[k], WH_ID_BYTES));
	c->ntombs = cnt;
	TRY(wh_flow_decode(&r, &c->flow));
	TRY(wh_mp_read_uint(&r, &c->due_ms));
	TRY(get_link(&r, c));
	TRY(get_places(&r, c));
	TRY(wh_mp_read_uint(&r, &c->last_hlc));
	TRY(wh_mp_read_bin_fixed(&r, c->last_author, WH_PK_BYTES));
	TRY(wh_mp_read_bin_fixed(&r, c->last_id, WH_ID_BYTES));
	if (wh_mp_left(&r) != 0)
		goto bad;
	return WH_OK;
bad:
	wh_case_fini(c);
	return WH_ECORRUPT;
}
