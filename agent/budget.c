/*
 * budget.c: the "budget = NAME SIZE/h" line of whistle.conf (budget.h).
 * The one decoder of that value: bounds first, a clear reason on error.
 */
#include "budget.h"

#include "wh.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *unit;
	uint64_t mul;
} units[] = {
	{"B", 1},
	{"KB", 1000},
	{"MB", 1000000},
	{"GB", 1000000000},
	{"KiB", 1024},
	{"MiB", 1024 * 1024},
	{"GiB", 1024 * 1024 * 1024},
};

int budget_parse(const char *v, char name[BUDGET_NAME_MAX + 1],
		 uint64_t *bytes, char *why, size_t whycap)
{
	const char *sp = strchr(v, ' ');
	if (!sp || sp == v) {
		snprintf(why, whycap, "'%s': expected NAME SIZE/h, e.g. "
			 "'hub 20MiB/h'", v);
		return WH_EINVAL;
	}
	size_t nn = (size_t)(sp - v);
	if (nn > BUDGET_NAME_MAX) {
		snprintf(why, whycap, "'%s': peer name too long", v);
		return WH_EINVAL;
	}
	memcpy(name, v, nn);
	name[nn] = '\0';
	const char *p = sp;
	while (*p == ' ')
		p++;
	uint64_t num = 0;
	const char *d = p;
	while (*p >= '0' && *p <= '9') {
		if (num > (UINT64_MAX - 9) / 10) {
			snprintf(why, whycap, "'%s': size too large", v);
			return WH_EINVAL;
		}
		num = num * 10 + (uint64_t)(*p - '0');
		p++;
	}
	if (p == d) {
		snprintf(why, whycap, "'%s': expected a size after the name "
			 "(e.g. 20MiB/h)", v);
		return WH_EINVAL;
	}
	while (*p == ' ')
		p++;
	const char *slash = strchr(p, '/');
	if (!slash || strcmp(slash, "/h") != 0) {
		snprintf(why, whycap, "'%s': the size must be per hour "
			 "(end with /h)", v);
		return WH_EINVAL;
	}
	size_t un = (size_t)(slash - p);
	uint64_t mul = 0;
	if (un == 0)
		mul = 1;
	for (size_t i = 0; !mul && i < sizeof units / sizeof units[0]; i++)
		if (strlen(units[i].unit) == un &&
		    !memcmp(units[i].unit, p, un))
			mul = units[i].mul;
	if (!mul) {
		snprintf(why, whycap, "'%s': unknown unit '%.*s' (B, KB, MB, "
			 "GB, KiB, MiB, GiB)", v, (int)un, p);
		return WH_EINVAL;
	}
	if (num > UINT64_MAX / mul) {
		snprintf(why, whycap, "'%s': size too large", v);
		return WH_EINVAL;
	}
	*bytes = num * mul;
	if (*bytes < BUDGET_MIN) {
		snprintf(why, whycap, "'%s': at least 1KiB/h (the protocol's "
			 "own messages need room)", v);
		return WH_EINVAL;
	}
	return WH_OK;
}

void budget_format(uint64_t b, char *out, size_t cap)
{
	if (b >= (1u << 30) && b % (1u << 30) == 0)
		snprintf(out, cap, "%llu GiB", (unsigned long long)(b >> 30));
	else if (b >= (1u << 20))
		snprintf(out, cap, "%.1f MiB", (double)b / (1u << 20));
	else if (b >= 1024)
		snprintf(out, cap, "%.1f KiB", (double)b / 1024);
	else
		snprintf(out, cap, "%llu B", (unsigned long long)b);
}
