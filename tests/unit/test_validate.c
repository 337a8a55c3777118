/* Unit tests of the request-body validation table. */
#include <stdlib.h>

#include "check.h"
#include "validate.h"

static struct config cfg;

static int run(enum body_kind kind, const char *body, struct validated *v, struct verror *e)
{
	config_defaults(&cfg);
	return validate_body(kind, body, strlen(body), &cfg, v, e);
}

static void expect_error(enum body_kind kind, const char *body, const char *code, const char *field)
{
	struct validated v;
	struct verror e;
	REQUIRE(run(kind, body, &v, &e) == -1);
	CHECK(e.status == 400);
	CHECK_STR(e.code, code);
	if (field) {
		REQUIRE(e.field != NULL);
		CHECK_STR(e.field, field);
	} else
		CHECK(e.field == NULL);
}

TEST(validate_accepts_a_session_create)
{
	struct validated v;
	struct verror e;
	REQUIRE(run(BODY_SESSION_CREATE, "{\"language\":\"python\",\"template_code\":\"x = 1\\n\"}", &v, &e) == 0);
	CHECK(v.fields[FIELD_LANGUAGE].present);
	CHECK_STR(v.fields[FIELD_TEMPLATE_CODE].str, "x = 1\n");
	CHECK(v.fields[FIELD_TEMPLATE_CODE].len == 6);
	validated_free(&v);
}

TEST(validate_run_body_is_optional)
{
	struct validated v;
	struct verror e;
	REQUIRE(run(BODY_RUN, "", &v, &e) == 0);
	CHECK(!v.fields[FIELD_STDIN].present);
	validated_free(&v);
	REQUIRE(run(BODY_RUN, "{}", &v, &e) == 0);
	CHECK(!v.fields[FIELD_STDIN].present);
	validated_free(&v);
}

TEST(validate_rejects_malformed_json)
{
	expect_error(BODY_SESSION_CREATE, "{\"language\":", "INVALID_JSON", NULL);
	expect_error(BODY_SESSION_CREATE, "{\"language\":\"python\"} x", "INVALID_JSON", NULL);
	expect_error(BODY_SESSION_CREATE, "[1,2]", "INVALID_JSON", NULL);
	expect_error(BODY_SESSION_CREATE, "\"python\"", "INVALID_JSON", NULL);
	expect_error(BODY_SESSION_CREATE, "", "INVALID_JSON", NULL);
	expect_error(BODY_SESSION_CREATE, "{'language':'python'}", "INVALID_JSON", NULL);
}

TEST(validate_rejects_invalid_utf8_in_the_document)
{
	expect_error(BODY_SESSION_UPDATE, "{\"source_code\":\"\xFF\"}", "INVALID_JSON", NULL);
}

TEST(validate_reports_the_field_at_fault)
{
	expect_error(BODY_SESSION_CREATE, "{}", "MISSING_FIELD", "language");
	expect_error(BODY_SESSION_CREATE, "{\"language\":42}", "INVALID_FIELD", "language");
	expect_error(BODY_SESSION_CREATE, "{\"language\":\"cobol\"}", "UNSUPPORTED_LANGUAGE", "language");
	expect_error(BODY_SESSION_CREATE, "{\"language\":\"python\",\"extra\":1}", "UNKNOWN_FIELD", "extra");
	expect_error(BODY_SESSION_UPDATE, "{\"source_code\":null}", "INVALID_FIELD", "source_code");
	expect_error(BODY_SESSION_UPDATE, "{\"source_code\":\"a\\u0000b\"}", "INVALID_FIELD", "source_code");
	expect_error(BODY_RUN, "{\"stdin\":[]}", "INVALID_FIELD", "stdin");
}

TEST(validate_enforces_source_limit_in_bytes)
{
	config_defaults(&cfg);
	size_t n = (size_t)cfg.max_source_bytes + 1;
	char *body = malloc(n + 32);
	REQUIRE(body);
	strcpy(body, "{\"source_code\":\"");
	memset(body + 16, 'a', n);
	strcpy(body + 16 + n, "\"}");
	expect_error(BODY_SESSION_UPDATE, body, "INVALID_FIELD", "source_code");
	body[16 + n - 1] = '"';     /* exactly at the limit */
	strcpy(body + 16 + n - 1, "\"}");
	struct validated v;
	struct verror e;
	CHECK(run(BODY_SESSION_UPDATE, body, &v, &e) == 0);
	validated_free(&v);
	free(body);
}

TEST(validate_rejects_deep_nesting)
{
	char body[256] = "{\"stdin\":";
	for (int i = 0; i < 40; i++)
		strcat(body, "[");
	expect_error(BODY_RUN, body, "INVALID_JSON", NULL);
}
