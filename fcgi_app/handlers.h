/*
 * Route handlers: each fills res from req. The router has checked the id,
 * the body (req->input) and the query (req->params) before calling one, so
 * a handler only reads and writes the store and renders the reply.
 */
#ifndef FCGI_HANDLERS_H
#define FCGI_HANDLERS_H

#include "app.h"
#include "db.h"
#include "errors.h"
#include "http.h"

typedef void handler_fn(struct app *app, struct request *req, struct response *res);

handler_fn session_create, session_get, session_update, session_run, session_check;
handler_fn file_put, file_delete;      /* one file of a session */
handler_fn artifact_get;               /* a file a run left in out/ */
handler_fn execution_get, execution_list, execution_cancel, execution_stdin, health_get;
handler_fn languages_get;      /* handlers_languages.c */
handler_fn suite_put, suite_get, suite_delete;  /* handlers_suite.c */
handler_fn session_submit, submission_get, submission_list;  /* handlers_submission.c */
handler_fn static_elsewhere;   /* /openapi.json, /docs: the web server's static files */
handler_fn metrics_get;         /* handlers_metrics.c: Prometheus text, not JSON */

/* The caller's quotas and the learner they count against (handlers_session.c). */
void request_quota(const struct app *app, const struct request *req, struct learner_quota *lq);

#endif
