/*
 * cmd_user.c: `whistle user`: the web console's accounts (users.h):
 * add, list, remove, passwd.
 *
 * A password is read from stdin with --password-stdin (one line, the
 * line end dropped: for scripts), else asked twice at the terminal
 * with echo off. It lives in sodium memory and is wiped after hashing;
 * it never reaches a message. Changing the file holds HOME/users.lock,
 * so two commands cannot lose each other's change; a running agent
 * sees the new file at the next login.
 */
#include "cli.h"
#include "json.h"
#include "users.h"

#include <sodium.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static const char help[] =
    "usage: whistle user SUBCOMMAND [ARGS...]\n"
    "\n"
    "Accounts of the web console that 'whistle agent' serves (网页控制台\n"
    "账号), kept in HOME/users (Argon2id password hashes, mode 0600).\n"
    "Roles: viewer 查看 (reads only), clerk 登记 (also takes in cases,\n"
    "adds notes, asks for a sync), staff 办理 (also every step of the\n"
    "whistle-and-report loop this station's role allows).\n"
    "\n";

#define PW_CAP (USERS_PASS_MAX + 2)

/* One line from stdin into pw (sodium memory, PW_CAP bytes); *n its
 * length without the line end. */
static int read_line(const struct cli *c, char *pw, size_t *n)
{
	size_t len = 0;
	int ch;
	while ((ch = getchar()) != EOF && ch != '\n') {
		if (len >= PW_CAP - 1)
			return cli_usage(c,
					 "password too long (at most %d "
					 "bytes)",
					 USERS_PASS_MAX);
		pw[len++] = (char)ch;
	}
	if (len && pw[len - 1] == '\r')
		len--;
	pw[len] = '\0';
	*n = len;
	return CLI_OK;
}

/* Ask at the terminal with echo off. */
static int prompt(const struct cli *c, const char *what, char *pw, size_t *n)
{
	struct termios old, quiet;
	if (tcgetattr(STDIN_FILENO, &old) != 0)
		return cli_fail(c, "cannot read a password: %s",
				strerror(errno));
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	fprintf(stderr, "%s: ", what);
	fflush(stderr);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	int rc = read_line(c, pw, n);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stderr);
	return rc;
}

/* The new password, checked, hashed into out. */
static int new_password(const struct cli *c, int from_stdin,
			char out[USERS_HASH_MAX])
{
	char *pw = sodium_malloc(PW_CAP), *again = sodium_malloc(PW_CAP);
	if (!pw || !again) {
		sodium_free(pw);
		sodium_free(again);
		return cli_fail(c, "out of memory");
	}
	size_t n = 0, m = 0;
	int rc;
	if (from_stdin) {
		rc = read_line(c, pw, &n);
	} else if (!isatty(STDIN_FILENO)) {
		rc = cli_usage(c, "stdin is not a terminal: give "
				  "--password-stdin to read the password "
				  "from it");
	} else {
		rc = prompt(c, "新密码 New password", pw, &n);
		if (rc == CLI_OK)
			rc = prompt(c, "再输一次 Again", again, &m);
		if (rc == CLI_OK && (n != m || sodium_memcmp(pw, again, n)))
			rc = cli_fail(c, "the two passwords differ; nothing "
					 "changed");
	}
	const char *why;
	if (rc == CLI_OK && !users_pass_valid(pw, n, &why))
		rc = cli_usage(c, "%s", why);
	if (rc == CLI_OK && users_hash(pw, n, out) != WH_OK)
		rc = cli_fail(c, "cannot hash the password: not enough memory "
				 "(Argon2id needs 64 MiB)");
	sodium_free(pw);
	sodium_free(again);
	return rc;
}

/* Lock, load, let change() edit, save, unlock. */
static int rewrite(struct cli *c, const char *name,
		   int (*change)(struct cli *c, struct users *u,
				 const char *name, void *arg),
		   void *arg)
{
	int fd, rc;
	struct users u;
	char why[300];
	if (users_lock(c->home, &fd) != WH_OK)
		return cli_fail(c, "cannot lock %s/users.lock: %s", c->home,
				strerror(errno));
	if (users_load(c->home, &u, why, sizeof why) != WH_OK) {
		users_unlock(fd);
		return cli_fail(c, "%s", why);
	}
	rc = change(c, &u, name, arg);
	if (rc == CLI_OK && users_save(c->home, &u) != WH_OK)
		rc = cli_fail(c, "cannot write %s/users: %s", c->home,
			      strerror(errno));
	users_fini(&u);
	users_unlock(fd);
	return rc;
}

struct add_arg {
	int role;
	const char *hash;
};

static int add_change(struct cli *c, struct users *u, const char *name,
		      void *arg)
{
	const struct add_arg *a = arg;
	if (users_find(u, name))
		return cli_fail(c,
				"account '%s' exists already ('whistle user "
				"passwd' changes its password)",
				name);
	if (u->n >= USERS_MAX)
		return cli_fail(c, "at most %d accounts", USERS_MAX);
	u->e = wh_xrealloc(u->e, (u->n + 1) * sizeof *u->e);
	struct users_entry *e = &u->e[u->n++];
	memset(e, 0, sizeof *e);
	snprintf(e->name, sizeof e->name, "%s", name);
	e->role = a->role;
	snprintf(e->hash, sizeof e->hash, "%s", a->hash);
	return CLI_OK;
}

static int passwd_change(struct cli *c, struct users *u, const char *name,
			 void *arg)
{
	struct users_entry *e = users_find(u, name);
	if (!e)
		return cli_fail(c, "no account '%s'", name);
	snprintf(e->hash, sizeof e->hash, "%s", (const char *)arg);
	return CLI_OK;
}

static int remove_change(struct cli *c, struct users *u, const char *name,
			 void *arg)
{
	(void)arg;
	struct users_entry *e = users_find(u, name);
	if (!e)
		return cli_fail(c, "no account '%s'", name);
	size_t i = (size_t)(e - u->e);
	memmove(e, e + 1, (u->n - i - 1) * sizeof *e);
	u->n--;
	return CLI_OK;
}

/* NAME [--role R] [--password-stdin]: parsed, home opened. */
static int parse(struct cli *c, int argc, char **argv, int want_role,
		 int want_pw, const char *usage, const char **name, int *role,
		 int *from_stdin)
{
	static const struct cli_opt opts[] = {
	    {"role", 0, 1}, {"password-stdin", 0, 0}, {NULL, 0, 0}};
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which;
	const char *v;
	*name = NULL;
	*role = -1;
	*from_stdin = 0;
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP) {
			fputs(usage, stdout);
			return -1;
		}
		if (t == ARG_POS) {
			if (*name)
				return cli_usage(c, "unexpected argument '%s'",
						 v);
			*name = v;
		} else if (which == 0 && want_role) {
			if ((*role = users_role_parse(v)) < 0)
				return cli_usage(c,
						 "--role '%s': viewer (查看), "
						 "clerk (登记) or staff (办理)",
						 v);
		} else if (which == 1 && want_pw) {
			*from_stdin = 1;
		} else {
			return cli_usage(c,
					 "--%s: not an option of this "
					 "command",
					 opts[which].name);
		}
	}
	if (!*name)
		return cli_usage(c, "missing account name");
	if (!users_name_valid(*name))
		return cli_usage(c,
				 "account name '%s': 1 to %d bytes of "
				 "letters, digits, '_', '.', '-' (Chinese "
				 "names are fine)",
				 *name, USERS_NAME_MAX);
	if (want_role && *role < 0)
		return cli_usage(c, "--role is required (viewer, clerk or "
				    "staff)");
	return cli_open(c, CLI_NEED_CONF);
}

static int user_add(struct cli *c, int argc, char **argv)
{
	const char *name;
	int role, from_stdin;
	int rc = parse(c, argc, argv, 1, 1,
		       "usage: whistle user add NAME "
		       "--role viewer|clerk|staff "
		       "[--password-stdin]\n",
		       &name, &role, &from_stdin);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	char hash[USERS_HASH_MAX];
	if ((rc = new_password(c, from_stdin, hash)))
		return rc;
	struct add_arg a = {role, hash};
	if ((rc = rewrite(c, name, add_change, &a)))
		return rc;
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "name", name);
		json_kstr(&j, "role", users_role_name(role));
		json_obj_end(&j);
		json_end(&j);
	} else
		printf("账号已添加 account added: %s (%s %s)\n", name,
		       users_role_label(role), users_role_name(role));
	return CLI_OK;
}

static int user_passwd(struct cli *c, int argc, char **argv)
{
	const char *name;
	int role, from_stdin;
	int rc = parse(c, argc, argv, 0, 1,
		       "usage: whistle user passwd NAME "
		       "[--password-stdin]\n",
		       &name, &role, &from_stdin);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	char hash[USERS_HASH_MAX];
	if ((rc = new_password(c, from_stdin, hash)))
		return rc;
	if ((rc = rewrite(c, name, passwd_change, hash)))
		return rc;
	if (!c->json)
		printf("密码已更改 password changed: %s\n", name);
	return CLI_OK;
}

static int user_remove(struct cli *c, int argc, char **argv)
{
	const char *name;
	int role, from_stdin;
	int rc = parse(c, argc, argv, 0, 0,
		       "usage: whistle user remove "
		       "NAME\n",
		       &name, &role, &from_stdin);
	if (rc)
		return rc < 0 ? CLI_OK : rc;
	if ((rc = rewrite(c, name, remove_change, NULL)))
		return rc;
	if (!c->json)
		printf(
		    "账号已删除 account removed: %s (its sessions end at its "
		    "next request)\n",
		    name);
	return CLI_OK;
}

static int user_list(struct cli *c, int argc, char **argv)
{
	(void)argv;
	if (argc > 0 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")))
		return cli_help("usage: whistle user list [--json]\n");
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	static const struct cli_opt opts[] = {{NULL, 0, 0}};
	int t, which;
	const char *v;
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END)
		if (t == ARG_ERR || t == ARG_POS)
			return t == ARG_ERR ? CLI_USAGE
					    : cli_usage(c,
							"unexpected "
							"argument '%s'",
							v);
	int rc = cli_open(c, CLI_NEED_CONF);
	if (rc)
		return rc;
	struct users u;
	char why[300];
	if (users_load(c->home, &u, why, sizeof why) != WH_OK)
		return cli_fail(c, "%s", why);
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_arr(&j);
		for (size_t i = 0; i < u.n; i++) {
			json_obj(&j);
			json_kstr(&j, "name", u.e[i].name);
			json_kstr(&j, "role", users_role_name(u.e[i].role));
			json_kstr(&j, "role_label",
				  users_role_label(u.e[i].role));
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_end(&j);
	} else if (!u.n) {
		printf("(no accounts: 'whistle user add NAME --role staff')\n");
	} else {
		for (size_t i = 0; i < u.n; i++)
			printf("%-24s %s %s\n", u.e[i].name,
			       users_role_label(u.e[i].role),
			       users_role_name(u.e[i].role));
	}
	users_fini(&u);
	return CLI_OK;
}

static const struct cli_cmd subs[] = {
    {"add", user_add, "add an account: NAME --role R [--password-stdin]"},
    {"list", user_list, "list the accounts and their roles"},
    {"remove", user_remove, "remove an account"},
    {"passwd", user_passwd, "set an account's password"},
    {NULL, NULL, NULL},
};

int cmd_user(struct cli *c, int argc, char **argv)
{
	return cli_group(c, subs, "user ", help, argc, argv);
}
