/*
 * Unit tests of the SQLite store: schema and migrations, the statement
 * table, and the column names the code reads rows by.
 */
#include <sqlite3.h>
#include <stdlib.h>

#include "check.h"
#include "store.h"
#include "store_fixture.h"
#include "store_sqlite.h"

struct fixture {
	struct config cfg;
	struct store *s;
};

static int fixture_open(struct fixture *f)
{
	char err[256];
	memset(f, 0, sizeof(*f));
	if (data_dir_new(&f->cfg))
		return -1;
	/* tests/test_store_postgresql.py runs the tests of the interface's
	 * contract (column names) once more on a PostgreSQL database. */
	const char *store = getenv("ENGINE_STORE");
	if (store && *store)
		snprintf(f->cfg.store, sizeof(f->cfg.store), "%s", store);
	f->s = store_open(&f->cfg, STORE_ROLE_API, err, sizeof(err));
	return f->s ? 0 : -1;
}

static void fixture_close(struct fixture *f)
{
	store_close(&f->s);
	data_dir_remove(&f->cfg);
}

TEST(store_creates_schema_once_and_reopens)
{
	struct fixture f;
	char err[256];
	REQUIRE(fixture_open(&f) == 0);
	CHECK(store_file_int(&f.cfg, "PRAGMA user_version") == store_schema_version);
	struct store *again = store_open(&f.cfg, STORE_ROLE_RUNNER, err, sizeof(err));
	CHECK(again != NULL);
	store_close(&again);
	CHECK(again == NULL);
	CHECK(store_file_int(&f.cfg, "SELECT count(*) FROM sqlite_master WHERE name = 'executions'") == 1);
	fixture_close(&f);
}

TEST(store_refuses_a_newer_schema)
{
	struct fixture f;
	char err[512] = "", sql[64], want[64];
	REQUIRE(fixture_open(&f) == 0);
	store_close(&f.s);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", store_schema_version + 1);
	store_file_int(&f.cfg, sql);
	CHECK(store_open(&f.cfg, STORE_ROLE_API, err, sizeof(err)) == NULL);
	snprintf(want, sizeof(want), "schema version %d, newer than this release", store_schema_version + 1);
	CHECK(strstr(err, want) != NULL);
	/* Refused, not touched: the version stays what the later release wrote. */
	CHECK(store_file_int(&f.cfg, "PRAGMA user_version") == store_schema_version + 1);
	fixture_close(&f);
}

TEST(store_every_statement_id_has_sql_that_prepares)
{
	struct fixture f;
	sqlite3 *db;
	char path[CONFIG_PATH_MAX + 32];
	REQUIRE(fixture_open(&f) == 0);
	REQUIRE(config_data_path(&f.cfg, "engine.db", path, sizeof(path)) == 0);
	REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
	for (int i = 0; i < STMT__MAX; i++) {
		sqlite3_stmt *st = NULL;
		CHECK(sqlite_sql[i] != NULL);
		if (sqlite_sql[i] && sqlite3_prepare_v2(db, sqlite_sql[i], -1, &st, NULL) != SQLITE_OK) {
			fprintf(stderr, "  statement %d: %s\n", i, sqlite3_errmsg(db));
			CHECK(!"statement prepares");
		}
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	fixture_close(&f);
}

/* Every column of id's rows has the name names[col], and there are n of them. */
static void check_columns(struct store *s, enum store_stmt id, const char *const *names, int n)
{
	struct store_query *q = store_query(s, id);
	for (int col = 0; col < n; col++) {
		const char *name = store_column_name(q, col);
		if (!name || strcmp(name, names[col]) != 0) {
			fprintf(stderr, "  statement %d column %d: %s, expected %s\n", id, col,
				name ? name : "(none)", names[col]);
			CHECK(!"column names match their enum");
		}
	}
	CHECK(store_column_name(q, n) == NULL);
}

TEST(store_column_enums_name_the_columns_in_order)
{
	static const char *const session[SESSION__NCOLUMNS] = {
		[SESSION_ID] = "id", [SESSION_LANGUAGE] = "language",
		[SESSION_SOURCE_CODE] = "source_code", [SESSION_STATUS] = "status",
		[SESSION_CREATED_AT] = "created_at", [SESSION_UPDATED_AT] = "updated_at",
	};
	static const char *const execution[EXECUTION__NCOLUMNS] = {
		[EXECUTION_ID] = "id", [EXECUTION_SESSION_ID] = "session_id",
		[EXECUTION_STATUS] = "status", [EXECUTION_STDOUT] = "stdout",
		[EXECUTION_STDERR] = "stderr", [EXECUTION_EXIT_CODE] = "exit_code",
		[EXECUTION_SIGNAL] = "signal", [EXECUTION_TIME_MS] = "execution_time_ms",
		[EXECUTION_CPU_TIME_MS] = "cpu_time_ms", [EXECUTION_MEMORY_KB] = "memory_kb",
		[EXECUTION_STDOUT_TRUNCATED] = "stdout_truncated",
		[EXECUTION_STDERR_TRUNCATED] = "stderr_truncated",
		[EXECUTION_ERROR_CODE] = "error_code", [EXECUTION_ERROR_MESSAGE] = "error_message",
		[EXECUTION_ATTEMPT] = "attempt", [EXECUTION_QUEUED_AT] = "queued_at",
		[EXECUTION_STARTED_AT] = "started_at", [EXECUTION_FINISHED_AT] = "finished_at",
		[EXECUTION_SEQ] = "seq", [EXECUTION_SETUP_MS] = "setup_ms",
		[EXECUTION_KIND] = "kind", [EXECUTION_COMPILE_OUTPUT] = "compile_output",
		[EXECUTION_COMPILE_TIME_MS] = "compile_time_ms",
		[EXECUTION_COMPILE_CACHED] = "compile_cached", [EXECUTION_DIAGNOSTICS] = "diagnostics",
		[EXECUTION_INTERACTIVE] = "interactive",
	};
	static const char *const runner[RUNNER__NCOLUMNS] = {
		[RUNNER_ID] = "id", [RUNNER_HOST] = "host", [RUNNER_PID] = "pid",
		[RUNNER_SLOTS] = "slots", [RUNNER_BUSY] = "busy",
		[RUNNER_SANDBOX_MODE] = "sandbox_mode", [RUNNER_STARTED_AT] = "started_at",
		[RUNNER_HEARTBEAT_AT] = "heartbeat_at", [RUNNER_LIMIT_ERRORS] = "limit_errors",
	};
	static const char *const claim[CLAIM__NCOLUMNS] = {
		[CLAIM_ID] = "id", [CLAIM_ATTEMPT] = "attempt",
		[CLAIM_SOURCE_CODE] = "source_code", [CLAIM_STDIN] = "stdin",
		[CLAIM_LANGUAGE] = "language", [CLAIM_KIND] = "kind",
		[CLAIM_INTERACTIVE] = "interactive", [CLAIM_SUBMISSION_ID] = "submission_id",
		[CLAIM_TIME_LIMIT_MS] = "time_limit_ms", [CLAIM_EXPECTED_STDOUT] = "expected_stdout",
		[CLAIM_COMPARE] = "compare", [CLAIM_CASE_INDEX] = "case_index",
		[CLAIM_NFILES] = "nfiles", [CLAIM_LEARNER_RUNNING] = "learner_running",
	};
	static const char *const session_caps[SESSION_CAPS__NCOLUMNS] = {
		[SESSION_CAPS_IN_FLIGHT] = "in_flight", [SESSION_CAPS_QUEUE_DEPTH] = "queue_depth",
		[SESSION_CAPS_FILES] = "files",
	};
	static const char *const submission[SUBMISSION__NCOLUMNS] = {
		[SUBMISSION_ID] = "id", [SUBMISSION_SESSION_ID] = "session_id",
		[SUBMISSION_SUITE_ID] = "suite_id", [SUBMISSION_SUITE_VERSION] = "suite_version",
		[SUBMISSION_STOP_ON_FIRST_FAILURE] = "stop_on_first_failure",
		[SUBMISSION_QUEUED_AT] = "queued_at", [SUBMISSION_BODY] = "body", [SUBMISSION_SEQ] = "seq",
	};
	static const char *const case_result[CASE_RESULT__NCOLUMNS] = {
		[CASE_RESULT_INDEX] = "case_index", [CASE_RESULT_STATUS] = "status",
		[CASE_RESULT_VERDICT] = "verdict", [CASE_RESULT_STDOUT] = "stdout",
		[CASE_RESULT_TIME_MS] = "execution_time_ms", [CASE_RESULT_MEMORY_KB] = "memory_kb",
		[CASE_RESULT_ERROR_CODE] = "error_code", [CASE_RESULT_FINISHED_AT] = "finished_at",
	};
	static const char *const status_count[STATUS_COUNT__NCOLUMNS] = {
		[STATUS_COUNT_STATUS] = "status", [STATUS_COUNT_ERROR_CODE] = "error_code",
		[STATUS_COUNT_COUNT] = "count",
	};
	static const char *const event[EVENT__NCOLUMNS] = {
		[EVENT_ID] = "event_id", [EVENT_ATTEMPT] = "attempt", [EVENT_KIND] = "kind",
		[EVENT_OFFSET] = "stream_offset", [EVENT_DATA] = "data",
	};
	static const char *const state[EXECUTION_STATE__NCOLUMNS] = {
		[EXECUTION_STATE_STATUS] = "status", [EXECUTION_STATE_ATTEMPT] = "attempt",
	};
	static const char *const cancel_state[CANCEL_STATE__NCOLUMNS] = {
		[CANCEL_STATE_STATUS] = "status", [CANCEL_STATE_ERROR_CODE] = "error_code",
	};
	static const char *const stdin_state[STDIN_STATE__NCOLUMNS] = {
		[STDIN_STATE_STATUS] = "status", [STDIN_STATE_INTERACTIVE] = "interactive",
		[STDIN_STATE_SENT] = "sent", [STDIN_STATE_LAST_SEQ] = "last_seq",
		[STDIN_STATE_CLOSED] = "closed",
	};
	static const char *const stdin_row[STDIN_ROW__NCOLUMNS] = {
		[STDIN_ROW_SEQ] = "seq", [STDIN_ROW_DATA] = "data", [STDIN_ROW_EOF] = "eof",
	};
	static const char *const window[WINDOW__NCOLUMNS] = {
		[WINDOW_COUNT] = "count", [WINDOW_OLDEST] = "oldest",
	};
	static const char *const session_quota[SESSION_QUOTA__NCOLUMNS] = {
		[SESSION_QUOTA_LEARNER] = "learner", [SESSION_QUOTA_SOURCE_BYTES] = "source_bytes",
	};
	static const char *const suite[SUITE__NCOLUMNS] = {
		[SUITE_ID] = "id", [SUITE_VERSION] = "version", [SUITE_BODY] = "body",
		[SUITE_CREATED_AT] = "created_at",
	};
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	check_columns(f.s, STMT_SUITE_GET, suite, SUITE__NCOLUMNS);
	check_columns(f.s, STMT_SUBMISSION_GET, submission, SUBMISSION__NCOLUMNS);
	check_columns(f.s, STMT_SUBMISSION_LIST, submission, SUBMISSION__NCOLUMNS);
	check_columns(f.s, STMT_SUBMISSION_CASES, case_result, CASE_RESULT__NCOLUMNS);
	check_columns(f.s, STMT_SUITE_PUT, suite, SUITE__NCOLUMNS);
	check_columns(f.s, STMT_EVENTS_AFTER, event, EVENT__NCOLUMNS);
	check_columns(f.s, STMT_EXECUTION_STATE, state, EXECUTION_STATE__NCOLUMNS);
	check_columns(f.s, STMT_SESSION_GET, session, SESSION__NCOLUMNS);
	check_columns(f.s, STMT_SESSION_INSERT, session, SESSION__NCOLUMNS);
	check_columns(f.s, STMT_SESSION_UPDATE, session, SESSION__NCOLUMNS);
	const char *autosave[SESSION__NCOLUMNS + 1];
	memcpy(autosave, session, sizeof session);
	autosave[SESSION_HAS_OTHER_FILES] = "has_other_files";
	check_columns(f.s, STMT_SESSION_AUTOSAVE, autosave, SESSION__NCOLUMNS + 1);
	check_columns(f.s, STMT_EXECUTION_GET, execution, EXECUTION__NCOLUMNS);
	check_columns(f.s, STMT_EXECUTION_LIST, execution, EXECUTION__NCOLUMNS);
	check_columns(f.s, STMT_RUNNERS, runner, RUNNER__NCOLUMNS);
	check_columns(f.s, STMT_METRICS_RUNNERS, runner, RUNNER__NCOLUMNS);
	check_columns(f.s, STMT_CLAIM, claim, CLAIM__NCOLUMNS);
	check_columns(f.s, STMT_SESSION_CAPS, session_caps, SESSION_CAPS__NCOLUMNS);
	check_columns(f.s, STMT_METRICS_BY_STATUS, status_count, STATUS_COUNT__NCOLUMNS);
	check_columns(f.s, STMT_CANCEL_STATE, cancel_state, CANCEL_STATE__NCOLUMNS);
	check_columns(f.s, STMT_STDIN_STATE, stdin_state, STDIN_STATE__NCOLUMNS);
	check_columns(f.s, STMT_STDIN_AFTER, stdin_row, STDIN_ROW__NCOLUMNS);
	check_columns(f.s, STMT_LEARNER_RUNS, window, WINDOW__NCOLUMNS);
	check_columns(f.s, STMT_LEARNER_SESSIONS, window, WINDOW__NCOLUMNS);
	check_columns(f.s, STMT_SESSION_QUOTA, session_quota, SESSION_QUOTA__NCOLUMNS);
	fixture_close(&f);
}

TEST(store_transaction_rolls_back_and_commits)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	struct store_query *q;
	for (int commit = 0; commit < 2; commit++) {
		REQUIRE(store_begin(f.s) == 0);
		q = store_query(f.s, STMT_SESSION_INSERT);
		store_bind_str(q, 1, commit ? "s-commit" : "s-rollback");
		store_bind_str(q, 2, "python");
		store_bind_text(q, 3, "print(1)", 8);
		store_bind_int64(q, 4, 42);
		store_bind_str(q, 5, "learner-1");
		store_bind_str(q, 6, "learner-1");
		store_bind_int64(q, 7, 8);
		CHECK(store_step(q) == STORE_ROW);
		CHECK(store_column_int64(q, SESSION_CREATED_AT) == 42);
		CHECK(store_step(q) == STORE_DONE);
		store_reset(q);
		if (commit)
			CHECK(store_commit(f.s) == 0);
		else
			store_rollback(f.s);
	}
	CHECK(store_file_int(&f.cfg, "SELECT count(*) FROM sessions WHERE id = 's-commit'") == 1);
	CHECK(store_file_int(&f.cfg, "SELECT count(*) FROM sessions") == 1);
	q = store_query(f.s, STMT_SESSION_GET);
	store_bind_str(q, 1, "s-commit");
	REQUIRE(store_step(q) == STORE_ROW);
	size_t len = 0;
	CHECK_STR(store_column_text(q, SESSION_SOURCE_CODE, &len), "print(1)");
	CHECK(len == 8);
	CHECK(!store_column_is_null(q, SESSION_UPDATED_AT));
	store_reset(q);
	CHECK(store_checkpoint(f.s) == 0);
	fixture_close(&f);
}

/* The plan lines of EXPLAIN QUERY PLAN of statement id, joined by " | ". */
static void query_plan(const struct config *cfg, enum store_stmt id, char *out, size_t len)
{
	char path[CONFIG_PATH_MAX + 32], sql[4096];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	size_t used = 0;
	out[0] = '\0';
	snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", sqlite_sql[id]);
	if (config_data_path(cfg, "engine.db", path, sizeof(path)) || sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		snprintf(out, len, "cannot explain: %s", db ? sqlite3_errmsg(db) : "no store file");
		sqlite3_close(db);
		return;
	}
	while (sqlite3_step(st) == SQLITE_ROW && used < len)
		used += (size_t)snprintf(out + used, len - used, "%s | ", (const char *)sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* True if every step of plan that reads executions goes through one of the indexes named in allowed. */
static bool reads_executions_only_through(const char *plan, const char *const *allowed)
{
	for (const char *p = strstr(plan, "executions"); p; p = strstr(p + 1, "executions")) {
		if (p[10] == '_')       /* execution_events, executions_... as an index name */
			continue;
		const char *end = strstr(p, " | ");
		bool ok = false;
		for (const char *const *a = allowed; *a && !ok; a++) {
			const char *hit = strstr(p, *a);
			ok = hit && (!end || hit < end);
		}
		if (!ok)
			return false;
	}
	return true;
}

/*
 * A scrape's cost must not grow with history: the statements of /metrics
 * read the counter tables, and of executions only the queue and the
 * running claims, through their partial indexes (bounded by
 * max_queue_depth and the slots).
 */
/* Checks the plan of each statement of ids with ok; prints the plans it refuses. */
static void check_plans(const struct config *cfg, const enum store_stmt *ids, size_t n,
			bool (*ok)(const char *plan))
{
	char plan[4096];
	for (size_t i = 0; i < n; i++) {
		query_plan(cfg, ids[i], plan, sizeof(plan));
		bool good = !strstr(plan, "cannot explain") && ok(plan);
		if (!good)
			fprintf(stderr, "  statement %d: %s\n", (int)ids[i], plan);
		CHECK(good);
	}
}

static bool reads_only_live_executions(const char *plan)
{
	static const char *const live[] = { "INDEX executions_queued", "INDEX executions_running", NULL };
	return reads_executions_only_through(plan, live);
}

static bool scans_no_table(const char *plan)
{
	return !strstr(plan, "SCAN executions") && !strstr(plan, "SCAN execution_") && !strstr(plan, "SCAN sessions") &&
	       !strstr(plan, "SCAN session_");
}

/*
 * A scrape's cost must not grow with history: the statements of /metrics
 * read the counter tables, and of executions only the queue and the
 * running claims, through their partial indexes (bounded by
 * max_queue_depth and the slots).
 */
TEST(metrics_statements_never_scan_the_executions_history)
{
	static const enum store_stmt scrape[] = {
		STMT_METRICS_BY_STATUS, STMT_METRICS_BY_LANGUAGE, STMT_METRICS_COUNTER, STMT_METRICS_BUCKETS,
		STMT_METRICS_VERDICTS, STMT_METRICS_STORE_SIZE, STMT_METRICS_RUNNERS, STMT_QUEUE_STATS,
	};
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	check_plans(&f.cfg, scrape, sizeof(scrape) / sizeof(scrape[0]), reads_only_live_executions);
	fixture_close(&f);
}

/* A retention batch finds its rows by index: it never holds the write lock for a scan. */
TEST(retention_batches_find_their_rows_by_index)
{
	static const enum store_stmt purge[] = {
		STMT_PURGE_EVENTS, STMT_PURGE_STDIN, STMT_PURGE_EXECUTIONS, STMT_PURGE_SUBMISSIONS,
		STMT_PURGE_SESSIONS, STMT_PURGE_EXECUTION_FILES, STMT_PURGE_SESSION_FILES, STMT_PURGE_ARTIFACTS,
	};
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	check_plans(&f.cfg, purge, sizeof(purge) / sizeof(purge[0]), scans_no_table);
	fixture_close(&f);
}

static long long counter(const struct config *cfg, const char *name, const char *status)
{
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT coalesce(sum(value), 0) FROM metric_counts WHERE name = '%s' "
		 "AND status = '%s'", name, status);
	return store_file_int(cfg, sql);
}

/* The triggers count each change of status once, and deleting the rows keeps the counts. */
TEST(metric_counts_follow_statuses_and_outlive_their_rows)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	REQUIRE(store_file_exec(&f.cfg,
		"INSERT INTO sessions (id, language, source_code, created_at, updated_at) VALUES ('s', 'python', '', 0, 0);"
		"INSERT INTO executions (id, session_id, status, language, source_code, stdin, queued_at) "
		"VALUES ('e', 's', 'QUEUED', 'python', '', '', 1000);"
		"UPDATE executions SET status = 'RUNNING', started_at = 1030 WHERE id = 'e';"
		"UPDATE executions SET status = 'COMPLETED', finished_at = 1500, execution_time_ms = 400, "
		" setup_ms = 7 WHERE id = 'e';"
		"UPDATE executions SET status = 'FAILED', error_code = 'SKIPPED' WHERE id = 'e';") == 0);
	CHECK(counter(&f.cfg, "accepted", "") == 1);
	CHECK(counter(&f.cfg, "finished", "COMPLETED") == 1);
	CHECK(counter(&f.cfg, "finished", "FAILED") == 0);       /* final to final is not counted again */
	CHECK(counter(&f.cfg, "busy_ms", "") == 470);
	CHECK(store_file_int(&f.cfg, "SELECT le FROM metric_buckets WHERE name = 'queue_wait'") == 50);
	CHECK(store_file_int(&f.cfg, "SELECT sum FROM metric_buckets WHERE name = 'end_to_end'") == 500);
	CHECK(store_file_int(&f.cfg, "SELECT le FROM metric_buckets WHERE name = 'run'") == 500);
	CHECK(store_file_int(&f.cfg, "SELECT le FROM metric_buckets WHERE name = 'setup'") == 10);
	REQUIRE(store_file_exec(&f.cfg, "DELETE FROM executions; DELETE FROM sessions;") == 0);
	CHECK(counter(&f.cfg, "finished", "COMPLETED") == 1);
	CHECK(store_file_int(&f.cfg, "SELECT sum(count) FROM metric_buckets WHERE name = 'run'") == 1);
	fixture_close(&f);
}

/* A store made before the metrics' migration counts its history from then on. */
TEST(metrics_migration_counts_the_rows_already_stored)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	REQUIRE(store_file_exec(&f.cfg,
		"DROP TABLE metric_counts; DROP TABLE metric_buckets;"
		"DROP TRIGGER metrics_accepted; DROP TRIGGER metrics_claimed; DROP TRIGGER metrics_finished;"
		"DROP TRIGGER metrics_verdict; DROP TRIGGER metrics_slot_use;"
		"DROP INDEX executions_finished; DROP INDEX sessions_by_updated;"
		/* and what the migrations after it made (12: a session's files, 13: artifacts, 15: uid blocks) */
		"DROP TABLE session_files; DROP TABLE execution_files; DROP TABLE execution_artifacts;"
		"DROP TABLE uid_blocks;"
		"INSERT INTO sessions (id, language, source_code, created_at, updated_at) VALUES ('s', 'c', '', 0, 0);"
		"INSERT INTO executions (id, session_id, status, language, source_code, stdin, queued_at, "
		" started_at, finished_at, execution_time_ms, error_code) VALUES "
		"('a', 's', 'FAILED', 'c', '', '', 0, 10, 20, 5, 'RUNTIME_ERROR'),"
		"('b', 's', 'QUEUED', 'c', '', '', 0, NULL, NULL, NULL, NULL);") == 0);
	char err[256], sql[64];
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", 10);   /* before 11, the metrics' */
	REQUIRE(store_file_exec(&f.cfg, sql) == 0);
	store_close(&f.s);
	f.s = store_open(&f.cfg, STORE_ROLE_API, err, sizeof(err));
	REQUIRE(f.s != NULL);
	CHECK(counter(&f.cfg, "accepted", "") == 2);
	CHECK(counter(&f.cfg, "finished", "FAILED") == 1);
	CHECK(store_file_int(&f.cfg, "SELECT count FROM metric_buckets WHERE name = 'run' AND le = 5") == 1);
	fixture_close(&f);
}

/* Retention gives space back without a VACUUM: new files are made for incremental vacuum. */
TEST(store_files_are_made_for_incremental_vacuum)
{
	struct fixture f;
	REQUIRE(fixture_open(&f) == 0);
	CHECK(store_file_int(&f.cfg, "PRAGMA auto_vacuum") == 2);
	fixture_close(&f);
}
