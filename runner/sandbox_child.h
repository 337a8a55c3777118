/*
 * The inside of a sandbox: what runs between clone and execve.
 *
 * sandbox_run (sandbox.c) prepares a struct sandbox_init_spec, clones, and
 * the clone child runs sandbox_init_main: it is PID 1 of the new PID
 * namespace, builds the file system (sandbox_mount.c), forks the payload and
 * reaps. The payload calls sandbox_child_enter and then execs the
 * interpreter.
 *
 * All of this runs in a copy of a multi-threaded process: another thread may
 * have held the malloc, stdio or glibc setxid locks at the moment of the
 * clone. So nothing here allocates, uses stdio, or calls a glibc wrapper that
 * talks to other threads (setuid and setgroups families: raw syscalls only).
 * Everything is prepared by the parent beforehand. Any failing step reports
 * itself on a pipe and exits: nothing runs half-sandboxed.
 */
#ifndef RUNNER_SANDBOX_CHILD_H
#define RUNNER_SANDBOX_CHILD_H

#include <stdbool.h>
#include <linux/filter.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "sandbox.h"
#include "sandbox_fail.h"

/* The name of a failed setup step that sets a limit starts with this: the
 * runner logs and counts those (limit_errors.h). */
#define SANDBOX_LIMIT_STEP "limit: "

/* Where sandbox_child_enter leaves the report fd (close-on-exec). */
#define SANDBOX_REPORT_FD 3

enum {
	SANDBOX_NRLIMITS = 12,                  /* the payload's */
	SANDBOX_NS_NRLIMITS = 3,                /* the owner's: ceilings of the whole namespace */
	SANDBOX_NSYSCTLS = 24,
	SANDBOX_ARGV = 160,                     /* argv words, NULL included: a compile of every source */
	SANDBOX_ENVP = 16,
	SANDBOX_PASSED_FDS_MAX = 8,             /* fds in one message (sandbox_child_receive) */
};

/* The header of one file of a compile's artifact stream: name_len bytes
 * of name follow, then size bytes of data. */
struct sandbox_artifact_header {
	unsigned int name_len;
	unsigned int exec;                      /* 1: executable */
	unsigned long long size;
};

struct sandbox_rlimit {
	int resource;
	struct rlimit lim;
};

/*
 * What a freshly forked process needs to enter the sandbox (it must already
 * be inside the namespaces and the new root).
 */
struct sandbox_child_spec {
	int stdin_fd, stdout_fd, stderr_fd;     /* become fds 0, 1 and 2 */
	int report_fd;                          /* failures are reported here; -1: none */
	int syntax_fd;                          /* becomes SANDBOX_SYNTAX_FD (kept across exec); -1: none */
	bool set_groups;                        /* false when setgroups is denied (runner not root) */
	uid_t uid;                              /* inside the user namespace */
	gid_t gid;
	struct sandbox_rlimit rlimits[SANDBOX_NRLIMITS];
	const char *workdir;
	const struct sock_fprog *filter;        /* seccomp program, installed last */
};

/* A per-namespace sysctl that init sets before anything runs (path under
 * /proc/sys, for the namespaces of init). */
struct sandbox_sysctl {
	char path[48];
	char value[32];
	char what[48];                          /* SANDBOX_LIMIT_STEP and the path below /proc/sys */
};

/*
 * What the owner (sandbox_owner.c) needs: the runner's clone child that
 * creates the sandbox's namespaces as the slot's own host uid and writes
 * init's id maps.
 */
struct sandbox_owner_spec {
	bool drop_ids;                          /* root runner: become uid/gid first */
	uid_t uid;                              /* the slot's host ids (inside root) */
	gid_t gid;
	struct sandbox_rlimit ns_rlimits[SANDBOX_NS_NRLIMITS];
	bool deny_setgroups;                    /* runner not root: required before gid_map */
	char uid_map[96];
	char gid_map[96];
	unsigned long init_flags;               /* clone flags of init */
};

/* Everything the owner and init need, built by the parent before clone. */
struct sandbox_init_spec {
	int sync_fd;                            /* owner reads "go"; init sends its hello */
	int maps_fd;                            /* init reads: one byte once its id maps exist */
	int status_fd;                          /* write: struct sandbox_status records */
	int out_fd, err_fd;                     /* write ends of the output pipes */
	int stdin_fd;                           /* read end of an interactive run's stdin pipe; -1: none */
	int syntax_fd;                          /* the payload's syntax channel; -1: none */
	const char *source;
	size_t source_len;
	const char *source_name;                /* in /app */
	const struct sandbox_file *files;       /* more files for /app */
	int nfiles;
	const struct sandbox_file *app_files;   /* the session's other files, at their paths */
	int napp_files;
	const char *const *mounts;              /* read-only host directories */
	int nmounts;
	bool compile;                           /* stdout joins stderr; /tmp/out streamed on out_fd */
	int art_fd;                             /* a run's artifacts are streamed here (a memfd); -1: none */
	int files_fd;                           /* a prepared run's (sandbox_prepare): its compiled
						 * files arrive here, a sealed memfd of an artifact
						 * stream; EOF: the run is abandoned. -1: none */
	const char *stdin_data;
	size_t stdin_len;
	char out_opts[64];                      /* tmpfs options of a run's out/ (its artifacts); "": none */
	char root_opts[64];                     /* tmpfs options of the new root */
	char tmp_opts[64];                      /* ... of the working directory /tmp */
	char shm_opts[64];                      /* ... of /dev/shm */
	const char *exec_path;
	const char *argv[SANDBOX_ARGV];
	const char *envp[SANDBOX_ENVP];
	struct sandbox_sysctl sysctls[SANDBOX_NSYSCTLS];
	int nsysctls;
	struct sandbox_owner_spec owner;
	struct sandbox_child_spec child;
	/* A warm interpreter (runner/warm.c): init execs it with the control
	 * socket (stdin_fd) on fd 0, out_fd and err_fd on 1 and 2 and lib_fd
	 * on 3, keeping its ids and capabilities in the namespace, instead of
	 * forking a payload. */
	bool zygote;
	int lib_fd;                             /* -1: none */
	/* A run forked from a warm interpreter (runner/zygote/entry.c): the
	 * payload, once entered, calls this instead of execve; it never
	 * returns. NULL: execve. */
	void (*resume)(void);
};

/* The runner's clone child (sandbox_owner.c): never returns. */
_Noreturn void sandbox_owner_main(struct sandbox_init_spec *spec);

/* Resets every signal handler and unblocks all signals (see sandbox_child.c). */
void sandbox_reset_signals(void);

/* Closes every fd but the n (at most 10) in keep. Returns 0 or -1. */
int sandbox_close_fds_except(const int *keep, int n);

/* Streams the regular files of directory path to out (sandbox_artifacts.c).
 * Returns 0, or -1 with errno. */
int sandbox_send_artifacts(const char *path, int out);

/* init, cloned by the owner: never returns. spec is its own copy. */
_Noreturn void sandbox_init_main(struct sandbox_init_spec *spec);

/*
 * Turns the calling process (freshly forked inside the sandbox's namespaces
 * and root) into the sandboxed payload: new session, fds 0-2 (plus the
 * report fd at SANDBOX_REPORT_FD, close-on-exec, and the syntax channel at
 * SANDBOX_SYNTAX_FD if the spec has one; every other fd closed),
 * working directory, unprivileged ids, no capabilities, rlimits,
 * no_new_privs, the seccomp filter. Returns only on success; on failure
 * reports on spec->report_fd and exits.
 */
void sandbox_child_enter(const struct sandbox_child_spec *spec);

/* Reads one message of up to len bytes and the nfds fds it carries
 * (SCM_RIGHTS, close-on-exec; nfds <= SANDBOX_PASSED_FDS_MAX). Returns its
 * length, 0 at EOF, or -1 on error or when the fds are not as many
 * (errno EPROTO). */
ssize_t sandbox_child_receive(int sock, void *buf, size_t len, int *fds, int nfds);

#endif
