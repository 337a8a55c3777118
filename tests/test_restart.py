"""Stopping and restarting the stack: nothing lost, nothing left behind."""

import os
import signal
import time


def wait_status(stack, eid, wanted, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        ex = stack.get_execution(eid)
        if ex["status"] in wanted:
            return ex
        assert time.monotonic() < deadline, f"never reached {wanted}: {ex}"
        time.sleep(0.02)


def test_session_survives_restart(own_stack):
    s = own_stack
    sid = s.create_session('print("kept")\n')["session_id"]
    before = s.request("GET", f"/code-sessions/{sid}")
    s.restart()
    assert s.request("GET", f"/code-sessions/{sid}")[::2] == before[::2]


def test_execution_survives_restart(own_stack):
    s = own_stack
    sid = s.create_session('print("kept")\n')["session_id"]
    ex = s.wait_terminal(s.run_ok(sid))
    assert ex["status"] == "COMPLETED" and ex["stdout"] == "kept\n", ex
    s.restart()
    status, _, after = s.request("GET", f"/executions/{ex['execution_id']}")
    assert status == 200, after
    assert after == ex


def test_execution_list_survives_restart(own_stack):
    s = own_stack
    sid = s.create_session('print("kept")\n')["session_id"]
    s.wait_terminal(s.run_ok(sid))
    before = s.request("GET", f"/code-sessions/{sid}/executions")
    s.restart()
    assert s.request("GET", f"/code-sessions/{sid}/executions")[::2] == before[::2]


def test_autosave_survives_restart(own_stack):
    s = own_stack
    sid = s.create_session("print(1)\n")["session_id"]
    patched = s.patch_code(sid, "print('autosaved')\n")
    s.restart()
    status, _, body = s.request("GET", f"/code-sessions/{sid}")
    assert status == 200, body
    assert body == patched


def test_runs_work_after_restart(own_stack):
    s = own_stack
    sid = s.create_session('print("again")\n')["session_id"]
    s.restart()
    ex = s.wait_terminal(s.run_ok(sid))
    assert (ex["status"], ex["stdout"]) == ("COMPLETED", "again\n"), ex


def test_sigterm_stops_stack_with_status_0_and_no_process_left(own_stack):
    s = own_stack
    s.stop()  # asserts that no process of the stack is left
    assert s.last_exit_code == 0
    assert s.leftover_processes(set()) == []


def test_sigterm_during_a_run_leaves_no_process(own_stack):
    s = own_stack
    sid = s.create_session("import time\ntime.sleep(4)\n")["session_id"]
    eid = s.run_ok(sid)
    wait_status(s, eid, ("RUNNING",))
    s.stop()  # asserts that no process (sandbox included) is left
    assert s.last_exit_code == 0


def test_run_interrupted_by_stop_finishes_after_restart(own_stack):
    s = own_stack
    sid = s.create_session("import time\ntime.sleep(2)\nprint('done')\n")["session_id"]
    eid = s.run_ok(sid)
    wait_status(s, eid, ("RUNNING",))
    s.restart()
    ex = s.wait_terminal(eid, timeout=45)
    assert (ex["status"], ex["stdout"]) == ("COMPLETED", "done\n"), ex


def runner_pid(stack):
    """The runner's pid from /health, checked to be a process of this stack."""
    status, _, health = stack.request("GET", "/health")
    assert status == 200, health
    pid = health["runners"][0]["pid"]
    assert pid in {p for p, _ in stack.descendants()}, (pid, health)
    return pid


def test_runner_killed_brings_stack_down_with_no_process_left(own_stack):
    s = own_stack
    sid = s.create_session("import time\ntime.sleep(30)\n")["session_id"]
    eid = s.run_ok(sid)
    wait_status(s, eid, ("RUNNING",))
    known = s.descendants()
    os.kill(runner_pid(s), signal.SIGKILL)
    assert s.proc.wait(15) == 1  # run-stack: "a component exited; stopping"
    deadline = time.monotonic() + 5
    left = s.leftover_processes(known)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = s.leftover_processes(known)
    assert left == []


def test_run_lost_with_killed_runner_finishes_after_restart(own_stack):
    s = own_stack
    sid = s.create_session("import time\ntime.sleep(2)\nprint('done')\n")["session_id"]
    eid = s.run_ok(sid)
    wait_status(s, eid, ("RUNNING",))
    os.kill(runner_pid(s), signal.SIGKILL)
    s.proc.wait(15)
    s.stop()
    s.start()
    ex = s.wait_terminal(eid, timeout=45)
    assert (ex["status"], ex["stdout"], ex["attempt"]) == ("COMPLETED", "done\n", 2), ex
