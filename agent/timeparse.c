/*
 * timeparse.c: command-line times (timeparse.h says which forms).
 *
 * Fixed-width fields are read by hand rather than with strptime, whose
 * accepted forms vary by libc and locale: every form here is checked to
 * the last character, and a date is checked to exist by converting it
 * and back (mktime and timegm normalise Feb 30 to Mar 2 silently).
 */
#include "timeparse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* n decimal digits at *p into *v; advances *p. 0 if not all digits. */
static int digits(const char **p, int n, int *v)
{
	int x = 0;
	for (int i = 0; i < n; i++) {
		char ch = (*p)[i];
		if (ch < '0' || ch > '9')
			return 0;
		x = x * 10 + (ch - '0');
	}
	*p += n;
	*v = x;
	return 1;
}

static int all_digits(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* "Z", "+HH:MM", "+HHMM", "+HH" (or '-'): the offset east of UTC in
 * seconds. 0 if malformed. */
static int offset(const char *p, long *east)
{
	if (!strcmp(p, "Z")) {
		*east = 0;
		return 1;
	}
	if (*p != '+' && *p != '-')
		return 0;
	int sign = *p++ == '-' ? -1 : 1, hh, mm = 0;
	if (!digits(&p, 2, &hh))
		return 0;
	if (*p == ':')
		p++;
	if (*p && !digits(&p, 2, &mm))
		return 0;
	if (*p || hh > 14 || mm > 59)
		return 0;
	*east = sign * (hh * 3600L + mm * 60L);
	return 1;
}

int cli_time_parse(const char *s, uint64_t *ms)
{
	if (!s)
		return WH_EDECODE;
	if (all_digits(s)) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(s, &end, 10);
		if (errno || v > 253402300799999ull) /* 9999-12-31 */
			return WH_ETOOBIG;
		*ms = v;
		return WH_OK;
	}
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) ||
	    *p++ != '-' || !digits(&p, 2, &d))
		return WH_EDECODE;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
			return WH_EDECODE;
		if (*p == ':') {
			p++;
			if (!digits(&p, 2, &sec))
				return WH_EDECODE;
			if (*p == '.') {
				p++;
				if (!digits(&p, 3, &frac))
					return WH_EDECODE;
			}
		}
	} else if (*p) {
		return WH_EDECODE;
	}
	long east = 0;
	int local = *p == '\0';
	if (!local && !offset(p, &east))
		return WH_EDECODE;
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || sec > 59)
		return WH_ETOOBIG;
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	struct tm want = tm;
	time_t t = local ? mktime(&tm) : timegm(&tm);
	/* Converted back, a real date and time comes out unchanged. */
	if (t == (time_t)-1 || tm.tm_year != want.tm_year ||
	    tm.tm_mon != want.tm_mon || tm.tm_mday != want.tm_mday ||
	    tm.tm_hour != want.tm_hour || tm.tm_min != want.tm_min ||
	    tm.tm_sec != want.tm_sec)
		return WH_ETOOBIG;
	long long secs = (long long)t - east;
	if (secs < 0)
		return WH_ETOOBIG;
	*ms = (uint64_t)secs * 1000u + (uint64_t)frac;
	return WH_OK;
}
