"""Per-learner quotas and the fair queue, against the real stack.

Each quota over its limit is a 429 with Retry-After and the code naming
it, as conf/openapi.json documents; a refused request writes nothing; the
counts live in the store, so requests spread over the whole fcgi_app pool
at once are held to the same limit. With one runner slot, a learner's run
is claimed before another learner's backlog queued earlier. With auth =
none, a learner is a client address. Runs on PostgreSQL too (make api-pg).
"""

import http.client
import json
import threading
import time

import pytest

import pg
from components import Components
from stack import http_call
from test_auth import bearer, hs256, secret_file, stack_with, write_config, ISSUER, AUDIENCE
from test_contract import SPEC, check_reply

RUNS_PER_MINUTE, CONCURRENT, SESSIONS_PER_HOUR, SOURCE_BYTES = 4, 3, 3, 1000
SLEEP = "import time\ntime.sleep(30)\n"
ROUNDS = 30


@pytest.fixture(scope="module")
def qstack(tmp_path_factory):
    """auth = token (a learner is a sub), small quotas, one runner slot."""
    tmp = tmp_path_factory.mktemp("quota")
    lines = ["auth = token", f"auth_hs256_secret_file = {secret_file(tmp)}",
             f"auth_issuer = {ISSUER}", f"auth_audience = {AUDIENCE}", "runner_slots = 1",
             f"quota_runs_per_minute = {RUNS_PER_MINUTE}", f"quota_concurrent_runs = {CONCURRENT}",
             f"quota_sessions_per_hour = {SESSIONS_PER_HOUR}", f"quota_source_bytes = {SOURCE_BYTES}"]
    s = stack_with(write_config(tmp, lines))
    s.config_lines = lines
    yield s
    s.stop()
    s.cleanup()


class Learner:
    """One sub's calls to the stack."""

    def __init__(self, stack, sub):
        self.stack, self.sub, self.headers = stack, sub, bearer(hs256(sub=sub))

    def call(self, method, path, body=None):
        return self.stack.request(method, path, body, headers=self.headers)

    def session(self, code="print(1)\n"):
        status, _, body = self.call("POST", "/code-sessions", {"language": "python", "template_code": code})
        assert status == 201, body
        return body["session_id"]

    def run(self, sid):
        status, _, body = self.call("POST", f"/code-sessions/{sid}/run")
        assert status == 202, body
        return body["execution_id"]

    def cancel(self, eid):
        assert self.call("POST", f"/executions/{eid}/cancel", {})[0] == 202

    def status(self, eid):
        status, _, body = self.call("GET", f"/executions/{eid}")
        assert status == 200, body
        return body

    def finished(self, eid, timeout=30.0):
        deadline = time.monotonic() + timeout
        while (ex := self.status(eid))["status"] not in ("COMPLETED", "FAILED", "TIMEOUT"):
            assert time.monotonic() < deadline, ex
            time.sleep(0.02)
        return ex

    def rows(self, table):
        return int(self.stack.store_rows(f"SELECT count(*) FROM {table} WHERE learner = '{self.sub}'")[0][0])


def operation(op_id):
    return next(op for item in SPEC["paths"].values() for op in item.values()
                if isinstance(op, dict) and op.get("operationId") == op_id)


def assert_429(resp, code, op_id, retry_range):
    """The refusal as documented: status, code, Retry-After within retry_range (seconds)."""
    status, headers, body = resp
    assert (status, body["error"]["code"]) == (429, code), body
    assert retry_range[0] <= int(headers["Retry-After"]) <= retry_range[1], headers["Retry-After"]
    check_reply(operation(op_id), resp, "429")


# ---- each quota ----------------------------------------------------------------

def test_concurrent_runs_over_the_quota_are_refused_and_write_nothing(qstack):
    a = Learner(qstack, "q-concurrent")
    sids = [a.session(SLEEP) for _ in range(2)]
    eids = [a.run(sids[0]), a.run(sids[0]), a.run(sids[1])]
    before = a.rows("executions")
    assert_429(a.call("POST", f"/code-sessions/{sids[1]}/run"), "CONCURRENT_RUNS_LIMITED", "runSession", (1, 1))
    assert_429(a.call("POST", f"/code-sessions/{sids[1]}/check"), "CONCURRENT_RUNS_LIMITED", "checkSession", (1, 1))
    assert a.rows("executions") == before == 3
    # Another learner is not held by this one's runs.
    b = Learner(qstack, "q-concurrent-other")
    other = b.run(b.session())
    b.cancel(other)
    b.finished(other)
    # A run that ends frees its place.
    a.cancel(eids[0])
    a.finished(eids[0])
    eids.append(a.run(sids[1]))
    for eid in eids[1:]:
        a.cancel(eid)
        a.finished(eid)


def test_runs_per_minute_over_the_quota_are_refused_until_the_oldest_is_a_minute_old(qstack):
    a = Learner(qstack, "q-rate")
    sid = a.session()
    for _ in range(RUNS_PER_MINUTE):
        a.cancel(a.run(sid))     # cancelled: no longer in flight, still started this minute
    before = a.rows("executions")
    assert_429(a.call("POST", f"/code-sessions/{sid}/run"), "RUN_RATE_LIMITED", "runSession", (50, 60))
    assert a.rows("executions") == before == RUNS_PER_MINUTE


def test_a_submission_counts_as_one_run_however_many_cases_it_has(qstack):
    grader = {"Authorization": "Bearer " + hs256(sub="q-grader", scope="grader")}
    suite = {"cases": [{"name": f"c{i}", "stdin": "", "expected_stdout": "1\n"} for i in range(3)]}
    assert qstack.request("PUT", "/test-suites/quota-three", suite, headers=grader)[0] == 200
    a = Learner(qstack, "q-submit")
    sid = a.session()
    status, _, sub = a.call("POST", f"/code-sessions/{sid}/submit", {"suite_id": "quota-three"})
    assert status == 202, sub
    for _ in range(RUNS_PER_MINUTE - 1):
        a.cancel(a.run(sid))
    submissions = int(qstack.store_rows("SELECT count(*) FROM submissions")[0][0])
    assert_429(a.call("POST", f"/code-sessions/{sid}/submit", {"suite_id": "quota-three"}),
               "RUN_RATE_LIMITED", "submitSession", (50, 60))
    assert_429(a.call("POST", f"/code-sessions/{sid}/run"), "RUN_RATE_LIMITED", "runSession", (50, 60))
    assert int(qstack.store_rows("SELECT count(*) FROM submissions")[0][0]) == submissions
    assert a.rows("executions") == 3 + RUNS_PER_MINUTE - 1


def test_sessions_per_hour_over_the_quota_are_refused(qstack):
    a = Learner(qstack, "q-sessions")
    for _ in range(SESSIONS_PER_HOUR):
        a.session()
    assert_429(a.call("POST", "/code-sessions", {"language": "python"}), "SESSION_RATE_LIMITED",
               "createSession", (3500, 3600))
    assert a.rows("sessions") == SESSIONS_PER_HOUR


def test_stored_source_over_the_quota_is_refused_and_shrinking_is_always_allowed(qstack):
    a = Learner(qstack, "q-source")
    first = a.session("#" * 600)
    assert_429(a.call("POST", "/code-sessions", {"language": "python", "template_code": "#" * 401}),
               "SOURCE_QUOTA_EXCEEDED", "createSession", (60, 60))
    second = a.session("#" * 400)                   # exactly the quota, all sessions together
    assert_429(a.call("PATCH", f"/code-sessions/{first}", {"source_code": "#" * 601}),
               "SOURCE_QUOTA_EXCEEDED", "updateSession", (60, 60))
    status, _, body = a.call("GET", f"/code-sessions/{first}")
    assert (status, body["source_code"]) == (200, "#" * 600)
    assert a.call("PATCH", f"/code-sessions/{second}", {"source_code": "#" * 100})[0] == 200
    assert a.call("PATCH", f"/code-sessions/{first}", {"source_code": "#" * 900})[0] == 200
    assert a.rows("sessions") == 2


def test_a_sessions_files_count_against_the_source_quota(qstack):
    a = Learner(qstack, "q-files")
    status, _, body = a.call("POST", "/code-sessions", {"language": "python", "files": [
        {"path": "main.py", "content": "#" * 300}, {"path": "data.csv", "content": "#" * 300}]})
    assert status == 201, body
    sid = body["session_id"]
    assert_429(a.call("PUT", f"/code-sessions/{sid}/files/more.txt", {"content": "#" * 401}),
               "SOURCE_QUOTA_EXCEEDED", "putSessionFile", (60, 60))
    assert a.call("PUT", f"/code-sessions/{sid}/files/more.txt", {"content": "#" * 400})[0] == 200
    assert_429(a.call("PATCH", f"/code-sessions/{sid}", {"source_code": "#" * 301}),
               "SOURCE_QUOTA_EXCEEDED", "updateSession", (60, 60))
    assert a.call("DELETE", f"/code-sessions/{sid}/files/data.csv")[0] == 204
    assert a.call("PATCH", f"/code-sessions/{sid}", {"source_code": "#" * 600})[0] == 200
    assert int(qstack.store_rows(f"SELECT source_bytes FROM sessions WHERE id = '{sid}'")[0][0]) == 1000


# ---- the pool ------------------------------------------------------------------

def at_once(n, fn):
    """fn() from n threads released together; the replies' statuses."""
    barrier, out = threading.Barrier(n), [None] * n

    def one(i):
        barrier.wait()
        out[i] = fn()[0]
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(out)


def test_sessions_created_at_once_through_the_whole_pool_get_exactly_the_quota(qstack):
    a = Learner(qstack, "q-pool-sessions")
    got = at_once(12, lambda: a.call("POST", "/code-sessions", {"language": "python"}))
    assert got == [201] * SESSIONS_PER_HOUR + [429] * (12 - SESSIONS_PER_HOUR)
    assert a.rows("sessions") == SESSIONS_PER_HOUR


def test_autosaves_of_several_sessions_at_once_stay_within_the_source_quota(qstack):
    """Autosaves of different sessions do not wait for each other, but those
    that grow one learner's source take turns: of three sessions of 100
    bytes each grown to 400 at once, two fit the 1000 and the third is 429,
    round after round (each round shrinks them back first)."""
    a = Learner(qstack, "q-pool-source")
    sids = [a.session("#" * 100) for _ in range(3)]
    for _ in range(ROUNDS):
        for sid in sids:
            assert a.call("PATCH", f"/code-sessions/{sid}", {"source_code": "#" * 100})[0] == 200
        barrier, got = threading.Barrier(3), [None] * 3

        def one(i):
            barrier.wait()
            got[i] = a.call("PATCH", f"/code-sessions/{sids[i]}", {"source_code": "#" * 400})[0]
        threads = [threading.Thread(target=one, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(got) == [200, 200, 429]
        total = qstack.store_rows("SELECT sum(source_bytes) FROM sessions WHERE learner = 'q-pool-source'")
        assert int(total[0][0]) == 900


def test_runs_sent_at_once_through_the_whole_pool_get_exactly_the_quota(qstack):
    a = Learner(qstack, "q-pool-runs")
    sid = a.session(SLEEP)
    got = at_once(12, lambda: a.call("POST", f"/code-sessions/{sid}/run"))
    assert got == [202] * CONCURRENT + [429] * (12 - CONCURRENT)
    eids = [r[0] for r in qstack.store_rows(
        "SELECT id FROM executions WHERE learner = 'q-pool-runs'")]
    assert len(eids) == CONCURRENT
    for eid in eids:
        a.cancel(eid)
        a.finished(eid)


@pytest.mark.skipif(not pg.enabled(), reason="web hosts share a store on PostgreSQL: make api-pg runs this")
def test_a_second_web_host_on_the_same_store_is_held_to_the_same_quota(qstack):
    """Another lighttpd and fcgi_app pool, with a data directory of its own, on the same database."""
    other = Components(dict(line.split(" = ", 1) for line in qstack.config_lines + [f"store = {qstack.store_url}"]))
    try:
        other.start_lighttpd()
        a = Learner(qstack, "q-two-hosts")
        body = {"language": "python"}
        on_other = lambda: http_call(other.port, "POST", "/code-sessions", body, headers=a.headers)
        for _ in range(SESSIONS_PER_HOUR - 1):
            a.session()
        assert on_other()[0] == 201
        assert_429(on_other(), "SESSION_RATE_LIMITED", "createSession", (3500, 3600))
        assert_429(a.call("POST", "/code-sessions", body), "SESSION_RATE_LIMITED", "createSession", (3500, 3600))
        assert a.rows("sessions") == SESSIONS_PER_HOUR
    finally:
        other.cleanup()


# ---- the fair queue ------------------------------------------------------------

def test_one_slot_serves_another_learners_run_before_the_first_ones_backlog(qstack):
    a, b = Learner(qstack, "q-fair-a"), Learner(qstack, "q-fair-b")
    sid_a, sid_b = a.session("import time\ntime.sleep(1)\n"), b.session()
    first = a.run(sid_a)
    while a.status(first)["status"] != "RUNNING":
        time.sleep(0.01)
    assert a.call("PATCH", f"/code-sessions/{sid_a}", {"source_code": "print(1)\n"})[0] == 200
    backlog = [a.run(sid_a), a.run(sid_a)]          # queued before b's run
    theirs = b.run(sid_b)
    done = {eid: a.finished(eid) for eid in [first] + backlog}
    done[theirs] = b.finished(theirs)
    order = sorted(done, key=lambda eid: done[eid]["started_at"])
    assert order == [first, theirs] + backlog, [(e, done[e]["started_at"]) for e in order]


# ---- auth = none: a learner is a client address --------------------------------

@pytest.fixture(scope="module")
def open_stack(tmp_path_factory):
    conf = write_config(tmp_path_factory.mktemp("quota-open"), ["quota_sessions_per_hour = 1"])
    s = stack_with(conf)
    yield s
    s.stop()
    s.cleanup()


def from_address(stack, address):
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30, source_address=(address, 0))
    try:
        conn.request("POST", "/code-sessions", json.dumps({"language": "python"}),
                     {"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.headers, json.loads(resp.read())
    finally:
        conn.close()


def test_without_tokens_each_client_address_has_its_own_quota(open_stack):
    assert from_address(open_stack, "127.0.0.1")[0] == 201
    assert_429(from_address(open_stack, "127.0.0.1"), "SESSION_RATE_LIMITED", "createSession", (3500, 3600))
    assert from_address(open_stack, "127.0.0.2")[0] == 201
    assert open_stack.store_rows("SELECT learner, owner FROM sessions ORDER BY learner") == \
        [("127.0.0.1", ""), ("127.0.0.2", "")]
