/*
 * test_store_state.c: ops by id, the log tail the agent polls for ops
 * another process wrote, and named state records.
 */
#include "test_store_util.h"

struct tail {
	uint64_t last;
	size_t n;
	struct t_ops *ops;
	int bad;
};

static int on_log(void *ctx, uint64_t seq, const uint8_t *op, size_t n)
{
	struct tail *t = ctx;
	if (seq <= t->last)
		t->bad = 1; /* must increase */
	t->last = seq;
	if (t->n >= t->ops->n || t->ops->b[t->n].len != n ||
	    memcmp(t->ops->b[t->n].p, op, n))
		t->bad = 1; /* arrival order, exact bytes */
	t->n++;
	return 0;
}

struct names {
	char got[8][64];
	int n;
};

static int on_state(void *ctx, const char *name, const uint8_t *v, size_t n)
{
	struct names *s = ctx;
	(void)v;
	(void)n;
	if (s->n < 8)
		snprintf(s->got[s->n++], 64, "%s", name);
	return 0;
}

int main(void)
{
	REQUIRE(wh_crypto_init() == WH_OK);
	char dir[512];
	t_tmpdir(dir, "state");
	struct wh_store *s = t_open(dir, 0, 0);
	struct wh_key *k;
	REQUIRE(wh_key_generate(&k) == WH_OK);

	uint64_t last = 99;
	CHECK_EQ(wh_store_log_last(s, &last), WH_OK);
	CHECK_EQ(last, 0);

	struct t_ops ops = {0};
	for (uint32_t i = 1; i <= 20; i++) {
		struct wh_op_draft d;
		wh_draft_init(&d, WH_OP_CASE_CREATE, "XJK-ZDY", i,
			      "xicheng/xinjiekou/zhaodengyu");
		wh_draft_str(&d, WH_F_TITLE, "居民反映楼道堆物");
		t_build(&ops, &d, k, WH_HLC_MAKE(T_NOW + i, 0));
	}
	t_ingest(s, &ops, NULL, 20, 7);

	/* by id: exact bytes; unknown: not found, nothing appended */
	struct wh_buf b = {0};
	uint8_t id[32];
	t_id(&ops, 5, id);
	CHECK_EQ(wh_store_get_op(s, id, &b), WH_OK);
	CHECK(b.len == ops.b[5].len && !memcmp(b.p, ops.b[5].p, b.len));
	wh_buf_reset(&b);
	id[0] ^= 1;
	CHECK_EQ(wh_store_get_op(s, id, &b), WH_ENOTFOUND);
	CHECK_EQ(b.len, 0);

	/* the tail: all, then from a point, then bounded */
	struct tail t = {0, 0, &ops, 0};
	CHECK_EQ(wh_store_log_since(s, 0, 0, on_log, &t), WH_OK);
	CHECK_EQ(t.n, 20);
	CHECK(!t.bad);
	CHECK_EQ(wh_store_log_last(s, &last), WH_OK);
	CHECK(last == t.last);
	uint64_t mid = 0;
	struct tail t2 = {0, 0, &ops, 0};
	CHECK_EQ(wh_store_log_since(s, 0, 12, on_log, &t2), WH_OK);
	CHECK_EQ(t2.n, 12);
	mid = t2.last;
	struct t_ops rest = {0};
	for (size_t i = 12; i < 20; i++)
		t_ops_add(&rest, ops.b[i].p, ops.b[i].len);
	struct tail t3 = {mid, 0, &rest, 0};
	CHECK_EQ(wh_store_log_since(s, mid, 0, on_log, &t3), WH_OK);
	CHECK_EQ(t3.n, 8);
	CHECK(!t3.bad);
	struct tail t4 = {last, 0, &ops, 0};
	CHECK_EQ(wh_store_log_since(s, last, 0, on_log, &t4), WH_OK);
	CHECK_EQ(t4.n, 0);

	/* state records: put/get/replace/prefix walk, survive rebuild */
	const uint8_t v1[] = "in sync", v2[] = "behind by 3";
	CHECK_EQ(wh_store_state_put(s, "peer/aa", v1, sizeof v1), WH_OK);
	CHECK_EQ(wh_store_state_put(s, "peer/bb", v1, sizeof v1), WH_OK);
	CHECK_EQ(wh_store_state_put(s, "peer/aa", v2, sizeof v2), WH_OK);
	CHECK_EQ(wh_store_state_put(s, "other", v1, sizeof v1), WH_OK);
	wh_buf_reset(&b);
	CHECK_EQ(wh_store_state_get(s, "peer/aa", &b), WH_OK);
	CHECK(b.len == sizeof v2 && !memcmp(b.p, v2, b.len));
	wh_buf_reset(&b);
	CHECK_EQ(wh_store_state_get(s, "peer/cc", &b), WH_ENOTFOUND);
	struct names nm = {.n = 0};
	CHECK_EQ(wh_store_state_each(s, "peer/", on_state, &nm), WH_OK);
	CHECK_EQ(nm.n, 2);
	CHECK(!strcmp(nm.got[0], "peer/aa") && !strcmp(nm.got[1], "peer/bb"));
	CHECK_EQ(wh_store_state_put(s, "", v1, 1), WH_EINVAL);
	static uint8_t big[70000];
	CHECK_EQ(wh_store_state_put(s, "big", big, sizeof big), WH_ETOOBIG);
	uint8_t dig[32], dig2[32];
	uint64_t c1, c2;
	CHECK_EQ(wh_store_digest(s, NULL, dig, &c1), WH_OK);
	CHECK_EQ(wh_store_rebuild(s), WH_OK);
	CHECK_EQ(wh_store_digest(s, NULL, dig2, &c2), WH_OK);
	CHECK(c1 == c2 && !memcmp(dig, dig2, 32)); /* state is not ops */
	wh_buf_reset(&b);
	CHECK_EQ(wh_store_state_get(s, "peer/bb", &b), WH_OK);

	wh_buf_fini(&b);
	t_ops_free(&ops);
	t_ops_free(&rest);
	wh_key_free(k);
	wh_store_close(s);
	t_rmdir(dir);
	return wh_test_done("test_store_state");
}
