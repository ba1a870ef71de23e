/*
 * test_csv.c: the CSV reader of `whistle case import` (agent/csv.h):
 * RFC 4180 as Excel and hotline systems write it (quotes, doubled
 * quotes, line ends inside quotes with the right line numbers, CRLF, LF
 * and lone CR, a BOM, empty fields, a last line with or without its line
 * end), malformed input (an unclosed quote, a stray quote, text after a
 * closing quote, a record past the size or field limit) with the right
 * error and line, and that reading goes on at the right place after a
 * bad record. A randomised round trip (seed printed) writes records the
 * RFC way and reads them back across the reader's buffer boundaries.
 */
#include "csv.h"
#include "wh_test.h"

static FILE *input(const void *p, size_t n)
{
	FILE *f = tmpfile();
	REQUIRE(f);
	REQUIRE(fwrite(p, 1, n, f) == n);
	rewind(f);
	return f;
}

/* Expected records: fields joined by '|' (no '|' in these tests). */
struct want {
	int st;
	unsigned long line;
	const char *fields;
};

static void joined(const struct csv *r, char *out, size_t outn)
{
	size_t at = 0;
	out[0] = '\0';
	for (size_t i = 0; i < r->nfields; i++)
		at += (size_t)snprintf(out + at, outn - at, "%s%s",
				       i ? "|" : "", csv_field(r, i, NULL));
}

/* Read all of s (n bytes) with lim and compare with w[0..nw); then END. */
static void expect(const char *name, const char *s, size_t n,
		   const struct csv_limits *lim, const struct want *w, int nw)
{
	FILE *f = input(s, n);
	struct csv r;
	csv_init(&r, f, lim);
	char got[4096];
	for (int i = 0; i <= nw; i++) {
		int st = csv_next(&r);
		int want_st = i < nw ? w[i].st : CSV_END;
		if (st != want_st) {
			fprintf(stderr,
				"%s: record %d: status %d (%s), want "
				"%d\n",
				name, i + 1, st, csv_strerror(st), want_st);
			wh_test_failures++;
			break;
		}
		if (i == nw)
			break;
		if (r.rec_line != w[i].line && st == CSV_OK) {
			fprintf(stderr,
				"%s: record %d: rec_line %lu, want "
				"%lu\n",
				name, i + 1, r.rec_line, w[i].line);
			wh_test_failures++;
		}
		if (st != CSV_OK && r.err_line != w[i].line) {
			fprintf(stderr,
				"%s: record %d: err_line %lu, want "
				"%lu\n",
				name, i + 1, r.err_line, w[i].line);
			wh_test_failures++;
		}
		if (st == CSV_OK && w[i].fields) {
			joined(&r, got, sizeof got);
			if (strcmp(got, w[i].fields)) {
				fprintf(stderr,
					"%s: record %d: '%s', want "
					"'%s'\n",
					name, i + 1, got, w[i].fields);
				wh_test_failures++;
			}
		}
	}
	/* END stays END */
	CHECK_EQ(csv_next(&r), CSV_END);
	csv_fini(&r);
	fclose(f);
}

#define EXPECT(name, s, lim, ...)                                              \
	do {                                                                   \
		static const struct want w_[] = {__VA_ARGS__};                 \
		expect(name, s, sizeof(s) - 1, lim, w_,                        \
		       (int)(sizeof w_ / sizeof w_[0]));                       \
	} while (0)

static void test_rfc(void)
{
	EXPECT("lf", "id,title\n1,楼道堆物\n", NULL, {CSV_OK, 1, "id|title"},
	       {CSV_OK, 2, "1|楼道堆物"});
	EXPECT("no final newline", "a,b\n1,2", NULL, {CSV_OK, 1, "a|b"},
	       {CSV_OK, 2, "1|2"});
	EXPECT("crlf", "a,b\r\n1,2\r\n", NULL, {CSV_OK, 1, "a|b"},
	       {CSV_OK, 2, "1|2"});
	EXPECT("lone cr", "a\rb\rc", NULL, {CSV_OK, 1, "a"}, {CSV_OK, 2, "b"},
	       {CSV_OK, 3, "c"});
	EXPECT("quotes", "\"x, y\",\"he said \"\"hi\"\"\",plain,\"\"\n", NULL,
	       {CSV_OK, 1, "x, y|he said \"hi\"|plain|"});
	EXPECT("only a doubled quote", "\"\"\"\"\n", NULL, {CSV_OK, 1, "\""});
	EXPECT("embedded newlines",
	       "h1,h2\n\"第一行\n第二行\n第三行\",x\nnext,y\n\"a\r\nb\",z\n",
	       NULL, {CSV_OK, 1, "h1|h2"},
	       {CSV_OK, 2, "第一行\n第二行\n第三行|x"}, {CSV_OK, 5, "next|y"},
	       {CSV_OK, 6, "a\r\nb|z"});
	EXPECT("bom", "\xEF\xBB\xBFid,title\n1,x\n", NULL,
	       {CSV_OK, 1, "id|title"}, {CSV_OK, 2, "1|x"});
	EXPECT("bom only at the start", "a\n\xEF\xBB\xBF\n", NULL,
	       {CSV_OK, 1, "a"}, {CSV_OK, 2, "\xEF\xBB\xBF"});
	expect("bom and nothing else", "\xEF\xBB\xBF", 3, NULL, NULL, 0);
	EXPECT("empty fields", ",,\na,,c\n\"\",\n", NULL, {CSV_OK, 1, "||"},
	       {CSV_OK, 2, "a||c"}, {CSV_OK, 3, "|"});
	EXPECT("blank line", "a\n\nb\n", NULL, {CSV_OK, 1, "a"},
	       {CSV_OK, 2, ""}, {CSV_OK, 3, "b"});
	expect("empty input", "", 0, NULL, NULL, 0);
	EXPECT("quoted field last, no newline", "a,\"b\"", NULL,
	       {CSV_OK, 1, "a|b"});
	EXPECT("crlf after quote", "\"a\"\r\n\"b\"\r\n", NULL, {CSV_OK, 1, "a"},
	       {CSV_OK, 2, "b"});

	/* field counts and lengths, and NUL bytes kept with their length */
	FILE *f = input("a\0b,,c\n", 7);
	struct csv r;
	csv_init(&r, f, NULL);
	REQUIRE(csv_next(&r) == CSV_OK);
	CHECK_EQ(r.nfields, 3);
	size_t n;
	const char *s = csv_field(&r, 0, &n);
	CHECK_EQ(n, 3);
	CHECK(!memcmp(s, "a\0b", 3));
	csv_field(&r, 1, &n);
	CHECK_EQ(n, 0);
	CHECK(!strcmp(csv_field(&r, 5, &n), "") && n == 0); /* out of range */
	csv_fini(&r);
	fclose(f);
}

static void test_malformed(void)
{
	EXPECT("unclosed quote", "a,b\n1,\"open\nmore\nstill\n", NULL,
	       {CSV_OK, 1, "a|b"}, {CSV_EQUOTE, 2, NULL});
	EXPECT("stray quote, then the next record", "a,b\"c,d\nnext,1\n", NULL,
	       {CSV_ESTRAY, 1, NULL}, {CSV_OK, 2, "next|1"});
	EXPECT("stray quote on a later line",
	       "ok,1\n\"two\nlines\",x\"y\nafter,2\n", NULL,
	       {CSV_OK, 1, "ok|1"}, {CSV_ESTRAY, 3, NULL},
	       {CSV_OK, 4, "after|2"});
	EXPECT("text after closing quote", "\"a\"b,c\nx,y\n", NULL,
	       {CSV_EAFTER, 1, NULL}, {CSV_OK, 2, "x|y"});
	EXPECT("unclosed wins over stray", "a\"b,\"c\nd\n", NULL,
	       {CSV_EQUOTE, 1, NULL});

	struct csv_limits small = {16, 3};
	EXPECT("record too long",
	       "short,1\nxxxxxxxxxxxxxxxxxxxxxxxxxxxx,2\n"
	       "after,3\n",
	       &small, {CSV_OK, 1, "short|1"}, {CSV_ERECORD, 2, NULL},
	       {CSV_OK, 3, "after|3"});
	EXPECT("exactly at the limit", "0123456789abcdef\n", &small,
	       {CSV_OK, 1, "0123456789abcdef"});
	EXPECT("one byte past", "0123456789abcdefg\n", &small,
	       {CSV_ERECORD, 1, NULL});
	EXPECT("separators count", ",,,,,,,,,,,,,,,,,,,,,,\nz\n",
	       &((struct csv_limits){8, 64}), {CSV_ERECORD, 1, NULL},
	       {CSV_OK, 2, "z"});
	EXPECT("too many fields", "a,b,c,d\nx\n", &small,
	       {CSV_EFIELDS, 1, NULL}, {CSV_OK, 2, "x"});
	EXPECT("a long quoted record keeps line numbers",
	       "\"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\",x\nz,1\n", &small,
	       {CSV_ERECORD, 1, NULL}, {CSV_OK, 13, "z|1"});
}

/* A 10 MB line: a clear error after one scan, then the next record. */
static void test_huge_line(void)
{
	size_t big = 10u << 20;
	char *s = malloc(big + 64);
	REQUIRE(s);
	memcpy(s, "a,b\n", 4);
	memset(s + 4, 'x', big);
	memcpy(s + 4 + big, "\nnext,2\n", 8);
	FILE *f = input(s, big + 12);
	free(s);
	struct csv r;
	csv_init(&r, f, NULL);
	REQUIRE(csv_next(&r) == CSV_OK);
	CHECK_EQ(csv_next(&r), CSV_ERECORD);
	CHECK_EQ(r.err_line, 2);
	/* what was kept is bounded by the limit, not the line */
	CHECK(r.data.cap <= 2u * CSV_MAX_RECORD + 64);
	REQUIRE(csv_next(&r) == CSV_OK);
	CHECK_EQ(r.rec_line, 3);
	CHECK(!strcmp(csv_field(&r, 0, NULL), "next"));
	CHECK_EQ(csv_next(&r), CSV_END);
	csv_fini(&r);
	fclose(f);
}

/* Write random records the RFC way, read them back. Fields draw from
 * bytes that matter (comma, quote, CR, LF, CJK); the file is well past
 * the 64 KiB read buffer, so quotes and CRLFs land on its edges. */
static void test_roundtrip(void)
{
	uint64_t seed = wh_test_seed("test_csv roundtrip");
	static const char *const atoms[] = {"a", ",",	 "\"", "\n", "\r\n",
					    " ", "网格", "x",  "\r"};
	enum { NREC = 10000, MAXF = 6, MAXA = 12 };
	struct wh_buf file = {0};
	char(*fields)[MAXF][MAXA * 4 + 1] = calloc(NREC, sizeof *fields);
	int *nf = calloc(NREC, sizeof *nf);
	unsigned long *line = calloc(NREC, sizeof *line);
	REQUIRE(fields && nf && line);
	unsigned long ln = 1;
	for (int i = 0; i < NREC; i++) {
		nf[i] = 1 + (int)wh_test_below(&seed, MAXF);
		line[i] = ln;
		for (int k = 0; k < nf[i]; k++) {
			char *fv = fields[i][k];
			fv[0] = '\0';
			int na = (int)wh_test_below(&seed, MAXA);
			/* a one-field record must not be blank-looking */
			if (nf[i] == 1 && na == 0)
				na = 1;
			for (int a = 0; a < na; a++)
				strcat(fv, atoms[wh_test_below(&seed, 9)]);
			int quote = strpbrk(fv, ",\"\r\n") != NULL ||
				    wh_test_below(&seed, 4) == 0;
			if (k)
				wh_buf_append(&file, ",", 1);
			if (quote)
				wh_buf_append(&file, "\"", 1);
			for (const char *p = fv; *p; p++) {
				if (*p == '"')
					wh_buf_append(&file, "\"", 1);
				if (*p == '\n')
					ln++;
				wh_buf_append(&file, p, 1);
			}
			if (quote)
				wh_buf_append(&file, "\"", 1);
		}
		int crlf = (int)wh_test_below(&seed, 2);
		if (i < NREC - 1 || crlf) {
			wh_buf_append(&file, crlf ? "\r\n" : "\n",
				      crlf ? 2 : 1);
			ln++;
		}
	}
	CHECK(file.len > 3 * 65536);
	FILE *f = input(file.p, file.len);
	struct csv r;
	csv_init(&r, f, NULL);
	int bad = 0;
	for (int i = 0; i < NREC && bad < 5; i++) {
		int st = csv_next(&r);
		if (st != CSV_OK || r.nfields != (size_t)nf[i] ||
		    r.rec_line != line[i]) {
			fprintf(stderr,
				"roundtrip record %d: st %d nfields "
				"%zu/%d line %lu/%lu\n",
				i, st, r.nfields, nf[i], r.rec_line, line[i]);
			bad++;
			continue;
		}
		for (int k = 0; k < nf[i]; k++)
			if (strcmp(csv_field(&r, (size_t)k, NULL),
				   fields[i][k])) {
				fprintf(stderr,
					"roundtrip record %d field %d "
					"differs\n",
					i, k);
				bad++;
			}
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(csv_next(&r), CSV_END);
	csv_fini(&r);
	fclose(f);
	wh_buf_fini(&file);
	free(fields);
	free(nf);
	free(line);
}

int main(void)
{
	test_rfc();
	test_malformed();
	test_huge_line();
	test_roundtrip();
	return wh_test_done("test_csv");
}
