#!/usr/bin/python3
"""One line per language of conf/languages.conf: hello world end to end
through the engine (POST run to terminal state, waited for with the
long-poll: a poll every 2 ms through a compile of a second is 500
requests, whose CPU the compiler would share on two cores) beside
the bare toolchain's own time on the same machine (the same compile and run
commands, without the engine, each in a fresh directory like the sandbox's).

Compiled languages are measured twice: a cold compile (the source changes
every run, so the compile cache never hits) and a cached one (the same
source again). So are the languages whose run checks the syntax first in
processes of its own (a run_checked row, Bash and SQL): a new source every
run (checked, beside the bare check and run: `bash -n main.sh && bash
main.sh`) and the same source again (run without the check, as the engine
remembers it passed, beside the bare run alone). Each language's first
run, bare and through the engine, is not timed. Part of make bench; runs
alone as bench/languages_bench.py.
"""

import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TABLE = REPO / "conf" / "languages.conf"
COLD_RUNS = int(os.environ.get("BENCH_COLD_RUNS", "15"))
WARM_RUNS = int(os.environ.get("BENCH_WARM_RUNS", "15"))

HELLO = {
    "python": "print('hello')\n",
    "javascript": "console.log('hello');\n",
    "typescript": "const s: string = 'hello';\nconsole.log(s);\n",
    "c": "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n",
    "cpp": "#include <iostream>\nint main() { std::cout << \"hello\" << std::endl; }\n",
    "java": "public class Main { public static void main(String[] a) { System.out.println(\"hello\"); } }\n",
    "go": "package main\nimport \"fmt\"\nfunc main() { fmt.Println(\"hello\") }\n",
    "rust": "fn main() { println!(\"hello\"); }\n",
    "bash": "echo hello\n",
    "sql": ".mode list\nSELECT 'hello';\n",
}
# The run command of a language with a syntax channel is the engine's own
# start-up (Python's boot, a Node.js boot, a shell that checks the file
# first): the bare toolchain runs the file directly.
BARE_RUN = {
    "python": "/usr/bin/python3 /app/main.py",
    "javascript": "/usr/bin/node /app/main.js",
    "bash": "/usr/bin/bash /app/main.sh",
    "sql": "/usr/bin/sqlite3 -batch -bail -table :memory: \".read /app/main.sql\"",
}
# BENCH_LANGUAGES=python,sql: only those.
ONLY = [l for l in os.environ.get("BENCH_LANGUAGES", "").split(",") if l]
# A line comment in each language, to make a source new without changing it.
COMMENT = {"python": "#", "bash": "#", "sql": "--"}


def read_table():
    """{id: {key: value}} of conf/languages.conf, in order."""
    table, cur = {}, None
    for line in TABLE.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("["):
            cur = table.setdefault(line.strip("[]").strip(), {})
        elif "=" in line and cur is not None:
            k, v = line.split("=", 1)
            cur[k.strip()] = v.strip()
    return table


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))] if v else None


def bare_argv(words, d, source):
    """A command of the table, run in directory d instead of the sandbox.

    {sources} is the one hello-world file, as the runner expands it for a
    session of one file; a word naming {snapshot} (the engine's start-up
    snapshot of the toolchain) is left out: the bare toolchain starts as it
    ships.
    """
    out = []
    for w in shlex.split(words):
        if "{snapshot}" in w:
            continue
        if w == "{python}":
            w = "/usr/bin/python3"
        elif w == "{sources}":
            w = source
        w = w.replace("/tmp/out", f"{d}/out").replace("/app/", f"{d}/").replace("/app", d)
        out.append(w)
    return out


def bare_once(lang, row, check=False):
    """Seconds for compile (if any), or the check when asked, and run of
    hello world, in a fresh directory."""
    with tempfile.TemporaryDirectory(prefix="bench-bare-") as d:
        (Path(d) / row["file"]).write_text(HELLO[lang])
        os.mkdir(f"{d}/out")
        env = {"PATH": "/usr/bin:/bin", "HOME": d, "LANG": "C.UTF-8", "TMPDIR": d}
        for kv in shlex.split(row.get("env", "")):
            k, v = kv.split("=", 1)
            env[k] = v.replace("/tmp", d)
        t0 = time.perf_counter()
        if check:
            subprocess.run(bare_argv(row["check"], d, row["file"]), cwd=d, env=env, check=True, capture_output=True)
        if "compile" in row:
            subprocess.run(bare_argv(row["compile"], d, row["file"]), cwd=d, env=env, check=True, capture_output=True)
            for f in os.listdir(f"{d}/out"):
                os.rename(f"{d}/out/{f}", f"{d}/{f}")
        r = subprocess.run(bare_argv(BARE_RUN.get(lang, row["run"]), d, row["file"]), cwd=d, env=env, capture_output=True, text=True)
        assert r.stdout == "hello\n", (lang, r)
        return time.perf_counter() - t0


def engine_once(client, lang, code):
    sid = client.session_in(lang, code)
    secs, ex = client.run_waiting(sid)
    assert ex["status"] == "COMPLETED" and ex["stdout"] == "hello\n", ex
    return secs, ex


def measure(client, lang, row, seq):
    """Bare and engine runs take turns, so both see the machine as it is
    then (a compiler's start moves by tens of ms with the page cache and
    whatever else runs)."""
    r = {"compiled": "compile" in row, "checked": "run_checked" in row}
    mark = COMMENT.get(lang, "//")
    # One of each first, not timed: the toolchain's files into the page
    # cache, and the slots' warm interpreters up on a stack just started.
    bare_once(lang, row)
    engine_once(client, lang, f"{HELLO[lang]}{mark} {seq}-first\n")
    bare = []
    if r["compiled"]:
        cold = []
        for i in range(COLD_RUNS):
            bare.append(bare_once(lang, row) * 1000)
            cold.append(engine_once(client, lang, f"{HELLO[lang]}{mark} {seq}-{i}\n")[0] * 1000)
        same = f"{HELLO[lang]}{mark} {seq}-cached\n"
        engine_once(client, lang, same)
        warm = []
        for _ in range(WARM_RUNS):
            secs, ex = engine_once(client, lang, same)
            assert ex["compile_cached"] is True, ex
            warm.append(secs * 1000)
        r["cold_ms"] = {"p50": pct(cold, 50), "p99": pct(cold, 99)}
        r["cached_ms"] = {"p50": pct(warm, 50), "p99": pct(warm, 99)}
    elif r["checked"]:
        new, bare_checked = [], []
        for i in range(COLD_RUNS):
            bare_checked.append(bare_once(lang, row, check=True) * 1000)
            new.append(engine_once(client, lang, f"{HELLO[lang]}{mark} {seq}-{i}\n")[0] * 1000)
        warm = []
        for _ in range(WARM_RUNS):
            bare.append(bare_once(lang, row) * 1000)
            warm.append(engine_once(client, lang, HELLO[lang])[0] * 1000)
        r["new_ms"] = {"p50": pct(new, 50), "p99": pct(new, 99)}
        r["run_ms"] = {"p50": pct(warm, 50), "p99": pct(warm, 99)}
        r["bare_checked_ms"] = pct(bare_checked, 50)
    else:
        warm = []
        for _ in range(WARM_RUNS):
            bare.append(bare_once(lang, row) * 1000)
            warm.append(engine_once(client, lang, HELLO[lang])[0] * 1000)
        r["run_ms"] = {"p50": pct(warm, 50), "p99": pct(warm, 99)}
    r["bare_ms"] = pct(bare, 50)
    return r


def languages(client):
    seq = str(time.time_ns())
    return {lang: measure(client, lang, row, seq) for lang, row in read_table().items() if lang in HELLO and (not ONLY or lang in ONLY)}


def print_languages(r):
    f = lambda v: "-" if v is None else f"{v:.1f}"
    print("languages, hello world end to end (p50 / p99 ms) beside the bare toolchain (p50, compile + run):")
    for lang, m in r.items():
        if m["compiled"]:
            print(f"  {lang:11} cold {f(m['cold_ms']['p50']):>7} / {f(m['cold_ms']['p99']):>7}  "
                  f"cached {f(m['cached_ms']['p50']):>6} / {f(m['cached_ms']['p99']):>6}  "
                  f"bare {f(m['bare_ms']):>7}  engine +{f(m['cold_ms']['p50'] - m['bare_ms'])} cold")
        elif m["checked"]:
            print(f"  {lang:11} new  {f(m['new_ms']['p50']):>7} / {f(m['new_ms']['p99']):>7}  "
                  f"{'':22}bare {f(m['bare_checked_ms']):>7}  engine +{f(m['new_ms']['p50'] - m['bare_checked_ms'])} "
                  f"(a new source: checked, beside the bare check and run)")
            print(f"  {lang:11} same {f(m['run_ms']['p50']):>7} / {f(m['run_ms']['p99']):>7}  "
                  f"{'':22}bare {f(m['bare_ms']):>7}  engine +{f(m['run_ms']['p50'] - m['bare_ms'])} "
                  f"(the same source again: checked before, beside the bare run)")
        else:
            print(f"  {lang:11} run  {f(m['run_ms']['p50']):>7} / {f(m['run_ms']['p99']):>7}  "
                  f"{'':22}bare {f(m['bare_ms']):>7}  engine +{f(m['run_ms']['p50'] - m['bare_ms'])}")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "bench"))
    sys.path.insert(0, str(REPO / "tests"))
    from bench import Client            # noqa: E402
    from components import Components   # noqa: E402
    # BENCH_UID_BASE: sandbox uids of their own, on a host where another
    # engine's sandboxes run (per-uid process limits are host-wide).
    base = os.environ.get("BENCH_UID_BASE")
    comp = Components({"sandbox_uid_base": base} if base else None)
    try:
        comp.start()
        res = languages(Client(comp.port))
    finally:
        comp.stop()
        comp.cleanup()
    print_languages(res)
