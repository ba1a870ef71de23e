/*
 * fuzz_sync.c: what a sync peer's messages reach past the decoder: one
 * session (net/sync*.c) over a station held in memory (fuzz_syncio.c),
 * fed the messages of the input in order, with a tick and a second of
 * clock after each, as the transport would. This is where a peer's
 * numbers meet the reconciliation state (symbol indices, MORE counts,
 * WANT keys, receipts, attachment pieces).
 *
 * Input: one byte of configuration (bits 0-1: the newest protocol we
 * offer, 0 meaning the newest there is; bit 2: we are the street hub
 * rather than the community station), then messages, each a 4-byte
 * big-endian length and the message. The seeds (mkcorpus.c) are what
 * a real peer said in real syncs with this very station, so replaying
 * one runs a whole reconciliation.
 *
 * Checks: every message the session sends decodes (wh_msg_decode);
 * wh_sync_recv returns WH_OK or WH_EDENIED (the io never fails), and
 * after WH_EDENIED the link restarts as the transport would restart it.
 */
#include "fuzz.h"

#include "fuzz_syncio.h"
#include "msg.h"

#include <string.h>

static struct fz_ops story, plist;
static struct wh_msg_zstd check_z;

static void check_sent(void *ctx, const uint8_t *p, size_t n)
{
	struct wh_msg m;
	(void)ctx;
	FUZZ_CHECK(wh_msg_decode(p, n, &check_z, &m) == WH_OK);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (wh_crypto_init() != WH_OK)
		return -1;
	fz_story(&story, FZ_T0_MS);
	fz_problem_ops(&plist, FZ_T0_MS);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint32_t proto = data[0] & 3;
	int street = (data[0] >> 2) & 1;
	struct fz_node n;
	struct wh_sync *s;
	fz_node_station(&n, street, &story, &plist);
	n.on_send = check_sent;
	FUZZ_CHECK(fz_node_session(&n, proto, street ? 1 : 0, &s) == WH_OK);
	FUZZ_CHECK(wh_sync_start(s) == WH_OK);
	const uint8_t *p = data + 1, *end = data + size;
	while (end - p >= 4) {
		size_t len = (size_t)p[0] << 24 | (size_t)p[1] << 16 |
			     (size_t)p[2] << 8 | p[3];
		p += 4;
		if (len > (size_t)(end - p))
			len = (size_t)(end - p);
		int rc = wh_sync_recv(s, p, len);
		FUZZ_CHECK(rc == WH_OK || rc == WH_EDENIED);
		if (rc == WH_EDENIED)
			FUZZ_CHECK(wh_sync_start(s) == WH_OK);
		p += len;
		n.now_ms += 1000;
		(void)wh_sync_tick(s);
	}
	struct wh_sync_state st;
	wh_sync_get_state(s, &st);
	FUZZ_CHECK(st.proto <= WH_SYNC_PROTO_MAX);
	wh_sync_free(s);
	fz_node_fini(&n);
	return 0;
}
