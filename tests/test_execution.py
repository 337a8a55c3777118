"""Runs, executions, listing and backpressure against the real stack."""

import ast
import concurrent.futures
import subprocess
import threading
import time
import urllib.parse
import uuid

import pytest

from stack import (EXECUTION_KEYS, RUN_KEYS, UUID_RE, assert_error, assert_recent, is_int,
                   parse_ts, random_uuid)

HELLO = 'print("hello")\n'


# ---- the Run reply -----------------------------------------------------------

def test_run_returns_202_with_exact_keys(stack):
    sid = stack.create_session(HELLO)["session_id"]
    status, headers, body = stack.run(sid)
    assert status == 202, body
    assert set(body) == RUN_KEYS, body
    assert UUID_RE.match(body["execution_id"])
    assert body["session_id"] == sid
    assert body["status"] == "QUEUED"
    assert_recent(body["queued_at"])
    stack.wait_terminal(body["execution_id"])


def test_run_sets_location_header(stack):
    sid = stack.create_session(HELLO)["session_id"]
    status, headers, body = stack.run(sid)
    assert status == 202, body
    assert headers.get("Location") == f"/executions/{body['execution_id']}"
    stack.wait_terminal(body["execution_id"])


def test_run_accepts_empty_object_body(stack):
    sid = stack.create_session(HELLO)["session_id"]
    status, _, body = stack.request("POST", f"/code-sessions/{sid}/run", {})
    assert status == 202, body
    assert stack.wait_terminal(body["execution_id"])["stdout"] == "hello\n"


def test_run_unknown_session_is_not_found(stack):
    assert_error(stack.run(random_uuid()), 404, "NOT_FOUND")


def test_run_stdin_not_a_string_is_invalid_field(stack):
    sid = stack.create_session(HELLO)["session_id"]
    assert_error(stack.request("POST", f"/code-sessions/{sid}/run", {"stdin": 5}),
                 400, "INVALID_FIELD", "stdin")


def test_run_unknown_field_is_rejected(stack):
    sid = stack.create_session(HELLO)["session_id"]
    assert_error(stack.request("POST", f"/code-sessions/{sid}/run", {"stdn": "x"}),
                 400, "UNKNOWN_FIELD", "stdn")


def test_run_stdin_over_64_kib_is_invalid_field(stack):
    sid = stack.create_session(HELLO)["session_id"]
    assert_error(stack.request("POST", f"/code-sessions/{sid}/run", {"stdin": "x" * 65537}),
                 400, "INVALID_FIELD", "stdin")


def test_run_with_text_plain_body_is_unsupported_media_type(stack):
    sid = stack.create_session(HELLO)["session_id"]
    assert_error(stack.request("POST", f"/code-sessions/{sid}/run", raw=b'{"stdin":"x"}',
                               headers={"Content-Type": "text/plain"}),
                 415, "UNSUPPORTED_MEDIA_TYPE")


# ---- outcomes ----------------------------------------------------------------

def test_hello_world_completes(stack):
    ex = stack.execute(HELLO)
    assert ex["status"] == "COMPLETED", ex
    assert ex["stdout"] == "hello\n"
    assert ex["stderr"] == ""
    assert ex["exit_code"] == 0
    assert ex["signal"] is None
    assert ex["error"] is None
    assert ex["stdout_truncated"] is False
    assert ex["stderr_truncated"] is False
    assert ex["attempt"] == 1


def test_finished_execution_has_exact_keys(stack):
    ex = stack.execute(HELLO)
    assert set(ex) == EXECUTION_KEYS, ex


def test_finished_execution_reports_times(stack):
    ex = stack.execute(HELLO)
    assert is_int(ex["execution_time_ms"]) and ex["execution_time_ms"] > 0, ex
    assert is_int(ex["setup_time_ms"]) and 0 <= ex["setup_time_ms"] < 1000, ex
    # An interpreter start costs milliseconds of CPU and megabytes of memory.
    assert is_int(ex["cpu_time_ms"]) and 1 <= ex["cpu_time_ms"] < 1000, ex
    assert is_int(ex["memory_kb"]) and 1024 <= ex["memory_kb"] <= 256 * 1024, ex


def test_finished_execution_timestamps_are_ordered(stack):
    ex = stack.execute(HELLO)
    q, s, f = (parse_ts(ex[k]) for k in ("queued_at", "started_at", "finished_at"))
    assert q <= s <= f, ex
    assert_recent(ex["finished_at"])


def test_execution_keeps_its_session_id(stack):
    sid = stack.create_session(HELLO)["session_id"]
    ex = stack.wait_terminal(stack.run_ok(sid))
    assert ex["session_id"] == sid


def test_division_by_zero_fails_with_traceback(stack):
    ex = stack.execute("1/0\n")
    assert ex["status"] == "FAILED", ex
    assert ex["exit_code"] == 1
    assert ex["stdout"] == ""
    assert "Traceback" in ex["stderr"]
    assert "ZeroDivisionError" in ex["stderr"]
    assert ex["error"]["code"] == "RUNTIME_ERROR"
    assert isinstance(ex["error"]["message"], str) and ex["error"]["message"]


def test_sys_exit_3_fails_with_exit_code_3(stack):
    ex = stack.execute("import sys\nsys.exit(3)\n")
    assert ex["status"] == "FAILED", ex
    assert ex["exit_code"] == 3
    assert ex["error"]["code"] == "RUNTIME_ERROR"


def test_killed_by_signal_fails_with_signal(stack):
    ex = stack.execute("import os, signal, sys\nsys.stdout.flush()\n"
                       "os.kill(os.getpid(), signal.SIGKILL)\n")
    assert ex["status"] == "FAILED", ex
    assert ex["signal"] == 9
    assert ex["error"]["code"] == "RUNTIME_ERROR"


def test_output_on_both_streams(stack):
    ex = stack.execute('import sys\nprint("out")\nprint("err", file=sys.stderr)\n')
    assert ex["status"] == "COMPLETED", ex
    assert ex["stdout"] == "out\n"
    assert ex["stderr"] == "err\n"


def test_stdin_is_passed_to_program(stack):
    ex = stack.execute("print(input()[::-1])\n", stdin="abc\n")
    assert ex["status"] == "COMPLETED", ex
    assert ex["stdout"] == "cba\n"


def test_stdin_is_empty_when_not_given(stack):
    ex = stack.execute("import sys\nprint(repr(sys.stdin.read()))\n")
    assert ex["status"] == "COMPLETED", ex
    assert ex["stdout"] == "''\n"


def test_unicode_output_round_trips(stack):
    ex = stack.execute('print("Grüße 日本語 🎉")\n')
    assert ex["status"] == "COMPLETED", ex
    assert ex["stdout"] == "Grüße 日本語 🎉\n"


def test_output_flood_is_truncated_at_64_kib(stack):
    ex = stack.execute('import sys\nwhile True:\n    sys.stdout.write("x" * 4096)\n')
    assert ex["status"] == "FAILED", {k: v for k, v in ex.items() if k != "stdout"}
    assert ex["error"]["code"] == "OUTPUT_LIMIT"
    assert len(ex["stdout"]) == 65536
    assert ex["stdout"] == "x" * 65536
    assert ex["stdout_truncated"] is True
    assert ex["stderr_truncated"] is False


def test_stderr_flood_is_truncated_at_64_kib(stack):
    ex = stack.execute('import sys\nsys.stderr.write("e" * 70000)\n')
    assert ex["status"] == "FAILED", {k: v for k, v in ex.items() if k != "stderr"}
    assert ex["error"]["code"] == "OUTPUT_LIMIT"
    assert ex["stderr"] == "e" * 65536
    assert ex["stderr_truncated"] is True
    assert ex["stdout_truncated"] is False


def test_exactly_64_kib_of_output_is_not_truncated(stack):
    ex = stack.execute('import sys\nsys.stdout.write("x" * 65536)\n')
    assert ex["status"] == "COMPLETED", {k: v for k, v in ex.items() if k != "stdout"}
    assert ex["stdout"] == "x" * 65536
    assert ex["stdout_truncated"] is False


def test_output_limit_counts_utf8_bytes(stack):
    # 40000 two-byte characters: the first 65536 bytes are 32768 of them.
    ex = stack.execute('import sys\nsys.stdout.write("\u00e9" * 40000)\n')
    assert ex["status"] == "FAILED", {k: v for k, v in ex.items() if k != "stdout"}
    assert ex["error"]["code"] == "OUTPUT_LIMIT"
    assert ex["stdout"] == "\u00e9" * 32768


def test_invalid_utf8_output_is_replaced(stack):
    ex = stack.execute("import sys\nsys.stdout.buffer.write(b'a\\xffb\\n')\n")
    assert ex["status"] == "COMPLETED", ex
    assert ex["stdout"] == "a\ufffdb\n"


def test_stdin_of_exactly_64_kib_is_accepted(stack):
    ex = stack.execute("import sys\nprint(len(sys.stdin.read()))\n", stdin="x" * 65536)
    assert ex["status"] == "COMPLETED", ex
    assert ex["stdout"] == "65536\n"


def test_run_stdin_with_nul_is_invalid_field(stack):
    sid = stack.create_session(HELLO)["session_id"]
    assert_error(stack.request("POST", f"/code-sessions/{sid}/run", {"stdin": "a\u0000b"}),
                 400, "INVALID_FIELD", "stdin")


def test_program_cpu_time_is_reported(stack):
    ex = stack.execute("import time\nwhile time.process_time() < 1.0:\n    pass\nprint('ok')\n")
    assert ex["status"] == "COMPLETED", ex
    assert is_int(ex["cpu_time_ms"]) and ex["cpu_time_ms"] >= 990, ex


def test_background_child_does_not_delay_completion(stack):
    code = ("import os, time\nif os.fork() == 0:\n    time.sleep(30)\n    os._exit(0)\n"
            "print('parent done')\n")
    t0 = time.monotonic()
    ex = stack.execute(code)
    assert (ex["status"], ex["stdout"]) == ("COMPLETED", "parent done\n"), ex
    assert time.monotonic() - t0 < 3.0


def test_sandbox_has_no_network(stack):
    code = ("import socket\ntry:\n    socket.create_connection(('127.0.0.1', %d), timeout=2)\n"
            "    print('connected')\nexcept OSError:\n    print('blocked')\n" % stack.port)
    ex = stack.execute(code)
    assert (ex["status"], ex["stdout"]) == ("COMPLETED", "blocked\n"), ex


def test_process_count_is_limited(stack):
    code = ("import os, time\nn = 0\ntry:\n    while n < 1000:\n        if os.fork() == 0:\n"
            "            time.sleep(10)\n            os._exit(0)\n        n += 1\n"
            "except OSError:\n    print('limited')\nelse:\n    print('unlimited')\n")
    ex = stack.execute(code)
    assert (ex["status"], ex["stdout"]) == ("COMPLETED", "limited\n"), ex


def test_allocation_over_memory_limit_fails(stack):
    ex = stack.execute("b = bytearray(512 * 1024 * 1024)\nprint(len(b))\n")
    assert ex["status"] == "FAILED", ex
    assert ex["stdout"] == ""


def test_allocation_over_memory_limit_reports_its_cause(stack):
    # With cgroups the runner sees the limit hit (MEMORY_LIMIT); in the
    # rlimit-only mode (shown in /health) Python raises MemoryError itself.
    mode = stack.request("GET", "/health")[2]["sandbox_mode"]
    ex = stack.execute("b = bytearray(512 * 1024 * 1024)\nprint(len(b))\n")
    if "cgroup" in mode:
        assert ex["error"]["code"] == "MEMORY_LIMIT", (mode, ex)
    else:
        assert ex["error"]["code"] == "RUNTIME_ERROR", (mode, ex)
        assert "MemoryError" in ex["stderr"], (mode, ex)


def test_get_while_running_shows_queued_or_running(stack):
    sid = stack.create_session("import time\ntime.sleep(1)\nprint('done')\n")["session_id"]
    eid = stack.run_ok(sid)
    ex = stack.get_execution(eid)
    assert ex["status"] in ("QUEUED", "RUNNING"), ex
    assert ex["stdout"] is None and ex["stderr"] is None
    assert ex["finished_at"] is None
    assert stack.wait_terminal(eid)["stdout"] == "done\n"


def test_run_uses_snapshot_of_code_at_run_time(stack):
    sid = stack.create_session("")["session_id"]
    stack.patch_code(sid, 'print("A")\n')
    eid = stack.run_ok(sid)
    stack.patch_code(sid, 'print("B")\n')
    ex = stack.wait_terminal(eid)
    assert ex["status"] == "COMPLETED", ex
    assert ex["stdout"] == "A\n"


def test_20_concurrent_sessions_get_their_own_output(stack):
    def one(_):
        token = uuid.uuid4().hex
        sid = stack.create_session(f'print("{token}")\n')["session_id"]
        ex = stack.wait_terminal(stack.run_ok(sid), timeout=60)
        return token, ex

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        results = list(pool.map(one, range(20)))
    assert [(ex["status"], ex["stdout"]) for _, ex in results] == \
        [("COMPLETED", token + "\n") for token, _ in results]


# ---- wall-clock limit (both runs at once: the runner has 2 slots) -------------

@pytest.fixture(scope="module")
def timeout_runs(stack):
    codes = {
        "loop": "while True:\n    pass\n",
        "partial": 'print("before", flush=True)\nwhile True:\n    pass\n',
    }
    out = {}

    def one(name):
        sid = stack.create_session(codes[name])["session_id"]
        t0 = time.monotonic()
        eid = stack.run_ok(sid)
        ex = stack.wait_terminal(eid, timeout=30)
        out[name] = (ex, time.monotonic() - t0)

    threads = [threading.Thread(target=one, args=(n,)) for n in codes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(out) == set(codes), "a timeout run did not finish"
    return out


def test_infinite_loop_times_out(timeout_runs):
    ex, _ = timeout_runs["loop"]
    assert ex["status"] == "TIMEOUT", ex
    assert ex["error"]["code"] == "TIMEOUT"


def test_timeout_execution_time_is_between_5_and_7_s(timeout_runs):
    ex, _ = timeout_runs["loop"]
    assert is_int(ex["execution_time_ms"]) and 5000 <= ex["execution_time_ms"] <= 7000, ex


def test_timeout_reached_within_9_s_of_run(timeout_runs):
    _, wall = timeout_runs["loop"]
    assert wall < 9.0, wall


def test_timeout_reports_cpu_time_of_the_program(timeout_runs):
    # A busy loop that ran ~5 s of wall time used seconds of CPU, not ~0.
    ex, _ = timeout_runs["loop"]
    assert is_int(ex["cpu_time_ms"]) and ex["cpu_time_ms"] >= 1000, ex


def test_timeout_keeps_partial_output(timeout_runs):
    ex, _ = timeout_runs["partial"]
    assert ex["status"] == "TIMEOUT", ex
    assert ex["stdout"] == "before\n"


# ---- listing -------------------------------------------------------------------

@pytest.fixture(scope="module")
def three_runs(stack):
    sid = stack.create_session("print(1)\n")["session_id"]
    eids = [stack.run_ok(sid) for _ in range(3)]
    for eid in eids:
        stack.wait_terminal(eid)
    return sid, eids


def list_url(sid, query=""):
    return f"/code-sessions/{sid}/executions" + (f"?{query}" if query else "")


def test_list_returns_newest_first(three_runs, stack):
    sid, eids = three_runs
    status, _, body = stack.request("GET", list_url(sid))
    assert status == 200, body
    assert set(body) == {"executions", "next_cursor"}, body
    assert [e["execution_id"] for e in body["executions"]] == eids[::-1]
    assert body["next_cursor"] is None


def test_list_items_are_execution_objects(three_runs, stack):
    sid, eids = three_runs
    _, _, body = stack.request("GET", list_url(sid))
    for e in body["executions"]:
        assert set(e) == EXECUTION_KEYS, e
        assert e["session_id"] == sid
        assert e["status"] == "COMPLETED"
        assert e["stdout"] == "1\n"


def test_list_first_page_has_limit_items_and_cursor(three_runs, stack):
    sid, eids = three_runs
    status, _, body = stack.request("GET", list_url(sid, "limit=2"))
    assert status == 200, body
    assert [e["execution_id"] for e in body["executions"]] == [eids[2], eids[1]]
    assert isinstance(body["next_cursor"], str) and body["next_cursor"]


def test_list_second_page_has_rest_and_no_cursor(three_runs, stack):
    sid, eids = three_runs
    _, _, first = stack.request("GET", list_url(sid, "limit=2"))
    cursor = first["next_cursor"]
    status, _, body = stack.request(
        "GET", list_url(sid, "limit=2&cursor=" + urllib.parse.quote(cursor, safe="")))
    assert status == 200, body
    assert [e["execution_id"] for e in body["executions"]] == [eids[0]]
    assert body["next_cursor"] is None


def test_list_for_unknown_session_is_not_found(stack):
    assert_error(stack.request("GET", list_url(random_uuid())), 404, "NOT_FOUND")


def test_list_for_session_without_runs_is_empty(stack):
    sid = stack.create_session("")["session_id"]
    status, _, body = stack.request("GET", list_url(sid))
    assert status == 200, body
    assert body == {"executions": [], "next_cursor": None}


@pytest.mark.parametrize("limit", ["0", "abc", "101", "-1", "2x"])
def test_list_bad_limit_is_invalid_query(stack, limit):
    sid = stack.create_session("")["session_id"]
    assert_error(stack.request("GET", list_url(sid, "limit=" + limit)),
                 400, "INVALID_QUERY", "limit")


def test_list_bad_cursor_is_invalid_query(stack):
    sid = stack.create_session("")["session_id"]
    assert_error(stack.request("GET", list_url(sid, "cursor=%21%21not-a-cursor")),
                 400, "INVALID_QUERY", "cursor")


# ---- per-session cap -------------------------------------------------------------

@pytest.fixture(scope="module")
def capped_session(stack):
    """Six quick runs of a 3-second sleep on one session, then all of them
    waited for (so later tests find the runner idle)."""
    sid = stack.create_session("import time\ntime.sleep(3)\nprint('slept')\n")["session_id"]
    replies = [stack.run(sid) for _ in range(6)]
    accepted = [r[2]["execution_id"] for r in replies if r[0] == 202]
    finished = [stack.wait_terminal(eid, timeout=40) for eid in accepted]
    after = stack.run(sid)
    if after[0] == 202:
        stack.wait_terminal(after[2]["execution_id"], timeout=20)
    return {"replies": replies, "finished": finished, "after": after}


def test_five_runs_in_flight_are_accepted(capped_session):
    assert [r[0] for r in capped_session["replies"][:5]] == [202] * 5


def test_sixth_run_in_flight_gets_429(capped_session):
    assert_error(capped_session["replies"][5], 429, "TOO_MANY_RUNS")


def test_429_has_retry_after(capped_session):
    retry = capped_session["replies"][5][1].get("Retry-After")
    assert retry is not None and retry.isdigit() and int(retry) >= 1, retry


def test_capped_runs_all_complete(capped_session):
    assert [(e["status"], e["stdout"]) for e in capped_session["finished"]] == \
        [("COMPLETED", "slept\n")] * 5


def test_run_accepted_again_once_runs_finish(capped_session):
    assert capped_session["after"][0] == 202, capped_session["after"]


# The interpreter starts without the site module (see runner/python_boot.c);
# a program must not be able to tell.

def test_program_runs_as_the_main_script(stack):
    code = ("import sys, __main__\nx = 42\n"
            "print(__name__, sys.argv, sys.path[0], __file__, __main__.x)\n")
    ex = stack.execute(code)
    assert ex["stdout"] == "__main__ ['/app/main.py'] /app /app/main.py 42\n", ex


def test_program_sees_the_import_path_of_the_interpreter_with_site(stack):
    # conf/engine.conf runs /usr/bin/python3; with site it would add the
    # dist-packages of its own version (Debian's site.py), whichever it is.
    probe = ("import sys\nprint(sys.path[1:]); print('/usr/local/lib/python%d.%d/dist-packages'"
             " % sys.version_info[:2])\n")
    bare, local = subprocess.run(["/usr/bin/python3", "-E", "-S", "-c", probe], check=True,
                                 capture_output=True, text=True).stdout.splitlines()
    expected = ast.literal_eval(bare) + [local, "/usr/lib/python3/dist-packages"]
    ex = stack.execute("import sys\nprint(sys.path[1:])\n")
    assert ast.literal_eval(ex["stdout"]) == expected, ex


def test_exit_and_quit_builtins_work(stack):
    assert stack.execute("print('a')\nexit(3)\n")["exit_code"] == 3
    ex = stack.execute("quit()\nprint('not reached')\n")
    assert (ex["status"], ex["exit_code"], ex["stdout"]) == ("COMPLETED", 0, "")


def test_traceback_shows_only_the_programs_frames(stack):
    ex = stack.execute("def f():\n    1/0\nf()\n")
    assert ex["stderr"] == (
        "Traceback (most recent call last):\n"
        '  File "/app/main.py", line 3, in <module>\n    f()\n'
        '  File "/app/main.py", line 2, in f\n    1/0\n    ~^~\n'
        "ZeroDivisionError: division by zero\n"), ex


def test_syntax_error_is_a_compile_error_reported_like_the_interpreter(stack):
    ex = stack.execute("x = (\n")
    assert (ex["status"], ex["error"]["code"], ex["exit_code"], ex["stderr"]) == (
        "FAILED", "COMPILE_ERROR", None, ""), ex
    assert ex["compile_output"] == ('  File "main.py", line 1\n    x = (\n        ^\n'
                                    "SyntaxError: '(' was never closed\n"), ex


def test_multiprocessing_pickles_functions_of_the_program(stack):
    code = ("import multiprocessing\ndef sq(v):\n    return v * v\n"
            "if __name__ == '__main__':\n"
            "    with multiprocessing.Pool(2) as p:\n        print(p.map(sq, [1, 2, 3]))\n")
    ex = stack.execute(code)
    assert (ex["status"], ex["stdout"]) == ("COMPLETED", "[1, 4, 9]\n"), ex
