/*
 * mkcorpus.h: what the seed writers of mkcorpus share. mkcorpus.c holds
 * the seeds of ops, messages, files and records; mkcorpus_docs.c those
 * of the signed documents (emergency plans, rosters), sealed personal
 * data and the web console's input.
 */
#ifndef WH_MKCORPUS_H
#define WH_MKCORPUS_H

#include "wh.h"

#include <stddef.h>

/* Write DIR/<target>/seed-<name> (exits on an I/O error). */
void mk_put(const char *target, const char *name, const void *p, size_t n);
/* The same from a buffer, which is then emptied. */
void mk_put_buf(const char *target, const char *name, struct wh_buf *b);
void mk_put_str(const char *target, const char *name, const char *s);

/* mkcorpus_docs.c */
void mk_plans(void);   /* fuzz_plan */
void mk_rosters(void); /* fuzz_roster */
void mk_seals(void);   /* fuzz_seal */
void mk_webs(void);    /* fuzz_web */

#endif
