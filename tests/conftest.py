import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stack import Stack, running  # noqa: E402


@pytest.fixture(scope="session")
def stack():
    """One stack shared by every test that does not restart it."""
    yield from running(Stack())


@pytest.fixture
def own_stack():
    """A stack of the test's own, for tests that stop or restart it."""
    yield from running(Stack())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for name in ("stack", "own_stack"):
            s = getattr(item, "funcargs", {}).get(name)
            if s is not None:
                try:
                    rep.sections.append((f"{name} logs", s.log_tail()))
                except Exception as e:  # never hide the real failure
                    rep.sections.append((f"{name} logs", repr(e)))
