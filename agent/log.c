/*
 * log.c: see log.h. Each line is formatted into one buffer and written
 * with a single write(2), so lines from several processes sharing a
 * terminal or a log file never interleave mid-line. Control characters
 * in the message (a peer's name is ours, but an error text may not be)
 * are shown as '?', so one event stays one line: journald splits on
 * newlines, and a '<' at the start of a continuation would even be read
 * as a level.
 */
#include "log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static enum log_level cur = LOGL_INFO;
static int form = -1; /* enum log_form once chosen */

static const char *const names[] = {"error", "warn", "info", "debug"};
/* sd-daemon(3): SD_ERR, SD_WARNING, SD_INFO, SD_DEBUG */
static const char syslog_level[] = {'3', '4', '6', '7'};

/* systemd sets JOURNAL_STREAM=DEV:INODE for the stream it connected;
 * a child whose stderr was redirected elsewhere inherits the variable,
 * so it counts only if stderr is that very stream. */
static int stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	if (!js || !*js)
		return 0;
	uintmax_t dev, ino;
	char tail;
	if (sscanf(js, "%ju:%ju%c", &dev, &ino, &tail) != 2)
		return 0;
	struct stat st;
	if (fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

enum log_form log_form_detect(void)
{
	if (stderr_is_journal())
		return LOG_FORM_JOURNAL;
	return isatty(STDERR_FILENO) ? LOG_FORM_TTY : LOG_FORM_PREFIX;
}

void log_form_set(enum log_form f) { form = (int)f; }

enum log_form log_form_get(void)
{
	if (form < 0)
		form = (int)log_form_detect();
	return (enum log_form)form;
}

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
	enum log_form f = log_form_get();
	char lv = syslog_level[(unsigned)level <= LOGL_DEBUG ? level : 0];
	int n;
	if (f == LOG_FORM_JOURNAL)
		n = snprintf(line, sizeof line, "<%c>", lv);
	else if (f == LOG_FORM_PREFIX)
		n = snprintf(line, sizeof line, "<%c>whistle[%ld]: %s: ", lv,
			     (long)getpid(), log_level_name(level));
	else
		n = snprintf(line, sizeof line, "whistle[%ld]: %s: ",
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
