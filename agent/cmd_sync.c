/*
 * cmd_sync.c: `whistle sync --peer PEER`, one sync with one peer: dial,
 * run the session until it is idle and in sync (or its round ended
 * without reaching it), record the outcome for `whistle status`, exit.
 * The same transport and store io as the agent, with one dialer and no
 * listener; it may run beside an agent on the same home.
 */
#include "carry.h"
#include "cli.h"
#include "json.h"
#include "progress.h"
#include "syncio.h"
#include "trust.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

static const char help[] =
	"usage: whistle [--home DIR] sync --peer PEER [--timeout SEC] [--quiet]\n"
	"                             [--json]\n"
	"\n"
	"Connect to PEER once, reconcile the scope the two share (the\n"
	"narrower of the two paths) in both directions, and exit:\n"
	"\n"
	"  synced with NAME: sent A ops, received B ops; in sync (digest ...)\n"
	"\n"
	"  --peer PEER    a trust-list name, an endpoint a trusted peer has,\n"
	"                 or KEYHEX@tcp://HOST:PORT with a trusted key\n"
	"  --timeout SEC  give up after SEC seconds (default 30)\n"
	"  --quiet, -q    no progress line (shown only on a terminal, for a\n"
	"                 sync that takes more than a second)\n"
	"\n"
	"--json prints {\"peer\", \"key\", \"endpoint\", \"scope\", \"sent\",\n"
	"\"received\", \"in_sync\", \"digest\", \"ops\"}. Exit 1 if the\n"
	"handshake is refused or nobody answers, or the sync does not finish\n"
	"in time, or it ends out of sync.\n";

#define GRACE_MS 2000u /* a round that ended unequal: wait for receipts */

struct one {
	int refused_auth;
	char why[200];
	int denied;
};

static void on_event(void *ctx, const struct wh_net_event *ev)
{
	struct one *o = ctx;
	if (ev->kind == WH_NET_REFUSED) {
		snprintf(o->why, sizeof o->why, "%s", ev->text);
		/* A refusal by the peer's ZAP will not change on retry. */
		if (ev->n == 400)
			o->refused_auth = 1;
	} else if (ev->kind == WH_NET_DENIED) {
		snprintf(o->why, sizeof o->why, "%s", ev->text);
		o->denied = 1;
	}
}

struct look {
	int up, ever_up, done, idle, hello;
	struct wh_sync_state st;
};

static int look_cb(void *ctx, const struct wh_net_link_info *l)
{
	struct look *k = ctx;
	k->up = l->up;
	k->ever_up |= l->up;
	k->idle = l->idle;
	k->hello = l->st->hello_done;
	k->st = *l->st;
	return 1;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void put_record(struct cli *c, const struct wh_net_peer *p,
		       const char *ep, const struct look *k)
{
	struct peer_rec r;
	memset(&r, 0, sizeof r);
	snprintf(r.name, sizeof r.name, "%s", p->name);
	snprintf(r.path, sizeof r.path, "%s", p->path);
	snprintf(r.role, sizeof r.role, "%s", wh_role_name(p->role));
	snprintf(r.endpoint, sizeof r.endpoint, "%s", ep);
	snprintf(r.scope, sizeof r.scope, "%s", k->st.scope);
	r.outbound = 1;
	r.at_ms = r.since_ms = wh_clock_realtime(NULL);
	r.last_sync_ms = k->st.last_sync_ms;
	r.in_sync = k->st.in_sync;
	r.local_count = k->st.local_count;
	r.peer_count = k->st.peer_count;
	r.sent = k->st.stats.ops_out;
	r.received = k->st.stats.ops_in;
	r.refused = k->st.stats.refused;
	r.dropped = k->st.stats.dropped;
	r.rounds = k->st.stats.rounds;
	r.have_receipt = k->st.have_receipt;
	memcpy(r.receipt_digest, k->st.peer_digest, WH_ID_BYTES);
	r.receipt_ms = k->st.peer_receipt_ms;
	(void)peer_rec_put(c->store, p->pk, &r); /* status only */
	/* What the peer holds, for bundles written for it (carry.h). */
	if (k->st.in_sync && k->st.have_receipt && k->st.scope[0])
		(void)!carry_learn(c->store, p->pk, k->st.scope,
				   k->st.peer_count, k->st.peer_digest, "sync");
}

static int report(struct cli *c, const struct wh_net_peer *p, const char *ep,
		  const struct look *k)
{
	uint8_t d[WH_ID_BYTES];
	uint64_t cnt = 0;
	char hex[2 * WH_ID_BYTES + 1] = "";
	if (k->st.scope[0]) {
		int rc = wh_store_digest(c->store, k->st.scope, d, &cnt);
		if (rc != WH_OK)
			return cli_fail(c, "store: %s", wh_strerror(rc));
		wh_hex(d, WH_ID_BYTES, hex);
	}
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "peer", p->name);
		json_khex(&j, "key", p->pk, WH_PK_BYTES);
		json_kstr(&j, "endpoint", ep);
		json_kstr(&j, "scope", k->st.scope);
		json_kuint(&j, "sent", k->st.stats.ops_out);
		json_kuint(&j, "received", k->st.stats.ops_in);
		json_kuint(&j, "refused", k->st.stats.refused);
		json_kbool(&j, "in_sync", k->st.in_sync);
		json_kstr(&j, "digest", hex[0] ? hex : NULL);
		json_kuint(&j, "ops", cnt);
		json_kuint(&j, "peer_ops", k->st.peer_count);
		json_obj_end(&j);
		json_end(&j);
	} else if (!k->st.scope[0]) {
		printf("synced with %s: nothing shared (its path %s, ours %s)"
		       "\n",
		       p->name, k->st.peer_path, c->conf.path);
	} else if (k->st.in_sync) {
		printf("synced with %s: sent %" PRIu64 " ops, received %" PRIu64
		       " ops; in sync (digest %.8s…)\n",
		       p->name, k->st.stats.ops_out, k->st.stats.ops_in, hex);
	}
	if (k->st.scope[0] && !k->st.in_sync)
		return cli_fail(c,
				"synced with %s: sent %" PRIu64
				" ops, received %" PRIu64
				" ops; NOT in sync (ours %" PRIu64
				" ops, theirs %" PRIu64 " in %s)",
				p->name, k->st.stats.ops_out,
				k->st.stats.ops_in, cnt, k->st.peer_count,
				k->st.scope);
	return CLI_OK;
}

/*
 * The progress line of a long sync (a first sync of a large scope):
 * ops come in while the peer holds more than we do, else go out. What is
 * left is the difference of the two counts, ours read from the store
 * (one read of the digest table) and the peer's as last heard.
 */
static void show_progress(struct cli *c, struct progress *pg,
			  const struct look *k, uint64_t *due)
{
	uint64_t now = mono_ms();
	if (!pg->on || !k->hello || !k->st.scope[0] || now < *due)
		return;
	*due = now + PROGRESS_REDRAW_MS;
	uint8_t d[WH_ID_BYTES];
	uint64_t ours = 0;
	if (wh_store_digest(c->store, k->st.scope, d, &ours) != WH_OK)
		return;
	uint64_t theirs = k->st.peer_count;
	if (theirs >= ours) {
		progress_verb(pg, "received");
		progress_update(pg, k->st.stats.ops_in,
				k->st.stats.ops_in + (theirs - ours));
	} else {
		progress_verb(pg, "sent");
		progress_update(pg, k->st.stats.ops_out,
				k->st.stats.ops_out + (ours - theirs));
	}
}

static int run(struct cli *c, struct wh_net *net, struct one *o,
	       const struct wh_net_peer *p, const char *ep, uint32_t timeout,
	       int quiet)
{
	uint64_t deadline = mono_ms() + timeout * 1000ull;
	uint64_t unequal_at = 0, pg_due = 0;
	int done = 0;
	struct look k;
	memset(&k, 0, sizeof k);
	struct progress pg;
	progress_start(&pg, "sync", "received", "ops", quiet);
	while (!done) {
		uint64_t now = mono_ms();
		if (now >= deadline)
			break;
		int ready;
		int64_t wait = (int64_t)(deadline - now);
		if (pg.on && wait > PROGRESS_REDRAW_MS)
			wait = PROGRESS_REDRAW_MS; /* keep rate and time fresh */
		if (wh_net_poll(net, -1, wait, &ready)) {
			progress_end(&pg);
			return cli_fail(c, "poll failed");
		}
		int ever = k.ever_up;
		wh_net_each_link(net, look_cb, &k);
		k.ever_up |= ever;
		show_progress(c, &pg, &k, &pg_due);
		if (o->refused_auth || o->denied) {
			progress_end(&pg);
			return cli_fail(c, "handshake with %s (%s): %s", ep,
					p->name, o->why);
		}
		if (!k.up || !k.hello || !k.idle) {
			unequal_at = 0;
			continue;
		}
		if (!k.st.scope[0] || k.st.in_sync) {
			done = 1;
		} else if (k.st.stats.rounds > 0) {
			/* Ended unequal: the peer's receipt may still come. */
			if (!unequal_at)
				unequal_at = mono_ms();
			else if (mono_ms() - unequal_at >= GRACE_MS)
				done = 1;
		}
	}
	progress_end(&pg);
	if (k.ever_up)
		put_record(c, p, ep, &k);
	if (!k.ever_up)
		return cli_fail(c, "handshake with %s refused or no answer "
				   "within %u s%s%s",
				ep, (unsigned)timeout, o->why[0] ? ": " : "",
				o->why);
	if (!done)
		return cli_fail(c, "sync with %s did not finish within %u s "
				   "(sent %" PRIu64 ", received %" PRIu64
				   " ops so far)",
				p->name, (unsigned)timeout, k.st.stats.ops_out,
				k.st.stats.ops_in);
	return report(c, p, ep, &k);
}

int cmd_sync(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{"peer", 0, 1}, {"timeout", 0, 1}, {"quiet", 'q', 0},
		{NULL, 0, 0},
	};
	const char *peer = NULL;
	int quiet = 0;
	uint32_t timeout = 30;
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which;
	const char *v;
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP)
			return cli_help(help);
		if (t == ARG_POS)
			return cli_usage(c, "unexpected argument '%s'", v);
		if (which == 0) {
			peer = v;
		} else if (which == 2) {
			quiet = 1;
		} else {
			if (cli_parse_u32(c, "--timeout", v, &timeout))
				return CLI_USAGE;
			if (timeout < 1 || timeout > 86400)
				return cli_usage(c, "--timeout %s: 1 to 86400 "
						    "seconds",
						 v);
		}
	}
	if (!peer)
		return cli_usage(c, "--peer is required (a trusted name, "
				    "endpoint or KEYHEX@tcp://HOST:PORT)");
	int rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE);
	if (rc)
		return rc;
	struct trust tl;
	if ((rc = trust_load(c, &tl)))
		return rc;
	const struct wh_net_peer *p;
	struct wh_net_dial d;
	char why[200];
	memset(&d, 0, sizeof d);
	if ((rc = trust_resolve(&tl, peer, &p, d.endpoint, why))) {
		trust_fini(&tl);
		return rc == CLI_USAGE ? cli_usage(c, "--peer %s", why)
				       : cli_fail(c, "--peer %s", why);
	}
	memcpy(d.pk, p->pk, WH_PK_BYTES);
	struct syncio sio = {.store = c->store};
	struct one o;
	memset(&o, 0, sizeof o);
	struct wh_net_opts no = {
		.key = c->key,
		.self = {.key = c->key,
			 .role = (enum wh_role)cli_role_net(c->conf.role),
			 .path = c->conf.path},
		.io = syncio_io(&sio),
		.on_event = on_event,
		.ctx = &o,
		.linger_ms = 2000, /* let the last receipt leave */
	};
	if (c->conf.sync_interval)
		no.self.digest_interval_ms = c->conf.sync_interval * 1000u;
	struct wh_net *net = NULL;
	rc = wh_net_open(&no, &net);
	if (rc == WH_OK)
		rc = wh_net_trust_set(net, tl.e, tl.n);
	if (rc == WH_OK)
		rc = wh_net_dial_set(net, &d, 1);
	if (rc != WH_OK)
		rc = cli_fail(c, "cannot dial %s: %s", d.endpoint,
			      wh_strerror(rc));
	else
		rc = run(c, net, &o, trust_by_key(&tl, d.pk), d.endpoint,
			 timeout, quiet);
	wh_net_close(net);
	trust_fini(&tl);
	return rc;
}
