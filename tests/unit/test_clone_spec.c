/*
 * What a sandbox's clone children see of the runner's memory: a spec's
 * copy holds everything it points to, and a slot thread's malloc arena
 * is left out of a fork.
 */
#include "check.h"
#include "clone_spec.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Whether [p, p + len) lies inside c's mapping. */
static int inside(const struct clone_spec *c, const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p, base = (uintptr_t)c->map;
	return p && a >= base && a + len <= base + c->len;
}

TEST(clone_spec_copy_holds_all_it_points_to)
{
	static const struct sandbox_file files[] = {
		{ "util.py", "def f():\n    return 1\n", 22, false },
		{ "run.sh", "#!/bin/sh\n", 10, true },
	};
	static const char *const mounts[] = { "/usr/lib/jvm", "/opt/go" };
	struct sock_filter insns[] = { BPF_STMT(BPF_RET | BPF_K, 0x7fff0000) };
	struct sock_fprog filter = { 1, insns };
	struct sandbox_init_spec s;
	struct clone_spec c;

	memset(&s, 0, sizeof s);
	s.source = "print(1)\n";
	s.source_len = 9;
	s.source_name = "main.py";
	s.files = files;
	s.nfiles = 2;
	s.app_files = files + 1;
	s.napp_files = 1;
	s.mounts = mounts;
	s.nmounts = 2;
	s.stdin_data = "42\n";
	s.stdin_len = 3;
	s.exec_path = "/usr/bin/python3";
	s.argv[0] = "python3";
	s.argv[1] = "main.py";
	s.envp[0] = "PATH=/usr/bin";
	s.child.workdir = "/tmp";
	s.child.filter = &filter;
	s.status_fd = 7;
	strcpy(s.root_opts, "size=16m");

	CHECK(clone_spec_copy(&c, &s) == 0);
	const struct sandbox_init_spec *d = c.spec;
	CHECK(inside(&c, d, sizeof *d));
	CHECK(d->status_fd == 7 && strcmp(d->root_opts, "size=16m") == 0);
	CHECK(inside(&c, d->source, 9) && memcmp(d->source, "print(1)\n", 9) == 0 && d->source_len == 9);
	CHECK(inside(&c, d->source_name, 8) && strcmp(d->source_name, "main.py") == 0);
	CHECK(inside(&c, d->stdin_data, 3) && memcmp(d->stdin_data, "42\n", 3) == 0);
	CHECK(inside(&c, d->exec_path, 17) && strcmp(d->exec_path, "/usr/bin/python3") == 0);
	CHECK(inside(&c, d->argv[0], 8) && strcmp(d->argv[0], "python3") == 0);
	CHECK(inside(&c, d->argv[1], 8) && strcmp(d->argv[1], "main.py") == 0 && d->argv[2] == NULL);
	CHECK(inside(&c, d->envp[0], 14) && strcmp(d->envp[0], "PATH=/usr/bin") == 0 && d->envp[1] == NULL);
	CHECK(inside(&c, d->child.workdir, 5) && strcmp(d->child.workdir, "/tmp") == 0);
	CHECK(inside(&c, d->files, sizeof files) && d->nfiles == 2);
	for (int i = 0; i < 2; i++) {
		CHECK(inside(&c, d->files[i].name, strlen(files[i].name) + 1));
		CHECK(strcmp(d->files[i].name, files[i].name) == 0);
		CHECK(inside(&c, d->files[i].data, files[i].len) && d->files[i].len == files[i].len);
		CHECK(memcmp(d->files[i].data, files[i].data, files[i].len) == 0 && d->files[i].exec == files[i].exec);
	}
	CHECK(inside(&c, d->app_files, sizeof files[0]) && strcmp(d->app_files[0].name, "run.sh") == 0);
	CHECK(inside(&c, d->mounts, sizeof mounts) && strcmp(d->mounts[1], "/opt/go") == 0);
	CHECK(inside(&c, d->mounts[0], 13) && inside(&c, d->mounts[1], 8));
	CHECK(inside(&c, d->child.filter, sizeof filter) && d->child.filter->len == 1);
	CHECK(inside(&c, d->child.filter->filter, sizeof insns) && d->child.filter->filter[0].k == 0x7fff0000);
	/* The original is untouched. */
	CHECK(s.argv[0][0] == 'p' && s.files == files && s.child.filter == &filter);
	clone_spec_release(&c);
	CHECK(c.map == NULL && c.spec == NULL);
}

TEST(clone_spec_copy_of_an_empty_spec_points_nowhere)
{
	struct sandbox_init_spec s;
	struct clone_spec c;

	memset(&s, 0, sizeof s);
	CHECK(clone_spec_copy(&c, &s) == 0);
	CHECK(c.spec->source == NULL && c.spec->files == NULL && c.spec->mounts == NULL);
	CHECK(c.spec->argv[0] == NULL && c.spec->child.filter == NULL && c.spec->exec_path == NULL);
	clone_spec_release(&c);
}

/*
 * In a thread of its own, as a slot's: hides the thread's arena, then a
 * raw clone (as the runner's, without glibc's fork handlers, which touch
 * every arena) reads a block allocated there. Exits with 10 * the hide's
 * result + 1 if the clone read it, + 2 if the clone died of SIGSEGV.
 */
static void *hide_and_clone(void *arg)
{
	int status = 0, seen;
	volatile char *block;
	pid_t pid;

	(void)arg;
	int hidden = clone_hide_thread_arena();
	block = malloc(100);
	block[0] = 'x';
	pid = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	if (pid == 0)
		syscall(SYS_exit_group, block[0] == 'x' ? 0 : 1);
	waitpid(pid, &status, 0);
	seen = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 1 :
	       WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV ? 2 : 0;
	_exit(10 * hidden + seen);
}

/* In a process of its own: a hidden arena would break the glibc fork()
 * of every later test in this one. */
TEST(clone_hidden_arena_is_not_in_a_clone)
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		pthread_t t;
		if (pthread_create(&t, NULL, hide_and_clone, NULL) == 0)
			pthread_join(t, NULL);
		_exit(99);
	}
	REQUIRE(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status));
#if defined(__SANITIZE_ADDRESS__)
	/* AddressSanitizer's allocator is not glibc's arenas: left as it is. */
	CHECK(WEXITSTATUS(status) == 1);
#else
	CHECK(WEXITSTATUS(status) == 12);
#endif
}
