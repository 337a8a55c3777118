#include "render.h"

#include "util.h"

static json_object *text_or_null(sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return NULL;
	return json_object_new_string_len((const char *)sqlite3_column_text(st, col),
					  sqlite3_column_bytes(st, col));
}

static json_object *int_or_null(sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return NULL;
	return json_object_new_int64(sqlite3_column_int64(st, col));
}

static json_object *time_string(int64_t ms)
{
	char buf[RFC3339_LEN];
	rfc3339(ms, buf);
	return json_object_new_string(buf);
}

/* An RFC 3339 string, or JSON null for a NULL column. */
static json_object *render_time_column(sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return NULL;
	return time_string(sqlite3_column_int64(st, col));
}

json_object *render_session(sqlite3_stmt *st)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "session_id", text_or_null(st, 0));
	json_object_object_add(o, "language", text_or_null(st, 1));
	json_object_object_add(o, "source_code", text_or_null(st, 2));
	json_object_object_add(o, "status", text_or_null(st, 3));
	json_object_object_add(o, "created_at", render_time_column(st, 4));
	json_object_object_add(o, "updated_at", render_time_column(st, 5));
	return o;
}

static json_object *render_error(sqlite3_stmt *st, int code_col, int msg_col)
{
	if (sqlite3_column_type(st, code_col) == SQLITE_NULL)
		return NULL;
	json_object *e = json_object_new_object();
	json_object_object_add(e, "code", text_or_null(st, code_col));
	json_object_object_add(e, "message", text_or_null(st, msg_col));
	return e;
}

json_object *render_execution(sqlite3_stmt *st)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "execution_id", text_or_null(st, 0));
	json_object_object_add(o, "session_id", text_or_null(st, 1));
	json_object_object_add(o, "status", text_or_null(st, 2));
	json_object_object_add(o, "stdout", text_or_null(st, 3));
	json_object_object_add(o, "stderr", text_or_null(st, 4));
	json_object_object_add(o, "exit_code", int_or_null(st, 5));
	json_object_object_add(o, "signal", int_or_null(st, 6));
	json_object_object_add(o, "execution_time_ms", int_or_null(st, 7));
	json_object_object_add(o, "setup_time_ms", int_or_null(st, 19));
	json_object_object_add(o, "cpu_time_ms", int_or_null(st, 8));
	json_object_object_add(o, "memory_kb", int_or_null(st, 9));
	json_object_object_add(o, "stdout_truncated", json_object_new_boolean(sqlite3_column_int(st, 10)));
	json_object_object_add(o, "stderr_truncated", json_object_new_boolean(sqlite3_column_int(st, 11)));
	json_object_object_add(o, "error", render_error(st, 12, 13));
	json_object_object_add(o, "attempt", int_or_null(st, 14));
	json_object_object_add(o, "queued_at", render_time_column(st, 15));
	json_object_object_add(o, "started_at", render_time_column(st, 16));
	json_object_object_add(o, "finished_at", render_time_column(st, 17));
	return o;
}

json_object *render_runner(sqlite3_stmt *st, int64_t now)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "runner_id", text_or_null(st, 0));
	json_object_object_add(o, "host", text_or_null(st, 1));
	json_object_object_add(o, "pid", int_or_null(st, 2));
	json_object_object_add(o, "slots", int_or_null(st, 3));
	json_object_object_add(o, "busy", int_or_null(st, 4));
	json_object_object_add(o, "sandbox_mode", text_or_null(st, 5));
	json_object_object_add(o, "started_at", render_time_column(st, 6));
	json_object_object_add(o, "last_heartbeat_at", render_time_column(st, 7));
	json_object_object_add(o, "heartbeat_age_ms", json_object_new_int64(now - sqlite3_column_int64(st, 7)));
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
