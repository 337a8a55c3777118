#include "retention.h"

#include <time.h>

#include "log.h"
#include "util.h"

#define DAY_MS (86400LL * 1000)

/* A batch holds the write lock about this long; the batch's size follows. */
#define BATCH_TARGET_US 2000
#define BATCH_FIRST 64
#define BATCH_MIN 8
#define BATCH_MAX 2000
/* Pages one step gives back (4 KiB each). */
#define RECLAIM_PAGES 128
/* The pause after a step: PAUSE_FACTOR times the step's own time (the wait for
 * the lock included), so other writers have the store at least two thirds of
 * the time, more when they are busy, and never less than this. */
#define PAUSE_FACTOR 2
#define PAUSE_MIN_MS 2

/*
 * What a batch deletes for each execution it takes, in this order, in one
 * transaction: the rows other tables keep per execution, then the
 * execution itself (last: its row is what the batch is chosen by). A table
 * that keeps rows per execution adds its STMT_PURGE_* here.
 */
static const enum store_stmt purge_execution[] = {
	STMT_PURGE_EVENTS,
	STMT_PURGE_STDIN,
	STMT_PURGE_EXECUTION_FILES,
	STMT_PURGE_ARTIFACTS,
	STMT_PURGE_EXECUTIONS,
};
#define NSTEPS(a) (sizeof(a) / sizeof((a)[0]))

/* The same for a session: the rows other tables keep per session, then the session. */
static const enum store_stmt purge_session[] = {
	STMT_PURGE_SESSION_FILES,
	STMT_PURGE_SESSIONS,
};

void retention_init(struct retention *rt, struct store *store, const struct config *cfg)
{
	*rt = (struct retention){ .store = store, .cfg = cfg, .batch = BATCH_FIRST };
	/* The first look comes one interval after the start, not while the
	 * runner is still starting up (nor when a short-lived one is stopped). */
	rt->next_ms = mono_ms() + cfg->retention_interval_ms;
}

int64_t retention_next(const struct retention *rt)
{
	return rt->next_ms;
}

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One statement of a batch: rows before cutoff, at most limit. Returns rows deleted, or -1. */
static int64_t delete_batch(struct store *s, enum store_stmt id, int64_t cutoff, int limit)
{
	struct store_query *q = store_query(s, id);
	store_bind_int64(q, 1, cutoff);
	store_bind_int64(q, 2, limit);
	enum store_rc rc = store_step(q);
	int64_t n = rc == STORE_DONE ? store_changes(q) : -1;
	store_reset(q);
	return n;
}

/* The batch's size for a wanted lock time: double while well under, halve when over. */
static void adapt_batch(struct retention *rt, int64_t took_us)
{
	if (took_us > BATCH_TARGET_US && rt->batch > BATCH_MIN)
		rt->batch /= 2;
	else if (took_us < BATCH_TARGET_US / 2 && rt->batch < BATCH_MAX)
		rt->batch *= 2;
}

/*
 * One batch of steps (purge_execution or purge_session) in a transaction.
 * Returns the rows the last step deleted (executions or sessions), or -1;
 * the batch's size adapts to how long it held the write lock (the wait
 * for the lock not counted: that is other writers' time, not the batch's).
 */
static int64_t purge_batch(struct retention *rt, const enum store_stmt *steps, size_t nsteps, int64_t cutoff)
{
	int64_t n = 0;
	if (store_begin(rt->store) < 0)
		return -1;
	int64_t locked = mono_us();
	for (size_t i = 0; i < nsteps && n >= 0; i++)
		n = delete_batch(rt->store, steps[i], cutoff, rt->batch);
	if (n < 0 || store_commit(rt->store) < 0) {
		store_rollback(rt->store);
		return -1;
	}
	int64_t held_us = mono_us() - locked;
	if (n > 0) {
		adapt_batch(rt, held_us);
		log_debug("retention: %lld row(s) in %lld us; next batch %d", (long long)n, (long long)held_us,
			  rt->batch);
	}
	return n;
}

/* True if some execution finished before cutoff: a read, so an idle look takes no write lock. */
static bool executions_due(struct retention *rt, int64_t cutoff)
{
	struct store_query *q = store_query(rt->store, STMT_PURGE_DUE);
	store_bind_int64(q, 1, cutoff);
	bool due = store_step(q) == STORE_ROW;
	store_reset(q);
	return due;
}

/* The first thing there is to do, done once. Returns what it did (rows or pages), 0 if nothing, -1. */
static int64_t step(struct retention *rt, int64_t now)
{
	const struct config *c = rt->cfg;
	int64_t n;
	if (c->execution_retention_days > 0) {
		int64_t cutoff = now - c->execution_retention_days * DAY_MS;
		if (executions_due(rt, cutoff) &&
		    (n = purge_batch(rt, purge_execution, NSTEPS(purge_execution), cutoff)) != 0) {
			rt->executions += n > 0 ? n : 0;
			return n;
		}
		if ((n = delete_batch(rt->store, STMT_PURGE_SUBMISSIONS, cutoff, rt->batch)) != 0) {
			rt->submissions += n > 0 ? n : 0;
			return n;
		}
	}
	if (c->session_idle_days > 0 &&
	    (n = purge_batch(rt, purge_session, NSTEPS(purge_session), now - c->session_idle_days * DAY_MS)) != 0) {
		rt->sessions += n > 0 ? n : 0;
		return n;
	}
	n = store_reclaim(rt->store, RECLAIM_PAGES);
	rt->pages += n > 0 ? n : 0;
	return n;
}

static void round_done(struct retention *rt)
{
	if (rt->executions || rt->submissions || rt->sessions || rt->pages)
		log_info("retention: deleted %lld execution(s), %lld submission(s), %lld session(s); "
			 "gave back %lld page(s)", (long long)rt->executions, (long long)rt->submissions,
			 (long long)rt->sessions, (long long)rt->pages);
	rt->executions = rt->submissions = rt->sessions = rt->pages = 0;
}

void retention_tick(struct retention *rt, int64_t now)
{
	if (now < rt->next_ms)
		return;
	int64_t started = mono_us();
	int64_t n = step(rt, now_ms());
	int64_t took_ms = (mono_us() - started + 999) / 1000;
	if (n > 0) {
		int64_t pause = PAUSE_FACTOR * took_ms;
		rt->next_ms = mono_ms() + (pause > PAUSE_MIN_MS ? pause : PAUSE_MIN_MS);
		return;
	}
	if (n < 0)
		log_error("store: retention: %s", store_errmsg(rt->store));
	round_done(rt);
	rt->next_ms = mono_ms() + rt->cfg->retention_interval_ms;
}
