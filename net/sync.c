/*
 * sync.c: one sync session (see sync.h for the contract, docs/protocol.md
 * for the bytes). No I/O of its own: it reads the store and emits
 * messages only through struct wh_sync_io.
 *
 * A round, as implemented:
 *   client (narrower scope, or smaller key)     server (wider scope)
 *   HELLO / DIGEST (count, digest)      ->
 *                                       <-  RECEIPT            (equal)
 *                                       <-  OPS..., RECEIPT    (client empty)
 *                                       <-  WANT(all)          (server empty)
 *                                       <-  SYMBOLS            (else)
 *   MORE (until decoded)                ->
 *                                       <-  SYMBOLS
 *   OPS... (ops only the client holds),
 *   WANT(final, keys only the server holds) ->
 *                                       <-  OPS..., RECEIPT
 *   RECEIPT                             ->
 * Each side sets in_sync when the other's signed receipt matches its own
 * digest at that moment.
 *
 * Invariants: everything sent goes through one FIFO queue, so messages
 * leave in the order they were made; ops to send are kept as a list of
 * ids and read from the store one batch at a time, only when the queue
 * has drained (memory stays O(d), not O(bytes)). Key sets, encoder and
 * decoder live only while a round needs them. Nothing a peer says is
 * used as a size before it is clamped.
 */
#include "sync_int.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

uint64_t sync_now_ms(struct wh_sync *s)
{
	return s->io.now_ms(s->io.ctx);
}

/* ---- key sets ---- */

void sync_ks_free(struct keyset *k)
{
	free(k->keys);
	free(k->ids);
	free(k->sent);
	free(k->tab);
	memset(k, 0, sizeof *k);
}

static int ks_add_cb(void *ctx, const uint8_t id[WH_ID_BYTES])
{
	struct keyset *k = ctx;
	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 1024;
		k->keys = wh_xrealloc(k->keys, k->cap * sizeof *k->keys);
		k->ids = wh_xrealloc(k->ids, k->cap * sizeof *k->ids);
	}
	uint8_t h[crypto_shorthash_BYTES];
	crypto_shorthash(h, id, WH_ID_BYTES, k->salt);
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)h[i] << (8 * i);
	k->keys[k->n] = v;
	memcpy(k->ids[k->n], id, WH_ID_BYTES);
	k->n++;
	return 0;
}

/* Slot of key in the table, or of the empty slot where it would go. */
static size_t ks_slot(const struct keyset *k, uint64_t key)
{
	size_t i = (size_t)(key ^ (key >> 29)) & k->mask;
	while (k->tab[i] && k->keys[k->tab[i] - 1] != key)
		i = (i + 1) & k->mask;
	return i;
}

/* Index the keys; a key that collides with an earlier one (a 2^-64
 * event per pair under this session's salt) is dropped for the session:
 * that op waits for the next session's salt. */
static void ks_index(struct keyset *k)
{
	size_t cap = 16;
	while (cap < 2 * k->n)
		cap *= 2;
	k->tab = wh_xcalloc(cap, sizeof *k->tab);
	k->mask = cap - 1;
	size_t out = 0;
	for (size_t i = 0; i < k->n; i++) {
		size_t slot = ks_slot(k, k->keys[i]);
		if (k->tab[slot])
			continue;
		if (out != i) {
			k->keys[out] = k->keys[i];
			memcpy(k->ids[out], k->ids[i], WH_ID_BYTES);
			slot = ks_slot(k, k->keys[out]);
		}
		k->tab[slot] = (uint32_t)(out + 1);
		out++;
	}
	k->n = out;
	k->sent = wh_xcalloc(out ? out : 1, 1);
}

int sync_ks_build(struct wh_sync *s)
{
	sync_ks_free(&s->ks);
	s->ks.salt = s->salt;
	int rc = s->io.each_id(s->io.ctx, s->scope, ks_add_cb, &s->ks);
	if (rc != WH_OK || s->ks.n > UINT32_MAX - 1) {
		sync_ks_free(&s->ks);
		return rc != WH_OK ? rc : WH_ETOOBIG;
	}
	ks_index(&s->ks);
	return WH_OK;
}

/* Entry index of key, or -1. */
long sync_ks_find(const struct keyset *k, uint64_t key)
{
	if (!k->tab)
		return -1;
	size_t slot = ks_slot(k, key);
	return k->tab[slot] ? (long)k->tab[slot] - 1 : -1;
}

/* ---- the send queue and what feeds it ---- */

/* While held, only emergencies' and plans' ops go: documents for the
 * whole area, and the one way a peer holding a stale claim learns that
 * the emergency ended (or a new one began). */
int sync_held_ok(const uint8_t *p, size_t n)
{
	struct wh_op o;
	return wh_op_decode(p, n, &o) == WH_OK &&
	       o.kind >= WH_OP_EMERGENCY && o.kind <= WH_OP_PLAN_TASK_DEL;
}

void sync_pend_add(struct wh_sync *s, const uint8_t id[WH_ID_BYTES])
{
	if (s->npend == s->pcap) {
		s->pcap = s->pcap ? 2 * s->pcap : 256;
		s->pend = wh_xrealloc(s->pend, s->pcap * sizeof *s->pend);
	}
	memcpy(s->pend[s->npend++], id, WH_ID_BYTES);
}

int sync_pend_all_cb(void *ctx, const uint8_t id[WH_ID_BYTES])
{
	sync_pend_add(ctx, id);
	return 0;
}

static void pend_clear(struct wh_sync *s)
{
	free(s->pend);
	s->pend = NULL;
	s->npend = s->ppos = s->pcap = 0;
	s->pordered = s->purgent = 0;
}

/* Take b's bytes into the queue (b is left empty). */
void sync_enqueue(struct wh_sync *s, struct wh_buf *b)
{
	if (s->qh + s->qn == s->qcap) {
		if (s->qh) {
			memmove(s->q, s->q + s->qh, s->qn * sizeof *s->q);
			s->qh = 0;
		} else {
			s->qcap = s->qcap ? 2 * s->qcap : 16;
			s->q = wh_xrealloc(s->q, s->qcap * sizeof *s->q);
		}
	}
	s->q[s->qh + s->qn++] = (struct qmsg){b->p, b->len};
	s->qbytes += b->len;
	memset(b, 0, sizeof *b);
}

void sync_queue_clear(struct wh_sync *s)
{
	for (size_t i = 0; i < s->qn; i++)
		free(s->q[s->qh + i].p);
	s->qh = s->qn = s->qbytes = 0;
}

/* An OPS message of n ops (bins as wh_msg_ops_add wrote them) into
 * out: compressed when the link speaks version 2 and it pays. Batches
 * are cut by raw size, so WH_SYNC_BATCH_BYTES bounds what the peer
 * decompresses as well as what it ingests per transaction. */
void sync_ops_msg(struct wh_sync *s, uint32_t flags, uint32_t n,
		  const struct wh_buf *bins, struct wh_buf *out)
{
	struct wh_msg_zstd *z = s->proto >= WH_SYNC_PROTO_ZSTD ? &s->z : NULL;
	wh_msg_ops_pack(out, flags, n, bins->p, bins->len, z);
}

/* Whether the shared scope is in an emergency now (io's urgent_scope;
 * 0 without the hooks). */
int sync_urgent_scope(struct wh_sync *s)
{
	return s->io.urgent_scope && s->io.op_urgent && s->scope[0] &&
	       s->io.urgent_scope(s->io.ctx, s->scope) == 1;
}

/* The digest interval now: shortened while the scope is in an
 * emergency (asked once per interval, not per tick). */
uint32_t sync_interval_now(struct wh_sync *s)
{
	return sync_urgent_scope(s) ? wh_sync_urgent_ms(s->interval)
				    : s->interval;
}

#define HOUR_MS 3600000u

/* Whether this hour's bytes are spent (a new hour starts afresh). */
int sync_budget_spent(struct wh_sync *s)
{
	if (!s->budget)
		return 0;
	uint64_t now = sync_now_ms(s);
	if (now < s->bsince || now - s->bsince >= HOUR_MS) {
		s->bsince = now;
		s->bused = 0;
	}
	return s->bused >= s->budget;
}

/*
 * Urgent first: the ops listed and not yet sent are put in two runs,
 * urgent then the rest, each in the order listed (a stable partition),
 * when ops were listed since the last time. Each op is read once more
 * to be classed; an op gone from the store counts as not urgent (the
 * batch skips it anyway).
 */
static void pend_order(struct wh_sync *s)
{
	if (s->pordered >= s->npend)
		return;
	s->pordered = s->npend;
	s->purgent = s->ppos;
	if (!sync_urgent_scope(s) && !(s->budget && s->io.op_urgent))
		return;
	size_t n = s->npend - s->ppos, nu = 0;
	uint8_t *cls = wh_xmalloc(n);
	struct wh_buf one = {0};
	for (size_t i = 0; i < n; i++) {
		wh_buf_reset(&one);
		cls[i] = s->io.get_op(s->io.ctx, s->pend[s->ppos + i],
				      &one) == WH_OK &&
			 s->io.op_urgent(s->io.ctx, one.p, one.len) == 1;
		nu += cls[i];
	}
	wh_buf_fini(&one);
	if (nu && nu < n) {
		uint8_t(*tmp)[WH_ID_BYTES] = wh_xmalloc(n * sizeof *tmp);
		size_t k = 0;
		for (int pass = 1; pass >= 0; pass--)
			for (size_t i = 0; i < n; i++)
				if (cls[i] == pass)
					memcpy(tmp[k++], s->pend[s->ppos + i],
					       WH_ID_BYTES);
		memcpy(s->pend + s->ppos, tmp, n * sizeof *tmp);
		free(tmp);
	}
	free(cls);
	s->purgent = s->ppos + nu;
}

/* One OPS message of the next pending ops, up to WH_SYNC_BATCH_BYTES
 * (a single larger op goes alone). Ops gone from the store are skipped. */
static int build_ops_batch(struct wh_sync *s)
{
	struct wh_buf ops = {0}, one = {0}, msg = {0};
	uint32_t cnt = 0, urg = 0;
	int rc = WH_OK;
	pend_order(s);
	int spent = sync_budget_spent(s);
	if (spent && s->ppos >= s->purgent && s->ppos < s->npend) {
		/* Only urgent ops on a spent budget: the rest wait for the
		 * next hour's anti-entropy. */
		s->stats.budget_held += s->npend - s->ppos;
		s->ppos = s->npend;
	}
	size_t cap = WH_SYNC_BATCH_BYTES;
	if (s->budget && !spent && s->budget - s->bused < cap)
		cap = (size_t)(s->budget - s->bused); /* what the hour has */
	while (s->ppos < s->npend && cnt < WH_MSG_MAX_OPS &&
	       !(spent && s->ppos >= s->purgent)) {
		wh_buf_reset(&one);
		rc = s->io.get_op(s->io.ctx, s->pend[s->ppos], &one);
		if (rc == WH_ENOTFOUND) {
			s->ppos++;
			rc = WH_OK;
			continue;
		}
		if (rc != WH_OK) {
			s->ppos = s->npend; /* this step fails; AE retries */
			break;
		}
		if (s->hold && !sync_held_ok(one.p, one.len)) {
			s->ppos++; /* held: the peer gets nothing else */
			continue;
		}
		if (cnt > 0 && ops.len + one.len + 5 >
				   (s->ppos < s->purgent ? WH_SYNC_BATCH_BYTES
							 : cap))
			break;
		wh_msg_ops_add(&ops, one.p, one.len);
		cnt++;
		urg += s->ppos < s->purgent;
		s->ppos++;
	}
	if (cnt) {
		sync_ops_msg(s, WH_OPS_SYNC, cnt, &ops, &msg);
		sync_enqueue(s, &msg);
		s->stats.ops_out += cnt;
		s->stats.urgent_out += urg;
	}
	wh_buf_fini(&ops);
	wh_buf_fini(&one);
	if (s->ppos >= s->npend)
		pend_clear(s);
	return rc;
}

int sync_send_receipt(struct wh_sync *s)
{
	uint8_t dig[WH_ID_BYTES];
	uint64_t cnt;
	int rc = s->io.digest(s->io.ctx, s->scope, dig, &cnt);
	if (rc != WH_OK)
		return rc;
	s->local_count = cnt;
	struct wh_buf b = {0};
	wh_msg_receipt(&b, s->key, s->scope, cnt, dig, sync_now_ms(s));
	sync_enqueue(s, &b);
	return WH_OK;
}

static void build_wants(struct wh_sync *s)
{
	size_t i = 0;
	do {
		size_t n = s->nwk - i;
		if (n > WH_MSG_MAX_KEYS)
			n = WH_MSG_MAX_KEYS;
		uint32_t fl = i + n == s->nwk ? WH_WANT_FINAL : 0;
		struct wh_buf b = {0};
		wh_msg_want(&b, s->scope, s->round, fl, s->wk + i, n);
		sync_enqueue(s, &b);
		i += n;
	} while (i < s->nwk);
	free(s->wk);
	s->wk = NULL;
	s->nwk = 0;
}

/*
 * Send what is queued until the transport says WH_EBUSY; when the queue
 * is empty, make the next message of what is pending (ops, then the
 * client's WANTs, then the server's RECEIPT). Returns WH_OK (sent or
 * parked) or the first io failure.
 */
int sync_flush(struct wh_sync *s)
{
	int rc = WH_OK;
	unsigned pieces = 0;
	for (;;) {
		if (s->qn) {
			struct qmsg *m = &s->q[s->qh];
			int src = s->io.send(s->io.ctx, m->p, m->n);
			if (src == WH_EBUSY)
				return rc;
			if (src == WH_OK) {
				s->stats.msgs_out++;
				s->stats.bytes_out += m->n;
				if (s->budget) {
					(void)sync_budget_spent(s);
					s->bused += m->n;
				}
			} else if (rc == WH_OK) {
				rc = src; /* dropped; the round will retry */
			}
			s->qbytes -= m->n;
			free(m->p);
			s->qh++;
			if (--s->qn == 0)
				s->qh = 0;
			continue;
		}
		if (s->ppos < s->npend) {
			int brc = build_ops_batch(s);
			if (brc != WH_OK && rc == WH_OK)
				rc = brc;
			continue;
		}
		if (s->want_tail) {
			s->want_tail = 0;
			build_wants(s);
			continue;
		}
		if (s->receipt_tail) {
			s->receipt_tail = 0;
			int rrc = sync_send_receipt(s);
			if (rrc != WH_OK && rc == WH_OK)
				rc = rrc;
			continue;
		}
		/* Attachment content last, a few pieces a flush. */
		if (s->nserve && pieces++ < BLOB_CHUNKS_PER_FLUSH &&
		    sync_blob_serve(s))
			continue;
		return rc;
	}
}

void sync_send_error(struct wh_sync *s, int code, const char *text)
{
	struct wh_buf b = {0};
	wh_msg_bye(&b, WH_MSG_ERROR, code, text);
	sync_enqueue(s, &b);
}

/* ---- rounds ---- */

/* Forget the current round's working state (not what is queued). */
void sync_round_reset(struct wh_sync *s)
{
	sync_ks_free(&s->ks);
	wh_riblt_enc_free(s->enc);
	s->enc = NULL;
	wh_riblt_dec_free(s->dec);
	s->dec = NULL;
	pend_clear(s);
	free(s->wk);
	s->wk = NULL;
	s->nwk = 0;
	s->want_tail = s->receipt_tail = 0;
	s->st = R_IDLE;
}

uint64_t sync_clamp_peer(uint64_t n)
{
	return n > PEER_N_CLAMP ? PEER_N_CLAMP : n;
}

/* Server: produce and queue 'how' more symbols (clamped to the bound). */
int sync_send_symbols(struct wh_sync *s, uint64_t how)
{
	uint64_t done = wh_riblt_enc_count(s->enc);
	if (done + how > s->enc_max)
		how = s->enc_max - done;
	if (how == 0) {
		sync_send_error(s, WH_ETOOBIG, "reconciliation did not converge");
		sync_round_reset(s);
		return sync_flush(s);
	}
	size_t chunk = how < WH_MSG_MAX_SYMS ? (size_t)how : WH_MSG_MAX_SYMS;
	struct wh_riblt_sym *syms = wh_xmalloc(chunk * sizeof *syms);
	while (how) {
		size_t n = how < chunk ? (size_t)how : chunk;
		uint64_t first = wh_riblt_enc_count(s->enc);
		wh_riblt_enc_next(s->enc, syms, n);
		struct wh_buf b = {0};
		wh_msg_symbols_write(&b, s->scope, s->round, first, syms, n);
		sync_enqueue(s, &b);
		how -= n;
	}
	free(syms);
	return sync_flush(s);
}

/* Server: the client's (count, digest) of the shared scope arrived. */
int sync_server_round(struct wh_sync *s, uint64_t peer_n,
			const uint8_t peer_dig[WH_ID_BYTES], uint32_t round)
{
	uint8_t dig[WH_ID_BYTES];
	uint64_t cnt;
	sync_round_reset(s);
	s->round = round;
	s->peer_n = s->peer_count = peer_n;
	s->round_ms = sync_now_ms(s);
	int rc = s->io.digest(s->io.ctx, s->scope, dig, &cnt);
	if (rc != WH_OK)
		return rc;
	s->local_count = cnt;
	if (cnt == peer_n && !memcmp(dig, peer_dig, WH_ID_BYTES)) {
		s->in_sync = 1;
		s->last_sync_ms = sync_now_ms(s);
		s->stats.rounds++;
		if ((rc = sync_send_receipt(s)) != WH_OK)
			return rc;
		return sync_flush(s);
	}
	s->in_sync = 0;
	if (peer_n == 0) {
		/* The client holds nothing here: no symbols, just the ops. */
		rc = s->io.each_id(s->io.ctx, s->scope, sync_pend_all_cb, s);
		if (rc != WH_OK) {
			sync_round_reset(s);
			return rc;
		}
		s->receipt_tail = 1;
		s->stats.rounds++;
		return sync_flush(s);
	}
	if (cnt == 0) {
		/* We hold nothing: ask for everything. */
		struct wh_buf b = {0};
		wh_msg_want(&b, s->scope, s->round,
			    WH_WANT_ALL | WH_WANT_FINAL, NULL, 0);
		sync_enqueue(s, &b);
		s->st = R_S_WANT;
		return sync_flush(s);
	}
	if ((rc = sync_ks_build(s)) != WH_OK)
		return rc;
	if ((rc = wh_riblt_enc_new(s->ks.keys, s->ks.n, &s->enc)) != WH_OK) {
		sync_round_reset(s);
		return rc;
	}
	s->enc_max = 2 * (s->ks.n + sync_clamp_peer(peer_n)) + 1024;
	s->st = R_S_SYMBOLS;
	/* The count difference is a floor for the set difference; most
	 * one-sided gaps decode within 1.5x of it in this first batch. */
	uint64_t delta = cnt > peer_n ? cnt - peer_n : peer_n - cnt;
	uint64_t first = FIRST_MIN + delta + delta / 2;
	if (first > WH_MSG_MAX_SYMS)
		first = WH_MSG_MAX_SYMS;
	return sync_send_symbols(s, first);
}

/* Client: a round just decoded (or was answered with WANT(all)); send
 * our ops the server lacks, then WANT the keys we lack. */
void sync_client_finish_decode(struct wh_sync *s)
{
	const uint64_t *keys;
	size_t n = wh_riblt_dec_local(s->dec, &keys);
	for (size_t i = 0; i < n; i++) {
		long e = sync_ks_find(&s->ks, keys[i]);
		if (e >= 0)
			sync_pend_add(s, s->ks.ids[e]);
	}
	n = wh_riblt_dec_remote(s->dec, &keys);
	s->wk = wh_xmalloc((n ? n : 1) * sizeof *s->wk);
	if (n)
		memcpy(s->wk, keys, n * sizeof *keys);
	s->nwk = n;
	s->want_tail = 1;
	wh_riblt_dec_free(s->dec);
	s->dec = NULL;
	sync_ks_free(&s->ks);
	s->st = R_C_FINAL;
}

/* How many more symbols to ask for: about 1.6x the estimated difference
 * in total, but at least half as many again (each request costs a round
 * trip); past doubling only when the estimate says so. */
uint64_t sync_more_count(const struct wh_sync *s)
{
	uint64_t have = wh_riblt_dec_count(s->dec);
	uint64_t est = wh_riblt_dec_estimate(s->dec);
	uint64_t target = est + est / 2 + est / 10 + 2 * FIRST_MIN;
	uint64_t lo = have / 2 > FIRST_MIN ? have / 2 : FIRST_MIN;
	/* Before the estimate is worth trusting, grow by 4x rather than
	 * 2x: a gap the counts cannot see (both sides changed the same
	 * number of ops) then costs two extra round trips, not four, for
	 * at most ~3 KiB of surplus symbols. */
	uint64_t hi = 3 * (have > FIRST_MIN ? have : FIRST_MIN);
	uint64_t k = target > have ? target - have : 0;
	if (k > hi && have >= 4 * FIRST_MIN)
		hi = k; /* estimate from enough symbols: trust it */
	if (k < lo)
		k = lo;
	if (k > hi)
		k = hi;
	if (k > WH_MSG_MAX_MORE)
		k = WH_MSG_MAX_MORE;
	return k;
}

int sync_client_round_start(struct wh_sync *s)
{
	uint8_t dig[WH_ID_BYTES];
	uint64_t cnt;
	sync_round_reset(s);
	int rc = s->io.digest(s->io.ctx, s->scope, dig, &cnt);
	if (rc != WH_OK)
		return rc;
	s->local_count = cnt;
	s->round++;
	struct wh_buf b = {0};
	wh_msg_digest(&b, s->scope, s->round, cnt, dig);
	sync_enqueue(s, &b);
	s->st = R_C_WAIT;
	s->round_ms = sync_now_ms(s);
	return sync_flush(s);
}

/* ---- garbage accounting ---- */

/* A malformed or forged message: counted; too many in a minute and the
 * link should go. */
int sync_strike(struct wh_sync *s)
{
	uint64_t now = sync_now_ms(s);
	s->stats.dropped++;
	if (now - s->bad_since > BAD_WINDOW_MS || now < s->bad_since) {
		s->bad_since = now;
		s->bad = 0;
	}
	return ++s->bad >= BAD_MAX ? WH_EDENIED : WH_OK;
}

/* Well-formed but unexpected now (stale round, wrong scope): counted
 * only, since a restart or a late message makes those honestly. */
int sync_drop(struct wh_sync *s)
{
	s->stats.dropped++;
	return WH_OK;
}

