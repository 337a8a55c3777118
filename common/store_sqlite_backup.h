/*
 * Whole-file copies of a SQLite store with SQLite's online backup API:
 * `runner --backup` and `--restore` (runner/backup.c) on the SQLite store.
 */
#ifndef ENGINE_STORE_SQLITE_BACKUP_H
#define ENGINE_STORE_SQLITE_BACKUP_H

#include <stddef.h>

/* The store's file in data_dir. */
#define SQLITE_STORE_FILE "engine.db"

/*
 * Copies the database at src (a live store: other connections keep reading
 * and writing meanwhile) into a new file dest, which must not exist, in one
 * read transaction: the copy is the database as of one commit. The copy is a
 * single self-contained file (rollback journal mode), synced. With verify,
 * src must pass PRAGMA quick_check and have a schema version this build
 * knows. Returns 0, or -1 with a reason in err (dest removed).
 */
int sqlite_backup_copy(const char *src, const char *dest, int verify, char *err, size_t errlen);

#endif
