/* GET /executions/{id}, GET /code-sessions/{id}/executions, GET /health. */
#include <stdlib.h>

#include "handlers.h"
#include "render.h"
#include "validate.h"

void execution_get(struct app *app, struct request *req, struct response *res)
{
	json_object *out = NULL;
	enum db_status s = db_execution_get(app->store, req->id, &out);
	if (s == DB_OK)
		http_reply(res, 200, out);
	else
		reply_db_status(res, s, "execution");
}

void execution_list(struct app *app, struct request *req, struct response *res)
{
	struct query_values q;
	struct verror err;
	if (validate_query(QUERY_PAGE, req->query, &app->cfg, &q, &err)) {
		http_error(res, err.status, err.code, err.field, "%s", err.message);
		return;
	}
	long long limit = q.present[PARAM_LIMIT] ? q.value[PARAM_LIMIT] : app->cfg.page_size_default;
	long long before = q.present[PARAM_CURSOR] ? q.value[PARAM_CURSOR] : 0;
	json_object *out = NULL;
	enum db_status s = db_execution_list(app->store, req->id, before, (int)limit, &out);
	if (s == DB_OK)
		http_reply(res, 200, out);
	else
		reply_db_status(res, s, "session");
}

void health_get(struct app *app, struct request *req, struct response *res)
{
	(void)req;
	json_object *out = NULL;
	if (db_health(app->store, now_ms(), app->cfg.runner_stale_ms, &out) != DB_OK) {
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

void reply_db_status(struct response *res, enum db_status s, const char *what)
{
	switch (s) {
	case DB_OK:
		abort();        /* callers reply themselves on success */
	case DB_NOT_FOUND:
		http_error(res, 404, "NOT_FOUND", NULL, "no %s with this id", what);
		break;
	case DB_SESSION_BUSY:
		res->retry_after = 1;
		http_error(res, 429, "TOO_MANY_RUNS", NULL,
			   "this session already has the maximum number of runs queued or running");
		break;
	case DB_QUEUE_FULL:
		res->retry_after = 2;
		http_error(res, 503, "QUEUE_FULL", NULL, "the execution queue is full; retry later");
		break;
	case DB_ERROR:
		res->retry_after = 1;
		http_error(res, 503, "STORE_UNAVAILABLE", NULL, "the store is unavailable; retry later");
		break;
	}
}
