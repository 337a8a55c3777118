/* POST /code-sessions, GET and PATCH /code-sessions/{id}, PUT and DELETE .../files/{path}, POST .../run. */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "queue.h"

void request_quota(const struct app *app, const struct request *req, struct learner_quota *lq)
{
	/* Without tokens, the address is all that tells learners apart (a
	 * proxy's clients share its address: README, "Quotas and the fair queue"). */
	*lq = (struct learner_quota) {
		.learner = auth_required(app->auth) ? req->who.sub : req->remote_addr,
		.runs_per_minute = app->cfg.quota_runs_per_minute,
		.concurrent_runs = app->cfg.quota_concurrent_runs,
		.sessions_per_hour = app->cfg.quota_sessions_per_hour,
		.source_bytes = app->cfg.quota_source_bytes,
	};
}

/* The entry file of a session in language: the language's file (main.py, Main.java, ...). */
static const char *entry_of(const struct app *app, const char *language)
{
	const struct language *l = language ? languages_find(&app->langs, language) : NULL;
	return l ? l->file : "main";
}

/* The entry's content among files, or NULL (err set) when files lacks it or entry names another. */
static const char *entry_content(const struct request *req, const char *entry, size_t *len, struct verror *err)
{
	const struct field_value *given = &req->input.fields[FIELD_ENTRY];
	json_object *files = req->input.fields[FIELD_FILES].json;
	if (given->present && strcmp(given->str, entry) != 0) {
		verror_set(err, "INVALID_FIELD", "entry", "entry must be %s, the file this language runs", entry);
		return NULL;
	}
	if (!files) {           /* template_code is the entry's content */
		const struct field_value *code = &req->input.fields[FIELD_TEMPLATE_CODE];
		*len = code->len;
		return code->present ? code->str : "";
	}
	for (size_t i = 0; i < json_object_array_length(files); i++) {
		json_object *f = json_object_array_get_idx(files, i);
		if (strcmp(json_object_get_string(json_object_object_get(f, "path")), entry) == 0) {
			json_object *c = json_object_object_get(f, "content");
			*len = (size_t)json_object_get_string_len(c);
			return json_object_get_string(c);
		}
	}
	verror_set(err, "INVALID_FIELD", "entry", "files must hold the entry file, %s", entry);
	return NULL;
}

void session_create(struct app *app, struct request *req, struct response *res)
{
	const struct field_value *lang = &req->input.fields[FIELD_LANGUAGE];
	const struct field_value *code = &req->input.fields[FIELD_TEMPLATE_CODE];
	const struct field_value *files = &req->input.fields[FIELD_FILES];
	const char *entry = entry_of(app, lang->str);
	const char *content = code->present ? code->str : "";
	size_t len = code->len;
	struct verror err;
	struct learner_quota lq;
	if (files->present && code->present) {
		verror_set(&err, "INVALID_FIELD", "template_code", "give template_code or files, not both");
		reply_invalid(res, &err);
		return;
	}
	if ((files->present || req->input.fields[FIELD_ENTRY].present) &&
	    !(content = entry_content(req, entry, &len, &err))) {
		reply_invalid(res, &err);
		return;
	}
	json_object *out = NULL;
	request_quota(app, req, &lq);
	enum db_status s = db_session_create(app->store, &lq, lang->str, content, len, files->json, entry,
					     req->who.sub, &out);
	if (s != DB_OK) {
		reply_refused(res, s, "session", &lq);
		return;
	}
	snprintf(res->location, sizeof(res->location), "/code-sessions/%s",
		 json_object_get_string(json_object_object_get(out, "session_id")));
	http_reply(res, 201, out);
}

/* The session out (a rendered row) with its files (entry_only: known to be
 * the entry alone), or out freed when they cannot be read. */
static enum db_status with_files(struct app *app, const char *id, enum db_status s, json_object *out,
				 bool entry_only)
{
	if (s != DB_OK)
		return s;
	const char *language = json_object_get_string(json_object_object_get(out, "language"));
	s = db_session_add_files(app->store, id, entry_of(app, language), out, entry_only);
	if (s != DB_OK)
		json_object_put(out);
	return s;
}

void session_get(struct app *app, struct request *req, struct response *res)
{
	json_object *out = NULL;
	enum db_status s = db_session_get(app->store, req->id, &out);
	reply_db_result(res, with_files(app, req->id, s, out, false), 200, out, "session");
}

static struct file_limits file_limits(const struct app *app)
{
	return (struct file_limits){ app->cfg.max_session_files, app->cfg.max_session_bytes };
}

/* Replies to a write of a session's files: 200 with out, or the error (a rule's, a quota's, the store's). */
static void reply_write(struct response *res, enum db_status s, json_object *out, const struct verror *err,
			const struct learner_quota *lq)
{
	if (s == DB_OK)
		http_reply(res, 200, out);
	else if (s == DB_INVALID)
		reply_invalid(res, err);
	else
		reply_refused(res, s, "session", lq);
}

void session_update(struct app *app, struct request *req, struct response *res)
{
	const struct field_value *code = &req->input.fields[FIELD_SOURCE_CODE];
	struct file_limits lim = file_limits(app);
	struct verror err;
	struct learner_quota lq;
	json_object *out = NULL;
	bool entry_only = false;
	request_quota(app, req, &lq);
	enum db_status s = db_session_update(app->store, &lq, &lim, req->id, code->str, code->len, &err, &out,
					     &entry_only);
	reply_write(res, with_files(app, req->id, s, out, entry_only), out, &err, &lq);
}

/* The entry file of session id, from its language. Returns 0, or -1 with the reply set. */
static int session_entry(struct app *app, struct request *req, struct response *res, const char **entry)
{
	json_object *session = NULL;
	enum db_status s = db_session_get(app->store, req->id, &session);
	if (s != DB_OK) {
		reply_db_status(res, s, "session");
		return -1;
	}
	*entry = entry_of(app, json_object_get_string(json_object_object_get(session, "language")));
	json_object_put(session);
	return 0;
}

void file_put(struct app *app, struct request *req, struct response *res)
{
	const struct field_value *content = &req->input.fields[FIELD_CONTENT];
	struct file_limits lim = file_limits(app);
	struct verror err;
	struct learner_quota lq;
	const char *entry;
	json_object *out = NULL;
	if (session_entry(app, req, res, &entry))
		return;
	request_quota(app, req, &lq);
	enum db_status s = db_file_put(app->store, &lq, &lim, req->id, entry, req->file_path, content->str,
				       content->len, &err, &out);
	reply_write(res, s, out, &err, &lq);
}

void file_delete(struct app *app, struct request *req, struct response *res)
{
	const char *entry;
	if (session_entry(app, req, res, &entry))
		return;
	enum db_status s = db_file_delete(app->store, req->id, entry, req->file_path);
	if (s != DB_OK) {
		reply_db_status(res, s, "session");
		return;
	}
	http_reply(res, 204, NULL);
}

/* Queues an execution of the session's current code: kind "run" or "check". */
static void enqueue(struct app *app, struct request *req, struct response *res, const char *kind,
		    const struct field_value *in, bool interactive)
{
	struct learner_quota lq;
	request_quota(app, req, &lq);
	struct run_caps caps = { app->cfg.max_runs_per_session, app->cfg.max_queue_depth, &lq };
	char exec_id[UUID_LEN + 1];
	json_object *out = NULL;
	enum db_status s = db_run_enqueue(app->store, &caps, req->id, kind, in ? in->str : NULL,
					  in ? in->len : 0, interactive, exec_id, &out);
	if (s != DB_OK) {
		reply_refused(res, s, "session", &lq);
		return;
	}
	/* Only after the commit: the row must exist before any runner hears of it. */
	queue_push(app, exec_id);
	snprintf(res->location, sizeof(res->location), "/executions/%s", exec_id);
	http_reply(res, 202, out);
}

void session_run(struct app *app, struct request *req, struct response *res)
{
	const struct field_value *interactive = &req->input.fields[FIELD_INTERACTIVE];
	enqueue(app, req, res, "run", &req->input.fields[FIELD_STDIN], interactive->present && interactive->boolean);
}

void session_check(struct app *app, struct request *req, struct response *res)
{
	enqueue(app, req, res, "check", NULL, false);
}
