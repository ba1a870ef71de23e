/*
 * home.c: a station's home directory and what it holds.
 *
 *     HOME/whistle.conf   "key = value" lines (station, code, path, name,
 *                         role, department, authority; the agent's
 *                         listen, peer (repeatable), sync_interval,
 *                         log_level, discovery, discovery_port); '#'
 *                         starts a comment line
 *     HOME/trust          the trust list (agent/trust.h)
 *     HOME/key.secret     64 raw bytes, libsodium's Ed25519 secret key;
 *                         mode 0600, refused if group/other can read it
 *     HOME/key.public     the public key in hex, one line (for people)
 *     HOME/store/         the LMDB environment (store/)
 *     HOME/agent.lock     held by the running agent (agent_self.h)
 *
 * whistle.conf is written last by init, so its presence is what marks a
 * home as initialised. The secret key is read into a stack buffer only
 * long enough to hand it to wh_key_from_secret (sodium memory), then
 * wiped; it never reaches a message.
 */
#include "cli.h"
#include "cli_emergency.h"
#include "trust.h"

#include <sodium.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The config file named by --config or $WHISTLE_CONFIG, or NULL. */
static const char *config_named(const struct cli *c)
{
	if (c->config)
		return c->config;
	const char *env = getenv("WHISTLE_CONFIG");
	return env && *env ? env : NULL;
}

int cli_config_given(struct cli *c)
{
	c->config = config_named(c);
	return c->config != NULL;
}

int cli_home_resolve(struct cli *c)
{
	if (c->home)
		return CLI_OK;
	const char *env = getenv("WHISTLE_HOME");
	if (env && *env) {
		c->home = env;
		return CLI_OK;
	}
	const char *cfg = config_named(c);
	if (!cfg)
		return cli_usage(c, "no station home: pass --home DIR or set "
				    "WHISTLE_HOME (or name a config file "
				    "with a 'home' line: --config FILE)");
	FILE *f = fopen(cfg, "re");
	if (!f)
		return cli_fail(c, "config %s: %s", cfg, strerror(errno));
	struct cli_conf *conf = wh_xcalloc(1, sizeof *conf);
	int rc = cli_conf_read_partial(c, cfg, f, conf);
	fclose(f);
	if (rc == CLI_OK && !conf->home[0])
		rc = cli_usage(c, "no station home: %s has no 'home = DIR' "
				  "line; add one, pass --home DIR or set "
				  "WHISTLE_HOME",
			       cfg);
	if (rc == CLI_OK) {
		strcpy(c->home_buf, conf->home); /* same capacity */
		c->home = c->home_buf;
	}
	free(conf);
	return rc;
}

int cli_conf_locate(struct cli *c)
{
	int rc = cli_home_resolve(c);
	if (rc)
		return rc;
	const char *cfg = config_named(c);
	if (cfg) {
		if (strlen(cfg) >= sizeof c->conf_file)
			return cli_fail(c, "config %s: path too long", cfg);
		strcpy(c->conf_file, cfg);
		return CLI_OK;
	}
	return cli_join(c, c->conf_file, sizeof c->conf_file, c->home,
			"whistle.conf");
}

int cli_join(const struct cli *c, char *out, size_t outn, const char *home,
	     const char *name)
{
	int n = snprintf(out, outn, "%s/%s", home, name);
	if (n < 0 || (size_t)n >= outn)
		return cli_fail(c, "home %s: path too long", home);
	return CLI_OK;
}

int cli_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

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
		if (errno == ENOENT && c->home && !config_named(c))
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
		int repeatable = !strcmp(k, "listen") || !strcmp(k, "peer");
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
	if (config_named(c))
		fprintf(f, "home = %s\n", c->home);
	conf_identity(f, conf);
	for (unsigned i = 0; i < conf->nlisten; i++)
		fprintf(f, "listen = %s\n", conf->listen[i]);
	for (unsigned i = 0; i < conf->npeer; i++)
		fprintf(f, "peer = %s\n", conf->peer[i]);
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

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t w = write(fd, b, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

int cli_key_write(const struct cli *c, const char *home,
		  const struct wh_key *key)
{
	return cli_key_write_as(c, home, "key.secret", "key.public", key);
}

int cli_key_write_as(const struct cli *c, const char *home,
		     const char *secret, const char *pub,
		     const struct wh_key *key)
{
	char file[PATH_MAX];
	if (cli_join(c, file, sizeof file, home, secret))
		return CLI_FAIL;
	/* O_EXCL: never overwrite a key (an identity is not replaceable). */
	int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return cli_fail(c, "%s: %s", file, strerror(errno));
	if (write_all(fd, key->sk, WH_SK_BYTES) || fsync(fd)) {
		int err = errno;
		close(fd);
		unlink(file);
		return cli_fail(c, "%s: %s", file, strerror(err));
	}
	close(fd);

	char hex[2 * WH_PK_BYTES + 2];
	wh_hex(key->pk, WH_PK_BYTES, hex);
	strcat(hex, "\n");
	if (cli_join(c, file, sizeof file, home, pub))
		return CLI_FAIL;
	/* O_NOFOLLOW: root's init in a home another user owns must not be
	 * led through a link that user planted to a file of root's. */
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0644);
	if (fd < 0)
		return cli_fail(c, "%s: %s", file, strerror(errno));
	if (write_all(fd, hex, strlen(hex)) || fsync(fd)) {
		int err = errno;
		close(fd);
		return cli_fail(c, "%s: %s", file, strerror(err));
	}
	close(fd);
	return CLI_OK;
}

static int key_load(struct cli *c)
{
	char file[PATH_MAX];
	if (cli_join(c, file, sizeof file, c->home, "key.secret"))
		return CLI_FAIL;
	return cli_key_load(c, file, &c->key);
}

int cli_key_load(const struct cli *c, const char *file, struct wh_key **out)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return cli_fail(c, "%s: %s", file, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size != WH_SK_BYTES) {
		close(fd);
		return cli_fail(c, "%s: not a whistle secret key (expected "
				   "%d bytes)",
				file, WH_SK_BYTES);
	}
	/* Like ssh: a secret others can read is no longer secret, and
	 * signing with it would make forged ops indistinguishable. */
	if (st.st_mode & 077) {
		close(fd);
		return cli_fail(c,
				"%s: readable by group or others (mode %04o); "
				"run: chmod 600 %s",
				file, (unsigned)(st.st_mode & 07777), file);
	}
	uint8_t sk[WH_SK_BYTES];
	size_t got = 0;
	while (got < sizeof sk) {
		ssize_t r = read(fd, sk + got, sizeof sk - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	int rc = got == sizeof sk ? wh_key_from_secret(sk, out) : WH_EIO;
	sodium_memzero(sk, sizeof sk);
	if (rc != WH_OK)
		return cli_fail(c, "%s: %s", file, wh_strerror(rc));
	return CLI_OK;
}

static int store_open(struct cli *c)
{
	char dir[PATH_MAX];
	if (cli_join(c, dir, sizeof dir, c->home, "store"))
		return CLI_FAIL;
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return cli_fail(c, "home %s: store/ directory missing", c->home);
	int rc = wh_store_open(dir, NULL, &c->store);
	if (rc != WH_OK) {
		c->store = NULL;
		return cli_fail(c, "store %s: %s", dir, wh_strerror(rc));
	}
	return CLI_OK;
}

int cli_open(struct cli *c, unsigned need)
{
	int rc = cli_home_resolve(c);
	if (rc)
		return rc;
	struct stat st;
	if (stat(c->home, &st) != 0) {
		if (errno == ENOENT)
			return cli_fail(c, "home %s does not exist; create it "
					   "with 'whistle --home %s init'",
					c->home, c->home);
		return cli_fail(c, "home %s: %s", c->home, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return cli_fail(c, "home %s: not a directory", c->home);
	/* Root in a home another user owns (the packaged /var/lib/whistle):
	 * files root made there would lock the service out, and that user
	 * could lead root's writes through links it planted. Only init
	 * does it, and gives away what it made (cmd_init.c). */
	if (geteuid() == 0 && st.st_uid != 0) {
		struct passwd *pw = getpwuid(st.st_uid);
		return cli_fail(c, "home %s belongs to %s: run this as that "
				   "user (sudo -u %s whistle ...), not as root",
				c->home, pw ? pw->pw_name : "another user",
				pw ? pw->pw_name : "USER");
	}
	if ((rc = cli_conf_locate(c)))
		return rc;
	if ((rc = cli_conf_load(c, c->conf_file, &c->conf)))
		return rc;
	/* Open once: a command may call this per item (problems publish
	 * runs `problems set` per line). */
	if ((need & CLI_NEED_KEY) && !c->key && (rc = key_load(c)))
		return rc;
	if ((need & CLI_NEED_STORE) && !c->store && (rc = store_open(c)))
		return rc;
	return CLI_OK;
}

void cli_close(struct cli *c)
{
	/* The emergencies cached per command (cli_em_all). */
	cli_em_free(c->em);
	c->em = NULL;
	wh_store_close(c->store);
	c->store = NULL;
	wh_key_free(c->key);
	c->key = NULL;
}

/* A roster refusal of an op this station authors: the author is this
 * station's key, so the rule can be said in its words. */
static const char *roster_hint(int rc)
{
	switch (rc) {
	case WH_ENOMEMBER:
		return "this station's key has no grant in the district's "
		       "roster; the administrator adds it with 'whistle "
		       "authority add'";
	case WH_EREVOKED:
		return "this station's key was revoked";
	case WH_EEXPIRED:
		return "this station's grant does not cover now: not yet "
		       "valid, or ended";
	case WH_EROLE:
		return "the role this station's key is granted may not take "
		       "this step";
	case WH_EJURIS:
		return "the case lies outside this station's granted "
		       "jurisdiction or case-id range";
	case WH_ESUMMON:
		return "a department acts only on cases it was whistled to, "
		       "未被吹哨";
	default:
		return NULL;
	}
}

int cli_roster_refusal(int rc)
{
	return roster_hint(rc) != NULL;
}

int cli_store_err(const struct cli *c, const char *what, int rc)
{
	const char *hint = roster_hint(rc);
	if (hint)
		return cli_fail(c, "%s: refused by the roster: %s (%s)", what,
				wh_strerror(rc), hint);
	switch (rc) {
	case WH_EFIELD:
	case WH_ETOOBIG:
	case WH_EUTF8:
	case WH_EPATH:
	case WH_EID:
		return cli_usage(c, "%s: %s", what, wh_strerror(rc));
	default:
		return cli_fail(c, "%s: %s", what, wh_strerror(rc));
	}
}

int cli_probe_drafts_with(const struct wh_key *key,
			  const struct wh_op_draft *d, size_t n)
{
	int rc = WH_OK;
	struct wh_buf scratch = {0};
	for (size_t i = 0; i < n && rc == WH_OK; i++) {
		struct wh_op_draft t = d[i];
		t.hlc = WH_HLC_MAKE(1, 0);
		if (t.seq == 0)
			t.seq = 1; /* the store allocates it later */
		rc = wh_op_build(&t, key, &scratch);
		wh_buf_reset(&scratch);
	}
	wh_buf_fini(&scratch);
	return rc;
}

int cli_probe_drafts(const struct wh_op_draft *d, size_t n)
{
	/* A throwaway key: checking arguments must not need the home. */
	struct wh_key *key = NULL;
	int rc = wh_key_generate(&key);
	if (rc)
		return rc;
	rc = cli_probe_drafts_with(key, d, n);
	wh_key_free(key);
	return rc;
}

int cli_file_commit(const struct cli *c, FILE *f, int fd, const char *tmp,
		    const char *file, const char *dir)
{
	/* Durable before visible: data synced, then the rename, then the
	 * directory entry, so a crash leaves the old file or the new one. */
	int bad = fflush(f) != 0 || fsync(fd) != 0;
	int err = errno;
	if (fclose(f) != 0 && !bad) {
		bad = 1;
		err = errno;
	}
	if (bad || rename(tmp, file) != 0) {
		if (!bad)
			err = errno;
		unlink(tmp);
		return cli_fail(c, "%s: %s", file, strerror(err));
	}
	cli_fsync_dir(dir);
	return CLI_OK;
}
