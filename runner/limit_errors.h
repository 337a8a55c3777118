/*
 * Failed cgroup and rlimit operations. None may fail silently: each one is
 * logged with what failed and why, and counted; the count reaches /metrics
 * through the runner's heartbeat. A failure that leaves a run without its
 * limits also fails that run (SANDBOX_ERROR); the others (a CPU weight
 * that could not be lowered, a cgroup left for the next start to remove)
 * only degrade, and this is how an operator hears of them.
 */
#ifndef RUNNER_LIMIT_ERRORS_H
#define RUNNER_LIMIT_ERRORS_H

/* Logs "what[ detail]: strerror(err)" as a warning and counts it. */
void limit_error(const char *what, const char *detail, int err);

/* How many limit_error calls this process has made. */
long limit_errors(void);

#endif
