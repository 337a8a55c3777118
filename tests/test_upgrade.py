"""Upgrades: a data directory of an earlier release opens with this one and
is migrated (tests/fixtures/store-<release>.sql, made by that release with
tests/fixtures/make_store_fixture.py); a store newer than this build is
refused with a message that says so, and left as it is."""

import json
import os
import re
import sqlite3
import subprocess

import pytest

from stack import REPO, Stack, sandbox_uid_base

BUILD = REPO / os.environ.get("BUILD", "build")
FIXTURES = sorted((REPO / "tests" / "fixtures").glob("store-*.sql"))
ENV = {k: v for k, v in os.environ.items() if k not in ("DATA_DIR", "PORT", "ENGINE_CONFIG", "ENGINE_STORE")}


def schema_version():
    out = subprocess.run([str(BUILD / "runner"), "--version"], capture_output=True, text=True, check=True)
    return int(re.search(r"schema version (\d+)", out.stdout).group(1))


def load_fixture(path, data_dir):
    """Writes the fixture's engine.db into data_dir; -> the API answers recorded with it."""
    text = path.read_text()
    os.makedirs(data_dir, exist_ok=True)
    db = sqlite3.connect(os.path.join(data_dir, "engine.db"))
    db.executescript(text)
    db.close()
    return json.loads(re.search(r"^-- EXPECTED (.*)$", text, re.M).group(1))


def user_version(data_dir):
    db = sqlite3.connect(os.path.join(data_dir, "engine.db"))
    try:
        return db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        db.close()


def test_there_is_a_fixture_of_an_earlier_or_this_release():
    assert FIXTURES, "tests/fixtures/store-*.sql is missing"


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.stem)
def test_a_store_of_an_earlier_release_opens_migrated_and_serves(fixture, tmp_path):
    data = str(tmp_path / "data")
    expected = load_fixture(fixture, data)
    stack = Stack(data_dir=data)
    if stack.store_url:
        pytest.fail("tests/test_upgrade.py runs on the SQLite store (make api)")
    try:
        stack.start()
        assert user_version(data) == schema_version()
        # Every field the earlier release answered is answered alike (a later one may add fields).
        for sid, before in expected["sessions"].items():
            status, _, now = stack.request("GET", f"/code-sessions/{sid}")
            assert status == 200 and {k: now[k] for k in before} == before, now
        for eid, before in expected["executions"].items():
            now = stack.get_execution(eid)
            assert {k: now[k] for k in before} == before, now
        # The edited session runs its new code with this release.
        edited = [s for s, v in expected["sessions"].items() if "edited" in v["source_code"]]
        again = stack.wait_terminal(stack.run_ok(edited[0]), timeout=30)
        assert (again["status"], again["stdout"]) == ("COMPLETED", "edited after its run\n"), again
        stack.stop()
    finally:
        stack.cleanup()


def newer_store(tmp_path):
    data = str(tmp_path / "data")
    load_fixture(FIXTURES[-1], data)
    db = sqlite3.connect(os.path.join(data, "engine.db"))
    db.execute(f"PRAGMA user_version = {schema_version() + 1}")
    rows = list(db.iterdump())
    db.close()
    return data, rows


@pytest.mark.parametrize("program", ["runner", "events"])
def test_a_store_newer_than_the_build_is_refused_and_left_as_it_is(program, tmp_path):
    data, rows = newer_store(tmp_path)
    conf = tmp_path / "engine.conf"
    conf.write_text(f"data_dir = {data}\nsandbox_uid_base = {sandbox_uid_base()}\n"
                    f"languages_file = {REPO / 'conf' / 'languages.conf'}\n")
    p = subprocess.run([str(BUILD / program), "--config", str(conf)], env=ENV,
                       capture_output=True, text=True, timeout=60)
    newer = schema_version() + 1
    assert p.returncode == 1, p
    assert (f"refusing to start: the store has schema version {newer}, newer than this release "
            f"({version()}, schema version {newer - 1}) knows: a later release wrote it, and it is left "
            "as it is; run that release, or restore a backup made by this one") in p.stderr, p.stderr
    db = sqlite3.connect(os.path.join(data, "engine.db"))
    assert list(db.iterdump()) == rows and db.execute("PRAGMA user_version").fetchone()[0] == newer
    db.close()


def test_a_backup_newer_than_the_build_is_not_restored(tmp_path):
    data, _ = newer_store(tmp_path)
    target = tmp_path / "target"
    p = subprocess.run([str(BUILD / "runner"), "--restore", os.path.join(data, "engine.db")],
                       env=dict(ENV, DATA_DIR=str(target)), capture_output=True, text=True, timeout=60)
    assert p.returncode == 1
    assert (f"has schema version {schema_version() + 1}, newer than this build's {schema_version()}: "
            "it was made by a later release; restore it with that release") in p.stderr, p.stderr
    assert not (target / "engine.db").exists()


def version():
    out = subprocess.run([str(BUILD / "runner"), "--version"], capture_output=True, text=True, check=True)
    return out.stdout.split()[1]
