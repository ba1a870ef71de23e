/*
 * scope.c: roles and shared scopes, the rules that decide what two agents
 * have in common. Pure string logic; the session and the agent both use
 * it so they cannot disagree.
 */
#include "sync.h"

#include <string.h>

static const char *const role_names[] = {"station", "street", "district",
					 "other"};

const char *wh_role_name(enum wh_role r)
{
	return (unsigned)r <= WH_ROLE_OTHER ? role_names[r] : "unknown";
}

int wh_role_parse(const char *s)
{
	for (int i = 0; i <= WH_ROLE_OTHER; i++)
		if (!strcmp(s, role_names[i]))
			return i;
	return -1;
}

void wh_sync_shared_scope(const char *a, const char *b, char *out)
{
	size_t an = strlen(a), bn = strlen(b);
	out[0] = '\0';
	if (an > WH_PATH_MAX || bn > WH_PATH_MAX)
		return;
	/* The narrower scope is the one inside the other. */
	if (wh_path_within(a, an, b, bn))
		memcpy(out, a, an + 1);
	else if (wh_path_within(b, bn, a, an))
		memcpy(out, b, bn + 1);
}
