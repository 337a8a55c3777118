/*
 * Per-execution cgroups on v1, v2 or a hybrid host (see cgroup.h).
 *
 * Everything a sandbox could influence is out of reach here: the cgroupfs
 * is never mounted inside a sandbox, the directories are created by the
 * runner (root) and every per-run access is relative to a directory fd
 * opened at start, with O_NOFOLLOW on the last component.
 */
#include "cgroup.h"
#include "limit_errors.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PARENT_PREFIX "engine-runner-"
#define V2_SELF "main"                  /* v2: the runner's own leaf, if it had to move */

enum {
	CPU_PERIOD_US = 100000,         /* cpu.max / cpu.cfs_period_us */
	CPU_WEIGHT_DEFAULT = 100,       /* v2 cpu.weight of a new cgroup */
	CPU_SHARES_DEFAULT = 1024,      /* v1 cpu.shares of a new cgroup */
	CPU_SHARES_MIN = 2,
	RMDIR_TRIES = 500,              /* x 2 ms: tasks still exiting after init's death */
	FILE_MAX = 4096,
};

static const char *const v1_names[CG__MAX] = { "memory", "pids", "cpuacct", "cpu" };
static atomic_ulong run_seq;
static atomic_uint host_seq;            /* more than one host per process: unit tests */

/* ---- small file helpers ---------------------------------------------- */

/* Writes text to dirfd/file in one write (cgroupfs takes a value whole). */
static int write_at(int dirfd, const char *file, const char *text)
{
	size_t len = strlen(text);
	int fd = openat(dirfd, file, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;
	int saved;

	if (fd < 0)
		return -1;
	n = write(fd, text, len);
	saved = n < 0 ? errno : EIO;
	close(fd);
	if (n == (ssize_t)len)
		return 0;
	errno = saved;
	return -1;
}

/* Reads dirfd/file (at most FILE_MAX - 1 bytes) into buf, NUL-terminated. */
static int read_at(int dirfd, const char *file, char *buf, size_t size)
{
	int fd = openat(dirfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return -1;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd);
	return 0;
}

/* The number after "key " on a line of a flat-keyed file; -1 if absent. */
static long long read_key(int dirfd, const char *file, const char *key)
{
	char buf[FILE_MAX];
	size_t klen = strlen(key);

	if (read_at(dirfd, file, buf, sizeof buf) < 0)
		return -1;
	for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
			return strtoll(line + klen + 1, NULL, 10);
	return -1;
}

static long long read_number(int dirfd, const char *file)
{
	char buf[64];

	return read_at(dirfd, file, buf, sizeof buf) < 0 ? -1 : strtoll(buf, NULL, 10);
}

/* True if word is one of the separated words of list. */
static bool has_word(const char *list, const char *word, const char *seps)
{
	size_t wlen = strlen(word);

	for (const char *p = list; *p; p += strcspn(p, seps), p += strspn(p, seps))
		if (strncmp(p, word, wlen) == 0 && (p[wlen] == '\0' || strchr(seps, p[wlen])))
			return true;
	return false;
}

/* ---- detection ------------------------------------------------------- */

/*
 * Finds the mount of fstype ("cgroup" or "cgroup2"; for v1, the hierarchy
 * holding ctrl) in mountinfo: its root inside the hierarchy and its mount
 * point. Mount points with escaped characters are not used.
 */
static int find_mount(const char *fstype, const char *ctrl, char *root, char *mnt, size_t size)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int rc = -1;

	if (!f)
		return -1;
	while (rc < 0 && fgets(line, sizeof line, f)) {
		char r[1024], m[1024], type[64], opts[1024];
		char *dash = strstr(line, " - ");

		if (!dash || sscanf(line, "%*s %*s %*s %1023s %1023s", r, m) != 2 ||
		    sscanf(dash + 3, "%63s %*s %1023s", type, opts) != 2 || strcmp(type, fstype) != 0)
			continue;
		if ((ctrl && !has_word(opts, ctrl, ",")) || strchr(m, '\\') || strchr(r, '\\'))
			continue;
		if (strlen(r) < size && strlen(m) < size) {
			memcpy(root, r, strlen(r) + 1);
			memcpy(mnt, m, strlen(m) + 1);
			rc = 0;
		}
	}
	fclose(f);
	return rc;
}

/* The runner's own cgroup in the hierarchy of ctrl (v1) or in v2 (NULL). */
static int own_cgroup(const char *ctrl, char *out, size_t size)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[4096];
	int rc = -1;

	if (!f)
		return -1;
	while (rc < 0 && fgets(line, sizeof line, f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2)
			continue;
		*c2 = '\0';
		line[strcspn(line, "\n")] = '\0';
		c2[1 + strcspn(c2 + 1, "\n")] = '\0';
		/* v2's line is "0::PATH": hierarchy 0, no controllers. */
		if (ctrl ? has_word(c1 + 1, ctrl, ",") : (c1 == line + 1 && line[0] == '0' && c1[1] == '\0'))
			rc = snprintf(out, size, "%s", c2 + 1) < (int)size ? 0 : -1;
	}
	fclose(f);
	return rc;
}

/* The directory of the runner's own cgroup: mount point + path below the
 * mount's root (a container may see only a subtree of the hierarchy). */
static int own_dir(const char *fstype, const char *ctrl, char *out, size_t size)
{
	char root[1024], mnt[1024], own[1024];
	size_t rlen;

	if (find_mount(fstype, ctrl, root, mnt, sizeof root) < 0 ||
	    own_cgroup(ctrl, own, sizeof own) < 0)
		return -1;
	rlen = strcmp(root, "/") == 0 ? 0 : strlen(root);
	if (strncmp(own, root, rlen) != 0 || (own[rlen] != '/' && own[rlen] != '\0'))
		return -1;
	return snprintf(out, size, "%s%s", mnt, own + rlen) < (int)size ? 0 : -1;
}

/* ---- parents --------------------------------------------------------- */

/* rmdir of every subdirectory of dirfd (cgroups: no files to delete). */
static void remove_children(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)))
		if (e->d_type == DT_DIR && e->d_name[0] != '.')
			unlinkat(dirfd, e->d_name, AT_REMOVEDIR);
	closedir(d);
}

/* Removes engine-runner-<pid>[-<n>] directories under dir whose runner is gone. */
static void sweep_stale(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		const char *num = e->d_name + strlen(PARENT_PREFIX);
		char *end;
		long pid;
		int fd;

		if (strncmp(e->d_name, PARENT_PREFIX, strlen(PARENT_PREFIX)) != 0 || !isdigit((unsigned char)*num))
			continue;
		pid = strtol(num, &end, 10);
		if ((*end && *end != '-') || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 ||
		    errno != ESRCH)
			continue;
		fd = openat(dirfd(d), e->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			remove_children(fd);
			close(fd);
		}
		unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

/* Creates dir/<h->name>; *fd becomes an O_PATH fd of it. */
static int make_parent(const struct cgroup_host *h, const char *dir, int *fd, char *where, size_t wsize)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof path, "%s/%s", dir, h->name) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	sweep_stale(dir);
	bool existed = mkdir(path, 0755) < 0;

	if (existed && errno != EEXIST)
		return -1;
	*fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0)
		return -1;
	if (existed)            /* left by a dead runner that had our pid */
		remove_children(*fd);
	if (where)
		snprintf(where, wsize, "%.200s", path);
	return 0;
}

void cgroup_host_none(struct cgroup_host *h)
{
	memset(h, 0, sizeof *h);
	for (int i = 0; i < CG__MAX; i++)
		h->parent_fd[i] = -1;
}

static int fail(char *err, size_t errlen, const char *what, const char *dir)
{
	char buf[128];
	int e = errno;

	snprintf(err, errlen, "%s %.200s: %s", what, dir, strerror_r(e, buf, sizeof buf));
	errno = e;
	return -1;
}

/*
 * The runner's parent in the v1 cpu hierarchy competes with every other
 * task of the runner's cgroup (lighttpd, the pool, the runner itself) as one
 * entity: give it the weight of one busy task per CPU, so sandboxes as a
 * whole can still fill the machine instead of one task's share of it.
 */
static void weigh_cpu_parent(int parent_fd)
{
	char text[32];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	snprintf(text, sizeof text, "%ld", 1024 * (cpus > 0 ? cpus : 1));
	if (write_at(parent_fd, "cpu.shares", text) < 0)
		limit_error("write cpu.shares of the runner's parent cgroup", text, errno);
}

int cgroup_v1_cpu_ceiling(int dirfd)
{
	int ceiling = 0;
	int fd = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);

	/* Up to the hierarchy's root: above it there is no cpu.cfs_period_us. */
	for (int depth = 0; fd >= 0 && depth < 64; depth++) {
		long long quota = read_number(fd, "cpu.cfs_quota_us");
		long long period = read_number(fd, "cpu.cfs_period_us");
		int up;

		if (period <= 0)
			break;
		if (quota > 0) {
			long long pct = quota * 100 / period;
			int cap = pct < 1 ? 1 : pct > INT_MAX ? INT_MAX : (int)pct;

			if (ceiling == 0 || cap < ceiling)
				ceiling = cap;
		}
		up = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = up;
	}
	if (fd >= 0)
		close(fd);
	return ceiling;
}

/* v1: memory and pids are required, cpuacct and cpu are used when mounted. */
static int init_v1(struct cgroup_host *h, char *err, size_t errlen)
{
	char dir[PATH_MAX];

	for (int c = 0; c < CG__MAX; c++) {
		if (own_dir("cgroup", v1_names[c], dir, sizeof dir) < 0) {
			if (c == CG_CPUACCT || c == CG_CPU)
				continue;
			snprintf(err, errlen, "no cgroup v1 %s hierarchy mounted", v1_names[c]);
			return -1;
		}
		if (make_parent(h, dir, &h->parent_fd[c], c == CG_MEMORY ? h->where : NULL, sizeof h->where) < 0)
			return fail(err, errlen, "create a cgroup under", dir);
	}
	h->memsw = faccessat(h->parent_fd[CG_MEMORY], "memory.memsw.limit_in_bytes", F_OK, 0) == 0;
	h->cpu = h->parent_fd[CG_CPU] >= 0;
	if (h->cpu) {
		weigh_cpu_parent(h->parent_fd[CG_CPU]);
		h->cpu_ceiling = cgroup_v1_cpu_ceiling(h->parent_fd[CG_CPU]);
	}
	h->version = CGROUP_V1;
	return 0;
}

/* Enables memory and pids (and cpu if asked) for the children of dirfd's
 * cgroup (v2). */
static int enable_controllers(int dirfd, bool cpu)
{
	char buf[256];

	if (read_at(dirfd, "cgroup.subtree_control", buf, sizeof buf) == 0 &&
	    has_word(buf, "memory", " \n") && has_word(buf, "pids", " \n") &&
	    (!cpu || has_word(buf, "cpu", " \n")))
		return 0;
	return write_at(dirfd, "cgroup.subtree_control", cpu ? "+memory +pids +cpu" : "+memory +pids");
}

/*
 * cgroup v2's "no internal processes" rule: a cgroup other than the root
 * can give controllers to its children only while it holds no process. A
 * runner alone in its cgroup (systemd Delegate=yes) therefore moves itself
 * into a leaf "main" of its parent first; if others share the cgroup, it
 * moves back and cgroups cannot be used.
 */
static int delegate(int own, int parent, bool cpu)
{
	char pid[32];
	int self, e;

	if (enable_controllers(own, cpu) == 0)
		return 0;
	if (errno != EBUSY)
		return -1;
	snprintf(pid, sizeof pid, "%ld", (long)getpid());
	if (mkdirat(parent, V2_SELF, 0755) < 0 && errno != EEXIST)
		return -1;
	if ((self = openat(parent, V2_SELF, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	if (write_at(self, "cgroup.procs", pid) == 0 && enable_controllers(own, cpu) == 0) {
		close(self);
		return 0;
	}
	e = errno;
	write_at(own, "cgroup.procs", pid);
	close(self);
	unlinkat(parent, V2_SELF, AT_REMOVEDIR);
	errno = e;
	return -1;
}

/*
 * Hands memory, pids and, where the runner's cgroup has it, cpu down to the
 * runs. The cpu controller can be refused where memory and pids are not
 * (real-time tasks in the subtree, an older delegation): then runs have no
 * CPU cap, which is logged and counted, not a reason to refuse cgroups.
 */
static int delegate_v2(struct cgroup_host *h, int own, bool cpu)
{
	int parent = h->parent_fd[CG_MEMORY];

	if (cpu && delegate(own, parent, true) == 0 && enable_controllers(parent, true) == 0) {
		h->cpu = true;
		return 0;
	}
	if (cpu)
		limit_error("enable the cpu controller for the runs (they get no CPU cap)", NULL, errno);
	return delegate(own, parent, false) == 0 && enable_controllers(parent, false) == 0 ? 0 : -1;
}

static int init_v2(struct cgroup_host *h, char *err, size_t errlen)
{
	char dir[PATH_MAX], buf[256];
	int own, rc = -1;

	if (own_dir("cgroup2", NULL, dir, sizeof dir) < 0) {
		snprintf(err, errlen, "no cgroup v2 mount");
		return -1;
	}
	if ((own = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return fail(err, errlen, "open", dir);
	if (read_at(own, "cgroup.controllers", buf, sizeof buf) < 0 ||
	    !has_word(buf, "memory", " \n") || !has_word(buf, "pids", " \n"))
		snprintf(err, errlen, "cgroup v2 %.200s: memory and pids controllers not available", dir);
	else if (make_parent(h, dir, &h->parent_fd[CG_MEMORY], h->where, sizeof h->where) < 0)
		fail(err, errlen, "create a cgroup under", dir);
	else if ((rc = delegate_v2(h, own, has_word(buf, "cpu", " \n"))) < 0)
		fail(err, errlen, "enable memory and pids (needs a delegated cgroup) below", dir);
	if (rc == 0)
		h->version = CGROUP_V2;
	close(own);
	return rc;
}

int cgroup_host_init(struct cgroup_host *h, char *err, size_t errlen)
{
	char err2[320], name[sizeof h->name];
	unsigned n_host = atomic_fetch_add(&host_seq, 1);
	size_t n;

	if (n_host == 0)
		snprintf(name, sizeof name, PARENT_PREFIX "%ld", (long)getpid());
	else
		snprintf(name, sizeof name, PARENT_PREFIX "%ld-%u", (long)getpid(), n_host);
	cgroup_host_none(h);
	memcpy(h->name, name, sizeof name);
	if (init_v2(h, err2, sizeof err2) == 0)
		return 0;
	cgroup_host_fini(h);
	memcpy(h->name, name, sizeof name);
	if (init_v1(h, err, errlen) == 0)
		return 0;
	cgroup_host_fini(h);
	n = strlen(err);
	snprintf(err + n, errlen - n, "; %s", err2);
	return -1;
}

void cgroup_host_fini(struct cgroup_host *h)
{
	for (int c = 0; c < CG__MAX; c++) {
		int up;

		if (h->parent_fd[c] < 0)
			continue;
		up = openat(h->parent_fd[c], "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		close(h->parent_fd[c]);
		if (up >= 0) {
			unlinkat(up, h->name, AT_REMOVEDIR);    /* v2: fails while we sit in "main" */
			close(up);
		}
	}
	cgroup_host_none(h);
}

/* ---- one run --------------------------------------------------------- */

void cgroup_run_init(struct cgroup_run *run)
{
	memset(run, 0, sizeof *run);
	for (int c = 0; c < CG__MAX; c++)
		run->parent_fd[c] = run->dir_fd[c] = -1;
}

/*
 * The CPU cap: cpu_percent of one CPU's time per period, however many
 * processes the run has (a 4-process spin gets one CPU's worth, not four),
 * never above a cap the runner's own cgroup is held to on v1.
 */
static int set_cpu_cap(const struct cgroup_run *run, int cpu_percent, const char **what)
{
	char quota[48];
	long us;

	if (!run->cpu || cpu_percent <= 0)
		return 0;
	if (run->cpu_ceiling > 0 && cpu_percent > run->cpu_ceiling)
		cpu_percent = run->cpu_ceiling;
	us = (long)cpu_percent * CPU_PERIOD_US / 100;
	if (run->version == CGROUP_V2) {
		*what = "cgroup cpu.max";
		snprintf(quota, sizeof quota, "%ld %d", us, CPU_PERIOD_US);
		return write_at(run->dir_fd[CG_MEMORY], "cpu.max", quota);
	}
	*what = "cgroup cpu.cfs_period_us";
	snprintf(quota, sizeof quota, "%d", CPU_PERIOD_US);
	if (write_at(run->dir_fd[CG_CPU], "cpu.cfs_period_us", quota) < 0)
		return -1;
	*what = "cgroup cpu.cfs_quota_us";
	snprintf(quota, sizeof quota, "%ld", us);
	return write_at(run->dir_fd[CG_CPU], "cpu.cfs_quota_us", quota);
}

/*
 * The run's CPU weight, when not the default: its share of the CPU when
 * runs compete for it (cgroup_run_demote_cpu lowers it further later).
 */
static int set_cpu_weight(const struct cgroup_run *run, int weight, const char **what)
{
	if (!run->cpu || weight <= 0 || weight == CPU_WEIGHT_DEFAULT)
		return 0;
	*what = run->version == CGROUP_V2 ? "cgroup cpu.weight" : "cgroup cpu.shares";
	return cgroup_run_weigh(run, weight);
}

int cgroup_run_weigh(const struct cgroup_run *run, int weight)
{
	char text[24];
	int shares;

	if (!run->cpu || run->version == CGROUP_NONE)
		return 0;
	if (weight <= 0)
		weight = CPU_WEIGHT_DEFAULT;
	if (run->version == CGROUP_V2) {
		snprintf(text, sizeof text, "%d", weight);
		return write_at(run->dir_fd[CG_MEMORY], "cpu.weight", text);
	}
	shares = weight * CPU_SHARES_DEFAULT / CPU_WEIGHT_DEFAULT;
	snprintf(text, sizeof text, "%d", shares > CPU_SHARES_MIN ? shares : CPU_SHARES_MIN);
	return write_at(run->dir_fd[CG_CPU], "cpu.shares", text);
}

static int set_limits(const struct cgroup_host *h, const struct cgroup_run *run,
		      const struct cgroup_limits *lim, const char **what)
{
	int m = run->dir_fd[CG_MEMORY];
	int p = run->version == CGROUP_V2 ? m : run->dir_fd[CG_PIDS];
	char mtext[32], ptext[32];

	snprintf(mtext, sizeof mtext, "%" PRId64, lim->memory_bytes);
	snprintf(ptext, sizeof ptext, "%ld", lim->max_pids);
	*what = "cgroup memory limit";
	if (write_at(m, run->version == CGROUP_V2 ? "memory.max" : "memory.limit_in_bytes", mtext) < 0)
		return -1;
	/* No swap: a swapping sandbox would escape its budget and slow the
	 * host. v2 budgets swap apart (0 = none); v1's memsw is memory plus
	 * swap, so the same value as the limit means none (and must be written
	 * after limit_in_bytes, which may never exceed it). */
	*what = "cgroup swap limit";
	if (run->version == CGROUP_V2 && write_at(m, "memory.swap.max", "0") < 0 && errno != ENOENT)
		return -1;
	if (run->version == CGROUP_V1 && h->memsw && write_at(m, "memory.memsw.limit_in_bytes", mtext) < 0)
		return -1;
	*what = "cgroup pids.max";
	if (write_at(p, "pids.max", ptext) < 0)
		return -1;
	if (set_cpu_weight(run, lim->cpu_weight, what) < 0)
		return -1;
	return set_cpu_cap(run, lim->cpu_percent, what);
}

int cgroup_run_create(const struct cgroup_host *h, int slot, const struct cgroup_limits *lim,
		      struct cgroup_run *run, const char **what)
{
	return cgroup_run_create_as(h, "slot", slot, lim, run, what);
}

int cgroup_run_create_as(const struct cgroup_host *h, const char *kind, int slot,
			 const struct cgroup_limits *lim, struct cgroup_run *run, const char **what)
{
	int e;

	cgroup_run_init(run);
	run->version = h->version;
	run->cpu = h->cpu;
	run->cpu_ceiling = h->cpu_ceiling;
	snprintf(run->name, sizeof run->name, "%s%d-%lu", kind, slot, atomic_fetch_add(&run_seq, 1) + 1);
	*what = "create the run's cgroup";
	for (int c = 0; c < CG__MAX; c++) {
		if ((run->parent_fd[c] = h->parent_fd[c]) < 0)
			continue;
		if (mkdirat(h->parent_fd[c], run->name, 0755) < 0)
			goto fail;
		run->dir_fd[c] = openat(h->parent_fd[c], run->name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (run->dir_fd[c] < 0)
			goto fail;
	}
	if (set_limits(h, run, lim, what) == 0)
		return 0;
fail:
	e = errno;
	cgroup_run_destroy(run);
	errno = e;
	return -1;
}

int cgroup_run_join(const struct cgroup_run *run, pid_t pid)
{
	char text[32];

	snprintf(text, sizeof text, "%d", (int)pid);
	for (int c = 0; c < CG__MAX; c++)
		if (run->dir_fd[c] >= 0 && write_at(run->dir_fd[c], "cgroup.procs", text) < 0)
			return -1;
	return 0;
}

pid_t cgroup_run_fork_into(const struct cgroup_run *run)
{
	struct clone_args args = {
		.flags = CLONE_INTO_CGROUP,
		.exit_signal = SIGCHLD,
	};

	if (run->version != CGROUP_V2 || run->dir_fd[CG_MEMORY] < 0) {
		errno = ENOTSUP;
		return -1;
	}
	args.cgroup = (uint64_t)run->dir_fd[CG_MEMORY];
	return (pid_t)syscall(SYS_clone3, &args, sizeof args);
}

int64_t cgroup_run_cpu_ms(const struct cgroup_run *run)
{
	long long v = -1;

	if (run->version == CGROUP_V2)
		v = read_key(run->dir_fd[CG_MEMORY], "cpu.stat", "usage_usec") / 1000;
	else if (run->version == CGROUP_V1 && run->dir_fd[CG_CPUACCT] >= 0)
		v = read_number(run->dir_fd[CG_CPUACCT], "cpuacct.usage") / 1000000;
	return v < 0 ? -1 : v;
}

void cgroup_run_stats(const struct cgroup_run *run, struct cgroup_stats *st)
{
	int mem = run->dir_fd[CG_MEMORY], cpu = run->dir_fd[CG_CPUACCT];
	long long peak = -1, cpu_v = -1;

	st->oom_kills = -1;
	if (run->version == CGROUP_V2) {
		st->oom_kills = (long)read_key(mem, "memory.events", "oom_kill");
		peak = read_number(mem, "memory.peak");                 /* Linux >= 5.19 */
		cpu_v = read_key(mem, "cpu.stat", "usage_usec");
		cpu_v = cpu_v < 0 ? -1 : cpu_v / 1000;
	} else if (run->version == CGROUP_V1) {
		st->oom_kills = (long)read_key(mem, "memory.oom_control", "oom_kill");  /* >= 4.13 */
		peak = read_number(mem, "memory.max_usage_in_bytes");
		cpu_v = cpu >= 0 ? read_number(cpu, "cpuacct.usage") : -1;
		cpu_v = cpu_v < 0 ? -1 : cpu_v / 1000000;
	}
	st->peak_kb = peak < 0 ? -1 : (long)(peak / 1024);
	st->cpu_ms = cpu_v;
}

int cgroup_run_demote_cpu(const struct cgroup_run *run)
{
	if (!run->cpu)
		return 0;
	if (run->version == CGROUP_V2)
		return write_at(run->dir_fd[CG_MEMORY], "cpu.weight", "1");
	return write_at(run->dir_fd[CG_CPU], "cpu.shares", "2");
}

/* True if pid is listed in dirfd's cgroup.procs. */
static bool lists_pid(int dirfd, long pid)
{
	char buf[FILE_MAX], *end;

	if (read_at(dirfd, "cgroup.procs", buf, sizeof buf) < 0)
		return false;
	for (char *p = buf; *p; p = end) {
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (v == pid)
			return true;
	}
	return false;
}

/*
 * A backstop, normally idle: init's death took the PID namespace with it.
 * v2 has an atomic cgroup.kill. On v1 a pid read from cgroup.procs may be
 * reused by an unrelated host process before we signal it, so each pid is
 * pinned with a pidfd, confirmed to still be in the cgroup, and signalled
 * through the pidfd (which fails if the pinned process already died).
 */
static void kill_tasks(int dirfd, enum cgroup_version v)
{
	char buf[FILE_MAX], *end;

	if (v == CGROUP_V2 && write_at(dirfd, "cgroup.kill", "1") == 0)
		return;
	if (read_at(dirfd, "cgroup.procs", buf, sizeof buf) < 0)
		return;
	for (char *p = buf; *p; p = end) {
		long pid = strtol(p, &end, 10);
		int pfd;

		if (end == p)
			break;
		if (pid <= 0 || (pfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0)) < 0)
			continue;
		if (lists_pid(dirfd, pid))
			syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
		close(pfd);
	}
}

static int remove_dir(const struct cgroup_run *run, int c)
{
	const struct timespec pause = { 0, 2000000 };

	for (int i = 0; i < RMDIR_TRIES; i++) {
		if (unlinkat(run->parent_fd[c], run->name, AT_REMOVEDIR) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -1;
		if (run->dir_fd[c] >= 0 && i % 50 == 0)
			kill_tasks(run->dir_fd[c], run->version);
		nanosleep(&pause, NULL);
	}
	return -1;
}

int cgroup_run_destroy(struct cgroup_run *run)
{
	int rc = 0;

	for (int c = 0; run->name[0] && c < CG__MAX; c++)
		if (run->parent_fd[c] >= 0 && remove_dir(run, c) < 0)
			rc = -1;
	for (int c = 0; c < CG__MAX; c++)
		if (run->dir_fd[c] >= 0)
			close(run->dir_fd[c]);
	cgroup_run_init(run);
	return rc;
}
