/*
 * The owner of a sandbox's namespaces: the runner's clone child, which
 * becomes the slot's own host uid and only then creates the user namespace
 * (and, inside it, all the others) by cloning init.
 *
 * Why a process of its own: the kernel charges what it counts per user --
 * inotify instances and watches, fanotify groups, POSIX message queue
 * bytes, pending signals, locked memory, processes, namespaces (the
 * "ucounts") -- to the process's uid in its user namespace *and* to the
 * owner of that namespace at every level above. When the runner (root)
 * created every sandbox's user namespace, every run of every slot was
 * charged to host root: one run holding 128 inotify instances made
 * inotify_init1 fail with EMFILE for root on the host and for every other
 * run. Owned by the slot's host uid, a run's charges land on that uid,
 * which nothing else on the host uses and which holds one run at a time.
 * The rlimits set here just before the clone become the namespace's
 * ceilings at that level (the kernel copies RLIMIT_MSGQUEUE, _SIGPENDING
 * and _MEMLOCK into the new namespace), and init lowers the
 * namespace's own ucount limits, so one run cannot exhaust even its own
 * slot's share.
 *
 * The owner also writes init's uid and gid maps. Mapping two host uids
 * takes CAP_SETUID (CAP_SETGID) over the parent namespace and CAP_SYS_ADMIN
 * over the new one; the owner has the latter by being the namespace's
 * creator, so it keeps CAP_SETUID and CAP_SETGID across its uid change and
 * nothing else it does not need. The runner itself could not write them:
 * without CAP_SYS_ADMIN (the systemd unit, a container) root has no
 * capability over a namespace another uid owns.
 *
 * init is cloned with CLONE_PARENT: it is the runner's own child, so the
 * runner waits for it, gets its rusage and ends the whole run with one
 * SIGKILL, as before; the owner exits once the maps are written.
 *
 * A runner that is not root has one uid: the owner stays that uid and
 * every run is charged to it (the runner's user, never root).
 *
 * Same rules as sandbox_child.c: no malloc, no stdio, raw syscalls for
 * credential changes (this is a copy of a multi-threaded process).
 */
#include "sandbox_child.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Keeps only the capabilities of `want` that the runner has, effective. */
static void keep_caps(const struct sandbox_init_spec *s, unsigned int want)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof data);
	if (syscall(SYS_capget, &hdr, data) < 0)
		sandbox_child_die(s->status_fd, "capget");
	data[0].permitted &= want;
	data[0].effective = data[0].permitted;
	data[0].inheritable = 0;
	data[1].permitted = data[1].effective = data[1].inheritable = 0;
	if (syscall(SYS_capset, &hdr, data) < 0)
		sandbox_child_die(s->status_fd, "capset");
}

/*
 * Becomes the slot's host uid (real and effective: the kernel charges by
 * the one and makes the namespace's owner of the other) and gid, keeping
 * CAP_SETUID and CAP_SETGID for the maps (and CAP_SYS_ADMIN where the
 * runner has it: on hosts that restrict user namespaces created without
 * it, such as Ubuntu's AppArmor default, the namespace would otherwise
 * come without capabilities).
 *
 * The saved uid stays the runner's (root): a process may signal another
 * whose real or saved uid is its own effective uid, and the runner holds
 * no CAP_KILL in the systemd unit or a container, and none over a
 * namespace it does not own. Without it neither the runner's SIGKILL of
 * init nor init's parent-death signal (checked the same way) would arrive.
 * Inside the namespace host root has no name, so init can never switch to
 * it; the payload sets all three of its ids before anything runs.
 *
 * Dumpable again afterwards (a uid change clears it), so that init, which
 * inherits it until it makes itself non-dumpable, has /proc files the
 * owner may write its maps to.
 */
static void become_slot(const struct sandbox_init_spec *s)
{
	const struct sandbox_owner_spec *o = &s->owner;
	unsigned int want = 1U << CAP_SETUID | 1U << CAP_SETGID | 1U << CAP_SYS_ADMIN;

	if (syscall(SYS_setgroups, 0, NULL) < 0)
		sandbox_child_die(s->status_fd, "setgroups");
	if (syscall(SYS_setresgid, o->gid, o->gid, o->gid) < 0)
		sandbox_child_die(s->status_fd, "setresgid to the slot");
	/* The saved uid keeps root: permitted capabilities survive (the
	 * effective ones are cleared), keep_caps trims them. */
	if (syscall(SYS_setresuid, o->uid, o->uid, -1) < 0)
		sandbox_child_die(s->status_fd, "setresuid to the slot");
	keep_caps(s, want);
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		sandbox_child_die(s->status_fd, "set dumpable");
	for (int i = 0; i < SANDBOX_NS_NRLIMITS; i++)
		if (setrlimit(o->ns_rlimits[i].resource, &o->ns_rlimits[i].lim) < 0)
			sandbox_child_die(s->status_fd, SANDBOX_LIMIT_STEP "setrlimit of the namespace");
}

/* "/proc/<pid>/<name>" into buf, without stdio. */
static void proc_path(char *buf, size_t size, pid_t pid, const char *name)
{
	char digits[16];
	size_t n = 0, len = 0;

	do
		digits[n++] = (char)('0' + pid % 10);
	while ((pid /= 10) > 0 && n < sizeof digits);
	memcpy(buf, "/proc/", 6);
	len = 6;
	while (n > 0 && len < size - 1)
		buf[len++] = digits[--n];
	buf[len++] = '/';
	for (size_t i = 0; name[i] && len < size - 1; i++)
		buf[len++] = name[i];
	buf[len] = '\0';
}

/* One write: the kernel accepts a map only once, and whole. */
static void write_map(const struct sandbox_init_spec *s, pid_t pid, const char *name, const char *text)
{
	char path[64];
	size_t len = strlen(text);
	int fd;

	proc_path(path, sizeof path, pid, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		sandbox_child_die(s->status_fd, name);
	close(fd);
}

/* Clones init into the new namespaces, as the runner's child. Returns its
 * pid (in our, the runner's, PID namespace). */
static pid_t clone_init(struct sandbox_init_spec *s)
{
	int maps[2];
	pid_t pid;

	if (pipe2(maps, O_CLOEXEC) < 0)
		sandbox_child_die(s->status_fd, "pipe");
	pid = (pid_t)syscall(SYS_clone, s->owner.init_flags | CLONE_PARENT, 0, 0, 0, 0);
	if (pid < 0)
		sandbox_child_die(s->status_fd, "clone the sandbox's init");
	if (pid == 0) {
		close(maps[1]);
		s->maps_fd = maps[0];
		sandbox_init_main(s);
	}
	close(maps[0]);
	s->maps_fd = maps[1];
	return pid;
}

_Noreturn void sandbox_owner_main(struct sandbox_init_spec *s)
{
	struct pollfd runner = { .fd = s->status_fd, .events = POLLOUT };
	pid_t init;

	sandbox_reset_signals();
	if (sandbox_close_fds_except((int[]){ s->sync_fd, s->status_fd, s->out_fd, s->err_fd,
					      s->stdin_fd, s->syntax_fd, s->lib_fd, s->art_fd, s->files_fd }, 9) < 0)
		sandbox_child_die(s->status_fd, "close inherited fds");
	/* Dies with the runner thread; one that died before this is seen on
	 * the status pipe. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		sandbox_child_die(s->status_fd, "pdeathsig");
	if (poll(&runner, 1, 0) < 0 || (runner.revents & (POLLERR | POLLHUP | POLLNVAL)))
		_exit(127);
	/* The runner sends one byte once we sit in the run's cgroup, so that
	 * init and everything it forks start there. */
	sandbox_child_await(s->sync_fd, s->status_fd, "wait for the runner");
	if (s->owner.drop_ids)
		become_slot(s);
	init = clone_init(s);
	close(s->sync_fd);
	if (s->owner.deny_setgroups)
		write_map(s, init, "setgroups", "deny");
	write_map(s, init, "uid_map", s->owner.uid_map);
	write_map(s, init, "gid_map", s->owner.gid_map);
	if (sandbox_child_write_all(s->maps_fd, "m", 1) < 0)
		sandbox_child_die(s->status_fd, "release init");
	_exit(0);
}
