#!/usr/bin/python3
"""make bench: the real stack in a temporary directory, measured.

Prints one table and writes the same figures as JSON (BENCH_JSON, default
build/bench.json). Sections: autosave and polling throughput (wrk), idle run
latency split into its parts, warm start beside a cold stack
(bench/warm_bench.py), run throughput by clients in flight, latency
next to CPU hogs, the memory of each process, and hello world in every
language beside its bare toolchain (bench/languages_bench.py), a 100-case
submission (bench/grading_bench.py), one client's runs while another's
500 are queued (bench/fairness_bench.py), and the live
events: first-output latency at the client, 1,000 open streams
(bench/events_bench.py).
"""

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from components import Components  # noqa: E402
from languages_bench import languages, print_languages  # noqa: E402
from events_bench import events, print_events  # noqa: E402
from grading_bench import grading, print_grading  # noqa: E402
from fairness_bench import fairness, print_fairness  # noqa: E402
from warm_bench import print_warm_start, warm_start  # noqa: E402
from data_bench import data_packages, print_data_packages  # noqa: E402

HELLO = 'print("hello")\n'
HOG = "while True: pass\n"
TERMINAL = ("COMPLETED", "FAILED", "TIMEOUT")
WRK_SECONDS = int(os.environ.get("BENCH_WRK_SECONDS", "10"))
LEVEL_SECONDS = float(os.environ.get("BENCH_LEVEL_SECONDS", "6"))
# Throughput clients poll like an editor that knows a queued run needs a
# slot first: every 5 ms, but every 25 ms once a run has been seen QUEUED
# three times. Polling everything every 5 ms, 32 clients alone would spend
# a core on GETs.
POLL_S, QUEUED_POLL_S = 0.005, 0.025


class Client:
    """One keep-alive HTTP connection, opened again when the server closed it
    (lighttpd does after server.max-keep-alive-requests: a 2 ms poll of a
    compile of a few seconds reaches that)."""

    def __init__(self, port, source=None):
        """source: the local address to connect from (with auth = none, the learner)."""
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30,
                                               source_address=(source, 0) if source else None)

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else (b"" if method != "GET" else None)
        headers = {"Content-Type": "application/json"} if data else {}
        try:
            self.conn.request(method, path, body=data, headers=headers)
            resp = self.conn.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            self.conn.close()
            self.conn.request(method, path, body=data, headers=headers)
            resp = self.conn.getresponse()
        return resp.status, json.loads(resp.read())

    def session(self, code):
        return self.session_in("python", code)

    def session_in(self, language, code):
        status, body = self.call("POST", "/code-sessions", {"language": language, "template_code": code})
        assert status == 201, body
        return body["session_id"]

    def start(self, sid):
        """POSTs a Run of sid until it is accepted; returns the execution id."""
        while True:
            status, body = self.call("POST", f"/code-sessions/{sid}/run")
            if status == 202:
                return body["execution_id"]
            time.sleep(0.005)       # 429/503: back off briefly

    def run(self, sid, poll_s, queued_poll_s=None):
        """Runs sid's code, polling every poll_s (every queued_poll_s once it
        has been seen QUEUED three times); returns (seconds to terminal, execution)."""
        t0 = time.perf_counter()
        eid = self.start(sid)
        queued = 0
        while True:
            status, ex = self.call("GET", f"/executions/{eid}")
            if ex["status"] in TERMINAL:
                return time.perf_counter() - t0, ex
            queued = queued + 1 if ex["status"] == "QUEUED" else 0
            time.sleep(queued_poll_s if queued_poll_s and queued >= 3 else poll_s)

    def run_waiting(self, sid):
        """Runs sid's code and waits for its end with the long-poll (GET
        ?wait_ms), as a client that waits for a result does: no request
        while the run lasts. Returns (seconds to terminal, execution)."""
        t0 = time.perf_counter()
        eid = self.start(sid)
        while True:
            status, ex = self.call("GET", f"/executions/{eid}?wait_ms=30000")
            if status == 200 and ex["status"] in TERMINAL:
                return time.perf_counter() - t0, ex


def pct(values, p):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000


def wrk(comp, method, prefix, ids, tmp):
    ids_file = Path(tmp) / f"ids-{method}.txt"
    ids_file.write_text("\n".join(ids) + "\n")
    env = dict(os.environ, METHOD=method, PATH_PREFIX=prefix, IDS_FILE=str(ids_file))
    out = subprocess.run(["wrk", "-t2", "-c32", f"-d{WRK_SECONDS}s", "-s", str(REPO / "bench" / "wrk_ids.lua"),
                          f"http://127.0.0.1:{comp.port}"], env=env, capture_output=True, text=True, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    r["rps"] = r["requests"] / r["seconds"]
    return r


def run_latency(comp, n=200):
    c = Client(comp.port)
    sid = c.session(HELLO)
    for _ in range(10):
        c.run(sid, 0.002)                       # warm up
    total, queue, setup, run, write = [], [], [], [], []
    for _ in range(n):
        secs, ex = c.run(sid, 0.002)
        assert ex["status"] == "COMPLETED" and ex["stdout"] == "hello\n", ex
        total.append(secs * 1000)
        q = ts(ex["started_at"]) - ts(ex["queued_at"])
        s = ex["setup_time_ms"]
        queue.append(q)
        setup.append(s)
        run.append(ex["execution_time_ms"])
        write.append(ts(ex["finished_at"]) - ts(ex["started_at"]) - s - ex["execution_time_ms"])
    part = lambda v: {"p50": pct(v, 50), "p95": pct(v, 95), "p99": pct(v, 99)}
    return {"runs": n, "total_ms": part(total), "queue_wait_ms": part(queue),
            "sandbox_setup_ms": part(setup), "interpreter_ms": part(run), "other_ms": part(write)}


def clients_loop(comp, nclients, seconds, code, poll_s, queued_poll_s=None, stop=None):
    lat, lock, done = [], threading.Lock(), [0]
    deadline = time.monotonic() + seconds

    def client():
        c = Client(comp.port)
        sid = c.session(code)
        while time.monotonic() < deadline and not (stop and stop.is_set()):
            secs, ex = c.run(sid, poll_s, queued_poll_s)
            with lock:
                done[0] += 1
                lat.append(secs * 1000)

    threads = [threading.Thread(target=client) for _ in range(nclients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    return {"clients": nclients, "completed": done[0], "per_s": done[0] / elapsed,
            "p50_ms": pct(lat, 50), "p99_ms": pct(lat, 99)}


def throughput(comp, sampler):
    levels = []
    for n in (1, 2, 4, 8, 16, 32):
        sampler.sample()
        levels.append(clients_loop(comp, n, LEVEL_SECONDS, HELLO, POLL_S, QUEUED_POLL_S))
    return levels


def noisy(comp):
    stop = threading.Event()

    def hog():
        c = Client(comp.port)
        sid = c.session(HOG)
        while not stop.is_set():
            c.run(sid, 0.1)

    hogs = [threading.Thread(target=hog) for _ in range(2)]
    for h in hogs:
        h.start()
    time.sleep(1.0)                           # both hogs running
    r = clients_loop(comp, 4, 12, HELLO, POLL_S, QUEUED_POLL_S)
    stop.set()
    for h in hogs:
        h.join()
    return r


def reference():
    """What this machine allows right now: a bare interpreter start, run 100
    times outside any sandbox (shared VMs drift by tens of percent)."""
    import resource
    n = 100
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    for _ in range(n):
        subprocess.run(["/usr/bin/python3", "-E", "-s", "-c", "pass"], check=True)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) * 1000 / n
    return {"python_c_pass_wall_ms": (time.perf_counter() - t0) * 1000 / n, "python_c_pass_cpu_ms": cpu,
            "fresh_interpreter_limit_per_s": os.cpu_count() * 1000 / cpu}


def rss_kb(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None


class Sampler:
    def __init__(self, comp):
        self.comp = comp
        self.fcgi_max = 0
        self.runner_max = 0

    def sample(self):
        for pid in self.comp.fcgi_pids():
            self.fcgi_max = max(self.fcgi_max, rss_kb(pid) or 0)
        self.runner_max = max(self.runner_max, rss_kb(self.comp.runner.pid) or 0)


def memory(comp):
    return {"fcgi_app_kb": [rss_kb(p) for p in comp.fcgi_pids()], "runner_kb": rss_kb(comp.runner.pid)}


def print_table(r):
    f = lambda v: "-" if v is None else f"{v:.1f}"
    print("\n== Live Code Execution Engine benchmark ==")
    print(f"machine: {os.cpu_count()} CPUs, {r['machine']}")
    print(f"store: {r['store']}")
    ref = r["reference"]
    print(f"reference: python3 -E -s -c pass {ref['python_c_pass_wall_ms']:.1f} ms wall, "
          f"{ref['python_c_pass_cpu_ms']:.1f} ms CPU -> fresh-interpreter limit "
          f"{ref['fresh_interpreter_limit_per_s']:.0f} runs/s")
    for name in ("autosave", "polling"):
        w = r[name]
        print(f"{name:9} {w['rps']:9.0f} req/s   p50 {w['p50_ms']:.2f} ms   p99 {w['p99_ms']:.2f} ms   errors {w['errors']}")
    lat = r["run_latency"]
    print(f"run latency, idle ({lat['runs']} runs, polling every 2 ms):  p50 / p95 / p99 ms")
    for k in ("total_ms", "queue_wait_ms", "sandbox_setup_ms", "interpreter_ms", "other_ms"):
        v = lat[k]
        print(f"  {k:18} {f(v['p50']):>7} {f(v['p95']):>7} {f(v['p99']):>7}")
    print_warm_start(r["warm_start"])
    print("run throughput (hello world, polling every 5 ms; 25 ms once seen QUEUED 3 times):")
    print("  clients  runs/s   p50 ms   p99 ms")
    for t in r["throughput"]:
        print(f"  {t['clients']:7} {t['per_s']:7.1f} {f(t['p50_ms']):>8} {f(t['p99_ms']):>8}")
    n = r["noisy"]
    print(f"noisy neighbours (2 CPU hogs, 4 clients): {n['per_s']:.1f} runs/s  p50 {f(n['p50_ms'])} ms  p99 {f(n['p99_ms'])} ms")
    m = r["memory"]
    print(f"memory idle: fcgi_app {m['idle']['fcgi_app_kb']} kB, runner {m['idle']['runner_kb']} kB")
    print(f"memory under load (max): fcgi_app {m['load_fcgi_app_max_kb']} kB, runner {m['load_runner_max_kb']} kB")
    print_languages(r["languages"])
    print_grading(r["grading"], r["reference"])
    print_fairness(r["fairness"])
    print_events(r["events"])
    print_data_packages(r["data_packages"])


def main():
    comp = Components()
    r = {"machine": open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].strip(": \t")}
    # make bench STORE=postgresql: every program on the server scripts/with-postgresql started.
    r["store"] = "postgresql (its defaults: fsync, synchronous_commit on)" \
        if os.environ.get("ENGINE_STORE", "").startswith("postgres") else "sqlite"
    try:
        r["reference"] = reference()
        comp.start()
        c = Client(comp.port)
        ids = [c.session(HELLO) for _ in range(1000)]
        r["memory"] = {"idle": memory(comp)}
        r["autosave"] = wrk(comp, "PATCH", "/code-sessions/", ids, comp.data_dir)
        execs = []
        for sid in ids[:100]:
            status, body = c.call("POST", f"/code-sessions/{sid}/run")
            execs.append(body["execution_id"])
        comp.wait_terminal(execs, 60)
        r["polling"] = wrk(comp, "GET", "/executions/", execs, comp.data_dir)
        r["run_latency"] = run_latency(comp)
        r["warm_start"] = warm_start(comp, Client, pct, rss_kb)
        sampler = Sampler(comp)
        r["throughput"] = throughput(comp, sampler)
        sampler.sample()
        r["noisy"] = noisy(comp)
        r["languages"] = languages(c)
        r["data_packages"] = data_packages(Client, comp.port, pct)
        r["grading"] = grading(c)
        r["fairness"] = fairness(comp, Client, pct)
        r["events"] = events(comp, Client, wrk, pct)
        r["memory"]["load_fcgi_app_max_kb"] = sampler.fcgi_max
        r["memory"]["load_runner_max_kb"] = sampler.runner_max
    finally:
        comp.stop()
        comp.cleanup()
    print_table(r)
    out = Path(os.environ.get("BENCH_JSON", REPO / "build" / "bench.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(r, indent=2) + "\n")
    print(f"\nfigures written to {out}")


if __name__ == "__main__":
    main()
