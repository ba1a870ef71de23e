/*
 * wh_mkloop.c: write the fixed loop history of tests/loop_data.h (seven
 * cases: triage, whistles, reports, ratings, a cancel, a reopen) as an
 * op file for `whistle import`, so the scenario test checks `whistle
 * stats` against the same hand-computed figures as tests/unit/
 * test_stats.c, before the CLI can author loop steps itself.
 *
 * usage: wh_mkloop OUT [KEYFILE]
 *
 * KEYFILE is a station's key.secret (64 bytes); without it a fresh key
 * signs. For the same key the file is the same bytes (Ed25519 signs
 * deterministically; stamps and the header's time are fixed). Prints LD_NOW,
 * the "now" the figures are computed for, on stdout. Exit 0, 1 on failure, 2 on
 * usage errors.
 */
#include "key.h"
#include "loop_data.h"
#include "op.h"
#include "opfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct out {
	const struct wh_key *key;
	struct wh_opfile_writer w;
	struct wh_buf file, op;
	int err;
};

static void emit(void *ctx, const struct wh_op_draft *d)
{
	struct out *o = ctx;
	wh_buf_reset(&o->op);
	int rc = wh_op_build(d, o->key, &o->op);
	if (rc) {
		fprintf(stderr, "wh_mkloop: %s-%u: %s\n", d->code, d->seq,
			wh_strerror(rc));
		o->err = 1;
		return;
	}
	wh_opfile_add(&o->w, &o->file, o->op.p, o->op.len);
}

static struct wh_key *load_key(const char *file)
{
	uint8_t sk[WH_SK_BYTES];
	struct wh_key *k = NULL;
	FILE *f = fopen(file, "rb");
	size_t n = f ? fread(sk, 1, sizeof sk, f) : 0;
	if (f)
		fclose(f);
	if (n != sizeof sk || wh_key_from_secret(sk, &k) != WH_OK) {
		fprintf(stderr, "wh_mkloop: %s: not a 64-byte key file\n",
			file);
		exit(1);
	}
	return k;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: wh_mkloop OUT [KEYFILE]\n");
		return 2;
	}
	if (wh_crypto_init() != WH_OK)
		return 1;
	struct wh_key *key = NULL;
	if (argc == 3)
		key = load_key(argv[2]);
	else if (wh_key_generate(&key) != WH_OK)
		return 1;
	struct out o = {.key = key};
	struct wh_opfile_hdr hdr = {.version = WH_OPFILE_VERSION,
				    .created_ms = LD_NOW};
	memcpy(hdr.writer, key->pk, WH_PK_BYTES);
	wh_opfile_begin(&o.w, &o.file, &hdr);
	ld_build(emit, &o, 1);
	wh_opfile_end(&o.w, &o.file);
	FILE *f = o.err ? NULL : fopen(argv[1], "wb");
	int bad = !f || fwrite(o.file.p, 1, o.file.len, f) != o.file.len;
	if (f && fclose(f))
		bad = 1;
	if (bad && !o.err)
		fprintf(stderr, "wh_mkloop: cannot write %s\n", argv[1]);
	wh_buf_fini(&o.file);
	wh_buf_fini(&o.op);
	wh_key_free(key);
	if (bad)
		return 1;
	printf("%llu\n", (unsigned long long)LD_NOW);
	return 0;
}
