#!/usr/bin/python3
"""One line of make bench: the fair queue. Learner B (client address
127.0.0.1) starts a hello-world run every 100 ms and times each from
POST /run to its result, which it waits for with the long-poll (GET
?wait_ms), as a client that waits for a result does (polled every 2 ms,
each of B's runs waiting adds 500 requests a second to the load it is
timed under): first on an idle stack, then
while learner A (127.0.0.2: with auth = none a learner is a client address)
has just queued 500 runs at once -- five such floods one after the other,
so that B's p99 under them is taken over some 100 runs, not just the
slowest of the 20 one flood lasts for. B's first 20 runs, on a stack just
started, are not timed. Printed: B's p99 under the floods beside its idle
p99 (target: within 2x), and how long B's runs waited for a slot.
Part of make bench; runs alone as bench/fairness_bench.py.
"""

import multiprocessing
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

HELLO = 'print("hello")\n'
FLOOD = 500
ROUNDS = 5
PERIOD_S = 0.1
IDLE_RUNS = 100
WARM_UP_RUNS = 20              # B's first runs, not timed
FLOOD_SECONDS_MAX = 60
A_ADDR, B_ADDR = "127.0.0.2", "127.0.0.1"
SENDERS = 8                    # A's threads sending its 500 runs
B_SESSIONS = 10                # B's runs in flight stay under max_runs_per_session


def ms(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000


def b_runs(comp, client_cls, sids, until):
    """B's runs, one started every PERIOD_S while until() is false; each
    is (ms from POST to result, ms its execution waited queued)."""
    out, lock, threads = [], threading.Lock(), []

    def one(sid):
        secs, ex = client_cls(comp.port, B_ADDR).run_waiting(sid)
        assert ex["status"] == "COMPLETED", ex
        with lock:
            out.append((secs * 1000, ms(ex["started_at"]) - ms(ex["queued_at"])))

    t0, k = time.monotonic(), 0
    while not until(k):
        threads.append(threading.Thread(target=one, args=(sids[k % len(sids)],)))
        threads[-1].start()
        k += 1
        time.sleep(max(0.0, t0 + k * PERIOD_S - time.monotonic()))
    for t in threads:
        t.join()
    return out


def flood(comp, client_cls, sids):
    """A's FLOOD runs, sent from SENDERS threads at once."""

    def sender(part):
        c = client_cls(comp.port, A_ADDR)
        for sid in part:
            status, body = c.call("POST", f"/code-sessions/{sid}/run")
            assert status == 202, body
    # Each of A's sessions takes max_runs_per_session runs at most: spread the runs over them.
    runs = [sids[i % len(sids)] for i in range(FLOOD)]
    threads = [threading.Thread(target=sender, args=(runs[i::SENDERS],)) for i in range(SENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def queue_empty(comp):
    status, health = comp.request("GET", "/health")
    return health["queue_depth"] == 0 and health["running"] == 0


def flooded(comp, client_cls, a_sids, b_sids):
    """B's runs while one flood of A's drains; and how long it took."""
    t0 = time.monotonic()
    # A is a process of its own, as another learner's browser would be: its
    # eight sending threads must not hold the GIL B's timing thread needs.
    sent = multiprocessing.get_context("fork").Process(target=flood, args=(comp, client_cls, a_sids))
    sent.start()
    time.sleep(0.2)                 # A's runs are queueing
    # B keeps going while A's backlog lasts (checked every 10th run).
    loaded = b_runs(comp, client_cls, b_sids, lambda k: k > 10 and (
        time.monotonic() - t0 > FLOOD_SECONDS_MAX or (k % 10 == 0 and not sent.is_alive() and queue_empty(comp))))
    sent.join()
    assert sent.exitcode == 0, "a flood's run was refused"
    return loaded, time.monotonic() - t0


def fairness(comp, client_cls, pct):
    a, b = client_cls(comp.port, A_ADDR), client_cls(comp.port, B_ADDR)
    b_sids = [b.session(HELLO) for _ in range(B_SESSIONS)]
    a_sids = [a.session(HELLO) for _ in range(FLOOD // 5)]
    # A runner's slots start their warm interpreters together when it
    # starts (an interpreter's start each, some 100 ms of CPU on a slow
    # host), before they take work: the first runs would wait for that.
    b_runs(comp, client_cls, b_sids, lambda k: k >= WARM_UP_RUNS)
    idle = b_runs(comp, client_cls, b_sids, lambda k: k >= IDLE_RUNS)
    loaded, drained = [], []
    for _ in range(ROUNDS):
        runs, secs = flooded(comp, client_cls, a_sids, b_sids)
        loaded += runs
        drained.append(secs)
    return {"flood_runs": FLOOD, "rounds": ROUNDS, "period_ms": PERIOD_S * 1000,
            "flood_drained_s": sorted(drained)[len(drained) // 2],
            "idle": {"runs": len(idle), "p50_ms": pct([x[0] for x in idle], 50),
                     "p99_ms": pct([x[0] for x in idle], 99), "queue_wait_p99_ms": pct([x[1] for x in idle], 99)},
            "flood": {"runs": len(loaded), "p50_ms": pct([x[0] for x in loaded], 50),
                      "p99_ms": pct([x[0] for x in loaded], 99),
                      "queue_wait_p99_ms": pct([x[1] for x in loaded], 99)}}


def print_fairness(f):
    i, fl = f["idle"], f["flood"]
    print(f"fairness: one client queues {f['flood_runs']} runs at once ({f['rounds']} times), another runs hello every "
          f"{f['period_ms']:.0f} ms: its p99 {fl['p99_ms']:.0f} ms (p50 {fl['p50_ms']:.0f}, {fl['runs']} runs) "
          f"beside its idle p99 {i['p99_ms']:.0f} ms (p50 {i['p50_ms']:.0f}): {fl['p99_ms'] / i['p99_ms']:.1f}x "
          f"(target <= 2x); its queue wait p99 {fl['queue_wait_p99_ms']:.0f} ms (idle "
          f"{i['queue_wait_p99_ms']:.0f}); each {f['flood_runs']} done in {f['flood_drained_s']:.1f} s (median)")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from bench import Client, pct  # noqa: E402
    from components import Components  # noqa: E402
    comp = Components()
    try:
        comp.start()
        print_fairness(fairness(comp, Client, pct))
    finally:
        comp.stop()
        comp.cleanup()
