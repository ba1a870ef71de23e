/*
 * cli_seal.h: sealed personal data at the keyboard (crdt/seal.h has the
 * formats, docs/sealing.md the rules): who the readers of a case are,
 * what this station can open, and the drafts that seal, share and
 * erase. Internal to agent/; seal.c implements it, cmd_case_seal.c has
 * the `case erase-personal` and `case reseal` commands.
 *
 * Readers come from the store's roster when it has an authority
 * (wh_seal_readers); without one (lab use, docs/security.md) they are
 * this station and the trust-list peers whose path holds the case's.
 * This station always adds itself, so what it writes it can read back.
 */
#ifndef WH_CLI_SEAL_H
#define WH_CLI_SEAL_H

#include "cli.h"
#include "seal.h"

/* What this station sees of a case's personal data. */
enum cli_pd_state {
	CLI_PD_NONE = 0,  /* none recorded */
	CLI_PD_OPEN = 1,  /* readable here: sealed and opened, or in clear */
	CLI_PD_SEALED = 2, /* sealed, and no envelope here opens it (yet) */
	CLI_PD_ERASED = 3
};

const char *cli_pd_name(int state); /* "none", "open", "sealed", "erased" */

/* One keys op of the case, and where its envelope content stands. */
enum cli_env_content { CLI_ENV_HELD, CLI_ENV_MISSING, CLI_ENV_DESTROYED };
struct cli_env {
	uint8_t kid[WH_ID_BYTES], blob[WH_ID_BYTES];
	int content; /* enum cli_env_content */
};
const char *cli_env_content_name(int content); /* "held", ... */

struct cli_pd {
	int state;
	struct cli_env *envs; /* every keys op of the case (owned) */
	size_t nenvs;
	char *reporter, *contact; /* owned; NULL where absent */
	struct wh_seal_key *key;  /* the case key, when an envelope here
				   * opens it (sealed or not: erased never) */
	/* The X25519 keys of every envelope of the current kid held here
	 * (readers who have it already), WH_SEAL_ENV_ENTRY apart. */
	struct wh_buf holders;
};

/*
 * Look at case v's personal data with this station's key (c->key and
 * c->store must be open): open the sealed value when an envelope held
 * here opens its key, else say it is sealed. pd is initialised by the
 * call; release with cli_pd_fini. WH_OK or a store error.
 */
WH_MUST_CHECK int cli_pd_load(const struct cli *c, const struct wh_case *v,
			      struct cli_pd *pd);
void cli_pd_fini(struct cli_pd *pd);

/*
 * The readers of a case at path with departments depts[0..n) summoned,
 * this station included, into *out (allocated; free it), count *nout.
 * why gets a static phrase on failure. WH_OK, or a store error.
 */
WH_MUST_CHECK int cli_seal_readers(const struct cli *c, const char *path,
				   const char *const *depts, size_t ndepts,
				   uint8_t (**out)[WH_PK_BYTES], size_t *nout);

/* The departments case v ever summoned, borrowed from v (at most
 * WH_FLOW_MAX_SUMMONS). Returns the count. */
size_t cli_seal_summoned(const struct wh_case *v, const char **out,
			 size_t max);

/*
 * Share the case key: an envelope for those of readers[0..n) that have
 * none yet (pd->holders), put in the store, and the keys op that names
 * it into *d (code, seq, path: the case; seq may be 0 after a create in
 * the same author call). *added gets how many readers it covers; 0: no
 * op (nothing new to share). The op's fields point into 'share', which
 * must outlive the author call.
 */
struct cli_share {
	uint8_t kid[WH_ID_BYTES];
	uint8_t blob[WH_ID_BYTES];
	uint64_t size;
};
WH_MUST_CHECK int cli_seal_share(const struct cli *c, const struct wh_seal_key *k,
				 const struct cli_pd *pd,
				 const uint8_t (*readers)[WH_PK_BYTES],
				 size_t n, const char *code, uint32_t seq,
				 const char *path, struct cli_share *share,
				 struct wh_op_draft *d, size_t *added);

/*
 * Share case v's key with every reader who has no envelope yet: the
 * readers of cli_seal_readers with the departments v ever summoned and
 * extra[0..nextra) (a whistle's). *readable says whether this station
 * can open the key at all (if not, nothing is shared); *added how many
 * readers the keys op in *d covers (0: no op). WH_OK or a store error.
 */
WH_MUST_CHECK int cli_seal_share_case(const struct cli *c,
				      const struct wh_case *v,
				      const char *const *extra, size_t nextra,
				      struct cli_share *share,
				      struct wh_op_draft *d, size_t *added,
				      int *readable);

/*
 * Sealing a change of the personal fields (case new, set, import), from
 * the case's view v and what this station sees of it, pd (both NULL: a
 * new case), and the values given (NULL: not given; a given value
 * replaces, the other is kept). It reuses the case key when this station
 * can open it, else makes a new one: then sp->env holds the envelope
 * for every reader, for the caller to put in the store before the ops,
 * and a keys op must follow. Nothing is written.
 */
struct cli_seal {
	struct wh_seal_key *key;
	int new_key;
	char *reporter, *contact; /* what is sealed (owned) */
	struct wh_buf sealed;     /* its bytes (filled for a known seq) */
	struct wh_buf env;        /* the envelope, when new_key */
	struct cli_share share;   /* the keys op's fields, when new_key */
	size_t nreaders;
};

/* Readers by path, for the rows of one import (new cases only: no
 * department summoned yet). Zero-initialise; cli_rcache_fini frees. */
#define CLI_RCACHE_PATHS 16
struct cli_rcache {
	size_t n, next;
	struct {
		char path[WH_PATH_MAX + 1];
		uint8_t (*keys)[WH_PK_BYTES];
		size_t nkeys;
	} e[CLI_RCACHE_PATHS];
};
void cli_rcache_fini(struct cli_rcache *rc);

/*
 * WH_OK; WH_ESTATE with *why (static) when the data was erased, or is
 * sealed unreadably here and only one field is given (the other would
 * be lost); or an error. pd's key may be taken (set to NULL). cache may
 * be NULL.
 */
WH_MUST_CHECK int cli_seal_prepare(const struct cli *c,
				   const struct wh_case *v, struct cli_pd *pd,
				   const char *path, const char *reporter,
				   const char *contact,
				   struct cli_rcache *cache,
				   struct cli_seal *sp, const char **why);

/* cli_seal_prepare for one command: reads pd itself, puts the envelope
 * in the store, and says what went wrong (CLI_FAIL) prefixed by what. */
WH_MUST_CHECK int cli_seal_begin(const struct cli *c, const char *what,
				 const struct wh_case *v, const char *path,
				 const char *reporter, const char *contact,
				 struct cli_seal *sp);
void cli_seal_fini(struct cli_seal *sp);

/*
 * Add SEALED and KID to d (a create or a set of case code, seq; seq 0:
 * a create whose seq the store gives, sealed then by cli_seal_fill) and,
 * when the key is new, the keys op to *keys (*nkeys = 1, else 0).
 */
WH_MUST_CHECK int cli_seal_drafts(struct cli_seal *sp, const char *code,
				  uint32_t seq, const char *path,
				  struct wh_op_draft *d,
				  struct wh_op_draft *keys, size_t *nkeys);

/* For wh_store_author_fill: ctx is an array of struct cli_seal * by
 * draft index (NULL: nothing to seal); seals into the bytes the draft's
 * SEALED field points to, now that the draft has its seq. */
int cli_seal_fill(void *ctx, const struct wh_op_draft *d, size_t i);

#endif
