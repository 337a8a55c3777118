/* RFC 8259 syntax, by recursive descent bounded by max_depth. */
#include "json_strict.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "json_names.h"

enum { PATH_DEPTH = 32 };

/* Where the check is, per depth: the member name in an object, the index in an array. */
struct path_seg {
	const char *name;       /* raw; NULL in an array */
	size_t len, index;
};

struct cursor {
	const char *start, *p, *end;
	int depth, max_depth;
	json_key_fn *on_key;
	void *ctx;
	const char *why;
	struct path_seg path[PATH_DEPTH];
	struct json_names *names;       /* of the innermost open object */
	char *field;                    /* the error's field path */
	size_t field_size;
};

static int value(struct cursor *c);

static int bad(struct cursor *c, const char *why)
{
	c->why = why;
	return -1;
}

static bool at_end(const struct cursor *c)
{
	return c->p >= c->end;
}

static void skip_ws(struct cursor *c)
{
	while (!at_end(c) && strchr(" \t\r\n", *c->p) && *c->p)
		c->p++;
}

/* Consumes ch, or fails with why. */
static int expect(struct cursor *c, char ch, const char *why)
{
	if (at_end(c) || *c->p != ch)
		return bad(c, at_end(c) ? "unexpected end of input" : why);
	c->p++;
	return 0;
}

static int literal(struct cursor *c, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
		return bad(c, (size_t)(c->end - c->p) < n ? "unexpected end of input" : "invalid literal");
	c->p += n;
	return 0;
}

static int hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Reads the four hex digits after "\u". */
static int hex4(struct cursor *c, unsigned *out)
{
	*out = 0;
	for (int i = 0; i < 4; i++, c->p++) {
		if (at_end(c))
			return bad(c, "unexpected end of input");
		int h = hex_value(*c->p);
		if (h < 0)
			return bad(c, "invalid \\u escape");
		*out = *out << 4 | (unsigned)h;
	}
	return 0;
}

/* After "\u": a high surrogate must be followed by an escaped low one. */
static int unicode_escape(struct cursor *c)
{
	unsigned u, low;
	if (hex4(c, &u))
		return -1;
	if (u >= 0xDC00 && u <= 0xDFFF)
		return bad(c, "lone low surrogate escape");
	if (u < 0xD800 || u > 0xDBFF)
		return 0;
	if (c->end - c->p < 2 || c->p[0] != '\\' || c->p[1] != 'u')
		return bad(c, "high surrogate escape without its low half");
	c->p += 2;
	if (hex4(c, &low))
		return -1;
	if (low < 0xDC00 || low > 0xDFFF)
		return bad(c, "high surrogate escape without its low half");
	return 0;
}

static int escape(struct cursor *c)
{
	if (at_end(c))
		return bad(c, "unexpected end of input");
	char ch = *c->p++;
	if (ch == 'u')
		return unicode_escape(c);
	if (!ch || !strchr("\"\\/bfnrt", ch))
		return bad(c, "invalid escape");
	return 0;
}

/* At the opening quote. Raw control characters must be escaped (RFC 8259 §7). */
static int string(struct cursor *c)
{
	c->p++;
	while (!at_end(c)) {
		unsigned char ch = (unsigned char)*c->p;
		if (ch == '"') {
			c->p++;
			return 0;
		}
		if (ch < 0x20)
			return bad(c, "unescaped control character in string");
		c->p++;
		if (ch == '\\' && escape(c))
			return -1;
	}
	return bad(c, "unterminated string");
}

static bool is_digit(const struct cursor *c)
{
	return !at_end(c) && *c->p >= '0' && *c->p <= '9';
}

static int digits(struct cursor *c)
{
	if (!is_digit(c))
		return bad(c, at_end(c) ? "unexpected end of input" : "invalid number");
	while (is_digit(c))
		c->p++;
	return 0;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int number(struct cursor *c)
{
	if (*c->p == '-')
		c->p++;
	if (!at_end(c) && *c->p == '0')
		c->p++;
	else if (digits(c))
		return -1;
	if (!at_end(c) && *c->p == '.') {
		c->p++;
		if (digits(c))
			return -1;
	}
	if (!at_end(c) && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		if (!at_end(c) && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (digits(c))
			return -1;
	}
	return 0;
}

static int member(struct cursor *c)
{
	skip_ws(c);
	if (at_end(c) || *c->p != '"')
		return bad(c, at_end(c) ? "unexpected end of input" : "expected a member name");
	const char *name = c->p + 1;
	if (string(c))
		return -1;
	size_t len = (size_t)(c->p - 1 - name);
	if (c->depth == 1 && c->on_key)
		c->on_key(name, len, c->ctx);
	if (c->depth > 1 && json_names_add(c->names, name, len))
		return bad(c, "out of memory");
	c->path[c->depth - 1] = (struct path_seg){ name, len, 0 };
	skip_ws(c);
	if (expect(c, ':', "expected ':'"))
		return -1;
	return value(c);
}

/*
 * The shared shape of objects and arrays: open, then items separated by
 * commas, then close; no trailing comma.
 */
static int items(struct cursor *c, char close, int (*item)(struct cursor *))
{
	c->p++;
	skip_ws(c);
	if (!at_end(c) && *c->p == close) {
		c->p++;
		return 0;
	}
	for (;; c->path[c->depth - 1].index++) {
		if (item(c))
			return -1;
		skip_ws(c);
		if (!at_end(c) && *c->p == ',') {
			c->p++;
			continue;
		}
		return expect(c, close, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

/* Appends name (raw) decoded, after a dot unless first; NUL bytes end it. */
static size_t put_name(char *buf, size_t n, size_t size, const char *raw, size_t len, bool first)
{
	char decoded[128];
	size_t dlen = json_name_decode(raw, len < sizeof decoded ? len : 0, decoded);
	int w = snprintf(buf + n, size - n, "%s%.*s", first ? "" : ".", (int)dlen, decoded);
	return w > 0 ? (size_t)w : 0;
}

/* The path of member dup of the object at the current depth, decoded, cut to fit c->field. */
static void duplicate_path(struct cursor *c, const struct json_name *dup)
{
	char buf[256];
	size_t n = 0;
	for (int d = 0; d < c->depth - 1 && n < sizeof buf; d++) {
		const struct path_seg *s = &c->path[d];
		if (s->name) {
			n += put_name(buf, n, sizeof buf, s->name, s->len, d == 0);
		} else {
			int w = snprintf(buf + n, sizeof buf - n, "[%zu]", s->index);
			n += w > 0 ? (size_t)w : 0;
		}
	}
	if (n < sizeof buf)
		n += put_name(buf, n, sizeof buf, dup->raw, dup->raw_len, false);
	n = n < sizeof buf ? n : sizeof buf - 1;
	if (n >= c->field_size) {
		/* Cut at a UTF-8 character boundary: the path goes into a JSON reply. */
		n = c->field_size - 1;
		while (n > 0 && ((unsigned char)buf[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(c->field, buf, n);
	c->field[n] = '\0';
}

/* A nested object's names each once (json-c would silently keep the last). */
static int check_unique(struct cursor *c, struct json_names *names)
{
	const struct json_name *dup = json_names_duplicate(names);
	if (!dup)
		return 0;
	duplicate_path(c, dup);
	c->p = dup->raw;
	return bad(c, "duplicate member name");
}

static int container(struct cursor *c, char close, int (*item)(struct cursor *))
{
	if (++c->depth > c->max_depth || c->depth > PATH_DEPTH)
		return bad(c, "nested too deeply");
	struct json_names names = { 0 }, *outer = c->names;
	c->names = &names;
	c->path[c->depth - 1] = (struct path_seg){ NULL, 0, 0 };
	int rc = items(c, close, item);
	if (rc == 0 && close == '}' && c->depth > 1)
		rc = check_unique(c, &names);
	json_names_free(&names);
	c->names = outer;
	if (rc == 0)
		c->depth--;
	return rc;
}

static int value(struct cursor *c)
{
	skip_ws(c);
	if (at_end(c))
		return bad(c, "unexpected end of input");
	switch (*c->p) {
	case '{': return container(c, '}', member);
	case '[': return container(c, ']', value);
	case '"': return string(c);
	case 't': return literal(c, "true");
	case 'f': return literal(c, "false");
	case 'n': return literal(c, "null");
	default:
		if (*c->p == '-' || (*c->p >= '0' && *c->p <= '9'))
			return number(c);
		return bad(c, "unexpected character");
	}
}

int json_strict_check(const char *s, size_t len, int max_depth, json_key_fn *on_key, void *ctx,
		      struct json_strict_error *err)
{
	struct cursor c = { .start = s, .p = s, .end = s + len, .max_depth = max_depth, .on_key = on_key,
			    .ctx = ctx, .field = err->field, .field_size = sizeof err->field };
	err->field[0] = '\0';
	if (value(&c) == 0) {
		skip_ws(&c);
		if (at_end(&c))
			return 0;
		bad(&c, "data after the JSON value");
	}
	err->offset = (size_t)(c.p - c.start);
	err->why = c.why;
	return -1;
}
