"""Hostile programs in the languages beyond Python, through the real API.

C puts raw system calls in the learner's hands, so the sandbox's proof
(tests/test_hostile.py, in Python) is ported to C: fork and memory bombs,
the mount / unshare / ptrace / keyctl / bpf / io_uring_setup / pivot_root /
chroot calls, sockets of every family, writes outside the sandbox, signals
to every pid, a daemon that outlives the run. Every other language runs a
subset: fork bomb, memory bomb, 10 MB of output and reading host files
(the infinite loop is tests/test_languages.py's 5 s limit). Each case
asserts its exact outcome, then that the runner is the same process and
no sandbox process or cgroup is left.
"""

import concurrent.futures

import pytest

from test_hostile import assert_host_unharmed, completed, outcome, runner_pid, timed_out

OUT_MAX = 65536

# ---- C: the hostile suite's cases ------------------------------------------------------

C_RAW_SYSCALLS = r"""#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/keyctl.h>
static const char *r(long rc) { return rc >= 0 ? "ok" : strerrorname_np(errno); }
int main(void) {
	printf("mount %s\n", r(mount("none", "/tmp", "tmpfs", 0, NULL)));
	printf("unshare %s\n", r(unshare(CLONE_NEWUSER | CLONE_NEWNS)));
	printf("ptrace %s\n", r(syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, 1, 0, 0)));
	printf("keyctl %s\n", r(syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "x")));
	printf("bpf %s\n", r(syscall(SYS_bpf, 0, NULL, 0)));
	printf("io_uring_setup %s\n", r(syscall(SYS_io_uring_setup, 8, NULL)));
	printf("pivot_root %s\n", r(syscall(SYS_pivot_root, "/tmp", "/tmp")));
	printf("chroot %s\n", r(chroot("/tmp")));
	return 0;
}
"""

C_SOCKETS = r"""#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
static const struct { const char *name; int family, type; } fams[] = {
	{ "unix", AF_UNIX, SOCK_STREAM }, { "inet", AF_INET, SOCK_STREAM }, { "inet6", AF_INET6, SOCK_DGRAM },
	{ "netlink", AF_NETLINK, SOCK_RAW }, { "packet", AF_PACKET, SOCK_RAW }, { "vsock", AF_VSOCK, SOCK_STREAM },
	{ "alg", AF_ALG, SOCK_SEQPACKET }, { "key", AF_KEY, SOCK_RAW }, { "bluetooth", AF_BLUETOOTH, SOCK_RAW },
	{ "can", AF_CAN, SOCK_RAW }, { "tipc", AF_TIPC, SOCK_RDM }, { "xdp", AF_XDP, SOCK_RAW },
	{ "raw_inet", AF_INET, SOCK_RAW },
};
int main(void) {
	for (size_t i = 0; i < sizeof fams / sizeof fams[0]; i++) {
		int fd = socket(fams[i].family, fams[i].type, 0);
		printf("%s %s\n", fams[i].name, fd >= 0 ? "ok" : strerrorname_np(errno));
		if (fd >= 0) close(fd);
	}
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80) };
	inet_pton(AF_INET, "1.1.1.1", &a.sin_addr);
	printf("connect %s\n", connect(fd, (struct sockaddr *)&a, sizeof a) == 0 ? "ok" : strerrorname_np(errno));
	return 0;
}
"""

C_WRITE_OUTSIDE = r"""#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
static void w(const char *p) {
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	printf("%s %s\n", p, fd >= 0 ? "ok" : strerrorname_np(errno));
	if (fd >= 0) close(fd);
}
int main(void) {
	w("/usr/bin/planted"); w("/etc/passwd"); w("/app/main"); w("/planted");
	w("/proc/sys/kernel/hostname"); w("/sys/kernel/notes"); w("/dev/planted");
	return 0;
}
"""

C_SIGNAL_EVERYONE = r"""#include <signal.h>
#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>
int main(void) {
	int hit = 0;
	for (pid_t p = 1; p < 32768; p++)
		if (p != getpid() && kill(p, SIGKILL) == 0)
			hit++;
	printf("alive, killed %d\n", hit);
	return 0;
}
"""

C_DAEMON = r"""#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
	if (fork() == 0) {
		setsid();
		if (fork() == 0) {
			signal(SIGTERM, SIG_IGN); signal(SIGHUP, SIG_IGN);
			for (;;) pause();
		}
		_exit(0);
	}
	wait(NULL);
	puts("parent done");
	return 0;
}
"""


def c_case(name):
    return ("c", name)


C_CASES = {
    "raw_syscalls": (C_RAW_SYSCALLS, lambda ex: completed(ex, "".join(
        f"{c} EPERM\n" for c in ("mount", "unshare", "ptrace", "keyctl", "bpf", "io_uring_setup",
                                 "pivot_root", "chroot")))),
    "sockets_of_every_family": (C_SOCKETS, lambda ex: completed(ex, "unix ok\ninet ok\ninet6 ok\n" + "".join(
        f"{f} EPERM\n" for f in ("netlink", "packet", "vsock", "alg", "key", "bluetooth", "can", "tipc", "xdp"))
        + "raw_inet EPROTONOSUPPORT\nconnect ENETUNREACH\n")),
    "writes_outside": (C_WRITE_OUTSIDE, lambda ex: completed(ex,
        "/usr/bin/planted EROFS\n/etc/passwd EROFS\n/app/main EROFS\n/planted EROFS\n"
        "/proc/sys/kernel/hostname ENOENT\n/sys/kernel/notes ENOENT\n/dev/planted EROFS\n")),
    "signals_to_every_pid": (C_SIGNAL_EVERYONE, lambda ex: completed(ex, "alive, killed 0\n")),
    "daemon_outliving_the_run": (C_DAEMON, lambda ex: completed(ex, "parent done\n")),
}

# ---- every language: fork bomb, memory bomb, 10 MB of output, host files ---------------

FORK_BOMB = {
    "c": r"""#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>
int main(void) {
	for (int i = 0; i < 500; i++) {
		pid_t p = fork();
		if (p < 0) { puts("limited"); return 0; }
		if (p == 0) { pause(); return 0; }
	}
	puts("unbounded");
	return 0;
}
""",
    "cpp": r"""#include <iostream>
#include <unistd.h>
int main() {
	for (int i = 0; i < 500; i++) {
		pid_t p = fork();
		if (p < 0) { std::cout << "limited" << std::endl; return 0; }
		if (p == 0) { pause(); return 0; }
	}
	std::cout << "unbounded" << std::endl;
}
""",
    "javascript": """const cp = require('child_process');
for (let i = 0; i < 500; i++) {
  try { cp.spawn('/usr/bin/sleep', ['100']).on('error', () => { console.log('limited'); process.exit(0); }); }
  catch (e) { console.log('limited'); process.exit(0); }
}
setTimeout(() => { console.log('unbounded'); process.exit(0); }, 3000);
""",
    "typescript": """const cp = require('child_process');
for (let i = 0; i < 500; i++) {
  try { cp.spawn('/usr/bin/sleep', ['100']).on('error', () => { console.log('limited'); process.exit(0); }); }
  catch (e) { console.log('limited'); process.exit(0); }
}
setTimeout(() => { console.log('unbounded'); process.exit(0); }, 3000);
""",
    "java": """public class Main {
  public static void main(String[] a) {
    try {
      for (int i = 0; i < 500; i++) new ProcessBuilder("/usr/bin/sleep", "100").start();
      System.out.println("unbounded");
    } catch (Throwable e) { System.out.println("limited"); }
    System.exit(0);
  }
}
""",
    "go": """package main
import ("fmt"; "os"; "os/exec")
func main() {
	for i := 0; i < 500; i++ {
		if err := exec.Command("/usr/bin/sleep", "100").Start(); err != nil { fmt.Println("limited"); os.Exit(0) }
	}
	fmt.Println("unbounded")
}
""",
    "rust": """use std::process::Command;
fn main() {
    for _ in 0..500 {
        if Command::new("/usr/bin/sleep").arg("100").spawn().is_err() { println!("limited"); return; }
    }
    println!("unbounded");
}
""",
    "bash": "for i in $(seq 500); do /usr/bin/sleep 100 & done\necho unbounded\n",
}

MEMORY_BOMB = {
    "c": "#include <stdio.h>\n#include <stdlib.h>\nint main(void) {\n\tputs(\"start\"); fflush(stdout);\n"
         "\tsize_t n = (size_t)1 << 30;\n\tvolatile char *p = malloc(n);\n\tif (!p) return 1;\n"
         "\tfor (size_t i = 0; i < n; i += 4096) p[i] = 1;\n\tputs(\"survived\");\n}\n",
    "cpp": "#include <iostream>\n#include <vector>\nint main() {\n  std::cout << \"start\" << std::endl;\n"
           "  std::vector<char> v(1UL << 30, 1);\n  std::cout << \"survived \" << (int)v.back() << std::endl;\n}\n",
    "javascript": "console.log('start');\nconst a = [];\nfor (;;) a.push(Buffer.alloc(64 << 20, 1));\n",
    "typescript": "console.log('start');\nconst a: any[] = [];\n"
                  "for (;;) a.push(Buffer.alloc(64 << 20, 1));\n",
    "java": "public class Main {\n  public static void main(String[] a) {\n    System.out.println(\"start\");\n"
            "    byte[][] b = new byte[64][];\n    for (int i = 0; i < 64; i++) b[i] = new byte[64 << 20];\n"
            "    System.out.println(\"survived\");\n  }\n}\n",
    "go": "package main\nimport \"fmt\"\nfunc main() {\n\tfmt.Println(\"start\")\n\tb := make([]byte, 1<<30)\n"
          "\tfor i := 0; i < len(b); i += 4096 { b[i] = 1 }\n\tfmt.Println(\"survived\", b[4096])\n}\n",
    "rust": "fn main() {\n    println!(\"start\");\n    let v = vec![1u8; 1 << 30];\n"
            "    println!(\"survived {}\", v[v.len() - 1]);\n}\n",
    "bash": "echo start\nprintf -v s '%0100000000d' 0\nx=\"$s$s$s$s\"\necho survived ${#x}\n",
    "sql": "SELECT length(replace(hex(zeroblob(100000000)), '0', 'xx'));\n",
}

FLOOD = {
    "c": "#include <stdio.h>\nint main(void) { for (int i = 0; i < 10 << 20; i++) putchar('x'); }\n",
    "cpp": "#include <iostream>\n#include <string>\nint main() { std::cout << std::string(10 << 20, 'x'); }\n",
    "javascript": "process.stdout.write('x'.repeat(10 << 20));\n",
    "typescript": "process.stdout.write('x'.repeat(10 << 20));\n",
    "java": "public class Main {\n  public static void main(String[] a) {\n"
            "    System.out.print(\"x\".repeat(10 << 20));\n  }\n}\n",
    "go": "package main\nimport (\"os\"; \"strings\")\nfunc main() { os.Stdout.WriteString(strings.Repeat(\"x\", 10<<20)) }\n",
    "rust": "fn main() { print!(\"{}\", \"x\".repeat(10 << 20)); }\n",
    "bash": "head -c 10485760 /dev/zero | tr '\\0' x\n",
    "sql": ".mode list\nWITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 2000000) SELECT x FROM c;\n",
}

# Reads /etc/shadow and the stack's SQLite file ({db}); prints "denied" for each it cannot.
HOST_FILES = {
    "c": "#include <stdio.h>\nint main(void) {\n  const char *p[] = { \"/etc/shadow\", \"{db}\" };\n"
         "  for (int i = 0; i < 2; i++) puts(fopen(p[i], \"r\") ? \"read\" : \"denied\");\n}\n",
    "cpp": "#include <fstream>\n#include <iostream>\nint main() {\n"
           "  for (auto p : {\"/etc/shadow\", \"{db}\"}) std::cout << (std::ifstream(p) ? \"read\" : \"denied\") << \"\\n\";\n}\n",
    "javascript": "const fs = require('fs');\nfor (const p of ['/etc/shadow', '{db}']) {\n"
                  "  try { fs.readFileSync(p); console.log('read'); } catch (e) { console.log('denied'); }\n}\n",
    "typescript": "const fs = require('fs');\nfor (const p of ['/etc/shadow', '{db}']) {\n"
                  "  try { fs.readFileSync(p); console.log('read'); } catch (e) { console.log('denied'); }\n}\n",
    "java": "import java.nio.file.*;\npublic class Main {\n  public static void main(String[] a) {\n"
            "    for (String p : new String[]{\"/etc/shadow\", \"{db}\"}) {\n"
            "      try { Files.readAllBytes(Path.of(p)); System.out.println(\"read\"); }\n"
            "      catch (Exception e) { System.out.println(\"denied\"); }\n    }\n  }\n}\n",
    "go": "package main\nimport (\"fmt\"; \"os\")\nfunc main() {\n"
          "\tfor _, p := range []string{\"/etc/shadow\", \"{db}\"} {\n"
          "\t\tif _, err := os.ReadFile(p); err != nil { fmt.Println(\"denied\") } else { fmt.Println(\"read\") }\n\t}\n}\n",
    "rust": "fn main() {\n    for p in [\"/etc/shadow\", \"{db}\"] {\n"
            "        println!(\"{}\", if std::fs::read(p).is_ok() { \"read\" } else { \"denied\" });\n    }\n}\n",
    "bash": "for p in /etc/shadow {db}; do cat \"$p\" >/dev/null 2>&1 && echo read || echo denied; done\n",
    "sql": ".mode list\nSELECT coalesce(length(readfile('/etc/shadow')), 'denied');\n"
           "SELECT coalesce(length(readfile('{db}')), 'denied');\n",
}

MEMORY_OUTCOME = {
    # The JVM's heap (a quarter of MaxRAM=256m) runs out before the cgroup does.
    "java": lambda ex: (outcome(ex, "FAILED", "RUNTIME_ERROR", "start\n", exit_code=1),
                        "java.lang.OutOfMemoryError" in ex["stderr"] or pytest.fail(ex["stderr"])),
    "sql": lambda ex: outcome(ex, "FAILED", "MEMORY_LIMIT", None, signal=9),
}


# V8's own heap, not Buffers: Node.js runs without heap flags (they cost
# every run its built-in code cache), so the cgroup is what stops it.
HEAP_BOMB = "console.log('start');\nconst a = [];\nfor (;;) a.push({x: Math.random(), y: [1, 2, 3]});\n"


def expect_memory_limit(ex):
    outcome(ex, "FAILED", "MEMORY_LIMIT", None, signal=9)
    assert ex["stdout"] in ("start\n", ""), ex
    assert ex["memory_kb"] <= 257 * 1024, ex       # the cgroup's peak, a page or so past the limit


def expect_flood(ex):
    outcome(ex, "FAILED", "OUTPUT_LIMIT")
    assert ex["stdout_truncated"] is True and len(ex["stdout"]) == OUT_MAX, ex


def all_cases(stack):
    db = f"{stack.data_dir}/engine.db"
    cases = {f"c-{n}": ("c", code, check) for n, (code, check) in C_CASES.items()}
    for lang, code in FORK_BOMB.items():
        cases[f"{lang}-fork_bomb"] = (lang, code, lambda ex: completed(ex, "limited\n"))
    cases["bash-fork_bomb"] = ("bash", FORK_BOMB["bash"], timed_out)   # bash retries fork with backoff
    for lang, code in MEMORY_BOMB.items():
        cases[f"{lang}-memory_bomb"] = (lang, code, MEMORY_OUTCOME.get(lang, expect_memory_limit))
    cases["javascript-heap_bomb"] = ("javascript", HEAP_BOMB, expect_memory_limit)
    for lang, code in FLOOD.items():
        cases[f"{lang}-10mb_output"] = (lang, code, expect_flood)
    for lang, code in HOST_FILES.items():
        want = "denied\n" * 2
        cases[f"{lang}-host_files"] = (lang, code.replace("{db}", db), lambda ex, w=want: completed(ex, w))
    return cases


NAMES = sorted([f"c-{n}" for n in C_CASES] + [f"{l}-fork_bomb" for l in FORK_BOMB]
               + [f"{l}-memory_bomb" for l in MEMORY_BOMB] + ["javascript-heap_bomb"]
               + [f"{l}-10mb_output" for l in FLOOD]
               + [f"{l}-host_files" for l in HOST_FILES])


@pytest.fixture(scope="module")
def results(stack):
    cases = all_cases(stack)
    pid = runner_pid(stack)

    def run(name):
        lang, code, _ = cases[name]
        return stack.execute(code, language=lang, timeout=180)

    # Bombs one at a time and alone: next to other runs a memory bomb can
    # keep the kernel reclaiming, and a JVM spawning up to the pid limit can
    # take, longer than the 5 s limit on a loaded host.
    bombs = [n for n in cases if n.endswith("_bomb")]
    done = {n: run(n) for n in bombs}
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = {n: pool.submit(run, n) for n in cases if n not in bombs}
        done.update({n: f.result() for n, f in futures.items()})
    return {"cases": cases, "results": done, "pid": pid}


@pytest.mark.parametrize("name", NAMES)
def test_hostile_language(stack, results, name):
    results["cases"][name][2](results["results"][name])
    assert_host_unharmed(stack, results["pid"], hello=False)
