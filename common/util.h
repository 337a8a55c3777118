/* Small helpers both programs need: clocks, timestamps, UUIDs, UTF-8. */
#ifndef ENGINE_UTIL_H
#define ENGINE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UUID_LEN 36
#define RFC3339_LEN 25   /* "2026-01-02T03:04:05.678Z" plus NUL */

/* Wall-clock time in milliseconds since the epoch. */
int64_t now_ms(void);
/* Monotonic time in milliseconds, for intervals. */
int64_t mono_ms(void);

/* Formats epoch milliseconds as RFC 3339 UTC with milliseconds. */
void rfc3339(int64_t ms, char out[RFC3339_LEN]);

/* Writes a new random lower-case UUID and its NUL. */
void uuid_new(char out[UUID_LEN + 1]);
/* True if s is exactly a canonical 36-character UUID (either case). */
bool uuid_valid(const char *s, size_t len);

/* True if buf holds well-formed UTF-8 (no overlongs, no surrogates). */
bool utf8_valid(const char *buf, size_t len);
/*
 * Copies buf to out, replacing every ill-formed sequence with U+FFFD.
 * out must hold 3 * len + 1 bytes. Returns the length written (NUL added).
 */
size_t utf8_sanitize(const char *buf, size_t len, char *out);

/* True if word (non-empty) is one of the space-separated words of list. */
bool str_word_listed(const char *list, const char *word);

/* Cuts leading and trailing blanks of s in place; returns the first non-blank. */
char *str_trim(char *s);

#endif
