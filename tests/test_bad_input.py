"""Every kind of broken request, through the real stack: each gets the
documented status and error code (and field), no fcgi_app process dies or
is replaced, and nothing is written to the store.

One table, one behaviour per row. Paths may name {sid} (a real session),
{eid} (a real execution) or {uuid} (an unknown, well-formed id).
"""

import os

import pytest

from http_raw import raw_request, request_bytes
from stack import REPO, assert_error, random_uuid

S = "/code-sessions/{sid}"
RUN = "/code-sessions/{sid}/run"
CHECK = "/code-sessions/{sid}/check"
LIST = "/code-sessions/{sid}/executions"
STDIN = "/executions/{eid}/stdin"
CANCEL = "/executions/{eid}/cancel"
SUITE = "/test-suites/bad-input-suite"
SUBMIT = "/code-sessions/{sid}/submit"
CASE_LIMIT = 65536


def suite(*cases, **top):
    return {"cases": list(cases) or [{"name": "a", "expected_stdout": "1\n"}], **top}


def put_suite(name, field, body=None, code="INVALID_FIELD", raw=None):
    return case(f"suite-{name}", "PUT", SUITE, 400, code, field, body=body, raw=raw)
SOURCE_LIMIT = 262144
STDIN_LIMIT = 65536


@pytest.fixture(scope="module", autouse=True)
def www_built():
    """lighttpd serves /docs, /openapi.json and its JSON error pages from here."""
    www = REPO / os.environ.get("BUILD", "build") / "www" / "openapi.json"
    assert www.exists(), f"{www} is missing: run make www (make api and make test do)"


def case(name, method, path, status, code, field=None, *, body=None, raw=None,
         ctype="application/json", wire=None):
    """body: sent as JSON; raw: bytes sent as is with Content-Type ctype
    (None: no Content-Type); wire: a whole request in bytes (raw socket)."""
    return pytest.param(dict(method=method, path=path, status=status, code=code, field=field,
                             body=body, raw=raw, ctype=ctype, wire=wire), id=name)


def create(raw, status=400, code="INVALID_JSON", field=None, name=None, **kw):
    return case(name, "POST", "/code-sessions", status, code, field, raw=raw, **kw)


CASES = [
    # ---- JSON syntax ---------------------------------------------------
    create(b'{"language": python}', name="bare-word-value"),
    create(b'{"language":"py', name="truncated-in-string"),
    create(b'{"language":"python"', name="truncated-before-brace"),
    create(b'', name="empty-body"),
    create(b'   \r\n', name="whitespace-only"),
    create(b'["python"]', name="top-level-array"),
    create(b'"python"', name="top-level-string"),
    create(b'42', name="top-level-number"),
    create(b'null', name="top-level-null"),
    create(b'{"language":"python"} x', name="trailing-garbage"),
    create(b'{"language":"python"}{}', name="two-documents"),
    create(b'{"language":"python",}', name="trailing-comma"),
    create(b"{'language':'python'}", name="single-quotes"),
    create(b'{"language":"python","template_code":NaN}', name="nan"),
    create(b'{"language":"python","template_code":"a\tb"}', name="raw-tab-in-string"),
    create(b'{"language":"python","template_code":"\\ud800"}', name="lone-surrogate-escape"),
    create(b'{"language":"python","template_code":"\\x41"}', name="invalid-escape"),
    create(b'\xef\xbb\xbf{"language":"python"}', name="byte-order-mark"),
    create(b'{"language":"python","template_code":"\xff\xfe"}', name="invalid-utf8"),
    create(b'{"language":"python","template_code":"\xc0\xaf"}', name="overlong-utf8"),
    create(b'{"language":"python","template_code":"\xed\xa0\x80"}', name="utf8-encoded-surrogate"),
    create(b'{"language":"python","template_code":"\xe2\x82"}', name="truncated-utf8-sequence"),
    create(b'{"a":' * 5000 + b'1' + b'}' * 5000, name="deep-nesting"),
    create(b'{"language":"python"}\x00', name="raw-nul-after-document"),
    create(b'{"language":"pyt\x00hon"}', name="raw-nul-in-string"),
    # ---- fields of POST /code-sessions ---------------------------------
    create(b'{"template_code":"x"}', code="MISSING_FIELD", field="language", name="missing-language"),
    create(b'{}', code="MISSING_FIELD", field="language", name="empty-object"),
    create(b'{"language":42}', code="INVALID_FIELD", field="language", name="language-number"),
    create(b'{"language":null}', code="INVALID_FIELD", field="language", name="language-null"),
    create(b'{"language":["python"]}', code="INVALID_FIELD", field="language", name="language-array"),
    create(b'{"language":{"name":"python"}}', code="INVALID_FIELD", field="language",
           name="language-object"),
    create(b'{"language":true}', code="INVALID_FIELD", field="language", name="language-bool"),
    create(b'{"language":"cobol"}', code="UNSUPPORTED_LANGUAGE", field="language", name="cobol"),
    create(b'{"language":"Python"}', code="UNSUPPORTED_LANGUAGE", field="language",
           name="language-wrong-case"),
    create(b'{"language":""}', code="UNSUPPORTED_LANGUAGE", field="language", name="language-empty"),
    create(b'{"language":"python\\u0000"}', code="INVALID_FIELD", field="language",
           name="language-with-nul"),
    create(b'{"language":"python","template_code":1}', code="INVALID_FIELD", field="template_code",
           name="template-number"),
    create(b'{"language":"python","template_code":"a\\u0000b"}', code="INVALID_FIELD",
           field="template_code", name="template-with-nul"),
    create(b'{"language":"python","template_code":"' + b'#' * (SOURCE_LIMIT + 1) + b'"}',
           code="INVALID_FIELD", field="template_code", name="template-over-limit"),
    create(b'{"language":"python","colour":"blue"}', code="UNKNOWN_FIELD", field="colour",
           name="unknown-field"),
    create(b'{"Language":"python"}', code="UNKNOWN_FIELD", field="Language", name="field-wrong-case"),
    create(b'{"language":"python","language":"python"}', code="DUPLICATE_FIELD", field="language",
           name="duplicate-field"),
    create(b'{"language":"cobol","lang\\u0075age":"python"}', code="DUPLICATE_FIELD",
           field="language", name="duplicate-field-via-escape"),
    # ---- media type and size -------------------------------------------
    create(b'{"language":"python"}', 415, "UNSUPPORTED_MEDIA_TYPE", ctype="text/plain",
           name="text-plain"),
    create(b'{"language":"python"}', 415, "UNSUPPORTED_MEDIA_TYPE", ctype=None,
           name="no-content-type"),
    create(b'{"language":"python"}', 415, "UNSUPPORTED_MEDIA_TYPE", ctype="application/jsonp",
           name="json-lookalike-type"),
    create(b'{"language":"python","template_code":"' + b'#' * (1 << 20) + b'"}', 413,
           "PAYLOAD_TOO_LARGE", name="body-over-1-mib"),
    case("body-over-lighttpd-limit", "POST", "/code-sessions", 413, "PAYLOAD_TOO_LARGE",
         wire=request_bytes("POST", "/code-sessions", [("Content-Type", "application/json"),
                                                      ("Content-Length", "3000000")])),
    case("post-without-content-length", "POST", "/code-sessions", 411, "LENGTH_REQUIRED",
         wire=request_bytes("POST", "/code-sessions", [("Content-Type", "application/json")])),
    # ---- PATCH /code-sessions/{id} -------------------------------------
    case("patch-missing-source", "PATCH", S, 400, "MISSING_FIELD", "source_code", body={}),
    case("patch-source-null", "PATCH", S, 400, "INVALID_FIELD", "source_code",
         body={"source_code": None}),
    case("patch-source-over-limit", "PATCH", S, 400, "INVALID_FIELD", "source_code",
         body={"source_code": "#" * (SOURCE_LIMIT + 1)}),
    case("patch-source-limit-is-bytes", "PATCH", S, 400, "INVALID_FIELD", "source_code",
         body={"source_code": "é" * (SOURCE_LIMIT // 2 + 1)}),
    case("patch-unknown-field", "PATCH", S, 400, "UNKNOWN_FIELD", "language",
         body={"source_code": "x", "language": "python"}),
    case("patch-duplicate-field", "PATCH", S, 400, "DUPLICATE_FIELD", "source_code",
         raw=b'{"source_code":"a","source_code":"b"}'),
    case("patch-empty-body", "PATCH", S, 400, "INVALID_JSON", raw=b""),
    case("patch-invalid-id", "PATCH", "/code-sessions/nope", 400, "INVALID_ID", "id",
         body={"source_code": "x"}),
    case("patch-unknown-id", "PATCH", "/code-sessions/{uuid}", 404, "NOT_FOUND",
         body={"source_code": "x"}),
    case("patch-text-plain", "PATCH", S, 415, "UNSUPPORTED_MEDIA_TYPE",
         raw=b'{"source_code":"x"}', ctype="text/plain"),
    # ---- POST /code-sessions/{id}/run ----------------------------------
    case("run-stdin-number", "POST", RUN, 400, "INVALID_FIELD", "stdin", body={"stdin": 5}),
    case("run-stdin-over-limit", "POST", RUN, 400, "INVALID_FIELD", "stdin",
         body={"stdin": "x" * (STDIN_LIMIT + 1)}),
    case("run-stdin-with-nul", "POST", RUN, 400, "INVALID_FIELD", "stdin", body={"stdin": "a\0b"}),
    case("run-unknown-field", "POST", RUN, 400, "UNKNOWN_FIELD", "timeout", body={"timeout": 1}),
    case("run-malformed", "POST", RUN, 400, "INVALID_JSON", raw=b'{"stdin":'),
    case("run-top-level-array", "POST", RUN, 400, "INVALID_JSON", raw=b'[]'),
    case("run-text-plain", "POST", RUN, 415, "UNSUPPORTED_MEDIA_TYPE", raw=b'{}', ctype="text/plain"),
    case("run-unknown-session", "POST", "/code-sessions/{uuid}/run", 404, "NOT_FOUND", body={}),
    # ---- POST /code-sessions/{id}/check, GET /languages -----------------
    case("check-any-field", "POST", CHECK, 400, "UNKNOWN_FIELD", "stdin", body={"stdin": ""}),
    case("check-malformed", "POST", CHECK, 400, "INVALID_JSON", raw=b'{"'),
    case("check-top-level-array", "POST", CHECK, 400, "INVALID_JSON", raw=b'[]'),
    case("check-text-plain", "POST", CHECK, 415, "UNSUPPORTED_MEDIA_TYPE", raw=b'{}', ctype="text/plain"),
    case("check-unknown-session", "POST", "/code-sessions/{uuid}/check", 404, "NOT_FOUND", body={}),
    case("check-invalid-id", "POST", "/code-sessions/1234/check", 400, "INVALID_ID", "id", body={}),
    case("get-check", "GET", CHECK, 405, "METHOD_NOT_ALLOWED"),
    case("post-languages", "POST", "/languages", 405, "METHOD_NOT_ALLOWED", body={}),
    case("languages-with-id", "GET", "/languages/python", 404, "NOT_FOUND"),
    create(b'{"language":"c++"}', code="UNSUPPORTED_LANGUAGE", field="language", name="language-alias"),
    create(b'{"language":" c"}', code="UNSUPPORTED_LANGUAGE", field="language", name="language-padded"),
    case("run-invalid-id", "POST", "/code-sessions/1234/run", 400, "INVALID_ID", "id", body={}),
    case("run-interactive-string", "POST", RUN, 400, "INVALID_FIELD", "interactive",
         body={"interactive": "true"}),
    case("run-interactive-number", "POST", RUN, 400, "INVALID_FIELD", "interactive", body={"interactive": 1}),
    case("run-interactive-null", "POST", RUN, 400, "INVALID_FIELD", "interactive", body={"interactive": None}),
    case("run-interactive-twice", "POST", RUN, 400, "DUPLICATE_FIELD", "interactive",
         raw=b'{"interactive":true,"interactive":false}'),
    # ---- POST /executions/{id}/stdin ({eid} has finished) ---------------
    case("stdin-empty-object", "POST", STDIN, 400, "MISSING_FIELD", "data", body={}),
    case("stdin-empty-body", "POST", STDIN, 400, "INVALID_JSON", raw=b""),
    case("stdin-data-number", "POST", STDIN, 400, "INVALID_FIELD", "data", body={"data": 5}),
    case("stdin-data-null", "POST", STDIN, 400, "INVALID_FIELD", "data", body={"data": None}),
    case("stdin-data-array", "POST", STDIN, 400, "INVALID_FIELD", "data", body={"data": ["x"]}),
    case("stdin-data-over-limit", "POST", STDIN, 400, "INVALID_FIELD", "data",
         body={"data": "x" * (STDIN_LIMIT + 1)}),
    case("stdin-data-over-limit-in-utf8-bytes", "POST", STDIN, 400, "INVALID_FIELD", "data",
         body={"data": "é" * (STDIN_LIMIT // 2 + 1)}),
    case("stdin-data-with-nul", "POST", STDIN, 400, "INVALID_FIELD", "data", body={"data": "a\0b"}),
    case("stdin-eof-string", "POST", STDIN, 400, "INVALID_FIELD", "eof", body={"eof": "true"}),
    case("stdin-eof-number", "POST", STDIN, 400, "INVALID_FIELD", "eof", body={"eof": 1}),
    case("stdin-eof-null", "POST", STDIN, 400, "INVALID_FIELD", "eof", body={"eof": None}),
    case("stdin-unknown-field", "POST", STDIN, 400, "UNKNOWN_FIELD", "stdin", body={"stdin": "x"}),
    case("stdin-duplicate-field", "POST", STDIN, 400, "DUPLICATE_FIELD", "data",
         raw=b'{"data":"a","data":"b"}'),
    case("stdin-malformed", "POST", STDIN, 400, "INVALID_JSON", raw=b'{"data":'),
    case("stdin-top-level-string", "POST", STDIN, 400, "INVALID_JSON", raw=b'"Ada"'),
    case("stdin-text-plain", "POST", STDIN, 415, "UNSUPPORTED_MEDIA_TYPE", raw=b'{"data":"x"}',
         ctype="text/plain"),
    case("stdin-invalid-id", "POST", "/executions/nope/stdin", 400, "INVALID_ID", "id", body={"data": "x"}),
    case("stdin-unknown-execution", "POST", "/executions/{uuid}/stdin", 404, "NOT_FOUND", body={"data": "x"}),
    case("stdin-session-id", "POST", "/executions/{sid}/stdin", 404, "NOT_FOUND", body={"data": "x"}),
    case("stdin-finished-execution", "POST", STDIN, 409, "NOT_RUNNING", body={"data": "x"}),
    case("stdin-eof-of-finished-execution", "POST", STDIN, 409, "NOT_RUNNING", body={"eof": True}),
    case("get-stdin", "GET", STDIN, 405, "METHOD_NOT_ALLOWED"),
    # ---- POST /executions/{id}/cancel ({eid} has finished) --------------
    case("cancel-any-field", "POST", CANCEL, 400, "UNKNOWN_FIELD", "force", body={"force": True}),
    case("cancel-malformed", "POST", CANCEL, 400, "INVALID_JSON", raw=b'{'),
    case("cancel-top-level-array", "POST", CANCEL, 400, "INVALID_JSON", raw=b'[]'),
    case("cancel-text-plain", "POST", CANCEL, 415, "UNSUPPORTED_MEDIA_TYPE", raw=b'{}', ctype="text/plain"),
    case("cancel-invalid-id", "POST", "/executions/1234/cancel", 400, "INVALID_ID", "id", body={}),
    case("cancel-unknown-execution", "POST", "/executions/{uuid}/cancel", 404, "NOT_FOUND", body={}),
    case("cancel-finished-execution", "POST", CANCEL, 409, "NOT_RUNNING", body={}),
    case("get-cancel", "GET", CANCEL, 405, "METHOD_NOT_ALLOWED"),
    case("delete-execution", "DELETE", "/executions/{eid}", 405, "METHOD_NOT_ALLOWED"),
    # ---- PUT /test-suites/{id} ------------------------------------------
    put_suite("missing-cases", "cases", {"compare": "exact"}, code="MISSING_FIELD"),
    put_suite("empty-object", "cases", {}, code="MISSING_FIELD"),
    put_suite("cases-object", "cases", {"cases": {"a": 1}}),
    put_suite("cases-null", "cases", {"cases": None}),
    put_suite("no-cases", "cases", {"cases": []}),
    put_suite("too-many-cases", "cases",
              {"cases": [{"name": f"c{i}", "expected_stdout": ""} for i in range(101)]}),
    put_suite("case-string", "cases[0]", {"cases": ["x"]}),
    put_suite("case-missing-name", "cases[0].name", {"cases": [{"expected_stdout": ""}]},
              code="MISSING_FIELD"),
    put_suite("case-missing-expected", "cases[0].expected_stdout", {"cases": [{"name": "a"}]},
              code="MISSING_FIELD"),
    put_suite("case-empty-name", "cases[0].name", suite({"name": "", "expected_stdout": ""})),
    put_suite("case-name-number", "cases[0].name", suite({"name": 1, "expected_stdout": ""})),
    put_suite("case-name-too-long", "cases[0].name", suite({"name": "n" * 129, "expected_stdout": ""})),
    put_suite("case-stdin-over-limit", "cases[1].stdin",
              suite({"name": "a", "expected_stdout": ""},
                    {"name": "b", "stdin": "x" * (CASE_LIMIT + 1), "expected_stdout": ""})),
    put_suite("case-expected-over-limit", "cases[0].expected_stdout",
              suite({"name": "a", "expected_stdout": "x" * (CASE_LIMIT + 1)})),
    put_suite("case-stdin-with-nul", "cases[0].stdin",
              suite({"name": "a", "stdin": "a\0b", "expected_stdout": ""})),
    put_suite("case-expected-null", "cases[0].expected_stdout", suite({"name": "a", "expected_stdout": None})),
    put_suite("case-hidden-string", "cases[0].hidden",
              suite({"name": "a", "expected_stdout": "", "hidden": "yes"})),
    put_suite("case-time-limit-too-small", "cases[0].time_limit_ms",
              suite({"name": "a", "expected_stdout": "", "time_limit_ms": 99})),
    put_suite("case-time-limit-over-max", "cases[0].time_limit_ms",
              suite({"name": "a", "expected_stdout": "", "time_limit_ms": 10001})),
    put_suite("case-time-limit-fraction", "cases[0].time_limit_ms",
              suite({"name": "a", "expected_stdout": "", "time_limit_ms": 500.5})),
    put_suite("case-time-limit-string", "cases[0].time_limit_ms",
              suite({"name": "a", "expected_stdout": "", "time_limit_ms": "500"})),
    put_suite("case-unknown-field", "cases[0].points",
              suite({"name": "a", "expected_stdout": "", "points": 3}), code="UNKNOWN_FIELD"),
    put_suite("case-duplicate-names", "cases[1].name",
              suite({"name": "a", "expected_stdout": ""}, {"name": "a", "expected_stdout": ""})),
    put_suite("unknown-field", "language", suite(language="python"), code="UNKNOWN_FIELD"),
    put_suite("duplicate-cases", "cases", code="DUPLICATE_FIELD",
              raw=b'{"cases":[{"name":"a","expected_stdout":""}],"cases":[]}'),
    put_suite("case-duplicate-member", "cases[1].expected_stdout", code="DUPLICATE_FIELD",
              raw=b'{"cases":[{"name":"a","expected_stdout":""},'
                  b'{"name":"b","expected_stdout":"1","expected_stdout":"2"}]}'),
    put_suite("case-duplicate-member-via-escape", "cases[0].hidden", code="DUPLICATE_FIELD",
              raw=b'{"cases":[{"name":"a","expected_stdout":"","hidden":true,"hi\\u0064den":false}]}'),
    put_suite("compare-duplicate-member", "compare.float_tolerance", code="DUPLICATE_FIELD",
              raw=b'{"cases":[{"name":"a","expected_stdout":""}],'
                  b'"compare":{"float_tolerance":0.5,"float_tolerance":-1}}'),
    put_suite("compare-unknown", "compare", suite(compare="fuzzy")),
    put_suite("compare-number", "compare", suite(compare=1)),
    put_suite("compare-null", "compare", suite(compare=None)),
    put_suite("compare-negative-tolerance", "compare", suite(compare={"float_tolerance": -1})),
    put_suite("compare-string-tolerance", "compare", suite(compare={"float_tolerance": "0.1"})),
    put_suite("compare-extra-member", "compare", suite(compare={"float_tolerance": 0.1, "abs": True})),
    put_suite("compare-empty-object", "compare", suite(compare={})),
    put_suite("malformed", None, code="INVALID_JSON", raw=b'{"cases":['),
    put_suite("top-level-array", None, code="INVALID_JSON", raw=b'[]'),
    put_suite("empty-body", None, code="INVALID_JSON", raw=b''),
    case("suite-text-plain", "PUT", SUITE, 415, "UNSUPPORTED_MEDIA_TYPE", raw=b'{}', ctype="text/plain"),
    case("suite-over-max-body", "PUT", SUITE, 413, "PAYLOAD_TOO_LARGE", raw=b" " * (1 << 20) + b"{}"),
    case("suite-id-bad-character", "PUT", "/test-suites/bad!id", 400, "INVALID_ID", "id", body=suite()),
    case("suite-id-65-characters", "PUT", "/test-suites/" + "a" * 65, 400, "INVALID_ID", "id", body=suite()),
    case("suite-id-space", "GET", "/test-suites/a%20b", 400, "INVALID_ID", "id"),
    case("suite-id-sql", "GET", "/test-suites/'%20OR%201=1--", 400, "INVALID_ID", "id"),
    case("suite-unknown-get", "GET", "/test-suites/no-such-suite", 404, "NOT_FOUND"),
    case("suite-unknown-delete", "DELETE", "/test-suites/no-such-suite", 404, "NOT_FOUND"),
    case("suite-post", "POST", SUITE, 405, "METHOD_NOT_ALLOWED", body={}),
    case("suite-patch", "PATCH", SUITE, 405, "METHOD_NOT_ALLOWED", body={}),
    case("suites-collection", "GET", "/test-suites", 404, "NOT_FOUND"),
    # ---- POST /code-sessions/{id}/submit, GET /submissions/{id}, a session's list ----
    case("submit-missing-suite", "POST", SUBMIT, 400, "MISSING_FIELD", "suite_id", body={}),
    case("submit-empty-body", "POST", SUBMIT, 400, "INVALID_JSON", raw=b""),
    case("submit-suite-number", "POST", SUBMIT, 400, "INVALID_FIELD", "suite_id", body={"suite_id": 1}),
    case("submit-suite-not-a-slug", "POST", SUBMIT, 400, "INVALID_FIELD", "suite_id", body={"suite_id": "a b"}),
    case("submit-suite-empty", "POST", SUBMIT, 400, "INVALID_FIELD", "suite_id", body={"suite_id": ""}),
    case("submit-suite-65", "POST", SUBMIT, 400, "INVALID_FIELD", "suite_id", body={"suite_id": "a" * 65}),
    case("submit-stop-string", "POST", SUBMIT, 400, "INVALID_FIELD", "stop_on_first_failure",
         body={"suite_id": "x", "stop_on_first_failure": "yes"}),
    case("submit-unknown-field", "POST", SUBMIT, 400, "UNKNOWN_FIELD", "stdin", body={"suite_id": "x", "stdin": ""}),
    case("submit-duplicate-field", "POST", SUBMIT, 400, "DUPLICATE_FIELD", "suite_id",
         raw=b'{"suite_id":"a","suite_id":"b"}'),
    case("submit-text-plain", "POST", SUBMIT, 415, "UNSUPPORTED_MEDIA_TYPE", raw=b'{}', ctype="text/plain"),
    case("submit-unknown-suite", "POST", SUBMIT, 404, "NOT_FOUND", "suite_id", body={"suite_id": "no-such-suite"}),
    case("submit-unknown-session", "POST", "/code-sessions/{uuid}/submit", 404, "NOT_FOUND", body={"suite_id": "x"}),
    case("submit-invalid-id", "POST", "/code-sessions/nope/submit", 400, "INVALID_ID", "id", body={"suite_id": "x"}),
    case("get-submit", "GET", SUBMIT, 405, "METHOD_NOT_ALLOWED"),
    case("submission-invalid-id", "GET", "/submissions/nope", 400, "INVALID_ID", "id"),
    case("submission-unknown", "GET", "/submissions/{uuid}", 404, "NOT_FOUND"),
    case("submission-execution-id", "GET", "/submissions/{eid}", 404, "NOT_FOUND"),
    case("submission-delete", "DELETE", "/submissions/{uuid}", 405, "METHOD_NOT_ALLOWED"),
    case("submissions-limit-zero", "GET", "/code-sessions/{sid}/submissions?limit=0", 400, "INVALID_QUERY", "limit"),
    case("submissions-cursor-bad", "GET", "/code-sessions/{sid}/submissions?cursor=x", 400, "INVALID_QUERY", "cursor"),
    case("submissions-unknown-session", "GET", "/code-sessions/{uuid}/submissions", 404, "NOT_FOUND"),
    # ---- ids and paths -------------------------------------------------
    case("session-id-not-uuid", "GET", "/code-sessions/not-a-uuid", 400, "INVALID_ID", "id"),
    case("session-id-without-dashes", "GET", "/code-sessions/" + "a" * 32, 400, "INVALID_ID", "id"),
    case("session-id-too-long", "GET", "/code-sessions/{uuid}0", 400, "INVALID_ID", "id"),
    case("session-id-percent-encoded", "GET", "/code-sessions/%35b0c0f6e-1a2b-4c3d-8e9f-0123456789ab",
         400, "INVALID_ID", "id"),
    case("session-id-sql", "GET", "/code-sessions/'%20OR%201=1--", 400, "INVALID_ID", "id"),
    case("session-unknown", "GET", "/code-sessions/{uuid}", 404, "NOT_FOUND"),
    case("execution-id-not-uuid", "GET", "/executions/xyz", 400, "INVALID_ID", "id"),
    case("execution-unknown", "GET", "/executions/{uuid}", 404, "NOT_FOUND"),
    case("session-id-as-execution-id", "GET", "/executions/{sid}", 404, "NOT_FOUND"),
    case("list-unknown-session", "GET", "/code-sessions/{uuid}/executions", 404, "NOT_FOUND"),
    case("list-invalid-id", "GET", "/code-sessions/bad/executions", 400, "INVALID_ID", "id"),
    case("unknown-path", "GET", "/no/such/path", 404, "NOT_FOUND"),
    case("extra-segment", "GET", RUN + "/extra", 404, "NOT_FOUND"),
    case("empty-id-segment", "POST", "/code-sessions//run", 404, "NOT_FOUND", body={}),
    case("very-long-path", "GET", "/code-sessions/" + "a" * 3000, 404, "NOT_FOUND"),
    case("nul-in-path", "GET", "/code-sessions/%00", 400, "BAD_REQUEST",
         wire=request_bytes("GET", "/code-sessions/%00")),
    # ---- query parameters ----------------------------------------------
    case("limit-zero", "GET", LIST + "?limit=0", 400, "INVALID_QUERY", "limit"),
    case("limit-over-max", "GET", LIST + "?limit=101", 400, "INVALID_QUERY", "limit"),
    case("limit-not-a-number", "GET", LIST + "?limit=ten", 400, "INVALID_QUERY", "limit"),
    case("limit-negative", "GET", LIST + "?limit=-5", 400, "INVALID_QUERY", "limit"),
    case("limit-empty", "GET", LIST + "?limit=", 400, "INVALID_QUERY", "limit"),
    case("limit-twice", "GET", LIST + "?limit=5&limit=6", 400, "INVALID_QUERY", "limit"),
    case("limit-encoded-nul", "GET", LIST + "?limit=%00", 400, "BAD_REQUEST"),  # lighttpd's
    case("limit-encoded-digits-and-junk", "GET", LIST + "?limit=%31x", 400, "INVALID_QUERY", "limit"),
    case("cursor-zero", "GET", LIST + "?cursor=0", 400, "INVALID_QUERY", "cursor"),
    case("cursor-not-a-number", "GET", LIST + "?cursor=abc", 400, "INVALID_QUERY", "cursor"),
    case("cursor-overflow", "GET", LIST + "?cursor=99999999999999999999", 400, "INVALID_QUERY",
         "cursor"),
    # ---- methods and HTTP itself ---------------------------------------
    case("delete-session", "DELETE", S, 405, "METHOD_NOT_ALLOWED"),
    case("put-sessions", "PUT", "/code-sessions", 405, "METHOD_NOT_ALLOWED", body={}),
    case("get-run", "GET", RUN, 405, "METHOD_NOT_ALLOWED"),
    case("post-execution", "POST", "/executions/{eid}", 405, "METHOD_NOT_ALLOWED", body={}),
    case("post-health", "POST", "/health", 405, "METHOD_NOT_ALLOWED", body={}),
    case("patch-openapi", "PATCH", "/openapi.json", 405, "METHOD_NOT_ALLOWED", body={}),
    case("delete-docs", "DELETE", "/docs", 405, "METHOD_NOT_ALLOWED"),
    case("unknown-method", "FOO", "/health", 501, "NOT_IMPLEMENTED"),
    case("get-with-body", "GET", "/health", 400, "BAD_REQUEST",
         wire=request_bytes("GET", "/health", [("Content-Length", "2")], b"{}")),
    case("garbage-request-line", "GET", "/", 400, "BAD_REQUEST", wire=b"GARBAGE\r\n\r\n"),
    case("http-version-9", "GET", "/health", 505, "HTTP_VERSION_NOT_SUPPORTED",
         wire=request_bytes("GET", "/health", version="HTTP/9.9")),
    case("headers-too-large", "GET", "/health", 431, "HEADERS_TOO_LARGE",
         wire=request_bytes("GET", "/health", [("X-Big", "a" * 70000)])),
] + [
    # The live endpoints (the events program): long-poll, event stream, WebSocket.
    *(case(f"wait-ms-{name}", "GET", "/executions/{eid}?wait_ms" + q, 400, "INVALID_QUERY", "wait_ms")
      for name, q in [("negative", "=-1"), ("over-30000", "=30001"), ("not-a-number", "=abc"),
                      ("empty", "="), ("fraction", "=1.5"), ("no-value", ""), ("huge", "=99999999999"),
                      ("twice", "=1&wait_ms=2"), ("plus-sign", "=%2B5")]),
    case("wait-ms-bad-id", "GET", "/executions/not-a-uuid?wait_ms=10", 400, "INVALID_ID", "id"),
    case("wait-ms-unknown-id", "GET", "/executions/{uuid}?wait_ms=10", 404, "NOT_FOUND"),
    case("events-bad-id", "GET", "/executions/not-a-uuid/events", 400, "INVALID_ID", "id"),
    case("events-unknown-id", "GET", "/executions/{uuid}/events", 404, "NOT_FOUND"),
    case("events-post", "POST", "/executions/{eid}/events", 405, "METHOD_NOT_ALLOWED", body={}),
    # A submission's long-poll and event stream (wait_ms is checked before the id is looked up).
    *(case(f"submission-wait-ms-{name}", "GET", "/submissions/{uuid}?wait_ms" + q, 400, "INVALID_QUERY",
           "wait_ms")
      for name, q in [("negative", "=-1"), ("over-30000", "=30001"), ("not-a-number", "=abc"),
                      ("no-value", ""), ("twice", "=1&wait_ms=2")]),
    case("submission-wait-ms-bad-id", "GET", "/submissions/not-a-uuid?wait_ms=10", 400, "INVALID_ID", "id"),
    case("submission-wait-ms-unknown-id", "GET", "/submissions/{uuid}?wait_ms=10", 404, "NOT_FOUND"),
    case("submission-wait-ms-execution-id", "GET", "/submissions/{eid}?wait_ms=10", 404, "NOT_FOUND"),
    case("submission-events-bad-id", "GET", "/submissions/not-a-uuid/events", 400, "INVALID_ID", "id"),
    case("submission-events-unknown-id", "GET", "/submissions/{uuid}/events", 404, "NOT_FOUND"),
    case("submission-events-execution-id", "GET", "/submissions/{eid}/events", 404, "NOT_FOUND"),
    case("submission-events-post", "POST", "/submissions/{uuid}/events", 405, "METHOD_NOT_ALLOWED", body={}),
    case("ws-bad-id", "GET", "/executions/not-a-uuid/ws", 400, "INVALID_ID", "id"),
    case("ws-unknown-id", "GET", "/executions/{uuid}/ws", 404, "NOT_FOUND"),
    case("ws-no-upgrade", "GET", "/executions/{eid}/ws", 400, "INVALID_HEADER", "Upgrade"),
    case("ws-delete", "DELETE", "/executions/{eid}/ws", 405, "METHOD_NOT_ALLOWED"),
]


# ---- what must not change ------------------------------------------------

def fcgi_pids(data_dir):
    """Pids of the fcgi_app processes of this stack (DATA_DIR in their environment)."""
    needle = b"DATA_DIR=" + data_dir.encode() + b"\0"
    found = set()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                argv0 = f.read().split(b"\0")[0]
            if not argv0.endswith(b"/fcgi_app"):
                continue
            with open(f"/proc/{d}/environ", "rb") as f:
                if needle in f.read() + b"\0":
                    found.add(int(d))
        except OSError:
            continue
    return found


def store_state(stack):
    """Rows and the last write time of sessions; rows, cancels and sent input
    of executions; suites and submissions (one query: one psql on PostgreSQL)."""
    return stack.store_rows(
        "SELECT (SELECT count(*) FROM sessions), (SELECT max(updated_at) FROM sessions), "
        "(SELECT count(*) FROM executions), (SELECT sum(cancel_requested) FROM executions), "
        "(SELECT max(finished_at) FROM executions), (SELECT count(*) FROM execution_stdin), "
        "(SELECT count(*) FROM test_suites), (SELECT max(version) FROM test_suites), "
        "(SELECT count(*) FROM submissions)")[0]


@pytest.fixture(scope="module")
def ids(stack):
    session = stack.create_session("print('hello')\n")
    eid = stack.run_ok(session["session_id"])
    stack.wait_terminal(eid)
    return {"sid": session["session_id"], "eid": eid}


@pytest.fixture(scope="module")
def baseline(stack, ids):
    pids = fcgi_pids(stack.data_dir)
    assert pids, "no fcgi_app process found for this stack"
    return pids


def send(stack, c, ids):
    path = c["path"].format(uuid=random_uuid(), **ids)
    if c["wire"] is not None:
        return raw_request(stack.port, c["wire"])
    headers = {"Content-Type": c["ctype"]}
    if c["body"] is not None:
        return stack.request(c["method"], path, body=c["body"], headers=headers)
    return stack.request(c["method"], path, raw=c["raw"], headers=headers)


def assert_wire_error(resp, status, code):
    got, headers, body = resp
    assert got == status, (got, body)
    assert headers.get("content-type", "").split(";")[0] == "application/json", headers
    assert isinstance(body, dict) and set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert body["error"]["field"] is None, body


def test_there_are_at_least_60_cases():
    assert len(CASES) >= 60


@pytest.mark.parametrize("c", CASES)
def test_bad_request_is_refused_cleanly(stack, ids, baseline, c):
    before = store_state(stack)
    resp = send(stack, c, ids)
    if c["wire"] is not None:
        assert_wire_error(resp, c["status"], c["code"])
    else:
        assert_error(resp, c["status"], c["code"], c["field"])
    if c["status"] == 405:
        assert resp[1].get("Allow"), "405 without Allow"
    assert store_state(stack) == before, "a refused request wrote to the store"
    assert fcgi_pids(stack.data_dir) == baseline, "an fcgi_app process died or was replaced"


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "1e3", "99999999999999999999", "0x10"])
def test_bad_last_event_id_is_invalid_header(stack, ids, value):
    resp = stack.request("GET", f"/executions/{ids['eid']}/events", headers={"Last-Event-ID": value})
    assert_error(resp, 400, "INVALID_HEADER", "Last-Event-ID")


def test_websocket_without_a_key_is_invalid_header(stack, ids):
    resp = raw_request(stack.port, request_bytes("GET", f"/executions/{ids['eid']}/ws", [
        ("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13")], connection="Upgrade, close"))
    assert resp[0] == 400 and resp[2]["error"]["code"] == "INVALID_HEADER", resp


def test_head_on_an_api_path_is_405_with_allow(stack, ids, baseline):
    status, headers, body = stack.request("HEAD", f"/code-sessions/{ids['sid']}")
    assert status == 405
    assert headers.get("Allow") == "GET, PATCH"
    assert fcgi_pids(stack.data_dir) == baseline


def test_upper_case_id_names_the_same_session(stack, ids):
    status, _, body = stack.request("GET", f"/code-sessions/{ids['sid'].upper()}")
    assert status == 200, body
    assert body["session_id"] == ids["sid"]


def test_trailing_slash_is_ignored(stack, ids):
    status, _, body = stack.request("GET", f"/code-sessions/{ids['sid']}/")
    assert status == 200, body


def test_percent_encoded_query_value_is_decoded(stack, ids):
    status, _, body = stack.request("GET", f"/code-sessions/{ids['sid']}/executions?limit=%31")
    assert status == 200, body
    assert len(body["executions"]) == 1


def test_unknown_query_parameters_are_ignored(stack, ids):
    status, _, body = stack.request("GET", "/health?verbose=1&limit=0")
    assert status == 200, body


def test_empty_run_body_needs_no_content_type(stack, ids, baseline):
    status, _, body = stack.request("POST", f"/code-sessions/{ids['sid']}/run", raw=b"",
                                    headers={"Content-Type": None})
    assert status == 202, body
    stack.wait_terminal(body["execution_id"])


AUTHORIZATION_JUNK = [
    [("Authorization", "Bearer " + "A" * 6000)],          # past the 4096 a token may have
    [("Authorization", "Bearer \u00e9t\u00e9.\u00fc.\u00df")],
    [("Authorization", "Bearer a.b.c"), ("Authorization", "Basic eDp5")],
    [("Authorization", "")],
]


@pytest.mark.parametrize("headers", AUTHORIZATION_JUNK, ids=["oversized", "non-ascii", "duplicated", "empty"])
def test_authorization_junk_is_ignored_without_auth(stack, ids, baseline, headers):
    """auth = none (this stack): a header no one asked for changes nothing, in
    fcgi_app and in the events program (tests/test_auth.py: the same with auth = token)."""
    for path in (f"/code-sessions/{ids['sid']}", f"/executions/{ids['eid']}?wait_ms=0"):
        status, _, body = raw_request(stack.port, request_bytes("GET", path, headers))
        assert status == 200, (path, body)
    assert fcgi_pids(stack.data_dir) == baseline


def test_pool_survived_every_case(stack, baseline):
    assert fcgi_pids(stack.data_dir) == baseline
    status, _, body = stack.request("GET", "/health")
    assert status == 200, body
