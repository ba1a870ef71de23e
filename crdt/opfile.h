/*
 * opfile.h: the op file, a self-describing, checksummed container of
 * signed ops, in two versions:
 *
 *   1  what `whistle export` writes and `whistle import` reads;
 *   2  the sneakernet bundle (`whistle bundle`): version 1 plus typed
 *      records (rosters, attachment content), bundle fields in the
 *      header, and a trailer signed by the station that wrote it.
 *
 *     magic   8 bytes  "\x89WHOPS\r\n" (PNG-style: catches text-mode and
 *                       truncating copies)
 *     header  msgpack map {1: version, 2: created ms, 3: scope str,
 *                          4: writer public key (bin 32), version 2 adds
 *                          5..11 below}; readers skip keys they do not
 *                          know
 *     records one msgpack value each: a bin is an op, the op's exact
 *             bytes; version 2 also has fixarray(2) [kind, bin] with
 *             kind WH_OPREC_ROSTER or WH_OPREC_BLOB
 *     trailer version 1: fixarray(2) [count, BLAKE2b-256 of every byte
 *                          before the trailer]
 *             version 2: fixarray(3) [count, that checksum, Ed25519
 *                          signature by the header's writer over
 *                          WH_OPFILE_SIGCTX || checksum]
 *
 * Reading is in two steps: wh_opfile_open checks magic, header, every
 * record's framing, the count, the checksum and (version 2) the
 * signature over the whole buffer before anything is handed out, so a
 * damaged or forged file is refused before one op is applied;
 * wh_opfile_next / wh_opfile_next_rec then walk the records. Ops,
 * rosters and content are checked by their own decoders, not here.
 * docs/protocol.md, "Op file", has the bytes.
 */
#ifndef WH_OPFILE_H
#define WH_OPFILE_H

#include "key.h"
#include "op.h"
#include "wh.h"

#define WH_OPFILE_VERSION 1 /* export / import */
#define WH_OPFILE_BUNDLE 2  /* bundle: typed records, signed trailer */
#define WH_OPFILE_MAGIC "\x89WHOPS\r\n"
#define WH_OPFILE_MAGIC_LEN 8
/* What a version-2 signature covers, before the checksum (NUL included):
 * no op, receipt or roster signature can be taken for a bundle's. */
#define WH_OPFILE_SIGCTX "whistle-bundle-v2"
#define WH_OPFILE_SIGCTX_LEN 18
/* Bounds of a version-2 record's payload. */
#define WH_OPFILE_ROSTER_MAX (1u << 20) /* = WH_ROSTER_MAX_BYTES */
#define WH_OPFILE_BLOB_MAX (8u << 20)   /* = WH_BLOB_MAX_BYTES */
/* The longest trailer: fixarray, count (uint64), bin 32, bin 64. */
#define WH_OPFILE_TRAILER_MAX (1 + 9 + 2 + WH_ID_BYTES + 2 + WH_SIG_BYTES)

/* Record kinds (version 2). An op is a plain bin, as in version 1. */
enum wh_oprec {
	WH_OPREC_OP = 1,     /* never written as a kind: the bare bin */
	WH_OPREC_ROSTER = 2, /* a roster's exact bytes (crdt/roster.h) */
	WH_OPREC_BLOB = 3    /* attachment or key-envelope content, named
			      * by its BLAKE2b-256 (1..8 MiB) */
};

struct wh_opfile_hdr {
	uint32_t version;
	uint64_t created_ms;
	char scope[256]; /* "" for everything */
	uint8_t writer[WH_PK_BYTES];
	/* Version 2 only (zero in version 1). */
	char writer_path[WH_PATH_MAX + 1]; /* 5: the writer's jurisdiction */
	int has_for;                       /* 6: written for this key */
	uint8_t for_pk[WH_PK_BYTES];
	uint64_t since_ms;  /* 7: only cases changed since (0: all) */
	uint64_t max_bytes; /* 8: the size cap it was cut to (0: none) */
	int has_base;       /* 9: the writer's digest of scope when it */
	uint64_t base_count; /*    wrote the file: [count, digest] */
	uint8_t base_digest[WH_ID_BYTES];
	uint64_t left_out; /* 10: cases the cap left out */
	uint64_t cases;    /* 11: cases (and documents) with ops in it */
};

struct wh_opfile_writer {
	struct wh_hasher h;
	uint64_t count;
	uint32_t version;
};

/* Start a file of hdr->version (1 or 2): magic and header appended to
 * out. Version 2 needs hdr->writer to be the key that will sign. */
void wh_opfile_begin(struct wh_opfile_writer *w, struct wh_buf *out,
		     const struct wh_opfile_hdr *hdr);
/* Append one op's bytes. The caller may flush 'out' to disk and reset it
 * between calls: the writer hashes what passes through. */
void wh_opfile_add(struct wh_opfile_writer *w, struct wh_buf *out,
		   const uint8_t *op, size_t n);
/* Version 2: append a roster or content record (kind WH_OPREC_ROSTER or
 * WH_OPREC_BLOB; the caller keeps n within its bound). */
void wh_opfile_add_rec(struct wh_opfile_writer *w, struct wh_buf *out,
		       enum wh_oprec kind, const uint8_t *p, size_t n);
/* Version 1 trailer. */
void wh_opfile_end(struct wh_opfile_writer *w, struct wh_buf *out);
/* Version 2 trailer, signed with key (whose public key the header
 * names). */
void wh_opfile_end_signed(struct wh_opfile_writer *w, struct wh_buf *out,
			  const struct wh_key *key);
/* Bytes a record of n payload bytes takes in the file (caps count it). */
size_t wh_opfile_rec_size(enum wh_oprec kind, size_t n);

struct wh_opfile_reader {
	const uint8_t *p, *cur, *records_end;
	uint32_t version;
	uint64_t count, index;
	uint64_t nops, nrosters, nblobs; /* records of each kind */
};

/*
 * Check the whole file in p[0..n) and fill hdr. Errors name where:
 * *err_off is the byte offset of the problem. WH_EDECODE (no magic or bad
 * header or record), WH_EVERSION, WH_ETRUNC (file ends early: no
 * trailer), WH_ECHECKSUM (bytes changed), WH_ETOOBIG, WH_EPATH (a scope
 * that is not a path), and for version 2 WH_ESIG (the trailer's
 * signature is not the header's writer's: forged, or re-checksummed
 * after a change).
 */
WH_MUST_CHECK int wh_opfile_open(const uint8_t *p, size_t n,
				 struct wh_opfile_hdr *hdr,
				 struct wh_opfile_reader *rd,
				 size_t *err_off);

/* Next op: 1 and the op's bytes (borrowed from the buffer) and its byte
 * offset; 0 at the end. Version 2's other records are passed over. */
int wh_opfile_next(struct wh_opfile_reader *rd, struct wh_slice *op,
		   size_t *off);

/* Next record of any kind: 1 with its kind, payload (borrowed) and byte
 * offset; 0 at the end. */
int wh_opfile_next_rec(struct wh_opfile_reader *rd, enum wh_oprec *kind,
		       struct wh_slice *payload, size_t *off);

#endif
