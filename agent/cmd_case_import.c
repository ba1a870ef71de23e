/*
 * cmd_case_import.c: `whistle case import FILE`, bulk intake of records
 * from elsewhere (a 12345 hotline export, a grid patrol system) as CSV or
 * JSON Lines. Not to be confused with `whistle import`, which reads
 * signed op files from another station (cmd_export.c).
 *
 * The input is read one record at a time, never whole: CSV through the
 * bounded reader (csv.h), JSON Lines one bounded line at a time, parsed
 * by jansson in import_jsonl.c (its names clash with our json.h writer,
 * which the summary here uses). Each record becomes a row (import.h), is
 * checked on its own (import_row.c), then decided against the store
 * (import_plan.c), whose ops are written IMP_BATCH_ROWS rows per transaction. A
 * refused row is reported as FILE:LINE: reason and skipped.
 *
 * What is refused before anything is written: usage errors, an input
 * that cannot be opened, a CSV header naming an unknown column, a JSON
 * array where JSON Lines were expected. With --all-or-nothing a first
 * pass decides every row without writing, and only if none is refused
 * does a second pass write (stdin is spooled to a temporary file to be
 * read twice). --dry-run is the first pass alone.
 */
#include "csv.h"
#include "import.h"
#include "json.h"
#include "progress.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES (1u << 20) /* one JSON Lines record */
#define KEEP_REFUSED 1000u	  /* refusals listed in --json */

enum { FMT_NONE, FMT_CSV, FMT_JSONL };

static const char help[] =
    "usage: whistle case import FILE [--format csv|jsonl] [--dry-run]\n"
    "                           [--all-or-nothing] [--quiet]\n"
    "\n"
    "Take in many cases at once from a 12345 hotline export or another\n"
    "system: CSV with a header row, or JSON Lines (one object per line).\n"
    "FILE '-' reads stdin. The format comes from the name (.csv, .jsonl,\n"
    ".json) unless --format says. (Op files from another station go to\n"
    "'whistle import'.)\n"
    "\n"
    "Columns: id, external_ref, title, description, category, address,\n"
    "source, priority, reporter, contact, lat, lon, grid or path, status,\n"
    "tags (split on , or ;), created. An empty cell changes nothing.\n"
    "A row with an id updates that case; else a row whose external_ref\n"
    "is already held updates that case; else it creates one (title\n"
    "required). Only values that differ are written, so importing the\n"
    "same file again changes nothing.\n"
    "\n"
    "A bad row is reported as FILE:LINE: reason and skipped; the rest\n"
    "land (exit 1 if any row was refused).\n"
    "  --dry-run         check and count, write nothing\n"
    "  --all-or-nothing  write nothing if any row is refused\n"
    "  --format F        csv or jsonl\n"
    "  --quiet           no progress line\n";

struct refusal {
	unsigned long line;
	char *why;
};

struct run {
	struct cli *c;
	const char *file, *name; /* as given; for messages */
	int fmt, dry, aon, quiet;
	FILE *f;
	/* CSV: the column of each field */
	struct csv csv;
	int col_of[CSV_MAX_FIELDS];
	size_t ncols;
	/* JSON Lines */
	unsigned long line;
	struct wh_buf lbuf;
	struct imp_row row;
	struct imp_plan plan;
	int plan_open;
	uint64_t rows, refused;
	struct refusal *rej;
	size_t nrej;
	/* progress on a terminal (progress.h); the share by bytes read of
	 * a regular file's size (0: a pipe, unknown) */
	struct progress prog;
	uint64_t size;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Rows so far, and the share of the file read when its size is known. */
static void progress(struct run *u)
{
	if (!u->prog.on)
		return;
	long pos = !u->size		? -1
		   : u->fmt == FMT_CSV ? csv_tell(&u->csv)
				       : ftell(u->f);
	if (pos >= 0)
		progress_update_at(&u->prog, u->rows, (uint64_t)pos, u->size);
	else
		progress_update(&u->prog, u->rows, 0);
}

static void refuse(struct run *u, unsigned long line, const char *why)
{
	progress_clear(&u->prog);
	fflush(stdout);
	fprintf(stderr, "%s:%lu: %s\n", u->name, line, why);
	u->refused++;
	if (u->nrej < KEEP_REFUSED) {
		if (!u->rej)
			u->rej = wh_xcalloc(KEEP_REFUSED, sizeof *u->rej);
		u->rej[u->nrej].line = line;
		u->rej[u->nrej++].why = wh_xstrndup(why, strlen(why));
	}
}

/* ---- CSV ---- */

static int csv_header(struct run *u)
{
	int rc = csv_next(&u->csv);
	if (rc == CSV_END)
		return cli_fail(u->c, "%s: empty: no header row", u->name);
	if (rc != CSV_OK)
		return cli_fail(u->c, "%s:%lu: header: %s", u->name,
				u->csv.err_line ? u->csv.err_line : 1,
				csv_strerror(rc));
	char list[256];
	imp_col_list(list, sizeof list);
	int where[IMP_NCOLS] = {0};
	u->ncols = u->csv.nfields;
	for (size_t i = 0; i < u->ncols; i++) {
		size_t n;
		const char *h = csv_field(&u->csv, i, &n);
		if (!wh_utf8_valid((const uint8_t *)h, n))
			return cli_fail(u->c,
					"%s:%lu: header: not valid UTF-8 "
					"(a file saved as GBK? save it "
					"as \"CSV UTF-8\")",
					u->name, u->csv.rec_line);
		int col = imp_col_find(h, n);
		if (col < 0 && strspn(h, " \t\r\n") == n)
			return cli_fail(u->c,
					"%s:%lu: column %zu has no name (a "
					"trailing comma?); nothing imported",
					u->name, u->csv.rec_line, i + 1);
		if (col < 0)
			return cli_fail(u->c,
					"%s:%lu: unknown column '%s' "
					"(column %zu; known: %s); "
					"nothing imported",
					u->name, u->csv.rec_line, h, i + 1,
					list);
		if (where[col])
			return cli_fail(u->c,
					"%s:%lu: column %s given twice "
					"(columns %d and %zu); nothing "
					"imported",
					u->name, u->csv.rec_line,
					imp_col_name((unsigned)col), where[col],
					i + 1);
		where[col] = (int)i + 1;
		u->col_of[i] = col;
	}
	return CLI_OK;
}

/* Next CSV row into u->row: 1 a row, 0 the end, -1 a refused row, -2 a
 * read error; both reported. */
static int csv_row(struct run *u)
{
	char why[IMP_WHY_MAX];
	for (;;) {
		int rc = csv_next(&u->csv);
		struct csv *r = &u->csv;
		if (rc == CSV_END)
			return 0;
		if (rc == CSV_EIO) {
			cli_fail(u->c, "%s: %s", u->name, strerror(errno));
			return -2;
		}
		u->rows++;
		if (rc == CSV_EQUOTE) {
			snprintf(why, sizeof why,
				 "the quoted field opened on "
				 "line %lu is never closed "
				 "(the rest of the file is "
				 "inside it)",
				 r->err_line);
		} else if (rc == CSV_ERECORD) {
			snprintf(why, sizeof why, "record longer than %u bytes",
				 CSV_MAX_RECORD);
		} else if (rc == CSV_EFIELDS) {
			snprintf(why, sizeof why, "more than %u fields",
				 CSV_MAX_FIELDS);
		} else if (rc != CSV_OK && r->err_line != r->rec_line) {
			snprintf(why, sizeof why, "line %lu: %s", r->err_line,
				 csv_strerror(rc));
		} else if (rc != CSV_OK) {
			snprintf(why, sizeof why, "%s", csv_strerror(rc));
		} else if (r->nfields == 1 && !*csv_field(r, 0, NULL)) {
			u->rows--; /* a blank line */
			continue;
		} else if (r->nfields != u->ncols) {
			snprintf(why, sizeof why,
				 "%zu fields, the header has "
				 "%zu",
				 r->nfields, u->ncols);
		} else {
			imp_row_reset(&u->row, r->rec_line);
			for (size_t i = 0; i < r->nfields; i++) {
				size_t n;
				const char *v = csv_field(r, i, &n);
				imp_row_set(&u->row, (unsigned)u->col_of[i], v,
					    n);
			}
			return 1;
		}
		refuse(u, r->rec_line, why);
		return -1;
	}
}

/* ---- JSON Lines ---- */

/* One line into u->lbuf (without its LF): 1, 0 at the end, -1 if past
 * LINE_MAX_BYTES (the rest of the line is read and dropped). */
static int read_line(struct run *u)
{
	wh_buf_reset(&u->lbuf);
	int ch, any = 0, over = 0;
	while ((ch = getc_unlocked(u->f)) != EOF) {
		any = 1;
		if (ch == '\n')
			break;
		if (u->lbuf.len >= LINE_MAX_BYTES) {
			over = 1;
			continue;
		}
		uint8_t b = (uint8_t)ch;
		wh_buf_append(&u->lbuf, &b, 1);
	}
	if (!any)
		return 0;
	u->line++;
	return over ? -1 : 1;
}

/* Next JSON Lines row into u->row, as csv_row. */
static int jsonl_row(struct run *u)
{
	char why[IMP_WHY_MAX];
	for (;;) {
		int rc = read_line(u);
		if (rc == 0) {
			if (ferror(u->f)) {
				cli_fail(u->c, "%s: %s", u->name,
					 strerror(errno));
				return -2;
			}
			return 0;
		}
		const char *p = (const char *)u->lbuf.p;
		size_t n = u->lbuf.len, lead = 0;
		/* A BOM as Notepad writes it: not part of the JSON. */
		if (u->line == 1 && n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) {
			p += 3;
			n -= 3;
		}
		while (lead < n &&
		       (p[lead] == ' ' || p[lead] == '\t' || p[lead] == '\r'))
			lead++;
		if (rc > 0 && lead == n)
			continue; /* a blank line */
		u->rows++;
		if (rc < 0) {
			snprintf(why, sizeof why, "line longer than %u bytes",
				 LINE_MAX_BYTES);
			refuse(u, u->line, why);
			return -1;
		}
		if (u->rows == 1 && p[lead] == '[') {
			cli_fail(u->c,
				 "%s:%lu: a JSON array, not JSON Lines "
				 "(one object per line); convert it "
				 "with: jq -c '.[]' %s; nothing imported",
				 u->name, u->line, u->name);
			return -2;
		}
		imp_row_reset(&u->row, u->line);
		if (imp_jsonl_row(p, n, &u->row, why, sizeof why) == WH_OK)
			return 1;
		refuse(u, u->line, why);
		return -1;
	}
}

/* ---- passes ---- */

static int start_input(struct run *u)
{
	if (u->fmt == FMT_CSV) {
		csv_fini(&u->csv);
		csv_init(&u->csv, u->f, NULL);
		return csv_header(u);
	}
	u->line = 0;
	return CLI_OK;
}

/* One pass over the input: decide every row; write when 'write'. */
static int pass(struct run *u, int write)
{
	char why[IMP_WHY_MAX];
	int rc = imp_plan_init(&u->plan, u->c, write);
	u->plan_open = 1;
	if (rc)
		return cli_fail(u->c, "store: %s", wh_strerror(rc));
	u->rows = u->refused = 0;
	progress_start(&u->prog, "case import", write ? "writing" : "checking",
		       "rows", u->quiet);
	for (;;) {
		int got = u->fmt == FMT_CSV ? csv_row(u) : jsonl_row(u);
		if (got == 0)
			break;
		if (got == -2)
			return CLI_FAIL;
		progress(u);
		if (got < 0)
			continue;
		struct imp_vals v;
		rc = imp_row_check(&u->row, &u->c->conf, &v, why, sizeof why);
		if (rc == WH_OK)
			rc = imp_plan_row(&u->plan, &u->row, &v, why,
					  sizeof why);
		else
			rc = IMP_R_REFUSED;
		imp_vals_fini(&v);
		if (rc == IMP_R_REFUSED)
			refuse(u, u->row.line, why);
		if (rc < 0 && cli_roster_refusal(rc)) {
			progress_end(&u->prog);
			return cli_fail(u->c,
					"%s:%lu: %s; the rows before this "
					"batch are stored, the rest will be "
					"refused until the district's roster "
					"grants this station",
					u->name, u->row.line, why);
		}
		if (rc < 0) {
			progress_end(&u->prog);
			return cli_fail(u->c,
					"%s:%lu: %s; the rows before this "
					"batch are stored: import the file "
					"again to finish (it skips what "
					"landed)",
					u->name, u->row.line, why);
		}
	}
	progress_end(&u->prog);
	if (!write || !(rc = imp_plan_flush(&u->plan)))
		return CLI_OK;
	if (cli_roster_refusal(rc))
		return cli_fail(u->c,
				"store: refused by the roster: %s; the rows "
				"of the last batch are not stored, and will "
				"be refused until the district's roster "
				"grants this station",
				wh_strerror(rc));
	return cli_fail(u->c,
			"store: %s; the rows of the last batch "
			"are not stored: import the file again "
			"to finish",
			wh_strerror(rc));
}

static void summary(struct run *u, int written, uint64_t ms)
{
	const struct imp_plan *p = &u->plan;
	if (!u->c->json) {
		printf("%s: %llu created, %llu updated, %llu unchanged, "
		       "%llu refused",
		       u->name, (unsigned long long)p->created,
		       (unsigned long long)p->updated,
		       (unsigned long long)p->unchanged,
		       (unsigned long long)u->refused);
		if (u->dry)
			printf(" (dry run: nothing written)\n");
		else if (!written)
			printf(" (--all-or-nothing: nothing written)\n");
		else
			printf(" (%llu ops in %.1f s)\n",
			       (unsigned long long)p->ops, (double)ms / 1000);
		return;
	}
	struct json j;
	json_init(&j, stdout);
	json_obj(&j);
	json_kstr(&j, "file", u->file);
	json_kstr(&j, "format", u->fmt == FMT_CSV ? "csv" : "jsonl");
	json_kuint(&j, "rows", u->rows);
	json_kuint(&j, "created", p->created);
	json_kuint(&j, "updated", p->updated);
	json_kuint(&j, "unchanged", p->unchanged);
	json_kuint(&j, "refused", u->refused);
	json_kuint(&j, "ops", written ? p->ops : 0);
	json_kbool(&j, "dry_run", u->dry);
	json_kbool(&j, "written", written);
	json_key(&j, "refused_rows");
	json_arr(&j);
	for (size_t i = 0; i < u->nrej; i++) {
		json_obj(&j);
		json_kuint(&j, "line", u->rej[i].line);
		json_kstr(&j, "reason", u->rej[i].why);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_kbool(&j, "refused_rows_truncated", u->refused > u->nrej);
	json_obj_end(&j);
	json_end(&j);
}

/* ---- the command ---- */

static int format_of(const char *file)
{
	size_t n = strlen(file);
	static const struct {
		const char *ext;
		int fmt;
	} ext[] = {{".csv", FMT_CSV},
		   {".jsonl", FMT_JSONL},
		   {".json", FMT_JSONL},
		   {".ndjson", FMT_JSONL}};
	for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
		size_t k = strlen(ext[i].ext);
		if (n > k && !strcasecmp(file + n - k, ext[i].ext))
			return ext[i].fmt;
	}
	return FMT_NONE;
}

static int parse_args(struct run *u, int argc, char **argv)
{
	static const struct cli_opt opts[] = {{"format", 0, 1},
					      {"dry-run", 0, 0},
					      {"all-or-nothing", 0, 0},
					      {"quiet", 'q', 0},
					      {NULL, 0, 0}};
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which;
	const char *v, *fmt = NULL;
	while ((t = cli_args_next(u->c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP) {
			cli_help(help);
			return -1;
		}
		if (t == ARG_POS) {
			if (u->file)
				return cli_usage(u->c,
						 "unexpected argument "
						 "'%s' (one file at a "
						 "time)",
						 v);
			u->file = v;
		} else if (which == 0) {
			fmt = v;
		} else if (which == 1) {
			u->dry = 1;
		} else if (which == 2) {
			u->aon = 1;
		} else {
			u->quiet = 1;
		}
	}
	if (!u->file)
		return cli_usage(u->c, "missing FILE (a .csv or .jsonl file, "
				       "or - for stdin)");
	if (fmt && !strcmp(fmt, "csv"))
		u->fmt = FMT_CSV;
	else if (fmt && !strcmp(fmt, "jsonl"))
		u->fmt = FMT_JSONL;
	else if (fmt)
		return cli_usage(u->c, "--format '%s': not csv or jsonl", fmt);
	else if (!strcmp(u->file, "-"))
		return cli_usage(u->c, "reading stdin: give --format csv or "
				       "--format jsonl");
	else if ((u->fmt = format_of(u->file)) == FMT_NONE)
		return cli_usage(u->c,
				 "cannot tell the format of '%s' from "
				 "its name: give --format csv or "
				 "--format jsonl",
				 u->file);
	u->name = strcmp(u->file, "-") ? u->file : "stdin";
	return CLI_OK;
}

/* Open the input; for two passes over a pipe, copy it to a temporary
 * file first. */
static int open_input(struct run *u)
{
	u->f = strcmp(u->file, "-") ? fopen(u->file, "rb") : stdin;
	if (!u->f)
		return cli_fail(u->c, "%s: %s", u->file, strerror(errno));
	if (!u->aon || u->dry || fseek(u->f, 0, SEEK_CUR) == 0)
		return CLI_OK;
	FILE *tmp = tmpfile();
	if (!tmp)
		return cli_fail(u->c, "temporary file: %s", strerror(errno));
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, u->f)) > 0)
		if (fwrite(buf, 1, n, tmp) != n)
			break;
	int bad = ferror(u->f) || ferror(tmp) || fflush(tmp) ||
		  fseek(tmp, 0, SEEK_SET);
	if (u->f != stdin)
		fclose(u->f);
	u->f = tmp;
	if (bad)
		return cli_fail(u->c,
				"%s: cannot keep a copy for two passes: "
				"%s",
				u->name, strerror(errno));
	return CLI_OK;
}

static int run_passes(struct run *u, int *written)
{
	*written = 0;
	int rc = start_input(u);
	if (rc == CLI_OK)
		rc = pass(u, !u->dry && !u->aon);
	if (rc || u->dry)
		return rc;
	if (!u->aon || u->refused) {
		*written = !u->aon;
		return CLI_OK;
	}
	/* All rows passed: the writing pass, from the start. */
	imp_plan_fini(&u->plan);
	u->plan_open = 0;
	if (fseek(u->f, 0, SEEK_SET))
		return cli_fail(u->c, "%s: %s", u->name, strerror(errno));
	if ((rc = start_input(u)) || (rc = pass(u, 1)))
		return rc;
	*written = 1;
	return CLI_OK;
}

int cmd_case_import(struct cli *c, int argc, char **argv)
{
	struct run u;
	memset(&u, 0, sizeof u);
	u.c = c;
	int rc = parse_args(&u, argc, argv);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	if ((rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE)))
		return rc;
	int written = 0;
	uint64_t t0 = now_ms();
	rc = open_input(&u);
	struct stat st;
	if (rc == CLI_OK && fstat(fileno(u.f), &st) == 0 && S_ISREG(st.st_mode))
		u.size = (uint64_t)st.st_size;
	if (rc == CLI_OK)
		rc = run_passes(&u, &written);
	if (rc == CLI_OK)
		summary(&u, written, now_ms() - t0);
	if (u.plan_open)
		imp_plan_fini(&u.plan);
	csv_fini(&u.csv);
	imp_row_fini(&u.row);
	wh_buf_fini(&u.lbuf);
	for (size_t i = 0; i < u.nrej; i++)
		free(u.rej[i].why);
	free(u.rej);
	if (u.f && u.f != stdin)
		fclose(u.f);
	if (rc)
		return rc;
	return u.refused ? CLI_FAIL : CLI_OK;
}
