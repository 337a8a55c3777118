/*
 * The sandbox's file system, built by init in its private mount namespace.
 *
 * The new root is a small tmpfs mounted over /tmp of our copy of the host's
 * mount tree (invisible to the host: nothing is created on the host, so
 * nothing needs deleting afterwards). It holds a read-only bind of /usr, the
 * merged-/usr symlinks, an empty /etc, a private /dev, a fresh /proc, the
 * source at /app/main.py and the writable working directory /tmp. After
 * pivot_root the old root is detached and the root tmpfs made read-only.
 *
 * All targets are relative to the working directory, which is the new root
 * from mount_new_root on: no path needs formatting.
 */
#include "sandbox_mount.h"
#include "sandbox_fail.h"
#include "sandbox_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

/* /dev nodes bind-mounted from the host: a tmpfs mounted in a user
 * namespace is implicitly nodev, the host's devtmpfs mount is not. */
static const char *const dev_nodes[][2] = {
	{ "/dev/null", "dev/null" },
	{ "/dev/zero", "dev/zero" },
	{ "/dev/full", "dev/full" },
	{ "/dev/random", "dev/random" },
	{ "/dev/urandom", "dev/urandom" },
};

/* { target, link } */
static const char *const symlinks[][2] = {
	{ "usr/bin", "bin" },
	{ "usr/lib", "lib" },
	{ "usr/lib64", "lib64" },
	{ "usr/sbin", "sbin" },
	{ "/proc/self/fd", "dev/fd" },
	{ "/proc/self/fd/0", "dev/stdin" },
	{ "/proc/self/fd/1", "dev/stdout" },
	{ "/proc/self/fd/2", "dev/stderr" },
};

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Without this, every mount below would propagate back into the host's
 * namespace when / is a shared mount (the systemd default).
 */
static void make_mounts_private(int report)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		sandbox_child_die(report, "make mounts private");
}

static void mount_new_root(const struct sandbox_init_spec *s)
{
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, s->root_opts) < 0)
		sandbox_child_die(s->status_fd, "mount the root tmpfs");
	if (chdir("/tmp") < 0)
		sandbox_child_die(s->status_fd, "chdir to the new root");
}

static void make_dir(int report, const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0)
		sandbox_child_die(report, path);
}

/*
 * The flags of path's mount that a user namespace may not clear: a
 * remount that omits one of them fails with EPERM (locked mount flags).
 */
static unsigned long locked_flags(int report, const char *path)
{
	static const struct { unsigned long st, ms; } map[] = {
		{ ST_NOSUID, MS_NOSUID }, { ST_NODEV, MS_NODEV },
		{ ST_NOEXEC, MS_NOEXEC }, { ST_NOATIME, MS_NOATIME },
		{ ST_NODIRATIME, MS_NODIRATIME }, { ST_RELATIME, MS_RELATIME },
	};
	struct statfs sf;
	unsigned long flags = 0;

	if (statfs(path, &sf) < 0)
		sandbox_child_die(report, "statfs a bind mount");
	for (size_t i = 0; i < NELEMS(map); i++)
		if ((unsigned long)sf.f_flags & map[i].st)
			flags |= map[i].ms;
	return flags;
}

/*
 * Not MS_REC: a submount of /usr would stay writable after the read-only
 * remount of the top. The kernel refuses a non-recursive bind over locked
 * submounts (EINVAL), so such a host fails closed instead.
 */
static void bind_ro(int report, const char *source, const char *target, const char *what)
{
	unsigned long ro = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV;

	if (mount(source, target, NULL, MS_BIND, NULL) < 0)
		sandbox_child_die(report, what);
	if (mount(NULL, target, NULL, ro | locked_flags(report, source), NULL) < 0)
		sandbox_child_die(report, "remount a bind read-only");
}

static void bind_usr(int report)
{
	make_dir(report, "usr", 0755);
	bind_ro(report, "/usr", "usr", "bind /usr");
}

static void make_symlinks(int report)
{
	for (size_t i = 0; i < NELEMS(symlinks); i++)
		if (symlink(symlinks[i][0], symlinks[i][1]) < 0)
			sandbox_child_die(report, symlinks[i][1]);
}

static void create_file(int report, const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);

	if (fd < 0)
		sandbox_child_die(report, path);
	close(fd);
}

static void make_dev(const struct sandbox_init_spec *s)
{
	int report = s->status_fd;

	make_dir(report, "dev", 0755);
	for (size_t i = 0; i < NELEMS(dev_nodes); i++) {
		create_file(report, dev_nodes[i][1], 0666);
		if (mount(dev_nodes[i][0], dev_nodes[i][1], NULL, MS_BIND, NULL) < 0)
			sandbox_child_die(report, dev_nodes[i][0]);
	}
	make_dir(report, "dev/shm", 01777);
	if (mount("tmpfs", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, s->shm_opts) < 0)
		sandbox_child_die(report, "mount /dev/shm");
}

/*
 * Must happen before the old root is detached: in a user namespace the
 * kernel only allows a new proc mount while a fully visible one exists in
 * the mount namespace (mount_too_revealing). It shows our PID namespace
 * and nothing of the host: subset=pid leaves out everything but the
 * process directories (no /proc/cmdline, version, config.gz, sys with the
 * boot id, meminfo or the host's mounts), and hidepid=invisible lists only
 * the processes of the caller's own uid, so init (a different uid when the
 * runner is root; non-dumpable either way) with its status pipe,
 * environment and memory maps is not even there. What interpreters read,
 * /proc/self (fd, maps, status, cgroup, mountinfo of the sandbox's own
 * mounts), stays. Both options need Linux 5.8: older kernels fail closed.
 *
 * A warm interpreter (runner/warm.c), which never runs learner code, gets
 * the whole of its namespace's proc: the init of each run it forks writes
 * its namespace's limits through /proc/sys, and mounts the run's own proc,
 * which the kernel allows in a user namespace only while a fully visible
 * one is mounted.
 */
static void mount_proc(const struct sandbox_init_spec *s)
{
	unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;

	make_dir(s->status_fd, "proc", 0555);
	if (mount("proc", "proc", "proc", flags, s->zygote ? "hidepid=invisible" : "subset=pid,hidepid=invisible") < 0)
		sandbox_child_die(s->status_fd, "mount /proc");
}

/* noexec: a binary the code writes there cannot be run (it could only do
 * what the interpreter already can, but a dropped ELF is the first step of
 * most kernel exploits' tooling). */
static void mount_workdir(const struct sandbox_init_spec *s)
{
	make_dir(s->status_fd, "tmp", 01777);
	if (mount("tmpfs", "tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, s->tmp_opts) < 0)
		sandbox_child_die(s->status_fd, "mount /tmp");
}

static void write_file(int report, int dir, const char *name, const char *data, size_t len, mode_t mode)
{
	int fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);

	if (fd < 0 || sandbox_child_write_all(fd, data, len) < 0)
		sandbox_child_die(report, "write a file of /app");
	close(fd);
}

/* Copies the first n bytes of name after prefix into buf (NUL-terminated). */
static void join(int report, char *buf, size_t size, const char *prefix, const char *name, size_t n)
{
	size_t p = strlen(prefix);

	if (p + n + 1 > size)
		sandbox_child_die(report, "a session file's path is too long");
	memcpy(buf, prefix, p);
	memcpy(buf + p, name, n);
	buf[p + n] = '\0';
}

/*
 * A session's file at its relative path below dir, its directories made
 * on the way. The API checked the path (no "..", no empty or "." segment,
 * no file that is a directory of another); O_NOFOLLOW and O_EXCL all the
 * same, as everywhere init creates a file.
 */
static void write_tree_file(int report, int dir, const struct sandbox_file *f)
{
	const char *p = f->name, *slash;
	int cur = dir;
	char seg[256];

	while ((slash = strchr(p, '/'))) {
		int next;

		join(report, seg, sizeof seg, "", p, (size_t)(slash - p));
		if (mkdirat(cur, seg, 0755) < 0 && errno != EEXIST)
			sandbox_child_die(report, "create a directory of /app");
		next = openat(cur, seg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cur != dir)
			close(cur);
		if (next < 0)
			sandbox_child_die(report, "open a directory of /app");
		cur = next;
		p = slash + 1;
	}
	write_file(report, cur, p, f->data, f->len, 0444);
	if (cur != dir)
		close(cur);
}

/* Whether file i's top-level name (n bytes) is one an earlier file already has. */
static bool top_seen(const struct sandbox_init_spec *s, int i, size_t n)
{
	for (int j = 0; j < i; j++) {
		const char *other = s->app_files[j].name;

		if (strncmp(other, s->app_files[i].name, n) == 0 && (other[n] == '/' || other[n] == '\0'))
			return true;
	}
	return false;
}

/*
 * The session's files in the working directory as well, where a program
 * opens "data.csv": each top-level file or directory of them in /app is
 * bound read-only at the same name in /tmp. A bind, not a copy: the
 * program can neither change nor replace it (a mount point cannot be
 * unlinked or renamed over), and it costs no room in /tmp.
 */
static void bind_app_files(const struct sandbox_init_spec *s)
{
	char src[256 + 8], dst[256 + 8];

	for (int i = 0; i < s->napp_files; i++) {
		const char *name = s->app_files[i].name;
		const char *slash = strchr(name, '/');
		size_t n = slash ? (size_t)(slash - name) : strlen(name);

		if (top_seen(s, i, n))
			continue;
		join(s->status_fd, src, sizeof src, "app/", name, n);
		join(s->status_fd, dst, sizeof dst, "tmp/", name, n);
		if (slash)
			make_dir(s->status_fd, dst, 0755);
		else
			create_file(s->status_fd, dst, 0444);
		bind_ro(s->status_fd, src, dst, "bind a session file into /tmp");
	}
}

/*
 * A prepared run's files (sandbox_prepare): the runner sends them once the
 * run is claimed, or its compile has made them, and init waits for them
 * here, with the rest of the root built. The mapping lives as long as init.
 */
static void receive_files(struct sandbox_init_spec *s)
{
	char byte;
	int fd;

	if (sandbox_child_receive(s->files_fd, &byte, 1, &fd, 1) != 1)
		_exit(0);               /* abandoned (EOF): nothing is to run here */
	close(s->files_fd);
	s->files_fd = -1;
	if (sandbox_files_map(fd, s) < 0)
		sandbox_child_die(s->status_fd, "read the run's files");
	close(fd);
}

/* Read-only for the payload twice over: mode 0444 (0555 for a compiled
 * program), and the root tmpfs is remounted read-only (the payload may own
 * the files when the runner is not root). */
static void write_app(struct sandbox_init_spec *s)
{
	int dir;

	if (s->files_fd >= 0)
		receive_files(s);
	make_dir(s->status_fd, "app", 0755);
	dir = open("app", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0)
		sandbox_child_die(s->status_fd, "open /app");
	write_file(s->status_fd, dir, s->source_name, s->source, s->source_len, 0444);
	for (int i = 0; i < s->nfiles; i++)
		write_file(s->status_fd, dir, s->files[i].name, s->files[i].data, s->files[i].len,
			   s->files[i].exec ? 0555 : 0444);
	for (int i = 0; i < s->napp_files; i++)
		write_tree_file(s->status_fd, dir, &s->app_files[i]);
	close(dir);
}

/* A run's out/: its artifacts, on a tmpfs of their own limits (size and
 * inodes), so a flood ends in ENOSPC as it is written, never on the host. */
static void mount_out(const struct sandbox_init_spec *s)
{
	make_dir(s->status_fd, "tmp/out", 0755);
	if (mount("tmpfs", "tmp/out", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, s->out_opts) < 0)
		sandbox_child_die(s->status_fd, "mount /tmp/out");
}

/* Where a compiler leaves what the run needs: writable by the payload. */
static void make_out_dir(int report)
{
	make_dir(report, "tmp/out", 0777);
	if (chmod("tmp/out", 0777) < 0)         /* past init's umask */
		sandbox_child_die(report, "chmod /tmp/out");
}

/*
 * Creates every directory of path (absolute) below the new root, e.g.
 * "etc/java-17-openjdk" for "/etc/java-17-openjdk". Needs no formatting:
 * path is copied component by component into a stack buffer.
 */
static void make_dirs(int report, const char *path, char *rel, size_t size)
{
	size_t n = 0;

	for (const char *p = path + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			rel[n] = '\0';
			if (n > 0 && mkdir(rel, 0755) < 0 && errno != EEXIST)
				sandbox_child_die(report, "create a mount point");
			if (*p == '\0')
				return;
		}
		if (n + 1 >= size)
			sandbox_child_die(report, "mount path too long");
		rel[n++] = *p;
	}
}

/* A language's extra host directories (a JVM's /etc/java-17-openjdk):
 * bound read-only like /usr, at the same path. */
static void bind_mounts(const struct sandbox_init_spec *s)
{
	for (int i = 0; i < s->nmounts; i++) {
		char rel[256];

		make_dirs(s->status_fd, s->mounts[i], rel, sizeof rel);
		bind_ro(s->status_fd, s->mounts[i], rel, "bind a language's directory");
	}
}

/*
 * pivot_root(".", ".") stacks the old root on top of the new one; detaching
 * it leaves the new root alone, with no put_old directory to clean up (see
 * pivot_root(2)). Detaching also drops the host's locked mounts from view.
 */
static void pivot(int report)
{
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		sandbox_child_die(report, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		sandbox_child_die(report, "detach the old root");
	if (chdir("/") < 0)
		sandbox_child_die(report, "chdir /");
}

static void seal_root(int report)
{
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
		sandbox_child_die(report, "remount / read-only");
}

void sandbox_build_root(struct sandbox_init_spec *s)
{
	int report = s->status_fd;

	make_mounts_private(report);
	mount_new_root(s);
	bind_usr(report);
	make_dir(report, "etc", 0755);
	make_dev(s);
	make_symlinks(report);
	mount_proc(s);
	bind_mounts(s);
	mount_workdir(s);
	if (s->compile)
		make_out_dir(report);
	else if (s->out_opts[0])
		mount_out(s);
	write_app(s);
	bind_app_files(s);
	pivot(report);
	seal_root(report);
}
