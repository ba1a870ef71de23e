/*
 * riblt.c: rateless IBLT encoder and decoder (see riblt.h).
 *
 * Both are built on one "window": a set of keys, each with its PRNG
 * state and the next symbol index it maps to. Applying the window to a
 * run of symbols walks every key up to the end of the run, folding it
 * into each index it hits (win_apply says why a scan beats a heap).
 *
 * Invariant: when a window is applied to symbols [first, first + m), no
 * key in it has a next index below first.
 */
#include "riblt.h"

#include <stdlib.h>
#include <string.h>

/* Keep a*b+c as two rounded operations on compilers that would fuse
 * them: both ends of a link must map keys to the same indices. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#define CHECK_SALT 0x5ca1ab1e0ddba11full
#define PRNG_SALT 0x243f6a8885a308d3ull
#define PRNG_MUL 0xda942042e4dd58b5ull
#define NEVER UINT64_MAX

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t wh_riblt_check(uint64_t key)
{
	return mix64(key ^ CHECK_SALT);
}

static uint64_t prng_seed(uint64_t key)
{
	return mix64(key ^ PRNG_SALT);
}

/* 1/sqrt(u) for u in (0, 1]: a bit-level first guess and four Newton
 * steps, each operation its own statement. Accurate to a few ulps and,
 * above all, the same on every IEEE 754 machine. */
static double inv_sqrt(double u)
{
	uint64_t i;
	double y;
	memcpy(&i, &u, sizeof i);
	i = 0x5fe6eb50c7b537a9ull - (i >> 1);
	memcpy(&y, &i, sizeof y);
	for (int k = 0; k < 4; k++) {
		double t = u * y;
		t = t * y;
		t = t * 0.5;
		t = 1.5 - t;
		y = y * t;
	}
	return y;
}

/*
 * The index after 'last' for a key whose PRNG state is *prng:
 *   r     = prng * 0xda942042e4dd58b5 (mod 2^64), the new state
 *   step  = ceil((last + 1.5) * (1/sqrt((r + 1) / 2^64) - 1)), at least 1
 * so that index i is hit with probability about 1/(1 + i/2). Past 2^62
 * the key never maps again (NEVER).
 */
static uint64_t map_next(uint64_t *prng, uint64_t last)
{
	uint64_t r = *prng * PRNG_MUL;
	*prng = r;
	double u = (double)r + 1.0;
	u = u * 0x1p-64;
	double f = inv_sqrt(u) - 1.0;
	double lf = (double)last + 1.5;
	double x = lf * f;
	if (!(x < 0x1p62) || last >= (1ull << 62))
		return NEVER;
	uint64_t step = (uint64_t)x;
	if ((double)step < x)
		step++;
	if (step == 0)
		step = 1;
	return last + step;
}

/* ---- the window ---- */

struct item {
	uint64_t key, check, prng;
	uint64_t next; /* the next symbol index the key maps to */
	int64_t delta; /* added to a symbol's count when the key is folded in */
};

struct win {
	struct item *it;
	size_t n, cap;
};

static void win_fini(struct win *w)
{
	free(w->it);
	memset(w, 0, sizeof *w);
}

static void fold(struct wh_riblt_sym *s, const struct item *it)
{
	s->key ^= it->key;
	s->check ^= it->check;
	s->count += it->delta;
}

/* A window of keys that all start at index 0. */
static void win_init_keys(struct win *w, const uint64_t *keys, size_t n,
			  int64_t delta)
{
	memset(w, 0, sizeof *w);
	w->cap = n ? n : 1;
	w->it = wh_xmalloc(w->cap * sizeof *w->it);
	for (size_t i = 0; i < n; i++) {
		w->it[i].key = keys[i];
		w->it[i].check = wh_riblt_check(keys[i]);
		w->it[i].prng = prng_seed(keys[i]);
		w->it[i].next = 0;
		w->it[i].delta = delta;
	}
	w->n = n;
}

/* Add one key whose walk is at index 'next' with PRNG state 'prng'. */
static void win_push(struct win *w, uint64_t key, uint64_t check,
		     uint64_t prng, int64_t delta, uint64_t next)
{
	if (next == NEVER)
		return;
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 64;
		w->it = wh_xrealloc(w->it, w->cap * sizeof *w->it);
	}
	w->it[w->n++] = (struct item){key, check, prng, next, delta};
}

/* Fold the window into syms[0..m), which are indices [first, first+m):
 * one pass over the keys, each walked up to the end of the run. A run
 * costs O(n + hits); the few runs of a round (the first batch, then
 * requests that grow geometrically) beat a heap's O(hits log n), whose
 * cache misses made 64 symbols over 100k keys take 60 ms. */
static void win_apply(struct win *w, struct wh_riblt_sym *syms,
		      uint64_t first, size_t m)
{
	uint64_t end = first + m;
	for (size_t i = 0; i < w->n; i++) {
		struct item *it = &w->it[i];
		while (it->next < end) {
			fold(&syms[it->next - first], it);
			it->next = map_next(&it->prng, it->next);
		}
	}
}

/* ---- encoder ---- */

struct wh_riblt_enc {
	struct win w;
	uint64_t produced;
};

int wh_riblt_enc_new(const uint64_t *keys, size_t n, struct wh_riblt_enc **out)
{
	*out = NULL;
	if (n > UINT32_MAX || (n && !keys))
		return WH_EINVAL;
	struct wh_riblt_enc *e = wh_xcalloc(1, sizeof *e);
	win_init_keys(&e->w, keys, n, 1);
	*out = e;
	return WH_OK;
}

void wh_riblt_enc_free(struct wh_riblt_enc *e)
{
	if (!e)
		return;
	win_fini(&e->w);
	free(e);
}

uint64_t wh_riblt_enc_count(const struct wh_riblt_enc *e)
{
	return e->produced;
}

void wh_riblt_enc_next(struct wh_riblt_enc *e, struct wh_riblt_sym *out,
		       size_t m)
{
	memset(out, 0, m * sizeof *out);
	win_apply(&e->w, out, e->produced, m);
	e->produced += m;
}

/* ---- decoder ---- */

struct wh_riblt_dec {
	struct win local; /* our keys, delta -1 (coded = remote - local) */
	struct win rec;   /* keys peeled so far, taken out of new symbols */
	struct wh_riblt_sym *c; /* coded symbols */
	int64_t *orig;          /* counts before peeling, for estimate */
	size_t m, cap;
	uint64_t max;
	uint64_t *rk, *lk; /* remote-only, local-only keys */
	size_t nrk, nlk, caprk, caplk;
	size_t *stack;
	size_t nstack, capstack;
	int forged; /* the symbols cannot come from an honest encoder */
};

int wh_riblt_dec_new(const uint64_t *keys, size_t n, uint64_t max_symbols,
		     struct wh_riblt_dec **out)
{
	*out = NULL;
	if (n > UINT32_MAX || (n && !keys) || max_symbols == 0)
		return WH_EINVAL;
	struct wh_riblt_dec *d = wh_xcalloc(1, sizeof *d);
	win_init_keys(&d->local, keys, n, -1);
	d->max = max_symbols;
	*out = d;
	return WH_OK;
}

void wh_riblt_dec_free(struct wh_riblt_dec *d)
{
	if (!d)
		return;
	win_fini(&d->local);
	win_fini(&d->rec);
	free(d->c);
	free(d->orig);
	free(d->rk);
	free(d->lk);
	free(d->stack);
	free(d);
}

static int pure(const struct wh_riblt_sym *s)
{
	return (s->count == 1 || s->count == -1) &&
	       s->check == wh_riblt_check(s->key);
}

static void push_idx(struct wh_riblt_dec *d, size_t i)
{
	if (d->nstack == d->capstack) {
		d->capstack = d->capstack ? 2 * d->capstack : 256;
		d->stack =
		    wh_xrealloc(d->stack, d->capstack * sizeof *d->stack);
	}
	d->stack[d->nstack++] = i;
}

static void push_key(uint64_t **v, size_t *n, size_t *cap, uint64_t k)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		*v = wh_xrealloc(*v, *cap * sizeof **v);
	}
	(*v)[(*n)++] = k;
}

/* Peel until no pure symbol is left. A recovered key is taken out of
 * every symbol received so far (walking its mapping) and joins the
 * 'rec' window, which takes it out of the symbols still to come.
 *
 * Honest symbols yield at most one key per symbol: peeling a key
 * empties the symbol it came from for good. Forged ones need not: empty
 * one of a key's indices, and peeling the key from symbol 0 makes that
 * index pure with the key, peeling it there makes symbol 0 pure again,
 * and so on forever while the key lists grow. So more keys than
 * symbols received marks the stream as forged, and peeling stops. */
static void peel(struct wh_riblt_dec *d)
{
	while (d->nstack) {
		size_t j = d->stack[--d->nstack];
		if (!pure(&d->c[j]))
			continue;
		if (d->nrk + d->nlk >= d->m) {
			d->forged = 1;
			d->nstack = 0;
			return;
		}
		uint64_t key = d->c[j].key;
		int64_t delta = -d->c[j].count;
		if (delta < 0)
			push_key(&d->rk, &d->nrk, &d->caprk, key);
		else
			push_key(&d->lk, &d->nlk, &d->caplk, key);
		struct item it = {key, wh_riblt_check(key), prng_seed(key), 0,
				  delta};
		uint64_t idx = 0;
		while (idx < d->m) {
			fold(&d->c[idx], &it);
			if (pure(&d->c[idx]))
				push_idx(d, (size_t)idx);
			idx = map_next(&it.prng, idx);
		}
		win_push(&d->rec, key, it.check, it.prng, delta, idx);
	}
}

int wh_riblt_dec_add(struct wh_riblt_dec *d, const struct wh_riblt_sym *syms,
		     size_t m)
{
	if (d->forged)
		return WH_EDECODE;
	if (m == 0)
		return WH_OK;
	if (m > d->max || d->m > d->max - m)
		return WH_ETOOBIG;
	/* An encoder's count is how many of its keys (at most UINT32_MAX,
	 * wh_riblt_enc_new) map to the index: never negative, never more.
	 * Refusing any other count also keeps the folds below, which add
	 * a few billion at most, from overflowing int64. */
	for (size_t i = 0; i < m; i++) {
		if (syms[i].count < 0 || syms[i].count > (int64_t)UINT32_MAX) {
			d->forged = 1;
			return WH_EDECODE;
		}
	}
	if (d->m + m > d->cap) {
		size_t cap = d->cap ? d->cap : 64;
		while (cap < d->m + m)
			cap *= 2;
		d->c = wh_xrealloc(d->c, cap * sizeof *d->c);
		d->orig = wh_xrealloc(d->orig, cap * sizeof *d->orig);
		d->cap = cap;
	}
	struct wh_riblt_sym *c = d->c + d->m;
	if (m)
		memcpy(c, syms, m * sizeof *c);
	win_apply(&d->local, c, d->m, m);
	for (size_t i = 0; i < m; i++)
		d->orig[d->m + i] = c[i].count;
	win_apply(&d->rec, c, d->m, m);
	size_t first = d->m;
	d->m += m;
	for (size_t i = 0; i < m; i++)
		if (pure(&c[i]))
			push_idx(d, first + i);
	peel(d);
	return d->forged ? WH_EDECODE : WH_OK;
}

int wh_riblt_dec_done(const struct wh_riblt_dec *d)
{
	return d->m > 0 && wh_riblt_sym_empty(&d->c[0]);
}

uint64_t wh_riblt_dec_count(const struct wh_riblt_dec *d)
{
	return d->m;
}

/*
 * Index i holds each differing key with probability p = 1/(1 + i/2), with
 * sign +1 (remote only) or -1 (local only); so its count has mean
 * delta * p (delta = symbol 0's count, remote minus local) and variance
 * about d * p * (1 - p). Summing the excess of count^2 over the squared
 * mean estimates d; not protocol, only the size of the next request.
 */
uint64_t wh_riblt_dec_estimate(const struct wh_riblt_dec *d)
{
	if (d->m == 0)
		return 0;
	double delta = (double)d->orig[0];
	double num = 0, den = 0;
	for (size_t i = 1; i < d->m; i++) {
		double p = 1.0 / (1.0 + (double)i / 2.0);
		double c = (double)d->orig[i];
		num += c * c - delta * delta * p * p;
		den += p * (1.0 - p);
	}
	double est = den > 0 ? num / den : 0;
	double ad = delta < 0 ? -delta : delta;
	if (est < ad)
		est = ad;
	if (est > 1e15)
		est = 1e15;
	return (uint64_t)est;
}

size_t wh_riblt_dec_remote(const struct wh_riblt_dec *d, const uint64_t **keys)
{
	*keys = d->rk;
	return d->nrk;
}

size_t wh_riblt_dec_local(const struct wh_riblt_dec *d, const uint64_t **keys)
{
	*keys = d->lk;
	return d->nlk;
}
