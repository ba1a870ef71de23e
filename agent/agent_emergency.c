/*
 * agent_emergency.c: the agent's part in emergencies: a community
 * station makes the plan tasks an emergency over it sets, as soon as the
 * emergency (or its plan) is stored here, however it arrived, and when
 * one that was declared ahead of time starts.
 *
 * The store's emergency counter (wh_store_emergency_gen) says when to
 * look; activation itself (cli_em_activate) makes each task once per
 * station, so looking again, after a restart or a re-sync, makes
 * nothing twice. The task cases land in the op log and the next push
 * carries them to the hub like any new case.
 */
#include "agent_int.h"
#include "cli_emergency.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

#define EM_POLL_MS 1000u
#define EM_RECHECK_MS 60000u

struct said {
	size_t made;
};

static void said(void *ctx, const struct cli_task *t)
{
	struct said *s = ctx;
	if (!t->created)
		return;
	char em[WH_CASE_ID_MAX];
	wh_doc_id_format(t->em->code, t->em->seq, em);
	log_info("emergency %s: plan task '%s' is case %s: %s", em,
		 t->task->key, t->case_id, t->task->title);
	s->made++;
}

void agent_em_poll(struct agent *a)
{
	uint64_t now = agent_mono_ms();
	a->em_due = now + EM_POLL_MS;
	(void)agent_emergency_active(a); /* logs when it changes */
	agent_relay_poll(a);
	uint64_t gen = 0;
	if (wh_store_emergency_gen(a->c->store, &gen) != WH_OK)
		return;
	if (a->em_started && gen == a->em_gen && now < a->em_recheck)
		return;
	a->em_started = 1;
	a->em_gen = gen;
	a->em_recheck = now + EM_RECHECK_MS;
	struct said s = {0};
	size_t held = 0;
	int rc = cli_em_activate(a->c, cli_now(a->c), said, &s, NULL, &held);
	if (rc != WH_OK) {
		log_warn("cannot make the plan tasks of an emergency: %s",
			 wh_strerror(rc));
		return;
	}
	if (s.made)
		a->log_dirty = 1; /* push them now */
}

/* How often the answer is asked again while the counter stands still:
 * a declared start or end comes by the clock alone. The question is a
 * walk over a handful of small records, so seconds are cheap enough. */
#define EM_ON_RECHECK_MS 5000u

int agent_emergency_active(struct agent *a)
{
	uint64_t now = agent_mono_ms();
	uint64_t gen = 0;
	if (wh_store_emergency_gen(a->c->store, &gen) != WH_OK)
		return a->em_on; /* keep the last answer */
	if (a->em_on_known && gen == a->em_on_gen && now < a->em_on_until)
		return a->em_on;
	size_t n = 0;
	int rc = wh_store_emergency_active(a->c->store, a->cur->conf.path,
					   cli_now(a->c), WH_EM_COVERS, NULL,
					   NULL, &n);
	if (rc != WH_OK) {
		log_warn("cannot tell whether an emergency is in force: %s",
			 wh_strerror(rc));
		return a->em_on;
	}
	int on = n > 0;
	if (on != a->em_on || !a->em_on_known) {
		uint32_t ms = a->interval * 1000u;
		if (on)
			log_info("emergency in force over %s: urgent first, "
				 "interval %u ms",
				 a->cur->conf.path, wh_sync_urgent_ms(ms));
		else if (a->em_on_known)
			log_info("emergency over at %s: usual order, interval "
				 "%u s", a->cur->conf.path, a->interval);
	}
	a->em_on = on;
	a->em_on_gen = gen;
	a->em_on_until = now + EM_ON_RECHECK_MS;
	a->em_on_known = 1;
	return on;
}

void agent_relay_poll(struct agent *a)
{
	if (!a->net || strcmp(a->cur->conf.role, "station"))
		return;
	char want[WH_PATH_MAX + 1];
	memcpy(want, a->hello_base, sizeof want);
	const char *p = a->cur->conf.path;
	const char *slash = strrchr(p, '/');
	if (slash && wh_path_within(a->hello_base, strlen(a->hello_base), p,
				    (size_t)(slash - p))) {
		char street[WH_PATH_MAX + 1];
		snprintf(street, sizeof street, "%.*s", (int)(slash - p), p);
		int ok = 0;
		if (wh_store_relay_claim(a->c->store, p, street,
					 cli_now(a->c), &ok) == WH_OK &&
		    ok)
			memcpy(want, street, sizeof want);
	}
	if (!strcmp(want, a->hello_path))
		return;
	int rc = wh_net_path_set(a->net, want);
	if (rc != WH_OK) {
		log_warn("cannot claim %s: %s", want, wh_strerror(rc));
		return;
	}
	log_info("%s: links now share %s%s", strcmp(want, a->hello_base)
		 ? "neighbour relay on" : "neighbour relay off", want,
		 strcmp(want, a->hello_base) ? " (the street, for the emergency)"
					      : "");
	memcpy(a->hello_path, want, sizeof a->hello_path);
}
