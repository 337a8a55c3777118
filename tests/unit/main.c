/* Runs every registered unit test; the last line is the summary. */
#include "check.h"

#include <stdlib.h>

#define MAX_TESTS 512

static struct { const char *name; test_fn fn; } tests[MAX_TESTS];
static int ntests, current_failed;
static const char *current_skip;       /* why the current test was skipped */

void test_register(const char *name, test_fn fn)
{
	if (ntests == MAX_TESTS)
		abort();
	tests[ntests].name = name;
	tests[ntests].fn = fn;
	ntests++;
}

void check_fail(const char *file, int line, const char *expr)
{
	fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", file, line, expr);
	current_failed = 1;
}

void check_str_fail(const char *file, int line, const char *expr, const char *got, const char *want)
{
	fprintf(stderr, "  %s:%d: CHECK_STR(%s): got \"%.200s\", want \"%.200s\"\n", file, line, expr, got, want);
	current_failed = 1;
}

void check_skip(const char *why)
{
	current_skip = why;
}

int main(int argc, char **argv)
{
	int passed = 0, skipped = 0, failed = 0;
	for (int i = 0; i < ntests; i++) {
		if (argc > 1 && !strstr(tests[i].name, argv[1]))
			continue;
		current_failed = 0;
		current_skip = NULL;
		tests[i].fn();
		if (current_failed) {
			printf("FAIL %s\n", tests[i].name);
			failed++;
		} else if (current_skip) {
			printf("skip %s (%s)\n", tests[i].name, current_skip);
			skipped++;
		} else {
			printf("ok   %s\n", tests[i].name);
			passed++;
		}
	}
	printf("%d passed, %d skipped, %d failed\n", passed, skipped, failed);
	return failed ? 1 : 0;
}
