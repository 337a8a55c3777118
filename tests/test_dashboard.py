"""The alert rules and the Grafana dashboard against a live engine:
Debian's prometheus scrapes the running stack every second while a little
load runs, loads conf/prometheus/alerts.yml, and every rule, every alert's
quantity and every query of conf/grafana/engine.json is evaluated through
Prometheus's HTTP API: any error or empty result fails. Then the dashboard's
queries are drawn from the same data as a plain HTML page and screenshot
with headless Chromium (DASHBOARD_PNG=path keeps the picture: README's is
conf/grafana/engine.png)."""

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request

import pytest

from stack import REPO, free_port

SCRAPE_S = 1
RATE_WINDOW = "10s"        # what the dashboard's $__rate_interval stands for here
LOAD_S = 12


def api(port, path, **params):
    url = f"http://127.0.0.1:{port}/api/v1/{path}?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=10) as r:
        body = json.load(r)
    assert body["status"] == "success", body
    return body["data"]


def instant(port, expr):
    """The result of expr now; an error in it fails the test with the expression."""
    try:
        return api(port, "query", query=expr)["result"]
    except urllib.error.HTTPError as e:
        raise AssertionError(f"{expr}: {e.read().decode(errors='replace')}") from None


def dashboard_queries():
    dash = json.loads((REPO / "conf" / "grafana" / "engine.json").read_text())
    return [(p["title"], t["legendFormat"], t["expr"].replace("$__rate_interval", RATE_WINDOW))
            for p in dash["panels"] for t in p["targets"]]


def load(stack, stop):
    """Runs of two languages, and a learner's error now and then, until stop."""
    codes = [("python", "print('ok')"), ("bash", "echo ok"), ("python", "1/0")]
    i = 0
    while not stop.is_set():
        language, code = codes[i % len(codes)]
        sid = stack.create_session(code, language)["session_id"]
        eid = stack.run_ok(sid)
        stack.wait_terminal(eid)
        stack.patch_code(sid, code + "\n")
        i += 1


@pytest.fixture(scope="module")
def prometheus(stack):
    assert shutil.which("prometheus"), "prometheus is missing: make test installs Debian's prometheus"
    work = tempfile.mkdtemp(prefix="engine-prometheus-")
    port = free_port()
    config = os.path.join(work, "prometheus.yml")
    with open(config, "w") as f:
        f.write(f"""global:
  scrape_interval: {SCRAPE_S}s
  evaluation_interval: {SCRAPE_S}s
rule_files: ["{REPO / 'conf' / 'prometheus' / 'alerts.yml'}"]
scrape_configs:
  - job_name: code_exec
    static_configs: [{{targets: ["127.0.0.1:{stack.port}"]}}]
""")
    log = open(os.path.join(work, "prometheus.log"), "wb")
    proc = subprocess.Popen(["prometheus", f"--config.file={config}", f"--storage.tsdb.path={work}/data",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    stop = threading.Event()
    loader = threading.Thread(target=load, args=(stack, stop), daemon=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if instant(port, 'up{job="code_exec"} == 1'):
                    break
            except (OSError, AssertionError):
                pass
            assert time.monotonic() < deadline and proc.poll() is None, \
                open(os.path.join(work, "prometheus.log"), errors="replace").read()[-3000:]
            time.sleep(0.2)
        started = time.time()
        loader.start()
        time.sleep(LOAD_S)
        stop.set()
        loader.join(30)
        time.sleep(2 * SCRAPE_S)
        yield port, started, time.time()
    finally:
        stop.set()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


def rules(port):
    return [r for g in api(port, "rules")["groups"] for r in g["rules"]]


def test_prometheus_loads_every_rule_and_evaluates_it_without_error(prometheus):
    port = prometheus[0]
    loaded = rules(port)
    assert len([r for r in loaded if r["type"] == "recording"]) == 7
    assert len([r for r in loaded if r["type"] == "alerting"]) == 8
    for r in loaded:
        assert r["health"] == "ok", (r["name"], r.get("lastError"))


def test_every_recorded_quantity_has_a_value(prometheus):
    port = prometheus[0]
    for r in rules(port):
        if r["type"] == "recording":
            assert instant(port, r["name"]), f"{r['name']} = {r['query']}: empty"


# What a healthy engine never alerts on. The others depend on more than the
# engine's health (the shared stack's earlier runs, the machine's disk).
QUIET_WHEN_HEALTHY = ("CodeExecDown", "CodeExecNoLiveRunner", "CodeExecStoreUnavailable")


def test_every_alert_watches_a_quantity_that_exists(prometheus):
    """The left side of each alert's comparison has a value on a healthy
    engine under load; the whole expression evaluates, and is false for
    the alerts of the engine's own health."""
    port = prometheus[0]
    alerts = [r for r in rules(port) if r["type"] == "alerting"]
    assert {r["name"] for r in alerts} >= set(QUIET_WHEN_HEALTHY)
    for r in alerts:
        m = re.fullmatch(r"(.+?)\s*(==|>|<)\s*([0-9.]+)", r["query"].strip())
        assert m, f"{r['name']}: not '<quantity> <op> <threshold>': {r['query']}"
        assert instant(port, m.group(1)), f"{r['name']}: {m.group(1)} is empty"
        firing = instant(port, r["query"])
        if r["name"] in QUIET_WHEN_HEALTHY:
            assert firing == [] and r["state"] == "inactive", r


def test_every_dashboard_query_has_data(prometheus):
    port = prometheus[0]
    queries = dashboard_queries()
    assert len(queries) >= 15
    for title, legend, expr in queries:
        assert instant(port, expr), f"{title} / {legend}: {expr} is empty"
    # The per-language panels see both languages of the load.
    by_language = [e for t, _, e in queries if t == "By language (executions/s)"][0]
    assert {s["metric"]["language"] for s in instant(port, by_language)} >= {"python", "bash"}


# ---- the picture ----------------------------------------------------------

def svg_panel(title, series, width=560, height=220):
    """A line chart of [(name, [(t, v), ...])] with its last values as the legend."""
    pts = [(t, v) for _, s in series for t, v in s]
    t0, t1 = min(t for t, _ in pts), max(t for t, _ in pts)
    top = max([v for _, v in pts] + [1e-9]) * 1.1
    colors = ["#2f7ed8", "#e4572e", "#17a589", "#8e44ad", "#f39c12", "#7f8c8d"]
    out = [f'<div class="panel"><h2>{html.escape(title)}</h2>'
           f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
           f'<rect width="{width}" height="{height}" fill="#fbfbfb" stroke="#ddd"/>'
           f'<text x="4" y="12" font-size="10" fill="#777">{top / 1.1:.3g}</text>']
    legend = []
    for i, (name, s) in enumerate(series):
        c = colors[i % len(colors)]
        xy = " ".join(f"{(t - t0) / max(t1 - t0, 1) * (width - 8) + 4:.1f},"
                      f"{height - 4 - v / top * (height - 20):.1f}" for t, v in s)
        out.append(f'<polyline fill="none" stroke="{c}" stroke-width="2" points="{xy}"/>')
        legend.append(f'<span style="color:{c}">&#9632; {html.escape(name)} {s[-1][1]:.3g}</span>')
    out.append("</svg><div class='legend'>" + " ".join(legend) + "</div></div>")
    return "".join(out)


def legend_name(fmt, metric):
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: metric.get(m.group(1), ""), fmt) or "value"


def render_html(port, start, end):
    dash = json.loads((REPO / "conf" / "grafana" / "engine.json").read_text())
    parts = []
    for p in dash["panels"]:
        series = []
        for t in p["targets"]:
            expr = t["expr"].replace("$__rate_interval", RATE_WINDOW)
            data = api(port, "query_range", query=expr, start=start, end=end, step=SCRAPE_S)["result"]
            for s in data:
                values = [(float(ts), float(v)) for ts, v in s["values"] if v not in ("NaN", "+Inf", "-Inf")]
                if values:
                    series.append((legend_name(t["legendFormat"], s["metric"]), values))
        assert series, f"{p['title']}: no data in range"
        parts.append(svg_panel(p["title"], series))
    return ("<!doctype html><meta charset='utf-8'><style>body{font:13px sans-serif;margin:12px;"
            "background:#fff} h1{font-size:18px} h2{font-size:13px;margin:4px 0} .panel{display:inline-block;"
            "vertical-align:top;margin:6px} .legend{max-width:560px}</style>"
            f"<h1>{html.escape(dash['title'])} — conf/grafana/engine.json, "
            f"{len(dash['panels'])} panels from Prometheus over {int(end - start)} s of a test load</h1>"
            + "".join(parts))


def test_the_dashboard_renders_from_real_data(prometheus, tmp_path):
    port, start, end = prometheus
    page = tmp_path / "dashboard.html"
    page.write_text(render_html(port, start, end))
    png = tmp_path / "dashboard.png"
    assert shutil.which("chromium"), "chromium is missing: make test installs Debian's chromium"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--screenshot={png}", "--window-size=1200,1660", page.as_uri()],
                   check=True, capture_output=True, timeout=60)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20000
    keep = os.environ.get("DASHBOARD_PNG")
    if keep:
        shutil.copyfile(png, keep)
