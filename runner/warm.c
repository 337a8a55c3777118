/*
 * The life of a slot's warm Python interpreter (see warm.h): started,
 * handed the seccomp program, replaced when broken or used up, stopped.
 */
#include "warm.h"
#include "log.h"
#include "python_boot.h"
#include "util.h"
#include "warm_proto.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum { READY_TIMEOUT_MS = 10000 };

extern const char warm_lib_start[], warm_lib_end[];

static pthread_once_t program_once = PTHREAD_ONCE_INIT;
static char *program;

/* prelude, "try:", python_boot indented by four spaces, epilogue. The boot
 * has no string spanning lines, so indenting every line keeps it intact
 * (a boot that stopped compiling would only leave the slots cold: the warm
 * interpreter would never say ready). */
static void build_program(void)
{
	size_t a = strlen(python_warm_prelude), b = strlen(python_boot), c = strlen(python_warm_epilogue);
	size_t lines = 1;
	char *p;

	for (const char *q = python_boot; *q; q++)
		lines += *q == '\n';
	if (!(program = malloc(a + 5 + b + 4 * lines + c + 1)))
		return;
	p = program;
	memcpy(p, python_warm_prelude, a);
	p += a;
	memcpy(p, "try:\n", 5);
	p += 5;
	for (const char *q = python_boot; *q; ) {
		const char *end = strchr(q, '\n');
		size_t len = end ? (size_t)(end - q) + 1 : strlen(q);

		if (len > 1) {
			memcpy(p, "    ", 4);
			p += 4;
		}
		memcpy(p, q, len);
		p += len;
		q += len;
	}
	memcpy(p, python_warm_epilogue, c + 1);
}

const char *warm_program(void)
{
	pthread_once(&program_once, build_program);
	return program;
}

int warm_lib_fd(void)
{
	return sandbox_sealed_memfd("warm_entry.so", warm_lib_start, (size_t)(warm_lib_end - warm_lib_start));
}

void warm_zygote_stagger(struct warm_zygote *z)
{
	unsigned int r = 0;

	if (z->max_runs > 1 && getrandom(&r, sizeof r, 0) == (ssize_t)sizeof r)
		z->budget = 1 + (int)(r % (unsigned int)z->max_runs);
}

void warm_zygote_init(struct warm_zygote *z, int slot, int max_runs)
{
	memset(z, 0, sizeof *z);
	z->slot = slot;
	z->max_runs = max_runs;
	z->budget = max_runs;
	z->pid = -1;
	z->ctl = z->out = -1;
	cgroup_run_init(&z->cg);
}

/* What the interpreter printed (a traceback, if it failed), for the log. */
static void log_output(const struct warm_zygote *z)
{
	char buf[2048];
	ssize_t n;

	if (z->out < 0 || (n = read(z->out, buf, sizeof buf - 1)) <= 0)
		return;
	buf[n] = '\0';
	log_warn("slot %d: warm interpreter said: %s", z->slot, buf);
}

void warm_zygote_stop(struct warm_zygote *z)
{
	/* The control socket is closed first: the interpreter, waiting for a
	 * run, then exits on its own. SIGKILL alone may not reach it: under the
	 * runner unit, without CAP_KILL, root may not signal a sandbox's uid
	 * (EPERM), and waiting for an interpreter that got ready a moment after
	 * its handshake gave up would hold the slot for ever. */
	if (z->ctl >= 0)
		close(z->ctl);
	z->ctl = -1;
	if (z->pid > 0) {
		kill(z->pid, SIGKILL);
		while (waitpid(z->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	log_output(z);
	if (z->out >= 0)
		close(z->out);
	if (cgroup_run_destroy(&z->cg) < 0)
		log_warn("slot %d: could not remove the warm interpreter's cgroup: %s", z->slot, strerror(errno));
	warm_zygote_init(z, z->slot, z->max_runs);
}

/* Sends the seccomp program and waits for the interpreter's 'R'. */
static int handshake(struct warm_zygote *z, const struct sandbox_host *host)
{
	struct warm_hello *h = calloc(1, sizeof *h);
	struct pollfd p = { .fd = z->ctl, .events = POLLIN };
	char ready = 0;
	int rc = -1;

	if (!h || host->filter.len > WARM_FILTER_MAX)
		goto out;
	h->filter_len = host->filter.len;
	memcpy(h->filter, host->filter.filter, sizeof(struct sock_filter) * host->filter.len);
	if (send(z->ctl, h, sizeof *h, MSG_NOSIGNAL) != (ssize_t)sizeof *h)
		goto out;
	if (poll(&p, 1, READY_TIMEOUT_MS) == 1 && recv(z->ctl, &ready, 1, 0) == 1 && ready == 'R')
		rc = 0;
out:
	free(h);
	return rc;
}

static bool alive(const struct warm_zygote *z)
{
	return z->pid > 0 && waitpid(z->pid, NULL, WNOHANG) == 0;
}

int warm_zygote_ensure(struct warm_zygote *z, const struct sandbox_host *host,
		       const struct sandbox_limits *limits, const char *const *env, bool slot_netns)
{
	const char *argv[] = { host->python, "-u", "-E", "-S", "-c", warm_program(), NULL };
	struct sandbox_job job = {
		.source = "", .source_len = 0, .argv = argv, .env = env, .slot = z->slot,
		.limits = limits, .slot_netns = slot_netns,
	};
	int ctl[2], lib;
	char err[256];

	if (z->pid > 0 && !z->broken && z->runs < z->budget && alive(z))
		return 0;
	if (z->pid > 0)
		warm_zygote_stop(z);
	if (!argv[5] || (lib = warm_lib_fd()) < 0)
		return -1;
	/* Packets: a run request is one message, its fds ride along. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0) {
		close(lib);
		return -1;
	}
	z->ctl = ctl[1];
	if (sandbox_zygote_spawn(host, &job, ctl[0], lib, z, err, sizeof err) < 0) {
		log_warn("slot %d: warm interpreter: %s", z->slot, err);
		warm_zygote_stop(z);
		return -1;
	}
	if (handshake(z, host) < 0) {
		log_warn("slot %d: warm interpreter did not get ready", z->slot);
		warm_zygote_stop(z);
		return -1;
	}
	log_info("slot %d: warm interpreter %d ready", z->slot, (int)z->pid);
	return 0;
}
