/*
 * home.c: a station's home directory and what it holds.
 *
 *     HOME/whistle.conf   the config file (conf.c reads and writes it)
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
const char *cli_config_named(const struct cli *c)
{
	if (c->config)
		return c->config;
	const char *env = getenv("WHISTLE_CONFIG");
	return env && *env ? env : NULL;
}

int cli_config_given(struct cli *c)
{
	c->config = cli_config_named(c);
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
	const char *cfg = cli_config_named(c);
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
	const char *cfg = cli_config_named(c);
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
