/* POST /code-sessions, GET and PATCH /code-sessions/{id}, POST .../run. */
#include <stdio.h>

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

void session_create(struct app *app, struct request *req, struct response *res)
{
	const struct field_value *lang = &req->input.fields[FIELD_LANGUAGE];
	const struct field_value *code = &req->input.fields[FIELD_TEMPLATE_CODE];
	struct learner_quota lq;
	json_object *out = NULL;
	request_quota(app, req, &lq);
	enum db_status s = db_session_create(app->store, &lq, lang->str, code->present ? code->str : "",
					     code->len, req->who.sub, &out);
	if (s != DB_OK) {
		reply_refused(res, s, "session", &lq);
		return;
	}
	snprintf(res->location, sizeof(res->location), "/code-sessions/%s",
		 json_object_get_string(json_object_object_get(out, "session_id")));
	http_reply(res, 201, out);
}

void session_get(struct app *app, struct request *req, struct response *res)
{
	json_object *out = NULL;
	enum db_status s = db_session_get(app->store, req->id, &out);
	reply_db_result(res, s, 200, out, "session");
}

void session_update(struct app *app, struct request *req, struct response *res)
{
	const struct field_value *code = &req->input.fields[FIELD_SOURCE_CODE];
	struct learner_quota lq;
	json_object *out = NULL;
	request_quota(app, req, &lq);
	enum db_status s = db_session_update(app->store, &lq, req->id, code->str, code->len, &out);
	if (s == DB_OK)
		http_reply(res, 200, out);
	else
		reply_refused(res, s, "session", &lq);
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
	queue_notify(app, exec_id);
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
