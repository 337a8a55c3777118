/*
 * GET /metrics in the Prometheus text exposition format (version 0.0.4).
 *
 * Every value is computed from the store at scrape time, never from counters in
 * process memory: any fcgi_app of the pool gives the same answer, and a
 * restart of any process loses nothing. Counters are counts of rows, which
 * only grow because executions are never deleted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

#define PREFIX "code_exec_"

/* Runners that stopped heartbeating longer ago than this drop out of the per-runner series. */
#define RUNNER_FORGET_MS (3600 * 1000)

struct runners_ctx {
	FILE *f;
	int64_t now, stale_before;
	int pass;                       /* which per-runner family this walk prints */
	int alive, slots, busy;
};

/* Writes s as a label value: backslash, double quote and newline escaped. */
static void label_value(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX "%s %s\n", name, help, name, type);
}

static void status_row(void *ctx, struct store_query *row)
{
	FILE *f = ctx;
	const char *status = store_column_text(row, STATUS_COUNT_STATUS, NULL);
	if (strcmp(status, "QUEUED") == 0 || strcmp(status, "RUNNING") == 0)
		return;         /* not final: those are the gauges below */
	fputs(PREFIX "executions_finished_total{status=\"", f);
	label_value(f, status);
	fputs("\",error_code=\"", f);
	label_value(f, store_column_text(row, STATUS_COUNT_ERROR_CODE, NULL));
	fprintf(f, "\"} %lld\n", (long long)store_column_int64(row, STATUS_COUNT_COUNT));
}

static void verdict_row(void *ctx, struct store_query *row)
{
	FILE *f = ctx;
	fputs(PREFIX "case_verdicts_total{verdict=\"", f);
	label_value(f, store_column_text(row, 0, NULL));
	fprintf(f, "\"} %lld\n", (long long)store_column_int64(row, 1));
}

static void accepted_row(void *ctx, struct store_query *row)
{
	*(int64_t *)ctx += store_column_int64(row, STATUS_COUNT_COUNT);
}

static void runner_labels(FILE *f, struct store_query *row)
{
	fputs("{runner_id=\"", f);
	label_value(f, store_column_text(row, RUNNER_ID, NULL));
	fputs("\",host=\"", f);
	label_value(f, store_column_text(row, RUNNER_HOST, NULL));
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
		label_value(c->f, store_column_text(row, RUNNER_SANDBOX_MODE, NULL));
		fputs("\"} 1\n", c->f);
	}
}

static enum db_status write_histogram(struct app *app, FILE *f, enum store_stmt id,
				      const char *name, const char *help)
{
	struct metrics_histogram h;
	if (db_metrics_histogram(app->store, id, &h) != DB_OK)
		return DB_ERROR;
	family(f, name, "histogram", help);
	for (int i = 0; i < HISTOGRAM_BUCKETS; i++)
		fprintf(f, PREFIX "%s_bucket{le=\"%g\"} %lld\n", name,
			(double)metrics_bounds_ms[i] / 1000.0, (long long)h.le[i]);
	fprintf(f, PREFIX "%s_bucket{le=\"+Inf\"} %lld\n", name, (long long)h.count);
	fprintf(f, PREFIX "%s_sum %.3f\n", name, h.sum_ms / 1000.0);
	fprintf(f, PREFIX "%s_count %lld\n", name, (long long)h.count);
	return DB_OK;
}

static enum db_status write_executions(struct app *app, FILE *f)
{
	int64_t accepted = 0, depth, oldest, running;
	if (db_metrics_rows(app->store, STMT_METRICS_BY_STATUS, 0, accepted_row, &accepted) != DB_OK ||
	    db_queue_stats(app->store, &depth, &oldest, &running) != DB_OK)
		return DB_ERROR;
	family(f, "executions_accepted_total", "counter", "Executions accepted by POST /run.");
	fprintf(f, PREFIX "executions_accepted_total %lld\n", (long long)accepted);
	family(f, "executions_finished_total", "counter",
	       "Executions that reached a final status, by status and error code (\"\" for none).");
	if (db_metrics_rows(app->store, STMT_METRICS_BY_STATUS, 0, status_row, f) != DB_OK)
		return DB_ERROR;
	family(f, "case_verdicts_total", "counter", "Judged cases of submissions, by verdict.");
	if (db_metrics_rows(app->store, STMT_METRICS_VERDICTS, 0, verdict_row, f) != DB_OK)
		return DB_ERROR;
	family(f, "queue_depth", "gauge", "Executions waiting in the queue (QUEUED).");
	fprintf(f, PREFIX "queue_depth %lld\n", (long long)depth);
	family(f, "oldest_queued_age_seconds", "gauge",
	       "Age of the oldest QUEUED execution; 0 when the queue is empty.");
	fprintf(f, PREFIX "oldest_queued_age_seconds %.3f\n", oldest < 0 ? 0.0 : (double)oldest / 1000.0);
	family(f, "executions_running", "gauge", "Executions claimed by a runner (RUNNING).");
	fprintf(f, PREFIX "executions_running %lld\n", (long long)running);
	if (write_histogram(app, f, STMT_METRICS_EXECUTION_TIME, "execution_duration_seconds",
			    "Wall-clock time of the program in the sandbox, finished executions.") ||
	    write_histogram(app, f, STMT_METRICS_QUEUE_WAIT, "queue_wait_seconds",
			    "Time from Run to the claim that started the execution.") ||
	    write_histogram(app, f, STMT_METRICS_SETUP_TIME, "sandbox_setup_seconds",
			    "Time to build the sandbox, from clone to the interpreter's start."))
		return DB_ERROR;
	return DB_OK;
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
		family(f, help[c.pass][0], help[c.pass][1], help[c.pass][2]);
		if (db_metrics_rows(app->store, STMT_METRICS_RUNNERS, c.now - RUNNER_FORGET_MS, runner_row, &c))
			return DB_ERROR;
	}
	family(f, "runners_alive", "gauge", "Runners that heartbeated within runner_stale_ms.");
	fprintf(f, PREFIX "runners_alive %d\n", c.alive);
	family(f, "slots", "gauge", "Execution slots of the live runners.");
	fprintf(f, PREFIX "slots %d\n", c.slots);
	family(f, "busy_slots", "gauge", "Busy execution slots of the live runners.");
	fprintf(f, PREFIX "busy_slots %d\n", c.busy);
	return DB_OK;
}

void metrics_get(struct app *app, struct request *req, struct response *res)
{
	(void)req;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f) {
		reply_db_status(res, DB_ERROR, "store");
		return;
	}
	enum db_status s = write_executions(app, f);
	if (s == DB_OK)
		s = write_runners(app, f);
	if (fclose(f) != 0 || s != DB_OK) {
		free(text);
		reply_db_status(res, DB_ERROR, "store");
		return;
	}
	http_reply_text(res, 200, "text/plain; version=0.0.4; charset=utf-8", text);
}
