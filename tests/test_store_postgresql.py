"""The PostgreSQL store's own behaviour (the API, contract and bad-input
suites run on it too: make api-pg). Each test starts a PostgreSQL server of
its own (tests/pg.py), so stopping it disturbs no other stack."""

import pytest

import pg
from stack import Stack, assert_error, running


@pytest.fixture
def pg_stack():
    server = pg.PgServer().start()
    try:
        stack = Stack(store_url=server.new_database())
        for s in running(stack):
            yield server, s
    finally:
        server.cleanup()


def test_store_is_the_postgresql_database(pg_stack):
    server, stack = pg_stack
    sid = stack.create_session("print(1)\n")["session_id"]
    assert stack.store_rows(f"SELECT language FROM sessions WHERE id = '{sid}'") == [("python",)]


def test_requests_answer_503_while_postgresql_is_down_and_recover_after(pg_stack):
    server, stack = pg_stack
    session = stack.create_session("print('before')\n")
    sid = session["session_id"]
    assert stack.execute("print('before')\n")["stdout"] == "before\n"

    server.stop()
    for method, path, body in (("GET", f"/code-sessions/{sid}", None),
                               ("PATCH", f"/code-sessions/{sid}", {"source_code": "x = 1\n"}),
                               ("POST", f"/code-sessions/{sid}/run", None)):
        resp = stack.request(method, path, body)
        assert_error(resp, 503, "STORE_UNAVAILABLE")
        assert resp[1].get("Retry-After") == "1", (method, path, resp)

    server.start()
    status, _, body = stack.request("GET", f"/code-sessions/{sid}")
    assert status == 200 and body["source_code"] == "print('before')\n"
    # The runner reconnects too: a run made now completes.
    assert stack.execute("print('after')\n")["stdout"] == "after\n"
