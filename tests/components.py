"""The stack's parts started one by one, so fault-injection tests can kill
and restart each: the runner, the events program, and lighttpd with its
fcgi_app pool. Same
binaries, configuration and lighttpd.conf as scripts/run-stack."""

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

from stack import REPO, TERMINAL, free_port, http_call, sandbox_uid_base

DEFAULT_CONFIG = REPO / "conf" / "engine.conf"


class Components:
    def __init__(self, config_overrides=None):
        self.data_dir = tempfile.mkdtemp(prefix="engine-fault-test-")
        self.build = REPO / os.environ.get("BUILD", "build")
        self.port = free_port()
        self.config = DEFAULT_CONFIG
        if config_overrides:
            self.config = Path(self.data_dir) / "engine.conf"
            text = DEFAULT_CONFIG.read_text()
            text += f"languages_file = {REPO / 'conf' / 'languages.conf'}\n"
            text += "".join(f"{k} = {v}\n" for k, v in config_overrides.items())
            self.config.write_text(text)
        self.env = dict(os.environ, PORT=str(self.port), DATA_DIR=self.data_dir,
                        SANDBOX_UID_BASE=str(sandbox_uid_base()),
                        ENGINE_CONFIG=str(self.config), ENGINE_BIN=str(self.build),
                        FCGI_PROCS=self._get("fcgi_processes"))
        self.env["PATH"] = self.env.get("PATH", "") + ":/usr/sbin:/usr/bin:/sbin:/bin"
        self.runner = None
        self.events = None
        self.lighttpd = None
        self.runner_log = Path(self.data_dir) / "runner.log"

    def _get(self, key):
        return subprocess.check_output(
            [str(self.build / "runner"), "--config", str(self.config), "--get", key],
            text=True).strip()

    # ---- lifecycle ---------------------------------------------------
    def start_runner(self):
        log = open(self.runner_log, "ab")
        self.runner = subprocess.Popen([str(self.build / "runner")], env=self.env,
                                       stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                       start_new_session=True)
        log.close()

    def start_events(self):
        log = open(Path(self.data_dir) / "events.log", "ab")
        self.events = subprocess.Popen([str(self.build / "events")], env=self.env,
                                       stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                       start_new_session=True)
        log.close()
        sock = Path(self.data_dir) / "events-http.sock"
        deadline = time.monotonic() + 10
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.02)

    def start_lighttpd(self, wait=True):
        log = open(Path(self.data_dir) / "lighttpd.out", "ab")
        self.lighttpd = subprocess.Popen(["lighttpd", "-D", "-f", str(REPO / "lighttpd.conf")],
                                         env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, start_new_session=True)
        log.close()
        if wait:
            self.wait_http()

    def start(self):
        self.start_runner()
        self.start_events()
        self.start_lighttpd()
        self.wait_health(200)
        return self

    def wait_http(self, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.request("GET", "/health", timeout=2)
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("lighttpd did not answer")

    def wait_health(self, want, timeout=15):
        deadline = time.monotonic() + timeout
        status = None
        while time.monotonic() < deadline:
            try:
                status, _ = self.request("GET", "/health", timeout=2)
                if status == want:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"/health stayed {status}, wanted {want}")

    @staticmethod
    def _kill(proc, sig):
        if proc and proc.poll() is None:
            os.kill(proc.pid, sig)
        if proc:
            proc.wait(timeout=30)

    def kill_runner(self, sig=signal.SIGKILL):
        self._kill(self.runner, sig)
        return self.runner.returncode

    def fcgi_pids(self):
        pids = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                exe = os.readlink(f"/proc/{d}/exe")
                env = open(f"/proc/{d}/environ", "rb").read().split(b"\0")
            except OSError:
                continue
            if exe.endswith("/fcgi_app") and f"DATA_DIR={self.data_dir}".encode() in env:
                pids.append(int(d))
        return pids

    def children_of_lighttpd(self):
        """'pid state command' of each child of the current lighttpd, zombies too."""
        rows = []
        if not self.lighttpd:
            return rows
        for d in os.listdir("/proc"):
            try:
                stat = open(f"/proc/{d}/stat").read()
            except OSError:
                continue
            comm_end = stat.rindex(")")
            fields = stat[comm_end + 2:].split()
            if int(fields[1]) == self.lighttpd.pid:
                rows.append(f"{d} {fields[0]} {stat[stat.index('(') + 1:comm_end]}")
        return rows

    def kill_fcgi_apps(self, sig=signal.SIGKILL):
        pids = self.fcgi_pids()
        for pid in pids:
            os.kill(pid, sig)
        return pids

    def kill_events(self, sig=signal.SIGKILL):
        self._kill(self.events, sig)

    def kill_lighttpd(self, sig=signal.SIGKILL):
        self._kill(self.lighttpd, sig)

    def wait_no_fcgi(self, timeout=10):
        """What is left of the pool after timeout s (its pids, then the
        sockets still accepting), [] once it is gone.

        Gone means its sockets refuse connections too. A killed process loses
        its /proc exe link before it closes its descriptors, and an ASan
        build's teardown can take tens of ms in between; a lighttpd started
        then finds the old socket accepting, takes it for a server it did not
        spawn, and never spawns that slot (systemd waits for the whole
        cgroup to exit before a restart, which this wait stands in for)."""
        deadline = time.monotonic() + timeout
        while True:
            left = self.fcgi_pids() + self.pool_sockets_accepting()
            if not left or time.monotonic() >= deadline:
                return left
            time.sleep(0.05)

    def pool_sockets_accepting(self):
        """The pool sockets (fcgi.sock-N) some process still listens on."""
        accepting = []
        for name in sorted(os.listdir(self.data_dir)):
            if not name.startswith("fcgi.sock-"):
                continue
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(os.path.join(self.data_dir, name))
                accepting.append(name)
            except OSError:
                pass
            finally:
                s.close()
        return accepting

    def stop(self):
        self._kill(self.lighttpd, signal.SIGTERM)
        self._kill(self.events, signal.SIGTERM)
        self._kill(self.runner, signal.SIGTERM)

    def cleanup(self):
        try:
            self._kill(self.lighttpd, signal.SIGKILL)
            self._kill(self.events, signal.SIGKILL)
            self._kill(self.runner, signal.SIGKILL)
        finally:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    # ---- HTTP --------------------------------------------------------
    def request(self, method, path, body=None, timeout=10):
        """-> (status, parsed JSON body)."""
        status, _, parsed = http_call(self.port, method, path, body, timeout=timeout)
        return status, parsed

    # ---- inspection --------------------------------------------------
    def written_results(self):
        """execution id -> number of result lines the runners logged as written."""
        counts = {}
        if not self.runner_log.exists():
            return counts
        for line in self.runner_log.read_text(errors="replace").splitlines():
            if " execution " in line and line.endswith("result=written"):
                eid = line.split(" execution ", 1)[1].split(" ", 1)[0]
                counts[eid] = counts.get(eid, 0) + 1
        return counts

    def integrity(self):
        db = sqlite3.connect(os.path.join(self.data_dir, "engine.db"), timeout=10)
        try:
            return db.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            db.close()

    def wait_terminal(self, ids, timeout):
        """Polls every id until terminal; returns id -> execution object."""
        pending, done = set(ids), {}
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for eid in list(pending):
                try:
                    status, body = self.request("GET", f"/executions/{eid}")
                except OSError:
                    continue
                if status == 200 and body["status"] in TERMINAL:
                    done[eid] = body
                    pending.discard(eid)
            if pending:
                time.sleep(0.1)
        return done, pending
