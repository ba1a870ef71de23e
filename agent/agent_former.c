/*
 * agent_former.c: a station whose jurisdiction changed (moved to another
 * community, or its community split) must not strand what it wrote
 * under the old path: edits made before the change may not have reached
 * the old scope's hubs yet.
 *
 * The station remembers the path it last ran with ("agent/path", first
 * written by `whistle init`, so a station whose agent never ran is
 * covered too). Started
 * with another path, it keeps the old one as a former path
 * ("agent/former", one path per line) and says HELLO with the narrowest
 * path holding both, so links share the old scope too. A former path is
 * settled once a reconciliation ends in sync over a shared scope that
 * holds it; from the next start the agent speaks for its own path only.
 * The roster side: a moved member may claim the paths of its grants of
 * the last FORMER_DAYS (agent_roster.c). docs/security.md says what
 * this widens and for how long.
 */
#include "agent_int.h"

#include "log.h"

#include <string.h>

#define PATH_REC "agent/path"
#define FORMER_REC "agent/former"

/* The longest common prefix of a and b on '/' boundaries ("" if none). */
void agent_path_lca(const char *a, const char *b, char out[WH_PATH_MAX + 1])
{
	size_t n = 0, last = 0;
	while (a[n] && a[n] == b[n]) {
		n++;
		if (a[n] == '/' || a[n] == 0)
			if (b[n] == '/' || b[n] == 0)
				last = n;
	}
	memcpy(out, a, last);
	out[last] = 0;
}

static void former_save(struct agent *a)
{
	struct wh_buf b = {0};
	for (size_t i = 0; i < a->nformer; i++) {
		wh_buf_append(&b, a->former[i], strlen(a->former[i]));
		wh_buf_append(&b, "\n", 1);
	}
	int rc = wh_store_state_put(a->c->store, FORMER_REC,
				    b.p ? b.p : (const uint8_t *)"", b.len);
	if (rc != WH_OK)
		log_warn("cannot record former jurisdictions: %s",
			 wh_strerror(rc));
	wh_buf_fini(&b);
}

static void former_load(struct agent *a)
{
	struct wh_buf b = {0};
	a->nformer = 0;
	if (wh_store_state_get(a->c->store, FORMER_REC, &b) == WH_OK) {
		size_t at = 0;
		while (at < b.len && a->nformer < FORMER_MAX) {
			size_t e = at;
			while (e < b.len && b.p[e] != '\n')
				e++;
			if (e > at && e - at <= WH_PATH_MAX &&
			    wh_path_valid((const char *)b.p + at, e - at)) {
				memcpy(a->former[a->nformer], b.p + at, e - at);
				a->former[a->nformer++][e - at] = 0;
			}
			at = e + 1;
		}
	}
	wh_buf_fini(&b);
}

int agent_path_record(struct wh_store *s, const char *path)
{
	return wh_store_state_put(s, PATH_REC, (const uint8_t *)path,
				  strlen(path));
}

void agent_former_start(struct agent *a)
{
	const char *cur = a->c->conf.path;
	former_load(a);
	struct wh_buf b = {0};
	if (wh_store_state_get(a->c->store, PATH_REC, &b) == WH_OK &&
	    b.len && b.len <= WH_PATH_MAX &&
	    wh_path_valid((const char *)b.p, b.len) &&
	    (b.len != strlen(cur) || memcmp(b.p, cur, b.len))) {
		char old[WH_PATH_MAX + 1];
		memcpy(old, b.p, b.len);
		old[b.len] = 0;
		size_t i;
		for (i = 0; i < a->nformer && strcmp(a->former[i], old); i++)
			;
		if (i == a->nformer && a->nformer < FORMER_MAX) {
			strcpy(a->former[a->nformer++], old);
			log_warn("jurisdiction changed from %s to %s: what was "
				 "written under %s is still offered to its "
				 "hubs until a sync settles it",
				 old, cur, old);
		}
	}
	wh_buf_fini(&b);
	/* A former path inside the current one needs nothing. */
	size_t k = 0;
	for (size_t i = 0; i < a->nformer; i++)
		if (!wh_path_within(a->former[i], strlen(a->former[i]), cur,
				    strlen(cur)))
			memmove(a->former[k++], a->former[i],
				sizeof a->former[i]);
	a->nformer = k;
	former_save(a);
	if (agent_path_record(a->c->store, cur) != WH_OK)
		log_warn("cannot record this agent's path");
	strcpy(a->hello_path, cur);
	for (size_t i = 0; i < a->nformer; i++) {
		char l[WH_PATH_MAX + 1];
		agent_path_lca(a->hello_path, a->former[i], l);
		if (!l[0]) {
			log_warn("former jurisdiction %s shares no district "
				 "with %s: it settles only over a link that "
				 "holds it (an old hub listed as a peer)",
				 a->former[i], cur);
			continue;
		}
		strcpy(a->hello_path, l);
	}
	if (strcmp(a->hello_path, cur))
		log_info("speaking for %s until former jurisdictions settle",
			 a->hello_path);
}

void agent_former_round(struct agent *a, const struct wh_sync_state *st)
{
	if (!st->in_sync || !st->scope[0] || !a->nformer)
		return;
	size_t k = 0, settled = 0;
	for (size_t i = 0; i < a->nformer; i++) {
		if (wh_path_within(a->former[i], strlen(a->former[i]),
				   st->scope, strlen(st->scope))) {
			log_info("former jurisdiction %s settled: in sync "
				 "over %s",
				 a->former[i], st->scope);
			settled++;
			continue;
		}
		memmove(a->former[k++], a->former[i], sizeof a->former[i]);
	}
	a->nformer = k;
	if (settled)
		former_save(a);
}
