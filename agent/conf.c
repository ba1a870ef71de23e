/*
 * conf.c: whistle.conf, read and written: "key = value" lines (station,
 * code, path, name, role, department, authority, home; the agent's
 * listen, peer, budget (repeatable), sync_interval, log_level, discovery,
 * discovery_port, web_port, web_bind); '#' starts a comment line. Every
 * key is checked on its own line, and a complaint names the file, the
 * line and the key (docs/config.md lists them all with their defaults).
 */
#include "budget.h"
#include "cli.h"
#include "trust.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Trim spaces and tabs at both ends, in place. */
static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/*
 * whistle.conf is read in one place, line by line, and every complaint
 * names the file, the line and the key: a station PC is configured by
 * hand, and "bad config" alone sends someone hunting. Each value is
 * checked as its line is read; only what needs several lines (a key
 * missing, department without role department) is checked at the end.
 * Unknown keys and a single-valued key given twice are refused: a typo
 * ("peers = ...") or a stale second line would otherwise be silently
 * ignored and the agent run with settings nobody wrote.
 */

/* Repeatable keys append; a number must be a plain decimal. */
static int conf_set_agent(struct cli_conf *conf, const char *k, const char *v,
			  unsigned lineno, const char **why)
{
	char(*list)[CLI_CONF_VALUE_MAX] = NULL;
	unsigned *n = NULL, *lines = NULL;
	if (!strcmp(k, "listen")) {
		list = conf->listen;
		n = &conf->nlisten;
		lines = conf->listen_line;
		if (!trust_endpoint_valid(v)) {
			*why = "must be tcp://HOST:PORT";
			return WH_EINVAL;
		}
	} else if (!strcmp(k, "peer")) {
		list = conf->peer;
		n = &conf->npeer;
		lines = conf->peer_line;
	} else if (!strcmp(k, "budget")) {
		/* The syntax is checked here, so the message names the line;
		 * whether NAME is a trusted peer only the agent can tell. */
		static char budget_why[200];
		char name[BUDGET_NAME_MAX + 1];
		uint64_t bytes;
		list = conf->budget;
		n = &conf->nbudget;
		lines = conf->budget_line;
		if (budget_parse(v, name, &bytes, budget_why,
				 sizeof budget_why) != WH_OK) {
			*why = budget_why;
			return WH_EINVAL;
		}
	}
	if (list) {
		if (*n >= CLI_CONF_LIST_MAX) {
			*why = "must not be given more than 16 times";
			return WH_ETOOBIG;
		}
		if (strlen(v) >= CLI_CONF_VALUE_MAX || !*v) {
			*why = !*v ? "must not be empty" : "is too long";
			return WH_ETOOBIG;
		}
		lines[*n] = lineno;
		strcpy(list[(*n)++], v);
		return WH_OK;
	}
	if (!strcmp(k, "sync_interval")) {
		char *end;
		*why = "must be a number of seconds, 1 to 86400";
		if (*v < '0' || *v > '9')
			return WH_EINVAL;
		unsigned long x = strtoul(v, &end, 10);
		if (*end || x < 1 || x > 86400)
			return WH_EINVAL;
		conf->sync_interval = (uint32_t)x;
		return WH_OK;
	}
	if (!strcmp(k, "discovery_port")) {
		char *end;
		*why = "must be a UDP port, 1 to 65535";
		if (*v < '0' || *v > '9')
			return WH_EINVAL;
		unsigned long x = strtoul(v, &end, 10);
		if (*end || x < 1 || x > 65535)
			return WH_EINVAL;
		conf->discovery_port = (uint32_t)x;
		return WH_OK;
	}
	if (!strcmp(k, "web_port")) { /* the web console (web.h) */
		char *end;
		*why = "must be a TCP port, 0 (off) to 65535";
		if (*v < '0' || *v > '9')
			return WH_EINVAL;
		unsigned long x = strtoul(v, &end, 10);
		if (*end || x > 65535)
			return WH_EINVAL;
		conf->web_port = (int32_t)x;
		return WH_OK;
	}
	return WH_ENOTFOUND;
}

/* What a single-valued key may hold, checked on its own line. */
static int conf_check(const char *k, const char *v, const char **why)
{
	if (!strcmp(k, "code") && !wh_code_valid(v, strlen(v))) {
		*why = "must be a station code ([A-Z0-9-], at most 16)";
		return WH_EINVAL;
	}
	if (!strcmp(k, "path") && !wh_path_valid(v, strlen(v))) {
		*why = "must be a jurisdiction path (lower-case [a-z0-9_-] "
		       "components joined by '/')";
		return WH_EINVAL;
	}
	if (!strcmp(k, "station") &&
	    (!*v || strchr(v, '/') || !wh_path_valid(v, strlen(v)))) {
		*why = "must be a station name (lower-case [a-z0-9_-])";
		return WH_EINVAL;
	}
	if (!strcmp(k, "role") && !cli_role_valid(v)) {
		*why = "must be station, street, district or department";
		return WH_EINVAL;
	}
	if (!strcmp(k, "log_level") && strcmp(v, "error") &&
	    strcmp(v, "warn") && strcmp(v, "info") && strcmp(v, "debug")) {
		*why = "must be error, warn, info or debug";
		return WH_EINVAL;
	}
	if (!strcmp(k, "discovery") && strcmp(v, "off") && strcmp(v, "on") &&
	    strcmp(v, "emergency")) {
		*why = "must be off, on or emergency";
		return WH_EINVAL;
	}
	uint8_t pk[WH_PK_BYTES];
	if (!strcmp(k, "authority") && trust_key_parse(v, pk) != WH_OK) {
		*why = "must be the district authority's public key (64 "
		       "lower-case hex digits)";
		return WH_EINVAL;
	}
	if (!strcmp(k, "home") && v[0] != '/') {
		*why = "must be an absolute directory path";
		return WH_EINVAL;
	}
	return WH_OK;
}

static int conf_set(struct cli_conf *conf, const char *k, const char *v,
		    unsigned lineno, const char **why)
{
	int rc = conf_set_agent(conf, k, v, lineno, why);
	if (rc != WH_ENOTFOUND)
		return rc;
	struct {
		const char *name;
		char *dst;
		size_t cap;
	} keys[] = {
		{"station", conf->station, sizeof conf->station},
		{"code", conf->code, sizeof conf->code},
		{"path", conf->path, sizeof conf->path},
		{"name", conf->name, sizeof conf->name},
		{"role", conf->role, sizeof conf->role},
		{"department", conf->department, sizeof conf->department},
		{"log_level", conf->log_level, sizeof conf->log_level},
		{"discovery", conf->discovery, sizeof conf->discovery},
		{"authority", conf->authority, sizeof conf->authority},
		{"home", conf->home, sizeof conf->home},
		{"web_bind", conf->web_bind, sizeof conf->web_bind},
	};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if (strcmp(k, keys[i].name))
			continue;
		if (strlen(v) >= keys[i].cap) {
			*why = "is too long";
			return WH_ETOOBIG;
		}
		if ((rc = conf_check(k, v, why)) != WH_OK)
			return rc;
		strcpy(keys[i].dst, v);
		if (!strcmp(k, "department"))
			conf->department_line = lineno;
		return WH_OK;
	}
	*why = "is not a key whistle knows (docs/config.md lists them)";
	return WH_ENOTFOUND;
}

/* Parse whistle.conf; messages name the file and the line. */
int cli_conf_load(const struct cli *c, const char *file, struct cli_conf *conf)
{
	FILE *f = fopen(file, "re");
	if (!f) {
		if (errno == ENOENT && c->home && !cli_config_named(c))
			return cli_fail(c,
					"home %s: no station here (whistle.conf "
					"missing); run 'whistle init' first",
					c->home);
		return cli_fail(c, "%s: %s", file, strerror(errno));
	}
	int rc = cli_conf_read(c, file, f, conf);
	fclose(f);
	return rc;
}

/* The lines alone: every key and value, each checked on its own. */
static int conf_lines(const struct cli *c, const char *file, FILE *f,
		      struct cli_conf *conf)
{
	memset(conf, 0, sizeof *conf);
	conf->web_port = -1;
	char line[1024];
	unsigned lineno = 0;
	/* single-valued keys seen so far, to refuse a second line */
	struct {
		char key[32];
		unsigned line;
	} seen[32];
	size_t nseen = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f))
			return cli_fail(c, "%s:%u: line too long (at most "
					   "1022 bytes)",
					file, lineno);
		line[strcspn(line, "\n")] = '\0';
		char *s = trim(line);
		if (!*s || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq)
			return cli_fail(c, "%s:%u: expected 'key = value'",
					file, lineno);
		*eq = '\0';
		char *k = trim(s), *v = trim(eq + 1);
		if (!*k)
			return cli_fail(c, "%s:%u: no key before '='", file,
					lineno);
		const char *why = "must be valid UTF-8 text";
		int repeatable = !strcmp(k, "listen") || !strcmp(k, "peer") ||
				 !strcmp(k, "budget");
		for (size_t i = 0; i < nseen && !repeatable; i++)
			if (!strcmp(seen[i].key, k))
				return cli_fail(c,
						"%s:%u: bad value for '%s': the "
						"key is given twice (first on "
						"line %u)",
						file, lineno, k, seen[i].line);
		if (!wh_utf8_valid((const uint8_t *)k, strlen(k)) ||
		    !wh_utf8_valid((const uint8_t *)v, strlen(v)) ||
		    conf_set(conf, k, v, lineno, &why) != WH_OK)
			return cli_fail(c, "%s:%u: '%.40s' %s", file, lineno,
					k, why);
		if (!repeatable && nseen < sizeof seen / sizeof seen[0] &&
		    strlen(k) < sizeof seen[0].key) {
			strcpy(seen[nseen].key, k);
			seen[nseen++].line = lineno;
		}
	}
	if (ferror(f))
		return cli_fail(c, "%s: cannot read it", file);
	/* A department station speaks for exactly one department, and only
	 * it does: a stray 'department' line elsewhere would suggest powers
	 * the station does not have. */
	if (conf->department[0] &&
	    strcmp(conf->role[0] ? conf->role : "station", "department"))
		return cli_fail(c, "%s:%u: 'department' is only for role "
				   "department",
				file, conf->department_line);
	return CLI_OK;
}

int cli_conf_read_partial(const struct cli *c, const char *file, FILE *f,
			  struct cli_conf *conf)
{
	return conf_lines(c, file, f, conf);
}

int cli_conf_read(const struct cli *c, const char *file, FILE *f,
		  struct cli_conf *conf)
{
	int rc = conf_lines(c, file, f, conf);
	if (rc)
		return rc;
	if (!conf->code[0])
		return cli_fail(c, "%s: 'code' missing (run 'whistle init')",
				file);
	if (!conf->path[0])
		return cli_fail(c, "%s: 'path' missing (run 'whistle init')",
				file);
	if (!conf->station[0])
		return cli_fail(c, "%s: 'station' missing (run 'whistle "
				   "init')",
				file);
	/* Homes made before roles existed have none: a station. */
	if (!conf->role[0])
		strcpy(conf->role, "station");
	if (!strcmp(conf->role, "department") && !conf->department[0])
		return cli_fail(c, "%s: role department needs 'department' "
				   "(its name, e.g. 城管)",
				file);
	return CLI_OK;
}

/* tmp beside file, and the directory that holds both. */
static int conf_paths(const struct cli *c, char tmp[PATH_MAX],
		      char dir[PATH_MAX])
{
	const char *file = c->conf_file;
	if (!file[0] || strlen(file) + 5 > PATH_MAX)
		return cli_fail(c, "config %s: path too long", file);
	snprintf(tmp, PATH_MAX, "%s.tmp", file);
	const char *slash = strrchr(file, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == file)
		strcpy(dir, "/");
	else
		snprintf(dir, PATH_MAX, "%.*s", (int)(slash - file), file);
	return CLI_OK;
}

static FILE *tmp_open(const struct cli *c, const char *tmp, int *fd)
{
	*fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	FILE *f = *fd < 0 ? NULL : fdopen(*fd, "w");
	if (!f) {
		int err = errno;
		if (*fd >= 0) {
			close(*fd);
			unlink(tmp);
		}
		cli_fail(c, "%s: %s", tmp, strerror(err));
	}
	return f;
}

/* The station's own lines, as init writes them. */
static void conf_identity(FILE *f, const struct cli_conf *conf)
{
	fprintf(f, "station = %s\ncode = %s\npath = %s\nname = %s\nrole = %s\n",
		conf->station, conf->code, conf->path, conf->name,
		conf->role);
	if (conf->department[0])
		fprintf(f, "department = %s\n", conf->department);
	if (conf->authority[0])
		fprintf(f, "authority = %s\n", conf->authority);
}

int cli_conf_write(const struct cli *c, const struct cli_conf *conf)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd;
	if (conf_paths(c, tmp, dir))
		return CLI_FAIL;
	FILE *f = tmp_open(c, tmp, &fd);
	if (!f)
		return CLI_FAIL;
	fprintf(f,
		"# whistle station configuration, written by 'whistle init'.\n"
		"# One 'key = value' per line; '#' starts a comment line.\n"
		"# Every key and its default: docs/config.md, whistle.conf(5).\n"
		"# station: this community station's name in paths\n"
		"# code:    prefix of the case ids it issues (XJK-ZDY-000001)\n"
		"# path:    its jurisdiction, district/street/community\n"
		"# name:    display name\n"
		"# role:    station (community station), street (street hub),\n"
		"#          district (district hub) or department (a\n"
		"#          department's station); its scope is its path\n"
		"# department: with role department, the department's name\n"
		"#          (城管): the one it reports for\n"
		"#\n"
		"# The agent ('whistle agent') also reads, each optional:\n"
		"#   listen = tcp://0.0.0.0:7420   accept peers here (repeatable;\n"
		"#                                 a station that only dials out\n"
		"#                                 needs none)\n"
		"#   peer = NAME | tcp://HOST:PORT | KEYHEX@tcp://HOST:PORT\n"
		"#                                 dial this trusted peer\n"
		"#                                 (repeatable; see 'whistle trust')\n"
		"#   budget = NAME 20MiB/h         bytes per hour to that peer\n"
		"#                                 (metered links; urgent ops\n"
		"#                                 still go when it is spent)\n"
		"#   sync_interval = 30            seconds between digest checks\n"
		"#   log_level = info              error, warn, info or debug\n"
		"#   discovery = emergency         LAN discovery: off, on, or\n"
		"#                                 emergency (only while one is\n"
		"#                                 active here)\n"
		"#   discovery_port = 7420         its UDP port\n"
		"#   web_port = 7480               the web console on\n"
		"#                                 http://127.0.0.1:7480/ (0: off)\n"
		"#   web_bind = 127.0.0.1          its address; another one is\n"
		"#                                 reachable from the network\n"
		"#\n"
		"# authority: the district authority's public key; the store\n"
		"#          enforces its signed roster ('whistle roster').\n"
		"#          Absent: lab mode, the trust list only.\n");
	/* A file kept outside the home says where the home is. */
	if (cli_config_named(c))
		fprintf(f, "home = %s\n", c->home);
	conf_identity(f, conf);
	for (unsigned i = 0; i < conf->nlisten; i++)
		fprintf(f, "listen = %s\n", conf->listen[i]);
	for (unsigned i = 0; i < conf->npeer; i++)
		fprintf(f, "peer = %s\n", conf->peer[i]);
	for (unsigned i = 0; i < conf->nbudget; i++)
		fprintf(f, "budget = %s\n", conf->budget[i]);
	if (conf->sync_interval)
		fprintf(f, "sync_interval = %u\n", (unsigned)conf->sync_interval);
	if (conf->log_level[0])
		fprintf(f, "log_level = %s\n", conf->log_level);
	if (conf->discovery[0])
		fprintf(f, "discovery = %s\n", conf->discovery);
	if (conf->discovery_port)
		fprintf(f, "discovery_port = %u\n",
			(unsigned)conf->discovery_port);
	if (conf->web_port > 0) /* init leaves it unset: the default */
		fprintf(f, "web_port = %d\n", (int)conf->web_port);
	if (conf->web_bind[0])
		fprintf(f, "web_bind = %s\n", conf->web_bind);
	return cli_file_commit(c, f, fd, tmp, c->conf_file, dir);
}

int cli_conf_append(const struct cli *c, const char *text)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	if (conf_paths(c, tmp, dir))
		return CLI_FAIL;
	const char *file = c->conf_file;
	FILE *in = fopen(file, "re");
	if (!in)
		return cli_fail(c, "%s: %s", file, strerror(errno));
	struct wh_buf b = {0};
	char chunk[4096];
	size_t got;
	while ((got = fread(chunk, 1, sizeof chunk, in)) > 0 &&
	       b.len < (1u << 20))
		wh_buf_append(&b, chunk, got);
	int bad = ferror(in) || b.len >= (1u << 20);
	fclose(in);
	if (bad) {
		wh_buf_fini(&b);
		return cli_fail(c, "%s: cannot read it (or past 1 MiB)", file);
	}
	int fd;
	FILE *f = tmp_open(c, tmp, &fd);
	if (!f) {
		wh_buf_fini(&b);
		return CLI_FAIL;
	}
	fwrite(b.p, 1, b.len, f);
	if (b.len && b.p[b.len - 1] != '\n')
		fputc('\n', f);
	fputs(text, f);
	wh_buf_fini(&b);
	return cli_file_commit(c, f, fd, tmp, file, dir);
}

int cli_conf_add_authority(const struct cli *c, const char *hex)
{
	char line[16 + 2 * WH_PK_BYTES];
	snprintf(line, sizeof line, "authority = %s\n", hex);
	return cli_conf_append(c, line);
}

int cli_conf_add_identity(const struct cli *c, const struct cli_conf *conf)
{
	char *text = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&text, &n);
	if (!m)
		return cli_fail(c, "out of memory");
	fputs("# The station, written by 'whistle init':\n", m);
	conf_identity(m, conf);
	fclose(m);
	int rc = cli_conf_append(c, text);
	free(text);
	return rc;
}
