/*
 * authority.h: the district administrator's authority directory (what
 * `whistle authority` works on) and the roster printer that it shares
 * with the station's `whistle roster show`.
 *
 * An authority directory DIR (mode 0700) holds:
 *
 *     DIR/authority.key     the Ed25519 secret key, 64 raw bytes, mode
 *                           0600: the station key's format and checks
 *     DIR/authority.pub     its public key in hex (what stations are
 *                           bootstrapped with: init --authority HEX)
 *     DIR/authority.conf    "kind = authority|delegate" and "name = ..."
 *     DIR/roster.wr         the current signed roster (crdt/roster.h)
 *     DIR/roster.wr.<N>     every earlier roster, by serial: history
 *
 * A district's directory ("authority") signs the root roster; a
 * street's ("delegate") signs its street's roster once the district has
 * granted its key with `authority delegate`. Never a station home: no
 * store, no whistle.conf.
 *
 * roster.wr is replaced atomically (tmp, fsync, rename) after the old
 * one was kept as roster.wr.<its serial>, so a crash leaves the old
 * roster or the new one and the history is never short of one.
 */
#ifndef WH_AUTHORITY_H
#define WH_AUTHORITY_H

#include "cli.h"
#include "roster.h"

#include <limits.h>

struct json;

struct adir {
	char dir[PATH_MAX];
	int delegate;                       /* kind = delegate */
	char name[WH_ROSTER_NAME_MAX + 1];  /* authority.conf's name */
	struct wh_key *key;                 /* sodium memory */
	struct wh_roster r;                 /* roster.wr, decoded */
	struct wh_buf raw;                  /* and its bytes */
	int lockfd;                         /* DIR, flock'd; -1: none */
};

/* DIR from --dir (may be NULL) or $WHISTLE_AUTHORITY_DIR; CLI_USAGE
 * with a message if neither. */
int adir_resolve(struct cli *c, const char *opt, const char **dir);

/* Create DIR's files: a new key, authority.conf and roster 1 (scope,
 * no grants, issued now). Refuses a DIR that holds any of them. On
 * failure removes what it made. a is open afterwards (adir_close). */
int adir_create(struct cli *c, const char *dir, int delegate,
		const char *scope, const char *name, struct adir *a);

/* Lock DIR and load its key, conf and roster; checks that the roster
 * is signed by DIR's key. CLI_OK or CLI_FAIL (message printed). */
int adir_open(struct cli *c, const char *dir, struct adir *a);

/* Sign a->r as the next roster (serial + 1, issued now), keep the old
 * file as roster.wr.<old serial>, replace roster.wr. On success a->r
 * and a->raw are the new roster. */
int adir_commit(struct cli *c, struct adir *a);

void adir_close(struct adir *a);

/* A grant appended to a->r (zeroed, key set); the caller fills it. */
struct wh_grant *adir_grant_new(struct adir *a,
				const uint8_t key[WH_PK_BYTES]);

/* ---- shared by the authority commands (cmd_authority*.c) ---- */

extern const char adm_help[];
/* Options into vals[] by opts index (a flag gets ""); -1 for --help,
 * CLI_USAGE with a message, CLI_OK. */
int adm_parse(struct cli *c, int argc, char **argv,
	      const struct cli_opt *opts, const char **vals);
#define ADM_PARSE(opts, vals)                                                  \
	do {                                                                   \
		int prc_ = adm_parse(c, argc, argv, opts, vals);               \
		if (prc_ < 0)                                                  \
			return cli_help(adm_help);                             \
		if (prc_)                                                      \
			return prc_;                                           \
	} while (0)
/* Option value checks: CLI_OK or CLI_USAGE with a message. */
int adm_key_arg(const struct cli *c, const char *opt, const char *hex,
		uint8_t pk[WH_PK_BYTES]);
int adm_path_arg(const struct cli *c, const char *opt, const char *s);
int adm_code_arg(const struct cli *c, const char *s);
int adm_seq_arg(const struct cli *c, const char *s, uint32_t *out);
/* station, street and district create cases (and need a code). */
int adm_creates_cases(int role);
/* Not ended and not revoked by time t. */
int adm_live_at(const struct wh_grant *g, uint64_t t);
/* A revoked grant of pk (all of a key's grants are revoked alike), or
 * NULL; how many grants pk holds. */
const struct wh_grant *adm_revoked_grant(const struct wh_roster *r,
					 const uint8_t *pk);
uint32_t adm_count_of(const struct wh_roster *r, const uint8_t *pk);
/* The checks a new grant g passes before it joins a->r: scope, a
 * delegate's roles, not the directory's key, not a revoked key, no live
 * duplicate, no other key under its code (but skip_code_of's: replace).
 * CLI_OK or CLI_FAIL with a message. */
int adm_grant_fits(struct cli *c, const struct adir *a,
		   const struct wh_grant *g, const uint8_t *skip_code_of);
/* After a commit: the change (what) and the grants it made or ended,
 * as text or --json. */
int adm_report(struct cli *c, const struct adir *a, const char *what,
	       const struct wh_grant *const *gs, size_t ng);
/* cmd_authority_change.c */
int adm_revoke(struct cli *c, int argc, char **argv);
int adm_replace(struct cli *c, int argc, char **argv);
int adm_move(struct cli *c, int argc, char **argv);

/* ---- roster files ---- */

/* Read FILE whole into out (appended), refusing one larger than max
 * bytes before reading it (and a stream that grows past max while
 * read). CLI_OK or CLI_FAIL (message printed). */
int roster_file_read(const struct cli *c, const char *file, size_t max,
		     struct wh_buf *out);
/* Write p[0..n) as FILE atomically: FILE.tmp with mode, fsync, rename,
 * fsync the directory. CLI_OK or CLI_FAIL (message printed). */
int roster_file_write(const struct cli *c, const char *file,
		      const uint8_t *p, size_t n, int mode);

/* ---- printing a roster (authority show, roster show) ---- */

/* "1a2b3c4d…": the first 8 hex digits of a key. */
void roster_key_short(const uint8_t pk[WH_PK_BYTES], char out[16]);

/* One roster as text: a header line (label, serial, signer, scope,
 * issued) and a row per grant. self (may be NULL) marks "本站" rows. */
void roster_text(FILE *f, const char *label, const struct wh_roster *r,
		 const uint8_t *self);
/* One roster as a JSON object. */
void roster_json(struct json *j, const struct wh_roster *r);
/* One grant as a JSON object. */
void grant_json(struct json *j, const struct wh_grant *g);

#endif
