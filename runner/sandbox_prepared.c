/*
 * A run's sandbox built beside its compile (sandbox.h, sandbox_prepare).
 *
 * A compiled language's run used to wait for its compile to end before its
 * sandbox was begun: cgroup, owner, init's namespaces, the root -- about
 * 4 ms of every cold compile-and-run, mostly in other processes. Prepared,
 * the runner does its part (the cgroup, the owner's clone and release,
 * about 1 ms) once the compiler's sandbox has started (sandbox_job's
 * beside), init builds the root while the compiler works and waits for
 * the compiled files on a socket of its own; then only the files, the
 * pivot and the payload's start are left.
 */
#include "sandbox_run.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct sandbox_prepared {
	struct run r;
	int files_fd;                   /* the runner's end of init's files socket */
};

struct sandbox_prepared *sandbox_prepare(const struct sandbox_host *host, const struct sandbox_job *job,
					 size_t files_max)
{
	struct sandbox_init_spec spec;
	struct sandbox_result res;
	struct sandbox_prepared *p;
	int sv[2];

	if (run_warm_eligible(job) || !run_limits_valid(job->limits) || run_fill_spec(&spec, host, job) < 0 ||
	    run_fill_owner(&spec.owner, host, job) < 0 || !(p = calloc(1, sizeof *p)))
		return NULL;
	run_room_for_later_files(&spec, job, files_max);
	memset(&res, 0, sizeof res);
	run_init(&p->r, job);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		free(p);
		return NULL;
	}
	p->files_fd = sv[0];
	spec.files_fd = sv[1];
	if ((job->interactive && run_feed_queue(&p->r.feed, job->stdin_data, job->stdin_len) < 0) ||
	    run_make_cgroup(&p->r, host, job, "slot", &res) < 0 || run_start(&p->r, &spec, &res) < 0) {
		close(sv[1]);
		close(p->files_fd);
		run_finish(&p->r, &res, -1);
		free(p);
		return NULL;
	}
	close(sv[1]);
	p->r.deadline = p->r.t_clone + SETUP_TIMEOUT_MS;
	run_release(&p->r);
	return p;
}

int sandbox_go(struct sandbox_prepared *p, const char *files, size_t len, struct sandbox_result *res)
{
	struct run *r = &p->r;
	int fd = sandbox_sealed_memfd("compiled", files, len), rc;

	memset(res, 0, sizeof *res);
	/* The run's setup and deadlines count from here: what it waited for. */
	r->t_clone = mono_ms();
	r->deadline = r->t_clone + SETUP_TIMEOUT_MS;
	if (!r->interactive && r->watch)
		r->tick_at = r->t_clone + r->watch->interval_ms;
	/* init first (it said hello long ago), so that a failure below kills it too. */
	run_learn_init(r);
	if (!r->failed && (fd < 0 || run_send_fds(p->files_fd, "f", 1, &fd, 1) < 0))
		run_fail(r, "hand the compiled program to the sandbox", errno);
	if (fd >= 0)
		close(fd);
	close(p->files_fd);
	rc = run_to_end(r, res);
	free(p);
	return rc;
}

void sandbox_abandon(struct sandbox_prepared *p)
{
	struct sandbox_result res;

	memset(&res, 0, sizeof res);
	close(p->files_fd);             /* init reads EOF and exits */
	run_learn_init(&p->r);
	run_reap(&p->r, &res);
	run_finish(&p->r, &res, -1);
	free(p);
}
