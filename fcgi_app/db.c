/*
 * The API's reads and writes. The SQL is in the store's statement table;
 * here are the binds, the transaction of a Run and the caps it checks.
 * Writes are single statements or one short IMMEDIATE transaction, so a
 * refused or failed request leaves no partial row.
 */
#include "db.h"

#include <stdio.h>
#include <string.h>

#include "artifact.h"
#include "log.h"
#include "render.h"

enum db_status db_failed(struct store *s, const char *what)
{
	log_error("store: %s: %s", what, store_errmsg(s));
	return DB_ERROR;
}

enum db_status db_one_row(struct store *s, struct store_query *q, json_object *(*fn)(struct store_query *),
			  json_object **out, const char *what)
{
	enum store_rc rc = store_step(q);
	enum db_status st = DB_OK;
	if (rc == STORE_ROW)
		*out = fn(q);
	else if (rc == STORE_DONE)
		st = DB_NOT_FOUND;
	else
		st = db_failed(s, what);
	store_reset(q);
	return st;
}

enum db_status db_transaction(struct store *s, enum db_status (*fn)(struct store *s, void *ctx), void *ctx)
{
	if (store_begin(s))
		return db_failed(s, "begin");
	enum db_status st = fn(s, ctx);
	if (st == DB_OK && store_commit(s))
		st = db_failed(s, "commit");
	if (st != DB_OK)
		store_rollback(s);
	return st;
}

/* A new session and what it needs (db_transaction's ctx). */
struct session_write {
	struct learner_quota *lq;
	const char *id;
	const char *language;
	const char *code;
	size_t code_len;
	json_object *files;             /* NULL, or a validated "files" holding the entry */
	const char *entry;
	const char *owner;
	json_object **out;
};

/* The bytes of every file of a new session: what its source_bytes holds. */
static size_t session_bytes(const struct session_write *w)
{
	size_t n = w->code_len;
	for (size_t i = 0; w->files && i < json_object_array_length(w->files); i++) {
		json_object *f = json_object_array_get_idx(w->files, i);
		if (strcmp(json_object_get_string(json_object_object_get(f, "path")), w->entry) != 0)
			n += (size_t)json_object_get_string_len(json_object_object_get(f, "content"));
	}
	return n;
}

/* Inside the transaction of a new session: its files beside the entry. */
static enum db_status insert_files(struct store *s, const char *id, json_object *files, const char *entry)
{
	for (size_t i = 0; files && i < json_object_array_length(files); i++) {
		json_object *f = json_object_array_get_idx(files, i);
		json_object *p = json_object_object_get(f, "path"), *c = json_object_object_get(f, "content");
		if (strcmp(json_object_get_string(p), entry) == 0)
			continue;
		struct store_query *q = store_query(s, STMT_SESSION_FILE_PUT);
		store_bind_text(q, 1, id, UUID_LEN);
		store_bind_text(q, 2, json_object_get_string(p), (size_t)json_object_get_string_len(p));
		store_bind_text(q, 3, json_object_get_string(c), (size_t)json_object_get_string_len(c));
		enum store_rc rc = store_step(q);
		store_reset(q);
		if (rc != STORE_DONE)
			return db_failed(s, "insert session file");
	}
	return DB_OK;
}

static enum db_status session_create_locked(struct store *s, void *ctx)
{
	struct session_write *w = ctx;
	size_t bytes = session_bytes(w);
	enum db_status st = db_quota_session_create(s, w->lq, bytes);
	if (st != DB_OK)
		return st;
	struct store_query *q = store_query(s, STMT_SESSION_INSERT);
	store_bind_text(q, 1, w->id, UUID_LEN);
	store_bind_str(q, 2, w->language);
	store_bind_text(q, 3, w->code, w->code_len);
	store_bind_int64(q, 4, now_ms());
	store_bind_str(q, 5, w->owner);
	store_bind_str(q, 6, w->lq->learner);
	store_bind_int64(q, 7, (int64_t)bytes);
	st = db_one_row(s, q, render_session, w->out, "create session");
	if (st == DB_OK)
		st = insert_files(s, w->id, w->files, w->entry);
	return st == DB_NOT_FOUND ? DB_ERROR : st;
}

enum db_status db_session_create(struct store *s, struct learner_quota *lq, const char *language,
				 const char *code, size_t code_len, json_object *files, const char *entry,
				 const char *owner, json_object **out)
{
	char id[UUID_LEN + 1];
	uuid_new(id);
	*out = NULL;
	struct session_write w = { lq, id, language, code, code_len, files, entry, owner, out };
	enum db_status st = db_transaction(s, session_create_locked, &w);
	if (st == DB_OK)
		st = db_session_add_files(s, id, entry, *out, false);
	if (st != DB_OK && *out) {      /* rendered, then the commit failed */
		json_object_put(*out);
		*out = NULL;
	}
	return st;
}

enum db_status db_session_get(struct store *s, const char *id, json_object **out)
{
	struct store_query *q = store_query(s, STMT_SESSION_GET);
	store_bind_str(q, 1, id);
	return db_one_row(s, q, render_session, out, "get session");
}

/* The count a query returns, or -1. */
static int64_t count_query(struct store *s, enum store_stmt id, const char *session_id)
{
	struct store_query *q = store_query(s, id);
	if (session_id)
		store_bind_str(q, 1, session_id);
	int64_t n = store_step(q) == STORE_ROW ? store_column_int64(q, 0) : -1;
	store_reset(q);
	return n;
}

/*
 * The queue's depth, exact where it decides: a Run's transaction holds only
 * its session's row (store_begin_session), so Runs of other sessions may be
 * inserting beside it, each unseen by the others until it commits. Far
 * from the cap that cannot matter; within QUEUE_DEPTH_SLACK of it the
 * store-wide write lock is taken, which every writer near the cap takes,
 * and the count read again. Exact while fewer than QUEUE_DEPTH_SLACK Runs
 * are being accepted at the same moment on all web hosts together.
 * Locks are taken in one order, so none waits in a circle: the session's
 * row, the write lock, a learner's key (db_quota_run).
 */
enum { QUEUE_DEPTH_SLACK = 64 };       /* 8 web hosts of 8 pool processes */

int db_lock(struct store *s, enum store_stmt lock_stmt, const char *key)
{
	struct store_query *q = store_query(s, lock_stmt);
	if (key)
		store_bind_str(q, 1, key);
	enum store_rc rc = store_step(q);
	store_reset(q);
	return rc == STORE_ROW ? 0 : -1;
}

/* The depth counted with the session's caps, or counted again under the lock near the cap. */
static int64_t queue_depth(struct store *s, int64_t counted, int64_t adding, int64_t cap)
{
	if (counted + adding <= cap - QUEUE_DEPTH_SLACK)
		return counted;
	return db_lock(s, STMT_WRITE_LOCK, NULL) == 0 ? count_query(s, STMT_QUEUE_DEPTH, NULL) : -1;
}

/* The session's runs in flight, the queue's depth and the session's files, in one statement. */
static enum db_status session_caps(struct store *s, const char *session_id, int64_t *in_flight, int64_t *depth,
				   int64_t *files)
{
	struct store_query *q = store_query(s, STMT_SESSION_CAPS);
	store_bind_str(q, 1, session_id);
	enum store_rc rc = store_step(q);
	if (rc == STORE_ROW) {
		*in_flight = store_column_int64(q, SESSION_CAPS_IN_FLIGHT);
		*depth = store_column_int64(q, SESSION_CAPS_QUEUE_DEPTH);
		*files = store_column_int64(q, SESSION_CAPS_FILES);
	}
	store_reset(q);
	if (rc == STORE_ROW)
		return DB_OK;
	return rc == STORE_DONE ? DB_NOT_FOUND : db_failed(s, "session caps");
}

enum db_status db_check_caps(struct store *s, const struct run_caps *caps, const char *session_id,
			     int64_t adding, int64_t *files)
{
	int64_t n, depth, nfiles;
	enum db_status st = session_caps(s, session_id, &n, &depth, &nfiles);
	if (st != DB_OK)
		return st;
	if (files)
		*files = nfiles;
	if (n >= caps->per_session)
		return DB_SESSION_BUSY;
	depth = queue_depth(s, depth, adding, caps->queue_depth);
	if (depth < 0)
		return db_failed(s, "queue depth");
	st = db_quota_run(s, caps->quota);
	if (st != DB_OK)
		return st;
	return depth + adding > caps->queue_depth ? DB_QUEUE_FULL : DB_OK;
}

static enum db_status session_exists(struct store *s, const char *session_id)
{
	struct store_query *q = store_query(s, STMT_SESSION_EXISTS);
	store_bind_str(q, 1, session_id);
	enum store_rc rc = store_step(q);
	store_reset(q);
	if (rc == STORE_ROW)
		return DB_OK;
	return rc == STORE_DONE ? DB_NOT_FOUND : db_failed(s, "find session");
}

/* Inside the transaction: checks the caps and inserts. */
static enum db_status enqueue_locked(struct store *s, const struct run_caps *caps,
				     const char *session_id, const char *kind, const char *stdin_data,
				     size_t stdin_len, bool interactive, const char *exec_id, int64_t now)
{
	/* No such session: DB_NOT_FOUND. */
	int64_t files = 0;
	enum db_status st = db_check_caps(s, caps, session_id, 1, &files);
	if (st != DB_OK)
		return st;
	struct store_query *q = store_query(s, STMT_EXECUTION_INSERT);
	store_bind_text(q, 1, exec_id, UUID_LEN);
	store_bind_text(q, 2, stdin_data ? stdin_data : "", stdin_len);
	store_bind_int64(q, 3, now);
	store_bind_str(q, 4, session_id);
	store_bind_str(q, 5, kind);
	store_bind_int64(q, 6, interactive);
	store_bind_str(q, 7, caps->quota->learner);
	enum store_rc rc = store_step(q);
	store_reset(q);
	if (rc != STORE_DONE)
		return db_failed(s, "insert execution");
	return files > 0 ? db_execution_files_snapshot(s, exec_id, session_id) : DB_OK;
}

enum db_status db_run_enqueue(struct store *s, const struct run_caps *caps, const char *session_id,
			      const char *kind, const char *stdin_data, size_t stdin_len, bool interactive,
			      char exec_id[UUID_LEN + 1], json_object **out)
{
	int64_t now = now_ms();
	uuid_new(exec_id);
	/* The session's row, not the store-wide lock: db_check_caps. */
	if (store_begin_session(s, session_id))
		return db_failed(s, "begin");
	enum db_status st = enqueue_locked(s, caps, session_id, kind, stdin_data, stdin_len, interactive,
					    exec_id, now);
	/* Runners on every host hear of it once it is committed (queue.h). */
	if (st == DB_OK && store_commit_notify(s, STORE_CHANNEL_WAKE, exec_id))
		st = db_failed(s, "commit");
	if (st != DB_OK) {
		store_rollback(s);
		return st;
	}
	*out = render_run_accepted(exec_id, session_id, now);
	return DB_OK;
}

enum db_status db_execution_get(struct store *s, const char *id, json_object **out)
{
	struct store_query *q = store_query(s, STMT_EXECUTION_GET);
	store_bind_str(q, 1, id);
	enum db_status st = db_one_row(s, q, render_execution, out, "get execution");
	if (st == DB_OK && artifacts_add(s, id, *out) < 0) {
		json_object_put(*out);
		*out = NULL;
		st = db_failed(s, "artifacts");
	}
	return st;
}

enum db_status db_artifact_get(struct store *s, const char *id, const char *path, char **data, size_t *len)
{
	struct store_query *q = store_query(s, STMT_ARTIFACT_GET);
	store_bind_str(q, 1, id);
	store_bind_str(q, 2, path);
	enum store_rc rc = store_step(q);
	enum db_status st = DB_OK;
	*data = NULL;
	if (rc == STORE_ROW) {
		size_t n;
		const char *text = store_column_text(q, 1, &n);
		if (!text || !(*data = artifact_decode(text, n, len)))
			st = db_failed(s, "decode artifact");
	} else {
		st = rc == STORE_DONE ? DB_NOT_FOUND : db_failed(s, "get artifact");
	}
	store_reset(q);
	return st;
}

/* Runs a cancel write of execution id (?1; ?2 is now when the statement takes it).
 * Returns the rows it changed, or -1. */
static int64_t cancel_write(struct store *s, enum store_stmt stmt, const char *id, int64_t now)
{
	struct store_query *q = store_query(s, stmt);
	store_bind_str(q, 1, id);
	if (store_param_count(q) > 1)
		store_bind_int64(q, 2, now);
	enum store_rc rc = store_step(q);
	int64_t changed = rc == STORE_DONE ? store_changes(q) : -1;
	store_reset(q);
	return changed;
}

/* Inside the transaction: the first of the two cancel writes that applies,
 * else whether the execution was cancelled already. */
static enum db_status cancel_locked(struct store *s, const char *id, int64_t now)
{
	int64_t changed = cancel_write(s, STMT_CANCEL_QUEUED, id, now);
	if (changed == 0)
		changed = cancel_write(s, STMT_CANCEL_RUNNING, id, now);
	if (changed < 0)
		return db_failed(s, "cancel");
	if (changed > 0)
		return DB_OK;
	struct store_query *q = store_query(s, STMT_CANCEL_STATE);
	store_bind_str(q, 1, id);
	enum store_rc rc = store_step(q);
	enum db_status st = DB_NOT_FOUND;
	if (rc == STORE_ROW) {
		const char *code = store_column_text(q, CANCEL_STATE_ERROR_CODE, NULL);
		st = code && strcmp(code, "CANCELLED") == 0 ? DB_OK : DB_NOT_RUNNING;
	} else if (rc != STORE_DONE) {
		st = db_failed(s, "execution state");
	}
	store_reset(q);
	return st;
}

enum db_status db_execution_cancel(struct store *s, const char *id, json_object **out)
{
	if (store_begin(s))
		return db_failed(s, "begin");
	enum db_status st = cancel_locked(s, id, now_ms());
	if (st == DB_OK && store_commit(s))
		st = db_failed(s, "commit");
	if (st != DB_OK) {
		store_rollback(s);
		return st;
	}
	return db_execution_get(s, id, out);
}

enum db_status db_page(struct store *s, enum store_stmt id, const char *session_id, int64_t before,
		       int limit, int seq_col, db_page_row_fn *row, const char *key, json_object **out)
{
	struct store_query *q = store_query(s, id);
	store_bind_str(q, 1, session_id);
	store_bind_int64(q, 2, before > 0 ? before : INT64_MAX);
	store_bind_int64(q, 3, limit + 1);      /* one more tells whether a next page exists */
	json_object *items = json_object_new_array();
	int64_t last_seq = 0;
	int n = 0;
	enum db_status st = DB_OK;
	enum store_rc rc;
	/* The row after the page, if there is one, says that another page follows. */
	while (st == DB_OK && (rc = store_step(q)) == STORE_ROW && n < limit) {
		json_object *item = NULL;
		if ((st = row(s, q, &item)) == DB_OK)
			json_object_array_add(items, item);
		last_seq = store_column_int64(q, seq_col);
		n++;
	}
	store_reset(q);
	if (st == DB_OK && rc != STORE_ROW && rc != STORE_DONE)
		st = db_failed(s, key);
	if (st != DB_OK) {
		json_object_put(items);
		return st;
	}
	*out = render_page(key, items, rc == STORE_ROW ? last_seq : 0);
	return DB_OK;
}

static enum db_status execution_item(struct store *s, struct store_query *q, json_object **item)
{
	(void)s;
	*item = render_execution(q);
	return DB_OK;
}

enum db_status db_execution_list(struct store *s, const char *session_id, int64_t before,
				 int limit, json_object **out)
{
	enum db_status st = session_exists(s, session_id);
	if (st != DB_OK)
		return st;
	st = db_page(s, STMT_EXECUTION_LIST, session_id, before, limit, EXECUTION_SEQ, execution_item,
		     "executions", out);
	/* After the page's query is done: one connection runs one statement at a time. */
	json_object *items = st == DB_OK ? json_object_object_get(*out, "executions") : NULL;
	for (size_t i = 0; items && i < json_object_array_length(items); i++) {
		json_object *e = json_object_array_get_idx(items, i);
		if (artifacts_add(s, json_object_get_string(json_object_object_get(e, "execution_id")), e) < 0) {
			json_object_put(*out);
			*out = NULL;
			return db_failed(s, "artifacts");
		}
	}
	return st;
}

/* The runners alive at now, rendered, into the array list. */
static enum db_status alive_runners(struct store *s, int64_t now, int64_t stale_ms,
				    json_object *list)
{
	struct store_query *q = store_query(s, STMT_RUNNERS);
	store_bind_int64(q, 1, now - stale_ms);
	enum store_rc rc;
	while ((rc = store_step(q)) == STORE_ROW)
		json_object_array_add(list, render_runner(q, now));
	store_reset(q);
	return rc == STORE_DONE ? DB_OK : db_failed(s, "runners");
}

/* The first entry of the runners' arrays (all) whose id is id, or NULL. */
static json_object *reported(json_object *all, const char *id)
{
	for (size_t i = 0; i < json_object_array_length(all); i++) {
		json_object *arr = json_object_array_get_idx(all, i);
		for (size_t j = 0; json_object_is_type(arr, json_type_array) &&
				   j < json_object_array_length(arr); j++) {
			json_object *l = json_object_array_get_idx(arr, j);
			const char *lid = json_object_get_string(json_object_object_get(l, "id"));
			if (lid && strcmp(lid, id) == 0)
				return l;
		}
	}
	return NULL;
}

enum db_status db_languages(struct store *s, int64_t stale_ms, const struct language_table *t,
			    json_object **out)
{
	int64_t now = store_clock_ms(s);
	if (now < 0)
		return db_failed(s, "store clock");
	struct store_query *q = store_query(s, STMT_RUNNER_LANGUAGES);
	json_object *all = json_object_new_array();
	enum store_rc rc;

	store_bind_int64(q, 1, now - stale_ms);
	while ((rc = store_step(q)) == STORE_ROW) {
		json_object *arr = json_tokener_parse(store_column_text(q, 0, NULL));
		if (arr)
			json_object_array_add(all, arr);
	}
	store_reset(q);
	if (rc != STORE_DONE) {
		json_object_put(all);
		return db_failed(s, "runner languages");
	}
	json_object *list = json_object_new_array();
	for (int i = 0; i < t->n; i++) {
		json_object *l = reported(all, t->langs[i].id);
		if (l)
			json_object_array_add(list, json_object_get(l));
	}
	json_object_put(all);
	*out = json_object_new_object();
	json_object_object_add(*out, "languages", list);
	return DB_OK;
}

enum db_status db_health(struct store *s, int64_t stale_ms, json_object **out)
{
	int64_t depth, oldest_age_ms, running;
	/* Heartbeats are taken on the store's clock: ages too, whatever this host's says. */
	int64_t now = store_clock_ms(s);
	if (now < 0)
		return db_failed(s, "store clock");
	if (db_queue_stats(s, &depth, &oldest_age_ms, &running) != DB_OK)
		return DB_ERROR;
	json_object *runners = json_object_new_array();
	if (alive_runners(s, now, stale_ms, runners) != DB_OK) {
		json_object_put(runners);
		return DB_ERROR;
	}
	*out = render_health(depth, running, oldest_age_ms, runners);
	return DB_OK;
}

enum db_status db_metrics_counter(struct store *s, const char *name, int64_t *value)
{
	struct store_query *q = store_query(s, STMT_METRICS_COUNTER);
	store_bind_str(q, 1, name);
	enum store_rc rc = store_step(q);
	*value = rc == STORE_ROW ? store_column_int64(q, 0) : 0;
	store_reset(q);
	return rc == STORE_ROW ? DB_OK : db_failed(s, "metrics counter");
}

enum db_status db_store_size(struct store *s, int64_t *bytes, int64_t *free_bytes)
{
	struct store_query *q = store_query(s, STMT_METRICS_STORE_SIZE);
	enum store_rc rc = store_step(q);
	*bytes = rc == STORE_ROW ? store_column_int64(q, STORE_SIZE_BYTES) : 0;
	*free_bytes = rc == STORE_ROW ? store_column_int64(q, STORE_SIZE_FREE_BYTES) : 0;
	store_reset(q);
	return rc == STORE_ROW ? DB_OK : db_failed(s, "store size");
}

enum db_status db_metrics_rows(struct store *s, enum store_stmt id, int64_t since_ms,
			       db_row_fn *fn, void *ctx)
{
	struct store_query *q = store_query(s, id);
	if (store_param_count(q) > 0)
		store_bind_int64(q, 1, since_ms);
	enum store_rc rc;
	while ((rc = store_step(q)) == STORE_ROW)
		fn(ctx, q);
	store_reset(q);
	return rc == STORE_DONE ? DB_OK : db_failed(s, "metrics rows");
}

enum db_status db_queue_stats(struct store *s, int64_t *depth, int64_t *oldest_age_ms,
			      int64_t *running)
{
	struct store_query *q = store_query(s, STMT_QUEUE_STATS);
	if (store_step(q) != STORE_ROW) {
		store_reset(q);
		return db_failed(s, "queue stats");
	}
	*depth = store_column_int64(q, QUEUE_STATS_DEPTH);
	*oldest_age_ms = store_column_is_null(q, QUEUE_STATS_OLDEST_QUEUED_AT) ? -1
			 : now_ms() - store_column_int64(q, QUEUE_STATS_OLDEST_QUEUED_AT);
	*running = store_column_int64(q, QUEUE_STATS_RUNNING);
	store_reset(q);
	return DB_OK;
}
