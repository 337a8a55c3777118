/*
 * Running one execution in a fresh sandbox.
 *
 * sandbox_run() is synchronous and thread-safe: each runner slot (a thread)
 * calls it for one execution at a time. It clones a child into new user,
 * PID, mount, network, IPC and UTS namespaces, builds a minimal read-only
 * root with a private tmpfs, runs the interpreter on the source with the
 * given stdin, captures stdout and stderr (capped), enforces the wall-clock
 * limit by killing the whole PID namespace, and reports what happened.
 */
#ifndef RUNNER_SANDBOX_H
#define RUNNER_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup.h"
#include "sandbox_limits.h"
#include "seccomp.h"

struct event_sink;
struct warm_zygote;

/* What the host allows, detected once by sandbox_host_init. */
struct sandbox_host {
	bool root;                      /* runner is root: one host uid per slot */
	long uid_base;                  /* first host uid for slots when root */
	char python[512];
	char mode[48];                  /* shown in /health, e.g. "namespaces+cgroup-v1+seccomp" */
	struct cgroup_host cg;          /* version CGROUP_NONE: rlimit-only mode */
	struct sock_fprog filter;       /* the seccomp program, built once */
};

/* A file written read-only into /app before the payload starts. */
struct sandbox_file {
	const char *name;               /* a plain name, no '/' (a session's file: a relative path) */
	const char *data;
	size_t len;
	bool exec;                      /* mode 0555 instead of 0444 */
};

/* Mounts: a language's (LANG_MOUNTS) and its snapshot's directory. */
enum { SANDBOX_MAX_FILES = 64, SANDBOX_MAX_MOUNTS = 5 };

/* A run in progress, as its watch sees it (sandbox_live_* below). */
struct sandbox_live;

/*
 * The caller's look at a run while it is collected: tick is called every
 * interval_ms from the collecting thread (also while output streams in)
 * until the run has ended or been killed. It returns true to stop the run
 * now: its whole tree is killed and it ends SANDBOX_CANCELLED.
 */
struct sandbox_watch {
	int interval_ms;
	bool (*tick)(void *arg, struct sandbox_live *live);
	void *arg;
};

/*
 * Queues len bytes for an interactive run's stdin (written as the program
 * reads), and closes its stdin once they are written if eof. Bytes after
 * eof, or after the program closed its stdin, are dropped. Returns 0, or
 * -1 when out of memory.
 */
int sandbox_live_feed(struct sandbox_live *live, const char *data, size_t len, bool eof);

struct sandbox_job {
	const char *source;
	size_t source_len;
	const char *file_name;          /* the source's name in /app; NULL: main.py */
	/* What runs: argv[0] is the executable's absolute path, "{python}"
	 * and "{python_boot}" words stand for host->python and the Python
	 * boot; NULL: {python} -u -E -S -c {python_boot}. */
	const char *const *argv;
	const char *const *env;         /* extra KEY=value words, NULL-terminated; may be NULL */
	const char *workdir;            /* NULL: /tmp */
	const struct sandbox_file *files; /* a compile's output, beside the source in /app */
	int nfiles;
	/* The session's other files (names are relative paths the API
	 * checked): written read-only at their paths in /app, and each
	 * top-level one bound read-only into the working directory /tmp. */
	const struct sandbox_file *app_files;
	int napp_files;
	const char *const *mounts;      /* host directories bound read-only at the same path */
	int nmounts;
	/* A compile: the payload's stdout joins its stderr (res->err), and
	 * once it exits 0 every regular file it left in /tmp/out is streamed
	 * back in res->out (see sandbox_artifacts_parse), at most
	 * artifact_limit bytes. */
	bool compile;
	size_t artifact_limit;
	/* Called once the sandbox has started, before its output is collected:
	 * the caller's work beside it (a compile prepares its program's run,
	 * sandbox_prepare). A cold run's only; NULL: none. */
	void (*beside)(void *arg);
	void *beside_arg;
	/*
	 * A run's artifacts: the regular files the program leaves in out/ of
	 * its working directory, at most max_artifacts of them and
	 * max_artifact_bytes in all. out/ is a tmpfs of that size and inode
	 * count, so a flood fails (ENOSPC) as it is written; once every
	 * process of the run is gone, init streams its regular files back in
	 * res->artifacts (sandbox_artifacts_parse), never following a link,
	 * when keep_artifacts (a test case has an out/ too, so a program
	 * behaves there as in a Run, but what it leaves is not kept).
	 * 0: no out/ (a compile, a check, a probe).
	 */
	int max_artifacts;
	size_t max_artifact_bytes;
	bool keep_artifacts;
	const char *stdin_data;         /* may be NULL when stdin_len is 0 */
	size_t stdin_len;
	/* Interactive: stdin is a pipe that stays open, fed with stdin_data
	 * first and then by the watch (sandbox_live_feed), instead of a
	 * sealed file. */
	bool interactive;
	const struct sandbox_watch *watch;  /* NULL: none */
	int slot;                       /* 0 .. slots-1 */
	const struct sandbox_limits *limits;
	/* The calling thread already sits in a private, empty network
	 * namespace of its slot (sandbox_slot_netns): reuse it instead of
	 * creating one per run. */
	bool slot_netns;
	/* Live events of the program's output (runner/event_sink.h); NULL:
	 * none. Never used for a compile. */
	struct event_sink *sink;
	/* The payload gets a syntax channel: SANDBOX_SYNTAX_FD, open for
	 * writing, whose bytes come back in res->syntax. A command that checks
	 * the learner's source before running it reports a syntax error there
	 * and closes it before the learner's code starts, so the learner's
	 * code can never write there (see conf/languages.conf). */
	bool syntax_channel;
	/* The slot's warm Python interpreter (runner/warm.h): a run of the
	 * default Python command, neither interactive nor with files, is
	 * forked from it when it is up; NULL: always a fresh interpreter. */
	struct warm_zygote *warm;
};

/* The fd of sandbox_job.syntax_channel in the payload (not close-on-exec). */
#define SANDBOX_SYNTAX_FD 4

/*
 * Moves the calling thread (a slot) into a new network namespace with no
 * interface up, for sandbox_job.slot_netns. Creating and destroying a
 * network namespace is the dearest part of a sandbox (sysctl tables, the
 * loopback device, a TIME_WAIT purge of the whole host on teardown); one
 * per slot is as isolated, because a slot runs one sandbox at a time and
 * every socket dies with the sandbox's processes. Root only. Returns 0, or
 * -1 with errno (the slot then creates one per run).
 */
int sandbox_slot_netns(void);

enum sandbox_outcome {
	SANDBOX_EXITED,                 /* exit_code valid (0 = success) */
	SANDBOX_SIGNALED,               /* killed by signal */
	SANDBOX_TIMEOUT,                /* wall-clock limit reached, tree killed */
	SANDBOX_OUTPUT_LIMIT,           /* a stream passed max_output_bytes, tree killed */
	SANDBOX_MEMORY_LIMIT,           /* memory limit reached */
	SANDBOX_SETUP_FAILED,           /* the sandbox could not be built: nothing ran */
	SANDBOX_CANCELLED,              /* the watch asked to stop it; tree killed */
};

struct sandbox_result {
	enum sandbox_outcome outcome;
	int exit_code;                  /* SANDBOX_EXITED */
	int signal;                     /* SANDBOX_SIGNALED (and the kill signal otherwise) */
	char *out;                      /* malloc'd, NUL-terminated, raw bytes */
	size_t out_len;
	bool out_truncated;
	char *err;
	size_t err_len;
	bool err_truncated;
	char *syntax;                   /* what the syntax channel received; NULL: nothing */
	size_t syntax_len;
	char *artifacts;                /* what the run left in out/, as a stream; NULL: nothing */
	size_t artifacts_len;
	int64_t wall_ms;                /* interpreter start to end */
	int64_t setup_ms;               /* clone to interpreter start */
	int64_t cpu_ms;                 /* user + system of the whole tree */
	long memory_kb;                 /* peak resident set */
	char message[256];              /* SANDBOX_SETUP_FAILED: why */
};

/*
 * Checks that the sandbox can be built on this host (user namespaces,
 * cgroups as `mode` asks, interpreter present) by running one trivial
 * sandbox. mode is "cgroup" (cgroups required), "rlimit" (rlimits only) or
 * "auto" (cgroups if they can be written, else rlimits). Rlimit-only mode
 * does not bound a run's total memory or CPU share: it is refused unless
 * allow_rlimit, and then logged as unprotected. Returns 0, or -1 with a
 * reason in err: the runner must then refuse to start.
 */
int sandbox_host_init(struct sandbox_host *host, const char *python, long uid_base, const char *mode,
		      bool allow_rlimit,
		      const struct sandbox_limits *limits, char *err, size_t errlen);

/*
 * Starts a warm interpreter (runner/warm.c) in a sandbox built for job:
 * its init execs job's command with ctl_fd on fd 0, its output on 1 and 2
 * and lib_fd on 3 (both fds are taken over, closed here). Returns 0 with
 * z->pid, z->out and z->cg set, or -1 with the reason in err.
 */
int sandbox_zygote_spawn(const struct sandbox_host *host, const struct sandbox_job *job, int ctl_fd,
			 int lib_fd, struct warm_zygote *z, char *err, size_t errlen);

/* A memfd holding len bytes of data, sealed against any change, at offset
 * 0. Returns it (close-on-exec), or -1 with errno. */
int sandbox_sealed_memfd(const char *name, const char *data, size_t len);

/* Seals the memfd fd (written, made with MFD_ALLOW_SEALING) against any
 * change and rewinds it. Returns fd, or -1 with errno (fd closed). */
int sandbox_seal_memfd(int fd);

/* Whether argv (NULL: the default) is "{python} -u -E -S -c {python_boot}",
 * the command a warm interpreter stands for. */
bool sandbox_default_python(const char *const *argv);

/* Releases what sandbox_host_init set up (the runner's parent cgroups). */
void sandbox_host_fini(struct sandbox_host *host);

/* Runs job; fills res (always, also on setup failure). Returns 0, or -1 if
 * the runner itself failed (out of memory, fork failure): res says why. */
int sandbox_run(const struct sandbox_host *host, const struct sandbox_job *job,
		struct sandbox_result *res);

/*
 * A run's sandbox built before its files are there: beside the compile of
 * its program, or on a slot's standby before the run is even claimed.
 * sandbox_prepare creates job's cgroup (named kind<slot>-<n>) and
 * namespaces and lets init build the root up to /app; job's files (its
 * source, files, app_files and stdin) are not used. sandbox_go hands init
 * the files of job -- the run's own, which must fit what was prepared
 * (sandbox_prepared_fits) -- and runs it to its end, as sandbox_run does;
 * sandbox_abandon ends a sandbox that will not run. The root is sized for
 * files of up to files_bytes in all and files_max in number. A cold run
 * only (not a warm interpreter's). Returns NULL when it cannot be
 * prepared: then sandbox_run the job once its files are there.
 */
struct sandbox_prepared;
struct sandbox_prepared *sandbox_prepare(const struct sandbox_host *host, const struct sandbox_job *job,
					 const char *kind, size_t files_bytes, int files_max);
/* Whether job is a run of the same command, limits and slot as the one p
 * was built for (only its files, stdin, live events, watch, wall-clock
 * limit and CPU weight may differ); never an interactive run or a compile. */
bool sandbox_prepared_fits(const struct sandbox_prepared *p, const struct sandbox_job *job);
/* False once the sandbox's init has ended (killed while it waited, say):
 * it can only be abandoned then. */
bool sandbox_prepared_alive(const struct sandbox_prepared *p);
int sandbox_go(struct sandbox_prepared *p, const struct sandbox_job *job, struct sandbox_result *res);
void sandbox_abandon(struct sandbox_prepared *p);

/*
 * Splits the artifact stream of a compile (res->out) into at most max
 * files pointing into buf. Returns the count, or -1 if the stream is
 * malformed or holds more than max files.
 */
int sandbox_artifacts_parse(const char *buf, size_t len, struct sandbox_file *files, int max);

/* Frees the buffers of res; safe on a zeroed or already freed result. */
void sandbox_result_free(struct sandbox_result *res);

#endif
