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
#include "mkcorpus.h"
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

void mk_put(const char *target, const char *name, const void *p,
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

void mk_put_buf(const char *target, const char *name, struct wh_buf *b)
{
	mk_put(target, name, b->p, b->len);
	wh_buf_reset(b);
}

void mk_put_str(const char *target, const char *name, const char *s)
{
	mk_put(target, name, s, strlen(s));
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
		mk_put("op", name, s.p, s.n);
	}
	for (size_t i = 0; i < plist.n; i++) {
		struct wh_slice s = fz_get(&plist, i);
		snprintf(name, sizeof name, "problem-%zu", i);
		mk_put("op", name, s.p, s.n);
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
	mk_put_buf("opfile", name, &b);
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
	mk_put_buf("bundle", name, &b);
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
	mk_put_buf("beacon", name, &b);
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
		mk_put_buf("view", name, &b);
	}
	wh_case_fini(&c);
	/* A case with no ops at all (what init gives). */
	wh_case_init(&c, FZ_CODE, 2);
	wh_case_encode(&c, &b);
	mk_put_buf("view", "empty", &b);
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
	mk_put_buf("msg", "hello", &b);
	wh_msg_hello(&b, 1, 2, "xicheng", salt, 0, digest, FZ_T0_MS + 1);
	mk_put_buf("msg", "hello-v1-district", &b);
	wh_msg_digest(&b, scope, 1, story.n, digest);
	mk_put_buf("msg", "digest", &b);

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
	mk_put_buf("msg", "symbols", &b);
	wh_msg_symbols_write(&b, scope, 1, 12, syms + 12, 12);
	mk_put_buf("msg", "symbols-more", &b);
	wh_msg_more(&b, scope, 1, 24, 32);
	mk_put_buf("msg", "more", &b);
	wh_msg_want(&b, scope, 1, WH_WANT_FINAL, keys, 5);
	mk_put_buf("msg", "want", &b);
	wh_msg_want(&b, scope, 2, WH_WANT_ALL | WH_WANT_FINAL, NULL, 0);
	mk_put_buf("msg", "want-all", &b);

	bins_of(&story, 0, 3, &bins);
	wh_msg_ops_pack(&b, WH_OPS_SYNC, 3, bins.p, bins.len, NULL);
	mk_put_buf("msg", "ops", &b);
	wh_buf_reset(&bins);
	bins_of(&story, 5, 1, &bins);
	wh_msg_ops_pack(&b, WH_OPS_PUSH, 1, bins.p, bins.len, NULL);
	mk_put_buf("msg", "ops-push", &b);
	wh_buf_reset(&bins);
	/* Compressed: the whole story is well past WH_MSG_ZSTD_MIN. */
	struct wh_msg_zstd z = {0};
	bins_of(&story, 0, story.n, &bins);
	wh_msg_ops_pack(&b, WH_OPS_SYNC, (uint32_t)story.n, bins.p, bins.len,
			&z);
	struct wh_msg m;
	if (wh_msg_decode(b.p, b.len, &z, &m) || !(m.flags & WH_OPS_ZSTD))
		abort();
	mk_put_buf("msg", "ops-zstd", &b);
	wh_buf_reset(&bins);
	bins_of(&plist, 0, plist.n, &bins);
	wh_msg_ops_pack(&b, WH_OPS_PUSH, (uint32_t)plist.n, bins.p, bins.len,
			&z);
	mk_put_buf("msg", "ops-problems", &b);
	wh_msg_zstd_fini(&z);

	wh_msg_receipt(&b, fz_key(1), scope, story.n, digest, FZ_T0_MS + 2);
	mk_put_buf("msg", "receipt", &b);
	wh_msg_bye(&b, WH_MSG_BYE, 0, "bye");
	mk_put_buf("msg", "bye", &b);
	wh_msg_bye(&b, WH_MSG_ERROR, WH_EDENIED, "拒绝 denied: not trusted");
	mk_put_buf("msg", "error", &b);

	uint8_t hashes[2 * WH_ID_BYTES];
	wh_hash((const uint8_t *)"photo", 5, hashes);
	wh_hash((const uint8_t *)"other", 5, hashes + WH_ID_BYTES);
	wh_msg_blobwant(&b, scope, hashes, 2);
	mk_put_buf("msg", "blobwant", &b);
	wh_msg_blob(&b, scope, hashes, 5, 0, (const uint8_t *)"photo", 5);
	mk_put_buf("msg", "blob", &b);
	wh_msg_blob(&b, scope, hashes + WH_ID_BYTES, 10, 5,
		    (const uint8_t *)"other", 5);
	mk_put_buf("msg", "blob-part", &b);
	wh_buf_fini(&b);
	wh_buf_fini(&bins);
}

/* ---- import: CSV and JSON Lines ---- */

static void imports(void)
{
	mk_put_str("csv", "english",
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
	mk_put_str("csv", "chinese",
		"\xEF\xBB\xBF标题,描述,类别,地址,来源,优先级,反映人,联系方式,"
		"纬度,经度,网格,状态,标签,登记时间,工单号\n"
		"垃圾满溢,垃圾桶站满溢,垃圾满溢,赵登禹路,热线,高,李女士,,"
		"39.93,116.37,g01,已受理,垃圾;环境,2026-09-02,T-1\n"
		"噪声扰民,,环境污染,,巡查,普通,,,,,,,,,T-2\n"
		"\n"
		"占道经营,夜市,占道经营,,app,low,,,,,g03,new,,,T-3\n");
	mk_put_str("csv", "minimal", "title\nA\nB\n\"C\"\n");
	mk_put_str("csv", "errors",
		"title,tags\n\"unclosed,x\nok,\"a\"b\nx\"y,z\n\"a\"\"b\",c\r"
		"too,many,fields\n");

	mk_put_str("jsonl", "rows",
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
	mk_put_str("jsonl", "bom",
		"\xEF\xBB\xBF{\"title\":\"a\",\"lat\":\"39.9\",\"lon\":\"116.3\"}"
		"\r\n{\"title\":\"b\",\"extra\":1}\n{\"title\":[1]}\n[1,2]\n");
	mk_put_str("jsonl", "array", "[{\"title\":\"a\"}]\n");
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
	mk_put_str("problems", "publish", buf);
	snprintf(buf, sizeof buf, "\xEF\xBB\xBF%s停水\t水务\t水务\t30m\t1d\t"
		 "突发停水\r\n", hdr);
	mk_put_str("problems", "bom-crlf", buf);
	snprintf(buf, sizeof buf, "%sa\tb\n", hdr);
	mk_put_str("problems", "short-line", buf);

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
	mk_put_buf("problems", "ops", &b);
	wh_buf_fini(&b);
}

/* ---- emergencies and plans ---- */

static void confs(void)
{
	mk_put_str("conf", "station",
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
	mk_put_str("conf", "department", buf);
	mk_put_str("conf", "street",
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
	mk_put_str("trust", "list", buf);
	snprintf(buf, sizeof buf, "%s station a/b dup\n%s station a/b dup\n",
		 hex[0], hex[1]);
	mk_put_str("trust", "dup-name", buf);
}

static void keys(void)
{
	char name[32], hex[2 * WH_PK_BYTES + 1];
	for (unsigned i = 0; i < FZ_NKEYS; i++) {
		snprintf(name, sizeof name, "secret-%u", i);
		mk_put("key", name, fz_key(i)->sk, WH_SK_BYTES);
	}
	uint8_t bad[WH_SK_BYTES];
	memcpy(bad, fz_key(0)->sk, 32);
	memcpy(bad + 32, fz_key(1)->pk, 32);
	mk_put("key", "secret-mismatch", bad, sizeof bad);
	wh_hex(fz_key(2)->pk, WH_PK_BYTES, hex);
	mk_put_str("key", "public-hex", hex);
	mk_put("key", "public-raw", fz_key(3)->pk, WH_PK_BYTES);
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
	mk_put_buf("state", "agent-self", &b);

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
	mk_put_buf("state", "peer", &b);
	p.have_receipt = 0;
	wh_buf_append(&b, &tag, 1);
	peer_rec_encode(&p, &b);
	mk_put_buf("state", "peer-no-receipt", &b);

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
	mk_put_buf("state", "carry", &b);
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
	mk_put_buf("sync", name, &rec);
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
	mk_plans();
	confs();
	trusts();
	keys();
	states();
	mk_rosters();
	mk_seals();
	mk_webs();
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
