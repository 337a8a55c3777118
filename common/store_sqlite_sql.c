/*
 * Every SQL text the SQLite store runs: the schema migrations and the
 * statements by id. Adding a column is one row in sqlite_migrations (and
 * one in conf/schema.sql's comment of versions); adding a statement is one
 * id in enum store_stmt and one row here.
 *
 * Writes are single statements or short IMMEDIATE transactions, so a
 * refused or failed request leaves no partial row. Claims are one UPDATE on
 * the queue head (two slots or two runners can never both win), results are
 * fenced by runner id and attempt, and the sweep recovers leases a dead
 * runner left behind.
 */
#include "store_sqlite.h"
#include "store_metrics.h"

extern const char schema_sql[];   /* conf/schema.sql, built into schema_sql.c */

/* Adds v to a counter of metric_counts (an upsert: the row may not exist yet). */
#define COUNT(name, language, status, error_code, v) \
	"INSERT INTO metric_counts SELECT '" name "', " language ", " status ", " error_code ", v " \
	"FROM (SELECT " v " AS v) WHERE v IS NOT NULL " \
	"ON CONFLICT DO UPDATE SET value = value + excluded.value;"
/* Observes v (NULL: nothing to observe) in a histogram of metric_buckets. */
#define OBSERVE(name, language, v, bucket) \
	"INSERT INTO metric_buckets SELECT '" name "', " language ", " bucket ", 1, v " \
	"FROM (SELECT " v " AS v) WHERE v IS NOT NULL " \
	"ON CONFLICT DO UPDATE SET count = count + 1, sum = sum + excluded.sum;"
/* Final statuses are every status but these. */
#define NOT_FINAL "('QUEUED', 'RUNNING')"

#define METRICS_SCHEMA \
	"CREATE TABLE metric_counts (name TEXT NOT NULL, language TEXT NOT NULL, status TEXT NOT NULL," \
	" error_code TEXT NOT NULL, value INTEGER NOT NULL," \
	" PRIMARY KEY (name, language, status, error_code)) WITHOUT ROWID;" \
	"CREATE TABLE metric_buckets (name TEXT NOT NULL, language TEXT NOT NULL, le INTEGER NOT NULL," \
	" count INTEGER NOT NULL, sum INTEGER NOT NULL, PRIMARY KEY (name, language, le)) WITHOUT ROWID;" \
	"CREATE TRIGGER metrics_accepted AFTER INSERT ON executions BEGIN " \
	COUNT("accepted", "NEW.language", "''", "''", "1") "END;" \
	"CREATE TRIGGER metrics_claimed AFTER UPDATE OF status ON executions " \
	"WHEN OLD.status = 'QUEUED' AND NEW.status = 'RUNNING' BEGIN " \
	OBSERVE(METRIC_QUEUE_WAIT, "NEW.language", "max(NEW.started_at - NEW.queued_at, 0)", METRIC_BUCKET_MS) \
	"END;" \
	"CREATE TRIGGER metrics_finished AFTER UPDATE OF status ON executions " \
	"WHEN OLD.status IN " NOT_FINAL " AND NEW.status NOT IN " NOT_FINAL " BEGIN " \
	COUNT("finished", "NEW.language", "NEW.status", "coalesce(NEW.error_code, '')", "1") \
	OBSERVE(METRIC_RUN, "NEW.language", "NEW.execution_time_ms", METRIC_BUCKET_MS) \
	OBSERVE(METRIC_SETUP, "NEW.language", "NEW.setup_ms", METRIC_BUCKET_MS) \
	OBSERVE(METRIC_END_TO_END, "NEW.language", "max(NEW.finished_at - NEW.queued_at, 0)", METRIC_BUCKET_MS) \
	COUNT("busy_ms", "NEW.language", "''", "''", \
	      "CASE WHEN OLD.status = 'RUNNING' THEN max(NEW.finished_at - NEW.started_at, 0) END") \
	"END;" \
	"CREATE TRIGGER metrics_verdict AFTER UPDATE OF verdict ON executions " \
	"WHEN NEW.verdict IS NOT NULL AND NEW.verdict IS NOT OLD.verdict BEGIN " \
	COUNT("verdict", "NEW.language", "NEW.verdict", "''", "1") "END;" \
	"CREATE TRIGGER metrics_slot_use AFTER UPDATE OF heartbeat_at ON runners WHEN NEW.slots > 0 BEGIN " \
	OBSERVE(METRIC_SLOT_USE, "''", "NEW.busy * 1000 / NEW.slots", METRIC_BUCKET_PERMILLE) "END;" \
	METRICS_FROM_HISTORY

/* The counters and histograms as the rows already stored give them. */
#define BACKFILL(name, v, bucket) \
	"INSERT INTO metric_buckets SELECT '" name "', language, " bucket ", count(*), sum(v) " \
	"FROM (SELECT language, " v " AS v FROM executions) WHERE v IS NOT NULL GROUP BY 1, 2, 3;"
#define METRICS_FROM_HISTORY \
	"INSERT INTO metric_counts SELECT 'accepted', language, '', '', count(*) FROM executions GROUP BY 2;" \
	"INSERT INTO metric_counts SELECT 'finished', language, status, coalesce(error_code, ''), count(*) " \
	"FROM executions WHERE status NOT IN " NOT_FINAL " GROUP BY 2, 3, 4;" \
	"INSERT INTO metric_counts SELECT 'verdict', language, verdict, '', count(*) " \
	"FROM executions WHERE verdict IS NOT NULL GROUP BY 2, 3;" \
	"INSERT INTO metric_counts SELECT 'busy_ms', language, '', '', sum(max(finished_at - started_at, 0)) " \
	"FROM executions WHERE status NOT IN " NOT_FINAL " AND started_at IS NOT NULL GROUP BY 2;" \
	BACKFILL(METRIC_QUEUE_WAIT, "max(started_at - queued_at, 0)", METRIC_BUCKET_MS) \
	BACKFILL(METRIC_RUN, "CASE WHEN status NOT IN " NOT_FINAL " THEN execution_time_ms END", METRIC_BUCKET_MS) \
	BACKFILL(METRIC_SETUP, "CASE WHEN status NOT IN " NOT_FINAL " THEN setup_ms END", METRIC_BUCKET_MS) \
	BACKFILL(METRIC_END_TO_END, "max(finished_at - queued_at, 0)", METRIC_BUCKET_MS)

/* Forward migrations: sqlite_migrations[i] takes user_version i to i + 1. */
const char *const sqlite_migrations[] = {
	schema_sql,
	/* 2: sandbox setup time (clone to interpreter start), for /metrics. */
	"ALTER TABLE executions ADD COLUMN setup_ms INTEGER;",
	/* 3: languages. What each runner can run (a JSON array, see
	 * runner/languages_probe.c), and per execution its kind (run or
	 * check), the compile step and a check's parsed diagnostics (JSON). */
	"ALTER TABLE runners ADD COLUMN languages TEXT NOT NULL DEFAULT '[]';"
	"ALTER TABLE executions ADD COLUMN kind TEXT NOT NULL DEFAULT 'run';"
	"ALTER TABLE executions ADD COLUMN compile_output TEXT;"
	"ALTER TABLE executions ADD COLUMN compile_time_ms INTEGER;"
	"ALTER TABLE executions ADD COLUMN compile_cached INTEGER;"
	"ALTER TABLE executions ADD COLUMN diagnostics TEXT;",
	/* 4: failed cgroup and rlimit operations of the runner, for /metrics. */
	"ALTER TABLE runners ADD COLUMN limit_errors INTEGER NOT NULL DEFAULT 0;",
	/* 5: live events (status changes and output chunks) for replay and
	 * resume; event_id = attempt * 2^32 + n, n counting from 1. */
	"CREATE TABLE execution_events ("
	" execution_id TEXT NOT NULL, event_id INTEGER NOT NULL, attempt INTEGER NOT NULL,"
	" kind TEXT NOT NULL, stream_offset INTEGER NOT NULL DEFAULT 0, data TEXT NOT NULL,"
	" PRIMARY KEY (execution_id, event_id)) WITHOUT ROWID;",
	/* 6: cancel and interactive runs. cancel_requested is the flag the
	 * slot running the execution polls; execution_stdin holds what was
	 * sent to an interactive run's stdin, in order (bytes: its length in
	 * bytes, summed against max_stdin_bytes). */
	"ALTER TABLE executions ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE executions ADD COLUMN interactive INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE execution_stdin ("
	" execution_id TEXT NOT NULL REFERENCES executions(id),"
	" seq INTEGER NOT NULL,"
	" data TEXT NOT NULL,"
	" bytes INTEGER NOT NULL,"
	" eof INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (execution_id, seq)) WITHOUT ROWID;",
	/* 7: test suites, versioned. A PUT adds a version; a DELETE marks the
	 * suite's versions deleted but keeps them, so a submission judged
	 * against one still reads the cases it ran. body: the validated
	 * suite as JSON ({"cases", "compare"}, every optional member filled). */
	"CREATE TABLE test_suites ("
	" id TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL,"
	" created_at INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (id, version)) WITHOUT ROWID;",
	/* 8: submissions. Each case of a submission is an execution of kind
	 * 'case' (claimed, leased, fenced and swept like any other), holding
	 * its stdin, expected output, compare mode and time limit, and the
	 * verdict the runner gave it; after_first: not claimable before case 0
	 * ends, so a compiled language compiles once and the other cases take
	 * the compile cache's copy. */
	"ALTER TABLE executions ADD COLUMN submission_id TEXT;"
	"ALTER TABLE executions ADD COLUMN case_index INTEGER;"
	"ALTER TABLE executions ADD COLUMN time_limit_ms INTEGER;"
	"ALTER TABLE executions ADD COLUMN expected_stdout TEXT;"
	"ALTER TABLE executions ADD COLUMN compare TEXT;"
	"ALTER TABLE executions ADD COLUMN verdict TEXT;"
	"ALTER TABLE executions ADD COLUMN after_first INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX executions_by_submission ON executions(submission_id, case_index) "
	"WHERE submission_id IS NOT NULL;"
	"CREATE TABLE submissions ("
	" seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, session_id TEXT NOT NULL,"
	" suite_id TEXT NOT NULL, suite_version INTEGER NOT NULL,"
	" stop_on_first_failure INTEGER NOT NULL DEFAULT 0, queued_at INTEGER NOT NULL);"
	"CREATE INDEX submissions_by_session ON submissions(session_id, seq);",
	/* 9: the owner of a session: the sub of the token that created it
	 * ('' with auth = none, and for sessions from before); its executions
	 * and submissions are its owner's through their session_id. */
	"ALTER TABLE sessions ADD COLUMN owner TEXT NOT NULL DEFAULT '';",
	/* 10: per-learner quotas and the fair queue. learner: whom a session
	 * or an execution counts against, the sub of the token that made it,
	 * or with auth = none the client's address (an older session: its
	 * owner; an older execution: ''). source_bytes: the session's
	 * source_code in bytes, summed against quota_source_bytes. The
	 * indexes answer each quota and the claim's choice of learner with a
	 * range of one learner's entries (README, "Quotas"). */
	"ALTER TABLE sessions ADD COLUMN learner TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE sessions ADD COLUMN source_bytes INTEGER NOT NULL DEFAULT 0;"
	"UPDATE sessions SET learner = owner, source_bytes = length(CAST(source_code AS BLOB));"
	"ALTER TABLE executions ADD COLUMN learner TEXT NOT NULL DEFAULT '';"
	"CREATE INDEX sessions_by_learner ON sessions(learner, created_at, source_bytes);"
	"CREATE INDEX executions_by_learner ON executions(learner, queued_at, case_index);"
	"CREATE INDEX executions_learner_started ON executions(learner, started_at);"
	"CREATE INDEX executions_learner_queued ON executions(learner, seq) WHERE status = 'QUEUED';"
	"CREATE INDEX executions_learner_running ON executions(learner) WHERE status = 'RUNNING';",
	/* 11: operations. /metrics' counters and histograms, kept by triggers
	 * in the transaction that changes a status (common/store_metrics.h) and
	 * filled here from the rows there are, so they go on from where the
	 * history left them; retention's indexes (what finished, or was saved,
	 * before a day). */
	METRICS_SCHEMA
	"CREATE INDEX executions_finished ON executions(finished_at) WHERE finished_at IS NOT NULL;"
	"CREATE INDEX sessions_by_updated ON sessions(updated_at);",
	/* 12: the files of a session beside its entry file (whose content
	 * stays sessions.source_code), and each run's snapshot of them beside
	 * executions.source_code. */
	"CREATE TABLE session_files ("
	" session_id TEXT NOT NULL, path TEXT NOT NULL, content TEXT NOT NULL,"
	" PRIMARY KEY (session_id, path)) WITHOUT ROWID;"
	"CREATE TABLE execution_files ("
	" execution_id TEXT NOT NULL, path TEXT NOT NULL, content TEXT NOT NULL,"
	" PRIMARY KEY (execution_id, path)) WITHOUT ROWID;",
	/* 13: the files a run left in out/ (its artifacts), kept with its
	 * result; data: the bytes as base64, text in every backend. */
	"CREATE TABLE execution_artifacts ("
	" execution_id TEXT NOT NULL, path TEXT NOT NULL, content_type TEXT NOT NULL,"
	" size INTEGER NOT NULL, data TEXT NOT NULL,"
	" PRIMARY KEY (execution_id, path)) WITHOUT ROWID;",
	/* 14: nothing here; PostgreSQL's output columns become bytea (SQLite's
	 * text already holds any bytes). */
	"SELECT 1;",
	/* 15: blocks of sandbox uids, one per runner that asks (runner/uid_block.c). */
	"CREATE TABLE uid_blocks (block INTEGER PRIMARY KEY, holder TEXT NOT NULL, held_until INTEGER NOT NULL);",
	/* 16: nothing here; PostgreSQL's metric triggers run their upserts
	 * as statements of their own (SQLite's triggers always did). */
	"SELECT 1;",
};
const int store_schema_version = (int)(sizeof(sqlite_migrations) / sizeof(sqlite_migrations[0]));

/* BEGIN IMMEDIATE: take the write lock now, not at the first write. */
const char *const sqlite_tx_sql[SQLITE_TX__MAX] = {
	[SQLITE_TX_BEGIN] = "BEGIN IMMEDIATE",
	[SQLITE_TX_COMMIT] = "COMMIT",
	[SQLITE_TX_ROLLBACK] = "ROLLBACK",
};

/* One batch of retention: the executions that finished before ?1, at most ?2 of them, oldest first. */
#define PURGE_BATCH "SELECT id FROM executions WHERE finished_at < ?1 ORDER BY finished_at LIMIT ?2"

/* Sessions not saved since ?1 whose executions and submissions retention took: the batch
 * of STMT_PURGE_SESSIONS and of the rows other tables keep per session. */
#define PURGE_SESSION_BATCH \
	"SELECT id FROM sessions s WHERE updated_at < ?1 " \
	"AND NOT EXISTS (SELECT 1 FROM executions e WHERE e.session_id = s.id) " \
	"AND NOT EXISTS (SELECT 1 FROM submissions u WHERE u.session_id = s.id) " \
	"ORDER BY updated_at LIMIT ?2"

/* How many cases of row e's submission are running. */
#define RUNNING_CASES(e) "(SELECT count(*) FROM executions r WHERE r.submission_id = " e ".submission_id " \
	"AND r.status = 'RUNNING')"
/*
 * Whether QUEUED row e may start now: a case waits for case 0 of its
 * submission when after_first is set, and for a free place among its
 * submission's ?5 running cases.
 */
#define CLAIMABLE(e) \
	e ".status = 'QUEUED' AND (" e ".submission_id IS NULL OR (" RUNNING_CASES(e) " < ?5 " \
	"AND NOT (" e ".after_first AND EXISTS (SELECT 1 FROM executions f " \
	"WHERE f.submission_id = " e ".submission_id AND f.case_index = 0 " \
	"AND f.status IN ('QUEUED', 'RUNNING')))))"

const char *const sqlite_sql[STMT__MAX] = {
	/* The next version follows every earlier one, deleted ones too. */
	[STMT_SUITE_PUT] =
		"INSERT INTO test_suites (id, version, body, created_at) "
		"SELECT ?1, coalesce(max(version), 0) + 1, ?2, ?3 FROM test_suites WHERE id = ?1 "
		"RETURNING " SUITE_COLUMNS,
	[STMT_SUITE_GET] =
		"SELECT " SUITE_COLUMNS " FROM test_suites WHERE id = ?1 AND NOT deleted "
		"ORDER BY version DESC LIMIT 1",
	[STMT_SUITE_DELETE] = "UPDATE test_suites SET deleted = 1 WHERE id = ?1 AND NOT deleted",
	[STMT_SUITE_CURRENT] =
		"SELECT version, body FROM test_suites WHERE id = ?1 AND NOT deleted ORDER BY version DESC LIMIT 1",
	[STMT_SUBMISSION_INSERT] =
		"INSERT INTO submissions (id, session_id, suite_id, suite_version, stop_on_first_failure, queued_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[STMT_CASE_INSERT] =
		"INSERT INTO executions (id, session_id, status, language, source_code, stdin, queued_at, kind, "
		"submission_id, case_index, time_limit_ms, expected_stdout, compare, after_first, learner) "
		"SELECT ?1, id, 'QUEUED', language, source_code, ?2, ?3, 'case', ?4, ?5, ?6, ?7, ?8, ?9, ?11 "
		"FROM sessions WHERE id = ?10",
	[STMT_SUBMISSION_GET] =
		"SELECT " SUBMISSION_COLUMNS " FROM submissions s JOIN test_suites t "
		"ON t.id = s.suite_id AND t.version = s.suite_version WHERE s.id = ?1",
	[STMT_SUBMISSION_LIST] =
		"SELECT " SUBMISSION_COLUMNS " FROM submissions s JOIN test_suites t "
		"ON t.id = s.suite_id AND t.version = s.suite_version "
		"WHERE s.session_id = ?1 AND s.seq < ?2 ORDER BY s.seq DESC LIMIT ?3",
	[STMT_SUBMISSION_CASES] =
		"SELECT " CASE_RESULT_COLUMNS " FROM executions WHERE submission_id = ?1 ORDER BY case_index",
	/* After case ?4 of submission ?1 failed with verdict ?2 (claims.h): a
	 * compile error (a property of the source, not of a case) ends every
	 * case not judged yet as COMPILE_ERROR; in a stop_on_first_failure
	 * submission any other failure ends every later case in case order
	 * SKIPPED, whether queued, running (no longer RUNNING: its slot kills
	 * it and its result write is fenced off) or judged. A repeat changes nothing. */
	[STMT_CASES_SKIP] =
		"UPDATE executions SET status = 'FAILED', error_code = 'SKIPPED', "
		"error_message = 'not judged: an earlier case in case order decided the verdict', "
		"stdout = '', stderr = '', lease_until = NULL, finished_at = ?3, "
		"verdict = CASE WHEN ?2 = 'COMPILE_ERROR' THEN 'COMPILE_ERROR' ELSE 'SKIPPED' END "
		"WHERE submission_id = ?1 AND CASE WHEN ?2 = 'COMPILE_ERROR' "
		"THEN verdict IS NULL AND status IN ('QUEUED', 'RUNNING') "
		"ELSE case_index > ?4 AND coalesce(verdict, '') != 'SKIPPED' "
		" AND (SELECT stop_on_first_failure FROM submissions WHERE id = ?1) END",
	[STMT_CASE_SUBMISSION] = "SELECT submission_id FROM executions WHERE id = ?1 AND kind = 'case'",
	[STMT_SESSION_INSERT] =
		"INSERT INTO sessions (id, language, source_code, status, created_at, updated_at, owner, learner, "
		"source_bytes) VALUES (?1, ?2, ?3, 'ACTIVE', ?4, ?4, ?5, ?6, ?7) RETURNING " SESSION_COLUMNS,
	[STMT_SESSION_GET] = "SELECT " SESSION_COLUMNS " FROM sessions WHERE id = ?1",
	[STMT_SESSION_UPDATE] =
		"UPDATE sessions SET source_code = ?2, updated_at = max(?3, updated_at), source_bytes = ?4 "
		"WHERE id = ?1 RETURNING " SESSION_COLUMNS,
	/* The entry file's content in one statement, where the session's total
	 * (source_bytes) with it stays within ?5: a write of the entry alone
	 * changes no file count and no path. */
	[STMT_SESSION_AUTOSAVE] =
		"UPDATE sessions SET source_code = ?2, updated_at = max(?3, updated_at), "
		"source_bytes = source_bytes - length(CAST(source_code AS BLOB)) + ?4 "
		"WHERE id = ?1 AND source_bytes - length(CAST(source_code AS BLOB)) + ?4 <= ?5 "
		"RETURNING " SESSION_COLUMNS ", "
		"EXISTS (SELECT 1 FROM session_files WHERE session_id = ?1) AS has_other_files",
	[STMT_SESSION_EXISTS] = "SELECT 1 FROM sessions WHERE id = ?1",
	/* A submission in flight counts once, however many of its cases are. */
	[STMT_SESSION_CAPS] =
		"SELECT (SELECT count(DISTINCT coalesce(submission_id, id)) FROM executions WHERE session_id = ?1 "
		"AND status IN ('QUEUED', 'RUNNING')) AS in_flight, "
		"(SELECT count(*) FROM executions WHERE status = 'QUEUED') AS queue_depth, "
		"(SELECT count(*) FROM session_files WHERE session_id = ?1) AS files FROM sessions WHERE id = ?1",
	[STMT_QUEUE_DEPTH] = "SELECT count(*) FROM executions WHERE status = 'QUEUED'",
	[STMT_EXECUTION_INSERT] =
		"INSERT INTO executions (id, session_id, status, language, source_code, stdin, queued_at, kind, "
		"interactive, learner) SELECT ?1, id, 'QUEUED', language, source_code, ?2, ?3, ?5, ?6, ?7 "
		"FROM sessions WHERE id = ?4",
	/* Quotas of learner ?1 (fcgi_app/db_quota.c). A run, a check or a
	 * submission (its case 0) started after ?2, the window's start. */
	[STMT_LEARNER_RUNS] =
		"SELECT count(*) AS count, min(queued_at) AS oldest FROM executions "
		"WHERE learner = ?1 AND queued_at > ?2 AND coalesce(case_index, 0) = 0",
	/* Queued or running; a submission counts once, however many of its cases are. */
	[STMT_LEARNER_IN_FLIGHT] =
		"SELECT count(DISTINCT k) FROM ("
		"SELECT coalesce(submission_id, id) AS k FROM executions WHERE learner = ?1 AND status = 'QUEUED' "
		"UNION ALL SELECT coalesce(submission_id, id) FROM executions WHERE learner = ?1 AND status = 'RUNNING')",
	[STMT_LEARNER_SESSIONS] =
		"SELECT count(*) AS count, min(created_at) AS oldest FROM sessions WHERE learner = ?1 AND created_at > ?2",
	/* The learner's stored source, session ?2 left out (the one being written). */
	[STMT_LEARNER_SOURCE_BYTES] =
		"SELECT coalesce(sum(source_bytes), 0) FROM sessions WHERE learner = ?1 AND id != ?2",
	[STMT_SESSION_QUOTA] = "SELECT " SESSION_QUOTA_COLUMNS " FROM sessions WHERE id = ?1",
	/* BEGIN IMMEDIATE has locked everything already. */
	[STMT_LEARNER_LOCK] = "SELECT ?1",
	[STMT_WRITE_LOCK] = "SELECT 1",
	/* A submission's cases are shown only through the submission, which hides the hidden ones. */
	[STMT_EXECUTION_GET] = "SELECT " EXECUTION_COLUMNS " FROM executions WHERE id = ?1 AND kind != 'case'",
	[STMT_EXECUTION_LIST] =
		"SELECT " EXECUTION_COLUMNS " FROM executions WHERE session_id = ?1 AND seq < ?2 "
		"AND kind != 'case' ORDER BY seq DESC LIMIT ?3",
	[STMT_QUEUE_STATS] =
		"SELECT (SELECT count(*) FROM executions WHERE status = 'QUEUED'), "
		"(SELECT min(queued_at) FROM executions WHERE status = 'QUEUED'), "
		"(SELECT count(*) FROM executions WHERE status = 'RUNNING')",
	[STMT_RUNNERS] =
		"SELECT " RUNNER_COLUMNS " FROM runners WHERE stopped_at IS NULL "
		"AND heartbeat_at >= ?1 ORDER BY started_at",
	[STMT_RUNNER_LANGUAGES] =
		"SELECT languages FROM runners WHERE stopped_at IS NULL "
		"AND heartbeat_at >= ?1 ORDER BY started_at",
	/* /metrics reads only the counters and histograms (common/store_metrics.h). */
	[STMT_METRICS_BY_STATUS] =
		"SELECT " STATUS_COUNT_COLUMNS " FROM metric_counts WHERE name = 'finished' GROUP BY 1, 2 ORDER BY 1, 2",
	[STMT_METRICS_BY_LANGUAGE] =
		"SELECT language, status, sum(value) FROM metric_counts WHERE name = 'finished' "
		"GROUP BY 1, 2 ORDER BY 1, 2",
	[STMT_METRICS_COUNTER] = "SELECT coalesce(sum(value), 0) FROM metric_counts WHERE name = ?1",
	[STMT_METRICS_BUCKETS] = "SELECT " METRIC_BUCKET_COLUMNS " FROM metric_buckets ORDER BY 1, 2, 3",
	[STMT_METRICS_VERDICTS] =
		"SELECT status, sum(value) FROM metric_counts WHERE name = 'verdict' GROUP BY 1 ORDER BY 1",
	[STMT_METRICS_STORE_SIZE] =
		"SELECT page_count * page_size, freelist_count * page_size "
		"FROM pragma_page_count(), pragma_page_size(), pragma_freelist_count()",
	[STMT_METRICS_RUNNERS] =
		"SELECT " RUNNER_COLUMNS " FROM runners WHERE stopped_at IS NULL "
		"AND heartbeat_at >= ?1 ORDER BY started_at, id",

	[STMT_RUNNER_REGISTER] =
		"INSERT INTO runners (id, host, pid, slots, busy, sandbox_mode, started_at, heartbeat_at, languages) "
		"VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?6, ?7)",
	[STMT_RUNNER_HEARTBEAT] =
		"UPDATE runners SET heartbeat_at = ?2, busy = ?3, limit_errors = ?4 WHERE id = ?1",
	[STMT_RUNNER_STOPPED] = "UPDATE runners SET stopped_at = ?2, busy = 0 WHERE id = ?1",
	[STMT_ANY_QUEUED] = "SELECT 1 FROM executions WHERE status = 'QUEUED' LIMIT 1",
	/*
	 * The queue head among what may start now (CLAIMABLE), fair between
	 * learners: first the learner (FAIREST_LEARNER) with the fewest runs
	 * running, on a tie the one a slot served longest ago (or never), so
	 * one learner's backlog never waits another's single run for more
	 * than one free slot; then that learner's own order: rows whose
	 * submission has the fewest cases running first (a plain run counts
	 * 0), then FIFO, so a submission fills free slots but never holds
	 * every slot while the learner's other work waits. A case's lease: ?6
	 * (compile and grace) plus its own time limit. Only learners with
	 * fewer than ?7 runs running qualify (a runner's last free slot waits
	 * for a learner with none: runner/slot.c).
	 * started_at is never before queued_at, nor finished_at before
	 * started_at (STMT_FINISH): ?2 is read before the statement runs, and
	 * a row queued meanwhile by a web host, or by one whose clock is a
	 * little ahead, must not read as started before it was queued.
	 */
	[STMT_CLAIM] =
		"UPDATE executions SET status = 'RUNNING', runner_id = ?1, attempt = attempt + 1, "
		"started_at = max(?2, queued_at), lease_until = CASE WHEN interactive THEN ?4 "
		"WHEN time_limit_ms IS NOT NULL THEN ?2 + ?6 + time_limit_ms ELSE ?3 END "
		"WHERE seq = (" FAIREST_LEARNER(CLAIMABLE("q"), "?7")
		"SELECT " FAIREST_ROW(CLAIMABLE("e"), RUNNING_CASES("e"), "") ") "
		"AND status = 'QUEUED' RETURNING " CLAIM_COLUMNS,
	/* A case given back when its claim passed submission_parallel_cases
	 * (runner/claims.c, case_over_cap). */
	[STMT_CASES_RUNNING] =
		"SELECT count(*) FROM executions WHERE submission_id = ?1 AND status = 'RUNNING'",
	[STMT_CLAIM_UNDO] =
		"UPDATE executions SET status = 'QUEUED', runner_id = NULL, lease_until = NULL, started_at = NULL, "
		"attempt = attempt - 1 WHERE id = ?2 AND runner_id = ?1 AND attempt = ?3 AND status = 'RUNNING'",
	[STMT_FINISH] =
		"UPDATE executions SET status = CASE WHEN cancel_requested THEN 'FAILED' ELSE ?4 END, "
		"stdout = ?5, stderr = ?6, stdout_truncated = ?7, "
		"stderr_truncated = ?8, exit_code = ?9, signal = ?10, execution_time_ms = ?11, "
		"cpu_time_ms = ?12, memory_kb = ?13, "
		"error_code = CASE WHEN cancel_requested THEN 'CANCELLED' ELSE ?14 END, "
		"error_message = CASE WHEN cancel_requested THEN '" CANCEL_MESSAGE "' ELSE ?15 END, "
		"finished_at = max(?16, started_at), lease_until = NULL, setup_ms = ?17, compile_output = ?18, "
		"compile_time_ms = ?19, compile_cached = ?20, diagnostics = ?21, verdict = ?22 "
		"WHERE id = ?1 AND runner_id = ?2 AND attempt = ?3 AND status = 'RUNNING'",
	/* A runner that stopped or went silent (no heartbeat for ?2 ms before
	 * ?1, now) will never finish its claims: expire them now. */
	[STMT_EXPIRE_DEAD_RUNNERS] =
		"UPDATE executions SET lease_until = 0 WHERE status = 'RUNNING' AND lease_until > 0 "
		"AND runner_id IN (SELECT id FROM runners WHERE stopped_at IS NOT NULL OR heartbeat_at < ?1 - ?2)",
	/* A cancelled run whose runner was lost is not run again: it ends CANCELLED. */
	[STMT_GIVE_UP] =
		"UPDATE executions SET status = 'FAILED', "
		"error_code = CASE WHEN cancel_requested THEN 'CANCELLED' ELSE 'RUNNER_LOST' END, "
		"error_message = CASE WHEN cancel_requested THEN '" CANCEL_MESSAGE "' "
		"ELSE 'the runner was lost during each of ' || attempt || ' attempts' END, "
		"stdout = coalesce(stdout, ''), stderr = coalesce(stderr, ''), "
		"finished_at = ?1, lease_until = NULL "
		"WHERE status = 'RUNNING' AND lease_until < ?1 AND (attempt >= ?2 OR cancel_requested) "
		"RETURNING id, attempt",
	[STMT_REQUEUE] =
		"UPDATE executions SET status = 'QUEUED', runner_id = NULL, lease_until = NULL, "
		"started_at = NULL WHERE status = 'RUNNING' AND lease_until < ?1 AND attempt < ?2 "
		"AND NOT cancel_requested RETURNING id, attempt",
	/* After a restore: what ran when the backup was taken will never be
	 * reported by its runner (the sweep ends a cancelled one). */
	[STMT_REQUEUE_RESTORED] =
		"UPDATE executions SET status = 'QUEUED', runner_id = NULL, lease_until = NULL, "
		"started_at = NULL WHERE status = 'RUNNING' AND NOT cancel_requested RETURNING id, attempt",
	/* The status event of a requeue: QUEUED, as event 0 of the attempt to come
	 * (?2 = EVENT_ID(?3, 0)), so it sorts after the lost attempt's events. */
	[STMT_EVENT_REQUEUED] =
		"INSERT OR IGNORE INTO execution_events (execution_id, event_id, attempt, kind, stream_offset, data) "
		"VALUES (?1, ?2, ?3, 'status', 0, 'QUEUED')",
	/* Fenced like STMT_FINISH: only the runner holding this attempt adds to it. */
	[STMT_EVENT_INSERT] =
		"INSERT INTO execution_events (execution_id, event_id, attempt, kind, stream_offset, data) "
		"SELECT ?1, ?2, ?3, ?4, ?5, ?6 FROM executions "
		"WHERE id = ?1 AND runner_id = ?7 AND attempt = ?3 AND status = 'RUNNING'",
	[STMT_EVENTS_AFTER] =
		"SELECT " EVENT_COLUMNS " FROM execution_events WHERE execution_id = ?1 AND event_id > ?2 "
		"ORDER BY event_id LIMIT ?3",
	[STMT_EXECUTION_STATE] = "SELECT " EXECUTION_STATE_COLUMNS " FROM executions WHERE id = ?1 AND kind != 'case'",
	/* A queued execution is cancelled at once: it is never claimed. */
	[STMT_CANCEL_QUEUED] =
		"UPDATE executions SET status = 'FAILED', error_code = 'CANCELLED', "
		"error_message = '" CANCEL_MESSAGE "', stdout = '', stderr = '', finished_at = ?2, "
		"cancel_requested = 1 WHERE id = ?1 AND status = 'QUEUED'",
	/* A running one is flagged; the slot running it polls the flag and kills the run. */
	[STMT_CANCEL_RUNNING] =
		"UPDATE executions SET cancel_requested = 1 WHERE id = ?1 AND status = 'RUNNING'",
	[STMT_CANCEL_STATE] = "SELECT " CANCEL_STATE_COLUMNS " FROM executions WHERE id = ?1",
	/* The slot's look at its own run: still its attempt, cancel flag. */
	[STMT_RUN_WATCH] =
		"SELECT cancel_requested FROM executions "
		"WHERE id = ?1 AND runner_id = ?2 AND attempt = ?3 AND status = 'RUNNING'",
	[STMT_STDIN_STATE] = "SELECT " STDIN_STATE_COLUMNS " FROM executions WHERE id = ?1",
	[STMT_STDIN_INSERT] =
		"INSERT INTO execution_stdin (execution_id, seq, data, bytes, eof) VALUES (?1, ?2, ?3, ?4, ?5)",
	[STMT_OWNER_SESSION] = "SELECT owner FROM sessions WHERE id = ?1",
	[STMT_OWNER_EXECUTION] =
		"SELECT s.owner FROM executions e JOIN sessions s ON s.id = e.session_id WHERE e.id = ?1",
	[STMT_OWNER_SUBMISSION] =
		"SELECT s.owner FROM submissions u JOIN sessions s ON s.id = u.session_id WHERE u.id = ?1",
	/* Retention. An execution's rows in other tables go in the same batch,
	 * before it: a table that keeps rows per execution adds its statement
	 * here and to runner/retention.c's list. */
	[STMT_PURGE_DUE] = "SELECT 1 FROM executions WHERE finished_at < ?1 LIMIT 1",
	[STMT_PURGE_EVENTS] = "DELETE FROM execution_events WHERE execution_id IN (" PURGE_BATCH ")",
	[STMT_PURGE_STDIN] = "DELETE FROM execution_stdin WHERE execution_id IN (" PURGE_BATCH ")",
	[STMT_PURGE_EXECUTIONS] = "DELETE FROM executions WHERE id IN (" PURGE_BATCH ")",
	/* A submission goes once retention took all its cases. */
	[STMT_PURGE_SUBMISSIONS] =
		"DELETE FROM submissions WHERE seq IN (SELECT seq FROM submissions s WHERE queued_at < ?1 "
		"AND NOT EXISTS (SELECT 1 FROM executions e WHERE e.submission_id = s.id) ORDER BY seq LIMIT ?2)",
	/* A session not saved since ?1 goes once retention took its executions and submissions. */
	[STMT_PURGE_SESSIONS] = "DELETE FROM sessions WHERE id IN (" PURGE_SESSION_BATCH ")",
	[STMT_PURGE_SESSION_FILES] = "DELETE FROM session_files WHERE session_id IN (" PURGE_SESSION_BATCH ")",
	[STMT_PURGE_EXECUTION_FILES] = "DELETE FROM execution_files WHERE execution_id IN (" PURGE_BATCH ")",
	[STMT_PURGE_ARTIFACTS] = "DELETE FROM execution_artifacts WHERE execution_id IN (" PURGE_BATCH ")",
	[STMT_SESSION_FILES] = "SELECT " FILE_COLUMNS " FROM session_files WHERE session_id = ?1 ORDER BY path",
	/* The entry first, as the path '' (its name is the language's file). */
	[STMT_SESSION_FILE_SIZES] =
		"SELECT '', length(CAST(source_code AS BLOB)) FROM sessions WHERE id = ?1 "
		"UNION ALL SELECT path, length(CAST(content AS BLOB)) FROM session_files WHERE session_id = ?1",
	[STMT_SESSION_FILE_PUT] =
		"INSERT INTO session_files (session_id, path, content) VALUES (?1, ?2, ?3) "
		"ON CONFLICT (session_id, path) DO UPDATE SET content = excluded.content",
	[STMT_SESSION_FILE_DELETE] = "DELETE FROM session_files WHERE session_id = ?1 AND path = ?2",
	[STMT_SESSION_TOUCH] =
		"UPDATE sessions SET updated_at = max(?2, updated_at), source_bytes = ?3 WHERE id = ?1 "
		"RETURNING updated_at",
	[STMT_SESSION_SOURCE_BYTES] =
		"SELECT length(CAST(source_code AS BLOB)) + (SELECT coalesce(sum(length(CAST(content AS BLOB))), 0) "
		"FROM session_files WHERE session_id = ?1) FROM sessions WHERE id = ?1",
	[STMT_EXECUTION_FILES_SNAPSHOT] =
		"INSERT INTO execution_files (execution_id, path, content) "
		"SELECT ?1, path, content FROM session_files WHERE session_id = ?2",
	[STMT_EXECUTION_FILES] = "SELECT " FILE_COLUMNS " FROM execution_files WHERE execution_id = ?1 ORDER BY path",
	[STMT_ARTIFACT_INSERT] =
		"INSERT INTO execution_artifacts (execution_id, path, content_type, size, data) "
		"VALUES (?1, ?2, ?3, ?4, ?5)",
	[STMT_ARTIFACT_LIST] =
		"SELECT " ARTIFACT_COLUMNS " FROM execution_artifacts WHERE execution_id = ?1 ORDER BY path",
	[STMT_ARTIFACT_GET] =
		"SELECT content_type, data FROM execution_artifacts WHERE execution_id = ?1 AND path = ?2",
	[STMT_STDIN_AFTER] =
		"SELECT " STDIN_ROW_COLUMNS " FROM execution_stdin WHERE execution_id = ?1 AND seq > ?2 "
		"ORDER BY seq",
	/*
	 * ?3 now, ?4 how long a hold lasts, ?5 how long a lapsed hold must have
	 * lapsed before another runner may take the block: its holder may only
	 * have lost the store for a while.
	 */
	[STMT_UID_BLOCK_HOLD] =
		"INSERT INTO uid_blocks (block, holder, held_until) VALUES (?1, ?2, ?3 + ?4) "
		"ON CONFLICT (block) DO UPDATE SET holder = excluded.holder, held_until = excluded.held_until "
		"WHERE uid_blocks.holder = excluded.holder OR uid_blocks.held_until < ?3 - ?5",
	[STMT_UID_BLOCK_RELEASE] = "DELETE FROM uid_blocks WHERE block = ?1 AND holder = ?2",
};
