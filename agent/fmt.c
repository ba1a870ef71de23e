/*
 * fmt.c: text helpers for human output: times, coordinates, and column
 * widths of mixed Chinese/Latin text.
 *
 * Terminals give CJK and full-width characters two columns, so a table
 * padded by bytes or by code points comes out ragged; width here follows
 * the East Asian Width "W"/"F" ranges that matter for our text (a subset
 * of wcwidth, independent of the locale the station PC happens to run).
 * Truncation never splits a UTF-8 sequence.
 */
#include "cli.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

static void split_ms(uint64_t ms, time_t *sec, unsigned *frac)
{
	*sec = (time_t)(ms / 1000u);
	*frac = (unsigned)(ms % 1000u);
}

void cli_time_local(uint64_t ms, char out[CLI_TIME_MAX])
{
	time_t sec;
	unsigned frac;
	struct tm tm;
	split_ms(ms, &sec, &frac);
	if (!localtime_r(&sec, &tm)) {
		snprintf(out, CLI_TIME_MAX, "@%" PRIu64, ms);
		return;
	}
	size_t n = strftime(out, CLI_TIME_MAX, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(out + n, CLI_TIME_MAX - n, ".%03u", frac);
}

void cli_time_iso(uint64_t ms, char out[CLI_TIME_MAX])
{
	time_t sec;
	unsigned frac;
	struct tm tm;
	split_ms(ms, &sec, &frac);
	if (!gmtime_r(&sec, &tm)) {
		snprintf(out, CLI_TIME_MAX, "@%" PRIu64, ms);
		return;
	}
	size_t n = strftime(out, CLI_TIME_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, CLI_TIME_MAX - n, ".%03uZ", frac);
}

void cli_e7_format(int64_t v, char out[24])
{
	uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	snprintf(out, 24, "%s%" PRIu64 ".%07" PRIu64, v < 0 ? "-" : "",
		 a / 10000000u, a % 10000000u);
}

/* Decode one UTF-8 character (input already validated); its length. */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0 && s[1]) {
		*cp = ((uint32_t)(s[0] & 0x1f) << 6) | (s[1] & 0x3f);
		return 2;
	}
	if ((s[0] & 0xf0) == 0xe0 && s[1] && s[2]) {
		*cp = ((uint32_t)(s[0] & 0x0f) << 12) |
		      ((uint32_t)(s[1] & 0x3f) << 6) | (s[2] & 0x3f);
		return 3;
	}
	if ((s[0] & 0xf8) == 0xf0 && s[1] && s[2] && s[3]) {
		*cp = ((uint32_t)(s[0] & 0x07) << 18) |
		      ((uint32_t)(s[1] & 0x3f) << 12) |
		      ((uint32_t)(s[2] & 0x3f) << 6) | (s[3] & 0x3f);
		return 4;
	}
	*cp = 0xfffd; /* not reached for validated text; stay safe */
	return 1;
}

static unsigned cp_width(uint32_t cp)
{
	if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
		return 0;
	if ((cp >= 0x0300 && cp <= 0x036f) || cp == 0x200b ||
	    (cp >= 0xfe00 && cp <= 0xfe0f))
		return 0; /* combining marks, zero width space, selectors */
	if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) ||
	    (cp >= 0x3041 && cp <= 0x33ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
	    (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xa000 && cp <= 0xa4cf) ||
	    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
	    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
	    (cp >= 0xffe0 && cp <= 0xffe6) ||
	    (cp >= 0x1f300 && cp <= 0x1f64f) ||
	    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
	    (cp >= 0x20000 && cp <= 0x3fffd))
		return 2;
	return 1;
}

size_t cli_text_width(const char *s)
{
	size_t w = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		uint32_t cp;
		p += utf8_next(p, &cp);
		w += cp_width(cp);
	}
	return w;
}

/* Columns of a character in a table cell, where control characters
 * (newlines in a title) are shown as one space so rows stay rows. */
static unsigned cell_width(uint32_t cp)
{
	return cp < 0x20 ? 1 : cp_width(cp);
}

void cli_print_cell(FILE *f, const char *s, size_t width, int last)
{
	if (!s)
		s = "";
	const unsigned char *p = (const unsigned char *)s;
	size_t total = 0;
	while (*p) {
		uint32_t cp;
		p += utf8_next(p, &cp);
		total += cell_width(cp);
	}
	/* When it does not fit, leave one column for the ellipsis. */
	size_t budget = total <= width ? width : (width ? width - 1 : 0);
	size_t used = 0;
	for (p = (const unsigned char *)s; *p;) {
		uint32_t cp;
		size_t len = utf8_next(p, &cp);
		unsigned cw = cell_width(cp);
		if (used + cw > budget)
			break;
		if (cp < 0x20)
			fputc(' ', f);
		else
			fwrite(p, 1, len, f);
		used += cw;
		p += len;
	}
	if (total > width) {
		fputs("…", f);
		used++;
	}
	if (!last)
		for (; used < width; used++)
			fputc(' ', f);
}

void cli_author(const struct cli *c, const uint8_t pk[WH_PK_BYTES],
		char out[16])
{
	if (c->key && !memcmp(pk, c->key->pk, WH_PK_BYTES)) {
		strcpy(out, "本站");
		return;
	}
	char hex[2 * WH_PK_BYTES + 1];
	wh_hex(pk, WH_PK_BYTES, hex);
	memcpy(out, hex, 8);
	out[8] = '\0';
}
