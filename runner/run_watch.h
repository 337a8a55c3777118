/*
 * What a slot looks at in the store while its execution runs (the
 * sandbox's watch, every RUN_WATCH_INPUT_MS or RUN_WATCH_CANCEL_MS): whether it was cancelled
 * or is no longer this runner's attempt (then the run is killed), and for
 * an interactive run the input sent to it (fed to the program's stdin, in
 * order). Its output so far is not written here: GET /executions/{id} of
 * a running interactive execution reads the events the sink stores
 * (EXECUTION_COLUMNS in common/store_columns.h).
 */
#ifndef RUNNER_RUN_WATCH_H
#define RUNNER_RUN_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "claims.h"
#include "sandbox.h"

/*
 * An interactive run's input line is fed within RUN_WATCH_INPUT_MS; a
 * cancel of any run is seen within RUN_WATCH_CANCEL_MS, which a person
 * pressing Stop does not notice, and which keeps the look to about one
 * statement per run when a busy host stretches hello worlds to tens of ms.
 */
enum {
	RUN_WATCH_INPUT_MS = 20,
	RUN_WATCH_CANCEL_MS = 100,
};

struct run_watch {
	struct claims *claims;
	const struct claim *claim;
	int64_t stdin_seq;              /* the last execution_stdin row fed */
	struct sandbox_watch watch;     /* what the sandbox calls */
};

/* Sets w up for claim cl of c (both borrowed for the run). */
void run_watch_init(struct run_watch *w, struct claims *c, const struct claim *cl);

#endif
