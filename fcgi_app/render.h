/* JSON encoders for the API's objects, from rows of the statements in db.c. */
#ifndef FCGI_RENDER_H
#define FCGI_RENDER_H

#include <stdint.h>
#include <json.h>
#include <sqlite3.h>

/* Column lists the encoders expect, in order. */
#define SESSION_COLUMNS "id, language, source_code, status, created_at, updated_at"
#define EXECUTION_COLUMNS \
	"id, session_id, status, stdout, stderr, exit_code, signal, execution_time_ms, " \
	"cpu_time_ms, memory_kb, stdout_truncated, stderr_truncated, error_code, " \
	"error_message, attempt, queued_at, started_at, finished_at, seq, setup_ms"
#define RUNNER_COLUMNS "id, host, pid, slots, busy, sandbox_mode, started_at, heartbeat_at"

/* Each returns a new object for the current row of st. */
json_object *render_session(sqlite3_stmt *st);
json_object *render_execution(sqlite3_stmt *st);
json_object *render_runner(sqlite3_stmt *st, int64_t now);

/* Index of seq in EXECUTION_COLUMNS, for cursors. */
#define EXECUTION_SEQ_COLUMN 18

/* The 202 reply of a Run. */
json_object *render_run_accepted(const char *exec_id, const char *session_id, int64_t queued_at);

#endif
