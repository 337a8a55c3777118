import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stack import Stack, running  # noqa: E402
import remote  # noqa: E402

# tests/vm/ runs only against the engine of make vm-test.
collect_ignore = [] if remote.enabled() else ["vm"]


@pytest.fixture(scope="session")
def stack():
    """One stack shared by every test that does not restart it (with
    ENGINE_URL set: the engine running there, see tests/remote.py)."""
    yield from running(remote.RemoteStack() if remote.enabled() else Stack())


def pytest_collection_modifyitems(config, items):
    """Against a remote engine: the deselected tests (tests/vm/deselected.txt,
    tests/vm/in-target.txt) leave the run, named; host inspection moves to
    the target host."""
    if not remote.enabled():
        return
    listed = remote.deselected()
    keep, drop = [], []
    for item in items:
        (drop if remote.is_deselected(item.nodeid, listed) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    for module in {item.module for item in keep}:
        remote.patch_helpers(module)


def pytest_sessionfinish(session):
    if remote.enabled():
        remote.close_agent()


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
