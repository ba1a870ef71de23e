/*
 * cmd_prune.c: `whistle prune --carried`, dropping the cases a station
 * carried for its neighbours in an emergency (neighbour relay) once it
 * is over and someone who keeps them holds them.
 *
 * When a carried case may go (docs/security.md, "Neighbour relay"):
 *   - no emergency over this station's street is in force: while one
 *     is, relay still carries them, and they are what it is for;
 *   - a station or hub whose own path covers the case (its own station,
 *     the street or district hub) is known to hold every op of it held
 *     here: the "carry/<key>" records (carry.h) learnt from a sync that
 *     ended in agreement or from a bundle it wrote. Until then this
 *     store may be the only other copy, and the case stays;
 *   - every link of the running agent has narrowed back to this
 *     station's path (its "peer/" records): a link still at the street
 *     would fetch back at once what is dropped;
 *   - --force drops them without the second condition.
 * The store re-checks inside its transaction that a case never reached
 * this station's path and got no op since we looked (wh_store_cases_drop),
 * so a case moved here meanwhile, or one still being written, stays.
 */
#include "agent_self.h"
#include "bundle_int.h"
#include "carry.h"
#include "cli.h"
#include "json.h"
#include "syncio.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
	"usage: whistle [--home DIR] prune --carried [--force] [--dry-run]\n"
	"\n"
	"Drop from the store the cases carried here for neighbour stations\n"
	"in an emergency (neighbour relay: cases that never lay within this\n"
	"station's path). Only after the emergency over the street has ended,\n"
	"and only the cases a station or hub that keeps them (the case's own\n"
	"station, the street or district hub) is known to hold in full: known\n"
	"from a sync with it that ended in agreement, or a bundle it wrote.\n"
	"The others stay until then. The station's own cases, cases moved out\n"
	"of its path (转办), plans, emergencies and problem lists never go.\n"
	"\n"
	"  --carried       what to prune: cases carried for neighbours\n"
	"  --force         also the carried cases nobody is known to hold yet\n"
	"  --dry-run, -n   list what would go and what stays; change nothing\n"
	"\n"
	"A running agent's links must have narrowed back to this station's\n"
	"path first (a moment after the end): a link still sharing the street\n"
	"would fetch the cases back.\n"
	"\n"
	"Prints what was dropped and what stayed and why; --json prints\n"
	"{dry_run, carried, pruned, ops, content (attachments and sealed\n"
	"keys no op names any more), kept_unconfirmed,\n"
	"kept_reached, kept_newer, cases: [{id, path, held_by}]}. Exit 1 if\n"
	"an emergency over the street is in force, or the store cannot be\n"
	"written (nothing changes then).\n";

struct carried {
	struct wh_case_ref ref;
	char path[WH_PATH_MAX + 1];
	char held_by[WH_NET_NAME_MAX + 1]; /* "" : nobody known */
};

struct list {
	const struct cli *c;
	struct carried *v;
	size_t n, cap;
};

static int ref_cmp(const char *code, uint32_t seq, const struct carried *b)
{
	int d = strcmp(code, b->ref.code);
	if (d)
		return d;
	return seq < b->ref.seq ? -1 : seq > b->ref.seq;
}

static int carried_cmp(const void *x, const void *y)
{
	const struct carried *a = x;
	return ref_cmp(a->ref.code, a->ref.seq, y);
}

static int list_cb(void *ctx, const struct wh_case *v)
{
	struct list *l = ctx;
	if (!cli_case_carried(l->c, v))
		return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = wh_xrealloc(l->v, l->cap * sizeof *l->v);
	}
	struct carried *e = &l->v[l->n++];
	memset(e, 0, sizeof *e);
	snprintf(e->ref.code, sizeof e->ref.code, "%s", v->code);
	e->ref.seq = v->seq;
	snprintf(e->path, sizeof e->path, "%s", v->path ? v->path : "");
	return 0;
}

/* The carry records, copied out of the store's walk (nothing else may
 * read the store while it runs). */
struct record {
	uint8_t pk[WH_PK_BYTES];
	struct carry_peer known;
};

struct records {
	struct record *r;
	size_t n, cap;
};

static int record_cb(void *ctx, const char *name, const uint8_t *val,
		     size_t n)
{
	struct records *rs = ctx;
	struct record one;
	const char *hex = name + 6; /* "carry/" */
	if (strlen(hex) != 2 * WH_PK_BYTES ||
	    wh_unhex(hex, one.pk, WH_PK_BYTES) != WH_OK ||
	    carry_peer_decode(val, n, &one.known) != WH_OK)
		return 0; /* damaged: knowing nothing is safe */
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? 2 * rs->cap : 8;
		rs->r = wh_xrealloc(rs->r, rs->cap * sizeof *rs->r);
	}
	rs->r[rs->n++] = one;
	return 0;
}

/* A link of the running agent still shares a scope wider than this
 * station's path: the first one's name into who ("" if none). While
 * one does, its reconciliation would fetch back what prune drops: the
 * links narrow a moment after the emergency ends, each at its next
 * HELLO. */
struct wide {
	const char *own;
	char who[sizeof ((struct peer_rec *)0)->name];
	char scope[WH_PATH_MAX + 1];
};

static int wide_cb(void *ctx, const char *name, const uint8_t *val,
		   size_t n)
{
	(void)name;
	struct wide *w = ctx;
	struct peer_rec r;
	if (w->who[0] || peer_rec_decode(val, n, &r) != WH_OK ||
	    !r.connected || !r.scope[0])
		return 0;
	size_t on = strlen(w->own), sn = strlen(r.scope);
	if (sn < on && wh_path_within(w->own, on, r.scope, sn)) {
		snprintf(w->who, sizeof w->who, "%s", r.name);
		snprintf(w->scope, sizeof w->scope, "%s", r.scope);
	}
	return 0;
}

static int link_still_wide(struct cli *c, struct wide *w)
{
	long pid = 0;
	memset(w, 0, sizeof *w);
	w->own = c->conf.path;
	if (agent_lock_holder(c, &pid) != 1)
		return 0; /* no agent: its records say nothing live */
	return wh_store_state_each(c->store, "peer/", wide_cb, w) == WH_OK &&
	       w->who[0];
}

/* One peer's knowledge applied to the carried cases its path covers. */
struct keeper {
	struct list *l;
	const char *name, *path;
};

static int keeper_cb(void *ctx, const char *code, uint32_t seq,
		     int all_known)
{
	struct keeper *k = ctx;
	if (!all_known || wh_code_is_doc(code))
		return 0;
	struct carried key;
	snprintf(key.ref.code, sizeof key.ref.code, "%s", code);
	key.ref.seq = seq;
	struct carried *e = bsearch(&key, k->l->v, k->l->n, sizeof *k->l->v,
				    carried_cmp);
	if (e && !e->held_by[0] &&
	    wh_path_within(e->path, strlen(e->path), k->path,
			   strlen(k->path)))
		snprintf(e->held_by, sizeof e->held_by, "%s", k->name);
	return 0;
}

/* Mark each carried case some keeper is known to hold. */
static int find_keepers(struct cli *c, struct list *l)
{
	struct records rs = {0};
	int rc = wh_store_state_each(c->store, "carry/", record_cb, &rs);
	for (size_t i = 0; rc == WH_OK && i < rs.n; i++) {
		char name[WH_NET_NAME_MAX + 1], path[WH_PATH_MAX + 1];
		if (!bundle_who(c, rs.r[i].pk, name, path) || !*path)
			continue; /* no longer a peer: its word is not taken */
		struct keeper k = {l, name, path};
		rc = carry_each_case(c->store, "", &rs.r[i].known, keeper_cb,
				     &k);
	}
	free(rs.r);
	return rc;
}

static void print_json(const struct list *l, int dry, int force,
		       const struct wh_store_drop_result *r, size_t unconfirmed)
{
	struct json j;
	json_init(&j, stdout);
	json_obj(&j);
	json_kbool(&j, "dry_run", dry);
	json_kuint(&j, "carried", l->n);
	json_kuint(&j, "pruned", r->cases);
	json_kuint(&j, "ops", r->ops);
	json_kuint(&j, "content", r->blobs);
	json_kuint(&j, "kept_unconfirmed", unconfirmed);
	json_kuint(&j, "kept_reached", r->kept_reached);
	json_kuint(&j, "kept_newer", r->kept_newer);
	json_key(&j, "cases");
	json_arr(&j);
	for (size_t i = 0; i < l->n; i++) {
		const struct carried *e = &l->v[i];
		if (!dry && !e->held_by[0] && !force)
			continue;
		char id[WH_CASE_ID_MAX];
		wh_case_id_format(e->ref.code, e->ref.seq, id);
		json_obj(&j);
		json_kstr(&j, "id", id);
		json_kstr(&j, "path", e->path);
		json_kstr(&j, "held_by", e->held_by[0] ? e->held_by : NULL);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	json_end(&j);
}

int cmd_prune(struct cli *c, int argc, char **argv)
{
	static const struct cli_opt opts[] = {
		{"carried", 0, 0}, {"force", 0, 0}, {"dry-run", 'n', 0},
		{NULL, 0, 0}};
	int carried = 0, force = 0, dry = 0;
	struct cli_args a;
	cli_args_init(&a, argc, argv);
	int t, which;
	const char *v;
	while ((t = cli_args_next(c, &a, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP)
			return cli_help(help);
		if (t == ARG_POS)
			return cli_usage(c, "unexpected argument '%s'", v);
		if (which == 0)
			carried = 1;
		else if (which == 1)
			force = 1;
		else
			dry = 1;
	}
	if (!carried)
		return cli_usage(c, "say what to prune: --carried (the cases "
				    "carried for neighbours in an emergency)");
	int rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_STORE);
	if (rc)
		return rc;
	char street[WH_PATH_MAX + 1];
	if (cli_relay_on(c, street))
		return cli_fail(c, "an emergency over %s is in force: its "
				   "stations still carry each other's cases "
				   "(neighbour relay); prune after it ends",
				street);
	struct wide w;
	if (link_still_wide(c, &w))
		return cli_fail(c, "the agent's link to %s still shares %s "
				   "(neighbour relay narrows a moment after the "
				   "emergency ends); try again shortly",
				w.who, w.scope);
	/* Before anything is looked at: an op arriving later keeps its
	 * case (the store checks). */
	uint64_t pos = 0;
	int src = wh_store_log_last(c->store, &pos);
	struct list l = {.c = c};
	struct wh_case_filter f = {NULL, -1, 0};
	if (src == WH_OK)
		src = wh_store_case_list(c->store, &f, list_cb, &l);
	if (src == WH_OK) {
		if (l.n) /* qsort and bsearch take no NULL, even for 0 */
			qsort(l.v, l.n, sizeof *l.v, carried_cmp);
		src = l.n ? find_keepers(c, &l) : WH_OK;
	}
	if (src != WH_OK) {
		free(l.v);
		return cli_fail(c, "store: %s; nothing was changed",
				wh_strerror(src));
	}
	struct wh_case_ref *go = wh_xcalloc(l.n ? l.n : 1, sizeof *go);
	size_t ngo = 0, unconfirmed = 0;
	for (size_t i = 0; i < l.n; i++)
		if (l.v[i].held_by[0] || force)
			go[ngo++] = l.v[i].ref;
		else
			unconfirmed++;
	struct wh_store_drop_result r = {0};
	if (!dry && ngo)
		src = wh_store_cases_drop(c->store, go, ngo, c->conf.path, pos,
					  &r);
	else if (dry)
		r.cases = ngo;
	free(go);
	if (src != WH_OK) {
		free(l.v);
		return cli_fail(c, "store: %s; nothing was changed",
				wh_strerror(src));
	}
	if (c->json) {
		print_json(&l, dry, force, &r, unconfirmed);
	} else {
		for (size_t i = 0; dry && i < l.n; i++) {
			char id[WH_CASE_ID_MAX];
			wh_case_id_format(l.v[i].ref.code, l.v[i].ref.seq, id);
			if (l.v[i].held_by[0])
				printf("%-16s %s: held by %s, would go\n", id,
				       l.v[i].path, l.v[i].held_by);
			else
				printf("%-16s %s: nobody known to hold it, "
				       "%s\n", id, l.v[i].path,
				       force ? "would go (--force)" : "stays");
		}
		if (!l.n)
			printf("prune: no carried cases here\n");
		else if (dry)
			printf("prune: %zu of %zu carried cases would go "
			       "(dry run: nothing changed)\n",
			       r.cases, l.n);
		else
			printf("prune: dropped %zu carried cases (%zu ops; %zu "
			       "attachments or sealed keys)\n",
			       r.cases, r.ops, r.blobs);
		if (unconfirmed && !dry)
			printf("prune: kept %zu carried case%s that no "
			       "station or hub keeping them is known to hold "
			       "yet (sync with their station or the district "
			       "hub, or --force)\n",
			       unconfirmed, unconfirmed == 1 ? "" : "s");
		if (r.kept_reached + r.kept_newer)
			printf("prune: kept %zu that changed while this ran "
			       "(moved here, or new ops)\n",
			       r.kept_reached + r.kept_newer);
	}
	free(l.v);
	return CLI_OK;
}
