/*
 * Warm start for Python: a per-slot interpreter that has started once and
 * forks every run (see README "How a run starts").
 *
 * A warm interpreter is built like a run's sandbox -- the slot's host uid,
 * its own user, PID, mount, IPC, UTS, cgroup and (empty) network
 * namespaces, the read-only root, a cgroup of its own -- except that init
 * execs `python3 -u -E -S -c <prelude + boot>` itself, keeping init's ids
 * and capabilities in that namespace and no seccomp filter. It imports
 * what it needs and loads runner/zygote/entry.c, then waits on its control
 * socket. It never runs learner code. For a run the runner sends the
 * run's spec and fds (no byte of source or stdin); the interpreter forks
 * the run's owner, which the runner moves into the run's cgroup, and from
 * there the cold path's own code builds the run's sandbox -- new user,
 * PID, mount, IPC, UTS and cgroup namespaces nested in the warm one's,
 * fresh tmpfs root, the payload's ids, rlimits, no_new_privs, seccomp --
 * except that the payload, entered, returns into the interpreter instead
 * of exec'ing a new one.
 *
 * A warm interpreter that does not answer, dies or fails a request is
 * killed and the run starts cold instead (nothing of it had run); a new
 * one is started after the run. Each serves at most max_runs runs; a
 * slot's first serves a random number between 1 and max_runs, so that the
 * slots, which start together, replace theirs at different times instead
 * of all at once (every replacement is an interpreter's start, some 100 ms
 * of CPU, which the runs beside it wait for).
 */
#ifndef RUNNER_WARM_H
#define RUNNER_WARM_H

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup.h"
#include "sandbox.h"

struct warm_zygote {
	int slot;
	int max_runs;
	int budget;                     /* runs this interpreter may serve: max_runs, or fewer (warm_zygote_stagger) */
	pid_t pid;                      /* the interpreter (the runner's child); -1: none */
	int ctl;                        /* its control socket; -1: none */
	int out;                        /* its stdout and stderr, for the log; -1: none */
	struct cgroup_run cg;
	int runs;                       /* requests sent to it */
	bool broken;                    /* a request failed: replace it */
};

void warm_zygote_init(struct warm_zygote *z, int slot, int max_runs);

/* Gives z's next interpreter a random budget of 1 to max_runs runs, for a
 * slot's first (see above); every later one serves max_runs. */
void warm_zygote_stagger(struct warm_zygote *z);

/*
 * Starts a warm interpreter for z's slot when it has none, or replaces
 * one that is broken, dead or has served max_runs. limits are the Python
 * runs' (the interpreter's own cgroup gets them too), env the language's.
 * Returns 0, or -1 (logged; runs then start cold).
 */
int warm_zygote_ensure(struct warm_zygote *z, const struct sandbox_host *host,
		       const struct sandbox_limits *limits, const char *const *env, bool slot_netns);

/* Kills and reaps the interpreter; removes its cgroup. */
void warm_zygote_stop(struct warm_zygote *z);

/* The program a warm interpreter runs (prelude and boot), built once. */
const char *warm_program(void);

/* A sealed memfd holding runner/zygote/entry.c's library. Returns it or -1. */
int warm_lib_fd(void);

#endif
