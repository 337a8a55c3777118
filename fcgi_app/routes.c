#include "routes.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cors.h"
#include "errors.h"
#include "handlers.h"
#include "ownership.h"
#include "validate.h"

#define MAX_METHODS 3

/*
 * Who may call a method when auth = token (with auth = none, anyone). The
 * zero value is the strict one: a row that names nobody needs a token.
 */
enum access {
	ACCESS_TOKEN,                   /* any valid token */
	ACCESS_GRADER,                  /* a token with scope grader or admin */
	ACCESS_PUBLIC,                  /* no token: health, the contract, the pages */
	ACCESS_METRICS,                 /* no token, from metrics_allowed_addresses only */
};

/* A method of a route: its handler and what it takes, checked before the handler runs. */
struct method {
	const char *name;
	handler_fn *fn;
	enum body_kind body;            /* BODY_NONE: no body is read */
	enum query_kind query;          /* QUERY_NONE: parameters are ignored */
	enum access access;
};

struct route {
	const char *shape;              /* "{id}" matches one path segment */
	const char *allow;              /* the Allow header for 405 */
	const char *id_kind;            /* what {id} names, for messages */
	enum id_form id_form;           /* what {id} must look like */
	enum owned_kind owned;          /* whose the row {id} names is: another learner's is 404 */
	struct method methods[MAX_METHODS];
};

enum route_id {
	ROUTE_SESSIONS,
	ROUTE_SESSION,
	ROUTE_SESSION_FILE,
	ROUTE_SESSION_RUN,
	ROUTE_SESSION_CHECK,
	ROUTE_SESSION_EXECUTIONS,
	ROUTE_EXECUTION,
	ROUTE_EXECUTION_ARTIFACT,
	ROUTE_EXECUTION_CANCEL,
	ROUTE_EXECUTION_STDIN,
	ROUTE_TEST_SUITE,
	ROUTE_SESSION_SUBMIT,
	ROUTE_SESSION_SUBMISSIONS,
	ROUTE_SUBMISSION,
	ROUTE_HEALTH,
	ROUTE_LANGUAGES,
	ROUTE_OPENAPI,
	ROUTE_DOCS,
	ROUTE_METRICS,
	ROUTE_PLAYGROUND,
	ROUTE__MAX
};

static const struct route routes[ROUTE__MAX] = {
	[ROUTE_SESSIONS] = { "/code-sessions", "POST", NULL, ID_UUID, OWNED_NONE,
		{ { "POST", session_create, BODY_SESSION_CREATE, QUERY_NONE, ACCESS_TOKEN } } },
	[ROUTE_SESSION] = { "/code-sessions/{id}", "GET, PATCH", "session", ID_UUID, OWNED_SESSION,
		{ { "GET", session_get, BODY_NONE, QUERY_NONE, ACCESS_TOKEN },
		  { "PATCH", session_update, BODY_SESSION_UPDATE, QUERY_NONE, ACCESS_TOKEN } } },
	[ROUTE_SESSION_FILE] = { "/code-sessions/{id}/files/{path}", "PUT, DELETE", "session", ID_UUID, OWNED_SESSION,
		{ { "PUT", file_put, BODY_FILE_PUT, QUERY_NONE, ACCESS_TOKEN },
		  { "DELETE", file_delete, BODY_NONE, QUERY_NONE, ACCESS_TOKEN } } },
	[ROUTE_SESSION_RUN] = { "/code-sessions/{id}/run", "POST", "session", ID_UUID, OWNED_SESSION,
		{ { "POST", session_run, BODY_RUN, QUERY_NONE, ACCESS_TOKEN } } },
	[ROUTE_SESSION_CHECK] = { "/code-sessions/{id}/check", "POST", "session", ID_UUID, OWNED_SESSION,
		{ { "POST", session_check, BODY_CHECK, QUERY_NONE, ACCESS_TOKEN } } },
	[ROUTE_SESSION_EXECUTIONS] = { "/code-sessions/{id}/executions", "GET", "session", ID_UUID, OWNED_SESSION,
		{ { "GET", execution_list, BODY_NONE, QUERY_PAGE, ACCESS_TOKEN } } },
	[ROUTE_EXECUTION] = { "/executions/{id}", "GET", "execution", ID_UUID, OWNED_EXECUTION,
		{ { "GET", execution_get, BODY_NONE, QUERY_NONE, ACCESS_TOKEN } } },
	[ROUTE_EXECUTION_ARTIFACT] = { "/executions/{id}/artifacts/{path}", "GET", "execution", ID_UUID, OWNED_EXECUTION,
		{ { "GET", artifact_get, BODY_NONE, QUERY_NONE, ACCESS_TOKEN } } },
	[ROUTE_EXECUTION_CANCEL] = { "/executions/{id}/cancel", "POST", "execution", ID_UUID, OWNED_EXECUTION,
		{ { "POST", execution_cancel, BODY_EMPTY, QUERY_NONE, ACCESS_TOKEN } } },
	[ROUTE_EXECUTION_STDIN] = { "/executions/{id}/stdin", "POST", "execution", ID_UUID, OWNED_EXECUTION,
		{ { "POST", execution_stdin, BODY_STDIN, QUERY_NONE, ACCESS_TOKEN } } },
	[ROUTE_TEST_SUITE] = { "/test-suites/{id}", "GET, PUT, DELETE", "test suite", ID_SLUG, OWNED_NONE,
		{ { "GET", suite_get, BODY_NONE, QUERY_NONE, ACCESS_GRADER },
		  { "PUT", suite_put, BODY_SUITE, QUERY_NONE, ACCESS_GRADER },
		  { "DELETE", suite_delete, BODY_NONE, QUERY_NONE, ACCESS_GRADER } } },
	[ROUTE_SESSION_SUBMIT] = { "/code-sessions/{id}/submit", "POST", "session", ID_UUID, OWNED_SESSION,
		{ { "POST", session_submit, BODY_SUBMIT, QUERY_NONE, ACCESS_TOKEN } } },
	[ROUTE_SESSION_SUBMISSIONS] = { "/code-sessions/{id}/submissions", "GET", "session", ID_UUID, OWNED_SESSION,
		{ { "GET", submission_list, BODY_NONE, QUERY_PAGE, ACCESS_TOKEN } } },
	[ROUTE_SUBMISSION] = { "/submissions/{id}", "GET", "submission", ID_UUID, OWNED_SUBMISSION,
		{ { "GET", submission_get, BODY_NONE, QUERY_NONE, ACCESS_TOKEN } } },
	[ROUTE_HEALTH] = { "/health", "GET", NULL, ID_UUID, OWNED_NONE,
		{ { "GET", health_get, BODY_NONE, QUERY_NONE, ACCESS_PUBLIC } } },
	[ROUTE_LANGUAGES] = { "/languages", "GET", NULL, ID_UUID, OWNED_NONE,
		{ { "GET", languages_get, BODY_NONE, QUERY_NONE, ACCESS_TOKEN } } },
	/* lighttpd serves GET and HEAD of these from $(BUILD)/www; other methods land here. */
	[ROUTE_OPENAPI] = { "/openapi.json", "GET, HEAD", NULL, ID_UUID, OWNED_NONE,
		{ { "GET", static_elsewhere, BODY_NONE, QUERY_NONE, ACCESS_PUBLIC } } },
	[ROUTE_DOCS] = { "/docs", "GET, HEAD", NULL, ID_UUID, OWNED_NONE,
		{ { "GET", static_elsewhere, BODY_NONE, QUERY_NONE, ACCESS_PUBLIC } } },
	[ROUTE_METRICS] = { "/metrics", "GET", NULL, ID_UUID, OWNED_NONE,
		{ { "GET", metrics_get, BODY_NONE, QUERY_NONE, ACCESS_METRICS } } },
	/* The playground page: static too, like /docs. */
	[ROUTE_PLAYGROUND] = { "/", "GET, HEAD", NULL, ID_UUID, OWNED_NONE,
		{ { "GET", static_elsewhere, BODY_NONE, QUERY_NONE, ACCESS_PUBLIC } } },
};

/* Matches path against shape, capturing the {id} segment and the {path} rest (raw, at most PATH_MAX_LEN). */
static bool shape_match(const char *shape, const char *path, char *id, size_t idlen, char *rest)
{
	while (*shape && *path) {
		if (strcmp(shape, "{path}") == 0) {
			snprintf(rest, PATH_MAX_LEN, "%s", path);
			return true;
		}
		if (strncmp(shape, "{id}", 4) == 0) {
			size_t n = strcspn(path, "/");
			if (n == 0)
				return false;
			/* Cut one too long for any id to a length validate_id refuses. */
			size_t keep = n < idlen ? n : idlen - 1;
			memcpy(id, path, keep);
			id[keep] = '\0';
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
		reply_error(res, ERR_UNSUPPORTED_MEDIA_TYPE, NULL,
			    "request bodies must be sent as Content-Type: application/json");
		return -1;
	}
	return 0;
}

/* Validates the body's fields and the query's parameters. Returns 0, or -1 with the reply set. */
static int input_accept(const struct app *app, const struct method *m, struct request *req,
			struct response *res)
{
	struct verror err;
	if (m->body != BODY_NONE &&
	    validate_body(m->body, req->body, req->body_len, &app->cfg, &req->input, &err)) {
		reply_invalid(res, &err);
		return -1;
	}
	if (m->query != QUERY_NONE && validate_query(m->query, req->query, &app->cfg, &req->params, &err)) {
		reply_invalid(res, &err);
		return -1;
	}
	return 0;
}

/*
 * A browser's CORS preflight (OPTIONS with Access-Control-Request-Method)
 * from an allowed origin: 204, and main.c adds what the origin may send.
 * It carries no token, so it is answered before the token is asked for.
 * From any other origin, OPTIONS is a method like another (405).
 */
static bool preflight_accept(const struct app *app, const struct route *r, const struct request *req,
			     struct response *res)
{
	if (strcmp(req->method, "OPTIONS") != 0 || !req->preflight_method ||
	    !cors_allowed(app->cfg.allowed_origins, req->origin))
		return false;
	res->preflight_allow = r->allow;
	http_reply(res, 204, NULL);
	return true;
}

/* Checks who is calling against what m allows, filling req->who. Returns 0, or -1 with the reply set. */
static int access_accept(const struct app *app, const struct method *m, struct request *req,
			 struct response *res)
{
	if (!auth_required(app->auth)) {
		auth_check(app->auth, NULL, 0, &req->who);      /* auth = none: everyone may do everything */
		return 0;
	}
	if (m->access == ACCESS_PUBLIC)
		return 0;
	if (m->access == ACCESS_METRICS) {
		if (str_word_listed(app->cfg.metrics_allowed_addresses, req->remote_addr))
			return 0;
		reply_error(res, ERR_NOT_FOUND, NULL, "no such resource: %s", req->path);
		return -1;
	}
	const char *why = auth_check(app->auth, req->authorization, time(NULL), &req->who);
	if (why) {
		reply_error(res, ERR_UNAUTHORIZED, NULL, "%s", why);
		/* RFC 6750 3.1: a request without credentials gets the bare challenge. */
		if (!req->authorization)
			res->www_authenticate = "Bearer realm=\"code-exec\"";
		return -1;
	}
	if (m->access == ACCESS_GRADER && !(req->who.scopes & (SCOPE_GRADER | SCOPE_ADMIN))) {
		reply_error(res, ERR_FORBIDDEN, NULL, "test suites need a token with scope grader or admin");
		return -1;
	}
	return 0;
}

/* Answers another learner's row as an unknown one. Returns 0, or -1 with the reply set. */
static int owner_accept(struct app *app, const struct route *r, struct request *req, struct response *res)
{
	int visible = ownership_visible(app->store, r->owned, req->id, &req->who);
	if (visible == 1)
		return 0;
	reply_db_status(res, visible == 0 ? DB_NOT_FOUND : DB_ERROR, r->id_kind);
	return -1;
}

/* Checks the path id and stores it lower-case in req. Returns 0, or -1 with the reply set. */
static int id_accept(const struct route *r, const char *id, struct request *req, struct response *res)
{
	struct verror err;
	if (!r->id_kind)
		return 0;
	if (validate_id(id, strlen(id), r->id_form, r->id_kind, &err)) {
		reply_invalid(res, &err);
		return -1;
	}
	/* UUIDs are stored lower-case, so either case names the same row;
	 * a slug is the platform's own and kept as given. */
	for (size_t k = 0; k <= strlen(id); k++)
		req->id[k] = r->id_form == ID_UUID ? (char)tolower((unsigned char)id[k]) : id[k];
	return 0;
}

/* Decodes and checks a route's {path} into req->file_path. Returns 0, or -1 with the reply set. */
static int file_path_accept(const struct route *r, const char *raw, struct request *req, struct response *res)
{
	struct verror err;
	if (!strstr(r->shape, "{path}"))
		return 0;
	if (validate_url_file_path(raw, req->file_path, sizeof(req->file_path), &err)) {
		reply_invalid(res, &err);
		return -1;
	}
	return 0;
}

/*
 * The order of the checks is the contract's: 404, 405, the token (401,
 * 403), the id, the body's
 * size, length and type, the store (503), the row's owner (404), then the
 * body's fields and the query's parameters.
 */
void route_dispatch(struct app *app, struct request *req, FCGX_Stream *in, struct response *res)
{
	char id[PATH_ID_MAX + 2];       /* one more than any valid id: a longer one is refused as invalid */
	char rest[PATH_MAX_LEN];        /* a {path}, still percent-encoded */
	for (int i = 0; i < ROUTE__MAX; i++) {
		const struct route *r = &routes[i];
		if (!shape_match(r->shape, req->path, id, sizeof(id), rest))
			continue;
		if (preflight_accept(app, r, req, res))
			return;
		const struct method *m = method_find(r, req->method);
		if (!m) {
			res->allow = r->allow;
			reply_error(res, ERR_METHOD_NOT_ALLOWED, NULL, "%s is not allowed here; use %s",
				    req->method, r->allow);
			return;
		}
		if (access_accept(app, m, req, res) || id_accept(r, id, req, res) ||
		    file_path_accept(r, rest, req, res))
			return;
		if (m->body != BODY_NONE && body_accept(app, req, in, res))
			return;
		/* /metrics answers without the store too: it says store_up 0. */
		if (!app->store && m->access != ACCESS_METRICS) {
			reply_db_status(res, DB_ERROR, "store");
			return;
		}
		if (owner_accept(app, r, req, res) || input_accept(app, m, req, res))
			return;
		m->fn(app, req, res);
		return;
	}
	reply_error(res, ERR_NOT_FOUND, NULL, "no such resource: %s", req->path);
}
