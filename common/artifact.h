/*
 * What both programs know of an artifact (a file a run left in out/): the
 * Content-Type it is served with, from its name: the few
 * types a learner's program makes and a browser shows safely (PNG, SVG,
 * CSV, JSON, text); anything else is application/octet-stream, served as
 * a download. Never text/html: a page the program wrote must not run in
 * the API's origin.
 */
#ifndef ENGINE_ARTIFACT_H
#define ENGINE_ARTIFACT_H

#include <stdbool.h>
#include <stddef.h>
#include <json.h>

#include "store.h"

#define CONTENT_TYPE_DOWNLOAD "application/octet-stream"

/* The type of a file named name (by its extension, case-insensitive). Static. */
const char *content_type_of(const char *name);

/*
 * The store keeps an artifact's bytes as base64 text (a text column holds
 * them alike in SQLite and PostgreSQL). Each returns a malloc'd,
 * NUL-terminated buffer with its length in *outlen, or NULL (out of
 * memory, or not base64).
 */
/*
 * Whether a name the program gave a file in out/ is one to keep: valid
 * UTF-8 without control characters or a backslash (it goes into JSON, a
 * URL and a header), at most 255 bytes, not a dot file.
 */
bool artifact_name_ok(const char *name);

/*
 * Adds "artifacts": [{"path", "size", "content_type"}] (by path) to
 * execution, the object of execution id as GET /executions/{id} renders
 * it. Returns 0, or -1 if the store failed (execution is left without).
 */
int artifacts_add(struct store *s, const char *id, json_object *execution);

char *artifact_encode(const char *data, size_t len, size_t *outlen);
char *artifact_decode(const char *text, size_t len, size_t *outlen);

#endif
