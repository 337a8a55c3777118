"""The real stack behind Apache instead of lighttpd: Debian's apache2 with
mod_fcgid serving conf/apache-code-exec.conf (the file we ship), the same
fcgi_app binary, the real runner and events program, in a temporary directory.

Apache's children run as www-data, never as root, so the data directory is
laid out as in production (README, "Permissions"): root:www-data, mode
2770, engine.db created empty with mode 0660, and the runner's umask 007 so
its ZeroMQ socket is group-writable.
"""

import grp
import os
import signal
import subprocess
import tempfile

from stack import REPO, Stack, free_port, tail

MODULES = "/usr/lib/apache2/modules"
WEB_USER = "www-data"

SERVER_CONF = """\
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule alias_module {modules}/mod_alias.so
LoadModule fcgid_module {modules}/mod_fcgid.so
ServerName 127.0.0.1
ServerRoot {run}
PidFile {run}/apache.pid
DefaultRuntimeDir {run}
Mutex file:{run} default
ErrorLog {run}/apache-error.log
LogLevel warn
User {user}
Group {user}
StartServers 1
ServerLimit 2
ThreadsPerChild 32
MaxRequestWorkers 64
FcgidIPCDir {run}/fcgid
FcgidProcessTableFile {run}/fcgid_shm
Define CODE_EXEC_LISTEN 127.0.0.1:{port}
Define CODE_EXEC_BIN {bin}
Define CODE_EXEC_CONFIG {pool_config}
Define CODE_EXEC_DATA {data}
Define CODE_EXEC_LOG_DIR {run}
Define CODE_EXEC_PROCS {procs}
Include {repo}/conf/apache-code-exec.conf
"""


class ApacheStack(Stack):
    """Same HTTP helpers as Stack; start() and stop() run Apache + runner."""

    def __init__(self):
        super().__init__()
        self.run_dir = tempfile.mkdtemp(prefix="engine-apache-")
        self.config = str(REPO / "conf" / "engine.conf")
        self.pool_config = None             # the pool's configuration, if not self.config
        self.runner = None
        self.events = None
        self.apache = None
        gid = grp.getgrnam(WEB_USER).gr_gid
        os.chown(self.data_dir, 0, gid)
        os.chmod(self.data_dir, 0o2770)
        db = os.path.join(self.data_dir, "engine.db")
        os.close(os.open(db, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o660))
        os.chown(db, 0, gid)
        os.chmod(db, 0o660)
        os.chmod(self.run_dir, 0o755)

    def log_tail(self, lines=40):
        return "".join(
            f"--- {p} (tail) ---\n{tail(p, lines)}\n"
            for p in (os.path.join(self.run_dir, "apache-error.log"),
                      os.path.join(self.run_dir, "code-exec-error.log"),
                      os.path.join(self.data_dir, "runner.log")))

    def _env(self):
        env = dict(os.environ, PORT=str(self.port), DATA_DIR=self.data_dir,
                   ENGINE_CONFIG=self.config, SANDBOX_UID_BASE=str(self.uid_base))
        env["PATH"] = env.get("PATH", "") + ":/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"
        return env

    def start(self, timeout=15.0):
        assert self.apache is None, "already started"
        if self.port is None:
            self.port = free_port()
        build = REPO / self.build
        procs = subprocess.check_output(
            [str(build / "runner"), "--config", self.config, "--get", "fcgi_processes"],
            text=True).strip()
        conf = os.path.join(self.run_dir, "apache.conf")
        with open(conf, "w") as f:
            f.write(SERVER_CONF.format(modules=MODULES, run=self.run_dir, user=WEB_USER,
                                       port=self.port, bin=build, pool_config=self.pool_config or self.config,
                                       data=self.data_dir, procs=procs, repo=REPO))
        env = self._env()
        with open(os.path.join(self.data_dir, "runner.log"), "ab") as log:
            self.runner = subprocess.Popen(
                [str(build / "runner"), "--config", self.config], env=env,
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                preexec_fn=lambda: os.umask(0o007))
            self.events = subprocess.Popen(
                [str(build / "events"), "--config", self.config], env=env,
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                preexec_fn=lambda: os.umask(0o007))
            self.apache = subprocess.Popen(
                ["apache2", "-DFOREGROUND", "-f", conf], env=env, stdin=subprocess.DEVNULL,
                stdout=log, stderr=log, start_new_session=True)
        self.proc, self.pgid = self.apache, self.apache.pid
        return self._wait_healthy(timeout, {"apache2": self.apache, "runner": self.runner,
                                            "events": self.events})

    def _kill_all(self):
        for p in (self.apache, self.runner, self.events):
            if p is not None and p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
                p.wait(10)
        self.apache = self.runner = self.events = self.proc = None

    def stop(self, timeout=15.0):
        """SIGTERM to Apache (graceful stop), the runner and the events
        program; asserts all exit and that no fcgi_app of this stack is left behind."""
        for p in (self.apache, self.runner, self.events):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
        try:
            for p in (self.apache, self.runner, self.events):
                if p is not None:
                    p.wait(timeout)
        finally:
            left = self.leftover_processes(set())
            self._kill_all()
        assert not left, f"processes left after Apache and the runner stopped: {left}"

    def cleanup(self):
        super().cleanup()
        import shutil
        shutil.rmtree(self.run_dir, ignore_errors=True)
