/*
 * progress.c: see progress.h. The line is built in one buffer, cut to
 * the terminal's width (a line that wraps can no longer be redrawn in
 * place with "\r") and written with one write(2). Labels, verbs and
 * units are ASCII, so cutting at a byte is cutting at a column.
 */
#include "progress.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void put(const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(STDERR_FILENO, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* nowhere to show it: not worth an error */
		s += w;
		n -= (size_t)w;
	}
}

int progress_wanted(int quiet)
{
	return !quiet && isatty(STDERR_FILENO);
}

void progress_start(struct progress *p, const char *label, const char *verb,
		    const char *unit, int quiet)
{
	memset(p, 0, sizeof *p);
	p->label = label;
	p->verb = verb ? verb : "";
	p->unit = unit;
	p->on = progress_wanted(quiet);
	p->delay_ms = PROGRESS_DELAY_MS;
	const char *d = getenv("WHISTLE_PROGRESS_DELAY_MS");
	if (d && *d >= '0' && *d <= '9') {
		char *end;
		unsigned long v = strtoul(d, &end, 10);
		if (!*end && v <= 600000)
			p->delay_ms = v;
	}
	p->now = mono_ms;
	p->t0 = p->tlast = mono_ms();
}

void progress_verb(struct progress *p, const char *verb)
{
	p->verb = verb ? verb : "";
}

/* 12345678 -> "12,345,678" */
static void grouped(uint64_t v, char out[32])
{
	char digits[24];
	int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v);
	int o = 0;
	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
}

/* Seconds left as "9 s", "3 min 10 s", "1 h 05 min". */
static void left(uint64_t s, char out[32])
{
	if (s < 60)
		snprintf(out, 32, "%u s", (unsigned)s);
	else if (s < 3600)
		snprintf(out, 32, "%u min %02u s", (unsigned)(s / 60),
			 (unsigned)(s % 60));
	else
		snprintf(out, 32, "%u h %02u min", (unsigned)(s / 3600),
			 (unsigned)(s / 60 % 60));
}

static int columns(void)
{
	struct winsize ws;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/*
 * Redraw if due. total: items expected (0 unknown). pos/end: the share
 * by another measure when end > 0 (takes precedence over total for the
 * share and the time left, not for the "of N" count).
 */
static void draw(struct progress *p, uint64_t done, uint64_t total,
		 uint64_t pos, uint64_t end)
{
	if (!p->on)
		return;
	uint64_t t = p->now();
	if (done < p->done) /* started over: so does the rate */
		p->t0 = t;
	p->done = done;
	if (t - p->t0 < p->delay_ms && !p->shown)
		return;
	if (p->shown && t - p->tlast < PROGRESS_REDRAW_MS)
		return;
	p->tlast = t;
	uint64_t ms = t - p->t0 ? t - p->t0 : 1;
	char line[256], n1[32], n2[32], r[32], l[32];
	grouped(done, n1);
	grouped(done * 1000 / ms, r);
	int len = snprintf(line, sizeof line, "\r\033[K%s: %s%s%s", p->label,
			   p->verb, *p->verb ? " " : "", n1);
	if (total && !end) {
		grouped(total, n2);
		len += snprintf(line + len, sizeof line - (size_t)len,
				" of %s", n2);
	}
	len += snprintf(line + len, sizeof line - (size_t)len, " %s (%s/s)",
			p->unit, r);
	/* share and time left: by position if given, else by count */
	uint64_t a = end ? pos : done, b = end ? end : total;
	if (b && a <= b) {
		len += snprintf(line + len, sizeof line - (size_t)len, ", %u%%",
				(unsigned)(a * 100 / b));
		/* a guess needs something to go on: a second and a start */
		if (a && a < b && ms >= 1000) {
			left((b - a) * ms / a / 1000, l);
			len += snprintf(line + len, sizeof line - (size_t)len,
					", about %s left", l);
		}
	}
	if (len < 0 || (size_t)len >= sizeof line)
		len = (int)sizeof line - 1;
	int width = columns() - 1 + 4; /* "\r\033[K" takes no columns */
	if (len > width)
		len = width;
	put(line, (size_t)len);
	p->shown = 1;
}

void progress_update(struct progress *p, uint64_t done, uint64_t total)
{
	draw(p, done, total, 0, 0);
}

void progress_update_at(struct progress *p, uint64_t done, uint64_t pos,
			uint64_t end)
{
	draw(p, done, 0, pos, end);
}

void progress_clear(struct progress *p)
{
	if (p->shown) {
		put("\r\033[K", 4);
		p->shown = 0;
	}
}

void progress_end(struct progress *p)
{
	progress_clear(p);
	p->on = 0;
}
