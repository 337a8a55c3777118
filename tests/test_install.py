"""make install: the file list with DESTDIR, and the installed systemd units
checked by systemd-analyze verify against an installation under PREFIX."""

import os
import shutil
import stat
import subprocess

from stack import REPO

BUILD = os.environ.get("BUILD", "build")

EXPECTED = {
    "usr/local/bin/code-exec-runner",
    "usr/local/bin/code-exec-events",
    "usr/local/lib/code-exec/fcgi_app",
    "usr/local/share/code-exec/schema.sql",
    "usr/local/share/doc/code-exec/README.md",
    "etc/code-exec/engine.conf",
    "etc/code-exec/languages.conf",
    "etc/code-exec/lighttpd.conf",
    "etc/code-exec/apache2/code-exec.conf",
    "usr/local/lib/systemd/system/code-exec-runner.service",
    "usr/local/lib/systemd/system/code-exec-lighttpd.service",
    "usr/local/lib/systemd/system/code-exec-events.service",
    "usr/local/lib/tmpfiles.d/code-exec.conf",
} | {f"usr/local/share/code-exec/qa/{f}" for f in os.listdir(REPO / "tests" / "qa")}


def make_install(*args):
    r = subprocess.run(["make", "--no-print-directory", "-C", str(REPO), f"BUILD={BUILD}",
                        "install", *args], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def files_under(root):
    out = set()
    for d, _, names in os.walk(root):
        for n in names:
            out.add(os.path.relpath(os.path.join(d, n), root))
    return out


def test_install_with_destdir_puts_every_file_in_place(tmp_path):
    make_install(f"DESTDIR={tmp_path}")
    files = {f for f in files_under(tmp_path) if "/code-exec/www/" not in f}
    assert files == EXPECTED
    for exe in ("usr/local/bin/code-exec-runner", "usr/local/bin/code-exec-events",
                "usr/local/lib/code-exec/fcgi_app"):
        assert os.access(tmp_path / exe, os.X_OK), exe
    data = tmp_path / "var/lib/code-exec"
    assert data.is_dir() and stat.S_IMODE(data.stat().st_mode) == 0o2770


def test_install_keeps_an_existing_engine_conf(tmp_path):
    conf = tmp_path / "etc/code-exec/engine.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text("port = 9999\n")
    make_install(f"DESTDIR={tmp_path}")
    assert conf.read_text() == "port = 9999\n"


def test_installed_files_name_the_prefix(tmp_path):
    make_install(f"DESTDIR={tmp_path}", "PREFIX=/opt/ce")
    unit = (tmp_path / "opt/ce/lib/systemd/system/code-exec-runner.service").read_text()
    assert "ExecStart=/opt/ce/bin/code-exec-runner --config /etc/code-exec/engine.conf" in unit
    lighttpd = (tmp_path / "opt/ce/lib/systemd/system/code-exec-lighttpd.service").read_text()
    assert "ENGINE_BIN=/opt/ce/lib/code-exec" in lighttpd
    events = (tmp_path / "opt/ce/lib/systemd/system/code-exec-events.service").read_text()
    assert "ExecStart=/opt/ce/bin/code-exec-events --config /etc/code-exec/engine.conf" in events
    apache = (tmp_path / "etc/code-exec/apache2/code-exec.conf").read_text()
    assert "Define CODE_EXEC_BIN /opt/ce/lib/code-exec" in apache


def test_installed_units_pass_systemd_analyze_verify(tmp_path):
    assert shutil.which("systemd-analyze"), "systemd-analyze is missing: make test installs systemd"
    root = tmp_path / "root"
    make_install(f"PREFIX={root}/usr", f"SYSCONFDIR={root}/etc", f"LOCALSTATEDIR={root}/var")
    units = sorted((root / "usr/lib/systemd/system").glob("*.service"))
    assert len(units) == 3
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", *map(str, units)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stderr == "", r.stderr
