"""make bench, data packages: the end-to-end latency (POST /run to the
terminal state, polling every 5 ms) of a Python run that imports NumPy,
one that imports pandas, and one that draws a small Matplotlib plot kept
as a PNG artifact, beside hello world on the same stack."""

PROGRAMS = {
    "hello": 'print("hello")\n',
    "import numpy": "import numpy\nprint(numpy.arange(3).sum())\n",
    "import pandas": "import pandas\nprint(len(pandas.DataFrame({'a': [1, 2]})))\n",
    "small plot": ("import matplotlib.pyplot as plt\nplt.figure(figsize=(3, 2), dpi=80)\n"
                   "plt.plot([1, 2, 3], [1, 4, 9])\nplt.show()\n"),
}


def data_packages(Client, port, pct, n=12):
    c = Client(port)
    out = {}
    for name, code in PROGRAMS.items():
        sid = c.session(code)
        c.run(sid, 0.005)                       # the first run pays for cold caches
        times = []
        for _ in range(n):
            secs, ex = c.run(sid, 0.005)
            assert ex["status"] == "COMPLETED", (name, ex)
            if name == "small plot":
                assert [a["path"] for a in ex["artifacts"]] == ["figure-1.png"], ex
            times.append(secs * 1000)
        out[name] = {"p50_ms": pct(times, 50), "p95_ms": pct(times, 95)}
    return out


def print_data_packages(r):
    print("Python data packages (end to end, 12 runs each after one):  p50 / p95 ms")
    for name, v in r.items():
        print(f"  {name:14} {v['p50_ms']:7.0f} {v['p95_ms']:7.0f}")
