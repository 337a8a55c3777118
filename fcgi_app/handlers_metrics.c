/*
 * GET /metrics in the Prometheus text exposition format (version 0.0.4).
 *
 * Every value comes from the store, never from counters in process memory:
 * any fcgi_app of the pool, on any host, gives the same answer, and a
 * restart of any process loses nothing. A scrape never reads history: the
 * counters and histograms are the small tables the store's triggers keep as
 * statuses change (common/store_metrics.h), the queue gauges read the
 * queue's and the running claims' own indexes, so its cost does not grow
 * with the executions kept. When the store does not answer, the reply says
 * so (store_up 0) with what needs no store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "handlers.h"
#include "metrics_text.h"

/* Runners that stopped heartbeating longer ago than this drop out of the per-runner series. */
#define RUNNER_FORGET_MS (3600 * 1000)

struct runners_ctx {
	FILE *f;
	int64_t now, stale_before;
	int pass;                       /* which per-runner family this walk prints */
	int alive, slots, busy;
};

static void status_row(void *ctx, struct store_query *row)
{
	FILE *f = ctx;
	fputs(PREFIX "executions_finished_total{status=\"", f);
	metrics_label_value(f, store_column_text(row, STATUS_COUNT_STATUS, NULL));
	fputs("\",error_code=\"", f);
	metrics_label_value(f, store_column_text(row, STATUS_COUNT_ERROR_CODE, NULL));
	fprintf(f, "\"} %lld\n", (long long)store_column_int64(row, STATUS_COUNT_COUNT));
}

static void verdict_row(void *ctx, struct store_query *row)
{
	FILE *f = ctx;
	fputs(PREFIX "case_verdicts_total{verdict=\"", f);
	metrics_label_value(f, store_column_text(row, 0, NULL));
	fprintf(f, "\"} %lld\n", (long long)store_column_int64(row, 1));
}

static void language_row(void *ctx, struct store_query *row)
{
	FILE *f = ctx;
	fputs(PREFIX "executions_finished_by_language_total{language=\"", f);
	metrics_label_value(f, store_column_text(row, 0, NULL));
	fputs("\",status=\"", f);
	metrics_label_value(f, store_column_text(row, 1, NULL));
	fprintf(f, "\"} %lld\n", (long long)store_column_int64(row, 2));
}

static void runner_labels(FILE *f, struct store_query *row)
{
	fputs("{runner_id=\"", f);
	metrics_label_value(f, store_column_text(row, RUNNER_ID, NULL));
	fputs("\",host=\"", f);
	metrics_label_value(f, store_column_text(row, RUNNER_HOST, NULL));
	fputc('"', f);
}

static void runner_row(void *ctx, struct store_query *row)
{
	struct runners_ctx *c = ctx;
	int64_t heartbeat = store_column_int64(row, RUNNER_HEARTBEAT_AT);
	bool up = heartbeat >= c->stale_before;
	static const char *const names[] = {
		"runner_up", "runner_slots", "runner_busy_slots",
		"runner_last_heartbeat_timestamp_seconds", "runner_info",
		"runner_sandbox_limit_errors_total",
	};
	fputs(PREFIX, c->f);
	fputs(names[c->pass], c->f);
	runner_labels(c->f, row);
	switch (c->pass) {
	case 0:
		fprintf(c->f, "} %d\n", up);
		if (up) {
			c->alive++;
			c->slots += (int)store_column_int64(row, RUNNER_SLOTS);
			c->busy += (int)store_column_int64(row, RUNNER_BUSY);
		}
		break;
	case 1:
	case 2:
		fprintf(c->f, "} %lld\n",
			(long long)store_column_int64(row, c->pass == 1 ? RUNNER_SLOTS : RUNNER_BUSY));
		break;
	case 3:
		fprintf(c->f, "} %.3f\n", (double)heartbeat / 1000.0);
		break;
	case 5:
		fprintf(c->f, "} %lld\n", (long long)store_column_int64(row, RUNNER_LIMIT_ERRORS));
		break;
	default:
		fputs(",sandbox_mode=\"", c->f);
		metrics_label_value(c->f, store_column_text(row, RUNNER_SANDBOX_MODE, NULL));
		fputs("\"} 1\n", c->f);
	}
}

static enum db_status write_counters(struct app *app, FILE *f)
{
	int64_t accepted, busy_ms;
	if (db_metrics_counter(app->store, "accepted", &accepted) != DB_OK ||
	    db_metrics_counter(app->store, "busy_ms", &busy_ms) != DB_OK)
		return DB_ERROR;
	metrics_family(f, "executions_accepted_total", "counter", "Executions accepted by POST /run.");
	fprintf(f, PREFIX "executions_accepted_total %lld\n", (long long)accepted);
	metrics_family(f, "executions_finished_total", "counter",
	       "Executions that reached a final status, by status and error code (\"\" for none).");
	if (db_metrics_rows(app->store, STMT_METRICS_BY_STATUS, 0, status_row, f) != DB_OK)
		return DB_ERROR;
	metrics_family(f, "executions_finished_by_language_total", "counter",
	       "Executions that reached a final status, by language and status.");
	if (db_metrics_rows(app->store, STMT_METRICS_BY_LANGUAGE, 0, language_row, f) != DB_OK)
		return DB_ERROR;
	metrics_family(f, "case_verdicts_total", "counter", "Verdicts given to cases of submissions, by verdict.");
	if (db_metrics_rows(app->store, STMT_METRICS_VERDICTS, 0, verdict_row, f) != DB_OK)
		return DB_ERROR;
	metrics_family(f, "slot_busy_seconds_total", "counter",
	       "Slot time spent on executions, claim to final status (rate / slots = utilisation).");
	fprintf(f, PREFIX "slot_busy_seconds_total %.3f\n", (double)busy_ms / 1000.0);
	return DB_OK;
}

static enum db_status write_gauges(struct app *app, FILE *f)
{
	int64_t depth, oldest, running, size, free_bytes;
	if (db_queue_stats(app->store, &depth, &oldest, &running) != DB_OK ||
	    db_store_size(app->store, &size, &free_bytes) != DB_OK)
		return DB_ERROR;
	metrics_family(f, "queue_depth", "gauge", "Executions waiting in the queue (QUEUED).");
	fprintf(f, PREFIX "queue_depth %lld\n", (long long)depth);
	metrics_family(f, "oldest_queued_age_seconds", "gauge",
	       "Age of the oldest QUEUED execution; 0 when the queue is empty.");
	fprintf(f, PREFIX "oldest_queued_age_seconds %.3f\n", oldest < 0 ? 0.0 : (double)oldest / 1000.0);
	metrics_family(f, "executions_running", "gauge", "Executions claimed by a runner (RUNNING).");
	fprintf(f, PREFIX "executions_running %lld\n", (long long)running);
	metrics_family(f, "store_size_bytes", "gauge", "Bytes the store's database takes.");
	fprintf(f, PREFIX "store_size_bytes %lld\n", (long long)size);
	metrics_family(f, "store_free_bytes", "gauge",
	       "Bytes of the store's file that retention freed and incremental vacuum has not given back yet (SQLite).");
	fprintf(f, PREFIX "store_free_bytes %lld\n", (long long)free_bytes);
	return DB_OK;
}

static enum db_status write_executions(struct app *app, FILE *f)
{
	if (write_counters(app, f) != DB_OK || write_gauges(app, f) != DB_OK)
		return DB_ERROR;
	return metrics_write_histograms(app->store, f);
}

static enum db_status write_runners(struct app *app, FILE *f)
{
	static const char *const help[][3] = {
		{ "runner_up", "gauge", "1 if the runner heartbeated within runner_stale_ms, else 0." },
		{ "runner_slots", "gauge", "Execution slots of the runner." },
		{ "runner_busy_slots", "gauge", "Slots running an execution at the last heartbeat." },
		{ "runner_last_heartbeat_timestamp_seconds", "gauge", "Unix time of the runner's last heartbeat." },
		{ "runner_info", "gauge",
		  "The runner's sandbox mode (namespaces+cgroup-v1+seccomp, ...+cgroup-v2+..., "
		  "namespaces+rlimits-unbounded+seccomp)." },
		{ "runner_sandbox_limit_errors_total", "counter",
		  "Failed cgroup and rlimit operations of the runner since its start, as of its last "
		  "heartbeat (each is also in its log)." },
	};
	/* Heartbeats are taken on the store's clock (PostgreSQL: the server's). */
	struct runners_ctx c = { .f = f, .now = store_clock_ms(app->store) };
	if (c.now < 0)
		return DB_ERROR;
	c.stale_before = c.now - app->cfg.runner_stale_ms;
	for (c.pass = 0; c.pass < 6; c.pass++) {
		metrics_family(f, help[c.pass][0], help[c.pass][1], help[c.pass][2]);
		if (db_metrics_rows(app->store, STMT_METRICS_RUNNERS, c.now - RUNNER_FORGET_MS, runner_row, &c))
			return DB_ERROR;
	}
	metrics_family(f, "runners_alive", "gauge", "Runners that heartbeated within runner_stale_ms.");
	fprintf(f, PREFIX "runners_alive %d\n", c.alive);
	metrics_family(f, "slots", "gauge", "Execution slots of the live runners.");
	fprintf(f, PREFIX "slots %d\n", c.slots);
	metrics_family(f, "busy_slots", "gauge", "Busy execution slots of the live runners.");
	fprintf(f, PREFIX "busy_slots %d\n", c.busy);
	return DB_OK;
}

/* The file system of data_dir (the SQLite store, logs, the compile cache), on this host. */
static void write_data_dir(struct app *app, FILE *f)
{
	struct statvfs st;
	if (statvfs(app->cfg.data_dir, &st) != 0)
		return;
	metrics_family(f, "data_dir_size_bytes", "gauge", "Size of the file system that holds data_dir.");
	fprintf(f, PREFIX "data_dir_size_bytes %.0f\n", (double)st.f_blocks * (double)st.f_frsize);
	metrics_family(f, "data_dir_available_bytes", "gauge",
	       "Bytes of data_dir's file system that the engine can still use.");
	fprintf(f, PREFIX "data_dir_available_bytes %.0f\n", (double)st.f_bavail * (double)st.f_frsize);
}

/* The store's part of the reply in its own buffer: all of it, or (store_up 0) none. */
static char *store_part(struct app *app)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	enum db_status s = app->store ? write_executions(app, f) : DB_ERROR;
	if (s == DB_OK)
		s = write_runners(app, f);
	if (fclose(f) != 0 || s != DB_OK) {
		free(text);
		return NULL;
	}
	return text;
}

void metrics_get(struct app *app, struct request *req, struct response *res)
{
	(void)req;
	char *text = NULL, *stored = store_part(app);
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f) {
		free(stored);
		reply_db_status(res, DB_ERROR, "store");
		return;
	}
	metrics_family(f, "store_up", "gauge", "1 if the store answered this scrape, else 0 (and no series of it follow).");
	fprintf(f, PREFIX "store_up %d\n", stored != NULL);
	if (stored)
		fputs(stored, f);
	write_data_dir(app, f);
	free(stored);
	if (fclose(f) != 0) {
		free(text);
		reply_db_status(res, DB_ERROR, "store");
		return;
	}
	http_reply_text(res, 200, "text/plain; version=0.0.4; charset=utf-8", text);
}
