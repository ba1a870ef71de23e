/*
 * args.c: the option parser every command uses, and strict parsing of
 * option values (numbers, degrees, case ids, times).
 *
 * One parser for all commands keeps the grammar the same everywhere:
 * "--opt value", "--opt=value", "-o value", "--" ends options, and the
 * global options (--home DIR, --config FILE, --json) are accepted after
 * the command too.
 * Anything unexpected is a usage error naming the offending word.
 */
#include "cli.h"
#include "timeparse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void cli_args_init(struct cli_args *a, int argc, char **argv)
{
	a->argc = argc;
	a->argv = argv;
	a->i = 0;
	a->only_pos = 0;
}

/* The value of an option: after '=', or the next word. */
static int take_value(struct cli *c, struct cli_args *a, const char *word,
		      const char *eq, const char **val)
{
	if (eq) {
		*val = eq + 1;
		return ARG_OPT;
	}
	if (a->i >= a->argc) {
		cli_usage(c, "option %s needs a value", word);
		return ARG_ERR;
	}
	*val = a->argv[a->i++];
	return ARG_OPT;
}

int cli_args_next(struct cli *c, struct cli_args *a,
		  const struct cli_opt *opts, int *which, const char **val)
{
	*which = -1;
	*val = NULL;
	if (a->i >= a->argc)
		return ARG_END;
	const char *w = a->argv[a->i++];
	if (a->only_pos || w[0] != '-' || w[1] == '\0') {
		*val = w; /* "-" alone is a word: stdin/stdout */
		return ARG_POS;
	}
	if (!strcmp(w, "--")) {
		a->only_pos = 1;
		return cli_args_next(c, a, opts, which, val);
	}
	if (!strcmp(w, "--help") || !strcmp(w, "-h"))
		return ARG_HELP;

	const char *name, *eq = NULL;
	size_t nlen;
	int is_short = w[1] != '-';
	if (is_short) {
		/* "-o" or "-oVALUE" are not both worth supporting: only "-o" */
		if (w[2] != '\0') {
			cli_usage(c, "unknown option %s", w);
			return ARG_ERR;
		}
		name = w + 1;
		nlen = 1;
	} else {
		name = w + 2;
		eq = strchr(name, '=');
		nlen = eq ? (size_t)(eq - name) : strlen(name);
	}

	/* Global options, accepted anywhere. */
	if (!is_short && nlen == 4 && !strncmp(name, "json", 4)) {
		if (eq) {
			cli_usage(c, "option --json takes no value");
			return ARG_ERR;
		}
		c->json = 1;
		return cli_args_next(c, a, opts, which, val);
	}
	if (!is_short && nlen == 4 && !strncmp(name, "home", 4)) {
		const char *v;
		if (take_value(c, a, "--home", eq, &v) == ARG_ERR)
			return ARG_ERR;
		if (!*v) {
			cli_usage(c, "option --home: empty directory name");
			return ARG_ERR;
		}
		c->home = v;
		return cli_args_next(c, a, opts, which, val);
	}

	if (!is_short && nlen == 6 && !strncmp(name, "config", 6)) {
		const char *v;
		if (take_value(c, a, "--config", eq, &v) == ARG_ERR)
			return ARG_ERR;
		if (!*v) {
			cli_usage(c, "option --config: empty file name");
			return ARG_ERR;
		}
		c->config = v;
		return cli_args_next(c, a, opts, which, val);
	}

	for (int k = 0; opts && opts[k].name; k++) {
		const struct cli_opt *o = &opts[k];
		int match = is_short ? (o->shortname && o->shortname == name[0])
				     : (strlen(o->name) == nlen &&
					!strncmp(o->name, name, nlen));
		if (!match)
			continue;
		*which = k;
		if (!o->has_arg) {
			if (eq) {
				cli_usage(c, "option --%s takes no value",
					  o->name);
				return ARG_ERR;
			}
			return ARG_OPT;
		}
		char shown[64];
		snprintf(shown, sizeof shown, "%s%s", is_short ? "-" : "--",
			 is_short ? name : o->name);
		return take_value(c, a, shown, eq, val);
	}
	cli_usage(c, "unknown option %s", w);
	return ARG_ERR;
}

int cli_parse_u32(const struct cli *c, const char *opt, const char *s,
		  uint32_t *out)
{
	char *end;
	if (s[0] < '0' || s[0] > '9')
		return cli_usage(c, "%s '%s': not a number", opt, s);
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end)
		return cli_usage(c, "%s '%s': not a number", opt, s);
	if (errno || v > UINT32_MAX)
		return cli_usage(c, "%s '%s': too large", opt, s);
	*out = (uint32_t)v;
	return CLI_OK;
}

int cli_degrees(const char *s, double limit, int64_t *e7)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	/* strtod also takes "nan", "inf" and hex floats: refuse them by
	 * insisting on plain decimal characters. */
	if (!*s || *end || errno || strspn(s, "+-0123456789.") != strlen(s))
		return WH_EDECODE;
	if (v < -limit || v > limit)
		return WH_ETOOBIG;
	double scaled = v * 1e7;
	*e7 = (int64_t)(scaled + (scaled < 0 ? -0.5 : 0.5));
	return WH_OK;
}

int cli_parse_degrees(const struct cli *c, const char *opt, const char *s,
		      double limit, int64_t *e7)
{
	int rc = cli_degrees(s, limit, e7);
	if (rc == WH_EDECODE)
		return cli_usage(c, "%s '%s': not a decimal number of degrees",
				 opt, s);
	if (rc != WH_OK)
		return cli_usage(c, "%s '%s': out of range (-%g .. %g)", opt,
				 s, limit, limit);
	return CLI_OK;
}

int cli_parse_case_id(const struct cli *c, const char *s,
		      char code[WH_CODE_MAX + 1], uint32_t *seq)
{
	if (wh_case_id_parse(s, code, seq) != WH_OK)
		return cli_usage(c,
				 "'%s': not a case id (expected CODE-NNNNNN, "
				 "e.g. XJK-ZDY-000001)",
				 s);
	return CLI_OK;
}

int cli_parse_time(const struct cli *c, const char *opt, const char *s,
		   uint64_t *out)
{
	if (!strcmp(s, "now")) {
		*out = cli_now(c);
		return CLI_OK;
	}
	int rc = cli_time_parse(s, out);
	if (rc == WH_ETOOBIG)
		return cli_usage(c, "%s '%s': no such date or time", opt, s);
	if (rc != WH_OK)
		return cli_usage(c,
				 "%s '%s': not a time (ms since 1970, "
				 "2026-11-23T10:00:00+08:00, or local "
				 "2026-11-23 10:00, or now)",
				 opt, s);
	return CLI_OK;
}
