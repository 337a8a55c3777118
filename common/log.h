/* Logging to stderr, one line per event: time, level, program, message. */
#ifndef ENGINE_LOG_H
#define ENGINE_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Sets the program name and the level ("error", "warn", "info", "debug"). */
void log_init(const char *program, const char *level);

/*
 * Tags every following line with "req=ID" until called with NULL; fcgi_app
 * sets it for the duration of a request. The string must outlive the tag.
 * Not for multi-threaded callers.
 */
void log_set_request(const char *id);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
