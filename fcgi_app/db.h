/* Every SQL statement of the API, prepared once per process, used by id. */
#ifndef FCGI_DB_H
#define FCGI_DB_H

#include <stddef.h>
#include <stdint.h>
#include <json.h>
#include <sqlite3.h>

#include "util.h"

enum stmt_id {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_SESSION_INSERT,
	STMT_SESSION_GET,
	STMT_SESSION_UPDATE,
	STMT_SESSION_EXISTS,
	STMT_SESSION_IN_FLIGHT,
	STMT_QUEUE_DEPTH,
	STMT_EXECUTION_INSERT,
	STMT_EXECUTION_GET,
	STMT_EXECUTION_LIST,
	STMT_QUEUE_STATS,
	STMT_RUNNERS,
	STMT_METRICS_BY_STATUS,
	STMT_METRICS_EXECUTION_TIME,
	STMT_METRICS_QUEUE_WAIT,
	STMT_METRICS_SETUP_TIME,
	STMT_METRICS_RUNNERS,
	STMT__MAX
};

enum db_status {
	DB_OK,
	DB_NOT_FOUND,
	DB_SESSION_BUSY,        /* per-session cap reached */
	DB_QUEUE_FULL,          /* global queue depth reached */
	DB_ERROR,               /* the store failed: nothing was written */
};

struct app;

/* Opens the store and prepares the statements. Returns 0, or -1 with err. */
int db_open(struct app *app, char *err, size_t errlen);
void db_close(struct app *app);

/* Each returns DB_OK with *out (owned by the caller) or another status. */
enum db_status db_session_create(struct app *app, const char *language, const char *code,
				 size_t code_len, json_object **out);
enum db_status db_session_get(struct app *app, const char *id, json_object **out);
enum db_status db_session_update(struct app *app, const char *id, const char *code,
				 size_t code_len, json_object **out);

/*
 * Commits a QUEUED execution holding a snapshot of the session's code and
 * stdin, within the per-session and global caps. On DB_OK writes the new id.
 */
enum db_status db_run_enqueue(struct app *app, const char *session_id, const char *stdin_data,
			      size_t stdin_len, char exec_id[UUID_LEN + 1], json_object **out);

enum db_status db_execution_get(struct app *app, const char *id, json_object **out);

/* Executions of a session with seq < before (0 = from the newest), newest first. */
enum db_status db_execution_list(struct app *app, const char *session_id, int64_t before,
				 int limit, json_object **out);

/* The health document; DB_ERROR if the store does not answer. */
enum db_status db_health(struct app *app, json_object **out);

/* /metrics: each is computed from the executions and runners tables at call time. */
#define METRICS_BUCKETS 11

/* Upper bounds of the histogram buckets, in ms (the +Inf bucket is the count). */
extern const int64_t metrics_bounds_ms[METRICS_BUCKETS];

struct metrics_histogram {
	int64_t le[METRICS_BUCKETS];    /* cumulative: rows with value <= metrics_bounds_ms[i] */
	int64_t count;
	double sum_ms;
};

/* Fills h from one of STMT_METRICS_EXECUTION_TIME, _QUEUE_WAIT, _SETUP_TIME. */
enum db_status db_metrics_histogram(struct app *app, enum stmt_id id, struct metrics_histogram *h);

/*
 * Calls fn for each row of STMT_METRICS_BY_STATUS (status, error_code or "",
 * count) or STMT_METRICS_RUNNERS (RUNNER_COLUMNS of runners not stopped that
 * heartbeated at or after since_ms).
 */
typedef void db_row_fn(void *ctx, sqlite3_stmt *st);
enum db_status db_metrics_rows(struct app *app, enum stmt_id id, int64_t since_ms,
			       db_row_fn *fn, void *ctx);

/* Queue depth, age of the oldest QUEUED row in ms (-1 if none), RUNNING count. */
enum db_status db_queue_stats(struct app *app, int64_t *depth, int64_t *oldest_age_ms,
			      int64_t *running);

#endif
