/*
 * fuzz_jsonl.c: JSON Lines input of `whistle case import`
 * (agent/import_jsonl.c, through jansson): the input cut into lines as
 * cmd_case_import.c's jsonl_row does (a BOM on the first, blank lines
 * skipped, a JSON array first refused), each line into a row
 * (imp_jsonl_row), checked and decided against a store (dry run;
 * fuzz_import.c).
 *
 * Checks: a refused line always says why.
 */
#include "fuzz.h"

#include "fuzz_import.h"

#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return fuzz_imp_init();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imp_plan p;
	struct imp_row row;
	memset(&row, 0, sizeof row);
	FUZZ_CHECK(imp_plan_init(&p, &fuzz_imp_cli, 0) == WH_OK);
	const char *s = (const char *)data, *end = s + size;
	unsigned long line = 0, rows = 0;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *q = s;
		size_t n = (size_t)((nl ? nl : end) - s), lead = 0;
		s = nl ? nl + 1 : end;
		if (++line == 1 && n >= 3 && !memcmp(q, "\xEF\xBB\xBF", 3)) {
			q += 3;
			n -= 3;
		}
		while (lead < n &&
		       (q[lead] == ' ' || q[lead] == '\t' || q[lead] == '\r'))
			lead++;
		if (lead == n)
			continue;
		if (++rows == 1 && q[lead] == '[')
			break; /* a JSON array: the command refuses it all */
		char why[IMP_WHY_MAX] = "";
		imp_row_reset(&row, line);
		if (imp_jsonl_row(q, n, &row, why, sizeof why) == WH_OK)
			fuzz_imp_row(&p, &row);
		else
			FUZZ_CHECK(why[0]);
	}
	imp_row_fini(&row);
	imp_plan_fini(&p);
	return 0;
}
