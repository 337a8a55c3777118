/* Parsers of checkers' output into diagnostics (diagnostics.h). */
#include "diagnostics.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct finding {
	long line, column;              /* 0: unknown */
	const char *severity;           /* error, warning or info */
	char code[64];
	char message[512];
};

static void add(json_object *arr, const struct finding *f)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "line", f->line > 0 ? json_object_new_int64(f->line) : NULL);
	json_object_object_add(o, "column", f->column > 0 ? json_object_new_int64(f->column) : NULL);
	json_object_object_add(o, "severity", json_object_new_string(f->severity));
	json_object_object_add(o, "code", f->code[0] ? json_object_new_string(f->code) : NULL);
	json_object_object_add(o, "message", json_object_new_string(f->message));
	json_object_array_add(arr, o);
}

/* Copies the line starting at p (without its newline) into out. Returns the next line. */
static const char *line_copy(const char *p, char *out, size_t outlen)
{
	size_t n = strcspn(p, "\n");

	snprintf(out, outlen, "%.*s", (int)n, p);
	return p[n] ? p + n + 1 : p + n;
}

/* If s starts with "<file>:" (after any directory), the position after it. */
static const char *after_file(const char *s, const char *file)
{
	const char *at = strstr(s, file);
	size_t n = strlen(file);

	if (!at || at[n] != ':' || (at != s && at[-1] != '/'))
		return NULL;
	for (const char *p = s; p < at; p++)
		if (*p == ' ')
			return NULL;
	return at + n + 1;
}

/* "[-Wunused-variable]" or "[rawtypes]" at the end of msg: moved into code. */
static void take_bracket_code(struct finding *f)
{
	size_t n = strlen(f->message);
	char *open = strrchr(f->message, '[');

	if (n && f->message[n - 1] == ']' && open) {
		snprintf(f->code, sizeof f->code, "%.*s", (int)(f->message + n - 1 - open - 1), open + 1);
		while (open > f->message && open[-1] == ' ')
			open--;
		*open = '\0';
	}
}

/* "error: msg" / "warning: msg" / "note: msg" -> severity and message. */
static bool severity_prefix(const char *s, struct finding *f)
{
	static const struct { const char *word, *severity; } kinds[] = {
		{ "error: ", "error" }, { "fatal error: ", "error" }, { "warning: ", "warning" },
		{ "note: ", "info" },
	};

	while (*s == ' ')
		s++;
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (strncmp(s, kinds[i].word, strlen(kinds[i].word)) == 0) {
			f->severity = kinds[i].severity;
			snprintf(f->message, sizeof f->message, "%s", s + strlen(kinds[i].word));
			return true;
		}
	return false;
}

static long caret_column(const char *s);

/* file:line:col: rest  (gcc, pyflakes, go vet). Returns rest or NULL. */
static const char *line_col(const char *s, const char *file, struct finding *f)
{
	const char *p = after_file(s, file);
	int used = 0;

	if (!p || sscanf(p, "%ld:%ld: %n", &f->line, &f->column, &used) != 2 || !used)
		return NULL;
	return p + used;
}

static void parse_gcc(json_object *arr, const char *file, const char *text)
{
	char line[1024];

	for (const char *p = text; *p;) {
		struct finding f = { 0 };
		const char *rest;

		p = line_copy(p, line, sizeof line);
		if ((rest = line_col(line, file, &f)) && severity_prefix(rest, &f)) {
			take_bracket_code(&f);
			add(arr, &f);
		}
	}
}

/* pyflakes and go vet: file:line:col: message, one per line. */
static void parse_line_col_warnings(json_object *arr, const char *file, const char *text, const char *syntax_word)
{
	char line[1024];

	for (const char *p = text; *p;) {
		struct finding f = { 0 };
		const char *rest;

		p = line_copy(p, line, sizeof line);
		if (!(rest = line_col(line, file, &f)))
			continue;
		snprintf(f.message, sizeof f.message, "%s", rest);
		f.severity = syntax_word && strstr(rest, syntax_word) ? "error" : "warning";
		add(arr, &f);
	}
}

/* pyflakes: file:line:col: message; a syntax error is followed by the
 * source line and a caret line. */
static void parse_pyflakes(json_object *arr, const char *file, const char *text)
{
	char line[1024], src[1024], caret[1024];

	for (const char *p = text; *p;) {
		struct finding f = { 0 };
		const char *rest, *q;

		p = line_copy(p, line, sizeof line);
		if (!(rest = line_col(line, file, &f)))
			continue;
		snprintf(f.message, sizeof f.message, "%s", rest);
		f.severity = "warning";
		q = line_copy(p, src, sizeof src);
		line_copy(q, caret, sizeof caret);
		if (*p && !after_file(src, file) && caret_column(caret)) {
			f.severity = "error";
			p = line_copy(q, caret, sizeof caret);
		}
		add(arr, &f);
	}
}

static void parse_go(json_object *arr, const char *file, const char *text)
{
	parse_line_col_warnings(arr, file, text, NULL);
}

/* tsc: file(line,col): error TS2322: message */
static void parse_tsc(json_object *arr, const char *file, const char *text)
{
	char line[1024];

	for (const char *p = text; *p;) {
		struct finding f = { 0 };
		const char *at;
		int used = 0;
		char sev[16];

		p = line_copy(p, line, sizeof line);
		at = strstr(line, file);
		if (!at || at[strlen(file)] != '(')
			continue;
		if (sscanf(at + strlen(file), "(%ld,%ld): %15s %63[^:]: %n", &f.line, &f.column, sev, f.code, &used) != 4 ||
		    !used)
			continue;
		f.severity = strcmp(sev, "error") == 0 ? "error" : strcmp(sev, "warning") == 0 ? "warning" : "info";
		snprintf(f.message, sizeof f.message, "%s", at + strlen(file) + used);
		add(arr, &f);
	}
}

/* The column of the caret in a "    ^" line, or 0. */
static long caret_column(const char *s)
{
	const char *c = strchr(s, '^');
	size_t n = strcspn(s, "\n");

	if (!c || (size_t)(c - s) > n)
		return 0;
	for (const char *p = s; p < c; p++)
		if (*p != ' ' && *p != '\t')
			return 0;
	return (long)(c - s) + 1;
}

/* javac: Main.java:2: error: msg / source line / caret line */
static void parse_javac(json_object *arr, const char *file, const char *text)
{
	char line[1024], src[1024], caret[1024];

	for (const char *p = text; *p;) {
		struct finding f = { 0 };
		const char *rest;
		int used = 0;

		p = line_copy(p, line, sizeof line);
		if (!(rest = after_file(line, file)) || sscanf(rest, "%ld: %n", &f.line, &used) != 1 || !used ||
		    !severity_prefix(rest + used, &f))
			continue;
		if (f.message[0] == '[') {              /* warning: [rawtypes] msg */
			char *end = strchr(f.message, ']');
			if (end) {
				snprintf(f.code, sizeof f.code, "%.*s", (int)(end - f.message - 1), f.message + 1);
				memmove(f.message, end + 2 <= f.message + strlen(f.message) ? end + 2 : end + 1,
					strlen(end + 1) + 1);
			}
		}
		if (*p) {
			const char *q = line_copy(p, src, sizeof src);
			line_copy(q, caret, sizeof caret);
			if ((f.column = caret_column(caret)) > 0)
				p = line_copy(q, caret, sizeof caret);
		}
		add(arr, &f);
	}
}

/* node --check: "<path>/main.js:3", the source line, a caret line, a
 * blank line, then "SyntaxError: message" and a stack. */
static void parse_node(json_object *arr, const char *file, const char *text)
{
	char line[1024];
	struct finding f = { .severity = "error" };

	for (const char *p = text; *p;) {
		const char *rest, *colon;

		p = line_copy(p, line, sizeof line);
		if (!f.line && (rest = after_file(line, file))) {
			f.line = strtol(rest, NULL, 10);
		} else if (f.line && !f.column && caret_column(line)) {
			f.column = caret_column(line);
		} else if (f.line && (colon = strstr(line, "Error: ")) &&
			   strcspn(line, " ") > (size_t)(colon - line)) {      /* "SyntaxError: ..." */
			snprintf(f.code, sizeof f.code, "%.*s", (int)(colon - line) + 5, line);
			snprintf(f.message, sizeof f.message, "%s", colon + 7);
			add(arr, &f);
			return;
		}
	}
}

/* bash -n: "main.sh: line 3: syntax error near unexpected token `fi'" */
static void parse_bash(json_object *arr, const char *file, const char *text)
{
	char line[1024];

	for (const char *p = text; *p;) {
		struct finding f = { 0 };
		const char *rest;
		int used = 0;

		p = line_copy(p, line, sizeof line);
		if (!(rest = after_file(line, file)) || sscanf(rest, " line %ld: %n", &f.line, &used) != 1 || !used)
			continue;
		if (rest[used] == '`')                  /* the echo of the offending line */
			continue;
		f.severity = "error";
		snprintf(f.message, sizeof f.message, "%s", rest + used);
		add(arr, &f);
	}
}

/* sqlite3: "Parse error near line 2: near \"SELEC\": syntax error" */
static void parse_sqlite(json_object *arr, const char *file, const char *text)
{
	char line[1024];

	(void)file;
	for (const char *p = text; *p;) {
		struct finding f = { 0 };
		char kind[16];
		int used = 0;

		p = line_copy(p, line, sizeof line);
		if (sscanf(line, "%15s error near line %ld: %n", kind, &f.line, &used) != 2 || !used)
			continue;
		f.severity = "error";
		snprintf(f.message, sizeof f.message, "%s", line + used);
		add(arr, &f);
	}
}

/* rustc --error-format=json: one JSON object per line. */
static void parse_rustc(json_object *arr, const char *file, const char *text)
{
	char line[65536];

	for (const char *p = text; *p;) {
		struct finding f = { 0 };
		json_object *o, *spans, *code;
		const char *level;

		p = line_copy(p, line, sizeof line);
		if (!(o = json_tokener_parse(line)))
			continue;
		level = json_object_get_string(json_object_object_get(o, "level"));
		spans = json_object_object_get(o, "spans");
		for (size_t i = 0; level && json_object_is_type(spans, json_type_array) &&
				   i < json_object_array_length(spans); i++) {
			json_object *s = json_object_array_get_idx(spans, i);
			const char *fn = json_object_get_string(json_object_object_get(s, "file_name"));
			if (!json_object_get_boolean(json_object_object_get(s, "is_primary")) || !fn ||
			    strcmp(fn, file) != 0)
				continue;
			f.line = json_object_get_int64(json_object_object_get(s, "line_start"));
			f.column = json_object_get_int64(json_object_object_get(s, "column_start"));
			f.severity = strcmp(level, "error") == 0 ? "error" : strcmp(level, "warning") == 0 ? "warning" : "info";
			code = json_object_object_get(o, "code");
			snprintf(f.code, sizeof f.code, "%s", code ? json_object_get_string(json_object_object_get(code, "code")) : "");
			snprintf(f.message, sizeof f.message, "%s", json_object_get_string(json_object_object_get(o, "message")));
			add(arr, &f);
			break;
		}
		json_object_put(o);
	}
}

static const struct {
	const char *name;
	void (*parse)(json_object *arr, const char *file, const char *text);
} parsers[] = {
	{ "pyflakes", parse_pyflakes }, { "gcc", parse_gcc }, { "tsc", parse_tsc },
	{ "node", parse_node }, { "javac", parse_javac }, { "go", parse_go },
	{ "rustc", parse_rustc }, { "bash", parse_bash }, { "sqlite", parse_sqlite },
};

int diagnostics_known(const char *format)
{
	for (size_t i = 0; i < sizeof parsers / sizeof parsers[0]; i++)
		if (strcmp(parsers[i].name, format) == 0)
			return 1;
	return 0;
}

char *diagnostics_parse(const char *format, const char *file, const char *text)
{
	for (size_t i = 0; i < sizeof parsers / sizeof parsers[0]; i++) {
		if (strcmp(parsers[i].name, format) != 0)
			continue;
		json_object *arr = json_object_new_array();
		parsers[i].parse(arr, file, text);
		char *out = strdup(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
		json_object_put(arr);
		return out;
	}
	return NULL;
}
