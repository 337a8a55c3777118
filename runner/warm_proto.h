/*
 * What the runner sends a warm interpreter (runner/warm.c) on its control
 * socket, and the library inside it (runner/zygote/entry.c) reads. Both
 * are built from this header in the same build, so the structures are
 * sent as they are.
 */
#ifndef RUNNER_WARM_PROTO_H
#define RUNNER_WARM_PROTO_H

#include <linux/filter.h>

#include "sandbox_child.h"

/* WARM_ENV_MAX is also in python_warm_prelude (runner/python_boot.c). */
enum { WARM_FILTER_MAX = BPF_MAXINSNS, WARM_ENV_MAX = 2048 };

/* Once, first: the seccomp program every run installs. */
struct warm_hello {
	unsigned int filter_len;
	struct sock_filter filter[WARM_FILTER_MAX];
};

/* The fds of a run request, in this order. */
enum {
	WARM_FD_SYNC, WARM_FD_STATUS, WARM_FD_OUT, WARM_FD_ERR, WARM_FD_STDIN, WARM_FD_SOURCE,
	WARM_FD_SYNTAX,                 /* meaningful when spec.syntax_fd >= 0 */
	WARM_FD_ARTIFACTS,              /* meaningful when spec.art_fd >= 0 */
	WARM_NFDS
};

/*
 * One run: the spec a cold run's owner would get (its pointers and fds are
 * replaced on the other side by the request's fds and the library's own
 * values). No byte of the source or stdin: they come as fds.
 */
struct warm_request {
	struct sandbox_init_spec spec;
	char source_name[64];
	char env[WARM_ENV_MAX];                 /* the payload's environment: words, each NUL-ended, then "" */
};

#endif
