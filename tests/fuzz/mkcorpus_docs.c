/*
 * mkcorpus_docs.c: seeds of the signed documents (emergency plans and
 * their ops, rosters), of sealed personal data and of the web console's
 * input, for mkcorpus (mkcorpus.h).
 */
#include "mkcorpus.h"

#include "emergency.h"
#include "fuzz_gen.h"
#include "mp.h"
#include "roster.h"
#include "seal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char plan_text[] =
	"# 新街口街道防汛应急预案\n"
	"[plan]\n"
	"number = 1\n"
	"title = 新街口街道防汛应急预案\n"
	"rule = extend 24h\n"
	"text = 暴雨红色预警时启动\n"
	"\n"
	"[task basement]\n"
	"area = xicheng/xinjiekou\n"
	"title = 排查地下室住户\n"
	"category = 防汛\n"
	"within = 2h\n"
	"team = 社区应急小分队\n"
	"contact = 王队长 13800000000\n"
	"text = 逐户敲门, 劝离地下室住户\n"
	"\n"
	"[任务 shelter]\n"
	"范围 = xicheng/xinjiekou/zhaodengyu\n"
	"标题 = 开放避难场所\n"
	"时限 = 4h\n"
	"; a comment of the other kind\n"
	"[task elderly]\n"
	"area = xicheng/xinjiekou\n"
	"title = 统计独居老人\n";

void mk_plans(void)
{
	char buf[4096];
	mk_put_str("plan", "file", plan_text);
	snprintf(buf, sizeof buf,
		 "\xEF\xBB\xBF[预案]\r\n编号 = 7\r\n标题 = 消防应急预案\r\n"
		 "规则 = 暂停\r\n[任务 a]\r\n范围 = xicheng\r\n标题 = 疏散\r\n");
	mk_put_str("plan", "bom-crlf-zh", buf);
	mk_put_str("plan", "bad-key",
		"[plan]\nnumber = 1\ntitle = x\n[task t]\narea = xicheng\n"
		"titel = y\n");
	mk_put_str("plan", "dup-task",
		"[plan]\nnumber = 1\ntitle = x\n[task t]\narea = a\n"
		"title = y\n[task t]\narea = a\ntitle = z\n");

	/* Ops: a 0 byte, then each op as a 2-byte length and its bytes. */
	struct fz_ops o = {0};
	struct wh_op_draft d;
	uint64_t ms = FZ_T0_MS;
	wh_draft_init(&d, WH_OP_PLAN_SET, "~EP-XJK", 1, "xicheng/xinjiekou");
	wh_draft_str(&d, WH_F_TITLE, "防汛应急预案");
	fz_add(&o, &d, 0, WH_HLC_MAKE(ms, 0));
	wh_draft_init(&d, WH_OP_PLAN_TASK, "~EP-XJK", 1, "xicheng/xinjiekou");
	wh_draft_str(&d, WH_F_TASK, "basement");
	wh_draft_str(&d, WH_F_AREA, "xicheng/xinjiekou");
	wh_draft_str(&d, WH_F_TITLE, "排查地下室住户");
	wh_draft_str(&d, WH_F_TEAM, "社区应急小分队");
	wh_draft_uint(&d, WH_F_WITHIN_MS, 7200000);
	fz_add(&o, &d, 0, WH_HLC_MAKE(ms + 1, 0));
	wh_draft_init(&d, WH_OP_PLAN_TASK_DEL, "~EP-XJK", 1,
		      "xicheng/xinjiekou");
	wh_draft_str(&d, WH_F_TASK, "shelter");
	fz_add(&o, &d, 0, WH_HLC_MAKE(ms + 2, 0));
	wh_draft_init(&d, WH_OP_EMERGENCY, "~EM-XJK", 1, "xicheng/xinjiekou");
	wh_draft_uint(&d, WH_F_START_MS, ms + 3600000);
	wh_draft_str(&d, WH_F_PLAN, "~EP-XJK");
	wh_draft_uint(&d, WH_F_PLAN_SEQ, 1);
	wh_draft_str(&d, WH_F_TITLE, "暴雨");
	size_t i_decl = fz_add(&o, &d, 0, WH_HLC_MAKE(ms + 3, 0));
	wh_draft_init(&d, WH_OP_EMERGENCY, "~EM-XJK", 1, "xicheng/xinjiekou");
	wh_draft_uint(&d, WH_F_START_MS, ms + 3600000);
	wh_draft_uint(&d, WH_F_END_MS, ms + 9 * 3600000ull);
	wh_draft_uint(&d, WH_F_RULE, WH_EM_EXTEND);
	wh_draft_uint(&d, WH_F_EXTEND_MS, 86400000);
	fz_add(&o, &d, 0, WH_HLC_MAKE(ms + 4, 0));
	wh_draft_init(&d, WH_OP_EMERGENCY_END, "~EM-XJK", 1,
		      "xicheng/xinjiekou");
	wh_draft_uint(&d, WH_F_END_MS, ms + 5 * 3600000ull);
	fz_add(&o, &d, 1, WH_HLC_MAKE(ms + 5, 0));
	wh_draft_init(&d, WH_OP_EMERGENCY, "~EM-XC", 2, "xicheng");
	wh_draft_uint(&d, WH_F_START_MS, ms);
	fz_add(&o, &d, 1, WH_HLC_MAKE(ms + 6, 0));
	struct wh_buf b = {0};
	uint8_t sel = 0;
	wh_buf_append(&b, &sel, 1);
	for (size_t i = 0; i < o.n; i++) {
		struct wh_slice sl = fz_get(&o, i);
		uint8_t len[2] = {(uint8_t)(sl.n >> 8), (uint8_t)sl.n};
		wh_buf_append(&b, len, 2);
		wh_buf_append(&b, sl.p, sl.n);
		char name[32];
		snprintf(name, sizeof name, "doc-%02zu", i);
		mk_put("op", name, sl.p, sl.n);
	}
	mk_put_buf("plan", "ops", &b);
	/* A stored record: the emergency folded from its three ops. */
	struct wh_emergency e;
	wh_em_init(&e, "~EM-XJK", 1);
	for (size_t i = i_decl; i < i_decl + 3; i++) {
		struct wh_slice sl = fz_get(&o, i);
		struct wh_op op;
		if (wh_op_decode(sl.p, sl.n, &op) || wh_em_apply(&e, &op, NULL))
			abort();
	}
	sel = 1;
	wh_buf_append(&b, &sel, 1);
	wh_em_encode(&e, &b);
	mk_put_buf("plan", "record", &b);
	wh_buf_fini(&b);
	fz_fini(&o);
}

/* ---- whistle.conf, trust, keys ---- */

/* ---- roster, seal ---- */

static void grant(struct wh_roster *r, unsigned key, const char *name,
		  unsigned role, const char *path, const char *code,
		  const char *dept)
{
	r->grants = wh_xrealloc(r->grants, (r->ngrants + 1) * sizeof *r->grants);
	struct wh_grant *g = &r->grants[r->ngrants++];
	memset(g, 0, sizeof *g);
	memcpy(g->key, fz_key(key)->pk, WH_PK_BYTES);
	snprintf(g->name, sizeof g->name, "%s", name);
	g->role = (uint8_t)role;
	snprintf(g->path, sizeof g->path, "%s", path);
	snprintf(g->code, sizeof g->code, "%s", code);
	snprintf(g->dept, sizeof g->dept, "%s", dept);
	g->from_ms = FZ_T0_MS - 86400000ull;
}

static void put_roster(const char *name, struct wh_roster *r, unsigned signer)
{
	struct wh_buf b = {0};
	if (wh_roster_build(r, fz_key(signer), &b))
		abort();
	mk_put_buf("roster", name, &b);
	wh_buf_fini(&b);
}

/* Signed by fz_key(0) as the authority, so fuzz_roster's set takes them
 * and authorises the story ops against their grants. */
void mk_rosters(void)
{
	struct wh_roster r;
	memset(&r, 0, sizeof r);
	snprintf(r.scope, sizeof r.scope, "xicheng");
	r.serial = 1;
	r.issued_ms = FZ_T0_MS - 86400000ull;
	put_roster("empty", &r, 0);
	grant(&r, 0, "新街口街道", WH_MROLE_STREET, "xicheng/xinjiekou", "", "");
	grant(&r, 1, "赵登禹社区", WH_MROLE_STATION, FZ_PATH, FZ_CODE, "");
	grant(&r, 2, "城管", WH_MROLE_DEPARTMENT, "xicheng", "", "城管");
	grant(&r, 3, "住建", WH_MROLE_DEPARTMENT, "xicheng", "", "住建");
	r.serial = 2;
	put_roster("members", &r, 0);
	r.grants[1].revoked_ms = FZ_T0_MS + 3600000ull;
	r.grants[3].until_ms = FZ_T0_MS;
	snprintf(r.grants[2].path, sizeof r.grants[2].path, "dongcheng");
	r.serial = 3;
	put_roster("revoked", &r, 0);
	r.grants[0].role = WH_MROLE_DELEGATE;
	r.grants[1].seq_min = 100;
	r.serial = 4;
	put_roster("delegate", &r, 0);
	wh_roster_fini(&r);
}

static void put_mode(const char *name, uint8_t mode, const void *p, size_t n)
{
	uint8_t *b = wh_xmalloc(n + 1);
	b[0] = mode;
	memcpy(b + 1, p, n);
	mk_put("seal", name, b, n + 1);
	free(b);
}

/* Envelopes and sealed values carry fresh randomness (sealed boxes'
 * ephemeral keys, nonces, the case key), so unlike the other seeds
 * these differ on every run of mkcorpus: harmless, they are inputs. */
void mk_seals(void)
{
	struct wh_seal_key *k;
	struct wh_buf b = {0};
	uint8_t readers[FZ_NKEYS][WH_PK_BYTES];
	if (wh_seal_key_new(&k))
		abort();
	for (unsigned i = 0; i < FZ_NKEYS; i++)
		memcpy(readers[i], fz_key(i)->pk, WH_PK_BYTES);
	if (wh_seal_env_build(k, (const uint8_t(*)[WH_PK_BYTES])readers,
			      FZ_NKEYS, &b))
		abort();
	put_mode("env-4", 0, b.p, b.len);
	wh_buf_reset(&b);
	if (wh_seal_env_build(k, (const uint8_t(*)[WH_PK_BYTES])readers + 1,
			      1, &b))
		abort();
	put_mode("env-1", 0, b.p, b.len);
	wh_buf_reset(&b);
	if (wh_seal_seal(k, FZ_CODE, FZ_SEQ, "张三", "13800000000", &b))
		abort();
	put_mode("sealed", 1, b.p, b.len);
	wh_buf_reset(&b);
	/* Plaintexts: the map the format names, and near misses. */
	wh_mpw_map(&b, 2);
	wh_mpw_uint(&b, WH_F_REPORTER);
	wh_mpw_cstr(&b, "张三");
	wh_mpw_uint(&b, WH_F_CONTACT);
	wh_mpw_cstr(&b, "13800000000");
	put_mode("pt-both", 2, b.p, b.len);
	wh_buf_reset(&b);
	wh_mpw_map(&b, 1);
	wh_mpw_uint(&b, WH_F_CONTACT);
	wh_mpw_cstr(&b, "13800000000");
	put_mode("pt-contact", 2, b.p, b.len);
	wh_buf_reset(&b);
	wh_mpw_map(&b, 2);
	wh_mpw_uint(&b, WH_F_CONTACT);
	wh_mpw_cstr(&b, "x");
	wh_mpw_uint(&b, WH_F_REPORTER);
	wh_mpw_cstr(&b, "y");
	put_mode("pt-unordered", 2, b.p, b.len);
	wh_buf_fini(&b);
	wh_seal_key_free(k);
}

/* ---- the web console (fuzz_web: first byte picks the decoder) ---- */

static void web_seed(const char *name, char which, const char *s)
{
	char buf[2048];
	buf[0] = which;
	size_t n = strlen(s);
	memcpy(buf + 1, s, n);
	mk_put("web", name, buf, n + 1);
}

void mk_webs(void)
{
	web_seed("login", 0, "{\"user\":\"王芳\",\"password\":\"secret-pass\"}");
	web_seed("case", 1,
		 "{\"title\":\"楼道堆物堵塞消防通道\",\"category\":\"楼道堆物\","
		 "\"grid\":\"g07\",\"source\":\"patrol\",\"priority\":\"urgent\","
		 "\"address\":\"赵登禹路 12 号院\",\"reporter\":\"王女士\","
		 "\"contact\":\"138\",\"lat\":\"39.93\",\"lon\":\"116.36\","
		 "\"tags\":[\"消防\",\"老旧小区\"],\"ref\":null}");
	web_seed("triage", 2, "{\"step\":\"triage\",\"level\":\"big\","
			      "\"reason\":\"涉及城管\"}");
	web_seed("whistle", 2,
		 "{\"step\":\"whistle\",\"dept\":[\"城管\",\"住建\"],"
		 "\"lead\":\"城管\",\"kind\":\"assemble\",\"as\":\"street\","
		 "\"report_within\":\"2h\",\"resolve_within\":\"7d\","
		 "\"text\":\"请到场\"}");
	web_seed("report", 2, "{\"step\":\"report\",\"dept\":\"城管\","
			      "\"report_step\":\"onsite\",\"text\":\"已到\"}");
	web_seed("rate", 2, "{\"step\":\"rate\",\"score\":4,\"dept\":\"城管\","
			    "\"comment\":\"及时\"}");
	web_seed("reopen", 2, "{\"step\":\"reopen\",\"by\":\"resident\","
			      "\"reason\":\"又堆了\"}");
	web_seed("feedback", 2, "{\"step\":\"feedback\",\"text\":\"已告知\","
				"\"channel\":\"phone\"}");
	web_seed("users", 3,
		 "# accounts\n王芳 staff $argon2id$v=19$m=65536,t=2,p=1$"
		 "hwS35uJCBLKzAzUiHC3Trw$pR6FW06sOzP9GKoO6IPc2I/AKmdsJUHMIfZ1VFbNGUY\n"
		 "li viewer $argon2id$v=19$m=65536,t=2,p=1$"
		 "hwS35uJCBLKzAzUiHC3Trw$pR6FW06sOzP9GKoO6IPc2I/AKmdsJUHMIfZ1VFbNGUY\n");
	static const char hdr[] =
		"\x04" "a=1; wh_session=00112233445566778899aabbccddeeff00112233"
		"445566778899aabbccddeeff; b=2\0localhost:7480\0停车";
	mk_put("web", "headers", hdr, sizeof hdr - 1);
}
