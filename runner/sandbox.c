/*
 * The runner's side of a sandbox run: prepare everything the child needs,
 * clone it into new namespaces, write its id maps, then capture its output
 * and enforce the wall-clock and output limits until it is gone.
 *
 * The clone child is init of a new PID namespace (sandbox_child.c): killing
 * it kills every process of the run, so each limit is enforced with a single
 * SIGKILL to the one pid we own.
 */
#include "sandbox.h"
#include "clone_spec.h"
#include "sandbox_run.h"
#include "event_sink.h"
#include "limit_errors.h"
#include "log.h"
#include "python_boot.h"
#include "sandbox_child.h"
#include "util.h"
#include "warm.h"
#include "warm_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- preparation (before clone) -------------------------------------- */

bool run_limits_valid(const struct sandbox_limits *l)
{
	return l->wall_time_ms > 0 && l->cpu_time_ms > 0 && l->memory_mb > 0 &&
	       l->max_processes > 0 && l->tmpfs_mb > 0 && l->max_open_files > 0 &&
	       l->max_output_bytes >= 0;
}

/*
 * With a cgroup, memory is bounded by the cgroup (resident pages, tmpfs and
 * page cache included) and RLIMIT_AS is only a loose fence against absurd
 * mappings: an address-space limit near the real budget breaks threads,
 * each of which reserves an 8 MiB stack and a 64 MiB malloc arena without
 * using them. Without a cgroup, RLIMIT_AS is the memory limit.
 */
static void fill_rlimits(struct sandbox_child_spec *c, const struct sandbox_limits *l, bool cgroup)
{
	rlim_t cpu = ((rlim_t)l->cpu_time_ms + 999) / 1000;
	rlim_t as = l->as_mb ? MIB(l->as_mb) : MIB(l->memory_mb) * (cgroup ? AS_FENCE_FACTOR : 1);
	const struct sandbox_rlimit lims[SANDBOX_NRLIMITS] = {
		{ RLIMIT_AS, { as, as } },
		{ RLIMIT_CPU, { cpu, cpu + 1 } },
		{ RLIMIT_NPROC, { (rlim_t)l->max_processes, (rlim_t)l->max_processes } },
		{ RLIMIT_NOFILE, { (rlim_t)l->max_open_files, (rlim_t)l->max_open_files } },
		{ RLIMIT_FSIZE, { MIB(l->tmpfs_mb), MIB(l->tmpfs_mb) } },
		{ RLIMIT_CORE, { 0, 0 } },
		{ RLIMIT_STACK, { MIB(STACK_MB), MIB(STACK_MB) } },
		{ RLIMIT_SIGPENDING, { SIGPENDING_MAX, SIGPENDING_MAX } },
		{ RLIMIT_MSGQUEUE, { KIB(MSGQUEUE_KB), KIB(MSGQUEUE_KB) } },
		{ RLIMIT_MEMLOCK, { KIB(MEMLOCK_KB), KIB(MEMLOCK_KB) } },
		{ RLIMIT_NICE, { 0, 0 } },
		{ RLIMIT_RTPRIO, { 0, 0 } },
	};

	memcpy(c->rlimits, lims, sizeof lims);
}

/*
 * The ceilings of the whole namespace at the slot uid's level (see
 * sandbox_owner.c): the payload's own limits. Not RLIMIT_NPROC: the
 * kernel counts processes at that level by real uid across the whole host,
 * so a run still dying in the same slot (its runner killed, or a second
 * runner sharing sandbox_uid_base) would make the next run's forks fail;
 * the payload's RLIMIT_NPROC, counted in the run's own namespace, and
 * pids.max bound a run's processes.
 */
static void fill_ns_rlimits(struct sandbox_owner_spec *o)
{
	const struct sandbox_rlimit lims[SANDBOX_NS_NRLIMITS] = {
		{ RLIMIT_SIGPENDING, { SIGPENDING_MAX, SIGPENDING_MAX } },
		{ RLIMIT_MSGQUEUE, { KIB(MSGQUEUE_KB), KIB(MSGQUEUE_KB) } },
		{ RLIMIT_MEMLOCK, { KIB(MEMLOCK_KB), KIB(MEMLOCK_KB) } },
	};

	memcpy(o->ns_rlimits, lims, sizeof lims);
}

static void add_sysctl(struct sandbox_init_spec *s, const char *path, long value)
{
	if (s->nsysctls < SANDBOX_NSYSCTLS) {
		snprintf(s->sysctls[s->nsysctls].path, sizeof s->sysctls[0].path, "%s", path);
		snprintf(s->sysctls[s->nsysctls].value, sizeof s->sysctls[0].value, "%ld", value);
		snprintf(s->sysctls[s->nsysctls].what, sizeof s->sysctls[0].what, SANDBOX_LIMIT_STEP "%s",
			 path + strlen("/proc/sys/"));
		s->nsysctls++;
	}
}

/*
 * The namespace's own ucount limits: no new namespaces (seccomp denies
 * creating them too), no fanotify (denied too), a few inotify instances.
 * The IPC namespace's limits are sized by the kernel for a whole host
 * (32000 SysV message queues of 16 KiB, shmall of terabytes); they are
 * writable only by inside root, which is mapped when the runner is root.
 */
static void fill_sysctls(struct sandbox_init_spec *s, const struct sandbox_limits *l, bool inside_root)
{
	static const char *const no_more[] = {
		"/proc/sys/user/max_user_namespaces", "/proc/sys/user/max_pid_namespaces",
		"/proc/sys/user/max_net_namespaces", "/proc/sys/user/max_mnt_namespaces",
		"/proc/sys/user/max_ipc_namespaces", "/proc/sys/user/max_uts_namespaces",
		"/proc/sys/user/max_cgroup_namespaces", "/proc/sys/user/max_time_namespaces",
		"/proc/sys/user/max_fanotify_groups", "/proc/sys/user/max_fanotify_marks",
	};

	for (size_t i = 0; i < sizeof no_more / sizeof no_more[0]; i++)
		add_sysctl(s, no_more[i], 0);
	add_sysctl(s, "/proc/sys/user/max_inotify_instances", NS_QUEUES);
	add_sysctl(s, "/proc/sys/user/max_inotify_watches", NS_INOTIFY_WATCHES);
	if (!inside_root)
		return;
	add_sysctl(s, "/proc/sys/kernel/shmmni", NS_QUEUES);
	add_sysctl(s, "/proc/sys/kernel/shmmax", (long)MIB(l->tmpfs_mb));
	add_sysctl(s, "/proc/sys/kernel/shmall", (long)(MIB(l->tmpfs_mb) / 4096));
	add_sysctl(s, "/proc/sys/kernel/msgmni", NS_QUEUES);
	add_sysctl(s, "/proc/sys/fs/mqueue/queues_max", NS_QUEUES);
}

/* "{python}" and "{python_boot}" words of a language's command. */
static const char *expand_word(const struct sandbox_host *host, const char *w)
{
	if (strcmp(w, "{python}") == 0)
		return host->python;
	if (strcmp(w, "{python_boot}") == 0)
		return python_boot;
	return w;
}

/* argv and envp of the payload. Returns 0, or -1 if they do not fit. */
static int fill_command(struct sandbox_init_spec *s, const struct sandbox_host *host,
			const struct sandbox_job *job)
{
	static const char *const python_argv[] = { "{python}", "-u", "-E", "-S", "-c", "{python_boot}", NULL };
	static const char *const base_env[] = {
		"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp", "LANG=C.UTF-8", "TMPDIR=/tmp",
	};
	const char *const *argv = job->argv ? job->argv : python_argv;
	size_t n = 0, e = 0;

	for (; argv[n]; n++) {
		if (n + 1 >= SANDBOX_ARGV)
			return -1;
		s->argv[n] = expand_word(host, argv[n]);
	}
	if (n == 0 || s->argv[0][0] != '/')
		return -1;
	s->exec_path = s->argv[0];
	for (; e < sizeof base_env / sizeof base_env[0]; e++)
		s->envp[e] = base_env[e];
	for (size_t i = 0; job->env && job->env[i]; i++) {
		if (e + 1 >= SANDBOX_ENVP)
			return -1;
		s->envp[e++] = job->env[i];
	}
	return 0;
}

/* The root tmpfs holds directories, symlinks, the source and the files of
 * the job (a compile's output), or later_bytes in up to later_files files
 * that init writes once they exist (sandbox_prepare); a mount point costs
 * a directory per path component, a session's file maybe one more. */
static void fill_root_opts(struct sandbox_init_spec *s, const struct sandbox_job *job, size_t later_bytes,
			   int later_files)
{
	size_t bytes = job->source_len + later_bytes + (size_t)later_files * 4096;
	int inodes = 64 + job->nfiles + 2 * later_files + 2 * job->napp_files;

	for (int i = 0; i < job->nfiles; i++)
		bytes += job->files[i].len + 4096;
	for (int i = 0; i < job->napp_files; i++)
		bytes += job->app_files[i].len + 2 * 4096;     /* and its directory, if it opens one */
	for (int i = 0; i < job->nmounts; i++)
		inodes += 16;
	snprintf(s->root_opts, sizeof s->root_opts, "size=%zuk,nr_inodes=%d,mode=0755",
		 bytes / 1024 + 64, inodes);
}

int run_fill_spec(struct sandbox_init_spec *s, const struct sandbox_host *host,
		  const struct sandbox_job *job)
{
	const struct sandbox_limits *l = job->limits;

	memset(s, 0, sizeof *s);
	s->source = job->source;
	s->source_len = job->source_len;
	s->source_name = job->file_name ? job->file_name : "main.py";
	s->files = job->files;
	s->nfiles = job->nfiles;
	s->app_files = job->app_files;
	s->napp_files = job->napp_files;
	s->mounts = job->mounts;
	s->nmounts = job->nmounts;
	s->compile = job->compile;
	s->stdin_data = job->stdin_data;
	s->stdin_len = job->stdin_len;
	s->stdin_fd = -1;
	s->art_fd = -1;
	s->files_fd = -1;
	s->syntax_fd = s->child.syntax_fd = -1;
	s->lib_fd = -1;
	fill_root_opts(s, job, 0, 0);
	snprintf(s->tmp_opts, sizeof s->tmp_opts, "size=%dm,nr_inodes=%d,mode=1777",
		 l->tmpfs_mb, TMP_INODES);
	/* One inode more than files: the tmpfs's root directory is one. */
	if (job->max_artifacts > 0 && !job->compile)
		snprintf(s->out_opts, sizeof s->out_opts, "size=%zuk,nr_inodes=%d,mode=0777",
			 (job->max_artifact_bytes + 1023) / 1024, job->max_artifacts + 1);
	snprintf(s->shm_opts, sizeof s->shm_opts, "size=%dm,nr_inodes=64,mode=1777",
		 l->tmpfs_mb / 4 + 1);
	s->child.set_groups = host->root;
	s->child.uid = INSIDE_USER;
	s->child.gid = INSIDE_USER;
	s->child.workdir = job->workdir ? job->workdir : "/tmp";
	s->child.filter = &host->filter;
	fill_rlimits(&s->child, l, host->cg.version != CGROUP_NONE);
	fill_sysctls(s, l, host->root);
	if (job->nfiles < 0 || job->nfiles > SANDBOX_MAX_FILES || job->napp_files < 0 || job->nmounts < 0 ||
	    job->nmounts > SANDBOX_MAX_MOUNTS || strchr(s->source_name, '/'))
		return -1;
	return fill_command(s, host, job);
}

void run_files_later(struct sandbox_init_spec *s, const struct sandbox_job *job, size_t bytes, int files)
{
	struct sandbox_job none = *job;

	none.source_len = 0;
	none.nfiles = none.napp_files = 0;
	fill_root_opts(s, &none, bytes, files);
	s->source = NULL;
	s->source_len = 0;
	s->files = s->app_files = NULL;
	s->nfiles = s->napp_files = 0;
	s->stdin_data = NULL;
	s->stdin_len = 0;
}

/*
 * Root runner: the owner becomes the slot's first host uid, which owns the
 * user namespace and is inside root; inside 1000 (the payload) is the
 * second. Slots cannot signal or ptrace each other, and host root is never
 * mapped nor charged for what a run holds. Otherwise only the runner's own
 * ids can be mapped, and setgroups must be denied first (else dropping a
 * group could grant access, CVE-2014-8989).
 */
int run_fill_owner(struct sandbox_owner_spec *o, const struct sandbox_host *host,
		   const struct sandbox_job *job)
{
	long base = host->uid_base + 2L * job->slot;

	o->init_flags = CLONE_SANDBOX | (job->slot_netns ? 0 : CLONE_NEWNET);
	if (!host->root) {
		snprintf(o->uid_map, sizeof o->uid_map, "%d %u 1\n", INSIDE_USER, (unsigned)geteuid());
		snprintf(o->gid_map, sizeof o->gid_map, "%d %u 1\n", INSIDE_USER, (unsigned)getegid());
		o->deny_setgroups = true;
		return 0;
	}
	if (job->slot < 0 || host->uid_base <= 0 || base + 1 >= (long)UINT32_MAX)
		return -1;
	o->drop_ids = true;
	o->uid = (uid_t)base;
	o->gid = (gid_t)base;
	fill_ns_rlimits(o);
	snprintf(o->uid_map, sizeof o->uid_map, "%d %ld 1\n%d %ld 1\n", INSIDE_ROOT, base, INSIDE_USER, base + 1);
	memcpy(o->gid_map, o->uid_map, sizeof o->gid_map);
	return 0;
}

/* ---- starting -------------------------------------------------------- */

void run_set_message(struct sandbox_result *res, const char *what, int err)
{
	char buf[128];

	res->outcome = SANDBOX_SETUP_FAILED;
	if (err)
		snprintf(res->message, sizeof res->message, "%s: %s", what,
			 strerror_r(err, buf, sizeof buf));
	else
		snprintf(res->message, sizeof res->message, "%s", what);
}

int run_ms_until(int64_t deadline)
{
	int64_t left = deadline - mono_ms();

	return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* Records why the child cannot go on; it is killed and collected normally. */
void run_fail(struct run *r, const char *what, int err)
{
	r->failed = true;
	r->failure.err = err;
	snprintf(r->failure.what, sizeof r->failure.what, "%s", what);
	kill(r->pid, SIGKILL);
	if (r->owner != r->pid)
		kill(r->owner, SIGKILL);
}

/*
 * init's pid as the runner sees it, from the credentials the kernel
 * attaches to init's one-byte hello (SO_PASSCRED). Returns it, or -1 with
 * errno (EPIPE: the owner failed before cloning init; ETIMEDOUT).
 */
pid_t run_receive_init_pid(int fd, int64_t deadline, pid_t owner)
{
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(struct ucred))]; } u;
	struct ucred cred;
	char byte;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = u.buf, .msg_controllen = sizeof u.buf };
		struct cmsghdr *c;
		int n = poll(&p, 1, run_ms_until(deadline));
		ssize_t got;

		if (n == 0)
			errno = ETIMEDOUT;
		if (n <= 0 && (n == 0 || errno != EINTR))
			return -1;
		if (n < 0)
			continue;
		got = recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			if (got == 0)
				errno = EPIPE;
			return -1;
		}
		c = CMSG_FIRSTHDR(&m);
		if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_CREDENTIALS)
			break;
		memcpy(&cred, CMSG_DATA(c), sizeof cred);
		if (cred.pid <= 0 || cred.pid == owner)
			break;
		return cred.pid;
	}
	errno = EPROTO;
	return -1;
}

int run_send_fds(int sock, const void *data, size_t len, const int *fds, int nfds)
{
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int) * SANDBOX_PASSED_FDS_MAX)]; } u;
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			    .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	ssize_t n;

	memset(&u, 0, sizeof u);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	do
		n = sendmsg(sock, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? 0 : -1;
}

/*
 * Moves the owner into the run's cgroup (unless it was born there) and
 * lets it go on: nothing of the run executes outside the cgroup. Until
 * init is learned r->pid is the owner, so that a failure kills and reaps
 * what exists; an owner that failed has reported why on the status pipe.
 */
void run_release(struct run *r)
{
	if (r->cg.version != CGROUP_NONE && !r->born_in_cgroup && cgroup_run_join(&r->cg, r->owner) < 0) {
		limit_error("join the run's cgroup", r->cg.name, errno);
		run_fail(r, "join the run's cgroup", errno);
	} else if (send(r->sync_fd, "x", 1, MSG_NOSIGNAL) != 1) {
		run_fail(r, "release the sandbox's owner", errno);
	}
}

/* Learns init's pid from its hello, and closes the sync socket. */
void run_learn_init(struct run *r)
{
	pid_t init;

	if (!r->failed) {
		if ((init = run_receive_init_pid(r->sync_fd, r->deadline, r->owner)) < 0 && errno != EPIPE)
			run_fail(r, "learn the sandbox's init", errno);
		else if (init > 0)
			r->pid = init;
	}
	close(r->sync_fd);
	r->sync_fd = -1;
}

void run_launch(struct run *r)
{
	run_release(r);
	run_learn_init(r);
}

/*
 * An interactive run's stdin pipe: init gets the read end, the runner
 * keeps the write end, non-blocking so that a program that does not read
 * never blocks the collecting loop.
 */
int run_open_feed(struct run *r, struct sandbox_init_spec *s)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if (fcntl(p[1], F_SETFL, O_NONBLOCK) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	s->stdin_fd = p[0];
	r->feed.fd = p[1];
	return 0;
}

/*
 * Clones the owner, born in the run's cgroup where the host allows it (v2),
 * else moved there by run_launch, and runs it on spec, the spec's own
 * copy (clone_spec.h). The child writes nothing of r: r may lie in a slot's
 * arena, which the clone does not have.
 */
static pid_t clone_owner(struct run *r, struct sandbox_init_spec *spec)
{
	pid_t pid = r->cg.version == CGROUP_V2 ? cgroup_run_fork_into(&r->cg) : -1;
	bool born = pid >= 0;

	if (!born)
		pid = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	if (pid == 0)
		sandbox_owner_main(spec);
	r->born_in_cgroup = born;
	return pid;
}

/*
 * Creates the pipes and clones init. All fds are close-on-exec, and the
 * child closes every fd it inherited but its four: other slots clone too.
 * Returns 0 (r->pid set), or -1 with res describing the failure.
 */
int run_start(struct run *r, struct sandbox_init_spec *s, struct sandbox_result *res)
{
	int sync[2], status[2], out[2], err[2], e;

	/* A memfd, not a pipe: a long report never blocks its writer, and it
	 * is read once the run has ended. The runner keeps its end. */
	if (r->syntax_channel && (r->syntax_fd = memfd_create("syntax", MFD_CLOEXEC)) < 0)
		goto fail;
	s->syntax_fd = r->syntax_fd;
	if (r->art_limit && (r->art_fd = memfd_create("artifacts", MFD_CLOEXEC)) < 0)
		goto fail;
	s->art_fd = r->art_fd;

	/* A socket, not a pipe: if the child is already dead, sending must fail
	 * with EPIPE instead of raising SIGPIPE in the runner. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync) < 0)
		goto fail;
	r->sync_fd = sync[1];
	if (setsockopt(sync[1], SOL_SOCKET, SO_PASSCRED, &(int){ 1 }, sizeof(int)) < 0)
		goto fail_sync;
	if (pipe2(status, O_CLOEXEC) < 0)
		goto fail_sync;
	r->status_fd = status[0];
	if (pipe2(out, O_CLOEXEC) < 0)
		goto fail_status;
	r->out.fd = out[0];
	if (pipe2(err, O_CLOEXEC) < 0)
		goto fail_out;
	r->err.fd = err[0];
	if (r->interactive && run_open_feed(r, s) < 0) {
		close(err[1]);
		goto fail_out;
	}

	s->sync_fd = sync[0];
	s->status_fd = status[1];
	s->out_fd = out[1];
	s->err_fd = err[1];
	r->t_clone = mono_ms();
	struct clone_spec copy;
	if (clone_spec_copy(&copy, s) < 0) {
		e = errno;
		r->pid = -1;
	} else {
		r->pid = r->owner = clone_owner(r, copy.spec);
		e = errno;
		clone_spec_release(&copy);
	}
	if (s->stdin_fd >= 0)
		close(s->stdin_fd);
	if (s->lib_fd >= 0)
		close(s->lib_fd);
	close(err[1]);
	close(out[1]);
	close(status[1]);
	close(sync[0]);
	if (r->pid > 0)
		return 0;
	run_set_message(res, "clone the sandbox's owner", e);
	return -1;
fail_out:
	close(out[1]);
fail_status:
	close(status[1]);
fail_sync:
	close(sync[0]);
fail:
	e = errno;
	if (s->stdin_fd >= 0)
		close(s->stdin_fd);
	if (s->lib_fd >= 0)
		close(s->lib_fd);
	run_set_message(res, "pipe", e);
	return -1;
}

/* ---- collecting ------------------------------------------------------ */

static void kill_tree(struct run *r, enum kill_reason why)
{
	int64_t now = mono_ms();

	if (r->killed)
		return;
	r->killed = why;
	kill(r->pid, SIGKILL);
	if (!r->t_end)
		r->t_end = now;
	r->deadline = now + DRAIN_TIMEOUT_MS;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Grows c->buf geometrically, never beyond its limit. Returns 0 or -1. */
static int capture_grow(struct capture *c)
{
	size_t size = c->size ? c->size * 2 : FIRST_BUF;
	char *p;

	if (size > c->limit)
		size = c->limit;
	if (!(p = realloc(c->buf, size + 1)))
		return -1;
	c->buf = p;
	c->size = size;
	return 0;
}

/*
 * Reads what is available on one output pipe. Past the limit the bytes are
 * dropped and the tree killed. Returns 0, or -1 when out of memory.
 */
static int capture_read(struct run *r, struct capture *c)
{
	char scratch[4096];
	ssize_t n;

	if (c->len == c->limit) {
		n = read(c->fd, scratch, sizeof scratch);
		if (n > 0) {
			c->truncated = true;
			kill_tree(r, KILL_OUTPUT);
		}
	} else {
		if (c->len == c->size && capture_grow(c) < 0)
			return -1;
		n = read(c->fd, c->buf + c->len, c->size - c->len);
		if (n > 0) {
			event_sink_output(r->sink, c == &r->err, c->buf + c->len, (size_t)n);
			c->len += (size_t)n;
		}
	}
	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
		close_fd(&c->fd);
	return 0;
}

/* Writes what the pipe takes of the pending stdin; closes it at eof, or
 * when the program has closed its end (EPIPE: the rest is dropped). */
static void feed_write(struct feed *f)
{
	while (f->len > 0) {
		ssize_t n = write(f->fd, f->buf, f->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			f->len = 0;
			f->eof = true;
			break;
		}
		memmove(f->buf, f->buf + n, f->len - (size_t)n);
		f->len -= (size_t)n;
	}
	if (f->eof)
		close_fd(&f->fd);
}

/* Appends to the bytes waiting for the pipe. Returns 0, or -1 (ENOMEM). */
int run_feed_queue(struct feed *f, const char *data, size_t len)
{
	if (len == 0)
		return 0;
	if (f->len + len > f->size) {
		size_t size = f->len + len;
		char *p = realloc(f->buf, size);

		if (!p)
			return -1;
		f->buf = p;
		f->size = size;
	}
	memcpy(f->buf + f->len, data, len);
	f->len += len;
	return 0;
}

int sandbox_live_feed(struct sandbox_live *live, const char *data, size_t len, bool eof)
{
	struct feed *f = live->feed;

	if (f->fd < 0 || f->eof)
		return 0;
	if (run_feed_queue(f, data, len) < 0)
		return -1;
	f->eof = eof;
	feed_write(f);
	return 0;
}

/* The CPU time of the run's cgroup since the run began; -1: unknown. */
static int64_t run_cpu_ms(const struct run *r)
{
	int64_t cpu = cgroup_run_cpu_ms(&r->cg);

	return cpu < 0 ? -1 : cpu > r->cpu_base_ms ? cpu - r->cpu_base_ms : 0;
}

/*
 * Lets the watch look at the run (it may stop it), and holds an interactive
 * run to its CPU limit. RLIMIT_CPU bounds each process; a run that waits
 * for input may live for interactive_wall_ms, so its processes together
 * could otherwise use that much CPU time: the cgroup counts them all.
 */
static void watch_tick(struct run *r)
{
	struct sandbox_live live = { &r->feed };

	if (r->killed || r->exited || r->failed) {
		r->tick_at = INT64_MAX;
		return;
	}
	r->tick_at = mono_ms() + (r->watch ? r->watch->interval_ms : DEMOTE_CHECK_MS);
	if (r->cpu_limit_ms > 0 && r->started && r->cg.version != CGROUP_NONE &&
	    run_cpu_ms(r) >= r->cpu_limit_ms)
		kill_tree(r, KILL_CPU);
	else if (r->watch && r->watch->tick(r->watch->arg, &live))
		kill_tree(r, KILL_CANCEL);
}

static void on_record(struct run *r, const struct sandbox_status *st)
{
	int64_t now = mono_ms();

	if (st->kind == SANDBOX_ST_STARTED && !r->started) {
		r->started = true;
		r->t_start = now;
		if (!r->killed)
			r->deadline = now + r->wall_time_ms;
		if (r->demote_after_ms > 0)
			r->demote_at = now + r->demote_after_ms;
		return;
	}
	if (st->kind == SANDBOX_ST_EXITED && r->started && !r->exited) {
		r->exited = true;
		r->wstatus = st->wstatus;
		r->children_cpu_ms = st->cpu_ms;
		r->children_rss_kb = st->maxrss_kb;
	} else if (!r->failed) {
		/* A setup failure, or a record that makes no sense: fail closed. */
		r->failed = true;
		r->failure = *st;
		if (st->kind != SANDBOX_ST_FAILED)
			snprintf(r->failure.what, sizeof r->failure.what, "unexpected status record");
		r->failure.what[sizeof r->failure.what - 1] = '\0';
	}
	if (!r->t_end)
		r->t_end = now;
	if (!r->killed)
		r->deadline = now + DRAIN_TIMEOUT_MS;
}

void run_status_read(struct run *r)
{
	char *p = (char *)&r->rec;
	ssize_t n = read(r->status_fd, p + r->rec_len, sizeof r->rec - r->rec_len);

	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
		close_fd(&r->status_fd);
		return;
	}
	if (n < 0)
		return;
	r->rec_len += (size_t)n;
	if (r->rec_len == sizeof r->rec) {
		on_record(r, &r->rec);
		r->rec_len = 0;
	}
}

static void on_deadline(struct run *r)
{
	if (r->killed || r->exited || r->failed) {
		/* Draining took too long: stop listening (init is killed before wait4). */
		close_fd(&r->status_fd);
		close_fd(&r->out.fd);
		close_fd(&r->err.fd);
		return;
	}
	kill_tree(r, r->started ? KILL_TIMEOUT : KILL_SETUP);
}

/*
 * A run that has used demote_after_ms of CPU is a long computation:
 * dropping its CPU weight lets short runs through first (a hello world next
 * to two CPU hogs keeps its latency) while the long one still gets every
 * idle cycle. CPU time, not wall time: on a busy host every run is slow,
 * and demoting them all would only reorder them. Checked every
 * DEMOTE_CHECK_MS of wall time until it applies.
 */
static void demote_check(struct run *r)
{
	int64_t cpu = run_cpu_ms(r);

	if (cpu < 0 || cpu >= r->demote_after_ms) {
		r->demote_at = INT64_MAX;
		if (cgroup_run_demote_cpu(&r->cg) < 0)
			limit_error("lower the run's CPU weight", r->cg.name, errno);
		return;
	}
	r->demote_at = mono_ms() + DEMOTE_CHECK_MS;
}

/* Polls until the status and both output pipes are closed. Returns 0, or
 * -1 with errno set (out of memory; the tree is then killed by reap). */
int run_collect(struct run *r)
{
	while (r->status_fd >= 0 || r->out.fd >= 0 || r->err.fd >= 0) {
		struct pollfd p[4] = {
			{ .fd = r->status_fd, .events = POLLIN },
			{ .fd = r->out.fd, .events = POLLIN },
			{ .fd = r->err.fd, .events = POLLIN },
			{ .fd = r->feed.len > 0 ? r->feed.fd : -1, .events = POLLOUT },
		};
		int64_t next = r->deadline < r->demote_at ? r->deadline : r->demote_at;
		int64_t due = event_sink_due(r->sink);

		/* The watch also while output streams in, when poll never times out. */
		if (mono_ms() >= r->tick_at) {
			watch_tick(r);
			continue;
		}
		if (r->tick_at < due)
			due = r->tick_at;
		int timeout = run_ms_until(due < next ? due : next);
		int n = timeout > 0 ? poll(p, 4, timeout) : 0;

		if (n < 0 && errno != EINTR)
			return -1;
		if (n > 0) {
			if (p[3].revents)
				feed_write(&r->feed);
			if (p[0].revents)
				run_status_read(r);
			if ((p[1].revents && capture_read(r, &r->out) < 0) ||
			    (p[2].revents && capture_read(r, &r->err) < 0))
				return -1;
		}
		/* The batch's store write after the reads: output that came
		 * with it is published first, not behind a commit (which may
		 * wait for another writer's lock). */
		event_sink_tick(r->sink);
		if (n == 0 && mono_ms() >= r->demote_at && r->demote_at < r->deadline)
			demote_check(r);
		else if (n == 0 && mono_ms() >= r->deadline)
			on_deadline(r);
	}
	return 0;
}

/* ---- results --------------------------------------------------------- */

/* Collects init (and so the rusage of every process it reaped). */
void run_reap(struct run *r, struct sandbox_result *res)
{
	struct rusage ru;
	int wstatus;

	if (!r->exited)
		kill(r->pid, SIGKILL);
	while (wait4(r->pid, &wstatus, 0, &ru) < 0) {
		if (errno != EINTR) {
			memset(&ru, 0, sizeof ru);
			break;
		}
	}
	if (r->owner != r->pid) {               /* normally gone already */
		kill(r->owner, SIGKILL);
		while (waitpid(r->owner, &wstatus, 0) < 0 && errno == EINTR)
			;
	}
	res->cpu_ms = (int64_t)ru.ru_utime.tv_sec * 1000 + ru.ru_utime.tv_usec / 1000 +
		      (int64_t)ru.ru_stime.tv_sec * 1000 + ru.ru_stime.tv_usec / 1000;
	res->memory_kb = ru.ru_maxrss;
}

/* The run's own cgroup, before anything of it exists. Returns 0, or -1
 * with res saying why (fail closed: no run without its configured limits). */
int run_make_cgroup(struct run *r, const struct sandbox_host *host, const struct sandbox_job *job,
		    const char *kind, struct sandbox_result *res)
{
	const struct sandbox_limits *l = job->limits;
	/* pids.max counts init, and the owner until it has exited. */
	const struct cgroup_limits lim = {
		.memory_bytes = (int64_t)MIB(l->memory_mb),
		.max_pids = l->max_processes + 2L,
		.cpu_percent = l->max_cpu_percent,
		.cpu_weight = l->cpu_weight,
	};
	const char *what = "cgroup";

	if (host->cg.version == CGROUP_NONE)
		return 0;
	if (cgroup_run_create_as(&host->cg, kind, job->slot, &lim, &r->cg, &what) == 0)
		return 0;
	limit_error(what, r->cg.name, errno);
	run_set_message(res, what, errno);
	return -1;
}

/*
 * The cgroup's counters cover every process of the run, including those
 * killed with the namespace (wait4's rusage only has init's reaped
 * children). An OOM kill anywhere in the cgroup makes the run a memory
 * limit: the victim may be the payload (SIGKILL), a child it waited for,
 * or even init -- but not when the run had already been stopped for time
 * or output, which is what the learner needs to hear about first.
 */
void run_apply_cgroup_stats(const struct run *r, struct sandbox_result *res)
{
	struct cgroup_stats st;

	if (r->cg.version == CGROUP_NONE)
		return;
	cgroup_run_stats(&r->cg, &st);
	if (st.cpu_ms >= 0)
		res->cpu_ms = st.cpu_ms > r->cpu_base_ms ? st.cpu_ms - r->cpu_base_ms : 0;
	if (st.peak_kb >= 0)
		res->memory_kb = st.peak_kb;
	if (st.oom_kills > 0 && r->started &&
	    (res->outcome == SANDBOX_EXITED || res->outcome == SANDBOX_SIGNALED ||
	     res->outcome == SANDBOX_SETUP_FAILED)) {
		res->outcome = SANDBOX_MEMORY_LIMIT;
		res->signal = SIGKILL;
		res->message[0] = '\0';
	}
}

void run_describe(const struct run *r, struct sandbox_result *res)
{
	int64_t end = r->t_end ? r->t_end : mono_ms();

	res->setup_ms = (r->started ? r->t_start : end) - r->t_clone;
	/* Whole milliseconds, rounded up: a program that ran took some time (a
	 * warm hello world takes well under one). */
	res->wall_ms = r->started ? (end > r->t_start ? end - r->t_start : 1) : 0;
	if (r->failed) {
		if (strncmp(r->failure.what, SANDBOX_LIMIT_STEP, strlen(SANDBOX_LIMIT_STEP)) == 0)
			limit_error(r->failure.what + strlen(SANDBOX_LIMIT_STEP), NULL, r->failure.err);
		run_set_message(res, r->failure.what, r->failure.err);
	} else if (r->killed == KILL_OUTPUT || r->killed == KILL_TIMEOUT) {
		res->outcome = r->killed == KILL_OUTPUT ? SANDBOX_OUTPUT_LIMIT : SANDBOX_TIMEOUT;
		res->signal = SIGKILL;
	} else if (r->killed == KILL_CPU) {
		/* As if RLIMIT_CPU had fired: the CPU limit, TIMEOUT. */
		res->outcome = SANDBOX_SIGNALED;
		res->signal = SIGXCPU;
	} else if (r->killed == KILL_CANCEL) {
		res->outcome = SANDBOX_CANCELLED;
		res->signal = SIGKILL;
	} else if (r->killed == KILL_SETUP) {
		run_set_message(res, "sandbox setup timed out", 0);
	} else if (r->exited && WIFEXITED(r->wstatus)) {
		res->outcome = SANDBOX_EXITED;
		res->exit_code = WEXITSTATUS(r->wstatus);
	} else if (r->exited && WIFSIGNALED(r->wstatus)) {
		res->outcome = SANDBOX_SIGNALED;
		res->signal = WTERMSIG(r->wstatus);
	} else {
		run_set_message(res, "sandbox init ended without a status", 0);
	}
}

/* Hands a capture's buffer to the result, NUL-terminated. Returns 0 or -1. */
static int capture_take(struct capture *c, char **buf, size_t *len, bool *truncated)
{
	if (!c->buf && !(c->buf = malloc(1)))
		return -1;
	c->buf[c->len] = '\0';
	*buf = c->buf;
	*len = c->len;
	*truncated = c->truncated;
	c->buf = NULL;
	return 0;
}

void run_init(struct run *r, const struct sandbox_job *job)
{
	const struct sandbox_limits *l = job->limits;

	memset(r, 0, sizeof *r);
	cgroup_run_init(&r->cg);
	r->pid = r->owner = -1;
	r->sync_fd = r->status_fd = r->out.fd = r->err.fd = r->syntax_fd = r->art_fd = -1;
	/* Each file's header and name besides its bytes. */
	if (job->max_artifacts > 0 && job->keep_artifacts && !job->compile)
		r->art_limit = job->max_artifact_bytes +
			       (size_t)job->max_artifacts * (sizeof(struct sandbox_artifact_header) + 256);
	r->syntax_channel = job->syntax_channel;
	r->syntax_limit = (size_t)l->max_output_bytes;
	r->out.limit = r->err.limit = (size_t)l->max_output_bytes;
	if (job->compile)
		r->out.limit = job->artifact_limit;
	r->sink = job->compile ? NULL : job->sink;
	r->wall_time_ms = l->wall_time_ms;
	r->demote_after_ms = l->cpu_demote_after_ms;
	r->demote_at = INT64_MAX;
	r->interactive = job->interactive;
	r->feed.fd = -1;
	r->watch = job->watch;
	if (job->interactive)
		r->cpu_limit_ms = l->cpu_time_ms;       /* checked where a cgroup counts it */
	/* An interactive run's first input is fed at once; a plain run is
	 * first looked at one interval in, when most have already ended (a
	 * cancel sent before then still stops it then, and the result's
	 * write sees any cancel). */
	r->tick_at = job->interactive ? 0 : job->watch ? mono_ms() + job->watch->interval_ms : INT64_MAX;
}

/* What the payload wrote to its syntax channel, into res (NULL if nothing).
 * Returns 0, or -1 when out of memory. */
static int syntax_take(struct run *r, struct sandbox_result *res)
{
	struct stat st;
	ssize_t n;

	if (r->syntax_fd < 0 || fstat(r->syntax_fd, &st) < 0 || st.st_size <= 0)
		return 0;
	res->syntax_len = (size_t)st.st_size < r->syntax_limit ? (size_t)st.st_size : r->syntax_limit;
	if (!(res->syntax = malloc(res->syntax_len + 1)))
		return -1;
	n = pread(r->syntax_fd, res->syntax, res->syntax_len, 0);
	res->syntax_len = n > 0 ? (size_t)n : 0;
	res->syntax[res->syntax_len] = '\0';
	return 0;
}

/* What init streamed from out/ into the run's memfd, into res (NULL if
 * nothing). Returns 0, or -1 when out of memory. */
static int artifacts_take(struct run *r, struct sandbox_result *res)
{
	struct stat st;
	ssize_t n;

	if (r->art_fd < 0 || fstat(r->art_fd, &st) < 0 || st.st_size <= 0)
		return 0;
	if ((size_t)st.st_size > r->art_limit)
		return 0;       /* init writes no more than out/ can hold: this is no stream of its */
	if (!(res->artifacts = malloc((size_t)st.st_size)))
		return -1;
	n = pread(r->art_fd, res->artifacts, (size_t)st.st_size, 0);
	res->artifacts_len = n > 0 ? (size_t)n : 0;
	return 0;
}

int run_finish(struct run *r, struct sandbox_result *res, int rc)
{
	char name[sizeof r->cg.name];

	memcpy(name, r->cg.name, sizeof name);
	if (cgroup_run_destroy(&r->cg) < 0)
		limit_error("remove the run's cgroup (left for the next start)", name, errno);
	close_fd(&r->sync_fd);
	close_fd(&r->status_fd);
	close_fd(&r->out.fd);
	close_fd(&r->err.fd);
	close_fd(&r->feed.fd);
	free(r->feed.buf);
	if (rc == 0 && (capture_take(&r->out, &res->out, &res->out_len, &res->out_truncated) < 0 ||
			capture_take(&r->err, &res->err, &res->err_len, &res->err_truncated) < 0 ||
			syntax_take(r, res) < 0 || artifacts_take(r, res) < 0)) {
		run_set_message(res, "out of memory", ENOMEM);
		rc = -1;
	}
	free(r->out.buf);
	free(r->err.buf);
	close_fd(&r->syntax_fd);
	close_fd(&r->art_fd);
	if (rc < 0)
		sandbox_result_free(res);
	return rc;
}

int run_to_end(struct run *r, struct sandbox_result *res)
{
	int rc = run_collect(r);

	if (rc < 0)
		run_set_message(res, "collect the output", errno);
	run_reap(r, res);
	if (rc == 0) {
		run_describe(r, res);
		run_apply_cgroup_stats(r, res);
	}
	return run_finish(r, res, rc);
}

/* A fresh interpreter, exec'd in a sandbox built for this run. */
static int run_cold(const struct sandbox_host *host, const struct sandbox_job *job,
		    struct sandbox_result *res)
{
	struct sandbox_init_spec spec;
	struct run r;

	memset(res, 0, sizeof *res);
	if (!run_limits_valid(job->limits) || run_fill_spec(&spec, host, job) < 0 ||
	    run_fill_owner(&spec.owner, host, job) < 0) {
		run_set_message(res, "invalid limits, command, files, slot or uid_base", EINVAL);
		return -1;
	}
	run_init(&r, job);
	/* An interactive run's stdin starts with the request's stdin. */
	if (job->interactive && run_feed_queue(&r.feed, job->stdin_data, job->stdin_len) < 0) {
		run_set_message(res, "out of memory", ENOMEM);
		return run_finish(&r, res, -1);
	}
	if (run_make_cgroup(&r, host, job, "slot", res) < 0)
		return run_finish(&r, res, 0);
	if (run_start(&r, &spec, res) < 0)
		return run_finish(&r, res, -1);
	r.deadline = r.t_clone + SETUP_TIMEOUT_MS;
	run_launch(&r);
	if (job->beside)
		job->beside(job->beside_arg);
	return run_to_end(&r, res);
}

int sandbox_run(const struct sandbox_host *host, const struct sandbox_job *job,
		struct sandbox_result *res)
{
	if (run_warm_eligible(job)) {
		int rc = run_warm(host, job, res);

		if (rc != 1)
			return rc;
		/* Nothing of the program ran: cold, and a new interpreter after. */
		job->warm->broken = true;
		log_warn("slot %d: the run starts cold; the warm interpreter is replaced", job->slot);
	}
	return run_cold(host, job, res);
}

int sandbox_slot_netns(void)
{
	return unshare(CLONE_NEWNET);
}

void sandbox_result_free(struct sandbox_result *res)
{
	free(res->out);
	free(res->err);
	free(res->syntax);
	free(res->artifacts);
	res->out = res->err = res->syntax = res->artifacts = NULL;
	res->out_len = res->err_len = res->syntax_len = res->artifacts_len = 0;
}
