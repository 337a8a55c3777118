/* GET /executions/{id}, POST /executions/{id}/cancel and /stdin, GET /code-sessions/{id}/executions, GET /health. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "artifact.h"
#include "handlers.h"
#include "render.h"
#include "store_stdin.h"

void execution_get(struct app *app, struct request *req, struct response *res)
{
	json_object *out = NULL;
	enum db_status s = db_execution_get(app->store, req->id, &out);
	reply_db_result(res, s, 200, out, "execution");
}

/*
 * A file's name for Content-Disposition, as RFC 5987's filename*: every
 * byte but [A-Za-z0-9._-] percent-encoded, so no name the program chose
 * can break the header (CR, LF, quotes) or be read two ways.
 */
static void attachment(char *out, size_t size, const char *name)
{
	static const char hex[] = "0123456789ABCDEF";
	int n = snprintf(out, size, "attachment; filename*=UTF-8''");
	for (const unsigned char *p = (const unsigned char *)name; *p && (size_t)n + 4 < size; p++) {
		if (isalnum(*p) || strchr("._-", *p)) {
			out[n++] = (char)*p;
		} else {
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
	}
	out[n] = '\0';
}

/*
 * GET /executions/{id}/artifacts/{path}: the bytes, with the type their
 * name gives (artifact.h). Whatever the program wrote, it never runs in
 * the API's origin: anything but the safe types is a download, nothing is
 * sniffed (nosniff, on every reply), and a sandboxing CSP keeps an SVG's
 * scripts and links from running even when opened directly.
 */
void artifact_get(struct app *app, struct request *req, struct response *res)
{
	const char *type = content_type_of(req->file_path);     /* as stored: the same function chose it */
	char *data;
	size_t len;
	enum db_status s = db_artifact_get(app->store, req->id, req->file_path, &data, &len);
	if (s == DB_NOT_FOUND) {
		reply_error(res, ERR_NOT_FOUND, "path", "the execution has no artifact at this path");
		return;
	}
	if (s != DB_OK) {
		reply_db_status(res, s, "execution");
		return;
	}
	res->csp = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox";
	if (strcmp(type, CONTENT_TYPE_DOWNLOAD) == 0)
		attachment(res->disposition, sizeof(res->disposition), req->file_path);
	http_reply_bytes(res, 200, type, data, len);
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
