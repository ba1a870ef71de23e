/*
 * test_sync_urgent.c: urgent first inside the sync session (sync.h,
 * urgent_scope / op_urgent; store.h, "Urgent first"), two real stores
 * over the in-memory harness (sync_harness.h), the class read from the
 * store as the agent does.
 *
 * A backlog of normal cases with a few urgent cases among them (made
 * last, so they sit at the end of every listing) and an emergency op:
 *   - no emergency held: the ops leave in the order listed, and the
 *     urgent ones are not all first (the control: the test can fail);
 *   - an emergency in force over the scope: every urgent op (the
 *     emergency's, the urgent cases' creates and notes) is delivered
 *     before any normal op, both when the holder of the backlog is the
 *     narrower side (it answers a WANT) and when it is the wider side
 *     (it sends all to an empty peer); urgent_out counts them;
 *   - an emergency that ended: listed order again;
 *   - a push of [normal..., urgent] in an emergency leaves urgent first;
 *   - in an emergency the station's anti-entropy digest comes after a
 *     quarter of the interval (wh_sync_urgent_ms), not before the whole
 *     interval otherwise;
 *   - a byte budget (wh_sync_budget), no emergency: in the first hour
 *     every urgent op and few normal ones go, nothing more within the
 *     hour, and the rest an hour's worth at a time after.
 * Seed printed.
 */
#include "integration/sync_harness.h"

static uint64_t rng;

#define P_COMM "xicheng/xinjiekou/zhaodengyu"
#define P_STREET "xicheng/xinjiekou"
#define H 3600000ull
#define NNORMAL 300u
#define NURGENT 12u

/* n cases of priority pri at P_COMM, each a create and a note (the
 * note carries no priority: its class comes from the case's view). */
static void cases(struct sh_node *nd, size_t n, unsigned pri,
		  uint8_t (*ids)[WH_ID_BYTES])
{
	for (size_t c = 0; c < n; c++) {
		struct wh_op_draft d[2];
		wh_draft_init(&d[0], WH_OP_CASE_CREATE, "XJK-ZDY", 0, P_COMM);
		wh_draft_str(&d[0], WH_F_TITLE, pri == WH_PRI_URGENT
						   ? "地下室进水，有老人被困"
						   : "楼道堆物");
		wh_draft_uint(&d[0], WH_F_PRIORITY, pri);
		wh_draft_init(&d[1], WH_OP_CASE_NOTE, "XJK-ZDY", 0, P_COMM);
		wh_draft_str(&d[1], WH_F_TEXT, "网格员已到场");
		REQUIRE(wh_store_author(nd->st, nd->key, d, 2, sh_clock, NULL,
					ids ? ids + 2 * c : NULL,
					NULL) == WH_OK);
	}
}

/* An emergency over the street, started an hour ago; ended an hour
 * from its start when 'ended'. Authored into nd's store. */
static void emergency(struct sh_node *nd, struct wh_key *k, int ended,
		      struct wh_buf *out)
{
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_EMERGENCY, "~EM-XC", 1, P_STREET);
	wh_draft_uint(&d, WH_F_START_MS, sh_clock_ms - 2 * H);
	if (ended)
		wh_draft_uint(&d, WH_F_END_MS, sh_clock_ms - H);
	wh_draft_str(&d, WH_F_TITLE, "暴雨");
	d.hlc = WH_HLC_MAKE(sh_clock_ms - 2 * H, 0);
	struct wh_buf b = {0};
	REQUIRE(wh_op_build(&d, k, &b) == WH_OK);
	struct wh_slice v = {b.p, b.len};
	struct wh_ingest_opts o = {.now_ms = sh_clock_ms};
	struct wh_ingest_result r;
	int res;
	REQUIRE(wh_store_ingest(nd->st, &v, 1, &o, &res, &r) == WH_OK);
	REQUIRE(res == WH_OK);
	if (out)
		wh_buf_append(out, b.p, b.len);
	wh_buf_fini(&b);
}

/* Classes of the ops delivered over the tracked link, in order of
 * arrival, read from the sender's store. Returns how many urgent. */
static size_t classes(struct wh_store *from, uint8_t *cls, size_t cap,
		      size_t *n)
{
	size_t nu = 0;
	*n = sh_nseen < cap ? sh_nseen : cap;
	for (size_t i = 0; i < *n; i++) {
		struct wh_buf op = {0};
		REQUIRE(wh_store_get_op(from, sh_seen[i], &op) == WH_OK);
		int u = 0;
		REQUIRE(wh_store_op_urgent(from, op.p, op.len, &u) == WH_OK);
		cls[i] = (uint8_t)u;
		nu += (size_t)u;
		wh_buf_fini(&op);
	}
	return nu;
}

/* Whether cls[0..n) is all urgent ops, then all normal ones. */
static int urgent_first(const uint8_t *cls, size_t n)
{
	size_t i = 0;
	while (i < n && cls[i])
		i++;
	while (i < n && !cls[i])
		i++;
	return i == n;
}

/* em: 0 none, 1 in force, 2 ended. holder_wide: the backlog sits at
 * the street hub (wider side) and the station is empty; else at the
 * station. */
static void run(int em, int holder_wide)
{
	struct sh_node st, hub;
	sh_node_open(&st, P_COMM, WH_ROLE_STATION, NULL);
	sh_node_open(&hub, P_STREET, WH_ROLE_STREET, NULL);
	struct sh_node *from = holder_wide ? &hub : &st;
	struct sh_node *to = holder_wide ? &st : &hub;
	if (em)
		emergency(from, hub.key, em == 2, NULL);
	cases(from, NNORMAL, WH_PRI_NORMAL, NULL);
	cases(from, NURGENT, WH_PRI_URGENT, NULL);
	struct sh_link l;
	sh_link_init(&l, &st, &hub, rng);
	l.track = 1;
	sh_seen_reset();
	sh_start(&l);
	(void)sh_pump(&l);
	CHECK(sh_same_digest(st.st, hub.st, P_COMM));
	size_t total = NNORMAL + NURGENT;
	uint8_t *cls = wh_xmalloc(2 * total + 8);
	size_t n;
	size_t nu = classes(from->st, cls, 2 * total + 8, &n);
	/* every op once: two per case, and the emergency's */
	CHECK_EQ(n, 2 * total + (size_t)(em != 0));
	CHECK_EQ(nu, 2 * NURGENT + (size_t)(em != 0));
	struct wh_sync_state ss;
	wh_sync_get_state(holder_wide ? l.b.s : l.a.s, &ss);
	size_t lead = 0;
	while (lead < n && cls[lead])
		lead++;
	printf("emergency %s, backlog at the %s: %zu ops, %zu urgent, "
	       "%zu urgent before the first normal one, urgent_out %" PRIu64
	       "\n",
	       em == 1 ? "in force" : em == 2 ? "ended" : "none",
	       holder_wide ? "hub" : "station", n, nu, lead,
	       ss.stats.urgent_out);
	if (em == 1) {
		CHECK(urgent_first(cls, n));
		CHECK_EQ(lead, nu);
		CHECK_EQ(ss.stats.urgent_out, (uint64_t)nu);
	} else {
		CHECK(!urgent_first(cls, n));
		CHECK_EQ(ss.stats.urgent_out, 0);
	}
	free(cls);
	(void)to;

	/* The station's next digest comes after a quarter of the interval
	 * in an emergency (the emergency reached it with the ops when the
	 * backlog was at the hub), after the whole interval otherwise. */
	uint64_t before = l.a.msgs;
	sh_clock_ms += wh_sync_urgent_ms(WH_SYNC_DIGEST_INTERVAL_MS) + 1;
	(void)wh_sync_tick(l.a.s);
	printf("  a quarter interval later the station sent %" PRIu64
	       " message(s)\n", l.a.msgs - before);
	if (em == 1)
		CHECK(l.a.msgs > before);
	else
		CHECK_EQ(l.a.msgs, before);
	(void)sh_pump(&l);

	/* Live: a push of normal ops with an urgent one last. */
	if (em == 1) {
		uint8_t ids[8][WH_ID_BYTES];
		cases(from, 3, WH_PRI_NORMAL, ids);
		cases(from, 1, WH_PRI_URGENT, ids + 6);
		struct wh_buf ops[8];
		struct wh_slice v[8];
		size_t nv = 8;
		for (size_t i = 0; i < nv; i++) {
			memset(&ops[i], 0, sizeof ops[i]);
			REQUIRE(wh_store_get_op(from->st, ids[i], &ops[i]) ==
				WH_OK);
			v[i].p = ops[i].p;
			v[i].n = ops[i].len;
		}
		sh_seen_reset();
		REQUIRE(wh_sync_push(holder_wide ? l.b.s : l.a.s, v, nv) ==
			WH_OK);
		(void)sh_pump(&l);
		uint8_t c4[16];
		size_t n4;
		CHECK_EQ(classes(from->st, c4, 16, &n4), 2);
		CHECK_EQ(n4, 8);
		CHECK(urgent_first(c4, n4) && c4[0] == 1);
		for (size_t i = 0; i < nv; i++)
			wh_buf_fini(&ops[i]);
	}
	sh_seen_reset();
	sh_link_fini(&l);
	sh_node_close(&st);
	sh_node_close(&hub);
}

/* A byte budget, no emergency: the backlog at the station, a budget
 * that covers a small part of it. The urgent cases all go in the first
 * hour, most normal ones wait; the next hour's anti-entropy moves more,
 * and a budget of a few hours moves everything. */
static void run_budget(void)
{
	struct sh_node st, hub;
	sh_node_open(&st, P_COMM, WH_ROLE_STATION, NULL);
	sh_node_open(&hub, P_STREET, WH_ROLE_STREET, NULL);
	cases(&st, NNORMAL, WH_PRI_NORMAL, NULL);
	cases(&st, NURGENT, WH_PRI_URGENT, NULL);
	struct sh_link l;
	sh_link_init(&l, &st, &hub, rng);
	const uint64_t budget = 8u << 10; /* 8 KiB an hour */
	wh_sync_budget(l.a.s, budget);
	l.track = 1;
	sh_seen_reset();
	sh_start(&l);
	(void)sh_pump(&l);
	uint8_t *cls = wh_xmalloc(4 * (NNORMAL + NURGENT));
	size_t n;
	size_t nu = classes(st.st, cls, 4 * (NNORMAL + NURGENT), &n);
	struct wh_sync_state ss;
	wh_sync_get_state(l.a.s, &ss);
	printf("budget %" PRIu64 " B/h, hour 1: %zu ops sent (%zu urgent of "
	       "%u), %" PRIu64 " left for later, %" PRIu64 " bytes used "
	       "(%" PRIu64 " sent)\n",
	       budget, n, nu, 2 * NURGENT, ss.stats.budget_held,
	       ss.budget_used, ss.stats.bytes_out);
	CHECK_EQ(nu, 2 * NURGENT);
	CHECK(n < 2 * (NNORMAL + NURGENT) / 2); /* most normal ones wait */
	CHECK(ss.stats.budget_held > 0);
	CHECK_EQ(ss.budget, budget);
	CHECK(ss.budget_used >= budget);
	CHECK(!sh_same_digest(st.st, hub.st, P_COMM));
	/* Within the hour: the next digests move nothing normal. */
	size_t before = n;
	for (int k = 0; k < 3; k++) {
		sh_clock_ms += WH_SYNC_DIGEST_INTERVAL_MS + 1;
		(void)wh_sync_tick(l.a.s);
		(void)sh_pump(&l);
	}
	(void)classes(st.st, cls, 4 * (NNORMAL + NURGENT), &n);
	printf("  later in the hour: %zu ops sent in all\n", n);
	CHECK_EQ(n, before);
	/* Hours later: everything, an hour's worth at a time. */
	int hours = 0;
	while (!sh_same_digest(st.st, hub.st, P_COMM) && hours < 200) {
		sh_clock_ms += 3600000u;
		(void)wh_sync_tick(l.a.s);
		(void)sh_pump(&l);
		hours++;
	}
	printf("  all of it after %d more hours\n", hours);
	CHECK(hours > 1);
	CHECK(sh_same_digest(st.st, hub.st, P_COMM));
	free(cls);
	sh_seen_reset();
	sh_link_fini(&l);
	sh_node_close(&st);
	sh_node_close(&hub);
}

int main(void)
{
	rng = wh_test_seed("test_sync_urgent");
	REQUIRE(wh_crypto_init() == WH_OK);
	for (int wide = 0; wide < 2; wide++) {
		run(0, wide);
		run(1, wide);
		run(2, wide);
	}
	run_budget();
	return wh_test_done("test_sync_urgent");
}
