/*
 * timeparse.h: a time given on the command line (--from, --until, --at)
 * as ms since 1970. Pure but for the process's time zone, so that a unit
 * test can link it alone (tests/unit/test_timeparse.c).
 *
 * Accepted, and nothing else:
 *
 *     1790000000000                   ms since 1970 (UTC)
 *     2026-11-23                      local midnight
 *     2026-11-23 10:00                local time ('T' may replace the
 *     2026-11-23T10:00:05.250          space; seconds and ms optional)
 *     2026-11-23T10:00:00+08:00       with an offset (+08:00, +0800,
 *     2026-11-23T02:00:00Z             +08 or Z), whatever the local zone
 *
 * Local times come from the TZ of the process (the station PC's zone).
 * A local time that does not exist (a daylight-saving gap) is refused
 * rather than shifted.
 */
#ifndef WH_TIMEPARSE_H
#define WH_TIMEPARSE_H

#include "wh.h"

/* WH_OK and *ms set; WH_EDECODE (not one of the forms above) or
 * WH_ETOOBIG (a field out of range: month 13, Feb 30, year past 9999,
 * a local time that does not exist); *ms untouched then. */
WH_MUST_CHECK int cli_time_parse(const char *s, uint64_t *ms);

#endif
