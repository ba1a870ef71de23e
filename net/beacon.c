/*
 * beacon.c: LAN beacons (beacon.h): encode, decode with every bound
 * checked before use, and the replay filter. No I/O: the socket is
 * lan.c's.
 */
#include "beacon.h"

#include "mp.h"

#include <string.h>

#define TAG "whistle-beacon"
#define TAG_LEN 14

/* A host as a beacon may name it: letters, digits, '.', ':' and '-'
 * (names, IPv4 and IPv6 literals), not starting with '-' (it ends up in
 * a tcp:// endpoint handed to libzmq). */
static int host_valid(const char *h, size_t n)
{
	if (n > WH_BEACON_HOST_MAX || (n && h[0] == '-'))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = h[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == ':' ||
		      ch == '-'))
			return 0;
	}
	return 1;
}

static int fields_valid(const struct wh_beacon *b)
{
	size_t pn = strnlen(b->path, sizeof b->path);
	size_t hn = strnlen(b->host, sizeof b->host);
	return pn < sizeof b->path && wh_path_valid(b->path, pn) &&
	       hn < sizeof b->host && host_valid(b->host, hn) &&
	       b->port >= 1 && (unsigned)b->role <= WH_ROLE_OTHER;
}

int wh_beacon_encode(const struct wh_beacon *b, const struct wh_key *key,
		     struct wh_buf *out)
{
	if (!b || !key || !out || memcmp(b->pk, key->pk, WH_PK_BYTES) ||
	    !fields_valid(b))
		return WH_EINVAL;
	size_t from = out->len;
	wh_mpw_array(out, 9);
	wh_mpw_str(out, TAG, TAG_LEN);
	wh_mpw_uint(out, WH_BEACON_VERSION);
	wh_mpw_bin(out, b->pk, WH_PK_BYTES);
	wh_mpw_uint(out, b->ms);
	wh_mpw_bin(out, b->nonce, WH_BEACON_NONCE);
	wh_mpw_uint(out, (uint64_t)b->role);
	wh_mpw_cstr(out, b->path);
	wh_mpw_uint(out, b->port);
	wh_mpw_cstr(out, b->host);
	uint8_t sig[WH_SIG_BYTES];
	wh_key_sign(key, out->p + from, out->len - from, sig);
	wh_buf_append(out, sig, WH_SIG_BYTES);
	if (out->len - from > WH_BEACON_MAX) {
		out->len = from; /* cannot happen within the field bounds */
		return WH_EINVAL;
	}
	return WH_OK;
}

static int read_cstr(struct wh_mp *r, char *dst, size_t cap, size_t *n)
{
	struct wh_slice s;
	int rc = wh_mp_read_str(r, &s, cap - 1);
	if (rc)
		return rc;
	memcpy(dst, s.p, s.n);
	dst[s.n] = '\0';
	*n = s.n;
	return WH_OK;
}

int wh_beacon_decode(const uint8_t *p, size_t n, struct wh_beacon *b)
{
	memset(b, 0, sizeof *b);
	if (n > WH_BEACON_MAX)
		return WH_ETOOBIG;
	if (!p || n <= WH_SIG_BYTES)
		return WH_ETRUNC;
	struct wh_mp r;
	wh_mp_init(&r, p, n - WH_SIG_BYTES);
	uint32_t an;
	struct wh_slice tag;
	uint64_t v, role, port;
	size_t pn, hn;
	int rc;
	if ((rc = wh_mp_read_array(&r, &an, 16)))
		return rc;
	if (an != 9)
		return WH_EDECODE;
	if ((rc = wh_mp_read_str(&r, &tag, 32)))
		return rc;
	if (tag.n != TAG_LEN || memcmp(tag.p, TAG, TAG_LEN))
		return WH_EDECODE; /* another datagram on our port */
	if ((rc = wh_mp_read_uint(&r, &v)))
		return rc;
	if (v != WH_BEACON_VERSION)
		return WH_EVERSION;
	if ((rc = wh_mp_read_bin_fixed(&r, b->pk, WH_PK_BYTES)) ||
	    (rc = wh_mp_read_uint(&r, &b->ms)) ||
	    (rc = wh_mp_read_bin_fixed(&r, b->nonce, WH_BEACON_NONCE)) ||
	    (rc = wh_mp_read_uint(&r, &role)) ||
	    (rc = read_cstr(&r, b->path, sizeof b->path, &pn)) ||
	    (rc = wh_mp_read_uint(&r, &port)) ||
	    (rc = read_cstr(&r, b->host, sizeof b->host, &hn)))
		return rc;
	/* Exactly the signature after B: nothing trails, nothing missing. */
	if (wh_mp_left(&r) != 0)
		return WH_EDECODE;
	if (!wh_path_valid(b->path, pn))
		return WH_EPATH;
	if (role > WH_ROLE_OTHER || port < 1 || port > 65535 ||
	    !host_valid(b->host, hn))
		return WH_EFIELD;
	b->role = (enum wh_role)role;
	b->port = (uint16_t)port;
	return wh_sig_verify(b->pk, p, n - WH_SIG_BYTES,
			     p + n - WH_SIG_BYTES);
}

void wh_beacon_filter_init(struct wh_beacon_filter *f)
{
	memset(f, 0, sizeof *f);
}

int wh_beacon_fresh(struct wh_beacon_filter *f, const struct wh_beacon *b,
		    uint64_t now_ms)
{
	uint64_t d = b->ms > now_ms ? b->ms - now_ms : now_ms - b->ms;
	if (d > WH_BEACON_SKEW_MS)
		return WH_ECLOCK;
	if (b->ms <= f->floor_ms)
		return WH_EOLD;
	struct wh_beacon_seen *e = NULL;
	for (size_t i = 0; i < f->n && !e; i++)
		if (!memcmp(f->e[i].pk, b->pk, WH_PK_BYTES))
			e = &f->e[i];
	if (e && (b->ms < e->ms ||
		  (b->ms == e->ms &&
		   !memcmp(b->nonce, e->nonce, WH_BEACON_NONCE))))
		return WH_EEXIST;
	if (!e && f->n < WH_BEACON_KEYS) {
		e = &f->e[f->n++];
	} else if (!e) {
		/* Forget the key heard least lately; nothing at or below
		 * its last time gets in from now on. */
		e = &f->e[0];
		for (size_t i = 1; i < f->n; i++)
			if (f->e[i].used < e->used)
				e = &f->e[i];
		if (e->ms > f->floor_ms)
			f->floor_ms = e->ms;
		if (b->ms <= f->floor_ms)
			return WH_EOLD;
	}
	memcpy(e->pk, b->pk, WH_PK_BYTES);
	e->ms = b->ms;
	memcpy(e->nonce, b->nonce, WH_BEACON_NONCE);
	e->used = ++f->tick;
	return WH_OK;
}
