/*
 * A check's output parsed into diagnostics (diagnostics.c): each checker
 * of the language table prints its findings its own way; `format` (the
 * table's diagnostics key) names the parser.
 */
#ifndef RUNNER_DIAGNOSTICS_H
#define RUNNER_DIAGNOSTICS_H

#include <stddef.h>

/*
 * Parses text (the checker's stdout and stderr, NUL-terminated) as format
 * for findings in file. Returns a malloc'd JSON array of {"line", "column",
 * "severity", "code", "message"} (line, column and code may be null), or
 * NULL for an unknown format or when out of memory.
 */
char *diagnostics_parse(const char *format, const char *file, const char *text);

/* True if format names a parser. */
int diagnostics_known(const char *format);

#endif
