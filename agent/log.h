/*
 * log.h: the agent's tiny logging API. One line per event worth knowing,
 * to stderr, as "whistle[PID]: LEVEL: message". Nothing else in Whistle
 * logs: net/ reports events through callbacks and the agent words them.
 * Secret keys never reach a log line.
 */
#ifndef WH_LOG_H
#define WH_LOG_H

enum log_level {
	LOGL_ERROR = 0,
	LOGL_WARN = 1,
	LOGL_INFO = 2,
	LOGL_DEBUG = 3
};

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
