/*
 * cmd_authority.c: `whistle authority`, the district administrator's
 * offline tool: create an authority (or a street delegate's) directory
 * and sign each change of its roster (authority.h has the directory).
 *
 * Every change is a new roster with the next serial, signed and written
 * whole; the previous file is kept as roster.wr.<serial>. A grant is
 * never deleted: revoking or moving a member ends its grant at a time,
 * so the ops it signed before then stay valid on every station
 * (crdt/roster.h). All arguments are checked, and the change checked
 * against the roster, before anything is written.
 *
 * Here: the help, init, add, delegate, show, and the checks shared by
 * every change; revoke, replace and move are in cmd_authority_change.c.
 */
#include "authority.h"
#include "json.h"
#include "trust.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

const char adm_help[] =
	"usage: whistle authority init --dir DIR --path DISTRICT_PATH [--name NAME]\n"
	"       whistle authority init --dir DIR --delegate --path STREET_PATH\n"
	"                              [--name NAME]\n"
	"       whistle authority add --dir DIR --key HEX --name NAME\n"
	"                   --role station|street|district|department|admin\n"
	"                   --path PATH [--code CODE] [--dept NAME]\n"
	"                   [--from TIME] [--until TIME] [--seq-from N]\n"
	"       whistle authority delegate --dir DIR --key HEX --name NAME\n"
	"                   --path STREET_PATH [--from TIME] [--until TIME]\n"
	"       whistle authority revoke --dir DIR --key HEX [--at TIME]\n"
	"       whistle authority replace --dir DIR --old HEX --new HEX\n"
	"                   [--at TIME] [--seq-from N]\n"
	"       whistle authority move --dir DIR --key HEX --path NEW_PATH\n"
	"                   [--code CODE] [--at TIME]\n"
	"       whistle authority show --dir DIR [--json]\n"
	"\n"
	"The district administrator's offline tool. It works on an authority\n"
	"directory DIR (default: $WHISTLE_AUTHORITY_DIR), never on a station\n"
	"home: DIR/authority.key (the secret key, mode 0600), authority.pub,\n"
	"authority.conf, and DIR/roster.wr, the signed roster that stations\n"
	"install with 'whistle roster apply'. Each change signs roster N+1\n"
	"and keeps the old one as DIR/roster.wr.N.\n"
	"\n"
	"  init      new key and an empty roster 1 whose scope is the path;\n"
	"            prints the public key (first line): stations are\n"
	"            bootstrapped with 'whistle init ... --authority KEY'.\n"
	"            With --delegate: a street's key, whose roster grants its\n"
	"            own street's members once the district has granted it\n"
	"            with 'authority delegate'.\n"
	"  add       grant a member's key (from 'whistle key show' on its PC)\n"
	"            a role over a path. station, street and district create\n"
	"            cases and need --code (their case-id prefix, unique in\n"
	"            the roster); a department needs --dept, its name as\n"
	"            streets whistle it (城管); admin publishes documents.\n"
	"            A delegate directory grants station, street and\n"
	"            department only, inside its street.\n"
	"  delegate  grant a street's delegate key the right to sign the\n"
	"            roster of STREET_PATH (district directory only).\n"
	"  revoke    revoke every grant of the key from TIME (default now):\n"
	"            its ops stamped from then on are refused, and dropped by\n"
	"            stations that hold them; earlier ops stay valid.\n"
	"  replace   a stolen or dead PC: revoke the old key at TIME and give\n"
	"            the new key a copy of each of the old key's grants (role,\n"
	"            path, code, dept, name) from TIME. The new key's case\n"
	"            numbers start at N (--seq-from; default: the old grant's\n"
	"            first number + 100000), above anything the old PC can\n"
	"            have handed out while offline, so no case id is issued\n"
	"            twice.\n"
	"  move      jurisdiction change: end the key's current grant at TIME\n"
	"            and grant it the new path from TIME (same role, name,\n"
	"            dept; --code, else the same code). Ops made before the\n"
	"            change stay valid under the old grant. Edit the\n"
	"            station's whistle.conf (path, code) to match.\n"
	"  show      the roster: serial, signer, scope, issued, and a row per\n"
	"            grant.\n"
	"\n"
	"TIME: ms since 1970, 2026-11-23T10:00:00+08:00, 2026-11-23 10:00\n"
	"(local time) or now. --from defaults to now: a station whose clock\n"
	"runs behind the administrator's is refused until it passes --from.\n"
	"Carry DIR/roster.wr to the stations (USB stick, or a station that\n"
	"syncs it on) and run 'whistle roster apply roster.wr' there.\n";

/* ---- argument checks ---- */

static int text_ok(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (!n || n > max || s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

int adm_key_arg(const struct cli *c, const char *opt, const char *hex,
		uint8_t pk[WH_PK_BYTES])
{
	if (!hex)
		return cli_usage(c, "%s HEX is required (the member's 'whistle "
				    "key show')",
				 opt);
	if (trust_key_parse(hex, pk) != WH_OK)
		return cli_usage(c, "%s '%s': not a public key (64 lower-case "
				    "hex digits of an Ed25519 key)",
				 opt, hex);
	return CLI_OK;
}

static int name_arg(const struct cli *c, const char *s)
{
	if (!s)
		return cli_usage(c, "--name is required");
	if (!text_ok(s, WH_ROSTER_NAME_MAX))
		return cli_usage(c, "--name '%s': 1 to %u bytes, no control "
				    "characters, no leading or trailing space",
				 s, WH_ROSTER_NAME_MAX);
	return CLI_OK;
}

int adm_path_arg(const struct cli *c, const char *opt, const char *s)
{
	if (!s)
		return cli_usage(c, "%s is required", opt);
	if (!wh_path_valid(s, strlen(s)))
		return cli_usage(c, "%s '%s': not a jurisdiction path "
				    "(lower-case [a-z0-9_-] components joined "
				    "by '/')",
				 opt, s);
	return CLI_OK;
}

int adm_code_arg(const struct cli *c, const char *s)
{
	if (!wh_code_valid(s, strlen(s)) || s[0] == '~')
		return cli_usage(c, "--code '%s': not a station code ([A-Z0-9-], "
				    "1-%u characters, no leading or trailing "
				    "'-')",
				 s, WH_CODE_MAX);
	return CLI_OK;
}

int adm_seq_arg(const struct cli *c, const char *s, uint32_t *out)
{
	if (cli_parse_u32(c, "--seq-from", s, out))
		return CLI_USAGE;
	if (*out == 0)
		return cli_usage(c, "--seq-from: case numbers start at 1");
	return CLI_OK;
}

int adm_creates_cases(int role)
{
	return role == WH_MROLE_STATION || role == WH_MROLE_STREET ||
	       role == WH_MROLE_DISTRICT;
}

/* ---- looking at the roster ---- */

static int within(const char *path, const char *scope)
{
	return wh_path_within(path, strlen(path), scope, strlen(scope));
}

/* Not ended and not revoked by time t. */
int adm_live_at(const struct wh_grant *g, uint64_t t)
{
	return (!g->until_ms || g->until_ms > t) &&
	       (!g->revoked_ms || g->revoked_ms > t);
}

const struct wh_grant *adm_revoked_grant(const struct wh_roster *r,
					 const uint8_t *pk)
{
	for (uint32_t i = 0; i < r->ngrants; i++)
		if (r->grants[i].revoked_ms &&
		    !memcmp(r->grants[i].key, pk, WH_PK_BYTES))
			return &r->grants[i];
	return NULL;
}

uint32_t adm_count_of(const struct wh_roster *r, const uint8_t *pk)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < r->ngrants; i++)
		n += !memcmp(r->grants[i].key, pk, WH_PK_BYTES);
	return n;
}

/* The checks every new grant passes (add, delegate, replace, move).
 * skip_code_of: a key whose grants may share the code (replace). */
int adm_grant_fits(struct cli *c, const struct adir *a,
		   const struct wh_grant *g, const uint8_t *skip_code_of)
{
	const struct wh_roster *r = &a->r;
	char t[CLI_TIME_MAX];
	if (!within(g->path, r->scope))
		return cli_fail(c, "path %s lies outside this roster's scope %s",
				g->path, r->scope);
	if (a->delegate && g->role != WH_MROLE_STATION &&
	    g->role != WH_MROLE_STREET && g->role != WH_MROLE_DEPARTMENT)
		return cli_fail(c, "a delegate grants only station, street and "
				   "department roles (not %s)",
				wh_mrole_name(g->role));
	if (!memcmp(g->key, a->key->pk, WH_PK_BYTES))
		return cli_fail(c, "that is this directory's own key");
	const struct wh_grant *rv = adm_revoked_grant(r, g->key);
	if (rv) {
		cli_time_local(rv->revoked_ms, t);
		return cli_fail(c, "key of %s was revoked at %s; a revoked key "
				   "is not granted again (make a new key and "
				   "use 'authority replace')",
				rv->name, t);
	}
	if (r->ngrants >= WH_ROSTER_MAX_GRANTS)
		return cli_fail(c, "the roster holds %u grants, its most",
				WH_ROSTER_MAX_GRANTS);
	for (uint32_t i = 0; i < r->ngrants; i++) {
		const struct wh_grant *h = &r->grants[i];
		int same_key = !memcmp(h->key, g->key, WH_PK_BYTES);
		if (same_key && h->role == g->role &&
		    !strcmp(h->path, g->path) && adm_live_at(h, g->from_ms))
			return cli_fail(c, "%s already holds %s over %s; 'move' "
					   "or 'revoke' it instead",
					h->name, wh_mrole_name(h->role),
					h->path);
		/* Two keys issuing under one code would issue the same
		 * case ids. */
		if (!same_key && g->code[0] && !strcmp(h->code, g->code) &&
		    !(skip_code_of &&
		      !memcmp(h->key, skip_code_of, WH_PK_BYTES)))
			return cli_fail(c, "code %s is granted to %s already; "
					   "two keys under one code would "
					   "issue the same case ids (a new "
					   "PC for the same station: "
					   "'authority replace')",
					g->code, h->name);
	}
	return CLI_OK;
}

/* ---- output ---- */

/* After a commit: what changed and where the roster went. */
int adm_report(struct cli *c, const struct adir *a, const char *what,
	       const struct wh_grant *const *gs, size_t ng)
{
	char prev[64];
	snprintf(prev, sizeof prev, "roster.wr.%" PRIu64, a->r.serial - 1);
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "dir", a->dir);
		json_kuint(&j, "serial", a->r.serial);
		json_kstr(&j, "previous", prev);
		json_kstr(&j, "change", what);
		json_key(&j, "grants");
		json_arr(&j);
		for (size_t i = 0; i < ng; i++)
			grant_json(&j, gs[i]);
		json_arr_end(&j);
		json_obj_end(&j);
		json_end(&j);
		return CLI_OK;
	}
	printf("%s\n", what);
	printf("roster %" PRIu64 " written to %s/roster.wr (roster %" PRIu64
	       " kept as %s)\n",
	       a->r.serial, a->dir, a->r.serial - 1, prev);
	return CLI_OK;
}

/* ---- option parsing ---- */

/* Parse argv into vals[] by opts index; flags get "" when present. */
int adm_parse(struct cli *c, int argc, char **argv,
	      const struct cli_opt *opts, const char **vals)
{
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which;
	const char *v;
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP)
			return -1;
		if (t == ARG_POS)
			return cli_usage(c, "unexpected argument '%s'", v);
		if (vals[which] && opts[which].has_arg)
			return cli_usage(c, "--%s given twice",
					 opts[which].name);
		vals[which] = v ? v : "";
	}
	return CLI_OK;
}


/* ---- init ---- */

static int a_init(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{"dir", 0, 1}, {"path", 0, 1}, {"name", 0, 1},
		{"delegate", 0, 0}, {NULL, 0, 0}};
	const char *v[4] = {0}, *dir;
	ADM_PARSE(opts, v);
	const char *path = v[1], *name = v[2];
	int delegate = v[3] != NULL, rc;
	if ((rc = adm_path_arg(c, "--path", path)))
		return rc;
	if (!name) {
		const char *slash = strrchr(path, '/');
		name = slash ? slash + 1 : path;
	}
	if ((rc = name_arg(c, name)) || (rc = adir_resolve(c, v[0], &dir)))
		return rc;
	struct adir a;
	rc = adir_create(c, dir, delegate, path, name, &a);
	if (rc) {
		adir_close(&a);
		return rc;
	}
	char pk[2 * WH_PK_BYTES + 1];
	wh_hex(a.key->pk, WH_PK_BYTES, pk);
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "dir", dir);
		json_kstr(&j, "kind", delegate ? "delegate" : "authority");
		json_kstr(&j, "name", name);
		json_kstr(&j, "scope", path);
		json_kstr(&j, "public_key", pk);
		json_kuint(&j, "serial", a.r.serial);
		json_obj_end(&j);
		json_end(&j);
	} else {
		printf("%s\n", pk);
		printf("initialised the %s key of %s (%s) in %s\n",
		       delegate ? "delegate" : "authority", path, name, dir);
		printf("  roster      %s/roster.wr, serial 1, no grants\n", dir);
		if (delegate)
			printf("  next        on the district's directory: "
			       "whistle authority delegate --key %s --name "
			       "%s --path %s\n",
			       pk, name, path);
		else
			printf("  stations    whistle init ... --authority %s\n",
			       pk);
	}
	adir_close(&a);
	return CLI_OK;
}

/* ---- add, delegate ---- */

static int add_grant(struct cli *c, const char *dir, const struct wh_grant *g,
		     const char *verb)
{
	struct adir a;
	int rc = adir_open(c, dir, &a);
	if (!rc && g->role == WH_MROLE_DELEGATE && a.delegate)
		rc = cli_fail(c, "a delegate's roster cannot grant delegates; "
				 "use the district's directory");
	if (!rc)
		rc = adm_grant_fits(c, &a, g, NULL);
	if (!rc) {
		*adir_grant_new(&a, g->key) = *g;
		rc = adir_commit(c, &a);
	}
	if (!rc) {
		char what[1200], key[16], from[CLI_TIME_MAX];
		const struct wh_grant *ng = &a.r.grants[a.r.ngrants - 1];
		roster_key_short(g->key, key);
		cli_time_local(g->from_ms, from);
		snprintf(what, sizeof what, "%s %s (%s): %s over %s%s%s from %s",
			 verb, g->name, key, wh_mrole_name(g->role), g->path,
			 g->code[0] || g->dept[0] ? ", " : "",
			 g->code[0] ? g->code : g->dept, from);
		rc = adm_report(c, &a, what, &ng, 1);
	}
	adir_close(&a);
	return rc;
}

/* --from / --until into g; until after from. */
static int span_args(struct cli *c, const char *from, const char *until,
		     struct wh_grant *g)
{
	g->from_ms = cli_now(c);
	if (from && cli_parse_time(c, "--from", from, &g->from_ms))
		return CLI_USAGE;
	if (until && cli_parse_time(c, "--until", until, &g->until_ms))
		return CLI_USAGE;
	if (until && g->until_ms <= g->from_ms)
		return cli_usage(c, "--until must be after --from");
	return CLI_OK;
}

static int a_add(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{"dir", 0, 1},	{"key", 0, 1},	 {"name", 0, 1},
		{"role", 0, 1}, {"path", 0, 1},	 {"code", 0, 1},
		{"dept", 0, 1}, {"from", 0, 1},	 {"until", 0, 1},
		{"seq-from", 0, 1}, {NULL, 0, 0}};
	const char *v[10] = {0}, *dir;
	ADM_PARSE(opts, v);
	struct wh_grant g;
	memset(&g, 0, sizeof g);
	int rc, role;
	if ((rc = adm_key_arg(c, "--key", v[1], g.key)) || (rc = name_arg(c, v[2])))
		return rc;
	if (!v[3])
		return cli_usage(c, "--role is required (station, street, "
				    "district, department or admin)");
	role = wh_mrole_parse(v[3]);
	if (role == WH_MROLE_DELEGATE)
		return cli_usage(c, "--role delegate: use 'whistle authority "
				    "delegate'");
	if (role < 0)
		return cli_usage(c, "--role '%s': one of station, street, "
				    "district, department, admin",
				 v[3]);
	if ((rc = adm_path_arg(c, "--path", v[4])))
		return rc;
	if (adm_creates_cases(role) && !v[5])
		return cli_usage(c, "--role %s creates cases: --code CODE is "
				    "required (its case-id prefix)",
				 v[3]);
	if (!adm_creates_cases(role) && v[5])
		return cli_usage(c, "--code: a %s does not create cases", v[3]);
	if (v[5] && (rc = adm_code_arg(c, v[5])))
		return rc;
	if ((role == WH_MROLE_DEPARTMENT) != (v[6] != NULL))
		return cli_usage(c, v[6] ? "--dept goes with --role department"
					 : "--role department needs --dept "
					   "NAME (e.g. 城管)");
	if (v[6] && !text_ok(v[6], WH_DEPT_MAX))
		return cli_usage(c, "--dept '%s': 1 to %u bytes, no control "
				    "characters",
				 v[6], WH_DEPT_MAX);
	if ((rc = span_args(c, v[7], v[8], &g)))
		return rc;
	if (v[9] && !adm_creates_cases(role))
		return cli_usage(c, "--seq-from: a %s does not create cases",
				 v[3]);
	if (v[9] && (rc = adm_seq_arg(c, v[9], &g.seq_min)))
		return rc;
	if ((rc = adir_resolve(c, v[0], &dir)))
		return rc;
	snprintf(g.name, sizeof g.name, "%s", v[2]);
	g.role = (uint8_t)role;
	snprintf(g.path, sizeof g.path, "%s", v[4]);
	snprintf(g.code, sizeof g.code, "%s", v[5] ? v[5] : "");
	snprintf(g.dept, sizeof g.dept, "%s", v[6] ? v[6] : "");
	return add_grant(c, dir, &g, "granted");
}

static int a_delegate(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{"dir", 0, 1},	{"key", 0, 1},	 {"name", 0, 1},
		{"path", 0, 1}, {"from", 0, 1},	 {"until", 0, 1},
		{NULL, 0, 0}};
	const char *v[6] = {0}, *dir;
	ADM_PARSE(opts, v);
	struct wh_grant g;
	memset(&g, 0, sizeof g);
	int rc;
	if ((rc = adm_key_arg(c, "--key", v[1], g.key)) ||
	    (rc = name_arg(c, v[2])) || (rc = adm_path_arg(c, "--path", v[3])) ||
	    (rc = span_args(c, v[4], v[5], &g)) ||
	    (rc = adir_resolve(c, v[0], &dir)))
		return rc;
	snprintf(g.name, sizeof g.name, "%s", v[2]);
	g.role = WH_MROLE_DELEGATE;
	snprintf(g.path, sizeof g.path, "%s", v[3]);
	return add_grant(c, dir, &g, "delegated");
}

/* ---- show ---- */

static int a_show(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {{"dir", 0, 1}, {NULL, 0, 0}};
	const char *v[1] = {0}, *dir;
	ADM_PARSE(opts, v);
	int rc = adir_resolve(c, v[0], &dir);
	if (rc)
		return rc;
	struct adir a;
	if ((rc = adir_open(c, dir, &a))) {
		adir_close(&a);
		return rc;
	}
	char pk[2 * WH_PK_BYTES + 1];
	wh_hex(a.key->pk, WH_PK_BYTES, pk);
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "dir", a.dir);
		json_kstr(&j, "kind", a.delegate ? "delegate" : "authority");
		json_kstr(&j, "name", a.name);
		json_kstr(&j, "public_key", pk);
		json_key(&j, "roster");
		roster_json(&j, &a.r);
		json_obj_end(&j);
		json_end(&j);
	} else {
		printf("%s %s (%s), key %s\n",
		       a.delegate ? "delegate" : "authority", a.name, a.dir,
		       pk);
		roster_text(stdout, "roster", &a.r, NULL);
	}
	adir_close(&a);
	return CLI_OK;
}

static const struct cli_cmd subs[] = {
	{"init", a_init, "new authority (or --delegate) key and roster"},
	{"add", a_add, "grant a member's key a role over a path"},
	{"delegate", a_delegate, "let a street's key sign its street's roster"},
	{"revoke", adm_revoke, "revoke every grant of a key from a time"},
	{"replace", adm_replace, "a new key for a stolen PC, numbers above"},
	{"move", adm_move, "end a key's grant and grant a new path"},
	{"show", a_show, "print the roster"},
	{NULL, NULL, NULL},
};

int cmd_authority(struct cli *c, int argc, char **argv)
{
	return cli_group(c, subs, "authority ", adm_help, argc, argv);
}
