"""A PostgreSQL server of the tests' own: initdb and pg_ctl of Debian's
postgresql-15 in a temporary directory, run as an unprivileged user
(nobody when the tests run as root), reached over a unix socket in that
directory only (no TCP port). Standard library only.

With STORE=postgresql in the environment, every Stack of the test session
runs on a fresh database of one such server (session_store_url); the
SQLite store is the default otherwise.
"""

import atexit
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile

PG_BIN = "/usr/lib/postgresql/15/bin"
PG_USER = "engine"                    # the database role the engine connects as
PG_PORT = 5432                        # only names the socket file: no TCP


def _os_user():
    """The unprivileged account the server runs as: postgres refuses root."""
    if os.geteuid() != 0:
        return None
    return pwd.getpwnam("nobody")


class PgServer:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="engine-pg-test-")
        self.data = os.path.join(self.dir, "data")
        self.user = _os_user()
        os.chmod(self.dir, 0o755)
        if self.user:
            os.chown(self.dir, self.user.pw_uid, self.user.pw_gid)
        self._names = itertools.count(1)
        self.running = False

    def _run(self, *argv, check=True):
        def drop():
            if self.user:
                os.setgid(self.user.pw_gid)
                os.setgroups([])
                os.setuid(self.user.pw_uid)
        return subprocess.run(argv, preexec_fn=drop, cwd=self.dir, check=check,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def start(self):
        if not os.path.exists(self.data):
            self._run(f"{PG_BIN}/initdb", "-D", self.data, "-U", PG_USER, "--auth=trust",
                      "-E", "UTF8", "--locale=C", "--no-sync")
        # fsync off: a test server's durability is not what the tests measure.
        opts = f"-c listen_addresses='' -k {self.dir} -p {PG_PORT} -c fsync=off"
        self._run(f"{PG_BIN}/pg_ctl", "-D", self.data, "-o", opts, "-l",
                  os.path.join(self.dir, "server.log"), "-w", "start")
        self.running = True
        return self

    def stop(self, mode="fast"):
        if self.running:
            self._run(f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", mode, "-w", "stop", check=False)
            self.running = False

    def psql(self, sql, db="postgres"):
        return self._run(f"{PG_BIN}/psql", "-h", self.dir, "-p", str(PG_PORT), "-U", PG_USER,
                         "-d", db, "-XAtqc", sql).stdout.strip()

    def new_database(self):
        """A fresh database's URL, in the form the store key takes."""
        name = f"engine_{os.getpid()}_{next(self._names)}"
        self.psql(f"CREATE DATABASE {name}")
        return self.url(name)

    def url(self, db):
        return f"postgresql:///{db}?host={self.dir}&port={PG_PORT}&user={PG_USER}"

    def cleanup(self):
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def query_rows(url, sql):
    """Rows of a read-only query on the database at url, each a tuple of
    text values (None for NULL)."""
    out = subprocess.run([f"{PG_BIN}/psql", "-XAtq", "-F", "\x1f", "-P", "null=\x1e",
                          "-d", url, "-c", sql],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    return [tuple(None if v == "\x1e" else v for v in line.split("\x1f"))
            for line in out.splitlines()]


_session = None


def enabled():
    return os.environ.get("STORE", "") == "postgresql"


def session_store_url():
    """With STORE=postgresql: a new database on the session's server (started
    on first use, stopped at exit). Otherwise None: the SQLite store."""
    global _session
    if not enabled():
        return None
    if _session is None:
        _session = PgServer().start()
        atexit.register(_session.cleanup)
    return _session.new_database()
