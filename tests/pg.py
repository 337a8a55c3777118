"""A PostgreSQL server of the tests' own: initdb and pg_ctl of Debian's
postgresql-15 in a temporary directory, run as an unprivileged user
(nobody when the tests run as root), reached over a unix socket in that
directory (and, if asked, over TCP with TLS and a password, as hosts
elsewhere reach it). Standard library only.

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
PG_PORT = 5432                        # names the socket file (and the TCP port, if any)


def _os_user():
    """The unprivileged account the server runs as: postgres refuses root."""
    if os.geteuid() != 0:
        return None
    return pwd.getpwnam("nobody")


def make_self_signed_cert(directory, ip):
    """A certificate for ip (subject and subjectAltName) signed by its own
    key: (cert path, key path). It is its own CA: clients verify the server
    with sslrootcert = the certificate."""
    cert, key = os.path.join(directory, "server.crt"), os.path.join(directory, "server.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", key, "-out", cert, "-subj", f"/CN={ip}",
                    "-addext", f"subjectAltName=IP:{ip}"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


class PgServer:
    """listen: a TCP address to serve on besides the unix socket, with TLS
    (a self-signed certificate made here) and a password required there;
    netns: the network namespace the server runs in (listen is one of its
    addresses)."""

    def __init__(self, listen=None, port=PG_PORT, netns=None, password="engine-secret"):
        self.listen, self.port, self.netns, self.password = listen, port, netns, password
        self.dir = tempfile.mkdtemp(prefix="engine-pg-test-")
        self.data = os.path.join(self.dir, "data")
        self.user = _os_user()
        os.chmod(self.dir, 0o755)
        if self.user:
            os.chown(self.dir, self.user.pw_uid, self.user.pw_gid)
        self._names = itertools.count(1)
        self.running = False

    def _run(self, *argv, check=True, netns=None):
        def drop():
            if self.user:
                os.setgid(self.user.pw_gid)
                os.setgroups([])
                os.setuid(self.user.pw_uid)
        if netns:           # entering it needs root: drop privileges after
            user = ["runuser", "-u", self.user.pw_name, "--"] if self.user else []
            argv = ("nsenter", f"--net=/run/netns/{netns}", *user, *argv)
        return subprocess.run(argv, preexec_fn=None if netns else drop, cwd=self.dir, check=check,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def _init(self):
        self._run(f"{PG_BIN}/initdb", "-D", self.data, "-U", PG_USER, "--auth=trust",
                  "-E", "UTF8", "--locale=C", "--no-sync")
        if not self.listen:
            return
        self.cert, key = make_self_signed_cert(self.dir, self.listen)
        if self.user:
            for f in (self.cert, key):
                os.chown(f, self.user.pw_uid, self.user.pw_gid)
        os.chmod(key, 0o600)
        # TCP only with TLS and a password; the unix socket (the tests' psql) trusts.
        with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
            f.write("local all all trust\n"
                    "hostssl all all 0.0.0.0/0 scram-sha-256\n"
                    "host all all 0.0.0.0/0 reject\n")
        with open(os.path.join(self.data, "postgresql.auto.conf"), "a") as f:
            f.write(f"ssl = on\nssl_cert_file = '{self.cert}'\nssl_key_file = '{key}'\n")

    def start(self):
        first = not os.path.exists(self.data)
        if first:
            self._init()
        # fsync off: a test server's durability is not what the tests measure.
        opts = f"-c listen_addresses='{self.listen or ''}' -k {self.dir} -p {self.port} -c fsync=off"
        self._run(f"{PG_BIN}/pg_ctl", "-D", self.data, "-o", opts, "-l",
                  os.path.join(self.dir, "server.log"), "-w", "start", netns=self.netns)
        self.running = True
        if first and self.listen:
            self.psql(f"ALTER ROLE {PG_USER} PASSWORD '{self.password}'")
        return self

    def stop(self, mode="fast"):
        if self.running:
            self._run(f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", mode, "-w", "stop", check=False)
            self.running = False

    def psql(self, sql, db="postgres"):
        return self._run(f"{PG_BIN}/psql", "-h", self.dir, "-p", str(self.port), "-U", PG_USER,
                         "-d", db, "-XAtqc", sql).stdout.strip()

    def new_database(self):
        """A fresh database's URL, in the form the store key takes."""
        return self.url(self.new_database_name())

    def new_database_name(self):
        name = f"engine_{os.getpid()}_{next(self._names)}"
        self.psql(f"CREATE DATABASE {name}")
        return name

    def url(self, db):
        return f"postgresql:///{db}?host={self.dir}&port={self.port}&user={PG_USER}"

    def tcp_url(self, db, sslmode="verify-full"):
        """The URL a host elsewhere uses: TCP, TLS verified against the
        server's certificate, the password."""
        return (f"postgresql://{PG_USER}:{self.password}@{self.listen}:{self.port}/{db}"
                f"?sslmode={sslmode}&sslrootcert={self.cert}")

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
            for line in out.split("\n") if line]   # not splitlines: it splits at \x1e too


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
