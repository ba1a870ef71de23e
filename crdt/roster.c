/*
 * roster.c: decode, build and hold signed rosters, and the one
 * authorisation rule every replica applies to every op.
 *
 * The rule reads only the rosters and the op (plus the departments its
 * case has summoned, a union over the case's ops): nothing of the
 * receiver's clock or arrival order, so replicas that hold the same
 * rosters decide alike (docs/security.md).
 */
#include "roster.h"

#include "mp.h"

#include <stdlib.h>
#include <string.h>

#define MAGIC "WR"

static const char *const role_names[] = {
	[WH_MROLE_STATION] = "station",     [WH_MROLE_STREET] = "street",
	[WH_MROLE_DISTRICT] = "district",   [WH_MROLE_DEPARTMENT] = "department",
	[WH_MROLE_ADMIN] = "admin",         [WH_MROLE_DELEGATE] = "delegate",
};

const char *wh_mrole_name(unsigned role)
{
	return role <= WH_MROLE_MAX ? role_names[role] : "?";
}

int wh_mrole_parse(const char *s)
{
	for (int i = 0; i <= WH_MROLE_MAX; i++)
		if (!strcmp(s, role_names[i]))
			return i;
	return -1;
}

void wh_roster_fini(struct wh_roster *r)
{
	free(r->grants);
	memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------------ */
/* decode */

static int read_cstr(struct wh_mp *m, char *out, size_t max)
{
	struct wh_slice s;
	int rc = wh_mp_read_str(m, &s, max);
	if (rc)
		return rc;
	memcpy(out, s.p, s.n);
	out[s.n] = 0;
	return WH_OK;
}

/* A grant's own rules, whoever signed it. */
static int grant_valid(const struct wh_grant *g)
{
	if (!g->name[0] || g->role > WH_MROLE_MAX)
		return WH_EFIELD;
	if (!wh_path_valid(g->path, strlen(g->path)))
		return WH_EPATH;
	if (g->code[0] && !wh_code_valid(g->code, strlen(g->code)))
		return WH_EID;
	if (g->code[0] == '~')
		return WH_EID; /* documents are not created under a code */
	if ((g->role == WH_MROLE_DEPARTMENT) != (g->dept[0] != 0))
		return WH_EFIELD; /* a department names itself; nobody else */
	if (g->until_ms && g->until_ms <= g->from_ms)
		return WH_EFIELD;
	return WH_OK;
}

static int read_grant(struct wh_mp *m, struct wh_grant *g)
{
	uint32_t n;
	uint64_t role, seq_min;
	int rc = wh_mp_read_array(m, &n, 10);
	if (!rc && n != 10)
		rc = WH_EDECODE;
	if (!rc)
		rc = wh_mp_read_bin_fixed(m, g->key, WH_PK_BYTES);
	if (!rc)
		rc = read_cstr(m, g->name, WH_ROSTER_NAME_MAX);
	if (!rc)
		rc = wh_mp_read_uint(m, &role);
	if (!rc)
		rc = read_cstr(m, g->path, WH_PATH_MAX);
	if (!rc)
		rc = read_cstr(m, g->code, WH_CODE_MAX);
	if (!rc)
		rc = read_cstr(m, g->dept, WH_DEPT_MAX);
	if (!rc)
		rc = wh_mp_read_uint(m, &g->from_ms);
	if (!rc)
		rc = wh_mp_read_uint(m, &g->until_ms);
	if (!rc)
		rc = wh_mp_read_uint(m, &g->revoked_ms);
	if (!rc)
		rc = wh_mp_read_uint(m, &seq_min);
	if (rc)
		return rc;
	if (role > WH_MROLE_MAX || seq_min > UINT32_MAX)
		return WH_EFIELD;
	g->role = (uint8_t)role;
	g->seq_min = (uint32_t)seq_min;
	return grant_valid(g);
}

int wh_roster_decode(const uint8_t *p, size_t n, struct wh_roster *out)
{
	memset(out, 0, sizeof *out);
	if (n > WH_ROSTER_MAX_BYTES)
		return WH_ETOOBIG;
	if (n < WH_SIG_BYTES + 1)
		return WH_ETRUNC;
	size_t en = n - WH_SIG_BYTES;
	struct wh_mp m;
	wh_mp_init(&m, p, en);
	uint32_t k, ng;
	struct wh_slice magic;
	uint64_t ver;
	int rc = wh_mp_read_array(&m, &k, 7);
	if (!rc && k != 7)
		rc = WH_EDECODE;
	if (!rc)
		rc = wh_mp_read_str(&m, &magic, 8);
	if (!rc && (magic.n != 2 || memcmp(magic.p, MAGIC, 2)))
		rc = WH_EDECODE;
	if (!rc)
		rc = wh_mp_read_uint(&m, &ver);
	if (!rc && ver != WH_ROSTER_VERSION)
		rc = WH_EVERSION;
	if (!rc)
		rc = wh_mp_read_bin_fixed(&m, out->signer, WH_PK_BYTES);
	if (!rc)
		rc = read_cstr(&m, out->scope, WH_PATH_MAX);
	if (!rc && !wh_path_valid(out->scope, strlen(out->scope)))
		rc = WH_EPATH;
	if (!rc)
		rc = wh_mp_read_uint(&m, &out->serial);
	if (!rc && out->serial == 0)
		rc = WH_EFIELD;
	if (!rc)
		rc = wh_mp_read_uint(&m, &out->issued_ms);
	if (!rc)
		rc = wh_mp_read_array(&m, &ng, WH_ROSTER_MAX_GRANTS);
	if (rc)
		return rc;
	out->grants = wh_xcalloc(ng ? ng : 1, sizeof *out->grants);
	for (uint32_t i = 0; i < ng; i++) {
		if ((rc = read_grant(&m, &out->grants[i])))
			return rc;
		out->ngrants = i + 1;
	}
	if (wh_mp_left(&m))
		return WH_EDECODE; /* one roster, nothing after it */
	if (wh_sig_verify(out->signer, p, en, p + en))
		return WH_ESIG;
	wh_hash(p, n, out->id);
	return WH_OK;
}

int wh_roster_build(const struct wh_roster *r, const struct wh_key *key,
		    struct wh_buf *out)
{
	struct wh_buf b = {0};
	wh_mpw_array(&b, 7);
	wh_mpw_str(&b, MAGIC, 2);
	wh_mpw_uint(&b, WH_ROSTER_VERSION);
	wh_mpw_bin(&b, key->pk, WH_PK_BYTES);
	wh_mpw_cstr(&b, r->scope);
	wh_mpw_uint(&b, r->serial);
	wh_mpw_uint(&b, r->issued_ms);
	wh_mpw_array(&b, r->ngrants);
	for (uint32_t i = 0; i < r->ngrants; i++) {
		const struct wh_grant *g = &r->grants[i];
		wh_mpw_array(&b, 10);
		wh_mpw_bin(&b, g->key, WH_PK_BYTES);
		wh_mpw_cstr(&b, g->name);
		wh_mpw_uint(&b, g->role);
		wh_mpw_cstr(&b, g->path);
		wh_mpw_cstr(&b, g->code);
		wh_mpw_cstr(&b, g->dept);
		wh_mpw_uint(&b, g->from_ms);
		wh_mpw_uint(&b, g->until_ms);
		wh_mpw_uint(&b, g->revoked_ms);
		wh_mpw_uint(&b, g->seq_min);
	}
	uint8_t sig[WH_SIG_BYTES];
	wh_key_sign(key, b.p, b.len, sig);
	wh_buf_append(&b, sig, sizeof sig);
	struct wh_roster chk;
	int rc = wh_roster_decode(b.p, b.len, &chk);
	wh_roster_fini(&chk);
	if (!rc)
		wh_buf_append(out, b.p, b.len);
	wh_buf_fini(&b);
	return rc;
}

/* ------------------------------------------------------------------ */
/* the set */

void wh_roster_set_fini(struct wh_roster_set *rs)
{
	wh_roster_fini(&rs->root);
	for (uint32_t i = 0; i < rs->ndel; i++)
		wh_roster_fini(&rs->del[i]);
	rs->ndel = 0;
}

const struct wh_roster *wh_roster_set_find(const struct wh_roster_set *rs,
					   const uint8_t signer[WH_PK_BYTES])
{
	if (rs->root.serial && !memcmp(rs->root.signer, signer, WH_PK_BYTES))
		return &rs->root;
	for (uint32_t i = 0; i < rs->ndel; i++)
		if (!memcmp(rs->del[i].signer, signer, WH_PK_BYTES))
			return &rs->del[i];
	return NULL;
}

/* Whether grant g covers time t (ms). */
static int covers(const struct wh_grant *g, uint64_t t)
{
	return t >= g->from_ms && (!g->until_ms || t < g->until_ms) &&
	       (!g->revoked_ms || t < g->revoked_ms);
}

static int within(const char *path, const char *scope)
{
	return wh_path_within(path, strlen(path), scope, strlen(scope));
}

/* The authority's delegate grant that lets 'signer' sign for scope at
 * time t, or NULL. */
static const struct wh_grant *delegate_grant(const struct wh_roster_set *rs,
					     const uint8_t *signer,
					     const char *scope, uint64_t t)
{
	for (uint32_t i = 0; i < rs->root.ngrants; i++) {
		const struct wh_grant *g = &rs->root.grants[i];
		if (g->role == WH_MROLE_DELEGATE &&
		    !memcmp(g->key, signer, WH_PK_BYTES) &&
		    within(scope, g->path) && covers(g, t))
			return g;
	}
	return NULL;
}

int wh_roster_set_check(const struct wh_roster_set *rs,
			const struct wh_roster *r, const char **why)
{
	const char *w = NULL;
	int rc = WH_OK;
	int is_root = !memcmp(r->signer, rs->authority, WH_PK_BYTES);
	const struct wh_roster *held = wh_roster_set_find(rs, r->signer);
	if (held && !memcmp(held->id, r->id, WH_ID_BYTES)) {
		rc = WH_EEXIST;
		w = "this roster is held already";
	} else if (held && r->serial <= held->serial) {
		rc = WH_EOLD;
		w = "an older or equal serial than the roster held from its "
		    "signer";
	} else if (!is_root &&
		   !delegate_grant(rs, r->signer, r->scope, r->issued_ms)) {
		rc = WH_EAUTHORITY;
		w = "signed neither by the authority nor by a delegate it "
		    "granted this scope";
	} else if (!is_root && !held && rs->ndel >= WH_ROSTER_MAX_DELEGATES) {
		rc = WH_ETOOBIG;
		w = "too many delegate rosters";
	}
	for (uint32_t i = 0; !rc && i < r->ngrants; i++) {
		const struct wh_grant *g = &r->grants[i];
		if (!within(g->path, r->scope)) {
			rc = WH_ESCOPE;
			w = "a grant lies outside the roster's scope";
		} else if (!is_root && g->role != WH_MROLE_STATION &&
			   g->role != WH_MROLE_STREET &&
			   g->role != WH_MROLE_DEPARTMENT) {
			rc = WH_ESCOPE;
			w = "a delegate may grant only station, street and "
			    "department roles";
		}
	}
	if (why)
		*why = w;
	return rc;
}

void wh_roster_set_take(struct wh_roster_set *rs, struct wh_roster *r)
{
	struct wh_roster *slot = NULL;
	if (!memcmp(r->signer, rs->authority, WH_PK_BYTES)) {
		slot = &rs->root;
	} else {
		for (uint32_t i = 0; i < rs->ndel && !slot; i++)
			if (!memcmp(rs->del[i].signer, r->signer, WH_PK_BYTES))
				slot = &rs->del[i];
		if (!slot)
			slot = &rs->del[rs->ndel++];
	}
	wh_roster_fini(slot);
	*slot = *r;
	memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------------ */
/* authorisation */

/* What each role may sign, by kind. Documents (codes '~...', kinds
 * 64-79) are published by streets, districts and administrators; an
 * emergency (declared or ended) is a street's or a district's call
 * alone, within its own jurisdiction (the path check below). */
static int role_may(unsigned role, unsigned kind)
{
	int em = kind == WH_OP_EMERGENCY || kind == WH_OP_EMERGENCY_END;
	int doc = kind >= 64 && kind <= 79 && !em;
	switch (role) {
	case WH_MROLE_STATION:
		return (kind >= WH_OP_CASE_CREATE && kind <= WH_OP_CASE_ERASE) ||
		       kind == WH_OP_TRIAGE || kind == WH_OP_WHISTLE ||
		       kind == WH_OP_FEEDBACK || kind == WH_OP_RATE ||
		       kind == WH_OP_ATTACH;
	case WH_MROLE_STREET:
	case WH_MROLE_DISTRICT:
		return role_may(WH_MROLE_STATION, kind) || doc || em;
	case WH_MROLE_DEPARTMENT:
		return kind == WH_OP_REPORT || kind == WH_OP_CASE_NOTE ||
		       kind == WH_OP_ATTACH;
	case WH_MROLE_ADMIN:
		return doc || kind == WH_OP_CASE_ERASE;
	default:
		return 0; /* delegates sign rosters, not ops */
	}
}

/* How far a grant got: the refusal of the grant that got furthest is
 * the one reported. */
enum { ST_MEMBER, ST_TIME, ST_ROLE, ST_SCOPE, ST_SUMMON, ST_OK };

struct verdict {
	int stage, rc;
	const char *why;
};

/* Returns 0 so that a check can end with 'return judge(...)'. */
static int judge(struct verdict *v, int stage, int rc, const char *why)
{
	if (stage > v->stage || v->rc == WH_ENOMEMBER) {
		v->stage = stage;
		v->rc = rc;
		v->why = why;
	}
	return 0;
}

static int summoned(const struct wh_authz_case *cx, const char *dept)
{
	for (size_t i = 0; cx && i < cx->nsummoned; i++)
		if (!strcmp(cx->summoned[i], dept))
			return 1;
	return 0;
}

static int check_grant(const struct wh_grant *g, const struct wh_op *op,
			const struct wh_authz_case *cx, struct verdict *v)
{
	uint64_t t = WH_HLC_MS(op->hlc);
	if (g->revoked_ms && t >= g->revoked_ms)
		return judge(v, ST_TIME, WH_EREVOKED,
			     "the author's key was revoked before the op's "
			     "time");
	if (!covers(g, t))
		return judge(v, ST_TIME, WH_EEXPIRED,
			     "the author's grant does not cover the op's "
			     "time");
	if (!role_may(g->role, op->kind))
		return judge(v, ST_ROLE, WH_EROLE,
			     "the author's role may not take this step");
	if (op->kind == WH_OP_WHISTLE && g->role == WH_MROLE_STATION) {
		const struct wh_field *f = wh_op_field(op, WH_F_WHISTLER);
		if (f && f->u > WH_WHISTLER_COMMUNITY)
			return judge(v, ST_ROLE, WH_EROLE,
				     "a station may not whistle as the "
				     "street");
	}
	if (!wh_path_within((const char *)op->path.p, op->path.n, g->path,
			    strlen(g->path)))
		return judge(v, ST_SCOPE, WH_EJURIS,
			     "the case lies outside the author's "
			     "jurisdiction");
	if (op->kind == WH_OP_CASE_CREATE &&
	    (!g->code[0] || strcmp(g->code, op->code) ||
	     op->seq < g->seq_min))
		return judge(v, ST_SCOPE, WH_EJURIS,
			     "the case id is outside the author's case-id "
			     "space");
	if (g->role == WH_MROLE_DEPARTMENT) {
		if (!summoned(cx, g->dept))
			return judge(v, ST_SUMMON, WH_ESUMMON,
				     "the department was not summoned to "
				     "this case");
		const struct wh_field *d = wh_op_field(op, WH_F_DEPT);
		if (op->kind == WH_OP_REPORT &&
		    (!d || d->s.n != strlen(g->dept) ||
		     memcmp(d->s.p, g->dept, d->s.n)))
			return judge(v, ST_SUMMON, WH_EROLE,
				     "a department reports only for "
				     "itself");
	}
	return judge(v, ST_OK, WH_OK, NULL);
}

int wh_roster_authorize(const struct wh_roster_set *rs,
			const struct wh_op *op,
			const struct wh_authz_case *cx, const char **why)
{
	struct verdict v = {ST_MEMBER, WH_ENOMEMBER,
			    "the author is not in the roster"};
	uint64_t t = WH_HLC_MS(op->hlc);
	for (uint32_t i = 0; i < rs->root.ngrants && v.stage < ST_OK; i++)
		if (!memcmp(rs->root.grants[i].key, op->author, WH_PK_BYTES))
			(void)check_grant(&rs->root.grants[i], op, cx, &v);
	for (uint32_t d = 0; d < rs->ndel && v.stage < ST_OK; d++) {
		const struct wh_roster *r = &rs->del[d];
		int live = -1; /* the delegate's own grant, looked up once */
		for (uint32_t i = 0; i < r->ngrants && v.stage < ST_OK; i++) {
			if (memcmp(r->grants[i].key, op->author, WH_PK_BYTES))
				continue;
			if (live < 0)
				live = delegate_grant(rs, r->signer, r->scope,
						      t) != NULL;
			if (live)
				(void)check_grant(&r->grants[i], op, cx, &v);
			else
				(void)judge(&v, ST_TIME, WH_EEXPIRED,
				      "the delegate that granted the author "
				      "is not valid at the op's time");
		}
	}
	if (why)
		*why = v.why;
	return v.rc;
}

int wh_roster_member_now(const struct wh_roster_set *rs,
			 const uint8_t key[WH_PK_BYTES], uint64_t now_ms,
			 const struct wh_grant **out)
{
	for (uint32_t i = 0; i < rs->root.ngrants; i++) {
		const struct wh_grant *g = &rs->root.grants[i];
		if (g->role != WH_MROLE_DELEGATE &&
		    !memcmp(g->key, key, WH_PK_BYTES) && covers(g, now_ms)) {
			if (out)
				*out = g;
			return 1;
		}
	}
	for (uint32_t d = 0; d < rs->ndel; d++) {
		const struct wh_roster *r = &rs->del[d];
		for (uint32_t i = 0; i < r->ngrants; i++) {
			const struct wh_grant *g = &r->grants[i];
			if (!memcmp(g->key, key, WH_PK_BYTES) &&
			    covers(g, now_ms) &&
			    delegate_grant(rs, r->signer, r->scope, now_ms)) {
				if (out)
					*out = g;
				return 1;
			}
		}
	}
	return 0;
}

/* When grant g stops: the earlier of its end and its revocation. */
static uint64_t g_end(const struct wh_grant *g)
{
	uint64_t e = g->until_ms ? g->until_ms : UINT64_MAX;
	return g->revoked_ms && g->revoked_ms < e ? g->revoked_ms : e;
}

/* Whether a grant of r allows everything g allowed. */
static int still_granted(const struct wh_roster *r, const struct wh_grant *g)
{
	for (uint32_t i = 0; r && i < r->ngrants; i++) {
		const struct wh_grant *h = &r->grants[i];
		if (!memcmp(h->key, g->key, WH_PK_BYTES) &&
		    h->role == g->role && !strcmp(h->path, g->path) &&
		    !strcmp(h->code, g->code) && !strcmp(h->dept, g->dept) &&
		    h->seq_min <= g->seq_min && h->from_ms <= g->from_ms &&
		    g_end(h) >= g_end(g))
			return 1;
	}
	return 0;
}

void wh_roster_narrowed(const struct wh_roster *old,
			const struct wh_roster *new_,
			void (*cb)(void *ctx, const uint8_t key[WH_PK_BYTES]),
			void *ctx)
{
	for (uint32_t i = 0; old && i < old->ngrants; i++)
		if (!still_granted(new_, &old->grants[i]))
			cb(ctx, old->grants[i].key);
}
