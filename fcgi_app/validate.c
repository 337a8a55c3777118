/* Table-driven validation of JSON request bodies. */
#include "validate.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_strict.h"
#include "util.h"

#define JSON_MAX_DEPTH 16

enum limit_kind {
	LIMIT_SOURCE, LIMIT_STDIN, LIMIT_NAME,
	LIMIT_SLUG,             /* a platform id, as ID_SLUG */
	LIMIT_BOOLEAN,          /* a JSON boolean, not a string */
	LIMIT_FILES,            /* a session's files: validate_files */
	LIMIT_PATH,             /* a session file's path: validate_file_path */
};

struct field_rule {
	enum field_id id;
	const char *name;
	bool required;
	enum limit_kind limit;
	const char *const *one_of;      /* allowed values, NULL-terminated, or NULL */
};

struct body_rules {
	bool body_optional;             /* an empty body means {} */
	bool need_one;                  /* at least one of the fields must be given */
	const struct field_rule *fields;
	int nfields;
	/* A body of nested members: checks the whole document instead of fields. */
	int (*check_doc)(json_object *doc, const struct config *cfg, struct verror *err);
};

/* The ids of the language table, set once at start (validate_set_languages). */
static const char *languages[LANGUAGES_MAX + 1];
static char language_list[LANGUAGES_MAX * (LANG_ID_MAX + 2)];

void validate_set_languages(const struct language_table *t)
{
	int n = 0;

	for (int i = 0; i < t->n && i < LANGUAGES_MAX; i++)
		languages[n++] = t->langs[i].id;
	languages[n] = NULL;
	languages_ids(t, language_list, sizeof(language_list));
}

static const struct field_rule session_create_fields[] = {
	{ FIELD_LANGUAGE, "language", true, LIMIT_NAME, languages },
	{ FIELD_TEMPLATE_CODE, "template_code", false, LIMIT_SOURCE, NULL },
	{ FIELD_FILES, "files", false, LIMIT_FILES, NULL },
	{ FIELD_ENTRY, "entry", false, LIMIT_PATH, NULL },
};
static const struct field_rule file_put_fields[] = {
	{ FIELD_CONTENT, "content", true, LIMIT_SOURCE, NULL },
};
static const struct field_rule session_update_fields[] = {
	{ FIELD_SOURCE_CODE, "source_code", true, LIMIT_SOURCE, NULL },
};
static const struct field_rule run_fields[] = {
	{ FIELD_STDIN, "stdin", false, LIMIT_STDIN, NULL },
	{ FIELD_INTERACTIVE, "interactive", false, LIMIT_BOOLEAN, NULL },
};
/* Everything sent to one execution counts against max_stdin_bytes too (store_stdin.c). */
static const struct field_rule stdin_fields[] = {
	{ FIELD_DATA, "data", false, LIMIT_STDIN, NULL },
	{ FIELD_EOF, "eof", false, LIMIT_BOOLEAN, NULL },
};

/* Checked by validate_suite; listed for the duplicate check only. */
static const struct field_rule suite_fields[] = {
	{ FIELD_CASES, "cases", true, LIMIT_NAME, NULL },
	{ FIELD_COMPARE, "compare", false, LIMIT_NAME, NULL },
};

static const struct field_rule submit_fields[] = {
	{ FIELD_SUITE_ID, "suite_id", true, LIMIT_SLUG, NULL },
	{ FIELD_STOP_ON_FIRST_FAILURE, "stop_on_first_failure", false, LIMIT_BOOLEAN, NULL },
};

#define RULES(optional, f) { optional, false, f, (int)(sizeof(f) / sizeof(f[0])), NULL }
static const struct body_rules body_rules[BODY__MAX] = {
	[BODY_NONE] = { true, false, NULL, 0, NULL },
	[BODY_SESSION_CREATE] = RULES(false, session_create_fields),
	[BODY_SESSION_UPDATE] = RULES(false, session_update_fields),
	[BODY_RUN] = RULES(true, run_fields),
	[BODY_CHECK] = { true, false, NULL, 0, NULL },
	[BODY_EMPTY] = { true, false, NULL, 0, NULL },
	[BODY_STDIN] = { false, true, stdin_fields, (int)(sizeof(stdin_fields) / sizeof(stdin_fields[0])), NULL },
	[BODY_SUITE] = { false, false, suite_fields, (int)(sizeof(suite_fields) / sizeof(suite_fields[0])),
			 validate_suite },
	[BODY_SUBMIT] = RULES(false, submit_fields),
	[BODY_FILE_PUT] = RULES(false, file_put_fields),
};

/* Top-level member names seen by the syntax check, per known field. */
struct key_count {
	const struct body_rules *rules;
	int seen[FIELD__MAX];
};

static const struct field_rule *rule_find(const struct body_rules *rules, const char *name);
static bool slug_valid(const char *id, size_t len);

/*
 * Decodes a raw member name (escapes allowed) into buf. Returns buf, or NULL
 * if it cannot be a field name (too long, or a NUL inside).
 */
static const char *key_decode(const char *raw, size_t len, char *buf, size_t buflen)
{
	if (len >= buflen)
		return NULL;
	if (!memchr(raw, '\\', len)) {
		memcpy(buf, raw, len);
		buf[len] = '\0';
		return buf;
	}
	char quoted[80];
	snprintf(quoted, sizeof(quoted), "\"%.*s\"", (int)len, raw);
	json_object *o = json_tokener_parse(quoted);
	const char *s = json_object_get_string(o);
	size_t n = (size_t)json_object_get_string_len(o);
	const char *out = NULL;
	if (s && n < buflen && !memchr(s, '\0', n)) {
		memcpy(buf, s, n + 1);
		out = buf;
	}
	json_object_put(o);
	return out;
}

static void key_seen(const char *raw, size_t len, void *ctx)
{
	struct key_count *kc = ctx;
	char name[64];
	const char *key = key_decode(raw, len, name, sizeof(name));
	const struct field_rule *r = key ? rule_find(kc->rules, key) : NULL;
	if (r)
		kc->seen[r->id]++;
}

int verror_set(struct verror *err, const char *code, const char *field, const char *fmt, ...)
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

/*
 * The syntax gate in front of json-c: UTF-8 first (anywhere in the body),
 * then strict RFC 8259 syntax, counting the top-level member names as it
 * goes so that duplicates can be refused later (a name twice in a nested
 * object, such as a suite's case, is refused here, by its path).
 */
static int check_syntax(const char *body, size_t len, struct key_count *kc, struct verror *err)
{
	struct json_strict_error jerr;
	if (!utf8_valid(body, len))
		return verror_set(err, "INVALID_JSON", NULL, "body is not valid UTF-8");
	if (json_strict_check(body, len, JSON_MAX_DEPTH, key_seen, kc, &jerr)) {
		if (!jerr.field[0])
			return verror_set(err, "INVALID_JSON", NULL, "body is not valid JSON: %s at byte %zu",
					  jerr.why, jerr.offset);
		snprintf(err->field_buf, sizeof(err->field_buf), "%s", jerr.field);
		return verror_set(err, "DUPLICATE_FIELD", err->field_buf, "%s appears more than once", err->field_buf);
	}
	size_t first = 0;
	while (first < len && strchr(" \t\r\n", body[first]) && body[first])
		first++;
	if (first == len || body[first] != '{')
		return verror_set(err, "INVALID_JSON", NULL, "body must be a JSON object");
	return 0;
}

/* Builds the document of a body check_syntax passed. Returns it, or NULL with err set. */
static json_object *parse_object(const char *body, size_t len, struct verror *err)
{
	json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (!tok) {
		verror_set(err, "INVALID_JSON", NULL, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *doc = json_tokener_parse_ex(tok, body, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	/* Fail closed if the two parsers ever disagree. */
	if (jerr != json_tokener_success || !doc) {
		json_object_put(doc);
		verror_set(err, "INVALID_JSON", NULL, "body is not valid JSON: %s",
		     jerr == json_tokener_continue ? "unexpected end of input" : json_tokener_error_desc(jerr));
		return NULL;
	}
	if (!json_object_is_type(doc, json_type_object)) {
		json_object_put(doc);
		verror_set(err, "INVALID_JSON", NULL, "body must be a JSON object");
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
	if (r->limit == LIMIT_BOOLEAN) {
		if (!json_object_is_type(val, json_type_boolean))
			return verror_set(err, "INVALID_FIELD", r->name, "%s must be true or false", r->name);
		out->present = true;
		out->boolean = json_object_get_boolean(val);
		return 0;
	}
	if (r->limit == LIMIT_FILES) {
		if (validate_files(val, cfg, err))
			return -1;
		out->present = true;
		out->json = val;
		return 0;
	}
	if (!json_object_is_type(val, json_type_string))
		return verror_set(err, "INVALID_FIELD", r->name, "%s must be a string", r->name);
	const char *s = json_object_get_string(val);
	size_t len = (size_t)json_object_get_string_len(val);
	long max = limit_bytes(r->limit, cfg);
	if ((long)len > max)
		return verror_set(err, "INVALID_FIELD", r->name, "%s is %zu bytes; the limit is %ld",
			    r->name, len, max);
	if (memchr(s, '\0', len))
		return verror_set(err, "INVALID_FIELD", r->name, "%s must not contain NUL characters", r->name);
	if (!utf8_valid(s, len))
		return verror_set(err, "INVALID_FIELD", r->name, "%s is not valid UTF-8", r->name);
	if (r->limit == LIMIT_PATH && validate_file_path(s, len, err))
		return -1;
	if (r->limit == LIMIT_SLUG && !slug_valid(s, len))
		return verror_set(err, "INVALID_FIELD", r->name, "%s must be 1 to %d of A-Z a-z 0-9 . _ -",
				  r->name, PATH_ID_MAX);
	if (r->one_of && !in_list(s, r->one_of))
		return verror_set(err, "UNSUPPORTED_LANGUAGE", r->name, "%s \"%.32s\" is not supported; use one of: %s",
			    r->name, s, language_list);
	out->present = true;
	out->str = s;
	out->len = len;
	return 0;
}

const char *verror_field(struct verror *err, const char *name, size_t n)
{
	if (n >= sizeof(err->field_buf)) {
		n = sizeof(err->field_buf) - 1;
		while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(err->field_buf, name, n);
	err->field_buf[n] = '\0';
	return err->field_buf;
}

/* A body whose fields are each optional but not all at once ({} says nothing). */
static int check_need_one(const struct body_rules *rules, const struct validated *out, struct verror *err)
{
	for (int i = 0; i < rules->nfields; i++)
		if (out->fields[rules->fields[i].id].present)
			return 0;
	return verror_set(err, "MISSING_FIELD", rules->fields[0].name, "one of %s and %s is required",
		    rules->fields[0].name, rules->fields[rules->nfields - 1].name);
}

static int check_duplicates(const struct body_rules *rules, const struct key_count *kc, struct verror *err)
{
	for (int i = 0; i < rules->nfields; i++) {
		const struct field_rule *r = &rules->fields[i];
		if (kc->seen[r->id] > 1)
			return verror_set(err, "DUPLICATE_FIELD", r->name, "%s appears more than once", r->name);
	}
	return 0;
}

/*
 * Checks every member of doc against rules, then duplicates, then the
 * required ones. Duplicates are refused rather than "last one wins": a
 * proxy or client library that keeps the first would see another request.
 */
static int check_object(const struct body_rules *rules, json_object *doc, const struct key_count *kc,
			const struct config *cfg, struct validated *out, struct verror *err)
{
	json_object_object_foreach(doc, key, val) {
		(void)val;
		if (!rule_find(rules, key)) {
			const char *f = verror_field(err, key, strlen(key));
			return verror_set(err, "UNKNOWN_FIELD", f, "unknown field \"%s\"", f);
		}
	}
	if (check_duplicates(rules, kc, err))
		return -1;
	json_object_object_foreach(doc, k, v) {
		const struct field_rule *r = rule_find(rules, k);
		if (check_field(r, v, cfg, &out->fields[r->id], err))
			return -1;
	}
	for (int i = 0; i < rules->nfields; i++) {
		const struct field_rule *r = &rules->fields[i];
		if (r->required && !out->fields[r->id].present)
			return verror_set(err, "MISSING_FIELD", r->name, "%s is required", r->name);
	}
	return rules->need_one ? check_need_one(rules, out, err) : 0;
}

int validate_body(enum body_kind kind, const char *body, size_t len, const struct config *cfg,
		  struct validated *out, struct verror *err)
{
	const struct body_rules *rules = &body_rules[kind];
	struct key_count kc = { .rules = rules };
	memset(out, 0, sizeof(*out));
	if (len == 0 && rules->body_optional)
		return 0;
	if (len == 0)
		return verror_set(err, "INVALID_JSON", NULL, "a JSON object body is required");
	if (check_syntax(body, len, &kc, err))
		return -1;
	out->doc = parse_object(body, len, err);
	if (!out->doc)
		return -1;
	if (rules->check_doc ? check_duplicates(rules, &kc, err) || rules->check_doc(out->doc, cfg, err)
			     : check_object(rules, out->doc, &kc, cfg, out, err)) {
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

/* ---- query parameters ---------------------------------------------------- */

enum bound { BOUND_ONE, BOUND_PAGE_MAX, BOUND_INT64_MAX };

struct param_rule {
	enum param_id id;
	const char *name;
	enum bound min, max;
	const char *explain;            /* what a valid value is, for the message */
};

static const struct param_rule page_params[] = {
	{ PARAM_LIMIT, "limit", BOUND_ONE, BOUND_PAGE_MAX, "an integer from 1 to page_size_max" },
	{ PARAM_CURSOR, "cursor", BOUND_ONE, BOUND_INT64_MAX, "the next_cursor of a previous page" },
};

struct query_rules {
	const struct param_rule *params;
	int nparams;
};

static const struct query_rules query_rules[QUERY__MAX] = {
	[QUERY_NONE] = { NULL, 0 },
	[QUERY_PAGE] = { page_params, (int)(sizeof(page_params) / sizeof(page_params[0])) },
};

static long long bound_value(enum bound b, const struct config *cfg)
{
	switch (b) {
	case BOUND_ONE: return 1;
	case BOUND_PAGE_MAX: return cfg->page_size_max;
	default: return INT64_MAX;
	}
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * Percent-decodes len bytes of s into out (outlen bytes with the NUL); '+'
 * is a space as in form encoding. Returns 0, or -1 if it does not fit or an
 * escape is malformed or decodes to NUL.
 */
static int percent_decode(const char *s, size_t len, char *out, size_t outlen)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		int ch = (unsigned char)s[i];
		if (ch == '%') {
			if (len - i < 3)
				return -1;
			int hi = hex_digit(s[i + 1]);
			int lo = hex_digit(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			ch = hi << 4 | lo;
			i += 2;
		} else if (ch == '+')
			ch = ' ';
		if (ch == 0 || n + 1 >= outlen)
			return -1;
		out[n++] = (char)ch;
	}
	out[n] = '\0';
	return 0;
}

/* A decimal integer in [min, max], digits only (no sign, no spaces). */
static int parse_bounded(const char *s, long long min, long long max, long long *out)
{
	size_t n = strlen(s);
	if (n == 0 || n > 19 || strspn(s, "0123456789") != n)
		return -1;
	errno = 0;
	long long v = strtoll(s, NULL, 10);
	if (errno || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static const struct param_rule *param_find(const struct query_rules *rules, const char *name)
{
	for (int i = 0; i < rules->nparams; i++)
		if (strcmp(rules->params[i].name, name) == 0)
			return &rules->params[i];
	return NULL;
}

/* One "name=value" pair of the query. */
static int check_param(const struct query_rules *rules, const char *pair, size_t len,
		       const struct config *cfg, struct query_values *out, struct verror *err)
{
	char name[32], value[32];
	const char *eq = memchr(pair, '=', len);
	size_t nlen = eq ? (size_t)(eq - pair) : len;
	if (percent_decode(pair, nlen, name, sizeof(name)))
		return 0;       /* not a name we know: ignored like any unknown one */
	const struct param_rule *r = param_find(rules, name);
	if (!r)
		return 0;
	if (out->present[r->id])
		return verror_set(err, "INVALID_QUERY", r->name, "%s is given more than once", r->name);
	const char *v = eq ? eq + 1 : pair + len;
	if (percent_decode(v, (size_t)(pair + len - v), value, sizeof(value)) ||
	    parse_bounded(value, bound_value(r->min, cfg), bound_value(r->max, cfg), &out->value[r->id]))
		return verror_set(err, "INVALID_QUERY", r->name, "%s must be %s", r->name, r->explain);
	out->present[r->id] = true;
	return 0;
}

int validate_query(enum query_kind kind, const char *query, const struct config *cfg,
		   struct query_values *out, struct verror *err)
{
	const struct query_rules *rules = &query_rules[kind];
	memset(out, 0, sizeof(*out));
	while (*query) {
		size_t len = strcspn(query, "&");
		if (len && check_param(rules, query, len, cfg, out, err))
			return -1;
		query += len + (query[len] == '&');
	}
	return 0;
}

static bool slug_valid(const char *id, size_t len)
{
	static const char slug_chars[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";
	return len >= 1 && len <= PATH_ID_MAX && strspn(id, slug_chars) == len;
}

int validate_id(const char *id, size_t len, enum id_form form, const char *what, struct verror *err)
{
	if (form == ID_SLUG)
		return slug_valid(id, len) ? 0 : verror_set(err, "INVALID_ID", "id",
			"the %s id in the path must be 1 to %d of A-Z a-z 0-9 . _ -", what, PATH_ID_MAX);
	if (uuid_valid(id, len))
		return 0;
	return verror_set(err, "INVALID_ID", "id", "the %s id in the path is not a UUID", what);
}
