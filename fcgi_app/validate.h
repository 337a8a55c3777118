/*
 * Request-body validation driven by tables of fields: every handler that
 * takes a body declares its fields here and gets either the values or the
 * first error (status, code, field, message) to return.
 */
#ifndef FCGI_VALIDATE_H
#define FCGI_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <json.h>

#include "config.h"

enum body_kind {
	BODY_SESSION_CREATE,   /* {"language", "template_code"} */
	BODY_SESSION_UPDATE,   /* {"source_code"} */
	BODY_RUN,              /* {"stdin"}, body optional */
	BODY__MAX
};

enum field_id {
	FIELD_LANGUAGE,
	FIELD_TEMPLATE_CODE,
	FIELD_SOURCE_CODE,
	FIELD_STDIN,
	FIELD__MAX
};

struct field_value {
	bool present;
	const char *str;        /* borrowed from the parsed document */
	size_t len;
};

struct validated {
	json_object *doc;       /* owned; NULL for an absent optional body */
	struct field_value fields[FIELD__MAX];
};

struct verror {
	int status;
	const char *code;
	const char *field;      /* static name, or field_buf */
	char field_buf[64];
	char message[256];
};

/*
 * Parses and checks body (len bytes, not necessarily NUL-terminated) as the
 * body of kind. Returns 0 with out filled (release with validated_free), or
 * -1 with err filled and nothing to free.
 */
int validate_body(enum body_kind kind, const char *body, size_t len, const struct config *cfg,
		  struct validated *out, struct verror *err);

void validated_free(struct validated *v);

#endif
