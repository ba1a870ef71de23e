/*
 * roles.c: what a station's role (whistle.conf 'role') lets it do in the
 * whistle-and-report loop, in one table, and how the role is named on
 * the wire.
 *
 * This table shapes what the CLI offers and refuses at the keyboard,
 * with reasons in the station's words. It is not what secures the loop:
 * in a store bound to a district authority (init --authority, roster
 * bind), every op it writes or takes in must pass the signed roster's
 * rule (crdt/roster.h, wh_roster_authorize), whatever whistle.conf says,
 * so a station that edits its own config is refused by the store
 * ("refused by the roster", cli_store_err). In lab mode (no authority)
 * nothing checks roles beyond this table: any signed op folds the same
 * everywhere (flow.h).
 *
 * Invariant: every role that cli_role_valid accepts has a row here.
 */
#include "cli.h"

#include "sync.h"

#include <string.h>

#define B(s) (1u << (s))
#define ALL_BUT_REPORT                                                         \
	(B(CLI_STEP_TRIAGE) | B(CLI_STEP_WHISTLE_ALLEY) |                      \
	 B(CLI_STEP_WHISTLE_COMMUNITY) | B(CLI_STEP_WHISTLE_STREET) |          \
	 B(CLI_STEP_FEEDBACK) | B(CLI_STEP_RATE_RESIDENT) |                    \
	 B(CLI_STEP_RATE_DEPT) | B(CLI_STEP_REOPEN_RESIDENT) |                 \
	 B(CLI_STEP_REOPEN_STREET))

static const struct role {
	const char *name;
	unsigned steps;     /* B(enum cli_step) */
	unsigned whistler;  /* default rank of its whistles */
	int net;            /* enum wh_role it announces to peers */
} roles[] = {
	/* A community station (社区): triages, whistles as alley chief or
	 * community secretary, feeds back, records the resident's rating
	 * and the resident's wish to reopen. */
	{"station",
	 B(CLI_STEP_TRIAGE) | B(CLI_STEP_WHISTLE_ALLEY) |
	     B(CLI_STEP_WHISTLE_COMMUNITY) | B(CLI_STEP_FEEDBACK) |
	     B(CLI_STEP_RATE_RESIDENT) | B(CLI_STEP_REOPEN_RESIDENT),
	 WH_WHISTLER_COMMUNITY, WH_ROLE_STATION},
	/* The street (街道) and the district: everything but a
	 * department's own report (报到 is the department's word). */
	{"street", ALL_BUT_REPORT, WH_WHISTLER_STREET, WH_ROLE_STREET},
	{"district", ALL_BUT_REPORT, WH_WHISTLER_STREET, WH_ROLE_DISTRICT},
	/* A department's station (城管, 住建, ...): reports for itself. Its
	 * sync role is "other" until the roster release gives departments
	 * their own scopes. */
	{"department", B(CLI_STEP_REPORT), WH_WHISTLER_STREET, WH_ROLE_OTHER},
};
#define NROLES (sizeof roles / sizeof roles[0])

static const struct role *find(const char *name)
{
	for (size_t i = 0; i < NROLES; i++)
		if (!strcmp(roles[i].name, name))
			return &roles[i];
	return NULL;
}

int cli_role_valid(const char *role)
{
	return find(role) != NULL;
}

int cli_role_net(const char *role)
{
	const struct role *r = find(role);
	return r ? r->net : -1;
}

unsigned cli_role_whistler(const char *role)
{
	const struct role *r = find(role);
	return r ? r->whistler : WH_WHISTLER_COMMUNITY;
}

/* Why a role may not take a step, in the flow.h style (English, then
 * Chinese). */
static const char *refusal(const struct role *r, enum cli_step s)
{
	if (!strcmp(r->name, "department"))
		return "a department's station only reports for its own "
		       "department (部门只报到)";
	switch (s) {
	case CLI_STEP_REPORT:
		return "only a department's own station reports for it "
		       "(报到须由部门本身)";
	case CLI_STEP_WHISTLE_STREET:
		return "a community station whistles as alley chief or "
		       "community secretary, not as the street (社区不能以街道"
		       "名义吹哨)";
	case CLI_STEP_RATE_DEPT:
		return "the street rates departments, not a community station "
		       "(下评上由街道评价)";
	case CLI_STEP_REOPEN_STREET:
		return "a community station reopens for the resident (--by "
		       "resident), not for the street (社区只能代居民重启)";
	default: return "this station's role may not take this step";
	}
}

int cli_role_may(const struct cli_conf *conf, enum cli_step step,
		 const char *dept, const char **why)
{
	static char msg[256];
	const struct role *r = find(conf->role);
	*why = NULL;
	if (!r || !(r->steps & B(step))) {
		*why = r ? refusal(r, step) : "unknown role";
		return WH_EDENIED;
	}
	if (step == CLI_STEP_REPORT &&
	    (!dept || strcmp(dept, conf->department))) {
		snprintf(msg, sizeof msg,
			 "this station reports for %s only, not for %s "
			 "(只能为本部门报到)",
			 conf->department, dept ? dept : "-");
		*why = msg;
		return WH_EDENIED;
	}
	return WH_OK;
}
