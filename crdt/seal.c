/*
 * seal.c: case keys, the sealed personal fields, key envelopes and the
 * reader rule (seal.h has the formats; docs/sealing.md the why).
 *
 * Invariants: a case key only ever lives in sodium_malloc'd memory;
 * every plaintext buffer of personal data is wiped before it is freed;
 * nothing here is read from outside bytes without a bound check first.
 */
#include "seal.h"

#include "mp.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AD_LABEL "whistle-sealed-v1"
#define AD_MAX (sizeof AD_LABEL + WH_CODE_MAX + 1 + 4)
/* Encoded plaintext: a fixmap header, two (key, str16 header, text). */
#define PT_MAX (1 + 2 * (1 + 3 + WH_SEAL_TEXT_MAX))

_Static_assert(crypto_box_SEALBYTES + WH_SEAL_KEY_BYTES == WH_SEAL_ENV_BOX,
	       "envelope entry size");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES ==
		       WH_SEAL_NONCE_BYTES,
	       "nonce size");
_Static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == WH_SEAL_TAG_BYTES,
	       "tag size");
_Static_assert(WH_SEAL_NONCE_BYTES + PT_MAX + WH_SEAL_TAG_BYTES <=
		       WH_SEAL_MAX_BYTES,
	       "two full fields fit a sealed value");

static uint8_t *secure_alloc(size_t n)
{
	uint8_t *p = sodium_malloc(n);
	if (!p) {
		fprintf(stderr, "whistle: cannot allocate secure memory\n");
		abort();
	}
	return p;
}

static struct wh_seal_key *key_alloc(void)
{
	struct wh_seal_key *k = wh_xcalloc(1, sizeof *k);
	k->k = secure_alloc(WH_SEAL_KEY_BYTES);
	return k;
}

int wh_seal_key_new(struct wh_seal_key **out)
{
	struct wh_seal_key *k = key_alloc();
	crypto_aead_xchacha20poly1305_ietf_keygen(k->k);
	wh_hash(k->k, WH_SEAL_KEY_BYTES, k->kid);
	*out = k;
	return WH_OK;
}

void wh_seal_key_free(struct wh_seal_key *k)
{
	if (!k)
		return;
	sodium_free(k->k); /* wipes */
	free(k);
}

/* ---- the sealed personal fields ---------------------------------- */

static size_t ad_make(uint8_t ad[AD_MAX], const char *code, uint32_t seq)
{
	size_t cn = strnlen(code, WH_CODE_MAX);
	size_t n = sizeof AD_LABEL; /* the label and its NUL */
	memcpy(ad, AD_LABEL, n);
	memcpy(ad + n, code, cn);
	n += cn;
	ad[n++] = 0;
	ad[n++] = (uint8_t)(seq >> 24);
	ad[n++] = (uint8_t)(seq >> 16);
	ad[n++] = (uint8_t)(seq >> 8);
	ad[n++] = (uint8_t)seq;
	return n;
}

static int text_ok(const char *s)
{
	if (!s)
		return WH_OK;
	size_t n = strlen(s);
	if (n > WH_SEAL_TEXT_MAX)
		return WH_ETOOBIG;
	return wh_utf8_valid((const uint8_t *)s, n) ? WH_OK : WH_EUTF8;
}

/* Encoded size of one text: the msgpack str header and the bytes. */
static size_t str_size(const char *s)
{
	size_t n = strlen(s);
	return (n < 32 ? 1 : n < 256 ? 2 : 3) + n;
}

size_t wh_seal_size(const char *reporter, const char *contact)
{
	size_t pt = 1;
	if (reporter)
		pt += 1 + str_size(reporter);
	if (contact)
		pt += 1 + str_size(contact);
	return WH_SEAL_NONCE_BYTES + pt + WH_SEAL_TAG_BYTES;
}

int wh_seal_seal(const struct wh_seal_key *k, const char *code, uint32_t seq,
		 const char *reporter, const char *contact, struct wh_buf *out)
{
	if (!k || !code || !out || (!reporter && !contact))
		return WH_EINVAL;
	int rc = text_ok(reporter);
	if (!rc)
		rc = text_ok(contact);
	if (rc)
		return rc;
	struct wh_buf pt = {0};
	wh_buf_reserve(&pt, PT_MAX);
	wh_mpw_map(&pt, (reporter ? 1u : 0u) + (contact ? 1u : 0u));
	if (reporter) {
		wh_mpw_uint(&pt, WH_F_REPORTER);
		wh_mpw_cstr(&pt, reporter);
	}
	if (contact) {
		wh_mpw_uint(&pt, WH_F_CONTACT);
		wh_mpw_cstr(&pt, contact);
	}
	uint8_t ad[AD_MAX];
	size_t adn = ad_make(ad, code, seq);
	size_t n = WH_SEAL_NONCE_BYTES + pt.len + WH_SEAL_TAG_BYTES;
	wh_buf_reserve(out, n);
	uint8_t *dst = out->p + out->len;
	randombytes_buf(dst, WH_SEAL_NONCE_BYTES);
	unsigned long long cn = 0;
	crypto_aead_xchacha20poly1305_ietf_encrypt(
		dst + WH_SEAL_NONCE_BYTES, &cn, pt.p, pt.len, ad, adn, NULL,
		dst, k->k);
	out->len += WH_SEAL_NONCE_BYTES + (size_t)cn;
	sodium_memzero(pt.p, pt.cap);
	wh_buf_fini(&pt);
	return WH_OK;
}

/* The plaintext map; strings copied out on success only. */
static int pt_decode(const uint8_t *p, size_t n, char **reporter,
		     char **contact)
{
	struct wh_mp r;
	uint32_t cnt;
	wh_mp_init(&r, p, n);
	int rc = wh_mp_read_map(&r, &cnt, 2);
	if (rc)
		return rc;
	if (cnt == 0)
		return WH_EFIELD; /* nothing sealed: never written */
	struct wh_slice v[2] = {{NULL, 0}, {NULL, 0}};
	int given[2] = {0, 0};
	uint64_t last = 0;
	for (uint32_t i = 0; i < cnt; i++) {
		uint64_t key;
		if ((rc = wh_mp_read_uint(&r, &key)))
			return rc;
		if (key != WH_F_REPORTER && key != WH_F_CONTACT)
			return WH_EFIELD;
		if (key <= last)
			return WH_ECANON;
		last = key;
		int at = key == WH_F_CONTACT;
		if ((rc = wh_mp_read_str(&r, &v[at], WH_SEAL_TEXT_MAX)))
			return rc;
		given[at] = 1;
	}
	if (wh_mp_left(&r))
		return WH_EDECODE;
	*reporter = given[0] ? wh_xstrndup((const char *)v[0].p, v[0].n) : NULL;
	*contact = given[1] ? wh_xstrndup((const char *)v[1].p, v[1].n) : NULL;
	return WH_OK;
}

int wh_seal_open(const struct wh_seal_key *k, const char *code, uint32_t seq,
		 const uint8_t *p, size_t n, char **reporter, char **contact)
{
	if (!k || !code || (!p && n) || !reporter || !contact)
		return WH_EINVAL;
	*reporter = *contact = NULL;
	if (n < WH_SEAL_MIN_BYTES)
		return WH_ETRUNC;
	if (n > WH_SEAL_MAX_BYTES)
		return WH_ETOOBIG;
	uint8_t ad[AD_MAX];
	size_t adn = ad_make(ad, code, seq);
	size_t cn = n - WH_SEAL_NONCE_BYTES;
	uint8_t *pt = secure_alloc(cn);
	unsigned long long ptn = 0;
	int rc = WH_EKEY;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    pt, &ptn, NULL, p + WH_SEAL_NONCE_BYTES, cn, ad, adn, p,
		    k->k) == 0)
		rc = pt_decode(pt, (size_t)ptn, reporter, contact);
	sodium_free(pt);
	return rc;
}

/* ---- envelopes ---------------------------------------------------- */

static const uint8_t env_magic[4] = {'W', 'H', 'K', 'E'};

int wh_seal_env_decode(const uint8_t *p, size_t n, struct wh_seal_env *out)
{
	if (!p || !out)
		return WH_EINVAL;
	if (n < WH_SEAL_ENV_HEAD)
		return WH_ETRUNC;
	if (memcmp(p, env_magic, 4))
		return WH_EDECODE;
	if (p[4] != WH_SEAL_ENV_VERSION)
		return WH_EVERSION;
	uint32_t count = (uint32_t)p[5 + WH_ID_BYTES] << 8 |
			 p[6 + WH_ID_BYTES];
	if (count == 0)
		return WH_EDECODE;
	if (count > WH_SEAL_ENV_MAX_READERS)
		return WH_ETOOBIG;
	size_t body = n - WH_SEAL_ENV_HEAD;
	if (body < (size_t)count * WH_SEAL_ENV_ENTRY)
		return WH_ETRUNC;
	if (body > (size_t)count * WH_SEAL_ENV_ENTRY)
		return WH_EDECODE;
	const uint8_t *e = p + WH_SEAL_ENV_HEAD;
	for (uint32_t i = 1; i < count; i++)
		if (memcmp(e + (i - 1) * WH_SEAL_ENV_ENTRY,
			   e + i * WH_SEAL_ENV_ENTRY, 32) >= 0)
			return WH_ECANON;
	memcpy(out->kid, p + 5, WH_ID_BYTES);
	out->count = count;
	out->entries = e;
	return WH_OK;
}

/* Our entry's box, or NULL: binary search over the ascending keys. */
static const uint8_t *env_find(const struct wh_seal_env *e,
			       const uint8_t curve_pk[32])
{
	uint32_t lo = 0, hi = e->count;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const uint8_t *at = e->entries + (size_t)mid * WH_SEAL_ENV_ENTRY;
		int d = memcmp(curve_pk, at, 32);
		if (!d)
			return at + 32;
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int wh_seal_env_holds(const struct wh_seal_env *e,
		      const uint8_t pk[WH_PK_BYTES])
{
	uint8_t cpk[32];
	if (crypto_sign_ed25519_pk_to_curve25519(cpk, pk) != 0)
		return 0;
	return env_find(e, cpk) != NULL;
}

static int cmp32(const void *a, const void *b) { return memcmp(a, b, 32); }

int wh_seal_env_build(const struct wh_seal_key *k,
		      const uint8_t (*readers)[WH_PK_BYTES], size_t n,
		      struct wh_buf *out)
{
	if (!k || !out || (n && !readers))
		return WH_EINVAL;
	if (n == 0)
		return WH_EINVAL;
	uint8_t(*c)[32] = wh_xmalloc(n * 32);
	int rc = WH_OK;
	for (size_t i = 0; i < n && !rc; i++)
		if (crypto_sign_ed25519_pk_to_curve25519(c[i], readers[i]))
			rc = WH_EKEY;
	size_t m = 0;
	if (!rc) {
		qsort(c, n, 32, cmp32);
		for (size_t i = 0; i < n; i++)
			if (!m || memcmp(c[m - 1], c[i], 32))
				memmove(c[m++], c[i], 32);
		if (m > WH_SEAL_ENV_MAX_READERS)
			rc = WH_ETOOBIG;
	}
	if (rc) {
		free(c);
		return rc;
	}
	wh_buf_reserve(out, WH_SEAL_ENV_HEAD + m * WH_SEAL_ENV_ENTRY);
	wh_buf_append(out, env_magic, 4);
	uint8_t head[1 + WH_ID_BYTES + 2];
	head[0] = WH_SEAL_ENV_VERSION;
	memcpy(head + 1, k->kid, WH_ID_BYTES);
	head[1 + WH_ID_BYTES] = (uint8_t)(m >> 8);
	head[2 + WH_ID_BYTES] = (uint8_t)m;
	wh_buf_append(out, head, sizeof head);
	for (size_t i = 0; i < m; i++) {
		uint8_t box[WH_SEAL_ENV_BOX];
		crypto_box_seal(box, k->k, WH_SEAL_KEY_BYTES, c[i]);
		wh_buf_append(out, c[i], 32);
		wh_buf_append(out, box, sizeof box);
	}
	free(c);
	return WH_OK;
}

int wh_seal_env_open(const uint8_t *p, size_t n, const struct wh_key *me,
		     struct wh_seal_key **out)
{
	if (!me || !out)
		return WH_EINVAL;
	struct wh_seal_env e;
	int rc = wh_seal_env_decode(p, n, &e);
	if (rc)
		return rc;
	uint8_t cpk[32];
	if (crypto_sign_ed25519_pk_to_curve25519(cpk, me->pk) != 0)
		return WH_EKEY;
	const uint8_t *box = env_find(&e, cpk);
	if (!box)
		return WH_ENOTFOUND;
	uint8_t *csk = secure_alloc(32);
	struct wh_seal_key *k = key_alloc();
	rc = WH_EKEY;
	if (crypto_sign_ed25519_sk_to_curve25519(csk, me->sk) == 0 &&
	    crypto_box_seal_open(k->k, box, WH_SEAL_ENV_BOX, cpk, csk) == 0) {
		wh_hash(k->k, WH_SEAL_KEY_BYTES, k->kid);
		/* A box holding a key of another case opens, but is not
		 * this envelope's key. */
		if (!sodium_memcmp(k->kid, e.kid, WH_ID_BYTES))
			rc = WH_OK;
	}
	sodium_free(csk);
	if (rc) {
		wh_seal_key_free(k);
		return rc;
	}
	*out = k;
	return WH_OK;
}

/* ---- the reader rule ---------------------------------------------- */

static int covers(const struct wh_grant *g, uint64_t t)
{
	return t >= g->from_ms && (!g->until_ms || t < g->until_ms) &&
	       (!g->revoked_ms || t < g->revoked_ms);
}

static int holds(const char *scope, const char *path)
{
	return wh_path_within(path, strlen(path), scope, strlen(scope));
}

/* The same rule wh_roster_authorize applies to a delegate's roster: the
 * authority's delegate grant for its signer covers its scope now. */
static int delegate_live(const struct wh_roster_set *rs,
			 const struct wh_roster *r, uint64_t now)
{
	for (uint32_t i = 0; i < rs->root.ngrants; i++) {
		const struct wh_grant *g = &rs->root.grants[i];
		if (g->role == WH_MROLE_DELEGATE &&
		    !memcmp(g->key, r->signer, WH_PK_BYTES) &&
		    holds(g->path, r->scope) && covers(g, now))
			return 1;
	}
	return 0;
}

static int reads(const struct wh_grant *g, const char *case_path,
		 const char *const *depts, size_t ndepts, uint64_t now)
{
	if (!covers(g, now) || !holds(g->path, case_path))
		return 0;
	switch (g->role) {
	case WH_MROLE_STATION:
	case WH_MROLE_STREET:
	case WH_MROLE_DISTRICT:
		return 1;
	case WH_MROLE_DEPARTMENT:
		for (size_t i = 0; i < ndepts; i++)
			if (depts[i] && !strcmp(depts[i], g->dept))
				return 1;
		return 0;
	default:
		return 0; /* admins erase; they do not read */
	}
}

static int add_key(uint8_t (*out)[WH_PK_BYTES], size_t max, size_t *n,
		   const uint8_t *pk)
{
	for (size_t i = 0; i < *n; i++)
		if (!memcmp(out[i], pk, WH_PK_BYTES))
			return WH_OK;
	if (*n >= max)
		return WH_ETOOBIG;
	memcpy(out[(*n)++], pk, WH_PK_BYTES);
	return WH_OK;
}

static int roster_readers(const struct wh_roster *r, const char *case_path,
			  const char *const *depts, size_t ndepts,
			  uint64_t now, uint8_t (*out)[WH_PK_BYTES],
			  size_t max, size_t *n)
{
	for (uint32_t i = 0; i < r->ngrants; i++) {
		const struct wh_grant *g = &r->grants[i];
		if (!reads(g, case_path, depts, ndepts, now))
			continue;
		int rc = add_key(out, max, n, g->key);
		if (rc)
			return rc;
	}
	return WH_OK;
}

int wh_seal_readers(const struct wh_roster_set *rs, const char *case_path,
		    const char *const *depts, size_t ndepts, uint64_t now_ms,
		    uint8_t (*out)[WH_PK_BYTES], size_t max, size_t *n)
{
	if (!rs || !case_path || !n || (max && !out) || (ndepts && !depts))
		return WH_EINVAL;
	*n = 0;
	int rc = roster_readers(&rs->root, case_path, depts, ndepts, now_ms,
				out, max, n);
	for (uint32_t d = 0; d < rs->ndel && !rc; d++)
		if (delegate_live(rs, &rs->del[d], now_ms))
			rc = roster_readers(&rs->del[d], case_path, depts,
					    ndepts, now_ms, out, max, n);
	return rc;
}
