/* POST /code-sessions, GET and PATCH /code-sessions/{id}, POST .../run. */
#include <stdio.h>

#include "handlers.h"
#include "queue.h"
#include "validate.h"

/* Validates req's body as kind. Returns 0 with v filled, or -1 with the reply set. */
static int body_of(struct app *app, struct request *req, enum body_kind kind,
		   struct validated *v, struct response *res)
{
	struct verror err;
	if (validate_body(kind, req->body, req->body_len, &app->cfg, v, &err) == 0)
		return 0;
	http_error(res, err.status, err.code, err.field, "%s", err.message);
	return -1;
}

void session_create(struct app *app, struct request *req, struct response *res)
{
	struct validated v;
	if (body_of(app, req, BODY_SESSION_CREATE, &v, res))
		return;
	const struct field_value *code = &v.fields[FIELD_TEMPLATE_CODE];
	json_object *out = NULL;
	enum db_status s = db_session_create(app->store, v.fields[FIELD_LANGUAGE].str,
					     code->present ? code->str : "", code->len, &out);
	if (s == DB_OK) {
		snprintf(res->location, sizeof(res->location), "/code-sessions/%s",
			 json_object_get_string(json_object_object_get(out, "session_id")));
		http_reply(res, 201, out);
	} else
		reply_db_status(res, s, "session");
	validated_free(&v);
}

void session_get(struct app *app, struct request *req, struct response *res)
{
	json_object *out = NULL;
	enum db_status s = db_session_get(app->store, req->id, &out);
	if (s == DB_OK)
		http_reply(res, 200, out);
	else
		reply_db_status(res, s, "session");
}

void session_update(struct app *app, struct request *req, struct response *res)
{
	struct validated v;
	if (body_of(app, req, BODY_SESSION_UPDATE, &v, res))
		return;
	const struct field_value *code = &v.fields[FIELD_SOURCE_CODE];
	json_object *out = NULL;
	enum db_status s = db_session_update(app->store, req->id, code->str, code->len, &out);
	if (s == DB_OK)
		http_reply(res, 200, out);
	else
		reply_db_status(res, s, "session");
	validated_free(&v);
}

void session_run(struct app *app, struct request *req, struct response *res)
{
	struct validated v;
	if (body_of(app, req, BODY_RUN, &v, res))
		return;
	const struct field_value *in = &v.fields[FIELD_STDIN];
	char exec_id[UUID_LEN + 1];
	json_object *out = NULL;
	struct run_caps caps = { app->cfg.max_runs_per_session, app->cfg.max_queue_depth };
	enum db_status s = db_run_enqueue(app->store, &caps, req->id, in->str, in->len, exec_id, &out);
	validated_free(&v);
	if (s != DB_OK) {
		reply_db_status(res, s, "session");
		return;
	}
	/* Only after the commit: the row must exist before any runner hears of it. */
	queue_notify(app, exec_id);
	snprintf(res->location, sizeof(res->location), "/executions/%s", exec_id);
	http_reply(res, 202, out);
}
