/*
 * sync_recv.c: the handlers of the peer's messages and the public entry
 * points of a sync session (sync.h). The round logic they drive, the
 * queue and the key sets are in sync.c.
 */
#include "sync_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- handlers of peer messages ---- */

static int on_hello(struct wh_sync *s, const struct wh_msg *m)
{
	if (m->proto_max < WH_SYNC_PROTO_MIN || m->proto_min > s->proto_max) {
		char text[64];
		snprintf(text, sizeof text,
			 "this agent speaks protocol versions %u to %u",
			 WH_SYNC_PROTO_MIN, (unsigned)s->proto_max);
		sync_send_error(s, WH_EVERSION, text);
		s->hello_done = 0;
		s->proto = 0;
		return sync_flush(s);
	}
	int again = s->hello_done;
	sync_round_reset(s);
	/* The newest version both offer. A version-1 agent checks only
	 * that 1 lies in our range, so offering 2 costs it nothing. */
	s->proto = m->proto_max < s->proto_max ? m->proto_max : s->proto_max;
	memcpy(s->peer_path, m->path, sizeof s->peer_path);
	s->peer_role = m->role <= WH_ROLE_OTHER ? (enum wh_role)m->role
						: WH_ROLE_OTHER;
	s->peer_hello_count = m->count;
	for (int i = 0; i < WH_MSG_SALT_BYTES; i++)
		s->salt[i] = s->my_salt[i] ^ m->salt[i];
	wh_sync_shared_scope(s->path, m->path, s->scope);
	s->hello_done = 1;
	s->in_sync = 0;
	s->round = 0;
	uint64_t now = sync_now_ms(s);
	s->next_digest_ms = now + sync_interval_now(s);
	if (again) {
		/* The peer started over while we were up: it needs our
		 * HELLO again (it does not answer ours: its hello_done was
		 * 0, so this cannot ping-pong). */
		uint8_t dig[WH_ID_BYTES];
		uint64_t cnt;
		int rc = s->io.digest(s->io.ctx, s->path, dig, &cnt);
		if (rc != WH_OK)
			return rc;
		struct wh_buf b = {0};
		wh_msg_hello(&b, s->proto_max, s->role, s->path, s->my_salt,
			     cnt, dig, now);
		sync_enqueue(s, &b);
	}
	/* Rosters first, even with nothing in common: they hold for the
	 * whole district. */
	int rrc = sync_send_rsum(s);
	if (rrc != WH_OK)
		return rrc;
	if (!s->scope[0])
		return sync_flush(s); /* nothing in common: the link stays idle */
	int cmp = strcmp(s->scope, s->path);
	s->is_server = cmp != 0 || (!strcmp(s->scope, s->peer_path) &&
				    memcmp(s->key->pk, s->peer_pk,
					   WH_PK_BYTES) > 0);
	if (s->is_server)
		return sync_server_round(s, m->count, m->digest, 0);
	/* Client: our HELLO carried our digest of the scope and opened
	 * round 0; the server answers it. */
	s->st = R_C_WAIT;
	s->round_ms = now;
	return sync_flush(s);
}

static int on_symbols(struct wh_sync *s, const struct wh_msg *m)
{
	int rc;
	if (s->is_server || s->st != R_C_WAIT || m->round != s->round)
		return sync_drop(s);
	if (!s->dec) {
		if (m->first != 0)
			return sync_drop(s);
		if ((rc = sync_ks_build(s)) != WH_OK)
			return rc;
		uint64_t max = 2 * (s->ks.n + sync_clamp_peer(s->peer_hello_count)) +
			       1024;
		if ((rc = wh_riblt_dec_new(s->ks.keys, s->ks.n, max,
					   &s->dec)) != WH_OK) {
			sync_round_reset(s);
			return rc;
		}
		s->expect_end = m->n; /* the first batch is one message */
	}
	if (m->first != wh_riblt_dec_count(s->dec))
		return sync_drop(s);
	s->round_ms = sync_now_ms(s);
	struct wh_riblt_sym *syms = wh_xmalloc(m->n * sizeof *syms);
	wh_msg_symbols(m, syms);
	rc = wh_riblt_dec_add(s->dec, syms, m->n);
	free(syms);
	if (rc != WH_OK) {
		sync_send_error(s, rc, "reconciliation did not converge");
		sync_round_reset(s);
		return sync_flush(s);
	}
	if (wh_riblt_dec_done(s->dec)) {
		sync_client_finish_decode(s);
		return sync_flush(s);
	}
	uint64_t have = wh_riblt_dec_count(s->dec);
	if (have < s->expect_end)
		return WH_OK; /* more of this batch is on its way */
	uint64_t k = sync_more_count(s);
	s->expect_end = have + k;
	struct wh_buf b = {0};
	wh_msg_more(&b, s->scope, s->round, have, (uint32_t)k);
	sync_enqueue(s, &b);
	return sync_flush(s);
}

static int on_more(struct wh_sync *s, const struct wh_msg *m)
{
	if (!s->is_server || s->st != R_S_SYMBOLS || m->round != s->round ||
	    m->first != wh_riblt_enc_count(s->enc))
		return sync_drop(s);
	s->round_ms = sync_now_ms(s);
	return sync_send_symbols(s, m->n);
}

static int on_want(struct wh_sync *s, const struct wh_msg *m)
{
	if (m->round != s->round)
		return sync_drop(s);
	if (!s->is_server) {
		/* WANT(all): the server holds nothing in scope. */
		if (s->st != R_C_WAIT ||
		    m->flags != (WH_WANT_ALL | WH_WANT_FINAL))
			return sync_drop(s);
		sync_round_reset(s);
		int rc = s->io.each_id(s->io.ctx, s->scope, sync_pend_all_cb, s);
		if (rc != WH_OK)
			return rc;
		s->want_tail = 1; /* an empty final WANT ends our part */
		s->st = R_C_FINAL;
		s->round_ms = sync_now_ms(s);
		return sync_flush(s);
	}
	if ((s->st != R_S_SYMBOLS && s->st != R_S_WANT) ||
	    (m->flags & WH_WANT_ALL))
		return sync_drop(s);
	if (s->st == R_S_SYMBOLS) {
		for (uint32_t i = 0; i < m->n; i++) {
			long e = sync_ks_find(&s->ks, wh_msg_key(m, i));
			if (e < 0 || s->ks.sent[e])
				continue; /* unknown, or asked twice */
			s->ks.sent[e] = 1;
			sync_pend_add(s, s->ks.ids[e]);
		}
	}
	s->round_ms = sync_now_ms(s);
	if (m->flags & WH_WANT_FINAL) {
		sync_ks_free(&s->ks);
		wh_riblt_enc_free(s->enc);
		s->enc = NULL;
		s->st = R_IDLE;
		s->receipt_tail = 1;
		s->stats.rounds++;
	}
	return sync_flush(s);
}

/* Refusals that only a broken or hostile peer causes. */
/* Refusals a well-behaved peer does not cause: forged or malformed ops,
 * and ops the roster refuses (a rogue member writing outside its
 * jurisdiction or role). A peer that keeps sending them is shut out. */
static int forged(int err)
{
	return err == WH_ESIG || err == WH_ENOMEMBER || err == WH_EREVOKED ||
	       err == WH_EEXPIRED || err == WH_EROLE || err == WH_EJURIS ||
	       err == WH_ESUMMON || err == WH_EDECODE || err == WH_ETRUNC ||
	       err == WH_ECANON || err == WH_EUTF8 || err == WH_EKIND ||
	       err == WH_EID || err == WH_EPATH || err == WH_EFIELD ||
	       err == WH_ETOOBIG || err == WH_EVERSION;
}

static int on_ops(struct wh_sync *s, const struct wh_msg *m)
{
	if (!s->scope[0])
		return sync_drop(s);
	if (m->n == 0)
		return WH_OK;
	struct wh_slice *ops = wh_xmalloc(m->n * sizeof *ops);
	int *res = wh_xmalloc(m->n * sizeof *res);
	size_t added = 0, refused = 0;
	wh_msg_ops(m, ops);
	for (uint32_t i = 0; i < m->n; i++)
		res[i] = WH_OK;
	int rc = s->io.ingest(s->io.ctx, s->peer_pk, s->scope, ops, m->n, res,
			      &added, &refused);
	int bad = 0;
	if (rc == WH_OK) {
		s->stats.ops_in += added;
		s->stats.refused += refused;
		for (uint32_t i = 0; i < m->n && !bad; i++)
			bad = forged(res[i]);
		if (s->st != R_IDLE)
			s->round_ms = sync_now_ms(s);
		if (added)
			s->next_blob_ms = 0; /* new ops may name photos */
		/* An emergency may just have arrived: its shorter interval
		 * starts now rather than after the long one ran out. */
		uint64_t now = sync_now_ms(s);
		if (added && !s->is_server &&
		    s->next_digest_ms > now + wh_sync_urgent_ms(s->interval) &&
		    sync_urgent_scope(s))
			s->next_digest_ms = now + wh_sync_urgent_ms(s->interval);
	}
	free(ops);
	free(res);
	if (rc != WH_OK)
		return rc;
	return bad ? sync_strike(s) : WH_OK;
}

static int on_receipt(struct wh_sync *s, const struct wh_msg *m)
{
	if (wh_msg_receipt_verify(m, s->peer_pk) != WH_OK)
		return sync_strike(s);
	if (strcmp(m->scope, s->scope) != 0)
		return sync_drop(s);
	uint8_t dig[WH_ID_BYTES];
	uint64_t cnt;
	int rc = s->io.digest(s->io.ctx, s->scope, dig, &cnt);
	if (rc != WH_OK)
		return rc;
	s->have_receipt = 1;
	memcpy(s->peer_digest, m->digest, WH_ID_BYTES);
	s->peer_receipt_ms = m->ms;
	s->peer_count = m->count;
	s->local_count = cnt;
	s->in_sync = cnt == m->count && !memcmp(dig, m->digest, WH_ID_BYTES);
	if (s->in_sync)
		s->last_sync_ms = sync_now_ms(s);
	if (!s->is_server && (s->st == R_C_WAIT || s->st == R_C_FINAL)) {
		/* The server's last word of the round: answer with ours. */
		sync_round_reset(s);
		s->stats.rounds++;
		if ((rc = sync_send_receipt(s)) != WH_OK)
			return rc;
		return sync_flush(s);
	}
	return WH_OK;
}

static int on_digest(struct wh_sync *s, const struct wh_msg *m)
{
	if (!s->is_server || strcmp(m->scope, s->scope) != 0)
		return sync_drop(s);
	return sync_server_round(s, m->count, m->digest, m->round);
}

static int on_bye(struct wh_sync *s, const struct wh_msg *m)
{
	sync_round_reset(s);
	s->in_sync = 0;
	if (m->type == WH_MSG_BYE)
		s->hello_done = 0;
	return WH_OK;
}

/* ---- the API ---- */

int wh_sync_new(const struct wh_sync_io *io, const struct wh_sync_self *self,
		const uint8_t peer_pk[WH_PK_BYTES], struct wh_sync **out)
{
	*out = NULL;
	if (!io || !self || !self->key || !self->path || !peer_pk ||
	    !io->digest || !io->each_id || !io->get_op || !io->ingest ||
	    !io->send || !io->now_ms || !io->random ||
	    !wh_path_valid(self->path, strlen(self->path)) ||
	    (unsigned)self->role > WH_ROLE_OTHER ||
	    self->proto_max > WH_SYNC_PROTO_MAX ||
	    (self->proto_max && self->proto_max < WH_SYNC_PROTO_MIN))
		return WH_EINVAL;
	struct wh_sync *s = wh_xcalloc(1, sizeof *s);
	s->io = *io;
	s->key = self->key;
	s->role = self->role;
	memcpy(s->path, self->path, strlen(self->path) + 1);
	s->interval = self->digest_interval_ms ? self->digest_interval_ms
					       : WH_SYNC_DIGEST_INTERVAL_MS;
	s->proto_max = self->proto_max ? self->proto_max : WH_SYNC_PROTO_MAX;
	memcpy(s->peer_pk, peer_pk, WH_PK_BYTES);
	*out = s;
	return WH_OK;
}

void wh_sync_free(struct wh_sync *s)
{
	if (!s)
		return;
	sync_round_reset(s);
	sync_queue_clear(s);
	free(s->q);
	wh_msg_zstd_fini(&s->z);
	wh_buf_fini(&s->blobbuf);
	free(s);
}

int wh_sync_set_path(struct wh_sync *s, const char *path)
{
	size_t n = path ? strlen(path) : 0;
	if (!n || n > WH_PATH_MAX || !wh_path_valid(path, n))
		return WH_EPATH;
	memcpy(s->path, path, n + 1);
	return WH_OK;
}

int wh_sync_start(struct wh_sync *s)
{
	uint8_t dig[WH_ID_BYTES];
	uint64_t cnt;
	sync_round_reset(s);
	sync_queue_clear(s); /* what was queued belonged to the old link */
	sync_blob_reset(s);
	s->hello_done = 0;
	s->proto = 0; /* until the peer's HELLO says what it reads */
	s->in_sync = 0;
	s->scope[0] = '\0';
	s->round = 0;
	s->io.random(s->io.ctx, s->my_salt, sizeof s->my_salt);
	int rc = s->io.digest(s->io.ctx, s->path, dig, &cnt);
	if (rc != WH_OK)
		return rc;
	uint64_t now = sync_now_ms(s);
	struct wh_buf b = {0};
	wh_msg_hello(&b, s->proto_max, s->role, s->path, s->my_salt, cnt, dig,
		     now);
	sync_enqueue(s, &b);
	s->next_digest_ms = now + s->interval;
	return sync_flush(s);
}

int wh_sync_recv(struct wh_sync *s, const uint8_t *msg, size_t n)
{
	struct wh_msg m;
	s->stats.msgs_in++;
	s->stats.bytes_in += n;
	/* Compressed OPS are decoded on any link: a peer that sends them
	 * unasked gains nothing, and they pass the same checks. */
	if (wh_msg_decode(msg, n, &s->z, &m) != WH_OK)
		return sync_strike(s);
	if (m.type == WH_MSG_HELLO)
		return on_hello(s, &m);
	if (m.type == WH_MSG_BYE || m.type == WH_MSG_ERROR)
		return on_bye(s, &m);
	if (!s->hello_done)
		return sync_drop(s); /* late message of a link that restarted */
	if (m.type != WH_MSG_OPS && m.type != WH_MSG_RECEIPT &&
	    m.type != WH_MSG_RSUM && m.type != WH_MSG_ROSTER &&
	    strcmp(m.scope, s->scope) != 0)
		return sync_drop(s);
	switch (m.type) {
	case WH_MSG_DIGEST:
		return on_digest(s, &m);
	case WH_MSG_SYMBOLS:
		return on_symbols(s, &m);
	case WH_MSG_MORE:
		return on_more(s, &m);
	case WH_MSG_WANT:
		return on_want(s, &m);
	case WH_MSG_OPS:
		return on_ops(s, &m);
	case WH_MSG_BLOBWANT:
		return sync_on_blobwant(s, &m);
	case WH_MSG_RSUM:
		return sync_on_rsum(s, &m);
	case WH_MSG_ROSTER:
		return sync_on_roster(s, &m);
	case WH_MSG_BLOB:
		return sync_on_blob(s, &m);
	default:
		return on_receipt(s, &m);
	}
}

uint64_t wh_sync_tick(struct wh_sync *s)
{
	uint64_t now = sync_now_ms(s);
	uint64_t wait = s->interval;
	if (sync_flush(s) != WH_OK || s->qn)
		wait = RETRY_MS;
	if (s->hello_done) {
		uint64_t bw = sync_blob_tick(s, now);
		if (bw < wait)
			wait = bw;
	}
	if (!s->hello_done || !s->scope[0] || s->is_server)
		return wait;
	if (now >= s->next_digest_ms) {
		/* Anti-entropy; also restarts a round that stalled (a lost
		 * message) for two intervals. */
		if (s->st == R_IDLE || now - s->round_ms >= 2ull * s->interval)
			(void)sync_client_round_start(s);
		s->next_digest_ms = now + sync_interval_now(s);
	}
	uint64_t left = s->next_digest_ms - now;
	return left < wait ? left : wait;
}

/* Whether op bytes belong to the shared scope's set: by their own bytes
 * (wh_op_in_scope), or because their case has lain within it (a case
 * moved out of the scope keeps sending its news to the old scope). */
static int op_in_scope(const struct wh_sync *s, const struct wh_slice *op)
{
	struct wh_op o;
	if (wh_op_decode(op->p, op->n, &o) != WH_OK)
		return 0;
	if (wh_op_in_scope(&o, s->scope, strlen(s->scope)))
		return 1;
	return s->io.case_reached &&
	       s->io.case_reached(s->io.ctx, o.code, o.seq, s->scope);
}

static void push_batch(struct wh_sync *s, struct wh_buf *ops, uint32_t *cnt,
		       uint32_t *urg)
{
	if (!*cnt)
		return;
	if (s->qbytes + ops->len <= QUEUE_MAX_BYTES) {
		struct wh_buf b = {0};
		sync_ops_msg(s, WH_OPS_PUSH, *cnt, ops, &b);
		sync_enqueue(s, &b);
		s->stats.ops_out += *cnt;
		s->stats.urgent_out += *urg;
	} /* else: the transport is far behind; anti-entropy catches up */
	wh_buf_reset(ops);
	*cnt = *urg = 0;
}

void wh_sync_interval(struct wh_sync *s, uint32_t interval_ms)
{
	s->interval = interval_ms ? interval_ms : WH_SYNC_DIGEST_INTERVAL_MS;
	uint64_t now = sync_now_ms(s);
	if (s->next_digest_ms > now + s->interval)
		s->next_digest_ms = now + s->interval;
}

void wh_sync_budget(struct wh_sync *s, uint64_t bytes_per_h)
{
	s->budget = bytes_per_h;
}

void wh_sync_hold(struct wh_sync *s, int on)
{
	s->hold = on != 0;
}

int wh_sync_push(struct wh_sync *s, const struct wh_slice *ops, size_t n)
{
	if (!s->hello_done || !s->scope[0])
		return WH_OK;
	struct wh_buf body = {0};
	uint32_t cnt = 0, urg = 0;
	/* Urgent first: in an emergency two passes, urgent ops then the
	 * rest (sync.h); otherwise one pass in the order given. */
	int urgent = sync_urgent_scope(s);
	int spent = sync_budget_spent(s) && s->io.op_urgent;
	uint8_t *cls = NULL;
	if ((urgent || spent) && n) {
		cls = wh_xmalloc(n);
		for (size_t i = 0; i < n; i++)
			cls[i] = s->io.op_urgent(s->io.ctx, ops[i].p,
						 ops[i].n) == 1;
	}
	int pass_end = spent ? 1 : 0; /* spent: the urgent pass only */
	if (spent)
		urgent = 1;
	for (int pass = urgent; pass >= pass_end; pass--) {
		for (size_t i = 0; i < n; i++) {
			if (cls && cls[i] != pass)
				continue;
			if (ops[i].n > WH_OP_MAX_BYTES ||
			    !op_in_scope(s, &ops[i]) ||
			    (s->hold && !sync_held_ok(ops[i].p, ops[i].n)))
				continue;
			if (cnt &&
			    (body.len + ops[i].n + 5 > WH_SYNC_BATCH_BYTES ||
			     cnt == WH_MSG_MAX_OPS))
				push_batch(s, &body, &cnt, &urg);
			wh_msg_ops_add(&body, ops[i].p, ops[i].n);
			cnt++;
			urg += cls && pass;
		}
		push_batch(s, &body, &cnt, &urg);
	}
	if (spent)
		for (size_t i = 0; i < n; i++)
			s->stats.budget_held += !cls[i];
	free(cls);
	wh_buf_fini(&body);
	return sync_flush(s);
}

int wh_sync_idle(const struct wh_sync *s)
{
	return s->hello_done && s->st == R_IDLE && s->qn == 0 &&
	       s->ppos >= s->npend && !s->want_tail && !s->receipt_tail &&
	       s->nserve == 0;
}

void wh_sync_get_state(const struct wh_sync *s, struct wh_sync_state *st)
{
	memset(st, 0, sizeof *st);
	st->hello_done = s->hello_done;
	memcpy(st->scope, s->scope, sizeof st->scope);
	memcpy(st->peer_path, s->peer_path, sizeof st->peer_path);
	st->peer_role = s->peer_role;
	st->proto = s->proto;
	st->in_sync = s->in_sync;
	st->last_sync_ms = s->last_sync_ms;
	st->peer_count = s->peer_count;
	st->local_count = s->local_count;
	st->have_receipt = s->have_receipt;
	memcpy(st->peer_digest, s->peer_digest, WH_ID_BYTES);
	st->peer_receipt_ms = s->peer_receipt_ms;
	st->budget = s->budget;
	if (s->budget) {
		uint64_t now = s->io.now_ms(s->io.ctx);
		int cur = now >= s->bsince && now - s->bsince < 3600000u;
		st->budget_used = cur ? s->bused : 0; /* a new hour: none */
		st->budget_since_ms = s->bsince;
	}
	st->stats = s->stats;
}
