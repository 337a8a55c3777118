/*
 * Judging one case of a submission: how its run ended and what it printed
 * against what the suite expects. Pure functions of their inputs, so a
 * case judged again after a lost runner gets the same verdict.
 */
#ifndef RUNNER_JUDGE_H
#define RUNNER_JUDGE_H

#include <stdbool.h>
#include <stddef.h>

#include "claims.h"

/*
 * Whether actual matches expected under compare: "exact" (byte for byte),
 * "trim" (trailing whitespace of each line and trailing blank lines
 * ignored), "tokens" (the same whitespace-separated tokens) or
 * "float_tolerance:<x>" (tokens equal, or both numbers within x,
 * absolutely or relative to the expected one). An unknown mode matches
 * nothing.
 */
bool judge_matches(const char *compare, const char *expected, size_t elen, const char *actual, size_t alen);

/*
 * The verdict of a case whose run ended as o: ACCEPTED, WRONG_ANSWER,
 * RUNTIME_ERROR, TIME_LIMIT, MEMORY_LIMIT or COMPILE_ERROR; NULL when the
 * run says nothing about the program (the sandbox failed, or a cancel):
 * the submission then ends FAILED.
 */
const char *judge_verdict(const struct outcome *o, const struct claim *cl);

#endif
