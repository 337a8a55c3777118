/*
 * A strict RFC 8259 syntax check, run on every request body before json-c
 * builds the document. json-c alone is lenient even in its strict mode
 * (it takes NaN, single-quoted strings, raw control characters in strings
 * and lone surrogate escapes), and it silently keeps the last of duplicated
 * keys; two parsers that disagree about a document are how validation gets
 * bypassed, so the API accepts only what every JSON parser reads the same.
 */
#ifndef FCGI_JSON_STRICT_H
#define FCGI_JSON_STRICT_H

#include <stddef.h>

/* Called for each member name of the top-level object: the raw bytes between the quotes. */
typedef void json_key_fn(const char *raw, size_t len, void *ctx);

struct json_strict_error {
	size_t offset;          /* byte where the document went wrong */
	const char *why;        /* static text */
	char field[64];         /* a nested member name given twice: its path ("cases[2].name"); else "" */
};

/*
 * Checks that s (len bytes, any content) is exactly one JSON value with
 * optional surrounding whitespace, nested at most max_depth deep, with only
 * valid escapes and no lone surrogates, and no member name twice in a
 * nested object (the top level's names go to on_key, for the caller to
 * judge with the field rules). UTF-8 is not checked here. Returns 0 (on_key,
 * if not NULL, was called for each top-level member name), or -1 with err
 * filled.
 */
int json_strict_check(const char *s, size_t len, int max_depth, json_key_fn *on_key, void *ctx,
		      struct json_strict_error *err);

#endif
