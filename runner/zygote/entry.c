/*
 * The C half of a warm interpreter (runner/warm.c explains the whole):
 * loaded into it with ctypes, it waits for the runner's run requests and
 * starts, for each (vfork), the run's owner, which builds the run's sandbox with the
 * same code as a cold run (sandbox_owner.c, sandbox_child.c,
 * sandbox_mount.c). The payload it ends in returns here, entered, and the
 * interpreter goes on to run the learner's program.
 *
 * What the warm interpreter reads stays in its memory, which every later
 * run inherits a copy of: it never reads a run's source or stdin (they
 * reach the run as fds), and the request it does read -- the limits and
 * the run's fds -- is wiped once the owner has exited.
 */
#include "../sandbox_child.h"
#include "../seccomp.h"
#include "../warm_proto.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int warm_init(int ctl);
int warm_serve(int ctl);

/* The run's environment, for the payload's interpreter to take over (see
 * python_warm_prelude): words, each NUL-ended, then an empty one. */
char warm_env[WARM_ENV_MAX];

static struct sock_fprog filter;
static struct sigaction handlers[NSIG];  /* the interpreter's own, restored in the payload */
static jmp_buf payload_entered;
static struct warm_request req;

_Static_assert((int)WARM_NFDS <= (int)SANDBOX_PASSED_FDS_MAX, "a request carries more fds than a message takes");

/*
 * Once, before any run: the seccomp program (built by the runner) and the
 * interpreter's signal handlers (SIGINT's KeyboardInterrupt, SIGPIPE and
 * SIGXFSZ ignored), which the payload's entry resets and gets back.
 * Returns 0, or -1.
 */
int warm_init(int ctl)
{
	struct warm_hello h;

	if (sandbox_child_receive(ctl, &h, sizeof h, NULL, 0) != (ssize_t)sizeof h || h.filter_len == 0 ||
	    h.filter_len > WARM_FILTER_MAX)
		return -1;
	filter.len = (unsigned short)h.filter_len;
	filter.filter = malloc(sizeof(struct sock_filter) * h.filter_len);
	if (!filter.filter)
		return -1;
	memcpy(filter.filter, h.filter, sizeof(struct sock_filter) * h.filter_len);
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, NULL, &handlers[sig]);
	return 0;
}

/* The run's environment (warm_env) as the process's: the interpreter's
 * os.environ takes the same words (python_warm_prelude). */
static void set_environment(void)
{
	clearenv();
	for (char *w = warm_env; *w; w += strlen(w) + 1)
		if (putenv(w) < 0)
			sandbox_child_die(SANDBOX_REPORT_FD, "set the environment");
}

/* The payload, entered: back to the interpreter. */
_Noreturn static void resume(void)
{
	set_environment();
	for (int sig = 1; sig < NSIG; sig++)
		if (handlers[sig].sa_handler != SIG_DFL)
			sigaction(sig, &handlers[sig], NULL);
	close(SANDBOX_REPORT_FD);               /* no execve to close it: init sees the start */
	longjmp(payload_entered, 1);
}

/* The owner's mapping of a run's source: made in the memory it shares
 * with us (vfork), undone by us once it has exited. */
static void *source_map;
static size_t source_map_len;

/* The source, mapped before the owner closes every fd it does not pass on. */
static void map_source(struct sandbox_init_spec *s, int fd)
{
	struct stat st;
	void *p = NULL;

	if (fstat(fd, &st) < 0)
		sandbox_child_die(s->status_fd, "stat the source");
	if (st.st_size > 0 && (p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED)
		sandbox_child_die(s->status_fd, "map the source");
	source_map = p;
	source_map_len = p ? (size_t)st.st_size : 0;
	s->source = p ? p : "";
	s->source_len = (size_t)st.st_size;
	close(fd);
}

/*
 * The run's owner, vforked from the warm interpreter: the request's
 * pointers made its own, then the runner learns its pid (the credentials
 * of a one-byte hello) to move it into the run's cgroup, and the cold
 * path's owner takes over.
 */
_Noreturn static void become_owner(const int *fds)
{
	struct sandbox_init_spec *s = &req.spec;

	s->sync_fd = fds[WARM_FD_SYNC];
	s->status_fd = fds[WARM_FD_STATUS];
	s->out_fd = fds[WARM_FD_OUT];
	s->err_fd = fds[WARM_FD_ERR];
	s->stdin_fd = fds[WARM_FD_STDIN];
	if (s->syntax_fd >= 0) {
		s->syntax_fd = fds[WARM_FD_SYNTAX];
	} else {
		s->syntax_fd = -1;
		close(fds[WARM_FD_SYNTAX]);
	}
	if (s->art_fd >= 0) {
		s->art_fd = fds[WARM_FD_ARTIFACTS];
	} else {
		s->art_fd = -1;
		close(fds[WARM_FD_ARTIFACTS]);
	}
	s->child.syntax_fd = -1;                /* init sets it */
	s->lib_fd = -1;
	s->source_name = req.source_name;
	s->files = NULL;
	s->nfiles = 0;
	s->app_files = NULL;
	s->napp_files = 0;
	s->mounts = NULL;
	s->nmounts = 0;
	s->stdin_data = NULL;
	s->stdin_len = 0;
	s->child.workdir = "/tmp";
	s->child.filter = &filter;
	s->zygote = false;
	s->resume = resume;
	memcpy(warm_env, req.env, sizeof warm_env);
	warm_env[sizeof warm_env - 2] = warm_env[sizeof warm_env - 1] = '\0';
	map_source(s, fds[WARM_FD_SOURCE]);
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		sandbox_child_die(s->status_fd, "set dumpable");
	if (send(s->sync_fd, "o", 1, MSG_NOSIGNAL) != 1)
		sandbox_child_die(s->status_fd, "announce the owner to the runner");
	sandbox_owner_main(s);
}

static void reap_all(void)
{
	while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
		;
}

/*
 * Serves run requests until the runner closes the socket: vforks each
 * one's owner. Returns 1 in a run's payload (fully entered: run the
 * program), -1 at EOF (the runner is gone or replaces us), -2 on a
 * malformed request. Never returns to the interpreter between runs, so
 * that every run resumes it in the same state. Reaps the runs lazily: a
 * run's init is our child, and its pid must stay reserved until the
 * runner, who signals it, is done with it (it sends the next request
 * after).
 */
int warm_serve(int ctl)
{
	for (;;) {
		int fds[WARM_NFDS];
		ssize_t n;
		pid_t pid;

		reap_all();
		n = sandbox_child_receive(ctl, &req, sizeof req, fds, WARM_NFDS);
		reap_all();
		if (n == 0)
			return -1;
		if (n != (ssize_t)sizeof req) {
			explicit_bzero(&req, sizeof req);
			return n < 0 && errno != EPROTO ? -1 : -2;
		}
		/* vfork: the owner borrows our memory until it exits (it clones
		 * init, which gets a copy, and then exits) instead of copying it
		 * and tearing the copy down, about 1 ms of CPU per run. We are
		 * suspended meanwhile; it touches only its own frames below
		 * ours, req and warm_env, and its fd table and signal handlers
		 * are its own (no CLONE_FILES, no CLONE_SIGHAND). The payload
		 * returns through setjmp into its own copy of this frame. */
		pid = vfork();
		if (pid == 0) {
			if (setjmp(payload_entered))
				return 1;
			become_owner(fds);
		}
		/* The owner mapped the run's source into our memory: gone before
		 * the next run is forked, which must not find it. */
		if (source_map)
			munmap(source_map, source_map_len);
		source_map = NULL;
		source_map_len = 0;
		explicit_bzero(warm_env, sizeof warm_env);
		/* A failed fork: the runner sees the sync socket close without a hello. */
		for (int i = 0; i < WARM_NFDS; i++)
			close(fds[i]);
		explicit_bzero(&req, sizeof req);
	}
}
