/*
 * agent_peers.c: what `whistle agent` does on its links (agent_int.h
 * says how the agent is split).
 *
 * Peer status: each peer's "peer/<keyhex>" state record, which `whistle
 * status` shows, is written when its link comes up or goes down, when a
 * round ends, at shutdown, and in between whenever its counters (ops
 * sent, received, refused, messages dropped, rounds) moved, at most once
 * per PEER_WRITE_MS per peer. So status is about a second behind at
 * worst, and a busy link costs at most one small store write a second.
 *
 * Live push and relay: the op log is polled (wh_store_log_last) every
 * LOG_POLL_MS and right after our own ingests; ops that arrived since the
 * last position are pushed to every link but the one they came from
 * (ops we ingested are remembered with their source until then), so a
 * station's op reaches the district through its street hub at once. On
 * start the position is the end of the log: history moves by
 * reconciliation, not by push.
 *
 * Refused handshakes: ZAP sees the CURVE (X25519) form of a peer's key,
 * not the Ed25519 key people exchange, so the log line says so and how
 * to compare; a key that a reload dropped from the trust list is named.
 */
#include "agent_int.h"
#include "carry.h"
#include "log.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define LOG_BATCH 256u
#define LOG_TURN_MAX 4096u /* ops pushed per loop turn, at most */

static const char *peer_name(struct agent *a, const uint8_t pk[WH_PK_BYTES],
			     char buf[20])
{
	const struct wh_net_peer *p = trust_by_key(&a->cur->trust, pk);
	if (p)
		return p->name;
	char hex[2 * WH_PK_BYTES + 1];
	wh_hex(pk, WH_PK_BYTES, hex);
	snprintf(buf, 20, "%.16s", hex);
	return buf;
}

static struct peerinfo *pinfo(struct agent *a, const uint8_t pk[WH_PK_BYTES])
{
	for (size_t i = 0; i < a->npi; i++)
		if (!memcmp(a->pi[i].pk, pk, WH_PK_BYTES))
			return &a->pi[i];
	a->pi = wh_xrealloc(a->pi, (a->npi + 1) * sizeof *a->pi);
	struct peerinfo *p = &a->pi[a->npi++];
	memset(p, 0, sizeof *p);
	memcpy(p->pk, pk, WH_PK_BYTES);
	return p;
}

/* ---- peer records ------------------------------------------------- */

static void record(struct agent *a, const struct wh_net_peer *peer,
		   const char *endpoint, int connected, int outbound,
		   const struct wh_sync_state *st)
{
	struct peer_rec r, old;
	memset(&r, 0, sizeof r);
	snprintf(r.name, sizeof r.name, "%s", peer->name);
	snprintf(r.path, sizeof r.path, "%s", peer->path);
	snprintf(r.role, sizeof r.role, "%s", wh_role_name(peer->role));
	snprintf(r.endpoint, sizeof r.endpoint, "%s",
		 endpoint ? endpoint : "");
	r.connected = connected;
	r.outbound = outbound;
	r.at_ms = wh_clock_realtime(NULL);
	r.since_ms = pinfo(a, peer->pk)->since_ms;
	if (st) {
		snprintf(r.scope, sizeof r.scope, "%s", st->scope);
		r.last_sync_ms = st->last_sync_ms;
		r.in_sync = st->in_sync;
		r.local_count = st->local_count;
		r.peer_count = st->peer_count;
		r.sent = st->stats.ops_out;
		r.received = st->stats.ops_in;
		r.refused = st->stats.refused;
		r.dropped = st->stats.dropped;
		r.rounds = st->stats.rounds;
		r.have_receipt = st->have_receipt;
		memcpy(r.receipt_digest, st->peer_digest, WH_ID_BYTES);
		r.receipt_ms = st->peer_receipt_ms;
		r.budget = st->budget;
		r.budget_used = st->budget_used;
		r.budget_held = st->stats.budget_held;
	}
	/* A new session knows nothing yet: keep what the last one learnt. */
	char name[5 + 2 * WH_PK_BYTES + 1];
	memcpy(name, "peer/", 5);
	wh_hex(peer->pk, WH_PK_BYTES, name + 5);
	struct wh_buf b = {0};
	if (!r.last_sync_ms &&
	    wh_store_state_get(a->c->store, name, &b) == WH_OK &&
	    peer_rec_decode(b.p, b.len, &old) == WH_OK) {
		/* Before HELLO the session has no scope yet; after it, ""
		 * means the link shares none (no longer the old one). */
		if (!r.scope[0] && !(st && st->hello_done))
			memcpy(r.scope, old.scope, sizeof r.scope);
		r.last_sync_ms = old.last_sync_ms;
		r.in_sync = old.in_sync;
		r.local_count = old.local_count;
		r.peer_count = old.peer_count;
		if (!r.have_receipt && old.have_receipt) {
			r.have_receipt = 1;
			memcpy(r.receipt_digest, old.receipt_digest,
			       WH_ID_BYTES);
			r.receipt_ms = old.receipt_ms;
		}
	}
	wh_buf_fini(&b);
	int rc = peer_rec_put(a->c->store, peer->pk, &r);
	if (rc != WH_OK)
		log_warn("cannot record the state of %s: %s", peer->name,
			 wh_strerror(rc));
	/* What the record says now, for the throttled writes. A failed
	 * write counts too: retrying every turn would flood the log. */
	struct peerinfo *p = pinfo(a, peer->pk);
	p->wrote_ms = agent_mono_ms();
	p->wrote_up = connected;
	if (st) {
		p->wrote = st->stats;
		p->wrote_last_sync = st->last_sync_ms;
		snprintf(p->wrote_scope, sizeof p->wrote_scope, "%s",
			 st->scope);
	}
}

static int record_down_cb(void *ctx, const struct wh_net_link_info *l)
{
	struct agent *a = ctx;
	record(a, l->peer, l->endpoint, 0, l->outbound, l->st);
	return 0;
}

void agent_peers_stop(struct agent *a)
{
	wh_net_each_link(a->net, record_down_cb, a);
}

static int moved(const struct peerinfo *p, const struct wh_net_link_info *l)
{
	const struct wh_sync_stats *was = &p->wrote, *now = &l->st->stats;
	return p->wrote_up != l->up || was->ops_out != now->ops_out ||
	       was->ops_in != now->ops_in || was->refused != now->refused ||
	       was->dropped != now->dropped || was->rounds != now->rounds ||
	       was->bytes_out != now->bytes_out ||
	       p->wrote_last_sync != l->st->last_sync_ms ||
	       strcmp(p->wrote_scope, l->st->scope); /* relay widened or
							 * narrowed it */
}

static int flush_cb(void *ctx, const struct wh_net_link_info *l)
{
	struct agent *a = ctx;
	if (!l->st)
		return 0;
	struct peerinfo *p = pinfo(a, l->peer->pk);
	if (agent_mono_ms() - p->wrote_ms < PEER_WRITE_MS || !moved(p, l))
		return 0;
	record(a, l->peer, l->endpoint, l->up, l->outbound, l->st);
	return 0;
}

void agent_peers_flush(struct agent *a)
{
	a->peers_due = agent_mono_ms() + PEER_CHECK_MS;
	wh_net_each_link(a->net, flush_cb, a);
}

/* ---- refused keys ------------------------------------------------ */

void agent_trust_dropped(struct agent *a, const struct trust *old,
			 const struct trust *now)
{
	for (size_t i = 0; i < old->n; i++) {
		const struct wh_net_peer *e = &old->e[i];
		if (trust_by_key(now, e->pk))
			continue;
		struct gone *g = &a->gone[a->gone_next];
		if (wh_net_curve_pk(e->pk, g->curve) != WH_OK)
			continue; /* trust_load checked it: cannot happen */
		memcpy(g->pk, e->pk, WH_PK_BYTES);
		snprintf(g->name, sizeof g->name, "%s", e->name);
		a->gone_next = (a->gone_next + 1) % GONE_MAX;
		if (a->ngone < GONE_MAX)
			a->ngone++;
	}
}

/*
 * text is the net's "curve key HEX from ADDRESS". The CURVE key means
 * nothing to a person holding `whistle key show` output, so say what it
 * is and how to compare, and name the peer if a reload dropped it.
 */
static void on_unknown_key(struct agent *a, const char *text)
{
	static const char pre[] = "curve key ", mid[] = " from ";
	const size_t np = sizeof pre - 1, nm = sizeof mid - 1, nh = 64;
	char hex[65];
	uint8_t key[32];
	if (strncmp(text, pre, np) || strlen(text) < np + nh + nm ||
	    strncmp(text + np + nh, mid, nm)) {
		log_warn("handshake refused for an unknown key: %s (not in "
			 "the trust list)",
			 text);
		return;
	}
	memcpy(hex, text + np, nh);
	hex[nh] = '\0';
	const char *from = text + np + nh + nm;
	const struct gone *g = NULL;
	if (wh_unhex(hex, key, sizeof key) == WH_OK)
		for (size_t i = 0; i < a->ngone && !g; i++)
			if (!memcmp(a->gone[i].curve, key, sizeof key))
				g = &a->gone[i];
	if (g) {
		char ed[2 * WH_PK_BYTES + 1];
		wh_hex(g->pk, WH_PK_BYTES, ed);
		log_warn("handshake refused for CURVE key %s from %s: that is "
			 "the CURVE form of '%s' (key %.16s...), which a "
			 "reload removed from the trust list",
			 hex, from, g->name, ed);
		return;
	}
	log_warn("handshake refused for unknown CURVE key %s from %s: no "
		 "key in the %s has this CURVE form (it is derived "
		 "from the Ed25519 key 'whistle key show' prints; to compare, "
		 "run 'whistle key show --curve' on the other machine)",
		 hex, from,
		 a->bound ? "district's roster (as of now)" : "trust list");
}

/* ---- events ------------------------------------------------------- */

static void on_round(struct agent *a, const struct wh_net_event *ev)
{
	const struct wh_sync_state *st = ev->st;
	struct peerinfo *p = pinfo(a, ev->peer->pk);
	uint64_t out = st->stats.ops_out, in = st->stats.ops_in;
	uint64_t dout = out >= p->out ? out - p->out : out;
	uint64_t din = in >= p->in ? in - p->in : in;
	if (st->in_sync) {
		/* Quiet periodic checks go to debug; moves go to info. */
		log_msg(dout || din ? LOGL_INFO : LOGL_DEBUG,
			"in sync with %s: sent %" PRIu64 " received %" PRIu64
			" (scope %s, %" PRIu64 " ops)",
			ev->peer->name, dout, din, st->scope, st->local_count);
		p->out = out;
		p->in = in;
	} else {
		log_debug("round with %s ended, not in sync yet (ours %" PRIu64
			  ", theirs %" PRIu64 " ops)",
			  ev->peer->name, st->local_count, st->peer_count);
	}
	record(a, ev->peer, ev->endpoint, 1, ev->endpoint != NULL, st);
	agent_former_round(a, st);
	/* What the peer holds, for bundles written for it (carry.h). */
	struct peerinfo *pi = pinfo(a, ev->peer->pk);
	/* A link widened past this station's own path (neighbour relay)
	 * notes every round: what it says decides when `whistle prune
	 * --carried` may drop the carried cases, and once the emergency
	 * ends the link narrows and no later round speaks of them. */
	const char *own = a->c->conf.path;
	size_t on = strlen(own), sn = strlen(st->scope);
	int widened = sn < on && wh_path_within(own, on, st->scope, sn);
	if (st->in_sync && st->have_receipt && st->scope[0] &&
	    (!pi->carry_ms || widened ||
	     agent_mono_ms() - pi->carry_ms >= CARRY_LEARN_MS)) {
		pi->carry_ms = agent_mono_ms();
		int rc = carry_learn(a->c->store, ev->peer->pk, st->scope,
				     st->peer_count, st->peer_digest, "sync");
		if (rc != WH_OK && rc != WH_ESTATE)
			log_debug("cannot note what %s holds: %s",
				  ev->peer->name, wh_strerror(rc));
	}
}

void agent_on_event(void *ctx, const struct wh_net_event *ev)
{
	struct agent *a = ctx;
	const char *name = ev->peer ? ev->peer->name : "?";
	const char *ep = ev->endpoint ? ev->endpoint : "";
	switch (ev->kind) {
	case WH_NET_UP:
		/* Sessions keep their counters across reconnects: lines say
		 * what moved since the link came up. */
		pinfo(a, ev->peer->pk)->since_ms = wh_clock_realtime(NULL);
		pinfo(a, ev->peer->pk)->out = ev->st->stats.ops_out;
		pinfo(a, ev->peer->pk)->in = ev->st->stats.ops_in;
		if (ev->endpoint)
			log_info("connected to %s at %s", name, ep);
		else
			log_info("%s connected", name);
		record(a, ev->peer, ev->endpoint, 1, ev->endpoint != NULL,
		       ev->st);
		break;
	case WH_NET_DOWN:
		pinfo(a, ev->peer->pk)->since_ms = wh_clock_realtime(NULL);
		log_info("disconnected from %s%s%s", name, *ep ? " at " : "",
			 ep);
		record(a, ev->peer, ev->endpoint, 0, ev->endpoint != NULL,
		       ev->st);
		break;
	case WH_NET_HELLO:
		if (ev->text)
			log_info("%s claims %s (neighbour relay) but no "
				 "emergency over it is held here: it gets "
				 "nothing from us until one is", name,
				 ev->st->peer_path);
		else if (ev->st->scope[0])
			log_debug("%s (%s %s): shared scope %s", name,
				  wh_role_name(ev->st->peer_role),
				  ev->st->peer_path, ev->st->scope);
		else
			log_info("%s (%s) shares no scope with us (%s): the "
				 "link stays idle",
				 name, ev->st->peer_path, a->c->conf.path);
		break;
	case WH_NET_ROUND:
		on_round(a, ev);
		break;
	case WH_NET_DROPPED:
		log_warn("garbage from %s: %" PRIu64 " messages dropped "
			 "(malformed, unexpected or over its rate)",
			 name, ev->n);
		break;
	case WH_NET_DENIED:
		log_warn("shutting %s out for %" PRIu64 " s: %s", name,
			 ev->n / 1000, ev->text);
		break;
	case WH_NET_UNKNOWN_KEY:
		on_unknown_key(a, ev->text ? ev->text : "?");
		break;
	case WH_NET_REFUSED:
		log_warn("handshake with %s at %s failed: %s", name, ep,
			 ev->text);
		break;
	case WH_NET_ERROR:
		log_error("sync with %s: %s", name, ev->text);
		break;
	}
}

/* syncio hook: remember the source of new ops, report refusals. */
void agent_on_ingest(void *ctx, const uint8_t peer[WH_PK_BYTES],
		     const struct wh_slice *ops, size_t n, const int *res)
{
	struct agent *a = ctx;
	int codes[8], counts[8], ncodes = 0;
	size_t refused = 0;
	for (size_t i = 0; i < n; i++) {
		if (res[i] == WH_OK) {
			if (a->nsrc == a->capsrc) {
				a->capsrc = a->capsrc ? 2 * a->capsrc : 256;
				a->srcs = wh_xrealloc(a->srcs, a->capsrc *
							       sizeof *a->srcs);
			}
			wh_op_id(ops[i].p, ops[i].n, a->srcs[a->nsrc].id);
			memcpy(a->srcs[a->nsrc].pk, peer, WH_PK_BYTES);
			a->nsrc++;
			a->log_dirty = 1;
			continue;
		}
		if (res[i] == WH_EEXIST)
			continue;
		refused++;
		int k;
		for (k = 0; k < ncodes && codes[k] != res[i]; k++)
			;
		if (k == ncodes && ncodes < 8) {
			codes[ncodes] = res[i];
			counts[ncodes++] = 0;
		}
		if (k < ncodes)
			counts[k]++;
	}
	if (!refused)
		return;
	char why[400] = "", nb[20];
	size_t len = 0;
	for (int k = 0; k < ncodes && len < sizeof why; k++) {
		int w = snprintf(why + len, sizeof why - len, "%s%d %s",
				 k ? ", " : "", counts[k],
				 codes[k] == WH_ESCOPE ? "outside the shared "
							 "scope"
						       : wh_strerror(codes[k]));
		if (w < 0)
			break;
		len += (size_t)w;
	}
	log_warn("refused %zu ops from %s: %s", refused,
		 peer_name(a, peer, nb), why);
}

/* ---- push --------------------------------------------------------- */

struct batch {
	struct wh_buf bytes;
	size_t *off, *len;
	size_t n, cap;
	uint64_t last;
};

static int batch_cb(void *ctx, uint64_t seq, const uint8_t *op, size_t n)
{
	struct batch *b = ctx;
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : LOG_BATCH;
		b->off = wh_xrealloc(b->off, b->cap * sizeof *b->off);
		b->len = wh_xrealloc(b->len, b->cap * sizeof *b->len);
	}
	b->off[b->n] = b->bytes.len;
	b->len[b->n++] = n;
	wh_buf_append(&b->bytes, op, n);
	b->last = seq;
	return 0;
}

static int src_cmp(const void *x, const void *y)
{
	return memcmp(x, y, WH_ID_BYTES);
}

/* New ops in the log since the last position go to the links. */
void agent_push_new(struct agent *a)
{
	uint64_t last;
	a->log_dirty = 0;
	a->log_due = agent_mono_ms() + LOG_POLL_MS;
	if (wh_store_log_last(a->c->store, &last) != WH_OK ||
	    last <= a->log_pos) {
		a->nsrc = 0;
		return;
	}
	if (a->nsrc)
		qsort(a->srcs, a->nsrc, sizeof *a->srcs, src_cmp);
	struct batch b;
	memset(&b, 0, sizeof b);
	size_t pushed = 0;
	while (a->log_pos < last && pushed < LOG_TURN_MAX) {
		wh_buf_reset(&b.bytes);
		b.n = 0;
		if (wh_store_log_since(a->c->store, a->log_pos, LOG_BATCH,
				       batch_cb, &b) != WH_OK ||
		    b.n == 0)
			break;
		a->log_pos = b.last;
		struct wh_slice *ops = wh_xmalloc(b.n * sizeof *ops);
		const uint8_t **from = wh_xmalloc(b.n * sizeof *from);
		for (size_t i = 0; i < b.n; i++) {
			ops[i].p = b.bytes.p + b.off[i];
			ops[i].n = b.len[i];
			struct src key;
			wh_op_id(ops[i].p, ops[i].n, key.id);
			const struct src *s =
				a->nsrc ? bsearch(&key, a->srcs, a->nsrc,
						  sizeof *a->srcs, src_cmp)
					: NULL;
			from[i] = s ? s->pk : NULL;
		}
		/* Runs of ops with the same source: one push each. */
		for (size_t i = 0, j; i < b.n; i = j) {
			for (j = i + 1; j < b.n; j++)
				if ((from[j] == NULL) != (from[i] == NULL) ||
				    (from[i] && memcmp(from[i], from[j],
						       WH_PK_BYTES)))
					break;
			wh_net_push(a->net, ops + i, j - i, from[i]);
		}
		pushed += b.n;
		free(ops);
		free(from);
	}
	if (a->log_pos >= last)
		a->nsrc = 0; /* every remembered op has been seen */
	else
		a->log_dirty = 1; /* more next turn */
	wh_buf_fini(&b.bytes);
	free(b.off);
	free(b.len);
}

void agent_peers_free(struct agent *a)
{
	free(a->srcs);
	free(a->pi);
	a->srcs = NULL;
	a->pi = NULL;
	a->nsrc = a->capsrc = a->npi = 0;
}
