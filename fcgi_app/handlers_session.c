/* POST /code-sessions, GET and PATCH /code-sessions/{id}, POST .../run. */
#include <stdio.h>

#include "handlers.h"
#include "queue.h"

void session_create(struct app *app, struct request *req, struct response *res)
{
	const struct field_value *lang = &req->input.fields[FIELD_LANGUAGE];
	const struct field_value *code = &req->input.fields[FIELD_TEMPLATE_CODE];
	json_object *out = NULL;
	enum db_status s = db_session_create(app->store, lang->str, code->present ? code->str : "",
					     code->len, req->who.sub, &out);
	if (s != DB_OK) {
		reply_db_status(res, s, "session");
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
	json_object *out = NULL;
	enum db_status s = db_session_update(app->store, req->id, code->str, code->len, &out);
	reply_db_result(res, s, 200, out, "session");
}

/* Queues an execution of the session's current code: kind "run" or "check". */
static void enqueue(struct app *app, struct request *req, struct response *res, const char *kind,
		    const struct field_value *in, bool interactive)
{
	struct run_caps caps = { app->cfg.max_runs_per_session, app->cfg.max_queue_depth };
	char exec_id[UUID_LEN + 1];
	json_object *out = NULL;
	enum db_status s = db_run_enqueue(app->store, &caps, req->id, kind, in ? in->str : NULL,
					  in ? in->len : 0, interactive, exec_id, &out);
	if (s != DB_OK) {
		reply_db_status(res, s, "session");
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
