"""The ten languages of conf/languages.conf through the API, against the real
stack: GET /languages, hello world with stdin, a runtime error's exit code, a
compile error as COMPILE_ERROR on the learner's file and line, the 5 s limit."""

import contextlib
import os
import re
import shutil
import tempfile

import pytest

from stack import REPO, Stack, assert_error, running, warm_data_packages

IDS = ["python", "javascript", "typescript", "c", "cpp", "java", "go", "rust", "bash", "sql"]
COMPILED = {"typescript", "c", "cpp", "java", "go", "rust"}

# Reads one word from stdin and prints "hello <word>".
HELLO = {
    "python": "print('hello', input())\n",
    "javascript": "const s = require('fs').readFileSync(0, 'utf8').trim();\nconsole.log('hello', s);\n",
    "typescript": "import * as fs from 'fs';\n"
                  "const s: string = fs.readFileSync(0, 'utf8').trim();\n"
                  "process.stdout.write(`hello ${s}\\n`);\n",
    "c": "#include <stdio.h>\nint main(void) { char b[32]; scanf(\"%31s\", b); "
         "printf(\"hello %s\\n\", b); return 0; }\n",
    "cpp": "#include <iostream>\n#include <string>\nint main() { std::string s; std::cin >> s; "
           "std::cout << \"hello \" << s << std::endl; }\n",
    "java": "import java.util.Scanner;\npublic class Main {\n  public static void main(String[] a) {\n"
            "    System.out.println(\"hello \" + new Scanner(System.in).next());\n  }\n}\n",
    "go": "package main\nimport \"fmt\"\nfunc main() { var s string; fmt.Scan(&s); fmt.Println(\"hello\", s) }\n",
    "rust": "fn main() { let mut s = String::new(); std::io::stdin().read_line(&mut s).unwrap(); "
            "println!(\"hello {}\", s.trim()); }\n",
    "bash": "read s\necho hello $s\n",
    "sql": None,        # a script, not a reader of stdin: see test_sql_prints_a_table
}

# Exits with status 3 after writing to stderr.
EXIT_3 = {
    "python": "import sys\nprint('bye', file=sys.stderr)\nsys.exit(3)\n",
    "javascript": "console.error('bye');\nprocess.exit(3);\n",
    "typescript": "console.error('bye');\nprocess.exit(3);\n",
    "c": "#include <stdio.h>\nint main(void) { fputs(\"bye\\n\", stderr); return 3; }\n",
    "cpp": "#include <iostream>\nint main() { std::cerr << \"bye\" << std::endl; return 3; }\n",
    "java": "public class Main {\n  public static void main(String[] a) {\n"
            "    System.err.println(\"bye\");\n    System.exit(3);\n  }\n}\n",
    "go": "package main\nimport (\"fmt\"; \"os\")\nfunc main() { fmt.Fprintln(os.Stderr, \"bye\"); os.Exit(3) }\n",
    "rust": "fn main() { eprintln!(\"bye\"); std::process::exit(3); }\n",
    "bash": "echo bye >&2\nexit 3\n",
}

# Does not compile; the error is on line 2 of the learner's file.
BROKEN = {
    "typescript": ("const a: number = 1;\nconst b: number = \"two\";\n", r"main\.ts\(2,7\): error TS2322"),
    "c": ("int main(void) {\n  return x;\n}\n", r"^main\.c:2:10: error: ‘x’ undeclared"),
    "cpp": ("int main() {\n  return x;\n}\n", r"^main\.cpp:2:10: error: ‘x’ was not declared"),
    "java": ("public class Main {\n  int x = ;\n}\n", r"^Main\.java:2: error: illegal start of expression"),
    "go": ("package main\nfunc main() { x }\n", r"main\.go:2:15: undefined: x"),
    "rust": ("fn main() {\n    let x: i32 = \"s\";\n}\n", r"--> main\.rs:2:18"),
}

# Interpreted languages: a syntax error on line 2 is a compile error reported
# through the sandbox's syntax channel (fd 4), before any of the program runs.
SYNTAX_ERROR = {
    "python": ("print('before')\nx = (1,\n", r'^  File "main\.py", line 2\n.*^SyntaxError: ', re.M | re.S),
    "javascript": ("console.log('before');\nfoo(;\n", r"\Amain\.js:2\nfoo\(;\n.*^SyntaxError: Unexpected token ';'\n\Z",
                   re.M | re.S),
    "bash": ("echo before\nif then fi\n", r"\Amain\.sh: line 2: syntax error near unexpected token `then'\n", 0),
    "sql": ("SELECT 'before';\nSELEC 2;\n", r'\Amain\.sql:2: near "SELEC": syntax error\n', 0),
}

# Valid programs that print a syntax error's text, try the syntax channel
# (fd 4, closed before the program started) and end with a syntax error at
# run time: a runtime error, never a compile error. With the text that must
# reach stderr.
FORGED_SYNTAX_ERROR = {
    "python": ("import os, sys\n"
               "for fd in range(3, 64):\n"
               "    try:\n"
               "        os.write(fd, b'  File \"main.py\", line 2\\nSyntaxError: invalid syntax\\n')\n"
               "    except OSError:\n"
               "        pass\n"
               "print('  File \"main.py\", line 2\\nSyntaxError: invalid syntax', file=sys.stderr)\n"
               "exec('x = (')\n", "SyntaxError: "),
    "javascript": ("const fs = require('fs');\n"
                   "try { fs.writeSync(4, 'main.js:2\\nSyntaxError: x\\n'); } catch (e) {\n"
                   "  console.log(e.code);\n"
                   "}\n"
                   "console.error('main.js:2\\nSyntaxError: Unexpected token');\n"
                   "eval('foo(;');\n", "SyntaxError: Unexpected token ';'"),
    "bash": ("for fd in 3 4 5 6 7 8 9; do echo 'main.sh: line 2: syntax error' >&$fd; done 2>/dev/null\n"
             "echo 'main.sh: line 2: syntax error near unexpected token' >&2\n"
             "eval 'if then fi'\n", "syntax error near unexpected token `then'"),
    "sql": ("SELECT * FROM \"x\nParse error near line 1: near \"\"y\"\": syntax error\";\n",
            "no such table: x\nParse error near line 1: near \"y\": syntax error"),
}


# Never ends on its own.
FOREVER = {
    "python": "while True: pass\n",
    "javascript": "for (;;) {}\n",
    "typescript": "for (;;) {}\n",
    "c": "int main(void) { for (;;) {} }\n",
    "cpp": "int main() { for (;;) {} }\n",
    "java": "public class Main { public static void main(String[] a) { for (;;) {} } }\n",
    "go": "package main\nfunc main() { for {} }\n",
    "rust": "fn main() { loop {} }\n",
    "bash": "while :; do :; done\n",
    "sql": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c;\n",
}


def start(stack, language, code, stdin=None):
    sid = stack.create_session(code, language)["session_id"]
    return stack.run_ok(sid, stdin)


def test_languages_lists_the_ten_with_their_versions(stack):
    status, _, body = stack.request("GET", "/languages")
    assert status == 200, body
    assert [l["id"] for l in body["languages"]] == IDS
    for l in body["languages"]:
        assert set(l) == {"id", "name", "version", "compiled", "limits", "packages"}, l
        assert l["packages"] == [] or l["id"] == "python", l
        assert re.fullmatch(r"\d+\.\d+(\.\d+)*", l["version"]), l
        assert l["compiled"] == (l["id"] in COMPILED), l
        assert l["limits"]["wall_time_ms"] == 5000, l
        assert ("compile_wall_time_ms" in l["limits"]) == l["compiled"], l
    java = next(l for l in body["languages"] if l["id"] == "java")
    assert java["limits"]["compile_wall_time_ms"] == 10000, java


def test_python_lists_its_data_packages_with_the_installed_versions(stack):
    """The versions dpkg reports on this host, as the runner read them at start."""
    import subprocess
    python = next(l for l in stack.request("GET", "/languages")[2]["languages"] if l["id"] == "python")
    names = ["python3-numpy", "python3-pandas", "python3-matplotlib"]
    want = [{"name": n, "version": subprocess.run(["dpkg-query", "-W", "-f", "${Version}", n], check=True,
                                                  capture_output=True, text=True).stdout} for n in names]
    assert python["packages"] == want


def test_numpy_pandas_and_matplotlib_import_in_the_sandbox(stack):
    warm_data_packages()
    code = ("import numpy, pandas, matplotlib\n"
            "print(numpy.arange(4).sum(), pandas.Series([1, 2]).sum(), matplotlib.get_backend())\n")
    e = stack.execute(code, timeout=60)
    assert (e["status"], e["stdout"], e["stderr"]) == ("COMPLETED", "6 3 module://engine_plots\n", ""), e["stderr"]


def test_unknown_language_is_refused_with_the_valid_ids(stack):
    resp = stack.request("POST", "/code-sessions", {"language": "cobol"})
    assert_error(resp, 400, "UNSUPPORTED_LANGUAGE", "language")
    body = resp[2]
    assert body["error"]["message"] == ('language "cobol" is not supported; use one of: '
                                        + ", ".join(IDS)), body


@pytest.mark.parametrize("language", [l for l in IDS if HELLO[l]])
def test_hello_world_reads_stdin(stack, language):
    ex = stack.wait_terminal(start(stack, language, HELLO[language], "Ada\n"), timeout=60)
    assert ex["status"] == "COMPLETED", ex
    assert ex["stdout"] == "hello Ada\n", ex
    assert ex["exit_code"] == 0, ex
    assert ex["kind"] == "run", ex
    if language in COMPILED:
        assert ex["compile_output"] is not None and ex["compile_time_ms"] > 0, ex
        assert ex["compile_cached"] is False, ex
    else:
        assert (ex["compile_output"], ex["compile_time_ms"], ex["compile_cached"]) == (None, None, None), ex


def test_a_javascript_module_runs_as_node_runs_it(stack):
    """Node runs a file with import statements or top-level await as an ES
    module: the syntax check lets Node decide those."""
    code = "import fs from 'fs';\nconst n = await Promise.resolve(7);\nconsole.log(typeof fs.readFileSync, n);\n"
    ex = stack.wait_terminal(start(stack, "javascript", code), timeout=30)
    assert (ex["status"], ex["stdout"], ex["compile_output"]) == ("COMPLETED", "function 7\n", None), ex


def test_typescript_knows_nodes_api(stack):
    """Node's declarations (@types/node) are there: process.stdin and
    require type-check under --strict; an import compiles to CommonJS."""
    code = ("const chunks: Buffer[] = [];\n"
            "process.stdin.on('data', (c: Buffer) => chunks.push(c));\n"
            "process.stdin.on('end', () => {\n"
            "  const os = require('os');\n"
            "  console.log(`hello ${Buffer.concat(chunks).toString().trim()} on ${typeof os.platform()}`);\n"
            "});\n")
    ex = stack.wait_terminal(start(stack, "typescript", code, "Ada\n"), timeout=60)
    assert (ex["status"], ex["stdout"]) == ("COMPLETED", "hello Ada on string\n"), ex
    ex = stack.wait_terminal(start(stack, "typescript", "process.stdout.write(42);\n"), timeout=60)
    assert ex["error"]["code"] == "COMPILE_ERROR", ex
    assert ex["compile_output"].startswith("main.ts(1,22): error TS2769: No overload matches this call."), ex
    assert "Argument of type 'number' is not assignable to parameter of type 'string | Uint8Array'" \
        in ex["compile_output"], ex


def test_sql_prints_a_table(stack):
    code = ("CREATE TABLE t (name TEXT, n INTEGER);\n"
            "INSERT INTO t VALUES ('Ada', 1), ('Alan', 2);\n"
            "SELECT name, n FROM t ORDER BY n;\n")
    ex = stack.wait_terminal(start(stack, "sql", code), timeout=30)
    assert ex["status"] == "COMPLETED", ex
    assert ex["stdout"] == ("+------+---+\n| name | n |\n+------+---+\n"
                            "| Ada  | 1 |\n| Alan | 2 |\n+------+---+\n"), ex


@pytest.mark.parametrize("language", sorted(EXIT_3))
def test_runtime_error_reports_the_exit_code(stack, language):
    ex = stack.wait_terminal(start(stack, language, EXIT_3[language]), timeout=60)
    assert ex["status"] == "FAILED", ex
    assert ex["exit_code"] == 3, ex
    assert ex["stderr"] == "bye\n", ex
    assert ex["error"]["code"] == "RUNTIME_ERROR", ex


def test_sql_error_fails_with_sqlites_message(stack):
    ex = stack.wait_terminal(start(stack, "sql", "SELECT 1;\nSELECT * FROM nope;\n"), timeout=30)
    assert ex["status"] == "FAILED", ex
    assert ex["exit_code"] == 1, ex
    assert "no such table: nope" in ex["stderr"], ex
    assert ex["error"]["code"] == "RUNTIME_ERROR", ex


@pytest.mark.parametrize("language", sorted(BROKEN))
def test_compile_error_points_at_the_learners_file(stack, language):
    code, pattern = BROKEN[language]
    ex = stack.wait_terminal(start(stack, language, code), timeout=60)
    assert ex["status"] == "FAILED", ex
    assert ex["error"]["code"] == "COMPILE_ERROR", ex
    assert re.search(pattern, ex["compile_output"], re.M), ex["compile_output"]
    assert "/app/" not in ex["compile_output"] and "/tmp/" not in ex["compile_output"], ex
    # No run step: nothing ran, so nothing was printed.
    assert (ex["stdout"], ex["stderr"], ex["exit_code"]) == ("", "", None), ex


@pytest.mark.parametrize("language", sorted(SYNTAX_ERROR))
def test_a_syntax_error_is_a_compile_error(stack, language):
    code, pattern, flags = SYNTAX_ERROR[language]
    ex = stack.wait_terminal(start(stack, language, code), timeout=60)
    assert ex["status"] == "FAILED", ex
    assert ex["error"]["code"] == "COMPILE_ERROR", ex
    assert re.search(pattern, ex["compile_output"], flags), ex["compile_output"]
    assert ex["compile_cached"] is False and ex["compile_time_ms"] >= 0, ex
    # No run step: the lines before the error did not run either.
    assert (ex["stdout"], ex["stderr"], ex["exit_code"]) == ("", "", None), ex


@pytest.mark.parametrize("language", sorted(FORGED_SYNTAX_ERROR))
def test_a_syntax_error_at_run_time_is_a_runtime_error(stack, language):
    code, text = FORGED_SYNTAX_ERROR[language]
    ex = stack.wait_terminal(start(stack, language, code), timeout=60)
    assert ex["status"] == "FAILED", ex
    assert ex["error"]["code"] == "RUNTIME_ERROR", ex
    assert ex["exit_code"] != 0 and text in ex["stderr"], ex
    if language == "javascript":
        assert ex["stdout"] == "EBADF\n", ex
    assert (ex["compile_output"], ex["compile_time_ms"], ex["compile_cached"]) == (None, None, None), ex


def test_every_language_times_out_at_5_seconds(stack):
    ids = {l: start(stack, l, FOREVER[l]) for l in IDS}
    for language, eid in ids.items():
        ex = stack.wait_terminal(eid, timeout=120)
        assert ex["status"] == "TIMEOUT", (language, ex)
        assert ex["error"]["code"] == "TIMEOUT", (language, ex)
        assert 4900 <= ex["execution_time_ms"] < 6500, (language, ex)


# ---- the compile cache ------------------------------------------------------------------

def cache_entries(stack):
    d = os.path.join(stack.data_dir, "compile-cache")
    return [os.path.join(d, f) for f in os.listdir(d) if not f.startswith(".")]


def run_session(stack, sid):
    return stack.wait_terminal(stack.run_ok(sid), timeout=60)


def test_unchanged_code_is_compiled_once(stack):
    sid = stack.create_session(HELLO["c"].replace("hello", "cached"), "c")["session_id"]
    first = run_session(stack, sid)
    again = run_session(stack, sid)
    assert (first["status"], first["compile_cached"]) == ("COMPLETED", False), first
    assert (again["status"], again["compile_cached"]) == ("COMPLETED", True), again
    assert again["stdout"] == first["stdout"] == "cached \n", again
    assert again["compile_output"] == first["compile_output"], again
    assert again["compile_time_ms"] < first["compile_time_ms"], (first, again)


def test_a_changed_source_compiles_again(stack):
    sid = stack.create_session("fn main() { println!(\"one\"); }\n", "rust")["session_id"]
    assert run_session(stack, sid)["stdout"] == "one\n"
    stack.patch_code(sid, "fn main() { println!(\"two\"); }\n")
    ex = run_session(stack, sid)
    assert (ex["stdout"], ex["compile_cached"]) == ("two\n", False), ex


def test_a_truncated_cache_entry_is_rebuilt_not_run(own_stack):
    s = own_stack
    sid = s.create_session("#include <stdio.h>\nint main(void) { puts(\"intact\"); }\n", "c")["session_id"]
    assert run_session(s, sid)["compile_cached"] is False
    for path in cache_entries(s):
        os.truncate(path, os.path.getsize(path) // 2)
    ex = run_session(s, sid)
    assert (ex["status"], ex["stdout"], ex["compile_cached"]) == ("COMPLETED", "intact\n", False), ex
    assert run_session(s, sid)["compile_cached"] is True


def test_the_cache_survives_a_restart(own_stack):
    s = own_stack
    sid = s.create_session("package main\nimport \"fmt\"\nfunc main() { fmt.Println(\"kept\") }\n",
                           "go")["session_id"]
    assert run_session(s, sid)["compile_cached"] is False
    s.restart()
    ex = run_session(s, sid)
    assert (ex["status"], ex["stdout"], ex["compile_cached"]) == ("COMPLETED", "kept\n", True), ex


# ---- start-up snapshots (TypeScript's, Java's) ------------------------------------------

running_stack = contextlib.contextmanager(running)
# The rows with a snapshot, in name order, and the file each snapshot holds.
SNAPSHOTS = {"cpp": "iostream.gch", "java": "javac.jsa", "typescript": "typescript.blob"}


def snapshot_paths(log, language):
    return re.findall(rf"language {language}: compiles start from (\S+/{language}-[0-9a-f]{{16}})$", log, re.M)


def stack_log(stack):
    with open(stack.stderr_path) as f:
        return f.read()


def snapshot_stack(snapshot_dir):
    """A stack of its own whose runner keeps its snapshots in snapshot_dir."""
    s = Stack()
    s.env["ENGINE_SNAPSHOT_DIR"] = snapshot_dir
    return s


def searchable_dir(prefix):
    """A new directory under the build, which every sandbox can reach."""
    build = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         os.environ.get("BUILD", "build"))
    d = tempfile.mkdtemp(prefix=prefix, dir=build)
    os.chmod(d, 0o755)
    return d


def compile_outcomes(stack):
    """Each snapshot language's hello world output and a compile error's
    messages, line numbers and all."""
    out = {}
    for language in SNAPSHOTS:
        hello = stack.wait_terminal(start(stack, language, HELLO[language], "snap\n"), timeout=60)
        broken = stack.wait_terminal(start(stack, language, BROKEN[language][0]), timeout=60)
        out[language] = ((hello["status"], hello["stdout"]),
                         (broken["status"], broken["error"]["code"], broken["compile_output"]))
    return out


def test_the_shared_stack_compiles_from_its_snapshots(stack):
    log = stack_log(stack)
    for language, name in SNAPSHOTS.items():
        found = snapshot_paths(log, language)
        assert len(found) == 1, (language, found)
        assert os.path.dirname(found[0]) == os.path.realpath(os.environ["ENGINE_SNAPSHOT_DIR"]), found
        assert os.listdir(found[0]) == [name], found
        assert os.path.getsize(os.path.join(found[0], name)) > (4 << 20), found


def test_a_runner_builds_its_snapshots_drops_old_ones_and_rebuilds_a_bad_one():
    d = searchable_dir("snapshots-")
    os.mkdir(os.path.join(d, "typescript-0000000000000000"))
    with open(os.path.join(d, "typescript-0000000000000000", "typescript.blob"), "w") as f:
        f.write("an image of an earlier toolchain")
    try:
        with running_stack(snapshot_stack(d)) as s:
            paths = [snapshot_paths(stack_log(s), language) for language in SNAPSHOTS]
            assert [len(p) for p in paths] == [1] * len(SNAPSHOTS), paths
            assert sorted(os.listdir(d)) == [os.path.basename(p[0]) for p in paths]
            built = compile_outcomes(s)
            assert [built[language][0] for language in SNAPSHOTS] == [("COMPLETED", "hello snap\n")] * 3, built
            typescript = os.path.join(paths[2][0], "typescript.blob")
            with open(typescript, "r+b") as f:     # a damaged snapshot under the same name
                f.truncate(4096)
            s.restart()
            assert snapshot_paths(stack_log(s), "typescript") == paths[2] * 2
            assert os.path.getsize(typescript) > (10 << 20)
            assert compile_outcomes(s) == built
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_a_snapshot_build_that_failed_is_not_tried_at_every_start():
    """A build that fails leaves a marker with the reason; the next start
    does not build again (a slow host's builds would hold up every start),
    and the language compiles without a snapshot all the while."""
    d = searchable_dir("snapshots-")
    conf = tempfile.mkdtemp(prefix="languages-")
    try:
        shutil.copy(os.path.join(REPO, "conf", "java-snapshot.java"), conf)
        with open(os.path.join(conf, "typescript-snapshot.js"), "w") as f:
            f.write("throw new Error('no snapshot from this script');\n")
        with open(os.path.join(REPO, "conf", "languages.conf")) as f:
            table = f.read()
        with open(os.path.join(conf, "languages.conf"), "w") as f:
            f.write(table)
        with open(os.path.join(conf, "engine.conf"), "w") as f:
            f.write(open(os.path.join(REPO, "conf", "engine.conf")).read() +
                    f"\nlanguages_file = {os.path.join(conf, 'languages.conf')}\n")
        s = snapshot_stack(d)
        s.env["ENGINE_CONFIG"] = os.path.join(conf, "engine.conf")
        with running_stack(s):
            log = stack_log(s)
            assert snapshot_paths(log, "typescript") == [], log
            assert "language typescript: no start-up snapshot, each compile loads the toolchain: " \
                   "the build ended with status 1" in log, log
            markers = [f for f in os.listdir(d) if f.endswith(".failed")]
            assert [m.split("-")[0] for m in markers] == ["typescript"], os.listdir(d)
            with open(os.path.join(d, markers[0])) as f:
                assert f.read().startswith("the build ended with status 1"), markers
            s.restart()
            again = stack_log(s)[len(log):]
            assert f"language typescript: no start-up snapshot, each compile loads the toolchain: " \
                   f"its build failed here before ({os.path.join(os.path.realpath(d), markers[0])} says why" \
                   in again, again
            assert "the build ended with status" not in again, again
            hello = s.wait_terminal(start(s, "typescript", HELLO["typescript"], "snap\n"), timeout=60)
            assert (hello["status"], hello["stdout"]) == ("COMPLETED", "hello snap\n"), hello
    finally:
        shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(conf, ignore_errors=True)


def test_without_a_reachable_snapshot_directory_compiles_are_the_same(stack):
    d = tempfile.mkdtemp(prefix="snapshots-closed-")     # 0700: no sandbox can bind it
    try:
        with running_stack(snapshot_stack(os.path.join(d, "snapshots"))) as s:
            log = stack_log(s)
            for language in SNAPSHOTS:
                assert snapshot_paths(log, language) == [], log
                assert f"language {language}: no start-up snapshot, each compile loads the toolchain: " \
                       "no directory for it that every sandbox can reach" in log, log
            assert os.listdir(os.path.join(d, "snapshots")) == []
            assert compile_outcomes(s) == compile_outcomes(stack)
    finally:
        shutil.rmtree(d, ignore_errors=True)


# ---- check ------------------------------------------------------------------------------

# A finding each checker must report: (line, column, severity, code, start of the message).
CHECKS = {
    "python": ("import os\nprint(x)\n", (2, 7, "warning", None, "undefined name 'x'")),
    "javascript": ("let a = 1;\nlet b = ;\n", (2, 9, "error", "SyntaxError", "Unexpected token ';'")),
    "typescript": (BROKEN["typescript"][0], (2, 7, "error", "TS2322", "Type 'string' is not assignable")),
    "c": ("int main(void) {\n  int y;\n  return 0;\n}\n", (2, 7, "warning", "-Wunused-variable", "unused variable")),
    "cpp": ("int main() {\n  return x;\n}\n", (2, 10, "error", None, "\u2018x\u2019 was not declared")),
    "java": (BROKEN["java"][0], (2, 11, "error", None, "illegal start of expression")),
    "go": ("package main\nimport \"fmt\"\nfunc main() { fmt.Printf(\"%d\\n\", \"s\") }\n",
           (3, 15, "warning", None, "fmt.Printf format %d has arg \"s\" of wrong type string")),
    "rust": (BROKEN["rust"][0], (2, 18, "error", "E0308", "mismatched types")),
    "bash": ("if true; then\necho\nfi fi\n", (3, None, "error", None, "syntax error near unexpected token")),
    "sql": ("SELECT 1;\nSELEC 2;\n", (2, None, "error", None, "near \"SELEC\": syntax error")),
}


def check_session(stack, language, code):
    sid = stack.create_session(code, language)["session_id"]
    status, headers, body = stack.request("POST", f"/code-sessions/{sid}/check")
    assert status == 202, body
    assert headers["Location"] == f"/executions/{body['execution_id']}"
    return stack.wait_terminal(body["execution_id"], timeout=60)


@pytest.mark.parametrize("language", IDS)
def test_check_parses_the_checkers_findings(stack, language):
    code, (line, column, severity, code_, message) = CHECKS[language]
    ex = check_session(stack, language, code)
    assert (ex["status"], ex["kind"], ex["error"]) == ("COMPLETED", "check", None), ex
    # Errors fail the checker; gcc's warnings alone do not.
    assert (ex["exit_code"] != 0) == (language != "c"), ex
    found = [d for d in ex["diagnostics"] if d["line"] == line and d["message"].startswith(message)]
    assert found, ex["diagnostics"]
    assert set(found[0]) == {"line", "column", "severity", "code", "message"}, found
    assert (found[0]["column"], found[0]["severity"], found[0]["code"]) == (column, severity, code_), found


@pytest.mark.parametrize("language", ["python", "c", "bash"])
def test_check_of_clean_code_has_no_diagnostics(stack, language):
    code = {"python": "print(1)\n", "c": "int main(void) { return 0; }\n", "bash": "echo hi\n"}[language]
    ex = check_session(stack, language, code)
    assert (ex["status"], ex["exit_code"], ex["diagnostics"]) == ("COMPLETED", 0, []), ex


def test_check_takes_no_fields(stack):
    sid = stack.create_session("print(1)\n")["session_id"]
    resp = stack.request("POST", f"/code-sessions/{sid}/check", {"stdin": "x"})
    assert_error(resp, 400, "UNKNOWN_FIELD", "stdin")
