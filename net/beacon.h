/*
 * beacon.h: LAN discovery beacons, the UDP datagram an agent broadcasts
 * on its local subnet to say "I am KEY, at path P, syncing on PORT".
 * Pure: encode, the one decoder of beacon bytes, and the replay filter;
 * the socket is net/lan.h, what the agent does with a beacon
 * agent/agent_disc.c. docs/protocol.md, "LAN beacon", has the bytes.
 *
 *     datagram = B || S
 *     B = msgpack fixarray(9)
 *         ["whistle-beacon", version = 1, key bin 32, ms uint,
 *          nonce bin 16, role uint, path str, port uint, host str]
 *     S = 64 bytes, Ed25519 by key over B
 *
 * A beacon proves only that the key's holder sent these bytes at some
 * time: whom to dial and under which key. Whether to believe the key is
 * the agent's (trust list, roster); the connection it leads to is still
 * CURVE-authenticated and ZAP-checked, so a beacon can at worst make an
 * agent dial an address where the key's holder is not (the handshake
 * then fails).
 *
 * Replay: wh_beacon_fresh admits a beacon only if its time lies within
 * WH_BEACON_SKEW_MS of the receiver's clock and it is newer than the
 * last one admitted from its key (or as new, with another nonce), so a
 * recorded beacon played back is ignored. The filter remembers
 * WH_BEACON_KEYS keys; when it forgets one (least recently heard) it
 * raises a floor under which no beacon of any key is admitted, so a
 * forgotten key's old beacons stay refused too.
 */
#ifndef WH_BEACON_H
#define WH_BEACON_H

#include "key.h"
#include "sync.h"
#include "wh.h"

#define WH_BEACON_VERSION 1
#define WH_BEACON_MAX 512       /* bytes of a whole datagram, at most */
#define WH_BEACON_NONCE 16
#define WH_BEACON_HOST_MAX 63   /* an IPv4/IPv6 literal or a host name */
#define WH_BEACON_PORT 7420     /* UDP; the same number as sync's TCP */
#define WH_BEACON_SKEW_MS 600000u /* 10 min, the op clock rule's bound */
#define WH_BEACON_KEYS 256

struct wh_beacon {
	uint8_t pk[WH_PK_BYTES];
	uint64_t ms;                   /* sender's wall clock */
	uint8_t nonce[WH_BEACON_NONCE];
	enum wh_role role;
	char path[WH_PATH_MAX + 1];     /* the sender's jurisdiction */
	uint16_t port;                  /* its sync endpoint's TCP port */
	char host[WH_BEACON_HOST_MAX + 1]; /* "" : the datagram's source */
};

/* Sign b with key (b->pk must be key->pk) and append the datagram to
 * out. WH_EINVAL if b breaks a bound the decoder checks (nothing is
 * appended then). */
WH_MUST_CHECK int wh_beacon_encode(const struct wh_beacon *b,
				   const struct wh_key *key,
				   struct wh_buf *out);

/*
 * Decode and verify a datagram. WH_OK and *b filled, or: WH_ETOOBIG
 * (over WH_BEACON_MAX), WH_ETRUNC, WH_EDECODE (not a beacon, or bytes
 * after the signature), WH_ECANON, WH_EUTF8, WH_EVERSION, WH_EPATH,
 * WH_EFIELD (role, port or host out of bounds), WH_ESIG.
 */
WH_MUST_CHECK int wh_beacon_decode(const uint8_t *p, size_t n,
				   struct wh_beacon *b);

struct wh_beacon_seen {
	uint8_t pk[WH_PK_BYTES];
	uint64_t ms;
	uint8_t nonce[WH_BEACON_NONCE];
	uint64_t used; /* filter tick when last admitted: who to forget */
};

struct wh_beacon_filter {
	struct wh_beacon_seen e[WH_BEACON_KEYS];
	size_t n;
	uint64_t floor_ms; /* no beacon at or below this is admitted */
	uint64_t tick;
};

void wh_beacon_filter_init(struct wh_beacon_filter *f);

/*
 * Admit b (decoded and verified) at now_ms, and remember it: WH_OK; or
 * WH_ECLOCK (its time is more than WH_BEACON_SKEW_MS from now_ms),
 * WH_EEXIST (a replay: not newer than the last admitted from its key,
 * or that very beacon), WH_EOLD (at or below the floor).
 */
WH_MUST_CHECK int wh_beacon_fresh(struct wh_beacon_filter *f,
				  const struct wh_beacon *b, uint64_t now_ms);

#endif
