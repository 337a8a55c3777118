-- Live Code Execution Engine: SQLite schema, version 1.
-- Applied once by common/store_sqlite.c when PRAGMA user_version is 0;
-- later versions are forward migrations in common/store_sqlite_sql.c.
-- Times are integer milliseconds since the Unix epoch, UTC.

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,             -- UUID
    language    TEXT NOT NULL,
    source_code TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'ACTIVE',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE executions (
    seq               INTEGER PRIMARY KEY,    -- FIFO order of the queue
    id                TEXT NOT NULL UNIQUE,   -- UUID
    session_id        TEXT NOT NULL REFERENCES sessions(id),
    status            TEXT NOT NULL,          -- QUEUED RUNNING COMPLETED FAILED TIMEOUT
    language          TEXT NOT NULL,
    source_code       TEXT NOT NULL,          -- snapshot taken at Run time
    stdin             TEXT NOT NULL,
    stdout            TEXT,
    stderr            TEXT,
    stdout_truncated  INTEGER NOT NULL DEFAULT 0,
    stderr_truncated  INTEGER NOT NULL DEFAULT 0,
    exit_code         INTEGER,
    signal            INTEGER,
    execution_time_ms INTEGER,
    cpu_time_ms       INTEGER,
    memory_kb         INTEGER,
    error_code        TEXT,
    error_message     TEXT,
    queued_at         INTEGER NOT NULL,
    started_at        INTEGER,
    finished_at       INTEGER,
    runner_id         TEXT,
    attempt           INTEGER NOT NULL DEFAULT 0,
    lease_until       INTEGER
);

-- The queue, in FIFO order: claims and the queue depth read only this.
CREATE INDEX executions_queued ON executions(seq) WHERE status = 'QUEUED';
-- Claimed work, by lease expiry: the sweep reads only this.
CREATE INDEX executions_running ON executions(lease_until) WHERE status = 'RUNNING';
-- Runs in flight per session, for the per-session cap.
CREATE INDEX executions_in_flight ON executions(session_id) WHERE status IN ('QUEUED', 'RUNNING');
-- A session's history, newest first.
CREATE INDEX executions_by_session ON executions(session_id, seq);

CREATE TABLE runners (
    id            TEXT PRIMARY KEY,           -- UUID, new on every start
    host          TEXT NOT NULL,
    pid           INTEGER NOT NULL,
    slots         INTEGER NOT NULL,
    busy          INTEGER NOT NULL DEFAULT 0,
    sandbox_mode  TEXT NOT NULL,
    started_at    INTEGER NOT NULL,
    heartbeat_at  INTEGER NOT NULL,
    stopped_at    INTEGER
) WITHOUT ROWID;
