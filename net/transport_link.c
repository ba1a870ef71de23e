/*
 * transport_link.c: links and what hangs on them: the sync session of
 * each link and its io (sends through the link's socket, everything else
 * forwarded to the agent), link up/down and denial, per-peer budgets,
 * the trust list and the ZAP handler that admits only trusted keys.
 * Invariants are in transport.c's header comment.
 */
#include "transport_int.h"

#include <sodium.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
static int io_case_reached(void *ctx, const char *code, uint32_t seq,
			   const char *scope)
{
	return FWD.case_reached(FWD.ctx, code, seq, scope);
}
static int io_blobs_wanted(void *ctx, const char *scope,
			   int (*cb)(void *, const uint8_t *, uint64_t),
			   void *cbctx)
{
	return FWD.blobs_wanted(FWD.ctx, scope, cb, cbctx);
}
static int io_blob_get(void *ctx, const uint8_t hash[WH_ID_BYTES],
		       const char *scope, uint64_t off, size_t max,
		       struct wh_buf *out, uint64_t *size)
{
	return FWD.blob_get(FWD.ctx, hash, scope, off, max, out, size);
}
static int io_blob_part(void *ctx, const uint8_t hash[WH_ID_BYTES],
			uint64_t size, uint64_t off, const uint8_t *p,
			size_t k)
{
	return FWD.blob_part(FWD.ctx, hash, size, off, p, k);
}
static int io_roster_each(void *ctx,
			  int (*cb)(void *, const uint8_t *, uint64_t,
				    const uint8_t *, size_t),
			  void *cbctx)
{
	return FWD.roster_each(FWD.ctx, cb, cbctx);
}
static int io_roster_put(void *ctx, const uint8_t peer[WH_PK_BYTES],
			 const uint8_t *p, size_t k)
{
	return FWD.roster_put(FWD.ctx, peer, p, k);
}
static int io_urgent_scope(void *ctx, const char *scope)
{
	return FWD.urgent_scope(FWD.ctx, scope);
}
static int io_op_urgent(void *ctx, const uint8_t *op, size_t k)
{
	return FWD.op_urgent(FWD.ctx, op, k);
}
static int io_may_claim(void *ctx, const char *trusted, const char *claimed)
{
	return FWD.may_claim(FWD.ctx, trusted, claimed);
}
static uint64_t io_now(void *ctx) { return FWD.now_ms(FWD.ctx); }
static void io_random(void *ctx, uint8_t *out, size_t k)
{
	FWD.random(FWD.ctx, out, k);
}
#undef FWD

static int session_new(struct wh_net *n, struct link *l)
{
	/* Every callback the agent gave, seen through the link (ctx); the
	 * optional ones only if given. */
	const struct wh_sync_io *a = &n->o.io;
	struct wh_sync_io io = {
		.ctx = l, .digest = io_digest, .each_id = io_each_id,
		.get_op = io_get_op, .ingest = io_ingest, .send = io_send,
		.now_ms = io_now, .random = io_random,
		.case_reached = a->case_reached ? io_case_reached : NULL,
		.blobs_wanted = a->blobs_wanted ? io_blobs_wanted : NULL,
		.blob_get = a->blob_get ? io_blob_get : NULL,
		.blob_part = a->blob_part ? io_blob_part : NULL,
		.roster_each = a->roster_each ? io_roster_each : NULL,
		.roster_put = a->roster_put ? io_roster_put : NULL,
		.urgent_scope = a->urgent_scope ? io_urgent_scope : NULL,
		.op_urgent = a->op_urgent ? io_op_urgent : NULL,
		.may_claim = a->may_claim ? io_may_claim : NULL,
	};
	struct wh_sync_self self = n->o.self;
	self.path = n->path;
	int rc = wh_sync_new(&io, &self, l->peer.pk, &l->sync);
	if (rc == WH_OK)
		wh_sync_budget(l->sync, tr_budget_of(n, l));
	return rc;
}

struct link *tr_link_new(struct wh_net *n, const struct wh_net_peer *p,
			     int outbound, const char *endpoint)
{
	struct link *l = wh_xcalloc(1, sizeof *l);
	l->net = n;
	l->peer = *p;
	l->outbound = outbound;
	l->fd = -1;
	if (endpoint)
		snprintf(l->endpoint, sizeof l->endpoint, "%s", endpoint);
	l->since_ms = tr_wall_ms(n);
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

void tr_set_down(struct wh_net *n, struct link *l)
{
	if (!l->up)
		return;
	l->up = 0;
	l->hello_seen = 0;
	l->seen_in_sync = 0;
	l->tick_at = 0;
	l->since_ms = tr_wall_ms(n);
	struct wh_sync_state st;
	wh_sync_get_state(l->sync, &st);
	tr_emit(n, WH_NET_DOWN, l, &st, NULL, 0);
}

/* Close a link for good (at the end of the turn). */
void tr_link_kill(struct wh_net *n, struct link *l)
{
	tr_set_down(n, l);
	l->dead = 1;
}

void tr_link_free(struct link *l)
{
	tr_socket_close(&l->sock, &l->mon);
	wh_sync_free(l->sync);
	free(l);
}

void tr_sweep(struct wh_net *n)
{
	size_t j = 0;
	for (size_t i = 0; i < n->nlinks; i++) {
		if (n->links[i]->dead)
			tr_link_free(n->links[i]);
		else
			n->links[j++] = n->links[i];
	}
	n->nlinks = j;
}

int tr_dialer_open(struct wh_net *n, struct link *l)
{
	uint8_t server[32];
	if (wh_net_curve_pk(l->peer.pk, server) != WH_OK)
		return WH_EKEY;
	void *s = zmq_socket(n->ctx, ZMQ_DEALER);
	if (!s)
		return tr_zerr(errno);
	/* Jitter spreads the reconnects of a street's stations after the
	 * hub comes back; libzmq doubles the interval up to the max. */
	int ivl = RECONNECT_MIN + (int)randombytes_uniform(RECONNECT_JITTER);
	int rc = tr_common_opts(n, s);
	if (!rc && (zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server, 32) ||
		    tr_setopt_int(s, ZMQ_RECONNECT_IVL, ivl) ||
		    tr_setopt_int(s, ZMQ_RECONNECT_IVL_MAX, RECONNECT_MAX) ||
		    tr_setopt_int(s, ZMQ_IMMEDIATE, 1)))
		rc = tr_zerr(errno);
	void *mon = NULL;
	if (!rc)
		rc = tr_monitor_open(n, s, DIAL_EVENTS, &mon);
	if (!rc && zmq_connect(s, l->endpoint))
		rc = tr_zerr(errno);
	if (rc) {
		int e = errno;
		tr_socket_close(&s, &mon);
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
	uint64_t now = tr_mono_ms();
	l->denied_until = now + ms;
	tr_emit(n, WH_NET_DENIED, l, NULL, why, ms);
	tr_set_down(n, l);
	if (l->outbound) {
		tr_socket_close(&l->sock, &l->mon);
		l->reopen_at = now + ms;
	}
}

/* Whether claimed is trusted's parent (a community's street). */
static int street_of(const char *trusted, const char *claimed)
{
	size_t tn = strlen(trusted), cn = strlen(claimed);
	return cn && cn < tn && trusted[cn] == '/' &&
	       !memcmp(trusted, claimed, cn) &&
	       !memchr(trusted + cn + 1, '/', tn - cn - 1);
}

/* Report what a session step changed: HELLO, finished rounds, drops. */
void tr_after(struct wh_net *n, struct link *l, int rc)
{
	if (l->gone) {
		/* The ROUTER no longer knows its routing id. */
		l->gone = 0;
		tr_set_down(n, l);
	}
	if (rc == WH_EDENIED) {
		deny(n, l, "too many malformed, forged or refused messages");
		return;
	}
	if (rc != WH_OK)
		tr_emit(n, WH_NET_ERROR, l, NULL, wh_strerror(rc),
		     (uint64_t)(int64_t)rc);
	struct wh_sync_state st;
	wh_sync_get_state(l->sync, &st);
	uint64_t mono = tr_mono_ms();
	int wide = st.hello_done &&
		   !wh_path_within(st.peer_path, strlen(st.peer_path),
				   l->peer.path, strlen(l->peer.path));
	if (st.hello_done &&
	    (!l->hello_seen || strcmp(st.peer_path, l->claim) ||
	     (wide && mono >= l->claim_check_at))) {
		int first = !l->hello_seen || strcmp(st.peer_path, l->claim);
		l->hello_seen = 1;
		snprintf(l->claim, sizeof l->claim, "%s", st.peer_path);
		l->claim_check_at = mono + CLAIM_CHECK_MS;
		/* The trust list says where the peer sits; a peer claiming a
		 * wider scope would be handed cases that are not its own,
		 * unless the io allows it now (neighbour relay in an
		 * emergency: asked again while the claim stands). */
		/* Only a community station relays (its street). */
		int ok = !wide || (l->peer.role == WH_ROLE_STATION &&
				   n->o.io.may_claim &&
				   n->o.io.may_claim(n->o.io.ctx, l->peer.path,
						     st.peer_path) == 1);
		if (!ok && l->peer.role == WH_ROLE_STATION &&
		    street_of(l->peer.path, st.peer_path)) {
			/* Relay-shaped, not admitted (yet): take what the
			 * peer hands over (the emergency that admits it),
			 * give nothing. */
			if (first || !l->held)
				tr_emit(n, WH_NET_HELLO, l, &st, "held", 0);
			l->held = 1;
			wh_sync_hold(l->sync, 1);
			goto claims_done;
		}
		if (l->held && ok) {
			l->held = 0;
			wh_sync_hold(l->sync, 0);
			first = 1; /* say what it shares now */
		}
		if (!ok) {
			char why[2 * WH_PATH_MAX + 64];
			snprintf(why, sizeof why,
				 "claims path %s but is trusted for %s",
				 st.peer_path, l->peer.path);
			l->claim[0] = '\0';
			deny(n, l, why);
			return;
		}
		if (first)
			tr_emit(n, WH_NET_HELLO, l, &st, NULL, 0);
	}
claims_done:
	if (st.stats.rounds != l->seen_rounds ||
	    st.in_sync != l->seen_in_sync) {
		l->seen_rounds = st.stats.rounds;
		l->seen_in_sync = st.in_sync;
		tr_emit(n, WH_NET_ROUND, l, &st, NULL, st.stats.rounds);
	}
	if (st.stats.dropped != l->seen_dropped) {
		l->drop_pending += st.stats.dropped - l->seen_dropped;
		l->seen_dropped = st.stats.dropped;
	}
	uint64_t now = tr_mono_ms();
	if (l->drop_pending && now >= l->drop_report_at) {
		tr_emit(n, WH_NET_DROPPED, l, &st, NULL, l->drop_pending);
		l->drop_pending = 0;
		l->drop_report_at = now + DROP_REPORT_MS;
	}
	if (l->up && !l->dead)
		l->tick_at = now + wh_sync_tick(l->sync);
}

void tr_set_up(struct wh_net *n, struct link *l)
{
	l->up = 1;
	l->gone = 0;
	l->hello_seen = 0;
	l->refused_said = 0;
	l->since_ms = tr_wall_ms(n);
	l->tok_at = tr_mono_ms();
	l->tok_msgs = n->o.msgs_per_s ? n->o.msgs_per_s : 1000;
	l->tok_bytes = n->o.bytes_per_s ? n->o.bytes_per_s : (32u << 20);
	l->tok_msgs *= 2; /* start with a full bucket (2 s of budget) */
	l->tok_bytes *= 2;
	struct wh_sync_state st;
	wh_sync_get_state(l->sync, &st);
	tr_emit(n, WH_NET_UP, l, &st, NULL, 0);
	tr_after(n, l, wh_sync_start(l->sync));
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
			return tr_zerr(errno);
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
		return tr_zerr(errno);
	}
	/* Once the routing frame is queued the rest goes too. */
	if (zmq_send(n->router, msg, len, ZMQ_DONTWAIT) < 0)
		return tr_zerr(errno);
	return WH_OK;
}

/* Spend one message of the peer's budget; 0 if there is none left. */
int tr_budget_take(struct wh_net *n, struct link *l, size_t bytes)
{
	double mr = n->o.msgs_per_s ? n->o.msgs_per_s : 1000;
	double br = n->o.bytes_per_s ? n->o.bytes_per_s : (32u << 20);
	uint64_t now = tr_mono_ms();
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
uint64_t tr_budget_wait(struct wh_net *n, const struct link *l)
{
	double mr = n->o.msgs_per_s ? n->o.msgs_per_s : 1000;
	double br = n->o.bytes_per_s ? n->o.bytes_per_s : (32u << 20);
	double dt = (double)(tr_mono_ms() - l->tok_at) / 1000.0;
	double m = l->tok_msgs + dt * mr, b = l->tok_bytes + dt * br;
	double wait = 0;
	if (m < 1)
		wait = (1 - m) / mr;
	if (b < 0 && -b / br > wait)
		wait = -b / br;
	return (uint64_t)(wait * 1000.0) + (wait > 0);
}

/* ---- trust and ZAP ------------------------------------------------ */

const struct wh_net_peer *tr_trusted_by_pk(const struct wh_net *n,
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
		const struct wh_net_peer *p = tr_trusted_by_pk(n, l->peer.pk);
		if (!p || p->role != l->peer.role ||
		    strcmp(p->path, l->peer.path)) {
			tr_link_kill(n, l);
			continue;
		}
		l->peer = *p; /* a new name or endpoint: no reconnect */
	}
	tr_sweep(n);
	return WH_OK;
}

static void zap_unknown(struct wh_net *n, const uint8_t key[32],
			const char *address)
{
	uint64_t now = tr_mono_ms();
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
	tr_emit(n, WH_NET_UNKNOWN_KEY, NULL, NULL, text, 0);
}

/* One ZAP request (RFC 27): version, request id, domain, address,
 * identity, mechanism, credentials; answer 200 with the Ed25519 key as
 * User-Id for a trusted CURVE key that is not shut out, else 400. */
int tr_zap_one(struct wh_net *n)
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
			if (l && l->denied_until > tr_mono_ms()) {
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

