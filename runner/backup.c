/*
 * Backup and restore of the store. SQLite: a copy of engine.db made with the
 * online backup API (common/store_sqlite_backup.c). PostgreSQL: pg_dump and
 * pg_restore, found on PATH, in their custom format. Either way a restore
 * ends by opening the store (which migrates a backup of an earlier release)
 * and queueing again what was running when the backup was taken: no runner
 * will ever report on those attempts.
 */
#include "backup.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "claims.h"
#include "store.h"
#include "store_sqlite_backup.h"
#include "util.h"

/* Runs argv (a pg_dump or pg_restore) and waits. Returns 0 if it exited 0. */
static int run_tool(const char *const argv[], char *err, size_t errlen)
{
	pid_t pid = fork();
	int status;

	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		execvp(argv[0], (char *const *)argv);   /* execvp does not write them */
		fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(err, errlen, "waitpid: %s", strerror(errno));
			return -1;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	snprintf(err, errlen, "%s failed (%s %d)", argv[0], WIFEXITED(status) ? "exit status" : "signal",
		 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return -1;
}

static int store_file(const struct config *cfg, const char *name, char *out, size_t outlen, char *err, size_t errlen)
{
	if (config_data_path(cfg, name, out, outlen) == 0)
		return 0;
	snprintf(err, errlen, "data_dir is too long");
	return -1;
}

int backup_store(const struct config *cfg, const char *file, char *err, size_t errlen)
{
	char tmp[CONFIG_PATH_MAX + 16], db[CONFIG_PATH_MAX + 32];
	mode_t old = umask(077);     /* a backup holds every learner's code */
	int rc = -1;

	if (access(file, F_OK) == 0) {
		snprintf(err, errlen, "%.400s exists: name a new file", file);
		goto out;
	}
	if (snprintf(tmp, sizeof tmp, "%s.partial", file) >= (int)sizeof tmp) {
		snprintf(err, errlen, "backup file name too long");
		goto out;
	}
	unlink(tmp);
	if (store_is_postgresql(cfg->store)) {
		const char *const argv[] = { "pg_dump", "--format=custom", "--no-owner", "--file", tmp,
				 "--dbname", cfg->store, NULL };
		if (run_tool(argv, err, errlen))
			goto out;
	} else {
		if (store_file(cfg, SQLITE_STORE_FILE, db, sizeof db, err, errlen))
			goto out;
		if (access(db, F_OK) != 0) {
			snprintf(err, errlen, "no store at %.400s: %s", db, strerror(errno));
			goto out;
		}
		if (sqlite_backup_copy(db, tmp, 0, err, errlen))
			goto out;
	}
	if (rename(tmp, file) != 0) {
		snprintf(err, errlen, "rename %.300s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	umask(old);
	return rc;
}

/* True if something accepts connections on the Unix socket at path. */
static int socket_answers(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof a.sun_path)
		return 0;
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* A running engine's runner, events program and FastCGI pool each listen on a socket in data_dir. */
static int data_dir_in_use(const char *dir, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int used = 0;

	if (!d)
		return 0;
	while (!used && (e = readdir(d))) {
		char path[CONFIG_PATH_MAX + 256];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && socket_answers(path)) {
			snprintf(err, errlen, "%.400s is in use: a running engine answers on %.200s; "
				 "stop it first", dir, e->d_name);
			used = 1;
		}
	}
	closedir(d);
	return used;
}

/* A runner elsewhere (a PostgreSQL store is shared by hosts) heartbeats in the store. */
static int store_in_use(const struct config *cfg, char *err, size_t errlen)
{
	char why[256];
	struct store *s = store_open(cfg, STORE_ROLE_RUNNER, why, sizeof why);
	int used = 0;

	if (!s)
		return 0;       /* nothing readable to protect: the restore replaces it */
	struct store_query *q = store_query(s, STMT_RUNNERS);
	store_bind_int64(q, 1, now_ms() - cfg->runner_stale_ms);
	if (store_step(q) == STORE_ROW) {
		snprintf(err, errlen, "the store is in use: runner %.40s on %.100s heartbeats; stop it first",
			 store_column_text(q, RUNNER_ID, NULL), store_column_text(q, RUNNER_HOST, NULL));
		used = 1;
	}
	store_reset(q);
	store_close(&s);
	return used;
}

/* Puts the SQLite backup in place of engine.db, owned and shared like the file it replaces. */
static int restore_sqlite(const struct config *cfg, const char *file, char *err, size_t errlen)
{
	char db[CONFIG_PATH_MAX + 32], tmp[CONFIG_PATH_MAX + 48], side[CONFIG_PATH_MAX + 48];
	struct stat dir;

	if (store_file(cfg, SQLITE_STORE_FILE, db, sizeof db, err, errlen) ||
	    store_file(cfg, SQLITE_STORE_FILE ".restoring", tmp, sizeof tmp, err, errlen))
		return -1;
	/* As the runner makes it at start: a data directory lost with the disk comes back. */
	if ((mkdir(cfg->data_dir, 0755) != 0 && errno != EEXIST) || stat(cfg->data_dir, &dir) != 0) {
		snprintf(err, errlen, "%.400s: %s", cfg->data_dir, strerror(errno));
		return -1;
	}
	unlink(tmp);
	if (sqlite_backup_copy(file, tmp, 1, err, errlen))
		return -1;
	/* The data directory says who shares the store: its owner and group (README, "Permissions"). */
	if (geteuid() == 0 && chown(tmp, dir.st_uid, dir.st_gid) != 0) {
		snprintf(err, errlen, "chown %.400s: %s", tmp, strerror(errno));
		goto fail;
	}
	chmod(tmp, dir.st_mode & S_IWGRP ? 0660 : 0600);
	/* The old write-ahead log belongs to the old file: replayed onto the restored one it would corrupt it. */
	for (const char *suffix = "-wal"; suffix; suffix = strcmp(suffix, "-wal") == 0 ? "-shm" : NULL) {
		snprintf(side, sizeof side, "%s%s", db, suffix);
		if (unlink(side) != 0 && errno != ENOENT) {
			snprintf(err, errlen, "unlink %.400s: %s", side, strerror(errno));
			goto fail;
		}
	}
	if (rename(tmp, db) == 0)
		return 0;
	snprintf(err, errlen, "rename %.400s: %s", tmp, strerror(errno));
fail:
	unlink(tmp);
	return -1;
}

int restore_store(const struct config *cfg, const char *file, int *requeued, char *err, size_t errlen)
{
	struct claims c = { 0 };

	if (access(file, R_OK) != 0) {
		snprintf(err, errlen, "%.400s: %s", file, strerror(errno));
		return -1;
	}
	if (data_dir_in_use(cfg->data_dir, err, errlen) || store_in_use(cfg, err, errlen))
		return -1;
	if (store_is_postgresql(cfg->store)) {
		const char *const argv[] = { "pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
				 "--dbname", cfg->store, file, NULL };
		if (run_tool(argv, err, errlen))
			return -1;
	} else if (restore_sqlite(cfg, file, err, errlen)) {
		return -1;
	}
	if (claims_open(&c, cfg, "restore", STORE_ROLE_RUNNER, err, errlen))
		return -1;
	*requeued = claims_requeue_restored(&c);
	if (*requeued < 0)
		snprintf(err, errlen, "requeue: %s", store_errmsg(c.store));
	claims_close(&c);
	return *requeued < 0 ? -1 : 0;
}
