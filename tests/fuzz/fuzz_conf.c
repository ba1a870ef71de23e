/*
 * fuzz_conf.c: whistle.conf (agent/conf.c, cli_conf_read), the station's
 * configuration, which people edit by hand and the agent re-reads on
 * SIGHUP; then what the agent does with the lines it takes as they are:
 * each 'listen' endpoint checked (trust_endpoint_valid) and each 'peer'
 * resolved against a small trust list (trust_resolve), as cmd_agent.c
 * does.
 *
 * Checks: a loaded config has a valid code and path, a station, a known
 * role, a department exactly when the role is department; every string
 * is terminated within its field; a resolved peer's endpoint is one
 * trust_endpoint_valid accepts.
 */
#include "fuzz.h"

#include "budget.h"
#include "trust.h"

#include <string.h>

static struct trust tl;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (wh_crypto_init() != WH_OK)
		return -1;
	/* Two trusted peers, one dialable; keys from fixed seeds. */
	for (int i = 0; i < 2; i++) {
		struct wh_net_peer e;
		struct wh_key *k;
		uint8_t seed[32];
		memset(&e, 0, sizeof e);
		memset(seed, 0x61 + i, sizeof seed);
		if (wh_key_from_seed(seed, &k) != WH_OK)
			return -1;
		memcpy(e.pk, k->pk, WH_PK_BYTES);
		wh_key_free(k);
		e.role = i ? WH_ROLE_DISTRICT : WH_ROLE_STREET;
		strcpy(e.path, i ? "xicheng" : "xicheng/xinjiekou");
		strcpy(e.name, i ? "district" : "street");
		if (!i)
			strcpy(e.endpoint, "tcp://10.0.0.2:7420");
		trust_append(&tl, &e);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cli c;
	struct cli_conf conf;
	memset(&c, 0, sizeof c);
	c.home = "/nonexistent";
	c.cmd = "agent";
	FILE *f = fuzz_stream(data, size);
	int rc = cli_conf_read(&c, "whistle.conf", f, &conf);
	fclose(f);
	if (rc != CLI_OK) {
		FUZZ_CHECK(rc == CLI_FAIL);
		return 0;
	}
	FUZZ_CHECK(memchr(conf.station, 0, sizeof conf.station));
	FUZZ_CHECK(memchr(conf.name, 0, sizeof conf.name));
	FUZZ_CHECK(memchr(conf.log_level, 0, sizeof conf.log_level));
	FUZZ_CHECK(wh_code_valid(conf.code, strlen(conf.code)));
	FUZZ_CHECK(wh_path_valid(conf.path, strlen(conf.path)));
	FUZZ_CHECK(conf.station[0] && cli_role_valid(conf.role));
	FUZZ_CHECK(!strcmp(conf.role, "department") == !!conf.department[0]);
	FUZZ_CHECK(conf.nlisten <= CLI_CONF_LIST_MAX &&
		   conf.npeer <= CLI_CONF_LIST_MAX);
	for (unsigned i = 0; i < conf.nlisten; i++) {
		FUZZ_CHECK(memchr(conf.listen[i], 0, CLI_CONF_VALUE_MAX));
		(void)trust_endpoint_valid(conf.listen[i]);
	}
	for (unsigned i = 0; i < conf.npeer; i++) {
		const struct wh_net_peer *p;
		char ep[WH_NET_ENDPOINT_MAX + 1], why[200];
		FUZZ_CHECK(memchr(conf.peer[i], 0, CLI_CONF_VALUE_MAX));
		if (trust_resolve(&tl, conf.peer[i], &p, ep, why) == CLI_OK)
			FUZZ_CHECK(p && trust_endpoint_valid(ep));
		else
			FUZZ_CHECK(memchr(why, 0, sizeof why) && why[0]);
	}
	FUZZ_CHECK(conf.nbudget <= CLI_CONF_LIST_MAX);
	for (unsigned i = 0; i < conf.nbudget; i++) {
		char name[BUDGET_NAME_MAX + 1], why[240], fmt[32];
		uint64_t bytes = 0;
		FUZZ_CHECK(memchr(conf.budget[i], 0, CLI_CONF_VALUE_MAX));
		if (budget_parse(conf.budget[i], name, &bytes, why,
				 sizeof why) == WH_OK) {
			FUZZ_CHECK(bytes >= BUDGET_MIN && name[0]);
			budget_format(bytes, fmt, sizeof fmt);
			FUZZ_CHECK(memchr(fmt, 0, sizeof fmt));
		} else {
			FUZZ_CHECK(memchr(why, 0, sizeof why) && why[0]);
		}
	}
	(void)cli_role_net(conf.role);
	(void)cli_role_whistler(conf.role);
	return 0;
}
