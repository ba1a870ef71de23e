/*
 * fuzz_trust.c: the trust list, HOME/trust (agent/trust.c, trust_read):
 * one peer per line, key role path name [endpoint], often edited by
 * hand. A list that loads is then searched as the agent and `whistle
 * sync` do: every entry by key, by name, and resolved as a --peer spec
 * by name, by endpoint and as KEYHEX@endpoint (trust_resolve); and
 * written back (trust_save's line format) and read again.
 *
 * Checks: a loaded list has unique keys and names, every field valid;
 * each entry is found by its key and its name; what is written back
 * reads back as the same list.
 */
#include "fuzz.h"

#include "trust.h"

#include <string.h>

static void check_entries(const struct trust *t)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct wh_net_peer *e = &t->e[i];
		FUZZ_CHECK(wh_path_valid(e->path, strlen(e->path)));
		FUZZ_CHECK(trust_name_valid(e->name));
		FUZZ_CHECK(!e->endpoint[0] || trust_endpoint_valid(e->endpoint));
		FUZZ_CHECK(trust_by_key(t, e->pk) == e);
		FUZZ_CHECK(trust_by_name(t, e->name) == e);
	}
}

static void resolve(const struct trust *t)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct wh_net_peer *e = &t->e[i], *p;
		char spec[2 * WH_PK_BYTES + 1 + WH_NET_ENDPOINT_MAX + 1];
		char ep[WH_NET_ENDPOINT_MAX + 1], why[200];
		int rc = trust_resolve(t, e->name, &p, ep, why);
		FUZZ_CHECK(rc == CLI_OK ? p == e : !e->endpoint[0]);
		if (!e->endpoint[0])
			continue;
		rc = trust_resolve(t, e->endpoint, &p, ep, why);
		FUZZ_CHECK(rc == CLI_OK && !strcmp(ep, e->endpoint));
		wh_hex(e->pk, WH_PK_BYTES, spec);
		spec[2 * WH_PK_BYTES] = '@';
		strcpy(spec + 2 * WH_PK_BYTES + 1, e->endpoint);
		rc = trust_resolve(t, spec, &p, ep, why);
		FUZZ_CHECK(rc == CLI_OK && p == e);
	}
}

/* trust_save's lines, without the file around them. */
static void write_back(const struct trust *t, struct wh_buf *b)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct wh_net_peer *e = &t->e[i];
		char hex[2 * WH_PK_BYTES + 1], line[1024];
		wh_hex(e->pk, WH_PK_BYTES, hex);
		int n = snprintf(line, sizeof line, "%s %s %s %s%s%s\n", hex,
				 wh_role_name(e->role), e->path, e->name,
				 e->endpoint[0] ? " " : "", e->endpoint);
		FUZZ_CHECK(n > 0 && (size_t)n < sizeof line);
		wh_buf_append(b, line, (size_t)n);
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
	struct cli c;
	struct trust t, back;
	memset(&c, 0, sizeof c);
	c.home = "/nonexistent";
	c.cmd = "trust";
	FILE *f = fuzz_stream(data, size);
	int rc = trust_read(&c, "trust", f, &t);
	fclose(f);
	if (rc != CLI_OK) {
		FUZZ_CHECK(rc == CLI_FAIL && t.n == 0 && !t.e);
		return 0;
	}
	check_entries(&t);
	resolve(&t);
	struct wh_buf b = {0};
	write_back(&t, &b);
	f = fuzz_stream(b.p, b.len);
	FUZZ_CHECK(trust_read(&c, "trust", f, &back) == CLI_OK);
	fclose(f);
	FUZZ_CHECK(back.n == t.n);
	for (size_t i = 0; i < t.n; i++) {
		const struct wh_net_peer *x = &t.e[i], *y = &back.e[i];
		FUZZ_CHECK(!memcmp(x->pk, y->pk, WH_PK_BYTES) &&
			   x->role == y->role && !strcmp(x->path, y->path) &&
			   !strcmp(x->name, y->name) &&
			   !strcmp(x->endpoint, y->endpoint));
	}
	trust_fini(&back);
	wh_buf_fini(&b);
	trust_fini(&t);
	return 0;
}
