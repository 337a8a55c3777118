/*
 * Per-learner quotas (db.h). Each is counted from the store inside the
 * write transaction that would add the row it counts, so every fcgi_app
 * process and every web host sees the same counts, and the transaction's
 * lock keeps two requests from both taking a learner's last place. Every
 * count is a range of one learner's entries in an index of migration 10.
 */
#include "db.h"

#include <stdio.h>

#define MINUTE_MS 60000
#define HOUR_MS 3600000
/* A run in flight ends within its limits; most within a second. */
#define CONCURRENT_RETRY_S 1
/* Stored source is freed by the learner (a shorter autosave), not by time. */
#define SOURCE_RETRY_S 60
/* Bytes of a learner key copied out of a row: a sub (AUTH_SUB_MAX) or an address. */
#define LEARNER_KEY_MAX 256

static enum db_status refuse(struct learner_quota *lq, enum db_status st, int64_t limit, int retry_after_s)
{
	lq->refused.limit = limit;
	lq->refused.retry_after_s = retry_after_s > 0 ? retry_after_s : 1;
	return st;
}

/* Seconds until the oldest row of a window leaves it, rounded up. */
static int window_retry_s(int64_t oldest, int64_t window_ms, int64_t now)
{
	int64_t ms = oldest + window_ms - now;
	return ms <= 0 ? 1 : (int)((ms + 999) / 1000);
}

/*
 * Whether the learner's rows of stmt (WINDOW_COLUMNS) younger than
 * window_ms leave room for one more under limit; over: the refusal.
 */
static enum db_status window_check(struct store *s, struct learner_quota *lq, enum store_stmt stmt,
				   int64_t limit, int64_t window_ms, enum db_status over)
{
	if (limit == 0)
		return DB_OK;
	int64_t now = now_ms();
	struct store_query *q = store_query(s, stmt);
	store_bind_str(q, 1, lq->learner);
	store_bind_int64(q, 2, now - window_ms);
	enum db_status st = DB_OK;
	if (store_step(q) != STORE_ROW)
		st = db_failed(s, "count a learner's quota window");
	else if (store_column_int64(q, WINDOW_COUNT) >= limit)
		st = refuse(lq, over, limit, window_retry_s(store_column_int64(q, WINDOW_OLDEST), window_ms, now));
	store_reset(q);
	return st;
}

/* The first column of stmt's one row for (learner, ?2 = arg when given), or -1. */
static int64_t learner_count(struct store *s, enum store_stmt stmt, const char *learner, const char *arg)
{
	struct store_query *q = store_query(s, stmt);
	store_bind_str(q, 1, learner);
	if (arg)
		store_bind_str(q, 2, arg);
	int64_t n = store_step(q) == STORE_ROW ? store_column_int64(q, 0) : -1;
	store_reset(q);
	return n;
}

enum db_status db_quota_run(struct store *s, struct learner_quota *lq)
{
	/* A Run holds no store-wide lock (db_check_caps): the learner's Runs
	 * take turns on the learner's key, so two cannot both take the last place. */
	if ((lq->concurrent_runs > 0 || lq->runs_per_minute > 0) && db_lock(s, STMT_LEARNER_LOCK, lq->learner) < 0)
		return db_failed(s, "lock a learner's runs");
	if (lq->concurrent_runs > 0) {
		int64_t n = learner_count(s, STMT_LEARNER_IN_FLIGHT, lq->learner, NULL);
		if (n < 0)
			return db_failed(s, "count a learner's runs in flight");
		if (n >= lq->concurrent_runs)
			return refuse(lq, DB_CONCURRENT_RUNS_LIMITED, lq->concurrent_runs, CONCURRENT_RETRY_S);
	}
	return window_check(s, lq, STMT_LEARNER_RUNS, lq->runs_per_minute, MINUTE_MS, DB_RUN_RATE_LIMITED);
}

/*
 * Whether learner's sessions may hold new_bytes in session_id instead of
 * old_bytes. A write that does not grow the total is always taken, so a
 * learner over a lowered quota can still shrink their code.
 */
static enum db_status source_check(struct store *s, struct learner_quota *lq, const char *learner,
				   const char *session_id, int64_t old_bytes, int64_t new_bytes)
{
	if (lq->source_bytes == 0 || new_bytes <= old_bytes)
		return DB_OK;
	/* Writers that grow the learner's total take turns (an autosave does
	 * not hold the store-wide lock: store_begin_session). */
	if (db_lock(s, STMT_LEARNER_LOCK, learner) < 0)
		return db_failed(s, "lock a learner's source");
	int64_t others = learner_count(s, STMT_LEARNER_SOURCE_BYTES, learner, session_id);
	if (others < 0)
		return db_failed(s, "sum a learner's source");
	if (others + new_bytes > lq->source_bytes)
		return refuse(lq, DB_SOURCE_QUOTA_EXCEEDED, lq->source_bytes, SOURCE_RETRY_S);
	return DB_OK;
}

enum db_status db_quota_session_create(struct store *s, struct learner_quota *lq, size_t code_len)
{
	enum db_status st = window_check(s, lq, STMT_LEARNER_SESSIONS, lq->sessions_per_hour, HOUR_MS,
					 DB_SESSION_RATE_LIMITED);
	return st == DB_OK ? source_check(s, lq, lq->learner, "", 0, (int64_t)code_len) : st;
}

enum db_status db_quota_source_update(struct store *s, struct learner_quota *lq, const char *session_id,
				      size_t code_len)
{
	char learner[LEARNER_KEY_MAX];
	int64_t old_bytes = 0;
	if (lq->source_bytes == 0)       /* no quota: nothing to read */
		return DB_OK;
	struct store_query *q = store_query(s, STMT_SESSION_QUOTA);
	store_bind_str(q, 1, session_id);
	enum store_rc rc = store_step(q);
	if (rc == STORE_ROW) {
		snprintf(learner, sizeof(learner), "%s", store_column_text(q, SESSION_QUOTA_LEARNER, NULL));
		old_bytes = store_column_int64(q, SESSION_QUOTA_SOURCE_BYTES);
	}
	store_reset(q);
	if (rc != STORE_ROW)
		return rc == STORE_DONE ? DB_NOT_FOUND : db_failed(s, "find session");
	/* The session's owner's quota, whoever autosaves it (an admin, anyone with auth = none). */
	return source_check(s, lq, learner, session_id, old_bytes, (int64_t)code_len);
}
