#include "routes.h"

#include <ctype.h>
#include <string.h>

#include "handlers.h"
#include "validate.h"

#define MAX_METHODS 2

struct method {
	const char *name;
	handler_fn *fn;
	bool takes_body;
};

struct route {
	const char *shape;              /* "{id}" matches one path segment */
	const char *allow;              /* the Allow header for 405 */
	const char *id_kind;            /* what {id} names, for messages */
	struct method methods[MAX_METHODS];
};

enum route_id {
	ROUTE_SESSIONS,
	ROUTE_SESSION,
	ROUTE_SESSION_RUN,
	ROUTE_SESSION_EXECUTIONS,
	ROUTE_EXECUTION,
	ROUTE_HEALTH,
	ROUTE_OPENAPI,
	ROUTE_DOCS,
	ROUTE_METRICS,
	ROUTE__MAX
};

static const struct route routes[ROUTE__MAX] = {
	[ROUTE_SESSIONS] = { "/code-sessions", "POST", NULL,
		{ { "POST", session_create, true } } },
	[ROUTE_SESSION] = { "/code-sessions/{id}", "GET, PATCH", "session",
		{ { "GET", session_get, false }, { "PATCH", session_update, true } } },
	[ROUTE_SESSION_RUN] = { "/code-sessions/{id}/run", "POST", "session",
		{ { "POST", session_run, true } } },
	[ROUTE_SESSION_EXECUTIONS] = { "/code-sessions/{id}/executions", "GET", "session",
		{ { "GET", execution_list, false } } },
	[ROUTE_EXECUTION] = { "/executions/{id}", "GET", "execution",
		{ { "GET", execution_get, false } } },
	[ROUTE_HEALTH] = { "/health", "GET", NULL,
		{ { "GET", health_get, false } } },
	/* lighttpd serves GET and HEAD of these from $(BUILD)/www; other methods land here. */
	[ROUTE_OPENAPI] = { "/openapi.json", "GET, HEAD", NULL,
		{ { "GET", static_elsewhere, false } } },
	[ROUTE_DOCS] = { "/docs", "GET, HEAD", NULL,
		{ { "GET", static_elsewhere, false } } },
	[ROUTE_METRICS] = { "/metrics", "GET", NULL,
		{ { "GET", metrics_get, false } } },
};

/* Matches path against shape, capturing the {id} segment. */
static bool shape_match(const char *shape, const char *path, char *id, size_t idlen)
{
	while (*shape && *path) {
		if (strncmp(shape, "{id}", 4) == 0) {
			size_t n = strcspn(path, "/");
			if (n == 0 || n >= idlen)
				return false;
			memcpy(id, path, n);
			id[n] = '\0';
			shape += 4;
			path += n;
		} else if (*shape++ != *path++)
			return false;
	}
	return *shape == '\0' && *path == '\0';
}

static const struct method *method_find(const struct route *r, const char *name)
{
	for (int i = 0; i < MAX_METHODS && r->methods[i].name; i++)
		if (strcmp(r->methods[i].name, name) == 0)
			return &r->methods[i];
	return NULL;
}

/* Checks the body's size and type and reads it. Returns 0, or -1 with the reply set. */
static int body_accept(const struct app *app, struct request *req, FCGX_Stream *in,
		       struct response *res)
{
	if (http_read_body(req, in, app->cfg.max_body_bytes, res))
		return -1;
	if (req->body_len > 0 && !http_is_json(req)) {
		http_error(res, 415, "UNSUPPORTED_MEDIA_TYPE", NULL,
			   "request bodies must be sent as Content-Type: application/json");
		return -1;
	}
	return 0;
}

void route_dispatch(struct app *app, struct request *req, FCGX_Stream *in, struct response *res)
{
	char id[64];
	for (int i = 0; i < ROUTE__MAX; i++) {
		const struct route *r = &routes[i];
		if (!shape_match(r->shape, req->path, id, sizeof(id)))
			continue;
		const struct method *m = method_find(r, req->method);
		if (!m) {
			res->allow = r->allow;
			http_error(res, 405, "METHOD_NOT_ALLOWED", NULL, "%s is not allowed here; use %s",
				   req->method, r->allow);
			return;
		}
		struct verror err;
		if (r->id_kind && validate_id(id, strlen(id), r->id_kind, &err)) {
			http_error(res, err.status, err.code, err.field, "%s", err.message);
			return;
		}
		/* Ids are stored lower-case; either case names the same row. */
		for (size_t k = 0; r->id_kind && k <= strlen(id); k++)
			req->id[k] = (char)tolower((unsigned char)id[k]);
		if (m->takes_body && body_accept(app, req, in, res))
			return;
		if (!app->store) {
			reply_db_status(res, DB_ERROR, "store");
			return;
		}
		m->fn(app, req, res);
		return;
	}
	http_error(res, 404, "NOT_FOUND", NULL, "no such resource: %s", req->path);
}
