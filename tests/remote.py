"""The suites against an engine that is already running on another host
(make vm-test: the systemd units in a Debian 12 virtual machine) instead of
a stack of their own. Set by the environment:

  ENGINE_URL      the API's base URL on this host's loopback, e.g.
                  http://127.0.0.1:18000
  ENGINE_CONTROL  a command that runs its one argument as a shell command as
                  root on the target host, e.g. "scripts/vm ssh build/vm/run"
  ENGINE_SRC      the target host's copy of this source tree (for the agent)
  ENGINE_IN_TARGET  set when the tests themselves run on the target host
                  (the tests of tests/vm/in-target.txt), with ENGINE_CONTROL
                  "sh -c"

Tests that look at the host (processes, cgroups, the database file, the
logs) or start and kill the engine's parts do it there, through
ENGINE_CONTROL: the host inspection helpers of the test modules run in the
target host by a small agent (`agent()` below, started once over
ENGINE_CONTROL), and the parts are the installed systemd units. Tests that
cannot apply to a remote target are deselected by tests/vm/deselected.txt.
"""

import json
import os
import shlex
import subprocess
import sys
import time
from urllib.parse import urlsplit

from stack import Stack
from components import Components

RUNNER_UNIT = "code-exec-runner.service"
LIGHTTPD_UNIT = "code-exec-lighttpd.service"
DATA_DIR = "/var/lib/code-exec"

# Host inspection helpers of the test modules, run in the target host.
REMOTE_HELPERS = {
    "test_hostile": ["sandbox_processes", "lasting_sandbox_processes", "describe_process", "run_cgroups",
                     "vm_rss_kb", "cpu_caps", "host_can_get_inotify_and_mqueue", "host_secret_paths",
                     "kernel_seals_memfds_noexec", "host_int80_signal"],
}


def enabled():
    return bool(os.environ.get("ENGINE_URL"))


def url_port():
    u = urlsplit(os.environ["ENGINE_URL"])
    # http_call talks to this host's loopback only.
    assert u.hostname in ("127.0.0.1", "localhost"), f"ENGINE_URL must be on loopback: {u.geturl()}"
    return u.port or 80


def control(command, check=True, timeout=120):
    """Runs a shell command on the target host; -> its stdout."""
    argv = shlex.split(os.environ["ENGINE_CONTROL"]) + [command]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"on the target: {command!r} exited {p.returncode}: {p.stderr.strip()}")
    return p.stdout


class Agent:
    """One python3 process on the target host that imports the test modules
    there and answers calls of their helpers (one JSON line each way)."""

    def __init__(self):
        src = os.environ.get("ENGINE_SRC", "/root/src")
        cmd = f"cd {shlex.quote(src)}/tests && exec python3 -u remote.py --agent"
        self.proc = subprocess.Popen(shlex.split(os.environ["ENGINE_CONTROL"]) + [cmd],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def call(self, module, name, *args):
        self.proc.stdin.write(json.dumps([module, name, list(args)]) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"the agent on the target host died calling {module}.{name}")
        reply = json.loads(line)
        if "error" in reply:
            raise AssertionError(f"on the target: {module}.{name}{tuple(args)}: {reply['error']}")
        return reply["result"]

    def close(self):
        """Ends the agent; after a reboot its ssh session is dead: killed."""
        try:
            self.proc.stdin.close()
            self.proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


def serve_agent():
    """The target host's end of Agent: sets and tuples are tagged, for
    JSON has neither (patch_helpers makes them again)."""
    import importlib
    import traceback
    for line in sys.stdin:
        module, name, args = json.loads(line)
        try:
            result = getattr(importlib.import_module(module), name)(*args)
            if isinstance(result, (set, frozenset)):
                result = {"set": sorted(result)}
            elif isinstance(result, tuple):
                result = {"tuple": list(result)}
            reply = {"result": result}
        except Exception:
            reply = {"error": traceback.format_exc()}
        print(json.dumps(reply), flush=True)


_agent = None


def agent():
    global _agent
    if _agent is not None and _agent.proc.poll() is not None:
        _agent = None               # its session ended (the machine rebooted)
    if _agent is None:
        _agent = Agent()
    return _agent


def close_agent():
    global _agent
    if _agent is not None:
        _agent.close()
        _agent = None


def listed(name):
    """tests/vm/<name>: node id prefixes, one a line, then '#' and the
    reason -> {prefix: reason}."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "vm", name)) as f:
        rows = [l.split("#", 1) for l in f if l.split("#", 1)[0].strip()]
    return {r[0].strip(): (r[1].strip() if len(r) > 1 else "") for r in rows}


def deselected():
    """The tests this run leaves out: those that cannot apply to a remote
    engine, and those that run inside the target host instead (ENGINE_IN_TARGET
    is set there: tests/vm/run)."""
    out = list(listed("deselected.txt"))
    return out if os.environ.get("ENGINE_IN_TARGET") else out + in_target()


def in_target():
    """tests/vm/in-target.txt: the tests run inside the target host, against
    its engine's own port, rather than through the forwarded one."""
    return list(listed("in-target.txt"))


def is_deselected(nodeid, listed):
    return any(nodeid == p or nodeid.startswith(p + "[") or nodeid.startswith(p + "::")
               for p in listed)


def patch_helpers(module):
    """Makes `module`'s host inspection helpers run on the target host."""
    for name in REMOTE_HELPERS.get(module.__name__, []):
        def remote(*args, _name=name):
            result = agent().call(module.__name__, _name, *args)
            if isinstance(result, dict) and set(result) == {"set"}:
                return {tuple(x) if isinstance(x, list) else x for x in result["set"]}
            if isinstance(result, dict) and set(result) == {"tuple"}:
                return tuple(result["tuple"])
            return [tuple(x) if isinstance(x, list) else x for x in result] \
                if isinstance(result, list) else result
        setattr(module, name, remote)
    if hasattr(module, "Components"):
        module.Components = RemoteComponents
    if hasattr(module, "WALL_MS"):
        module.WALL_MS = int(target_config("wall_time_ms"))


def target_config(key):
    """A value of the target's installed configuration."""
    return control(f"code-exec-runner --config /etc/code-exec/engine.conf --get {shlex.quote(key)}").strip()


class RemoteStack(Stack):
    """The target's engine in place of a stack of our own: never started or
    stopped by the tests; logs from its journal."""

    def __init__(self):
        super().__init__(data_dir=DATA_DIR)
        self.own_dir = False
        self.port = url_port()

    def start(self, timeout=60.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.request("GET", "/health", timeout=5)[0] == 200:
                    return self
            except OSError:
                pass
            assert time.monotonic() < deadline, "the target's /health never answered 200"
            time.sleep(0.5)

    def stop(self, timeout=15.0):
        pass

    def cleanup(self):
        pass

    def log_tail(self, lines=40):
        return control(f"journalctl -q --no-pager -n {int(lines)} -u {RUNNER_UNIT} -u {LIGHTTPD_UNIT}",
                       check=False)


class RemoteComponents(Components):
    """Components (tests/components.py) as the target's systemd units: the
    runner unit and the lighttpd unit with its fcgi_app pool."""

    def __init__(self, config_overrides=None):
        assert not config_overrides, "the target runs its installed configuration"
        self.data_dir = DATA_DIR
        self.port = url_port()
        self.killed_fcgi = []

    def start(self):
        control(f"systemctl start {RUNNER_UNIT} {LIGHTTPD_UNIT}")
        self.wait_health(200, timeout=60)
        return self

    def start_runner(self):
        control(f"systemctl start {RUNNER_UNIT}")

    def start_lighttpd(self, wait=True):
        control(f"systemctl start {LIGHTTPD_UNIT}")
        if wait:
            self.wait_http(timeout=60)

    @staticmethod
    def _kill_unit(unit, sig):
        """kill -SIG of the unit's main process, as an operator would; waits
        until it is gone. SIGTERM is `systemctl stop` (no restart after it);
        -> 0 if the process exited cleanly, else -SIG."""
        if sig == 15:
            control(f"systemctl stop {unit}")
            result = control(f"systemctl show -P Result {unit}").strip()
            return 0 if result == "success" else 1
        control(f"pid=$(systemctl show -P MainPID {unit}); [ \"$pid\" != 0 ] && kill -{int(sig)} $pid && "
                f"while kill -0 $pid 2>/dev/null; do sleep 0.05; done")
        return -int(sig)

    def kill_runner(self, sig=9):
        return self._kill_unit(RUNNER_UNIT, sig)

    def fcgi_pids(self):
        return [int(p) for p in control("pgrep -x fcgi_app || true").split()]

    def kill_fcgi_apps(self, sig=9):
        pids = self.fcgi_pids()
        if pids:
            control(f"kill -{int(sig)} {' '.join(map(str, pids))} || true")
        return pids

    def kill_lighttpd(self, sig=9):
        # The pool of the killed lighttpd: systemd may start a new one
        # (Restart=on-failure) before wait_no_fcgi looks.
        self.killed_fcgi = self.fcgi_pids()
        self._kill_unit(LIGHTTPD_UNIT, sig)

    def wait_no_fcgi(self, timeout=10):
        deadline = time.monotonic() + timeout
        left = self.killed_fcgi
        while left and time.monotonic() < deadline:
            alive = set(self.fcgi_pids())
            left = [p for p in self.killed_fcgi if p in alive]
            if left:
                time.sleep(0.1)
        return left

    def stop(self):
        control(f"systemctl stop {LIGHTTPD_UNIT} {RUNNER_UNIT}")

    def cleanup(self):
        self.start()

    def written_results(self):
        counts = {}
        log = control(f"journalctl -q --no-pager -o cat -u {RUNNER_UNIT}", timeout=300)
        for line in log.splitlines():
            if " execution " in line and line.endswith("result=written"):
                eid = line.split(" execution ", 1)[1].split(" ", 1)[0]
                counts[eid] = counts.get(eid, 0) + 1
        return counts

    def integrity(self):
        return control("python3 -c \"import sqlite3; print(sqlite3.connect("
                       f"'{DATA_DIR}/engine.db', timeout=30).execute('PRAGMA integrity_check')"
                       ".fetchone()[0])\"").strip()


if __name__ == "__main__" and sys.argv[1:] == ["--agent"]:
    serve_agent()
