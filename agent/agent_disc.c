/*
 * agent_disc.c: LAN discovery. An agent finds trusted agents on its
 * local network without any configured address: it broadcasts a signed
 * beacon (net/beacon.h) naming its sync endpoint every few seconds on
 * UDP (net/lan.h, default port 7420, the number sync uses on TCP), and
 * on hearing one from a key it trusts (the trust list, or in a home
 * bound to an authority the roster's members: a->cur->trust either way)
 * it dials that endpoint like a configured peer. The connection is
 * still CURVE-encrypted and ZAP-checked on both sides: a beacon only
 * says where to knock.
 *
 * When: whistle.conf 'discovery = off | on | emergency' (or --discovery).
 * The default, emergency, turns it on only while an emergency is active
 * over this station's path (agent_emergency_active): "not disturbed when
 * nothing happens, activated when something does". Off, the socket is
 * closed and what discovery dialled is dropped.
 *
 * One link per pair: when two agents hear each other, the one with the
 * lower key dials; the other dials too only if no link from it came up
 * within DISC_GRACE_MS (one of them may not hear the other's beacons),
 * and stops dialling once the peer's own connection is up. A peer not
 * heard for DISC_EXPIRE_MS and not linked is forgotten. A configured
 * peer is never dialled a second time by discovery.
 *
 * Beacons from keys not trusted are ignored and logged: each key at most
 * once per DISC_SAY_MS, and at most DISC_SAY_MAX such lines a minute
 * overall (the rest counted in the next line), so a noisy LAN cannot
 * flood the log. Malformed, forged or replayed beacons are counted and
 * said at debug level, at most once a minute.
 */
#include "agent_int.h"
#include "beacon.h"
#include "lan.h"
#include "log.h"

#include <sodium.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define DISC_BEACON_MS 5000u  /* beacon period, jittered by +-1 s */
#define DISC_GRACE_MS 15000u  /* the higher key waits this long */
#define DISC_EXPIRE_MS 60000u /* not heard, not linked: forgotten */
#define DISC_CHECK_MS 1000u   /* peers, links and the mode looked at */
#define DISC_RETRY_MS 30000u  /* a socket that would not open */
#define DISC_PEERS_MAX 64u
#define DISC_DRAIN 64u        /* datagrams per loop turn, at most */
#define DISC_SAY_MS 600000u   /* an untrusted key named once per 10 min */
#define DISC_SAY_MAX 10u      /* untrusted-beacon lines per minute */
#define DISC_STRANGERS 32u

enum { DISC_OFF = 0, DISC_ON = 1, DISC_EMERGENCY = 2 };

struct disc_peer {
	uint8_t pk[WH_PK_BYTES];
	char endpoint[WH_NET_ENDPOINT_MAX + 1];
	uint64_t first_ms, heard_ms; /* monotonic */
	int dial;                    /* in the dial set */
};

struct disc_stranger {
	uint8_t pk[WH_PK_BYTES];
	uint64_t said_ms;
};

struct disc {
	struct wh_lan *lan; /* open while discovery is active */
	uint16_t port;
	int mode_said;
	struct wh_beacon_filter filter;
	struct disc_peer peer[DISC_PEERS_MAX];
	size_t npeer;
	struct disc_stranger str[DISC_STRANGERS];
	size_t nstr, str_next;
	uint64_t say_window; /* start of the current minute of lines */
	unsigned said;
	uint64_t unsaid;     /* untrusted beacons not logged */
	uint64_t bad, bad_said_ms;
	uint64_t beacon_due, check_due, retry_at;
	int dials_dirty;
};

static int disc_mode(const struct agent *a)
{
	if (a->flag_discovery >= 0)
		return a->flag_discovery;
	const char *m = a->cur->conf.discovery;
	if (!strcmp(m, "on"))
		return DISC_ON;
	if (!strcmp(m, "off"))
		return DISC_OFF;
	return DISC_EMERGENCY;
}

int agent_disc_mode_parse(const char *s)
{
	if (!strcmp(s, "off"))
		return DISC_OFF;
	if (!strcmp(s, "on"))
		return DISC_ON;
	if (!strcmp(s, "emergency"))
		return DISC_EMERGENCY;
	return -1;
}

static const char *mode_name(int m)
{
	return m == DISC_ON ? "on" : m == DISC_OFF ? "off" : "emergency";
}

static uint64_t jitter(uint32_t span)
{
	return randombytes_uniform(span);
}

/* ---- dialing ------------------------------------------------------ */

static int configured(const struct settings *s, const uint8_t pk[WH_PK_BYTES])
{
	for (size_t i = 0; i < s->ndial; i++)
		if (!memcmp(s->dial[i].pk, pk, WH_PK_BYTES))
			return 1;
	return 0;
}

int agent_dial_set(struct agent *a, const struct settings *s)
{
	struct wh_net_dial d[CLI_CONF_LIST_MAX + DISC_PEERS_MAX];
	size_t k = 0;
	for (size_t i = 0; i < s->ndial; i++)
		d[k++] = s->dial[i];
	struct disc *ds = a->disc;
	for (size_t i = 0; ds && i < ds->npeer; i++) {
		const struct disc_peer *p = &ds->peer[i];
		/* Only keys trusted under these settings: a reload may have
		 * dropped one (the net refuses to dial an untrusted key). */
		if (!p->dial || configured(s, p->pk) ||
		    !trust_by_key(&s->trust, p->pk))
			continue;
		memcpy(d[k].pk, p->pk, WH_PK_BYTES);
		snprintf(d[k].endpoint, sizeof d[k].endpoint, "%s",
			 p->endpoint);
		k++;
	}
	if (ds)
		ds->dials_dirty = 0;
	return wh_net_dial_set(a->net, d, k);
}

struct linked {
	const uint8_t *pk;
	int in_up, out_up;
};

static int linked_cb(void *ctx, const struct wh_net_link_info *l)
{
	struct linked *k = ctx;
	if (!l->up || memcmp(l->peer->pk, k->pk, WH_PK_BYTES))
		return 0;
	if (l->outbound)
		k->out_up = 1;
	else
		k->in_up = 1;
	return 0;
}

static const char *name_of(const struct agent *a,
			   const uint8_t pk[WH_PK_BYTES])
{
	const struct wh_net_peer *p = trust_by_key(&a->cur->trust, pk);
	return p ? p->name : "?";
}

/* Whether to dial p now (the rules in the file comment); 0 when p is
 * to be forgotten too (*gone). */
static int want_dial(struct agent *a, const struct disc_peer *p,
		     uint64_t now, int *gone)
{
	struct linked k = {p->pk, 0, 0};
	wh_net_each_link(a->net, linked_cb, &k);
	*gone = !k.in_up && !k.out_up && now - p->heard_ms > DISC_EXPIRE_MS;
	if (*gone || configured(a->cur, p->pk))
		return 0;
	if (p->dial)
		return !(k.in_up && !k.out_up);
	if (k.in_up)
		return 0;
	return a->cur->nlisten == 0 ||
	       memcmp(a->c->key->pk, p->pk, WH_PK_BYTES) < 0 ||
	       now - p->first_ms >= DISC_GRACE_MS;
}

static void peers_update(struct agent *a, uint64_t now)
{
	struct disc *d = a->disc;
	for (size_t i = 0; i < d->npeer;) {
		struct disc_peer *p = &d->peer[i];
		int gone;
		int w = want_dial(a, p, now, &gone);
		if (w != p->dial) {
			if (w)
				log_info("dialing %s at %s (found on the LAN)",
					 name_of(a, p->pk), p->endpoint);
			else if (!gone)
				log_debug("not dialing %s any more: its own "
					  "connection is up",
					  name_of(a, p->pk));
			p->dial = w;
			d->dials_dirty = 1;
		}
		if (gone) {
			log_info("%s not heard on the LAN for %u s: forgotten",
				 name_of(a, p->pk), DISC_EXPIRE_MS / 1000);
			if (p->dial)
				d->dials_dirty = 1;
			d->peer[i] = d->peer[--d->npeer];
			continue;
		}
		i++;
	}
}

/* ---- beacons ------------------------------------------------------- */

/* One listen endpoint as a beacon names it: its port, and its host
 * unless that is a wildcard (then receivers use the datagram's source
 * address). 0 if it cannot be named, or only this host reaches it
 * (loopback). */
static int endpoint_named(const char *ep, char host[WH_BEACON_HOST_MAX + 1],
			  uint16_t *port)
{
	if (strncmp(ep, "tcp://", 6))
		return 0;
	ep += 6;
	const char *colon = strrchr(ep, ':');
	if (!colon)
		return 0;
	char *end;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (*end || p < 1 || p > 65535)
		return 0;
	size_t hn = (size_t)(colon - ep);
	if (hn >= 2 && ep[0] == '[' && ep[hn - 1] == ']') {
		ep++;
		hn -= 2;
	}
	if (hn > WH_BEACON_HOST_MAX)
		return 0;
	memcpy(host, ep, hn);
	host[hn] = '\0';
	if (!strncmp(host, "127.", 4) || !strcmp(host, "::1") ||
	    !strcmp(host, "localhost"))
		return 0;
	if (!strcmp(host, "*") || !strcmp(host, "0.0.0.0") ||
	    !strcmp(host, "::"))
		host[0] = '\0';
	*port = (uint16_t)p;
	return 1;
}

/* Our beacon names the first listen endpoint others can reach; 0 if
 * there is none: nothing to dial, no beacon. */
static int own_endpoint(const struct agent *a, char host[WH_BEACON_HOST_MAX + 1],
			uint16_t *port)
{
	for (size_t i = 0; i < a->cur->nlisten; i++)
		if (endpoint_named(a->cur->listen[i], host, port))
			return 1;
	return 0;
}

static void beacon_send(struct agent *a)
{
	struct disc *d = a->disc;
	struct wh_beacon b;
	memset(&b, 0, sizeof b);
	if (!own_endpoint(a, b.host, &b.port))
		return;
	memcpy(b.pk, a->c->key->pk, WH_PK_BYTES);
	b.ms = wh_clock_realtime(NULL);
	randombytes_buf(b.nonce, sizeof b.nonce);
	int role = cli_role_net(a->c->conf.role);
	b.role = role < 0 ? WH_ROLE_OTHER : (enum wh_role)role;
	snprintf(b.path, sizeof b.path, "%s", a->hello_path);
	struct wh_buf out = {0};
	size_t sent = 0;
	int rc = wh_beacon_encode(&b, a->c->key, &out);
	if (rc == WH_OK)
		rc = wh_lan_broadcast(d->lan, out.p, out.len, &sent);
	if (rc != WH_OK && rc != WH_ENOTFOUND)
		log_debug("LAN beacon not sent: %s (%s)", wh_strerror(rc),
			  strerror(errno));
	wh_buf_fini(&out);
}

static void stranger(struct agent *a, const struct wh_beacon *b,
		     const char *from)
{
	struct disc *d = a->disc;
	uint64_t now = agent_mono_ms();
	struct disc_stranger *s = NULL;
	for (size_t i = 0; i < d->nstr && !s; i++)
		if (!memcmp(d->str[i].pk, b->pk, WH_PK_BYTES))
			s = &d->str[i];
	if (s && now - s->said_ms < DISC_SAY_MS) {
		d->unsaid++;
		return;
	}
	if (now - d->say_window >= 60000u) {
		d->say_window = now;
		d->said = 0;
	}
	if (d->said >= DISC_SAY_MAX) {
		d->unsaid++;
		return;
	}
	if (!s) {
		s = &d->str[d->str_next];
		d->str_next = (d->str_next + 1) % DISC_STRANGERS;
		if (d->nstr < DISC_STRANGERS)
			d->nstr++;
		memcpy(s->pk, b->pk, WH_PK_BYTES);
	}
	s->said_ms = now;
	d->said++;
	char hex[2 * WH_PK_BYTES + 1], more[80] = "";
	wh_hex(b->pk, WH_PK_BYTES, hex);
	if (d->unsaid)
		snprintf(more, sizeof more,
			 " (and %" PRIu64 " untrusted beacons not logged)",
			 d->unsaid);
	d->unsaid = 0;
	log_warn("ignoring a LAN beacon from untrusted key %s at %s (it says "
		 "it is a %s at %s): not in %s; no connection is made%s",
		 hex, from, wh_role_name(b->role), b->path,
		 a->bound ? "the district's roster" : "the trust list", more);
}

static void bad_beacon(struct agent *a, const char *from, int rc)
{
	struct disc *d = a->disc;
	d->bad++;
	uint64_t now = agent_mono_ms();
	if (now - d->bad_said_ms < 60000u && d->bad_said_ms)
		return;
	d->bad_said_ms = now;
	log_debug("LAN beacon from %s dropped: %s (%" PRIu64 " dropped so "
		  "far)",
		  from, wh_strerror(rc), d->bad);
}

static struct disc_peer *peer_slot(struct disc *d,
				   const uint8_t pk[WH_PK_BYTES], int *fresh)
{
	*fresh = 0;
	for (size_t i = 0; i < d->npeer; i++)
		if (!memcmp(d->peer[i].pk, pk, WH_PK_BYTES))
			return &d->peer[i];
	if (d->npeer == DISC_PEERS_MAX)
		return NULL; /* a LAN with more trusted agents than this:
			      * the first ones heard are enough */
	*fresh = 1;
	struct disc_peer *p = &d->peer[d->npeer++];
	memset(p, 0, sizeof *p);
	memcpy(p->pk, pk, WH_PK_BYTES);
	return p;
}

static void heard(struct agent *a, const uint8_t *buf, size_t n,
		  const char *from)
{
	struct disc *d = a->disc;
	struct wh_beacon b;
	int rc = wh_beacon_decode(buf, n, &b);
	if (rc != WH_OK) {
		bad_beacon(a, from, rc);
		return;
	}
	if (!memcmp(b.pk, a->c->key->pk, WH_PK_BYTES))
		return; /* our own, back from the broadcast */
	const struct wh_net_peer *t = trust_by_key(&a->cur->trust, b.pk);
	if (!t) {
		stranger(a, &b, from);
		return;
	}
	if ((rc = wh_beacon_fresh(&d->filter, &b, wh_clock_realtime(NULL))) !=
	    WH_OK) {
		bad_beacon(a, from, rc);
		return;
	}
	const char *host = b.host[0] ? b.host : from;
	char ep[WH_NET_ENDPOINT_MAX + 1];
	snprintf(ep, sizeof ep, strchr(host, ':') ? "tcp://[%s]:%u"
						  : "tcp://%s:%u",
		 host, (unsigned)b.port);
	if (!host[0] || !trust_endpoint_valid(ep)) {
		bad_beacon(a, from, WH_EFIELD);
		return;
	}
	int fresh;
	struct disc_peer *p = peer_slot(d, b.pk, &fresh);
	if (!p)
		return;
	uint64_t now = agent_mono_ms();
	if (fresh) {
		p->first_ms = now;
		log_info("found %s (%s %s) on the LAN at %s", t->name,
			 wh_role_name(b.role), b.path, ep);
	}
	if (strcmp(p->endpoint, ep)) {
		if (!fresh)
			log_info("%s is now at %s (LAN beacon)", t->name, ep);
		snprintf(p->endpoint, sizeof p->endpoint, "%s", ep);
		if (p->dial)
			d->dials_dirty = 1;
	}
	p->heard_ms = now;
	peers_update(a, now);
}

/* ---- the loop's side ------------------------------------------------- */

int agent_disc_fd(const struct agent *a)
{
	return a->disc ? wh_lan_fd(a->disc->lan) : -1;
}

uint64_t agent_disc_due(const struct agent *a)
{
	const struct disc *d = a->disc;
	if (!d)
		return 0; /* the first turn sets discovery up */
	if (d->lan && d->beacon_due < d->check_due)
		return d->beacon_due;
	return d->check_due;
}

void agent_disc_read(struct agent *a)
{
	struct disc *d = a->disc;
	uint8_t buf[WH_BEACON_MAX];
	char from[WH_LAN_ADDR_MAX];
	for (unsigned i = 0; d->lan && i < DISC_DRAIN; i++) {
		size_t n;
		int rc = wh_lan_recv(d->lan, buf, sizeof buf, &n, from);
		if (rc == WH_EBUSY)
			break;
		if (rc == WH_OK)
			heard(a, buf, n, from);
		else
			bad_beacon(a, from[0] ? from : "?", rc);
	}
	if (d->dials_dirty && agent_dial_set(a, a->cur) != WH_OK)
		log_warn("cannot dial the agents found on the LAN");
}

static void disc_close(struct agent *a, const char *why)
{
	struct disc *d = a->disc;
	wh_lan_close(d->lan);
	d->lan = NULL;
	int dialled = 0;
	for (size_t i = 0; i < d->npeer; i++)
		dialled |= d->peer[i].dial;
	d->npeer = 0;
	if (dialled)
		d->dials_dirty = 1;
	log_info("LAN discovery off: %s", why);
}

static void disc_open(struct agent *a, uint64_t now)
{
	struct disc *d = a->disc;
	uint16_t port = a->cur->conf.discovery_port
				? (uint16_t)a->cur->conf.discovery_port
				: WH_BEACON_PORT;
	int rc = wh_lan_open(port, &d->lan);
	if (rc != WH_OK) {
		log_warn("LAN discovery: cannot open UDP port %u: %s; trying "
			 "again in %u s",
			 (unsigned)port, strerror(errno), DISC_RETRY_MS / 1000);
		d->retry_at = now + DISC_RETRY_MS;
		return;
	}
	d->port = port;
	wh_beacon_filter_init(&d->filter);
	char host[WH_BEACON_HOST_MAX + 1];
	uint16_t tcp;
	if (own_endpoint(a, host, &tcp))
		log_info("LAN discovery on (mode %s, UDP port %u): beacons "
			 "name tcp://%s:%u",
			 mode_name(disc_mode(a)), (unsigned)port,
			 host[0] ? host : "<this address>", (unsigned)tcp);
	else
		log_info("LAN discovery on (mode %s, UDP port %u): listening "
			 "for beacons only (no listen endpoint to announce)",
			 mode_name(disc_mode(a)), (unsigned)port);
	d->beacon_due = now;
}

void agent_disc_tick(struct agent *a)
{
	if (!a->disc)
		a->disc = wh_xcalloc(1, sizeof *a->disc);
	struct disc *d = a->disc;
	uint64_t now = agent_mono_ms();
	int mode = disc_mode(a);
	int want = mode == DISC_ON ||
		   (mode == DISC_EMERGENCY && agent_emergency_active(a));
	if (!d->mode_said && !want) {
		log_info("LAN discovery %s", mode == DISC_OFF
						     ? "off (discovery = off)"
						     : "waits for an emergency "
						       "active here "
						       "(discovery = "
						       "emergency)");
	}
	d->mode_said = 1;
	if (want && !d->lan && now >= d->retry_at)
		disc_open(a, now);
	else if (!want && d->lan)
		disc_close(a, mode == DISC_OFF ? "discovery = off"
					       : "no emergency active here");
	if (d->lan) {
		if (now >= d->beacon_due) {
			beacon_send(a);
			d->beacon_due = now + DISC_BEACON_MS - 1000 +
					jitter(2000);
		}
		peers_update(a, now);
	}
	if (d->dials_dirty && agent_dial_set(a, a->cur) != WH_OK)
		log_warn("cannot dial the agents found on the LAN");
	d->check_due = now + DISC_CHECK_MS;
}

void agent_disc_free(struct agent *a)
{
	if (!a->disc)
		return;
	wh_lan_close(a->disc->lan);
	free(a->disc);
	a->disc = NULL;
}
