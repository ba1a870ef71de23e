/*
 * csv.h: a bounded reader of CSV as RFC 4180 defines it, and as Excel and
 * the 12345 hotline system write it: records separated by line ends,
 * fields by commas; a field that holds a comma, a quote or a line end is
 * quoted ("..."), a quote inside it doubled (""). UTF-8; one UTF-8 byte
 * order mark (EF BB BF) at the very start of the input is skipped.
 *
 * This header is the whole contract:
 *
 *   - Line ends: LF, CRLF or a lone CR end a record outside quotes and
 *     count as one physical line each. Inside quotes they are data, kept
 *     byte for byte (the caller normalises if it wants to); an LF there
 *     counts a line too, so line numbers are what an editor shows.
 *   - A blank line is a record of one empty field (the caller decides
 *     whether to skip it). A final line end does not start a record.
 *   - Bounds: a record holds at most lim.max_record bytes of field data
 *     and lim.max_fields fields. Past either, the rest of the record is
 *     still read (so the next record starts where it should) but not
 *     kept, and the record is an error. Memory is O(max_record), never
 *     O(input): a 10 MB line costs a scan, not 10 MB.
 *   - Errors are per record: after one, csv_next continues with the next
 *     record, so a caller can report a bad row and go on. A quoted field
 *     that is never closed swallows the rest of the input: that error is
 *     final (the next call returns CSV_END).
 *   - Bytes are not checked for UTF-8 here: which column holds the bad
 *     byte is the caller's message to give.
 *
 * The caller owns struct csv (csv_init / csv_fini) and the FILE, which
 * the reader only reads, through its own buffer: do not read the FILE
 * behind the reader's back.
 */
#ifndef WH_CSV_H
#define WH_CSV_H

#include "wh.h"

#include <stdio.h>

#define CSV_MAX_RECORD (1u << 20) /* default: 1 MiB of field data */
#define CSV_MAX_FIELDS 64u	  /* default */

enum csv_status {
	CSV_OK = 0,	  /* a record was read: nfields fields */
	CSV_END = 1,	  /* no more records */
	CSV_EQUOTE = -1,  /* the input ended inside a quoted field */
	CSV_ESTRAY = -2,  /* a '"' inside a field that is not quoted */
	CSV_EAFTER = -3,  /* something other than ',' or a line end after
			   * a field's closing quote */
	CSV_ERECORD = -4, /* record past max_record bytes */
	CSV_EFIELDS = -5, /* record past max_fields fields */
	CSV_EIO = -6	  /* the FILE reported a read error (errno kept) */
};

struct csv_limits {
	size_t max_record; /* 0: CSV_MAX_RECORD */
	size_t max_fields; /* 0: CSV_MAX_FIELDS */
};

struct csv {
	/* Results of the last csv_next; read-only for the caller. */
	size_t nfields;		/* fields kept (CSV_OK: all of them) */
	unsigned long rec_line; /* physical line (1-based) the record
				 * started on */
	unsigned long err_line; /* an error: the line it was found on (for
				 * CSV_EQUOTE, where the quote opened) */
	/* Private. */
	FILE *f;
	struct csv_limits lim;
	unsigned long line; /* line of the next byte */
	int started;	    /* BOM checked */
	uint8_t *in;	    /* read buffer */
	size_t ipos, ilen;
	int ieof, ierr;
	struct wh_buf data; /* kept fields, each NUL-terminated */
	size_t *off, *len;
	size_t bytes; /* field data of this record so far */
};

/* Read from f with limits lim (NULL: the defaults). Allocates; release
 * with csv_fini. */
void csv_init(struct csv *r, FILE *f, const struct csv_limits *lim);
/* Free what csv_init allocated; the FILE is the caller's. Accepts a
 * zeroed struct. */
void csv_fini(struct csv *r);

/*
 * Read the next record. Returns CSV_OK, CSV_END, or a negative CSV_E*
 * for a record that broke a rule (rec_line and err_line say where; the
 * fields kept are unreliable and should not be used). After CSV_EIO stop
 * reading.
 */
WH_MUST_CHECK int csv_next(struct csv *r);

/* Field i (< nfields) of the last record: NUL-terminated, its length in
 * *len if len is not NULL (a field may hold NUL bytes of its own).
 * Valid until the next csv_next or csv_fini. */
const char *csv_field(const struct csv *r, size_t i, size_t *len);

/* Where the reader is in the FILE: the offset of the next byte it will
 * look at (ftell less what its buffer holds), -1 if the FILE cannot
 * tell (a pipe). For progress lines. */
long csv_tell(const struct csv *r);

/* Static English text for a csv_status; never NULL. */
const char *csv_strerror(int st);

#endif
