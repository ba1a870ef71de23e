/*
 * msg.h: the sync protocol's wire messages (protocol versions 1 and 2),
 * their writers and the one decoder of a peer's bytes.
 *
 * Every message is one canonical msgpack fixarray whose first element is
 * its type (docs/protocol.md, "Sync protocol, versions 1 and 2", has the
 * bytes):
 *
 *   HELLO   [1, proto_min, proto_max, role, path, salt bin16, count,
 *            digest bin32, ms]
 *   DIGEST  [2, scope, round, count, digest bin32]
 *   SYMBOLS [3, scope, round, first, bin: per symbol key u64le,
 *            check u64le, count zigzag varint]
 *   MORE    [4, scope, round, next, how_many]
 *   WANT    [5, scope, round, flags, bin: keys u64le]
 *   OPS     [6, flags, [bin op, ...]]
 *           [6, flags | WH_OPS_ZSTD, bin: one zstd frame of [bin op, ...]]
 *   RECEIPT [7, bin body, bin sig64]; body = ["whistle-receipt", scope,
 *            count, digest bin32, ms, signer bin32]
 *   BYE     [8, code, text]     ERROR [9, code, text]
 *   BLOBWANT [10, scope, bin: hashes, 32 bytes each]        (version 3)
 *   BLOB    [11, scope, hash bin32, size, offset, bin data]  (version 3)
 *   RSUM    [12, bin: per roster held, signer(32) || serial u64le]
 *                                                           (version 4)
 *   ROSTER  [13, bin: one roster's bytes (crdt/roster.h)]   (version 4)
 *
 * wh_msg_decode checks everything a peer controls before anything uses
 * it: total size, every length and count against the limits below,
 * paths with wh_path_valid, the packed symbol and key runs, and that
 * nothing trails the message. Slices in a decoded struct point into the
 * message bytes and live as long as they do; the ops of a compressed OPS
 * message point into the wh_msg_zstd given to the decoder instead (see
 * there). Writers cannot fail (OOM aborts) and append to a wh_buf.
 *
 * Version 2 differs from version 1 only in WH_OPS_ZSTD; version 3 adds
 * BLOBWANT and BLOB (attachment content, after the ops). The session
 * (sync.h) sends each only on a link whose HELLOs both offered it.
 */
#ifndef WH_MSG_H
#define WH_MSG_H

#include "key.h"
#include "op.h"
#include "riblt.h"
#include "wh.h"

#define WH_MSG_SALT_BYTES 16
#define WH_MSG_MAX_SYMS 65536u   /* symbols per SYMBOLS message */
#define WH_MSG_MAX_KEYS 131072u  /* keys per WANT message (1 MiB) */
#define WH_MSG_MAX_OPS 16384u    /* ops per OPS message */
#define WH_MSG_MAX_TEXT 200u     /* bytes of BYE / ERROR text */
#define WH_MSG_MAX_MORE (1u << 22) /* symbols one MORE may ask for */
#define WH_MSG_RECEIPT_TAG "whistle-receipt"

enum wh_msg_type {
	WH_MSG_HELLO = 1,
	WH_MSG_DIGEST = 2,
	WH_MSG_SYMBOLS = 3,
	WH_MSG_MORE = 4,
	WH_MSG_WANT = 5,
	WH_MSG_OPS = 6,
	WH_MSG_RECEIPT = 7,
	WH_MSG_BYE = 8,
	WH_MSG_ERROR = 9,
	WH_MSG_BLOBWANT = 10,
	WH_MSG_BLOB = 11,
	WH_MSG_RSUM = 12,
	WH_MSG_ROSTER = 13,
	WH_MSG_TYPE_MAX = 13
};

#define WH_MSG_RSUM_ENTRY (WH_PK_BYTES + 8)
#define WH_MSG_MAX_RSUM 65u /* the authority's roster + 64 delegates' */

#define WH_MSG_MAX_BLOBWANT 64u        /* hashes per BLOBWANT */
#define WH_MSG_BLOB_CHUNK (256u << 10) /* content bytes per BLOB */

/* OPS flags */
#define WH_OPS_SYNC 0u /* answer within a reconciliation */
#define WH_OPS_PUSH 1u /* new op pushed while the link is up */
#define WH_OPS_ZSTD 2u /* the ops array is one zstd frame (version 2) */

/* Compress an OPS array only from this many bytes on (smaller batches,
 * single pushes mostly, gain little and cost a frame header), and only
 * when the frame is smaller than the array. */
#define WH_MSG_ZSTD_MIN 512u
#define WH_MSG_ZSTD_LEVEL 3

/* WANT flags */
#define WH_WANT_FINAL 1u /* last WANT of the round: answer, then RECEIPT */
#define WH_WANT_ALL 2u   /* send every op in scope (keys empty) */

/* A decoded message. Which fields are set depends on type. */
struct wh_msg {
	uint8_t type;
	/* HELLO */
	uint32_t proto_min, proto_max;
	uint8_t role;
	char path[WH_PATH_MAX + 1];
	uint8_t salt[WH_MSG_SALT_BYTES];
	/* HELLO, DIGEST, RECEIPT: count and digest; HELLO, RECEIPT: ms */
	uint64_t count;
	uint8_t digest[WH_ID_BYTES];
	uint64_t ms;
	/* DIGEST, SYMBOLS, MORE, WANT, RECEIPT */
	char scope[WH_PATH_MAX + 1];
	uint32_t round;
	/* SYMBOLS: first index, n symbols packed in 'data'; MORE: first is
	 * the next index, n how many; WANT: n keys in 'data'; OPS: n ops,
	 * the encoded array in 'data' */
	uint64_t first;
	uint32_t n;
	uint32_t flags; /* WANT, OPS */
	struct wh_slice data;
	/* RECEIPT */
	struct wh_slice body, sig;
	uint8_t signer[WH_PK_BYTES];
	/* BLOBWANT: n hashes packed in 'data'. BLOB: 'digest' is the hash,
	 * 'count' the content's size, 'first' the offset, 'data' the bytes
	 * (1..WH_MSG_BLOB_CHUNK, within the size). */
	/* BYE, ERROR */
	int64_t code;
	char text[WH_MSG_MAX_TEXT + 1];
};

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

/*
 * The zstd working memory of one link: a compression context for the
 * OPS it sends, a decompression context and the buffer that holds the
 * ops of the last compressed OPS it decoded. Zero-initialise; the
 * contexts are made on first use (about 1 MiB to compress, 0.1 MiB to
 * decompress); wh_msg_zstd_fini releases everything and accepts NULL.
 * Not thread-safe: one per session.
 */
struct wh_msg_zstd {
	struct ZSTD_CCtx_s *cctx;
	struct ZSTD_DCtx_s *dctx;
	uint8_t *buf; /* decompressed ops array of the last message */
	size_t cap;
};

void wh_msg_zstd_fini(struct wh_msg_zstd *z);

/*
 * Decode and validate one message of n bytes. Errors: WH_ETOOBIG (over
 * WH_SYNC_MAX_MSG or a limit above), WH_ETRUNC, WH_EDECODE, WH_ECANON,
 * WH_EUTF8, WH_EPATH, WH_EVERSION (unknown type). On success m borrows
 * from p, and for an OPS message flagged WH_OPS_ZSTD also from z: its
 * ops (m->data, wh_msg_ops) live until the next wh_msg_decode with the
 * same z or wh_msg_zstd_fini(z), whichever comes first.
 *
 * A compressed OPS is checked before anything is allocated: the bin
 * must hold exactly one zstd frame (no skippable frame, nothing after
 * it) that declares its content size, at most WH_SYNC_MAX_MSG
 * (WH_ETOOBIG past it; so a frame can make the decoder hold no more
 * than a plain OPS message could). It is decompressed into a buffer of
 * exactly that size and must fill it; the content is then checked as
 * the array of a plain OPS. Anything else is WH_EDECODE, as is any
 * compressed OPS when z is NULL.
 */
WH_MUST_CHECK int wh_msg_decode(const uint8_t *p, size_t n,
				struct wh_msg_zstd *z, struct wh_msg *m);

/* The symbols of a decoded SYMBOLS message: out has m->n entries. */
void wh_msg_symbols(const struct wh_msg *m, struct wh_riblt_sym *out);
/* Key i (< m->n) of a decoded WANT message. */
uint64_t wh_msg_key(const struct wh_msg *m, uint32_t i);
/* The ops of a decoded OPS message: out has m->n entries, borrowing
 * from the message (or from the decoder's wh_msg_zstd, see above). */
void wh_msg_ops(const struct wh_msg *m, struct wh_slice *out);
/* WH_OK if the receipt was signed by pk, else WH_ESIG. */
WH_MUST_CHECK int wh_msg_receipt_verify(const struct wh_msg *m,
					const uint8_t pk[WH_PK_BYTES]);

/* Entry i (< m->n) of a decoded RSUM message. */
void wh_msg_rsum_entry(const struct wh_msg *m, uint32_t i,
		       uint8_t signer[WH_PK_BYTES], uint64_t *serial);

/* ---- writers ---- */

/* RSUM of n entries, each WH_MSG_RSUM_ENTRY bytes made by
 * wh_msg_rsum_put. */
void wh_msg_rsum(struct wh_buf *b, const uint8_t *entries, size_t n);
void wh_msg_rsum_put(uint8_t *entry, const uint8_t signer[WH_PK_BYTES],
		     uint64_t serial);
/* ROSTER carrying one roster's bytes (at most WH_ROSTER_MAX_BYTES). */
void wh_msg_roster(struct wh_buf *b, const uint8_t *p, size_t n);

/* HELLO offering protocol versions WH_SYNC_PROTO_MIN .. proto_max. */
void wh_msg_hello(struct wh_buf *b, uint32_t proto_max, uint32_t role,
		  const char *path, const uint8_t salt[WH_MSG_SALT_BYTES],
		  uint64_t count, const uint8_t digest[WH_ID_BYTES],
		  uint64_t ms);
void wh_msg_digest(struct wh_buf *b, const char *scope, uint32_t round,
		   uint64_t count, const uint8_t digest[WH_ID_BYTES]);
void wh_msg_symbols_write(struct wh_buf *b, const char *scope,
			  uint32_t round, uint64_t first,
			  const struct wh_riblt_sym *syms, size_t n);
void wh_msg_more(struct wh_buf *b, const char *scope, uint32_t round,
		 uint64_t next, uint32_t how_many);
void wh_msg_want(struct wh_buf *b, const char *scope, uint32_t round,
		 uint32_t flags, const uint64_t *keys, size_t n);
/* hashes: n (1..WH_MSG_MAX_BLOBWANT) of 32 bytes back to back. */
void wh_msg_blobwant(struct wh_buf *b, const char *scope,
		     const uint8_t *hashes, size_t n);
void wh_msg_blob(struct wh_buf *b, const char *scope,
		 const uint8_t hash[WH_ID_BYTES], uint64_t size, uint64_t off,
		 const uint8_t *p, size_t n);
/* A plain OPS in two steps: begin with the number of ops, then each op. */
void wh_msg_ops_begin(struct wh_buf *b, uint32_t flags, uint32_t n);
void wh_msg_ops_add(struct wh_buf *b, const uint8_t *op, size_t n);
/*
 * A whole OPS of n ops whose bins (each written by wh_msg_ops_add) are
 * the len bytes at bins. With z, as one zstd frame (flag WH_OPS_ZSTD
 * added) if the array is at least WH_MSG_ZSTD_MIN bytes and the frame
 * comes out smaller; else, and always without z, plain. Pass z only
 * for a peer that reads version 2.
 */
void wh_msg_ops_pack(struct wh_buf *b, uint32_t flags, uint32_t n,
		     const uint8_t *bins, size_t len, struct wh_msg_zstd *z);
/* A RECEIPT signed by key. */
void wh_msg_receipt(struct wh_buf *b, const struct wh_key *key,
		    const char *scope, uint64_t count,
		    const uint8_t digest[WH_ID_BYTES], uint64_t ms);
/* BYE or ERROR (type), text cut to WH_MSG_MAX_TEXT at a UTF-8 boundary. */
void wh_msg_bye(struct wh_buf *b, uint8_t type, int64_t code,
		const char *text);

/* Bytes of one encoded symbol, at most. */
#define WH_MSG_SYM_MAX_BYTES 26u

#endif
