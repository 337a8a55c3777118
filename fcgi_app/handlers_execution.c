/* GET /executions/{id}, POST /executions/{id}/cancel and /stdin, GET /code-sessions/{id}/executions, GET /health. */
#include "handlers.h"
#include "render.h"
#include "store_stdin.h"

void execution_get(struct app *app, struct request *req, struct response *res)
{
	json_object *out = NULL;
	enum db_status s = db_execution_get(app->store, req->id, &out);
	reply_db_result(res, s, 200, out, "execution");
}

void execution_cancel(struct app *app, struct request *req, struct response *res)
{
	json_object *out = NULL;
	enum db_status s = db_execution_cancel(app->store, req->id, &out);
	reply_db_result(res, s, 202, out, "execution");
}

void execution_stdin(struct app *app, struct request *req, struct response *res)
{
	const struct field_value *data = &req->input.fields[FIELD_DATA];
	bool eof = req->input.fields[FIELD_EOF].present && req->input.fields[FIELD_EOF].boolean;
	switch (store_stdin_send(app->store, req->id, data->str, data->len, eof, app->cfg.max_stdin_bytes)) {
	case STDIN_SENT:
		http_reply(res, 202, render_stdin_accepted(req->id, data->len, eof));
		break;
	case STDIN_NO_EXECUTION:
		reply_db_status(res, DB_NOT_FOUND, "execution");
		break;
	case STDIN_NOT_OPEN:
		reply_error(res, ERR_NOT_RUNNING, NULL, "the execution is not an interactive one still "
			    "running, or its input was closed with eof");
		break;
	case STDIN_OVER_LIMIT:
		reply_error(res, ERR_PAYLOAD_TOO_LARGE, "data", "the input sent to this execution would "
			    "pass max_stdin_bytes (%ld bytes)", app->cfg.max_stdin_bytes);
		break;
	case STDIN_STORE_ERROR:
		reply_db_status(res, DB_ERROR, "execution");
		break;
	}
}

void execution_list(struct app *app, struct request *req, struct response *res)
{
	const struct query_values *q = &req->params;
	long long limit = q->present[PARAM_LIMIT] ? q->value[PARAM_LIMIT] : app->cfg.page_size_default;
	long long before = q->present[PARAM_CURSOR] ? q->value[PARAM_CURSOR] : 0;
	json_object *out = NULL;
	enum db_status s = db_execution_list(app->store, req->id, before, (int)limit, &out);
	reply_db_result(res, s, 200, out, "session");
}

void health_get(struct app *app, struct request *req, struct response *res)
{
	(void)req;
	json_object *out = NULL;
	if (db_health(app->store, app->cfg.runner_stale_ms, &out) != DB_OK) {
		res->retry_after = 1;
		http_reply(res, 503, render_health_store_down());
		return;
	}
	bool alive = render_health_runners_alive(out) > 0;
	render_health_verdict(out, alive);
	if (!alive)
		res->retry_after = 1;
	http_reply(res, alive ? 200 : 503, out);
}
