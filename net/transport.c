/*
 * transport.c: sockets, ZAP, monitors and sessions (see transport.h).
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
#include "transport.h"

#include <zmq.h>
#include <sodium.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_MSG (WH_SYNC_MAX_MSG + (64u << 10))
#define HWM 1000
#define HB_IVL 5000
#define HB_TIMEOUT 15000
#define HB_TTL 30000
#define RECONNECT_MIN 500
#define RECONNECT_JITTER 1000
#define RECONNECT_MAX 30000
#define DROP_REPORT_MS 10000u
#define UNKNOWN_REPORT_MS 60000u
#define NUNKNOWN 64
#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_DOMAIN "whistle"
#define DIAL_EVENTS                                                        \
	(ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |          \
	 ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |                            \
	 ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |                             \
	 ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
#define LISTEN_EVENTS ZMQ_EVENT_DISCONNECTED

struct link {
	struct wh_net *net;
	struct wh_net_peer peer;
	int outbound;
	char endpoint[WH_NET_ENDPOINT_MAX + 1];
	void *sock, *mon; /* dialer only */
	uint8_t rid[256]; /* listener side: routing id and fd */
	size_t ridn;
	int fd;
	int up;
	uint64_t since_ms; /* wall clock */
	struct wh_sync *sync;
	uint64_t tick_at;     /* monotonic ms; 0: no timer */
	uint64_t reopen_at;   /* dialer shut by a denial: reopen then */
	uint64_t denied_until;
	int refused_said;     /* REFUSED reported since the last success */
	int hello_seen;
	double tok_msgs, tok_bytes;
	uint64_t tok_at;
	uint64_t seen_rounds, seen_dropped;
	int seen_in_sync;
	uint64_t drop_pending, drop_report_at;
	int gone; /* listener side: routing id unknown to the ROUTER */
	int dead; /* remove at the end of the turn */
};

struct unknown {
	uint8_t key[32];
	uint64_t at;
};

struct wh_net {
	struct wh_net_opts o;
	char path[WH_PATH_MAX + 1];
	uint8_t curve_pk[32];
	uint8_t *curve_sk; /* 32 bytes, sodium memory */
	void *ctx, *zap, *router, *rmon;
	char **listen;
	size_t nlisten;
	struct wh_net_peer *trust;
	uint8_t (*trust_curve)[32];
	size_t ntrust;
	struct link **links;
	size_t nlinks, caplinks;
	struct unknown unknown[NUNKNOWN];
	size_t unknown_next;
	unsigned monseq;
	zmq_pollitem_t *items;
	struct link **itemlink;
	size_t capitems;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t wall_ms(struct wh_net *n)
{
	return n->o.io.now_ms(n->o.io.ctx);
}

static int zerr(int e)
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

static void emit(struct wh_net *n, enum wh_net_event_kind kind,
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

static int setopt_int(void *s, int opt, int v)
{
	return zmq_setsockopt(s, opt, &v, sizeof v);
}

/* Bounds and keepalive every socket gets. */
static int common_opts(struct wh_net *n, void *s)
{
	int64_t maxmsg = MAX_MSG;
	int linger = n->o.linger_ms ? (int)n->o.linger_ms : 500;
	if (setopt_int(s, ZMQ_LINGER, linger) ||
	    setopt_int(s, ZMQ_SNDHWM, HWM) || setopt_int(s, ZMQ_RCVHWM, HWM) ||
	    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) ||
	    setopt_int(s, ZMQ_HEARTBEAT_IVL, HB_IVL) ||
	    setopt_int(s, ZMQ_HEARTBEAT_TIMEOUT, HB_TIMEOUT) ||
	    setopt_int(s, ZMQ_HEARTBEAT_TTL, HB_TTL) ||
	    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, n->curve_pk, 32) ||
	    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, n->curve_sk, 32))
		return zerr(errno);
	return WH_OK;
}

/* A PAIR connected to a fresh monitor of s, before s connects or binds
 * so that no event is lost. */
static int monitor_open(struct wh_net *n, void *s, int events, void **out)
{
	char ep[64];
	snprintf(ep, sizeof ep, "inproc://wh-monitor-%u", ++n->monseq);
	if (zmq_socket_monitor(s, ep, events))
		return zerr(errno);
	void *m = zmq_socket(n->ctx, ZMQ_PAIR);
	if (!m)
		return zerr(errno);
	setopt_int(m, ZMQ_LINGER, 0);
	if (zmq_connect(m, ep)) {
		int e = errno;
		zmq_close(m);
		return zerr(e);
	}
	*out = m;
	return WH_OK;
}

static void socket_close(void **s, void **mon)
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

/* ---- links -------------------------------------------------------- */

static int io_send(void *ctx, const uint8_t *msg, size_t len);

#define FWD (((struct link *)ctx)->net->o.io)
static int io_digest(void *ctx, const char *scope, uint8_t out[WH_ID_BYTES],
		     uint64_t *count)
{
	return FWD.digest(FWD.ctx, scope, out, count);
}
static int io_each_id(void *ctx, const char *scope,
		      int (*cb)(void *cbctx, const uint8_t id[WH_ID_BYTES]),
		      void *cbctx)
{
	return FWD.each_id(FWD.ctx, scope, cb, cbctx);
}
static int io_get_op(void *ctx, const uint8_t id[WH_ID_BYTES],
		     struct wh_buf *out)
{
	return FWD.get_op(FWD.ctx, id, out);
}
static int io_ingest(void *ctx, const uint8_t peer[WH_PK_BYTES],
		     const char *scope, const struct wh_slice *ops, size_t k,
		     int *results, size_t *added, size_t *refused)
{
	return FWD.ingest(FWD.ctx, peer, scope, ops, k, results, added,
			  refused);
}
static uint64_t io_now(void *ctx) { return FWD.now_ms(FWD.ctx); }
static void io_random(void *ctx, uint8_t *out, size_t k)
{
	FWD.random(FWD.ctx, out, k);
}
#undef FWD

static int session_new(struct wh_net *n, struct link *l)
{
	struct wh_sync_io io = {
		.ctx = l, .digest = io_digest, .each_id = io_each_id,
		.get_op = io_get_op, .ingest = io_ingest, .send = io_send,
		.now_ms = io_now, .random = io_random,
	};
	struct wh_sync_self self = n->o.self;
	self.path = n->path;
	return wh_sync_new(&io, &self, l->peer.pk, &l->sync);
}

static struct link *link_new(struct wh_net *n, const struct wh_net_peer *p,
			     int outbound, const char *endpoint)
{
	struct link *l = wh_xcalloc(1, sizeof *l);
	l->net = n;
	l->peer = *p;
	l->outbound = outbound;
	l->fd = -1;
	if (endpoint)
		snprintf(l->endpoint, sizeof l->endpoint, "%s", endpoint);
	l->since_ms = wall_ms(n);
	if (session_new(n, l) != WH_OK) {
		free(l);
		return NULL;
	}
	if (n->nlinks == n->caplinks) {
		n->caplinks = n->caplinks ? 2 * n->caplinks : 8;
		n->links = wh_xrealloc(n->links,
				       n->caplinks * sizeof *n->links);
	}
	n->links[n->nlinks++] = l;
	return l;
}

static void set_down(struct wh_net *n, struct link *l)
{
	if (!l->up)
		return;
	l->up = 0;
	l->hello_seen = 0;
	l->seen_in_sync = 0;
	l->tick_at = 0;
	l->since_ms = wall_ms(n);
	struct wh_sync_state st;
	wh_sync_get_state(l->sync, &st);
	emit(n, WH_NET_DOWN, l, &st, NULL, 0);
}

/* Close a link for good (at the end of the turn). */
static void link_kill(struct wh_net *n, struct link *l)
{
	set_down(n, l);
	l->dead = 1;
}

static void link_free(struct link *l)
{
	socket_close(&l->sock, &l->mon);
	wh_sync_free(l->sync);
	free(l);
}

static void sweep(struct wh_net *n)
{
	size_t j = 0;
	for (size_t i = 0; i < n->nlinks; i++) {
		if (n->links[i]->dead)
			link_free(n->links[i]);
		else
			n->links[j++] = n->links[i];
	}
	n->nlinks = j;
}

static int dialer_open(struct wh_net *n, struct link *l)
{
	uint8_t server[32];
	if (wh_net_curve_pk(l->peer.pk, server) != WH_OK)
		return WH_EKEY;
	void *s = zmq_socket(n->ctx, ZMQ_DEALER);
	if (!s)
		return zerr(errno);
	/* Jitter spreads the reconnects of a street's stations after the
	 * hub comes back; libzmq doubles the interval up to the max. */
	int ivl = RECONNECT_MIN + (int)randombytes_uniform(RECONNECT_JITTER);
	int rc = common_opts(n, s);
	if (!rc && (zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server, 32) ||
		    setopt_int(s, ZMQ_RECONNECT_IVL, ivl) ||
		    setopt_int(s, ZMQ_RECONNECT_IVL_MAX, RECONNECT_MAX) ||
		    setopt_int(s, ZMQ_IMMEDIATE, 1)))
		rc = zerr(errno);
	void *mon = NULL;
	if (!rc)
		rc = monitor_open(n, s, DIAL_EVENTS, &mon);
	if (!rc && zmq_connect(s, l->endpoint))
		rc = zerr(errno);
	if (rc) {
		int e = errno;
		socket_close(&s, &mon);
		errno = e;
		return rc;
	}
	l->sock = s;
	l->mon = mon;
	l->reopen_at = 0;
	return WH_OK;
}

/* Shut a peer out for deny_ms: a dialer closes its socket and dials
 * again later; a listener-side link drops what the peer sends and ZAP
 * refuses its new connections meanwhile. */
static void deny(struct wh_net *n, struct link *l, const char *why)
{
	uint32_t ms = n->o.deny_ms ? n->o.deny_ms : WH_NET_DENY_MS;
	uint64_t now = mono_ms();
	l->denied_until = now + ms;
	emit(n, WH_NET_DENIED, l, NULL, why, ms);
	set_down(n, l);
	if (l->outbound) {
		socket_close(&l->sock, &l->mon);
		l->reopen_at = now + ms;
	}
}

/* Report what a session step changed: HELLO, finished rounds, drops. */
static void after(struct wh_net *n, struct link *l, int rc)
{
	if (l->gone) {
		/* The ROUTER no longer knows its routing id. */
		l->gone = 0;
		set_down(n, l);
	}
	if (rc == WH_EDENIED) {
		deny(n, l, "too many malformed or unexpected messages");
		return;
	}
	if (rc != WH_OK)
		emit(n, WH_NET_ERROR, l, NULL, wh_strerror(rc),
		     (uint64_t)(int64_t)rc);
	struct wh_sync_state st;
	wh_sync_get_state(l->sync, &st);
	if (st.hello_done && !l->hello_seen) {
		l->hello_seen = 1;
		/* The trust list says where the peer sits; a peer claiming a
		 * wider scope would be handed cases that are not its own. */
		if (!wh_path_within(st.peer_path, strlen(st.peer_path),
				    l->peer.path, strlen(l->peer.path))) {
			char why[2 * WH_PATH_MAX + 64];
			snprintf(why, sizeof why,
				 "claims path %s but is trusted for %s",
				 st.peer_path, l->peer.path);
			deny(n, l, why);
			return;
		}
		emit(n, WH_NET_HELLO, l, &st, NULL, 0);
	}
	if (st.stats.rounds != l->seen_rounds ||
	    st.in_sync != l->seen_in_sync) {
		l->seen_rounds = st.stats.rounds;
		l->seen_in_sync = st.in_sync;
		emit(n, WH_NET_ROUND, l, &st, NULL, st.stats.rounds);
	}
	if (st.stats.dropped != l->seen_dropped) {
		l->drop_pending += st.stats.dropped - l->seen_dropped;
		l->seen_dropped = st.stats.dropped;
	}
	uint64_t now = mono_ms();
	if (l->drop_pending && now >= l->drop_report_at) {
		emit(n, WH_NET_DROPPED, l, &st, NULL, l->drop_pending);
		l->drop_pending = 0;
		l->drop_report_at = now + DROP_REPORT_MS;
	}
	if (l->up && !l->dead)
		l->tick_at = now + wh_sync_tick(l->sync);
}

static void set_up(struct wh_net *n, struct link *l)
{
	l->up = 1;
	l->gone = 0;
	l->hello_seen = 0;
	l->refused_said = 0;
	l->since_ms = wall_ms(n);
	l->tok_at = mono_ms();
	l->tok_msgs = n->o.msgs_per_s ? n->o.msgs_per_s : 1000;
	l->tok_bytes = n->o.bytes_per_s ? n->o.bytes_per_s : (32u << 20);
	l->tok_msgs *= 2; /* start with a full bucket (2 s of budget) */
	l->tok_bytes *= 2;
	struct wh_sync_state st;
	wh_sync_get_state(l->sync, &st);
	emit(n, WH_NET_UP, l, &st, NULL, 0);
	after(n, l, wh_sync_start(l->sync));
}

static int io_send(void *ctx, const uint8_t *msg, size_t len)
{
	struct link *l = ctx;
	struct wh_net *n = l->net;
	if (!l->up || l->dead)
		return WH_EBUSY;
	if (l->outbound) {
		if (!l->sock)
			return WH_EBUSY;
		if (zmq_send(l->sock, msg, len, ZMQ_DONTWAIT) < 0)
			return zerr(errno);
		return WH_OK;
	}
	if (!n->router)
		return WH_EBUSY;
	if (zmq_send(n->router, l->rid, l->ridn, ZMQ_DONTWAIT | ZMQ_SNDMORE) <
	    0) {
		if (errno == EHOSTUNREACH) {
			l->gone = 1; /* connection gone: set down after */
			return WH_EBUSY;
		}
		return zerr(errno);
	}
	/* Once the routing frame is queued the rest goes too. */
	if (zmq_send(n->router, msg, len, ZMQ_DONTWAIT) < 0)
		return zerr(errno);
	return WH_OK;
}

/* Spend one message of the peer's budget; 0 if there is none left. */
static int budget_take(struct wh_net *n, struct link *l, size_t bytes)
{
	double mr = n->o.msgs_per_s ? n->o.msgs_per_s : 1000;
	double br = n->o.bytes_per_s ? n->o.bytes_per_s : (32u << 20);
	uint64_t now = mono_ms();
	double dt = (double)(now - l->tok_at) / 1000.0;
	l->tok_at = now;
	l->tok_msgs += dt * mr;
	l->tok_bytes += dt * br;
	if (l->tok_msgs > 2 * mr)
		l->tok_msgs = 2 * mr;
	if (l->tok_bytes > 2 * br)
		l->tok_bytes = 2 * br;
	if (l->tok_msgs < 1 || l->tok_bytes < 0)
		return 0;
	l->tok_msgs -= 1;
	l->tok_bytes -= (double)bytes; /* may go negative: one big message */
	return 1;
}

/* ms until the budget allows a message again (0: now). */
static uint64_t budget_wait(struct wh_net *n, const struct link *l)
{
	double mr = n->o.msgs_per_s ? n->o.msgs_per_s : 1000;
	double br = n->o.bytes_per_s ? n->o.bytes_per_s : (32u << 20);
	double dt = (double)(mono_ms() - l->tok_at) / 1000.0;
	double m = l->tok_msgs + dt * mr, b = l->tok_bytes + dt * br;
	double wait = 0;
	if (m < 1)
		wait = (1 - m) / mr;
	if (b < 0 && -b / br > wait)
		wait = -b / br;
	return (uint64_t)(wait * 1000.0) + (wait > 0);
}

/* ---- trust and ZAP ------------------------------------------------ */

static const struct wh_net_peer *trusted_by_pk(const struct wh_net *n,
					       const uint8_t pk[WH_PK_BYTES])
{
	for (size_t i = 0; i < n->ntrust; i++)
		if (!memcmp(n->trust[i].pk, pk, WH_PK_BYTES))
			return &n->trust[i];
	return NULL;
}

int wh_net_trust_set(struct wh_net *n, const struct wh_net_peer *peers,
		     size_t k)
{
	uint8_t (*curve)[32] = wh_xcalloc(k ? k : 1, 32);
	for (size_t i = 0; i < k; i++)
		if (wh_net_curve_pk(peers[i].pk, curve[i]) != WH_OK) {
			free(curve);
			return WH_EKEY;
		}
	struct wh_net_peer *copy = wh_xcalloc(k ? k : 1, sizeof *copy);
	if (k)
		memcpy(copy, peers, k * sizeof *copy);
	free(n->trust);
	free(n->trust_curve);
	n->trust = copy;
	n->trust_curve = curve;
	n->ntrust = k;
	for (size_t i = 0; i < n->nlinks; i++) {
		struct link *l = n->links[i];
		const struct wh_net_peer *p = trusted_by_pk(n, l->peer.pk);
		if (!p || p->role != l->peer.role ||
		    strcmp(p->path, l->peer.path)) {
			link_kill(n, l);
			continue;
		}
		l->peer = *p; /* a new name or endpoint: no reconnect */
	}
	sweep(n);
	return WH_OK;
}

static void zap_unknown(struct wh_net *n, const uint8_t key[32],
			const char *address)
{
	uint64_t now = mono_ms();
	for (size_t i = 0; i < NUNKNOWN; i++) {
		struct unknown *u = &n->unknown[i];
		if (u->at && !memcmp(u->key, key, 32)) {
			if (now - u->at < UNKNOWN_REPORT_MS)
				return;
			u->at = now;
			goto say;
		}
	}
	memcpy(n->unknown[n->unknown_next].key, key, 32);
	n->unknown[n->unknown_next].at = now;
	n->unknown_next = (n->unknown_next + 1) % NUNKNOWN;
say:;
	char hex[65], text[200];
	wh_hex(key, 32, hex);
	snprintf(text, sizeof text, "curve key %s from %s", hex, address);
	emit(n, WH_NET_UNKNOWN_KEY, NULL, NULL, text, 0);
}

/* One ZAP request (RFC 27): version, request id, domain, address,
 * identity, mechanism, credentials; answer 200 with the Ed25519 key as
 * User-Id for a trusted CURVE key that is not shut out, else 400. */
static int zap_one(struct wh_net *n)
{
	zmq_msg_t f[8];
	int nf = 0, more = 1;
	while (more) {
		zmq_msg_t m;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, n->zap, nf ? 0 : ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m);
			if (nf == 0)
				return -1;
			break;
		}
		more = zmq_msg_more(&m);
		if (nf < 8)
			f[nf++] = m;
		else
			zmq_msg_close(&m);
	}
	const char *status = "400", *text = "not trusted";
	char uid[2 * WH_PK_BYTES + 1] = "";
	if (nf >= 7 && zmq_msg_size(&f[0]) == 3 &&
	    !memcmp(zmq_msg_data(&f[0]), "1.0", 3) &&
	    zmq_msg_size(&f[5]) == 5 &&
	    !memcmp(zmq_msg_data(&f[5]), "CURVE", 5) &&
	    zmq_msg_size(&f[6]) == 32) {
		const uint8_t *key = zmq_msg_data(&f[6]);
		size_t i;
		for (i = 0; i < n->ntrust; i++)
			if (!memcmp(n->trust_curve[i], key, 32))
				break;
		if (i < n->ntrust) {
			struct link *l = NULL;
			for (size_t j = 0; j < n->nlinks; j++)
				if (!n->links[j]->outbound &&
				    !memcmp(n->links[j]->peer.pk,
					    n->trust[i].pk, WH_PK_BYTES))
					l = n->links[j];
			if (l && l->denied_until > mono_ms()) {
				text = "shut out for a while";
			} else {
				status = "200";
				text = "OK";
				wh_hex(n->trust[i].pk, WH_PK_BYTES, uid);
			}
		} else {
			char addr[64] = "?";
			size_t an = zmq_msg_size(&f[3]);
			if (an >= sizeof addr)
				an = sizeof addr - 1;
			if (an) {
				memcpy(addr, zmq_msg_data(&f[3]), an);
				addr[an] = '\0';
			}
			zap_unknown(n, key, addr);
		}
	}
	/* REP must answer every request, even a malformed one. */
	if (nf >= 2) {
		zmq_send(n->zap, "1.0", 3, ZMQ_SNDMORE);
		zmq_send(n->zap, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]),
			 ZMQ_SNDMORE);
	} else {
		zmq_send(n->zap, "1.0", 3, ZMQ_SNDMORE);
		zmq_send(n->zap, "", 0, ZMQ_SNDMORE);
	}
	zmq_send(n->zap, status, 3, ZMQ_SNDMORE);
	zmq_send(n->zap, text, strlen(text), ZMQ_SNDMORE);
	zmq_send(n->zap, uid, strlen(uid), ZMQ_SNDMORE);
	zmq_send(n->zap, "", 0, 0);
	for (int i = 0; i < nf; i++)
		zmq_msg_close(&f[i]);
	return 0;
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
		rc = zerr(errno);
	/* The ZAP handler must be bound before any CURVE server exists,
	 * or libzmq would let every client in. */
	if (!rc && !(n->zap = zmq_socket(n->ctx, ZMQ_REP)))
		rc = zerr(errno);
	if (!rc && (setopt_int(n->zap, ZMQ_LINGER, 0) ||
		    zmq_bind(n->zap, ZAP_ENDPOINT)))
		rc = zerr(errno);
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
		link_free(n->links[i]);
	free(n->links);
	socket_close(&n->router, &n->rmon);
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
		return zerr(errno);
	int rc = common_opts(n, s);
	if (!rc && (setopt_int(s, ZMQ_CURVE_SERVER, 1) ||
		    zmq_setsockopt(s, ZMQ_ZAP_DOMAIN, ZAP_DOMAIN,
				   strlen(ZAP_DOMAIN)) ||
		    setopt_int(s, ZMQ_ROUTER_MANDATORY, 1)))
		rc = zerr(errno);
	void *mon = NULL;
	if (!rc)
		rc = monitor_open(n, s, LISTEN_EVENTS, &mon);
	if (rc) {
		int e = errno;
		socket_close(&s, &mon);
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
			rc = zerr(errno);
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
		if (!trusted_by_pk(n, d[x].pk))
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
			link_kill(n, l);
	}
	sweep(n);
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
			link_new(n, trusted_by_pk(n, d[x].pk), 1, d[x].endpoint);
		if (!l)
			return WH_EINVAL;
		int rc = dialer_open(n, l);
		if (rc) {
			l->dead = 1;
			sweep(n);
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
				set_up(n, l);
		} else if (ev == ZMQ_EVENT_DISCONNECTED) {
			if (l->up) {
				set_down(n, l);
			} else if (!l->refused_said) {
				l->refused_said = 1;
				emit(n, WH_NET_REFUSED, l, NULL,
				     "connection closed during the handshake "
				     "(wrong key, or not a whistle agent?)",
				     0);
			}
		} else if (!l->refused_said) {
			l->refused_said = 1;
			emit(n, WH_NET_REFUSED, l, NULL,
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
				set_down(n, l);
			}
		}
	}
}

static void note_drop(struct wh_net *n, struct link *l)
{
	l->drop_pending++;
	after(n, l, WH_OK);
}

static struct link *router_link(struct wh_net *n,
				const struct wh_net_peer *p)
{
	for (size_t j = 0; j < n->nlinks; j++)
		if (!n->links[j]->outbound && !n->links[j]->dead &&
		    !memcmp(n->links[j]->peer.pk, p->pk, WH_PK_BYTES))
			return n->links[j];
	return link_new(n, p, 0, NULL);
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
	const struct wh_net_peer *p = trusted_by_pk(n, pk);
	if (!p)
		return; /* untrusted since its handshake */
	struct link *l = router_link(n, p);
	if (!l)
		return;
	uint64_t now = mono_ms();
	if (l->denied_until > now)
		return;
	size_t rn = zmq_msg_size(rid);
	if (rn == 0 || rn > sizeof l->rid)
		return;
	int fresh = !l->up || l->ridn != rn ||
		    memcmp(l->rid, zmq_msg_data(rid), rn);
	if (fresh) {
		/* A new connection from this peer: a new session round. */
		set_down(n, l);
		memcpy(l->rid, zmq_msg_data(rid), rn);
		l->ridn = rn;
		l->fd = zmq_msg_get(msg, ZMQ_SRCFD);
		set_up(n, l);
		if (!l->up)
			return; /* denied at HELLO time */
	}
	if (!budget_take(n, l, zmq_msg_size(msg))) {
		note_drop(n, l);
		return;
	}
	after(n, l,
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
		if (budget_wait(n, l) > 0)
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
		if (budget_take(n, l, zmq_msg_size(&msg)))
			after(n, l,
			      wh_sync_recv(l->sync, zmq_msg_data(&msg),
					   zmq_msg_size(&msg)));
		zmq_msg_close(&msg);
	}
}

/* Due session timers, reopening of shut-out dialers, drop reports. */
static void timers(struct wh_net *n)
{
	uint64_t now = mono_ms();
	for (size_t i = 0; i < n->nlinks; i++) {
		struct link *l = n->links[i];
		if (l->dead)
			continue;
		if (l->outbound && !l->sock && l->reopen_at &&
		    now >= l->reopen_at) {
			if (dialer_open(n, l) != WH_OK)
				l->reopen_at = now + 5000; /* try again */
		}
		if (l->up && l->tick_at && now >= l->tick_at)
			after(n, l, WH_OK); /* after() ticks */
		else if (l->drop_pending && now >= l->drop_report_at)
			after(n, l, WH_OK);
	}
}

/* ms until the earliest internal timer, or -1 if none. */
static int64_t next_timer(struct wh_net *n)
{
	uint64_t now = mono_ms(), best = UINT64_MAX;
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
			uint64_t w = budget_wait(n, l);
			if (w)
				CONSIDER(now + w);
		}
	}
#undef CONSIDER
	if (best == UINT64_MAX)
		return -1;
	return best > now ? (int64_t)(best - now) : 0;
}

enum { IT_FD, IT_ZAP, IT_ROUTER, IT_RMON, IT_DIAL, IT_DMON };

int wh_net_poll(struct wh_net *n, int fd, int64_t timeout_ms, int *fd_ready)
{
	*fd_ready = 0;
	size_t need = 4 + 2 * n->nlinks;
	if (need > n->capitems) {
		n->capitems = need;
		n->items = wh_xrealloc(n->items, need * sizeof *n->items);
		n->itemlink = wh_xrealloc(n->itemlink,
					  need * sizeof *n->itemlink);
	}
	int kind[4];
	size_t k = 0;
#define ADD(s, f, ev, kd, l)                                               \
	do {                                                               \
		n->items[k] = (zmq_pollitem_t){s, f, ev, 0};               \
		n->itemlink[k] = (l);                                      \
		if (k < 4)                                                 \
			kind[k] = (kd);                                    \
		k++;                                                       \
	} while (0)
	if (fd >= 0)
		ADD(NULL, fd, ZMQ_POLLIN, IT_FD, NULL);
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
		short ev = l->up && budget_wait(n, l) == 0 ? ZMQ_POLLIN : 0;
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
	for (size_t i = 0; i < fixed; i++) {
		if (!(n->items[i].revents & ZMQ_POLLIN))
			continue;
		switch (kind[i]) {
		case IT_FD: *fd_ready = 1; break;
		case IT_ZAP:
			for (int j = 0; j < WH_NET_DRAIN && !zap_one(n); j++)
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
	sweep(n);
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
		after(n, l, wh_sync_push(l->sync, ops, k));
	}
	sweep(n);
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
