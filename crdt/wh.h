/*
 * wh.h: the basics every Whistle module shares: the error enum, the
 * must-check attribute, byte slices, a growable byte buffer and the
 * abort-on-OOM allocators.
 *
 * It lives in crdt/ because crdt/ is the bottom of the dependency graph:
 * store/, net/ and agent/ all link it, and crdt/ depends on nothing of ours.
 */
#ifndef WH_H
#define WH_H

#include <stddef.h>
#include <stdint.h>

#define WH_MUST_CHECK __attribute__((warn_unused_result))

/* Every fallible function returns WH_OK or one of these. Never reorder:
 * the numbers show up in logs and in --json error objects. */
enum wh_err {
	WH_OK = 0,
	WH_EINVAL = -1,     /* bad argument from our own caller */
	WH_EDECODE = -2,    /* malformed encoding (msgpack or container) */
	WH_ETOOBIG = -3,    /* a size, count or length past its limit */
	WH_EUTF8 = -4,      /* text that is not valid UTF-8 */
	WH_EVERSION = -5,   /* format version we do not speak */
	WH_EKIND = -6,      /* unknown op kind */
	WH_EFIELD = -7,     /* body field missing, unknown or of wrong type */
	WH_ESIG = -8,       /* Ed25519 signature does not verify */
	WH_ECLOCK = -9,     /* timestamp too far in the future */
	WH_EPATH = -10,     /* malformed jurisdiction path */
	WH_EID = -11,       /* malformed case id / object id */
	WH_EEXIST = -12,    /* already there (op known, home exists) */
	WH_ENOTFOUND = -13, /* no such case, op, file or key */
	WH_EIO = -14,       /* operating system I/O error */
	WH_EFULL = -15,     /* disk full or store cannot grow */
	WH_ESCHEMA = -16,   /* store written by a newer whistle */
	WH_ECORRUPT = -17,  /* our own stored data fails its checks */
	WH_ESTATE = -18,    /* step makes no sense for the case's state */
	WH_EDENIED = -19,   /* policy refused the author or the step */
	WH_ETRUNC = -20,    /* input ends early */
	WH_ECHECKSUM = -21, /* container checksum mismatch */
	WH_EKEY = -22,      /* key file missing, malformed or unsafe */
	WH_EBUSY = -23,     /* resource held by someone else */
	WH_EFAULT = -24,    /* injected fault (tests only) */
	WH_ECANON = -25,    /* valid msgpack, but not the canonical form */
	WH_ESCOPE = -26,    /* outside the scope we hold */
	/* Trust (crdt/roster.h). */
	WH_EOLD = -27,       /* roster serial not newer than the one held */
	WH_EAUTHORITY = -28, /* not signed by the authority or a delegate */
	WH_ENOMEMBER = -29,  /* author has no grant in the roster */
	WH_EREVOKED = -30,   /* author's key revoked before the op's time */
	WH_EEXPIRED = -31,   /* author's grant does not cover the op's time */
	WH_EROLE = -32,      /* author's role may not take this step */
	WH_ESUMMON = -33,    /* department not summoned to the case */
	WH_EJURIS = -34,     /* outside the author's jurisdiction */
	WH_ERR_MIN = -34
};

/* Static English text for an error code; never NULL. */
const char *wh_strerror(int err);

/* A borrowed run of bytes; the owner says how long it lives. */
struct wh_slice {
	const uint8_t *p;
	size_t n;
};

/* A growable owned byte buffer. Zero-initialise, then append; wh_buf_fini
 * frees. Allocation failure aborts (see wh_xmalloc). */
struct wh_buf {
	uint8_t *p;
	size_t len, cap;
};

void wh_buf_reserve(struct wh_buf *b, size_t extra);
void wh_buf_append(struct wh_buf *b, const void *p, size_t n);
void wh_buf_reset(struct wh_buf *b); /* len = 0, keeps the memory */
void wh_buf_fini(struct wh_buf *b);

/* Allocators that abort with a message when memory runs out: an agent that
 * cannot allocate a few bytes cannot do anything useful, and one exit path
 * beats thousands of untested ones. */
void *wh_xmalloc(size_t n);
void *wh_xcalloc(size_t n, size_t size);
void *wh_xrealloc(void *p, size_t n);
char *wh_xstrndup(const char *s, size_t n);

/* Lower-case hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void wh_hex(const uint8_t *p, size_t n, char *out);
/* Parse exactly 2n hex digits; WH_EINVAL otherwise. */
WH_MUST_CHECK int wh_unhex(const char *s, uint8_t *out, size_t n);

/* Whether p[0..n) is well-formed UTF-8 (no overlongs, no surrogates, no
 * code points past U+10FFFF). NUL bytes are refused too: text fields are
 * shown and stored as C strings at the edges. */
int wh_utf8_valid(const uint8_t *p, size_t n);

#endif
