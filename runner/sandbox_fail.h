/*
 * Failing closed between clone and execve: every step of the sandbox's
 * setup (init, the file system, the payload's entry) reports what failed
 * on a status pipe and exits, so nothing ever runs half-sandboxed.
 *
 * Callable from a copy of a multi-threaded process: no allocation, no
 * stdio, only write(2) and _exit(2).
 */
#ifndef RUNNER_SANDBOX_FAIL_H
#define RUNNER_SANDBOX_FAIL_H

#include <stddef.h>

enum sandbox_status_kind {
	SANDBOX_ST_STARTED = 1,                 /* the interpreter was exec'd */
	SANDBOX_ST_EXITED,                      /* wstatus: the payload's wait status */
	SANDBOX_ST_FAILED,                      /* setup step `what` failed with err */
};

/* One record on the status pipe: fixed size, well under PIPE_BUF, so each
 * write is atomic. */
struct sandbox_status {
	int kind;
	int wstatus;
	int err;
	char what[52];
	long cpu_ms;                            /* EXITED: user + system of what init reaped */
	long maxrss_kb;                         /* EXITED: the largest of them */
};

/* Writes a status record to fd; errors are ignored (the reader is gone). */
void sandbox_child_report(int fd, int kind, int wstatus, int err, const char *what);

/* Reports step `what` as failed with the current errno on fd, then exits. */
_Noreturn void sandbox_child_die(int fd, const char *what);

/* Waits for one byte on fd, the go-ahead of the step before; EOF (that
 * step failed or its process died) or an error reports `what` on report
 * and exits: nothing goes on without it. */
void sandbox_child_await(int fd, int report, const char *what);

/* Writes all of buf to fd. Returns 0, or -1 with errno set. */
int sandbox_child_write_all(int fd, const void *buf, size_t len);

#endif
