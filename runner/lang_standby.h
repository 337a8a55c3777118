/*
 * A slot's standbys: the sandboxes of its next run, built once a run is
 * over for a run like it (the same language, kind and limits), while the
 * slot waits for its next claim -- the program's and, for a compiled
 * language, the compiler's. A run (or compile) it fits starts in a sandbox
 * whose cgroup, namespaces and root already exist: what is left between
 * the claim and the start is handing over the files and starting the
 * command. One it does not fit gets a sandbox of its own, and the standby
 * is ended and replaced after that run, never in a run's way.
 */
#ifndef RUNNER_LANG_STANDBY_H
#define RUNNER_LANG_STANDBY_H

#include "lang_run.h"

/* One sandbox kept ready, and one passed over by a run (ended after it). */
struct standby_pair {
	struct sandbox_prepared *ready;
	struct sandbox_prepared *unfit;
};

struct lang_standby {
	struct standby_pair run;
	struct standby_pair compile;        /* a compiled language's compiler's */
	const struct language *language;    /* what they were built for */
	bool check_skipped;                 /* ... with run_checked's command */
};

/* Ends what was passed over, then builds what is missing for a run like
 * `like` of l (with the language's run_checked command when
 * check_skipped): its program's sandbox, and its compiler's when l
 * compiles. */
void lang_standby_keep(struct lang_standby *sb, const struct sandbox_host *host, const struct config *cfg,
		       const struct language *l, const struct lang_input *like, bool check_skipped);

/* The standby for job (a compile's or a run's) when job fits it (it is
 * the caller's then), else NULL; sb may be NULL. */
struct sandbox_prepared *lang_standby_take(struct lang_standby *sb, const struct sandbox_job *job);

/* Ends what sb holds (the slot stops). */
void lang_standby_drop(struct lang_standby *sb);

#endif
