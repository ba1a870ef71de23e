/*
 * fuzz_import.c: the station and store of the import targets
 * (fuzz_import.h).
 */
#include "fuzz_import.h"

#include "fuzz.h"
#include "fuzz_gen.h"

#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cli fuzz_imp_cli;
static char dir[64];

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void cleanup(void)
{
	wh_store_close(fuzz_imp_cli.store);
	fuzz_imp_cli.store = NULL;
	wh_key_free(fuzz_imp_cli.key);
	fuzz_imp_cli.key = NULL;
	if (dir[0])
		nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

int fuzz_imp_init(void)
{
	if (wh_crypto_init() != WH_OK)
		return -1;
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%.40s/whfuzz-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("fuzz: mkdtemp");
		return -1;
	}
	atexit(cleanup);
	struct cli *c = &fuzz_imp_cli;
	struct wh_store_opts so = {.map_size = 8u << 20, .nosync = 1};
	if (wh_store_open(dir, &so, &c->store) != WH_OK)
		return -1;
	/* A row with a reporter is sealed to the station's own key and
	 * the trust list's readers (none: the home has no trust file). */
	c->home = dir;
	if (wh_key_generate(&c->key) != WH_OK)
		return -1;
	strcpy(c->conf.station, "zhaodengyu");
	strcpy(c->conf.code, FZ_CODE);
	strcpy(c->conf.path, FZ_PATH);
	strcpy(c->conf.role, "station");
	c->cmd = "case import";
	/* The cases rows may name: the first two ops of the story (its
	 * create carries external_ref 12345-2026-000123), a second case
	 * with the same reference (so a row naming it is ambiguous) and a
	 * third with its own. */
	struct fz_ops o = {0};
	fz_story(&o, FZ_T0_MS);
	static const char *const refs[] = {"12345-2026-000123", "T-1"};
	for (uint32_t seq = 2; seq <= 3; seq++) {
		struct wh_op_draft d;
		wh_draft_init(&d, WH_OP_CASE_CREATE, FZ_CODE, seq, FZ_PATH);
		wh_draft_str(&d, WH_F_TITLE, "imported before");
		wh_draft_str(&d, WH_F_EXTREF, refs[seq - 2]);
		fz_add(&o, &d, 1, WH_HLC_MAKE(FZ_T0_MS + seq, 0));
	}
	struct wh_slice ops[4] = {fz_get(&o, 0), fz_get(&o, 1),
				  fz_get(&o, o.n - 2), fz_get(&o, o.n - 1)};
	struct wh_ingest_opts io = {.now_ms = FZ_T0_MS + 3600000ull};
	struct wh_ingest_result res;
	int rc = wh_store_ingest(c->store, ops, 4, &io, NULL, &res);
	fz_fini(&o);
	return rc == WH_OK && res.added == 4 ? 0 : -1;
}

void fuzz_imp_row(struct imp_plan *p, const struct imp_row *r)
{
	char why[IMP_WHY_MAX];
	struct imp_vals v;
	int rc = imp_row_check(r, &fuzz_imp_cli.conf, &v, why, sizeof why);
	if (rc == WH_OK) {
		/* A dry run decides and probes; only a store failure (none
		 * here: nothing is written) is negative. */
		rc = imp_plan_row(p, r, &v, why, sizeof why);
		FUZZ_CHECK(rc >= 0);
		FUZZ_CHECK(p->nd == 0); /* nothing queued in a dry run */
	} else {
		FUZZ_CHECK(rc == WH_EINVAL && why[0]);
	}
	imp_vals_fini(&v);
}
