/*
 * A minimal test harness: each TEST(name) registers itself; unit_main runs
 * them all and ends with "N passed, N skipped, N failed". CHECK records a
 * failure and carries on; REQUIRE returns from the test; SKIP returns from
 * a test whose precondition this host lacks (not root, no cgroups): it is
 * counted and printed as skipped, never as passed.
 */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>
#include <string.h>

typedef void (*test_fn)(void);
void test_register(const char *name, test_fn fn);
void check_fail(const char *file, int line, const char *expr);
void check_str_fail(const char *file, int line, const char *expr, const char *got, const char *want);
void check_skip(const char *why);

#define TEST(name)                                                        \
	static void name(void);                                           \
	__attribute__((constructor)) static void register_##name(void)   \
	{ test_register(#name, name); }                                   \
	static void name(void)

#define CHECK(expr) \
	do { if (!(expr)) check_fail(__FILE__, __LINE__, #expr); } while (0)
#define REQUIRE(expr) \
	do { if (!(expr)) { check_fail(__FILE__, __LINE__, #expr); return; } } while (0)
#define SKIP_UNLESS(cond, why) \
	do { if (!(cond)) { check_skip(why); return; } } while (0)
/* On failure, says what the string was, not only that it differed. */
#define CHECK_STR(a, b) \
	do { const char *got_ = (a), *want_ = (b); \
	     if (strcmp(got_, want_) != 0) check_str_fail(__FILE__, __LINE__, #a, got_, want_); } while (0)

#endif
