/*
 * cmd_problems_publish.c: `whistle problems publish FILE`: a district's
 * or street's problem list (问题清单) from a tab-separated file, as kept
 * in a spreadsheet. Every line is checked as `problems set` would parse
 * it before anything is written; then each is set (cmd_problems.c).
 */
#include "cli.h"
#include "cli_problems.h"
#include "flow.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char publish_help[] =
	"usage: whistle problems publish FILE\n"
	"\n"
	"Publish many entries at once from a tab-separated file (UTF-8; the\n"
	"layout of share/problems/xicheng-sample.tsv): a header line\n"
	"  category  lead  departments  report_within  resolve_within  text\n"
	"then one entry per line (blank lines and lines starting with # are\n"
	"skipped); departments separated by , ， or 、; empty limits or text\n"
	"mean none. Every line is checked before anything is\n"
	"written (a bad line: FILE:LINE and the reason, exit 2, nothing\n"
	"written); then each entry is set as `problems set` would, and entries\n"
	"already so are left alone, so publishing the same file again writes\n"
	"nothing.\n";

#define PUB_LINE_MAX 8192
#define PUB_ARGS_MAX (2 * WH_FLOW_MAX_DEPTS + 12)

/* Split one data line into the argv of `problems set`. The line is cut
 * in place; argv points into it. Returns argc, or -1 with *why. */
static int pub_argv(char *line, char **argv, const char **why)
{
	char *f[7];
	int nf = 0;
	for (char *p = line;; p++) {
		if (nf < 7 && (p == line || p[-1] == '\0'))
			f[nf++] = p;
		if (*p == '\t')
			*p = '\0';
		else if (!*p)
			break;
	}
	if (nf != 6) {
		*why = nf < 6 ? "fewer than 6 tab-separated fields"
			      : "more than 6 tab-separated fields";
		return -1;
	}
	static char lead_opt[] = "--lead", dept_opt[] = "--dept",
		    rep_opt[] = "--report-within",
		    res_opt[] = "--resolve-within", text_opt[] = "--text",
		    end_opt[] = "--";
	/* Every field is data: each value follows its option's name (the
	 * parser takes that word as it is), and the category comes last,
	 * after "--", so that one such as "--json" or "--home=/elsewhere"
	 * cannot act as an option of the command. */
	int n = 0;
	argv[n++] = lead_opt;
	argv[n++] = f[1];
	/* departments: , ， 、 between names; spaces around them trimmed */
	char *d = f[2];
	while (*d) {
		char *end = d;
		size_t skip = 0;
		while (*end) {
			if (*end == ',') { skip = 1; break; }
			if (!strncmp(end, "，", 3) || !strncmp(end, "、", 3)) {
				skip = 3;
				break;
			}
			end++;
		}
		char *next = *end ? end + skip : end;
		*end = '\0';
		while (*d == ' ')
			d++;
		for (char *t = d + strlen(d); t > d && t[-1] == ' ';)
			*--t = '\0';
		if (*d) {
			/* Room for the limits, the text and "--" category. */
			if (n + 2 > PUB_ARGS_MAX - 8) {
				*why = "too many departments";
				return -1;
			}
			argv[n++] = dept_opt;
			argv[n++] = d;
		}
		d = next;
	}
	if (*f[3]) {
		argv[n++] = rep_opt;
		argv[n++] = f[3];
	}
	if (*f[4]) {
		argv[n++] = res_opt;
		argv[n++] = f[4];
	}
	if (*f[5]) {
		argv[n++] = text_opt;
		argv[n++] = f[5];
	}
	argv[n++] = end_opt;
	argv[n++] = f[0];
	argv[n] = NULL;
	return n;
}

/* Read the data lines of f (FILE names it in messages) into a
 * NUL-separated list of line numbers and lines (owned by b), after
 * checking the header. */
static int pub_read(struct cli *c, const char *file, FILE *f,
		    struct wh_buf *b, size_t *nlines)
{
	static const char hdr[] = "category\tlead\tdepartments\t"
				  "report_within\tresolve_within\ttext";
	char line[PUB_LINE_MAX];
	int rc = CLI_OK;
	size_t no = 0;
	*nlines = 0;
	while (rc == CLI_OK && fgets(line, sizeof line, f)) {
		no++;
		size_t n = strlen(line);
		if (n == sizeof line - 1 && line[n - 1] != '\n') {
			rc = cli_usage(c, "%s:%zu: line longer than %d bytes",
				       file, no, PUB_LINE_MAX - 1);
			break;
		}
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		char *p = line;
		if (no == 1 && !strncmp(p, "\xef\xbb\xbf", 3))
			p += 3; /* a BOM, as spreadsheets write it */
		if (no == 1) {
			if (strcmp(p, hdr))
				rc = cli_usage(c, "%s:1: the header must be: "
						  "category, lead, departments, "
						  "report_within, resolve_within, "
						  "text (tab-separated)",
					       file);
			continue;
		}
		if (!*p || *p == '#') /* blank lines and comments */
			continue;
		if (!wh_utf8_valid((const uint8_t *)p, strlen(p))) {
			rc = cli_usage(c, "%s:%zu: not UTF-8", file, no);
			break;
		}
		char num[24];
		snprintf(num, sizeof num, "%zu", no);
		wh_buf_append(b, num, strlen(num) + 1);
		wh_buf_append(b, p, strlen(p) + 1);
		++*nlines;
	}
	if (rc == CLI_OK && ferror(f))
		rc = cli_fail(c, "%s: read failed", file);
	if (rc == CLI_OK && no == 0)
		rc = cli_usage(c, "%s: empty file", file);
	return rc;
}

/* One pass over the n lines pub_read kept in b: check_only checks every
 * line as `problems set` would parse it (pass 1), else sets it. */
static int pub_pass(struct cli *c, const char *file, const struct wh_buf *b,
		    size_t n, int check_only)
{
	int rc = CLI_OK;
	const char *p = (const char *)b->p;
	for (size_t i = 0; i < n && rc == CLI_OK; i++) {
		const char *no = p;
		const char *line = no + strlen(no) + 1;
		p = line + strlen(line) + 1;
		char copy[PUB_LINE_MAX];
		snprintf(copy, sizeof copy, "%s", line);
		char *av[PUB_ARGS_MAX + 1];
		const char *why = NULL;
		int ac = pub_argv(copy, av, &why);
		if (ac < 0) {
			rc = cli_usage(c, "%s:%s: %s", file, no, why);
			break;
		}
		if (!check_only) {
			rc = cli_problems_set_argv(c, ac, av, 0);
			continue;
		}
		int prc = cli_problems_set_argv(c, ac, av, 1);
		if (prc) {
			fprintf(stderr,
				"%s:%s: line refused (above); nothing "
				"published\n",
				file, no);
			rc = prc < 0 ? CLI_USAGE : prc;
		}
	}
	return rc;
}

int cli_problems_publish_check(struct cli *c, const char *file, FILE *f)
{
	struct wh_buf b = {0};
	size_t n = 0;
	int rc = pub_read(c, file, f, &b, &n);
	if (rc == CLI_OK)
		rc = pub_pass(c, file, &b, n, 1);
	wh_buf_fini(&b);
	return rc;
}

int cmd_problems_publish(struct cli *c, int argc, char **argv)
{
	if (argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")))
		return cli_help(publish_help);
	if (argc != 1)
		return cli_usage(c, "give one file (problems publish FILE)");
	const char *file = argv[0];
	FILE *f = fopen(file, "r");
	if (!f)
		return cli_fail(c, "%s: %s", file, strerror(errno));
	struct wh_buf b = {0};
	size_t n = 0;
	int rc = pub_read(c, file, f, &b, &n);
	fclose(f);
	/* Pass 1 checks every line as `problems set` would parse it;
	 * pass 2 sets them. */
	for (int pass = 0; pass < 2 && rc == CLI_OK; pass++)
		rc = pub_pass(c, file, &b, n, pass == 0);
	wh_buf_fini(&b);
	return rc;
}
