/*
 * transport.c: sockets, monitors and the poll turn (see transport.h);
 * links, their sessions, trust and ZAP are in transport_link.c.
 *
 * Invariants:
 *   - one thread: every socket, the ZAP handler and the monitors are
 *     served from wh_net_poll; nothing blocks except zmq_poll itself;
 *   - a link is one session with one peer over one connection: a dialer
 *     (outbound, its own DEALER and monitor) or a listener-side link
 *     (inbound, a routing id on the shared ROUTER, keyed by the peer's
 *     Ed25519 key from the ZAP User-Id);
 *   - every message is bounded before it reaches a session (libzmq
 *     enforces ZMQ_MAXMSGSIZE; multi-frame payloads are dropped);
 *   - links are only freed at the end of a turn (sweep), so an event
 *     callback or a session call never sees a freed link;
 *   - the CURVE secret key lives in sodium memory and is wiped on close.
 *
 * The listener learns that a peer went away from DISCONNECTED events,
 * matched to links by the fd the peer's last message arrived on
 * (ZMQ_SRCFD); a peer that reconnects shows up with a new routing id,
 * which restarts its session.
 */
#include "transport_int.h"

#include <sodium.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t tr_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t tr_wall_ms(struct wh_net *n)
{
	return n->o.io.now_ms(n->o.io.ctx);
}

int tr_zerr(int e)
{
	switch (e) {
	case EAGAIN: return WH_EBUSY;
	case EADDRINUSE: return WH_EBUSY;
	case EINVAL:
	case EPROTONOSUPPORT:
	case ENOCOMPATPROTO: return WH_EINVAL;
	default: return WH_EIO;
	}
}

int wh_net_curve_pk(const uint8_t pk[WH_PK_BYTES], uint8_t out[32])
{
	return crypto_sign_ed25519_pk_to_curve25519(out, pk) == 0 ? WH_OK
								  : WH_EKEY;
}

void tr_emit(struct wh_net *n, enum wh_net_event_kind kind,
		 struct link *l, const struct wh_sync_state *st,
		 const char *text, uint64_t v)
{
	if (!n->o.on_event)
		return;
	struct wh_net_event ev = {
		.kind = kind,
		.peer = l ? &l->peer : NULL,
		.endpoint = l && l->outbound ? l->endpoint : NULL,
		.st = st,
		.text = text,
		.n = v,
	};
	n->o.on_event(n->o.ctx, &ev);
}

/* ---- socket options ----------------------------------------------- */

int tr_setopt_int(void *s, int opt, int v)
{
	return zmq_setsockopt(s, opt, &v, sizeof v);
}

/* Bounds and keepalive every socket gets. */
int tr_common_opts(struct wh_net *n, void *s)
{
	int64_t maxmsg = MAX_MSG;
	int linger = n->o.linger_ms ? (int)n->o.linger_ms : 500;
	if (tr_setopt_int(s, ZMQ_LINGER, linger) ||
	    tr_setopt_int(s, ZMQ_SNDHWM, HWM) || tr_setopt_int(s, ZMQ_RCVHWM, HWM) ||
	    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) ||
	    tr_setopt_int(s, ZMQ_HEARTBEAT_IVL, HB_IVL) ||
	    tr_setopt_int(s, ZMQ_HEARTBEAT_TIMEOUT, HB_TIMEOUT) ||
	    tr_setopt_int(s, ZMQ_HEARTBEAT_TTL, HB_TTL) ||
	    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, n->curve_pk, 32) ||
	    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, n->curve_sk, 32))
		return tr_zerr(errno);
	return WH_OK;
}

/* A PAIR connected to a fresh monitor of s, before s connects or binds
 * so that no event is lost. */
int tr_monitor_open(struct wh_net *n, void *s, int events, void **out)
{
	char ep[64];
	snprintf(ep, sizeof ep, "inproc://wh-monitor-%u", ++n->monseq);
	if (zmq_socket_monitor(s, ep, events))
		return tr_zerr(errno);
	void *m = zmq_socket(n->ctx, ZMQ_PAIR);
	if (!m)
		return tr_zerr(errno);
	tr_setopt_int(m, ZMQ_LINGER, 0);
	if (zmq_connect(m, ep)) {
		int e = errno;
		zmq_close(m);
		return tr_zerr(e);
	}
	*out = m;
	return WH_OK;
}

void tr_socket_close(void **s, void **mon)
{
	if (*s && *mon)
		zmq_socket_monitor(*s, NULL, 0);
	if (*mon)
		zmq_close(*mon);
	if (*s)
		zmq_close(*s);
	*s = *mon = NULL;
}

/* One monitor event: its id, value and (ignored) endpoint frame. */
static int monitor_read(void *mon, uint16_t *event, uint32_t *value)
{
	zmq_msg_t m;
	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, mon, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&m);
		return -1;
	}
	int ok = zmq_msg_size(&m) >= 6;
	if (ok) {
		const uint8_t *p = zmq_msg_data(&m);
		memcpy(event, p, 2);
		memcpy(value, p + 2, 4);
	}
	while (zmq_msg_more(&m)) {
		zmq_msg_close(&m);
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, mon, 0) < 0)
			break;
	}
	zmq_msg_close(&m);
	return ok ? 0 : 1;
}

/* ---- open / close / listen / dial --------------------------------- */

int wh_net_open(const struct wh_net_opts *o, struct wh_net **out)
{
	*out = NULL;
	if (!o->key || !o->self.path ||
	    strlen(o->self.path) > WH_PATH_MAX || !o->io.now_ms ||
	    !o->io.random || !o->io.digest || !o->io.ingest)
		return WH_EINVAL;
	struct wh_net *n = wh_xcalloc(1, sizeof *n);
	n->o = *o;
	strcpy(n->path, o->self.path);
	n->o.self.path = n->path;
	n->curve_sk = sodium_malloc(32);
	if (!n->curve_sk) {
		free(n);
		return WH_EIO;
	}
	if (crypto_sign_ed25519_sk_to_curve25519(n->curve_sk, o->key->sk) ||
	    crypto_sign_ed25519_pk_to_curve25519(n->curve_pk, o->key->pk)) {
		sodium_free(n->curve_sk);
		free(n);
		return WH_EKEY;
	}
	int rc = WH_OK;
	n->ctx = zmq_ctx_new();
	if (!n->ctx)
		rc = tr_zerr(errno);
	/* The ZAP handler must be bound before any CURVE server exists,
	 * or libzmq would let every client in. */
	if (!rc && !(n->zap = zmq_socket(n->ctx, ZMQ_REP)))
		rc = tr_zerr(errno);
	if (!rc && (tr_setopt_int(n->zap, ZMQ_LINGER, 0) ||
		    zmq_bind(n->zap, ZAP_ENDPOINT)))
		rc = tr_zerr(errno);
	if (rc) {
		wh_net_close(n);
		return rc;
	}
	*out = n;
	return WH_OK;
}

void wh_net_close(struct wh_net *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nlinks; i++)
		tr_link_free(n->links[i]);
	free(n->links);
	free(n->budget);
	tr_socket_close(&n->router, &n->rmon);
	if (n->zap)
		zmq_close(n->zap);
	if (n->ctx)
		zmq_ctx_term(n->ctx);
	for (size_t i = 0; i < n->nlisten; i++)
		free(n->listen[i]);
	free(n->listen);
	free(n->trust);
	free(n->trust_curve);
	free(n->items);
	free(n->itemlink);
	sodium_free(n->curve_sk);
	free(n);
}

static int router_open(struct wh_net *n)
{
	void *s = zmq_socket(n->ctx, ZMQ_ROUTER);
	if (!s)
		return tr_zerr(errno);
	int rc = tr_common_opts(n, s);
	if (!rc && (tr_setopt_int(s, ZMQ_CURVE_SERVER, 1) ||
		    zmq_setsockopt(s, ZMQ_ZAP_DOMAIN, ZAP_DOMAIN,
				   strlen(ZAP_DOMAIN)) ||
		    tr_setopt_int(s, ZMQ_ROUTER_MANDATORY, 1)))
		rc = tr_zerr(errno);
	void *mon = NULL;
	if (!rc)
		rc = tr_monitor_open(n, s, LISTEN_EVENTS, &mon);
	if (rc) {
		int e = errno;
		tr_socket_close(&s, &mon);
		errno = e;
		return rc;
	}
	n->router = s;
	n->rmon = mon;
	return WH_OK;
}

int wh_net_listen_set(struct wh_net *n, const char *const *eps, size_t k,
		      size_t *failed)
{
	*failed = 0;
	/* Unbind what is no longer wanted. */
	size_t j = 0;
	for (size_t i = 0; i < n->nlisten; i++) {
		size_t x;
		for (x = 0; x < k; x++)
			if (!strcmp(eps[x], n->listen[i]))
				break;
		if (x < k) {
			n->listen[j++] = n->listen[i];
			continue;
		}
		if (n->router)
			zmq_unbind(n->router, n->listen[i]);
		free(n->listen[i]);
	}
	n->nlisten = j;
	for (size_t x = 0; x < k; x++) {
		size_t i;
		for (i = 0; i < n->nlisten; i++)
			if (!strcmp(eps[x], n->listen[i]))
				break;
		if (i < n->nlisten)
			continue;
		int rc = n->router ? WH_OK : router_open(n);
		if (!rc && zmq_bind(n->router, eps[x]))
			rc = tr_zerr(errno);
		if (rc) {
			*failed = x;
			return rc;
		}
		n->listen = wh_xrealloc(n->listen,
					(n->nlisten + 1) * sizeof *n->listen);
		n->listen[n->nlisten++] =
			wh_xstrndup(eps[x], strlen(eps[x]));
	}
	return WH_OK;
}

int wh_net_dial_set(struct wh_net *n, const struct wh_net_dial *d, size_t k)
{
	for (size_t x = 0; x < k; x++) {
		if (!tr_trusted_by_pk(n, d[x].pk))
			return WH_ENOTFOUND;
		if (strncmp(d[x].endpoint, "tcp://", 6))
			return WH_EINVAL;
	}
	for (size_t i = 0; i < n->nlinks; i++) {
		struct link *l = n->links[i];
		if (!l->outbound)
			continue;
		size_t x;
		for (x = 0; x < k; x++)
			if (!memcmp(d[x].pk, l->peer.pk, WH_PK_BYTES) &&
			    !strcmp(d[x].endpoint, l->endpoint))
				break;
		if (x == k)
			tr_link_kill(n, l);
	}
	tr_sweep(n);
	for (size_t x = 0; x < k; x++) {
		size_t i;
		for (i = 0; i < n->nlinks; i++)
			if (n->links[i]->outbound &&
			    !memcmp(d[x].pk, n->links[i]->peer.pk,
				    WH_PK_BYTES) &&
			    !strcmp(d[x].endpoint, n->links[i]->endpoint))
				break;
		if (i < n->nlinks)
			continue;
		struct link *l =
			tr_link_new(n, tr_trusted_by_pk(n, d[x].pk), 1, d[x].endpoint);
		if (!l)
			return WH_EINVAL;
		int rc = tr_dialer_open(n, l);
		if (rc) {
			l->dead = 1;
			tr_sweep(n);
			return rc;
		}
	}
	return WH_OK;
}

/* ---- the turn ----------------------------------------------------- */

static void dial_monitor(struct wh_net *n, struct link *l)
{
	uint16_t ev;
	uint32_t val;
	for (int i = 0; i < WH_NET_DRAIN && l->mon; i++) {
		int r = monitor_read(l->mon, &ev, &val);
		if (r < 0)
			break;
		if (r > 0)
			continue;
		if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
			if (!l->up)
				tr_set_up(n, l);
		} else if (ev == ZMQ_EVENT_DISCONNECTED) {
			if (l->up) {
				tr_set_down(n, l);
			} else if (!l->refused_said) {
				l->refused_said = 1;
				tr_emit(n, WH_NET_REFUSED, l, NULL,
				     "connection closed during the handshake "
				     "(wrong key, or not a whistle agent?)",
				     0);
			}
		} else if (!l->refused_said) {
			l->refused_said = 1;
			tr_emit(n, WH_NET_REFUSED, l, NULL,
			     ev == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
				     ? "refused by the peer (is our key in "
				       "its trust list?)"
				     : "handshake failed (wrong key, or not "
				       "a whistle agent?)",
			     val);
		}
	}
}

static void router_monitor(struct wh_net *n)
{
	uint16_t ev;
	uint32_t val;
	for (int i = 0; i < WH_NET_DRAIN; i++) {
		int r = monitor_read(n->rmon, &ev, &val);
		if (r < 0)
			break;
		if (r > 0 || ev != ZMQ_EVENT_DISCONNECTED)
			continue;
		for (size_t j = 0; j < n->nlinks; j++) {
			struct link *l = n->links[j];
			if (!l->outbound && l->up && l->fd == (int)val) {
				l->fd = -1;
				tr_set_down(n, l);
			}
		}
	}
}

static void note_drop(struct wh_net *n, struct link *l)
{
	l->drop_pending++;
	tr_after(n, l, WH_OK);
}

static struct link *router_link(struct wh_net *n,
				const struct wh_net_peer *p)
{
	for (size_t j = 0; j < n->nlinks; j++)
		if (!n->links[j]->outbound && !n->links[j]->dead &&
		    !memcmp(n->links[j]->peer.pk, p->pk, WH_PK_BYTES))
			return n->links[j];
	return tr_link_new(n, p, 0, NULL);
}

/* Discard the rest of a multi-frame message; 1 if there was any. */
static int drain_more(void *s, zmq_msg_t *m)
{
	int extra = 0;
	while (zmq_msg_more(m)) {
		extra = 1;
		zmq_msg_close(m);
		zmq_msg_init(m);
		if (zmq_msg_recv(m, s, 0) < 0)
			break;
	}
	return extra;
}

static void router_one(struct wh_net *n, zmq_msg_t *rid, zmq_msg_t *msg)
{
	const char *uid = zmq_msg_gets(msg, "User-Id");
	uint8_t pk[WH_PK_BYTES];
	if (!uid || strlen(uid) != 2 * WH_PK_BYTES ||
	    wh_unhex(uid, pk, WH_PK_BYTES))
		return; /* ZAP always sets it: not from a CURVE peer */
	const struct wh_net_peer *p = tr_trusted_by_pk(n, pk);
	if (!p)
		return; /* untrusted since its handshake */
	struct link *l = router_link(n, p);
	if (!l)
		return;
	uint64_t now = tr_mono_ms();
	if (l->denied_until > now)
		return;
	size_t rn = zmq_msg_size(rid);
	if (rn == 0 || rn > sizeof l->rid)
		return;
	int fresh = !l->up || l->ridn != rn ||
		    memcmp(l->rid, zmq_msg_data(rid), rn);
	if (fresh) {
		/* A new connection from this peer: a new session round. */
		tr_set_down(n, l);
		memcpy(l->rid, zmq_msg_data(rid), rn);
		l->ridn = rn;
		l->fd = zmq_msg_get(msg, ZMQ_SRCFD);
		tr_set_up(n, l);
		if (!l->up)
			return; /* denied at HELLO time */
	}
	if (!tr_budget_take(n, l, zmq_msg_size(msg))) {
		note_drop(n, l);
		return;
	}
	tr_after(n, l,
	      wh_sync_recv(l->sync, zmq_msg_data(msg), zmq_msg_size(msg)));
}

static void router_drain(struct wh_net *n)
{
	for (int i = 0; i < WH_NET_DRAIN && n->router; i++) {
		zmq_msg_t rid, msg;
		zmq_msg_init(&rid);
		if (zmq_msg_recv(&rid, n->router, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&rid);
			break;
		}
		zmq_msg_init(&msg);
		if (!zmq_msg_more(&rid) ||
		    zmq_msg_recv(&msg, n->router, 0) < 0) {
			zmq_msg_close(&rid);
			zmq_msg_close(&msg);
			continue;
		}
		if (drain_more(n->router, &msg)) {
			/* One frame per message: the rest is garbage. The
			 * sender is unknown now, so it is just dropped. */
			zmq_msg_close(&rid);
			zmq_msg_close(&msg);
			continue;
		}
		router_one(n, &rid, &msg);
		zmq_msg_close(&rid);
		zmq_msg_close(&msg);
	}
}

static void dial_drain(struct wh_net *n, struct link *l)
{
	for (int i = 0; i < WH_NET_DRAIN && l->sock && l->up; i++) {
		if (tr_budget_wait(n, l) > 0)
			break; /* leave it queued: libzmq pushes back */
		zmq_msg_t msg;
		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, l->sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&msg);
			break;
		}
		if (drain_more(l->sock, &msg)) {
			zmq_msg_close(&msg);
			note_drop(n, l);
			continue;
		}
		if (tr_budget_take(n, l, zmq_msg_size(&msg)))
			tr_after(n, l,
			      wh_sync_recv(l->sync, zmq_msg_data(&msg),
					   zmq_msg_size(&msg)));
		zmq_msg_close(&msg);
	}
}

/* Due session timers, reopening of shut-out dialers, drop reports. */
static void timers(struct wh_net *n)
{
	uint64_t now = tr_mono_ms();
	for (size_t i = 0; i < n->nlinks; i++) {
		struct link *l = n->links[i];
		if (l->dead)
			continue;
		if (l->outbound && !l->sock && l->reopen_at &&
		    now >= l->reopen_at) {
			if (tr_dialer_open(n, l) != WH_OK)
				l->reopen_at = now + 5000; /* try again */
		}
		if (l->up && l->tick_at && now >= l->tick_at)
			tr_after(n, l, WH_OK); /* tr_after() ticks */
		else if (l->drop_pending && now >= l->drop_report_at)
			tr_after(n, l, WH_OK);
	}
}

/* ms until the earliest internal timer, or -1 if none. */
static int64_t next_timer(struct wh_net *n)
{
	uint64_t now = tr_mono_ms(), best = UINT64_MAX;
#define CONSIDER(t)                                                        \
	do {                                                               \
		uint64_t t_ = (t);                                         \
		if (t_ && t_ < best)                                       \
			best = t_;                                         \
	} while (0)
	for (size_t i = 0; i < n->nlinks; i++) {
		const struct link *l = n->links[i];
		if (l->up)
			CONSIDER(l->tick_at);
		if (l->outbound && !l->sock)
			CONSIDER(l->reopen_at);
		if (l->drop_pending)
			CONSIDER(l->drop_report_at ? l->drop_report_at : now);
		if (l->outbound && l->up) {
			uint64_t w = tr_budget_wait(n, l);
			if (w)
				CONSIDER(now + w);
		}
	}
#undef CONSIDER
	if (best == UINT64_MAX)
		return -1;
	return best > now ? (int64_t)(best - now) : 0;
}

enum { IT_ZAP, IT_ROUTER, IT_RMON, IT_DIAL, IT_DMON };

int wh_net_poll(struct wh_net *n, int fd, int64_t timeout_ms, int *fd_ready)
{
	struct wh_net_fd f = {fd, WH_NET_FD_IN, 0};
	int rc = wh_net_poll_fds(n, &f, fd >= 0 ? 1 : 0, timeout_ms);
	*fd_ready = (f.revents & WH_NET_FD_IN) != 0;
	return rc;
}

int wh_net_poll_fds(struct wh_net *n, struct wh_net_fd *fds, size_t nfds,
		    int64_t timeout_ms)
{
	size_t need = 3 + nfds + 2 * n->nlinks;
	if (need > n->capitems) {
		n->capitems = need;
		n->items = wh_xrealloc(n->items, need * sizeof *n->items);
		n->itemlink = wh_xrealloc(n->itemlink,
					  need * sizeof *n->itemlink);
	}
	int kind[3];
	size_t k = 0;
	/* The caller's fds first, then ZAP, router and its monitor (kind
	 * indexed from nfds), then each dialer and its monitor. */
	for (size_t i = 0; i < nfds; i++) {
		short ev = fds[i].fd < 0 ? 0 : (short)(((fds[i].events & WH_NET_FD_IN) ? ZMQ_POLLIN : 0) |
				   ((fds[i].events & WH_NET_FD_OUT) ? ZMQ_POLLOUT : 0));
		fds[i].revents = 0;
		n->items[k] = (zmq_pollitem_t){NULL, fds[i].fd, ev, 0};
		n->itemlink[k++] = NULL;
	}
#define ADD(s, f, ev, kd, l)                                               \
	do {                                                               \
		n->items[k] = (zmq_pollitem_t){s, f, ev, 0};               \
		n->itemlink[k] = (l);                                      \
		if (k - nfds < 3)                                          \
			kind[k - nfds] = (kd);                             \
		k++;                                                       \
	} while (0)
	ADD(n->zap, 0, ZMQ_POLLIN, IT_ZAP, NULL);
	if (n->router) {
		ADD(n->router, 0, ZMQ_POLLIN, IT_ROUTER, NULL);
		ADD(n->rmon, 0, ZMQ_POLLIN, IT_RMON, NULL);
	}
	size_t fixed = k;
	for (size_t i = 0; i < n->nlinks; i++) {
		struct link *l = n->links[i];
		if (!l->outbound || !l->sock)
			continue;
		/* A dialer over its budget is not read until it refills. */
		short ev = l->up && tr_budget_wait(n, l) == 0 ? ZMQ_POLLIN : 0;
		ADD(l->sock, 0, ev, IT_DIAL, l);
		ADD(l->mon, 0, ZMQ_POLLIN, IT_DMON, l);
	}
#undef ADD
	int64_t t = next_timer(n);
	if (t >= 0 && (timeout_ms < 0 || t < timeout_ms))
		timeout_ms = t;
	if (timeout_ms > 3600000)
		timeout_ms = 3600000;
	int r = zmq_poll(n->items, (int)k, (long)timeout_ms);
	if (r < 0) {
		if (errno == EINTR)
			return WH_OK;
		return WH_EIO;
	}
	for (size_t i = 0; i < nfds; i++) {
		short re = n->items[i].revents;
		fds[i].revents = (short)(((re & (ZMQ_POLLIN | ZMQ_POLLERR)) ? WH_NET_FD_IN : 0) |
					 ((re & ZMQ_POLLOUT) ? WH_NET_FD_OUT : 0));
	}
	for (size_t i = nfds; i < fixed; i++) {
		if (!(n->items[i].revents & ZMQ_POLLIN))
			continue;
		switch (kind[i - nfds]) {
		case IT_ZAP:
			for (int j = 0; j < WH_NET_DRAIN && !tr_zap_one(n); j++)
				;
			break;
		case IT_RMON: router_monitor(n); break;
		case IT_ROUTER: router_drain(n); break;
		}
	}
	/* Monitors first, so a link is up before its first message. */
	for (size_t i = fixed + 1; i < k; i += 2)
		if (n->items[i].revents & ZMQ_POLLIN)
			dial_monitor(n, n->itemlink[i]);
	for (size_t i = fixed; i < k; i += 2)
		if ((n->items[i].revents & ZMQ_POLLIN) || n->itemlink[i]->up)
			dial_drain(n, n->itemlink[i]);
	timers(n);
	tr_sweep(n);
	return WH_OK;
}

void wh_net_push(struct wh_net *n, const struct wh_slice *ops, size_t k,
		 const uint8_t *except_pk)
{
	for (size_t i = 0; i < n->nlinks; i++) {
		struct link *l = n->links[i];
		if (!l->up || l->dead || !l->hello_seen ||
		    (except_pk && !memcmp(l->peer.pk, except_pk, WH_PK_BYTES)))
			continue;
		tr_after(n, l, wh_sync_push(l->sync, ops, k));
	}
	tr_sweep(n);
}

void wh_net_push_roster(struct wh_net *n, const uint8_t *p, size_t len,
			const uint8_t *except_pk)
{
	for (size_t i = 0; i < n->nlinks; i++) {
		struct link *l = n->links[i];
		if (!l->up || l->dead || !l->hello_seen ||
		    (except_pk && !memcmp(l->peer.pk, except_pk, WH_PK_BYTES)))
			continue;
		wh_sync_push_roster(l->sync, p, len);
	}
	tr_sweep(n);
}

uint64_t tr_budget_of(const struct wh_net *n, const struct link *l)
{
	for (size_t i = 0; i < n->nbudget; i++)
		if (!memcmp(n->budget[i].pk, l->peer.pk, WH_PK_BYTES))
			return n->budget[i].bytes_per_h;
	return 0;
}

void wh_net_budget_set(struct wh_net *n, const struct wh_net_budget *b,
		       size_t k)
{
	free(n->budget);
	n->budget = NULL;
	n->nbudget = 0;
	if (k) {
		n->budget = wh_xmalloc(k * sizeof *b);
		memcpy(n->budget, b, k * sizeof *b);
		n->nbudget = k;
	}
	for (size_t i = 0; i < n->nlinks; i++)
		if (!n->links[i]->dead)
			wh_sync_budget(n->links[i]->sync,
				       tr_budget_of(n, n->links[i]));
}

void wh_net_interval_set(struct wh_net *n, uint32_t interval_ms)
{
	n->o.self.digest_interval_ms = interval_ms;
	for (size_t i = 0; i < n->nlinks; i++)
		if (!n->links[i]->dead)
			wh_sync_interval(n->links[i]->sync, interval_ms);
}

int wh_net_path_set(struct wh_net *n, const char *path)
{
	size_t k = path ? strlen(path) : 0;
	if (!k || k > WH_PATH_MAX || !wh_path_valid(path, k))
		return WH_EPATH;
	if (!strcmp(n->path, path))
		return WH_OK;
	memcpy(n->path, path, k + 1);
	for (size_t i = 0; i < n->nlinks; i++) {
		struct link *l = n->links[i];
		if (l->dead || wh_sync_set_path(l->sync, n->path) != WH_OK)
			continue;
		if (l->up) /* HELLO again: the peer answers with its own */
			tr_after(n, l, wh_sync_start(l->sync));
	}
	tr_sweep(n);
	return WH_OK;
}

int wh_net_each_link(struct wh_net *n,
		     int (*cb)(void *ctx, const struct wh_net_link_info *l),
		     void *ctx)
{
	for (size_t i = 0; i < n->nlinks; i++) {
		struct link *l = n->links[i];
		if (l->dead)
			continue;
		struct wh_sync_state st;
		wh_sync_get_state(l->sync, &st);
		struct wh_net_link_info info = {
			.peer = &l->peer,
			.endpoint = l->outbound ? l->endpoint : NULL,
			.outbound = l->outbound,
			.up = l->up,
			.idle = l->up && st.hello_done && wh_sync_idle(l->sync),
			.since_ms = l->since_ms,
			.st = &st,
		};
		int rc = cb(ctx, &info);
		if (rc)
			return rc;
	}
	return 0;
}


size_t wh_net_sync_now(struct wh_net *n)
{
	size_t up = 0;
	for (size_t i = 0; i < n->nlinks; i++) {
		struct link *l = n->links[i];
		if (!l->up || l->dead)
			continue;
		up++;
		if (l->hello_seen)
			tr_after(n, l, wh_sync_kick(l->sync));
	}
	tr_sweep(n);
	return up;
}
