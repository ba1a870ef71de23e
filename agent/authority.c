/*
 * authority.c: the authority directory (authority.h has its layout),
 * roster files, and the roster printer shared by `authority show` and
 * `roster show`.
 *
 * Every command on a directory holds an flock on DIR itself while it
 * reads, signs and replaces the roster, so two administrators' commands
 * on one directory (a shared drive) cannot both sign serial N + 1 from
 * serial N and lose one change.
 */
#include "authority.h"
#include "json.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KEY_FILE "authority.key"
#define PUB_FILE "authority.pub"
#define CONF_FILE "authority.conf"
#define ROSTER_FILE "roster.wr"
#define CONF_MAX 4096

int adir_resolve(struct cli *c, const char *opt, const char **dir)
{
	const char *d = opt;
	if (!d || !*d)
		d = getenv("WHISTLE_AUTHORITY_DIR");
	if (!d || !*d)
		return cli_usage(c, "no authority directory: pass --dir DIR or "
				    "set WHISTLE_AUTHORITY_DIR");
	*dir = d;
	return CLI_OK;
}

/* ---- files ---- */

int roster_file_read(const struct cli *c, const char *file, size_t max,
		     struct wh_buf *out)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cli_fail(c, "%s: %s", file, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int err = errno;
		close(fd);
		return cli_fail(c, "%s: %s", file, strerror(err));
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return cli_fail(c, "%s: a directory, not a roster file", file);
	}
	/* Size first: a wrong file (an op file, a disk image) is refused
	 * before a byte of it is read. */
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
		close(fd);
		return cli_fail(c, "%s: %" PRIu64 " bytes, more than a roster "
				   "file may hold (%zu)",
				file, (uint64_t)st.st_size, max);
	}
	size_t start = out->len;
	for (;;) {
		wh_buf_reserve(out, 1u << 16);
		ssize_t r = read(fd, out->p + out->len, out->cap - out->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = errno;
			close(fd);
			out->len = start;
			return cli_fail(c, "%s: %s", file, strerror(err));
		}
		if (r == 0)
			break;
		out->len += (size_t)r;
		if (out->len - start > max) {
			close(fd);
			out->len = start;
			return cli_fail(c, "%s: more than a roster file may hold "
					   "(%zu bytes)",
					file, max);
		}
	}
	close(fd);
	return CLI_OK;
}

int roster_file_write(const struct cli *c, const char *file,
		      const uint8_t *p, size_t n, int mode)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", file) >= (int)sizeof tmp)
		return cli_fail(c, "%s: name too long", file);
	snprintf(dir, sizeof dir, "%s", file);
	char *slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else
		*(slash == dir ? slash + 1 : slash) = '\0';
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f) {
		int err = errno;
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return cli_fail(c, "%s: %s", tmp, strerror(err));
	}
	fwrite(p, 1, n, f);
	return cli_file_commit(c, f, fd, tmp, file, dir);
}

static int path_in(const struct cli *c, const struct adir *a,
		   const char *name, char out[PATH_MAX])
{
	return cli_join(c, out, PATH_MAX, a->dir, name);
}

/* ---- authority.conf ---- */

static int text_ok(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (!n || n > max || s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int conf_write(struct cli *c, const struct adir *a)
{
	char file[PATH_MAX], text[512];
	if (path_in(c, a, CONF_FILE, file))
		return CLI_FAIL;
	int n = snprintf(text, sizeof text,
			 "# whistle authority directory: see 'whistle "
			 "authority --help'.\n"
			 "# kind: authority (the district's root key) or "
			 "delegate (a street's key)\n"
			 "kind = %s\nname = %s\n",
			 a->delegate ? "delegate" : "authority", a->name);
	return roster_file_write(c, file, (const uint8_t *)text, (size_t)n,
				 0644);
}

/* Strict: it is our own file, so anything unexpected is damage. */
static int conf_read(struct cli *c, struct adir *a)
{
	char file[PATH_MAX];
	if (path_in(c, a, CONF_FILE, file))
		return CLI_FAIL;
	struct wh_buf b = {0};
	if (roster_file_read(c, file, CONF_MAX, &b))
		return CLI_FAIL;
	wh_buf_append(&b, "", 1);
	int kind = -1, rc = CLI_OK;
	a->name[0] = '\0';
	char *save = NULL;
	for (char *line = strtok_r((char *)b.p, "\n", &save); line && !rc;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || !line[0])
			continue;
		if (!strcmp(line, "kind = authority"))
			kind = 0;
		else if (!strcmp(line, "kind = delegate"))
			kind = 1;
		else if (!strncmp(line, "name = ", 7) &&
			 text_ok(line + 7, WH_ROSTER_NAME_MAX))
			strcpy(a->name, line + 7);
		else
			rc = cli_fail(c, "%s: unexpected line '%.60s'", file,
				      line);
	}
	wh_buf_fini(&b);
	if (!rc && (kind < 0 || !a->name[0]))
		rc = cli_fail(c, "%s: 'kind' or 'name' missing", file);
	a->delegate = kind == 1;
	return rc;
}

/* ---- open, create, commit ---- */

static void adir_init(struct adir *a, const char *dir)
{
	memset(a, 0, sizeof *a);
	snprintf(a->dir, sizeof a->dir, "%s", dir);
	a->lockfd = -1;
}

static int lock_dir(struct cli *c, struct adir *a)
{
	a->lockfd = open(a->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (a->lockfd < 0)
		return cli_fail(c, "authority directory %s: %s", a->dir,
				strerror(errno));
	if (flock(a->lockfd, LOCK_EX | LOCK_NB) != 0)
		return cli_fail(c, "authority directory %s: %s", a->dir,
				errno == EWOULDBLOCK
					? "another 'whistle authority' "
					  "command is working on it"
					: strerror(errno));
	return CLI_OK;
}

static int roster_load(struct cli *c, struct adir *a)
{
	char file[PATH_MAX];
	if (path_in(c, a, ROSTER_FILE, file))
		return CLI_FAIL;
	wh_buf_reset(&a->raw);
	if (roster_file_read(c, file, WH_ROSTER_MAX_BYTES, &a->raw))
		return CLI_FAIL;
	wh_roster_fini(&a->r);
	int rc = wh_roster_decode(a->raw.p, a->raw.len, &a->r);
	if (rc)
		return cli_fail(c, "%s: not a valid roster: %s", file,
				wh_strerror(rc));
	if (memcmp(a->r.signer, a->key->pk, WH_PK_BYTES))
		return cli_fail(c, "%s: signed by another key than %s/%s; "
				   "this directory is damaged or mixed up",
				file, a->dir, KEY_FILE);
	return CLI_OK;
}

int adir_open(struct cli *c, const char *dir, struct adir *a)
{
	adir_init(a, dir);
	struct stat st;
	char file[PATH_MAX];
	if (stat(dir, &st) != 0)
		return cli_fail(c, "authority directory %s: %s", dir,
				errno == ENOENT ? "missing; create it with "
						  "'whistle authority init'"
						: strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return cli_fail(c, "authority directory %s: not a directory",
				dir);
	int rc = lock_dir(c, a);
	if (!rc && !(rc = path_in(c, a, KEY_FILE, file)) &&
	    lstat(file, &st) != 0)
		rc = cli_fail(c, "authority directory %s holds no %s; create "
				 "one with 'whistle authority init'",
			      dir, KEY_FILE);
	if (!rc)
		rc = cli_key_load(c, file, &a->key);
	if (!rc)
		rc = conf_read(c, a);
	if (!rc)
		rc = roster_load(c, a);
	return rc;
}

void adir_close(struct adir *a)
{
	wh_key_free(a->key);
	a->key = NULL;
	wh_roster_fini(&a->r);
	wh_buf_fini(&a->raw);
	if (a->lockfd >= 0)
		close(a->lockfd); /* releases the flock */
	a->lockfd = -1;
}

struct wh_grant *adir_grant_new(struct adir *a, const uint8_t key[WH_PK_BYTES])
{
	a->r.grants = wh_xrealloc(a->r.grants,
				  (a->r.ngrants + 1) * sizeof *a->r.grants);
	struct wh_grant *g = &a->r.grants[a->r.ngrants++];
	memset(g, 0, sizeof *g);
	memcpy(g->key, key, WH_PK_BYTES);
	return g;
}

/* Sign a->r into out with serial and issued set. */
static int sign(struct cli *c, struct adir *a, uint64_t serial,
		struct wh_buf *out)
{
	a->r.serial = serial;
	a->r.issued_ms = cli_now(c);
	int rc = wh_roster_build(&a->r, a->key, out);
	if (rc == WH_ETOOBIG)
		return cli_fail(c, "the roster would be too large (at most %u "
				   "grants, %u bytes)",
				WH_ROSTER_MAX_GRANTS, WH_ROSTER_MAX_BYTES);
	if (rc)
		return cli_fail(c, "cannot sign the roster: %s",
				wh_strerror(rc));
	return CLI_OK;
}

/* Keep the current roster as roster.wr.<serial>; a file already there
 * must hold the same bytes (history is never overwritten). */
static int keep_history(struct cli *c, struct adir *a)
{
	char name[64], file[PATH_MAX];
	snprintf(name, sizeof name, "%s.%" PRIu64, ROSTER_FILE, a->r.serial);
	if (path_in(c, a, name, file))
		return CLI_FAIL;
	struct stat st;
	if (lstat(file, &st) == 0) {
		struct wh_buf old = {0};
		int same = !roster_file_read(c, file, WH_ROSTER_MAX_BYTES,
					     &old) &&
			   old.len == a->raw.len &&
			   !memcmp(old.p, a->raw.p, old.len);
		wh_buf_fini(&old);
		if (same)
			return CLI_OK;
		return cli_fail(c, "%s exists and differs from roster %" PRIu64
				   " in %s; move it away first (history is "
				   "never overwritten)",
				file, a->r.serial, ROSTER_FILE);
	}
	return roster_file_write(c, file, a->raw.p, a->raw.len, 0644);
}

int adir_commit(struct cli *c, struct adir *a)
{
	struct wh_buf next = {0};
	char file[PATH_MAX];
	uint64_t old_serial = a->r.serial;
	int rc = sign(c, a, old_serial + 1, &next);
	/* sign() set the serial for the build; history wants the old. */
	a->r.serial = old_serial;
	if (!rc)
		rc = keep_history(c, a);
	if (!rc)
		rc = path_in(c, a, ROSTER_FILE, file);
	if (!rc)
		rc = roster_file_write(c, file, next.p, next.len, 0644);
	if (!rc) {
		wh_buf_fini(&a->raw);
		a->raw = next;
		wh_roster_fini(&a->r);
		if (wh_roster_decode(a->raw.p, a->raw.len, &a->r) != WH_OK)
			rc = cli_fail(c, "%s: the roster just written does "
					 "not decode",
				      file);
	} else {
		wh_buf_fini(&next);
	}
	return rc;
}

/* A file that an earlier, interrupted run may have left. */
static int check_fresh(struct cli *c, struct adir *a)
{
	static const char *const names[] = {KEY_FILE, CONF_FILE, ROSTER_FILE,
					    PUB_FILE};
	char p[PATH_MAX];
	struct stat st;
	if (path_in(c, a, "whistle.conf", p))
		return CLI_FAIL;
	if (lstat(p, &st) == 0)
		return cli_fail(c, "%s is a station home; keep the authority's "
				   "directory apart from every station",
				a->dir);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (path_in(c, a, names[i], p))
			return CLI_FAIL;
		if (lstat(p, &st) != 0)
			continue;
		if (i == 0)
			return cli_fail(c, "%s already holds a key (%s): one "
					   "directory, one authority key",
					a->dir, KEY_FILE);
		return cli_fail(c, "%s: %s exists without %s (an "
				   "interrupted init?); move it away first",
				a->dir, names[i], KEY_FILE);
	}
	return CLI_OK;
}

static void undo(struct adir *a, int made_dir)
{
	static const char *const names[] = {ROSTER_FILE, ROSTER_FILE ".tmp",
					    CONF_FILE, CONF_FILE ".tmp",
					    PUB_FILE, KEY_FILE};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char p[PATH_MAX];
		if (snprintf(p, sizeof p, "%s/%s", a->dir, names[i]) <
		    (int)sizeof p)
			unlink(p);
	}
	if (made_dir)
		rmdir(a->dir);
}

int adir_create(struct cli *c, const char *dir, int delegate,
		const char *scope, const char *name, struct adir *a)
{
	adir_init(a, dir);
	a->delegate = delegate;
	snprintf(a->name, sizeof a->name, "%s", name);
	int made_dir = 0;
	if (mkdir(dir, 0700) == 0)
		made_dir = 1;
	else if (errno != EEXIST)
		return cli_fail(c, "authority directory %s: cannot create: %s",
				dir, strerror(errno));
	int rc = lock_dir(c, a);
	if (!rc)
		rc = check_fresh(c, a);
	if (rc) {
		if (made_dir)
			rmdir(dir);
		return rc;
	}
	if (wh_key_generate(&a->key) != WH_OK) {
		undo(a, made_dir);
		return cli_fail(c, "cannot generate a key pair");
	}
	rc = cli_key_write_as(c, dir, KEY_FILE, PUB_FILE, a->key);
	if (!rc)
		rc = conf_write(c, a);
	snprintf(a->r.scope, sizeof a->r.scope, "%s", scope);
	char file[PATH_MAX];
	if (!rc)
		rc = sign(c, a, 1, &a->raw);
	if (!rc)
		rc = path_in(c, a, ROSTER_FILE, file);
	if (!rc)
		rc = roster_file_write(c, file, a->raw.p, a->raw.len, 0644);
	if (!rc && wh_roster_decode(a->raw.p, a->raw.len, &a->r) != WH_OK)
		rc = cli_fail(c, "%s: the roster just written does not decode",
			      file);
	if (rc) {
		undo(a, made_dir);
		return rc;
	}
	cli_fsync_dir(dir);
	return CLI_OK;
}

/* ---- printing ---- */

void roster_key_short(const uint8_t pk[WH_PK_BYTES], char out[16])
{
	char hex[2 * WH_PK_BYTES + 1];
	wh_hex(pk, WH_PK_BYTES, hex);
	snprintf(out, 16, "%.8s…", hex);
}

/* Local time to the second, "-" for 0 (--json has the ms). */
static void when(uint64_t ms, char out[CLI_TIME_MAX])
{
	if (!ms) {
		strcpy(out, "-");
		return;
	}
	time_t sec = (time_t)(ms / 1000u);
	struct tm tm;
	if (!localtime_r(&sec, &tm) ||
	    !strftime(out, CLI_TIME_MAX, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(out, CLI_TIME_MAX, "@%" PRIu64, ms);
}

void roster_text(FILE *f, const char *label, const struct wh_roster *r,
		 const uint8_t *self)
{
	char signer[16], issued[CLI_TIME_MAX];
	roster_key_short(r->signer, signer);
	cli_time_local(r->issued_ms, issued);
	fprintf(f, "%s: serial %" PRIu64 ", signer %s, scope %s, issued %s\n",
		label, r->serial, signer, r->scope, issued);
	if (!r->ngrants) {
		fprintf(f, "  (no grants)\n");
		return;
	}
	fprintf(f, "  ");
	cli_print_cell(f, "name", 16, 0);
	fprintf(f, " %-10s ", "role");
	cli_print_cell(f, "path", 34, 0);
	fprintf(f, " ");
	cli_print_cell(f, "code/dept", 10, 0);
	fprintf(f, " %-10s %-19s %-19s %s\n", "key", "from", "until",
		"revoked");
	for (uint32_t i = 0; i < r->ngrants; i++) {
		const struct wh_grant *g = &r->grants[i];
		char key[16], from[CLI_TIME_MAX], until[CLI_TIME_MAX],
			rev[CLI_TIME_MAX];
		roster_key_short(g->key, key);
		if (self && !memcmp(self, g->key, WH_PK_BYTES))
			strcpy(key, "本站");
		when(g->from_ms, from);
		when(g->until_ms, until);
		when(g->revoked_ms, rev);
		fprintf(f, "  ");
		cli_print_cell(f, g->name, 16, 0);
		fprintf(f, " %-10s ", wh_mrole_name(g->role));
		cli_print_cell(f, g->path, 34, 0);
		fprintf(f, " ");
		cli_print_cell(f, g->dept[0] ? g->dept : g->code[0] ? g->code
								   : "-",
			       10, 0);
		fprintf(f, " ");
		cli_print_cell(f, key, 10, 0);
		fprintf(f, " %-19s %-19s %s", from, until, rev);
		if (g->seq_min > 1)
			fprintf(f, "  (case numbers from %" PRIu32 ")",
				g->seq_min);
		fputc('\n', f);
	}
}

static void time_json(struct json *j, const char *k, uint64_t ms)
{
	json_key(j, k);
	if (!ms) {
		json_null(j);
		return;
	}
	char iso[CLI_TIME_MAX];
	cli_time_iso(ms, iso);
	json_str(j, iso);
}

void grant_json(struct json *j, const struct wh_grant *g)
{
	json_obj(j);
	json_kstr(j, "name", g->name);
	json_kstr(j, "role", wh_mrole_name(g->role));
	json_kstr(j, "path", g->path);
	json_kstr(j, "code", g->code[0] ? g->code : NULL);
	json_kstr(j, "dept", g->dept[0] ? g->dept : NULL);
	json_khex(j, "key", g->key, WH_PK_BYTES);
	time_json(j, "from", g->from_ms);
	time_json(j, "until", g->until_ms);
	time_json(j, "revoked", g->revoked_ms);
	json_kuint(j, "from_ms", g->from_ms);
	json_kuint(j, "until_ms", g->until_ms);
	json_kuint(j, "revoked_ms", g->revoked_ms);
	json_kuint(j, "seq_min", g->seq_min);
	json_obj_end(j);
}

void roster_json(struct json *j, const struct wh_roster *r)
{
	json_obj(j);
	json_kuint(j, "serial", r->serial);
	json_khex(j, "signer", r->signer, WH_PK_BYTES);
	json_kstr(j, "scope", r->scope);
	time_json(j, "issued", r->issued_ms);
	json_kuint(j, "issued_ms", r->issued_ms);
	json_khex(j, "id", r->id, WH_ID_BYTES);
	json_key(j, "grants");
	json_arr(j);
	for (uint32_t i = 0; i < r->ngrants; i++)
		grant_json(j, &r->grants[i]);
	json_arr_end(j);
	json_obj_end(j);
}
