/*
 * problems.h: the problem list (问题清单) as a document: which department
 * leads (牵头部门) and which answer (主责部门) for a category of case, and
 * the default time limits to report and to resolve.
 *
 * A list is one document object, code "~PL-" + the publisher's station
 * code, seq 1, published at the publisher's own path (a district at
 * "xicheng", a street at "xicheng/xinjiekou"). Its state is a left fold of
 * its ops in (hlc, author, id) order, so every replica holding the same
 * ops holds the same list:
 *
 *   - PROBLEM_SET replaces the whole entry of its category (last writer
 *     wins, "last" in fold order); PROBLEM_DEL removes it, and a SET that
 *     sorts after the DEL adds it again. No tombstones are needed: the
 *     fold order is total, so "after" is the same everywhere.
 *   - Ops of other kinds on the object are kept out of the state and
 *     counted (nignored).
 *   - Bound: at most WH_PROBLEMS_MAX entries. A SET of a new category
 *     when the list is full is ignored (counted in ndropped); which ones
 *     are dropped depends only on the fold order, so it is the same on
 *     every replica. A DEL frees a place for a later SET.
 *
 * Merge (wh_problems_merge): the lists that apply to a case path are those
 * published at that path or above it; for each category the entry of the
 * most specific publisher (longest path) wins, so a street's entry
 * overrides its district's for that category only. docs/crdt.md,
 * "Documents", has the rules in prose.
 *
 * Pure: no I/O. The loader that finds a list's ops in the store is in
 * agent/problems.c. Who may publish is checked by the CLI (role street or
 * district); the fold itself trusts any signed op (see docs/crdt.md).
 */
#ifndef WH_PROBLEMS_H
#define WH_PROBLEMS_H

#include "op.h"
#include "wh.h"

#define WH_PROBLEMS_MAX 1024u       /* entries in one list */
#define WH_PROBLEMS_PREFIX "~PL-"   /* object code prefix of a list */
#define WH_PROBLEMS_SEQ 1u          /* object seq of a list */

/* One category's entry. Strings are owned, NUL-terminated UTF-8. */
struct wh_problem_entry {
	char *category;
	char *lead;             /* 牵头部门; never NULL in a folded entry */
	uint32_t ndepts;
	char **depts;           /* 主责部门, in the order published */
	uint64_t report_ms;     /* time limit to report; 0: none given */
	uint64_t resolve_ms;    /* time limit to resolve; 0: none given */
	char *text;             /* notes; NULL if none */
	char *path;             /* the publisher's path (its list's path) */
	wh_hlc_ts set_at;       /* stamp of the SET that wrote it */
	uint8_t set_by[WH_PK_BYTES];
};

/* Free what an entry owns and zero it; accepts a zeroed entry. */
void wh_problem_entry_fini(struct wh_problem_entry *e);
/* Deep copy src into dst (dst is overwritten, not freed first). */
void wh_problem_entry_copy(struct wh_problem_entry *dst,
			   const struct wh_problem_entry *src);
/* Whether a and b say the same thing: category, lead, departments (same
 * order), limits and text. Stamps, author and path are not compared. */
int wh_problem_entry_same(const struct wh_problem_entry *a,
			  const struct wh_problem_entry *b);
/* The departments as msgpack strings back to back, appended to out: what
 * wh_draft_array(d, WH_F_DEPTS, out->p, out->len, e->ndepts) takes. */
void wh_problem_depts_encode(const struct wh_problem_entry *e,
			     struct wh_buf *out);

/* One publisher's list, folded. */
struct wh_problems {
	char code[WH_CODE_MAX + 1]; /* "~PL-XC" */
	char path[WH_PATH_MAX + 1]; /* where it is published */
	uint32_t n;
	struct wh_problem_entry *e; /* sorted by category (bytewise) */
	uint32_t nops;              /* ops folded */
	uint32_t nignored;          /* of other kinds */
	uint32_t ndropped;          /* SETs past WH_PROBLEMS_MAX */
	/* Fold position: the greatest (hlc, author, id) applied. */
	wh_hlc_ts last_hlc;
	uint8_t last_author[WH_PK_BYTES];
	uint8_t last_id[WH_ID_BYTES];
};

/*
 * The list object code of a station code: "~PL-" + code into out. WH_EID
 * if the result is not a valid object code (a station code longer than
 * WH_CODE_MAX - 4 = 12 bytes does not fit).
 */
WH_MUST_CHECK int wh_problems_code(const char *station_code,
				   char out[WH_CODE_MAX + 1]);
/* Whether an object code names a problem list ("~PL-..."). */
int wh_problems_is_list(const char *code);

/* An empty list for object 'code' published at 'path' (both copied;
 * WH_EINVAL if either is invalid or too long). */
WH_MUST_CHECK int wh_problems_init(struct wh_problems *l, const char *code,
				   const char *path);
void wh_problems_fini(struct wh_problems *l);

/*
 * Fold one validated op of this list (code, seq WH_PROBLEMS_SEQ, path all
 * equal to the list's) into l. The op must sort after the fold position;
 * otherwise, or if it belongs to another object, WH_EINVAL and l is
 * unchanged. Kinds other than PROBLEM_SET/DEL are counted and ignored.
 * The op's bytes need not outlive the call: l copies what it keeps.
 */
WH_MUST_CHECK int wh_problems_apply(struct wh_problems *l,
				    const struct wh_op *op);

/* The entry of a category, or NULL. Borrowed from l: valid until the
 * next apply or fini. */
const struct wh_problem_entry *wh_problems_find(const struct wh_problems *l,
						const char *category);

/*
 * Canonical text of the entries, one line each in category order:
 *   path TAB category TAB lead TAB dept,dept TAB report_ms TAB resolve_ms
 *   TAB "text" TAB set_at TAB set_by-hex LF
 * with '\\', TAB, LF, CR and ',' inside values written as \\ \t \n \r \,
 * and - (unquoted) for no text. Equal lists give equal bytes. Appends to
 * out.
 */
void wh_problems_text(const struct wh_problems *l, struct wh_buf *out);

/* The lists that apply to one case path, merged. Entries are borrowed
 * from the lists given to wh_problems_merge: valid while they are. */
struct wh_problems_merged {
	uint32_t n;
	const struct wh_problem_entry **e; /* sorted by category */
};

/*
 * Merge lists[0..n) for case_path: lists not published at case_path or
 * above it are left out; for each category the entry of the list with
 * the longest path wins. Two lists at the same path (two publishers'
 * codes on one path) tie: the entry set later in fold order (set_at, then
 * set_by) wins, then the smaller list code. out is initialised by the
 * call; release it with wh_problems_merged_fini. WH_EINVAL if case_path
 * is not a valid path.
 */
WH_MUST_CHECK int wh_problems_merge(const struct wh_problems *const *lists,
				    size_t n, const char *case_path,
				    struct wh_problems_merged *out);
void wh_problems_merged_fini(struct wh_problems_merged *m);
const struct wh_problem_entry *
wh_problems_merged_find(const struct wh_problems_merged *m,
			const char *category);
/* Canonical text of the merged entries, as wh_problems_text. */
void wh_problems_merged_text(const struct wh_problems_merged *m,
			     struct wh_buf *out);

#endif
