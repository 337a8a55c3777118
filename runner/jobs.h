/*
 * The runner's SQL: registration and heartbeat, the atomic claim, the fenced
 * result write and the sweep. One struct jobs_db per thread.
 */
#ifndef RUNNER_JOBS_H
#define RUNNER_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "config.h"
#include "util.h"

enum jobs_stmt {
	JS_REGISTER,
	JS_HEARTBEAT,
	JS_STOPPED,
	JS_ANY_QUEUED,
	JS_CLAIM,
	JS_FINISH,
	JS_EXPIRE_DEAD_RUNNERS,
	JS_GIVE_UP,
	JS_REQUEUE,
	JS__MAX
};

struct jobs_db {
	sqlite3 *db;
	sqlite3_stmt *stmt[JS__MAX];
	const struct config *cfg;
	const char *runner_id;
};

/* A claimed execution: the snapshot to run and the fence for its result. */
struct claim {
	char id[UUID_LEN + 1];
	int attempt;
	char *source;           /* malloc'd */
	size_t source_len;
	char *stdin_data;       /* malloc'd */
	size_t stdin_len;
};

/* What to write back. Strings are raw bytes; jobs_finish makes them UTF-8. */
struct outcome {
	const char *status;     /* COMPLETED FAILED TIMEOUT */
	const char *error_code; /* NULL when none */
	char error_message[320];
	const char *out, *err;
	size_t out_len, err_len;
	bool out_truncated, err_truncated;
	bool has_exit_code;
	int exit_code;
	int signal;             /* 0 = none */
	int64_t wall_ms, cpu_ms;
	int64_t setup_ms;       /* sandbox clone to interpreter start */
	long memory_kb;
};

int jobs_open(struct jobs_db *j, const struct config *cfg, const char *runner_id,
	      char *err, size_t errlen);
void jobs_close(struct jobs_db *j);

int jobs_register(struct jobs_db *j, const char *host, int slots, const char *sandbox_mode);
int jobs_heartbeat(struct jobs_db *j, int busy);
int jobs_mark_stopped(struct jobs_db *j);

/* True if some execution waits in the queue (a cheap read before claiming). */
bool jobs_any_queued(struct jobs_db *j);

/* Claims the oldest QUEUED execution. Returns 1 with c filled, 0 if none, -1 on error. */
int jobs_claim(struct jobs_db *j, struct claim *c);
void claim_free(struct claim *c);

/*
 * Writes the result, only if this runner still holds this attempt.
 * Returns 1 if written, 0 if fenced off (someone else owns it now), -1 on error.
 */
int jobs_finish(struct jobs_db *j, const struct claim *c, const struct outcome *o);

/* Requeues expired leases and ends exhausted ones FAILED/RUNNER_LOST. Returns rows touched, or -1. */
int jobs_sweep(struct jobs_db *j);

#endif
