/*
 * fuzz_state.c: the agent's own records in the store's state table,
 * which `whistle status` reads back: "agent/self" (agent/agent_self.c,
 * agent_self_decode) and "peer/<key>" (agent/syncio.c,
 * peer_rec_decode). Our own bytes, but a damaged store is outside
 * input, and both decoders skip keys they do not know (newer agents
 * write more), so they meet whatever a map holds.
 *
 * The first byte picks the record (2: carry/<key>, agent/carry.c's
 * carry_peer_decode; else even: agent/self, odd: peer), the rest is the
 * record.
 *
 * Checks: every string decoded is terminated within its field and
 * lists are within their bounds; a record that decodes encodes to
 * bytes that decode to the same record.
 */
#include "fuzz.h"

#include "agent_self.h"
#include "carry.h"
#include "syncio.h"

#include <string.h>

#define TERMINATED(a) FUZZ_CHECK(memchr((a), 0, sizeof(a)) != NULL)

static void self(const uint8_t *p, size_t n)
{
	struct agent_self r, back;
	if (agent_self_decode(p, n, &r) != WH_OK)
		return;
	TERMINATED(r.log_level);
	FUZZ_CHECK(r.nlisten <= CLI_CONF_LIST_MAX &&
		   r.ndial <= CLI_CONF_LIST_MAX);
	for (size_t i = 0; i < r.nlisten; i++)
		TERMINATED(r.listen[i]);
	for (size_t i = 0; i < r.ndial; i++) {
		TERMINATED(r.dial[i].name);
		TERMINATED(r.dial[i].endpoint);
	}
	struct wh_buf b = {0};
	agent_self_encode(&r, &b);
	FUZZ_CHECK(agent_self_decode(b.p, b.len, &back) == WH_OK);
	FUZZ_CHECK(back.pid == r.pid && back.interval == r.interval &&
		   back.nlisten == r.nlisten && back.ndial == r.ndial &&
		   !strcmp(back.log_level, r.log_level));
	wh_buf_fini(&b);
}

static void peer(const uint8_t *p, size_t n)
{
	struct peer_rec r, back;
	if (peer_rec_decode(p, n, &r) != WH_OK)
		return;
	TERMINATED(r.name);
	TERMINATED(r.path);
	TERMINATED(r.role);
	TERMINATED(r.endpoint);
	TERMINATED(r.scope);
	struct wh_buf b = {0};
	peer_rec_encode(&r, &b);
	FUZZ_CHECK(peer_rec_decode(b.p, b.len, &back) == WH_OK);
	FUZZ_CHECK(!strcmp(back.name, r.name) && !strcmp(back.path, r.path) &&
		   back.sent == r.sent && back.in_sync == r.in_sync);
	wh_buf_fini(&b);
}

static void carry(const uint8_t *p, size_t n)
{
	struct carry_peer r, back;
	if (carry_peer_decode(p, n, &r) != WH_OK)
		return;
	FUZZ_CHECK(r.n <= CARRY_KNOWN_MAX);
	for (size_t i = 0; i < r.n; i++) {
		TERMINATED(r.k[i].scope);
		TERMINATED(r.k[i].how);
		FUZZ_CHECK(wh_path_valid(r.k[i].scope, strlen(r.k[i].scope)));
	}
	struct wh_buf b = {0};
	carry_peer_encode(&r, &b);
	FUZZ_CHECK(carry_peer_decode(b.p, b.len, &back) == WH_OK);
	FUZZ_CHECK(b.len == n && !memcmp(b.p, p, n)); /* one spelling */
	wh_buf_fini(&b);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return wh_crypto_init() == WH_OK ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] == 2)
		carry(data + 1, size - 1);
	else if (data[0] & 1)
		peer(data + 1, size - 1);
	else
		self(data + 1, size - 1);
	return 0;
}
