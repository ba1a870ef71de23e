/*
 * wh_arrival.c: the order in which ops arrived at a home's store (its
 * arrival log, store.h wh_store_log_since), each with its class for
 * urgent first (wh_store_op_urgent, read from that store). What the
 * emergency scenario tests measure the order at a hub with.
 *
 * usage: wh_arrival HOME [AFTER]
 *
 * One line per op after log position AFTER (default 0): "SEQ CLASS ID"
 * with CLASS "urgent" or "normal" and ID the object ("XJK-ZDY-000042",
 * "~EM-XC-1"). Exit 0; 1 if the store cannot be read; 2 on usage errors.
 */
#include "op.h"
#include "store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ctx {
	struct wh_store *st;
	int err;
};

static int one(void *p, uint64_t seq, const uint8_t *op, size_t n)
{
	struct ctx *c = p;
	struct wh_op o;
	int u = 0;
	if (wh_op_decode(op, n, &o) != WH_OK ||
	    wh_store_op_urgent(c->st, op, n, &u) != WH_OK) {
		c->err = 1;
		return 1;
	}
	printf("%" PRIu64 " %s %s-%06u\n", seq, u ? "urgent" : "normal",
	       o.code, (unsigned)o.seq);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: wh_arrival HOME [AFTER]\n");
		return 2;
	}
	uint64_t after = argc == 3 ? strtoull(argv[2], NULL, 10) : 0;
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/store", argv[1]);
	struct ctx c = {0};
	int rc = wh_store_open(dir, NULL, &c.st);
	if (rc != WH_OK) {
		fprintf(stderr, "wh_arrival: %s: %s\n", dir, wh_strerror(rc));
		return 1;
	}
	rc = wh_store_log_since(c.st, after, 0, one, &c);
	wh_store_close(c.st);
	if (rc != WH_OK && !c.err) {
		fprintf(stderr, "wh_arrival: %s\n", wh_strerror(rc));
		return 1;
	}
	return c.err;
}
