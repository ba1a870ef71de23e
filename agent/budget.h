/*
 * budget.h: the per-link byte budget of whistle.conf for metered or
 * satellite links (docs/guide.md, "Byte budget"):
 *
 *   budget = NAME SIZE/h     e.g. budget = xinjiekou 20MiB/h
 *
 * NAME is a trusted peer's name, SIZE a whole number with an optional
 * unit B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB (of 1024), at
 * least 1 KiB; the rate is per hour ("/h"). Once the hour's bytes are
 * spent on that link only urgent ops go (net/sync.h, wh_sync_budget).
 */
#ifndef WH_BUDGET_H
#define WH_BUDGET_H

#include <stddef.h>
#include <stdint.h>

#define BUDGET_NAME_MAX 64
#define BUDGET_MIN 1024u

/* Parse one value: WH_OK with name and *bytes (per hour), or WH_EINVAL
 * with why (at least 160 bytes) saying what is wrong. */
int budget_parse(const char *v, char name[BUDGET_NAME_MAX + 1],
		 uint64_t *bytes, char *why, size_t whycap);

/* "20 MiB", "512 KiB", "1500 B": for status and logs. */
void budget_format(uint64_t bytes, char *out, size_t cap);

#endif
