/*
 * test_flow.c: the whistle-and-report loop (crdt/flow.c) through
 * wh_case_apply on hand-built, signed ops: the whole loop with its
 * deadlines, the steps every replica must ignore (with no effect at
 * all), the flags raised by concurrent steps, the earlier-deadline rule
 * in either fold order, and the loop's part of the view encoding.
 * Deterministic: every stamp is chosen, nothing reads the clock.
 */
#include "case.h"
#include "mp.h"
#include "wh_test.h"

#define PATH "xicheng/xinjiekou/zhaodengyu/g07"
#define T0 1790000000000ull
#define MIN 60000ull
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define MAXOPS 128

/* Keys: the street office, the community, and two departments. */
static struct wh_key *kst, *kcm, *kcg, *kzj;

static struct wh_buf store[MAXOPS];
static struct wh_op ops[MAXOPS];
static int nops;

static struct wh_op *mk(struct wh_key *k, uint64_t ms,
			struct wh_op_draft *d)
{
	REQUIRE(nops < MAXOPS);
	d->hlc = WH_HLC_MAKE(ms, 0);
	struct wh_buf *b = &store[nops];
	wh_buf_reset(b);
	REQUIRE(wh_op_build(d, k, b) == WH_OK);
	REQUIRE(wh_op_decode(b->p, b->len, &ops[nops]) == WH_OK);
	return &ops[nops++];
}

static void draft(struct wh_op_draft *d, uint8_t kind, wh_hlc_ts seen)
{
	wh_draft_init(d, kind, "XJK-ZDY", 1, PATH);
	if (kind >= WH_OP_TRIAGE)
		wh_draft_uint(d, WH_F_SEEN, seen);
}

static struct wh_op *create(uint64_t ms)
{
	struct wh_op_draft d;
	draft(&d, WH_OP_CASE_CREATE, 0);
	wh_draft_str(&d, WH_F_TITLE, "老旧小区加装电梯纠纷");
	return mk(kcm, ms, &d);
}

static struct wh_op *status(struct wh_key *k, uint64_t ms, unsigned from,
			    unsigned to)
{
	struct wh_op_draft d;
	draft(&d, WH_OP_CASE_STATUS, 0);
	wh_draft_uint(&d, WH_F_FROM, from);
	wh_draft_uint(&d, WH_F_TO, to);
	return mk(k, ms, &d);
}

static struct wh_op *triage(struct wh_key *k, uint64_t ms, wh_hlc_ts seen,
			    unsigned level)
{
	struct wh_op_draft d;
	draft(&d, WH_OP_TRIAGE, seen);
	wh_draft_uint(&d, WH_F_LEVEL, level);
	return mk(k, ms, &d);
}

/* depts: up to 4 names, NULL-terminated; lead may be NULL; limits 0:
 * none. */
static struct wh_op *whistle(struct wh_key *k, uint64_t ms, wh_hlc_ts seen,
			     unsigned wkind, unsigned rank,
			     const char *const *depts, const char *lead,
			     uint64_t report_ms, uint64_t resolve_ms)
{
	struct wh_op_draft d;
	struct wh_buf enc = {0};
	uint32_t n = 0;
	draft(&d, WH_OP_WHISTLE, seen);
	wh_draft_uint(&d, WH_F_WKIND, wkind);
	wh_draft_uint(&d, WH_F_WHISTLER, rank);
	for (; depts && depts[n]; n++)
		wh_mpw_cstr(&enc, depts[n]);
	if (n)
		wh_draft_array(&d, WH_F_DEPTS, enc.p, enc.len, n);
	if (lead)
		wh_draft_str(&d, WH_F_LEAD, lead);
	if (report_ms)
		wh_draft_uint(&d, WH_F_REPORT_MS, report_ms);
	if (resolve_ms)
		wh_draft_uint(&d, WH_F_RESOLVE_MS, resolve_ms);
	struct wh_op *op = mk(k, ms, &d);
	wh_buf_fini(&enc);
	return op;
}

static struct wh_op *report(struct wh_key *k, uint64_t ms, wh_hlc_ts seen,
			    const char *dept, unsigned step)
{
	struct wh_op_draft d;
	draft(&d, WH_OP_REPORT, seen);
	wh_draft_str(&d, WH_F_DEPT, dept);
	wh_draft_uint(&d, WH_F_STEP, step);
	return mk(k, ms, &d);
}

static struct wh_op *feedback(uint64_t ms, wh_hlc_ts seen)
{
	struct wh_op_draft d;
	draft(&d, WH_OP_FEEDBACK, seen);
	wh_draft_str(&d, WH_F_TEXT, "已电话告知王阿姨处理结果");
	wh_draft_uint(&d, WH_F_CHANNEL, WH_CH_PHONE);
	return mk(kcm, ms, &d);
}

/* dept NULL: the resident's rating (recorded by the community). */
static struct wh_op *rate(uint64_t ms, wh_hlc_ts seen, const char *dept,
			  unsigned score)
{
	struct wh_op_draft d;
	draft(&d, WH_OP_RATE, seen);
	wh_draft_uint(&d, WH_F_RATER,
		      dept ? WH_RATER_STREET : WH_RATER_RESIDENT);
	wh_draft_uint(&d, WH_F_SCORE, score);
	if (dept)
		wh_draft_str(&d, WH_F_DEPT, dept);
	return mk(dept ? kst : kcm, ms, &d);
}

static struct wh_op *attach(uint64_t ms, wh_hlc_ts seen, uint8_t fill,
			    const char *name)
{
	struct wh_op_draft d;
	uint8_t hash[WH_ID_BYTES];
	memset(hash, fill, sizeof hash);
	draft(&d, WH_OP_ATTACH, seen);
	wh_draft_bin(&d, WH_F_BLOB, hash, sizeof hash);
	wh_draft_uint(&d, WH_F_SIZE, 1000u + fill);
	wh_draft_str(&d, WH_F_MIME, "image/jpeg");
	if (name)
		wh_draft_str(&d, WH_F_NAME, name);
	return mk(kcm, ms, &d);
}

static enum wh_apply apply(struct wh_case *c, const struct wh_op *op)
{
	enum wh_apply how = WH_APPLY_DUP_CREATE;
	REQUIRE(wh_case_apply(c, op, &how) == WH_OK);
	return how;
}

/* Apply an op that must be folded as intended; line of the caller. */
#define OK(c, op) expect_how(c, op, WH_APPLY_OK, __LINE__)
#define CONFLICT(c, op) expect_how(c, op, WH_APPLY_CONFLICT, __LINE__)
static void expect_how(struct wh_case *c, const struct wh_op *op,
		       enum wh_apply want, int line)
{
	enum wh_apply how = apply(c, op);
	if (how != want) {
		fprintf(stderr, "line %d: %s folded as %d, want %d\n", line,
			wh_op_kind_name(op->kind), (int)how, (int)want);
		wh_test_failures++;
	}
}

/*
 * A step every replica must ignore: wh_flow_check refuses it with 'code'
 * and a reason, the fold marks it ignored, and the loop's state and the
 * case's status are exactly as before (byte for byte).
 */
#define IGNORED(c, op, code) expect_ignored(c, op, code, __LINE__)
static void expect_ignored(struct wh_case *c, const struct wh_op *op,
			   int code, int line)
{
	struct wh_buf before = {0}, after = {0};
	int fails = wh_test_failures;
	const char *why = NULL;
	uint8_t st = c->status;
	uint32_t ni = c->nignored;
	wh_flow_encode(&c->flow, &before);
	CHECK_EQ(wh_flow_check(c, op, &why), code);
	CHECK(why != NULL);
	CHECK_EQ(apply(c, op), WH_APPLY_IGNORED);
	wh_flow_encode(&c->flow, &after);
	CHECK(before.len == after.len &&
	      !memcmp(before.p, after.p, before.len));
	CHECK_EQ(c->status, st);
	CHECK_EQ(c->nignored, ni + 1);
	if (wh_test_failures != fails)
		fprintf(stderr, "  (the %s step at line %d)\n",
			wh_op_kind_name(op->kind), line);
	wh_buf_fini(&before);
	wh_buf_fini(&after);
}

/* What wh_flow_overdue reports at one 'now'. */
struct od {
	uint32_t n;
	const char *dept[8];
	int resolve[8];
	uint64_t late[8];
};

static void od_cb(void *ctx, const struct wh_summons *s, int resolve,
		  uint64_t late)
{
	struct od *o = ctx;
	REQUIRE(o->n < 8);
	o->dept[o->n] = s->dept;
	o->resolve[o->n] = resolve;
	o->late[o->n++] = late;
}

static uint32_t overdue(const struct wh_case *c, uint64_t now, struct od *o)
{
	memset(o, 0, sizeof *o);
	uint32_t n = wh_flow_overdue(c, now, od_cb, o);
	CHECK_EQ(n, o->n); /* the count is what the callback got */
	CHECK_EQ(wh_flow_overdue(c, now, NULL, NULL), n);
	return n;
}

static int has(const struct od *o, const char *dept, int resolve,
	       uint64_t late)
{
	for (uint32_t i = 0; i < o->n; i++)
		if (!strcmp(o->dept[i], dept) && o->resolve[i] == resolve &&
		    o->late[i] == late)
			return 1;
	return 0;
}

static const struct wh_summons *sm(const struct wh_case *c, const char *d)
{
	const struct wh_summons *s = wh_flow_summons(c, d);
	REQUIRE(s != NULL);
	return s;
}

static const char *const both[] = {"城管", "住建", NULL};
static const char *const cg[] = {"城管", NULL};

static void names(void)
{
	CHECK_EQ(wh_level_parse("大事"), WH_LEVEL_BIG);
	CHECK_EQ(wh_level_parse("micro"), WH_LEVEL_MICRO);
	CHECK_EQ(wh_level_parse("huge"), -1);
	CHECK_EQ(wh_wkind_parse("监督哨"), WH_WK_SUPERVISE);
	CHECK_EQ(wh_whistler_parse("街巷长"), WH_WHISTLER_ALLEY);
	CHECK_EQ(wh_step_parse("办结"), WH_STEP_RESOLVE);
	CHECK_EQ(wh_channel_parse("sms"), WH_CH_SMS);
	CHECK(wh_level_name(WH_LEVEL_NONE) == NULL);
	CHECK(!strcmp(wh_step_label(WH_STEP_ONSITE), "到场"));
}

/* Refold: the set sorted into fold order, from an empty case. */
static int cmp_ptr(const void *a, const void *b)
{
	return wh_op_cmp(*(const struct wh_op *const *)a,
			 *(const struct wh_op *const *)b);
}

static void refold(struct wh_op **set, int n, struct wh_buf *enc)
{
	struct wh_op *sorted[MAXOPS];
	struct wh_case c;
	memcpy(sorted, set, (size_t)n * sizeof set[0]);
	qsort(sorted, (size_t)n, sizeof sorted[0], cmp_ptr);
	wh_case_init(&c, "XJK-ZDY", 1);
	for (int i = 0; i < n; i++)
		(void)apply(&c, sorted[i]);
	wh_buf_reset(enc);
	wh_case_encode(&c, enc);
	wh_case_fini(&c);
}

/* The whole loop, as the issue tells it, with the invalid steps a
 * confused or stale station might send along the way. */
static void full_loop(void)
{
	struct wh_case c;
	struct od o;
	const char *why;
	nops = 0;
	wh_case_init(&c, "XJK-ZDY", 1);
	OK(&c, create(T0));
	/* not triaged yet: no whistle */
	IGNORED(&c, whistle(kst, T0 + MIN, c.last_hlc, WH_WK_ASSEMBLE,
			    WH_WHISTLER_STREET, cg, NULL, 0, 0),
		WH_ESTATE);
	OK(&c, triage(kst, T0 + 2 * MIN, c.last_hlc, WH_LEVEL_BIG));
	CHECK_EQ(c.flow.level, WH_LEVEL_BIG);
	CHECK_EQ(c.flow.level_at, WH_HLC_MAKE(T0 + 2 * MIN, 0));
	/* a big matter is whistled by the street, not the community */
	IGNORED(&c, whistle(kcm, T0 + 3 * MIN, c.last_hlc, WH_WK_ASSEMBLE,
			    WH_WHISTLER_COMMUNITY, cg, NULL, HOUR, 0),
		WH_EDENIED);
	/* nobody is summoned: no report, nothing to supervise */
	IGNORED(&c, report(kcg, T0 + 4 * MIN, c.last_hlc, "城管", WH_STEP_ACK),
		WH_EDENIED);
	IGNORED(&c, whistle(kst, T0 + 5 * MIN, c.last_hlc, WH_WK_SUPERVISE,
			    WH_WHISTLER_STREET, NULL, NULL, 0, 0),
		WH_ESTATE);
	CHECK_EQ(c.flow.nwhistles, 0);

	/* the whistle: 城管 leads, 住建 helps; 2 h to report, 7 d to
	 * resolve */
	const uint64_t tw = T0 + 10 * MIN;
	OK(&c, whistle(kst, tw, c.last_hlc, WH_WK_ASSEMBLE, WH_WHISTLER_STREET,
		       both, "城管", 2 * HOUR, 7 * DAY));
	CHECK_EQ(c.flow.nsummons, 2);
	CHECK_EQ(c.flow.nwhistles, 1);
	CHECK_EQ(c.flow.last_wkind, WH_WK_ASSEMBLE);
	CHECK(sm(&c, "城管")->lead && !sm(&c, "住建")->lead);
	CHECK_EQ(sm(&c, "住建")->report_due_ms, tw + 2 * HOUR);
	CHECK_EQ(sm(&c, "住建")->resolve_due_ms, tw + 7 * DAY);
	CHECK_EQ(sm(&c, "城管")->summoned_at, WH_HLC_MAKE(tw, 0));
	CHECK(wh_flow_summons(&c, "公安") == NULL);
	/* nothing to rate or feed back before a result */
	IGNORED(&c, rate(tw + MIN, c.last_hlc, NULL, 4), WH_ESTATE);
	IGNORED(&c, rate(tw + 2 * MIN, c.last_hlc, "城管", 5), WH_ESTATE);
	IGNORED(&c, feedback(tw + 3 * MIN, c.last_hlc), WH_ESTATE);
	/* a department that was not summoned */
	IGNORED(&c, report(kcg, tw + 4 * MIN, c.last_hlc, "公安",
			   WH_STEP_ACK),
		WH_EDENIED);

	/* 住建 reports in time, 城管 does not */
	OK(&c, report(kzj, tw + HOUR, c.last_hlc, "住建", WH_STEP_ACK));
	CHECK_EQ(sm(&c, "住建")->acked_at, WH_HLC_MAKE(tw + HOUR, 0));
	CHECK_EQ(overdue(&c, tw + 2 * HOUR - MIN, &o), 0);
	CHECK_EQ(overdue(&c, tw + 2 * HOUR, &o), 0); /* due is not late */
	CHECK_EQ(overdue(&c, tw + 2 * HOUR + 15 * MIN, &o), 1);
	CHECK(has(&o, "城管", 0, 15 * MIN));
	/* the street supervises (监督哨) */
	OK(&c, whistle(kst, tw + 2 * HOUR + 30 * MIN, c.last_hlc,
		       WH_WK_SUPERVISE, WH_WHISTLER_STREET, NULL, NULL, 0, 0));
	CHECK_EQ(c.flow.nsupervise, 1);
	CHECK_EQ(c.flow.last_wkind, WH_WK_SUPERVISE);
	/* 城管 reports late: no longer overdue, and the lateness shows */
	OK(&c, report(kcg, tw + 3 * HOUR, c.last_hlc, "城管", WH_STEP_ACK));
	CHECK_EQ(overdue(&c, tw + 3 * HOUR + MIN, &o), 0);
	CHECK(WH_HLC_MS(sm(&c, "城管")->acked_at) >
	      sm(&c, "城管")->report_due_ms);
	/* a week on, nobody has resolved: both late by an hour */
	CHECK_EQ(overdue(&c, tw + 7 * DAY + HOUR, &o), 2);
	CHECK(has(&o, "城管", 1, HOUR) && has(&o, "住建", 1, HOUR));

	OK(&c, report(kcg, tw + 4 * HOUR, c.last_hlc, "城管", WH_STEP_ONSITE));
	OK(&c, report(kcg, tw + 5 * HOUR, c.last_hlc, "城管",
		      WH_STEP_PROGRESS));
	OK(&c, report(kcg, tw + 6 * HOUR, c.last_hlc, "城管",
		      WH_STEP_PROGRESS));
	CHECK_EQ(sm(&c, "城管")->onsite_at, WH_HLC_MAKE(tw + 4 * HOUR, 0));
	CHECK_EQ(sm(&c, "城管")->nprogress, 2);
	CHECK_EQ(sm(&c, "城管")->acked_at, WH_HLC_MAKE(tw + 3 * HOUR, 0));

	/* 住建 is not the lead: its resolve is its part, not the case */
	OK(&c, report(kzj, tw + DAY, c.last_hlc, "住建", WH_STEP_RESOLVE));
	CHECK_EQ(sm(&c, "住建")->resolved_at, WH_HLC_MAKE(tw + DAY, 0));
	CHECK_EQ(c.status, WH_ST_NEW);
	CHECK_EQ(c.flow.resolved_at, 0);
	IGNORED(&c, report(kzj, tw + DAY + MIN, c.last_hlc, "住建",
			   WH_STEP_PROGRESS),
		WH_ESTATE);
	CHECK_EQ(overdue(&c, tw + 7 * DAY + HOUR, &o), 1);
	CHECK(has(&o, "城管", 1, HOUR));
	/* the street may rate 住建 now: its part is done (下评上) */
	OK(&c, rate(tw + DAY + 2 * MIN, c.last_hlc, "住建", 3));
	CHECK_EQ(sm(&c, "住建")->street_score, 3);

	/* resolving the case by hand is ignored while the lead is open */
	why = NULL;
	CHECK_EQ(wh_flow_status_check(&c, WH_ST_RESOLVED, &why), WH_ESTATE);
	CHECK(why != NULL);
	CHECK_EQ(apply(&c, status(kst, tw + DAY + 3 * MIN, WH_ST_NEW,
				  WH_ST_RESOLVED)),
		 WH_APPLY_IGNORED);
	CHECK_EQ(c.status, WH_ST_NEW);
	OK(&c, status(kst, tw + DAY + 4 * MIN, WH_ST_NEW, WH_ST_IN_PROGRESS));

	/* the lead resolves: the case is resolved */
	const uint64_t tr = tw + 2 * DAY;
	OK(&c, report(kcg, tr, c.last_hlc, "城管", WH_STEP_RESOLVE));
	CHECK_EQ(c.status, WH_ST_RESOLVED);
	CHECK_EQ(c.flow.resolved_at, WH_HLC_MAKE(tr, 0));
	CHECK(!c.conflict);
	CHECK_EQ(overdue(&c, tw + 30 * DAY, &o), 0); /* a result is in */
	IGNORED(&c, report(kcg, tr + MIN, c.last_hlc, "城管",
			   WH_STEP_PROGRESS),
		WH_ESTATE);

	/* 结果反馈, 民评官, 下评上 */
	OK(&c, feedback(tr + HOUR, c.last_hlc));
	CHECK_EQ(c.flow.nfeedback, 1);
	CHECK_EQ(c.flow.feedback_at, WH_HLC_MAKE(tr + HOUR, 0));
	IGNORED(&c, rate(tr + HOUR + MIN, c.last_hlc, "公安", 5), WH_EDENIED);
	OK(&c, rate(tr + 2 * HOUR, c.last_hlc, NULL, 4));
	OK(&c, rate(tr + 2 * HOUR + MIN, c.last_hlc, "城管", 5));
	CHECK_EQ(c.flow.resident_score, 4);
	CHECK_EQ(c.flow.rated_at, WH_HLC_MAKE(tr + 2 * HOUR, 0));
	CHECK_EQ(sm(&c, "城管")->street_score, 5);

	/* the resident is not satisfied: reopen, a new round */
	const uint64_t to = tr + DAY;
	OK(&c, status(kcm, to, WH_ST_RESOLVED, WH_ST_REOPENED));
	CHECK_EQ(c.status, WH_ST_REOPENED);
	CHECK_EQ(c.flow.round, 1);
	CHECK_EQ(c.flow.reopened_at, WH_HLC_MAKE(to, 0));
	CHECK_EQ(c.flow.resident_score, 0);
	CHECK_EQ(c.flow.resolved_at, 0);
	CHECK_EQ(c.flow.nsummons, 2); /* kept, with their round */
	CHECK(c.flow.summons[0].round == 0 && c.flow.summons[1].round == 0);
	CHECK(c.flow.summons[0].resolved_at && c.flow.summons[0].lead);
	CHECK(wh_flow_summons(&c, "城管") == NULL);
	CHECK_EQ(overdue(&c, to + 30 * DAY, &o), 0);
	/* 城管 saw the reopen: not summoned in this round, no flag */
	IGNORED(&c, report(kcg, to + MIN, c.last_hlc, "城管", WH_STEP_ACK),
		WH_EDENIED);
	CHECK(!(c.flow.conflicts & WH_FLOW_C_REPORT));

	/* whistle again: a 冲锋哨 to 城管 alone */
	const uint64_t t2 = to + HOUR;
	OK(&c, whistle(kst, t2, c.last_hlc, WH_WK_CHARGE, WH_WHISTLER_STREET,
		       cg, "城管", HOUR, 3 * DAY));
	CHECK_EQ(c.flow.nsummons, 3);
	CHECK(wh_flow_summons(&c, "城管") == &c.flow.summons[2]);
	CHECK_EQ(c.flow.summons[2].round, 1);
	CHECK(c.flow.summons[2].lead);
	CHECK_EQ(c.flow.summons[2].report_due_ms, t2 + HOUR);
	CHECK_EQ(c.flow.summons[2].acked_at, 0);
	CHECK_EQ(overdue(&c, t2 + 2 * HOUR, &o), 1);
	CHECK(has(&o, "城管", 0, HOUR));
	CHECK_EQ(c.flow.nwhistles, 3);
	CHECK_EQ(c.flow.last_wkind, WH_WK_CHARGE);
	/* and resolve again */
	OK(&c, report(kcg, t2 + 30 * MIN, c.last_hlc, "城管", WH_STEP_ACK));
	OK(&c, report(kcg, t2 + DAY, c.last_hlc, "城管", WH_STEP_RESOLVE));
	CHECK_EQ(c.status, WH_ST_RESOLVED);
	CHECK_EQ(c.flow.resolved_at, WH_HLC_MAKE(t2 + DAY, 0));
	CHECK_EQ(c.flow.summons[0].resolved_at, WH_HLC_MAKE(tr, 0));

	/* closed: only attachments still land */
	OK(&c, status(kst, t2 + 2 * DAY, WH_ST_RESOLVED, WH_ST_CLOSED));
	IGNORED(&c, triage(kst, t2 + 2 * DAY + MIN, c.last_hlc, WH_LEVEL_SMALL),
		WH_ESTATE);
	IGNORED(&c, feedback(t2 + 2 * DAY + 90000, c.last_hlc), WH_ESTATE);
	OK(&c, attach(t2 + 2 * DAY + 2 * MIN, c.last_hlc, 7, "现场.jpg"));
	CHECK_EQ(c.flow.nfiles, 1);

	/* incremental apply and a refold from the set agree, whatever
	 * order the set arrives in */
	struct wh_op *set[MAXOPS];
	struct wh_buf inc = {0}, re = {0};
	for (int i = 0; i < nops; i++)
		set[i] = &ops[nops - 1 - i];
	wh_case_encode(&c, &inc);
	refold(set, nops, &re);
	CHECK(inc.len == re.len && !memcmp(inc.p, re.p, inc.len));
	wh_buf_fini(&inc);
	wh_buf_fini(&re);
	wh_case_fini(&c);
}

/* Micro matters are for residents; small ones for the community. */
static void levels(void)
{
	struct wh_case c;
	struct od o;
	nops = 0;
	wh_case_init(&c, "XJK-ZDY", 1);
	OK(&c, create(T0));
	OK(&c, triage(kcm, T0 + MIN, c.last_hlc, WH_LEVEL_MICRO));
	IGNORED(&c, whistle(kst, T0 + 2 * MIN, c.last_hlc, WH_WK_ASSEMBLE,
			    WH_WHISTLER_STREET, cg, NULL, 0, 0),
		WH_ESTATE);
	OK(&c, triage(kcm, T0 + 3 * MIN, c.last_hlc, WH_LEVEL_SMALL));
	CHECK(!c.flow.conflicts); /* it saw the first: no flag */
	OK(&c, whistle(kcm, T0 + 4 * MIN, c.last_hlc, WH_WK_PREPARE,
		       WH_WHISTLER_COMMUNITY, cg, NULL, 0, 0));
	CHECK_EQ(c.flow.nsummons, 1);
	CHECK_EQ(sm(&c, "城管")->report_due_ms, 0); /* no limit given */
	CHECK_EQ(overdue(&c, T0 + 365 * DAY, &o), 0);
	wh_case_fini(&c);
}

/* Two triages that did not see each other: flagged until someone who saw
 * both triages again. */
static void level_conflict(void)
{
	struct wh_case c;
	nops = 0;
	wh_case_init(&c, "XJK-ZDY", 1);
	OK(&c, create(T0));
	wh_hlc_ts h0 = c.last_hlc;
	OK(&c, triage(kst, T0 + MIN, h0, WH_LEVEL_BIG));
	CONFLICT(&c, triage(kcm, T0 + 2 * MIN, h0, WH_LEVEL_SMALL));
	CHECK(c.flow.conflicts & WH_FLOW_C_LEVEL);
	CHECK_EQ(c.flow.level, WH_LEVEL_SMALL); /* the later still wins */
	/* a stale triage from a third station keeps the flag */
	CONFLICT(&c, triage(kzj, T0 + 3 * MIN, h0, WH_LEVEL_BIG));
	CHECK(c.flow.conflicts & WH_FLOW_C_LEVEL);
	OK(&c, triage(kst, T0 + 4 * MIN, c.last_hlc, WH_LEVEL_BIG));
	CHECK(!(c.flow.conflicts & WH_FLOW_C_LEVEL));
	CHECK_EQ(c.flow.level, WH_LEVEL_BIG);
	wh_case_fini(&c);
}

/* Two whistles that named different leads without seeing each other. */
static void lead_conflict(void)
{
	struct wh_case c;
	nops = 0;
	wh_case_init(&c, "XJK-ZDY", 1);
	OK(&c, create(T0));
	OK(&c, triage(kst, T0 + MIN, c.last_hlc, WH_LEVEL_BIG));
	wh_hlc_ts h = c.last_hlc;
	OK(&c, whistle(kst, T0 + 2 * MIN, h, WH_WK_ASSEMBLE, WH_WHISTLER_STREET,
		       both, "城管", 0, 0));
	CHECK(!c.flow.conflicts);
	CONFLICT(&c, whistle(kzj, T0 + 3 * MIN, h, WH_WK_ASSEMBLE,
			     WH_WHISTLER_STREET, both, "住建", 0, 0));
	CHECK(c.flow.conflicts & WH_FLOW_C_LEAD);
	CHECK(sm(&c, "住建")->lead && !sm(&c, "城管")->lead); /* one lead */
	CHECK_EQ(c.flow.nsummons, 2);
	/* a lead change by someone who saw it all clears the flag */
	OK(&c, whistle(kst, T0 + 4 * MIN, c.last_hlc, WH_WK_ASSEMBLE,
		       WH_WHISTLER_STREET, cg, "城管", 0, 0));
	CHECK(!(c.flow.conflicts & WH_FLOW_C_LEAD));
	CHECK(sm(&c, "城管")->lead && !sm(&c, "住建")->lead);
	wh_case_fini(&c);
}

/* A department's step on a round reopened meanwhile, which its author
 * did not see: ignored, and flagged for a person to look at. */
static void report_conflict(void)
{
	struct wh_case c;
	nops = 0;
	wh_case_init(&c, "XJK-ZDY", 1);
	OK(&c, create(T0));
	OK(&c, triage(kst, T0 + MIN, c.last_hlc, WH_LEVEL_BIG));
	OK(&c, whistle(kst, T0 + 2 * MIN, c.last_hlc, WH_WK_ASSEMBLE,
		       WH_WHISTLER_STREET, both, "城管", 0, 0));
	OK(&c, report(kzj, T0 + 3 * MIN, c.last_hlc, "住建", WH_STEP_ACK));
	wh_hlc_ts zj_saw = c.last_hlc; /* 住建 goes offline here */
	OK(&c, report(kcg, T0 + 4 * MIN, c.last_hlc, "城管", WH_STEP_RESOLVE));
	CHECK_EQ(c.status, WH_ST_RESOLVED);
	OK(&c, status(kcm, T0 + 5 * MIN, WH_ST_RESOLVED, WH_ST_REOPENED));
	CHECK_EQ(c.flow.round, 1);
	/* a department never summoned: ignored, no flag (IGNORED checks
	 * that the loop's state did not change at all) */
	IGNORED(&c, report(kzj, T0 + 6 * MIN, zj_saw, "公安", WH_STEP_ACK),
		WH_EDENIED);
	/* 住建 comes back online and resolves its part of round 0 */
	const struct wh_op *late =
	    report(kzj, T0 + 7 * MIN, zj_saw, "住建", WH_STEP_RESOLVE);
	const char *why = NULL;
	uint32_t ni = c.nignored;
	CHECK_EQ(wh_flow_check(&c, late, &why), WH_EDENIED);
	CHECK_EQ(apply(&c, late), WH_APPLY_IGNORED);
	CHECK_EQ(c.nignored, ni + 1);
	CHECK(c.flow.conflicts & WH_FLOW_C_REPORT);
	CHECK_EQ(c.flow.conflicts, WH_FLOW_C_REPORT);
	CHECK_EQ(c.flow.summons[1].resolved_at, 0);
	CHECK_EQ(c.status, WH_ST_REOPENED);
	/* whistled again, its next step (having seen) clears it */
	OK(&c, whistle(kst, T0 + 8 * MIN, c.last_hlc, WH_WK_ASSEMBLE,
		       WH_WHISTLER_STREET, both, "住建", 0, 0));
	CHECK(c.flow.conflicts & WH_FLOW_C_REPORT); /* still to look at */
	OK(&c, report(kzj, T0 + 9 * MIN, c.last_hlc, "住建", WH_STEP_ACK));
	CHECK(!(c.flow.conflicts & WH_FLOW_C_REPORT));
	wh_case_fini(&c);
}

/* Fold the loop's part of a set: create, triage, then two whistles to
 * 城管 with report limits la (by ka at ms ta) and lb (by kb at tb). */
static void two_whistles(struct wh_key *ka, uint64_t ta, uint64_t la,
			 struct wh_key *kb, uint64_t tb, uint64_t lb,
			 struct wh_case *c, struct wh_buf *flow)
{
	nops = 0;
	wh_case_init(c, "XJK-ZDY", 1);
	OK(c, create(T0));
	OK(c, triage(kst, T0 + MIN, c->last_hlc, WH_LEVEL_BIG));
	wh_hlc_ts h = c->last_hlc;
	struct wh_op *a = whistle(ka, ta, h, WH_WK_ASSEMBLE, WH_WHISTLER_STREET,
				  cg, NULL, la, 0);
	struct wh_op *b = whistle(kb, tb, h, WH_WK_ASSEMBLE, WH_WHISTLER_STREET,
				  cg, NULL, lb, 0);
	int a_first = wh_op_cmp(a, b) < 0;
	OK(c, a_first ? a : b);
	OK(c, a_first ? b : a);
	wh_buf_reset(flow);
	wh_flow_encode(&c->flow, flow);
}

/* Two whistles for one department: the earlier deadline wins, whichever
 * of them folds first. */
static void deadlines(void)
{
	struct wh_case c1, c2;
	struct wh_buf f1 = {0}, f2 = {0};
	const uint64_t tw = T0 + HOUR;
	/* the same stamp, two authors: the key decides which folds first;
	 * swapping who signs which limit swaps the order of the limits */
	two_whistles(kst, tw, HOUR, kcg, tw, 3 * HOUR, &c1, &f1);
	two_whistles(kst, tw, 3 * HOUR, kcg, tw, HOUR, &c2, &f2);
	CHECK_EQ(sm(&c1, "城管")->report_due_ms, tw + HOUR);
	CHECK_EQ(sm(&c2, "城管")->report_due_ms, tw + HOUR);
	CHECK(f1.len == f2.len && !memcmp(f1.p, f2.p, f1.len));
	CHECK_EQ(c1.flow.nsummons, 1);
	wh_case_fini(&c1);
	wh_case_fini(&c2);
	/* different stamps: a later whistle with a shorter limit brings
	 * the deadline forward, one with a longer limit does not move it */
	two_whistles(kst, tw, 3 * HOUR, kst, tw + 10 * MIN, HOUR, &c1, &f1);
	CHECK_EQ(sm(&c1, "城管")->report_due_ms, tw + 70 * MIN);
	two_whistles(kst, tw, HOUR, kst, tw + 10 * MIN, 3 * HOUR, &c2, &f2);
	CHECK_EQ(sm(&c2, "城管")->report_due_ms, tw + HOUR);
	CHECK_EQ(sm(&c2, "城管")->summoned_at, WH_HLC_MAKE(tw, 0));
	wh_case_fini(&c1);
	wh_case_fini(&c2);
	wh_buf_fini(&f1);
	wh_buf_fini(&f2);
}

/* The view with the loop's every part encodes, decodes and encodes to
 * the same bytes; every cut-short copy is refused, without a leak. */
static void encoding(void)
{
	struct wh_case c, d;
	nops = 0;
	wh_case_init(&c, "XJK-ZDY", 1);
	OK(&c, create(T0));
	wh_hlc_ts h0 = c.last_hlc;
	OK(&c, triage(kst, T0 + MIN, h0, WH_LEVEL_BIG));
	CONFLICT(&c, triage(kcm, T0 + 2 * MIN, h0, WH_LEVEL_SMALL));
	CHECK(c.flow.conflicts & WH_FLOW_C_LEVEL);
	OK(&c, whistle(kst, T0 + 4 * MIN, c.last_hlc, WH_WK_CHARGE,
		       WH_WHISTLER_STREET, both, "住建", HOUR, DAY));
	OK(&c, report(kzj, T0 + 5 * MIN, c.last_hlc, "住建", WH_STEP_ONSITE));
	OK(&c, report(kzj, T0 + 6 * MIN, c.last_hlc, "住建", WH_STEP_RESOLVE));
	OK(&c, rate(T0 + 7 * MIN, c.last_hlc, "住建", 2));
	OK(&c, attach(T0 + 8 * MIN, c.last_hlc, 1, "楼道.jpg"));
	OK(&c, attach(T0 + 9 * MIN, c.last_hlc, 2, NULL));
	OK(&c, attach(T0 + 10 * MIN, c.last_hlc, 1, "again.jpg")); /* dup */
	CHECK_EQ(c.flow.nfiles, 2);
	OK(&c, status(kcm, T0 + 11 * MIN, WH_ST_RESOLVED, WH_ST_REOPENED));
	OK(&c, whistle(kst, T0 + 12 * MIN, c.last_hlc, WH_WK_FINAL,
		       WH_WHISTLER_STREET, cg, "城管", 0, 2 * DAY));

	struct wh_buf e1 = {0}, e2 = {0};
	wh_case_encode(&c, &e1);
	REQUIRE(wh_case_decode(e1.p, e1.len, &d) == WH_OK);
	wh_case_encode(&d, &e2);
	CHECK(e1.len == e2.len && !memcmp(e1.p, e2.p, e1.len));
	CHECK_EQ(d.flow.nsummons, 3);
	CHECK(!strcmp(d.flow.summons[1].dept, "住建"));
	CHECK_EQ(d.flow.summons[1].street_score, 2);
	CHECK_EQ(d.flow.summons[2].round, 1);
	CHECK(!strcmp(d.flow.files[0].name, "楼道.jpg"));
	CHECK(d.flow.files[1].name == NULL);
	CHECK(!strcmp(d.flow.files[1].mime, "image/jpeg"));
	CHECK_EQ(d.flow.files[1].size, 1002);
	CHECK_EQ(d.flow.conflicts, WH_FLOW_C_LEVEL);
	wh_case_fini(&d);

	/* every proper prefix, and one byte too many */
	int bad = 0;
	for (size_t n = 0; n < e1.len; n++) {
		int rc = wh_case_decode(e1.p, n, &d);
		if (rc != WH_ECORRUPT) {
			fprintf(stderr, "prefix %zu of %zu: %d\n", n, e1.len,
				rc);
			bad++;
		}
		if (rc == WH_OK)
			wh_case_fini(&d);
	}
	CHECK_EQ(bad, 0);
	wh_buf_append(&e1, "\xc0", 1);
	CHECK_EQ(wh_case_decode(e1.p, e1.len, &d), WH_ECORRUPT);
	wh_buf_fini(&e1);
	wh_buf_fini(&e2);
	wh_case_fini(&c);
}

int main(void)
{
	REQUIRE(wh_crypto_init() == WH_OK);
	REQUIRE(wh_key_generate(&kst) == WH_OK);
	REQUIRE(wh_key_generate(&kcm) == WH_OK);
	REQUIRE(wh_key_generate(&kcg) == WH_OK);
	REQUIRE(wh_key_generate(&kzj) == WH_OK);
	names();
	full_loop();
	levels();
	level_conflict();
	lead_conflict();
	report_conflict();
	deadlines();
	encoding();
	for (int i = 0; i < MAXOPS; i++)
		wh_buf_fini(&store[i]);
	wh_key_free(kst);
	wh_key_free(kcm);
	wh_key_free(kcg);
	wh_key_free(kzj);
	return wh_test_done("test_flow");
}
