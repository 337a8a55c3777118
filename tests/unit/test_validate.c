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

TEST(validate_refuses_what_lenient_parsers_accept)
{
	expect_error(BODY_SESSION_CREATE, "{\"language\":NaN}", "INVALID_JSON", NULL);
	expect_error(BODY_SESSION_CREATE, "{\"language\":\"python\",}", "INVALID_JSON", NULL);
	expect_error(BODY_SESSION_CREATE, "{\"language\":\"py\tthon\"}", "INVALID_JSON", NULL);
	expect_error(BODY_RUN, "{\"stdin\":\"\\ud800\"}", "INVALID_JSON", NULL);
	expect_error(BODY_RUN, "{\"stdin\":\"\\udc00\\ud800\"}", "INVALID_JSON", NULL);
	expect_error(BODY_RUN, "{\"stdin\":\"\\x41\"}", "INVALID_JSON", NULL);
	expect_error(BODY_RUN, "{\"stdin\":01}", "INVALID_JSON", NULL);
	expect_error(BODY_RUN, "\xEF\xBB\xBF{}", "INVALID_JSON", NULL);
	expect_error(BODY_RUN, "{} {}", "INVALID_JSON", NULL);
	expect_error(BODY_RUN, " ", "INVALID_JSON", NULL);
}

TEST(validate_accepts_escapes_and_surrogate_pairs)
{
	struct validated v;
	struct verror e;
	REQUIRE(run(BODY_RUN, " {\"st\\u0064in\" : \"\\ud83d\\ude00\\n\\/\"}\r\n", &v, &e) == 0);
	CHECK(v.fields[FIELD_STDIN].present);
	CHECK_STR(v.fields[FIELD_STDIN].str, "\xF0\x9F\x98\x80\n/");
	validated_free(&v);
}

TEST(validate_refuses_duplicate_keys)
{
	expect_error(BODY_SESSION_CREATE, "{\"language\":\"python\",\"language\":\"cobol\"}",
		     "DUPLICATE_FIELD", "language");
	expect_error(BODY_RUN, "{\"stdin\":\"a\",\"st\\u0064in\":\"b\"}", "DUPLICATE_FIELD", "stdin");
	expect_error(BODY_RUN, "{\"x\":1,\"x\":2}", "UNKNOWN_FIELD", "x");
}

TEST(validate_refuses_duplicate_keys_in_nested_objects_by_path)
{
	expect_error(BODY_SUITE, "{\"cases\":[{\"name\":\"a\",\"expected_stdout\":\"\"},"
		     "{\"name\":\"b\",\"expected_stdout\":\"1\",\"expected_stdout\":\"2\"}]}",
		     "DUPLICATE_FIELD", "cases[1].expected_stdout");
	expect_error(BODY_SUITE, "{\"cases\":[{\"name\":\"a\",\"n\\u0061me\":\"b\",\"expected_stdout\":\"\"}]}",
		     "DUPLICATE_FIELD", "cases[0].name");
	expect_error(BODY_SUITE, "{\"cases\":[{\"name\":\"a\",\"expected_stdout\":\"\"}],"
		     "\"compare\":{\"float_tolerance\":1,\"float_tolerance\":-1}}",
		     "DUPLICATE_FIELD", "compare.float_tolerance");
	expect_error(BODY_RUN, "{\"stdin\":[{\"k\":1},{\"k\":1,\"j\":[{\"z\":0,\"z\":0}]}]}",
		     "DUPLICATE_FIELD", "stdin[1].j[0].z");
	/* The same name in sibling objects, or once in each of two levels, is fine. */
	struct validated v;
	struct verror e;
	REQUIRE(run(BODY_SUITE, "{\"cases\":[{\"name\":\"a\",\"expected_stdout\":\"\"},"
		    "{\"name\":\"b\",\"expected_stdout\":\"\"}]}", &v, &e) == 0);
	validated_free(&v);
}

TEST(validate_cuts_long_unknown_names_on_a_character_boundary)
{
	char body[512] = "{\"";
	for (int i = 0; i < 200; i++)
		strcat(body, "\xC3\xA9");       /* é: 400 bytes */
	strcat(body, "\":1}");
	struct validated v;
	struct verror e;
	REQUIRE(run(BODY_RUN, body, &v, &e) == -1);
	CHECK_STR(e.code, "UNKNOWN_FIELD");
	CHECK(strlen(e.field) == 318);
}

static int query(const char *q, struct query_values *out, struct verror *e)
{
	config_defaults(&cfg);
	return validate_query(QUERY_PAGE, q, &cfg, out, e);
}

static void expect_query_error(const char *q, const char *field)
{
	struct query_values out;
	struct verror e;
	REQUIRE(query(q, &out, &e) == -1);
	CHECK_STR(e.code, "INVALID_QUERY");
	CHECK_STR(e.field, field);
}

TEST(validate_query_reads_limit_and_cursor)
{
	struct query_values out;
	struct verror e;
	REQUIRE(query("limit=5&cursor=%31%32&other=x&&flag", &out, &e) == 0);
	CHECK(out.present[PARAM_LIMIT] && out.value[PARAM_LIMIT] == 5);
	CHECK(out.present[PARAM_CURSOR] && out.value[PARAM_CURSOR] == 12);
	REQUIRE(query("", &out, &e) == 0);
	CHECK(!out.present[PARAM_LIMIT] && !out.present[PARAM_CURSOR]);
}

TEST(validate_query_refuses_out_of_range_values)
{
	expect_query_error("limit=0", "limit");
	expect_query_error("limit=101", "limit");
	expect_query_error("limit=-1", "limit");
	expect_query_error("limit=", "limit");
	expect_query_error("limit", "limit");
	expect_query_error("limit=1e3", "limit");
	expect_query_error("limit=+5", "limit");
	expect_query_error("limit=%00", "limit");
	expect_query_error("limit=%3", "limit");
	expect_query_error("limit=5&limit=6", "limit");
	expect_query_error("cursor=0", "cursor");
	expect_query_error("cursor=99999999999999999999", "cursor");
	expect_query_error("cursor=abc", "cursor");
}

TEST(validate_id_wants_a_uuid)
{
	struct verror e;
	CHECK(validate_id("5b0c0f6e-1a2b-4c3d-8e9f-0123456789ab", 36, ID_UUID, "session", &e) == 0);
	REQUIRE(validate_id("5b0c0f6e", 8, ID_UUID, "session", &e) == -1);
	CHECK(e.status == 400);
	CHECK_STR(e.code, "INVALID_ID");
	CHECK_STR(e.field, "id");
}

/* Sessions may take the languages of the shipped table, as in fcgi_app. */
static struct language_table shipped_languages;

__attribute__((constructor)) static void set_shipped_languages(void)
{
	char err[256];
	if (languages_load(&shipped_languages, "conf/languages.conf", err, sizeof(err)) == 0)
		validate_set_languages(&shipped_languages);
	else
		fprintf(stderr, "test_validate: %s\n", err);
}

__attribute__((destructor)) static void free_shipped_languages(void)
{
	languages_free(&shipped_languages);
}

TEST(validate_unsupported_language_lists_the_valid_ids)
{
	struct validated v;
	struct verror e;
	CHECK(run(BODY_SESSION_CREATE, "{\"language\":\"cobol\"}", &v, &e) < 0);
	CHECK_STR(e.message, "language \"cobol\" is not supported; use one of: python, javascript, "
		  "typescript, c, cpp, java, go, rust, bash, sql");
	CHECK(run(BODY_SESSION_CREATE, "{\"language\":\"rust\"}", &v, &e) == 0);
	validated_free(&v);
}
