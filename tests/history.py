"""Writes history straight into a SQLite store: sessions and finished
executions (with their live events and stdin rows), as old as asked.

It stands in for months of traffic in the retention tests and in
bench/operations_bench.py (a million executions in about a minute instead
of days). Rows go in the way the engine's own writes leave them: each
execution inserted QUEUED, then claimed and finished by UPDATEs, so the
store's triggers count them in /metrics like real ones.
"""

import sqlite3
import time
import uuid

DAY_MS = 86400 * 1000
SOURCE = "print('hello')\n" * 8


def connect(data_dir):
    db = sqlite3.connect(f"{data_dir}/engine.db", timeout=30, isolation_level=None)
    db.execute("PRAGMA busy_timeout = 30000")
    return db


def write(data_dir, executions, days_ago, session_days_ago=None, per_session=10,
          events=2, output_bytes=100, chunk=5000, language="python"):
    """Adds `executions` executions that finished `days_ago` days ago, in
    sessions last saved `session_days_ago` days ago (default: the same),
    `per_session` to a session. Returns (session ids, execution ids)."""
    now = int(time.time() * 1000)
    finished = now - int(days_ago * DAY_MS)
    saved = now - int((days_ago if session_days_ago is None else session_days_ago) * DAY_MS)
    db = connect(data_dir)
    sessions, ids = [], []
    out = "x" * output_bytes
    try:
        for start in range(0, executions, chunk):
            n = min(chunk, executions - start)
            batch = [str(uuid.uuid4()) for _ in range(n)]
            new_sessions = [str(uuid.uuid4()) for _ in range((n + per_session - 1) // per_session)]
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT INTO sessions (id, language, source_code, created_at, updated_at) "
                           "VALUES (?, ?, ?, ?, ?)",
                           [(s, language, SOURCE, saved, saved) for s in new_sessions])
            db.executemany("INSERT INTO executions (id, session_id, status, language, source_code, stdin, "
                           "queued_at) VALUES (?, ?, 'QUEUED', ?, ?, '', ?)",
                           [(e, new_sessions[i // per_session], language, SOURCE, finished - 300)
                            for i, e in enumerate(batch)])
            # The write lock is held since BEGIN IMMEDIATE: the batch's seqs are consecutive.
            first = db.execute("SELECT seq FROM executions WHERE id = ?", (batch[0],)).fetchone()[0]
            last = first + n - 1
            db.execute("UPDATE executions SET status = 'RUNNING', started_at = queued_at + 20, attempt = 1 "
                       "WHERE seq BETWEEN ? AND ?", (first, last))
            db.execute("UPDATE executions SET status = 'COMPLETED', stdout = ?, stderr = '', exit_code = 0, "
                       "execution_time_ms = 150, setup_ms = 9, finished_at = ? "
                       "WHERE seq BETWEEN ? AND ?", (out, finished, first, last))
            db.executemany("INSERT INTO execution_events (execution_id, event_id, attempt, kind, data) "
                           "VALUES (?, ?, 1, 'stdout', ?)",
                           [(e, (1 << 32) + k, out) for e in batch for k in range(1, events + 1)])
            db.execute("COMMIT")
            sessions += new_sessions
            ids += batch
    finally:
        db.close()
    return sessions, ids
