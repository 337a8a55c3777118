"""Live events of an execution (GET /executions/{id}/events and /ws) and
the long-poll (GET /executions/{id}?wait_ms=N), through lighttpd and the
events program, against the real stack."""

import base64
import hashlib
import json
import os
import time

import pytest

from components import Components
from live import SSE, WebSocket, wait_for
from stack import assert_error, random_uuid

ATTEMPT_BITS = 32


def run_code(stack, code, stdin=None):
    session = stack.create_session(code)
    return stack.run_ok(session["session_id"], stdin)


def output(events, kind):
    return "".join(e["data"]["data"] for e in events if e["event"] == kind)


def all_events(stack, eid, last_event_id=None):
    """Every event of a stream, to done."""
    sse = SSE(stack.port, eid, last_event_id=last_event_id)
    events = sse.all_events()
    sse.close()
    return events


def check_offsets(events, kind):
    """Each chunk starts where the bytes before it end."""
    at = 0
    for e in (e for e in events if e["event"] == kind):
        assert e["data"]["offset"] == at, (e, at)
        at += len(e["data"]["data"].encode("utf-8"))


# ---- the events of a run --------------------------------------------------------

def test_stream_carries_every_event_kind_in_order(stack):
    eid = run_code(stack, "import sys, time\nprint('one', flush=True)\ntime.sleep(0.3)\n"
                          "print('err', file=sys.stderr, flush=True)\nprint('two')\n")
    sse = SSE(stack.port, eid)
    assert sse.status == 200
    assert sse.headers["content-type"] == "text/event-stream"
    events = sse.all_events()
    sse.close()
    kinds = [e["event"] for e in events]
    assert kinds[0] == "status" and events[0]["data"] == {"status": "QUEUED", "attempt": 0}
    assert events[0]["id"] == 1
    assert events[1]["event"] == "status" and events[1]["data"] == {"status": "RUNNING", "attempt": 1}
    assert events[1]["id"] == (1 << ATTEMPT_BITS) + 1
    assert kinds[-1] == "done"
    assert set(kinds[2:-1]) == {"stdout", "stderr"}
    ids = [e["id"] for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert output(events, "stdout") == "one\ntwo\n"
    assert output(events, "stderr") == "err\n"
    check_offsets(events, "stdout")
    check_offsets(events, "stderr")
    assert all(e["data"]["attempt"] == 1 for e in events[1:-1])
    assert events[-1]["data"] == stack.get_execution(eid)


def test_output_reaches_the_stream_before_the_program_ends(stack):
    # The program waits 4 s between its lines: the first must arrive well
    # before the end even when the machine is busy.
    eid = run_code(stack, "import time\nprint('early', flush=True)\ntime.sleep(4)\nprint('late')\n")
    sse = SSE(stack.port, eid)
    first_at = done_at = None
    got = ""
    while (ev := sse.next_event()) is not None:
        if ev["event"] == "stdout":
            got += ev["data"]["data"]
        if got == "early\n" and first_at is None:
            first_at = time.monotonic()
        if ev["event"] == "done":
            done_at = time.monotonic()
            break
    sse.close()
    assert first_at is not None and done_at - first_at >= 2.5


def test_a_prompt_without_newline_reaches_the_stream_while_the_program_waits(stack):
    eid = run_code(stack, "import sys, time\nsys.stdout.write('name? ')\nsys.stdout.flush()\n"
                          "time.sleep(2)\nprint('bye')\n")
    sse = SSE(stack.port, eid)
    got = ""
    start = time.monotonic()
    while (ev := sse.next_event()) is not None and ev["event"] != "done":
        if ev["event"] == "stdout":
            got += ev["data"]["data"]
            if got == "name? ":
                break
    elapsed = time.monotonic() - start
    sse.close()
    assert got == "name? "
    assert elapsed < 1.8
    assert stack.wait_terminal(eid)["stdout"] == "name? bye\n"


def test_finished_execution_replays_its_events_then_done_at_once(stack):
    eid = run_code(stack, "print('a')\nprint('b')\n")
    final = stack.wait_terminal(eid)
    start = time.monotonic()
    sse = SSE(stack.port, eid)
    events = sse.all_events()
    sse.close()
    assert time.monotonic() - start < 1.0
    assert [e["event"] for e in events][:2] == ["status", "status"]
    assert events[-1]["event"] == "done" and events[-1]["data"] == final
    assert output(events, "stdout") == final["stdout"] == "a\nb\n"


def test_last_event_id_resumes_after_that_event(stack):
    eid = run_code(stack, "import time\nfor i in range(5):\n    print(i, flush=True)\n    time.sleep(0.05)\n")
    stack.wait_terminal(eid)
    full = all_events(stack, eid)
    cut = full[3]["id"]
    rest = all_events(stack, eid, cut)
    assert [e["id"] for e in rest[:-1]] == [e["id"] for e in full[4:-1]]
    assert [e["data"] for e in rest[:-1]] == [e["data"] for e in full[4:-1]]
    assert rest[-1]["event"] == "done"
    assert rest[-1]["id"] > cut


def test_last_event_id_of_done_gives_only_done(stack):
    eid = run_code(stack, "print('x')\n")
    stack.wait_terminal(eid)
    full = all_events(stack, eid)
    rest = all_events(stack, eid, full[-2]["id"])
    assert [e["event"] for e in rest] == ["done"]


def test_a_queued_execution_streams_queued_then_its_run(stack):
    # Fill nothing special: a run is QUEUED until a slot claims it; the
    # stream opened at once sees QUEUED first whatever happens next.
    eid = run_code(stack, "print('q')\n")
    sse = SSE(stack.port, eid)
    events = sse.all_events()
    sse.close()
    statuses = [e["data"]["status"] for e in events if e["event"] == "status"]
    assert statuses == ["QUEUED", "RUNNING"]


def test_unknown_execution_is_not_found(stack):
    sse = SSE(stack.port, random_uuid())
    assert sse.status == 404
    sse.close()
    assert_error(stack.request("GET", f"/executions/{random_uuid()}?wait_ms=10"), 404, "NOT_FOUND")


# ---- hostile output ------------------------------------------------------------

def test_nul_bytes_invalid_utf8_and_escapes_arrive_as_valid_json(stack):
    code = ("import sys\nw = sys.stdout.buffer.write\n"
            "w(b'a\\x00b\\xff\\xfe c\\x1b[31mred\\x1b[0m \\xe2\\x82')\nsys.stdout.flush()\n"
            "w(b'\\xac euro\\r\\n\\x07')\n")
    eid = run_code(stack, code)
    sse = SSE(stack.port, eid)
    events = sse.all_events()
    sse.close()
    final = events[-1]["data"]
    text = output(events, "stdout")
    assert text == final["stdout"]
    assert "a\x00b\ufffd\ufffd c\x1b[31mred\x1b[0m \u20ac euro\r\n\x07" == text


def test_a_10_mb_flood_reaches_the_stream_bounded(stack):
    eid = run_code(stack, "import sys\nsys.stdout.write('x' * (10 << 20))\n")
    sse = SSE(stack.port, eid)
    events = sse.all_events()
    sse.close()
    final = events[-1]["data"]
    assert final["status"] == "FAILED" and final["error"]["code"] == "OUTPUT_LIMIT"
    text = output(events, "stdout")
    assert text == final["stdout"]
    assert len(text) == 65536
    check_offsets(events, "stdout")


def test_a_slow_client_catches_up_and_loses_nothing(stack):
    code = ("import sys\nfor i in range(3000):\n    sys.stdout.write('%05d ' % i + 'y' * 14 + '\\n')\n"
            "    sys.stdout.flush()\n")
    eid = run_code(stack, code)
    sse = SSE(stack.port, eid, rcvbuf=4096)
    time.sleep(2)           # read nothing while the program writes 60 kB in tiny chunks
    events = sse.all_events()
    sse.close()
    final = events[-1]["data"]
    assert final["status"] == "COMPLETED"
    assert output(events, "stdout") == final["stdout"]
    check_offsets(events, "stdout")
    ids = [e["id"] for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


# ---- WebSocket --------------------------------------------------------------------

def test_websocket_carries_the_same_events_as_json_messages(stack):
    eid = run_code(stack, "import sys\nprint('hi')\nprint('oops', file=sys.stderr)\n")
    stack.wait_terminal(eid)
    ws = WebSocket(stack.port, eid)
    assert ws.status == 101
    expect = base64.b64encode(hashlib.sha1(
        (ws.key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
    assert ws.headers["sec-websocket-accept"] == expect
    msgs = ws.messages()
    close = ws.recv_frame()
    ws.close()
    sse = SSE(stack.port, eid)
    events = sse.all_events()
    sse.close()
    assert close == (8, b"\x03\xe8")       # close, 1000 normal closure
    assert [(m["event"], m["id"], m["data"]) for m in msgs] == \
        [(e["event"], e["id"], e["data"]) for e in events]


def test_websocket_path_without_upgrade_is_a_bad_request(stack):
    eid = run_code(stack, "print(1)\n")
    assert_error(stack.request("GET", f"/executions/{eid}/ws"), 400, "INVALID_HEADER", "Upgrade")


# ---- long-poll ----------------------------------------------------------------------

def test_long_poll_answers_as_soon_as_the_execution_ends(stack):
    eid = run_code(stack, "import time\ntime.sleep(1)\nprint('done')\n")
    start = time.monotonic()
    status, headers, body = stack.request("GET", f"/executions/{eid}?wait_ms=15000")
    elapsed = time.monotonic() - start
    assert status == 200
    assert body["status"] == "COMPLETED" and body["stdout"] == "done\n"
    assert 0.5 < elapsed < 5
    assert body == stack.get_execution(eid)


def test_long_poll_answers_the_current_state_after_wait_ms(stack):
    eid = run_code(stack, "import time\ntime.sleep(3)\n")
    start = time.monotonic()
    status, _, body = stack.request("GET", f"/executions/{eid}?wait_ms=500")
    elapsed = time.monotonic() - start
    assert status == 200
    assert body["status"] in ("QUEUED", "RUNNING")
    assert 0.45 < elapsed < 1.5
    stack.wait_terminal(eid)


def test_long_poll_of_a_finished_execution_is_identical_to_get(stack):
    eid = run_code(stack, "print('same')\n")
    final = stack.wait_terminal(eid)
    s1, h1, raw1 = stack.request("GET", f"/executions/{eid}?wait_ms=0")
    assert s1 == 200 and raw1 == final
    assert h1["Content-Type"] == "application/json"


@pytest.mark.parametrize("value", ["-1", "30001", "abc", "", "1.5", "99999999999"])
def test_long_poll_rejects_wait_ms_out_of_range(stack, value):
    eid = run_code(stack, "print(1)\n")
    assert_error(stack.request("GET", f"/executions/{eid}?wait_ms={value}"), 400, "INVALID_QUERY",
                 "wait_ms")


def test_long_poll_rejects_wait_ms_given_twice(stack):
    eid = run_code(stack, "print(1)\n")
    assert_error(stack.request("GET", f"/executions/{eid}?wait_ms=1&wait_ms=2"), 400, "INVALID_QUERY",
                 "wait_ms")


# ---- keepalive, failures, restarts (own components) --------------------------------

@pytest.fixture
def parts():
    c = Components({"events_keepalive_ms": 300, "runner_stale_ms": 1000})
    try:
        yield c.start()
    finally:
        c.cleanup()


def read_until(sse, last):
    """Events up to and including the first for which last(event) holds."""
    seen = []
    while (ev := sse.next_event()) is not None:
        seen.append(ev)
        if last(ev):
            break
    return seen


def reconnect(parts, eid, last_event_id, timeout=10):
    """As a browser's EventSource does: retries until the proxy has its backend again."""
    deadline = time.monotonic() + timeout
    while (sse := SSE(parts.port, eid, last_event_id=last_event_id)).status != 200:
        sse.close()
        assert time.monotonic() < deadline, sse.status
        time.sleep(0.2)
    return sse


def session_run(parts, code):
    status, body = parts.request("POST", "/code-sessions", {"language": "python", "template_code": code})
    assert status == 201, body
    status, body = parts.request("POST", f"/code-sessions/{body['session_id']}/run", {})
    assert status == 202, body
    return body["execution_id"]


def test_an_idle_stream_gets_a_comment_every_keepalive_interval(parts):
    eid = session_run(parts, "import time\ntime.sleep(1.6)\nprint('end')\n")
    sse = SSE(parts.port, eid)
    events = sse.all_events()
    sse.close()
    assert output(events, "stdout") == "end\n"
    assert 3 <= sse.comments <= 7


def stream_across_runner_kill(parts, code):
    """The events of a run whose runner is killed -9 (and restarted) after its first output."""
    eid = session_run(parts, code)
    sse = SSE(parts.port, eid, timeout=60)
    seen = read_until(sse, lambda ev: ev["event"] == "stdout")
    parts.kill_runner()
    parts.start_runner()
    seen += read_until(sse, lambda ev: ev["event"] == "done")
    sse.close()
    return seen


def test_runner_killed_mid_run_the_stream_follows_the_retry(parts):
    seen = stream_across_runner_kill(
        parts, "import time\nprint('start', flush=True)\ntime.sleep(2)\nprint('end')\n")
    final = seen[-1]["data"]
    assert seen[-1]["event"] == "done"
    assert final["status"] == "COMPLETED" and final["attempt"] == 2
    # The requeue is an event of its own: QUEUED, attempt 2, before the retry runs.
    statuses = [e["data"] for e in seen if e["event"] == "status"]
    assert statuses == [{"status": "QUEUED", "attempt": 0}, {"status": "RUNNING", "attempt": 1},
                        {"status": "QUEUED", "attempt": 2}, {"status": "RUNNING", "attempt": 2}]
    ids = [e["id"] for e in seen]
    assert ids == sorted(set(ids))
    requeued = next(e for e in seen if e["data"] == {"status": "QUEUED", "attempt": 2})
    assert requeued["id"] == 2 << ATTEMPT_BITS
    attempt2 = [e for e in seen if e["event"] == "stdout" and e["data"]["attempt"] == 2]
    assert "".join(e["data"]["data"] for e in attempt2) == "start\nend\n"


def test_lighttpd_restart_the_client_resumes_with_last_event_id(parts):
    eid = session_run(parts, "import time\nfor i in range(6):\n    print(i, flush=True)\n    time.sleep(0.3)\n")
    sse = SSE(parts.port, eid)
    seen = read_until(sse, lambda ev: ev["event"] == "stdout" and ev["data"]["data"] == "1\n")
    parts.kill_lighttpd()
    parts.start_lighttpd()
    sse.close()
    sse = reconnect(parts, eid, seen[-1]["id"])
    seen += sse.all_events()
    sse.close()
    final = seen[-1]["data"]
    assert final["status"] == "COMPLETED"
    assert output(seen, "stdout") == final["stdout"] == "".join(f"{i}\n" for i in range(6))


def test_events_process_restart_the_stream_resumes_from_the_store(parts):
    eid = session_run(parts, "import time\nfor i in range(6):\n    print(i, flush=True)\n    time.sleep(0.3)\n")
    sse = SSE(parts.port, eid)
    seen = read_until(sse, lambda ev: ev["event"] == "stdout")
    parts.kill_events()
    parts.start_events()
    sse.close()
    sse = reconnect(parts, eid, seen[-1]["id"])
    seen += sse.all_events()
    sse.close()
    assert output(seen, "stdout") == seen[-1]["data"]["stdout"]


def test_disconnecting_clients_free_their_connections_at_once():
    # With the default 15 s keepalive: a client's close reaches the events
    # program through lighttpd at once (tcp-fin-propagate), not at the next
    # write to the closed client.
    parts = Components({"events_keepalive_ms": 15000})
    try:
        parts.start()
        eid = session_run(parts, "import time\ntime.sleep(4)\n")
        pid = parts.events.pid

        def fds():
            return len(os.listdir(f"/proc/{pid}/fd"))
        # The runner's slots connect their ZeroMQ sockets once they start: count after that.
        assert wait_for(lambda: parts.request("GET", f"/executions/{eid}")[1]["status"] == "RUNNING")
        time.sleep(0.5)
        base = fds()
        streams = [SSE(parts.port, eid) for _ in range(40)] + [WebSocket(parts.port, eid) for _ in range(10)]
        assert wait_for(lambda: fds() >= base + 50)
        closed_at = time.monotonic()
        for s in streams:
            s.close()
        assert wait_for(lambda: fds() <= base, timeout=10), (fds(), base)
        assert time.monotonic() - closed_at < 1.5
    finally:
        parts.cleanup()


# ---- WebSocket input ------------------------------------------------------------------

def interactive_run(stack, code):
    session = stack.create_session(code)
    status, _, body = stack.request("POST", f"/code-sessions/{session['session_id']}/run",
                                    {"interactive": True})
    assert status == 202, body
    return body["execution_id"]


def ws_until_stdout(ws, text):
    got = ""
    while (frame := ws.recv_frame()) is not None:
        msg = json.loads(frame[1]) if frame[0] == 1 else None
        if msg and msg["event"] == "stdout":
            got += msg["data"]["data"]
            if got == text:
                return got
    raise AssertionError(f"stream ended with stdout {got!r}")


def ws_next_error(ws):
    """The next error message of the server (the events before it are skipped)."""
    while (frame := ws.recv_frame()) is not None:
        msg = json.loads(frame[1]) if frame[0] == 1 else {}
        if msg.get("event") == "error":
            return msg
    raise AssertionError("the stream ended without an error message")


def test_get_of_a_running_interactive_run_shows_the_output_its_events_stored(stack):
    # GET reads a running interactive execution's output from its stored
    # events: each stream on its own, the same text the stream carried.
    eid = interactive_run(stack, "import sys\nprint('out', flush=True)\n"
                                 "print('\\xe9rr', file=sys.stderr, flush=True)\ninput()\nprint('end')\n")
    sse = SSE(stack.port, eid)
    seen = read_until(sse, lambda ev: ev["event"] == "stderr" and ev["data"]["data"].endswith("\n"))
    sse.close()
    assert wait_for(lambda: stack.get_execution(eid)["stderr"] == "\u00e9rr\n")
    ex = stack.get_execution(eid)
    assert (ex["status"], ex["stdout"], ex["stderr"]) == ("RUNNING", "out\n", "\u00e9rr\n")
    assert (output(seen, "stdout"), output(seen, "stderr")) == (ex["stdout"], ex["stderr"])
    status, _, body = stack.request("POST", f"/executions/{eid}/stdin", {"data": "\n", "eof": True})
    assert status == 202, body
    done = stack.wait_terminal(eid)
    assert (done["stdout"], done["stderr"]) == ("out\nend\n", "\u00e9rr\n")


def test_a_prompt_published_just_before_the_stream_opens_still_arrives(stack):
    # The prompt is published before the stream listens and stored up to
    # EVENT_BATCH_MS later; the program then blocks on input, so no later
    # live event would bring it. Streams opened at staggered moments around
    # that window must each get it within a second.
    late = []
    for i in range(24):
        eid = interactive_run(stack, 'name = input("name? ")\nprint("hi", name)\n')
        time.sleep((i % 8) * 0.01)
        sse = SSE(stack.port, eid, timeout=5)
        start, got = time.monotonic(), ""
        while got != "name? " and (ev := sse.next_event()) is not None and ev["event"] != "done":
            if ev["event"] == "stdout":
                got += ev["data"]["data"]
        if got != "name? " or time.monotonic() - start > 1.0:
            late.append((i, got, round(time.monotonic() - start, 2)))
        sse.close()
        status, _, body = stack.request("POST", f"/executions/{eid}/stdin", {"data": "x\n", "eof": True})
        assert status == 202, body
        assert stack.wait_terminal(eid)["stdout"] == "name? hi x\n"
    assert late == []


def test_websocket_stdin_and_eof_reach_an_interactive_program(stack):
    eid = interactive_run(stack, "name = input('name? ')\nprint('hi', name)\nimport sys\n"
                                 "print('rest', repr(sys.stdin.read()))\n")
    ws = WebSocket(stack.port, eid)
    ws_until_stdout(ws, "name? ")
    ws.send_text(json.dumps({"stdin": "Ada\n"}))
    ws.send_text(json.dumps({"stdin": "more", "eof": True}))
    msgs = ws.messages()
    ws.close()
    assert msgs[-1]["event"] == "done"
    assert msgs[-1]["data"]["stdout"] == "name? hi Ada\nrest 'more'\n"
    assert msgs[-1]["data"]["status"] == "COMPLETED"


@pytest.mark.parametrize("message,code,field", [
    ("not json", "INVALID_JSON", None),
    ("[1]", "INVALID_JSON", None),
    ('{"stdin": 5}', "INVALID_FIELD", "stdin"),
    ('{"eof": "yes"}', "INVALID_FIELD", "eof"),
    ('{"stdin": "x", "extra": 1}', "INVALID_FIELD", "extra"),
    ("{}", "INVALID_FIELD", None),
])
def test_websocket_bad_messages_get_an_error_and_the_stream_goes_on(stack, message, code, field):
    eid = interactive_run(stack, "name = input()\nprint('got', name)\n")
    ws = WebSocket(stack.port, eid)
    ws.send_text(message)
    msg = ws_next_error(ws)
    assert msg == {"event": "error", "data": {"code": code, "message": msg["data"]["message"], "field": field}}
    ws.send_text(json.dumps({"stdin": "x\n", "eof": True}))
    msgs = ws.messages()
    ws.close()
    assert msgs[-1]["event"] == "done" and msgs[-1]["data"]["stdout"] == "got x\n"


def test_websocket_stdin_to_a_non_interactive_run_is_not_running(stack):
    eid = run_code(stack, "import time\ntime.sleep(1)\n")
    ws = WebSocket(stack.port, eid)
    ws.send_text(json.dumps({"stdin": "x"}))
    msg = ws_next_error(ws)
    ws.close()
    assert msg["data"]["code"] == "NOT_RUNNING"


def test_runner_lost_on_the_last_attempt_ends_the_stream_with_runner_lost():
    parts = Components({"max_attempts": 1, "runner_stale_ms": 1000, "events_keepalive_ms": 300})
    try:
        parts.start()
        seen = stream_across_runner_kill(parts, "import time\nprint('start', flush=True)\ntime.sleep(3)\n")
    finally:
        parts.cleanup()
    final = seen[-1]["data"]
    assert seen[-1]["event"] == "done"
    assert final["status"] == "FAILED" and final["error"]["code"] == "RUNNER_LOST"
