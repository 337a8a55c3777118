"""Browser access: CORS for the origins of allowed_origins, decided by a real
browser (headless Chromium loads a page from another loopback port and
calls the API with a token), the preflight's exact answer from fcgi_app and
the events program, and the security headers on every kind of response."""

import functools
import http.server
import threading

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from stack import free_port
from test_auth import SECRET, bearer, claims, hs256, secret_file, stack_with, write_config
from test_playground import browser  # noqa: F401  (the headless Chromium fixture)

import jwt

PAGE = """<!DOCTYPE html>
<meta charset="utf-8"><title>platform</title>
<script>
// A page of the platform, on another origin than the engine: what its
// scripts can do with the API is what the browser's CORS checks allow.
async function go() {
	const [api, token] = decodeURIComponent(location.hash.slice(1)).split("|");
	const auth = { "Authorization": "Bearer " + token };
	const out = {};
	try {
		const created = await fetch(api + "/code-sessions", { method: "POST",
			headers: { ...auth, "Content-Type": "application/json" },
			body: JSON.stringify({ language: "python", template_code: "print(6 * 7)" }) });
		out.create = created.status;
		out.location = created.headers.get("Location");
		out.requestId = created.headers.get("X-Request-Id");
		const session = await created.json();
		const run = await fetch(api + "/code-sessions/" + session.session_id + "/run", { method: "POST",
			headers: { ...auth, "Content-Type": "application/json" }, body: "{}" });
		const execution = await run.json();
		const poll = await fetch(api + "/executions/" + execution.execution_id + "?wait_ms=15000",
			{ headers: { ...auth, "Last-Event-ID": "0" } });
		out.poll = poll.status;
		out.stdout = (await poll.json()).stdout;
		const bare = await fetch(api + "/code-sessions/" + session.session_id);
		out.bare = bare.status;
		out.challenge = bare.headers.get("WWW-Authenticate");
	} catch (e) {
		out.error = String(e);
	}
	window.result = out;
}
go();
</script>
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve_page(directory):
    """An HTTP server on a free loopback port serving directory; -> (server, origin)."""
    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port),
                                             functools.partial(QuietHandler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    root = tmp_path_factory.mktemp("platform")
    (root / "page.html").write_text(PAGE)
    allowed, allowed_origin = serve_page(root)
    other, other_origin = serve_page(root)
    yield allowed_origin, other_origin
    allowed.shutdown()
    other.shutdown()


@pytest.fixture(scope="module")
def cors_stack(tmp_path_factory, pages):
    tmp = tmp_path_factory.mktemp("cors")
    conf = write_config(tmp, ["auth = token", f"auth_hs256_secret_file = {secret_file(tmp)}",
                              f"allowed_origins = https://platform.example {pages[0]}"])
    s = stack_with(conf)
    yield s
    s.stop()
    s.cleanup()


def token():
    return jwt.encode(claims(iss=None, aud=None), SECRET, algorithm="HS256")


def run_page(driver, origin, stack):
    driver.get(f"{origin}/page.html#http://127.0.0.1:{stack.port}|{token()}")
    return WebDriverWait(driver, 30).until(lambda d: d.execute_script("return window.result"))


# ---- in a real browser ---------------------------------------------------------

def test_a_listed_origin_calls_the_api_with_a_token(browser, pages, cors_stack):  # noqa: F811
    result = run_page(browser, pages[0], cors_stack)
    assert result.get("error") is None, result
    assert result["create"] == 201
    assert result["location"].startswith("/code-sessions/")      # exposed to the page
    assert result["requestId"]
    assert (result["poll"], result["stdout"]) == (200, "42\n")    # the events program's long-poll
    assert result["bare"] == 401
    assert result["challenge"] == 'Bearer realm="code-exec"'


def test_an_unlisted_origin_is_stopped_by_the_browser(browser, pages, cors_stack):  # noqa: F811
    result = run_page(browser, pages[1], cors_stack)
    assert result == {"error": "TypeError: Failed to fetch"}


# ---- the answers themselves ------------------------------------------------------

PREFLIGHT = {"Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization, content-type"}


@pytest.mark.parametrize("path,methods", [
    ("/code-sessions", "POST"),
    ("/code-sessions/00000000-0000-4000-8000-000000000000", "GET, PATCH"),
    ("/test-suites/s1", "GET, PUT, DELETE"),
])
def test_fcgi_app_answers_a_listed_origins_preflight(cors_stack, pages, path, methods):
    status, headers, body = cors_stack.request("OPTIONS", path, headers=dict(PREFLIGHT, Origin=pages[0]))
    assert (status, body) == (204, "")
    assert headers["Access-Control-Allow-Origin"] == pages[0]
    assert headers["Access-Control-Allow-Methods"] == methods
    assert headers["Access-Control-Allow-Headers"] == "Authorization, Content-Type, Last-Event-ID, X-Request-Id"
    assert headers["Access-Control-Max-Age"] == "600"
    assert headers["Vary"] == "Origin"
    assert "Access-Control-Allow-Credentials" not in headers


@pytest.mark.parametrize("path", ["/executions/00000000-0000-4000-8000-000000000000/events",
                                  "/executions/00000000-0000-4000-8000-000000000000?wait_ms=1",
                                  "/submissions/00000000-0000-4000-8000-000000000000/events"])
def test_the_events_program_answers_a_listed_origins_preflight(cors_stack, pages, path):
    status, headers, _ = cors_stack.request("OPTIONS", path, headers=dict(
        PREFLIGHT, Origin=pages[0], **{"Access-Control-Request-Method": "GET",
                                       "Access-Control-Request-Headers": "authorization, last-event-id"}))
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == pages[0]
    assert headers["Access-Control-Allow-Methods"] == "GET"
    assert "Last-Event-ID" in headers["Access-Control-Allow-Headers"]
    assert headers["Access-Control-Max-Age"] == "600"


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "https://platform.example.evil",
                                    "HTTPS://PLATFORM.EXAMPLE", "https://platform.example/"])
@pytest.mark.parametrize("path", ["/code-sessions", "/executions/00000000-0000-4000-8000-000000000000/events"])
def test_an_unlisted_origin_gets_no_cors_header(cors_stack, origin, path):
    status, headers, _ = cors_stack.request("OPTIONS", path, headers=dict(PREFLIGHT, Origin=origin))
    assert status == 405
    assert not [h for h in headers if h.lower().startswith("access-control-")], headers
    status, headers, _ = cors_stack.request("GET", path, headers=dict(bearer(hs256()), Origin=origin))
    assert not [h for h in headers if h.lower().startswith("access-control-")], headers


def test_a_listed_origins_response_names_it_and_exposes_headers(cors_stack):
    status, headers, _ = cors_stack.request("GET", "/languages", headers={
        "Origin": "https://platform.example", "Authorization": "Bearer " + token()})
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "https://platform.example"
    assert headers["Access-Control-Expose-Headers"] == "Location, Retry-After, WWW-Authenticate, X-Request-Id"
    assert headers["Vary"] == "Origin"
    assert "Access-Control-Allow-Credentials" not in headers


def test_without_allowed_origins_no_response_has_cors_headers(stack):
    status, headers, _ = stack.request("OPTIONS", "/code-sessions", headers=dict(PREFLIGHT, Origin="http://a.example"))
    assert status == 405
    status, headers, _ = stack.request("GET", "/health", headers={"Origin": "http://a.example"})
    assert not [h for h in headers if h.lower().startswith("access-control-")], headers


# ---- security headers -------------------------------------------------------------

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'")


@pytest.mark.parametrize("path", ["/", "/docs", "/docs/init.js", "/playground/playground.js"])
def test_pages_carry_a_content_security_policy(stack, path):
    status, headers, _ = stack.request("GET", path)
    assert status == 200
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == CSP
    assert headers["Referrer-Policy"] == "no-referrer"


def test_api_responses_are_not_stored_nor_sniffed(stack):
    sid = stack.create_session("print(1)\n")["session_id"]
    eid = stack.run_ok(sid)
    for path in ("/health", f"/code-sessions/{sid}", "/no-such-path", f"/executions/{eid}?wait_ms=0",
                 f"/executions/{eid}/events"):
        status, headers, _ = stack.request("GET", path)
        assert headers.get_all("X-Content-Type-Options") == ["nosniff"], (path, headers)
        assert headers["Cache-Control"] == "no-store", path


def test_the_contract_is_not_sniffed(stack):
    status, headers, _ = stack.request("GET", "/openapi.json")
    assert (status, headers["X-Content-Type-Options"]) == (200, "nosniff")
