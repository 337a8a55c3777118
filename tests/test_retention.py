"""Retention against the real stack: the runner's maintenance deletes
executions past execution_retention_days (with their events, stdin, files
and artifacts), sessions idle past session_idle_days (with their files)
once none of their executions is kept, gives the space back, and
/metrics' counters outlive the rows.
Old rows are written straight into the store (tests/history.py)."""

import os
import sqlite3
import time

import pytest

import history
from stack import REPO, Stack, running
from test_metrics import parse, scrape, value

@pytest.fixture(scope="module")
def kept(tmp_path_factory):
    """A stack that keeps executions 1 day and idle sessions 2 days, and looks every 200 ms."""
    config = tmp_path_factory.mktemp("retention") / "engine.conf"
    config.write_text((REPO / "conf" / "engine.conf").read_text()
                      + "execution_retention_days = 1\nsession_idle_days = 2\nretention_interval_ms = 200\n"
                      + f"languages_file = {REPO / 'conf' / 'languages.conf'}\n")
    old = os.environ.get("ENGINE_CONFIG")
    os.environ["ENGINE_CONFIG"] = str(config)
    try:
        yield from running(Stack())
    finally:
        if old is None:
            os.environ.pop("ENGINE_CONFIG", None)
        else:
            os.environ["ENGINE_CONFIG"] = old


def rows(stack, sql, *args):
    db = history.connect(stack.data_dir)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def wait_until(check, timeout=20.0, what=""):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.1)


def gone(stack, execution_ids):
    marks = ",".join("?" * len(execution_ids))
    return rows(stack, f"SELECT count(*) FROM executions WHERE id IN ({marks})", *execution_ids)[0][0] == 0


def test_an_execution_past_retention_goes_with_its_events_stdin_files_and_artifacts(kept):
    fresh = kept.execute("print('kept')")
    # Written within retention, so the runner (looking every 200 ms) keeps
    # them while they are read; then aged past it in one write.
    sessions, old = history.write(kept.data_dir, 3, days_ago=0.5, session_days_ago=0)
    history_db = history.connect(kept.data_dir)
    history_db.execute("INSERT INTO execution_stdin (execution_id, seq, data, bytes) VALUES (?, 1, 'x', 1)", (old[0],))
    history_db.execute("INSERT INTO execution_files (execution_id, path, content) VALUES (?, 'data.csv', 'a')", (old[0],))
    history_db.execute("INSERT INTO execution_artifacts (execution_id, path, content_type, size, data) "
                       "VALUES (?, 'figure-1.png', 'image/png', 1, 'eA==')", (old[1],))
    assert kept.request("GET", f"/executions/{old[0]}")[0] == 200
    history_db.execute(f"UPDATE executions SET queued_at = queued_at - {history.DAY_MS}, "
                       f"started_at = started_at - {history.DAY_MS}, finished_at = finished_at - {history.DAY_MS} "
                       "WHERE id IN (?, ?, ?)", old)
    history_db.close()
    wait_until(lambda: gone(kept, old), what="executions past retention deleted")
    status, _, body = kept.request("GET", f"/executions/{old[0]}")
    assert (status, body["error"]["code"]) == (404, "NOT_FOUND")
    assert rows(kept, "SELECT count(*) FROM execution_events WHERE execution_id IN (?, ?, ?)", *old) == [(0,)]
    assert rows(kept, "SELECT count(*) FROM execution_stdin WHERE execution_id = ?", old[0]) == [(0,)]
    assert rows(kept, "SELECT count(*) FROM execution_files WHERE execution_id = ?", old[0]) == [(0,)]
    assert rows(kept, "SELECT count(*) FROM execution_artifacts WHERE execution_id = ?", old[1]) == [(0,)]
    # Its session was saved today: it stays, with an empty history.
    status, _, listed = kept.request("GET", f"/code-sessions/{sessions[0]}/executions")
    assert (status, listed["executions"]) == (200, [])
    assert kept.get_execution(fresh["execution_id"])["stdout"] == "kept\n"


def test_an_idle_session_goes_once_none_of_its_executions_is_kept(kept):
    idle, _ = history.write(kept.data_dir, 2, days_ago=1.5, session_days_ago=3, per_session=2)
    history_db = history.connect(kept.data_dir)
    history_db.execute("INSERT INTO session_files (session_id, path, content) VALUES (?, 'data.csv', 'a')", (idle[0],))
    history_db.close()
    busy, recent = history.write(kept.data_dir, 1, days_ago=0, session_days_ago=3)
    wait_until(lambda: rows(kept, "SELECT count(*) FROM sessions WHERE id = ?", idle[0]) == [(0,)],
               what="idle session deleted")
    status, _, body = kept.request("GET", f"/code-sessions/{idle[0]}")
    assert (status, body["error"]["code"]) == (404, "NOT_FOUND")
    assert rows(kept, "SELECT count(*) FROM session_files WHERE session_id = ?", idle[0]) == [(0,)]
    status, _, body = kept.request("PATCH", f"/code-sessions/{idle[0]}", {"source_code": "x"})
    assert status == 404
    # Not saved for 3 days either, but it ran today: its execution keeps it.
    time.sleep(1)
    assert kept.request("GET", f"/code-sessions/{busy[0]}")[0] == 200
    assert kept.request("GET", f"/executions/{recent[0]}")[0] == 200


def test_counters_outlive_the_rows_retention_deletes(kept):
    before = parse(scrape(kept)[1])
    _, old = history.write(kept.data_dir, 50, days_ago=2, session_days_ago=0)
    counted = parse(scrape(kept)[1])
    completed = {"status": "COMPLETED", "error_code": ""}
    assert (value(counted, "code_exec_executions_finished_total", **completed)
            - value(before, "code_exec_executions_finished_total", **completed)) == 50
    wait_until(lambda: gone(kept, old), what="executions past retention deleted")
    after = parse(scrape(kept)[1])
    for key, v in counted.items():
        if key[0].endswith(("_total", "_bucket", "_count", "_sum")) and "runner" not in key[0] \
                and "slot" not in key[0]:
            assert after.get(key) == v, key


def test_the_space_is_given_back_while_the_engine_serves(kept):
    db = f"{kept.data_dir}/engine.db"
    _, old = history.write(kept.data_dir, 2000, days_ago=2, session_days_ago=0, output_bytes=4000)
    grown = rows(kept, "PRAGMA page_count")[0][0]
    wait_until(lambda: gone(kept, old), what="executions past retention deleted")
    wait_until(lambda: rows(kept, "PRAGMA freelist_count") == [(0,)], what="free pages given back")
    assert rows(kept, "PRAGMA page_count")[0][0] < grown - 1500      # ~2000 pages of output went
    assert kept.execute("print(1)")["status"] == "COMPLETED"
    assert os.path.getsize(db) > 0


def test_a_store_file_from_before_is_switched_to_incremental_vacuum(own_stack):
    own_stack.execute("print('before')")
    own_stack.stop()
    db = sqlite3.connect(f"{own_stack.data_dir}/engine.db")
    db.execute("PRAGMA auto_vacuum = NONE")
    db.execute("VACUUM")
    assert db.execute("PRAGMA auto_vacuum").fetchone() == (0,)
    db.close()
    own_stack.start()
    assert own_stack.store_rows("PRAGMA auto_vacuum") == [(2,)]
    assert "switched to incremental vacuum" in open(own_stack.stderr_path, errors="replace").read()
    assert own_stack.execute("print('after')")["stdout"] == "after\n"
