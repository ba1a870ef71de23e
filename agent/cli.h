/*
 * cli.h: what the `whistle` command files share: the run context, the
 * command table type, the option parser, the home (config, key, store)
 * and the text helpers.
 *
 * Conventions every command follows:
 *   - exit codes: CLI_OK 0, CLI_FAIL 1 (runtime failure: missing home,
 *     not found, I/O, refused import), CLI_USAGE 2 (bad arguments);
 *   - all arguments are checked before the store is opened for writing,
 *     so a usage error never leaves anything behind;
 *   - messages go to stderr as "whistle: <what>: <why>"; with --json,
 *     stdout carries one JSON value and nothing else.
 *
 * agent/ is the only module that prints or exits. Its internal names carry
 * a short prefix (cli_, json_, pinyin_) rather than wh_agent_: nothing
 * links against the binary, and the short names keep command code legible.
 */
#ifndef WH_CLI_H
#define WH_CLI_H

#include "store.h"

#include <stdio.h>

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2

#ifndef WH_VERSION
#define WH_VERSION "0.0.0"
#endif

#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))

#define CLI_CONF_LIST_MAX 16  /* listen / peer lines */
#define CLI_CONF_VALUE_MAX 320 /* KEYHEX@tcp://HOST:PORT fits */

/* whistle.conf, parsed. Every field is NUL-terminated UTF-8. */
struct cli_conf {
	char station[WH_PART_MAX + 1];
	char code[WH_CODE_MAX + 1];
	char path[WH_PATH_MAX + 1];
	char name[256];
	char role[32]; /* station | street | district | department
			* (cli_role_valid, checked on load) */
	/* The department a role-department station speaks for (城管);
	 * "" for every other role (checked on load). */
	char department[WH_DEPT_MAX + 1];
	/* The agent's keys (see cmd_agent.c); checked by the agent, which
	 * can say which line of its own config is wrong. */
	char listen[CLI_CONF_LIST_MAX][CLI_CONF_VALUE_MAX];
	unsigned nlisten;
	char peer[CLI_CONF_LIST_MAX][CLI_CONF_VALUE_MAX];
	unsigned npeer;
	/* budget = NAME SIZE/h (agent/budget.h), checked by the agent */
	char budget[CLI_CONF_LIST_MAX][CLI_CONF_VALUE_MAX];
	unsigned nbudget;
	uint32_t sync_interval; /* seconds; 0: not set (default 30) */
	char log_level[16];     /* "" : not set (default info) */
	/* LAN discovery (agent_disc.c): off, on or emergency ("" : not
	 * set, emergency); its UDP port (0: not set, 7420). */
	char discovery[16];
	uint32_t discovery_port;
	/* The web console (web.h): web_port 0 turns it off; -1: not set
	 * (default WEB_PORT_DEFAULT); web_bind "": not set (127.0.0.1). */
	int32_t web_port;
	char web_bind[64];
	/* The district authority's public key in hex (init --authority,
	 * roster bind); "" in lab mode. Checked on load: a valid key, at
	 * most one line. The store's binding is what enforces; this line
	 * tells people and the agent which authority the home expects. */
	char authority[2 * WH_PK_BYTES + 1];
	/* The station home, for a config file kept outside it (the
	 * packaged /etc/whistle/whistle.conf); "" if not set. An absolute
	 * path (checked on load). */
	char home[1024];
	/* Where each listen / peer / department line was, for messages
	 * about values only the agent can judge (a peer resolves against
	 * the trust list). */
	unsigned listen_line[CLI_CONF_LIST_MAX];
	unsigned peer_line[CLI_CONF_LIST_MAX];
	unsigned budget_line[CLI_CONF_LIST_MAX];
	unsigned department_line;
};

struct cli_em; /* cli_emergency.h */
/* Where cli_fail and cli_usage put their message instead of stderr
 * when a caller that is not a terminal (the web console) runs shared
 * command code: the last message, and the exit code it went with. */
struct cli_sink {
	char msg[512];
	int code;
};

struct cli {
	const char *home; /* --home; else $WHISTLE_HOME at cli_open time;
			   * else the config file's 'home' */
	/* --config FILE; else $WHISTLE_CONFIG at cli_open time; NULL:
	 * HOME/whistle.conf (cli_conf_locate) */
	const char *config;
	char conf_file[4096]; /* the config file in use, once located */
	char home_buf[1024];  /* c->home when it came from the config */
	int json;
	const char *cmd;  /* "case new": the prefix of our messages */
	struct cli_conf conf;
	struct wh_key *key;      /* loaded by cli_open(CLI_NEED_KEY) */
	struct wh_store *store;  /* opened by cli_open(CLI_NEED_STORE) */
	uint64_t now_ms; /* $WHISTLE_NOW_MS (tests); 0: the wall clock */
	/* The emergencies held, read once per command on first need
	 * (deadlines ask for them); freed by cli_close. */
	struct cli_em *em;
	/* Set while the agent runs: cli_fail / cli_usage messages become
	 * error lines of its log (log.h), framed like every other line. */
	int to_log;
	struct cli_sink *sink; /* NULL: messages go to stderr */
};

/* One row of a command table. fn gets the arguments after its name and
 * returns the exit code. */
struct cli_cmd {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
	const char *help;
};

/* Run the command named by argv[0] from a NULL-terminated table, or
 * print the table as a usage error. 'group' is "" or "case ". */
int cli_dispatch(struct cli *c, const struct cli_cmd *tab, const char *group,
		 int argc, char **argv);
void cli_table_print(FILE *f, const struct cli_cmd *tab, const char *group);
/* A command group: --help / -h prints help and the table; anything else
 * goes to cli_dispatch. */
int cli_group(struct cli *c, const struct cli_cmd *tab, const char *group,
	      const char *help, int argc, char **argv);

/* The command groups (one file each). */
int cmd_init(struct cli *c, int argc, char **argv);
int cmd_key(struct cli *c, int argc, char **argv);
int cmd_case(struct cli *c, int argc, char **argv);
int cmd_digest(struct cli *c, int argc, char **argv);
int cmd_export(struct cli *c, int argc, char **argv);
int cmd_import(struct cli *c, int argc, char **argv);
int cmd_bundle(struct cli *c, int argc, char **argv); /* cmd_bundle.c */
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_version(struct cli *c, int argc, char **argv);
int cmd_trust(struct cli *c, int argc, char **argv);
int cmd_agent(struct cli *c, int argc, char **argv);
int cmd_sync(struct cli *c, int argc, char **argv);
int cmd_stats(struct cli *c, int argc, char **argv); /* cmd_stats.c */
int cmd_rebuild(struct cli *c, int argc, char **argv); /* cmd_rebuild.c */
int cmd_prune(struct cli *c, int argc, char **argv);   /* cmd_prune.c */
int cmd_user(struct cli *c, int argc, char **argv);  /* cmd_user.c */
/* The district's roster: the administrator's tool (cmd_authority.c)
 * and what a station holds of it (cmd_roster.c). */
int cmd_authority(struct cli *c, int argc, char **argv);
int cmd_roster(struct cli *c, int argc, char **argv);
/* case subcommands that read (cmd_case_view.c) */
int cmd_case_list(struct cli *c, int argc, char **argv);
int cmd_case_show(struct cli *c, int argc, char **argv);
int cmd_case_attach(struct cli *c, int argc, char **argv);
int cmd_case_file(struct cli *c, int argc, char **argv);
/* the whistle-and-report loop (cmd_case_loop.c) */
int cmd_case_triage(struct cli *c, int argc, char **argv);
int cmd_case_whistle(struct cli *c, int argc, char **argv);
int cmd_case_supervise(struct cli *c, int argc, char **argv);
int cmd_case_report(struct cli *c, int argc, char **argv);
int cmd_case_feedback(struct cli *c, int argc, char **argv);
int cmd_case_rate(struct cli *c, int argc, char **argv);
int cmd_case_reopen(struct cli *c, int argc, char **argv);
/* sealed personal data: erase it, share its key (cmd_case_seal.c) */
int cmd_case_erase(struct cli *c, int argc, char **argv);
int cmd_case_reseal(struct cli *c, int argc, char **argv);
/* bulk intake from CSV or JSON Lines (cmd_case_import.c) */
int cmd_case_import(struct cli *c, int argc, char **argv);

struct json;
struct cli_pd;
/* The JSON object of a case (docs: the case object). pd: its personal
 * data as this station opened it (cli_seal.h); NULL (lists): not
 * opened, the view alone says what there is. */
void cli_case_json(const struct cli *c, struct json *j,
		   const struct wh_case *v, const struct cli_pd *pd);
/* Read a case's view; "no case ID" (CLI_FAIL) if none of its ops is
 * held. out is initialised on success only. */
int cli_case_load(const struct cli *c, const char *code, uint32_t seq,
		  struct wh_case *out);
/* Whether v was carried here by neighbour relay: this home is a
 * community station and v never lay within its path (a case transferred
 * out did, and is not carried). Always 0 for hubs and departments. */
int cli_case_carried(const struct cli *c, const struct wh_case *v);
/* Whether neighbour relay is on here now: an emergency covering this
 * station's street is in force (store.h, wh_store_relay_claim). street
 * (may be NULL) gets the street's path. */
int cli_relay_on(const struct cli *c, char street[WH_PATH_MAX + 1]);
/* The "history" member (key and array) of a case object: every op in
 * fold order, as `case show --history --json` has it (cmd_case_show.c).
 * WH_OK or a store error (the array is closed either way). */
int cli_case_history_json(const struct cli *c, struct json *j,
			  const char *code, uint32_t seq);
/* The "peers" member of `status --json` (cmd_status.c): what the
 * running agent last recorded per peer. WH_OK or a store error. */
int cli_peers_json(const struct cli *c, struct json *j);
/* After a change (cmd_case.c): the case object (--json) or
 * "ID: text" on one line. */
int cli_case_report(struct cli *c, const char *code, uint32_t seq,
		    const char *text);

/* ---- the loop, shown (cmd_case_flow.c) ---- */

/* "now" for overdue questions: c->now_ms if set, else the wall clock. */
uint64_t cli_now(const struct cli *c);
/* A duration in ms as "2小时15分" (zh) or "2h15m": the two largest
 * units (天 d, 小时 h, 分 m), rounded down, a zero second one left out;
 * "0分" / "0m" under a minute. */
void cli_duration_zh(uint64_t ms, char out[32]);
void cli_duration_en(uint64_t ms, char out[32]);
/* The "loop" member of the case object (key and value). */
void cli_flow_json(const struct cli *c, struct json *j,
		   const struct wh_case *v);
/* The loop part of `case show`, text. */
void cli_flow_text(const struct cli *c, const struct wh_case *v);
/* One-line summary of a loop op for --history; 0 if op is not one. */
int cli_flow_history(const struct wh_op *op);
/* `case list --overdue` (cmd_case_view.c parses; this lists). */
int cli_overdue_list(struct cli *c, const char *scope, uint32_t limit);

/* ---- roles (roles.c) ---- */

/* Loop steps a station's role may or may not take. */
enum cli_step {
	CLI_STEP_TRIAGE,
	CLI_STEP_WHISTLE_ALLEY, /* as 街巷长, 社区书记, 街道书记 */
	CLI_STEP_WHISTLE_COMMUNITY,
	CLI_STEP_WHISTLE_STREET,
	CLI_STEP_REPORT, /* for a department: its own only */
	CLI_STEP_FEEDBACK,
	CLI_STEP_RATE_RESIDENT, /* 民评官, recorded for the resident */
	CLI_STEP_RATE_DEPT,     /* 下评上 */
	CLI_STEP_REOPEN_RESIDENT,
	CLI_STEP_REOPEN_STREET
};
/* Whether role is one whistle.conf may name. */
int cli_role_valid(const char *role);
/* The enum wh_role a role announces to sync peers, -1 if unknown. */
int cli_role_net(const char *role);
/* The whistler rank (enum wh_whistler) a role whistles as by default. */
unsigned cli_role_whistler(const char *role);
/* WH_OK, or WH_EDENIED with why set (static text) when this station's
 * role may not take step; dept is the department a report speaks for. */
int cli_role_may(const struct cli_conf *conf, enum cli_step step,
		 const char *dept, const char **why);

/* ---- messages (main.c) ---- */

/* "whistle: <cmd>: <fmt>" on stderr; return CLI_FAIL / CLI_USAGE. */
int cli_fail(const struct cli *c, const char *fmt, ...) CLI_PRINTF(2, 3);
int cli_usage(const struct cli *c, const char *fmt, ...) CLI_PRINTF(2, 3);
/* Print a command's help text to stdout; returns CLI_OK. */
int cli_help(const char *text);

/* ---- options (args.c) ---- */

struct cli_opt {
	const char *name; /* long name without "--" */
	char shortname;   /* 0: none */
	int has_arg;
};

struct cli_args {
	int argc;
	char **argv;
	int i;
	int only_pos; /* after "--" */
};

enum { ARG_END = 0, ARG_OPT, ARG_POS, ARG_HELP, ARG_ERR };

void cli_args_init(struct cli_args *a, int argc, char **argv);
/*
 * Next item: ARG_OPT (*which indexes opts, *val its value or NULL),
 * ARG_POS (*val the word), ARG_HELP (--help or -h), ARG_END, or ARG_ERR
 * after printing a usage message. Accepts "--opt value", "--opt=value",
 * "-o value". The global options --home, --config and --json are taken
 * anywhere and applied to c. opts ends with a NULL name.
 */
int cli_args_next(struct cli *c, struct cli_args *a,
		  const struct cli_opt *opts, int *which, const char **val);

/* Strict number parsing for option values; usage message on failure. */
int cli_parse_u32(const struct cli *c, const char *opt, const char *s,
		  uint32_t *out);
int cli_parse_degrees(const struct cli *c, const char *opt, const char *s,
		      double limit, int64_t *e7);
/* The same without a message, for callers that report elsewhere (case
 * import names the file and line): WH_OK, WH_EDECODE (not a plain
 * decimal number) or WH_ETOOBIG (beyond +-limit). */
WH_MUST_CHECK int cli_degrees(const char *s, double limit, int64_t *e7);

/* A time option (--from, --until, --at): "now" (cli_now, so
 * $WHISTLE_NOW_MS in tests) or a form of timeparse.h; usage message on
 * failure. */
int cli_parse_time(const struct cli *c, const char *opt, const char *s,
		   uint64_t *out);

/* Parse a case id argument; usage message on failure. */
int cli_parse_case_id(const struct cli *c, const char *s,
		      char code[WH_CODE_MAX + 1], uint32_t *seq);

/* ---- the home (home.c) ---- */

#define CLI_NEED_CONF 1u
#define CLI_NEED_KEY 2u
#define CLI_NEED_STORE 4u

/* Resolve the home and load what 'need' asks for. Prints the reason and
 * returns CLI_USAGE (no home given at all) or CLI_FAIL. */
int cli_open(struct cli *c, unsigned need);
/* Close the store and wipe the key; safe to call twice. */
void cli_close(struct cli *c);

/*
 * Which config file and which home (docs/config.md):
 *   the file: --config FILE, else $WHISTLE_CONFIG, else HOME/whistle.conf;
 *   the home: --home DIR, else $WHISTLE_HOME, else the 'home' key of a
 *   file named by --config or $WHISTLE_CONFIG.
 * cli_config_given says whether a file was named (flag or environment)
 * and sets c->config to it. cli_conf_locate resolves both, reading a
 * named file for its 'home' if it must, and fills c->conf_file: CLI_OK,
 * CLI_USAGE (no home from anywhere) or CLI_FAIL (the file is bad).
 */
int cli_config_given(struct cli *c);
/* The config file named by --config or $WHISTLE_CONFIG, or NULL. */
const char *cli_config_named(const struct cli *c);
int cli_conf_locate(struct cli *c);

/* Parse whistle.conf at 'file' into *conf (the agent's SIGHUP reload);
 * messages name the file and line. CLI_OK or CLI_FAIL. */
int cli_conf_load(const struct cli *c, const char *file,
		  struct cli_conf *conf);
/* The same from a stream the caller opened and closes ('file' names it
 * in messages): the parser alone, which the fuzz target drives. */
int cli_conf_read(const struct cli *c, const char *file, FILE *f,
		  struct cli_conf *conf);
/* The lines alone, each key and value checked, without asking for a
 * station (code, path, station): a config file written before 'whistle
 * init' (the packaged one) reads this way. */
int cli_conf_read_partial(const struct cli *c, const char *file, FILE *f,
			  struct cli_conf *conf);

/* Resolve c->home (cli_conf_locate's rule); CLI_USAGE if none. */
int cli_home_resolve(struct cli *c);
/* Write the config file (c->conf_file) whole, atomically (tmp + fsync
 * + rename in its directory). */
int cli_conf_write(const struct cli *c, const struct cli_conf *conf);
/* Append lines (text, '\n'-terminated) to the config file, keeping every
 * line already there as it was (copy, fsync, rename). */
int cli_conf_append(const struct cli *c, const char *text);
/* Write key.secret (O_EXCL, 0600, fsync) and key.public. */
int cli_key_write(const struct cli *c, const char *home,
		  const struct wh_key *key);
/* The same under other names in dir (the authority's authority.key and
 * authority.pub): the secret never overwrites a file. */
int cli_key_write_as(const struct cli *c, const char *dir,
		     const char *secret, const char *pub,
		     const struct wh_key *key);
/* Load a secret key file with a station key's checks (regular file of
 * 64 bytes, not readable by group or others); *out is sodium memory,
 * release with wh_key_free. CLI_OK or CLI_FAIL (message printed). */
int cli_key_load(const struct cli *c, const char *file, struct wh_key **out);
/* Append the station's lines (station, code, path, name, role, and
 * department and authority if set) to an existing config file: what
 * init does to a config written before it (the packaged one). */
int cli_conf_add_identity(const struct cli *c, const struct cli_conf *conf);
/* Append "authority = HEX" to the config file (cli_conf_append). */
int cli_conf_add_authority(const struct cli *c, const char *hex);
/* fsync a directory so a create or rename inside it is durable. */
/* Finish writing tmp (opened as f on fd) and put it in place as file:
 * flush, fsync, close, rename, fsync dir. On failure tmp is removed and
 * the error reported (CLI_FAIL-style return). */
int cli_file_commit(const struct cli *c, FILE *f, int fd, const char *tmp,
		    const char *file, const char *dir);
int cli_fsync_dir(const char *dir);
/* "home/name" into out (PATH_MAX bytes); CLI_FAIL if too long. */
int cli_join(const struct cli *c, char *out, size_t outn, const char *home,
	     const char *name);

/* Whether rc is the roster's refusal of an op (WH_ENOMEMBER ..
 * WH_ESUMMON): importing or typing it again will not help. */
int cli_roster_refusal(int rc);

/* Map a store error to an exit code and message: build errors are our
 * argument checks failing late (usage), the rest runtime failures; a
 * roster refusal says "refused by the roster: <rule> (<what it means
 * for this station>)". */
int cli_store_err(const struct cli *c, const char *what, int rc);

/* Record path as the one this station last ran with (agent_former.c:
 * a later start under another path keeps this one as a former
 * jurisdiction until a sync settles it). */
WH_MUST_CHECK int agent_path_record(struct wh_store *s, const char *path);

/*
 * Check drafts with a throwaway key before the real store is touched, so
 * an over-long or malformed value is a usage error and nothing is written.
 * Returns WH_OK or the first build error.
 */
int cli_probe_drafts(const struct wh_op_draft *d, size_t n);
/* The same with a key the caller keeps: a key costs a guarded
 * sodium_malloc (mmap, mprotect, munmap), too dear per row of a bulk
 * import. */
int cli_probe_drafts_with(const struct wh_key *key,
			  const struct wh_op_draft *d, size_t n);

/* ---- text (fmt.c) ---- */

#define CLI_TIME_MAX 40

/* Local time with ms, "2026-11-23 16:00:00.123". */
void cli_time_local(uint64_t ms, char out[CLI_TIME_MAX]);
/* ISO-8601 UTC with ms, "2026-11-23T08:00:00.123Z". */
void cli_time_iso(uint64_t ms, char out[CLI_TIME_MAX]);
/* "39.9390000" from 1e-7 degrees, exactly (no floating point). */
void cli_e7_format(int64_t v, char out[24]);
/* Terminal columns of UTF-8 text: CJK and full-width count 2. */
size_t cli_text_width(const char *s);
/* Print s in exactly 'width' columns: truncated at a character boundary
 * with "…" if wider, padded with spaces otherwise (unless last). */
void cli_print_cell(FILE *f, const char *s, size_t width, int last);
/* Who wrote an op: "本站" for our key, else the first 8 hex digits. */
void cli_author(const struct cli *c, const uint8_t pk[WH_PK_BYTES],
		char out[16]);

/* ---- pinyin.c ---- */

/* Default station code from a path ("xicheng/xinjiekou/zhaodengyu" ->
 * "XJK-ZDY"). WH_OK, or WH_EID if no valid code comes out. */
int pinyin_code(const char *path, char out[WH_CODE_MAX + 1]);

#endif
