/*
 * fuzz_key.c: key material from outside.
 *
 *   - HOME/key.secret: 64 raw bytes (libsodium's seed || public key),
 *     loaded by agent/home.c through wh_key_from_secret (crdt/key.c),
 *     which must refuse a file whose halves disagree (such a key would
 *     sign as someone else than it claims). The loader refuses any
 *     other size before reading, and so does this target.
 *   - a public key as people paste it (trust file, `peer = KEYHEX@...`,
 *     `trust add`): 64 hex digits naming an Ed25519 point that has a
 *     CURVE twin (agent/trust.c trust_key_parse, net's wh_net_curve_pk).
 *
 * Checks: a secret that loads is the key of its seed (the same public
 * half as wh_key_from_seed) and what it signs verifies; a parsed public
 * key is the input's own hex, lower case.
 */
#include "fuzz.h"

#include "trust.h"

#include <string.h>

static void secret(const uint8_t *data)
{
	struct wh_key *k, *s;
	if (wh_key_from_secret(data, &k) != WH_OK)
		return;
	FUZZ_CHECK(!memcmp(k->pk, data + 32, WH_PK_BYTES));
	FUZZ_CHECK(wh_key_from_seed(data, &s) == WH_OK);
	FUZZ_CHECK(!memcmp(k->pk, s->pk, WH_PK_BYTES));
	uint8_t sig[WH_SIG_BYTES];
	static const uint8_t msg[] = "whistle";
	wh_key_sign(k, msg, sizeof msg, sig);
	FUZZ_CHECK(wh_sig_verify(k->pk, msg, sizeof msg, sig) == WH_OK);
	wh_key_free(s);
	wh_key_free(k);
}

static void public_hex(const uint8_t *data, size_t size)
{
	char hex[2 * WH_PK_BYTES + 2], again[2 * WH_PK_BYTES + 1];
	uint8_t pk[WH_PK_BYTES];
	if (size > sizeof hex - 1)
		return;
	memcpy(hex, data, size);
	hex[size] = '\0';
	if (trust_key_parse(hex, pk) != WH_OK)
		return;
	wh_hex(pk, WH_PK_BYTES, again);
	FUZZ_CHECK(!strcmp(hex, again));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return wh_crypto_init() == WH_OK ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == WH_SK_BYTES)
		secret(data);
	if (size == WH_PK_BYTES) {
		uint8_t curve[32];
		(void)wh_net_curve_pk(data, curve);
	}
	public_hex(data, size);
	return 0;
}
