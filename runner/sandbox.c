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

enum {
	SETUP_TIMEOUT_MS = 10000,       /* clone to interpreter start */
	DRAIN_TIMEOUT_MS = 5000,        /* after exit or kill, pipes must close by then */
	FIRST_BUF = 4096,               /* output buffers start here and double */
	INSIDE_ROOT = 0,
	INSIDE_USER = 1000,             /* the payload's uid and gid */
	TMP_INODES = 8192,
	STACK_MB = 8,
	SIGPENDING_MAX = 256,           /* queued signals */
	MSGQUEUE_KB = 512,              /* POSIX message queue bytes */
	MEMLOCK_KB = 64,
	NS_QUEUES = 16,                 /* inotify instances, SysV/POSIX queues, shm segments */
	NS_INOTIFY_WATCHES = 8192,
	DEMOTE_CHECK_MS = 25,           /* how often a run's CPU time is looked at */
	AS_FENCE_FACTOR = 16,           /* cgroup mode: RLIMIT_AS = this x memory_mb */
	WARM_ANSWER_MS = 2000,          /* a warm interpreter forks a run's owner by then */
	ZYGOTE_NAMESPACES = 64,         /* of each kind below a warm interpreter, the dying ones included */
};

/* init's namespaces, created by the owner. The owner already sits in the
 * run's cgroup, which so becomes the root of init's cgroup namespace. */
#define CLONE_SANDBOX (SIGCHLD | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | \
		       CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP)
#define MIB(n) ((rlim_t)(n) << 20)
#define KIB(n) ((rlim_t)(n) << 10)

struct capture {
	int fd;
	char *buf;
	size_t len, size, limit;        /* size: allocated, without the NUL */
	bool truncated;
};

enum kill_reason { KILL_NONE, KILL_SETUP, KILL_TIMEOUT, KILL_OUTPUT, KILL_CANCEL, KILL_CPU };

/* An interactive run's stdin: bytes waiting until the pipe takes them. */
struct feed {
	int fd;                         /* the runner's (write) end; -1: none or closed */
	char *buf;
	size_t len, size;
	bool eof;                       /* close once buf is written */
};

struct sandbox_live {
	struct feed *feed;
};

/* One run as seen from the parent. */
struct run {
	pid_t pid;                      /* init; the owner while init is not known */
	pid_t owner;                    /* the clone child that creates the namespaces */
	int sync_fd, status_fd;
	struct capture out, err;
	struct event_sink *sink;        /* live events of the output; NULL: none */
	struct sandbox_status rec;      /* status record being read */
	size_t rec_len;
	bool started, exited, failed;
	int wstatus;
	struct sandbox_status failure;
	enum kill_reason killed;
	int wall_time_ms;
	int demote_after_ms;
	struct cgroup_run cg;           /* version CGROUP_NONE: rlimit-only mode */
	int64_t t_clone, t_start, t_end, deadline;
	int64_t demote_at;              /* INT64_MAX: not (or no longer) due */
	bool interactive;
	struct feed feed;
	const struct sandbox_watch *watch;
	int64_t tick_at;                /* INT64_MAX: nothing to look at, or the run is over */
	int cpu_limit_ms;               /* an interactive run's CPU time, all processes; 0: none */
	bool syntax_channel;            /* the job asked for one */
	int syntax_fd;                  /* the runner's end of it (a memfd); -1: none */
	size_t syntax_limit;            /* the most of it read back */
	long children_cpu_ms;           /* what init reaped, as it reported (a warm run's) */
	long children_rss_kb;
};

/* ---- preparation (before clone) -------------------------------------- */

static bool limits_valid(const struct sandbox_limits *l)
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
 * the job (a compile's output); a mount point costs a directory per path
 * component. */
static void fill_root_opts(struct sandbox_init_spec *s, const struct sandbox_job *job)
{
	size_t bytes = job->source_len;
	int inodes = 64 + job->nfiles;

	for (int i = 0; i < job->nfiles; i++)
		bytes += job->files[i].len + 4096;
	for (int i = 0; i < job->nmounts; i++)
		inodes += 16;
	snprintf(s->root_opts, sizeof s->root_opts, "size=%zuk,nr_inodes=%d,mode=0755",
		 bytes / 1024 + 64, inodes);
}

static int fill_spec(struct sandbox_init_spec *s, const struct sandbox_host *host,
		     const struct sandbox_job *job)
{
	const struct sandbox_limits *l = job->limits;

	memset(s, 0, sizeof *s);
	s->source = job->source;
	s->source_len = job->source_len;
	s->source_name = job->file_name ? job->file_name : "main.py";
	s->files = job->files;
	s->nfiles = job->nfiles;
	s->mounts = job->mounts;
	s->nmounts = job->nmounts;
	s->compile = job->compile;
	s->stdin_data = job->stdin_data;
	s->stdin_len = job->stdin_len;
	s->stdin_fd = -1;
	s->syntax_fd = s->child.syntax_fd = -1;
	s->lib_fd = -1;
	fill_root_opts(s, job);
	snprintf(s->tmp_opts, sizeof s->tmp_opts, "size=%dm,nr_inodes=%d,mode=1777",
		 l->tmpfs_mb, TMP_INODES);
	snprintf(s->shm_opts, sizeof s->shm_opts, "size=%dm,nr_inodes=64,mode=1777",
		 l->tmpfs_mb / 4 + 1);
	s->child.set_groups = host->root;
	s->child.uid = INSIDE_USER;
	s->child.gid = INSIDE_USER;
	s->child.workdir = job->workdir ? job->workdir : "/tmp";
	s->child.filter = &host->filter;
	fill_rlimits(&s->child, l, host->cg.version != CGROUP_NONE);
	fill_sysctls(s, l, host->root);
	if (job->nfiles < 0 || job->nfiles > SANDBOX_MAX_FILES || job->nmounts < 0 ||
	    job->nmounts > SANDBOX_MAX_MOUNTS || strchr(s->source_name, '/'))
		return -1;
	return fill_command(s, host, job);
}

/*
 * Root runner: the owner becomes the slot's first host uid, which owns the
 * user namespace and is inside root; inside 1000 (the payload) is the
 * second. Slots cannot signal or ptrace each other, and host root is never
 * mapped nor charged for what a run holds. Otherwise only the runner's own
 * ids can be mapped, and setgroups must be denied first (else dropping a
 * group could grant access, CVE-2014-8989).
 */
static int fill_owner(struct sandbox_owner_spec *o, const struct sandbox_host *host,
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

static void set_message(struct sandbox_result *res, const char *what, int err)
{
	char buf[128];

	res->outcome = SANDBOX_SETUP_FAILED;
	if (err)
		snprintf(res->message, sizeof res->message, "%s: %s", what,
			 strerror_r(err, buf, sizeof buf));
	else
		snprintf(res->message, sizeof res->message, "%s", what);
}

static int ms_until(int64_t deadline)
{
	int64_t left = deadline - mono_ms();

	return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* Records why the child cannot go on; it is killed and collected normally. */
static void fail_run(struct run *r, const char *what, int err)
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
static pid_t receive_init_pid(int fd, int64_t deadline, pid_t owner)
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
		int n = poll(&p, 1, ms_until(deadline));
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

/*
 * Moves the owner into the run's cgroup and lets it go on (nothing of the
 * run executes outside the cgroup), then learns init's pid. Until then
 * r->pid is the owner, so that a failure kills and reaps what exists; an
 * owner that failed has reported why on the status pipe.
 */
static void launch(struct run *r)
{
	pid_t init;

	if (r->cg.version != CGROUP_NONE && cgroup_run_join(&r->cg, r->owner) < 0) {
		limit_error("join the run's cgroup", r->cg.name, errno);
		fail_run(r, "join the run's cgroup", errno);
	}
	else if (send(r->sync_fd, "x", 1, MSG_NOSIGNAL) != 1)
		fail_run(r, "release the sandbox's owner", errno);
	else if ((init = receive_init_pid(r->sync_fd, r->deadline, r->owner)) < 0 && errno != EPIPE)
		fail_run(r, "learn the sandbox's init", errno);
	else if (init > 0)
		r->pid = init;
	close(r->sync_fd);
	r->sync_fd = -1;
}

/*
 * An interactive run's stdin pipe: init gets the read end, the runner
 * keeps the write end, non-blocking so that a program that does not read
 * never blocks the collecting loop.
 */
static int open_feed(struct run *r, struct sandbox_init_spec *s)
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
 * Creates the pipes and clones init. All fds are close-on-exec, and the
 * child closes every fd it inherited but its four: other slots clone too.
 * Returns 0 (r->pid set), or -1 with res describing the failure.
 */
static int start(struct run *r, struct sandbox_init_spec *s, struct sandbox_result *res)
{
	int sync[2], status[2], out[2], err[2], e;

	/* A memfd, not a pipe: a long report never blocks its writer, and it
	 * is read once the run has ended. The runner keeps its end. */
	if (r->syntax_channel && (r->syntax_fd = memfd_create("syntax", MFD_CLOEXEC)) < 0)
		goto fail;
	s->syntax_fd = r->syntax_fd;

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
	if (r->interactive && open_feed(r, s) < 0) {
		close(err[1]);
		goto fail_out;
	}

	s->sync_fd = sync[0];
	s->status_fd = status[1];
	s->out_fd = out[1];
	s->err_fd = err[1];
	r->t_clone = mono_ms();
	r->pid = r->owner = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	if (r->pid == 0)
		sandbox_owner_main(s);
	e = errno;
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
	set_message(res, "clone the sandbox's owner", e);
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
	set_message(res, "pipe", e);
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
static int feed_queue(struct feed *f, const char *data, size_t len)
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
	if (feed_queue(f, data, len) < 0)
		return -1;
	f->eof = eof;
	feed_write(f);
	return 0;
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
	    cgroup_run_cpu_ms(&r->cg) >= r->cpu_limit_ms)
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

static void status_read(struct run *r)
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
	int64_t cpu = cgroup_run_cpu_ms(&r->cg);

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
static int collect(struct run *r)
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
		int timeout = ms_until(due < next ? due : next);
		int n = timeout > 0 ? poll(p, 4, timeout) : 0;

		if (n < 0 && errno != EINTR)
			return -1;
		if (n > 0) {
			if (p[3].revents)
				feed_write(&r->feed);
			if (p[0].revents)
				status_read(r);
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
static void reap(struct run *r, struct sandbox_result *res)
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
static int make_cgroup(struct run *r, const struct sandbox_host *host, const struct sandbox_job *job,
		       const char *kind, struct sandbox_result *res)
{
	const struct sandbox_limits *l = job->limits;
	/* pids.max counts init, and the owner until it has exited. */
	const struct cgroup_limits lim = {
		.memory_bytes = (int64_t)MIB(l->memory_mb),
		.max_pids = l->max_processes + 2L,
		.cpu_percent = l->max_cpu_percent,
	};
	const char *what = "cgroup";

	if (host->cg.version == CGROUP_NONE)
		return 0;
	if (cgroup_run_create_as(&host->cg, kind, job->slot, &lim, &r->cg, &what) == 0)
		return 0;
	limit_error(what, r->cg.name, errno);
	set_message(res, what, errno);
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
static void apply_cgroup_stats(const struct run *r, struct sandbox_result *res)
{
	struct cgroup_stats st;

	if (r->cg.version == CGROUP_NONE)
		return;
	cgroup_run_stats(&r->cg, &st);
	if (st.cpu_ms >= 0)
		res->cpu_ms = st.cpu_ms;
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

static void describe(const struct run *r, struct sandbox_result *res)
{
	int64_t end = r->t_end ? r->t_end : mono_ms();

	res->setup_ms = (r->started ? r->t_start : end) - r->t_clone;
	/* Whole milliseconds, rounded up: a program that ran took some time (a
	 * warm hello world takes well under one). */
	res->wall_ms = r->started ? (end > r->t_start ? end - r->t_start : 1) : 0;
	if (r->failed) {
		if (strncmp(r->failure.what, SANDBOX_LIMIT_STEP, strlen(SANDBOX_LIMIT_STEP)) == 0)
			limit_error(r->failure.what + strlen(SANDBOX_LIMIT_STEP), NULL, r->failure.err);
		set_message(res, r->failure.what, r->failure.err);
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
		set_message(res, "sandbox setup timed out", 0);
	} else if (r->exited && WIFEXITED(r->wstatus)) {
		res->outcome = SANDBOX_EXITED;
		res->exit_code = WEXITSTATUS(r->wstatus);
	} else if (r->exited && WIFSIGNALED(r->wstatus)) {
		res->outcome = SANDBOX_SIGNALED;
		res->signal = WTERMSIG(r->wstatus);
	} else {
		set_message(res, "sandbox init ended without a status", 0);
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

static void run_init(struct run *r, const struct sandbox_job *job)
{
	const struct sandbox_limits *l = job->limits;

	memset(r, 0, sizeof *r);
	cgroup_run_init(&r->cg);
	r->pid = r->owner = -1;
	r->sync_fd = r->status_fd = r->out.fd = r->err.fd = r->syntax_fd = -1;
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
	r->tick_at = job->watch || r->cpu_limit_ms ? 0 : INT64_MAX;
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

static int finish(struct run *r, struct sandbox_result *res, int rc)
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
			syntax_take(r, res) < 0)) {
		set_message(res, "out of memory", ENOMEM);
		rc = -1;
	}
	free(r->out.buf);
	free(r->err.buf);
	close_fd(&r->syntax_fd);
	if (rc < 0)
		sandbox_result_free(res);
	return rc;
}

/* A fresh interpreter, exec'd in a sandbox built for this run. */
static int run_cold(const struct sandbox_host *host, const struct sandbox_job *job,
		    struct sandbox_result *res)
{
	struct sandbox_init_spec spec;
	struct run r;
	int rc;

	memset(res, 0, sizeof *res);
	if (!limits_valid(job->limits) || fill_spec(&spec, host, job) < 0 ||
	    fill_owner(&spec.owner, host, job) < 0) {
		set_message(res, "invalid limits, command, files, slot or uid_base", EINVAL);
		return -1;
	}
	run_init(&r, job);
	/* An interactive run's stdin starts with the request's stdin. */
	if (job->interactive && feed_queue(&r.feed, job->stdin_data, job->stdin_len) < 0) {
		set_message(res, "out of memory", ENOMEM);
		return finish(&r, res, -1);
	}
	if (make_cgroup(&r, host, job, "slot", res) < 0)
		return finish(&r, res, 0);
	if (start(&r, &spec, res) < 0)
		return finish(&r, res, -1);
	r.deadline = r.t_clone + SETUP_TIMEOUT_MS;
	launch(&r);
	rc = collect(&r);
	if (rc < 0)
		set_message(res, "collect the output", errno);
	reap(&r, res);
	if (rc == 0) {
		describe(&r, res);
		apply_cgroup_stats(&r, res);
	}
	return finish(&r, res, rc);
}

/* ---- warm start (runner/warm.h) -------------------------------------- */

bool sandbox_default_python(const char *const *argv)
{
	static const char *const words[] = { "{python}", "-u", "-E", "-S", "-c", "{python_boot}", NULL };
	size_t i = 0;

	if (!argv)
		return true;
	for (; words[i] && argv[i]; i++)
		if (strcmp(words[i], argv[i]) != 0)
			return false;
	return !words[i] && !argv[i];
}

static bool warm_eligible(const struct sandbox_job *job)
{
	const struct warm_zygote *z = job->warm;

	return z && z->pid > 0 && !z->broken && z->runs < z->max_runs && !job->compile &&
	       job->nfiles == 0 && job->nmounts == 0 && !job->workdir && sandbox_default_python(job->argv);
}

/*
 * The run's ids inside its own user namespace, nested in the warm
 * interpreter's: the same numbers as there (0 and 1000 when the runner is
 * root, else 1000 alone), which map on to the slot's host uids as a cold
 * run's do. The interpreter already runs as the slot's uid and in an
 * empty network namespace, which the run shares, as with slot_netns.
 */
static void fill_warm_owner(struct sandbox_owner_spec *o, const struct sandbox_host *host)
{
	memset(o, 0, sizeof *o);
	o->init_flags = CLONE_SANDBOX;
	if (host->root) {
		snprintf(o->uid_map, sizeof o->uid_map, "%d %d 1\n%d %d 1\n", INSIDE_ROOT, INSIDE_ROOT,
			 INSIDE_USER, INSIDE_USER);
	} else {
		snprintf(o->uid_map, sizeof o->uid_map, "%d %d 1\n", INSIDE_USER, INSIDE_USER);
		o->deny_setgroups = true;
	}
	memcpy(o->gid_map, o->uid_map, sizeof o->gid_map);
}

int sandbox_sealed_memfd(const char *name, const char *data, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	size_t done = 0;

	if (fd < 0)
		return -1;
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0 ||
	    lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_request(int ctl, const struct warm_request *req, const int *fds)
{
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int) * WARM_NFDS)]; } u;
	struct iovec iov = { .iov_base = (void *)req, .iov_len = sizeof *req };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	ssize_t n;

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * WARM_NFDS);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * WARM_NFDS);
	do
		n = sendmsg(ctl, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof *req ? 0 : -1;
}

/* envp as words, each NUL-ended, then an empty one. Returns 0, or -1 if
 * they do not fit. */
static int fill_env(char *buf, size_t size, const char *const *envp)
{
	size_t n = 0;

	for (size_t i = 0; i < SANDBOX_ENVP && envp[i]; i++) {
		size_t len = strlen(envp[i]) + 1;

		if (n + len + 1 > size)
			return -1;
		memcpy(buf + n, envp[i], len);
		n += len;
	}
	buf[n] = '\0';
	return 0;
}

/*
 * Hands the run to the warm interpreter: the spec a cold run's owner would
 * get, its environment, and its fds -- the sync socket, the status and
 * output pipes, stdin (a sealed memfd, or an interactive run's pipe), the
 * source as a sealed memfd, the syntax channel. Returns 0, or -1
 * (the interpreter is gone, or fds ran out).
 */
static int warm_start(struct run *r, const struct sandbox_job *job, struct sandbox_init_spec *s)
{
	static const struct warm_request zero;
	struct warm_request *req = malloc(sizeof *req);
	int sync[2] = { -1, -1 }, status[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	int in = -1, src = -1, rc = -1;

	if (!req)
		return -1;
	*req = zero;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync) < 0 ||
	    setsockopt(sync[1], SOL_SOCKET, SO_PASSCRED, &(int){ 1 }, sizeof(int)) < 0 ||
	    pipe2(status, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 ||
	    (in = sandbox_sealed_memfd("stdin", job->stdin_data, job->stdin_len)) < 0 ||
	    (src = sandbox_sealed_memfd("source", job->source, job->source_len)) < 0 ||
	    (r->syntax_channel && (r->syntax_fd = memfd_create("syntax", MFD_CLOEXEC)) < 0))
		goto out;
	s->syntax_fd = r->syntax_fd;
	if (fill_env(req->env, sizeof req->env, s->envp) < 0 || (r->interactive && open_feed(r, s) < 0))
		goto out;
	req->spec = *s;
	snprintf(req->source_name, sizeof req->source_name, "%s", s->source_name);
	r->t_clone = mono_ms();
	/* Without a syntax channel its place carries stdin again (unused). */
	if (send_request(job->warm->ctl, req, (int[]){ sync[0], status[1], out[1], err[1],
						       s->stdin_fd >= 0 ? s->stdin_fd : in, src,
						       r->syntax_fd >= 0 ? r->syntax_fd : in }) < 0)
		goto out;
	r->sync_fd = sync[1];
	r->status_fd = status[0];
	r->out.fd = out[0];
	r->err.fd = err[0];
	sync[1] = status[0] = out[0] = err[0] = -1;
	rc = 0;
out:
	for (int i = 0; i < 2; i++) {
		int *fds[] = { &sync[i], &status[i], &out[i], &err[i] };

		for (size_t k = 0; k < sizeof fds / sizeof fds[0]; k++)
			if (*fds[k] >= 0)
				close(*fds[k]);
	}
	if (in >= 0)
		close(in);
	if (src >= 0)
		close(src);
	if (s->stdin_fd >= 0)                   /* an interactive run's pipe: the runner keeps the other end */
		close(s->stdin_fd);
	s->stdin_fd = -1;
	free(req);
	return rc;
}

/*
 * The owner's hello tells its pid (forked by the interpreter, which may
 * be slow or gone: WARM_ANSWER_MS), then the cold path's launch moves it
 * into the run's cgroup and learns init. Returns 0, or -1 when the
 * interpreter did not answer.
 */
static int warm_launch(struct run *r)
{
	pid_t owner = receive_init_pid(r->sync_fd, mono_ms() + WARM_ANSWER_MS, 0);

	if (owner < 0)
		return -1;
	r->pid = r->owner = owner;
	r->deadline = r->t_clone + SETUP_TIMEOUT_MS;
	launch(r);
	return 0;
}

/*
 * A warm run's init is the interpreter's child, not ours: kill what is
 * left and wait, through a pidfd, until init is gone (and with it the
 * run's PID namespace). The interpreter reaps it at the next request, so
 * its pid stays reserved while we signal it. CPU time and memory: what
 * init reported of the processes it reaped (the cgroup's figures replace
 * them where there is one).
 */
static void reap_warm(struct run *r, struct sandbox_result *res)
{
	int pidfd = r->pid > 0 ? (int)syscall(SYS_pidfd_open, r->pid, 0) : -1;

	if (r->pid > 0 && !r->exited)
		kill(r->pid, SIGKILL);
	if (r->owner > 0 && r->owner != r->pid)
		kill(r->owner, SIGKILL);
	if (pidfd >= 0) {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };

		while (poll(&p, 1, DRAIN_TIMEOUT_MS) < 0 && errno == EINTR)
			;
		close(pidfd);
	}
	res->cpu_ms = r->children_cpu_ms;
	res->memory_kb = r->children_rss_kb;
}

/* Returns 1 when the warm interpreter failed before anything of the
 * program ran: the caller starts the run cold instead. */
static int run_warm(const struct sandbox_host *host, const struct sandbox_job *job,
		    struct sandbox_result *res)
{
	struct sandbox_init_spec spec;
	struct run r;
	int rc;

	memset(res, 0, sizeof *res);
	if (!limits_valid(job->limits) || fill_spec(&spec, host, job) < 0)
		return 1;
	fill_warm_owner(&spec.owner, host);
	run_init(&r, job);
	if (job->interactive && feed_queue(&r.feed, job->stdin_data, job->stdin_len) < 0) {
		set_message(res, "out of memory", ENOMEM);
		return finish(&r, res, -1);
	}
	if (make_cgroup(&r, host, job, "slot", res) < 0)
		return finish(&r, res, 0);
	job->warm->runs++;
	if (warm_start(&r, job, &spec) < 0 || warm_launch(&r) < 0) {
		log_warn("slot %d: the warm interpreter did not answer: %s", job->slot, strerror(errno));
		finish(&r, res, -1);
		return 1;
	}
	rc = collect(&r);
	if (rc < 0)
		set_message(res, "collect the output", errno);
	reap_warm(&r, res);
	if (rc == 0 && !r.started && r.killed != KILL_CANCEL) {
		log_warn("slot %d: a run from the warm interpreter failed to start: %s: %s", job->slot,
			 r.failure.what, strerror(r.failure.err));
		finish(&r, res, -1);
		return 1;
	}
	if (rc == 0) {
		describe(&r, res);
		apply_cgroup_stats(&r, res);
	}
	return finish(&r, res, rc);
}

int sandbox_run(const struct sandbox_host *host, const struct sandbox_job *job,
		struct sandbox_result *res)
{
	if (warm_eligible(job)) {
		int rc = run_warm(host, job, res);

		if (rc != 1)
			return rc;
		/* Nothing of the program ran: cold, and a new interpreter after. */
		job->warm->broken = true;
		log_warn("slot %d: the run starts cold; the warm interpreter is replaced", job->slot);
	}
	return run_cold(host, job, res);
}

/* Each run nests namespaces of its own in the warm interpreter's, whose
 * ceilings so must allow some: a run's are freed by the kernel a while
 * after it ended, and quick runs follow each other faster (a run's own
 * ceilings stay at none). The inotify ones hold a run's use and that of
 * one still dying. */
static void zygote_sysctls(struct sandbox_init_spec *s)
{
	for (int i = 0; i < s->nsysctls; i++) {
		struct sandbox_sysctl *c = &s->sysctls[i];
		size_t len = strlen(c->path);

		if (len > 11 && strcmp(c->path + len - 11, "_namespaces") == 0)
			snprintf(c->value, sizeof c->value, "%d", ZYGOTE_NAMESPACES);
		else if (strcmp(c->path, "/proc/sys/user/max_inotify_instances") == 0)
			snprintf(c->value, sizeof c->value, "%d", 2 * NS_QUEUES);
		else if (strcmp(c->path, "/proc/sys/user/max_inotify_watches") == 0)
			snprintf(c->value, sizeof c->value, "%d", 2 * NS_INOTIFY_WATCHES);
	}
}

/* Waits for init's STARTED record (sent just before it execs the interpreter). */
static void await_start(struct run *r)
{
	while (!r->started && !r->failed && r->status_fd >= 0) {
		struct pollfd p = { .fd = r->status_fd, .events = POLLIN };
		int n = poll(&p, 1, ms_until(r->deadline));

		if (n == 0) {
			fail_run(r, "start the warm interpreter: timed out", ETIMEDOUT);
			break;
		}
		if (n > 0)
			status_read(r);
		else if (errno != EINTR)
			break;
	}
}

int sandbox_zygote_spawn(const struct sandbox_host *host, const struct sandbox_job *job, int ctl_fd,
			 int lib_fd, struct warm_zygote *z, char *err, size_t errlen)
{
	struct sandbox_init_spec spec;
	struct sandbox_result res;
	struct run r;

	memset(&res, 0, sizeof res);
	if (!limits_valid(job->limits) || fill_spec(&spec, host, job) < 0 ||
	    fill_owner(&spec.owner, host, job) < 0) {
		close(ctl_fd);
		close(lib_fd);
		snprintf(err, errlen, "invalid limits, command, slot or uid_base");
		return -1;
	}
	spec.zygote = true;
	spec.stdin_fd = ctl_fd;
	spec.lib_fd = lib_fd;
	zygote_sysctls(&spec);
	run_init(&r, job);
	if (make_cgroup(&r, host, job, "warm", &res) < 0) {
		close(ctl_fd);
		close(lib_fd);
		snprintf(err, errlen, "%s", res.message);
		return finish(&r, &res, -1);
	}
	if (start(&r, &spec, &res) < 0) {
		snprintf(err, errlen, "%s", res.message);
		return finish(&r, &res, -1);
	}
	r.deadline = r.t_clone + SETUP_TIMEOUT_MS;
	launch(&r);
	await_start(&r);
	if (!r.started || r.failed) {
		reap(&r, &res);
		describe(&r, &res);
		snprintf(err, errlen, "%s", res.message[0] ? res.message : "the warm interpreter did not start");
		return finish(&r, &res, -1);
	}
	z->pid = r.pid;
	z->cg = r.cg;
	cgroup_run_init(&r.cg);
	z->out = r.err.fd;
	r.err.fd = -1;
	if (fcntl(z->out, F_SETFL, O_NONBLOCK) < 0)
		snprintf(err, errlen, "non-blocking output: %s", strerror(errno));
	finish(&r, &res, -1);
	return 0;
}

int sandbox_slot_netns(void)
{
	return unshare(CLONE_NEWNET);
}

int sandbox_artifacts_parse(const char *buf, size_t len, struct sandbox_file *files, int max)
{
	int n = 0;

	while (len > 0) {
		struct sandbox_artifact_header h;

		if (n == max || len < sizeof h)
			return -1;
		memcpy(&h, buf, sizeof h);
		buf += sizeof h;
		len -= sizeof h;
		if (h.name_len == 0 || h.name_len > 255 || h.name_len > len || h.size > len - h.name_len)
			return -1;
		/* The name was read by init from a directory the compiler
		 * wrote, NUL included: a plain name, but trust it no further. */
		if (h.name_len < 2 || strnlen(buf, h.name_len) != h.name_len - 1 ||
		    memchr(buf, '/', h.name_len) || buf[0] == '.')
			return -1;
		files[n] = (struct sandbox_file){ .name = buf, .data = buf + h.name_len,
						  .len = (size_t)h.size, .exec = h.exec != 0 };
		buf += h.name_len + h.size;
		len -= h.name_len + (size_t)h.size;
		n++;
	}
	return n;
}

void sandbox_result_free(struct sandbox_result *res)
{
	free(res->out);
	free(res->err);
	free(res->syntax);
	res->out = res->err = res->syntax = NULL;
	res->out_len = res->err_len = res->syntax_len = 0;
}
