/*
 * test_vectors.c: golden encodings. Ops and op files of format version 1
 * are frozen: the same draft signed by the same key must give the same
 * bytes and id forever (Ed25519 is deterministic), and the stored bytes
 * must decode to the same fields. WH_WRITE_VECTORS=1 rewrites the file,
 * which is only right when the format version changes.
 */
#include "case.h"
#include "mp.h"
#include "op.h"
#include "opfile.h"
#include "wh_test.h"

#define T0 1790000000000ull
#define NV 6

static void make(struct wh_key *k, int i, struct wh_buf *out)
{
	struct wh_op_draft d;
	const char *p = "xicheng/xinjiekou/zhaodengyu/g07";
	struct wh_buf arr = {0};
	switch (i) {
	case 0:
		wh_draft_init(&d, WH_OP_CASE_CREATE, "XJK-ZDY", 1, p);
		wh_draft_str(&d, WH_F_TITLE, "楼道堆物堵塞消防通道");
		wh_draft_str(&d, WH_F_CATEGORY, "消防隐患");
		wh_draft_uint(&d, WH_F_SOURCE, WH_SRC_PATROL);
		wh_draft_uint(&d, WH_F_PRIORITY, WH_PRI_URGENT);
		break;
	case 1:
		wh_draft_init(&d, WH_OP_CASE_STATUS, "XJK-ZDY", 1, p);
		wh_draft_uint(&d, WH_F_TO, WH_ST_IN_PROGRESS);
		wh_draft_uint(&d, WH_F_FROM, WH_ST_NEW);
		break;
	case 2:
		wh_draft_init(&d, WH_OP_CASE_NOTE, "XJK-ZDY", 1, p);
		wh_draft_str(&d, WH_F_TEXT, "已联系物业");
		break;
	case 3:
		wh_draft_init(&d, WH_OP_TAG_ADD, "XJK-ZDY", 1, p);
		wh_draft_uint(&d, WH_F_SET, WH_SET_TAGS);
		wh_draft_str(&d, WH_F_TAG, "老旧小区");
		break;
	case 4:
		wh_draft_init(&d, WH_OP_CASE_SET, "XJK-ZDY", 1, p);
		wh_mpw_int(&arr, 399412345);
		wh_mpw_int(&arr, -1163612345);
		wh_draft_array(&d, WH_F_LOCATION, arr.p, arr.len, 2);
		wh_draft_str(&d, WH_F_ADDRESS, "新街口北大街 3 号院");
		break;
	default:
		wh_draft_init(&d, WH_OP_CASE_MOVE, "XJK-ZDY", 1, p);
		wh_draft_str(&d, WH_F_NEW_PATH,
			     "xicheng/xinjiekou/sanjianfang");
		break;
	}
	d.hlc = WH_HLC_MAKE(T0 + (uint64_t)i * 1000, (unsigned)i);
	REQUIRE(wh_op_build(&d, k, out) == WH_OK);
	wh_buf_fini(&arr);
}

static char *hexdup(const uint8_t *p, size_t n)
{
	char *h = wh_xmalloc(2 * n + 1);
	wh_hex(p, n, h);
	return h;
}

int main(void)
{
	REQUIRE(wh_crypto_init() == WH_OK);
	uint8_t seed[32];
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(i + 1);
	struct wh_key *k;
	REQUIRE(wh_key_from_seed(seed, &k) == WH_OK);

	struct wh_buf ops[NV] = {{0}};
	struct wh_buf file = {0};
	struct wh_opfile_writer w;
	struct wh_opfile_hdr hdr = {.version = 1, .created_ms = T0};
	strcpy(hdr.scope, "xicheng/xinjiekou");
	memcpy(hdr.writer, k->pk, 32);
	wh_opfile_begin(&w, &file, &hdr);
	for (int i = 0; i < NV; i++) {
		make(k, i, &ops[i]);
		wh_opfile_add(&w, &file, ops[i].p, ops[i].len);
	}
	wh_opfile_end(&w, &file);

	const char *dir = getenv("WH_VECTORS");
	REQUIRE(dir != NULL);
	char path[1024];
	snprintf(path, sizeof path, "%s/ops_v1.txt", dir);

	if (getenv("WH_WRITE_VECTORS")) {
		FILE *f = fopen(path, "w");
		REQUIRE(f);
		fprintf(f, "# Whistle op format v1 golden vectors: key seed "
			   "01..20, see tests/unit/test_vectors.c\n");
		char *pk = hexdup(k->pk, 32);
		fprintf(f, "pk %s\n", pk);
		free(pk);
		for (int i = 0; i < NV; i++) {
			uint8_t id[32];
			wh_op_id(ops[i].p, ops[i].len, id);
			char *h = hexdup(ops[i].p, ops[i].len);
			char *ih = hexdup(id, 32);
			fprintf(f, "op%d %s %s\n", i, ih, h);
			free(h);
			free(ih);
		}
		char *fh = hexdup(file.p, file.len);
		fprintf(f, "file %s\n", fh);
		free(fh);
		REQUIRE(fclose(f) == 0);
		printf("wrote %s\n", path);
	}

	FILE *f = fopen(path, "r");
	REQUIRE(f);
	char line[20000];
	int seen = 0;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || !line[0])
			continue;
		char *name = strtok(line, " ");
		if (!strcmp(name, "pk")) {
			char *pk = hexdup(k->pk, 32);
			CHECK(!strcmp(strtok(NULL, " "), pk));
			free(pk);
		} else if (!strcmp(name, "file")) {
			char *fh = hexdup(file.p, file.len);
			CHECK(!strcmp(strtok(NULL, " "), fh));
			free(fh);
			seen++;
		} else {
			int i = atoi(name + 2);
			REQUIRE(i >= 0 && i < NV);
			char *idh = strtok(NULL, " ");
			char *bh = strtok(NULL, " ");
			char *want = hexdup(ops[i].p, ops[i].len);
			CHECK(!strcmp(bh, want));
			/* and the stored bytes still decode and verify */
			size_t n = strlen(bh) / 2;
			uint8_t *b = wh_xmalloc(n);
			REQUIRE(wh_unhex(bh, b, n) == WH_OK);
			struct wh_op op;
			CHECK_EQ(wh_op_decode(b, n, &op), WH_OK);
			CHECK_EQ(wh_op_verify(&op), WH_OK);
			char *ih = hexdup(op.id, 32);
			CHECK(!strcmp(ih, idh));
			free(ih);
			free(want);
			free(b);
			seen++;
		}
	}
	fclose(f);
	CHECK_EQ(seen, NV + 1);
	for (int i = 0; i < NV; i++)
		wh_buf_fini(&ops[i]);
	wh_buf_fini(&file);
	wh_key_free(k);
	return wh_test_done("test_vectors");
}
