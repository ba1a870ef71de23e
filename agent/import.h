/*
 * import.h: the parts of `whistle case import`, bulk intake of a 12345
 * hotline export or another system's records. Internal to agent/:
 *
 *   cmd_case_import.c  the command: options, reading CSV (csv.h) or JSON
 *                      Lines into rows, the passes, progress and the
 *                      summary;
 *   import_jsonl.c     one JSON Lines record into a row (jansson);
 *   import_row.c       the columns, and checking one row's values on
 *                      their own (format limits, enums, places), no store;
 *   import_plan.c      what a checked row does to the store: which case
 *                      it names, which values differ from that case's
 *                      view, the ops that make them so, batched into
 *                      store transactions.
 *
 * Invariant the passes rely on: every row is decided against the store
 * as it was when the plan started, never against rows before it in the
 * same file (a case is touched by at most one row per file; a second row
 * for it is refused). So a dry run decides exactly what a real run does,
 * and batching cannot change an outcome.
 *
 * docs/guide.md, "Bulk intake (case import)", states the rules for users.
 */
#ifndef WH_IMPORT_H
#define WH_IMPORT_H

#include "cli.h"

#define IMP_MAX_TAGS 32u    /* tags in one row */
#define IMP_CREATED_MAX 64u /* bytes of the 'created' column */
#define IMP_TAGS_MAX 4096u  /* bytes of the 'tags' column */
#define IMP_WHY_MAX 512u    /* a refusal's text */
#define IMP_BATCH_ROWS 500u /* rows per store transaction */
#define IMP_REF_PREFIX "imp:"

/* The columns (CSV header names, JSON Lines keys). */
enum imp_col {
	IMP_ID,
	IMP_EXTREF,
	IMP_TITLE,
	IMP_DESCRIPTION,
	IMP_CATEGORY,
	IMP_ADDRESS,
	IMP_SOURCE,
	IMP_PRIORITY,
	IMP_REPORTER,
	IMP_CONTACT,
	IMP_LAT,
	IMP_LON,
	IMP_GRID,
	IMP_PATH,
	IMP_STATUS,
	IMP_TAGS,
	IMP_CREATED,
	IMP_NCOLS
};

/* The column a header cell or JSON key names: its English name or its
 * Chinese alias, ASCII letters in any case, surrounding blanks ignored.
 * -1 if none. */
int imp_col_find(const char *name, size_t n);
/* English name of a column ("external_ref"). */
const char *imp_col_name(unsigned col);
/* "id, external_ref, title, ..." into out (for messages). */
void imp_col_list(char *out, size_t outn);

/* One record's values by column, copied and normalised (the reader's
 * buffer moves on). Zero-initialise; imp_row_fini frees. */
struct imp_row {
	unsigned long line; /* physical line the record starts on */
	struct wh_buf buf;
	size_t off[IMP_NCOLS], len[IMP_NCOLS];
	uint8_t given[IMP_NCOLS];
};

void imp_row_reset(struct imp_row *r, unsigned long line);
void imp_row_fini(struct imp_row *r);
/* Set a column from p[0..n): blanks (space, tab, CR, LF) trimmed at both
 * ends, CRLF inside made LF (Excel and hotline systems disagree on line
 * ends; the content is the same). Empty after trimming: not given. */
void imp_row_set(struct imp_row *r, unsigned col, const char *p, size_t n);
/* The value (NUL-terminated; *n its length, which may show an embedded
 * NUL), or NULL if not given. Valid until the row changes. */
const char *imp_row_get(const struct imp_row *r, unsigned col, size_t *n);

/* A row's values, checked. Text points into the row (valid while it
 * is); tags and the location are owned (imp_vals_fini). */
struct imp_vals {
	const char *str[WH_F_KEY_MAX + 1]; /* title, description, category,
					    * address, reporter, contact,
					    * external_ref; NULL: not given */
	int source, priority, status;	   /* -1: not given */
	int has_loc;
	int64_t lat_e7, lon_e7;
	struct wh_buf loc; /* [lat, lon] encoded for the op */
	int has_path;
	char path[WH_PATH_MAX + 1]; /* from grid (station path + grid) or
				     * path */
	int has_id;
	char code[WH_CODE_MAX + 1];
	uint32_t seq;
	const char *created;
	size_t ntags;
	const char *tags[IMP_MAX_TAGS];
	struct wh_buf tagbuf; /* the tags, NUL-separated */
	char ref[24];	      /* derived reference: "imp:" + 12 hex */
};

void imp_vals_fini(struct imp_vals *v);

/*
 * Check every value of r on its own: UTF-8, the op format's limits
 * (wh_field_max), enum spellings, degrees, grid and path (inside the
 * station's path), tags; and derive v->ref from the row's content. v is
 * initialised by the call (release with imp_vals_fini in any case).
 * WH_OK, or WH_EINVAL with why = "column 'value': reason".
 */
WH_MUST_CHECK int imp_row_check(const struct imp_row *r,
				const struct cli_conf *conf, struct imp_vals *v,
				char *why, size_t whyn);

/* ---- import_jsonl.c ---- */

/*
 * One JSON Lines record, p[0..n) (one line, at most a bounded length),
 * into r (already reset for its line): an object whose keys are columns
 * with text, integer, null (not given) values; lat and lon may be
 * fractions, tags an array of text. WH_OK, or WH_EINVAL with why.
 */
WH_MUST_CHECK int imp_jsonl_row(const char *p, size_t n, struct imp_row *r,
				char *why, size_t whyn);

/* ---- import_plan.c ---- */

struct imp_ref;	 /* an external_ref held by a case in the store */
struct imp_seen; /* what the rows of this pass have touched */

struct imp_plan {
	struct cli *c;
	int write; /* 0: decide and check only (dry run, first pass) */
	struct imp_ref *refs;
	size_t nrefs;
	struct imp_seen *seen;
	struct wh_op_draft *rd; /* the row being planned */
	struct wh_key *probe_key;
	/* The batch: drafts of up to IMP_BATCH_ROWS rows, and the copies
	 * of everything they borrow. */
	struct wh_op_draft *d;
	size_t nd, dcap;
	void **owned;
	size_t nowned, ocap;
	size_t batch_rows;
	/* Sealed personal data of the batch (cli_seal.h): the seal of
	 * each draft that needs one sealed at write time (a create's,
	 * whose seq the store gives), by draft index, parallel to d; every
	 * seal of the batch, owned; and the readers of new cases by path. */
	struct cli_seal **fill;
	struct cli_seal **seals;
	size_t nseals, scap;
	struct cli_rcache *rcache;
	struct cli_seal *row_seal; /* the row being planned's, until taken */
	int row_fill;              /* it seals the row's first draft (a
				    * create) at write time */
	uint64_t created, updated, unchanged, ops;
};

/* What a row came to. */
enum { IMP_R_REFUSED = 0, IMP_R_CREATED, IMP_R_UPDATED, IMP_R_UNCHANGED };

/* Start a pass: read the external_ref of every case held (one walk).
 * WH_OK or a store error. */
WH_MUST_CHECK int imp_plan_init(struct imp_plan *p, struct cli *c, int write);
/* Free; the batch must have been flushed (or is dropped). */
void imp_plan_fini(struct imp_plan *p);

/*
 * Decide what a checked row does: IMP_R_CREATED, IMP_R_UPDATED or
 * IMP_R_UNCHANGED (counted; when writing, its ops join the batch, which is
 * written every IMP_BATCH_ROWS rows), IMP_R_REFUSED with why filled, or a
 * negative store error (why filled; rows of earlier batches are stored,
 * this batch is not).
 */
WH_MUST_CHECK int imp_plan_row(struct imp_plan *p, const struct imp_row *r,
			       const struct imp_vals *v, char *why,
			       size_t whyn);
/* Write the batch (one transaction): WH_OK or a store error, after which
 * the batch is dropped. */
WH_MUST_CHECK int imp_plan_flush(struct imp_plan *p);

#endif
