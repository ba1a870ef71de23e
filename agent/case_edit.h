/*
 * case_edit.h: taking in and changing a case, as `case new`, `case
 * set` and `case note` do it (cmd_case.c) and the web console does it
 * (web_api.c): the field values checked one by one with the format's
 * own limits, personal data sealed, and everything authored in one
 * store call, so a change lands completely or not at all.
 *
 * Nothing here prints: refusals go through cli_fail / cli_usage, which
 * the command line prints and the web console catches in c->sink
 * (cli.h). Returns are exit codes (CLI_OK, CLI_USAGE for a bad value,
 * CLI_FAIL for what the case or the store refuses). Values are
 * borrowed and must outlive the edit.
 */
#ifndef WH_CASE_EDIT_H
#define WH_CASE_EDIT_H

#include "cli.h"

/* Which command a field is for (cw_edit_opt). */
#define CW_IN_NEW 1u
#define CW_IN_SET 2u

/* What a new case or a change gives. */
struct cw_edit {
	const char *str[WH_F_KEY_MAX + 1]; /* string fields by key */
	int source, priority, status;	   /* -1: not given */
	const char *lat, *lon;		   /* as typed, for messages */
	int64_t lat_e7, lon_e7;
	const char *grid;
	const char *id; /* set: the case id as typed */
	const char **tags;
	size_t ntags, captags;
	struct wh_buf loc; /* encoded [lat, lon] */
};

/* An empty edit with room for max_tags tags. */
void cw_edit_init(struct cw_edit *e, size_t max_tags);
void cw_edit_fini(struct cw_edit *e);

/*
 * One value by its option name (title, description, category, address,
 * reporter, contact, ref, source, priority, lat, lon, grid, tag,
 * status), if the command 'mode' (CW_IN_NEW or CW_IN_SET) takes it:
 * CLI_OK, CLI_USAGE with the value named, or 1 if the name is not a
 * field of that command (nothing said).
 */
int cw_edit_opt(const struct cli *c, struct cw_edit *e, unsigned mode,
		const char *name, const char *v);
/* After the last value: lat and lon go together. CLI_OK or CLI_USAGE. */
int cw_edit_done(const struct cli *c, struct cw_edit *e);
/* How many fields (status apart) e gives. */
int cw_edit_count(const struct cw_edit *e);

/* A value that must fit one string field of an op of kind: CLI_OK or a
 * usage message naming opt. */
int cw_probe_str(const struct cli *c, const char *opt, uint8_t kind,
		 uint8_t key, const char *v);

/* Take in a new case at this station (conf, key, store open): its
 * create, sealed personal data and tags in one transaction. *seq gets
 * the new case's number. */
int cw_case_create(struct cli *c, const struct cw_edit *e, uint32_t *seq);

/* Change case (code, seq): a status step (checked against the workflow
 * and the loop) and fields, in one transaction. msg (256 bytes) says
 * what changed. */
int cw_case_set(struct cli *c, const struct cw_edit *e, const char *code,
		uint32_t seq, char msg[256]);

/* Append a note (text checked with cw_probe_str first). */
int cw_case_note(struct cli *c, const char *id, const char *code, uint32_t seq,
		 const char *text);

#endif
