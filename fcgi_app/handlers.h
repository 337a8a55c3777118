/* Route handlers: each fills res from req; none writes unless the request is valid. */
#ifndef FCGI_HANDLERS_H
#define FCGI_HANDLERS_H

#include "app.h"
#include "db.h"
#include "http.h"

typedef void handler_fn(struct app *app, struct request *req, struct response *res);

handler_fn session_create, session_get, session_update, session_run;
handler_fn execution_get, execution_list, health_get;
handler_fn static_elsewhere;   /* /openapi.json, /docs: the web server's static files */
handler_fn metrics_get;         /* handlers_metrics.c: Prometheus text, not JSON */

/*
 * The one mapping from store outcomes to HTTP errors: 404 for what, 429 and
 * 503 with Retry-After for backpressure, 503 for a failing store.
 */
void reply_db_status(struct response *res, enum db_status s, const char *what);

#endif
