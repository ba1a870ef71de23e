/*
 * riblt.h: rateless invertible Bloom lookup tables over 64-bit keys
 * (Yang, Gilad, Alizadeh, "Practical Rateless Set Reconciliation",
 * SIGCOMM 2024), the coding behind sync's set reconciliation.
 *
 * A coded symbol is (xor of keys, xor of checksums, count). Every key
 * maps to symbol 0 and then to a sparse, endless sequence of further
 * indices drawn from a PRNG seeded by the key, so that index i holds a
 * key with probability about 1/(1 + i/2). An encoder emits symbols
 * 0, 1, 2, ... of its set for as long as the peer asks; a decoder holding
 * its own set subtracts its own symbols from the peer's and peels the
 * symbols left with one key, until symbol 0 is empty. About 1.35-1.7
 * symbols per difference suffice, whatever the size of the sets.
 *
 * The mapping and the checksum are part of the wire protocol (both ends
 * must compute identical indices): docs/protocol.md has the formulas.
 * Floating point is limited to IEEE +, -, *, / in separate statements
 * (no sqrt, no libm), so every conforming build maps alike.
 *
 * Keys must be distinct within one set (sync drops a second op whose
 * salted key collides, for this session). Nothing here allocates from
 * a peer's numbers without the caller's bound.
 */
#ifndef WH_RIBLT_H
#define WH_RIBLT_H

#include "wh.h"

struct wh_riblt_sym {
	uint64_t key;   /* xor of the keys mapped here */
	uint64_t check; /* xor of their checksums */
	int64_t count;  /* how many (encoder), or remote minus local */
};

/* The checksum of a key (a second, independent 64-bit hash). */
uint64_t wh_riblt_check(uint64_t key);

/* Whether a symbol is empty (no key left in it). */
static inline int wh_riblt_sym_empty(const struct wh_riblt_sym *s)
{
	return s->key == 0 && s->check == 0 && s->count == 0;
}

/* ---- encoder ---- */

struct wh_riblt_enc;

/* An encoder of the n keys (copied). O(n) memory. Allocates; release with
 * wh_riblt_enc_free. */
WH_MUST_CHECK int wh_riblt_enc_new(const uint64_t *keys, size_t n,
				   struct wh_riblt_enc **out);
void wh_riblt_enc_free(struct wh_riblt_enc *e);

/* How many symbols were produced so far (the index of the next one). */
uint64_t wh_riblt_enc_count(const struct wh_riblt_enc *e);

/* Write the next m symbols to out[0..m). O(log n) per key mapped. */
void wh_riblt_enc_next(struct wh_riblt_enc *e, struct wh_riblt_sym *out,
		       size_t m);

/* ---- decoder ---- */

struct wh_riblt_dec;

/* A decoder against the local set keys[0..n) (copied), that gives up
 * after max_symbols remote symbols. Allocates; release with
 * wh_riblt_dec_free. */
WH_MUST_CHECK int wh_riblt_dec_new(const uint64_t *keys, size_t n,
				   uint64_t max_symbols,
				   struct wh_riblt_dec **out);
void wh_riblt_dec_free(struct wh_riblt_dec *d);

/*
 * The peer's next m symbols (indices received .. received + m). Peels
 * what it can. Returns WH_OK, or WH_ETOOBIG when the total would pass
 * max_symbols (the symbols are then not taken), or WH_EDECODE when the
 * symbols cannot come from an honest encoder (a count below 0 or above
 * UINT32_MAX, or more keys peeled than symbols received); the decoder
 * then refuses every later add with WH_EDECODE and its key lists mean
 * nothing. After WH_OK check wh_riblt_dec_done.
 */
WH_MUST_CHECK int wh_riblt_dec_add(struct wh_riblt_dec *d,
				   const struct wh_riblt_sym *syms, size_t m);

/* Whether decoding is complete: both difference lists are final. */
int wh_riblt_dec_done(const struct wh_riblt_dec *d);

/* Remote symbols taken so far. */
uint64_t wh_riblt_dec_count(const struct wh_riblt_dec *d);

/* A guess of the size of the difference from the symbols so far (from
 * symbol 0's count and the spread of the others), for sizing the next
 * request. */
uint64_t wh_riblt_dec_estimate(const struct wh_riblt_dec *d);

/* Keys only the peer holds / only we hold, as far as decoded; the arrays
 * belong to the decoder and live until the next add or free. */
size_t wh_riblt_dec_remote(const struct wh_riblt_dec *d,
			   const uint64_t **keys);
size_t wh_riblt_dec_local(const struct wh_riblt_dec *d, const uint64_t **keys);

#endif
