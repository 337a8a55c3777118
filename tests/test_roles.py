"""ENGINE_ROLE: scripts/run-stack starts the programs of one host kind
(README, "Scaling out"): web (the events program and lighttpd with its
FastCGI pool) or runner (the runner alone). Here a web host and a runner
host share one data directory and its SQLite file, the real programs of
each started by run-stack."""

import os
import signal
import subprocess
import tempfile
import time

from stack import REPO, Stack, comm_of, descendants_of, running, sandbox_uid_base


ENGINE_PROGRAMS = {"runner", "events", "lighttpd", "fcgi_app"}


def programs_of(pid):
    """The engine's programs among pid's descendants (not the sandboxes)."""
    return {comm_of(child) for child, _ in descendants_of(pid)} & ENGINE_PROGRAMS


def test_an_unknown_role_is_refused():
    p = subprocess.run([str(REPO / "scripts" / "run-stack")], capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, ENGINE_ROLE="db", DATA_DIR=tempfile.mkdtemp(prefix="engine-role-")))
    assert (p.returncode, p.stderr) == (2, "run-stack: ENGINE_ROLE must be all, web or runner, not 'db'\n")


def test_a_web_host_and_a_runner_host_serve_together():
    data = tempfile.mkdtemp(prefix="engine-roles-")
    log = open(os.path.join(data, "runner-host.log"), "wb")
    runner_host = subprocess.Popen(
        [str(REPO / "scripts" / "run-stack")], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        env=dict(os.environ, ENGINE_ROLE="runner", DATA_DIR=data, BUILD=os.environ.get("BUILD", "build"),
                 SANDBOX_UID_BASE=str(sandbox_uid_base())), cwd=str(REPO), start_new_session=True)
    web = Stack(data_dir=data)
    web.env["ENGINE_ROLE"] = "web"
    try:
        for s in running(web):
            assert programs_of(runner_host.pid) == {"runner"}
            assert programs_of(s.proc.pid) == {"events", "lighttpd", "fcgi_app"}
            done = s.execute("print(input() * 2)", stdin="ab")
            assert (done["status"], done["stdout"]) == ("COMPLETED", "abab\n")
            # The runner host stops by itself on SIGTERM; the web host serves on.
            os.killpg(runner_host.pid, signal.SIGTERM)
            assert runner_host.wait(timeout=30) == 0
            deadline = time.monotonic() + 15
            while s.request("GET", "/health")[0] != 503 and time.monotonic() < deadline:
                time.sleep(0.1)
            status, _, body = s.request("GET", "/health")
            assert (status, body["runners_alive"]) == (503, 0)
    finally:
        if runner_host.poll() is None:
            os.killpg(runner_host.pid, signal.SIGKILL)
        log.close()
