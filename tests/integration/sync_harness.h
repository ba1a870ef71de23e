/*
 * sync_harness.h: two (or more) sync sessions wired back to back in one
 * process, each over a real store, through in-memory message queues.
 * Shared by tests/integration/test_sync_pair.c and bench/sync.c.
 * Header-only: include it once per program.
 *
 * A node is a store with a key, a role and a path. A link joins two
 * nodes with one session at each end; its io is the store (digest,
 * each_id, case_reached, get_op, ingest filtered to the scope as the
 * agent does, then wh_store_ingest) and a
 * queue towards the other end. The pump delivers messages in "flights":
 * everything queued in both directions at the start of a flight is
 * delivered, replies go to the next flight, so flights count one-way
 * latencies (a round trip is two). Faults: drop every message after the
 * k-th; make send return WH_EBUSY now and then; per-direction byte and
 * message counts; ops_seen counts every op carried in OPS messages per
 * op id (to prove nothing was sent twice); zops counts the OPS messages
 * that went compressed. A node's proto_max (0: newest) is what its
 * sessions offer, so a node can play an agent that predates zstd.
 */
#ifndef WH_SYNC_HARNESS_H
#define WH_SYNC_HARNESS_H

#include "msg.h"
#include "op.h"
#include "store.h"
#include "sync.h"
#include "wh_test.h"

#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#define SH_NOW_MS 1790000000000ull

static uint64_t sh_clock_ms = SH_NOW_MS;

static inline uint64_t sh_clock(void *ctx)
{
	(void)ctx;
	return sh_clock_ms;
}

struct sh_node {
	char dir[4096];
	struct wh_store *st;
	struct wh_key *key;
	const char *path;
	enum wh_role role;
	uint32_t proto_max;
};

struct sh_msg {
	uint8_t *p;
	size_t n;
};

struct sh_link;

struct sh_end {
	struct sh_node *node;
	struct sh_link *link;
	struct wh_sync *s;
	struct sh_end *peer;
	struct sh_msg *q; /* messages to the peer */
	size_t qn, qcap;
	uint64_t rng;
	uint64_t bytes, msgs, ops_bytes; /* sent; ops_bytes uncompressed */
	uint64_t zops;                   /* OPS messages sent compressed */
	struct wh_msg_zstd z;            /* to decode what it sends */
	unsigned busy_pct;               /* chance of WH_EBUSY per send */
	struct wh_sync *relay[4];        /* push what we ingest to these */
	int nrelay;
	size_t ingest_refused_scope;
};

struct sh_link {
	struct sh_end a, b;
	uint64_t sent_total;
	uint64_t drop_after; /* 0: never drop */
	uint64_t dropped;
	int track; /* count delivered ops in sh_seen */
};

/* Op ids delivered in OPS messages over tracked links, with how many
 * times each (linear search: small tests only). */
static uint8_t (*sh_seen)[WH_ID_BYTES];
static uint32_t *sh_seen_n;
static size_t sh_nseen, sh_seencap;

/* ---- scratch dirs ---- */

static inline void sh_tmpdir(char *out, size_t cap, const char *prefix)
{
	const char *base = getenv("WH_TEST_TMP");
	if (!base || !*base)
		base = "/tmp";
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s", base);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		(void)mkdir(tmp, 0700);
		*p = '/';
	}
	(void)mkdir(tmp, 0700);
	snprintf(out, cap, "%s/%s.XXXXXX", base, prefix);
	REQUIRE(mkdtemp(out) != NULL);
}

static inline int sh_rm_one(const char *p, const struct stat *st, int flag,
		     struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static inline void sh_rmrf(const char *dir)
{
	(void)nftw(dir, sh_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void sh_node_open(struct sh_node *n, const char *path,
			 enum wh_role role, struct wh_key *key)
{
	memset(n, 0, sizeof *n);
	sh_tmpdir(n->dir, sizeof n->dir, "sync");
	struct wh_store_opts o = {.nosync = 1};
	REQUIRE(wh_store_open(n->dir, &o, &n->st) == WH_OK);
	n->path = path;
	n->role = role;
	if (key)
		n->key = key;
	else
		REQUIRE(wh_key_generate(&n->key) == WH_OK);
}

static inline void sh_node_close(struct sh_node *n)
{
	wh_store_close(n->st);
	wh_key_free(n->key);
	sh_rmrf(n->dir);
	memset(n, 0, sizeof *n);
}

/* ---- io ---- */

static inline int sh_digest(void *ctx, const char *scope, uint8_t out[WH_ID_BYTES],
		     uint64_t *count)
{
	struct sh_end *e = ctx;
	return wh_store_digest(e->node->st, scope, out, count);
}

static inline int sh_each_id(void *ctx, const char *scope,
		      int (*cb)(void *cbctx, const uint8_t id[WH_ID_BYTES]),
		      void *cbctx)
{
	struct sh_end *e = ctx;
	return wh_store_each_id(e->node->st, scope, cb, cbctx);
}

static inline int sh_case_reached(void *ctx, const char *code, uint32_t seq,
				  const char *scope)
{
	struct sh_end *e = ctx;
	return wh_store_case_reached(e->node->st, code, seq, scope) == WH_OK;
}

static inline int sh_blobs_wanted(void *ctx, const char *scope,
				  int (*cb)(void *, const uint8_t *, uint64_t),
				  void *cbctx)
{
	struct sh_end *e = ctx;
	return wh_store_blobs_wanted(e->node->st, scope, cb, cbctx);
}

static inline int sh_blob_get(void *ctx, const uint8_t hash[WH_ID_BYTES],
			      const char *scope, uint64_t off, size_t max,
			      struct wh_buf *out, uint64_t *size)
{
	struct sh_end *e = ctx;
	int rc = wh_store_blob_in_scope(e->node->st, hash, scope);
	return rc ? rc
		  : wh_store_blob_get(e->node->st, hash, off, max, out, size);
}

static inline int sh_blob_part(void *ctx, const uint8_t hash[WH_ID_BYTES],
			       uint64_t size, uint64_t off, const uint8_t *p,
			       size_t n)
{
	struct sh_end *e = ctx;
	return wh_store_blob_part(e->node->st, hash, size, off, p, n, NULL);
}

static inline int sh_get_op(void *ctx, const uint8_t id[WH_ID_BYTES],
		     struct wh_buf *out)
{
	struct sh_end *e = ctx;
	return wh_store_get_op(e->node->st, id, out);
}

/* What the agent does at ingest (agent/syncio.c): first the ops whose
 * path (or a move's new path) lies within the scope, then those whose
 * case now has (its reach, store.h); the rest are refused with
 * WH_ESCOPE. */
static inline int sh_in_scope(const struct wh_slice *op, const char *scope)
{
	struct wh_op o;
	if (wh_op_decode(op->p, op->n, &o) != WH_OK)
		return 1; /* let the store refuse it with the right code */
	return wh_op_in_scope(&o, scope, strlen(scope));
}

static inline int sh_reached(struct wh_store *st, const struct wh_slice *op,
			     const char *scope)
{
	struct wh_op o;
	return wh_op_decode(op->p, op->n, &o) == WH_OK &&
	       wh_store_case_reached(st, o.code, o.seq, scope) == WH_OK;
}

static inline int sh_ingest(void *ctx, const uint8_t peer[WH_PK_BYTES],
		     const char *scope, const struct wh_slice *ops, size_t n,
		     int *results, size_t *added, size_t *refused)
{
	struct sh_end *e = ctx;
	(void)peer;
	struct wh_slice *ok = wh_xmalloc((n ? n : 1) * sizeof *ok);
	struct wh_slice *fresh = wh_xmalloc((n ? n : 1) * sizeof *fresh);
	size_t *map = wh_xmalloc((n ? n : 1) * sizeof *map);
	int *res = wh_xmalloc((n ? n : 1) * sizeof *res);
	uint8_t *done = wh_xcalloc(n ? n : 1, 1);
	size_t nf = 0;
	int rc = WH_OK;
	*added = *refused = 0;
	for (int pass = 0; pass < 2 && rc == WH_OK; pass++) {
		size_t nok = 0;
		for (size_t i = 0; i < n; i++) {
			if (done[i])
				continue;
			if (pass == 0 ? sh_in_scope(&ops[i], scope)
				      : sh_reached(e->node->st, &ops[i],
						   scope)) {
				done[i] = 1;
				map[nok] = i;
				ok[nok++] = ops[i];
			}
		}
		if (!nok)
			continue;
		struct wh_ingest_opts o = {.now_ms = sh_clock_ms};
		struct wh_ingest_result r;
		rc = wh_store_ingest(e->node->st, ok, nok, &o, res, &r);
		if (rc != WH_OK)
			break;
		*added += r.added;
		*refused += r.refused;
		for (size_t i = 0; i < nok; i++) {
			results[map[i]] = res[i];
			if (res[i] == WH_OK)
				fresh[nf++] = ok[i];
		}
	}
	for (size_t i = 0; rc == WH_OK && i < n; i++)
		if (!done[i]) {
			results[i] = WH_ESCOPE;
			(*refused)++;
			e->ingest_refused_scope++;
		}
	for (int k = 0; rc == WH_OK && k < e->nrelay; k++)
		if (nf)
			REQUIRE(wh_sync_push(e->relay[k], fresh, nf) == WH_OK);
	free(ok);
	free(fresh);
	free(map);
	free(res);
	free(done);
	return rc;
}

static inline void sh_seen_add(const uint8_t id[WH_ID_BYTES])
{
	for (size_t i = 0; i < sh_nseen; i++)
		if (!memcmp(sh_seen[i], id, WH_ID_BYTES)) {
			sh_seen_n[i]++;
			return;
		}
	if (sh_nseen == sh_seencap) {
		sh_seencap = sh_seencap ? 2 * sh_seencap : 256;
		sh_seen = wh_xrealloc(sh_seen, sh_seencap * sizeof *sh_seen);
		sh_seen_n =
		    wh_xrealloc(sh_seen_n, sh_seencap * sizeof *sh_seen_n);
	}
	memcpy(sh_seen[sh_nseen], id, WH_ID_BYTES);
	sh_seen_n[sh_nseen++] = 1;
}

static inline void sh_seen_reset(void)
{
	free(sh_seen);
	free(sh_seen_n);
	sh_seen = NULL;
	sh_seen_n = NULL;
	sh_nseen = sh_seencap = 0;
}

static inline int sh_send(void *ctx, const uint8_t *msg, size_t n)
{
	struct sh_end *e = ctx;
	struct sh_link *l = e->link;
	if (e->busy_pct && wh_test_below(&e->rng, 100) < e->busy_pct)
		return WH_EBUSY;
	l->sent_total++;
	e->bytes += n;
	e->msgs++;
	int lost = l->drop_after && l->sent_total > l->drop_after;
	struct wh_msg m;
	int dec = wh_msg_decode(msg, n, &e->z, &m) == WH_OK;
	if (dec && getenv("WH_TRACE"))
		fprintf(stderr, "%p: type %u n %u first %" PRIu64 " %zu bytes\n",
			(void *)e, m.type, m.n, m.first, n);
	if (dec && m.type == WH_MSG_OPS) {
		e->ops_bytes += m.data.n;
		e->zops += (m.flags & WH_OPS_ZSTD) != 0;
		if (l->track && !lost) {
			struct wh_slice *ops = wh_xmalloc(m.n * sizeof *ops);
			wh_msg_ops(&m, ops);
			for (uint32_t i = 0; i < m.n; i++) {
				uint8_t id[WH_ID_BYTES];
				wh_op_id(ops[i].p, ops[i].n, id);
				sh_seen_add(id);
			}
			free(ops);
		}
	}
	if (lost) {
		l->dropped++;
		return WH_OK; /* lost on the wire */
	}
	if (e->qn == e->qcap) {
		e->qcap = e->qcap ? 2 * e->qcap : 64;
		e->q = wh_xrealloc(e->q, e->qcap * sizeof *e->q);
	}
	e->q[e->qn].p = wh_xmalloc(n ? n : 1);
	memcpy(e->q[e->qn].p, msg, n);
	e->q[e->qn++].n = n;
	return WH_OK;
}

static inline uint64_t sh_now(void *ctx)
{
	(void)ctx;
	return sh_clock_ms;
}

static inline void sh_random(void *ctx, uint8_t *out, size_t n)
{
	struct sh_end *e = ctx;
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)wh_test_rand(&e->rng);
}

/* Urgent first, as the agent does (agent/syncio.c): from the store. */
static inline int sh_urgent_scope(void *ctx, const char *scope)
{
	struct sh_end *e = ctx;
	int on = 0;
	return wh_store_urgent_scope(e->node->st, scope, sh_clock_ms, &on) ==
		   WH_OK &&
	       on;
}

static inline int sh_op_urgent(void *ctx, const uint8_t *op, size_t n)
{
	struct sh_end *e = ctx;
	int u = 0;
	return wh_store_op_urgent(e->node->st, op, n, &u) == WH_OK && u;
}

static inline void sh_end_init(struct sh_end *e, struct sh_link *l,
			struct sh_node *me, struct sh_node *peer,
			uint64_t seed, uint32_t interval)
{
	struct wh_sync_io io = {
	    .ctx = e,
	    .digest = sh_digest,
	    .each_id = sh_each_id,
	    .case_reached = sh_case_reached,
	    .blobs_wanted = sh_blobs_wanted,
	    .blob_get = sh_blob_get,
	    .blob_part = sh_blob_part,
	    .get_op = sh_get_op,
	    .ingest = sh_ingest,
	    .urgent_scope = sh_urgent_scope,
	    .op_urgent = sh_op_urgent,
	    .send = sh_send,
	    .now_ms = sh_now,
	    .random = sh_random,
	};
	struct wh_sync_self self = {.key = me->key,
				    .role = me->role,
				    .path = me->path,
				    .digest_interval_ms = interval,
				    .proto_max = me->proto_max};
	e->node = me;
	e->link = l;
	e->rng = seed;
	REQUIRE(wh_sync_new(&io, &self, peer->key->pk, &e->s) == WH_OK);
}

/* A link between nodes x and y (not started). */
static inline void sh_link_init(struct sh_link *l, struct sh_node *x,
			 struct sh_node *y, uint64_t seed)
{
	memset(l, 0, sizeof *l);
	sh_end_init(&l->a, l, x, y, seed ^ 0xa, 0);
	sh_end_init(&l->b, l, y, x, seed ^ 0xb, 0);
	l->a.peer = &l->b;
	l->b.peer = &l->a;
}

static inline void sh_queue_clear(struct sh_end *e)
{
	for (size_t i = 0; i < e->qn; i++)
		free(e->q[i].p);
	e->qn = 0;
}

static inline void sh_link_fini(struct sh_link *l)
{
	sh_queue_clear(&l->a);
	sh_queue_clear(&l->b);
	free(l->a.q);
	free(l->b.q);
	wh_sync_free(l->a.s);
	wh_sync_free(l->b.s);
	wh_msg_zstd_fini(&l->a.z);
	wh_msg_zstd_fini(&l->b.z);
	memset(l, 0, sizeof *l);
}

static inline void sh_start(struct sh_link *l)
{
	REQUIRE(wh_sync_start(l->a.s) == WH_OK);
	REQUIRE(wh_sync_start(l->b.s) == WH_OK);
}

/* Deliver the messages e had queued at the start of the flight to its
 * peer's session. Returns how many; recv errors are REQUIREd away unless
 * 'lenient'. */
static inline size_t sh_deliver(struct sh_end *e, size_t upto)
{
	size_t done = 0;
	for (; done < upto; done++) {
		int rc = wh_sync_recv(e->peer->s, e->q[done].p, e->q[done].n);
		if (rc != WH_OK)
			fprintf(stderr, "recv: %s\n", wh_strerror(rc));
		REQUIRE(rc == WH_OK);
		free(e->q[done].p);
	}
	if (e->qn > done)
		memmove(e->q, e->q + done, (e->qn - done) * sizeof *e->q);
	e->qn -= done;
	return done;
}

/* Pump several links until every queue is empty (and ticks have flushed
 * parked messages). Returns the number of flights. */
static inline int sh_pump_many(struct sh_link **ls, int nl, int max_flights)
{
	int flights = 0;
	for (;;) {
		size_t qa[8], qb[8], total = 0;
		for (int i = 0; i < nl; i++) {
			/* retry anything parked by WH_EBUSY */
			(void)wh_sync_tick(ls[i]->a.s);
			(void)wh_sync_tick(ls[i]->b.s);
			qa[i] = ls[i]->a.qn;
			qb[i] = ls[i]->b.qn;
			total += qa[i] + qb[i];
		}
		if (total == 0) {
			int parked = 0;
			for (int i = 0; i < nl; i++)
				parked |= !wh_sync_idle(ls[i]->a.s) &&
					  ls[i]->a.busy_pct;
			for (int i = 0; i < nl; i++)
				parked |= !wh_sync_idle(ls[i]->b.s) &&
					  ls[i]->b.busy_pct;
			if (!parked || flights >= max_flights)
				return flights;
			continue;
		}
		if (flights >= max_flights)
			return flights;
		flights++;
		for (int i = 0; i < nl; i++) {
			sh_deliver(&ls[i]->a, qa[i]);
			sh_deliver(&ls[i]->b, qb[i]);
		}
	}
}

static inline int sh_pump(struct sh_link *l)
{
	return sh_pump_many(&l, 1, 100000);
}

/* ---- making ops ---- */

/* n new cases (create + 'updates' more ops each) by node's key, on
 * 'path', authored into its store; the ops' bytes are appended to out
 * if not NULL. */
static inline void sh_author_cases(struct sh_node *nd, const char *code,
			    const char *path, size_t ncases, int updates,
			    struct wh_buf *out)
{
	struct wh_op_draft d[64];
	size_t nd_ = 0;
	for (size_t c = 0; c < ncases; c++) {
		wh_draft_init(&d[nd_], WH_OP_CASE_CREATE, code, 0, path);
		wh_draft_str(&d[nd_], WH_F_TITLE, "楼道堆物堵塞消防通道");
		wh_draft_uint(&d[nd_], WH_F_PRIORITY, c % 4);
		nd_++;
		for (int u = 0; u < updates; u++) {
			wh_draft_init(&d[nd_], WH_OP_CASE_NOTE, code, 0, path);
			wh_draft_str(&d[nd_], WH_F_TEXT,
				     u % 2 ? "网格员现场核实，情况属实。"
					   : "已联系物业，约定明日上午清理。");
			nd_++;
		}
		if (nd_ + (size_t)updates + 1 > 64 || c + 1 == ncases) {
			REQUIRE(wh_store_author(nd->st, nd->key, d, nd_,
						sh_clock, NULL, NULL,
						out) == WH_OK);
			nd_ = 0;
		}
	}
}

static inline int sh_collect(void *ctx, const uint8_t *op, size_t n)
{
	struct wh_buf *b = ctx;
	uint8_t hdr[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16),
			  (uint8_t)(n >> 24)};
	wh_buf_append(b, hdr, 4);
	wh_buf_append(b, op, n);
	return 0;
}

/* Every op of 'from' within scope, as length-prefixed records. */
static inline void sh_dump(struct wh_store *from, const char *scope,
		    struct wh_buf *out)
{
	REQUIRE(wh_store_each_op(from, scope, sh_collect, out) == WH_OK);
}

/* Slices of the records of a dump. */
static inline size_t sh_slices(const struct wh_buf *b, struct wh_slice **out)
{
	size_t n = 0, cap = 1024;
	struct wh_slice *v = wh_xmalloc(cap * sizeof *v);
	for (size_t off = 0; off + 4 <= b->len;) {
		size_t len = (size_t)b->p[off] | (size_t)b->p[off + 1] << 8 |
			     (size_t)b->p[off + 2] << 16 |
			     (size_t)b->p[off + 3] << 24;
		if (n == cap) {
			cap *= 2;
			v = wh_xrealloc(v, cap * sizeof *v);
		}
		v[n].p = b->p + off + 4;
		v[n++].n = len;
		off += 4 + len;
	}
	*out = v;
	return n;
}

/* Ingest ops into a store in batches of 1000 (all must be taken). */
static inline void sh_ingest_all(struct wh_store *to, const struct wh_slice *v,
			  size_t n)
{
	struct wh_ingest_opts o = {.now_ms = sh_clock_ms};
	for (size_t i = 0; i < n; i += 1000) {
		size_t k = n - i < 1000 ? n - i : 1000;
		struct wh_ingest_result r;
		REQUIRE(wh_store_ingest(to, v + i, k, &o, NULL, &r) == WH_OK);
		REQUIRE(r.refused == 0);
	}
}

static inline int sh_same_digest(struct wh_store *x, struct wh_store *y,
			  const char *scope)
{
	uint8_t a[WH_ID_BYTES], b[WH_ID_BYTES];
	uint64_t ca, cb;
	REQUIRE(wh_store_digest(x, scope, a, &ca) == WH_OK);
	REQUIRE(wh_store_digest(y, scope, b, &cb) == WH_OK);
	return ca == cb && !memcmp(a, b, WH_ID_BYTES);
}

#endif
