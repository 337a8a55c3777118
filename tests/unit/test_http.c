/*
 * Unit tests of fcgi_app/http.c: what a request becomes from the FastCGI
 * environment, bounded body reads, and the bytes of a reply.
 */
#include <stdlib.h>

#include "check.h"
#include "errors.h"
#include "http.h"
#include "mem_stream.h"

/* Parses a request from "NAME=value" strings. */
#define PARSE(req, ...) http_request_parse(req, MEM_ENV(__VA_ARGS__))

static const char *error_code(const struct response *res)
{
	json_object *err = json_object_object_get(res->body, "error");
	return json_object_get_string(json_object_object_get(err, "code"));
}

TEST(http_splits_path_and_query)
{
	struct request req;
	REQUIRE(PARSE(&req, "REQUEST_METHOD=GET",
		      "REQUEST_URI=/code-sessions/ab/executions?limit=5&cursor=9?x") == 0);
	CHECK_STR(req.method, "GET");
	CHECK_STR(req.path, "/code-sessions/ab/executions");
	CHECK_STR(req.query, "limit=5&cursor=9?x");
	http_request_free(&req);
}

TEST(http_drops_one_trailing_slash_only)
{
	struct request req;
	REQUIRE(PARSE(&req, "REQUEST_URI=/health/?a=1") == 0);
	CHECK_STR(req.path, "/health");
	CHECK_STR(req.query, "a=1");
	REQUIRE(PARSE(&req, "REQUEST_URI=/health//") == 0);
	CHECK_STR(req.path, "/health/");
	REQUIRE(PARSE(&req, "REQUEST_URI=/") == 0);
	CHECK_STR(req.path, "/");
}

TEST(http_missing_uri_and_method_are_root_and_empty)
{
	struct request req;
	REQUIRE(http_request_parse(&req, mem_env((const char *const[]){ NULL })) == 0);
	CHECK_STR(req.path, "/");
	CHECK_STR(req.query, "");
	CHECK_STR(req.method, "");
	CHECK(req.content_type == NULL);
	CHECK(req.content_length == -1);
}

TEST(http_refuses_a_path_longer_than_its_buffer)
{
	struct request req;
	char uri[PATH_MAX_LEN + 64] = "REQUEST_URI=/";
	memset(uri + 13, 'a', PATH_MAX_LEN - 1);        /* path of PATH_MAX_LEN bytes */
	CHECK(PARSE(&req, uri) == -1);
	uri[13 + PATH_MAX_LEN - 2] = '\0';              /* PATH_MAX_LEN - 1 bytes: fits */
	REQUIRE(PARSE(&req, uri) == 0);
	CHECK(strlen(req.path) == PATH_MAX_LEN - 1);
}

TEST(http_long_query_does_not_count_against_the_path)
{
	struct request req;
	char uri[2048] = "REQUEST_URI=/health?q=";
	memset(uri + strlen(uri), 'x', 1500);
	REQUIRE(PARSE(&req, uri) == 0);
	CHECK_STR(req.path, "/health");
	CHECK(strlen(req.query) == 1502);
}

TEST(http_content_length_is_a_plain_non_negative_decimal)
{
	static const struct { const char *env; long want; } cases[] = {
		{ "CONTENT_LENGTH=12", 12 }, { "CONTENT_LENGTH=0", 0 }, { "CONTENT_LENGTH=", -1 },
		{ "CONTENT_LENGTH=-1", -1 }, { "CONTENT_LENGTH=12x", -1 }, { "CONTENT_LENGTH=x", -1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct request req;
		REQUIRE(PARSE(&req, cases[i].env) == 0);
		if (req.content_length != cases[i].want)
			fprintf(stderr, "  %s: %ld\n", cases[i].env, req.content_length);
		CHECK(req.content_length == cases[i].want);
	}
}

TEST(http_request_id_is_kept_only_when_short_and_safe)
{
	struct request req;
	char long_id[128] = "HTTP_X_REQUEST_ID=";
	memset(long_id + 18, 'a', 64);
	REQUIRE(PARSE(&req, "HTTP_X_REQUEST_ID=abc-1.2_3:Z") == 0);
	CHECK_STR(req.request_id, "abc-1.2_3:Z");
	REQUIRE(PARSE(&req, long_id) == 0);
	CHECK(strlen(req.request_id) == 64);
	long_id[18 + 64] = 'a';                         /* 65 characters: replaced */
	REQUIRE(PARSE(&req, long_id) == 0);
	CHECK(uuid_valid(req.request_id, strlen(req.request_id)));
	REQUIRE(PARSE(&req, "HTTP_X_REQUEST_ID=a b") == 0);
	CHECK(uuid_valid(req.request_id, strlen(req.request_id)));
	REQUIRE(PARSE(&req, "REQUEST_URI=/") == 0);
	CHECK(uuid_valid(req.request_id, strlen(req.request_id)));
}

TEST(http_json_content_type_allows_case_and_parameters_only)
{
	static const struct { const char *type; bool json; } cases[] = {
		{ "application/json", true }, { "Application/JSON", true },
		{ "application/json; charset=utf-8", true }, { "application/json;charset=utf-8", true },
		{ "  application/json", true }, { "application/json ", true },
		{ "application/jsonx", false }, { "application/json-seq", false },
		{ "text/plain", false }, { "", false }, { "application/", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct request req = { .content_type = cases[i].type };
		if (http_is_json(&req) != cases[i].json)
			fprintf(stderr, "  \"%s\"\n", cases[i].type);
		CHECK(http_is_json(&req) == cases[i].json);
	}
	struct request none = { .content_type = NULL };
	CHECK(!http_is_json(&none));
}

TEST(http_reads_exactly_content_length_bytes)
{
	struct request req = { .content_length = 5 };
	struct response res = { .status = 500 };
	FCGX_Stream in;
	mem_reader_init(&in, "hello, more", 11);
	REQUIRE(http_read_body(&req, &in, 100, &res) == 0);
	CHECK(req.body_len == 5);
	CHECK_STR(req.body, "hello");
	CHECK(res.status == 500 && res.body == NULL);   /* no reply set */
	http_request_free(&req);
}

TEST(http_absent_content_length_is_an_empty_body)
{
	struct request req = { .content_length = -1 };
	struct response res = { .status = 500 };
	FCGX_Stream in;
	mem_reader_init(&in, "ignored", 7);
	REQUIRE(http_read_body(&req, &in, 100, &res) == 0);
	CHECK(req.body_len == 0);
	CHECK_STR(req.body, "");
	http_request_free(&req);
}

TEST(http_body_over_the_limit_is_413_and_not_read)
{
	struct request req = { .content_length = 101 };
	struct response res = { .status = 500 };
	FCGX_Stream in;
	char buf[101] = { 0 };
	mem_reader_init(&in, buf, sizeof(buf));
	CHECK(http_read_body(&req, &in, 100, &res) == -1);
	CHECK(res.status == 413);
	CHECK_STR(error_code(&res), "PAYLOAD_TOO_LARGE");
	CHECK(in.rdNext == (unsigned char *)buf);     /* nothing consumed */
	CHECK(req.body == NULL);
	json_object_put(res.body);
}

TEST(http_body_shorter_than_content_length_is_invalid_json)
{
	struct request req = { .content_length = 10 };
	struct response res = { .status = 500 };
	FCGX_Stream in;
	mem_reader_init(&in, "{\"a\"", 4);
	CHECK(http_read_body(&req, &in, 100, &res) == -1);
	CHECK(res.status == 400);
	CHECK_STR(error_code(&res), "INVALID_JSON");
	CHECK_STR(json_object_get_string(json_object_object_get(
		json_object_object_get(res.body, "error"), "message")),
		"request body ended after 4 of 10 bytes");
	json_object_put(res.body);
	http_request_free(&req);
}

/* Sends res and returns what was written (static buffer). */
static const char *sent(struct response *res)
{
	static char buf[4096];
	FCGX_Stream out;
	mem_writer_init(&out, buf, sizeof(buf) - 1);
	http_send(res, &out);
	buf[mem_writer_len(&out, buf)] = '\0';
	return buf;
}

TEST(http_sends_status_line_headers_and_json_body)
{
	struct response res = { .status = 500 };
	res.allow = "GET, PATCH";
	res.request_id = "rid-1";
	reply_error(&res, ERR_METHOD_NOT_ALLOWED, NULL, "no");
	CHECK_STR(sent(&res),
		  "Status: 405 Method Not Allowed\r\nContent-Type: application/json\r\n"
		  "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nContent-Length: 68\r\nX-Request-Id: rid-1\r\n"
		  "Allow: GET, PATCH\r\n\r\n"
		  "{\"error\":{\"code\":\"METHOD_NOT_ALLOWED\",\"message\":\"no\",\"field\":null}}\n");
	CHECK(res.body == NULL);
}

TEST(http_sends_retry_after_and_location)
{
	struct response res = { .status = 500 };
	snprintf(res.location, sizeof(res.location), "/executions/x");
	reply_error(&res, ERR_QUEUE_FULL, NULL, "full");
	const char *out = sent(&res);
	CHECK(strncmp(out, "Status: 503 Service Unavailable\r\n", 33) == 0);
	CHECK(strstr(out, "\r\nRetry-After: 2\r\nLocation: /executions/x\r\n\r\n") != NULL);
}

TEST(http_sends_text_without_a_trailing_newline)
{
	struct response res = { .status = 500 };
	http_reply_text(&res, 200, "text/plain; version=0.0.4", strdup("a 1\n"));
	CHECK_STR(sent(&res),
		  "Status: 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
		  "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nContent-Length: 4\r\n\r\na 1\n");
	CHECK(res.text == NULL);
}

TEST(http_status_texts_cover_every_status_the_api_sends)
{
	CHECK_STR(http_status_text(201), "Created");
	CHECK_STR(http_status_text(202), "Accepted");
	CHECK_STR(http_status_text(404), "Not Found");
	CHECK_STR(http_status_text(413), "Payload Too Large");
	CHECK_STR(http_status_text(415), "Unsupported Media Type");
	CHECK_STR(http_status_text(429), "Too Many Requests");
	CHECK_STR(http_status_text(599), "Internal Server Error");
}
