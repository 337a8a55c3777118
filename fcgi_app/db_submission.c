/*
 * Submissions in the store (db.h): the transaction of a submit, and the
 * reads behind GET /submissions/{id} and a session's list. The cases run
 * as executions of kind 'case'; render_submission.c turns their rows and
 * the suite version into what the learner may see.
 */
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "render_submission.h"

/* Whether the session exists and (langs not NULL) its language compiles: its cases after the first then wait for it. */
static enum db_status session_compiles(struct store *s, const struct language_table *langs,
				       const char *session_id, bool *compiles)
{
	struct store_query *q = store_query(s, STMT_SESSION_GET);
	store_bind_str(q, 1, session_id);
	enum store_rc rc = store_step(q);
	if (rc == STORE_ROW && langs) {
		const struct language *l = languages_find(langs, store_column_text(q, SESSION_LANGUAGE, NULL));
		*compiles = l && l->compile.n > 0;
	}
	store_reset(q);
	if (rc == STORE_ROW)
		return DB_OK;
	return rc == STORE_DONE ? DB_NOT_FOUND : db_failed(s, "find session");
}

/* The suite's newest version and its body (owned by the caller), or DB_SUITE_NOT_FOUND. */
static enum db_status suite_current(struct store *s, const char *suite_id, int64_t *version, json_object **body)
{
	struct store_query *q = store_query(s, STMT_SUITE_CURRENT);
	store_bind_str(q, 1, suite_id);
	enum store_rc rc = store_step(q);
	if (rc == STORE_ROW) {
		*version = store_column_int64(q, 0);
		*body = json_tokener_parse(store_column_text(q, 1, NULL));
	}
	store_reset(q);
	if (rc == STORE_ROW)
		return *body ? DB_OK : db_failed(s, "read test suite");
	return rc == STORE_DONE ? DB_SUITE_NOT_FOUND : db_failed(s, "find test suite");
}

/* The compare mode as the runner reads it: exact, trim, tokens or float_tolerance:<x>. */
static void compare_mode(json_object *body, char *out, size_t outlen)
{
	json_object *c = json_object_object_get(body, "compare");
	if (json_object_is_type(c, json_type_string))
		snprintf(out, outlen, "%s", json_object_get_string(c));
	else
		snprintf(out, outlen, "float_tolerance:%.17g",
			 json_object_get_double(json_object_object_get(c, "float_tolerance")));
}

static const char *member_text(json_object *o, const char *name, size_t *len)
{
	json_object *v = json_object_object_get(o, name);
	*len = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

/* Inserts case i of the suite as a QUEUED execution with id case_id. */
static enum db_status case_insert(struct store *s, const char *session_id, const char *submission_id,
				  json_object *c, int i, const char *compare, bool after_first,
				  const char *case_id, const char *learner, int64_t now)
{
	size_t in_len, exp_len;
	const char *in = member_text(c, "stdin", &in_len);
	const char *expected = member_text(c, "expected_stdout", &exp_len);
	json_object *limit = json_object_object_get(c, "time_limit_ms");
	struct store_query *q = store_query(s, STMT_CASE_INSERT);
	store_bind_text(q, 1, case_id, UUID_LEN);
	store_bind_text(q, 2, in, in_len);
	store_bind_int64(q, 3, now);
	store_bind_str(q, 4, submission_id);
	store_bind_int64(q, 5, i);
	if (limit)
		store_bind_int64(q, 6, json_object_get_int64(limit));
	else
		store_bind_null(q, 6);
	store_bind_text(q, 7, expected, exp_len);
	store_bind_str(q, 8, compare);
	store_bind_int64(q, 9, after_first && i > 0);
	store_bind_str(q, 10, session_id);
	store_bind_str(q, 11, learner);
	enum store_rc rc = store_step(q);
	store_reset(q);
	if (rc != STORE_DONE)
		return db_failed(s, "insert case");
	return db_execution_files_snapshot(s, case_id, session_id);
}

static enum db_status submission_insert(struct store *s, const char *id, const char *session_id,
					const char *suite_id, int64_t version, bool stop, int64_t now)
{
	struct store_query *q = store_query(s, STMT_SUBMISSION_INSERT);
	store_bind_str(q, 1, id);
	store_bind_str(q, 2, session_id);
	store_bind_str(q, 3, suite_id);
	store_bind_int64(q, 4, version);
	store_bind_int64(q, 5, stop);
	store_bind_int64(q, 6, now);
	enum store_rc rc = store_step(q);
	store_reset(q);
	return rc == STORE_DONE ? DB_OK : db_failed(s, "insert submission");
}

struct submit_rows {
	const char *id;
	int64_t version;
	json_object *body;
	char (*case_ids)[UUID_LEN + 1];
	int ncases;
};

/* Inside the transaction: the checks, then every row. */
static enum db_status submit_locked(struct store *s, const struct run_caps *caps,
				    const struct language_table *langs, const char *session_id,
				    const char *suite_id, bool stop, struct submit_rows *r, int64_t now)
{
	bool compiles = false;
	enum db_status st = session_compiles(s, langs, session_id, &compiles);
	if (st == DB_OK)
		st = suite_current(s, suite_id, &r->version, &r->body);
	json_object *cases = json_object_object_get(r->body, "cases");
	if (st == DB_OK)
		st = db_check_caps(s, caps, session_id, (int64_t)json_object_array_length(cases), NULL);
	if (st == DB_OK)
		st = submission_insert(s, r->id, session_id, suite_id, r->version, stop, now);
	if (st != DB_OK)
		return st;
	char compare[64];
	compare_mode(r->body, compare, sizeof compare);
	r->ncases = (int)json_object_array_length(cases);
	r->case_ids = calloc((size_t)r->ncases, sizeof *r->case_ids);
	if (!r->case_ids)
		return db_failed(s, "out of memory");
	for (int i = 0; i < r->ncases && st == DB_OK; i++) {
		uuid_new(r->case_ids[i]);
		st = case_insert(s, session_id, r->id, json_object_array_get_idx(cases, (size_t)i), i, compare,
				 compiles, r->case_ids[i], caps->quota->learner, now);
	}
	return st;
}

enum db_status db_submit(struct store *s, const struct run_caps *caps, const struct language_table *langs,
			 const char *session_id, const char *suite_id, bool stop_on_first_failure,
			 char (**case_ids)[UUID_LEN + 1], int *ncases, json_object **out)
{
	char id[UUID_LEN + 1];
	int64_t now = now_ms();
	struct submit_rows r = { .id = id };
	uuid_new(id);
	/* As a Run's (db_run_enqueue): the session's row, and the store-wide
	 * lock only near the queue's cap. */
	if (store_begin_session(s, session_id))
		return db_failed(s, "begin");
	enum db_status st = submit_locked(s, caps, langs, session_id, suite_id, stop_on_first_failure, &r, now);
	if (st == DB_OK && store_commit(s))
		st = db_failed(s, "commit");
	if (st != DB_OK) {
		store_rollback(s);
		free(r.case_ids);
		json_object_put(r.body);
		return st;
	}
	*case_ids = r.case_ids;
	*ncases = r.ncases;
	*out = render_submission_accepted(id, session_id, suite_id, r.version, r.ncases, now);
	json_object_put(r.body);
	return DB_OK;
}

/* The submission of the current row of q with its cases, rendered. */
static enum db_status submission_with_cases(struct store *s, struct store_query *row, json_object **out)
{
	return render_submission_row(s, row, out) == STORE_DONE ? DB_OK : db_failed(s, "submission cases");
}

enum db_status db_submission_get(struct store *s, const char *id, json_object **out)
{
	enum store_rc rc = render_submission_get(s, id, out);
	return rc == STORE_ROW ? DB_OK : rc == STORE_DONE ? DB_NOT_FOUND : db_failed(s, "get submission");
}

enum db_status db_submission_list(struct store *s, const char *session_id, int64_t before, int limit,
				  json_object **out)
{
	bool compiles;
	enum db_status st = session_compiles(s, NULL, session_id, &compiles);
	if (st != DB_OK)
		return st;
	return db_page(s, STMT_SUBMISSION_LIST, session_id, before, limit, SUBMISSION_SEQ,
		       submission_with_cases, "submissions", out);
}
