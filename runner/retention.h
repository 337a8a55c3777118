/*
 * Retention: the runner's maintenance deletes what the configuration no
 * longer keeps (execution_retention_days, session_idle_days) and gives the
 * space back, a small batch at a time so no batch holds the store's write
 * lock long enough to stall an autosave. Runs on the main thread's timer,
 * with the main thread's store connection.
 */
#ifndef RUNNER_RETENTION_H
#define RUNNER_RETENTION_H

#include <stdint.h>

#include "config.h"
#include "store.h"

struct retention {
	struct store *store;            /* borrowed */
	const struct config *cfg;
	int batch;                      /* executions per batch, adapted to the time a batch takes */
	int64_t next_ms;                /* mono_ms of the next step */
	int64_t executions, submissions, sessions, pages;   /* done in this round, for its log line */
};

void retention_init(struct retention *rt, struct store *store, const struct config *cfg);

/*
 * When it is time (mono_ms now), one step: a batch of executions, of
 * submissions or of sessions to delete, or a bit of space to give back,
 * whichever is first to do. After a step that did something the next one
 * comes soon, after a pause that leaves writers most of the time; after
 * one that found nothing, in retention_interval_ms.
 */
void retention_tick(struct retention *rt, int64_t now);

/* The mono_ms of the next step (the main loop's wait). */
int64_t retention_next(const struct retention *rt);

#endif
