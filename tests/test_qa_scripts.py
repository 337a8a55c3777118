"""The QA scripts in tests/qa/ (README, "QA scripts") against the real stack:
each is run as a QA person would, with BASE_URL pointing at the test stack."""

import os
import subprocess

from stack import REPO, UUID_RE

QA = REPO / "tests" / "qa"


def qa(stack, script, *args, stdin=None, timeout=60):
    env = dict(os.environ, BASE_URL=f"http://127.0.0.1:{stack.port}")
    return subprocess.run([str(QA / script), *map(str, args)], env=env, input=stdin,
                          capture_output=True, text=True, timeout=timeout)


def test_health_script_exits_0_and_prints_status(stack):
    r = qa(stack, "health.sh")
    assert r.returncode == 0, r.stderr
    assert '"status": "ok"' in r.stdout


def test_create_autosave_run_poll_scripts_chain(stack, tmp_path):
    code = tmp_path / "greet.py"
    code.write_text('name = input()\nprint("hi", name, "✓")\n')
    stdin = tmp_path / "stdin.txt"
    stdin.write_text("Ada\n")
    r = qa(stack, "create-session.sh")
    assert r.returncode == 0, r.stderr
    session = r.stdout.strip()
    assert UUID_RE.match(session)
    r = qa(stack, "autosave.sh", session, code)
    assert r.returncode == 0, r.stderr
    assert stack.request("GET", f"/code-sessions/{session}")[2]["source_code"] == code.read_text()
    r = qa(stack, "run.sh", session, stdin)
    assert r.returncode == 0, r.stderr
    execution = r.stdout.strip()
    assert UUID_RE.match(execution)
    r = qa(stack, "poll.sh", execution)
    assert r.returncode == 0, r.stderr
    assert '"status": "COMPLETED"' in r.stdout
    assert '"stdout": "hi Ada ✓\\n"' in r.stdout
    r = qa(stack, "history.sh", session)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[:2] == [execution, "COMPLETED"]


def test_run_file_prints_status_and_output(stack, tmp_path):
    code = tmp_path / "main.py"
    code.write_text('print(input()[::-1])\n')
    r = qa(stack, "run-file.sh", code, "-", stdin="olleh\n")
    assert r.returncode == 0, r.stderr
    assert "status:    COMPLETED" in r.stdout
    assert "--- stdout ---\nhello\n--- stderr ---\n" in r.stdout


def test_run_file_exits_1_and_shows_traceback_on_error(stack, tmp_path):
    code = tmp_path / "bad.py"
    code.write_text("1/0\n")
    r = qa(stack, "run-file.sh", code)
    assert r.returncode == 1, r.stderr
    assert "status:    FAILED (RUNTIME_ERROR" in r.stdout
    assert "ZeroDivisionError" in r.stdout


def test_run_file_takes_the_language_from_code_language(stack, tmp_path):
    code = tmp_path / "main.c"
    code.write_text('#include <stdio.h>\nint main(void) { puts("from C"); return 0; }\n')
    env = dict(os.environ, BASE_URL=f"http://127.0.0.1:{stack.port}", CODE_LANGUAGE="c")
    r = subprocess.run([str(QA / "run-file.sh"), str(code)], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "--- stdout ---\nfrom C\n--- stderr ---\n" in r.stdout
    env["CODE_LANGUAGE"] = "c; rm"
    r = subprocess.run([str(QA / "create-session.sh")], env=env, capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stderr) == (2, "create-session.sh: CODE_LANGUAGE must be a language id "
                                           "(lower-case letters, digits, + - _)\n"), r


def test_scripts_exit_2_on_unknown_ids(stack):
    r = qa(stack, "poll.sh", "00000000-0000-4000-8000-000000000000")
    assert r.returncode == 2
    assert "HTTP 404" in r.stderr


def test_metrics_script_filters_series(stack):
    r = qa(stack, "metrics.sh", "^code_exec_runners_alive")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "code_exec_runners_alive 1\n"


def test_judge_script_prints_the_verdict_and_each_case(stack, tmp_path):
    suite = tmp_path / "suite.json"
    suite.write_text('{"cases": [{"name": "one", "stdin": "1\\n", "expected_stdout": "1\\n"},'
                     ' {"name": "two", "stdin": "2\\n", "expected_stdout": "3\\n", "hidden": true}]}')
    code = tmp_path / "echo.py"
    code.write_text("print(input())\n")
    r = qa(stack, "judge.sh", "qa-echo", suite, code)
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[1:] == ["COMPLETED", "WRONG_ANSWER", "1/2", "50.0"]
    assert lines[1].split()[:2] == ["one", "ACCEPTED"]
    assert lines[2].split()[:2] == ["two", "WRONG_ANSWER"] and lines[2].endswith("(hidden)")
    code.write_text("x = input()\nprint(x if x == '1' else 3)\n")
    assert qa(stack, "judge.sh", "qa-echo", suite, code).returncode == 0


def test_run_project_script_runs_a_session_of_files(stack, tmp_path):
    (tmp_path / "main.py").write_text("import helper\nprint(helper.greet(open('names/first.txt').read().strip()))\n"
                                      "open('out/report.txt', 'w').write('done\\n')\n")
    (tmp_path / "helper.py").write_text("def greet(n):\n    return 'hi ' + n\n")
    (tmp_path / "names").mkdir()
    (tmp_path / "names" / "first.txt").write_text("Ada\n")
    out = tmp_path.parent / (tmp_path.name + "-artifacts")
    r = qa(stack, "run-project.sh", tmp_path, out)
    assert r.returncode == 0, r.stderr
    assert "status:    COMPLETED" in r.stdout, r.stdout
    assert r.stdout.endswith("--- stdout ---\nhi Ada\n--- stderr ---\n--- artifacts ---\n"
                             "report.txt 5 text/plain; charset=utf-8\n"), r.stdout
    assert (out / "report.txt").read_text() == "done\n"
