"""Sessions, request validation and /health against the real stack."""

import concurrent.futures
import time

from stack import (REPO, SESSION_KEYS, UUID_RE, assert_error, assert_recent, is_int,
                   parse_ts, random_uuid)

CODE = 'print("hello")\n'
UNICODE_CODE = ('# héllo wörld ✓ 日本語 🎉 𝔘\n'
                'print("Grüße, \\"quoted\\" \\\\ back\\tslash — ∑ 🐍")\r\n\tpass\n')


def post_session(stack, body=None, raw=None, headers=None):
    return stack.request("POST", "/code-sessions", body=body, raw=raw, headers=headers)


# ---- sessions ------------------------------------------------------------

def test_create_session_returns_201_with_all_fields(stack):
    status, headers, body = post_session(stack, {"language": "python", "template_code": CODE})
    assert status == 201, body
    assert set(body) == SESSION_KEYS
    assert body["entry"] == "main.py" and body["files"] == [{"path": "main.py", "content": CODE}]
    assert UUID_RE.match(body["session_id"])
    assert body["language"] == "python"
    assert body["source_code"] == CODE
    assert body["status"] == "ACTIVE"
    assert_recent(body["created_at"])
    assert_recent(body["updated_at"])
    assert parse_ts(body["updated_at"]) >= parse_ts(body["created_at"])


def test_create_session_sets_location_header(stack):
    status, headers, body = post_session(stack, {"language": "python", "template_code": CODE})
    assert status == 201, body
    assert headers.get("Location") == f"/code-sessions/{body['session_id']}"


def test_responses_are_application_json(stack):
    status, headers, body = post_session(stack, {"language": "python"})
    assert status == 201, body
    assert headers.get("Content-Type", "").split(";")[0].strip() == "application/json"


def test_create_session_without_template_has_empty_source(stack):
    status, _, body = post_session(stack, {"language": "python"})
    assert status == 201, body
    assert body["source_code"] == ""


def test_create_session_accepts_json_with_charset(stack):
    status, _, body = post_session(stack, {"language": "python", "template_code": "x = 1"},
                                   headers={"Content-Type": "application/json; charset=utf-8"})
    assert status == 201, body
    assert body["source_code"] == "x = 1"


def test_get_session_returns_created_session(stack):
    created = stack.create_session(CODE)
    status, _, body = stack.request("GET", f"/code-sessions/{created['session_id']}")
    assert status == 200, body
    assert body == created


def test_patch_updates_source_code(stack):
    created = stack.create_session(CODE)
    sid = created["session_id"]
    time.sleep(0.02)
    status, _, body = stack.request("PATCH", f"/code-sessions/{sid}", {"source_code": "print(2)"})
    assert status == 200, body
    assert set(body) == SESSION_KEYS
    assert body["session_id"] == sid
    assert body["source_code"] == "print(2)"
    assert body["status"] == "ACTIVE"
    assert body["language"] == "python"
    assert body["created_at"] == created["created_at"]
    assert parse_ts(body["updated_at"]) >= parse_ts(body["created_at"])


def test_patch_advances_updated_at(stack):
    created = stack.create_session(CODE)
    time.sleep(0.02)
    updated = stack.patch_code(created["session_id"], "print(2)")
    assert parse_ts(updated["updated_at"]) > parse_ts(created["updated_at"])


def test_get_after_patch_returns_new_code(stack):
    sid = stack.create_session(CODE)["session_id"]
    patched = stack.patch_code(sid, "print('new')\n")
    status, _, body = stack.request("GET", f"/code-sessions/{sid}")
    assert status == 200, body
    assert body == patched
    assert body["source_code"] == "print('new')\n"


def test_unicode_source_round_trips(stack):
    created = stack.create_session(UNICODE_CODE)
    assert created["source_code"] == UNICODE_CODE
    sid = created["session_id"]
    assert stack.request("GET", f"/code-sessions/{sid}")[2]["source_code"] == UNICODE_CODE
    other = UNICODE_CODE[::-1]
    assert stack.patch_code(sid, other)["source_code"] == other
    assert stack.request("GET", f"/code-sessions/{sid}")[2]["source_code"] == other


def test_source_of_exactly_256_kib_is_accepted(stack):
    sid = stack.create_session("")["session_id"]
    code = "#" * 262144
    status, _, body = stack.request("PATCH", f"/code-sessions/{sid}", {"source_code": code})
    assert status == 200, (status, str(body)[:200])
    assert body["source_code"] == code


def test_concurrent_creates_all_succeed(stack):
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(
            lambda i: post_session(stack, {"language": "python", "template_code": str(i)})[0],
            range(64)))
    assert statuses == [201] * 64


def test_concurrent_autosaves_all_succeed(stack):
    sid = stack.create_session("")["session_id"]
    codes = [f"print({i})" for i in range(64)]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(
            lambda c: stack.request("PATCH", f"/code-sessions/{sid}", {"source_code": c})[0],
            codes))
    assert statuses == [200] * 64
    assert stack.request("GET", f"/code-sessions/{sid}")[2]["source_code"] in codes


# ---- validation errors -----------------------------------------------------

def test_malformed_json_is_invalid_json(stack):
    assert_error(post_session(stack, raw=b'{"language": python}'), 400, "INVALID_JSON")


def test_truncated_json_is_invalid_json(stack):
    assert_error(post_session(stack, raw=b'{"language": "python", "template_code": "pri'),
                 400, "INVALID_JSON")


def test_top_level_array_is_invalid_json(stack):
    assert_error(post_session(stack, raw=b'["python"]'), 400, "INVALID_JSON")


def test_invalid_utf8_is_invalid_json(stack):
    assert_error(post_session(stack, raw=b'{"language":"python","template_code":"\xff\xfe"}'),
                 400, "INVALID_JSON")


def test_trailing_garbage_after_json_is_invalid_json(stack):
    assert_error(post_session(stack, raw=b'{"language":"python"} x'), 400, "INVALID_JSON")


def test_deeply_nested_json_is_invalid_json(stack):
    assert_error(post_session(stack, raw=b'{"a":' * 5000 + b'1' + b'}' * 5000),
                 400, "INVALID_JSON")


def test_empty_body_on_create_is_invalid_json(stack):
    assert_error(post_session(stack, raw=b''), 400, "INVALID_JSON")


def test_missing_language_is_missing_field(stack):
    assert_error(post_session(stack, {"template_code": "x"}), 400, "MISSING_FIELD", "language")


def test_numeric_language_is_invalid_field(stack):
    assert_error(post_session(stack, {"language": 42}), 400, "INVALID_FIELD", "language")


def test_unknown_language_is_unsupported(stack):
    assert_error(post_session(stack, {"language": "cobol"}), 400,
                 "UNSUPPORTED_LANGUAGE", "language")


def test_unknown_field_on_create_is_rejected(stack):
    assert_error(post_session(stack, {"language": "python", "colour": "blue"}),
                 400, "UNKNOWN_FIELD", "colour")


def test_template_code_not_a_string_is_invalid_field(stack):
    assert_error(post_session(stack, {"language": "python", "template_code": ["x"]}),
                 400, "INVALID_FIELD", "template_code")


def test_source_code_not_a_string_is_invalid_field(stack):
    sid = stack.create_session("")["session_id"]
    assert_error(stack.request("PATCH", f"/code-sessions/{sid}", {"source_code": 5}),
                 400, "INVALID_FIELD", "source_code")


def test_patch_without_source_code_is_missing_field(stack):
    sid = stack.create_session("")["session_id"]
    assert_error(stack.request("PATCH", f"/code-sessions/{sid}", {}),
                 400, "MISSING_FIELD", "source_code")


def test_unknown_field_on_patch_is_rejected(stack):
    sid = stack.create_session("")["session_id"]
    assert_error(stack.request("PATCH", f"/code-sessions/{sid}",
                               {"source_code": "x", "language": "python"}),
                 400, "UNKNOWN_FIELD", "language")


def test_source_over_256_kib_is_invalid_field(stack):
    sid = stack.create_session("print(1)")["session_id"]
    assert_error(stack.request("PATCH", f"/code-sessions/{sid}", {"source_code": "#" * 262145}),
                 400, "INVALID_FIELD", "source_code")


def test_rejected_patch_leaves_source_unchanged(stack):
    sid = stack.create_session("print(1)")["session_id"]
    stack.request("PATCH", f"/code-sessions/{sid}", {"source_code": "#" * 262145})
    assert stack.request("GET", f"/code-sessions/{sid}")[2]["source_code"] == "print(1)"


def test_source_limit_counts_utf8_bytes(stack):
    # 131073 characters, 262146 bytes of UTF-8.
    sid = stack.create_session("")["session_id"]
    assert_error(stack.request("PATCH", f"/code-sessions/{sid}", {"source_code": "é" * 131073}),
                 400, "INVALID_FIELD", "source_code")


def test_template_over_256_kib_is_invalid_field(stack):
    assert_error(post_session(stack, {"language": "python", "template_code": "#" * 262145}),
                 400, "INVALID_FIELD", "template_code")


def test_nul_byte_in_source_is_invalid_field(stack):
    sid = stack.create_session("")["session_id"]
    assert_error(stack.request("PATCH", f"/code-sessions/{sid}", {"source_code": "a\u0000b"}),
                 400, "INVALID_FIELD", "source_code")


def test_unknown_session_is_not_found(stack):
    assert_error(stack.request("GET", f"/code-sessions/{random_uuid()}"), 404, "NOT_FOUND")


def test_patch_unknown_session_is_not_found(stack):
    assert_error(stack.request("PATCH", f"/code-sessions/{random_uuid()}", {"source_code": "x"}),
                 404, "NOT_FOUND")


def test_non_uuid_session_id_is_invalid_id(stack):
    assert_error(stack.request("GET", "/code-sessions/not-a-uuid"), 400, "INVALID_ID", "id")


def test_non_uuid_execution_id_is_invalid_id(stack):
    assert_error(stack.request("GET", "/executions/1234"), 400, "INVALID_ID", "id")


def test_unknown_path_is_not_found(stack):
    assert_error(stack.request("GET", "/no/such/path"), 404, "NOT_FOUND")


def test_unknown_execution_is_not_found(stack):
    assert_error(stack.request("GET", f"/executions/{random_uuid()}"), 404, "NOT_FOUND")


def test_delete_session_is_method_not_allowed(stack):
    sid = stack.create_session("")["session_id"]
    resp = stack.request("DELETE", f"/code-sessions/{sid}")
    assert_error(resp, 405, "METHOD_NOT_ALLOWED")
    assert resp[1].get("Allow") == "GET, PATCH"


def test_put_sessions_collection_is_method_not_allowed(stack):
    resp = stack.request("PUT", "/code-sessions", {"language": "python"})
    assert_error(resp, 405, "METHOD_NOT_ALLOWED")
    assert resp[1].get("Allow") == "POST"


def test_get_run_is_method_not_allowed(stack):
    sid = stack.create_session("")["session_id"]
    resp = stack.request("GET", f"/code-sessions/{sid}/run")
    assert_error(resp, 405, "METHOD_NOT_ALLOWED")
    assert resp[1].get("Allow") == "POST"


def test_post_execution_is_method_not_allowed(stack):
    resp = stack.request("POST", f"/executions/{random_uuid()}")
    assert_error(resp, 405, "METHOD_NOT_ALLOWED")
    assert resp[1].get("Allow") == "GET"


def test_post_health_is_method_not_allowed(stack):
    resp = stack.request("POST", "/health")
    assert_error(resp, 405, "METHOD_NOT_ALLOWED")
    assert resp[1].get("Allow") == "GET"


def test_body_over_1_mib_is_payload_too_large(stack):
    raw = b'{"language":"python","template_code":"' + b"#" * (1048577 - 40) + b'"}'
    assert len(raw) == 1048577
    assert_error(post_session(stack, raw=raw), 413, "PAYLOAD_TOO_LARGE")


def test_text_plain_body_is_unsupported_media_type(stack):
    assert_error(post_session(stack, raw=b'{"language":"python"}',
                              headers={"Content-Type": "text/plain"}),
                 415, "UNSUPPORTED_MEDIA_TYPE")


def test_json_lookalike_content_type_is_unsupported_media_type(stack):
    assert_error(post_session(stack, raw=b'{"language":"python"}',
                              headers={"Content-Type": "application/jsonp"}),
                 415, "UNSUPPORTED_MEDIA_TYPE")


def test_content_type_is_case_insensitive(stack):
    status, _, body = post_session(stack, raw=b'{"language":"python"}',
                                   headers={"Content-Type": "Application/JSON"})
    assert status == 201, body


def test_body_without_content_type_is_unsupported_media_type(stack):
    assert_error(post_session(stack, raw=b'{"language":"python"}',
                              headers={"Content-Type": None}),
                 415, "UNSUPPORTED_MEDIA_TYPE")


# ---- health ------------------------------------------------------------------

HEALTH_KEYS = {"status", "db", "runners_alive", "runners", "queue_depth", "running",
               "oldest_queued_age_ms", "sandbox_mode", "version"}
RUNNER_KEYS = {"runner_id", "host", "pid", "slots", "busy", "sandbox_mode", "started_at",
               "last_heartbeat_at", "heartbeat_age_ms"}


def test_health_reports_ok(stack):
    status, headers, body = stack.request("GET", "/health")
    assert status == 200, body
    assert set(body) == HEALTH_KEYS, body
    assert body["status"] == "ok"
    assert body["db"] == "ok"
    assert is_int(body["runners_alive"]) and body["runners_alive"] >= 1
    assert is_int(body["queue_depth"]) and body["queue_depth"] >= 0
    assert is_int(body["running"]) and body["running"] >= 0
    assert isinstance(body["sandbox_mode"], str) and body["sandbox_mode"]
    # The release of common/version.h, which --version prints too.
    assert f'#define ENGINE_VERSION "{body["version"]}"\n' in (REPO / "common" / "version.h").read_text()


def test_health_lists_runner_with_slots(stack):
    status, _, body = stack.request("GET", "/health")
    assert status == 200, body
    runners = body["runners"]
    assert isinstance(runners, list) and len(runners) >= 1
    r = runners[0]
    assert set(r) == RUNNER_KEYS, r
    assert is_int(r["slots"]) and r["slots"] >= 1
    assert is_int(r["busy"]) and 0 <= r["busy"] <= r["slots"]
    assert is_int(r["pid"]) and r["pid"] > 0
    assert is_int(r["heartbeat_age_ms"]) and 0 <= r["heartbeat_age_ms"] <= 5000
    parse_ts(r["started_at"])
    parse_ts(r["last_heartbeat_at"])
