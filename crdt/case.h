/*
 * case.h: the case CRDT. A case's state is a left fold of its ops in
 * (hlc, author, id) order, so it is a function of the set of ops alone:
 * every replica that holds the same ops holds the same case, byte for byte
 * once encoded. docs/crdt.md states the merge rules in prose.
 *
 *   - fields: last writer wins, "last" in fold order;
 *   - status: transitions carry the status their author saw; one made
 *     without seeing the current status is concurrent, and the case shows
 *     a conflict until someone who saw it decides;
 *   - tags and assigned parties: add-wins observed-remove sets;
 *   - notes: append-only, ordered by hlc (read from the op log);
 *   - the whistle-and-report loop: flow.h.
 *
 * Apply is incremental: a store that keeps the encoded state and the fold
 * position applies an op that sorts after that position directly, and
 * refolds the case from its ops otherwise.
 */
#ifndef WH_CASE_H
#define WH_CASE_H

#include "flow.h"
#include "op.h"

enum wh_status {
	WH_ST_NEW = 0,         /* 新建 */
	WH_ST_ACCEPTED = 1,    /* 已受理 */
	WH_ST_IN_PROGRESS = 2, /* 处理中 */
	WH_ST_RESOLVED = 3,    /* 已解决 */
	WH_ST_CLOSED = 4,      /* 已办结 */
	WH_ST_REOPENED = 5,    /* 已重启 */
	WH_ST_CANCELLED = 6,   /* 已撤销 */
	WH_STATUS_MAX = 6
};

enum wh_priority {
	WH_PRI_LOW = 0,
	WH_PRI_NORMAL = 1,
	WH_PRI_HIGH = 2,
	WH_PRI_URGENT = 3,
	WH_PRIORITY_MAX = 3
};

/* Where a case came from (the domain page's list). */
enum wh_source {
	WH_SRC_OTHER = 0,
	WH_SRC_PATROL = 1,  /* 网格巡查 */
	WH_SRC_HOTLINE = 2, /* 12345 热线 */
	WH_SRC_WALKIN = 3,  /* 来访 */
	WH_SRC_VISIT = 4,   /* 入户走访 */
	WH_SRC_APP = 5,     /* 微信 / 应用 */
	WH_SRC_SENSOR = 6,  /* 城市大脑 / 传感器 */
	WH_SRC_OPINION = 7, /* 舆情 */
	WH_SOURCE_MAX = 7
};

enum wh_orset {
	WH_SET_TAGS = 0,
	WH_SET_PARTIES = 1, /* assigned departments / people */
	WH_ORSET_MAX = 1
};

/* English code and Chinese label of each enum value; NULL if out of
 * range. Parse accepts either spelling; -1 if neither matches. */
const char *wh_status_name(unsigned v);
const char *wh_status_label(unsigned v);
int wh_status_parse(const char *s);
const char *wh_priority_name(unsigned v);
const char *wh_priority_label(unsigned v);
int wh_priority_parse(const char *s);
const char *wh_source_name(unsigned v);
const char *wh_source_label(unsigned v);
int wh_source_parse(const char *s);

/* Whether a transition from -> to is allowed (docs/crdt.md has the table). */
int wh_status_allowed(unsigned from, unsigned to);

struct wh_case_elem {
	uint8_t set;           /* enum wh_orset */
	char *value;           /* owned */
	uint32_t nadds;        /* live add op ids */
	uint8_t (*adds)[WH_ID_BYTES];
};

/* One place a case has been: the path a create or a move set, and the
 * stamp of that op. */
struct wh_case_place {
	wh_hlc_ts at;
	char *path; /* owned */
};

/* Places a view keeps; past this the oldest is dropped (the earliest
 * times then count as spent at the oldest place kept). */
#define WH_CASE_MAX_PLACES 32u

/* Why the fold set an op aside; every replica records the same. */
enum wh_apply {
	WH_APPLY_OK = 0,
	WH_APPLY_CONFLICT = 1,     /* applied, but concurrent: flagged */
	WH_APPLY_IGNORED = 2,      /* kept in history, no effect */
	WH_APPLY_DUP_CREATE = 3    /* a second create for the same id */
};

struct wh_case {
	char code[WH_CODE_MAX + 1];
	uint32_t seq;
	/* Owned NUL-terminated strings; NULL when never set. */
	char *path, *title, *description, *category, *address, *reporter,
	    *contact, *extref;
	/* Personal data sealed under the case key (seal.h): the newest
	 * sealed value and the id of its key, last writer wins like the
	 * plain reporter and contact it replaces (a sealed value clears
	 * them: it carries both). Once an erase op is folded, 'erased' is
	 * set and the view keeps no personal data at all, sealed or plain,
	 * whatever sorts after it. */
	uint8_t *sealed; /* owned; NULL when none */
	uint32_t nsealed;
	int has_kid, erased;
	uint8_t kid[WH_ID_BYTES];
	int has_location;
	int64_t lat_e7, lon_e7;
	uint8_t source, priority, status;
	int has_create;
	uint8_t creator[WH_PK_BYTES];
	wh_hlc_ts created_at, updated_at;
	uint32_t nops, nnotes, nignored, nconflicts;
	/* Status conflict: set while the latest transition was made without
	 * seeing the status it replaced. 'other' is the status that lost. */
	int conflict;
	uint8_t conflict_other;
	wh_hlc_ts conflict_at;
	uint8_t conflict_author[WH_PK_BYTES];
	/* OR-set elements, kept sorted by (set, value). */
	uint32_t nelems;
	struct wh_case_elem *elems;
	/* Add ids removed before their add was folded (only forged or
	 * clock-broken histories produce these), so such adds stay removed. */
	uint32_t ntombs;
	uint8_t (*tombs)[WH_ID_BYTES];
	/* The whistle-and-report loop (flow.h). */
	struct wh_flow flow;
	/* The case's own deadline (wall ms; last writer wins); 0: none. A
	 * plan task's case has one (crdt/deadline.h says how an emergency
	 * moves deadlines). */
	uint64_t due_ms;
	/* A task case's link to its emergency and plan task (its create
	 * carries it; emergency.h): em_code is "" for any other case. */
	char em_code[WH_CODE_MAX + 1];
	uint32_t em_seq;
	char *task; /* owned; NULL unless a task case */
	/* Where the case has been, in fold order, once it has moved (a
	 * moved case's deadlines pause only while it lay in an emergency's
	 * area); none while it never moved: path was always its place. */
	uint32_t nplaces;
	struct wh_case_place *places;
	/* Fold position: the greatest (hlc, author, id) applied. */
	wh_hlc_ts last_hlc;
	uint8_t last_author[WH_PK_BYTES];
	uint8_t last_id[WH_ID_BYTES];
};

/* An empty case for (code, seq). wh_case_fini frees what apply added. */
void wh_case_init(struct wh_case *c, const char *code, uint32_t seq);
void wh_case_fini(struct wh_case *c);

/* Whether op sorts after everything folded into c (so apply is exact). */
int wh_case_after(const struct wh_case *c, const struct wh_op *op);

/*
 * Fold one validated op for this case into c. The op must sort after the
 * fold position (wh_case_after); otherwise WH_EINVAL and c is unchanged.
 * *how says what the fold made of it.
 */
WH_MUST_CHECK int wh_case_apply(struct wh_case *c, const struct wh_op *op,
				enum wh_apply *how);

/* Canonical encoding of the whole state (the stored view); equal states
 * encode to equal bytes. Appends to out. */
void wh_case_encode(const struct wh_case *c, struct wh_buf *out);

/* Decode what wh_case_encode wrote. Our own bytes (text is not checked
 * for UTF-8 again: it was when its op was), but still bounded:
 * WH_ECORRUPT if they do not parse. c is initialised by this call. */
WH_MUST_CHECK int wh_case_decode(const uint8_t *p, size_t n,
				 struct wh_case *c);

/* The case's path at wall time ms: where the latest create or move
 * before ms put it (the first place kept, for earlier times); path
 * when it never moved. */
const char *wh_case_path_at(const struct wh_case *c, uint64_t ms);

/* The element list of one OR-set value, or NULL. */
const struct wh_case_elem *wh_case_elem_find(const struct wh_case *c,
					     uint8_t set, const char *value);

#endif
