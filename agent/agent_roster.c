/*
 * agent_roster.c: the running agent and the roster. When the home is
 * bound to an authority, the roster replaces the trust list for who may
 * connect (the ZAP handler admits exactly the members valid now) and
 * names peers in logs; the manual list is then ignored (docs/guide.md:
 * it stays for lab use). A roster that arrives over a link or from
 * `whistle roster apply` is passed on to every other link and put into
 * effect at once: links of keys it revoked are closed.
 */
#include "agent_int.h"

#include "log.h"
#include "roster.h"

#include <stdlib.h>
#include <string.h>

/* Grants are re-read this often even if no roster arrives: a grant's
 * end time passes without anyone telling us. */
#define ROSTER_RECHECK_MS 60000u
/* A member moved to another jurisdiction may still claim its former
 * one this long, to hand over what it wrote there (agent_former.c). */
#define FORMER_DAYS 30u

static enum wh_role net_role(unsigned mrole)
{
	switch (mrole) {
	case WH_MROLE_STATION: return WH_ROLE_STATION;
	case WH_MROLE_STREET: return WH_ROLE_STREET;
	case WH_MROLE_DISTRICT: return WH_ROLE_DISTRICT;
	default: return WH_ROLE_OTHER;
	}
}

static void add_grant(struct trust *t, const struct wh_grant *g,
		      const uint8_t self[WH_PK_BYTES])
{
	if (!memcmp(g->key, self, WH_PK_BYTES) || trust_by_key(t, g->key))
		return;
	uint8_t curve[32];
	if (wh_net_curve_pk(g->key, curve) != WH_OK)
		return; /* a key with no CURVE twin cannot connect anyway */
	struct wh_net_peer p;
	memset(&p, 0, sizeof p);
	memcpy(p.pk, g->key, WH_PK_BYTES);
	p.role = net_role(g->role);
	snprintf(p.path, sizeof p.path, "%s", g->path);
	snprintf(p.name, sizeof p.name, "%s", g->name);
	trust_append(t, &p);
}

/* Widen p's path to hold the paths of its key's grants that ended (not
 * by revocation) within FORMER_DAYS. */
static void widen(const struct wh_roster *r, struct wh_net_peer *p,
		  uint64_t now)
{
	const uint64_t span = (uint64_t)FORMER_DAYS * 86400000u;
	for (uint32_t i = 0; r && i < r->ngrants; i++) {
		const struct wh_grant *g = &r->grants[i];
		if (memcmp(g->key, p->pk, WH_PK_BYTES) || g->revoked_ms ||
		    !g->until_ms || g->until_ms > now ||
		    now - g->until_ms > span)
			continue;
		char l[WH_PATH_MAX + 1];
		agent_path_lca(p->path, g->path, l);
		if (l[0])
			strcpy(p->path, l);
	}
}

int agent_roster_trust(struct agent *a, struct trust *t)
{
	struct wh_roster_set *rs = wh_xcalloc(1, sizeof *rs);
	int rc = wh_store_roster_set(a->c->store, rs);
	if (rc == WH_ENOTFOUND) {
		free(rs);
		a->bound = 0;
		return WH_OK; /* lab mode: the trust list stands */
	}
	if (rc != WH_OK) {
		free(rs);
		return rc;
	}
	if (t->n && !a->bound)
		log_warn("the trust list (%zu entries) is ignored: this "
			 "station is bound to an authority, whose roster "
			 "says who may connect",
			 t->n);
	a->bound = 1;
	trust_fini(t);
	uint64_t now = wh_clock_realtime(NULL);
	const uint8_t *self = a->c->key->pk;
	/* Each key enters with the grant that makes it a member now, not
	 * whichever of its grants comes first: a moved station's ended
	 * grant comes before its new one, and only widens it (below). */
	for (uint32_t i = 0; i < rs->root.ngrants; i++) {
		const struct wh_grant *g = &rs->root.grants[i];
		const struct wh_grant *live;
		if (g->role != WH_MROLE_DELEGATE &&
		    wh_roster_member_now(rs, g->key, now, &live))
			add_grant(t, live, self);
	}
	for (uint32_t d = 0; d < rs->ndel; d++)
		for (uint32_t i = 0; i < rs->del[d].ngrants; i++) {
			const struct wh_grant *g = &rs->del[d].grants[i];
			const struct wh_grant *live;
			/* The grant that makes the key a member now, which
			 * may be another of its grants. */
			if (wh_roster_member_now(rs, g->key, now, &live))
				add_grant(t, live, self);
		}
	for (size_t i = 0; i < t->n; i++) {
		widen(&rs->root, &t->e[i], now);
		for (uint32_t d = 0; d < rs->ndel; d++)
			widen(&rs->del[d], &t->e[i], now);
	}
	wh_roster_set_fini(rs);
	free(rs);
	return WH_OK;
}

/* Put a changed roster into effect: new trust, links of keys no longer
 * members closed (wh_net_trust_set does that). */
static void refresh(struct agent *a, const char *why)
{
	if (agent_settings_refresh(a) == WH_OK)
		log_info("roster in effect (%s): %zu members may connect", why,
			 a->cur->trust.n);
}

void agent_on_roster(void *ctx, const uint8_t peer[WH_PK_BYTES],
		     const uint8_t *p, size_t n,
		     const struct wh_roster_change *ch)
{
	struct agent *a = ctx;
	char hex[2 * WH_PK_BYTES + 1];
	wh_hex(ch->signer, WH_PK_BYTES, hex);
	log_info("roster %llu from %.16s... installed (from a peer); %zu ops "
		 "dropped",
		 (unsigned long long)ch->serial, hex, ch->purged);
	if (wh_store_roster_gen(a->c->store, &a->roster_gen) != WH_OK)
		a->roster_gen = 0; /* looked at again in a second */
	wh_net_push_roster(a->net, p, n, peer);
	refresh(a, "received");
}

static int push_one(void *ctx, const uint8_t *p, size_t n)
{
	struct agent *a = ctx;
	wh_net_push_roster(a->net, p, n, NULL);
	return 0;
}

void agent_roster_poll(struct agent *a)
{
	uint64_t now = agent_mono_ms();
	a->roster_due = now + 1000;
	uint64_t gen = 0;
	if (wh_store_roster_gen(a->c->store, &gen) != WH_OK)
		return;
	if (gen != a->roster_gen) {
		/* Another process (`whistle roster apply`) installed one:
		 * offer what we hold to every link; each side keeps only
		 * what is newer. */
		a->roster_gen = gen;
		a->roster_recheck = now + ROSTER_RECHECK_MS;
		int rc = wh_store_roster_each(a->c->store, push_one, a);
		if (rc != WH_OK && rc != WH_ENOTFOUND)
			log_warn("cannot read the rosters to pass them on: %s",
				 wh_strerror(rc));
		refresh(a, "installed here");
	} else if (a->bound && now >= a->roster_recheck) {
		a->roster_recheck = now + ROSTER_RECHECK_MS;
		size_t before = a->cur->trust.n;
		if (agent_settings_refresh(a) == WH_OK &&
		    a->cur->trust.n != before)
			log_info("roster: %zu members may connect now (a "
				 "grant began or ended)",
				 a->cur->trust.n);
	}
}
