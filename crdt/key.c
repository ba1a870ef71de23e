/*
 * key.c: Ed25519 keys, signatures and BLAKE2b through libsodium.
 */
#include "key.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int wh_crypto_init(void)
{
	return sodium_init() < 0 ? WH_EINVAL : WH_OK;
}

static struct wh_key *key_alloc(void)
{
	struct wh_key *k = wh_xcalloc(1, sizeof *k);
	k->sk = sodium_malloc(WH_SK_BYTES);
	if (!k->sk) {
		fprintf(stderr, "whistle: cannot allocate secure memory\n");
		abort();
	}
	return k;
}

int wh_key_generate(struct wh_key **out)
{
	struct wh_key *k = key_alloc();
	crypto_sign_keypair(k->pk, k->sk);
	*out = k;
	return WH_OK;
}

int wh_key_from_secret(const uint8_t sk[WH_SK_BYTES], struct wh_key **out)
{
	struct wh_key *k = key_alloc();
	uint8_t pk[WH_PK_BYTES];
	memcpy(k->sk, sk, WH_SK_BYTES);
	/* Recompute the public half from the seed: a file whose two halves
	 * disagree would sign as someone else than it claims to be. */
	if (crypto_sign_ed25519_sk_to_pk(pk, k->sk) != 0 ||
	    sodium_memcmp(pk, sk + 32, WH_PK_BYTES) != 0) {
		wh_key_free(k);
		return WH_EKEY;
	}
	uint8_t seed[32], pk2[32];
	crypto_sign_ed25519_sk_to_seed(seed, k->sk);
	uint8_t *sk2 = sodium_malloc(WH_SK_BYTES);
	if (!sk2)
		abort();
	crypto_sign_seed_keypair(pk2, sk2, seed);
	int same = sodium_memcmp(pk2, pk, 32) == 0;
	sodium_memzero(seed, sizeof seed);
	sodium_free(sk2);
	if (!same) {
		wh_key_free(k);
		return WH_EKEY;
	}
	memcpy(k->pk, pk, WH_PK_BYTES);
	*out = k;
	return WH_OK;
}

int wh_key_from_seed(const uint8_t seed[32], struct wh_key **out)
{
	struct wh_key *k = key_alloc();
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
	*out = k;
	return WH_OK;
}

void wh_key_free(struct wh_key *key)
{
	if (!key)
		return;
	sodium_free(key->sk); /* wipes */
	free(key);
}

void wh_key_sign(const struct wh_key *key, const uint8_t *msg, size_t n,
		 uint8_t sig[WH_SIG_BYTES])
{
	crypto_sign_detached(sig, NULL, msg, n, key->sk);
}

int wh_sig_verify(const uint8_t pk[WH_PK_BYTES], const uint8_t *msg,
		  size_t n, const uint8_t sig[WH_SIG_BYTES])
{
	return crypto_sign_verify_detached(sig, msg, n, pk) == 0 ? WH_OK
								   : WH_ESIG;
}

void wh_hash(const uint8_t *p, size_t n, uint8_t out[WH_ID_BYTES])
{
	crypto_generichash(out, WH_ID_BYTES, p, n, NULL, 0);
}

_Static_assert(sizeof(crypto_generichash_state) <=
		       sizeof(((struct wh_hasher *)0)->state),
	       "wh_hasher too small for libsodium's state");

void wh_hasher_init(struct wh_hasher *h)
{
	crypto_generichash_init((crypto_generichash_state *)h->state, NULL, 0,
				WH_ID_BYTES);
}

void wh_hasher_update(struct wh_hasher *h, const uint8_t *p, size_t n)
{
	crypto_generichash_update((crypto_generichash_state *)h->state, p, n);
}

void wh_hasher_final(struct wh_hasher *h, uint8_t out[WH_ID_BYTES])
{
	crypto_generichash_final((crypto_generichash_state *)h->state, out,
				 WH_ID_BYTES);
}
