"""sandbox_uid_base = auto: each runner takes a block of sandbox uids in
the store, so runners sharing a kernel (replicas of one container image)
never share a uid. Real runners on a real SQLite file and a real
PostgreSQL server; the uids are read from the sandboxes' processes."""

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import pg
from stack import REPO, Stack, running

FIRST, SIZE = 10_000_000, 1024        # runner/uid_block.h
HOLD_MS = 1000                        # runner_stale_ms of the extra runners


def host_uids_of(marker):
    """Host uids of the processes whose command line contains marker."""
    uids = set()
    for d in os.listdir("/proc"):
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                if marker.encode() not in f.read():
                    continue
            with open(f"/proc/{d}/status") as f:
                uids |= {int(l.split()[1]) for l in f if l.startswith("Uid:")}
        except (OSError, ValueError):
            pass
    return uids


def sandbox_uid_while_running(stack, marker):
    """The host uids of a run (its command line names marker) while it
    sleeps, and the run's execution id."""
    sid = stack.create_session("import os, sys\nos.execv(sys.executable, "
                               f"['python3', '-c', 'import time; time.sleep(2)', '{marker}'])\n")
    eid = stack.run_ok(sid["session_id"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        uids = host_uids_of(marker)
        if uids:
            done = stack.wait_terminal(eid)
            assert done["status"] == "COMPLETED", repr(done)[:2000]
            return uids, eid
        time.sleep(0.02)
    raise AssertionError(f"no process of the run appeared: {stack.get_execution(eid)}")


def blocks(stack):
    return sorted(int(b) for (b,) in stack.store_rows("SELECT block FROM uid_blocks"))


def test_a_runner_with_auto_uses_the_block_it_took_and_gives_it_back():
    stack = Stack()
    stack.uid_base = "auto"
    for s in running(stack):
        assert blocks(s) == [0]
        assert sandbox_uid_while_running(s, "uid-block-probe-1")[0] <= set(range(FIRST, FIRST + SIZE))
        s.stop()
        assert blocks(s) == []


class ExtraRunner:
    """A runner alone on the stack's store, with a data_dir of its own (as
    on another container of the same host)."""

    def __init__(self, store_url, uid_base="auto"):
        self.dir = tempfile.mkdtemp(prefix="engine-uid-block-")
        conf = Path(self.dir) / "engine.conf"
        conf.write_text(f"languages_file = {REPO / 'conf' / 'languages.conf'}\n"
                        f"runner_stale_ms = {HOLD_MS}\nheartbeat_interval_ms = 100\n"
                        "python_warm = no\n")
        env = dict(os.environ, DATA_DIR=self.dir, ENGINE_STORE=store_url, SANDBOX_UID_BASE=str(uid_base),
                   ENGINE_CONFIG=str(conf))
        self.log = Path(self.dir) / "runner.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([str(REPO / os.environ.get("BUILD", "build") / "runner")],
                                         env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    def logged(self, text, timeout=20):
        """The first line of its log that contains text, once there."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log.read_text().splitlines():
                if text in line:
                    return line
            assert self.proc.poll() is None, self.log.read_text()
            time.sleep(0.05)
        raise AssertionError(f"never logged {text!r}:\n{self.log.read_text()}")

    def base(self):
        """The first uid of the block it took, from its log."""
        return int(self.logged("sandbox uids from ").split("sandbox uids from ")[1].split()[0])

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=30)


@pytest.fixture
def pg_stack():
    server = pg.PgServer().start()
    stack = Stack(store_url=server.new_database())
    stack.uid_base = "auto"
    extras = []
    try:
        for s in running(stack):
            yield s, extras
    finally:
        for r in extras:
            r.stop(signal.SIGKILL)
        server.cleanup()


def test_runners_on_one_store_take_blocks_of_their_own_and_reuse_freed_ones(pg_stack):
    stack, extras = pg_stack

    def extra():
        extras.append(ExtraRunner(stack.store_url))
        return extras[-1]

    assert blocks(stack) == [0]
    a, b = extra(), extra()
    for r in (a, b):                # serving: from here on the heartbeat renews the holds
        r.logged(" started: ")
    bases = sorted([a.base(), b.base()])
    assert bases == [FIRST + SIZE, FIRST + 2 * SIZE], bases
    assert blocks(stack) == [0, 1, 2]
    # With three runners serving one store, a run goes to any of them: its
    # sandbox's uids lie in the block of the runner that claimed it.
    uids, eid = sandbox_uid_while_running(stack, "uid-block-probe-2")
    (block,), = stack.store_rows("SELECT b.block FROM executions e JOIN uid_blocks b ON b.holder = e.runner_id "
                                 f"WHERE e.id = '{eid}'")
    first = FIRST + int(block) * SIZE
    assert uids <= set(range(first, first + SIZE)), (block, uids)

    # A runner that stops gives its block back: the next one takes it.
    freed = a.base()
    assert a.stop() == 0
    assert freed not in (FIRST + SIZE * blk for blk in blocks(stack))
    assert extra().base() == freed

    # A runner killed outright keeps its block until its hold has lapsed
    # for as long again: a runner starting meanwhile takes a new block...
    killed = b.base()
    b.stop(signal.SIGKILL)
    assert extra().base() == FIRST + 3 * SIZE
    # ...and one starting after that takes the dead runner's.
    time.sleep(2 * HOLD_MS / 1000 + 0.5)
    assert extra().base() == killed


def test_a_runner_whose_block_another_took_stops(pg_stack):
    stack, extras = pg_stack
    extras.append(ExtraRunner(stack.store_url))
    r = extras[-1]
    block = (r.base() - FIRST) // SIZE
    r.logged(" started: ")          # serving: its heartbeat renews the hold
    # As another runner taking it would after the hold lapsed (a long store
    # outage): held by that one for a while from now.
    pg.query_rows(stack.store_url,
                  f"UPDATE uid_blocks SET holder = 'another-runner', "
                  f"held_until = (extract(epoch FROM now()) * 1000)::bigint + 60000 "
                  f"WHERE block = {block} RETURNING block")
    assert r.proc.wait(timeout=10) == 1
    assert f"sandbox uid block from {FIRST + block * SIZE}: held by another runner now; stopping" \
        in r.log.read_text()


@pytest.mark.parametrize("uid_base", ["auto", "500000"])
def test_a_runner_started_before_postgresql_waits_for_it(uid_base):
    """As in a compose file: the runner's first connection (the uid block's,
    or the main thread's with a fixed base) waits for the server."""
    server = pg.PgServer().start()
    url = server.new_database()
    server.stop()
    r = ExtraRunner(url, uid_base)
    try:
        r.logged("waiting up to 60 s for the store: ")
        time.sleep(1)
        assert r.proc.poll() is None, r.log.read_text()
        server.start()
        r.logged("store reached")
        r.logged(" started: ")
        assert r.stop() == 0
    finally:
        r.stop(signal.SIGKILL)
        server.cleanup()
