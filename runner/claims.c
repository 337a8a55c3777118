/*
 * The runner's side of the durability rules (the SQL is in the store's
 * statement table): a claim is one UPDATE of the queue head, so two slots or
 * two runners can never both win; a result is written only while this
 * runner holds this attempt; the sweep expires leases of dead runners and
 * requeues or gives up their executions.
 */
#include "claims.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "artifact.h"
#include "event_sink.h"
#include "sandbox.h"
#include "log.h"

static int claims_on(struct claims *c, const struct config *cfg, const char *runner_id, struct store *s)
{
	c->cfg = cfg;
	c->runner_id = runner_id;
	c->store = s;
	return s ? 0 : -1;
}

int claims_open(struct claims *c, const struct config *cfg, const char *runner_id, enum store_role role,
		char *err, size_t errlen)
{
	return claims_on(c, cfg, runner_id, store_open(cfg, role, err, errlen));
}

int claims_open_at_start(struct claims *c, const struct config *cfg, const char *runner_id, enum store_role role,
			 char *err, size_t errlen)
{
	return claims_on(c, cfg, runner_id, store_open_at_start(cfg, role, err, errlen));
}

void claims_close(struct claims *c)
{
	store_close(&c->store);
}

/* Statement id with this runner's id bound to ?1. */
static struct store_query *runner_query(struct claims *c, enum store_stmt id)
{
	struct store_query *q = store_query(c->store, id);
	store_bind_str(q, 1, c->runner_id);
	return q;
}

/* Steps a write to completion. Returns changed rows, or -1 (logged). */
static int run_write(struct claims *c, struct store_query *q, const char *what)
{
	enum store_rc rc = store_step(q);
	store_reset(q);
	if (rc != STORE_DONE) {
		log_error("store: %s: %s", what, store_errmsg(c->store));
		return -1;
	}
	return (int)store_changes(q);
}

int claims_register(struct claims *c, const char *host, int slots, const char *sandbox_mode,
		    const char *languages_json)
{
	struct store_query *q = runner_query(c, STMT_RUNNER_REGISTER);
	store_bind_str(q, 2, host);
	store_bind_int64(q, 3, getpid());
	store_bind_int64(q, 4, slots);
	store_bind_str(q, 5, sandbox_mode);
	store_bind_int64(q, 6, now_ms());
	store_bind_str(q, 7, languages_json);
	return run_write(c, q, "register runner") == 1 ? 0 : -1;
}

int claims_heartbeat(struct claims *c, int busy, long limit_errors)
{
	struct store_query *q = runner_query(c, STMT_RUNNER_HEARTBEAT);
	store_bind_int64(q, 2, now_ms());
	store_bind_int64(q, 3, busy);
	store_bind_int64(q, 4, limit_errors);
	return run_write(c, q, "heartbeat") < 0 ? -1 : 0;
}

int claims_mark_stopped(struct claims *c)
{
	struct store_query *q = runner_query(c, STMT_RUNNER_STOPPED);
	store_bind_int64(q, 2, now_ms());
	return run_write(c, q, "mark stopped") < 0 ? -1 : 0;
}

bool claims_any_queued(struct claims *c)
{
	struct store_query *q = store_query(c->store, STMT_ANY_QUEUED);
	bool any = store_step(q) == STORE_ROW;
	store_reset(q);
	return any;
}

/* A malloc'd, NUL-terminated copy of a text column; NULL when out of memory. */
static char *column_dup(struct store_query *q, int col, size_t *len)
{
	const char *p = store_column_text(q, col, len);
	char *s = malloc(*len + 1);
	if (!s)
		return NULL;
	if (*len)
		memcpy(s, p, *len);
	s[*len] = '\0';
	return s;
}

/* The members only a case of a submission has. */
static void claim_case(struct store_query *q, struct claim *cl)
{
	if (store_column_is_null(q, CLAIM_SUBMISSION_ID))
		return;
	snprintf(cl->submission_id, sizeof(cl->submission_id), "%s", store_column_text(q, CLAIM_SUBMISSION_ID, NULL));
	cl->case_index = (int)store_column_int64(q, CLAIM_CASE_INDEX);
	cl->time_limit_ms = (int)store_column_int64(q, CLAIM_TIME_LIMIT_MS);
	cl->expected = column_dup(q, CLAIM_EXPECTED_STDOUT, &cl->expected_len);
	const char *cmp = store_column_text(q, CLAIM_COMPARE, NULL);
	snprintf(cl->compare, sizeof(cl->compare), "%s", cmp ? cmp : "exact");
}

/* The snapshot of the execution's files beside its entry. Returns 0, or -1. */
static int claim_files(struct claims *c, struct claim *cl)
{
	struct store_query *q = runner_query(c, STMT_EXECUTION_FILES);
	enum store_rc rc;
	int rv = 0;

	store_bind_str(q, 1, cl->id);
	while (rv == 0 && (rc = store_step(q)) == STORE_ROW) {
		struct claim_file *f = realloc(cl->files, (size_t)(cl->nfiles + 1) * sizeof *f);
		size_t plen;

		if (!f) {
			rv = -1;
			break;
		}
		cl->files = f;
		f = &cl->files[cl->nfiles++];
		f->path = column_dup(q, FILE_PATH, &plen);
		f->content = column_dup(q, FILE_CONTENT, &f->len);
		if (!f->path || !f->content)
			rv = -1;
	}
	store_reset(q);
	if (rv == 0 && rc != STORE_DONE) {
		log_error("store: execution files: %s", store_errmsg(c->store));
		rv = -1;
	}
	return rv;
}

/* The running cases of cl's submission, now; -1 on error. */
static int64_t cases_running(struct claims *c, const struct claim *cl)
{
	struct store_query *q = store_query(c->store, STMT_CASES_RUNNING);
	store_bind_str(q, 1, cl->submission_id);
	int64_t n = store_step(q) == STORE_ROW ? store_column_int64(q, 0) : -1;
	store_reset(q);
	return n;
}

/*
 * Whether the case just claimed must go back to the queue: claimers on
 * several connections (PostgreSQL's) each count a submission's running
 * cases in their own snapshot, so two at once can both pass
 * submission_parallel_cases. Each looks again once its claim is
 * committed, and one that sees too many gives its case back under the
 * store's write lock, which takes them one at a time: of any two that went
 * over, the second to look sees both, so exactly the cap keep theirs.
 * (SQLite's claims are one at a time: its counts are never over.)
 */
static bool case_over_cap(struct claims *c, const struct claim *cl)
{
	int64_t cap = c->cfg->submission_parallel_cases;
	if (!cl->submission_id[0] || cases_running(c, cl) <= cap)
		return false;
	if (store_begin(c->store) < 0)
		return false;
	bool over = cases_running(c, cl) > cap;
	if (over) {
		struct store_query *q = runner_query(c, STMT_CLAIM_UNDO);
		store_bind_str(q, 2, cl->id);
		store_bind_int64(q, 3, cl->attempt);
		over = run_write(c, q, "give a case back") == 1;
	}
	if (store_commit(c->store) < 0) {
		store_rollback(c->store);
		return false;   /* kept: runs one over the cap rather than not at all */
	}
	if (over)
		log_info("%s: case given back: its submission has submission_parallel_cases (%lld) running", cl->id, (long long)cap);
	return over;
}

int claims_take(struct claims *c, struct claim *cl, int running_below)
{
	int64_t now = now_ms();
	struct store_query *q = runner_query(c, STMT_CLAIM);
	store_bind_int64(q, 2, now);
	/* Long enough for a compile and the program's own run (?4: an interactive one's). */
	store_bind_int64(q, 3, now + c->cfg->compile_wall_time_ms + c->cfg->limits.wall_time_ms +
			       c->cfg->lease_grace_ms);
	store_bind_int64(q, 4, now + c->cfg->compile_wall_time_ms + c->cfg->interactive_wall_ms +
			       c->cfg->lease_grace_ms);
	store_bind_int64(q, 5, c->cfg->submission_parallel_cases);
	store_bind_int64(q, 6, c->cfg->compile_wall_time_ms + c->cfg->lease_grace_ms);
	store_bind_int64(q, 7, running_below);
	int64_t nfiles = 0;
	memset(cl, 0, sizeof(*cl));
	enum store_rc rc = store_step(q);
	if (rc == STORE_ROW) {
		snprintf(cl->id, sizeof(cl->id), "%s", store_column_text(q, CLAIM_ID, NULL));
		cl->attempt = (int)store_column_int64(q, CLAIM_ATTEMPT);
		cl->source = column_dup(q, CLAIM_SOURCE_CODE, &cl->source_len);
		cl->stdin_data = column_dup(q, CLAIM_STDIN, &cl->stdin_len);
		snprintf(cl->language, sizeof(cl->language), "%s", store_column_text(q, CLAIM_LANGUAGE, NULL));
		snprintf(cl->kind, sizeof(cl->kind), "%s", store_column_text(q, CLAIM_KIND, NULL));
		cl->interactive = store_column_int64(q, CLAIM_INTERACTIVE) != 0;
		nfiles = store_column_int64(q, CLAIM_NFILES);
		cl->learner_running = (int)store_column_int64(q, CLAIM_LEARNER_RUNNING);
		claim_case(q, cl);
		/* Step to the end so the UPDATE commits now, not at the next reset. */
		rc = store_step(q);
	}
	store_reset(q);
	if (rc != STORE_DONE) {
		log_error("store: claim: %s", store_errmsg(c->store));
		claim_free(cl);
		return -1;
	}
	if (cl->id[0] && (!cl->source || !cl->stdin_data || (cl->submission_id[0] && !cl->expected) ||
			  (nfiles > 0 && claim_files(c, cl) < 0))) {
		log_error("cannot load %s; the sweep will retry it", cl->id);
		claim_free(cl);
		return -1;
	}
	if (cl->id[0] && case_over_cap(c, cl)) {
		claim_free(cl);
		return 0;
	}
	return cl->id[0] ? 1 : 0;
}

void claim_free(struct claim *cl)
{
	free(cl->source);
	free(cl->stdin_data);
	free(cl->expected);
	cl->source = cl->stdin_data = cl->expected = NULL;
	for (int i = 0; i < cl->nfiles; i++) {
		free(cl->files[i].path);
		free(cl->files[i].content);
	}
	free(cl->files);
	cl->files = NULL;
	cl->nfiles = 0;
}

void claims_bind_output(struct store_query *q, int pos, const char *buf, size_t len, char **clean)
{
	*clean = NULL;
	if (!buf)
		buf = "";
	if (utf8_valid(buf, len)) {
		store_bind_text(q, pos, buf, len);
		return;
	}
	*clean = malloc(3 * len + 1);
	if (!*clean) {
		store_bind_text(q, pos, "", 0);
		return;
	}
	store_bind_text(q, pos, *clean, utf8_sanitize(buf, len, *clean));
}

static void bind_optional_int(struct store_query *q, int pos, bool present, int64_t v)
{
	if (present)
		store_bind_int64(q, pos, v);
	else
		store_bind_null(q, pos);
}

static void bind_optional_str(struct store_query *q, int pos, const char *s)
{
	if (s)
		store_bind_str(q, pos, s);
	else
		store_bind_null(q, pos);
}

/* The result's own row. */
static int write_result(struct claims *c, const struct claim *cl, const struct outcome *o)
{
	char *clean_out, *clean_err, *clean_compile = NULL;
	struct store_query *q = store_query(c->store, STMT_FINISH);
	store_bind_str(q, 1, cl->id);
	store_bind_str(q, 2, c->runner_id);
	store_bind_int64(q, 3, cl->attempt);
	store_bind_str(q, 4, o->status);
	claims_bind_output(q, 5, o->out, o->out_len, &clean_out);
	claims_bind_output(q, 6, o->err, o->err_len, &clean_err);
	store_bind_int64(q, 7, o->out_truncated);
	store_bind_int64(q, 8, o->err_truncated);
	bind_optional_int(q, 9, o->has_exit_code, o->exit_code);
	bind_optional_int(q, 10, o->signal != 0, o->signal);
	store_bind_int64(q, 11, o->wall_ms);
	store_bind_int64(q, 12, o->cpu_ms);
	store_bind_int64(q, 13, o->memory_kb);
	bind_optional_str(q, 14, o->error_code);
	bind_optional_str(q, 15, o->error_code ? o->error_message : NULL);
	store_bind_int64(q, 16, now_ms());
	store_bind_int64(q, 17, o->setup_ms);
	if (o->compiled)
		claims_bind_output(q, 18, o->compile_output, o->compile_output_len, &clean_compile);
	else
		store_bind_null(q, 18);
	bind_optional_int(q, 19, o->compiled, o->compile_ms);
	bind_optional_int(q, 20, o->compiled, o->compile_cached);
	bind_optional_str(q, 21, o->diagnostics);
	bind_optional_str(q, 22, o->verdict);
	int written = run_write(c, q, "finish");
	free(clean_out);
	free(clean_err);
	free(clean_compile);
	return written;
}

/* The run's artifacts, beside its result in the same transaction. */
static int write_artifacts(struct claims *c, const struct claim *cl, const struct outcome *o)
{
	for (int i = 0; i < o->nartifacts; i++) {
		const struct sandbox_file *f = &o->artifacts[i];
		struct store_query *q = store_query(c->store, STMT_ARTIFACT_INSERT);
		size_t len;
		char *data = artifact_encode(f->data, f->len, &len);
		int rc;

		if (!data)
			return -1;
		store_bind_str(q, 1, cl->id);
		store_bind_str(q, 2, f->name);
		store_bind_str(q, 3, content_type_of(f->name));
		store_bind_int64(q, 4, (int64_t)f->len);
		store_bind_text(q, 5, data, len);
		rc = run_write(c, q, "artifact");
		free(data);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* The cases a failing case decides (claims_finish). */
static int skip_rest(struct claims *c, const struct claim *cl, const char *verdict)
{
	struct store_query *q = store_query(c->store, STMT_CASES_SKIP);
	store_bind_str(q, 1, cl->submission_id);
	store_bind_str(q, 2, verdict);
	store_bind_int64(q, 3, now_ms());
	store_bind_int64(q, 4, cl->case_index);
	return run_write(c, q, "skip cases");
}

/* One try of claims_finish's write: the last events, the result and what its verdict decides. */
static int finish_once(struct claims *c, const struct claim *cl, const struct outcome *o,
		       struct event_sink *events)
{
	bool decides = cl->submission_id[0] && o->verdict && strcmp(o->verdict, "ACCEPTED") != 0;
	int written;

	/* A verdict that skips other cases changes rows this runner does not
	 * hold: that takes the store-wide lock, so two such never cross. */
	if ((decides ? store_begin(c->store) : store_begin_fenced(c->store)) < 0)
		return -1;
	/* The events first: they are fenced on the attempt still RUNNING. */
	written = events && event_sink_write(events) < 0 ? -1 : write_result(c, cl, o);
	if (written == 1 && decides && skip_rest(c, cl, o->verdict) < 0)
		written = -1;
	if (written == 1 && write_artifacts(c, cl, o) < 0)
		written = -1;
	/* Streams on every host end now (ZeroMQ's done reaches this host's only). */
	if (written < 0 || (written == 1 ? store_commit_notify(c->store, STORE_CHANNEL_EVENTS, cl->id)
			    : store_commit(c->store)) < 0) {
		store_rollback(c->store);
		return -1;
	}
	return written;
}

/*
 * A result the store could not take (a PostgreSQL server restarting, a
 * dropped connection) is tried again every second, FINISH_RETRIES times:
 * within the lease's grace, so the attempt that ran is the one recorded
 * instead of running again. The write is fenced, so a try whose commit was
 * applied but whose reply was lost makes the next try change nothing.
 */
#define FINISH_RETRIES 5

int claims_finish(struct claims *c, const struct claim *cl, const struct outcome *o, struct event_sink *events)
{
	int written = finish_once(c, cl, o, events);
	for (int i = 0; written < 0 && i < FINISH_RETRIES; i++) {
		sleep(1);
		written = finish_once(c, cl, o, events);
	}
	return written;
}

/* The executions a sweep statement changed, announced after the commit. */
struct swept {
	struct swept_row { char id[UUID_LEN + 1]; int attempt; } *rows;
	size_t n, cap;
};

static int swept_add(struct swept *w, const char *id, int attempt)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 8;
		struct swept_row *rows = realloc(w->rows, cap * sizeof *rows);
		if (!rows)
			return -1;
		w->rows = rows;
		w->cap = cap;
	}
	snprintf(w->rows[w->n].id, sizeof w->rows[w->n].id, "%s", id);
	w->rows[w->n++].attempt = attempt;
	return 0;
}

/* Stores the QUEUED status event of a requeued execution's next attempt. */
static int store_requeued_event(struct claims *c, const char *id, int next_attempt)
{
	struct store_query *q = store_query(c->store, STMT_EVENT_REQUEUED);
	store_bind_str(q, 1, id);
	store_bind_int64(q, 2, EVENT_ID(next_attempt, 0));
	store_bind_int64(q, 3, next_attempt);
	return run_write(c, q, "requeue event") < 0 ? -1 : 0;
}

/*
 * Runs a sweep statement (bound to now and max_attempts) that returns the
 * id and attempt of each execution it changed, collected into w; a requeue
 * stores each one's QUEUED event beside it. Returns 0, or -1.
 */
static int collect_rows(struct claims *c, struct store_query *q, struct swept *w, bool requeue)
{
	enum store_rc rc;
	int failed = 0;

	/* The UPDATE is done by the first step; the rows come after it. */
	while (!failed && (rc = store_step(q)) == STORE_ROW) {
		const char *id = store_column_text(q, 0, NULL);
		int attempt = (int)store_column_int64(q, 1);
		failed = !id || swept_add(w, id, attempt) < 0 ||
			 (requeue && store_requeued_event(c, id, attempt + 1) < 0);
	}
	store_reset(q);
	return failed || rc != STORE_DONE ? -1 : 0;
}

static int sweep_rows(struct claims *c, enum store_stmt stmt, int64_t now, struct swept *w, bool requeue)
{
	struct store_query *q = store_query(c->store, stmt);
	store_bind_int64(q, 1, now);
	store_bind_int64(q, 2, c->cfg->max_attempts);
	return collect_rows(c, q, w, requeue);
}

/* Tells the events programs: a requeue's QUEUED event, or done for an
 * execution given up (this host's over ZeroMQ, every host's through the store). */
static void announce(struct claims *c, void *events_pub, const struct swept *w, bool requeued)
{
	for (size_t i = 0; i < w->n; i++) {
		store_notify(c->store, STORE_CHANNEL_EVENTS, w->rows[i].id);
		int attempt = w->rows[i].attempt + (requeued ? 1 : 0);
		struct event_msg m = {
			.event_id = EVENT_ID(attempt, 0), .attempt = attempt,
			.kind = requeued ? EVENT_STATUS : EVENT_DONE,
			.data = requeued ? "QUEUED" : "", .len = requeued ? 6 : 0,
		};
		memcpy(m.execution_id, w->rows[i].id, sizeof m.execution_id);
		event_publish(events_pub, &m);
	}
}

int claims_sweep(struct claims *c, void *events_pub)
{
	int64_t now = now_ms();
	struct swept lost = { 0 }, requeued = { 0 };
	int rc = -1;

	struct store_query *q = store_query(c->store, STMT_EXPIRE_DEAD_RUNNERS);
	store_bind_int64(q, 1, now);
	store_bind_int64(q, 2, c->cfg->runner_stale_ms);
	if (run_write(c, q, "expire leases of dead runners") < 0)
		return -1;
	/* One transaction: a requeue and its status event are stored together. */
	if (store_begin(c->store) < 0 || sweep_rows(c, STMT_GIVE_UP, now, &lost, false) < 0 ||
	    sweep_rows(c, STMT_REQUEUE, now, &requeued, true) < 0 || store_commit(c->store) < 0) {
		log_error("store: sweep: %s", store_errmsg(c->store));
		store_rollback(c->store);
		goto out;
	}
	announce(c, events_pub, &lost, false);
	announce(c, events_pub, &requeued, true);
	if (lost.n)
		log_warn("sweep: %zu execution(s) ended FAILED/RUNNER_LOST", lost.n);
	if (requeued.n)
		log_warn("sweep: %zu execution(s) requeued after their runner was lost", requeued.n);
	rc = (int)(lost.n + requeued.n);
out:
	free(lost.rows);
	free(requeued.rows);
	return rc;
}

int claims_requeue_restored(struct claims *c)
{
	struct swept requeued = { 0 };
	int rc = -1;

	/* Whatever its lease and attempts: what was cut short was the backup's
	 * moment, not a run its runner lost. */
	if (store_begin(c->store) < 0 ||
	    collect_rows(c, store_query(c->store, STMT_REQUEUE_RESTORED), &requeued, true) < 0 ||
	    store_commit(c->store) < 0) {
		store_rollback(c->store);
		goto out;
	}
	rc = (int)requeued.n;
out:
	free(requeued.rows);
	return rc;
}
