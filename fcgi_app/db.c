/*
 * The API's SQL. Writes are single statements or short IMMEDIATE
 * transactions, so a refused or failed request leaves no partial row.
 */
#include "db.h"

#include <stdio.h>
#include <string.h>

#include "app.h"
#include "log.h"
#include "render.h"
#include "store.h"

/*
 * One scan per histogram: cumulative bucket counts for the bounds bound as
 * ?1..?11, then count and sum. NULL values (not finished, not started, rows
 * from before schema version 2) fall in no bucket and are not counted.
 */
#define HB(x, i) "sum(" x " <= ?" #i "), "
#define HISTOGRAM_SQL(x) \
	"SELECT " HB(x, 1) HB(x, 2) HB(x, 3) HB(x, 4) HB(x, 5) HB(x, 6) HB(x, 7) HB(x, 8) \
	HB(x, 9) HB(x, 10) HB(x, 11) "count(" x "), total(" x ") FROM executions"

const int64_t metrics_bounds_ms[METRICS_BUCKETS] = {
	5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
};

static const char *const sql[STMT__MAX] = {
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
	[STMT_SESSION_INSERT] =
		"INSERT INTO sessions (id, language, source_code, status, created_at, updated_at) "
		"VALUES (?1, ?2, ?3, 'ACTIVE', ?4, ?4) RETURNING " SESSION_COLUMNS,
	[STMT_SESSION_GET] = "SELECT " SESSION_COLUMNS " FROM sessions WHERE id = ?1",
	[STMT_SESSION_UPDATE] =
		"UPDATE sessions SET source_code = ?2, updated_at = max(?3, updated_at) "
		"WHERE id = ?1 RETURNING " SESSION_COLUMNS,
	[STMT_SESSION_EXISTS] = "SELECT 1 FROM sessions WHERE id = ?1",
	[STMT_SESSION_IN_FLIGHT] =
		"SELECT count(*) FROM executions WHERE session_id = ?1 "
		"AND status IN ('QUEUED', 'RUNNING')",
	[STMT_QUEUE_DEPTH] = "SELECT count(*) FROM executions WHERE status = 'QUEUED'",
	[STMT_EXECUTION_INSERT] =
		"INSERT INTO executions (id, session_id, status, language, source_code, stdin, queued_at) "
		"SELECT ?1, id, 'QUEUED', language, source_code, ?2, ?3 FROM sessions WHERE id = ?4",
	[STMT_EXECUTION_GET] = "SELECT " EXECUTION_COLUMNS " FROM executions WHERE id = ?1",
	[STMT_EXECUTION_LIST] =
		"SELECT " EXECUTION_COLUMNS " FROM executions WHERE session_id = ?1 AND seq < ?2 "
		"ORDER BY seq DESC LIMIT ?3",
	[STMT_QUEUE_STATS] =
		"SELECT (SELECT count(*) FROM executions WHERE status = 'QUEUED'), "
		"(SELECT min(queued_at) FROM executions WHERE status = 'QUEUED'), "
		"(SELECT count(*) FROM executions WHERE status = 'RUNNING')",
	[STMT_RUNNERS] =
		"SELECT " RUNNER_COLUMNS " FROM runners WHERE stopped_at IS NULL "
		"AND heartbeat_at >= ?1 ORDER BY started_at",
	[STMT_METRICS_BY_STATUS] =
		"SELECT status, coalesce(error_code, ''), count(*) FROM executions "
		"GROUP BY 1, 2 ORDER BY 1, 2",
	[STMT_METRICS_EXECUTION_TIME] = HISTOGRAM_SQL("execution_time_ms"),
	[STMT_METRICS_QUEUE_WAIT] = HISTOGRAM_SQL("(started_at - queued_at)"),
	[STMT_METRICS_SETUP_TIME] = HISTOGRAM_SQL("setup_ms"),
	[STMT_METRICS_RUNNERS] =
		"SELECT " RUNNER_COLUMNS " FROM runners WHERE stopped_at IS NULL "
		"AND heartbeat_at >= ?1 ORDER BY started_at, id",
};

int db_open(struct app *app, char *err, size_t errlen)
{
	char path[CONFIG_PATH_MAX + 32];
	if (config_data_path(&app->cfg, STORE_FILE, path, sizeof(path))) {
		snprintf(err, errlen, "data_dir is too long");
		return -1;
	}
	app->db = store_open(path, err, errlen);
	if (!app->db)
		return -1;
	/* The runner checkpoints; a request must not. Without a runner the WAL
	 * still cannot grow without bound: at 64 MiB a request checkpoints. */
	sqlite3_exec(app->db, "PRAGMA wal_autocheckpoint=16384", NULL, NULL, NULL);
	if (store_prepare_all(app->db, sql, app->stmt, STMT__MAX, err, errlen)) {
		db_close(app);
		return -1;
	}
	return 0;
}

void db_close(struct app *app)
{
	store_close(app->db, app->stmt, STMT__MAX);
	app->db = NULL;
	memset(app->stmt, 0, sizeof(app->stmt));
}

/* The statement id, reset and with its bindings cleared. */
static sqlite3_stmt *stmt(struct app *app, enum stmt_id id)
{
	sqlite3_stmt *st = app->stmt[id];
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static enum db_status db_failed(struct app *app, const char *what)
{
	log_error("store: %s: %s", what, sqlite3_errmsg(app->db));
	return DB_ERROR;
}

/* Runs a statement that returns at most one row and renders it with fn. */
static enum db_status one_row(struct app *app, sqlite3_stmt *st, json_object *(*fn)(sqlite3_stmt *),
			      json_object **out, const char *what)
{
	int rc = sqlite3_step(st);
	enum db_status s = DB_OK;
	if (rc == SQLITE_ROW)
		*out = fn(st);
	else if (rc == SQLITE_DONE)
		s = DB_NOT_FOUND;
	else
		s = db_failed(app, what);
	sqlite3_reset(st);
	return s;
}

enum db_status db_session_create(struct app *app, const char *language, const char *code,
				 size_t code_len, json_object **out)
{
	char id[UUID_LEN + 1];
	uuid_new(id);
	sqlite3_stmt *st = stmt(app, STMT_SESSION_INSERT);
	sqlite3_bind_text(st, 1, id, UUID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, language, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, code, (int)code_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now_ms());
	enum db_status s = one_row(app, st, render_session, out, "create session");
	return s == DB_NOT_FOUND ? DB_ERROR : s;
}

enum db_status db_session_get(struct app *app, const char *id, json_object **out)
{
	sqlite3_stmt *st = stmt(app, STMT_SESSION_GET);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	return one_row(app, st, render_session, out, "get session");
}

enum db_status db_session_update(struct app *app, const char *id, const char *code,
				 size_t code_len, json_object **out)
{
	sqlite3_stmt *st = stmt(app, STMT_SESSION_UPDATE);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, code, (int)code_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now_ms());
	return one_row(app, st, render_session, out, "update session");
}

static int64_t count_query(struct app *app, enum stmt_id id, const char *session_id)
{
	sqlite3_stmt *st = stmt(app, id);
	if (session_id)
		sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
	int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_reset(st);
	return n;
}

static enum db_status session_exists(struct app *app, const char *session_id)
{
	sqlite3_stmt *st = stmt(app, STMT_SESSION_EXISTS);
	sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return DB_OK;
	return rc == SQLITE_DONE ? DB_NOT_FOUND : db_failed(app, "find session");
}

static int step_done(struct app *app, enum stmt_id id)
{
	sqlite3_stmt *st = stmt(app, id);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Inside the transaction: checks the caps and inserts. */
static enum db_status enqueue_locked(struct app *app, const char *session_id, const char *stdin_data,
				     size_t stdin_len, const char *exec_id, int64_t now)
{
	enum db_status s = session_exists(app, session_id);
	if (s != DB_OK)
		return s;
	int64_t n = count_query(app, STMT_SESSION_IN_FLIGHT, session_id);
	if (n < 0)
		return db_failed(app, "count runs in flight");
	if (n >= app->cfg.max_runs_per_session)
		return DB_SESSION_BUSY;
	n = count_query(app, STMT_QUEUE_DEPTH, NULL);
	if (n < 0)
		return db_failed(app, "queue depth");
	if (n >= app->cfg.max_queue_depth)
		return DB_QUEUE_FULL;
	sqlite3_stmt *st = stmt(app, STMT_EXECUTION_INSERT);
	sqlite3_bind_text(st, 1, exec_id, UUID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, stdin_data ? stdin_data : "", (int)stdin_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_text(st, 4, session_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? DB_OK : db_failed(app, "insert execution");
}

enum db_status db_run_enqueue(struct app *app, const char *session_id, const char *stdin_data,
			      size_t stdin_len, char exec_id[UUID_LEN + 1], json_object **out)
{
	int64_t now = now_ms();
	uuid_new(exec_id);
	if (step_done(app, STMT_BEGIN))
		return db_failed(app, "begin");
	enum db_status s = enqueue_locked(app, session_id, stdin_data, stdin_len, exec_id, now);
	if (s == DB_OK && step_done(app, STMT_COMMIT))
		s = db_failed(app, "commit");
	if (s != DB_OK) {
		step_done(app, STMT_ROLLBACK);
		return s;
	}
	*out = render_run_accepted(exec_id, session_id, now);
	return DB_OK;
}

enum db_status db_execution_get(struct app *app, const char *id, json_object **out)
{
	sqlite3_stmt *st = stmt(app, STMT_EXECUTION_GET);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	return one_row(app, st, render_execution, out, "get execution");
}

enum db_status db_execution_list(struct app *app, const char *session_id, int64_t before,
				 int limit, json_object **out)
{
	enum db_status s = session_exists(app, session_id);
	if (s != DB_OK)
		return s;

	sqlite3_stmt *st = stmt(app, STMT_EXECUTION_LIST);
	sqlite3_bind_text(st, 1, session_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, before > 0 ? before : INT64_MAX);
	sqlite3_bind_int(st, 3, limit + 1);     /* one more tells whether a next page exists */
	json_object *items = json_object_new_array();
	int64_t last_seq = 0;
	int n = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < limit) {
		json_object_array_add(items, render_execution(st));
		last_seq = sqlite3_column_int64(st, EXECUTION_SEQ_COLUMN);
		n++;
	}
	bool more = rc == SQLITE_ROW;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		json_object_put(items);
		return db_failed(app, "list executions");
	}
	*out = json_object_new_object();
	json_object_object_add(*out, "executions", items);
	char cursor[24];
	snprintf(cursor, sizeof(cursor), "%lld", (long long)last_seq);
	json_object_object_add(*out, "next_cursor", more ? json_object_new_string(cursor) : NULL);
	return DB_OK;
}

static enum db_status health_runners(struct app *app, int64_t now, json_object *out)
{
	sqlite3_stmt *st = stmt(app, STMT_RUNNERS);
	sqlite3_bind_int64(st, 1, now - app->cfg.runner_stale_ms);
	json_object *list = json_object_new_array();
	json_object *mode = NULL;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_object *r = render_runner(st, now);
		if (!mode)
			mode = json_object_get(json_object_object_get(r, "sandbox_mode"));
		json_object_array_add(list, r);
	}
	sqlite3_reset(st);
	json_object_object_add(out, "runners_alive", json_object_new_int((int)json_object_array_length(list)));
	json_object_object_add(out, "runners", list);
	json_object_object_add(out, "sandbox_mode", mode);
	return rc == SQLITE_DONE ? DB_OK : db_failed(app, "runners");
}

enum db_status db_health(struct app *app, json_object **out)
{
	int64_t now = now_ms();
	sqlite3_stmt *st = stmt(app, STMT_QUEUE_STATS);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return db_failed(app, "queue stats");
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "queue_depth", json_object_new_int64(sqlite3_column_int64(st, 0)));
	json_object_object_add(o, "running", json_object_new_int64(sqlite3_column_int64(st, 2)));
	json_object_object_add(o, "oldest_queued_age_ms", sqlite3_column_type(st, 1) == SQLITE_NULL
			       ? NULL : json_object_new_int64(now - sqlite3_column_int64(st, 1)));
	sqlite3_reset(st);
	if (health_runners(app, now, o) != DB_OK) {
		json_object_put(o);
		return DB_ERROR;
	}
	*out = o;
	return DB_OK;
}

enum db_status db_metrics_histogram(struct app *app, enum stmt_id id, struct metrics_histogram *h)
{
	sqlite3_stmt *st = stmt(app, id);
	for (int i = 0; i < METRICS_BUCKETS; i++)
		sqlite3_bind_int64(st, i + 1, metrics_bounds_ms[i]);
	memset(h, 0, sizeof(*h));
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return db_failed(app, "metrics histogram");
	}
	for (int i = 0; i < METRICS_BUCKETS; i++)
		h->le[i] = sqlite3_column_int64(st, i);
	h->count = sqlite3_column_int64(st, METRICS_BUCKETS);
	h->sum_ms = sqlite3_column_double(st, METRICS_BUCKETS + 1);
	sqlite3_reset(st);
	return DB_OK;
}

enum db_status db_metrics_rows(struct app *app, enum stmt_id id, int64_t since_ms,
			       db_row_fn *fn, void *ctx)
{
	sqlite3_stmt *st = stmt(app, id);
	if (sqlite3_bind_parameter_count(st) > 0)
		sqlite3_bind_int64(st, 1, since_ms);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(ctx, st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? DB_OK : db_failed(app, "metrics rows");
}

enum db_status db_queue_stats(struct app *app, int64_t *depth, int64_t *oldest_age_ms,
			      int64_t *running)
{
	sqlite3_stmt *st = stmt(app, STMT_QUEUE_STATS);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return db_failed(app, "queue stats");
	}
	*depth = sqlite3_column_int64(st, 0);
	*oldest_age_ms = sqlite3_column_type(st, 1) == SQLITE_NULL ? -1
			 : now_ms() - sqlite3_column_int64(st, 1);
	*running = sqlite3_column_int64(st, 2);
	sqlite3_reset(st);
	return DB_OK;
}
