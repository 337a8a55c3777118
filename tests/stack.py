"""Starts and stops the real stack (scripts/run-stack) for the API tests.

Standard library only: the tests run under Debian's /usr/bin/python3.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pg

REPO = Path(__file__).resolve().parent.parent
# Every runner the tests and benches start keeps the toolchains' start-up
# snapshots in one directory of the build (searchable by the sandboxes,
# unlike a stack's own mkdtemp directory), so that they are built once per
# build rather than at every stack's start (README, "Start-up snapshots");
# tests/test_languages.py builds them in directories of its own.
os.environ.setdefault("ENGINE_SNAPSHOT_DIR", str(REPO / os.environ.get("BUILD", "build") / "snapshots"))
TERMINAL = ("COMPLETED", "FAILED", "TIMEOUT")


# Sandbox uids: every stack a test starts gets a range of its own
# (SANDBOX_UID_BASE), because a slot's host uid carries its runs' per-user
# kernel quotas. Stacks of one pytest process step through the ranges;
# concurrent test processes on one host start at different places.
UID_RANGE_FIRST = 300000
UID_RANGE_SIZE = 1024                 # 2 uids per slot, up to 512 slots
UID_RANGE_COUNT = 4096
_uid_ranges_used = [0]


def sandbox_uid_base():
    """A sandbox_uid_base no other stack of this test process has used."""
    _uid_ranges_used[0] += 1
    k = (os.getpid() * 16 + _uid_ranges_used[0]) % UID_RANGE_COUNT
    return UID_RANGE_FIRST + k * UID_RANGE_SIZE


def is_sandbox_uid(uid):
    return UID_RANGE_FIRST <= uid < UID_RANGE_FIRST + UID_RANGE_COUNT * UID_RANGE_SIZE


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path, lines=40):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return f"<{path}: {e}>"
    text = data.decode("utf-8", "replace").splitlines()
    return "\n".join(text[-lines:])


def _proc_stat(pid):
    """(state, ppid, pgrp, starttime) of pid, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            s = f.read().decode("ascii", "replace")
    except OSError:
        return None
    rest = s[s.rindex(")") + 2:].split()
    return rest[0], int(rest[1]), int(rest[2]), int(rest[19])


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return "?"


def _pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def descendants_of(root):
    """{(pid, starttime)} of every live descendant of process root."""
    children = {}
    stats = {}
    for pid in _pids():
        st = _proc_stat(pid)
        if st is None:
            continue
        stats[pid] = st
        children.setdefault(st[1], []).append(pid)
    out, to_visit = set(), [root]
    while to_visit:
        p = to_visit.pop()
        for c in children.get(p, []):
            out.add((c, stats[c][3]))
            to_visit.append(c)
    return out


def comm_of(pid):
    """The process's name (its /proc comm), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def http_call(port, method, path, body=None, headers=None, raw=None, timeout=30):
    """-> (status, headers, parsed JSON or text). `body` is sent as JSON
    with Content-Type application/json; `raw` (bytes) is sent as is,
    with that Content-Type unless `headers` says otherwise (a header
    whose value is None is not sent)."""
    data = None
    hdrs = {}
    if body is not None:
        data = json.dumps(body).encode("utf-8")
    elif raw is not None:
        data = raw if isinstance(raw, bytes) else raw.encode("utf-8")
    if data is not None:
        hdrs["Content-Type"] = "application/json"
    hdrs.update(headers or {})
    hdrs = {k: v for k, v in hdrs.items() if v is not None}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        payload = resp.read()
        status, rh = resp.status, resp.headers
    finally:
        conn.close()
    text = payload.decode("utf-8", "replace")
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = text
    return status, rh, parsed


class Stack:
    """One run-stack process (runner + lighttpd + fcgi_app pool)."""

    def __init__(self, data_dir=None, store_url=None):
        self.own_dir = data_dir is None
        # The store: a PostgreSQL database (given, or with STORE=postgresql
        # one of the session's server), else SQLite in data_dir.
        self.store_url = store_url or pg.session_store_url()
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="engine-api-test-")
        self.build = os.environ.get("BUILD", "build")
        self.port = None
        self.uid_base = sandbox_uid_base()
        self.env = {}                 # more for run-stack's environment (ENGINE_ROLE, ...)
        self.proc = None
        self.pgid = None
        self.last_exit_code = None
        self._out = None
        self._err = None

    # ---- files -------------------------------------------------------
    @property
    def stdout_path(self):
        return os.path.join(self.data_dir, "stack.stdout")

    @property
    def stderr_path(self):
        return os.path.join(self.data_dir, "stack.stderr")

    def log_tail(self, lines=40):
        return (
            f"--- {self.data_dir}/lighttpd-error.log (tail) ---\n"
            + tail(os.path.join(self.data_dir, "lighttpd-error.log"), lines)
            + "\n--- run-stack stderr (tail) ---\n"
            + tail(self.stderr_path, lines)
            + "\n--- run-stack stdout (tail) ---\n"
            + tail(self.stdout_path, lines)
        )

    # ---- lifecycle ---------------------------------------------------
    def start(self, timeout=15.0):
        """Starts run-stack; returns once GET /health answers 200."""
        for attempt in range(3):
            try:
                return self._start(timeout)
            except RuntimeError as e:
                # Another process took the free port in between: try another.
                if attempt == 2 or "Address already in use" not in str(e):
                    raise
                self.port = None

    def _start(self, timeout):
        assert self.proc is None, "stack already started"
        if self.port is None:
            self.port = free_port()
        env = dict(os.environ)
        env.update(PORT=str(self.port), DATA_DIR=self.data_dir, BUILD=self.build,
                   SANDBOX_UID_BASE=str(self.uid_base), **self.env)
        env.pop("ENGINE_STORE", None)
        if self.store_url:
            env["ENGINE_STORE"] = self.store_url
        # lighttpd lives in /usr/sbin, which a non-login PATH may lack.
        env["PATH"] = env.get("PATH", "") + ":/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"
        self._out = open(self.stdout_path, "ab")
        self._err = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(
            [str(REPO / "scripts" / "run-stack")],
            cwd=str(REPO), env=env, stdin=subprocess.DEVNULL,
            stdout=self._out, stderr=self._err, start_new_session=True)
        self.pgid = self.proc.pid
        return self._wait_healthy(timeout, {"run-stack": self.proc})

    def _wait_healthy(self, timeout, procs):
        """Returns self once GET /health answers 200; fails the start if
        that takes longer than `timeout` or one of `procs` (name -> Popen)
        exits first."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            for name, p in procs.items():
                if p.poll() is not None:
                    self._fail_start(f"{name} exited with status {p.returncode} "
                                     "before /health answered 200")
            try:
                status, _, body = self.request("GET", "/health", timeout=2)
                last = (status, body)
                if status == 200:
                    return self
            except OSError as e:
                last = repr(e)
            time.sleep(0.05)
        self._fail_start(f"GET /health did not answer 200 within {timeout} s (last: {last!r})")

    def _fail_start(self, why):
        diag = self.log_tail()
        self._kill_all()
        raise RuntimeError(f"stack failed to start: {why}\n{diag}")

    def _kill_all(self):
        if self.proc is not None:
            try:
                os.killpg(self.pgid, signal.SIGKILL)
            except OSError:
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
            for pid, _ in self.leftover_processes(set()):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            self.proc = None
        self._close_files()

    def _close_files(self):
        for f in (self._out, self._err):
            if f is not None:
                f.close()
        self._out = self._err = None

    def descendants(self):
        """{(pid, starttime)} of every live descendant of run-stack."""
        return set() if self.proc is None else descendants_of(self.proc.pid)

    def leftover_processes(self, known):
        """Live (non-zombie) processes that belong to this stack:
        in its process group, carrying its DATA_DIR in the environment,
        or in `known` (pid, starttime) pairs recorded while it ran."""
        needle = b"DATA_DIR=" + self.data_dir.encode() + b"\0"
        me = os.getpid()
        found = []
        for pid in _pids():
            if pid == me:
                continue
            st = _proc_stat(pid)
            if st is None or st[0] in ("Z", "X"):
                continue
            mine = self.pgid is not None and st[2] == self.pgid
            if not mine and (pid, st[3]) in known:
                mine = True
            if not mine:
                try:
                    with open(f"/proc/{pid}/environ", "rb") as f:
                        mine = needle in (f.read() + b"\0")
                except OSError:
                    pass
            if mine:
                found.append((pid, _cmdline(pid)))
        return found

    def stop(self, timeout=15.0):
        """SIGTERM to run-stack; asserts it exits within `timeout` and
        leaves no process behind."""
        if self.proc is None:
            return
        known = self.descendants()
        deadline = time.monotonic() + timeout
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.last_exit_code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            left = self.leftover_processes(known)
            diag = self.log_tail()
            self._kill_all()
            raise AssertionError(
                f"run-stack did not exit within {timeout} s of SIGTERM; processes: {left}\n{diag}")
        left = self.leftover_processes(known)
        while left and time.monotonic() < deadline:
            time.sleep(0.05)
            left = self.leftover_processes(known)
        self.proc = None
        self._close_files()
        if left:
            for pid, _ in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            raise AssertionError(
                f"processes left after run-stack exited (status {self.last_exit_code}): {left}\n"
                + self.log_tail())

    def restart(self):
        self.stop()
        self.start()
        return self

    def cleanup(self):
        """Removes the data directory (only one this object created)."""
        self._kill_all()
        if not self.own_dir:
            return
        real = os.path.realpath(self.data_dir)
        try:
            with open("/proc/self/mountinfo") as f:
                mounts = [line.split()[4] for line in f]
        except OSError:
            mounts = []
        if any(m == real or m.startswith(real + "/") for m in mounts):
            return  # never delete through a mount point left behind
        shutil.rmtree(self.data_dir, ignore_errors=True)

    # ---- store -------------------------------------------------------
    def store_rows(self, sql):
        """The rows of a read-only query on the stack's store, as tuples
        (PostgreSQL's values as psql prints them: text, None for NULL)."""
        if self.store_url:
            return pg.query_rows(self.store_url, sql)
        db = sqlite3.connect(f"file:{self.data_dir}/engine.db?mode=ro", uri=True, timeout=10)
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()

    # ---- HTTP --------------------------------------------------------
    def request(self, method, path, body=None, headers=None, raw=None, timeout=30):
        return http_call(self.port, method, path, body, headers, raw, timeout)

    def create_session(self, code=None, language="python"):
        body = {"language": language}
        if code is not None:
            body["template_code"] = code
        status, _, resp = self.request("POST", "/code-sessions", body)
        assert status == 201, (status, resp)
        return resp

    def patch_code(self, session_id, code):
        status, _, resp = self.request("PATCH", f"/code-sessions/{session_id}",
                                       {"source_code": code})
        assert status == 200, (status, resp)
        return resp

    def run(self, session_id, stdin=None):
        """POST /run -> (status, headers, body). No body at all when stdin is None."""
        body = None if stdin is None else {"stdin": stdin}
        return self.request("POST", f"/code-sessions/{session_id}/run", body)

    def run_ok(self, session_id, stdin=None):
        status, _, resp = self.run(session_id, stdin)
        assert status == 202, (status, resp)
        return resp["execution_id"]

    def get_execution(self, execution_id):
        status, _, resp = self.request("GET", f"/executions/{execution_id}")
        assert status == 200, (status, resp)
        return resp

    def wait_terminal(self, execution_id, timeout=20.0):
        deadline = time.monotonic() + timeout
        last = None
        while True:
            last = self.get_execution(execution_id)
            if last.get("status") in TERMINAL:
                return last
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"execution {execution_id} not terminal after {timeout} s: {last!r}")
            time.sleep(0.02)

    def execute(self, code, stdin=None, timeout=20.0, language="python"):
        """Create a session with `code`, run it, wait: the final execution."""
        sid = self.create_session(code, language)["session_id"]
        eid = self.run_ok(sid, stdin)
        return self.wait_terminal(eid, timeout)


def warm_data_packages():
    """Reads Python's data packages into the page cache before a run that
    imports them meets its 5 s limit. A host that has dropped them from its
    cache (memory pressure, proactive reclaim) reads about 100 MB from disk
    at the first import, which on a slow disk passes 5 s by itself (README,
    "Data packages"); sandboxes share the host's page cache. Against a
    remote engine (tests/remote.py) it warms this host only, which does no
    harm."""
    subprocess.run(["/usr/bin/python3", "-c", "import numpy, pandas, matplotlib.pyplot"],
                   check=True, capture_output=True)


def running(stack):
    """Fixture body: starts `stack`, yields it, stops it (asserting nothing is
    left) and removes its files even when a step fails."""
    try:
        stack.start()
        yield stack
        stack.stop()
    finally:
        stack.cleanup()


def random_uuid():
    return str(uuid.uuid4())


# ---- assertion helpers shared by the test modules -----------------------
import datetime as _dt
import re as _re

TS_RE = _re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
UUID_RE = _re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

SESSION_KEYS = {"session_id", "language", "source_code", "status", "created_at", "updated_at",
                "entry", "files"}
RUN_KEYS = {"execution_id", "session_id", "status", "queued_at"}
EXECUTION_KEYS = {
    "execution_id", "session_id", "status", "stdout", "stderr", "exit_code", "signal",
    "execution_time_ms", "setup_time_ms", "cpu_time_ms", "memory_kb", "stdout_truncated",
    "stderr_truncated", "error", "attempt", "queued_at", "started_at", "finished_at",
    "kind", "compile_output", "compile_time_ms", "compile_cached", "diagnostics", "interactive", "artifacts",
}


def parse_ts(ts):
    """RFC 3339 UTC with milliseconds -> aware datetime (asserts the format)."""
    assert isinstance(ts, str) and TS_RE.match(ts), f"not an RFC 3339 UTC ms timestamp: {ts!r}"
    return _dt.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=_dt.timezone.utc)


def assert_recent(ts, slack_s=30):
    t = parse_ts(ts)
    now = _dt.datetime.now(_dt.timezone.utc)
    assert abs((now - t).total_seconds()) < slack_s, f"{ts} is not close to now ({now.isoformat()})"


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def assert_error(resp, status, code, field=None):
    """resp = (status, headers, body) of an error reply."""
    got_status, headers, body = resp
    assert got_status == status, (got_status, body)
    ctype = headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip() == "application/json", ctype
    assert isinstance(body, dict) and set(body) == {"error"}, body
    err = body["error"]
    assert isinstance(err, dict) and set(err) == {"code", "message", "field"}, body
    assert err["code"] == code, body
    assert err["field"] == field, body
    assert isinstance(err["message"], str) and err["message"], body
    return err
