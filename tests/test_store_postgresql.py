"""The PostgreSQL store's own behaviour (the API, contract and bad-input
suites run on it too: make api-pg). These tests start a PostgreSQL server of
their own (tests/pg.py), so stopping it disturbs no other stack."""

import os
import signal
import subprocess
import time

import pytest

import pg
from stack import REPO, Stack, assert_error, comm_of, free_port, running


@pytest.fixture(scope="module")
def pg_server():
    server = pg.PgServer().start()
    yield server
    server.cleanup()


@pytest.fixture
def pg_stack(pg_server):
    """A stack on a fresh database of the module's server (running again
    if a test stopped it)."""
    if not pg_server.running:
        pg_server.start()
    for s in running(Stack(store_url=pg_server.new_database())):
        yield pg_server, s


def test_store_is_the_postgresql_database(pg_stack):
    server, stack = pg_stack
    sid = stack.create_session("print(1)\n")["session_id"]
    assert stack.store_rows(f"SELECT language FROM sessions WHERE id = '{sid}'") == [("python",)]


def test_requests_answer_503_while_postgresql_is_down_and_recover_after(pg_stack):
    server, stack = pg_stack
    session = stack.create_session("print('before')\n")
    sid = session["session_id"]
    assert stack.execute("print('before')\n")["stdout"] == "before\n"

    server.stop()
    for method, path, body in (("GET", f"/code-sessions/{sid}", None),
                               ("PATCH", f"/code-sessions/{sid}", {"source_code": "x = 1\n"}),
                               ("POST", f"/code-sessions/{sid}/run", None)):
        resp = stack.request(method, path, body)
        assert_error(resp, 503, "STORE_UNAVAILABLE")
        assert resp[1].get("Retry-After") == "1", (method, path, resp)

    server.start()
    status, _, body = stack.request("GET", f"/code-sessions/{sid}")
    assert status == 200 and body["source_code"] == "print('before')\n"
    # The runner reconnects too: a run made now completes.
    assert stack.execute("print('after')\n")["stdout"] == "after\n"


def test_a_result_ready_while_postgresql_is_down_is_written_when_it_is_back(pg_stack):
    """The runner keeps the result of the attempt it ran and writes it once
    the server is back (within the lease), instead of running it again."""
    server, stack = pg_stack
    sid = stack.create_session("import time\ntime.sleep(1)\nprint('held')\n")["session_id"]
    eid = stack.run_ok(sid)
    deadline = time.monotonic() + 20
    while stack.get_execution(eid)["status"] != "RUNNING":
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.05)
    server.stop()
    time.sleep(2)           # the run ends and its result write fails meanwhile
    server.start()
    done = stack.wait_terminal(eid)
    assert (done["status"], done["stdout"], done["attempt"]) == ("COMPLETED", "held\n", 1), done


def test_column_enums_name_the_columns_on_postgresql(pg_server):
    """The unit test of store_columns.h's enums, on a PostgreSQL database:
    every column list reads the same by position in both dialects."""
    if not pg_server.running:
        pg_server.start()
    unit = REPO / os.environ.get("BUILD", "build") / "unit_tests"
    env = dict(os.environ, ENGINE_STORE=pg_server.new_database())
    done = subprocess.run([str(unit), "store_column_enums_name_the_columns_in_order"], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
    assert done.returncode == 0 and "1 passed, 0 skipped, 0 failed" in done.stdout, done.stdout


def test_hosts_elsewhere_connect_over_tls_with_a_password():
    """The store URL a runner or web host on another machine uses: TCP,
    sslmode=verify-full against the server's self-signed certificate, a
    password (scram-sha-256); the server refuses TCP without TLS."""
    server = pg.PgServer(listen="127.0.0.1", port=free_port()).start()
    try:
        name = server.new_database_name()
        for stack in running(Stack(store_url=server.tcp_url(name))):
            assert stack.execute("print('over tls')\n")["stdout"] == "over tls\n"
            rows = server.psql(
                "SELECT count(*) FILTER (WHERE s.ssl), count(*) FROM pg_stat_ssl s "
                f"JOIN pg_stat_activity a USING (pid) WHERE a.datname = '{name}' "
                "AND a.application_name LIKE 'engine-%'")
            encrypted, total = map(int, rows.split("|"))
            assert total >= 3 and encrypted == total, rows
        plain = subprocess.run(
            [f"{pg.PG_BIN}/psql", "-XAtqc", "SELECT 1",
             f"postgresql://{pg.PG_USER}:{server.password}@127.0.0.1:{server.port}/{name}?sslmode=disable"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert plain.returncode != 0 and "pg_hba.conf rejects connection" in plain.stdout, plain.stdout
    finally:
        server.cleanup()


def test_runners_hear_of_a_run_through_the_store(pg_server, tmp_path, monkeypatch):
    """Web hosts tell runners on any host of a Run with NOTIFY: with idle
    slots looking at the queue only once a minute, a run still starts at
    once."""
    if not pg_server.running:
        pg_server.start()
    config = tmp_path / "engine.conf"
    config.write_text((REPO / "conf" / "engine.conf").read_text() + "sweep_interval_ms = 60000\n"
                      f"languages_file = {REPO / 'conf' / 'languages.conf'}\n")
    monkeypatch.setenv("ENGINE_CONFIG", str(config))
    for stack in running(Stack(store_url=pg_server.new_database())):
        time.sleep(0.5)     # every slot is idle, waiting
        done = stack.execute("print('woken')\n", timeout=10)
        assert done["stdout"] == "woken\n", done
        eid = done["execution_id"]
        [(waited,)] = stack.store_rows(f"SELECT started_at - queued_at FROM executions WHERE id = '{eid}'")
        assert int(waited) < 1000, waited


def test_concurrent_puts_of_one_test_suite_each_get_a_version(pg_stack):
    """Each PUT reads the last version and writes the next one, in a write
    transaction (the advisory lock): 60 from 12 clients through 4 processes
    get versions 1..60. (Without the lock two could read the same version
    and one answer 503; this load does not force that interleaving.)"""
    from concurrent.futures import ThreadPoolExecutor
    _, stack = pg_stack
    body = {"cases": [{"name": "one", "stdin": "", "expected_stdout": "1\n", "hidden": False}],
            "compare": "exact"}

    def put(_):
        status, _, doc = stack.request("PUT", "/test-suites/raced", body)
        return status, doc.get("version") if isinstance(doc, dict) else doc
    with ThreadPoolExecutor(12) as ex:
        replies = list(ex.map(put, range(60)))
    assert sorted(replies) == [(200, v) for v in range(1, 61)], replies


def test_a_submissions_cases_never_run_more_at_once_than_the_cap(pg_server, tmp_path, monkeypatch):
    """Eight slots, each claiming on its own connection, and a suite of
    eight cases that sleep 0.3 s with submission_parallel_cases = 2: the
    slots that wake together when a case ends all count two running in
    their snapshots, but the cases' programs, timed by themselves on
    stderr, never run three at once (a claim over the cap is given back).
    The programs' own times, not the rows' started_at and finished_at:
    those are the runner's clock before its claim and before its result,
    and on a busy host a claim that waited for a result's commit reads as
    an overlap it never had."""
    import json
    from test_auth import write_config
    from test_grading import put_suite, suite_body, case, submit, wait_submission
    monkeypatch.setenv("ENGINE_CONFIG", str(write_config(tmp_path, ["runner_slots = 8",
                                                                    "submission_parallel_cases = 2"])))
    for stack in running(Stack(store_url=pg_server.new_database())):
        put_suite(stack, "sleepy", suite_body(*[case(f"c{i}", "", "ok\n") for i in range(8)]))
        for _ in range(3):
            sid = stack.create_session("import sys, time\nprint(time.time(), file=sys.stderr, flush=True)\n"
                                       "time.sleep(0.3)\nprint(time.time(), file=sys.stderr)\n"
                                       "print('ok')\n")["session_id"]
            sub = wait_submission(stack, submit(stack, sid, "sleepy"))
            assert [c["verdict"] for c in sub["cases"]] == ["ACCEPTED"] * 8, json.dumps(sub)
            # stderr is bytea on PostgreSQL: its text form is \x and hex.
            rows = [tuple(map(float, bytes.fromhex(err[2:]).decode().split())) for (err,) in stack.store_rows(
                f"SELECT stderr FROM executions WHERE submission_id = '{sub['submission_id']}'")]
            assert len(rows) == 8 and all(len(r) == 2 for r in rows), rows
            edges = sorted([(a, 1) for a, _ in rows] + [(b, -1) for _, b in rows])
            depth, deepest = 0, 0
            for _, step in edges:
                depth += step
                deepest = max(deepest, depth)
            assert deepest == 2, rows


def test_metrics_answer_store_up_0_while_postgresql_is_down(pg_stack):
    server, stack = pg_stack
    assert "code_exec_store_up 1\n" in stack.request("GET", "/metrics")[2]
    server.stop()
    try:
        status, _, body = stack.request("GET", "/metrics")
        assert status == 200 and "code_exec_store_up 0\n" in body
        assert "code_exec_executions_accepted_total" not in body and "code_exec_data_dir_available_bytes" in body
    finally:
        server.start()
    assert "code_exec_store_up 1\n" in stack.request("GET", "/metrics")[2]


def test_retention_deletes_on_postgresql_and_the_counters_stay(pg_server, tmp_path, monkeypatch):
    """The purge statements in PostgreSQL's dialect: an execution finished 3
    days ago goes with its events, its session (not saved for 3 days) after
    it; the finished counter keeps it."""
    config = tmp_path / "engine.conf"
    config.write_text((REPO / "conf" / "engine.conf").read_text()
                      + "execution_retention_days = 1\nsession_idle_days = 1\nretention_interval_ms = 200\n"
                      + f"languages_file = {REPO / 'conf' / 'languages.conf'}\n")
    monkeypatch.setenv("ENGINE_CONFIG", str(config))
    if not pg_server.running:
        pg_server.start()
    for stack in running(Stack(store_url=pg_server.new_database())):
        done = stack.execute("print('old')")
        eid, sid = done["execution_id"], done["session_id"]
        counted = pg.query_rows(stack.store_url, "SELECT sum(value) FROM metric_counts WHERE name = 'finished'")
        pg.query_rows(stack.store_url, f"UPDATE executions SET finished_at = finished_at - 3 * 86400000 "
                                       f"WHERE id = '{eid}' RETURNING id")
        pg.query_rows(stack.store_url, f"UPDATE sessions SET updated_at = updated_at - 3 * 86400000 "
                                       f"WHERE id = '{sid}' RETURNING id")
        deadline = time.monotonic() + 15
        while stack.request("GET", f"/code-sessions/{sid}")[0] != 404:
            assert time.monotonic() < deadline, "the idle session was not deleted"
            time.sleep(0.2)
        assert stack.request("GET", f"/executions/{eid}")[0] == 404
        assert pg.query_rows(stack.store_url, f"SELECT count(*) FROM execution_events "
                                              f"WHERE execution_id = '{eid}'") == [("0",)]
        assert pg.query_rows(stack.store_url, "SELECT sum(value) FROM metric_counts "
                                              "WHERE name = 'finished'") == counted


PG_WRITE_LOCK = 7306117012466131        # common/store_pg_sql.c


LOCK_HOLDER = "engine-test-lock-holder"


def hold_write_lock(stack, seconds):
    """A psql session that holds the store-wide write lock of the stack's
    database for `seconds`, returned once the lock is held (as a Run's
    insert or a sweep holds it). End it with release()."""
    holder = subprocess.Popen([f"{pg.PG_BIN}/psql", "-XAtq", "-d", stack.store_url, "-c",
                               f"SET application_name = '{LOCK_HOLDER}'; BEGIN; "
                               f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK}); "
                               f"SELECT pg_sleep({seconds}); COMMIT"], stdout=subprocess.DEVNULL)
    held = ("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            f"WHERE l.locktype = 'advisory' AND l.granted AND l.objid = {PG_WRITE_LOCK % 2**32} "
            f"AND a.application_name = '{LOCK_HOLDER}' AND a.datname = current_database()")
    deadline = time.monotonic() + 5
    while stack.store_rows(held) != [("1",)]:
        if time.monotonic() > deadline:
            release(stack, holder)
            raise AssertionError("the lock was never taken")
        time.sleep(0.02)
    return holder


def release(stack, holder):
    """Ends the holder's session on the server too: a killed psql leaves its
    backend asleep in pg_sleep, holding the lock, until the sleep ends."""
    holder.kill()
    holder.wait()
    stack.store_rows(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     f"WHERE application_name = '{LOCK_HOLDER}' AND datname = current_database()")


def test_a_runs_output_and_result_commit_while_the_write_lock_is_held(pg_stack):
    """A runner's event batches and its result are fenced by the execution's
    runner id and attempt, so they take no store-wide lock: a run ends, with
    its output stored, while another transaction (a Run's insert, a sweep)
    holds the write lock. Before, they waited for it and the result came
    only once the lock was free."""
    server, stack = pg_stack
    sid = stack.create_session("import time\ntime.sleep(1)\nprint('fenced')\n")["session_id"]
    eid = stack.run_ok(sid)
    holder = hold_write_lock(stack, 8)
    try:
        done = stack.wait_terminal(eid, timeout=6)
        assert holder.poll() is None, "the run ended only once the lock was free"
        assert (done["status"], done["stdout"], done["attempt"]) == ("COMPLETED", "fenced\n", 1), done
        # The output's events were stored too (in one chunk or more).
        [(stdout_hex,)] = stack.store_rows(
            "SELECT encode(string_agg(data, ''::bytea ORDER BY event_id), 'hex') FROM execution_events "
            f"WHERE execution_id = '{eid}' AND kind = 'stdout'")
        assert bytes.fromhex(stdout_hex) == b"fenced\n", stdout_hex
    finally:
        release(stack, holder)


def test_a_run_far_from_the_queue_cap_is_accepted_while_the_write_lock_is_held(pg_stack):
    """A Run locks its session's row, not the store: with the queue far
    below max_queue_depth it is accepted while another transaction holds
    the write lock (before, it waited lock_timeout and answered 503)."""
    server, stack = pg_stack
    sid = stack.create_session("print('accepted')\n")["session_id"]
    holder = hold_write_lock(stack, 8)
    try:
        status, _, body = stack.request("POST", f"/code-sessions/{sid}/run")
        assert (status, holder.poll()) == (202, None), body
        done = stack.wait_terminal(body["execution_id"], timeout=6)
        assert (done["status"], done["stdout"]) == ("COMPLETED", "accepted\n"), done
    finally:
        release(stack, holder)


def test_the_queue_cap_holds_for_runs_sent_at_once(pg_server, tmp_path, monkeypatch):
    """Near max_queue_depth a Run takes the write lock and counts again: 30
    Runs of 30 sessions sent at once through the pool to a queue of at most
    10 (its runner stopped) leave exactly 10 queued, the others 503 QUEUE_FULL."""
    from concurrent.futures import ThreadPoolExecutor
    from test_auth import write_config
    monkeypatch.setenv("ENGINE_CONFIG", str(write_config(tmp_path, ["max_queue_depth = 10"])))
    if not pg_server.running:
        pg_server.start()
    for stack in running(Stack(store_url=pg_server.new_database())):
        sids = [stack.create_session("print(1)\n")["session_id"] for _ in range(30)]
        runners = [pid for pid, _ in stack.descendants() if comm_of(pid) == "runner"]
        for pid in runners:
            os.kill(pid, signal.SIGSTOP)
        try:
            def run(sid):
                status, _, body = stack.request("POST", f"/code-sessions/{sid}/run")
                return status, body["error"]["code"] if status != 202 else None
            with ThreadPoolExecutor(30) as ex:
                replies = list(ex.map(run, sids))
            assert sorted(replies, key=str) == [(202, None)] * 10 + [(503, "QUEUE_FULL")] * 20, replies
            assert stack.store_rows("SELECT count(*) FROM executions WHERE status = 'QUEUED'") == [("10",)]
        finally:
            for pid in runners:
                os.kill(pid, signal.SIGCONT)

