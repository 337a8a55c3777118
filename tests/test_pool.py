"""fcgi_app's ENGINE_EXIT_WITH_PARENT: the pool never outlives the server
that spawned it (lighttpd passes its pid; see lighttpd.conf)."""

import os
import socket
import subprocess
import tempfile

import pytest

from stack import REPO

FCGI_APP = REPO / os.environ.get("BUILD", "build") / "fcgi_app"


def spawn(exit_with_parent):
    tmp = tempfile.mkdtemp(prefix="engine-pool-test-")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(os.path.join(tmp, "fcgi.sock"))
    listener.listen()
    env = {"DATA_DIR": tmp, "ENGINE_EXIT_WITH_PARENT": exit_with_parent,
           "ENGINE_CONFIG": str(REPO / "conf" / "engine.conf")}
    proc = subprocess.Popen([str(FCGI_APP)], stdin=listener.fileno(), env=env,
                            stderr=subprocess.DEVNULL)
    listener.close()
    return proc


def test_pool_process_of_another_parent_exits_at_once():
    proc = spawn("1234567")          # not our pid: the server that spawned it is gone
    assert proc.wait(timeout=5) == 0


def test_pool_process_of_its_parent_serves_and_stops_on_sigterm():
    proc = spawn(str(os.getpid()))
    with pytest.raises(subprocess.TimeoutExpired):
        proc.wait(timeout=1)         # still serving
    proc.terminate()
    assert proc.wait(timeout=5) == 0
