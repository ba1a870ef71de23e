/*
 * log.c: see log.h. Each line is formatted into one buffer and written
 * with a single write(2), so lines from several processes sharing a
 * terminal or a log file never interleave mid-line. Control characters
 * in the message (a peer's name is ours, but an error text may not be)
 * are shown as '?', so one event stays one line.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static enum log_level cur = LOGL_INFO;

static const char *const names[] = {"error", "warn", "info", "debug"};

void log_set_level(enum log_level level) { cur = level; }

enum log_level log_get_level(void) { return cur; }

int log_level_parse(const char *s)
{
	for (int i = 0; i <= LOGL_DEBUG; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

const char *log_level_name(enum log_level level)
{
	return (unsigned)level <= LOGL_DEBUG ? names[level] : "?";
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (level > cur)
		return;
	char line[1024];
	int n = snprintf(line, sizeof line, "whistle[%ld]: %s: ",
			 (long)getpid(), log_level_name(level));
	if (n < 0 || (size_t)n >= sizeof line)
		return;
	size_t head = (size_t)n;
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + head, sizeof line - head - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	size_t len = head + (size_t)m;
	if (len > sizeof line - 2)
		len = sizeof line - 2; /* truncated: still one line */
	for (size_t i = head; i < len; i++)
		if ((unsigned char)line[i] < 0x20)
			line[i] = '?';
	line[len++] = '\n';
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(STDERR_FILENO, line + off, len - off);
		if (w <= 0)
			break; /* nowhere to complain to */
		off += (size_t)w;
	}
}
