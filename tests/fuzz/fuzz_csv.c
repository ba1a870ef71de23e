/*
 * fuzz_csv.c: CSV input of `whistle case import` (agent/csv.c), read
 * twice. Once as the command reads it: the header row mapped to columns
 * (imp_col_find, as cmd_case_import.c's csv_header), then every record
 * into a row (imp_row_set), checked (imp_row_check) and decided against
 * a store (imp_plan_row, dry run; fuzz_import.c). Once more with tiny
 * limits, for the reader's bounds and its recovery after a bad record.
 *
 * Checks (csv.h's contract): a record keeps at most max_fields fields
 * and max_record bytes; every field is NUL-terminated at its length;
 * line numbers never go back; an unclosed quote is the last thing read.
 */
#include "fuzz.h"

#include "csv.h"
#include "fuzz_import.h"

#include <string.h>

/* Every record of f under lim, with the reader's promises checked. */
static void bounds(const uint8_t *data, size_t size, size_t max_record,
		   size_t max_fields)
{
	FILE *f = fuzz_stream(data, size);
	struct csv_limits lim = {max_record, max_fields};
	struct csv r;
	csv_init(&r, f, &lim);
	unsigned long line = 0;
	int rc, n = 0;
	while ((rc = csv_next(&r)) != CSV_END) {
		FUZZ_CHECK(rc != CSV_EIO);
		FUZZ_CHECK(r.rec_line >= line);
		line = r.rec_line;
		FUZZ_CHECK(r.nfields <= max_fields);
		size_t total = 0;
		for (size_t i = 0; i < r.nfields; i++) {
			size_t len;
			const char *p = csv_field(&r, i, &len);
			FUZZ_CHECK(p[len] == '\0');
			total += len;
		}
		FUZZ_CHECK(total <= max_record);
		if (rc == CSV_OK)
			FUZZ_CHECK(r.nfields >= 1);
		if (rc == CSV_EQUOTE) {
			FUZZ_CHECK(csv_next(&r) == CSV_END);
			break;
		}
		FUZZ_CHECK(++n <= (int)size + 1);
	}
	csv_fini(&r);
	fclose(f);
}

/* As cmd_case_import.c's csv_header: the column of each field, or -1
 * if the command would refuse the header. */
static int header(struct csv *r, int *col_of)
{
	if (csv_next(r) != CSV_OK)
		return -1;
	int where[IMP_NCOLS] = {0};
	for (size_t i = 0; i < r->nfields; i++) {
		size_t n;
		const char *h = csv_field(r, i, &n);
		if (!wh_utf8_valid((const uint8_t *)h, n))
			return -1;
		int col = imp_col_find(h, n);
		if (col < 0 || where[col])
			return -1;
		FUZZ_CHECK(col < IMP_NCOLS);
		where[col] = (int)i + 1;
		col_of[i] = col;
	}
	return 0;
}

static void import(const uint8_t *data, size_t size)
{
	FILE *f = fuzz_stream(data, size);
	struct csv r;
	int col_of[CSV_MAX_FIELDS];
	csv_init(&r, f, NULL);
	if (header(&r, col_of)) {
		csv_fini(&r);
		fclose(f);
		return;
	}
	size_t ncols = r.nfields;
	struct imp_plan p;
	struct imp_row row;
	memset(&row, 0, sizeof row);
	FUZZ_CHECK(imp_plan_init(&p, &fuzz_imp_cli, 0) == WH_OK);
	int rc;
	while ((rc = csv_next(&r)) != CSV_END) {
		if (rc != CSV_OK || r.nfields != ncols ||
		    (r.nfields == 1 && !*csv_field(&r, 0, NULL)))
			continue; /* refused (or a blank line), as csv_row */
		imp_row_reset(&row, r.rec_line);
		for (size_t i = 0; i < r.nfields; i++) {
			size_t n;
			const char *v = csv_field(&r, i, &n);
			imp_row_set(&row, (unsigned)col_of[i], v, n);
		}
		fuzz_imp_row(&p, &row);
	}
	imp_row_fini(&row);
	imp_plan_fini(&p);
	csv_fini(&r);
	fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return fuzz_imp_init();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	import(data, size);
	bounds(data, size, 64, 4);
	return 0;
}
