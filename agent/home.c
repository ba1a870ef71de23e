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
#include "trust.h"
#include "cli_emergency.h"

#include <sodium.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_home_resolve(struct cli *c)
{
	if (c->home)
		return CLI_OK;
	const char *env = getenv("WHISTLE_HOME");
	if (env && *env) {
		c->home = env;
		return CLI_OK;
	}
	return cli_usage(c, "no station home: pass --home DIR or set "
			    "WHISTLE_HOME");
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

/* Repeatable keys append; a number must be a plain decimal. */
static int conf_set_agent(struct cli_conf *conf, const char *k, const char *v)
{
	char(*list)[CLI_CONF_VALUE_MAX] = NULL;
	unsigned *n = NULL;
	if (!strcmp(k, "listen")) {
		list = conf->listen;
		n = &conf->nlisten;
	} else if (!strcmp(k, "peer")) {
		list = conf->peer;
		n = &conf->npeer;
	} else if (!strcmp(k, "budget")) {
		list = conf->budget;
		n = &conf->nbudget;
	}
	if (list) {
		if (*n >= CLI_CONF_LIST_MAX || strlen(v) >= CLI_CONF_VALUE_MAX ||
		    !*v)
			return WH_ETOOBIG;
		strcpy(list[(*n)++], v);
		return WH_OK;
	}
	if (!strcmp(k, "sync_interval")) {
		char *end;
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
		if (*v < '0' || *v > '9')
			return WH_EINVAL;
		unsigned long x = strtoul(v, &end, 10);
		if (*end || x < 1 || x > 65535)
			return WH_EINVAL;
		conf->discovery_port = (uint32_t)x;
		return WH_OK;
	}
	return WH_ENOTFOUND;
}

static int conf_set(struct cli_conf *conf, const char *k, const char *v)
{
	int rc = conf_set_agent(conf, k, v);
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
	};
	/* Two authority lines would leave which one binds to the reader. */
	if (!strcmp(k, "authority") && conf->authority[0])
		return WH_EEXIST;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if (strcmp(k, keys[i].name))
			continue;
		if (strlen(v) >= keys[i].cap)
			return WH_ETOOBIG;
		strcpy(keys[i].dst, v);
		return WH_OK;
	}
	/* Unknown keys are left for later releases (sync peers, ...). */
	return WH_OK;
}

/* Parse whistle.conf; messages name the file and the line. */
int cli_conf_load(const struct cli *c, const char *file, struct cli_conf *conf)
{
	FILE *f = fopen(file, "re");
	if (!f) {
		if (errno == ENOENT)
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

int cli_conf_read(const struct cli *c, const char *file, FILE *f,
		  struct cli_conf *conf)
{
	memset(conf, 0, sizeof *conf);
	char line[1024];
	unsigned lineno = 0;
	int rc = CLI_OK;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			rc = cli_fail(c, "%s:%u: line too long", file, lineno);
			break;
		}
		line[strcspn(line, "\n")] = '\0';
		char *s = trim(line);
		if (!*s || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			rc = cli_fail(c, "%s:%u: expected 'key = value'", file,
				      lineno);
			break;
		}
		*eq = '\0';
		char *k = trim(s), *v = trim(eq + 1);
		if (!wh_utf8_valid((const uint8_t *)v, strlen(v)) ||
		    conf_set(conf, k, v) != WH_OK) {
			rc = cli_fail(c, "%s:%u: bad value for '%s'", file,
				      lineno, k);
			break;
		}
	}
	if (rc)
		return rc;
	if (!wh_code_valid(conf->code, strlen(conf->code)))
		return cli_fail(c, "%s: 'code' missing or invalid", file);
	if (!wh_path_valid(conf->path, strlen(conf->path)))
		return cli_fail(c, "%s: 'path' missing or invalid", file);
	if (!conf->station[0])
		return cli_fail(c, "%s: 'station' missing", file);
	/* Homes made before roles existed have none: a station. */
	if (!conf->role[0])
		strcpy(conf->role, "station");
	if (!cli_role_valid(conf->role))
		return cli_fail(c, "%s: 'role' must be station, street, "
				   "district or department",
				file);
	/* A department station speaks for exactly one department, and only
	 * it does: a stray 'department' line elsewhere would suggest powers
	 * the station does not have. */
	int is_dept = !strcmp(conf->role, "department");
	if (is_dept && !conf->department[0])
		return cli_fail(c, "%s: role department needs 'department' "
				   "(its name, e.g. 城管)",
				file);
	if (!is_dept && conf->department[0])
		return cli_fail(c, "%s: 'department' is only for role "
				   "department",
				file);
	uint8_t pk[WH_PK_BYTES];
	if (conf->authority[0] && trust_key_parse(conf->authority, pk) != WH_OK)
		return cli_fail(c, "%s: 'authority' must be the district "
				   "authority's public key (64 lower-case hex "
				   "digits)",
				file);
	if (conf->log_level[0] && strcmp(conf->log_level, "error") &&
	    strcmp(conf->log_level, "warn") && strcmp(conf->log_level, "info") &&
	    strcmp(conf->log_level, "debug"))
		return cli_fail(c, "%s: 'log_level' must be error, warn, info "
				   "or debug",
				file);
	if (conf->discovery[0] && strcmp(conf->discovery, "off") &&
	    strcmp(conf->discovery, "on") &&
	    strcmp(conf->discovery, "emergency"))
		return cli_fail(c, "%s: 'discovery' must be off, on or "
				   "emergency",
				file);
	return CLI_OK;
}

int cli_conf_write(const struct cli *c, const char *home,
		   const struct cli_conf *conf)
{
	char file[PATH_MAX], tmp[PATH_MAX];
	if (cli_join(c, file, sizeof file, home, "whistle.conf") ||
	    cli_join(c, tmp, sizeof tmp, home, "whistle.conf.tmp"))
		return CLI_FAIL;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return cli_fail(c, "%s: %s", tmp, strerror(errno));
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		return cli_fail(c, "%s: %s", tmp, strerror(errno));
	}
	fprintf(f,
		"# whistle station configuration, written by 'whistle init'.\n"
		"# One 'key = value' per line; '#' starts a comment line.\n"
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
		"#\n"
		"# authority: the district authority's public key; the store\n"
		"#          enforces its signed roster ('whistle roster').\n"
		"#          Absent: lab mode, the trust list only.\n"
		"station = %s\ncode = %s\npath = %s\nname = %s\nrole = %s\n",
		conf->station, conf->code, conf->path, conf->name,
		conf->role);
	if (conf->department[0])
		fprintf(f, "department = %s\n", conf->department);
	if (conf->authority[0])
		fprintf(f, "authority = %s\n", conf->authority);
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
	return cli_file_commit(c, f, fd, tmp, file, home);
}

int cli_conf_add_authority(const struct cli *c, const char *hex)
{
	char file[PATH_MAX], tmp[PATH_MAX];
	if (cli_join(c, file, sizeof file, c->home, "whistle.conf") ||
	    cli_join(c, tmp, sizeof tmp, c->home, "whistle.conf.tmp"))
		return CLI_FAIL;
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
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f) {
		int err = errno;
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		wh_buf_fini(&b);
		return cli_fail(c, "%s: %s", tmp, strerror(err));
	}
	fwrite(b.p, 1, b.len, f);
	if (b.len && b.p[b.len - 1] != '\n')
		fputc('\n', f);
	fprintf(f, "authority = %s\n", hex);
	wh_buf_fini(&b);
	return cli_file_commit(c, f, fd, tmp, file, c->home);
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
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
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
	char file[PATH_MAX];
	if (cli_join(c, file, sizeof file, c->home, "whistle.conf"))
		return CLI_FAIL;
	if ((rc = cli_conf_load(c, file, &c->conf)))
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
