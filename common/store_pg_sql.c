/*
 * Every SQL text the PostgreSQL store runs: the schema and its migrations
 * and the statements by id, the same semantics as common/store_sqlite_sql.c
 * in PostgreSQL's dialect. Times are integer milliseconds since the Unix
 * epoch (bigint) as there; flags are integers 0/1 as there, so every row
 * reads the same through the store interface.
 *
 * Where the two differ:
 * - Leases and heartbeats are taken and compared on the database's clock
 *   (DB_NOW_MS), so hosts whose clocks disagree never expire a healthy
 *   lease; a runner binds its own "now" as in SQLite, and only the times the
 *   API shows (started_at, finished_at) use it.
 * - A claim locks the queue head it picks FOR UPDATE SKIP LOCKED, so
 *   concurrent claimers take different rows instead of waiting.
 * - store_begin takes one advisory transaction lock (pg_begin_sql): the
 *   write transactions (a cancel, stdin sends, the sweep, a new session)
 *   serialise as they do under SQLite's BEGIN IMMEDIATE.
 *   A Run (or a submission) is an exception: it locks its session's row
 *   (store_begin_session), a learner's key under a run quota, and the
 *   store-wide lock only near max_queue_depth (fcgi_app/db.c), so no cap
 *   is passed by two requests at once.
 *   A runner's event batches and results are another
 *   (store_begin_fenced): each writes only under its execution's fence
 *   (runner id and attempt), so the runs of all runners commit side by
 *   side. A result's UPDATE locks the execution's row, so a sweep waits
 *   for it or it for the sweep; an event batch that commits just after a
 *   sweep took its execution back is one that could have committed just
 *   before it: its events carry their attempt (EVENT_ID), as any batch
 *   written before a requeue does.
 *   An autosave (a session's files and source) is another: it
 *   locks only its session's row and, when it grows a learner's source
 *   under quota_source_bytes, the learner's key (store_begin_session), so
 *   autosaves of different sessions commit side by side.
 * - Text is ordered with COLLATE "C", SQLite's byte order, whatever the
 *   database's collation.
 */
#include "store_pg.h"
#include "store_metrics.h"

#define DB_NOW_MS "(extract(epoch FROM now()) * 1000)::bigint"

/* Keys of the advisory locks (arbitrary, fixed): write transactions, migrations. */
#define PG_WRITE_LOCK "7306117012466131"
#define PG_MIGRATE_LOCK "7306117012466132"

const char pg_begin_sql[] = "BEGIN; SELECT pg_advisory_xact_lock(" PG_WRITE_LOCK ")";
/* store_begin_session's, %s the session's id as an escaped literal. */
const char pg_begin_session_sql[] = "BEGIN; SELECT 1 FROM sessions WHERE id = %s FOR UPDATE";
const char pg_migrate_lock_sql[] = "BEGIN; SELECT pg_advisory_xact_lock(" PG_MIGRATE_LOCK ")";
const char pg_clock_sql[] = "SELECT " DB_NOW_MS;

/* Notifications (store.h): a channel each, the execution id as the payload. */
const char *const pg_channels[STORE_CHANNEL__MAX] = {
	[STORE_CHANNEL_WAKE] = "engine_wake",
	[STORE_CHANNEL_EVENTS] = "engine_events",
};
const char *const pg_listen_sql[STORE_CHANNEL__MAX] = {
	[STORE_CHANNEL_WAKE] = "LISTEN engine_wake",
	[STORE_CHANNEL_EVENTS] = "LISTEN engine_events",
};
const char pg_notify_sql[] = "SELECT pg_notify($1, $2)";
/* store_commit_notify's: %s a channel, then the execution id as an escaped literal. */
const char pg_commit_notify_sql[] = "COMMIT; SELECT pg_notify('%s', %s)";

/* Final statuses are every status but these. */
#define NOT_FINAL "('QUEUED', 'RUNNING')"
/* b - a when both are there, and never below 0 (hosts' clocks may disagree). */
#define SPAN(a, b) "CASE WHEN " a " IS NOT NULL AND " b " IS NOT NULL THEN greatest(" b " - " a ", 0) END"

/* common/store_metrics.h: the tables, an upsert for each kind, and the triggers. */
#define PG_OBSERVE_FN(fn, bucket) \
	"CREATE FUNCTION " fn "(n TEXT, l TEXT, v BIGINT) RETURNS void LANGUAGE sql AS $$ " \
	"INSERT INTO metric_buckets SELECT n, l, " bucket ", 1, v WHERE v IS NOT NULL " \
	"ON CONFLICT (name, language, le) DO UPDATE SET count = metric_buckets.count + 1, " \
	"sum = metric_buckets.sum + EXCLUDED.sum $$;"
#define PG_METRICS_SCHEMA \
	"CREATE TABLE metric_counts (name TEXT NOT NULL, language TEXT NOT NULL, status TEXT NOT NULL," \
	" error_code TEXT NOT NULL, value BIGINT NOT NULL, PRIMARY KEY (name, language, status, error_code));" \
	"CREATE TABLE metric_buckets (name TEXT NOT NULL, language TEXT NOT NULL, le BIGINT NOT NULL," \
	" count BIGINT NOT NULL, sum BIGINT NOT NULL, PRIMARY KEY (name, language, le));" \
	"CREATE FUNCTION metric_count(n TEXT, l TEXT, s TEXT, e TEXT, v BIGINT) RETURNS void LANGUAGE sql AS $$ " \
	"INSERT INTO metric_counts SELECT n, l, s, e, v WHERE v IS NOT NULL " \
	"ON CONFLICT (name, language, status, error_code) DO UPDATE SET value = metric_counts.value + EXCLUDED.value $$;" \
	PG_OBSERVE_FN("metric_observe_ms", METRIC_BUCKET_MS) \
	PG_OBSERVE_FN("metric_observe_permille", METRIC_BUCKET_PERMILLE) \
	"CREATE FUNCTION executions_metrics() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN " \
	" IF TG_OP = 'INSERT' THEN PERFORM metric_count('accepted', NEW.language, '', '', 1); RETURN NULL; END IF;" \
	" IF OLD.status = 'QUEUED' AND NEW.status = 'RUNNING' THEN" \
	"  PERFORM metric_observe_ms('" METRIC_QUEUE_WAIT "', NEW.language, " SPAN("NEW.queued_at", "NEW.started_at") ");" \
	" END IF;" \
	" IF OLD.status IN " NOT_FINAL " AND NEW.status NOT IN " NOT_FINAL " THEN" \
	"  PERFORM metric_count('finished', NEW.language, NEW.status, coalesce(NEW.error_code, ''), 1);" \
	"  PERFORM metric_observe_ms('" METRIC_RUN "', NEW.language, NEW.execution_time_ms);" \
	"  PERFORM metric_observe_ms('" METRIC_SETUP "', NEW.language, NEW.setup_ms);" \
	"  PERFORM metric_observe_ms('" METRIC_END_TO_END "', NEW.language, " SPAN("NEW.queued_at", "NEW.finished_at") ");" \
	"  IF OLD.status = 'RUNNING' THEN" \
	"   PERFORM metric_count('busy_ms', NEW.language, '', '', " SPAN("NEW.started_at", "NEW.finished_at") ");" \
	"  END IF;" \
	" END IF;" \
	" IF NEW.verdict IS NOT NULL AND NEW.verdict IS DISTINCT FROM OLD.verdict THEN" \
	"  PERFORM metric_count('verdict', NEW.language, NEW.verdict, '', 1);" \
	" END IF;" \
	" RETURN NULL; END $$;" \
	"CREATE TRIGGER executions_metrics AFTER INSERT OR UPDATE OF status, verdict ON executions " \
	"FOR EACH ROW EXECUTE FUNCTION executions_metrics();" \
	"CREATE FUNCTION runners_metrics() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN" \
	" IF NEW.slots > 0 THEN PERFORM metric_observe_permille('" METRIC_SLOT_USE "', '', NEW.busy * 1000 / NEW.slots);" \
	" END IF; RETURN NULL; END $$;" \
	"CREATE TRIGGER runners_metrics AFTER UPDATE OF heartbeat_at ON runners " \
	"FOR EACH ROW EXECUTE FUNCTION runners_metrics();" \
	PG_METRICS_FROM_HISTORY

/*
 * Migration 16: the same triggers, each upsert a statement of the trigger
 * function itself. Migration 11's called SQL functions, which PostgreSQL
 * parses and plans afresh at every call (a fifth of the server's CPU time
 * in a drain of hello-world runs); PL/pgSQL keeps its statements' plans
 * for the connection's life. A finished execution's counters are one
 * statement and its histograms another, their rows in the same order in
 * every transaction.
 *
 * And every counter and bucket is kept in PG_METRIC_SHARDS rows, each
 * connection adding to the one of its server process: a row an upsert
 * changed stays locked until its transaction commits, so with one row
 * per counter every Run's commit (its "accepted") and every result's
 * (its "finished") waited for the one before to reach the disk. The
 * scrape adds the shards up.
 */
#define PG_METRIC_SHARDS "16"
#define PG_SHARD "(pg_backend_pid() % " PG_METRIC_SHARDS ")"
#define PG_COUNT_UPSERT(values) \
	"INSERT INTO metric_counts SELECT n, NEW.language, s, e, v, " PG_SHARD " FROM (VALUES " values ") " \
	"c(n, s, e, v) WHERE v IS NOT NULL ON CONFLICT (name, language, status, error_code, shard) " \
	"DO UPDATE SET value = metric_counts.value + EXCLUDED.value;"
#define PG_BUCKET_UPSERT(language, bucket, values) \
	"INSERT INTO metric_buckets SELECT n, " language ", " bucket ", 1, v, " PG_SHARD " FROM (VALUES " values ") " \
	"b(n, v) WHERE v IS NOT NULL ON CONFLICT (name, language, le, shard) " \
	"DO UPDATE SET count = metric_buckets.count + 1, sum = metric_buckets.sum + EXCLUDED.sum;"
#define PG_METRIC_SHARDED \
	"ALTER TABLE metric_counts ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0;" \
	"ALTER TABLE metric_counts DROP CONSTRAINT metric_counts_pkey," \
	" ADD PRIMARY KEY (name, language, status, error_code, shard);" \
	"ALTER TABLE metric_buckets ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0;" \
	"ALTER TABLE metric_buckets DROP CONSTRAINT metric_buckets_pkey, ADD PRIMARY KEY (name, language, le, shard);"
#define PG_METRICS_TRIGGERS_INLINE \
	PG_METRIC_SHARDED \
	"CREATE OR REPLACE FUNCTION executions_metrics() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN " \
	" IF TG_OP = 'INSERT' THEN " PG_COUNT_UPSERT("('accepted', '', '', 1::bigint)") " RETURN NULL; END IF;" \
	" IF OLD.status = 'QUEUED' AND NEW.status = 'RUNNING' THEN " \
	PG_BUCKET_UPSERT("NEW.language", METRIC_BUCKET_MS, \
			 "('" METRIC_QUEUE_WAIT "', " SPAN("NEW.queued_at", "NEW.started_at") ")") \
	" END IF;" \
	" IF OLD.status IN " NOT_FINAL " AND NEW.status NOT IN " NOT_FINAL " THEN " \
	PG_COUNT_UPSERT("('finished', NEW.status, coalesce(NEW.error_code, ''), 1::bigint), " \
			"('busy_ms', '', '', CASE WHEN OLD.status = 'RUNNING' THEN " \
			SPAN("NEW.started_at", "NEW.finished_at") " END)") \
	PG_BUCKET_UPSERT("NEW.language", METRIC_BUCKET_MS, \
			 "('" METRIC_RUN "', NEW.execution_time_ms), ('" METRIC_SETUP "', NEW.setup_ms), " \
			 "('" METRIC_END_TO_END "', " SPAN("NEW.queued_at", "NEW.finished_at") ")") \
	" END IF;" \
	" IF NEW.verdict IS NOT NULL AND NEW.verdict IS DISTINCT FROM OLD.verdict THEN " \
	PG_COUNT_UPSERT("('verdict', NEW.verdict, '', 1::bigint)") \
	" END IF;" \
	" RETURN NULL; END $$;" \
	"CREATE OR REPLACE FUNCTION runners_metrics() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN" \
	" IF NEW.slots > 0 THEN " \
	PG_BUCKET_UPSERT("''", METRIC_BUCKET_PERMILLE, "('" METRIC_SLOT_USE "', NEW.busy * 1000 / NEW.slots)") \
	" END IF; RETURN NULL; END $$;" \
	"DROP FUNCTION metric_count(TEXT, TEXT, TEXT, TEXT, BIGINT);" \
	"DROP FUNCTION metric_observe_ms(TEXT, TEXT, BIGINT);" \
	"DROP FUNCTION metric_observe_permille(TEXT, TEXT, BIGINT);"

#define PG_BACKFILL(name, v, bucket) \
	"INSERT INTO metric_buckets SELECT '" name "', language, " bucket ", count(*), sum(v) " \
	"FROM (SELECT language, " v " AS v FROM executions) x WHERE v IS NOT NULL GROUP BY 1, 2, 3;"
#define PG_METRICS_FROM_HISTORY \
	"INSERT INTO metric_counts SELECT 'accepted', language, '', '', count(*) FROM executions GROUP BY 2;" \
	"INSERT INTO metric_counts SELECT 'finished', language, status, coalesce(error_code, ''), count(*) " \
	"FROM executions WHERE status NOT IN " NOT_FINAL " GROUP BY 2, 3, 4;" \
	"INSERT INTO metric_counts SELECT 'verdict', language, verdict, '', count(*) " \
	"FROM executions WHERE verdict IS NOT NULL GROUP BY 2, 3;" \
	"INSERT INTO metric_counts SELECT 'busy_ms', language, '', '', sum(" SPAN("started_at", "finished_at") ") " \
	"FROM executions WHERE status NOT IN " NOT_FINAL " AND started_at IS NOT NULL GROUP BY 2;" \
	PG_BACKFILL(METRIC_QUEUE_WAIT, SPAN("queued_at", "started_at"), METRIC_BUCKET_MS) \
	PG_BACKFILL(METRIC_RUN, "CASE WHEN status NOT IN " NOT_FINAL " THEN execution_time_ms END", METRIC_BUCKET_MS) \
	PG_BACKFILL(METRIC_SETUP, "CASE WHEN status NOT IN " NOT_FINAL " THEN setup_ms END", METRIC_BUCKET_MS) \
	PG_BACKFILL(METRIC_END_TO_END, SPAN("queued_at", "finished_at"), METRIC_BUCKET_MS)

/* pg_migrations[i] takes the schema from version i to i + 1, as sqlite_migrations[i]. */
const char *const pg_migrations[] = {
	/* 1: conf/schema.sql */
	"CREATE TABLE sessions ("
	" id TEXT PRIMARY KEY, language TEXT NOT NULL, source_code TEXT NOT NULL,"
	" status TEXT NOT NULL DEFAULT 'ACTIVE', created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
	"CREATE TABLE executions ("
	" seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
	" session_id TEXT NOT NULL REFERENCES sessions(id), status TEXT NOT NULL,"
	" language TEXT NOT NULL, source_code TEXT NOT NULL, stdin TEXT NOT NULL,"
	" stdout TEXT, stderr TEXT, stdout_truncated BIGINT NOT NULL DEFAULT 0,"
	" stderr_truncated BIGINT NOT NULL DEFAULT 0, exit_code BIGINT, signal BIGINT,"
	" execution_time_ms BIGINT, cpu_time_ms BIGINT, memory_kb BIGINT, error_code TEXT,"
	" error_message TEXT, queued_at BIGINT NOT NULL, started_at BIGINT, finished_at BIGINT,"
	" runner_id TEXT, attempt BIGINT NOT NULL DEFAULT 0, lease_until BIGINT);"
	"CREATE INDEX executions_queued ON executions(seq) WHERE status = 'QUEUED';"
	"CREATE INDEX executions_running ON executions(lease_until) WHERE status = 'RUNNING';"
	"CREATE INDEX executions_in_flight ON executions(session_id) WHERE status IN ('QUEUED', 'RUNNING');"
	"CREATE INDEX executions_by_session ON executions(session_id, seq);"
	"CREATE TABLE runners ("
	" id TEXT PRIMARY KEY, host TEXT NOT NULL, pid BIGINT NOT NULL, slots BIGINT NOT NULL,"
	" busy BIGINT NOT NULL DEFAULT 0, sandbox_mode TEXT NOT NULL, started_at BIGINT NOT NULL,"
	" heartbeat_at BIGINT NOT NULL, stopped_at BIGINT);",
	/* 2 */
	"ALTER TABLE executions ADD COLUMN setup_ms BIGINT;",
	/* 3 */
	"ALTER TABLE runners ADD COLUMN languages TEXT NOT NULL DEFAULT '[]';"
	"ALTER TABLE executions ADD COLUMN kind TEXT NOT NULL DEFAULT 'run';"
	"ALTER TABLE executions ADD COLUMN compile_output TEXT;"
	"ALTER TABLE executions ADD COLUMN compile_time_ms BIGINT;"
	"ALTER TABLE executions ADD COLUMN compile_cached BIGINT;"
	"ALTER TABLE executions ADD COLUMN diagnostics TEXT;",
	/* 4 */
	"ALTER TABLE runners ADD COLUMN limit_errors BIGINT NOT NULL DEFAULT 0;",
	/* 5 */
	"CREATE TABLE execution_events ("
	" execution_id TEXT NOT NULL, event_id BIGINT NOT NULL, attempt BIGINT NOT NULL,"
	" kind TEXT NOT NULL, stream_offset BIGINT NOT NULL DEFAULT 0, data TEXT NOT NULL,"
	" PRIMARY KEY (execution_id, event_id));",
	/* 6 */
	"ALTER TABLE executions ADD COLUMN cancel_requested BIGINT NOT NULL DEFAULT 0;"
	"ALTER TABLE executions ADD COLUMN interactive BIGINT NOT NULL DEFAULT 0;"
	"CREATE TABLE execution_stdin ("
	" execution_id TEXT NOT NULL REFERENCES executions(id), seq BIGINT NOT NULL,"
	" data TEXT NOT NULL, bytes BIGINT NOT NULL, eof BIGINT NOT NULL DEFAULT 0,"
	" PRIMARY KEY (execution_id, seq));",
	/* 7 */
	"CREATE TABLE test_suites ("
	" id TEXT NOT NULL, version BIGINT NOT NULL, body TEXT NOT NULL,"
	" created_at BIGINT NOT NULL, deleted BIGINT NOT NULL DEFAULT 0,"
	" PRIMARY KEY (id, version));",
	/* 8 */
	"ALTER TABLE executions ADD COLUMN submission_id TEXT;"
	"ALTER TABLE executions ADD COLUMN case_index BIGINT;"
	"ALTER TABLE executions ADD COLUMN time_limit_ms BIGINT;"
	"ALTER TABLE executions ADD COLUMN expected_stdout TEXT;"
	"ALTER TABLE executions ADD COLUMN compare TEXT;"
	"ALTER TABLE executions ADD COLUMN verdict TEXT;"
	"ALTER TABLE executions ADD COLUMN after_first BIGINT NOT NULL DEFAULT 0;"
	"CREATE INDEX executions_by_submission ON executions(submission_id, case_index) "
	"WHERE submission_id IS NOT NULL;"
	"CREATE TABLE submissions ("
	" seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
	" session_id TEXT NOT NULL, suite_id TEXT NOT NULL, suite_version BIGINT NOT NULL,"
	" stop_on_first_failure BIGINT NOT NULL DEFAULT 0, queued_at BIGINT NOT NULL);"
	"CREATE INDEX submissions_by_session ON submissions(session_id, seq);",
	/* 9 */
	"ALTER TABLE sessions ADD COLUMN owner TEXT NOT NULL DEFAULT '';",
	/* 10 */
	"ALTER TABLE sessions ADD COLUMN learner TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE sessions ADD COLUMN source_bytes BIGINT NOT NULL DEFAULT 0;"
	"UPDATE sessions SET learner = owner, source_bytes = octet_length(source_code);"
	"ALTER TABLE executions ADD COLUMN learner TEXT NOT NULL DEFAULT '';"
	"CREATE INDEX sessions_by_learner ON sessions(learner, created_at, source_bytes);"
	"CREATE INDEX executions_by_learner ON executions(learner, queued_at, case_index);"
	"CREATE INDEX executions_learner_started ON executions(learner, started_at);"
	"CREATE INDEX executions_learner_queued ON executions(learner, seq) WHERE status = 'QUEUED';"
	"CREATE INDEX executions_learner_running ON executions(learner) WHERE status = 'RUNNING';",
	/* 11: as SQLite's, with one trigger function per table. */
	PG_METRICS_SCHEMA
	"CREATE INDEX executions_finished ON executions(finished_at) WHERE finished_at IS NOT NULL;"
	"CREATE INDEX sessions_by_updated ON sessions(updated_at);",
	/* 12 */
	"CREATE TABLE session_files ("
	" session_id TEXT NOT NULL, path TEXT NOT NULL, content TEXT NOT NULL,"
	" PRIMARY KEY (session_id, path));"
	"CREATE TABLE execution_files ("
	" execution_id TEXT NOT NULL, path TEXT NOT NULL, content TEXT NOT NULL,"
	" PRIMARY KEY (execution_id, path));",
	/* 13 */
	"CREATE TABLE execution_artifacts ("
	" execution_id TEXT NOT NULL, path TEXT NOT NULL, content_type TEXT NOT NULL,"
	" size BIGINT NOT NULL, data TEXT NOT NULL,"
	" PRIMARY KEY (execution_id, path));",
	/* 14: a program's output as bytes: text cannot hold the NULs it may print. */
	"ALTER TABLE executions ALTER COLUMN stdout TYPE bytea USING convert_to(stdout, 'UTF8'),"
	" ALTER COLUMN stderr TYPE bytea USING convert_to(stderr, 'UTF8'),"
	" ALTER COLUMN compile_output TYPE bytea USING convert_to(compile_output, 'UTF8');"
	"ALTER TABLE execution_events ALTER COLUMN data TYPE bytea USING convert_to(data, 'UTF8');",
	/* 15 */
	"CREATE TABLE uid_blocks (block BIGINT PRIMARY KEY, holder TEXT NOT NULL, held_until BIGINT NOT NULL);",
	/* 16 */
	PG_METRICS_TRIGGERS_INLINE,
};
const int pg_migration_count = (int)(sizeof(pg_migrations) / sizeof(pg_migrations[0]));

/* store_columns.h's EXECUTION_OUTPUT and EXECUTION_COLUMNS in this dialect. */
#define PG_EXECUTION_OUTPUT(col) \
	"CASE WHEN status = 'RUNNING' AND interactive <> 0 THEN (SELECT " \
	"coalesce(string_agg(data, ''::bytea ORDER BY event_id), ''::bytea) FROM execution_events " \
	"WHERE execution_id = executions.id AND event_id > executions.attempt << 32 " \
	"AND event_id < (executions.attempt + 1) << 32 AND kind = '" col "') ELSE " col " END AS " col
#define PG_EXECUTION_COLUMNS \
	"id, session_id, status, " PG_EXECUTION_OUTPUT("stdout") ", " PG_EXECUTION_OUTPUT("stderr") ", " \
	"exit_code, signal, execution_time_ms, " \
	"cpu_time_ms, memory_kb, stdout_truncated, stderr_truncated, error_code, " \
	"error_message, attempt, queued_at, started_at, finished_at, seq, setup_ms, kind, " \
	"compile_output, compile_time_ms, compile_cached, diagnostics, interactive"
/* store_columns.h's STDIN_STATE_COLUMNS in this dialect. */
#define PG_STDIN_STATE_COLUMNS \
	"status, interactive, octet_length(stdin) + " \
	"(SELECT coalesce(sum(bytes), 0) FROM execution_stdin WHERE execution_id = $1) AS sent, " \
	"(SELECT coalesce(max(seq), 0) FROM execution_stdin WHERE execution_id = $1) AS last_seq, " \
	"(SELECT coalesce(max(eof), 0) FROM execution_stdin WHERE execution_id = $1) AS closed"

/* One batch of retention, as in SQLite (ties in finished_at broken by seq). */
#define PURGE_BATCH "SELECT id FROM executions WHERE finished_at < $1 ORDER BY finished_at, seq LIMIT $2"

/* Sessions not saved since $1 whose executions and submissions retention took: the batch
 * of STMT_PURGE_SESSIONS and of the rows other tables keep per session. */
#define PURGE_SESSION_BATCH \
	"SELECT id FROM sessions s WHERE updated_at < $1 " \
	"AND NOT EXISTS (SELECT 1 FROM executions e WHERE e.session_id = s.id) " \
	"AND NOT EXISTS (SELECT 1 FROM submissions u WHERE u.session_id = s.id) " \
	"ORDER BY updated_at LIMIT $2"

/* The claim's parts, as in common/store_sqlite_sql.c. */
#define RUNNING_CASES(e) "(SELECT count(*) FROM executions r WHERE r.submission_id = " e ".submission_id " \
	"AND r.status = 'RUNNING')"
#define CLAIMABLE(e) \
	e ".status = 'QUEUED' AND (" e ".submission_id IS NULL OR (" RUNNING_CASES(e) " < $5::bigint " \
	"AND NOT (" e ".after_first <> 0 AND EXISTS (SELECT 1 FROM executions f " \
	"WHERE f.submission_id = " e ".submission_id AND f.case_index = 0 " \
	"AND f.status IN ('QUEUED', 'RUNNING')))))"

const char *const pg_sql[STMT__MAX] = {
	[STMT_SUITE_PUT] =
		"INSERT INTO test_suites (id, version, body, created_at) "
		"SELECT $1::text, coalesce(max(version), 0) + 1, $2::text, $3::bigint FROM test_suites "
		"WHERE id = $1 RETURNING " SUITE_COLUMNS,
	[STMT_SUITE_GET] =
		"SELECT " SUITE_COLUMNS " FROM test_suites WHERE id = $1 AND deleted = 0 "
		"ORDER BY version DESC LIMIT 1",
	[STMT_SUITE_DELETE] = "UPDATE test_suites SET deleted = 1 WHERE id = $1 AND deleted = 0",
	[STMT_SUITE_CURRENT] =
		"SELECT version, body FROM test_suites WHERE id = $1 AND deleted = 0 ORDER BY version DESC LIMIT 1",
	[STMT_SUBMISSION_INSERT] =
		"INSERT INTO submissions (id, session_id, suite_id, suite_version, stop_on_first_failure, queued_at) "
		"VALUES ($1, $2, $3, $4, $5, $6)",
	[STMT_CASE_INSERT] =
		"INSERT INTO executions (id, session_id, status, language, source_code, stdin, queued_at, kind, "
		"submission_id, case_index, time_limit_ms, expected_stdout, compare, after_first, learner) "
		"SELECT $1::text, id, 'QUEUED', language, source_code, $2::text, $3::bigint, 'case', $4::text, "
		"$5::bigint, $6::bigint, $7::text, $8::text, $9::bigint, $11::text FROM sessions WHERE id = $10",
	[STMT_SUBMISSION_GET] =
		"SELECT " SUBMISSION_COLUMNS " FROM submissions s JOIN test_suites t "
		"ON t.id = s.suite_id AND t.version = s.suite_version WHERE s.id = $1",
	[STMT_SUBMISSION_LIST] =
		"SELECT " SUBMISSION_COLUMNS " FROM submissions s JOIN test_suites t "
		"ON t.id = s.suite_id AND t.version = s.suite_version "
		"WHERE s.session_id = $1 AND s.seq < $2 ORDER BY s.seq DESC LIMIT $3",
	[STMT_SUBMISSION_CASES] =
		"SELECT " CASE_RESULT_COLUMNS " FROM executions WHERE submission_id = $1 ORDER BY case_index",
	[STMT_CASES_SKIP] =
		"UPDATE executions SET status = 'FAILED', error_code = 'SKIPPED', "
		"error_message = 'not judged: an earlier case in case order decided the verdict', "
		"stdout = '', stderr = '', lease_until = NULL, finished_at = $3, "
		"verdict = CASE WHEN $2::text = 'COMPILE_ERROR' THEN 'COMPILE_ERROR' ELSE 'SKIPPED' END "
		"WHERE submission_id = $1 AND CASE WHEN $2::text = 'COMPILE_ERROR' "
		"THEN verdict IS NULL AND status IN ('QUEUED', 'RUNNING') "
		"ELSE case_index > $4 AND coalesce(verdict, '') != 'SKIPPED' "
		" AND (SELECT stop_on_first_failure FROM submissions WHERE id = $1) <> 0 END",
	[STMT_CASE_SUBMISSION] = "SELECT submission_id FROM executions WHERE id = $1 AND kind = 'case'",
	[STMT_SESSION_INSERT] =
		"INSERT INTO sessions (id, language, source_code, status, created_at, updated_at, owner, learner, "
		"source_bytes) VALUES ($1, $2, $3, 'ACTIVE', $4, $4, $5, $6, $7) RETURNING " SESSION_COLUMNS,
	[STMT_SESSION_GET] = "SELECT " SESSION_COLUMNS " FROM sessions WHERE id = $1",
	[STMT_SESSION_UPDATE] =
		"UPDATE sessions SET source_code = $2, updated_at = greatest($3::bigint, updated_at), "
		"source_bytes = $4 "
		"WHERE id = $1 RETURNING " SESSION_COLUMNS,
	/* One statement, so one round trip: the condition reads only the
	 * session's row, which a writer waiting for its lock reads again as
	 * committed by the writer before (a file PUT holds that lock). */
	[STMT_SESSION_AUTOSAVE] =
		"UPDATE sessions SET source_code = $2, updated_at = greatest($3::bigint, updated_at), "
		"source_bytes = source_bytes - octet_length(source_code) + $4::bigint "
		"WHERE id = $1 AND source_bytes - octet_length(source_code) + $4::bigint <= $5::bigint "
		"RETURNING " SESSION_COLUMNS ", "
		"(EXISTS (SELECT 1 FROM session_files WHERE session_id = $1))::int AS has_other_files",
	[STMT_SESSION_EXISTS] = "SELECT 1 FROM sessions WHERE id = $1",
	[STMT_SESSION_CAPS] =
		"SELECT (SELECT count(DISTINCT coalesce(submission_id, id)) FROM executions WHERE session_id = $1 "
		"AND status IN ('QUEUED', 'RUNNING')) AS in_flight, "
		"(SELECT count(*) FROM executions WHERE status = 'QUEUED') AS queue_depth, "
		"(SELECT count(*) FROM session_files WHERE session_id = $1) AS files FROM sessions WHERE id = $1",
	[STMT_QUEUE_DEPTH] = "SELECT count(*) FROM executions WHERE status = 'QUEUED'",
	[STMT_EXECUTION_INSERT] =
		"INSERT INTO executions (id, session_id, status, language, source_code, stdin, queued_at, kind, "
		"interactive, learner) SELECT $1::text, id, 'QUEUED', language, source_code, $2::text, $3::bigint, "
		"$5::text, $6::bigint, $7::text FROM sessions WHERE id = $4",
	[STMT_LEARNER_RUNS] =
		"SELECT count(*) AS count, min(queued_at) AS oldest FROM executions "
		"WHERE learner = $1 AND queued_at > $2 AND coalesce(case_index, 0) = 0",
	[STMT_LEARNER_IN_FLIGHT] =
		"SELECT count(DISTINCT k) FROM ("
		"SELECT coalesce(submission_id, id) AS k FROM executions WHERE learner = $1 AND status = 'QUEUED' "
		"UNION ALL SELECT coalesce(submission_id, id) FROM executions WHERE learner = $1 AND status = 'RUNNING') u",
	[STMT_LEARNER_SESSIONS] =
		"SELECT count(*) AS count, min(created_at) AS oldest FROM sessions WHERE learner = $1 AND created_at > $2",
	[STMT_LEARNER_SOURCE_BYTES] =
		"SELECT coalesce(sum(source_bytes), 0)::bigint FROM sessions WHERE learner = $1 AND id != $2",
	[STMT_SESSION_QUOTA] = "SELECT " SESSION_QUOTA_COLUMNS " FROM sessions WHERE id = $1",
	/* Taken in a store_begin_session transaction: a learner's key orders
	 * the writers that sum the learner's source. */
	[STMT_LEARNER_LOCK] = "SELECT pg_advisory_xact_lock(hashtextextended('learner:' || $1::text, 0))",
	[STMT_WRITE_LOCK] = "SELECT pg_advisory_xact_lock(" PG_WRITE_LOCK ")",
	[STMT_EXECUTION_GET] = "SELECT " PG_EXECUTION_COLUMNS " FROM executions WHERE id = $1 AND kind != 'case'",
	[STMT_EXECUTION_LIST] =
		"SELECT " PG_EXECUTION_COLUMNS " FROM executions WHERE session_id = $1 AND seq < $2 "
		"AND kind != 'case' ORDER BY seq DESC LIMIT $3",
	[STMT_QUEUE_STATS] =
		"SELECT (SELECT count(*) FROM executions WHERE status = 'QUEUED'), "
		"(SELECT min(queued_at) FROM executions WHERE status = 'QUEUED'), "
		"(SELECT count(*) FROM executions WHERE status = 'RUNNING')",
	[STMT_RUNNERS] =
		"SELECT " RUNNER_COLUMNS " FROM runners WHERE stopped_at IS NULL "
		"AND heartbeat_at >= $1 ORDER BY started_at",
	[STMT_RUNNER_LANGUAGES] =
		"SELECT languages FROM runners WHERE stopped_at IS NULL "
		"AND heartbeat_at >= $1 ORDER BY started_at",
	[STMT_METRICS_BY_STATUS] =
		"SELECT " STATUS_COUNT_COLUMNS " FROM metric_counts WHERE name = 'finished' GROUP BY 1, 2 "
		"ORDER BY status COLLATE \"C\", error_code COLLATE \"C\"",
	[STMT_METRICS_BY_LANGUAGE] =
		"SELECT language, status, sum(value) FROM metric_counts WHERE name = 'finished' "
		"GROUP BY 1, 2 ORDER BY language COLLATE \"C\", status COLLATE \"C\"",
	[STMT_METRICS_COUNTER] = "SELECT coalesce(sum(value), 0) FROM metric_counts WHERE name = $1",
	[STMT_METRICS_BUCKETS] =
		"SELECT name, language, le, sum(count) AS count, sum(sum) AS sum FROM metric_buckets "
		"GROUP BY 1, 2, 3 ORDER BY name COLLATE \"C\", language COLLATE \"C\", le",
	[STMT_METRICS_VERDICTS] =
		"SELECT status, sum(value) FROM metric_counts WHERE name = 'verdict' GROUP BY 1 "
		"ORDER BY status COLLATE \"C\"",
	/* The server reuses what autovacuum frees; it reports no free space of its own. */
	[STMT_METRICS_STORE_SIZE] = "SELECT pg_database_size(current_database()), 0",
	[STMT_METRICS_RUNNERS] =
		"SELECT " RUNNER_COLUMNS " FROM runners WHERE stopped_at IS NULL "
		"AND heartbeat_at >= $1 ORDER BY started_at, id COLLATE \"C\"",

	[STMT_RUNNER_REGISTER] =
		"INSERT INTO runners (id, host, pid, slots, busy, sandbox_mode, started_at, heartbeat_at, languages) "
		"VALUES ($1, $2, $3, $4, 0, $5, $6, " DB_NOW_MS ", $7)",
	/* ?2, the runner's own clock, is not used: a heartbeat is the database's time. */
	[STMT_RUNNER_HEARTBEAT] =
		"UPDATE runners SET heartbeat_at = " DB_NOW_MS ", busy = $3, limit_errors = $4 WHERE id = $1",
	[STMT_RUNNER_STOPPED] = "UPDATE runners SET stopped_at = $2, busy = 0 WHERE id = $1",
	[STMT_ANY_QUEUED] = "SELECT 1 FROM executions WHERE status = 'QUEUED' LIMIT 1",
	/* As in SQLite; the lease runs from the database's now for as long as
	 * the runner's ?3 - ?2 (or ?4 - ?2, or ?6 plus the case's limit).
	 * Claimers at once pick the same learner and skip each other's row;
	 * started_at no earlier than queued_at, as in SQLite. */
	[STMT_CLAIM] =
		"UPDATE executions SET status = 'RUNNING', runner_id = $1, attempt = attempt + 1, "
		"started_at = GREATEST($2::bigint, queued_at), lease_until = " DB_NOW_MS " + CASE WHEN interactive <> 0 THEN $4::bigint - $2::bigint "
		"WHEN time_limit_ms IS NOT NULL THEN $6::bigint + time_limit_ms ELSE $3::bigint - $2::bigint END "
		"WHERE seq = (" FAIREST_LEARNER(CLAIMABLE("q"), "$7::bigint")
		"SELECT " FAIREST_ROW(CLAIMABLE("e"), RUNNING_CASES("e"), " FOR UPDATE OF e SKIP LOCKED") ") "
		"AND status = 'QUEUED' RETURNING " CLAIM_COLUMNS,
	/* A case given back when its claim passed submission_parallel_cases
	 * (runner/claims.c, case_over_cap). */
	[STMT_CASES_RUNNING] =
		"SELECT count(*) FROM executions WHERE submission_id = $1 AND status = 'RUNNING'",
	[STMT_CLAIM_UNDO] =
		"UPDATE executions SET status = 'QUEUED', runner_id = NULL, lease_until = NULL, started_at = NULL, "
		"attempt = attempt - 1 WHERE id = $2 AND runner_id = $1 AND attempt = $3::bigint AND status = 'RUNNING'",
	[STMT_FINISH] =
		"UPDATE executions SET status = CASE WHEN cancel_requested <> 0 THEN 'FAILED' ELSE $4::text END, "
		"stdout = $5, stderr = $6, stdout_truncated = $7, "
		"stderr_truncated = $8, exit_code = $9, signal = $10, execution_time_ms = $11, "
		"cpu_time_ms = $12, memory_kb = $13, "
		"error_code = CASE WHEN cancel_requested <> 0 THEN 'CANCELLED' ELSE $14::text END, "
		"error_message = CASE WHEN cancel_requested <> 0 THEN '" CANCEL_MESSAGE "' ELSE $15::text END, "
		"finished_at = GREATEST($16::bigint, started_at), lease_until = NULL, setup_ms = $17, compile_output = $18, "
		"compile_time_ms = $19, compile_cached = $20, diagnostics = $21, verdict = $22 "
		"WHERE id = $1 AND runner_id = $2 AND attempt = $3 AND status = 'RUNNING'",
	/* ?1, the runner's now, is not used: silence is measured on the database's clock. */
	[STMT_EXPIRE_DEAD_RUNNERS] =
		"UPDATE executions SET lease_until = 0 WHERE status = 'RUNNING' AND lease_until > 0 "
		"AND runner_id IN (SELECT id FROM runners WHERE stopped_at IS NOT NULL "
		"OR heartbeat_at < " DB_NOW_MS " - $2::bigint)",
	[STMT_GIVE_UP] =
		"UPDATE executions SET status = 'FAILED', "
		"error_code = CASE WHEN cancel_requested <> 0 THEN 'CANCELLED' ELSE 'RUNNER_LOST' END, "
		"error_message = CASE WHEN cancel_requested <> 0 THEN '" CANCEL_MESSAGE "' "
		"ELSE 'the runner was lost during each of ' || attempt || ' attempts' END, "
		"stdout = coalesce(stdout, ''), stderr = coalesce(stderr, ''), "
		"finished_at = $1, lease_until = NULL "
		"WHERE status = 'RUNNING' AND lease_until < " DB_NOW_MS " "
		"AND (attempt >= $2 OR cancel_requested <> 0) RETURNING id, attempt",
	/* ?1, the runner's now, is not used: leases end on the database's clock. */
	[STMT_REQUEUE] =
		"UPDATE executions SET status = 'QUEUED', runner_id = NULL, lease_until = NULL, "
		"started_at = NULL WHERE status = 'RUNNING' AND lease_until < " DB_NOW_MS " AND attempt < $2 "
		"AND cancel_requested = 0 RETURNING id, attempt",
	[STMT_REQUEUE_RESTORED] =
		"UPDATE executions SET status = 'QUEUED', runner_id = NULL, lease_until = NULL, "
		"started_at = NULL WHERE status = 'RUNNING' AND cancel_requested = 0 RETURNING id, attempt",
	[STMT_EVENT_REQUEUED] =
		"INSERT INTO execution_events (execution_id, event_id, attempt, kind, stream_offset, data) "
		"VALUES ($1, $2, $3, 'status', 0, 'QUEUED') ON CONFLICT DO NOTHING",
	[STMT_EVENT_INSERT] =
		"INSERT INTO execution_events (execution_id, event_id, attempt, kind, stream_offset, data) "
		"SELECT $1::text, $2::bigint, $3::bigint, $4::text, $5::bigint, $6::bytea FROM executions "
		"WHERE id = $1 AND runner_id = $7 AND attempt = $3 AND status = 'RUNNING'",
	[STMT_EVENTS_AFTER] =
		"SELECT " EVENT_COLUMNS " FROM execution_events WHERE execution_id = $1 AND event_id > $2 "
		"ORDER BY event_id LIMIT $3",
	[STMT_EXECUTION_STATE] = "SELECT " EXECUTION_STATE_COLUMNS " FROM executions WHERE id = $1 AND kind != 'case'",
	[STMT_CANCEL_QUEUED] =
		"UPDATE executions SET status = 'FAILED', error_code = 'CANCELLED', "
		"error_message = '" CANCEL_MESSAGE "', stdout = '', stderr = '', finished_at = $2, "
		"cancel_requested = 1 WHERE id = $1 AND status = 'QUEUED'",
	[STMT_CANCEL_RUNNING] =
		"UPDATE executions SET cancel_requested = 1 WHERE id = $1 AND status = 'RUNNING'",
	[STMT_CANCEL_STATE] = "SELECT " CANCEL_STATE_COLUMNS " FROM executions WHERE id = $1",
	[STMT_RUN_WATCH] =
		"SELECT cancel_requested FROM executions "
		"WHERE id = $1 AND runner_id = $2 AND attempt = $3 AND status = 'RUNNING'",
	[STMT_STDIN_STATE] = "SELECT " PG_STDIN_STATE_COLUMNS " FROM executions WHERE id = $1",
	[STMT_STDIN_INSERT] =
		"INSERT INTO execution_stdin (execution_id, seq, data, bytes, eof) VALUES ($1, $2, $3, $4, $5)",
	[STMT_SESSION_FILES] = "SELECT " FILE_COLUMNS " FROM session_files WHERE session_id = $1 ORDER BY path",
	[STMT_SESSION_FILE_SIZES] =
		"SELECT '' AS path, octet_length(source_code)::bigint FROM sessions WHERE id = $1 "
		"UNION ALL SELECT path, octet_length(content)::bigint FROM session_files WHERE session_id = $1",
	[STMT_SESSION_FILE_PUT] =
		"INSERT INTO session_files (session_id, path, content) VALUES ($1, $2, $3) "
		"ON CONFLICT (session_id, path) DO UPDATE SET content = excluded.content",
	[STMT_SESSION_FILE_DELETE] = "DELETE FROM session_files WHERE session_id = $1 AND path = $2",
	[STMT_SESSION_TOUCH] =
		"UPDATE sessions SET updated_at = greatest($2::bigint, updated_at), source_bytes = $3::bigint "
		"WHERE id = $1 RETURNING updated_at",
	[STMT_SESSION_SOURCE_BYTES] =
		"SELECT (octet_length(source_code) + (SELECT coalesce(sum(octet_length(content)), 0) "
		"FROM session_files WHERE session_id = $1))::bigint FROM sessions WHERE id = $1",
	[STMT_EXECUTION_FILES_SNAPSHOT] =
		"INSERT INTO execution_files (execution_id, path, content) "
		"SELECT $1::text, path, content FROM session_files WHERE session_id = $2",
	[STMT_EXECUTION_FILES] = "SELECT " FILE_COLUMNS " FROM execution_files WHERE execution_id = $1 ORDER BY path",
	[STMT_ARTIFACT_INSERT] =
		"INSERT INTO execution_artifacts (execution_id, path, content_type, size, data) "
		"VALUES ($1, $2, $3, $4, $5)",
	[STMT_ARTIFACT_LIST] =
		"SELECT " ARTIFACT_COLUMNS " FROM execution_artifacts WHERE execution_id = $1 ORDER BY path",
	[STMT_ARTIFACT_GET] =
		"SELECT content_type, data FROM execution_artifacts WHERE execution_id = $1 AND path = $2",
	[STMT_OWNER_SESSION] = "SELECT owner FROM sessions WHERE id = $1",
	[STMT_OWNER_EXECUTION] =
		"SELECT s.owner FROM executions e JOIN sessions s ON s.id = e.session_id WHERE e.id = $1",
	[STMT_OWNER_SUBMISSION] =
		"SELECT s.owner FROM submissions u JOIN sessions s ON s.id = u.session_id WHERE u.id = $1",
	[STMT_PURGE_DUE] = "SELECT 1 FROM executions WHERE finished_at < $1 LIMIT 1",
	[STMT_PURGE_EVENTS] = "DELETE FROM execution_events WHERE execution_id IN (" PURGE_BATCH ")",
	[STMT_PURGE_STDIN] = "DELETE FROM execution_stdin WHERE execution_id IN (" PURGE_BATCH ")",
	[STMT_PURGE_EXECUTIONS] = "DELETE FROM executions WHERE id IN (" PURGE_BATCH ")",
	[STMT_PURGE_SUBMISSIONS] =
		"DELETE FROM submissions WHERE seq IN (SELECT seq FROM submissions s WHERE queued_at < $1 "
		"AND NOT EXISTS (SELECT 1 FROM executions e WHERE e.submission_id = s.id) ORDER BY seq LIMIT $2)",
	[STMT_PURGE_SESSIONS] = "DELETE FROM sessions WHERE id IN (" PURGE_SESSION_BATCH ")",
	[STMT_PURGE_SESSION_FILES] = "DELETE FROM session_files WHERE session_id IN (" PURGE_SESSION_BATCH ")",
	[STMT_PURGE_EXECUTION_FILES] = "DELETE FROM execution_files WHERE execution_id IN (" PURGE_BATCH ")",
	[STMT_PURGE_ARTIFACTS] = "DELETE FROM execution_artifacts WHERE execution_id IN (" PURGE_BATCH ")",
	[STMT_STDIN_AFTER] =
		"SELECT " STDIN_ROW_COLUMNS " FROM execution_stdin WHERE execution_id = $1 AND seq > $2 "
		"ORDER BY seq",
	/* As SQLite's, on the server's clock ($3 unused). */
	[STMT_UID_BLOCK_HOLD] =
		"INSERT INTO uid_blocks (block, holder, held_until) VALUES ($1, $2, " DB_NOW_MS " + $4) "
		"ON CONFLICT (block) DO UPDATE SET holder = excluded.holder, held_until = excluded.held_until "
		"WHERE uid_blocks.holder = excluded.holder OR uid_blocks.held_until < " DB_NOW_MS " - $5",
	[STMT_UID_BLOCK_RELEASE] = "DELETE FROM uid_blocks WHERE block = $1 AND holder = $2",
};
