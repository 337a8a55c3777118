"""The bad-input suite (tests/test_bad_input.py) again, behind Apache 2.4 +
mod_fcgid (conf/apache-code-exec.conf): every broken request gets the same
documented status and JSON error body as behind lighttpd, the ones Apache
refuses itself (a body over 2 MiB, a malformed request line) included, no
pool process dies, nothing reaches the store."""

import os
import time

import pytest

from apache import ApacheStack
from stack import assert_error, running
from test_bad_input import *  # noqa: F401,F403  (collected here, against Apache)


@pytest.fixture(scope="module")
def stack():
    yield from running(ApacheStack())


# What Apache does itself where lighttpd refuses earlier or otherwise: the
# same JSON error body (www/errors), another status or code. README, "Apache".
APACHE = {
    "nul-in-path": (404, "NOT_FOUND", None),              # Apache refuses an encoded NUL in a path: 404
    "limit-encoded-nul": (400, "INVALID_QUERY", "limit"),  # passed on: fcgi_app refuses the value
    "unknown-method": (405, "METHOD_NOT_ALLOWED", None),  # passed on: fcgi_app answers 405 with Allow
    "get-with-body": (200, None, None),                   # Apache reads and ignores a GET's body
    "headers-too-large": (400, "BAD_REQUEST", None),      # Apache's status for it is 400, not 431
    "ws-bad-id": (404, "NOT_FOUND", None),                # no WebSocket behind Apache (SSE is the live view)
    "ws-no-upgrade": (404, "NOT_FOUND", None),
    "ws-delete": (404, "NOT_FOUND", None),
}


def as_behind_apache(param):
    c = dict(param.values[0])
    if param.id in APACHE:
        c["status"], c["code"], c["field"] = APACHE[param.id]
    return pytest.param(c, id=param.id)


def test_every_apache_difference_names_a_case():
    assert set(APACHE) <= {p.id for p in CASES}  # noqa: F405


@pytest.mark.parametrize("c", [as_behind_apache(p) for p in CASES])  # noqa: F405
def test_bad_request_is_refused_cleanly(stack, ids, baseline, c):  # noqa: F811
    before = store_state(stack)  # noqa: F405
    resp = send(stack, c, ids)  # noqa: F405
    if c["status"] < 400:
        assert resp[0] == c["status"], resp
    elif c["wire"] is not None:
        assert_wire_error(resp, c["status"], c["code"])  # noqa: F405
    else:
        assert_error(resp, c["status"], c["code"], c["field"])  # noqa: F405
    if c["status"] == 405:
        assert resp[1].get("Allow"), "405 without Allow"
    assert store_state(stack) == before, "a refused request wrote to the store"  # noqa: F405
    assert fcgi_pids(stack.data_dir) == baseline, "an fcgi_app process died or was replaced"  # noqa: F405


def test_websocket_without_a_key_is_invalid_header(stack, ids):  # noqa: F811
    """No WebSocket behind Apache: the path is fcgi_app's, which has no such resource."""
    assert_error(stack.request("GET", f"/executions/{ids['eid']}/ws", headers={"Upgrade": "websocket"}),
                 404, "NOT_FOUND")


class BrokenPoolStack(ApacheStack):
    """Apache whose fcgi_app pool cannot start: its configuration has a bad line."""

    def _wait_healthy(self, timeout, procs):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/health", timeout=30)[0]:
                    return self
            except OSError:
                time.sleep(0.1)
        self._fail_start("Apache never answered")


def test_a_pool_configuration_error_is_a_json_500_and_the_log_names_the_line():
    broken = BrokenPoolStack()
    bad = os.path.join(broken.run_dir, "broken.conf")     # readable by Apache's user
    with open(bad, "w") as f:
        f.write("log_level = verbose\n")
    os.chmod(bad, 0o644)
    broken.pool_config = bad
    try:
        broken.start(timeout=60)
        resp = broken.request("GET", "/health", timeout=30)
        assert_wire_error(resp, 500, "INTERNAL_ERROR")  # noqa: F405
        # mod_fcgid writes a program's stderr to Apache's main error log.
        log = open(os.path.join(broken.run_dir, "apache-error.log")).read()
        assert f"fcgi_app: {bad}:1: log_level: must be one of error|warn|info|debug" in log, log
        broken.stop()
    finally:
        broken.cleanup()
