/*
 * test_timeparse.c: command-line times (agent/timeparse.h): ms since
 * 1970, ISO 8601 with each offset spelling, local wall time in a fixed
 * zone (Asia/Shanghai, no daylight saving) and in one with a DST gap
 * (Europe/Berlin), and every malformed or impossible form refused with
 * the right code and *ms untouched.
 */
#include "timeparse.h"
#include "wh_test.h"

#include <unistd.h>

#define T1 1795420800000ull /* 2026-11-23T08:00:00Z */

static void ok(const char *s, uint64_t want)
{
	uint64_t ms = 0;
	int rc = cli_time_parse(s, &ms);
	if (rc != WH_OK || ms != want)
		fprintf(stderr, "'%s': rc %d, %llu (want %llu)\n", s, rc,
			(unsigned long long)ms, (unsigned long long)want);
	CHECK(rc == WH_OK && ms == want);
}

static void refused(const char *s, int want)
{
	uint64_t ms = 42;
	int rc = cli_time_parse(s, &ms);
	if (rc != want)
		fprintf(stderr, "'%s': rc %d (want %d)\n", s, rc, want);
	CHECK_EQ(rc, want);
	CHECK_EQ(ms, 42); /* untouched */
}

int main(void)
{
	setenv("TZ", "Asia/Shanghai", 1);
	tzset();
	ok("0", 0);
	ok("1795420800000", T1);
	ok("2026-11-23T08:00:00Z", T1);
	ok("2026-11-23T16:00:00+08:00", T1);
	ok("2026-11-23T16:00:00+0800", T1);
	ok("2026-11-23T16:00+08", T1);
	ok("2026-11-23T03:00:00-05:00", T1);
	ok("2026-11-23T08:00:00.250Z", T1 + 250);
	ok("2026-11-23 16:00", T1);         /* local, UTC+8 */
	ok("2026-11-23T16:00:00", T1);
	ok("2026-11-23 16:00:00.007", T1 + 7);
	ok("2026-11-23", T1 - 16 * 3600000ull); /* local midnight */
	ok("2028-02-29", 1835395200000ull - 8 * 3600000ull); /* leap day */

	refused("", WH_EDECODE);
	refused("now", WH_EDECODE);
	refused("-5", WH_EDECODE);
	refused("17953992000001234567890", WH_ETOOBIG);
	refused("2026-11-23T16", WH_EDECODE);
	refused("2026-11-23 16:00:00.5", WH_EDECODE); /* ms: 3 digits */
	refused("2026-11-23T16:00:00+8", WH_EDECODE);
	refused("2026-11-23T16:00:00 +08:00", WH_EDECODE);
	refused("2026-11-23T16:00:00+08:00x", WH_EDECODE);
	refused("2026-11-23x", WH_EDECODE);
	refused("26-11-23", WH_EDECODE);
	refused("2026/11/23", WH_EDECODE);
	refused("2026-13-01", WH_ETOOBIG);
	refused("2026-02-30", WH_ETOOBIG);
	refused("2027-02-29", WH_ETOOBIG);
	refused("2026-11-23 24:00", WH_ETOOBIG);
	refused("2026-11-23 23:60", WH_ETOOBIG);
	refused("2026-11-23T16:00:00+15:00", WH_EDECODE);
	refused("1969-12-31", WH_ETOOBIG);

	/* A zone with daylight saving: 2026-03-29 02:30 does not exist in
	 * Berlin (clocks jump from 02:00 to 03:00). */
	if (access("/usr/share/zoneinfo/Europe/Berlin", R_OK)) {
		printf("test_timeparse: no tzdata for Europe/Berlin; DST "
		       "part skipped\n");
		return wh_test_done("test_timeparse");
	}
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	ok("2026-11-23 09:00", T1);             /* UTC+1 in winter */
	ok("2026-07-01 10:00", 1782892800000ull); /* UTC+2 in summer */
	refused("2026-03-29 02:30", WH_ETOOBIG);
	return wh_test_done("test_timeparse");
}
