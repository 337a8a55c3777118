/* State shared by the runner's main loop and its slot threads. */
#ifndef RUNNER_RUNNER_H
#define RUNNER_RUNNER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "compile_cache.h"
#include "compile_gate.h"
#include "syntax_memo.h"
#include "config.h"
#include "languages.h"
#include "sandbox.h"
#include "util.h"

struct runner {
	struct config cfg;
	struct sandbox_host host;
	struct language_table langs;    /* available ones have .available set */
	char *languages_json;           /* what the runner's row records */
	struct compile_cache cache;
	struct compile_gate compile_gate;
	struct syntax_memo syntax_memo;         /* sources that passed their syntax check */
	char id[UUID_LEN + 1];
	int slots;
	bool uid_block;                 /* cfg.sandbox_uid_base is a block held in the store */
	void *zmq;                      /* the ZeroMQ context (slots open their PUB sockets in it) */

	pthread_mutex_t lock;
	pthread_cond_t wake;            /* work may be waiting */
	int nudges;                     /* under lock: wake-ups not yet taken */
	atomic_int busy;                /* slots running an execution */
	atomic_bool stopping;           /* no new claims */
};

/* Wakes one idle slot (all = false) or every slot. */
void runner_nudge(struct runner *r, bool all);

#endif
