/*
 * store_verify.c: checking a batch of received ops before the write
 * transaction, on every core.
 *
 * Ed25519 verification is most of what ingest costs (bench/ingest: about
 * 80% of CPU time), and a station PC has at least two cores. Verifying a
 * batch outside the transaction, split between this thread and one helper
 * thread, lets a sync of 50,000 ops run at about twice one core's verify
 * rate. This is the one place Whistle uses a thread, and the benchmark is
 * the reason: the helper only runs pure functions over the caller's
 * buffers, touches no LMDB state and is joined before the call returns.
 */
#include "store_int.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

/* Below this many ops a second thread costs more than it saves. */
#define PAR_MIN 64

struct vjob {
	const struct wh_slice *ops;
	const uint8_t *todo; /* 1: decode, clock-check and verify */
	int *rc;
	size_t lo, hi;
	uint64_t now_ms;
};

static void verify_range(const struct vjob *j)
{
	for (size_t i = j->lo; i < j->hi; i++) {
		if (j->todo[i] != 1)
			continue;
		struct wh_op op;
		int rc = wh_op_decode(j->ops[i].p, j->ops[i].n, &op);
		if (!rc)
			rc = wh_hlc_check(op.hlc, j->now_ms);
		if (!rc)
			rc = wh_op_verify(&op);
		j->rc[i] = rc;
	}
}

static void *worker(void *arg)
{
	verify_range(arg);
	return NULL;
}

static int cores(void)
{
	static int n;
	if (!n) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		n = c > 1 ? 2 : 1; /* one helper is what pays on 2 cores */
	}
	return n;
}

void st_verify_batch(const struct wh_slice *ops, const uint8_t *todo,
		     size_t n, uint64_t now_ms, int *rc)
{
	size_t work = 0;
	for (size_t i = 0; i < n; i++)
		work += todo[i] == 1;
	struct vjob all = {ops, todo, rc, 0, n, now_ms};
	if (work < PAR_MIN || cores() < 2) {
		verify_range(&all);
		return;
	}
	/* Split by amount of work, not by index, so both halves verify
	 * about as many signatures. */
	size_t half = work / 2, seen = 0, mid = 0;
	while (mid < n && seen < half)
		seen += todo[mid++] == 1;
	struct vjob a = {ops, todo, rc, 0, mid, now_ms};
	struct vjob b = {ops, todo, rc, mid, n, now_ms};
	pthread_t t;
	if (pthread_create(&t, NULL, worker, &b) != 0) {
		verify_range(&all); /* no thread to be had: do it here */
		return;
	}
	verify_range(&a);
	pthread_join(t, NULL);
}
