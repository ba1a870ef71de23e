/*
 * fuzz_bundle.c: bundles, op file version 2 (crdt/opfile.c), what
 * `whistle bundle apply` and `bundle show` read from a USB stick:
 * wh_opfile_open checks magic, header, every record's framing (bins and
 * typed [kind, bin] records), count, checksum and the writer's
 * signature; then, as apply does, every record is walked with
 * wh_opfile_next_rec and each payload handed to its own decoder (ops
 * decoded and verified, rosters decoded, content hashed).
 *
 * The fuzzer cannot forge a signature, so a second pass makes the
 * trailer right for a copy of the input whose header and records parse:
 * count, checksum, and a signature by fixed key 1 (the writer the seeds
 * name). Header fields and records are then fuzzed behind a valid
 * trailer, as long as the header still names key 1.
 *
 * Checks: an open file yields exactly its count of records, as many of
 * each kind as the reader says, each payload inside the input and
 * within its kind's bound; a failed open says where (an offset within
 * the input); the header's strings are terminated.
 */
#include "fuzz.h"
#include "fuzz_gen.h"

#include "mp.h"
#include "op.h"
#include "opfile.h"
#include "roster.h"

#include <string.h>

static void walk(const uint8_t *p, size_t n)
{
	struct wh_opfile_hdr hdr;
	struct wh_opfile_reader rd;
	size_t off = 0;
	int rc = wh_opfile_open(p, n, &hdr, &rd, &off);
	FUZZ_CHECK(off <= n);
	if (rc != WH_OK)
		return;
	FUZZ_CHECK(hdr.version == WH_OPFILE_VERSION ||
		   hdr.version == WH_OPFILE_BUNDLE);
	FUZZ_CHECK(memchr(hdr.scope, 0, sizeof hdr.scope) != NULL);
	FUZZ_CHECK(memchr(hdr.writer_path, 0, sizeof hdr.writer_path) != NULL);
	FUZZ_CHECK(rd.nops + rd.nrosters + rd.nblobs == rd.count);
	enum wh_oprec kind;
	struct wh_slice s;
	uint64_t k = 0, nops = 0, nrost = 0, nblob = 0;
	size_t last = 0;
	while (wh_opfile_next_rec(&rd, &kind, &s, &off)) {
		FUZZ_CHECK(off > last && off < n);
		FUZZ_CHECK(s.p > p && s.p + s.n <= p + n);
		last = off;
		k++;
		if (kind == WH_OPREC_OP) {
			nops++;
			FUZZ_CHECK(s.n <= WH_OP_MAX_BYTES);
			struct wh_op op;
			if (wh_op_decode(s.p, s.n, &op) == WH_OK)
				(void)wh_op_verify(&op);
		} else if (kind == WH_OPREC_ROSTER) {
			nrost++;
			FUZZ_CHECK(s.n >= 1 && s.n <= WH_OPFILE_ROSTER_MAX);
			struct wh_roster r;
			(void)wh_roster_decode(s.p, s.n, &r);
			wh_roster_fini(&r);
		} else {
			FUZZ_CHECK(kind == WH_OPREC_BLOB);
			FUZZ_CHECK(s.n >= 1 && s.n <= WH_OPFILE_BLOB_MAX);
			nblob++;
			uint8_t h[WH_ID_BYTES];
			wh_hash(s.p, s.n, h);
		}
	}
	FUZZ_CHECK(k == rd.count && nops == rd.nops && nrost == rd.nrosters &&
		   nblob == rd.nblobs);
	/* Ops only: as many as the walk of every record saw. */
	FUZZ_CHECK(wh_opfile_open(p, n, &hdr, &rd, &off) == WH_OK);
	uint64_t o = 0;
	while (wh_opfile_next(&rd, &s, &off))
		o++;
	FUZZ_CHECK(o == nops);
}

/* A copy of p with its trailer made right and signed by key 1, if magic,
 * header and records parse; 0 otherwise. */
static size_t fix_trailer(const uint8_t *p, size_t n, struct wh_buf *out)
{
	if (n < WH_OPFILE_MAGIC_LEN ||
	    memcmp(p, WH_OPFILE_MAGIC, WH_OPFILE_MAGIC_LEN))
		return 0;
	struct wh_mp r;
	wh_mp_init(&r, p + WH_OPFILE_MAGIC_LEN, n - WH_OPFILE_MAGIC_LEN);
	if (wh_mp_skip(&r, 8) != WH_OK)
		return 0;
	uint64_t count = 0;
	for (;;) {
		struct wh_mp c = r;
		struct wh_slice s;
		uint32_t an;
		if (wh_mp_peek(&r) == WH_MP_BIN) {
			if (wh_mp_read_bin(&r, &s, WH_OP_MAX_BYTES) != WH_OK)
				break;
		} else if (wh_mp_read_array(&c, &an, 16) == WH_OK && an == 2) {
			if (wh_mp_skip(&r, 2) != WH_OK)
				break;
		} else {
			break;
		}
		count++;
	}
	size_t body = (size_t)(r.p - p);
	uint8_t msg[WH_OPFILE_SIGCTX_LEN + WH_ID_BYTES], sig[WH_SIG_BYTES];
	memcpy(msg, WH_OPFILE_SIGCTX, WH_OPFILE_SIGCTX_LEN);
	wh_hash(p, body, msg + WH_OPFILE_SIGCTX_LEN);
	wh_key_sign(fz_key(1), msg, sizeof msg, sig);
	wh_buf_append(out, p, body);
	wh_mpw_array(out, 3);
	wh_mpw_uint(out, count);
	wh_mpw_bin(out, msg + WH_OPFILE_SIGCTX_LEN, WH_ID_BYTES);
	wh_mpw_bin(out, sig, WH_SIG_BYTES);
	return out->len;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (wh_crypto_init() != WH_OK)
		return -1;
	(void)fz_key(1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	walk(data, size);
	struct wh_buf fixed = {0};
	if (fix_trailer(data, size, &fixed))
		walk(fixed.p, fixed.len);
	wh_buf_fini(&fixed);
	return 0;
}
