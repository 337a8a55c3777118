/* Table-driven validation of JSON request bodies. */
#include "validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

#define JSON_MAX_DEPTH 16

enum limit_kind { LIMIT_SOURCE, LIMIT_STDIN, LIMIT_NAME };

struct field_rule {
	enum field_id id;
	const char *name;
	bool required;
	enum limit_kind limit;
	const char *const *one_of;      /* allowed values, NULL-terminated, or NULL */
};

struct body_rules {
	bool body_optional;             /* an empty body means {} */
	const struct field_rule *fields;
	int nfields;
};

static const char *const languages[] = { "python", NULL };

static const struct field_rule session_create_fields[] = {
	{ FIELD_LANGUAGE, "language", true, LIMIT_NAME, languages },
	{ FIELD_TEMPLATE_CODE, "template_code", false, LIMIT_SOURCE, NULL },
};
static const struct field_rule session_update_fields[] = {
	{ FIELD_SOURCE_CODE, "source_code", true, LIMIT_SOURCE, NULL },
};
static const struct field_rule run_fields[] = {
	{ FIELD_STDIN, "stdin", false, LIMIT_STDIN, NULL },
};

#define RULES(optional, f) { optional, f, (int)(sizeof(f) / sizeof(f[0])) }
static const struct body_rules body_rules[BODY__MAX] = {
	[BODY_SESSION_CREATE] = RULES(false, session_create_fields),
	[BODY_SESSION_UPDATE] = RULES(false, session_update_fields),
	[BODY_RUN] = RULES(true, run_fields),
};

static int fail(struct verror *err, const char *code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct verror *err, const char *code, const char *field, const char *fmt, ...)
{
	va_list ap;
	err->status = 400;
	err->code = code;
	err->field = field;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

static long limit_bytes(enum limit_kind limit, const struct config *cfg)
{
	switch (limit) {
	case LIMIT_SOURCE: return cfg->max_source_bytes;
	case LIMIT_STDIN: return cfg->max_stdin_bytes;
	default: return 64;
	}
}

/* Parses body into a JSON object. Returns it, or NULL with err set. */
static json_object *parse_object(const char *body, size_t len, struct verror *err)
{
	json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (!tok) {
		fail(err, "INVALID_JSON", NULL, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *doc = json_tokener_parse_ex(tok, body, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (jerr != json_tokener_success || !doc) {
		json_object_put(doc);
		fail(err, "INVALID_JSON", NULL, "body is not valid JSON: %s",
		     jerr == json_tokener_continue ? "unexpected end of input" : json_tokener_error_desc(jerr));
		return NULL;
	}
	for (; used < len; used++) {
		if (!strchr(" \t\r\n", body[used])) {
			json_object_put(doc);
			fail(err, "INVALID_JSON", NULL, "body has data after the JSON value (byte %zu)", used);
			return NULL;
		}
	}
	if (!json_object_is_type(doc, json_type_object)) {
		json_object_put(doc);
		fail(err, "INVALID_JSON", NULL, "body must be a JSON object");
		return NULL;
	}
	return doc;
}

static const struct field_rule *rule_find(const struct body_rules *rules, const char *name)
{
	for (int i = 0; i < rules->nfields; i++)
		if (strcmp(rules->fields[i].name, name) == 0)
			return &rules->fields[i];
	return NULL;
}

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static int check_field(const struct field_rule *r, json_object *val, const struct config *cfg,
		       struct field_value *out, struct verror *err)
{
	if (!json_object_is_type(val, json_type_string))
		return fail(err, "INVALID_FIELD", r->name, "%s must be a string", r->name);
	const char *s = json_object_get_string(val);
	size_t len = (size_t)json_object_get_string_len(val);
	long max = limit_bytes(r->limit, cfg);
	if ((long)len > max)
		return fail(err, "INVALID_FIELD", r->name, "%s is %zu bytes; the limit is %ld",
			    r->name, len, max);
	if (memchr(s, '\0', len))
		return fail(err, "INVALID_FIELD", r->name, "%s must not contain NUL characters", r->name);
	if (!utf8_valid(s, len))
		return fail(err, "INVALID_FIELD", r->name, "%s is not valid UTF-8", r->name);
	if (r->one_of && !in_list(s, r->one_of))
		return fail(err, "UNSUPPORTED_LANGUAGE", r->name, "%s \"%.32s\" is not supported; use \"python\"",
			    r->name, s);
	out->present = true;
	out->str = s;
	out->len = len;
	return 0;
}

/* Checks every member of doc against rules, then the required ones. */
static int check_object(const struct body_rules *rules, json_object *doc, const struct config *cfg,
			struct validated *out, struct verror *err)
{
	json_object_object_foreach(doc, key, val) {
		const struct field_rule *r = rule_find(rules, key);
		if (!r) {
			snprintf(err->field_buf, sizeof(err->field_buf), "%s", key);
			return fail(err, "UNKNOWN_FIELD", err->field_buf, "unknown field \"%s\"",
				    err->field_buf);
		}
		if (check_field(r, val, cfg, &out->fields[r->id], err))
			return -1;
	}
	for (int i = 0; i < rules->nfields; i++) {
		const struct field_rule *r = &rules->fields[i];
		if (r->required && !out->fields[r->id].present)
			return fail(err, "MISSING_FIELD", r->name, "%s is required", r->name);
	}
	return 0;
}

int validate_body(enum body_kind kind, const char *body, size_t len, const struct config *cfg,
		  struct validated *out, struct verror *err)
{
	const struct body_rules *rules = &body_rules[kind];
	memset(out, 0, sizeof(*out));
	if (len == 0 && rules->body_optional)
		return 0;
	if (len == 0)
		return fail(err, "INVALID_JSON", NULL, "a JSON object body is required");
	out->doc = parse_object(body, len, err);
	if (!out->doc)
		return -1;
	if (check_object(rules, out->doc, cfg, out, err)) {
		validated_free(out);
		return -1;
	}
	return 0;
}

void validated_free(struct validated *v)
{
	json_object_put(v->doc);
	v->doc = NULL;
}
