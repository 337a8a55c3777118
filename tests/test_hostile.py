"""The hostile-code suite: escape and denial-of-service attempts run through
the real API, each with its exact outcome, and proof that the host and the
next execution are unharmed.

Independent cases run concurrently (a few at a time, one session each):
they are submitted together by a module fixture and each test asserts one
case's result. Cases marked BOTH also run against a second stack started
with `sandbox_mode = rlimit`, where memory is bounded by RLIMIT_AS instead
of a cgroup. Cases that need two executions at once, or one after another,
are separate tests below.
"""

import concurrent.futures
import glob
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

from stack import REPO, Stack, is_sandbox_uid

HELLO = 'print("hello")\n'
WALL_MS = 5000
OUT_MAX = 65536
MODE_RE = re.compile(r"^namespaces\+(cgroup-v1|cgroup-v2|rlimits-unbounded)\+seccomp$")

# Python prologue for raw syscalls through ctypes: sc(nr, *args) -> "ok" or
# the errno name. Numbers are x86-64's.
SYSCALL = """import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
def sc(nr, *a):
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(x) for x in a])
    return 'ok' if r >= 0 else errno.errorcode[ctypes.get_errno()]
"""

ERRNO_OF = """import errno
def err(f, *a):
    try:
        f(*a)
        return 'ok'
    except OSError as e:
        return errno.errorcode.get(e.errno, type(e).__name__)
"""


# ---- the cases ------------------------------------------------------------------
#
# Each case: code, optional stdin, and expect(ex, ctx) asserting the outcome;
# ctx has the stack and its mode ("cgroup" or "rlimit"). BOTH: also run in
# rlimit-only mode.

CASES = {}
BOTH = set()


def case(name, code, stdin=None, both=True):
    def register(expect):
        CASES[name] = (code, stdin, expect)
        if both:
            BOTH.add(name)
        return expect
    return register


def outcome(ex, status, code=None, stdout=None, exit_code=None, signal=None):
    assert ex["status"] == status, ex
    if code is None:
        assert ex["error"] is None, ex
    else:
        assert ex["error"] and ex["error"]["code"] == code, ex
    if stdout is not None:
        assert ex["stdout"] == stdout, ex
    if exit_code is not None:
        assert ex["exit_code"] == exit_code, ex
    if signal is not None:
        assert ex["signal"] == signal, ex


def completed(ex, stdout):
    outcome(ex, "COMPLETED", None, stdout, exit_code=0)


def timed_out(ex, stdout=None):
    outcome(ex, "TIMEOUT", "TIMEOUT", stdout)
    assert WALL_MS - 100 <= ex["execution_time_ms"] < WALL_MS + 1500, ex


# -- time and processes

@case("cpu_loop", "while True: pass\n")
def _(ex, ctx):
    timed_out(ex, "")
    if ctx["mode"] == "cgroup":       # the cgroup counts a process killed at the limit
        assert ex["cpu_time_ms"] >= 1000, ex


@case("sleep_forever", "import time\nprint('start', flush=True)\ntime.sleep(3600)\n")
def _(ex, ctx):
    timed_out(ex, "start\n")


@case("self_sigstop", "import os, signal\nprint('stopping', flush=True)\n"
      "os.kill(os.getpid(), signal.SIGSTOP)\nprint('resumed')\n")
def _(ex, ctx):
    timed_out(ex, "stopping\n")


@case("ignores_sigterm_and_friends",
      "import signal, time\n"
      "for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGXCPU, signal.SIGUSR1):\n"
      "    signal.signal(s, signal.SIG_IGN)\n"
      "print('ignoring', flush=True)\nwhile True: time.sleep(0.1)\n")
def _(ex, ctx):
    timed_out(ex, "ignoring\n")


@case("threads_work",
      "import threading\nres = [0] * 16\n"
      "def work(i): res[i] = sum(range(i * 10000))\n"
      "ts = [threading.Thread(target=work, args=(i,)) for i in range(16)]\n"
      "[t.start() for t in ts]\n[t.join() for t in ts]\nprint(len(res), res[15])\n")
def _(ex, ctx):
    completed(ex, f"16 {sum(range(150000))}\n")


@case("fork_bomb",
      "import os, time\nroot = os.getpid()\nn = 0\n"
      "for _ in range(500):\n"
      "    try:\n        pid = os.fork()\n    except OSError:\n        break\n"
      "    if pid == 0:\n        continue\n    n += 1\n"
      "if os.getpid() == root:\n    print('bounded', n < 64, flush=True)\n"
      "time.sleep(3600)\n")
def _(ex, ctx):
    timed_out(ex, "bounded True\n")


@case("thread_bomb",
      "import os, threading, time\nn = 0\n"
      "try:\n    while True:\n"
      "        threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()\n        n += 1\n"
      "except RuntimeError as e:\n    print('limited', n < 64, e)\n"
      "os._exit(0)\n")
def _(ex, ctx):
    completed(ex, "limited True can't start new thread\n")


@case("setsid_double_fork_daemon",
      "import os, signal, time\n"
      "if os.fork() == 0:\n    os.setsid()\n"
      "    if os.fork() == 0:\n"
      "        for s in (signal.SIGTERM, signal.SIGHUP): signal.signal(s, signal.SIG_IGN)\n"
      "        while True: time.sleep(1)\n"
      "    os._exit(0)\n"
      "os.wait()\nprint('parent done')\n")
def _(ex, ctx):
    completed(ex, "parent done\n")
    assert ex["execution_time_ms"] < 3000, ex       # init's exit took the daemon along


@case("four_process_spin_gets_one_cpu",
      "import os, time\n"
      "t = time.monotonic()\n"
      "kids = []\n"
      "for _ in range(3):\n"
      "    pid = os.fork()\n"
      "    if pid == 0:\n        kids = None\n        break\n"
      "    kids.append(pid)\n"
      "while time.monotonic() - t < 2: pass\n"
      "if kids is None:\n    os._exit(0)\n"
      "for k in kids: os.waitpid(k, 0)\n"
      "print('spun')\n")
def _(ex, ctx):
    completed(ex, "spun\n")
    if ctx["mode"] == "cgroup":     # cpu.max / cfs_quota: max_cpu_percent = 100, one CPU's worth
        assert ex["cpu_time_ms"] <= ex["execution_time_ms"] * 1.1 + 50, ex


@case("multiprocessing_pool_works",
      "import multiprocessing\n"
      "def sq(x): return x * x\n"
      "if __name__ == '__main__':\n"
      "    with multiprocessing.Pool(4) as p: print(p.map(sq, range(6)))\n")
def _(ex, ctx):
    completed(ex, "[0, 1, 4, 9, 16, 25]\n")


# -- memory

@case("memory_bomb", "print('start', flush=True)\nx = b'x' * (1 << 30)\nprint('survived')\n")
def _(ex, ctx):
    if ctx["mode"] == "cgroup":
        outcome(ex, "FAILED", "MEMORY_LIMIT", "start\n", signal=9)
        assert ex["memory_kb"] <= 256 * 1024, ex
    else:
        outcome(ex, "FAILED", "RUNTIME_ERROR", "start\n", exit_code=1)
        assert "MemoryError" in ex["stderr"], ex


@case("slow_page_touching_oom",
      "import time\nl = []\n"
      "while True:\n    l.append(b'\\x01' * (4 << 20))\n    time.sleep(0.005)\n")
def _(ex, ctx):
    if ctx["mode"] == "cgroup":
        outcome(ex, "FAILED", "MEMORY_LIMIT", "", signal=9)
        assert 200 * 1024 <= ex["memory_kb"] <= 256 * 1024, ex
    else:
        outcome(ex, "FAILED", "RUNTIME_ERROR", "", exit_code=1)
        assert "MemoryError" in ex["stderr"], ex


# -- files

@case("fill_the_tmpfs", ERRNO_OF +
      "n = 0\n"
      "def fill():\n    global n\n"
      "    while True:\n        open(f'/tmp/f{n}', 'wb').write(b'x' * (1 << 20)); n += 1\n"
      "print(err(fill), n <= 16)\n")
def _(ex, ctx):
    completed(ex, "ENOSPC True\n")


@case("fill_dev_shm", ERRNO_OF +
      "n = 0\n"
      "def fill():\n    global n\n"
      "    while True:\n        open(f'/dev/shm/f{n}', 'wb').write(b'x' * (1 << 20)); n += 1\n"
      "print(err(fill), n <= 5)\n")
def _(ex, ctx):
    completed(ex, "ENOSPC True\n")


@case("a_million_empty_files", ERRNO_OF +
      "n = 0\n"
      "def make():\n    global n\n"
      "    for i in range(1000000):\n        open(f'/tmp/e{i}', 'w').close(); n += 1\n"
      "print(err(make), n < 10000)\n")
def _(ex, ctx):
    completed(ex, "ENOSPC True\n")


@case("seek_far_and_write", ERRNO_OF +
      "import os\nfd = os.open('/tmp/sparse', os.O_WRONLY | os.O_CREAT)\n"
      "os.lseek(fd, 1 << 40, 0)\nprint(err(os.write, fd, b'x'))\n"
      "os.lseek(fd, (8 << 20), 0)\nprint(err(os.write, fd, b'x'))\n")
def _(ex, ctx):
    completed(ex, "EFBIG\nok\n")


@case("fd_exhaustion", ERRNO_OF +
      "fds = []\n"
      "def grab():\n    while True: fds.append(open('/dev/null'))\n"
      "print(err(grab), 50 < len(fds) < 64)\n")
def _(ex, ctx):
    completed(ex, "EMFILE True\n")


@case("write_under_usr_and_etc", ERRNO_OF +
      "for p in ('/usr/evil', '/usr/bin/evil', '/etc/passwd', '/evil', '/app/evil'):\n"
      "    print(p, err(open, p, 'w'))\n")
def _(ex, ctx):
    completed(ex, "".join(f"{p} EROFS\n" for p in
                          ("/usr/evil", "/usr/bin/evil", "/etc/passwd", "/evil", "/app/evil")))


@case("execute_a_file_written_to_tmp", ERRNO_OF +
      "import os, shutil\nshutil.copy('/usr/bin/true', '/tmp/t')\nos.chmod('/tmp/t', 0o755)\n"
      "print(err(os.execv, '/tmp/t', ['t']))\n")
def _(ex, ctx):
    completed(ex, "EACCES\n")


@case("hard_link_a_host_binary", ERRNO_OF +
      "import os\nprint(err(os.link, '/usr/bin/python3', '/tmp/py'))\n"
      "print(err(os.link, '/usr/bin/su', '/usr/bin/su2'))\n")
def _(ex, ctx):
    completed(ex, "EXDEV\nEROFS\n")


@case("plant_symlinks_and_fifos", ERRNO_OF +
      "import os\n"
      "print(err(os.symlink, '/etc/shadow', '/tmp/main.py'))\n"
      "print(err(os.mkfifo, '/tmp/stdout'))\n"
      "print(err(os.mkfifo, '/dev/shm/x'))\n"
      "print(err(os.symlink, '/', '/app/root'))\n"
      "print(err(os.unlink, '/app/main.py'))\n"
      "print(err(os.mkfifo, '/app/main.fifo'))\n")
def _(ex, ctx):
    completed(ex, "ok\nok\nok\nEROFS\nEROFS\nEROFS\n")


# Through C (repr -> __repr__ -> repr ...): Python-to-Python calls no longer
# use the C stack in 3.11, they would only fill the heap.
@case("deep_recursion_crash",
      "import sys\nsys.setrecursionlimit(10 ** 8)\n"
      "class A:\n    def __repr__(self): return repr(self)\n"
      "print('go', flush=True)\nrepr(A())\n")
def _(ex, ctx):
    outcome(ex, "FAILED", "RUNTIME_ERROR", "go\n", signal=11)
    assert ex["exit_code"] is None, ex


@case("abort_without_core_file",
      "import os, resource\nprint(resource.getrlimit(resource.RLIMIT_CORE), flush=True)\nos.abort()\n")
def _(ex, ctx):
    outcome(ex, "FAILED", "RUNTIME_ERROR", "(0, 0)\n", signal=6)
    for d in (str(REPO), ctx["stack"].data_dir):
        assert not glob.glob(os.path.join(d, "core*")), d


@case("invalid_utf8_output",
      "import sys\nsys.stdout.buffer.write(b'a\\xff\\xfeb\\xc3\\n')\nsys.stderr.buffer.write(b'\\x80')\n")
def _(ex, ctx):
    completed(ex, "a\ufffd\ufffdb\ufffd\n")
    assert ex["stderr"] == "\ufffd", ex


@case("large_stdin_never_read", "print('ignored stdin')\n", stdin="z" * 65536)
def _(ex, ctx):
    completed(ex, "ignored stdin\n")


# -- output

@case("stdout_flood", "while True: print('x' * 1000)\n")
def _(ex, ctx):
    outcome(ex, "FAILED", "OUTPUT_LIMIT")
    assert len(ex["stdout"]) == OUT_MAX and ex["stdout_truncated"] is True, ex
    assert ex["stderr_truncated"] is False


@case("stderr_flood", "import sys\nwhile True: sys.stderr.write('y' * 4096)\n")
def _(ex, ctx):
    outcome(ex, "FAILED", "OUTPUT_LIMIT", "")
    assert len(ex["stderr"]) == OUT_MAX and ex["stderr_truncated"] is True, ex


# -- network

@case("network_connect", ERRNO_OF +
      "import socket\n"
      "print(err(socket.create_connection, ('1.1.1.1', 80), 2))\n"
      "print(err(socket.create_connection, ('2606:4700:4700::1111', 80), 2))\n")
def _(ex, ctx):
    # IPv6 has not even an address in the new namespace.
    completed(ex, "ENETUNREACH\nEADDRNOTAVAIL\n")


@case("dns_lookup",
      "import socket\n"
      "try:\n    socket.getaddrinfo('example.com', 80)\n    print('resolved')\n"
      "except socket.gaierror:\n    print('gaierror')\n")
def _(ex, ctx):
    completed(ex, "gaierror\n")


@case("netlink_vsock_packet_sockets", ERRNO_OF +
      "import socket\n"
      "print(err(socket.socket, socket.AF_NETLINK, socket.SOCK_RAW, 0))\n"
      "print(err(socket.socket, socket.AF_VSOCK, socket.SOCK_STREAM))\n"
      "print(err(socket.socket, socket.AF_PACKET, socket.SOCK_RAW))\n"
      "print(err(socket.socket, socket.AF_UNIX, socket.SOCK_STREAM))\n")
def _(ex, ctx):
    completed(ex, "EPERM\nEPERM\nEPERM\nok\n")


@case("socketpair_of_kernel_families", ERRNO_OF +
      "import socket\n"
      "print(err(socket.socketpair, socket.AF_NETLINK, socket.SOCK_RAW, 0))\n"
      "print(err(socket.socketpair, socket.AF_VSOCK, socket.SOCK_STREAM))\n"
      "print(err(socket.socketpair, socket.AF_PACKET, socket.SOCK_RAW))\n"
      "print(err(socket.socketpair, socket.AF_INET, socket.SOCK_STREAM))\n"
      "print(err(socket.socketpair, socket.AF_UNIX, socket.SOCK_STREAM))\n")
def _(ex, ctx):
    completed(ex, "EPERM\nEPERM\nEPERM\nEPERM\nok\n")


@case("socket_protocols_beyond_tcp_and_udp", SYSCALL + ERRNO_OF +
      "import socket as s\n"
      "for fam, typ, proto in ((s.AF_INET, s.SOCK_STREAM, 262), (s.AF_INET6, s.SOCK_STREAM, 262),\n"
      "                        (s.AF_INET, s.SOCK_STREAM, s.IPPROTO_SCTP), (s.AF_INET, 6, 33),\n"  # 6: SOCK_DCCP
      "                        (s.AF_INET, s.SOCK_DGRAM, s.IPPROTO_UDPLITE),\n"
      "                        (s.AF_INET, s.SOCK_DGRAM, s.IPPROTO_ICMP),\n"
      "                        (s.AF_INET, s.SOCK_STREAM, 0), (s.AF_INET, s.SOCK_STREAM, s.IPPROTO_TCP),\n"
      "                        (s.AF_INET6, s.SOCK_DGRAM, s.IPPROTO_UDP), (s.AF_UNIX, s.SOCK_DGRAM, 0)):\n"
      "    print(err(s.socket, fam, typ, proto), end=' ')\n"
      "print(sc(41, 2, 1, (1 << 32) | 6))\n")     # TCP with garbage above the int: no way through
def _(ex, ctx):
    completed(ex, "EPERM " * 6 + "ok " * 4 + "EPERM\n")


@case("kcmp_and_numa_memory_policy", SYSCALL +
      "import os\n"
      "print(sc(312, os.getpid(), os.getpid(), 0, 0, 0),\n"        # kcmp(KCMP_FILE)
      "      sc(239, 0, 0, 0, 0, 0), sc(238, 0, 0, 0),\n"         # get_mempolicy, set_mempolicy
      "      sc(237, 0, 4096, 0, 0, 0, 0),\n"                     # mbind
      "      sc(279, 0, 0, 0, 0, 0, 0), sc(256, 0, 0, 0, 0),\n"   # move_pages, migrate_pages
      "      sc(450, 0, 4096, 0, 0))\n")                           # set_mempolicy_home_node
def _(ex, ctx):
    completed(ex, "EPERM EPERM EPERM EPERM EPERM EPERM EPERM\n")


@case("execute_from_a_memfd", ERRNO_OF +
      "import os\n"
      "print(err(os.memfd_create, 'exe'))\n"                       # executable by default: refused
      "try:\n    fd = os.memfd_create('sealed', 8)\n"              # MFD_NOEXEC_SEAL
      "except OSError as e:\n    print(errno.errorcode[e.errno]); raise SystemExit\n"
      "os.write(fd, open('/usr/bin/true', 'rb').read())\n"
      "print(err(os.execv, f'/proc/self/fd/{fd}', ['t']))\n")
def _(ex, ctx):
    # A sealed memfd exists only where the kernel can seal it (Linux 6.3+),
    # and not in rlimit-only mode (nothing would count its pages): else
    # memfd_create fails with EPERM whatever the flags. Never a kill.
    sealed = ctx["mode"] == "cgroup" and kernel_seals_memfds_noexec()
    completed(ex, "EPERM\nEACCES\n" if sealed else "EPERM\nEPERM\n")


def kernel_seals_memfds_noexec():
    """True if this host's kernel knows MFD_NOEXEC_SEAL (Linux 6.3)."""
    try:
        os.close(os.memfd_create("noexec-probe", os.MFD_CLOEXEC | 8))
        return True
    except OSError:
        return False


# -- secrets and the environment

@case("read_etc_shadow_and_passwd", ERRNO_OF +
      "print(err(open, '/etc/shadow'))\nprint(err(open, '/etc/passwd'))\nprint(sorted(__import__('os').listdir('/etc')))\n")
def _(ex, ctx):
    completed(ex, "ENOENT\nENOENT\n[]\n")


@case("read_proc_1_environ", ERRNO_OF +
      "import os\nprint(err(open, '/proc/1/environ'))\n"
      "print(sorted(p for p in os.listdir('/proc') if p.isdigit()) == [str(os.getpid())])\n")
def _(ex, ctx):
    completed(ex, "ENOENT\nTrue\n")


@case("host_information_in_proc",
      "import os\n"
      "print([p for p in ('/proc/cmdline', '/proc/version', '/proc/config.gz', '/proc/kallsyms',\n"
      "                   '/proc/sys/kernel/random/boot_id', '/proc/meminfo', '/proc/mounts',\n"
      "                   '/proc/1/mountinfo', '/proc/sys', '/proc/net') if os.path.exists(p)])\n"
      "print(os.getpid(), sorted(os.listdir('/proc')), open('/proc/self/status').readline().split()[1][:7])\n"
      "print(os.cpu_count() > 0, len(open('/proc/self/maps').read()) > 0)\n")
def _(ex, ctx):
    completed(ex, "[]\n2 ['2', 'self', 'thread-self'] python3\nTrue True\n")


@case("list_open_fds", "import os\nprint(sorted(int(f) for f in os.listdir('/proc/self/fd')))\n")
def _(ex, ctx):
    completed(ex, "[0, 1, 2, 3]\n")          # 3 is listdir's own directory fd


@case("dump_the_environment", "import os\nprint(sorted(os.environ.items()))\n")
def _(ex, ctx):
    # The engine's own, then Python's from conf/languages.conf (its data packages').
    completed(ex, "[('FONTCONFIG_FILE', '/usr/share/fontconfig/conf.avail/10-hinting-slight.conf'), "
                  "('HOME', '/tmp'), ('LANG', 'C.UTF-8'), "
                  "('LD_LIBRARY_PATH', '/usr/lib/x86_64-linux-gnu/blas:/usr/lib/x86_64-linux-gnu/lapack'), "
                  "('MATPLOTLIBRC', '/usr/share/matplotlib/mpl-data/matplotlibrc'), ('MPLBACKEND', 'module://engine_plots'), "
                  "('MPLCONFIGDIR', '/tmp/.matplotlib'), ('PATH', '/usr/local/bin:/usr/bin:/bin'),"
                  " ('TMPDIR', '/tmp')]\n")


@case("no_controlling_terminal", ERRNO_OF +
      "import os\nprint(err(open, '/dev/tty'))\n"
      "print(open('/proc/self/stat').read().rsplit(')', 1)[1].split()[4])\n"
      "print(os.getsid(0) == os.getpid())\n")
def _(ex, ctx):
    completed(ex, "ENOENT\n0\nTrue\n")       # tty_nr 0; a session of its own


# -- signals and privileges

@case("kill_everything",
      "import os, signal, time\n"
      "if os.fork() == 0:\n    time.sleep(3600)\n"
      "time.sleep(0.1)\n"
      "os.kill(-1, signal.SIGKILL)\nprint('-1 ok', os.wait()[1])\n"
      "for pid in (1, os.getppid()):\n"
      "    try:\n        os.kill(pid, signal.SIGKILL)\n        print(pid, 'sent')\n"
      "    except OSError as e:\n        print(pid, type(e).__name__)\n"
      "time.sleep(0.2)\nprint('alive', os.getppid())\n")
def _(ex, ctx):
    completed(ex, "-1 ok 9\n1 PermissionError\n1 PermissionError\nalive 1\n")


@case("ptrace", SYSCALL +
      "print(sc(101, 0, 0, 0, 0))\n"          # PTRACE_TRACEME
      "print(sc(101, 16, 1, 0, 0))\n"         # PTRACE_ATTACH to init
      "print(sc(310, 1, 0, 0, 0, 0, 0))\n")   # process_vm_readv
def _(ex, ctx):
    completed(ex, "EPERM\nEPERM\nEPERM\n")


@case("unshare_mount_setns_chroot_via_ctypes", SYSCALL + ERRNO_OF +
      "import os\n"
      "print(libc.unshare(0x10000000), ctypes.get_errno() == errno.EPERM)\n"       # CLONE_NEWUSER
      "print(libc.mount(b'none', b'/tmp', b'tmpfs', 0, None), errno.errorcode[ctypes.get_errno()])\n"
      "fd = os.open('/proc/self/ns/net', os.O_RDONLY)\n"
      "print(libc.setns(fd, 0), errno.errorcode[ctypes.get_errno()])\n"
      "print(err(os.chroot, '/tmp'))\n"
      "print(sc(56, 0x10000000 | 17, 0, 0, 0, 0), sc(435, 0, 0))\n")               # clone, clone3
def _(ex, ctx):
    completed(ex, "-1 True\n-1 EPERM\n-1 EPERM\nEPERM\nEPERM ENOSYS\n")


@case("setuid_binaries_give_nothing",
      "import os, subprocess\n"
      "su = subprocess.run(['/usr/bin/su', '-c', 'id'], stdin=subprocess.DEVNULL, capture_output=True)\n"
      "mnt = subprocess.run(['/usr/bin/mount', '-t', 'tmpfs', 'x', '/tmp'], capture_output=True)\n"
      "print(oct(os.stat('/usr/bin/su').st_mode & 0o4000), su.returncode != 0, mnt.returncode != 0)\n"
      "print(os.getuid(), os.geteuid())\n")
def _(ex, ctx):
    completed(ex, "0o4000 True True\n1000 1000\n")


@case("keyrings", SYSCALL +
      "print(sc(250, 0, -3, 0))\n"                                 # keyctl(GET_KEYRING_ID)
      "print(sc(248, 0, 0, 0, 0, -3))\n"                           # add_key
      "print(sc(249, 0, 0, 0, 0))\n")                              # request_key
def _(ex, ctx):
    completed(ex, "EPERM\nEPERM\nEPERM\n")


@case("tiocsti", SYSCALL + ERRNO_OF +
      "import fcntl, termios\n"
      "print(err(fcntl.ioctl, 0, termios.TIOCSTI, b'x'))\n"
      "print(sc(16, 1, 0x100005412, 0))\n")
def _(ex, ctx):
    completed(ex, "EPERM\nEPERM\n")


@case("kernel_attack_surface", SYSCALL +
      "print(sc(321, 0, 0, 0))\n"            # bpf
      "print(sc(298, 0, 0, -1, -1, 0))\n"    # perf_event_open
      "print(sc(323, 0))\n"                  # userfaultfd
      "print(sc(425, 1, 0))\n"               # io_uring_setup
      "print(sc(246, 0, 0, 0, 0))\n"         # kexec_load
      "print(sc(175, 0, 0, 0))\n"            # init_module
      "print(sc(169, 0, 0, 0, 0))\n")        # reboot
def _(ex, ctx):
    completed(ex, "EPERM\n" * 7)


@case("x32_syscall",
      "import ctypes\nprint('before', flush=True)\n"
      "ctypes.CDLL(None).syscall(ctypes.c_long(0x40000000 | 39))\nprint('after')\n")
def _(ex, ctx):
    outcome(ex, "FAILED", "RUNTIME_ERROR", "before\n", signal=31)


INT80 = ("import ctypes, mmap\nprint('before', flush=True)\n"
         "m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)\n"
         "m.write(bytes([0xb8, 20, 0, 0, 0, 0xcd, 0x80, 0xc3]))\n"
         "f = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(m)))\n"
         "f()\nprint('after')\n")


def host_int80_signal():
    """SIGSYS, the filter's, where the host kernel serves int 0x80 (the
    program outside any sandbox prints 'after'); otherwise the signal the
    host itself stops it with (a paravirtualised guest faults it as
    SIGSEGV before seccomp could see it): either way the call never runs."""
    p = subprocess.run(["/usr/bin/python3", "-c", INT80], capture_output=True, text=True, timeout=30)
    if p.returncode == 0:
        assert p.stdout == "before\nafter\n", p
        return 31
    assert p.returncode < 0 and p.stdout == "before\n", p
    return -p.returncode


@case("int_0x80_syscall", INT80)
def _(ex, ctx):
    outcome(ex, "FAILED", "RUNTIME_ERROR", "before\n", signal=host_int80_signal())


@case("per_user_rlimits_are_set",
      "import resource as r\n"
      "print([r.getrlimit(x) for x in (r.RLIMIT_SIGPENDING, r.RLIMIT_MSGQUEUE, r.RLIMIT_MEMLOCK,\n"
      "                               r.RLIMIT_NICE, r.RLIMIT_RTPRIO)])\n")
def _(ex, ctx):
    completed(ex, "[(256, 256), (524288, 524288), (65536, 65536), (0, 0), (0, 0)]\n")


@case("no_cgroupfs_or_sysfs",
      "import os\nprint(os.path.exists('/sys'), open('/proc/self/cgroup').read().split()[-1].endswith(':/'))\n")
def _(ex, ctx):
    completed(ex, "False True\n")


def host_secret_paths(data_dir):
    """The host paths a run must not see: the stack's data directory, its
    socket and database files, this source tree and its configuration,
    and an installed configuration (make install) where there is one."""
    paths = [data_dir, os.path.join(data_dir, "runner.sock"),
             str(REPO / "conf" / "engine.conf"), str(REPO)]
    paths += [p for p in ("/etc/code-exec", "/etc/code-exec/engine.conf") if os.path.exists(p)]
    return paths + sorted(glob.glob(os.path.join(data_dir, "*.db*")))


def host_secret_cases(stack):
    """Cases that name the host paths of this stack (built at run time)."""
    paths = host_secret_paths(stack.data_dir)
    code = ERRNO_OF + "import os\n" + "".join(
        f"print(err(os.stat, {p!r}))\n" for p in paths)
    code += f"print(err(__import__('socket').create_connection, ('127.0.0.1', {stack.port}), 1))\n"
    want = "ENOENT\n" * len(paths) + "ENETUNREACH\n"
    return code, want


# ---- running them ------------------------------------------------------------------

def execute(stack, code, stdin=None, timeout=180):
    sid = stack.create_session(code)["session_id"]
    eid = stack.run_ok(sid, stdin)
    return stack.wait_terminal(eid, timeout)


def run_batch(stack, names, extra=()):
    """Runs the named cases (plus (name, code, stdin) extras) 4 at a time."""
    jobs = [(n, CASES[n][0], CASES[n][1]) for n in names] + list(extra)
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = {n: pool.submit(execute, stack, code, stdin) for n, code, stdin in jobs}
        return {n: f.result() for n, f in futures.items()}


def runner_pid(stack):
    status, _, body = stack.request("GET", "/health")
    assert status == 200, body
    assert len(body["runners"]) == 1, body
    return body["runners"][0]["pid"]


def _status(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return dict(l.split(":", 1) for l in f if ":" in l)
    except OSError:
        return None


def _sandbox_uid(st):
    return is_sandbox_uid(int(st["Uid"].split()[0]))


def _someone_elses(pid, runner):
    """True if pid's sandbox was made by another process than `runner`: the
    first ancestor outside the sandbox uids is neither our runner nor the
    host's init (an orphan would be a leak of ours). Other stacks or unit
    tests may be running on the same host."""
    for _ in range(64):
        st = _status(pid)
        if st is None:
            return True                      # gone meanwhile
        if not _sandbox_uid(st):
            return pid not in (runner, 1)
        pid = int(st["PPid"])
        if pid <= 1:
            return False
    return False


def warm_interpreter(pid, runner):
    """True if pid is one of `runner`'s warm Python interpreters: its child,
    running the warm program (README, "How a run starts"). It lives as long
    as its slot; a run's processes are never it."""
    st = _status(pid)
    if st is None or int(st["PPid"]) != runner:
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"warm_serve" in f.read()
    except OSError:
        return False


def standby_sandbox(pid, runner):
    """True if pid is one of `runner`'s standby sandboxes (README, "How a
    run starts"): the init (or the owner, while it builds) of a sandbox
    built for a slot's next run, the runner's child in a cgroup named
    standby<slot>-<n>, waiting for a run: no process of its own yet. A run
    it serves has its program below init, which so is not taken for one."""
    st = _status(pid)
    if st is None or int(st["PPid"]) != runner:
        return False
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            leaves = {line.rsplit("/", 1)[-1] for line in f.read().split()}
        children = "".join(open(f"/proc/{pid}/task/{t}/children").read() for t in os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return False
    return any(leaf.startswith("standby") for leaf in leaves) and children.strip() == ""


def describe_process(pid):
    """What a failed check shows of a process: its parent, state, command
    line, cgroups and children."""
    def read(name):
        try:
            with open(f"/proc/{pid}/{name}", "rb") as f:
                return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError as e:
            return f"({e.strerror})"
    st = _status(pid) or {}
    children = " ".join(read(f"task/{t}/children") for t in os.listdir(f"/proc/{pid}/task")) \
        if os.path.isdir(f"/proc/{pid}/task") else ""
    return {"pid": pid, "ppid": st.get("PPid", "").strip(), "state": st.get("State", "").strip(),
            "uid": st.get("Uid", "").split()[:1], "cmdline": read("cmdline")[:200],
            "cgroup": read("cgroup").split(), "children": children.split()}


def sandbox_processes(runner):
    """(pid, uid, name) of live processes of a sandbox host uid that belong
    to `runner` or to nobody (but its warm interpreters and standby
    sandboxes)."""
    found = []
    for d in os.listdir("/proc"):
        st = _status(d) if d.isdigit() else None
        if st is None:
            continue
        if (_sandbox_uid(st) and st["State"].split()[0] not in "ZX"
                and not _someone_elses(int(d), runner) and not warm_interpreter(int(d), runner)
                and not standby_sandbox(int(d), runner)):
            found.append((int(d), int(st["Uid"].split()[0]), st["Name"].strip()))
    return found


def run_cgroups(pid):
    """Per-run cgroups left under the runner's parent cgroups."""
    left = []
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            lines = f.read().split()
    except OSError:
        return left
    for line in lines:
        _, ctrls, path = line.split(":", 2)
        roots = [f"/sys/fs/cgroup/{c}" for c in ctrls.split(",")] if ctrls else \
            ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]
        for root in roots:
            base = root + path.rstrip("/")
            parents = glob.glob(f"{base}/engine-runner-{pid}*")
            if os.path.basename(os.path.dirname(base)).startswith(f"engine-runner-{pid}"):
                parents.append(os.path.dirname(base))       # v2: the runner sits in .../main
            for parent in parents:
                left += glob.glob(f"{parent}/slot*")
    return sorted(set(left))


def _started(pid):
    """pid's start time in clock ticks since boot: with the pid, one process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def lasting_sandbox_processes(runner):
    """The pids of sandbox_processes(runner) that last. A sandbox's
    processes end a moment after its result (init streams the output, then
    its cgroup goes); under the sanitizer build on a loaded host that once
    took more than 2 s, and slots build their next sandboxes meanwhile. A
    leaked process is one still there, the same process, a second after
    10 s of waiting; a leaked process tree that only forks and exits keeps
    its cgroup, which run_cgroups finds."""
    deadline = time.monotonic() + 10
    while sandbox_processes(runner) and time.monotonic() < deadline:
        time.sleep(0.05)
    seen = {(p, _started(p)) for p, _, _ in sandbox_processes(runner)}
    if not seen:
        return []
    time.sleep(1)
    now = {(p, _started(p)) for p, _, _ in sandbox_processes(runner)}
    return sorted(p for p, t in seen & now if t is not None)


def assert_host_unharmed(stack, pid, hello=True):
    """Health 200, the same runner, no sandbox process or cgroup left, and
    the next execution works."""
    assert runner_pid(stack) == pid, "the runner was restarted"
    left = lasting_sandbox_processes(pid)
    assert left == [], [describe_process(p) for p in left]
    assert run_cgroups(pid) == [], run_cgroups(pid)
    if hello:
        completed(execute(stack, HELLO), "hello\n")


def start_stack_with(lines):
    """A stack whose config is conf/engine.conf plus `lines`."""
    fd, path = tempfile.mkstemp(prefix="engine-hostile-", suffix=".conf")
    with os.fdopen(fd, "w") as f:
        f.write(open(REPO / "conf" / "engine.conf").read() + "\n" + "\n".join(lines) + "\n"
                f"languages_file = {REPO / 'conf' / 'languages.conf'}\n")
    saved = os.environ.get("ENGINE_CONFIG")
    os.environ["ENGINE_CONFIG"] = path
    try:
        s = Stack()
        s.start()
    finally:
        if saved is None:
            del os.environ["ENGINE_CONFIG"]
        else:
            os.environ["ENGINE_CONFIG"] = saved
        os.unlink(path)
    return s


def standby_sandboxes(runner):
    return [int(d) for d in os.listdir("/proc") if d.isdigit() and standby_sandbox(int(d), runner)]


def test_a_standby_killed_while_it_waits_is_replaced_not_run():
    """A slot's standby sandbox that dies while it waits (killed here, as
    the OOM killer or an operator could) is abandoned when a run comes,
    and the run starts in a sandbox of its own. One slot, so that the run
    after the kill is the killed standby's slot's."""
    s = start_stack_with(["runner_slots = 1"])
    try:
        pid = runner_pid(s)
        sid = s.create_session("echo hello\n", "bash")["session_id"]
        completed(s.wait_terminal(s.run_ok(sid)), "hello\n")
        deadline = time.monotonic() + 10
        while not standby_sandboxes(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        killed = standby_sandboxes(pid)
        assert len(killed) == 1, killed
        os.kill(killed[0], 9)
        deadline = time.monotonic() + 10
        while (_status(killed[0]) or {"State": "Z"})["State"].split()[0] != "Z":
            assert time.monotonic() < deadline, f"{killed[0]} outlived SIGKILL"
            time.sleep(0.01)
        with open(s.stderr_path) as log:
            log.seek(0, 2)
            completed(s.wait_terminal(s.run_ok(sid)), "hello\n")
            assert "slot 0: its standby sandbox ended while it waited; the run gets a new one" in log.read()
        assert_host_unharmed(s, pid)
    finally:
        s.stop()


@pytest.fixture(scope="module")
def cgroup_ctx(stack):
    pid = runner_pid(stack)
    code, want = host_secret_cases(stack)
    results = run_batch(stack, CASES, [("read_host_secrets", code, None)])
    return {"stack": stack, "mode": "cgroup", "pid": pid, "results": results, "secrets": want}


@pytest.fixture(scope="module")
def rlimit_stack():
    s = start_stack_with(["sandbox_mode = rlimit", "sandbox_allow_rlimit = yes"])
    try:
        yield s
        s.stop()
    finally:
        s.cleanup()


@pytest.fixture(scope="module")
def rlimit_ctx(rlimit_stack):
    pid = runner_pid(rlimit_stack)
    code, want = host_secret_cases(rlimit_stack)
    results = run_batch(rlimit_stack, sorted(BOTH), [("read_host_secrets", code, None)])
    return {"stack": rlimit_stack, "mode": "rlimit", "pid": pid, "results": results, "secrets": want}


# ---- the tests ---------------------------------------------------------------------

def check_case(ctx, name):
    ex = ctx["results"][name]
    CASES[name][2](ex, ctx)
    assert_host_unharmed(ctx["stack"], ctx["pid"], hello=False)


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile(cgroup_ctx, name):
    check_case(cgroup_ctx, name)


@pytest.mark.parametrize("name", sorted(BOTH))
def test_hostile_rlimit_mode(rlimit_ctx, name):
    check_case(rlimit_ctx, name)


@pytest.mark.parametrize("mode", ["cgroup", "rlimit"])
def test_host_secrets_are_unreachable(request, mode):
    ctx = request.getfixturevalue(f"{mode}_ctx")
    completed(ctx["results"]["read_host_secrets"], ctx["secrets"])


def test_sandbox_mode_is_reported(stack, rlimit_stack):
    mode = stack.request("GET", "/health")[2]["sandbox_mode"]
    assert MODE_RE.match(mode), mode
    if os.geteuid() == 0 and os.access("/sys/fs/cgroup", os.W_OK):
        assert "cgroup" in mode, mode
    assert rlimit_stack.request("GET", "/health")[2]["sandbox_mode"] == "namespaces+rlimits-unbounded+seccomp"


def test_rlimit_mode_logs_what_it_leaves_unprotected(rlimit_stack):
    with open(rlimit_stack.stderr_path) as f:
        log = f.read()
    assert ("sandbox: RLIMIT-ONLY MODE (sandbox_mode = rlimit, sandbox_allow_rlimit = yes): UNPROTECTED: "
            "a run's total memory is not bounded") in log, log[-2000:]


def overlapping(a, b):
    return a["started_at"] < b["finished_at"] and b["started_at"] < a["finished_at"]


def start_and_wait_running(stack, code):
    sid = stack.create_session(code)["session_id"]
    eid = stack.run_ok(sid)
    deadline = time.monotonic() + 60
    while stack.get_execution(eid)["status"] == "QUEUED":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(0.5)                  # let it reach its listen()
    return eid


LISTENER = ("import socket, select\n"
            "a = socket.socket(); a.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            "a.bind(('0.0.0.0', 47001)); a.listen()\n"
            "u = socket.socket(socket.AF_UNIX); u.bind('\\0engine-hostile'); u.listen()\n"
            "r, _, _ = select.select([a, u], [], [], 3)\n"
            "print('connected' if r else 'no connection')\n")
CONNECTOR = (ERRNO_OF + "import socket\n"
             "print(err(socket.create_connection, ('127.0.0.1', 47001), 1))\n"
             "print(err(socket.socket(socket.AF_UNIX).connect, '\\0engine-hostile'))\n")


def test_listener_on_loopback_and_abstract_socket_is_unreachable_from_another_run(stack):
    pid = runner_pid(stack)
    a = start_and_wait_running(stack, LISTENER)
    b = execute(stack, CONNECTOR)
    a = stack.wait_terminal(a, 30)
    completed(a, "no connection\n")
    completed(b, "ENETUNREACH\nECONNREFUSED\n")
    assert overlapping(a, b), (a, b)
    assert_host_unharmed(stack, pid)


def test_files_of_another_execution_are_invisible(stack):
    pid = runner_pid(stack)
    a = start_and_wait_running(stack, "import time\nopen('/tmp/secret', 'w').write('s')\n"
                                      "open('/dev/shm/secret', 'w').write('s')\ntime.sleep(3)\n"
                                      "print(open('/tmp/secret').read())\n")
    b = execute(stack, "import os\nprint(os.listdir('/tmp'), os.listdir('/dev/shm'))\n")
    a = stack.wait_terminal(a, 30)
    completed(a, "s\n")
    completed(b, "['out'] []\n")          # out/: its own, empty, for its artifacts
    assert overlapping(a, b), (a, b)
    assert_host_unharmed(stack, pid)


LEAVE_BEHIND = (
    "import ctypes, fcntl, os, socket, time\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "assert libc.shmget(0x5eed, 4096, 0o1666) >= 0\n"          # IPC_CREAT | 0666
    "assert libc.msgget(0x5eed, 0o1666) >= 0\n"
    "assert libc.semget(0x5eed, 1, 0o1666) >= 0\n"
    "f = open('/tmp/lock', 'w'); fcntl.flock(f, fcntl.LOCK_EX)\n"
    "s = socket.socket(socket.AF_UNIX); s.bind('\\0engine-left'); s.listen()\n"
    "if os.fork() == 0:\n    os.setsid(); time.sleep(3600)\n"  # a daemon holding all of it
    "print('left behind')\n")
FIND_LEFTOVERS = (
    "import ctypes, errno, os, socket\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "for get in (lambda: libc.shmget(0x5eed, 0, 0), lambda: libc.msgget(0x5eed, 0),\n"
    "            lambda: libc.semget(0x5eed, 0, 0)):\n"
    "    print(get(), errno.errorcode[ctypes.get_errno()])\n"
    "print(os.path.exists('/tmp/lock'))\n"
    "try:\n    socket.socket(socket.AF_UNIX).connect('\\0engine-left')\n"
    "except OSError as e:\n    print(type(e).__name__)\n")


def test_ipc_flock_and_sockets_do_not_survive_into_the_next_run(stack):
    pid = runner_pid(stack)
    completed(execute(stack, LEAVE_BEHIND), "left behind\n")
    # Two slots: look from both (runs are sequential, so the next one may
    # land on either).
    for ex in run_batch(stack, [], [("a", FIND_LEFTOVERS, None), ("b", FIND_LEFTOVERS, None)]).values():
        completed(ex, "-1 ENOENT\n" * 3 + "False\nConnectionRefusedError\n")
    assert_host_unharmed(stack, pid)


# Per-user kernel quotas (inotify instances, POSIX message queue bytes and
# the rest of the kernel's per-user counters) are charged to the sandbox
# user namespace's owner: the slot's own host uid, never root. The holder
# grabs every inotify instance and message queue it can (four processes:
# one process alone would stop at its open-files limit) and keeps them
# while root on the host, and a run in another slot, still get theirs.
QUOTA_HOLDER = (
    "import ctypes, os, time\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "def grab():\n"
    "    n = 0\n"
    "    while libc.inotify_init1(0) >= 0:\n"
    "        n += 1\n"
    "    return n\n"
    "r, w = os.pipe()\n"
    "for _ in range(3):\n"
    "    if os.fork() == 0:\n"
    "        os.write(w, b'%d\\n' % grab()); time.sleep(10)\n"
    "total = grab()\n"
    "counts = os.fdopen(r)\n"
    "for _ in range(3):\n"
    "    total += int(counts.readline())\n"
    "queues = 0\n"
    "while libc.mq_open(b'/q%d' % queues, 0o100 | 2, 0o600, None) >= 0:\n"
    "    queues += 1\n"
    "import errno\n"
    "print('inotify', total, 'mqueues', queues, errno.errorcode[ctypes.get_errno()], flush=True)\n"
    "time.sleep(4)\n")
QUOTA_PROBE = (
    "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
    "print(libc.inotify_init1(0) >= 0, libc.mq_open(b'/probe', 0o100 | 2, 0o600, None) >= 0)\n")


def host_can_get_inotify_and_mqueue():
    """inotify_init1 and mq_open by this process (root on the host)."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(0)
    ino = fd >= 0 or ctypes.get_errno()
    if fd >= 0:
        os.close(fd)
    name = b"/engine-hostile-%d" % os.getpid()
    q = libc.mq_open(name, 0o100 | 2, 0o600, None)
    mq = q >= 0 or ctypes.get_errno()
    if q >= 0:
        libc.mq_close(q)
        libc.mq_unlink(name)
    return ino, mq


@pytest.mark.parametrize("mode", ["cgroup", "rlimit"])
def test_per_user_kernel_quotas_of_a_run_are_not_root_s_nor_another_slot_s(request, mode):
    s = request.getfixturevalue("stack" if mode == "cgroup" else "rlimit_stack")
    pid = runner_pid(s)
    holder = start_and_wait_running(s, QUOTA_HOLDER)
    time.sleep(1.0)                          # it has grabbed all it can by now
    assert host_can_get_inotify_and_mqueue() == (True, True)
    probe = execute(s, QUOTA_PROBE)
    holder = s.wait_terminal(holder, 30)
    completed(probe, "True True\n")
    # The run's own ceilings: 16 inotify instances in its namespace, and
    # 512 KiB of queue bytes (6 queues of the default 10 x 8 KiB).
    completed(holder, "inotify 16 mqueues 6 EMFILE\n")
    assert overlapping(holder, probe), (holder, probe)
    assert_host_unharmed(s, pid)


def cpu_caps(pid):
    """The CPU cap files of the runner's live run cgroups: v1 cfs quota, v2 cpu.max."""
    caps = set()
    for d in run_cgroups(pid):
        for name in ("cpu.cfs_quota_us", "cpu.max"):
            try:
                with open(os.path.join(d, name)) as f:
                    caps.add((name, f.read().strip()))
            except OSError:
                pass
    return caps


def test_a_run_s_cgroup_caps_its_cpu_at_max_cpu_percent(stack):
    pid = runner_pid(stack)
    spin = start_and_wait_running(stack, CASES["four_process_spin_gets_one_cpu"][0])
    caps = cpu_caps(pid)
    ex = stack.wait_terminal(spin, 30)
    # conf/engine.conf: max_cpu_percent = 100, one CPU's time per 100 ms period.
    assert caps in ({("cpu.cfs_quota_us", "100000")}, {("cpu.max", "100000 100000")}), caps
    completed(ex, "spun\n")
    assert ex["cpu_time_ms"] <= ex["execution_time_ms"] * 1.1 + 50, ex
    assert_host_unharmed(stack, pid)

def limit_errors(stack):
    """The runner's code_exec_runner_sandbox_limit_errors_total in /metrics."""
    status, _, body = stack.request("GET", "/metrics")
    assert status == 200, body
    values = re.findall(r'^code_exec_runner_sandbox_limit_errors_total\{[^}]*\} (\d+)$', body, re.M)
    assert len(values) == 1, body
    return int(values[0])


def test_a_failed_cgroup_operation_is_logged_and_counted_in_metrics(stack):
    pid = runner_pid(stack)
    before = limit_errors(stack)
    eid = start_and_wait_running(stack, "import time\ntime.sleep(1)\nprint('done')\n")
    run_dir = run_cgroups(pid)[0]
    os.mkdir(os.path.join(run_dir, "pinned"))        # a child cgroup: rmdir of the run's fails
    try:
        completed(stack.wait_terminal(eid, 30), "done\n")
        deadline = time.monotonic() + 10            # the next heartbeat carries the count
        while limit_errors(stack) == before and time.monotonic() < deadline:
            time.sleep(0.2)
        assert limit_errors(stack) == before + 1
        with open(stack.stderr_path) as f:
            log = f.read()
        assert (f"sandbox limits: remove the run's cgroup (left for the next start) "
                f"{os.path.basename(run_dir)}: Device or resource busy") in log, log[-2000:]
    finally:
        os.rmdir(os.path.join(run_dir, "pinned"))
        os.rmdir(run_dir)
    assert_host_unharmed(stack, pid)

def vm_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(l for l in f if l.startswith("VmRSS:")).split()[1])


def test_output_floods_do_not_grow_the_runner(stack):
    pid = runner_pid(stack)
    before = vm_rss_kb(pid)
    flood = [(f"o{i}", CASES["stdout_flood"][0], None) for i in range(4)]
    flood += [(f"e{i}", CASES["stderr_flood"][0], None) for i in range(4)]
    for ex in run_batch(stack, [], flood).values():
        outcome(ex, "FAILED", "OUTPUT_LIMIT")
    assert vm_rss_kb(pid) - before < 16 * 1024, (before, vm_rss_kb(pid))
    assert_host_unharmed(stack, pid)


def test_final_check_host_and_next_execution_unharmed(cgroup_ctx, rlimit_ctx):
    for ctx in (cgroup_ctx, rlimit_ctx):
        assert_host_unharmed(ctx["stack"], ctx["pid"])


# ---- refusing to start ------------------------------------------------------------------

def start_runner_alone(lines, user=None):
    """Runs build/runner on a config of its own; -> (exit status, stderr)."""
    d = tempfile.mkdtemp(prefix="engine-refuse-")
    os.chmod(d, 0o777)
    conf = os.path.join(d, "engine.conf")
    with open(conf, "w") as f:
        f.write(f"data_dir = {d}\n" + "\n".join(lines) + "\n")
    os.chmod(conf, 0o644)
    cmd = [str(REPO / os.environ.get("BUILD", "build") / "runner"), "--config", conf]
    if user:
        cmd = ["/usr/bin/setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] + cmd
    env = {k: v for k, v in os.environ.items() if k not in ("DATA_DIR", "PORT", "ENGINE_CONFIG")}
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=20, env=env)
        return p.returncode, p.stderr.decode()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_runner_refuses_an_unknown_sandbox_mode():
    rc, err = start_runner_alone(["sandbox_mode = nsjail"])
    assert rc != 0
    assert "engine.conf:2: sandbox_mode: must be one of auto|cgroup|rlimit" in err, err


def test_runner_refuses_to_start_without_its_interpreter():
    rc, err = start_runner_alone(["python = /usr/bin/no-such-python"])
    assert rc != 0
    assert "refusing to start: python /usr/bin/no-such-python" in err, err


def test_runner_refuses_rlimit_mode_without_the_operators_consent():
    rc, err = start_runner_alone(["sandbox_mode = rlimit"])
    assert rc != 0
    assert ("refusing to start: sandbox_mode = rlimit; rlimit-only mode does not bound a run's total "
            "memory (RLIMIT_AS is per process) or its CPU share: set sandbox_allow_rlimit = yes to run "
            "unprotected anyway") in err, err


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to an unprivileged uid")
def test_runner_refuses_auto_s_rlimit_fallback_without_the_operators_consent():
    rc, err = start_runner_alone(["sandbox_mode = auto"], user=65534)
    assert rc != 0
    assert "refusing to start: sandbox_mode = auto, but cgroups cannot be used on this host (" in err, err
    assert "set sandbox_allow_rlimit = yes to run unprotected anyway" in err, err


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to an unprivileged uid")
def test_runner_refuses_cgroup_mode_where_cgroups_cannot_be_written():
    rc, err = start_runner_alone(["sandbox_mode = cgroup"], user=65534)
    assert rc != 0
    assert "refusing to start: sandbox_mode = cgroup, but cgroups cannot be used on this host" in err, err
