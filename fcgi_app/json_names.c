/* Duplicate member names of one object (json_names.h). */
#include "json_names.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static unsigned hex4_at(const char *p)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char ch = p[i];
		v = v << 4 | (unsigned)(ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10);
	}
	return v;
}

static size_t put_utf8(unsigned cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

size_t json_name_decode(const char *raw, size_t raw_len, char *out)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	size_t n = 0;
	for (size_t i = 0; i < raw_len; i++) {
		if (raw[i] != '\\') {
			out[n++] = raw[i];
			continue;
		}
		char e = raw[++i];
		if (e != 'u') {
			out[n++] = to[strchr(from, e) - from];
			continue;
		}
		unsigned cp = hex4_at(raw + i + 1);
		i += 4;
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4_at(raw + i + 3) - 0xDC00);
			i += 6;
		}
		n += put_utf8(cp, out + n);
	}
	return n;
}

int json_names_add(struct json_names *s, const char *raw, size_t raw_len)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		struct json_name *v = realloc(s->v, cap * sizeof *v);
		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	char *d = malloc(raw_len ? raw_len : 1);
	if (!d)
		return -1;
	s->v[s->n++] = (struct json_name){ raw, raw_len, d, json_name_decode(raw, raw_len, d) };
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	const struct json_name *x = a, *y = b;
	int c = memcmp(x->decoded, y->decoded, x->len < y->len ? x->len : y->len);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

const struct json_name *json_names_duplicate(struct json_names *s)
{
	if (s->n < 2)
		return NULL;
	/* Sorted, equal names are neighbours: n log n for an object of many members. */
	qsort(s->v, s->n, sizeof *s->v, name_cmp);
	for (size_t i = 1; i < s->n; i++)
		if (name_cmp(&s->v[i - 1], &s->v[i]) == 0)
			return &s->v[i];
	return NULL;
}

void json_names_free(struct json_names *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].decoded);
	free(s->v);
	*s = (struct json_names){ 0 };
}
