/*
 * cmd_agent.c: `whistle agent`, the sync daemon, in the foreground.
 *
 * One thread, one loop: wh_net_poll waits on every socket and on the
 * read end of a self-pipe, for at most the time to the next timer (the
 * net's session timers, or the ~200 ms poll of the op log). Signal
 * handlers only write the signal number into the pipe:
 *   SIGTERM, SIGINT  leave the loop after the current message (each one
 *                    is handled, and its store transaction committed,
 *                    before the loop looks at the pipe), record every
 *                    link as disconnected, close sockets and the store,
 *                    wipe the key, exit 0;
 *   SIGHUP           reload whistle.conf and the trust list; if either
 *                    fails to parse, or a peer does not resolve, the old
 *                    configuration stays and the log says why. Links
 *                    whose peer and endpoint did not change keep running.
 *
 * Only one agent runs per home: it holds HOME/agent.lock while it runs,
 * and once it listens it writes the "agent/self" state record (pid, start
 * time, the endpoints it bound, the peers it dials; again after each
 * reload), which `whistle status` shows while the lock is held
 * (agent_self.h). What happens on the links, the "peer/" records, push
 * and relay live in agent_peers.c (agent_int.h has the split).
 */
#include "agent_int.h"
#include "budget.h"
#include "agent_self.h"
#include "log.h"
#include "web.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char help[] =
	"usage: whistle [--home DIR] [--config FILE] agent [--listen ENDPOINT]...\n"
	"                    [--peer PEER]... [--interval SEC] [--log-level LEVEL]\n"
	"                    [--discovery MODE] [--check]\n"
	"\n"
	"Run the sync agent in the foreground: accept trusted peers on the\n"
	"listen endpoints, dial the configured peers, and keep this store in\n"
	"sync with each of them over the scope the two share (the narrower of\n"
	"the two paths). New ops are pushed at once and relayed to other\n"
	"links; every sync_interval seconds the narrower side compares\n"
	"digests again. Only peers in the trust list ('whistle trust') pass\n"
	"the handshake.\n"
	"\n"
	"  --listen ENDPOINT  accept peers on tcp://HOST:PORT (repeatable; any\n"
	"                     --listen replaces every 'listen' of the config)\n"
	"  --peer PEER        dial PEER (repeatable; replaces every 'peer' of\n"
	"                     the config): a trust-list name, an endpoint a\n"
	"                     trusted peer has, or KEYHEX@tcp://HOST:PORT with\n"
	"                     a trusted key\n"
	"  --interval SEC     seconds between digest checks (default 30)\n"
	"  --log-level LEVEL  error, warn, info (default) or debug\n"
	"  --discovery MODE   LAN discovery: off, on, or emergency (only while\n"
	"                     an emergency is active here; the default)\n"
	"  --check            check the configuration and trust list, then exit\n"
	"\n"
	"whistle.conf keys read by the agent (flags override them):\n"
	"  listen = tcp://0.0.0.0:7420      repeatable; a station that only\n"
	"                                   dials out needs none\n"
	"  peer = NAME | tcp://HOST:PORT | KEYHEX@tcp://HOST:PORT\n"
	"                                   repeatable\n"
	"  sync_interval = 30\n"
	"  log_level = info\n"
	"  discovery = emergency            off | on | emergency: find trusted\n"
	"                                   agents on the local subnet by a\n"
	"                                   signed UDP beacon and dial them\n"
	"  discovery_port = 7420            its UDP port\n"
	"\n"
	"The config file is --config FILE, else $WHISTLE_CONFIG, else\n"
	"HOME/whistle.conf (every key: whistle.conf(5), docs/config.md). A\n"
	"bad one stops the agent from starting, naming the file, line and key.\n"
	"\n"
	"Logs one line per event to stderr: 'whistle[PID]: LEVEL: message' on\n"
	"a terminal; '<N>whistle[PID]: LEVEL: message' to a file or pipe, N\n"
	"the syslog level (3 error, 4 warn, 6 info, 7 debug); '<N>message'\n"
	"when stderr is the journal ($JOURNAL_STREAM), which keeps the level.\n"
	"Signals: SIGTERM/SIGINT stop cleanly (exit 0); SIGHUP reloads the\n"
	"config file and the trust list (a bad one is refused, the log says\n"
	"why, and the old one is kept; links whose peer and endpoint did not\n"
	"change keep running; a new sync_interval applies at once).\n"
	"\n"
	"One agent runs per home (it holds HOME/agent.lock); 'whistle status'\n"
	"shows what the running agent listens on and dials.\n";

static int sigfd = -1;

static void on_signal(int sig)
{
	int e = errno;
	unsigned char b = (unsigned char)sig;
	if (sigfd >= 0)
		(void)!write(sigfd, &b, 1);
	errno = e;
}

static void settings_free(struct settings *s)
{
	if (!s)
		return;
	trust_fini(&s->trust);
	free(s);
}

/*
 * Build settings from a config, the trust list in the home and the
 * flags. Returns NULL with why[] (300 bytes) filled in; usage errors
 * (bad flag values) set *usage.
 */
static struct settings *settings_make(struct agent *a,
				      const struct cli_conf *conf, char *why,
				      int *usage)
{
	struct settings *s = wh_xcalloc(1, sizeof *s);
	s->conf = *conf;
	*usage = 0;
	if (trust_load(a->c, &s->trust)) {
		snprintf(why, 300, "the trust list does not parse (see above)");
		goto fail;
	}
	int rrc = agent_roster_trust(a, &s->trust);
	if (rrc != WH_OK) {
		snprintf(why, 300, "cannot read the roster: %s",
			 wh_strerror(rrc));
		goto fail;
	}
	if (a->nflag_listen) {
		memcpy(s->listen, a->flag_listen, sizeof a->flag_listen);
		s->nlisten = a->nflag_listen;
	} else {
		for (unsigned i = 0; i < s->conf.nlisten; i++)
			s->listen[s->nlisten++] = s->conf.listen[i];
	}
	/* The config's listen lines were checked as they were read. */
	for (size_t i = 0; i < s->nlisten; i++)
		if (!trust_endpoint_valid(s->listen[i])) {
			snprintf(why, 300,
				 "listen '%.100s': expected tcp://HOST:PORT",
				 s->listen[i]);
			*usage = a->nflag_listen > 0;
			goto fail;
		}
	const char *const *peers = a->flag_peer;
	size_t npeers = a->nflag_peer;
	const char *cpeers[CLI_CONF_LIST_MAX];
	if (!npeers) {
		for (unsigned i = 0; i < s->conf.npeer; i++)
			cpeers[i] = s->conf.peer[i];
		peers = cpeers;
		npeers = s->conf.npeer;
	}
	for (size_t i = 0; i < npeers; i++) {
		const struct wh_net_peer *p;
		char ep[WH_NET_ENDPOINT_MAX + 1], w[200];
		int rc = trust_resolve(&s->trust, peers[i], &p, ep, w);
		if (rc && !a->nflag_peer) {
			/* from the config: name its line */
			snprintf(why, 300, "%.80s:%u: 'peer' %.190s",
				 a->c->conf_file, s->conf.peer_line[i], w);
			goto fail;
		}
		if (rc) {
			snprintf(why, 300, "peer %s", w);
			*usage = rc == CLI_USAGE && a->nflag_peer > 0;
			goto fail;
		}
		size_t j;
		for (j = 0; j < s->ndial; j++)
			if (!memcmp(s->dial[j].pk, p->pk, WH_PK_BYTES) &&
			    !strcmp(s->dial[j].endpoint, ep))
				break;
		if (j < s->ndial)
			continue; /* named twice: one link */
		memcpy(s->dial[s->ndial].pk, p->pk, WH_PK_BYTES);
		strcpy(s->dial[s->ndial].endpoint, ep);
		s->ndial++;
	}
	for (unsigned i = 0; i < s->conf.nbudget; i++) {
		char name[BUDGET_NAME_MAX + 1], w[240];
		uint64_t bytes;
		if (budget_parse(s->conf.budget[i], name, &bytes, w,
				 sizeof w) != WH_OK) {
			snprintf(why, 300, "budget %s", w);
			goto fail;
		}
		const struct wh_net_peer *p = trust_by_name(&s->trust, name);
		if (!p) {
			snprintf(why, 300, "%.80s:%u: 'budget' no trusted peer "
				 "named '%s'", a->c->conf_file,
				 s->conf.budget_line[i], name);
			goto fail;
		}
		memcpy(s->budget[s->nbudget].pk, p->pk, WH_PK_BYTES);
		s->budget[s->nbudget++].bytes_per_h = bytes;
	}
	s->interval = a->flag_interval ? a->flag_interval
		      : s->conf.sync_interval ? s->conf.sync_interval
					      : 30;
	s->level = a->flag_level >= 0 ? a->flag_level
		   : s->conf.log_level[0] ? log_level_parse(s->conf.log_level)
					  : LOGL_INFO;
	return s;
fail:
	settings_free(s);
	return NULL;
}

/* ---- config ------------------------------------------------------- */

static void describe(const struct settings *s, char *out, size_t cap)
{
	size_t len = 0;
	int w = snprintf(out, cap, "%zu trusted; listening on", s->trust.n);
	len = w > 0 ? (size_t)w : 0;
	for (size_t i = 0; i < s->nlisten && len < cap; i++) {
		w = snprintf(out + len, cap - len, " %s", s->listen[i]);
		len += w > 0 ? (size_t)w : 0;
	}
	if (!s->nlisten && len < cap) {
		w = snprintf(out + len, cap - len, " nothing");
		len += w > 0 ? (size_t)w : 0;
	}
	if (len < cap) {
		w = snprintf(out + len, cap - len, "; dialing");
		len += w > 0 ? (size_t)w : 0;
	}
	for (size_t i = 0; i < s->ndial && len < cap; i++) {
		const struct wh_net_peer *p =
			trust_by_key(&s->trust, s->dial[i].pk);
		w = snprintf(out + len, cap - len, " %s@%s",
			     p ? p->name : "?", s->dial[i].endpoint);
		len += w > 0 ? (size_t)w : 0;
	}
	if (!s->ndial && len < cap)
		snprintf(out + len, cap - len, " nobody");
}

/* The "agent/self" record: what this agent does now (agent_self.h). */
static void self_record(struct agent *a)
{
	const struct settings *s = a->cur;
	struct agent_self *r = wh_xcalloc(1, sizeof *r);
	r->pid = (uint64_t)getpid();
	r->started_ms = a->started_ms;
	r->updated_ms = wh_clock_realtime(NULL);
	r->interval = a->interval;
	snprintf(r->log_level, sizeof r->log_level, "%s",
		 log_level_name((enum log_level)s->level));
	for (size_t i = 0; i < s->nlisten; i++)
		snprintf(r->listen[i], sizeof r->listen[i], "%s",
			 s->listen[i]);
	r->nlisten = s->nlisten;
	for (size_t i = 0; i < s->ndial; i++) {
		const struct wh_net_peer *p =
			trust_by_key(&s->trust, s->dial[i].pk);
		snprintf(r->dial[i].name, sizeof r->dial[i].name, "%s",
			 p ? p->name : "");
		memcpy(r->dial[i].pk, s->dial[i].pk, WH_PK_BYTES);
		snprintf(r->dial[i].endpoint, sizeof r->dial[i].endpoint, "%s",
			 s->dial[i].endpoint);
	}
	r->ndial = s->ndial;
	int rc = agent_self_put(a->c->store, r);
	if (rc != WH_OK)
		log_warn("cannot record this agent's settings for 'whistle "
			 "status': %s",
			 wh_strerror(rc));
	free(r);
}

/* Put settings into effect; the net keeps what did not change. */
static int apply(struct agent *a, struct settings *s)
{
	int rc = wh_net_trust_set(a->net, s->trust.e, s->trust.n);
	size_t failed = 0;
	if (rc == WH_OK) {
		rc = wh_net_listen_set(a->net, s->listen, s->nlisten,
				       &failed);
		if (rc != WH_OK) {
			log_error("cannot listen on %s: %s", s->listen[failed],
				  rc == WH_EIO || rc == WH_EBUSY
					  ? strerror(errno)
					  : wh_strerror(rc));
			return rc;
		}
	}
	if (rc == WH_OK)
		wh_net_budget_set(a->net, s->budget, s->nbudget);
	if (rc == WH_OK)
		rc = agent_dial_set(a, s); /* configured + found on the LAN */
	if (rc != WH_OK)
		log_error("cannot set up the links: %s", wh_strerror(rc));
	return rc;
}

static int swap(struct agent *a, struct settings *s);

static void reload(struct agent *a)
{
	char why[300];
	struct cli_conf *nc = wh_xcalloc(1, sizeof *nc);
	int usage;
	/* The file the agent started with (--config, $WHISTLE_CONFIG or
	 * HOME/whistle.conf), not whatever the environment says now. */
	if (cli_conf_load(a->c, a->c->conf_file, nc)) {
		log_warn("reload: %s does not parse (see above); keeping the "
			 "old configuration",
			 a->c->conf_file);
		free(nc);
		return;
	}
	const struct cli_conf *old = &a->c->conf;
	if (strcmp(nc->path, old->path) || strcmp(nc->role, old->role) ||
	    strcmp(nc->code, old->code))
		log_warn("reload: path, role and code changes take effect at "
			 "the next start");
	struct settings *s = settings_make(a, nc, why, &usage);
	free(nc);
	if (!s) {
		log_warn("reload: %s; keeping the old configuration", why);
		return;
	}
	if (swap(a, s) == WH_OK) {
		char d[600];
		describe(a->cur, d, sizeof d);
		log_info("configuration reloaded: %s", d);
	}
}

int agent_settings_refresh(struct agent *a)
{
	char why[300];
	int usage;
	struct settings *s = settings_make(a, &a->cur->conf, why, &usage);
	if (!s) {
		log_warn("%s; keeping the settings in effect", why);
		return WH_EINVAL;
	}
	return swap(a, s);
}

/* Put s into effect in place of a->cur (taking it), or keep the old. */
static int swap(struct agent *a, struct settings *s)
{
	if (apply(a, s) != WH_OK) {
		/* Partly applied: go back to the old settings. */
		log_warn("reload: keeping the old configuration");
		(void)apply(a, a->cur);
		settings_free(s);
		return WH_EINVAL;
	}
	if (s->interval != a->interval) {
		/* In an emergency the links run at a quarter of it. */
		if (a->em_on)
			log_info("reload: sync_interval now %u s (was %u s; "
				 "%u ms while the emergency lasts)",
				 (unsigned)s->interval, (unsigned)a->interval,
				 wh_sync_urgent_ms(s->interval * 1000u));
		else
			log_info("reload: sync_interval now %u s (was %u s)",
				 (unsigned)s->interval,
				 (unsigned)a->interval);
		a->interval = s->interval;
		wh_net_interval_set(a->net, a->interval * 1000u);
	}
	log_set_level((enum log_level)s->level);
	agent_trust_dropped(a, &a->cur->trust, &s->trust);
	settings_free(a->cur);
	a->cur = s;
	self_record(a);
	return WH_OK;
}

static void drain_signals(struct agent *a)
{
	unsigned char buf[32];
	ssize_t r;
	while ((r = read(a->pipe[0], buf, sizeof buf)) > 0)
		for (ssize_t i = 0; i < r; i++) {
			if (buf[i] == SIGHUP)
				reload(a);
			else
				a->stop = 1;
		}
}

static int signals_setup(struct agent *a)
{
	if (pipe(a->pipe) != 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		fcntl(a->pipe[i], F_SETFL,
		      fcntl(a->pipe[i], F_GETFL) | O_NONBLOCK);
		fcntl(a->pipe[i], F_SETFD, FD_CLOEXEC);
	}
	sigfd = a->pipe[1];
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void signals_restore(struct agent *a)
{
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigfd = -1;
	close(a->pipe[0]);
	close(a->pipe[1]);
}

/* ---- main --------------------------------------------------------- */

static int parse(struct agent *a, int argc, char **argv, int *check)
{
	struct cli *c = a->c;
	static const struct cli_opt opts[] = {
		{"listen", 0, 1}, {"peer", 0, 1}, {"interval", 0, 1},
		{"log-level", 0, 1}, {"check", 'n', 0}, {"discovery", 0, 1},
		{NULL, 0, 0},
	};
	struct cli_args args;
	cli_args_init(&args, argc, argv);
	int t, which;
	const char *v;
	while ((t = cli_args_next(c, &args, opts, &which, &v)) != ARG_END) {
		if (t == ARG_ERR)
			return CLI_USAGE;
		if (t == ARG_HELP)
			return -1;
		if (t == ARG_POS)
			return cli_usage(c, "unexpected argument '%s'", v);
		switch (which) {
		case 0:
		case 1: {
			const char **list = which ? a->flag_peer : a->flag_listen;
			size_t *n = which ? &a->nflag_peer : &a->nflag_listen;
			if (*n >= CLI_CONF_LIST_MAX)
				return cli_usage(c, "at most %d --%s", CLI_CONF_LIST_MAX,
						 opts[which].name);
			if (!which && !trust_endpoint_valid(v))
				return cli_usage(c, "--listen '%s': expected "
						    "tcp://HOST:PORT",
						 v);
			list[(*n)++] = v;
			break;
		}
		case 2:
			if (cli_parse_u32(c, "--interval", v, &a->flag_interval))
				return CLI_USAGE;
			if (a->flag_interval < 1 || a->flag_interval > 86400)
				return cli_usage(c, "--interval %s: 1 to 86400 "
						    "seconds",
						 v);
			break;
		case 3:
			if ((a->flag_level = log_level_parse(v)) < 0)
				return cli_usage(c, "--log-level '%s': error, "
						    "warn, info or debug",
						 v);
			break;
		case 4:
			*check = 1;
			break;
		case 5:
			if ((a->flag_discovery = agent_disc_mode_parse(v)) < 0)
				return cli_usage(c, "--discovery '%s': off, on "
						    "or emergency",
						 v);
			break;
		}
	}
	return CLI_OK;
}

static int run(struct agent *a)
{
	struct cli *c = a->c;
	while (!a->stop) {
		uint64_t now = agent_mono_ms();
		uint64_t due = a->log_due < a->peers_due ? a->log_due
							 : a->peers_due;
		if (a->roster_due < due)
			due = a->roster_due;
		if (a->em_due < due)
			due = a->em_due;
		if (agent_disc_due(a) < due)
			due = agent_disc_due(a);
		int64_t timeout = due > now ? (int64_t)(due - now) : 0;
		if (a->log_dirty)
			timeout = 0;
		int fds[2] = {a->pipe[0], agent_disc_fd(a)}, ready[2] = {0, 0};
		int rc = web_poll(a->web, a->net, fds, 2, timeout, ready);
		if (rc != WH_OK) {
			log_error("poll: %s", strerror(errno));
			return cli_fail(c, "poll failed: %s", strerror(errno));
		}
		if (ready[0])
			drain_signals(a);
		if (a->stop)
			break;
		if (ready[1])
			agent_disc_read(a);
		if (agent_mono_ms() >= agent_disc_due(a))
			agent_disc_tick(a);
		if (a->log_dirty || agent_mono_ms() >= a->log_due)
			agent_push_new(a);
		if (agent_mono_ms() >= a->peers_due)
			agent_peers_flush(a);
		if (agent_mono_ms() >= a->roster_due)
			agent_roster_poll(a);
		if (agent_mono_ms() >= a->em_due)
			agent_em_poll(a);
	}
	return CLI_OK;
}

/* Open the net, put the settings into effect and run until a signal
 * says stop; then record every link as down. d describes the settings. */
static int serve(struct agent *a, const char *d)
{
	struct cli *c = a->c;
	a->started_ms = wh_clock_realtime(NULL);
	/* What the links run at (a reload changes it); status shows it. */
	a->interval = a->cur->interval;
	a->sio.store = c->store;
	agent_former_start(a);
	memcpy(a->hello_base, a->hello_path, sizeof a->hello_base);
	a->sio.on_ingest = agent_on_ingest;
	a->sio.on_roster = agent_on_roster;
	a->sio.ctx = a;
	if (wh_store_roster_gen(c->store, &a->roster_gen) != WH_OK)
		a->roster_gen = 0;
	a->roster_due = agent_mono_ms() + 1000;
	a->roster_recheck = agent_mono_ms() + 60000;
	struct wh_net_opts o = {
		.key = c->key,
		.self = {.key = c->key,
			 .role = (enum wh_role)cli_role_net(c->conf.role),
			 .path = a->hello_path,
			 .digest_interval_ms = a->interval * 1000u},
		.io = syncio_io(&a->sio),
		.on_event = agent_on_event,
		.ctx = a,
	};
	int rc = wh_store_log_last(c->store, &a->log_pos);
	if (rc == WH_OK)
		rc = wh_net_open(&o, &a->net);
	if (rc != WH_OK) {
		rc = cli_fail(c, "cannot start: %s", wh_strerror(rc));
	} else if (apply(a, a->cur) != WH_OK) {
		rc = cli_fail(c, "cannot start (see the log above)");
	} else {
		char hex[2 * WH_PK_BYTES + 1];
		wh_hex(c->key->pk, WH_PK_BYTES, hex);
		log_info("agent started: %s (%s %s), key %.16s...; %s",
			 c->conf.station, c->conf.role, c->conf.path, hex, d);
		self_record(a);
		agent_em_poll(a); /* tasks owed since before we started */
		web_open(a, &a->web);
		a->log_due = agent_mono_ms() + LOG_POLL_MS;
		a->peers_due = agent_mono_ms() + PEER_CHECK_MS;
		c->to_log = 1; /* a reload's complaints are log lines */
		rc = run(a);
		c->to_log = 0;
		/* Anything the last turn ingested goes out before we leave. */
		if (rc == CLI_OK)
			agent_push_new(a);
		agent_peers_stop(a);
		web_close(a->web);
		a->web = NULL;
		log_info("agent stopped");
	}
	wh_net_close(a->net);
	a->net = NULL;
	return rc;
}

int cmd_agent(struct cli *c, int argc, char **argv)
{
	struct agent *a = wh_xcalloc(1, sizeof *a);
	a->c = c;
	a->flag_level = -1;
	a->flag_discovery = -1;
	a->pipe[0] = a->pipe[1] = -1;
	a->lock = -1;
	int check = 0;
	int rc = parse(a, argc, argv, &check);
	if (rc < 0) {
		free(a);
		return cli_help(help);
	}
	if (rc || (rc = cli_open(c, CLI_NEED_CONF | CLI_NEED_KEY |
					    CLI_NEED_STORE))) {
		free(a);
		return rc;
	}
	char why[300];
	int usage;
	a->cur = settings_make(a, &c->conf, why, &usage);
	if (!a->cur) {
		free(a);
		return usage ? cli_usage(c, "%s", why) : cli_fail(c, "%s", why);
	}
	log_set_level((enum log_level)a->cur->level);
	char d[600];
	describe(a->cur, d, sizeof d);
	if (check) {
		printf("configuration OK: %s\n", d);
		rc = CLI_OK;
	} else if ((rc = agent_lock_take(c, &a->lock)) == CLI_OK) {
		if (signals_setup(a) != 0) {
			rc = cli_fail(c, "cannot make the signal pipe: %s",
				      strerror(errno));
		} else {
			rc = serve(a, d);
			signals_restore(a);
		}
		agent_lock_release(a->lock);
	}
	settings_free(a->cur);
	agent_peers_free(a);
	agent_disc_free(a);
	free(a);
	return rc;
}
