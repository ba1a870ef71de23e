/*
 * web.c: the web console's HTTP side (web.h), libmicrohttpd driven from
 * the agent's single zmq_poll loop.
 *
 * libmicrohttpd runs with MHD_USE_EPOLL and no thread: its listening
 * socket and every connection sit behind one epoll fd, which web_poll
 * hands to wh_net_poll_fds beside the net's sockets and the signal pipe;
 * after each turn MHD_run does whatever is ready without blocking, and
 * MHD_get_timeout shortens the loop's timeout when a connection has a
 * deadline. Handlers run inside MHD_run, i.e. inside the loop.
 *
 * Bounds on what a client can make us hold or do:
 *   - at most 64 connections, 16 per address, 30 s idle each, 32 KiB
 *     of request line and headers (libmicrohttpd's pool);
 *   - a body of at most WEB_BODY_MAX bytes: a larger Content-Length is
 *     answered 413 before the body is read, a chunked body that grows
 *     past it closes the connection;
 *   - Host must name this console (127.0.0.1, localhost, [::1] or the
 *     bound address, and our port), so a page of another site that
 *     rebinds its name to 127.0.0.1 gets nothing; a POST must be
 *     application/json (no HTML form can send that across sites without
 *     asking) and, when the browser says where it comes from, Origin
 *     must be this console.
 * Every answer carries a Content-Security-Policy that allows scripts
 * and styles from this console only (no inline script, no eval), and
 * headers against framing, sniffing and referrers.
 */
#include "cli_emergency.h"
#include "web_int.h"

#include "log.h"

#include <microhttpd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WEB_CONNS 64
#define WEB_CONNS_PER_IP 16
#define WEB_IDLE_S 30
#define WEB_CONN_MEMORY (32u * 1024u)

/* A request while its body arrives. */
struct pending {
	char *body;
	size_t n;
	int too_big;
};

/* ---- answers -------------------------------------------------------- */

void web_out_json(struct web_out *o, unsigned status, struct json *j)
{
	o->status = status;
	if (!o->f)
		o->f = open_memstream(&o->body, &o->n);
	if (!o->f)
		abort(); /* out of memory: the house rule (wh_xmalloc) */
	json_init(j, o->f);
}

void web_out_error(struct web_out *o, unsigned status, const char *code,
		   const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (o->f) { /* throw away anything half-written */
		fclose(o->f);
		free(o->body);
		o->f = NULL;
		o->body = NULL;
		o->n = 0;
	}
	struct json j;
	web_out_json(o, status, &j);
	json_obj(&j);
	json_kstr(&j, "error", code);
	/* messages are UTF-8: every value in them was checked at the
	 * edge; an invalid byte would only come from a bug of ours */
	if (wh_utf8_valid((const uint8_t *)msg, strlen(msg)))
		json_kstr(&j, "message", msg);
	else
		json_kstr(&j, "message", "(message not shown)");
	json_obj_end(&j);
	json_end(&j);
}

static void headers(struct MHD_Response *resp, const char *ctype, int api)
{
	MHD_add_response_header(resp, "Content-Type", ctype);
	MHD_add_response_header(resp, "Content-Security-Policy",
				"default-src 'none'; script-src 'self'; "
				"style-src 'self'; img-src 'self' data:; "
				"connect-src 'self'; base-uri 'none'; "
				"form-action 'none'; frame-ancestors 'none'");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Cross-Origin-Opener-Policy",
				"same-origin");
	MHD_add_response_header(resp, "Cross-Origin-Resource-Policy",
				"same-origin");
	MHD_add_response_header(resp, "Cache-Control",
				api ? "no-store" : "no-cache");
}

static enum MHD_Result send_out(struct MHD_Connection *conn, struct web_out *o)
{
	if (o->f) {
		fclose(o->f);
		o->f = NULL;
	}
	struct MHD_Response *resp = MHD_create_response_from_buffer(
	    o->n, o->body ? o->body : (void *)"",
	    o->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(o->body);
		return MHD_NO;
	}
	o->body = NULL;
	headers(resp, "application/json; charset=utf-8", 1);
	if (o->cookie[0])
		MHD_add_response_header(resp, "Set-Cookie", o->cookie);
	if (o->retry_after) {
		char ra[16];
		snprintf(ra, sizeof ra, "%u", o->retry_after);
		MHD_add_response_header(resp, "Retry-After", ra);
	}
	enum MHD_Result rc = MHD_queue_response(conn, o->status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned status,
				  const char *code, const char *msg)
{
	struct web_out o;
	memset(&o, 0, sizeof o);
	web_out_error(&o, status, code, "%s", msg);
	return send_out(conn, &o);
}

static enum MHD_Result send_asset(struct MHD_Connection *conn, const char *url)
{
	const struct web_asset *as = web_asset_find(url);
	if (!as)
		return send_error(conn, MHD_HTTP_NOT_FOUND, "not_found",
				  "no such page");
	struct MHD_Response *resp = MHD_create_response_from_buffer(
	    as->size, (void *)(uintptr_t)as->data, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	headers(resp, as->ctype, 0);
	enum MHD_Result rc = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* ---- checks ----------------------------------------------------------- */

static int host_ok(const struct web *w, const char *host)
{
	const char *names[] = {"127.0.0.1", "localhost", "[::1]", w->bind};
	/* bound to every address: any name may reach us, and the session
	 * cookie and CSRF token are what protect the API */
	if (!strcmp(w->bind, "0.0.0.0"))
		return web_in_host_ok(host, NULL, 0, w->port);
	return web_in_host_ok(host, names, 4, w->port);
}

/* Origin, when the browser sends one, is this console as Host names it. */
static int origin_ok(const char *origin, const char *host)
{
	if (!origin)
		return 1;
	return !strncmp(origin, "http://", 7) && !strcasecmp(origin + 7, host);
}

static void client_addr(struct MHD_Connection *conn, char out[WEB_ADDR_MAX])
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(out, WEB_ADDR_MAX, "?");
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(
		    AF_INET,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    out, WEB_ADDR_MAX);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(
		    AF_INET6,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    out, WEB_ADDR_MAX);
}

const struct users *web_users(struct web *w)
{
	uint64_t st = users_stamp(w->c->home);
	if (st != w->users_stamp || !st) {
		struct users u;
		char why[300];
		if (users_load(w->c->home, &u, why, sizeof why) != WH_OK) {
			if (w->users_stamp != st)
				log_error("web console: %s; nobody can log in "
					  "until it is fixed",
					  why);
			users_fini(&w->users);
			w->users_stamp = st;
			return NULL;
		}
		users_fini(&w->users);
		w->users = u;
		w->users_stamp = st;
	}
	return &w->users;
}

/* The session the request's cookie names, if it is live and its account
 * still exists (its role as the file says now). */
static struct web_session *session_of(struct web *w,
				      struct MHD_Connection *conn)
{
	const char *ck =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Cookie");
	char tok[WEB_TOKEN_HEX + 1];
	if (!ck || web_in_cookie(ck, "wh_session", WEB_TOKEN_HEX, tok,
				 sizeof tok) != WH_OK)
		return NULL;
	struct web_session *s =
	    web_session_find(&w->auth, tok, agent_mono_ms());
	if (!s)
		return NULL;
	const struct users *u = web_users(w);
	const struct users_entry *e = u ? users_find(u, s->user) : NULL;
	if (!e) {
		web_session_end(s);
		return NULL;
	}
	s->role = e->role;
	return s;
}

const char *web_query(const struct web_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
					   name);
}

/* ---- the request ------------------------------------------------------ */

static enum MHD_Result answer(struct web *w, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      struct pending *p)
{
	/* The emergencies the deadlines and the banner read are cached per
	 * command (cli_em_all); the agent's cli lives for months. */
	cli_em_free(w->c->em);
	w->c->em = NULL;
	const char *host =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
	if (!host_ok(w, host))
		return send_error(conn, MHD_HTTP_BAD_REQUEST, "bad_host",
				  "Host does not name this console");
	if (p->too_big)
		return send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
				  "request body too large (at "
				  "most 65536 bytes)");
	int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	int post = !strcmp(method, "POST");
	if (strncmp(url, "/api/", 5)) {
		if (!get)
			return send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
					  "method", "pages are GET only");
		return send_asset(conn, url);
	}
	if (!get && !post)
		return send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method",
				  "the API takes GET and POST only");
	if (post) {
		const char *ct = MHD_lookup_connection_value(
		    conn, MHD_HEADER_KIND, "Content-Type");
		if (!ct || strncasecmp(ct, "application/json", 16) ||
		    (ct[16] && ct[16] != ';' && ct[16] != ' '))
			return send_error(conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
					  "content_type",
					  "a POST must be application/json");
		const char *origin = MHD_lookup_connection_value(
		    conn, MHD_HEADER_KIND, "Origin");
		if (!origin_ok(origin, host))
			return send_error(conn, MHD_HTTP_FORBIDDEN, "origin",
					  "Origin is not this console");
	}
	struct web_req r = {
	    .w = w,
	    .method = method,
	    .url = url,
	    .csrf = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						"X-CSRF-Token"),
	    .body = p->body,
	    .nbody = p->n,
	    .conn = conn,
	};
	client_addr(conn, r.addr);
	r.s = session_of(w, conn);
	struct web_out o;
	memset(&o, 0, sizeof o);
	web_api(&r, &o);
	return send_out(conn, &o);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn,
			       const char *url, const char *method,
			       const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct web *w = cls;
	struct pending *p = *con_cls;
	(void)version;
	if (!p) {
		p = wh_xcalloc(1, sizeof *p);
		*con_cls = p;
		const char *cl = MHD_lookup_connection_value(
		    conn, MHD_HEADER_KIND, "Content-Length");
		if (cl && strtoull(cl, NULL, 10) > WEB_BODY_MAX) {
			/* answered now, before a byte of it is read */
			p->too_big = 1;
			return answer(w, conn, url, method, p);
		}
		return MHD_YES;
	}
	if (*upload_size) {
		if (p->n + *upload_size > WEB_BODY_MAX)
			return MHD_NO; /* a chunked body past the bound */
		p->body = wh_xrealloc(p->body, p->n + *upload_size + 1);
		memcpy(p->body + p->n, upload, *upload_size);
		p->n += *upload_size;
		p->body[p->n] = '\0';
		*upload_size = 0;
		return MHD_YES;
	}
	if (p->too_big)
		return MHD_YES; /* answered already */
	return answer(w, conn, url, method, p);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	struct pending *p = *con_cls;
	if (p) {
		free(p->body);
		free(p);
	}
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char buf[300];
	vsnprintf(buf, sizeof buf, fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	log_debug("web console: %s", buf);
}

/* ---- the console -------------------------------------------------------- */

void web_open(struct agent *a, struct web **out)
{
	struct cli *c = a->c;
	*out = NULL;
	int port = c->conf.web_port < 0 ? WEB_PORT_DEFAULT : c->conf.web_port;
	const char *bind =
	    c->conf.web_bind[0] ? c->conf.web_bind : WEB_BIND_DEFAULT;
	if (port == 0) {
		log_info("web console off (web_port = 0)");
		return;
	}
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, bind, &sin.sin_addr) != 1) {
		log_error("web console off: web_bind '%s' is not an IPv4 "
			  "address",
			  bind);
		return;
	}
	if ((ntohl(sin.sin_addr.s_addr) >> 24) != 127)
		log_warn("web console bound to %s (web_bind): reachable from "
			 "the network, not only from this PC",
			 bind);
	struct web *w = wh_xcalloc(1, sizeof *w);
	w->a = a;
	w->c = c;
	w->port = (unsigned)port;
	snprintf(w->bind, sizeof w->bind, "%s", bind);
	web_auth_init(&w->auth);
	w->d = MHD_start_daemon(
	    MHD_USE_EPOLL | MHD_USE_ERROR_LOG, (uint16_t)port, NULL, NULL,
	    handler, w, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)WEB_CONNS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)WEB_CONNS_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WEB_IDLE_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)WEB_CONN_MEMORY,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, w,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, w, MHD_OPTION_END);
	const union MHD_DaemonInfo *di =
	    w->d ? MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (!w->d || !di) {
		log_warn("web console off: cannot listen on http://%s:%d/: %s "
			 "(set web_port in whistle.conf)",
			 bind, port, strerror(errno));
		web_close(w);
		return;
	}
	w->epfd = di->epoll_fd;
	const struct users *u = web_users(w);
	log_info("web console on http://%s:%d/ (%zu account%s%s)", bind, port,
		 u ? u->n : 0, u && u->n == 1 ? "" : "s",
		 u && u->n ? "" : "; add one with 'whistle user add'");
	*out = w;
}

void web_close(struct web *w)
{
	if (!w)
		return;
	if (w->d)
		MHD_stop_daemon(w->d);
	users_fini(&w->users);
	web_auth_fini(&w->auth);
	free(w);
}

int web_poll(struct web *w, struct wh_net *net, const int *fds, size_t nfds,
	     int64_t timeout_ms, int *ready)
{
	struct wh_net_fd f[WEB_POLL_FDS + 1];
	if (nfds > WEB_POLL_FDS)
		return WH_EINVAL;
	for (size_t i = 0; i < nfds; i++)
		f[i] = (struct wh_net_fd){fds[i], WH_NET_FD_IN, 0};
	size_t n = nfds;
	if (w) {
		MHD_UNSIGNED_LONG_LONG t;
		if (MHD_get_timeout(w->d, &t) == MHD_YES &&
		    (timeout_ms < 0 || t < (MHD_UNSIGNED_LONG_LONG)timeout_ms))
			timeout_ms = (int64_t)t;
		f[n++] = (struct wh_net_fd){w->epfd, WH_NET_FD_IN, 0};
	}
	int rc = wh_net_poll_fds(net, f, n, timeout_ms);
	for (size_t i = 0; i < nfds; i++)
		ready[i] = (f[i].revents & WH_NET_FD_IN) != 0;
	/* After every turn, ready or not: libmicrohttpd wants to be run
	 * when its timeout passes too, and on an idle epoll fd it costs
	 * one epoll_wait of zero. */
	if (w)
		MHD_run(w->d);
	return rc;
}
