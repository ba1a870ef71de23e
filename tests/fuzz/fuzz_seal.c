/*
 * fuzz_seal.c: the decoders of crdt/seal.c. Key envelopes
 * (wh_seal_env_decode, wh_seal_env_open) arrive from peers as blobs and
 * from op files; sealed values (wh_seal_open) arrive inside ops. The
 * first input byte picks what the rest is:
 *
 *   0  envelope bytes, decoded and opened with a fixed reader key;
 *   1  a sealed value, opened with a fixed case key (the AEAD refuses
 *      nearly all of them: this covers the bounds before it);
 *   2  a plaintext, sealed here under the fixed case key exactly as the
 *      format says, then opened: the only way a fuzzer reaches the
 *      plaintext decoder behind the AEAD.
 *
 * Checks: a decoded envelope's entries lie inside the input; what opens
 * is valid UTF-8 within the documented size, and seals again to a value
 * that opens to the same texts.
 */
#include "fuzz.h"
#include "fuzz_gen.h"

#include "seal.h"

#include <sodium.h>
#include <string.h>

static struct wh_seal_key *case_key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (wh_crypto_init() != WH_OK || wh_seal_key_new(&case_key) != WH_OK)
		return -1;
	return 0;
}

static void envelope(const uint8_t *p, size_t n)
{
	struct wh_seal_env e;
	int rc = wh_seal_env_decode(p, n, &e);
	if (rc == WH_OK) {
		FUZZ_CHECK(e.count >= 1 && e.count <= WH_SEAL_ENV_MAX_READERS);
		FUZZ_CHECK(e.entries >= p &&
			   e.entries + (size_t)e.count * WH_SEAL_ENV_ENTRY ==
				   p + n);
		for (unsigned i = 0; i < FZ_NKEYS; i++)
			(void)wh_seal_env_holds(&e, fz_key(i)->pk);
	}
	struct wh_seal_key *k = NULL;
	int orc = wh_seal_env_open(p, n, fz_key(1), &k);
	FUZZ_CHECK((orc == WH_OK) == (k != NULL));
	if (rc != WH_OK)
		FUZZ_CHECK(orc == rc);
	if (k)
		FUZZ_CHECK(rc == WH_OK && !memcmp(k->kid, e.kid, WH_ID_BYTES));
	wh_seal_key_free(k);
}

static void opened(int rc, char *reporter, char *contact)
{
	if (rc != WH_OK) {
		FUZZ_CHECK(!reporter && !contact);
		return;
	}
	FUZZ_CHECK(reporter || contact);
	const char *t[2] = {reporter, contact};
	for (int i = 0; i < 2; i++)
		if (t[i])
			FUZZ_CHECK(strlen(t[i]) <= WH_SEAL_TEXT_MAX &&
				   wh_utf8_valid((const uint8_t *)t[i],
						 strlen(t[i])));
	struct wh_buf b = {0};
	FUZZ_CHECK(wh_seal_seal(case_key, FZ_CODE, FZ_SEQ, reporter, contact,
				&b) == WH_OK);
	FUZZ_CHECK(b.len == wh_seal_size(reporter, contact));
	char *r2 = NULL, *c2 = NULL;
	FUZZ_CHECK(wh_seal_open(case_key, FZ_CODE, FZ_SEQ, b.p, b.len, &r2,
				&c2) == WH_OK);
	FUZZ_CHECK(!reporter == !r2 && (!reporter || !strcmp(reporter, r2)));
	FUZZ_CHECK(!contact == !c2 && (!contact || !strcmp(contact, c2)));
	free(r2);
	free(c2);
	wh_buf_fini(&b);
}

static void sealed(const uint8_t *p, size_t n)
{
	char *reporter = NULL, *contact = NULL;
	int rc = wh_seal_open(case_key, FZ_CODE, FZ_SEQ, p, n, &reporter,
			      &contact);
	opened(rc, reporter, contact);
	free(reporter);
	free(contact);
}

/* The format of seal.h: nonce || AEAD(K, nonce, ad, pt), ad = label,
 * NUL, code, NUL, seq (u32 big-endian). */
static void plaintext(const uint8_t *p, size_t n)
{
	if (n > WH_SEAL_MAX_BYTES)
		return;
	static const char label[] = "whistle-sealed-v1";
	uint8_t ad[sizeof label + sizeof FZ_CODE + 4];
	size_t adn = 0;
	memcpy(ad, label, sizeof label);
	adn += sizeof label;
	memcpy(ad + adn, FZ_CODE, sizeof FZ_CODE);
	adn += sizeof FZ_CODE;
	ad[adn++] = (uint8_t)(FZ_SEQ >> 24);
	ad[adn++] = (uint8_t)(FZ_SEQ >> 16);
	ad[adn++] = (uint8_t)(FZ_SEQ >> 8);
	ad[adn++] = (uint8_t)FZ_SEQ;
	size_t vn = WH_SEAL_NONCE_BYTES + n + WH_SEAL_TAG_BYTES;
	uint8_t *v = wh_xmalloc(vn);
	memset(v, 0, WH_SEAL_NONCE_BYTES);
	unsigned long long cn = 0;
	crypto_aead_xchacha20poly1305_ietf_encrypt(
		v + WH_SEAL_NONCE_BYTES, &cn, p, n, ad, adn, NULL, v,
		case_key->k);
	FUZZ_CHECK(cn == n + WH_SEAL_TAG_BYTES);
	char *reporter = NULL, *contact = NULL;
	int rc = wh_seal_open(case_key, FZ_CODE, FZ_SEQ, v, vn, &reporter,
			      &contact);
	FUZZ_CHECK(rc != WH_EKEY || vn < WH_SEAL_MIN_BYTES ||
		   vn > WH_SEAL_MAX_BYTES);
	opened(rc, reporter, contact);
	free(reporter);
	free(contact);
	free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		envelope(data + 1, size - 1);
		break;
	case 1:
		sealed(data + 1, size - 1);
		break;
	default:
		plaintext(data + 1, size - 1);
		break;
	}
	return 0;
}
