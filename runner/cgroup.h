/*
 * Per-execution cgroups: the memory (with swap) and process limits of a
 * sandbox, its peak memory, CPU time and OOM kills.
 *
 * cgroup_host_init detects once, at start, which layout the host has:
 * cgroup v2 with the memory and pids controllers available to the runner's
 * cgroup, or v1 hierarchies for memory and pids (cpuacct optional) -- a
 * "hybrid" host has both kinds mounted and uses whichever holds the
 * controllers. It creates a runner-owned parent "engine-runner-<pid>" below
 * the runner's own cgroup in each hierarchy (so the sandboxes stay inside
 * whatever limits the service manager put on the runner), and keeps a
 * directory fd of each: per run, everything is relative to those fds, and
 * no path is ever built from anything a sandbox could influence.
 *
 * Each run gets "slot<N>-<seq>" under every parent; the parent writes the
 * sandbox's init into it before releasing it, and removes it (rmdir: it is
 * a cgroupfs, not a tree to delete) once the run is over.
 */
#ifndef RUNNER_CGROUP_H
#define RUNNER_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum cgroup_version { CGROUP_NONE, CGROUP_V1, CGROUP_V2 };

/* v1: one hierarchy per controller we use (cpuacct and cpu optional);
 * v2: only CG_MEMORY is used. */
enum cgroup_ctrl { CG_MEMORY, CG_PIDS, CG_CPUACCT, CG_CPU, CG__MAX };

struct cgroup_host {
	enum cgroup_version version;
	int parent_fd[CG__MAX];         /* O_PATH|O_DIRECTORY of engine-runner-<pid>; -1: absent */
	bool memsw;                     /* v1: memory.memsw.* exists (swap is accounted) */
	bool cpu;                       /* the CPU controller is ours: runs get a CPU cap and weight */
	int cpu_ceiling;                /* v1: the lowest CPU cap above us, % of one CPU; 0: none */
	char name[48];                  /* engine-runner-<pid>[-<n>] */
	char where[256];                /* the memory parent's path, for the log */
};

/* One execution's cgroup. */
struct cgroup_run {
	enum cgroup_version version;
	bool cpu;                       /* as the host's */
	int cpu_ceiling;                /* as the host's */
	int parent_fd[CG__MAX];         /* borrowed from the host */
	int dir_fd[CG__MAX];            /* -1: not created */
	char name[32];
};

struct cgroup_stats {
	long oom_kills;                 /* -1: unknown */
	long peak_kb;                   /* -1: unknown */
	int64_t cpu_ms;                 /* -1: unknown */
};

/*
 * Detects the layout and creates the runner's parent cgroups. Returns 0, or
 * -1 with the reason in err (cgroups cannot be used: h->version is NONE).
 * Also removes parents left by runners that died (their pid is gone).
 */
int cgroup_host_init(struct cgroup_host *h, char *err, size_t errlen);

/* Removes the runner's parents (they must be empty) and closes the fds;
 * h is then as after cgroup_host_none. */
void cgroup_host_fini(struct cgroup_host *h);

/*
 * v1: the lowest CPU cap (cpu.cfs_quota_us over cpu.cfs_period_us, in % of
 * one CPU) of the cgroup of dirfd and its ancestors, or 0 when none has
 * one. v1 refuses a child's cap above an ancestor's (EINVAL; v2 takes the
 * smaller of the two), so a run's cap is held to it.
 */
int cgroup_v1_cpu_ceiling(int dirfd);

/* Marks h as "no cgroups" (rlimit-only mode) without touching any fd. */
void cgroup_host_none(struct cgroup_host *h);

struct cgroup_limits {
	int64_t memory_bytes;           /* memory, and memory plus swap where swap is accounted */
	long max_pids;
	int cpu_percent;                /* CPU time per wall time, in % of one CPU; 0: no cap */
	int cpu_weight;                 /* 1-10000 on cgroup v2's scale (v1: times 1024 / 100); 0: the default */
};

/*
 * Creates the cgroup of one run with its limits (the CPU cap where the host
 * has the CPU controller). Returns 0, or -1 with errno set and `what`
 * naming the failed step; on failure nothing is left behind.
 */
int cgroup_run_create(const struct cgroup_host *h, int slot, const struct cgroup_limits *lim,
		      struct cgroup_run *run, const char **what);

/* The same, named <kind><slot>-<n> (a warm interpreter's: "warm"). */
int cgroup_run_create_as(const struct cgroup_host *h, const char *kind, int slot,
			 const struct cgroup_limits *lim, struct cgroup_run *run, const char **what);

/* Sets run's CPU weight (0: the default) where the host has the CPU
 * controller. Returns 0, or -1 with errno set. */
int cgroup_run_weigh(const struct cgroup_run *run, int weight);

/* Moves pid (a single-threaded process) into every cgroup of run.
 * Returns 0, or -1 with errno set. */
int cgroup_run_join(const struct cgroup_run *run, pid_t pid);

/*
 * Forks (like fork(), SIGCHLD to the parent) a child that is born in run's
 * cgroup, with clone3's CLONE_INTO_CGROUP: cgroup v2 only. Moving a
 * process that exists (cgroup_run_join) takes the kernel's threadgroup
 * lock for writing, which waits for an RCU grace period when the lock was
 * idle -- about 10 ms on an otherwise idle host, once per run; a child
 * born in place takes it for reading only. Returns the pid (0 in the
 * child), or -1 with errno: ENOTSUP when the run has no v2 cgroup, ENOSYS
 * or EINVAL when the kernel cannot (the caller then forks and joins).
 */
pid_t cgroup_run_fork_into(const struct cgroup_run *run);

/* Reads OOM kills, peak memory and CPU time of the run (what is available). */
void cgroup_run_stats(const struct cgroup_run *run, struct cgroup_stats *st);

/*
 * Removes the run's cgroups; any task still inside is killed first. Safe on
 * a run that was never created. Returns 0, or -1 if a cgroup could not be
 * removed (it is then left for the stale sweep of the next start).
 */
int cgroup_run_destroy(struct cgroup_run *run);

/*
 * Gives the run the smallest CPU weight (v1 cpu.shares, v2 cpu.weight) so
 * that a long computation yields the CPU to short runs. Returns 0 (also
 * when the host has no CPU controller for the runner: nothing to do), or
 * -1 with errno if the write failed.
 */
int cgroup_run_demote_cpu(const struct cgroup_run *run);

/* CPU time the run has used so far, in ms, or -1 if unknown. */
int64_t cgroup_run_cpu_ms(const struct cgroup_run *run);

/* Marks run as not created (all fds -1). */
void cgroup_run_init(struct cgroup_run *run);

#endif
