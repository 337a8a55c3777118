"""The engine as `make install` and its systemd units set it up on a pure
cgroup v2 host (make vm-test: a Debian 12 virtual machine, tests/vm/run):
the units run, the runner uses cgroup v2, restarts and kill -9 of the
runner unit lose nothing, and a reboot keeps the data and brings the
services back. Runs only against a remote engine (ENGINE_URL)."""

import signal
import time

import pytest

from remote import DATA_DIR, LIGHTTPD_UNIT, RUNNER_UNIT, RemoteComponents, control

EVENTS_UNIT = "code-exec-events.service"

# Fewer runs than test_durability's 200: the machine is emulated.
TARGET = 60


@pytest.fixture
def comp():
    c = RemoteComponents()
    try:
        yield c.start()
    finally:
        c.cleanup()


def test_units_are_enabled_and_active():
    for unit in (RUNNER_UNIT, EVENTS_UNIT, LIGHTTPD_UNIT):
        assert control(f"systemctl is-enabled {unit}").strip() == "enabled"
        assert control(f"systemctl is-active {unit}").strip() == "active"


def test_host_is_pure_cgroup_v2_and_the_runner_uses_it(stack):
    assert control("stat -fc %T /sys/fs/cgroup").strip() == "cgroup2fs"
    status, _, health = stack.request("GET", "/health")
    assert status == 200, health
    assert health["sandbox_mode"] == "namespaces+cgroup-v2+seccomp", health
    assert [r["sandbox_mode"] for r in health["runners"]] == ["namespaces+cgroup-v2+seccomp"], health
    # Its per-run cgroups live in the unit's delegated subtree.
    pid = health["runners"][0]["pid"]
    cg = control(f"cat /proc/{pid}/cgroup").strip()
    assert cg.startswith("0::/system.slice/code-exec-runner.service/"), cg


def test_executions_are_limited_by_their_cgroup(stack):
    sid = stack.create_session("l = []\nwhile True: l.append(b'x' * 1048576)\n")["session_id"]
    ex = stack.wait_terminal(stack.run_ok(sid), 120)
    assert ex["status"] == "FAILED" and ex["error"]["code"] == "MEMORY_LIMIT", ex


def main_pid():
    return control(f"systemctl show -P MainPID {RUNNER_UNIT}").strip()


def disrupted_under_load(comp, capsys, scenario, disrupt):
    """Runs TARGET executions while `disrupt()` hits the runner unit once a
    third were accepted and one is running; -> the number run again."""
    from test_durability import Load, verify, wait_running
    load = Load(comp, target=TARGET)
    load.start()
    try:
        load.wait_accepted(TARGET // 3, timeout=300)
        wait_running(comp, 1, timeout=120)
        before = main_pid()
        disrupt()
        # Restart=on-failure brings it back after kill -9 by itself.
        deadline = time.monotonic() + 60
        while main_pid() in (before, "0"):
            assert time.monotonic() < deadline, "the runner did not come back"
            time.sleep(0.5)
        load.wait_accepted(TARGET, timeout=300)
    finally:
        load.stop()
    return verify(comp, load, scenario, capsys, timeout=600)


def test_systemctl_restart_of_the_runner_while_executions_run(comp, capsys):
    disrupted_under_load(comp, capsys, "systemctl restart runner",
                         lambda: control(f"systemctl restart {RUNNER_UNIT}"))


def test_kill_9_of_the_runner_unit_while_executions_run(comp, capsys):
    retried = disrupted_under_load(comp, capsys, "kill -9 runner unit",
                                   lambda: comp.kill_runner(signal.SIGKILL))
    assert retried >= 1                     # cut short, run again


def test_runner_has_only_setuid_setgid_and_the_engine_s_group(stack):
    status = dict(l.split(":\t", 1) for l in
                  control(f"cat /proc/{main_pid()}/status").splitlines() if ":\t" in l)
    setuid_setgid = (1 << 6) | (1 << 7)                  # CAP_SETGID, CAP_SETUID
    assert int(status["CapBnd"], 16) == setuid_setgid, status["CapBnd"]
    group = control("getent group code-exec | cut -d: -f3").strip()
    assert status["Groups"].split() == [group], status["Groups"]
    ex = stack.execute("import os\nprint(os.getgroups())\n", timeout=120)
    assert ex["status"] == "COMPLETED" and ex["stdout"] == "[]\n", ex


def test_runner_opens_the_log_the_web_server_s_programs_made(comp, stack):
    """Started after code-exec-events and fcgi_app (code-exec) opened the
    database: its write-ahead log is theirs, and the runner opens it by
    group, not by CAP_DAC_OVERRIDE."""
    comp.stop()
    control(f"systemctl stop {EVENTS_UNIT} && rm -f {DATA_DIR}/engine.db-wal {DATA_DIR}/engine.db-shm && "
            f"systemctl start {EVENTS_UNIT}")
    comp.start_lighttpd(wait=True)
    sid = stack.create_session("print('made by the web server first')\n")["session_id"]
    assert control(f"stat -c %U {DATA_DIR}/engine.db-wal").strip() == "code-exec"
    eid = stack.run_ok(sid)
    comp.start_runner()
    ex = stack.wait_terminal(eid, 120)
    assert ex["status"] == "COMPLETED" and ex["stdout"] == "made by the web server first\n", ex
    assert control(f"systemctl is-active {RUNNER_UNIT}").strip() == "active"


def test_the_pool_events_and_lighttpd_run_as_the_engine_s_own_user_and_www_data_is_kept_out(stack):
    assert stack.request("GET", "/health")[0] == 200
    for unit in (LIGHTTPD_UNIT, EVENTS_UNIT):
        pid = control(f"systemctl show -P MainPID {unit}").strip()
        assert control(f"ps -o user= -p {pid}").strip() == "code-exec", unit
    pool = control("ps -o user= -C fcgi_app").split()
    assert pool and set(pool) == {"code-exec"}, pool
    assert control(f"stat -c '%U:%G %a' {DATA_DIR} {DATA_DIR}/engine.db").strip().split("\n") == \
        ["code-exec:code-exec 2770", "code-exec:code-exec 660"]
    # Another web application on the host (www-data) cannot read a learner's code.
    denied = control(f"setpriv --reuid=www-data --regid=www-data --init-groups cat {DATA_DIR}/engine.db "
                     "> /dev/null 2>&1; echo $?").strip()
    assert denied == "1"


def test_runner_unit_is_ready_only_after_its_self_test(stack):
    """Type=notify: systemctl start returns once the runner has run its
    self-test and registered, so /health lists the new process at once."""
    assert control(f"systemctl show -P Type {RUNNER_UNIT}").strip() == "notify"
    control(f"systemctl restart {RUNNER_UNIT}", timeout=400)
    pid = int(main_pid())
    status, _, health = stack.request("GET", "/health")
    assert status == 200 and pid in [r["pid"] for r in health["runners"]], (pid, health)
    assert control(f"systemctl show -P StatusErrno {RUNNER_UNIT}").strip() == "0"


def test_fcgi_processes_of_engine_conf_sizes_the_lighttpd_pool(stack):
    """engine.conf is the one source: the lighttpd unit reads port, data_dir
    and fcgi_processes from it at every start."""
    conf = "/etc/code-exec/engine.conf"
    def pool_after_restart(n):
        control(f"sed -i 's/^fcgi_processes = [0-9]*/fcgi_processes = {n}/' {conf} && "
                f"systemctl restart {LIGHTTPD_UNIT}")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                up = stack.request("GET", "/health", timeout=10)[0] == 200
            except OSError:          # lighttpd not listening yet: the forwarded port hangs up
                up = False
            if up and len(control("pgrep -u code-exec -x fcgi_app || true").split()) == n:
                return n
            time.sleep(1)
        return len(control("pgrep -u code-exec -x fcgi_app || true").split())
    try:
        assert pool_after_restart(2) == 2
        assert control("cat /run/code-exec-lighttpd/engine.env").split() == \
            ["PORT=8000", "DATA_DIR=/var/lib/code-exec", "FCGI_PROCS=2"]
    finally:
        assert pool_after_restart(4) == 4


def test_reboot_keeps_the_data_and_brings_the_services_back(stack):
    before = stack.execute("print('before reboot')\n", timeout=120)
    assert before["status"] == "COMPLETED", before
    boot_id = control("cat /proc/sys/kernel/random/boot_id").strip()
    control("systemctl reboot", check=False)
    deadline = time.monotonic() + 600
    while True:
        assert time.monotonic() < deadline, "the machine did not come back"
        try:
            now = control("cat /proc/sys/kernel/random/boot_id", timeout=30).strip()
            if now and now != boot_id:
                break
        except Exception:
            pass
        time.sleep(2)
    stack.start(timeout=180)           # waits for /health 200
    again = stack.get_execution(before["execution_id"])
    kept = ("status", "stdout", "exit_code", "attempt", "started_at", "finished_at")
    assert {k: again[k] for k in kept} == {k: before[k] for k in kept}, (before, again)
    after = stack.execute("print('after reboot')\n", timeout=120)
    assert after["status"] == "COMPLETED" and after["stdout"] == "after reboot\n", after
