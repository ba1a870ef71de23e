/*
 * fuzz_roster.c: roster bytes (crdt/roster.c, wh_roster_decode), which
 * reach an agent from peers (ROSTER messages), from `roster apply` files
 * and from the store. The parser runs before the signature check, so
 * unsigned inputs exercise all of it; signed seeds (mkcorpus) carry the
 * fuzzer past it into the set rules and the authorisation of ops.
 *
 * Checks: a decoded roster's strings are terminated and its grants obey
 * the limits; its id is the hash of the bytes; a roster signed by the
 * authority itself is taken by an empty set, and then authorising the
 * fixed story ops (tests/fuzz/fuzz_gen.c) answers one of the documented
 * codes; narrowing a roster against itself reports no key.
 */
#include "fuzz.h"
#include "fuzz_gen.h"

#include "roster.h"

#include <string.h>

static struct fz_ops story;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (wh_crypto_init() != WH_OK)
		return -1;
	fz_story(&story, FZ_T0_MS);
	return 0;
}

static void no_key(void *ctx, const uint8_t key[WH_PK_BYTES])
{
	(void)ctx;
	(void)key;
	FUZZ_CHECK(!"a roster narrows itself");
}

static int documented(int rc)
{
	return rc == WH_OK || rc == WH_ENOMEMBER || rc == WH_EREVOKED ||
	       rc == WH_EEXPIRED || rc == WH_EROLE || rc == WH_EJURIS ||
	       rc == WH_ESUMMON;
}

static void authorize_story(const struct wh_roster *r)
{
	struct wh_roster_set rs;
	memset(&rs, 0, sizeof rs);
	memcpy(rs.authority, r->signer, WH_PK_BYTES);
	struct wh_roster copy = *r;
	copy.grants = wh_xmalloc((r->ngrants ? r->ngrants : 1) *
				 sizeof *r->grants);
	memcpy(copy.grants, r->grants, r->ngrants * sizeof *r->grants);
	const char *why = NULL;
	int rc = wh_roster_set_check(&rs, &copy, &why);
	if (rc != WH_OK) {
		FUZZ_CHECK(rc == WH_EAUTHORITY || rc == WH_ESCOPE);
		FUZZ_CHECK(why != NULL);
		wh_roster_fini(&copy);
		return;
	}
	wh_roster_set_take(&rs, &copy);
	FUZZ_CHECK(wh_roster_set_find(&rs, r->signer) != NULL);
	FUZZ_CHECK(wh_roster_set_check(&rs, r, NULL) == WH_EEXIST);
	static const char *const depts[] = {"城管", "住建"};
	struct wh_authz_case cx = {depts, 2};
	for (size_t i = 0; i < story.n; i++) {
		struct wh_slice s = fz_get(&story, i);
		struct wh_op op;
		if (wh_op_decode(s.p, s.n, &op) != WH_OK)
			abort();
		why = NULL;
		rc = wh_roster_authorize(&rs, &op, i & 1 ? &cx : NULL, &why);
		FUZZ_CHECK(documented(rc));
		FUZZ_CHECK(rc == WH_OK || why != NULL);
	}
	for (uint32_t i = 0; i < r->ngrants; i++)
		(void)wh_roster_member_now(&rs, r->grants[i].key,
					   FZ_T0_MS, NULL);
	wh_roster_set_fini(&rs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wh_roster r;
	int rc = wh_roster_decode(data, size, &r);
	if (rc != WH_OK) {
		FUZZ_CHECK(rc < 0 && wh_strerror(rc) != NULL);
		wh_roster_fini(&r);
		return 0;
	}
	uint8_t id[WH_ID_BYTES];
	wh_hash(data, size, id);
	FUZZ_CHECK(!memcmp(id, r.id, WH_ID_BYTES));
	FUZZ_CHECK(memchr(r.scope, 0, sizeof r.scope) != NULL);
	for (uint32_t i = 0; i < r.ngrants; i++) {
		const struct wh_grant *g = &r.grants[i];
		FUZZ_CHECK(g->role <= WH_MROLE_MAX);
		FUZZ_CHECK(memchr(g->name, 0, sizeof g->name) != NULL);
		FUZZ_CHECK(memchr(g->path, 0, sizeof g->path) != NULL);
		FUZZ_CHECK(memchr(g->code, 0, sizeof g->code) != NULL);
		FUZZ_CHECK(memchr(g->dept, 0, sizeof g->dept) != NULL);
		FUZZ_CHECK(g->until_ms == 0 || g->until_ms > g->from_ms);
	}
	wh_roster_narrowed(&r, &r, no_key, NULL);
	authorize_story(&r);
	wh_roster_fini(&r);
	return 0;
}
