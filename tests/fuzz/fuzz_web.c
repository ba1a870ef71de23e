/*
 * fuzz_web.c: what the web console reads from a browser and from its
 * accounts file. The first byte picks the decoder, the rest is its
 * input:
 *   0  a POST /api/login body (web_in_decode, web_spec_login)
 *   1  a POST /api/cases body, and each value through the CLI's own
 *      field checks (cw_edit_opt, cw_edit_done), as web_api.c does
 *   2  a POST /api/cases/ID/steps body, and each value through the
 *      loop's checks (cw_step_opt, cw_step_check) for the step named
 *   3  HOME/users (users_parse)
 *   4  a Cookie header, a Host header and a query value, NUL-separated
 *      (web_in_cookie, web_in_host_ok, web_in_param)
 *
 * Checks: a refusal always says why; what a body decoder accepts is at
 * most WEB_IN_MAX pairs of UTF-8 values within their spec's bound; an
 * accounts file that parses holds valid names, known roles and
 * Argon2id hashes, and a refused one holds nothing; a cookie accepted
 * is exactly 64 hex digits.
 */
#include "fuzz.h"

#include "case_edit.h"
#include "case_step.h"
#include "users.h"
#include "web_in.h"

#include <string.h>

static struct cli fc; /* a station home's view, no files */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (wh_crypto_init())
		abort();
	strcpy(fc.conf.station, "zhaodengyu");
	strcpy(fc.conf.code, "ZDY");
	strcpy(fc.conf.path, "xicheng/xinjiekou/zhaodengyu");
	strcpy(fc.conf.role, "station");
	return 0;
}

static size_t spec_max(const struct web_in_spec *sp, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(sp[i].key, key))
			return sp[i].max;
	FUZZ_CHECK(!"a pair named by no spec");
	return 0;
}

static int body(const uint8_t *p, size_t n, const struct web_in_spec *sp,
		size_t nsp, struct web_in *in)
{
	char why[WEB_IN_WHY];
	int rc = web_in_decode((const char *)p, n, sp, nsp, in, why);
	if (rc != WH_OK) {
		FUZZ_CHECK(why[0]);
		return rc;
	}
	FUZZ_CHECK(in->n <= WEB_IN_MAX);
	for (size_t i = 0; i < in->n; i++) {
		size_t len = strlen(in->val[i]);
		FUZZ_CHECK(len <= spec_max(sp, nsp, in->name[i]) ||
			   len < sizeof in->num[0]);
		FUZZ_CHECK(wh_utf8_valid((const uint8_t *)in->val[i], len));
	}
	return WH_OK;
}

static void cases(const uint8_t *p, size_t n)
{
	struct web_in in;
	if (body(p, n, web_spec_case, web_spec_case_n, &in) == WH_OK) {
		struct cw_edit e;
		cw_edit_init(&e, 16);
		int rc = CLI_OK;
		for (size_t i = 0; i < in.n && rc == CLI_OK; i++)
			rc = cw_edit_opt(
			    &fc, &e, CW_IN_NEW,
			    !strcmp(in.name[i], "tags") ? "tag" : in.name[i],
			    in.val[i]);
		if (rc == CLI_OK)
			(void)cw_edit_done(&fc, &e);
		cw_edit_fini(&e);
	}
	web_in_fini(&in);
}

static void steps(const uint8_t *p, size_t n)
{
	static const struct {
		const char *name;
		uint8_t kind;
	} kinds[] = {
	    {"triage", WH_OP_TRIAGE},	   {"whistle", WH_OP_WHISTLE},
	    {"supervise", WH_OP_WHISTLE},  {"report", WH_OP_REPORT},
	    {"feedback", WH_OP_FEEDBACK},  {"rate", WH_OP_RATE},
	    {"reopen", WH_OP_CASE_STATUS},
	};
	struct web_in in;
	if (body(p, n, web_spec_step, web_spec_step_n, &in) == WH_OK) {
		const char *step = web_in_get(&in, "step");
		FUZZ_CHECK(step); /* required */
		for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
			if (strcmp(kinds[k].name, step))
				continue;
			struct cw_step s;
			cw_step_init(&s, kinds[k].kind);
			s.supervise = !strcmp(step, "supervise");
			int rc = CLI_OK;
			for (size_t i = 0; i < in.n && rc == CLI_OK; i++) {
				const char *nm = in.name[i];
				if (!strcmp(nm, "step"))
					continue;
				int which = 0;
				while (strcmp(web_spec_step[which].key, nm))
					which++;
				rc = cw_step_opt(&fc, &s,
						 !strcmp(nm, "report_step")
						     ? "step"
						 : !strcmp(nm, "report_within")
						     ? "report-within"
						 : !strcmp(nm, "resolve_within")
						     ? "resolve-within"
						     : nm,
						 which, in.val[i]);
			}
			if (rc == CLI_OK && cw_step_check(&fc, &s) == CLI_OK)
				(void)cw_step_probe(&fc, &s);
			cw_step_fini(&s);
		}
	}
	web_in_fini(&in);
}

static void users(const uint8_t *p, size_t n)
{
	FILE *f = fuzz_stream(p, n);
	struct users u;
	char why[300] = "";
	if (users_parse(f, "users", &u, why, sizeof why) == WH_OK) {
		for (size_t i = 0; i < u.n; i++) {
			FUZZ_CHECK(users_name_valid(u.e[i].name));
			FUZZ_CHECK(u.e[i].role >= 0 &&
				   u.e[i].role <= USERS_ROLE_MAX);
			FUZZ_CHECK(!strncmp(u.e[i].hash, "$argon2id$", 10));
			FUZZ_CHECK(users_find(&u, u.e[i].name) == &u.e[i]);
		}
	} else {
		FUZZ_CHECK(why[0] && u.n == 0 && u.e == NULL);
	}
	users_fini(&u);
	fclose(f);
}

static void headers(const uint8_t *p, size_t n)
{
	/* three NUL-terminated strings, whatever is missing empty */
	char buf[3][1024];
	size_t k = 0, at = 0;
	memset(buf, 0, sizeof buf);
	for (size_t i = 0; i < n && k < 3; i++) {
		if (!p[i]) {
			k++;
			at = 0;
		} else if (at < sizeof buf[0] - 1) {
			buf[k][at++] = (char)p[i];
		}
	}
	char tok[65];
	if (web_in_cookie(buf[0], "wh_session", 64, tok, sizeof tok) == WH_OK) {
		FUZZ_CHECK(strlen(tok) == 64);
		for (int i = 0; i < 64; i++)
			FUZZ_CHECK(strchr("0123456789abcdef", tok[i]));
	}
	const char *names[] = {"127.0.0.1", "localhost", "[::1]"};
	(void)web_in_host_ok(buf[1], names, 3, 7480);
	(void)web_in_host_ok(buf[1], NULL, 0, 7480);
	(void)web_in_param(buf[2], 200);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	struct web_in in;
	switch (data[0] % 5) {
	case 0:
		(void)body(p, n, web_spec_login, web_spec_login_n, &in);
		web_in_fini(&in);
		break;
	case 1:
		cases(p, n);
		break;
	case 2:
		steps(p, n);
		break;
	case 3:
		users(p, n);
		break;
	default:
		headers(p, n);
		break;
	}
	return 0;
}
