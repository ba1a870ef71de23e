/*
 * log.h: the agent's tiny logging API. One line per event worth knowing,
 * to stderr, framed for whoever reads it (enum log_form). Nothing else in
 * Whistle logs: net/ reports events through callbacks and the agent words
 * them. Secret keys never reach a log line.
 */
#ifndef WH_LOG_H
#define WH_LOG_H

enum log_level {
	LOGL_ERROR = 0,
	LOGL_WARN = 1,
	LOGL_INFO = 2,
	LOGL_DEBUG = 3
};

/*
 * How a line is framed, chosen once (at the first line or log_form_set):
 *   LOG_FORM_TTY      "whistle[PID]: LEVEL: message", stderr is a terminal
 *   LOG_FORM_PREFIX   "<N>whistle[PID]: LEVEL: message", stderr is a file
 *                     or a pipe: N is the syslog level (3 error, 4 warn,
 *                     6 info, 7 debug, as sd-daemon(3)), which journald,
 *                     and any collector that knows the convention, keeps
 *   LOG_FORM_JOURNAL  "<N>message", stderr is the journal's own stream
 *                     ($JOURNAL_STREAM names its device and inode): the
 *                     journal records the name, pid and level itself
 */
enum log_form { LOG_FORM_TTY, LOG_FORM_PREFIX, LOG_FORM_JOURNAL };

/* The form for the stderr this process has now (the rule above). */
enum log_form log_form_detect(void);
/* Fix the form (tests, or a caller that knows better). */
void log_form_set(enum log_form form);
enum log_form log_form_get(void);

/* Lines above 'level' are skipped; the default is LOGL_INFO. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* "error", "warn", "info", "debug" -> the level; -1 if none matches. */
int log_level_parse(const char *s);
const char *log_level_name(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOGL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOGL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOGL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOGL_DEBUG, __VA_ARGS__)

#endif
