/* GET /languages: what the live runners can run. */
#include "handlers.h"

void languages_get(struct app *app, struct request *req, struct response *res)
{
	(void)req;
	json_object *out = NULL;
	enum db_status s = db_languages(app->store, app->cfg.runner_stale_ms, &app->langs, &out);
	reply_db_result(res, s, 200, out, "languages");
}
