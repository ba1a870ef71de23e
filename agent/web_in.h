/*
 * web_in.h: the one decoder of the web console's request bodies (JSON,
 * through jansson) and of the parts of a request line it reads (query
 * parameters, the session cookie). Everything a browser sends passes
 * here before any other code sees it.
 *
 * A body must be one JSON object of at most WEB_BODY_MAX bytes whose
 * every key is one the endpoint names (web_in_spec) and whose every
 * value has the type and size the spec gives: a string (UTF-8, no NUL:
 * jansson checks both) of at most 'max' bytes, or, where the spec
 * allows, a whole number (written out as text) or an array of at most
 * 'count' such strings. Duplicate keys, unknown keys, nesting, other
 * types and trailing bytes are refused with a reason naming the key.
 * What passes comes out as (name, value) text pairs in body order, for
 * the same field checks the command line runs (case_edit.h,
 * case_step.h): a value is checked once, by one piece of code, whoever
 * sends it.
 *
 * Nothing here prints or touches the store.
 */
#ifndef WH_WEB_IN_H
#define WH_WEB_IN_H

#include "wh.h"

#include <stddef.h>

#define WEB_BODY_MAX (64u * 1024u) /* bytes of a request body */
#define WEB_IN_MAX 48		   /* pairs one body may give */
#define WEB_IN_WHY 200		   /* bytes of a reason */

/* How a field may be written. */
enum web_in_type {
	WEB_IN_STR = 1, /* a string */
	WEB_IN_NUM = 2, /* a whole number 0..1e9, or a string */
	WEB_IN_LIST = 4 /* an array of strings, or one string */
};

struct web_in_spec {
	const char *key; /* JSON key; also the pair's name */
	unsigned types;	 /* enum web_in_type bits */
	size_t max;	 /* bytes of one string */
	unsigned count;	 /* most strings of a list */
	int required;
};

struct web_in {
	size_t n;
	const char *name[WEB_IN_MAX]; /* borrowed from the spec */
	const char *val[WEB_IN_MAX];  /* borrowed from the JSON, or num[] */
	char num[WEB_IN_MAX][24];
	void *root; /* the parsed JSON (json_t), owned */
};

/*
 * Decode body[0..n) against spec[0..nspec). WH_OK with in filled; else
 * WH_EDECODE (not JSON, not an object, a value of the wrong type),
 * WH_EFIELD (a key not in the spec, or a required one missing),
 * WH_ETOOBIG (a body, string or list past its bound), with why set.
 * in is initialised by the call either way; release it with
 * web_in_fini.
 */
WH_MUST_CHECK int web_in_decode(const char *body, size_t n,
				const struct web_in_spec *spec, size_t nspec,
				struct web_in *in, char why[WEB_IN_WHY]);
void web_in_fini(struct web_in *in);

/* The bodies of the API (web_spec.c): POST /api/login, POST /api/cases
 * and POST /api/cases/ID/steps. */
extern const struct web_in_spec web_spec_login[], web_spec_case[],
    web_spec_step[];
extern const size_t web_spec_login_n, web_spec_case_n, web_spec_step_n;

/* The first value named name, or NULL. */
const char *web_in_get(const struct web_in *in, const char *name);

/*
 * The value of cookie 'name' in a Cookie header, copied to out (cap
 * bytes) if it is exactly 2*bytes hex digits: WH_OK, WH_ENOTFOUND (no
 * such cookie) or WH_EDECODE (present but malformed).
 */
WH_MUST_CHECK int web_in_cookie(const char *header, const char *name,
				size_t hexlen, char *out, size_t cap);

/* A query parameter value: at most max bytes of UTF-8 without control
 * characters. WH_OK or WH_EDECODE/WH_ETOOBIG. */
WH_MUST_CHECK int web_in_param(const char *v, size_t max);

/* Whether Host is "name:port" for one of the allowed names (NULL
 * allowed: any name) and this port; a name is letters, digits, '.',
 * '-' or an [IPv6] literal. */
int web_in_host_ok(const char *host, const char *const *allowed,
		   size_t nallowed, unsigned port);

#endif
