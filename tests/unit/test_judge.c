/* Judging a case's output: each compare mode and each way a run ends. */
#include <string.h>

#include "judge.h"
#include "check.h"

static bool m(const char *mode, const char *expected, const char *actual)
{
	return judge_matches(mode, expected, strlen(expected), actual, strlen(actual));
}

TEST(judge_exact_is_byte_for_byte)
{
	CHECK(m("exact", "3\n", "3\n"));
	CHECK(!m("exact", "3\n", "3"));
	CHECK(!m("exact", "3\n", "3 \n"));
}

TEST(judge_trim_ignores_trailing_blanks_of_lines_and_trailing_blank_lines)
{
	CHECK(m("trim", "a b\nc\n", "a b  \r\nc\n\n\n"));
	CHECK(m("trim", "a\n", "a"));
	CHECK(!m("trim", "a b\n", "a  b\n"));
	CHECK(!m("trim", "a\nb\n", "a\n\nb\n"));
	CHECK(!m("trim", "a\n", " a\n"));
}

TEST(judge_tokens_ignores_all_whitespace_between_tokens)
{
	CHECK(m("tokens", "1 2 3\n", "1\n2\t\t3"));
	CHECK(!m("tokens", "1 2 3\n", "1 2"));
	CHECK(!m("tokens", "1 2\n", "1 2 3"));
	CHECK(m("tokens", "", "  \n"));
}

TEST(judge_float_tolerance_compares_numbers_absolutely_or_relatively)
{
	CHECK(m("float_tolerance:0.001", "3.14159\n", "3.1413\n"));
	CHECK(!m("float_tolerance:0.001", "0.5\n", "0.502\n"));
	CHECK(m("float_tolerance:1e-06", "1000000\n", "1000000.5\n"));   /* relative */
	CHECK(m("float_tolerance:0.1", "x 1.0\n", "x 1.05"));
	CHECK(!m("float_tolerance:0.1", "x 1.0\n", "y 1.0"));
	CHECK(!m("float_tolerance:0.1", "1.0\n", "nan\n"));
	CHECK(m("float_tolerance:0", "2\n", "2.0\n"));
}

TEST(judge_unknown_mode_matches_nothing)
{
	CHECK(!m("fuzzy", "a", "a"));
	CHECK(!m("float_tolerance:x", "1", "1"));
}

TEST(judge_verdict_follows_how_the_run_ended)
{
	struct claim cl = { .expected = (char *)"ok\n", .expected_len = 3 };
	struct outcome o = { .status = "COMPLETED", .out = "ok\n", .out_len = 3 };
	strcpy(cl.compare, "exact");
	CHECK_STR(judge_verdict(&o, &cl), "ACCEPTED");
	o.out = "no\n";
	CHECK_STR(judge_verdict(&o, &cl), "WRONG_ANSWER");
	static const char *const pairs[][2] = {
		{ "RUNTIME_ERROR", "RUNTIME_ERROR" }, { "OUTPUT_LIMIT", "RUNTIME_ERROR" },
		{ "TIMEOUT", "TIME_LIMIT" }, { "MEMORY_LIMIT", "MEMORY_LIMIT" },
		{ "COMPILE_ERROR", "COMPILE_ERROR" }, { "COMPILE_TIMEOUT", "COMPILE_ERROR" },
	};
	o.status = "FAILED";
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		o.error_code = pairs[i][0];
		CHECK_STR(judge_verdict(&o, &cl), pairs[i][1]);
	}
	o.error_code = "SANDBOX_ERROR";
	CHECK(judge_verdict(&o, &cl) == NULL);
	o.error_code = "CANCELLED";
	CHECK(judge_verdict(&o, &cl) == NULL);
}
