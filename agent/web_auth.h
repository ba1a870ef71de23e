/*
 * web_auth.h: the web console's sessions and its limit on failed
 * logins. Pure bookkeeping over a caller-held table, with time passed
 * in (monotonic ms), so a unit test can age it without sleeping; no
 * I/O, no HTTP.
 *
 * Sessions: the cookie value is 32 random bytes in hex; only its
 * BLAKE2b-256 is kept, and lookups compare every slot in constant time
 * (sodium_memcmp), so neither a memory dump nor response timing gives
 * a usable cookie away. A session ends after WEB_IDLE_MS without a
 * request, WEB_LIFE_MS after login, at logout, or when its account is
 * removed. Each has its own CSRF token (32 random bytes, hex), which
 * every state-changing request must echo (web_csrf_ok).
 *
 * Failed logins: counted per account name and per client address.
 * After WEB_FAIL_MAX failures within WEB_FAIL_WINDOW_MS for either, a
 * login for it is refused without looking at the password until the
 * window that began with its first failure ends. A success clears the
 * name's count (not the address's).
 */
#ifndef WH_WEB_AUTH_H
#define WH_WEB_AUTH_H

#include "users.h"

#define WEB_SESSIONS 64
#define WEB_IDLE_MS (2u * 3600u * 1000u)  /* 2 hours without a request */
#define WEB_LIFE_MS (12u * 3600u * 1000u) /* 12 hours after login */
#define WEB_FAIL_MAX 5
#define WEB_FAIL_WINDOW_MS (15u * 60u * 1000u)
#define WEB_FAILS 256
#define WEB_TOKEN_HEX 64 /* hex digits of a cookie or CSRF token */

struct web_session {
	int used;
	uint8_t id[32]; /* BLAKE2b-256 of the cookie value */
	char csrf[WEB_TOKEN_HEX + 1];
	char user[USERS_NAME_MAX + 1];
	int role; /* enum users_role, as of the last request */
	uint64_t created_ms, seen_ms;
};

struct web_fail {
	char key[USERS_NAME_MAX + 8]; /* "u:NAME" or "a:ADDRESS"; "": free */
	uint32_t n;
	uint64_t first_ms;
};

struct web_auth {
	struct web_session sess[WEB_SESSIONS];
	struct web_fail fails[WEB_FAILS];
};

void web_auth_init(struct web_auth *a);
/* Wipe every session and count. */
void web_auth_fini(struct web_auth *a);

/*
 * Whether a login for user from addr must be refused now: 1 with
 * *retry_ms (how long until it may try again), else 0.
 */
int web_auth_limited(struct web_auth *a, const char *user, const char *addr,
		     uint64_t now, uint64_t *retry_ms);
/* A failed login: counted for the name and for the address. */
void web_auth_failed(struct web_auth *a, const char *user, const char *addr,
		     uint64_t now);
/* A successful login: the name's count is cleared. */
void web_auth_succeeded(struct web_auth *a, const char *user);

/* A new session for user: cookie gets the value to send (hex, NUL-
 * terminated). When the table is full the session seen least recently
 * ends. Never fails. */
struct web_session *web_session_new(struct web_auth *a, const char *user,
				    int role, uint64_t now,
				    char cookie[WEB_TOKEN_HEX + 1]);
/* The live session whose cookie is cookie (hex), touched (seen_ms =
 * now); NULL if none, and an expired one is ended on the way. */
struct web_session *web_session_find(struct web_auth *a, const char *cookie,
				     uint64_t now);
void web_session_end(struct web_session *s);
/* Whether token is s's CSRF token (constant time). */
int web_csrf_ok(const struct web_session *s, const char *token);

#endif
