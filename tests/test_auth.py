"""auth = token: every API request carries a JWT the platform signed; each
way a token can be wrong is a 401 with a JSON error and a Bearer challenge,
from fcgi_app and from the events program alike. The configuration is
checked at start (file:line)."""

import base64
import hashlib
import hmac
import http.client
import json
import os
import subprocess
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from http_raw import raw_request as raw_request_bytes, request_bytes
from stack import REPO, Stack, random_uuid

BUILD = REPO / os.environ.get("BUILD", "build")
SECRET = b"s3cret-of-the-platform-0123456789abcdef"
ISSUER = "https://platform.example"
AUDIENCE = "code-exec"


def write_config(tmp, lines):
    conf = tmp / "engine.conf"
    conf.write_text((REPO / "conf" / "engine.conf").read_text() + "\n".join(lines) + "\n"
                    f"languages_file = {REPO / 'conf' / 'languages.conf'}\n")
    return conf


def secret_file(tmp, data=SECRET, mode=0o600):
    path = tmp / "jwt.secret"
    path.write_bytes(data + b"\n")
    path.chmod(mode)
    return path


def stack_with(conf):
    saved = os.environ.get("ENGINE_CONFIG")
    os.environ["ENGINE_CONFIG"] = str(conf)
    try:
        return Stack().start()
    finally:
        if saved is None:
            del os.environ["ENGINE_CONFIG"]
        else:
            os.environ["ENGINE_CONFIG"] = saved


def claims(**over):
    now = int(time.time())
    c = {"sub": "learner-1", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 300}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def hs256(**over):
    return jwt.encode(claims(**over), SECRET, algorithm="HS256")


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_signed(header, payload, key):
    """A token signed with HMAC-SHA256 by hand, whatever its header says."""
    signing = b64(json.dumps(header).encode()) + "." + b64(json.dumps(payload).encode())
    return signing + "." + b64(hmac.new(key, signing.encode(), hashlib.sha256).digest())


def bearer(token):
    return {"Authorization": "Bearer " + token}


def assert_401(resp):
    status, headers, body = resp
    assert status == 401, (status, body)
    assert body["error"]["code"] == "UNAUTHORIZED", body
    assert headers["WWW-Authenticate"].startswith('Bearer realm="code-exec"')
    assert headers["Content-Type"] == "application/json"
    return body["error"]["message"]


@pytest.fixture(scope="module")
def hs_stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("auth-hs")
    conf = write_config(tmp, ["auth = token", f"auth_hs256_secret_file = {secret_file(tmp)}",
                              f"auth_issuer = {ISSUER}", f"auth_audience = {AUDIENCE}",
                              "metrics_allowed_addresses = 192.0.2.7",
                              # the ownership table runs a session up to 6 times at once
                              "max_runs_per_session = 50"])
    s = stack_with(conf)
    yield s
    s.stop()
    s.cleanup()


def create(stack, headers):
    return stack.request("POST", "/code-sessions", {"language": "python"}, headers=headers)


# ---- a valid token -------------------------------------------------------------

def test_a_valid_hs256_token_creates_a_session(hs_stack):
    status, headers, body = create(hs_stack, bearer(hs256()))
    assert status == 201, body
    assert "WWW-Authenticate" not in headers


def test_an_audience_array_holding_ours_is_accepted(hs_stack):
    assert create(hs_stack, bearer(hs256(aud=["other", AUDIENCE])))[0] == 201


def test_the_scheme_is_case_insensitive(hs_stack):
    assert create(hs_stack, {"Authorization": "bearer " + hs256()})[0] == 201


# ---- each way a token is refused -----------------------------------------------

def test_no_token_gets_the_bare_challenge(hs_stack):
    status, headers, body = create(hs_stack, {})
    assert (status, body["error"]["code"]) == (401, "UNAUTHORIZED")
    assert headers["WWW-Authenticate"] == 'Bearer realm="code-exec"'
    assert body["error"]["message"] == "this request needs an Authorization: Bearer token"


@pytest.mark.parametrize("token,message", [
    (lambda: hs256(exp=int(time.time()) - 1), "the token has expired"),
    (lambda: hs256(nbf=int(time.time()) + 600), "the token is not valid yet (nbf)"),
    (lambda: hs256(exp=None), "the token has no exp (an integer time)"),
    (lambda: hs256(exp="tomorrow"), "the token has no exp (an integer time)"),
    (lambda: hs256(iss="https://evil.example"), "the token's issuer (iss) is not the one this server accepts"),
    (lambda: hs256(iss=None), "the token's issuer (iss) is not the one this server accepts"),
    (lambda: hs256(aud="someone-else"), "the token's audience (aud) does not name this server"),
    (lambda: hs256(aud=["a", "b"]), "the token's audience (aud) does not name this server"),
    (lambda: hs256(sub=None), "the token has no sub (a string naming the learner)"),
    (lambda: hs256(sub=""), "the token has no sub (a string naming the learner)"),
    (lambda: hs256(sub="x" * 129), "the token's sub is longer than 128 bytes"),
    (lambda: hs256(sub="a\nb"), "the token's sub holds a control character"),
    (lambda: hs256(scope=["admin"]), "the token's scope is not a string"),
    (lambda: jwt.encode(claims(), b"another-secret-of-32-bytes-or-more!!", algorithm="HS256"),
     "the token's signature does not verify, or the token is malformed"),
    (lambda: jwt.encode(claims(), SECRET, algorithm="HS512"),
     "the token is not signed with the algorithm this server accepts"),
    (lambda: hs256()[:-4] + "AAAA", "the token's signature does not verify, or the token is malformed"),
    (lambda: jwt.encode(claims(), None, algorithm="none"),
     "the token is not a signed JWT (header.payload.signature in base64url)"),
    (lambda: hand_signed({"alg": "none", "typ": "JWT"}, claims(), SECRET),
     "the token's signature does not verify, or the token is malformed"),
    (lambda: "not-a-token", "the token is not a signed JWT (header.payload.signature in base64url)"),
    (lambda: "a.b.c", "the token's signature does not verify, or the token is malformed"),
], ids=["expired", "not-yet-valid", "no-exp", "exp-not-integer", "wrong-issuer", "no-issuer",
        "wrong-audience", "audience-array-without-ours", "no-sub", "empty-sub", "long-sub",
        "control-in-sub", "scope-not-string", "wrong-secret", "hs512", "tampered-signature",
        "alg-none-unsigned", "alg-none-with-a-signature", "not-a-jwt", "garbage-parts"])
def test_a_bad_token_is_refused_with_401(hs_stack, token, message):
    assert assert_401(create(hs_stack, bearer(token()))) == message


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Token " + "a.b.c"])
def test_another_scheme_or_an_empty_token_is_refused(hs_stack, value):
    assert assert_401(create(hs_stack, {"Authorization": value})) in (
        "the Authorization header must be Bearer <token>",
        "the token is not a signed JWT (header.payload.signature in base64url)")


# ---- which routes need a token --------------------------------------------------

@pytest.mark.parametrize("path", ["/health", "/openapi.json", "/docs", "/"])
def test_public_routes_need_no_token(hs_stack, path):
    assert hs_stack.request("GET", path)[0] == 200


@pytest.mark.parametrize("method,path", [
    ("GET", "/languages"),
    ("GET", "/code-sessions/" + "0" * 8 + "-0000-4000-8000-" + "0" * 12),
    ("GET", "/executions/" + "0" * 8 + "-0000-4000-8000-" + "0" * 12),
    ("GET", "/submissions/" + "0" * 8 + "-0000-4000-8000-" + "0" * 12),
    ("GET", "/test-suites/s1"),
])
def test_api_routes_need_a_token(hs_stack, method, path):
    assert_401(hs_stack.request(method, path))


def test_metrics_answer_only_listed_addresses(hs_stack):
    status, _, body = hs_stack.request("GET", "/metrics", headers=bearer(hs256(scope="admin")))
    assert (status, body["error"]["code"]) == (404, "NOT_FOUND")


SUITE = {"cases": [{"name": "one", "stdin": "", "expected_stdout": "1\n"}]}


def test_a_learner_may_not_manage_test_suites(hs_stack):
    status, headers, body = hs_stack.request("PUT", "/test-suites/auth-suite", SUITE,
                                             headers=bearer(hs256()))
    assert (status, body["error"]["code"]) == (403, "FORBIDDEN")
    assert headers["WWW-Authenticate"] == 'Bearer realm="code-exec", error="insufficient_scope"'


@pytest.mark.parametrize("scope", ["grader", "admin", "learner grader"])
def test_a_grader_or_admin_manages_test_suites(hs_stack, scope):
    status, _, body = hs_stack.request("PUT", "/test-suites/auth-suite", SUITE,
                                       headers=bearer(hs256(scope=scope)))
    assert status in (200, 201), body
    assert hs_stack.request("GET", "/test-suites/auth-suite", headers=bearer(hs256(scope=scope)))[0] == 200


# ---- every operation the document secures answers 401 as documented -----------

def secured_operations():
    from test_contract import operations
    for path, method, op in operations():
        if op.get("security", SPEC["security"]) != []:
            yield pytest.param(path, method, op, id=op["operationId"])


SPEC = json.loads((REPO / "conf" / "openapi.json").read_text())


@pytest.mark.parametrize("path,method,op", list(secured_operations()))
def test_every_secured_operation_refuses_no_token_as_documented(hs_stack, path, method, op):
    from test_contract import check_reply
    filled = path.replace("{id}", "auth-suite" if path.startswith("/test-suites") else random_uuid())
    body = None if method in ("get", "delete") else {}
    headers = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
               "Sec-WebSocket-Version": "13"} if path.endswith("/ws") else {}
    resp = hs_stack.request(method.upper(), filled, body, headers=headers)
    check_reply(op, resp, "401")
    assert_401(resp)


def test_public_operations_are_the_documented_ones():
    from test_contract import operations
    public = sorted(path for path, _, op in operations() if op.get("security") == [])
    assert public == ["/", "/docs", "/health", "/metrics", "/openapi.json"]


# ---- ownership: every route that names a row x {owner, other learner, admin, no token} ----

OWNER, OTHER = "learner-owner", "learner-other"
WS_HEADERS = [("Upgrade", "websocket"),
              ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")]

# (method, path, body, statuses the owner may get). {sid}, {eid}, {subid}: the owner's
# session, a finished execution of it, a judged submission of it. The owner's
# statuses are what the route answers that row (a finished execution cannot be
# cancelled: 409), never 401 or 404.
OWNED_ROUTES = [
    ("GET", "/code-sessions/{sid}", None, {200}),
    ("PATCH", "/code-sessions/{sid}", {"source_code": "print(2)\n"}, {200}),
    ("POST", "/code-sessions/{sid}/run", {}, {202}),
    ("POST", "/code-sessions/{sid}/check", None, {202}),
    ("GET", "/code-sessions/{sid}/executions", None, {200}),
    ("POST", "/code-sessions/{sid}/submit", {"suite_id": "owned-suite"}, {202}),
    ("GET", "/code-sessions/{sid}/submissions", None, {200}),
    ("GET", "/executions/{eid}", None, {200}),
    ("POST", "/executions/{eid}/cancel", {}, {409}),
    ("POST", "/executions/{eid}/stdin", {"data": "x"}, {409}),
    ("GET", "/executions/{eid}?wait_ms=0", None, {200}),
    ("GET", "/executions/{eid}/events", None, {200}),
    ("GET", "/executions/{eid}/ws", None, {101}),
    ("GET", "/submissions/{subid}", None, {200}),
    ("GET", "/submissions/{subid}?wait_ms=0", None, {200}),
    ("GET", "/submissions/{subid}/events", None, {200}),
]


@pytest.fixture(scope="module")
def owned(hs_stack):
    """The owner's session, a finished execution and a judged submission of it."""
    me = bearer(hs256(sub=OWNER))
    grader = bearer(hs256(sub="grader-1", scope="grader"))
    status, _, body = hs_stack.request("PUT", "/test-suites/owned-suite", SUITE, headers=grader)
    assert status in (200, 201), body
    status, _, session = create(hs_stack, me)
    sid = session["session_id"]
    status, _, run = hs_stack.request("POST", f"/code-sessions/{sid}/run", {}, headers=me)
    eid = run["execution_id"]
    status, _, sub = hs_stack.request("POST", f"/code-sessions/{sid}/submit", {"suite_id": "owned-suite"},
                                      headers=me)
    assert status == 202, sub
    for path in (f"/executions/{eid}?wait_ms=20000", f"/submissions/{sub['submission_id']}?wait_ms=20000"):
        status, _, body = hs_stack.request("GET", path, headers=me)
        assert status == 200 and body["status"] not in ("QUEUED", "RUNNING"), body
    return {"sid": sid, "eid": eid, "subid": sub["submission_id"]}


def send(stack, method, path, body, headers):
    if path.endswith("/ws"):
        return raw_request_bytes(stack.port, request_bytes(method, path, WS_HEADERS + list(headers.items()),
                                                           connection="Upgrade, close"))
    return stack.request(method, path, body, headers=headers)


def unknown_reply(stack, method, path, body):
    """What the route answers an admin for an id that does not exist."""
    fake = path.format(sid=random_uuid(), eid=random_uuid(), subid=random_uuid())
    return send(stack, method, fake, body, bearer(hs256(sub="admin-1", scope="admin")))


@pytest.mark.parametrize("who", ["owner", "other", "admin", "none"])
@pytest.mark.parametrize("method,path,body,owner_statuses", OWNED_ROUTES,
                         ids=[f"{m} {p}" for m, p, _, _ in OWNED_ROUTES])
def test_ownership(hs_stack, owned, who, method, path, body, owner_statuses):
    headers = {"owner": bearer(hs256(sub=OWNER)), "other": bearer(hs256(sub=OTHER)),
               "admin": bearer(hs256(sub="admin-1", scope="admin")), "none": {}}[who]
    status, _, reply = send(hs_stack, method, path.format(**owned), body, headers)
    if who == "none":
        assert status == 401, reply
    elif who == "other":
        # Exactly what an unknown id gets: no existence oracle.
        assert (status, reply) == unknown_reply(hs_stack, method, path, body)[::2], reply
        assert status == 404 and reply["error"]["code"] == "NOT_FOUND", reply
    else:
        assert status in owner_statuses, (who, reply)


def test_a_grader_sees_no_learner_rows(hs_stack, owned):
    status, _, body = hs_stack.request("GET", f"/code-sessions/{owned['sid']}",
                                       headers=bearer(hs256(sub="grader-1", scope="grader")))
    assert (status, body["error"]["code"]) == (404, "NOT_FOUND")


def test_the_owner_is_stored_with_the_session(hs_stack, owned):
    assert hs_stack.store_rows(f"SELECT owner FROM sessions WHERE id = '{owned['sid']}'") == [(OWNER,)]


# ---- the events program checks the same tokens ---------------------------------

def events_paths(hs_stack):
    status, _, session = create(hs_stack, bearer(hs256()))
    sid = session["session_id"]
    status, _, run = hs_stack.request("POST", f"/code-sessions/{sid}/run", {},
                                      headers=bearer(hs256()))
    assert status == 202, run
    eid = run["execution_id"]
    return eid, [f"/executions/{eid}/events", f"/executions/{eid}?wait_ms=0", f"/executions/{eid}/ws"]


def test_the_events_program_refuses_a_missing_or_bad_token(hs_stack):
    _, paths = events_paths(hs_stack)
    for path in paths:
        for headers in ({}, bearer(hs256(exp=1)), bearer(hand_signed({"alg": "none"}, claims(), SECRET))):
            message = assert_401(hs_stack.request("GET", path, headers=headers))
            assert message.startswith("the token") or message.startswith("this request"), message
    assert_401(hs_stack.request("GET", f"/submissions/{random_uuid()}?wait_ms=0"))


def test_the_events_program_serves_a_valid_token(hs_stack):
    eid, _ = events_paths(hs_stack)
    status, _, body = hs_stack.request("GET", f"/executions/{eid}?wait_ms=10000", headers=bearer(hs256()))
    assert status == 200 and body["execution_id"] == eid, body


# ---- bad input in the header ----------------------------------------------------

def raw_request(port, lines):
    """Sends header lines as given (bytes allowed) and returns (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest("GET", "/languages")
    for name, value in lines:
        conn.putheader(name, value)
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, resp.headers, json.loads(body)


def test_two_authorization_headers_are_refused(hs_stack):
    token = hs256()
    status, headers, body = raw_request(hs_stack.port, [("Authorization", "Bearer " + token),
                                                       ("Authorization", "Bearer " + token)])
    assert (status, body["error"]["code"]) == (401, "UNAUTHORIZED"), body
    assert body["error"]["message"] == "the token is not a signed JWT (header.payload.signature in base64url)"


def test_a_non_ascii_token_is_refused(hs_stack):
    status, _, body = raw_request(hs_stack.port, [("Authorization", "Bearer ".encode() + "é.ü.ß".encode())])
    assert (status, body["error"]["code"]) == (401, "UNAUTHORIZED"), body


def test_an_oversized_token_is_refused_unparsed(hs_stack):
    status, _, body = raw_request(hs_stack.port, [("Authorization", "Bearer " + "A" * 5000 + ".a.b")])
    assert (status, body["error"]["message"]) == (401, "the token is longer than 4096 bytes"), body


# ---- README's recipes, run as written ---------------------------------------------

def readme_recipe(lang):
    section = (REPO / "README.md").read_text().split("### Minting a token on the platform\n", 1)[1]
    return section.split(f"```{lang}\n", 1)[1].split("```", 1)[0]


def test_readme_python_recipe_mints_an_accepted_token(hs_stack, tmp_path):
    code = readme_recipe("python").replace("/etc/code-exec/jwt.secret", str(secret_file(tmp_path)))
    scope = {}
    exec(code, scope)
    assert create(hs_stack, bearer(scope["token"]))[0] == 201


def test_readme_shell_recipe_creates_a_session(hs_stack, tmp_path):
    script = readme_recipe("sh").replace("/etc/code-exec/jwt.secret", str(secret_file(tmp_path))) \
        .replace("http://127.0.0.1:8000", f"http://127.0.0.1:{hs_stack.port}")
    out = subprocess.run(["sh", "-eu", "-c", script], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["status"] == "ACTIVE", out.stdout


# ---- RS256: the public key decides the algorithm ----------------------------------

@pytest.fixture(scope="module")
def rsa_stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("auth-rs")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp / "platform.pub").write_bytes(pem)
    conf = write_config(tmp, ["auth = token", f"auth_public_key_file = {tmp / 'platform.pub'}"])
    s = stack_with(conf)
    s.private_key, s.public_pem = key, pem
    yield s
    s.stop()
    s.cleanup()


def test_an_rs256_token_is_accepted(rsa_stack):
    token = jwt.encode(claims(), rsa_stack.private_key, algorithm="RS256")
    assert create(rsa_stack, bearer(token))[0] == 201


def test_hs256_signed_with_the_public_key_is_refused(rsa_stack):
    # The classic algorithm confusion: the public key (which anyone has) used as an HMAC secret.
    token = hand_signed({"alg": "HS256", "typ": "JWT"}, claims(), rsa_stack.public_pem)
    assert assert_401(create(rsa_stack, bearer(token))) == \
        "the token is not signed with the algorithm this server accepts"


def test_an_rs256_token_of_another_key_is_refused(rsa_stack):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(), other, algorithm="RS256")
    assert assert_401(create(rsa_stack, bearer(token))) == \
        "the token's signature does not verify, or the token is malformed"


# ---- behind Apache: the token reaches fcgi_app and the events program ------------

def test_apache_passes_the_token_on(tmp_path):
    import grp, pwd, tempfile
    from apache import ApacheStack, WEB_USER
    # The pool runs as the web server's user: it must reach the files.
    tmp = __import__("pathlib").Path(tempfile.mkdtemp(prefix="engine-auth-apache-"))
    tmp.chmod(0o755)
    secret = secret_file(tmp)
    os.chown(secret, pwd.getpwnam(WEB_USER).pw_uid, grp.getgrnam(WEB_USER).gr_gid)
    conf = write_config(tmp, ["auth = token", f"auth_hs256_secret_file = {secret}"])
    conf.chmod(0o644)
    s = ApacheStack()
    s.config = str(conf)
    try:
        s.start()
        assert_401(create(s, {}))
        status, _, session = create(s, bearer(hs256()))
        assert status == 201, session
        status, _, run = s.request("POST", f"/code-sessions/{session['session_id']}/run", {},
                                   headers=bearer(hs256()))
        assert status == 202, run
        path = f"/executions/{run['execution_id']}?wait_ms=10000"
        assert_401(s.request("GET", path))
        status, _, body = s.request("GET", path, headers=bearer(hs256()))
        assert (status, body["execution_id"]) == (200, run["execution_id"]), body
        s.stop()
    finally:
        s.cleanup()
        for f in tmp.iterdir():
            f.unlink()
        tmp.rmdir()


# ---- the configuration, checked at start ---------------------------------------

def start_fcgi(conf):
    env = {k: v for k, v in os.environ.items() if k not in ("PORT", "DATA_DIR")}
    env["ENGINE_CONFIG"] = str(conf)
    return subprocess.run([str(BUILD / "fcgi_app")], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=10)


def start_events(conf):
    return subprocess.run([str(BUILD / "events"), "--config", str(conf)], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=10)


def ed25519_pem(tmp):
    pem = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp / "ed.pub").write_bytes(pem)
    return tmp / "ed.pub"


@pytest.mark.parametrize("make_lines,key,reason", [
    (lambda t: ["auth = token"], None, "auth = token needs auth_hs256_secret_file or auth_public_key_file"),
    (lambda t: ["auth = token", f"auth_hs256_secret_file = {secret_file(t, mode=0o640)}"],
     "auth_hs256_secret_file", "readable or writable by group or others (chmod 600 it)"),
    (lambda t: ["auth = token", f"auth_hs256_secret_file = {secret_file(t, data=b'short')}"],
     "auth_hs256_secret_file", "shorter than 32 bytes"),
    (lambda t: ["auth = token", f"auth_hs256_secret_file = {t / 'missing'}"],
     "auth_hs256_secret_file", "No such file or directory"),
    (lambda t: ["auth = token", f"auth_public_key_file = {ed25519_pem(t)}"], "auth_public_key_file",
     "an Ed25519 key: Debian 12's libjwt (1.10) has no EdDSA; use RSA (RS256) or EC P-256 (ES256)"),
    (lambda t: ["auth = token", f"auth_public_key_file = {secret_file(t)}"], "auth_public_key_file",
     "not a PEM public key (-----BEGIN PUBLIC KEY-----)"),
], ids=["no-key", "secret-group-readable", "secret-short", "secret-missing", "ed25519", "not-pem"])
def test_a_bad_auth_configuration_stops_fcgi_app_and_events(tmp_path, make_lines, key, reason):
    lines = make_lines(tmp_path)
    conf = write_config(tmp_path, lines)
    text = conf.read_text().splitlines()
    line_no = text.index(lines[-1]) + 1
    value = lines[-1].split(" = ", 1)[1]
    want = f"{conf}:{line_no}: " + (f"{key} {value}: {reason}" if key else reason)
    for name, got in (("fcgi_app", start_fcgi(conf)), ("events", start_events(conf))):
        assert (got.returncode, got.stderr) == (1, f"{name}: {want}\n"), got
