/*
 * test_roster.c: the roster format and the authorisation rule, through a
 * real store: each refusal path with its reason (unknown author, expired
 * grant, wrong role, outside the jurisdiction, a department acting on a
 * case it was not summoned to, a revoked key after its revocation and
 * not before, a roster not signed by the authority, an older roster
 * replayed), delegation, and the purge that a revocation arriving late
 * causes.
 */
#include "roster.h"
#include "test_store_util.h"

#include <stdlib.h>
#include <string.h>

#define ZDY "xicheng/xinjiekou/zhaodengyu"
#define XIN "xicheng/xinjiekou"
#define T0 (T_NOW - 86400000ull) /* grants start a day before now */

static struct wh_key *key_new(void)
{
	struct wh_key *k;
	REQUIRE(wh_key_generate(&k) == WH_OK);
	return k;
}

static void grant(struct wh_roster *r, const struct wh_key *k,
		  const char *name, int role, const char *path,
		  const char *code, const char *dept)
{
	r->grants = wh_xrealloc(r->grants, (r->ngrants + 1) * sizeof *r->grants);
	struct wh_grant *g = &r->grants[r->ngrants++];
	memset(g, 0, sizeof *g);
	memcpy(g->key, k->pk, WH_PK_BYTES);
	snprintf(g->name, sizeof g->name, "%s", name);
	g->role = (uint8_t)role;
	snprintf(g->path, sizeof g->path, "%s", path);
	snprintf(g->code, sizeof g->code, "%s", code);
	snprintf(g->dept, sizeof g->dept, "%s", dept);
	g->from_ms = T0;
}

static struct wh_grant *find(struct wh_roster *r, const struct wh_key *k)
{
	for (uint32_t i = 0; i < r->ngrants; i++)
		if (!memcmp(r->grants[i].key, k->pk, WH_PK_BYTES))
			return &r->grants[i];
	return NULL;
}

static void build(const struct wh_roster *r, const struct wh_key *signer,
		  struct wh_buf *out)
{
	wh_buf_reset(out);
	REQUIRE(wh_roster_build(r, signer, out) == WH_OK);
}

static int put(struct wh_store *s, const struct wh_buf *b,
	       struct wh_roster_change *ch)
{
	return wh_store_roster_put(s, b->p, b->len, ch, NULL);
}

/* Ingest one op; its result code. */
static int ingest1(struct wh_store *s, const struct wh_buf *op)
{
	struct wh_slice sl = {op->p, op->len};
	struct wh_ingest_opts io = {T_NOW + 60000, NULL, 0};
	int res = 99;
	REQUIRE(wh_store_ingest(s, &sl, 1, &io, &res, NULL) == WH_OK);
	return res;
}

static void mk(struct wh_buf *out, const struct wh_key *k, uint8_t kind,
	       const char *code, uint32_t seq, const char *path,
	       uint64_t ms)
{
	struct wh_op_draft d;
	wh_draft_init(&d, kind, code, seq, path);
	switch (kind) {
	case WH_OP_CASE_CREATE:
		wh_draft_str(&d, WH_F_TITLE, "井盖缺失");
		break;
	case WH_OP_CASE_NOTE:
		wh_draft_str(&d, WH_F_TEXT, "已到场");
		break;
	case WH_OP_REPORT:
		wh_draft_str(&d, WH_F_DEPT, "chengguan");
		wh_draft_uint(&d, WH_F_STEP, 0);
		wh_draft_uint(&d, WH_F_SEEN, 0);
		break;
	case WH_OP_WHISTLE: {
		struct wh_buf a = {0};
		wh_mpw_cstr(&a, "chengguan");
		wh_draft_uint(&d, WH_F_WKIND, 0);
		wh_draft_uint(&d, WH_F_WHISTLER, 1);
		wh_draft_uint(&d, WH_F_SEEN, 0);
		wh_draft_array(&d, WH_F_DEPTS, a.p, a.len, 1);
		d.hlc = WH_HLC_MAKE(ms, 0);
		wh_buf_reset(out);
		REQUIRE(wh_op_build(&d, k, out) == WH_OK);
		wh_buf_fini(&a);
		return;
	}
	}
	d.hlc = WH_HLC_MAKE(ms, 0);
	wh_buf_reset(out);
	REQUIRE(wh_op_build(&d, k, out) == WH_OK);
}

int main(void)
{
	REQUIRE(wh_crypto_init() == WH_OK);
	char dir[512];
	t_tmpdir(dir, "roster");
	struct wh_store *s = t_open(dir, 0, 0);

	struct wh_key *auth = key_new(), *sta = key_new(), *hub = key_new(),
		      *dept = key_new(), *stranger = key_new(),
		      *dlg = key_new(), *dsta = key_new(), *forger = key_new();

	/* No authority yet: the rule is off and asked for rosters says so. */
	struct wh_buf op = {0}, rb = {0};
	mk(&op, stranger, WH_OP_CASE_CREATE, "ANY", 1, ZDY, T_NOW);
	CHECK_EQ(ingest1(s, &op), WH_OK);
	struct wh_roster_set rs;
	CHECK_EQ(wh_store_roster_set(s, &rs), WH_ENOTFOUND);

	REQUIRE(wh_store_authority_set(s, auth->pk) == WH_OK);
	CHECK_EQ(wh_store_authority_set(s, auth->pk), WH_OK);
	CHECK_EQ(wh_store_authority_set(s, stranger->pk), WH_EEXIST);

	struct wh_roster r = {0};
	snprintf(r.scope, sizeof r.scope, "xicheng");
	r.serial = 1;
	r.issued_ms = T0;
	grant(&r, sta, "zhaodengyu", WH_MROLE_STATION, ZDY, "XJK-ZDY", "");
	grant(&r, hub, "xinjiekou", WH_MROLE_STREET, XIN, "XJK", "");
	grant(&r, dept, "chengguan", WH_MROLE_DEPARTMENT, "xicheng", "",
	      "chengguan");
	grant(&r, dlg, "xinjiekou-authority", WH_MROLE_DELEGATE, XIN, "", "");
	find(&r, hub)->until_ms = T_NOW - 3600000; /* ended an hour ago */
	build(&r, auth, &rb);

	/* Not signed by the authority. */
	struct wh_buf forged = {0};
	build(&r, forger, &forged);
	CHECK_EQ(put(s, &forged, NULL), WH_EAUTHORITY);
	forged.p[forged.len - 1] ^= 1; /* and a broken signature */
	CHECK_EQ(put(s, &forged, NULL), WH_ESIG);
	CHECK_EQ(put(s, &rb, NULL), WH_OK);
	CHECK_EQ(put(s, &rb, NULL), WH_EEXIST);

	/* Each refusal, with its reason. */
	mk(&op, stranger, WH_OP_CASE_CREATE, "ANY", 2, ZDY, T_NOW);
	CHECK_EQ(ingest1(s, &op), WH_ENOMEMBER);
	mk(&op, sta, WH_OP_CASE_CREATE, "XJK-ZDY", 1, ZDY, T_NOW);
	CHECK_EQ(ingest1(s, &op), WH_OK);
	mk(&op, sta, WH_OP_CASE_CREATE, "XJK-ZDY", 2, ZDY, T0 - 1000);
	CHECK_EQ(ingest1(s, &op), WH_EEXPIRED); /* before its grant */
	mk(&op, hub, WH_OP_CASE_NOTE, "XJK-ZDY", 1, ZDY, T_NOW);
	CHECK_EQ(ingest1(s, &op), WH_EEXPIRED); /* after its grant ended */
	mk(&op, hub, WH_OP_CASE_NOTE, "XJK-ZDY", 1, ZDY, T_NOW - 7200000);
	CHECK_EQ(ingest1(s, &op), WH_OK);       /* while it held */
	mk(&op, sta, WH_OP_REPORT, "XJK-ZDY", 1, ZDY, T_NOW);
	CHECK_EQ(ingest1(s, &op), WH_EROLE);
	mk(&op, sta, WH_OP_CASE_CREATE, "XJK-ZDY", 3, XIN "/other", T_NOW);
	CHECK_EQ(ingest1(s, &op), WH_EJURIS);
	mk(&op, sta, WH_OP_CASE_CREATE, "XJK-XXX", 3, ZDY, T_NOW);
	CHECK_EQ(ingest1(s, &op), WH_EJURIS); /* not its case-id code */
	mk(&op, dept, WH_OP_REPORT, "XJK-ZDY", 1, ZDY, T_NOW + 1);
	CHECK_EQ(ingest1(s, &op), WH_ESUMMON);
	struct wh_buf report = {0};
	wh_buf_append(&report, op.p, op.len);
	mk(&op, sta, WH_OP_WHISTLE, "XJK-ZDY", 1, ZDY, T_NOW);
	struct wh_buf whistle = {0};
	wh_buf_append(&whistle, op.p, op.len);
	CHECK_EQ(ingest1(s, &whistle), WH_OK);
	CHECK_EQ(ingest1(s, &report), WH_OK); /* summoned now */

	/* The same rule on creation: the store will not author it. */
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_CASE_NOTE, "XJK-ZDY", 1, ZDY);
	wh_draft_str(&d, WH_F_TEXT, "x");
	uint64_t now = T_NOW;
	CHECK_EQ(wh_store_author(s, stranger, &d, 1, t_clock, &now, NULL,
				 NULL),
		 WH_ENOMEMBER);

	/* Delegation: the street's authority grants its own station. */
	struct wh_roster dr = {0};
	snprintf(dr.scope, sizeof dr.scope, "%s", XIN);
	dr.serial = 1;
	dr.issued_ms = T0;
	grant(&dr, dsta, "xisi", WH_MROLE_STATION, XIN "/xisi", "XJK-XS", "");
	grant(&dr, forger, "bad", WH_MROLE_DISTRICT, XIN, "", "");
	struct wh_buf drb = {0};
	build(&dr, dlg, &drb);
	CHECK_EQ(put(s, &drb, NULL), WH_ESCOPE); /* no district grants */
	dr.ngrants = 1;
	build(&dr, dlg, &drb);
	CHECK_EQ(put(s, &drb, NULL), WH_OK);
	mk(&op, dsta, WH_OP_CASE_CREATE, "XJK-XS", 1, XIN "/xisi", T_NOW);
	CHECK_EQ(ingest1(s, &op), WH_OK);
	snprintf(dr.scope, sizeof dr.scope, "xicheng"); /* beyond its own */
	dr.serial = 2;
	build(&dr, dlg, &drb);
	CHECK_EQ(put(s, &drb, NULL), WH_EAUTHORITY);

	/* Revocation, arriving after the stolen PC wrote: its ops from
	 * the revocation on are dropped with what stood on them, its
	 * earlier ones stay. */
	uint64_t rev = T_NOW + 1000;
	mk(&op, sta, WH_OP_CASE_NOTE, "XJK-ZDY", 1, ZDY, rev - 1);
	CHECK_EQ(ingest1(s, &op), WH_OK);
	mk(&op, sta, WH_OP_CASE_CREATE, "XJK-ZDY", 7, ZDY, rev + 5);
	CHECK_EQ(ingest1(s, &op), WH_OK);
	mk(&op, sta, WH_OP_WHISTLE, "XJK-ZDY", 7, ZDY, rev + 6);
	CHECK_EQ(ingest1(s, &op), WH_OK);
	mk(&op, dept, WH_OP_REPORT, "XJK-ZDY", 7, ZDY, rev + 7);
	CHECK_EQ(ingest1(s, &op), WH_OK);
	struct wh_buf late = {0};
	wh_buf_append(&late, op.p, op.len);
	struct wh_store_info before, after;
	REQUIRE(wh_store_info(s, &before) == WH_OK);

	struct wh_buf old = {0};
	wh_buf_append(&old, rb.p, rb.len);
	r.serial = 2;
	find(&r, sta)->revoked_ms = rev;
	build(&r, auth, &rb);
	struct wh_roster_change ch;
	CHECK_EQ(put(s, &rb, &ch), WH_OK);
	CHECK_EQ(ch.purged, 3); /* the create, its whistle, the report */
	REQUIRE(wh_store_info(s, &after) == WH_OK);
	CHECK_EQ(after.ops, before.ops - 3);
	struct wh_case c;
	CHECK_EQ(wh_store_case_get(s, "XJK-ZDY", 7, &c), WH_ENOTFOUND);
	CHECK_EQ(wh_store_case_get(s, "XJK-ZDY", 1, &c), WH_OK);
	wh_case_fini(&c);
	CHECK_EQ(ingest1(s, &late), WH_ESUMMON);
	mk(&op, sta, WH_OP_CASE_NOTE, "XJK-ZDY", 1, ZDY, rev);
	CHECK_EQ(ingest1(s, &op), WH_EREVOKED);
	mk(&op, sta, WH_OP_CASE_NOTE, "XJK-ZDY", 1, ZDY, rev - 2);
	CHECK_EQ(ingest1(s, &op), WH_OK); /* before it: still valid */

	/* The old roster replayed cannot bring the key back. */
	CHECK_EQ(put(s, &old, NULL), WH_EOLD);
	mk(&op, sta, WH_OP_CASE_NOTE, "XJK-ZDY", 1, ZDY, rev + 100);
	CHECK_EQ(ingest1(s, &op), WH_EREVOKED);

	/* The store after the purge equals one that never saw the
	 * dropped ops: rebuild changes nothing. */
	struct t_state st1 = t_state_of(s);
	REQUIRE(wh_store_rebuild(s) == WH_OK);
	struct t_state st2 = t_state_of(s);
	CHECK(!memcmp(st1.views, st2.views, 32));
	CHECK(!memcmp(st1.root, st2.root, 32));

	/* Held rosters come back, the authority's first. */
	REQUIRE(wh_store_roster_set(s, &rs) == WH_OK);
	CHECK_EQ(rs.root.serial, 2);
	CHECK_EQ(rs.ndel, 1);
	CHECK(wh_roster_member_now(&rs, hub->pk, T_NOW, NULL) == 0);
	CHECK(wh_roster_member_now(&rs, dsta->pk, T_NOW, NULL) == 1);
	CHECK(wh_roster_member_now(&rs, sta->pk, rev + 1, NULL) == 0);
	wh_roster_set_fini(&rs);

	/* A replacement key (authority replace): its grant's seq_min is
	 * where the store starts its case numbers, above the old key's. */
	struct wh_key *rep = key_new();
	r.serial = 3;
	grant(&r, rep, "zhaodengyu-2", WH_MROLE_STATION, ZDY, "XJK-ZDY", "");
	find(&r, rep)->seq_min = 100001;
	build(&r, auth, &rb);
	CHECK_EQ(put(s, &rb, NULL), WH_OK);
	wh_draft_init(&d, WH_OP_CASE_CREATE, "XJK-ZDY", 0, ZDY);
	wh_draft_str(&d, WH_F_TITLE, "x");
	now = T_NOW + 5000;
	CHECK_EQ(wh_store_author(s, rep, &d, 1, t_clock, &now, NULL, NULL),
		 WH_OK);
	CHECK_EQ(d.seq, 100001);
	wh_draft_init(&d, WH_OP_CASE_CREATE, "XJK-ZDY", 0, ZDY);
	wh_draft_str(&d, WH_F_TITLE, "y");
	CHECK_EQ(wh_store_author(s, rep, &d, 1, t_clock, &now, NULL, NULL),
		 WH_OK);
	CHECK_EQ(d.seq, 100002);
	wh_key_free(rep);

	/* Decoder bounds: every truncation of a valid roster fails. */
	for (size_t n = 0; n < rb.len; n++) {
		struct wh_roster t;
		CHECK(wh_roster_decode(rb.p, n, &t) != WH_OK);
		wh_roster_fini(&t);
	}

	wh_buf_fini(&op);
	wh_buf_fini(&rb);
	wh_buf_fini(&forged);
	wh_buf_fini(&drb);
	wh_buf_fini(&report);
	wh_buf_fini(&whistle);
	wh_buf_fini(&late);
	wh_buf_fini(&old);
	wh_roster_fini(&r);
	wh_roster_fini(&dr);
	struct wh_key *keys[] = {auth, sta, hub, dept, stranger, dlg, dsta,
				 forger};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		wh_key_free(keys[i]);
	wh_store_close(s);
	t_rmdir(dir);
	return wh_test_done("test_roster");
}
