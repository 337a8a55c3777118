"""The OpenAPI document (conf/openapi.json) against the live server.

For every operation of the document: the success reply and every error
status the document lists that a test can provoke without breaking the
stack are requested for real, and each reply is checked against the
documented schema (status, Content-Type, required fields, types, enums,
patterns, nullability, no undocumented fields) and, for errors, against the
codes the document names for that status. For every path, each method the
document does not list gets 405 with an Allow header naming exactly the
documented ones. Standard library only.
"""

import json
import os
import re

import pytest

from http_raw import raw_request, request_bytes
from stack import REPO, random_uuid

SPEC = json.loads((REPO / "conf" / "openapi.json").read_text())
METHODS = ("get", "put", "post", "delete", "patch")
# Documented, but provoking them needs a broken store (503: covered by the
# durability and queue tests) or auth = token (401, 403: tests/test_auth.py
# checks them against this document), not this module's stack.
NOT_PROVOKED = {"503", "401", "403"}
# Refusals by a learner's quotas, which the default configuration does not
# set: tests/test_quota.py provokes them and checks them against this document.
PROVOKED_ELSEWHERE = {("createSession", "429"), ("updateSession", "429"), ("putSessionFile", "429")}
# Served by lighttpd as static files, which also answer HEAD.
STATIC_PATHS = {"/openapi.json", "/docs", "/"}


@pytest.fixture(scope="module", autouse=True)
def www_built():
    """lighttpd serves /docs, /openapi.json and its JSON error pages from here."""
    www = REPO / os.environ.get("BUILD", "build") / "www" / "openapi.json"
    assert www.exists(), f"{www} is missing: run make www (make api and make test do)"


# ---- the document --------------------------------------------------------

def resolve(node):
    while isinstance(node, dict) and "$ref" in node:
        target = SPEC
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def operations():
    for path, item in SPEC["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


OPERATIONS = [pytest.param(p, m, op, id=op["operationId"]) for p, m, op in operations()]


def check(schema, value, where="$"):
    """Asserts value matches the OpenAPI 3.0 schema (the subset the document uses)."""
    schema = resolve(schema)
    if value is None:
        assert schema.get("nullable"), f"{where}: null where the document does not allow it"
        return
    kind = schema.get("type")
    types = {"object": dict, "array": list, "string": str, "boolean": bool, "number": (int, float)}
    if kind == "integer":
        assert isinstance(value, int) and not isinstance(value, bool), f"{where}: {value!r} not an integer"
        assert value >= schema.get("minimum", value), f"{where}: {value} below minimum"
        assert value <= schema.get("maximum", value), f"{where}: {value} above maximum"
    elif kind:
        assert isinstance(value, types[kind]), f"{where}: {value!r} is not {kind}"
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if kind == "string" and "pattern" in schema:
        assert re.search(schema["pattern"], value), f"{where}: {value!r} !~ {schema['pattern']}"
    if kind == "object":
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            assert name in value, f"{where}: required field {name!r} missing"
        if schema.get("additionalProperties") is False:
            extra = set(value) - set(props)
            assert not extra, f"{where}: undocumented fields {sorted(extra)}"
        for name, v in value.items():
            if name in props:
                check(props[name], v, f"{where}.{name}")
    if kind == "array":
        for i, v in enumerate(value):
            check(schema.get("items", {}), v, f"{where}[{i}]")


def header(headers, name):
    """A header from http.client's reply or http_raw's lower-case dict."""
    if isinstance(headers, dict):
        return headers.get(name.lower())
    return headers.get(name)


def check_reply(op, resp, want_status):
    status, headers, body = resp
    assert str(status) == want_status, (status, body)
    doc = resolve(op["responses"].get(want_status))
    assert doc is not None, f"{op['operationId']}: status {status} is not documented"
    media = doc.get("content", {})
    if not media:
        return
    ctype = (header(headers, "Content-Type") or "").split(";")[0].strip()
    assert ctype in media, f"{op['operationId']} {status}: Content-Type {ctype!r} not in {list(media)}"
    if ctype == "application/json":
        check(media[ctype]["schema"], body)
        codes = media[ctype].get("examples")
        if codes and isinstance(body, dict) and "error" in body:
            assert body["error"]["code"] in codes, \
                f"{op['operationId']} {status}: code {body['error']['code']} not among {list(codes)}"
    for name in doc.get("headers", {}):
        assert header(headers, name), f"{op['operationId']} {status}: header {name} missing"


# ---- provoking each documented status -------------------------------------

@pytest.fixture(scope="module")
def ids(stack):
    # Its run leaves out/notes.txt: the artifact of getArtifact.
    sid = stack.create_session("print('contract')\nopen('out/notes.txt', 'w').write('n')\n")["session_id"]
    eid = stack.run_ok(sid)
    stack.wait_terminal(eid)
    status, _, suite = stack.request("PUT", "/test-suites/contract", GOOD_BODIES["putTestSuite"])
    assert status == 200, suite
    status, _, sub = stack.request("POST", f"/code-sessions/{sid}/submit", {"suite_id": "contract"})
    assert status == 202, sub
    return {"sid": sid, "eid": eid, "suite": "contract", "subid": sub["submission_id"]}


def fill(path, ids, which="ok"):
    """The path with its {id}: a real one, an unknown one, or a malformed one
    (and a session file's {path}: notes.txt)."""
    path = path.replace("{path}", "notes.txt")
    if "{id}" not in path:
        return path
    if path.startswith("/test-suites"):
        # Suite ids are the platform's slugs: "not-a-uuid" is a valid one.
        return path.replace("{id}", {"ok": ids["suite"], "unknown": "no-such-suite", "bad": "not!a!slug"}[which])
    real = ids["eid"] if path.startswith("/executions") else ids["subid"] if path.startswith("/submissions") \
        else ids["sid"]
    return path.replace("{id}", {"ok": real, "unknown": random_uuid(), "bad": "not-a-uuid"}[which])


GOOD_BODIES = {
    "createSession": {"language": "python", "template_code": "print(1)\n"},
    "updateSession": {"source_code": "print(2)\n"},
    "putSessionFile": {"content": "a note\n"},
    "runSession": {"stdin": ""},
    "cancelExecution": {},
    "sendStdin": {"data": "x\n", "eof": True},
    "submitSession": {"suite_id": "contract"},
    "putTestSuite": {"cases": [{"name": "one", "stdin": "1\n", "expected_stdout": "1\n", "hidden": True,
                                "time_limit_ms": 1000}], "compare": {"float_tolerance": 0.001}},
}
# Their success needs an execution still running (the module's one has finished: 409).
NEEDS_RUNNING = {"cancelExecution", "sendStdin"}


def running_interactive(stack):
    sid = stack.create_session("input()\n")["session_id"]
    status, _, run = stack.request("POST", f"/code-sessions/{sid}/run", {"interactive": True})
    assert status == 202, run
    return run["execution_id"]


def success_status(op):
    return next(s for s in op["responses"] if s.startswith("2") or s == "101")


def provoke(stack, ids, path, method, op, status):
    """Sends a request meant to get `status`; None if this status cannot be provoked here."""
    name = op["operationId"]
    body = GOOD_BODIES.get(name)
    m = method.upper()
    if status.startswith("2") and name in NEEDS_RUNNING:
        return stack.request(m, path.replace("{id}", running_interactive(stack)), body)
    if name == "deleteSessionFile" and status in ("204", "409"):
        # A file that exists to delete, or the entry file, which cannot be.
        if status == "204":
            assert stack.request("PUT", fill(path, ids), GOOD_BODIES["putSessionFile"])[0] == 200
            return stack.request(m, fill(path, ids))
        return stack.request(m, fill(path, ids).replace("notes.txt", "main.py"))
    if status.startswith("2") or status == "409":
        return stack.request(m, fill(path, ids), body)
    if status == "400":
        if "{id}" in path:
            return stack.request(m, fill(path, ids, "bad"), body)
        return stack.request(m, path, raw=b'{"language": python}')
    if status == "404":
        return stack.request(m, fill(path, ids, "unknown"), body)
    if status == "411":
        return raw_request(stack.port, request_bytes(m, fill(path, ids),
                                                     [("Content-Type", "application/json")]))
    if status == "413":
        return stack.request(m, fill(path, ids), raw=b" " * (1 << 20) + b"{}")
    if status == "415":
        return stack.request(m, fill(path, ids), raw=b"{}", headers={"Content-Type": "text/plain"})
    if status == "429":
        return provoke_429(stack)
    if status == "101":
        # A finished execution: the server sends its events, then closes.
        return raw_request(stack.port, request_bytes(m, fill(path, ids), [
            ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")],
            connection=None))
    return None


def provoke_429(stack):
    sid = stack.create_session("import time\ntime.sleep(0.5)\n")["session_id"]
    accepted = []
    for _ in range(20):
        resp = stack.run(sid)
        if resp[0] != 202:
            break
        accepted.append(resp[2]["execution_id"])
    for eid in accepted:
        stack.wait_terminal(eid, timeout=60)
    return resp


@pytest.mark.parametrize("path,method,op", OPERATIONS)
def test_operation_matches_the_document(stack, ids, path, method, op):
    tried = []
    for status in op["responses"]:
        if status in NOT_PROVOKED or (op["operationId"], status) in PROVOKED_ELSEWHERE:
            continue
        resp = provoke(stack, ids, path, method, op, status)
        assert resp is not None, f"{op['operationId']}: no way to provoke documented status {status}"
        check_reply(op, resp, status)
        tried.append(status)
    assert success_status(op) in tried


@pytest.mark.parametrize("path", list(SPEC["paths"]))
def test_undocumented_methods_get_405_with_allow(stack, ids, path):
    documented = [m.upper() for m in METHODS if m in SPEC["paths"][path]]
    allow = documented + (["HEAD"] if path in STATIC_PATHS else [])
    for method in METHODS:
        if method in SPEC["paths"][path]:
            continue
        # lighttpd refuses a body on GET (400) before any route is looked at.
        raw = None if method in ("get", "delete") else b"{}"
        status, headers, body = stack.request(method.upper(), fill(path, ids), raw=raw)
        assert status == 405, (method, path, status, body)
        assert sorted(headers["Allow"].split(", ")) == sorted(allow), (method, path, headers["Allow"])
        check(SPEC["components"]["schemas"]["Error"], body)
        assert body["error"]["code"] == "METHOD_NOT_ALLOWED"


def test_served_document_is_the_committed_one(stack):
    status, headers, body = stack.request("GET", "/openapi.json")
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert body == SPEC


def test_every_documented_fixed_path_exists(stack):
    for path in SPEC["paths"]:
        if "{id}" not in path:
            status, _, body = stack.request("GET", path)
            assert status != 404, (path, body)


def test_document_is_openapi_3_with_an_error_schema():
    assert SPEC["openapi"].startswith("3.")
    for path, method, op in operations():
        assert op.get("operationId"), (path, method)
        for status, resp in op["responses"].items():
            resp = resolve(resp)
            if status.startswith(("4", "5")) and path not in STATIC_PATHS:
                schema = resp["content"]["application/json"]["schema"]
                assert resolve(schema) in (SPEC["components"]["schemas"]["Error"],
                                           SPEC["components"]["schemas"]["HealthUnavailable"])
