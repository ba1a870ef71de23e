/*
 * cmd_roster.c: `whistle roster bind|apply|show|export`, the district's
 * signed roster as a station holds it (store.h, "Trust"; the format is
 * crdt/roster.h). The store enforces the roster on every op once it is
 * bound to an authority key; these commands bind it, install rosters
 * carried from the administrator, and show or hand on what is held.
 *
 * A roster file is one signed roster (the administrator's roster.wr) or
 * several concatenated (what `roster export` writes): each roster is one
 * msgpack value followed by its 64-byte signature, so the file needs no
 * container of its own. Every roster in a file is decoded and checked
 * before any is installed; a file that does not split cleanly installs
 * nothing.
 */
#include "authority.h"
#include "json.h"
#include "mp.h"
#include "trust.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* A file of rosters: the authority's and each delegate's, at most. */
#define FILE_MAX ((size_t)(1 + WH_ROSTER_MAX_DELEGATES) * WH_ROSTER_MAX_BYTES)
#define FILE_ROSTERS (1 + WH_ROSTER_MAX_DELEGATES)

static const char help[] =
	"usage: whistle [--home DIR] roster bind KEYHEX\n"
	"       whistle [--home DIR] roster apply FILE\n"
	"       whistle [--home DIR] roster show [--json]\n"
	"       whistle [--home DIR] roster export -o FILE\n"
	"\n"
	"The district's roster says whose keys may sign what: each member's\n"
	"role, jurisdiction path, case-id code and time span, signed by the\n"
	"district authority (or, for a street's members, by the street's\n"
	"delegate key that the district granted). A store bound to the\n"
	"authority's key checks every op it takes in or writes against the\n"
	"rosters it holds: from the network, from op files, from this\n"
	"keyboard. A store never bound (lab mode) checks signatures only.\n"
	"\n"
	"  bind KEYHEX  bind this home to the authority's public key (what\n"
	"               'whistle authority init' printed); once, for good:\n"
	"               refused if bound to another key. Also writes\n"
	"               'authority = KEYHEX' to whistle.conf. Until a roster\n"
	"               is applied, every op is refused. New homes: 'whistle\n"
	"               init ... --authority KEYHEX'.\n"
	"  apply FILE   install the rosters in FILE (roster.wr from the\n"
	"               administrator, or a 'roster export' file): each must\n"
	"               be signed by the authority or a delegate it granted,\n"
	"               and newer than the one held from its signer (an older\n"
	"               one could bring back a revoked key). Ops already held\n"
	"               that the new roster refuses (a key revoked, a grant\n"
	"               ended) are dropped, and counted. Exit 1 if any roster\n"
	"               was refused. A running agent takes it up itself.\n"
	"  show         the authority key and every roster held.\n"
	"  export -o FILE  every roster held (the authority's first) in one\n"
	"               file, for another station's 'roster apply'.\n";

static int one_arg(struct cli *c, int argc, char **argv,
		   const struct cli_opt *opts, const char **pos,
		   const char **opt, const char *missing)
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
		if (t == ARG_OPT) {
			*opt = v;
			continue;
		}
		if (!pos || *pos)
			return cli_usage(c, "unexpected argument '%s'", v);
		*pos = v;
	}
	if (missing && ((pos && !*pos) || (!pos && opt && !*opt)))
		return cli_usage(c, "%s", missing);
	return CLI_OK;
}

/* The store's authority: CLI_OK and pk, or a message (lab mode). */
static int bound(struct cli *c, uint8_t pk[WH_PK_BYTES])
{
	int rc = wh_store_authority_get(c->store, pk);
	if (rc == WH_ENOTFOUND)
		return cli_fail(c, "this home is not bound to an authority (lab "
				   "mode); bind it first: whistle roster bind "
				   "KEYHEX");
	if (rc)
		return cli_fail(c, "store: %s", wh_strerror(rc));
	return CLI_OK;
}

/* ---- bind ---- */

static int r_bind(struct cli *c, int argc, char **argv)
{
	const char *hex = NULL, *unused = NULL;
	int rc = one_arg(c, argc, argv, NULL, &hex, &unused,
			 "missing KEYHEX (the authority's public key)");
	if (rc < 0)
		return cli_help(help);
	if (rc)
		return rc;
	uint8_t pk[WH_PK_BYTES], cur[WH_PK_BYTES];
	if (trust_key_parse(hex, pk) != WH_OK)
		return cli_usage(c, "'%s': not a public key (64 lower-case hex "
				    "digits of an Ed25519 key)",
				 hex);
	if ((rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_STORE)))
		return rc;
	if (c->conf.authority[0] && strcmp(c->conf.authority, hex))
		return cli_fail(c, "whistle.conf names another authority (%.16s"
				   "...); a home is bound to one authority",
				c->conf.authority);
	rc = wh_store_authority_set(c->store, pk);
	if (rc == WH_EEXIST && wh_store_authority_get(c->store, cur) == WH_OK) {
		char h[2 * WH_PK_BYTES + 1];
		wh_hex(cur, WH_PK_BYTES, h);
		return cli_fail(c, "this store is bound to authority %.16s... "
				   "already; a home is bound once (a station "
				   "that changes district starts a new home)",
				h);
	}
	if (rc)
		return cli_fail(c, "store: %s", wh_strerror(rc));
	if (!c->conf.authority[0] && (rc = cli_conf_add_authority(c, hex)))
		return rc;
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "authority", hex);
		json_obj_end(&j);
		json_end(&j);
	} else {
		printf("bound to authority %s\n", hex);
		printf("every op is checked against its roster from now on; "
		       "install it with 'whistle roster apply FILE'\n");
	}
	return CLI_OK;
}

/* ---- apply ---- */

struct piece {
	const uint8_t *p;
	size_t n, off;
	struct wh_roster r;
};

/* Split and decode every roster of the file; nothing is installed if
 * one fails. */
static int split(struct cli *c, const char *file, const struct wh_buf *b,
		 struct piece *ps, size_t *np)
{
	size_t off = 0, n = 0;
	if (!b->len)
		return cli_fail(c, "%s: empty, not a roster file", file);
	while (off < b->len) {
		struct wh_mp m;
		wh_mp_init(&m, b->p + off, b->len - off);
		int rc = wh_mp_skip(&m, 4);
		size_t len = (size_t)(m.p - (b->p + off)) + WH_SIG_BYTES;
		if (rc || len > b->len - off)
			return cli_fail(c, "%s: not a roster file (at byte %zu: "
					   "%s); nothing installed",
					file, off,
					rc ? wh_strerror(rc) : "input truncated");
		if (n == FILE_ROSTERS)
			return cli_fail(c, "%s: more than %u rosters; nothing "
					   "installed",
					file, FILE_ROSTERS);
		struct piece *p = &ps[n++];
		p->p = b->p + off;
		p->n = len;
		p->off = off;
		rc = wh_roster_decode(p->p, p->n, &p->r);
		*np = n;
		if (rc)
			return cli_fail(c, "%s: roster #%zu at byte %zu: %s; "
					   "nothing installed",
					file, n, off, wh_strerror(rc));
		off += len;
	}
	return CLI_OK;
}

/* Whether this station's key holds a live grant that fits whistle.conf;
 * a line saying what does not, else nothing. */
static void self_note(struct cli *c)
{
	struct wh_roster_set rs;
	if (wh_store_roster_set(c->store, &rs) != WH_OK)
		return;
	const struct wh_grant *g = NULL;
	const struct cli_conf *f = &c->conf;
	if (!wh_roster_member_now(&rs, c->key->pk, cli_now(c), &g))
		printf("note: this station's key holds no live grant in the "
		       "roster now: its case steps will be refused\n");
	else if (!wh_path_within(f->path, strlen(f->path), g->path,
				 strlen(g->path)) ||
		 strcmp(wh_mrole_name(g->role), f->role) ||
		 (g->code[0] && strcmp(g->code, f->code)))
		printf("note: the roster grants this station %s over %s%s%s, "
		       "whistle.conf says %s over %s, code %s: edit "
		       "whistle.conf to match\n",
		       wh_mrole_name(g->role), g->path,
		       g->code[0] ? ", code " : "", g->code, f->role, f->path,
		       f->code);
	wh_roster_set_fini(&rs);
}

/* Install one; prints its line. 1 if refused, 0 if installed or held,
 * CLI_FAIL-style negative never: store failures return -1. */
static int install(struct cli *c, const char *file, const struct piece *p,
		   const uint8_t *auth, struct json *j)
{
	char who[40], key[16];
	roster_key_short(p->r.signer, key);
	snprintf(who, sizeof who, "%s (%s)", key,
		 memcmp(p->r.signer, auth, WH_PK_BYTES) ? "delegate"
							 : "authority");
	uint64_t held = 0;
	struct wh_roster_set rs;
	if (wh_store_roster_set(c->store, &rs) == WH_OK) {
		const struct wh_roster *h = wh_roster_set_find(&rs, p->r.signer);
		held = h ? h->serial : 0;
		wh_roster_set_fini(&rs);
	}
	struct wh_roster_change ch;
	const char *why = NULL;
	int rc = wh_store_roster_put(c->store, p->p, p->n, &ch, &why);
	const char *result = rc == WH_OK     ? "installed"
			     : rc == WH_EEXIST ? "held"
					       : "refused";
	int refused = rc != WH_OK && rc != WH_EEXIST;
	if (refused && rc != WH_EOLD && rc != WH_EAUTHORITY &&
	    rc != WH_ESCOPE && rc != WH_ESIG && rc != WH_ETOOBIG) {
		cli_fail(c, "%s: roster %" PRIu64 " from %s: store: %s", file,
			 p->r.serial, who, wh_strerror(rc));
		return -1;
	}
	if (j) {
		json_obj(j);
		json_kuint(j, "serial", p->r.serial);
		json_khex(j, "signer", p->r.signer, WH_PK_BYTES);
		json_kstr(j, "result", result);
		json_kstr(j, "error", refused ? wh_strerror(rc) : NULL);
		json_kstr(j, "why", refused ? why : NULL);
		json_kuint(j, "held_serial", held);
		json_kuint(j, "ops_dropped", rc == WH_OK ? ch.purged : 0);
		json_obj_end(j);
	}
	if (rc == WH_OK && !j) {
		printf("roster %" PRIu64 " from %s installed", ch.serial, who);
		if (ch.purged)
			printf("; %zu op%s dropped (revoked or ended grants)",
			       ch.purged, ch.purged == 1 ? "" : "s");
		printf("\n");
	} else if (rc == WH_EEXIST && !j) {
		printf("roster %" PRIu64 " from %s: held already\n",
		       p->r.serial, who);
	} else if (rc == WH_EOLD && held > p->r.serial) {
		cli_fail(c, "%s: roster %" PRIu64 " is older than the held %"
			    PRIu64 ": refused",
			 file, p->r.serial, held);
	} else if (rc == WH_EOLD) {
		cli_fail(c, "%s: roster %" PRIu64 " from %s is another roster "
			    "with the serial held: refused",
			 file, p->r.serial, who);
	} else if (refused) {
		cli_fail(c, "%s: roster %" PRIu64 " from %s: %s (%s): refused",
			 file, p->r.serial, who, wh_strerror(rc),
			 why ? why : "-");
	}
	return refused;
}

static int r_apply(struct cli *c, int argc, char **argv)
{
	const char *file = NULL, *unused = NULL;
	int rc = one_arg(c, argc, argv, NULL, &file, &unused,
			 "missing FILE (a roster.wr or a 'roster export' file)");
	if (rc < 0)
		return cli_help(help);
	if (rc)
		return rc;
	uint8_t auth[WH_PK_BYTES];
	if ((rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE)) ||
	    (rc = bound(c, auth)))
		return rc;
	struct wh_buf b = {0};
	if ((rc = roster_file_read(c, file, FILE_MAX, &b)))
		return rc;
	struct piece *ps = wh_xcalloc(FILE_ROSTERS, sizeof *ps);
	size_t n = 0;
	rc = split(c, file, &b, ps, &n);
	struct json j;
	int started = !rc && c->json;
	if (started) {
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "file", file);
		json_key(&j, "rosters");
		json_arr(&j);
	}
	/* The authority's first: a delegate's is judged by the grants of
	 * the newest root roster. */
	size_t refused = 0;
	for (int pass = 0; !rc && pass < 2; pass++)
		for (size_t i = 0; !rc && i < n; i++) {
			int root = !memcmp(ps[i].r.signer, auth, WH_PK_BYTES);
			if (root != (pass == 0))
				continue;
			int r = install(c, file, &ps[i], auth,
					c->json ? &j : NULL);
			if (r < 0)
				rc = CLI_FAIL;
			else
				refused += (size_t)r;
		}
	/* Started, the JSON value is finished even after a store failure
	 * (the message is on stderr), so stdout stays one value. */
	if (started) {
		json_arr_end(&j);
		json_kuint(&j, "refused", refused);
		json_obj_end(&j);
		json_end(&j);
	}
	if (!rc && !c->json)
		self_note(c);
	for (size_t i = 0; i < n; i++)
		wh_roster_fini(&ps[i].r);
	free(ps);
	wh_buf_fini(&b);
	if (rc)
		return rc;
	return refused ? CLI_FAIL : CLI_OK;
}

/* ---- show ---- */

static int r_show(struct cli *c, int argc, char **argv)
{
	int rc = one_arg(c, argc, argv, NULL, NULL, NULL, NULL);
	if (rc < 0)
		return cli_help(help);
	if (rc)
		return rc;
	if ((rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY | CLI_NEED_STORE)))
		return rc;
	struct wh_roster_set rs;
	rc = wh_store_roster_set(c->store, &rs);
	if (rc && rc != WH_ENOTFOUND)
		return cli_fail(c, "store: %s", wh_strerror(rc));
	int lab = rc == WH_ENOTFOUND;
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		if (lab) {
			json_kstr(&j, "authority", NULL);
		} else {
			json_khex(&j, "authority", rs.authority, WH_PK_BYTES);
		}
		json_kstr(&j, "conf_authority",
			  c->conf.authority[0] ? c->conf.authority : NULL);
		json_key(&j, "root");
		if (!lab && rs.root.serial)
			roster_json(&j, &rs.root);
		else
			json_null(&j);
		json_key(&j, "delegates");
		json_arr(&j);
		for (uint32_t i = 0; !lab && i < rs.ndel; i++)
			roster_json(&j, &rs.del[i]);
		json_arr_end(&j);
		json_kbool(&j, "member_now",
			   !lab && wh_roster_member_now(&rs, c->key->pk,
							cli_now(c), NULL));
		json_obj_end(&j);
		json_end(&j);
	} else if (lab) {
		printf("authority: none (lab mode: trust list only)\n");
		if (c->conf.authority[0])
			printf("note: whistle.conf names authority %.16s..., "
			       "but the store is not bound: run 'whistle "
			       "roster bind %s'\n",
			       c->conf.authority, c->conf.authority);
	} else {
		char hex[2 * WH_PK_BYTES + 1];
		wh_hex(rs.authority, WH_PK_BYTES, hex);
		printf("authority: %s\n", hex);
		if (!rs.root.serial)
			printf("no roster yet: every op is refused until "
			       "'whistle roster apply FILE'\n");
		else
			roster_text(stdout, "roster", &rs.root, c->key->pk);
		for (uint32_t i = 0; i < rs.ndel; i++)
			roster_text(stdout, "delegate roster", &rs.del[i],
				    c->key->pk);
	}
	if (!lab)
		wh_roster_set_fini(&rs);
	return CLI_OK;
}

/* ---- export ---- */

struct collect {
	struct wh_buf b;
	size_t n;
};

static int collect_cb(void *ctx, const uint8_t *p, size_t n)
{
	struct collect *k = ctx;
	wh_buf_append(&k->b, p, n);
	k->n++;
	return 0;
}

static int r_export(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {{"output", 'o', 1},
					      {NULL, 0, 0}};
	const char *file = NULL;
	int rc = one_arg(c, argc, argv, opts, NULL, &file,
			 "-o FILE is required");
	if (rc < 0)
		return cli_help(help);
	if (rc)
		return rc;
	uint8_t auth[WH_PK_BYTES];
	if ((rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_STORE)) ||
	    (rc = bound(c, auth)))
		return rc;
	struct collect k = {{0}, 0};
	rc = wh_store_roster_each(c->store, collect_cb, &k);
	if (rc)
		rc = cli_fail(c, "store: %s", wh_strerror(rc));
	else if (!k.n)
		rc = cli_fail(c, "no roster held yet; nothing to export");
	else
		rc = roster_file_write(c, file, k.b.p, k.b.len, 0644);
	wh_buf_fini(&k.b);
	if (rc)
		return rc;
	if (c->json) {
		struct json j;
		json_init(&j, stdout);
		json_obj(&j);
		json_kstr(&j, "file", file);
		json_kuint(&j, "rosters", k.n);
		json_obj_end(&j);
		json_end(&j);
	}
	fprintf(stderr, "exported %zu roster%s to %s\n", k.n,
		k.n == 1 ? "" : "s", file);
	return CLI_OK;
}

static const struct cli_cmd subs[] = {
	{"bind", r_bind, "bind this home to the district authority's key"},
	{"apply", r_apply, "install rosters from a file (roster.wr)"},
	{"show", r_show, "the authority key and the rosters held"},
	{"export", r_export, "write every roster held to a file"},
	{NULL, NULL, NULL},
};

int cmd_roster(struct cli *c, int argc, char **argv)
{
	return cli_group(c, subs, "roster ", help, argc, argv);
}
