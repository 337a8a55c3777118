"""Backup and restore (make backup / make restore, runner --backup / --restore):
a store filled through the API is backed up while clients keep autosaving
and running, the data directory is destroyed, the backup restored, and every
session and finished execution is there as it was; what was running at
backup time comes back QUEUED and runs. A restore refuses a data directory a
running engine uses."""

import os
import shutil
import sqlite3
import subprocess
import threading
import time

import pytest

import pg

from stack import REPO, Stack

BUILD = os.environ.get("BUILD", "build")
SLOW = "import time\ntime.sleep(3)\nprint('finished after the restore')\n"


def make(target, data_dir, backup):
    return subprocess.run(["make", "--no-print-directory", "-C", str(REPO), f"BUILD={BUILD}", target,
                           f"DATA_DIR={data_dir}", f"BACKUP={backup}"],
                          capture_output=True, text=True, timeout=120)


class Load(threading.Thread):
    """Autosaves and runs on sessions of its own until stopped; counts what the API answered."""

    def __init__(self, stack):
        super().__init__(daemon=True)
        self.stack, self.stop, self.answers = stack, threading.Event(), []
        self.sid = stack.create_session("print(0)")["session_id"]

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            status, _, _ = self.stack.request("PATCH", f"/code-sessions/{self.sid}",
                                              {"source_code": f"print({n})"})
            self.answers.append((time.monotonic(), status))
            if n % 10 == 0:
                status, _, _ = self.stack.run(self.sid)
                self.answers.append((time.monotonic(), status))


def fill(stack, sessions=12, runs_each=2):
    """Sessions with finished runs: {session_id: (source, [finished execution, ...])}."""
    out = {}
    for i in range(sessions):
        code = f"print('session {i}', input())\n"
        sid = stack.create_session(code)["session_id"]
        eids = [stack.run_ok(sid, stdin=f"run {k}\n") for k in range(runs_each)]
        out[sid] = (code, [stack.wait_terminal(e, timeout=60) for e in eids])
    return out


def wait_running(stack, eids, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(stack.get_execution(e)["status"] == "RUNNING" for e in eids):
            return
        time.sleep(0.05)
    raise AssertionError([stack.get_execution(e)["status"] for e in eids])


@pytest.fixture
def work(tmp_path):
    stack = Stack(data_dir=str(tmp_path / "data"))
    os.makedirs(stack.data_dir)
    if stack.store_url:
        pytest.fail("tests/test_backup.py runs on the SQLite store (make api)")
    try:
        yield stack, tmp_path
    finally:
        stack.cleanup()


def test_backup_under_load_restores_every_session_and_requeues_what_was_running(work):
    stack, tmp = work
    stack.start()
    filled = fill(stack)
    slow_sid = stack.create_session(SLOW)["session_id"]
    in_flight = [stack.run_ok(slow_sid) for _ in range(2)]
    wait_running(stack, in_flight)
    load = Load(stack)
    load.start()
    time.sleep(0.5)
    began = time.monotonic()
    backup = tmp / "engine.backup"
    made = make("backup", stack.data_dir, backup)
    ended = time.monotonic()
    time.sleep(0.3)
    load.stop.set()
    load.join(10)
    assert made.returncode == 0, made.stdout + made.stderr
    assert f"backed up {stack.data_dir} to {backup}" in made.stdout
    assert oct(os.stat(backup).st_mode & 0o777) == "0o600"
    during = [s for t, s in load.answers if began <= t <= ended]
    # The service kept serving: every request during the backup was answered as
    # usual (429: the load's session has its 5 runs in flight).
    assert during and set(during) <= {200, 202, 429} and 200 in during, during

    # A running engine's data directory is not overwritten.
    refused = make("restore", stack.data_dir, backup)
    assert refused.returncode != 0
    assert f"{stack.data_dir} is in use: a running engine answers on" in refused.stderr, refused.stderr
    assert stack.request("GET", "/health")[0] == 200

    stack.stop()
    shutil.rmtree(stack.data_dir)
    copy = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    running = dict(copy.execute("SELECT id, status FROM executions WHERE status = 'RUNNING'"))
    copy.close()
    assert set(in_flight) <= set(running), running   # and the load's runs that had started
    restored = make("restore", stack.data_dir, backup)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert f"{len(running)} execution(s) running at backup time queued again" in restored.stdout
    db = sqlite3.connect(os.path.join(stack.data_dir, "engine.db"))
    states = dict(db.execute("SELECT id, status FROM executions WHERE session_id = ?", (slow_sid,)))
    db.close()
    assert states == {e: "QUEUED" for e in in_flight}

    stack.start()
    for sid, (code, executions) in filled.items():
        status, _, session = stack.request("GET", f"/code-sessions/{sid}")
        assert (status, session["source_code"]) == (200, code)
        for before in executions:
            assert stack.get_execution(before["execution_id"]) == before
    for eid in in_flight:
        after = stack.wait_terminal(eid, timeout=60)
        assert (after["status"], after["stdout"]) == ("COMPLETED", "finished after the restore\n"), after
    stack.stop()


def test_backup_refuses_to_overwrite_a_file_and_restore_a_missing_one(work):
    stack, tmp = work
    stack.start()
    existing = tmp / "taken"
    existing.write_text("keep me")
    made = make("backup", stack.data_dir, existing)
    assert made.returncode != 0 and f"{existing} exists: name a new file" in made.stderr, made.stderr
    assert existing.read_text() == "keep me"
    stack.stop()
    missing = make("restore", stack.data_dir, tmp / "nothing")
    assert missing.returncode != 0 and "No such file or directory" in missing.stderr, missing.stderr


def test_postgresql_store_backs_up_with_pg_dump_and_restores_into_a_new_database(tmp_path):
    """The same on the PostgreSQL store: pg_dump while it serves, pg_restore
    into a new database (the old server lost), what was running queued again."""
    server = pg.PgServer().start()
    stack = Stack(data_dir=str(tmp_path / "data"), store_url=server.new_database())
    os.makedirs(stack.data_dir)
    again = None
    try:
        stack.start()
        filled = fill(stack, sessions=3, runs_each=1)
        slow_sid = stack.create_session(SLOW)["session_id"]
        in_flight = stack.run_ok(slow_sid)
        wait_running(stack, [in_flight])
        backup = tmp_path / "engine.pgdump"
        env = dict(os.environ, DATA_DIR=stack.data_dir, ENGINE_STORE=stack.store_url)
        runner = [str(REPO / BUILD / "runner"), "--config", str(REPO / "conf" / "engine.conf")]
        made = subprocess.run(runner + ["--backup", str(backup)], env=env, capture_output=True, text=True)
        assert made.returncode == 0 and "backed up the PostgreSQL store to" in made.stdout, made
        refused = subprocess.run(runner + ["--restore", str(backup)], env=env, capture_output=True, text=True)
        assert refused.returncode == 1 and "is in use: a running engine answers on" in refused.stderr, refused
        stack.stop()

        again = Stack(data_dir=str(tmp_path / "new-data"), store_url=server.new_database())
        os.makedirs(again.data_dir)
        env = dict(os.environ, DATA_DIR=again.data_dir, ENGINE_STORE=again.store_url)
        restored = subprocess.run(runner + ["--restore", str(backup)], env=env, capture_output=True, text=True)
        assert restored.returncode == 0, restored
        assert "1 execution(s) running at backup time queued again" in restored.stdout, restored
        again.start()
        for sid, (code, executions) in filled.items():
            assert again.request("GET", f"/code-sessions/{sid}")[2]["source_code"] == code
            for before in executions:
                assert again.get_execution(before["execution_id"]) == before
        after = again.wait_terminal(in_flight, timeout=60)
        assert (after["status"], after["stdout"]) == ("COMPLETED", "finished after the restore\n"), after
        again.stop()
    finally:
        stack.cleanup()
        if again:
            again.cleanup()
        server.cleanup()
