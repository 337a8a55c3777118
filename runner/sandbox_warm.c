/*
 * Warm start (runner/warm.h): a Python run forked by its slot's warm
 * interpreter instead of exec'ing a new one. The run's owner comes from the
 * interpreter; from there the cold path's code (sandbox_run.h) builds and
 * watches the run. Also the warm interpreter's own start.
 */
#include "sandbox_run.h"
#include "log.h"
#include "util.h"
#include "warm.h"
#include "warm_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

bool sandbox_default_python(const char *const *argv)
{
	static const char *const words[] = { "{python}", "-u", "-E", "-S", "-c", "{python_boot}", NULL };
	size_t i = 0;

	if (!argv)
		return true;
	for (; words[i] && argv[i]; i++)
		if (strcmp(words[i], argv[i]) != 0)
			return false;
	return !words[i] && !argv[i];
}

bool run_warm_eligible(const struct sandbox_job *job)
{
	const struct warm_zygote *z = job->warm;

	return z && z->pid > 0 && !z->broken && z->runs < z->budget && !job->compile &&
	       job->nfiles == 0 && job->napp_files == 0 && job->nmounts == 0 && !job->workdir &&
	       sandbox_default_python(job->argv);
}

/*
 * The run's ids inside its own user namespace, nested in the warm
 * interpreter's: the same numbers as there (0 and 1000 when the runner is
 * root, else 1000 alone), which map on to the slot's host uids as a cold
 * run's do. The interpreter already runs as the slot's uid and in an
 * empty network namespace, which the run shares, as with slot_netns.
 */
static void fill_warm_owner(struct sandbox_owner_spec *o, const struct sandbox_host *host)
{
	memset(o, 0, sizeof *o);
	o->init_flags = CLONE_SANDBOX;
	if (host->root) {
		snprintf(o->uid_map, sizeof o->uid_map, "%d %d 1\n%d %d 1\n", INSIDE_ROOT, INSIDE_ROOT,
			 INSIDE_USER, INSIDE_USER);
	} else {
		snprintf(o->uid_map, sizeof o->uid_map, "%d %d 1\n", INSIDE_USER, INSIDE_USER);
		o->deny_setgroups = true;
	}
	memcpy(o->gid_map, o->uid_map, sizeof o->gid_map);
}

int sandbox_sealed_memfd(const char *name, const char *data, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	size_t done = 0;

	if (fd < 0)
		return -1;
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)n;
	}
	return sandbox_seal_memfd(fd);
}


static int send_request(int ctl, const struct warm_request *req, const int *fds)
{
	return run_send_fds(ctl, req, sizeof *req, fds, WARM_NFDS);
}

/* envp as words, each NUL-ended, then an empty one. Returns 0, or -1 if
 * they do not fit. */
static int fill_env(char *buf, size_t size, const char *const *envp)
{
	size_t n = 0;

	for (size_t i = 0; i < SANDBOX_ENVP && envp[i]; i++) {
		size_t len = strlen(envp[i]) + 1;

		if (n + len + 1 > size)
			return -1;
		memcpy(buf + n, envp[i], len);
		n += len;
	}
	buf[n] = '\0';
	return 0;
}

/*
 * Hands the run to the warm interpreter: the spec a cold run's owner would
 * get, its environment, and its fds -- the sync socket, the status and
 * output pipes, stdin (a sealed memfd, or an interactive run's pipe), the
 * source as a sealed memfd, the syntax channel. Returns 0, or -1
 * (the interpreter is gone, or fds ran out).
 */
static int warm_start(struct run *r, const struct sandbox_job *job, struct sandbox_init_spec *s)
{
	static const struct warm_request zero;
	struct warm_request *req = malloc(sizeof *req);
	int sync[2] = { -1, -1 }, status[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	int in = -1, src = -1, rc = -1;

	if (!req)
		return -1;
	*req = zero;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync) < 0 ||
	    setsockopt(sync[1], SOL_SOCKET, SO_PASSCRED, &(int){ 1 }, sizeof(int)) < 0 ||
	    pipe2(status, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 ||
	    (in = sandbox_sealed_memfd("stdin", job->stdin_data, job->stdin_len)) < 0 ||
	    (src = sandbox_sealed_memfd("source", job->source, job->source_len)) < 0 ||
	    (r->syntax_channel && (r->syntax_fd = memfd_create("syntax", MFD_CLOEXEC)) < 0))
		goto out;
	s->syntax_fd = r->syntax_fd;
	if (r->art_limit && (r->art_fd = memfd_create("artifacts", MFD_CLOEXEC)) < 0)
		goto out;
	s->art_fd = r->art_fd;
	if (fill_env(req->env, sizeof req->env, s->envp) < 0 || (r->interactive && run_open_feed(r, s) < 0))
		goto out;
	req->spec = *s;
	snprintf(req->source_name, sizeof req->source_name, "%s", s->source_name);
	r->t_clone = mono_ms();
	/* Without a syntax channel its place carries stdin again (unused). */
	if (send_request(job->warm->ctl, req, (int[]){ sync[0], status[1], out[1], err[1],
						       s->stdin_fd >= 0 ? s->stdin_fd : in, src,
						       r->syntax_fd >= 0 ? r->syntax_fd : in,
						       r->art_fd >= 0 ? r->art_fd : in }) < 0)
		goto out;
	r->sync_fd = sync[1];
	r->status_fd = status[0];
	r->out.fd = out[0];
	r->err.fd = err[0];
	sync[1] = status[0] = out[0] = err[0] = -1;
	rc = 0;
out:
	for (int i = 0; i < 2; i++) {
		int *fds[] = { &sync[i], &status[i], &out[i], &err[i] };

		for (size_t k = 0; k < sizeof fds / sizeof fds[0]; k++)
			if (*fds[k] >= 0)
				close(*fds[k]);
	}
	if (in >= 0)
		close(in);
	if (src >= 0)
		close(src);
	if (s->stdin_fd >= 0)                   /* an interactive run's pipe: the runner keeps the other end */
		close(s->stdin_fd);
	s->stdin_fd = -1;
	free(req);
	return rc;
}

/*
 * The owner's hello tells its pid (forked by the interpreter, which may
 * be slow or gone: WARM_ANSWER_MS), then the cold path's launch moves it
 * into the run's cgroup and learns init. Returns 0, or -1 when the
 * interpreter did not answer.
 */
static int warm_launch(struct run *r)
{
	pid_t owner = run_receive_init_pid(r->sync_fd, mono_ms() + WARM_ANSWER_MS, 0);

	if (owner < 0)
		return -1;
	r->pid = r->owner = owner;
	r->deadline = r->t_clone + SETUP_TIMEOUT_MS;
	run_launch(r);
	return 0;
}

/*
 * A warm run's init is the interpreter's child, not ours: kill what is
 * left and wait, through a pidfd, until init is gone (and with it the
 * run's PID namespace). The interpreter reaps it at the next request, so
 * its pid stays reserved while we signal it. CPU time and memory: what
 * init reported of the processes it reaped (the cgroup's figures replace
 * them where there is one).
 */
static void reap_warm(struct run *r, struct sandbox_result *res)
{
	int pidfd = r->pid > 0 ? (int)syscall(SYS_pidfd_open, r->pid, 0) : -1;

	if (r->pid > 0 && !r->exited)
		kill(r->pid, SIGKILL);
	if (r->owner > 0 && r->owner != r->pid)
		kill(r->owner, SIGKILL);
	if (pidfd >= 0) {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };

		while (poll(&p, 1, DRAIN_TIMEOUT_MS) < 0 && errno == EINTR)
			;
		close(pidfd);
	}
	res->cpu_ms = r->children_cpu_ms;
	res->memory_kb = r->children_rss_kb;
}

/*
 * The run's owner is forked in the warm interpreter's cgroup and works
 * there until the runner moves it: that cgroup takes the run's CPU weight,
 * so that a learner's setups share the CPU as the learner's runs do (one
 * learner's backlog in seven slots does not take seven shares of it).
 */
static void weigh_interpreter(const struct sandbox_job *job)
{
	if (cgroup_run_weigh(&job->warm->cg, job->limits->cpu_weight) < 0)
		log_warn("slot %d: the warm interpreter's CPU weight: %s", job->slot, strerror(errno));
}

/* Returns 1 when the warm interpreter failed before anything of the
 * program ran: the caller starts the run cold instead. */
int run_warm(const struct sandbox_host *host, const struct sandbox_job *job,
	     struct sandbox_result *res)
{
	struct sandbox_init_spec spec;
	struct run r;
	int rc;

	memset(res, 0, sizeof *res);
	if (!run_limits_valid(job->limits) || run_fill_spec(&spec, host, job) < 0)
		return 1;
	fill_warm_owner(&spec.owner, host);
	run_init(&r, job);
	if (job->interactive && run_feed_queue(&r.feed, job->stdin_data, job->stdin_len) < 0) {
		run_set_message(res, "out of memory", ENOMEM);
		return run_finish(&r, res, -1);
	}
	if (run_make_cgroup(&r, host, job, "slot", res) < 0)
		return run_finish(&r, res, 0);
	weigh_interpreter(job);
	job->warm->runs++;
	if (warm_start(&r, job, &spec) < 0 || warm_launch(&r) < 0) {
		log_warn("slot %d: the warm interpreter did not answer: %s", job->slot, strerror(errno));
		run_finish(&r, res, -1);
		return 1;
	}
	rc = run_collect(&r);
	if (rc < 0)
		run_set_message(res, "collect the output", errno);
	reap_warm(&r, res);
	if (rc == 0 && !r.started && r.killed != KILL_CANCEL) {
		log_warn("slot %d: a run from the warm interpreter failed to start: %s: %s", job->slot,
			 r.failure.what, strerror(r.failure.err));
		run_finish(&r, res, -1);
		return 1;
	}
	if (rc == 0) {
		run_describe(&r, res);
		run_apply_cgroup_stats(&r, res);
	}
	return run_finish(&r, res, rc);
}

/* Each run nests namespaces of its own in the warm interpreter's, whose
 * ceilings so must allow some: a run's are freed by the kernel a while
 * after it ended, and quick runs follow each other faster (a run's own
 * ceilings stay at none). The inotify ones hold a run's use and that of
 * one still dying. */
static void zygote_sysctls(struct sandbox_init_spec *s)
{
	for (int i = 0; i < s->nsysctls; i++) {
		struct sandbox_sysctl *c = &s->sysctls[i];
		size_t len = strlen(c->path);

		if (len > 11 && strcmp(c->path + len - 11, "_namespaces") == 0)
			snprintf(c->value, sizeof c->value, "%d", ZYGOTE_NAMESPACES);
		else if (strcmp(c->path, "/proc/sys/user/max_inotify_instances") == 0)
			snprintf(c->value, sizeof c->value, "%d", 2 * NS_QUEUES);
		else if (strcmp(c->path, "/proc/sys/user/max_inotify_watches") == 0)
			snprintf(c->value, sizeof c->value, "%d", 2 * NS_INOTIFY_WATCHES);
	}
}

/* Waits for init's STARTED record (sent just before it execs the interpreter). */
static void await_start(struct run *r)
{
	while (!r->started && !r->failed && r->status_fd >= 0) {
		struct pollfd p = { .fd = r->status_fd, .events = POLLIN };
		int n = poll(&p, 1, run_ms_until(r->deadline));

		if (n == 0) {
			run_fail(r, "start the warm interpreter: timed out", ETIMEDOUT);
			break;
		}
		if (n > 0)
			run_status_read(r);
		else if (errno != EINTR)
			break;
	}
}

int sandbox_zygote_spawn(const struct sandbox_host *host, const struct sandbox_job *job, int ctl_fd,
			 int lib_fd, struct warm_zygote *z, char *err, size_t errlen)
{
	struct sandbox_init_spec spec;
	struct sandbox_result res;
	struct run r;

	memset(&res, 0, sizeof res);
	if (!run_limits_valid(job->limits) || run_fill_spec(&spec, host, job) < 0 ||
	    run_fill_owner(&spec.owner, host, job) < 0) {
		close(ctl_fd);
		close(lib_fd);
		snprintf(err, errlen, "invalid limits, command, slot or uid_base");
		return -1;
	}
	spec.zygote = true;
	spec.stdin_fd = ctl_fd;
	spec.lib_fd = lib_fd;
	zygote_sysctls(&spec);
	run_init(&r, job);
	if (run_make_cgroup(&r, host, job, "warm", &res) < 0) {
		close(ctl_fd);
		close(lib_fd);
		snprintf(err, errlen, "%s", res.message);
		return run_finish(&r, &res, -1);
	}
	if (run_start(&r, &spec, &res) < 0) {
		snprintf(err, errlen, "%s", res.message);
		return run_finish(&r, &res, -1);
	}
	r.deadline = r.t_clone + SETUP_TIMEOUT_MS;
	run_launch(&r);
	await_start(&r);
	if (!r.started || r.failed) {
		run_reap(&r, &res);
		run_describe(&r, &res);
		snprintf(err, errlen, "%s", res.message[0] ? res.message : "the warm interpreter did not start");
		return run_finish(&r, &res, -1);
	}
	z->pid = r.pid;
	z->cg = r.cg;
	cgroup_run_init(&r.cg);
	z->out = r.err.fd;
	r.err.fd = -1;
	if (fcntl(z->out, F_SETFL, O_NONBLOCK) < 0)
		snprintf(err, errlen, "non-blocking output: %s", strerror(errno));
	run_finish(&r, &res, -1);
	return 0;
}
