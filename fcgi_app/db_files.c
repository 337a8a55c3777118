/*
 * A session's files. The entry file (its name is the language's file,
 * e.g. main.py) keeps its content in sessions.source_code, so every
 * reader of a single-file session is unchanged; the others are rows of
 * session_files, copied into execution_files by each Run in the Run's
 * own transaction. A write that changes what the session holds checks,
 * in its transaction, that the whole still fits the limits and the source
 * quota of the session's learner, and keeps sessions.source_bytes, which
 * that quota sums, the bytes of all the session's files.
 */
#include "db.h"

#include <stdio.h>
#include <string.h>

#include "render.h"

/* One file of the reply: {"path", "content"}. */
static json_object *file_object(const char *path, const char *content, size_t len)
{
	json_object *f = json_object_new_object();
	json_object_object_add(f, "path", json_object_new_string(path));
	json_object_object_add(f, "content", json_object_new_string_len(content, (int)len));
	return f;
}

enum db_status db_session_add_files(struct store *s, const char *id, const char *entry, json_object *session,
				    bool entry_only)
{
	json_object *files = json_object_new_array();
	json_object *code = json_object_object_get(session, "source_code");
	json_object_array_add(files, file_object(entry, json_object_get_string(code),
						 (size_t)json_object_get_string_len(code)));
	if (entry_only) {
		json_object_object_add(session, "entry", json_object_new_string(entry));
		json_object_object_add(session, "files", files);
		return DB_OK;
	}
	struct store_query *q = store_query(s, STMT_SESSION_FILES);
	store_bind_str(q, 1, id);
	enum store_rc rc;
	while ((rc = store_step(q)) == STORE_ROW) {
		size_t len;
		const char *content = store_column_text(q, FILE_CONTENT, &len);
		json_object_array_add(files, file_object(store_column_text(q, FILE_PATH, NULL), content, len));
	}
	store_reset(q);
	if (rc != STORE_DONE) {
		json_object_put(files);
		return db_failed(s, "session files");
	}
	json_object_object_add(session, "entry", json_object_new_string(entry));
	json_object_object_add(session, "files", files);
	return DB_OK;
}

/* What a session holds after a write of len bytes to path, to check against the limits. */
struct files_after {
	int64_t count;
	int64_t bytes;
	const char *collides;           /* a file that is a directory of path, or the reverse */
	char collides_buf[FILE_PATH_MAX + 1];
};

/* Sums the session's files as they will be once path holds len bytes. DB_NOT_FOUND: no session. */
static enum db_status files_after_write(struct store *s, const char *id, const char *entry, const char *path,
					size_t len, struct files_after *a)
{
	struct store_query *q = store_query(s, STMT_SESSION_FILE_SIZES);
	store_bind_str(q, 1, id);
	enum store_rc rc;
	bool any = false;
	*a = (struct files_after){ .count = 1, .bytes = (int64_t)len };
	while ((rc = store_step(q)) == STORE_ROW) {
		const char *p = store_column_text(q, 0, NULL);
		const char *name = p && p[0] ? p : entry;
		any = true;
		if (strcmp(name, path) == 0)
			continue;       /* replaced: counted as the new content */
		a->count++;
		a->bytes += store_column_int64(q, 1);
		if (!a->collides && file_paths_collide(name, path)) {
			snprintf(a->collides_buf, sizeof a->collides_buf, "%s", name);
			a->collides = a->collides_buf;
		}
	}
	store_reset(q);
	if (rc != STORE_DONE)
		return db_failed(s, "session file sizes");
	return any ? DB_OK : DB_NOT_FOUND;
}

/*
 * Inside the write's transaction: DB_OK if path may hold len bytes, with *a
 * what the session holds then; else DB_INVALID with err, or the learner's
 * quota's refusal (lq->refused).
 */
static enum db_status files_fit(struct store *s, struct learner_quota *lq, const struct file_limits *lim,
				const char *id, const char *entry, const char *path, size_t len,
				struct verror *err, struct files_after *a)
{
	enum db_status st = files_after_write(s, id, entry, path, len, a);
	if (st != DB_OK)
		return st;
	const char *f = verror_field(err, path, strlen(path));
	if (a->collides)
		verror_set(err, "PATH_CONFLICT", f, "%.64s and the session's %.64s are a file and its directory",
			   f, a->collides);
	else if (a->count > lim->max_files)
		verror_set(err, "TOO_MANY_FILES", f, "with %.64s the session has more than max_session_files "
			   "(%d) files", f, lim->max_files);
	else if (a->bytes > lim->max_bytes)
		verror_set(err, "SESSION_TOO_LARGE", f, "with %.64s the session's files pass max_session_bytes "
			   "(%ld bytes)", f, lim->max_bytes);
	else
		return db_quota_source_update(s, lq, id, (size_t)a->bytes);
	return DB_INVALID;
}

/* Runs a write of session id's files (?1 the session, ?2 the path, ?3 the content if it has one). */
static enum db_status file_write(struct store *s, enum store_stmt id_stmt, const char *id, const char *path,
				 const char *content, size_t len, int64_t *changed)
{
	struct store_query *q = store_query(s, id_stmt);
	store_bind_str(q, 1, id);
	store_bind_str(q, 2, path);
	if (content)
		store_bind_text(q, 3, content, len);
	enum store_rc rc = store_step(q);
	if (changed)
		*changed = store_changes(q);
	store_reset(q);
	return rc == STORE_DONE ? DB_OK : db_failed(s, "write session file");
}

/* The session's updated_at, moved to now (never back), and its source_bytes, now total. */
static enum db_status touch(struct store *s, const char *id, int64_t total, int64_t *updated_at)
{
	struct store_query *q = store_query(s, STMT_SESSION_TOUCH);
	store_bind_str(q, 1, id);
	store_bind_int64(q, 2, now_ms());
	store_bind_int64(q, 3, total);
	enum store_rc rc = store_step(q);
	if (rc == STORE_ROW)
		*updated_at = store_column_int64(q, 0);
	store_reset(q);
	if (rc == STORE_ROW)
		return DB_OK;
	return rc == STORE_DONE ? DB_NOT_FOUND : db_failed(s, "touch session");
}

/*
 * Begins a write of session id's files: it waits only for the session's
 * other writers (store_begin_session). A missing session is found by the
 * statements that follow.
 */
static enum db_status begin_session_write(struct store *s, const char *id)
{
	if (store_begin_session(s, id))
		return db_failed(s, "begin");
	return DB_OK;
}

/* Commits if st is DB_OK, else rolls back; returns the outcome. */
static enum db_status finish(struct store *s, enum db_status st)
{
	if (st == DB_OK && store_commit(s))
		st = db_failed(s, "commit");
	if (st != DB_OK)
		store_rollback(s);
	return st;
}

/* The entry file's content, and total as the session's source_bytes. */
static struct store_query *entry_update(struct store *s, const char *id, const char *code, size_t len,
					int64_t total)
{
	struct store_query *q = store_query(s, STMT_SESSION_UPDATE);
	store_bind_str(q, 1, id);
	store_bind_text(q, 2, code, len);
	store_bind_int64(q, 3, now_ms());
	store_bind_int64(q, 4, total);
	return q;
}

static enum db_status put_locked(struct store *s, struct learner_quota *lq, const struct file_limits *lim,
				 const char *id, const char *entry, const char *path, const char *content,
				 size_t len, struct verror *err, int64_t *updated_at)
{
	struct files_after a;
	enum db_status st = files_fit(s, lq, lim, id, entry, path, len, err, &a);
	if (st != DB_OK)
		return st;
	if (strcmp(path, entry) == 0) {
		struct store_query *q = entry_update(s, id, content, len, a.bytes);
		enum store_rc rc = store_step(q);
		store_reset(q);
		st = rc == STORE_ROW ? DB_OK : db_failed(s, "update entry file");
	} else {
		st = file_write(s, STMT_SESSION_FILE_PUT, id, path, content, len, NULL);
	}
	return st == DB_OK ? touch(s, id, a.bytes, updated_at) : st;
}

enum db_status db_file_put(struct store *s, struct learner_quota *lq, const struct file_limits *lim,
			   const char *id, const char *entry, const char *path, const char *content, size_t len,
			   struct verror *err, json_object **out)
{
	int64_t updated_at = 0;
	enum db_status st = begin_session_write(s, id);
	if (st != DB_OK)
		return st;
	st = finish(s, put_locked(s, lq, lim, id, entry, path, content, len, err, &updated_at));
	if (st != DB_OK)
		return st;
	*out = render_file_saved(id, path, len, updated_at);
	return DB_OK;
}

/*
 * An autosave without a learner's quota to keep: one statement, which
 * writes only where the session's files stay within max_bytes. DB_NOT_FOUND
 * when it wrote nothing (no such session, or too large: the transaction of
 * db_session_update tells which).
 */
static enum db_status autosave_alone(struct store *s, const struct file_limits *lim, const char *id,
				     const char *code, size_t len, json_object **out, bool *entry_only)
{
	struct store_query *q = store_query(s, STMT_SESSION_AUTOSAVE);
	store_bind_str(q, 1, id);
	store_bind_text(q, 2, code, len);
	store_bind_int64(q, 3, now_ms());
	store_bind_int64(q, 4, (int64_t)len);
	store_bind_int64(q, 5, lim->max_bytes);
	enum store_rc rc = store_step(q);
	enum db_status st = DB_OK;
	if (rc == STORE_ROW) {
		*out = render_session(q);
		*entry_only = store_column_int64(q, SESSION_HAS_OTHER_FILES) == 0;
	} else {
		st = rc == STORE_DONE ? DB_NOT_FOUND : db_failed(s, "autosave");
	}
	store_reset(q);
	return st;
}

enum db_status db_session_update(struct store *s, struct learner_quota *lq, const struct file_limits *lim,
				 const char *id, const char *code, size_t code_len, struct verror *err,
				 json_object **out, bool *entry_only)
{
	struct files_after a = { 0 };
	*out = NULL;
	if (!lq->source_bytes) {
		enum db_status done = autosave_alone(s, lim, id, code, code_len, out, entry_only);
		if (done != DB_NOT_FOUND)
			return done;
	}
	enum db_status st = begin_session_write(s, id);
	if (st != DB_OK)
		return st;
	/* The entry's own name does not matter here: only sizes and counts are checked. */
	st = files_fit(s, lq, lim, id, "", "", code_len, err, &a);
	*entry_only = a.count == 1;
	if (st == DB_OK) {
		st = db_one_row(s, entry_update(s, id, code, code_len, a.bytes), render_session, out,
				"update session");
	} else if (st == DB_INVALID) {
		err->field = "source_code";
	}
	st = finish(s, st);
	if (st != DB_OK && *out) {      /* rendered, then the commit failed */
		json_object_put(*out);
		*out = NULL;
	}
	return st;
}

enum db_status db_file_delete(struct store *s, const char *id, const char *entry, const char *path)
{
	int64_t changed = 0, updated_at;
	if (strcmp(path, entry) == 0)
		return DB_ENTRY_FILE;
	enum db_status st = begin_session_write(s, id);
	if (st != DB_OK)
		return st;
	st = file_write(s, STMT_SESSION_FILE_DELETE, id, path, NULL, 0, &changed);
	int64_t total = 0;
	if (st == DB_OK && changed == 0)
		st = DB_FILE_NOT_FOUND;
	if (st == DB_OK)
		st = db_session_source_bytes(s, id, &total);
	if (st == DB_OK)
		st = touch(s, id, total, &updated_at);
	return finish(s, st);
}

enum db_status db_session_source_bytes(struct store *s, const char *session_id, int64_t *bytes)
{
	struct store_query *q = store_query(s, STMT_SESSION_SOURCE_BYTES);
	store_bind_str(q, 1, session_id);
	enum store_rc rc = store_step(q);
	if (rc == STORE_ROW)
		*bytes = store_column_int64(q, 0);
	store_reset(q);
	if (rc == STORE_ROW)
		return DB_OK;
	return rc == STORE_DONE ? DB_NOT_FOUND : db_failed(s, "session source bytes");
}

enum db_status db_execution_files_snapshot(struct store *s, const char *exec_id, const char *session_id)
{
	struct store_query *q = store_query(s, STMT_EXECUTION_FILES_SNAPSHOT);
	store_bind_str(q, 1, exec_id);
	store_bind_str(q, 2, session_id);
	enum store_rc rc = store_step(q);
	store_reset(q);
	return rc == STORE_DONE ? DB_OK : db_failed(s, "snapshot session files");
}
