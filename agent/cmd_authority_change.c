/*
 * cmd_authority_change.c: `whistle authority revoke|replace|move`, the
 * changes that end grants (cmd_authority.c has the rest of the command
 * and the checks every new grant passes). Each ends grants at a time and
 * never deletes one, so what a key signed before then stays valid.
 */
#include "authority.h"

#include <inttypes.h>
#include <string.h>

/* The replacement key's first case number is the old grant's seq_min
 * plus this: above anything the old PC can have handed out offline
 * (help text and docs/guide.md say so). */
#define REPLACE_SEQ_GAP 100000u

/* ---- revoke ---- */

/* Revoke every grant of pk at t. Refuses when it is revoked at t or
 * earlier already (widening a revocation would bring back ops that
 * stations have dropped). */
static int revoke_at(struct cli *c, struct adir *a, const uint8_t *pk,
		     uint64_t t, const char *opt)
{
	char tw[CLI_TIME_MAX], key[16];
	roster_key_short(pk, key);
	if (!adm_count_of(&a->r, pk))
		return cli_fail(c, "%s %s: no grant of this key in the roster",
				opt, key);
	const struct wh_grant *rv = adm_revoked_grant(&a->r, pk);
	if (rv && rv->revoked_ms <= t) {
		cli_time_local(rv->revoked_ms, tw);
		return cli_fail(c, "%s (%s) was revoked already, at %s",
				rv->name, key, tw);
	}
	for (uint32_t i = 0; i < a->r.ngrants; i++)
		if (!memcmp(a->r.grants[i].key, pk, WH_PK_BYTES))
			a->r.grants[i].revoked_ms = t;
	return CLI_OK;
}

int adm_revoke(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{"dir", 0, 1}, {"key", 0, 1}, {"at", 0, 1}, {NULL, 0, 0}};
	const char *v[3] = {0}, *dir;
	ADM_PARSE(opts, v);
	uint8_t pk[WH_PK_BYTES];
	uint64_t at = cli_now(c);
	int rc;
	if ((rc = adm_key_arg(c, "--key", v[1], pk)) ||
	    (v[2] && (rc = cli_parse_time(c, "--at", v[2], &at))) ||
	    (rc = adir_resolve(c, v[0], &dir)))
		return rc;
	if (!at)
		return cli_usage(c, "--at: 0 is not a time to revoke at");
	struct adir a;
	rc = adir_open(c, dir, &a);
	if (!rc)
		rc = revoke_at(c, &a, pk, at, "--key");
	if (!rc)
		rc = adir_commit(c, &a);
	if (!rc) {
		const struct wh_grant *gs[WH_ROSTER_MAX_GRANTS];
		size_t n = 0;
		for (uint32_t i = 0; i < a.r.ngrants; i++)
			if (!memcmp(a.r.grants[i].key, pk, WH_PK_BYTES))
				gs[n++] = &a.r.grants[i];
		char what[256], key[16], tw[CLI_TIME_MAX];
		roster_key_short(pk, key);
		cli_time_local(at, tw);
		snprintf(what, sizeof what, "revoked %s (%s) from %s: %zu "
			 "grant%s",
			 gs[0]->name, key, tw, n, n == 1 ? "" : "s");
		rc = adm_report(c, &a, what, gs, n);
	}
	adir_close(&a);
	return rc;
}

/* ---- replace ---- */

int adm_replace(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{"dir", 0, 1}, {"old", 0, 1}, {"new", 0, 1},
		{"at", 0, 1},  {"seq-from", 0, 1}, {NULL, 0, 0}};
	const char *v[5] = {0}, *dir;
	ADM_PARSE(opts, v);
	uint8_t old[WH_PK_BYTES], nk[WH_PK_BYTES];
	uint64_t at = cli_now(c);
	uint32_t seq = 0;
	int rc;
	if ((rc = adm_key_arg(c, "--old", v[1], old)) ||
	    (rc = adm_key_arg(c, "--new", v[2], nk)) ||
	    (v[3] && (rc = cli_parse_time(c, "--at", v[3], &at))) ||
	    (v[4] && (rc = adm_seq_arg(c, v[4], &seq))) ||
	    (rc = adir_resolve(c, v[0], &dir)))
		return rc;
	if (!memcmp(old, nk, WH_PK_BYTES))
		return cli_usage(c, "--old and --new are the same key");
	if (!at)
		return cli_usage(c, "--at: 0 is not a time to replace at");
	struct adir a;
	if ((rc = adir_open(c, dir, &a))) {
		adir_close(&a);
		return rc;
	}
	/* An earlier revocation stands; grants live then are copied. */
	const struct wh_grant *rv = adm_revoked_grant(&a.r, old);
	uint64_t ref = rv && rv->revoked_ms < at ? rv->revoked_ms : at;
	if (adm_count_of(&a.r, nk))
		rc = cli_fail(c, "--new: this key is in the roster already");
	uint32_t n0 = a.r.ngrants, copied = 0;
	for (uint32_t i = 0; !rc && i < n0; i++) {
		struct wh_grant g = a.r.grants[i];
		if (memcmp(g.key, old, WH_PK_BYTES) ||
		    (g.until_ms && g.until_ms <= ref))
			continue;
		memcpy(g.key, nk, WH_PK_BYTES);
		g.revoked_ms = 0;
		g.from_ms = g.from_ms > at ? g.from_ms : at;
		if (g.until_ms && g.until_ms <= g.from_ms)
			continue;
		if (adm_creates_cases(g.role)) {
			uint32_t base = g.seq_min > 1 ? g.seq_min : 1;
			if (seq && seq <= base)
				rc = cli_usage(c, "--seq-from %" PRIu32 ": must "
						  "be above the old grant's "
						  "first number %" PRIu32,
					       seq, base);
			else if (!seq && base > UINT32_MAX - REPLACE_SEQ_GAP)
				rc = cli_fail(c, "the old grant's numbers "
						 "leave no room; pass "
						 "--seq-from");
			g.seq_min = seq ? seq : base + REPLACE_SEQ_GAP;
		}
		if (!rc)
			rc = adm_grant_fits(c, &a, &g, old);
		if (!rc) {
			*adir_grant_new(&a, nk) = g;
			copied++;
		}
	}
	if (!rc && !copied) {
		char tw[CLI_TIME_MAX];
		cli_time_local(ref, tw);
		rc = cli_fail(c, "--old: no grant of this key is live at %s "
				 "to copy",
			      tw);
	}
	if (!rc && (!rv || rv->revoked_ms > at))
		rc = revoke_at(c, &a, old, at, "--old");
	if (!rc)
		rc = adir_commit(c, &a);
	if (!rc) {
		const struct wh_grant *gs[WH_ROSTER_MAX_GRANTS];
		size_t n = 0;
		for (uint32_t i = 0; i < a.r.ngrants; i++)
			if (!memcmp(a.r.grants[i].key, nk, WH_PK_BYTES))
				gs[n++] = &a.r.grants[i];
		char what[1200], ko[16], kn[16], tw[CLI_TIME_MAX];
		roster_key_short(old, ko);
		roster_key_short(nk, kn);
		cli_time_local(at, tw);
		int w = snprintf(what, sizeof what,
				 "replaced %s (%s) by %s from %s: %zu grant%s "
				 "copied",
				 gs[0]->name, ko, kn, tw, n, n == 1 ? "" : "s");
		if (gs[0]->seq_min && w > 0 && (size_t)w < sizeof what)
			snprintf(what + w, sizeof what - (size_t)w,
				 ", case numbers from %" PRIu32,
				 gs[0]->seq_min);
		rc = adm_report(c, &a, what, gs, n);
	}
	adir_close(&a);
	return rc;
}

/* ---- move ---- */

int adm_move(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{"dir", 0, 1},	{"key", 0, 1}, {"path", 0, 1},
		{"code", 0, 1}, {"at", 0, 1},  {NULL, 0, 0}};
	const char *v[5] = {0}, *dir;
	ADM_PARSE(opts, v);
	uint8_t pk[WH_PK_BYTES];
	uint64_t at = cli_now(c);
	int rc;
	if ((rc = adm_key_arg(c, "--key", v[1], pk)) ||
	    (rc = adm_path_arg(c, "--path", v[2])) ||
	    (v[3] && (rc = adm_code_arg(c, v[3]))) ||
	    (v[4] && (rc = cli_parse_time(c, "--at", v[4], &at))) ||
	    (rc = adir_resolve(c, v[0], &dir)))
		return rc;
	struct adir a;
	if ((rc = adir_open(c, dir, &a))) {
		adir_close(&a);
		return rc;
	}
	char key[16], tw[CLI_TIME_MAX];
	roster_key_short(pk, key);
	cli_time_local(at, tw);
	uint32_t live = 0, k = 0;
	for (uint32_t i = 0; i < a.r.ngrants; i++)
		if (!memcmp(a.r.grants[i].key, pk, WH_PK_BYTES) &&
		    adm_live_at(&a.r.grants[i], at)) {
			live++;
			k = i;
		}
	struct wh_grant g;
	memset(&g, 0, sizeof g);
	if (!live)
		rc = cli_fail(c, "--key %s: no grant of this key is live at %s",
			      key, tw);
	else if (live > 1)
		rc = cli_fail(c, "--key %s holds %" PRIu32 " live grants; move "
				 "takes one (revoke and add instead)",
			      key, live);
	else if (a.r.grants[k].from_ms >= at)
		rc = cli_fail(c, "the grant of %s starts at or after %s: "
				 "nothing to end (revoke and add instead)",
			      a.r.grants[k].name, tw);
	else if (v[3] && !adm_creates_cases(a.r.grants[k].role))
		rc = cli_usage(c, "--code: a %s does not create cases",
			       wh_mrole_name(a.r.grants[k].role));
	else if (!strcmp(a.r.grants[k].path, v[2]) &&
		 (!v[3] || !strcmp(a.r.grants[k].code, v[3])))
		rc = cli_fail(c, "%s holds %s already: nothing to move",
			      a.r.grants[k].name, v[2]);
	if (!rc) {
		g = a.r.grants[k];
		snprintf(g.path, sizeof g.path, "%s", v[2]);
		if (v[3]) {
			if (strcmp(g.code, v[3]))
				g.seq_min = 0; /* a new code counts anew */
			snprintf(g.code, sizeof g.code, "%s", v[3]);
		}
		g.from_ms = at;
		/* End the old grant first, so that it does not count as a
		 * live duplicate of the new one. */
		a.r.grants[k].until_ms = at;
		rc = adm_grant_fits(c, &a, &g, NULL);
	}
	if (!rc) {
		*adir_grant_new(&a, pk) = g;
		rc = adir_commit(c, &a);
	}
	if (!rc) {
		const struct wh_grant *gs[2] = {&a.r.grants[k],
						&a.r.grants[a.r.ngrants - 1]};
		char what[1200];
		snprintf(what, sizeof what,
			 "moved %s (%s) from %s to %s%s%s at %s", g.name, key,
			 gs[0]->path, g.path, g.code[0] ? ", code " : "",
			 g.code, tw);
		rc = adm_report(c, &a, what, gs, 2);
	}
	adir_close(&a);
	return rc;
}
