/* PUT, GET and DELETE /test-suites/{id}: the platform's test suites, by its own ids. */
#include "handlers.h"

void suite_put(struct app *app, struct request *req, struct response *res)
{
	json_object *out = NULL;
	enum db_status s = db_suite_put(app->store, req->id, req->input.doc, &out);
	reply_db_result(res, s, 200, out, "test suite");
}

void suite_get(struct app *app, struct request *req, struct response *res)
{
	json_object *out = NULL;
	enum db_status s = db_suite_get(app->store, req->id, &out);
	reply_db_result(res, s, 200, out, "test suite");
}

void suite_delete(struct app *app, struct request *req, struct response *res)
{
	enum db_status s = db_suite_delete(app->store, req->id);
	if (s != DB_OK) {
		reply_db_status(res, s, "test suite");
		return;
	}
	json_object *out = json_object_new_object();
	json_object_object_add(out, "suite_id", json_object_new_string(req->id));
	json_object_object_add(out, "deleted", json_object_new_boolean(1));
	http_reply(res, 200, out);
}
