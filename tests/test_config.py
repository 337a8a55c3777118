"""The configuration as its documentation states it: README's table gives
every key with the programs' own default, and a bad value stops both
programs at start with file:line. (tests/unit/test_common.c checks that
conf/engine.conf sets every key to exactly its default.)"""

import os
import re
import subprocess

import pytest

from stack import REPO

BUILD = REPO / os.environ.get("BUILD", "build")
# The environment a program sees without any configuration of ours.
BARE_ENV = {k: v for k, v in os.environ.items() if k not in ("ENGINE_CONFIG", "PORT", "DATA_DIR", "ENGINE_SNAPSHOT_DIR")}


def readme_table():
    """{key: default} from the table of README's Configuration section."""
    section = (REPO / "README.md").read_text().split("## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \|", section, re.M)
    # "(empty)": a key whose default is the empty string.
    return {key: "" if default.strip() == "(empty)" else default.strip().strip("`") for key, default in rows}


def conf_keys():
    text = (REPO / "conf" / "engine.conf").read_text()
    return {m for m in re.findall(r"^\s*([a-z_]+)\s*=", text, re.M)}


def runner_get(key, config=None):
    argv = [str(BUILD / "runner")] + (["--config", str(config)] if config else []) + ["--get", key]
    return subprocess.run(argv, env=BARE_ENV, capture_output=True, text=True, timeout=10)


def test_readme_table_lists_exactly_the_keys_of_engine_conf():
    assert set(readme_table()) == conf_keys()


@pytest.mark.parametrize("key", sorted(readme_table()))
def test_readme_default_is_the_built_in_default(key):
    got = runner_get(key)
    assert got.returncode == 0, got.stderr
    assert got.stdout == readme_table()[key] + "\n"


def test_sandbox_uid_base_may_be_auto_in_the_file_and_the_environment(tmp_path):
    conf = tmp_path / "engine.conf"
    conf.write_text("sandbox_uid_base = auto\n")
    got = runner_get("sandbox_uid_base", conf)
    assert (got.returncode, got.stdout, got.stderr) == (0, "auto\n", "")
    got = subprocess.run([str(BUILD / "runner"), "--get", "sandbox_uid_base"],
                         env=dict(BARE_ENV, SANDBOX_UID_BASE="auto"), capture_output=True, text=True, timeout=10)
    assert (got.returncode, got.stdout) == (0, "auto\n"), got.stderr


@pytest.mark.parametrize("line,reason", [
    ("log_level = verbose", "log_level: must be one of error|warn|info|debug"),
    ("sandbox_mode = nsjail", "sandbox_mode: must be one of auto|cgroup|rlimit"),
    ("memory_mb = 8", "memory_mb: out of range (an integer from 16 to 65536)"),
    ("max_output_bytes = 64k", "max_output_bytes: not an integer (an integer from 1024 to 67108864)"),
    ("no_such_key = 1", "unknown key no_such_key"),
    ("quota_runs_per_minute = -1", "quota_runs_per_minute: out of range (an integer from 0 to 1000000)"),
    ("quota_concurrent_runs = 1000001", "quota_concurrent_runs: out of range (an integer from 0 to 1000000)"),
    ("quota_sessions_per_hour = 1.5", "quota_sessions_per_hour: not an integer (an integer from 0 to 1000000)"),
    ("quota_source_bytes = 16M", "quota_source_bytes: not an integer (an integer from 0 to 1099511627776)"),
    ("sandbox_uid_base = 0", "sandbox_uid_base: out of range (an integer from 1000 to 2000000000, or auto)"),
    ("sandbox_uid_base = Auto", "sandbox_uid_base: not an integer (an integer from 1000 to 2000000000, or auto)"),
])
def test_a_bad_value_stops_both_programs_with_file_and_line(tmp_path, line, reason):
    conf = tmp_path / "engine.conf"
    conf.write_text("# a comment\n" + line + "\n")
    runner = runner_get("port", conf)
    assert (runner.returncode, runner.stdout) == (1, ""), runner
    assert runner.stderr == f"runner: {conf}:2: {reason}\n"
    fcgi = subprocess.run([str(BUILD / "fcgi_app")], env=dict(BARE_ENV, ENGINE_CONFIG=str(conf)),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=10)
    assert (fcgi.returncode, fcgi.stderr) == (1, f"fcgi_app: {conf}:2: {reason}\n"), fcgi
