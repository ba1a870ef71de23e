/*
 * cmd_init.c: `whistle init`, creating a station home.
 *
 * Order matters for atomicity: the home directory, then key.secret
 * (O_EXCL), key.public, store/ with an empty LMDB environment (bound
 * to the district authority's key with --authority), and the config
 * last (tmp + rename), since the station's lines in it are what mark a
 * home as initialised. Any failure removes what this run created, so a
 * failed init can simply be run again.
 *
 * The config is HOME/whistle.conf, or the file --config / $WHISTLE_CONFIG
 * names (docs/config.md). A named file that already exists (the packaged
 * /etc/whistle/whistle.conf) keeps every line it has and gets the
 * station's lines appended; one that already names a station is refused.
 *
 * Run as root in a home that belongs to another user (the packaged
 * /var/lib/whistle, owned by the service's user), init gives that user
 * what it creates, so the service can read its key and open its store.
 */
#include "cli.h"
#include "json.h"
#include "trust.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char help[] =
	"usage: whistle [--home DIR] init --path PATH [--station NAME]\n"
	"                             [--code CODE] [--name TEXT]\n"
	"                             [--role station|street|district]\n"
	"                             [--role department --department NAME]\n"
	"                             [--authority KEYHEX]\n"
	"\n"
	"Create a station home in DIR (made with mode 0700 if missing):\n"
	"  key.secret    the station's Ed25519 secret key, mode 0600\n"
	"  key.public    its public key in hex\n"
	"  whistle.conf  'key = value' lines: station, code, path, name, role\n"
	"                (and department)\n"
	"  store/        the operation store\n"
	"\n"
	"  --path PATH     jurisdiction, e.g. xicheng/xinjiekou/zhaodengyu\n"
	"                  (lower-case [a-z0-9_-] components joined by '/')\n"
	"  --station NAME  station name; default: the last path component\n"
	"  --code CODE     case id prefix, [A-Z0-9-], at most 16 characters;\n"
	"                  default: pinyin initials of street and community\n"
	"                  (xinjiekou/zhaodengyu -> XJK-ZDY)\n"
	"  --name TEXT     display name, e.g. 赵登禹社区\n"
	"  --role ROLE     station (community station, the default), street\n"
	"                  (street hub), district (district hub) or\n"
	"                  department (a department's station, e.g. 城管;\n"
	"                  it reports on cases it is whistled to); the\n"
	"                  agent's scope is its path\n"
	"  --department NAME  with --role department: its name, e.g. 城管\n"
	"                  (as streets name it in their whistles)\n"
	"  --authority KEYHEX  the district authority's public key ('whistle\n"
	"                  authority init' printed it): the store is bound to\n"
	"                  it and checks every op against its signed roster;\n"
	"                  nothing can be written until 'whistle roster\n"
	"                  apply roster.wr'. Without it: lab mode, the trust\n"
	"                  list only ('whistle roster bind' binds later)\n"
	"\n"
	"whistle.conf also takes the agent's keys, documented in its header\n"
	"and in 'whistle agent --help': listen, peer (both repeatable),\n"
	"sync_interval, log_level.\n"
	"\n"
	"With --config FILE (or $WHISTLE_CONFIG) the configuration goes to\n"
	"FILE instead of DIR/whistle.conf; DIR may then come from FILE's\n"
	"'home' line. An existing FILE (the packaged /etc/whistle/whistle.conf)\n"
	"keeps its lines and gets the station's appended. Run as root in a\n"
	"DIR owned by another user (the packaged /var/lib/whistle), the\n"
	"files made are given to that user.\n"
	"\n"
	"Refuses a DIR that already holds a station, and a FILE that already\n"
	"names one.\n";

#define MAX_MADE 32

struct made {
	char dirs[MAX_MADE][PATH_MAX]; /* created by us, outermost first */
	int ndirs;
	int key, pub, store, conf;
};

/* mkdir -p, remembering what we created so a failure can undo it. */
static int mkdirs(const struct cli *c, const char *home, struct made *m)
{
	char buf[PATH_MAX];
	if (strlen(home) >= sizeof buf)
		return cli_fail(c, "home %s: path too long", home);
	strcpy(buf, home);
	size_t n = strlen(buf);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char save = buf[i];
		buf[i] = '\0';
		int last = i == n;
		if (mkdir(buf, last ? 0700 : 0755) == 0) {
			if (m->ndirs < MAX_MADE)
				strcpy(m->dirs[m->ndirs++], buf);
		} else if (errno != EEXIST) {
			int err = errno;
			buf[i] = save;
			return cli_fail(c, "home %s: cannot create: %s", home,
					strerror(err));
		}
		buf[i] = save;
	}
	struct stat st;
	if (stat(home, &st) != 0 || !S_ISDIR(st.st_mode))
		return cli_fail(c, "home %s: not a directory", home);
	return CLI_OK;
}

static void rm(const char *home, const char *name)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof p, "%s/%s", home, name) < (int)sizeof p)
		unlink(p);
}

static void undo(const struct cli *c, const char *home, struct made *m)
{
	if (m->conf)
		unlink(c->conf_file);
	if (m->store) {
		rm(home, "store/data.mdb");
		rm(home, "store/lock.mdb");
		char p[PATH_MAX];
		if (snprintf(p, sizeof p, "%s/store", home) < (int)sizeof p)
			rmdir(p);
	}
	if (m->pub)
		rm(home, "key.public");
	if (m->key)
		rm(home, "key.secret");
	for (int i = m->ndirs - 1; i >= 0; i--)
		rmdir(m->dirs[i]);
}

/* A home holding any part of a station is not ours to touch. */
static int check_fresh(const struct cli *c, const char *home)
{
	static const char *const names[] = {"whistle.conf", "key.secret",
					    "store"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char p[PATH_MAX];
		struct stat st;
		if (cli_join(c, p, sizeof p, home, names[i]))
			return CLI_FAIL;
		if (lstat(p, &st) != 0)
			continue;
		if (i == 0)
			return cli_fail(c,
					"home %s already holds a station "
					"(whistle.conf exists)",
					home);
		return cli_fail(c,
				"home %s: %s exists without whistle.conf "
				"(an interrupted init?); move it away first",
				home, names[i]);
	}
	return CLI_OK;
}

/* A named config file that exists already: it must read (its lines
 * checked as ever) and name no station yet. *exists says whether it is
 * there. */
static int check_config(struct cli *c, int *exists)
{
	*exists = 0;
	if (!cli_config_given(c))
		return CLI_OK;
	FILE *f = fopen(c->conf_file, "re");
	if (!f)
		return errno == ENOENT ? CLI_OK
				       : cli_fail(c, "%s: %s", c->conf_file,
						  strerror(errno));
	struct cli_conf *old = wh_xcalloc(1, sizeof *old);
	int rc = cli_conf_read_partial(c, c->conf_file, f, old);
	fclose(f);
	if (rc == CLI_OK && (old->station[0] || old->code[0] ||
			     old->path[0] || old->role[0] ||
			     old->authority[0] || old->department[0]))
		rc = cli_fail(c,
			      "%s already names a station (%s); init does not "
			      "overwrite it",
			      c->conf_file,
			      old->station[0] ? old->station
			      : old->path[0]  ? old->path
					      : "station keys present");
	free(old);
	*exists = 1;
	return rc;
}

/* Root making a station in a home another user owns (the packaged
 * /var/lib/whistle): that user runs the agent, so it must own the key it
 * reads and the store it writes. */
static int own_like_home(const struct cli *c, const char *home)
{
	struct stat st;
	if (geteuid() != 0 || stat(home, &st) != 0 || st.st_uid == 0)
		return CLI_OK;
	/* The store directory last: until then only root can enter it. */
	static const char *const names[] = {"key.secret", "key.public",
					    "store/data.mdb", "store/lock.mdb",
					    "store"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char p[PATH_MAX];
		if (cli_join(c, p, sizeof p, home, names[i]))
			return CLI_FAIL;
		if (lchown(p, st.st_uid, st.st_gid) != 0 && errno != ENOENT)
			return cli_fail(c, "%s: cannot give it to uid %u: %s",
					p, (unsigned)st.st_uid,
					strerror(errno));
	}
	return CLI_OK;
}

static int create(struct cli *c, const struct cli_conf *conf, struct made *m)
{
	const char *home = c->home;
	int exists;
	int rc = check_config(c, &exists);
	if (rc == CLI_OK)
		rc = check_fresh(c, home);
	if (rc == CLI_OK)
		rc = mkdirs(c, home, m);
	if (rc)
		return rc;
	struct wh_key *key = NULL;
	if (wh_key_generate(&key) != WH_OK)
		return cli_fail(c, "cannot generate a key pair");
	c->key = key; /* cli_close wipes it */
	m->key = m->pub = 1;
	if ((rc = cli_key_write(c, home, key)))
		return rc;
	char dir[PATH_MAX];
	if ((rc = cli_join(c, dir, sizeof dir, home, "store")))
		return rc;
	if (mkdir(dir, 0700) != 0)
		return cli_fail(c, "%s: %s", dir, strerror(errno));
	m->store = 1;
	struct wh_store *s = NULL;
	int src = wh_store_open(dir, NULL, &s);
	if (src != WH_OK)
		return cli_fail(c, "store %s: %s", dir, wh_strerror(src));
	/* Bound before whistle.conf marks the home ready, so no op can
	 * land in it unchecked. */
	uint8_t pk[WH_PK_BYTES];
	if (conf->authority[0] &&
	    (wh_unhex(conf->authority, pk, WH_PK_BYTES) != WH_OK ||
	     (src = wh_store_authority_set(s, pk)) != WH_OK)) {
		wh_store_close(s);
		return cli_fail(c, "store %s: cannot bind the authority: %s",
				dir, wh_strerror(src));
	}
	/* The path it was born with: should the station move before its
	 * agent ever ran, the agent still knows where its cases wait. */
	if ((src = agent_path_record(s, conf->path)) != WH_OK) {
		wh_store_close(s);
		return cli_fail(c, "store %s: %s", dir, wh_strerror(src));
	}
	wh_store_close(s);
	if ((rc = own_like_home(c, home)))
		return rc;
	cli_fsync_dir(home);
	if (exists)
		return cli_conf_add_identity(c, conf);
	m->conf = 1;
	return cli_conf_write(c, conf);
}

static int parse(struct cli *c, int argc, char **argv, struct cli_conf *conf)
{
	static const struct cli_opt opts[] = {
		{"path", 0, 1}, {"station", 0, 1}, {"code", 0, 1},
		{"name", 0, 1}, {"role", 0, 1}, {"department", 0, 1},
		{"authority", 0, 1}, {NULL, 0, 0},
	};
	const char *path = NULL, *station = NULL, *code = NULL, *name = NULL,
		   *role = "station", *dept = NULL, *auth = NULL;
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which;
	const char *v;
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP)
			return -1;
		if (t == ARG_POS)
			return cli_usage(c, "unexpected argument '%s'", v);
		const char **dst[] = {&path, &station, &code,
				      &name, &role, &dept, &auth};
		*dst[which] = v;
	}
	if (!path)
		return cli_usage(c, "--path is required (e.g. --path "
				    "xicheng/xinjiekou/zhaodengyu)");
	if (!wh_path_valid(path, strlen(path)) || strlen(path) >= sizeof conf->path)
		return cli_usage(c,
				 "--path '%s': not a jurisdiction path "
				 "(lower-case [a-z0-9_-] components joined "
				 "by '/', at most %u)",
				 path, WH_PATH_MAX_PARTS);
	if (!station) {
		const char *slash = strrchr(path, '/');
		station = slash ? slash + 1 : path;
	}
	if (strchr(station, '/') || !wh_path_valid(station, strlen(station)))
		return cli_usage(c, "--station '%s': not a valid name "
				    "(lower-case [a-z0-9_-], at most %u bytes)",
				 station, WH_PART_MAX);
	if (code) {
		if (!wh_code_valid(code, strlen(code)) || code[0] == '~')
			return cli_usage(c,
					 "--code '%s': not a station code "
					 "([A-Z0-9-], 1-%u characters, no "
					 "leading or trailing '-')",
					 code, WH_CODE_MAX);
		strcpy(conf->code, code);
	} else if (pinyin_code(path, conf->code) != WH_OK) {
		return cli_usage(c, "cannot derive a code from --path '%s'; "
				    "pass --code",
				 path);
	}
	if (!cli_role_valid(role))
		return cli_usage(c, "--role '%s': one of station, street, "
				    "district, department",
				 role);
	if (!strcmp(role, "department") != !!dept)
		return cli_usage(c, dept ? "--department goes with --role "
					   "department"
					 : "--role department needs "
					   "--department NAME (e.g. 城管)");
	if (dept) {
		if (!*dept || strlen(dept) > WH_DEPT_MAX)
			return cli_usage(c, "--department '%s': 1 to %u bytes",
					 dept, WH_DEPT_MAX);
		for (const char *p = dept; *p; p++)
			if ((unsigned char)*p < 0x20)
				return cli_usage(c, "--department: control "
						    "characters are not "
						    "allowed");
		/* the config trims what it reads: keep what it keeps */
		if (dept[0] == ' ' || dept[strlen(dept) - 1] == ' ')
			return cli_usage(c, "--department '%s': leading or "
					    "trailing spaces",
					 dept);
		strcpy(conf->department, dept);
	}
	if (auth) {
		uint8_t pk[WH_PK_BYTES];
		if (trust_key_parse(auth, pk) != WH_OK)
			return cli_usage(c, "--authority '%s': not a public key "
					    "(64 lower-case hex digits, as "
					    "'whistle authority init' printed)",
					 auth);
		strcpy(conf->authority, auth);
	}
	if (!name)
		name = station;
	if (strlen(name) >= sizeof conf->name)
		return cli_usage(c, "--name: too long (at most %zu bytes)",
				 sizeof conf->name - 1);
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20) /* the config is line-based */
			return cli_usage(c, "--name: control characters are "
					    "not allowed");
	strcpy(conf->path, path);
	strcpy(conf->station, station);
	strcpy(conf->name, name);
	strcpy(conf->role, role);
	return CLI_OK;
}

int cmd_init(struct cli *c, int argc, char **argv)
{
	struct cli_conf conf;
	memset(&conf, 0, sizeof conf);
	int rc = parse(c, argc, argv, &conf);
	if (rc < 0)
		return cli_help(help);
	if (rc)
		return rc;
	if ((rc = cli_conf_locate(c)))
		return rc;
	struct made *m = wh_xcalloc(1, sizeof *m);
	rc = create(c, &conf, m);
	if (rc) {
		undo(c, c->home, m);
		free(m);
		return rc;
	}
	free(m);
	char pk[2 * WH_PK_BYTES + 1];
	wh_hex(c->key->pk, WH_PK_BYTES, pk);
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "home", c->home);
		json_kstr(&j, "config", c->conf_file);
		json_kstr(&j, "station", conf.station);
		json_kstr(&j, "code", conf.code);
		json_kstr(&j, "path", conf.path);
		json_kstr(&j, "name", conf.name);
		json_kstr(&j, "role", conf.role);
		json_kstr(&j, "department",
			  conf.department[0] ? conf.department : NULL);
		json_kstr(&j, "public_key", pk);
		json_kstr(&j, "authority",
			  conf.authority[0] ? conf.authority : NULL);
		json_obj_end(&j);
		json_end(&j);
	} else {
		printf("initialised station %s (%s) in %s\n", conf.station,
		       conf.name, c->home);
		printf("  config      %s\n", c->conf_file);
		printf("  code        %s  (case ids %s-000001, ...)\n",
		       conf.code, conf.code);
		printf("  path        %s\n", conf.path);
		printf("  role        %s\n", conf.role);
		if (conf.department[0])
			printf("  department  %s\n", conf.department);
		printf("  public key  %s\n", pk);
		if (conf.authority[0])
			printf("  authority   %s\n"
			       "              (bound: nothing is written until "
			       "'whistle roster apply roster.wr')\n",
			       conf.authority);
	}
	return CLI_OK;
}
