/*
 * Which sources passed their language's syntax check (languages.h,
 * syntax_channel), for languages with a run_checked command: a run of one
 * of them again -- a learner's Run of unchanged code, every test case of
 * a submission after the first -- takes run_checked, which skips the
 * check (for Bash, a second bash process in the sandbox; for SQL, a
 * second sqlite3).
 *
 * Kept in memory, shared by the slots, by a 64-bit hash of (language,
 * toolchain version, source and the session's other files, which a
 * check may read too): the last SYNTAX_MEMO_KEYS that passed; a restart
 * forgets them. Only a run that exited 0 with nothing on
 * its syntax channel is remembered, whose check certainly passed. Two
 * sources whose keys hash alike (a chance of one in 2^64 for a pair) would
 * let the second run without the check: its syntax error would then show
 * as the interpreter's own, at run time, instead of as COMPILE_ERROR.
 */
#ifndef RUNNER_SYNTAX_MEMO_H
#define RUNNER_SYNTAX_MEMO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "languages.h"

enum { SYNTAX_MEMO_KEYS = 4096 };

struct syntax_memo {
	pthread_mutex_t lock;
	uint64_t keys[SYNTAX_MEMO_KEYS];        /* 0: empty */
	unsigned next;                          /* the slot the next key takes (the oldest) */
};

void syntax_memo_init(struct syntax_memo *m);

/* Whether source passed l's check before. */
bool syntax_memo_passed(struct syntax_memo *m, const struct language *l, const char *source, size_t len);

/* Remembers that source passed l's check. */
void syntax_memo_add(struct syntax_memo *m, const struct language *l, const char *source, size_t len);

#endif
