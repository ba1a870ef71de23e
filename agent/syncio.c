/*
 * syncio.c: struct wh_sync_io over the store, with the scope rule of
 * ingest (see syncio.h), and the peer status records.
 *
 * Ops are classified before they reach wh_store_ingest, from their
 * decoded fields (decode is cheap; the store decodes again and checks
 * clock and signature). The first pass also runs as a store policy, so
 * the rule holds even if classification and storage ever disagree.
 */
#include "syncio.h"

#include "mp.h"
#include "roster.h"

#include <sodium.h>
#include <string.h>

static struct syncio *S(void *ctx) { return ctx; }

static int io_digest(void *ctx, const char *scope, uint8_t out[WH_ID_BYTES],
		     uint64_t *count)
{
	return wh_store_digest(S(ctx)->store, scope, out, count);
}

static int io_each_id(void *ctx, const char *scope,
		      int (*cb)(void *cbctx, const uint8_t id[WH_ID_BYTES]),
		      void *cbctx)
{
	return wh_store_each_id(S(ctx)->store, scope, cb, cbctx);
}

static int io_case_reached(void *ctx, const char *code, uint32_t seq,
			   const char *scope)
{
	return wh_store_case_reached(S(ctx)->store, code, seq, scope) ==
	       WH_OK;
}

static int io_blobs_wanted(void *ctx, const char *scope,
			   int (*cb)(void *cbctx,
				     const uint8_t hash[WH_ID_BYTES],
				     uint64_t size),
			   void *cbctx)
{
	return wh_store_blobs_wanted(S(ctx)->store, scope, cb, cbctx);
}

/* Only content that an op in the link's scope names leaves the store. */
static int io_blob_get(void *ctx, const uint8_t hash[WH_ID_BYTES],
		       const char *scope, uint64_t off, size_t max,
		       struct wh_buf *out, uint64_t *size)
{
	struct wh_store *st = S(ctx)->store;
	int rc = wh_store_blob_in_scope(st, hash, scope);
	return rc ? rc : wh_store_blob_get(st, hash, off, max, out, size);
}

static int io_blob_part(void *ctx, const uint8_t hash[WH_ID_BYTES],
			uint64_t size, uint64_t off, const uint8_t *p,
			size_t n)
{
	return wh_store_blob_part(S(ctx)->store, hash, size, off, p, n,
				  NULL);
}

static int io_get_op(void *ctx, const uint8_t id[WH_ID_BYTES],
		     struct wh_buf *out)
{
	return wh_store_get_op(S(ctx)->store, id, out);
}

/* First pass: the op's own bytes put it in scope (wh_op_in_scope). */
static int first_pass(const struct wh_op *op, const char *scope)
{
	return wh_op_in_scope(op, scope, strlen(scope));
}

static int admit_first(void *ctx, const struct wh_op *op)
{
	return first_pass(op, ctx) ? WH_OK : WH_ESCOPE;
}

/* Second pass: the case has lain within scope here (its ops are in the
 * scope's set, store.h), counting what the first pass just stored. */
static int case_in_scope(struct wh_store *s, const struct wh_op *op,
			 const char *scope)
{
	return wh_store_case_reached(s, op->code, op->seq, scope) == WH_OK;
}

/* Ingest the ops whose class is 'want', mapping results back. */
static int ingest_class(struct wh_store *s, const struct wh_slice *ops,
			size_t n, const uint8_t *cls, uint8_t want,
			const struct wh_store_policy *pol, int *results)
{
	struct wh_slice *sub = wh_xcalloc(n ? n : 1, sizeof *sub);
	int *res = wh_xcalloc(n ? n : 1, sizeof *res);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (cls[i] == want)
			sub[k++] = ops[i];
	int rc = WH_OK;
	if (k) {
		struct wh_ingest_opts o = {.now_ms = 0, .policy = pol};
		rc = wh_store_ingest(s, sub, k, &o, res, NULL);
		for (size_t i = 0, j = 0; rc == WH_OK && i < n; i++)
			if (cls[i] == want)
				results[i] = res[j++];
	}
	free(sub);
	free(res);
	return rc;
}

enum { C_UNDECIDED = 0, C_FIRST = 1, C_SECOND = 2, C_DONE = 3 };

static int io_ingest(void *ctx, const uint8_t peer[WH_PK_BYTES],
		     const char *scope, const struct wh_slice *ops, size_t n,
		     int *results, size_t *added, size_t *refused)
{
	struct syncio *sio = S(ctx);
	uint8_t *cls = wh_xcalloc(n ? n : 1, 1);
	int *res = results ? results : wh_xcalloc(n ? n : 1, sizeof *res);
	struct wh_op *op = wh_xmalloc(sizeof *op);
	/* An empty shared scope shares nothing (and would hold all). */
	int any = scope && *scope;
	for (size_t i = 0; i < n; i++) {
		res[i] = WH_ESCOPE;
		cls[i] = C_DONE;
		if (!any)
			continue;
		int rc = wh_op_decode(ops[i].p, ops[i].n, op);
		if (rc) {
			res[i] = rc;
			continue;
		}
		cls[i] = first_pass(op, scope) ? C_FIRST : C_UNDECIDED;
	}
	struct wh_store_policy pol = {admit_first, (void *)scope};
	int rc = ingest_class(sio->store, ops, n, cls, C_FIRST, &pol, res);
	for (size_t i = 0; rc == WH_OK && i < n; i++) {
		if (cls[i] != C_UNDECIDED)
			continue;
		if (wh_op_decode(ops[i].p, ops[i].n, op) == WH_OK &&
		    case_in_scope(sio->store, op, scope))
			cls[i] = C_SECOND;
	}
	if (rc == WH_OK)
		rc = ingest_class(sio->store, ops, n, cls, C_SECOND, NULL, res);
	free(op);
	free(cls);
	size_t a = 0, r = 0;
	for (size_t i = 0; rc == WH_OK && i < n; i++) {
		if (res[i] == WH_OK)
			a++;
		else if (res[i] != WH_EEXIST)
			r++;
	}
	if (added)
		*added = a;
	if (refused)
		*refused = r;
	if (rc == WH_OK && sio->on_ingest)
		sio->on_ingest(sio->ctx, peer, ops, n, res);
	if (res != results)
		free(res);
	return rc;
}

struct roster_each_ctx {
	int (*cb)(void *, const uint8_t *, uint64_t, const uint8_t *, size_t);
	void *cbctx;
};

static int roster_one(void *ctx, const uint8_t *p, size_t n)
{
	struct roster_each_ctx *e = ctx;
	struct wh_roster r;
	int rc = wh_roster_decode(p, n, &r);
	if (rc == WH_OK)
		rc = e->cb(e->cbctx, r.signer, r.serial, p, n);
	else
		rc = WH_OK; /* checked when installed: cannot happen */
	wh_roster_fini(&r);
	return rc;
}

/* Rosters are listed with their signer and serial, which only a decode
 * tells; a handful of small rosters per HELLO makes that cheap. */
static int io_roster_each(void *ctx,
			  int (*cb)(void *cbctx,
				    const uint8_t signer[WH_PK_BYTES],
				    uint64_t serial, const uint8_t *p,
				    size_t n),
			  void *cbctx)
{
	struct roster_each_ctx e = {cb, cbctx};
	int rc = wh_store_roster_each(S(ctx)->store, roster_one, &e);
	return rc == WH_ENOTFOUND ? WH_OK : rc;
}

static int io_roster_put(void *ctx, const uint8_t peer[WH_PK_BYTES],
			 const uint8_t *p, size_t n)
{
	struct syncio *sio = S(ctx);
	struct wh_roster_change ch;
	int rc = wh_store_roster_put(sio->store, p, n, &ch, NULL);
	if (rc == WH_OK && sio->on_roster)
		sio->on_roster(sio->ctx, peer, p, n, &ch);
	return rc;
}

static uint64_t io_now(void *ctx)
{
	(void)ctx;
	return wh_clock_realtime(NULL);
}

static void io_random(void *ctx, uint8_t *out, size_t n)
{
	(void)ctx;
	randombytes_buf(out, n);
}

/* Urgent first: both from the store (wh_store_urgent_scope,
 * wh_store_op_urgent), so the order follows signed facts. */
static int io_urgent_scope(void *ctx, const char *scope)
{
	int on = 0;
	return wh_store_urgent_scope(S(ctx)->store, scope,
				     wh_clock_realtime(NULL), &on) == WH_OK &&
	       on;
}

static int io_op_urgent(void *ctx, const uint8_t *op, size_t n)
{
	int u = 0;
	return wh_store_op_urgent(S(ctx)->store, op, n, &u) == WH_OK && u;
}

/* Neighbour relay: the store's rule (wh_store_relay_claim). */
static int io_may_claim(void *ctx, const char *trusted, const char *claimed)
{
	int ok = 0;
	return wh_store_relay_claim(S(ctx)->store, trusted, claimed,
				    wh_clock_realtime(NULL), &ok) == WH_OK &&
	       ok;
}

struct wh_sync_io syncio_io(struct syncio *sio)
{
	struct wh_sync_io io = {
		.ctx = sio,
		.digest = io_digest,
		.each_id = io_each_id,
		.case_reached = io_case_reached,
		.blobs_wanted = io_blobs_wanted,
		.blob_get = io_blob_get,
		.blob_part = io_blob_part,
		.get_op = io_get_op,
		.ingest = io_ingest,
		.roster_each = io_roster_each,
		.roster_put = io_roster_put,
		.urgent_scope = io_urgent_scope,
		.op_urgent = io_op_urgent,
		.may_claim = io_may_claim,
		.send = NULL,
		.now_ms = io_now,
		.random = io_random,
	};
	return io;
}

/* ---- peer records ------------------------------------------------ */

#define NFIELDS 21
#define NBUDGET 3 /* written only with a budget */

void peer_rec_encode(const struct peer_rec *r, struct wh_buf *b)
{
	wh_mpw_map(b, NFIELDS - (r->have_receipt ? 0 : 2) +
			      (r->budget ? NBUDGET : 0));
#define KS(k, v) (wh_mpw_cstr(b, k), wh_mpw_cstr(b, v))
#define KU(k, v) (wh_mpw_cstr(b, k), wh_mpw_uint(b, v))
#define KB(k, v) (wh_mpw_cstr(b, k), wh_mpw_bool(b, (v) != 0))
	KS("name", r->name);
	KS("path", r->path);
	KS("role", r->role);
	KS("endpoint", r->endpoint);
	KS("scope", r->scope);
	KB("connected", r->connected);
	KB("outbound", r->outbound);
	KU("at", r->at_ms);
	KU("since", r->since_ms);
	KU("last_sync", r->last_sync_ms);
	KB("in_sync", r->in_sync);
	KU("local_count", r->local_count);
	KU("peer_count", r->peer_count);
	KU("sent", r->sent);
	KU("received", r->received);
	KU("refused", r->refused);
	KU("dropped", r->dropped);
	KU("rounds", r->rounds);
	if (r->have_receipt) {
		wh_mpw_cstr(b, "receipt_digest");
		wh_mpw_bin(b, r->receipt_digest, WH_ID_BYTES);
		KU("receipt_ms", r->receipt_ms);
	}
	KB("have_receipt", r->have_receipt);
	if (r->budget) {
		KU("budget", r->budget);
		KU("budget_used", r->budget_used);
		KU("budget_held", r->budget_held);
	}
#undef KS
#undef KU
#undef KB
}

static int read_str(struct wh_mp *m, char *dst, size_t cap)
{
	struct wh_slice s;
	int rc = wh_mp_read_str(m, &s, cap - 1);
	if (rc)
		return rc;
	memcpy(dst, s.p, s.n);
	dst[s.n] = '\0';
	return WH_OK;
}

static int read_bool(struct wh_mp *m, int *dst)
{
	bool v;
	int rc = wh_mp_read_bool(m, &v);
	if (!rc)
		*dst = v;
	return rc;
}

int peer_rec_decode(const uint8_t *p, size_t n, struct peer_rec *r)
{
	memset(r, 0, sizeof *r);
	struct wh_mp m;
	wh_mp_init(&m, p, n);
	uint32_t nk;
	if (wh_mp_read_map(&m, &nk, 64))
		return WH_EDECODE;
	struct {
		const char *k;
		char *s;
		size_t cap;
		uint64_t *u;
		int *b;
	} f[] = {
		{"name", r->name, sizeof r->name, NULL, NULL},
		{"path", r->path, sizeof r->path, NULL, NULL},
		{"role", r->role, sizeof r->role, NULL, NULL},
		{"endpoint", r->endpoint, sizeof r->endpoint, NULL, NULL},
		{"scope", r->scope, sizeof r->scope, NULL, NULL},
		{"connected", NULL, 0, NULL, &r->connected},
		{"outbound", NULL, 0, NULL, &r->outbound},
		{"at", NULL, 0, &r->at_ms, NULL},
		{"since", NULL, 0, &r->since_ms, NULL},
		{"last_sync", NULL, 0, &r->last_sync_ms, NULL},
		{"in_sync", NULL, 0, NULL, &r->in_sync},
		{"local_count", NULL, 0, &r->local_count, NULL},
		{"peer_count", NULL, 0, &r->peer_count, NULL},
		{"sent", NULL, 0, &r->sent, NULL},
		{"received", NULL, 0, &r->received, NULL},
		{"refused", NULL, 0, &r->refused, NULL},
		{"dropped", NULL, 0, &r->dropped, NULL},
		{"rounds", NULL, 0, &r->rounds, NULL},
		{"receipt_ms", NULL, 0, &r->receipt_ms, NULL},
		{"have_receipt", NULL, 0, NULL, &r->have_receipt},
		{"budget", NULL, 0, &r->budget, NULL},
		{"budget_used", NULL, 0, &r->budget_used, NULL},
		{"budget_held", NULL, 0, &r->budget_held, NULL},
	};
	for (uint32_t i = 0; i < nk; i++) {
		struct wh_slice k;
		if (wh_mp_read_str(&m, &k, 64))
			return WH_EDECODE;
		int rc = WH_ENOTFOUND;
		for (size_t j = 0; j < sizeof f / sizeof f[0]; j++) {
			if (strlen(f[j].k) != k.n || memcmp(f[j].k, k.p, k.n))
				continue;
			if (f[j].s)
				rc = read_str(&m, f[j].s, f[j].cap);
			else if (f[j].u)
				rc = wh_mp_read_uint(&m, f[j].u);
			else
				rc = read_bool(&m, f[j].b);
			break;
		}
		if (rc == WH_ENOTFOUND && k.n == 14 &&
		    !memcmp(k.p, "receipt_digest", 14))
			rc = wh_mp_read_bin_fixed(&m, r->receipt_digest,
						  WH_ID_BYTES);
		else if (rc == WH_ENOTFOUND)
			rc = wh_mp_skip(&m, 8);
		if (rc)
			return WH_EDECODE;
	}
	return wh_mp_left(&m) ? WH_EDECODE : WH_OK;
}

int peer_rec_put(struct wh_store *s, const uint8_t pk[WH_PK_BYTES],
		 const struct peer_rec *r)
{
	char name[5 + 2 * WH_PK_BYTES + 1];
	memcpy(name, "peer/", 5);
	wh_hex(pk, WH_PK_BYTES, name + 5);
	struct wh_buf b = {0};
	peer_rec_encode(r, &b);
	int rc = wh_store_state_put(s, name, b.p, b.len);
	wh_buf_fini(&b);
	return rc;
}
