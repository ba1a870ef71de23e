/*
 * op.h: signed, immutable, content-addressed operations.
 *
 * Every change to a case (and later to rosters, problem lists and
 * emergency plans) is one op. Wire and storage form, frozen in format
 * version 1 (docs/protocol.md has the byte-level layout):
 *
 *     E   = msgpack fixarray(7)
 *           [version, kind, [code, seq], path, author(bin 32), hlc, body]
 *     op  = E || signature(64 raw bytes, Ed25519 by author over E)
 *     id  = BLAKE2b-256(op)
 *
 * body is a map from small integer field keys (ascending, each at most once)
 * to scalars or arrays of scalars. Ops are stored and forwarded as the exact
 * bytes received and never re-encoded.
 *
 * wh_op_decode is the one place untrusted op bytes are parsed: it checks
 * every bound (total size, string lengths, UTF-8, counts, nesting), that
 * the encoding is canonical and that the body fits the kind's schema. Past
 * it, code sees only a validated struct wh_op. Signature and clock checks
 * are separate calls so that a store can refuse a known op by its id
 * before paying for a signature verification.
 */
#ifndef WH_OP_H
#define WH_OP_H

#include "hlc.h"
#include "key.h"
#include "wh.h"

#define WH_OP_VERSION 1
#define WH_OP_MAX_BYTES 65536u   /* whole op, signature included */
#define WH_OP_MAX_FIELDS 24u
#define WH_OP_MAX_ARRAY 64u      /* elements in one array field */
#define WH_CODE_MAX 16u          /* case id code, e.g. "XJK-ZDY" */
#define WH_PATH_MAX 200u         /* bytes of a jurisdiction path */
#define WH_PATH_MAX_PARTS 6u
#define WH_PART_MAX 32u          /* bytes of one path component */
/* "XJK-ZDY-000001": code, '-', at least six digits, NUL. */
#define WH_CASE_ID_MAX (WH_CODE_MAX + 12u)

/*
 * Op kinds. Numbers are part of the signed format: never renumber. Ranges
 * are reserved so later capabilities add kinds without a format break:
 *   1-15 case basics, 16-47 whistle-and-report workflow,
 *   48-63 trust (roster, revocation), 64-79 documents and emergencies.
 */
enum wh_op_kind {
	WH_OP_CASE_CREATE = 1, /* new case; obj seq allocated by its station */
	WH_OP_CASE_SET = 2,    /* last-writer-wins fields */
	WH_OP_CASE_STATUS = 3, /* status transition {to, from} */
	WH_OP_CASE_NOTE = 4,   /* append a note */
	WH_OP_TAG_ADD = 5,     /* add-wins observed-remove set: add */
	WH_OP_TAG_REMOVE = 6,  /* ...remove the adds it observed */
	WH_OP_CASE_MOVE = 7,   /* the case changes jurisdiction path */
	WH_OP_CASE_KEYS = 8,   /* the case's personal-data key, sealed to
				* readers, in content named by blob: {kid,
				* blob, size} (crdt/seal.h) */
	WH_OP_CASE_ERASE = 9,  /* destroy the case's personal-data key
				* everywhere: {kid} */
	/* The whistle-and-report loop (flow.h). */
	WH_OP_TRIAGE = 16,   /* 三事分流: {level, seen} */
	WH_OP_WHISTLE = 17,  /* 吹哨: {wkind, whistler, seen, depts, lead,
			      * report_ms, resolve_ms, text} */
	WH_OP_REPORT = 18,   /* 报到: {dept, step, seen, text} */
	WH_OP_FEEDBACK = 19, /* 结果反馈: {text, seen, channel} */
	WH_OP_RATE = 20,     /* 评价: {rater, score, seen, dept, text} */
	WH_OP_ATTACH = 21,   /* 拍照上报: {blob, size, mime, seen, name} */
	/* Documents ('~' objects). The problem list (问题清单): one entry
	 * per category, last writer wins; published by a district or a
	 * street at its own path. */
	WH_OP_PROBLEM_SET = 64, /* {category, lead, departments, report_ms,
				 * resolve_ms, text} */
	WH_OP_PROBLEM_DEL = 65, /* {category} */
	/* Emergencies (crdt/emergency.h): object "~EM-" + the declaring
	 * station's code, seq its own number, path the area. */
	WH_OP_EMERGENCY = 66,     /* declare or amend: {start_ms, end_ms,
				   * plan, plan_seq, rule, extend_ms,
				   * title, text} */
	WH_OP_EMERGENCY_END = 67, /* end it (final): {end_ms, text} */
	/* Digital emergency plans (数字应急预案, crdt/plan.h): object "~EP-"
	 * + the publisher's code, seq the plan's number, path the
	 * publisher's. */
	WH_OP_PLAN_SET = 68,      /* the plan's header: {title, rule,
				   * extend_ms, text} */
	WH_OP_PLAN_TASK = 69,     /* one task: {task, area, title, category,
				   * team, contact, within_ms, text} */
	WH_OP_PLAN_TASK_DEL = 70, /* {task} */
	WH_OP_KIND_MAX = 70
};

/* Body field keys: one registry for all kinds, so a key means the same
 * thing wherever it appears (and JSON names come from one table). */
enum wh_fkey {
	WH_F_TITLE = 1,
	WH_F_DESCRIPTION = 2,
	WH_F_CATEGORY = 3,
	WH_F_ADDRESS = 4,
	WH_F_SOURCE = 5,   /* enum wh_source */
	WH_F_PRIORITY = 6, /* enum wh_priority */
	WH_F_TO = 7,       /* status op: new status (enum wh_status) */
	WH_F_FROM = 8,     /* status op: status the author saw */
	WH_F_REPORTER = 9,
	WH_F_CONTACT = 10,
	WH_F_LOCATION = 11, /* [lat, lon] in 1e-7 degrees */
	WH_F_TEXT = 12,     /* note text */
	WH_F_TAG = 13,      /* OR-set element */
	WH_F_SET = 14,      /* which OR-set: enum wh_orset */
	WH_F_REMOVES = 15,  /* array of observed add op ids (bin 32) */
	WH_F_NEW_PATH = 16, /* move: the new jurisdiction path */
	WH_F_EXTREF = 17,   /* external reference, e.g. a 12345 ticket no. */
	WH_F_LEVEL = 18,    /* triage level (enum wh_level) */
	WH_F_SEEN = 19,     /* the case's fold position its author saw (hlc) */
	WH_F_WKIND = 20,    /* whistle kind (enum wh_wkind) */
	WH_F_WHISTLER = 21, /* whistler's rank (enum wh_whistler) */
	WH_F_DEPTS = 22,    /* array of department names summoned */
	WH_F_LEAD = 23,     /* the lead department (牵头部门) */
	WH_F_REPORT_MS = 24,  /* time limit to report, ms after the whistle */
	WH_F_RESOLVE_MS = 25, /* time limit to resolve, ms after it */
	WH_F_DEPT = 26,     /* the department acting or rated */
	WH_F_STEP = 27,     /* a department's step (enum wh_step) */
	WH_F_SCORE = 28,    /* rating 1-5 */
	WH_F_RATER = 29,    /* who rates (enum wh_rater) */
	WH_F_CHANNEL = 30,  /* feedback channel (enum wh_channel) */
	WH_F_BLOB = 31,     /* BLAKE2b-256 of an attachment's content */
	WH_F_SIZE = 32,     /* its size in bytes */
	WH_F_MIME = 33,     /* its media type */
	WH_F_NAME = 34,     /* its file name */
	WH_F_SEALED = 35,   /* personal data sealed under the case key */
	WH_F_KID = 36,      /* id of a case key: BLAKE2b-256 of it */
	/* Emergencies and plans (emergency.h, plan.h). Times are wall ms. */
	WH_F_START_MS = 37,  /* an emergency's start */
	WH_F_END_MS = 38,    /* its (planned) end, or when an end op ends it */
	WH_F_PLAN = 39,      /* a plan's object code ("~EP-...") */
	WH_F_PLAN_SEQ = 40,  /* ...and number */
	WH_F_EMERGENCY = 41, /* an emergency's object code ("~EM-...") */
	WH_F_EMERGENCY_SEQ = 42, /* ...and number */
	WH_F_TASK = 43,      /* a plan task's key */
	WH_F_AREA = 44,      /* the path a plan task applies to */
	WH_F_TEAM = 45,      /* the team (队伍) that does a task */
	WH_F_WITHIN_MS = 46, /* a task's time limit after the start */
	WH_F_DUE_MS = 47,    /* a case's own deadline */
	WH_F_RULE = 48,      /* deadlines in an emergency (enum wh_em_rule) */
	WH_F_EXTEND_MS = 49, /* ...extended by this much */
	WH_F_KEY_MAX = 49
};

enum wh_ftype {
	WH_T_UINT = 1,
	WH_T_INT = 2,
	WH_T_STR = 3,
	WH_T_BIN = 4,
	WH_T_ARRAY = 5 /* elements kept encoded in 's'; 'count' of them */
};

struct wh_field {
	uint8_t key;  /* enum wh_fkey */
	uint8_t type; /* enum wh_ftype */
	uint32_t count;
	uint64_t u;
	int64_t i;
	struct wh_slice s;
};

struct wh_op {
	uint8_t id[WH_ID_BYTES];
	uint8_t version;
	uint8_t kind;
	char code[WH_CODE_MAX + 1]; /* object code, NUL-terminated */
	uint32_t seq;               /* object sequence, >= 1 */
	struct wh_slice path;       /* into the op bytes; not NUL-terminated */
	uint8_t author[WH_PK_BYTES];
	wh_hlc_ts hlc;
	uint32_t nfields;
	struct wh_field fields[WH_OP_MAX_FIELDS];
	struct wh_slice signed_part; /* E */
	const uint8_t *sig;
	struct wh_slice raw; /* the whole op */
};

/*
 * Parse and validate op bytes without checking the signature. On success
 * 'out' borrows from p[0..n), which must outlive it. Errors: WH_ETRUNC,
 * WH_ETOOBIG, WH_EDECODE, WH_ECANON, WH_EUTF8, WH_EVERSION, WH_EKIND,
 * WH_EID, WH_EPATH, WH_EFIELD.
 */
WH_MUST_CHECK int wh_op_decode(const uint8_t *p, size_t n, struct wh_op *out);

/* WH_OK if the signature is the author's over the signed part, WH_ESIG. */
WH_MUST_CHECK int wh_op_verify(const struct wh_op *op);

/* The id of op bytes (BLAKE2b-256), without decoding them. */
void wh_op_id(const uint8_t *p, size_t n, uint8_t id[WH_ID_BYTES]);

/* The field with this key, or NULL. */
const struct wh_field *wh_op_field(const struct wh_op *op, uint8_t key);

/* Order in which every replica folds a case's ops: (hlc, author, id). */
int wh_op_cmp(const struct wh_op *a, const struct wh_op *b);
int wh_op_key_cmp(wh_hlc_ts ha, const uint8_t *aa, const uint8_t *ia,
		  wh_hlc_ts hb, const uint8_t *ab, const uint8_t *ib);

/* What a caller fills in to make an op. Strings are borrowed. */
struct wh_op_draft {
	uint8_t kind;
	const char *code;
	uint32_t seq;
	const char *path;
	wh_hlc_ts hlc;
	uint32_t nfields;
	struct wh_field fields[WH_OP_MAX_FIELDS];
};

void wh_draft_init(struct wh_op_draft *d, uint8_t kind, const char *code,
		   uint32_t seq, const char *path);
/* Add a field (order does not matter; the encoder sorts). Adding past
 * WH_OP_MAX_FIELDS or a key twice makes wh_op_build fail with
 * WH_EFIELD. */
void wh_draft_str(struct wh_op_draft *d, uint8_t key, const char *s);
void wh_draft_uint(struct wh_op_draft *d, uint8_t key, uint64_t v);
void wh_draft_bin(struct wh_op_draft *d, uint8_t key, const void *p,
		  size_t n);
/* 'enc' holds 'count' msgpack values (scalars) back to back. */
void wh_draft_array(struct wh_op_draft *d, uint8_t key, const void *enc,
		    size_t n, uint32_t count);

/*
 * Encode d canonically, sign with key (whose public key becomes the
 * author) and append the op to 'out'. The result is decoded again before
 * returning, so a draft that breaks any rule wh_op_decode enforces fails
 * here with the same error and 'out' is left as it was.
 */
WH_MUST_CHECK int wh_op_build(const struct wh_op_draft *d,
			      const struct wh_key *key, struct wh_buf *out);

/* Path rules: 1..WH_PATH_MAX_PARTS components of [a-z0-9][a-z0-9_-]*,
 * each at most WH_PART_MAX bytes, joined by '/'. */
int wh_path_valid(const char *p, size_t n);
/* Whether 'path' lies inside 'scope' (equal, or scope + '/' + more).
 * The empty scope holds everything. */
int wh_path_within(const char *path, size_t pn, const char *scope,
		   size_t sn);
/*
 * Whether op belongs to scope by its own bytes, before anything is known
 * of its object: its path (or a move's new path) lies within scope, or it
 * is a document's op (code '~...') published at a path that holds scope
 * (a district's problem list reaches every station below it). The rest
 * of a scope's set (ops of cases that once lay within it) needs the
 * store's reach (store.h).
 */
int wh_op_in_scope(const struct wh_op *op, const char *scope, size_t sn);

/* Whether an object code names a document ('~...') rather than a case. */
static inline int wh_code_is_doc(const char *code) { return code[0] == '~'; }

/* Code rules: 1..WH_CODE_MAX of [A-Z0-9-], not starting or ending with
 * '-'; a leading '~' marks a document rather than a case. */
int wh_code_valid(const char *c, size_t n);

/* "XJK-ZDY-000001" <-> ("XJK-ZDY", 1). Parse returns WH_EID if malformed;
 * code_out has WH_CODE_MAX + 1 bytes. Format writes at most
 * WH_CASE_ID_MAX bytes including the NUL. */
WH_MUST_CHECK int wh_case_id_parse(const char *s, char *code_out,
				   uint32_t *seq);
void wh_case_id_format(const char *code, uint32_t seq,
		       char out[WH_CASE_ID_MAX]);

/* The largest value a field takes: bytes for text and binary fields,
 * the highest enum value for integer fields, elements for arrays; 0 for
 * an unknown key. Lets callers name the limit in their messages. */
uint64_t wh_field_max(uint8_t key);

/* Name of a kind ("create", "set", ...) or "unknown". */
const char *wh_op_kind_name(uint8_t kind);
/* JSON/CLI name of a field key ("title", ...) or NULL. */
const char *wh_field_name(uint8_t key);

#endif
