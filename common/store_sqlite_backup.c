/*
 * Online backup of the SQLite store. The copy takes one step of the backup
 * API over all pages (sqlite3_backup_step(-1)): in WAL mode that is one read
 * transaction, during which writers go on committing to the log, so the
 * service keeps serving. Copying in small steps instead would restart from
 * the first page every time another connection writes, which under a steady
 * stream of autosaves could never finish.
 */
#include "store_sqlite_backup.h"
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>

#define BACKUP_BUSY_MS 10000

static int fail(sqlite3 *db, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
	return -1;
}

/* Checks what restoring src would bring in: an intact database of a schema this build can migrate. */
static int verify_source(sqlite3 *src, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(src, "PRAGMA quick_check", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		goto out_db;
	if (strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0) {
		snprintf(err, errlen, "%.300s is damaged: %.300s", path, sqlite3_column_text(st, 0));
		goto out;
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(src, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		goto out_db;
	int version = sqlite3_column_int(st, 0);
	if (version > store_schema_version) {
		snprintf(err, errlen, "%.300s has schema version %d, newer than this build's %d: "
			 "it was made by a later release; restore it with that release", path, version,
			 store_schema_version);
		goto out;
	}
	rc = 0;
	goto out;
out_db:
	fail(src, path, err, errlen);
out:
	sqlite3_finalize(st);
	return rc;
}

/* Makes the rename of dest durable. */
static void sync_dir_of(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	int fd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int sqlite_backup_copy(const char *src_path, const char *dest, int verify, char *err, size_t errlen)
{
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *b = NULL;
	int rc = -1;

	if (access(dest, F_OK) == 0) {
		snprintf(err, errlen, "%.400s exists", dest);
		return -1;
	}
	if (sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		fail(src, src_path, err, errlen);
		goto out;
	}
	sqlite3_busy_timeout(src, BACKUP_BUSY_MS);
	if (verify && verify_source(src, src_path, err, errlen))
		goto out;
	if (sqlite3_open_v2(dest, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		fail(dst, dest, err, errlen);
		goto out;
	}
	sqlite3_busy_timeout(dst, BACKUP_BUSY_MS);
	b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		fail(dst, dest, err, errlen);
		goto out;
	}
	int step = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	if (step != SQLITE_DONE) {
		snprintf(err, errlen, "copying %.300s: %s", src_path, sqlite3_errstr(step));
		goto out;
	}
	/* The copy stands alone: no -wal file beside it to lose. */
	if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK) {
		fail(dst, dest, err, errlen);
		goto out;
	}
	rc = 0;
out:
	if (sqlite3_close(dst) != SQLITE_OK && rc == 0)
		rc = fail(dst, dest, err, errlen);
	sqlite3_close(src);
	if (rc)
		unlink(dest);
	else
		sync_dir_of(dest);
	return rc;
}
