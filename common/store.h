/* Opening the SQLite store: pragmas, schema and forward migrations. */
#ifndef ENGINE_STORE_H
#define ENGINE_STORE_H

#include <stddef.h>
#include <sqlite3.h>

#define STORE_FILE "engine.db"
#define STORE_SCHEMA_VERSION 2

/*
 * Opens (creating if needed) the database at path, sets WAL, the busy
 * timeout and synchronous=NORMAL, and brings the schema to
 * STORE_SCHEMA_VERSION. Returns the handle, or NULL with a reason in err.
 * The handle is for one thread.
 */
sqlite3 *store_open(const char *path, char *err, size_t errlen);

/* Prepares every statement of sql[0..n) into stmts. Returns 0, or -1 with err. */
int store_prepare_all(sqlite3 *db, const char *const *sql, sqlite3_stmt **stmts, int n,
		      char *err, size_t errlen);

/*
 * Copies committed WAL frames into the database without blocking anyone
 * (PASSIVE), and makes the next writer start the WAL from its beginning
 * once it has grown past wal_restart_frames and every frame is in the
 * database (RESTART, which waits briefly for readers). Under constant load
 * SQLite alone never finds a moment to restart the WAL, and readers slow
 * down as it grows. Returns the WAL's size in frames, or -1.
 */
int store_checkpoint(sqlite3 *db, int wal_restart_frames);

/* Finalizes stmts[0..n) and closes db; NULL-safe. */
void store_close(sqlite3 *db, sqlite3_stmt **stmts, int n);

#endif
