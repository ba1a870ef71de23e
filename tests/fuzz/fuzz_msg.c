/*
 * fuzz_msg.c: a sync peer's message bytes (net/msg.c, wh_msg_decode),
 * every type, compressed OPS frames included; then what the session
 * does with a decoded message before it trusts anything: the packed
 * symbols and keys, the ops of an OPS (each through wh_op_decode and,
 * if it decodes, wh_op_verify), the receipt's signature.
 *
 * Checks: a message decodes the same way twice with the same zstd
 * buffer (the second time reusing it, as a session does), and every
 * slice of a decoded message lies within the input or that buffer.
 */
#include "fuzz.h"

#include "msg.h"

#include <string.h>

static int within(struct wh_slice s, const uint8_t *p, size_t n)
{
	return s.n == 0 || (s.p >= p && s.n <= n && s.p - p <= (ptrdiff_t)(n - s.n));
}

static void use(const struct wh_msg *m, const struct wh_msg_zstd *z,
		const uint8_t *data, size_t size)
{
	switch (m->type) {
	case WH_MSG_SYMBOLS: {
		struct wh_riblt_sym *syms = wh_xcalloc(m->n, sizeof *syms);
		wh_msg_symbols(m, syms);
		free(syms);
		break;
	}
	case WH_MSG_WANT: {
		uint64_t x = 0;
		for (uint32_t i = 0; i < m->n; i++)
			x ^= wh_msg_key(m, i);
		(void)x;
		break;
	}
	case WH_MSG_OPS: {
		FUZZ_CHECK(within(m->data, data, size) ||
			   within(m->data, z->buf, z->cap));
		struct wh_slice *ops = wh_xcalloc(m->n ? m->n : 1, sizeof *ops);
		wh_msg_ops(m, ops);
		for (uint32_t i = 0; i < m->n; i++) {
			struct wh_op op;
			FUZZ_CHECK(ops[i].p && ops[i].n > 0);
			if (wh_op_decode(ops[i].p, ops[i].n, &op) == WH_OK)
				(void)wh_op_verify(&op);
		}
		free(ops);
		break;
	}
	case WH_MSG_RECEIPT: {
		FUZZ_CHECK(within(m->body, data, size));
		FUZZ_CHECK(within(m->sig, data, size));
		(void)wh_msg_receipt_verify(m, m->signer);
		break;
	}
	case WH_MSG_BLOB:
		FUZZ_CHECK(within(m->data, data, size));
		FUZZ_CHECK(m->data.n <= m->count - m->first);
		break;
	default:
		break;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return wh_crypto_init() == WH_OK ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wh_msg_zstd z = {0};
	struct wh_msg m, again;
	int rc = wh_msg_decode(data, size, &z, &m);
	if (rc == WH_OK) {
		use(&m, &z, data, size);
		/* The same bytes, the zstd buffer kept: the same message. */
		FUZZ_CHECK(wh_msg_decode(data, size, &z, &again) == WH_OK);
		FUZZ_CHECK(again.type == m.type && again.n == m.n &&
			   again.data.n == m.data.n);
		if (m.type == WH_MSG_OPS)
			FUZZ_CHECK(!memcmp(again.data.p, m.data.p, m.data.n));
	}
	/* Without a zstd context a compressed OPS is refused, nothing else
	 * changes. */
	int plain = wh_msg_decode(data, size, NULL, &again);
	FUZZ_CHECK(plain == rc || (m.type == WH_MSG_OPS &&
				   (m.flags & WH_OPS_ZSTD) &&
				   plain == WH_EDECODE) ||
		   rc != WH_OK);
	wh_msg_zstd_fini(&z);
	return 0;
}
