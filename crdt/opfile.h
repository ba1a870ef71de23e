/*
 * opfile.h: the op file, a self-describing, checksummed container of
 * signed ops (what `whistle export` writes and `whistle import` reads;
 * sneakernet bundles extend its header).
 *
 *     magic   8 bytes  "\x89WHOPS\r\n" (PNG-style: catches text-mode and
 *                       truncating copies)
 *     header  msgpack map {1: version, 2: created ms, 3: scope str,
 *                          4: writer public key (bin 32)}; readers skip
 *                          keys they do not know (later bundle fields)
 *     records one msgpack bin per op, the op's exact bytes
 *     trailer msgpack fixarray(2) [count, BLAKE2b-256 of every byte before
 *                          the trailer]
 *
 * Reading is in two steps: wh_opfile_open checks magic, header and the
 * trailer's checksum and count over the whole buffer before anything is
 * handed out, so a damaged file is refused before one op is applied;
 * wh_opfile_next then walks the records. Ops themselves are checked by
 * their own decoder, not here.
 */
#ifndef WH_OPFILE_H
#define WH_OPFILE_H

#include "key.h"
#include "wh.h"

#define WH_OPFILE_VERSION 1
#define WH_OPFILE_MAGIC "\x89WHOPS\r\n"
#define WH_OPFILE_MAGIC_LEN 8

struct wh_opfile_hdr {
	uint32_t version;
	uint64_t created_ms;
	char scope[256]; /* "" for everything */
	uint8_t writer[WH_PK_BYTES];
};

struct wh_opfile_writer {
	struct wh_hasher h;
	uint64_t count;
};

/* Start a file: magic and header appended to out. */
void wh_opfile_begin(struct wh_opfile_writer *w, struct wh_buf *out,
		     const struct wh_opfile_hdr *hdr);
/* Append one op's bytes. The caller may flush 'out' to disk and reset it
 * between calls: the writer hashes what passes through. */
void wh_opfile_add(struct wh_opfile_writer *w, struct wh_buf *out,
		   const uint8_t *op, size_t n);
void wh_opfile_end(struct wh_opfile_writer *w, struct wh_buf *out);

struct wh_opfile_reader {
	const uint8_t *p, *cur, *records_end;
	uint64_t count, index;
};

/*
 * Check the whole file in p[0..n) and fill hdr. Errors name where:
 * *err_off is the byte offset of the problem. WH_EDECODE (no magic or bad
 * header), WH_EVERSION, WH_ETRUNC (file ends early: no trailer),
 * WH_ECHECKSUM (bytes changed), WH_ETOOBIG.
 */
WH_MUST_CHECK int wh_opfile_open(const uint8_t *p, size_t n,
				 struct wh_opfile_hdr *hdr,
				 struct wh_opfile_reader *rd,
				 size_t *err_off);

/* Next op: 1 and the op's bytes (borrowed from the buffer) and its byte
 * offset; 0 at the end. */
int wh_opfile_next(struct wh_opfile_reader *rd, struct wh_slice *op,
		   size_t *off);

#endif
