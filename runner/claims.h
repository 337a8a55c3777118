/*
 * The runner's side of the queue in the store: its registration and
 * heartbeat, the atomic claim of the queue head, the fenced result write and
 * the sweep that recovers what dead runners left. One struct claims per
 * thread (each holds its own store connection).
 */
#ifndef RUNNER_CLAIMS_H
#define RUNNER_CLAIMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "store.h"
#include "util.h"

struct event_sink;

struct claims {
	struct store *store;
	const struct config *cfg;
	const char *runner_id;
};

/* A file of a claimed execution beside its entry (the source). */
struct claim_file {
	char *path;             /* malloc'd, relative, checked by the API */
	char *content;          /* malloc'd */
	size_t len;
};

/* A claimed execution: the snapshot to run and the fence for its result. */
struct claim {
	char id[UUID_LEN + 1];
	int attempt;
	char *source;           /* malloc'd: the entry file */
	size_t source_len;
	struct claim_file *files; /* malloc'd: the session's other files, by path */
	int nfiles;
	char *stdin_data;       /* malloc'd */
	size_t stdin_len;
	char language[32];      /* an id of the language table */
	char kind[8];           /* run, check or case (one case of a submission) */
	bool interactive;       /* stdin stays open, fed from execution_stdin */
	/* A case's: its submission, place in the suite, own time limit (0: wall_time_ms), what its
	 * stdout must be and how it is compared (judge.h). */
	char submission_id[UUID_LEN + 1];
	int case_index;
	int time_limit_ms;
	char *expected;         /* malloc'd; NULL unless a case */
	size_t expected_len;
	char compare[48];
	int learner_running;    /* runs of the learner who started it running, it included, at its claim */
};

struct sandbox_file;

/* What to write back. Strings are raw bytes; claims_finish makes them UTF-8. */
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
	bool compiled;          /* the compile fields below are set */
	const char *compile_output;
	size_t compile_output_len;
	int64_t compile_ms;
	bool compile_cached;
	const char *diagnostics; /* a check's, JSON; NULL otherwise */
	const char *verdict;    /* a case's (judge.h); NULL otherwise */
	const struct sandbox_file *artifacts;   /* what the run left in out/ (sandbox.h) */
	int nartifacts;
};

/*
 * Opens the store for runner_id (borrowed, like cfg): STORE_ROLE_RUNNER for
 * a slot, STORE_ROLE_MAINTENANCE for the main thread. Returns 0, or -1 with err.
 */
int claims_open(struct claims *c, const struct config *cfg, const char *runner_id, enum store_role role,
		char *err, size_t errlen);
/* claims_open at the runner's start: a server store not up yet is waited
 * for (store_open_at_start). Slots retry on their own instead. */
int claims_open_at_start(struct claims *c, const struct config *cfg, const char *runner_id, enum store_role role,
			 char *err, size_t errlen);
void claims_close(struct claims *c);

int claims_register(struct claims *c, const char *host, int slots, const char *sandbox_mode,
		    const char *languages_json);
/* busy slots now; limit_errors: failed cgroup and rlimit operations so far. */
int claims_heartbeat(struct claims *c, int busy, long limit_errors);
int claims_mark_stopped(struct claims *c);

/* True if some execution waits in the queue (a cheap read before claiming). */
bool claims_any_queued(struct claims *c);

/* Claims the fairest QUEUED execution (the store's STMT_CLAIM) of a learner
 * with fewer than running_below runs running. Returns 1 with cl filled, 0
 * if none, -1 on error. */
int claims_take(struct claims *c, struct claim *cl, int running_below);
void claim_free(struct claim *cl);

/*
 * Writes the result, and before it the attempt's pending events (events;
 * NULL: none), only if this runner still holds this attempt.
 * Returns 1 if written, 0 if fenced off (someone else owns it now), -1 on error.
 *
 * A case of a submission judged other than ACCEPTED settles the cases it
 * decides in the same transaction. A compile error ends every case not
 * judged yet as COMPILE_ERROR. In a submission that stops on its first
 * failure, any other failure ends every case after it in case order
 * SKIPPED, whatever its state: one not started never runs, a running one
 * is killed (its slot's watch sees it is no longer RUNNING, and its result
 * write is fenced off), a judged one loses its verdict. So the first
 * failing case in case order decides, however the cases were timed, and
 * no reader ever sees a verdict next to a case it is about to overrule.
 */
int claims_finish(struct claims *c, const struct claim *cl, const struct outcome *o, struct event_sink *events);

/*
 * Binds raw output to ?pos as UTF-8 text; ill-formed bytes become U+FFFD in
 * a copy put in *clean (to free after the write; NULL when none was needed).
 */
void claims_bind_output(struct store_query *q, int pos, const char *buf, size_t len, char **clean);

/*
 * Requeues expired leases (storing each one's QUEUED status event, attempt
 * + 1) and ends exhausted ones FAILED/RUNNER_LOST, then announces both on
 * events_pub (NULL: none) so open streams see them at once. Returns rows
 * touched, or -1.
 */
int claims_sweep(struct claims *c, void *events_pub);

/*
 * After a restore: every execution that was RUNNING when the backup was
 * taken goes back to QUEUED at once (with its QUEUED event), whatever its
 * lease and attempts; one cancelled meanwhile is left to the sweep, which
 * ends it CANCELLED. Returns how many, or -1 (store_errmsg says why).
 */
int claims_requeue_restored(struct claims *c);

#endif
