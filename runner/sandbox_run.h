/*
 * One run as the runner sees it, shared by the cold path (sandbox.c) and
 * the warm path (sandbox_warm.c): the same preparation, launch, capture
 * and reaping, only the start differs. Private to those two files.
 */
#ifndef SANDBOX_RUN_H
#define SANDBOX_RUN_H

#include "cgroup.h"
#include "sandbox.h"
#include "sandbox_child.h"

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

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
	bool born_in_cgroup;            /* the owner was cloned into cg: no join */
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
	int art_fd;                     /* the run's artifacts (a memfd init writes); -1: none */
	size_t art_limit;               /* the most of them read back; 0: the run has none */
	long children_cpu_ms;           /* what init reaped, as it reported (a warm run's) */
	int64_t cpu_base_ms;            /* the cgroup's CPU time before the run (a prepared sandbox's build) */
	long children_rss_kb;
};


bool run_limits_valid(const struct sandbox_limits *l);
int run_fill_spec(struct sandbox_init_spec *s, const struct sandbox_host *host,
		  const struct sandbox_job *job);
int run_fill_owner(struct sandbox_owner_spec *o, const struct sandbox_host *host,
		   const struct sandbox_job *job);
/* Leaves job's files (source, files, session files, stdin) out of s, and
 * sizes its root for up to bytes in up to files files that come after it
 * is built (sandbox_files.h). */
void run_files_later(struct sandbox_init_spec *s, const struct sandbox_job *job, size_t bytes, int files);
void run_set_message(struct sandbox_result *res, const char *what, int err);
int run_ms_until(int64_t deadline);
void run_fail(struct run *r, const char *what, int err);
pid_t run_receive_init_pid(int fd, int64_t deadline, pid_t owner);
/* Sends len bytes of data with nfds fds (SCM_RIGHTS; nfds from 1 to
 * SANDBOX_PASSED_FDS_MAX). Returns 0, or -1 with errno. */
int run_send_fds(int sock, const void *data, size_t len, const int *fds, int nfds);
void run_release(struct run *r);
void run_learn_init(struct run *r);
void run_launch(struct run *r);
int run_open_feed(struct run *r, struct sandbox_init_spec *s);
int run_start(struct run *r, struct sandbox_init_spec *s, struct sandbox_result *res);
int run_feed_queue(struct feed *f, const char *data, size_t len);
int run_collect(struct run *r);
void run_reap(struct run *r, struct sandbox_result *res);
int run_make_cgroup(struct run *r, const struct sandbox_host *host, const struct sandbox_job *job,
		    const char *kind, struct sandbox_result *res);
void run_apply_cgroup_stats(const struct run *r, struct sandbox_result *res);
void run_describe(const struct run *r, struct sandbox_result *res);
int run_finish(struct run *r, struct sandbox_result *res, int rc);
/* A started run collected, reaped and described into res, then finished. */
int run_to_end(struct run *r, struct sandbox_result *res);
void run_status_read(struct run *r);
void run_init(struct run *r, const struct sandbox_job *job);

/* The warm path (sandbox_warm.c). run_warm returns 1 when the warm
 * interpreter failed before anything of the program ran. */
bool run_warm_eligible(const struct sandbox_job *job);
int run_warm(const struct sandbox_host *host, const struct sandbox_job *job, struct sandbox_result *res);

#endif
