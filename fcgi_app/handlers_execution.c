/* GET /executions/{id}, GET /code-sessions/{id}/executions, GET /health. */
#include "handlers.h"
#include "render.h"

void execution_get(struct app *app, struct request *req, struct response *res)
{
	json_object *out = NULL;
	enum db_status s = db_execution_get(app->store, req->id, &out);
	reply_db_result(res, s, 200, out, "execution");
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
