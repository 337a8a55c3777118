/*
 * The store: the one interface both programs use to read and write the
 * database. Nothing here names a backend: common/store.c hands each call to
 * the backend the configuration's "store" names, common/store_sqlite.c (the
 * default, a file in data_dir) or common/store_pg.c (a PostgreSQL server).
 *
 * Statements are named by id (enum store_stmt, below). Each backend keeps
 * the text of every statement in one table (common/store_sqlite_sql.c,
 * common/store_pg_sql.c) and prepares a statement the first time a
 * connection uses it, so each program prepares only what it runs. Bind
 * positions count from 1 (?N in SQLite's text, $N in PostgreSQL's); column
 * numbers count from 0.
 *
 * A struct store is one connection, for one thread.
 */
#ifndef ENGINE_STORE_H
#define ENGINE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "store_columns.h"

enum store_stmt {
	/* fcgi_app: sessions and runs */
	STMT_SESSION_INSERT,
	STMT_SESSION_GET,
	STMT_SESSION_UPDATE,
	STMT_SESSION_AUTOSAVE,
	STMT_SESSION_EXISTS,
	STMT_SESSION_CAPS,
	STMT_QUEUE_DEPTH,
	STMT_EXECUTION_INSERT,
	STMT_EXECUTION_GET,
	STMT_EXECUTION_LIST,
	/* fcgi_app: /health and /metrics */
	STMT_QUEUE_STATS,
	STMT_RUNNERS,
	STMT_RUNNER_LANGUAGES,
	STMT_METRICS_BY_STATUS,
	STMT_METRICS_BY_LANGUAGE,
	STMT_METRICS_COUNTER,
	STMT_METRICS_BUCKETS,
	STMT_METRICS_STORE_SIZE,
	STMT_METRICS_RUNNERS,
	STMT_METRICS_VERDICTS,
	/* runner: presence, claim, fenced result, sweep */
	STMT_RUNNER_REGISTER,
	STMT_RUNNER_HEARTBEAT,
	STMT_RUNNER_STOPPED,
	STMT_ANY_QUEUED,
	STMT_CLAIM,
	STMT_CASES_RUNNING,     /* a submission's cases running now (the cap's count) */
	STMT_CLAIM_UNDO,        /* a claim given back at once: QUEUED, its attempt not spent */
	STMT_FINISH,
	STMT_EXPIRE_DEAD_RUNNERS,
	STMT_GIVE_UP,
	STMT_REQUEUE,
	STMT_EVENT_REQUEUED,
	STMT_REQUEUE_RESTORED,  /* runner --restore: every run in flight, at once */
	/* live events: the runner appends an attempt's (fenced), events reads them */
	STMT_EVENT_INSERT,
	STMT_EVENTS_AFTER,
	STMT_EXECUTION_STATE,
	/* cancel (fcgi_app) and the running slot's watch of its run */
	STMT_CANCEL_QUEUED,
	STMT_CANCEL_RUNNING,
	STMT_CANCEL_STATE,
	STMT_RUN_WATCH,
	/* interactive stdin: sent by the API (store_stdin.c), fed by the slot */
	STMT_STDIN_STATE,
	STMT_STDIN_INSERT,
	STMT_STDIN_AFTER,
	/* grading: test suites (fcgi_app) */
	STMT_SUITE_PUT,
	STMT_SUITE_GET,
	STMT_SUITE_DELETE,
	/* grading: submissions (fcgi_app; the runner skips what need not run) */
	STMT_SUITE_CURRENT,
	STMT_SUBMISSION_INSERT,
	STMT_CASE_INSERT,
	STMT_SUBMISSION_GET,
	STMT_SUBMISSION_LIST,
	STMT_SUBMISSION_CASES,
	STMT_CASES_SKIP,
	STMT_CASE_SUBMISSION,   /* events: the submission a case belongs to */
	/* access: the owner of a row (common/ownership.c; fcgi_app and events) */
	STMT_OWNER_SESSION,
	STMT_OWNER_EXECUTION,
	STMT_OWNER_SUBMISSION,
	/* quotas: what a learner has started, has in flight and stores (fcgi_app/db_quota.c) */
	STMT_LEARNER_RUNS,
	STMT_LEARNER_IN_FLIGHT,
	STMT_LEARNER_SESSIONS,
	STMT_LEARNER_SOURCE_BYTES,
	STMT_SESSION_QUOTA,
	STMT_LEARNER_LOCK,
	/* The store-wide write lock, taken inside a transaction that did not
	 * start with it (fcgi_app/db.c: a Run near the queue's cap). */
	STMT_WRITE_LOCK,
	/* retention (the runner's maintenance, runner/retention.c): each
	 * deletes one batch, ?1 = the cutoff (ms), ?2 = the batch's size */
	STMT_PURGE_DUE,                 /* a read: is any execution past ?1 (no write lock for nothing) */
	STMT_PURGE_EVENTS,
	STMT_PURGE_STDIN,
	STMT_PURGE_EXECUTIONS,
	STMT_PURGE_SUBMISSIONS,
	STMT_PURGE_SESSIONS,
	STMT_PURGE_EXECUTION_FILES,     /* a run's snapshot of its session's files */
	STMT_PURGE_SESSION_FILES,       /* a session's files, in the batch of STMT_PURGE_SESSIONS */
	STMT_PURGE_ARTIFACTS,           /* a run's artifacts */
	/* runner: how many runs the learner of a claimed execution has running (its CPU weight) */
	/* files of a session beside its entry (fcgi_app), snapshotted per run (the runner reads them) */
	STMT_SESSION_FILES,
	STMT_SESSION_FILE_SIZES,
	STMT_SESSION_FILE_PUT,
	STMT_SESSION_FILE_DELETE,
	STMT_SESSION_TOUCH,
	STMT_SESSION_SOURCE_BYTES,
	STMT_EXECUTION_FILES_SNAPSHOT,
	STMT_EXECUTION_FILES,
	/* artifacts: written with a run's result (runner), listed and served (fcgi_app) */
	STMT_ARTIFACT_INSERT,
	STMT_ARTIFACT_LIST,
	STMT_ARTIFACT_GET,
	/* runner: a block of sandbox uids of its own (sandbox_uid_base = auto) */
	STMT_UID_BLOCK_HOLD,    /* take or keep block ?1 for ?2 */
	STMT_UID_BLOCK_RELEASE,
	STMT__MAX
};

/* What a program does with its connection; the backend tunes for it. */
enum store_role {
	STORE_ROLE_API,         /* short reads and writes per request; never checkpoints */
	STORE_ROLE_RUNNER,      /* claims and results by key */
	STORE_ROLE_MAINTENANCE, /* the runner's main thread: heartbeat, sweep, the checkpointer,
				 * retention; switches an old SQLite file to incremental vacuum */
};

/* What a step did. */
enum store_rc {
	STORE_ROW,              /* a row is ready for the column getters */
	STORE_DONE,             /* no (more) rows; a write is complete */
	STORE_BUSY,             /* the database stayed locked past the busy timeout */
	STORE_ERROR,            /* anything else; store_errmsg says what */
};

struct store;
struct store_query;

/* Schema version this build brings the database to (forward migrations only). */
extern const int store_schema_version;

/* The refusal to open a store whose schema version is newer than this build's (no downgrades). */
void store_newer_schema_error(int version, char *err, size_t errlen);

/* True if a "store" configuration value names a PostgreSQL server. */
bool store_is_postgresql(const char *store);

/*
 * Opens (creating if needed) the store that cfg names, with its busy
 * handling, durability settings and the schema at store_schema_version.
 * Returns the handle, or NULL with a reason in err.
 */
struct store *store_open(const struct config *cfg, enum store_role role, char *err, size_t errlen);

/*
 * store_open for a program starting up: a server store that cannot be
 * reached yet (it starts beside the engine: a compose file, a boot) is
 * tried again every 0.5 s for STORE_START_WAIT_MS before the program gives up,
 * or until a signal it handles arrives.
 */
#define STORE_START_WAIT_MS 60000
struct store *store_open_at_start(const struct config *cfg, enum store_role role, char *err, size_t errlen);

/* Closes the store and its statements and sets *s to NULL; NULL-safe. */
void store_close(struct store **s);

/* The message of the last failure on this connection. */
const char *store_errmsg(struct store *s);

/*
 * Statement id of s, reset and with no bindings, prepared on first use.
 * Borrowed: it lives as long as s. A statement that cannot be prepared
 * still comes back; its steps fail with STORE_ERROR.
 */
struct store_query *store_query(struct store *s, enum store_stmt id);

/*
 * Bind values to ?pos. Text is borrowed: it must stay valid until the query
 * is reset or taken again with store_query.
 */
void store_bind_text(struct store_query *q, int pos, const char *text, size_t len);
void store_bind_str(struct store_query *q, int pos, const char *str);   /* NUL-terminated */
void store_bind_int64(struct store_query *q, int pos, int64_t v);
void store_bind_null(struct store_query *q, int pos);
/* How many ?N parameters the statement has. */
int store_param_count(struct store_query *q);

/* Runs the query to its next row. */
enum store_rc store_step(struct store_query *q);

/* Rows changed by the last write this query completed. */
int64_t store_changes(struct store_query *q);

/* Ends the current run of the query (a write completes, read locks are released). */
void store_reset(struct store_query *q);

/*
 * Columns of the current row. Text is borrowed until the next step or reset;
 * NULL for an SQL NULL, with *len (if given) set to its length in bytes.
 */
bool store_column_is_null(struct store_query *q, int col);
int64_t store_column_int64(struct store_query *q, int col);
double store_column_double(struct store_query *q, int col);
const char *store_column_text(struct store_query *q, int col, size_t *len);
/* The column's name as the statement gives it (for tests of column order). */
const char *store_column_name(struct store_query *q, int col);

/*
 * A write transaction that takes the write lock at once, so its reads and
 * checks see what its writes will change. Each returns 0, or -1 (errmsg).
 */
int store_begin(struct store *s);
/*
 * A write transaction that serialises only with the other writers of
 * session_id (its row is locked from the start) and of the keys it locks
 * itself (STMT_LEARNER_LOCK: a learner's; STMT_WRITE_LOCK: the store-wide
 * lock): an autosave, or a Run of the session, need not wait for every
 * other learner's. SQLite has one writer
 * at a time anyway: there it is store_begin, and STMT_LEARNER_LOCK locks
 * nothing more.
 */
int store_begin_session(struct store *s, const char *session_id);
/*
 * A write transaction of the runner that holds an execution, whose every
 * write is fenced by that execution's runner id and attempt (an event
 * batch, a result): it takes no store-wide lock, so the results and output
 * of different runs commit side by side (common/store_pg_sql.c says why
 * that is safe). SQLite has one writer at a time: there it is store_begin.
 */
int store_begin_fenced(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

/*
 * Routine maintenance that no request should pay for; the runner calls it
 * on its sweep timer. For SQLite, a WAL checkpoint. Returns 0, or -1.
 */
int store_checkpoint(struct store *s);

/*
 * The store's clock in milliseconds since the Unix epoch: the database
 * server's on PostgreSQL (the clock leases and heartbeats are taken on, the
 * same for every host), this host's on SQLite. Returns -1 if the store
 * cannot be read.
 */
int64_t store_clock_ms(struct store *s);

/*
 * For a thread that moved into a network namespace of its own (a runner
 * slot, whose sandboxes share it): its store connections, the first and
 * every reconnect, are made from the namespace netns_fd names (the host's),
 * so a store on another host stays reachable. The fd must stay open for
 * the thread's life; -1 undoes it.
 */
void store_connect_from_netns(int netns_fd);

/*
 * Notifications through the store, for stores that several hosts share
 * (PostgreSQL: NOTIFY and LISTEN). Each names one execution; they carry no
 * state, so a lost one costs a poll and a duplicate a read that finds
 * nothing new. On SQLite they are not available (the programs share a
 * host and use ZeroMQ), and sending one does nothing.
 */
enum store_channel {
	STORE_CHANNEL_WAKE,     /* a Run was queued: runners, claim (fcgi_app -> runner) */
	STORE_CHANNEL_EVENTS,   /* an execution stored events or ended (runner -> events) */
	STORE_CHANNEL__MAX
};

/* True if this store carries notifications. */
bool store_notify_available(struct store *s);

/* Tells every listener of ch about execution_id: at once outside a
 * transaction, at commit inside one. Returns 0 (also where not available), or -1. */
int store_notify(struct store *s, enum store_channel ch, const char *execution_id);

/*
 * Commits, then tells every listener of ch about execution_id, as
 * store_commit and store_notify in turn: the notification is sent after
 * the commit, never in it (PostgreSQL queues a transaction's
 * notifications under one lock held through its commit, which would make
 * all such commits wait in line), but in the same round trip. Returns 0,
 * or -1 if the commit failed; a notification that could not go is lost
 * (it carries no state).
 */
int store_commit_notify(struct store *s, enum store_channel ch, const char *execution_id);

/* Subscribes this connection to ch (reconnecting it first if it was
 * dropped). Returns the descriptor to poll for input, or -1. */
int store_listen(struct store *s, enum store_channel ch);

/* Reads what arrived and calls fn (if given) with each execution id.
 * Returns how many arrived, or -1 if the connection is lost (listen again). */
int store_notifications(struct store *s, void (*fn)(void *ctx, const char *execution_id), void *ctx);

/*
 * Gives at most max_pages of the space deleted rows left free back to the
 * file system, in one short write (SQLite: incremental vacuum; the runner's
 * maintenance calls it after retention). PostgreSQL's autovacuum makes such
 * space reusable on its own: there it does nothing. Returns the pages given
 * back (0: none left), or -1.
 */
int store_reclaim(struct store *s, int max_pages);

#endif
