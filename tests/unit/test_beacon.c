/*
 * test_beacon.c: LAN beacons (net/beacon.c). A beacon round-trips; any
 * truncation, flipped bit, trailing byte or oversize datagram is
 * refused, a forged or re-signed-by-another-key one too; fields out of
 * bounds are refused by encode and decode alike. The replay filter
 * admits each beacon once, only newer ones per key, only within the
 * clock window, and keeps old beacons of a forgotten key out.
 */
#include "beacon.h"
#include "mp.h"
#include "wh_test.h"

#define NOW 1790000000000ull

static void fill(struct wh_beacon *b, const struct wh_key *k)
{
	memset(b, 0, sizeof *b);
	memcpy(b->pk, k->pk, WH_PK_BYTES);
	b->ms = NOW;
	memset(b->nonce, 0x5a, sizeof b->nonce);
	b->role = WH_ROLE_STATION;
	snprintf(b->path, sizeof b->path, "xicheng/xinjiekou/zhaodengyu");
	b->port = 7420;
}

/* B as a peer might craft it, signed with k: for fields encode refuses. */
static void crafted(struct wh_buf *out, const struct wh_key *k,
		    const char *tag, uint64_t version, uint64_t role,
		    uint64_t port, const char *host)
{
	wh_buf_reset(out);
	wh_mpw_array(out, 9);
	wh_mpw_cstr(out, tag);
	wh_mpw_uint(out, version);
	wh_mpw_bin(out, k->pk, WH_PK_BYTES);
	wh_mpw_uint(out, NOW);
	uint8_t nonce[WH_BEACON_NONCE] = {1};
	wh_mpw_bin(out, nonce, sizeof nonce);
	wh_mpw_uint(out, role);
	wh_mpw_cstr(out, "xicheng");
	wh_mpw_uint(out, port);
	wh_mpw_cstr(out, host);
	uint8_t sig[WH_SIG_BYTES];
	wh_key_sign(k, out->p, out->len, sig);
	wh_buf_append(out, sig, sizeof sig);
}

static void codec(void)
{
	struct wh_key *k, *k2;
	REQUIRE(wh_key_generate(&k) == WH_OK);
	REQUIRE(wh_key_generate(&k2) == WH_OK);
	struct wh_beacon b, got;
	fill(&b, k);
	snprintf(b.host, sizeof b.host, "10.214.0.1");
	struct wh_buf d = {0};
	REQUIRE(wh_beacon_encode(&b, k, &d) == WH_OK);
	CHECK(d.len <= WH_BEACON_MAX);
	printf("test_beacon: a beacon is %zu bytes\n", d.len);
	REQUIRE(wh_beacon_decode(d.p, d.len, &got) == WH_OK);
	CHECK(!memcmp(&b, &got, sizeof b));

	for (size_t n = 0; n < d.len; n++)
		CHECK(wh_beacon_decode(d.p, n, &got) != WH_OK);
	for (size_t i = 0; i < d.len; i++)
		for (int bit = 0; bit < 8; bit++) {
			d.p[i] ^= (uint8_t)(1u << bit);
			CHECK(wh_beacon_decode(d.p, d.len, &got) != WH_OK);
			d.p[i] ^= (uint8_t)(1u << bit);
		}
	/* the signature alone: WH_ESIG */
	d.p[d.len - 1] ^= 1;
	CHECK_EQ(wh_beacon_decode(d.p, d.len, &got), WH_ESIG);
	d.p[d.len - 1] ^= 1;
	/* a byte after the signature */
	wh_buf_append(&d, "\0", 1);
	CHECK(wh_beacon_decode(d.p, d.len, &got) != WH_OK);
	d.len--;
	/* oversize */
	uint8_t big[WH_BEACON_MAX + 1];
	memset(big, 0, sizeof big);
	CHECK_EQ(wh_beacon_decode(big, sizeof big, &got), WH_ETOOBIG);
	/* another key's name on k's bytes: encode refuses, and a beacon
	 * that names k2 but is signed by k does not verify */
	struct wh_beacon b2 = b;
	memcpy(b2.pk, k2->pk, WH_PK_BYTES);
	wh_buf_reset(&d);
	CHECK_EQ(wh_beacon_encode(&b2, k, &d), WH_EINVAL);
	CHECK_EQ(d.len, 0);
	crafted(&d, k, "whistle-beacon", 1, 0, 7420, "");
	memcpy(d.p + 1 + 15 + 1 + 2, k2->pk, WH_PK_BYTES); /* the key field */
	CHECK_EQ(wh_beacon_decode(d.p, d.len, &got), WH_ESIG);

	/* fields encode refuses and decode refuses */
	struct wh_beacon e = b;
	e.port = 0;
	CHECK_EQ(wh_beacon_encode(&e, k, &d), WH_EINVAL);
	e = b;
	snprintf(e.host, sizeof e.host, "-oProxyCommand");
	CHECK_EQ(wh_beacon_encode(&e, k, &d), WH_EINVAL);
	e = b;
	snprintf(e.host, sizeof e.host, "a b");
	CHECK_EQ(wh_beacon_encode(&e, k, &d), WH_EINVAL);
	e = b;
	snprintf(e.path, sizeof e.path, "Xicheng");
	CHECK_EQ(wh_beacon_encode(&e, k, &d), WH_EINVAL);
	crafted(&d, k, "whistle-beacon", 1, 0, 0, "");
	CHECK_EQ(wh_beacon_decode(d.p, d.len, &got), WH_EFIELD);
	crafted(&d, k, "whistle-beacon", 1, 0, 65536, "");
	CHECK_EQ(wh_beacon_decode(d.p, d.len, &got), WH_EFIELD);
	crafted(&d, k, "whistle-beacon", 1, 4, 7420, "");
	CHECK_EQ(wh_beacon_decode(d.p, d.len, &got), WH_EFIELD);
	crafted(&d, k, "whistle-beacon", 1, 0, 7420, "x;rm");
	CHECK_EQ(wh_beacon_decode(d.p, d.len, &got), WH_EFIELD);
	crafted(&d, k, "whistle-beacon", 2, 0, 7420, "");
	CHECK_EQ(wh_beacon_decode(d.p, d.len, &got), WH_EVERSION);
	crafted(&d, k, "whistle-receipt", 1, 0, 7420, "");
	CHECK_EQ(wh_beacon_decode(d.p, d.len, &got), WH_EDECODE);
	crafted(&d, k, "whistle-beacon", 1, 3, 65535, "fe80::1");
	CHECK_EQ(wh_beacon_decode(d.p, d.len, &got), WH_OK);
	CHECK(got.role == WH_ROLE_OTHER && got.port == 65535 &&
	      !strcmp(got.host, "fe80::1"));
	wh_buf_fini(&d);
	wh_key_free(k);
	wh_key_free(k2);
}

static struct wh_beacon at(uint8_t key, uint64_t ms, uint8_t nonce)
{
	struct wh_beacon b;
	memset(&b, 0, sizeof b);
	memset(b.pk, key, WH_PK_BYTES);
	b.pk[0] = 0xee; /* keys 0..255 and beyond below differ here */
	b.ms = ms;
	memset(b.nonce, nonce, sizeof b.nonce);
	return b;
}

static void replay(void)
{
	struct wh_beacon_filter *f = malloc(sizeof *f);
	REQUIRE(f);
	wh_beacon_filter_init(f);
	struct wh_beacon b = at(1, NOW, 1);
	CHECK_EQ(wh_beacon_fresh(f, &b, NOW), WH_OK);
	CHECK_EQ(wh_beacon_fresh(f, &b, NOW + 100), WH_EEXIST); /* replay */
	struct wh_beacon older = at(1, NOW - 5000, 2);
	CHECK_EQ(wh_beacon_fresh(f, &older, NOW + 100), WH_EEXIST);
	struct wh_beacon same_ms = at(1, NOW, 3);
	CHECK_EQ(wh_beacon_fresh(f, &same_ms, NOW + 100), WH_OK);
	CHECK_EQ(wh_beacon_fresh(f, &same_ms, NOW + 100), WH_EEXIST);
	struct wh_beacon newer = at(1, NOW + 5000, 1);
	CHECK_EQ(wh_beacon_fresh(f, &newer, NOW + 5000), WH_OK);
	CHECK_EQ(wh_beacon_fresh(f, &b, NOW + 5000), WH_EEXIST);
	/* another key is another story */
	struct wh_beacon other = at(2, NOW, 1);
	CHECK_EQ(wh_beacon_fresh(f, &other, NOW), WH_OK);
	/* the clock window, both ways */
	struct wh_beacon ahead = at(3, NOW + WH_BEACON_SKEW_MS + 1, 1);
	CHECK_EQ(wh_beacon_fresh(f, &ahead, NOW), WH_ECLOCK);
	struct wh_beacon behind = at(3, NOW - WH_BEACON_SKEW_MS - 1, 1);
	CHECK_EQ(wh_beacon_fresh(f, &behind, NOW), WH_ECLOCK);
	struct wh_beacon edge = at(3, NOW + WH_BEACON_SKEW_MS, 1);
	CHECK_EQ(wh_beacon_fresh(f, &edge, NOW), WH_OK);
	/* A full table forgets the key heard least lately (1's last is
	 * NOW + 5000 but key 2 was admitted after it): its old beacons
	 * stay out under the floor, even if replayed from the window. */
	wh_beacon_filter_init(f);
	for (unsigned i = 0; i < WH_BEACON_KEYS; i++) {
		struct wh_beacon x = at((uint8_t)i, NOW + i, 1);
		x.pk[1] = (uint8_t)(i >> 8);
		CHECK_EQ(wh_beacon_fresh(f, &x, NOW), WH_OK);
	}
	CHECK_EQ(f->n, WH_BEACON_KEYS);
	struct wh_beacon first = at(0, NOW, 1); /* key 0, heard first */
	struct wh_beacon late = at(0, NOW + 1000, 9);
	late.pk[1] = 1;
	late.pk[2] = 1; /* a key never seen */
	CHECK_EQ(wh_beacon_fresh(f, &late, NOW + 1000), WH_OK);
	CHECK(f->floor_ms >= NOW);
	CHECK_EQ(wh_beacon_fresh(f, &first, NOW + 1000), WH_EOLD);
	struct wh_beacon first_new = at(0, NOW + 2000, 2);
	CHECK_EQ(wh_beacon_fresh(f, &first_new, NOW + 2000), WH_OK);
	free(f);
}

int main(void)
{
	REQUIRE(wh_crypto_init() == WH_OK);
	codec();
	replay();
	return wh_test_done("test_beacon");
}
