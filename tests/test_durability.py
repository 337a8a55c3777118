"""Nothing lost, nothing run twice: fault injection under load.

Each scenario keeps ~200 executions in flight (mixed short and slow code)
plus a stream of autosaves, kills parts of the real stack with SIGKILL (or
stops them), restarts them, and then checks that every accepted execution
reached a terminal state with the right output, that no execution's result
was written twice, that every acknowledged autosave is what the store
returns, and that SQLite's integrity check passes.
"""

import os
import signal
import threading
import time

import pytest

from components import Components
from stack import tail

# Fewer on a slow target (make vm-test: an emulated CPU).
TARGET = int(os.environ.get("DURABILITY_TARGET", "200"))
SESSIONS_PER_THREAD = 5
THREADS = 8


def program(tag, counter):
    """The code an autosave writes, and the stdout a run of it must give."""
    out = f"{tag}-{counter}"
    if counter % 10 == 0:
        return f"import time\ntime.sleep(0.3)\nprint({out!r})\n", out + "\n"
    return f"print({out!r})\n", out + "\n"


class Load:
    """Clients that autosave and run until TARGET runs were accepted."""

    def __init__(self, comp, target=TARGET):
        self.comp = comp
        self.target = target
        self.lock = threading.Lock()
        self.accepted = {}          # execution id -> expected stdout
        self.possible = {}          # session id -> contents the store may hold
        self.refused = 0
        self.errors = 0
        self.stop_event = threading.Event()
        self.threads = []

    def count(self):
        with self.lock:
            return len(self.accepted)

    def start(self):
        for t in range(THREADS):
            th = threading.Thread(target=self._client, args=(t,), daemon=True)
            th.start()
            self.threads.append(th)

    def stop(self):
        self.stop_event.set()
        for th in self.threads:
            th.join(timeout=30)

    def wait_accepted(self, n, timeout=90):
        deadline = time.monotonic() + timeout
        while self.count() < n and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.count() < n:
            try:
                health = self.comp.request("GET", "/health")
            except OSError as e:
                health = repr(e)
            raise AssertionError(f"only {self.count()} runs accepted in {timeout}s; refused {self.refused}, "
                                 f"other errors {self.errors}; /health: {health}; fcgi_app processes: "
                                 f"{self.comp.fcgi_pids()}\n" + self._logs())

    def _logs(self):
        """The ends of the runner's and lighttpd's logs, lighttpd's children
        and its spawn and exit lines, for a failure's message."""
        error_log = os.path.join(self.comp.data_dir, "lighttpd-error.log")
        spawns = [ln for ln in tail(error_log, 100000).splitlines()
                  if "child" in ln or "spawn" in ln or "exited" in ln]
        return "\n".join([
            "--- runner (tail) ---\n" + tail(self.comp.runner_log, 15),
            "--- lighttpd error log (tail) ---\n" + tail(error_log, 15),
            "--- lighttpd output (tail) ---\n" + tail(os.path.join(self.comp.data_dir, "lighttpd.out"), 15),
            "--- lighttpd's children ---\n" + "\n".join(self.comp.children_of_lighttpd()),
            "--- lighttpd's spawn and exit lines ---\n" + "\n".join(spawns[-30:]),
        ])

    def _new_session(self):
        while not self.stop_event.is_set():
            try:
                status, body = self.comp.request("POST", "/code-sessions", {"language": "python"})
                if status == 201:
                    with self.lock:
                        self.possible[body["session_id"]] = {""}
                    return body["session_id"]
            except OSError:
                pass
            time.sleep(0.05)
        return None

    def _autosave(self, sid, code):
        """True if the store acknowledged code as the session's content."""
        try:
            status, _ = self.comp.request("PATCH", f"/code-sessions/{sid}", {"source_code": code})
        except OSError:
            status = None
        with self.lock:
            if status == 200:
                self.possible[sid] = {code}
                return True
            # No reply, or lighttpd's 5xx for a backend killed mid-request:
            # the write may or may not have committed.
            if status is None or status >= 500:
                self.possible[sid].add(code)
            else:
                self.errors += 1
        return False

    def _run(self, sid, expected):
        try:
            status, body = self.comp.request("POST", f"/code-sessions/{sid}/run")
        except OSError:
            return
        with self.lock:
            if status == 202:
                self.accepted[body["execution_id"]] = expected
            elif status in (429, 503):
                self.refused += 1       # refused, or unknown while a backend died
            elif status >= 500:
                self.refused += 1
            else:
                self.errors += 1

    def _client(self, t):
        sessions = [self._new_session() for _ in range(SESSIONS_PER_THREAD)]
        counter = 0
        while not self.stop_event.is_set():
            for i, sid in enumerate(sessions):
                if sid is None or self.stop_event.is_set():
                    continue
                counter += 1
                code, expected = program(f"t{t}s{i}", counter)
                if self._autosave(sid, code) and self.count() < self.target:
                    self._run(sid, expected)
                else:
                    time.sleep(0.01)

    def check_autosaves(self):
        wrong = []
        for sid, possible in self.possible.items():
            status, body = self.comp.request("GET", f"/code-sessions/{sid}")
            if status != 200 or body["source_code"] not in possible:
                wrong.append(sid)
        return wrong


def verify(comp, load, scenario, capsys, timeout=90):
    done, pending = comp.wait_terminal(list(load.accepted), timeout)
    written = comp.written_results()
    retried = sum(1 for e in done.values() if e["attempt"] > 1)
    wrong = [eid for eid, e in done.items()
             if e["status"] != "COMPLETED" or e["stdout"] != load.accepted[eid]]
    twice = [eid for eid in load.accepted if written.get(eid, 0) > 1]
    with capsys.disabled():     # the counts belong in make test's output
        print(f"\n{scenario}: accepted={len(load.accepted)} finished={len(done)} "
              f"retried={retried} lost={len(pending)} wrong={len(wrong)} written_twice={len(twice)} "
              f"refused={load.refused}")
    assert not pending, f"{len(pending)} accepted executions never finished"
    assert not wrong, [done[eid] for eid in wrong[:3]]
    assert not twice
    assert load.errors == 0
    assert load.check_autosaves() == []
    assert comp.integrity() == "ok"
    return retried


def wait_running(comp, n, timeout=30):
    """Waits until n executions are RUNNING, so a kill cuts attempts short."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, health = comp.request("GET", "/health")
        if health.get("running", 0) >= n:
            return
        time.sleep(0.01)
    raise AssertionError(f"never {n} executions running at once")


@pytest.fixture
def comp():
    c = Components()
    try:
        yield c.start()
    finally:
        c.cleanup()


def test_runner_killed_mid_load_loses_and_repeats_nothing(comp, capsys):
    load = Load(comp)
    load.start()
    try:
        load.wait_accepted(TARGET // 3)
        wait_running(comp, 2)
        comp.kill_runner(signal.SIGKILL)
        time.sleep(0.5)
        comp.start_runner()
        load.wait_accepted(TARGET)
    finally:
        load.stop()
    assert verify(comp, load, "runner kill -9", capsys) >= 1     # cut short, run again


def test_fcgi_pool_and_lighttpd_killed_mid_load(comp, capsys):
    load = Load(comp)
    load.start()
    try:
        load.wait_accepted(TARGET // 4)
        assert comp.kill_fcgi_apps(signal.SIGKILL)
        load.wait_accepted(TARGET // 2)
        comp.kill_lighttpd(signal.SIGKILL)
        assert comp.wait_no_fcgi() == [], "fcgi_app outlived lighttpd"
        comp.start_lighttpd()
        load.wait_accepted(TARGET)
    finally:
        load.stop()
    verify(comp, load, "fcgi_app + lighttpd kill -9", capsys)


def test_everything_killed_at_once_and_restarted(comp, capsys):
    load = Load(comp)
    load.start()
    try:
        load.wait_accepted(TARGET // 2)
        wait_running(comp, 2)
        comp.kill_runner(signal.SIGKILL)
        comp.kill_lighttpd(signal.SIGKILL)
        comp.kill_fcgi_apps(signal.SIGKILL)
        time.sleep(0.5)
        comp.start_runner()
        comp.start_lighttpd()
        load.wait_accepted(TARGET)
    finally:
        load.stop()
    assert verify(comp, load, "everything kill -9", capsys) >= 1


def test_runner_stopped_for_30_seconds_while_requests_continue(comp, capsys):
    load = Load(comp)
    load.start()
    try:
        load.wait_accepted(TARGET // 4)
        assert comp.kill_runner(signal.SIGTERM) == 0
        comp.wait_health(503)
        load.wait_accepted(TARGET)
        time.sleep(30)
        status, health = comp.request("GET", "/health")
        assert status == 503 and health["runners_alive"] == 0
        assert health["queue_depth"] > 0 and health["oldest_queued_age_ms"] >= 25000
        comp.start_runner()
        comp.wait_health(200)
    finally:
        load.stop()
    verify(comp, load, "runner stopped 30 s", capsys)
