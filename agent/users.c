/*
 * users.c: HOME/users, the web console's accounts (users.h).
 *
 * The file is outside input (people edit it, disks damage it): it is
 * parsed here only, line by line with a bounded line length, and a
 * line that does not parse refuses the whole file with its line number,
 * so no half-read list of accounts is ever used. Hash strings are
 * checked for their Argon2id prefix; libsodium checks the rest when it
 * verifies.
 */
#include "users.h"

#include <sodium.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
	const char *name, *label;
} roles[] = {
    {"viewer", "查看"},
    {"clerk", "登记"},
    {"staff", "办理"},
};

int users_role_parse(const char *s)
{
	for (int i = 0; i <= USERS_ROLE_MAX; i++)
		if (!strcmp(s, roles[i].name) || !strcmp(s, roles[i].label))
			return i;
	return -1;
}

const char *users_role_name(int role)
{
	return role >= 0 && role <= USERS_ROLE_MAX ? roles[role].name : "?";
}

const char *users_role_label(int role)
{
	return role >= 0 && role <= USERS_ROLE_MAX ? roles[role].label : "?";
}

int users_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > USERS_NAME_MAX || s[0] == '-' ||
	    !wh_utf8_valid((const uint8_t *)s, n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch >= 0x80)
			continue; /* part of a non-ASCII character */
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
		    ch == '-')
			continue;
		return 0;
	}
	return 1;
}

int users_pass_valid(const char *pw, size_t n, const char **why)
{
	*why = NULL;
	if (n < USERS_PASS_MIN)
		*why = "password too short (at least 8 bytes; 密码至少 8 位)";
	else if (n > USERS_PASS_MAX)
		*why = "password too long (at most 256 bytes)";
	else if (memchr(pw, '\0', n) || memchr(pw, '\n', n))
		*why = "password holds a NUL or a line break";
	return *why == NULL;
}

void users_fini(struct users *u)
{
	if (u->e)
		sodium_memzero(u->e, u->n * sizeof *u->e);
	free(u->e);
	u->e = NULL;
	u->n = 0;
}

struct users_entry *users_find(const struct users *u, const char *name)
{
	for (size_t i = 0; i < u->n; i++)
		if (!strcmp(u->e[i].name, name))
			return &u->e[i];
	return NULL;
}

/* One "NAME ROLE HASH" line (comments and blanks already skipped). */
static const char *parse_line(char *s, struct users_entry *e)
{
	char *name = strtok(s, " \t");
	char *role = strtok(NULL, " \t");
	char *hash = strtok(NULL, " \t");
	if (!name || !role || !hash)
		return "expected 'NAME ROLE HASH'";
	if (strtok(NULL, " \t"))
		return "more than three fields";
	if (!users_name_valid(name))
		return "bad account name";
	int r = users_role_parse(role);
	if (r < 0)
		return "role must be viewer, clerk or staff";
	size_t hn = strlen(hash);
	if (hn >= USERS_HASH_MAX ||
	    strncmp(hash, crypto_pwhash_argon2id_STRPREFIX,
		    strlen(crypto_pwhash_argon2id_STRPREFIX)))
		return "not an Argon2id password hash";
	memset(e, 0, sizeof *e);
	strcpy(e->name, name);
	e->role = r;
	memcpy(e->hash, hash, hn + 1);
	return NULL;
}

int users_parse(FILE *f, const char *file, struct users *u, char *why,
		size_t whylen)
{
	memset(u, 0, sizeof *u);
	char line[USERS_LINE_MAX];
	unsigned long lineno = 0;
	const char *bad = NULL;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			bad = "line too long";
			break;
		}
		line[strcspn(line, "\r\n")] = '\0';
		char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#')
			continue;
		if (u->n >= USERS_MAX) {
			bad = "too many accounts (at most 256)";
			break;
		}
		struct users_entry e;
		if ((bad = parse_line(s, &e)))
			break;
		if (users_find(u, e.name)) {
			bad = "account named twice";
			break;
		}
		u->e = wh_xrealloc(u->e, (u->n + 1) * sizeof *u->e);
		u->e[u->n++] = e;
		sodium_memzero(&e, sizeof e);
	}
	sodium_memzero(line, sizeof line);
	if (!bad && ferror(f))
		bad = "read error";
	if (bad) {
		snprintf(why, whylen, "%s:%lu: %s", file, lineno, bad);
		users_fini(u);
		return WH_EDECODE;
	}
	return WH_OK;
}

static int join(char *out, const char *home, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", home, name);
	return n > 0 && n < PATH_MAX ? WH_OK : WH_ETOOBIG;
}

int users_load(const char *home, struct users *u, char *why, size_t whylen)
{
	char file[PATH_MAX];
	memset(u, 0, sizeof *u);
	if (join(file, home, "users") != WH_OK) {
		snprintf(why, whylen, "home path too long");
		return WH_ETOOBIG;
	}
	FILE *f = fopen(file, "re");
	if (!f) {
		if (errno == ENOENT)
			return WH_OK;
		snprintf(why, whylen, "%s: %s", file, strerror(errno));
		return WH_EIO;
	}
	int rc = users_parse(f, file, u, why, whylen);
	fclose(f);
	return rc;
}

int users_save(const char *home, const struct users *u)
{
	char file[PATH_MAX], tmp[PATH_MAX];
	if (join(file, home, "users") || join(tmp, home, "users.tmp"))
		return WH_ETOOBIG;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return WH_EIO;
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		return WH_EIO;
	}
	fputs("# Whistle web console accounts, written by 'whistle user'.\n"
	      "# NAME ROLE HASH: role viewer, clerk or staff; HASH is an\n"
	      "# Argon2id password hash (libsodium crypto_pwhash_str).\n",
	      f);
	for (size_t i = 0; i < u->n; i++)
		fprintf(f, "%s %s %s\n", u->e[i].name,
			users_role_name(u->e[i].role), u->e[i].hash);
	int ok = fflush(f) == 0 && !ferror(f) && fsync(fd) == 0;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok || rename(tmp, file) != 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return WH_EIO;
	}
	int dfd = open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return WH_OK;
}

int users_lock(const char *home, int *fd)
{
	char file[PATH_MAX];
	*fd = -1;
	if (join(file, home, "users.lock"))
		return WH_ETOOBIG;
	int f = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (f < 0)
		return WH_EIO;
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	while (fcntl(f, F_SETLKW, &fl) != 0) {
		if (errno != EINTR) {
			close(f);
			return WH_EIO;
		}
	}
	*fd = f;
	return WH_OK;
}

void users_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* closing drops the fcntl lock */
}

uint64_t users_stamp(const char *home)
{
	char file[PATH_MAX];
	struct stat st;
	if (join(file, home, "users") || stat(file, &st) != 0)
		return 0;
	uint64_t h = (uint64_t)st.st_ino * 1000003u;
	h ^= (uint64_t)st.st_size * 9176u;
	h ^= (uint64_t)st.st_mtim.tv_sec * 1000000000u +
	     (uint64_t)st.st_mtim.tv_nsec;
	return h ? h : 1;
}

int users_hash(const char *pw, size_t n, char out[USERS_HASH_MAX])
{
	if (crypto_pwhash_str_alg(out, pw, n,
				  crypto_pwhash_OPSLIMIT_INTERACTIVE,
				  crypto_pwhash_MEMLIMIT_INTERACTIVE,
				  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return WH_EIO; /* the memory the hash needs could not be had */
	return WH_OK;
}

int users_verify(const struct users_entry *e, const char *pw, size_t n)
{
	static char dummy[USERS_HASH_MAX];
	if (!e) {
		/* The same work for a name that does not exist, so the time
		 * an answer takes does not tell which names do. */
		if (!dummy[0] && users_hash("no such account", 15, dummy))
			return 0;
		if (crypto_pwhash_str_verify(dummy, pw, n) == 0)
			return 0; /* a password that happens to match it */
		return 0;
	}
	return crypto_pwhash_str_verify(e->hash, pw, n) == 0;
}
