/*
 * The counters and histograms of /metrics as the store keeps them.
 *
 * They are not computed from history: triggers on executions (and on the
 * runners' heartbeat) add to two small tables in the very transaction that
 * changes a status, so every process of the pool and every host reads the
 * same numbers, a restart loses nothing, and retention can delete the rows
 * they came from (see the migration in common/store_sqlite_sql.c and
 * common/store_pg_sql.c).
 *
 *   metric_counts  (name, language, status, error_code) -> value
 *     accepted: executions inserted; finished: executions that reached a
 *     final status (counted once, when they first do); verdict: verdicts
 *     given to cases (status holds the verdict); busy_ms: slot time from
 *     claim to final status.
 *   metric_buckets (name, language, le) -> count, sum
 *     one row per bucket of each histogram (below), NOT cumulative: le is
 *     the smallest bound at or above the value, METRIC_LE_INF past the
 *     last; the scrape adds them up.
 */
#ifndef ENGINE_STORE_METRICS_H
#define ENGINE_STORE_METRICS_H

/*
 * Bucket bounds. Milliseconds for the time histograms; per mille of a
 * runner's slots for slot use. The triggers' bucket expressions and the
 * scrape's series both come from these lists: changing one takes a
 * migration that recreates the triggers and clears metric_buckets.
 */
#define METRIC_MS_BOUNDS(X) X(5) X(10) X(25) X(50) X(100) X(250) X(500) X(1000) \
	X(2500) X(5000) X(10000) X(30000) X(60000)
#define METRIC_PERMILLE_BOUNDS(X) X(0) X(100) X(200) X(300) X(400) X(500) X(600) X(700) \
	X(800) X(900) X(1000)
#define METRIC_LE_INF "9223372036854775807"

/* The bucket of the value named v in the statement that uses it (a column
 * of a subquery in SQLite, a variable in PostgreSQL's trigger function). */
#define METRIC_WHEN_(b) " WHEN v <= " #b " THEN " #b
#define METRIC_BUCKET_MS "CASE" METRIC_MS_BOUNDS(METRIC_WHEN_) " ELSE " METRIC_LE_INF " END"
#define METRIC_BUCKET_PERMILLE "CASE" METRIC_PERMILLE_BOUNDS(METRIC_WHEN_) " ELSE " METRIC_LE_INF " END"

/* The histograms' names in metric_buckets. */
#define METRIC_QUEUE_WAIT "queue_wait"   /* queued_at to the claim, per claim */
#define METRIC_SETUP "setup"             /* setup_ms of a finished execution */
#define METRIC_RUN "run"                 /* execution_time_ms of a finished execution */
#define METRIC_END_TO_END "end_to_end"   /* queued_at to finished_at */
#define METRIC_SLOT_USE "slot_use"       /* busy / slots of a runner, per heartbeat */

/* STMT_METRICS_BUCKETS: every bucket row, by name, language, le (PostgreSQL adds up its shards). */
#define METRIC_BUCKET_COLUMNS "name, language, le, count, sum"
enum metric_bucket_column {
	METRIC_BUCKET_NAME,
	METRIC_BUCKET_LANGUAGE,
	METRIC_BUCKET_LE,
	METRIC_BUCKET_COUNT,
	METRIC_BUCKET_SUM,
	METRIC_BUCKET__NCOLUMNS
};

#endif
