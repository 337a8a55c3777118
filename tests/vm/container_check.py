"""Run in make vm-test's machine by tests/vm/container: the engine in the
container at argv[1] reports cgroup v2 mode, and a memory bomb there ends
MEMORY_LIMIT, killed by its run's cgroup (standard library only)."""

import json
import sys
import time
import urllib.error
import urllib.request

BASE = sys.argv[1]
BOMB = "print('start', flush=True)\nx = b'x' * (1 << 30)\nprint('survived')\n"


def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def wait_health(timeout=180):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call("GET", "/health")
        except (OSError, urllib.error.HTTPError):
            assert time.monotonic() < deadline, "the container's /health never answered 200"
            time.sleep(1)


def execute(code, timeout=300):
    sid = call("POST", "/code-sessions", {"language": "python", "template_code": code})["session_id"]
    eid = call("POST", f"/code-sessions/{sid}/run")["execution_id"]
    deadline = time.monotonic() + timeout
    while True:
        ex = call("GET", f"/executions/{eid}")
        if ex["status"] not in ("QUEUED", "RUNNING"):
            return ex
        assert time.monotonic() < deadline, ex
        time.sleep(0.5)


health = wait_health()
assert health["sandbox_mode"] == "namespaces+cgroup-v2+seccomp", health
hello = execute("print('hello')\n")
assert hello["status"] == "COMPLETED" and hello["stdout"] == "hello\n", hello
bomb = execute(BOMB)
assert bomb["status"] == "FAILED" and bomb["error"]["code"] == "MEMORY_LIMIT", bomb
assert bomb["signal"] == 9 and bomb["stdout"] == "start\n", bomb
assert bomb["memory_kb"] <= 256 * 1024, bomb
print(f"container: {health['sandbox_mode']}; memory bomb: {bomb['status']} "
      f"{bomb['error']['code']} after {bomb['execution_time_ms']} ms")
