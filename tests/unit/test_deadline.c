/*
 * test_deadline.c: deadlines held by emergencies (crdt/deadline.h).
 *
 *   - no emergency: deadlines and lateness exactly as wh_flow_overdue;
 *   - one pause: a deadline across it moves by its length, one before it
 *     does not (and its lateness stops growing during it), a clock
 *     started inside it starts at its end, a deadline at its very start
 *     moves past it;
 *   - overlapping emergencies count once; nested areas (a district's
 *     over a community) hold, a sibling's or a deeper area's do not;
 *   - open-ended: held (never due) until an end op ends it;
 *   - extend: a deadline it overlaps moves once per emergency;
 *   - a moved case is held only while it lay in the area;
 *   - a task case is not held by its own emergency;
 *   - wh_dl_overdue on a folded case with a whistle;
 *   - random windows: the clock runs exactly the limit up to the moved
 *     deadline (seed printed).
 */
#include "deadline.h"
#include "wh_test.h"

#define T0 1790000000000ull
#define H 3600000ull
#define ZDY "xicheng/xinjiekou/zhaodengyu"
#define XJK "xicheng/xinjiekou"

static struct wh_emergency em(uint32_t seq, const char *area, uint64_t start,
			      uint64_t end, uint64_t ended, int rule,
			      uint64_t ext)
{
	struct wh_emergency e;
	wh_em_init(&e, "~EM-XC", seq);
	e.declared = 1;
	snprintf(e.area, sizeof e.area, "%s", area);
	e.start_ms = start;
	e.end_ms = end;
	e.ended_ms = ended;
	e.rule = (uint8_t)rule;
	e.extend_ms = ext;
	return e;
}

static uint64_t due_at(const struct wh_emergency *ems, size_t n,
		       const char *path, uint64_t w, uint64_t d)
{
	struct wh_dl_clock k;
	wh_dl_clock_init(&k);
	wh_dl_clock_for_path(&k, ems, n, path);
	uint64_t r = wh_dl_due(&k, w, d);
	wh_dl_clock_fini(&k);
	return r;
}

static uint64_t late_at(const struct wh_emergency *ems, size_t n,
			const char *path, uint64_t w, uint64_t d, uint64_t now)
{
	struct wh_dl_clock k;
	wh_dl_clock_init(&k);
	wh_dl_clock_for_path(&k, ems, n, path);
	uint64_t r = wh_dl_late(&k, wh_dl_due(&k, w, d), now);
	wh_dl_clock_fini(&k);
	return r;
}

static void pause_one(void)
{
	/* No emergency: as the loop has always said. */
	CHECK_EQ(due_at(NULL, 0, ZDY, T0, T0 + 2 * H), T0 + 2 * H);
	CHECK_EQ(late_at(NULL, 0, ZDY, T0, T0 + 2 * H, T0 + 3 * H), H);
	CHECK_EQ(late_at(NULL, 0, ZDY, T0, T0 + 2 * H, T0 + 2 * H), 0);
	CHECK_EQ(wh_dl_due(NULL, T0, T0 + H), T0 + H);
	CHECK_EQ(wh_dl_due(NULL, T0, 0), 0);
	/* Under water from 1h to 5h over the street. */
	struct wh_emergency e = em(1, XJK, T0 + H, T0 + 5 * H, 0, 0, 0);
	CHECK_EQ(due_at(&e, 1, ZDY, T0, T0 + 2 * H), T0 + 6 * H);
	CHECK_EQ(late_at(&e, 1, ZDY, T0, T0 + 2 * H, T0 + 5 * H), 0);
	CHECK_EQ(late_at(&e, 1, ZDY, T0, T0 + 2 * H, T0 + 7 * H), H);
	/* A deadline before it stays, and stays late only by the time the
	 * clock ran: 30 min before, 1h after. */
	CHECK_EQ(due_at(&e, 1, ZDY, T0, T0 + H / 2), T0 + H / 2);
	CHECK_EQ(late_at(&e, 1, ZDY, T0, T0 + H / 2, T0 + 3 * H), H / 2);
	CHECK_EQ(late_at(&e, 1, ZDY, T0, T0 + H / 2, T0 + 6 * H),
		 H / 2 + H);
	/* A clock started inside it starts at its end. */
	CHECK_EQ(due_at(&e, 1, ZDY, T0 + 2 * H, T0 + 4 * H), T0 + 7 * H);
	/* A deadline at its very start moves past it. */
	CHECK_EQ(due_at(&e, 1, ZDY, T0, T0 + H), T0 + 5 * H);
	/* Outside the area, nothing. */
	CHECK_EQ(due_at(&e, 1, "xicheng/xisi/a", T0, T0 + 2 * H), T0 + 2 * H);
	CHECK_EQ(late_at(&e, 1, "xicheng/xisi/a", T0, T0 + 2 * H, T0 + 7 * H),
		 5 * H);
	/* An end op before the planned end ends it sooner. */
	e.ended_ms = T0 + 3 * H;
	CHECK_EQ(due_at(&e, 1, ZDY, T0, T0 + 2 * H), T0 + 4 * H);
	/* Not declared (only ops of another kind held): nothing. */
	e.declared = 0;
	CHECK_EQ(due_at(&e, 1, ZDY, T0, T0 + 2 * H), T0 + 2 * H);
}

static void overlap_nested(void)
{
	struct wh_emergency ems[4] = {
		/* the district, 1h-4h */
		em(1, "xicheng", T0 + H, T0 + 4 * H, 0, 0, 0),
		/* the street, 3h-6h, overlapping it */
		em(2, XJK, T0 + 3 * H, T0 + 6 * H, 0, 0, 0),
		/* a sibling street, 0h-10h: not ours */
		em(3, "xicheng/xisi", T0, T0 + 10 * H, 0, 0, 0),
		/* a grid inside the community: deeper than the case */
		em(4, ZDY "/g07", T0, T0 + 10 * H, 0, 0, 0),
	};
	/* Held 1h-6h once, not 3h + 3h. */
	CHECK_EQ(due_at(ems, 4, ZDY, T0, T0 + 2 * H), T0 + 7 * H);
	struct wh_dl_clock k;
	wh_dl_clock_init(&k);
	wh_dl_clock_for_path(&k, ems, 4, ZDY);
	CHECK_EQ(k.npause, 1);
	CHECK_EQ(wh_dl_running(&k, T0, T0 + 10 * H), 5 * H);
	wh_dl_clock_fini(&k);
	/* A case in that grid is held by all but the sibling: 0h-10h. */
	CHECK_EQ(due_at(ems, 4, ZDY "/g07", T0, T0 + 2 * H), T0 + 12 * H);
}

static void open_ended(void)
{
	struct wh_emergency e = em(1, XJK, T0 + H, 0, 0, 0, 0);
	CHECK_EQ(due_at(&e, 1, ZDY, T0, T0 + 2 * H), WH_DL_NEVER);
	CHECK_EQ(late_at(&e, 1, ZDY, T0, T0 + 2 * H, T0 + 100 * H), 0);
	/* Due before it started: late, but not growing while it lasts. */
	CHECK_EQ(late_at(&e, 1, ZDY, T0, T0 + H / 2, T0 + 100 * H), H / 2);
	/* Then an end op ends it. */
	e.ended_ms = T0 + 10 * H;
	CHECK_EQ(due_at(&e, 1, ZDY, T0, T0 + 2 * H), T0 + 11 * H);
	CHECK_EQ(late_at(&e, 1, ZDY, T0, T0 + 2 * H, T0 + 12 * H), H);
}

static void extend(void)
{
	struct wh_emergency e = em(1, XJK, T0 + H, T0 + 5 * H, 0, WH_EM_EXTEND,
				   24 * H);
	CHECK_EQ(due_at(&e, 1, ZDY, T0, T0 + 2 * H), T0 + 26 * H);
	/* Due before it starts: no overlap, no extension. */
	CHECK_EQ(due_at(&e, 1, ZDY, T0, T0 + H), T0 + H);
	/* Whistled after it ended: none either. */
	CHECK_EQ(due_at(&e, 1, ZDY, T0 + 6 * H, T0 + 8 * H), T0 + 8 * H);
	/* With a pause emergency too: paused first, then extended. */
	struct wh_emergency two[2] = {
		e, em(2, ZDY, T0 + 10 * H, T0 + 12 * H, 0, 0, 0)};
	CHECK_EQ(due_at(two, 2, ZDY, T0, T0 + 11 * H), T0 + 37 * H);
}

/* Fold ops into a case (they are built in fold order). */
static void case_fold(struct wh_case *c, struct wh_key *k,
		      struct wh_op_draft *ds, const uint64_t *at, int n)
{
	wh_case_init(c, ds[0].code, ds[0].seq);
	for (int i = 0; i < n; i++) {
		struct wh_buf b = {0};
		struct wh_op op;
		ds[i].hlc = WH_HLC_MAKE(at[i], 0);
		REQUIRE(wh_op_build(&ds[i], k, &b) == WH_OK);
		REQUIRE(wh_op_decode(b.p, b.len, &op) == WH_OK);
		REQUIRE(wh_case_apply(c, &op, NULL) == WH_OK);
		wh_buf_fini(&b);
	}
}

static void moved(struct wh_key *k)
{
	/* Created in zhaodengyu with its own deadline at 8h; moved to the
	 * sibling street at 3h, in the middle of the street's 1h-5h. */
	struct wh_op_draft ds[2];
	wh_draft_init(&ds[0], WH_OP_CASE_CREATE, "XJK-ZDY", 1, ZDY);
	wh_draft_str(&ds[0], WH_F_TITLE, "地下室进水");
	wh_draft_uint(&ds[0], WH_F_DUE_MS, T0 + 8 * H);
	wh_draft_init(&ds[1], WH_OP_CASE_MOVE, "XJK-ZDY", 1, ZDY);
	wh_draft_str(&ds[1], WH_F_NEW_PATH, "xicheng/xisi/a");
	uint64_t at[2] = {T0, T0 + 3 * H};
	struct wh_case c;
	case_fold(&c, k, ds, at, 2);
	CHECK_EQ(c.nplaces, 2);
	CHECK(!strcmp(wh_case_path_at(&c, T0 + H), ZDY));
	CHECK(!strcmp(wh_case_path_at(&c, T0 + 4 * H), "xicheng/xisi/a"));
	struct wh_emergency e = em(1, XJK, T0 + H, T0 + 5 * H, 0, 0, 0);
	struct wh_dl_clock kk;
	wh_dl_clock_init(&kk);
	wh_dl_clock_for_case(&kk, &e, 1, &c);
	CHECK_EQ(kk.npause, 1);
	CHECK_EQ(wh_dl_due(&kk, T0, c.due_ms), T0 + 10 * H); /* held 2h */
	/* The same from the other side: moved into the area at 3h. */
	struct wh_emergency e2 = em(2, "xicheng/xisi", T0 + H, T0 + 5 * H, 0, 0,
				    0);
	wh_dl_clock_for_case(&kk, &e2, 1, &c);
	CHECK_EQ(wh_dl_due(&kk, T0, c.due_ms), T0 + 10 * H); /* 3h-5h */
	/* Both: held 1h-5h whichever side it was on. */
	struct wh_emergency both[2] = {e, e2};
	wh_dl_clock_for_case(&kk, both, 2, &c);
	CHECK_EQ(wh_dl_due(&kk, T0, c.due_ms), T0 + 12 * H);
	/* The view keeps the places across encode and decode. */
	struct wh_buf b = {0};
	wh_case_encode(&c, &b);
	struct wh_case d;
	REQUIRE(wh_case_decode(b.p, b.len, &d) == WH_OK);
	wh_dl_clock_for_case(&kk, both, 2, &d);
	CHECK_EQ(wh_dl_due(&kk, T0, d.due_ms), T0 + 12 * H);
	wh_case_fini(&d);
	wh_buf_fini(&b);
	wh_dl_clock_fini(&kk);
	wh_case_fini(&c);
}

static void task_and_overdue(struct wh_key *k)
{
	/* A task case of emergency ~EM-XC/1 and a whistled ordinary case. */
	struct wh_op_draft ds[3];
	wh_draft_init(&ds[0], WH_OP_CASE_CREATE, "XJK-ZDY", 2, ZDY);
	wh_draft_str(&ds[0], WH_F_TITLE, "排查地下室住户");
	wh_draft_uint(&ds[0], WH_F_DUE_MS, T0 + 3 * H);
	wh_draft_str(&ds[0], WH_F_EMERGENCY, "~EM-XC");
	wh_draft_uint(&ds[0], WH_F_EMERGENCY_SEQ, 1);
	wh_draft_str(&ds[0], WH_F_TASK, "basement");
	uint64_t at[3] = {T0 + H, T0, T0};
	struct wh_case t;
	case_fold(&t, k, ds, at, 1);
	CHECK(t.task && !strcmp(t.em_code, "~EM-XC") && t.em_seq == 1);
	struct wh_emergency ems[2] = {em(1, XJK, T0, 0, 0, 0, 0),
				      em(2, ZDY, T0 + 2 * H, T0 + 4 * H, 0, 0,
					 0)};
	struct wh_dl_clock kk;
	wh_dl_clock_init(&kk);
	wh_dl_clock_for_case(&kk, ems, 2, &t);
	/* Its own (open-ended) emergency does not hold it; the other does:
	 * due 3h + 2h. */
	CHECK_EQ(wh_dl_due(&kk, T0 + H, t.due_ms), T0 + 5 * H);
	CHECK_EQ(wh_dl_overdue(&t, &kk, T0 + 5 * H, NULL, NULL), 0);
	CHECK_EQ(wh_dl_overdue(&t, &kk, T0 + 6 * H, NULL, NULL), 1);
	CHECK_EQ(wh_dl_overdue(&t, NULL, T0 + 4 * H, NULL, NULL), 1);
	wh_case_fini(&t);

	/* Triaged, whistled at 0: report within 1h, resolve within 2h. */
	wh_draft_init(&ds[0], WH_OP_CASE_CREATE, "XJK-ZDY", 3, ZDY);
	wh_draft_str(&ds[0], WH_F_TITLE, "井盖缺失");
	wh_draft_init(&ds[1], WH_OP_TRIAGE, "XJK-ZDY", 3, ZDY);
	wh_draft_uint(&ds[1], WH_F_LEVEL, WH_LEVEL_SMALL);
	wh_draft_uint(&ds[1], WH_F_SEEN, WH_HLC_MAKE(T0 - 2, 0));
	wh_draft_init(&ds[2], WH_OP_WHISTLE, "XJK-ZDY", 3, ZDY);
	wh_draft_uint(&ds[2], WH_F_WKIND, WH_WK_ASSEMBLE);
	wh_draft_uint(&ds[2], WH_F_WHISTLER, WH_WHISTLER_STREET);
	wh_draft_uint(&ds[2], WH_F_SEEN, WH_HLC_MAKE(T0 - 1, 0));
	wh_draft_str(&ds[2], WH_F_LEAD, "城管");
	wh_draft_uint(&ds[2], WH_F_REPORT_MS, H);
	wh_draft_uint(&ds[2], WH_F_RESOLVE_MS, 2 * H);
	uint64_t at2[3] = {T0 - 2, T0 - 1, T0};
	struct wh_case c;
	case_fold(&c, k, ds, at2, 3);
	REQUIRE(c.flow.nsummons == 1);
	struct wh_emergency mid = em(1, XJK, T0 + H / 2, T0 + 3 * H, 0, 0, 0);
	wh_dl_clock_for_case(&kk, &mid, 1, &c);
	/* Without the emergency, both late at 2h30. */
	CHECK_EQ(wh_dl_overdue(&c, NULL, T0 + 5 * H / 2, NULL, NULL), 2);
	CHECK_EQ(wh_dl_overdue(&c, &kk, T0 + 5 * H / 2, NULL, NULL), 0);
	CHECK(!wh_dl_report_late(&kk, &c.flow.summons[0], T0 + 3 * H));
	CHECK(wh_dl_report_late(NULL, &c.flow.summons[0], T0 + 3 * H));
	/* report due 3h30, resolve 4h30; at 4h: report late 30 min. */
	CHECK_EQ(wh_dl_overdue(&c, &kk, T0 + 4 * H, NULL, NULL), 1);
	CHECK_EQ(wh_dl_overdue(&c, &kk, T0 + 5 * H, NULL, NULL), 2);
	/* A settled case has nothing overdue. */
	c.status = WH_ST_RESOLVED;
	CHECK_EQ(wh_dl_overdue(&c, NULL, T0 + 5 * H, NULL, NULL), 0);
	wh_dl_clock_fini(&kk);
	wh_case_fini(&c);
}

static void random_windows(uint64_t *seed)
{
	for (int round = 0; round < 2000; round++) {
		struct wh_emergency ems[6];
		size_t n = (size_t)wh_test_below(seed, 6) + 1;
		for (size_t i = 0; i < n; i++) {
			uint64_t s = T0 + wh_test_below(seed, 20 * H);
			uint64_t len = wh_test_below(seed, 6 * H) + 1;
			int open = wh_test_below(seed, 8) == 0;
			ems[i] = em((uint32_t)i + 1, XJK, s, open ? 0 : s + len,
				    0, 0, 0);
		}
		uint64_t w = T0 + wh_test_below(seed, 20 * H);
		uint64_t d = w + wh_test_below(seed, 10 * H);
		struct wh_dl_clock k;
		wh_dl_clock_init(&k);
		wh_dl_clock_for_path(&k, ems, n, ZDY);
		uint64_t dd = wh_dl_due(&k, w, d);
		CHECK(dd >= d);
		if (dd != WH_DL_NEVER) {
			CHECK_EQ(wh_dl_running(&k, w, dd), d - w);
			/* and no earlier moment has run the whole limit */
			if (dd > w)
				CHECK(wh_dl_running(&k, w, dd - 1) < d - w ||
				      d == w);
		}
		wh_dl_clock_fini(&k);
	}
}

int main(void)
{
	REQUIRE(wh_crypto_init() == WH_OK);
	uint8_t s1[32] = {7};
	struct wh_key *k;
	REQUIRE(wh_key_from_seed(s1, &k) == WH_OK);
	uint64_t seed = wh_test_seed("test_deadline");
	pause_one();
	overlap_nested();
	open_ended();
	extend();
	moved(k);
	task_and_overdue(k);
	random_windows(&seed);
	wh_key_free(k);
	return wh_test_done("test_deadline");
}
