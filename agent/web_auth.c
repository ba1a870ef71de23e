/*
 * web_auth.c: sessions and the failed-login limit (web_auth.h).
 */
#include "web_auth.h"

#include <sodium.h>

#include <string.h>

void web_auth_init(struct web_auth *a)
{
	memset(a, 0, sizeof *a);
}

void web_auth_fini(struct web_auth *a)
{
	sodium_memzero(a, sizeof *a);
}

static struct web_fail *fail_find(struct web_auth *a, const char *key,
				  uint64_t now, int make)
{
	struct web_fail *oldest = &a->fails[0], *free_slot = NULL;
	for (size_t i = 0; i < WEB_FAILS; i++) {
		struct web_fail *f = &a->fails[i];
		/* a window that has ended is a free slot */
		if (f->key[0] && now - f->first_ms >= WEB_FAIL_WINDOW_MS)
			f->key[0] = '\0';
		if (!f->key[0]) {
			if (!free_slot)
				free_slot = f;
			continue;
		}
		if (!strcmp(f->key, key))
			return f;
		if (f->first_ms < oldest->first_ms)
			oldest = f;
	}
	if (!make)
		return NULL;
	struct web_fail *f = free_slot ? free_slot : oldest;
	memset(f, 0, sizeof *f);
	snprintf(f->key, sizeof f->key, "%s", key);
	f->first_ms = now;
	return f;
}

static void key_of(char *out, size_t cap, char kind, const char *v)
{
	snprintf(out, cap, "%c:%s", kind, v);
}

int web_auth_limited(struct web_auth *a, const char *user, const char *addr,
		     uint64_t now, uint64_t *retry_ms)
{
	char k[sizeof a->fails[0].key];
	const char *v[2] = {user, addr};
	*retry_ms = 0;
	for (int i = 0; i < 2; i++) {
		key_of(k, sizeof k, i ? 'a' : 'u', v[i]);
		struct web_fail *f = fail_find(a, k, now, 0);
		if (f && f->n >= WEB_FAIL_MAX) {
			uint64_t left = f->first_ms + WEB_FAIL_WINDOW_MS - now;
			if (left > *retry_ms)
				*retry_ms = left;
		}
	}
	return *retry_ms > 0;
}

void web_auth_failed(struct web_auth *a, const char *user, const char *addr,
		     uint64_t now)
{
	char k[sizeof a->fails[0].key];
	key_of(k, sizeof k, 'u', user);
	fail_find(a, k, now, 1)->n++;
	key_of(k, sizeof k, 'a', addr);
	fail_find(a, k, now, 1)->n++;
}

void web_auth_succeeded(struct web_auth *a, const char *user)
{
	char k[sizeof a->fails[0].key];
	key_of(k, sizeof k, 'u', user);
	for (size_t i = 0; i < WEB_FAILS; i++)
		if (!strcmp(a->fails[i].key, k))
			memset(&a->fails[i], 0, sizeof a->fails[i]);
}

static void hex_token(char out[WEB_TOKEN_HEX + 1], uint8_t raw[32])
{
	randombytes_buf(raw, 32);
	sodium_bin2hex(out, WEB_TOKEN_HEX + 1, raw, 32);
}

struct web_session *web_session_new(struct web_auth *a, const char *user,
				    int role, uint64_t now,
				    char cookie[WEB_TOKEN_HEX + 1])
{
	struct web_session *s = NULL;
	for (size_t i = 0; i < WEB_SESSIONS && !s; i++)
		if (!a->sess[i].used)
			s = &a->sess[i];
	if (!s) { /* full: the one seen least recently ends */
		s = &a->sess[0];
		for (size_t i = 1; i < WEB_SESSIONS; i++)
			if (a->sess[i].seen_ms < s->seen_ms)
				s = &a->sess[i];
	}
	memset(s, 0, sizeof *s);
	uint8_t raw[32];
	hex_token(cookie, raw);
	crypto_generichash(s->id, sizeof s->id, (const uint8_t *)cookie,
			   WEB_TOKEN_HEX, NULL, 0);
	hex_token(s->csrf, raw);
	sodium_memzero(raw, sizeof raw);
	snprintf(s->user, sizeof s->user, "%s", user);
	s->role = role;
	s->created_ms = s->seen_ms = now;
	s->used = 1;
	return s;
}

struct web_session *web_session_find(struct web_auth *a, const char *cookie,
				     uint64_t now)
{
	uint8_t id[32];
	if (strlen(cookie) != WEB_TOKEN_HEX)
		return NULL;
	crypto_generichash(id, sizeof id, (const uint8_t *)cookie,
			   WEB_TOKEN_HEX, NULL, 0);
	struct web_session *hit = NULL;
	for (size_t i = 0; i < WEB_SESSIONS; i++) {
		struct web_session *s = &a->sess[i];
		/* every slot compared, used or not, in constant time */
		int same = sodium_memcmp(s->id, id, sizeof id) == 0;
		if (s->used && same)
			hit = s;
	}
	if (!hit)
		return NULL;
	if (now - hit->seen_ms >= WEB_IDLE_MS ||
	    now - hit->created_ms >= WEB_LIFE_MS) {
		web_session_end(hit);
		return NULL;
	}
	hit->seen_ms = now;
	return hit;
}

void web_session_end(struct web_session *s)
{
	sodium_memzero(s, sizeof *s);
}

int web_csrf_ok(const struct web_session *s, const char *token)
{
	if (!token || strlen(token) != WEB_TOKEN_HEX)
		return 0;
	return sodium_memcmp(s->csrf, token, WEB_TOKEN_HEX) == 0;
}
