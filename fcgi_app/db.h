/*
 * The API's reads and writes, over the store's statements. Each returns
 * DB_OK with *out (a JSON document owned by the caller) or another status.
 */
#ifndef FCGI_DB_H
#define FCGI_DB_H

#include <stddef.h>
#include <stdint.h>
#include <json.h>

#include "languages.h"
#include "store.h"
#include "util.h"
#include "validate.h"

enum db_status {
	DB_OK,
	DB_NOT_FOUND,
	DB_SESSION_BUSY,        /* per-session cap reached */
	DB_QUEUE_FULL,          /* global queue depth reached */
	DB_NOT_RUNNING,         /* cancel or stdin: the execution has finished */
	DB_SUITE_NOT_FOUND,     /* submit: no such test suite (or it was deleted) */
	DB_RUN_RATE_LIMITED,    /* the learner's quotas (struct learner_quota says which limit, retry when) */
	DB_CONCURRENT_RUNS_LIMITED,
	DB_SESSION_RATE_LIMITED,
	DB_SOURCE_QUOTA_EXCEEDED,
	DB_FILE_NOT_FOUND,      /* a session has no file at this path */
	DB_ENTRY_FILE,          /* the entry file cannot be deleted */
	DB_INVALID,             /* a write would break a rule of the session's files: the verror says which */
	DB_ERROR,               /* the store failed: nothing was written */
};

/*
 * The quotas of one learner (0: no limit; config.h says what each
 * counts) and, when a check refuses, which limit and when to retry.
 */
struct learner_quota {
	const char *learner;            /* the caller's sub, or with auth = none its address */
	int64_t runs_per_minute;
	int64_t concurrent_runs;
	int64_t sessions_per_hour;
	int64_t source_bytes;
	struct {
		int64_t limit;          /* the limit that refused */
		int retry_after_s;      /* when trying again may succeed */
	} refused;
};

/*
 * owner: the sub of the caller's token ("" with auth = none); lq: the
 * caller's quotas, which all the session's files count against. code is the
 * entry file's content; files (NULL, or a validated "files" array that
 * holds the entry) adds the others, in the same transaction.
 */
enum db_status db_session_create(struct store *s, struct learner_quota *lq, const char *language,
				 const char *code, size_t code_len, json_object *files, const char *entry,
				 const char *owner, json_object **out);
enum db_status db_session_get(struct store *s, const char *id, json_object **out);

/* What a session's files must fit in (engine.conf). */
struct file_limits {
	int max_files;
	long max_bytes;
};

/*
 * Replaces the entry file's content, if the session's files still fit lim
 * (else DB_INVALID, err) and the source quota of the session's learner (lq's
 * limits). *entry_only: the session has no other file.
 */
enum db_status db_session_update(struct store *s, struct learner_quota *lq, const struct file_limits *lim,
				 const char *id, const char *code, size_t code_len, struct verror *err,
				 json_object **out, bool *entry_only);

/* db_files.c. Adds "entry" and "files" (the entry first, then the others by
 * path) to session; entry_only: the caller knows there are no others. */
enum db_status db_session_add_files(struct store *s, const char *id, const char *entry, json_object *session,
				    bool entry_only);

/*
 * Creates or replaces the file path of session id (the entry file when
 * path is entry), if the session's files still fit lim and no file is a
 * directory of another (else DB_INVALID with err), and the source quota of
 * the session's learner (lq's limits). On DB_OK, *out is
 * {"session_id", "path", "size", "updated_at"}.
 */
enum db_status db_file_put(struct store *s, struct learner_quota *lq, const struct file_limits *lim,
			   const char *id, const char *entry, const char *path, const char *content, size_t len,
			   struct verror *err, json_object **out);

/* Deletes a file of session id: DB_ENTRY_FILE for the entry, DB_FILE_NOT_FOUND if it has none at path. */
enum db_status db_file_delete(struct store *s, const char *id, const char *entry, const char *path);

/* The bytes of all of a session's stored files, its entry included: what sessions.source_bytes holds,
 * and the source quota counts. */
enum db_status db_session_source_bytes(struct store *s, const char *session_id, int64_t *bytes);

/* Inside a Run's transaction: the files beside the entry, copied for execution exec_id. */
enum db_status db_execution_files_snapshot(struct store *s, const char *exec_id, const char *session_id);


/*
 * The caps a Run must fit in: runs in flight for its session, the
 * caller's quotas (whose runs the new rows count as), QUEUED rows in all.
 */
struct run_caps {
	int64_t per_session;
	int64_t queue_depth;
	struct learner_quota *quota;
};

/*
 * Commits a QUEUED execution holding a snapshot of the session's code and
 * stdin, within caps. On DB_OK writes the new id.
 */
enum db_status db_run_enqueue(struct store *s, const struct run_caps *caps, const char *session_id,
			      const char *kind, const char *stdin_data, size_t stdin_len, bool interactive,
			      char exec_id[UUID_LEN + 1], json_object **out);

enum db_status db_execution_get(struct store *s, const char *id, json_object **out);

/*
 * db_submission.c. Commits a submission of the session's current code
 * against the newest version of suite_id: one QUEUED case execution per
 * case, within caps (a submission counts once against per_session, each
 * case against queue_depth). On DB_OK writes the ids of its cases (to
 * notify; *case_ids malloc'd, *ncases of them) and *out, the 202 body.
 */
enum db_status db_submit(struct store *s, const struct run_caps *caps, const struct language_table *langs,
			 const char *session_id, const char *suite_id, bool stop_on_first_failure,
			 char (**case_ids)[UUID_LEN + 1], int *ncases, json_object **out);
/* A submission as the learner sees it (hidden cases without their texts). */
enum db_status db_submission_get(struct store *s, const char *id, json_object **out);
/* A session's submissions with seq < before (0: from the newest), newest first. */
enum db_status db_submission_list(struct store *s, const char *session_id, int64_t before, int limit,
				  json_object **out);

/* db_suite.c. Stores body (a validated suite) as the next version of suite id; *out is it rendered. */
enum db_status db_suite_put(struct store *s, const char *id, json_object *body, json_object **out);
/* The newest version of a suite not deleted, or DB_NOT_FOUND. */
enum db_status db_suite_get(struct store *s, const char *id, json_object **out);
/* Marks every version of suite id deleted (kept for the submissions judged against them). */
enum db_status db_suite_delete(struct store *s, const char *id);

/*
 * Cancels execution id: a QUEUED one ends FAILED/CANCELLED at once (it is
 * never claimed), a RUNNING one is flagged for its runner to kill. DB_OK
 * also when it was already cancelled (idempotent), with the execution as
 * it is now in *out; DB_NOT_RUNNING if it finished otherwise.
 */
enum db_status db_execution_cancel(struct store *s, const char *id, json_object **out);

/*
 * db_quota.c. Inside a write transaction, whether the learner may start
 * one more run (DB_CONCURRENT_RUNS_LIMITED, DB_RUN_RATE_LIMITED), create
 * a session holding code_len bytes (DB_SESSION_RATE_LIMITED,
 * DB_SOURCE_QUOTA_EXCEEDED), or store code_len bytes as session_id's
 * source (DB_SOURCE_QUOTA_EXCEEDED, DB_NOT_FOUND). A refusal fills
 * lq->refused.
 */
enum db_status db_quota_run(struct store *s, struct learner_quota *lq);
enum db_status db_quota_session_create(struct store *s, struct learner_quota *lq, size_t code_len);
enum db_status db_quota_source_update(struct store *s, struct learner_quota *lq, const char *session_id,
				      size_t code_len);

/* Runs fn(s, ctx) in a write transaction, committed if it returns DB_OK, else rolled back. */
enum db_status db_transaction(struct store *s, enum db_status (*fn)(struct store *s, void *ctx), void *ctx);
/* Runs a query that returns at most one row and renders it with fn (DB_NOT_FOUND: none). */
enum db_status db_one_row(struct store *s, struct store_query *q, json_object *(*fn)(struct store_query *),
			  json_object **out, const char *what);

/* The bytes of artifact path of execution id: *data (malloc'd, *len bytes). DB_NOT_FOUND: none. */
enum db_status db_artifact_get(struct store *s, const char *id, const char *path, char **data, size_t *len);

/* Logs what failed with the store's message; returns DB_ERROR. */
enum db_status db_failed(struct store *s, const char *what);

/* Inside a transaction: takes the lock statement lock_stmt names
 * (STMT_WRITE_LOCK, STMT_LEARNER_LOCK with key) until it ends. Returns 0, or -1. */
int db_lock(struct store *s, enum store_stmt lock_stmt, const char *key);

/* Inside a write transaction: whether adding runs to the session's
 * executions keeps it within caps (DB_NOT_FOUND: no such session;
 * DB_SESSION_BUSY: the session has
 * per_session in flight; a quota status: the learner's run quotas;
 * DB_QUEUE_FULL: the queue would pass its depth); *files (when not NULL)
 * the session's files beside its entry. */
enum db_status db_check_caps(struct store *s, const struct run_caps *caps, const char *session_id,
			     int64_t adding, int64_t *files);

/* Makes one page item of the current row of q; DB_OK with *item (owned by the caller). */
typedef enum db_status db_page_row_fn(struct store *s, struct store_query *q, json_object **item);

/*
 * One page of a session's rows of statement id (?1 the session, ?2 the seq
 * to start below, ?3 how many rows), newest first, rendered by row; seq_col
 * is the row's seq column. On DB_OK, *out is {"<key>": [...], "next_cursor"}.
 */
enum db_status db_page(struct store *s, enum store_stmt id, const char *session_id, int64_t before,
		       int limit, int seq_col, db_page_row_fn *row, const char *key, json_object **out);

/* Executions of a session with seq < before (0 = from the newest), newest first. */
enum db_status db_execution_list(struct store *s, const char *session_id, int64_t before,
				 int limit, json_object **out);

/*
 * The health document as of now (without its verdict, which the handler
 * adds): queue figures and the runners that heartbeated within stale_ms
 * of the store's clock (heartbeats are taken on it). DB_ERROR if the
 * store does not answer.
 */
/*
 * The languages live runners (heartbeat within stale_ms) can run, in the
 * order of t: {"languages": [{"id","name","version","compiled","limits"}]}.
 * A language of t no live runner reported is left out.
 */
enum db_status db_languages(struct store *s, int64_t stale_ms,
			    const struct language_table *t, json_object **out);

enum db_status db_health(struct store *s, int64_t stale_ms, json_object **out);

/*
 * /metrics: the counters and histograms the store keeps as statuses change
 * (common/store_metrics.h), and the live queue. None reads history.
 */

/* The total of a counter of metric_counts ("accepted", "busy_ms", ...), 0 if never counted. */
enum db_status db_metrics_counter(struct store *s, const char *name, int64_t *value);

/* Bytes the store's database takes, and of those the free ones it keeps for reuse. */
enum db_status db_store_size(struct store *s, int64_t *bytes, int64_t *free_bytes);

/*
 * Calls fn for each row of STMT_METRICS_BY_STATUS (STATUS_COUNT_COLUMNS),
 * _BY_LANGUAGE (language, status, count), _VERDICTS (verdict, count)
 * or STMT_METRICS_RUNNERS (RUNNER_COLUMNS of runners not stopped that
 * heartbeated at or after since_ms).
 */
typedef void db_row_fn(void *ctx, struct store_query *row);
enum db_status db_metrics_rows(struct store *s, enum store_stmt id, int64_t since_ms,
			       db_row_fn *fn, void *ctx);

/* Queue depth, age of the oldest QUEUED row in ms (-1 if none), RUNNING count. */
enum db_status db_queue_stats(struct store *s, int64_t *depth, int64_t *oldest_age_ms,
			      int64_t *running);

#endif
