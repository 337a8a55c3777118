/*
 * The store on SQLite, shared by fcgi_app and the runner.
 *
 * Durability choice: WAL with synchronous=NORMAL. A commit is in the WAL file
 * before sqlite3_step returns, so killing any process at any moment loses
 * nothing that was acknowledged; only an OS crash or power loss can drop the
 * last commits before a checkpoint, and even then the file stays consistent.
 *
 * Statements are prepared once per connection with SQLITE_PREPARE_PERSISTENT
 * (the first time each is used) and reset between uses: a request pays for
 * binding and stepping, never for parsing SQL.
 */
#include "store_sqlite.h"
#include "store_backend.h"
#include "util.h"
#include "store_sqlite_backup.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sqlite3.h>

/*
 * The runner is the store's checkpointer (fcgi_app's automatic checkpoint
 * only starts at 16384 frames, see role_pragmas), so no API request pays for
 * copying the WAL into the database. Past this many frames (4 KiB each) the
 * WAL is restarted: more often costs autosave latency (a restart waits for
 * readers and holds writers meanwhile: p99 11 ms at 4096 frames, 5 ms at
 * 16384), never lets the WAL grow without bound (1 GB in 10 s of autosaves).
 */
#define WAL_RESTART_FRAMES 16384

struct store_query {
	const struct store_ops *ops;
	struct store *store;
	sqlite3_stmt *st;               /* NULL until prepared (or if it cannot be) */
};

struct store {
	const struct store_ops *ops;
	sqlite3 *db;
	struct store_query q[STMT__MAX];
	sqlite3_stmt *tx[SQLITE_TX__MAX];
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

/* One integer a PRAGMA returns; -1 if it cannot be read. */
static int64_t pragma_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Applies missing migrations in one IMMEDIATE transaction, so concurrent openers serialise. */
static int migrate(sqlite3 *db, char *err, size_t errlen)
{
	if (exec_sql(db, "BEGIN IMMEDIATE", err, errlen))
		return -1;
	int v = (int)pragma_int(db, "PRAGMA user_version");
	if (v < 0) {
		snprintf(err, errlen, "cannot read the schema version: %s", sqlite3_errmsg(db));
		goto fail;
	}
	if (v > store_schema_version) {
		store_newer_schema_error(v, err, errlen);
		goto fail;
	}
	for (; v < store_schema_version; v++) {
		char pragma[64];
		if (exec_sql(db, sqlite_migrations[v], err, errlen))
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

/* Settings that depend on what the connection is for. */
static const char *role_pragmas(enum store_role role)
{
	switch (role) {
	case STORE_ROLE_API:
		/* The runner checkpoints; a request must not. Without a runner the
		 * WAL still cannot grow without bound: at 64 MiB a request checkpoints. */
		return "PRAGMA wal_autocheckpoint=16384";
	case STORE_ROLE_RUNNER:
		/* Slots touch a few rows by key. A small page cache keeps the
		 * runner's memory bounded as the store grows, and with it the cost
		 * of cloning the runner's address space for every sandbox. */
		return "PRAGMA cache_size=-256";
	case STORE_ROLE_MAINTENANCE:
		/* A retention batch deletes rows across every index of a table:
		 * with the slots' 256 KiB cache each of them rereads its pages,
		 * and a batch holds the write lock twice as long. One connection. */
		return "PRAGMA cache_size=-8192";
	}
	return "";
}

/*
 * Switching a new database to WAL takes a lock SQLite does not call the
 * busy handler for: when the programs of a stack open a new store at once,
 * all but one can get SQLITE_BUSY here and would refuse to start. Retry
 * every 10 ms, for up to BUSY_TIMEOUT_MS. journal_size_limit: a restarted
 * WAL file is cut back to 64 MiB.
 */
static int set_pragmas(sqlite3 *db, char *err, size_t errlen)
{
	for (int waited_ms = 0;; waited_ms += 10) {
		if (exec_sql(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
				 "PRAGMA journal_size_limit=67108864; "
				 "PRAGMA foreign_keys=ON;", err, errlen) == 0)
			return 0;
		int rc = sqlite3_errcode(db);
		if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || waited_ms >= BUSY_TIMEOUT_MS)
			return -1;
		usleep(10000);
	}
}

/*
 * A file made before schema version 11 has auto_vacuum = NONE: what
 * retention deletes is reused for new rows but never given back. Only a
 * VACUUM (a copy of the whole database, through the WAL) can switch it to
 * INCREMENTAL, so the runner's main thread does it once, when it first opens such a file:
 * writers wait meanwhile (about a second per 100 MB here; README,
 * "Operations"), readers do not.
 */
static int convert_auto_vacuum(sqlite3 *db, char *err, size_t errlen)
{
	if (pragma_int(db, "PRAGMA auto_vacuum") != 0)
		return 0;
	int64_t started = mono_ms();
	if (exec_sql(db, "PRAGMA auto_vacuum=INCREMENTAL; VACUUM", err, errlen))
		return -1;
	log_warn("store: switched to incremental vacuum (a one-time VACUUM of %lld pages took %lld ms)",
		 (long long)pragma_int(db, "PRAGMA page_count"), (long long)(mono_ms() - started));
	return 0;
}

static sqlite3 *open_file(const char *path, enum store_role role, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;

	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_handler(db, busy_wait, NULL);
	/* auto_vacuum takes effect on a new, empty file only, set before its
	 * first table (convert_auto_vacuum does older ones). Not on every open:
	 * issued on a file in use, a runner stopped with SIGSTOP left the store
	 * locked one time in three (tests/test_interactive.py, the cancel of a
	 * stopped runner's run answered 503). */
	if (pragma_int(db, "PRAGMA page_count") == 0)
		sqlite3_exec(db, "PRAGMA auto_vacuum=INCREMENTAL", NULL, NULL, NULL);
	if (set_pragmas(db, err, errlen))
		goto fail;
	if (migrate(db, err, errlen))
		goto fail;
	if (role == STORE_ROLE_MAINTENANCE && convert_auto_vacuum(db, err, errlen))
		goto fail;
	sqlite3_exec(db, role_pragmas(role), NULL, NULL, NULL);
	return db;
fail:
	sqlite3_close(db);
	return NULL;
}

static struct store *sqlite_open(const struct config *cfg, enum store_role role, char *err, size_t errlen)
{
	char path[CONFIG_PATH_MAX + 32];
	if (config_data_path(cfg, SQLITE_STORE_FILE, path, sizeof(path))) {
		snprintf(err, errlen, "data_dir is too long");
		return NULL;
	}
	struct store *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->db = open_file(path, role, err, errlen);
	if (!s->db) {
		free(s);
		return NULL;
	}
	s->ops = &store_sqlite_ops;
	for (int i = 0; i < STMT__MAX; i++) {
		s->q[i].ops = &store_sqlite_ops;
		s->q[i].store = s;
	}
	return s;
}

static void sqlite_close(struct store *s)
{
	for (int i = 0; i < STMT__MAX; i++)
		sqlite3_finalize(s->q[i].st);
	for (int i = 0; i < SQLITE_TX__MAX; i++)
		sqlite3_finalize(s->tx[i]);
	sqlite3_close(s->db);
	free(s);
}

static const char *sqlite_errmsg(struct store *s)
{
	return sqlite3_errmsg(s->db);
}

static sqlite3_stmt *prepare(struct store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
		return NULL;
	return st;
}

static struct store_query *sqlite_query(struct store *s, enum store_stmt id)
{
	struct store_query *q = &s->q[id];
	if (!q->st)
		q->st = prepare(s, sqlite_sql[id]);
	if (q->st) {
		sqlite3_reset(q->st);
		sqlite3_clear_bindings(q->st);
	}
	return q;
}

static void sqlite_bind_text(struct store_query *q, int pos, const char *text, size_t len)
{
	if (q->st)
		sqlite3_bind_text(q->st, pos, text, (int)len, SQLITE_STATIC);
}

static void sqlite_bind_int64(struct store_query *q, int pos, int64_t v)
{
	if (q->st)
		sqlite3_bind_int64(q->st, pos, v);
}

static void sqlite_bind_null(struct store_query *q, int pos)
{
	if (q->st)
		sqlite3_bind_null(q->st, pos);
}

static int sqlite_param_count(struct store_query *q)
{
	return q->st ? sqlite3_bind_parameter_count(q->st) : 0;
}

static enum store_rc sqlite_step(struct store_query *q)
{
	if (!q->st)
		return STORE_ERROR;
	switch (sqlite3_step(q->st)) {
	case SQLITE_ROW:
		return STORE_ROW;
	case SQLITE_DONE:
		return STORE_DONE;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_BUSY;
	default:
		return STORE_ERROR;
	}
}

static int64_t sqlite_changes(struct store_query *q)
{
	return sqlite3_changes64(q->store->db);
}

static void sqlite_reset(struct store_query *q)
{
	if (q->st)
		sqlite3_reset(q->st);
}

static bool sqlite_column_is_null(struct store_query *q, int col)
{
	return sqlite3_column_type(q->st, col) == SQLITE_NULL;
}

static int64_t sqlite_column_int64(struct store_query *q, int col)
{
	return sqlite3_column_int64(q->st, col);
}

static double sqlite_column_double(struct store_query *q, int col)
{
	return sqlite3_column_double(q->st, col);
}

static const char *sqlite_column_text(struct store_query *q, int col, size_t *len)
{
	const char *text = (const char *)sqlite3_column_text(q->st, col);
	if (len)
		*len = (size_t)sqlite3_column_bytes(q->st, col);
	return text;
}

static const char *sqlite_column_name(struct store_query *q, int col)
{
	return q->st ? sqlite3_column_name(q->st, col) : NULL;
}

/* Runs one of the transaction statements. Returns 0, or -1. */
static int tx_step(struct store *s, enum sqlite_tx t)
{
	if (!s->tx[t])
		s->tx[t] = prepare(s, sqlite_tx_sql[t]);
	if (!s->tx[t])
		return -1;
	int rc = sqlite3_step(s->tx[t]);
	sqlite3_reset(s->tx[t]);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int sqlite_begin(struct store *s)
{
	return tx_step(s, SQLITE_TX_BEGIN);
}

static int sqlite_begin_session(struct store *s, const char *session_id)
{
	(void)session_id;               /* BEGIN IMMEDIATE locks the whole store */
	return sqlite_begin(s);
}

static int sqlite_commit(struct store *s)
{
	return tx_step(s, SQLITE_TX_COMMIT);
}

static void sqlite_rollback(struct store *s)
{
	tx_step(s, SQLITE_TX_ROLLBACK);
}

/*
 * Copies committed WAL frames into the database without blocking anyone
 * (PASSIVE), and makes the next writer start the WAL from its beginning
 * once it has grown past WAL_RESTART_FRAMES and every frame is in the
 * database (RESTART, which waits briefly for readers). Under constant load
 * SQLite alone never finds a moment to restart the WAL, and readers slow
 * down as it grows.
 */
static int sqlite_checkpoint(struct store *s)
{
	int frames = 0, done = 0;
	if (sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames, &done) != SQLITE_OK)
		return -1;
	if (frames > WAL_RESTART_FRAMES && done == frames &&
	    sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_RESTART, &frames, &done) != SQLITE_OK)
		return -1;
	return 0;
}

/* One host shares the file: its clock is the store's. */
static int64_t sqlite_clock_ms(struct store *s)
{
	(void)s;
	return now_ms();
}

/*
 * Moves at most max_pages pages from the end of the file into free ones
 * and cuts the file (auto_vacuum = INCREMENTAL, see convert_auto_vacuum);
 * the WAL's checkpoint then shortens the database file itself.
 */
static int sqlite_reclaim(struct store *s, int max_pages)
{
	int64_t before = pragma_int(s->db, "PRAGMA freelist_count");
	char sql[64];
	if (before <= 0)
		return before < 0 ? -1 : 0;
	snprintf(sql, sizeof(sql), "PRAGMA incremental_vacuum(%d)", max_pages);
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	int64_t after = pragma_int(s->db, "PRAGMA freelist_count");
	return after < 0 ? -1 : (int)(before - after);
}

const struct store_ops store_sqlite_ops = {
	.open = sqlite_open,
	.close = sqlite_close,
	.errmsg = sqlite_errmsg,
	.query = sqlite_query,
	.bind_text = sqlite_bind_text,
	.bind_int64 = sqlite_bind_int64,
	.bind_null = sqlite_bind_null,
	.param_count = sqlite_param_count,
	.step = sqlite_step,
	.changes = sqlite_changes,
	.reset = sqlite_reset,
	.column_is_null = sqlite_column_is_null,
	.column_int64 = sqlite_column_int64,
	.column_double = sqlite_column_double,
	.column_text = sqlite_column_text,
	.column_name = sqlite_column_name,
	.begin = sqlite_begin,
	.begin_session = sqlite_begin_session,
	.begin_fenced = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.checkpoint = sqlite_checkpoint,
	.clock_ms = sqlite_clock_ms,
	.reclaim = sqlite_reclaim,
};
