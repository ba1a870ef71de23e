/*
 * test_sync_pair.c: two real stores in temp dirs, reconciled by two sync
 * sessions over an in-memory queue (tests/integration/sync_harness.h).
 *
 * Cases: identical stores settle in one round trip and under 1 KiB;
 * differences both ways (clustered newest, scattered through history,
 * with the transport now and then full) converge to equal digests and
 * views; a station under a street hub receives only its community; a
 * station -> hub -> district chain relays pushes; an interrupted sync
 * resumes without sending any op twice; garbage, forged and
 * out-of-scope input is refused and counted while the session keeps
 * working; receipts are verified; OPS go compressed (sync answers and
 * pushes) between two current agents, and plain to and from an agent
 * that offers only protocol version 1. Seed printed; WH_QUICK=1 scales
 * down.
 */
#include "integration/sync_harness.h"

static uint64_t rng;
static int quick;

#define P_COMM "xicheng/xinjiekou/zhaodengyu"
#define P_OTHER "xicheng/xinjiekou/sanjianfang"
#define P_STREET "xicheng/xinjiekou"
#define P_DISTRICT "xicheng"

static void views_equal(struct sh_node *x, struct sh_node *y)
{
	uint8_t a[WH_ID_BYTES], b[WH_ID_BYTES];
	REQUIRE(wh_store_views_hash(x->st, a) == WH_OK);
	REQUIRE(wh_store_views_hash(y->st, b) == WH_OK);
	CHECK(!memcmp(a, b, WH_ID_BYTES));
}

static void both_in_sync(struct sh_link *l)
{
	struct wh_sync_state sa, sb;
	wh_sync_get_state(l->a.s, &sa);
	wh_sync_get_state(l->b.s, &sb);
	CHECK(sa.in_sync);
	CHECK(sb.in_sync);
	CHECK(sa.have_receipt && sb.have_receipt);
	CHECK(wh_sync_idle(l->a.s) && wh_sync_idle(l->b.s));
}

/* Copy every op of x into y. */
static void copy_all(struct sh_node *x, struct sh_node *y)
{
	struct wh_buf d = {0};
	struct wh_slice *v;
	sh_dump(x->st, NULL, &d);
	size_t n = sh_slices(&d, &v);
	sh_ingest_all(y->st, v, n);
	free(v);
	wh_buf_fini(&d);
}

static void test_identical(void)
{
	struct sh_node x, y;
	struct sh_link l;
	sh_node_open(&x, P_COMM, WH_ROLE_STATION, NULL);
	sh_node_open(&y, P_COMM, WH_ROLE_STATION, NULL);
	sh_author_cases(&x, "XJK-ZDY", P_COMM, quick ? 50 : 300, 3, NULL);
	copy_all(&x, &y);
	sh_link_init(&l, &x, &y, rng);
	sh_start(&l);
	int flights = sh_pump(&l);
	uint64_t bytes = l.a.bytes + l.b.bytes, msgs = l.a.msgs + l.b.msgs;
	printf("identical: %d flights, %" PRIu64 " messages, %" PRIu64
	       " bytes\n",
	       flights, msgs, bytes);
	CHECK_EQ(msgs, 4); /* HELLO each way, RECEIPT each way */
	CHECK(bytes < 1024);
	CHECK(flights <= 3); /* the client knows after one round trip */
	both_in_sync(&l);
	sh_link_fini(&l);
	sh_node_close(&x);
	sh_node_close(&y);
}

/* A reloaded sync_interval (wh_sync_interval): a session in sync whose
 * next digest check is the default 30 s off checks within the new 2 s,
 * and a check then goes out. */
static void test_interval(void)
{
	struct sh_node x, y;
	struct sh_link l;
	sh_node_open(&x, P_COMM, WH_ROLE_STATION, NULL);
	sh_node_open(&y, P_COMM, WH_ROLE_STATION, NULL);
	sh_author_cases(&x, "XJK-ZDY", P_COMM, 5, 2, NULL);
	copy_all(&x, &y);
	sh_link_init(&l, &x, &y, rng);
	sh_start(&l);
	sh_pump(&l);
	both_in_sync(&l);
	uint64_t wa = wh_sync_tick(l.a.s), wb = wh_sync_tick(l.b.s);
	uint64_t before = wa < wb ? wa : wb;
	CHECK(before > 2000);
	wh_sync_interval(l.a.s, 2000);
	wh_sync_interval(l.b.s, 2000);
	wa = wh_sync_tick(l.a.s);
	wb = wh_sync_tick(l.b.s);
	CHECK(wa <= 2000 && wb <= 2000);
	uint64_t m0 = l.a.msgs + l.b.msgs;
	sh_clock_ms += 2001;
	(void)wh_sync_tick(l.a.s);
	(void)wh_sync_tick(l.b.s);
	printf("interval: next check %" PRIu64 " ms off, %" PRIu64
	       " ms after the change; %" PRIu64 " messages 2 s later\n",
	       before, wa < wb ? wa : wb, l.a.msgs + l.b.msgs - m0);
	CHECK(l.a.msgs + l.b.msgs > m0);
	sh_pump(&l);
	both_in_sync(&l);
	sh_link_fini(&l);
	sh_node_close(&x);
	sh_node_close(&y);
}

/* Differences both ways. clustered: each side authors new cases apart.
 * scattered: an origin store's ops go to x and y, each missing a random
 * subset. */
static void test_diff(int scattered, unsigned busy_pct)
{
	struct sh_node x, y, o;
	struct sh_link l;
	size_t base = quick ? 60 : 300;
	sh_node_open(&x, P_COMM, WH_ROLE_STATION, NULL);
	sh_node_open(&y, P_COMM, WH_ROLE_STATION, NULL);
	if (!scattered) {
		sh_author_cases(&x, "XJK-ZDY", P_COMM, base, 3, NULL);
		copy_all(&x, &y);
		sh_author_cases(&x, "XJK-ZDY", P_COMM, 10, 2, NULL);
		sh_author_cases(&y, "XJK-SJF", P_COMM, 25, 1, NULL);
	} else {
		sh_node_open(&o, P_COMM, WH_ROLE_STATION, NULL);
		sh_author_cases(&o, "XJK-ZDY", P_COMM, base, 3, NULL);
		struct wh_buf d = {0};
		struct wh_slice *v, *vx, *vy;
		sh_dump(o.st, NULL, &d);
		size_t n = sh_slices(&d, &v), nx = 0, ny = 0;
		vx = wh_xmalloc(n * sizeof *vx);
		vy = wh_xmalloc(n * sizeof *vy);
		for (size_t i = 0; i < n; i++) {
			uint64_t r = wh_test_below(&rng, 100);
			if (r >= 3) /* x misses 3% */
				vx[nx++] = v[i];
			if (r < 3 || r >= 8) /* y misses another 5% */
				vy[ny++] = v[i];
		}
		sh_ingest_all(x.st, vx, nx);
		sh_ingest_all(y.st, vy, ny);
		printf("scattered: x %zu, y %zu of %zu ops\n", nx, ny, n);
		free(v);
		free(vx);
		free(vy);
		wh_buf_fini(&d);
		sh_node_close(&o);
	}
	CHECK(!sh_same_digest(x.st, y.st, P_COMM));
	sh_link_init(&l, &x, &y, rng);
	l.a.busy_pct = l.b.busy_pct = busy_pct;
	sh_start(&l);
	int flights = sh_pump(&l);
	struct wh_sync_state sa, sb;
	wh_sync_get_state(l.a.s, &sa);
	wh_sync_get_state(l.b.s, &sb);
	printf("%s%s: %d flights, bytes %" PRIu64 " / %" PRIu64
	       ", ops %" PRIu64 " / %" PRIu64 "\n",
	       scattered ? "scattered" : "clustered",
	       busy_pct ? " (transport busy now and then)" : "", flights,
	       l.a.bytes, l.b.bytes, sa.stats.ops_out, sb.stats.ops_out);
	CHECK(sh_same_digest(x.st, y.st, NULL));
	views_equal(&x, &y);
	both_in_sync(&l);
	CHECK_EQ(sa.stats.ops_out, sb.stats.ops_in);
	CHECK_EQ(sb.stats.ops_out, sa.stats.ops_in);
	CHECK_EQ(sa.stats.dropped + sb.stats.dropped, 0);
	sh_link_fini(&l);
	sh_node_close(&x);
	sh_node_close(&y);
}

/* A street hub with two communities; the station sees only its own. */
static void test_scope(void)
{
	struct sh_node st, hub;
	struct sh_link l;
	sh_node_open(&st, P_COMM, WH_ROLE_STATION, NULL);
	sh_node_open(&hub, P_STREET, WH_ROLE_STREET, NULL);
	sh_author_cases(&hub, "XJK-ZDY", P_COMM, 20, 2, NULL);
	sh_author_cases(&hub, "XJK-SJF", P_OTHER, 30, 2, NULL);
	sh_author_cases(&st, "XJK-ZDY", P_COMM "/g07", 5, 1, NULL);
	sh_link_init(&l, &st, &hub, rng);
	sh_start(&l);
	(void)sh_pump(&l);
	uint8_t d[WH_ID_BYTES];
	uint64_t all, other, comm;
	REQUIRE(wh_store_digest(st.st, NULL, d, &all) == WH_OK);
	REQUIRE(wh_store_digest(st.st, P_OTHER, d, &other) == WH_OK);
	REQUIRE(wh_store_digest(st.st, P_COMM, d, &comm) == WH_OK);
	printf("scope: station holds %" PRIu64 " ops, %" PRIu64
	       " of the other community\n",
	       all, other);
	CHECK_EQ(other, 0);
	CHECK_EQ(all, comm);
	CHECK_EQ(comm, 20 * 3 + 5 * 2);
	CHECK(sh_same_digest(st.st, hub.st, P_COMM));
	both_in_sync(&l);
	struct wh_sync_state s;
	wh_sync_get_state(l.a.s, &s);
	CHECK(!strcmp(s.scope, P_COMM));
	CHECK_EQ(s.peer_role, WH_ROLE_STREET);
	/* A push of the other community's op is not sent to the station. */
	struct wh_buf ops = {0};
	sh_author_cases(&hub, "XJK-SJF", P_OTHER, 1, 0, &ops);
	sh_author_cases(&hub, "XJK-ZDY", P_COMM, 1, 0, &ops);
	struct wh_slice v[2];
	/* split the two ops: the shortest prefix that decodes is the
	 * first */
	{
		struct wh_op first;
		size_t n0 = 0;
		for (size_t k = 1; k <= ops.len; k++)
			if (wh_op_decode(ops.p, k, &first) == WH_OK) {
				n0 = k;
				break;
			}
		REQUIRE(n0 > 0);
		v[0] = (struct wh_slice){ops.p, n0};
		v[1] = (struct wh_slice){ops.p + n0, ops.len - n0};
	}
	wh_sync_get_state(l.b.s, &s);
	uint64_t out0 = s.stats.ops_out;
	REQUIRE(wh_sync_push(l.b.s, v, 2) == WH_OK);
	(void)sh_pump(&l);
	wh_sync_get_state(l.b.s, &s);
	CHECK_EQ(s.stats.ops_out - out0, 1);
	REQUIRE(wh_store_digest(st.st, P_OTHER, d, &other) == WH_OK);
	CHECK_EQ(other, 0);
	CHECK(sh_same_digest(st.st, hub.st, P_COMM));
	wh_buf_fini(&ops);
	sh_link_fini(&l);
	sh_node_close(&st);
	sh_node_close(&hub);
}

static void author_one(struct sh_node *nd, uint8_t kind, uint32_t seq,
		       const char *path, const char *text)
{
	struct wh_op_draft d;
	wh_draft_init(&d, kind, "XJK-ZDY", seq, path);
	if (kind == WH_OP_CASE_MOVE)
		wh_draft_str(&d, WH_F_NEW_PATH, text);
	else
		wh_draft_str(&d, WH_F_TEXT, text);
	REQUIRE(wh_store_author(nd->st, nd->key, &d, 1, sh_clock, NULL, NULL,
				NULL) == WH_OK);
}

static uint64_t scope_count(struct sh_node *nd, const char *scope)
{
	uint8_t d[WH_ID_BYTES];
	uint64_t n;
	REQUIRE(wh_store_digest(nd->st, scope, d, &n) == WH_OK);
	return n;
}

/* A transfer (转办) made while the station's link is down still reaches
 * the hub by reconciliation, the new community gets the whole history,
 * and later news of the case still reaches the station that moved it,
 * which gets nothing else of the other community. */
static void test_transfer(void)
{
	struct sh_node st, hub, st2;
	struct sh_link l;
	sh_node_open(&st, P_COMM, WH_ROLE_STATION, NULL);
	sh_node_open(&hub, P_STREET, WH_ROLE_STREET, NULL);
	sh_node_open(&st2, P_OTHER, WH_ROLE_STATION, NULL);
	sh_author_cases(&st, "XJK-ZDY", P_COMM, 1, 1, NULL);
	sh_author_cases(&hub, "XJK-SJF", P_OTHER, 3, 1, NULL);
	sh_link_init(&l, &st, &hub, rng);
	sh_start(&l);
	(void)sh_pump(&l);
	sh_link_fini(&l);
	CHECK_EQ(scope_count(&hub, P_COMM), 2);

	/* Offline: move the case to the other community, then a note. */
	author_one(&st, WH_OP_CASE_MOVE, 1, P_COMM, P_OTHER);
	author_one(&st, WH_OP_CASE_NOTE, 1, P_OTHER, "已转办至三井坊社区");
	sh_link_init(&l, &st, &hub, rng + 1);
	sh_start(&l);
	(void)sh_pump(&l);
	both_in_sync(&l);
	sh_link_fini(&l);
	CHECK(sh_same_digest(st.st, hub.st, P_COMM));
	CHECK_EQ(scope_count(&hub, P_COMM), 4);
	struct wh_case c;
	REQUIRE(wh_store_case_get(hub.st, "XJK-ZDY", 1, &c) == WH_OK);
	CHECK(c.path && !strcmp(c.path, P_OTHER));
	wh_case_fini(&c);

	/* The new community's station gets the case with its history. */
	sh_link_init(&l, &st2, &hub, rng + 2);
	sh_start(&l);
	(void)sh_pump(&l);
	sh_link_fini(&l);
	CHECK(sh_same_digest(st2.st, hub.st, P_OTHER));
	CHECK_EQ(scope_count(&st2, P_OTHER), 4 + 3 * 2);
	REQUIRE(wh_store_case_get(st2.st, "XJK-ZDY", 1, &c) == WH_OK);
	CHECK_EQ(c.nnotes, 2);
	wh_case_fini(&c);

	/* Its news goes back to the first station, and only its news. */
	author_one(&st2, WH_OP_CASE_NOTE, 1, P_OTHER, "已处理完毕");
	sh_link_init(&l, &st2, &hub, rng + 3);
	sh_start(&l);
	(void)sh_pump(&l);
	sh_link_fini(&l);
	sh_link_init(&l, &st, &hub, rng + 4);
	sh_start(&l);
	(void)sh_pump(&l);
	both_in_sync(&l);
	sh_link_fini(&l);
	CHECK(sh_same_digest(st.st, hub.st, P_COMM));
	CHECK_EQ(scope_count(&st, NULL), 5);
	CHECK_EQ(scope_count(&st, P_OTHER), 5);
	printf("transfer: hub %" PRIu64 " ops for the old community, "
	       "station %" PRIu64 " ops in all\n",
	       scope_count(&hub, P_COMM), scope_count(&st, NULL));
	sh_node_close(&st);
	sh_node_close(&hub);
	sh_node_close(&st2);
}

/* A photo on a case (拍照上报) follows its text: the hub gets the ops in
 * the round and the content after it, in pieces, checked against its
 * hash; a station of another community never gets it; a peer that only
 * speaks protocol 2 gets the ops and no content traffic at all. */
static void test_blobs(void)
{
	struct sh_node st, hub, st2, old;
	sh_node_open(&st, P_COMM, WH_ROLE_STATION, NULL);
	sh_node_open(&hub, P_STREET, WH_ROLE_STREET, NULL);
	sh_node_open(&st2, P_OTHER, WH_ROLE_STATION, NULL);
	sh_node_open(&old, P_STREET, WH_ROLE_STREET, NULL);
	sh_author_cases(&st, "XJK-ZDY", P_COMM, 1, 0, NULL);
	size_t n = 700 * 1024; /* three pieces */
	uint8_t *photo = wh_xmalloc(n), h[WH_ID_BYTES];
	for (size_t i = 0; i < n; i++)
		photo[i] = (uint8_t)(wh_test_rand(&rng) >> 7);
	REQUIRE(wh_store_blob_put(st.st, photo, n, h) == WH_OK);
	struct wh_op_draft d;
	wh_draft_init(&d, WH_OP_ATTACH, "XJK-ZDY", 1, P_COMM);
	wh_draft_bin(&d, WH_F_BLOB, h, WH_ID_BYTES);
	wh_draft_uint(&d, WH_F_SIZE, n);
	wh_draft_str(&d, WH_F_MIME, "image/jpeg");
	wh_draft_uint(&d, WH_F_SEEN, 0);
	REQUIRE(wh_store_author(st.st, st.key, &d, 1, sh_clock, NULL, NULL,
				NULL) == WH_OK);

	struct sh_link l;
	sh_link_init(&l, &st, &hub, rng);
	sh_start(&l);
	(void)sh_pump(&l);
	struct wh_buf b = {0};
	CHECK(sh_same_digest(st.st, hub.st, P_COMM));
	CHECK_EQ(wh_store_blob_get(hub.st, h, 0, 0, &b, NULL), WH_OK);
	CHECK(b.len == n && !memcmp(b.p, photo, n));
	struct wh_sync_state sa, sb;
	wh_sync_get_state(l.a.s, &sa);
	wh_sync_get_state(l.b.s, &sb);
	CHECK_EQ(sa.stats.blobs_out, 1);
	CHECK_EQ(sb.stats.blobs_in, 1);
	printf("blobs: %zu bytes of photo, %" PRIu64 " bytes station->hub\n",
	       n, l.a.bytes);
	sh_link_fini(&l);

	/* Another community's station: the op is not in its scope, and
	 * the hub does not serve the content there. */
	sh_link_init(&l, &st2, &hub, rng + 1);
	sh_start(&l);
	(void)sh_pump(&l);
	wh_buf_reset(&b);
	CHECK_EQ(wh_store_blob_get(st2.st, h, 0, 0, &b, NULL), WH_ENOTFOUND);
	CHECK_EQ(wh_store_blob_in_scope(hub.st, h, P_OTHER), WH_ENOTFOUND);
	sh_link_fini(&l);

	/* A version-2 peer gets the ops and never hears of content. */
	old.proto_max = 2;
	sh_link_init(&l, &st, &old, rng + 2);
	sh_start(&l);
	(void)sh_pump(&l);
	CHECK(sh_same_digest(st.st, old.st, P_COMM));
	wh_buf_reset(&b);
	CHECK_EQ(wh_store_blob_get(old.st, h, 0, 0, &b, NULL), WH_ENOTFOUND);
	wh_sync_get_state(l.b.s, &sb);
	CHECK_EQ(sb.stats.dropped, 0);
	CHECK_EQ(sb.proto, 2);
	sh_link_fini(&l);

	wh_buf_fini(&b);
	free(photo);
	sh_node_close(&st);
	sh_node_close(&hub);
	sh_node_close(&st2);
	sh_node_close(&old);
}

/* station -> street hub -> district: the hub relays what it ingests. */
static void test_relay(void)
{
	struct sh_node st, hub, dis;
	struct sh_link l1, l2;
	sh_node_open(&st, P_COMM, WH_ROLE_STATION, NULL);
	sh_node_open(&hub, P_STREET, WH_ROLE_STREET, NULL);
	sh_node_open(&dis, P_DISTRICT, WH_ROLE_DISTRICT, NULL);
	sh_author_cases(&st, "XJK-ZDY", P_COMM, 10, 2, NULL);
	sh_author_cases(&dis, "XJK-SJF", P_OTHER, 10, 1, NULL);
	sh_author_cases(&dis, "XJK-ZDY", P_COMM "/g02", 4, 1, NULL);
	/* A district document (a problem list) flows down to the station;
	 * another district's does not. */
	struct wh_op_draft dd;
	uint8_t doc_id[WH_ID_BYTES], other_id[WH_ID_BYTES];
	wh_draft_init(&dd, WH_OP_CASE_NOTE, "~PL", 1, P_DISTRICT);
	wh_draft_str(&dd, WH_F_TEXT, "违法建设: 城管 牵头, 7d");
	REQUIRE(wh_store_author(dis.st, dis.key, &dd, 1, sh_clock, NULL,
				&doc_id, NULL) == WH_OK);
	wh_draft_init(&dd, WH_OP_CASE_NOTE, "~PL", 2, "dongcheng");
	wh_draft_str(&dd, WH_F_TEXT, "另一个区");
	REQUIRE(wh_store_author(dis.st, dis.key, &dd, 1, sh_clock, NULL,
				&other_id, NULL) == WH_OK);
	sh_link_init(&l1, &st, &hub, rng);
	sh_link_init(&l2, &hub, &dis, rng ^ 77);
	/* the hub's end of each link relays to its other link */
	l1.b.relay[l1.b.nrelay++] = l2.a.s;
	l2.a.relay[l2.a.nrelay++] = l1.b.s;
	sh_start(&l1);
	sh_start(&l2);
	struct sh_link *ls[2] = {&l1, &l2};
	(void)sh_pump_many(ls, 2, 100000);
	/* A round may have closed before a relayed push arrived: the next
	 * anti-entropy tick settles it. */
	sh_clock_ms += WH_SYNC_DIGEST_INTERVAL_MS;
	(void)sh_pump_many(ls, 2, 100000);
	CHECK(sh_same_digest(st.st, dis.st, P_COMM));
	CHECK(sh_same_digest(hub.st, dis.st, P_STREET));
	CHECK_EQ(wh_store_has_op(st.st, doc_id), WH_OK);
	CHECK_EQ(wh_store_has_op(hub.st, other_id), WH_ENOTFOUND);
	/* Now live: a new op at the station reaches the district by push
	 * alone, without any digest round. */
	struct wh_buf ops = {0};
	sh_author_cases(&st, "XJK-ZDY", P_COMM, 1, 0, &ops);
	struct wh_slice v = {ops.p, ops.len};
	REQUIRE(wh_sync_push(l1.a.s, &v, 1) == WH_OK);
	int flights = sh_pump_many(ls, 2, 100000);
	printf("relay: push reached the district in %d flights\n", flights);
	CHECK(sh_same_digest(st.st, dis.st, P_COMM));
	uint8_t id[WH_ID_BYTES];
	wh_op_id(ops.p, ops.len, id);
	CHECK_EQ(wh_store_has_op(dis.st, id), WH_OK);
	wh_buf_fini(&ops);
	sh_link_fini(&l1);
	sh_link_fini(&l2);
	sh_node_close(&st);
	sh_node_close(&hub);
	sh_node_close(&dis);
}

/* Drop everything after k messages; new sessions finish the job and no
 * op that landed is sent again. */
static void test_interrupt(void)
{
	struct sh_node x, y;
	sh_node_open(&x, P_COMM, WH_ROLE_STATION, NULL);
	sh_node_open(&y, P_COMM, WH_ROLE_STATION, NULL);
	sh_author_cases(&x, "XJK-ZDY", P_COMM, quick ? 150 : 600, 3, NULL);
	sh_author_cases(&y, "XJK-SJF", P_COMM, 40, 2, NULL);
	int tried = 0;
	for (uint64_t k = 3; k <= 12; k += 3) {
		/* fresh copies of the two stores for each k would cost
		 * time; instead each k interrupts a new pair of sessions
		 * over the same stores, and the check is cumulative. */
		struct sh_link l;
		sh_link_init(&l, &x, &y, rng + k);
		l.track = 1;
		l.drop_after = k;
		sh_start(&l);
		(void)sh_pump(&l);
		tried++;
		sh_link_fini(&l);
	}
	struct sh_link l;
	sh_link_init(&l, &x, &y, rng + 99);
	l.track = 1;
	sh_start(&l);
	(void)sh_pump(&l);
	CHECK(sh_same_digest(x.st, y.st, NULL));
	views_equal(&x, &y);
	both_in_sync(&l);
	uint32_t maxn = 0;
	for (size_t i = 0; i < sh_nseen; i++)
		if (sh_seen_n[i] > maxn)
			maxn = sh_seen_n[i];
	printf("interrupt: %d interrupted attempts, %zu distinct ops "
	       "delivered, each at most %u time(s)\n",
	       tried, sh_nseen, maxn);
	CHECK_EQ(maxn, 1);
	sh_seen_reset();
	sh_link_fini(&l);
	sh_node_close(&x);
	sh_node_close(&y);
}

static void flip_sig(struct wh_buf *op)
{
	op->p[op->len - 1 - (size_t)wh_test_below(&rng, 64)] ^=
	    (uint8_t)(1u << wh_test_below(&rng, 8));
}

/* Garbage, forgeries and out-of-scope ops: refused, counted, nothing
 * stored, and the session still reconciles afterwards. */
static void test_garbage(void)
{
	struct sh_node st, hub;
	struct sh_link l;
	sh_node_open(&st, P_COMM, WH_ROLE_STATION, NULL);
	sh_node_open(&hub, P_STREET, WH_ROLE_STREET, NULL);
	sh_author_cases(&hub, "XJK-ZDY", P_COMM, 10, 1, NULL);
	sh_link_init(&l, &st, &hub, rng);
	sh_start(&l);
	(void)sh_pump(&l);
	both_in_sync(&l);
	struct wh_sync *s = l.a.s; /* the station's session */
	struct wh_sync_state before, after;
	wh_sync_get_state(s, &before);

	uint8_t junk[300];
	int bad = 0;
	for (int i = 0; i < 3; i++, bad++) {
		for (size_t k = 0; k < sizeof junk; k++)
			junk[k] = (uint8_t)wh_test_rand(&rng);
		CHECK_EQ(wh_sync_recv(s, junk, 1 + (size_t)wh_test_below(
						       &rng, sizeof junk)),
			 WH_OK);
	}
	/* huge length prefixes */
	static const uint8_t huge1[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0x06};
	static const uint8_t huge2[] = {0x93, 0x06, 0x00, 0xdd, 0x7f,
					0xff, 0xff, 0xff, 0xc6};
	static const uint8_t huge3[] = {0x93, 0x06, 0x00, 0x91, 0xc6,
					0xff, 0xff, 0xff, 0xff, 0x00};
	CHECK_EQ(wh_sync_recv(s, huge1, sizeof huge1), WH_OK);
	CHECK_EQ(wh_sync_recv(s, huge2, sizeof huge2), WH_OK);
	CHECK_EQ(wh_sync_recv(s, huge3, sizeof huge3), WH_OK);
	bad += 3;
	/* truncated valid messages */
	struct wh_buf m = {0};
	uint8_t dig[WH_ID_BYTES] = {1};
	wh_msg_digest(&m, P_COMM, 5, 10, dig);
	for (size_t k = 1; k < m.len; k += 11, bad++)
		CHECK_EQ(wh_sync_recv(s, m.p, k), WH_OK);
	wh_buf_reset(&m);

	/* a forged op (bit-flipped signature) and an op of another
	 * community, in well-formed OPS messages */
	struct sh_node tmp;
	sh_node_open(&tmp, P_STREET, WH_ROLE_STREET, NULL);
	struct wh_buf f = {0}, out = {0};
	sh_author_cases(&tmp, "XJK-ZDY", P_COMM, 1, 0, &f);
	sh_author_cases(&tmp, "XJK-SJF", P_OTHER, 1, 0, &out);
	flip_sig(&f);
	wh_msg_ops_begin(&m, WH_OPS_PUSH, 1);
	wh_msg_ops_add(&m, f.p, f.len);
	CHECK_EQ(wh_sync_recv(s, m.p, m.len), WH_OK);
	bad++;
	wh_buf_reset(&m);
	wh_msg_ops_begin(&m, WH_OPS_PUSH, 1);
	wh_msg_ops_add(&m, out.p, out.len);
	CHECK_EQ(wh_sync_recv(s, m.p, m.len), WH_OK);
	wh_buf_reset(&m);
	uint8_t id[WH_ID_BYTES];
	wh_op_id(f.p, f.len, id);
	CHECK_EQ(wh_store_has_op(st.st, id), WH_ENOTFOUND);
	wh_op_id(out.p, out.len, id);
	CHECK_EQ(wh_store_has_op(st.st, id), WH_ENOTFOUND);

	/* a receipt signed by the wrong key */
	wh_msg_receipt(&m, tmp.key, P_COMM, 1, dig, SH_NOW_MS);
	CHECK_EQ(wh_sync_recv(s, m.p, m.len), WH_OK);
	bad++;
	wh_buf_reset(&m);
	wh_sync_get_state(s, &after);
	CHECK(!memcmp(after.peer_digest, before.peer_digest, WH_ID_BYTES));
	CHECK_EQ(after.stats.refused - before.stats.refused, 2);
	CHECK(after.stats.dropped - before.stats.dropped >= (uint64_t)bad);
	printf("garbage: %d bad messages dropped, 2 ops refused\n", bad);

	/* still working: a new op at the hub syncs */
	sh_author_cases(&hub, "XJK-ZDY", P_COMM, 2, 1, NULL);
	sh_clock_ms += WH_SYNC_DIGEST_INTERVAL_MS;
	(void)sh_pump(&l);
	CHECK(sh_same_digest(st.st, hub.st, P_COMM));
	both_in_sync(&l);

	/* and a peer that keeps it up is shut out */
	int rc = WH_OK, k = 0;
	for (; k < 40 && rc == WH_OK; k++)
		rc = wh_sync_recv(s, junk, 7);
	CHECK_EQ(rc, WH_EDENIED);
	CHECK(k <= 20);
	/* a minute later the count starts again */
	sh_clock_ms += 61000;
	CHECK_EQ(wh_sync_recv(s, junk, 7), WH_OK);

	wh_buf_fini(&m);
	wh_buf_fini(&f);
	wh_buf_fini(&out);
	sh_node_close(&tmp);
	sh_link_fini(&l);
	sh_node_close(&st);
	sh_node_close(&hub);
}

/* Disjoint scopes share nothing: the link stays idle. */
static void test_disjoint(void)
{
	struct sh_node x, y;
	struct sh_link l;
	sh_node_open(&x, P_COMM, WH_ROLE_STATION, NULL);
	sh_node_open(&y, P_OTHER, WH_ROLE_STATION, NULL);
	sh_author_cases(&x, "XJK-ZDY", P_COMM, 3, 1, NULL);
	sh_link_init(&l, &x, &y, rng);
	sh_start(&l);
	(void)sh_pump(&l);
	struct wh_sync_state s;
	wh_sync_get_state(l.b.s, &s);
	CHECK(s.hello_done && s.scope[0] == '\0');
	CHECK_EQ(s.stats.ops_in, 0);
	CHECK_EQ(l.a.msgs + l.b.msgs, 2);
	CHECK(wh_sync_idle(l.a.s) && wh_sync_idle(l.b.s));
	sh_link_fini(&l);
	sh_node_close(&x);
	sh_node_close(&y);
}

/* One side empty: no symbols, the ops go straight over (both ways). */
static void test_empty(void)
{
	for (int dir = 0; dir < 2; dir++) {
		struct sh_node x, y;
		struct sh_link l;
		sh_node_open(&x, P_COMM, WH_ROLE_STATION, NULL);
		sh_node_open(&y, P_COMM, WH_ROLE_STATION, NULL);
		sh_author_cases(dir ? &y : &x, "XJK-ZDY", P_COMM, 40, 2,
				NULL);
		sh_link_init(&l, &x, &y, rng);
		sh_start(&l);
		int flights = sh_pump(&l);
		CHECK(sh_same_digest(x.st, y.st, NULL));
		both_in_sync(&l);
		uint64_t opsb = l.a.ops_bytes + l.b.ops_bytes,
			 all = l.a.bytes + l.b.bytes;
		printf("empty side (%d): %d flights, %" PRIu64
		       " bytes for %" PRIu64 " bytes of ops\n",
		       dir, flights, all, opsb);
		CHECK(all < opsb + 1024);
		sh_link_fini(&l);
		sh_node_close(&x);
		sh_node_close(&y);
	}
}

/* Every op of x as slices over d (the caller frees both). */
static size_t all_ops(struct sh_node *x, struct wh_buf *d,
		      struct wh_slice **v)
{
	sh_dump(x->st, NULL, d);
	return sh_slices(d, v);
}

/* x holds cases, y others; sync, then x pushes everything it holds.
 * y_proto is what y offers (1: an agent from before compression). */
static void zstd_pair(uint32_t y_proto)
{
	struct sh_node x, y;
	struct sh_link l;
	sh_node_open(&x, P_COMM, WH_ROLE_STATION, NULL);
	sh_node_open(&y, P_COMM, WH_ROLE_STATION, NULL);
	y.proto_max = y_proto;
	sh_author_cases(&x, "XJK-ZDY", P_COMM, 60, 3, NULL);
	sh_author_cases(&y, "XJK-SJF", P_COMM, 40, 2, NULL);
	sh_link_init(&l, &x, &y, rng);
	sh_start(&l);
	(void)sh_pump(&l);
	CHECK(sh_same_digest(x.st, y.st, NULL));
	both_in_sync(&l);
	struct wh_sync_state sa, sb;
	wh_sync_get_state(l.a.s, &sa);
	wh_sync_get_state(l.b.s, &sb);
	uint32_t want = y_proto ? y_proto : WH_SYNC_PROTO_MAX;
	CHECK_EQ(sa.proto, want);
	CHECK_EQ(sb.proto, want);
	uint64_t za = l.a.zops, zb = l.b.zops;
	/* live pushes: everything x holds, in batches that pay */
	struct wh_buf d = {0};
	struct wh_slice *v;
	size_t n = all_ops(&x, &d, &v);
	REQUIRE(wh_sync_push(l.a.s, v, n) == WH_OK);
	(void)sh_pump(&l);
	uint64_t pushed = l.a.zops - za;
	printf("zstd, y offers %u: sync %" PRIu64 " / %" PRIu64
	       " compressed OPS; push %" PRIu64 "; bytes %" PRIu64
	       " / %" PRIu64 " for ops %" PRIu64 " / %" PRIu64 "\n",
	       (unsigned)want, za, zb, pushed, l.a.bytes, l.b.bytes,
	       l.a.ops_bytes, l.b.ops_bytes);
	if (want >= WH_SYNC_PROTO_ZSTD) {
		CHECK(za > 0 && zb > 0); /* answers both ways */
		CHECK(pushed > 0);
		CHECK(l.a.bytes < l.a.ops_bytes);
	} else {
		/* an agent that never offered version 2 gets none, and
		 * sends none */
		CHECK_EQ(l.a.zops + l.b.zops, 0);
		CHECK(l.a.bytes > l.a.ops_bytes);
	}
	wh_sync_get_state(l.b.s, &sb);
	CHECK_EQ(sb.stats.dropped, 0);
	CHECK(sh_same_digest(x.st, y.st, NULL));
	free(v);
	wh_buf_fini(&d);
	sh_link_fini(&l);
	sh_node_close(&x);
	sh_node_close(&y);
}

static void test_zstd(void)
{
	zstd_pair(0);
	zstd_pair(1);
}

int main(void)
{
	rng = wh_test_seed("test_sync_pair");
	quick = getenv("WH_QUICK") != NULL;
	REQUIRE(wh_crypto_init() == WH_OK);
	test_identical();
	test_diff(0, 0);
	test_diff(1, 0);
	test_diff(1, 30);
	test_scope();
	test_relay();
	test_transfer();
	test_blobs();
	test_interrupt();
	test_garbage();
	test_disjoint();
	test_empty();
	test_interval();
	test_zstd();
	return wh_test_done("test_sync_pair");
}
