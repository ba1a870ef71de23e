/*
 * wh_badpeer.c: a misbehaving peer for the scenario tests. It dials an
 * agent over CURVE with a key file it is given (so it can be trusted or
 * not), and then sends what argv asks for instead of a proper session:
 *
 *   garbage   COUNT messages of random bytes
 *   trunc     COUNT valid HELLOs cut short at random points
 *   huge      COUNT small messages whose msgpack length prefixes claim
 *             gigabytes (array, bin and str headers), or whose
 *             compressed OPS frame claims a terabyte or 4 MiB + 1, and
 *             a zstd bomb: 4 MiB of zeros in a few hundred bytes, which
 *             the agent may inflate (the limit) but must then refuse
 *   oversize  one message past the agent's ZMQ_MAXMSGSIZE (libzmq must
 *             drop the connection)
 *   forged    a proper HELLO, then COUNT OPS messages each carrying an op
 *             in scope whose signature does not verify
 *   scope     a proper HELLO, then one OPS message with COUNT validly
 *             signed ops whose cases lie outside the shared scope
 *   rogue     a proper HELLO, then COUNT OPS messages of one validly
 *             signed op each, in scope, that a roster refuses to a
 *             station: alternately a case under a code that is not its
 *             own, and a whistle in the street's name
 *   hello     just a proper HELLO (a well-behaved, silent peer)
 *   flood     a proper HELLO, then for COUNT seconds the same well-formed
 *             OPS message (one validly signed op in scope) as fast as
 *             the socket takes it: a trusted peer gone mad, which only
 *             the per-peer budget stops
 *   keys      print the key file's Ed25519 and CURVE public keys in hex
 *
 * usage: wh_badpeer keys KEYFILE
 *        wh_badpeer MODE KEYFILE SERVER_KEYHEX ENDPOINT [PATH [COUNT]]
 *
 * PATH is the jurisdiction the HELLO claims (default
 * xicheng/xinjiekou/zhaodengyu); forged ops use it, scope ops use
 * xicheng/elsewhere/. Prints one line, "handshake ok; sent S messages;
 * received R; disconnected yes|no", after waiting 1.5 s for answers.
 * Exit 0 after sending, 3 if the handshake failed within 5 s (refused
 * by ZAP, or nobody there), 2 on usage errors.
 */
#include "flow.h"
#include "key.h"
#include "mp.h"
#include "msg.h"
#include "op.h"
#include "sync.h"
#include "transport.h"

#include <sodium.h>
#include <zmq.h>
#include <zstd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct wh_key *load_key(const char *file)
{
	uint8_t sk[WH_SK_BYTES];
	FILE *f = fopen(file, "rb");
	if (!f || fread(sk, 1, sizeof sk, f) != sizeof sk) {
		fprintf(stderr, "wh_badpeer: %s: cannot read 64 bytes\n", file);
		exit(2);
	}
	fclose(f);
	struct wh_key *k = NULL;
	if (wh_key_from_secret(sk, &k) != WH_OK) {
		fprintf(stderr, "wh_badpeer: %s: not a key\n", file);
		exit(2);
	}
	sodium_memzero(sk, sizeof sk);
	return k;
}

/* Wait for a monitor event among 'want'; returns it or 0 on timeout. */
static int wait_event(void *mon, int want, int ms)
{
	uint64_t end = mono_ms() + (uint64_t)ms;
	while (mono_ms() < end) {
		zmq_pollitem_t it = {mon, 0, ZMQ_POLLIN, 0};
		if (zmq_poll(&it, 1, (long)(end - mono_ms())) <= 0)
			continue;
		zmq_msg_t m;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, mon, 0) < 0)
			return 0;
		uint16_t ev = 0;
		if (zmq_msg_size(&m) >= 6)
			memcpy(&ev, zmq_msg_data(&m), 2);
		while (zmq_msg_more(&m)) {
			zmq_msg_close(&m);
			zmq_msg_init(&m);
			zmq_msg_recv(&m, mon, 0);
		}
		zmq_msg_close(&m);
		if (ev & want)
			return ev;
	}
	return 0;
}

static void send_buf(void *s, const struct wh_buf *b, unsigned *sent)
{
	if (zmq_send(s, b->p, b->len, 0) >= 0)
		(*sent)++;
}

static void hello(void *s, const char *path, unsigned *sent)
{
	uint8_t salt[WH_MSG_SALT_BYTES], dig[WH_ID_BYTES] = {0};
	randombytes_buf(salt, sizeof salt);
	struct wh_buf b = {0};
	wh_msg_hello(&b, WH_SYNC_PROTO_MAX, WH_ROLE_STATION, path, salt, 0,
		     dig, wh_clock_realtime(NULL));
	send_buf(s, &b, sent);
	wh_buf_fini(&b);
}

/* An OPS (push, zstd) whose frame holds n zero bytes: a bomb. */
static void zstd_zeros(size_t n, struct wh_buf *out)
{
	uint8_t *zeros = wh_xcalloc(n, 1);
	size_t cap = ZSTD_compressBound(n);
	uint8_t *frame = wh_xmalloc(cap);
	size_t fn = ZSTD_compress(frame, cap, zeros, n, 19);
	if (ZSTD_isError(fn)) {
		fprintf(stderr, "wh_badpeer: cannot make a zstd frame\n");
		exit(1);
	}
	wh_mpw_array(out, 3);
	wh_mpw_uint(out, WH_MSG_OPS);
	wh_mpw_uint(out, WH_OPS_PUSH | WH_OPS_ZSTD);
	wh_mpw_bin(out, frame, fn);
	free(zeros);
	free(frame);
}

/* A validly signed create op for case CODE-seq at path. */
static void make_op(const struct wh_key *k, const char *path, uint32_t seq,
		    struct wh_buf *out)
{
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_CASE_CREATE, "BAD", seq, path);
	d.hlc = WH_HLC_MAKE(wh_clock_realtime(NULL), seq & 0xffff);
	wh_draft_str(&d, WH_F_TITLE, "坏邻居");
	if (wh_op_build(&d, k, out) != WH_OK) {
		fprintf(stderr, "wh_badpeer: cannot build an op\n");
		exit(1);
	}
}

/* A whistle on BAD-1 in the street's name (rank street). */
static void make_whistle(const struct wh_key *k, const char *path,
			 uint32_t n, struct wh_buf *out)
{
	struct wh_op_draft d;
	struct wh_buf a = {0};
	wh_mpw_cstr(&a, "chengguan");
	wh_draft_init(&d, WH_OP_WHISTLE, "BAD", 1, path);
	d.hlc = WH_HLC_MAKE(wh_clock_realtime(NULL), n & 0xffff);
	wh_draft_uint(&d, WH_F_WKIND, 0);
	wh_draft_uint(&d, WH_F_WHISTLER, WH_WHISTLER_STREET);
	wh_draft_uint(&d, WH_F_SEEN, 0);
	wh_draft_array(&d, WH_F_DEPTS, a.p, a.len, 1);
	int rc = wh_op_build(&d, k, out);
	wh_buf_fini(&a);
	if (rc != WH_OK) {
		fprintf(stderr, "wh_badpeer: cannot build a whistle\n");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	if (argc < 3 || wh_crypto_init() != WH_OK) {
		fprintf(stderr, "usage: wh_badpeer keys KEYFILE\n"
				"       wh_badpeer MODE KEYFILE SERVER_KEYHEX "
				"ENDPOINT [PATH [COUNT]]\n");
		return 2;
	}
	const char *mode = argv[1];
	struct wh_key *key = load_key(argv[2]);
	uint8_t cpk[32], csk[32];
	if (crypto_sign_ed25519_pk_to_curve25519(cpk, key->pk) ||
	    crypto_sign_ed25519_sk_to_curve25519(csk, key->sk))
		return 2;
	if (!strcmp(mode, "keys")) {
		char a[65], b[65];
		wh_hex(key->pk, 32, a);
		wh_hex(cpk, 32, b);
		printf("%s %s\n", a, b);
		wh_key_free(key);
		return 0;
	}
	if (argc < 5) {
		wh_key_free(key);
		return 2;
	}
	uint8_t spk[32], scurve[32];
	if (wh_unhex(argv[3], spk, 32) ||
	    crypto_sign_ed25519_pk_to_curve25519(scurve, spk)) {
		fprintf(stderr, "wh_badpeer: bad server key\n");
		return 2;
	}
	const char *ep = argv[4];
	const char *path = argc > 5 ? argv[5] : "xicheng/xinjiekou/zhaodengyu";
	unsigned count = argc > 6 ? (unsigned)strtoul(argv[6], NULL, 10) : 10;

	void *ctx = zmq_ctx_new();
	void *s = zmq_socket(ctx, ZMQ_DEALER);
	int linger = 1000, zero = 0;
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
	zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, scurve, 32);
	zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, cpk, 32);
	zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, csk, 32);
	zmq_socket_monitor(s, "inproc://badmon", ZMQ_EVENT_ALL);
	void *mon = zmq_socket(ctx, ZMQ_PAIR);
	zmq_setsockopt(mon, ZMQ_LINGER, &zero, sizeof zero);
	zmq_connect(mon, "inproc://badmon");
	zmq_connect(s, ep);
	int ev = wait_event(mon,
			   ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
				   ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
				   ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
				   ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL,
			   5000);
	if (ev != ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
		printf("handshake failed%s\n",
		       ev == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ? " (refused)" : "");
		zmq_socket_monitor(s, NULL, 0);
		zmq_close(mon);
		linger = 0;
		zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
		zmq_close(s);
		zmq_ctx_term(ctx);
		wh_key_free(key);
		return 3;
	}

	unsigned sent = 0;
	struct wh_buf b = {0};
	if (!strcmp(mode, "garbage")) {
		for (unsigned i = 0; i < count; i++) {
			size_t n = 1 + randombytes_uniform(2000);
			wh_buf_reset(&b);
			wh_buf_reserve(&b, n);
			randombytes_buf(b.p, n);
			b.len = n;
			send_buf(s, &b, &sent);
		}
	} else if (!strcmp(mode, "trunc")) {
		uint8_t salt[WH_MSG_SALT_BYTES] = {0}, dig[WH_ID_BYTES] = {0};
		wh_msg_hello(&b, WH_SYNC_PROTO_MAX, WH_ROLE_STATION, path,
			     salt, 1, dig, wh_clock_realtime(NULL));
		size_t full = b.len;
		for (unsigned i = 0; i < count; i++) {
			b.len = 1 + randombytes_uniform((uint32_t)full - 1);
			send_buf(s, &b, &sent);
		}
	} else if (!strcmp(mode, "huge")) {
		static const uint8_t heads[][12] = {
			/* array32 of 4G elements */
			{0xdd, 0xff, 0xff, 0xff, 0xff, 0x06, 0x00},
			/* OPS with an array32 of 4G ops */
			{0x93, 0x06, 0x00, 0xdd, 0xff, 0xff, 0xff, 0xf0, 0xc4},
			/* OPS with one bin32 op of 4 GB */
			{0x93, 0x06, 0x00, 0x91, 0xc6, 0xff, 0xff, 0xff, 0xff,
			 0x00},
			/* HELLO with a str32 path of 4 GB */
			{0x99, 0x01, 0x01, 0x01, 0x00, 0xdb, 0xff, 0xff, 0xff,
			 0xff, 0x61},
		};
		/* compressed OPS: a frame header that declares 2^40
		 * bytes (then one empty last block), 4 MiB + 1 of zeros,
		 * and 4 MiB of zeros, the most a frame may declare */
		static const uint8_t tera[] = {
			0x93, 0x06, 0x03, 0xc4, 0x10, 0x28, 0xb5, 0x2f, 0xfd,
			0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
			0x01, 0x00, 0x00};
		struct wh_buf zb[3] = {{0}, {0}, {0}};
		wh_buf_append(&zb[0], tera, sizeof tera);
		zstd_zeros(WH_SYNC_MAX_MSG + 1, &zb[1]);
		zstd_zeros(WH_SYNC_MAX_MSG, &zb[2]);
		for (unsigned i = 0; i < count; i++) {
			wh_buf_reset(&b);
			if (i % 7 < 4)
				wh_buf_append(&b, heads[i % 7],
					      sizeof heads[0]);
			else
				wh_buf_append(&b, zb[i % 7 - 4].p,
					      zb[i % 7 - 4].len);
			send_buf(s, &b, &sent);
		}
		for (int k = 0; k < 3; k++)
			wh_buf_fini(&zb[k]);
	} else if (!strcmp(mode, "oversize")) {
		size_t n = WH_SYNC_MAX_MSG + (1u << 20);
		wh_buf_reserve(&b, n);
		memset(b.p, 0x61, n);
		b.len = n;
		send_buf(s, &b, &sent);
	} else if (!strcmp(mode, "forged") || !strcmp(mode, "scope")) {
		int forged = !strcmp(mode, "forged");
		hello(s, path, &sent);
		struct wh_buf op = {0};
		unsigned per = forged ? 1 : count;
		unsigned msgs = forged ? count : 1;
		for (unsigned m = 0; m < msgs; m++) {
			wh_buf_reset(&b);
			wh_msg_ops_begin(&b, WH_OPS_PUSH, per);
			for (unsigned i = 0; i < per; i++) {
				wh_buf_reset(&op);
				make_op(key,
					forged ? path : "xicheng/elsewhere/x",
					1 + m * per + i, &op);
				if (forged)
					op.p[op.len - 5] ^= 0x40; /* signature */
				wh_msg_ops_add(&b, op.p, op.len);
			}
			send_buf(s, &b, &sent);
		}
		wh_buf_fini(&op);
	} else if (!strcmp(mode, "rogue")) {
		hello(s, path, &sent);
		struct wh_buf op = {0};
		for (unsigned m = 0; m < count; m++) {
			wh_buf_reset(&op);
			if (m % 2)
				make_whistle(key, path, m, &op);
			else
				make_op(key, path, 1 + m, &op);
			wh_buf_reset(&b);
			wh_msg_ops_begin(&b, WH_OPS_PUSH, 1);
			wh_msg_ops_add(&b, op.p, op.len);
			send_buf(s, &b, &sent);
		}
		wh_buf_fini(&op);
	} else if (!strcmp(mode, "hello")) {
		hello(s, path, &sent);
	} else if (!strcmp(mode, "flood")) {
		hello(s, path, &sent);
		struct wh_buf op = {0};
		make_op(key, path, 1, &op);
		wh_msg_ops_begin(&b, WH_OPS_PUSH, 1);
		wh_msg_ops_add(&b, op.p, op.len);
		wh_buf_fini(&op);
		uint64_t until = mono_ms() + 1000ull * count;
		while (mono_ms() < until) {
			if (zmq_send(s, b.p, b.len, ZMQ_DONTWAIT) >= 0) {
				sent++;
				continue;
			}
			struct timespec ts = {0, 1000000}; /* queue full */
			nanosleep(&ts, NULL);
		}
	} else {
		fprintf(stderr, "wh_badpeer: unknown mode '%s'\n", mode);
		return 2;
	}
	wh_buf_fini(&b);

	/* Count answers and watch for the agent hanging up on us. */
	unsigned received = 0;
	int down = 0;
	uint64_t end = mono_ms() + 1500;
	while (mono_ms() < end) {
		zmq_pollitem_t it[2] = {{s, 0, ZMQ_POLLIN, 0},
					{mon, 0, ZMQ_POLLIN, 0}};
		if (zmq_poll(it, 2, (long)(end - mono_ms())) <= 0)
			continue;
		if (it[0].revents & ZMQ_POLLIN) {
			zmq_msg_t m;
			zmq_msg_init(&m);
			if (zmq_msg_recv(&m, s, 0) >= 0)
				received++;
			zmq_msg_close(&m);
		}
		if ((it[1].revents & ZMQ_POLLIN) &&
		    wait_event(mon, ZMQ_EVENT_DISCONNECTED, 1) != 0)
			down = 1;
	}
	printf("handshake ok; sent %u messages; received %u; disconnected "
	       "%s\n",
	       sent, received, down ? "yes" : "no");
	zmq_socket_monitor(s, NULL, 0);
	zmq_close(mon);
	linger = 0;
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
	zmq_close(s);
	zmq_ctx_term(ctx);
	wh_key_free(key);
	return 0;
}
