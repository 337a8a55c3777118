#!/usr/bin/python3
"""One line of make bench: a 100-case test suite of a hello-world-sized
Python program (print(input())), from POST submit to COMPLETED polling
every 5 ms, best and median of 3 submissions with every slot free; printed
beside the reference (100 bare interpreter starts, one after the other).
Part of make bench; runs alone as bench/grading_bench.py.
"""

import statistics
import sys
import time
from pathlib import Path

CASES = 100
ROUNDS = 3


def grading(client):
    cases = [{"name": f"c{i}", "stdin": f"{i}\n", "expected_stdout": f"{i}\n"} for i in range(CASES)]
    status, _ = client.call("PUT", "/test-suites/bench-100", {"cases": cases})
    assert status == 200
    sid = client.session("print(input())\n")
    times = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        status, sub = client.call("POST", f"/code-sessions/{sid}/submit", {"suite_id": "bench-100"})
        assert status == 202, sub
        while True:
            status, doc = client.call("GET", f"/submissions/{sub['submission_id']}")
            if doc["status"] in ("COMPLETED", "FAILED"):
                break
            time.sleep(0.005)
        assert doc["verdict"] == "ACCEPTED", doc["verdict"]
        times.append((time.perf_counter() - t0) * 1000)
    return {"cases": CASES, "best_ms": min(times), "median_ms": statistics.median(times)}


def print_grading(g, reference):
    print(f"grading: {g['cases']}-case suite, Python print(input()): best {g['best_ms']:.0f} ms, "
          f"median {g['median_ms']:.0f} ms (target < 1500 ms; reference: {g['cases']} bare interpreter "
          f"starts one after the other {g['cases'] * reference['python_c_pass_wall_ms']:.0f} ms)")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from bench import Client, reference  # noqa: E402
    from components import Components  # noqa: E402
    ref = reference()
    comp = Components()
    try:
        comp.start()
        print_grading(grading(Client(comp.port)), ref)
    finally:
        comp.stop()
        comp.cleanup()
