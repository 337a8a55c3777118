/*
 * Unit tests of fcgi_app/routes.c: route matching, 404 and 405 with Allow,
 * the path id, and the checks the router makes before a handler runs
 * (body size and type, the body's fields, the query). Requests go through
 * route_dispatch with a real store in a temporary directory.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "check.h"
#include "mem_stream.h"
#include "routes.h"
#include "store_fixture.h"

#define SESSION_UPPER "0F8FAD5B-D9CB-469F-A165-70867728950E"
#define SESSION_LOWER "0f8fad5b-d9cb-469f-a165-70867728950e"

struct exchange {
	struct request req;
	struct response res;
};

/* An app with its store open in a new directory; with_store false leaves it closed. */
static int app_open(struct app *app, bool with_store)
{
	char err[256];
	memset(app, 0, sizeof(*app));
	if (data_dir_new(&app->cfg))
		return -1;
	if (!with_store)
		return 0;
	app->store = store_open(&app->cfg, STORE_ROLE_API, err, sizeof(err));
	return app->store ? 0 : -1;
}

static void app_close(struct app *app)
{
	store_close(&app->store);
	data_dir_remove(&app->cfg);
}

/* Sends method uri (and a JSON body, if any) through route_dispatch. */
static void send_request(struct app *app, struct exchange *x, const char *method, const char *uri,
			 const char *content_type, const char *body)
{
	char m[32], u[512], ct[128], cl[64];
	FCGX_Stream in;
	snprintf(m, sizeof(m), "REQUEST_METHOD=%s", method);
	snprintf(u, sizeof(u), "REQUEST_URI=%s", uri);
	snprintf(ct, sizeof(ct), "CONTENT_TYPE=%s", content_type ? content_type : "");
	snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%zu", body ? strlen(body) : 0);
	memset(x, 0, sizeof(*x));
	x->res.status = 500;
	const char *vars[] = { m, u, cl, content_type ? ct : NULL, NULL };
	if (http_request_parse(&x->req, mem_env(vars)) != 0)
		return;
	mem_reader_init(&in, body ? body : "", body ? strlen(body) : 0);
	route_dispatch(app, &x->req, &in, &x->res);
}

static void exchange_free(struct exchange *x)
{
	json_object_put(x->res.body);
	free(x->res.text);
	http_request_free(&x->req);
}

static const char *member(json_object *o, const char *a, const char *b)
{
	json_object *v = json_object_object_get(o, a);
	return json_object_get_string(b ? json_object_object_get(v, b) : v);
}

static const char *error_code(const struct exchange *x)
{
	return member(x->res.body, "error", "code");
}

/* Expects status and error code (code NULL: a success without an error). */
static void expect(struct app *app, const char *method, const char *uri, const char *content_type,
		   const char *body, int status, const char *code)
{
	struct exchange x;
	send_request(app, &x, method, uri, content_type, body);
	if (x.res.status != status || (code && (!error_code(&x) || strcmp(error_code(&x), code))))
		fprintf(stderr, "  %s %s: %d %s, expected %d %s\n", method, uri, x.res.status,
			error_code(&x) ? error_code(&x) : "-", status, code ? code : "-");
	CHECK(x.res.status == status);
	if (code)
		CHECK(error_code(&x) && strcmp(error_code(&x), code) == 0);
	exchange_free(&x);
}

/* Creates a session through the router; writes its id. */
static void create_session(struct app *app, char id[UUID_LEN + 1])
{
	struct exchange x;
	send_request(app, &x, "POST", "/code-sessions", "application/json",
		     "{\"language\":\"python\",\"template_code\":\"print(1)\"}");
	CHECK(x.res.status == 201);
	const char *got = member(x.res.body, "session_id", NULL);
	snprintf(id, UUID_LEN + 1, "%s", got ? got : "");
	exchange_free(&x);
}

TEST(routes_unknown_paths_are_404)
{
	struct app app;
	REQUIRE(app_open(&app, true) == 0);
	expect(&app, "GET", "/nope", NULL, NULL, 404, "NOT_FOUND");
	expect(&app, "GET", "/code-sessions/" SESSION_LOWER "/nope", NULL, NULL, 404, "NOT_FOUND");
	expect(&app, "GET", "/code-sessions//run", NULL, NULL, 404, "NOT_FOUND");
	expect(&app, "GET", "/health//", NULL, NULL, 404, "NOT_FOUND");
	expect(&app, "GET", "/Health", NULL, NULL, 404, "NOT_FOUND");
	expect(&app, "GET", "/code-sessions%2F" SESSION_LOWER, NULL, NULL, 404, "NOT_FOUND");
	app_close(&app);
}

TEST(routes_wrong_method_is_405_with_the_allow_of_the_route)
{
	static const struct { const char *method, *uri, *allow; } cases[] = {
		{ "GET", "/code-sessions", "POST" },
		{ "DELETE", "/code-sessions/" SESSION_LOWER, "GET, PATCH" },
		{ "HEAD", "/code-sessions/" SESSION_LOWER, "GET, PATCH" },
		{ "GET", "/code-sessions/" SESSION_LOWER "/run", "POST" },
		{ "POST", "/code-sessions/" SESSION_LOWER "/executions", "GET" },
		{ "PUT", "/executions/" SESSION_LOWER, "GET" },
		{ "POST", "/health", "GET" },
		{ "POST", "/openapi.json", "GET, HEAD" },
		{ "DELETE", "/docs", "GET, HEAD" },
		{ "get", "/metrics", "GET" },
	};
	struct app app;
	REQUIRE(app_open(&app, true) == 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct exchange x;
		send_request(&app, &x, cases[i].method, cases[i].uri, NULL, NULL);
		CHECK(x.res.status == 405);
		CHECK(x.res.allow && strcmp(x.res.allow, cases[i].allow) == 0);
		CHECK(error_code(&x) && strcmp(error_code(&x), "METHOD_NOT_ALLOWED") == 0);
		exchange_free(&x);
	}
	app_close(&app);
}

TEST(routes_405_comes_before_the_id_check)
{
	struct exchange x;
	struct app app;
	REQUIRE(app_open(&app, true) == 0);
	send_request(&app, &x, "DELETE", "/executions/not-a-uuid", NULL, NULL);
	CHECK(x.res.status == 405);
	exchange_free(&x);
	app_close(&app);
}

TEST(routes_path_id_must_be_a_uuid)
{
	struct exchange x;
	struct app app;
	REQUIRE(app_open(&app, true) == 0);
	send_request(&app, &x, "GET", "/executions/not-a-uuid", NULL, NULL);
	CHECK(x.res.status == 400);
	CHECK_STR(error_code(&x), "INVALID_ID");
	exchange_free(&x);
	expect(&app, "GET", "/code-sessions/" SESSION_LOWER "x", NULL, NULL, 400, "INVALID_ID");
	expect(&app, "GET", "/code-sessions/%30f8fad5b-d9cb-469f-a165-70867728950e", NULL, NULL,
	       400, "INVALID_ID");
	app_close(&app);
}

TEST(routes_id_is_taken_in_lower_case)
{
	struct exchange x;
	struct app app;
	REQUIRE(app_open(&app, true) == 0);
	send_request(&app, &x, "GET", "/code-sessions/" SESSION_UPPER "/executions", NULL, NULL);
	CHECK_STR(x.req.id, SESSION_LOWER);
	CHECK(x.res.status == 404);
	CHECK_STR(member(x.res.body, "error", "message"), "no session with this id");
	exchange_free(&x);
	send_request(&app, &x, "GET", "/executions/" SESSION_UPPER, NULL, NULL);
	CHECK_STR(x.req.id, SESSION_LOWER);
	CHECK_STR(member(x.res.body, "error", "message"), "no execution with this id");
	exchange_free(&x);
	app_close(&app);
}

TEST(routes_session_found_by_either_case_of_its_id)
{
	char id[UUID_LEN + 1], upper[UUID_LEN + 1], uri[128];
	struct app app;
	REQUIRE(app_open(&app, true) == 0);
	create_session(&app, id);
	for (int i = 0; i <= UUID_LEN; i++)
		upper[i] = (char)toupper((unsigned char)id[i]);
	snprintf(uri, sizeof(uri), "/code-sessions/%s/", upper);
	expect(&app, "GET", uri, NULL, NULL, 200, NULL);
	app_close(&app);
}

TEST(routes_check_body_size_and_type_before_the_store)
{
	struct app app;
	REQUIRE(app_open(&app, true) == 0);
	app.cfg.max_body_bytes = 16;
	expect(&app, "POST", "/code-sessions", "application/json",
	       "{\"language\":\"python\", \"x\":1}", 413, "PAYLOAD_TOO_LARGE");
	expect(&app, "POST", "/code-sessions", "text/plain", "{}", 415, "UNSUPPORTED_MEDIA_TYPE");
	expect(&app, "POST", "/code-sessions", NULL, "{}", 415, "UNSUPPORTED_MEDIA_TYPE");
	app_close(&app);
}

TEST(routes_check_the_body_fields_the_route_declares)
{
	char id[UUID_LEN + 1], uri[128];
	struct app app;
	REQUIRE(app_open(&app, true) == 0);
	expect(&app, "POST", "/code-sessions", "application/json", "", 400, "INVALID_JSON");
	expect(&app, "POST", "/code-sessions", "application/json", "{\"language\":", 400, "INVALID_JSON");
	expect(&app, "POST", "/code-sessions", "application/json", "{}", 400, "MISSING_FIELD");
	expect(&app, "POST", "/code-sessions", "application/json", "{\"language\":\"cobol\"}",
	       400, "UNSUPPORTED_LANGUAGE");
	create_session(&app, id);
	snprintf(uri, sizeof(uri), "/code-sessions/%s", id);
	expect(&app, "PATCH", uri, "application/json", "{\"sourcecode\":\"x\"}", 400, "UNKNOWN_FIELD");
	expect(&app, "PATCH", uri, "application/json", "{\"source_code\":\"x = 2\"}", 200, NULL);
	snprintf(uri, sizeof(uri), "/code-sessions/%s/run", id);
	expect(&app, "POST", uri, "application/json", "{\"stdin\":1}", 400, "INVALID_FIELD");
	expect(&app, "POST", uri, NULL, "", 202, NULL);   /* the Run body is optional */
	CHECK(store_file_int(&app.cfg, "SELECT count(*) FROM executions WHERE source_code = 'x = 2'") == 1);
	app_close(&app);
}

TEST(routes_check_the_query_the_route_declares)
{
	char id[UUID_LEN + 1], uri[160];
	struct exchange x;
	struct app app;
	REQUIRE(app_open(&app, true) == 0);
	create_session(&app, id);
	snprintf(uri, sizeof(uri), "/code-sessions/%s/executions?limit=0", id);
	expect(&app, "GET", uri, NULL, NULL, 400, "INVALID_QUERY");
	snprintf(uri, sizeof(uri), "/code-sessions/%s/executions?limit=1&limit=2", id);
	expect(&app, "GET", uri, NULL, NULL, 400, "INVALID_QUERY");
	snprintf(uri, sizeof(uri), "/code-sessions/%s/executions?limit=2&other=x", id);
	send_request(&app, &x, "GET", uri, NULL, NULL);
	CHECK(x.res.status == 200);
	CHECK(x.req.params.present[PARAM_LIMIT] && x.req.params.value[PARAM_LIMIT] == 2);
	CHECK(!x.req.params.present[PARAM_CURSOR]);
	exchange_free(&x);
	/* A route that declares no query ignores one. */
	snprintf(uri, sizeof(uri), "/code-sessions/%s?limit=0", id);
	expect(&app, "GET", uri, NULL, NULL, 200, NULL);
	app_close(&app);
}

TEST(routes_without_a_store_answer_503_after_the_request_checks)
{
	struct exchange x;
	struct app app;
	REQUIRE(app_open(&app, false) == 0);
	send_request(&app, &x, "GET", "/health", NULL, NULL);
	CHECK(x.res.status == 503);
	CHECK_STR(error_code(&x), "STORE_UNAVAILABLE");
	CHECK(x.res.retry_after == 1);
	exchange_free(&x);
	expect(&app, "GET", "/nope", NULL, NULL, 404, "NOT_FOUND");
	expect(&app, "PUT", "/health", NULL, NULL, 405, "METHOD_NOT_ALLOWED");
	expect(&app, "GET", "/executions/x", NULL, NULL, 400, "INVALID_ID");
	expect(&app, "POST", "/code-sessions", "text/plain", "{}", 415, "UNSUPPORTED_MEDIA_TYPE");
	/* The body's fields and the query are checked only once the store is there. */
	expect(&app, "POST", "/code-sessions", "application/json", "{}", 503, "STORE_UNAVAILABLE");
	expect(&app, "GET", "/code-sessions/" SESSION_LOWER "/executions?limit=0", NULL, NULL,
	       503, "STORE_UNAVAILABLE");
	app_close(&app);
}

TEST(routes_health_without_runners_is_503_with_the_store_ok)
{
	struct exchange x;
	struct app app;
	REQUIRE(app_open(&app, true) == 0);
	send_request(&app, &x, "GET", "/health/", NULL, NULL);
	CHECK(x.res.status == 503);
	CHECK(x.res.retry_after == 1);
	CHECK_STR(member(x.res.body, "status", NULL), "unavailable");
	CHECK_STR(member(x.res.body, "db", NULL), "ok");
	CHECK(json_object_get_int(json_object_object_get(x.res.body, "runners_alive")) == 0);
	CHECK(json_object_object_get(x.res.body, "oldest_queued_age_ms") == NULL);
	exchange_free(&x);
	app_close(&app);
}

TEST(routes_static_files_reaching_the_api_are_404)
{
	struct app app;
	REQUIRE(app_open(&app, true) == 0);
	expect(&app, "GET", "/openapi.json", NULL, NULL, 404, "NOT_FOUND");
	expect(&app, "GET", "/docs/", NULL, NULL, 404, "NOT_FOUND");
	app_close(&app);
}

TEST(routes_run_caps_answer_429_then_503_with_retry_after)
{
	char a[UUID_LEN + 1], b[UUID_LEN + 1], uri[128];
	struct exchange x;
	struct app app;
	REQUIRE(app_open(&app, true) == 0);
	app.cfg.max_runs_per_session = 1;
	app.cfg.max_queue_depth = 2;
	create_session(&app, a);
	create_session(&app, b);
	snprintf(uri, sizeof(uri), "/code-sessions/%s/run", a);
	expect(&app, "POST", uri, NULL, "", 202, NULL);
	send_request(&app, &x, "POST", uri, NULL, "");
	CHECK(x.res.status == 429 && x.res.retry_after == 1);
	CHECK_STR(error_code(&x), "TOO_MANY_RUNS");
	exchange_free(&x);
	snprintf(uri, sizeof(uri), "/code-sessions/%s/run", b);
	expect(&app, "POST", uri, NULL, "", 202, NULL);
	app.cfg.max_runs_per_session = 5;
	send_request(&app, &x, "POST", uri, NULL, "");
	CHECK(x.res.status == 503 && x.res.retry_after == 2);
	CHECK_STR(error_code(&x), "QUEUE_FULL");
	exchange_free(&x);
	CHECK(store_file_int(&app.cfg, "SELECT count(*) FROM executions") == 2);
	app_close(&app);
}
