/*
 * carry.c: cutting a sneakernet bundle from the store, and the
 * "carry/<keyhex>" records of what peers hold (carry.h says what they
 * mean and how they are learnt).
 *
 * The cut reads the scope's ops once (wh_store_each_op_seq: case by
 * case, each op with its arrival position), groups them by case, drops
 * what the peer is known to hold, ranks the cases (carry_rank), then
 * takes whole cases in rank order while they fit the cap: a case whose
 * missing ops do not fit is left out entirely and counted, and smaller
 * cases after it may still go in. A case's ops are written in the
 * order they arrived here, which is an order in which this station took
 * them: a department's report after the whistle that summoned it, so a
 * receiver bound to a roster never refuses an op for want of an
 * earlier one of its case that the bundle dropped.
 *
 * The whole bundle is built in memory (ops of the scope, then the
 * file): fine for a station's few tens of MB; a district hub cutting a
 * whole district would want a streaming writer.
 */
#include "carry.h"

#include "mp.h"
#include "opfile.h"
#include "roster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- what peers hold ----------------------------------------------- */

static void record_name(const uint8_t pk[WH_PK_BYTES],
			char name[6 + 2 * WH_PK_BYTES + 1])
{
	memcpy(name, "carry/", 6);
	wh_hex(pk, WH_PK_BYTES, name + 6);
}

void carry_peer_encode(const struct carry_peer *r, struct wh_buf *out)
{
	wh_mpw_array(out, (uint32_t)r->n);
	for (size_t i = 0; i < r->n; i++) {
		wh_mpw_array(out, 4);
		wh_mpw_cstr(out, r->k[i].scope);
		wh_mpw_uint(out, r->k[i].pos);
		wh_mpw_uint(out, r->k[i].at_ms);
		wh_mpw_cstr(out, r->k[i].how);
	}
}

static int read_cstr(struct wh_mp *m, char *dst, size_t cap)
{
	struct wh_slice s;
	int rc = wh_mp_read_str(m, &s, cap - 1);
	if (rc)
		return rc;
	memcpy(dst, s.p, s.n);
	dst[s.n] = '\0';
	return WH_OK;
}

int carry_peer_decode(const uint8_t *p, size_t n, struct carry_peer *r)
{
	memset(r, 0, sizeof *r);
	struct wh_mp m;
	wh_mp_init(&m, p, n);
	uint32_t cnt, an;
	if (wh_mp_read_array(&m, &cnt, CARRY_KNOWN_MAX))
		return WH_EDECODE;
	for (uint32_t i = 0; i < cnt; i++) {
		struct carry_known *k = &r->k[i];
		if (wh_mp_read_array(&m, &an, 4) || an != 4 ||
		    read_cstr(&m, k->scope, sizeof k->scope) ||
		    !wh_path_valid(k->scope, strlen(k->scope)) ||
		    wh_mp_read_uint(&m, &k->pos) ||
		    wh_mp_read_uint(&m, &k->at_ms) ||
		    read_cstr(&m, k->how, sizeof k->how))
			return WH_EDECODE;
	}
	r->n = cnt;
	return wh_mp_left(&m) ? WH_EDECODE : WH_OK;
}

int carry_peer_get(struct wh_store *s, const uint8_t pk[WH_PK_BYTES],
		   struct carry_peer *r)
{
	char name[6 + 2 * WH_PK_BYTES + 1];
	record_name(pk, name);
	struct wh_buf b = {0};
	memset(r, 0, sizeof *r);
	int rc = wh_store_state_get(s, name, &b);
	if (rc == WH_OK && carry_peer_decode(b.p, b.len, r) != WH_OK)
		memset(r, 0, sizeof *r); /* damaged: knowing nothing is safe */
	wh_buf_fini(&b);
	return rc;
}

/* Add (scope, pos) to r: a statement about the same scope is replaced
 * when pos is further; a full list drops its oldest statement. 0 if r
 * knew as much already. */
static int known_add(struct carry_peer *r, const char *scope, uint64_t pos,
		     uint64_t now, const char *how)
{
	size_t at = r->n;
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->k[i].scope, scope)) {
			if (r->k[i].pos >= pos)
				return 0;
			at = i;
		}
	if (at == CARRY_KNOWN_MAX) {
		at = 0;
		for (size_t i = 1; i < r->n; i++)
			if (r->k[i].at_ms < r->k[at].at_ms)
				at = i;
	}
	if (at == r->n)
		r->n++;
	struct carry_known *k = &r->k[at];
	snprintf(k->scope, sizeof k->scope, "%s", scope);
	k->pos = pos;
	k->at_ms = now;
	snprintf(k->how, sizeof k->how, "%s", how);
	return 1;
}

int carry_learn(struct wh_store *s, const uint8_t pk[WH_PK_BYTES],
		const char *scope, uint64_t count,
		const uint8_t digest[WH_ID_BYTES], const char *how)
{
	if (!scope || !*scope || !wh_path_valid(scope, strlen(scope)))
		return WH_EINVAL;
	uint64_t pos, n;
	uint8_t d[WH_ID_BYTES];
	/* Position first: an op landing in between changes the digest. */
	int rc = wh_store_log_last(s, &pos);
	if (rc == WH_OK)
		rc = wh_store_digest(s, scope, d, &n);
	if (rc != WH_OK)
		return rc;
	if (n != count || memcmp(d, digest, WH_ID_BYTES))
		return WH_ESTATE;
	struct carry_peer r;
	rc = carry_peer_get(s, pk, &r);
	if (rc != WH_OK && rc != WH_ENOTFOUND)
		return rc;
	/* A quiet link ends a round in sync every interval: write only
	 * when something was learnt. */
	if (!known_add(&r, scope, pos, wh_clock_realtime(NULL), how))
		return WH_OK;
	struct wh_buf b = {0};
	carry_peer_encode(&r, &b);
	char name[6 + 2 * WH_PK_BYTES + 1];
	record_name(pk, name);
	rc = wh_store_state_put(s, name, b.p, b.len);
	wh_buf_fini(&b);
	return rc;
}

/* ---- the order ------------------------------------------------------ */

int carry_rank(struct wh_store *s, const struct wh_case *v, uint64_t now_ms)
{
	if (!v)
		return 2; /* documents: small, and who answers a whistle */
	/* Emergency: a plan task's case, and a case whose place lies in an
	 * emergency in force now, rank 0 with the urgent ones. */
	size_t n = 0;
	if (v->em_code[0] ||
	    (v->path && wh_store_emergency_active(s, v->path, now_ms,
						  WH_EM_COVERS, NULL, NULL,
						  &n) == WH_OK && n))
		return 0;
	switch (v->priority) {
	case WH_PRI_URGENT: return 0;
	case WH_PRI_HIGH: return 1;
	case WH_PRI_NORMAL: return 3;
	default: return 4;
	}
}

/* ---- cutting -------------------------------------------------------- */

struct item {
	uint64_t seq; /* arrival position here */
	size_t off;   /* bytes in cut.bytes */
	uint32_t len;
	uint32_t idx; /* walk order: keeps sorts stable */
	uint64_t ms;  /* the op's stamp, wall ms */
	char code[WH_CODE_MAX + 1];
	uint32_t cseq;
	uint8_t kind;
	uint8_t in_known; /* bit e: own bytes in known->k[e].scope */
	uint8_t known;    /* the peer holds it */
	uint8_t has_blob;
	uint8_t blob[WH_ID_BYTES];
	uint64_t bsize;
};

struct group {
	size_t first, n; /* items[first .. first + n) */
	int rank, take;
	uint32_t order; /* case-id order */
	uint64_t bytes; /* records of the ops the peer lacks */
	size_t need;
	int urgent;
};

struct cut {
	const struct carry_opts *o;
	struct wh_buf bytes;
	struct item *it;
	size_t n, cap;
	int err;
};

static int cut_op(void *ctx, uint64_t seq, const uint8_t *p, size_t n)
{
	struct cut *c = ctx;
	struct wh_op op;
	if (wh_op_decode(p, n, &op) != WH_OK)
		return WH_ECORRUPT; /* the store decoded it when it took it */
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 1024;
		c->it = wh_xrealloc(c->it, c->cap * sizeof *c->it);
	}
	struct item *it = &c->it[c->n];
	memset(it, 0, sizeof *it);
	it->seq = seq;
	it->off = c->bytes.len;
	it->len = (uint32_t)n;
	it->idx = (uint32_t)c->n;
	it->ms = op.hlc >> 16;
	snprintf(it->code, sizeof it->code, "%s", op.code);
	it->cseq = op.seq;
	it->kind = op.kind;
	const struct carry_peer *k = c->o->known;
	for (size_t e = 0; k && e < k->n; e++)
		if (wh_op_in_scope(&op, k->k[e].scope, strlen(k->k[e].scope)))
			it->in_known |= (uint8_t)(1u << e);
	const struct wh_field *b = wh_op_field(&op, WH_F_BLOB);
	const struct wh_field *z = wh_op_field(&op, WH_F_SIZE);
	if (b && z && b->s.n == WH_ID_BYTES) {
		it->has_blob = 1;
		memcpy(it->blob, b->s.p, WH_ID_BYTES);
		it->bsize = z->u;
	}
	wh_buf_append(&c->bytes, p, n);
	c->n++;
	if (c->o->progress && c->n % 4096 == 0)
		c->o->progress(c->o->ctx, "reading", c->n, 0);
	return 0;
}

static int item_cmp(const void *x, const void *y)
{
	const struct item *a = x, *b = y;
	int d = strcmp(a->code, b->code);
	if (d)
		return d;
	if (a->cseq != b->cseq)
		return a->cseq < b->cseq ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int group_cmp(const void *x, const void *y)
{
	const struct group *a = x, *b = y;
	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* Mark what the peer holds in one case's items (carry.h's rule). */
static void mark_known(struct item *it, size_t n, const struct carry_peer *k)
{
	for (size_t e = 0; k && e < k->n; e++) {
		int reached = 0;
		for (size_t i = 0; i < n && !reached; i++)
			reached = it[i].seq <= k->k[e].pos &&
				  (it[i].in_known & (1u << e));
		for (size_t i = 0; reached && i < n; i++)
			if (it[i].seq <= k->k[e].pos)
				it[i].known = 1;
	}
}

/* Group the items by case and fill in what each group needs. */
static struct group *make_groups(struct wh_store *s, struct cut *c,
				 size_t *ng, uint64_t *known)
{
	if (c->n) /* qsort takes no NULL, even for 0 */
		qsort(c->it, c->n, sizeof *c->it, item_cmp);
	struct group *g = wh_xcalloc(c->n ? c->n : 1, sizeof *g);
	size_t k = 0;
	for (size_t i = 0, j; i < c->n; i = j) {
		for (j = i + 1; j < c->n && !strcmp(c->it[j].code, c->it[i].code) &&
				c->it[j].cseq == c->it[i].cseq;
		     j++)
			;
		struct group *gr = &g[k];
		gr->first = i;
		gr->n = j - i;
		gr->order = (uint32_t)k;
		mark_known(c->it + i, j - i, c->o->known);
		int recent = !c->o->since_ms;
		for (size_t m = i; m < j; m++) {
			recent |= c->it[m].ms >= c->o->since_ms;
			if (c->it[m].known) {
				(*known)++;
				continue;
			}
			gr->need++;
			gr->bytes += wh_opfile_rec_size(WH_OPREC_OP,
							c->it[m].len);
		}
		if (!gr->need || !recent)
			continue; /* nothing to carry: drop the group */
		struct wh_case v;
		int doc = wh_code_is_doc(c->it[i].code);
		if (!doc && wh_store_case_get(s, c->it[i].code, c->it[i].cseq,
					      &v) == WH_OK) {
			gr->rank = carry_rank(s, &v, c->o->now_ms);
			gr->urgent = gr->rank == 0;
			wh_case_fini(&v);
		} else {
			gr->rank = carry_rank(s, NULL, c->o->now_ms);
		}
		k++;
	}
	qsort(g, k, sizeof *g, group_cmp);
	*ng = k;
	return g;
}

struct rosters {
	struct wh_buf bytes;
	size_t off[WH_ROSTER_MAX_DELEGATES + 1], len[WH_ROSTER_MAX_DELEGATES + 1];
	size_t n;
};

static int roster_cb(void *ctx, const uint8_t *p, size_t n)
{
	struct rosters *r = ctx;
	if (r->n == sizeof r->off / sizeof r->off[0] ||
	    n > WH_OPFILE_ROSTER_MAX)
		return 0;
	r->off[r->n] = r->bytes.len;
	r->len[r->n++] = n;
	wh_buf_append(&r->bytes, p, n);
	return 0;
}

/* The header as it will be written; left_out and cases at their widest
 * when 'widest', so its size bounds the real one. */
static void fill_hdr(const struct carry_opts *o, const struct wh_key *key,
		     const uint8_t base[WH_ID_BYTES], uint64_t base_n,
		     struct wh_opfile_hdr *h)
{
	memset(h, 0, sizeof *h);
	h->version = WH_OPFILE_BUNDLE;
	h->created_ms = o->now_ms;
	snprintf(h->scope, sizeof h->scope, "%s", o->scope);
	memcpy(h->writer, key->pk, WH_PK_BYTES);
	snprintf(h->writer_path, sizeof h->writer_path, "%s",
		 o->writer_path ? o->writer_path : "");
	if (o->for_pk) {
		h->has_for = 1;
		memcpy(h->for_pk, o->for_pk, WH_PK_BYTES);
	}
	h->since_ms = o->since_ms;
	h->max_bytes = o->max_bytes;
	h->has_base = 1;
	h->base_count = base_n;
	memcpy(h->base_digest, base, WH_ID_BYTES);
}

static size_t hdr_size_max(const struct wh_opfile_hdr *h0)
{
	struct wh_opfile_hdr h = *h0;
	h.left_out = UINT64_MAX;
	h.cases = UINT64_MAX;
	struct wh_opfile_writer w;
	struct wh_buf b = {0};
	wh_opfile_begin(&w, &b, &h);
	size_t n = b.len;
	wh_buf_fini(&b);
	return n;
}

/* Content the taken cases name, keys envelopes first (small, and what
 * opens the personal data), then attachments, while it fits. */
static void add_blobs(struct wh_store *s, struct cut *c,
		      const struct group *g, size_t ng, uint64_t *left,
		      struct wh_opfile_writer *w, struct wh_buf *out,
		      struct carry_result *r)
{
	struct wh_buf content = {0};
	uint8_t(*done)[WH_ID_BYTES] = NULL;
	size_t ndone = 0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t gi = 0; gi < ng; gi++) {
			if (!g[gi].take)
				continue;
			for (size_t m = 0; m < g[gi].n; m++) {
				const struct item *it = &c->it[g[gi].first + m];
				if (!it->has_blob || it->known ||
				    (it->kind == WH_OP_CASE_KEYS) != (pass == 0))
					continue;
				size_t d;
				for (d = 0; d < ndone; d++)
					if (!memcmp(done[d], it->blob,
						    WH_ID_BYTES))
						break;
				if (d < ndone)
					continue;
				done = wh_xrealloc(done, (ndone + 1) *
								 sizeof *done);
				memcpy(done[ndone++], it->blob, WH_ID_BYTES);
				uint64_t need = wh_opfile_rec_size(
					WH_OPREC_BLOB, (size_t)it->bsize);
				uint64_t size;
				wh_buf_reset(&content);
				if (it->bsize == 0 ||
				    it->bsize > WH_OPFILE_BLOB_MAX ||
				    wh_store_blob_get(s, it->blob, 0, 0,
						      &content,
						      &size) != WH_OK ||
				    size != it->bsize) {
					r->blobs_missing++;
					continue;
				}
				if (need > *left) {
					r->blobs_left++;
					continue;
				}
				*left -= need;
				wh_opfile_add_rec(w, out, WH_OPREC_BLOB,
						  content.p, content.len);
				r->blobs++;
			}
		}
	free(done);
	wh_buf_fini(&content);
}

/* The file: header, rosters, the ops of the cases taken in rank order,
 * content while it fits, the signed trailer. */
static void write_out(struct wh_store *s, const struct wh_key *key,
		      const struct carry_opts *o,
		      const struct wh_opfile_hdr *h, struct cut *c,
		      const struct group *g, size_t ng, const struct rosters *ro,
		      uint64_t left, struct wh_buf *out, struct carry_result *r)
{
	size_t start = out->len;
	struct wh_opfile_writer w;
	wh_opfile_begin(&w, out, h);
	for (size_t i = 0; i < ro->n; i++)
		wh_opfile_add_rec(&w, out, WH_OPREC_ROSTER,
				  ro->bytes.p + ro->off[i], ro->len[i]);
	r->rosters = ro->n;
	for (size_t gi = 0; gi < ng; gi++) {
		for (size_t m = 0; g[gi].take && m < g[gi].n; m++) {
			const struct item *it = &c->it[g[gi].first + m];
			if (it->known)
				continue;
			wh_opfile_add(&w, out, c->bytes.p + it->off, it->len);
			r->ops++;
		}
		if (o->progress && gi % 256 == 255)
			o->progress(o->ctx, "writing", gi + 1, ng);
	}
	add_blobs(s, c, g, ng, &left, &w, out, r);
	wh_opfile_end_signed(&w, out, key);
	r->bytes = out->len - start;
}

int carry_build(struct wh_store *s, const struct wh_key *key,
		const struct carry_opts *o, struct wh_buf *out,
		struct carry_result *r)
{
	memset(r, 0, sizeof *r);
	if (!o->scope || !wh_path_valid(o->scope, strlen(o->scope)))
		return WH_EPATH;
	uint8_t base[WH_ID_BYTES];
	uint64_t base_n;
	int rc = wh_store_digest(s, o->scope, base, &base_n);
	if (rc != WH_OK)
		return rc;
	struct cut c = {.o = o};
	rc = wh_store_each_op_seq(s, o->scope, cut_op, &c);
	struct rosters ro;
	memset(&ro, 0, sizeof ro);
	if (rc == WH_OK) {
		rc = wh_store_roster_each(s, roster_cb, &ro);
		if (rc == WH_ENOTFOUND)
			rc = WH_OK; /* lab mode: no roster */
	}
	size_t ng = 0;
	struct group *g = rc == WH_OK ? make_groups(s, &c, &ng, &r->known) : NULL;
	struct wh_opfile_hdr h;
	fill_hdr(o, key, base, base_n, &h);
	uint64_t fixed = hdr_size_max(&h) + WH_OPFILE_TRAILER_MAX;
	for (size_t i = 0; i < ro.n; i++)
		fixed += wh_opfile_rec_size(WH_OPREC_ROSTER, ro.len[i]);
	uint64_t left = UINT64_MAX;
	if (rc == WH_OK && o->max_bytes) {
		if (o->max_bytes < fixed) {
			r->need_min = fixed;
			rc = WH_ETOOBIG;
		}
		else
			left = o->max_bytes - fixed;
	}
	for (size_t gi = 0; rc == WH_OK && gi < ng; gi++) {
		if (g[gi].bytes > left) {
			r->left_out++;
			continue;
		}
		left -= g[gi].bytes;
		g[gi].take = 1;
		r->cases++;
		r->urgent += g[gi].urgent;
	}
	if (rc == WH_OK) {
		h.left_out = r->left_out;
		h.cases = r->cases;
		write_out(s, key, o, &h, &c, g, ng, &ro, left, out, r);
	}
	free(g);
	free(c.it);
	wh_buf_fini(&c.bytes);
	wh_buf_fini(&ro.bytes);
	return rc;
}

/* ---- what a peer is known to hold, per case --------------------------- */

int carry_each_case(struct wh_store *s, const char *scope,
		    const struct carry_peer *known, carry_case_cb cb,
		    void *ctx)
{
	if (!scope || (*scope && !wh_path_valid(scope, strlen(scope))))
		return WH_EPATH;
	struct carry_opts o = {.scope = scope, .known = known};
	struct cut c = {.o = &o};
	int rc = wh_store_each_op_seq(s, scope, cut_op, &c);
	if (rc == WH_OK && c.n)
		qsort(c.it, c.n, sizeof *c.it, item_cmp);
	for (size_t i = 0, j; rc == WH_OK && i < c.n; i = j) {
		for (j = i + 1; j < c.n && !strcmp(c.it[j].code, c.it[i].code) &&
				c.it[j].cseq == c.it[i].cseq;
		     j++)
			;
		mark_known(c.it + i, j - i, known);
		int all = 1;
		for (size_t m = i; m < j; m++)
			all &= c.it[m].known;
		rc = cb(ctx, c.it[i].code, c.it[i].cseq, all);
	}
	free(c.it);
	wh_buf_fini(&c.bytes);
	return rc;
}
