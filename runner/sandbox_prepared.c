/*
 * A run's sandbox built before its files are known (sandbox.h,
 * sandbox_prepare): beside its compile, or on a slot's standby while the
 * slot waits for a claim.
 *
 * A compiled language's run used to wait for its compile to end before its
 * sandbox was begun: cgroup, owner, init's namespaces, the root -- about
 * 4 ms of every cold compile-and-run, mostly in other processes; every
 * other run paid the same between its claim and its start. Prepared, the
 * runner does its part (the cgroup, the owner's clone and release, about
 * 1 ms) ahead, init builds the root and waits for the run's files on a
 * socket of its own; then only the files, the pivot and the payload's
 * start are left.
 */
#include "sandbox_run.h"
#include "sandbox_files.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct sandbox_prepared {
	struct run r;
	int files_fd;                   /* the runner's end of init's files socket */
	struct sandbox_job shape;       /* what it was built for; only argv, file_name and workdir are followed */
	char **argv;                    /* shape's command, its own copy (a compile's is built per compile); NULL: the default */
	struct sandbox_limits limits;
};

/* A copy of argv in one allocation (the pointers, then the words). */
static char **words_copy(const char *const *argv)
{
	size_t n = 0, bytes = 0;
	char **copy, *w;

	for (; argv[n]; n++)
		bytes += strlen(argv[n]) + 1;
	if (!(copy = malloc((n + 1) * sizeof *copy + bytes)))
		return NULL;
	w = (char *)(copy + n + 1);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(argv[i]) + 1;

		copy[i] = memcpy(w, argv[i], len);
		w += len;
	}
	copy[n] = NULL;
	return copy;
}

static void prepared_free(struct sandbox_prepared *p)
{
	free(p->argv);
	free(p);
}

struct sandbox_prepared *sandbox_prepare(const struct sandbox_host *host, const struct sandbox_job *job,
					 const char *kind, size_t files_bytes, int files_max)
{
	struct sandbox_init_spec spec;
	struct sandbox_result res;
	struct sandbox_prepared *p;
	int sv[2];

	if (run_warm_eligible(job) || !run_limits_valid(job->limits) || run_fill_spec(&spec, host, job) < 0 ||
	    run_fill_owner(&spec.owner, host, job) < 0 || !(p = calloc(1, sizeof *p)))
		return NULL;
	if (job->argv && !(p->argv = words_copy(job->argv))) {
		free(p);
		return NULL;
	}
	run_files_later(&spec, job, files_bytes, files_max);
	p->shape = *job;
	p->shape.argv = (const char *const *)p->argv;
	p->limits = *job->limits;
	memset(&res, 0, sizeof res);
	run_init(&p->r, job);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		prepared_free(p);
		return NULL;
	}
	p->files_fd = sv[0];
	spec.files_fd = sv[1];
	if ((job->interactive && run_feed_queue(&p->r.feed, job->stdin_data, job->stdin_len) < 0) ||
	    run_make_cgroup(&p->r, host, job, kind, &res) < 0 || run_start(&p->r, &spec, &res) < 0) {
		close(sv[1]);
		close(p->files_fd);
		run_finish(&p->r, &res, -1);
		prepared_free(p);
		return NULL;
	}
	close(sv[1]);
	p->r.deadline = p->r.t_clone + SETUP_TIMEOUT_MS;
	run_release(&p->r);
	return p;
}

static bool same_text(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* NULL is the sandbox's default command (sandbox.h). */
static bool same_words(const char *const *a, const char *const *b)
{
	size_t i = 0;

	if (!a || !b)
		return a == b;
	for (; a[i] && b[i]; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return !a[i] && !b[i];
}

/* The limits a sandbox is built with: all but the wall time and the CPU
 * weight, which the runner applies from the run's start. */
static bool same_built_limits(const struct sandbox_limits *a, const struct sandbox_limits *b)
{
	return a->cpu_time_ms == b->cpu_time_ms && a->memory_mb == b->memory_mb &&
	       a->max_processes == b->max_processes && a->tmpfs_mb == b->tmpfs_mb &&
	       a->max_open_files == b->max_open_files && a->max_output_bytes == b->max_output_bytes &&
	       a->cpu_demote_after_ms == b->cpu_demote_after_ms && a->as_mb == b->as_mb &&
	       a->max_cpu_percent == b->max_cpu_percent;
}

/* The language's file, mounts and env come from one row of the language
 * table: the same row gives the same pointers. The command is compared
 * word by word: a compile's names the session's files too. */
bool sandbox_prepared_fits(const struct sandbox_prepared *p, const struct sandbox_job *job)
{
	const struct sandbox_job *a = &p->shape;

	return !a->interactive && !job->interactive && a->compile == job->compile &&
	       a->artifact_limit == job->artifact_limit && same_words(a->argv, job->argv) &&
	       a->env == job->env && a->mounts == job->mounts && a->nmounts == job->nmounts &&
	       same_text(a->file_name, job->file_name) && same_text(a->workdir, job->workdir) &&
	       a->max_artifacts == job->max_artifacts && a->max_artifact_bytes == job->max_artifact_bytes &&
	       a->keep_artifacts == job->keep_artifacts && a->syntax_channel == job->syntax_channel &&
	       a->slot == job->slot && a->slot_netns == job->slot_netns &&
	       same_built_limits(&p->limits, job->limits);
}

/* init only ever reads its files socket: the runner's end turns readable
 * (EOF) or hung up only once init, and the owner that made it, are gone. */
bool sandbox_prepared_alive(const struct sandbox_prepared *p)
{
	struct pollfd pfd = { .fd = p->files_fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 0;
}

/* What the runner keeps of job while the run lasts: its own, not the
 * one the sandbox was built for. */
static void take_job(struct sandbox_prepared *p, const struct sandbox_job *job)
{
	struct run *r = &p->r;

	r->sink = job->compile ? NULL : job->sink;       /* a compile's output is its program */
	r->watch = job->watch;
	r->wall_time_ms = job->limits->wall_time_ms;
	if (!r->interactive)
		r->tick_at = r->watch ? r->t_clone + r->watch->interval_ms : INT64_MAX;
	if (job->limits->cpu_weight != p->limits.cpu_weight && cgroup_run_weigh(&r->cg, job->limits->cpu_weight) < 0)
		run_fail(r, "set the run's CPU weight", errno);
	/* Building the root took CPU time in the run's cgroup: not the run's. */
	if (r->cg.version != CGROUP_NONE && (r->cpu_base_ms = cgroup_run_cpu_ms(&r->cg)) < 0)
		r->cpu_base_ms = 0;
}

int sandbox_go(struct sandbox_prepared *p, const struct sandbox_job *job, struct sandbox_result *res)
{
	struct run *r = &p->r;
	int fd = sandbox_files_memfd(job), rc;

	memset(res, 0, sizeof *res);
	/* The run's setup and deadlines count from here: what it waited for. */
	r->t_clone = mono_ms();
	r->deadline = r->t_clone + SETUP_TIMEOUT_MS;
	take_job(p, job);
	/* init first (it said hello long ago), so that a failure below kills it too. */
	run_learn_init(r);
	if (!r->failed && (fd < 0 || run_send_fds(p->files_fd, "f", 1, &fd, 1) < 0))
		run_fail(r, "hand the run's files to the sandbox", errno);
	if (fd >= 0)
		close(fd);
	close(p->files_fd);
	if (job->beside && !r->failed)
		job->beside(job->beside_arg);
	rc = run_to_end(r, res);
	prepared_free(p);
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
	prepared_free(p);
}
