/*
 * roster.h: who may write what. A district's authority key signs a
 * roster: one grant per (member key, role, jurisdiction, time span). A
 * street's delegate key, granted by the district, signs a roster of its
 * own street's members. Every replica decides with the same function,
 * wh_roster_authorize, from the signed rosters it holds and the op's
 * own bytes, so all replicas that hold the same rosters decide alike.
 *
 * Wire and storage form, format version 1 (docs/protocol.md, "Roster"):
 *
 *     R      = msgpack fixarray(7)
 *              ["WR", 1, signer(bin 32), scope(str), serial, issued_ms,
 *               [grant...]]
 *     grant  = fixarray(10)
 *              [key(bin 32), name(str), role, path(str), code(str),
 *               dept(str), from_ms, until_ms, revoked_ms, seq_min]
 *     roster = R || signature(64 raw bytes, Ed25519 by signer over R)
 *
 * A roster replaces every earlier roster of the same signer: serials only
 * grow, and an older or equal serial is refused (a replayed roster must
 * not bring back a revoked key). A grant is never deleted by the
 * authority's tools: revoking or moving a member ends a grant at a time,
 * so the ops signed under it before then stay valid (docs/security.md).
 *
 * wh_roster_decode is the one place roster bytes are parsed. Past it,
 * code sees only a validated struct wh_roster.
 */
#ifndef WH_ROSTER_H
#define WH_ROSTER_H

#include "flow.h"
#include "key.h"
#include "op.h"
#include "wh.h"

#define WH_ROSTER_VERSION 1
#define WH_ROSTER_MAX_BYTES (1u << 20)
#define WH_ROSTER_MAX_GRANTS 4096u
#define WH_ROSTER_NAME_MAX 64u  /* bytes of a member's name */
#define WH_ROSTER_MAX_DELEGATES 64u /* delegate rosters a set holds */

/* Roles of the roster. Numbers are part of the signed format. */
enum wh_mrole {
	WH_MROLE_STATION = 0,    /* community station (社区工作站) */
	WH_MROLE_STREET = 1,     /* street hub (街道) */
	WH_MROLE_DISTRICT = 2,   /* district hub (区) */
	WH_MROLE_DEPARTMENT = 3, /* a department's account (城管, 住建...) */
	WH_MROLE_ADMIN = 4,      /* district administrator: documents,
				  * erasure; no case steps */
	WH_MROLE_DELEGATE = 5,   /* a street authority key: signs the
				  * roster of its street (root roster only) */
	WH_MROLE_MAX = 5
};

struct wh_grant {
	uint8_t key[WH_PK_BYTES];
	char name[WH_ROSTER_NAME_MAX + 1];
	uint8_t role; /* enum wh_mrole */
	char path[WH_PATH_MAX + 1];
	char code[WH_CODE_MAX + 1]; /* case-id code it creates under; "" */
	char dept[WH_DEPT_MAX + 1]; /* department name (role department) */
	uint64_t from_ms;           /* valid from (inclusive) */
	uint64_t until_ms;          /* valid until (exclusive); 0: open */
	uint64_t revoked_ms;        /* revoked from then on; 0: not */
	uint32_t seq_min;           /* lowest case seq it may create (a
				     * replacement key starts above the old
				     * one's); 0 and 1 both mean 1 */
};

struct wh_roster {
	uint8_t id[WH_ID_BYTES]; /* BLAKE2b-256 of the roster bytes */
	uint8_t signer[WH_PK_BYTES];
	char scope[WH_PATH_MAX + 1]; /* where it may grant */
	uint64_t serial;
	uint64_t issued_ms;
	uint32_t ngrants;
	struct wh_grant *grants; /* owned */
};

/*
 * Parse and check roster bytes, signature included: WH_OK, WH_ETRUNC,
 * WH_ETOOBIG, WH_EDECODE, WH_ECANON, WH_EUTF8, WH_EVERSION, WH_EPATH,
 * WH_EID, WH_EFIELD (a grant breaks a rule: role, code, dept, times),
 * WH_ESIG. Allocates: release with wh_roster_fini (also after an error).
 */
WH_MUST_CHECK int wh_roster_decode(const uint8_t *p, size_t n,
				   struct wh_roster *out);
void wh_roster_fini(struct wh_roster *r);

/* Encode r (its id ignored) and sign it with key, which becomes the
 * signer; append to out. Checked by decoding it again (same errors);
 * out is left as it was on error. */
WH_MUST_CHECK int wh_roster_build(const struct wh_roster *r,
				  const struct wh_key *key, struct wh_buf *out);

/*
 * What a replica holds: the authority's (district root) key, its newest
 * roster, and the newest roster of each delegate. Zero-initialise, set
 * authority; wh_roster_set_fini frees what was added.
 */
struct wh_roster_set {
	uint8_t authority[WH_PK_BYTES];
	struct wh_roster root; /* serial 0: none held yet */
	uint32_t ndel;
	struct wh_roster del[WH_ROSTER_MAX_DELEGATES];
};

void wh_roster_set_fini(struct wh_roster_set *rs);

/*
 * Whether decoded roster r may replace what rs holds from its signer:
 * WH_OK; WH_EEXIST (this very roster is held); WH_EOLD (an older or
 * equal serial than held); WH_EAUTHORITY (signer is neither the
 * authority nor a delegate granted by the authority's roster, or the
 * authority's roster scope is not a path); WH_ESCOPE (a delegate's
 * roster reaches outside its own grant, or grants a role a delegate may
 * not: district, admin, delegate). 'why' (may be NULL) gets a static
 * phrase.
 */
WH_MUST_CHECK int wh_roster_set_check(const struct wh_roster_set *rs,
				      const struct wh_roster *r,
				      const char **why);

/* Take r into rs (after wh_roster_set_check said WH_OK): it replaces
 * the one from the same signer. rs owns r's grants afterwards; r is
 * zeroed. */
void wh_roster_set_take(struct wh_roster_set *rs, struct wh_roster *r);

/* The roster held from signer, or NULL. */
const struct wh_roster *wh_roster_set_find(const struct wh_roster_set *rs,
					   const uint8_t signer[WH_PK_BYTES]);

/* What authorisation needs to know of the op's case beyond the op:
 * the departments any whistle of the case has ever summoned (a union
 * over its ops, the same on every replica that holds them). */
struct wh_authz_case {
	const char *const *summoned;
	size_t nsummoned;
};

/*
 * Whether op may be stored: some grant of its author, in the authority's
 * roster or in a valid delegate's, covers the op's time, lets its role
 * take the op's kind, holds the op's path (a case create also needs the
 * grant's code and a seq >= seq_min; a department acts only on cases it
 * was summoned to, and reports only for its own department). cx may be
 * NULL (no department summoned). Returns WH_OK or the refusal of the
 * grant that came closest: WH_ENOMEMBER, WH_EREVOKED, WH_EEXPIRED,
 * WH_EROLE, WH_EJURIS, WH_ESUMMON. why (may be NULL) gets a static phrase
 * that names the rule.
 */
WH_MUST_CHECK int wh_roster_authorize(const struct wh_roster_set *rs,
				      const struct wh_op *op,
				      const struct wh_authz_case *cx,
				      const char **why);

/* Whether key is a member now: some grant (not delegate-only) covers
 * now_ms and is not revoked. What connection admission asks. Fills *g
 * (may be NULL) with the grant that said so. */
int wh_roster_member_now(const struct wh_roster_set *rs,
			 const uint8_t key[WH_PK_BYTES], uint64_t now_ms,
			 const struct wh_grant **g);

/* Whether a roster change could refuse ops that old admitted: new
 * takes a grant away or narrows it (ends it sooner, revokes it, moves
 * its path, changes its role, code, dept or seq_min). Calls cb with
 * every key whose grants lost anything, so only their ops are checked
 * again. */
void wh_roster_narrowed(const struct wh_roster *old,
			const struct wh_roster *new_,
			void (*cb)(void *ctx, const uint8_t key[WH_PK_BYTES]),
			void *ctx);

const char *wh_mrole_name(unsigned role); /* "station", ... or "?" */
int wh_mrole_parse(const char *s);        /* -1 if unknown */

#endif
