/*
 * users.h: the web console's accounts, HOME/users.
 *
 * One line per account, "NAME ROLE HASH", HASH being libsodium's
 * crypto_pwhash_str (Argon2id, with its own salt and limits in the
 * string); '#' starts a comment line. The file is written whole, mode
 * 0600, to a temporary file that is fsynced and renamed over the old
 * one, under an fcntl lock on HOME/users.lock so that two `whistle
 * user` commands cannot lose each other's change. The agent reads it
 * again when it changes (users_stamp), so an account added while it
 * runs can log in at once and one removed cannot.
 *
 * Why a file and not the store: accounts belong to this PC's staff and
 * must never sync, and they hold password hashes, which have no place
 * in a store that is exported, rebuilt and carried to other stations.
 *
 * Nothing here prints; failures come back as WH_E* codes with a reason
 * in 'why' (static text, or written into the caller's buffer).
 */
#ifndef WH_USERS_H
#define WH_USERS_H

#include "wh.h"

#include <stdio.h>
#include <sys/types.h>

#define USERS_NAME_MAX 64 /* bytes of a name */
#define USERS_PASS_MIN 8  /* bytes of a password */
#define USERS_PASS_MAX 256
#define USERS_MAX 256	   /* accounts in one file */
#define USERS_HASH_MAX 128 /* crypto_pwhash_STRBYTES */
#define USERS_LINE_MAX 512

/* What a person may do on the console, least first. The station's
 * role (whistle.conf) still decides which loop steps the station may
 * take at all; a user's role only narrows it. */
enum users_role {
	USERS_VIEWER = 0, /* 查看: reads */
	USERS_CLERK = 1, /* 登记: also takes in cases, adds notes, sync now */
	USERS_STAFF = 2, /* 办理: also every loop step the station may take */
	USERS_ROLE_MAX = 2
};

struct users_entry {
	char name[USERS_NAME_MAX + 1];
	int role; /* enum users_role */
	char hash[USERS_HASH_MAX];
};

struct users {
	struct users_entry *e;
	size_t n;
};

/* "viewer", "clerk", "staff" (or 查看, 登记, 办理) -> role; -1 if none. */
int users_role_parse(const char *s);
const char *users_role_name(int role);
const char *users_role_label(int role);

/* A name: 1..USERS_NAME_MAX bytes of UTF-8, ASCII letters, digits,
 * '_', '.', '-' (not first) and any non-ASCII character (王芳); no
 * blanks or other punctuation. */
int users_name_valid(const char *s);

/* A password's length in bytes within the limits; why set if not. */
int users_pass_valid(const char *pw, size_t n, const char **why);

/*
 * Parse a users file from f ('file' names it in why). An empty or
 * missing file is no accounts. A bad line refuses the whole file with
 * WH_EDECODE and "FILE:LINE: reason" in why (whylen bytes). u is
 * initialised by the call; users_fini releases it.
 */
WH_MUST_CHECK int users_parse(FILE *f, const char *file, struct users *u,
			      char *why, size_t whylen);
/* The same from HOME/users (missing: no accounts, WH_OK). */
WH_MUST_CHECK int users_load(const char *home, struct users *u, char *why,
			     size_t whylen);
void users_fini(struct users *u);

/* The entry named name, or NULL. */
struct users_entry *users_find(const struct users *u, const char *name);

/* Write HOME/users whole and atomically (mode 0600). WH_OK or WH_EIO
 * (errno kept). */
WH_MUST_CHECK int users_save(const char *home, const struct users *u);

/* Hold HOME/users.lock (blocking) around a read-change-write; *fd for
 * users_unlock. WH_OK or WH_EIO. */
WH_MUST_CHECK int users_lock(const char *home, int *fd);
void users_unlock(int fd);

/* Something that changes whenever HOME/users is replaced (inode, size,
 * mtime); 0 when it does not exist. */
uint64_t users_stamp(const char *home);

/* Hash a password (Argon2id, OPSLIMIT/MEMLIMIT_INTERACTIVE) into out.
 * WH_OK, or WH_EIO if its 64 MiB cannot be had. */
WH_MUST_CHECK int users_hash(const char *pw, size_t n,
			     char out[USERS_HASH_MAX]);

/* Whether pw is e's password: 1 or 0. With e NULL (no such account) a
 * dummy hash is checked all the same and 0 returned, so the answer
 * takes as long whether the name exists or not. */
int users_verify(const struct users_entry *e, const char *pw, size_t n);

#endif
