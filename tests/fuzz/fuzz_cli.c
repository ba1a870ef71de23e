/*
 * fuzz_cli.c: quiet stand-ins for what agent/main.c defines, for the
 * targets that link agent/ sources (main.c itself has main()).
 *
 * Messages are still formatted, into a buffer that is thrown away, so
 * a bad format argument (a string that is not terminated, a NULL for
 * %s) is found by the sanitizers as it would be in the binary; they
 * just do not flood the fuzzer's output.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>

CLI_PRINTF(2, 0)
static void quiet(const struct cli *c, const char *fmt, va_list ap)
{
	char buf[4096];
	(void)c;
	vsnprintf(buf, sizeof buf, fmt, ap);
}

int cli_fail(const struct cli *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	quiet(c, fmt, ap);
	va_end(ap);
	return CLI_FAIL;
}

int cli_usage(const struct cli *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	quiet(c, fmt, ap);
	va_end(ap);
	return CLI_USAGE;
}

int cli_help(const char *text)
{
	(void)text;
	return CLI_OK;
}

void cli_table_print(FILE *f, const struct cli_cmd *tab, const char *group)
{
	(void)f;
	(void)tab;
	(void)group;
}

/* No target dispatches commands: reaching one is a harness bug. */
int cli_dispatch(struct cli *c, const struct cli_cmd *tab, const char *group,
		 int argc, char **argv)
{
	(void)c;
	(void)tab;
	(void)group;
	(void)argc;
	(void)argv;
	abort();
}

int cli_group(struct cli *c, const struct cli_cmd *tab, const char *group,
	      const char *help, int argc, char **argv)
{
	(void)help;
	return cli_dispatch(c, tab, group, argc, argv);
}

int cmd_version(struct cli *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	return CLI_OK;
}
