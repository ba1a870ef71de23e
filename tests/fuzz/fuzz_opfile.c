/*
 * fuzz_opfile.c: op files (crdt/opfile.c), what `whistle import` reads
 * from a USB stick: wh_opfile_open checks magic, header, records and
 * trailer; then, as the import does, every record is walked with
 * wh_opfile_next and each op decoded and verified.
 *
 * The fuzzer rarely gets a checksum right, so a second pass puts the
 * trailer right (count and BLAKE2b of what precedes it) on a copy of
 * the input whose records parse, and opens that too: the header and
 * records are then fuzzed behind a valid checksum.
 *
 * Checks: an open file yields exactly its count of records, in order,
 * each inside the input; a failed open says where (an offset within
 * the input).
 */
#include "fuzz.h"

#include "mp.h"
#include "op.h"
#include "opfile.h"

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
	FUZZ_CHECK(strlen(hdr.scope) < sizeof hdr.scope);
	struct wh_slice s;
	uint64_t k = 0;
	size_t last = 0;
	while (wh_opfile_next(&rd, &s, &off)) {
		FUZZ_CHECK(off > last && off < n);
		FUZZ_CHECK(s.p > p && s.p + s.n <= p + n);
		last = off;
		k++;
		struct wh_op op;
		if (wh_op_decode(s.p, s.n, &op) == WH_OK)
			(void)wh_op_verify(&op);
	}
	FUZZ_CHECK(k == rd.count);
}

/* A copy of p whose trailer is made right, if magic, header and
 * records parse; 0 if they do not. */
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
	struct wh_slice s;
	while (wh_mp_peek(&r) == WH_MP_BIN &&
	       wh_mp_read_bin(&r, &s, WH_OP_MAX_BYTES) == WH_OK)
		count++;
	size_t body = (size_t)(r.p - p);
	uint8_t sum[WH_ID_BYTES];
	wh_hash(p, body, sum);
	wh_buf_append(out, p, body);
	wh_mpw_array(out, 2);
	wh_mpw_uint(out, count);
	wh_mpw_bin(out, sum, WH_ID_BYTES);
	return out->len;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return wh_crypto_init() == WH_OK ? 0 : -1;
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
