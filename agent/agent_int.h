/*
 * agent_int.h: what the two halves of `whistle agent` share. Private to
 * cmd_agent.c and agent_peers.c; nothing else includes it.
 *
 *   cmd_agent.c    the command: flags, settings from whistle.conf and the
 *                  trust list, SIGHUP reload, signals, the lock and the
 *                  "agent/self" record, the poll loop.
 *   agent_peers.c  what happens on the links: events worded into log
 *                  lines, the "peer/<keyhex>" status records (written on
 *                  every change of state, and throttled while counters
 *                  move), the ingest hook, and push/relay of new ops.
 *   agent_disc.c   LAN discovery: the beacon socket and timer, peers
 *                  found, the dial set (configured + found).
 *
 * One thread owns struct agent; nothing here is locked.
 */
#ifndef WH_AGENT_INT_H
#define WH_AGENT_INT_H

#include "cli.h"
#include "syncio.h"
#include "trust.h"

#include <time.h>

/* The op log is polled this often when nothing pokes us sooner. */
#define LOG_POLL_MS 200u
/* Peers' counters are looked at this often; while only counters move, a
 * peer's record is written at most once per PEER_WRITE_MS. */
#define PEER_CHECK_MS 200u
#define PEER_WRITE_MS 1000u
/* What a peer holds (for bundles written for it) is noted at most this
 * often: a busy link ends a round in sync every interval, and bundles
 * are cut by hand, so a minute old is fresh enough. */
#define CARRY_LEARN_MS 60000u
/* Peers a reload dropped from the trust list, remembered to name them
 * when their key is refused. */
#define GONE_MAX 32u
/* Former jurisdictions kept until settled (agent_former.c). */
#define FORMER_MAX 8u

/* What is in effect: built from whistle.conf, the trust list and the
 * flags, swapped whole on reload. */
struct settings {
	struct trust trust;
	const char *listen[CLI_CONF_LIST_MAX];
	size_t nlisten;
	struct wh_net_dial dial[CLI_CONF_LIST_MAX];
	size_t ndial;
	uint32_t interval;
	int level;
	struct wh_net_budget budget[CLI_CONF_LIST_MAX]; /* budget lines */
	size_t nbudget;
	struct cli_conf conf; /* listen[] points into this */
};

/* An op we ingested, and from whom (not pushed back there). */
struct src {
	uint8_t id[WH_ID_BYTES];
	uint8_t pk[WH_PK_BYTES];
};

/* Per peer: what the last "in sync" line reported, when the link last
 * went up or down, and what its record last said and when (mono ms). */
struct peerinfo {
	uint8_t pk[WH_PK_BYTES];
	uint64_t out, in, since_ms;
	uint64_t wrote_ms;
	int wrote_up;
	struct wh_sync_stats wrote;
	uint64_t wrote_last_sync;
	char wrote_scope[WH_PATH_MAX + 1];
	uint64_t carry_ms; /* mono: last look at what it holds (carry.h) */
};

/* A peer dropped from the trust list by a reload: a later refusal of
 * its CURVE key can then name it. */
struct gone {
	char name[WH_NET_NAME_MAX + 1];
	uint8_t pk[WH_PK_BYTES];
	uint8_t curve[32];
};

struct agent {
	struct cli *c;
	struct settings *cur;
	struct wh_net *net;
	struct syncio sio;
	int pipe[2];
	int lock; /* HOME/agent.lock, held while we run */
	int stop;
	uint64_t started_ms; /* wall clock */
	uint32_t interval;   /* s: what the links run at (reload sets it) */
	uint64_t log_pos, log_due;
	int log_dirty;
	uint64_t peers_due;
	struct src *srcs;
	size_t nsrc, capsrc;
	struct peerinfo *pi;
	size_t npi;
	struct gone gone[GONE_MAX];
	size_t ngone, gone_next;
	/* command-line values that override the config */
	const char *flag_listen[CLI_CONF_LIST_MAX];
	size_t nflag_listen;
	const char *flag_peer[CLI_CONF_LIST_MAX];
	size_t nflag_peer;
	uint32_t flag_interval;
	int flag_level;
	/* the roster (agent_roster.c) */
	int bound;               /* the home has an authority */
	uint64_t roster_gen;     /* store's roster counter last acted on */
	uint64_t roster_due;     /* mono ms: next look at the counter */
	uint64_t roster_recheck; /* mono ms: next re-read of grant times */
	/* former jurisdictions (agent_former.c) */
	char former[FORMER_MAX][WH_PATH_MAX + 1];
	size_t nformer;
	char hello_path[WH_PATH_MAX + 1]; /* the path links are told */
	char hello_base[WH_PATH_MAX + 1]; /* ...outside an emergency */
	/* emergencies (agent_emergency.c) */
	uint64_t em_gen; /* store's emergency counter last acted on */
	uint64_t em_due; /* mono ms: next look at the counter */
	uint64_t em_recheck; /* mono ms: next activation regardless */
	int em_started;
	int em_on;            /* agent_emergency_active's last answer */
	uint64_t em_on_gen;   /* the counter it was computed at */
	uint64_t em_on_until; /* mono ms: ask again from here on */
	int em_on_known;
	/* LAN discovery (agent_disc.c) */
	struct disc *disc;  /* NULL until the first tick */
	int flag_discovery; /* --discovery: 0 off, 1 on, 2 emergency; -1 */
	struct web *web; /* the web console (web.h), or NULL */
};

static inline uint64_t agent_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- cmd_agent.c ---- */

/* Build settings again from the config in effect and the trust list or
 * roster, and put them into effect (as a reload does, without reading
 * whistle.conf). WH_OK, or the old settings stay and it says why. */
int agent_settings_refresh(struct agent *a);

/* ---- agent_roster.c ---- */

/* Bound to an authority: replace t by the roster's members valid now
 * (not this agent). Not bound: leave t alone. WH_OK or a store error. */
int agent_roster_trust(struct agent *a, struct trust *t);
/* The syncio hook for a roster installed from a peer. */
void agent_on_roster(void *ctx, const uint8_t peer[WH_PK_BYTES],
		     const uint8_t *p, size_t n,
		     const struct wh_roster_change *ch);
/* Once a second: a roster installed by another process is pushed and
 * put into effect; grants' times are re-read every minute. */
void agent_roster_poll(struct agent *a);

/* ---- agent_emergency.c ---- */

/* Once a second, and at start: when an emergency's or a plan's op was
 * stored (from a peer, a file or the CLI), or every minute (an
 * emergency's start time may come), a community station makes the plan
 * tasks it owes (cli_em_activate); new task cases go out with the next
 * push of the op log. */
void agent_em_poll(struct agent *a);
/* Whether an emergency is in force now over this station's path (what
 * 'discovery = emergency', urgent first and neighbour relay wait for):
 * wh_store_emergency_active(path, COVERS), asked again only when the
 * store's emergency counter moved or EM_RECHECK_MS passed (a declared
 * start or end may come by the clock alone). */
int agent_emergency_active(struct agent *a);
/* Neighbour relay: a community station claims its street in HELLO
 * (and beacons) while an emergency covering the street is in force
 * here, its usual path otherwise; links say HELLO again on a change. */
void agent_relay_poll(struct agent *a);

/* ---- agent_former.c ---- */

/* At start: note a changed path as former, and set hello_path to the
 * narrowest path holding the current and every unsettled former one. */
void agent_former_start(struct agent *a);
/* A round ended: former paths the in-sync scope holds are settled. */
void agent_former_round(struct agent *a, const struct wh_sync_state *st);
/* Longest common prefix of two paths on '/' boundaries ("" if none). */
void agent_path_lca(const char *a, const char *b,
		    char out[WH_PATH_MAX + 1]);

/* ---- agent_disc.c ---- */

/* "off", "on", "emergency" -> 0, 1, 2; -1 if none. */
int agent_disc_mode_parse(const char *s);
/* Make the net's dialers s's configured peers plus the agents discovery
 * found (trusted under s). What apply() calls instead of
 * wh_net_dial_set. */
int agent_dial_set(struct agent *a, const struct settings *s);
/* The UDP fd to poll (-1 while discovery is off), the next timer
 * (mono ms), a readable fd drained, the timer served (the mode looked
 * at, the socket opened or closed, a beacon sent, peers updated). */
int agent_disc_fd(const struct agent *a);
uint64_t agent_disc_due(const struct agent *a);
void agent_disc_read(struct agent *a);
void agent_disc_tick(struct agent *a);
void agent_disc_free(struct agent *a);

/* ---- agent_peers.c ---- */

/* The net's event callback (ctx: struct agent). */
void agent_on_event(void *ctx, const struct wh_net_event *ev);
/* The syncio ingest hook (ctx: struct agent): remembers where new ops
 * came from, logs refusals. */
void agent_on_ingest(void *ctx, const uint8_t peer[WH_PK_BYTES],
		     const struct wh_slice *ops, size_t n, const int *res);
/* Push ops that reached the op log since the last call to the links
 * (not back to where they came from); sets the next poll time. */
void agent_push_new(struct agent *a);
/* Write the record of every peer whose counters moved since its last
 * write, if that was PEER_WRITE_MS ago or more; sets peers_due. */
void agent_peers_flush(struct agent *a);
/* At shutdown: record every link as disconnected. */
void agent_peers_stop(struct agent *a);
/* After a reload: remember peers that 'old' trusted and 'now' does not. */
void agent_trust_dropped(struct agent *a, const struct trust *old,
			 const struct trust *now);
/* Free what agent_peers.c allocated in a. */
void agent_peers_free(struct agent *a);

#endif
