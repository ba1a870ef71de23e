/*
 * sync_int.h: what the two halves of the sync session share (internal;
 * not installed, not for the agent). sync.c holds the key sets, the send
 * queue and the rounds; sync_recv.c the handlers of peer messages and
 * the public entry points. sync.c's header comment describes the flow.
 */
#ifndef WH_SYNC_INT_H
#define WH_SYNC_INT_H

#include "msg.h"
#include "riblt.h"
#include "sync.h"

#define QUEUE_MAX_BYTES (32u << 20) /* pushes beyond this are left to AE */
#define BAD_MAX 20                  /* garbage messages per window... */
#define BAD_WINDOW_MS 60000u        /* ...before WH_EDENIED */
#define RETRY_MS 20u                /* tick again when the queue was full */
#define PEER_N_CLAMP (1u << 26)     /* largest peer count believed */
#define FIRST_MIN 16u
#define BLOB_SERVE_MAX 16u  /* contents one link serves at a time */
#define BLOB_CHUNKS_PER_FLUSH 4u /* 1 MiB a flush: the transport queue
				  * stays short, ops overtake content */

enum rstate {
	R_IDLE = 0,
	R_C_WAIT,   /* client: asked (HELLO/DIGEST), decoding if dec */
	R_C_FINAL,  /* client: sent its ops and WANT, awaits RECEIPT */
	R_S_SYMBOLS, /* server: streaming symbols, awaits MORE / WANT */
	R_S_WANT     /* server: sent WANT(all), awaits the final WANT */
};

/* Salted 8-byte keys of our ops in scope, with a map back to op ids. */
struct keyset {
	uint64_t *keys;
	uint8_t (*ids)[WH_ID_BYTES];
	uint8_t *sent;
	size_t n, cap;
	uint32_t *tab; /* open addressing: entry index + 1; 0 = empty */
	size_t mask;
	const uint8_t *salt;
};

/* A content being served: its next piece starts at off. */
struct blob_serve {
	uint8_t hash[WH_ID_BYTES];
	uint64_t size, off;
};

struct qmsg {
	uint8_t *p;
	size_t n;
};

struct wh_sync {
	struct wh_sync_io io;
	const struct wh_key *key;
	enum wh_role role;
	char path[WH_PATH_MAX + 1];
	uint32_t interval;
	uint32_t proto_max; /* newest version we offer */
	uint8_t peer_pk[WH_PK_BYTES];

	/* link */
	int hello_done, is_server;
	char scope[WH_PATH_MAX + 1];
	char peer_path[WH_PATH_MAX + 1];
	enum wh_role peer_role;
	uint32_t proto; /* the link's version: newest both offer; 0 = none */
	uint64_t peer_hello_count; /* peer's count of its own scope */
	uint8_t my_salt[WH_MSG_SALT_BYTES], salt[WH_MSG_SALT_BYTES];

	/* round */
	enum rstate st;
	uint32_t round;
	uint64_t round_ms; /* last progress of the round */
	uint64_t peer_n;   /* peer's claimed count in scope */
	struct keyset ks;
	struct wh_riblt_enc *enc;
	uint64_t enc_max;
	struct wh_riblt_dec *dec;
	uint64_t expect_end; /* symbols the client expects before asking */

	/* out */
	struct wh_msg_zstd z; /* both ways; compresses only if proto >= 2 */
	struct qmsg *q;
	size_t qh, qn, qcap, qbytes;
	uint8_t (*pend)[WH_ID_BYTES]; /* ops to send, in order */
	size_t npend, ppos, pcap;
	size_t pordered; /* pend[..pordered) was put in urgent order */
	int hold;        /* wh_sync_hold: list no ops to send */
	uint64_t budget, bused, bsince; /* wh_sync_budget; used this hour */
	size_t purgent;  /* pend[ppos..purgent) are urgent */
	uint64_t *wk; /* client: keys to WANT after its ops */
	size_t nwk;
	int want_tail, receipt_tail;

	/* what get_state reports */
	int in_sync, have_receipt;
	uint64_t last_sync_ms, peer_count, local_count, peer_receipt_ms;
	uint8_t peer_digest[WH_ID_BYTES];
	struct wh_sync_stats stats;

	/* attachment content (sync_blob.c) */
	struct blob_serve serve[BLOB_SERVE_MAX];
	unsigned nserve;
	uint64_t next_blob_ms;
	struct wh_buf blobbuf;

	uint64_t next_digest_ms;
	unsigned bad;
	uint64_t bad_since;
};


uint64_t sync_now_ms(struct wh_sync *s);
void sync_ops_msg(struct wh_sync *s, uint32_t flags, uint32_t n,
		  const struct wh_buf *bins, struct wh_buf *out);
void sync_round_reset(struct wh_sync *s);
int sync_flush(struct wh_sync *s);
void sync_enqueue(struct wh_sync *s, struct wh_buf *b);
void sync_send_error(struct wh_sync *s, int code, const char *text);
int sync_send_receipt(struct wh_sync *s);
int sync_server_round(struct wh_sync *s, uint64_t peer_n,
			const uint8_t peer_dig[WH_ID_BYTES], uint32_t round);
void sync_client_finish_decode(struct wh_sync *s);
uint64_t sync_more_count(const struct wh_sync *s);
int sync_client_round_start(struct wh_sync *s);
int sync_strike(struct wh_sync *s);
int sync_drop(struct wh_sync *s);
void sync_ks_free(struct keyset *k);
int sync_ks_build(struct wh_sync *s);
long sync_ks_find(const struct keyset *k, uint64_t key);
void sync_pend_add(struct wh_sync *s, const uint8_t id[WH_ID_BYTES]);
int sync_urgent_scope(struct wh_sync *s);
uint32_t sync_interval_now(struct wh_sync *s);
int sync_budget_spent(struct wh_sync *s);
int sync_held_ok(const uint8_t *p, size_t n);
int sync_pend_all_cb(void *ctx, const uint8_t id[WH_ID_BYTES]);
void sync_queue_clear(struct wh_sync *s);
uint64_t sync_clamp_peer(uint64_t n);
int sync_send_symbols(struct wh_sync *s, uint64_t how);

/* sync_blob.c: attachment content, after the ops (protocol 3). */
uint64_t sync_blob_tick(struct wh_sync *s, uint64_t now);
int sync_blob_serve(struct wh_sync *s);
int sync_on_blobwant(struct wh_sync *s, const struct wh_msg *m);
int sync_on_blob(struct wh_sync *s, const struct wh_msg *m);
void sync_blob_reset(struct wh_sync *s);

/* sync_roster.c: rosters (protocol 4). */
int sync_send_rsum(struct wh_sync *s);
int sync_on_rsum(struct wh_sync *s, const struct wh_msg *m);
int sync_on_roster(struct wh_sync *s, const struct wh_msg *m);

#endif
