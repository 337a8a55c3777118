"""Operations at scale (make bench-operations): /metrics with a million
executions stored, and autosave latency while retention deletes them.

1. A stack with retention off; tests/history.py writes ROWS executions
   (two live events each, ten to a session) that finished 100 days ago,
   straight into the store, the way the engine's writes leave them.
2. The scrape time of GET /metrics (HTTP round trip, SCRAPES of them).
3. Autosave latency idle: CLIENTS clients PATCH their own sessions without
   pause for SECONDS seconds, each on a kept-alive connection.
4. The stack again with execution_retention_days = session_idle_days = 90:
   the runner starts deleting all of it; the same autosave load runs while
   it does, then the purge is timed to its end (and the space given back).
"""

import http.client
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import history  # noqa: E402
from stack import Stack  # noqa: E402

ROWS = int(os.environ.get("ROWS", 1000000))
SCRAPES = 50
CLIENTS = 4
SECONDS = 20


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * p / 100))]


def scrape_ms(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    for _ in range(SCRAPES):
        t = time.perf_counter()
        conn.request("GET", "/metrics")
        r = conn.getresponse()
        body = r.read()
        times.append((time.perf_counter() - t) * 1000)
        assert r.status == 200 and b"code_exec_store_up 1" in body
    conn.close()
    return times, body.decode()


def autosaves(port, sessions, seconds):
    """Latencies (ms) of PATCHes by CLIENTS clients for `seconds`."""
    out, failures = [], []
    end = time.monotonic() + seconds

    def client(sid):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = 0
        while time.monotonic() < end:
            body = json.dumps({"source_code": f"print({n})\n"})
            t = time.perf_counter()
            conn.request("PATCH", f"/code-sessions/{sid}", body=body,
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            out.append((time.perf_counter() - t) * 1000)
            if r.status != 200:
                failures.append(r.status)
            n += 1
        conn.close()
    threads = [threading.Thread(target=client, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out, failures


def config(tmp, retention_days):
    path = Path(tmp) / f"engine-{retention_days}.conf"
    path.write_text((REPO / "conf" / "engine.conf").read_text()
                    + f"execution_retention_days = {retention_days}\nsession_idle_days = {retention_days}\n"
                    + "retention_interval_ms = 1000\n"
                    + f"languages_file = {REPO / 'conf' / 'languages.conf'}\n")
    return str(path)


def count(data_dir, sql):
    db = history.connect(data_dir)
    try:
        return db.execute(sql).fetchone()[0]
    finally:
        db.close()


def main():
    s = Stack()
    os.environ["ENGINE_CONFIG"] = config(s.data_dir, 0)
    try:
        s.start()
        sessions = [s.create_session("print(0)\n")["session_id"] for _ in range(CLIENTS)]
        t = time.monotonic()
        history.write(s.data_dir, ROWS, days_ago=100)
        made = time.monotonic() - t
        stored = count(s.data_dir, "SELECT count(*) FROM executions")
        size_mb = os.path.getsize(f"{s.data_dir}/engine.db") / 2**20
        print(f"history: {stored} executions ({2 * ROWS} events, {ROWS // 10} sessions) written in {made:.0f} s; "
              f"store {size_mb:.0f} MiB")
        times, body = scrape_ms(s.port)
        print(f"GET /metrics with {stored} executions: median {statistics.median(times):.2f} ms, "
              f"p99 {pct(times, 99):.2f} ms, max {max(times):.2f} ms ({SCRAPES} scrapes, HTTP round trip)")
        idle, failed = autosaves(s.port, sessions, SECONDS)
        print(f"autosave idle: {len(idle)} in {SECONDS} s, p50 {pct(idle, 50):.2f} ms, "
              f"p99 {pct(idle, 99):.2f} ms, failed {len(failed)}")
        s.stop()
        os.environ["ENGINE_CONFIG"] = config(s.data_dir, 90)
        s.start()
        started = time.monotonic()
        time.sleep(1.5)                     # retention's first look comes 1 s after the runner's start
        before = count(s.data_dir, "SELECT count(*) FROM executions")
        during, failed = autosaves(s.port, sessions, SECONDS)
        after = count(s.data_dir, "SELECT count(*) FROM executions")
        print(f"autosave during the purge: {len(during)} in {SECONDS} s, p50 {pct(during, 50):.2f} ms, "
              f"p99 {pct(during, 99):.2f} ms, failed {len(failed)}; "
              f"p99 ratio {pct(during, 99) / pct(idle, 99):.2f}x idle; "
              f"{before - after} executions deleted meanwhile ({(before - after) / SECONDS:.0f}/s)")
        deadline = time.monotonic() + 1800
        while count(s.data_dir, "SELECT count(*) FROM executions") > 0 and time.monotonic() < deadline:
            time.sleep(5)
        left = count(s.data_dir, "SELECT count(*) FROM executions")
        purge_s = time.monotonic() - started
        while count(s.data_dir, "PRAGMA freelist_count") > 0 and time.monotonic() < deadline:
            time.sleep(5)
        print(f"purge: {stored - left} executions and their events deleted in {purge_s:.0f} s, "
              f"{left} left; space given back after {time.monotonic() - started:.0f} s "
              f"(free pages left {count(s.data_dir, 'PRAGMA freelist_count')}, "
              f"pages {count(s.data_dir, 'PRAGMA page_count')})")
        times, after_body = scrape_ms(s.port)
        keep = [ln for ln in body.splitlines() if ln.startswith("code_exec_executions_finished_total")]
        same = all(ln in after_body.splitlines() for ln in keep)
        print(f"GET /metrics after the purge: median {statistics.median(times):.2f} ms; "
              f"finished counters unchanged: {same}")
        s.stop()
    finally:
        s.cleanup()


if __name__ == "__main__":
    main()
