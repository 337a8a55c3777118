"""Grading through the real stack: test suites (PUT/GET/DELETE
/test-suites/{id}), versioned, with their limits."""

import pytest

from stack import assert_error


def suite_body(*cases, compare="exact"):
    return {"cases": [dict(c) for c in cases], "compare": compare}


def case(name, stdin, expected, hidden=False, **kw):
    return {"name": name, "stdin": stdin, "expected_stdout": expected, "hidden": hidden, **kw}


def put_suite(stack, suite_id, body):
    status, _, doc = stack.request("PUT", f"/test-suites/{suite_id}", body)
    assert status == 200, doc
    return doc


# ---- test suites ------------------------------------------------------------

def test_put_creates_version_1_and_get_returns_it_with_defaults_filled(stack):
    doc = put_suite(stack, "sum.v1", {"cases": [{"name": "a", "expected_stdout": "3\n"}]})
    assert doc["suite_id"] == "sum.v1"
    assert doc["version"] == 1
    assert doc["compare"] == "exact"
    assert doc["cases"] == [{"name": "a", "expected_stdout": "3\n", "stdin": "",
                             "hidden": False, "time_limit_ms": None}]
    status, _, got = stack.request("GET", "/test-suites/sum.v1")
    assert status == 200
    assert got == doc


def test_put_again_replaces_the_suite_as_the_next_version(stack):
    put_suite(stack, "Replace_Me", suite_body(case("a", "1\n", "1\n")))
    doc = put_suite(stack, "Replace_Me", suite_body(case("b", "2\n", "2\n", hidden=True, time_limit_ms=500),
                                                    compare={"float_tolerance": 1e-6}))
    assert doc["version"] == 2
    assert doc["compare"] == {"float_tolerance": 1e-6}
    assert doc["cases"] == [case("b", "2\n", "2\n", hidden=True, time_limit_ms=500)]
    assert stack.request("GET", "/test-suites/Replace_Me")[2] == doc


def test_suite_ids_are_case_sensitive_slugs(stack):
    put_suite(stack, "CaseSuite", suite_body(case("a", "", "A\n")))
    put_suite(stack, "casesuite", suite_body(case("a", "", "a\n")))
    assert stack.request("GET", "/test-suites/CaseSuite")[2]["cases"][0]["expected_stdout"] == "A\n"
    assert stack.request("GET", "/test-suites/casesuite")[2]["cases"][0]["expected_stdout"] == "a\n"


def test_delete_removes_the_suite_and_a_later_put_continues_its_versions(stack):
    put_suite(stack, "gone", suite_body(case("a", "", "x\n")))
    status, _, doc = stack.request("DELETE", "/test-suites/gone")
    assert (status, doc) == (200, {"suite_id": "gone", "deleted": True})
    assert_error(stack.request("GET", "/test-suites/gone"), 404, "NOT_FOUND")
    assert_error(stack.request("DELETE", "/test-suites/gone"), 404, "NOT_FOUND")
    assert put_suite(stack, "gone", suite_body(case("a", "", "y\n")))["version"] == 2


def test_every_compare_mode_is_accepted(stack):
    for mode in ("exact", "trim", "tokens", {"float_tolerance": 0}, {"float_tolerance": 0.5}):
        assert put_suite(stack, "modes", suite_body(case("a", "", "1\n"), compare=mode))["compare"] == mode


def test_a_suite_of_max_suite_cases_is_accepted_and_one_more_is_not(stack):
    cases = [case(f"c{i}", "", f"{i}\n") for i in range(100)]
    assert len(put_suite(stack, "big", suite_body(*cases))["cases"]) == 100
    cases.append(case("c100", "", "100\n"))
    assert_error(stack.request("PUT", "/test-suites/big", suite_body(*cases)), 400, "INVALID_FIELD", "cases")
    assert stack.request("GET", "/test-suites/big")[2]["version"] == 1


def test_a_64_character_id_is_accepted(stack):
    sid = "a" * 64
    assert put_suite(stack, sid, suite_body(case("a", "", "1\n")))["suite_id"] == sid


def test_hidden_cases_are_part_of_the_platforms_view(stack):
    doc = put_suite(stack, "hidden-view", suite_body(case("secret", "s\n", "S\n", hidden=True)))
    assert doc["cases"][0]["stdin"] == "s\n" and doc["cases"][0]["expected_stdout"] == "S\n"
