"""make bench, warm start: the issue's Python figures with python_warm = yes
(the default stack) beside the same stack with python_warm = no, measured in
the same run -- idle hello-world latency (POST to terminal state, polling
every 2 ms), the time to drain 400 runs submitted at once, and the memory
of the runner and its warm interpreters.
"""

import threading
import time

from components import Components

HELLO = 'print("hello")\n'
DRAIN = 400
RUNS_PER_SESSION = 5            # engine.conf's max_runs_per_session


def latency(comp, Client, pct, n=100):
    c = Client(comp.port)
    sid = c.session(HELLO)
    for _ in range(10):
        c.run(sid, 0.002)
    total = []
    for _ in range(n):
        secs, ex = c.run(sid, 0.002)
        assert ex["status"] == "COMPLETED" and ex["stdout"] == "hello\n", ex
        total.append(secs * 1000)
    return {"p50_ms": pct(total, 50), "p99_ms": pct(total, 99)}


def drain(comp, Client, n=DRAIN, senders=8):
    """Submits n hello-world runs at once (senders connections), then
    waits until every one is terminal: runs per second. A session holds
    max_runs_per_session (5) runs in flight, so the runs are spread over
    n / 5 sessions: all n are queued at once, none waits for a 429."""
    c = Client(comp.port)
    sids = [c.session(HELLO) for _ in range(n // RUNS_PER_SESSION)]
    ids, lock = [], threading.Lock()

    def send(k):
        c = Client(comp.port)
        for i in range(k, n, senders):
            status, body = c.call("POST", f"/code-sessions/{sids[i % len(sids)]}/run")
            assert status == 202, body
            with lock:
                ids.append(body["execution_id"])

    t0 = time.perf_counter()
    threads = [threading.Thread(target=send, args=(k,)) for k in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Done when nothing is queued or running: one GET /health every 10 ms
    # on a kept-alive connection, where polling the 400 executions would
    # take a good share of the two cores the runs need.
    while True:
        status, health = c.call("GET", "/health")
        if health["queue_depth"] == 0 and health["running"] == 0:
            break
        time.sleep(0.01)
    secs = time.perf_counter() - t0
    done, pending = comp.wait_terminal(ids, 120)
    assert not pending and all(e["status"] == "COMPLETED" for e in done.values()), pending
    return {"runs": len(ids), "seconds": secs, "per_s": len(ids) / secs}


def pss_kb(pid):
    """Proportional set size: shared pages divided among their sharers."""
    try:
        for line in open(f"/proc/{pid}/smaps_rollup"):
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        return None


def warm_memory(comp, rss_kb):
    """The runner's and its warm interpreters' resident memory (kB)."""
    import os
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = open(f"/proc/{d}/stat").read()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            if ppid == comp.runner.pid and b"warm_serve" in open(f"/proc/{d}/cmdline", "rb").read():
                kids.append(int(d))
        except (OSError, ValueError):
            continue
    return {"runner_kb": rss_kb(comp.runner.pid), "warm_interpreters": len(kids),
            "warm_rss_kb": sum(rss_kb(p) or 0 for p in kids), "warm_pss_kb": sum(pss_kb(p) or 0 for p in kids)}


def warm_start(comp, Client, pct, rss_kb):
    r = {"warm": {"latency": latency(comp, Client, pct), "drain": drain(comp, Client),
                  "memory": warm_memory(comp, rss_kb)}}
    cold = Components({"python_warm": "no"})
    try:
        cold.start()
        r["cold"] = {"latency": latency(cold, Client, pct), "drain": drain(cold, Client),
                     "memory": warm_memory(cold, rss_kb)}
    finally:
        cold.stop()
        cold.cleanup()
    return r


def print_warm_start(r):
    f = lambda v: "-" if v is None else f"{v:.1f}"
    print("warm start (python_warm = yes) beside python_warm = no, same run:")
    print("                       warm          cold")
    w, c = r["warm"], r["cold"]
    print(f"  idle p50 / p99 ms  {f(w['latency']['p50_ms']):>5} / {f(w['latency']['p99_ms']):<5}  "
          f"{f(c['latency']['p50_ms']):>5} / {f(c['latency']['p99_ms']):<5}")
    print(f"  drain {DRAIN} runs/s   {w['drain']['per_s']:9.1f}    {c['drain']['per_s']:9.1f}")
    m = w["memory"]
    print(f"  memory: runner {m['runner_kb']} kB + {m['warm_interpreters']} warm interpreters "
          f"{m['warm_pss_kb']} kB proportional ({m['warm_rss_kb']} kB resident, shared pages counted in each)")
