"""A submission watched live through lighttpd and the events program: the
long-poll GET /submissions/{id}?wait_ms=N and the event stream
GET /submissions/{id}/events (status, a case event per judged case, done)."""

import time

import pytest

from live import SSE
from stack import assert_error
from test_grading import case, put_suite, submit, suite_body, wait_submission

# Case c2 is hidden; its stdin, expected output and the program's output must never show.
CASES = [case("c0", "0\n", "0\n"), case("c1", "1\n", "1\n"),
         case("c2", "SECRET-IN-2\n", "EXPECTED-SECRET\n", hidden=True)]
SECRETS = ("SECRET-IN", "EXPECTED-SECRET", "OUT-SECRET")
# Each case takes about 0.4 s; the hidden one prints a wrong (secret-looking) answer.
SLOW = "import time\ntime.sleep(0.4)\nx = input()\nprint('OUT-' + x if 'SECRET' in x else x)\n"


@pytest.fixture(scope="module")
def suite(stack):
    put_suite(stack, "watched", suite_body(*CASES))
    return "watched"


@pytest.fixture(scope="module")
def judged(stack, suite):
    """A submission already judged (the refusal tests leave nothing running behind them)."""
    return wait_submission(stack, start(stack, suite, code="print(input())\n"))["submission_id"]


def start(stack, suite, code=SLOW, **kw):
    sid = stack.create_session(code)["session_id"]
    return submit(stack, sid, suite, **kw)


# ---- long-poll ----------------------------------------------------------------------

def test_long_poll_answers_as_soon_as_the_submission_is_judged(stack, suite):
    sub_id = start(stack, suite)
    began = time.monotonic()
    status, headers, doc = stack.request("GET", f"/submissions/{sub_id}?wait_ms=20000")
    elapsed = time.monotonic() - began
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert (doc["status"], doc["verdict"], doc["passed"]) == ("COMPLETED", "WRONG_ANSWER", 2), doc
    assert 0.3 < elapsed < 10, elapsed
    assert doc == stack.request("GET", f"/submissions/{sub_id}")[2]


def test_long_poll_answers_the_current_state_after_wait_ms(stack, suite):
    sub_id = start(stack, suite, code="import time\ntime.sleep(3)\nprint(input())\n")
    began = time.monotonic()
    status, _, doc = stack.request("GET", f"/submissions/{sub_id}?wait_ms=500")
    elapsed = time.monotonic() - began
    assert status == 200
    assert doc["status"] in ("QUEUED", "RUNNING") and doc["verdict"] is None
    assert 0.45 < elapsed < 2, elapsed
    wait_submission(stack, sub_id)


def test_long_poll_of_a_judged_submission_is_get_at_once(stack, suite):
    sub_id = start(stack, suite, code="print(input())\n")
    final = wait_submission(stack, sub_id)
    began = time.monotonic()
    assert stack.request("GET", f"/submissions/{sub_id}?wait_ms=20000")[:3:2] == (200, final)
    assert stack.request("GET", f"/submissions/{sub_id}?wait_ms=0")[2] == final
    assert time.monotonic() - began < 2


# ---- the event stream ------------------------------------------------------------------

def test_the_stream_carries_status_each_case_then_done(stack, suite):
    sub_id = start(stack, suite)
    sse = SSE(stack.port, None, path=f"/submissions/{sub_id}/events")
    try:
        assert sse.status == 200 and sse.headers["content-type"] == "text/event-stream"
        events = sse.all_events()
    finally:
        sse.close()
    kinds = [e["event"] for e in events]
    assert kinds[0] == "status" and kinds[-1] == "done", kinds
    assert set(kinds) == {"status", "case", "done"}
    assert [e["data"]["status"] for e in events if e["event"] == "status"][-1] == "RUNNING"
    cases = [e["data"] for e in events if e["event"] == "case"]
    assert sorted(c["index"] for c in cases) == [0, 1, 2]        # each judged case once
    final = stack.request("GET", f"/submissions/{sub_id}")[2]
    assert events[-1]["data"] == final
    for c in cases:
        assert {k: v for k, v in c.items() if k != "index"} == final["cases"][c["index"]]
    hidden = next(c for c in cases if c["index"] == 2)
    assert set(hidden) == {"index", "name", "hidden", "verdict", "time_ms", "memory_kb"}
    assert hidden["verdict"] == "WRONG_ANSWER"
    text = repr(events)
    for secret in SECRETS:
        assert secret not in text, secret


def test_the_stream_says_running_as_soon_as_a_case_starts(stack, suite):
    sub_id = start(stack, suite, code="import time\ntime.sleep(2)\nprint(input())\n")
    began = time.monotonic()
    sse = SSE(stack.port, None, path=f"/submissions/{sub_id}/events")
    try:
        seen = []
        while (ev := sse.next_event()) is not None:
            seen.append(ev)
            if ev["event"] != "status" or ev["data"]["status"] == "RUNNING":
                break
        elapsed = time.monotonic() - began
    finally:
        sse.close()
    # Long before the first case ends (2 s).
    assert seen[-1] == {"event": "status", "data": {"status": "RUNNING"}}, seen
    assert elapsed < 1.5, elapsed
    wait_submission(stack, sub_id)


def test_a_judged_submission_streams_its_cases_and_done_at_once(stack, suite):
    sub_id = start(stack, suite, code="print(input())\n")
    final = wait_submission(stack, sub_id)
    began = time.monotonic()
    sse = SSE(stack.port, None, path=f"/submissions/{sub_id}/events")
    try:
        events = sse.all_events()
    finally:
        sse.close()
    assert time.monotonic() - began < 2
    assert [e["event"] for e in events] == ["case", "case", "case", "done"]
    assert [e["data"]["index"] for e in events[:3]] == [0, 1, 2]
    assert events[-1]["data"] == final


def test_a_stop_on_first_failure_stream_ends_with_the_skipped_cases(stack):
    put_suite(stack, "watched-stop", suite_body(*(case(f"c{i}", f"{i}\n", f"{i}\n") for i in range(6))))
    sid = stack.create_session("x = input()\nprint('wrong' if x == '1' else x)\n")["session_id"]
    sub_id = submit(stack, sid, "watched-stop", stop_on_first_failure=True)
    sse = SSE(stack.port, None, path=f"/submissions/{sub_id}/events")
    try:
        events = sse.all_events()
    finally:
        sse.close()
    last = {}
    for e in events:
        if e["event"] == "case":
            last[e["data"]["index"]] = e["data"]["verdict"]
    assert [last[i] for i in range(6)] == ["ACCEPTED", "WRONG_ANSWER"] + ["SKIPPED"] * 4
    assert events[-1]["data"]["verdict"] == "WRONG_ANSWER"


# ---- refused -------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["wait_ms=-1", "wait_ms=30001", "wait_ms=abc", "wait_ms=", "wait_ms=1.5",
                                   "wait_ms=1&wait_ms=2", "wait_ms"])
def test_long_poll_refuses_a_bad_wait_ms(stack, judged, query):
    assert_error(stack.request("GET", f"/submissions/{judged}?{query}"), 400, "INVALID_QUERY", "wait_ms")


@pytest.mark.parametrize("path,status,code,field", [
    ("/submissions/not-a-uuid?wait_ms=10", 400, "INVALID_ID", "id"),
    ("/submissions/not-a-uuid/events", 400, "INVALID_ID", "id"),
    ("/submissions/{uuid}?wait_ms=10", 404, "NOT_FOUND", None),
    ("/submissions/{uuid}/events", 404, "NOT_FOUND", None),
    ("/submissions/{eid}?wait_ms=10", 404, "NOT_FOUND", None),
    ("/submissions/{eid}/events", 404, "NOT_FOUND", None),
])
def test_unknown_or_malformed_submission_ids_are_refused(stack, path, status, code, field):
    import uuid
    eid = stack.request("POST", f"/code-sessions/{stack.create_session('print(1)')['session_id']}/run")[2]
    stack.wait_terminal(eid["execution_id"])
    path = path.format(uuid=uuid.uuid4(), eid=eid["execution_id"])
    assert_error(stack.request("GET", path), status, code, field)


def test_the_stream_takes_only_get(stack, judged):
    assert_error(stack.request("POST", f"/submissions/{judged}/events", {}), 405, "METHOD_NOT_ALLOWED")
