"""GET /docs: the Swagger UI page, its assets, and that a real browser
(Debian's chromium, which make test installs) renders every operation of
the document.
"""

import json
import os
import shutil
import subprocess
import tempfile

import pytest

from stack import REPO

SPEC = json.loads((REPO / "conf" / "openapi.json").read_text())


@pytest.fixture(scope="module", autouse=True)
def www_built():
    """lighttpd serves /docs, /openapi.json and its JSON error pages from here."""
    www = REPO / os.environ.get("BUILD", "build") / "www" / "openapi.json"
    assert www.exists(), f"{www} is missing: run make www (make api and make test do)"


def test_docs_page_is_html_that_loads_swagger_ui(stack):
    status, headers, body = stack.request("GET", "/docs")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert "/docs/swagger-ui-bundle.js" in body and '<script src="/docs/init.js">' in body
    # No inline script: the page's Content-Security-Policy allows only its own files.
    assert "<script>" not in body
    status, _, init = stack.request("GET", "/docs/init.js")
    assert status == 200 and 'url: "/openapi.json"' in init


def test_docs_with_trailing_slash_is_the_same_page(stack):
    assert stack.request("GET", "/docs/")[2] == stack.request("GET", "/docs")[2]


@pytest.mark.parametrize("asset,ctype", [("swagger-ui-bundle.js", "text/javascript"),
                                         ("swagger-ui.css", "text/css"),
                                         ("favicon-32x32.png", "image/png")])
def test_swagger_ui_assets_are_served(stack, asset, ctype):
    status, headers, body = stack.request("GET", f"/docs/{asset}")
    assert status == 200
    assert headers["Content-Type"].startswith(ctype)
    assert len(body) > 100


def test_missing_asset_is_a_json_404(stack):
    status, headers, body = stack.request("GET", "/docs/no-such-file.js")
    assert status == 404
    assert headers["Content-Type"].startswith("application/json")
    assert body["error"]["code"] == "NOT_FOUND"


def test_head_of_the_document_is_served(stack):
    status, headers, _ = stack.request("HEAD", "/openapi.json")
    assert status == 200
    assert int(headers["Content-Length"]) > 1000


def chromium_binary():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_browser_renders_every_operation(stack):
    assert chromium_binary(), "chromium is missing: make test installs Debian's chromium package"
    profile = tempfile.mkdtemp(prefix="engine-chromium-")
    try:
        out = subprocess.run(
            [chromium_binary(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=10000",
             "--dump-dom", f"http://127.0.0.1:{stack.port}/docs"],
            capture_output=True, text=True, timeout=90, env=dict(os.environ, HOME=profile))
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    dom = out.stdout
    assert 'class="swagger-ui' in dom, out.stderr[-2000:]
    for path, item in SPEC["paths"].items():
        assert f'data-path="{path}"' in dom, f"Swagger UI did not render {path}"
    assert "errors-wrapper" not in dom, "Swagger UI reports errors in the document"
    assert SPEC["info"]["title"] in dom
