/* A runner slot: a thread that claims executions and runs them one at a time. */
#ifndef RUNNER_SLOT_H
#define RUNNER_SLOT_H

#include <pthread.h>

#include "claims.h"
#include "event_sink.h"
#include "lang_run.h"
#include "lang_standby.h"
#include "runner.h"
#include "sandbox.h"
#include "warm.h"

struct slot {
	int index;                      /* 0 .. slots-1 */
	bool netns;                     /* the thread sits in its own network namespace */
	pthread_t thread;
	struct runner *runner;
	void *pub;                      /* ZeroMQ PUB socket to the events program, or NULL */
	struct event_sink events;       /* of the execution running now */
	struct warm_zygote warm;        /* Python's warm interpreter (python_warm) */
	const struct language *python;  /* the language it serves; NULL: warm start off */
	struct lang_standby standby;    /* the sandbox of its next run (sandbox_standby) */
};

/* Starts the thread of s. Returns 0, or an errno value. */
int slot_start(struct slot *s);

/* Maps what the sandbox reported to the row written back. */
void outcome_from_result(const struct sandbox_result *res, const struct sandbox_limits *limits,
			 struct outcome *o);

/* The outcome of a compile-and-run: a compile that failed ends the
 * execution (COMPILE_ERROR, COMPILE_TIMEOUT, SANDBOX_ERROR), else the run's. */
void outcome_from_lang(const struct lang_result *lr, const struct sandbox_limits *run_limits,
		       const struct sandbox_limits *compile_limits, struct outcome *o);

#endif
