/*
 * transport_int.h: what transport.c (sockets, the poll turn) and
 * transport_link.c (links, their sessions, trust and ZAP) share and
 * nothing outside net/ sees. transport.c's header comment states the
 * invariants both files keep.
 */
#ifndef WH_TRANSPORT_INT_H
#define WH_TRANSPORT_INT_H

#include "transport.h"

#include <zmq.h>

#define MAX_MSG (WH_SYNC_MAX_MSG + (64u << 10))
#define HWM 1000
#define HB_IVL 5000
#define HB_TIMEOUT 15000
#define HB_TTL 30000
#define RECONNECT_MIN 500
#define RECONNECT_JITTER 1000
#define RECONNECT_MAX 30000
#define DROP_REPORT_MS 10000u
#define CLAIM_CHECK_MS 1000u /* a wider claim (relay) is re-asked this often */
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
	char claim[WH_PATH_MAX + 1]; /* peer path last admitted */
	uint64_t claim_check_at;     /* mono ms: re-ask a wider claim */
	int held;                    /* wh_sync_hold'ed for that claim */
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
	struct wh_net_budget *budget;
	size_t nbudget;
	struct unknown unknown[NUNKNOWN];
	size_t unknown_next;
	unsigned monseq;
	zmq_pollitem_t *items;
	struct link **itemlink;
	size_t capitems;
};

/* transport.c: clocks, errors, events and socket plumbing. */
uint64_t tr_mono_ms(void);
uint64_t tr_wall_ms(struct wh_net *n);
int tr_zerr(int e);
void tr_emit(struct wh_net *n, enum wh_net_event_kind kind,
		 struct link *l, const struct wh_sync_state *st,
		 const char *text, uint64_t v);
int tr_setopt_int(void *s, int opt, int v);
int tr_common_opts(struct wh_net *n, void *s);
int tr_monitor_open(struct wh_net *n, void *s, int events, void **out);
void tr_socket_close(void **s, void **mon);
/* transport_link.c: links (created, brought up or down, killed and freed
 * only at the end of a turn by tr_sweep), what a session call's result
 * means for its link (tr_after), budgets, trust lookup and one ZAP
 * request. */
void tr_after(struct wh_net *n, struct link *l, int rc);
/* The byte budget wh_net_budget_set gave l's peer (0: none). */
uint64_t tr_budget_of(const struct wh_net *n, const struct link *l);
int tr_budget_take(struct wh_net *n, struct link *l, size_t bytes);
uint64_t tr_budget_wait(struct wh_net *n, const struct link *l);
int tr_dialer_open(struct wh_net *n, struct link *l);
void tr_link_free(struct link *l);
void tr_link_kill(struct wh_net *n, struct link *l);
struct link *tr_link_new(struct wh_net *n, const struct wh_net_peer *p,
			     int outbound, const char *endpoint);
void tr_set_down(struct wh_net *n, struct link *l);
void tr_set_up(struct wh_net *n, struct link *l);
void tr_sweep(struct wh_net *n);
const struct wh_net_peer *tr_trusted_by_pk(const struct wh_net *n,
					       const uint8_t pk[WH_PK_BYTES]);
int tr_zap_one(struct wh_net *n);

#endif
