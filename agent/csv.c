/*
 * csv.c: the bounded CSV reader (csv.h has the contract).
 *
 * One byte at a time through a 64 KiB read buffer, as a small state
 * machine per field: unquoted, or quoted then after its closing quote.
 * A rule broken inside a record is remembered (the first one; an
 * unclosed quote overrides any, since it explains everything after it)
 * and the record is read to its end regardless, so that the next record
 * starts in the right place. Bytes past a limit are counted, not kept.
 */
#include "csv.h"

#include <stdlib.h>
#include <string.h>

#define INBUF (64u * 1024u)
#define EOF_ (-1)

void csv_init(struct csv *r, FILE *f, const struct csv_limits *lim)
{
	memset(r, 0, sizeof *r);
	r->f = f;
	r->lim.max_record =
	    lim && lim->max_record ? lim->max_record : CSV_MAX_RECORD;
	r->lim.max_fields =
	    lim && lim->max_fields ? lim->max_fields : CSV_MAX_FIELDS;
	r->line = 1;
	r->in = wh_xmalloc(INBUF);
	r->off = wh_xcalloc(r->lim.max_fields, sizeof *r->off);
	r->len = wh_xcalloc(r->lim.max_fields, sizeof *r->len);
}

void csv_fini(struct csv *r)
{
	free(r->in);
	free(r->off);
	free(r->len);
	wh_buf_fini(&r->data);
	memset(r, 0, sizeof *r);
}

long csv_tell(const struct csv *r)
{
	long pos = r->f ? ftell(r->f) : -1;
	if (pos < 0)
		return -1;
	size_t held = r->ilen > r->ipos ? r->ilen - r->ipos : 0;
	return (size_t)pos >= held ? pos - (long)held : 0;
}

/* Refill the buffer; 0 if nothing more can be read. */
static int fill(struct csv *r)
{
	if (r->ieof || r->ierr)
		return 0;
	r->ipos = 0;
	r->ilen = fread(r->in, 1, INBUF, r->f);
	if (r->ilen == 0) {
		if (ferror(r->f))
			r->ierr = 1;
		else
			r->ieof = 1;
		return 0;
	}
	return 1;
}

static int peek(struct csv *r)
{
	if (r->ipos == r->ilen && !fill(r))
		return EOF_;
	return r->in[r->ipos];
}

static int get(struct csv *r)
{
	int ch = peek(r);
	if (ch != EOF_)
		r->ipos++;
	return ch;
}

/* One record being read: the first rule it broke, and whether it went
 * past a limit (then nothing more of it is kept). */
struct rec {
	int err;
	int over;
};

static void fail(struct csv *r, struct rec *k, int err, unsigned long line)
{
	/* An unclosed quote explains everything after it: it wins. */
	if (k->err == CSV_OK || err == CSV_EQUOTE) {
		k->err = err;
		r->err_line = line;
	}
}

static void put(struct csv *r, struct rec *k, int ch)
{
	if (k->over)
		return; /* past a limit: scan only */
	if (r->bytes >= r->lim.max_record) {
		k->over = 1;
		fail(r, k, CSV_ERECORD, r->rec_line);
		return;
	}
	r->bytes++;
	uint8_t b = (uint8_t)ch;
	wh_buf_append(&r->data, &b, 1);
}

static void field_begin(struct csv *r, struct rec *k)
{
	if (k->over)
		return;
	if (r->nfields == r->lim.max_fields) {
		k->over = 1;
		fail(r, k, CSV_EFIELDS, r->rec_line);
		return;
	}
	r->off[r->nfields] = r->data.len;
}

static void field_end(struct csv *r, struct rec *k)
{
	if (k->over)
		return;
	r->len[r->nfields] = r->data.len - r->off[r->nfields];
	wh_buf_append(&r->data, "", 1); /* NUL, not counted as data */
	r->nfields++;
}

/* A line end starting with ch (CR or LF): eat the LF of a CRLF. */
static void line_end(struct csv *r, int ch)
{
	if (ch == '\r' && peek(r) == '\n')
		get(r);
	r->line++;
}

enum { MORE_FIELDS, END_RECORD };

/* The rest of a field that is not quoted (or no longer: after a broken
 * closing quote). */
static int unquoted(struct csv *r, struct rec *k)
{
	for (;;) {
		int ch = get(r);
		switch (ch) {
		case ',':
			return MORE_FIELDS;
		case '\r':
		case '\n':
			line_end(r, ch);
			return END_RECORD;
		case EOF_:
			return END_RECORD;
		case '"':
			fail(r, k, CSV_ESTRAY, r->line);
			put(r, k, ch);
			break;
		default:
			put(r, k, ch);
		}
	}
}

/* A quoted field, its opening quote already read. */
static int quoted(struct csv *r, struct rec *k)
{
	unsigned long open = r->line;
	for (;;) {
		int ch = get(r);
		if (ch == EOF_) {
			fail(r, k, CSV_EQUOTE, open);
			return END_RECORD;
		}
		if (ch == '"') {
			if (peek(r) != '"')
				break;
			get(r); /* "" is one quote */
		} else if (ch == '\n') {
			r->line++;
		}
		put(r, k, ch);
	}
	int ch = get(r);
	switch (ch) {
	case ',':
		return MORE_FIELDS;
	case '\r':
	case '\n':
		line_end(r, ch);
		return END_RECORD;
	case EOF_:
		return END_RECORD;
	default:
		fail(r, k, CSV_EAFTER, r->line);
		put(r, k, ch);
		return unquoted(r, k);
	}
}

int csv_next(struct csv *r)
{
	if (!r->started) {
		r->started = 1;
		/* The BOM is three bytes at the very start; a short read is
		 * refilled by peek, so compare byte by byte. */
		static const uint8_t bom[3] = {0xef, 0xbb, 0xbf};
		if (peek(r) == bom[0] && r->ilen - r->ipos >= 3 &&
		    !memcmp(r->in + r->ipos, bom, 3))
			r->ipos += 3;
	}
	wh_buf_reset(&r->data);
	r->nfields = 0;
	r->bytes = 0;
	r->err_line = 0;
	if (peek(r) == EOF_)
		return r->ierr ? CSV_EIO : CSV_END;
	r->rec_line = r->line;
	struct rec k = {CSV_OK, 0};
	int more;
	do {
		field_begin(r, &k);
		if (peek(r) == '"') {
			get(r);
			more = quoted(r, &k);
		} else {
			more = unquoted(r, &k);
		}
		field_end(r, &k);
		/* Count the separator so that many empty fields still meet
		 * the record bound. */
		if (more == MORE_FIELDS && !k.over &&
		    r->bytes++ >= r->lim.max_record) {
			k.over = 1;
			fail(r, &k, CSV_ERECORD, r->rec_line);
		}
	} while (more == MORE_FIELDS);
	if (r->ierr) {
		r->err_line = r->line;
		return CSV_EIO;
	}
	return k.err;
}

const char *csv_field(const struct csv *r, size_t i, size_t *len)
{
	if (i >= r->nfields) {
		if (len)
			*len = 0;
		return "";
	}
	if (len)
		*len = r->len[i];
	return (const char *)r->data.p + r->off[i];
}

const char *csv_strerror(int st)
{
	switch (st) {
	case CSV_OK:
		return "ok";
	case CSV_END:
		return "end of input";
	case CSV_EQUOTE:
		return "a quoted field is never closed";
	case CSV_ESTRAY:
		return "a quote (\") inside a field that is not quoted "
		       "(quote the field and double the quote)";
	case CSV_EAFTER:
		return "text after a field's closing quote (a quote inside a "
		       "quoted field must be doubled)";
	case CSV_ERECORD:
		return "record too long";
	case CSV_EFIELDS:
		return "too many fields";
	case CSV_EIO:
		return "read error";
	default:
		return "unknown CSV error";
	}
}
