/*
 * key.h: a station's Ed25519 identity.
 *
 * The secret half lives in sodium_malloc'd memory (guard pages, locked,
 * wiped on free) and is never copied out of it except to the key file.
 */
#ifndef WH_KEY_H
#define WH_KEY_H

#include "wh.h"

#define WH_PK_BYTES 32
#define WH_SK_BYTES 64
#define WH_SIG_BYTES 64
#define WH_ID_BYTES 32

struct wh_key {
	uint8_t pk[WH_PK_BYTES];
	uint8_t *sk; /* WH_SK_BYTES in sodium_malloc'd memory */
};

/* Initialise libsodium; call once before anything else here. Returns
 * WH_OK or WH_EINVAL if the library cannot start. */
WH_MUST_CHECK int wh_crypto_init(void);

/* Make a fresh key pair. Allocates; release with wh_key_free. */
WH_MUST_CHECK int wh_key_generate(struct wh_key **out);

/* Load a key from its 64 secret bytes (libsodium's seed||pk layout);
 * WH_EKEY if the embedded public key does not match the seed. Allocates. */
WH_MUST_CHECK int wh_key_from_secret(const uint8_t sk[WH_SK_BYTES],
				     struct wh_key **out);

/* Derive the key pair of a 32-byte seed (golden vectors, key files of
 * other tools). Allocates. */
WH_MUST_CHECK int wh_key_from_seed(const uint8_t seed[32], struct wh_key **out);

/* Wipe and free; accepts NULL. */
void wh_key_free(struct wh_key *key);

/* Detached signature over msg. */
void wh_key_sign(const struct wh_key *key, const uint8_t *msg, size_t n,
		 uint8_t sig[WH_SIG_BYTES]);

/* WH_OK if sig is pk's signature over msg, WH_ESIG otherwise. */
WH_MUST_CHECK int wh_sig_verify(const uint8_t pk[WH_PK_BYTES],
				const uint8_t *msg, size_t n,
				const uint8_t sig[WH_SIG_BYTES]);

/* BLAKE2b-256, the hash that names ops, files and blobs. */
void wh_hash(const uint8_t *p, size_t n, uint8_t out[WH_ID_BYTES]);

/* The same hash over data that arrives in pieces. */
struct wh_hasher {
	_Alignas(64) uint8_t state[384];
};
void wh_hasher_init(struct wh_hasher *h);
void wh_hasher_update(struct wh_hasher *h, const uint8_t *p, size_t n);
void wh_hasher_final(struct wh_hasher *h, uint8_t out[WH_ID_BYTES]);

#endif
