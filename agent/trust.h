/*
 * trust.h: the trust list, HOME/trust: which agents this one talks to.
 * It is what the ZAP handler admits and what names a peer in logs and
 * status (a signed roster replaces it in a later release).
 *
 * Format: UTF-8 text, one entry per line, fields separated by spaces:
 *
 *     KEYHEX ROLE PATH NAME [ENDPOINT]
 *
 *   KEYHEX    the peer's Ed25519 public key, 64 lower-case hex digits
 *             (what 'whistle key show' prints there)
 *   ROLE      station | street | district | other
 *   PATH      its jurisdiction, e.g. xicheng/xinjiekou/zhaodengyu
 *   NAME      a short local name, [a-z0-9_.-], at most 64 bytes
 *   ENDPOINT  where to dial it, tcp://HOST:PORT (optional)
 *
 * Blank lines and lines starting with '#' are comments. Keys and names
 * are unique. The file is written atomically (tmp + fsync + rename).
 */
#ifndef WH_TRUST_H
#define WH_TRUST_H

#include "cli.h"
#include "transport.h"

struct trust {
	struct wh_net_peer *e;
	size_t n, cap;
};

/* Load HOME/trust; a missing file is an empty list. Messages name the
 * file and line (cli_fail); returns CLI_OK or CLI_FAIL. t is
 * initialised by the call either way; release with trust_fini. */
int trust_load(const struct cli *c, struct trust *t);
/* The same from a stream the caller opened and closes ('file' names it
 * in messages): the parser alone, which the fuzz target drives. */
int trust_read(const struct cli *c, const char *file, FILE *f,
	       struct trust *t);
/* Write HOME/trust atomically. */
int trust_save(const struct cli *c, const struct trust *t);
void trust_fini(struct trust *t);
/* Append a copy of e (the caller checked it is unique). */
void trust_append(struct trust *t, const struct wh_net_peer *e);

/* Entry by key or by name; NULL if none. */
const struct wh_net_peer *trust_by_key(const struct trust *t,
				       const uint8_t pk[WH_PK_BYTES]);
const struct wh_net_peer *trust_by_name(const struct trust *t,
					const char *name);

/* Field checks shared by `trust add` and the loader. */
int trust_name_valid(const char *s);
/* tcp://HOST:PORT, HOST a name, IPv4, [IPv6] or '*' / 0.0.0.0 for
 * listening; PORT 1..65535. */
int trust_endpoint_valid(const char *s);
/* 64 hex digits naming a valid Ed25519 point (one that has a CURVE
 * twin). WH_OK or WH_EKEY. */
int trust_key_parse(const char *hex, uint8_t pk[WH_PK_BYTES]);

/*
 * Resolve a --peer / 'peer =' value: a trust-list name, an endpoint some
 * entry has, or KEYHEX@tcp://HOST:PORT with a trusted key. On success
 * *out points into t and endpoint (WH_NET_ENDPOINT_MAX + 1 bytes) holds
 * where to dial. On failure returns CLI_USAGE or CLI_FAIL with why[]
 * (200 bytes) filled in; nothing is printed.
 */
int trust_resolve(const struct trust *t, const char *spec,
		  const struct wh_net_peer **out, char *endpoint, char *why);

#endif
