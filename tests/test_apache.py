"""The API suite again, behind Apache 2.4 + mod_fcgid (conf/apache-code-exec.conf).

Every test of test_api.py (sessions, validation, errors, /health) and the
test_execution.py tests that exercise the HTTP side of Run, polling and
listing run here unchanged against an ApacheStack: this module's `stack`
fixture overrides conftest's; so do the Server-Sent Events and long-poll
tests of test_events.py (the WebSocket is lighttpd's only) and a submission's
of test_submission_events.py. What the runner does inside the sandbox
(limits, timeouts, output caps) does not depend on the front end and is
tested once, behind lighttpd. /metrics and X-Request-Id are checked too.
"""

import pytest

from apache import ApacheStack
from stack import running
from test_api import *  # noqa: F401,F403  (collected here, against Apache)
from test_execution import (  # noqa: F401
    capped_session, three_runs,
    test_run_returns_202_with_exact_keys, test_run_sets_location_header,
    test_run_accepts_empty_object_body, test_run_unknown_session_is_not_found,
    test_run_stdin_not_a_string_is_invalid_field, test_run_unknown_field_is_rejected,
    test_run_stdin_over_64_kib_is_invalid_field,
    test_run_with_text_plain_body_is_unsupported_media_type,
    test_hello_world_completes, test_finished_execution_has_exact_keys,
    test_division_by_zero_fails_with_traceback, test_stdin_is_passed_to_program,
    test_unicode_output_round_trips, test_output_flood_is_truncated_at_64_kib,
    test_get_while_running_shows_queued_or_running,
    test_run_uses_snapshot_of_code_at_run_time,
    test_20_concurrent_sessions_get_their_own_output,
    test_list_returns_newest_first, test_list_first_page_has_limit_items_and_cursor,
    test_list_second_page_has_rest_and_no_cursor, test_list_for_unknown_session_is_not_found,
    test_list_bad_limit_is_invalid_query, test_list_bad_cursor_is_invalid_query,
    test_five_runs_in_flight_are_accepted, test_sixth_run_in_flight_gets_429,
    test_429_has_retry_after, test_capped_runs_all_complete,
)
from test_events import (  # noqa: F401  (Server-Sent Events and long-poll through Apache)
    test_stream_carries_every_event_kind_in_order,
    test_output_reaches_the_stream_before_the_program_ends,
    test_finished_execution_replays_its_events_then_done_at_once,
    test_last_event_id_resumes_after_that_event, test_unknown_execution_is_not_found,
    test_a_10_mb_flood_reaches_the_stream_bounded,
    test_long_poll_answers_as_soon_as_the_execution_ends,
    test_long_poll_answers_the_current_state_after_wait_ms,
    test_long_poll_of_a_finished_execution_is_identical_to_get,
    test_long_poll_rejects_wait_ms_out_of_range,
)
from test_submission_events import (  # noqa: F401  (a submission's stream and long-poll through Apache)
    suite, test_long_poll_answers_as_soon_as_the_submission_is_judged,
    test_the_stream_carries_status_each_case_then_done, test_unknown_or_malformed_submission_ids_are_refused,
)


@pytest.fixture(scope="module")
def stack():
    yield from running(ApacheStack())


def test_apache_serves_metrics_as_prometheus_text(stack):
    status, headers, body = stack.request("GET", "/metrics")
    assert status == 200, body
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "code_exec_runners_alive 1\n" in body


def test_apache_passes_request_id_through(stack):
    status, headers, _ = stack.request("GET", "/health", headers={"X-Request-Id": "qa-apache-1"})
    assert status == 200
    assert headers["X-Request-Id"] == "qa-apache-1"


def test_apache_serves_the_openapi_document(stack):
    status, headers, body = stack.request("GET", "/openapi.json")
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert body["openapi"].startswith("3.")
    assert "/code-sessions/{id}/run" in body["paths"]


def test_apache_serves_the_swagger_ui_page(stack):
    status, headers, body = stack.request("GET", "/docs")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert "swagger-ui-bundle.js" in body
    assert stack.request("GET", "/docs/swagger-ui-bundle.js")[0] == 200


def test_apache_serves_the_playground(stack):
    status, headers, body = stack.request("GET", "/")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert '<script src="/playground/playground.js"></script>' in body
    status, headers, _ = stack.request("GET", "/playground/playground.js")
    assert (status, headers["Content-Type"]) == (200, "text/javascript; charset=utf-8")
    status, headers, _ = stack.request("GET", "/playground/playground.css")
    assert (status, headers["Content-Type"]) == (200, "text/css; charset=utf-8")


def test_apache_pages_carry_security_headers(stack):
    from test_cors import CSP
    for path in ("/", "/docs"):
        status, headers, _ = stack.request("GET", path)
        assert status == 200
        assert (headers["X-Content-Type-Options"], headers["Content-Security-Policy"]) == ("nosniff", CSP), path
    status, headers, _ = stack.request("GET", "/health")
    assert (headers["X-Content-Type-Options"], headers["Cache-Control"]) == ("nosniff", "no-store")
