/*
 * fuzz_beacon.c: LAN discovery beacons (net/beacon.c), the UDP datagrams
 * any host on the subnet may send an agent: wh_beacon_decode checks
 * size, framing, canonical msgpack, every field's bound and the
 * signature; what decodes then goes through the replay filter.
 *
 * The fuzzer cannot forge a signature, so a second pass signs the
 * input's first n - 64 bytes with fixed key 0 (the key the seeds name)
 * in place of its last 64: the fields are then fuzzed behind a valid
 * signature, as long as the key field still names key 0.
 *
 * Checks: a decoded beacon's strings are terminated and its fields in
 * bounds; the filter admits it at its own time once and then never
 * again (a replay); one re-encoded with key 0 (when it names key 0)
 * decodes to the same beacon.
 */
#include "fuzz.h"
#include "fuzz_gen.h"

#include "beacon.h"

#include <string.h>

static struct wh_beacon_filter filter;

static void one(const uint8_t *p, size_t n)
{
	struct wh_beacon b, back;
	if (wh_beacon_decode(p, n, &b) != WH_OK)
		return;
	FUZZ_CHECK(n <= WH_BEACON_MAX);
	FUZZ_CHECK(memchr(b.path, 0, sizeof b.path) != NULL);
	FUZZ_CHECK(memchr(b.host, 0, sizeof b.host) != NULL);
	FUZZ_CHECK(b.port >= 1 && (unsigned)b.role <= WH_ROLE_OTHER);
	wh_beacon_filter_init(&filter);
	/* Time 0 lies at the empty filter's floor: never admitted. */
	FUZZ_CHECK((wh_beacon_fresh(&filter, &b, b.ms) == WH_OK) == (b.ms > 0));
	FUZZ_CHECK(wh_beacon_fresh(&filter, &b, b.ms) != WH_OK);
	if (memcmp(b.pk, fz_key(0)->pk, WH_PK_BYTES))
		return;
	struct wh_buf out = {0};
	FUZZ_CHECK(wh_beacon_encode(&b, fz_key(0), &out) == WH_OK);
	FUZZ_CHECK(wh_beacon_decode(out.p, out.len, &back) == WH_OK);
	FUZZ_CHECK(!memcmp(&b, &back, sizeof b));
	wh_buf_fini(&out);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (wh_crypto_init() != WH_OK)
		return -1;
	(void)fz_key(0);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size);
	if (size <= WH_SIG_BYTES || size > WH_BEACON_MAX)
		return 0;
	uint8_t copy[WH_BEACON_MAX];
	memcpy(copy, data, size);
	wh_key_sign(fz_key(0), copy, size - WH_SIG_BYTES,
		    copy + size - WH_SIG_BYTES);
	one(copy, size);
	return 0;
}
