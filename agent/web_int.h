/*
 * web_int.h: what the web console's files share (private to agent/web*.c):
 *
 *   web.c        libmicrohttpd in the agent's loop: the daemon, the
 *                request's bounds (body size, Host, Origin, content
 *                type), security headers, static pages
 *   web_api.c    the JSON API: routing, session and CSRF checks, and
 *                the endpoints, which call the same code as the CLI
 *   web_view.c   what the API shows: case lists and summaries, the
 *                next steps a person may take, the sync panel
 *   web_auth.c   sessions and the failed-login limit (web_auth.h)
 *   web_in.c     the decoder of request bodies (web_in.h)
 *   web_assets.c the pages, embedded at build time
 */
#ifndef WH_WEB_INT_H
#define WH_WEB_INT_H

#include "agent_int.h"
#include "json.h"
#include "users.h"
#include "web.h"
#include "web_auth.h"
#include "web_in.h"

#include <stdio.h>

#define WEB_ADDR_MAX 64

struct web {
	struct agent *a;
	struct cli *c;
	struct MHD_Daemon *d;
	int epfd;
	unsigned port;
	char bind[64];
	struct web_auth auth;
	struct users users;   /* HOME/users as last read */
	uint64_t users_stamp; /* users_stamp() when read; 0: none */
};

/* One request, as web.c hands it to the API. */
struct web_req {
	struct web *w;
	const char *method; /* "GET", "POST", ... */
	const char *url;    /* path only, e.g. "/api/cases/XJK-ZDY-000001" */
	const char *csrf;   /* X-CSRF-Token header, or NULL */
	const char *body;   /* NULL when none */
	size_t nbody;
	char addr[WEB_ADDR_MAX]; /* the client's address, for rate limits */
	struct web_session *s;	 /* the session its cookie names, or NULL */
	/* query parameters (borrowed from libmicrohttpd for the request) */
	void *conn;
};

/* What the API answers. */
struct web_out {
	unsigned status;
	FILE *f; /* the body as it is written (open_memstream) */
	char *body;
	size_t n;
	char cookie[160];     /* a Set-Cookie value, or "" */
	unsigned retry_after; /* s; 0: no Retry-After */
};

/* Start the body of a JSON answer with this status; returns the json
 * writer over out->f. */
void web_out_json(struct web_out *o, unsigned status, struct json *j);
/* A JSON error answer {"error": code, "message": text}. */
void web_out_error(struct web_out *o, unsigned status, const char *code,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* web_api.c: answer one /api/ request into o. */
void web_api(struct web_req *r, struct web_out *o);
/* A query parameter of the request, or NULL. */
const char *web_query(const struct web_req *r, const char *name);

/* web.c: HOME/users as it is now (read again when it changed); NULL
 * when it does not parse (the reason is logged once). */
const struct users *web_users(struct web *w);

/* ---- web_view.c ---- */

/* GET /api/cases: the list, overdue first, then today's. */
void web_view_cases(struct web_req *r, struct web_out *o);
/* GET /api/cases/ID: the case, its history, departments and next steps
 * for this session's role. */
void web_view_case(struct web_req *r, struct web_out *o, const char *code,
		   uint32_t seq);
/* GET /api/sync: peers and counters. */
void web_view_sync(struct web_req *r, struct web_out *o);
/* GET /api/options: the form choices (problem list categories, ...). */
void web_view_options(struct web_req *r, struct web_out *o);
/* GET /api/status. */
void web_view_status(struct web_req *r, struct web_out *o);

/*
 * The emergencies active now, as the JSON array /api/status carries
 * under "emergencies". Emergency mode (平战转换) is being built on
 * another branch: until it is merged this writes an empty array, and
 * this one function is where the store's emergency API is to be read.
 * The pages show a banner for every element, whatever it holds.
 */
void web_emergencies_json(struct web *w, struct json *j);

/* ---- web_assets.c ---- */

struct web_asset {
	const char *path; /* "/", "/app.js", ... */
	const char *ctype;
	const unsigned char *data;
	size_t size;
};
/* The embedded file served at path, or NULL. */
const struct web_asset *web_asset_find(const char *path);

#endif
