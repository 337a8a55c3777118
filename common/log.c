#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_program = "engine";
static enum log_level log_threshold = LOG_INFO;
static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const char *log_request;

void log_set_request(const char *id)
{
	log_request = id;
}

void log_init(const char *program, const char *level)
{
	log_program = program;
	for (int i = LOG_ERROR; i <= LOG_DEBUG; i++)
		if (level && strcmp(level, level_names[i]) == 0)
			log_threshold = (enum log_level)i;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (level > log_threshold)
		return;
	char line[2048];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s[%d]: ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, ts.tv_nsec / 1000000, level_names[level], log_program, (int)getpid());
	if (log_request)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "req=%s ", log_request);
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	/* One write per line keeps lines whole when many processes share stderr. */
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
}
