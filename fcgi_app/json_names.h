/*
 * The member names of one JSON object, to find a name given twice. Names
 * are compared decoded ("a" and "\u0061" are the same name), as every
 * parser that reads the object compares them.
 */
#ifndef FCGI_JSON_NAMES_H
#define FCGI_JSON_NAMES_H

#include <stddef.h>

struct json_name {
	const char *raw;        /* between the quotes, borrowed from the document */
	size_t raw_len;
	char *decoded;          /* malloc'd; may hold NUL bytes */
	size_t len;
};

struct json_names {
	struct json_name *v;
	size_t n, cap;
};

/*
 * The string body raw (valid JSON: the syntax check passed it) with its
 * escapes resolved into out, which has room for raw_len bytes (no escape
 * decodes longer than itself). Returns the decoded length.
 */
size_t json_name_decode(const char *raw, size_t raw_len, char *out);

/* Adds a raw name (already checked as a JSON string body). Returns 0, or -1 when out of memory. */
int json_names_add(struct json_names *s, const char *raw, size_t raw_len);

/* A name that occurs more than once (s is reordered), or NULL. */
const struct json_name *json_names_duplicate(struct json_names *s);

void json_names_free(struct json_names *s);

#endif
