/*
 * The body of PUT /test-suites/{id}: {"cases": [...], "compare": ...}.
 * Nested, so it is checked as a document rather than by the flat field
 * rules of validate.c; the errors are the same 400s, with a field path
 * such as "cases[3].stdin".
 */
#include "validate.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

#define CASE_NAME_MAX 128

static const char *const compare_modes[] = { "exact", "trim", "tokens", NULL };

/* A string member of a case within max bytes: UTF-8, no NUL. */
static int check_text(json_object *val, const char *field, long max, struct verror *err)
{
	if (!json_object_is_type(val, json_type_string))
		return verror_set(err, "INVALID_FIELD", field, "%s must be a string", field);
	const char *s = json_object_get_string(val);
	size_t len = (size_t)json_object_get_string_len(val);
	if ((long)len > max)
		return verror_set(err, "INVALID_FIELD", field, "%s is %zu bytes; the limit is %ld",
				  field, len, max);
	if (memchr(s, '\0', len))
		return verror_set(err, "INVALID_FIELD", field, "%s must not contain NUL characters", field);
	if (!utf8_valid(s, len))
		return verror_set(err, "INVALID_FIELD", field, "%s is not valid UTF-8", field);
	return 0;
}

/* "field" of case i, in err's own buffer so the error can name it. */
static const char *case_field(struct verror *err, size_t i, const char *member)
{
	snprintf(err->field_buf, sizeof(err->field_buf), "cases[%zu].%s", i, member);
	return err->field_buf;
}

static int check_time_limit(json_object *c, size_t i, const struct config *cfg, struct verror *err)
{
	json_object *v;
	if (!json_object_object_get_ex(c, "time_limit_ms", &v) || !v) {
		json_object_object_add(c, "time_limit_ms", NULL);
		return 0;
	}
	const char *f = case_field(err, i, "time_limit_ms");
	int64_t ms = json_object_get_int64(v);
	if (!json_object_is_type(v, json_type_int) || ms < 100 || ms > cfg->max_case_time_ms)
		return verror_set(err, "INVALID_FIELD", f, "%s must be an integer from 100 to %d (max_case_time_ms)",
				  f, cfg->max_case_time_ms);
	return 0;
}

static int check_hidden(json_object *c, size_t i, struct verror *err)
{
	json_object *v;
	if (!json_object_object_get_ex(c, "hidden", &v)) {
		json_object_object_add(c, "hidden", json_object_new_boolean(0));
		return 0;
	}
	if (!json_object_is_type(v, json_type_boolean)) {
		const char *f = case_field(err, i, "hidden");
		return verror_set(err, "INVALID_FIELD", f, "%s must be true or false", f);
	}
	return 0;
}

/* The members every case has: name, stdin, expected_stdout. */
static int check_case_texts(json_object *c, size_t i, const struct config *cfg, struct verror *err)
{
	static const struct { const char *name; bool required; } texts[] = {
		{ "name", true }, { "stdin", false }, { "expected_stdout", true },
	};
	for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
		json_object *v;
		const char *f = case_field(err, i, texts[k].name);
		if (!json_object_object_get_ex(c, texts[k].name, &v)) {
			if (texts[k].required)
				return verror_set(err, "MISSING_FIELD", f, "%s is required", f);
			json_object_object_add(c, texts[k].name, json_object_new_string(""));
			continue;
		}
		long max = k == 0 ? CASE_NAME_MAX : cfg->max_case_bytes;
		if (check_text(v, f, max, err))
			return -1;
	}
	if (json_object_get_string_len(json_object_object_get(c, "name")) == 0)
		return verror_set(err, "INVALID_FIELD", case_field(err, i, "name"), "a case's name must not be empty");
	return 0;
}

static int check_case(json_object *c, size_t i, const struct config *cfg, struct verror *err)
{
	static const char *const known[] = { "name", "stdin", "expected_stdout", "hidden", "time_limit_ms", NULL };
	if (!json_object_is_type(c, json_type_object)) {
		snprintf(err->field_buf, sizeof(err->field_buf), "cases[%zu]", i);
		return verror_set(err, "INVALID_FIELD", err->field_buf, "each case must be an object");
	}
	json_object_object_foreach(c, key, val) {
		(void)val;
		size_t k = 0;
		while (known[k] && strcmp(known[k], key) != 0)
			k++;
		if (!known[k]) {
			snprintf(err->field_buf, sizeof(err->field_buf), "cases[%zu].%.30s", i, key);
			return verror_set(err, "UNKNOWN_FIELD", err->field_buf, "unknown field \"%.40s\" in a case", key);
		}
	}
	if (check_case_texts(c, i, cfg, err) || check_hidden(c, i, err))
		return -1;
	return check_time_limit(c, i, cfg, err);
}

/* Case names are how results refer to cases: each once. */
static int check_names_unique(json_object *cases, struct verror *err)
{
	size_t n = json_object_array_length(cases);
	for (size_t i = 1; i < n; i++) {
		const char *a = json_object_get_string(json_object_object_get(json_object_array_get_idx(cases, i), "name"));
		for (size_t j = 0; j < i; j++) {
			const char *b = json_object_get_string(json_object_object_get(json_object_array_get_idx(cases, j), "name"));
			if (strcmp(a, b) == 0)
				return verror_set(err, "INVALID_FIELD", case_field(err, i, "name"),
						  "case names must be unique; \"%.40s\" appears twice", a);
		}
	}
	return 0;
}

static int check_cases(json_object *doc, const struct config *cfg, struct verror *err)
{
	json_object *cases;
	if (!json_object_object_get_ex(doc, "cases", &cases))
		return verror_set(err, "MISSING_FIELD", "cases", "cases is required");
	if (!json_object_is_type(cases, json_type_array))
		return verror_set(err, "INVALID_FIELD", "cases", "cases must be an array");
	size_t n = json_object_array_length(cases);
	if (n == 0 || n > (size_t)cfg->max_suite_cases)
		return verror_set(err, "INVALID_FIELD", "cases", "a suite has 1 to %d cases (max_suite_cases); this one has %zu",
				  cfg->max_suite_cases, n);
	for (size_t i = 0; i < n; i++)
		if (check_case(json_object_array_get_idx(cases, i), i, cfg, err))
			return -1;
	return check_names_unique(cases, err);
}

/* "exact", "trim", "tokens", or {"float_tolerance": x} with x a finite number >= 0. */
static int check_compare(json_object *doc, struct verror *err)
{
	json_object *v;
	if (!json_object_object_get_ex(doc, "compare", &v)) {
		json_object_object_add(doc, "compare", json_object_new_string("exact"));
		return 0;
	}
	if (json_object_is_type(v, json_type_string)) {
		for (int i = 0; compare_modes[i]; i++)
			if (strcmp(json_object_get_string(v), compare_modes[i]) == 0)
				return 0;
	} else if (json_object_is_type(v, json_type_object) && json_object_object_length(v) == 1) {
		json_object *tol;
		if (json_object_object_get_ex(v, "float_tolerance", &tol) &&
		    (json_object_is_type(tol, json_type_double) || json_object_is_type(tol, json_type_int))) {
			double x = json_object_get_double(tol);
			if (isfinite(x) && x >= 0)
				return 0;
		}
	}
	return verror_set(err, "INVALID_FIELD", "compare",
			  "compare must be \"exact\", \"trim\", \"tokens\" or {\"float_tolerance\": x} with x >= 0");
}

int validate_suite(json_object *doc, const struct config *cfg, struct verror *err)
{
	json_object_object_foreach(doc, key, val) {
		(void)val;
		if (strcmp(key, "cases") != 0 && strcmp(key, "compare") != 0) {
			snprintf(err->field_buf, sizeof(err->field_buf), "%.60s", key);
			return verror_set(err, "UNKNOWN_FIELD", err->field_buf, "unknown field \"%.60s\"", key);
		}
	}
	if (check_cases(doc, cfg, err))
		return -1;
	return check_compare(doc, err);
}
