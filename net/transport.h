/*
 * transport.h: the ZeroMQ side of sync. The only code that includes
 * zmq.h (net/transport.c). It owns one zmq context, the sockets, the ZAP
 * handler and one sync session (net/sync.h) per link, and runs them from
 * the caller's single poll loop: wh_net_poll is one turn of it.
 *
 *   - Identity: the CURVE key pair is derived from the agent's Ed25519
 *     key, so one key names an agent. A trusted peer is its Ed25519 key.
 *   - Listening: one ROUTER (CURVE server, ZAP domain "whistle") bound to
 *     every listen endpoint. The ZAP handler, a REP socket on
 *     inproc://zeromq.zap.01 served in the same loop, admits only CURVE
 *     keys of trusted peers and reports the peer's Ed25519 key as the
 *     User-Id of each message. A listener-side link appears when a peer's
 *     first message arrives.
 *   - Dialing: one DEALER per configured peer, CURVE client pinned to
 *     the peer's key; both directions of sync run over that connection,
 *     so a station needs no inbound port. Link up/down come from a socket
 *     monitor (HANDSHAKE_SUCCEEDED / DISCONNECTED / HANDSHAKE_FAILED_*).
 *   - Bounds: ZMQ_MAXMSGSIZE, send/receive HWMs, heartbeats, reconnect
 *     backoff with per-peer jitter, at most WH_NET_DRAIN messages per
 *     socket per turn, and a per-peer message/byte budget per second.
 *     A peer whose session returns WH_EDENIED is shut out for deny_ms.
 *
 * Nothing here prints: what happens is reported through on_event, and
 * the agent words it. Errors are WH_E* codes; errno is kept for the
 * caller's message when a bind or connect fails.
 */
#ifndef WH_TRANSPORT_H
#define WH_TRANSPORT_H

#include "sync.h"

#define WH_NET_NAME_MAX 64
#define WH_NET_ENDPOINT_MAX 255
#define WH_NET_DRAIN 64          /* messages per socket per turn */
#define WH_NET_DENY_MS 60000u    /* default shut-out after WH_EDENIED */

/* A trusted peer (one line of the trust list). */
struct wh_net_peer {
	uint8_t pk[WH_PK_BYTES]; /* Ed25519 identity */
	enum wh_role role;
	char path[WH_PATH_MAX + 1];
	char name[WH_NET_NAME_MAX + 1];
	char endpoint[WH_NET_ENDPOINT_MAX + 1]; /* "" if not dialable */
};

enum wh_net_event_kind {
	WH_NET_UP,        /* link came up (handshake done / first message) */
	WH_NET_DOWN,      /* link went down */
	WH_NET_ROUND,     /* a reconciliation finished, or in_sync changed
			   * (st has the result) */
	WH_NET_HELLO,     /* the peer said HELLO (st: its path and role) */
	WH_NET_DROPPED,   /* n messages dropped: malformed, unexpected or
			   * over the rate budget (at most one event per
			   * peer per 10 s, n accumulated) */
	WH_NET_DENIED,    /* peer shut out for n ms (text: why) */
	WH_NET_UNKNOWN_KEY, /* ZAP refused a CURVE key not trusted (text:
			     * the key in hex and the address); at most
			     * once per key per minute */
	WH_NET_REFUSED,   /* our handshake to peer was refused, or failed
			   * (text: why); once until the next success */
	WH_NET_ERROR      /* a session step failed (n: the WH_E* code) */
};

struct wh_net_event {
	enum wh_net_event_kind kind;
	const struct wh_net_peer *peer;  /* NULL for WH_NET_UNKNOWN_KEY */
	const char *endpoint;            /* dialed endpoint, or NULL */
	const struct wh_sync_state *st;  /* session state, or NULL */
	const char *text;                /* detail, or NULL */
	uint64_t n;
};

/* One link as wh_net_each_link shows it. Borrowed for the call. */
struct wh_net_link_info {
	const struct wh_net_peer *peer;
	const char *endpoint; /* dialer: where; listener side: NULL */
	int outbound;         /* we dialled */
	int up;
	int idle;             /* up, HELLO exchanged, nothing in flight */
	uint64_t since_ms;    /* wall clock of the last up/down change */
	const struct wh_sync_state *st; /* NULL until a session exists */
};

struct wh_net_opts {
	const struct wh_key *key;  /* borrowed; must outlive the net */
	struct wh_sync_self self;  /* path is copied */
	struct wh_sync_io io;      /* the store side; 'send' is ignored */
	void (*on_event)(void *ctx, const struct wh_net_event *ev);
	void *ctx;
	uint32_t deny_ms;          /* 0: WH_NET_DENY_MS */
	uint32_t linger_ms;        /* ZMQ_LINGER on close; 0: 500 */
	uint32_t msgs_per_s;       /* per-peer budget; 0: 1000 */
	uint32_t bytes_per_s;      /* per-peer budget; 0: 32 MiB */
};

struct wh_net;

/* Create the context and the ZAP handler. Allocates; wh_net_close. */
WH_MUST_CHECK int wh_net_open(const struct wh_net_opts *o,
			      struct wh_net **out);
/* Close every socket (pending sends get linger_ms), free the sessions
 * and terminate the context. Accepts NULL. */
void wh_net_close(struct wh_net *n);

/*
 * Replace the trusted peers (copied). Links to peers no longer trusted,
 * or whose path or role changed, are closed; the others keep running.
 * Dialers are not created here: see wh_net_dial_set.
 */
WH_MUST_CHECK int wh_net_trust_set(struct wh_net *n,
				   const struct wh_net_peer *peers, size_t k);

/*
 * Make the listen endpoints exactly eps[0..k): new ones are bound (the
 * ROUTER is created on the first), dropped ones unbound, the rest left
 * alone. On a bind failure returns WH_EBUSY (address in use), WH_EINVAL
 * (bad endpoint) or WH_EIO, with *failed = the index and errno kept;
 * endpoints before it are in effect.
 */
WH_MUST_CHECK int wh_net_listen_set(struct wh_net *n, const char *const *eps,
				    size_t k, size_t *failed);

/* One peer to dial: its key (must be in the trust set) and where. */
struct wh_net_dial {
	uint8_t pk[WH_PK_BYTES];
	char endpoint[WH_NET_ENDPOINT_MAX + 1];
};

/*
 * Make the dialers exactly d[0..k): unchanged (key, endpoint) pairs keep
 * their socket and session; new ones connect (asynchronously: the link
 * comes up later, reported by WH_NET_UP); dropped ones close. WH_ENOTFOUND
 * if a key is not trusted, WH_EINVAL for a bad endpoint (nothing changed).
 */
WH_MUST_CHECK int wh_net_dial_set(struct wh_net *n,
				  const struct wh_net_dial *d, size_t k);

/*
 * One turn of the loop: poll every socket and, if fd >= 0, that plain
 * fd for reading (the caller's signal self-pipe), for at most timeout_ms
 * (-1: until something happens; the net shortens it to its own next
 * timer). Then serve ZAP, monitors, at most WH_NET_DRAIN messages per
 * socket, and due session timers; events are reported as they happen.
 * *fd_ready says whether fd is readable (the caller drains it).
 * Returns WH_OK or WH_EIO (poll failed other than EINTR).
 */
WH_MUST_CHECK int wh_net_poll(struct wh_net *n, int fd, int64_t timeout_ms,
			      int *fd_ready);

/*
 * New ops (raw bytes) this agent authored or ingested: pushed on every
 * link that is up except the links to except_pk (NULL: none), where
 * the session sends those within its shared scope.
 */
void wh_net_push(struct wh_net *n, const struct wh_slice *ops, size_t k,
		 const uint8_t *except_pk);

/* A roster this agent just installed: sent on every link that is up and
 * speaks protocol 4, except to except_pk (NULL: none). */
void wh_net_push_roster(struct wh_net *n, const uint8_t *p, size_t len,
			const uint8_t *except_pk);

/* "Sync now": every link that is up and idle starts a reconciliation
 * round at once (wh_sync_kick). Returns how many links were up. */
size_t wh_net_sync_now(struct wh_net *n);

/* A plain fd for wh_net_poll_fds: events ZMQ_POLLIN-style bits
 * (WH_NET_FD_IN, WH_NET_FD_OUT); revents is set by the call. */
#define WH_NET_FD_IN 1
#define WH_NET_FD_OUT 2
struct wh_net_fd {
	int fd;
	short events, revents;
};

/*
 * wh_net_poll with any number of plain fds (the signal pipe, the LAN
 * discovery socket, the web console's sockets) polled beside the
 * sockets, each one's revents set to what it is ready for; an fd below
 * 0 is skipped (its revents 0). wh_net_poll(n, fd, t, &r) is this with one
 * fd. Returns WH_OK or WH_EIO.
 */
WH_MUST_CHECK int wh_net_poll_fds(struct wh_net *n, struct wh_net_fd *fds,
				  size_t nfds, int64_t timeout_ms);

/* Change the path this agent claims in HELLO (copied) and say HELLO
 * again on every link that is up: neighbour relay widens a station's
 * scope to its street in an emergency and narrows it after. WH_EPATH
 * for a bad path (nothing changed). */
WH_MUST_CHECK int wh_net_path_set(struct wh_net *n, const char *path);

/* One peer's byte budget (net/sync.h, wh_sync_budget). */
struct wh_net_budget {
	uint8_t pk[WH_PK_BYTES];
	uint64_t bytes_per_h;
};

/* The digest interval of every link from now on, and of links made
 * later (0: the default): a reloaded sync_interval. */
void wh_net_interval_set(struct wh_net *n, uint32_t interval_ms);

/* Make the budgets exactly b[0..k) (copied): links to those peers get
 * theirs now and on every reconnect, the others none. */
void wh_net_budget_set(struct wh_net *n, const struct wh_net_budget *b,
		       size_t k);

/* Call cb for every link; a non-zero return stops and is returned. */
int wh_net_each_link(struct wh_net *n,
		     int (*cb)(void *ctx, const struct wh_net_link_info *l),
		     void *ctx);

/* The CURVE (X25519) public key of an Ed25519 public key: WH_OK, or
 * WH_EKEY if pk is not a valid point. */
WH_MUST_CHECK int wh_net_curve_pk(const uint8_t pk[WH_PK_BYTES],
				  uint8_t out[32]);

#endif
