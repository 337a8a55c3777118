"""Artifacts against the real stack: what a run leaves in out/ is kept with
its execution (bounded as it is written), listed on it, served with a safe
content type, and Matplotlib's figures become PNGs without ceremony; a
flood of files, a huge one, links and FIFOs end bounded, with nothing read
from or written to the host."""

import http.client
import os
import struct
import time
import uuid

import pytest

from live import SSE
from stack import warm_data_packages

ARTIFACT_KEYS = {"path", "size", "content_type"}
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox"


def get_bytes(stack, path):
    """GET path -> (status, headers, raw body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def png_size(data):
    """(width, height) from a PNG's IHDR (asserts the signature)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def artifact(stack, execution, path):
    return get_bytes(stack, f"/executions/{execution['execution_id']}/artifacts/{path}")


@pytest.fixture(scope="module")
def plotted(stack):
    warm_data_packages()
    code = ("import matplotlib.pyplot as plt\n"
            "plt.figure(figsize=(4, 3), dpi=100)\n"
            "plt.plot([1, 2, 3], [1, 4, 9])\n"
            "plt.show()\n"
            "plt.figure(figsize=(2, 1), dpi=50)\n"
            "plt.bar(['a', 'b'], [3, 5])\n"
            "print('done')\n")
    return stack.execute(code, timeout=60)


def test_matplotlib_figures_become_png_artifacts_of_their_size(stack, plotted):
    e = plotted
    assert (e["status"], e["stdout"], e["stderr"]) == ("COMPLETED", "done\n", ""), e
    assert [a["path"] for a in e["artifacts"]] == ["figure-1.png", "figure-2.png"]
    for a in e["artifacts"]:
        assert set(a) == ARTIFACT_KEYS and a["content_type"] == "image/png", a
    status, headers, data = artifact(stack, e, "figure-1.png")
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert len(data) == e["artifacts"][0]["size"]
    assert png_size(data) == (400, 300)
    assert png_size(artifact(stack, e, "figure-2.png")[2]) == (100, 50)


def test_an_execution_lists_its_artifacts_in_history_too(stack, plotted):
    status, _, page = stack.request("GET", f"/code-sessions/{plotted['session_id']}/executions")
    assert status == 200
    assert page["executions"][0]["artifacts"] == plotted["artifacts"]
    assert stack.execute("print(1)\n")["artifacts"] == []


def test_each_type_is_served_as_what_it_is_and_nothing_as_html(stack):
    files = {"t.csv": "text/csv; charset=utf-8", "t.json": "application/json",
             "t.txt": "text/plain; charset=utf-8", "t.svg": "image/svg+xml",
             "t.html": "application/octet-stream", "t.bin": "application/octet-stream"}
    code = ("for name in %r:\n"
            "    open('out/' + name, 'w').write('<html><script>alert(1)</script></html>')\n" % sorted(files))
    e = stack.execute(code)
    assert e["status"] == "COMPLETED", e
    assert {a["path"]: a["content_type"] for a in e["artifacts"]} == files
    for name, ctype in files.items():
        status, headers, data = artifact(stack, e, name)
        assert status == 200 and headers["Content-Type"] == ctype, (name, headers)
        assert data == b"<html><script>alert(1)</script></html>"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Content-Security-Policy"] == CSP
        download = ctype == "application/octet-stream"
        assert (headers.get("Content-Disposition") ==
                f"attachment; filename*=UTF-8''{name}") == download, (name, headers)


def test_an_unknown_artifact_or_execution_is_404(stack, plotted):
    status, _, body = stack.request("GET", f"/executions/{plotted['execution_id']}/artifacts/none.png")
    assert status == 404 and body["error"]["code"] == "NOT_FOUND", body
    status, _, body = stack.request("GET", f"/executions/{uuid.uuid4()}/artifacts/figure-1.png")
    assert status == 404, body


FLOOD = r"""
import errno, os
def attempt(what, fn):
    try:
        fn()
        print(what, 'ok')
    except OSError as e:
        print(what, errno.errorcode[e.errno])
made = 0
for i in range(5000):
    try:
        open('out/f%04d.txt' % i, 'w').write('x')
        made += 1
    except OSError as e:
        print('files stopped at', made, errno.errorcode[e.errno])
        break
for i in range(made):
    os.unlink('out/f%04d.txt' % i)
def huge():
    with open('out/huge.bin', 'wb') as f:
        for _ in range(64):
            f.write(b'\0' * (1 << 20))
attempt('huge', huge)
os.unlink('out/huge.bin')
attempt('symlink', lambda: os.symlink('/etc/passwd', 'out/passwd'))
attempt('symlink2', lambda: os.symlink('HOST_FILE', 'out/host'))
attempt('fifo', lambda: os.mkfifo('out/pipe'))
attempt('dir', lambda: os.mkdir('out/sub'))
attempt('in dir', lambda: open('out/sub/x.txt', 'w').write('x'))
attempt('dotdot', lambda: open('out/../ESCAPE', 'w').write('x'))
attempt('hardlink', lambda: os.link('/app/main.py', 'out/main.py'))
open('out/kept.txt', 'w').write('kept')
"""


def test_an_artifact_flood_ends_bounded_touching_nothing_of_the_host(stack, tmp_path):
    host_file = tmp_path / "secret.txt"
    host_file.write_text("host secret\n")
    escape = f"escape-{uuid.uuid4()}"
    e = stack.execute(FLOOD.replace("HOST_FILE", str(host_file)).replace("ESCAPE", escape), timeout=60)
    assert e["status"] == "COMPLETED", e
    lines = e["stdout"].splitlines()
    # 16 files (the limit) fit; the 17th is refused as it is created.
    assert lines[0] == "files stopped at 16 ENOSPC", e["stdout"]
    assert "huge ENOSPC" in lines, e["stdout"]
    assert "hardlink EXDEV" in lines, e["stdout"]
    assert {a["path"] for a in e["artifacts"]} == {"kept.txt"}, e["artifacts"]
    assert artifact(stack, e, "kept.txt")[2] == b"kept"
    assert host_file.read_text() == "host secret\n"
    assert not os.path.exists(os.path.join("/tmp", escape))
    assert not os.path.exists(os.path.join(stack.data_dir, escape))


def test_out_holds_4_mib_in_all(stack):
    code = ("import errno\n"
            "for i in range(3):\n"
            "    try:\n"
            "        open('out/part%d.bin' % i, 'wb').write(b'x' * (2 << 20))\n"
            "    except OSError as e:\n"
            "        print(i, errno.errorcode[e.errno])\n")
    e = stack.execute(code)
    assert e["stdout"].startswith("1 ENOSPC") or e["stdout"].startswith("2 ENOSPC"), e
    assert sum(a["size"] for a in e["artifacts"]) <= 4 << 20
    assert e["artifacts"][0] == {"path": "part0.bin", "size": 2 << 20,
                                 "content_type": "application/octet-stream"}


def test_artifacts_are_events_of_the_live_stream(stack, plotted):
    """Replayed from the store once the run is over, as a live client saw them: before done."""
    events = SSE(stack.port, plotted["execution_id"]).all_events()
    kinds = [ev["event"] for ev in events]
    arts = [ev["data"] for ev in events if ev["event"] == "artifact"]
    assert [{k: a[k] for k in ARTIFACT_KEYS} for a in arts] == plotted["artifacts"]
    assert kinds[-3:] == ["artifact", "artifact", "done"], kinds


def test_a_graded_case_has_an_out_directory_too_but_keeps_nothing(stack):
    """The same program behaves in a submission as in a Run: out/ is there (and a plot's
    show() quiet), only nothing of it is kept for a case."""
    warm_data_packages()
    suite = {"cases": [{"name": "one", "stdin": "", "expected_stdout": "ok\n"}]}
    assert stack.request("PUT", "/test-suites/artifacts-case", suite)[0] == 200
    code = ("import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()\n"
            "open('out/result.csv', 'w').write('a\\n')\nprint('ok')\n")
    sid = stack.create_session(code)["session_id"]
    status, _, sub = stack.request("POST", f"/code-sessions/{sid}/submit", {"suite_id": "artifacts-case"})
    assert status == 202, sub
    for _ in range(600):
        status, _, got = stack.request("GET", f"/submissions/{sub['submission_id']}")
        if got["status"] not in ("QUEUED", "RUNNING"):
            break
        time.sleep(0.1)
    assert (got["status"], got["verdict"]) == ("COMPLETED", "ACCEPTED"), got
    kept = stack.store_rows("SELECT count(*) FROM execution_artifacts a JOIN executions e "
                            f"ON e.id = a.execution_id WHERE e.submission_id = '{sub['submission_id']}'")
    assert int(kept[0][0]) == 0
