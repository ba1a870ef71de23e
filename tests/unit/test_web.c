/*
 * test_web.c: the web console's pieces that need no HTTP: the request
 * body decoder (agent/web_in.c: types, bounds, unknown, duplicate and
 * missing keys, NUL, lists, numbers), cookies and Host headers; the
 * sessions and the failed-login limit (agent/web_auth.c) aged with
 * injected times (idle and absolute expiry, a full table, constant-time
 * CSRF check, the limit per name and per address, its window, a
 * success clearing the name); and the accounts file (agent/users.c:
 * parse errors with their line, save and load back, Argon2id hash and
 * verify, a missing account verified against the dummy hash).
 */
#include "users.h"
#include "web_auth.h"
#include "web_in.h"
#include "wh_test.h"

#include <sodium.h>
#include <unistd.h>

static int decode(const char *body, const struct web_in_spec *sp, size_t n,
		  struct web_in *in)
{
	char why[WEB_IN_WHY];
	int rc = web_in_decode(body, strlen(body), sp, n, in, why);
	if (rc != WH_OK)
		CHECK(why[0] != '\0'); /* a refusal always says why */
	return rc;
}

static void test_decode(void)
{
	struct web_in in;
	CHECK_EQ(decode("{\"user\":\"wang\",\"password\":\"secret-1\"}",
			web_spec_login, web_spec_login_n, &in),
		 WH_OK);
	CHECK(!strcmp(web_in_get(&in, "user"), "wang"));
	CHECK(!strcmp(web_in_get(&in, "password"), "secret-1"));
	web_in_fini(&in);
	/* missing, unknown, duplicate, wrong type, not an object, trailing */
	CHECK_EQ(decode("{\"user\":\"wang\"}", web_spec_login, web_spec_login_n,
			&in),
		 WH_EFIELD);
	web_in_fini(&in);
	CHECK_EQ(decode("{\"user\":\"a\",\"password\":\"b\",\"admin\":true}",
			web_spec_login, web_spec_login_n, &in),
		 WH_EFIELD);
	web_in_fini(&in);
	CHECK_EQ(decode("{\"user\":\"a\",\"user\":\"b\",\"password\":\"c\"}",
			web_spec_login, web_spec_login_n, &in),
		 WH_EDECODE);
	web_in_fini(&in);
	CHECK_EQ(decode("{\"user\":1,\"password\":\"c\"}", web_spec_login,
			web_spec_login_n, &in),
		 WH_EDECODE);
	web_in_fini(&in);
	CHECK_EQ(decode("[1,2]", web_spec_login, web_spec_login_n, &in),
		 WH_EDECODE);
	web_in_fini(&in);
	CHECK_EQ(decode("{\"user\":\"a\",\"password\":\"c\"} x", web_spec_login,
			web_spec_login_n, &in),
		 WH_EDECODE);
	web_in_fini(&in);
	CHECK_EQ(decode("{\"user\":\"a\\u0000b\",\"password\":\"c\"}",
			web_spec_login, web_spec_login_n, &in),
		 WH_EDECODE);
	web_in_fini(&in);
	CHECK_EQ(decode("{\"user\":\"\xff\",\"password\":\"c\"}",
			web_spec_login, web_spec_login_n, &in),
		 WH_EDECODE);
	web_in_fini(&in);
	/* a string past its bound */
	char big[200];
	memset(big, 'x', sizeof big);
	char body[400];
	snprintf(body, sizeof body, "{\"user\":\"%.*s\",\"password\":\"c\"}",
		 (int)sizeof big, big);
	CHECK_EQ(decode(body, web_spec_login, web_spec_login_n, &in),
		 WH_ETOOBIG);
	web_in_fini(&in);
	/* lists: a string or an array, at most 'count' */
	CHECK_EQ(decode("{\"step\":\"whistle\",\"dept\":[\"城管\",\"住建\"],"
			"\"score\":4}",
			web_spec_step, web_spec_step_n, &in),
		 WH_OK);
	CHECK_EQ(in.n, 4);
	CHECK(!strcmp(in.val[1], "城管") && !strcmp(in.val[2], "住建"));
	CHECK(!strcmp(web_in_get(&in, "score"), "4"));
	web_in_fini(&in);
	CHECK_EQ(decode("{\"step\":\"x\",\"dept\":[1]}", web_spec_step,
			web_spec_step_n, &in),
		 WH_EDECODE);
	web_in_fini(&in);
	CHECK_EQ(decode("{\"step\":\"x\",\"score\":-1}", web_spec_step,
			web_spec_step_n, &in),
		 WH_ETOOBIG);
	web_in_fini(&in);
	CHECK_EQ(decode("{\"step\":\"x\",\"dept\":[\"a\",\"b\",\"c\",\"d\","
			"\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\",\"l\",\"m\","
			"\"n\",\"o\",\"p\",\"q\"]}",
			web_spec_step, web_spec_step_n, &in),
		 WH_ETOOBIG);
	web_in_fini(&in);
	/* null is "not given" */
	CHECK_EQ(decode("{\"title\":\"t\",\"grid\":null}", web_spec_case,
			web_spec_case_n, &in),
		 WH_OK);
	CHECK(web_in_get(&in, "grid") == NULL);
	web_in_fini(&in);
	/* a body past WEB_BODY_MAX is refused before parsing */
	char why[WEB_IN_WHY];
	CHECK_EQ(web_in_decode("{}", WEB_BODY_MAX + 1, web_spec_case,
			       web_spec_case_n, &in, why),
		 WH_ETOOBIG);
	web_in_fini(&in);
}

static void test_headers(void)
{
	char tok[WEB_TOKEN_HEX + 1];
	const char *good = "a=1; wh_session=00112233445566778899aabbccddeeff"
			   "00112233445566778899aabbccddeeff; b=2";
	CHECK_EQ(web_in_cookie(good, "wh_session", 64, tok, sizeof tok), WH_OK);
	CHECK(!strncmp(tok, "00112233", 8));
	CHECK_EQ(web_in_cookie("a=1", "wh_session", 64, tok, sizeof tok),
		 WH_ENOTFOUND);
	CHECK_EQ(
	    web_in_cookie("wh_session=xyz", "wh_session", 64, tok, sizeof tok),
	    WH_EDECODE);
	CHECK_EQ(
	    web_in_cookie("xwh_session=00", "wh_session", 2, tok, sizeof tok),
	    WH_ENOTFOUND);
	const char *names[] = {"127.0.0.1", "localhost"};
	CHECK(web_in_host_ok("127.0.0.1:7480", names, 2, 7480));
	CHECK(web_in_host_ok("LOCALHOST:7480", names, 2, 7480));
	CHECK(!web_in_host_ok("127.0.0.1:7481", names, 2, 7480));
	CHECK(!web_in_host_ok("evil.example:7480", names, 2, 7480));
	CHECK(!web_in_host_ok("127.0.0.1", names, 2, 7480));
	CHECK(!web_in_host_ok(NULL, names, 2, 7480));
	CHECK(!web_in_host_ok("127.0.0.1:7480/x", names, 2, 7480));
	CHECK(web_in_host_ok("any.name:80", NULL, 0, 80));
	CHECK_EQ(web_in_param("ok 值", 10), WH_OK);
	CHECK_EQ(web_in_param("a\nb", 10), WH_EDECODE);
	CHECK_EQ(web_in_param("toolong", 3), WH_ETOOBIG);
}

static void test_sessions(void)
{
	static struct web_auth a;
	char ck[WEB_TOKEN_HEX + 1], ck2[WEB_TOKEN_HEX + 1];
	web_auth_init(&a);
	uint64_t t = 1000000;
	struct web_session *s = web_session_new(&a, "wang", USERS_STAFF, t, ck);
	CHECK(strlen(ck) == 64 && strlen(s->csrf) == 64);
	CHECK(strcmp(ck, s->csrf) != 0);
	CHECK(web_session_find(&a, ck, t + 1000) == s);
	CHECK(web_csrf_ok(s, s->csrf));
	char wrong[WEB_TOKEN_HEX + 1];
	memcpy(wrong, s->csrf, sizeof wrong);
	wrong[10] = wrong[10] == 'a' ? 'b' : 'a';
	CHECK(!web_csrf_ok(s, wrong));
	CHECK(!web_csrf_ok(s, NULL));
	CHECK(!web_csrf_ok(s, "short"));
	/* a wrong cookie finds nothing */
	memcpy(wrong, ck, sizeof wrong);
	wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
	CHECK(web_session_find(&a, wrong, t + 1000) == NULL);
	/* idle expiry, counted from the last request */
	CHECK(web_session_find(&a, ck, t + WEB_IDLE_MS - 1) == s);
	CHECK(web_session_find(&a, ck, t + 2 * WEB_IDLE_MS - 2) == s);
	CHECK(web_session_find(&a, ck, t + 3 * WEB_IDLE_MS) == NULL);
	CHECK(!s->used);
	/* absolute expiry, however busy */
	s = web_session_new(&a, "wang", USERS_STAFF, t, ck);
	uint64_t now = t;
	while (now + WEB_IDLE_MS / 2 < t + WEB_LIFE_MS) {
		now += WEB_IDLE_MS / 2;
		CHECK(web_session_find(&a, ck, now) == s);
	}
	CHECK(web_session_find(&a, ck, t + WEB_LIFE_MS) == NULL);
	/* logout */
	s = web_session_new(&a, "wang", USERS_STAFF, t, ck);
	web_session_end(s);
	CHECK(web_session_find(&a, ck, t) == NULL);
	/* a full table drops the least recently seen */
	s = web_session_new(&a, "old", USERS_VIEWER, t, ck);
	for (int i = 1; i < WEB_SESSIONS; i++)
		web_session_new(&a, "x", USERS_VIEWER, t + (uint64_t)i, ck2);
	CHECK(web_session_find(&a, ck, t + 100) == s); /* touched: not oldest */
	web_session_new(&a, "new", USERS_VIEWER, t + 200, ck2);
	CHECK(web_session_find(&a, ck, t + 300) == s);
	CHECK(web_session_find(&a, ck2, t + 300) != NULL);
	web_auth_fini(&a);
}

static void test_limit(void)
{
	static struct web_auth a;
	uint64_t t = 5000000, retry;
	web_auth_init(&a);
	for (int i = 0; i < WEB_FAIL_MAX; i++) {
		CHECK(!web_auth_limited(&a, "wang", "127.0.0.1", t, &retry));
		web_auth_failed(&a, "wang", "127.0.0.1", t + (uint64_t)i);
	}
	CHECK(web_auth_limited(&a, "wang", "127.0.0.1", t + 10, &retry));
	CHECK(retry > 0 && retry <= WEB_FAIL_WINDOW_MS);
	/* the name is limited from any address, the address for any name */
	CHECK(web_auth_limited(&a, "wang", "127.0.0.2", t + 10, &retry));
	CHECK(web_auth_limited(&a, "li", "127.0.0.1", t + 10, &retry));
	CHECK(!web_auth_limited(&a, "li", "127.0.0.2", t + 10, &retry));
	/* the window ends */
	CHECK(!web_auth_limited(&a, "wang", "127.0.0.1", t + WEB_FAIL_WINDOW_MS,
				&retry));
	/* a success clears the name, not the address */
	for (int i = 0; i < WEB_FAIL_MAX; i++)
		web_auth_failed(&a, "zhao", "10.0.0.9", t);
	web_auth_succeeded(&a, "zhao");
	CHECK(!web_auth_limited(&a, "zhao", "10.0.0.8", t + 1, &retry));
	CHECK(web_auth_limited(&a, "zhao", "10.0.0.9", t + 1, &retry));
	/* many names cannot grow the table past its size */
	char name[32];
	for (int i = 0; i < 3 * WEB_FAILS; i++) {
		snprintf(name, sizeof name, "n%d", i);
		web_auth_failed(&a, name, "10.1.1.1", t + 2);
	}
	CHECK(web_auth_limited(&a, "n0", "10.1.1.1", t + 3, &retry));
	size_t used = 0;
	for (size_t i = 0; i < WEB_FAILS; i++)
		used += a.fails[i].key[0] != 0;
	CHECK(used <= WEB_FAILS);
	web_auth_fini(&a);
}

static void test_users(void)
{
	CHECK(users_name_valid("wang") && users_name_valid("王芳") &&
	      users_name_valid("li.street-2"));
	CHECK(!users_name_valid("") && !users_name_valid("-x") &&
	      !users_name_valid("a b") && !users_name_valid("a<b") &&
	      !users_name_valid("\xff"));
	const char *why;
	CHECK(!users_pass_valid("short", 5, &why) && why);
	CHECK(users_pass_valid("long-enough", 11, &why));
	char hash[USERS_HASH_MAX];
	REQUIRE(users_hash("long-enough", 11, hash) == WH_OK);
	char dir[] = "/tmp/test_web.XXXXXX";
	REQUIRE(mkdtemp(dir));
	struct users u = {0};
	u.e = calloc(2, sizeof *u.e);
	u.n = 2;
	strcpy(u.e[0].name, "王芳");
	u.e[0].role = USERS_STAFF;
	strcpy(u.e[0].hash, hash);
	strcpy(u.e[1].name, "li");
	u.e[1].role = USERS_VIEWER;
	strcpy(u.e[1].hash, hash);
	CHECK_EQ(users_save(dir, &u), WH_OK);
	users_fini(&u);
	char why2[300];
	struct users v;
	CHECK_EQ(users_load(dir, &v, why2, sizeof why2), WH_OK);
	CHECK_EQ(v.n, 2);
	struct users_entry *e = users_find(&v, "王芳");
	REQUIRE(e);
	CHECK_EQ(e->role, USERS_STAFF);
	CHECK(users_verify(e, "long-enough", 11));
	CHECK(!users_verify(e, "long-enougH", 11));
	CHECK(!users_verify(NULL, "long-enough", 11));
	CHECK(users_find(&v, "nobody") == NULL);
	users_fini(&v);
	/* bad lines: the whole file is refused, its line named */
	static const struct {
		const char *text;
		int line;
	} bad[] = {
	    {"# c\nwang staff\n", 2},
	    {"wang boss $argon2id$v=19$m=1,t=1,p=1$a$b\n", 1},
	    {"wang staff plain\n", 1},
	    {"a b c d\n", 1},
	    {"\nwang staff $argon2id$x\nwang clerk $argon2id$y\n", 3},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		FILE *f = fmemopen((void *)(uintptr_t)bad[i].text,
				   strlen(bad[i].text), "r");
		REQUIRE(f);
		char want[32];
		snprintf(want, sizeof want, "users:%d:", bad[i].line);
		CHECK_EQ(users_parse(f, "users", &v, why2, sizeof why2),
			 WH_EDECODE);
		CHECK(!strncmp(why2, want, strlen(want)));
		CHECK(v.n == 0 && v.e == NULL);
		fclose(f);
	}
	char file[300];
	snprintf(file, sizeof file, "%s/users", dir);
	unlink(file);
	CHECK_EQ(users_load(dir, &v, why2, sizeof why2), WH_OK); /* none */
	CHECK_EQ(v.n, 0);
	rmdir(dir);
}

int main(void)
{
	REQUIRE(sodium_init() >= 0);
	test_decode();
	test_headers();
	test_sessions();
	test_limit();
	test_users();
	return wh_test_done("test_web");
}
