"""GET /metrics (Prometheus text format), X-Request-Id and request-tagged
logs, against the real stack."""

import concurrent.futures
import re
import shutil
import subprocess
import time

import pytest

from stack import UUID_RE

SERIES_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$')
LABEL_RE = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def scrape(stack):
    status, headers, body = stack.request("GET", "/metrics")
    assert status == 200, body
    return headers, body


def parse(text):
    """{(name, ((label, value), ...)): float} of every sample line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SERIES_RE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = tuple(sorted(LABEL_RE.findall(m.group(2) or "")))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def histogram(samples, name):
    buckets = sorted((float(dict(l)["le"]), v) for (n, l), v in samples.items()
                     if n == name + "_bucket")
    return buckets, value(samples, name + "_count"), value(samples, name + "_sum")


def test_metrics_content_type_is_prometheus_text(stack):
    headers, _ = scrape(stack)
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"


def test_metrics_pass_promtool_check(stack):
    stack.execute('print("ok")')
    stack.execute("1/0")
    _, body = scrape(stack)
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: make test installs Debian's prometheus package"
    r = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_finished_executions_are_counted_by_status_and_error(stack):
    before = parse(scrape(stack)[1])
    stack.execute('print("ok")')
    stack.execute("1/0")
    stack.execute("import sys; sys.exit(3)")
    after = parse(scrape(stack)[1])

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)
    assert delta("code_exec_executions_accepted_total") == 3
    assert delta("code_exec_executions_finished_total", status="COMPLETED", error_code="") == 1
    assert delta("code_exec_executions_finished_total", status="FAILED",
                 error_code="RUNTIME_ERROR") == 2


@pytest.mark.parametrize("name", ["code_exec_execution_duration_seconds",
                                  "code_exec_queue_wait_seconds",
                                  "code_exec_sandbox_setup_seconds"])
def test_histograms_are_cumulative_and_count_every_run(stack, name):
    before = histogram(parse(scrape(stack)[1]), name)
    stack.execute("print(1)")
    buckets, count, total = histogram(parse(scrape(stack)[1]), name)
    assert count == before[1] + 1
    assert total >= before[2]
    assert buckets[-1] == (float("inf"), count)
    counts = [v for _, v in buckets]
    assert counts == sorted(counts), buckets


def idle_health(stack, timeout=5):
    """/health once earlier tests' runs are over and a heartbeat reported
    the slots free (busy is refreshed once per heartbeat_interval_ms)."""
    deadline = time.monotonic() + timeout
    while True:
        _, _, health = stack.request("GET", "/health")
        if (health["queue_depth"] == 0 and health["running"] == 0
                and health["runners"][0]["busy"] == 0) or time.monotonic() > deadline:
            return health
        time.sleep(0.1)


def test_queue_and_runner_gauges_match_health(stack):
    health = idle_health(stack)
    s = parse(scrape(stack)[1])
    runner = health["runners"][0]
    labels = {"runner_id": runner["runner_id"], "host": runner["host"]}
    assert value(s, "code_exec_queue_depth") == health["queue_depth"] == 0
    assert value(s, "code_exec_executions_running") == 0
    assert value(s, "code_exec_runners_alive") == 1
    assert value(s, "code_exec_slots") == runner["slots"]
    assert value(s, "code_exec_busy_slots") == 0
    assert value(s, "code_exec_runner_up", **labels) == 1
    assert value(s, "code_exec_runner_slots", **labels) == runner["slots"]
    assert value(s, "code_exec_runner_busy_slots", **labels) == 0
    assert abs(value(s, "code_exec_runner_last_heartbeat_timestamp_seconds", **labels)
               - time.time()) < 5
    assert value(s, "code_exec_runner_info", sandbox_mode=runner["sandbox_mode"], **labels) == 1


def test_every_process_of_the_pool_gives_the_same_counts(stack):
    stack.execute("print(2)")

    def counts(_):
        return {k: v for k, v in parse(scrape(stack)[1]).items()
                if k[0].startswith("code_exec_executions_")}
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(counts, range(24)))
    assert all(r == results[0] for r in results)


def test_metrics_survive_a_restart(own_stack):
    own_stack.execute("print(3)")
    own_stack.execute("1/0")
    before = parse(scrape(own_stack)[1])
    old_runner = own_stack.request("GET", "/health")[2]["runners"][0]["runner_id"]
    own_stack.restart()
    after = parse(scrape(own_stack)[1])
    for key, v in before.items():
        if key[0].startswith(("code_exec_executions_", "code_exec_execution_duration",
                              "code_exec_queue_wait", "code_exec_sandbox_setup")):
            assert after.get(key) == v, key
    # The stopped runner is gone from the per-runner series; the new one is up.
    assert not [k for k in after if ("runner_id", old_runner) in k[1]]
    assert value(after, "code_exec_runners_alive") == 1


# ---- request ids -----------------------------------------------------------

def test_client_request_id_is_echoed(stack):
    status, headers, _ = stack.request("GET", "/health", headers={"X-Request-Id": "qa-42.a:b_c"})
    assert headers["X-Request-Id"] == "qa-42.a:b_c"


def test_request_id_is_generated_when_absent(stack):
    ids = {stack.request("GET", "/health")[1]["X-Request-Id"] for _ in range(3)}
    assert len(ids) == 3 and all(UUID_RE.match(i) for i in ids)


def test_unsafe_request_id_is_replaced(stack):
    _, headers, _ = stack.request("GET", "/health", headers={"X-Request-Id": "a b<script>"})
    assert UUID_RE.match(headers["X-Request-Id"])
    _, headers, _ = stack.request("GET", "/health", headers={"X-Request-Id": "x" * 65})
    assert UUID_RE.match(headers["X-Request-Id"])


def test_error_replies_carry_the_request_id(stack):
    status, headers, _ = stack.request("GET", "/no-such-thing", headers={"X-Request-Id": "qa-404"})
    assert status == 404
    assert headers["X-Request-Id"] == "qa-404"


def test_fcgi_app_log_lines_carry_the_request_id(tmp_path, monkeypatch):
    from stack import REPO, Stack
    config = tmp_path / "engine.conf"
    config.write_text((REPO / "conf" / "engine.conf").read_text() + "log_level = debug\n"
                      f"languages_file = {REPO / 'conf' / 'languages.conf'}\n")
    monkeypatch.setenv("ENGINE_CONFIG", str(config))
    s = Stack()
    try:
        s.start()
        s.request("GET", "/no-such-thing", headers={"X-Request-Id": "qa-log-7"})
        # The pool's stderr: run-stack's stderr (lighttpd passes it on).
        deadline = time.monotonic() + 5
        text = ""
        while time.monotonic() < deadline and "req=qa-log-7" not in text:
            time.sleep(0.05)
            text = open(s.stderr_path, errors="replace").read()
        line = [ln for ln in text.splitlines() if "req=qa-log-7" in ln]
        assert line and "GET /no-such-thing: status 404" in line[0], text[-2000:]
        s.stop()
    finally:
        s.cleanup()
