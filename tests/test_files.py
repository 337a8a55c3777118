"""Sessions of several files against the real stack: files and entry in
POST and GET, per-file PUT and DELETE, a Run's snapshot, each language
compiling every source, data files read-only in the working directory,
and every path rule and limit as a 400 naming the path."""

import urllib.parse

import pytest

from stack import SESSION_KEYS, assert_error, warm_data_packages


def create(stack, language, files, entry=None):
    body = {"language": language, "files": [{"path": p, "content": c} for p, c in files.items()]}
    if entry is not None:
        body["entry"] = entry
    status, _, resp = stack.request("POST", "/code-sessions", body)
    assert status == 201, resp
    return resp


def file_url(sid, path):
    return f"/code-sessions/{sid}/files/{urllib.parse.quote(path, safe='/')}"


def put(stack, sid, path, content):
    return stack.request("PUT", file_url(sid, path), {"content": content})


def run(stack, sid, timeout=60.0):
    return stack.wait_terminal(stack.run_ok(sid), timeout)


# ---- the session's files through the API ---------------------------------

def test_create_with_files_returns_them_entry_first(stack):
    s = create(stack, "python", {"util/fmt.py": "X = 1\n", "main.py": "print(1)\n", "data.csv": "a\n1\n"},
               entry="main.py")
    assert set(s) == SESSION_KEYS
    assert s["entry"] == "main.py"
    assert s["source_code"] == "print(1)\n"
    assert s["files"] == [{"path": "main.py", "content": "print(1)\n"},
                          {"path": "data.csv", "content": "a\n1\n"},
                          {"path": "util/fmt.py", "content": "X = 1\n"}]
    status, _, got = stack.request("GET", f"/code-sessions/{s['session_id']}")
    assert status == 200 and got == s


def test_template_code_is_the_entry_file(stack):
    s = stack.create_session("print(2)\n", language="java")
    status, _, got = stack.request("GET", f"/code-sessions/{s['session_id']}")
    assert status == 200
    assert got["entry"] == "Main.java"
    assert got["files"] == [{"path": "Main.java", "content": "print(2)\n"}]


def test_put_creates_and_replaces_a_file_and_patch_still_replaces_the_entry(stack):
    sid = stack.create_session("print(1)\n")["session_id"]
    status, _, body = put(stack, sid, "lib/helper.py", "A = 1\n")
    assert status == 200, body
    assert set(body) == {"session_id", "path", "size", "updated_at"}
    assert (body["session_id"], body["path"], body["size"]) == (sid, "lib/helper.py", 6)
    assert put(stack, sid, "lib/helper.py", "A = 22\n")[0] == 200
    assert put(stack, sid, "main.py", "print(3)\n")[0] == 200
    stack.patch_code(sid, "print(4)\n")
    got = stack.request("GET", f"/code-sessions/{sid}")[2]
    assert got["source_code"] == "print(4)\n"
    assert got["files"] == [{"path": "main.py", "content": "print(4)\n"},
                            {"path": "lib/helper.py", "content": "A = 22\n"}]


def test_delete_removes_a_file_but_never_the_entry(stack):
    sid = create(stack, "python", {"main.py": "", "notes.txt": "x"})["session_id"]
    status, _, body = stack.request("DELETE", file_url(sid, "notes.txt"))
    assert status == 204 and body == ""
    assert_error(stack.request("DELETE", file_url(sid, "notes.txt")), 404, "NOT_FOUND", "path")
    assert_error(stack.request("DELETE", file_url(sid, "main.py")), 409, "ENTRY_FILE", "path")
    assert stack.request("GET", f"/code-sessions/{sid}")[2]["files"] == [{"path": "main.py", "content": ""}]


def test_a_run_snapshots_every_file(stack):
    sid = create(stack, "python", {"main.py": "import helper\nprint(helper.WORD)\n",
                                   "helper.py": "WORD = 'first'\n"})["session_id"]
    first = stack.run_ok(sid)
    assert put(stack, sid, "helper.py", "WORD = 'second'\n")[0] == 200
    second = stack.run_ok(sid)
    # Their lengths tell the two contents apart (psql's output keeps no newline as data).
    rows = stack.store_rows(f"SELECT execution_id, length(content) FROM execution_files "
                            f"WHERE execution_id IN ('{first}', '{second}')")
    assert sorted((e, int(n)) for e, n in rows) == sorted([(first, 15), (second, 16)])
    assert stack.wait_terminal(first)["stdout"] == "first\n"
    assert stack.wait_terminal(second)["stdout"] == "second\n"


# ---- running projects ----------------------------------------------------

def test_python_project_imports_its_own_modules_and_reads_its_data(stack):
    e = run(stack, create(stack, "python", {
        "main.py": "from shapes.square import area\nimport util\n"
                   "print(area(3), util.total(open('data/values.txt').read()))\n",
        "shapes/__init__.py": "",
        "shapes/square.py": "def area(n):\n    return n * n\n",
        "util.py": "def total(text):\n    return sum(int(x) for x in text.split())\n",
        "data/values.txt": "1 2 3\n",
    })["session_id"])
    assert (e["status"], e["stdout"], e["stderr"]) == ("COMPLETED", "9 6\n", "")


def test_data_files_are_read_only_to_the_program(stack):
    e = run(stack, create(stack, "python", {
        "main.py": "import os\n"
                   "for act in (lambda: open('data.csv', 'w'), lambda: os.unlink('data.csv'),\n"
                   "            lambda: open('/app/data.csv', 'a'), lambda: os.rename('data.csv', 'x')):\n"
                   "    try:\n        act()\n        print('changed')\n"
                   "    except OSError as e:\n        print(type(e).__name__)\n"
                   "print(open('data.csv').read(), end='')\n",
        "data.csv": "a,b\n1,2\n",
    })["session_id"])
    assert e["status"] == "COMPLETED", e
    lines = e["stdout"].splitlines()
    assert "changed" not in lines and len(lines) == 6, e["stdout"]
    assert lines[-2:] == ["a,b", "1,2"]


def test_java_exercise_of_three_classes(stack):
    e = run(stack, create(stack, "java", {
        "Main.java": "public class Main {\n  public static void main(String[] a) {\n"
                     "    System.out.println(new Greeter(new Name(\"Ada\")).greet());\n  }\n}\n",
        "Greeter.java": "class Greeter {\n  private final Name n;\n  Greeter(Name n) { this.n = n; }\n"
                        "  String greet() { return \"hello \" + n.value(); }\n}\n",
        "Name.java": "record Name(String value) {}\n",
    })["session_id"])
    assert (e["status"], e["stdout"]) == ("COMPLETED", "hello Ada\n"), e


def test_c_program_of_two_files_and_a_header(stack):
    e = run(stack, create(stack, "c", {
        "main.c": "#include <stdio.h>\n#include \"sum.h\"\nint main(void) { printf(\"%d\\n\", sum(20, 22)); return 0; }\n",
        "sum.c": "#include \"sum.h\"\nint sum(int a, int b) { return a + b; }\n",
        "sum.h": "int sum(int a, int b);\n",
    })["session_id"])
    assert (e["status"], e["stdout"]) == ("COMPLETED", "42\n"), e


# Two files each, the entry calling the other's function: linked, one package, a crate's module, an import.
OTHER_LANGUAGES = {
    "cpp": {"main.cpp": "#include <iostream>\n#include \"twice.hpp\"\nint main() { std::cout << twice(21) << std::endl; }\n",
            "twice.hpp": "int twice(int x);\n", "twice.cpp": "#include \"twice.hpp\"\nint twice(int x) { return 2 * x; }\n"},
    "go": {"main.go": "package main\nimport \"fmt\"\nfunc main() { fmt.Println(twice(21)) }\n",
           "twice.go": "package main\nfunc twice(x int) int { return 2 * x }\n"},
    "rust": {"main.rs": "mod twice;\nfn main() { println!(\"{}\", twice::twice(21)); }\n",
             "twice.rs": "pub fn twice(x: i32) -> i32 { 2 * x }\n"},
    "typescript": {"main.ts": "import { twice } from './twice';\nconsole.log(twice(21));\n",
                   "twice.ts": "export function twice(x: number): number { return 2 * x; }\n"},
    "javascript": {"main.js": "const { twice } = require('./twice');\nconsole.log(twice(21));\n",
                   "twice.js": "exports.twice = (x) => 2 * x;\n"},
}


@pytest.mark.parametrize("language", sorted(OTHER_LANGUAGES))
def test_every_language_builds_a_program_of_two_files(stack, language):
    e = run(stack, create(stack, language, OTHER_LANGUAGES[language])["session_id"])
    assert (e["status"], e["stdout"]) == ("COMPLETED", "42\n"), e


def test_a_compile_error_in_another_file_names_that_file(stack):
    e = run(stack, create(stack, "c", {
        "main.c": "int twice(int);\nint main(void) { return twice(1) - 2; }\n",
        "twice.c": "int twice(int x) {\n  return x * y;\n}\n",
    })["session_id"])
    assert e["status"] == "FAILED" and e["error"]["code"] == "COMPILE_ERROR", e
    assert "twice.c:2:" in e["compile_output"]


def test_pandas_reads_the_sessions_csv(stack):
    warm_data_packages()
    e = run(stack, create(stack, "python", {
        "main.py": "import pandas as pd\ndf = pd.read_csv('sales.csv')\n"
                   "print(df.groupby('region')['amount'].sum().to_dict())\n",
        "sales.csv": "region,amount\nnorth,10\nsouth,5\nnorth,7\n",
    })["session_id"])
    assert (e["status"], e["stdout"]) == ("COMPLETED", "{'north': 17, 'south': 5}\n"), e["stderr"]


# ---- every rule of a path and every limit: 400 naming the path ----------

BAD_PATHS = [
    ("", "INVALID_PATH"),
    ("/etc/passwd", "INVALID_PATH"),
    ("../x.py", "INVALID_PATH"),
    ("a/../../x.py", "INVALID_PATH"),
    ("a//b.py", "INVALID_PATH"),
    ("a/./b.py", "INVALID_PATH"),
    (".", "INVALID_PATH"),
    ("dir/", "INVALID_PATH"),
    ("a\u0000b", "INVALID_PATH"),
    ("a\nb", "INVALID_PATH"),
    ("a\u007fb", "INVALID_PATH"),
    ("a\\b.py", "INVALID_PATH"),
    ("out/plot.png", "INVALID_PATH"),
    ("x" * 256, "INVALID_PATH"),
]


@pytest.mark.parametrize("path,code", BAD_PATHS, ids=[repr(p)[:24] for p, _ in BAD_PATHS])
def test_each_bad_path_is_refused_with_its_name(stack, path, code):
    body = {"language": "python", "files": [{"path": "main.py", "content": ""}, {"path": path, "content": ""}]}
    # A JSON string cannot carry a NUL through: the field names the path up to it.
    assert_error(stack.request("POST", "/code-sessions", body), 400, code, path.split("\0")[0])
    if "\\" in path or len(path) > 255:
        # The same rule for a path in a URL (lighttpd itself normalises
        # dot segments and refuses control characters: see the next tests).
        sid = stack.create_session("")["session_id"]
        assert_error(put(stack, sid, path, ""), 400, code, path)


def test_a_path_that_is_not_utf8_is_refused_before_the_engine(stack):
    """Neither a JSON body nor lighttpd lets ill-formed UTF-8 through."""
    sid = stack.create_session("")["session_id"]
    status, _, body = stack.request("PUT", f"/code-sessions/{sid}/files/a%FFb", {"content": ""})
    assert status == 400, body
    raw = b'{"language": "python", "files": [{"path": "a\xffb", "content": ""}]}'
    assert_error(stack.request("POST", "/code-sessions", raw=raw), 400, "INVALID_JSON")
    assert stack.request("GET", f"/code-sessions/{sid}")[2]["files"] == [{"path": "main.py", "content": ""}]


@pytest.mark.parametrize("path", ["../etc/passwd", "%2e%2e/x", "a/%00b", "out/x", "a%5Cb"])
def test_bad_paths_in_the_url_are_refused(stack, path):
    sid = stack.create_session("")["session_id"]
    status, _, body = stack.request("PUT", f"/code-sessions/{sid}/files/{path}", {"content": "x"})
    assert status in (400, 404), body
    if status == 400:
        # lighttpd itself refuses a control character (BAD_REQUEST) before the engine sees it.
        assert body["error"]["code"] in ("INVALID_PATH", "BAD_REQUEST"), body
    assert stack.request("GET", f"/code-sessions/{sid}")[2]["files"] == [{"path": "main.py", "content": ""}]


def test_duplicate_paths_and_a_file_that_is_a_directory_are_refused(stack):
    dup = {"language": "python", "files": [{"path": "main.py", "content": ""}, {"path": "a.py", "content": "1"},
                                           {"path": "a.py", "content": "2"}]}
    assert_error(stack.request("POST", "/code-sessions", dup), 400, "DUPLICATE_PATH", "a.py")
    nest = {"language": "python", "files": [{"path": "main.py", "content": ""}, {"path": "lib", "content": ""},
                                            {"path": "lib/x.py", "content": ""}]}
    assert_error(stack.request("POST", "/code-sessions", nest), 400, "PATH_CONFLICT", "lib/x.py")
    sid = stack.create_session("")["session_id"]
    assert_error(put(stack, sid, "main.py/x", ""), 400, "PATH_CONFLICT", "main.py/x")


def test_files_must_hold_the_entry_and_not_come_with_template_code(stack):
    no_entry = {"language": "python", "files": [{"path": "helper.py", "content": ""}]}
    assert_error(stack.request("POST", "/code-sessions", no_entry), 400, "INVALID_FIELD", "entry")
    other = {"language": "python", "entry": "app.py", "files": [{"path": "app.py", "content": ""}]}
    assert_error(stack.request("POST", "/code-sessions", other), 400, "INVALID_FIELD", "entry")
    both = {"language": "python", "template_code": "", "files": [{"path": "main.py", "content": ""}]}
    assert_error(stack.request("POST", "/code-sessions", both), 400, "INVALID_FIELD", "template_code")
    for bad in ([], [{"path": "main.py"}], [{"path": "main.py", "content": 1}], ["main.py"],
                [{"path": "main.py", "content": "", "mode": "x"}]):
        status, _, body = stack.request("POST", "/code-sessions", {"language": "python", "files": bad})
        assert status == 400 and body["error"]["code"] == "INVALID_FIELD", (bad, body)


def test_more_than_64_files_is_refused_naming_the_65th(stack):
    files = [{"path": "main.py", "content": ""}] + [{"path": f"f{i}.txt", "content": ""} for i in range(64)]
    assert_error(stack.request("POST", "/code-sessions", {"language": "python", "files": files}),
                 400, "TOO_MANY_FILES", "f63.txt")
    sid = create(stack, "python", {f["path"]: f["content"] for f in files[:64]})["session_id"]
    assert_error(put(stack, sid, "one-more.txt", ""), 400, "TOO_MANY_FILES", "one-more.txt")
    assert put(stack, sid, "f0.txt", "replacing is not adding")[0] == 200


def test_files_put_at_once_through_the_whole_pool_stop_at_exactly_64(stack):
    """Each write of a session's files holds the session while it counts:
    of six new files sent at once to a session of 62, two are taken (ten
    sessions, one after the other)."""
    import threading
    files = {"main.py": ""} | {f"f{i}.txt": "" for i in range(61)}
    for _ in range(10):
        sid = create(stack, "python", files)["session_id"]
        barrier, got = threading.Barrier(6), [None] * 6

        def one(i):
            barrier.wait()
            got[i] = put(stack, sid, f"new{i}.txt", "x")[0]
        threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(got) == [200, 200, 400, 400, 400, 400]
        status, _, body = stack.request("GET", f"/code-sessions/{sid}")
        assert status == 200 and len(body["files"]) == 64


def test_more_than_1_mib_in_all_is_refused_naming_the_file(stack):
    sid = stack.create_session("")["session_id"]
    chunk = "x" * 262144
    for i in range(4):
        assert put(stack, sid, f"part{i}.txt", chunk)[0] == 200
    assert_error(put(stack, sid, "last.txt", "y"), 400, "SESSION_TOO_LARGE", "last.txt")
    assert_error(stack.request("PATCH", f"/code-sessions/{sid}", {"source_code": "z"}),
                 400, "SESSION_TOO_LARGE", "source_code")
    assert_error(put(stack, sid, "part0.txt", chunk + "y"), 400, "INVALID_FIELD", "content")
    assert stack.request("DELETE", f"/code-sessions/{sid}/files/part3.txt")[0] == 204
    status, _, body = stack.request("PATCH", f"/code-sessions/{sid}", {"source_code": chunk})
    assert status == 200 and body["source_code"] == chunk and len(body["files"]) == 4


def test_an_autosave_and_a_file_put_at_once_never_pass_the_session_limit_together(stack):
    """An autosave of the entry alone is one statement that checks the
    session's total as the file write before it left it: a session holding
    768 KiB, sent a 200 kB autosave and a 200 kB new file at once, takes one
    of them (ten rounds)."""
    import threading
    chunk, more = "x" * 262144, "y" * 200_000
    for round_ in range(10):
        sid = create(stack, "python", {"main.py": ""} | {f"part{i}.txt": chunk for i in range(3)})["session_id"]
        barrier, got = threading.Barrier(2), {}

        def autosave():
            barrier.wait()
            got["patch"] = stack.request("PATCH", f"/code-sessions/{sid}", {"source_code": more})[0]

        def new_file():
            barrier.wait()
            got["put"] = put(stack, sid, "more.txt", more)[0]
        threads = [threading.Thread(target=autosave), threading.Thread(target=new_file)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(got.values()) == [200, 400], (round_, got)
        status, _, body = stack.request("GET", f"/code-sessions/{sid}")
        total = sum(len(f["content"]) for f in body["files"])
        assert status == 200 and total == 3 * 262144 + 200_000, (round_, got, total)
