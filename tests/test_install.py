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
    "usr/local/share/doc/code-exec/LICENSE",
    "usr/local/share/code-exec/prometheus/alerts.yml",
    "usr/local/share/code-exec/prometheus/prometheus.yml",
    "usr/local/share/code-exec/grafana/engine.json",
    "etc/code-exec/engine.conf",
    "etc/code-exec/languages.conf",
    "etc/code-exec/typescript-snapshot.js",
    "etc/code-exec/java-snapshot.java",
    "etc/code-exec/lighttpd.conf",
    "etc/code-exec/apache2/code-exec.conf",
    "etc/code-exec/apache2/code-exec-listen.conf",
    "etc/code-exec/apache2/apache2-service-code-exec.conf",
    "etc/logrotate.d/code-exec",
    "usr/local/lib/systemd/system/code-exec-runner.service",
    "usr/local/lib/systemd/system/code-exec-lighttpd.service",
    "usr/local/lib/systemd/system/code-exec-events.service",
    "usr/local/lib/tmpfiles.d/code-exec.conf",
    "usr/local/lib/sysusers.d/code-exec.conf",
} | {f"usr/local/share/code-exec/qa/{f}" for f in os.listdir(REPO / "tests" / "qa")} \
  | {f"usr/local/share/man/man8/{f}" for f in os.listdir(REPO / "man")}


def make_install(*args, build=BUILD, ok=True):
    r = subprocess.run(["make", "--no-print-directory", "-C", str(REPO), f"BUILD={build}",
                        "install", *args], capture_output=True, text=True, timeout=120)
    assert (r.returncode == 0) == ok, r.stdout + r.stderr
    return r


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
    www = tmp_path / "usr/local/lib/code-exec/www"
    assert (www / "openapi.json").is_file() and (www / "errors" / "413.html").is_file()


def test_install_keeps_an_existing_engine_conf(tmp_path):
    conf = tmp_path / "etc/code-exec/engine.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text("port = 9999\n")
    make_install(f"DESTDIR={tmp_path}")
    assert conf.read_text() == "port = 9999\n"


def test_install_again_keeps_edited_config_and_writes_the_new_one_beside_it(tmp_path):
    make_install(f"DESTDIR={tmp_path}")
    lighttpd = tmp_path / "etc/code-exec/lighttpd.conf"
    shipped = lighttpd.read_text()
    lighttpd.write_text(shipped + "server.max-connections = 64\n")
    r = make_install(f"DESTDIR={tmp_path}")
    assert lighttpd.read_text() == shipped + "server.max-connections = 64\n"
    assert (tmp_path / "etc/code-exec/lighttpd.conf.dist").read_text() == shipped
    assert f"kept {lighttpd} (edited); this release's is {lighttpd}.dist" in r.stderr
    # An unedited file is replaced in place, and a .dist of an earlier install goes.
    lighttpd.write_text(shipped)
    make_install(f"DESTDIR={tmp_path}")
    assert not (tmp_path / "etc/code-exec/lighttpd.conf.dist").exists()
    assert not list(tmp_path.glob("etc/**/*.new"))


def test_install_refuses_to_ship_without_the_static_files(tmp_path):
    build = tmp_path / "build"
    build.mkdir()
    for program in ("runner", "events", "fcgi_app"):
        (build / program).symlink_to(REPO / BUILD / program)
    r = make_install(f"DESTDIR={tmp_path / 'root'}", build=str(build), ok=False)
    assert f"{build}/www is missing or incomplete: run 'make www'" in r.stderr, r.stderr
    assert not (tmp_path / "root" / "usr").exists()


def test_installed_engine_conf_is_the_one_source_of_port_data_dir_and_pool_size(tmp_path):
    make_install(f"DESTDIR={tmp_path}", "LOCALSTATEDIR=/srv")
    conf = tmp_path / "etc/code-exec/engine.conf"
    env = {k: v for k, v in os.environ.items() if k not in ("PORT", "DATA_DIR", "ENGINE_CONFIG")}
    runner = str(tmp_path / "usr/local/bin/code-exec-runner")
    out = subprocess.run([runner, "--config", str(conf), "--env"], env=env, capture_output=True, text=True)
    assert out.stdout == "PORT=8000\nDATA_DIR=/srv/lib/code-exec\nFCGI_PROCS=8\n", out
    check = subprocess.run([runner, "--config", str(conf), "--check-config"], env=env, capture_output=True,
                           text=True)
    assert (check.returncode, check.stdout) == (0, f"{conf}: ok\n"), check
    # The units take them from there: none sets its own.
    units = (tmp_path / "usr/local/lib/systemd/system").glob("*.service")
    for unit in units:
        text = unit.read_text()
        for var in ("PORT=", "DATA_DIR=", "FCGI_PROCS="):
            assert f"Environment={var}" not in text and f" {var}" not in text.replace("--env", ""), unit
    lighttpd = (tmp_path / "usr/local/lib/systemd/system/code-exec-lighttpd.service").read_text()
    assert ("ExecStartPre=/bin/sh -c 'exec /usr/local/bin/code-exec-runner --config "
            "/etc/code-exec/engine.conf --env > /run/code-exec-lighttpd/engine.env'") in lighttpd
    assert "EnvironmentFile=-/run/code-exec-lighttpd/engine.env" in lighttpd


def test_installed_programs_print_their_version(tmp_path):
    make_install(f"DESTDIR={tmp_path}")
    version = next(l.split('"')[1] for l in (REPO / "common/version.h").read_text().splitlines()
                   if l.startswith('#define ENGINE_VERSION "'))
    for program, name in (("usr/local/bin/code-exec-runner", "code-exec-runner"),
                          ("usr/local/bin/code-exec-events", "code-exec-events"),
                          ("usr/local/lib/code-exec/fcgi_app", "fcgi_app")):
        out = subprocess.run([str(tmp_path / program), "--version"], capture_output=True, text=True)
        assert out.returncode == 0 and out.stdout.startswith(f"{name} {version} (schema version "), out


def test_man_pages_format_without_warnings_and_name_the_release(tmp_path):
    make_install(f"DESTDIR={tmp_path}")
    pages = sorted((tmp_path / "usr/local/share/man/man8").glob("*.8"))
    assert [p.name for p in pages] == ["code-exec-events.8", "code-exec-fcgi_app.8", "code-exec-runner.8"]
    for page in pages:
        out = subprocess.run(["groff", "-man", "-ww", "-z", "-Tutf8", str(page)], capture_output=True, text=True)
        assert (out.returncode, out.stderr) == (0, ""), (page, out)
        assert "@VERSION@" not in page.read_text() and "code-exec 1." in page.read_text()


def test_logrotate_snippet_is_valid(tmp_path):
    assert shutil.which("logrotate") or os.path.exists("/usr/sbin/logrotate"), \
        "logrotate is missing: make test installs it"
    make_install(f"DESTDIR={tmp_path}")
    snippet = tmp_path / "etc/logrotate.d/code-exec"
    # Rotated for real in a directory of its own, as the user running the test.
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "access.log").write_text("a request\n")
    user = subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
    group = subprocess.run(["id", "-gn"], capture_output=True, text=True).stdout.strip()
    local = tmp_path / "code-exec.logrotate"
    local.write_text(snippet.read_text().replace("/var/lib/code-exec", str(logs))
                     .replace("code-exec code-exec", f"{user} {group}")
                     .replace("systemctl reload code-exec-lighttpd.service", "true"))
    out = subprocess.run(["/usr/sbin/logrotate", "--force", "--state", str(tmp_path / "state"), str(local)],
                         capture_output=True, text=True)
    assert (out.returncode, out.stderr) == (0, ""), out
    assert sorted(p.name for p in logs.iterdir()) == ["access.log", "access.log.1"]
    assert (logs / "access.log.1").read_text() == "a request\n" and (logs / "access.log").read_text() == ""


def test_installed_files_name_the_prefix(tmp_path):
    make_install(f"DESTDIR={tmp_path}", "PREFIX=/opt/ce")
    unit = (tmp_path / "opt/ce/lib/systemd/system/code-exec-runner.service").read_text()
    assert "ExecStart=/opt/ce/bin/code-exec-runner --config /etc/code-exec/engine.conf" in unit
    assert "ExecStartPre=+/usr/bin/systemd-sysusers /opt/ce/lib/sysusers.d/code-exec.conf" in unit
    lighttpd = (tmp_path / "opt/ce/lib/systemd/system/code-exec-lighttpd.service").read_text()
    assert "ENGINE_BIN=/opt/ce/lib/code-exec" in lighttpd
    assert "ExecStartPre=/bin/sh -c 'exec /opt/ce/bin/code-exec-runner --config" in lighttpd
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
