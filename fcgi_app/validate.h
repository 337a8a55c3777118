/*
 * Request validation driven by tables: every handler that takes a body or a
 * query declares its fields and limits here and gets either the values or
 * the first error (status, code, field, message) to return. The router
 * checks path ids here too, so every input passes through this one layer.
 */
#ifndef FCGI_VALIDATE_H
#define FCGI_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <json.h>

#include "config.h"
#include "languages.h"

enum body_kind {
	BODY_NONE,             /* takes no body: the router does not read one */
	BODY_SESSION_CREATE,   /* {"language", "template_code"} or {"language", "files", "entry"} */
	BODY_SESSION_UPDATE,   /* {"source_code"} */
	BODY_RUN,              /* {"stdin", "interactive"}, body optional */
	BODY_CHECK,            /* {}, body optional */
	BODY_EMPTY,            /* {}, body optional: cancel */
	BODY_STDIN,            /* {"data", "eof"}: at least one */
	BODY_SUITE,            /* {"cases": [...], "compare"}: validate_suite.c */
	BODY_SUBMIT,           /* {"suite_id", "stop_on_first_failure"} */
	BODY_FILE_PUT,         /* {"content"}: one file of a session */
	BODY__MAX
};

enum field_id {
	FIELD_LANGUAGE,
	FIELD_TEMPLATE_CODE,
	FIELD_SOURCE_CODE,
	FIELD_STDIN,
	FIELD_INTERACTIVE,
	FIELD_DATA,
	FIELD_EOF,
	FIELD_CASES,           /* BODY_SUITE's members: named here so duplicates are refused */
	FIELD_COMPARE,
	FIELD_SUITE_ID,
	FIELD_STOP_ON_FIRST_FAILURE,
	FIELD_FILES,
	FIELD_ENTRY,
	FIELD_CONTENT,
	FIELD__MAX
};

struct field_value {
	bool present;
	const char *str;        /* strings: borrowed from the parsed document */
	size_t len;
	bool boolean;           /* booleans */
	json_object *json;      /* arrays (files): borrowed from the parsed document */
};

struct validated {
	json_object *doc;       /* owned; NULL for an absent optional body */
	struct field_value fields[FIELD__MAX];
};

struct verror {
	int status;
	const char *code;
	const char *field;      /* static name, or field_buf */
	char field_buf[320];    /* room for a whole file path (FILE_PATH_MAX) */
	char message[256];
};

/*
 * Parses and checks body (len bytes, not necessarily NUL-terminated) as the
 * body of kind. Returns 0 with out filled (release with validated_free), or
 * -1 with err filled and nothing to free.
 */
/* The language ids a session may take: those of t (kept by pointer; t
 * must outlive every validation). Before this call no language is valid. */
void validate_set_languages(const struct language_table *t);

int validate_body(enum body_kind kind, const char *body, size_t len, const struct config *cfg,
		  struct validated *out, struct verror *err);

void validated_free(struct validated *v);

enum query_kind {
	QUERY_NONE,             /* takes no parameters; unknown ones are ignored */
	QUERY_PAGE,             /* limit, cursor */
	QUERY__MAX
};

enum param_id {
	PARAM_LIMIT,
	PARAM_CURSOR,
	PARAM__MAX
};

struct query_values {
	bool present[PARAM__MAX];
	long long value[PARAM__MAX];
};

/*
 * Parses query (the part after '?', percent-encoded) as the parameters of
 * kind. Unknown parameters are ignored; a known one must appear once, as a
 * decimal integer in its range. Returns 0 with out filled, or -1 with err.
 */
int validate_query(enum query_kind kind, const char *query, const struct config *cfg,
		   struct query_values *out, struct verror *err);

/* What a path id must look like. */
enum id_form {
	ID_UUID,                /* engine-made ids: sessions, executions, submissions */
	ID_SLUG,                /* platform-chosen ids: 1-64 of [A-Za-z0-9._-] (test suites) */
};

/* The longest path id of any form. */
#define PATH_ID_MAX 64

/* Checks a path id (what names the kind of thing, for the message). Returns 0, or -1 with err. */
int validate_id(const char *id, size_t len, enum id_form form, const char *what, struct verror *err);

/* Fills err as a 400 with code, field and message; returns -1 (for validators in other files). */
int verror_set(struct verror *err, const char *code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * The test suite body of BODY_SUITE (validate_suite.c): checks doc, already
 * parsed, against cfg's suite limits, and fills in the optional members
 * ("hidden": false, "time_limit_ms": null, "compare": "exact"), so the
 * stored document always has all of them. Returns 0, or -1 with err.
 */
int validate_suite(json_object *doc, const struct config *cfg, struct verror *err);

/* The longest path of a session's file, in bytes. */
#define FILE_PATH_MAX 255

/*
 * validate_files.c. A session file's path: relative, '/'-separated, UTF-8,
 * at most FILE_PATH_MAX bytes, no empty, "." or ".." segment, no NUL,
 * control character or backslash, and not under out/ (where a run leaves
 * its artifacts). Returns 0, or -1 with err (a 400 whose field is the path).
 */
int validate_file_path(const char *path, size_t len, struct verror *err);

/*
 * The {path} of a URL (percent-encoded; '+' is a plus) decoded into out
 * (outlen bytes, FILE_PATH_MAX + 1 or more) and checked as above.
 * Returns 0, or -1 with err.
 */
int validate_url_file_path(const char *raw, char *out, size_t outlen, struct verror *err);

/* Whether a and b cannot both be files: one is a directory of the other ("a" and "a/b"). */
bool file_paths_collide(const char *a, const char *b);

/*
 * The "files" of a new session: an array of {"path", "content"} objects,
 * each path valid and unique (and no file a directory of another), each
 * content a string of at most max_source_bytes, at most max_session_files
 * of them and max_session_bytes in all. Returns 0, or -1 with err.
 */
int validate_files(json_object *files, const struct config *cfg, struct verror *err);

/* Copies a name for err's field, cut at a UTF-8 character boundary; returns err->field_buf. */
const char *verror_field(struct verror *err, const char *name, size_t len);

#endif
