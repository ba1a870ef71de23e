/*
 * mkcorpus.c: writes the seed corpora of the fuzz targets,
 * DIR/<target>/seed-*, small valid inputs of every kind each decoder
 * takes: `mkcorpus tests/fuzz/corpus` (docs/fuzzing.md). Deterministic:
 * keys come from fixed seeds, Ed25519 signs deterministically and every
 * time and salt is fixed, so running it again rewrites the same bytes.
 * It only writes seed-* files: crash-* inputs kept beside them stay.
 */
#include "agent_self.h"
#include "beacon.h"
#include "carry.h"
#include "emergency.h"
#include "fuzz_gen.h"
#include "fuzz_syncio.h"
#include "mp.h"
#include "msg.h"
#include "opfile.h"
#include "problems.h"
#include "riblt.h"
#include "roster.h"
#include "seal.h"
#include "syncio.h"
#include "trust.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *root;
static unsigned written;

static void mkdir_p(const char *dir)
{
	if (mkdir(dir, 0755) && errno != EEXIST) {
		perror(dir);
		exit(1);
	}
}

static void put(const char *target, const char *name, const void *p,
		size_t n)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", root, target);
	mkdir_p(path);
	snprintf(path, sizeof path, "%s/%s/seed-%s", root, target, name);
	FILE *f = fopen(path, "wb");
	if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f)) {
		perror(path);
		exit(1);
	}
	written++;
}

static void put_buf(const char *target, const char *name, struct wh_buf *b)
{
	put(target, name, b->p, b->len);
	wh_buf_reset(b);
}

static void put_str(const char *target, const char *name, const char *s)
{
	put(target, name, s, strlen(s));
}

static struct fz_ops story, plist;

/* ---- op, opfile, view ---- */

static void ops(void)
{
	char name[64];
	for (size_t i = 0; i < story.n; i++) {
		struct wh_slice s = fz_get(&story, i);
		struct wh_op op;
		if (wh_op_decode(s.p, s.n, &op))
			abort();
		snprintf(name, sizeof name, "%02zu-%s", i,
			 wh_op_kind_name(op.kind));
		put("op", name, s.p, s.n);
	}
	for (size_t i = 0; i < plist.n; i++) {
		struct wh_slice s = fz_get(&plist, i);
		snprintf(name, sizeof name, "problem-%zu", i);
		put("op", name, s.p, s.n);
	}
}

static void opfile(const char *name, const struct fz_ops *o,
		   const char *scope, unsigned writer)
{
	struct wh_opfile_hdr hdr;
	struct wh_opfile_writer w;
	struct wh_buf b = {0};
	memset(&hdr, 0, sizeof hdr);
	hdr.version = WH_OPFILE_VERSION;
	hdr.created_ms = FZ_T0_MS + 86400000ull;
	snprintf(hdr.scope, sizeof hdr.scope, "%s", scope);
	memcpy(hdr.writer, fz_key(writer)->pk, WH_PK_BYTES);
	wh_opfile_begin(&w, &b, &hdr);
	for (size_t i = 0; o && i < o->n; i++) {
		struct wh_slice s = fz_get(o, i);
		wh_opfile_add(&w, &b, s.p, s.n);
	}
	wh_opfile_end(&w, &b);
	put_buf("opfile", name, &b);
	wh_buf_fini(&b);
}

/* ---- bundle (op file version 2), beacon ---- */

/* A small signed roster: the authority (key 0) grants key 1 a station. */
static void roster_bytes(struct wh_buf *out)
{
	struct wh_grant g;
	memset(&g, 0, sizeof g);
	memcpy(g.key, fz_key(1)->pk, WH_PK_BYTES);
	strcpy(g.name, "zhaodengyu");
	g.role = WH_MROLE_STATION;
	strcpy(g.path, FZ_PATH);
	strcpy(g.code, FZ_CODE);
	g.from_ms = FZ_T0_MS - 86400000ull;
	struct wh_roster r;
	memset(&r, 0, sizeof r);
	strcpy(r.scope, "xicheng");
	r.serial = 1;
	r.issued_ms = FZ_T0_MS - 86400000ull;
	r.ngrants = 1;
	r.grants = &g;
	if (wh_roster_build(&r, fz_key(0), out))
		abort();
}

static void bundle(const char *name, const struct fz_ops *o, int extras)
{
	struct wh_opfile_hdr hdr;
	struct wh_opfile_writer w;
	struct wh_buf b = {0}, ro = {0};
	memset(&hdr, 0, sizeof hdr);
	hdr.version = WH_OPFILE_BUNDLE;
	hdr.created_ms = FZ_T0_MS + 86400000ull;
	strcpy(hdr.scope, "xicheng");
	memcpy(hdr.writer, fz_key(1)->pk, WH_PK_BYTES);
	strcpy(hdr.writer_path, FZ_PATH);
	hdr.has_for = extras;
	memcpy(hdr.for_pk, fz_key(0)->pk, WH_PK_BYTES);
	hdr.since_ms = extras ? FZ_T0_MS : 0;
	hdr.max_bytes = extras ? 1u << 20 : 0;
	hdr.has_base = 1;
	hdr.base_count = o ? o->n : 0;
	memset(hdr.base_digest, 0x5c, WH_ID_BYTES);
	hdr.left_out = extras ? 2 : 0;
	hdr.cases = o && o->n ? 1 : 0;
	wh_opfile_begin(&w, &b, &hdr);
	if (extras) {
		roster_bytes(&ro);
		wh_opfile_add_rec(&w, &b, WH_OPREC_ROSTER, ro.p, ro.len);
	}
	for (size_t i = 0; o && i < o->n; i++) {
		struct wh_slice s = fz_get(o, i);
		wh_opfile_add(&w, &b, s.p, s.n);
	}
	if (extras) {
		uint8_t photo[600];
		for (size_t i = 0; i < sizeof photo; i++)
			photo[i] = (uint8_t)(i * 31);
		wh_opfile_add_rec(&w, &b, WH_OPREC_BLOB, photo, sizeof photo);
	}
	wh_opfile_end_signed(&w, &b, fz_key(1));
	put_buf("bundle", name, &b);
	wh_buf_fini(&b);
	wh_buf_fini(&ro);
}

static void beacon(const char *name, enum wh_role role, const char *path,
		   uint16_t port, const char *host)
{
	struct wh_beacon bc;
	memset(&bc, 0, sizeof bc);
	memcpy(bc.pk, fz_key(0)->pk, WH_PK_BYTES);
	bc.ms = FZ_T0_MS;
	memset(bc.nonce, 0x3c, sizeof bc.nonce);
	bc.role = role;
	snprintf(bc.path, sizeof bc.path, "%s", path);
	bc.port = port;
	snprintf(bc.host, sizeof bc.host, "%s", host);
	struct wh_buf b = {0};
	if (wh_beacon_encode(&bc, fz_key(0), &b))
		abort();
	put_buf("beacon", name, &b);
	wh_buf_fini(&b);
}

static void beacons(void)
{
	beacon("station", WH_ROLE_STATION, FZ_PATH, 7420, "");
	beacon("street-ipv4", WH_ROLE_STREET, "xicheng/xinjiekou", 7420,
	       "10.214.0.2");
	beacon("other-ipv6", WH_ROLE_OTHER, "xicheng", 65535, "fe80::1");
	beacon("long-path", WH_ROLE_DISTRICT,
	       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2/"
	       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa3/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa4/"
	       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa5/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa6",
	       1, "station-pc.local");
}

static void views(void)
{
	struct wh_case c;
	struct wh_buf b = {0};
	char name[32];
	wh_case_init(&c, FZ_CODE, FZ_SEQ);
	for (size_t i = 0; i < story.n; i++) {
		struct wh_slice s = fz_get(&story, i);
		struct wh_op op;
		enum wh_apply how;
		if (wh_op_decode(s.p, s.n, &op) ||
		    wh_case_apply(&c, &op, &how))
			abort();
		wh_case_encode(&c, &b);
		snprintf(name, sizeof name, "after-%02zu", i);
		put_buf("view", name, &b);
	}
	wh_case_fini(&c);
	/* A case with no ops at all (what init gives). */
	wh_case_init(&c, FZ_CODE, 2);
	wh_case_encode(&c, &b);
	put_buf("view", "empty", &b);
	wh_case_fini(&c);
	wh_buf_fini(&b);
}

/* ---- msg ---- */

static void bins_of(const struct fz_ops *o, size_t from, size_t n,
		    struct wh_buf *bins)
{
	for (size_t i = from; i < from + n; i++) {
		struct wh_slice s = fz_get(o, i);
		wh_msg_ops_add(bins, s.p, s.n);
	}
}

static void msgs(void)
{
	struct wh_buf b = {0}, bins = {0};
	uint8_t salt[WH_MSG_SALT_BYTES], digest[WH_ID_BYTES];
	memset(salt, 0x5a, sizeof salt);
	wh_hash((const uint8_t *)"digest", 6, digest);
	const char *scope = FZ_PATH;

	wh_msg_hello(&b, 3, 0, FZ_PATH, salt, story.n, digest, FZ_T0_MS);
	put_buf("msg", "hello", &b);
	wh_msg_hello(&b, 1, 2, "xicheng", salt, 0, digest, FZ_T0_MS + 1);
	put_buf("msg", "hello-v1-district", &b);
	wh_msg_digest(&b, scope, 1, story.n, digest);
	put_buf("msg", "digest", &b);

	uint64_t keys[40];
	for (size_t i = 0; i < 40; i++)
		keys[i] = 0x9e3779b97f4a7c15ull * (i + 1);
	struct wh_riblt_enc *enc;
	struct wh_riblt_sym syms[24];
	if (wh_riblt_enc_new(keys, 40, &enc))
		abort();
	wh_riblt_enc_next(enc, syms, 24);
	wh_riblt_enc_free(enc);
	wh_msg_symbols_write(&b, scope, 1, 0, syms, 12);
	put_buf("msg", "symbols", &b);
	wh_msg_symbols_write(&b, scope, 1, 12, syms + 12, 12);
	put_buf("msg", "symbols-more", &b);
	wh_msg_more(&b, scope, 1, 24, 32);
	put_buf("msg", "more", &b);
	wh_msg_want(&b, scope, 1, WH_WANT_FINAL, keys, 5);
	put_buf("msg", "want", &b);
	wh_msg_want(&b, scope, 2, WH_WANT_ALL | WH_WANT_FINAL, NULL, 0);
	put_buf("msg", "want-all", &b);

	bins_of(&story, 0, 3, &bins);
	wh_msg_ops_pack(&b, WH_OPS_SYNC, 3, bins.p, bins.len, NULL);
	put_buf("msg", "ops", &b);
	wh_buf_reset(&bins);
	bins_of(&story, 5, 1, &bins);
	wh_msg_ops_pack(&b, WH_OPS_PUSH, 1, bins.p, bins.len, NULL);
	put_buf("msg", "ops-push", &b);
	wh_buf_reset(&bins);
	/* Compressed: the whole story is well past WH_MSG_ZSTD_MIN. */
	struct wh_msg_zstd z = {0};
	bins_of(&story, 0, story.n, &bins);
	wh_msg_ops_pack(&b, WH_OPS_SYNC, (uint32_t)story.n, bins.p, bins.len,
			&z);
	struct wh_msg m;
	if (wh_msg_decode(b.p, b.len, &z, &m) || !(m.flags & WH_OPS_ZSTD))
		abort();
	put_buf("msg", "ops-zstd", &b);
	wh_buf_reset(&bins);
	bins_of(&plist, 0, plist.n, &bins);
	wh_msg_ops_pack(&b, WH_OPS_PUSH, (uint32_t)plist.n, bins.p, bins.len,
			&z);
	put_buf("msg", "ops-problems", &b);
	wh_msg_zstd_fini(&z);

	wh_msg_receipt(&b, fz_key(1), scope, story.n, digest, FZ_T0_MS + 2);
	put_buf("msg", "receipt", &b);
	wh_msg_bye(&b, WH_MSG_BYE, 0, "bye");
	put_buf("msg", "bye", &b);
	wh_msg_bye(&b, WH_MSG_ERROR, WH_EDENIED, "拒绝 denied: not trusted");
	put_buf("msg", "error", &b);

	uint8_t hashes[2 * WH_ID_BYTES];
	wh_hash((const uint8_t *)"photo", 5, hashes);
	wh_hash((const uint8_t *)"other", 5, hashes + WH_ID_BYTES);
	wh_msg_blobwant(&b, scope, hashes, 2);
	put_buf("msg", "blobwant", &b);
	wh_msg_blob(&b, scope, hashes, 5, 0, (const uint8_t *)"photo", 5);
	put_buf("msg", "blob", &b);
	wh_msg_blob(&b, scope, hashes + WH_ID_BYTES, 10, 5,
		    (const uint8_t *)"other", 5);
	put_buf("msg", "blob-part", &b);
	wh_buf_fini(&b);
	wh_buf_fini(&bins);
}

/* ---- import: CSV and JSON Lines ---- */

static void imports(void)
{
	put_str("csv", "english",
		"id,external_ref,title,description,category,address,source,"
		"priority,reporter,contact,lat,lon,grid,path,status,tags,"
		"created\r\n"
		",12345-2026-000777,路灯不亮,\"夜间路灯不亮, \"\"三天\"\"了\r\n"
		"第二行\",市政,西四北大街,12345,high,张先生,139-0000-0000,"
		"39.9390000,116.3720000,g07,,accepted,\"照明,夜间\",2026-09-01 "
		"08:00\r\n"
		"FZ-000001,,,,,,,urgent,,,,,,,in_progress,消防；老旧小区,\r\n"
		",12345-2026-000123,楼道堆物,,,,,,,,,,,xicheng/xinjiekou/"
		"zhaodengyu/g02,,,\r\n");
	put_str("csv", "chinese",
		"\xEF\xBB\xBF标题,描述,类别,地址,来源,优先级,反映人,联系方式,"
		"纬度,经度,网格,状态,标签,登记时间,工单号\n"
		"垃圾满溢,垃圾桶站满溢,垃圾满溢,赵登禹路,热线,高,李女士,,"
		"39.93,116.37,g01,已受理,垃圾;环境,2026-09-02,T-1\n"
		"噪声扰民,,环境污染,,巡查,普通,,,,,,,,,T-2\n"
		"\n"
		"占道经营,夜市,占道经营,,app,low,,,,,g03,new,,,T-3\n");
	put_str("csv", "minimal", "title\nA\nB\n\"C\"\n");
	put_str("csv", "errors",
		"title,tags\n\"unclosed,x\nok,\"a\"b\nx\"y,z\n\"a\"\"b\",c\r"
		"too,many,fields\n");

	put_str("jsonl", "rows",
		"{\"title\":\"路灯不亮\",\"external_ref\":\"12345-2026-000777\","
		"\"description\":\"夜间\\n路灯不亮\",\"source\":\"12345\","
		"\"priority\":\"high\",\"lat\":39.939,\"lon\":116.372,"
		"\"grid\":\"g07\",\"tags\":[\"照明\",\"夜间\"],"
		"\"status\":\"accepted\",\"created\":\"2026-09-01 08:00\"}\n"
		"{\"id\":\"FZ-000001\",\"priority\":\"urgent\",\"tags\":\"消防;"
		"老旧小区\",\"reporter\":null}\n"
		"\n"
		"{\"工单号\":12345,\"标题\":\"噪声扰民\",\"路径\":\"xicheng/"
		"xinjiekou/zhaodengyu\"}\n");
	put_str("jsonl", "bom",
		"\xEF\xBB\xBF{\"title\":\"a\",\"lat\":\"39.9\",\"lon\":\"116.3\"}"
		"\r\n{\"title\":\"b\",\"extra\":1}\n{\"title\":[1]}\n[1,2]\n");
	put_str("jsonl", "array", "[{\"title\":\"a\"}]\n");
}

/* ---- problem lists ---- */

static void problems(void)
{
	static const char hdr[] = "category\tlead\tdepartments\treport_within"
				  "\tresolve_within\ttext\n";
	char buf[2048];
	snprintf(buf, sizeof buf,
		 "%s楼道堆物\t消防\t消防,城管,住建\t24h\t7d\t楼道、消防通道堆放"
		 "杂物；社区先劝导\n"
		 "居住停车\t交通\t交通，公安、城管\t24h\t15d\t老旧小区停车难\n"
		 "# a comment\n\n"
		 "煤改电\t住建\t住建, 供电公司 \t2h\t24h\t\n"
		 "垃圾满溢\t城管\t\t\t\t\n",
		 hdr);
	put_str("problems", "publish", buf);
	snprintf(buf, sizeof buf, "\xEF\xBB\xBF%s停水\t水务\t水务\t30m\t1d\t"
		 "突发停水\r\n", hdr);
	put_str("problems", "bom-crlf", buf);
	snprintf(buf, sizeof buf, "%sa\tb\n", hdr);
	put_str("problems", "short-line", buf);

	/* Ops: a 0 byte, then each op as a 2-byte length and its bytes. */
	struct wh_buf b = {0};
	uint8_t zero = 0;
	wh_buf_append(&b, &zero, 1);
	for (size_t i = 0; i < plist.n; i++) {
		struct wh_slice s = fz_get(&plist, i);
		uint8_t len[2] = {(uint8_t)(s.n >> 8), (uint8_t)s.n};
		wh_buf_append(&b, len, 2);
		wh_buf_append(&b, s.p, s.n);
	}
	put_buf("problems", "ops", &b);
	wh_buf_fini(&b);
}

/* ---- emergencies and plans ---- */

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

static void plans(void)
{
	char buf[4096];
	put_str("plan", "file", plan_text);
	snprintf(buf, sizeof buf,
		 "\xEF\xBB\xBF[预案]\r\n编号 = 7\r\n标题 = 消防应急预案\r\n"
		 "规则 = 暂停\r\n[任务 a]\r\n范围 = xicheng\r\n标题 = 疏散\r\n");
	put_str("plan", "bom-crlf-zh", buf);
	put_str("plan", "bad-key",
		"[plan]\nnumber = 1\ntitle = x\n[task t]\narea = xicheng\n"
		"titel = y\n");
	put_str("plan", "dup-task",
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
		put("op", name, sl.p, sl.n);
	}
	put_buf("plan", "ops", &b);
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
	put_buf("plan", "record", &b);
	wh_buf_fini(&b);
	fz_fini(&o);
}

/* ---- whistle.conf, trust, keys ---- */

static void confs(void)
{
	put_str("conf", "station",
		"# whistle station configuration\n"
		"station = zhaodengyu\ncode = XJK-ZDY\n"
		"path = xicheng/xinjiekou/zhaodengyu\nname = 赵登禹社区\n"
		"role = station\nlisten = tcp://0.0.0.0:7420\n"
		"peer = street\npeer = tcp://10.0.0.2:7420\n"
		"sync_interval = 30\nlog_level = debug\n"
		"budget = street 20MiB/h\nbudget = district 512 KiB/h\n"
		"budget = street lots/h\n");
	char hex[2 * WH_PK_BYTES + 1], buf[1024];
	/* fuzz_conf trusts the keys of seeds 0x61, 0x62. */
	uint8_t seed[32];
	struct wh_key *k;
	memset(seed, 0x62, sizeof seed);
	if (wh_key_from_seed(seed, &k))
		abort();
	wh_hex(k->pk, WH_PK_BYTES, hex);
	wh_key_free(k);
	snprintf(buf, sizeof buf,
		 "station=dept\r\ncode=CG\r\npath=xicheng\r\nrole=department\r\n"
		 "department=城管\r\npeer = %s@tcp://[::1]:7421\r\n"
		 "unknown_key = kept for later\r\n",
		 hex);
	put_str("conf", "department", buf);
	put_str("conf", "street",
		"\tstation =  xinjiekou \ncode = XJK\npath = xicheng/xinjiekou\n"
		"role = street\nlisten = tcp://*:7420\npeer = district\n");
}

static void trusts(void)
{
	char buf[2048], hex[FZ_NKEYS][2 * WH_PK_BYTES + 1];
	for (unsigned i = 0; i < FZ_NKEYS; i++)
		wh_hex(fz_key(i)->pk, WH_PK_BYTES, hex[i]);
	snprintf(buf, sizeof buf,
		 "# whistle trust list\n"
		 "%s street xicheng/xinjiekou street tcp://10.0.0.2:7420\n"
		 "%s station xicheng/xinjiekou/zhaodengyu zdy\n"
		 "\n"
		 "  %s district xicheng district.hub tcp://[fe80::1]:7420\n"
		 "%s\tother\txicheng/xinjiekou\tcg-laptop\ttcp://*:1\r\n",
		 hex[0], hex[1], hex[2], hex[3]);
	put_str("trust", "list", buf);
	snprintf(buf, sizeof buf, "%s station a/b dup\n%s station a/b dup\n",
		 hex[0], hex[1]);
	put_str("trust", "dup-name", buf);
}

static void keys(void)
{
	char name[32], hex[2 * WH_PK_BYTES + 1];
	for (unsigned i = 0; i < FZ_NKEYS; i++) {
		snprintf(name, sizeof name, "secret-%u", i);
		put("key", name, fz_key(i)->sk, WH_SK_BYTES);
	}
	uint8_t bad[WH_SK_BYTES];
	memcpy(bad, fz_key(0)->sk, 32);
	memcpy(bad + 32, fz_key(1)->pk, 32);
	put("key", "secret-mismatch", bad, sizeof bad);
	wh_hex(fz_key(2)->pk, WH_PK_BYTES, hex);
	put_str("key", "public-hex", hex);
	put("key", "public-raw", fz_key(3)->pk, WH_PK_BYTES);
}

/* ---- state records ---- */

static void states(void)
{
	struct wh_buf b = {0};
	uint8_t tag = 0;
	struct agent_self r;
	memset(&r, 0, sizeof r);
	r.pid = 4242;
	r.started_ms = FZ_T0_MS;
	r.updated_ms = FZ_T0_MS + 1000;
	r.interval = 30;
	strcpy(r.log_level, "info");
	strcpy(r.listen[r.nlisten++], "tcp://0.0.0.0:7420");
	strcpy(r.listen[r.nlisten++], "tcp://[::]:7421");
	strcpy(r.dial[0].name, "street");
	memcpy(r.dial[0].pk, fz_key(0)->pk, WH_PK_BYTES);
	strcpy(r.dial[0].endpoint, "tcp://10.0.0.2:7420");
	r.ndial = 1;
	wh_buf_append(&b, &tag, 1);
	agent_self_encode(&r, &b);
	put_buf("state", "agent-self", &b);

	struct peer_rec p;
	memset(&p, 0, sizeof p);
	strcpy(p.name, "street");
	strcpy(p.path, "xicheng/xinjiekou");
	strcpy(p.role, "street");
	strcpy(p.endpoint, "tcp://10.0.0.2:7420");
	strcpy(p.scope, FZ_PATH);
	p.connected = p.outbound = p.in_sync = 1;
	p.at_ms = FZ_T0_MS;
	p.local_count = p.peer_count = 29;
	p.sent = 3;
	p.rounds = 2;
	p.have_receipt = 1;
	memset(p.receipt_digest, 0xab, WH_ID_BYTES);
	p.receipt_ms = FZ_T0_MS + 5;
	tag = 1;
	wh_buf_append(&b, &tag, 1);
	peer_rec_encode(&p, &b);
	put_buf("state", "peer", &b);
	p.have_receipt = 0;
	wh_buf_append(&b, &tag, 1);
	peer_rec_encode(&p, &b);
	put_buf("state", "peer-no-receipt", &b);

	struct carry_peer k;
	memset(&k, 0, sizeof k);
	strcpy(k.k[0].scope, FZ_PATH);
	k.k[0].pos = 29;
	k.k[0].at_ms = FZ_T0_MS;
	strcpy(k.k[0].how, "sync");
	strcpy(k.k[1].scope, "xicheng");
	k.k[1].pos = 1000;
	k.k[1].at_ms = FZ_T0_MS + 60000;
	strcpy(k.k[1].how, "bundle");
	k.n = 2;
	tag = 2;
	wh_buf_append(&b, &tag, 1);
	carry_peer_encode(&k, &b);
	put_buf("state", "carry", &b);
	wh_buf_fini(&b);
}

/* ---- sync: what a real peer says ---- */

struct mq {
	struct wh_buf *m;
	size_t n, cap;
};

static void mq_push(void *ctx, const uint8_t *p, size_t n)
{
	struct mq *q = ctx;
	if (q->n == q->cap) {
		q->cap = q->cap ? 2 * q->cap : 64;
		q->m = wh_xrealloc(q->m, q->cap * sizeof *q->m);
	}
	memset(&q->m[q->n], 0, sizeof q->m[0]);
	wh_buf_append(&q->m[q->n++], p, n);
}

static void mq_clear(struct mq *q)
{
	for (size_t i = 0; i < q->n; i++)
		wh_buf_fini(&q->m[i]);
	q->n = 0;
}

/* Deliver q to s (node n), a tick and a second after each; what went
 * to the station under test is also appended to rec. */
static void deliver(struct mq *q, struct wh_sync *s, struct fz_node *n,
		    struct wh_buf *rec)
{
	for (size_t i = 0; i < q->n; i++) {
		const struct wh_buf *m = &q->m[i];
		if (rec) {
			uint8_t len[4] = {(uint8_t)(m->len >> 24),
					  (uint8_t)(m->len >> 16),
					  (uint8_t)(m->len >> 8),
					  (uint8_t)m->len};
			wh_buf_append(rec, len, 4);
			wh_buf_append(rec, m->p, m->len);
		}
		if (wh_sync_recv(s, m->p, m->len) != WH_OK)
			abort();
		n->now_ms += 1000;
		(void)wh_sync_tick(s);
	}
	mq_clear(q);
}

/* A real sync between the station of fuzz_sync (offering proto, 0:
 * the newest) and its peer; the peer's messages, as fuzz_sync reads
 * them, are the seed. */
static void transcript(const char *name, uint32_t proto, int street)
{
	struct fz_node a, b;
	struct wh_sync *sa, *sb;
	struct mq to_a = {0}, to_b = {0};
	struct wh_buf rec = {0};
	uint8_t cfg = (uint8_t)(proto | (street ? 4 : 0));
	wh_buf_append(&rec, &cfg, 1);
	fz_node_station(&a, street, &story, &plist);
	fz_node_peer(&b, street, &story);
	a.on_send = mq_push;
	a.send_ctx = &to_b;
	b.on_send = mq_push;
	b.send_ctx = &to_a;
	if (fz_node_session(&a, proto, b.key, &sa) ||
	    fz_node_session(&b, 0, a.key, &sb) || wh_sync_start(sa) ||
	    wh_sync_start(sb))
		abort();
	for (int i = 0; i < 64 && (to_a.n || to_b.n); i++) {
		deliver(&to_a, sa, &a, &rec);
		deliver(&to_b, sb, &b, NULL);
	}
	struct wh_sync_state st;
	wh_sync_get_state(sa, &st);
	if (!st.in_sync || !a.have_photo != (proto == 1 || proto == 2)) {
		fprintf(stderr, "mkcorpus: sync %s did not converge\n", name);
		exit(1);
	}
	put_buf("sync", name, &rec);
	wh_buf_fini(&rec);
	mq_clear(&to_a);
	mq_clear(&to_b);
	free(to_a.m);
	free(to_b.m);
	wh_sync_free(sa);
	wh_sync_free(sb);
	fz_node_fini(&a);
	fz_node_fini(&b);
}

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
	put_buf("roster", name, &b);
	wh_buf_fini(&b);
}

/* Signed by fz_key(0) as the authority, so fuzz_roster's set takes them
 * and authorises the story ops against their grants. */
static void rosters(void)
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
	put("seal", name, b, n + 1);
	free(b);
}

/* Envelopes and sealed values carry fresh randomness (sealed boxes'
 * ephemeral keys, nonces, the case key), so unlike the other seeds
 * these differ on every run of mkcorpus: harmless, they are inputs. */
static void seals(void)
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

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkcorpus DIR (e.g. tests/fuzz/corpus)\n");
		return 2;
	}
	root = argv[1];
	mkdir_p(root);
	if (wh_crypto_init())
		return 1;
	fz_story(&story, FZ_T0_MS);
	fz_problem_ops(&plist, FZ_T0_MS);
	ops();
	opfile("story", &story, "", 1);
	opfile("problems", &plist, "xicheng", 0);
	opfile("empty", NULL, FZ_PATH, 2);
	bundle("story", &story, 1);
	bundle("problems", &plist, 0);
	bundle("empty", NULL, 0);
	beacons();
	views();
	msgs();
	imports();
	problems();
	plans();
	confs();
	trusts();
	keys();
	states();
	rosters();
	seals();
	transcript("station", 0, 0);
	transcript("station-v1", 1, 0);
	transcript("street", 0, 1);
	transcript("street-v2", 2, 1);
	fz_fini(&story);
	fz_fini(&plist);
	fz_keys_free();
	printf("mkcorpus: %u seeds in %s\n", written, root);
	return 0;
}
