/*
 * The rows the programs read, named once: each column list is the SELECT
 * list of the statements that return such a row (in every backend's
 * statement table), and the enum beside it is how code reads a column.
 * Keep each enum in the order of its list; tests/unit/test_store.c checks
 * them against the column names the store reports.
 */
#ifndef ENGINE_STORE_COLUMNS_H
#define ENGINE_STORE_COLUMNS_H

#define SESSION_COLUMNS "id, language, source_code, status, created_at, updated_at"
enum session_column {
	SESSION_ID,
	SESSION_LANGUAGE,
	SESSION_SOURCE_CODE,
	SESSION_STATUS,
	SESSION_CREATED_AT,
	SESSION_UPDATED_AT,
	SESSION__NCOLUMNS
};
/* STMT_SESSION_AUTOSAVE's row: a session's, then whether it has files beside its entry. */
#define SESSION_HAS_OTHER_FILES SESSION__NCOLUMNS

/*
 * stdout or stderr of an execution: the result's, or for an interactive
 * run still running its output so far, the chunks its attempt has stored
 * as events (the runner writes output once, as events; the row gets it
 * with the result). The events of an attempt are the key range
 * (attempt << 32, (attempt + 1) << 32).
 */
#define EXECUTION_OUTPUT(col) \
	"CASE WHEN status = 'RUNNING' AND interactive THEN (SELECT coalesce(group_concat(data, ''), '') " \
	"FROM (SELECT data FROM execution_events WHERE execution_id = executions.id " \
	"AND event_id > executions.attempt << 32 AND event_id < (executions.attempt + 1) << 32 " \
	"AND kind = '" col "' ORDER BY event_id)) ELSE " col " END AS " col

#define EXECUTION_COLUMNS \
	"id, session_id, status, " EXECUTION_OUTPUT("stdout") ", " EXECUTION_OUTPUT("stderr") ", " \
	"exit_code, signal, execution_time_ms, " \
	"cpu_time_ms, memory_kb, stdout_truncated, stderr_truncated, error_code, " \
	"error_message, attempt, queued_at, started_at, finished_at, seq, setup_ms, kind, " \
	"compile_output, compile_time_ms, compile_cached, diagnostics, interactive"
enum execution_column {
	EXECUTION_ID,
	EXECUTION_SESSION_ID,
	EXECUTION_STATUS,
	EXECUTION_STDOUT,
	EXECUTION_STDERR,
	EXECUTION_EXIT_CODE,
	EXECUTION_SIGNAL,
	EXECUTION_TIME_MS,
	EXECUTION_CPU_TIME_MS,
	EXECUTION_MEMORY_KB,
	EXECUTION_STDOUT_TRUNCATED,
	EXECUTION_STDERR_TRUNCATED,
	EXECUTION_ERROR_CODE,
	EXECUTION_ERROR_MESSAGE,
	EXECUTION_ATTEMPT,
	EXECUTION_QUEUED_AT,
	EXECUTION_STARTED_AT,
	EXECUTION_FINISHED_AT,
	EXECUTION_SEQ,                  /* the queue order; the cursor of a page */
	EXECUTION_SETUP_MS,
	EXECUTION_KIND,                 /* run or check */
	EXECUTION_COMPILE_OUTPUT,       /* NULL: nothing was compiled */
	EXECUTION_COMPILE_TIME_MS,
	EXECUTION_COMPILE_CACHED,
	EXECUTION_DIAGNOSTICS,          /* a check's, as a JSON array; NULL otherwise */
	EXECUTION_INTERACTIVE,
	EXECUTION__NCOLUMNS
};

#define RUNNER_COLUMNS "id, host, pid, slots, busy, sandbox_mode, started_at, heartbeat_at, limit_errors"
enum runner_column {
	RUNNER_ID,
	RUNNER_HOST,
	RUNNER_PID,
	RUNNER_SLOTS,
	RUNNER_BUSY,
	RUNNER_SANDBOX_MODE,
	RUNNER_STARTED_AT,
	RUNNER_HEARTBEAT_AT,
	RUNNER_LIMIT_ERRORS,            /* failed cgroup and rlimit operations since its start */
	RUNNER__NCOLUMNS
};

/* STMT_SESSION_FILES, STMT_EXECUTION_FILES: the files beside the entry, by path. */
#define FILE_COLUMNS "path, content"
enum file_column {
	FILE_PATH,
	FILE_CONTENT,
	FILE__NCOLUMNS
};

/* STMT_ARTIFACT_LIST: an execution's artifacts, by path. */
#define ARTIFACT_COLUMNS "path, size, content_type"
enum artifact_column {
	ARTIFACT_PATH,
	ARTIFACT_SIZE,
	ARTIFACT_CONTENT_TYPE,
	ARTIFACT__NCOLUMNS
};

/* STMT_CLAIM: what a slot needs to run the execution it claimed. */
/*
 * With the claimed row, what the runner would otherwise ask in two more
 * round trips: how many files the execution has beside its entry, and how
 * many runs its learner has running, itself included (counted without it
 * and plus one, whether or not the store's RETURNING sees the row's own
 * update).
 */
#define CLAIM_COLUMNS "id, attempt, source_code, stdin, language, kind, interactive, " \
	"submission_id, time_limit_ms, expected_stdout, compare, case_index, " \
	"(SELECT count(*) FROM execution_files f WHERE f.execution_id = executions.id) AS nfiles, " \
	"1 + (SELECT count(*) FROM executions r WHERE r.learner = executions.learner " \
	"AND r.status = 'RUNNING' AND r.id <> executions.id) AS learner_running"
enum claim_column {
	CLAIM_ID,
	CLAIM_ATTEMPT,
	CLAIM_SOURCE_CODE,
	CLAIM_STDIN,
	CLAIM_LANGUAGE,
	CLAIM_KIND,
	CLAIM_INTERACTIVE,
	CLAIM_SUBMISSION_ID,            /* a case's; NULL otherwise */
	CLAIM_TIME_LIMIT_MS,            /* a case's own limit; NULL: wall_time_ms */
	CLAIM_EXPECTED_STDOUT,
	CLAIM_COMPARE,                  /* exact, trim, tokens or float_tolerance:<x> */
	CLAIM_CASE_INDEX,               /* a case's place in its suite, from 0 */
	CLAIM_NFILES,
	CLAIM_LEARNER_RUNNING,
	CLAIM__NCOLUMNS
};

/* STMT_SESSION_CAPS: what a Run's caps count, and the session's files
 * beside its entry (a Run of none snapshots none), in the session's one
 * row (none: no such session). A submission in flight counts once,
 * however many of its cases are. */
enum session_caps_column {
	SESSION_CAPS_IN_FLIGHT,
	SESSION_CAPS_QUEUE_DEPTH,
	SESSION_CAPS_FILES,
	SESSION_CAPS__NCOLUMNS
};

/* STMT_EVENTS_AFTER: an execution's stored events, in event_id order. */
#define EVENT_COLUMNS "event_id, attempt, kind, stream_offset, data"
enum event_column {
	EVENT_ID,
	EVENT_ATTEMPT,
	EVENT_KIND,                     /* status, stdout or stderr */
	EVENT_OFFSET,                   /* output: byte offset of the chunk in its stream */
	EVENT_DATA,                     /* status: its name; output: the chunk as UTF-8 */
	EVENT__NCOLUMNS
};

/* STMT_EXECUTION_STATE: what a live stream polls. */
#define EXECUTION_STATE_COLUMNS "status, attempt"
enum execution_state_column {
	EXECUTION_STATE_STATUS,
	EXECUTION_STATE_ATTEMPT,
	EXECUTION_STATE__NCOLUMNS
};

/* STMT_CANCEL_STATE: what a cancel that changed nothing answers. */
#define CANCEL_STATE_COLUMNS "status, error_code"
enum cancel_state_column {
	CANCEL_STATE_STATUS,
	CANCEL_STATE_ERROR_CODE,
	CANCEL_STATE__NCOLUMNS
};

/* STMT_STDIN_STATE: whether stdin may be sent to an execution now. */
#define STDIN_STATE_COLUMNS \
	"status, interactive, length(CAST(stdin AS BLOB)) + " \
	"(SELECT coalesce(sum(bytes), 0) FROM execution_stdin WHERE execution_id = ?1) AS sent, " \
	"(SELECT coalesce(max(seq), 0) FROM execution_stdin WHERE execution_id = ?1) AS last_seq, " \
	"(SELECT coalesce(max(eof), 0) FROM execution_stdin WHERE execution_id = ?1) AS closed"
enum stdin_state_column {
	STDIN_STATE_STATUS,
	STDIN_STATE_INTERACTIVE,
	STDIN_STATE_SENT,               /* bytes of the Run's stdin and of every send */
	STDIN_STATE_LAST_SEQ,
	STDIN_STATE_CLOSED,             /* eof was sent */
	STDIN_STATE__NCOLUMNS
};

/* STMT_STDIN_AFTER: what was sent after a seq, in order. */
#define STDIN_ROW_COLUMNS "seq, data, eof"
enum stdin_row_column {
	STDIN_ROW_SEQ,
	STDIN_ROW_DATA,
	STDIN_ROW_EOF,
	STDIN_ROW__NCOLUMNS
};

/* STMT_SUITE_PUT, STMT_SUITE_GET: a version of a test suite. */
#define SUITE_COLUMNS "id, version, body, created_at"
enum suite_column {
	SUITE_ID,
	SUITE_VERSION,
	SUITE_BODY,                     /* {"cases", "compare"} as JSON */
	SUITE_CREATED_AT,
	SUITE__NCOLUMNS
};

/* STMT_SUBMISSION_GET, _LIST: a submission with the suite version it was made against. */
#define SUBMISSION_COLUMNS \
	"s.id AS id, s.session_id AS session_id, s.suite_id AS suite_id, s.suite_version AS suite_version, " \
	"s.stop_on_first_failure AS stop_on_first_failure, s.queued_at AS queued_at, t.body AS body, s.seq AS seq"
enum submission_column {
	SUBMISSION_ID,
	SUBMISSION_SESSION_ID,
	SUBMISSION_SUITE_ID,
	SUBMISSION_SUITE_VERSION,
	SUBMISSION_STOP_ON_FIRST_FAILURE,
	SUBMISSION_QUEUED_AT,
	SUBMISSION_BODY,                /* the suite version's body: case names, hidden flags, expected */
	SUBMISSION_SEQ,
	SUBMISSION__NCOLUMNS
};

/* STMT_SUBMISSION_CASES: a submission's cases as they stand, in case order. */
#define CASE_RESULT_COLUMNS \
	"case_index, status, verdict, stdout, execution_time_ms, memory_kb, error_code, finished_at"
enum case_result_column {
	CASE_RESULT_INDEX,
	CASE_RESULT_STATUS,
	CASE_RESULT_VERDICT,            /* NULL until judged; stays NULL when the runner was lost */
	CASE_RESULT_STDOUT,
	CASE_RESULT_TIME_MS,
	CASE_RESULT_MEMORY_KB,
	CASE_RESULT_ERROR_CODE,
	CASE_RESULT_FINISHED_AT,
	CASE_RESULT__NCOLUMNS
};

/* STMT_LEARNER_RUNS, STMT_LEARNER_SESSIONS: a learner's rows within a quota's window. */
enum window_column {
	WINDOW_COUNT,
	WINDOW_OLDEST,                  /* queued_at or created_at of the oldest; NULL when none */
	WINDOW__NCOLUMNS
};

/* STMT_SESSION_QUOTA: whom a session's source counts against, and how much it is. */
#define SESSION_QUOTA_COLUMNS "learner, source_bytes"
enum session_quota_column {
	SESSION_QUOTA_LEARNER,
	SESSION_QUOTA_SOURCE_BYTES,
	SESSION_QUOTA__NCOLUMNS
};

/*
 * STMT_CLAIM's choice of learner, in either dialect (claimable_q: the
 * dialect's test that queued row q may start now): among the learners
 * with such a row, the one with the fewest runs running, then the one a
 * slot served longest ago (or never), then the one with the oldest such
 * row; a learner running_below or more runs running does not qualify.
 * A WITH clause that names it `fairest`, for the scalar subquery that
 * picks the claimed row (FAIREST_ROW): there, not before the UPDATE, where
 * SQLite evaluated the clause again for every row it looked at.
 *
 * Its cost follows the number of learners with queued rows, not the
 * queue's depth: queued_learners walks executions_learner_queued one
 * learner at a time (a skip scan: each step is one seek past the last
 * learner), and each learner's oldest claimable row, runs running and
 * last start are a seek each (executions_learner_queued,
 * executions_learner_running, executions_learner_started; "ORDER BY
 * learner, seq" is that index's order, which keeps PostgreSQL's planner
 * from walking the whole queue in seq order instead). Grouping every
 * queued row by learner, as the claim did before, read the whole queue at
 * each claim: up to max_queue_depth rows (1,000 by default), 400 per
 * claim in a drain of 400, where one learner's backlog is the common case.
 */
#define LEARNER_RUNNING(q) "(SELECT count(*) FROM executions r WHERE r.learner = " q ".learner AND r.status = 'RUNNING')"
#define FAIREST_LEARNER(claimable_q, running_below) \
	"WITH RECURSIVE queued_learners(learner) AS (" \
	"SELECT min(learner) FROM executions WHERE status = 'QUEUED' " \
	"UNION ALL SELECT (SELECT min(x.learner) FROM executions x WHERE x.status = 'QUEUED' " \
	"AND x.learner > queued_learners.learner) FROM queued_learners WHERE queued_learners.learner IS NOT NULL), " \
	"fairest(learner) AS (SELECT k.learner FROM (SELECT l.learner, " LEARNER_RUNNING("l") " AS running, " \
	"(SELECT q.seq FROM executions q WHERE q.learner = l.learner AND " claimable_q " ORDER BY q.learner, q.seq " \
	"LIMIT 1) " \
	"AS first_seq FROM queued_learners l WHERE l.learner IS NOT NULL) k " \
	"WHERE k.first_seq IS NOT NULL AND k.running < " running_below " ORDER BY k.running, " \
	"coalesce((SELECT max(r.started_at) FROM executions r WHERE r.learner = k.learner), 0), k.first_seq LIMIT 1) "

/*
 * The claimed row of the fairest learner (FAIREST_LEARNER), in either
 * dialect (claimable_e: the test for row e; running_cases_e: how many
 * cases of e's submission run; lock: the dialect's row lock clause, or
 * ""): the learner's own order puts rows whose submission has the fewest
 * cases running first (a plain run counts 0), then FIFO. The first
 * branch is that order's common head -- the oldest row with nothing of
 * its own running, one seek into executions_learner_queued -- and only a
 * learner whose every claimable row belongs to a submission with cases
 * running has its rows sorted.
 */
#define FAIREST_ROW(claimable_e, running_cases_e, lock) \
	"coalesce((SELECT e.seq FROM executions e WHERE e.learner = (SELECT learner FROM fairest) AND " claimable_e \
	" AND (e.submission_id IS NULL OR " running_cases_e " = 0) ORDER BY e.learner, e.seq LIMIT 1" lock "), " \
	"(SELECT e.seq FROM executions e WHERE e.learner = (SELECT learner FROM fairest) AND " claimable_e \
	" ORDER BY CASE WHEN e.submission_id IS NULL THEN 0 ELSE " running_cases_e " END, e.seq LIMIT 1" lock "))"

/* The error message of every cancelled execution. */
#define CANCEL_MESSAGE "the execution was cancelled"

/* STMT_METRICS_BY_STATUS: finished executions per (status, error code or ""). */
#define STATUS_COUNT_COLUMNS "status, error_code, sum(value) AS count"
enum status_count_column {
	STATUS_COUNT_STATUS,
	STATUS_COUNT_ERROR_CODE,
	STATUS_COUNT_COUNT,
	STATUS_COUNT__NCOLUMNS
};

/* STMT_QUEUE_STATS */
enum queue_stats_column {
	QUEUE_STATS_DEPTH,
	QUEUE_STATS_OLDEST_QUEUED_AT,   /* NULL when the queue is empty */
	QUEUE_STATS_RUNNING,
	QUEUE_STATS__NCOLUMNS
};

/* STMT_METRICS_STORE_SIZE: bytes the store takes, and of those the free ones it keeps for reuse. */
enum store_size_column {
	STORE_SIZE_BYTES,
	STORE_SIZE_FREE_BYTES,
	STORE_SIZE__NCOLUMNS
};

#endif
