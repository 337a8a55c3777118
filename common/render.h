/*
 * Every JSON document of the API, in one place: objects from rows of the
 * store's statements (columns named in common/store_columns.h), and the
 * documents built around them.
 */
#ifndef ENGINE_RENDER_H
#define ENGINE_RENDER_H

#include <stdbool.h>
#include <stdint.h>
#include <json.h>

#include "store.h"

/* Each returns a new object for the current row of q. */
json_object *render_session(struct store_query *q);            /* SESSION_COLUMNS */
json_object *render_execution(struct store_query *q);          /* EXECUTION_COLUMNS */
json_object *render_runner(struct store_query *q, int64_t now); /* RUNNER_COLUMNS */
/* SUITE_COLUMNS: {"suite_id", "version", "created_at", "compare", "cases"}, the whole suite
 * (hidden cases included: it is the platform's view, never the learner's). */
json_object *render_suite(struct store_query *q);

/* The reply to PUT /code-sessions/{id}/files/{path}: what was saved. */
json_object *render_file_saved(const char *session_id, const char *path, size_t size, int64_t updated_at);

/* The 202 reply of a Run. */
json_object *render_run_accepted(const char *exec_id, const char *session_id, int64_t queued_at);

/* The reply to POST /executions/{id}/stdin: what was accepted. */
json_object *render_stdin_accepted(const char *exec_id, size_t bytes, bool eof);

/* A page {"<key>": items, "next_cursor"} (items is taken); next_seq 0 when it is the last page. */
json_object *render_page(const char *key, json_object *items, int64_t next_seq);

/* The health figures (runners, an array of render_runner objects, is taken). */
json_object *render_health(int64_t queue_depth, int64_t running, int64_t oldest_queued_age_ms,
			   json_object *runners);

/* Adds the verdict to a render_health document: status, and db "ok". */
void render_health_verdict(json_object *health, bool ok);

/* The health document when the store does not answer. */
json_object *render_health_store_down(void);

/* An error document: {"error":{"code","message","field"}} (field may be NULL). */
json_object *render_error(const char *code, const char *message, const char *field);

/* The number of runners a render_health document counts alive. */
int render_health_runners_alive(json_object *health);

#endif
