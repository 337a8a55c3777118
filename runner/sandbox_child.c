/*
 * Inside the sandbox: init (PID 1 of the new PID namespace) and the payload
 * it forks. See sandbox_child.h for the rules this code lives under (no
 * malloc, no stdio, no locks, raw syscalls for credential changes).
 */
#include "sandbox_child.h"
#include "sandbox_fail.h"
#include "sandbox_mount.h"
#include "seccomp.h"

#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Handlers and the signal mask are inherited from the runner thread that
 * cloned us. A handler of the runner must never run in here, and a blocked
 * or ignored signal would survive execve into the payload.
 */
void sandbox_reset_signals(void)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);      /* SIGKILL, SIGSTOP, glibc's own: EINVAL, fine */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * Closes every fd except those in keep (at most 8). The clone inherited the
 * whole fd table of the runner, including other slots' pipe ends: holding
 * them would keep those pipes from ever reaching EOF.
 */
int sandbox_close_fds_except(const int *keep, int n)
{
	int sorted[10];
	unsigned int from = 0;

	for (int i = 0; i < n; i++) {
		int j = i;
		for (; j > 0 && sorted[j - 1] > keep[i]; j--)
			sorted[j] = sorted[j - 1];
		sorted[j] = keep[i];
	}
	for (int i = 0; i < n; i++) {
		if (sorted[i] < 0 || (unsigned int)sorted[i] < from)
			continue;
		if ((unsigned int)sorted[i] > from && close_range(from, (unsigned int)sorted[i] - 1, 0) < 0)
			return -1;
		from = (unsigned int)sorted[i] + 1;
	}
	return close_range(from, ~0U, 0);
}

/*
 * Puts stdin/stdout/stderr on 0-2, the report fd on SANDBOX_REPORT_FD and
 * the syntax channel (if any) on SANDBOX_SYNTAX_FD, closing everything
 * else. Any of the sources may sit on 0-4 already (init closed the
 * runner's stdio), so all are first copied above 4. The syntax channel is
 * the only one that survives execve.
 */
static void install_fds(const struct sandbox_child_spec *c)
{
	const int src[5] = { c->report_fd, c->syntax_fd, c->stdin_fd, c->stdout_fd, c->stderr_fd };
	int tmp[5];
	int report = c->report_fd;
	unsigned int first_closed = c->syntax_fd >= 0 ? SANDBOX_SYNTAX_FD + 1 : SANDBOX_REPORT_FD + 1;

	for (int i = 0; i < 5; i++) {
		tmp[i] = -1;
		if (src[i] >= 0 && (tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, SANDBOX_SYNTAX_FD + 1)) < 0)
			sandbox_child_die(report, "duplicate fds");
		if (i == 0)
			report = tmp[0];
	}
	for (int i = 0; i < 3; i++)
		if (dup2(tmp[2 + i], i) < 0)
			sandbox_child_die(report, "dup2 stdio");
	if (report >= 0 && dup3(report, SANDBOX_REPORT_FD, O_CLOEXEC) < 0)
		sandbox_child_die(report, "dup3 report fd");
	if (report >= 0)
		report = SANDBOX_REPORT_FD;
	else
		close(SANDBOX_REPORT_FD);
	if (tmp[1] >= 0 && dup2(tmp[1], SANDBOX_SYNTAX_FD) < 0)  /* dup2: not close-on-exec */
		sandbox_child_die(report, "dup2 syntax channel");
	if (close_range(first_closed, ~0U, 0) < 0)
		sandbox_child_die(report, "close_range");
}

/* The bounding set is dropped while we still hold CAP_SETPCAP (before the
 * uid change), so no later execve can regain anything from file caps. */
static void drop_bounding_caps(int report)
{
	for (int cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			sandbox_child_die(report, "drop bounding capabilities");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		sandbox_child_die(report, "clear ambient capabilities");
}

/*
 * Raw syscalls: glibc's wrappers broadcast the change to every thread it
 * believes exists, and those threads are the runner's, not ours. Without
 * setgroups(0) a root runner's supplementary groups (e.g. 0) would stay.
 */
static void switch_ids(const struct sandbox_child_spec *c, int report)
{
	if (c->set_groups && syscall(SYS_setgroups, 0, NULL) < 0)
		sandbox_child_die(report, "setgroups");
	if (syscall(SYS_setresgid, c->gid, c->gid, c->gid) < 0)
		sandbox_child_die(report, "setresgid");
	if (syscall(SYS_setresuid, c->uid, c->uid, c->uid) < 0)
		sandbox_child_die(report, "setresuid");
}

/* When the runner is not root, inside uid 1000 is the uid the namespace was
 * created with: the uid change did not clear the capabilities, so do it. */
static void clear_caps(int report)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof data);
	if (syscall(SYS_capset, &hdr, data) < 0)
		sandbox_child_die(report, "capset");
}

static void set_rlimits(const struct sandbox_child_spec *c, int report)
{
	for (int i = 0; i < SANDBOX_NRLIMITS; i++)
		if (setrlimit(c->rlimits[i].resource, &c->rlimits[i].lim) < 0)
			sandbox_child_die(report, SANDBOX_LIMIT_STEP "setrlimit");
}

/*
 * The program and whatever it forks are the OOM killer's first choice in
 * the run's cgroup, before init: init is a fork of the runner and counts
 * the pages it shares with it, so a program of many small processes could
 * otherwise get init killed, which ends the run with none of its output.
 * Raising one's own value needs no privilege, and a program that lowers
 * it again (down to init's) harms only its own run. The file is ours to
 * write only while we are dumpable (init made itself not, and we are its
 * fork): for that moment, and not dumpable again after. Best effort:
 * without it the run is as it was.
 */
static void prefer_as_oom_victim(void)
{
	int fd;

	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		return;
	fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		sandbox_child_write_all(fd, "1000", 4);       /* best effort: see above */
		close(fd);
	}
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

ssize_t sandbox_child_receive(int sock, void *buf, size_t len, int *fds, int nfds)
{
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int) * SANDBOX_PASSED_FDS_MAX)]; } u;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = u.buf, .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds) };
	struct cmsghdr *c;
	ssize_t n;

	if (nfds == 0)
		m.msg_control = NULL, m.msg_controllen = 0;
	do
		n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0 || nfds == 0)
		return n;
	c = CMSG_FIRSTHDR(&m);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int) * (size_t)nfds)) {
		errno = EPROTO;
		return -1;
	}
	memcpy(fds, CMSG_DATA(c), sizeof(int) * (size_t)nfds);
	return n;
}

void sandbox_child_enter(const struct sandbox_child_spec *c)
{
	int report = c->report_fd >= 0 ? SANDBOX_REPORT_FD : -1;

	sandbox_reset_signals();
	/* No controlling terminal, and a process group of its own. */
	if (setsid() < 0)
		sandbox_child_die(c->report_fd, "setsid");
	install_fds(c);
	prefer_as_oom_victim();
	if (chdir(c->workdir) < 0)
		sandbox_child_die(report, "chdir to the working directory");
	drop_bounding_caps(report);
	switch_ids(c, report);
	clear_caps(report);
	/* After the uid change: RLIMIT_NPROC counts the processes of the new uid. */
	set_rlimits(c, report);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		sandbox_child_die(report, "no_new_privs");
	/* Last, once nothing else needs the syscalls it forbids; no_new_privs
	 * first, which lets an unprivileged process install a filter. */
	if (syscall_filter_install(c->filter) < 0)
		sandbox_child_die(report, "install the seccomp filter");
}

/* ---- init ------------------------------------------------------------ */

/*
 * Tells the runner init's pid: one byte on the sync socket, whose runner
 * end has SO_PASSCRED, so the kernel attaches our pid as the runner sees
 * it (we are 1 in here, and the owner that cloned us may already be gone).
 */
static void announce(const struct sandbox_init_spec *s)
{
	if (send(s->sync_fd, "i", 1, MSG_NOSIGNAL) != 1)
		sandbox_child_die(s->status_fd, "announce init to the runner");
	close(s->sync_fd);
}

/* The owner writes one byte once uid_map and gid_map are written: no
 * step goes on without a mapping. */
static void wait_for_maps(const struct sandbox_init_spec *s)
{
	sandbox_child_await(s->maps_fd, s->status_fd, "wait for the id maps");
	close(s->maps_fd);
}

/*
 * Lowers the per-namespace ceilings before any learner code runs: the
 * user namespace's ucount limits (inotify, fanotify, new namespaces) and,
 * when inside root is mapped, those of the IPC namespace (SysV shm, queues
 * and semaphores, POSIX message queues), which the kernel otherwise sizes
 * for a whole host. Written through the host's /proc/sys, which shows the
 * tables of the writer's own namespaces.
 */
static void limit_namespaces(const struct sandbox_init_spec *s)
{
	for (int i = 0; i < s->nsysctls; i++) {
		const struct sandbox_sysctl *c = &s->sysctls[i];
		int fd = open(c->path, O_WRONLY | O_CLOEXEC);
		size_t len = strlen(c->value);

		if (fd < 0 || write(fd, c->value, len) != (ssize_t)len)
			sandbox_child_die(s->status_fd, c->what);
		close(fd);
	}
}

/*
 * PDEATHSIG: if the runner dies, init dies, and with it the whole PID
 * namespace (init is the runner's child: the owner cloned it with
 * CLONE_PARENT). A runner that died
 * before that would never send it, so look once more: its end of the status
 * pipe closed with it (POLLERR on ours), and as PID 1 of the namespace init
 * would not even die of the SIGPIPE. Not dumpable: the payload may share
 * init's uid, and must not reach init's status pipe through /proc/1/fd or
 * ptrace it.
 */
static void protect_init(const struct sandbox_init_spec *s)
{
	struct pollfd runner = { .fd = s->status_fd, .events = POLLOUT };

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		sandbox_child_die(s->status_fd, "pdeathsig");
	if (poll(&runner, 1, 0) < 0 || (runner.revents & (POLLERR | POLLHUP | POLLNVAL)))
		_exit(127);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		sandbox_child_die(s->status_fd, "set init non-dumpable");
}

/* stdin as a sealed memfd, so the payload can seek and cannot change it. */
static int open_stdin(const struct sandbox_init_spec *s)
{
	int fd;

	if (s->stdin_len == 0) {
		if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
			sandbox_child_die(s->status_fd, "open /dev/null");
		return fd;
	}
	fd = memfd_create("stdin", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || sandbox_child_write_all(fd, s->stdin_data, s->stdin_len) < 0)
		sandbox_child_die(s->status_fd, "write stdin");
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
		sandbox_child_die(s->status_fd, "seal stdin");
	if (lseek(fd, 0, SEEK_SET) < 0)
		sandbox_child_die(s->status_fd, "rewind stdin");
	return fd;
}

_Noreturn static void exec_payload(struct sandbox_init_spec *s, int report_fd)
{
	s->child.report_fd = report_fd;
	sandbox_child_enter(&s->child);
	if (s->resume)
		s->resume();
	execve(s->exec_path, (char *const *)s->argv, (char *const *)s->envp);
	sandbox_child_die(SANDBOX_REPORT_FD, "execve the program");
}

/*
 * Starts the payload and waits until it has exec'd: the report pipe is
 * close-on-exec, so EOF means execve succeeded, a record means a step
 * failed. vfork, not fork(): glibc's fork runs atfork handlers and takes
 * locks of the runner's threads, and a copy of init's address space (the
 * runner's, copied once more) costs a page fault for every page the
 * payload writes before its execve -- about 2 ms of every run on a
 * paravirtualised host. The vforked payload borrows init's memory, and
 * init sleeps, until execve; everything it changes before then is its
 * own (ids, rlimits, capabilities, the seccomp filter, fds, signal
 * dispositions), but for the dumpable flag, which it leaves as init had
 * it, and errno. A warm payload goes on running the interpreter it is a
 * copy of, which must see itself as forked (glibc's cached thread id):
 * fork(), safe there, because a warm interpreter and every copy of it has
 * one thread.
 */
static pid_t start_payload(struct sandbox_init_spec *s)
{
	struct sandbox_status st;
	int rep[2];
	pid_t pid;
	ssize_t n;

	if (pipe2(rep, O_CLOEXEC) < 0)
		sandbox_child_die(s->status_fd, "pipe");
	pid = s->resume ? fork() : vfork();
	if (pid < 0)
		sandbox_child_die(s->status_fd, "fork the payload");
	if (pid == 0)
		exec_payload(s, rep[1]);
	close(rep[1]);
	close(s->child.stdin_fd);
	if (s->syntax_fd >= 0)                  /* the payload's alone: not reachable through init */
		close(s->syntax_fd);
	if (!s->compile)                        /* a compile's artifacts go there later */
		close(s->out_fd);
	close(s->err_fd);
	do
		n = read(rep[0], &st, sizeof st);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof st) {
		st.kind = SANDBOX_ST_FAILED;
		sandbox_child_write_all(s->status_fd, &st, sizeof st);
		_exit(127);
	}
	if (n != 0)
		sandbox_child_die(s->status_fd, "read the payload's report");
	close(rep[0]);
	sandbox_child_report(s->status_fd, SANDBOX_ST_STARTED, 0, 0, NULL);
	return pid;
}

/* The payload's wait status, and the CPU time and peak memory of what
 * init reaped: the runner's own measure when init is not its child (a
 * warm run) and no cgroup counts. */
static void report_exit(int fd, int wstatus)
{
	struct sandbox_status st = { .kind = SANDBOX_ST_EXITED, .wstatus = wstatus };
	struct rusage ru;

	if (getrusage(RUSAGE_CHILDREN, &ru) == 0) {
		st.cpu_ms = ru.ru_utime.tv_sec * 1000L + ru.ru_utime.tv_usec / 1000 +
			    ru.ru_stime.tv_sec * 1000L + ru.ru_stime.tv_usec / 1000;
		st.maxrss_kb = ru.ru_maxrss;
	}
	sandbox_child_write_all(fd, &st, sizeof st);
}

/*
 * A run's artifacts, once the payload has exited: every other process of
 * the run is killed and reaped first (kill(-1) from PID 1 reaches the whole
 * namespace), so nothing writes to out/ while it is read, then its regular
 * files go to the runner's memfd. What the program planted there -- a
 * symlink, a FIFO, a directory, a socket -- is skipped, never followed.
 */
static void send_run_artifacts(const struct sandbox_init_spec *s)
{
	if (kill(-1, SIGKILL) < 0 && errno != ESRCH)
		sandbox_child_die(s->status_fd, "end the run's other processes");
	while (wait4(-1, NULL, __WALL, NULL) > 0 || errno == EINTR)
		;
	if (sandbox_send_artifacts("/tmp/out", s->art_fd) < 0)
		sandbox_child_die(s->status_fd, "send the run's artifacts");
}

/*
 * Reaps everything (orphans are re-parented to us) until the payload exits.
 * Then init exits, and the kernel SIGKILLs whatever is left in the PID
 * namespace: daemons, stopped and signal-ignoring processes alike.
 */
_Noreturn static void supervise(const struct sandbox_init_spec *s, pid_t payload)
{
	for (;;) {
		int wstatus;
		pid_t pid = wait4(-1, &wstatus, __WALL, NULL);

		if (pid == payload) {
			/* The artifacts before the status: the runner stops
			 * waiting for output soon after it. */
			if (s->compile && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0 &&
			    sandbox_send_artifacts("/tmp/out", s->out_fd) < 0)
				sandbox_child_die(s->status_fd, "send the compiler's output");
			if (s->art_fd >= 0)
				send_run_artifacts(s);
			report_exit(s->status_fd, wstatus);
			_exit(0);
		}
		if (pid < 0 && errno != EINTR)
			sandbox_child_die(s->status_fd, "wait4");
	}
}

/*
 * A warm interpreter (runner/warm.c) in place of init: the control socket
 * on 0, err_fd on 1 and 2, the library it forks runs with on 3. It
 * keeps init's ids and capabilities in the namespace and no seccomp
 * filter -- each run it forks needs them to build its own sandbox -- and
 * never runs learner code. As PID 1 it takes every process of the
 * namespace with it when it dies; it inherits init's parent-death signal.
 */
_Noreturn static void exec_zygote(struct sandbox_init_spec *s)
{
	int src[4] = { s->stdin_fd, s->err_fd, s->err_fd, s->lib_fd };
	int tmp[4];

	for (int i = 0; i < 4; i++)
		if ((tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 4)) < 0)
			sandbox_child_die(s->status_fd, "duplicate the warm interpreter's fds");
	for (int i = 0; i < 4; i++)
		if (dup2(tmp[i], i) < 0)
			sandbox_child_die(s->status_fd, "dup2 the warm interpreter's fds");
	if (chdir("/tmp") < 0)
		sandbox_child_die(s->status_fd, "chdir to /tmp");
	sandbox_child_report(s->status_fd, SANDBOX_ST_STARTED, 0, 0, NULL);
	if (close_range(4, ~0U, 0) < 0)
		_exit(127);
	execve(s->exec_path, (char *const *)s->argv, (char *const *)s->envp);
	_exit(127);
}

_Noreturn void sandbox_init_main(struct sandbox_init_spec *s)
{
	sandbox_reset_signals();
	if (sandbox_close_fds_except((int[]){ s->sync_fd, s->maps_fd, s->status_fd, s->out_fd, s->err_fd,
					      s->stdin_fd, s->syntax_fd, s->lib_fd, s->art_fd, s->files_fd }, 10) < 0)
		sandbox_child_die(s->status_fd, "close inherited fds");
	announce(s);
	wait_for_maps(s);
	protect_init(s);
	limit_namespaces(s);
	umask(022);
	sandbox_build_root(s);
	if (sethostname("sandbox", 7) < 0)
		sandbox_child_die(s->status_fd, "sethostname");
	if (s->zygote)
		exec_zygote(s);
	s->child.stdin_fd = s->stdin_fd >= 0 ? s->stdin_fd : open_stdin(s);
	s->child.stdout_fd = s->compile ? s->err_fd : s->out_fd;
	s->child.stderr_fd = s->err_fd;
	s->child.syntax_fd = s->syntax_fd;
	supervise(s, start_payload(s));
}
