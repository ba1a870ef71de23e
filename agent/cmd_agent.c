/*
 * cmd_agent.c: `whistle agent`, the sync daemon, in the foreground.
 *
 * One thread, one loop: wh_net_poll waits on every socket and on the
 * read end of a self-pipe, for at most the time to the next timer (the
 * net's session timers, or the ~200 ms poll of the op log). Signal
 * handlers only write the signal number into the pipe:
 *   SIGTERM, SIGINT  leave the loop after the current message (each one
 *                    is handled, and its store transaction committed,
 *                    before the loop looks at the pipe), record every
 *                    link as disconnected, close sockets and the store,
 *                    wipe the key, exit 0;
 *   SIGHUP           reload whistle.conf and the trust list; if either
 *                    fails to parse, or a peer does not resolve, the old
 *                    configuration stays and the log says why. Links
 *                    whose peer and endpoint did not change keep running.
 *
 * Live push and relay: the op log is polled (wh_store_log_last) every
 * LOG_POLL_MS and right after our own ingests; ops that arrived since the
 * last position are pushed to every link but the one they came from
 * (ops we ingested are remembered with their source until then), so a
 * station's op reaches the district through its street hub at once. On
 * start the position is the end of the log: history moves by
 * reconciliation, not by push.
 *
 * Peer status: whenever a link changes state or a round ends, the agent
 * writes the "peer/<keyhex>" state record that `whistle status` shows.
 */
#include "cli.h"
#include "log.h"
#include "syncio.h"
#include "trust.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char help[] =
	"usage: whistle [--home DIR] agent [--listen ENDPOINT]... [--peer PEER]...\n"
	"                    [--interval SEC] [--log-level LEVEL] [--check]\n"
	"\n"
	"Run the sync agent in the foreground: accept trusted peers on the\n"
	"listen endpoints, dial the configured peers, and keep this store in\n"
	"sync with each of them over the scope the two share (the narrower of\n"
	"the two paths). New ops are pushed at once and relayed to other\n"
	"links; every sync_interval seconds the narrower side compares\n"
	"digests again. Only peers in the trust list ('whistle trust') pass\n"
	"the handshake.\n"
	"\n"
	"  --listen ENDPOINT  accept peers on tcp://HOST:PORT (repeatable; any\n"
	"                     --listen replaces every 'listen' of the config)\n"
	"  --peer PEER        dial PEER (repeatable; replaces every 'peer' of\n"
	"                     the config): a trust-list name, an endpoint a\n"
	"                     trusted peer has, or KEYHEX@tcp://HOST:PORT with\n"
	"                     a trusted key\n"
	"  --interval SEC     seconds between digest checks (default 30)\n"
	"  --log-level LEVEL  error, warn, info (default) or debug\n"
	"  --check            check the configuration and trust list, then exit\n"
	"\n"
	"whistle.conf keys read by the agent (flags override them):\n"
	"  listen = tcp://0.0.0.0:7420      repeatable; a station that only\n"
	"                                   dials out needs none\n"
	"  peer = NAME | tcp://HOST:PORT | KEYHEX@tcp://HOST:PORT\n"
	"                                   repeatable\n"
	"  sync_interval = 30\n"
	"  log_level = info\n"
	"\n"
	"Logs one line per event to stderr: 'whistle[PID]: LEVEL: message'.\n"
	"Signals: SIGTERM/SIGINT stop cleanly (exit 0); SIGHUP reloads\n"
	"whistle.conf and the trust list (a bad one is refused and the old\n"
	"one kept; links that did not change keep running).\n";

#define LOG_POLL_MS 200u
#define LOG_BATCH 256u
#define LOG_TURN_MAX 4096u /* ops pushed per loop turn, at most */

struct settings {
	struct trust trust;
	const char *listen[CLI_CONF_LIST_MAX];
	size_t nlisten;
	struct wh_net_dial dial[CLI_CONF_LIST_MAX];
	size_t ndial;
	uint32_t interval;
	int level;
	struct cli_conf conf; /* listen[] points into this */
};

/* An op we ingested, and from whom (not pushed back there). */
struct src {
	uint8_t id[WH_ID_BYTES];
	uint8_t pk[WH_PK_BYTES];
};

/* Per peer: what the last "in sync" line reported, and when the link
 * last went up or down. */
struct peerinfo {
	uint8_t pk[WH_PK_BYTES];
	uint64_t out, in, since_ms;
};

struct agent {
	struct cli *c;
	struct settings *cur;
	struct wh_net *net;
	struct syncio sio;
	int pipe[2];
	int stop;
	uint64_t log_pos, log_due;
	int log_dirty;
	struct src *srcs;
	size_t nsrc, capsrc;
	struct peerinfo *pi;
	size_t npi;
	/* command-line values that override the config */
	const char *flag_listen[CLI_CONF_LIST_MAX];
	size_t nflag_listen;
	const char *flag_peer[CLI_CONF_LIST_MAX];
	size_t nflag_peer;
	uint32_t flag_interval;
	int flag_level;
};

static int sigfd = -1;

static void on_signal(int sig)
{
	int e = errno;
	unsigned char b = (unsigned char)sig;
	if (sigfd >= 0)
		(void)!write(sigfd, &b, 1);
	errno = e;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void settings_free(struct settings *s)
{
	if (!s)
		return;
	trust_fini(&s->trust);
	free(s);
}

/*
 * Build settings from a config, the trust list in the home and the
 * flags. Returns NULL with why[] (300 bytes) filled in; usage errors
 * (bad flag values) set *usage.
 */
static struct settings *settings_make(struct agent *a,
				      const struct cli_conf *conf, char *why,
				      int *usage)
{
	struct settings *s = wh_xcalloc(1, sizeof *s);
	s->conf = *conf;
	*usage = 0;
	if (trust_load(a->c, &s->trust)) {
		snprintf(why, 300, "the trust list does not parse (see above)");
		goto fail;
	}
	if (a->nflag_listen) {
		memcpy(s->listen, a->flag_listen, sizeof a->flag_listen);
		s->nlisten = a->nflag_listen;
	} else {
		for (unsigned i = 0; i < s->conf.nlisten; i++)
			s->listen[s->nlisten++] = s->conf.listen[i];
	}
	for (size_t i = 0; i < s->nlisten; i++)
		if (!trust_endpoint_valid(s->listen[i])) {
			snprintf(why, 300,
				 "listen '%.100s': expected tcp://HOST:PORT",
				 s->listen[i]);
			*usage = a->nflag_listen > 0;
			goto fail;
		}
	const char *const *peers = a->flag_peer;
	size_t npeers = a->nflag_peer;
	const char *cpeers[CLI_CONF_LIST_MAX];
	if (!npeers) {
		for (unsigned i = 0; i < s->conf.npeer; i++)
			cpeers[i] = s->conf.peer[i];
		peers = cpeers;
		npeers = s->conf.npeer;
	}
	for (size_t i = 0; i < npeers; i++) {
		const struct wh_net_peer *p;
		char ep[WH_NET_ENDPOINT_MAX + 1], w[200];
		int rc = trust_resolve(&s->trust, peers[i], &p, ep, w);
		if (rc) {
			snprintf(why, 300, "peer %s", w);
			*usage = rc == CLI_USAGE && a->nflag_peer > 0;
			goto fail;
		}
		size_t j;
		for (j = 0; j < s->ndial; j++)
			if (!memcmp(s->dial[j].pk, p->pk, WH_PK_BYTES) &&
			    !strcmp(s->dial[j].endpoint, ep))
				break;
		if (j < s->ndial)
			continue; /* named twice: one link */
		memcpy(s->dial[s->ndial].pk, p->pk, WH_PK_BYTES);
		strcpy(s->dial[s->ndial].endpoint, ep);
		s->ndial++;
	}
	s->interval = a->flag_interval ? a->flag_interval
		      : s->conf.sync_interval ? s->conf.sync_interval
					      : 30;
	s->level = a->flag_level >= 0 ? a->flag_level
		   : s->conf.log_level[0] ? log_level_parse(s->conf.log_level)
					  : LOGL_INFO;
	return s;
fail:
	settings_free(s);
	return NULL;
}

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
	}
	/* A new session knows nothing yet: keep what the last one learnt. */
	char name[5 + 2 * WH_PK_BYTES + 1];
	memcpy(name, "peer/", 5);
	wh_hex(peer->pk, WH_PK_BYTES, name + 5);
	struct wh_buf b = {0};
	if (!r.last_sync_ms &&
	    wh_store_state_get(a->c->store, name, &b) == WH_OK &&
	    peer_rec_decode(b.p, b.len, &old) == WH_OK) {
		if (!r.scope[0])
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
}

static int record_down_cb(void *ctx, const struct wh_net_link_info *l)
{
	struct agent *a = ctx;
	record(a, l->peer, l->endpoint, 0, l->outbound, l->st);
	return 0;
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
}

static void on_event(void *ctx, const struct wh_net_event *ev)
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
		if (ev->st->scope[0])
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
		log_warn("handshake refused for unknown key: %s (not in the "
			 "trust list)",
			 ev->text);
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
static void on_ingest(void *ctx, const uint8_t peer[WH_PK_BYTES],
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
static void push_new(struct agent *a)
{
	uint64_t last;
	a->log_dirty = 0;
	a->log_due = mono_ms() + LOG_POLL_MS;
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

/* ---- config ------------------------------------------------------- */

static void describe(const struct settings *s, char *out, size_t cap)
{
	size_t len = 0;
	int w = snprintf(out, cap, "%zu trusted; listening on", s->trust.n);
	len = w > 0 ? (size_t)w : 0;
	for (size_t i = 0; i < s->nlisten && len < cap; i++) {
		w = snprintf(out + len, cap - len, " %s", s->listen[i]);
		len += w > 0 ? (size_t)w : 0;
	}
	if (!s->nlisten && len < cap) {
		w = snprintf(out + len, cap - len, " nothing");
		len += w > 0 ? (size_t)w : 0;
	}
	if (len < cap) {
		w = snprintf(out + len, cap - len, "; dialing");
		len += w > 0 ? (size_t)w : 0;
	}
	for (size_t i = 0; i < s->ndial && len < cap; i++) {
		const struct wh_net_peer *p =
			trust_by_key(&s->trust, s->dial[i].pk);
		w = snprintf(out + len, cap - len, " %s@%s",
			     p ? p->name : "?", s->dial[i].endpoint);
		len += w > 0 ? (size_t)w : 0;
	}
	if (!s->ndial && len < cap)
		snprintf(out + len, cap - len, " nobody");
}

/* Put settings into effect; the net keeps what did not change. */
static int apply(struct agent *a, struct settings *s)
{
	int rc = wh_net_trust_set(a->net, s->trust.e, s->trust.n);
	size_t failed = 0;
	if (rc == WH_OK) {
		rc = wh_net_listen_set(a->net, s->listen, s->nlisten,
				       &failed);
		if (rc != WH_OK) {
			log_error("cannot listen on %s: %s", s->listen[failed],
				  rc == WH_EIO || rc == WH_EBUSY
					  ? strerror(errno)
					  : wh_strerror(rc));
			return rc;
		}
	}
	if (rc == WH_OK)
		rc = wh_net_dial_set(a->net, s->dial, s->ndial);
	if (rc != WH_OK)
		log_error("cannot set up the links: %s", wh_strerror(rc));
	return rc;
}

static void reload(struct agent *a)
{
	char file[PATH_MAX], why[300];
	struct cli_conf *nc = wh_xcalloc(1, sizeof *nc);
	int usage;
	if (cli_join(a->c, file, sizeof file, a->c->home, "whistle.conf") ||
	    cli_conf_load(a->c, file, nc)) {
		log_warn("reload: whistle.conf does not parse (see above); "
			 "keeping the old configuration");
		free(nc);
		return;
	}
	const struct cli_conf *old = &a->c->conf;
	if (strcmp(nc->path, old->path) || strcmp(nc->role, old->role) ||
	    strcmp(nc->code, old->code))
		log_warn("reload: path, role and code changes take effect at "
			 "the next start");
	struct settings *s = settings_make(a, nc, why, &usage);
	free(nc);
	if (!s) {
		log_warn("reload: %s; keeping the old configuration", why);
		return;
	}
	if (apply(a, s) != WH_OK) {
		/* Partly applied: go back to the old settings. */
		log_warn("reload: keeping the old configuration");
		(void)apply(a, a->cur);
		settings_free(s);
		return;
	}
	if (s->interval != a->cur->interval)
		log_info("reload: sync_interval %u s applies to links made "
			 "from now on",
			 (unsigned)s->interval);
	log_set_level((enum log_level)s->level);
	settings_free(a->cur);
	a->cur = s;
	char d[600];
	describe(s, d, sizeof d);
	log_info("configuration reloaded: %s", d);
}

static void drain_signals(struct agent *a)
{
	unsigned char buf[32];
	ssize_t r;
	while ((r = read(a->pipe[0], buf, sizeof buf)) > 0)
		for (ssize_t i = 0; i < r; i++) {
			if (buf[i] == SIGHUP)
				reload(a);
			else
				a->stop = 1;
		}
}

static int signals_setup(struct agent *a)
{
	if (pipe(a->pipe) != 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		fcntl(a->pipe[i], F_SETFL,
		      fcntl(a->pipe[i], F_GETFL) | O_NONBLOCK);
		fcntl(a->pipe[i], F_SETFD, FD_CLOEXEC);
	}
	sigfd = a->pipe[1];
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void signals_restore(struct agent *a)
{
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigfd = -1;
	close(a->pipe[0]);
	close(a->pipe[1]);
}

/* ---- main --------------------------------------------------------- */

static int parse(struct agent *a, int argc, char **argv, int *check)
{
	struct cli *c = a->c;
	static const struct cli_opt opts[] = {
		{"listen", 0, 1}, {"peer", 0, 1}, {"interval", 0, 1},
		{"log-level", 0, 1}, {"check", 'n', 0}, {NULL, 0, 0},
	};
	struct cli_args args;
	cli_args_init(&args, argc, argv);
	int t, which;
	const char *v;
	while ((t = cli_args_next(c, &args, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP)
			return -1;
		if (t == ARG_POS)
			return cli_usage(c, "unexpected argument '%s'", v);
		switch (which) {
		case 0:
		case 1: {
			const char **list = which ? a->flag_peer : a->flag_listen;
			size_t *n = which ? &a->nflag_peer : &a->nflag_listen;
			if (*n >= CLI_CONF_LIST_MAX)
				return cli_usage(c, "at most %d --%s", CLI_CONF_LIST_MAX,
						 opts[which].name);
			if (!which && !trust_endpoint_valid(v))
				return cli_usage(c, "--listen '%s': expected "
						    "tcp://HOST:PORT",
						 v);
			list[(*n)++] = v;
			break;
		}
		case 2:
			if (cli_parse_u32(c, "--interval", v, &a->flag_interval))
				return CLI_USAGE;
			if (a->flag_interval < 1 || a->flag_interval > 86400)
				return cli_usage(c, "--interval %s: 1 to 86400 "
						    "seconds",
						 v);
			break;
		case 3:
			if ((a->flag_level = log_level_parse(v)) < 0)
				return cli_usage(c, "--log-level '%s': error, "
						    "warn, info or debug",
						 v);
			break;
		case 4:
			*check = 1;
			break;
		}
	}
	return CLI_OK;
}

static int run(struct agent *a)
{
	struct cli *c = a->c;
	while (!a->stop) {
		uint64_t now = mono_ms();
		int64_t timeout = a->log_due > now ? (int64_t)(a->log_due - now)
						   : 0;
		if (a->log_dirty)
			timeout = 0;
		int ready = 0;
		int rc = wh_net_poll(a->net, a->pipe[0], timeout, &ready);
		if (rc != WH_OK) {
			log_error("poll: %s", strerror(errno));
			return cli_fail(c, "poll failed: %s", strerror(errno));
		}
		if (ready)
			drain_signals(a);
		if (a->stop)
			break;
		if (a->log_dirty || mono_ms() >= a->log_due)
			push_new(a);
	}
	return CLI_OK;
}

int cmd_agent(struct cli *c, int argc, char **argv)
{
	struct agent *a = wh_xcalloc(1, sizeof *a);
	a->c = c;
	a->flag_level = -1;
	a->pipe[0] = a->pipe[1] = -1;
	int check = 0;
	int rc = parse(a, argc, argv, &check);
	if (rc < 0) {
		free(a);
		return cli_help(help);
	}
	if (rc || (rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY |
					    CLI_NEED_STORE))) {
		free(a);
		return rc;
	}
	char why[300];
	int usage;
	a->cur = settings_make(a, &c->conf, why, &usage);
	if (!a->cur) {
		free(a);
		return usage ? cli_usage(c, "%s", why) : cli_fail(c, "%s", why);
	}
	log_set_level((enum log_level)a->cur->level);
	char d[600];
	describe(a->cur, d, sizeof d);
	if (check) {
		printf("configuration OK: %s\n", d);
		settings_free(a->cur);
		free(a);
		return CLI_OK;
	}
	if (signals_setup(a) != 0) {
		settings_free(a->cur);
		free(a);
		return cli_fail(c, "cannot make the signal pipe: %s",
				strerror(errno));
	}
	a->sio.store = c->store;
	a->sio.on_ingest = on_ingest;
	a->sio.ctx = a;
	struct wh_net_opts o = {
		.key = c->key,
		.self = {.key = c->key,
			 .role = (enum wh_role)cli_role_net(c->conf.role),
			 .path = c->conf.path,
			 .digest_interval_ms = a->cur->interval * 1000u},
		.io = syncio_io(&a->sio),
		.on_event = on_event,
		.ctx = a,
	};
	rc = wh_store_log_last(c->store, &a->log_pos);
	if (rc == WH_OK)
		rc = wh_net_open(&o, &a->net);
	if (rc != WH_OK) {
		rc = cli_fail(c, "cannot start: %s", wh_strerror(rc));
	} else if (apply(a, a->cur) != WH_OK) {
		rc = cli_fail(c, "cannot start (see the log above)");
	} else {
		char hex[2 * WH_PK_BYTES + 1];
		wh_hex(c->key->pk, WH_PK_BYTES, hex);
		log_info("agent started: %s (%s %s), key %.16s...; %s",
			 c->conf.station, c->conf.role, c->conf.path, hex, d);
		a->log_due = mono_ms() + LOG_POLL_MS;
		rc = run(a);
		/* Anything the last turn ingested goes out before we leave. */
		if (rc == CLI_OK)
			push_new(a);
		wh_net_each_link(a->net, record_down_cb, a);
		log_info("agent stopped");
	}
	wh_net_close(a->net);
	signals_restore(a);
	settings_free(a->cur);
	free(a->srcs);
	free(a->pi);
	free(a);
	return rc;
}
