"""The queue without a runner, backpressure, and a graceful runner stop."""

import signal
import sqlite3
import time

import pytest

from components import Components


def count_executions(comp):
    db = sqlite3.connect(f"{comp.data_dir}/engine.db", timeout=10)
    try:
        return db.execute("SELECT count(*) FROM executions").fetchone()[0]
    finally:
        db.close()


def new_session(comp, code):
    status, body = comp.request("POST", "/code-sessions",
                                {"language": "python", "template_code": code})
    assert status == 201
    return body["session_id"]


@pytest.fixture
def no_runner():
    """lighttpd and the pool only, with a queue of at most 3."""
    c = Components({"max_queue_depth": 3, "max_runs_per_session": 10})
    try:
        c.start_lighttpd()
        yield c
    finally:
        c.cleanup()


def test_health_is_503_without_a_runner(no_runner):
    status, body = no_runner.request("GET", "/health")
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["db"] == "ok"
    assert body["runners_alive"] == 0


def test_runs_wait_queued_until_a_runner_starts(no_runner):
    sid = new_session(no_runner, "print('late')")
    status, run = no_runner.request("POST", f"/code-sessions/{sid}/run")
    assert status == 202
    time.sleep(1.0)
    status, body = no_runner.request("GET", f"/executions/{run['execution_id']}")
    assert (status, body["status"], body["attempt"]) == (200, "QUEUED", 0)
    no_runner.start_runner()
    done, pending = no_runner.wait_terminal([run["execution_id"]], 15)
    assert not pending
    assert done[run["execution_id"]]["stdout"] == "late\n"
    assert done[run["execution_id"]]["status"] == "COMPLETED"


def test_full_queue_refuses_with_503_and_writes_nothing(no_runner):
    sid = new_session(no_runner, "print(1)")
    for _ in range(3):
        assert no_runner.request("POST", f"/code-sessions/{sid}/run")[0] == 202
    before = count_executions(no_runner)
    conn_status, body = no_runner.request("POST", f"/code-sessions/{sid}/run")
    assert conn_status == 503
    assert body["error"]["code"] == "QUEUE_FULL"
    assert count_executions(no_runner) == before == 3


def test_full_queue_sends_retry_after(no_runner):
    import http.client
    sid = new_session(no_runner, "print(1)")
    for _ in range(3):
        no_runner.request("POST", f"/code-sessions/{sid}/run")
    conn = http.client.HTTPConnection("127.0.0.1", no_runner.port, timeout=10)
    conn.request("POST", f"/code-sessions/{sid}/run", body=b"")
    resp = conn.getresponse()
    resp.read()
    conn.close()
    assert resp.status == 503
    assert resp.getheader("Retry-After") == "2"


@pytest.fixture
def comp():
    c = Components()
    try:
        yield c.start()
    finally:
        c.cleanup()


def test_sigterm_lets_a_running_execution_finish(comp):
    sid = new_session(comp, "import time\nprint('start', flush=True)\ntime.sleep(1.5)\nprint('end')")
    status, run = comp.request("POST", f"/code-sessions/{sid}/run")
    assert status == 202
    eid = run["execution_id"]
    deadline = time.monotonic() + 10
    while comp.request("GET", f"/executions/{eid}")[1]["status"] != "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert comp.kill_runner(signal.SIGTERM) == 0
    status, body = comp.request("GET", f"/executions/{eid}")
    assert body["status"] == "COMPLETED"
    assert body["stdout"] == "start\nend\n"
    assert body["attempt"] == 1
    status, health = comp.request("GET", "/health")
    assert status == 503 and health["runners_alive"] == 0


def test_health_reports_the_runner_and_the_queue(comp):
    status, body = comp.request("GET", "/health")
    assert status == 200
    assert body["status"] == "ok"
    assert body["runners_alive"] == 1
    runner = body["runners"][0]
    assert runner["pid"] == comp.runner.pid
    assert runner["slots"] >= 1 and runner["busy"] == 0
    assert 0 <= runner["heartbeat_age_ms"] < 5000
    assert body["queue_depth"] == 0 and body["oldest_queued_age_ms"] is None
