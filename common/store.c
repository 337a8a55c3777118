/*
 * Store opening shared by fcgi_app and the runner.
 *
 * Durability choice: WAL with synchronous=NORMAL. A commit is in the WAL file
 * before sqlite3_step returns, so killing any process at any moment loses
 * nothing that was acknowledged; only an OS crash or power loss can drop the
 * last commits before a checkpoint, and even then the file stays consistent.
 */
#include "store.h"

#include <stdio.h>
#include <unistd.h>

extern const char schema_sql[];   /* conf/schema.sql, built into schema_sql.c */

/* Forward migrations: migrations[i] takes user_version i to i + 1. */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
	schema_sql,
	/* 2: sandbox setup time (clone to interpreter start), for /metrics. */
	"ALTER TABLE executions ADD COLUMN setup_ms INTEGER;",
};

static int exec_sql(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

static int user_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Applies missing migrations in one IMMEDIATE transaction, so concurrent openers serialise. */
static int store_migrate(sqlite3 *db, char *err, size_t errlen)
{
	if (exec_sql(db, "BEGIN IMMEDIATE", err, errlen))
		return -1;
	int v = user_version(db);
	if (v < 0 || v > STORE_SCHEMA_VERSION) {
		snprintf(err, errlen, "schema version %d is not supported (this build knows %d)",
			 v, STORE_SCHEMA_VERSION);
		goto fail;
	}
	for (; v < STORE_SCHEMA_VERSION; v++) {
		char pragma[64];
		if (exec_sql(db, migrations[v], err, errlen))
			goto fail;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
		if (exec_sql(db, pragma, err, errlen))
			goto fail;
	}
	return exec_sql(db, "COMMIT", err, errlen);
fail:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/*
 * SQLite's default busy handler sleeps 1, 2, 5, 10, 15, 20, 25... ms between
 * tries, so a writer that finds the lock held for 100 us may sleep 25 ms:
 * that is the p99 of an autosave under load. Writes here are short, so
 * retry every 100-1000 us instead, up to BUSY_TIMEOUT_MS in all.
 */
#define BUSY_TIMEOUT_MS 5000

static int busy_wait(void *arg, int tries)
{
	(void)arg;
	useconds_t us = tries < 10 ? 100 : tries < 100 ? 250 : 1000;
	/* Counting tries instead of reading a clock: 10 x 0.1 + 90 x 0.25 ms,
	 * then 1 ms each, is about BUSY_TIMEOUT_MS at tries = 100 + 4976. */
	if (tries > 100 + BUSY_TIMEOUT_MS - 24)
		return 0;
	usleep(us);
	return 1;
}

sqlite3 *store_open(const char *path, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;

	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_handler(db, busy_wait, NULL);
	/* journal_size_limit: a restarted WAL file is cut back to 64 MiB. */
	if (exec_sql(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
			 "PRAGMA journal_size_limit=67108864; "
			 "PRAGMA foreign_keys=ON;", err, errlen))
		goto fail;
	if (store_migrate(db, err, errlen))
		goto fail;
	return db;
fail:
	sqlite3_close(db);
	return NULL;
}

int store_checkpoint(sqlite3 *db, int wal_restart_frames)
{
	int frames = 0, done = 0;
	if (sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames, &done) != SQLITE_OK)
		return -1;
	if (frames > wal_restart_frames && done == frames &&
	    sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_RESTART, &frames, &done) != SQLITE_OK)
		return -1;
	return frames;
}

int store_prepare_all(sqlite3 *db, const char *const *sql, sqlite3_stmt **stmts, int n,
		      char *err, size_t errlen)
{
	for (int i = 0; i < n; i++) {
		if (sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &stmts[i], NULL) != SQLITE_OK) {
			snprintf(err, errlen, "statement %d: %s", i, sqlite3_errmsg(db));
			return -1;
		}
	}
	return 0;
}

void store_close(sqlite3 *db, sqlite3_stmt **stmts, int n)
{
	for (int i = 0; stmts && i < n; i++)
		sqlite3_finalize(stmts[i]);
	if (db)
		sqlite3_close(db);
}
