/*
 * The sandbox's seccomp filter: built once per runner with libseccomp and
 * exported as a classic BPF program, installed by each sandboxed process as
 * the last step before execve.
 *
 * Building allocates (libseccomp), which the clone child must never do (see
 * sandbox_child.h), so the child only hands the precomputed program to the
 * kernel.
 */
#ifndef RUNNER_SECCOMP_H
#define RUNNER_SECCOMP_H

#include <linux/filter.h>
#include <stddef.h>

#include <stdbool.h>

/*
 * Builds the policy for the native architecture; no_memfd denies
 * memfd_create altogether (rlimit-only mode, where nothing would count a
 * memfd's pages), as does a kernel without MFD_NOEXEC_SEAL (Linux < 6.3,
 * where every memfd is executable). Returns 0 with prog->filter malloc'd (free with
 * syscall_filter_free), or -1 with the reason in err.
 */
int syscall_filter_build(struct sock_fprog *prog, bool no_memfd, char *err, size_t errlen);

/* Frees prog's instructions; safe on a zeroed or freed program. */
void syscall_filter_free(struct sock_fprog *prog);

/*
 * Installs prog in the calling (single-threaded) process; no_new_privs must
 * already be set. Async-signal-safe: no allocation, no locks. Returns 0, or
 * -1 with errno set.
 */
int syscall_filter_install(const struct sock_fprog *prog);

#endif
