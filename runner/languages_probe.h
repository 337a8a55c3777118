/* What languages this runner can run (languages_probe.c). */
#ifndef RUNNER_LANGUAGES_PROBE_H
#define RUNNER_LANGUAGES_PROBE_H

#include "config.h"
#include "languages.h"
#include "sandbox.h"

/*
 * Probes every language of t in a sandbox (sets available and
 * version_text), logging each result, and puts in *json (malloc'd) the
 * array of those available: [{"id","name","version","compiled","limits"}].
 * Returns how many are available, or -1 when out of memory.
 */
int languages_probe_all(struct language_table *t, const struct sandbox_host *host,
			const struct config *cfg, char **json);

#endif
