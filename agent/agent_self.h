/*
 * agent_self.h: how `whistle status` knows whether an agent runs on a
 * home, and what that agent actually does (flags override whistle.conf,
 * so the file alone cannot say).
 *
 *   HOME/agent.lock   held by the running agent with an fcntl write lock
 *                     for its whole life (the kernel drops it when the
 *                     process dies, kill -9 included, so a stale file
 *                     means nothing); it also holds the pid as text, for
 *                     people. Only one agent runs per home.
 *   "agent/self"      a store state record the agent writes once it is
 *                     listening, and again after each SIGHUP reload: its
 *                     pid, start time, the listen endpoints it bound, the
 *                     peers it dials, its sync interval and log level.
 *
 * The record alone is not proof of life (a killed agent leaves it
 * behind): status believes it only while the lock is held, and only if
 * its pid is the lock holder's.
 */
#ifndef WH_AGENT_SELF_H
#define WH_AGENT_SELF_H

#include "cli.h"
#include "transport.h"

struct agent_self_dial {
	char name[WH_NET_NAME_MAX + 1];
	uint8_t pk[WH_PK_BYTES];
	char endpoint[WH_NET_ENDPOINT_MAX + 1];
};

/* The "agent/self" record. */
struct agent_self {
	uint64_t pid;
	uint64_t started_ms; /* wall clock */
	uint64_t updated_ms; /* when this record was written */
	uint32_t interval;   /* sync_interval in effect, seconds */
	char log_level[16];
	char listen[CLI_CONF_LIST_MAX][WH_NET_ENDPOINT_MAX + 1];
	size_t nlisten;
	struct agent_self_dial dial[CLI_CONF_LIST_MAX];
	size_t ndial;
};

/* The record's bytes, appended to b; and back (r zeroed first): WH_OK or
 * WH_EDECODE, unknown keys skipped. What put and get use; the fuzz
 * target drives the decoder. */
void agent_self_encode(const struct agent_self *r, struct wh_buf *b);
WH_MUST_CHECK int agent_self_decode(const uint8_t *p, size_t n,
				    struct agent_self *r);

/* Write "agent/self": WH_OK or the store's error. */
WH_MUST_CHECK int agent_self_put(struct wh_store *s,
				 const struct agent_self *r);
/* Read it into *r (zeroed first): WH_OK, WH_ENOTFOUND, WH_EDECODE (not
 * a record; unknown keys are skipped, so newer agents may add some) or
 * the store's error. */
WH_MUST_CHECK int agent_self_get(struct wh_store *s, struct agent_self *r);

/*
 * Take HOME/agent.lock for this process (created if missing). CLI_OK
 * with *fd the open lock (keep it open; agent_lock_release at exit), or
 * CLI_FAIL after a message: another agent holds it (its pid named), or
 * the file cannot be opened.
 */
int agent_lock_take(const struct cli *c, int *fd);
/* Drop the lock and close fd; accepts -1. */
void agent_lock_release(int fd);
/*
 * Whether an agent holds the lock of c->home, without taking it (so a
 * starting agent never finds it busy because status looked): 1 with
 * *pid its pid (0 if the kernel cannot tell, e.g. another pid
 * namespace), 0 if none runs, -1 if the file cannot be read (errno).
 */
int agent_lock_holder(const struct cli *c, long *pid);

#endif
