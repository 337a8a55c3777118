/* POST /code-sessions/{id}/submit, GET /submissions/{id}, GET /code-sessions/{id}/submissions. */
#include <stdio.h>
#include <stdlib.h>

#include "handlers.h"
#include "queue.h"

void session_submit(struct app *app, struct request *req, struct response *res)
{
	const struct field_value *suite = &req->input.fields[FIELD_SUITE_ID];
	const struct field_value *stop = &req->input.fields[FIELD_STOP_ON_FIRST_FAILURE];
	struct learner_quota lq;
	request_quota(app, req, &lq);
	struct run_caps caps = { app->cfg.max_runs_per_session, app->cfg.max_queue_depth, &lq };
	char (*case_ids)[UUID_LEN + 1] = NULL;
	int ncases = 0;
	json_object *out = NULL;
	enum db_status s = db_submit(app->store, &caps, &app->langs, req->id, suite->str,
				     stop->present && stop->boolean, &case_ids, &ncases, &out);
	if (s != DB_OK) {
		reply_refused(res, s, "session", &lq);
		return;
	}
	/* Only after the commit: the rows must exist before any runner hears of them. */
	for (int i = 0; i < ncases; i++)
		queue_notify(app, case_ids[i]);
	free(case_ids);
	snprintf(res->location, sizeof(res->location), "/submissions/%s",
		 json_object_get_string(json_object_object_get(out, "submission_id")));
	http_reply(res, 202, out);
}

void submission_get(struct app *app, struct request *req, struct response *res)
{
	json_object *out = NULL;
	enum db_status s = db_submission_get(app->store, req->id, &out);
	reply_db_result(res, s, 200, out, "submission");
}

void submission_list(struct app *app, struct request *req, struct response *res)
{
	const struct query_values *q = &req->params;
	long long limit = q->present[PARAM_LIMIT] ? q->value[PARAM_LIMIT] : app->cfg.page_size_default;
	long long before = q->present[PARAM_CURSOR] ? q->value[PARAM_CURSOR] : 0;
	json_object *out = NULL;
	enum db_status s = db_submission_list(app->store, req->id, before, (int)limit, &out);
	reply_db_result(res, s, 200, out, "session");
}
