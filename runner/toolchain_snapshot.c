/* A toolchain's start-up snapshot (toolchain_snapshot.h). */
#include "toolchain_snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fnv.h"
#include "lang_run.h"
#include "log.h"
#include "sandbox_fail.h"

enum { SNAPSHOT_FILES = 8 };

/* A build that failed is tried again at a start this long after, not at
 * every start: on a slow host a build that cannot end in the compile's
 * wall time would hold up every start by that much. */
#define SNAPSHOT_RETRY_S (24 * 3600)

struct snapshot {
	char *script;                   /* snapshot_script's text */
	size_t script_len;
	char dir[LANG_PATH_MAX - LANG_ID_MAX - 32];     /* snapshot_dir */
	char name[LANG_ID_MAX + 32];    /* <id>-<key> */
	char path[LANG_PATH_MAX];       /* dir/name: the build's files */
};

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (text = malloc((size_t)n + 1)) && fread(text, 1, (size_t)n, f) == (size_t)n) {
		text[n] = '\0';
		*len = (size_t)n;
	} else {
		free(text);
		text = NULL;
	}
	fclose(f);
	return text;
}

/* What the image depends on: the toolchain's program file (the first
 * word of the command), its version, the command and the script. */
static int snapshot_key(const struct language *l, const struct snapshot *s, uint64_t *key)
{
	struct stat st;
	uint64_t h = FNV_OFFSET;

	if (stat(l->snapshot.argv[0], &st) < 0)
		return -1;
	h = fnv1a(h, &st.st_ino, sizeof st.st_ino);
	h = fnv1a(h, &st.st_size, sizeof st.st_size);
	h = fnv1a(h, &st.st_mtim, sizeof st.st_mtim);
	h = fnv1a(h, l->version_text, strlen(l->version_text) + 1);
	for (int i = 0; i < l->snapshot.n; i++)
		h = fnv1a(h, l->snapshot.argv[i], strlen(l->snapshot.argv[i]) + 1);
	*key = fnv1a_words(h, s->script, s->script_len);
	return 0;
}

/*
 * dir made (0755) and written as an absolute path without links, which
 * every sandbox can reach: it binds dir at that path, as a user that only
 * "others" permissions let in. Returns 0, or -1 with errno set.
 */
static int absolute_dir(char *dir, size_t size)
{
	char real[PATH_MAX];
	struct stat st;

	if (mkdir(dir, 0755) == 0)
		chmod(dir, 0755);       /* whatever the umask */
	else if (errno != EEXIST)
		return -1;
	if (!realpath(dir, real))
		return -1;
	if (strlen(real) >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(dir, real);
	for (char *p = real + strlen(real); p > real; p = strrchr(real, '/')) {
		*p = '\0';
		if (stat(real[0] ? real : "/", &st) < 0)
			return -1;
		if (!(st.st_mode & S_IXOTH)) {
			errno = EACCES;
			return -1;
		}
	}
	return 0;
}

static int snapshot_locate(const struct config *cfg, const struct language *l, struct snapshot *s)
{
	uint64_t key;
	int n;

	if (cfg->snapshot_dir[0])
		n = snprintf(s->dir, sizeof s->dir, "%s", cfg->snapshot_dir);
	else
		n = config_data_path(cfg, "snapshots", s->dir, sizeof s->dir) ? -1 : (int)strlen(s->dir);
	if (n < 0 || (size_t)n >= sizeof s->dir || snapshot_key(l, s, &key) < 0 || absolute_dir(s->dir, sizeof s->dir) < 0)
		return -1;
	snprintf(s->name, sizeof s->name, "%s-%016" PRIx64, l->id, key);
	n = snprintf(s->path, sizeof s->path, "%s/%s", s->dir, s->name);
	return n < 0 || (size_t)n >= sizeof s->path ? -1 : 0;
}

/* A snapshot's directory and its files (it holds no directories); a
 * file of that name, if that is what is there. */
static void remove_snapshot(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (!d && errno == ENOTDIR)
		unlink(path);
	if (d) {
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, ".."))
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	rmdir(path);
}

/* The language's snapshots of other toolchains or scripts, and builds
 * that never ended, go: each is megabytes. */
static void drop_others(const struct language *l, const struct snapshot *s)
{
	DIR *d = opendir(s->dir);
	size_t id_len = strlen(l->id);
	struct dirent *e;
	char path[LANG_PATH_MAX + 256];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, l->id, id_len) != 0 || e->d_name[id_len] != '-' ||
		    strcmp(e->d_name, s->name) == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", s->dir, e->d_name);
		remove_snapshot(path);
		log_info("language %s: old snapshot %s removed", l->id, e->d_name);
	}
	closedir(d);
}

static int write_file(int dirfd, const struct sandbox_file *f)
{
	int fd = openat(dirfd, f->name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int rc;

	if (fd < 0)
		return -1;
	rc = fchmod(fd, 0644) < 0 || sandbox_child_write_all(fd, f->data, f->len) < 0 ? -1 : 0;
	return close(fd) < 0 ? -1 : rc;
}

/* The build's files into s->path, readable by every sandbox, whole or
 * not at all (written beside it, then renamed into place). */
static int snapshot_write(const struct snapshot *s, const struct sandbox_file *files, int n)
{
	char tmp[LANG_PATH_MAX + 32];
	int dfd, rc = 0;

	snprintf(tmp, sizeof tmp, "%s.%ld.tmp", s->path, (long)getpid());
	remove_snapshot(tmp);
	if (mkdir(tmp, 0755) < 0 || chmod(tmp, 0755) < 0 || (dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	for (int i = 0; rc == 0 && i < n; i++)
		rc = write_file(dfd, &files[i]);
	close(dfd);
	remove_snapshot(s->path);       /* one that failed its trial */
	if (rc == 0 && rename(tmp, s->path) < 0)
		rc = -1;
	if (rc < 0)
		remove_snapshot(tmp);
	return rc;
}

/* A failed build's marker: <dir>/<id>-<key>.failed, holding why. */
static void failed_marker(const struct snapshot *s, char *path, size_t size)
{
	snprintf(path, size, "%s.failed", s->path);
}

static bool failed_lately(const struct snapshot *s, char *why, size_t whylen)
{
	char path[LANG_PATH_MAX + 8];
	struct stat st;

	failed_marker(s, path, sizeof path);
	if (stat(path, &st) < 0 || time(NULL) - st.st_mtime >= SNAPSHOT_RETRY_S)
		return false;
	snprintf(why, whylen, "its build failed here before (%.300s says why; tried again a day after, "
		 "or at the next start once it is removed)", path);
	return true;
}

static void mark_failed(const struct snapshot *s, const char *why)
{
	char path[LANG_PATH_MAX + 8];
	FILE *f;

	failed_marker(s, path, sizeof path);
	if ((f = fopen(path, "we"))) {
		fprintf(f, "%s\n", why);
		fclose(f);
	}
}

/* Runs the row's snapshot command on the script, like a compile. */
static int snapshot_build(const struct sandbox_host *host, const struct config *cfg, const struct language *l,
			  const struct snapshot *s, char *why, size_t whylen)
{
	const char *script_name = l->snapshot_script[0] ? strrchr(l->snapshot_script, '/') + 1 : l->file;
	struct lang_input in = { .source = s->script, .source_len = s->script_len };
	struct sandbox_limits limits;
	struct sandbox_job job;
	struct sandbox_result res;
	struct sandbox_file files[SNAPSHOT_FILES];
	int n = 0, rc = -1;

	lang_compile_limits(cfg, l, &limits);
	lang_job(l, &in, &job);
	job.file_name = script_name;
	job.argv = (const char *const *)l->snapshot.argv;
	job.workdir = "/app";
	job.compile = true;
	job.artifact_limit = (size_t)limits.tmpfs_mb << 20;
	job.limits = &limits;
	if (sandbox_run(host, &job, &res) < 0 || res.outcome == SANDBOX_SETUP_FAILED)
		snprintf(why, whylen, "its sandbox: %s", res.message);
	else if (res.outcome != SANDBOX_EXITED || res.exit_code != 0)
		snprintf(why, whylen, "the build ended with status %d (signal %d): %.200s", res.exit_code,
			 res.signal, res.err_len ? res.err : "");
	else if ((n = sandbox_artifacts_parse(res.out, res.out_len, files, SNAPSHOT_FILES)) < 1)
		snprintf(why, whylen, "the build must leave 1 to %d files in /tmp/out", SNAPSHOT_FILES);
	else if (snapshot_write(s, files, n) < 0)
		snprintf(why, whylen, "%.300s: %s", s->path, strerror(errno));
	else
		rc = 0;
	sandbox_result_free(&res);
	return rc;
}

/* The row's check of an empty source, from the snapshot: exit 0, not a
 * word said (a toolchain that could not use it fails, or warns). */
static int snapshot_works(const struct sandbox_host *host, const struct config *cfg, const struct language *l,
			  char *why, size_t whylen)
{
	struct lang_input in = { .source = "" };
	struct sandbox_result res;
	char *diagnostics;
	int rc = -1;

	if (lang_check(host, cfg, l, &in, &res, &diagnostics) < 0)
		snprintf(why, whylen, "a check of an empty source from it: %s", res.message);
	else if (res.outcome != SANDBOX_EXITED || res.exit_code != 0 || res.out_len || res.err_len)
		snprintf(why, whylen, "a check of an empty source from it: %.200s",
			 res.err_len ? res.err : res.out_len ? res.out : res.outcome == SANDBOX_SETUP_FAILED ?
			 res.message : "did not exit 0");
	else
		rc = 0;
	free(diagnostics);
	sandbox_result_free(&res);
	return rc;
}

/* l's compile and check with path in their "{snapshot}" words (NULL:
 * those words left out); the commands before, in *old. */
static int snapshot_commands(struct language *l, const char *path, struct lang_cmd old[2])
{
	struct lang_cmd *cmds[2] = { &l->compile, &l->check }, fresh[2];

	if (lang_cmd_snapshot(cmds[0], path, &fresh[0]) < 0)
		return -1;
	if (lang_cmd_snapshot(cmds[1], path, &fresh[1]) < 0) {
		lang_cmd_free(&fresh[0]);
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		old[i] = *cmds[i];
		*cmds[i] = fresh[i];
	}
	return 0;
}

static void commands_back(struct language *l, struct lang_cmd old[2])
{
	lang_cmd_free(&l->compile);
	lang_cmd_free(&l->check);
	l->compile = old[0];
	l->check = old[1];
}

/* The snapshot's directory bound into l's sandboxes, its path in l's
 * commands; tried, and all taken back if it fails. */
static int snapshot_use(const struct sandbox_host *host, const struct config *cfg, struct language *l,
			const struct snapshot *s, char *why, size_t whylen)
{
	struct lang_cmd old[2];

	if (l->nmounts > LANG_MOUNTS || !(l->mounts[l->nmounts] = strdup(s->path))) {
		snprintf(why, whylen, "no room for its directory's mount");
		return -1;
	}
	l->nmounts++;
	if (snapshot_commands(l, s->path, old) < 0)
		snprintf(why, whylen, "its path does not fit in the commands");
	else if (snapshot_works(host, cfg, l, why, whylen) < 0)
		commands_back(l, old);
	else {
		lang_cmd_free(&old[0]);
		lang_cmd_free(&old[1]);
		return 0;
	}
	free(l->mounts[--l->nmounts]);
	l->mounts[l->nmounts] = NULL;
	return -1;
}

/* A new build (none yet, or one that failed its trial), tried; a failure is marked. */
static int build_and_use(const struct sandbox_host *host, const struct config *cfg, struct language *l,
			 const struct snapshot *s, char *why, size_t whylen)
{
	if (snapshot_build(host, cfg, l, s, why, whylen) == 0 && snapshot_use(host, cfg, l, s, why, whylen) == 0)
		return 0;
	mark_failed(s, why);
	return -1;
}

void toolchain_snapshot_none(struct language *l)
{
	struct lang_cmd old[2];

	if (snapshot_commands(l, NULL, old) == 0) {
		lang_cmd_free(&old[0]);
		lang_cmd_free(&old[1]);
	} else {
		l->available = false;   /* its commands would name a snapshot it has not */
		log_warn("language %s left out: out of memory", l->id);
	}
}

int toolchain_snapshot_ready(const struct sandbox_host *host, const struct config *cfg, struct language *l)
{
	struct snapshot s = { 0 };
	char why[512] = "";
	int rc = -1;

	if (!l->snapshot.n)
		return -1;
	if (!l->available)
		snprintf(why, sizeof why, "the toolchain is not here");
	else if (!(s.script = l->snapshot_script[0] ? read_file(l->snapshot_script, &s.script_len) : strdup("")))
		snprintf(why, sizeof why, "%.300s: %s", l->snapshot_script, strerror(errno));
	else if (snapshot_locate(cfg, l, &s) < 0)
		snprintf(why, sizeof why, "no directory for it that every sandbox can reach (%.300s: %s)",
			 s.dir[0] ? s.dir : l->snapshot.argv[0], strerror(errno));
	else if (access(s.path, X_OK) == 0 && snapshot_use(host, cfg, l, &s, why, sizeof why) == 0)
		rc = 0;
	else if (!failed_lately(&s, why, sizeof why))
		rc = build_and_use(host, cfg, l, &s, why, sizeof why);
	if (rc == 0) {
		drop_others(l, &s);
		log_info("language %s: compiles start from %s", l->id, s.path);
	} else {
		log_warn("language %s: no start-up snapshot, each compile loads the toolchain: %s", l->id, why);
		toolchain_snapshot_none(l);
	}
	free(s.script);
	return rc;
}
