"""Interactive runs and cancel against the real stack: a prompt printed
without a newline is in the execution's stdout while the program waits, in
every language; input sent with POST /executions/{id}/stdin reaches it; the
output is exactly what the program wrote. Cancel stops queued and running
executions for good, and is idempotent."""

import signal
import sqlite3
import time

import pytest

from components import Components
from stack import TERMINAL, assert_error, random_uuid

IDS = ["python", "javascript", "typescript", "c", "cpp", "java", "go", "rust", "bash", "sql"]

# Prints "name? " without a newline, reads one line, prints "hi <line>".
ASK_NAME = {
    "python": 'name = input("name? ")\nprint("hi", name)\n',
    "javascript": "const rl = require('readline').createInterface({ input: process.stdin, output: process.stdout });\n"
                  "rl.question('name? ', (name) => { console.log('hi', name); rl.close(); });\n",
    "typescript": "const rl = require('readline').createInterface({ input: process.stdin, output: process.stdout });\n"
                  "rl.question('name? ', (name: string) => { console.log('hi', name); rl.close(); });\n",
    "c": "#include <stdio.h>\nint main(void) {\n  char name[64];\n  printf(\"name? \");\n"
         "  if (scanf(\"%63s\", name) != 1) return 2;\n  printf(\"hi %s\\n\", name);\n  return 0;\n}\n",
    "cpp": "#include <iostream>\n#include <string>\nint main() {\n  std::string name;\n"
           "  std::cout << \"name? \";\n  std::getline(std::cin, name);\n"
           "  std::cout << \"hi \" << name << \"\\n\";\n}\n",
    "java": "import java.util.Scanner;\npublic class Main {\n  public static void main(String[] a) {\n"
            "    System.out.print(\"name? \");\n    String name = new Scanner(System.in).nextLine();\n"
            "    System.out.println(\"hi \" + name);\n  }\n}\n",
    "go": "package main\nimport (\"bufio\"; \"fmt\"; \"os\"; \"strings\")\nfunc main() {\n"
          "  fmt.Print(\"name? \")\n  line, _ := bufio.NewReader(os.Stdin).ReadString('\\n')\n"
          "  fmt.Println(\"hi\", strings.TrimSpace(line))\n}\n",
    "rust": "use std::io::{self, Write};\nfn main() {\n  print!(\"name? \");\n  io::stdout().flush().unwrap();\n"
            "  let mut name = String::new();\n  io::stdin().read_line(&mut name).unwrap();\n"
            "  println!(\"hi {}\", name.trim());\n}\n",
    "bash": "printf 'name? '\nread name\necho \"hi $name\"\n",
    # The prompt is a row with empty separators; the answer is SQL the script reads from stdin.
    "sql": ".mode list\n.separator \"\" \"\"\nSELECT 'name? ';\n.separator \"|\" \"\\n\"\n.read '|cat'\n",
}
ANSWER = {lang: "Ada\n" for lang in IDS}
ANSWER["sql"] = "SELECT 'hi ' || 'Ada';\n"


def start_interactive(stack, language, code, stdin=None):
    sid = stack.create_session(code, language)["session_id"]
    body = {"interactive": True}
    if stdin is not None:
        body["stdin"] = stdin
    status, _, run = stack.request("POST", f"/code-sessions/{sid}/run", body)
    assert status == 202, run
    return run["execution_id"]


def wait_stdout(stack, eid, want, timeout=60.0):
    """Polls GET /executions/{id} until its stdout is `want`; returns the execution."""
    deadline = time.monotonic() + timeout
    while True:
        e = stack.get_execution(eid)
        if e["stdout"] == want or e["status"] in TERMINAL or time.monotonic() > deadline:
            return e
        time.sleep(0.02)


def send(stack, eid, **body):
    return stack.request("POST", f"/executions/{eid}/stdin", body)


@pytest.mark.parametrize("language", IDS)
def test_prompt_without_newline_is_visible_before_the_answer(stack, language):
    eid = start_interactive(stack, language, ASK_NAME[language])
    waiting = wait_stdout(stack, eid, "name? ")
    assert (waiting["status"], waiting["stdout"], waiting["interactive"]) == ("RUNNING", "name? ", True)
    time.sleep(0.3)         # blocked on input: nothing more comes
    assert stack.get_execution(eid)["stdout"] == "name? "
    # With eof: Node.js keeps a process whose stdin pipe is open alive after rl.close().
    status, _, body = send(stack, eid, data=ANSWER[language], eof=True)
    assert (status, body) == (202, {"execution_id": eid, "bytes": len(ANSWER[language]), "eof": True})
    done = stack.wait_terminal(eid, 30)
    assert (done["status"], done["stdout"], done["stderr"], done["error"]) == \
        ("COMPLETED", "name? hi Ada\n", "", None), done


def test_eof_ends_the_input(stack):
    eid = start_interactive(stack, "python", "import sys\nprint(repr(sys.stdin.read()))\n")
    assert send(stack, eid, data="ab")[0] == 202
    assert send(stack, eid, data="c\n")[0] == 202
    assert send(stack, eid, eof=True)[0] == 202
    done = stack.wait_terminal(eid, 20)
    assert (done["status"], done["stdout"]) == ("COMPLETED", "'abc\\n'\n")


def test_run_stdin_comes_first_and_data_with_eof_in_one_request(stack):
    eid = start_interactive(stack, "python", "import sys\nprint(repr(sys.stdin.read()))\n", stdin="1\n")
    status, _, body = send(stack, eid, data="2", eof=True)
    assert (status, body) == (202, {"execution_id": eid, "bytes": 1, "eof": True})
    done = stack.wait_terminal(eid, 20)
    assert (done["status"], done["stdout"]) == ("COMPLETED", "'1\\n2'\n")


def test_input_sent_while_queued_waits_for_the_start(stack):
    eid = start_interactive(stack, "python", "print(input() + input())\n")
    assert send(stack, eid, data="x\ny\n")[0] == 202       # most likely still QUEUED
    done = stack.wait_terminal(eid, 20)
    assert (done["status"], done["stdout"]) == ("COMPLETED", "xy\n")


def test_stdout_is_exactly_what_the_program_wrote(stack):
    code = "import sys\nsys.stdout.write('a\\r\\nb\\x1b[31m')\nx = input()\nprint(repr(x))\n"
    eid = start_interactive(stack, "python", code)
    assert wait_stdout(stack, eid, "a\r\nb\x1b[31m")["stdout"] == "a\r\nb\x1b[31m"
    assert send(stack, eid, data="\t\x7f\x03\x04 z\n")[0] == 202
    done = stack.wait_terminal(eid, 20)
    assert done["stdout"] == "a\r\nb\x1b[31m'\\t\\x7f\\x03\\x04 z'\n"


def test_stdin_after_eof_is_not_running(stack):
    eid = start_interactive(stack, "python", "import sys, time\nsys.stdin.read()\ntime.sleep(2)\n")
    assert send(stack, eid, eof=True)[0] == 202
    assert_error(send(stack, eid, data="late"), 409, "NOT_RUNNING")


def test_stdin_of_a_finished_execution_is_not_running(stack):
    eid = start_interactive(stack, "python", "print(1)\n")
    assert stack.wait_terminal(eid, 20)["status"] == "COMPLETED"
    assert_error(send(stack, eid, data="x"), 409, "NOT_RUNNING")


def test_stdin_of_a_non_interactive_run_is_not_running(stack):
    sid = stack.create_session("import time\ntime.sleep(1)\n")["session_id"]
    eid = stack.run_ok(sid)
    assert_error(send(stack, eid, data="x"), 409, "NOT_RUNNING")


def test_stdin_of_an_unknown_execution_is_not_found(stack):
    assert_error(send(stack, random_uuid(), data="x"), 404, "NOT_FOUND")


def test_stdin_flood_beyond_max_stdin_bytes_is_refused_without_harm(stack):
    code = "import sys\nprint(len(sys.stdin.read()))\n"
    eid = start_interactive(stack, "python", code, stdin="s" * 1000)
    chunk = "x" * 16384
    sent = 1000
    for _ in range(3):
        assert send(stack, eid, data=chunk)[0] == 202
        sent += len(chunk)
    # 1000 + 3 * 16384 = 50152 bytes so far; one more chunk passes 65536.
    assert_error(send(stack, eid, data=chunk), 413, "PAYLOAD_TOO_LARGE", "data")
    assert_error(send(stack, eid, data="y" * (65536 - sent + 1)), 413, "PAYLOAD_TOO_LARGE", "data")
    status, _, _ = send(stack, eid, data="y" * (65536 - sent), eof=True)
    assert status == 202
    done = stack.wait_terminal(eid, 20)
    assert (done["status"], done["stdout"]) == ("COMPLETED", "65536\n")


def test_cpu_limit_still_ends_an_interactive_run_timeout(stack):
    eid = start_interactive(stack, "python", "while True: pass\n")
    done = stack.wait_terminal(eid, 30)
    assert (done["status"], done["error"]) == ("TIMEOUT", {
        "code": "TIMEOUT", "message": "the program used more than 5000 ms of CPU time"}), done
    assert 4000 <= done["cpu_time_ms"] < 7000, done


def test_waiting_for_input_is_not_cpu_time(stack):
    eid = start_interactive(stack, "python", "x = input('? ')\nprint(x)\n")
    assert wait_stdout(stack, eid, "? ")["status"] == "RUNNING"
    time.sleep(6)           # longer than the 5 s limit of a run
    assert stack.get_execution(eid)["status"] == "RUNNING"
    assert send(stack, eid, data="still here\n")[0] == 202
    done = stack.wait_terminal(eid, 20)
    assert (done["status"], done["stdout"]) == ("COMPLETED", "? still here\n")
    assert done["execution_time_ms"] >= 6000 and done["cpu_time_ms"] < 2000, done


# ---- cancel ---------------------------------------------------------------

def cancel(stack, eid):
    return stack.request("POST", f"/executions/{eid}/cancel", raw=b"")


def test_cancel_of_a_running_execution_kills_its_whole_tree(stack):
    code = ("import os, time\nfor _ in range(3):\n    if os.fork() == 0:\n        break\n"
            "os.write(1, b'up\\n')\ntime.sleep(30)\n")
    sid = stack.create_session(code)["session_id"]
    eid = stack.run_ok(sid)
    deadline = time.monotonic() + 20
    while stack.get_execution(eid)["status"] != "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.5)
    t0 = time.monotonic()
    status, _, body = cancel(stack, eid)
    assert status == 202 and body["execution_id"] == eid, body
    done = stack.wait_terminal(eid, 10)
    took = time.monotonic() - t0
    assert (done["status"], done["error"]) == \
        ("FAILED", {"code": "CANCELLED", "message": "the execution was cancelled"}), done
    assert done["stdout"] == "up\n" * 4, done     # output so far is kept
    assert took < 2.0, took


def test_cancel_twice_is_accepted_twice(stack):
    sid = stack.create_session("import time\ntime.sleep(30)\n")["session_id"]
    eid = stack.run_ok(sid)
    assert cancel(stack, eid)[0] == 202
    assert cancel(stack, eid)[0] == 202
    done = stack.wait_terminal(eid, 10)
    assert (done["status"], done["error"]["code"]) == ("FAILED", "CANCELLED")
    assert cancel(stack, eid)[0] == 202


def test_cancel_of_a_finished_execution_is_not_running(stack):
    done = stack.execute("print('done')\n")
    assert done["status"] == "COMPLETED"
    assert_error(cancel(stack, done["execution_id"]), 409, "NOT_RUNNING")
    assert stack.get_execution(done["execution_id"]) == done


def test_cancel_of_an_unknown_execution_is_not_found(stack):
    assert_error(cancel(stack, random_uuid()), 404, "NOT_FOUND")


def test_cancel_of_an_interactive_run_waiting_for_input(stack):
    eid = start_interactive(stack, "c", ASK_NAME["c"])
    assert wait_stdout(stack, eid, "name? ")["status"] == "RUNNING"
    assert cancel(stack, eid)[0] == 202
    done = stack.wait_terminal(eid, 10)
    assert (done["status"], done["error"]["code"], done["stdout"]) == ("FAILED", "CANCELLED", "name? ")


# ---- with a stack of the test's own ---------------------------------------

@pytest.fixture
def parts():
    """The runner and lighttpd started one by one, interactive_wall_ms small."""
    c = Components({"interactive_wall_ms": 1500})
    try:
        yield c
    finally:
        c.cleanup()


def new_session(comp, code, language="python"):
    status, body = comp.request("POST", "/code-sessions", {"language": language, "template_code": code})
    assert status == 201, body
    return body["session_id"]


def wait_status(comp, eid, want, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        status, body = comp.request("GET", f"/executions/{eid}")
        if (status == 200 and body["status"] == want) or time.monotonic() > deadline:
            return body
        time.sleep(0.02)


def test_a_cancelled_queued_execution_never_runs(parts):
    parts.start_lighttpd()
    sid = new_session(parts, "open('/tmp/x', 'w')\nprint('ran')\n")
    status, run = parts.request("POST", f"/code-sessions/{sid}/run", {})
    assert status == 202
    eid = run["execution_id"]
    status, body = parts.request("POST", f"/executions/{eid}/cancel", {})
    assert (status, body["status"], body["error"]["code"]) == (202, "FAILED", "CANCELLED"), body
    parts.start_runner()
    parts.wait_health(200)
    time.sleep(1.0)         # several sweeps: the queue is empty
    status, body = parts.request("GET", f"/executions/{eid}")
    assert (body["status"], body["error"]["code"], body["attempt"], body["started_at"], body["stdout"]) == \
        ("FAILED", "CANCELLED", 0, None, ""), body


def test_interactive_wall_ms_ends_a_run_waiting_for_input_timeout(parts):
    parts.start()
    sid = new_session(parts, "x = input('? ')\nprint(x)\n")
    status, run = parts.request("POST", f"/code-sessions/{sid}/run", {"interactive": True})
    assert status == 202
    done = wait_status(parts, run["execution_id"], "TIMEOUT", timeout=15)
    assert (done["status"], done["error"]["code"], done["stdout"]) == ("TIMEOUT", "TIMEOUT", "? "), done
    assert 1500 <= done["execution_time_ms"] < 3000, done


def freeze_outside_a_write(parts, tries=200):
    """SIGSTOP the runner at a moment it holds no SQLite write transaction.
    A runner frozen inside one (its output's flush, say) holds the store's
    single write lock, and every other writer waits for it: that is SQLite's
    model, not the state this test is about."""
    for _ in range(tries):
        parts.runner.send_signal(signal.SIGSTOP)
        db = sqlite3.connect(f"{parts.data_dir}/engine.db", timeout=0, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute("ROLLBACK")
            return
        except sqlite3.OperationalError as e:
            assert "locked" in str(e), e
        finally:
            db.close()
        parts.runner.send_signal(signal.SIGCONT)
        time.sleep(0.02)
    raise AssertionError("the runner held the store's write lock at every try")


def test_a_cancel_survives_the_runner_s_death(parts):
    """The store is the truth: a cancel of a run whose runner is stopped,
    then killed, ends CANCELLED when another runner sweeps; never run again."""
    parts.start()
    sid = new_session(parts, "import time\nprint('once', flush=True)\ntime.sleep(60)\n")
    status, run = parts.request("POST", f"/code-sessions/{sid}/run", {})
    eid = run["execution_id"]
    assert wait_status(parts, eid, "RUNNING")["status"] == "RUNNING"
    freeze_outside_a_write(parts)
    status, body = parts.request("POST", f"/executions/{eid}/cancel", {})
    assert (status, body["status"]) == (202, "RUNNING"), body
    parts.kill_runner()
    parts.start_runner()
    done = wait_status(parts, eid, "FAILED", timeout=30)
    assert (done["status"], done["error"]["code"], done["attempt"]) == ("FAILED", "CANCELLED", 1), done
    db = sqlite3.connect(f"{parts.data_dir}/engine.db", timeout=10)
    try:
        assert db.execute("SELECT status, cancel_requested FROM executions WHERE id = ?",
                          (eid,)).fetchone() == ("FAILED", 1)
    finally:
        db.close()


def test_cpu_limit_of_an_interactive_run_counts_all_its_processes(stack):
    """Four processes of 2 s CPU each stay under RLIMIT_CPU one by one; together
    they pass the 5 s: the run ends TIMEOUT, not after 8 s of CPU."""
    code = ("import os, time\nfor _ in range(3):\n    if os.fork() == 0:\n        break\n"
            "t = time.process_time()\nwhile time.process_time() - t < 2:\n    pass\n"
            "os.write(1, b'done\\n')\ntry:\n    os.wait()\nexcept ChildProcessError:\n    pass\n")
    eid = start_interactive(stack, "python", code)
    done = stack.wait_terminal(eid, 30)
    assert (done["status"], done["error"]) == ("TIMEOUT", {
        "code": "TIMEOUT", "message": "the program used more than 5000 ms of CPU time"}), done
    assert 5000 <= done["cpu_time_ms"] < 6000, done
    assert done["stdout"].count("done") < 4, done


def test_input_to_a_program_that_never_reads_blocks_nothing(stack):
    """A full pipe must not stall the runner: cancel still acts at once."""
    eid = start_interactive(stack, "python", "import time\nprint('busy', flush=True)\ntime.sleep(30)\n")
    assert wait_stdout(stack, eid, "busy\n")["status"] == "RUNNING"
    for _ in range(4):
        assert send(stack, eid, data="z" * 16384)[0] == 202
    time.sleep(0.2)
    t0 = time.monotonic()
    assert cancel(stack, eid)[0] == 202
    done = stack.wait_terminal(eid, 10)
    assert (done["status"], done["error"]["code"], done["stdout"]) == ("FAILED", "CANCELLED", "busy\n")
    assert time.monotonic() - t0 < 2.0


def test_cancel_during_the_compile_ends_cancelled_without_running(stack):
    code = "fn main() { println!(\"ran\"); }\n" + "".join(
        f"fn f{i}() -> u64 {{ (0..{i}).map(|x| x * 3).sum() }}\n" for i in range(400))
    sid = stack.create_session(code, "rust")["session_id"]
    eid = stack.run_ok(sid)
    deadline = time.monotonic() + 20
    while stack.get_execution(eid)["status"] != "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cancel(stack, eid)[0] == 202
    done = stack.wait_terminal(eid, 15)
    assert (done["status"], done["error"]["code"], done["stdout"]) == ("FAILED", "CANCELLED", ""), done
