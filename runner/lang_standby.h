/*
 * A slot's standby: the sandbox of its next run, built once a run is over
 * for a run like it (the same language, kind and limits), while the slot
 * waits for its next claim. A run it fits starts in a sandbox whose cgroup,
 * namespaces and root already exist: what is left between the claim and
 * the program's start is handing over the files and starting the program.
 * A run it does not fit gets a sandbox of its own, and the standby is
 * ended and replaced after that run, never in a run's way.
 */
#ifndef RUNNER_LANG_STANDBY_H
#define RUNNER_LANG_STANDBY_H

#include "lang_run.h"

struct lang_standby {
	struct sandbox_prepared *ready;
	struct sandbox_prepared *unfit;     /* passed over by a run, ended after it */
	const struct language *language;    /* what ready was built for */
	bool check_skipped;                 /* ... with run_checked's command */
};

/* Ends a standby passed over, then builds one for a run like `like` (with
 * the language's run_checked command when check_skipped) when there is
 * none. */
void lang_standby_keep(struct lang_standby *sb, const struct sandbox_host *host, const struct config *cfg,
		       const struct language *l, const struct lang_input *like, bool check_skipped);

/* The standby when job fits it (it is the caller's then), else NULL; sb may
 * be NULL. */
struct sandbox_prepared *lang_standby_take(struct lang_standby *sb, const struct sandbox_job *job);

/* Ends what sb holds (the slot stops). */
void lang_standby_drop(struct lang_standby *sb);

#endif
