/*
 * seal.h: a case's personal data (反映人 reporter, 联系方式 contact),
 * sealed so that only the case's readers can read it, and destroyable.
 *
 * Each case gets its own random 32-byte case key K; its id is
 * kid = BLAKE2b-256(K). The personal fields travel inside signed ops
 * only as ciphertext under K (field WH_F_SEALED, with WH_F_KID beside
 * it):
 *
 *     sealed = nonce(24) || XChaCha20-Poly1305-IETF(K, nonce, ad, pt)
 *     pt     = msgpack map {9: reporter, 10: contact} (either may be
 *              missing, keys ascending, text at most 200 bytes each)
 *     ad     = "whistle-sealed-v1" || 0x00 || code || 0x00 || seq (u32be)
 *
 * The associated data binds the ciphertext to its case: copied into
 * another case's op it does not open there.
 *
 * K reaches readers in a key envelope, content kept beside the ops like
 * an attachment (content-addressed, synced after the ops, served only
 * within the scope of the case that names it) and named by a signed
 * WH_OP_CASE_KEYS op {kid, blob, size}. Envelope format, version 1, all
 * integers big-endian:
 *
 *     magic "WHKE" (4) || version 1 (1) || kid (32) || count (u16)
 *     || count x [ x25519 pk (32) || crypto_box_seal(K) (80) ]
 *
 * with 1 <= count <= WH_SEAL_ENV_MAX_READERS, reader keys strictly
 * ascending (so a reader appears once), and nothing after the last
 * entry. A reader's X25519 key is its Ed25519 key's twin
 * (crypto_sign_ed25519_pk_to_curve25519), so no new key material is
 * needed. Envelopes live outside the append-only log, which is what
 * lets WH_OP_CASE_ERASE destroy them on every replica (docs/sealing.md).
 *
 * wh_seal_env_decode and wh_seal_open are the decoders of outside bytes
 * here: both check every bound before use. No I/O, no store: pure.
 */
#ifndef WH_SEAL_H
#define WH_SEAL_H

#include "key.h"
#include "op.h"
#include "roster.h"
#include "wh.h"

#define WH_SEAL_KEY_BYTES 32u
#define WH_SEAL_NONCE_BYTES 24u
#define WH_SEAL_TAG_BYTES 16u
/* Bounds of a WH_F_SEALED value: nonce, tag and at least a map header;
 * at most what two 200-byte fields need, with room. */
#define WH_SEAL_MIN_BYTES (WH_SEAL_NONCE_BYTES + WH_SEAL_TAG_BYTES + 1u)
#define WH_SEAL_MAX_BYTES 1024u
#define WH_SEAL_TEXT_MAX 200u /* bytes of the reporter or the contact */

#define WH_SEAL_ENV_VERSION 1u
#define WH_SEAL_ENV_HEAD (4u + 1u + WH_ID_BYTES + 2u)
#define WH_SEAL_ENV_BOX 80u /* crypto_box_SEALBYTES + the key */
#define WH_SEAL_ENV_ENTRY (32u + WH_SEAL_ENV_BOX)
#define WH_SEAL_ENV_MAX_READERS 1024u

/* A case key. k lives in sodium_malloc'd memory, wiped on free. */
struct wh_seal_key {
	uint8_t *k; /* WH_SEAL_KEY_BYTES */
	uint8_t kid[WH_ID_BYTES];
};

/* A fresh random case key. Allocates; release with wh_seal_key_free. */
WH_MUST_CHECK int wh_seal_key_new(struct wh_seal_key **out);
/* Wipe and free; accepts NULL. */
void wh_seal_key_free(struct wh_seal_key *k);

/* The exact size of the sealed value of these fields (NULL: absent). */
size_t wh_seal_size(const char *reporter, const char *contact);

/*
 * Seal the personal fields of case (code, seq) under k, appending
 * nonce || ciphertext to out. At least one field must be given; each at
 * most WH_SEAL_TEXT_MAX bytes of UTF-8 (WH_EINVAL, WH_ETOOBIG,
 * WH_EUTF8). The value is wh_seal_size() bytes long.
 */
WH_MUST_CHECK int wh_seal_seal(const struct wh_seal_key *k, const char *code,
			       uint32_t seq, const char *reporter,
			       const char *contact, struct wh_buf *out);

/*
 * Open a sealed value of case (code, seq): WH_OK with *reporter and
 * *contact set to owned strings (NULL where the field is absent; free
 * both); WH_EKEY if k does not open it (another key, another case, or
 * changed bytes); WH_ETRUNC, WH_ETOOBIG, WH_EDECODE, WH_ECANON,
 * WH_EUTF8, WH_EFIELD if it opens but the plaintext breaks the format.
 */
WH_MUST_CHECK int wh_seal_open(const struct wh_seal_key *k, const char *code,
			       uint32_t seq, const uint8_t *p, size_t n,
			       char **reporter, char **contact);

/* A decoded envelope; entries borrow from the bytes decoded. */
struct wh_seal_env {
	uint8_t kid[WH_ID_BYTES];
	uint32_t count;
	const uint8_t *entries; /* count x WH_SEAL_ENV_ENTRY bytes */
};

/*
 * Check and parse envelope bytes p[0..n) (outside input): WH_OK,
 * WH_ETRUNC, WH_ETOOBIG, WH_EDECODE (magic, a count of 0 or bytes left
 * over), WH_EVERSION, WH_ECANON (reader keys not strictly ascending).
 */
WH_MUST_CHECK int wh_seal_env_decode(const uint8_t *p, size_t n,
				     struct wh_seal_env *out);

/* Whether the envelope holds an entry for the Ed25519 key pk. */
int wh_seal_env_holds(const struct wh_seal_env *e,
		      const uint8_t pk[WH_PK_BYTES]);

/*
 * Envelope content giving k to each of the n Ed25519 keys in readers
 * (duplicates are taken once), appended to out. WH_EINVAL (n == 0),
 * WH_ETOOBIG (more than WH_SEAL_ENV_MAX_READERS distinct keys), WH_EKEY
 * (a key with no X25519 twin); out is left as it was on error.
 */
WH_MUST_CHECK int wh_seal_env_build(const struct wh_seal_key *k,
				    const uint8_t (*readers)[WH_PK_BYTES],
				    size_t n, struct wh_buf *out);

/*
 * Open envelope bytes with our own key: decode them, find our entry,
 * open it, and check that the key inside has the envelope's kid.
 * WH_OK with *out (release with wh_seal_key_free); the decode errors;
 * WH_ENOTFOUND if the envelope holds nothing for us; WH_EKEY if our
 * entry does not open or holds a key of another kid.
 */
WH_MUST_CHECK int wh_seal_env_open(const uint8_t *p, size_t n,
				   const struct wh_key *me,
				   struct wh_seal_key **out);

/*
 * Who may read a case's personal data, by the roster: the Ed25519 keys
 * of the grants valid at now_ms (delegate rosters only while their
 * delegate is) whose role is station, street or district and whose path
 * holds case_path, and of the department grants whose department is
 * one of depts[0..ndepts) and whose path holds case_path. Written to
 * out (at most max, each key once), the count to *n. WH_OK, or
 * WH_ETOOBIG if more than max keys qualify (*n is then max).
 */
WH_MUST_CHECK int wh_seal_readers(const struct wh_roster_set *rs,
				  const char *case_path,
				  const char *const *depts, size_t ndepts,
				  uint64_t now_ms,
				  uint8_t (*out)[WH_PK_BYTES], size_t max,
				  size_t *n);

#endif
