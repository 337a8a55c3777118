"""Grading through the real stack: test suites (PUT/GET/DELETE
/test-suites/{id}), versioned, with their limits."""

import pytest

from stack import assert_error


def suite_body(*cases, compare="exact"):
    return {"cases": [dict(c) for c in cases], "compare": compare}


def case(name, stdin, expected, hidden=False, **kw):
    return {"name": name, "stdin": stdin, "expected_stdout": expected, "hidden": hidden, **kw}


def put_suite(stack, suite_id, body):
    status, _, doc = stack.request("PUT", f"/test-suites/{suite_id}", body)
    assert status == 200, doc
    return doc


# ---- test suites ------------------------------------------------------------

def test_put_creates_version_1_and_get_returns_it_with_defaults_filled(stack):
    doc = put_suite(stack, "sum.v1", {"cases": [{"name": "a", "expected_stdout": "3\n"}]})
    assert doc["suite_id"] == "sum.v1"
    assert doc["version"] == 1
    assert doc["compare"] == "exact"
    assert doc["cases"] == [{"name": "a", "expected_stdout": "3\n", "stdin": "",
                             "hidden": False, "time_limit_ms": None}]
    status, _, got = stack.request("GET", "/test-suites/sum.v1")
    assert status == 200
    assert got == doc


def test_put_again_replaces_the_suite_as_the_next_version(stack):
    put_suite(stack, "Replace_Me", suite_body(case("a", "1\n", "1\n")))
    doc = put_suite(stack, "Replace_Me", suite_body(case("b", "2\n", "2\n", hidden=True, time_limit_ms=500),
                                                    compare={"float_tolerance": 1e-6}))
    assert doc["version"] == 2
    assert doc["compare"] == {"float_tolerance": 1e-6}
    assert doc["cases"] == [case("b", "2\n", "2\n", hidden=True, time_limit_ms=500)]
    assert stack.request("GET", "/test-suites/Replace_Me")[2] == doc


def test_suite_ids_are_case_sensitive_slugs(stack):
    put_suite(stack, "CaseSuite", suite_body(case("a", "", "A\n")))
    put_suite(stack, "casesuite", suite_body(case("a", "", "a\n")))
    assert stack.request("GET", "/test-suites/CaseSuite")[2]["cases"][0]["expected_stdout"] == "A\n"
    assert stack.request("GET", "/test-suites/casesuite")[2]["cases"][0]["expected_stdout"] == "a\n"


def test_delete_removes_the_suite_and_a_later_put_continues_its_versions(stack):
    put_suite(stack, "gone", suite_body(case("a", "", "x\n")))
    status, _, doc = stack.request("DELETE", "/test-suites/gone")
    assert (status, doc) == (200, {"suite_id": "gone", "deleted": True})
    assert_error(stack.request("GET", "/test-suites/gone"), 404, "NOT_FOUND")
    assert_error(stack.request("DELETE", "/test-suites/gone"), 404, "NOT_FOUND")
    assert put_suite(stack, "gone", suite_body(case("a", "", "y\n")))["version"] == 2


def test_every_compare_mode_is_accepted(stack):
    for mode in ("exact", "trim", "tokens", {"float_tolerance": 0}, {"float_tolerance": 0.5}):
        assert put_suite(stack, "modes", suite_body(case("a", "", "1\n"), compare=mode))["compare"] == mode


def test_a_suite_of_max_suite_cases_is_accepted_and_one_more_is_not(stack):
    cases = [case(f"c{i}", "", f"{i}\n") for i in range(100)]
    assert len(put_suite(stack, "big", suite_body(*cases))["cases"]) == 100
    cases.append(case("c100", "", "100\n"))
    assert_error(stack.request("PUT", "/test-suites/big", suite_body(*cases)), 400, "INVALID_FIELD", "cases")
    assert stack.request("GET", "/test-suites/big")[2]["version"] == 1


def test_a_64_character_id_is_accepted(stack):
    sid = "a" * 64
    assert put_suite(stack, sid, suite_body(case("a", "", "1\n")))["suite_id"] == sid


def test_hidden_cases_are_part_of_the_platforms_view(stack):
    doc = put_suite(stack, "hidden-view", suite_body(case("secret", "s\n", "S\n", hidden=True)))
    assert doc["cases"][0]["stdin"] == "s\n" and doc["cases"][0]["expected_stdout"] == "S\n"


# ---- submissions --------------------------------------------------------------

import sqlite3  # noqa: E402
import time  # noqa: E402

SUM_CASES = [case("one", "1 2\n", "3\n"), case("two", "10 20\n", "30\n"),
             case("secret", "SECRET-IN-41 1\n", "42\n", hidden=True)]
PY_SUM = "a, b = input().split()\nprint(int(a.replace('SECRET-IN-', '')) + int(b))\n"
C_SUM = ('#include <stdio.h>\n#include <string.h>\nint main(void){char a[64];int b;'
         'scanf("%63s %d",a,&b);char*p=strstr(a,"SECRET-IN-");int x;sscanf(p?p+10:a,"%d",&x);'
         'printf("%d\\n",x+b);return 0;}\n')
JAVA_SUM = ('import java.util.*;\npublic class Main{public static void main(String[] a){'
            'Scanner s=new Scanner(System.in);String x=s.next().replace("SECRET-IN-","");int y=s.nextInt();'
            'System.out.println(Integer.parseInt(x)+y);}}\n')


@pytest.fixture(scope="module")
def sum_suite(stack):
    put_suite(stack, "sum", suite_body(*SUM_CASES))
    return "sum"


def submit(stack, sid, suite_id, **kw):
    status, headers, doc = stack.request("POST", f"/code-sessions/{sid}/submit", {"suite_id": suite_id, **kw})
    assert status == 202, doc
    assert doc["status"] == "QUEUED"
    return doc["submission_id"]


def wait_submission(stack, sub_id, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        status, _, doc = stack.request("GET", f"/submissions/{sub_id}")
        assert status == 200, doc
        if doc["status"] in ("COMPLETED", "FAILED") or time.monotonic() > deadline:
            return doc
        time.sleep(0.05)


def judge(stack, code, suite_id, language="python", **kw):
    sid = stack.create_session(code, language=language)["session_id"]
    return wait_submission(stack, submit(stack, sid, suite_id, **kw))


def verdicts(doc):
    return [c["verdict"] for c in doc["cases"]]


@pytest.mark.parametrize("language,code", [("python", PY_SUM), ("c", C_SUM), ("java", JAVA_SUM)])
def test_a_correct_program_is_accepted_in_every_case(stack, sum_suite, language, code):
    doc = judge(stack, code, sum_suite, language=language)
    assert (doc["status"], doc["verdict"], doc["passed"], doc["total"], doc["score"]) == \
        ("COMPLETED", "ACCEPTED", 3, 3, 100.0), doc
    assert verdicts(doc) == ["ACCEPTED"] * 3
    assert doc["suite_id"] == "sum" and doc["suite_version"] >= 1
    one = doc["cases"][0]
    assert (one["name"], one["stdout"], one["expected"], one["diff"]) == ("one", "3\n", "3\n", None)
    assert all(isinstance(c["time_ms"], int) and isinstance(c["memory_kb"], int) for c in doc["cases"])


@pytest.mark.parametrize("language,code,verdict", [
    ("python", "print(int(input().split()[1]))\n", "WRONG_ANSWER"),
    ("python", "raise SystemExit(3)\n", "RUNTIME_ERROR"),
    ("python", "while True:\n    pass\n", "TIME_LIMIT"),
    ("c", "int main(void){return 1/0*0 + *(volatile int*)0;}\n", "RUNTIME_ERROR"),
    ("c", "int main(void){ this is not C }\n", "COMPILE_ERROR"),
    ("java", "public class Main{public static void main(String[] a){System.out.println(0);}}\n", "WRONG_ANSWER"),
    ("java", "public class Main{ broken }\n", "COMPILE_ERROR"),
])
def test_each_verdict_comes_from_a_program_that_earns_it(stack, language, code, verdict):
    put_suite(stack, "verdicts", suite_body(case("a", "1 2\n", "3\n", time_limit_ms=3000),
                                            case("b", "4 5\n", "9\n", time_limit_ms=3000)))
    doc = judge(stack, code, "verdicts", language=language)
    assert (doc["status"], doc["verdict"], doc["passed"], doc["score"]) == ("COMPLETED", verdict, 0, 0.0), doc
    assert verdicts(doc) == [verdict, verdict]


def test_a_memory_hungry_program_gets_memory_limit(stack):
    put_suite(stack, "memory", suite_body(case("a", "", "done\n")))
    doc = judge(stack, "b = bytearray(b'x') * (1 << 30)\nprint('done')\n", "memory")
    assert (doc["status"], doc["verdict"]) == ("COMPLETED", "MEMORY_LIMIT"), doc


def test_a_wrong_answer_shows_the_first_differing_line(stack):
    put_suite(stack, "diff", suite_body(case("a", "", "x\ny\nz\n")))
    doc = judge(stack, "print('x')\nprint('Y')\nprint('z')\n", "diff")
    assert doc["verdict"] == "WRONG_ANSWER"
    assert doc["cases"][0]["diff"] == {"line": 2, "expected": "y", "got": "Y"}
    assert doc["cases"][0]["stdout"] == "x\nY\nz\n"


def test_a_partly_correct_program_scores_its_share(stack):
    put_suite(stack, "partial", suite_body(case("a", "1\n", "1\n"), case("b", "2\n", "2\n"),
                                           case("c", "3\n", "4\n")))
    doc = judge(stack, "print(input())\n", "partial")
    assert (doc["verdict"], doc["passed"], doc["total"], doc["score"]) == ("WRONG_ANSWER", 2, 3, 66.67)
    assert verdicts(doc) == ["ACCEPTED", "ACCEPTED", "WRONG_ANSWER"]


@pytest.mark.parametrize("compare,printed,verdict", [
    ("exact", "3 \n", "WRONG_ANSWER"),
    ("trim", "3   \n\n\n", "ACCEPTED"),
    ("trim", " 3\n", "WRONG_ANSWER"),
    ("tokens", "\n 3\t\n", "ACCEPTED"),
    ("tokens", "3 3\n", "WRONG_ANSWER"),
    ({"float_tolerance": 0.01}, "3.004\n", "ACCEPTED"),
    ({"float_tolerance": 0.001}, "3.01\n", "WRONG_ANSWER"),
])
def test_compare_modes(stack, compare, printed, verdict):
    put_suite(stack, "compare", suite_body(case("a", "", "3\n"), compare=compare))
    doc = judge(stack, f"print({printed!r}, end='')\n", "compare")
    assert doc["verdict"] == verdict, doc


def test_each_case_runs_in_a_fresh_sandbox(stack):
    put_suite(stack, "fresh", suite_body(case("a", "", "new\n"), case("b", "", "new\n"), case("c", "", "new\n")))
    code = ("import os\nif os.path.exists('mark'):\n    print('seen')\nelse:\n"
            "    open('mark', 'w').write('x')\n    print('new')\n")
    assert verdicts(judge(stack, code, "fresh")) == ["ACCEPTED"] * 3


STOP_PROGRAM = """import time
x = int(input())
if x == 2:
    time.sleep(0.6)
    print('wrong')
elif x == 4:
    raise RuntimeError('fails early')
elif x == 5:
    while True:
        pass
else:
    print(x)
"""


def test_stop_on_first_failure_is_decided_by_the_first_failing_case_in_case_order(stack):
    # c2 fails last (after 0.6 s); c3 passes and c4 crashes before it does;
    # c5 is still looping then. Whatever finished first, c2 decides: every
    # later case is SKIPPED, c3's pass and c4's crash included, and the loop
    # is killed rather than left to its 8 s limit.
    put_suite(stack, "stop", suite_body(*(case(f"c{i}", f"{i}\n", f"{i}\n", time_limit_ms=8000)
                                          for i in range(8))))
    started = time.monotonic()
    sid = stack.create_session(STOP_PROGRAM)["session_id"]
    sub_id = submit(stack, sid, "stop", stop_on_first_failure=True)
    # Read without pause: the first finished document a reader can see is
    # already the final one (the deciding verdict and the cases it skips
    # are one write), never one where c3 still counts as passed.
    doc = stack.request("GET", f"/submissions/{sub_id}")[2]
    while doc["status"] not in ("COMPLETED", "FAILED") and time.monotonic() - started < 60:
        doc = stack.request("GET", f"/submissions/{sub_id}")[2]
    elapsed = time.monotonic() - started
    assert (doc["status"], doc["verdict"], doc["passed"], doc["score"]) == ("COMPLETED", "WRONG_ANSWER", 2, 25.0), doc
    assert verdicts(doc) == ["ACCEPTED", "ACCEPTED", "WRONG_ANSWER"] + ["SKIPPED"] * 5
    assert doc["cases"][2]["diff"] == {"line": 1, "expected": "2", "got": "wrong"}
    assert all(c["time_ms"] is None and c["stdout"] == "" for c in doc["cases"][3:]), doc
    assert elapsed < 6, elapsed


def test_without_stop_on_first_failure_every_case_is_judged(stack):
    put_suite(stack, "nostop", suite_body(*(case(f"c{i}", f"{i}\n", f"{i}\n", time_limit_ms=1500)
                                            for i in range(6))))
    doc = judge(stack, STOP_PROGRAM, "nostop")
    assert verdicts(doc) == ["ACCEPTED", "ACCEPTED", "WRONG_ANSWER", "ACCEPTED", "RUNTIME_ERROR", "TIME_LIMIT"]
    assert (doc["verdict"], doc["passed"]) == ("WRONG_ANSWER", 3)


def test_a_replaced_suite_keeps_old_results_on_their_version(stack):
    put_suite(stack, "versioned", suite_body(case("a", "", "1\n")))
    sid = stack.create_session("print(1)\n")["session_id"]
    first = wait_submission(stack, submit(stack, sid, "versioned"))
    put_suite(stack, "versioned", suite_body(case("z", "", "2\n"), case("y", "", "1\n")))
    second = wait_submission(stack, submit(stack, sid, "versioned"))
    stack.request("DELETE", "/test-suites/versioned")
    again = wait_submission(stack, first["submission_id"])
    assert (again["suite_version"], again["verdict"], [c["name"] for c in again["cases"]]) == (1, "ACCEPTED", ["a"])
    assert (second["suite_version"], second["verdict"], second["passed"]) == (2, "WRONG_ANSWER", 1)


def test_hidden_cases_never_leak_through_any_endpoint(stack):
    put_suite(stack, "leak", suite_body(case("one", "1\n", "OUT-1\n"), case("two", "2\n", "OUT-2\n"),
                                        case("secret", "SECRET-IN-7\n", "EXPECTED-SECRET\n", hidden=True)))
    code = "import sys\nx = input()\nprint('OUT-' + x)\n"
    sid = stack.create_session(code)["session_id"]
    sub_id = submit(stack, sid, "leak")
    doc = wait_submission(stack, sub_id)
    hidden = doc["cases"][2]
    assert hidden == {"name": "secret", "hidden": True, "verdict": "WRONG_ANSWER",
                      "time_ms": hidden["time_ms"], "memory_kb": hidden["memory_kb"]}
    db = sqlite3.connect(f"file:{stack.data_dir}/engine.db?mode=ro", uri=True, timeout=10)
    case_ids = [r[0] for r in db.execute("SELECT id FROM executions WHERE submission_id = ?", (sub_id,))]
    db.close()
    assert len(case_ids) == 3
    seen = [stack.request("GET", f"/submissions/{sub_id}"),
            stack.request("GET", f"/submissions/{sub_id}?wait_ms=0"),
            stack.request("GET", f"/submissions/{sub_id}/events"),
            stack.request("GET", f"/code-sessions/{sid}/submissions"),
            stack.request("GET", f"/code-sessions/{sid}/executions"),
            stack.request("GET", f"/code-sessions/{sid}")]
    assert seen[2][0] == 200 and "event: done" in str(seen[2][2]), seen[2]    # the whole stream, to its end
    for eid in case_ids:
        got = stack.request("GET", f"/executions/{eid}")
        assert got[0] == 404
        seen.append(got)
        seen.append(stack.request("GET", f"/executions/{eid}?wait_ms=0"))
        seen.append(stack.request("GET", f"/executions/{eid}/events"))
    text = repr(seen) + stack.request("GET", "/metrics", raw=None)[2].__repr__()
    for secret in ("SECRET-IN", "EXPECTED-SECRET", "OUT-SECRET"):
        assert secret not in text, secret
    assert stack.request("GET", f"/code-sessions/{sid}/executions")[2]["executions"] == []


def test_a_sessions_submissions_are_listed_newest_first_in_pages(stack):
    put_suite(stack, "listed", suite_body(case("a", "", "1\n")))
    sid = stack.create_session("print(1)\n")["session_id"]
    ids = [submit(stack, sid, "listed") for _ in range(3)]
    for i in ids:
        wait_submission(stack, i)
    status, _, page = stack.request("GET", f"/code-sessions/{sid}/submissions?limit=2")
    assert status == 200
    assert [s["submission_id"] for s in page["submissions"]] == ids[::-1][:2]
    rest = stack.request("GET", f"/code-sessions/{sid}/submissions?limit=2&cursor={page['next_cursor']}")[2]
    assert [s["submission_id"] for s in rest["submissions"]] == ids[:1]
    assert rest["next_cursor"] is None


def test_metrics_count_judged_cases_by_verdict(stack):
    import re
    def count(verdict):
        text = stack.request("GET", "/metrics")[2]
        text = text if isinstance(text, str) else repr(text)
        m = re.search(r'code_exec_case_verdicts_total\{verdict="%s"\} (\d+)' % verdict, text)
        return int(m.group(1)) if m else 0
    put_suite(stack, "counted", suite_body(case("a", "1\n", "1\n"), case("b", "2\n", "3\n")))
    before = count("ACCEPTED"), count("WRONG_ANSWER")
    judge(stack, "print(input())\n", "counted")
    assert (count("ACCEPTED"), count("WRONG_ANSWER")) == (before[0] + 1, before[1] + 1)


def test_submitting_against_an_unknown_suite_is_404_on_suite_id(stack):
    sid = stack.create_session("print(1)\n")["session_id"]
    assert_error(stack.request("POST", f"/code-sessions/{sid}/submit", {"suite_id": "no-such"}),
                 404, "NOT_FOUND", "suite_id")


# ---- a runner killed mid-submission ------------------------------------------

def test_a_runner_killed_mid_submission_keeps_judged_cases_and_runs_the_rest():
    import signal

    from components import Components
    comp = Components()
    try:
        comp.start()
        cases = [case(f"c{i}", f"{i}\n", f"{i}\n") for i in range(10)]
        assert comp.request("PUT", "/test-suites/durable", suite_body(*cases))[0] == 200
        status, session = comp.request("POST", "/code-sessions", {
            "language": "python", "template_code": "import time\ntime.sleep(0.4)\nprint(input())\n"})
        assert status == 201
        status, sub = comp.request("POST", f"/code-sessions/{session['session_id']}/submit",
                                   {"suite_id": "durable"})
        assert status == 202
        db = sqlite3.connect(f"file:{comp.data_dir}/engine.db?mode=ro", uri=True, timeout=10)
        judged = "SELECT id, verdict, finished_at, attempt FROM executions WHERE submission_id = ? " \
                 "AND verdict IS NOT NULL ORDER BY id"
        deadline = time.monotonic() + 30
        while len(db.execute(judged, (sub["submission_id"],)).fetchall()) < 2:
            assert time.monotonic() < deadline, "no case was judged"
            time.sleep(0.02)
        comp.kill_runner(signal.SIGKILL)
        before = db.execute(judged, (sub["submission_id"],)).fetchall()
        assert 2 <= len(before) < 10
        comp.start_runner()
        deadline = time.monotonic() + 60
        while True:
            doc = comp.request("GET", f"/submissions/{sub['submission_id']}")[1]
            if doc["status"] in ("COMPLETED", "FAILED") or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert (doc["status"], doc["verdict"], doc["passed"]) == ("COMPLETED", "ACCEPTED", 10), doc
        after = {r[0]: r for r in db.execute(judged, (sub["submission_id"],)).fetchall()}
        for row in before:
            assert after[row[0]] == row     # a judged case is never run again
        db.close()
    finally:
        comp.cleanup()
