#include "render.h"

#include <stdio.h>

#include "util.h"
#include "version.h"

static json_object *text_or_null(struct store_query *q, int col)
{
	size_t len;
	const char *s = store_column_text(q, col, &len);
	return s ? json_object_new_string_len(s, (int)len) : NULL;
}

static json_object *int_or_null(struct store_query *q, int col)
{
	if (store_column_is_null(q, col))
		return NULL;
	return json_object_new_int64(store_column_int64(q, col));
}

static json_object *bool_column(struct store_query *q, int col)
{
	return json_object_new_boolean(store_column_int64(q, col) != 0);
}

/* A column holding JSON written by the runner, parsed; NULL stays null. */
static json_object *json_or_null(struct store_query *q, int col)
{
	const char *s = store_column_text(q, col, NULL);
	return s ? json_tokener_parse(s) : NULL;
}

static json_object *time_string(int64_t ms)
{
	char buf[RFC3339_LEN];
	rfc3339(ms, buf);
	return json_object_new_string(buf);
}

/* An RFC 3339 string, or JSON null for a NULL column. */
static json_object *time_or_null(struct store_query *q, int col)
{
	if (store_column_is_null(q, col))
		return NULL;
	return time_string(store_column_int64(q, col));
}

json_object *render_session(struct store_query *q)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "session_id", text_or_null(q, SESSION_ID));
	json_object_object_add(o, "language", text_or_null(q, SESSION_LANGUAGE));
	json_object_object_add(o, "source_code", text_or_null(q, SESSION_SOURCE_CODE));
	json_object_object_add(o, "status", text_or_null(q, SESSION_STATUS));
	json_object_object_add(o, "created_at", time_or_null(q, SESSION_CREATED_AT));
	json_object_object_add(o, "updated_at", time_or_null(q, SESSION_UPDATED_AT));
	return o;
}

json_object *render_file_saved(const char *session_id, const char *path, size_t size, int64_t updated_at)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "session_id", json_object_new_string(session_id));
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)size));
	json_object_object_add(o, "updated_at", time_string(updated_at));
	return o;
}

json_object *render_suite(struct store_query *q)
{
	json_object *o = json_object_new_object();
	json_object *body = json_or_null(q, SUITE_BODY);
	json_object_object_add(o, "suite_id", text_or_null(q, SUITE_ID));
	json_object_object_add(o, "version", int_or_null(q, SUITE_VERSION));
	json_object_object_add(o, "created_at", time_or_null(q, SUITE_CREATED_AT));
	json_object_object_add(o, "compare", json_object_get(json_object_object_get(body, "compare")));
	json_object_object_add(o, "cases", json_object_get(json_object_object_get(body, "cases")));
	json_object_put(body);
	return o;
}

static json_object *execution_error(struct store_query *q)
{
	if (store_column_is_null(q, EXECUTION_ERROR_CODE))
		return NULL;
	json_object *e = json_object_new_object();
	json_object_object_add(e, "code", text_or_null(q, EXECUTION_ERROR_CODE));
	json_object_object_add(e, "message", text_or_null(q, EXECUTION_ERROR_MESSAGE));
	return e;
}

json_object *render_execution(struct store_query *q)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "execution_id", text_or_null(q, EXECUTION_ID));
	json_object_object_add(o, "session_id", text_or_null(q, EXECUTION_SESSION_ID));
	json_object_object_add(o, "status", text_or_null(q, EXECUTION_STATUS));
	json_object_object_add(o, "stdout", text_or_null(q, EXECUTION_STDOUT));
	json_object_object_add(o, "stderr", text_or_null(q, EXECUTION_STDERR));
	json_object_object_add(o, "exit_code", int_or_null(q, EXECUTION_EXIT_CODE));
	json_object_object_add(o, "signal", int_or_null(q, EXECUTION_SIGNAL));
	json_object_object_add(o, "execution_time_ms", int_or_null(q, EXECUTION_TIME_MS));
	json_object_object_add(o, "setup_time_ms", int_or_null(q, EXECUTION_SETUP_MS));
	json_object_object_add(o, "cpu_time_ms", int_or_null(q, EXECUTION_CPU_TIME_MS));
	json_object_object_add(o, "memory_kb", int_or_null(q, EXECUTION_MEMORY_KB));
	json_object_object_add(o, "stdout_truncated", bool_column(q, EXECUTION_STDOUT_TRUNCATED));
	json_object_object_add(o, "stderr_truncated", bool_column(q, EXECUTION_STDERR_TRUNCATED));
	json_object_object_add(o, "error", execution_error(q));
	json_object_object_add(o, "attempt", int_or_null(q, EXECUTION_ATTEMPT));
	json_object_object_add(o, "kind", text_or_null(q, EXECUTION_KIND));
	json_object_object_add(o, "compile_output", text_or_null(q, EXECUTION_COMPILE_OUTPUT));
	json_object_object_add(o, "compile_time_ms", int_or_null(q, EXECUTION_COMPILE_TIME_MS));
	json_object_object_add(o, "compile_cached", store_column_is_null(q, EXECUTION_COMPILE_CACHED) ?
				NULL : bool_column(q, EXECUTION_COMPILE_CACHED));
	json_object_object_add(o, "diagnostics", json_or_null(q, EXECUTION_DIAGNOSTICS));
	json_object_object_add(o, "interactive", bool_column(q, EXECUTION_INTERACTIVE));
	json_object_object_add(o, "queued_at", time_or_null(q, EXECUTION_QUEUED_AT));
	json_object_object_add(o, "started_at", time_or_null(q, EXECUTION_STARTED_AT));
	json_object_object_add(o, "finished_at", time_or_null(q, EXECUTION_FINISHED_AT));
	return o;
}

json_object *render_runner(struct store_query *q, int64_t now)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "runner_id", text_or_null(q, RUNNER_ID));
	json_object_object_add(o, "host", text_or_null(q, RUNNER_HOST));
	json_object_object_add(o, "pid", int_or_null(q, RUNNER_PID));
	json_object_object_add(o, "slots", int_or_null(q, RUNNER_SLOTS));
	json_object_object_add(o, "busy", int_or_null(q, RUNNER_BUSY));
	json_object_object_add(o, "sandbox_mode", text_or_null(q, RUNNER_SANDBOX_MODE));
	json_object_object_add(o, "started_at", time_or_null(q, RUNNER_STARTED_AT));
	json_object_object_add(o, "last_heartbeat_at", time_or_null(q, RUNNER_HEARTBEAT_AT));
	json_object_object_add(o, "heartbeat_age_ms",
			       json_object_new_int64(now - store_column_int64(q, RUNNER_HEARTBEAT_AT)));
	return o;
}

json_object *render_run_accepted(const char *exec_id, const char *session_id, int64_t queued_at)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "execution_id", json_object_new_string(exec_id));
	json_object_object_add(o, "session_id", json_object_new_string(session_id));
	json_object_object_add(o, "status", json_object_new_string("QUEUED"));
	json_object_object_add(o, "queued_at", time_string(queued_at));
	return o;
}

json_object *render_stdin_accepted(const char *exec_id, size_t bytes, bool eof)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "execution_id", json_object_new_string(exec_id));
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)bytes));
	json_object_object_add(o, "eof", json_object_new_boolean(eof));
	return o;
}

json_object *render_page(const char *key, json_object *items, int64_t next_seq)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, key, items);
	char cursor[24];
	snprintf(cursor, sizeof(cursor), "%lld", (long long)next_seq);
	json_object_object_add(o, "next_cursor", next_seq > 0 ? json_object_new_string(cursor) : NULL);
	return o;
}

json_object *render_health(int64_t queue_depth, int64_t running, int64_t oldest_queued_age_ms,
			   json_object *runners)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "queue_depth", json_object_new_int64(queue_depth));
	json_object_object_add(o, "running", json_object_new_int64(running));
	json_object_object_add(o, "oldest_queued_age_ms", oldest_queued_age_ms < 0
			       ? NULL : json_object_new_int64(oldest_queued_age_ms));
	size_t alive = json_object_array_length(runners);
	/* The mode of the oldest live runner stands for the service. */
	json_object *mode = alive ? json_object_object_get(json_object_array_get_idx(runners, 0),
							   "sandbox_mode") : NULL;
	json_object_object_add(o, "runners_alive", json_object_new_int((int)alive));
	json_object_object_add(o, "runners", runners);
	json_object_object_add(o, "sandbox_mode", json_object_get(mode));
	json_object_object_add(o, "version", json_object_new_string(ENGINE_VERSION));
	return o;
}

int render_health_runners_alive(json_object *health)
{
	return json_object_get_int(json_object_object_get(health, "runners_alive"));
}

void render_health_verdict(json_object *health, bool ok)
{
	json_object_object_add(health, "status", json_object_new_string(ok ? "ok" : "unavailable"));
	json_object_object_add(health, "db", json_object_new_string("ok"));
}

json_object *render_health_store_down(void)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("unavailable"));
	json_object_object_add(o, "db", json_object_new_string("error"));
	json_object_object_add(o, "version", json_object_new_string(ENGINE_VERSION));
	return o;
}

json_object *render_error(const char *code, const char *message, const char *field)
{
	json_object *err = json_object_new_object();
	json_object_object_add(err, "code", json_object_new_string(code));
	json_object_object_add(err, "message", json_object_new_string(message));
	json_object_object_add(err, "field", field ? json_object_new_string(field) : NULL);
	json_object *body = json_object_new_object();
	json_object_object_add(body, "error", err);
	return body;
}
