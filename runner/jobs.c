/*
 * The runner's side of the durability rules: claims are one UPDATE on the
 * queue head (so two slots or two runners can never both win), results are
 * fenced by runner id and attempt, and the sweep recovers leases that a dead
 * runner left behind.
 */
#include "jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "store.h"

static const char *const sql[JS__MAX] = {
	[JS_REGISTER] =
		"INSERT INTO runners (id, host, pid, slots, busy, sandbox_mode, started_at, heartbeat_at) "
		"VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?6)",
	[JS_HEARTBEAT] = "UPDATE runners SET heartbeat_at = ?2, busy = ?3 WHERE id = ?1",
	[JS_STOPPED] = "UPDATE runners SET stopped_at = ?2, busy = 0 WHERE id = ?1",
	[JS_ANY_QUEUED] = "SELECT 1 FROM executions WHERE status = 'QUEUED' LIMIT 1",
	[JS_CLAIM] =
		"UPDATE executions SET status = 'RUNNING', runner_id = ?1, attempt = attempt + 1, "
		"started_at = ?2, lease_until = ?3 "
		"WHERE seq = (SELECT seq FROM executions WHERE status = 'QUEUED' ORDER BY seq LIMIT 1) "
		"AND status = 'QUEUED' RETURNING id, attempt, source_code, stdin",
	[JS_FINISH] =
		"UPDATE executions SET status = ?4, stdout = ?5, stderr = ?6, stdout_truncated = ?7, "
		"stderr_truncated = ?8, exit_code = ?9, signal = ?10, execution_time_ms = ?11, "
		"cpu_time_ms = ?12, memory_kb = ?13, error_code = ?14, error_message = ?15, "
		"finished_at = ?16, lease_until = NULL, setup_ms = ?17 "
		"WHERE id = ?1 AND runner_id = ?2 AND attempt = ?3 AND status = 'RUNNING'",
	/* A runner that stopped or went silent will never finish its claims: expire them now. */
	[JS_EXPIRE_DEAD_RUNNERS] =
		"UPDATE executions SET lease_until = 0 WHERE status = 'RUNNING' AND lease_until > 0 "
		"AND runner_id IN (SELECT id FROM runners WHERE stopped_at IS NOT NULL OR heartbeat_at < ?1)",
	[JS_GIVE_UP] =
		"UPDATE executions SET status = 'FAILED', error_code = 'RUNNER_LOST', "
		"error_message = 'the runner was lost during each of ' || attempt || ' attempts', "
		"stdout = coalesce(stdout, ''), stderr = coalesce(stderr, ''), "
		"finished_at = ?1, lease_until = NULL "
		"WHERE status = 'RUNNING' AND lease_until < ?1 AND attempt >= ?2",
	[JS_REQUEUE] =
		"UPDATE executions SET status = 'QUEUED', runner_id = NULL, lease_until = NULL, "
		"started_at = NULL WHERE status = 'RUNNING' AND lease_until < ?1 AND attempt < ?2",
};

int jobs_open(struct jobs_db *j, const struct config *cfg, const char *runner_id,
	      char *err, size_t errlen)
{
	char path[CONFIG_PATH_MAX + 32];
	memset(j, 0, sizeof(*j));
	j->cfg = cfg;
	j->runner_id = runner_id;
	if (config_data_path(cfg, STORE_FILE, path, sizeof(path))) {
		snprintf(err, errlen, "data_dir is too long");
		return -1;
	}
	j->db = store_open(path, err, errlen);
	if (!j->db)
		return -1;
	/* Slots touch a few rows by key. A small page cache keeps the runner's
	 * memory bounded as the store grows, and with it the cost of cloning
	 * the runner's address space for every sandbox. */
	sqlite3_exec(j->db, "PRAGMA cache_size=-256", NULL, NULL, NULL);
	if (store_prepare_all(j->db, sql, j->stmt, JS__MAX, err, errlen)) {
		jobs_close(j);
		return -1;
	}
	return 0;
}

void jobs_close(struct jobs_db *j)
{
	store_close(j->db, j->stmt, JS__MAX);
	j->db = NULL;
}

/* The statement id, reset and with its bindings cleared. */
static sqlite3_stmt *stmt(struct jobs_db *j, enum jobs_stmt id)
{
	sqlite3_stmt *st = j->stmt[id];
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

/* The same, with this runner's id bound to ?1. */
static sqlite3_stmt *runner_stmt(struct jobs_db *j, enum jobs_stmt id)
{
	sqlite3_stmt *st = stmt(j, id);
	sqlite3_bind_text(st, 1, j->runner_id, -1, SQLITE_STATIC);
	return st;
}

/* Steps a write statement to completion. Returns changed rows, or -1 (logged). */
static int run_write(struct jobs_db *j, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		log_error("store: %s: %s", what, sqlite3_errmsg(j->db));
		return -1;
	}
	return sqlite3_changes(j->db);
}

int jobs_register(struct jobs_db *j, const char *host, int slots, const char *sandbox_mode)
{
	sqlite3_stmt *st = runner_stmt(j, JS_REGISTER);
	sqlite3_bind_text(st, 2, host, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, (int)getpid());
	sqlite3_bind_int(st, 4, slots);
	sqlite3_bind_text(st, 5, sandbox_mode, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now_ms());
	return run_write(j, st, "register runner") == 1 ? 0 : -1;
}

int jobs_heartbeat(struct jobs_db *j, int busy)
{
	sqlite3_stmt *st = runner_stmt(j, JS_HEARTBEAT);
	sqlite3_bind_int64(st, 2, now_ms());
	sqlite3_bind_int(st, 3, busy);
	return run_write(j, st, "heartbeat") < 0 ? -1 : 0;
}

int jobs_mark_stopped(struct jobs_db *j)
{
	sqlite3_stmt *st = runner_stmt(j, JS_STOPPED);
	sqlite3_bind_int64(st, 2, now_ms());
	return run_write(j, st, "mark stopped") < 0 ? -1 : 0;
}

bool jobs_any_queued(struct jobs_db *j)
{
	sqlite3_stmt *st = j->stmt[JS_ANY_QUEUED];
	sqlite3_reset(st);
	bool any = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return any;
}

static char *column_dup(sqlite3_stmt *st, int col, size_t *len)
{
	const void *p = sqlite3_column_blob(st, col);
	*len = (size_t)sqlite3_column_bytes(st, col);
	char *s = malloc(*len + 1);
	if (!s)
		return NULL;
	if (*len)
		memcpy(s, p, *len);
	s[*len] = '\0';
	return s;
}

int jobs_claim(struct jobs_db *j, struct claim *c)
{
	int64_t now = now_ms();
	sqlite3_stmt *st = runner_stmt(j, JS_CLAIM);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, now + j->cfg->limits.wall_time_ms + j->cfg->lease_grace_ms);
	memset(c, 0, sizeof(*c));
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(c->id, sizeof(c->id), "%s", (const char *)sqlite3_column_text(st, 0));
		c->attempt = sqlite3_column_int(st, 1);
		c->source = column_dup(st, 2, &c->source_len);
		c->stdin_data = column_dup(st, 3, &c->stdin_len);
		/* Step to the end so the UPDATE commits now, not at the next reset. */
		rc = sqlite3_step(st);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		log_error("store: claim: %s", sqlite3_errmsg(j->db));
		claim_free(c);
		return -1;
	}
	if (c->id[0] && (!c->source || !c->stdin_data)) {
		log_error("out of memory loading %s; the sweep will retry it", c->id);
		claim_free(c);
		return -1;
	}
	return c->id[0] ? 1 : 0;
}

void claim_free(struct claim *c)
{
	free(c->source);
	free(c->stdin_data);
	c->source = c->stdin_data = NULL;
}

/* Binds raw output as UTF-8 text; ill-formed bytes become U+FFFD. */
static int bind_output(sqlite3_stmt *st, int col, const char *buf, size_t len)
{
	if (!buf)
		buf = "";
	if (utf8_valid(buf, len))
		return sqlite3_bind_text(st, col, buf, (int)len, SQLITE_TRANSIENT);
	char *clean = malloc(3 * len + 1);
	if (!clean)
		return sqlite3_bind_text(st, col, "", 0, SQLITE_STATIC);
	size_t n = utf8_sanitize(buf, len, clean);
	return sqlite3_bind_text(st, col, clean, (int)n, free);
}

int jobs_finish(struct jobs_db *j, const struct claim *c, const struct outcome *o)
{
	sqlite3_stmt *st = stmt(j, JS_FINISH);
	sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, j->runner_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, c->attempt);
	sqlite3_bind_text(st, 4, o->status, -1, SQLITE_STATIC);
	bind_output(st, 5, o->out, o->out_len);
	bind_output(st, 6, o->err, o->err_len);
	sqlite3_bind_int(st, 7, o->out_truncated);
	sqlite3_bind_int(st, 8, o->err_truncated);
	if (o->has_exit_code)
		sqlite3_bind_int(st, 9, o->exit_code);
	if (o->signal)
		sqlite3_bind_int(st, 10, o->signal);
	sqlite3_bind_int64(st, 11, o->wall_ms);
	sqlite3_bind_int64(st, 12, o->cpu_ms);
	sqlite3_bind_int64(st, 13, o->memory_kb);
	if (o->error_code) {
		sqlite3_bind_text(st, 14, o->error_code, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 15, o->error_message, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(st, 16, now_ms());
	sqlite3_bind_int64(st, 17, o->setup_ms);
	return run_write(j, st, "finish");
}

int jobs_sweep(struct jobs_db *j)
{
	int64_t now = now_ms();
	sqlite3_stmt *st = stmt(j, JS_EXPIRE_DEAD_RUNNERS);
	sqlite3_bind_int64(st, 1, now - j->cfg->runner_stale_ms);
	if (run_write(j, st, "expire leases of dead runners") < 0)
		return -1;
	st = stmt(j, JS_GIVE_UP);
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int(st, 2, j->cfg->max_attempts);
	int lost = run_write(j, st, "give up");
	st = stmt(j, JS_REQUEUE);
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int(st, 2, j->cfg->max_attempts);
	int requeued = run_write(j, st, "requeue");
	if (lost < 0 || requeued < 0)
		return -1;
	if (lost)
		log_warn("sweep: %d execution(s) ended FAILED/RUNNER_LOST", lost);
	if (requeued)
		log_warn("sweep: %d execution(s) requeued after their runner was lost", requeued);
	return lost + requeued;
}
